package apigateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/iam/policy"
	"github.com/kiri-run/kiri/internal/service"
)

// Lambda authorizer limits: how long the function may take, and how many answers the cache
// holds across all authorizers.
const (
	authorizerTimeout   = 10 * time.Second
	maxCachedAuthorizer = 10000
)

// invokeAction is the action IAM policies grant to call an API's routes.
const invokeAction = "execute-api:Invoke"

// authorizerAnswer is what a Lambda authorizer answered: a simple yes or no, or an IAM
// policy to evaluate against each route, with the context to hand to the integration.
type authorizerAnswer struct {
	simple      bool
	authorized  bool
	policy      *policy.Policy
	principalID string
	context     map[string]any
}

// allows reports whether the answer lets the caller invoke routeARN.
func (a *authorizerAnswer) allows(routeARN string, now time.Time) bool {
	if a.simple {
		return a.authorized
	}
	req := policy.Request{Principal: policy.Principal{Type: policy.User, ARN: a.principalID}, Action: invokeAction, Resource: routeARN, Time: now}
	return policy.Evaluate(&req, &policy.Set{Identity: []*policy.Policy{a.policy}}).Allowed
}

var errMalformedAnswer = errors.New("malformed Lambda authorizer response")

// readAuthorizerAnswer reads a function's answer: {"isAuthorized", "context"} when simple
// responses are on, else {"principalId", "policyDocument", "context"}.
func readAuthorizerAnswer(payload []byte, simple bool) (*authorizerAnswer, error) {
	var raw struct {
		IsAuthorized   *bool           `json:"isAuthorized"`
		PrincipalID    string          `json:"principalId"`
		PolicyDocument json.RawMessage `json:"policyDocument"`
		Context        map[string]any  `json:"context"`
	}
	if err := json.Unmarshal(payload, &raw); err != nil {
		return nil, errMalformedAnswer
	}
	a := &authorizerAnswer{simple: simple, principalID: raw.PrincipalID, context: raw.Context}
	if simple {
		if raw.IsAuthorized == nil {
			return nil, fmt.Errorf("%w: no isAuthorized", errMalformedAnswer)
		}
		a.authorized = *raw.IsAuthorized
		return a, nil
	}
	if len(raw.PolicyDocument) == 0 || string(raw.PolicyDocument) == "null" {
		return nil, fmt.Errorf("%w: no policyDocument", errMalformedAnswer)
	}
	p, err := policy.Parse(string(raw.PolicyDocument), policy.Identity)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errMalformedAnswer, err)
	}
	a.policy = p
	return a, nil
}

// authCache holds Lambda authorizers' answers by authorizer and identity source values until
// their TTL passes.
// HTTP APIs keep *authorizerAnswer, REST APIs *authorization.
type authCache[T any] struct {
	mu      sync.Mutex
	entries map[string]cachedAnswer[T]
}

type cachedAnswer[T any] struct {
	answer  T
	expires time.Time
}

// get is the answer kept under key, or the zero T when there is none or it expired.
func (c *authCache[T]) get(key string, now time.Time) T {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok || !now.Before(e.expires) {
		var zero T
		return zero
	}
	return e.answer
}

func (c *authCache[T]) put(key string, a T, expires time.Time, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = map[string]cachedAnswer[T]{}
	}
	if len(c.entries) >= maxCachedAuthorizer {
		for k, e := range c.entries {
			if !now.Before(e.expires) {
				delete(c.entries, k)
			}
		}
		if len(c.entries) >= maxCachedAuthorizer {
			clear(c.entries)
		}
	}
	c.entries[key] = cachedAnswer[T]{answer: a, expires: expires}
}

// routeARN is the ARN a request invokes, which authorizers' policies are evaluated against:
// arn:aws:execute-api:REGION:ACCOUNT:API/STAGE/METHOD/PATH, PATH the request's path after the
// stage.
func (p *proxyRequest) routeARN() string {
	return fmt.Sprintf("arn:aws:execute-api:%s:%s:%s/%s/%s%s", p.d.sc.region, p.d.sc.account, p.d.apiID, p.stage(), p.r.Method, p.d.path)
}

// authorizeLambda asks the authorizer's function (or its cached answer) whether the request
// may go on: 401 when an identity source is missing, 403 when the answer denies, 500 when the
// function fails or answers something else.
func (s *Service) authorizeLambda(w http.ResponseWriter, req *proxyRequest, rec *accessRecord, a *Authorizer) bool {
	values := make([]string, len(a.IdentitySource))
	for i, src := range a.IdentitySource {
		if values[i] = identityValue(req, rec, src); values[i] == "" {
			writeMessage(w, http.StatusUnauthorized, "Unauthorized")
			return false
		}
	}
	answer, err := s.lambdaAnswer(req.r.Context(), req.d, a, values, req.now, func() ([]byte, error) {
		return req.authorizerEvent(awsproto.Value(a.AuthorizerPayloadFormatVersion), values)
	})
	if err != nil {
		writeMessage(w, http.StatusInternalServerError, "Internal Server Error")
		return false
	}
	if !answer.allows(req.routeARN(), req.now) {
		writeMessage(w, http.StatusForbidden, "Forbidden")
		return false
	}
	req.auth = &authContext{lambda: answer.context, principalID: answer.principalID}
	if req.auth.lambda == nil {
		req.auth.lambda = map[string]any{}
	}
	return true
}

