package e2e

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

type ddbItem = map[string]ddbtypes.AttributeValue

// TestDynamoDBItems writes and reads items with conditions, update expressions, projections,
// return values and consumed capacity, and checks the refusals DynamoDB gives.
func TestDynamoDBItems(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{})
	c := srv.Clients().DynamoDB
	ctx := t.Context()
	createDDBTable(t, c, "items", true)
	tbl := aws.String("items")
	key := ddbItem{"pk": ddbS("a"), "sk": ddbN("1")}

	put, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: tbl, ReturnConsumedCapacity: ddbtypes.ReturnConsumedCapacityTotal,
		Item: ddbItem{"pk": ddbS("a"), "sk": ddbN("1"), "count": ddbN("5"), "tags": &ddbtypes.AttributeValueMemberSS{Value: []string{"x", "y"}},
			"doc": &ddbtypes.AttributeValueMemberM{Value: ddbItem{"list": &ddbtypes.AttributeValueMemberL{Value: []ddbtypes.AttributeValue{ddbN("1"), ddbN("2")}}}},
			"bin": &ddbtypes.AttributeValueMemberB{Value: []byte{0, 1, 2}}, "ok": &ddbtypes.AttributeValueMemberBOOL{Value: true},
			"nil": &ddbtypes.AttributeValueMemberNULL{Value: true}}})
	if err != nil || aws.ToFloat64(put.ConsumedCapacity.CapacityUnits) != 1 || aws.ToString(put.ConsumedCapacity.TableName) != "items" {
		t.Fatalf("PutItem = %+v, %v", put, err)
	}
	_, err = c.PutItem(ctx, &dynamodb.PutItemInput{TableName: tbl, Item: ddbItem{"pk": ddbS("a"), "sk": ddbN("1")},
		ConditionExpression: aws.String("attribute_not_exists(pk)")})
	expectDDBError(t, err, "ConditionalCheckFailedException", "The conditional request failed")
	_, err = c.PutItem(ctx, &dynamodb.PutItemInput{TableName: tbl, Item: ddbItem{"pk": ddbS("a"), "sk": ddbN("1")},
		ConditionExpression: aws.String("attribute_not_exists(pk)"), ReturnValuesOnConditionCheckFailure: ddbtypes.ReturnValuesOnConditionCheckFailureAllOld})
	var ccf *ddbtypes.ConditionalCheckFailedException
	if !errors.As(err, &ccf) || ccf.Item["count"] == nil {
		t.Fatalf("condition failure with ALL_OLD = %v", err)
	}

	upd, err := c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: tbl, Key: key,
		UpdateExpression:          aws.String("SET #c = #c + :one, doc.#l[5] = :v, newattr = if_not_exists(newattr, :v) REMOVE ok ADD tags :t"),
		ConditionExpression:       aws.String("#c >= :one AND size(tags) = :two"),
		ExpressionAttributeNames:  map[string]string{"#c": "count", "#l": "list"},
		ExpressionAttributeValues: ddbItem{":one": ddbN("1"), ":two": ddbN("2"), ":v": ddbS("v"), ":t": &ddbtypes.AttributeValueMemberSS{Value: []string{"z"}}},
		ReturnValues:              ddbtypes.ReturnValueUpdatedNew})
	if err != nil {
		t.Fatal(err)
	}
	if n := upd.Attributes["count"].(*ddbtypes.AttributeValueMemberN).Value; n != "6" {
		t.Fatalf("UPDATED_NEW count = %s", n)
	}
	if _, ok := upd.Attributes["pk"]; ok {
		t.Fatalf("UPDATED_NEW returned the key: %v", upd.Attributes)
	}
	got, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: tbl, Key: key, ConsistentRead: aws.Bool(true),
		ProjectionExpression: aws.String("tags, doc.#l[2], #c"), ExpressionAttributeNames: map[string]string{"#c": "count", "#l": "list"},
		ReturnConsumedCapacity: ddbtypes.ReturnConsumedCapacityTotal})
	if err != nil {
		t.Fatal(err)
	}
	tags := got.Item["tags"].(*ddbtypes.AttributeValueMemberSS).Value
	list := got.Item["doc"].(*ddbtypes.AttributeValueMemberM).Value["list"].(*ddbtypes.AttributeValueMemberL).Value
	if len(got.Item) != 3 || strings.Join(slices.Sorted(slices.Values(tags)), ",") != "x,y,z" || len(list) != 1 || aws.ToFloat64(got.ConsumedCapacity.CapacityUnits) != 1 {
		t.Fatalf("GetItem = %+v", got.Item)
	}

	// Refusals.
	for _, tc := range []struct {
		name string
		call func() error
		msg  string
	}{
		{"missing key", func() error {
			_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: tbl, Item: ddbItem{"pk": ddbS("a")}})
			return err
		}, "One or more parameter values were invalid: Missing the key sk in the item"},
		{"key type", func() error {
			_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: tbl, Item: ddbItem{"pk": ddbN("1"), "sk": ddbN("1")}})
			return err
		}, "One or more parameter values were invalid: Type mismatch for key pk expected: S actual: N"},
		{"empty key", func() error {
			_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: tbl, Item: ddbItem{"pk": ddbS(""), "sk": ddbN("1")}})
			return err
		}, "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: pk"},
		{"key mismatch", func() error {
			_, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: tbl, Key: ddbItem{"pk": ddbS("a")}})
			return err
		}, "The provided key element does not match the schema"},
		{"unused value", func() error {
			_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: tbl, Item: key, ConditionExpression: aws.String("attribute_exists(pk)"),
				ExpressionAttributeValues: ddbItem{":x": ddbS("x")}})
			return err
		}, "Value provided in ExpressionAttributeValues unused in expressions: keys: {:x}"},
		{"update key", func() error {
			_, err := c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: tbl, Key: key, UpdateExpression: aws.String("SET pk = :v"),
				ExpressionAttributeValues: ddbItem{":v": ddbS("b")}})
			return err
		}, "One or more parameter values were invalid: Cannot update attribute pk. This attribute is part of the key"},
		{"too large", func() error {
			_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: tbl, Item: ddbItem{"pk": ddbS("big"), "sk": ddbN("1"), "v": ddbS(strings.Repeat("x", 400*1024))}})
			return err
		}, "Item size has exceeded the maximum allowed size"},
		{"return values", func() error {
			_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: tbl, Item: key, ReturnValues: ddbtypes.ReturnValueAllNew})
			return err
		}, "Return values set to invalid value"},
		{"syntax", func() error {
			_, err := c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: tbl, Key: key, UpdateExpression: aws.String("SET a b")})
			return err
		}, `Invalid UpdateExpression: Syntax error; token: "b", near: "a b"`},
		{"mixed parameters", func() error {
			_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: tbl, Item: key, ConditionExpression: aws.String("attribute_exists(pk)"),
				Expected: map[string]ddbtypes.ExpectedAttributeValue{"pk": {Exists: aws.Bool(true), Value: ddbS("a")}}})
			return err
		}, "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {Expected} Expression parameters: {ConditionExpression}"},
	} {
		t.Run(tc.name, func(t *testing.T) { expectDDBError(t, tc.call(), "ValidationException", tc.msg) })
	}

	// Exactly 400 KB is accepted.
	pad := 400*1024 - len("pk") - len("big") - len("sk") - 2 - len("v")
	putDDB(t, c, "items", ddbItem{"pk": ddbS("big"), "sk": ddbN("1"), "v": ddbS(strings.Repeat("x", pad))})

	// Legacy parameters.
	if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: tbl, Item: ddbItem{"pk": ddbS("legacy"), "sk": ddbN("1"), "n": ddbN("1")},
		Expected: map[string]ddbtypes.ExpectedAttributeValue{"pk": {Exists: aws.Bool(false)}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: tbl, Key: ddbItem{"pk": ddbS("legacy"), "sk": ddbN("1")},
		AttributeUpdates: map[string]ddbtypes.AttributeValueUpdate{"n": {Action: ddbtypes.AttributeActionAdd, Value: ddbN("2")}},
		Expected:         map[string]ddbtypes.ExpectedAttributeValue{"n": {ComparisonOperator: ddbtypes.ComparisonOperatorEq, AttributeValueList: []ddbtypes.AttributeValue{ddbN("1")}}}}); err != nil {
		t.Fatal(err)
	}
	lg, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: tbl, Key: ddbItem{"pk": ddbS("legacy"), "sk": ddbN("1")}, AttributesToGet: []string{"n"}})
	if err != nil || len(lg.Item) != 1 || lg.Item["n"].(*ddbtypes.AttributeValueMemberN).Value != "3" {
		t.Fatalf("legacy GetItem = %+v, %v", lg, err)
	}

	del, err := c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: tbl, Key: key, ReturnValues: ddbtypes.ReturnValueAllOld,
		ConditionExpression: aws.String("attribute_exists(newattr)")})
	if err != nil || del.Attributes["newattr"] == nil {
		t.Fatalf("DeleteItem = %+v, %v", del, err)
	}
	gone, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: tbl, Key: key})
	if err != nil || gone.Item != nil {
		t.Fatalf("GetItem after delete = %+v, %v", gone, err)
	}
}

