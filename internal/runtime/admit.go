package runtime

import (
	"context"
)

// Admission: how an invocation gets an instance. It takes an idle instance of its function;
// else it starts one, when its function and the pool have fewer instances in their init phase
// than the cold-start bounds allow; else it waits, in arrival order, for an instance to go
// idle or a start to become free. A burst of invocations of a cold function thus starts a few
// instances at a time, each with the CPU it needs to finish its init, and the rest of the
// burst runs on them as they become ready, instead of every invocation starting an instance
// and every init running out of time.

// waiter is an invocation waiting for an instance.
type waiter struct {
	fp       *fnPool
	reserved *int // the function's reserved concurrency, as invoked
	grant    chan grant
}

// grant is what a waiter is given: an idle instance, leave to start one (inst and err nil), or
// an error (ErrThrottled, ErrClosed).
type grant struct {
	inst *instance
	err  error
}

// acquire reserves concurrency and returns an idle instance or a newly started one, waiting
// for either when the cold-start bounds are reached.
func (p *Pool) acquire(ctx context.Context, fn *Function) (*instance, *fnPool, error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, nil, ErrClosed
	}
	fp := p.fns[fn.Key]
	if fp == nil {
		fp = p.newFnPool(fn)
		p.fns[fn.Key] = fp
	}
	w := &waiter{fp: fp, reserved: fn.ReservedConcurrency, grant: make(chan grant, 1)}
	g, ok := p.tryGrantLocked(w)
	if !ok {
		fp.waiting++
		p.waiters = append(p.waiters, w)
	}
	p.mu.Unlock()
	if !ok {
		select {
		case g = <-w.grant:
		case <-ctx.Done():
			p.mu.Lock()
			gone := p.removeWaiterLocked(w)
			p.mu.Unlock()
			if !gone {
				p.giveBack(fp, <-w.grant) // granted meanwhile
			}
			return nil, fp, ctx.Err()
		}
	}
	switch {
	case g.err != nil:
		if g.err == ErrThrottled {
			fp.m.throttles.Inc()
		}
		return nil, fp, g.err
	case g.inst != nil:
		return g.inst, fp, nil
	}
	inst, err := p.startInstance(ctx, fp)
	if err != nil {
		p.mu.Lock()
		p.unbusyLocked(fp)
		p.dispatchLocked()
		p.mu.Unlock()
		return nil, fp, err
	}
	return inst, fp, nil
}

// tryGrantLocked gives w what it can have now: an error, an idle instance or a start (with
// concurrency reserved for it); ok is false when w must wait.
func (p *Pool) tryGrantLocked(w *waiter) (g grant, ok bool) {
	fp := w.fp
	switch {
	case p.closed:
		return grant{err: ErrClosed}, true
	case (w.reserved != nil && fp.busy >= *w.reserved) || p.busy >= p.cfg.AccountConcurrency:
		return grant{err: ErrThrottled}, true
	case len(fp.idle) > 0:
		n := len(fp.idle)
		inst := fp.idle[n-1]
		fp.idle[n-1] = nil
		fp.idle = fp.idle[:n-1]
		fp.m.idle.Dec()
		p.busyLocked(fp)
		return grant{inst: inst}, true
	case fp.starting < p.cfg.ColdStartsPerFunction && p.starting < p.cfg.ColdStarts:
		fp.starting++
		p.starting++
		p.busyLocked(fp)
		return grant{}, true
	}
	return grant{}, false
}

// dispatchLocked serves the waiters that can be served now, in arrival order. It runs after
// every change that can serve one: an instance going idle, an init ending, the pool closing.
func (p *Pool) dispatchLocked() {
	kept := p.waiters[:0]
	for _, w := range p.waiters {
		g, ok := p.tryGrantLocked(w)
		if !ok {
			kept = append(kept, w)
			continue
		}
		w.fp.waiting--
		w.grant <- g
	}
	clear(p.waiters[len(kept):])
	p.waiters = kept
}

// removeWaiterLocked takes w off the wait list; false when it was served meanwhile.
func (p *Pool) removeWaiterLocked(w *waiter) bool {
	for i, x := range p.waiters {
		if x == w {
			p.waiters = append(p.waiters[:i], p.waiters[i+1:]...)
			w.fp.waiting--
			return true
		}
	}
	return false
}

// giveBack returns what a waiter that gave up was granted.
func (p *Pool) giveBack(fp *fnPool, g grant) {
	switch {
	case g.err != nil:
	case g.inst != nil:
		p.release(g.inst, true)
	default:
		p.mu.Lock()
		p.unbusyLocked(fp)
		p.initEndedLocked(fp)
		p.mu.Unlock()
	}
}

func (p *Pool) busyLocked(fp *fnPool) {
	fp.busy++
	p.busy++
	fp.m.busy.Inc()
}

// initEnded frees the start an instance of fp held, once its init is over (ready, failed or
// never begun), and serves the waiters that were waiting for it.
func (p *Pool) initEnded(fp *fnPool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.initEndedLocked(fp)
}

func (p *Pool) initEndedLocked(fp *fnPool) {
	fp.starting--
	p.starting--
	p.dispatchLocked()
}