// roleInvoker runs a function as a role a service was given (implemented by the Lambda service).
type roleInvoker interface {
	InvokeAsRole(ctx context.Context, arn, principal, roleARN string, payload []byte) ([]byte, string, error)
}

// lambdaAnswer is a Lambda authorizer's answer for a request to d (of an HTTP or WebSocket
// API) with identity source values: the cached one while its TTL lasts, else the function's
// answer to the event payload makes.
func (s *Service) lambdaAnswer(ctx context.Context, d *deployedAPI, a *Authorizer, values []string, now time.Time, payload func() ([]byte, error)) (*authorizerAnswer, error) {
	ttl := time.Duration(awsproto.Value(a.AuthorizerResultTtlInSeconds)) * time.Second
	key := d.apiID + "\x00" + awsproto.Value(d.stage.DeploymentId) + "\x00" + awsproto.Value(a.AuthorizerId) + "\x00" + strings.Join(values, "\x00")
	if ttl > 0 {
		if answer := s.authCache.get(key, now); answer != nil {
			return answer, nil
		}
	}
	ev, err := payload()
	if err == nil {
		var answer *authorizerAnswer
		if answer, err = s.callAuthorizer(ctx, d.sc, d.apiID, a, ev); err == nil {
			if ttl > 0 {
				s.authCache.put(key, answer, now.Add(ttl), now)
			}
			return answer, nil
		}
	}
	s.log.Warn("Lambda authorizer failed", "api", d.apiID, "authorizer", awsproto.Value(a.AuthorizerId), "error", err)
	return nil, err
}

// callAuthorizer invokes the authorizer's function with its event and reads its answer: as
// API Gateway, which the function's resource policy must let invoke it for the authorizer, or
// with AuthorizerCredentialsArn as that role, which (with IAM enforced) must trust API Gateway
// and may invoke the function.
func (s *Service) callAuthorizer(ctx context.Context, sc scope, apiID string, a *Authorizer, payload []byte) (*authorizerAnswer, error) {
	ctx, cancel := context.WithTimeout(ctx, authorizerTimeout)
	defer cancel()
	var err error
	fn := integrationFunction(awsproto.Value(a.AuthorizerUri))
	var out []byte
	var fnErr string
	if role := awsproto.Value(a.AuthorizerCredentialsArn); role != "" {
		out, fnErr, err = s.invokeAsRole(ctx, sc.account, fn, role, payload)
	} else {
		lambda, ok := service.Lookup[functionInvoker](s.services, "lambda")
		if !ok {
			return nil, errors.New("the Lambda service is not running")
		}
		source := fmt.Sprintf("arn:aws:execute-api:%s:%s:%s/authorizers/%s", sc.region, sc.account, apiID, awsproto.Value(a.AuthorizerId))
		out, fnErr, err = lambda.InvokeForService(ctx, fn, principal, source, sc.account, payload)
	}
	if err != nil {
		return nil, err
	}
	if fnErr != "" {
		return nil, fmt.Errorf("the function returned an error: %s", fnErr)
	}
	return readAuthorizerAnswer(out, awsproto.Value(a.EnableSimpleResponses))
}

// invokeAsRole invokes fn as role, once (with IAM enforced) the role trusts API Gateway.
func (s *Service) invokeAsRole(ctx context.Context, account, fn, role string, payload []byte) ([]byte, string, error) {
	lambda, ok := service.Lookup[roleInvoker](s.services, "lambda")
	if !ok {
		return nil, "", errors.New("the Lambda service is not running")
	}
	if s.enforcing() {
		sts, ok := service.Lookup[roleChecker](s.services, "sts")
		if !ok {
			return nil, "", errors.New("the STS service is not running")
		}
		if err := sts.CheckServiceRole(ctx, principal, account, role); err != nil {
			return nil, "", err
		}
	}
	return lambda.InvokeAsRole(ctx, fn, principal, role, payload)
}

// authorizerEvent builds a REQUEST authorizer's event: the request as the integration's event
// of the same payload format shows it, without its body, with type REQUEST, the route's ARN
// and the identity source values.
func (p *proxyRequest) authorizerEvent(version string, values []string) ([]byte, error) {
	var ev any = p.v1()
	if version == "2.0" {
		ev = p.v2()
	}
	b, err := json.Marshal(ev)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	delete(m, "body")
	delete(m, "isBase64Encoded")
	m["type"] = "REQUEST"
	if version == "2.0" {
		m["routeArn"] = p.routeARN()
		m["identitySource"] = values
	} else {
		m["methodArn"] = p.routeARN()
		m["identitySource"] = strings.Join(values, ",")
		m["authorizationToken"] = strings.Join(values, ",")
	}
	return json.Marshal(m)
}
