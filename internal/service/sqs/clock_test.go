package sqs

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/kiri-run/kiri/internal/store"
)

// The rules in this file run on SQS's clock: a minute between purges, a minute before a
// deleted name is free again, five minutes of deduplication and of receive attempts.

func TestDeletedQueueNameWaitsAMinute(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, cfg store.Config) {
		h := newHarness(t, cfg)
		u := h.createQueue(t, "recycled", nil)
		if _, err := h.client.DeleteQueue(t.Context(), &sqs.DeleteQueueInput{QueueUrl: aws.String(u)}); err != nil {
			t.Fatal(err)
		}
		_, err := h.client.CreateQueue(t.Context(), &sqs.CreateQueueInput{QueueName: aws.String("recycled")})
		expectAPIError(t, err, "AWS.SimpleQueueService.QueueDeletedRecently",
			"You must wait 60 seconds after deleting a queue before you can create another queue with the same name.")
		h.clock.Advance(61 * time.Second)
		h.createQueue(t, "recycled", nil)
	})
}

func TestPurgeOncePerMinute(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, cfg store.Config) {
		h := newHarness(t, cfg)
		u := h.createQueue(t, "purged", nil)
		ctx := t.Context()
		if _, err := h.client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(u), MessageBody: aws.String("x")}); err != nil {
			t.Fatal(err)
		}
		if _, err := h.client.PurgeQueue(ctx, &sqs.PurgeQueueInput{QueueUrl: aws.String(u)}); err != nil {
			t.Fatal(err)
		}
		got, err := h.client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(u)})
		if err != nil || len(got.Messages) != 0 {
			t.Fatalf("after a purge: %+v %v", got, err)
		}
		h.clock.Advance(59 * time.Second)
		_, err = h.client.PurgeQueue(ctx, &sqs.PurgeQueueInput{QueueUrl: aws.String(u)})
		expectAPIError(t, err, "AWS.SimpleQueueService.PurgeQueueInProgress", "Only one PurgeQueue operation on purged is allowed every 60 seconds.")
		h.clock.Advance(time.Second)
		if _, err := h.client.PurgeQueue(ctx, &sqs.PurgeQueueInput{QueueUrl: aws.String(u)}); err != nil {
			t.Fatalf("a purge a minute later: %v", err)
		}
	})
}

func TestFifoDeduplicationLastsFiveMinutes(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, cfg store.Config) {
		h := newHarness(t, cfg)
		ctx := t.Context()
		u := h.createQueue(t, "dedup.fifo", map[string]string{"FifoQueue": "true", "ContentBasedDeduplication": "true"})
		send := func(body string) *sqs.SendMessageOutput {
			t.Helper()
			out, err := h.client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(u), MessageBody: aws.String(body), MessageGroupId: aws.String("g")})
			if err != nil {
				t.Fatal(err)
			}
			return out
		}
		first := send("same")
		again := send("same")
		if aws.ToString(again.MessageId) != aws.ToString(first.MessageId) || aws.ToString(again.SequenceNumber) != aws.ToString(first.SequenceNumber) {
			t.Errorf("a duplicate reported %s/%s, want the first message's %s/%s", aws.ToString(again.MessageId), aws.ToString(again.SequenceNumber),
				aws.ToString(first.MessageId), aws.ToString(first.SequenceNumber))
		}
		h.clock.Advance(5*time.Minute + time.Second)
		if later := send("same"); aws.ToString(later.MessageId) == aws.ToString(first.MessageId) {
			t.Error("a send after the deduplication interval was suppressed")
		}
		got, err := h.client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(u), MaxNumberOfMessages: 10})
		if err != nil || len(got.Messages) != 2 {
			t.Fatalf("received %d messages (%v), want the first and the one after the interval", len(got.Messages), err)
		}
	})
}

