package e2e

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

func strAttr(v string) types.MessageAttributeValue {
	return types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
}

func md5Hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// TestSQSSendReceiveDelete sends messages with every kind of attribute, receives them with
// filters on attribute names, checks the MD5 digests SQS gives (the SDK verifies the body's
// itself), and deletes them.
func TestSQSSendReceiveDelete(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{})
	c := srv.Clients().SQS
	ctx := t.Context()
	// A queue whose receives leave messages visible, so the test can receive them again.
	u := aws.String(sqsQueue(t, c, "messages", map[string]string{"VisibilityTimeout": "0"}))
	body := "héllo, wörld 🎉\n\ttabs and <xml> & \"quotes\""
	attrs := map[string]types.MessageAttributeValue{
		"General": strAttr("Kenobi"), "Hello": strAttr("There"), "Help.Me": strAttr("Me"),
	}
	// The digest SQS returned for these three attributes (recorded from AWS).
	const allMD5 = "4c360f3fdafd970e05fae2f149d997f5"
	sent, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: u, MessageBody: aws.String(body), MessageAttributes: attrs,
		MessageSystemAttributes: map[string]types.MessageSystemAttributeValue{
			"AWSTraceHeader": {DataType: aws.String("String"), StringValue: aws.String("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1")},
		}})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(sent.MD5OfMessageBody) != md5Hex(body) || aws.ToString(sent.MD5OfMessageAttributes) != allMD5 ||
		sent.MD5OfMessageSystemAttributes == nil || len(aws.ToString(sent.MessageId)) != 36 || sent.SequenceNumber != nil {
		t.Fatalf("SendMessage = %+v", sent)
	}
	typed, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: u, MessageBody: aws.String("typed"), MessageAttributes: map[string]types.MessageAttributeValue{
		"n":   {DataType: aws.String("Number"), StringValue: aws.String("-12.5e3")},
		"bin": {DataType: aws.String("Binary.png"), BinaryValue: []byte{0, 1, 2, 255}},
		"s":   {DataType: aws.String("String.foo"), StringValue: aws.String("custom")},
	}})
	if err != nil {
		t.Fatal(err)
	}

	// Attribute filters: "Hel.*" selects by prefix, and the digest covers what is returned.
	got, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: u, MaxNumberOfMessages: 10,
		MessageAttributeNames: []string{"Hel.*"}, MessageSystemAttributeNames: []types.MessageSystemAttributeName{"All"}})
	if err != nil || len(got.Messages) != 2 {
		t.Fatalf("receive: %+v %v", got, err)
	}
	m := got.Messages[0]
	if aws.ToString(m.Body) != body || aws.ToString(m.MessageId) != aws.ToString(sent.MessageId) || len(m.MessageAttributes) != 2 ||
		aws.ToString(m.MD5OfMessageAttributes) != "83fee93c1bcd8b9a5a923ffacdc636c7" {
		t.Fatalf("first message %+v", m)
	}
	for _, k := range []string{"SenderId", "SentTimestamp", "ApproximateReceiveCount", "ApproximateFirstReceiveTimestamp", "AWSTraceHeader"} {
		if m.Attributes[k] == "" {
			t.Errorf("system attribute %s missing: %v", k, m.Attributes)
		}
	}
	if _, ok := m.Attributes["SequenceNumber"]; ok {
		t.Error("a standard queue's message has a SequenceNumber")
	}
	if len(got.Messages[1].MessageAttributes) != 0 || got.Messages[1].MD5OfMessageAttributes != nil {
		t.Errorf("the filter let other attributes through: %+v", got.Messages[1].MessageAttributes)
	}
	got, err = c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: u, MaxNumberOfMessages: 10,
		MessageAttributeNames: []string{"All"}, AttributeNames: []types.QueueAttributeName{"SentTimestamp"}})
	if err != nil || len(got.Messages) != 2 {
		t.Fatalf("receive: %+v %v", got, err)
	}
	if aws.ToString(got.Messages[0].MD5OfMessageAttributes) != allMD5 || len(got.Messages[0].Attributes) != 1 {
		t.Errorf("All: %+v", got.Messages[0])
	}
	tm := got.Messages[1]
	if aws.ToString(tm.MD5OfMessageAttributes) != aws.ToString(typed.MD5OfMessageAttributes) ||
		string(tm.MessageAttributes["bin"].BinaryValue) != "\x00\x01\x02\xff" || aws.ToString(tm.MessageAttributes["bin"].DataType) != "Binary.png" ||
		aws.ToString(tm.MessageAttributes["n"].StringValue) != "-12.5e3" || aws.ToString(tm.MessageAttributes["s"].DataType) != "String.foo" {
		t.Errorf("typed attributes: %+v", tm.MessageAttributes)
	}
	// Received again: the count grows and each receive has its own handle.
	final, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: u, MaxNumberOfMessages: 10, VisibilityTimeout: 30,
		AttributeNames: []types.QueueAttributeName{"All"}})
	if err != nil || len(final.Messages) != 2 || final.Messages[0].Attributes["ApproximateReceiveCount"] != "3" ||
		aws.ToString(final.Messages[0].ReceiptHandle) == aws.ToString(got.Messages[0].ReceiptHandle) {
		t.Fatalf("third receive: %+v %v", final, err)
	}
	for _, m := range final.Messages {
		if _, err := c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: u, ReceiptHandle: m.ReceiptHandle}); err != nil {
			t.Fatal(err)
		}
	}
	// Deleting twice is fine; a handle that is not one is not.
	if _, err := c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: u, ReceiptHandle: final.Messages[0].ReceiptHandle}); err != nil {
		t.Errorf("a second delete: %v", err)
	}
	_, err = c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: u, ReceiptHandle: aws.String("forged")})
	wantAPIError(t, err, "ReceiptHandleIsInvalid", `The input receipt handle "forged" is not a valid receipt handle.`)
	if got := sqsAttributes(t, c, *u, types.QueueAttributeNameApproximateNumberOfMessages, types.QueueAttributeNameApproximateNumberOfMessagesNotVisible); got["ApproximateNumberOfMessages"] != "0" || got["ApproximateNumberOfMessagesNotVisible"] != "0" {
		t.Errorf("after deleting: %v", got)
	}
}

