package apigateway

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/iam/policy"
	"github.com/kiri-run/kiri/internal/service/apigateway/restapi"
	"github.com/kiri-run/kiri/internal/store"
)

const kindRestAuthorizer = "restapi.authorizer"

var identitySourcePart = regexp.MustCompile(`^(method\.request\.(header|querystring)\.[^.\s]+|stageVariables\.[A-Za-z0-9_]+|context\.[A-Za-z0-9_.]+)$`)

// checkAuthorizer refuses authorizers Kiri does not build (Cognito user pools, credentials to
// invoke the function with) and settings API Gateway refuses.
func checkRESTAuthorizer(a *restapi.Authorizer) error {
	switch awsproto.Value(a.Type) {
	case "TOKEN", "REQUEST":
	case "COGNITO_USER_POOLS":
		return badRequest("Cognito user pool authorizers are not supported by this server yet")
	default:
		return badRequest("Invalid authorizer type specified: %s", awsproto.Value(a.Type))
	}
	if awsproto.Value(a.Name) == "" {
		return badRequest("Authorizer name must be non-empty")
	}
	if a.AuthorizerCredentials != nil {
		return badRequest("Authorizer credentials are not supported by this server yet")
	}
	if len(a.ProviderARNs) > 0 {
		return badRequest("providerARNs are only used by COGNITO_USER_POOLS authorizers")
	}
	m := invokeARN.FindStringSubmatch(awsproto.Value(a.AuthorizerUri))
	if m == nil || !functionARN.MatchString(m[1]) {
		return badRequest("Invalid Authorizer URI: %s. Authorizer URI should be a valid API Gateway ARN that represents a Lambda function invocation.", awsproto.Value(a.AuthorizerUri))
	}
	if ttl := awsproto.Value(a.AuthorizerResultTtlInSeconds); ttl < 0 || ttl > 3600 {
		return badRequest("Invalid authorizer result TTL specified: %d. It must be between 0 and 3600", ttl)
	}
	src := awsproto.Value(a.IdentitySource)
	if awsproto.Value(a.Type) == "TOKEN" {
		if !strings.HasPrefix(src, "method.request.header.") || strings.Contains(src, ",") {
			return badRequest("Invalid identity source specified: %s. A TOKEN authorizer's identity source is one method.request.header.NAME", src)
		}
		if e := a.IdentityValidationExpression; e != nil {
			if _, err := regexp.Compile(*e); err != nil {
				return badRequest("Invalid identity validation expression specified: %s", *e)
			}
		}
		return nil
	}
	if a.IdentityValidationExpression != nil {
		return badRequest("Identity validation expressions are only supported for TOKEN authorizers")
	}
	if src == "" && awsproto.Value(a.AuthorizerResultTtlInSeconds) > 0 {
		return badRequest("Identity source must be specified when caching is enabled")
	}
	for _, p := range identityParts(src) {
		if !identitySourcePart.MatchString(p) {
			return badRequest("Invalid identity source specified: %s", p)
		}
	}
	return nil
}

// identityParts splits a comma-separated identity source.
func identityParts(src string) []string {
	var out []string
	for _, p := range strings.Split(src, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func (s *RESTService) createAuthorizer(ctx context.Context, in *restapi.CreateAuthorizerRequest) (*restapi.Authorizer, error) {
	a := &restapi.Authorizer{Id: awsproto.Ptr(newID(6)), Name: in.Name, Type: in.Type, AuthType: in.AuthType,
		AuthorizerUri: in.AuthorizerUri, AuthorizerCredentials: in.AuthorizerCredentials, IdentitySource: in.IdentitySource,
		IdentityValidationExpression: in.IdentityValidationExpression, ProviderARNs: in.ProviderARNs,
		AuthorizerResultTtlInSeconds: awsproto.Ptr(int32(300))}
	set(&a.AuthorizerResultTtlInSeconds, in.AuthorizerResultTtlInSeconds)
	if err := checkRESTAuthorizer(a); err != nil {
		return nil, err
	}
	sc := scopeOf(ctx)
	apiID := awsproto.Value(in.RestApiId)
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		if _, err := requireRestAPI(tx.QueryRow, sc, apiID); err != nil {
			return err
		}
		return putDoc(tx, sc, apiID, kindRestAuthorizer, *a.Id, a)
	})
	if err != nil {
		return nil, wrap("create authorizer", err)
	}
	return a, nil
}

func loadAuthorizer(q rowQuery, sc scope, apiID, id string) (*restapi.Authorizer, error) {
	return loadChild[restapi.Authorizer](q, sc, apiID, kindRestAuthorizer, id, "Authorizer")
}

func (s *RESTService) getAuthorizer(ctx context.Context, in *restapi.GetAuthorizerRequest) (*restapi.Authorizer, error) {
	a, err := loadAuthorizer(storeRow(ctx, s.st), scopeOf(ctx), awsproto.Value(in.RestApiId), awsproto.Value(in.AuthorizerId))
	return a, wrap("get authorizer", err)
}

