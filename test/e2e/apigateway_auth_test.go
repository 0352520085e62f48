package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	apitypes "github.com/aws/aws-sdk-go-v2/service/apigatewayv2/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// jwtAuthorizerInput is a JWT authorizer of the issuer for audience, reading the Authorization header.
func jwtAuthorizerInput(apiID *string, issuer, audience string) *apigatewayv2.CreateAuthorizerInput {
	return &apigatewayv2.CreateAuthorizerInput{ApiId: apiID, Name: aws.String("jwt"), AuthorizerType: apitypes.AuthorizerTypeJwt,
		IdentitySource:   []string{"$request.header.Authorization"},
		JwtConfiguration: &apitypes.JWTConfiguration{Issuer: aws.String(issuer), Audience: []string{audience}}}
}

// TestAPIGatewayAuthorizerControlPlane creates, reads, updates and deletes authorizers, refuses
// the settings AWS refuses, and keeps routes and their authorizers consistent.
func TestAPIGatewayAuthorizerControlPlane(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{})
	c := apiClient(srv)
	ctx := t.Context()
	api, err := c.CreateApi(ctx, &apigatewayv2.CreateApiInput{Name: aws.String("guarded"), ProtocolType: apitypes.ProtocolTypeHttp})
	if err != nil {
		t.Fatal(err)
	}
	fn := "arn:aws:lambda:us-east-1:" + kiritest.TestAccount + ":function:auth"
	invoke := "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/" + fn + "/invocations"
	jwtIn := jwtAuthorizerInput(api.ApiId, "https://idp.example/realm", "app")
	jwt, err := c.CreateAuthorizer(ctx, jwtIn)
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(jwt.AuthorizerId) == "" || aws.ToString(jwt.JwtConfiguration.Issuer) != "https://idp.example/realm" || jwt.AuthorizerType != apitypes.AuthorizerTypeJwt {
		t.Fatalf("CreateAuthorizer = %+v", jwt)
	}
	lam, err := c.CreateAuthorizer(ctx, &apigatewayv2.CreateAuthorizerInput{ApiId: api.ApiId, Name: aws.String("lambda"),
		AuthorizerType: apitypes.AuthorizerTypeRequest, AuthorizerUri: aws.String(invoke), AuthorizerPayloadFormatVersion: aws.String("2.0"),
		EnableSimpleResponses: aws.Bool(true), IdentitySource: []string{"$request.header.X-Token", "$context.stage"}, AuthorizerResultTtlInSeconds: aws.Int32(300)})
	if err != nil {
		t.Fatal(err)
	}
	bad := map[string]*apigatewayv2.CreateAuthorizerInput{
		"JWT without configuration":      {ApiId: api.ApiId, Name: aws.String("x"), AuthorizerType: apitypes.AuthorizerTypeJwt, IdentitySource: []string{"$request.header.Authorization"}},
		"plain-http issuer off loopback": jwtAuthorizerInput(api.ApiId, "http://idp.example", "app"),
		"JWT with two identity sources": func() *apigatewayv2.CreateAuthorizerInput {
			in := jwtAuthorizerInput(api.ApiId, "https://idp.example", "app")
			in.IdentitySource = []string{"$request.header.A", "$request.header.B"}
			return in
		}(),
		"JWT without audience": func() *apigatewayv2.CreateAuthorizerInput {
			in := jwtAuthorizerInput(api.ApiId, "https://idp.example", "")
			in.JwtConfiguration.Audience = nil
			return in
		}(),
		"REQUEST without payload format version": {ApiId: api.ApiId, Name: aws.String("x"), AuthorizerType: apitypes.AuthorizerTypeRequest,
			AuthorizerUri: aws.String(invoke), IdentitySource: []string{"$request.header.X"}},
		"simple responses with payload 1.0": {ApiId: api.ApiId, Name: aws.String("x"), AuthorizerType: apitypes.AuthorizerTypeRequest,
			AuthorizerUri: aws.String(invoke), AuthorizerPayloadFormatVersion: aws.String("1.0"), EnableSimpleResponses: aws.Bool(true), IdentitySource: []string{"$request.header.X"}},
		"TTL over an hour": {ApiId: api.ApiId, Name: aws.String("x"), AuthorizerType: apitypes.AuthorizerTypeRequest,
			AuthorizerUri: aws.String(invoke), AuthorizerPayloadFormatVersion: aws.String("2.0"), AuthorizerResultTtlInSeconds: aws.Int32(3601), IdentitySource: []string{"$request.header.X"}},
		"caching without identity source": {ApiId: api.ApiId, Name: aws.String("x"), AuthorizerType: apitypes.AuthorizerTypeRequest,
			AuthorizerUri: aws.String(invoke), AuthorizerPayloadFormatVersion: aws.String("2.0"), AuthorizerResultTtlInSeconds: aws.Int32(60), IdentitySource: []string{}},
		"bad identity source": {ApiId: api.ApiId, Name: aws.String("x"), AuthorizerType: apitypes.AuthorizerTypeRequest,
			AuthorizerUri: aws.String(invoke), AuthorizerPayloadFormatVersion: aws.String("2.0"), IdentitySource: []string{"method.request.header.X"}},
		"URI that is no function": {ApiId: api.ApiId, Name: aws.String("x"), AuthorizerType: apitypes.AuthorizerTypeRequest,
			AuthorizerUri: aws.String("https://example.com"), AuthorizerPayloadFormatVersion: aws.String("2.0"), IdentitySource: []string{"$request.header.X"}},
	}
	for name, in := range bad {
		if _, err := c.CreateAuthorizer(ctx, in); err == nil {
			t.Errorf("%s: created", name)
		} else {
			wantGatewayError(t, err, "BadRequestException")
		}
	}
	list, err := c.GetAuthorizers(ctx, &apigatewayv2.GetAuthorizersInput{ApiId: api.ApiId})
	if err != nil || len(list.Items) != 2 {
		t.Fatalf("GetAuthorizers = %+v, %v", list, err)
	}
	got, err := c.GetAuthorizer(ctx, &apigatewayv2.GetAuthorizerInput{ApiId: api.ApiId, AuthorizerId: lam.AuthorizerId})
	if err != nil || aws.ToInt32(got.AuthorizerResultTtlInSeconds) != 300 || !aws.ToBool(got.EnableSimpleResponses) || len(got.IdentitySource) != 2 {
		t.Fatalf("GetAuthorizer = %+v, %v", got, err)
	}
	up, err := c.UpdateAuthorizer(ctx, &apigatewayv2.UpdateAuthorizerInput{ApiId: api.ApiId, AuthorizerId: jwt.AuthorizerId,
		JwtConfiguration: &apitypes.JWTConfiguration{Audience: []string{"app", "cli"}}})
	if err != nil || len(up.JwtConfiguration.Audience) != 2 || aws.ToString(up.JwtConfiguration.Issuer) != "https://idp.example/realm" {
		t.Fatalf("UpdateAuthorizer = %+v, %v", up, err)
	}
	if _, err := c.UpdateAuthorizer(ctx, &apigatewayv2.UpdateAuthorizerInput{ApiId: api.ApiId, AuthorizerId: lam.AuthorizerId, AuthorizerResultTtlInSeconds: aws.Int32(-1)}); err == nil {
		t.Error("UpdateAuthorizer accepted a negative TTL")
	}

	routeErr := func(in *apigatewayv2.CreateRouteInput, want string) {
		t.Helper()
		in.ApiId = api.ApiId
		_, err := c.CreateRoute(ctx, in)
		wantGatewayError(t, err, "BadRequestException")
		if !strings.Contains(err.Error(), want) {
			t.Errorf("CreateRoute %s: %v, want %q", aws.ToString(in.RouteKey), err, want)
		}
	}
	routeErr(&apigatewayv2.CreateRouteInput{RouteKey: aws.String("GET /a"), AuthorizationType: apitypes.AuthorizationTypeJwt, AuthorizerId: lam.AuthorizerId},
		"Setting the authorization type to JWT requires a valid JWT authorizer.")
	routeErr(&apigatewayv2.CreateRouteInput{RouteKey: aws.String("GET /a"), AuthorizationType: apitypes.AuthorizationTypeCustom},
		"Setting the authorization type to CUSTOM or COGNITO_USER_POOLS requires a valid authorizer.")
	routeErr(&apigatewayv2.CreateRouteInput{RouteKey: aws.String("GET /a"), AuthorizationType: apitypes.AuthorizationTypeCustom, AuthorizerId: lam.AuthorizerId,
		AuthorizationScopes: []string{"read"}}, "Scopes are only supported for JWT authorizers")
	routeErr(&apigatewayv2.CreateRouteInput{RouteKey: aws.String("GET /a"), AuthorizationType: apitypes.AuthorizationTypeAwsIam, AuthorizerId: jwt.AuthorizerId},
		"authorizerId can only be specified")

	r, err := c.CreateRoute(ctx, &apigatewayv2.CreateRouteInput{ApiId: api.ApiId, RouteKey: aws.String("GET /a"), AuthorizationType: apitypes.AuthorizationTypeJwt,
		AuthorizerId: jwt.AuthorizerId, AuthorizationScopes: []string{"read"}})
	if err != nil || r.AuthorizationType != apitypes.AuthorizationTypeJwt || aws.ToString(r.AuthorizerId) != aws.ToString(jwt.AuthorizerId) || len(r.AuthorizationScopes) != 1 {
		t.Fatalf("CreateRoute = %+v, %v", r, err)
	}
	// A JWT authorizer a route uses cannot become a REQUEST one, nor be deleted.
	if _, err := c.UpdateAuthorizer(ctx, &apigatewayv2.UpdateAuthorizerInput{ApiId: api.ApiId, AuthorizerId: jwt.AuthorizerId, AuthorizerType: apitypes.AuthorizerTypeRequest,
		AuthorizerUri: aws.String(invoke), AuthorizerPayloadFormatVersion: aws.String("2.0")}); err == nil {
		t.Error("UpdateAuthorizer turned a route's JWT authorizer into a REQUEST one")
	}
	_, err = c.DeleteAuthorizer(ctx, &apigatewayv2.DeleteAuthorizerInput{ApiId: api.ApiId, AuthorizerId: jwt.AuthorizerId})
	wantGatewayError(t, err, "ConflictException")
	if !strings.Contains(err.Error(), "Cannot delete authorizer jwt, is referenced in route: GET /a") {
		t.Errorf("DeleteAuthorizer in use: %v", err)
	}
	ur, err := c.UpdateRoute(ctx, &apigatewayv2.UpdateRouteInput{ApiId: api.ApiId, RouteId: r.RouteId, AuthorizationType: apitypes.AuthorizationTypeNone})
	if err != nil || ur.AuthorizerId != nil || len(ur.AuthorizationScopes) != 0 {
		t.Fatalf("UpdateRoute to NONE = %+v, %v", ur, err)
	}
	if _, err := c.DeleteAuthorizer(ctx, &apigatewayv2.DeleteAuthorizerInput{ApiId: api.ApiId, AuthorizerId: jwt.AuthorizerId}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetAuthorizer(ctx, &apigatewayv2.GetAuthorizerInput{ApiId: api.ApiId, AuthorizerId: jwt.AuthorizerId})
	wantGatewayError(t, err, "NotFoundException")

	// WebSocket APIs authorize their $connect route only, with AWS_IAM or a REQUEST authorizer
	// answering with a policy, whose identity sources are route.request.header/querystring.
	ws, err := c.CreateApi(ctx, &apigatewayv2.CreateApiInput{Name: aws.String("chat"), ProtocolType: apitypes.ProtocolTypeWebsocket,
		RouteSelectionExpression: aws.String("$request.body.action")})
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range []*apigatewayv2.CreateAuthorizerInput{
		{AuthorizerType: apitypes.AuthorizerTypeRequest, AuthorizerUri: aws.String(invoke), IdentitySource: []string{"$request.header.Auth"}},
		{AuthorizerType: apitypes.AuthorizerTypeRequest, AuthorizerUri: aws.String(invoke), IdentitySource: []string{"route.request.header.Auth"},
			AuthorizerPayloadFormatVersion: aws.String("2.0")},
		{AuthorizerType: apitypes.AuthorizerTypeRequest, AuthorizerUri: aws.String(invoke), IdentitySource: []string{"route.request.header.Auth"},
			EnableSimpleResponses: aws.Bool(true)},
		{AuthorizerType: apitypes.AuthorizerTypeRequest, AuthorizerUri: aws.String(invoke), IdentitySource: []string{}, AuthorizerResultTtlInSeconds: aws.Int32(60)},
		jwtAuthorizerInput(ws.ApiId, "https://idp.example/realm", "app"),
	} {
		in.ApiId, in.Name = ws.ApiId, aws.String("x")
		_, err = c.CreateAuthorizer(ctx, in)
		wantGatewayError(t, err, "BadRequestException")
	}
	wsAuth, err := c.CreateAuthorizer(ctx, &apigatewayv2.CreateAuthorizerInput{ApiId: ws.ApiId, Name: aws.String("x"), AuthorizerType: apitypes.AuthorizerTypeRequest,
		AuthorizerUri: aws.String(invoke), IdentitySource: []string{"route.request.header.Auth", "route.request.querystring.token"},
		AuthorizerResultTtlInSeconds: aws.Int32(60)})
	if err != nil || wsAuth.EnableSimpleResponses != nil || wsAuth.AuthorizerPayloadFormatVersion != nil {
		t.Fatalf("CreateAuthorizer of a WebSocket API = %+v, %v", wsAuth, err)
	}
	if _, err := c.CreateRoute(ctx, &apigatewayv2.CreateRouteInput{ApiId: ws.ApiId, RouteKey: aws.String("$connect"),
		AuthorizationType: apitypes.AuthorizationTypeCustom, AuthorizerId: wsAuth.AuthorizerId}); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"$default", "$disconnect", "sendmessage"} {
		_, err = c.CreateRoute(ctx, &apigatewayv2.CreateRouteInput{ApiId: ws.ApiId, RouteKey: aws.String(key), AuthorizationType: apitypes.AuthorizationTypeAwsIam})
		wantGatewayError(t, err, "BadRequestException")
		if !strings.Contains(err.Error(), "Currently, authorization is restricted to the $connect route only") {
			t.Errorf("CreateRoute %s with AWS_IAM: %v", key, err)
		}
	}
}

