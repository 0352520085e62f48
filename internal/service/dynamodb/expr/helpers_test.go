package expr

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/service/dynamodb/attr"
)

// params builds Params from names and from values in DynamoDB JSON.
func params(t testing.TB, names map[string]string, values string) *Params {
	t.Helper()
	var vals map[string]attr.Value
	if values != "" {
		var item attr.Item
		if err := json.Unmarshal([]byte(values), &item); err != nil {
			t.Fatalf("values %s: %v", values, err)
		}
		vals = item
	}
	p, err := ValueParams(names, vals)
	if err != nil {
		t.Fatalf("params: %v", err)
	}
	return p
}

func item(t testing.TB, s string) attr.Item {
	t.Helper()
	if s == "" {
		return nil
	}
	var it attr.Item
	if err := json.Unmarshal([]byte(s), &it); err != nil {
		t.Fatalf("item %s: %v", s, err)
	}
	return it
}

func itemJSON(it attr.Item) string {
	b, _ := json.Marshal(it)
	return string(b)
}

// validationMessage returns the message of a ValidationException, failing on anything else.
func validationMessage(t testing.TB, err error) string {
	t.Helper()
	if err == nil {
		return ""
	}
	var ae *awsproto.Error
	if !errors.As(err, &ae) || ae.Code != "ValidationException" {
		t.Fatalf("error %v (%T) is not a ValidationException", err, err)
	}
	return ae.Message
}