func (s *RESTService) getAuthorizers(ctx context.Context, in *restapi.GetAuthorizersRequest) (*restapi.Authorizers, error) {
	items, next, err := listChildren[restapi.Authorizer](ctx, s.st, awsproto.Value(in.RestApiId), kindRestAuthorizer, in.Position, in.Limit)
	if err != nil {
		return nil, wrap("get authorizers", err)
	}
	return &restapi.Authorizers{Items: items, Position: next}, nil
}

func (s *RESTService) updateAuthorizer(ctx context.Context, in *restapi.UpdateAuthorizerRequest) (*restapi.Authorizer, error) {
	sc := scopeOf(ctx)
	apiID := awsproto.Value(in.RestApiId)
	var a *restapi.Authorizer
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		var err error
		if a, err = loadAuthorizer(tx.QueryRow, sc, apiID, awsproto.Value(in.AuthorizerId)); err != nil {
			return err
		}
		for _, p := range in.PatchOperations {
			op, path, v := awsproto.Value(p.Op), awsproto.Value(p.Path), p.Value
			if op != "replace" {
				return badPatch(op, path)
			}
			switch path {
			case "/name":
				a.Name = v
			case "/authorizerUri":
				a.AuthorizerUri = v
			case "/identitySource":
				a.IdentitySource = v
			case "/identityValidationExpression":
				a.IdentityValidationExpression = v
			case "/type":
				a.Type = v
			case "/authorizerResultTtlInSeconds":
				n, err := strconv.Atoi(awsproto.Value(v))
				if err != nil {
					return badRequest("Invalid authorizer result TTL specified: %s", awsproto.Value(v))
				}
				a.AuthorizerResultTtlInSeconds = awsproto.Ptr(int32(n))
			default:
				return badPatch(op, path)
			}
		}
		if err := checkRESTAuthorizer(a); err != nil {
			return err
		}
		return putDoc(tx, sc, apiID, kindRestAuthorizer, *a.Id, a)
	})
	if err != nil {
		return nil, wrap("update authorizer", err)
	}
	return a, nil
}

func (s *RESTService) deleteAuthorizer(ctx context.Context, in *restapi.DeleteAuthorizerRequest) (*struct{}, error) {
	sc := scopeOf(ctx)
	apiID := awsproto.Value(in.RestApiId)
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		a, err := loadAuthorizer(tx.QueryRow, sc, apiID, awsproto.Value(in.AuthorizerId))
		if err != nil {
			return err
		}
		resources, err := listAll[restapi.Resource](tx.Query, sc, apiID, kindRestResource)
		if err != nil {
			return err
		}
		for _, r := range resources {
			for name, m := range r.ResourceMethods {
				if awsproto.Value(m.AuthorizerId) == *a.Id {
					return conflict("Cannot delete authorizer '%s', is referenced in method: '%s:%s'", awsproto.Value(a.Name), name, awsproto.Value(r.Path))
				}
			}
		}
		return deleteDoc(tx, sc, apiID, kindRestAuthorizer, *a.Id)
	})
	if err != nil {
		return nil, wrap("delete authorizer", err)
	}
	return &struct{}{}, nil
}

// authorization is what a Lambda authorizer answered: its principal, policy and context.
type authorization struct {
	PrincipalID    string          `json:"principalId"`
	PolicyDocument json.RawMessage `json:"policyDocument"`
	Context        map[string]any  `json:"context"`
	policy         *policy.Policy
}

// authorizerEvent is what a Lambda authorizer receives: the token and method ARN (TOKEN), or
// the request as the proxy event describes it (REQUEST).
type authorizerEvent struct {
	Type               string `json:"type"`
	MethodArn          string `json:"methodArn"`
	AuthorizationToken string `json:"authorizationToken,omitempty"`
	*restEvent
}

