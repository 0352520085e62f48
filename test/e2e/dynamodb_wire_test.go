package e2e

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// TestDynamoDBTableNameValidation: a TableName that is not an ARN is held to DynamoDB's table
// name constraints (3 to 255 characters of [a-zA-Z0-9_.-]) before anything else, by every
// operation, with DynamoDB's messages.
func TestDynamoDBTableNameValidation(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{})
	c := srv.Clients().DynamoDB
	ctx := t.Context()
	long := strings.Repeat("a", 256)
	tests := []struct {
		name, table, message string
	}{
		{"too short", "ab", "1 validation error detected: Value 'ab' at 'tableName' failed to satisfy constraint: Member must have length greater than or equal to 3"},
		{"too long", long, "1 validation error detected: Value '" + long + "' at 'tableName' failed to satisfy constraint: Member must have length less than or equal to 255"},
		{"bad characters", "bad table!@#", "1 validation error detected: Value 'bad table!@#' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"},
		{"empty", "", "1 validation error detected: Value '' at 'tableName' failed to satisfy constraint: Member must have length greater than or equal to 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(tc.table), Item: map[string]ddbtypes.AttributeValue{"pk": ddbS("a")}})
			expectDDBError(t, err, "ValidationException", tc.message)
			_, err = c.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String(tc.table), BillingMode: ddbtypes.BillingModePayPerRequest,
				AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
				KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash}}})
			expectDDBError(t, err, "ValidationException", tc.message)
		})
	}
	// A table ARN is still a TableName.
	createDDBTable(t, c, "arn-named", false)
	arn := "arn:aws:dynamodb:us-east-1:000000000000:table/arn-named"
	if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(arn), Item: map[string]ddbtypes.AttributeValue{"pk": ddbS("a")}}); err != nil {
		t.Fatalf("PutItem by ARN: %v", err)
	}
}

// TestDynamoDBItemCollectionMetrics: ReturnItemCollectionMetrics SIZE answers the item
// collection's key and size estimate on a table with a local secondary index, and nothing on
// one without.
func TestDynamoDBItemCollectionMetrics(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{})
	c := srv.Clients().DynamoDB
	ctx := t.Context()
	createDDBTable(t, c, "with-lsi", true, func(in *dynamodb.CreateTableInput) {
		in.AttributeDefinitions = append(in.AttributeDefinitions, ddbtypes.AttributeDefinition{AttributeName: aws.String("l"), AttributeType: ddbtypes.ScalarAttributeTypeS})
		in.LocalSecondaryIndexes = []ddbtypes.LocalSecondaryIndex{{IndexName: aws.String("by-l"),
			KeySchema:  []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash}, {AttributeName: aws.String("l"), KeyType: ddbtypes.KeyTypeRange}},
			Projection: &ddbtypes.Projection{ProjectionType: ddbtypes.ProjectionTypeAll}}}
	})
	createDDBTable(t, c, "without-lsi", true)
	item := map[string]ddbtypes.AttributeValue{"pk": ddbS("p"), "sk": ddbN("1"), "l": ddbS("x")}
	key := map[string]ddbtypes.AttributeValue{"pk": ddbS("p"), "sk": ddbN("1")}
	check := func(op string, m *ddbtypes.ItemCollectionMetrics) {
		t.Helper()
		if m == nil {
			t.Fatalf("%s: no ItemCollectionMetrics", op)
		}
		if pk, ok := m.ItemCollectionKey["pk"].(*ddbtypes.AttributeValueMemberS); !ok || pk.Value != "p" || len(m.ItemCollectionKey) != 1 {
			t.Fatalf("%s: ItemCollectionKey %#v", op, m.ItemCollectionKey)
		}
		if len(m.SizeEstimateRangeGB) != 2 || m.SizeEstimateRangeGB[0] != 0 || m.SizeEstimateRangeGB[1] != 1 {
			t.Fatalf("%s: SizeEstimateRangeGB %v", op, m.SizeEstimateRangeGB)
		}
	}
	put, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("with-lsi"), Item: item, ReturnItemCollectionMetrics: ddbtypes.ReturnItemCollectionMetricsSize})
	if err != nil {
		t.Fatal(err)
	}
	check("PutItem", put.ItemCollectionMetrics)
	upd, err := c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("with-lsi"), Key: key, UpdateExpression: aws.String("SET d = :d"),
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":d": ddbS("v")}, ReturnItemCollectionMetrics: ddbtypes.ReturnItemCollectionMetricsSize})
	if err != nil {
		t.Fatal(err)
	}
	check("UpdateItem", upd.ItemCollectionMetrics)
	del, err := c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("with-lsi"), Key: key, ReturnItemCollectionMetrics: ddbtypes.ReturnItemCollectionMetricsSize})
	if err != nil {
		t.Fatal(err)
	}
	check("DeleteItem", del.ItemCollectionMetrics)
	none, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("without-lsi"), Item: item, ReturnItemCollectionMetrics: ddbtypes.ReturnItemCollectionMetricsSize})
	if err != nil {
		t.Fatal(err)
	}
	if none.ItemCollectionMetrics != nil {
		t.Fatalf("a table without a local index: ItemCollectionMetrics %+v", none.ItemCollectionMetrics)
	}
}

