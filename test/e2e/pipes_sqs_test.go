package e2e

import (
	"encoding/json"
	"sort"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/pipes"
	ptypes "github.com/aws/aws-sdk-go-v2/service/pipes/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// pipeRole is the role the tests' pipes act as.
const pipeRole = "arn:aws:iam::000000000000:role/pipe-role"

// createPythonFunction creates a python3.12 function from one source file and waits until it
// is Active.
func createPythonFunction(t *testing.T, c *lambda.Client, name, src string) string {
	t.Helper()
	out := createTestFunction(t, c, name, kiritest.ZipSource(t, map[string]string{"app.py": src}), func(in *lambda.CreateFunctionInput) {
		in.Runtime, in.Handler = "python3.12", aws.String("app.handler")
	})
	waitActive(t, c, name)
	return aws.ToString(out.FunctionArn)
}

// waitPipeState waits until a pipe reaches state and returns its description.
func waitPipeState(t *testing.T, c *pipes.Client, name string, state ptypes.PipeState) *pipes.DescribePipeOutput {
	t.Helper()
	var out *pipes.DescribePipeOutput
	eventually(t, 10*time.Second, "pipe "+name+" "+string(state), func() bool {
		var err error
		if out, err = c.DescribePipe(t.Context(), &pipes.DescribePipeInput{Name: aws.String(name)}); err != nil {
			t.Fatalf("DescribePipe: %v", err)
		}
		return out.CurrentState == state
	})
	return out
}

// createPipe creates a pipe and waits until it runs.
func createPipe(t *testing.T, c *pipes.Client, in *pipes.CreatePipeInput) {
	t.Helper()
	if in.RoleArn == nil {
		in.RoleArn = aws.String(pipeRole)
	}
	out, err := c.CreatePipe(t.Context(), in)
	if err != nil {
		t.Fatalf("CreatePipe %s: %v", aws.ToString(in.Name), err)
	}
	if out.CurrentState != ptypes.PipeStateCreating || out.DesiredState != ptypes.RequestedPipeStateRunning {
		t.Fatalf("CreatePipe answered %s/%s, want CREATING/RUNNING", out.CurrentState, out.DesiredState)
	}
	waitPipeState(t, c, aws.ToString(in.Name), ptypes.PipeStateRunning)
}

func sendBodies(t *testing.T, c *sqs.Client, url string, bodies ...string) {
	t.Helper()
	for _, b := range bodies {
		if _, err := c.SendMessage(t.Context(), &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(b)}); err != nil {
			t.Fatal(err)
		}
	}
}

// enrichSource doubles n and marks each event enriched; it fails for an event with fail set.
const enrichSource = `def handler(event, context):
    out = []
    for e in event:
        if e.get("fail"):
            raise Exception("refused")
        out.append({"id": e["id"], "n": e["n"] * 2, "enriched": True})
    return out
`

// TestPipeSQSFilterEnrichToSQS runs a pipe from a queue through a filter and a Lambda
// enrichment to a queue: messages the filter drops are deleted and never reach the target; the
// enrichment's input template reads the JSON body; the target's template adds pipe variables.
func TestPipeSQSFilterEnrichToSQS(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{})
	cl := srv.Clients()
	src := sqsQueue(t, cl.SQS, "pipe-src", nil)
	dst := sqsQueue(t, cl.SQS, "pipe-dst", nil)
	enrich := createPythonFunction(t, cl.Lambda, "pipe-enrich", enrichSource)
	createPipe(t, cl.Pipes, &pipes.CreatePipeInput{
		Name:   aws.String("orders"),
		Source: aws.String(queueARN("pipe-src")),
		SourceParameters: &ptypes.PipeSourceParameters{
			FilterCriteria:     &ptypes.FilterCriteria{Filters: []ptypes.Filter{{Pattern: aws.String(`{"body":{"kind":["order"]}}`)}}},
			SqsQueueParameters: &ptypes.PipeSourceSqsQueueParameters{BatchSize: aws.Int32(5)},
		},
		Enrichment:           aws.String(enrich),
		EnrichmentParameters: &ptypes.PipeEnrichmentParameters{InputTemplate: aws.String(`{"id": "<$.body.id>", "n": <$.body.n>}`)},
		Target:               aws.String(queueARN("pipe-dst")),
		TargetParameters: &ptypes.PipeTargetParameters{
			InputTemplate: aws.String(`{"pipe": "<aws.pipes.pipe-name>", "id": "<$.id>", "n": <$.n>, "enriched": <$.enriched>}`),
		},
	})
	sendBodies(t, cl.SQS, src, `{"kind":"order","id":"a","n":1}`, `{"kind":"noise","id":"x","n":5}`, `{"kind":"order","id":"b","n":20}`, `not json`)
	got := receiveBodies(t, cl.SQS, dst, 2)
	sort.Strings(got)
	want := []string{`{"pipe": "orders", "id": "a", "n": 2, "enriched": true}`, `{"pipe": "orders", "id": "b", "n": 40, "enriched": true}`}
	if got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("target received\n%s\nwant\n%s", got, want)
	}
	eventually(t, 5*time.Second, "the source queue drained", func() bool {
		visible, inFlight := queueCounts(t, cl.SQS, src)
		return visible == 0 && inFlight == 0
	})
	time.Sleep(300 * time.Millisecond)
	if visible, inFlight := queueCounts(t, cl.SQS, dst); visible+inFlight != 0 {
		t.Fatalf("the target holds %d more messages: filtered messages were delivered", visible+inFlight)
	}
}

