package e2e

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	stypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// DynamoDB's crash paths: plain puts, conditional updates, transactions, whose parts must be
// all there or all absent after a kill, and puts whose stream records must all be there.
func dynamodbCrashPaths() []kiritest.WritePath {
	return []kiritest.WritePath{ddbPutPath{}, ddbConditionalPath{}, ddbTransactPath{}, ddbStreamPath{}}
}

func prepareCrashTable(ctx context.Context, c *kiritest.Clients, name string) error {
	_, err := c.DynamoDB.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String(name), BillingMode: ddbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash}}})
	return err
}

// ddbPutPath writes items with PutItem; each acknowledged item must be there, whole.
type ddbPutPath struct{}

func (ddbPutPath) Name() string { return "dynamodb.PutItem" }

func (ddbPutPath) Prepare(ctx context.Context, c *kiritest.Clients) error {
	return prepareCrashTable(ctx, c, "crash-put")
}

func (ddbPutPath) Write(ctx context.Context, c *kiritest.Clients, worker, seq int) (string, error) {
	ack := fmt.Sprintf("%d-%d", worker, seq)
	_, err := c.DynamoDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("crash-put"),
		Item: map[string]ddbtypes.AttributeValue{"pk": ddbS(ack), "body": ddbS(strings.Repeat(ack, 50))}})
	return ack, err
}

func (ddbPutPath) Verify(ctx context.Context, c *kiritest.Clients, acks []string) error {
	return verifyEach(acks, "acknowledged puts lost", func(ack string) error {
		out, err := c.DynamoDB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("crash-put"), Key: map[string]ddbtypes.AttributeValue{"pk": ddbS(ack)}})
		if err != nil {
			return err
		}
		if b, ok := out.Item["body"].(*ddbtypes.AttributeValueMemberS); !ok || b.Value != strings.Repeat(ack, 50) {
			return fmt.Errorf("item %s: %v", ack, out.Item)
		}
		return nil
	})
}

// ddbConditionalPath adds each write's sequence number to its worker's item with a
// conditional UpdateItem (refused if already there); every acknowledged number must be in the
// set.
type ddbConditionalPath struct{}

func (ddbConditionalPath) Name() string { return "dynamodb.UpdateItem conditional" }

func (ddbConditionalPath) Prepare(ctx context.Context, c *kiritest.Clients) error {
	return prepareCrashTable(ctx, c, "crash-cond")
}

func (ddbConditionalPath) Write(ctx context.Context, c *kiritest.Clients, worker, seq int) (string, error) {
	_, err := c.DynamoDB.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("crash-cond"),
		Key:                       map[string]ddbtypes.AttributeValue{"pk": ddbS(fmt.Sprint("w", worker))},
		UpdateExpression:          aws.String("ADD done :s, n :one"),
		ConditionExpression:       aws.String("attribute_not_exists(done) OR NOT contains(done, :seq)"),
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":s": &ddbtypes.AttributeValueMemberNS{Value: []string{fmt.Sprint(seq)}}, ":seq": ddbN(fmt.Sprint(seq)), ":one": ddbN("1")}})
	return fmt.Sprintf("%d-%d", worker, seq), err
}

func (ddbConditionalPath) Verify(ctx context.Context, c *kiritest.Clients, acks []string) error {
	done := map[string][]string{}
	counts := map[string]int{}
	for _, a := range acks {
		w, s, _ := strings.Cut(a, "-")
		done[w] = append(done[w], s)
	}
	for w, seqs := range done {
		out, err := c.DynamoDB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("crash-cond"), Key: map[string]ddbtypes.AttributeValue{"pk": ddbS("w" + w)},
			ConsistentRead: aws.Bool(true)})
		if err != nil {
			return err
		}
		set, _ := out.Item["done"].(*ddbtypes.AttributeValueMemberNS)
		n, _ := out.Item["n"].(*ddbtypes.AttributeValueMemberN)
		if set == nil || n == nil {
			return fmt.Errorf("worker %s: item %v", w, out.Item)
		}
		for _, s := range seqs {
			if !slices.Contains(set.Value, s) {
				return fmt.Errorf("worker %s: acknowledged update %s lost", w, s)
			}
		}
		// The counter moved with the set in every update: they agree.
		counts[w] = len(set.Value)
		if fmt.Sprint(counts[w]) != n.Value {
			return fmt.Errorf("worker %s: %d numbers in the set but the counter says %s", w, counts[w], n.Value)
		}
	}
	return nil
}

// ddbTransactPath writes two items and a counter in one TransactWriteItems: acknowledged
// transactions must be whole, and no transaction may be partial.
type ddbTransactPath struct{}

func (ddbTransactPath) Name() string { return "dynamodb.TransactWriteItems" }

func (ddbTransactPath) Prepare(ctx context.Context, c *kiritest.Clients) error {
	return prepareCrashTable(ctx, c, "crash-tx")
}