// rawDDBCall sends one DynamoDB call as JSON, as a client that validates nothing would, and
// returns the error's "__type" and message.
func rawDDBCall(t *testing.T, url, op, body string) (typ, message string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, url+"/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810."+op)
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20250101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=abc")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
		t.Fatal(err)
	}
	return e.Type, e.Message
}

// TestDynamoDBErrorTypeOnTheWire: errors carry "__type" as DynamoDB's servers send it, a
// modeled error in the service's namespace and the others in Coral's, which every SDK parses
// (the SDK tests above check the codes they read).
func TestDynamoDBErrorTypeOnTheWire(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{})
	tests := []struct{ op, body, want string }{
		{"DescribeTable", `{"TableName":"missing"}`, "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException"},
		{"DescribeTable", `{}`, "com.amazon.coral.validate#ValidationException"},
		{"NoSuchOperation", `{}`, "com.amazon.coral.service#UnknownOperationException"},
	}
	for _, tc := range tests {
		if got, _ := rawDDBCall(t, srv.URL, tc.op, tc.body); got != tc.want {
			t.Errorf("%s %s: __type %q, want %q", tc.op, tc.body, got, tc.want)
		}
	}
}

// TestDynamoDBFrontEndValidationMessages: parameters DynamoDB's front end checks itself are
// refused with its words, not the generic constraint's.
func TestDynamoDBFrontEndValidationMessages(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{})
	c := srv.Clients().DynamoDB
	ctx := t.Context()
	createDDBTable(t, c, "msgs", false)
	// The SDK itself refuses a CreateTable without TableName.
	if _, msg := rawDDBCall(t, srv.URL, "CreateTable", `{"AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST"}`); msg != "The parameter 'TableName' is required but was not present in the request" {
		t.Errorf("CreateTable without TableName: %q", msg)
	}
	_, err := c.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]ddbtypes.KeysAndAttributes{}})
	expectDDBError(t, err, "ValidationException", "The requestItems parameter is required for BatchGetItem")
	_, err = c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]ddbtypes.WriteRequest{}})
	expectDDBError(t, err, "ValidationException", "The requestItems parameter is required for BatchWriteItem")
	keys := make([]map[string]ddbtypes.AttributeValue, 101)
	for i := range keys {
		keys[i] = map[string]ddbtypes.AttributeValue{"pk": ddbS(strconv.Itoa(i))}
	}
	_, err = c.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]ddbtypes.KeysAndAttributes{"msgs": {Keys: keys}}})
	expectDDBError(t, err, "ValidationException", "1 validation error detected: Value at 'RequestItems.msgs.member.Keys' failed to satisfy constraint: Member must have length less than or equal to 100")
	writes := make([]ddbtypes.WriteRequest, 26)
	for i := range writes {
		writes[i] = ddbtypes.WriteRequest{PutRequest: &ddbtypes.PutRequest{Item: map[string]ddbtypes.AttributeValue{"pk": ddbS(strconv.Itoa(i))}}}
	}
	_, err = c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]ddbtypes.WriteRequest{"msgs.v2": writes}})
	expectDDBError(t, err, "ValidationException", "1 validation error detected: Value '{msgs.v2=[26 items]}' at 'requestItems' failed to satisfy constraint: "+
		"Map value must satisfy constraint: [Member must have length less than or equal to 25, Member must have length greater than or equal to 1]")
	_, err = c.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String("three-keys"), BillingMode: ddbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema: []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash},
			{AttributeName: aws.String("sk"), KeyType: ddbtypes.KeyTypeRange}, {AttributeName: aws.String("x"), KeyType: ddbtypes.KeyTypeRange}}})
	expectDDBError(t, err, "ValidationException", "1 validation error detected: Value '[KeySchemaElement(attributeName=pk, keyType=HASH), "+
		"KeySchemaElement(attributeName=sk, keyType=RANGE), KeySchemaElement(attributeName=x, keyType=RANGE)]' at 'keySchema' failed to satisfy constraint: Member must have length less than or equal to 2")
	_, err = c.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("msgs"), Limit: aws.Int32(0),
		KeyConditionExpression: aws.String("pk = :p"), ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":p": ddbS("a")}})
	expectDDBError(t, err, "ValidationException", "1 validation error detected: Value at 'Limit' failed to satisfy constraint: Member must have value greater than or equal to 1")
	_, err = c.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("msgs"), Limit: aws.Int32(0)})
	expectDDBError(t, err, "ValidationException", "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1")
	_, err = c.TransactGetItems(ctx, &dynamodb.TransactGetItemsInput{TransactItems: []ddbtypes.TransactGetItem{}})
	expectDDBError(t, err, "ValidationException", "1 validation error detected: Value '[]' at 'transactItems' failed to satisfy constraint: Member must have length greater than or equal to 1")
	_, err = c.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("msgs"), Select: "NOPE",
		KeyConditionExpression: aws.String("pk = :p"), ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":p": ddbS("a")}})
	expectDDBError(t, err, "ValidationException", "1 validation error detected: Value 'NOPE' at 'select' failed to satisfy constraint: Member must satisfy enum value set: [SPECIFIC_ATTRIBUTES, COUNT, ALL_ATTRIBUTES, ALL_PROJECTED_ATTRIBUTES]")
	_, err = c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("msgs"), Item: map[string]ddbtypes.AttributeValue{"pk": ddbS("a"),
		"s": &ddbtypes.AttributeValueMemberSS{Value: []string{"a", "a"}}}})
	expectDDBError(t, err, "ValidationException", "One or more parameter values were invalid: Input collection [a, a] contains duplicates.")
}

