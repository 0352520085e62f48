package pipes

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/kiri-run/kiri/internal/dispatch"
	"github.com/kiri-run/kiri/internal/eventsource"
	"github.com/kiri-run/kiri/internal/store"
	"github.com/kiri-run/kiri/internal/streamlog"
)

// Polling. A running pipe's poller is a leased worker on the queue engine. An SQS pipe
// long-polls its queue through the SQS service (the engine wakes the wait when a message
// arrives, so an idle pipe costs nothing), passes each batch on, and deletes its messages once
// the target took them; a batch that fails stays leased until the queue's visibility timeout
// ends and is received again, so the queue's redrive policy moves it to its dead-letter queue.
// A stream pipe reads its stream's shards from the record log from its checkpoint, retries a
// failed batch as its parameters say, and moves the checkpoint past it.

const (
	// leadWait is how long an idle poller waits per receive; arrivals wake it sooner.
	leadWait = time.Hour
	// recheck is the pause of a poller whose queue is missing or whose read failed.
	recheck = time.Second
	// streamIdleRecheck bounds an idle stream poller's wait: appends wake it sooner.
	streamIdleRecheck = time.Second
	// retryMin and retryMax bound the backoff between retries of a failed stream batch.
	retryMin = 100 * time.Millisecond
	retryMax = 5 * time.Second
	// maxBatchBytes bounds a batch as Pipes does: 6 MB, a synchronous invocation's payload.
	maxBatchBytes = 6 << 20
)

