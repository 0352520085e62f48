package apigateway

import (
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/store"
)

// Throttling of HTTP APIs. A stage's DefaultRouteSettings and its RouteSettings per route key
// set a token bucket: ThrottlingRateLimit requests a second in steady state, ThrottlingBurstLimit
// at once. A route's own settings override the stage's; a field neither sets takes the account
// default. A request over its bucket is answered 429 {"message":"Too Many Requests"}.
// Buckets are counters of the running node, as API Gateway's own are per region and best
// effort; they start full after a restart.
const (
	accountRateLimit  = 10000 // requests a second
	accountBurstLimit = 5000
)

// limits is a route's effective throttling; ok is false when neither the route nor the stage
// sets any.
func (st *Stage) limits(routeKey string) (r float64, burst int, ok bool) {
	pick := func(rs *RouteSettings) bool {
		if rs == nil || (rs.ThrottlingRateLimit == nil && rs.ThrottlingBurstLimit == nil) {
			return false
		}
		r, burst = accountRateLimit, accountBurstLimit
		if rs.ThrottlingRateLimit != nil {
			r = *rs.ThrottlingRateLimit
		}
		if rs.ThrottlingBurstLimit != nil {
			burst = int(*rs.ThrottlingBurstLimit)
		}
		return true
	}
	if rs, found := st.RouteSettings[routeKey]; found && pick(&rs) {
		return r, burst, true
	}
	if pick(st.DefaultRouteSettings) {
		return r, burst, true
	}
	return 0, 0, false
}

// throttleKey names one route's bucket on one stage.
type throttleKey struct{ apiID, stage, routeKey string }

// bucket is a route's limiter and the settings it was made with.
type bucket struct {
	rate  float64
	burst int
	lim   *rate.Limiter
}

// throttles holds the buckets of the routes requests have reached.
type throttles struct {
	mu sync.Mutex
	m  map[throttleKey]*bucket
}

// allow takes a token from the route's bucket at now, making or remaking the bucket when the
// settings changed; false means the request is throttled.
func (t *throttles) allow(k throttleKey, r float64, burst int, now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	b := t.m[k]
	if b == nil || b.rate != r || b.burst != burst {
		if t.m == nil {
			t.m = map[throttleKey]*bucket{}
		}
		b = &bucket{rate: r, burst: burst, lim: rate.NewLimiter(rate.Limit(r), burst)}
		b.lim.AllowN(now, 0) // the bucket starts full at now, not at the zero time
		t.m[k] = b
	}
	return b.lim.AllowN(now, 1)
}

// forget drops the buckets of an API's stage (or of every stage when stage is "").
func (t *throttles) forget(apiID, stage string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for k := range t.m {
		if k.apiID == apiID && (stage == "" || k.stage == stage) {
			delete(t.m, k)
		}
	}
}

// checkRouteSettings checks throttling values as API Gateway does and refuses the settings Kiri
// does not honour for HTTP APIs: detailed CloudWatch metrics, and logging levels and data
// traces (WebSocket APIs' execution logs).
func checkRouteSettings(rs *RouteSettings) error {
	if rs == nil {
		return nil
	}
	if rs.LoggingLevel != nil || awsproto.Value(rs.DataTraceEnabled) {
		return badRequest("Execution logs are not supported for HTTP APIs")
	}
	if awsproto.Value(rs.DetailedMetricsEnabled) {
		return badRequest("Detailed metrics are not supported by this server yet")
	}
	if b := rs.ThrottlingBurstLimit; b != nil && *b < 0 {
		return badRequest("Burst limit must be non-negative")
	}
	if r := rs.ThrottlingRateLimit; r != nil && (*r < 0 || math.IsNaN(*r) || math.IsInf(*r, 0)) {
		return badRequest("Rate limit must be non-negative")
	}
	return nil
}

// mergeRouteSettings sets the fields of in on dst, as UpdateStage does.
func mergeRouteSettings(dst *RouteSettings, in *RouteSettings) {
	set(&dst.ThrottlingBurstLimit, in.ThrottlingBurstLimit)
	set(&dst.ThrottlingRateLimit, in.ThrottlingRateLimit)
	set(&dst.DetailedMetricsEnabled, in.DetailedMetricsEnabled)
	set(&dst.LoggingLevel, in.LoggingLevel)
	set(&dst.DataTraceEnabled, in.DataTraceEnabled)
}

// checkRouteKeys answers NotFoundException when route settings name a route the API does not
// have, as API Gateway does.
func checkRouteKeys(tx *store.Tx, sc scope, apiID string, perRoute map[string]RouteSettings) error {
	if len(perRoute) == 0 {
		return nil
	}
	routes, err := listAll[Route](tx.Query, sc, apiID, kindRoute)
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for _, r := range routes {
		have[awsproto.Value(r.RouteKey)] = true
	}
	for k := range perRoute {
		if !have[k] {
			return notFound("Unable to find Route by key %s within the provided RouteSettings", k)
		}
	}
	return nil
}
