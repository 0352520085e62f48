package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// TestCrashResumesEventSourceMappings kills Kiri with SIGKILL while an event source mapping
// drains a queue that 16 writers fill, restarts it, and checks that every acknowledged message
// is processed: the mapping's poller resumes with Kiri, and the messages it had in flight at
// the kill become visible again when their visibility timeout ends and run then.
func TestCrashResumesEventSourceMappings(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test runs Kiri as a subprocess for several seconds")
	}
	path := newESMPath(t)
	kiritest.RunCrash(t, kiritest.CrashOptions{
		Paths: []kiritest.WritePath{path},
		Settle: func(t *testing.T, p *kiritest.Process, acks map[string][]string) {
			t.Logf("%s: %d messages ran more than once (in flight at a kill, or redelivered)", path.Name(), path.again.Load())
		},
	})
}

// esmPath writes through SendMessage to a queue an event source mapping drains into the
// sqsworker function, which proves each message ran by putting results/<id> into a bucket.
type esmPath struct {
	zip   func() []byte
	url   string
	seen  map[string]bool // messages whose result has been seen
	again atomic.Int64    // results seen with a receive count above one
}

const (
	esmCrashBucket   = "crash-esm-results"
	esmCrashFunction = "crash-esm-worker"
	// esmCrashVisibility is the queue's visibility timeout: what the messages in flight at a
	// kill wait before they run again.
	esmCrashVisibility = 5
)

func newESMPath(t *testing.T) *esmPath {
	return &esmPath{zip: func() []byte { return kiritest.GoFunctionZip(t, "./testdata/lambda/sqsworker") }, seen: map[string]bool{}}
}

func (*esmPath) Name() string { return "sqs.SendMessage→lambda" }

func (p *esmPath) Prepare(ctx context.Context, c *kiritest.Clients) error {
	if _, err := c.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(esmCrashBucket)}); err != nil {
		return err
	}
	if err := createGoFunction(ctx, c, esmCrashFunction, lambdaRole, p.zip(), 3, map[string]string{"RESULT_BUCKET": esmCrashBucket}); err != nil {
		return err
	}
	q, err := c.SQS.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("crash-esm"),
		Attributes: map[string]string{"VisibilityTimeout": fmt.Sprint(esmCrashVisibility)}})
	if err != nil {
		return err
	}
	p.url = aws.ToString(q.QueueUrl)
	_, err = c.Lambda.CreateEventSourceMapping(ctx, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String(esmCrashFunction),
		EventSourceArn: aws.String("arn:aws:sqs:us-east-1:000000000000:crash-esm")})
	return err
}

func (p *esmPath) Write(ctx context.Context, c *kiritest.Clients, worker, seq int) (string, error) {
	id := fmt.Sprintf("w%d-s%d", worker, seq)
	_, err := c.SQS.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(p.url), MessageBody: aws.String(job{ID: id, Input: id}.body())})
	return id, err
}

// Verify waits for every acknowledged message's result: the first cycle's poller resumed and
// the messages it held at the kill ran once their visibility timeout ended.
func (p *esmPath) Verify(ctx context.Context, c *kiritest.Clients, acks []string) error {
	deadline := time.Now().Add(2*time.Minute + esmCrashVisibility*time.Second)
	seen := p.seen
	for {
		var missing []string
		for _, id := range acks {
			if seen[id] {
				continue
			}
			out, err := c.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(esmCrashBucket), Key: aws.String("results/" + id)})
			if err != nil {
				missing = append(missing, id)
				continue
			}
			var r jobResult
			json.NewDecoder(out.Body).Decode(&r)
			out.Body.Close()
			if r.Receives != "1" {
				p.again.Add(1)
			}
			seen[id] = true
		}
		if len(missing) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d acknowledged messages never ran (e.g. %s)", len(missing), len(acks), missing[0])
		}
		time.Sleep(250 * time.Millisecond)
	}
}
