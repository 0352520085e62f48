package e2e

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/kiri-run/kiri/internal/iam/authz"
	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// TestDynamoDBEnforcesIdentityPolicies runs in enforce mode: a user allowed GetItem on a table
// and Query on one of its indexes may do exactly that, and is refused the rest with IAM's
// message naming the table's or the index's ARN.
func TestDynamoDBEnforcesIdentityPolicies(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{Strict: true, IAM: authz.Enforce})
	owner := srv.Clients()
	ctx := t.Context()
	createDDBTable(t, owner.DynamoDB, "guarded", false, func(in *dynamodb.CreateTableInput) {
		in.AttributeDefinitions = append(in.AttributeDefinitions, ddbtypes.AttributeDefinition{AttributeName: aws.String("g"), AttributeType: ddbtypes.ScalarAttributeTypeS})
		in.GlobalSecondaryIndexes = []ddbtypes.GlobalSecondaryIndex{{IndexName: aws.String("by-g"),
			KeySchema:  []ddbtypes.KeySchemaElement{{AttributeName: aws.String("g"), KeyType: ddbtypes.KeyTypeHash}},
			Projection: &ddbtypes.Projection{ProjectionType: ddbtypes.ProjectionTypeAll}}}
	})
	putDDB(t, owner.DynamoDB, "guarded", ddbItem{"pk": ddbS("k"), "g": ddbS("x")})
	table := "arn:aws:dynamodb:us-east-1:" + kiritest.TestAccount + ":table/guarded"
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"dynamodb:GetItem","Resource":"` + table + `"},` +
		`{"Effect":"Allow","Action":"dynamodb:Query","Resource":"` + table + `/index/*"}]}`
	reader := userWithKey(t, srv, owner, "reader", doc).DynamoDB
	if _, err := reader.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("guarded"), Key: ddbItem{"pk": ddbS("k")}}); err != nil {
		t.Fatalf("allowed GetItem: %v", err)
	}
	q, err := reader.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("guarded"), IndexName: aws.String("by-g"),
		KeyConditionExpression: aws.String("g = :g"), ExpressionAttributeValues: ddbItem{":g": ddbS("x")}})
	if err != nil || q.Count != 1 {
		t.Fatalf("allowed index Query = %v, %v", q, err)
	}
	user := "arn:aws:iam::" + kiritest.TestAccount + ":user/reader"
	_, err = reader.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("guarded"),
		KeyConditionExpression: aws.String("pk = :k"), ExpressionAttributeValues: ddbItem{":k": ddbS("k")}})
	expectDDBError(t, err, "AccessDeniedException", "User: "+user+" is not authorized to perform: dynamodb:Query on resource: "+table+
		" because no identity-based policy allows the dynamodb:Query action")
	_, err = reader.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("guarded"), Item: ddbItem{"pk": ddbS("k2")}})
	expectDDBError(t, err, "AccessDeniedException", "User: "+user+" is not authorized to perform: dynamodb:PutItem on resource: "+table+
		" because no identity-based policy allows the dynamodb:PutItem action")
	_, err = reader.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []ddbtypes.TransactWriteItem{
		{Put: &ddbtypes.Put{TableName: aws.String("guarded"), Item: ddbItem{"pk": ddbS("k3")}}}}})
	expectDDBError(t, err, "AccessDeniedException", "")
	_, err = reader.ExecuteStatement(ctx, &dynamodb.ExecuteStatementInput{Statement: aws.String(`SELECT * FROM "guarded"`)})
	expectDDBError(t, err, "AccessDeniedException", "")
}
