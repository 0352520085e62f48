// Package dispatch runs Kiri's durable asynchronous work. Its Relay hands committed outbox
// records to the handler registered for their topic: in order per key, at least once, with
// retries and backoff, and across restarts.
package dispatch

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sort"
	"sync"
	"time"

	"github.com/kiri-run/kiri/internal/store"
	"github.com/kiri-run/kiri/internal/telemetry"
)

// Handler delivers one outbox record. A nil error acknowledges it (deleted). An error is
// retried with backoff; Permanent(err) (or exhausting MaxAttempts) moves it to the dead-letter
// table instead (kept for inspection, logged).
type Handler func(ctx context.Context, rec store.OutboxRecord) error

// permanentError marks a failure that retrying cannot fix.
type permanentError struct{ err error }

func (p permanentError) Error() string { return "permanent: " + p.err.Error() }
func (p permanentError) Unwrap() error { return p.err }

// Permanent wraps err so that the relay dead-letters the record instead of retrying it.
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

// HandlerOptions tunes delivery for one topic.
type HandlerOptions struct {
	// Concurrency is the number of deliveries in flight for this topic; default 16.
	Concurrency int
	// MaxAttempts ends retries after this many deliveries; 0 = unlimited.
	MaxAttempts int
	// MinBackoff and MaxBackoff bound the exponential, jittered delay between attempts;
	// defaults 100ms and 5m.
	MinBackoff, MaxBackoff time.Duration
}

// Relay timing. The lease is renewed while a delivery runs, so it only bounds how long a crashed
// node's records stay claimed.
const (
	pollInterval  = time.Second
	leaseDuration = 30 * time.Second
	renewInterval = 10 * time.Second
	// topicsInterval paces the check for records whose topic has no handler.
	topicsInterval = 10 * time.Second
	// shutdownGrace is how long Run lets in-flight handlers finish after its ctx ends before it
	// cancels their contexts.
	shutdownGrace = 30 * time.Second
	// settleTimeout bounds the ack/retry write that follows a delivery.
	settleTimeout = 30 * time.Second
)

// Relay delivers outbox records to registered handlers.
type Relay struct {
	st    *store.Store
	log   *slog.Logger
	owner string

	mu       sync.Mutex
	handlers map[string]*topicHandler
	running  bool
}

// topicHandler is a registered handler with its options resolved.
type topicHandler struct {
	topic string
	h     Handler
	opts  HandlerOptions
}

// NewRelay returns a relay over st's outbox. Each relay claims records under its own identity,
// so several relays (in one process or on several nodes) share the work without overlap. node
// is the identity of the Kiri node across restarts (it must be unique among live nodes); when
// the relay starts it takes back at once the records its node had claimed before a crash,
// instead of waiting for their leases to expire. An empty node gets a random identity.
func NewRelay(st *store.Store, log *slog.Logger, node string) *Relay {
	if log == nil {
		log = slog.Default()
	}
	if node == "" {
		var id [8]byte
		_, _ = crand.Read(id[:])
		node = hex.EncodeToString(id[:])
	}
	return &Relay{
		st:       st,
		log:      log.With("component", "dispatch"),
		owner:    node,
		handlers: map[string]*topicHandler{},
	}
}

// Handle registers h for topic, replacing any earlier handler. It must be called before Run.
func (r *Relay) Handle(topic string, h Handler, opts HandlerOptions) {
	if opts.Concurrency <= 0 {
		opts.Concurrency = 16
	}
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = 100 * time.Millisecond
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 5 * time.Minute
	}
	if opts.MaxBackoff < opts.MinBackoff {
		opts.MaxBackoff = opts.MinBackoff
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.running {
		r.log.Error("Handle called after Run; ignored", "topic", topic)
		return
	}
	r.handlers[topic] = &topicHandler{topic: topic, h: h, opts: opts}
}

// Run delivers until ctx ends, then waits for in-flight deliveries and returns. Handlers keep
// their context for a grace period after ctx ends; then it is cancelled too.
func (r *Relay) Run(ctx context.Context) error {
	r.mu.Lock()
	if r.running {
		r.mu.Unlock()
		return errors.New("dispatch: relay is already running")
	}
	r.running = true
	topics := make([]*topicHandler, 0, len(r.handlers))
	for _, th := range r.handlers {
		topics = append(topics, th)
	}
	r.mu.Unlock()
	sort.Slice(topics, func(i, j int) bool { return topics[i].topic < topics[j].topic })
	if n, err := r.st.ReleaseOutboxLeases(ctx, r.owner); err != nil {
		r.log.Error("release leases of an earlier run", "err", err)
	} else if n > 0 {
		r.log.Info("took back records claimed before a restart", "records", n)
	}

	// Handlers outlive ctx by the grace period, so in-flight work can finish.
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

	var wg sync.WaitGroup
	var inflight sync.WaitGroup
	for _, th := range topics {
		wg.Go(func() { r.runTopic(ctx, hctx, th, &inflight) })
	}
	wg.Go(func() { r.renewLeases(ctx) })
	wg.Go(func() { r.reportUnknownTopics(ctx) })
	wg.Wait()
	inflight.Wait()
	return nil
}

