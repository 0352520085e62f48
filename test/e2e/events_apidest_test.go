package e2e

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/kiri-run/kiri/internal/iam/authz"
	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// endpointCall is one request an endpoint received.
type endpointCall struct {
	Method, Path string
	Query        map[string][]string
	Header       http.Header
	Body         string
	At           time.Time
}

// endpoint is a local HTTP endpoint that records the requests it gets and answers them with
// the status its answer function picks (200 with "{}" by default).
type endpoint struct {
	*httptest.Server
	mu     sync.Mutex
	calls  []endpointCall
	answer func(c endpointCall, n int) (int, string)
}

func newEndpoint(t *testing.T, answer func(c endpointCall, n int) (int, string)) *endpoint {
	e := &endpoint{answer: answer}
	e.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		c := endpointCall{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone(), Body: string(b), At: time.Now()}
		e.mu.Lock()
		e.calls = append(e.calls, c)
		n := 0
		for _, old := range e.calls {
			if old.Path == c.Path {
				n++
			}
		}
		e.mu.Unlock()
		status, body := 200, "{}"
		if e.answer != nil {
			status, body = e.answer(c, n)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(e.Close)
	return e
}

// callsTo returns the calls to path so far.
func (e *endpoint) callsTo(path string) []endpointCall {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []endpointCall
	for _, c := range e.calls {
		if c.Path == path {
			out = append(out, c)
		}
	}
	return out
}

// waitCalls waits until path got n calls and returns them.
func (e *endpoint) waitCalls(t *testing.T, path string, n int, within time.Duration) []endpointCall {
	t.Helper()
	eventually(t, within, fmt.Sprintf("%d calls to %s", n, path), func() bool { return len(e.callsTo(path)) >= n })
	return e.callsTo(path)
}

// createConnection creates a connection and returns its ARN.
func createConnection(t *testing.T, c *eventbridge.Client, in *eventbridge.CreateConnectionInput) string {
	t.Helper()
	out, err := c.CreateConnection(t.Context(), in)
	if err != nil {
		t.Fatalf("CreateConnection %s: %v", aws.ToString(in.Name), err)
	}
	return aws.ToString(out.ConnectionArn)
}

// createDestination creates an API destination and returns its ARN.
func createDestination(t *testing.T, c *eventbridge.Client, name, conn, endpoint string, method ebtypes.ApiDestinationHttpMethod, rate int32) string {
	t.Helper()
	in := &eventbridge.CreateApiDestinationInput{Name: aws.String(name), ConnectionArn: aws.String(conn), InvocationEndpoint: aws.String(endpoint), HttpMethod: method}
	if rate > 0 {
		in.InvocationRateLimitPerSecond = aws.Int32(rate)
	}
	out, err := c.CreateApiDestination(t.Context(), in)
	if err != nil {
		t.Fatalf("CreateApiDestination %s: %v", name, err)
	}
	if out.ApiDestinationState != ebtypes.ApiDestinationStateActive {
		t.Fatalf("CreateApiDestination %s answered state %s", name, out.ApiDestinationState)
	}
	return aws.ToString(out.ApiDestinationArn)
}

func apiKeyConnection(name, key, value string) *eventbridge.CreateConnectionInput {
	return &eventbridge.CreateConnectionInput{Name: aws.String(name), AuthorizationType: ebtypes.ConnectionAuthorizationTypeApiKey,
		AuthParameters: &ebtypes.CreateConnectionAuthRequestParameters{ApiKeyAuthParameters: &ebtypes.CreateConnectionApiKeyAuthRequestParameters{
			ApiKeyName: aws.String(key), ApiKeyValue: aws.String(value)}}}
}

func basicConnection(name, user, password string) *eventbridge.CreateConnectionInput {
	return &eventbridge.CreateConnectionInput{Name: aws.String(name), AuthorizationType: ebtypes.ConnectionAuthorizationTypeBasic,
		AuthParameters: &ebtypes.CreateConnectionAuthRequestParameters{BasicAuthParameters: &ebtypes.CreateConnectionBasicAuthRequestParameters{
			Username: aws.String(user), Password: aws.String(password)}}}
}

var secretARN = regexp.MustCompile(`^arn:aws:secretsmanager:us-east-1:000000000000:secret:events!connection/([^/]+)/[0-9a-f-]{36}-[A-Za-z0-9]{6}$`)

// TestConnectionLifecycleKeepsSecrets creates, describes, lists, updates, deauthorizes and
// deletes connections and API destinations: states as EventBridge reports them, the secret's
// ARN, no secret in any answer, and AWS's errors.
func TestConnectionLifecycleKeepsSecrets(t *testing.T) {
	t.Parallel()
	c := kiritest.Start(t, kiritest.Options{}).Clients().Events
	ctx := t.Context()
	in := apiKeyConnection("keyed", "x-api-key", "key-secret-1")
	in.Description = aws.String("an API key")
	in.AuthParameters.InvocationHttpParameters = &ebtypes.ConnectionHttpParameters{
		HeaderParameters: []ebtypes.ConnectionHeaderParameter{{Key: aws.String("X-Tenant"), Value: aws.String("acme")},
			{Key: aws.String("X-Signing"), Value: aws.String("header-secret-2"), IsValueSecret: true}},
		QueryStringParameters: []ebtypes.ConnectionQueryStringParameter{{Key: aws.String("region"), Value: aws.String("eu")}}}
	created, err := c.CreateConnection(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if created.ConnectionState != ebtypes.ConnectionStateCreating ||
		!regexp.MustCompile(`^arn:aws:events:us-east-1:000000000000:connection/keyed/[0-9a-f-]{36}$`).MatchString(aws.ToString(created.ConnectionArn)) {
		t.Fatalf("CreateConnection = %s %s", created.ConnectionState, aws.ToString(created.ConnectionArn))
	}
	d, err := c.DescribeConnection(ctx, &eventbridge.DescribeConnectionInput{Name: aws.String("keyed")})
	if err != nil {
		t.Fatal(err)
	}
	if d.ConnectionState != ebtypes.ConnectionStateAuthorized || d.LastAuthorizedTime == nil || !secretARN.MatchString(aws.ToString(d.SecretArn)) ||
		aws.ToString(d.AuthParameters.ApiKeyAuthParameters.ApiKeyName) != "x-api-key" || aws.ToString(d.Description) != "an API key" {
		t.Fatalf("DescribeConnection = %+v", d)
	}
	hs := d.AuthParameters.InvocationHttpParameters.HeaderParameters
	if len(hs) != 2 || aws.ToString(hs[0].Value) != "acme" || hs[1].Value != nil || !hs[1].IsValueSecret {
		t.Fatalf("invocation headers = %+v", hs)
	}
	wantNoSecrets(t, d, "key-secret-1", "header-secret-2")

	_, err = c.CreateConnection(ctx, apiKeyConnection("keyed", "k", "v"))
	wantEventsError(t, err, "ResourceAlreadyExistsException", "Connection keyed already exists.")
	_, err = c.CreateConnection(ctx, apiKeyConnection("bad name", "k", "v"))
	wantEventsError(t, err, "ValidationException", "")
	_, err = c.CreateConnection(ctx, &eventbridge.CreateConnectionInput{Name: aws.String("nokey"), AuthorizationType: ebtypes.ConnectionAuthorizationTypeApiKey,
		AuthParameters: &ebtypes.CreateConnectionAuthRequestParameters{BasicAuthParameters: &ebtypes.CreateConnectionBasicAuthRequestParameters{
			Username: aws.String("u"), Password: aws.String("p")}}})
	wantEventsError(t, err, "ValidationException", "")
	_, err = c.DescribeConnection(ctx, &eventbridge.DescribeConnectionInput{Name: aws.String("missing")})
	wantEventsError(t, err, "ResourceNotFoundException", "")
	_, err = c.CreateConnection(ctx, &eventbridge.CreateConnectionInput{Name: aws.String(strings.Repeat("n", 65)), AuthorizationType: ebtypes.ConnectionAuthorizationTypeBasic,
		AuthParameters: basicConnection("x", "u", "p").AuthParameters})
	wantEventsError(t, err, "ValidationException", "")
	createConnection(t, c, basicConnection("other", "user", "pw-secret-3"))

	dest := createDestination(t, c, "orders", aws.ToString(created.ConnectionArn), "https://example.com/orders/*", ebtypes.ApiDestinationHttpMethodPost, 0)
	if !regexp.MustCompile(`^arn:aws:events:us-east-1:000000000000:api-destination/orders/[0-9a-f-]{36}$`).MatchString(dest) {
		t.Fatalf("API destination ARN %s", dest)
	}
	dd, err := c.DescribeApiDestination(ctx, &eventbridge.DescribeApiDestinationInput{Name: aws.String("orders")})
	if err != nil || aws.ToInt32(dd.InvocationRateLimitPerSecond) != 300 || dd.ApiDestinationState != ebtypes.ApiDestinationStateActive || dd.HttpMethod != ebtypes.ApiDestinationHttpMethodPost {
		t.Fatalf("DescribeApiDestination = %+v, %v", dd, err)
	}
	_, err = c.CreateApiDestination(ctx, &eventbridge.CreateApiDestinationInput{Name: aws.String("orders"), ConnectionArn: created.ConnectionArn,
		InvocationEndpoint: aws.String("https://example.com"), HttpMethod: ebtypes.ApiDestinationHttpMethodGet})
	wantEventsError(t, err, "ResourceAlreadyExistsException", "")
	_, err = c.CreateApiDestination(ctx, &eventbridge.CreateApiDestinationInput{Name: aws.String("nowhere"),
		ConnectionArn:      aws.String("arn:aws:events:us-east-1:000000000000:connection/missing/8b1e1a7c-0000-4000-8000-000000000000"),
		InvocationEndpoint: aws.String("https://example.com"), HttpMethod: ebtypes.ApiDestinationHttpMethodGet})
	wantEventsError(t, err, "ResourceNotFoundException", "")
	_, err = c.CreateApiDestination(ctx, &eventbridge.CreateApiDestinationInput{Name: aws.String("slow"), ConnectionArn: created.ConnectionArn,
		InvocationEndpoint: aws.String("https://example.com"), HttpMethod: ebtypes.ApiDestinationHttpMethodGet, InvocationRateLimitPerSecond: aws.Int32(0)})
	wantEventsError(t, err, "ValidationException", "")

	_, err = c.DeleteConnection(ctx, &eventbridge.DeleteConnectionInput{Name: aws.String("keyed")})
	wantEventsError(t, err, "ValidationException", "")

	list, err := c.ListConnections(ctx, &eventbridge.ListConnectionsInput{NamePrefix: aws.String("ke")})
	if err != nil || len(list.Connections) != 1 || aws.ToString(list.Connections[0].Name) != "keyed" {
		t.Fatalf("ListConnections(ke) = %+v, %v", list, err)
	}
	page, err := c.ListConnections(ctx, &eventbridge.ListConnectionsInput{Limit: aws.Int32(1)})
	if err != nil || len(page.Connections) != 1 || page.NextToken == nil {
		t.Fatalf("ListConnections(limit 1) = %+v, %v", page, err)
	}
	page, err = c.ListConnections(ctx, &eventbridge.ListConnectionsInput{Limit: aws.Int32(1), NextToken: page.NextToken})
	if err != nil || len(page.Connections) != 1 || aws.ToString(page.Connections[0].Name) != "other" {
		t.Fatalf("ListConnections page 2 = %+v, %v", page, err)
	}
	wantNoSecrets(t, page, "pw-secret-3")

	de, err := c.DeauthorizeConnection(ctx, &eventbridge.DeauthorizeConnectionInput{Name: aws.String("keyed")})
	if err != nil || de.ConnectionState != ebtypes.ConnectionStateDeauthorizing {
		t.Fatalf("DeauthorizeConnection = %+v, %v", de, err)
	}
	d, _ = c.DescribeConnection(ctx, &eventbridge.DescribeConnectionInput{Name: aws.String("keyed")})
	if d.ConnectionState != ebtypes.ConnectionStateDeauthorized || aws.ToString(d.StateReason) == "" {
		t.Fatalf("after DeauthorizeConnection: %s %q", d.ConnectionState, aws.ToString(d.StateReason))
	}
	dests, err := c.ListApiDestinations(ctx, &eventbridge.ListApiDestinationsInput{ConnectionArn: created.ConnectionArn})
	if err != nil || len(dests.ApiDestinations) != 1 || dests.ApiDestinations[0].ApiDestinationState != ebtypes.ApiDestinationStateInactive {
		t.Fatalf("ListApiDestinations = %+v, %v", dests, err)
	}
	up, err := c.UpdateConnection(ctx, &eventbridge.UpdateConnectionInput{Name: aws.String("keyed"),
		AuthParameters: &ebtypes.UpdateConnectionAuthRequestParameters{ApiKeyAuthParameters: &ebtypes.UpdateConnectionApiKeyAuthRequestParameters{ApiKeyValue: aws.String("key-secret-4")}}})
	if err != nil || up.ConnectionState != ebtypes.ConnectionStateUpdating {
		t.Fatalf("UpdateConnection = %+v, %v", up, err)
	}
	d, _ = c.DescribeConnection(ctx, &eventbridge.DescribeConnectionInput{Name: aws.String("keyed")})
	if d.ConnectionState != ebtypes.ConnectionStateAuthorized || d.StateReason != nil {
		t.Fatalf("after UpdateConnection: %s %q", d.ConnectionState, aws.ToString(d.StateReason))
	}
	wantNoSecrets(t, d, "key-secret-4")

	if _, err := c.DeleteApiDestination(ctx, &eventbridge.DeleteApiDestinationInput{Name: aws.String("orders")}); err != nil {
		t.Fatal(err)
	}
	del, err := c.DeleteConnection(ctx, &eventbridge.DeleteConnectionInput{Name: aws.String("keyed")})
	if err != nil || del.ConnectionState != ebtypes.ConnectionStateDeleting {
		t.Fatalf("DeleteConnection = %+v, %v", del, err)
	}
	_, err = c.DescribeConnection(ctx, &eventbridge.DescribeConnectionInput{Name: aws.String("keyed")})
	wantEventsError(t, err, "ResourceNotFoundException", "")
	_, err = c.DeleteApiDestination(ctx, &eventbridge.DeleteApiDestinationInput{Name: aws.String("orders")})
	wantEventsError(t, err, "ResourceNotFoundException", "")
}

// wantNoSecrets fails when any of secrets appears in an answer.
func wantNoSecrets(t *testing.T, answer any, secrets ...string) {
	t.Helper()
	b, err := json.Marshal(answer)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range secrets {
		if strings.Contains(string(b), s) {
			t.Fatalf("an answer shows the secret %q: %s", s, b)
		}
	}
}

// TestAPIDestinationRuleTargetWithAPIKey delivers a matched event through an input
// transformer to an API destination: path wildcards filled from PathParameterValues, the
// target's and the connection's headers and query strings (the connection's win), the
// connection's body parameters, the API key, and EventBridge's own headers.
func TestAPIDestinationRuleTargetWithAPIKey(t *testing.T) {
	t.Parallel()
	ep := newEndpoint(t, nil)
	c := kiritest.Start(t, kiritest.Options{}).Clients().Events
	in := apiKeyConnection("keyed", "x-api-key", "s3cret")
	in.AuthParameters.InvocationHttpParameters = &ebtypes.ConnectionHttpParameters{
		HeaderParameters:      []ebtypes.ConnectionHeaderParameter{{Key: aws.String("X-Tenant"), Value: aws.String("acme"), IsValueSecret: true}},
		QueryStringParameters: []ebtypes.ConnectionQueryStringParameter{{Key: aws.String("mode"), Value: aws.String("connection")}},
		BodyParameters:        []ebtypes.ConnectionBodyParameter{{Key: aws.String("client"), Value: aws.String("kiri")}}}
	conn := createConnection(t, c, in)
	dest := createDestination(t, c, "orders", conn, ep.URL+"/orders/*/items/*", ebtypes.ApiDestinationHttpMethodPut, 0)
	putRuleWithTargets(t, c, "", "to-api", `{"source":["shop"]}`, ebtypes.Target{Id: aws.String("api"), Arn: aws.String(dest),
		RoleArn: aws.String("arn:aws:iam::000000000000:role/invoke-api"),
		HttpParameters: &ebtypes.HttpParameters{PathParameterValues: []string{"o-1", "i 2"},
			HeaderParameters:      map[string]string{"X-Tenant": "target", "X-Trace": "t-1"},
			QueryStringParameters: map[string]string{"mode": "target", "page": "2"}},
		InputTransformer: &ebtypes.InputTransformer{InputPathsMap: map[string]string{"n": "$.detail.n"}, InputTemplate: aws.String(`{"order": <n>}`)}})
	putEvent(t, c, "", "shop", "Order Placed", `{"n":7}`)
	call := ep.waitCalls(t, "/orders/o-1/items/i 2", 1, 10*time.Second)[0]
	if call.Method != http.MethodPut {
		t.Errorf("method %s", call.Method)
	}
	for k, want := range map[string]string{"X-Api-Key": "s3cret", "X-Tenant": "acme", "X-Trace": "t-1", "User-Agent": "Amazon/EventBridge/ApiDestinations",
		"Content-Type": "application/json; charset=utf-8", "Range": "bytes=0-1048575"} {
		if got := call.Header.Get(k); got != want {
			t.Errorf("header %s = %q, want %q", k, got, want)
		}
	}
	if got := call.Query; got["mode"][0] != "connection" || got["page"][0] != "2" {
		t.Errorf("query %v", got)
	}
	var body map[string]any
	if err := json.Unmarshal([]byte(call.Body), &body); err != nil || body["order"] != 7.0 || body["client"] != "kiri" {
		t.Errorf("body %s", call.Body)
	}
}

// TestAPIDestinationBasicAuth sends the connection's basic credentials, kept across an update
// of another member, and the event itself when the target transforms nothing.
func TestAPIDestinationBasicAuth(t *testing.T) {
	t.Parallel()
	ep := newEndpoint(t, nil)
	c := kiritest.Start(t, kiritest.Options{}).Clients().Events
	conn := createConnection(t, c, basicConnection("basic", "alice", "pa:ss"))
	if _, err := c.UpdateConnection(t.Context(), &eventbridge.UpdateConnectionInput{Name: aws.String("basic"), Description: aws.String("changed")}); err != nil {
		t.Fatal(err)
	}
	dest := createDestination(t, c, "hook", conn, ep.URL+"/hook", ebtypes.ApiDestinationHttpMethodPost, 0)
	putRuleWithTargets(t, c, "", "to-hook", `{"source":["shop"]}`, ebtypes.Target{Id: aws.String("hook"), Arn: aws.String(dest)})
	id := putEvent(t, c, "", "shop", "Order Placed", `{"n":1}`)
	call := ep.waitCalls(t, "/hook", 1, 10*time.Second)[0]
	if want := "Basic " + base64.StdEncoding.EncodeToString([]byte("alice:pa:ss")); call.Header.Get("Authorization") != want {
		t.Errorf("Authorization = %q, want %q", call.Header.Get("Authorization"), want)
	}
	var ev struct{ ID string }
	if err := json.Unmarshal([]byte(call.Body), &ev); err != nil || ev.ID != id {
		t.Errorf("body %s, want the event %s", call.Body, id)
	}
}

// oauthServer is an authorization endpoint handing out numbered tokens to one client.
type oauthServer struct {
	*httptest.Server
	mu      sync.Mutex
	fetches int
	forms   []string
	fail    bool
}

func newOAuthServer(t *testing.T) *oauthServer {
	o := &oauthServer{}
	o.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		o.mu.Lock()
		defer o.mu.Unlock()
		user, pass, ok := r.BasicAuth()
		if o.fail || !ok || user != "client-1" || pass != "client-secret" || r.Header.Get("X-Realm") != "shop" {
			http.Error(w, `{"error":"invalid_client"}`, http.StatusUnauthorized)
			return
		}
		o.fetches++
		o.forms = append(o.forms, string(b))
		fmt.Fprintf(w, `{"access_token":"token-%d","token_type":"Bearer","expires_in":3600}`, o.fetches)
	}))
	t.Cleanup(o.Close)
	return o
}

