package events

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/store/storetest"
)

// TestAPIDestinationRateHoldsDeliveriesOnTheClock puts five events for a destination allowed
// two calls a second: two go at once, the others are held on the engine's clock (not real
// time) and go one every half second, and none is dropped or counted as a failed attempt (the
// target allows no retries).
func TestAPIDestinationRateHoldsDeliveriesOnTheClock(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	calls := 0
	ep := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		mu.Unlock()
	}))
	defer ep.Close()
	called := func() int {
		mu.Lock()
		defer mu.Unlock()
		return calls
	}
	h := newHarnessOn(t, storetest.Open(t, storetest.SQLiteConfig(t)), &clock{t: start})
	ctx := h.ctx()
	conn, err := h.s.createConnection(ctx, &CreateConnectionRequest{Name: awsproto.Ptr("c"), AuthorizationType: awsproto.Ptr("API_KEY"),
		AuthParameters: &CreateConnectionAuthRequestParameters{ApiKeyAuthParameters: &CreateConnectionApiKeyAuthRequestParameters{
			ApiKeyName: awsproto.Ptr("x-api-key"), ApiKeyValue: awsproto.Ptr("v")}}})
	if err != nil {
		t.Fatal(err)
	}
	dest, err := h.s.createAPIDestination(ctx, &CreateApiDestinationRequest{Name: awsproto.Ptr("d"), ConnectionArn: conn.ConnectionArn,
		InvocationEndpoint: awsproto.Ptr(ep.URL), HttpMethod: awsproto.Ptr("POST"), InvocationRateLimitPerSecond: awsproto.Ptr(int32(2))})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.s.putRule(ctx, &PutRuleRequest{Name: awsproto.Ptr("r"), EventPattern: awsproto.Ptr(`{"source":["shop"]}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.s.putTargets(ctx, &PutTargetsRequest{Rule: awsproto.Ptr("r"), Targets: []Target{{Id: awsproto.Ptr("d"), Arn: dest.ApiDestinationArn,
		RetryPolicy: &RetryPolicy{MaximumRetryAttempts: awsproto.Ptr(int32(0)), MaximumEventAgeInSeconds: awsproto.Ptr(int32(60))}}}}); err != nil {
		t.Fatal(err)
	}
	entries := make([]PutEventsRequestEntry, 5)
	for i := range entries {
		entries[i] = PutEventsRequestEntry{Source: awsproto.Ptr("shop"), DetailType: awsproto.Ptr("Order"), Detail: awsproto.Ptr(`{}`)}
	}
	if out, err := h.s.putEvents(ctx, &PutEventsRequest{Entries: entries}); err != nil || awsproto.Value(out.FailedEntryCount) != 0 {
		t.Fatalf("PutEvents = %+v, %v", out, err)
	}
	for step, want := range []int{2, 2, 3, 4, 5, 5} {
		if step > 0 {
			h.advance(500 * time.Millisecond)
		}
		h.idle()
		if got := called(); got != want {
			t.Fatalf("after %v the endpoint got %d calls, want %d", time.Duration(step)*500*time.Millisecond, got, want)
		}
	}
}
