package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	apitypes "github.com/aws/aws-sdk-go-v2/service/apigatewayv2/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/smithy-go"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// apiClient is an API Gateway v2 client on srv.
func apiClient(srv *kiritest.Server) *apigatewayv2.Client {
	return apigatewayv2.NewFromConfig(srv.Clients().Config)
}

// createHTTPEcho creates the httpecho function and returns its ARN.
func createHTTPEcho(t *testing.T, c *lambda.Client, name string) string {
	t.Helper()
	out := createTestFunction(t, c, name, kiritest.GoFunctionZip(t, "./testdata/lambda/httpecho"))
	waitActive(t, c, name)
	return aws.ToString(out.FunctionArn)
}

// call sends a request to path on srv (with host as its Host when not "") and returns the
// status, headers and body.
func call(t *testing.T, srv *kiritest.Server, method, path, host, body string, header map[string]string) (int, http.Header, []byte) {
	t.Helper()
	resp, b := browserRequest(t, srv, method, path, host, header, body)
	return resp.StatusCode, resp.Header, []byte(b)
}

func wantGatewayError(t *testing.T, err error, code string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code {
		t.Fatalf("err = %v, want %s", err, code)
	}
}

func TestAPIGatewayControlPlane(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{})
	c := apiClient(srv)
	ctx := t.Context()
	var ids []string
	for _, name := range []string{"one", "two", "three"} {
		out, err := c.CreateApi(ctx, &apigatewayv2.CreateApiInput{Name: aws.String(name), ProtocolType: apitypes.ProtocolTypeHttp,
			Tags: map[string]string{"team": "a"}})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(out.RouteSelectionExpression) != "$request.method $request.path" || aws.ToString(out.ApiEndpoint) == "" ||
			out.CreatedDate == nil || len(aws.ToString(out.ApiId)) != 10 {
			t.Fatalf("CreateApi = %+v", out)
		}
		ids = append(ids, aws.ToString(out.ApiId))
	}
	page1, err := c.GetApis(ctx, &apigatewayv2.GetApisInput{MaxResults: aws.String("2")})
	if err != nil || len(page1.Items) != 2 || page1.NextToken == nil {
		t.Fatalf("GetApis page 1 = %+v, %v", page1, err)
	}
	page2, err := c.GetApis(ctx, &apigatewayv2.GetApisInput{MaxResults: aws.String("2"), NextToken: page1.NextToken})
	if err != nil || len(page2.Items) != 1 || page2.NextToken != nil {
		t.Fatalf("GetApis page 2 = %+v, %v", page2, err)
	}
	api := ids[0]
	if _, err := c.UpdateApi(ctx, &apigatewayv2.UpdateApiInput{ApiId: aws.String(api), Description: aws.String("pets")}); err != nil {
		t.Fatal(err)
	}
	got, err := c.GetApi(ctx, &apigatewayv2.GetApiInput{ApiId: aws.String(api)})
	if err != nil || aws.ToString(got.Description) != "pets" || got.Tags["team"] != "a" {
		t.Fatalf("GetApi = %+v, %v", got, err)
	}

	_, err = c.CreateApi(ctx, &apigatewayv2.CreateApiInput{Name: aws.String("ws"), ProtocolType: apitypes.ProtocolTypeWebsocket})
	wantGatewayError(t, err, "BadRequestException")
	_, err = c.CreateIntegration(ctx, &apigatewayv2.CreateIntegrationInput{ApiId: aws.String(api), IntegrationType: apitypes.IntegrationTypeHttp,
		IntegrationUri: aws.String("https://example.com"), IntegrationMethod: aws.String("GET"), PayloadFormatVersion: aws.String("1.0")})
	wantGatewayError(t, err, "BadRequestException")
	integ, err := c.CreateIntegration(ctx, &apigatewayv2.CreateIntegrationInput{ApiId: aws.String(api), IntegrationType: apitypes.IntegrationTypeAwsProxy,
		IntegrationUri: aws.String("arn:aws:lambda:us-east-1:000000000000:function:pets"), PayloadFormatVersion: aws.String("2.0")})
	if err != nil || aws.ToInt32(integ.TimeoutInMillis) != 30000 || aws.ToString(integ.IntegrationMethod) != "POST" {
		t.Fatalf("CreateIntegration = %+v, %v", integ, err)
	}
	target := aws.String("integrations/" + aws.ToString(integ.IntegrationId))
	for _, bad := range []string{"FETCH /pets", "GET pets", "GET /{proxy+}/more"} {
		_, err = c.CreateRoute(ctx, &apigatewayv2.CreateRouteInput{ApiId: aws.String(api), RouteKey: aws.String(bad), Target: target})
		wantGatewayError(t, err, "BadRequestException")
	}
	route, err := c.CreateRoute(ctx, &apigatewayv2.CreateRouteInput{ApiId: aws.String(api), RouteKey: aws.String("GET /pets/{id}"), Target: target})
	if err != nil || route.AuthorizationType != apitypes.AuthorizationTypeNone {
		t.Fatalf("CreateRoute = %+v, %v", route, err)
	}
	_, err = c.CreateRoute(ctx, &apigatewayv2.CreateRouteInput{ApiId: aws.String(api), RouteKey: aws.String("GET /pets/{id}")})
	wantGatewayError(t, err, "ConflictException")
	_, err = c.CreateRoute(ctx, &apigatewayv2.CreateRouteInput{ApiId: aws.String(api), RouteKey: aws.String("GET /x"),
		AuthorizationType: apitypes.AuthorizationTypeJwt})
	wantGatewayError(t, err, "BadRequestException")
	if _, err := c.UpdateRoute(ctx, &apigatewayv2.UpdateRouteInput{ApiId: aws.String(api), RouteId: route.RouteId, RouteKey: aws.String("ANY /pets/{id}")}); err != nil {
		t.Fatal(err)
	}
	routes, err := c.GetRoutes(ctx, &apigatewayv2.GetRoutesInput{ApiId: aws.String(api)})
	if err != nil || len(routes.Items) != 1 || aws.ToString(routes.Items[0].RouteKey) != "ANY /pets/{id}" {
		t.Fatalf("GetRoutes = %+v, %v", routes, err)
	}
	_, err = c.DeleteIntegration(ctx, &apigatewayv2.DeleteIntegrationInput{ApiId: aws.String(api), IntegrationId: integ.IntegrationId})
	wantGatewayError(t, err, "ConflictException")

	stage, err := c.CreateStage(ctx, &apigatewayv2.CreateStageInput{ApiId: aws.String(api), StageName: aws.String("prod"),
		StageVariables: map[string]string{"table": "pets"}})
	if err != nil || stage.DeploymentId != nil {
		t.Fatalf("CreateStage = %+v, %v", stage, err)
	}
	_, err = c.CreateStage(ctx, &apigatewayv2.CreateStageInput{ApiId: aws.String(api), StageName: aws.String("prod")})
	wantGatewayError(t, err, "ConflictException")
	dep, err := c.CreateDeployment(ctx, &apigatewayv2.CreateDeploymentInput{ApiId: aws.String(api), StageName: aws.String("prod")})
	if err != nil || dep.DeploymentStatus != apitypes.DeploymentStatusDeployed {
		t.Fatalf("CreateDeployment = %+v, %v", dep, err)
	}
	st, err := c.GetStage(ctx, &apigatewayv2.GetStageInput{ApiId: aws.String(api), StageName: aws.String("prod")})
	if err != nil || aws.ToString(st.DeploymentId) != aws.ToString(dep.DeploymentId) || st.StageVariables["table"] != "pets" {
		t.Fatalf("GetStage = %+v, %v", st, err)
	}
	deps, err := c.GetDeployments(ctx, &apigatewayv2.GetDeploymentsInput{ApiId: aws.String(api)})
	if err != nil || len(deps.Items) != 1 {
		t.Fatalf("GetDeployments = %+v, %v", deps, err)
	}
	apiARN := "arn:aws:apigateway:us-east-1::/apis/" + api
	for _, arn := range []string{apiARN, apiARN + "/stages/prod"} {
		if _, err := c.TagResource(ctx, &apigatewayv2.TagResourceInput{ResourceArn: aws.String(arn), Tags: map[string]string{"env": "dev", "x": "y"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.UntagResource(ctx, &apigatewayv2.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: []string{"x"}}); err != nil {
			t.Fatal(err)
		}
		tags, err := c.GetTags(ctx, &apigatewayv2.GetTagsInput{ResourceArn: aws.String(arn)})
		if err != nil || tags.Tags["env"] != "dev" || tags.Tags["x"] != "" {
			t.Fatalf("GetTags %s = %+v, %v", arn, tags, err)
		}
	}
	_, err = c.GetTags(ctx, &apigatewayv2.GetTagsInput{ResourceArn: aws.String(apiARN + "/stages/nope")})
	wantGatewayError(t, err, "NotFoundException")
	if _, err := c.DeleteRoute(ctx, &apigatewayv2.DeleteRouteInput{ApiId: aws.String(api), RouteId: route.RouteId}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetRoute(ctx, &apigatewayv2.GetRouteInput{ApiId: aws.String(api), RouteId: route.RouteId})
	wantGatewayError(t, err, "NotFoundException")
	if _, err := c.DeleteApi(ctx, &apigatewayv2.DeleteApiInput{ApiId: aws.String(api)}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetApi(ctx, &apigatewayv2.GetApiInput{ApiId: aws.String(api)})
	wantGatewayError(t, err, "NotFoundException")
	var ae *smithy.GenericAPIError
	if errors.As(err, &ae) && !strings.Contains(ae.Message, "Invalid API identifier specified") {
		t.Errorf("message = %q", ae.Message)
	}
	// The error body is API Gateway's {"message": ...}.
	status, _, body := call(t, srv, http.MethodGet, "/v2/apis/"+api, "", "", map[string]string{
		"Authorization": "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260101/us-east-1/apigateway/aws4_request, SignedHeaders=host, Signature=00"})
	if status != http.StatusNotFound || !bytes.HasPrefix(body, []byte(`{"message":"Invalid API identifier specified`)) {
		t.Errorf("raw GetApi = %d %s", status, body)
	}
}

func TestAPIGatewayQuickCreateServesPayloadV2(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{})
	c := apiClient(srv)
	arn := createHTTPEcho(t, srv.Clients().Lambda, "httpecho")
	api, err := c.CreateApi(t.Context(), &apigatewayv2.CreateApiInput{Name: aws.String("quick"), ProtocolType: apitypes.ProtocolTypeHttp, Target: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(api.ApiId)
	stages, err := c.GetStages(t.Context(), &apigatewayv2.GetStagesInput{ApiId: api.ApiId})
	if err != nil || len(stages.Items) != 1 || aws.ToString(stages.Items[0].StageName) != "$default" || !aws.ToBool(stages.Items[0].AutoDeploy) {
		t.Fatalf("GetStages = %+v, %v", stages, err)
	}
	routes, err := c.GetRoutes(t.Context(), &apigatewayv2.GetRoutesInput{ApiId: api.ApiId})
	if err != nil || len(routes.Items) != 1 || aws.ToString(routes.Items[0].RouteKey) != "$default" {
		t.Fatalf("GetRoutes = %+v, %v", routes, err)
	}

	status, h, body := call(t, srv, http.MethodPost, "/_kiri/apis/"+id+"/pets/7?a=1&a=2&b=x", "", `{"n":1}`,
		map[string]string{"Cookie": "c1=v1; c2=v2", "Content-Type": "application/json", "User-Agent": "tester"})
	if status != http.StatusCreated || h.Get("X-Kind") != "echo" || h.Get("Set-Cookie") != "a=1" || h.Get("Apigw-Requestid") == "" {
		t.Fatalf("invoke = %d %v %s", status, h, body)
	}
	var ev struct {
		Version, RouteKey, RawPath, RawQueryString, Body string
		Cookies                                          []string
		Headers, QueryStringParameters                   map[string]string
		IsBase64Encoded                                  bool
		RequestContext                                   struct {
			AccountID, APIID, DomainPrefix, RequestID, RouteKey, Stage, Time string
			TimeEpoch                                                        int64
			HTTP                                                             struct{ Method, Path, Protocol, SourceIP, UserAgent string }
		}
	}
	if err := json.Unmarshal(body, &ev); err != nil {
		t.Fatalf("event %s: %v", body, err)
	}
	rc := ev.RequestContext
	if ev.Version != "2.0" || ev.RouteKey != "$default" || ev.RawPath != "/pets/7" || ev.RawQueryString != "a=1&a=2&b=x" ||
		ev.Body != `{"n":1}` || ev.IsBase64Encoded || len(ev.Cookies) != 2 || ev.Cookies[1] != "c2=v2" ||
		ev.QueryStringParameters["a"] != "1,2" || ev.Headers["user-agent"] != "tester" ||
		rc.AccountID != "000000000000" || rc.APIID != id || rc.DomainPrefix != id || rc.Stage != "$default" || rc.RouteKey != "$default" ||
		rc.HTTP.Method != "POST" || rc.HTTP.Path != "/pets/7" || rc.HTTP.SourceIP != "127.0.0.1" || rc.HTTP.UserAgent != "tester" ||
		rc.RequestID == "" || rc.Time == "" || rc.TimeEpoch == 0 {
		t.Errorf("event = %+v", ev)
	}

	// The host form reaches the same API.
	u, _ := url.Parse(srv.URL)
	status, _, body = call(t, srv, http.MethodGet, "/raw", id+".execute-api.localhost:"+u.Port(), "", nil)
	if status != http.StatusOK || string(body) != `{"hello":"world"}` {
		t.Errorf("host form, inferred response = %d %s", status, body)
	}
	status, _, body = call(t, srv, http.MethodGet, "/raw", id+".execute-api.localhost.localstack.cloud:"+u.Port(), "", nil)
	if status != http.StatusOK {
		t.Errorf("localstack host form = %d %s", status, body)
	}
	status, _, body = call(t, srv, http.MethodGet, "/_kiri/apis/"+id+"/fail", "", "", nil)
	if status != http.StatusInternalServerError || string(body) != `{"message":"Internal Server Error"}` {
		t.Errorf("failing function = %d %s", status, body)
	}
	status, _, body = call(t, srv, http.MethodGet, "/_kiri/apis/aaaaaaaaaa/x", "", "", nil)
	if status != http.StatusNotFound || string(body) != `{"message":"Not Found"}` {
		t.Errorf("unknown API = %d %s", status, body)
	}
	status, _, body = call(t, srv, http.MethodPost, "/_kiri/apis/"+id+"/big", "", string(make([]byte, 10<<20+1)), nil)
	if status != http.StatusRequestEntityTooLarge {
		t.Errorf("11 MB body = %d %s", status, body)
	}
}

func TestAPIGatewayRoutesStagesAndPayloadV1(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{})
	c := apiClient(srv)
	ctx := t.Context()
	arn := createHTTPEcho(t, srv.Clients().Lambda, "httpecho1")
	api, err := c.CreateApi(ctx, &apigatewayv2.CreateApiInput{Name: aws.String("pets"), ProtocolType: apitypes.ProtocolTypeHttp})
	if err != nil {
		t.Fatal(err)
	}
	invokeARN := "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/" + arn + "/invocations"
	integ, err := c.CreateIntegration(ctx, &apigatewayv2.CreateIntegrationInput{ApiId: api.ApiId, IntegrationType: apitypes.IntegrationTypeAwsProxy,
		IntegrationUri: aws.String(invokeARN), PayloadFormatVersion: aws.String("1.0"), TimeoutInMillis: aws.Int32(1000)})
	if err != nil {
		t.Fatal(err)
	}
	target := aws.String("integrations/" + aws.ToString(integ.IntegrationId))
	for _, k := range []string{"GET /pets/{id}", "ANY /{proxy+}"} {
		if _, err := c.CreateRoute(ctx, &apigatewayv2.CreateRouteInput{ApiId: api.ApiId, RouteKey: aws.String(k), Target: target}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.CreateStage(ctx, &apigatewayv2.CreateStageInput{ApiId: api.ApiId, StageName: aws.String("prod"),
		StageVariables: map[string]string{"table": "pets"}}); err != nil {
		t.Fatal(err)
	}
	base := "/_kiri/apis/" + aws.ToString(api.ApiId)
	if status, _, body := call(t, srv, http.MethodGet, base+"/prod/pets/7", "", "", nil); status != http.StatusNotFound {
		t.Fatalf("undeployed stage = %d %s", status, body)
	}
	if _, err := c.CreateDeployment(ctx, &apigatewayv2.CreateDeploymentInput{ApiId: api.ApiId, StageName: aws.String("prod")}); err != nil {
		t.Fatal(err)
	}
	status, _, body := call(t, srv, http.MethodGet, base+"/prod/pets/7?q=a&q=b", "", "", map[string]string{"X-Multi": "1"})
	if status != http.StatusCreated {
		t.Fatalf("invoke = %d %s", status, body)
	}
	var ev struct {
		Version, Resource, Path, HTTPMethod string
		PathParameters, StageVariables      map[string]string
		QueryStringParameters               map[string]string
		MultiValueQueryStringParameters     map[string][]string
		Headers                             map[string]string
		Body                                *string
		RequestContext                      struct{ Stage, ResourcePath, HTTPMethod, AccountID string }
	}
	if err := json.Unmarshal(body, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Version != "1.0" || ev.Resource != "/pets/{id}" || ev.Path != "/prod/pets/7" || ev.HTTPMethod != "GET" ||
		ev.PathParameters["id"] != "7" || ev.StageVariables["table"] != "pets" || ev.QueryStringParameters["q"] != "b" ||
		len(ev.MultiValueQueryStringParameters["q"]) != 2 || ev.Headers["X-Multi"] != "1" || ev.Body != nil ||
		ev.RequestContext.Stage != "prod" || ev.RequestContext.ResourcePath != "/pets/{id}" {
		t.Errorf("event = %s", body)
	}
	// A route added after the deployment is not served until the next one.
	if _, err := c.CreateRoute(ctx, &apigatewayv2.CreateRouteInput{ApiId: api.ApiId, RouteKey: aws.String("GET /raw"), Target: target}); err != nil {
		t.Fatal(err)
	}
	status, _, body = call(t, srv, http.MethodGet, base+"/prod/malformed", "", "", nil)
	if status != http.StatusInternalServerError {
		t.Errorf("malformed 1.0 response = %d %s", status, body)
	}
	status, _, body = call(t, srv, http.MethodGet, base+"/prod/sleep", "", "", nil)
	if status != http.StatusGatewayTimeout {
		t.Errorf("integration past its timeout = %d %s", status, body)
	}
	status, _, body = call(t, srv, http.MethodGet, base+"/nostage/pets/7", "", "", nil)
	if status != http.StatusNotFound {
		t.Errorf("unknown stage = %d %s", status, body)
	}
}

// With IAM enforced, API Gateway invokes a function only when the function's resource policy
// lets apigateway.amazonaws.com invoke it for the route's execute-api ARN, as AWS requires.
func TestAPIGatewayNeedsLambdaPermissionWhenIAMIsEnforced(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{Strict: true})
	cl := srv.Clients()
	ctx := t.Context()
	role, err := createFunctionRole(ctx, cl, "gw-fn-role")
	if err != nil {
		t.Fatal(err)
	}
	fn := createTestFunction(t, cl.Lambda, "gw-echo", kiritest.GoFunctionZip(t, "./testdata/lambda/httpecho"), func(in *lambda.CreateFunctionInput) {
		in.Role = aws.String(role)
	})
	waitActive(t, cl.Lambda, "gw-echo")
	api, err := apiClient(srv).CreateApi(ctx, &apigatewayv2.CreateApiInput{Name: aws.String("guarded"), ProtocolType: apitypes.ProtocolTypeHttp,
		Target: fn.FunctionArn})
	if err != nil {
		t.Fatal(err)
	}
	u := "/_kiri/apis/" + aws.ToString(api.ApiId) + "/raw"
	if status, _, body := call(t, srv, http.MethodGet, u, "", "", nil); status != http.StatusInternalServerError {
		t.Fatalf("without permission = %d %s", status, body)
	}
	_, err = cl.Lambda.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: aws.String("gw-echo"), StatementId: aws.String("gw"),
		Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("apigateway.amazonaws.com"),
		SourceArn: aws.String("arn:aws:execute-api:us-east-1:" + kiritest.TestAccount + ":" + aws.ToString(api.ApiId) + "/*/$default")})
	if err != nil {
		t.Fatal(err)
	}
	if status, _, body := call(t, srv, http.MethodGet, u, "", "", nil); status != http.StatusOK || string(body) != `{"hello":"world"}` {
		t.Fatalf("with permission = %d %s", status, body)
	}
}

// An API's CORS configuration answers preflights in API Gateway and replaces the function's
// CORS headers on the responses to other origins' pages.
func TestAPIGatewayCORS(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{})
	c := apiClient(srv)
	ctx := t.Context()
	arn := createHTTPEcho(t, srv.Clients().Lambda, "httpecho-cors")
	_, err := c.CreateApi(ctx, &apigatewayv2.CreateApiInput{Name: aws.String("bad"), ProtocolType: apitypes.ProtocolTypeHttp,
		CorsConfiguration: &apitypes.Cors{AllowOrigins: []string{"*"}, AllowCredentials: aws.Bool(true)}})
	wantGatewayError(t, err, "BadRequestException")
	api, err := c.CreateApi(ctx, &apigatewayv2.CreateApiInput{Name: aws.String("web"), ProtocolType: apitypes.ProtocolTypeHttp, Target: aws.String(arn),
		CorsConfiguration: &apitypes.Cors{AllowOrigins: []string{"https://app.example"}, AllowMethods: []string{"GET", "POST"},
			AllowHeaders: []string{"content-type"}, ExposeHeaders: []string{"x-kind"}, MaxAge: aws.Int32(300)}})
	if err != nil {
		t.Fatal(err)
	}
	base := "/_kiri/apis/" + aws.ToString(api.ApiId)
	status, h, body := call(t, srv, http.MethodOptions, base+"/anything", "", "", map[string]string{
		"Origin": "https://app.example", "Access-Control-Request-Method": "POST"})
	if status != http.StatusNoContent || h.Get("Access-Control-Allow-Origin") != "https://app.example" ||
		h.Get("Access-Control-Allow-Methods") != "GET,POST" || h.Get("Access-Control-Allow-Headers") != "content-type" ||
		h.Get("Access-Control-Max-Age") != "300" || len(body) != 0 {
		t.Fatalf("preflight = %d %v %s", status, h, body)
	}
	status, h, body = call(t, srv, http.MethodGet, base+"/hello", "", "", map[string]string{"Origin": "https://app.example"})
	if status != http.StatusCreated || h.Get("Access-Control-Allow-Origin") != "https://app.example" || h.Get("Access-Control-Expose-Headers") != "x-kind" {
		t.Fatalf("CORS request = %d %v %s", status, h, body)
	}
	if _, err := c.DeleteCorsConfiguration(ctx, &apigatewayv2.DeleteCorsConfigurationInput{ApiId: api.ApiId}); err != nil {
		t.Fatal(err)
	}
	got, err := c.GetApi(ctx, &apigatewayv2.GetApiInput{ApiId: api.ApiId})
	if err != nil || got.CorsConfiguration != nil {
		t.Fatalf("GetApi after DeleteCorsConfiguration = %+v, %v", got, err)
	}
}

// A stage's access log settings write one line a request, its $context variables filled, to
// the CloudWatch Logs group they name.
func TestAPIGatewayAccessLogs(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{})
	c := apiClient(srv)
	ctx := t.Context()
	arn := createHTTPEcho(t, srv.Clients().Lambda, "httpecho-logs")
	api, err := c.CreateApi(ctx, &apigatewayv2.CreateApiInput{Name: aws.String("logged"), ProtocolType: apitypes.ProtocolTypeHttp})
	if err != nil {
		t.Fatal(err)
	}
	integ, err := c.CreateIntegration(ctx, &apigatewayv2.CreateIntegrationInput{ApiId: api.ApiId, IntegrationType: apitypes.IntegrationTypeAwsProxy,
		IntegrationUri: aws.String(arn), PayloadFormatVersion: aws.String("2.0")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateRoute(ctx, &apigatewayv2.CreateRouteInput{ApiId: api.ApiId, RouteKey: aws.String("GET /pets/{id}"),
		Target: aws.String("integrations/" + aws.ToString(integ.IntegrationId))}); err != nil {
		t.Fatal(err)
	}
	group := "arn:aws:logs:us-east-1:000000000000:log-group:api-access"
	_, err = c.CreateStage(ctx, &apigatewayv2.CreateStageInput{ApiId: api.ApiId, StageName: aws.String("prod"), AutoDeploy: aws.Bool(true),
		AccessLogSettings: &apitypes.AccessLogSettings{DestinationArn: aws.String(group), Format: aws.String("$context.httpMethod")}})
	wantGatewayError(t, err, "BadRequestException")
	format := `$context.requestId $context.httpMethod $context.routeKey $context.status $context.integrationStatus $context.stage $context.nothing`
	if _, err := c.CreateStage(ctx, &apigatewayv2.CreateStageInput{ApiId: api.ApiId, StageName: aws.String("prod"), AutoDeploy: aws.Bool(true),
		AccessLogSettings: &apitypes.AccessLogSettings{DestinationArn: aws.String(group), Format: aws.String(format)}}); err != nil {
		t.Fatal(err)
	}
	base := "/_kiri/apis/" + aws.ToString(api.ApiId) + "/prod"
	status, h, _ := call(t, srv, http.MethodGet, base+"/pets/1", "", "", nil)
	if status != http.StatusCreated {
		t.Fatalf("invoke = %d", status)
	}
	call(t, srv, http.MethodGet, base+"/cats", "", "", nil)
	out, err := srv.Clients().Logs.FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("api-access")})
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, e := range out.Events {
		lines = append(lines, aws.ToString(e.Message))
	}
	want := []string{h.Get("Apigw-Requestid") + " GET GET /pets/{id} 201 200 prod -", " GET - 404 - prod -"}
	if len(lines) != 2 || lines[0] != want[0] || !strings.HasSuffix(lines[1], want[1]) {
		t.Fatalf("access log = %q, want %q", lines, want)
	}
}
