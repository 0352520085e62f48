package e2e

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	stypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// streamSpec enables a stream of view type v.
func streamSpec(v ddbtypes.StreamViewType) *ddbtypes.StreamSpecification {
	return &ddbtypes.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: v}
}

// readShard reads every record of a stream's first shard from TRIM_HORIZON.
func readShard(t *testing.T, c *dynamodbstreams.Client, arn string) []stypes.Record {
	t.Helper()
	ctx := t.Context()
	d, err := c.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(arn)})
	if err != nil {
		t.Fatalf("DescribeStream: %v", err)
	}
	it, err := c.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(arn),
		ShardId: d.StreamDescription.Shards[0].ShardId, ShardIteratorType: stypes.ShardIteratorTypeTrimHorizon})
	if err != nil {
		t.Fatalf("GetShardIterator: %v", err)
	}
	var out []stypes.Record
	iter := it.ShardIterator
	for iter != nil {
		r, err := c.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: iter})
		if err != nil {
			t.Fatalf("GetRecords: %v", err)
		}
		out = append(out, r.Records...)
		if len(r.Records) == 0 {
			break
		}
		iter = r.NextShardIterator
	}
	return out
}

// TestDynamoDBStreamSpecification enables, refuses and disables streams as DynamoDB does, and
// describes them in DescribeTable, ListStreams and DescribeStream.
func TestDynamoDBStreamSpecification(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{})
	cs := srv.Clients()
	c, sc := cs.DynamoDB, cs.Streams
	ctx := t.Context()

	createDDBTable(t, c, "plain", false)
	createDDBTable(t, c, "streamed", true, func(in *dynamodb.CreateTableInput) {
		in.StreamSpecification = streamSpec(ddbtypes.StreamViewTypeKeysOnly)
	})
	d, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("streamed")})
	if err != nil {
		t.Fatal(err)
	}
	first := aws.ToString(d.Table.LatestStreamArn)
	if first != *d.Table.TableArn+"/stream/"+aws.ToString(d.Table.LatestStreamLabel) || d.Table.StreamSpecification == nil ||
		!aws.ToBool(d.Table.StreamSpecification.StreamEnabled) || d.Table.StreamSpecification.StreamViewType != ddbtypes.StreamViewTypeKeysOnly {
		t.Fatalf("DescribeTable stream: %v %v %+v", first, aws.ToString(d.Table.LatestStreamLabel), d.Table.StreamSpecification)
	}

	_, err = c.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String("noview"), BillingMode: ddbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash}},
		StreamSpecification:  &ddbtypes.StreamSpecification{StreamEnabled: aws.Bool(true)}})
	expectDDBError(t, err, "ValidationException", "One or more parameter values were invalid: StreamViewType is required when StreamEnabled is true")

	// Enabling twice, or changing the view type while enabled, is refused.
	_, err = c.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("streamed"), StreamSpecification: streamSpec(ddbtypes.StreamViewTypeNewImage)})
	expectDDBError(t, err, "ValidationException", "Table already has an enabled stream: TableName: streamed")
	_, err = c.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("plain"), StreamSpecification: &ddbtypes.StreamSpecification{StreamEnabled: aws.Bool(false)}})
	expectDDBError(t, err, "ValidationException", "Table already has no enabled stream: TableName: plain")

	// Disable, then enable again: a new stream, the old one DISABLED and still readable.
	if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("streamed"), Item: map[string]ddbtypes.AttributeValue{"pk": ddbS("a"), "sk": ddbN("1")}}); err != nil {
		t.Fatal(err)
	}
	u, err := c.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("streamed"), StreamSpecification: &ddbtypes.StreamSpecification{StreamEnabled: aws.Bool(false)}})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(u.TableDescription.LatestStreamArn) != first || u.TableDescription.StreamSpecification != nil {
		t.Fatalf("after disabling: %v %+v", aws.ToString(u.TableDescription.LatestStreamArn), u.TableDescription.StreamSpecification)
	}
	u, err = c.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("streamed"), StreamSpecification: streamSpec(ddbtypes.StreamViewTypeNewAndOldImages)})
	if err != nil {
		t.Fatal(err)
	}
	second := aws.ToString(u.TableDescription.LatestStreamArn)
	if second == first || second == "" {
		t.Fatalf("re-enabling gave stream %q (first %q)", second, first)
	}
	ds, err := sc.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(first)})
	if err != nil {
		t.Fatal(err)
	}
	sd := ds.StreamDescription
	if sd.StreamStatus != stypes.StreamStatusDisabled || sd.StreamViewType != stypes.StreamViewTypeKeysOnly || aws.ToString(sd.TableName) != "streamed" ||
		len(sd.KeySchema) != 2 || len(sd.Shards) != 1 || sd.Shards[0].SequenceNumberRange.EndingSequenceNumber == nil || sd.Shards[0].ParentShardId != nil {
		t.Fatalf("disabled stream: %+v", sd)
	}
	if recs := readShard(t, sc, first); len(recs) != 1 || recs[0].EventName != stypes.OperationTypeInsert ||
		recs[0].Dynamodb.NewImage != nil || len(recs[0].Dynamodb.Keys) != 2 {
		t.Fatalf("records of the disabled stream: %+v", recs)
	}
	ds, err = sc.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(second)})
	if err != nil || ds.StreamDescription.StreamStatus != stypes.StreamStatusEnabled || ds.StreamDescription.Shards[0].SequenceNumberRange.EndingSequenceNumber != nil {
		t.Fatalf("enabled stream: %+v, %v", ds, err)
	}

	// ListStreams filters by table and pages.
	ls, err := sc.ListStreams(ctx, &dynamodbstreams.ListStreamsInput{TableName: aws.String("streamed"), Limit: aws.Int32(1)})
	if err != nil || len(ls.Streams) != 1 || ls.LastEvaluatedStreamArn == nil {
		t.Fatalf("ListStreams page 1: %+v, %v", ls, err)
	}
	ls2, err := sc.ListStreams(ctx, &dynamodbstreams.ListStreamsInput{TableName: aws.String("streamed"), ExclusiveStartStreamArn: ls.LastEvaluatedStreamArn})
	if err != nil || len(ls2.Streams) != 1 || ls2.LastEvaluatedStreamArn != nil || aws.ToString(ls2.Streams[0].TableName) != "streamed" {
		t.Fatalf("ListStreams page 2: %+v, %v", ls2, err)
	}
	if ls, _ := sc.ListStreams(ctx, &dynamodbstreams.ListStreamsInput{TableName: aws.String("plain")}); len(ls.Streams) != 0 {
		t.Fatalf("streams of a table without one: %+v", ls.Streams)
	}

	// Deleting the table disables its stream; it stays readable.
	if _, err := c.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String("streamed")}); err != nil {
		t.Fatal(err)
	}
	ds, err = sc.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(second)})
	if err != nil || ds.StreamDescription.StreamStatus != stypes.StreamStatusDisabled {
		t.Fatalf("stream of a deleted table: %+v, %v", ds, err)
	}
	_, err = sc.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(first + "x")})
	expectDDBError(t, err, "ResourceNotFoundException", "Requested resource not found: Stream: "+first+"x not found")
}

