package s3

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/blob"
	"github.com/kiri-run/kiri/internal/store"
	"github.com/kiri-run/kiri/internal/store/storetest"
)

// TestPendingBlobs checks that a blob stored for a write that never commits is collected, and
// one whose row commits is kept: on SQLite by the sweep at start, on every backend once the
// key has been pending for pendingGrace.
func TestPendingBlobs(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			st := storetest.Open(t, b.Config(t))
			deps := testDeps(t, st)
			blobs := deps.Blobs
			open := func() *Service {
				svc, err := New(ctx, deps)
				if err != nil {
					t.Fatal(err)
				}
				return svc
			}
			large := bytes.Repeat([]byte("b"), inlineLimit+1)
			storeLarge := func(svc *Service) body {
				t.Helper()
				bd, err := svc.storeBody(ctx, bytes.NewReader(large))
				if err != nil || bd.BlobKey == "" {
					t.Fatalf("store a large body: %v, blob %q", err, bd.BlobKey)
				}
				return bd
			}
			commit := func(svc *Service, key string, bd body) error {
				return st.Write(ctx, func(tx *store.Tx) error {
					if err := claimBlob(tx, bd.BlobKey); err != nil {
						return err
					}
					return svc.putVersion(tx, "", &object{Bucket: "bkt", Key: key, LastModified: svc.now(), Size: bd.Size, BlobKey: bd.BlobKey})
				})
			}
			queued := func(key string) bool {
				t.Helper()
				var n int
				if err := st.QueryRow(ctx, "SELECT COUNT(*) FROM kiri_queue_messages WHERE queue = ? AND body = ?", topicBlobGC, []byte(key)).Scan(&n); err != nil {
					t.Fatal(err)
				}
				return n > 0
			}

			first := open()
			kept, lost := storeLarge(first), storeLarge(first)
			if err := commit(first, "kept", kept); err != nil {
				t.Fatal(err)
			}
			// "lost" is never committed: its process is gone. The next process sweeps, on SQLite
			// as it starts (New; the cutoff is when it started); a sweep again takes nothing new.
			time.Sleep(2 * time.Millisecond)
			second := open()
			inFlight := storeLarge(second) // this process's own write, still streaming
			cutoff := second.started
			if b.Name != "sqlite" {
				cutoff = second.now().Add(-pendingGrace) // too early to take anything
			}
			n, err := second.sweepPending(ctx, cutoff)
			if err != nil {
				t.Fatal(err)
			}
			if b.Name == "sqlite" {
				if n != 0 || !queued(lost.BlobKey) || queued(kept.BlobKey) || queued(inFlight.BlobKey) {
					t.Fatalf("sweep after start took %d keys; lost queued %v, kept queued %v, in flight queued %v; want 0, true, false, false",
						n, queued(lost.BlobKey), queued(kept.BlobKey), queued(inFlight.BlobKey))
				}
			} else if n != 0 {
				t.Fatalf("a sweep of keys pending for %s took %d of keys just stored", pendingGrace, n)
			}
			if err := commit(second, "in-flight", inFlight); err != nil {
				t.Fatalf("a write of this process commits after the sweep at start: %v", err)
			}

			// A write pending longer than pendingGrace loses its blob and must not commit.
			slow := storeLarge(second)
			second.now = func() time.Time { return time.Now().Add(pendingGrace + time.Minute) }
			if n, err := second.sweepPending(ctx, second.now().Add(-pendingGrace)); err != nil || n < 1 || !queued(slow.BlobKey) {
				t.Fatalf("sweep of keys pending past the grace: %d, %v; slow write queued %v", n, err, queued(slow.BlobKey))
			}
			if err := commit(second, "slow", slow); err == nil {
				t.Fatal("a write whose blob was swept committed")
			}
			var apiErr *awsproto.Error
			if _, err := loadObject(readQuerier{ctx: ctx, st: st}, "bkt", "slow", ""); !errors.As(err, &apiErr) || apiErr.Code != "NoSuchKey" {
				t.Fatalf("the refused write left an object: %v", err)
			}
			// A body discarded before its commit (a failed precondition, say) leaves neither its
			// blob nor its pending key.
			second.now = time.Now
			discarded := storeLarge(second)
			second.discardBody(ctx, discarded)
			var pending int
			if err := st.QueryRow(ctx, "SELECT COUNT(*) FROM s3_pending_blobs WHERE blob_key = ?", discarded.BlobKey).Scan(&pending); err != nil || pending != 0 {
				t.Fatalf("a discarded body's key is still pending (%d, %v)", pending, err)
			}
			if _, err := blobs.Size(ctx, discarded.BlobKey); !errors.Is(err, blob.ErrNotFound) {
				t.Fatalf("a discarded body's blob is still there: %v", err)
			}
			for _, key := range []string{"kept", "in-flight"} {
				if _, err := loadObject(readQuerier{ctx: ctx, st: st}, "bkt", key, ""); err != nil {
					t.Fatalf("object %s: %v", key, err)
				}
			}
		})
	}
}
