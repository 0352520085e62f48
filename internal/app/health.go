package app

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// healthChecker is something a service needs in order to serve: the store, the queue engine, a
// background worker, the function runtime. Health is nil while it works.
type healthChecker interface {
	Health(ctx context.Context) error
}

// serviceHealth names what one service needs.
type serviceHealth struct {
	name  string
	needs []healthChecker
}

// healthTimeout bounds one /_kiri/health check of everything.
const healthTimeout = 2 * time.Second

// healthReport is /_kiri/health's map: "running" for a service all of whose needs work,
// else "down" (the reason is logged).
func healthReport(ctx context.Context, services []serviceHealth, log *slog.Logger) map[string]string {
	ctx, cancel := context.WithTimeout(ctx, healthTimeout)
	defer cancel()
	out := make(map[string]string, len(services))
	checked := map[healthChecker]error{}
	for _, s := range services {
		out[s.name] = "running"
		for _, n := range s.needs {
			err, ok := checked[n]
			if !ok {
				err = n.Health(ctx)
				checked[n] = err
			}
			if err != nil {
				out[s.name] = "down"
				log.Warn("service down", "service", s.name, "err", err)
				break
			}
		}
	}
	return out
}

// worker is a background goroutine the app runs for a service. Until the app stops it, its
// return means the service no longer does that work.
type worker struct {
	name    string
	stopped atomic.Bool
	err     atomic.Pointer[error]
}

// Health is an error once the worker has returned.
func (w *worker) Health(context.Context) error {
	if !w.stopped.Load() {
		return nil
	}
	if err := w.err.Load(); err != nil && *err != nil {
		return fmt.Errorf("%s stopped: %w", w.name, *err)
	}
	return fmt.Errorf("%s stopped", w.name)
}

// start runs the worker's goroutine in wg until ctx ends, recording when it returns.
func (w *worker) start(ctx context.Context, wg *sync.WaitGroup, log *slog.Logger, run func(context.Context) error) {
	wg.Add(1)
	go func() {
		defer wg.Done()
		err := run(ctx)
		if ctx.Err() == nil {
			log.Error("background worker stopped", "worker", w.name, "err", err)
		}
		w.err.Store(&err)
		w.stopped.Store(true)
	}()
}
