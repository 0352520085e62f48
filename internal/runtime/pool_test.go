package runtime

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"
)

// metric reads one series of a gauge or counter from reg.
func metric(t *testing.T, reg *prometheus.Registry, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			got := map[string]string{}
			for _, l := range m.GetLabel() {
				got[l.GetName()] = l.GetValue()
			}
			for i := 0; i+1 < len(labels); i += 2 {
				if got[labels[i]] != labels[i+1] {
					continue next
				}
			}
			if m.GetGauge() != nil {
				return m.GetGauge().GetValue()
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0
}

func gauge(t *testing.T, reg *prometheus.Registry, fn, state string) float64 {
	return metric(t, reg, "kiri_lambda_instances", "function", fn, "state", state)
}

func TestPoolScalesOutInParallelAndToZero(t *testing.T) {
	reg := prometheus.NewRegistry()
	const n = 8
	// Every invocation starts its own instance: the cold-start bounds are not what this tests.
	p := testPool(t, func(c *Config) {
		c.Metrics = reg
		c.IdleTimeout = 300 * time.Millisecond
		c.ColdStartsPerFunction, c.ColdStarts = n, n
	})
	fn := goFunction(t, "scale")
	var wg sync.WaitGroup
	pids := make(chan int, n)
	start := time.Now()
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, a := invoke(t, p, fn, ev{"action": "sleep", "ms": 300})
			pids <- a.PID
		}()
	}
	waitFor(t, "all instances busy", func() bool { return gauge(t, reg, "scale", "busy") == n })
	wg.Wait()
	close(pids)
	// Instances start in parallel: n concurrent 300 ms invocations finish in about 300 ms.
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("%d concurrent invocations took %v", n, took)
	}
	// Every instance went idle; on a loaded host the reaper may already have taken some.
	if got := gauge(t, reg, "scale", "idle") + metric(t, reg, "kiri_lambda_instances_reaped_total", "function", "scale"); got != n {
		t.Errorf("idle and reaped instances = %v, want %d", got, n)
	}
	if got := metric(t, reg, "kiri_lambda_cold_starts_total", "function", "scale"); got != n {
		t.Errorf("cold starts = %v, want %d", got, n)
	}
	waitFor(t, "scale to zero", func() bool { return gauge(t, reg, "scale", "idle") == 0 })
	if got := metric(t, reg, "kiri_lambda_instances_reaped_total", "function", "scale"); got != n {
		t.Errorf("reaped = %v, want %d", got, n)
	}
	if res, _ := invoke(t, p, fn, ev{"action": "echo"}); !res.ColdStart {
		t.Error("invoke after scale to zero was not a cold start")
	}
}

func TestPoolThrottlesAtConcurrencyLimits(t *testing.T) {
	tests := []struct {
		name     string
		reserved *int
		account  int
		parallel int
		wantOK   int
	}{
		{name: "reserved zero always throttles", reserved: new(0), parallel: 1, wantOK: 0},
		{name: "reserved two admits two", reserved: new(2), parallel: 3, wantOK: 2},
		{name: "account limit applies without reservation", account: 1, parallel: 2, wantOK: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := testPool(t, func(c *Config) { c.AccountConcurrency = tc.account })
			fn := goFunction(t, "throttle")
			fn.ReservedConcurrency = tc.reserved
			var ok, throttled int
			var mu sync.Mutex
			var wg sync.WaitGroup
			for range tc.parallel {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, err := p.Invoke(context.Background(), fn, newRequest(ev{"action": "sleep", "ms": 500}))
					mu.Lock()
					defer mu.Unlock()
					switch {
					case err == nil:
						ok++
					case errors.Is(err, ErrThrottled):
						throttled++
					default:
						t.Errorf("Invoke: %v", err)
					}
				}()
			}
			wg.Wait()
			if ok != tc.wantOK || throttled != tc.parallel-tc.wantOK {
				t.Errorf("ok=%d throttled=%d, want ok=%d throttled=%d", ok, throttled, tc.wantOK, tc.parallel-tc.wantOK)
			}
		})
	}
}