// TestSQSMessageValidation refuses what SQS refuses, with its codes and messages.
func TestSQSMessageValidation(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{})
	c := srv.Clients().SQS
	ctx := t.Context()
	u := aws.String(sqsQueue(t, c, "strict", nil))
	small := aws.String(sqsQueue(t, c, "small", map[string]string{"MaximumMessageSize": "1024"}))
	for name, tc := range map[string]struct {
		in        *sqs.SendMessageInput
		code, msg string
	}{
		"a NUL in the body": {&sqs.SendMessageInput{QueueUrl: u, MessageBody: aws.String("a\x00b")}, "InvalidMessageContents",
			"Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF"},
		"U+FFFF in the body": {&sqs.SendMessageInput{QueueUrl: u, MessageBody: aws.String("\uffff")}, "InvalidMessageContents", "Invalid characters found."},
		"an empty body":      {&sqs.SendMessageInput{QueueUrl: u, MessageBody: aws.String("")}, "MissingParameter", "The request must contain the parameter MessageBody."},
		"a body over 1 MiB": {&sqs.SendMessageInput{QueueUrl: u, MessageBody: aws.String(strings.Repeat("x", 1<<20+1))}, "InvalidParameterValue",
			"One or more parameters are invalid. Reason: Message must be shorter than 1048576 bytes."},
		"attributes over the queue's size": {&sqs.SendMessageInput{QueueUrl: small, MessageBody: aws.String(strings.Repeat("x", 1000)),
			MessageAttributes: map[string]types.MessageAttributeValue{"attribute": strAttr(strings.Repeat("v", 20))}},
			"InvalidParameterValue", "One or more parameters are invalid. Reason: Message must be shorter than 1024 bytes."},
		"a delay too long": {&sqs.SendMessageInput{QueueUrl: u, MessageBody: aws.String("x"), DelaySeconds: 901}, "InvalidParameterValue",
			"Value 901 for parameter DelaySeconds is invalid."},
		"an empty attribute": {&sqs.SendMessageInput{QueueUrl: u, MessageBody: aws.String("x"),
			MessageAttributes: map[string]types.MessageAttributeValue{"ErrorDetails": strAttr("")}},
			"InvalidParameterValue", "Message (user) attribute 'ErrorDetails' must contain a non-empty value of type 'String'."},
		"a reserved attribute name": {&sqs.SendMessageInput{QueueUrl: u, MessageBody: aws.String("x"),
			MessageAttributes: map[string]types.MessageAttributeValue{"Amazon.x": strAttr("v")}},
			"InvalidParameterValue", "Message (user) attribute name 'Amazon.x' is invalid."},
		"a number that is none": {&sqs.SendMessageInput{QueueUrl: u, MessageBody: aws.String("x"),
			MessageAttributes: map[string]types.MessageAttributeValue{"n": {DataType: aws.String("Number"), StringValue: aws.String("ten")}}},
			"InvalidParameterValue", "Can't cast the value of message (user) attribute 'n' to a number."},
		"a deduplication id on a standard queue": {&sqs.SendMessageInput{QueueUrl: u, MessageBody: aws.String("x"), MessageDeduplicationId: aws.String("d")},
			"InvalidParameterValue", "Value d for parameter MessageDeduplicationId is invalid. Reason: The request includes a parameter that is not valid for this queue type."},
		"an invalid group id": {&sqs.SendMessageInput{QueueUrl: u, MessageBody: aws.String("x"), MessageGroupId: aws.String("group 123")},
			"InvalidParameterValue", "Value group 123 for parameter MessageGroupId is invalid. Reason: MessageGroupId can only include alphanumeric and punctuation characters. 1 to 128 in length."},
		"an unknown system attribute": {&sqs.SendMessageInput{QueueUrl: u, MessageBody: aws.String("x"),
			MessageSystemAttributes: map[string]types.MessageSystemAttributeValue{"Other": {DataType: aws.String("String"), StringValue: aws.String("v")}}},
			"InvalidParameterValue", "Message system attribute name 'Other' is invalid."},
	} {
		_, err := c.SendMessage(ctx, tc.in)
		if err == nil {
			t.Errorf("%s: sent", name)
			continue
		}
		wantAPIError(t, err, tc.code, tc.msg)
	}
	many := map[string]types.MessageAttributeValue{}
	for i := range 11 {
		many[fmt.Sprint("a", i)] = strAttr("v")
	}
	_, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: u, MessageBody: aws.String("x"), MessageAttributes: many})
	wantAPIError(t, err, "InvalidParameterValue", "Number of message attributes [11] exceeds the allowed maximum [10].")
	// Exactly the limit is accepted: 1024 bytes of body in a queue of 1024.
	if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: small, MessageBody: aws.String(strings.Repeat("x", 1024))}); err != nil {
		t.Errorf("a message of exactly MaximumMessageSize: %v", err)
	}
	if got := sqsAttributes(t, c, *u, types.QueueAttributeNameApproximateNumberOfMessages); got["ApproximateNumberOfMessages"] != "0" {
		t.Errorf("refused messages were stored: %v", got)
	}
	for name, in := range map[string]*sqs.ReceiveMessageInput{
		"Value 11 for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.": {QueueUrl: u, MaxNumberOfMessages: 11},
		"Value 21 for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, if provided.":       {QueueUrl: u, WaitTimeSeconds: 21},
		"Value 43201 for parameter VisibilityTimeout is invalid.":                                               {QueueUrl: u, VisibilityTimeout: 43201},
	} {
		_, err := c.ReceiveMessage(ctx, in)
		wantAPIError(t, err, "InvalidParameterValue", name)
	}
}