func (o *oauthServer) count() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.fetches
}

func oauthConnection(name, endpoint string) *eventbridge.CreateConnectionInput {
	return &eventbridge.CreateConnectionInput{Name: aws.String(name), AuthorizationType: ebtypes.ConnectionAuthorizationTypeOauthClientCredentials,
		AuthParameters: &ebtypes.CreateConnectionAuthRequestParameters{OAuthParameters: &ebtypes.CreateConnectionOAuthRequestParameters{
			AuthorizationEndpoint: aws.String(endpoint), HttpMethod: ebtypes.ConnectionOAuthHttpMethodPost,
			ClientParameters: &ebtypes.CreateConnectionOAuthClientRequestParameters{ClientID: aws.String("client-1"), ClientSecret: aws.String("client-secret")},
			OAuthHttpParameters: &ebtypes.ConnectionHttpParameters{
				HeaderParameters: []ebtypes.ConnectionHeaderParameter{{Key: aws.String("X-Realm"), Value: aws.String("shop")}},
				BodyParameters:   []ebtypes.ConnectionBodyParameter{{Key: aws.String("grant_type"), Value: aws.String("client_credentials")}}}}}}
}

// waitConnection waits until a connection reaches state and returns its description.
func waitConnection(t *testing.T, c *eventbridge.Client, name string, state ebtypes.ConnectionState) *eventbridge.DescribeConnectionOutput {
	t.Helper()
	var d *eventbridge.DescribeConnectionOutput
	eventually(t, 10*time.Second, "connection "+name+" "+string(state), func() bool {
		var err error
		if d, err = c.DescribeConnection(t.Context(), &eventbridge.DescribeConnectionInput{Name: aws.String(name)}); err != nil {
			t.Fatal(err)
		}
		return d.ConnectionState == state
	})
	return d
}

