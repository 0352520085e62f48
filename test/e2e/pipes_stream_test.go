package e2e

import (
	"encoding/json"
	"sort"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/pipes"
	ptypes "github.com/aws/aws-sdk-go-v2/service/pipes/types"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// streamTable creates a table with a NEW_IMAGE stream and returns the stream's ARN.
func streamTable(t *testing.T, c *dynamodb.Client, name string) string {
	t.Helper()
	createDDBTable(t, c, name, false, func(in *dynamodb.CreateTableInput) {
		in.StreamSpecification = streamSpec(ddbtypes.StreamViewTypeNewImage)
	})
	d, err := c.DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(d.Table.LatestStreamArn)
}

func putKey(t *testing.T, c *dynamodb.Client, table, pk, v string) {
	t.Helper()
	_, err := c.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: aws.String(table), Item: map[string]ddbtypes.AttributeValue{
		"pk": &ddbtypes.AttributeValueMemberS{Value: pk}, "v": &ddbtypes.AttributeValueMemberS{Value: v}}})
	if err != nil {
		t.Fatal(err)
	}
}

// TestPipeDynamoDBStreamToSNSAndSQS reads a table's stream with two pipes: one from the trim
// horizon, filtered to inserts, to an SNS topic (a raw queue subscription shows what it
// published); one from the latest record, with a free-text template, to a queue.
func TestPipeDynamoDBStreamToSNSAndSQS(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{})
	cl := srv.Clients()
	stream := streamTable(t, cl.DynamoDB, "pipe-table")
	putKey(t, cl.DynamoDB, "pipe-table", "before", "1")
	topic := createTopic(t, cl.SNS, "pipe-topic", nil)
	subURL, subARN := createQueueWith(t, cl.SQS, "pipe-topic-sub", nil)
	subscribe(t, cl.SNS, topic, "sqs", subARN, map[string]string{"RawMessageDelivery": "true"})
	latestURL, latestARN := createQueueWith(t, cl.SQS, "pipe-latest", nil)
	createPipe(t, cl.Pipes, &pipes.CreatePipeInput{Name: aws.String("to-sns"), Source: aws.String(stream), Target: aws.String(topic),
		SourceParameters: &ptypes.PipeSourceParameters{
			DynamoDBStreamParameters: &ptypes.PipeSourceDynamoDBStreamParameters{StartingPosition: ptypes.DynamoDBStreamStartPositionTrimHorizon, BatchSize: aws.Int32(10)},
			FilterCriteria:           &ptypes.FilterCriteria{Filters: []ptypes.Filter{{Pattern: aws.String(`{"eventName":["INSERT"]}`)}}},
		}})
	createPipe(t, cl.Pipes, &pipes.CreatePipeInput{Name: aws.String("to-sqs"), Source: aws.String(stream), Target: aws.String(latestARN),
		SourceParameters: &ptypes.PipeSourceParameters{
			DynamoDBStreamParameters: &ptypes.PipeSourceDynamoDBStreamParameters{StartingPosition: ptypes.DynamoDBStreamStartPositionLatest}},
		TargetParameters: &ptypes.PipeTargetParameters{InputTemplate: aws.String(`<$.eventName>:<$.dynamodb.Keys.pk.S>=<$.dynamodb.NewImage.v.S>`)}})
	putKey(t, cl.DynamoDB, "pipe-table", "after", "1")
	putKey(t, cl.DynamoDB, "pipe-table", "after", "2")

	var published []string
	for _, body := range receiveBodies(t, cl.SQS, subURL, 2) {
		var rec struct {
			EventName, EventSource, EventSourceARN string
			Dynamodb                               struct {
				Keys map[string]map[string]string
			}
		}
		if err := json.Unmarshal([]byte(body), &rec); err != nil {
			t.Fatalf("published %s: %v", body, err)
		}
		if rec.EventSource != "aws:dynamodb" || rec.EventSourceARN != stream {
			t.Fatalf("published %s", body)
		}
		published = append(published, rec.EventName+":"+rec.Dynamodb.Keys["pk"]["S"])
	}
	sort.Strings(published)
	if want := []string{"INSERT:after", "INSERT:before"}; published[0] != want[0] || published[1] != want[1] {
		t.Fatalf("SNS got %v, want %v", published, want)
	}
	if got := receiveBodies(t, cl.SQS, latestURL, 2); got[0] != "INSERT:after=1" || got[1] != "MODIFY:after=2" {
		t.Fatalf("the LATEST pipe delivered %q", got)
	}
	expectEmpty(t, cl.SQS, subURL)
}

