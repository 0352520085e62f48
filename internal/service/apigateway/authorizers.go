package apigateway

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/oidc"
	"github.com/kiri-run/kiri/internal/store"
)

// Authorizer types of HTTP APIs, and the route authorization types that use them.
const (
	authorizerJWT     = "JWT"
	authorizerRequest = "REQUEST"
	authNone          = "NONE"
	authJWT           = "JWT"
	authCustom        = "CUSTOM"
	authIAM           = "AWS_IAM"
	maxAuthorizerTTL  = 3600
	maxIdentitySource = 10
)

// identitySourceExpr is an identity source of an HTTP API authorizer: a request header or query
// parameter, a $context variable or a stage variable.
var identitySourceExpr = regexp.MustCompile(`^\$(request\.header\.[A-Za-z0-9!#$%&'*+.^_` + "`" + `|~-]+|request\.querystring\.[^\s]+|context\.[A-Za-z0-9._]+|stageVariables\.[A-Za-z0-9_]+)$`)

// checkAuthorizer checks an authorizer as it would be stored, by its type: a JWT authorizer
// takes its token from one header or query parameter and names its issuer and audience; a
// REQUEST authorizer calls a Lambda function with payload format 1.0 or 2.0 and may cache its
// answers for up to an hour by its identity sources.
// A WebSocket API's authorizer (websocket) is a REQUEST authorizer of its own kind: see
// checkSocketAuthorizer.
func checkAuthorizer(a *Authorizer, websocket bool) error {
	if n := awsproto.Value(a.Name); n == "" || len(n) > 128 {
		return badRequest("Authorizer name must be between 1 and 128 characters")
	}
	if a.IdentityValidationExpression != nil {
		return badRequest("IdentityValidationExpression is not supported for HTTP APIs")
	}
	if len(a.IdentitySource) > maxIdentitySource {
		return badRequest("An authorizer may have at most %d identity sources", maxIdentitySource)
	}
	if websocket {
		return checkSocketAuthorizer(a)
	}
	for _, src := range a.IdentitySource {
		if !identitySourceExpr.MatchString(src) {
			return badRequest("Invalid identity source %s. Identity sources must be $request.header.<name>, $request.querystring.<name>, $context.<variable> or $stageVariables.<name>", src)
		}
	}
	switch awsproto.Value(a.AuthorizerType) {
	case authorizerJWT:
		return checkJWTAuthorizer(a)
	case authorizerRequest:
		return checkRequestAuthorizer(a)
	default:
		return badRequest("Invalid authorizer type %s for HTTP API. Supported types are JWT and REQUEST", awsproto.Value(a.AuthorizerType))
	}
}

func checkJWTAuthorizer(a *Authorizer) error {
	if a.AuthorizerUri != nil || a.AuthorizerCredentialsArn != nil || a.AuthorizerPayloadFormatVersion != nil ||
		a.EnableSimpleResponses != nil || a.AuthorizerResultTtlInSeconds != nil {
		return badRequest("AuthorizerUri, AuthorizerCredentialsArn, AuthorizerPayloadFormatVersion, EnableSimpleResponses and AuthorizerResultTtlInSeconds are only supported for REQUEST authorizers")
	}
	if len(a.IdentitySource) != 1 || !strings.HasPrefix(a.IdentitySource[0], "$request.header.") && !strings.HasPrefix(a.IdentitySource[0], "$request.querystring.") {
		return badRequest("JWT authorizers require exactly one identity source, a request header or query string parameter, for example $request.header.Authorization")
	}
	c := a.JwtConfiguration
	if c == nil || c.Issuer == nil {
		return badRequest("JwtConfiguration with an Issuer is required for JWT authorizers")
	}
	if !oidc.IssuerURL(*c.Issuer) {
		return badRequest("Invalid issuer %s. The issuer must be an https URL (plain http is accepted for an issuer on a loopback address)", *c.Issuer)
	}
	if len(c.Audience) == 0 {
		return badRequest("JwtConfiguration must specify at least one Audience")
	}
	return nil
}

