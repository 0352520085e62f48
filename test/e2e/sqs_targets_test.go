package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// receiveAll long-polls url until want messages arrived or the wait ends, deleting each.
func receiveAll(t *testing.T, c *sqs.Client, url string, want int, within time.Duration) []sqstypes.Message {
	t.Helper()
	var got []sqstypes.Message
	deadline := time.Now().Add(within)
	for len(got) < want && time.Now().Before(deadline) {
		out, err := c.ReceiveMessage(t.Context(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10,
			WaitTimeSeconds: 2, MessageAttributeNames: []string{"All"}})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range out.Messages {
			got = append(got, m)
			if _, err := c.DeleteMessage(t.Context(), &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(got) < want {
		t.Fatalf("%d messages arrived in %v, want %d", len(got), within, want)
	}
	return got
}

func createQueue(t *testing.T, c *sqs.Client, name string) (url, arn string) {
	t.Helper()
	return createQueueWith(t, c, name, nil)
}

// createQueueWith creates a queue with attributes and returns its URL and ARN.
func createQueueWith(t *testing.T, c *sqs.Client, name string, attrs map[string]string) (url, arn string) {
	t.Helper()
	out, err := c.CreateQueue(t.Context(), &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.GetQueueAttributes(t.Context(), &sqs.GetQueueAttributesInput{QueueUrl: out.QueueUrl,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.QueueUrl), got.Attributes["QueueArn"]
}

// TestS3NotificationsToSQS configures a bucket to notify a queue: S3 sends the queue an
// s3:TestEvent, then one event per matching change, in the change's transaction.
func TestS3NotificationsToSQS(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{})
	cl := srv.Clients()
	ctx := t.Context()
	url, arn := createQueue(t, cl.SQS, "uploads")
	if _, err := cl.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("photos")}); err != nil {
		t.Fatal(err)
	}
	// A queue that does not exist is refused, as S3 refuses one it cannot validate.
	_, err := cl.S3.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{Bucket: aws.String("photos"),
		NotificationConfiguration: &s3types.NotificationConfiguration{QueueConfigurations: []s3types.QueueConfiguration{{
			QueueArn: aws.String(strings.TrimSuffix(arn, "uploads") + "missing"), Events: []s3types.Event{"s3:ObjectCreated:*"}}}}})
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "InvalidArgument" {
		t.Fatalf("a missing queue: %v, want InvalidArgument", err)
	}
	_, err = cl.S3.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{Bucket: aws.String("photos"),
		NotificationConfiguration: &s3types.NotificationConfiguration{QueueConfigurations: []s3types.QueueConfiguration{{
			Id: aws.String("new-photos"), QueueArn: aws.String(arn), Events: []s3types.Event{"s3:ObjectCreated:*"},
			Filter: &s3types.NotificationConfigurationFilter{Key: &s3types.S3KeyFilter{FilterRules: []s3types.FilterRule{
				{Name: s3types.FilterRuleNameSuffix, Value: aws.String(".jpg")}}}}}}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"a.jpg", "b.txt", "c.jpg"} {
		if _, err := cl.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("photos"), Key: aws.String(key), Body: bytes.NewReader([]byte("x"))}); err != nil {
			t.Fatal(err)
		}
	}
	// A standard queue does not keep order: the s3:TestEvent is one of the three, anywhere.
	msgs := receiveAll(t, cl.SQS, url, 3, 20*time.Second)
	var keys []string
	tests := 0
	for _, m := range msgs {
		var test map[string]any
		if json.Unmarshal([]byte(aws.ToString(m.Body)), &test) == nil && test["Event"] == "s3:TestEvent" {
			if test["Bucket"] != "photos" {
				t.Errorf("test event %s, want bucket photos", aws.ToString(m.Body))
			}
			tests++
			continue
		}
		var ev struct {
			Records []struct {
				EventName string `json:"eventName"`
				S3        struct {
					ConfigurationID string `json:"configurationId"`
					Object          struct{ Key string }
				} `json:"s3"`
			}
		}
		if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &ev); err != nil || len(ev.Records) != 1 {
			t.Fatalf("event %s: %v", aws.ToString(m.Body), err)
		}
		r := ev.Records[0]
		if r.EventName != "ObjectCreated:Put" || r.S3.ConfigurationID != "new-photos" {
			t.Errorf("record %+v", r)
		}
		keys = append(keys, r.S3.Object.Key)
	}
	if tests != 1 {
		t.Errorf("%d s3:TestEvent messages, want 1", tests)
	}
	if strings.Join(keys, ",") != "a.jpg,c.jpg" && strings.Join(keys, ",") != "c.jpg,a.jpg" {
		t.Errorf("events for keys %v, want a.jpg and c.jpg", keys)
	}
}

