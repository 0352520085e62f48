package sqs

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/kiri-run/kiri/internal/store/storetest"
)

// A poller receives what ReceiveMessage would, with every attribute, and its deletes and
// visibility changes are the API's.
func TestPollMessagesAreTheAPIs(t *testing.T) {
	t.Parallel()
	h := newHarness(t, storetest.SQLiteConfig(t))
	ctx := t.Context()
	u := h.createQueue(t, "polled.fifo", map[string]string{"FifoQueue": "true", "VisibilityTimeout": "40"})
	arn := "arn:aws:sqs:us-east-1:000000000000:polled.fifo"
	fifo, vis, ok, err := h.svc.PollQueue(ctx, arn)
	if err != nil || !ok || !fifo || vis != 40*time.Second {
		t.Fatalf("PollQueue = %v %v %v %v", fifo, vis, ok, err)
	}
	if _, _, ok, _ := h.svc.PollQueue(ctx, "arn:aws:sqs:us-east-1:000000000000:absent"); ok {
		t.Fatal("PollQueue found a queue that does not exist")
	}
	if _, err := h.client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(u), MessageBody: aws.String("hello"),
		MessageGroupId: aws.String("g"), MessageDeduplicationId: aws.String("d1"),
		MessageAttributes: map[string]sqstypes.MessageAttributeValue{"n": {DataType: aws.String("Number"), StringValue: aws.String("7")}}}); err != nil {
		t.Fatal(err)
	}
	msgs, ok, err := h.svc.PollMessages(ctx, arn, 10, time.Second, 30*time.Second)
	if err != nil || !ok || len(msgs) != 1 {
		t.Fatalf("PollMessages = %d messages, %v, %v", len(msgs), ok, err)
	}
	var m struct {
		MessageId, ReceiptHandle, Body, MD5OfBody, MD5OfMessageAttributes string
		Attributes                                                        map[string]string
		MessageAttributes                                                 map[string]struct{ DataType, StringValue string }
	}
	if err := json.Unmarshal(msgs[0], &m); err != nil {
		t.Fatal(err)
	}
	if m.Body != "hello" || m.MD5OfBody != "5d41402abc4b2a76b9719d911017c592" || m.MessageAttributes["n"].StringValue != "7" || m.MD5OfMessageAttributes == "" {
		t.Fatalf("message = %+v", m)
	}
	for _, a := range []string{"ApproximateReceiveCount", "SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp", "SequenceNumber", "MessageGroupId", "MessageDeduplicationId"} {
		if m.Attributes[a] == "" {
			t.Errorf("attribute %s missing: %v", a, m.Attributes)
		}
	}
	if ok, err := h.svc.ChangeMessagesVisibility(ctx, arn, []string{m.ReceiptHandle}, 0); err != nil || !ok {
		t.Fatalf("ChangeMessagesVisibility = %v, %v", ok, err)
	}
	again, _, err := h.svc.PollMessages(ctx, arn, 10, time.Second, 30*time.Second)
	if err != nil || len(again) != 1 {
		t.Fatalf("receive after the visibility change = %d, %v", len(again), err)
	}
	json.Unmarshal(again[0], &m)
	if m.Attributes["ApproximateReceiveCount"] != "2" {
		t.Fatalf("ApproximateReceiveCount = %s", m.Attributes["ApproximateReceiveCount"])
	}
	if ok, err := h.svc.DeleteMessages(ctx, arn, []string{m.ReceiptHandle}); err != nil || !ok {
		t.Fatalf("DeleteMessages = %v, %v", ok, err)
	}
	attrs, err := h.client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(u),
		AttributeNames: []sqstypes.QueueAttributeName{"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"}})
	if err != nil || attrs.Attributes["ApproximateNumberOfMessages"] != "0" || attrs.Attributes["ApproximateNumberOfMessagesNotVisible"] != "0" {
		t.Fatalf("after the delete: %v, %v", attrs.Attributes, err)
	}
}

// Deleting a queue ends the polls waiting on it.
func TestPollEndsWhenTheQueueIsDeleted(t *testing.T) {
	t.Parallel()
	h := newHarness(t, storetest.SQLiteConfig(t))
	ctx := t.Context()
	u := h.createQueue(t, "doomed", nil)
	type result struct {
		n  int
		ok bool
	}
	done := make(chan result)
	go func() {
		msgs, ok, _ := h.svc.PollMessages(ctx, "arn:aws:sqs:us-east-1:000000000000:doomed", 10, time.Hour, 30*time.Second)
		done <- result{len(msgs), ok}
	}()
	for {
		h.svc.polls.mu.Lock()
		waiting := len(h.svc.polls.m) == 1
		h.svc.polls.mu.Unlock()
		if waiting {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if _, err := h.client.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: aws.String(u)}); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-done:
		if r.n != 0 || r.ok {
			t.Fatalf("poll of a deleted queue = %d messages, ok %v", r.n, r.ok)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the poll outlived its queue")
	}
}
