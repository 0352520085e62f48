package e2e

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	rtypes "github.com/aws/aws-sdk-go-v2/service/apigateway/types"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// TestAPIGatewayRESTEventBridgeIntegration puts events on a bus from a REST API's AWS
// integration with EventBridge's PutEvents: the request template makes PutEvents' input, the
// bus's rule delivers the event, and EventBridge's answer goes through the integration response.
func TestAPIGatewayRESTEventBridgeIntegration(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{})
	cl := srv.Clients()
	ctx := t.Context()
	url, arn := createQueue(t, cl.SQS, "signups")
	putRuleWithTargets(t, cl.Events, "", "signups", `{"source":["shop.rest"]}`, ebtypes.Target{Id: aws.String("q"), Arn: aws.String(arn)})

	c := restClient(srv)
	a, err := c.CreateRestApi(ctx, &apigateway.CreateRestApiInput{Name: aws.String("signups")})
	if err != nil {
		t.Fatal(err)
	}
	api := aws.ToString(a.Id)
	res := restResource(t, c, api, aws.ToString(a.RootResourceId), "signups")
	restMethod(t, c, api, res, "POST", &apigateway.PutIntegrationInput{Type: rtypes.IntegrationTypeAws,
		IntegrationHttpMethod: aws.String("POST"), Uri: aws.String("arn:aws:apigateway:us-east-1:events:action/PutEvents"),
		RequestTemplates: map[string]string{"application/json": `{"Entries": [{"Source": "shop.rest", "DetailType": "Signed Up",
  "Detail": "$util.escapeJavaScript($input.json('$'))"}]}`}})
	if _, err := c.PutMethodResponse(ctx, &apigateway.PutMethodResponseInput{RestApiId: aws.String(api), ResourceId: aws.String(res),
		HttpMethod: aws.String("POST"), StatusCode: aws.String("200")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutIntegrationResponse(ctx, &apigateway.PutIntegrationResponseInput{RestApiId: aws.String(api), ResourceId: aws.String(res),
		HttpMethod: aws.String("POST"), StatusCode: aws.String("200"),
		ResponseTemplates: map[string]string{"application/json": `{"id": "$input.path('$.Entries[0].EventId')"}`}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: a.Id, StageName: aws.String("prod")}); err != nil {
		t.Fatal(err)
	}
	status, _, body := call(t, srv, http.MethodPost, "/prod/signups", api+".execute-api.localhost", `{"user":"ann"}`,
		map[string]string{"Content-Type": "application/json"})
	var answer struct{ ID string }
	if status != http.StatusOK || json.Unmarshal(body, &answer) != nil || answer.ID == "" {
		t.Fatalf("POST /prod/signups = %d %s", status, body)
	}
	got := receiveAll(t, cl.SQS, url, 1, 10*time.Second)
	var ev struct {
		ID         string          `json:"id"`
		DetailType string          `json:"detail-type"`
		Detail     json.RawMessage `json:"detail"`
	}
	if err := json.Unmarshal([]byte(aws.ToString(got[0].Body)), &ev); err != nil || ev.ID != answer.ID || ev.DetailType != "Signed Up" ||
		string(ev.Detail) != `{"user":"ann"}` {
		t.Fatalf("delivered event = %s (%v)", aws.ToString(got[0].Body), err)
	}
}
