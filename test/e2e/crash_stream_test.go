package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// TestCrashResumesStreamMappings kills Kiri with SIGKILL while 16 writers put items into a
// streamed table whose stream a mapping projects into a read model, restarts it, and checks
// that every acknowledged put reached the model: the mapping resumes from its durable
// checkpoint, and a batch in flight at the kill runs again (at least once).
func TestCrashResumesStreamMappings(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test runs Kiri as a subprocess for several seconds")
	}
	// Two short cycles of four writers: each cycle drains its backlog through the function.
	kiritest.RunCrash(t, kiritest.CrashOptions{Paths: []kiritest.WritePath{&streamMappingPath{t: t}}, Writers: 4, Cycles: 2, Load: time.Second})
}

// streamMappingPath writes through PutItem to a table whose stream the ddbprojector function
// copies into a model table.
type streamMappingPath struct {
	t    *testing.T
	seen map[string]bool // items found in the model
}

const (
	streamCrashSource = "crash-stream-src"
	streamCrashModel  = "crash-stream-model"
)

func (*streamMappingPath) Name() string { return "dynamodb.PutItem→stream→lambda" }

func (p *streamMappingPath) Prepare(ctx context.Context, c *kiritest.Clients) error {
	p.seen = map[string]bool{}
	for _, name := range []string{streamCrashSource, streamCrashModel} {
		in := &dynamodb.CreateTableInput{TableName: aws.String(name), BillingMode: ddbtypes.BillingModePayPerRequest,
			AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
			KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash}}}
		if name == streamCrashSource {
			in.StreamSpecification = streamSpec(ddbtypes.StreamViewTypeNewImage)
		}
		if _, err := c.DynamoDB.CreateTable(ctx, in); err != nil {
			return err
		}
	}
	d, err := c.DynamoDB.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(streamCrashSource)})
	if err != nil {
		return err
	}
	if err := createGoFunction(ctx, c, "crash-stream-fn", lambdaRole, kiritest.GoFunctionZip(p.t, "./testdata/lambda/ddbprojector"), 10,
		map[string]string{"MODEL_TABLE": streamCrashModel}); err != nil {
		return err
	}
	_, err = c.Lambda.CreateEventSourceMapping(ctx, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String("crash-stream-fn"),
		EventSourceArn: d.Table.LatestStreamArn, StartingPosition: lambdatypes.EventSourcePositionTrimHorizon, BatchSize: aws.Int32(50)})
	return err
}

func (p *streamMappingPath) Write(ctx context.Context, c *kiritest.Clients, worker, seq int) (string, error) {
	id := fmt.Sprintf("w%d-s%d", worker, seq)
	_, err := c.DynamoDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(streamCrashSource),
		Item: map[string]ddbtypes.AttributeValue{"pk": ddbS(id), "v": ddbN(fmt.Sprint(seq))}})
	return id, err
}

// Verify waits for every acknowledged put to appear in the model.
func (p *streamMappingPath) Verify(ctx context.Context, c *kiritest.Clients, acks []string) error {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		var missing []string
		for _, id := range acks {
			if p.seen[id] {
				continue
			}
			out, err := c.DynamoDB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(streamCrashModel), ConsistentRead: aws.Bool(true),
				Key: map[string]ddbtypes.AttributeValue{"pk": ddbS(id)}})
			if err != nil || out.Item == nil {
				missing = append(missing, id)
				continue
			}
			p.seen[id] = true
		}
		if len(missing) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d acknowledged puts never reached the model (e.g. %s)", len(missing), len(acks), missing[0])
		}
		time.Sleep(250 * time.Millisecond)
	}
}
