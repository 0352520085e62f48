package store_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kiri-run/kiri/internal/store"
)

// BenchmarkWrite measures durable commits per second: each op is one insert through Write that
// returns only once its batch is committed with the configured sync mode.
func BenchmarkWrite(b *testing.B) {
	for _, be := range backends() {
		for _, mode := range []store.SyncMode{store.SyncNormal, store.SyncFull} {
			for _, writers := range []int{1, 16} {
				b.Run(fmt.Sprintf("%s/sync=%s/writers=%d", be.Name, mode, writers), func(b *testing.B) {
					cfg := be.Config(b)
					cfg.Sync = mode
					s := openItems(b, cfg)
					var next atomic.Int64
					before := s.Stats()
					b.ResetTimer()
					start := time.Now()
					var wg sync.WaitGroup
					for range writers {
						wg.Go(func() {
							for {
								id := next.Add(1)
								if id > int64(b.N) {
									return
								}
								if err := s.Write(context.Background(), insertItem(id)); err != nil {
									b.Error(err)
									return
								}
							}
						})
					}
					wg.Wait()
					elapsed := time.Since(start)
					b.StopTimer()
					st := s.Stats()
					b.ReportMetric(float64(b.N)/elapsed.Seconds(), "commits/s")
					if c := st.Commits - before.Commits; c > 0 {
						b.ReportMetric(float64(st.Writes-before.Writes)/float64(c), "writes/batch")
					}
				})
			}
		}
	}
}

// BenchmarkReadRow measures a read-side point lookup of a row holding 4 KiB inline, as a GET of
// a small S3 object does, over a table much larger than SQLite's page cache. Its reads carry a
// cancellable context, as a request's do.
func BenchmarkReadRow(b *testing.B) {
	ctx := context.Background()
	s, err := store.Open(ctx, store.Config{Path: filepath.Join(b.TempDir(), "kiri.db"), Logger: quietLogger()})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(ctx, "bench", []store.Migration{{Version: 1, SQL: "CREATE TABLE objects (bucket TEXT, okey TEXT, body BLOB, PRIMARY KEY (bucket, okey))"}}); err != nil {
		b.Fatal(err)
	}
	const rows = 20000 // about 90 MiB
	key := func(i int) string { return "small/" + strconv.Itoa(100000000+i) }
	body := bytes.Repeat([]byte("x"), 4096)
	for i := 0; i < rows; i += 500 {
		if err := s.Write(ctx, func(tx *store.Tx) error {
			for j := i; j < i+500; j++ {
				if _, err := tx.Exec("INSERT INTO objects VALUES ('b', ?, ?)", key(j), body); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
	}
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	b.ResetTimer()
	var got []byte
	for i := 0; i < b.N; i++ {
		if err := s.QueryRow(rctx, "SELECT body FROM objects WHERE bucket = 'b' AND okey = ?", key(rand.IntN(rows))).Scan(&got); err != nil {
			b.Fatal(err)
		}
	}
}