// TestSQSBatches covers the batch operations: their request-level rules, per-entry failures
// reported as BatchResultErrorEntry, and the entries that succeed beside them.
func TestSQSBatches(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{})
	c := srv.Clients().SQS
	ctx := t.Context()
	u := aws.String(sqsQueue(t, c, "batches", map[string]string{"MaximumMessageSize": "1024"}))
	entries := func(n int) []types.SendMessageBatchRequestEntry {
		var es []types.SendMessageBatchRequestEntry
		for i := range n {
			es = append(es, types.SendMessageBatchRequestEntry{Id: aws.String(fmt.Sprint("m", i)), MessageBody: aws.String(fmt.Sprint("body ", i))})
		}
		return es
	}
	_, err := c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: u, Entries: []types.SendMessageBatchRequestEntry{}})
	wantAPIError(t, err, "AWS.SimpleQueueService.EmptyBatchRequest", "There should be at least one SendMessageBatchRequestEntry in the request.")
	_, err = c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: u, Entries: entries(11)})
	wantAPIError(t, err, "AWS.SimpleQueueService.TooManyEntriesInBatchRequest", "Maximum number of entries per request are 10. You have sent 11.")
	dup := entries(2)
	dup[1].Id = dup[0].Id
	_, err = c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: u, Entries: dup})
	wantAPIError(t, err, "AWS.SimpleQueueService.BatchEntryIdsNotDistinct", "Id m0 repeated.")
	bad := entries(1)
	bad[0].Id = aws.String("invalid:id")
	_, err = c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: u, Entries: bad})
	wantAPIError(t, err, "AWS.SimpleQueueService.InvalidBatchEntryId",
		"A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.")
	big := entries(2)
	big[0].MessageBody = aws.String(strings.Repeat("x", 600<<10))
	big[1].MessageBody = aws.String(strings.Repeat("x", 500<<10))
	_, err = c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: u, Entries: big})
	wantAPIError(t, err, "AWS.SimpleQueueService.BatchRequestTooLong", fmt.Sprintf("Batch requests cannot be longer than 1048576 bytes. You have sent %d bytes.", 1100<<10))

	mixed := entries(4)
	mixed[1].MessageBody = aws.String(strings.Repeat("x", 1025))
	mixed[2].MessageBody = aws.String("bad \x01 body")
	mixed[3].MessageAttributes = map[string]types.MessageAttributeValue{"a": strAttr("v")}
	out, err := c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: u, Entries: mixed})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Successful) != 2 || len(out.Failed) != 2 {
		t.Fatalf("mixed batch: %+v", out)
	}
	failed := map[string]types.BatchResultErrorEntry{}
	for _, f := range out.Failed {
		failed[aws.ToString(f.Id)] = f
	}
	if f := failed["m1"]; aws.ToString(f.Code) != "InvalidParameterValue" || !f.SenderFault ||
		aws.ToString(f.Message) != "One or more parameters cannot be validated. Reason: Message must be shorter than 1024 bytes." {
		t.Errorf("oversized entry: %+v", f)
	}
	if f := failed["m2"]; aws.ToString(f.Code) != "InvalidMessageContents" {
		t.Errorf("invalid contents entry: %+v", f)
	}
	if s := out.Successful[1]; aws.ToString(s.Id) != "m3" || aws.ToString(s.MD5OfMessageAttributes) == "" || aws.ToString(s.MD5OfMessageBody) != md5Hex("body 3") {
		t.Errorf("successful entry: %+v", s)
	}

	got, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: u, MaxNumberOfMessages: 10})
	if err != nil || len(got.Messages) != 2 {
		t.Fatalf("receive: %+v %v", got, err)
	}
	other := aws.String(sqsQueue(t, c, "other", nil))
	if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: other, MessageBody: aws.String("x")}); err != nil {
		t.Fatal(err)
	}
	foreign, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: other})
	if err != nil || len(foreign.Messages) != 1 {
		t.Fatal(err)
	}
	vis, err := c.ChangeMessageVisibilityBatch(ctx, &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: u, Entries: []types.ChangeMessageVisibilityBatchRequestEntry{
		{Id: aws.String("a"), ReceiptHandle: got.Messages[0].ReceiptHandle, VisibilityTimeout: 0},
		{Id: aws.String("b"), ReceiptHandle: foreign.Messages[0].ReceiptHandle, VisibilityTimeout: 10},
		{Id: aws.String("c"), ReceiptHandle: got.Messages[1].ReceiptHandle, VisibilityTimeout: 43201},
	}})
	if err != nil || len(vis.Successful) != 1 || len(vis.Failed) != 2 {
		t.Fatalf("ChangeMessageVisibilityBatch: %+v %v", vis, err)
	}
	codes := []string{aws.ToString(vis.Failed[0].Code), aws.ToString(vis.Failed[1].Code)}
	sort.Strings(codes)
	if codes[0] != "InvalidParameterValue" || codes[1] != "ReceiptHandleIsInvalid" {
		t.Errorf("visibility failures: %v (a handle of another queue is refused)", codes)
	}
	del, err := c.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: u, Entries: []types.DeleteMessageBatchRequestEntry{
		{Id: aws.String("a"), ReceiptHandle: got.Messages[0].ReceiptHandle},
		{Id: aws.String("b"), ReceiptHandle: got.Messages[1].ReceiptHandle},
		{Id: aws.String("c"), ReceiptHandle: aws.String("garbage")},
	}})
	if err != nil || len(del.Successful) != 2 || len(del.Failed) != 1 || aws.ToString(del.Failed[0].Code) != "ReceiptHandleIsInvalid" {
		t.Fatalf("DeleteMessageBatch: %+v %v", del, err)
	}
	_, err = c.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: u, Entries: []types.DeleteMessageBatchRequestEntry{}})
	wantAPIError(t, err, "AWS.SimpleQueueService.EmptyBatchRequest", "There should be at least one DeleteMessageBatchRequestEntry in the request.")
}

