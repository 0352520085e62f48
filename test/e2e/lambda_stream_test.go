package e2e

import (
	"encoding/json"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// streamProjector creates a source table with a stream, a model table, and the ddbprojector
// function writing to the model; it returns the stream's ARN.
func streamProjector(t *testing.T, cl *kiritest.Clients, prefix string) string {
	t.Helper()
	createDDBTable(t, cl.DynamoDB, prefix+"-src", false, func(in *dynamodb.CreateTableInput) {
		in.StreamSpecification = streamSpec(ddbtypes.StreamViewTypeNewAndOldImages)
	})
	createDDBTable(t, cl.DynamoDB, prefix+"-model", false)
	createTestFunction(t, cl.Lambda, prefix+"-fn", kiritest.GoFunctionZip(t, "./testdata/lambda/ddbprojector"), func(in *lambda.CreateFunctionInput) {
		in.Environment = &types.Environment{Variables: map[string]string{"MODEL_TABLE": prefix + "-model"}}
	})
	waitActive(t, cl.Lambda, prefix+"-fn")
	d, err := cl.DynamoDB.DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: aws.String(prefix + "-src")})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(d.Table.LatestStreamArn)
}

// scanItems reads a table whole, as JSON by pk (the order lists left out).
func scanItems(t *testing.T, c *dynamodb.Client, table string) map[string]string {
	t.Helper()
	out, err := c.Scan(t.Context(), &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, it := range out.Items {
		pk := it["pk"].(*ddbtypes.AttributeValueMemberS).Value
		if len(pk) > 6 && pk[:6] == "order#" {
			continue
		}
		var parts []string
		for k, v := range it {
			switch v := v.(type) {
			case *ddbtypes.AttributeValueMemberS:
				parts = append(parts, k+"=S:"+v.Value)
			case *ddbtypes.AttributeValueMemberN:
				parts = append(parts, k+"=N:"+v.Value)
			}
		}
		sort.Strings(parts)
		m[pk] = fmt.Sprint(parts)
	}
	return m
}

// settles is eventually for a check that says what is still wrong ("" when nothing is), said
// when the deadline passes.
func settles(t *testing.T, d time.Duration, check func() string) {
	t.Helper()
	last := ""
	defer func() {
		if t.Failed() {
			t.Log("last seen: " + last)
		}
	}()
	eventually(t, d, "the stream's effect", func() bool { last = check(); return last == "" })
}

// TestStreamMappingBuildsAReadModel maps a table's stream to a function that keeps a copy of
// the table in another: after puts, updates, deletes and a write refused by its condition, the
// copy equals the source.
func TestStreamMappingBuildsAReadModel(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{})
	cl := srv.Clients()
	ctx := t.Context()
	arn := streamProjector(t, cl, "rm")
	c := cl.DynamoDB
	for i := range 5 {
		if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("rm-src"),
			Item: map[string]ddbtypes.AttributeValue{"pk": ddbS(fmt.Sprint("k", i)), "v": ddbN(fmt.Sprint(i))}}); err != nil {
			t.Fatal(err)
		}
	}
	_, err := cl.Lambda.CreateEventSourceMapping(ctx, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String("rm-fn"),
		EventSourceArn: aws.String(arn), StartingPosition: types.EventSourcePositionAtTimestamp, StartingPositionTimestamp: aws.Time(time.Now())})
	wantAPIError(t, err, "InvalidParameterValueException", "")
	_, err = cl.Lambda.CreateEventSourceMapping(ctx, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String("rm-fn"),
		EventSourceArn: aws.String(arn), StartingPosition: types.EventSourcePositionTrimHorizon, BatchSize: aws.Int32(10001)})
	wantAPIError(t, err, "ValidationException", "")
	out, err := cl.Lambda.CreateEventSourceMapping(ctx, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String("rm-fn"),
		EventSourceArn: aws.String(arn), StartingPosition: types.EventSourcePositionTrimHorizon, BatchSize: aws.Int32(3)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToInt32(out.MaximumRetryAttempts) != -1 || aws.ToInt32(out.MaximumRecordAgeInSeconds) != -1 || aws.ToInt32(out.ParallelizationFactor) != 1 ||
		out.StartingPosition != types.EventSourcePositionTrimHorizon {
		t.Fatalf("mapping defaults: %+v", out)
	}
	waitMappingState(t, cl.Lambda, aws.ToString(out.UUID), "Enabled")

	if _, err := c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("rm-src"), Key: map[string]ddbtypes.AttributeValue{"pk": ddbS("k1")},
		UpdateExpression: aws.String("SET v = :v, extra = :e"), ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":v": ddbN("11"), ":e": ddbS("x")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("rm-src"), Key: map[string]ddbtypes.AttributeValue{"pk": ddbS("k2")}}); err != nil {
		t.Fatal(err)
	}
	_, err = c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("rm-src"), Item: map[string]ddbtypes.AttributeValue{"pk": ddbS("k3"), "v": ddbN("99")},
		ConditionExpression: aws.String("attribute_not_exists(pk)")})
	expectDDBError(t, err, "ConditionalCheckFailedException", "")
	if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("rm-src"), Item: map[string]ddbtypes.AttributeValue{"pk": ddbS("k9"), "v": ddbN("9")}}); err != nil {
		t.Fatal(err)
	}
	settles(t, 20*time.Second, func() string {
		src, model := scanItems(t, c, "rm-src"), scanItems(t, c, "rm-model")
		if fmt.Sprint(src) != fmt.Sprint(model) {
			return fmt.Sprintf("model %v, source %v", model, src)
		}
		return ""
	})
}