func (ddbTransactPath) Write(ctx context.Context, c *kiritest.Clients, worker, seq int) (string, error) {
	ack := fmt.Sprintf("%d-%d", worker, seq)
	tbl := aws.String("crash-tx")
	_, err := c.DynamoDB.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []ddbtypes.TransactWriteItem{
		{Put: &ddbtypes.Put{TableName: tbl, Item: map[string]ddbtypes.AttributeValue{"pk": ddbS("a-" + ack)}, ConditionExpression: aws.String("attribute_not_exists(pk)")}},
		{Put: &ddbtypes.Put{TableName: tbl, Item: map[string]ddbtypes.AttributeValue{"pk": ddbS("b-" + ack)}}},
		{Update: &ddbtypes.Update{TableName: tbl, Key: map[string]ddbtypes.AttributeValue{"pk": ddbS(fmt.Sprint("count-", worker))},
			UpdateExpression: aws.String("ADD n :one"), ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":one": ddbN("1")}}},
	}})
	return ack, err
}

func (ddbTransactPath) Verify(ctx context.Context, c *kiritest.Clients, acks []string) error {
	have := map[string]bool{}
	counts := map[string]string{}
	var start map[string]ddbtypes.AttributeValue
	for {
		out, err := c.DynamoDB.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("crash-tx"), ExclusiveStartKey: start})
		if err != nil {
			return err
		}
		for _, it := range out.Items {
			pk := it["pk"].(*ddbtypes.AttributeValueMemberS).Value
			if strings.HasPrefix(pk, "count-") {
				counts[strings.TrimPrefix(pk, "count-")] = it["n"].(*ddbtypes.AttributeValueMemberN).Value
				continue
			}
			have[pk] = true
		}
		if out.LastEvaluatedKey == nil {
			break
		}
		start = out.LastEvaluatedKey
	}
	for _, a := range acks {
		if !have["a-"+a] || !have["b-"+a] {
			return fmt.Errorf("acknowledged transaction %s lost (a %v, b %v)", a, have["a-"+a], have["b-"+a])
		}
	}
	perWorker := map[string]int{}
	for pk := range have {
		rest := pk[2:]
		if strings.HasPrefix(pk, "a-") {
			if !have["b-"+rest] {
				return fmt.Errorf("transaction %s partial: a without b", rest)
			}
			w, _, _ := strings.Cut(rest, "-")
			perWorker[w]++
		} else if !have["a-"+rest] {
			return fmt.Errorf("transaction %s partial: b without a", rest)
		}
	}
	for w, n := range perWorker {
		if counts[w] != fmt.Sprint(n) {
			return fmt.Errorf("worker %s: %d transactions but its counter is %s", w, n, counts[w])
		}
	}
	return nil
}

// ddbStreamPath puts items into a table with a stream; every acknowledged put must have its
// stream record, read back through the Streams API.
type ddbStreamPath struct{}

func (ddbStreamPath) Name() string { return "dynamodb.PutItem stream record" }

func (ddbStreamPath) Prepare(ctx context.Context, c *kiritest.Clients) error {
	_, err := c.DynamoDB.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String("crash-stream"), BillingMode: ddbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash}},
		StreamSpecification:  &ddbtypes.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: ddbtypes.StreamViewTypeKeysOnly}})
	return err
}

func (ddbStreamPath) Write(ctx context.Context, c *kiritest.Clients, worker, seq int) (string, error) {
	ack := fmt.Sprintf("%d-%d", worker, seq)
	_, err := c.DynamoDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("crash-stream"),
		Item: map[string]ddbtypes.AttributeValue{"pk": ddbS(ack)}})
	return ack, err
}

func (ddbStreamPath) Verify(ctx context.Context, c *kiritest.Clients, acks []string) error {
	d, err := c.DynamoDB.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("crash-stream")})
	if err != nil {
		return err
	}
	arn := d.Table.LatestStreamArn
	ds, err := c.Streams.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: arn})
	if err != nil {
		return err
	}
	it, err := c.Streams.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: arn,
		ShardId: ds.StreamDescription.Shards[0].ShardId, ShardIteratorType: stypes.ShardIteratorTypeTrimHorizon})
	if err != nil {
		return err
	}
	seen := map[string]int{}
	for iter := it.ShardIterator; iter != nil; {
		r, err := c.Streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: iter})
		if err != nil {
			return err
		}
		for _, rec := range r.Records {
			if pk, ok := rec.Dynamodb.Keys["pk"].(*stypes.AttributeValueMemberS); ok {
				seen[pk.Value]++
			}
		}
		if len(r.Records) == 0 {
			break
		}
		iter = r.NextShardIterator
	}
	return verifyEach(acks, "acknowledged puts without their stream record", func(ack string) error {
		if seen[ack] != 1 {
			return fmt.Errorf("item %s has %d stream records", ack, seen[ack])
		}
		return nil
	})
}
