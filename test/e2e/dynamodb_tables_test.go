package e2e

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// ddbS, ddbN build attribute values.
func ddbS(s string) ddbtypes.AttributeValue { return &ddbtypes.AttributeValueMemberS{Value: s} }
func ddbN(n string) ddbtypes.AttributeValue { return &ddbtypes.AttributeValueMemberN{Value: n} }

// createDDBTable creates a table keyed pk (S) and, when sk is set, sk (N), on demand.
func createDDBTable(t *testing.T, c *dynamodb.Client, name string, sk bool, mod ...func(*dynamodb.CreateTableInput)) {
	t.Helper()
	in := &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		BillingMode:          ddbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash}},
	}
	if sk {
		in.AttributeDefinitions = append(in.AttributeDefinitions, ddbtypes.AttributeDefinition{AttributeName: aws.String("sk"), AttributeType: ddbtypes.ScalarAttributeTypeN})
		in.KeySchema = append(in.KeySchema, ddbtypes.KeySchemaElement{AttributeName: aws.String("sk"), KeyType: ddbtypes.KeyTypeRange})
	}
	for _, m := range mod {
		m(in)
	}
	if _, err := c.CreateTable(t.Context(), in); err != nil {
		t.Fatalf("CreateTable %s: %v", name, err)
	}
}

// expectDDBError checks err is the API error code with exactly message.
func expectDDBError(t *testing.T, err error, code, message string) {
	t.Helper()
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("got %v, want %s", err, code)
	}
	if apiErr.ErrorCode() != code || (message != "" && apiErr.ErrorMessage() != message) {
		t.Fatalf("got %s: %q, want %s: %q", apiErr.ErrorCode(), apiErr.ErrorMessage(), code, message)
	}
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) && re.HTTPStatusCode() != http.StatusBadRequest {
		t.Fatalf("HTTP status %d, want 400", re.HTTPStatusCode())
	}
}