// TestDynamoDBCreateTableCountsKeyDefinitionsFirst: a key schema of more attributes than are
// defined is refused for that before its element names are compared.
func TestDynamoDBCreateTableCountsKeyDefinitionsFirst(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{})
	c := srv.Clients().DynamoDB
	in := func(defs ...string) *dynamodb.CreateTableInput {
		in := &dynamodb.CreateTableInput{TableName: aws.String("dup-key"), BillingMode: ddbtypes.BillingModePayPerRequest,
			KeySchema: []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash}, {AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeRange}}}
		for _, d := range defs {
			in.AttributeDefinitions = append(in.AttributeDefinitions, ddbtypes.AttributeDefinition{AttributeName: aws.String(d), AttributeType: ddbtypes.ScalarAttributeTypeS})
		}
		return in
	}
	_, err := c.CreateTable(t.Context(), in("pk"))
	expectDDBError(t, err, "ValidationException", "Invalid KeySchema: Some index key attribute have no definition")
	_, err = c.CreateTable(t.Context(), in("pk", "other"))
	expectDDBError(t, err, "ValidationException", "Both the Hash Key and the Range Key element in the KeySchema have the same name")
}

// TestDynamoDBValuesAreCheckedBeforeTheTable: a malformed key or item, or one over the item
// size limit, is refused as such whether or not its table exists, by the item operations and
// both batches.
func TestDynamoDBValuesAreCheckedBeforeTheTable(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{})
	c := srv.Clients().DynamoDB
	ctx := t.Context()
	const missing = "no-such-table"
	badKey := map[string]ddbtypes.AttributeValue{"pk": ddbN("not-a-number")}
	const badNumber = "The parameter cannot be converted to a numeric value: not-a-number"
	big := map[string]ddbtypes.AttributeValue{"pk": ddbS("a"), "blob": ddbS(strings.Repeat("x", 400*1024))}
	const tooBig = "Item size has exceeded the maximum allowed size"
	_, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(missing), Key: badKey})
	expectDDBError(t, err, "ValidationException", badNumber)
	_, err = c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(missing), Key: badKey})
	expectDDBError(t, err, "ValidationException", badNumber)
	_, err = c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(missing), Key: badKey})
	expectDDBError(t, err, "ValidationException", badNumber)
	_, err = c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(missing), Item: big})
	expectDDBError(t, err, "ValidationException", tooBig)
	_, err = c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]ddbtypes.WriteRequest{missing: {{PutRequest: &ddbtypes.PutRequest{Item: big}}}}})
	expectDDBError(t, err, "ValidationException", tooBig)
	_, err = c.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]ddbtypes.KeysAndAttributes{missing: {Keys: []map[string]ddbtypes.AttributeValue{badKey}}}})
	expectDDBError(t, err, "ValidationException", badNumber)
	// With well-formed values, the missing table is what is refused.
	_, err = c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(missing), Key: map[string]ddbtypes.AttributeValue{"pk": ddbS("a")}})
	expectDDBError(t, err, "ResourceNotFoundException", "Requested resource not found")
}

