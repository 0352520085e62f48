package store_test

import (
	"context"
	"fmt"
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