// TestAPIDestinationOAuthClientCredentials authorizes a connection with the client
// credentials grant, uses its token until the endpoint refuses it (401), then fetches a new
// one and retries; a connection whose authorization endpoint refuses the client is
// DEAUTHORIZED with a reason.
func TestAPIDestinationOAuthClientCredentials(t *testing.T) {
	t.Parallel()
	auth := newOAuthServer(t)
	var revoked sync.Once
	ep := newEndpoint(t, func(c endpointCall, n int) (int, string) {
		if c.Header.Get("Authorization") == "Bearer token-1" && c.Path == "/after-revoke" {
			status := 0
			revoked.Do(func() { status = 401 })
			if status == 0 {
				return 401, "still token-1"
			}
			return status, "revoked"
		}
		return 200, "{}"
	})
	c := kiritest.Start(t, kiritest.Options{}).Clients().Events
	out, err := c.CreateConnection(t.Context(), oauthConnection("oauth", auth.URL+"/token"))
	if err != nil || out.ConnectionState != ebtypes.ConnectionStateAuthorizing {
		t.Fatalf("CreateConnection = %+v, %v", out, err)
	}
	d := waitConnection(t, c, "oauth", ebtypes.ConnectionStateAuthorized)
	o := d.AuthParameters.OAuthParameters
	if aws.ToString(o.ClientParameters.ClientID) != "client-1" || o.HttpMethod != ebtypes.ConnectionOAuthHttpMethodPost || d.LastAuthorizedTime == nil {
		t.Fatalf("DescribeConnection = %+v", o)
	}
	wantNoSecrets(t, d, "client-secret")
	if auth.count() != 1 || auth.forms[0] != "grant_type=client_credentials" {
		t.Fatalf("token fetches %d, forms %q", auth.count(), auth.forms)
	}
	conn := aws.ToString(out.ConnectionArn)
	first := createDestination(t, c, "first", conn, ep.URL+"/first", ebtypes.ApiDestinationHttpMethodPost, 0)
	again := createDestination(t, c, "again", conn, ep.URL+"/after-revoke", ebtypes.ApiDestinationHttpMethodPost, 0)
	putRuleWithTargets(t, c, "", "first", `{"source":["first"]}`, ebtypes.Target{Id: aws.String("t"), Arn: aws.String(first)})
	putRuleWithTargets(t, c, "", "again", `{"source":["again"]}`, ebtypes.Target{Id: aws.String("t"), Arn: aws.String(again),
		RetryPolicy: &ebtypes.RetryPolicy{MaximumRetryAttempts: aws.Int32(3)}})
	putEvent(t, c, "", "first", "One", `{}`)
	putEvent(t, c, "", "first", "Two", `{}`)
	for _, call := range ep.waitCalls(t, "/first", 2, 10*time.Second) {
		if got := call.Header.Get("Authorization"); got != "Bearer token-1" {
			t.Errorf("Authorization = %q, want the cached first token", got)
		}
	}
	if n := auth.count(); n != 1 {
		t.Fatalf("the token was fetched %d times for two calls, want once (cached)", n)
	}
	putEvent(t, c, "", "again", "Three", `{}`)
	calls := ep.waitCalls(t, "/after-revoke", 2, 10*time.Second)
	if calls[0].Header.Get("Authorization") != "Bearer token-1" || calls[1].Header.Get("Authorization") != "Bearer token-2" {
		t.Fatalf("calls after the 401 used %q then %q", calls[0].Header.Get("Authorization"), calls[1].Header.Get("Authorization"))
	}
	if n := auth.count(); n != 2 {
		t.Fatalf("the token was fetched %d times, want 2 (refreshed once on 401)", n)
	}

	bad := oauthConnection("refused", auth.URL+"/token")
	bad.AuthParameters.OAuthParameters.ClientParameters.ClientSecret = aws.String("wrong")
	createConnection(t, c, bad)
	d = waitConnection(t, c, "refused", ebtypes.ConnectionStateDeauthorized)
	if !strings.Contains(aws.ToString(d.StateReason), "401") {
		t.Fatalf("StateReason = %q", aws.ToString(d.StateReason))
	}
}

