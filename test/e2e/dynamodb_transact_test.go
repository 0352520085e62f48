package e2e

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// TestDynamoDBTransactions writes all or nothing, reports cancellation reasons per action in
// request order, repeats a client request token as a no-op, and reads items together.
func TestDynamoDBTransactions(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{})
	c := srv.Clients().DynamoDB
	ctx := t.Context()
	createDDBTable(t, c, "accounts", false)
	putDDB(t, c, "accounts", ddbItem{"pk": ddbS("alice"), "balance": ddbN("100")})
	putDDB(t, c, "accounts", ddbItem{"pk": ddbS("bob"), "balance": ddbN("0")})
	tbl := aws.String("accounts")
	transfer := func(amount string, token *string) error {
		_, err := c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{ClientRequestToken: token, TransactItems: []ddbtypes.TransactWriteItem{
			{Update: &ddbtypes.Update{TableName: tbl, Key: ddbItem{"pk": ddbS("alice")}, UpdateExpression: aws.String("SET balance = balance - :a"),
				ConditionExpression: aws.String("balance >= :a"), ExpressionAttributeValues: ddbItem{":a": ddbN(amount)}}},
			{Update: &ddbtypes.Update{TableName: tbl, Key: ddbItem{"pk": ddbS("bob")}, UpdateExpression: aws.String("SET balance = balance + :a"),
				ExpressionAttributeValues: ddbItem{":a": ddbN(amount)}}},
			{Put: &ddbtypes.Put{TableName: tbl, Item: ddbItem{"pk": ddbS("log-" + amount), "amount": ddbN(amount)},
				ConditionExpression: aws.String("attribute_not_exists(pk)")}},
		}})
		return err
	}
	balance := func(who string) string {
		got, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: tbl, Key: ddbItem{"pk": ddbS(who)}})
		if err != nil {
			t.Fatal(err)
		}
		return got.Item["balance"].(*ddbtypes.AttributeValueMemberN).Value
	}
	if err := transfer("30", aws.String("tok-1")); err != nil {
		t.Fatal(err)
	}
	// The same token and parameters again: success, nothing applied twice.
	if err := transfer("30", aws.String("tok-1")); err != nil {
		t.Fatal(err)
	}
	if balance("alice") != "70" || balance("bob") != "30" {
		t.Fatalf("after one transfer: alice %s, bob %s", balance("alice"), balance("bob"))
	}
	err := transfer("31", aws.String("tok-1"))
	expectDDBError(t, err, "IdempotentParameterMismatchException", "")

	err = transfer("500", nil)
	var tce *ddbtypes.TransactionCanceledException
	if !errors.As(err, &tce) {
		t.Fatalf("overdraft = %v, want TransactionCanceledException", err)
	}
	var codes []string
	for _, r := range tce.CancellationReasons {
		codes = append(codes, aws.ToString(r.Code))
	}
	if fmt.Sprint(codes) != "[ConditionalCheckFailed None None]" ||
		tce.ErrorMessage() != "Transaction cancelled, please refer cancellation reasons for specific reasons [ConditionalCheckFailed, None, None]" {
		t.Fatalf("reasons = %v, message %q", codes, tce.ErrorMessage())
	}
	if balance("alice") != "70" || balance("bob") != "30" {
		t.Fatal("a cancelled transaction changed balances")
	}
	_, err = c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []ddbtypes.TransactWriteItem{
		{ConditionCheck: &ddbtypes.ConditionCheck{TableName: tbl, Key: ddbItem{"pk": ddbS("bob")}, ConditionExpression: aws.String("balance > :z"),
			ExpressionAttributeValues: ddbItem{":z": ddbN("1000")}, ReturnValuesOnConditionCheckFailure: ddbtypes.ReturnValuesOnConditionCheckFailureAllOld}},
		{Delete: &ddbtypes.Delete{TableName: tbl, Key: ddbItem{"pk": ddbS("alice")}}},
	}})
	if !errors.As(err, &tce) || tce.CancellationReasons[0].Item["balance"] == nil || aws.ToString(tce.CancellationReasons[1].Code) != "None" {
		t.Fatalf("condition check failure = %v", err)
	}
	_, err = c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []ddbtypes.TransactWriteItem{
		{Delete: &ddbtypes.Delete{TableName: tbl, Key: ddbItem{"pk": ddbS("bob")}}},
		{Delete: &ddbtypes.Delete{TableName: tbl, Key: ddbItem{"pk": ddbS("bob")}}},
	}})
	expectDDBError(t, err, "ValidationException", "Transaction request cannot include multiple operations on one item")

	got, err := c.TransactGetItems(ctx, &dynamodb.TransactGetItemsInput{ReturnConsumedCapacity: ddbtypes.ReturnConsumedCapacityTotal, TransactItems: []ddbtypes.TransactGetItem{
		{Get: &ddbtypes.Get{TableName: tbl, Key: ddbItem{"pk": ddbS("alice")}}},
		{Get: &ddbtypes.Get{TableName: tbl, Key: ddbItem{"pk": ddbS("nobody")}}},
		{Get: &ddbtypes.Get{TableName: tbl, Key: ddbItem{"pk": ddbS("log-30")}, ProjectionExpression: aws.String("amount")}},
	}})
	if err != nil || len(got.Responses) != 3 || got.Responses[1].Item != nil || len(got.Responses[2].Item) != 1 ||
		aws.ToFloat64(got.ConsumedCapacity[0].CapacityUnits) != 6 {
		t.Fatalf("TransactGetItems = %+v, %v", got, err)
	}
	// A write transaction's items add up to 4 MB at most.
	var big []ddbtypes.TransactWriteItem
	for i := range 12 {
		big = append(big, ddbtypes.TransactWriteItem{Put: &ddbtypes.Put{TableName: tbl,
			Item: ddbItem{"pk": ddbS(fmt.Sprint("big-", i)), "blob": ddbS(strings.Repeat("x", 350_000))}}})
	}
	_, err = c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: big})
	expectDDBError(t, err, "ValidationException", "The aggregate size of the items in the transaction exceeds 4 MB")
	if _, err := c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: big[:10]}); err != nil {
		t.Fatalf("TransactWriteItems of 3.5 MB: %v", err)
	}
	// A key that does not fit the table cancels the transaction, with that action's reason.
	_, err = c.TransactGetItems(ctx, &dynamodb.TransactGetItemsInput{TransactItems: []ddbtypes.TransactGetItem{
		{Get: &ddbtypes.Get{TableName: tbl, Key: ddbItem{"pk": ddbS("alice")}}},
		{Get: &ddbtypes.Get{TableName: tbl, Key: ddbItem{}}},
	}})
	tce = nil
	if !errors.As(err, &tce) || aws.ToString(tce.Message) != "Transaction cancelled, please refer cancellation reasons for specific reasons [None, ValidationError]" ||
		len(tce.CancellationReasons) != 2 || aws.ToString(tce.CancellationReasons[1].Code) != "ValidationError" ||
		aws.ToString(tce.CancellationReasons[1].Message) != "The provided key element does not match the schema" {
		t.Fatalf("TransactGetItems with a bad key: %v", err)
	}
}

