package s3

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kiri-run/kiri/internal/blob"
	"github.com/kiri-run/kiri/internal/store"
)

// A body too large to store inline is written to a blob before the row that names it commits.
// A crash between the two would leave a blob nothing names, taking disk space for ever. So the
// blob's key is first recorded as pending, in a write of its own; the transaction that commits
// the row claims it (claimBlob); and keys left pending are swept, their blobs queued for
// collection:
//   - on SQLite, at start: one process holds the data directory, so a key recorded before it
//     started belongs to a write that died with an earlier process;
//   - on any store, once a key has been pending for pendingGrace, longer than any upload runs.
//     A write that outlives it fails rather than commit a row whose blob may be gone.

// schemaPendingBlobs holds the pending keys.
var schemaPendingBlobs = store.Migration{Version: 8, SQL: `
CREATE TABLE s3_pending_blobs (
	blob_key TEXT PRIMARY KEY,
	created  BIGINT NOT NULL
);
CREATE INDEX s3_pending_blobs_created ON s3_pending_blobs (created);`}

const (
	// pendingGrace is how long a blob may wait for its row before it is collected.
	pendingGrace = 24 * time.Hour
	// pendingSweepEvery is how often keys pending longer than pendingGrace are looked for.
	pendingSweepEvery = 10 * time.Minute
	// pendingSweepBatch is how many keys one sweep transaction takes.
	pendingSweepBatch = 500
)

// notePending records that a blob is about to be written at key for a write not yet committed.
func (s *Service) notePending(ctx context.Context, key string) error {
	return s.st.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(`INSERT INTO s3_pending_blobs (blob_key, created) VALUES (?, ?)`, key, s.now().UnixMilli())
		return err
	})
}

// dropBlob deletes a blob whose write will not commit, then its pending key. A crash in between
// leaves only the key, which a sweep clears.
func (s *Service) dropBlob(ctx context.Context, key string) {
	ctx = context.WithoutCancel(ctx)
	if err := s.blobs.Delete(ctx, key); err != nil && !errors.Is(err, blob.ErrNotFound) {
		s.log.Warn("delete blob of a discarded body", "blob", key, "err", err)
		return // the sweep collects it
	}
	if err := s.st.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(`DELETE FROM s3_pending_blobs WHERE blob_key = ?`, key)
		return err
	}); err != nil {
		s.log.Warn("forget a discarded body's pending blob", "blob", key, "err", err)
	}
}

// claimBlob takes a stored body's blob out of the pending keys, in the transaction that commits
// the row naming it. It fails if a sweep has already taken the key: the blob is being collected.
func claimBlob(tx *store.Tx, key string) error {
	if key == "" {
		return nil
	}
	res, err := tx.Exec(`DELETE FROM s3_pending_blobs WHERE blob_key = ?`, key)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return fmt.Errorf("stored body %s was collected before its write committed (pending longer than %s)", key, pendingGrace)
	}
	return nil
}

// sweepPending queues for collection the blobs of keys recorded as pending before cutoff, and
// reports how many there were.
func (s *Service) sweepPending(ctx context.Context, cutoff time.Time) (int, error) {
	total := 0
	for {
		n := 0
		err := s.st.Write(ctx, func(tx *store.Tx) error {
			n = 0
			keys, err := store.Strings(tx.Query(`DELETE FROM s3_pending_blobs WHERE blob_key IN
				(SELECT blob_key FROM s3_pending_blobs WHERE created < ? LIMIT ?) RETURNING blob_key`, cutoff.UnixMilli(), pendingSweepBatch))
			if err != nil {
				return err
			}
			for _, k := range keys {
				if err := s.releaseBlob(tx, k); err != nil {
					return err
				}
			}
			n = len(keys)
			return nil
		})
		total += n
		if err != nil || n < pendingSweepBatch {
			return total, err
		}
	}
}

// sweepPendingOlder queues for collection the blobs pending since before cutoff, logging how
// many and why.
func (s *Service) sweepPendingOlder(ctx context.Context, cutoff time.Time, why string) error {
	n, err := s.sweepPending(ctx, cutoff)
	if n > 0 {
		s.log.Info("collecting blobs no object names", "count", n, "reason", why)
	}
	if err != nil {
		return fmt.Errorf("sweep pending blobs: %w", err)
	}
	return nil
}
