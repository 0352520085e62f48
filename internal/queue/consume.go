package queue

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"sync"
	"time"

	"github.com/kiri-run/kiri/internal/store"
	"github.com/kiri-run/kiri/internal/telemetry"
)

// Handler processes one message of a handled queue. A nil error deletes the message (or, for a
// repeating queue, makes it due again after the repeat interval). An error gives it back to be
// retried after a backoff; Permanent(err), or exhausting MaxAttempts, moves it to the queue's
// dead-letter queue (DeadLetterQueue) instead, where it is kept for inspection.
type Handler func(ctx context.Context, m Message) error

// permanentError marks a failure that retrying cannot fix.
type permanentError struct{ err error }

func (p permanentError) Error() string { return "permanent: " + p.err.Error() }
func (p permanentError) Unwrap() error { return p.err }

// Permanent wraps err so that the engine dead-letters the message instead of retrying it.
func Permanent(err error) error {
	if err == nil {
		err = errors.New("permanent failure")
	}
	return permanentError{err: err}
}

// IsPermanent reports whether err, or an error it wraps, was marked with Permanent.
func IsPermanent(err error) bool {
	var p permanentError
	return errors.As(err, &p)
}

// retryAtError asks for a retry at a given time instead of the backoff's.
type retryAtError struct {
	err error
	at  time.Time
}

func (r retryAtError) Error() string { return r.err.Error() }
func (r retryAtError) Unwrap() error { return r.err }

// RetryAt wraps err so that the engine retries the message at at rather than after its
// backoff; attempts still count toward MaxAttempts.
func RetryAt(err error, at time.Time) error {
	if err == nil {
		err = errors.New("retry")
	}
	return retryAtError{err: err, at: at}
}

// postponedError asks for the message again at a given time without counting this delivery as
// an attempt: the handler did not try it (a rate limit held it back).
type postponedError struct {
	err error
	at  time.Time
}

func (p postponedError) Error() string { return p.err.Error() }
func (p postponedError) Unwrap() error { return p.err }

// Postpone wraps err so that the engine delivers the message again at at, and the delivery
// that returned it does not count toward MaxAttempts or the message's receive count.
func Postpone(err error, at time.Time) error {
	if err == nil {
		err = errors.New("postponed")
	}
	return postponedError{err: err, at: at}
}

// IsPostponed reports whether err, or an error it wraps, was made by Postpone.
func IsPostponed(err error) bool {
	var p postponedError
	return errors.As(err, &p)
}

// HandlerOptions tunes delivery for one queue.
type HandlerOptions struct {
	// Concurrency is the number of messages in flight; default 16.
	Concurrency int
	// MaxAttempts ends retries after this many deliveries; 0 = unlimited.
	MaxAttempts int
	// MinBackoff and MaxBackoff bound the exponential, jittered delay between attempts;
	// defaults 100ms and 5m.
	MinBackoff, MaxBackoff time.Duration
	// Repeat, when positive, makes the queue's messages periodic: after a successful delivery a
	// message is due again Repeat later instead of deleted.
	Repeat time.Duration
}

// Lease timing of handled queues. Leases are extended while handlers run, so their length
// only bounds how long a crashed node's messages stay leased on a shared database.
const (
	handlerLease  = 30 * time.Second
	renewInterval = 10 * time.Second
	// shutdownGrace is how long Run lets in-flight handlers finish after its ctx ends before it
	// cancels their contexts.
	shutdownGrace = 30 * time.Second
	// settleTimeout bounds the write that settles a delivery.
	settleTimeout = 30 * time.Second
)

// consumer is a handled queue.
type consumer struct {
	queue string
	h     Handler
	opts  HandlerOptions
}

// Handle registers h for queue, replacing any earlier handler. It must be called before Run.
func (e *Engine) Handle(queue string, h Handler, opts HandlerOptions) {
	if opts.Concurrency <= 0 {
		opts.Concurrency = 16
	}
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = 100 * time.Millisecond
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 5 * time.Minute
	}
	opts.MaxBackoff = max(opts.MaxBackoff, opts.MinBackoff)
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.running {
		e.log.Error("Handle called after Run; ignored", "queue", queue)
		return
	}
	e.handlers[queue] = &consumer{queue: queue, h: h, opts: opts}
}