// TestAPIDestinationRetriesByStatus retries 429, 5xx (and 401, 407, 409) answers as
// EventBridge does, fails any other 4xx at once, and sends what failed for good to the
// target's dead-letter queue with EventBridge's attributes.
func TestAPIDestinationRetriesByStatus(t *testing.T) {
	t.Parallel()
	ep := newEndpoint(t, func(c endpointCall, n int) (int, string) {
		switch c.Path {
		case "/bad":
			return 400, `{"message":"bad request"}`
		case "/busy":
			if n < 3 {
				return []int{429, 503}[n-1], "busy"
			}
		case "/conflict":
			if n == 1 {
				return 409, "conflict"
			}
		case "/down":
			return 500, "down"
		}
		return 200, "{}"
	})
	cl := kiritest.Start(t, kiritest.Options{}).Clients()
	c := cl.Events
	dlq, dlqARN := createQueue(t, cl.SQS, "api-dlq")
	conn := createConnection(t, c, apiKeyConnection("k", "x-api-key", "v"))
	retry := &ebtypes.RetryPolicy{MaximumRetryAttempts: aws.Int32(2), MaximumEventAgeInSeconds: aws.Int32(60)}
	var targets []ebtypes.Target
	for _, path := range []string{"bad", "busy", "conflict", "down"} {
		dest := createDestination(t, c, path, conn, ep.URL+"/"+path, ebtypes.ApiDestinationHttpMethodPost, 0)
		targets = append(targets, ebtypes.Target{Id: aws.String(path), Arn: aws.String(dest), RetryPolicy: retry,
			DeadLetterConfig: &ebtypes.DeadLetterConfig{Arn: aws.String(dlqARN)}})
	}
	ruleARN := putRuleWithTargets(t, c, "", "statuses", `{"source":["shop"]}`, targets...)
	putEvent(t, c, "", "shop", "Order Placed", `{}`)
	dead := receiveAll(t, cl.SQS, dlq, 2, 30*time.Second)
	byTarget := map[string]map[string]string{}
	for _, m := range dead {
		attrs := map[string]string{}
		for k, v := range m.MessageAttributes {
			attrs[k] = aws.ToString(v.StringValue)
		}
		byTarget[attrs["TARGET_ARN"]] = attrs
	}
	badAttrs, downAttrs := byTarget[aws.ToString(targets[0].Arn)], byTarget[aws.ToString(targets[3].Arn)]
	if badAttrs == nil || downAttrs == nil {
		t.Fatalf("dead letters %v", byTarget)
	}
	if badAttrs["RULE_ARN"] != ruleARN || !strings.Contains(badAttrs["ERROR_MESSAGE"], "400") || badAttrs["EXHAUSTED_RETRY_CONDITION"] != "" {
		t.Errorf("dead letter of the 400 target: %v", badAttrs)
	}
	if downAttrs["EXHAUSTED_RETRY_CONDITION"] != "MaximumRetryAttempts" || downAttrs["RETRY_ATTEMPTS"] == "" || !strings.Contains(downAttrs["ERROR_MESSAGE"], "500") {
		t.Errorf("dead letter of the 500 target: %v", downAttrs)
	}
	if n := len(ep.callsTo("/bad")); n != 1 {
		t.Errorf("the 400 target was called %d times, want 1 (not retried)", n)
	}
	if n := len(ep.callsTo("/down")); n != 3 {
		t.Errorf("the 500 target was called %d times, want 3 (two retries)", n)
	}
	ep.waitCalls(t, "/busy", 3, 10*time.Second)
	ep.waitCalls(t, "/conflict", 2, 10*time.Second)
	expectEmpty(t, cl.SQS, dlq)
}

