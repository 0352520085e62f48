package e2e

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// BenchmarkSQS measures the hot paths through aws-sdk-go-v2 from 16 clients against a durable
// server in this process: SendMessageBatch of ten 100-byte messages, and ReceiveMessage of up
// to ten followed by DeleteMessageBatch. Both report messages per second (msg/s).
func BenchmarkSQS(b *testing.B) {
	srv := kiritest.Start(b, kiritest.Options{DataDir: b.TempDir()})
	c := srv.Clients().SQS
	ctx := context.Background()
	out, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("bench")})
	if err != nil {
		b.Fatal(err)
	}
	u := out.QueueUrl
	body := aws.String(fmt.Sprintf("%0100d", 0))
	entries := make([]types.SendMessageBatchRequestEntry, 10)
	for i := range entries {
		entries[i] = types.SendMessageBatchRequestEntry{Id: aws.String(fmt.Sprint(i)), MessageBody: body}
	}
	var sent atomic.Int64
	b.Run("SendMessageBatch", func(b *testing.B) {
		b.SetParallelism(8) // 16 clients on 2 CPUs
		start := time.Now()
		var n atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: u, Entries: entries}); err != nil {
					b.Error(err)
					return
				}
				n.Add(10)
			}
		})
		sent.Add(n.Load())
		b.ReportMetric(float64(n.Load())/time.Since(start).Seconds(), "msg/s")
	})
	b.Run("ReceiveDeleteBatch", func(b *testing.B) {
		for sent.Load() < int64(b.N)*10 {
			if _, err := c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: u, Entries: entries}); err != nil {
				b.Fatal(err)
			}
			sent.Add(10)
		}
		b.SetParallelism(8)
		b.ResetTimer()
		start := time.Now()
		var n atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				got, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: u, MaxNumberOfMessages: 10})
				if err != nil {
					b.Error(err)
					return
				}
				if len(got.Messages) == 0 {
					continue
				}
				del := make([]types.DeleteMessageBatchRequestEntry, len(got.Messages))
				for i, m := range got.Messages {
					del[i] = types.DeleteMessageBatchRequestEntry{Id: aws.String(fmt.Sprint(i)), ReceiptHandle: m.ReceiptHandle}
				}
				if _, err := c.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: u, Entries: del}); err != nil {
					b.Error(err)
					return
				}
				n.Add(int64(len(got.Messages)))
			}
		})
		sent.Add(-n.Load())
		b.ReportMetric(float64(n.Load())/time.Since(start).Seconds(), "msg/s")
	})
}