// delivered is what a finished delivery tells its topic loop.
type delivered struct {
	retryAt time.Time // zero unless the record was scheduled for a retry
}

// runTopic claims and delivers records of one topic until ctx ends. It claims whenever it was
// woken (commit signal, finished delivery, poll tick, retry timer) and has free slots.
func (r *Relay) runTopic(ctx, hctx context.Context, th *topicHandler, inflight *sync.WaitGroup) {
	wake, unwatch := r.st.WatchOutbox()
	defer unwatch()
	done := make(chan delivered, th.opts.Concurrency)
	busy := 0
	dirty := true
	var nextRetry time.Time
	timer := time.NewTimer(pollInterval)
	defer timer.Stop()
	for {
		if dirty && busy < th.opts.Concurrency && ctx.Err() == nil {
			free := th.opts.Concurrency - busy
			recs, err := r.st.ClaimOutbox(ctx, th.topic, free, r.owner, leaseDuration)
			if err != nil && ctx.Err() == nil {
				r.log.Error("claim outbox records", "topic", th.topic, "err", err)
			}
			dirty = len(recs) == free
			for _, rec := range recs {
				busy++
				inflight.Add(1)
				go func() {
					defer inflight.Done()
					done <- r.deliver(hctx, th, rec)
				}()
			}
		}
		wait := pollInterval
		if !nextRetry.IsZero() {
			wait = min(wait, max(time.Until(nextRetry), time.Millisecond))
		}
		resetTimer(timer, wait)
		select {
		case <-ctx.Done():
			// In-flight deliveries finish on hctx; done has room for every one of them.
			return
		case <-wake:
			dirty = true
		case d := <-done:
			busy--
			dirty = true // an ack may have unblocked the next record of its key
			if !d.retryAt.IsZero() && (nextRetry.IsZero() || d.retryAt.Before(nextRetry)) {
				nextRetry = d.retryAt
			}
		case <-timer.C:
			dirty = true
			if !nextRetry.IsZero() && !time.Now().Before(nextRetry) {
				nextRetry = time.Time{}
			}
		}
	}
}

// resetTimer stops t and arms it for d.
func resetTimer(t *time.Timer, d time.Duration) {
	t.Stop()
	t.Reset(d)
}

// deliver runs the handler for rec and settles the outcome: ack, retry later, or dead letter.
func (r *Relay) deliver(ctx context.Context, th *topicHandler, rec store.OutboxRecord) delivered {
	// The delivery continues the trace of the request that caused the record.
	ctx = telemetry.WithTraceParent(ctx, rec.TraceParent)
	err := callHandler(ctx, th.h, rec)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), settleTimeout)
	defer cancel()
	log := r.log.With("topic", rec.Topic, "id", rec.ID, "attempt", rec.Attempts, "trace_id", telemetry.TraceID(ctx))
	if err == nil {
		if aerr := r.st.AckOutbox(sctx, rec.ID); aerr != nil {
			// The lease expires and the record is delivered again: at least once.
			log.Error("ack delivered record", "err", aerr)
		}
		return delivered{}
	}
	if IsPermanent(err) || (th.opts.MaxAttempts > 0 && rec.Attempts >= th.opts.MaxAttempts) {
		log.Warn("delivery failed for good; moving record to dead letters", "err", err)
		if berr := r.st.BuryOutbox(sctx, rec.ID, r.owner, err.Error()); berr != nil {
			log.Error("move record to dead letters", "err", berr)
		}
		return delivered{}
	}
	at := time.Now().Add(backoff(th.opts, rec.Attempts))
	log.Info("delivery failed; will retry", "err", err, "retry_at", at)
	if rerr := r.st.RetryOutbox(sctx, rec.ID, r.owner, at, err.Error()); rerr != nil {
		log.Error("schedule retry", "err", rerr)
	}
	return delivered{retryAt: at}
}

// callHandler runs h, turning a panic into an error so one bad record cannot stop the relay.
func callHandler(ctx context.Context, h Handler, rec store.OutboxRecord) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("handler panicked: %v", p)
		}
	}()
	return h(ctx, rec)
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

// renewLeases keeps the leases of in-flight deliveries alive until ctx ends.
func (r *Relay) renewLeases(ctx context.Context) {
	t := time.NewTicker(renewInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := r.st.RenewOutbox(ctx, r.owner, time.Now().Add(leaseDuration)); err != nil && ctx.Err() == nil {
				r.log.Error("renew outbox leases", "err", err)
			}
		}
	}
}

// reportUnknownTopics logs, once per topic, records waiting for a topic without a handler. They
// stay queued: a later version may register a handler for them.
func (r *Relay) reportUnknownTopics(ctx context.Context) {
	reported := map[string]bool{}
	t := time.NewTicker(topicsInterval)
	defer t.Stop()
	for {
		topics, err := r.st.OutboxTopics(ctx)
		if err != nil && ctx.Err() == nil {
			r.log.Error("list outbox topics", "err", err)
		}
		r.mu.Lock()
		for _, topic := range topics {
			if r.handlers[topic] == nil && !reported[topic] {
				reported[topic] = true
				r.log.Warn("outbox records wait for a topic with no handler; keeping them", "topic", topic)
			}
		}
		r.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
