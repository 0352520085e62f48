package e2e

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	apitypes "github.com/aws/aws-sdk-go-v2/service/apigatewayv2/types"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// An HTTP_PROXY integration forwards the request to its URL ({proxy} replaced by the greedy
// path), with the client's headers less the hop-by-hop ones, and returns the backend's answer
// as it is; a backend past the timeout is a 504, an unreachable one a 500.
func TestAPIGatewayHTTPProxyIntegration(t *testing.T) {
	t.Parallel()
	block := make(chan struct{})
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/slow" {
			select {
			case <-block:
			case <-r.Context().Done():
			}
			return
		}
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Backend-Method", r.Method)
		w.Header().Set("X-Backend-Path", r.URL.RequestURI())
		w.Header().Set("X-Backend-Saw-Custom", r.Header.Get("X-Custom"))
		w.Header().Set("X-Backend-Saw-Proxy-Auth", r.Header.Get("Proxy-Authorization"))
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusTeapot)
		w.Write(append([]byte("got:"), b...))
	}))
	t.Cleanup(backend.Close)
	t.Cleanup(func() { close(block) })
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadURL := "http://" + dead.Addr().String() + "/x"
	dead.Close()

	srv := kiritest.Start(t, kiritest.Options{})
	c := apiClient(srv)
	ctx := t.Context()
	api, err := c.CreateApi(ctx, &apigatewayv2.CreateApiInput{Name: aws.String("front"), ProtocolType: apitypes.ProtocolTypeHttp})
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []apigatewayv2.CreateIntegrationInput{
		{IntegrationUri: aws.String("ftp://example.com/"), IntegrationMethod: aws.String("ANY")},
		{IntegrationUri: aws.String(backend.URL)},
		{IntegrationUri: aws.String(backend.URL), IntegrationMethod: aws.String("FETCH")},
		{IntegrationUri: aws.String(backend.URL), IntegrationMethod: aws.String("ANY"), PayloadFormatVersion: aws.String("2.0")},
	} {
		bad.ApiId, bad.IntegrationType = api.ApiId, apitypes.IntegrationTypeHttpProxy
		if _, err := c.CreateIntegration(ctx, &bad); err == nil {
			t.Errorf("CreateIntegration(%s, %s, %s) succeeded", aws.ToString(bad.IntegrationUri), aws.ToString(bad.IntegrationMethod), aws.ToString(bad.PayloadFormatVersion))
		} else {
			wantGatewayError(t, err, "BadRequestException")
		}
	}
	route := func(key, uri, method string, timeout int32) string {
		t.Helper()
		integ, err := c.CreateIntegration(ctx, &apigatewayv2.CreateIntegrationInput{ApiId: api.ApiId, IntegrationType: apitypes.IntegrationTypeHttpProxy,
			IntegrationUri: aws.String(uri), IntegrationMethod: aws.String(method), PayloadFormatVersion: aws.String("1.0"), TimeoutInMillis: aws.Int32(timeout)})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(integ.IntegrationMethod) != method || aws.ToString(integ.PayloadFormatVersion) != "1.0" {
			t.Fatalf("CreateIntegration = %+v", integ)
		}
		if _, err := c.CreateRoute(ctx, &apigatewayv2.CreateRouteInput{ApiId: api.ApiId, RouteKey: aws.String(key),
			Target: aws.String("integrations/" + aws.ToString(integ.IntegrationId))}); err != nil {
			t.Fatal(err)
		}
		return aws.ToString(integ.IntegrationId)
	}
	route("ANY /api/{proxy+}", backend.URL+"/api/{proxy}", "ANY", 30000)
	route("POST /fixed", backend.URL+"/always?from=gw", "PUT", 30000)
	route("GET /slow", backend.URL+"/api/slow", "GET", 100)
	deadID := route("GET /dead", deadURL, "GET", 30000)
	// An update is checked as the integration it leaves: no payload format 2.0, no Lambda type
	// with a URL, and the refused update changes nothing.
	for _, bad := range []apigatewayv2.UpdateIntegrationInput{
		{PayloadFormatVersion: aws.String("2.0")},
		{IntegrationType: apitypes.IntegrationTypeAwsProxy},
		{IntegrationUri: aws.String("not a url")},
	} {
		bad.ApiId, bad.IntegrationId = api.ApiId, aws.String(deadID)
		_, err := c.UpdateIntegration(ctx, &bad)
		wantGatewayError(t, err, "BadRequestException")
	}
	if got, err := c.GetIntegration(ctx, &apigatewayv2.GetIntegrationInput{ApiId: api.ApiId, IntegrationId: aws.String(deadID)}); err != nil ||
		got.IntegrationType != apitypes.IntegrationTypeHttpProxy || aws.ToString(got.IntegrationUri) != deadURL || aws.ToString(got.PayloadFormatVersion) != "1.0" {
		t.Fatalf("GetIntegration after refused updates = %+v, %v", got, err)
	}
	if _, err := c.CreateStage(ctx, &apigatewayv2.CreateStageInput{ApiId: api.ApiId, StageName: aws.String("$default"), AutoDeploy: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	base := "/_kiri/apis/" + aws.ToString(api.ApiId)

	status, h, body := call(t, srv, http.MethodPost, base+"/api/pets/7?q=1", "", "hello",
		map[string]string{"X-Custom": "yes", "Proxy-Authorization": "secret"})
	if status != http.StatusTeapot || string(body) != "got:hello" || h.Get("X-Backend-Method") != "POST" ||
		h.Get("X-Backend-Path") != "/api/pets/7?q=1" || h.Get("X-Backend-Saw-Custom") != "yes" ||
		h.Get("X-Backend-Saw-Proxy-Auth") != "" || h.Get("Content-Type") != "text/plain" || h.Get("Apigw-Requestid") == "" {
		t.Errorf("greedy proxy = %d %v %s", status, h, body)
	}
	status, h, body = call(t, srv, http.MethodPost, base+"/fixed?x=2", "", "b", nil)
	if status != http.StatusTeapot || h.Get("X-Backend-Method") != "PUT" || h.Get("X-Backend-Path") != "/always?from=gw&x=2" || string(body) != "got:b" {
		t.Errorf("fixed URL = %d %v %s", status, h, body)
	}
	if status, _, body = call(t, srv, http.MethodGet, base+"/slow", "", "", nil); status != http.StatusGatewayTimeout {
		t.Errorf("backend past the timeout = %d %s", status, body)
	}
	if status, _, body = call(t, srv, http.MethodGet, base+"/dead", "", "", nil); status != http.StatusInternalServerError ||
		string(body) != `{"message":"Internal Server Error"}` {
		t.Errorf("unreachable backend = %d %s", status, body)
	}
}