// TestAPIDestinationRateLimitDelays holds calls beyond a destination's invocation rate back
// and delivers them later: none is dropped, and no second has more calls than the rate.
func TestAPIDestinationRateLimitDelays(t *testing.T) {
	t.Parallel()
	ep := newEndpoint(t, nil)
	c := kiritest.Start(t, kiritest.Options{}).Clients().Events
	conn := createConnection(t, c, apiKeyConnection("k", "x-api-key", "v"))
	dest := createDestination(t, c, "slow", conn, ep.URL+"/slow", ebtypes.ApiDestinationHttpMethodPost, 1)
	putRuleWithTargets(t, c, "", "slow", `{"source":["shop"]}`, ebtypes.Target{Id: aws.String("slow"), Arn: aws.String(dest),
		RetryPolicy: &ebtypes.RetryPolicy{MaximumRetryAttempts: aws.Int32(0)}})
	entries := make([]ebtypes.PutEventsRequestEntry, 3)
	for i := range entries {
		entries[i] = ebtypes.PutEventsRequestEntry{Source: aws.String("shop"), DetailType: aws.String("Order"), Detail: aws.String(fmt.Sprintf(`{"n":%d}`, i))}
	}
	if out, err := c.PutEvents(t.Context(), &eventbridge.PutEventsInput{Entries: entries}); err != nil || out.FailedEntryCount != 0 {
		t.Fatalf("PutEvents = %+v, %v", out, err)
	}
	calls := ep.waitCalls(t, "/slow", 3, 15*time.Second)
	if gap := calls[2].At.Sub(calls[0].At); gap < 1900*time.Millisecond {
		t.Errorf("three calls at one per second took %v", gap)
	}
}