// TestDynamoDBTables creates, describes, lists, updates and deletes tables, with the
// validation DynamoDB applies to key schemas, billing modes and indexes.
func TestDynamoDBTables(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{})
	c := srv.Clients().DynamoDB
	ctx := t.Context()

	out, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName: aws.String("orders"),
		AttributeDefinitions: []ddbtypes.AttributeDefinition{
			{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS},
			{AttributeName: aws.String("sk"), AttributeType: ddbtypes.ScalarAttributeTypeN},
			{AttributeName: aws.String("status"), AttributeType: ddbtypes.ScalarAttributeTypeS},
			{AttributeName: aws.String("lsk"), AttributeType: ddbtypes.ScalarAttributeTypeS},
		},
		KeySchema: []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash},
			{AttributeName: aws.String("sk"), KeyType: ddbtypes.KeyTypeRange}},
		ProvisionedThroughput: &ddbtypes.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(5), WriteCapacityUnits: aws.Int64(7)},
		GlobalSecondaryIndexes: []ddbtypes.GlobalSecondaryIndex{{IndexName: aws.String("by-status"),
			KeySchema:             []ddbtypes.KeySchemaElement{{AttributeName: aws.String("status"), KeyType: ddbtypes.KeyTypeHash}},
			Projection:            &ddbtypes.Projection{ProjectionType: ddbtypes.ProjectionTypeKeysOnly},
			ProvisionedThroughput: &ddbtypes.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(1), WriteCapacityUnits: aws.Int64(1)}}},
		LocalSecondaryIndexes: []ddbtypes.LocalSecondaryIndex{{IndexName: aws.String("by-lsk"),
			KeySchema: []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash},
				{AttributeName: aws.String("lsk"), KeyType: ddbtypes.KeyTypeRange}},
			Projection: &ddbtypes.Projection{ProjectionType: ddbtypes.ProjectionTypeAll}}},
		Tags: []ddbtypes.Tag{{Key: aws.String("team"), Value: aws.String("a")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	d := out.TableDescription
	if d.TableStatus != ddbtypes.TableStatusCreating || aws.ToString(d.TableArn) != "arn:aws:dynamodb:us-east-1:000000000000:table/orders" ||
		aws.ToInt64(d.ProvisionedThroughput.WriteCapacityUnits) != 7 || len(d.GlobalSecondaryIndexes) != 1 || len(d.LocalSecondaryIndexes) != 1 {
		t.Fatalf("CreateTable = %+v", d)
	}
	w := dynamodb.NewTableExistsWaiter(c, func(o *dynamodb.TableExistsWaiterOptions) { o.MinDelay = 10 * time.Millisecond })
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("orders")}, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	desc, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("orders")})
	if err != nil || desc.Table.TableStatus != ddbtypes.TableStatusActive || desc.Table.GlobalSecondaryIndexes[0].IndexStatus != ddbtypes.IndexStatusActive {
		t.Fatalf("DescribeTable = %+v, %v", desc, err)
	}
	_, err = c.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String("orders"), BillingMode: ddbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash}}})
	expectDDBError(t, err, "ResourceInUseException", "Table already exists: orders")

	t.Run("validation", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			in   dynamodb.CreateTableInput
			msg  string
		}{
			{"undefined key attribute", dynamodb.CreateTableInput{BillingMode: ddbtypes.BillingModePayPerRequest,
				AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("x"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
				KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash}}},
				"One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [pk], AttributeDefinitions: [x]"},
			{"extra definition", dynamodb.CreateTableInput{BillingMode: ddbtypes.BillingModePayPerRequest,
				AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS},
					{AttributeName: aws.String("x"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
				KeySchema: []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash}}},
				"One or more parameter values were invalid: Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions"},
			{"range first", dynamodb.CreateTableInput{BillingMode: ddbtypes.BillingModePayPerRequest,
				AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
				KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeRange}}},
				"Invalid KeySchema: The first KeySchemaElement is not a HASH key type"},
			{"provisioned without throughput", dynamodb.CreateTableInput{
				AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
				KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash}}},
				"One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED"},
		} {
			in := tc.in
			in.TableName = aws.String("bad-" + strings.ReplaceAll(tc.name, " ", "-"))
			_, err := c.CreateTable(ctx, &in)
			expectDDBError(t, err, "ValidationException", tc.msg)
		}
	})

	for i := range 5 {
		createDDBTable(t, c, fmt.Sprintf("list-%d", i), false)
	}
	var names []string
	var start *string
	for {
		page, err := c.ListTables(ctx, &dynamodb.ListTablesInput{Limit: aws.Int32(2), ExclusiveStartTableName: start})
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, page.TableNames...)
		if page.LastEvaluatedTableName == nil {
			break
		}
		start = page.LastEvaluatedTableName
	}
	if strings.Join(names, ",") != "list-0,list-1,list-2,list-3,list-4,orders" {
		t.Fatalf("ListTables pages = %v", names)
	}

	// Tags, TTL, deletion protection, billing changes.
	arn := desc.Table.TableArn
	if _, err := c.TagResource(ctx, &dynamodb.TagResourceInput{ResourceArn: arn, Tags: []ddbtypes.Tag{{Key: aws.String("env"), Value: aws.String("dev")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UntagResource(ctx, &dynamodb.UntagResourceInput{ResourceArn: arn, TagKeys: []string{"team"}}); err != nil {
		t.Fatal(err)
	}
	tags, err := c.ListTagsOfResource(ctx, &dynamodb.ListTagsOfResourceInput{ResourceArn: arn})
	if err != nil || len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "env" {
		t.Fatalf("ListTagsOfResource = %+v, %v", tags, err)
	}
	if _, err := c.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: aws.String("orders"),
		TimeToLiveSpecification: &ddbtypes.TimeToLiveSpecification{AttributeName: aws.String("exp"), Enabled: aws.Bool(true)}}); err != nil {
		t.Fatal(err)
	}
	ttl, err := c.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String("orders")})
	if err != nil || ttl.TimeToLiveDescription.TimeToLiveStatus != ddbtypes.TimeToLiveStatusEnabled || aws.ToString(ttl.TimeToLiveDescription.AttributeName) != "exp" {
		t.Fatalf("DescribeTimeToLive = %+v, %v", ttl, err)
	}
	_, err = c.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: aws.String("orders"),
		TimeToLiveSpecification: &ddbtypes.TimeToLiveSpecification{AttributeName: aws.String("exp"), Enabled: aws.Bool(true)}})
	expectDDBError(t, err, "ValidationException", "TimeToLive is already enabled")
	if _, err := c.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("orders"), DeletionProtectionEnabled: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String("orders")})
	expectDDBError(t, err, "ResourceInUseException", "")
	up, err := c.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("orders"), DeletionProtectionEnabled: aws.Bool(false),
		BillingMode: ddbtypes.BillingModePayPerRequest})
	if err != nil || up.TableDescription.BillingModeSummary.BillingMode != ddbtypes.BillingModePayPerRequest {
		t.Fatalf("UpdateTable = %+v, %v", up, err)
	}
	del, err := c.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String("orders")})
	if err != nil || del.TableDescription.TableStatus != ddbtypes.TableStatusDeleting {
		t.Fatalf("DeleteTable = %+v, %v", del, err)
	}
	_, err = c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("orders")})
	expectDDBError(t, err, "ResourceNotFoundException", "Requested resource not found: Table: orders not found")
	_, err = c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("orders"), Key: map[string]ddbtypes.AttributeValue{"pk": ddbS("a")}})
	expectDDBError(t, err, "ResourceNotFoundException", "Requested resource not found")

	limits, err := c.DescribeLimits(ctx, &dynamodb.DescribeLimitsInput{})
	if err != nil || aws.ToInt64(limits.TableMaxReadCapacityUnits) == 0 {
		t.Fatalf("DescribeLimits = %+v, %v", limits, err)
	}
	if _, err := c.DescribeEndpoints(ctx, &dynamodb.DescribeEndpointsInput{}); err != nil {
		t.Fatal(err)
	}
}

