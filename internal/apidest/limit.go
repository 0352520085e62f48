package apidest

import (
	"sync"
	"time"
)

// DefaultRateLimit is an API destination's invocations per second when it sets none.
const DefaultRateLimit = 300

// Limiter keeps each API destination's invocation rate: at most its rate of calls in any one
// second. A call beyond the rate is not made but delayed: Take tells when to try it again, and
// spreads the delayed calls one rate interval apart so that they do not all come back at once.
type Limiter struct {
	mu    sync.Mutex
	dests map[string]*window
}

// window is the times of one destination's recent calls, oldest first, and the next time
// handed out to a delayed call.
type window struct {
	calls []time.Time
	next  time.Time
}

// NewLimiter returns an empty limiter.
func NewLimiter() *Limiter { return &Limiter{dests: map[string]*window{}} }

// Take reports whether a call to the destination key may be made at now under rate calls per
// second, and counts it when it may; when it may not, retry is when to try it again.
func (l *Limiter) Take(key string, rate int, now time.Time) (ok bool, retry time.Time) {
	if rate <= 0 {
		rate = DefaultRateLimit
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.dests[key]
	if w == nil {
		w = &window{}
		l.dests[key] = w
	}
	cut := 0
	for cut < len(w.calls) && !w.calls[cut].After(now.Add(-time.Second)) {
		cut++
	}
	w.calls = w.calls[cut:]
	if len(w.calls) < rate {
		w.calls = append(w.calls, now)
		return true, time.Time{}
	}
	// The window is full until its oldest call is a second old; delayed calls take turns
	// after that, one interval apart.
	retry = w.calls[len(w.calls)-rate].Add(time.Second)
	if w.next.After(retry) {
		retry = w.next
	}
	w.next = retry.Add(time.Second / time.Duration(rate))
	return false, retry
}
