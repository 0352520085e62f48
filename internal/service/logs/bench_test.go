package logs

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kiri-run/kiri/internal/service/servicetest"
)

// BenchmarkAppendLogs measures the function-output path: a small batch per call, many
// streams written at once as concurrent function instances do.
func BenchmarkAppendLogs(b *testing.B) {
	svc, err := New(context.Background(), servicetest.Deps(b))
	if err != nil {
		b.Fatal(err)
	}
	var streams atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		stream := fmt.Sprintf("2026/01/01/[$LATEST]%d", streams.Add(1))
		for pb.Next() {
			now := time.Now()
			batch := []Event{{Time: now, Message: "START RequestId: 8f5e"}, {Time: now, Message: "handled request in 3 ms\n"}, {Time: now, Message: "END RequestId: 8f5e"}}
			if err := svc.AppendLogs(context.Background(), testAccount, "us-east-1", "/aws/lambda/bench", stream, batch); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
