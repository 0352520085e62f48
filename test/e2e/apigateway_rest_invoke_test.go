package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	rtypes "github.com/aws/aws-sdk-go-v2/service/apigateway/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// restMethod adds a method with an integration to a resource of a REST API.
func restMethod(t *testing.T, c *apigateway.Client, api, resource, method string, integ *apigateway.PutIntegrationInput) {
	t.Helper()
	ctx := t.Context()
	if _, err := c.PutMethod(ctx, &apigateway.PutMethodInput{RestApiId: aws.String(api), ResourceId: aws.String(resource),
		HttpMethod: aws.String(method), AuthorizationType: aws.String("NONE")}); err != nil {
		t.Fatal(err)
	}
	integ.RestApiId, integ.ResourceId, integ.HttpMethod = aws.String(api), aws.String(resource), aws.String(method)
	if _, err := c.PutIntegration(ctx, integ); err != nil {
		t.Fatal(err)
	}
}

// restResource creates a resource under parent and returns its id.
func restResource(t *testing.T, c *apigateway.Client, api, parent, part string) string {
	t.Helper()
	out, err := c.CreateResource(t.Context(), &apigateway.CreateResourceInput{RestApiId: aws.String(api), ParentId: aws.String(parent), PathPart: aws.String(part)})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.Id)
}

// lambdaProxy is an AWS_PROXY integration with fn.
func lambdaProxy(fn string) *apigateway.PutIntegrationInput {
	return &apigateway.PutIntegrationInput{Type: rtypes.IntegrationTypeAwsProxy, IntegrationHttpMethod: aws.String("POST"),
		Uri: aws.String("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/" + fn + "/invocations")}
}

// restEvent is what the httpecho function saw: the REST API's Lambda proxy event.
type restEvent struct {
	Resource        string            `json:"resource"`
	Path            string            `json:"path"`
	HTTPMethod      string            `json:"httpMethod"`
	Headers         map[string]string `json:"headers"`
	Query           map[string]string `json:"queryStringParameters"`
	PathParameters  map[string]string `json:"pathParameters"`
	StageVariables  map[string]string `json:"stageVariables"`
	Body            *string           `json:"body"`
	IsBase64Encoded bool              `json:"isBase64Encoded"`
	Version         *string           `json:"version"`
	RequestContext  struct {
		ResourcePath string `json:"resourcePath"`
		ResourceID   string `json:"resourceId"`
		HTTPMethod   string `json:"httpMethod"`
		Stage        string `json:"stage"`
		Path         string `json:"path"`
		DomainName   string `json:"domainName"`
		APIID        string `json:"apiId"`
		AccountID    string `json:"accountId"`
		RequestID    string `json:"requestId"`
	} `json:"requestContext"`
}

