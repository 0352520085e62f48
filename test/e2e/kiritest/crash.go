package kiritest

import (
	"context"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

// WritePath is one way clients write to Kiri. The crash harness drives every registered path
// under concurrent load, kills Kiri with SIGKILL, restarts it, and asks each path to prove that
// everything it had acknowledged survived. Each service adds its own write paths.
type WritePath interface {
	// Name identifies the path in failures.
	Name() string
	// Prepare runs once against the first server, before any load (create buckets, queues…).
	Prepare(ctx context.Context, c *Clients) error
	// Write performs write seq of worker (seq is unique across workers' cycles for a worker). It returns a token describing what was written, only
	// when Kiri acknowledged the write; an error means it was not acknowledged.
	Write(ctx context.Context, c *Clients, worker, seq int) (ack string, err error)
	// Verify checks, against a restarted server, that every acknowledged write is there and
	// whole.
	Verify(ctx context.Context, c *Clients, acks []string) error
}

// CrashOptions configures RunCrash.
type CrashOptions struct {
	// Paths are the write paths to load. Required.
	Paths []WritePath
	// Writers is the number of concurrent writers; default 16.
	Writers int
	// Cycles is how many times Kiri is killed and restarted; default 3.
	Cycles int
	// Load is the longest a cycle runs before the kill; each cycle picks a random time between
	// Load/2 and Load. Default 2s.
	Load time.Duration
	// Server configures the server; DataDir is set by the harness.
	Server Options
	// Settle, when set, runs after the last restart with every acknowledged token per path
	// name; paths with background effects (outbox deliveries) check them here.
	Settle func(t *testing.T, p *Process, acks map[string][]string)
}

// RunCrash runs the crash test: load, kill -9 mid-load, restart, verify, for every cycle.
func RunCrash(t *testing.T, opts CrashOptions) {
	if opts.Writers == 0 {
		opts.Writers = 16
	}
	if opts.Cycles == 0 {
		opts.Cycles = 3
	}
	if opts.Load == 0 {
		opts.Load = 2 * time.Second
	}
	opts.Server.DataDir = t.TempDir()
	ctx := context.Background()
	p := StartProcess(t, opts.Server)
	for _, path := range opts.Paths {
		if err := path.Prepare(ctx, p.Clients()); err != nil {
			t.Fatalf("%s: prepare: %v", path.Name(), err)
		}
	}
	acks := make(map[string][]string)
	for cycle := 1; cycle <= opts.Cycles; cycle++ {
		got := loadUntilKilled(p, opts, cycle)
		for name, a := range got {
			if len(a) == 0 {
				t.Fatalf("cycle %d: %s acknowledged no write before the kill; the test proves nothing", cycle, name)
			}
			acks[name] = append(acks[name], a...)
		}
		restart := time.Now()
		p = StartProcess(t, opts.Server)
		ready := time.Since(restart)
		c := p.Clients()
		for _, path := range opts.Paths {
			if err := path.Verify(ctx, c, acks[path.Name()]); err != nil {
				t.Fatalf("cycle %d: %s: acknowledged writes lost after kill -9: %v", cycle, path.Name(), err)
			}
		}
		t.Logf("cycle %d: killed with SIGKILL under load; restarted in %s; all of %v acknowledged writes verified in %s",
			cycle, ready.Round(time.Millisecond), counts(acks), (time.Since(restart) - ready).Round(time.Millisecond))
	}
	if opts.Settle != nil {
		opts.Settle(t, p, acks)
	}
	if err := p.Stop(30 * time.Second); err != nil {
		t.Errorf("graceful stop after the crash cycles: %v", err)
	}
}

// loadUntilKilled runs the writers against p, kills p at a random moment and returns what was
// acknowledged, per path name.
func loadUntilKilled(p *Process, opts CrashOptions, cycle int) map[string][]string {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := p.Clients()
	var mu sync.Mutex
	acks := make(map[string][]string)
	var wg sync.WaitGroup
	for w := range opts.Writers {
		wg.Go(func() {
			// seq is unique across cycles, so paths can name what they write by it.
			for seq := cycle * 10_000_000; ctx.Err() == nil; seq++ {
				path := opts.Paths[seq%len(opts.Paths)]
				ack, err := path.Write(ctx, c, w, seq)
				if err != nil {
					if !p.Running() {
						return
					}
					continue
				}
				mu.Lock()
				acks[path.Name()] = append(acks[path.Name()], ack)
				mu.Unlock()
			}
		})
	}
	time.Sleep(opts.Load/2 + rand.N(opts.Load/2))
	p.Kill()
	cancel()
	wg.Wait()
	return acks
}

func counts(acks map[string][]string) map[string]int {
	n := make(map[string]int, len(acks))
	for k, v := range acks {
		n[k] = len(v)
	}
	return n
}