// TestConnectionsSurviveKill kills Kiri (SIGKILL) after creating a connection and an API
// destination: after the restart both are there, the secret is still not shown, and a rule
// delivers with the stored credentials.
func TestConnectionsSurviveKill(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Kiri as a subprocess twice")
	}
	t.Parallel()
	ep := newEndpoint(t, nil)
	dir := t.TempDir()
	p := kiritest.StartProcess(t, kiritest.Options{DataDir: dir})
	c := p.Clients().Events
	conn := createConnection(t, c, basicConnection("durable", "bob", "kept-secret"))
	dest := createDestination(t, c, "durable", conn, ep.URL+"/durable", ebtypes.ApiDestinationHttpMethodPost, 5)
	putRuleWithTargets(t, c, "", "durable", `{"source":["shop"]}`, ebtypes.Target{Id: aws.String("d"), Arn: aws.String(dest)})
	p.Kill()

	p = kiritest.StartProcess(t, kiritest.Options{DataDir: dir})
	c = p.Clients().Events
	d := waitConnection(t, c, "durable", ebtypes.ConnectionStateAuthorized)
	wantNoSecrets(t, d, "kept-secret")
	if aws.ToString(d.ConnectionArn) != conn {
		t.Fatalf("connection ARN after the restart %s, want %s", aws.ToString(d.ConnectionArn), conn)
	}
	dd, err := c.DescribeApiDestination(t.Context(), &eventbridge.DescribeApiDestinationInput{Name: aws.String("durable")})
	if err != nil || aws.ToInt32(dd.InvocationRateLimitPerSecond) != 5 || aws.ToString(dd.ApiDestinationArn) != dest {
		t.Fatalf("DescribeApiDestination = %+v, %v", dd, err)
	}
	putEvent(t, c, "", "shop", "Order Placed", `{}`)
	call := ep.waitCalls(t, "/durable", 1, 10*time.Second)[0]
	if want := "Basic " + base64.StdEncoding.EncodeToString([]byte("bob:kept-secret")); call.Header.Get("Authorization") != want {
		t.Fatalf("Authorization after the restart = %q, want %q", call.Header.Get("Authorization"), want)
	}
}

