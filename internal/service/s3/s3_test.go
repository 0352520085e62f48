package s3

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/kiri-run/kiri/internal/service"
	"github.com/kiri-run/kiri/internal/service/servicetest"
	"github.com/kiri-run/kiri/internal/store"
	"github.com/kiri-run/kiri/internal/store/storetest"
)

// testDeps gives a Service over st a throwaway blob directory, queue engine and silent logger.
func testDeps(t *testing.T, st *store.Store) service.Deps {
	t.Helper()
	return servicetest.DepsOn(t, st)
}

// TestHandlersFitModel migrates S3's schema on every store backend, then loads the S3 model and
// binds every handler, as the first request would: a handler whose types do not fit its
// operation fails here rather than in production. Keys must sort in UTF-8 byte order, as S3
// lists them, on every backend.
func TestHandlersFitModel(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			st := storetest.Open(t, b.Config(t))
			svc, err := New(context.Background(), testDeps(t, st))
			if err != nil {
				t.Fatal(err)
			}
			if err := svc.API().Load(); err != nil {
				t.Fatal(err)
			}
			keys := []string{"z", "é", "B", "a", "a/b", "a-b", "~"}
			err = st.Write(context.Background(), func(tx *store.Tx) error {
				for _, k := range keys {
					o := &object{Bucket: "bkt", Key: k, LastModified: time.Now()}
					if err := svc.putVersion(tx, "", o); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			rows, err := st.Query(context.Background(), "SELECT okey FROM s3_objects WHERE bucket = ? ORDER BY okey", "bkt")
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var got []string
			for rows.Next() {
				var k string
				rows.Scan(&k)
				got = append(got, k)
			}
			if b.Name == "postgres" {
				// This cluster's own locale may already sort bytewise; servers with another
				// locale need the column's collation.
				var coll string
				if err := st.QueryRow(context.Background(), `SELECT collation_name FROM information_schema.columns
					WHERE table_schema = current_schema() AND table_name = 's3_objects' AND column_name = 'okey'`).Scan(&coll); err != nil || coll != "C" {
					t.Fatalf("okey collation = %q, %v; want C", coll, err)
				}
			}
			want := slices.Clone(keys)
			slices.Sort(want) // Go compares strings bytewise: UTF-8 byte order
			if !slices.Equal(got, want) {
				t.Fatalf("keys sort as %q, want byte order %q", got, want)
			}
		})
	}
}

// TestReplaceNullVersion checks both of an unversioned put's paths on every backend: a new key
// is inserted at seq 1, and an existing one is overwritten whole, one seq on, with its old
// blob queued for collection.
func TestReplaceNullVersion(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			st := storetest.Open(t, b.Config(t))
			svc, err := New(ctx, testDeps(t, st))
			if err != nil {
				t.Fatal(err)
			}
			put := func(o *object) {
				t.Helper()
				if err := st.Write(ctx, func(tx *store.Tx) error { return svc.putVersion(tx, "", o) }); err != nil {
					t.Fatal(err)
				}
			}
			first := &object{Bucket: "bkt", Key: "k", LastModified: time.UnixMilli(1000), ETag: `"a"`, Size: 9,
				BlobKey: "old-blob", Metadata: map[string]string{"m": "1"}}
			put(first)
			if first.Seq != 1 || first.VersionID != nullVersion || !first.IsLatest {
				t.Fatalf("new key: seq %d, version %q, latest %v; want 1, %q, true", first.Seq, first.VersionID, first.IsLatest, nullVersion)
			}
			second := &object{Bucket: "bkt", Key: "k", LastModified: time.UnixMilli(2000), ETag: `"b"`, Size: 2,
				Inline: []byte("hi"), StorageClass: "STANDARD_IA"}
			put(second)
			if second.Seq != 2 {
				t.Fatalf("overwrite: seq %d, want 2", second.Seq)
			}
			got, err := loadObject(readQuerier{ctx: ctx, st: st}, "bkt", "k", "")
			if err != nil {
				t.Fatal(err)
			}
			if got.Seq != 2 || got.ETag != `"b"` || got.Size != 2 || string(got.Inline) != "hi" || got.BlobKey != "" ||
				got.Metadata != nil || got.StorageClass != "STANDARD_IA" || got.LastModified.UnixMilli() != 2000 {
				t.Fatalf("after the overwrite the row is %+v", got)
			}
			var n int
			if err := st.QueryRow(ctx, "SELECT COUNT(*) FROM kiri_queue_messages WHERE queue = ? AND body = ?", topicBlobGC, []byte("old-blob")).Scan(&n); err != nil || n != 1 {
				t.Fatalf("old blob queued for collection %d times (%v), want 1", n, err)
			}
		})
	}
}
