package e2e

import (
	"encoding/json"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	ltypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// authorizerSource is a Lambda authorizer: it allows GET on every path of the stage for the
// tokens "allow" and "alice", denies for "deny", refuses "bad" as Unauthorized and answers
// nonsense for "broken"; its context counts its calls, so a cached answer shows.
const authorizerSource = `
calls = 0
def handler(event, context):
    global calls
    calls += 1
    token = event.get('authorizationToken') or (event.get('headers') or {}).get('X-User', '')
    if token == 'broken':
        return {'nope': 1}
    if token not in ('allow', 'alice', 'deny'):
        raise Exception('Unauthorized')
    parts = event['methodArn'].split('/')
    return {
        'principalId': 'user-' + token,
        'policyDocument': {'Version': '2012-10-17', 'Statement': [{
            'Action': 'execute-api:Invoke', 'Effect': 'Deny' if token == 'deny' else 'Allow',
            'Resource': parts[0] + '/' + parts[1] + '/GET/*'}]},
        'context': {'calls': calls, 'kind': event['type']},
    }
`

func TestAPIGatewayRESTLambdaAuthorizers(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{})
	lc := srv.Clients().Lambda
	fn := createHTTPEcho(t, lc, "authecho")
	auth := createTestFunction(t, lc, "authorizer", kiritest.ZipSource(t, map[string]string{"app.py": authorizerSource}), func(in *lambda.CreateFunctionInput) {
		in.Runtime, in.Handler = ltypes.RuntimePython312, aws.String("app.handler")
	})
	waitActive(t, lc, "authorizer")
	authURI := aws.String("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/" + aws.ToString(auth.FunctionArn) + "/invocations")
	c := restClient(srv)
	ctx := t.Context()
	a, err := c.CreateRestApi(ctx, &apigateway.CreateRestApiInput{Name: aws.String("guarded")})
	if err != nil {
		t.Fatal(err)
	}
	api, apiID := aws.ToString(a.Id), a.Id

	_, err = c.CreateAuthorizer(ctx, &apigateway.CreateAuthorizerInput{RestApiId: apiID, Name: aws.String("cognito"), Type: "COGNITO_USER_POOLS",
		ProviderARNs: []string{"arn:aws:cognito-idp:us-east-1:000000000000:userpool/x"}})
	wantGatewayError(t, err, "BadRequestException")
	_, err = c.CreateAuthorizer(ctx, &apigateway.CreateAuthorizerInput{RestApiId: apiID, Name: aws.String("bad"), Type: "TOKEN",
		AuthorizerUri: authURI, IdentitySource: aws.String("method.request.querystring.token")})
	wantGatewayError(t, err, "BadRequestException")
	token, err := c.CreateAuthorizer(ctx, &apigateway.CreateAuthorizerInput{RestApiId: apiID, Name: aws.String("token"), Type: "TOKEN",
		AuthorizerUri: authURI, IdentitySource: aws.String("method.request.header.Authorization"),
		IdentityValidationExpression: aws.String("[a-z]+")})
	if err != nil || aws.ToInt32(token.AuthorizerResultTtlInSeconds) != 300 {
		t.Fatalf("CreateAuthorizer = %+v, %v", token, err)
	}
	request, err := c.CreateAuthorizer(ctx, &apigateway.CreateAuthorizerInput{RestApiId: apiID, Name: aws.String("request"), Type: "REQUEST",
		AuthorizerUri: authURI, IdentitySource: aws.String("method.request.header.X-User, method.request.querystring.k"),
		AuthorizerResultTtlInSeconds: aws.Int32(0)})
	if err != nil {
		t.Fatal(err)
	}
	list, err := c.GetAuthorizers(ctx, &apigateway.GetAuthorizersInput{RestApiId: apiID})
	if err != nil || len(list.Items) != 2 {
		t.Fatalf("GetAuthorizers = %+v, %v", list, err)
	}

	root := aws.ToString(a.RootResourceId)
	pets := restResource(t, c, api, root, "pets")
	reqRes := restResource(t, c, api, root, "req")
	put := func(resource, method, authorizer string) {
		if _, err := c.PutMethod(ctx, &apigateway.PutMethodInput{RestApiId: apiID, ResourceId: aws.String(resource), HttpMethod: aws.String(method),
			AuthorizationType: aws.String("CUSTOM"), AuthorizerId: aws.String(authorizer)}); err != nil {
			t.Fatal(err)
		}
		in := lambdaProxy(fn)
		in.RestApiId, in.ResourceId, in.HttpMethod = apiID, aws.String(resource), aws.String(method)
		if _, err := c.PutIntegration(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	put(pets, "GET", aws.ToString(token.Id))
	put(pets, "POST", aws.ToString(token.Id))
	put(reqRes, "GET", aws.ToString(request.Id))
	_, err = c.PutMethod(ctx, &apigateway.PutMethodInput{RestApiId: apiID, ResourceId: aws.String(root), HttpMethod: aws.String("GET"),
		AuthorizationType: aws.String("CUSTOM"), AuthorizerId: aws.String("nosuch")})
	wantGatewayError(t, err, "NotFoundException")
	_, err = c.DeleteAuthorizer(ctx, &apigateway.DeleteAuthorizerInput{RestApiId: apiID, AuthorizerId: token.Id})
	wantGatewayError(t, err, "ConflictException")
	if _, err := c.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: apiID, StageName: aws.String("prod")}); err != nil {
		t.Fatal(err)
	}

	host := api + ".execute-api.localhost"
	authorizerOf := func(b []byte) map[string]any {
		var ev struct {
			RequestContext struct {
				Authorizer map[string]any `json:"authorizer"`
			} `json:"requestContext"`
		}
		json.Unmarshal(b, &ev)
		return ev.RequestContext.Authorizer
	}
	status, _, b := call(t, srv, "GET", "/prod/pets", host, "", map[string]string{"Authorization": "allow"})
	first := authorizerOf(b)
	if status != 201 || first["principalId"] != "user-allow" || first["kind"] != "TOKEN" {
		t.Fatalf("allowed request = %d %s", status, b)
	}
	status, _, b = call(t, srv, "GET", "/prod/pets", host, "", map[string]string{"Authorization": "allow"})
	if second := authorizerOf(b); status != 201 || second["calls"] != first["calls"] {
		t.Fatalf("a second request within the TTL was not answered from the cache: %v then %v", first, second)
	}
	for _, tc := range []struct {
		name, method, path, token string
		header                    map[string]string
		status                    int
		body                      string
	}{
		{"no token", "GET", "/prod/pets", "", nil, 401, `{"message":"Unauthorized"}`},
		{"a token the validation expression refuses", "GET", "/prod/pets", "Bearer 1", nil, 401, `{"message":"Unauthorized"}`},
		{"a token the function calls Unauthorized", "GET", "/prod/pets", "bad", nil, 401, `{"message":"Unauthorized"}`},
		{"an explicit deny", "GET", "/prod/pets", "deny", nil, 403, `{"Message":"User is not authorized to access this resource with an explicit deny"}`},
		{"a method the policy does not allow", "POST", "/prod/pets", "alice", nil, 403, `{"Message":"User is not authorized to access this resource"}`},
		{"a malformed authorizer answer", "GET", "/prod/pets", "broken", nil, 500, `{"message":null}`},
		{"a REQUEST authorizer without all its identity sources", "GET", "/prod/req", "", map[string]string{"X-User": "alice"}, 401, `{"message":"Unauthorized"}`},
	} {
		h := map[string]string{}
		for k, v := range tc.header {
			h[k] = v
		}
		if tc.token != "" {
			h["Authorization"] = tc.token
		}
		status, _, b := call(t, srv, tc.method, tc.path, host, "", h)
		if status != tc.status || string(b) != tc.body {
			t.Errorf("%s: %d %s, want %d %s", tc.name, status, b, tc.status, tc.body)
		}
	}
	status, _, b = call(t, srv, "GET", "/prod/req?k=1", host, "", map[string]string{"X-User": "alice"})
	if got := authorizerOf(b); status != 201 || got["principalId"] != "user-alice" || got["kind"] != "REQUEST" {
		t.Fatalf("REQUEST authorizer = %d %s", status, b)
	}
}
