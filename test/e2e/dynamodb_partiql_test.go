package e2e

import (
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// TestDynamoDBPartiQL runs PartiQL statements: inserts, selects by key and by scan with
// parameters and pages, updates and deletes with conditions, batches and transactions.
func TestDynamoDBPartiQL(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{})
	c := srv.Clients().DynamoDB
	ctx := t.Context()
	createDDBTable(t, c, "pqt", true)
	exec := func(stmt string, params ...ddbtypes.AttributeValue) (*dynamodb.ExecuteStatementOutput, error) {
		return c.ExecuteStatement(ctx, &dynamodb.ExecuteStatementInput{Statement: aws.String(stmt), Parameters: params})
	}
	for _, s := range []string{
		`INSERT INTO "pqt" VALUE {'pk': 'a', 'sk': 1, 'n': 10, 'tags': <<'x'>>}`,
		`INSERT INTO "pqt" VALUE {'pk': 'a', 'sk': 2, 'n': 20}`,
		`INSERT INTO pqt VALUE {'pk': 'b', 'sk': 1, 'n': 30, 'doc': {'l': [1, 2]}}`,
	} {
		if _, err := exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	_, err := exec(`INSERT INTO "pqt" VALUE {'pk': 'a', 'sk': 1}`)
	expectDDBError(t, err, "DuplicateItemException", "Duplicate primary key exists in table")

	out, err := exec(`SELECT n, sk FROM "pqt" WHERE pk = ? AND sk >= ?`, ddbS("a"), ddbN("2"))
	if err != nil || len(out.Items) != 1 || len(out.Items[0]) != 2 || out.Items[0]["n"].(*ddbtypes.AttributeValueMemberN).Value != "20" {
		t.Fatalf("SELECT by key = %+v, %v", out, err)
	}
	// A nested path is returned under its last name, by a key read and by a scan.
	for _, stmt := range []string{`SELECT doc.l FROM "pqt" WHERE pk = 'b' AND sk = 1`, `SELECT doc.l FROM "pqt" WHERE n = 30`} {
		out, err = exec(stmt)
		if err != nil || len(out.Items) != 1 || len(out.Items[0]) != 1 {
			t.Fatalf("%s = %+v, %v", stmt, out, err)
		}
		if l, ok := out.Items[0]["l"].(*ddbtypes.AttributeValueMemberL); !ok || len(l.Value) != 2 {
			t.Fatalf("%s = %#v", stmt, out.Items[0])
		}
	}
	// A scan in pages of one.
	var seen int
	var next *string
	for {
		page, err := c.ExecuteStatement(ctx, &dynamodb.ExecuteStatementInput{Statement: aws.String(`SELECT * FROM "pqt" WHERE n > 5`), Limit: aws.Int32(1), NextToken: next})
		if err != nil {
			t.Fatal(err)
		}
		seen += len(page.Items)
		if page.NextToken == nil {
			break
		}
		next = page.NextToken
	}
	if seen != 3 {
		t.Fatalf("paged SELECT saw %d items", seen)
	}

	up, err := c.ExecuteStatement(ctx, &dynamodb.ExecuteStatementInput{
		Statement: aws.String(`UPDATE "pqt" SET n = n + 1 SET tags = set_add(tags, <<'y'>>) REMOVE nothing WHERE pk = 'a' AND sk = 1 AND n = 10 RETURNING ALL NEW *`)})
	if err != nil || len(up.Items) != 1 || up.Items[0]["n"].(*ddbtypes.AttributeValueMemberN).Value != "11" ||
		len(up.Items[0]["tags"].(*ddbtypes.AttributeValueMemberSS).Value) != 2 {
		t.Fatalf("UPDATE = %+v, %v", up, err)
	}
	_, err = exec(`UPDATE "pqt" SET n = 0 WHERE pk = 'a' AND sk = 1 AND n = 10`)
	expectDDBError(t, err, "ConditionalCheckFailedException", "The conditional request failed")
	_, err = exec(`UPDATE "pqt" SET n = 0 WHERE pk = 'zz' AND sk = 1`)
	expectDDBError(t, err, "ConditionalCheckFailedException", "")
	_, err = exec(`UPDATE "pqt" SET n = 0 WHERE pk = 'a'`)
	expectDDBError(t, err, "ValidationException", "Where clause does not contain a mandatory equality on all key attributes")
	_, err = exec(`SELECT * FROM "pqt" WHERE pk = ?`)
	expectDDBError(t, err, "ValidationException", "Number of parameters in request and statement don't match.")
	_, err = exec(`SELEKT * FROM "pqt"`)
	expectDDBError(t, err, "ValidationException", "")
	_, err = exec(`SELECT * FROM "missing"`)
	expectDDBError(t, err, "ResourceNotFoundException", "")
	if _, err := exec(`DELETE FROM "pqt" WHERE pk = 'b' AND sk = 1`); err != nil {
		t.Fatal(err)
	}

	batch, err := c.BatchExecuteStatement(ctx, &dynamodb.BatchExecuteStatementInput{Statements: []ddbtypes.BatchStatementRequest{
		{Statement: aws.String(`SELECT * FROM "pqt" WHERE pk = 'a' AND sk = 2`)},
		{Statement: aws.String(`SELECT * FROM "pqt" WHERE pk = 'b' AND sk = 1`)},
		{Statement: aws.String(`SELECT * FROM "pqt" WHERE pk = 'a'`)},
	}})
	if err != nil || batch.Responses[0].Item == nil || batch.Responses[1].Item != nil || batch.Responses[2].Error == nil ||
		batch.Responses[2].Error.Code != ddbtypes.BatchStatementErrorCodeEnumValidationError {
		t.Fatalf("BatchExecuteStatement = %+v, %v", batch, err)
	}

	_, err = c.ExecuteTransaction(ctx, &dynamodb.ExecuteTransactionInput{TransactStatements: []ddbtypes.ParameterizedStatement{
		{Statement: aws.String(`INSERT INTO "pqt" VALUE {'pk': 'c', 'sk': 1}`)},
		{Statement: aws.String(`UPDATE "pqt" SET n = 99 WHERE pk = 'a' AND sk = 2 AND n = 0`)},
	}})
	var tce *ddbtypes.TransactionCanceledException
	if !errors.As(err, &tce) || aws.ToString(tce.CancellationReasons[1].Code) != "ConditionalCheckFailed" {
		t.Fatalf("ExecuteTransaction with a failing condition = %v", err)
	}
	if out, _ := exec(`SELECT * FROM "pqt" WHERE pk = 'c'`); len(out.Items) != 0 {
		t.Fatal("a cancelled transaction inserted an item")
	}
	if _, err := c.ExecuteTransaction(ctx, &dynamodb.ExecuteTransactionInput{TransactStatements: []ddbtypes.ParameterizedStatement{
		{Statement: aws.String(`INSERT INTO "pqt" VALUE {'pk': 'c', 'sk': 1}`)},
		{Statement: aws.String(`UPDATE "pqt" SET n = ? WHERE pk = 'a' AND sk = 2`), Parameters: []ddbtypes.AttributeValue{ddbN("99")}},
	}}); err != nil {
		t.Fatal(err)
	}
	got, err := c.ExecuteTransaction(ctx, &dynamodb.ExecuteTransactionInput{TransactStatements: []ddbtypes.ParameterizedStatement{
		{Statement: aws.String(`SELECT n FROM "pqt" WHERE pk = 'a' AND sk = 2`)},
		{Statement: aws.String(`SELECT * FROM "pqt" WHERE pk = 'c' AND sk = 1`)},
	}})
	if err != nil || got.Responses[0].Item["n"].(*ddbtypes.AttributeValueMemberN).Value != "99" || got.Responses[1].Item == nil {
		t.Fatalf("read transaction = %+v, %v", got, err)
	}
}
