package e2e

import (
	"bytes"
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
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/smithy-go"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// snsLambdaEvent is the event a function subscribed to a topic receives.
type snsLambdaEvent struct {
	Records []struct {
		EventSource, EventVersion, EventSubscriptionArn string
		Sns                                             struct {
			Type, MessageId, TopicArn, Message, Timestamp string
			Subject                                       *string
			SignatureVersion, Signature, SigningCertUrl   string
			UnsubscribeUrl                                string
			MessageAttributes                             map[string]struct{ Type, Value string }
		}
	}
}

// TestSNSToLambda delivers to a function only once its resource policy lets sns.amazonaws.com
// invoke it for the topic; before, the delivery fails and goes to the subscription's
// dead-letter queue as the JSON envelope.
func TestSNSToLambda(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{})
	cl := srv.Clients()
	ctx := t.Context()
	resultsURL, resultsARN := createQueue(t, cl.SQS, "fn-results")
	dlqURL, dlqARN := createQueue(t, cl.SQS, "fn-dlq")
	createEcho(t, cl.Lambda, "on-news")
	if _, err := cl.Lambda.PutFunctionEventInvokeConfig(ctx, &lambda.PutFunctionEventInvokeConfigInput{FunctionName: aws.String("on-news"),
		DestinationConfig: &types.DestinationConfig{OnSuccess: &types.OnSuccess{Destination: aws.String(resultsARN)}}}); err != nil {
		t.Fatal(err)
	}
	fn := "arn:aws:lambda:us-east-1:000000000000:function:on-news"
	topic := createTopic(t, cl.SNS, "news", nil)
	sub := subscribe(t, cl.SNS, topic, "lambda", fn, map[string]string{"RedrivePolicy": `{"deadLetterTargetArn":"` + dlqARN + `"}`})

	// Without a permission the function cannot be invoked: the message goes to the DLQ.
	if _, err := cl.SNS.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(topic), Message: aws.String("denied"),
		MessageAttributes: map[string]snstypes.MessageAttributeValue{"n": {DataType: aws.String("Number"), StringValue: aws.String("1")}}}); err != nil {
		t.Fatal(err)
	}
	dead := decodeEnvelope(t, receiveBodies(t, cl.SQS, dlqURL, 1)[0])
	if dead.Type != "Notification" || dead.Message != "denied" || dead.TopicArn != topic || dead.MessageAttributes["n"].Value != "1" ||
		!strings.HasSuffix(dead.UnsubscribeURL, sub) {
		t.Fatalf("dead-letter message %+v", dead)
	}
	verifySNSSignature(t, dead)

	if _, err := cl.Lambda.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: aws.String("on-news"), StatementId: aws.String("sns"),
		Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("sns.amazonaws.com"), SourceArn: aws.String(topic)}); err != nil {
		t.Fatal(err)
	}
	pub, err := cl.SNS.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(topic), Message: aws.String(`{"say":"hi"}`)})
	if err != nil {
		t.Fatal(err)
	}
	var record struct {
		RequestPayload snsLambdaEvent `json:"requestPayload"`
	}
	body := receiveBodies(t, cl.SQS, resultsURL, 1)[0]
	if err := json.Unmarshal([]byte(body), &record); err != nil || len(record.RequestPayload.Records) != 1 {
		t.Fatalf("on-success record %s: %v", body, err)
	}
	r := record.RequestPayload.Records[0]
	if r.EventSource != "aws:sns" || r.EventVersion != "1.0" || r.EventSubscriptionArn != sub || r.Sns.Type != "Notification" ||
		r.Sns.MessageId != aws.ToString(pub.MessageId) || r.Sns.Message != `{"say":"hi"}` || r.Sns.Subject != nil ||
		r.Sns.SignatureVersion != "1" || r.Sns.MessageAttributes == nil || !strings.HasSuffix(r.Sns.UnsubscribeUrl, sub) {
		t.Fatalf("function's event %+v", r)
	}
	verifySNSSignature(t, snsEnvelope{Type: r.Sns.Type, MessageId: r.Sns.MessageId, TopicArn: r.Sns.TopicArn, Message: r.Sns.Message,
		Timestamp: r.Sns.Timestamp, SignatureVersion: r.Sns.SignatureVersion, Signature: r.Sns.Signature, SigningCertURL: r.Sns.SigningCertUrl})
	expectEmpty(t, cl.SQS, dlqURL)
}