// TestPipeDynamoDBStreamDeadLetter sends a stream to a function that fails: after
// MaximumRetryAttempts retries the batch's description goes to the dead-letter queue, and the
// pipe goes on with the next records.
func TestPipeDynamoDBStreamDeadLetter(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{})
	cl := srv.Clients()
	stream := streamTable(t, cl.DynamoDB, "dl-table")
	dlqURL, dlqARN := createQueueWith(t, cl.SQS, "dl-queue", nil)
	okURL, okARN := createQueueWith(t, cl.SQS, "dl-ok", nil)
	fn := createPythonFunction(t, cl.Lambda, "dl-target", `def handler(event, context):
    for e in event:
        if e["dynamodb"]["Keys"]["pk"]["S"] == "bad":
            raise Exception("refused")
    return {}
`)
	createPipe(t, cl.Pipes, &pipes.CreatePipeInput{Name: aws.String("dl"), Source: aws.String(stream), Target: aws.String(fn),
		SourceParameters: &ptypes.PipeSourceParameters{DynamoDBStreamParameters: &ptypes.PipeSourceDynamoDBStreamParameters{
			StartingPosition: ptypes.DynamoDBStreamStartPositionTrimHorizon, BatchSize: aws.Int32(1), MaximumRetryAttempts: aws.Int32(1),
			DeadLetterConfig: &ptypes.DeadLetterConfig{Arn: aws.String(dlqARN)}}}})
	createPipe(t, cl.Pipes, &pipes.CreatePipeInput{Name: aws.String("dl-all"), Source: aws.String(stream), Target: aws.String(okARN),
		SourceParameters: &ptypes.PipeSourceParameters{DynamoDBStreamParameters: &ptypes.PipeSourceDynamoDBStreamParameters{
			StartingPosition: ptypes.DynamoDBStreamStartPositionTrimHorizon}},
		TargetParameters: &ptypes.PipeTargetParameters{InputTemplate: aws.String(`<$.dynamodb.Keys.pk.S>`)}})
	putKey(t, cl.DynamoDB, "dl-table", "bad", "1")
	putKey(t, cl.DynamoDB, "dl-table", "good", "1")
	var rec struct {
		Context struct {
			PipeArn, Condition     string
			ApproximateInvokeCount int
		}
		DDBStreamBatchInfo struct {
			BatchSize int
			StreamArn string
		}
	}
	body := receiveBodies(t, cl.SQS, dlqURL, 1)[0]
	if err := json.Unmarshal([]byte(body), &rec); err != nil {
		t.Fatal(err)
	}
	if rec.Context.Condition != "RetryAttemptsExhausted" || rec.Context.ApproximateInvokeCount != 2 || rec.DDBStreamBatchInfo.BatchSize != 1 ||
		rec.DDBStreamBatchInfo.StreamArn != stream || rec.Context.PipeArn != "arn:aws:pipes:us-east-1:000000000000:pipe/dl" {
		t.Fatalf("dead-letter record %s", body)
	}
	if got := receiveBodies(t, cl.SQS, okURL, 2); got[0] != "bad" || got[1] != "good" {
		t.Fatalf("the other pipe delivered %q", got)
	}
	expectEmpty(t, cl.SQS, dlqURL)
}