// Run delivers handled queues' messages, drops expired messages, runs periodic jobs and leased
// workers until ctx ends; then it waits for in-flight deliveries (handlers keep their context
// for a grace period) and returns.
func (e *Engine) Run(ctx context.Context) error {
	e.mu.Lock()
	if e.running {
		e.mu.Unlock()
		return errors.New("queue: engine is already running")
	}
	e.running = true
	cs := make([]*consumer, 0, len(e.handlers))
	for _, c := range e.handlers {
		cs = append(cs, c)
	}
	jobs := make([]*periodicJob, 0, len(e.periodic))
	for _, j := range e.periodic {
		jobs = append(jobs, j)
	}
	e.mu.Unlock()
	sort.Slice(cs, func(i, j int) bool { return cs[i].queue < cs[j].queue })
	for _, c := range cs {
		if n, err := e.ReleaseLeases(ctx, c.queue, e.node); err != nil {
			e.log.Error("take back leases of an earlier run", "queue", c.queue, "err", err)
		} else if n > 0 {
			e.log.Info("took back messages leased before a restart", "queue", c.queue, "messages", n)
		}
	}
	if err := e.schedulePeriodic(ctx, jobs); err != nil {
		e.log.Error("schedule periodic jobs", "err", err)
	}

	hctx, cancelHandlers := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelHandlers()
	stopGrace := context.AfterFunc(ctx, func() {
		t := time.NewTimer(shutdownGrace)
		defer t.Stop()
		select {
		case <-t.C:
			cancelHandlers()
		case <-hctx.Done():
		}
	})
	defer stopGrace()

	var wg, inflight sync.WaitGroup
	for _, c := range cs {
		wg.Go(func() { e.consume(ctx, hctx, c, &inflight) })
	}
	wg.Go(func() { e.runExpiry(ctx) })
	wg.Go(func() { e.workers.run(ctx) })
	wg.Wait()
	inflight.Wait()
	return nil
}

// settled is what a finished delivery tells its consumer loop.
type settled struct{ id int64 }

// consume receives and delivers one queue's messages until ctx ends. It waits for a wake-up of
// the queue or for its next message's due time; it polls nothing.
func (e *Engine) consume(ctx, hctx context.Context, c *consumer, inflight *sync.WaitGroup) {
	done := make(chan settled, c.opts.Concurrency)
	busy := 0
	look := true
	var renew *time.Ticker
	var renewC <-chan time.Time
	defer func() {
		if renew != nil {
			renew.Stop()
		}
	}()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		wake := e.signals.channel(c.queue)
		looked := e.now()
		if look && busy < c.opts.Concurrency && ctx.Err() == nil {
			free := c.opts.Concurrency - busy
			got, err := e.Receive(ctx, c.queue, ReceiveOptions{Max: free, Visibility: handlerLease, OnePerGroup: true, Owner: e.node})
			if err != nil && ctx.Err() == nil {
				e.log.Error("receive messages", "queue", c.queue, "err", err)
			}
			for _, r := range got {
				busy++
				inflight.Add(1)
				go func() {
					defer inflight.Done()
					e.deliver(hctx, c, r)
					done <- settled{r.ID}
				}()
			}
			look = len(got) == free
		}
		if busy > 0 && renew == nil {
			renew = time.NewTicker(renewInterval)
			renewC = renew.C
		} else if busy == 0 && renew != nil {
			renew.Stop()
			renew, renewC = nil, nil
		}
		var due <-chan time.Time
		if !look {
			if next := e.nextDue(ctx, c.queue, looked); !next.IsZero() {
				timer.Reset(max(next.Sub(e.now()), time.Millisecond))
				due = timer.C
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-wake:
			look = true
		case <-done:
			busy--
			look = true // a deletion may have unblocked the next message of its group
		case <-due:
			look = true
		case <-renewC:
			if err := e.ExtendLeases(ctx, c.queue, e.node, e.now().Add(handlerLease)); err != nil && ctx.Err() == nil {
				e.log.Error("extend leases", "queue", c.queue, "err", err)
			}
		}
		timer.Stop()
	}
}

