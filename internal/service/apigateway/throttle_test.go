package apigateway

import (
	"testing"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
)

func TestThrottleRefillsAtItsRate(t *testing.T) {
	var th throttles
	k := throttleKey{"abcdefghij", "prod", "GET /x"}
	t0 := time.Unix(1_700_000_000, 0)
	for i := range 3 {
		if !th.allow(k, 2, 3, t0) {
			t.Fatalf("request %d of a burst of 3 throttled", i+1)
		}
	}
	if th.allow(k, 2, 3, t0) {
		t.Fatal("a fourth request at once was let through")
	}
	if !th.allow(k, 2, 3, t0.Add(500*time.Millisecond)) || th.allow(k, 2, 3, t0.Add(500*time.Millisecond)) {
		t.Fatal("at 2 requests a second, half a second refills exactly one token")
	}
	if !th.allow(k, 2, 4, t0.Add(500*time.Millisecond)) {
		t.Fatal("changed settings start a new, full bucket")
	}
	th.forget("abcdefghij", "prod")
	if len(th.m) != 0 {
		t.Fatalf("forget left %d buckets", len(th.m))
	}
}

func TestStageLimits(t *testing.T) {
	st := Stage{
		DefaultRouteSettings: &RouteSettings{ThrottlingRateLimit: awsproto.Ptr(5.0)},
		RouteSettings: map[string]RouteSettings{
			"GET /own":   {ThrottlingBurstLimit: awsproto.Ptr[int32](7)},
			"GET /plain": {DetailedMetricsEnabled: awsproto.Ptr(false)},
		},
	}
	for _, c := range []struct {
		key   string
		rate  float64
		burst int
	}{
		{"GET /own", accountRateLimit, 7},
		{"GET /plain", 5, accountBurstLimit},
		{"$default", 5, accountBurstLimit},
	} {
		r, b, ok := st.limits(c.key)
		if !ok || r != c.rate || b != c.burst {
			t.Errorf("limits(%q) = %v, %v, %v; want %v, %v", c.key, r, b, ok, c.rate, c.burst)
		}
	}
	if _, _, ok := (&Stage{DefaultRouteSettings: &RouteSettings{}}).limits("GET /x"); ok {
		t.Error("a stage without throttling settings throttles")
	}
}
