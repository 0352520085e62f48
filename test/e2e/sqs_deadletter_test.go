package e2e

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"sort"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

func redrive(dlqARN string, n int) map[string]string {
	return map[string]string{"RedrivePolicy": fmt.Sprintf(`{"deadLetterTargetArn":"%s","maxReceiveCount":"%d"}`, dlqARN, n)}
}

func queueARN(name string) string { return "arn:aws:sqs:us-east-1:000000000000:" + name }

// TestSQSRedrivePolicies checks a RedrivePolicy against its dead-letter queue (it must exist, be
// of the same type and allow the source) and lists a dead-letter queue's sources.
func TestSQSRedrivePolicies(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{})
	c := srv.Clients().SQS
	ctx := t.Context()
	sqsQueue(t, c, "dlq", nil)
	sqsQueue(t, c, "dlq.fifo", map[string]string{"FifoQueue": "true"})
	sqsQueue(t, c, "closed", map[string]string{"RedriveAllowPolicy": `{"redrivePermission":"denyAll"}`})
	sqsQueue(t, c, "picky", map[string]string{"RedriveAllowPolicy": `{"redrivePermission":"byQueue","sourceQueueArns":["` + queueARN("chosen") + `"]}`})

	src := sqsQueue(t, c, "src-a", redrive(queueARN("dlq"), 3))
	if got := sqsAttributes(t, c, src, types.QueueAttributeNameRedrivePolicy)["RedrivePolicy"]; got != `{"deadLetterTargetArn":"`+queueARN("dlq")+`","maxReceiveCount":3}` {
		t.Errorf("RedrivePolicy as stored: %s", got)
	}
	sqsQueue(t, c, "src-b", nil)
	if _, err := c.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: aws.String(srv.URL + "/000000000000/src-b"), Attributes: redrive(queueARN("dlq"), 5)}); err != nil {
		t.Fatal(err)
	}
	sqsQueue(t, c, "chosen", redrive(queueARN("picky"), 1))

	for name, tc := range map[string]struct {
		queue  string
		attrs  map[string]string
		reason string
	}{
		"a dead-letter queue that does not exist": {"bad1", redrive(queueARN("nowhere"), 3), "Reason: Dead letter target does not exist."},
		"a FIFO dead-letter queue for a standard": {"bad2", redrive(queueARN("dlq.fifo"), 3), "Reason: Dead-letter queue must be same type of queue as the source."},
		"a dead-letter queue that denies all":     {"bad3", redrive(queueARN("closed"), 3), "does not allow " + queueARN("bad3")},
		"a dead-letter queue that allows others":  {"bad4", redrive(queueARN("picky"), 3), "does not allow " + queueARN("bad4")},
		"a count out of range":                    {"bad5", redrive(queueARN("dlq"), 0), "Reason: Invalid value for maxReceiveCount: 0, valid values are from 1 to 1000 both inclusive."},
	} {
		_, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(tc.queue), Attributes: tc.attrs})
		if err == nil {
			t.Errorf("%s: created", name)
			continue
		}
		wantAPIError(t, err, "InvalidParameterValue", tc.reason)
	}

	list, err := c.ListDeadLetterSourceQueues(ctx, &sqs.ListDeadLetterSourceQueuesInput{QueueUrl: aws.String(srv.URL + "/000000000000/dlq")})
	if err != nil || len(list.QueueUrls) != 2 || list.QueueUrls[0] != srv.URL+"/000000000000/src-a" || list.QueueUrls[1] != srv.URL+"/000000000000/src-b" {
		t.Fatalf("ListDeadLetterSourceQueues: %v %v", list, err)
	}
	page, err := c.ListDeadLetterSourceQueues(ctx, &sqs.ListDeadLetterSourceQueuesInput{QueueUrl: aws.String(srv.URL + "/000000000000/dlq"), MaxResults: aws.Int32(1)})
	if err != nil || len(page.QueueUrls) != 1 || page.NextToken == nil {
		t.Fatalf("a page of one: %v %v", page, err)
	}
	// Removing the policy removes the source.
	if _, err := c.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: aws.String(src), Attributes: map[string]string{"RedrivePolicy": ""}}); err != nil {
		t.Fatal(err)
	}
	if list, _ := c.ListDeadLetterSourceQueues(ctx, &sqs.ListDeadLetterSourceQueuesInput{QueueUrl: aws.String(srv.URL + "/000000000000/dlq")}); len(list.QueueUrls) != 1 {
		t.Errorf("sources after a policy was removed: %v", list.QueueUrls)
	}
}

