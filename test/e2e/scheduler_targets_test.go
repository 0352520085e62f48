package e2e

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	schedtypes "github.com/aws/aws-sdk-go-v2/service/scheduler/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// schedulerRole is the execution role of the schedules of these tests (IAM is off: it need not exist).
const schedulerRole = "arn:aws:iam::000000000000:role/scheduler"

// atIn is a one-time schedule expression for d from now (in UTC, rounded up to a second).
func atIn(d time.Duration) string {
	return "at(" + time.Now().UTC().Add(d+time.Second).Format("2006-01-02T15:04:05") + ")"
}

// createSchedule creates a schedule in the default group with flexible windows off.
func createSchedule(t *testing.T, c *scheduler.Client, name, expr string, target *schedtypes.Target, mut ...func(*scheduler.CreateScheduleInput)) string {
	t.Helper()
	if target.RoleArn == nil {
		target.RoleArn = aws.String(schedulerRole)
	}
	in := &scheduler.CreateScheduleInput{Name: aws.String(name), ScheduleExpression: aws.String(expr), Target: target,
		FlexibleTimeWindow: &schedtypes.FlexibleTimeWindow{Mode: schedtypes.FlexibleTimeWindowModeOff}}
	for _, m := range mut {
		m(in)
	}
	out, err := c.CreateSchedule(t.Context(), in)
	if err != nil {
		t.Fatalf("create schedule %s: %v", name, err)
	}
	return aws.ToString(out.ScheduleArn)
}

// TestSchedulerOneTimeScheduleSendsToSQSAndIsDeleted creates an at() schedule with
// ActionAfterCompletion DELETE: the queue receives its input, with the context attributes
// filled in, once; then the schedule is gone.
func TestSchedulerOneTimeScheduleSendsToSQSAndIsDeleted(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{})
	cl := srv.Clients()
	url, arn := createQueue(t, cl.SQS, "reminders")
	expr := atIn(time.Second)
	schedARN := createSchedule(t, cl.Scheduler, "remind-me", expr, &schedtypes.Target{Arn: aws.String(arn),
		Input: aws.String(`{"text":"stand up","schedule":"<aws.scheduler.schedule-arn>","at":"<aws.scheduler.scheduled-time>","attempt":<aws.scheduler.attempt-number>}`)},
		func(in *scheduler.CreateScheduleInput) {
			in.ActionAfterCompletion = schedtypes.ActionAfterCompletionDelete
		})
	got := receiveAll(t, cl.SQS, url, 1, 15*time.Second)
	var body struct {
		Text, Schedule, At string
		Attempt            int
	}
	if err := json.Unmarshal([]byte(aws.ToString(got[0].Body)), &body); err != nil {
		t.Fatalf("body %s: %v", aws.ToString(got[0].Body), err)
	}
	wantAt := strings.TrimSuffix(strings.TrimPrefix(expr, "at("), ")") + "Z"
	if body.Text != "stand up" || body.Schedule != schedARN || body.At != wantAt || body.Attempt != 1 {
		t.Fatalf("body %s, want the schedule %s at %s", aws.ToString(got[0].Body), schedARN, wantAt)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := cl.Scheduler.GetSchedule(t.Context(), &scheduler.GetScheduleInput{Name: aws.String("remind-me")})
		if err != nil {
			wantAPIError(t, err, "ResourceNotFoundException", "Schedule remind-me does not exist.")
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the schedule still exists after completing with ActionAfterCompletion DELETE")
		}
		time.Sleep(100 * time.Millisecond)
	}
	out, err := cl.SQS.ReceiveMessage(t.Context(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), WaitTimeSeconds: 2})
	if err != nil || len(out.Messages) != 0 {
		t.Fatalf("a one-time schedule fired again: %+v %v", out, err)
	}
}

func TestSchedulerFifoQueueTarget(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{})
	cl := srv.Clients()
	url, arn := createQueueWith(t, cl.SQS, "orders.fifo", map[string]string{"FifoQueue": "true"})
	_, err := cl.Scheduler.CreateSchedule(t.Context(), &scheduler.CreateScheduleInput{Name: aws.String("no-group"), ScheduleExpression: aws.String(atIn(time.Second)),
		FlexibleTimeWindow: &schedtypes.FlexibleTimeWindow{Mode: schedtypes.FlexibleTimeWindowModeOff},
		Target:             &schedtypes.Target{Arn: aws.String(arn), RoleArn: aws.String(schedulerRole)}})
	wantAPIError(t, err, "ValidationException", "MessageGroupId is required")
	createSchedule(t, cl.Scheduler, "close-orders", atIn(time.Second), &schedtypes.Target{Arn: aws.String(arn), Input: aws.String(`{"close":true}`),
		SqsParameters: &schedtypes.SqsParameters{MessageGroupId: aws.String("store-1")}})
	out, err := cl.SQS.ReceiveMessage(t.Context(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), WaitTimeSeconds: 15,
		MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameMessageGroupId}})
	if err != nil || len(out.Messages) != 1 {
		t.Fatalf("receive: %+v %v", out, err)
	}
	m := out.Messages[0]
	if aws.ToString(m.Body) != `{"close":true}` || m.Attributes["MessageGroupId"] != "store-1" {
		t.Fatalf("message %s in group %q", aws.ToString(m.Body), m.Attributes["MessageGroupId"])
	}
}