// TestSQSVisibilityAndDelays covers leases and delays: VisibilityTimeout per receive,
// ChangeMessageVisibility, a receipt another receive replaced, and delayed messages.
func TestSQSVisibilityAndDelays(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{})
	c := srv.Clients().SQS
	ctx := t.Context()
	u := aws.String(sqsQueue(t, c, "leases", nil))
	if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: u, MessageBody: aws.String("lease me")}); err != nil {
		t.Fatal(err)
	}
	first, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: u, VisibilityTimeout: 60})
	if err != nil || len(first.Messages) != 1 {
		t.Fatal(err)
	}
	if again, _ := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: u}); len(again.Messages) != 0 {
		t.Fatal("a leased message was received again")
	}
	if _, err := c.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: u, ReceiptHandle: first.Messages[0].ReceiptHandle, VisibilityTimeout: 0}); err != nil {
		t.Fatal(err)
	}
	second, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: u, VisibilityTimeout: 60})
	if err != nil || len(second.Messages) != 1 {
		t.Fatalf("after a visibility of 0: %+v %v", second, err)
	}
	_, err = c.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: u, ReceiptHandle: first.Messages[0].ReceiptHandle, VisibilityTimeout: 10})
	wantAPIError(t, err, "AWS.SimpleQueueService.MessageNotInflight", "")
	if _, err := c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: u, ReceiptHandle: second.Messages[0].ReceiptHandle}); err != nil {
		t.Fatal(err)
	}
	_, err = c.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: u, ReceiptHandle: second.Messages[0].ReceiptHandle, VisibilityTimeout: 10})
	wantAPIError(t, err, "InvalidParameterValue", "Reason: Message does not exist or is not available for visibility timeout change.")

	// Delays: per message, and the queue's default.
	delayed := aws.String(sqsQueue(t, c, "delayed", map[string]string{"DelaySeconds": "1"}))
	for _, in := range []*sqs.SendMessageInput{
		{QueueUrl: u, MessageBody: aws.String("later"), DelaySeconds: 1},
		{QueueUrl: delayed, MessageBody: aws.String("later")},
	} {
		if _, err := c.SendMessage(ctx, in); err != nil {
			t.Fatal(err)
		}
		if got := sqsAttributes(t, c, *in.QueueUrl, types.QueueAttributeNameApproximateNumberOfMessagesDelayed); got["ApproximateNumberOfMessagesDelayed"] != "1" {
			t.Errorf("delayed count %v", got)
		}
		if got, _ := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: in.QueueUrl}); len(got.Messages) != 0 {
			t.Error("a delayed message was received at once")
		}
		start := time.Now()
		got, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: in.QueueUrl, WaitTimeSeconds: 5})
		if err != nil || len(got.Messages) != 1 || time.Since(start) > 3*time.Second {
			t.Errorf("a long poll for a delayed message: %d messages after %s (%v)", len(got.Messages), time.Since(start), err)
		}
	}
}