// TestSQSDeadLetterQueue moves a message received more than maxReceiveCount times to the
// dead-letter queue, where it keeps its id and attributes and names its source.
func TestSQSDeadLetterQueue(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{})
	c := srv.Clients().SQS
	ctx := t.Context()
	dlq := aws.String(sqsQueue(t, c, "poison-dlq", nil))
	src := aws.String(sqsQueue(t, c, "work", redrive(queueARN("poison-dlq"), 2)))
	sent, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: src, MessageBody: aws.String("poison"),
		MessageAttributes: map[string]types.MessageAttributeValue{"MyAttribute": strAttr("foobar")}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		got, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: src})
		if err != nil || len(got.Messages) != 1 {
			t.Fatalf("receive %d: %+v %v", i+1, got, err)
		}
		if _, err := c.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: src, ReceiptHandle: got.Messages[0].ReceiptHandle, VisibilityTimeout: 0}); err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: src}); len(got.Messages) != 0 {
		t.Fatal("a message past maxReceiveCount was received again")
	}
	dead, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: dlq, MessageAttributeNames: []string{"All"},
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{"All"}})
	if err != nil || len(dead.Messages) != 1 {
		t.Fatalf("dead-letter queue: %+v %v", dead, err)
	}
	m := dead.Messages[0]
	if aws.ToString(m.MessageId) != aws.ToString(sent.MessageId) || m.Attributes["DeadLetterQueueSourceArn"] != queueARN("work") ||
		m.Attributes["ApproximateReceiveCount"] != "3" || aws.ToString(m.MD5OfMessageAttributes) != "adb59cd4678ea5a855436b949cd07ab6" {
		t.Errorf("dead letter %+v", m)
	}
}

