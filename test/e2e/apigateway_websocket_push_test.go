package e2e

import (
	"bytes"
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
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	apitypes "github.com/aws/aws-sdk-go-v2/service/apigatewayv2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/gorilla/websocket"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// answerHandler is the seeds' generative-AI worker: for each SQS record {"connectionId",
// "question"} it pushes its answer to the asker's WebSocket with the SDK.
const answerHandler = `import json
import boto3

gw = boto3.client("apigatewaymanagementapi")

def handler(event, context):
    for r in event["Records"]:
        job = json.loads(r["body"])
        gw.post_to_connection(ConnectionId=job["connectionId"], Data=json.dumps({"answer": job["question"].upper()}).encode())
`

// myConnectionID asks the chat function's two-way $default route for the event of a message,
// which names the connection.
func myConnectionID(t *testing.T, ws *websocket.Conn) string {
	t.Helper()
	if err := ws.WriteMessage(websocket.TextMessage, []byte("who am I")); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Event struct {
			RequestContext struct {
				ConnectionID string `json:"connectionId"`
			} `json:"requestContext"`
		} `json:"event"`
	}
	if err := json.Unmarshal([]byte(readText(t, ws)), &got); err != nil || got.Event.RequestContext.ConnectionID == "" {
		t.Fatalf("whoami = %+v, %v", got, err)
	}
	return got.Event.RequestContext.ConnectionID
}

// The seeds' generative-AI front: the client holds a WebSocket, POSTs its question to an HTTP
// API whose SQS-SendMessage integration queues it, a function consuming the queue answers,
// and the answer is pushed to the client's WebSocket.
func TestAPIGatewayWebSocketGenerativeAIFront(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{})
	cl := srv.Clients()
	ctx := t.Context()
	ws, _, err := dialSocket(t, srv, webSocketAPI(t, srv, chatFunction(t, cl, "front"), "$default"), "prod", "")
	if err != nil {
		t.Fatal(err)
	}
	connID := myConnectionID(t, ws)

	q, err := cl.SQS.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("questions")})
	if err != nil {
		t.Fatal(err)
	}
	createTestFunction(t, cl.Lambda, "answer", kiritest.ZipSource(t, map[string]string{"app.py": answerHandler}), func(in *lambda.CreateFunctionInput) {
		in.Runtime, in.Handler, in.Timeout = types.RuntimePython312, aws.String("app.handler"), aws.Int32(20)
	})
	waitActive(t, cl.Lambda, "answer")
	if _, err := cl.Lambda.CreateEventSourceMapping(ctx, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String("answer"),
		EventSourceArn: aws.String(queueARN("questions")), BatchSize: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	base := sqsRoute(t, srv, "", map[string]string{"QueueUrl": aws.ToString(q.QueueUrl), "MessageBody": "$request.body"})
	question, _ := json.Marshal(map[string]string{"connectionId": connID, "question": "what is kiri?"})
	if status, _, body := call(t, srv, http.MethodPost, base+"ask", "", string(question), nil); status != http.StatusOK {
		t.Fatalf("ask = %d %s", status, body)
	}
	if got := readText(t, ws); got != `{"answer": "WHAT IS KIRI?"}` {
		t.Errorf("pushed answer = %s", got)
	}
}

// signedConnectionsCall sends an @connections call signed for execute-api, to path on srv with
// host as its Host, and returns the status and body.
func signedConnectionsCall(t *testing.T, srv *kiritest.Server, method, host, path string, body []byte) (int, string) {
	t.Helper()
	return signedConnectionsCallAs(t, srv, srv.Clients().Config.Credentials, method, host, path, body)
}

