package scheduler

import (
	"context"
	"errors"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	"github.com/aws/aws-sdk-go-v2/service/scheduler/types"
	"github.com/aws/smithy-go"

	"github.com/kiri-run/kiri/internal/auth"
	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/dispatch"
	"github.com/kiri-run/kiri/internal/edge"
	"github.com/kiri-run/kiri/internal/queue"
	"github.com/kiri-run/kiri/internal/service"
	"github.com/kiri-run/kiri/internal/store"
	"github.com/kiri-run/kiri/internal/store/storetest"
	"github.com/kiri-run/kiri/internal/telemetry"
	"github.com/kiri-run/kiri/test/sdkretry"
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

// recorder is a Kind standing for the targets' services: it records deliveries and fails
// those to ARNs in failing.
type recorder struct {
	mu      sync.Mutex
	got     []dispatch.Delivery
	failing map[string]error
	notify  chan struct{}
}

func (r *recorder) Check(context.Context, string, dispatch.Source) error { return nil }

func (r *recorder) Deliver(_ context.Context, d dispatch.Delivery) error {
	r.mu.Lock()
	defer func() {
		r.mu.Unlock()
		select {
		case r.notify <- struct{}{}:
		default:
		}
	}()
	r.got = append(r.got, d)
	return r.failing[d.Target]
}

func (r *recorder) fail(arn string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failing[arn] = err
}

// to returns the deliveries made so far to arn.
func (r *recorder) to(arn string) []dispatch.Delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []dispatch.Delivery
	for _, d := range r.got {
		if d.Target == arn {
			out = append(out, d)
		}
	}
	return out
}

// harness is a Scheduler service on its engine behind a real edge, driven by aws-sdk-go-v2, with
// a clock the test moves and a recorder for SQS, SNS and Lambda targets.
type harness struct {
	st      *store.Store
	eng     *queue.Engine
	clock   *clock
	targets *recorder
	client  *scheduler.Client
	stop    func()
}

// start is 2026-12-05T20:00:00Z.
var start = time.Date(2026, 12, 5, 20, 0, 0, 0, time.UTC)

func newHarness(t *testing.T) *harness {
	t.Helper()
	return newHarnessOn(t, storetest.Open(t, storetest.SQLiteConfig(t)), &clock{t: start})
}

// newHarnessOn builds the service over st, as a restarted Kiri would over its data.
func newHarnessOn(t *testing.T, st *store.Store, c *clock) *harness {
	t.Helper()
	log := storetest.QuietLogger()
	eng, err := queue.New(context.Background(), st, queue.Config{Logger: log, Node: "n1", Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	reg := dispatch.NewRegistry(st, eng, log, c.Now)
	rec := &recorder{failing: map[string]error{}, notify: make(chan struct{}, 1)}
	for _, svc := range []string{"sqs", "sns", "lambda"} {
		reg.Register(svc, rec)
	}
	svc, err := New(context.Background(), service.Deps{Store: st, Queue: eng, Targets: reg, Logger: log, Now: c.Now, Services: &service.Directory{}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = eng.Run(ctx) }()
	var once sync.Once
	stop := func() { once.Do(func() { cancel(); <-done; eng.Close() }) }
	t.Cleanup(stop)
	e := edge.New(edge.Config{
		Router:  awsproto.NewRouter(svc.API()),
		Auth:    auth.New(auth.Config{Mode: auth.Dev}),
		Metrics: telemetry.NewMetrics(),
		Logger:  log,
	})
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	client := scheduler.New(scheduler.Options{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIAIOSFODNN7EXAMPLE", "secret", ""),
		BaseEndpoint: aws.String(srv.URL),
		Retryer:      sdkretry.New(),
	})
	return &harness{st: st, eng: eng, clock: c, targets: rec, client: client, stop: stop}
}

// advance lets the engine finish what is due, then moves the clock and wakes the engine's
// timers and deliveries. (Moving the clock past the leases of handlers still running would
// deliver their messages again, as a crashed node's are.)
func (h *harness) advance(d time.Duration) {
	h.idle()
	h.clock.mu.Lock()
	h.clock.t = h.clock.t.Add(d)
	h.clock.mu.Unlock()
	h.eng.Wake(fireQueue)
	h.eng.Wake("dispatch.deliver")
}

// idle waits, up to a few seconds, until no fire timer or delivery is due or in flight.
func (h *harness) idle() {
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		busy := false
		for _, q := range []string{fireQueue, "dispatch.deliver"} {
			st, err := h.eng.Stats(context.Background(), q)
			busy = busy || err != nil || st.Visible > 0 || st.InFlight > 0
		}
		if !busy {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitFor waits until arn has received n deliveries, and returns them.
func (h *harness) waitFor(t *testing.T, arn string, n int) []dispatch.Delivery {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		if got := h.targets.to(arn); len(got) >= n {
			return got
		}
		select {
		case <-h.targets.notify:
		case <-time.After(20 * time.Millisecond):
			// Retries are due on the engine's clock; wake it so they go out.
			h.eng.Wake(fireQueue)
			h.eng.Wake("dispatch.deliver")
		case <-deadline:
			t.Fatalf("%s received %d deliveries, want %d", arn, len(h.targets.to(arn)), n)
		}
	}
}

// settle gives the engine a moment to deliver what is due, for tests that expect nothing.
func (h *harness) settle() {
	for range 5 {
		h.eng.Wake(fireQueue)
		h.eng.Wake("dispatch.deliver")
		time.Sleep(20 * time.Millisecond)
	}
}

const (
	queueARN = "arn:aws:sqs:us-east-1:000000000000:jobs"
	fifoARN  = "arn:aws:sqs:us-east-1:000000000000:jobs.fifo"
	dlqARN   = "arn:aws:sqs:us-east-1:000000000000:dead"
	funcARN  = "arn:aws:lambda:us-east-1:000000000000:function:work"
	roleARN  = "arn:aws:iam::000000000000:role/scheduler"
)

// create creates a schedule named name with expression expr and target arn.
func (h *harness) create(t *testing.T, name, expr string, edit func(*scheduler.CreateScheduleInput)) {
	t.Helper()
	in := &scheduler.CreateScheduleInput{
		Name: aws.String(name), ScheduleExpression: aws.String(expr),
		FlexibleTimeWindow: &types.FlexibleTimeWindow{Mode: types.FlexibleTimeWindowModeOff},
		Target:             &types.Target{Arn: aws.String(queueARN), RoleArn: aws.String(roleARN), Input: aws.String(`{"job":"` + name + `"}`)},
	}
	if edit != nil {
		edit(in)
	}
	if _, err := h.client.CreateSchedule(t.Context(), in); err != nil {
		t.Fatalf("create schedule %s: %v", name, err)
	}
}

// expectAPIError fails unless err is the AWS error code with message (any message when "").
func expectAPIError(t *testing.T, err error, code, message string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("err = %v, want %s", err, code)
	}
	if ae.ErrorCode() != code || (message != "" && ae.ErrorMessage() != message) {
		t.Fatalf("err = %s: %s, want %s: %s", ae.ErrorCode(), ae.ErrorMessage(), code, message)
	}
}