func checkRequestAuthorizer(a *Authorizer) error {
	if a.JwtConfiguration != nil {
		return badRequest("JwtConfiguration is only supported for JWT authorizers")
	}
	if err := checkAuthorizerFunction(a); err != nil {
		return err
	}
	switch v := awsproto.Value(a.AuthorizerPayloadFormatVersion); v {
	case "":
		return badRequest("AuthorizerPayloadFormatVersion is a required parameter for REQUEST authorizer")
	case "1.0", "2.0":
	default:
		return badRequest("AuthorizerPayloadFormatVersion %s is not supported. Supported versions are 1.0 and 2.0", v)
	}
	if awsproto.Value(a.EnableSimpleResponses) && *a.AuthorizerPayloadFormatVersion != "2.0" {
		return badRequest("EnableSimpleResponses is only supported for AuthorizerPayloadFormatVersion 2.0")
	}
	return checkAuthorizerTTL(a)
}

// checkAuthorizerFunction checks a Lambda authorizer's function and the role to call it as.
func checkAuthorizerFunction(a *Authorizer) error {
	if a.AuthorizerUri == nil {
		return badRequest("AuthorizerUri is a required parameter for REQUEST authorizer")
	}
	if fn := integrationFunction(*a.AuthorizerUri); !functionARN.MatchString(fn) {
		return badRequest("Invalid Authorizer URI: %s. An authorizer's URI must be a Lambda function's invoke ARN", *a.AuthorizerUri)
	}
	if c := a.AuthorizerCredentialsArn; c != nil && !roleARN.MatchString(*c) {
		return badRequest("Invalid role ARN specified for AuthorizerCredentialsArn: %s", *c)
	}
	return nil
}

// checkAuthorizerTTL checks how long a Lambda authorizer's answers are cached: up to an hour,
// by identity sources it must then have.
func checkAuthorizerTTL(a *Authorizer) error {
	ttl := awsproto.Value(a.AuthorizerResultTtlInSeconds)
	if ttl < 0 || ttl > maxAuthorizerTTL {
		return badRequest("AuthorizerResultTtlInSeconds must be between 0 and %d", maxAuthorizerTTL)
	}
	if ttl > 0 && len(a.IdentitySource) == 0 {
		return badRequest("Identity source is required when authorizer caching is enabled")
	}
	return nil
}

// withDefaults fills in what AWS reports for a REQUEST authorizer created without it (simple
// responses are HTTP APIs' only).
func (a *Authorizer) withDefaults(websocket bool) {
	if awsproto.Value(a.AuthorizerType) != authorizerRequest {
		return
	}
	if a.AuthorizerResultTtlInSeconds == nil {
		a.AuthorizerResultTtlInSeconds = awsproto.Ptr(int32(0))
	}
	if a.EnableSimpleResponses == nil && !websocket {
		a.EnableSimpleResponses = awsproto.Ptr(false)
	}
}

// apiIsWebSocket loads an API and reports whether it is a WebSocket API, whose authorizers
// differ from HTTP APIs'.
func apiIsWebSocket(q rowQuery, sc scope, apiID string) (bool, error) {
	a, err := requireAPI(q, sc, apiID)
	if err != nil {
		return false, err
	}
	return isWebSocket(a), nil
}

func (s *Service) createAuthorizer(ctx context.Context, in *CreateAuthorizerRequest) (*CreateAuthorizerResponse, error) {
	a := Authorizer{
		AuthorizerId: awsproto.Ptr(newID(6)), AuthorizerCredentialsArn: in.AuthorizerCredentialsArn,
		AuthorizerPayloadFormatVersion: in.AuthorizerPayloadFormatVersion, AuthorizerResultTtlInSeconds: in.AuthorizerResultTtlInSeconds,
		AuthorizerType: in.AuthorizerType, AuthorizerUri: in.AuthorizerUri, EnableSimpleResponses: in.EnableSimpleResponses,
		IdentitySource: in.IdentitySource, IdentityValidationExpression: in.IdentityValidationExpression,
		JwtConfiguration: in.JwtConfiguration, Name: in.Name,
	}
	sc := scopeOf(ctx)
	apiID := awsproto.Value(in.ApiId)
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		ws, err := apiIsWebSocket(tx.QueryRow, sc, apiID)
		if err != nil {
			return err
		}
		if err := checkAuthorizer(&a, ws); err != nil {
			return err
		}
		a.withDefaults(ws)
		return putDoc(tx, sc, apiID, kindAuthorizer, *a.AuthorizerId, &a)
	})
	if err != nil {
		return nil, wrap("create authorizer", err)
	}
	return (*CreateAuthorizerResponse)(&a), nil
}