// TestPipeStopStart stops a pipe: nothing is delivered while it is STOPPED, and delivery
// resumes once it is started again.
func TestPipeStopStart(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{})
	cl := srv.Clients()
	src := sqsQueue(t, cl.SQS, "stop-src", nil)
	dst := sqsQueue(t, cl.SQS, "stop-dst", nil)
	createPipe(t, cl.Pipes, &pipes.CreatePipeInput{Name: aws.String("p"), Source: aws.String(queueARN("stop-src")), Target: aws.String(queueARN("stop-dst"))})
	sendBodies(t, cl.SQS, src, `{"n":1}`)
	if got := receiveBodies(t, cl.SQS, dst, 1); !json.Valid([]byte(got[0])) {
		t.Fatalf("target received %q", got[0])
	}
	stop, err := cl.Pipes.StopPipe(t.Context(), &pipes.StopPipeInput{Name: aws.String("p")})
	if err != nil {
		t.Fatal(err)
	}
	if stop.CurrentState != ptypes.PipeStateStopping || stop.DesiredState != ptypes.RequestedPipeStateStopped {
		t.Fatalf("StopPipe answered %s/%s", stop.CurrentState, stop.DesiredState)
	}
	waitPipeState(t, cl.Pipes, "p", ptypes.PipeStateStopped)
	_, err = cl.Pipes.StopPipe(t.Context(), &pipes.StopPipeInput{Name: aws.String("p")})
	wantAPIError(t, err, "ConflictException", "")
	sendBodies(t, cl.SQS, src, `{"n":2}`)
	time.Sleep(1500 * time.Millisecond)
	if visible, _ := queueCounts(t, cl.SQS, dst); visible != 0 {
		t.Fatal("a stopped pipe delivered")
	}
	if visible, _ := queueCounts(t, cl.SQS, src); visible != 1 {
		t.Fatalf("source holds %d visible messages, want 1", visible)
	}
	start, err := cl.Pipes.StartPipe(t.Context(), &pipes.StartPipeInput{Name: aws.String("p")})
	if err != nil {
		t.Fatal(err)
	}
	if start.CurrentState != ptypes.PipeStateStarting {
		t.Fatalf("StartPipe answered %s", start.CurrentState)
	}
	waitPipeState(t, cl.Pipes, "p", ptypes.PipeStateRunning)
	var rec struct{ Body string }
	if got := receiveBodies(t, cl.SQS, dst, 1); json.Unmarshal([]byte(got[0]), &rec) != nil || rec.Body != `{"n":2}` {
		t.Fatalf("after StartPipe the target received %q", got[0])
	}
}

// TestPipeFailedTargetGoesToDeadLetterQueue sends a queue's messages to a function that reports
// one of them failed (a partial batch response): that message is received again after its
// visibility timeout, and the queue's redrive policy moves it to the dead-letter queue; the
// message the target took is deleted.
func TestPipeFailedTargetGoesToDeadLetterQueue(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{})
	cl := srv.Clients()
	dlq := sqsQueue(t, cl.SQS, "fail-dlq", nil)
	attrs := redrive(queueARN("fail-dlq"), 2)
	attrs["VisibilityTimeout"] = "1"
	src := sqsQueue(t, cl.SQS, "fail-src", attrs)
	fn := createPythonFunction(t, cl.Lambda, "pipe-target", `def handler(event, context):
    return {"batchItemFailures": [{"itemIdentifier": e["messageId"]} for e in event if '"fail"' in e["body"]]}
`)
	createPipe(t, cl.Pipes, &pipes.CreatePipeInput{Name: aws.String("failing"), Source: aws.String(queueARN("fail-src")), Target: aws.String(fn),
		SourceParameters: &ptypes.PipeSourceParameters{SqsQueueParameters: &ptypes.PipeSourceSqsQueueParameters{
			BatchSize: aws.Int32(20), MaximumBatchingWindowInSeconds: aws.Int32(1)}},
		TargetParameters: &ptypes.PipeTargetParameters{LambdaFunctionParameters: &ptypes.PipeTargetLambdaFunctionParameters{InvocationType: ptypes.PipeTargetInvocationTypeRequestResponse}}})
	sendBodies(t, cl.SQS, src, `{"fail":true}`, `{"ok":true}`)
	if got := receiveBodies(t, cl.SQS, dlq, 1); got[0] != `{"fail":true}` {
		t.Fatalf("dead-letter queue received %q", got)
	}
	eventually(t, 5*time.Second, "the source queue drained", func() bool {
		visible, inFlight := queueCounts(t, cl.SQS, src)
		return visible == 0 && inFlight == 0
	})
}