// TestAPIGatewayJWTAuthorizerProtectsRESTBackend puts the REST backend (HTTP API → function →
// DynamoDB) behind a JWT authorizer of a local OpenID Connect issuer: a valid token gets
// through, and its subject reaches the function, which stores it; no token, a token for
// another audience, an expired one or one another key signed are unauthorized; a token
// without the route's scope is forbidden.
func TestAPIGatewayJWTAuthorizerProtectsRESTBackend(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{})
	cl := srv.Clients()
	ctx := t.Context()
	idp := newOIDCIssuer(t)
	createDDBTable(t, cl.DynamoDB, "items", false)
	fn := createTestFunction(t, cl.Lambda, "items-api", kiritest.GoFunctionZip(t, "./testdata/lambda/itemsapi"), func(in *lambda.CreateFunctionInput) {
		in.Environment = &types.Environment{Variables: map[string]string{"TABLE": "items"}}
		in.Timeout = aws.Int32(10)
	})
	waitActive(t, cl.Lambda, "items-api")
	echo := createHTTPEcho(t, cl.Lambda, "jwt-echo")
	c := apiClient(srv)
	api, err := c.CreateApi(ctx, &apigatewayv2.CreateApiInput{Name: aws.String("items"), ProtocolType: apitypes.ProtocolTypeHttp})
	if err != nil {
		t.Fatal(err)
	}
	authz, err := c.CreateAuthorizer(ctx, jwtAuthorizerInput(api.ApiId, idp.issuer(), "items-app"))
	if err != nil {
		t.Fatal(err)
	}
	integration := func(uri *string, version string) string {
		out, err := c.CreateIntegration(ctx, &apigatewayv2.CreateIntegrationInput{ApiId: api.ApiId, IntegrationType: apitypes.IntegrationTypeAwsProxy,
			IntegrationUri: uri, PayloadFormatVersion: aws.String(version)})
		if err != nil {
			t.Fatal(err)
		}
		return "integrations/" + aws.ToString(out.IntegrationId)
	}
	items, echo2, echo1 := integration(fn.FunctionArn, "2.0"), integration(aws.String(echo), "2.0"), integration(aws.String(echo), "1.0")
	for key, route := range map[string]struct {
		target string
		scopes []string
	}{
		"POST /items": {items, []string{"items/write", "items/admin"}}, "GET /items/{id}": {items, nil},
		"GET /v2/claims": {echo2, nil}, "GET /v1/claims": {echo1, nil},
	} {
		if _, err := c.CreateRoute(ctx, &apigatewayv2.CreateRouteInput{ApiId: api.ApiId, RouteKey: aws.String(key), Target: aws.String(route.target),
			AuthorizationType: apitypes.AuthorizationTypeJwt, AuthorizerId: authz.AuthorizerId, AuthorizationScopes: route.scopes}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.CreateStage(ctx, &apigatewayv2.CreateStageInput{ApiId: api.ApiId, StageName: aws.String("v1"), AutoDeploy: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	base := "/_kiri/apis/" + aws.ToString(api.ApiId) + "/v1"
	now := time.Now()
	claims := func(mod map[string]any) map[string]any {
		c := map[string]any{"iss": idp.issuer(), "sub": "alice", "aud": "items-app", "exp": now.Add(time.Hour).Unix(), "iat": now.Unix(),
			"scope": "items/read items/write", "groups": []string{"staff", "ops"}}
		for k, v := range mod {
			if v == nil {
				delete(c, k)
			} else {
				c[k] = v
			}
		}
		return c
	}
	bearer := func(token string) map[string]string { return map[string]string{"Authorization": "Bearer " + token} }
	good := idp.token(t, claims(nil), "RS256")

	status, h, body := call(t, srv, http.MethodPost, base+"/items", "", `{"id":"42","name":"towel"}`, nil)
	if status != http.StatusUnauthorized || string(body) != `{"message":"Unauthorized"}` || h.Get("Www-Authenticate") == "" {
		t.Fatalf("without a token: %d %v %s", status, h, body)
	}
	status, _, body = call(t, srv, http.MethodPost, base+"/items", "", `{"id":"42","name":"towel"}`, bearer(good))
	if status != http.StatusCreated || string(body) != `{"id":"42","name":"towel","owner":"alice"}` {
		t.Fatalf("POST with a token: %d %s", status, body)
	}
	// Another token, without the Bearer prefix and with an scp list, reads the item back.
	bob := idp.token(t, claims(map[string]any{"sub": "bob", "scope": nil, "scp": []string{"items/read"}}), "RS256")
	status, _, body = call(t, srv, http.MethodGet, base+"/items/42", "", "", map[string]string{"Authorization": bob})
	if status != http.StatusOK || string(body) != `{"id":"42","name":"towel","owner":"alice"}` {
		t.Fatalf("GET with a token without Bearer: %d %s", status, body)
	}
	for name, tc := range map[string]struct {
		token  string
		status int
		desc   string
	}{
		"another audience":              {idp.token(t, claims(map[string]any{"aud": "other-app"}), "RS256"), 401, "audience"},
		"client_id stands for aud":      {idp.token(t, claims(map[string]any{"aud": nil, "client_id": "items-app"}), "RS256"), 201, ""},
		"expired":                       {idp.token(t, claims(map[string]any{"exp": now.Add(-time.Minute).Unix()}), "RS256"), 401, "expired"},
		"not valid yet":                 {idp.token(t, claims(map[string]any{"nbf": now.Add(time.Hour).Unix()}), "RS256"), 401, "not valid yet"},
		"signed with EC, not RSA":       {idp.token(t, claims(nil), "ES256"), 401, "signing method ES256 is invalid"},
		"signed by a stranger":          {idp.token(t, claims(nil), "stranger"), 401, "signature"},
		"another issuer":                {idp.token(t, claims(map[string]any{"iss": "https://idp.example"}), "RS256"), 401, "issuer"},
		"no scope the route wants":      {idp.token(t, claims(map[string]any{"scope": "items/read"}), "RS256"), 403, "scope"},
		"another of the route's scopes": {idp.token(t, claims(map[string]any{"scope": "items/admin"}), "RS256"), 201, ""},
		"not a JWT":                     {"opaque-access-token", 401, "malformed"},
	} {
		status, h, body := call(t, srv, http.MethodPost, base+"/items", "", `{"id":"43","name":"mug"}`, bearer(tc.token))
		if status != tc.status || !strings.Contains(h.Get("Www-Authenticate"), tc.desc) {
			t.Errorf("%s: %d %q %s, want %d with %q", name, status, h.Get("Www-Authenticate"), body, tc.status, tc.desc)
		}
		if status == http.StatusForbidden && string(body) != `{"message":"Forbidden"}` {
			t.Errorf("%s: body %s", name, body)
		}
	}

	// The claims and scopes reach the function in both payload formats, as strings.
	var ev2 struct {
		RequestContext struct {
			Authorizer struct {
				JWT struct {
					Claims map[string]string `json:"claims"`
					Scopes []string          `json:"scopes"`
				} `json:"jwt"`
			} `json:"authorizer"`
		} `json:"requestContext"`
	}
	status, _, body = call(t, srv, http.MethodGet, base+"/v2/claims", "", "", bearer(good))
	if status != http.StatusCreated || json.Unmarshal(body, &ev2) != nil {
		t.Fatalf("v2 claims: %d %s", status, body)
	}
	got := ev2.RequestContext.Authorizer.JWT
	if got.Claims["sub"] != "alice" || got.Claims["aud"] != "items-app" || got.Claims["groups"] != "[staff ops]" ||
		got.Claims["exp"] != jsonNumber(now.Add(time.Hour).Unix()) || strings.Join(got.Scopes, " ") != "items/read items/write" {
		t.Errorf("v2 authorizer = %+v", got)
	}
	var ev1 struct {
		RequestContext struct {
			Authorizer struct {
				Claims map[string]string `json:"claims"`
				Scopes []string          `json:"scopes"`
			} `json:"authorizer"`
		} `json:"requestContext"`
	}
	status, _, body = call(t, srv, http.MethodGet, base+"/v1/claims", "", "", bearer(good))
	if status != http.StatusCreated || json.Unmarshal(body, &ev1) != nil || ev1.RequestContext.Authorizer.Claims["sub"] != "alice" ||
		len(ev1.RequestContext.Authorizer.Scopes) != 2 {
		t.Fatalf("v1 claims: %d %s", status, body)
	}
}

func jsonNumber(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}
