package e2e

import (
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	apitypes "github.com/aws/aws-sdk-go-v2/service/apigatewayv2/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/gorilla/websocket"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// chatHandler is the seeds' chat function: $connect stores the connection id (and its event)
// in a table, refusing the name "mallory" with 403; sendmessage posts the message to every
// stored connection with the SDK's apigatewaymanagementapi client, which reaches Kiri through
// AWS_ENDPOINT_URL; $disconnect records how the connection closed; any other route answers the
// event it got, for two-way routes to send back.
const chatHandler = `import json, os
import boto3

ddb = boto3.client("dynamodb")
gw = boto3.client("apigatewaymanagementapi")
TABLE = os.environ["TABLE"]

def handler(event, context):
    ctx = event["requestContext"]
    cid, route = ctx["connectionId"], ctx["routeKey"]
    if route == "$connect":
        if (event.get("queryStringParameters") or {}).get("name") == "mallory":
            return {"statusCode": 403, "body": "go away"}
        ddb.put_item(TableName=TABLE, Item={"id": {"S": cid}, "kind": {"S": "conn"}, "event": {"S": json.dumps(event)}})
        return {"statusCode": 200}
    if route == "$disconnect":
        ddb.put_item(TableName=TABLE, Item={"id": {"S": "gone:" + cid}, "event": {"S": json.dumps(event)}})
        ddb.delete_item(TableName=TABLE, Key={"id": {"S": cid}})
        return {"statusCode": 200}
    if route == "sendmessage":
        data = json.loads(event["body"])["data"]
        for item in ddb.scan(TableName=TABLE)["Items"]:
            if item.get("kind", {}).get("S") == "conn":
                gw.post_to_connection(ConnectionId=item["id"]["S"], Data=data.encode())
        return {"statusCode": 200}
    return {"statusCode": 200, "body": json.dumps({"route": route, "event": event})}
`

// webSocketAPI creates a WebSocket API routing on $request.body.action to fn, with the given
// route keys (the $default one two-way), on an auto-deployed stage "prod"; it returns the API
// id.
func webSocketAPI(t *testing.T, srv *kiritest.Server, fn string, keys ...string) string {
	t.Helper()
	c := apiClient(srv)
	ctx := t.Context()
	api, err := c.CreateApi(ctx, &apigatewayv2.CreateApiInput{Name: aws.String("chat"), ProtocolType: apitypes.ProtocolTypeWebsocket,
		RouteSelectionExpression: aws.String("$request.body.action")})
	if err != nil {
		t.Fatal(err)
	}
	integ, err := c.CreateIntegration(ctx, &apigatewayv2.CreateIntegrationInput{ApiId: api.ApiId, IntegrationType: apitypes.IntegrationTypeAwsProxy,
		IntegrationUri: aws.String(fn)})
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range keys {
		in := &apigatewayv2.CreateRouteInput{ApiId: api.ApiId, RouteKey: aws.String(key), Target: aws.String("integrations/" + aws.ToString(integ.IntegrationId))}
		if key == "$default" {
			in.RouteResponseSelectionExpression = aws.String("$default")
		}
		route, err := c.CreateRoute(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if key == "$default" {
			if _, err := c.CreateRouteResponse(ctx, &apigatewayv2.CreateRouteResponseInput{ApiId: api.ApiId, RouteId: route.RouteId,
				RouteResponseKey: aws.String("$default")}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := c.CreateStage(ctx, &apigatewayv2.CreateStageInput{ApiId: api.ApiId, StageName: aws.String("prod"), AutoDeploy: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	return aws.ToString(api.ApiId)
}

// chatFunction creates the chat function and its table, and returns the function's ARN.
func chatFunction(t *testing.T, cl *kiritest.Clients, name string) string {
	t.Helper()
	if _, err := cl.DynamoDB.CreateTable(t.Context(), &dynamodb.CreateTableInput{TableName: aws.String(name),
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: ddbtypes.KeyTypeHash}},
		BillingMode:          ddbtypes.BillingModePayPerRequest}); err != nil {
		t.Fatal(err)
	}
	out := createTestFunction(t, cl.Lambda, name, kiritest.ZipSource(t, map[string]string{"app.py": chatHandler}), func(in *lambda.CreateFunctionInput) {
		in.Runtime, in.Handler = types.RuntimePython312, aws.String("app.handler")
		in.Timeout = aws.Int32(20)
		in.Environment = &types.Environment{Variables: map[string]string{"TABLE": name}}
	})
	waitActive(t, cl.Lambda, name)
	return aws.ToString(out.FunctionArn)
}

// dialSocket connects to a WebSocket API's stage through the path form of its invoke URL.
func dialSocket(t *testing.T, srv *kiritest.Server, apiID, stage, query string) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	u := "ws" + strings.TrimPrefix(srv.URL, "http") + "/_kiri/apis/" + apiID + "/" + stage
	if query != "" {
		u += "?" + query
	}
	ws, resp, err := websocket.DefaultDialer.DialContext(t.Context(), u, http.Header{"User-Agent": {"chat-client/1.0"}})
	if err == nil {
		t.Cleanup(func() { ws.Close() })
	}
	return ws, resp, err
}

// readText reads the next message within 20 seconds.
func readText(t *testing.T, ws *websocket.Conn) string {
	t.Helper()
	ws.SetReadDeadline(time.Now().Add(20 * time.Second))
	_, b, err := ws.ReadMessage()
	if err != nil {
		t.Fatalf("read message: %v", err)
	}
	return string(b)
}

// connectionItem waits for the table item id and returns its stored event.
func connectionItem(t *testing.T, cl *kiritest.Clients, table, id string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		out, err := cl.DynamoDB.GetItem(t.Context(), &dynamodb.GetItemInput{TableName: aws.String(table),
			Key: map[string]ddbtypes.AttributeValue{"id": &ddbtypes.AttributeValueMemberS{Value: id}}})
		if err != nil {
			t.Fatal(err)
		}
		if ev, ok := out.Item["event"].(*ddbtypes.AttributeValueMemberS); ok {
			var m map[string]any
			if err := json.Unmarshal([]byte(ev.Value), &m); err != nil {
				t.Fatal(err)
			}
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("no item %s in %s", id, table)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// managementScript calls the @connections API with boto3's apigatewaymanagementapi client:
// argv op, connection id, endpoint URL ("" for AWS_ENDPOINT_URL's), data.
const managementScript = `import json, sys
import boto3
from botocore.exceptions import ClientError
op, cid, endpoint = sys.argv[1], sys.argv[2], sys.argv[3]
c = boto3.client("apigatewaymanagementapi", **({"endpoint_url": endpoint} if endpoint else {}))
try:
    if op == "post":
        c.post_to_connection(ConnectionId=cid, Data=sys.argv[4].encode())
        print(json.dumps({}))
    elif op == "get":
        r = c.get_connection(ConnectionId=cid)
        print(json.dumps({"connectedAt": r["ConnectedAt"].isoformat(), "lastActiveAt": r["LastActiveAt"].isoformat(), "identity": r["Identity"]}))
    elif op == "delete":
        c.delete_connection(ConnectionId=cid)
        print(json.dumps({}))
except ClientError as e:
    print(json.dumps({"error": e.response["Error"]["Code"], "status": e.response["ResponseMetadata"]["HTTPStatusCode"]}))
`

// manage runs managementScript with the default python3's boto3 against srv.
func manage(t *testing.T, srv *kiritest.Server, args ...string) map[string]any {
	t.Helper()
	python, err := exec.LookPath("python3")
	if err != nil || exec.Command(python, "-c", "import boto3").Run() != nil {
		t.Skip("no python3 with boto3")
	}
	cmd := exec.CommandContext(t.Context(), python, append([]string{"-c", managementScript}, args...)...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "AWS_ENDPOINT_URL="+srv.URL, "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE",
		"AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "AWS_DEFAULT_REGION="+kiritest.Region, "AWS_CONFIG_FILE=/dev/null")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("boto3 %v: %v\n%s", args, err, out)
	}
	var m map[string]any
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatalf("boto3 %v: %s", args, out)
	}
	return m
}

// The seeds' chat: two clients connect, one sends {"action":"sendmessage"}, the function posts
// the message to each stored connection with the SDK, and both receive it. The @connections
// API reports a connection, closes it (the function's $disconnect runs) and answers
// GoneException (410) for it after, at the plain endpoint and under the stage's URL.
func TestAPIGatewayWebSocketChat(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{})
	cl := srv.Clients()
	fn := chatFunction(t, cl, "chat")
	api := webSocketAPI(t, srv, fn, "$connect", "$disconnect", "sendmessage")

	alice, _, err := dialSocket(t, srv, api, "prod", "name=alice")
	if err != nil {
		t.Fatal(err)
	}
	bob, _, err := dialSocket(t, srv, api, "prod", "name=bob")
	if err != nil {
		t.Fatal(err)
	}
	if err := alice.WriteMessage(websocket.TextMessage, []byte(`{"action":"sendmessage","data":"hello, all"}`)); err != nil {
		t.Fatal(err)
	}
	if got := readText(t, alice); got != "hello, all" {
		t.Errorf("alice got %q", got)
	}
	if got := readText(t, bob); got != "hello, all" {
		t.Errorf("bob got %q", got)
	}

	// Bob's connection id, from the table the function keeps.
	items, err := cl.DynamoDB.Scan(t.Context(), &dynamodb.ScanInput{TableName: aws.String("chat")})
	if err != nil {
		t.Fatal(err)
	}
	var bobID string
	for _, it := range items.Items {
		ev := it["event"].(*ddbtypes.AttributeValueMemberS).Value
		if strings.Contains(ev, `"name": "bob"`) {
			bobID = it["id"].(*ddbtypes.AttributeValueMemberS).Value
		}
	}
	if bobID == "" {
		t.Fatalf("no connection of bob's in %+v", items.Items)
	}
	connect := connectionItem(t, cl, "chat", bobID)
	rc := connect["requestContext"].(map[string]any)
	if rc["eventType"] != "CONNECT" || rc["routeKey"] != "$connect" || rc["connectionId"] != bobID || rc["stage"] != "prod" ||
		rc["apiId"] != api || rc["messageDirection"] != "IN" || rc["connectedAt"] == nil || rc["requestTimeEpoch"] == nil ||
		rc["domainName"] == "" || rc["identity"].(map[string]any)["userAgent"] != "chat-client/1.0" ||
		connect["queryStringParameters"].(map[string]any)["name"] != "bob" || connect["isBase64Encoded"] != false {
		t.Errorf("$connect event = %v", connect)
	}

	got := manage(t, srv, "get", bobID, "")
	if got["error"] != nil || got["identity"].(map[string]any)["UserAgent"] != "chat-client/1.0" ||
		got["identity"].(map[string]any)["SourceIp"] != "127.0.0.1" || got["connectedAt"] == "" {
		t.Fatalf("GetConnection = %v", got)
	}
	// PostToConnection under the stage's URL (the path form of http://{domainName}/{stage}).
	if got := manage(t, srv, "post", bobID, srv.URL+"/_kiri/apis/"+api+"/prod", "direct"); got["error"] != nil {
		t.Fatalf("PostToConnection at the stage = %v", got)
	}
	if got := readText(t, bob); got != "direct" {
		t.Errorf("bob got %q", got)
	}
	if got := manage(t, srv, "delete", bobID, ""); got["error"] != nil {
		t.Fatalf("DeleteConnection = %v", got)
	}
	bob.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, _, err := bob.ReadMessage(); !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
		t.Errorf("bob's read after DeleteConnection = %v", err)
	}
	gone := connectionItem(t, cl, "chat", "gone:"+bobID)
	if rc := gone["requestContext"].(map[string]any); rc["eventType"] != "DISCONNECT" || rc["routeKey"] != "$disconnect" || rc["disconnectStatusCode"] != float64(1000) {
		t.Errorf("$disconnect event = %v", gone)
	}
	for _, op := range []string{"get", "delete"} {
		if got := manage(t, srv, op, bobID, ""); got["error"] != "GoneException" || got["status"] != float64(410) {
			t.Errorf("%s after close = %v", op, got)
		}
	}
	if got := manage(t, srv, "post", "NoSuchConnect1=", "", "x"); got["error"] != "GoneException" {
		t.Errorf("post to an unknown connection = %v", got)
	}

	// Alice closes: her $disconnect runs with her close code.
	aliceID := ""
	items, _ = cl.DynamoDB.Scan(t.Context(), &dynamodb.ScanInput{TableName: aws.String("chat")})
	for _, it := range items.Items {
		if k, ok := it["kind"].(*ddbtypes.AttributeValueMemberS); ok && k.Value == "conn" {
			aliceID = it["id"].(*ddbtypes.AttributeValueMemberS).Value
		}
	}
	alice.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(4001, "bye"), time.Now().Add(time.Second))
	gone = connectionItem(t, cl, "chat", "gone:"+aliceID)
	if rc := gone["requestContext"].(map[string]any); rc["disconnectStatusCode"] != float64(4001) || rc["disconnectReason"] != "bye" {
		t.Errorf("alice's $disconnect event = %v", gone)
	}
}

// $connect refuses a connection with its function's status; messages are routed by the
// selection expression, to $default when the body is not JSON or selects no route, and a
// two-way route sends the function's body back; without $default API Gateway answers its
// Forbidden message; a message over 128 KB closes the connection with 1009.
func TestAPIGatewayWebSocketRoutes(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{})
	cl := srv.Clients()
	fn := chatFunction(t, cl, "routes")
	api := webSocketAPI(t, srv, fn, "$connect", "$default", "echo")

	_, resp, err := dialSocket(t, srv, api, "prod", "name=mallory")
	if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("$connect refusal = %v, %+v", err, resp)
	}
	if _, resp, err := dialSocket(t, srv, api, "nostage", ""); err == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("unknown stage = %v, %+v", err, resp)
	}

	ws, _, err := dialSocket(t, srv, api, "prod", "")
	if err != nil {
		t.Fatal(err)
	}
	answer := func(msg string) map[string]any {
		t.Helper()
		if err := ws.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(readText(t, ws)), &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	for msg, route := range map[string]string{
		`{"action":"nothing"}`: "$default",
		`not json`:             "$default",
		`{"other":1}`:          "$default",
	} {
		got := answer(msg)
		ev := got["event"].(map[string]any)
		rc := ev["requestContext"].(map[string]any)
		if got["route"] != route || ev["body"] != msg || rc["eventType"] != "MESSAGE" || rc["messageId"] == nil || rc["routeKey"] != route {
			t.Errorf("%s: answer = %v", msg, got)
		}
	}
	// The echo route has no route response: its function's answer is not sent.
	if err := ws.WriteMessage(websocket.TextMessage, []byte(`{"action":"echo"}`)); err != nil {
		t.Fatal(err)
	}
	if got := answer(`{"action":"again"}`); got["route"] != "$default" {
		t.Errorf("after the one-way route = %v", got)
	}
	// Pings are answered.
	pong := make(chan string, 1)
	ws.SetPongHandler(func(s string) error { pong <- s; return nil })
	ws.WriteControl(websocket.PingMessage, []byte("hi"), time.Now().Add(time.Second))
	answer(`{"action":"x"}`) // reading runs the pong handler
	if got := <-pong; got != "hi" {
		t.Errorf("pong = %q", got)
	}

	big := `{"action":"echo","data":"` + strings.Repeat("x", 128<<10) + `"}`
	if err := ws.WriteMessage(websocket.TextMessage, []byte(big)); err != nil {
		t.Fatal(err)
	}
	ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, _, err = ws.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.CloseMessageTooBig || ce.Text != "Message too big" {
		t.Errorf("message over 128 KB = %v", err)
	}

	// Without $default, a message that selects no route gets API Gateway's Forbidden.
	oneRoute := webSocketAPI(t, srv, fn, "echo")
	ws2, _, err := dialSocket(t, srv, oneRoute, "prod", "")
	if err != nil {
		t.Fatal(err)
	}
	ws2.WriteMessage(websocket.TextMessage, []byte(`{"action":"unknown"}`))
	var forbidden map[string]string
	if err := json.Unmarshal([]byte(readText(t, ws2)), &forbidden); err != nil || forbidden["message"] != "Forbidden" ||
		forbidden["connectionId"] == "" || forbidden["requestId"] == "" {
		t.Errorf("no route = %v, %v", forbidden, err)
	}
}