// TestDynamoDBBatches reads and writes in batches across tables, with the limits and
// duplicate checks DynamoDB applies.
func TestDynamoDBBatches(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{})
	c := srv.Clients().DynamoDB
	ctx := t.Context()
	createDDBTable(t, c, "bt1", false)
	createDDBTable(t, c, "bt2", true)
	var w1, w2 []ddbtypes.WriteRequest
	for i := range 12 {
		w1 = append(w1, ddbtypes.WriteRequest{PutRequest: &ddbtypes.PutRequest{Item: ddbItem{"pk": ddbS(fmt.Sprint("k", i))}}})
		w2 = append(w2, ddbtypes.WriteRequest{PutRequest: &ddbtypes.PutRequest{Item: ddbItem{"pk": ddbS("p"), "sk": ddbN(fmt.Sprint(i))}}})
	}
	out, err := c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]ddbtypes.WriteRequest{"bt1": w1, "bt2": w2},
		ReturnConsumedCapacity: ddbtypes.ReturnConsumedCapacityTotal})
	if err != nil || len(out.UnprocessedItems) != 0 || len(out.ConsumedCapacity) != 2 {
		t.Fatalf("BatchWriteItem = %+v, %v", out, err)
	}
	_, err = c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]ddbtypes.WriteRequest{"bt1": append(w1, w1[:14]...)}})
	expectDDBError(t, err, "ValidationException", "")
	_, err = c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]ddbtypes.WriteRequest{"bt1": {w1[0], w1[0]}}})
	expectDDBError(t, err, "ValidationException", "Provided list of item keys contains duplicates")
	_, err = c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]ddbtypes.WriteRequest{"nope": {w1[0]}}})
	expectDDBError(t, err, "ResourceNotFoundException", "Requested resource not found")

	get, err := c.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]ddbtypes.KeysAndAttributes{
		"bt1": {Keys: []ddbItem{{"pk": ddbS("k1")}, {"pk": ddbS("k2")}, {"pk": ddbS("missing")}}},
		"bt2": {Keys: []ddbItem{{"pk": ddbS("p"), "sk": ddbN("3")}}, ProjectionExpression: aws.String("sk")},
	}})
	if err != nil || len(get.Responses["bt1"]) != 2 || len(get.Responses["bt2"]) != 1 || len(get.Responses["bt2"][0]) != 1 {
		t.Fatalf("BatchGetItem = %+v, %v", get, err)
	}
	var keys []ddbItem
	for i := range 101 {
		keys = append(keys, ddbItem{"pk": ddbS(fmt.Sprint("k", i))})
	}
	_, err = c.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]ddbtypes.KeysAndAttributes{"bt1": {Keys: keys}}})
	expectDDBError(t, err, "ValidationException", "")
	_, err = c.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]ddbtypes.KeysAndAttributes{"bt1": {Keys: []ddbItem{keys[0], keys[0]}}}})
	expectDDBError(t, err, "ValidationException", "Provided list of item keys contains duplicates")
	del, err := c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]ddbtypes.WriteRequest{"bt1": {{DeleteRequest: &ddbtypes.DeleteRequest{Key: ddbItem{"pk": ddbS("k1")}}}}}})
	if err != nil || len(del.UnprocessedItems) != 0 {
		t.Fatalf("batch delete = %v", err)
	}
	scan, err := c.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("bt1"), Select: ddbtypes.SelectCount})
	if err != nil || scan.Count != 11 {
		t.Fatalf("count after batch delete = %v, %v", scan.Count, err)
	}
}
