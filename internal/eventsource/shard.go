package eventsource

import (
	"context"
	"time"

	"github.com/kiri-run/kiri/internal/streamlog"
)

// ShardRead is one read of a stream shard by a poller.
type ShardRead struct {
	// Stream and Shard name the shard; From is the first sequence number to read.
	Stream, Shard string
	From          int64
	// Limit and MaxBytes bound the records read; Full is how many make a batch worth passing
	// on before Deadline (the end of the batching window).
	Limit, Full, MaxBytes int
	Deadline              time.Time
}

// ReadShard reads the next records of a shard: at once when Full records (or none) are there
// or the batching window has passed, else waiting for appends until one of those holds.
func ReadShard(ctx context.Context, log *streamlog.Log, r ShardRead, now func() time.Time) ([]streamlog.Record, error) {
	for {
		changed := log.Changed(r.Stream)
		raw, err := log.Read(ctx, r.Stream, r.Shard, r.From, r.Limit, r.MaxBytes)
		if err != nil {
			return nil, err
		}
		wait := r.Deadline.Sub(now())
		if len(raw) >= r.Full || wait <= 0 || len(raw) == 0 {
			return raw, nil
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-changed:
		case <-t.C:
		}
		t.Stop()
	}
}
