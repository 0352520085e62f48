package apigateway

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/kiri-run/kiri/internal/awsproto"
)

// authContext is what a route's authorizer learned about the caller, which the integration's
// event carries in requestContext.authorizer.
type authContext struct {
	jwt    *jwtAuth
	lambda map[string]any // a Lambda authorizer's context
	// principalID is an IAM-policy answer's principalId (payload format 1.0 carries it).
	principalID string
	iam         *iamAuth
}

// jwtAuth is a verified token's claims (each as a string, as API Gateway gives them) and scopes.
type jwtAuth struct {
	claims map[string]string
	scopes []string
}

// iamAuth is the SigV4 identity of an AWS_IAM route's caller.
type iamAuth struct {
	accessKey, accountID, callerID, userARN, userID string
}

// v2 is requestContext.authorizer in payload format 2.0: {"jwt": {"claims", "scopes"}},
// {"lambda": context} or {"iam": {...}}.
func (a *authContext) v2() any {
	switch {
	case a == nil:
		return nil
	case a.jwt != nil:
		return map[string]any{"jwt": map[string]any{"claims": a.jwt.claims, "scopes": a.jwt.scopes}}
	case a.iam != nil:
		return map[string]any{"iam": map[string]any{
			"accessKey": a.iam.accessKey, "accountId": a.iam.accountID, "callerId": a.iam.callerID, "cognitoIdentity": nil,
			"principalOrgId": nil, "userArn": a.iam.userARN, "userId": a.iam.userID,
		}}
	default:
		return map[string]any{"lambda": a.lambda}
	}
}

// v1 is requestContext.authorizer in payload format 1.0: {"claims", "scopes"} for a JWT
// authorizer, a Lambda authorizer's context (with principalId when it answered with a policy).
func (a *authContext) v1() map[string]any {
	switch {
	case a == nil || a.iam != nil:
		return nil
	case a.jwt != nil:
		return map[string]any{"claims": a.jwt.claims, "scopes": a.jwt.scopes}
	}
	out := make(map[string]any, len(a.lambda)+1)
	for k, v := range a.lambda {
		out[k] = v
	}
	if a.principalID != "" {
		out["principalId"] = a.principalID
	}
	return out
}

// authorizer is the deployed authorizer a route names; nil when there is none.
func (d *deployedAPI) authorizer(id string) *Authorizer {
	for i := range d.deployed.Authorizers {
		if awsproto.Value(d.deployed.Authorizers[i].AuthorizerId) == id {
			return &d.deployed.Authorizers[i]
		}
	}
	return nil
}

// authorize runs the route's authorization: it answers the request itself (401, 403, 500) and
// reports false when the caller may not go on, and otherwise records in req what the
// integration is told about the caller.
func (s *Service) authorize(w http.ResponseWriter, req *proxyRequest, rec *accessRecord) bool {
	route := req.match.route
	switch awsproto.Value(route.AuthorizationType) {
	case "", authNone:
		return true
	case authIAM:
		return s.authorizeIAM(w, req)
	}
	a := req.d.authorizer(awsproto.Value(route.AuthorizerId))
	if a == nil {
		s.log.Error("route's authorizer is missing from its deployment", "api", req.d.apiID, "route", awsproto.Value(route.RouteKey))
		writeMessage(w, http.StatusInternalServerError, "Internal Server Error")
		return false
	}
	if awsproto.Value(a.AuthorizerType) == authorizerJWT {
		return s.authorizeJWT(w, req, a)
	}
	return s.authorizeLambda(w, req, rec, a)
}

// identityValue is the value of one identity source for the request: a header, a query
// parameter, a $context variable or a stage variable; "" when the request has none.
func identityValue(req *proxyRequest, rec *accessRecord, src string) string {
	switch {
	case strings.HasPrefix(src, "$request.header."):
		return strings.Join(req.r.Header.Values(strings.TrimPrefix(src, "$request.header.")), ",")
	case strings.HasPrefix(src, "$request.querystring."):
		return strings.Join(req.r.URL.Query()[strings.TrimPrefix(src, "$request.querystring.")], ",")
	case strings.HasPrefix(src, "$stageVariables."):
		return req.d.stage.StageVariables[strings.TrimPrefix(src, "$stageVariables.")]
	case strings.HasPrefix(src, "$context.") && rec != nil:
		if v := rec.render(req.r, src, req.now); v != "-" {
			return v
		}
	}
	return ""
}

// claimString renders a claim as API Gateway hands claims to functions: strings as they are,
// numbers without exponent, lists as [a b c].
func claimString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			parts[i] = claimString(e)
		}
		return "[" + strings.Join(parts, " ") + "]"
	case nil:
		return ""
	default:
		return scalar(v)
	}
}
