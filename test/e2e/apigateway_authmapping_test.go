package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	apitypes "github.com/aws/aws-sdk-go-v2/service/apigatewayv2/types"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// TestAPIGatewayParameterMapping changes requests before their integration sees them (headers,
// query string, path, from request values, body JSON paths, $context, stage variables, the
// authorizer's context, static text and mixes) and the integrations' answers (headers, status
// code) per status code; it refuses mappings of reserved headers and unknown values.
func TestAPIGatewayParameterMapping(t *testing.T) {
	t.Parallel()
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Backend-Path", r.URL.RequestURI())
		w.Header().Set("X-Backend-Tenant", r.Header.Get("X-Tenant"))
		w.Header().Set("X-Backend-Trace", strings.Join(r.Header.Values("X-Trace"), ";"))
		w.Header().Set("X-Backend-Secret", r.Header.Get("X-Secret"))
		w.Header().Set("X-Internal", "hide-me")
		w.Header().Set("Content-Type", "application/json")
		if strings.Contains(r.URL.Path, "missing") {
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"error":{"code":"E404"}}`))
			return
		}
		w.Write(append([]byte(`{"echo":`), append(b, '}')...))
	}))
	t.Cleanup(backend.Close)
	srv := kiritest.Start(t, kiritest.Options{})
	cl := srv.Clients()
	c := apiClient(srv)
	ctx := t.Context()
	echo := createHTTPEcho(t, cl.Lambda, "map-echo")
	api, err := c.CreateApi(ctx, &apigatewayv2.CreateApiInput{Name: aws.String("mapped"), ProtocolType: apitypes.ProtocolTypeHttp})
	if err != nil {
		t.Fatal(err)
	}

	for name, in := range map[string]*apigatewayv2.CreateIntegrationInput{
		"a reserved request header":  {RequestParameters: map[string]string{"overwrite:header.Authorization": "x"}},
		"an x-amz- header":           {RequestParameters: map[string]string{"append:header.x-amz-date": "x"}},
		"appending to the path":      {RequestParameters: map[string]string{"append:path": "/x"}},
		"an unknown location":        {RequestParameters: map[string]string{"overwrite:body.x": "x"}},
		"a response value":           {RequestParameters: map[string]string{"overwrite:header.x": "$response.header.y"}},
		"an unclosed variable":       {RequestParameters: map[string]string{"overwrite:header.x": "${request.header.y"}},
		"a status code out of range": {ResponseParameters: map[string]map[string]string{"700": {"overwrite:header.x": "y"}}},
		"a bad status code":          {ResponseParameters: map[string]map[string]string{"200": {"overwrite:statuscode": "abc"}}},
		"a reserved response header": {ResponseParameters: map[string]map[string]string{"200": {"overwrite:header.Access-Control-Allow-Origin": "*"}}},
		"a query string in response": {ResponseParameters: map[string]map[string]string{"200": {"overwrite:querystring.a": "b"}}},
	} {
		in.ApiId, in.IntegrationType, in.IntegrationUri = api.ApiId, apitypes.IntegrationTypeHttpProxy, aws.String(backend.URL)
		in.IntegrationMethod, in.PayloadFormatVersion = aws.String("ANY"), aws.String("1.0")
		_, err := c.CreateIntegration(ctx, in)
		if err == nil {
			t.Errorf("%s: created", name)
			continue
		}
		wantGatewayError(t, err, "BadRequestException")
	}
	_, err = c.CreateIntegration(ctx, &apigatewayv2.CreateIntegrationInput{ApiId: api.ApiId, IntegrationType: apitypes.IntegrationTypeHttpProxy,
		IntegrationUri: aws.String(backend.URL), IntegrationMethod: aws.String("ANY"), PayloadFormatVersion: aws.String("1.0"),
		RequestParameters: map[string]string{"remove:header.Authorization": "''"}})
	if err == nil || !strings.Contains(err.Error(), "Operations on header Authorization are restricted") {
		t.Errorf("reserved header: %v", err)
	}

	httpInteg, err := c.CreateIntegration(ctx, &apigatewayv2.CreateIntegrationInput{ApiId: api.ApiId, IntegrationType: apitypes.IntegrationTypeHttpProxy,
		IntegrationUri: aws.String(backend.URL), IntegrationMethod: aws.String("ANY"), PayloadFormatVersion: aws.String("1.0"),
		RequestParameters: map[string]string{
			"overwrite:path":             "/v2/orders/$request.path.id",
			"append:header.X-Tenant":     "tenant-${request.body.order.tenant}-${stageVariables.env}",
			"append:header.X-Trace":      "$context.requestId",
			"remove:header.X-Secret":     "''",
			"overwrite:querystring.item": "$request.body.order.items[1].sku",
			"remove:querystring.debug":   "''",
			"append:querystring.from":    "$request.header.X-Client",
			"overwrite:header.X-Removed": "gone",
		},
		ResponseParameters: map[string]map[string]string{
			"200": {"remove:header.X-Internal": "''", "append:header.X-Api": "$context.apiId", "overwrite:header.X-Echo-Path": "$response.header.X-Backend-Path"},
			"404": {"overwrite:statuscode": "410", "overwrite:header.X-Error": "$response.body.error.code"},
		}})
	if err != nil {
		t.Fatal(err)
	}
	// An update removes a request mapping given an empty value, and a status code's response
	// mappings given an empty map, keeping the others.
	up, err := c.UpdateIntegration(ctx, &apigatewayv2.UpdateIntegrationInput{ApiId: api.ApiId, IntegrationId: httpInteg.IntegrationId,
		RequestParameters: map[string]string{"overwrite:header.X-Removed": ""}, ResponseParameters: map[string]map[string]string{"500": {}}})
	if err != nil || len(up.RequestParameters) != 7 || up.RequestParameters["overwrite:header.X-Removed"] != "" || len(up.ResponseParameters) != 2 {
		t.Fatalf("UpdateIntegration = %+v, %v", up, err)
	}
	lambdaInteg, err := c.CreateIntegration(ctx, &apigatewayv2.CreateIntegrationInput{ApiId: api.ApiId, IntegrationType: apitypes.IntegrationTypeAwsProxy,
		IntegrationUri: aws.String(echo), PayloadFormatVersion: aws.String("2.0"),
		RequestParameters: map[string]string{"overwrite:header.X-Stage": "$context.stage", "overwrite:querystring.user": "$request.header.X-User",
			"overwrite:path": "/rewritten/$request.path.id"},
		ResponseParameters: map[string]map[string]string{"201": {"overwrite:statuscode": "200", "overwrite:header.X-Kind": "mapped-${response.header.X-Kind}"}}})
	if err != nil {
		t.Fatal(err)
	}
	for key, integ := range map[string]*string{"POST /orders/{id}": httpInteg.IntegrationId, "GET /fn/{id}": lambdaInteg.IntegrationId} {
		if _, err := c.CreateRoute(ctx, &apigatewayv2.CreateRouteInput{ApiId: api.ApiId, RouteKey: aws.String(key),
			Target: aws.String("integrations/" + aws.ToString(integ))}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.CreateStage(ctx, &apigatewayv2.CreateStageInput{ApiId: api.ApiId, StageName: aws.String("dev"), AutoDeploy: aws.Bool(true),
		StageVariables: map[string]string{"env": "test"}}); err != nil {
		t.Fatal(err)
	}
	base := "/_kiri/apis/" + aws.ToString(api.ApiId) + "/dev"

	status, h, body := call(t, srv, http.MethodPost, base+"/orders/7?debug=1&keep=yes", "",
		`{"order":{"tenant":"acme","items":[{"sku":"a1"},{"sku":"b2"}]}}`,
		map[string]string{"X-Secret": "s3cret", "X-Client": "web", "X-Removed": "kept"})
	if status != http.StatusOK {
		t.Fatalf("mapped HTTP request: %d %v %s", status, h, body)
	}
	path := h.Get("X-Backend-Path")
	if !strings.HasPrefix(path, "/v2/orders/7?") || !strings.Contains(path, "item=b2") || !strings.Contains(path, "keep=yes") ||
		!strings.Contains(path, "from=web") || strings.Contains(path, "debug") {
		t.Errorf("backend path %q", path)
	}
	if h.Get("X-Backend-Tenant") != "tenant-acme-test" || h.Get("X-Backend-Secret") != "" || h.Get("X-Backend-Trace") == "" {
		t.Errorf("backend saw tenant %q secret %q trace %q", h.Get("X-Backend-Tenant"), h.Get("X-Backend-Secret"), h.Get("X-Backend-Trace"))
	}
	if h.Get("X-Internal") != "" || h.Get("X-Api") != aws.ToString(api.ApiId) || h.Get("X-Echo-Path") != path {
		t.Errorf("response headers %v", h)
	}
	status, h, body = call(t, srv, http.MethodPost, base+"/orders/missing", "", `{}`, nil)
	if status != http.StatusGone || h.Get("X-Error") != "E404" {
		t.Errorf("mapped 404: %d %v %s", status, h, body)
	}

	status, h, body = call(t, srv, http.MethodGet, base+"/fn/9", "", "", map[string]string{"X-User": "ann"})
	var ev struct {
		RawPath               string            `json:"rawPath"`
		Headers               map[string]string `json:"headers"`
		QueryStringParameters map[string]string `json:"queryStringParameters"`
	}
	if status != http.StatusOK || h.Get("X-Kind") != "mapped-echo" || json.Unmarshal(body, &ev) != nil {
		t.Fatalf("mapped Lambda request: %d %v %s", status, h, body)
	}
	if ev.RawPath != "/rewritten/9" || ev.Headers["x-stage"] != "dev" || ev.QueryStringParameters["user"] != "ann" {
		t.Errorf("the function saw %+v", ev)
	}
}
