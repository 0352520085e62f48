package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	apitypes "github.com/aws/aws-sdk-go-v2/service/apigatewayv2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// signedCall sends a GET to path on srv, SigV4-signed with creds for service (unsigned when
// creds is nil), and returns the status and body.
func signedCall(t *testing.T, srv *kiritest.Server, path string, creds *aws.Credentials, service string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if creds != nil {
		empty := sha256.Sum256(nil)
		if err := v4.NewSigner().SignHTTP(t.Context(), *creds, req, hex.EncodeToString(empty[:]), service, "us-east-1", time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestAPIGatewayIAMAuthorization serves an AWS_IAM route with IAM enforced: only requests
// SigV4-signed for execute-api by a caller whose policies allow execute-api:Invoke on the
// route get through, and the function learns who called. A Lambda authorizer's function is
// called only with a permission for the authorizer.
func TestAPIGatewayIAMAuthorization(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{Strict: true})
	cl := srv.Clients()
	ctx := t.Context()
	role, err := createFunctionRole(ctx, cl, "gw-iam-fn")
	if err != nil {
		t.Fatal(err)
	}
	fn := createTestFunction(t, cl.Lambda, "gw-iam-echo", kiritest.GoFunctionZip(t, "./testdata/lambda/httpecho"), func(in *lambda.CreateFunctionInput) {
		in.Role = aws.String(role)
	})
	waitActive(t, cl.Lambda, "gw-iam-echo")
	c := apiClient(srv)
	api, err := c.CreateApi(ctx, &apigatewayv2.CreateApiInput{Name: aws.String("signed"), ProtocolType: apitypes.ProtocolTypeHttp})
	if err != nil {
		t.Fatal(err)
	}
	apiID := aws.ToString(api.ApiId)
	if _, err := cl.Lambda.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: aws.String("gw-iam-echo"), StatementId: aws.String("gw"),
		Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("apigateway.amazonaws.com"),
		SourceArn: aws.String("arn:aws:execute-api:us-east-1:" + kiritest.TestAccount + ":" + apiID + "/*")}); err != nil {
		t.Fatal(err)
	}
	integ, err := c.CreateIntegration(ctx, &apigatewayv2.CreateIntegrationInput{ApiId: api.ApiId, IntegrationType: apitypes.IntegrationTypeAwsProxy,
		IntegrationUri: fn.FunctionArn, PayloadFormatVersion: aws.String("2.0")})
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"GET /reports/{id}", "GET /admin"} {
		if _, err := c.CreateRoute(ctx, &apigatewayv2.CreateRouteInput{ApiId: api.ApiId, RouteKey: aws.String(key),
			Target: aws.String("integrations/" + aws.ToString(integ.IntegrationId)), AuthorizationType: apitypes.AuthorizationTypeAwsIam}); err != nil {
			t.Fatal(err)
		}
	}
	// A Lambda authorizer's function, too, needs a permission for API Gateway: for the
	// authorizer's ARN, API-ID/authorizers/AUTHORIZER-ID.
	authFn := createTestFunction(t, cl.Lambda, "gw-iam-authorizer", kiritest.GoFunctionZip(t, "./testdata/lambda/authorizer"), func(in *lambda.CreateFunctionInput) {
		in.Role = aws.String(role)
	})
	waitActive(t, cl.Lambda, "gw-iam-authorizer")
	authz, err := c.CreateAuthorizer(ctx, &apigatewayv2.CreateAuthorizerInput{ApiId: api.ApiId, Name: aws.String("lambda"),
		AuthorizerType: apitypes.AuthorizerTypeRequest, AuthorizerPayloadFormatVersion: aws.String("2.0"), EnableSimpleResponses: aws.Bool(true),
		AuthorizerUri:  aws.String("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/" + aws.ToString(authFn.FunctionArn) + "/invocations"),
		IdentitySource: []string{"$request.header.X-Token"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateRoute(ctx, &apigatewayv2.CreateRouteInput{ApiId: api.ApiId, RouteKey: aws.String("GET /custom"),
		Target: aws.String("integrations/" + aws.ToString(integ.IntegrationId)), AuthorizationType: apitypes.AuthorizationTypeCustom,
		AuthorizerId: authz.AuthorizerId}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateStage(ctx, &apigatewayv2.CreateStageInput{ApiId: api.ApiId, StageName: aws.String("prod"), AutoDeploy: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	reader := userWithKey(t, srv, cl, "reader", allowDoc(`"execute-api:Invoke"`, "arn:aws:execute-api:us-east-1:"+kiritest.TestAccount+":"+apiID+"/prod/GET/reports/*"))
	nobody := userWithKey(t, srv, cl, "nobody", "")
	creds := func(c *kiritest.Clients) *aws.Credentials {
		v, err := c.Config.Credentials.Retrieve(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return &v
	}
	readerCreds := creds(reader)
	base := "/_kiri/apis/" + apiID + "/prod"
	custom := func() int {
		status, _, body := call(t, srv, http.MethodGet, base+"/custom", "", "", map[string]string{"X-Token": "allow"})
		if status != http.StatusCreated && string(body) != `{"message":"Internal Server Error"}` {
			t.Errorf("Lambda authorizer: %d %s", status, body)
		}
		return status
	}
	if status := custom(); status != http.StatusInternalServerError {
		t.Errorf("Lambda authorizer without permission: %d", status)
	}
	if _, err := cl.Lambda.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: aws.String("gw-iam-authorizer"), StatementId: aws.String("gw"),
		Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("apigateway.amazonaws.com"),
		SourceArn: aws.String("arn:aws:execute-api:us-east-1:" + kiritest.TestAccount + ":" + apiID + "/authorizers/" + aws.ToString(authz.AuthorizerId))}); err != nil {
		t.Fatal(err)
	}
	if status := custom(); status != http.StatusCreated {
		t.Errorf("Lambda authorizer with permission: %d", status)
	}

	// With AuthorizerCredentialsArn API Gateway invokes the function as that role: one that
	// trusts API Gateway and may invoke the function needs no permission of the function's.
	gwTrust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"apigateway.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	for name, key := range map[string]string{"gw-invoker": "GET /as-role", "gw-powerless": "GET /as-powerless-role"} {
		out, err := cl.IAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(gwTrust)})
		if err != nil {
			t.Fatal(err)
		}
		if name == "gw-invoker" {
			if _, err := cl.IAM.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String("invoke"),
				PolicyDocument: aws.String(allowDoc(`"lambda:InvokeFunction"`, aws.ToString(authFn.FunctionArn)))}); err != nil {
				t.Fatal(err)
			}
		}
		a, err := c.CreateAuthorizer(ctx, &apigatewayv2.CreateAuthorizerInput{ApiId: api.ApiId, Name: aws.String(name),
			AuthorizerType: apitypes.AuthorizerTypeRequest, AuthorizerPayloadFormatVersion: aws.String("2.0"), EnableSimpleResponses: aws.Bool(true),
			AuthorizerUri:            aws.String("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/" + aws.ToString(authFn.FunctionArn) + "/invocations"),
			AuthorizerCredentialsArn: out.Role.Arn, IdentitySource: []string{"$request.header.X-Token"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.CreateRoute(ctx, &apigatewayv2.CreateRouteInput{ApiId: api.ApiId, RouteKey: aws.String(key),
			Target: aws.String("integrations/" + aws.ToString(integ.IntegrationId)), AuthorizationType: apitypes.AuthorizationTypeCustom,
			AuthorizerId: a.AuthorizerId}); err != nil {
			t.Fatal(err)
		}
	}
	if status, _, body := call(t, srv, http.MethodGet, base+"/as-role", "", "", map[string]string{"X-Token": "allow"}); status != http.StatusCreated {
		t.Errorf("authorizer with a role that may invoke the function: %d %s", status, body)
	}
	if status, _, body := call(t, srv, http.MethodGet, base+"/as-powerless-role", "", "", map[string]string{"X-Token": "allow"}); status != http.StatusInternalServerError {
		t.Errorf("authorizer with a role that may not invoke the function: %d %s", status, body)
	}
	if logs := srv.Logs(); !strings.Contains(logs, "gw-powerless") || !strings.Contains(logs, "lambda:InvokeFunction") {
		t.Error("the log does not say the role may not invoke the function")
	}

	status, body := signedCall(t, srv, base+"/reports/7", readerCreds, "execute-api")
	var ev struct {
		RequestContext struct {
			Authorizer struct {
				IAM map[string]any `json:"iam"`
			} `json:"authorizer"`
		} `json:"requestContext"`
	}
	if status != http.StatusCreated || json.Unmarshal([]byte(body), &ev) != nil {
		t.Fatalf("signed by the reader: %d %s", status, body)
	}
	caller := ev.RequestContext.Authorizer.IAM
	if caller["userArn"] != "arn:aws:iam::"+kiritest.TestAccount+":user/reader" || caller["accountId"] != kiritest.TestAccount ||
		caller["accessKey"] != readerCreds.AccessKeyID || !strings.HasPrefix(caller["userId"].(string), "AIDA") {
		t.Errorf("requestContext.authorizer.iam = %v", caller)
	}
	forged := *readerCreds
	forged.SecretAccessKey = "not-the-secret"
	for name, tc := range map[string]struct {
		path    string
		creds   *aws.Credentials
		service string
		status  int
		body    string
	}{
		"unsigned":                      {"/reports/7", nil, "", 403, `{"message":"Missing Authentication Token"}`},
		"a route the policy leaves out": {"/admin", readerCreds, "execute-api", 403, `{"message":"Forbidden"}`},
		"a user without policies":       {"/reports/7", creds(nobody), "execute-api", 403, `{"message":"Forbidden"}`},
		"a wrong secret":                {"/reports/7", &forged, "execute-api", 403, "The request signature we calculated does not match"},
		"signed for another service":    {"/reports/7", readerCreds, "lambda", 403, "Credential should be scoped to correct service: 'execute-api'"},
	} {
		if status, body := signedCall(t, srv, base+tc.path, tc.creds, tc.service); status != tc.status || !strings.Contains(body, tc.body) {
			t.Errorf("%s: %d %s, want %d %s", name, status, body, tc.status, tc.body)
		}
	}
}
