package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	apitypes "github.com/aws/aws-sdk-go-v2/service/apigatewayv2/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/gorilla/websocket"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// socketAuthorizer is a WebSocket API's Lambda REQUEST authorizer: its token (the token query
// string parameter) decides: "allow" gets a policy allowing the $connect route's ARN, "elsewhere"
// one allowing another stage's, anything else one denying it; "fail" makes it fail. Its context
// tells what the event held and a nonce that tells one call from another.
const socketAuthorizer = `import time
def handler(event, context):
    token = event["queryStringParameters"]["token"]
    if token == "fail":
        raise Exception("asked to fail")
    arn = event["methodArn"]
    if token == "elsewhere":
        arn = arn.replace("/prod/", "/test/")
    effect = "Allow" if token in ("allow", "elsewhere") else "Deny"
    return {"principalId": "user-" + token,
            "policyDocument": {"Version": "2012-10-17", "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": arn}]},
            "context": {"nonce": str(time.time_ns()), "type": event["type"], "methodArn": event["methodArn"],
                        "eventType": event["requestContext"]["eventType"], "tenant": event["headers"]["X-Tenant"], "level": 3}}
`

// TestAPIGatewayWebSocketLambdaAuthorizer protects a chat API's $connect route with a Lambda
// REQUEST authorizer: a missing identity source refuses the handshake with 401, a policy that
// does not allow the route with 403, a failing authorizer with 500; an allowed connection's
// events carry the authorizer's principalId and context, and its answer is cached by the
// identity source values for its TTL.
func TestAPIGatewayWebSocketLambdaAuthorizer(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{})
	cl := srv.Clients()
	ctx := t.Context()
	fn := chatFunction(t, cl, "authchat")
	api := webSocketAPI(t, srv, fn, "$connect", "$default")
	authFn := createTestFunction(t, cl.Lambda, "wsauth", kiritest.ZipSource(t, map[string]string{"app.py": socketAuthorizer}), func(in *lambda.CreateFunctionInput) {
		in.Runtime, in.Handler = types.RuntimePython312, aws.String("app.handler")
	})
	waitActive(t, cl.Lambda, "wsauth")
	// A warm authorizer: a cold Python start on a loaded machine can use up the 10 seconds an
	// authorizer has, which answers 500 where the test wants the policy's answer.
	if _, err := cl.Lambda.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("wsauth"),
		Payload: []byte(`{"queryStringParameters":{"token":"fail"}}`)}); err != nil {
		t.Fatal(err)
	}
	c := apiClient(srv)
	a, err := c.CreateAuthorizer(ctx, &apigatewayv2.CreateAuthorizerInput{ApiId: aws.String(api), Name: aws.String("tokens"),
		AuthorizerType: apitypes.AuthorizerTypeRequest, AuthorizerResultTtlInSeconds: aws.Int32(300),
		AuthorizerUri:  aws.String("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/" + aws.ToString(authFn.FunctionArn) + "/invocations"),
		IdentitySource: []string{"route.request.querystring.token", "route.request.header.X-Tenant"}})
	if err != nil {
		t.Fatal(err)
	}
	routes, err := c.GetRoutes(ctx, &apigatewayv2.GetRoutesInput{ApiId: aws.String(api)})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range routes.Items {
		if aws.ToString(r.RouteKey) == "$connect" {
			if _, err := c.UpdateRoute(ctx, &apigatewayv2.UpdateRouteInput{ApiId: aws.String(api), RouteId: r.RouteId,
				AuthorizationType: apitypes.AuthorizationTypeCustom, AuthorizerId: a.AuthorizerId}); err != nil {
				t.Fatal(err)
			}
		}
	}
	dial := func(query, tenant string) (*websocket.Conn, int) {
		t.Helper()
		u := "ws" + strings.TrimPrefix(srv.URL, "http") + "/_kiri/apis/" + api + "/prod?" + query
		h := http.Header{"User-Agent": {"chat-client/1.0"}}
		if tenant != "" {
			h.Set("X-Tenant", tenant)
		}
		ws, resp, err := websocket.DefaultDialer.DialContext(ctx, u, h)
		if err != nil {
			if resp == nil {
				t.Fatalf("dial %s: %v", query, err)
			}
			return nil, resp.StatusCode
		}
		t.Cleanup(func() { ws.Close() })
		return ws, http.StatusSwitchingProtocols
	}
	for query, want := range map[string]int{"token=allow": 401, "name=x": 401} {
		if _, status := dial(query, map[string]string{"token=allow": "", "name=x": "acme"}[query]); status != want {
			t.Errorf("handshake %s = %d, want %d", query, status, want)
		}
	}
	for token, want := range map[string]int{"deny": 403, "elsewhere": 403, "fail": 500} {
		if _, status := dial("token="+token, "acme"); status != want {
			t.Errorf("handshake with token %s = %d, want %d", token, status, want)
		}
	}
	ws, status := dial("token=allow", "acme")
	if status != http.StatusSwitchingProtocols {
		t.Fatalf("handshake with an allowed token = %d", status)
	}
	// The $default route's event, and the stored $connect one, carry the authorizer's answer.
	if err := ws.WriteMessage(websocket.TextMessage, []byte("who am I")); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Event struct {
			RequestContext struct {
				ConnectionID string         `json:"connectionId"`
				Authorizer   map[string]any `json:"authorizer"`
			} `json:"requestContext"`
		} `json:"event"`
	}
	if err := json.Unmarshal([]byte(readText(t, ws)), &got); err != nil {
		t.Fatal(err)
	}
	authz := got.Event.RequestContext.Authorizer
	connectARN := "arn:aws:execute-api:us-east-1:000000000000:" + api + "/prod/$connect"
	if authz["principalId"] != "user-allow" || authz["type"] != "REQUEST" || authz["methodArn"] != connectARN ||
		authz["eventType"] != "CONNECT" || authz["tenant"] != "acme" || authz["level"] != float64(3) {
		t.Errorf("$default's requestContext.authorizer = %v", authz)
	}
	connect := connectionItem(t, cl, "authchat", got.Event.RequestContext.ConnectionID)
	if ca := connect["requestContext"].(map[string]any)["authorizer"].(map[string]any); ca["nonce"] != authz["nonce"] || ca["principalId"] != "user-allow" {
		t.Errorf("$connect's requestContext.authorizer = %v", ca)
	}
	// The same identity source values within the TTL: the cached answer, the same nonce.
	ws2, status := dial("token=allow", "acme")
	if status != http.StatusSwitchingProtocols {
		t.Fatalf("second handshake = %d", status)
	}
	if err := ws2.WriteMessage(websocket.TextMessage, []byte("who am I")); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(readText(t, ws2)), &got); err != nil || got.Event.RequestContext.Authorizer["nonce"] != authz["nonce"] {
		t.Errorf("second connection's authorizer = %v, first's nonce %v", got.Event.RequestContext.Authorizer, authz["nonce"])
	}
}