// TestDynamoDBQueryAndScan reads partitions in sort order through key conditions, pages with
// Limit and the 1 MB page size, filters, counts, reads local and global indexes, and scans in
// parallel segments.
func TestDynamoDBQueryAndScan(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{})
	c := srv.Clients().DynamoDB
	ctx := t.Context()
	createDDBTable(t, c, "qry", true, func(in *dynamodb.CreateTableInput) {
		in.AttributeDefinitions = append(in.AttributeDefinitions,
			ddbtypes.AttributeDefinition{AttributeName: aws.String("name"), AttributeType: ddbtypes.ScalarAttributeTypeS},
			ddbtypes.AttributeDefinition{AttributeName: aws.String("grp"), AttributeType: ddbtypes.ScalarAttributeTypeS})
		in.LocalSecondaryIndexes = []ddbtypes.LocalSecondaryIndex{{IndexName: aws.String("by-name"),
			KeySchema:  []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash}, {AttributeName: aws.String("name"), KeyType: ddbtypes.KeyTypeRange}},
			Projection: &ddbtypes.Projection{ProjectionType: ddbtypes.ProjectionTypeKeysOnly}}}
		in.GlobalSecondaryIndexes = []ddbtypes.GlobalSecondaryIndex{{IndexName: aws.String("by-grp"),
			KeySchema:  []ddbtypes.KeySchemaElement{{AttributeName: aws.String("grp"), KeyType: ddbtypes.KeyTypeHash}, {AttributeName: aws.String("sk"), KeyType: ddbtypes.KeyTypeRange}},
			Projection: &ddbtypes.Projection{ProjectionType: ddbtypes.ProjectionTypeInclude, NonKeyAttributes: []string{"name"}}}}
	})
	var reqs []ddbtypes.WriteRequest
	flush := func() {
		if len(reqs) == 0 {
			return
		}
		if _, err := c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]ddbtypes.WriteRequest{"qry": reqs}}); err != nil {
			t.Fatal(err)
		}
		reqs = nil
	}
	for p := range 3 {
		for i := range 40 {
			item := ddbItem{"pk": ddbS(fmt.Sprint("p", p)), "sk": ddbN(strconv.Itoa(i - 10)), "name": ddbS(fmt.Sprintf("n%02d", 39-i)), "odd": &ddbtypes.AttributeValueMemberBOOL{Value: i%2 == 1}}
			if i%4 == 0 {
				item["grp"] = ddbS("g")
			}
			reqs = append(reqs, ddbtypes.WriteRequest{PutRequest: &ddbtypes.PutRequest{Item: item}})
			if len(reqs) == 25 {
				flush()
			}
		}
	}
	flush()

	q := func(in dynamodb.QueryInput) *dynamodb.QueryOutput {
		t.Helper()
		in.TableName = aws.String("qry")
		out, err := c.Query(ctx, &in)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	sks := func(items []ddbItem) string {
		var out []string
		for _, it := range items {
			out = append(out, it["sk"].(*ddbtypes.AttributeValueMemberN).Value)
		}
		return strings.Join(out, ",")
	}
	vals := func(kv ...any) ddbItem {
		m := ddbItem{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1].(ddbtypes.AttributeValue)
		}
		return m
	}
	if got := sks(q(dynamodb.QueryInput{KeyConditionExpression: aws.String("pk = :p AND sk BETWEEN :a AND :b"),
		ExpressionAttributeValues: vals(":p", ddbS("p1"), ":a", ddbN("-2"), ":b", ddbN("2"))}).Items); got != "-2,-1,0,1,2" {
		t.Fatalf("BETWEEN = %s", got)
	}
	if got := sks(q(dynamodb.QueryInput{KeyConditionExpression: aws.String("pk = :p AND sk < :a"), ScanIndexForward: aws.Bool(false), Limit: aws.Int32(3),
		ExpressionAttributeValues: vals(":p", ddbS("p1"), ":a", ddbN("0"))}).Items); got != "-1,-2,-3" {
		t.Fatalf("descending = %s", got)
	}
	// Pages of 7 cover the partition exactly once, in order.
	var all []ddbItem
	var start ddbItem
	pages := 0
	for {
		out := q(dynamodb.QueryInput{KeyConditionExpression: aws.String("pk = :p"), ExpressionAttributeValues: vals(":p", ddbS("p2")), Limit: aws.Int32(7), ExclusiveStartKey: start})
		all = append(all, out.Items...)
		pages++
		if out.LastEvaluatedKey == nil {
			break
		}
		start = out.LastEvaluatedKey
	}
	if len(all) != 40 || pages != 6 || sks(all[:3]) != "-10,-9,-8" {
		t.Fatalf("paged query: %d items in %d pages", len(all), pages)
	}
	// Filter and count.
	f := q(dynamodb.QueryInput{KeyConditionExpression: aws.String("pk = :p"), FilterExpression: aws.String("odd = :t"), Select: ddbtypes.SelectCount,
		ExpressionAttributeValues: vals(":p", ddbS("p0"), ":t", &ddbtypes.AttributeValueMemberBOOL{Value: true})})
	if f.Count != 20 || f.ScannedCount != 40 || f.Items != nil {
		t.Fatalf("filtered count = %d of %d, items %v", f.Count, f.ScannedCount, f.Items)
	}
	// The local index orders by name; begins_with on it.
	lsi := q(dynamodb.QueryInput{IndexName: aws.String("by-name"), KeyConditionExpression: aws.String("pk = :p AND begins_with(#n, :pre)"),
		ExpressionAttributeNames: map[string]string{"#n": "name"}, ExpressionAttributeValues: vals(":p", ddbS("p0"), ":pre", ddbS("n0"))})
	if lsi.Count != 10 || sks(lsi.Items[:2]) != "29,28" || len(lsi.Items[0]) != 3 {
		t.Fatalf("local index query = %d items, first %v", lsi.Count, lsi.Items)
	}
	// The global index holds the sparse items with its projection.
	gsi := q(dynamodb.QueryInput{IndexName: aws.String("by-grp"), KeyConditionExpression: aws.String("grp = :g AND sk >= :z"),
		ExpressionAttributeValues: vals(":g", ddbS("g"), ":z", ddbN("0"))})
	if gsi.Count != 21 || gsi.Items[0]["odd"] != nil || gsi.Items[0]["name"] == nil {
		t.Fatalf("global index query = %d items, first %v", gsi.Count, gsi.Items)
	}
	_, err := c.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("qry"), IndexName: aws.String("by-grp"), ConsistentRead: aws.Bool(true),
		KeyConditionExpression: aws.String("grp = :g"), ExpressionAttributeValues: vals(":g", ddbS("g"))})
	expectDDBError(t, err, "ValidationException", "Consistent reads are not supported on global secondary indexes")
	_, err = c.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("qry"), KeyConditionExpression: aws.String("sk = :s"), ExpressionAttributeValues: vals(":s", ddbN("1"))})
	expectDDBError(t, err, "ValidationException", "Query condition missed key schema element: pk")

	// Parallel scan: 4 segments together return every item once.
	seen := map[string]bool{}
	for seg := range 4 {
		var start ddbItem
		for {
			out, err := c.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("qry"), Segment: aws.Int32(int32(seg)), TotalSegments: aws.Int32(4), Limit: aws.Int32(13), ExclusiveStartKey: start})
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range out.Items {
				k := it["pk"].(*ddbtypes.AttributeValueMemberS).Value + "/" + it["sk"].(*ddbtypes.AttributeValueMemberN).Value
				if seen[k] {
					t.Fatalf("scan returned %s twice", k)
				}
				seen[k] = true
			}
			if out.LastEvaluatedKey == nil {
				break
			}
			start = out.LastEvaluatedKey
		}
	}
	if len(seen) != 120 {
		t.Fatalf("segments returned %d items, want 120", len(seen))
	}
	sf, err := c.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("qry"), ScanFilter: map[string]ddbtypes.Condition{
		"sk": {ComparisonOperator: ddbtypes.ComparisonOperatorGe, AttributeValueList: []ddbtypes.AttributeValue{ddbN("25")}}}})
	if err != nil || sf.Count != 15 {
		t.Fatalf("legacy scan filter = %v, %v", sf.Count, err)
	}
}

