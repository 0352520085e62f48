package awsproto_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/kiri-run/kiri/internal/awsproto"
	ddbapi "github.com/kiri-run/kiri/internal/awsproto/internal/testapi/dynamodbapi"
)

// TestErrorDetailEncodesExceptionMembers: an error's Detail, a value of its exception shape's
// type, puts the shape's members other than the message in the JSON body.
func TestErrorDetailEncodesExceptionMembers(t *testing.T) {
	s := mustService(t, "dynamodb", awsproto.ServiceOptions{})
	awsproto.Handle(s, "TransactWriteItems", func(ctx context.Context, in *ddbapi.TransactWriteItemsInput) (*ddbapi.TransactWriteItemsOutput, error) {
		e := awsproto.Errorf("TransactionCanceledException", 0, "Transaction cancelled")
		e.Detail = &ddbapi.TransactionCanceledException{Message: awsproto.Ptr("ignored"), CancellationReasons: []ddbapi.CancellationReason{
			{Code: awsproto.Ptr("ConditionalCheckFailed"), Item: map[string]ddbapi.AttributeValue{"pk": {S: awsproto.Ptr("a")}}}, {Code: awsproto.Ptr("None")}}}
		return nil, e
	})
	r := awsproto.NewRouter(s)
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"TransactItems":[{"ConditionCheck":{"TableName":"tbl","Key":{},"ConditionExpression":"x"}}]}`))
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810.TransactWriteItems")
	rec := httptest.NewRecorder()
	edge(r).ServeHTTP(rec, req)
	want := `{"__type":"TransactionCanceledException","Message":"Transaction cancelled","CancellationReasons":[{"Code":"ConditionalCheckFailed","Item":{"pk":{"S":"a"}}},{"Code":"None"}]}`
	if got := rec.Body.String(); got != want {
		t.Fatalf("body %s\nwant %s", got, want)
	}
}