// TestStreamMappingFailures checks bisection, retries, partial batch responses and the
// on-failure destination, whose message describes the skipped batch.
func TestStreamMappingFailures(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{})
	cl := srv.Clients()
	ctx := t.Context()
	arn := streamProjector(t, cl, "fail")
	qurl, qarn := createQueue(t, cl.SQS, "stream-failures")
	put := func(pk, v, fail string) {
		t.Helper()
		it := map[string]ddbtypes.AttributeValue{"pk": ddbS(pk), "v": ddbN(v)}
		if fail != "" {
			it["fail"] = ddbS(fail)
		}
		if _, err := cl.DynamoDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("fail-src"), Item: it}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 8 {
		fail := ""
		switch i {
		case 3:
			fail = "batch"
		case 6:
			fail = "item"
		}
		put(fmt.Sprint("k", i), fmt.Sprint(i), fail)
	}
	out, err := cl.Lambda.CreateEventSourceMapping(ctx, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String("fail-fn"),
		EventSourceArn: aws.String(arn), StartingPosition: types.EventSourcePositionTrimHorizon, BatchSize: aws.Int32(8),
		BisectBatchOnFunctionError: aws.Bool(true), MaximumRetryAttempts: aws.Int32(1),
		FunctionResponseTypes: []types.FunctionResponseType{types.FunctionResponseTypeReportBatchItemFailures},
		DestinationConfig:     &types.DestinationConfig{OnFailure: &types.OnFailure{Destination: aws.String(qarn)}}})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.DestinationConfig.OnFailure.Destination) != qarn || !aws.ToBool(out.BisectBatchOnFunctionError) {
		t.Fatalf("mapping: %+v", out)
	}
	waitMappingState(t, cl.Lambda, aws.ToString(out.UUID), "Enabled")

	// Every good record reaches the model; the two failing ones end at the destination.
	type info struct {
		RequestContext struct{ Condition string } `json:"requestContext"`
		Batch          struct {
			ShardID             string `json:"shardId"`
			StartSequenceNumber string `json:"startSequenceNumber"`
			EndSequenceNumber   string `json:"endSequenceNumber"`
			BatchSize           int    `json:"batchSize"`
			StreamArn           string `json:"streamArn"`
		} `json:"DDBStreamBatchInfo"`
	}
	var got []info
	settles(t, 30*time.Second, func() string {
		r, err := cl.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(qurl), MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		if err != nil {
			return err.Error()
		}
		for _, m := range r.Messages {
			var i info
			if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &i); err != nil {
				return err.Error()
			}
			got = append(got, i)
		}
		if len(got) < 2 {
			return fmt.Sprintf("%d on-failure records", len(got))
		}
		return ""
	})
	for _, i := range got {
		b := i.Batch
		if i.RequestContext.Condition != "RetryAttemptsExhausted" || b.BatchSize != 1 || b.StartSequenceNumber != b.EndSequenceNumber ||
			b.StreamArn != arn || b.ShardID == "" {
			t.Fatalf("on-failure record: %+v", i)
		}
	}
	settles(t, 10*time.Second, func() string {
		model := scanItems(t, cl.DynamoDB, "fail-model")
		for _, k := range []string{"k0", "k1", "k2", "k4", "k5", "k7"} {
			if _, ok := model[k]; !ok {
				return fmt.Sprintf("model lacks %s: %v", k, model)
			}
		}
		if _, ok := model["k3"]; ok {
			return "a failed record reached the model"
		}
		return ""
	})
}

// TestStreamMappingParallelizationKeepsKeyOrder writes many versions of a few keys and checks
// that, with ParallelizationFactor 5, each key's versions were processed in order.
func TestStreamMappingParallelizationKeepsKeyOrder(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{})
	cl := srv.Clients()
	ctx := t.Context()
	arn := streamProjector(t, cl, "par")
	out, err := cl.Lambda.CreateEventSourceMapping(ctx, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String("par-fn"),
		EventSourceArn: aws.String(arn), StartingPosition: types.EventSourcePositionLatest, BatchSize: aws.Int32(4), ParallelizationFactor: aws.Int32(5)})
	if err != nil {
		t.Fatal(err)
	}
	waitMappingState(t, cl.Lambda, aws.ToString(out.UUID), "Enabled")
	const keys, versions = 6, 15
	for v := range versions {
		for k := range keys {
			if _, err := cl.DynamoDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("par-src"),
				Item: map[string]ddbtypes.AttributeValue{"pk": ddbS(fmt.Sprint("k", k)), "v": ddbN(fmt.Sprint(v))}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	settles(t, 30*time.Second, func() string {
		for k := range keys {
			o, err := cl.DynamoDB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("par-model"),
				Key: map[string]ddbtypes.AttributeValue{"pk": ddbS(fmt.Sprint("order#k", k))}, ConsistentRead: aws.Bool(true)})
			if err != nil {
				return err.Error()
			}
			l, ok := o.Item["seen"].(*ddbtypes.AttributeValueMemberL)
			if !ok || len(l.Value) < versions {
				return fmt.Sprintf("key k%d: %v", k, o.Item["seen"])
			}
			for i, v := range l.Value {
				if v.(*ddbtypes.AttributeValueMemberN).Value != fmt.Sprint(i) {
					return fmt.Sprintf("key k%d processed out of order: %v", k, l.Value)
				}
			}
		}
		return ""
	})
}
