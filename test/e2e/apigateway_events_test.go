package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	apitypes "github.com/aws/aws-sdk-go-v2/service/apigatewayv2/types"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// TestAPIGatewayEventBridgePutEventsIntegration puts the request on the default bus as one
// event through an EventBridge-PutEvents integration, answers with EventBridge's response, and
// the bus's rule delivers the event; CreateIntegration checks the parameters as AWS does.
func TestAPIGatewayEventBridgePutEventsIntegration(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{})
	cl := srv.Clients()
	ctx := t.Context()
	url, arn := createQueue(t, cl.SQS, "placed")
	putRuleWithTargets(t, cl.Events, "", "orders", `{"source":["shop.api"]}`, ebtypes.Target{Id: aws.String("q"), Arn: aws.String(arn)})

	c := apiClient(srv)
	api, err := c.CreateApi(ctx, &apigatewayv2.CreateApiInput{Name: aws.String("bad"), ProtocolType: apitypes.ProtocolTypeHttp})
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []apigatewayv2.CreateIntegrationInput{
		{IntegrationSubtype: aws.String("EventBridge-PutEvents"), RequestParameters: map[string]string{"Detail": "$request.body", "Source": "s"}},
		{IntegrationSubtype: aws.String("EventBridge-PutEvents"), RequestParameters: map[string]string{"Detail": "d", "DetailType": "t", "Source": "s", "QueueUrl": "u"}},
		{IntegrationSubtype: aws.String("StepFunctions-StartExecution"), RequestParameters: map[string]string{"Input": "$request.body"}},
	} {
		bad.ApiId, bad.IntegrationType, bad.PayloadFormatVersion = api.ApiId, apitypes.IntegrationTypeAwsProxy, aws.String("1.0")
		_, err := c.CreateIntegration(ctx, &bad)
		wantGatewayError(t, err, "BadRequestException")
	}

	base := serviceRoute(t, srv, "EventBridge-PutEvents", "", map[string]string{"Source": "shop.api", "DetailType": "$request.path.kind",
		"Detail": "$request.body", "Resources": "arn:aws:s3:::shop"})
	status, _, body := call(t, srv, http.MethodPost, base+"Order Placed", "", `{"id":7}`, nil)
	var res struct {
		Entries          []struct{ EventId, ErrorCode string }
		FailedEntryCount int
	}
	if status != http.StatusOK || json.Unmarshal(body, &res) != nil || len(res.Entries) != 1 || res.Entries[0].EventId == "" || res.FailedEntryCount != 0 {
		t.Fatalf("put = %d %s", status, body)
	}
	got := receiveAll(t, cl.SQS, url, 1, 10*time.Second)
	var ev struct {
		ID         string          `json:"id"`
		DetailType string          `json:"detail-type"`
		Source     string          `json:"source"`
		Resources  []string        `json:"resources"`
		Detail     json.RawMessage `json:"detail"`
	}
	if err := json.Unmarshal([]byte(aws.ToString(got[0].Body)), &ev); err != nil || ev.ID != res.Entries[0].EventId ||
		ev.DetailType != "Order Placed" || ev.Source != "shop.api" || string(ev.Detail) != `{"id":7}` || len(ev.Resources) != 1 {
		t.Fatalf("delivered event = %s (%v)", aws.ToString(got[0].Body), err)
	}

	// EventBridge's refusal of the entry is in its answer: a detail that is not a JSON object.
	status, _, body = call(t, srv, http.MethodPost, base+"x", "", `not json`, nil)
	if status != http.StatusOK || json.Unmarshal(body, &res) != nil || res.FailedEntryCount != 1 || res.Entries[0].ErrorCode != "MalformedDetail" {
		t.Fatalf("malformed detail = %d %s", status, body)
	}
}

// With IAM enforced, an EventBridge-PutEvents integration acts as its role, which must trust
// apigateway.amazonaws.com and may events:PutEvents on the bus.
func TestAPIGatewayEventBridgeIntegrationActsAsItsRole(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{Strict: true})
	cl := srv.Clients()
	ctx := t.Context()
	params := map[string]string{"Source": "shop.api", "DetailType": "Order Placed", "Detail": "$request.body"}
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"apigateway.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	role, err := cl.IAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("gw-events"), AssumeRolePolicyDocument: aws.String(trust)})
	if err != nil {
		t.Fatal(err)
	}
	base := serviceRoute(t, srv, "EventBridge-PutEvents", aws.ToString(role.Role.Arn), params)
	if status, _, body := call(t, srv, http.MethodPost, base+"a", "", `{"id":1}`, nil); status != http.StatusBadRequest ||
		!strings.Contains(string(body), "AccessDeniedException") {
		t.Fatalf("role without events:PutEvents = %d %s", status, body)
	}
	allow := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"events:PutEvents","Resource":"arn:aws:events:*:*:event-bus/default"}]}`
	if _, err := cl.IAM.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("gw-events"), PolicyName: aws.String("put"),
		PolicyDocument: aws.String(allow)}); err != nil {
		t.Fatal(err)
	}
	if status, _, body := call(t, srv, http.MethodPost, base+"a", "", `{"id":1}`, nil); status != http.StatusOK {
		t.Fatalf("role with events:PutEvents = %d %s", status, body)
	}
}