// TestSchedulerLambdaTargetAndDeadLetterQueue invokes a function with the schedule's input
// (the function records the execution id it got in S3), and sends the invocation of a
// function that is gone to the dead-letter queue with Scheduler's error attributes.
func TestSchedulerLambdaTargetAndDeadLetterQueue(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{})
	cl := srv.Clients()
	ctx := t.Context()
	if _, err := cl.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("marks")}); err != nil {
		t.Fatal(err)
	}
	fn := createTestFunction(t, cl.Lambda, "marker", kiritest.GoFunctionZip(t, "./testdata/lambda/marker"), func(in *lambda.CreateFunctionInput) {
		in.Environment = &lambdatypes.Environment{Variables: map[string]string{"MARK_BUCKET": "marks"}}
	})
	createSchedule(t, cl.Scheduler, "mark", atIn(time.Second), &schedtypes.Target{Arn: fn.FunctionArn, Input: aws.String(`{"mark":"scheduled"}`)})
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := cl.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("marks"), Key: aws.String("marks/scheduled")}); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the function did not run for the schedule\n%s", srv.Logs())
		}
		time.Sleep(200 * time.Millisecond)
	}

	dlqURL, dlqARN := createQueue(t, cl.SQS, "schedule-dlq")
	gone := "arn:aws:lambda:us-east-1:000000000000:function:gone"
	createSchedule(t, cl.Scheduler, "to-gone", atIn(time.Second), &schedtypes.Target{Arn: aws.String(gone), Input: aws.String(`{"mark":"never"}`),
		RetryPolicy:      &schedtypes.RetryPolicy{MaximumRetryAttempts: aws.Int32(0)},
		DeadLetterConfig: &schedtypes.DeadLetterConfig{Arn: aws.String(dlqARN)}})
	dead := receiveAll(t, cl.SQS, dlqURL, 1, 15*time.Second)[0]
	attr := func(k string) string { return aws.ToString(dead.MessageAttributes[k].StringValue) }
	if aws.ToString(dead.Body) != `{"mark":"never"}` || attr("ERROR_CODE") != "ResourceNotFoundException" || attr("TARGET_ARN") != gone ||
		attr("RETRY_ATTEMPTS") != "0" || attr("EXECUTION_ID") == "" || !strings.HasSuffix(attr("SCHEDULE_ARN"), ":schedule/default/to-gone") {
		t.Fatalf("dead letter %s %+v", aws.ToString(dead.Body), dead.MessageAttributes)
	}
}

// TestSchedulerUniversalSQSTarget calls sqs:sendMessage with the request in the schedule's
// input: the queue URL Kiri handed out, a body and a message attribute.
func TestSchedulerUniversalSQSTarget(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{})
	cl := srv.Clients()
	url, _ := createQueue(t, cl.SQS, "universal")
	// Placeholders are matched as written: the input must not escape their angle brackets.
	var input strings.Builder
	enc := json.NewEncoder(&input)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(map[string]any{"QueueUrl": url, "MessageBody": "from <aws.scheduler.schedule-arn>",
		"MessageAttributes": map[string]any{"origin": map[string]string{"DataType": "String", "StringValue": "scheduler"}}}); err != nil {
		t.Fatal(err)
	}
	schedARN := createSchedule(t, cl.Scheduler, "universal", atIn(time.Second),
		&schedtypes.Target{Arn: aws.String("arn:aws:scheduler:::aws-sdk:sqs:sendMessage"), Input: aws.String(input.String())})
	m := receiveAll(t, cl.SQS, url, 1, 15*time.Second)[0]
	if aws.ToString(m.Body) != "from "+schedARN || aws.ToString(m.MessageAttributes["origin"].StringValue) != "scheduler" {
		t.Fatalf("message %s %+v", aws.ToString(m.Body), m.MessageAttributes)
	}
}
