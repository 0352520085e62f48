package e2e

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	apitypes "github.com/aws/aws-sdk-go-v2/service/apigatewayv2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// sqsRoute makes an API whose POST /orders route sends to SQS with params (and role, when not
// ""), on an auto-deployed $default stage, and returns the route's invoke path.
func sqsRoute(t *testing.T, srv *kiritest.Server, role string, params map[string]string) string {
	t.Helper()
	return serviceRoute(t, srv, "SQS-SendMessage", role, params)
}

// serviceRoute makes an HTTP API whose route POST /orders/{kind} is an AWS service integration
// of subtype with params (and role, when not ""), and returns its invoke path before {kind}.
func serviceRoute(t *testing.T, srv *kiritest.Server, subtype, role string, params map[string]string) string {
	t.Helper()
	c := apiClient(srv)
	ctx := t.Context()
	api, err := c.CreateApi(ctx, &apigatewayv2.CreateApiInput{Name: aws.String("orders"), ProtocolType: apitypes.ProtocolTypeHttp})
	if err != nil {
		t.Fatal(err)
	}
	in := &apigatewayv2.CreateIntegrationInput{ApiId: api.ApiId, IntegrationType: apitypes.IntegrationTypeAwsProxy,
		IntegrationSubtype: aws.String(subtype), PayloadFormatVersion: aws.String("1.0"), RequestParameters: params}
	if role != "" {
		in.CredentialsArn = aws.String(role)
	}
	integ, err := c.CreateIntegration(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateRoute(ctx, &apigatewayv2.CreateRouteInput{ApiId: api.ApiId, RouteKey: aws.String("POST /orders/{kind}"),
		Target: aws.String("integrations/" + aws.ToString(integ.IntegrationId))}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateStage(ctx, &apigatewayv2.CreateStageInput{ApiId: api.ApiId, StageName: aws.String("$default"), AutoDeploy: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	return "/_kiri/apis/" + aws.ToString(api.ApiId) + "/orders/"
}

// An SQS-SendMessage integration sends the request, mapped to SendMessage's parameters, to the
// queue and answers 200 with SQS's response; CreateIntegration checks its parameters as AWS does.
func TestAPIGatewaySQSSendMessageIntegration(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{})
	cl := srv.Clients()
	ctx := t.Context()
	q, err := cl.SQS.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("orders")})
	if err != nil {
		t.Fatal(err)
	}
	c := apiClient(srv)
	api, err := c.CreateApi(ctx, &apigatewayv2.CreateApiInput{Name: aws.String("bad"), ProtocolType: apitypes.ProtocolTypeHttp})
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []apigatewayv2.CreateIntegrationInput{
		{IntegrationSubtype: aws.String("SQS-SendMessage"), RequestParameters: map[string]string{"QueueUrl": aws.ToString(q.QueueUrl)}},
		{IntegrationSubtype: aws.String("SQS-SendMessage"), RequestParameters: map[string]string{"QueueUrl": "u", "MessageBody": "b", "Color": "red"}},
		{IntegrationSubtype: aws.String("SQS-SendMessage"), RequestParameters: map[string]string{"QueueUrl": "u", "MessageBody": "$request.nothing"}},
		{IntegrationSubtype: aws.String("SQS-SendMessage"), PayloadFormatVersion: aws.String("2.0"), RequestParameters: map[string]string{"QueueUrl": "u", "MessageBody": "b"}},
		{IntegrationSubtype: aws.String("SQS-ReceiveMessage"), RequestParameters: map[string]string{"QueueUrl": "u"}},
		{IntegrationUri: aws.String("arn:aws:lambda:us-east-1:000000000000:function:f"), RequestParameters: map[string]string{"QueueUrl": "u"}},
	} {
		bad.ApiId, bad.IntegrationType = api.ApiId, apitypes.IntegrationTypeAwsProxy
		_, err := c.CreateIntegration(ctx, &bad)
		wantGatewayError(t, err, "BadRequestException")
	}

	base := sqsRoute(t, srv, "", map[string]string{"QueueUrl": aws.ToString(q.QueueUrl), "MessageBody": "$request.body",
		"MessageAttributes": `{"kind":{"DataType":"String","StringValue":"order"}}`, "DelaySeconds": "0"})
	status, _, body := call(t, srv, http.MethodPost, base+"books", "", `{"id":7}`, nil)
	var res struct {
		SendMessageResponse struct {
			SendMessageResult struct{ MessageId, MD5OfMessageBody string }
		}
	}
	if status != http.StatusOK || json.Unmarshal(body, &res) != nil || res.SendMessageResponse.SendMessageResult.MessageId == "" {
		t.Fatalf("send = %d %s", status, body)
	}
	got, err := cl.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, MessageAttributeNames: []string{"All"}, WaitTimeSeconds: 1})
	if err != nil || len(got.Messages) != 1 {
		t.Fatalf("ReceiveMessage = %+v, %v", got, err)
	}
	m := got.Messages[0]
	if aws.ToString(m.Body) != `{"id":7}` || aws.ToString(m.MessageId) != res.SendMessageResponse.SendMessageResult.MessageId ||
		aws.ToString(m.MessageAttributes["kind"].StringValue) != "order" {
		t.Errorf("message = %+v", m)
	}

	// Mappings from the body's fields, the path, the query string and headers.
	base = sqsRoute(t, srv, "", map[string]string{"QueueUrl": aws.ToString(q.QueueUrl), "MessageBody": "$request.body.name",
		"MessageAttributes": `{"x":{"DataType":"String","StringValue":"y"}}`})
	if status, _, body := call(t, srv, http.MethodPost, base+"pens", "", `{"name":"ink"}`, nil); status != http.StatusOK {
		t.Fatalf("send mapped = %d %s", status, body)
	}
	got, err = cl.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, WaitTimeSeconds: 1})
	if err != nil || len(got.Messages) != 1 || aws.ToString(got.Messages[0].Body) != "ink" {
		t.Fatalf("mapped message = %+v, %v", got, err)
	}

	// SQS's refusal is the client's answer: a queue that does not exist.
	base = sqsRoute(t, srv, "", map[string]string{"QueueUrl": aws.ToString(q.QueueUrl) + "-gone", "MessageBody": "$request.path.kind"})
	if status, _, body := call(t, srv, http.MethodPost, base+"x", "", "", nil); status != http.StatusBadRequest {
		t.Errorf("missing queue = %d %s", status, body)
	}
}