// TestAPIDestinationRoleWhenIAMIsEnforced delivers to an API destination as the target's role:
// a role without events:InvokeApiDestination gets no call made, one with it does.
func TestAPIDestinationRoleWhenIAMIsEnforced(t *testing.T) {
	t.Parallel()
	ep := newEndpoint(t, nil)
	srv := kiritest.Start(t, kiritest.Options{Strict: true, IAM: authz.Enforce})
	cl := srv.Clients()
	ctx := t.Context()
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"events.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	role, err := cl.IAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("invoke-api"), AssumeRolePolicyDocument: aws.String(trust)})
	if err != nil {
		t.Fatal(err)
	}
	conn := createConnection(t, cl.Events, apiKeyConnection("k", "x-api-key", "v"))
	dest := createDestination(t, cl.Events, "guarded", conn, ep.URL+"/guarded", ebtypes.ApiDestinationHttpMethodPost, 0)
	putRuleWithTargets(t, cl.Events, "", "guarded", `{"source":["shop"]}`, ebtypes.Target{Id: aws.String("api"), Arn: aws.String(dest), RoleArn: role.Role.Arn})
	putEvent(t, cl.Events, "", "shop", "Denied", `{}`)
	eventually(t, 15*time.Second, "the delivery as a role without events:InvokeApiDestination to fail", func() bool {
		return strings.Contains(srv.Logs(), "delivery failed for good")
	})
	if n := len(ep.callsTo("/guarded")); n != 0 {
		t.Fatalf("the endpoint got %d calls for a role that may not invoke it", n)
	}
	allow := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"events:InvokeApiDestination","Resource":"` + dest + `"}]}`
	if _, err := cl.IAM.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("invoke-api"), PolicyName: aws.String("invoke"),
		PolicyDocument: aws.String(allow)}); err != nil {
		t.Fatal(err)
	}
	putEvent(t, cl.Events, "", "shop", "Allowed", `{}`)
	call := ep.waitCalls(t, "/guarded", 1, 15*time.Second)[0]
	if !strings.Contains(call.Body, `"Allowed"`) {
		t.Fatalf("the call carried %s", call.Body)
	}
}