// TestDynamoDBPageSizeLimit stops a Query at 1 MB of items read.
func TestDynamoDBPageSizeLimit(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{})
	c := srv.Clients().DynamoDB
	createDDBTable(t, c, "big", true)
	blob := strings.Repeat("x", 100*1024)
	for i := range 15 {
		putDDB(t, c, "big", ddbItem{"pk": ddbS("p"), "sk": ddbN(strconv.Itoa(i)), "v": ddbS(blob)})
	}
	out, err := c.Query(t.Context(), &dynamodb.QueryInput{TableName: aws.String("big"), KeyConditionExpression: aws.String("pk = :p"),
		ExpressionAttributeValues: ddbItem{":p": ddbS("p")}, ReturnConsumedCapacity: ddbtypes.ReturnConsumedCapacityTotal})
	if err != nil || out.Count != 11 || out.LastEvaluatedKey == nil {
		t.Fatalf("first page = %d items, LastEvaluatedKey %v, %v", out.Count, out.LastEvaluatedKey, err)
	}
	if units := aws.ToFloat64(out.ConsumedCapacity.CapacityUnits); units != 138 {
		t.Fatalf("consumed %v read units, want 138 (1.1 MB eventually consistent)", units)
	}
}

// TestDynamoDBConcurrentConditionalIncrements has 16 clients increment one counter under a
// condition on its current value, retrying on conflicts: the count ends exact.
func TestDynamoDBConcurrentConditionalIncrements(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{})
	c := srv.Clients().DynamoDB
	ctx := t.Context()
	createDDBTable(t, c, "counters", false)
	putDDB(t, c, "counters", ddbItem{"pk": ddbS("c"), "n": ddbN("0")})
	const clients, each = 16, 25
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for done := 0; done < each; {
				got, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("counters"), Key: ddbItem{"pk": ddbS("c")}})
				if err != nil {
					errs <- err
					return
				}
				cur := got.Item["n"].(*ddbtypes.AttributeValueMemberN).Value
				next, _ := strconv.Atoi(cur)
				_, err = c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("counters"), Key: ddbItem{"pk": ddbS("c")},
					UpdateExpression: aws.String("SET n = :next"), ConditionExpression: aws.String("n = :cur"),
					ExpressionAttributeValues: ddbItem{":cur": ddbN(cur), ":next": ddbN(strconv.Itoa(next + 1))}})
				var ccf *ddbtypes.ConditionalCheckFailedException
				if errors.As(err, &ccf) {
					continue
				}
				if err != nil {
					errs <- err
					return
				}
				done++
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	got, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("counters"), Key: ddbItem{"pk": ddbS("c")}})
	if err != nil || got.Item["n"].(*ddbtypes.AttributeValueMemberN).Value != strconv.Itoa(clients*each) {
		t.Fatalf("counter = %v, %v; want %d", got.Item["n"], err, clients*each)
	}
}