// TestSQSMessageMoveTasks redrives a dead-letter queue back to the queues its messages came
// from, or to another queue, at a rate, and cancels a task.
func TestSQSMessageMoveTasks(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{})
	c := srv.Clients().SQS
	ctx := t.Context()
	dlq := sqsQueue(t, c, "move-dlq", map[string]string{"VisibilityTimeout": "0"})
	srcA := sqsQueue(t, c, "move-a", redrive(queueARN("move-dlq"), 1))
	srcB := sqsQueue(t, c, "move-b", redrive(queueARN("move-dlq"), 1))
	dest := sqsQueue(t, c, "move-dest", nil)
	kill := func(u string, n int) {
		t.Helper()
		for i := range n {
			if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(u), MessageBody: aws.String(fmt.Sprintf("%s-%d", u[len(u)-1:], i))}); err != nil {
				t.Fatal(err)
			}
		}
		deadLetter(t, c, u, n)
	}
	kill(srcA, 2)
	kill(srcB, 1)
	count := func(u string) string {
		return sqsAttributes(t, c, u, types.QueueAttributeNameApproximateNumberOfMessages)["ApproximateNumberOfMessages"]
	}
	if n := count(dlq); n != "3" {
		t.Fatalf("dead-letter queue holds %s messages, want 3", n)
	}

	started, err := c.StartMessageMoveTask(ctx, &sqs.StartMessageMoveTaskInput{SourceArn: aws.String(queueARN("move-dlq"))})
	if err != nil {
		t.Fatal(err)
	}
	task := waitMoveTask(t, c, "move-dlq", "COMPLETED")
	if task.ApproximateNumberOfMessagesMoved != 3 || aws.ToInt64(task.ApproximateNumberOfMessagesToMove) != 3 ||
		task.DestinationArn != nil || task.TaskHandle != nil || task.StartedTimestamp == 0 {
		t.Errorf("completed task %+v", task)
	}
	if count(srcA) != "2" || count(srcB) != "1" || count(dlq) != "0" {
		t.Fatalf("after the redrive: a %s, b %s, dlq %s", count(srcA), count(srcB), count(dlq))
	}
	// Redriven messages start their receive count again: one receive does not send them back.
	got, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(srcB), AttributeNames: []types.QueueAttributeName{"All"}})
	if err != nil || len(got.Messages) != 1 || got.Messages[0].Attributes["ApproximateReceiveCount"] != "1" {
		t.Fatalf("a redriven message: %+v %v", got, err)
	}
	_, err = c.CancelMessageMoveTask(ctx, &sqs.CancelMessageMoveTaskInput{TaskHandle: started.TaskHandle})
	wantAPIError(t, err, "InvalidParameterValue", "")

	// To another queue, at one message a second, cancelled on the way: the two messages back
	// in move-a and two more die again, beside four sent to the dead-letter queue directly.
	kill(srcA, 2)
	for i := range 4 {
		if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(dlq), MessageBody: aws.String(fmt.Sprint("extra ", i))}); err != nil {
			t.Fatal(err)
		}
	}
	slow, err := c.StartMessageMoveTask(ctx, &sqs.StartMessageMoveTaskInput{SourceArn: aws.String(queueARN("move-dlq")),
		DestinationArn: aws.String(queueARN("move-dest")), MaxNumberOfMessagesPerSecond: aws.Int32(1)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.StartMessageMoveTask(ctx, &sqs.StartMessageMoveTaskInput{SourceArn: aws.String(queueARN("move-dlq"))})
	wantAPIError(t, err, "InvalidParameterValue", "There is already a task running. Only one active task is allowed for a source queue arn at a given time.")
	running := waitMoveTask(t, c, "move-dlq", "RUNNING")
	if aws.ToString(running.TaskHandle) != aws.ToString(slow.TaskHandle) || aws.ToInt32(running.MaxNumberOfMessagesPerSecond) != 1 ||
		aws.ToString(running.DestinationArn) != queueARN("move-dest") || aws.ToInt64(running.ApproximateNumberOfMessagesToMove) != 8 {
		t.Errorf("running task: handle %v, rate %d, destination %s, to move %d", aws.ToString(running.TaskHandle) == aws.ToString(slow.TaskHandle),
			aws.ToInt32(running.MaxNumberOfMessagesPerSecond), aws.ToString(running.DestinationArn), aws.ToInt64(running.ApproximateNumberOfMessagesToMove))
	}
	time.Sleep(1500 * time.Millisecond)
	cancelled, err := c.CancelMessageMoveTask(ctx, &sqs.CancelMessageMoveTaskInput{TaskHandle: slow.TaskHandle})
	if err != nil {
		t.Fatal(err)
	}
	moved := cancelled.ApproximateNumberOfMessagesMoved
	if moved < 1 || moved > 3 {
		t.Errorf("a task at one message a second moved %d in 1.5 s", moved)
	}
	time.Sleep(1200 * time.Millisecond)
	if n := count(dest); n != fmt.Sprint(moved) {
		t.Errorf("destination holds %s messages after the cancel, want %d", n, moved)
	}
	tasks, err := c.ListMessageMoveTasks(ctx, &sqs.ListMessageMoveTasksInput{SourceArn: aws.String(queueARN("move-dlq")), MaxResults: aws.Int32(10)})
	if err != nil || len(tasks.Results) != 2 || aws.ToString(tasks.Results[0].Status) != "CANCELLED" || aws.ToString(tasks.Results[1].Status) != "COMPLETED" {
		t.Fatalf("ListMessageMoveTasks: %+v %v", tasks, err)
	}

	for name, tc := range map[string]struct {
		in        *sqs.StartMessageMoveTaskInput
		code, msg string
	}{
		"a source that is no dead-letter queue": {&sqs.StartMessageMoveTaskInput{SourceArn: aws.String(queueARN("move-dest"))},
			"InvalidParameterValue", "Source queue must be configured as a Dead Letter Queue."},
		"a source that does not exist": {&sqs.StartMessageMoveTaskInput{SourceArn: aws.String(queueARN("nowhere"))},
			"ResourceNotFoundException", "The resource that you specified for the SourceArn parameter doesn't exist."},
		"a destination that does not exist": {&sqs.StartMessageMoveTaskInput{SourceArn: aws.String(queueARN("move-dlq")), DestinationArn: aws.String(queueARN("nowhere"))},
			"ResourceNotFoundException", "The resource that you specified for the DestinationArn parameter doesn't exist."},
		"a rate too high": {&sqs.StartMessageMoveTaskInput{SourceArn: aws.String(queueARN("move-dlq")), MaxNumberOfMessagesPerSecond: aws.Int32(501)},
			"InvalidParameterValue", "MaxNumberOfMessagesPerSecond"},
	} {
		_, err := c.StartMessageMoveTask(ctx, tc.in)
		if err == nil {
			t.Errorf("%s: started", name)
			continue
		}
		wantAPIError(t, err, tc.code, tc.msg)
	}
	_, err = c.CancelMessageMoveTask(ctx, &sqs.CancelMessageMoveTaskInput{TaskHandle: aws.String("nonsense")})
	wantAPIError(t, err, "InvalidParameterValue", "Value for parameter TaskHandle is invalid.")
	forged := base64.StdEncoding.EncodeToString([]byte(`{"taskId":"00000000-0000-4000-8000-000000000000","sourceArn":"` + queueARN("move-dlq") + `"}`))
	_, err = c.CancelMessageMoveTask(ctx, &sqs.CancelMessageMoveTaskInput{TaskHandle: aws.String(forged)})
	wantAPIError(t, err, "ResourceNotFoundException", "Task does not exist.")
	expectAPIError(t, err, "ResourceNotFoundException", http.StatusNotFound)
}

// deadLetter receives the n messages of a queue whose maxReceiveCount is 1 until they move to
// its dead-letter queue.
func deadLetter(t *testing.T, c *sqs.Client, u string, n int) {
	t.Helper()
	ctx := t.Context()
	var handles []*string
	for len(handles) < n {
		got, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(u), MaxNumberOfMessages: 10})
		if err != nil || len(got.Messages) == 0 {
			t.Fatalf("receive from %s: %v", u, err)
		}
		for _, m := range got.Messages {
			handles = append(handles, m.ReceiptHandle)
		}
	}
	for _, h := range handles {
		if _, err := c.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(u), ReceiptHandle: h, VisibilityTimeout: 0}); err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(u), MaxNumberOfMessages: 10}); len(got.Messages) != 0 {
		t.Fatalf("%s: messages were not dead-lettered", u)
	}
}

