package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

func bodiesOf(ms []types.Message) []string {
	var out []string
	for _, m := range ms {
		out = append(out, aws.ToString(m.Body))
	}
	return out
}

// TestSQSFifoOrder keeps each message group in send order with one group's messages in flight
// at a time, numbers messages in sequence, and refuses what FIFO queues refuse.
func TestSQSFifoOrder(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{})
	c := srv.Clients().SQS
	ctx := t.Context()
	u := aws.String(sqsQueue(t, c, "order.fifo", map[string]string{"FifoQueue": "true", "ContentBasedDeduplication": "true"}))
	var entries []types.SendMessageBatchRequestEntry
	for i, g := range []string{"a", "b", "a", "a", "b"} {
		entries = append(entries, types.SendMessageBatchRequestEntry{Id: aws.String(fmt.Sprint(i)), MessageBody: aws.String(fmt.Sprintf("%s%d", g, i)), MessageGroupId: aws.String(g)})
	}
	sent, err := c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: u, Entries: entries})
	if err != nil || len(sent.Successful) != 5 {
		t.Fatalf("send batch: %+v %v", sent, err)
	}
	for i := 1; i < 5; i++ {
		if aws.ToString(sent.Successful[i].SequenceNumber) <= aws.ToString(sent.Successful[i-1].SequenceNumber) {
			t.Errorf("sequence numbers do not grow: %v", sent.Successful)
		}
	}
	first, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: u, MaxNumberOfMessages: 1, AttributeNames: []types.QueueAttributeName{"All"}})
	if err != nil || fmt.Sprint(bodiesOf(first.Messages)) != "[a0]" {
		t.Fatalf("first receive: %v %v", bodiesOf(first.Messages), err)
	}
	a := first.Messages[0].Attributes
	if a["MessageGroupId"] != "a" || a["SequenceNumber"] != aws.ToString(sent.Successful[0].SequenceNumber) || len(a["MessageDeduplicationId"]) != 64 {
		t.Errorf("FIFO system attributes %v", a)
	}
	// a0 is in flight: group a waits, group b does not.
	rest, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: u, MaxNumberOfMessages: 10})
	if err != nil || fmt.Sprint(bodiesOf(rest.Messages)) != "[b1 b4]" {
		t.Fatalf("while a0 is in flight: %v %v", bodiesOf(rest.Messages), err)
	}
	if _, err := c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: u, ReceiptHandle: first.Messages[0].ReceiptHandle}); err != nil {
		t.Fatal(err)
	}
	next, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: u, MaxNumberOfMessages: 10})
	if err != nil || fmt.Sprint(bodiesOf(next.Messages)) != "[a2 a3]" {
		t.Fatalf("after a0 is deleted: %v %v", bodiesOf(next.Messages), err)
	}
	// Making a2 visible again puts it, and a3 after it, back at the head of the group.
	if _, err := c.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: u, ReceiptHandle: next.Messages[0].ReceiptHandle, VisibilityTimeout: 0}); err != nil {
		t.Fatal(err)
	}
	if again, _ := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: u, MaxNumberOfMessages: 10}); fmt.Sprint(bodiesOf(again.Messages)) != "[]" {
		t.Fatalf("a2 was received while a3, later in its group, is in flight: %v", bodiesOf(again.Messages))
	}

	_, err = c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: u, MessageBody: aws.String("x")})
	wantAPIError(t, err, "MissingParameter", "The request must contain the parameter MessageGroupId.")
	_, err = c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: u, MessageBody: aws.String("x"), MessageGroupId: aws.String("g"), DelaySeconds: 2})
	wantAPIError(t, err, "InvalidParameterValue", "Value 2 for parameter DelaySeconds is invalid. Reason: The request include parameter that is not valid for this queue type.")
	_, err = c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: u, Entries: []types.SendMessageBatchRequestEntry{{Id: aws.String("x"), MessageBody: aws.String("x")}}})
	wantAPIError(t, err, "InvalidParameterValue", "The request must contain the parameter MessageGroupId.")
	plain := aws.String(sqsQueue(t, c, "plain.fifo", map[string]string{"FifoQueue": "true"}))
	_, err = c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: plain, MessageBody: aws.String("x"), MessageGroupId: aws.String("g")})
	wantAPIError(t, err, "InvalidParameterValue", "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly")
	_, err = c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: plain, MessageBody: aws.String("x"), MessageGroupId: aws.String("g"), MessageDeduplicationId: aws.String("has space")})
	wantAPIError(t, err, "InvalidParameterValue", "Value has space for parameter MessageDeduplicationId is invalid.")
}

