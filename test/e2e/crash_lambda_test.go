package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// lambdaEventPath writes through asynchronous Lambda invocations: Kiri acknowledges an Event
// invoke once it is stored in the outbox, so every acknowledged event must run after a crash;
// the function proves it ran by putting marks/<token> into a bucket.
type lambdaEventPath struct {
	zip  func() []byte
	once sync.Once
}

const (
	markFunction = "crash-marker"
	markBucket   = "crash-marks"
)

func newLambdaEventPath(t *testing.T) *lambdaEventPath {
	return &lambdaEventPath{zip: func() []byte { return kiritest.GoFunctionZip(t, "./testdata/lambda/marker") }}
}

func (*lambdaEventPath) Name() string { return "lambda.Invoke(Event)" }

func (p *lambdaEventPath) Prepare(ctx context.Context, c *kiritest.Clients) error {
	if _, err := c.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(markBucket)}); err != nil {
		return err
	}
	role, err := createFunctionRole(ctx, c, "marker", "arn:aws:iam::aws:policy/AmazonS3FullAccess",
		"arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")
	if err != nil {
		return err
	}
	return createGoFunction(ctx, c, markFunction, role, p.zip(), 30,
		map[string]string{"MARK_BUCKET": markBucket})
}

// createGoFunction creates a provided.al2023 function with a timeout (seconds) and environment
// and waits until it is Active.
func createGoFunction(ctx context.Context, c *kiritest.Clients, name, role string, zip []byte, timeout int32, env map[string]string) error {
	_, err := c.Lambda.CreateFunction(ctx, &lambda.CreateFunctionInput{
		FunctionName: aws.String(name), Runtime: types.RuntimeProvidedal2023, Handler: aws.String("bootstrap"),
		Role: aws.String(role), Code: &types.FunctionCode{ZipFile: zip}, Timeout: aws.Int32(timeout),
		Environment: &types.Environment{Variables: env},
	})
	if err != nil {
		return err
	}
	return lambda.NewFunctionActiveV2Waiter(c.Lambda).Wait(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(name)}, 30*time.Second)
}

func (*lambdaEventPath) Write(ctx context.Context, c *kiritest.Clients, worker, seq int) (string, error) {
	mark := fmt.Sprintf("w%d-s%d", worker, seq)
	payload, _ := json.Marshal(map[string]string{"mark": mark})
	out, err := c.Lambda.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(markFunction), InvocationType: types.InvocationTypeEvent, Payload: payload})
	if err != nil {
		return "", err
	}
	if out.StatusCode != 202 {
		return "", fmt.Errorf("status %d", out.StatusCode)
	}
	return mark, nil
}

// Verify waits (up to a minute) for every acknowledged event's mark.
func (*lambdaEventPath) Verify(ctx context.Context, c *kiritest.Clients, acks []string) error {
	deadline := time.Now().Add(time.Minute)
	for {
		missing := 0
		var example string
		remaining := acks[:0:0]
		for _, mark := range acks {
			if _, err := c.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(markBucket), Key: aws.String("marks/" + mark)}); err != nil {
				missing++
				example = mark
				remaining = append(remaining, mark)
			}
		}
		if missing == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d acknowledged events never ran (e.g. %s)", missing, len(acks), example)
		}
		acks = remaining
		time.Sleep(500 * time.Millisecond)
	}
}