// TestSQSLongPolling wakes a waiting receive when a message arrives, and honours the queue's
// ReceiveMessageWaitTimeSeconds when a receive does not say.
func TestSQSLongPolling(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{})
	c := srv.Clients().SQS
	ctx := t.Context()
	u := aws.String(sqsQueue(t, c, "poll", nil))
	type result struct {
		out  *sqs.ReceiveMessageOutput
		err  error
		took time.Duration
	}
	done := make(chan result, 1)
	go func() {
		start := time.Now()
		out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: u, WaitTimeSeconds: 20})
		done <- result{out, err, time.Since(start)}
	}()
	time.Sleep(300 * time.Millisecond)
	sentAt := time.Now()
	if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: u, MessageBody: aws.String("wake")}); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err != nil || len(r.out.Messages) != 1 || time.Since(sentAt) > time.Second {
		t.Fatalf("long poll: %+v %v, woke %s after the send", r.out, r.err, time.Since(sentAt))
	}
	t.Logf("a long poll woke %s after the send", time.Since(sentAt).Round(time.Millisecond))

	waiting := aws.String(sqsQueue(t, c, "waiting", map[string]string{"ReceiveMessageWaitTimeSeconds": "1"}))
	start := time.Now()
	got, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: waiting})
	if err != nil || len(got.Messages) != 0 || time.Since(start) < 900*time.Millisecond {
		t.Errorf("an empty receive on a queue that waits 1 s returned after %s: %v", time.Since(start), err)
	}
}
