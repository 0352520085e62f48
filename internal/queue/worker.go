package queue

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/kiri-run/kiri/internal/store"
)

// Worker leases. A worker runs on the node that holds its lease. On SQLite one process owns the
// data directory, so a lease is taken once and never needs renewing; on PostgreSQL leases are
// renewed while the worker runs and expire when its node dies, so another node takes over.
const (
	workerLease      = 30 * time.Second
	workerRenew      = 10 * time.Second
	workerRetry      = 5 * time.Second
	workerRestartMin = 100 * time.Millisecond
	workerRestartMax = 30 * time.Second
)

// workers runs the leased long-running workers: the base of every poller (event source
// mappings, pipes, schedules).
type workers struct {
	e       *Engine
	mu      sync.Mutex
	wg      sync.WaitGroup
	running map[string]*runningWorker
	wanted  map[string]func(context.Context)
	poke    chan struct{}
}

// runningWorker is a worker with its cancel function.
type runningWorker struct {
	cancel context.CancelFunc
	done   chan struct{}
}

func newWorkers(e *Engine) *workers {
	return &workers{e: e, running: map[string]*runningWorker{}, wanted: map[string]func(context.Context){}, poke: make(chan struct{}, 1)}
}

// StartWorker runs fn under the lease name until StopWorker(name) or the engine stops: on this
// node once it holds the lease. fn should return when its ctx ends; if it returns earlier it is
// started again after a backoff. Starting a name that runs replaces its function (the old one is
// stopped first).
func (e *Engine) StartWorker(name string, fn func(ctx context.Context)) {
	w := e.workers
	w.mu.Lock()
	w.wanted[name] = fn
	old := w.running[name]
	delete(w.running, name)
	w.mu.Unlock()
	if old != nil {
		old.cancel()
		<-old.done
	}
	w.kick()
}

// StopWorker stops the worker name, waits for it to return and gives up its lease.
func (e *Engine) StopWorker(name string) {
	w := e.workers
	w.mu.Lock()
	delete(w.wanted, name)
	old := w.running[name]
	delete(w.running, name)
	w.mu.Unlock()
	if old != nil {
		old.cancel()
		<-old.done
	}
	ctx, cancel := context.WithTimeout(context.Background(), settleTimeout)
	defer cancel()
	if err := e.st.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec("DELETE FROM kiri_queue_workers WHERE name = ? AND owner = ?", name, e.node)
		return err
	}); err != nil {
		e.log.Error("give up worker lease", "worker", name, "err", err)
	}
}

// Workers lists the workers running on this node.
func (e *Engine) Workers() []string {
	w := e.workers
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]string, 0, len(w.running))
	for n := range w.running {
		out = append(out, n)
	}
	return out
}

func (w *workers) kick() {
	select {
	case w.poke <- struct{}{}:
	default:
	}
}

// run starts wanted workers whose lease this node can take, renews leases on PostgreSQL, and
// stops every worker when ctx ends.
func (w *workers) run(ctx context.Context) {
	var renew <-chan time.Time
	if w.e.pg {
		t := time.NewTicker(workerRenew)
		defer t.Stop()
		renew = t.C
	}
	retry := time.NewTimer(time.Hour)
	defer retry.Stop()
	for {
		if w.startWanted(ctx) {
			retry.Reset(workerRetry)
		}
		select {
		case <-ctx.Done():
			w.stopAll()
			return
		case <-w.poke:
		case <-retry.C:
		case <-renew:
			w.renew(ctx)
		}
	}
}

// startWanted starts every wanted worker not running whose lease it takes. It reports whether
// some wanted worker is held by another node (a later retry may take it).
func (w *workers) startWanted(ctx context.Context) (pending bool) {
	w.mu.Lock()
	var names []string
	for n := range w.wanted {
		if w.running[n] == nil {
			names = append(names, n)
		}
	}
	w.mu.Unlock()
	for _, n := range names {
		ok, err := w.take(ctx, n)
		if err != nil {
			if ctx.Err() == nil {
				w.e.log.Error("take worker lease", "worker", n, "err", err)
			}
			pending = true
			continue
		}
		if !ok {
			pending = true
			continue
		}
		w.mu.Lock()
		fn, wanted := w.wanted[n]
		if wanted && w.running[n] == nil {
			wctx, cancel := context.WithCancel(ctx)
			rw := &runningWorker{cancel: cancel, done: make(chan struct{})}
			w.running[n] = rw
			w.wg.Add(1)
			go w.loop(wctx, n, fn, rw)
		}
		w.mu.Unlock()
	}
	return pending
}

// loop runs fn until ctx ends, restarting it with backoff when it returns early.
func (w *workers) loop(ctx context.Context, name string, fn func(context.Context), rw *runningWorker) {
	defer w.wg.Done()
	defer close(rw.done)
	wait := workerRestartMin
	for ctx.Err() == nil {
		start := time.Now()
		func() {
			defer func() {
				if p := recover(); p != nil {
					w.e.log.Error("worker panicked", "worker", name, "panic", fmt.Sprint(p))
				}
			}()
			fn(ctx)
		}()
		if ctx.Err() != nil {
			return
		}
		if time.Since(start) > workerRestartMax {
			wait = workerRestartMin
		}
		w.e.log.Warn("worker returned early; restarting", "worker", name, "after", wait)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, workerRestartMax)
	}
}

// take acquires or refreshes this node's lease on name.
func (w *workers) take(ctx context.Context, name string) (bool, error) {
	e := w.e
	until := int64(1<<63 - 1)
	if e.pg {
		until = e.now().Add(workerLease).UnixNano()
	}
	var ok bool
	err := e.st.Write(ctx, func(tx *store.Tx) error {
		res, err := tx.Exec(`INSERT INTO kiri_queue_workers (name, owner, lease_until) VALUES (?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, lease_until = excluded.lease_until
			WHERE kiri_queue_workers.owner = excluded.owner OR kiri_queue_workers.lease_until < ?`,
			name, e.node, until, e.now().UnixNano())
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		ok = n > 0
		return err
	})
	if !e.pg && err == nil && !ok {
		// One process owns an SQLite store: a lease held by another owner is left over.
		err = e.st.Write(ctx, func(tx *store.Tx) error {
			_, err := tx.Exec("UPDATE kiri_queue_workers SET owner = ?, lease_until = ? WHERE name = ?", e.node, until, name)
			ok = err == nil
			return err
		})
	}
	return ok, err
}

// renew extends the leases of running workers; a worker whose lease was lost is stopped.
func (w *workers) renew(ctx context.Context) {
	w.mu.Lock()
	var names []string
	for n := range w.running {
		names = append(names, n)
	}
	w.mu.Unlock()
	for _, n := range names {
		ok, err := w.take(ctx, n)
		if err != nil || ok {
			continue
		}
		w.e.log.Warn("lost worker lease; stopping it here", "worker", n)
		w.mu.Lock()
		rw := w.running[n]
		delete(w.running, n)
		w.mu.Unlock()
		if rw != nil {
			rw.cancel()
		}
	}
}

// stopAll stops every running worker and waits for them.
func (w *workers) stopAll() {
	w.mu.Lock()
	for n, rw := range w.running {
		rw.cancel()
		delete(w.running, n)
	}
	w.mu.Unlock()
	w.wg.Wait()
}