// TestAPIGatewayWebSocketIAMConnect protects $connect with AWS_IAM, IAM enforced: the
// handshake needs an upgrade request signed, or presigned, for execute-api by a caller allowed
// execute-api:Invoke on the $connect route; the connection's events name the caller.
func TestAPIGatewayWebSocketIAMConnect(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{Strict: true})
	cl := srv.Clients()
	ctx := t.Context()
	role, err := createFunctionRole(ctx, cl, "ws-iam-fn")
	if err != nil {
		t.Fatal(err)
	}
	echo := "import json\ndef handler(event, context):\n    return {'statusCode': 200, 'body': json.dumps(event)}\n"
	out := createTestFunction(t, cl.Lambda, "ws-iam-fn", kiritest.ZipSource(t, map[string]string{"app.py": echo}), func(in *lambda.CreateFunctionInput) {
		in.Runtime, in.Handler, in.Role = types.RuntimePython312, aws.String("app.handler"), aws.String(role)
	})
	waitActive(t, cl.Lambda, "ws-iam-fn")
	api := webSocketAPI(t, srv, aws.ToString(out.FunctionArn), "$connect", "$default")
	if _, err := cl.Lambda.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: aws.String("ws-iam-fn"), StatementId: aws.String("gw"),
		Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("apigateway.amazonaws.com"),
		SourceArn: aws.String("arn:aws:execute-api:us-east-1:" + kiritest.TestAccount + ":" + api + "/*")}); err != nil {
		t.Fatal(err)
	}
	c := apiClient(srv)
	routes, err := c.GetRoutes(ctx, &apigatewayv2.GetRoutesInput{ApiId: aws.String(api)})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range routes.Items {
		if aws.ToString(r.RouteKey) == "$connect" {
			if _, err := c.UpdateRoute(ctx, &apigatewayv2.UpdateRouteInput{ApiId: aws.String(api), RouteId: r.RouteId,
				AuthorizationType: apitypes.AuthorizationTypeAwsIam}); err != nil {
				t.Fatal(err)
			}
		}
	}
	connectARN := "arn:aws:execute-api:us-east-1:" + kiritest.TestAccount + ":" + api + "/prod/$connect"
	creds := func(c *kiritest.Clients) aws.Credentials {
		v, err := c.Config.Credentials.Retrieve(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	member := creds(userWithKey(t, srv, cl, "ws-member", allowDoc(`"execute-api:Invoke"`, connectARN)))
	outsider := creds(userWithKey(t, srv, cl, "ws-outsider", ""))
	httpURL := srv.URL + "/_kiri/apis/" + api + "/prod"
	empty := sha256.Sum256(nil)
	// dial connects with an upgrade request signed by creds (nil: unsigned), in its headers or,
	// presigned, in its query string.
	dial := func(cr *aws.Credentials, presign bool) (*websocket.Conn, int) {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, httpURL, nil)
		u := httpURL
		if cr != nil && presign {
			signed, _, err := v4.NewSigner().PresignHTTP(ctx, *cr, req, hex.EncodeToString(empty[:]), "execute-api", kiritest.Region, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			u = signed
		} else if cr != nil {
			if err := v4.NewSigner().SignHTTP(ctx, *cr, req, hex.EncodeToString(empty[:]), "execute-api", kiritest.Region, time.Now()); err != nil {
				t.Fatal(err)
			}
		}
		h := http.Header{}
		for _, k := range []string{"Authorization", "X-Amz-Date", "X-Amz-Security-Token"} {
			if v := req.Header.Get(k); v != "" && !presign {
				h.Set(k, v)
			}
		}
		ws, resp, err := websocket.DefaultDialer.DialContext(ctx, "ws"+strings.TrimPrefix(u, "http"), h)
		if err != nil {
			if resp == nil {
				t.Fatalf("dial: %v", err)
			}
			return nil, resp.StatusCode
		}
		t.Cleanup(func() { ws.Close() })
		return ws, http.StatusSwitchingProtocols
	}
	if _, status := dial(nil, false); status != http.StatusForbidden {
		t.Errorf("unsigned handshake = %d", status)
	}
	if _, status := dial(&outsider, false); status != http.StatusForbidden {
		t.Errorf("handshake signed by a user without execute-api:Invoke = %d", status)
	}
	for _, presign := range []bool{false, true} {
		ws, status := dial(&member, presign)
		if status != http.StatusSwitchingProtocols {
			t.Fatalf("handshake signed by the member (presigned %v) = %d", presign, status)
		}
		if err := ws.WriteMessage(websocket.TextMessage, []byte("who am I")); err != nil {
			t.Fatal(err)
		}
		var got struct {
			RequestContext struct {
				Identity map[string]any `json:"identity"`
			} `json:"requestContext"`
		}
		if err := json.Unmarshal([]byte(readText(t, ws)), &got); err != nil {
			t.Fatal(err)
		}
		if id := got.RequestContext.Identity; id["userArn"] != "arn:aws:iam::"+kiritest.TestAccount+":user/ws-member" || id["accessKey"] != member.AccessKeyID {
			t.Errorf("identity of the member's connection (presigned %v) = %v", presign, id)
		}
	}
}