func TestAPIGatewayRESTLambdaProxy(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{})
	fn := createHTTPEcho(t, srv.Clients().Lambda, "restecho")
	c := restClient(srv)
	ctx := t.Context()
	a, err := c.CreateRestApi(ctx, &apigateway.CreateRestApiInput{Name: aws.String("pets"), BinaryMediaTypes: []string{"image/png"}})
	if err != nil {
		t.Fatal(err)
	}
	api, root := aws.ToString(a.Id), aws.ToString(a.RootResourceId)
	pets := restResource(t, c, api, root, "pets")
	pet := restResource(t, c, api, pets, "{id}")
	mine := restResource(t, c, api, pets, "mine")
	proxy := restResource(t, c, api, root, "{proxy+}")
	restMethod(t, c, api, pet, "GET", lambdaProxy(fn))
	restMethod(t, c, api, mine, "GET", lambdaProxy(fn))
	restMethod(t, c, api, proxy, "ANY", lambdaProxy(fn))
	restMethod(t, c, api, root, "GET", lambdaProxy(fn))
	if _, err := c.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: aws.String(api), StageName: aws.String("prod"),
		Variables: map[string]string{"table": "pets"}}); err != nil {
		t.Fatal(err)
	}
	// A deployment freezes the API: a method added later is not served until deployed.
	restMethod(t, c, api, pets, "POST", lambdaProxy(fn))

	host := api + ".execute-api.localhost"
	echo := func(method, path, host, body string, header map[string]string) restEvent {
		t.Helper()
		status, h, b := call(t, srv, method, path, host, body, header)
		if status != 201 || h.Get("X-Kind") != "echo" {
			t.Fatalf("%s %s = %d %v %s", method, path, status, h, b)
		}
		var ev restEvent
		if err := json.Unmarshal(b, &ev); err != nil {
			t.Fatal(err)
		}
		return ev
	}
	ev := echo("GET", "/prod/pets/7?color=red", host, "", map[string]string{"X-Trace": "t1"})
	if ev.Resource != "/pets/{id}" || ev.Path != "/pets/7" || ev.HTTPMethod != "GET" || ev.PathParameters["id"] != "7" ||
		ev.StageVariables["table"] != "pets" || ev.Query["color"] != "red" || ev.Headers["X-Trace"] != "t1" || ev.Version != nil ||
		ev.Body != nil || ev.RequestContext.ResourcePath != "/pets/{id}" || ev.RequestContext.Stage != "prod" ||
		ev.RequestContext.Path != "/prod/pets/7" || ev.RequestContext.HTTPMethod != "GET" || ev.RequestContext.APIID != api ||
		ev.RequestContext.DomainName != host || ev.RequestContext.AccountID != "000000000000" || ev.RequestContext.ResourceID != pet ||
		ev.RequestContext.RequestID == "" {
		t.Fatalf("event = %+v", ev)
	}
	// A literal path part wins over a variable, a variable over a greedy variable.
	if ev := echo("GET", "/prod/pets/mine", host, "", nil); ev.Resource != "/pets/mine" || ev.PathParameters != nil {
		t.Fatalf("literal event = %+v", ev)
	}
	if ev := echo("DELETE", "/prod/pets/7", host, "", nil); ev.Resource != "/{proxy+}" || ev.PathParameters["proxy"] != "pets/7" {
		t.Fatalf("greedy event for a method the resource lacks = %+v", ev)
	}
	if ev := echo("GET", "/prod/", host, "", nil); ev.Resource != "/" || ev.Path != "/" {
		t.Fatalf("root event = %+v", ev)
	}
	// The path form of the invoke URL, a body as text, and a binary media type's body in base64.
	ev = echo("POST", "/_kiri/apis/"+api+"/prod/a/b", "", `{"name":"rex"}`, map[string]string{"Content-Type": "application/json"})
	if ev.Resource != "/{proxy+}" || ev.Path != "/a/b" || aws.ToString(ev.Body) != `{"name":"rex"}` || ev.IsBase64Encoded || ev.RequestContext.Stage != "prod" {
		t.Fatalf("path-form event = %+v", ev)
	}
	ev = echo("PUT", "/prod/img", host, "\x89PNG", map[string]string{"Content-Type": "image/png"})
	if !ev.IsBase64Encoded || aws.ToString(ev.Body) != "iVBORw==" {
		t.Fatalf("binary event = %+v", ev)
	}

	if ev := echo("POST", "/prod/pets", host, "", nil); ev.Resource != "/{proxy+}" {
		t.Fatalf("a method added after the deployment was served: %+v", ev)
	}
	for _, tc := range []struct {
		name, method, path string
		status             int
		body               string
	}{
		{"an unknown stage", "GET", "/beta/pets/7", 403, `{"message":"Missing Authentication Token"}`},
		{"no stage at all", "GET", "/", 403, `{"message":"Missing Authentication Token"}`},
		{"a method the root lacks", "POST", "/prod/", 403, `{"message":"Missing Authentication Token"}`},
		{"a failing function", "GET", "/prod/pets/fail", 502, `{"message":"Internal server error"}`},
		{"a malformed response", "GET", "/prod/malformed", 502, `{"message":"Internal server error"}`},
		{"a response without statusCode", "GET", "/prod/raw", 502, `{"message":"Internal server error"}`},
	} {
		status, _, b := call(t, srv, tc.method, tc.path, host, "", nil)
		if status != tc.status || string(b) != tc.body {
			t.Errorf("%s: %s %s = %d %s, want %d %s", tc.name, tc.method, tc.path, status, b, tc.status, tc.body)
		}
	}
}

