package e2e

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	apitypes "github.com/aws/aws-sdk-go-v2/service/apigatewayv2/types"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// TestAPIGatewayThrottling sets stage-wide and per-route throttling on an HTTP API and checks
// that requests over a route's burst are answered 429 with API Gateway's body, that a route's
// settings override the stage's, that a rate and burst of zero block a route, and that settings
// naming a route the API does not have are refused.
func TestAPIGatewayThrottling(t *testing.T) {
	t.Parallel()
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }))
	t.Cleanup(backend.Close)
	srv := kiritest.Start(t, kiritest.Options{})
	c := apiClient(srv)
	ctx := t.Context()
	api, err := c.CreateApi(ctx, &apigatewayv2.CreateApiInput{Name: aws.String("limited"), ProtocolType: apitypes.ProtocolTypeHttp})
	if err != nil {
		t.Fatal(err)
	}
	integ, err := c.CreateIntegration(ctx, &apigatewayv2.CreateIntegrationInput{ApiId: api.ApiId, IntegrationType: apitypes.IntegrationTypeHttpProxy,
		IntegrationUri: aws.String(backend.URL), IntegrationMethod: aws.String("ANY"), PayloadFormatVersion: aws.String("1.0")})
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"GET /a", "GET /b", "GET /closed"} {
		if _, err := c.CreateRoute(ctx, &apigatewayv2.CreateRouteInput{ApiId: api.ApiId, RouteKey: aws.String(key),
			Target: aws.String("integrations/" + aws.ToString(integ.IntegrationId))}); err != nil {
			t.Fatal(err)
		}
	}
	_, err = c.CreateStage(ctx, &apigatewayv2.CreateStageInput{ApiId: api.ApiId, StageName: aws.String("$default"), AutoDeploy: aws.Bool(true),
		RouteSettings: map[string]apitypes.RouteSettings{"GET /nowhere": {ThrottlingBurstLimit: aws.Int32(1)}}})
	wantGatewayError(t, err, "NotFoundException")
	if _, err := c.CreateStage(ctx, &apigatewayv2.CreateStageInput{ApiId: api.ApiId, StageName: aws.String("$default"), AutoDeploy: aws.Bool(true),
		DefaultRouteSettings: &apitypes.RouteSettings{ThrottlingBurstLimit: aws.Int32(2), ThrottlingRateLimit: aws.Float64(0.001)},
		RouteSettings: map[string]apitypes.RouteSettings{
			"GET /b":      {ThrottlingBurstLimit: aws.Int32(4), ThrottlingRateLimit: aws.Float64(0.001)},
			"GET /closed": {ThrottlingBurstLimit: aws.Int32(0), ThrottlingRateLimit: aws.Float64(0)},
		}}); err != nil {
		t.Fatal(err)
	}
	base := "/_kiri/apis/" + aws.ToString(api.ApiId)
	count := func(path string, n int) (ok, limited int) {
		t.Helper()
		for range n {
			status, _, body := call(t, srv, "GET", base+path, "", "", nil)
			switch {
			case status == http.StatusOK:
				ok++
			case status == http.StatusTooManyRequests && string(body) == `{"message":"Too Many Requests"}`:
				limited++
			default:
				t.Fatalf("GET %s = %d %s", path, status, body)
			}
		}
		return ok, limited
	}
	if ok, limited := count("/a", 4); ok != 2 || limited != 2 {
		t.Errorf("stage default burst 2: %d ok, %d throttled of 4", ok, limited)
	}
	if ok, limited := count("/b", 6); ok != 4 || limited != 2 {
		t.Errorf("route burst 4: %d ok, %d throttled of 6", ok, limited)
	}
	if ok, _ := count("/closed", 2); ok != 0 {
		t.Errorf("a route with rate and burst 0 let %d requests through", ok)
	}

	st, err := c.GetStage(ctx, &apigatewayv2.GetStageInput{ApiId: api.ApiId, StageName: aws.String("$default")})
	if err != nil || aws.ToInt32(st.DefaultRouteSettings.ThrottlingBurstLimit) != 2 || aws.ToInt32(st.RouteSettings["GET /b"].ThrottlingBurstLimit) != 4 {
		t.Fatalf("GetStage = %+v, %v", st, err)
	}
	// Raising a route's burst takes effect at once; deleting its settings returns it to the stage's.
	if _, err := c.UpdateStage(ctx, &apigatewayv2.UpdateStageInput{ApiId: api.ApiId, StageName: aws.String("$default"),
		RouteSettings: map[string]apitypes.RouteSettings{"GET /closed": {ThrottlingBurstLimit: aws.Int32(1)}}}); err != nil {
		t.Fatal(err)
	}
	st, err = c.GetStage(ctx, &apigatewayv2.GetStageInput{ApiId: api.ApiId, StageName: aws.String("$default")})
	if err != nil || aws.ToInt32(st.RouteSettings["GET /closed"].ThrottlingBurstLimit) != 1 || aws.ToFloat64(st.RouteSettings["GET /closed"].ThrottlingRateLimit) != 0 {
		t.Fatalf("UpdateStage merged route settings into %+v, %v", st.RouteSettings, err)
	}
	if ok, limited := count("/closed", 2); ok != 1 || limited != 1 {
		t.Errorf("route burst 1: %d ok, %d throttled of 2", ok, limited)
	}
	if _, err := c.DeleteRouteSettings(ctx, &apigatewayv2.DeleteRouteSettingsInput{ApiId: api.ApiId, StageName: aws.String("$default"), RouteKey: aws.String("GET /closed")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DeleteRouteSettings(ctx, &apigatewayv2.DeleteRouteSettingsInput{ApiId: api.ApiId, StageName: aws.String("$default"), RouteKey: aws.String("GET /closed")})
	wantGatewayError(t, err, "NotFoundException")
	if ok, limited := count("/closed", 3); ok != 2 || limited != 1 {
		t.Errorf("back to the stage's burst 2: %d ok, %d throttled of 3", ok, limited)
	}
	for _, bad := range []apitypes.RouteSettings{{ThrottlingBurstLimit: aws.Int32(-1)}, {ThrottlingRateLimit: aws.Float64(-1)}, {DetailedMetricsEnabled: aws.Bool(true)}} {
		_, err := c.UpdateStage(ctx, &apigatewayv2.UpdateStageInput{ApiId: api.ApiId, StageName: aws.String("$default"), DefaultRouteSettings: &bad})
		wantGatewayError(t, err, "BadRequestException")
	}
}
