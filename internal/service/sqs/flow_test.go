package sqs

import (
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/kiri-run/kiri/internal/store"
	"github.com/kiri-run/kiri/internal/store/storetest"
)

// TestFlowOnEveryBackend runs every kind of statement the service makes on each store backend:
// queues and their attributes, tags and listing, sends and receives of standard and FIFO
// queues, deletes and visibility changes, dead letters, a move task, purge and delete.
func TestFlowOnEveryBackend(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, cfg store.Config) {
		h := newHarness(t, cfg)
		c, ctx := h.client, t.Context()
		dlq := h.createQueue(t, "flow-dlq", nil)
		u := h.createQueue(t, "flow", map[string]string{"VisibilityTimeout": "0",
			"RedrivePolicy": `{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:flow-dlq","maxReceiveCount":1}`})
		if _, err := c.TagQueue(ctx, &sqs.TagQueueInput{QueueUrl: aws.String(u), Tags: map[string]string{"k": "v"}}); err != nil {
			t.Fatal(err)
		}
		if tags, err := c.ListQueueTags(ctx, &sqs.ListQueueTagsInput{QueueUrl: aws.String(u)}); err != nil || tags.Tags["k"] != "v" {
			t.Fatalf("tags %v %v", tags, err)
		}
		list, err := c.ListQueues(ctx, &sqs.ListQueuesInput{QueueNamePrefix: aws.String("flow"), MaxResults: aws.Int32(1)})
		if err != nil || len(list.QueueUrls) != 1 || list.NextToken == nil {
			t.Fatalf("ListQueues %v %v", list, err)
		}
		sources, err := c.ListDeadLetterSourceQueues(ctx, &sqs.ListDeadLetterSourceQueuesInput{QueueUrl: aws.String(dlq)})
		if err != nil || len(sources.QueueUrls) != 1 {
			t.Fatalf("ListDeadLetterSourceQueues %v %v", sources, err)
		}
		var entries []sqstypes.SendMessageBatchRequestEntry
		for i := range 3 {
			entries = append(entries, sqstypes.SendMessageBatchRequestEntry{Id: aws.String(fmt.Sprint(i)), MessageBody: aws.String(fmt.Sprint("m", i)),
				MessageAttributes: map[string]sqstypes.MessageAttributeValue{"a": {DataType: aws.String("String"), StringValue: aws.String("v")}}})
		}
		if out, err := c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(u), Entries: entries}); err != nil || len(out.Successful) != 3 {
			t.Fatalf("SendMessageBatch %v %v", out, err)
		}
		got, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(u), MaxNumberOfMessages: 10, VisibilityTimeout: 30, MessageAttributeNames: []string{"All"}})
		if err != nil || len(got.Messages) != 3 {
			t.Fatalf("receive %v %v", got, err)
		}
		if _, err := c.ChangeMessageVisibilityBatch(ctx, &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: aws.String(u), Entries: []sqstypes.ChangeMessageVisibilityBatchRequestEntry{
			{Id: aws.String("a"), ReceiptHandle: got.Messages[0].ReceiptHandle, VisibilityTimeout: 0}}}); err != nil {
			t.Fatal(err)
		}
		del, err := c.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(u), Entries: []sqstypes.DeleteMessageBatchRequestEntry{
			{Id: aws.String("b"), ReceiptHandle: got.Messages[1].ReceiptHandle}}})
		if err != nil || len(del.Successful) != 1 {
			t.Fatalf("DeleteMessageBatch %v %v", del, err)
		}
		// m0 was received once: the next receive moves it to the dead-letter queue.
		if again, _ := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(u)}); len(again.Messages) != 0 {
			t.Fatalf("a message past maxReceiveCount was received: %v", again.Messages)
		}
		if _, err := c.StartMessageMoveTask(ctx, &sqs.StartMessageMoveTaskInput{SourceArn: aws.String("arn:aws:sqs:us-east-1:000000000000:flow-dlq")}); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			tasks, err := c.ListMessageMoveTasks(ctx, &sqs.ListMessageMoveTasksInput{SourceArn: aws.String("arn:aws:sqs:us-east-1:000000000000:flow-dlq")})
			if err != nil {
				t.Fatal(err)
			}
			if len(tasks.Results) == 1 && aws.ToString(tasks.Results[0].Status) == "COMPLETED" {
				if tasks.Results[0].ApproximateNumberOfMessagesMoved != 1 {
					t.Errorf("moved %d", tasks.Results[0].ApproximateNumberOfMessagesMoved)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("move task: %+v", tasks.Results)
			}
			time.Sleep(20 * time.Millisecond)
		}

		f := h.createQueue(t, "flow.fifo", map[string]string{"FifoQueue": "true", "ContentBasedDeduplication": "true", "DeduplicationScope": "messageGroup"})
		for _, b := range []string{"x", "x", "y"} {
			if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(f), MessageBody: aws.String(b), MessageGroupId: aws.String("g")}); err != nil {
				t.Fatal(err)
			}
		}
		in := &sqs.ReceiveMessageInput{QueueUrl: aws.String(f), MaxNumberOfMessages: 1, ReceiveRequestAttemptId: aws.String("r")}
		first, err := c.ReceiveMessage(ctx, in)
		if err != nil || len(first.Messages) != 1 || aws.ToString(first.Messages[0].Body) != "x" {
			t.Fatalf("FIFO receive %v %v", first, err)
		}
		if again, _ := c.ReceiveMessage(ctx, in); len(again.Messages) != 1 || aws.ToString(again.Messages[0].ReceiptHandle) != aws.ToString(first.Messages[0].ReceiptHandle) {
			t.Fatalf("a retried attempt: %v", again.Messages)
		}
		if _, err := c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(f), ReceiptHandle: first.Messages[0].ReceiptHandle}); err != nil {
			t.Fatal(err)
		}
		if next, _ := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(f), MaxNumberOfMessages: 10}); len(next.Messages) != 1 || aws.ToString(next.Messages[0].Body) != "y" {
			t.Fatalf("FIFO after the delete: %v", next.Messages)
		}

		if _, err := c.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: aws.String(u), Attributes: map[string]string{"MessageRetentionPeriod": "60"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.PurgeQueue(ctx, &sqs.PurgeQueueInput{QueueUrl: aws.String(u)}); err != nil {
			t.Fatal(err)
		}
		attrs, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(u), AttributeNames: []sqstypes.QueueAttributeName{"All"}})
		if err != nil || attrs.Attributes["ApproximateNumberOfMessages"] != "0" || attrs.Attributes["MessageRetentionPeriod"] != "60" {
			t.Fatalf("attributes %v %v", attrs, err)
		}
		if _, err := c.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: aws.String(u)}); err != nil {
			t.Fatal(err)
		}
		_, err = c.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("flow")})
		expectAPIError(t, err, "AWS.SimpleQueueService.NonExistentQueue", "")
	})
}