// CreateApi and the routes, route responses and integrations of WebSocket APIs are checked as
// API Gateway checks them; what Kiri does not build is refused.
func TestAPIGatewayWebSocketControlPlane(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{})
	c := apiClient(srv)
	ctx := t.Context()
	for _, expr := range []*string{nil, aws.String("$request.method $request.path"), aws.String("action"), aws.String("$request.header.x")} {
		_, err := c.CreateApi(ctx, &apigatewayv2.CreateApiInput{Name: aws.String("ws"), ProtocolType: apitypes.ProtocolTypeWebsocket, RouteSelectionExpression: expr})
		wantGatewayError(t, err, "BadRequestException")
	}
	api, err := c.CreateApi(ctx, &apigatewayv2.CreateApiInput{Name: aws.String("ws"), ProtocolType: apitypes.ProtocolTypeWebsocket,
		RouteSelectionExpression: aws.String("${request.body.service}/${request.body.action}")})
	if err != nil || !strings.HasPrefix(aws.ToString(api.ApiEndpoint), "ws://") || api.ProtocolType != apitypes.ProtocolTypeWebsocket {
		t.Fatalf("CreateApi = %+v, %v", api, err)
	}
	if _, err := c.UpdateApi(ctx, &apigatewayv2.UpdateApiInput{ApiId: api.ApiId, RouteSelectionExpression: aws.String("$request.body.kind")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.UpdateApi(ctx, &apigatewayv2.UpdateApiInput{ApiId: api.ApiId, RouteSelectionExpression: aws.String("$request.path")})
	wantGatewayError(t, err, "BadRequestException")

	fn := "arn:aws:lambda:us-east-1:000000000000:function:f"
	_, err = c.CreateIntegration(ctx, &apigatewayv2.CreateIntegrationInput{ApiId: api.ApiId, IntegrationType: apitypes.IntegrationTypeHttpProxy,
		IntegrationUri: aws.String("http://example.com"), IntegrationMethod: aws.String("GET")})
	wantGatewayError(t, err, "BadRequestException")
	_, err = c.CreateIntegration(ctx, &apigatewayv2.CreateIntegrationInput{ApiId: api.ApiId, IntegrationType: apitypes.IntegrationTypeAwsProxy,
		IntegrationUri: aws.String(fn), PayloadFormatVersion: aws.String("2.0")})
	wantGatewayError(t, err, "BadRequestException")
	_, err = c.CreateIntegration(ctx, &apigatewayv2.CreateIntegrationInput{ApiId: api.ApiId, IntegrationType: apitypes.IntegrationTypeAwsProxy,
		IntegrationUri: aws.String(fn), TemplateSelectionExpression: aws.String("\\$default")})
	wantGatewayError(t, err, "BadRequestException")
	integ, err := c.CreateIntegration(ctx, &apigatewayv2.CreateIntegrationInput{ApiId: api.ApiId, IntegrationType: apitypes.IntegrationTypeAwsProxy, IntegrationUri: aws.String(fn)})
	if err != nil || aws.ToInt32(integ.TimeoutInMillis) != 29000 {
		t.Fatalf("CreateIntegration = %+v, %v", integ, err)
	}
	target := aws.String("integrations/" + aws.ToString(integ.IntegrationId))
	for _, key := range []string{"$connect", "$disconnect", "$default", "sendmessage", "GET /pets"} {
		if _, err := c.CreateRoute(ctx, &apigatewayv2.CreateRouteInput{ApiId: api.ApiId, RouteKey: aws.String(key), Target: target}); err != nil {
			t.Fatalf("CreateRoute %s: %v", key, err)
		}
	}
	_, err = c.CreateRoute(ctx, &apigatewayv2.CreateRouteInput{ApiId: api.ApiId, RouteKey: aws.String("$other"), Target: target})
	wantGatewayError(t, err, "BadRequestException")
	_, err = c.CreateRoute(ctx, &apigatewayv2.CreateRouteInput{ApiId: api.ApiId, RouteKey: aws.String("x"), RouteResponseSelectionExpression: aws.String("$response.body")})
	wantGatewayError(t, err, "BadRequestException")
	route, err := c.CreateRoute(ctx, &apigatewayv2.CreateRouteInput{ApiId: api.ApiId, RouteKey: aws.String("ask"), Target: target,
		RouteResponseSelectionExpression: aws.String("$default")})
	if err != nil || aws.ToString(route.RouteResponseSelectionExpression) != "$default" {
		t.Fatalf("CreateRoute = %+v, %v", route, err)
	}
	_, err = c.CreateRouteResponse(ctx, &apigatewayv2.CreateRouteResponseInput{ApiId: api.ApiId, RouteId: route.RouteId, RouteResponseKey: aws.String("$error")})
	wantGatewayError(t, err, "BadRequestException")
	rr, err := c.CreateRouteResponse(ctx, &apigatewayv2.CreateRouteResponseInput{ApiId: api.ApiId, RouteId: route.RouteId, RouteResponseKey: aws.String("$default")})
	if err != nil || aws.ToString(rr.RouteResponseKey) != "$default" || rr.RouteResponseId == nil {
		t.Fatalf("CreateRouteResponse = %+v, %v", rr, err)
	}
	_, err = c.CreateRouteResponse(ctx, &apigatewayv2.CreateRouteResponseInput{ApiId: api.ApiId, RouteId: route.RouteId, RouteResponseKey: aws.String("$default")})
	wantGatewayError(t, err, "ConflictException")
	got, err := c.GetRouteResponse(ctx, &apigatewayv2.GetRouteResponseInput{ApiId: api.ApiId, RouteId: route.RouteId, RouteResponseId: rr.RouteResponseId})
	if err != nil || aws.ToString(got.RouteResponseKey) != "$default" {
		t.Fatalf("GetRouteResponse = %+v, %v", got, err)
	}
	list, err := c.GetRouteResponses(ctx, &apigatewayv2.GetRouteResponsesInput{ApiId: api.ApiId, RouteId: route.RouteId})
	if err != nil || len(list.Items) != 1 {
		t.Fatalf("GetRouteResponses = %+v, %v", list, err)
	}
	if _, err := c.DeleteRouteResponse(ctx, &apigatewayv2.DeleteRouteResponseInput{ApiId: api.ApiId, RouteId: route.RouteId, RouteResponseId: rr.RouteResponseId}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetRouteResponse(ctx, &apigatewayv2.GetRouteResponseInput{ApiId: api.ApiId, RouteId: route.RouteId, RouteResponseId: rr.RouteResponseId})
	wantGatewayError(t, err, "NotFoundException")

	// HTTP APIs have no route responses.
	httpAPI, err := c.CreateApi(ctx, &apigatewayv2.CreateApiInput{Name: aws.String("h"), ProtocolType: apitypes.ProtocolTypeHttp})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateRoute(ctx, &apigatewayv2.CreateRouteInput{ApiId: httpAPI.ApiId, RouteKey: aws.String("GET /x"), RouteResponseSelectionExpression: aws.String("$default")})
	wantGatewayError(t, err, "BadRequestException")
}
