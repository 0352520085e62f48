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

// serveDynamo answers one DynamoDB call through a service built with opts whose GetItem
// fails with err.
func serveDynamo(t *testing.T, opts awsproto.ServiceOptions, op, body string, err error) string {
	t.Helper()
	s := mustService(t, "dynamodb", opts)
	awsproto.Handle(s, "GetItem", func(ctx context.Context, in *ddbapi.GetItemInput) (*ddbapi.GetItemOutput, error) {
		return nil, err
	})
	awsproto.Handle(s, "Query", func(ctx context.Context, in *ddbapi.QueryInput) (*ddbapi.QueryOutput, error) {
		return nil, err
	})
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810."+op)
	rec := httptest.NewRecorder()
	edge(awsproto.NewRouter(s)).ServeHTTP(rec, req)
	return rec.Body.String()
}

func TestStringChecksJoinTheValidationProblems(t *testing.T) {
	t.Parallel()
	opts := awsproto.ServiceOptions{StringChecks: map[string]func(string) []string{
		"TableArn": func(v string) []string {
			if len(v) < 3 {
				return []string{"Member must have length greater than or equal to 3"}
			}
			return nil
		},
	}}
	got := serveDynamo(t, opts, "GetItem", `{"TableName":"ab","Key":{}}`, nil)
	want := `"1 validation error detected: Value 'ab' at 'tableName' failed to satisfy constraint: Member must have length greater than or equal to 3"`
	if !strings.Contains(got, want) {
		t.Fatalf("body %s\nwant message %s", got, want)
	}
}

func TestEnumOrderNamesValuesInTheServiceOrder(t *testing.T) {
	t.Parallel()
	opts := awsproto.ServiceOptions{EnumOrder: map[string][]string{"Select": {"SPECIFIC_ATTRIBUTES", "COUNT", "ALL_ATTRIBUTES", "ALL_PROJECTED_ATTRIBUTES"}}}
	got := serveDynamo(t, opts, "Query", `{"TableName":"tbl","Select":"X"}`, nil)
	want := `Member must satisfy enum value set: [SPECIFIC_ATTRIBUTES, COUNT, ALL_ATTRIBUTES, ALL_PROJECTED_ATTRIBUTES]`
	if !strings.Contains(got, want) {
		t.Fatalf("body %s\nwant %s", got, want)
	}
}

func TestErrorTypeNamespaceQualifiesTheType(t *testing.T) {
	t.Parallel()
	opts := awsproto.ServiceOptions{ErrorTypeNamespace: "com.amazonaws.dynamodb.v20120810"}
	tests := []struct {
		name string
		op   string
		body string
		err  error
		want string
	}{
		{"a modeled error takes the namespace", "GetItem", `{"TableName":"tbl","Key":{}}`,
			awsproto.Errorf("ResourceNotFoundException", 0, "Requested resource not found"),
			`"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException"`},
		{"validation is coral's", "GetItem", `{"Key":{}}`, nil, `"__type":"com.amazon.coral.validate#ValidationException"`},
		{"an unmodeled error is coral's service error", "GetItem", `{"TableName":"tbl","Key":{}}`,
			awsproto.Errorf("AccessDeniedException", 0, "no"), `"__type":"com.amazon.coral.service#AccessDeniedException"`},
		{"an unknown operation is coral's service error", "Nope", `{}`, nil, `"__type":"com.amazon.coral.service#UnknownOperationException"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := serveDynamo(t, opts, tc.op, tc.body, tc.err); !strings.Contains(got, tc.want) {
				t.Fatalf("body %s\nwant %s", got, tc.want)
			}
		})
	}
	if got := serveDynamo(t, awsproto.ServiceOptions{}, "GetItem", `{"Key":{}}`, nil); !strings.Contains(got, `"__type":"ValidationException"`) {
		t.Fatalf("without a namespace: body %s", got)
	}
}

func TestEmptyCollectionsShowAsJavaPrintsThem(t *testing.T) {
	t.Parallel()
	s := mustService(t, "dynamodb", awsproto.ServiceOptions{})
	awsproto.Handle(s, "TransactGetItems", func(ctx context.Context, in *ddbapi.TransactGetItemsInput) (*ddbapi.TransactGetItemsOutput, error) {
		return &ddbapi.TransactGetItemsOutput{}, nil
	})
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"TransactItems":[]}`))
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810.TransactGetItems")
	rec := httptest.NewRecorder()
	edge(awsproto.NewRouter(s)).ServeHTTP(rec, req)
	want := `Value '[]' at 'transactItems' failed to satisfy constraint: Member must have length greater than or equal to 1`
	if !strings.Contains(rec.Body.String(), want) {
		t.Fatalf("body %s\nwant %s", rec.Body.String(), want)
	}
}