// TestSQSFifoDeduplication suppresses repeated sends within the interval, by explicit id or by
// the body's SHA-256, per queue or per message group.
func TestSQSFifoDeduplication(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{})
	c := srv.Clients().SQS
	ctx := t.Context()
	send := func(u *string, body, group, dedup string) *sqs.SendMessageOutput {
		t.Helper()
		in := &sqs.SendMessageInput{QueueUrl: u, MessageBody: aws.String(body), MessageGroupId: aws.String(group)}
		if dedup != "" {
			in.MessageDeduplicationId = aws.String(dedup)
		}
		out, err := c.SendMessage(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	count := func(u *string) string {
		return sqsAttributes(t, c, *u, types.QueueAttributeNameApproximateNumberOfMessages)["ApproximateNumberOfMessages"]
	}

	byID := aws.String(sqsQueue(t, c, "byid.fifo", map[string]string{"FifoQueue": "true"}))
	a := send(byID, "one", "g", "d1")
	b := send(byID, "two", "g", "d1")
	if aws.ToString(a.MessageId) != aws.ToString(b.MessageId) || aws.ToString(a.SequenceNumber) != aws.ToString(b.SequenceNumber) {
		t.Errorf("a duplicate got its own id: %s vs %s", aws.ToString(a.MessageId), aws.ToString(b.MessageId))
	}
	send(byID, "three", "other", "d1") // the queue scope spans groups
	if n := count(byID); n != "1" {
		t.Errorf("explicit deduplication kept %s messages, want 1", n)
	}
	// A received and deleted message's id still deduplicates.
	got, _ := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: byID})
	if _, err := c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: byID, ReceiptHandle: got.Messages[0].ReceiptHandle}); err != nil {
		t.Fatal(err)
	}
	send(byID, "four", "g", "d1")
	if n := count(byID); n != "0" {
		t.Errorf("a deleted message's deduplication id did not suppress a resend: %s messages", n)
	}

	content := aws.String(sqsQueue(t, c, "content.fifo", map[string]string{"FifoQueue": "true", "ContentBasedDeduplication": "true"}))
	send(content, "same body", "g", "")
	send(content, "same body", "h", "")
	send(content, "other body", "g", "")
	sum := sha256.Sum256([]byte("same body"))
	send(content, "explicit", "g", hex.EncodeToString(sum[:])) // the generated id, given explicitly
	if n := count(content); n != "2" {
		t.Errorf("content-based deduplication kept %s messages, want 2", n)
	}
	msgs, _ := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: content, MaxNumberOfMessages: 10, MessageSystemAttributeNames: []types.MessageSystemAttributeName{"MessageDeduplicationId"}})
	if len(msgs.Messages) == 0 || msgs.Messages[0].Attributes["MessageDeduplicationId"] != hex.EncodeToString(sum[:]) {
		t.Errorf("MessageDeduplicationId of a content-deduplicated message: %+v", msgs.Messages)
	}

	grouped := aws.String(sqsQueue(t, c, "grouped.fifo", map[string]string{"FifoQueue": "true", "DeduplicationScope": "messageGroup", "FifoThroughputLimit": "perMessageGroupId"}))
	send(grouped, "one", "g", "d1")
	send(grouped, "two", "h", "d1") // another group: not a duplicate
	send(grouped, "three", "g", "d1")
	if n := count(grouped); n != "2" {
		t.Errorf("group-scoped deduplication kept %s messages, want 2", n)
	}
	gm, _ := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: grouped, MaxNumberOfMessages: 10, AttributeNames: []types.QueueAttributeName{"All"}})
	for _, m := range gm.Messages {
		if m.Attributes["MessageDeduplicationId"] != "d1" {
			t.Errorf("group-scoped message's MessageDeduplicationId %q, want d1", m.Attributes["MessageDeduplicationId"])
		}
	}
}

// TestSQSFifoReceiveAttempt returns the same messages and receipt handles to a retried
// receive with the same ReceiveRequestAttemptId.
func TestSQSFifoReceiveAttempt(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{})
	c := srv.Clients().SQS
	ctx := t.Context()
	u := aws.String(sqsQueue(t, c, "attempt.fifo", map[string]string{"FifoQueue": "true", "ContentBasedDeduplication": "true"}))
	for _, g := range []string{"a", "b", "c"} {
		if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: u, MessageBody: aws.String(g), MessageGroupId: aws.String(g)}); err != nil {
			t.Fatal(err)
		}
	}
	in := &sqs.ReceiveMessageInput{QueueUrl: u, MaxNumberOfMessages: 2, ReceiveRequestAttemptId: aws.String("retry-me")}
	first, err := c.ReceiveMessage(ctx, in)
	if err != nil || len(first.Messages) != 2 {
		t.Fatal(err)
	}
	again, err := c.ReceiveMessage(ctx, in)
	if err != nil || len(again.Messages) != 2 || aws.ToString(again.Messages[0].ReceiptHandle) != aws.ToString(first.Messages[0].ReceiptHandle) ||
		aws.ToString(again.Messages[1].ReceiptHandle) != aws.ToString(first.Messages[1].ReceiptHandle) {
		t.Fatalf("retried attempt: %v, want the same messages and handles as %v (%v)", bodiesOf(again.Messages), bodiesOf(first.Messages), err)
	}
	other, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: u, MaxNumberOfMessages: 10, ReceiveRequestAttemptId: aws.String("another")})
	if err != nil || fmt.Sprint(bodiesOf(other.Messages)) != "[c]" {
		t.Fatalf("another attempt: %v %v", bodiesOf(other.Messages), err)
	}
	_, err = c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: u, ReceiveRequestAttemptId: aws.String("has space")})
	wantAPIError(t, err, "InvalidParameterValue", "Value has space for parameter ReceiveRequestAttemptId is invalid.")
}
