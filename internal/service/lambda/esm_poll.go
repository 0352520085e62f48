package lambda

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/eventsource"
	"github.com/kiri-run/kiri/internal/pattern"
	"github.com/kiri-run/kiri/internal/runtime"
)

// The poller of an SQS event source mapping is a leased worker on the queue engine (so it runs
// on one node, and starts again with Kiri). It runs a few pollers that long-poll the queue
// through the engine, which wakes them when a message arrives: an idle mapping costs nothing.
// Each poller receives a batch, invokes the function synchronously with it and deletes what
// succeeded; what failed stays leased until the queue's visibility timeout ends, so the
// queue's redrive policy moves it to the dead-letter queue after maxReceiveCount receives.
// While batches keep coming, pollers are added, as Lambda scales an SQS mapping: five at
// once, then up to 300 a minute, to the mapping's MaximumConcurrency and the function's
// concurrency; pollers beyond the idle few stop once the queue stays empty.

// Poller scaling (AWS Lambda Developer Guide, "Configuring scaling behavior for SQS event
// source mappings").
const (
	// pollersIdle is how many pollers wait on an idle queue: Lambda scales back to as few as 2.
	pollersIdle = 2
	// pollersBurst is how many pollers start at once when messages arrive: Lambda starts with
	// five concurrent batches.
	pollersBurst = 5
	// pollersStep is the pace of further pollers while messages keep coming: 300 a minute.
	pollersStep = 200 * time.Millisecond
	// pollersMax is the most batches a mapping processes at once.
	pollersMax = 1000
	// leadWait is how long an idle poller waits per receive. The engine wakes it when a message
	// arrives, so the length only bounds how often an idle mapping looks at all.
	leadWait = time.Hour
	// retireWait is how long a poller beyond the idle few waits for a message before it stops:
	// SQS's longest long poll.
	retireWait = 20 * time.Second
	// recheckMin and recheckMax bound how often a mapping whose function or queue does not
	// exist looks again: soon at first, then once a minute.
	recheckMin = time.Second
	recheckMax = time.Minute
	// stopGrace is how long the batches in flight of a stopped poller (disabled, updated,
	// deleted, Kiri shutting down) may finish.
	stopGrace = 30 * time.Second
	// throttleMin and throttleMax bound the backoff of a throttled invocation.
	throttleMin = 500 * time.Millisecond
	throttleMax = 10 * time.Second
	// visibilityMargin is what Lambda adds to the batching window and function timeout when
	// they exceed the queue's visibility timeout.
	visibilityMargin = 30 * time.Second
)

// broadcast wakes every waiter at once: fire closes the channel wait returned, and the next
// wait gets a fresh one.
type broadcast struct {
	mu sync.Mutex
	ch chan struct{}
}

// wait returns the channel the next fire closes.
func (b *broadcast) wait() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ch == nil {
		b.ch = make(chan struct{})
	}
	return b.ch
}

// fire wakes the waiters.
func (b *broadcast) fire() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ch != nil {
		close(b.ch)
		b.ch = nil
	}
}

// pollerName is the engine worker name of a mapping's poller.
func pollerName(uuid string) string { return "lambda.esm." + uuid }

// startPoller runs (or restarts, with its new configuration) a mapping's poller.
func (s *Service) startPoller(m *mapping) {
	if m.stream() {
		s.startStreamPoller(m)
		return
	}
	p := &mappingPoller{s: s, m: *m, log: s.log.With("event_source_mapping", m.UUID, "queue", m.EventSourceArn)}
	p.filters, _ = pattern.CompileFilterCriteria(m.Filters) // checked when the mapping was stored
	s.deps.Queue.StartWorker(pollerName(m.UUID), p.run)
}

// stopPoller stops a mapping's poller, letting its batches in flight finish.
func (s *Service) stopPoller(uuid string) { s.deps.Queue.StopWorker(pollerName(uuid)) }

// mappingPoller is the running poller of one mapping.
type mappingPoller struct {
	s       *Service
	m       mapping
	filters *pattern.FilterCriteria
	log     *slog.Logger

	mu       sync.Mutex
	active   int
	lastGrow time.Time
	missing  string        // what the pollers last found missing ("" for nothing), logged once
	recheck  time.Duration // the next pause while it stays missing
	wg       sync.WaitGroup
}

