package runtime

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// gatedFunction is a test function whose init lasts until open is called.
func gatedFunction(t *testing.T, name string) (fn *Function, open func()) {
	t.Helper()
	fn = goFunction(t, name)
	gate := filepath.Join(fn.CodeDir, "gate")
	fn.Environment = map[string]string{"FN_MODE": "gate", "FN_GATE": "gate"}
	var once sync.Once
	open = func() {
		once.Do(func() {
			if err := os.WriteFile(gate, nil, 0o644); err != nil {
				t.Fatal(err)
			}
		})
	}
	t.Cleanup(open)
	return fn, open
}

// admission reads the pool's cold-start bookkeeping.
func admission(p *Pool, key string) (starting, fnStarting, waiting int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if fp := p.fns[key]; fp != nil {
		fnStarting = fp.starting
	}
	return p.starting, fnStarting, len(p.waiters)
}

// A burst of invocations of a cold function starts only ColdStartsPerFunction instances at
// once; the rest of the burst waits and runs on instances as they become ready.
func TestPoolBoundsColdStartsPerFunction(t *testing.T) {
	reg := prometheus.NewRegistry()
	p := testPool(t, func(c *Config) { c.Metrics = reg; c.ColdStartsPerFunction = 2; c.ColdStarts = 8 })
	fn, open := gatedFunction(t, "burst")
	const n = 6
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			res, err := p.Invoke(context.Background(), fn, newRequest(ev{"action": "echo"}))
			if err == nil && res.FunctionError != "" {
				err = errors.New(string(res.Payload))
			}
			errs <- err
		})
	}
	waitFor(t, "the burst to wait", func() bool {
		starting, fnStarting, waiting := admission(p, fn.Key)
		return starting == 2 && fnStarting == 2 && waiting == n-2 &&
			metric(t, reg, "kiri_lambda_cold_starts_total", "function", "burst") == 2
	})
	open()
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("invocation: %v", err)
		}
	}
	if starting, _, waiting := admission(p, fn.Key); starting != 0 || waiting != 0 {
		t.Fatalf("after the burst: %d starting, %d waiting", starting, waiting)
	}
	if got := metric(t, reg, "kiri_lambda_cold_starts_total", "function", "burst"); got > n {
		t.Errorf("cold starts = %v, want at most %d", got, n)
	}
	if got := metric(t, reg, "kiri_lambda_init_timeouts_total", "function", "burst"); got != 0 {
		t.Errorf("init timeouts = %v", got)
	}
}

// ColdStarts bounds inits across functions, and a waiter of a function at its own bound does
// not hold up another function's start.
func TestPoolBoundsColdStartsAcrossFunctions(t *testing.T) {
	p := testPool(t, func(c *Config) { c.ColdStartsPerFunction = 2; c.ColdStarts = 3 })
	a, openA := gatedFunction(t, "fa")
	b, openB := gatedFunction(t, "fb")
	var wg sync.WaitGroup
	call := func(fn *Function) {
		wg.Go(func() { p.Invoke(context.Background(), fn, newRequest(ev{"action": "echo"})) })
	}
	for range 3 {
		call(a)
	}
	waitFor(t, "two inits of fa", func() bool { s, _, w := admission(p, a.Key); return s == 2 && w == 1 })
	for range 3 {
		call(b)
	}
	waitFor(t, "one init of fb", func() bool {
		s, fs, w := admission(p, b.Key)
		return s == 3 && fs == 1 && w == 3
	})
	openA()
	waitFor(t, "fa's inits to end and fb to start more", func() bool {
		_, fa, _ := admission(p, a.Key)
		_, fb, _ := admission(p, b.Key)
		return fa == 0 && fb == 2
	})
	openB()
	wg.Wait()
	if s, _, w := admission(p, a.Key); s != 0 || w != 0 {
		t.Fatalf("after both bursts: %d starting, %d waiting", s, w)
	}
}

// An invocation that gives up while it waits leaves no trace: no start held, no concurrency
// taken, and the instance it might have been given serves the next one.
func TestPoolWaiterGivesUp(t *testing.T) {
	p := testPool(t, func(c *Config) { c.ColdStartsPerFunction = 1 })
	fn, open := gatedFunction(t, "impatient")
	first := make(chan error, 1)
	go func() {
		_, err := p.Invoke(context.Background(), fn, newRequest(ev{"action": "echo"}))
		first <- err
	}()
	waitFor(t, "the first init", func() bool { s, _, _ := admission(p, fn.Key); return s == 1 })
	ctx, cancel := context.WithCancel(context.Background())
	second := make(chan error, 1)
	go func() {
		_, err := p.Invoke(ctx, fn, newRequest(ev{"action": "echo"}))
		second <- err
	}()
	waitFor(t, "the second to wait", func() bool { _, _, w := admission(p, fn.Key); return w == 1 })
	cancel()
	if err := <-second; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled waiter: err = %v", err)
	}
	open()
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	busy, waiting := p.busy, len(p.waiters)
	p.mu.Unlock()
	if busy != 0 || waiting != 0 {
		t.Fatalf("busy %d, waiting %d after both ended", busy, waiting)
	}
	if res, _ := invoke(t, p, fn, ev{"action": "echo"}); res.ColdStart {
		t.Error("the instance did not go back to idle")
	}
}

// An init that runs out of time is counted and logged as a warning.
func TestPoolCountsAndLogsInitTimeouts(t *testing.T) {
	reg := prometheus.NewRegistry()
	var logs bytes.Buffer
	var mu sync.Mutex
	p := testPool(t, func(c *Config) {
		c.Metrics = reg
		c.InitTimeout = 300 * time.Millisecond
		c.Logger = slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, nil))
	})
	fn := goFunction(t, "slow")
	fn.Environment = map[string]string{"FN_MODE": "slowinit"}
	res, _ := invoke(t, p, fn, ev{"action": "echo"})
	if res.ErrorType != errTimeout {
		t.Fatalf("ErrorType = %q, want %s", res.ErrorType, errTimeout)
	}
	if got := metric(t, reg, "kiri_lambda_init_timeouts_total", "function", "slow"); got != 1 {
		t.Errorf("kiri_lambda_init_timeouts_total = %v, want 1", got)
	}
	mu.Lock()
	out := logs.String()
	mu.Unlock()
	if !strings.Contains(out, "level=WARN") || !strings.Contains(out, "function init timed out") || !strings.Contains(out, "function=slow") {
		t.Errorf("no warning about the init timeout in:\n%s", out)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}