func TestPoolDrainRetiresOldInstances(t *testing.T) {
	p := testPool(t)
	fn := goFunction(t, "drain")
	fn.Key = "drain#v1"
	_, first := invoke(t, p, fn, ev{"action": "echo"})

	// A busy instance finishes its invocation, then retires.
	done := make(chan answer)
	go func() {
		_, a := invoke(t, p, fn, ev{"action": "sleep", "ms": 300})
		done <- a
	}()
	time.Sleep(100 * time.Millisecond)
	p.Drain("drain#")
	busy := <-done
	if busy.PID != first.PID {
		t.Fatalf("sleep ran on pid %d, first on %d", busy.PID, first.PID)
	}
	res, _ := invoke(t, p, fn, ev{"action": "echo"})
	if !res.ColdStart {
		t.Error("invoke after Drain reused a retired instance")
	}
}

func TestPoolStreamsResponses(t *testing.T) {
	p := testPool(t)
	fn := goFunction(t, "stream")
	rec := &streamRecorder{}
	req := newRequest(ev{"action": "stream", "lines": []string{"one ", "two ", "three"}, "ms": 100})
	req.Stream = rec
	res, err := p.Invoke(context.Background(), fn, req)
	if err != nil || res.FunctionError != "" {
		t.Fatalf("stream invoke: %v %+v", err, res)
	}
	if got := rec.String(); got != "one two three" {
		t.Errorf("streamed %q", got)
	}
	if len(rec.times) < 3 || rec.times[len(rec.times)-1].Sub(rec.times[0]) < 150*time.Millisecond {
		t.Errorf("chunks arrived at %v: not streamed as written", rec.times)
	}

	t.Run("error trailer ends the stream with a function error", func(t *testing.T) {
		rec := &streamRecorder{}
		req := newRequest(ev{"action": "stream", "lines": []string{"partial"}, "data": "stream broke"})
		req.Stream = rec
		res, err := p.Invoke(context.Background(), fn, req)
		if err != nil {
			t.Fatal(err)
		}
		if res.FunctionError != "Unhandled" || !strings.Contains(string(res.Payload), "stream broke") || rec.String() != "partial" {
			t.Errorf("FunctionError=%q type=%q payload=%s streamed=%q", res.FunctionError, res.ErrorType, res.Payload, rec.String())
		}
	})
	t.Run("synchronous invoke buffers a streaming function", func(t *testing.T) {
		res, _ := invoke(t, p, fn, ev{"action": "stream", "lines": []string{"a", "b"}})
		if string(res.Payload) != "ab" {
			t.Errorf("payload %q", res.Payload)
		}
	})
}

type streamRecorder struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	times []time.Time
}

func (r *streamRecorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.times = append(r.times, time.Now())
	return r.buf.Write(p)
}

func (r *streamRecorder) Flush() error { return nil }

func (r *streamRecorder) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.buf.String()
}

func TestPoolCloseStopsEverything(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	sink := &memSink{}
	p := testPool(t, func(c *Config) { c.Logs = sink })
	fn := goFunction(t, "closing")
	invoke(t, p, fn, ev{"action": "echo"})
	go p.Invoke(context.Background(), fn, newRequest(ev{"action": "sleep", "ms": 10000}))
	time.Sleep(50 * time.Millisecond)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Invoke(context.Background(), fn, newRequest(ev{"action": "echo"})); !errors.Is(err, ErrClosed) {
		t.Errorf("Invoke after Close: %v, want ErrClosed", err)
	}
	if len(sink.messages(fn.LogGroup)) == 0 {
		t.Error("Close did not flush pending logs")
	}
}

func TestInvokeHonoursContext(t *testing.T) {
	p := testPool(t)
	fn := goFunction(t, "ctx")
	invoke(t, p, fn, ev{"action": "echo"}) // warm: the deadline must end the invocation, not the cold start
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := p.Invoke(ctx, fn, newRequest(ev{"action": "sleep", "ms": 400}))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Invoke: %v, want deadline exceeded", err)
	}
	// The instance finishes its invocation and is reused.
	time.Sleep(500 * time.Millisecond)
	if res, _ := invoke(t, p, fn, ev{"action": "echo"}); res.ColdStart {
		t.Error("instance was not reused after the caller gave up")
	}
}