// TestS3NotificationsToSNS notifies a topic of a bucket's changes: the topic gets S3's
// s3:TestEvent when the configuration is set, then an event per matching change, with S3's
// subject.
func TestS3NotificationsToSNS(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{})
	cl := srv.Clients()
	ctx := t.Context()
	topic := createTopic(t, cl.SNS, "uploads", nil)
	url, queueARN := createQueue(t, cl.SQS, "upload-events")
	subscribe(t, cl.SNS, topic, "sqs", queueARN, nil)
	if _, err := cl.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("photos")}); err != nil {
		t.Fatal(err)
	}
	configure := func(arn string) error {
		_, err := cl.S3.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{Bucket: aws.String("photos"),
			NotificationConfiguration: &s3types.NotificationConfiguration{TopicConfigurations: []s3types.TopicConfiguration{{
				Id: aws.String("to-topic"), TopicArn: aws.String(arn), Events: []s3types.Event{"s3:ObjectCreated:*"}}}}})
		return err
	}
	// A topic that does not exist, or a FIFO topic, is refused as S3 refuses it.
	fifo := createTopic(t, cl.SNS, "uploads.fifo", map[string]string{"FifoTopic": "true"})
	for _, bad := range []string{topic + "-missing", fifo} {
		var apiErr smithy.APIError
		if err := configure(bad); !errors.As(err, &apiErr) || apiErr.ErrorCode() != "InvalidArgument" {
			t.Fatalf("topic %s: %v, want InvalidArgument", bad, err)
		}
	}
	if err := configure(topic); err != nil {
		t.Fatal(err)
	}
	test := decodeEnvelope(t, receiveBodies(t, cl.SQS, url, 1)[0])
	var testEvent map[string]string
	if err := json.Unmarshal([]byte(test.Message), &testEvent); err != nil || testEvent["Event"] != "s3:TestEvent" || testEvent["Bucket"] != "photos" {
		t.Fatalf("first message %s, want the s3:TestEvent", test.Message)
	}
	if _, err := cl.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("photos"), Key: aws.String("cat.jpg"), Body: bytes.NewReader([]byte("meow"))}); err != nil {
		t.Fatal(err)
	}
	put := decodeEnvelope(t, receiveBodies(t, cl.SQS, url, 1)[0])
	var event struct {
		Records []struct {
			EventName string `json:"eventName"`
			S3        struct {
				ConfigurationID string `json:"configurationId"`
				Object          struct{ Key string }
			} `json:"s3"`
		}
	}
	if err := json.Unmarshal([]byte(put.Message), &event); err != nil || len(event.Records) != 1 || event.Records[0].EventName != "ObjectCreated:Put" ||
		event.Records[0].S3.ConfigurationID != "to-topic" || event.Records[0].S3.Object.Key != "cat.jpg" {
		t.Fatalf("event %s: %v", put.Message, err)
	}
	if put.Subject != "Amazon S3 Notification" || put.TopicArn != topic {
		t.Errorf("envelope of the event: %+v", put)
	}
	verifySNSSignature(t, put)
}

// TestLambdaFailureDestinationToSNS sends a failed asynchronous invocation's record to a topic.
func TestLambdaFailureDestinationToSNS(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{})
	cl := srv.Clients()
	ctx := t.Context()
	topic := createTopic(t, cl.SNS, "failures", nil)
	url, queueARN := createQueue(t, cl.SQS, "failure-records")
	subscribe(t, cl.SNS, topic, "sqs", queueARN, map[string]string{"RawMessageDelivery": "true"})
	createEcho(t, cl.Lambda, "fragile")
	if _, err := cl.Lambda.PutFunctionEventInvokeConfig(ctx, &lambda.PutFunctionEventInvokeConfigInput{FunctionName: aws.String("fragile"),
		MaximumRetryAttempts: aws.Int32(0),
		DestinationConfig:    &types.DestinationConfig{OnFailure: &types.OnFailure{Destination: aws.String(topic)}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Lambda.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("fragile"), InvocationType: types.InvocationTypeEvent,
		Payload: []byte(`{"fail":"boom"}`)}); err != nil {
		t.Fatal(err)
	}
	var record struct {
		RequestContext struct{ Condition string } `json:"requestContext"`
		RequestPayload struct{ Fail string }      `json:"requestPayload"`
	}
	body := receiveAll(t, cl.SQS, url, 1, 30*time.Second)[0].Body
	if err := json.Unmarshal([]byte(aws.ToString(body)), &record); err != nil || record.RequestContext.Condition != "RetriesExhausted" ||
		record.RequestPayload.Fail != "boom" {
		t.Fatalf("on-failure record %s (%v)", aws.ToString(body), err)
	}
}