// TestDynamoDBTagOperationsOnMalformedARNs: a ResourceArn that is no table ARN, or a table ARN
// whose name is not a table name, is refused as an invalid ARN (DynamoDB checks the format
// before authorization decides).
func TestDynamoDBTagOperationsOnMalformedARNs(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{})
	c := srv.Clients().DynamoDB
	ctx := t.Context()
	for _, arn := range []string{"not-a-valid-arn", "a:b:c:d:e:f/g"} {
		_, err := c.ListTagsOfResource(ctx, &dynamodb.ListTagsOfResourceInput{ResourceArn: aws.String(arn)})
		expectDDBError(t, err, "ValidationException", "Invalid TableArn: Invalid ResourceArn provided as input "+arn)
	}
	short := "arn:aws:dynamodb:us-east-1:000000000000:table/ab"
	_, err := c.TagResource(ctx, &dynamodb.TagResourceInput{ResourceArn: aws.String(short), Tags: []ddbtypes.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
	expectDDBError(t, err, "ValidationException", "Invalid TableArn: Invalid ResourceArn provided as input "+short)
}

// TestDynamoDBScanValidationOrder: a Scan's legacy parameters and start key are checked before
// its segments, and its segments before its expressions, as DynamoDB does.
func TestDynamoDBScanValidationOrder(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{})
	tests := []struct{ body, want string }{
		{`{"TableName":"abc","Segment":1,"ScanFilter":{"a":{"ComparisonOperator":"EQ","AttributeValueList":[{}]}}}`,
			"Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"},
		{`{"TableName":"abc","Segment":1,"ExclusiveStartKey":{"a":{}}}`,
			"The provided starting key is invalid: Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"},
		{`{"TableName":"abc","Segment":1,"ExclusiveStartKey":{"a":{"NS":[]}}}`,
			"One or more parameter values were invalid: An number set  may not be empty"},
		{`{"TableName":"abc","Segment":1,"FilterExpression":"("}`,
			"The TotalSegments parameter is required but was not present in the request when Segment parameter is present"},
	}
	for _, tc := range tests {
		if _, msg := rawDDBCall(t, srv.URL, "Scan", tc.body); msg != tc.want {
			t.Errorf("Scan %s: %q, want %q", tc.body, msg, tc.want)
		}
	}
}

// TestDynamoDBTableRequestsAreCheckedBeforeTheTable: capacity bounds and malformed index
// updates are refused before the table is looked up (or its key schema counted).
func TestDynamoDBTableRequestsAreCheckedBeforeTheTable(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{})
	tests := []struct{ op, body, want string }{
		{"CreateTable", `{"TableName":"abc","AttributeDefinitions":[],"KeySchema":[{"KeyType":"HASH","AttributeName":"a"}],"ProvisionedThroughput":{"ReadCapacityUnits":1000000000001,"WriteCapacityUnits":1}}`,
			"Given value 1000000000001 for ReadCapacityUnits is out of bounds"},
		{"UpdateTable", `{"TableName":"missing","ProvisionedThroughput":{"ReadCapacityUnits":1000000000000,"WriteCapacityUnits":1000000000001}}`,
			"Given value 1000000000001 for WriteCapacityUnits is out of bounds"},
		{"UpdateTable", `{"TableName":"missing","GlobalSecondaryIndexUpdates":[]}`,
			"At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required"},
		{"UpdateTable", `{"TableName":"missing","GlobalSecondaryIndexUpdates":[{}]}`,
			"One or more parameter values were invalid: One of GlobalSecondaryIndexUpdate.Update, GlobalSecondaryIndexUpdate.Create, GlobalSecondaryIndexUpdate.Delete must not be null"},
		{"UpdateTable", `{"TableName":"missing","GlobalSecondaryIndexUpdates":[{"Delete":{"IndexName":"abc"}},{"Delete":{"IndexName":"abc"}}]}`,
			"One or more parameter values were invalid: Only one global secondary index update per index is allowed simultaneously. Index: abc"},
	}
	for _, tc := range tests {
		if typ, msg := rawDDBCall(t, srv.URL, tc.op, tc.body); msg != tc.want || typ != "com.amazon.coral.validate#ValidationException" {
			t.Errorf("%s %s: %s %q, want %q", tc.op, tc.body, typ, msg, tc.want)
		}
	}
}