// With IAM enforced, an SQS-SendMessage integration needs CredentialsArn, a role that trusts
// apigateway.amazonaws.com and may sqs:SendMessage.
func TestAPIGatewaySQSIntegrationNeedsRoleWhenIAMIsEnforced(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{Strict: true})
	cl := srv.Clients()
	ctx := t.Context()
	q, err := cl.SQS.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("guarded")})
	if err != nil {
		t.Fatal(err)
	}
	c := apiClient(srv)
	api, err := c.CreateApi(ctx, &apigatewayv2.CreateApiInput{Name: aws.String("g"), ProtocolType: apitypes.ProtocolTypeHttp})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateIntegration(ctx, &apigatewayv2.CreateIntegrationInput{ApiId: api.ApiId, IntegrationType: apitypes.IntegrationTypeAwsProxy,
		IntegrationSubtype: aws.String("SQS-SendMessage"), PayloadFormatVersion: aws.String("1.0"),
		RequestParameters: map[string]string{"QueueUrl": aws.ToString(q.QueueUrl), "MessageBody": "$request.body"}})
	wantGatewayError(t, err, "BadRequestException")

	lambdaOnly, err := createFunctionRole(ctx, cl, "gw-not-trusted", "arn:aws:iam::aws:policy/AmazonSQSFullAccess")
	if err != nil {
		t.Fatal(err)
	}
	base := sqsRoute(t, srv, lambdaOnly, map[string]string{"QueueUrl": aws.ToString(q.QueueUrl), "MessageBody": "$request.body"})
	if status, _, body := call(t, srv, http.MethodPost, base+"a", "", "hi", nil); status != http.StatusInternalServerError {
		t.Fatalf("role that does not trust API Gateway = %d %s", status, body)
	}
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"apigateway.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	role, err := cl.IAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("gw-sqs"), AssumeRolePolicyDocument: aws.String(trust)})
	if err != nil {
		t.Fatal(err)
	}
	base = sqsRoute(t, srv, aws.ToString(role.Role.Arn), map[string]string{"QueueUrl": aws.ToString(q.QueueUrl), "MessageBody": "$request.body"})
	if status, _, body := call(t, srv, http.MethodPost, base+"a", "", "hi", nil); status != http.StatusForbidden {
		t.Fatalf("role without sqs:SendMessage = %d %s", status, body)
	}
	allow := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sqs:SendMessage","Resource":"*"}]}`
	if _, err := cl.IAM.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("gw-sqs"), PolicyName: aws.String("send"),
		PolicyDocument: aws.String(allow)}); err != nil {
		t.Fatal(err)
	}
	if status, _, body := call(t, srv, http.MethodPost, base+"a", "", "hi", nil); status != http.StatusOK {
		t.Fatalf("role with sqs:SendMessage = %d %s", status, body)
	}
	got, err := cl.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, WaitTimeSeconds: 1})
	if err != nil || len(got.Messages) != 1 || aws.ToString(got.Messages[0].Body) != "hi" {
		t.Fatalf("ReceiveMessage = %+v, %v", got, err)
	}
}
