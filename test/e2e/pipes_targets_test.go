package e2e

import (
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/pipes"
	ptypes "github.com/aws/aws-sdk-go-v2/service/pipes/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// TestPipeTargets delivers to a FIFO queue with a message group and deduplication id read
// from each event, and to a function invoked asynchronously (FIRE_AND_FORGET) with the batch.
func TestPipeTargets(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{})
	cl := srv.Clients()
	src := sqsQueue(t, cl.SQS, "t-src", nil)
	fifo := sqsQueue(t, cl.SQS, "t-dst.fifo", map[string]string{"FifoQueue": "true"})
	createPipe(t, cl.Pipes, &pipes.CreatePipeInput{Name: aws.String("to-fifo"), Source: aws.String(queueARN("t-src")), Target: aws.String(queueARN("t-dst.fifo")),
		TargetParameters: &ptypes.PipeTargetParameters{InputTemplate: aws.String(`<$.body.n>`),
			SqsQueueParameters: &ptypes.PipeTargetSqsQueueParameters{MessageGroupId: aws.String("$.body.customer"), MessageDeduplicationId: aws.String("$.messageId")}}})
	sendBodies(t, cl.SQS, src, `{"customer":"c1","n":1}`, `{"customer":"c2","n":2}`)
	var got []string
	deadline := time.Now().Add(20 * time.Second)
	for len(got) < 2 && time.Now().Before(deadline) {
		out, err := cl.SQS.ReceiveMessage(t.Context(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(fifo), MaxNumberOfMessages: 10, WaitTimeSeconds: 1,
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{"MessageGroupId"}})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range out.Messages {
			got = append(got, m.Attributes["MessageGroupId"]+"="+aws.ToString(m.Body))
			if _, err := cl.SQS.DeleteMessage(t.Context(), &sqs.DeleteMessageInput{QueueUrl: aws.String(fifo), ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
		}
	}
	sort.Strings(got)
	if strings.Join(got, ",") != "c1=1,c2=2" {
		t.Fatalf("FIFO target received %v", got)
	}

	src2 := sqsQueue(t, cl.SQS, "t-src2", nil)
	fn := createPythonFunction(t, cl.Lambda, "t-async", `import json
def handler(event, context):
    print("batch:" + ",".join(e["body"] for e in event))
`)
	createPipe(t, cl.Pipes, &pipes.CreatePipeInput{Name: aws.String("to-fn"), Source: aws.String(queueARN("t-src2")), Target: aws.String(fn),
		TargetParameters: &ptypes.PipeTargetParameters{LambdaFunctionParameters: &ptypes.PipeTargetLambdaFunctionParameters{InvocationType: ptypes.PipeTargetInvocationTypeFireAndForget}}})
	sendBodies(t, cl.SQS, src2, "hello")
	eventually(t, 20*time.Second, "the function's log line", func() bool {
		out, err := cl.Logs.FilterLogEvents(t.Context(), &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("/aws/lambda/t-async")})
		if err != nil {
			return false
		}
		for _, e := range out.Events {
			if strings.Contains(aws.ToString(e.Message), "batch:hello") {
				return true
			}
		}
		return false
	})
	eventually(t, 5*time.Second, "the source queue drained", func() bool {
		visible, inFlight := queueCounts(t, cl.SQS, src2)
		return visible == 0 && inFlight == 0
	})
}
