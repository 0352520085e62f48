package meter

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/kiri-run/kiri/internal/store"
	"github.com/kiri-run/kiri/internal/store/storetest"
)

func TestUsageIsSummedPerMinute(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			st, err := store.Open(ctx, b.Config(t))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			m, err := New(ctx, st, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			clock := time.Date(2026, 11, 21, 10, 0, 5, 0, time.UTC)
			m.now = func() time.Time { return clock }
			fn := "arn:aws:lambda:us-east-1:000000000000:function:f"
			for range 3 {
				m.Add(Usage{Account: "000000000000", Region: "us-east-1", Resource: fn, Kind: LambdaMBMilliseconds, Quantity: 128})
			}
			if err := m.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			m.Add(Usage{Account: "000000000000", Region: "us-east-1", Resource: fn, Kind: LambdaMBMilliseconds, Quantity: 256})
			clock = clock.Add(time.Minute)
			m.Add(Usage{Account: "000000000000", Region: "us-east-1", Resource: fn, Kind: LambdaRequests, Quantity: 1})
			if err := m.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			got, err := m.Usage(ctx, "000000000000", clock.Add(-time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 2 || got[0].Kind != LambdaMBMilliseconds || got[0].Quantity != 640 || got[1].Kind != LambdaRequests || got[1].Quantity != 1 {
				t.Fatalf("usage = %+v", got)
			}
			if !got[0].Minute.Equal(time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)) {
				t.Errorf("minute = %v", got[0].Minute)
			}
		})
	}
}