func TestAPIGatewayRESTMockAndLambdaIntegrations(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{})
	fn := createHTTPEcho(t, srv.Clients().Lambda, "restcustom")
	c := restClient(srv)
	ctx := t.Context()
	a, err := c.CreateRestApi(ctx, &apigateway.CreateRestApiInput{Name: aws.String("mocks")})
	if err != nil {
		t.Fatal(err)
	}
	api, root := aws.ToString(a.Id), aws.ToString(a.RootResourceId)
	apiID := aws.String(api)
	health := restResource(t, c, api, root, "health")
	restMethod(t, c, api, health, "GET", &apigateway.PutIntegrationInput{Type: rtypes.IntegrationTypeMock,
		RequestTemplates: map[string]string{"application/json": `{"statusCode": 200}`}})
	restMethod(t, c, api, health, "DELETE", &apigateway.PutIntegrationInput{Type: rtypes.IntegrationTypeMock,
		RequestTemplates: map[string]string{"application/json": `{"statusCode": 404}`}})
	for _, m := range []string{"GET", "DELETE"} {
		for _, code := range []string{"200", "404"} {
			if _, err := c.PutMethodResponse(ctx, &apigateway.PutMethodResponseInput{RestApiId: apiID, ResourceId: aws.String(health),
				HttpMethod: aws.String(m), StatusCode: aws.String(code), ResponseParameters: map[string]bool{"method.response.header.X-Mock": false}}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := c.PutIntegrationResponse(ctx, &apigateway.PutIntegrationResponseInput{RestApiId: apiID, ResourceId: aws.String(health),
			HttpMethod: aws.String(m), StatusCode: aws.String("200"), ResponseTemplates: map[string]string{"application/json": `{"ok": true}`},
			ResponseParameters: map[string]string{"method.response.header.X-Mock": "'yes'"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.PutIntegrationResponse(ctx, &apigateway.PutIntegrationResponseInput{RestApiId: apiID, ResourceId: aws.String(health),
			HttpMethod: aws.String(m), StatusCode: aws.String("404"), SelectionPattern: aws.String("404"),
			ResponseTemplates: map[string]string{"application/json": `{"ok": false}`}}); err != nil {
			t.Fatal(err)
		}
	}

	// AWS (non-proxy) Lambda: the body passes through; the function's error message selects a response.
	work := restResource(t, c, api, root, "work")
	restMethod(t, c, api, work, "POST", &apigateway.PutIntegrationInput{Type: rtypes.IntegrationTypeAws, IntegrationHttpMethod: aws.String("POST"),
		Uri: lambdaProxy(fn).Uri, PassthroughBehavior: aws.String("WHEN_NO_TEMPLATES")})
	for _, code := range []string{"200", "400"} {
		if _, err := c.PutMethodResponse(ctx, &apigateway.PutMethodResponseInput{RestApiId: apiID, ResourceId: aws.String(work),
			HttpMethod: aws.String("POST"), StatusCode: aws.String(code)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.PutIntegrationResponse(ctx, &apigateway.PutIntegrationResponseInput{RestApiId: apiID, ResourceId: aws.String(work),
		HttpMethod: aws.String("POST"), StatusCode: aws.String("200")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutIntegrationResponse(ctx, &apigateway.PutIntegrationResponseInput{RestApiId: apiID, ResourceId: aws.String(work),
		HttpMethod: aws.String("POST"), StatusCode: aws.String("400"), SelectionPattern: aws.String("asked.*"),
		ResponseTemplates: map[string]string{"application/json": `{"error": "bad request"}`}}); err != nil {
		t.Fatal(err)
	}
	// Velocity templates: the request template builds the function's event from the request,
	// the response template reads the function's answer and overrides the status.
	tmpl := restResource(t, c, api, root, "tmpl")
	restMethod(t, c, api, tmpl, "POST", &apigateway.PutIntegrationInput{Type: rtypes.IntegrationTypeAws, IntegrationHttpMethod: aws.String("POST"),
		Uri: lambdaProxy(fn).Uri, PassthroughBehavior: aws.String("NEVER"), RequestTemplates: map[string]string{
			"application/json": `{"path": "/$input.params('kind')", "stage": "$context.stage", "name": $input.json('$.name'), "var": "$stageVariables.color"}`}})
	if _, err := c.PutMethodResponse(ctx, &apigateway.PutMethodResponseInput{RestApiId: apiID, ResourceId: aws.String(tmpl),
		HttpMethod: aws.String("POST"), StatusCode: aws.String("200")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutIntegrationResponse(ctx, &apigateway.PutIntegrationResponseInput{RestApiId: apiID, ResourceId: aws.String(tmpl),
		HttpMethod: aws.String("POST"), StatusCode: aws.String("200"), ResponseTemplates: map[string]string{
			"application/json": `#set($ev = $util.parseJson($input.path('$.body')))#set($context.responseOverride.status = 418){"code": $input.path('$.statusCode'), "name": "$ev.name", "stage": "$ev.stage", "var": "$ev.var"}`}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: apiID, StageName: aws.String("v1"),
		Variables: map[string]string{"color": "blue"}}); err != nil {
		t.Fatal(err)
	}
	host := api + ".execute-api.localhost"
	status, h, b := call(t, srv, "GET", "/v1/health", host, "", nil)
	if status != 200 || string(b) != `{"ok": true}` || h.Get("X-Mock") != "yes" || h.Get("Content-Type") != "application/json" {
		t.Fatalf("MOCK 200 = %d %v %s", status, h, b)
	}
	status, h, b = call(t, srv, "DELETE", "/v1/health", host, "", nil)
	if status != 404 || string(b) != `{"ok": false}` || h.Get("X-Mock") != "" {
		t.Fatalf("MOCK 404 = %d %v %s", status, h, b)
	}
	status, _, b = call(t, srv, "POST", "/v1/work", host, `{"path": "/fine"}`, map[string]string{"Content-Type": "application/json"})
	var out struct {
		StatusCode int    `json:"statusCode"`
		Body       string `json:"body"`
	}
	if status != 200 || json.Unmarshal(b, &out) != nil || out.StatusCode != 201 || out.Body != `{"path": "/fine"}` {
		t.Fatalf("AWS Lambda integration = %d %s", status, b)
	}
	status, _, b = call(t, srv, "POST", "/v1/tmpl?kind=fine", host, `{"name": "rex"}`, map[string]string{"Content-Type": "application/json"})
	if status != 418 || string(b) != `{"code": 201, "name": "rex", "stage": "v1", "var": "blue"}` {
		t.Fatalf("templates = %d %s", status, b)
	}
	status, _, b = call(t, srv, "POST", "/v1/tmpl", host, `not json`, map[string]string{"Content-Type": "application/json"})
	if status != 400 || !strings.Contains(string(b), "Could not parse request body into json") {
		t.Fatalf("template over a body that is not JSON = %d %s", status, b)
	}
	status, _, b = call(t, srv, "POST", "/v1/tmpl", host, `x`, map[string]string{"Content-Type": "text/plain"})
	if status != 415 || string(b) != `{"message":"Unsupported Media Type"}` {
		t.Fatalf("NEVER passthrough of an unmapped content type = %d %s", status, b)
	}
	status, _, b = call(t, srv, "POST", "/v1/work", host, `{"path": "/fail"}`, map[string]string{"Content-Type": "application/json"})
	if status != 400 || string(b) != `{"error": "bad request"}` {
		t.Fatalf("AWS Lambda integration, function error = %d %s", status, b)
	}
}

func TestAPIGatewayRESTHTTPProxy(t *testing.T) {
	t.Parallel()
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Backend", "yes")
		w.WriteHeader(202)
		fmt.Fprintf(w, "%s %s?%s tenant=%s body=%s", r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Get("X-Tenant"), b)
	}))
	defer backend.Close()
	srv := kiritest.Start(t, kiritest.Options{})
	c := restClient(srv)
	ctx := t.Context()
	a, err := c.CreateRestApi(ctx, &apigateway.CreateRestApiInput{Name: aws.String("proxy")})
	if err != nil {
		t.Fatal(err)
	}
	api, root := aws.ToString(a.Id), aws.ToString(a.RootResourceId)
	proxy := restResource(t, c, api, root, "{proxy+}")
	restMethod(t, c, api, proxy, "ANY", &apigateway.PutIntegrationInput{Type: rtypes.IntegrationTypeHttpProxy, IntegrationHttpMethod: aws.String("ANY"),
		Uri: aws.String(backend.URL + "/svc/{proxy}"), RequestParameters: map[string]string{
			"integration.request.path.proxy": "method.request.path.proxy", "integration.request.header.X-Tenant": "stageVariables.tenant"}})
	if _, err := c.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: aws.String(api), StageName: aws.String("dev"),
		Variables: map[string]string{"tenant": "acme"}}); err != nil {
		t.Fatal(err)
	}
	status, h, b := call(t, srv, "PUT", "/dev/items/9?x=1", api+".execute-api.localhost", "hello", nil)
	if status != 202 || h.Get("X-Backend") != "yes" || string(b) != "PUT /svc/items/9?x=1 tenant=acme body=hello" {
		t.Fatalf("HTTP_PROXY = %d %v %s", status, h, b)
	}
	if !strings.Contains(h.Get("X-Amzn-Requestid"), "-") {
		t.Fatalf("no request id in %v", h)
	}
}

func TestAPIGatewayRESTSQSIntegration(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{})
	clients := srv.Clients()
	ctx := t.Context()
	q, err := clients.SQS.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("inbox")})
	if err != nil {
		t.Fatal(err)
	}
	c := restClient(srv)
	a, err := c.CreateRestApi(ctx, &apigateway.CreateRestApiInput{Name: aws.String("to-sqs")})
	if err != nil {
		t.Fatal(err)
	}
	api, apiID := aws.ToString(a.Id), a.Id
	msgs := restResource(t, c, api, aws.ToString(a.RootResourceId), "messages")
	restMethod(t, c, api, msgs, "POST", &apigateway.PutIntegrationInput{Type: rtypes.IntegrationTypeAws, IntegrationHttpMethod: aws.String("POST"),
		Uri:               aws.String("arn:aws:apigateway:us-east-1:sqs:path/000000000000/inbox"),
		Credentials:       aws.String("arn:aws:iam::000000000000:role/apigw-sqs"),
		RequestParameters: map[string]string{"integration.request.header.Content-Type": "'application/x-www-form-urlencoded'"},
		RequestTemplates:  map[string]string{"application/json": `Action=SendMessage&MessageBody=$util.urlEncode($input.body)`}})
	if _, err := c.PutMethodResponse(ctx, &apigateway.PutMethodResponseInput{RestApiId: apiID, ResourceId: aws.String(msgs), HttpMethod: aws.String("POST"),
		StatusCode: aws.String("200")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutIntegrationResponse(ctx, &apigateway.PutIntegrationResponseInput{RestApiId: apiID, ResourceId: aws.String(msgs), HttpMethod: aws.String("POST"),
		StatusCode: aws.String("200"), ResponseTemplates: map[string]string{
			"application/json": `{"id": "$input.path('$.SendMessageResponse.SendMessageResult.MessageId')"}`}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: apiID, StageName: aws.String("prod")}); err != nil {
		t.Fatal(err)
	}
	status, _, b := call(t, srv, "POST", "/prod/messages", api+".execute-api.localhost", `{"order": 42, "note": "a&b=c"}`,
		map[string]string{"Content-Type": "application/json"})
	var got struct{ ID string }
	if status != 200 || json.Unmarshal(b, &got) != nil || got.ID == "" {
		t.Fatalf("POST /prod/messages = %d %s", status, b)
	}
	out, err := clients.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, WaitTimeSeconds: 1})
	if err != nil || len(out.Messages) != 1 || aws.ToString(out.Messages[0].Body) != `{"order": 42, "note": "a&b=c"}` ||
		aws.ToString(out.Messages[0].MessageId) != got.ID {
		t.Fatalf("ReceiveMessage = %+v, %v", out, err)
	}
}

// TestAPIGatewayRESTBinaryContentHandling sends a binary body through a Lambda non-proxy
// integration and back: CONVERT_TO_TEXT gives the template the body in base64, and the
// integration response's CONVERT_TO_BINARY decodes what the template makes of the answer.
func TestAPIGatewayRESTBinaryContentHandling(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{})
	fn := createHTTPEcho(t, srv.Clients().Lambda, "binecho")
	c := restClient(srv)
	ctx := t.Context()
	a, err := c.CreateRestApi(ctx, &apigateway.CreateRestApiInput{Name: aws.String("images"), BinaryMediaTypes: []string{"image/*"}})
	if err != nil {
		t.Fatal(err)
	}
	api, apiID := aws.ToString(a.Id), a.Id
	img := restResource(t, c, api, aws.ToString(a.RootResourceId), "img")
	restMethod(t, c, api, img, "PUT", &apigateway.PutIntegrationInput{Type: rtypes.IntegrationTypeAws, IntegrationHttpMethod: aws.String("POST"),
		Uri: lambdaProxy(fn).Uri, ContentHandling: rtypes.ContentHandlingStrategyConvertToText,
		RequestTemplates: map[string]string{"image/png": `{"path": "/img", "data": "$input.body"}`}})
	if _, err := c.PutMethodResponse(ctx, &apigateway.PutMethodResponseInput{RestApiId: apiID, ResourceId: aws.String(img), HttpMethod: aws.String("PUT"),
		StatusCode: aws.String("200"), ResponseParameters: map[string]bool{"method.response.header.Content-Type": false}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutIntegrationResponse(ctx, &apigateway.PutIntegrationResponseInput{RestApiId: apiID, ResourceId: aws.String(img), HttpMethod: aws.String("PUT"),
		StatusCode: aws.String("200"), ContentHandling: rtypes.ContentHandlingStrategyConvertToBinary,
		ResponseParameters: map[string]string{"method.response.header.Content-Type": "'image/png'"},
		ResponseTemplates:  map[string]string{"application/json": `#set($ev = $util.parseJson($input.path('$.body')))$ev.data`}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: apiID, StageName: aws.String("prod")}); err != nil {
		t.Fatal(err)
	}
	png := "\x89PNG\r\n\x1a\n\x00\x01\xff"
	status, h, b := call(t, srv, "PUT", "/prod/img", api+".execute-api.localhost", png, map[string]string{"Content-Type": "image/png"})
	if status != 200 || string(b) != png || h.Get("Content-Type") != "image/png" {
		t.Fatalf("binary round trip = %d %v %q", status, h, b)
	}
}