// pause waits d or until ctx ends.
func pause(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// runQueue polls an SQS source until ctx ends.
func (r *runner) runQueue(ctx context.Context) {
	for ctx.Err() == nil {
		_, visibility, ok, err := r.s.queues.PollQueue(ctx, r.p.Source)
		if err != nil || !ok {
			if err != nil && ctx.Err() == nil {
				r.log.Error("pipe: read queue", "err", err)
			}
			pause(ctx, recheck)
			continue
		}
		if recs := r.collect(ctx, visibility); len(recs) > 0 {
			r.processQueue(ctx, recs)
		}
	}
}

// collect receives a batch: it waits for the first message, then, with a batching window,
// goes on receiving until the batch is full or the window has passed.
func (r *runner) collect(ctx context.Context, visibility time.Duration) []eventsource.Record {
	q := r.p.SourceParameters.SqsQueueParameters
	size, window := int(*q.BatchSize), time.Duration(*q.MaximumBatchingWindowInSeconds)*time.Second
	var recs []eventsource.Record
	bytes := 0
	wait := leadWait
	var deadline time.Time
	for len(recs) < size && bytes < maxBatchBytes {
		if len(recs) > 0 {
			if window == 0 {
				break
			}
			if deadline.IsZero() {
				deadline = r.s.now().Add(window)
			}
			if wait = deadline.Sub(r.s.now()); wait <= 0 {
				break
			}
		}
		msgs, ok, err := r.s.queues.PollMessages(ctx, r.p.Source, min(size-len(recs), 10000), wait, visibility)
		if err != nil && ctx.Err() == nil {
			r.log.Error("pipe: receive", "err", err)
			pause(ctx, recheck)
		}
		if err != nil || !ok || len(msgs) == 0 {
			break
		}
		for _, raw := range msgs {
			rec, err := eventsource.SQS(raw, r.p.Source, r.p.Region)
			if err != nil {
				r.log.Error("pipe: received message", "err", err)
				continue
			}
			recs = append(recs, rec)
			bytes += len(rec.JSON)
		}
	}
	return recs
}

// processQueue filters a batch, deleting what the filters drop, passes the rest on, and
// deletes it once the target took it. A batch abandoned because the pipe stops is made visible
// again at once.
func (r *runner) processQueue(ctx context.Context, recs []eventsource.Record) {
	bg := context.WithoutCancel(ctx)
	var kept, dropped []eventsource.Record
	for _, rec := range recs {
		if r.matches(rec.JSON) {
			kept = append(kept, rec)
		} else {
			dropped = append(dropped, rec)
		}
	}
	r.deleteMessages(bg, dropped)
	if len(kept) == 0 {
		return
	}
	events, ids := make([][]byte, len(kept)), make([]string, len(kept))
	for i, rec := range kept {
		events[i], ids[i] = rec.JSON, rec.ID
	}
	err := r.deliver(ctx, events, ids)
	var partial *partialFailure
	switch {
	case err == nil:
		r.deleteMessages(bg, kept)
	case errors.As(err, &partial):
		var done []eventsource.Record
		for _, rec := range kept {
			if !partial.failed[rec.ID] {
				done = append(done, rec)
			}
		}
		r.deleteMessages(bg, done)
		r.log.Info("pipe: the target reported failed records; they return to the queue when their visibility timeout ends", "messages", len(kept)-len(done))
	case ctx.Err() != nil:
		if _, err := r.s.queues.ChangeMessagesVisibility(bg, r.p.Source, receipts(kept), 0); err != nil {
			r.log.Error("pipe: release messages", "err", err)
		}
	default:
		r.log.Warn("pipe: delivery failed; the batch returns to the queue when its visibility timeout ends", "messages", len(kept), "err", err)
	}
}

func receipts(recs []eventsource.Record) []string {
	out := make([]string, len(recs))
	for i, rec := range recs {
		out[i] = rec.Receipt
	}
	return out
}

// deleteMessages deletes messages the pipe is done with.
func (r *runner) deleteMessages(ctx context.Context, recs []eventsource.Record) {
	if len(recs) == 0 {
		return
	}
	if _, err := r.s.queues.DeleteMessages(ctx, r.p.Source, receipts(recs)); err != nil {
		// They are received again once their lease ends: at least once.
		r.log.Error("pipe: delete messages", "err", err)
	}
}

// streamRecord is a record read from the log and its event JSON.
type streamRecord struct {
	seq     int64
	created time.Time
	json    []byte
}

// runStream reads a DynamoDB stream source until ctx ends. A batch in flight when ctx ends is
// abandoned without a checkpoint: it runs again when the pipe runs again.
func (r *runner) runStream(ctx context.Context) {
	for ctx.Err() == nil {
		changed := r.s.records.Changed(r.p.Source)
		progressed, err := r.pass(ctx)
		if err != nil && ctx.Err() == nil {
			r.log.Error("pipe: read stream", "err", err)
		}
		if progressed {
			continue
		}
		t := time.NewTimer(streamIdleRecheck)
		select {
		case <-ctx.Done():
		case <-changed:
		case <-t.C:
		}
		t.Stop()
	}
}

// pass processes one batch of each shard with records past its checkpoint; it reports whether
// any did.
func (r *runner) pass(ctx context.Context) (bool, error) {
	arn := r.p.Source
	shards, err := r.s.records.Shards(ctx, arn)
	if err != nil || len(shards) == 0 {
		return false, err
	}
	exhausted := map[string]bool{}
	progressed := false
	for _, sh := range shards {
		if sh.Parent != "" && !exhausted[sh.Parent] {
			continue // a child waits until its parent is read to its end
		}
		pos, ok, err := r.s.records.Checkpoint(ctx, consumer(&r.p), arn, sh.ID)
		if err != nil {
			return progressed, err
		}
		if !ok {
			pos = sh.First
		}
		pos = max(pos, sh.Trimmed+1) // records trimmed before they were read are lost
		if pos > sh.Last {
			exhausted[sh.ID] = !sh.Open()
			continue
		}
		recs, err := r.read(ctx, sh, pos)
		if err != nil || len(recs) == 0 {
			return progressed, err
		}
		if !r.processStream(ctx, sh, recs) {
			return progressed, nil // stopping: no checkpoint
		}
		progressed = true
		next := recs[len(recs)-1].seq + 1
		if err := r.s.deps.Store.Write(ctx, func(tx *store.Tx) error {
			return r.s.records.SetCheckpoint(tx, consumer(&r.p), arn, sh.ID, next)
		}); err != nil {
			return progressed, err
		}
	}
	return progressed, nil
}

// read reads a shard's next records: up to BatchSize, waiting up to the batching window for a
// full batch.
func (r *runner) read(ctx context.Context, sh streamlog.Shard, pos int64) ([]streamRecord, error) {
	d := r.p.SourceParameters.DynamoDBStreamParameters
	raw, err := eventsource.ReadShard(ctx, r.s.records, eventsource.ShardRead{Stream: r.p.Source, Shard: sh.ID, From: pos,
		Limit: int(*d.BatchSize), Full: int(*d.BatchSize), MaxBytes: maxBatchBytes,
		Deadline: r.s.now().Add(time.Duration(*d.MaximumBatchingWindowInSeconds) * time.Second)}, r.s.now)
	if err != nil {
		return nil, err
	}
	suffix := eventsource.StreamSuffix(r.p.Source)
	out := make([]streamRecord, len(raw))
	for i, rec := range raw {
		out[i] = streamRecord{seq: rec.Seq, created: rec.Created, json: eventsource.Stream(rec.Data, suffix)}
	}
	return out, nil
}

// processStream passes a batch on, filtered, retrying as the pipe's parameters say; it
// reports false when the pipe is stopping and the batch was not finished.
func (r *runner) processStream(ctx context.Context, sh streamlog.Shard, recs []streamRecord) bool {
	var kept []streamRecord
	for _, rec := range recs {
		if r.matches(rec.json) {
			kept = append(kept, rec)
		}
	}
	r.deliverStream(ctx, sh, kept)
	return ctx.Err() == nil
}

// deliverStream delivers recs until the target takes them or the retries are spent: records
// older than MaximumRecordAgeInSeconds and batches that failed MaximumRetryAttempts retries go
// to the dead-letter queue; with AUTOMATIC_BISECT a failed batch is split in halves retried on
// their own.
func (r *runner) deliverStream(ctx context.Context, sh streamlog.Shard, recs []streamRecord) {
	d := r.p.SourceParameters.DynamoDBStreamParameters
	backoff := retryMin
	for attempt := 0; len(recs) > 0; attempt++ {
		if ctx.Err() != nil {
			return
		}
		if aged := r.aged(recs); aged > 0 {
			r.giveUp(ctx, sh, recs[:aged], "RecordAgeExceeded", attempt)
			recs = recs[aged:]
			continue
		}
		events, ids := make([][]byte, len(recs)), make([]string, len(recs))
		for i, rec := range recs {
			events[i], ids[i] = rec.json, streamlog.FormatSeq(rec.seq)
		}
		err := r.deliver(ctx, events, ids)
		if err == nil || ctx.Err() != nil {
			return
		}
		var partial *partialFailure
		if errors.As(err, &partial) {
			// The records before the first reported failure are done; the rest is retried.
			for i, id := range ids {
				if partial.failed[id] {
					recs = recs[i:]
					break
				}
			}
		}
		r.log.Warn("pipe: delivery failed", "records", len(recs), "attempt", attempt+1, "err", err)
		if b := d.OnPartialBatchItemFailure; b != nil && *b == "AUTOMATIC_BISECT" && len(recs) > 1 {
			half := len(recs) / 2
			r.deliverStream(ctx, sh, recs[:half])
			r.deliverStream(ctx, sh, recs[half:])
			return
		}
		if limit := *d.MaximumRetryAttempts; limit >= 0 && attempt >= int(limit) {
			r.giveUp(ctx, sh, recs, "RetryAttemptsExhausted", attempt+1)
			return
		}
		pause(ctx, backoff)
		backoff = min(2*backoff, retryMax)
	}
}

// aged counts the leading records older than MaximumRecordAgeInSeconds.
func (r *runner) aged(recs []streamRecord) int {
	age := *r.p.SourceParameters.DynamoDBStreamParameters.MaximumRecordAgeInSeconds
	if age < 0 {
		return 0
	}
	limit := r.s.now().Add(-time.Duration(age) * time.Second)
	n := 0
	for n < len(recs) && recs[n].created.Before(limit) {
		n++
	}
	return n
}

// giveUp skips records the pipe stops retrying: their description goes to the dead-letter
// queue, when there is one.
func (r *runner) giveUp(ctx context.Context, sh streamlog.Shard, recs []streamRecord, condition string, attempts int) {
	r.log.Info("pipe: records skipped", "reason", condition, "records", len(recs))
	dl := deadLetter(&r.p)
	if dl == "" {
		return
	}
	d := dispatch.Delivery{Target: dl, Payload: r.failureRecord(sh, recs, condition, attempts), Source: r.p.source()}
	if err := r.s.deps.Store.Write(ctx, func(tx *store.Tx) error { return r.s.deps.Targets.Enqueue(tx, d, dispatch.Policy{}) }); err != nil {
		r.log.Error("pipe: send to the dead-letter queue", "err", err)
	}
}

// failureRecord describes a batch the pipe gave up on, as Pipes sends it to a stream source's
// dead-letter queue: the pipe, the condition and the batch's place in the stream.
func (r *runner) failureRecord(sh streamlog.Shard, recs []streamRecord, condition string, attempts int) []byte {
	const stamp = "2006-01-02T15:04:05.000Z"
	type batchInfo struct {
		ShardID                         string `json:"shardId"`
		StartSequenceNumber             string `json:"startSequenceNumber"`
		EndSequenceNumber               string `json:"endSequenceNumber"`
		ApproximateArrivalOfFirstRecord string `json:"approximateArrivalOfFirstRecord"`
		ApproximateArrivalOfLastRecord  string `json:"approximateArrivalOfLastRecord"`
		BatchSize                       int    `json:"batchSize"`
		StreamArn                       string `json:"streamArn"`
	}
	rec := struct {
		Context struct {
			PipeArn                string `json:"pipeArn"`
			Condition              string `json:"condition"`
			ApproximateInvokeCount int    `json:"approximateInvokeCount"`
		} `json:"context"`
		Version            string    `json:"version"`
		Timestamp          string    `json:"timestamp"`
		DDBStreamBatchInfo batchInfo `json:"DDBStreamBatchInfo"`
	}{Version: "1.0", Timestamp: r.s.now().UTC().Format(stamp)}
	rec.Context.PipeArn, rec.Context.Condition, rec.Context.ApproximateInvokeCount = r.p.arn(), condition, attempts
	first, last := recs[0], recs[len(recs)-1]
	rec.DDBStreamBatchInfo = batchInfo{ShardID: sh.ID, StartSequenceNumber: streamlog.FormatSeq(first.seq), EndSequenceNumber: streamlog.FormatSeq(last.seq),
		ApproximateArrivalOfFirstRecord: first.created.UTC().Format(stamp), ApproximateArrivalOfLastRecord: last.created.UTC().Format(stamp),
		BatchSize: len(recs), StreamArn: r.p.Source}
	b, _ := json.Marshal(rec)
	return b
}