// deliver runs the handler for r and settles the outcome: delete (or repeat), retry later, or
// dead letter.
func (e *Engine) deliver(ctx context.Context, c *consumer, r Received) {
	ctx = telemetry.WithTraceParent(ctx, r.TraceParent)
	err := callHandler(ctx, c.h, r.Message)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), settleTimeout)
	defer cancel()
	log := e.log.With("queue", c.queue, "id", r.ID, "attempt", r.Receives, "trace_id", telemetry.TraceID(ctx))
	switch {
	case err == nil && c.opts.Repeat > 0:
		if rerr := e.Release(sctx, c.queue, r.Receipt, e.now().Add(c.opts.Repeat), ""); rerr != nil {
			log.Error("schedule next run", "err", rerr)
		}
	case err == nil:
		if _, derr := e.Delete(sctx, c.queue, r.Receipt); derr != nil {
			// The lease ends and the message is delivered again: at least once.
			log.Error("delete delivered message", "err", derr)
		}
	case c.opts.Repeat > 0:
		log.Warn("periodic job failed; it runs again at its next time", "err", err)
		if rerr := e.Release(sctx, c.queue, r.Receipt, e.now().Add(c.opts.Repeat), err.Error()); rerr != nil {
			log.Error("schedule next run", "err", rerr)
		}
	case IsPostponed(err):
		var p postponedError
		errors.As(err, &p)
		if rerr := e.postpone(sctx, c.queue, r.Receipt, p.at); rerr != nil {
			log.Error("postpone message", "err", rerr)
		}
	case IsPermanent(err) || (c.opts.MaxAttempts > 0 && r.Receives >= c.opts.MaxAttempts):
		log.Warn("delivery failed for good; moving message to dead letters", "err", err)
		if merr := e.MoveLeased(sctx, c.queue, r.Receipt, DeadLetterQueue(c.queue), err.Error()); merr != nil {
			log.Error("move message to dead letters", "err", merr)
		}
	default:
		at := e.now().Add(backoff(c.opts, r.Receives))
		var ra retryAtError
		if errors.As(err, &ra) {
			at = ra.at
		}
		log.Info("delivery failed; will retry", "err", err, "retry_at", at)
		if rerr := e.Release(sctx, c.queue, r.Receipt, at, err.Error()); rerr != nil {
			log.Error("schedule retry", "err", rerr)
		}
	}
}

// callHandler runs h, turning a panic into an error so one bad message cannot stop the engine.
func callHandler(ctx context.Context, h Handler, m Message) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("handler panicked: %v", p)
		}
	}()
	return h(ctx, m)
}

// backoff is the delay before retrying after the attempt-th delivery failed: exponential from
// MinBackoff, capped at MaxBackoff, with the upper half jittered.
func backoff(opts HandlerOptions, attempt int) time.Duration {
	d := opts.MinBackoff
	for i := 1; i < attempt && d < opts.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, opts.MaxBackoff)
	half := d / 2
	return half + rand.N(half+1)
}

// periodicJob is a job Every registered.
type periodicJob struct {
	name     string
	interval time.Duration
	first    time.Duration
}

// periodicQueue is the queue of a periodic job's one timer message.
func periodicQueue(name string) string { return "every." + name }

// Every runs fn every interval, on one node, from a durable timer: the time of the next run
// survives restarts, and a run a crash interrupted runs again. The first run is due first after
// Run starts when the job is new. fn's failures are logged; the job runs again at its next time.
// It must be called before Run.
func (e *Engine) Every(name string, interval, first time.Duration, fn func(ctx context.Context) error) {
	e.Handle(periodicQueue(name), func(ctx context.Context, _ Message) error { return fn(ctx) },
		HandlerOptions{Concurrency: 1, Repeat: interval})
	e.mu.Lock()
	defer e.mu.Unlock()
	e.periodic[name] = &periodicJob{name: name, interval: interval, first: first}
}

// schedulePeriodic gives each periodic job its timer message if it has none. A job whose
// interval shrank is brought forward to at most one interval from now.
func (e *Engine) schedulePeriodic(ctx context.Context, jobs []*periodicJob) error {
	if len(jobs) == 0 {
		return nil
	}
	return e.st.Write(ctx, func(tx *store.Tx) error {
		now := e.now()
		for _, j := range jobs {
			q := periodicQueue(j.name)
			var id, at int64
			err := tx.QueryRow("SELECT id, visible_at FROM kiri_queue_messages WHERE queue = ? ORDER BY id LIMIT 1", q).Scan(&id, &at)
			switch {
			case errors.Is(err, errNoRows):
				if _, err := e.Send(tx, q, Outgoing{At: now.Add(j.first)}); err != nil {
					return err
				}
			case err != nil:
				return err
			case at > now.Add(j.interval).UnixNano():
				if _, err := tx.Exec("UPDATE kiri_queue_messages SET visible_at = ? WHERE id = ?", now.Add(j.interval).UnixNano(), id); err != nil {
					return err
				}
			}
		}
		return nil
	})
}