func (s *Service) getAuthorizer(ctx context.Context, in *GetAuthorizerRequest) (*GetAuthorizerResponse, error) {
	var a Authorizer
	if err := requireDoc(storeRow(ctx, s.st), scopeOf(ctx), awsproto.Value(in.ApiId), kindAuthorizer, awsproto.Value(in.AuthorizerId), "Authorizer", &a); err != nil {
		return nil, wrap("get authorizer", err)
	}
	return (*GetAuthorizerResponse)(&a), nil
}

func (s *Service) getAuthorizers(ctx context.Context, in *GetAuthorizersRequest) (*GetAuthorizersResponse, error) {
	out := &GetAuthorizersResponse{Items: []Authorizer{}}
	next, err := s.page(ctx, awsproto.Value(in.ApiId), kindAuthorizer, in.MaxResults, in.NextToken, func(doc []byte) error {
		var a Authorizer
		err := json.Unmarshal(doc, &a)
		out.Items = append(out.Items, a)
		return err
	})
	out.NextToken = next
	return out, wrap("get authorizers", err)
}

func (s *Service) updateAuthorizer(ctx context.Context, in *UpdateAuthorizerRequest) (*UpdateAuthorizerResponse, error) {
	sc := scopeOf(ctx)
	apiID, id := awsproto.Value(in.ApiId), awsproto.Value(in.AuthorizerId)
	var a Authorizer
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		if err := requireDoc(tx.QueryRow, sc, apiID, kindAuthorizer, id, "Authorizer", &a); err != nil {
			return err
		}
		if in.AuthorizerType != nil && *in.AuthorizerType != awsproto.Value(a.AuthorizerType) {
			// The other type's settings do not carry over.
			a = Authorizer{AuthorizerId: a.AuthorizerId, Name: a.Name, IdentitySource: a.IdentitySource}
		}
		set(&a.AuthorizerType, in.AuthorizerType)
		set(&a.AuthorizerCredentialsArn, in.AuthorizerCredentialsArn)
		set(&a.AuthorizerPayloadFormatVersion, in.AuthorizerPayloadFormatVersion)
		set(&a.AuthorizerResultTtlInSeconds, in.AuthorizerResultTtlInSeconds)
		set(&a.AuthorizerUri, in.AuthorizerUri)
		set(&a.EnableSimpleResponses, in.EnableSimpleResponses)
		set(&a.IdentityValidationExpression, in.IdentityValidationExpression)
		set(&a.Name, in.Name)
		if in.IdentitySource != nil {
			a.IdentitySource = in.IdentitySource
		}
		if c := in.JwtConfiguration; c != nil {
			if a.JwtConfiguration == nil {
				a.JwtConfiguration = &JWTConfiguration{}
			}
			set(&a.JwtConfiguration.Issuer, c.Issuer)
			if c.Audience != nil {
				a.JwtConfiguration.Audience = c.Audience
			}
		}
		ws, err := apiIsWebSocket(tx.QueryRow, sc, apiID)
		if err != nil {
			return err
		}
		if err := checkAuthorizer(&a, ws); err != nil {
			return err
		}
		a.withDefaults(ws)
		if err := checkAuthorizerRoutes(tx, sc, apiID, &a); err != nil {
			return err
		}
		if err := putDoc(tx, sc, apiID, kindAuthorizer, id, &a); err != nil {
			return err
		}
		return s.autoDeploy(tx, sc, apiID)
	})
	if err != nil {
		return nil, wrap("update authorizer", err)
	}
	return (*UpdateAuthorizerResponse)(&a), nil
}