// run polls until ctx ends, then waits for the batches in flight, which may run on for
// stopGrace.
func (p *mappingPoller) run(ctx context.Context) {
	work, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	stop := context.AfterFunc(ctx, func() { time.AfterFunc(stopGrace, cancel) })
	defer stop()
	p.mu.Lock()
	for range p.idlePollers(nil) {
		p.spawnLocked(ctx, work)
	}
	p.mu.Unlock()
	p.wg.Wait()
	p.s.pollers.DeleteLabelValues(p.m.UUID)
}

// spawnLocked starts one more poller.
func (p *mappingPoller) spawnLocked(ctx, work context.Context) {
	p.active++
	p.s.pollers.WithLabelValues(p.m.UUID).Set(float64(p.active))
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for ctx.Err() == nil && p.poll(ctx, work) {
		}
	}()
}

// limit is how many pollers the mapping may run: its MaximumConcurrency, at most the
// function's reserved concurrency.
func (p *mappingPoller) limit(t *target) int {
	n := pollersMax
	if p.m.MaxConcurrency > 0 {
		n = min(n, int(p.m.MaxConcurrency))
	}
	if t != nil && t.reservedConcurrency != nil {
		n = min(n, max(1, *t.reservedConcurrency))
	}
	return n
}

// idlePollers is how many pollers wait on an idle queue.
func (p *mappingPoller) idlePollers(t *target) int { return min(pollersIdle, p.limit(t)) }

// shouldGrow reports whether a mapping running active pollers out of limit, whose last poller
// was added at last, adds one at now, messages having kept coming.
func shouldGrow(active, limit int, last, now time.Time) bool {
	switch {
	case active >= limit:
		return false
	case active < pollersBurst:
		return true
	}
	return now.Sub(last) >= pollersStep
}

// grow adds a poller when messages keep coming and the pace and limit allow it.
func (p *mappingPoller) grow(ctx, work context.Context, t *target) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.s.now()
	if shouldGrow(p.active, p.limit(t), p.lastGrow, now) {
		p.lastGrow = now
		p.spawnLocked(ctx, work)
	}
}

// retire stops a poller beyond the idle few; it reports whether the caller is to stop.
func (p *mappingPoller) retire(t *target) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.active > p.idlePollers(t) {
		p.active--
		p.s.pollers.WithLabelValues(p.m.UUID).Set(float64(p.active))
		return true
	}
	return false
}

// extra reports whether the pollers outnumber the idle few.
func (p *mappingPoller) extra(t *target) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.active > p.idlePollers(t)
}

// poll receives and processes one batch. It reports false when the poller retires.
func (p *mappingPoller) poll(ctx, work context.Context) bool {
	deleted := p.s.functionDeleted.wait()
	t, visibility, ok := p.ready(ctx)
	if !ok {
		return true
	}
	wait := leadWait
	if p.extra(t) {
		wait = retireWait
	}
	// A function's deletion ends the wait: the poller looks again whether its function exists
	// before it takes a message.
	rctx, cancel := context.WithCancel(ctx)
	go func() {
		select {
		case <-deleted:
			cancel()
		case <-rctx.Done():
		}
	}()
	leaseEnd := p.s.now().Add(visibility)
	recs := p.collect(rctx, visibility, wait)
	interrupted := rctx.Err() != nil && ctx.Err() == nil
	cancel()
	if len(recs) == 0 {
		return ctx.Err() != nil || interrupted || !p.retire(t)
	}
	// The function may have changed or gone during the wait.
	if t, ok = p.function(ctx, func() { p.release(work, recs) }); !ok {
		return true
	}
	p.grow(ctx, work, t)
	p.process(work, t, recs, leaseEnd)
	return true
}