func TestFifoExpiredReceiptIsRefused(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, cfg store.Config) {
		h := newHarness(t, cfg)
		ctx := t.Context()
		u := h.createQueue(t, "lapsed.fifo", map[string]string{"FifoQueue": "true", "ContentBasedDeduplication": "true", "VisibilityTimeout": "1"})
		if _, err := h.client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(u), MessageBody: aws.String("x"), MessageGroupId: aws.String("g")}); err != nil {
			t.Fatal(err)
		}
		got, err := h.client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(u)})
		if err != nil || len(got.Messages) != 1 {
			t.Fatalf("receive: %+v %v", got, err)
		}
		h.clock.Advance(2 * time.Second)
		rh := aws.ToString(got.Messages[0].ReceiptHandle)
		_, err = h.client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(u), ReceiptHandle: aws.String(rh)})
		expectAPIError(t, err, "InvalidParameterValue", "Value "+rh+" for parameter ReceiptHandle is invalid. Reason: The receipt handle has expired.")
	})
}

func TestStandardLapsedReceiptStillWorks(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, cfg store.Config) {
		h := newHarness(t, cfg)
		ctx := t.Context()
		u := h.createQueue(t, "lapsed", map[string]string{"VisibilityTimeout": "1"})
		if _, err := h.client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(u), MessageBody: aws.String("x")}); err != nil {
			t.Fatal(err)
		}
		got, err := h.client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(u)})
		if err != nil || len(got.Messages) != 1 {
			t.Fatalf("receive: %+v %v", got, err)
		}
		h.clock.Advance(2 * time.Second)
		rh := got.Messages[0].ReceiptHandle
		if _, err := h.client.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(u), ReceiptHandle: rh, VisibilityTimeout: 30}); err != nil {
			t.Fatalf("changing the visibility of a lapsed lease no receive replaced: %v", err)
		}
		if again, _ := h.client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(u)}); len(again.Messages) != 0 {
			t.Fatal("the message was received again after its lease was taken back")
		}
		h.clock.Advance(31 * time.Second)
		if _, err := h.client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(u), ReceiptHandle: rh}); err != nil {
			t.Fatalf("deleting with a lapsed receipt: %v", err)
		}
		attrs, err := h.client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(u), AttributeNames: []sqstypes.QueueAttributeName{"ApproximateNumberOfMessages"}})
		if err != nil || attrs.Attributes["ApproximateNumberOfMessages"] != "0" {
			t.Fatalf("after the delete: %v %v", attrs, err)
		}
	})
}

func TestReceiveAttemptIdRepeatsWithinFiveMinutes(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, cfg store.Config) {
		h := newHarness(t, cfg)
		ctx := t.Context()
		u := h.createQueue(t, "attempts.fifo", map[string]string{"FifoQueue": "true", "ContentBasedDeduplication": "true"})
		for _, b := range []string{"a", "b"} {
			if _, err := h.client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(u), MessageBody: aws.String(b), MessageGroupId: aws.String(b)}); err != nil {
				t.Fatal(err)
			}
		}
		in := &sqs.ReceiveMessageInput{QueueUrl: aws.String(u), ReceiveRequestAttemptId: aws.String("attempt-1"), AttributeNames: []sqstypes.QueueAttributeName{"All"}}
		first, err := h.client.ReceiveMessage(ctx, in)
		if err != nil || len(first.Messages) != 1 {
			t.Fatalf("first receive: %+v %v", first, err)
		}
		h.clock.Advance(20 * time.Second) // within the 30 s lease
		again, err := h.client.ReceiveMessage(ctx, in)
		if err != nil || len(again.Messages) != 1 || aws.ToString(again.Messages[0].ReceiptHandle) != aws.ToString(first.Messages[0].ReceiptHandle) ||
			again.Messages[0].Attributes["ApproximateReceiveCount"] != "1" {
			t.Fatalf("a retry of the attempt: %+v %v, want the same message and receipt", again, err)
		}
		other, err := h.client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(u), ReceiveRequestAttemptId: aws.String("attempt-2")})
		if err != nil || len(other.Messages) != 1 || aws.ToString(other.Messages[0].Body) == aws.ToString(first.Messages[0].Body) {
			t.Fatalf("another attempt: %+v %v", other, err)
		}
		// Once the lease lapsed, the attempt leases afresh.
		h.clock.Advance(31 * time.Second)
		late, err := h.client.ReceiveMessage(ctx, in)
		if err != nil || len(late.Messages) != 1 || aws.ToString(late.Messages[0].ReceiptHandle) == aws.ToString(first.Messages[0].ReceiptHandle) ||
			late.Messages[0].Attributes["ApproximateReceiveCount"] != "2" {
			t.Fatalf("the attempt after its lease lapsed: %+v %v", late, err)
		}
	})
}
