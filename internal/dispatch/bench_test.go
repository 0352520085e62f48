package dispatch

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kiri-run/kiri/internal/store"
	"github.com/kiri-run/kiri/internal/store/storetest"
)

// BenchmarkRelayBacklog measures how fast the relay drains a backlog of records whose handler
// itself writes to the store, as real handlers do.
func BenchmarkRelayBacklog(b *testing.B) {
	const backlog = 5000
	for b.Loop() {
		b.StopTimer()
		st := storetest.Open(b, storetest.SQLiteConfig(b))
		ctx := context.Background()
		for i := 0; i < backlog; i += 100 {
			st.Write(ctx, func(tx *store.Tx) error {
				for range 100 {
					if err := tx.Enqueue(store.OutboxRecord{Topic: "t", Payload: []byte("x")}); err != nil {
						return err
					}
				}
				return nil
			})
		}
		var n atomic.Int64
		done := make(chan struct{})
		r := NewRelay(st, storetest.QuietLogger(), "")
		r.Handle("t", func(ctx context.Context, rec store.OutboxRecord) error {
			err := st.Write(ctx, func(tx *store.Tx) error { _, err := tx.Exec("SELECT 1"); return err })
			if n.Add(1) == backlog {
				close(done)
			}
			return err
		}, HandlerOptions{})
		rctx, cancel := context.WithCancel(ctx)
		b.StartTimer()
		start := time.Now()
		go r.Run(rctx)
		<-done
		b.ReportMetric(backlog/time.Since(start).Seconds(), "records/s")
		cancel()
	}
}