// function resolves the mapped function; ok is false when it cannot be invoked now: then
// unable (if not nil) runs, and the poller pauses.
func (p *mappingPoller) function(ctx context.Context, unable func()) (*target, bool) {
	m := &p.m
	t, err := p.s.resolve(ctx, m.Account, m.Region, m.FunctionArn, "")
	var apiErr *awsproto.Error
	missing, pause := "", time.Second
	switch {
	case errors.As(err, &apiErr):
		missing = "function"
	case err != nil:
		p.log.Error("event source mapping: resolve function", "err", err)
	case t.state != statePending:
		return t, true
	}
	if unable != nil {
		unable()
	}
	p.pause(ctx, missing, pause)
	return nil, false
}

// release makes received messages visible again at once: their function cannot run them.
func (p *mappingPoller) release(ctx context.Context, recs []polledRecord) {
	handles := make([]string, len(recs))
	for i, r := range recs {
		handles[i] = r.receipt
	}
	if _, err := p.s.deps.Queues.ChangeMessagesVisibility(ctx, p.m.EventSourceArn, handles, 0); err != nil {
		p.log.Error("event source mapping: release messages", "err", err)
	}
}

// ready resolves the function and the queue, and the visibility timeout of a batch; ok is
// false (after a pause) when either is missing: the mapping stays, and resumes once both
// exist.
func (p *mappingPoller) ready(ctx context.Context) (t *target, visibility time.Duration, ok bool) {
	m := &p.m
	t, ok = p.function(ctx, nil)
	if !ok {
		return nil, 0, false
	}
	_, vt, exists, err := p.s.deps.Queues.PollQueue(ctx, m.EventSourceArn)
	if err != nil || !exists {
		if err != nil {
			p.log.Error("event source mapping: read queue", "err", err)
		}
		p.pause(ctx, "queue", 0)
		return nil, 0, false
	}
	p.found()
	visibility = vt
	// Lambda's effective visibility timeout when the batching window and the function's
	// timeout outlast the queue's.
	if window, timeout := time.Duration(m.Window)*time.Second, time.Duration(t.timeout)*time.Second; window > 0 && window+timeout > vt {
		visibility = window + timeout + visibilityMargin
	}
	return t, visibility, true
}