// TestDynamoDBStreamRecords checks the records of puts, updates, deletes, batches,
// transactions and PartiQL per view type, that writes which change nothing (or fail their
// condition) write none, and the iterator types.
func TestDynamoDBStreamRecords(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{})
	cs := srv.Clients()
	c, sc := cs.DynamoDB, cs.Streams
	ctx := t.Context()
	createDDBTable(t, c, "rec", false, func(in *dynamodb.CreateTableInput) {
		in.StreamSpecification = streamSpec(ddbtypes.StreamViewTypeNewAndOldImages)
	})
	d, _ := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("rec")})
	arn := aws.ToString(d.Table.LatestStreamArn)
	item := func(pk, v string) map[string]ddbtypes.AttributeValue {
		return map[string]ddbtypes.AttributeValue{"pk": ddbS(pk), "v": ddbN(v)}
	}
	put := func(it map[string]ddbtypes.AttributeValue) {
		t.Helper()
		if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("rec"), Item: it}); err != nil {
			t.Fatal(err)
		}
	}
	put(item("a", "1"))
	put(item("a", "1")) // no change: no record
	put(item("a", "2"))
	_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("rec"), Item: item("a", "3"), ConditionExpression: aws.String("attribute_not_exists(pk)")})
	expectDDBError(t, err, "ConditionalCheckFailedException", "")
	if _, err := c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("rec"), Key: map[string]ddbtypes.AttributeValue{"pk": ddbS("b")},
		UpdateExpression: aws.String("SET v = :v"), ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":v": ddbN("5")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("rec"), Key: map[string]ddbtypes.AttributeValue{"pk": ddbS("nothing")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("rec"), Key: map[string]ddbtypes.AttributeValue{"pk": ddbS("a")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]ddbtypes.WriteRequest{"rec": {
		{PutRequest: &ddbtypes.PutRequest{Item: item("c", "7")}}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []ddbtypes.TransactWriteItem{
		{Put: &ddbtypes.Put{TableName: aws.String("rec"), Item: item("d", "8")}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ExecuteStatement(ctx, &dynamodb.ExecuteStatementInput{Statement: aws.String(`UPDATE "rec" SET v = 9 WHERE pk = 'c'`)}); err != nil {
		t.Fatal(err)
	}

	recs := readShard(t, sc, arn)
	want := []struct {
		name     stypes.OperationType
		pk       string
		old, new string
	}{
		{stypes.OperationTypeInsert, "a", "", "1"},
		{stypes.OperationTypeModify, "a", "1", "2"},
		{stypes.OperationTypeInsert, "b", "", "5"},
		{stypes.OperationTypeRemove, "a", "2", ""},
		{stypes.OperationTypeInsert, "c", "", "7"},
		{stypes.OperationTypeInsert, "d", "", "8"},
		{stypes.OperationTypeModify, "c", "7", "9"},
	}
	if len(recs) != len(want) {
		t.Fatalf("%d records, want %d: %+v", len(recs), len(want), recs)
	}
	prev := ""
	for i, w := range want {
		r := recs[i]
		b := r.Dynamodb
		if r.EventName != w.name || aws.ToString(r.EventVersion) != "1.1" || aws.ToString(r.EventSource) != "aws:dynamodb" ||
			aws.ToString(r.AwsRegion) != kiritest.Region || len(aws.ToString(r.EventID)) == 0 || b.StreamViewType != stypes.StreamViewTypeNewAndOldImages ||
			aws.ToInt64(b.SizeBytes) <= 0 || b.ApproximateCreationDateTime == nil || aws.ToString(b.SequenceNumber) <= prev {
			t.Fatalf("record %d: %+v %+v", i, r, b)
		}
		prev = aws.ToString(b.SequenceNumber)
		if k := b.Keys["pk"].(*stypes.AttributeValueMemberS).Value; k != w.pk || len(b.Keys) != 1 {
			t.Fatalf("record %d keys %+v", i, b.Keys)
		}
		img := func(m map[string]stypes.AttributeValue) string {
			if m == nil {
				return ""
			}
			return m["v"].(*stypes.AttributeValueMemberN).Value
		}
		if img(b.OldImage) != w.old || img(b.NewImage) != w.new {
			t.Fatalf("record %d images old %v new %v, want %s %s", i, b.OldImage, b.NewImage, w.old, w.new)
		}
	}

	// Iterator types.
	ds, _ := sc.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(arn)})
	shard := ds.StreamDescription.Shards[0].ShardId
	if got := aws.ToString(ds.StreamDescription.Shards[0].SequenceNumberRange.StartingSequenceNumber); got != aws.ToString(recs[0].Dynamodb.SequenceNumber) {
		t.Fatalf("shard starts at %s, first record %s", got, aws.ToString(recs[0].Dynamodb.SequenceNumber))
	}
	iter := func(typ stypes.ShardIteratorType, seq *string) *string {
		t.Helper()
		out, err := sc.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(arn), ShardId: shard, ShardIteratorType: typ, SequenceNumber: seq})
		if err != nil {
			t.Fatalf("GetShardIterator %s: %v", typ, err)
		}
		return out.ShardIterator
	}
	get := func(it *string, limit int32) *dynamodbstreams.GetRecordsOutput {
		t.Helper()
		in := &dynamodbstreams.GetRecordsInput{ShardIterator: it}
		if limit > 0 {
			in.Limit = aws.Int32(limit)
		}
		out, err := sc.GetRecords(ctx, in)
		if err != nil {
			t.Fatalf("GetRecords: %v", err)
		}
		return out
	}
	third := recs[2].Dynamodb.SequenceNumber
	if r := get(iter(stypes.ShardIteratorTypeAtSequenceNumber, third), 1); len(r.Records) != 1 || aws.ToString(r.Records[0].Dynamodb.SequenceNumber) != *third {
		t.Fatalf("AT_SEQUENCE_NUMBER: %+v", r.Records)
	}
	r := get(iter(stypes.ShardIteratorTypeAfterSequenceNumber, third), 2)
	if len(r.Records) != 2 || aws.ToString(r.Records[0].Dynamodb.SequenceNumber) != aws.ToString(recs[3].Dynamodb.SequenceNumber) || r.NextShardIterator == nil {
		t.Fatalf("AFTER_SEQUENCE_NUMBER: %+v", r.Records)
	}
	if r2 := get(r.NextShardIterator, 0); len(r2.Records) != 2 {
		t.Fatalf("NextShardIterator read %d records, want 2", len(r2.Records))
	}
	latest := iter(stypes.ShardIteratorTypeLatest, nil)
	if r := get(latest, 0); len(r.Records) != 0 || r.NextShardIterator == nil {
		t.Fatalf("LATEST before a write: %+v", r)
	}
	put(item("e", "1"))
	if r := get(latest, 0); len(r.Records) != 1 || r.Records[0].Dynamodb.Keys["pk"].(*stypes.AttributeValueMemberS).Value != "e" {
		t.Fatalf("LATEST after a write: %+v", r.Records)
	}

	// Errors.
	_, err = sc.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(arn), ShardId: aws.String("shardId-00000000000000000000-00000000"), ShardIteratorType: stypes.ShardIteratorTypeLatest})
	expectDDBError(t, err, "ResourceNotFoundException", "")
	_, err = sc.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(arn), ShardId: shard, ShardIteratorType: stypes.ShardIteratorTypeAtSequenceNumber})
	expectDDBError(t, err, "ValidationException", "")
	_, err = sc.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: aws.String("garbage")})
	expectDDBError(t, err, "ValidationException", "Invalid ShardIterator")

	// A closed shard's last read returns no NextShardIterator.
	if _, err := c.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("rec"), StreamSpecification: &ddbtypes.StreamSpecification{StreamEnabled: aws.Bool(false)}}); err != nil {
		t.Fatal(err)
	}
	if r := get(iter(stypes.ShardIteratorTypeTrimHorizon, nil), 1000); len(r.Records) != len(want)+1 || r.NextShardIterator != nil {
		t.Fatalf("closed shard: %d records, next %v", len(r.Records), r.NextShardIterator)
	}
}