// TestDynamoDBGlobalIndexBackfill adds a global secondary index to a table that holds items:
// it is CREATING until the backfill has indexed them, then ACTIVE and queryable; removing it
// drops it from the description.
func TestDynamoDBGlobalIndexBackfill(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{})
	c := srv.Clients().DynamoDB
	ctx := t.Context()
	createDDBTable(t, c, "users", false)
	for i := range 30 {
		putDDB(t, c, "users", map[string]ddbtypes.AttributeValue{"pk": ddbS(fmt.Sprint("u", i)), "team": ddbS(fmt.Sprint("t", i%3))})
	}
	up, err := c.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("users"),
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("team"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		GlobalSecondaryIndexUpdates: []ddbtypes.GlobalSecondaryIndexUpdate{{Create: &ddbtypes.CreateGlobalSecondaryIndexAction{
			IndexName: aws.String("by-team"), KeySchema: []ddbtypes.KeySchemaElement{{AttributeName: aws.String("team"), KeyType: ddbtypes.KeyTypeHash}},
			Projection: &ddbtypes.Projection{ProjectionType: ddbtypes.ProjectionTypeAll}}}}})
	if err != nil {
		t.Fatal(err)
	}
	if s := up.TableDescription.GlobalSecondaryIndexes[0].IndexStatus; s != ddbtypes.IndexStatusCreating {
		t.Fatalf("index status after UpdateTable = %s, want CREATING", s)
	}
	waitFor(t, 10*time.Second, func() bool {
		d, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("users")})
		return err == nil && d.Table.GlobalSecondaryIndexes[0].IndexStatus == ddbtypes.IndexStatusActive && d.Table.TableStatus == ddbtypes.TableStatusActive
	})
	q, err := c.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("users"), IndexName: aws.String("by-team"),
		KeyConditionExpression: aws.String("team = :t"), ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":t": ddbS("t1")}})
	if err != nil || q.Count != 10 {
		t.Fatalf("Query by-team = %+v, %v", q, err)
	}
	if _, err := c.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("users"),
		GlobalSecondaryIndexUpdates: []ddbtypes.GlobalSecondaryIndexUpdate{{Delete: &ddbtypes.DeleteGlobalSecondaryIndexAction{IndexName: aws.String("by-team")}}}}); err != nil {
		t.Fatal(err)
	}
	d, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("users")})
	if err != nil || len(d.Table.GlobalSecondaryIndexes) != 0 || len(d.Table.AttributeDefinitions) != 1 {
		t.Fatalf("DescribeTable after index removal = %+v, %v", d, err)
	}
}

func putDDB(t *testing.T, c *dynamodb.Client, table string, item map[string]ddbtypes.AttributeValue) {
	t.Helper()
	if _, err := c.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: aws.String(table), Item: item}); err != nil {
		t.Fatalf("PutItem: %v", err)
	}
}

// waitFor polls cond until it holds or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatal("condition not met in time")
		case <-time.After(20 * time.Millisecond):
		}
	}
}