// TestMoveTaskFailsWhenItsDestinationGoes fails a running move task whose destination queue
// is deleted, as SQS reports it.
func TestMoveTaskFailsWhenItsDestinationGoes(t *testing.T) {
	t.Parallel()
	h := newHarness(t, storetest.SQLiteConfig(t))
	c, ctx := h.client, t.Context()
	dlq := h.createQueue(t, "failing-dlq", nil)
	h.createQueue(t, "failing-src", map[string]string{"RedrivePolicy": `{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:failing-dlq","maxReceiveCount":1}`})
	dest := h.createQueue(t, "failing-dest", nil)
	for i := range 5 {
		if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(dlq), MessageBody: aws.String(fmt.Sprint(i))}); err != nil {
			t.Fatal(err)
		}
	}
	src := aws.String("arn:aws:sqs:us-east-1:000000000000:failing-dlq")
	if _, err := c.StartMessageMoveTask(ctx, &sqs.StartMessageMoveTaskInput{SourceArn: src,
		DestinationArn: aws.String("arn:aws:sqs:us-east-1:000000000000:failing-dest"), MaxNumberOfMessagesPerSecond: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: aws.String(dest)}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		tasks, err := c.ListMessageMoveTasks(ctx, &sqs.ListMessageMoveTasksInput{SourceArn: src})
		if err != nil {
			t.Fatal(err)
		}
		if r := tasks.Results[0]; aws.ToString(r.Status) == "FAILED" {
			if aws.ToString(r.FailureReason) != "AWS.SimpleQueueService.NonExistentQueue" || r.ApproximateNumberOfMessagesMoved > 1 || r.TaskHandle != nil {
				t.Errorf("failed task %+v", r)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the task did not fail: %+v", tasks.Results)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