// pause waits d (or until ctx ends). what names a missing function or queue, logged once; the
// wait is then the next recheck.
func (p *mappingPoller) pause(ctx context.Context, what string, d time.Duration) {
	if what != "" {
		p.mu.Lock()
		first := p.missing != what
		if first {
			p.recheck = recheckMin
		}
		p.missing, d = what, p.recheck
		p.recheck = min(2*p.recheck, recheckMax)
		p.mu.Unlock()
		if first {
			p.log.Warn("event source mapping paused: its "+what+" does not exist", "function", p.m.FunctionArn)
		}
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// found notes that the function and queue exist again.
func (p *mappingPoller) found() {
	p.mu.Lock()
	resumed := p.missing
	p.missing = ""
	p.mu.Unlock()
	if resumed != "" {
		p.log.Info("event source mapping resumed: its " + resumed + " exists")
	}
}

// collect receives a batch: it waits up to wait for the first message, then, with a batching
// window, goes on receiving until the batch is full, the window has passed or the batch would
// no longer fit one invocation.
func (p *mappingPoller) collect(ctx context.Context, visibility, wait time.Duration) []polledRecord {
	m := &p.m
	var recs []polledRecord
	size := 0
	var deadline time.Time
	for len(recs) < int(m.BatchSize) && size < maxSyncPayload {
		if len(recs) > 0 {
			if m.Window == 0 {
				break
			}
			if deadline.IsZero() {
				deadline = p.s.now().Add(time.Duration(m.Window) * time.Second)
			}
			if wait = deadline.Sub(p.s.now()); wait <= 0 {
				break
			}
		}
		msgs, ok, err := p.s.deps.Queues.PollMessages(ctx, m.EventSourceArn, int(m.BatchSize)-len(recs), wait, visibility)
		if err != nil && ctx.Err() == nil {
			p.log.Error("event source mapping: receive", "err", err)
			if len(recs) == 0 {
				p.pause(ctx, "", time.Second)
			}
		}
		if err != nil || !ok || len(msgs) == 0 {
			break
		}
		for _, raw := range msgs {
			r, err := sqsRecordOf(raw, m.EventSourceArn, m.Region)
			if err != nil {
				p.log.Error("event source mapping: received message", "err", err)
				continue
			}
			recs = append(recs, r)
			size += len(r.json)
		}
	}
	return recs
}

// process filters a batch, invokes the function with what passes, in events that fit the
// synchronous payload limit, and deletes what succeeded and what the filters dropped. On a FIFO
// queue a failed event stops the batch: its later messages wait too, in order.
func (p *mappingPoller) process(ctx context.Context, t *target, recs []polledRecord, leaseEnd time.Time) {
	recs = p.filter(ctx, recs)
	for _, chunk := range eventChunks(recs, maxSyncPayload) {
		done := p.invoke(ctx, t, chunk, leaseEnd)
		if len(done) > 0 {
			p.delete(ctx, done)
		}
		if len(done) < len(chunk) && p.m.fifo() {
			return
		}
	}
}

// filter drops (and deletes, as Lambda does) the records the mapping's filters reject.
func (p *mappingPoller) filter(ctx context.Context, recs []polledRecord) []polledRecord {
	if p.filters.Len() == 0 {
		return recs
	}
	var kept, dropped []polledRecord
	for _, r := range recs {
		ev, err := pattern.RecordEvent(r.json)
		if err == nil && p.filters.Matches(ev) {
			kept = append(kept, r)
		} else {
			dropped = append(dropped, r)
		}
	}
	if len(dropped) > 0 {
		p.delete(ctx, dropped)
	}
	return kept
}

// invoke runs the function with a batch and returns the records it processed: all of them,
// none (an error, or a response that fails the batch), or, with ReportBatchItemFailures, those
// not reported. A throttled invocation is retried with backoff while the batch's lease leaves
// time for a run; otherwise its messages become visible again when the lease ends.
func (p *mappingPoller) invoke(ctx context.Context, t *target, recs []polledRecord, leaseEnd time.Time) []polledRecord {
	payload := recordsEvent(recs)
	backoff := throttleMin
	var res *runtime.Result
	var err error
	for {
		res, err = p.s.run(ctx, &invocation{t: t, payload: payload, requestID: newRequestID()}, nil)
		var apiErr *awsproto.Error
		if !errors.As(err, &apiErr) || apiErr.Code != "TooManyRequestsException" {
			break
		}
		if p.s.now().Add(backoff + time.Duration(t.timeout)*time.Second).After(leaseEnd) {
			p.log.Info("event source mapping: invocation throttled; the batch returns to the queue when its visibility timeout ends", "messages", len(recs))
			return nil
		}
		timer := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case <-timer.C:
		}
		backoff = min(2*backoff, throttleMax)
	}
	switch {
	case err != nil:
		if ctx.Err() == nil {
			p.log.Warn("event source mapping: invocation failed", "function", p.m.FunctionArn, "messages", len(recs), "err", err)
		}
		return nil
	case res.FunctionError != "":
		p.log.Info("event source mapping: function returned an error; the batch returns to the queue when its visibility timeout ends",
			"function", p.m.FunctionArn, "messages", len(recs), "error_type", res.ErrorType)
		return nil
	case !p.m.ReportFailures:
		return recs
	}
	ids := make(map[string]bool, len(recs))
	for _, r := range recs {
		ids[r.id] = true
	}
	failed, ok := eventsource.BatchItemFailures(res.Payload, ids)
	if !ok {
		p.log.Info("event source mapping: the function's partial batch response fails the whole batch", "function", p.m.FunctionArn, "messages", len(recs))
		return nil
	}
	done := recs[:0:0]
	for _, r := range recs {
		if !failed[r.id] {
			done = append(done, r)
		}
	}
	return done
}

// delete deletes processed (or filtered out) messages.
func (p *mappingPoller) delete(ctx context.Context, recs []polledRecord) {
	handles := make([]string, len(recs))
	for i, r := range recs {
		handles[i] = r.receipt
	}
	if _, err := p.s.deps.Queues.DeleteMessages(ctx, p.m.EventSourceArn, handles); err != nil {
		// The messages are received again once their lease ends: at least once.
		p.log.Error("event source mapping: delete processed messages", "err", err)
	}
}
