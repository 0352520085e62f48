package e2e

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// BenchmarkEventsToSQS measures PutEvents routed by a rule to an SQS target, durably, through
// aws-sdk-go-v2 against a server in this process:
//   - Latency: one event at a time, from the PutEvents call to its message being received
//     by a long poll on the queue (p50 and p99 in ms);
//   - Sustained: 16 clients putting batches of 10 events; events/s counts the events accepted,
//     delivered/s the events that reached the queue, until the last one did.
func BenchmarkEventsToSQS(b *testing.B) {
	srv := kiritest.Start(b, kiritest.Options{DataDir: b.TempDir()})
	cl := srv.Clients()
	ctx := context.Background()
	q, err := cl.SQS.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("bench")})
	if err != nil {
		b.Fatal(err)
	}
	attrs, err := cl.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := cl.Events.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("bench"),
		EventPattern: aws.String(`{"source":["bench"],"detail":{"n":[{"numeric":[">=",0]}]}}`)}); err != nil {
		b.Fatal(err)
	}
	if _, err := cl.Events.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("bench"),
		Targets: []ebtypes.Target{{Id: aws.String("q"), Arn: aws.String(attrs.Attributes["QueueArn"])}}}); err != nil {
		b.Fatal(err)
	}
	entry := func(n int) ebtypes.PutEventsRequestEntry {
		return ebtypes.PutEventsRequestEntry{Source: aws.String("bench"), DetailType: aws.String("Tick"),
			Detail: aws.String(`{"n":` + strconv.Itoa(n) + `,"pad":"` + fmt.Sprintf("%080d", n) + `"}`)}
	}
	queued := func() int {
		out, err := cl.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl,
			AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages}})
		if err != nil {
			b.Fatal(err)
		}
		n, _ := strconv.Atoi(out.Attributes["ApproximateNumberOfMessages"])
		return n
	}

	b.Run("Latency", func(b *testing.B) {
		var lat []time.Duration
		for i := 0; b.Loop(); i++ {
			start := time.Now()
			if _, err := cl.Events.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{entry(i)}}); err != nil {
				b.Fatal(err)
			}
			for {
				out, err := cl.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, WaitTimeSeconds: 5, MaxNumberOfMessages: 1})
				if err != nil {
					b.Fatal(err)
				}
				if len(out.Messages) == 0 {
					continue
				}
				lat = append(lat, time.Since(start))
				if _, err := cl.SQS.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: q.QueueUrl, ReceiptHandle: out.Messages[0].ReceiptHandle}); err != nil {
					b.Fatal(err)
				}
				break
			}
		}
		slices.Sort(lat)
		ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
		b.ReportMetric(ms(lat[len(lat)/2]), "p50-ms")
		b.ReportMetric(ms(lat[len(lat)*99/100]), "p99-ms")
	})

	b.Run("Sustained", func(b *testing.B) {
		before := queued()
		batch := make([]ebtypes.PutEventsRequestEntry, 10)
		for i := range batch {
			batch[i] = entry(i)
		}
		b.SetParallelism(8) // 16 clients on 2 CPUs
		start := time.Now()
		var n atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				out, err := cl.Events.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: batch})
				if err != nil || out.FailedEntryCount != 0 {
					b.Error(err)
					return
				}
				n.Add(10)
			}
		})
		accepted := time.Since(start)
		for deadline := time.Now().Add(2 * time.Minute); queued()-before < int(n.Load()); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				b.Fatalf("%d of %d events delivered", queued()-before, n.Load())
			}
		}
		b.ReportMetric(float64(n.Load())/accepted.Seconds(), "events/s")
		b.ReportMetric(float64(n.Load())/time.Since(start).Seconds(), "delivered/s")
	})
}