// TestLambdaDestinationsToSQS sends a failing asynchronous invocation's record to an SQS
// on-failure destination, and a function's events to its SQS dead-letter queue.
func TestLambdaDestinationsToSQS(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{})
	cl := srv.Clients()
	ctx := context.Background()
	failures, failuresARN := createQueue(t, cl.SQS, "failures")
	dead, deadARN := createQueue(t, cl.SQS, "dead")
	createEcho(t, cl.Lambda, "failing", func(in *lambda.CreateFunctionInput) {
		in.DeadLetterConfig = &types.DeadLetterConfig{TargetArn: aws.String(deadARN)}
	})
	createEcho(t, cl.Lambda, "dlq-only", func(in *lambda.CreateFunctionInput) {
		in.DeadLetterConfig = &types.DeadLetterConfig{TargetArn: aws.String(deadARN)}
	})
	for _, fn := range []string{"failing", "dlq-only"} {
		waitActive(t, cl.Lambda, fn)
		in := &lambda.PutFunctionEventInvokeConfigInput{FunctionName: aws.String(fn), MaximumRetryAttempts: aws.Int32(0)}
		if fn == "failing" {
			in.DestinationConfig = &types.DestinationConfig{OnFailure: &types.OnFailure{Destination: aws.String(failuresARN)}}
		}
		if _, err := cl.Lambda.PutFunctionEventInvokeConfig(ctx, in); err != nil {
			t.Fatal(err)
		}
		if _, err := cl.Lambda.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(fn), InvocationType: types.InvocationTypeEvent,
			Payload: []byte(`{"fail":"` + fn + `"}`)}); err != nil {
			t.Fatal(err)
		}
	}
	rec := receiveAll(t, cl.SQS, failures, 1, 30*time.Second)
	var record struct {
		RequestContext struct{ Condition string } `json:"requestContext"`
		RequestPayload struct{ Fail string }      `json:"requestPayload"`
	}
	if err := json.Unmarshal([]byte(aws.ToString(rec[0].Body)), &record); err != nil ||
		record.RequestContext.Condition != "RetriesExhausted" || record.RequestPayload.Fail != "failing" {
		t.Fatalf("on-failure record %s (%v)", aws.ToString(rec[0].Body), err)
	}
	// A function with an on-failure destination sends its record there, not to its DLQ; the
	// other's event itself goes to the dead-letter queue.
	got := receiveAll(t, cl.SQS, dead, 1, 30*time.Second)
	if body := aws.ToString(got[0].Body); body != `{"fail":"dlq-only"}` {
		t.Fatalf("dead-letter queue got %s", body)
	}
	attrs := got[0].MessageAttributes
	if aws.ToString(attrs["RequestID"].StringValue) == "" || aws.ToString(attrs["ErrorCode"].StringValue) != "200" ||
		aws.ToString(attrs["ErrorCode"].DataType) != "Number" || aws.ToString(attrs["ErrorMessage"].StringValue) == "" {
		t.Errorf("dead-letter message attributes %+v, want RequestID, ErrorCode and ErrorMessage", attrs)
	}
}

// TestGracefulStopEndsLongPolls stops Kiri with SIGTERM while a client long-polls an empty
// queue: the poll is answered at once, empty, and Kiri does not wait out its 20 seconds.
func TestGracefulStopEndsLongPolls(t *testing.T) {
	t.Parallel()
	p := kiritest.StartProcess(t, kiritest.Options{DataDir: t.TempDir()})
	c := p.Clients().SQS
	url, _ := createQueue(t, c, "idle")
	polled := make(chan error, 1)
	go func() {
		out, err := c.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), WaitTimeSeconds: 20})
		if err == nil && len(out.Messages) != 0 {
			err = errors.New("a message from an empty queue")
		}
		polled <- err
	}()
	time.Sleep(300 * time.Millisecond) // the poll is waiting
	start := time.Now()
	if err := p.Stop(15 * time.Second); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("the graceful stop took %v: it waited for the long poll", took)
	}
	if err := <-polled; err != nil {
		t.Errorf("the long poll: %v, want an empty answer", err)
	}
}