// authorize runs the method's Lambda authorizer. It reports whether the request may go on; if
// not, it has answered the client: 401 without an identity or when the function says
// "Unauthorized", 403 when its policy does not allow the method, 500 when it fails.
func (s *RESTService) authorize(w http.ResponseWriter, c *restCall) bool {
	var a restapi.Authorizer
	ok, err := getDoc(storeRow(c.r.Context(), s.st), c.sc, c.apiID, kindRestAuthorizer, awsproto.Value(c.method.AuthorizerId), &a)
	if err != nil || !ok {
		s.log.Warn("REST API authorizer missing", "api", c.apiID, "authorizer", awsproto.Value(c.method.AuthorizerId), "error", err)
		authorizerError(w)
		return false
	}
	ev := &authorizerEvent{Type: awsproto.Value(a.Type), MethodArn: c.sourceARN()}
	var identity []string
	if ev.Type == "TOKEN" {
		token := c.r.Header.Get(strings.TrimPrefix(awsproto.Value(a.IdentitySource), "method.request.header."))
		if token == "" || a.IdentityValidationExpression != nil && !fullMatch(*a.IdentityValidationExpression, token) {
			unauthorized(w)
			return false
		}
		ev.AuthorizationToken, identity = token, []string{token}
	} else {
		for _, src := range identityParts(awsproto.Value(a.IdentitySource)) {
			v, ok := c.identityValue(src)
			if !ok || v == "" {
				unauthorized(w)
				return false
			}
			identity = append(identity, v)
		}
		ev.restEvent = c.event()
	}
	ttl := time.Duration(awsproto.Value(a.AuthorizerResultTtlInSeconds)) * time.Second
	key := c.apiID + "\x00" + *a.Id + "\x00" + strings.Join(identity, "\x00")
	now := s.now()
	auth := s.authCache.get(key, now)
	if auth == nil {
		if auth, ok = s.callAuthorizer(w, c, &a, ev); !ok {
			return false
		}
		if ttl > 0 && len(identity) > 0 {
			s.authCache.put(key, auth, now.Add(ttl), now)
		}
	}
	d := policy.Evaluate(&policy.Request{
		Principal: policy.Principal{Type: policy.User, Account: c.sc.account, ARN: "arn:aws:iam::" + c.sc.account + ":user/" + auth.PrincipalID},
		Action:    "execute-api:Invoke", Resource: c.sourceARN(), ResourceAccount: c.sc.account, Time: now,
	}, &policy.Set{Identity: []*policy.Policy{auth.policy}})
	if !d.Allowed {
		msg := "User is not authorized to access this resource"
		if d.Explicit {
			msg += " with an explicit deny"
		}
		w.Header().Set("X-Amzn-Errortype", "AccessDeniedException")
		writeJSON(w, http.StatusForbidden, map[string]string{"Message": msg})
		return false
	}
	c.authorizer = map[string]any{"principalId": auth.PrincipalID}
	for k, v := range auth.Context {
		c.authorizer[k] = v
	}
	return true
}

// callAuthorizer invokes an authorizer's function and reads its answer.
func (s *RESTService) callAuthorizer(w http.ResponseWriter, c *restCall, a *restapi.Authorizer, ev *authorizerEvent) (*authorization, bool) {
	payload, err := json.Marshal(ev)
	if err != nil {
		authorizerError(w)
		return nil, false
	}
	integ := &restapi.Integration{Uri: a.AuthorizerUri, TimeoutInMillis: awsproto.Ptr(int32(29000))}
	out, fnErr, ok := s.invokeFunction(w, c, integ, payload)
	if !ok {
		return nil, false
	}
	if fnErr != "" {
		var e struct {
			ErrorMessage string `json:"errorMessage"`
		}
		json.Unmarshal(out, &e)
		if e.ErrorMessage == "Unauthorized" {
			unauthorized(w)
		} else {
			authorizerError(w)
		}
		return nil, false
	}
	var auth authorization
	if err := json.Unmarshal(out, &auth); err != nil || auth.PrincipalID == "" || len(auth.PolicyDocument) == 0 {
		s.log.Warn("malformed Lambda authorizer response", "api", c.apiID)
		authorizerError(w)
		return nil, false
	}
	for k, v := range auth.Context {
		switch v.(type) {
		case string, float64, bool:
		default:
			s.log.Warn("Lambda authorizer context values must be strings, numbers or booleans", "api", c.apiID, "key", k)
			authorizerError(w)
			return nil, false
		}
	}
	if auth.policy, err = policy.Parse(string(auth.PolicyDocument), policy.Identity); err != nil {
		s.log.Warn("Lambda authorizer policy does not parse", "api", c.apiID, "error", err)
		authorizerError(w)
		return nil, false
	}
	return &auth, true
}

// identityValue is the value of one REQUEST authorizer identity source.
func (c *restCall) identityValue(src string) (string, bool) {
	if name, ok := strings.CutPrefix(src, "context."); ok {
		v, ok := c.mappingInput(nil).Context[name].(string)
		return v, ok
	}
	return c.paramValue(src)
}

func fullMatch(expr, s string) bool {
	re, err := regexp.Compile(`^(?:` + expr + `)$`)
	return err == nil && re.MatchString(s)
}

func unauthorized(w http.ResponseWriter) {
	w.Header().Set("X-Amzn-Errortype", "UnauthorizedException")
	writeMessage(w, http.StatusUnauthorized, "Unauthorized")
}

// authorizerError is API Gateway's answer when an authorizer fails: 500 with a null message.
func authorizerError(w http.ResponseWriter) {
	w.Header().Set("X-Amzn-Errortype", "AuthorizerConfigurationException")
	writeJSON(w, http.StatusInternalServerError, map[string]any{"message": nil})
}
