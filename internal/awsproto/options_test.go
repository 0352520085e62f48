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

// TestCoralSerializationErrors: with ErrorTypeNamespace, a value of the wrong JSON type is
// refused as the service's Java reader refuses it, and what that reader accepts is read.
func TestCoralSerializationErrors(t *testing.T) {
	t.Parallel()
	opts := awsproto.ServiceOptions{ErrorTypeNamespace: "com.amazonaws.dynamodb.v20120810"}
	s := mustService(t, "dynamodb", opts)
	var got *ddbapi.BatchGetItemInput
	awsproto.Handle(s, "BatchGetItem", func(ctx context.Context, in *ddbapi.BatchGetItemInput) (*ddbapi.BatchGetItemOutput, error) {
		got = in
		return &ddbapi.BatchGetItemOutput{}, nil
	})
	awsproto.Handle(s, "Query", func(ctx context.Context, in *ddbapi.QueryInput) (*ddbapi.QueryOutput, error) {
		return &ddbapi.QueryOutput{Count: in.Limit}, nil
	})
	call := func(op, body string) string {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		req.Header.Set("X-Amz-Target", "DynamoDB_20120810."+op)
		rec := httptest.NewRecorder()
		edge(awsproto.NewRouter(s)).ServeHTTP(rec, req)
		return rec.Body.String()
	}
	const ser = `{"__type":"com.amazon.coral.service#SerializationException","Message":`
	tests := []struct{ name, body, want string }{
		{"a scalar for a map member", `{"RequestItems":1}`, ser + `"Unexpected field type"}`},
		{"a list for a structure", `{"RequestItems":{"tbl":[]}}`, ser + `"Unrecognized collection type class com.amazonaws.dynamodb.v20120810.KeysAndAttributes"}`},
		{"a scalar for a map in a list", `{"RequestItems":{"tbl":{"Keys":[1]}}}`, ser + `"class sun.reflect.generics.reflectiveObjects.ParameterizedTypeImpl cannot be cast to class java.lang.Class (sun.reflect.generics.reflectiveObjects.ParameterizedTypeImpl and java.lang.Class are in module java.base of loader 'bootstrap')"}`},
		{"a list for a map", `{"RequestItems":{"tbl":{"Keys":[[]]}}}`, ser + `"Unrecognized collection type java.util.Map<java.lang.String, com.amazonaws.dynamodb.v20120810.AttributeValue>"}`},
		{"a scalar for a structure in a map", `{"RequestItems":{"tbl":{"Keys":[{"a":"x"}]}}}`, ser + `"Unexpected value type in payload"}`},
		{"a boolean for a string", `{"ReturnConsumedCapacity":true}`, ser + `"TRUE_VALUE cannot be converted to String"}`},
		{"a decimal for a string", `{"ReturnConsumedCapacity":1.5}`, ser + `"DECIMAL_VALUE cannot be converted to String"}`},
		{"an object for a string", `{"ReturnConsumedCapacity":{}}`, ser + `"Start of structure or map found where not expected"}`},
		{"a list for a string", `{"ReturnConsumedCapacity":[]}`, ser + `"Unrecognized collection type class java.lang.String"}`},
		{"a word for a boolean", `{"RequestItems":{"tbl":{"ConsistentRead":"maybe","Keys":[{}]}}}`, ser + `"Unexpected token received from parser"}`},
		{"a short base64 blob", `{"RequestItems":{"tbl":{"Keys":[{"a":{"B":"abc"}}]}}}`, ser + `"Base64 encoded length is expected a multiple of 4 bytes but found: 3"}`},
	}
	for _, tc := range tests {
		if body := call("BatchGetItem", tc.body); body != tc.want {
			t.Errorf("%s: body %s\nwant %s", tc.name, body, tc.want)
		}
	}
	if body := call("BatchGetItem", `{"RequestItems":{"tbl":{"ConsistentRead":"yes","Keys":[{}]}}}`); !strings.HasPrefix(body, "{}") && got == nil {
		t.Fatalf("a boolean from \"yes\": %s", body)
	}
	if !awsproto.Value(got.RequestItems["tbl"].ConsistentRead) {
		t.Fatalf("ConsistentRead \"yes\" read as false")
	}
	if body := call("Query", `{"TableName":"tbl","Limit":2.7}`); !strings.Contains(body, `"Count":2`) {
		t.Fatalf("a decimal Limit: %s", body)
	}
	if body := call("Query", `{"TableName":"tbl","Limit":"2"}`); body != ser+`"STRING_VALUE cannot be converted to Integer"}` {
		t.Fatalf("a string Limit: %s", body)
	}
}
