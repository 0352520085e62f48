package e2e

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	apitypes "github.com/aws/aws-sdk-go-v2/service/apigatewayv2/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// echoedAuthorizer is what the httpecho function saw of a Lambda authorizer: its context in
// requestContext.authorizer.lambda (payload 2.0) or requestContext.authorizer (1.0).
type echoedAuthorizer struct {
	RequestContext struct {
		Authorizer struct {
			Lambda map[string]any `json:"lambda"`
			// Payload format 1.0 puts the context and principalId at the top.
			User        string `json:"user"`
			Nonce       string `json:"nonce"`
			PrincipalID string `json:"principalId"`
			Version     string `json:"version"`
		} `json:"authorizer"`
	} `json:"requestContext"`
}

// TestAPIGatewayLambdaAuthorizer guards routes with Lambda REQUEST authorizers: one with simple
// responses (payload 2.0) and one answering IAM policies (payload 1.0), both caching their
// answers by identity source values.
func TestAPIGatewayLambdaAuthorizer(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{})
	cl := srv.Clients()
	ctx := t.Context()
	zip := kiritest.GoFunctionZip(t, "./testdata/lambda/authorizer")
	simpleFn := createTestFunction(t, cl.Lambda, "auth-simple", zip)
	policyFn := createTestFunction(t, cl.Lambda, "auth-policy", zip, func(in *lambda.CreateFunctionInput) {
		in.Environment = &types.Environment{Variables: map[string]string{"MODE": "policy"}}
	})
	waitActive(t, cl.Lambda, "auth-simple")
	waitActive(t, cl.Lambda, "auth-policy")
	echo := createHTTPEcho(t, cl.Lambda, "auth-echo")
	c := apiClient(srv)
	api, err := c.CreateApi(ctx, &apigatewayv2.CreateApiInput{Name: aws.String("guarded"), ProtocolType: apitypes.ProtocolTypeHttp})
	if err != nil {
		t.Fatal(err)
	}
	invokeARN := func(fn *string) *string {
		return aws.String("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/" + aws.ToString(fn) + "/invocations")
	}
	authorizer := func(name string, fn *string, version string, simple bool, ttl int32, sources ...string) *string {
		out, err := c.CreateAuthorizer(ctx, &apigatewayv2.CreateAuthorizerInput{ApiId: api.ApiId, Name: aws.String(name),
			AuthorizerType: apitypes.AuthorizerTypeRequest, AuthorizerUri: invokeARN(fn), AuthorizerPayloadFormatVersion: aws.String(version),
			EnableSimpleResponses: aws.Bool(simple), AuthorizerResultTtlInSeconds: aws.Int32(ttl), IdentitySource: sources})
		if err != nil {
			t.Fatal(err)
		}
		return out.AuthorizerId
	}
	simple := authorizer("simple", simpleFn.FunctionArn, "2.0", true, 0, "$request.header.X-Token")
	cached := authorizer("cached", simpleFn.FunctionArn, "2.0", true, 300, "$request.header.X-Token", "$request.querystring.k")
	pol := authorizer("policy", policyFn.FunctionArn, "1.0", false, 300, "$request.header.X-Token")
	integration := func(version string) *string {
		out, err := c.CreateIntegration(ctx, &apigatewayv2.CreateIntegrationInput{ApiId: api.ApiId, IntegrationType: apitypes.IntegrationTypeAwsProxy,
			IntegrationUri: aws.String(echo), PayloadFormatVersion: aws.String(version)})
		if err != nil {
			t.Fatal(err)
		}
		return aws.String("integrations/" + aws.ToString(out.IntegrationId))
	}
	v2, v1 := integration("2.0"), integration("1.0")
	for key, r := range map[string]struct {
		authorizer, target *string
	}{
		"GET /simple/{x}": {simple, v2}, "GET /cached": {cached, v2}, "GET /policy": {pol, v1}, "POST /policy": {pol, v1},
	} {
		if _, err := c.CreateRoute(ctx, &apigatewayv2.CreateRouteInput{ApiId: api.ApiId, RouteKey: aws.String(key), Target: r.target,
			AuthorizationType: apitypes.AuthorizationTypeCustom, AuthorizerId: r.authorizer}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.CreateStage(ctx, &apigatewayv2.CreateStageInput{ApiId: api.ApiId, StageName: aws.String("live"), AutoDeploy: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	base := "/_kiri/apis/" + aws.ToString(api.ApiId) + "/live"
	send := func(method, path, token string) (int, string, echoedAuthorizer) {
		t.Helper()
		h := map[string]string{}
		if token != "" {
			h["X-Token"] = token
		}
		status, _, body := call(t, srv, method, base+path, "", "", h)
		var ev echoedAuthorizer
		if status == http.StatusCreated {
			if err := json.Unmarshal(body, &ev); err != nil {
				t.Fatalf("%s %s: %s", method, path, body)
			}
		}
		return status, string(body), ev
	}

	for token, want := range map[string]struct {
		status int
		body   string
	}{
		"":          {401, `{"message":"Unauthorized"}`},
		"deny":      {403, `{"message":"Forbidden"}`},
		"fail":      {500, `{"message":"Internal Server Error"}`},
		"malformed": {500, `{"message":"Internal Server Error"}`},
	} {
		if status, body, _ := send(http.MethodGet, "/simple/1", token); status != want.status || body != want.body {
			t.Errorf("simple authorizer, token %q: %d %s", token, status, body)
		}
	}
	status, body, ev := send(http.MethodGet, "/simple/1", "allow")
	lam := ev.RequestContext.Authorizer.Lambda
	if status != http.StatusCreated || lam["user"] != "allow" || lam["type"] != "REQUEST" || lam["version"] != "2.0" || lam["hasBody"] != false ||
		lam["level"] != float64(3) || lam["arn"] != "arn:aws:execute-api:us-east-1:000000000000:"+aws.ToString(api.ApiId)+"/live/GET/simple/1" {
		t.Fatalf("simple authorizer allows: %d %s", status, body)
	}
	// Without caching, each request calls the function.
	_, _, again := send(http.MethodGet, "/simple/1", "allow")
	if again.RequestContext.Authorizer.Lambda["nonce"] == lam["nonce"] {
		t.Error("an authorizer without caching answered from a cache")
	}

	// Within the TTL the same identity source values are answered from the cache; others call the function.
	_, _, first := send(http.MethodGet, "/cached?k=1", "allow")
	_, _, second := send(http.MethodGet, "/cached?k=1", "allow")
	_, _, other := send(http.MethodGet, "/cached?k=2", "allow")
	n1, n2, n3 := first.RequestContext.Authorizer.Lambda["nonce"], second.RequestContext.Authorizer.Lambda["nonce"], other.RequestContext.Authorizer.Lambda["nonce"]
	if n1 == nil || n1 != n2 || n3 == n1 {
		t.Errorf("cached authorizer nonces %v %v %v: want the first two equal and the third different", n1, n2, n3)
	}
	if status, body, _ := send(http.MethodGet, "/cached", "allow"); status != http.StatusUnauthorized {
		t.Errorf("cached authorizer without one of its identity sources: %d %s", status, body)
	}

	// An IAM policy answer (payload 1.0) allows GET requests of the stage only; the cached policy
	// is evaluated against each request's route.
	status, body, ev = send(http.MethodGet, "/policy", "allow")
	a := ev.RequestContext.Authorizer
	if status != http.StatusCreated || a.User != "allow" || a.PrincipalID != "user-allow" || a.Version != "1.0" {
		t.Fatalf("policy authorizer allows GET: %d %s", status, body)
	}
	if status, body, _ := send(http.MethodPost, "/policy", "allow"); status != http.StatusForbidden || body != `{"message":"Forbidden"}` {
		t.Errorf("policy authorizer, POST: %d %s", status, body)
	}
	if status, body, _ := send(http.MethodGet, "/policy", "deny"); status != http.StatusForbidden {
		t.Errorf("policy authorizer denies: %d %s", status, body)
	}
}