// checkAuthorizerRoutes keeps the routes that use an authorizer valid when its type changes.
func checkAuthorizerRoutes(tx *store.Tx, sc scope, apiID string, a *Authorizer) error {
	routes, err := listAll[Route](tx.Query, sc, apiID, kindRoute)
	if err != nil {
		return err
	}
	for _, r := range routes {
		if awsproto.Value(r.AuthorizerId) == *a.AuthorizerId {
			if err := checkRouteAuthorizer(awsproto.Value(r.AuthorizationType), r.AuthorizationScopes, a); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *Service) deleteAuthorizer(ctx context.Context, in *DeleteAuthorizerRequest) (*struct{}, error) {
	sc := scopeOf(ctx)
	apiID, id := awsproto.Value(in.ApiId), awsproto.Value(in.AuthorizerId)
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		var a Authorizer
		if err := requireDoc(tx.QueryRow, sc, apiID, kindAuthorizer, id, "Authorizer", &a); err != nil {
			return err
		}
		routes, err := listAll[Route](tx.Query, sc, apiID, kindRoute)
		if err != nil {
			return err
		}
		for _, r := range routes {
			if awsproto.Value(r.AuthorizerId) == id {
				return conflict("Cannot delete authorizer %s, is referenced in route: %s", awsproto.Value(a.Name), awsproto.Value(r.RouteKey))
			}
		}
		return deleteDoc(tx, sc, apiID, kindAuthorizer, id)
	})
	if err != nil {
		return nil, wrap("delete authorizer", err)
	}
	return &struct{}{}, nil
}

// checkRouteAuth checks a route's authorization settings against the API's authorizers: JWT
// routes name a JWT authorizer, CUSTOM routes a REQUEST authorizer, and only JWT routes have
// scopes; NONE and AWS_IAM routes name no authorizer.
// A WebSocket API authorizes its $connect route only, with AWS_IAM or a REQUEST authorizer.
func checkRouteAuth(tx *store.Tx, sc scope, apiID, routeKey, authType string, authorizerID *string, scopes []string) error {
	if authType != authNone || authorizerID != nil || len(scopes) > 0 {
		ws, err := apiIsWebSocket(tx.QueryRow, sc, apiID)
		if err != nil {
			return err
		}
		if ws && routeKey != routeConnect {
			return badRequest("Currently, authorization is restricted to the $connect route only")
		}
		if ws && authType == authJWT {
			return badRequest("Invalid authorization type JWT for WebSocket API. Supported types are NONE, CUSTOM and AWS_IAM")
		}
	}
	switch authType {
	case authNone, authIAM:
		if authorizerID != nil {
			return badRequest("Currently, authorizerId can only be specified for CUSTOM or JWT authorization types")
		}
		if len(scopes) > 0 {
			return badRequest("Scopes are only supported for JWT authorizers")
		}
		return nil
	case authJWT, authCustom:
	default:
		return badRequest("Invalid authorization type %s. Supported types are NONE, JWT, CUSTOM and AWS_IAM", authType)
	}
	var a Authorizer
	found := false
	if authorizerID != nil {
		var err error
		if found, err = getDoc(tx.QueryRow, sc, apiID, kindAuthorizer, *authorizerID, &a); err != nil {
			return err
		}
	}
	if !found {
		a = Authorizer{}
	}
	return checkRouteAuthorizer(authType, scopes, &a)
}

// checkRouteAuthorizer checks that a route's authorization type fits its authorizer.
func checkRouteAuthorizer(authType string, scopes []string, a *Authorizer) error {
	typ := awsproto.Value(a.AuthorizerType)
	switch {
	case authType == authJWT && typ != authorizerJWT:
		return badRequest("Invalid authorizer ID specified. Setting the authorization type to JWT requires a valid JWT authorizer.")
	case authType == authCustom && typ != authorizerRequest:
		return badRequest("Invalid authorizer ID specified. Setting the authorization type to CUSTOM or COGNITO_USER_POOLS requires a valid authorizer.")
	case authType != authJWT && len(scopes) > 0:
		return badRequest("Scopes are only supported for JWT authorizers")
	}
	return nil
}
