package e2e

import (
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	apitypes "github.com/aws/aws-sdk-go-v2/service/apigatewayv2/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// TestAPIGatewayRESTBackendWithDynamoDB is a REST backend: an HTTP API whose routes call a
// function that stores and reads items in a DynamoDB table through the SDK.
func TestAPIGatewayRESTBackendWithDynamoDB(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{})
	cl := srv.Clients()
	ctx := t.Context()
	createDDBTable(t, cl.DynamoDB, "items", false)
	fn := createTestFunction(t, cl.Lambda, "items-api", kiritest.GoFunctionZip(t, "./testdata/lambda/itemsapi"), func(in *lambda.CreateFunctionInput) {
		in.Environment = &types.Environment{Variables: map[string]string{"TABLE": "items"}}
		in.Timeout = aws.Int32(10)
	})
	waitActive(t, cl.Lambda, "items-api")
	c := apiClient(srv)
	api, err := c.CreateApi(ctx, &apigatewayv2.CreateApiInput{Name: aws.String("items"), ProtocolType: apitypes.ProtocolTypeHttp})
	if err != nil {
		t.Fatal(err)
	}
	integ, err := c.CreateIntegration(ctx, &apigatewayv2.CreateIntegrationInput{ApiId: api.ApiId, IntegrationType: apitypes.IntegrationTypeAwsProxy,
		IntegrationUri: fn.FunctionArn, PayloadFormatVersion: aws.String("2.0")})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"POST /items", "GET /items/{id}"} {
		if _, err := c.CreateRoute(ctx, &apigatewayv2.CreateRouteInput{ApiId: api.ApiId, RouteKey: aws.String(k),
			Target: aws.String("integrations/" + aws.ToString(integ.IntegrationId))}); err != nil {
			t.Fatal(err)
		}
	}
	// An auto-deployed stage serves the routes as they change.
	if _, err := c.CreateStage(ctx, &apigatewayv2.CreateStageInput{ApiId: api.ApiId, StageName: aws.String("v1"), AutoDeploy: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	base := "/_kiri/apis/" + aws.ToString(api.ApiId) + "/v1"
	status, _, body := call(t, srv, http.MethodPost, base+"/items", "", `{"id":"42","name":"towel"}`,
		map[string]string{"Content-Type": "application/json"})
	if status != http.StatusCreated || string(body) != `{"id":"42","name":"towel"}` {
		t.Fatalf("POST /items = %d %s", status, body)
	}
	status, h, body := call(t, srv, http.MethodGet, base+"/items/42", "", "", nil)
	if status != http.StatusOK || string(body) != `{"id":"42","name":"towel"}` || h.Get("Content-Type") != "application/json" {
		t.Fatalf("GET /items/42 = %d %v %s", status, h, body)
	}
	if status, _, body = call(t, srv, http.MethodGet, base+"/items/43", "", "", nil); status != http.StatusNotFound {
		t.Errorf("GET /items/43 = %d %s", status, body)
	}
	if status, _, body = call(t, srv, http.MethodDelete, base+"/items/42", "", "", nil); status != http.StatusNotFound || string(body) != `{"message":"Not Found"}` {
		t.Errorf("DELETE with no route = %d %s", status, body)
	}
}
