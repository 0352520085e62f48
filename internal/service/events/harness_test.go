package events

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/dispatch"
	"github.com/kiri-run/kiri/internal/queue"
	"github.com/kiri-run/kiri/internal/service"
	"github.com/kiri-run/kiri/internal/store"
	"github.com/kiri-run/kiri/internal/store/storetest"
)

// clock is a settable clock shared by the service, the registry and the engine.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// recorder stands for the targets' services: it records deliveries.
type recorder struct {
	mu  sync.Mutex
	got []dispatch.Delivery
}

func (r *recorder) Check(context.Context, string, dispatch.Source) error { return nil }

func (r *recorder) Deliver(_ context.Context, d dispatch.Delivery) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, d)
	return nil
}

func (r *recorder) deliveries() []dispatch.Delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]dispatch.Delivery(nil), r.got...)
}

// harness is the EventBridge service on its engine with a clock the test moves; SQS targets
// go to a recorder.
type harness struct {
	s     *Service
	eng   *queue.Engine
	clock *clock
	rec   *recorder
	stop  func()
}

// start is 2026-12-05T20:00:00Z.
var start = time.Date(2026, 12, 5, 20, 0, 0, 0, time.UTC)

// newHarnessOn builds the service over st, as a restarted Kiri would over its data.
func newHarnessOn(t *testing.T, st *store.Store, c *clock) *harness {
	t.Helper()
	log := storetest.QuietLogger()
	eng, err := queue.New(context.Background(), st, queue.Config{Logger: log, Node: "n1", Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	reg := dispatch.NewRegistry(st, eng, log, c.Now)
	rec := &recorder{}
	reg.Register("sqs", rec)
	s, err := New(context.Background(), service.Deps{Store: st, Queue: eng, Targets: reg, Logger: log, Now: c.Now, Services: &service.Directory{}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = eng.Run(ctx) }()
	var once sync.Once
	stop := func() { once.Do(func() { cancel(); <-done; eng.Close() }) }
	t.Cleanup(stop)
	return &harness{s: s, eng: eng, clock: c, rec: rec, stop: stop}
}

// ctx is a call of the dev-mode account.
func (h *harness) ctx() context.Context {
	return awsproto.WithCall(context.Background(), &awsproto.Call{AccountID: "000000000000", Region: "us-east-1"})
}

// advance lets the engine finish what is due, then moves the clock and wakes the engine.
func (h *harness) advance(d time.Duration) {
	h.idle()
	h.clock.mu.Lock()
	h.clock.t = h.clock.t.Add(d)
	h.clock.mu.Unlock()
	h.eng.Wake(scheduleQueue)
	h.eng.Wake("dispatch.deliver")
	h.idle()
}

// idle waits, up to a few seconds, until no timer or delivery is due or in flight.
func (h *harness) idle() {
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		busy := false
		for _, q := range []string{scheduleQueue, "dispatch.deliver"} {
			st, err := h.eng.Stats(context.Background(), q)
			busy = busy || err != nil || st.Visible > 0 || st.InFlight > 0
		}
		if !busy {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}