// waitMoveTask waits until the latest move task of the queue has the status, and returns it.
func waitMoveTask(t *testing.T, c *sqs.Client, source, status string) types.ListMessageMoveTasksResultEntry {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		out, err := c.ListMessageMoveTasks(t.Context(), &sqs.ListMessageMoveTasksInput{SourceArn: aws.String(queueARN(source))})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Results) == 1 && aws.ToString(out.Results[0].Status) == status {
			return out.Results[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("move task of %s: %+v, want %s", source, out.Results, status)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestSQSMoveTaskSurvivesKill kills Kiri with SIGKILL while a slow move task runs: the task
// resumes after the restart and moves every message exactly once.
func TestSQSMoveTaskSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Kiri as a subprocess")
	}
	opts := kiritest.Options{DataDir: t.TempDir()}
	p := kiritest.StartProcess(t, opts)
	c := p.Clients().SQS
	ctx := context.Background()
	sqsQueue(t, c, "crash-dlq", nil)
	src := sqsQueue(t, c, "crash-src", redrive(queueARN("crash-dlq"), 1))
	const n = 6
	for i := range n {
		if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(src), MessageBody: aws.String(fmt.Sprint("m", i))}); err != nil {
			t.Fatal(err)
		}
	}
	deadLetter(t, c, src, n)
	if _, err := c.StartMessageMoveTask(ctx, &sqs.StartMessageMoveTaskInput{SourceArn: aws.String(queueARN("crash-dlq")), MaxNumberOfMessagesPerSecond: aws.Int32(2)}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1200 * time.Millisecond)
	p.Kill()
	p = kiritest.StartProcess(t, opts)
	c = p.Clients().SQS
	task := waitMoveTask(t, c, "crash-dlq", "COMPLETED")
	if task.ApproximateNumberOfMessagesMoved != n {
		t.Errorf("moved %d of %d", task.ApproximateNumberOfMessagesMoved, n)
	}
	var bodies []string
	for len(bodies) < n {
		got, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(src), MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		if err != nil || len(got.Messages) == 0 {
			t.Fatalf("receive after the restart: got %v so far (%v)", bodies, err)
		}
		bodies = append(bodies, bodiesOf(got.Messages)...)
	}
	sort.Strings(bodies)
	if fmt.Sprint(bodies) != "[m0 m1 m2 m3 m4 m5]" {
		t.Errorf("messages back in the source: %v", bodies)
	}
	if err := p.Stop(10 * time.Second); err != nil {
		t.Errorf("stop: %v", err)
	}
}