// signedConnectionsCallAs is signedConnectionsCall signed with creds.
func signedConnectionsCallAs(t *testing.T, srv *kiritest.Server, cp aws.CredentialsProvider, method, host, path string, body []byte) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, srv.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	creds, err := cp.Retrieve(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(t.Context(), creds, req, hex.EncodeToString(sum[:]), "execute-api", kiritest.Region, time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// The @connections API answers under the host form of a stage's URL
// (http://{api-id}.execute-api.localhost/{stage}/@connections/{id}) as at the plain endpoint,
// and refuses a message over 128 KB with PayloadTooLargeException (413).
func TestAPIGatewayWebSocketConnectionsAtTheStage(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{})
	cl := srv.Clients()
	api := webSocketAPI(t, srv, chatFunction(t, cl, "stage"), "$default")
	ws, _, err := dialSocket(t, srv, api, "prod", "")
	if err != nil {
		t.Fatal(err)
	}
	id := myConnectionID(t, ws)
	host := api + ".execute-api.localhost"
	if status, body := signedConnectionsCall(t, srv, http.MethodPost, host, "/prod/@connections/"+id, []byte("at the stage")); status != http.StatusOK {
		t.Fatalf("PostToConnection at the stage = %d %s", status, body)
	}
	if got := readText(t, ws); got != "at the stage" {
		t.Errorf("got %q", got)
	}
	status, body := signedConnectionsCall(t, srv, http.MethodGet, host, "/prod/@connections/"+id, nil)
	var conn struct {
		ConnectedAt, LastActiveAt string
		Identity                  struct{ SourceIp, UserAgent string }
	}
	if status != http.StatusOK || json.Unmarshal([]byte(body), &conn) != nil || conn.Identity.UserAgent != "chat-client/1.0" || conn.ConnectedAt == "" {
		t.Fatalf("GetConnection at the stage = %d %s", status, body)
	}
	status, body = signedConnectionsCall(t, srv, http.MethodPost, "", "/@connections/"+id, bytes.Repeat([]byte("x"), 128<<10+1))
	if status != http.StatusRequestEntityTooLarge || !strings.Contains(body, "PayloadTooLargeException") && !strings.Contains(body, "Message too long") {
		t.Fatalf("PostToConnection over 128 KB = %d %s", status, body)
	}
	if status, body := signedConnectionsCall(t, srv, http.MethodPost, "", "/@connections/"+id, bytes.Repeat([]byte("y"), 128<<10)); status != http.StatusOK {
		t.Fatalf("PostToConnection of 128 KB = %d %s", status, body)
	}
	if got := readText(t, ws); len(got) != 128<<10 {
		t.Errorf("got %d bytes", len(got))
	}
	if status, body := signedConnectionsCall(t, srv, http.MethodDelete, host, "/prod/@connections/"+id, nil); status != http.StatusNoContent {
		t.Fatalf("DeleteConnection at the stage = %d %s", status, body)
	}
	if status, body := signedConnectionsCall(t, srv, http.MethodGet, host, "/prod/@connections/"+id, nil); status != http.StatusGone {
		t.Fatalf("GetConnection after delete = %d %s", status, body)
	}
}

// With IAM enforced, API Gateway runs a WebSocket route's function only when the function's
// resource policy allows apigateway.amazonaws.com for the API (without it $connect fails), and
// @connections calls need execute-api:ManageConnections for their method.
func TestAPIGatewayWebSocketIAM(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{Strict: true})
	cl := srv.Clients()
	ctx := t.Context()
	role, err := createFunctionRole(ctx, cl, "ws-fn")
	if err != nil {
		t.Fatal(err)
	}
	out := createTestFunction(t, cl.Lambda, "ws-fn", kiritest.ZipSource(t, map[string]string{"app.py": "def handler(event, context):\n    return {'statusCode': 200}\n"}),
		func(in *lambda.CreateFunctionInput) {
			in.Runtime, in.Handler, in.Role = types.RuntimePython312, aws.String("app.handler"), aws.String(role)
		})
	waitActive(t, cl.Lambda, "ws-fn")
	c := apiClient(srv)
	api, err := c.CreateApi(ctx, &apigatewayv2.CreateApiInput{Name: aws.String("g"), ProtocolType: apitypes.ProtocolTypeWebsocket,
		RouteSelectionExpression: aws.String("$request.body.action")})
	if err != nil {
		t.Fatal(err)
	}
	integ, err := c.CreateIntegration(ctx, &apigatewayv2.CreateIntegrationInput{ApiId: api.ApiId, IntegrationType: apitypes.IntegrationTypeAwsProxy,
		IntegrationUri: out.FunctionArn})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateRoute(ctx, &apigatewayv2.CreateRouteInput{ApiId: api.ApiId, RouteKey: aws.String("$connect"),
		Target: aws.String("integrations/" + aws.ToString(integ.IntegrationId))}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateStage(ctx, &apigatewayv2.CreateStageInput{ApiId: api.ApiId, StageName: aws.String("prod"), AutoDeploy: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	if _, resp, err := dialSocket(t, srv, aws.ToString(api.ApiId), "prod", ""); err == nil || resp == nil || resp.StatusCode != http.StatusInternalServerError {
		t.Fatalf("connect without permission = %v, %+v", err, resp)
	}
	if _, err := cl.Lambda.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: aws.String("ws-fn"), StatementId: aws.String("gw"),
		Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("apigateway.amazonaws.com"),
		SourceArn: aws.String("arn:aws:execute-api:us-east-1:" + kiritest.TestAccount + ":" + aws.ToString(api.ApiId) + "/*")}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := dialSocket(t, srv, aws.ToString(api.ApiId), "prod", ""); err != nil {
		t.Fatalf("connect with permission: %v", err)
	}

	// @connections calls need execute-api:ManageConnections: without it, ForbiddenException;
	// with it, the call runs (and an unknown connection is gone).
	if _, err := cl.IAM.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("pusher")}); err != nil {
		t.Fatal(err)
	}
	k, err := cl.IAM.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("pusher")})
	if err != nil {
		t.Fatal(err)
	}
	pusher := credentials.NewStaticCredentialsProvider(aws.ToString(k.AccessKey.AccessKeyId), aws.ToString(k.AccessKey.SecretAccessKey), "")
	if status, body := signedConnectionsCallAs(t, srv, pusher, http.MethodPost, "", "/@connections/NoSuchConnect1=", []byte("x")); status != http.StatusForbidden ||
		!strings.Contains(body, "ForbiddenException") && !strings.Contains(body, "execute-api:ManageConnections") {
		t.Fatalf("PostToConnection without ManageConnections = %d %s", status, body)
	}
	allow := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"execute-api:ManageConnections","Resource":"arn:aws:execute-api:*:*:*/*/POST/@connections/*"}]}`
	if _, err := cl.IAM.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("pusher"), PolicyName: aws.String("push"), PolicyDocument: aws.String(allow)}); err != nil {
		t.Fatal(err)
	}
	if status, body := signedConnectionsCallAs(t, srv, pusher, http.MethodPost, "", "/@connections/NoSuchConnect1=", []byte("x")); status != http.StatusGone {
		t.Fatalf("PostToConnection with ManageConnections = %d %s", status, body)
	}
	if status, body := signedConnectionsCallAs(t, srv, pusher, http.MethodDelete, "", "/@connections/NoSuchConnect1=", nil); status != http.StatusForbidden {
		t.Fatalf("DeleteConnection with only POST allowed = %d %s", status, body)
	}
}
