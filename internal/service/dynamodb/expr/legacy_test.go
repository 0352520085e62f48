package expr

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/service/dynamodb/attr"
)

func vals(t *testing.T, s string) []attr.Value {
	t.Helper()
	var vs []attr.Value
	if err := json.Unmarshal([]byte(s), &vs); err != nil {
		t.Fatalf("values %s: %v", s, err)
	}
	return vs
}

func one(t *testing.T, s string) *attr.Value {
	t.Helper()
	v := vals(t, "["+s+"]")[0]
	return &v
}

func TestLegacyConditionRefusals(t *testing.T) {
	t.Parallel()
	const inv = "One or more parameter values were invalid: "
	for _, tc := range []struct {
		op, list, want string
	}{
		{"EQ", `[]`, inv + "Invalid number of argument(s) for the EQ ComparisonOperator"},
		{"NE", `[]`, inv + "Invalid number of argument(s) for the NE ComparisonOperator"},
		{"IN", `[]`, inv + "Invalid number of argument(s) for the IN ComparisonOperator"},
		{"BETWEEN", `[{"S":"a"}]`, inv + "Invalid number of argument(s) for the BETWEEN ComparisonOperator"},
		{"BETWEEN", `[{"S":"a"},{"S":"a"},{"S":"a"}]`, inv + "Invalid number of argument(s) for the BETWEEN ComparisonOperator"},
		{"NULL", `[{"S":"a"}]`, inv + "Invalid number of argument(s) for the NULL ComparisonOperator"},
		{"NOT_NULL", `[{"S":"a"},{"S":"a"}]`, inv + "Invalid number of argument(s) for the NOT_NULL ComparisonOperator"},
		{"CONTAINS", `[{"S":"a"},{"S":"a"}]`, inv + "Invalid number of argument(s) for the CONTAINS ComparisonOperator"},
		{"LT", `[{"BOOL":true}]`, inv + "ComparisonOperator LT is not valid for BOOL AttributeValue type"},
		{"GE", `[{"NULL":true}]`, inv + "ComparisonOperator GE is not valid for NULL AttributeValue type"},
		{"IN", `[{"SS":["a"]}]`, inv + "ComparisonOperator IN is not valid for SS AttributeValue type"},
		{"LE", `[{"M":{}}]`, inv + "ComparisonOperator LE is not valid for M AttributeValue type"},
		{"CONTAINS", `[{"NS":["1"]}]`, inv + "ComparisonOperator CONTAINS is not valid for NS AttributeValue type"},
		{"NOT_CONTAINS", `[{"L":[]}]`, inv + "ComparisonOperator NOT_CONTAINS is not valid for L AttributeValue type"},
		{"BETWEEN", `[{"BOOL":true},{"BOOL":true}]`, inv + "ComparisonOperator BETWEEN is not valid for BOOL AttributeValue type"},
		{"BEGINS_WITH", `[{"N":"1"}]`, inv + "ComparisonOperator BEGINS_WITH is not valid for N AttributeValue type"},
		{"IN", `[{"S":"b"},{"N":"1"}]`, inv + "AttributeValues inside AttributeValueList must be of same type"},
		{"BETWEEN", `[{"S":"b"},{"S":"a"}]`, "The BETWEEN condition was provided a range where the lower bound is greater than the upper bound"},
	} {
		filter := map[string]LegacyCondition{"a": {ComparisonOperator: tc.op, AttributeValueList: vals(t, tc.list)}}
		_, err := FilterCondition(filter, "")
		if got := validationMessage(t, err); got != tc.want {
			t.Errorf("filter %s %s:\n got %q\nwant %q", tc.op, tc.list, got, tc.want)
		}
		_, err = KeyConditions(filter)
		if got := validationMessage(t, err); got != tc.want {
			t.Errorf("key %s %s:\n got %q\nwant %q", tc.op, tc.list, got, tc.want)
		}
	}
}

func TestLegacyFilterEvaluation(t *testing.T) {
	t.Parallel()
	it := item(t, evalItem)
	for _, tc := range []struct {
		op, list string
		attr     string
		want     bool
	}{
		{"EQ", `[{"S":"abc"}]`, "id", true},
		{"EQ", `[{"N":"6"}]`, "sixes", false},
		{"EQ", `[{"SS":["blue","red"]}]`, "ss", true},
		{"NE", `[{"S":"abc"}]`, "id", false},
		{"NE", `[{"S":"abc"}]`, "absent", true},
		{"LT", `[{"N":"11"}]`, "n", true},
		{"GE", `[{"N":"10"}]`, "n", true},
		{"GT", `[{"S":"a"}]`, "n", false},
		{"NOT_NULL", `[]`, "z", true},
		{"NULL", `[]`, "z", false},
		{"NULL", `[]`, "absent", true},
		{"CONTAINS", `[{"S":"red"}]`, "ss", true},
		{"CONTAINS", `[{"S":"bc"}]`, "id", true},
		{"CONTAINS", `[{"N":"7"}]`, "l", true},
		{"NOT_CONTAINS", `[{"S":"green"}]`, "ss", true},
		{"NOT_CONTAINS", `[{"S":"red"}]`, "ss", false},
		{"BEGINS_WITH", `[{"S":"ab"}]`, "id", true},
		{"IN", `[{"N":"1"},{"N":"10"}]`, "n", true},
		{"IN", `[{"N":"1"}]`, "n", false},
		{"BETWEEN", `[{"N":"-2"},{"N":"-1"}]`, "f", true},
	} {
		c, err := FilterCondition(map[string]LegacyCondition{tc.attr: {ComparisonOperator: tc.op, AttributeValueList: vals(t, tc.list)}}, "")
		if err != nil {
			t.Fatalf("%s %s: %v", tc.op, tc.list, err)
		}
		if got := c.Eval(it); got != tc.want {
			t.Errorf("%s %s %s = %v", tc.attr, tc.op, tc.list, got)
		}
	}
	both := map[string]LegacyCondition{
		"id": {ComparisonOperator: "EQ", AttributeValueList: vals(t, `[{"S":"abc"}]`)},
		"n":  {ComparisonOperator: "EQ", AttributeValueList: vals(t, `[{"N":"9"}]`)},
	}
	and, _ := FilterCondition(both, "AND")
	or, _ := FilterCondition(both, "OR")
	if and.Eval(it) || !or.Eval(it) {
		t.Errorf("AND = %v, OR = %v", and.Eval(it), or.Eval(it))
	}
	if c, err := FilterCondition(nil, ""); c != nil || err != nil {
		t.Errorf("an empty filter = %v, %v", c, err)
	}
}

func TestExpected(t *testing.T) {
	t.Parallel()
	const inv = "One or more parameter values were invalid: "
	yes, no := true, false
	for _, tc := range []struct {
		name string
		e    ExpectedValue
		want string
	}{
		{"no value and no exists", ExpectedValue{}, inv + "Value must be provided when Exists is null for Attribute: a"},
		{"exists true and no value", ExpectedValue{Exists: &yes}, inv + "Value must be provided when Exists is true for Attribute: a"},
		{"exists false with a value", ExpectedValue{Exists: &no, Value: one(t, `{"S":"x"}`)}, inv + "Value cannot be used when Exists is false for Attribute: a"},
		{"value and list", ExpectedValue{Value: one(t, `{"S":"x"}`), HasList: true}, inv + "Value and AttributeValueList cannot be used together for Attribute: a"},
		{"exists and operator", ExpectedValue{Exists: &yes, ComparisonOperator: "EQ"}, inv + "Exists and ComparisonOperator cannot be used together for Attribute: a"},
		{"operator without values", ExpectedValue{ComparisonOperator: "EQ"}, inv + "Value or AttributeValueList must be used with ComparisonOperator: EQ for Attribute: a"},
		{"list without operator", ExpectedValue{HasList: true, AttributeValueList: vals(t, `[{"S":"x"}]`)}, inv + "AttributeValueList can only be used with a ComparisonOperator for Attribute: a"},
		{"too many values", ExpectedValue{ComparisonOperator: "EQ", HasList: true, AttributeValueList: vals(t, `[{"S":"x"},{"S":"y"}]`)}, inv + "Invalid number of argument(s) for the EQ ComparisonOperator"},
		{"mixed types", ExpectedValue{ComparisonOperator: "IN", HasList: true, AttributeValueList: vals(t, `[{"S":"x"},{"N":"1"}]`)}, inv + "AttributeValues inside AttributeValueList must be of same type"},
		{"bounds out of order", ExpectedValue{ComparisonOperator: "BETWEEN", HasList: true, AttributeValueList: vals(t, `[{"N":"2"},{"N":"1"}]`)}, "The BETWEEN condition was provided a range where the lower bound is greater than the upper bound"},
	} {
		_, err := ExpectedCondition(map[string]ExpectedValue{"a": tc.e}, "")
		if got := validationMessage(t, err); got != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, got, tc.want)
		}
	}
	it := item(t, evalItem)
	for _, tc := range []struct {
		name string
		e    map[string]ExpectedValue
		want bool
	}{
		{"value matches", map[string]ExpectedValue{"id": {Value: one(t, `{"S":"abc"}`)}}, true},
		{"value differs", map[string]ExpectedValue{"id": {Value: one(t, `{"S":"x"}`), Exists: &yes}}, false},
		{"must not exist", map[string]ExpectedValue{"absent": {Exists: &no}}, true},
		{"must not exist but does", map[string]ExpectedValue{"id": {Exists: &no}}, false},
		{"operator with Value", map[string]ExpectedValue{"n": {ComparisonOperator: "GT", Value: one(t, `{"N":"1"}`)}}, true},
		{"NOT_NULL", map[string]ExpectedValue{"n": {ComparisonOperator: "NOT_NULL"}}, true},
		{"a name with a dot is one attribute", map[string]ExpectedValue{"m.s": {ComparisonOperator: "NULL"}}, true},
	} {
		c, err := ExpectedCondition(tc.e, "")
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := c.Eval(it); got != tc.want {
			t.Errorf("%s = %v", tc.name, got)
		}
	}
}

func TestLegacyKeyConditions(t *testing.T) {
	t.Parallel()
	conds := func(ops ...string) map[string]LegacyCondition {
		m := map[string]LegacyCondition{}
		names := []string{"pk", "sk", "other"}
		for i, op := range ops {
			l := vals(t, `[{"S":"a"}]`)
			if op == "NULL" {
				l = nil
			}
			m[names[i]] = LegacyCondition{ComparisonOperator: op, AttributeValueList: l}
		}
		return m
	}
	for _, tc := range []struct {
		name string
		c    map[string]LegacyCondition
		want string
	}{
		{"none", conds(), "Conditions can be of length 1 or 2 only"},
		{"three", conds("EQ", "NULL", "NULL"), "Conditions can be of length 1 or 2 only"},
		{"not indexable", conds("EQ", "NULL"), "Attempted conditional constraint is not an indexable operation"},
		{"partition not by equality", conds("BEGINS_WITH"), "Query key condition not supported"},
		{"fine", conds("EQ", "BEGINS_WITH"), ""},
	} {
		k, err := KeyConditions(tc.c)
		if err == nil {
			_, err = k.Resolve(stringSortKey)
		}
		if got := validationMessage(t, err); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestAttributeUpdates(t *testing.T) {
	t.Parallel()
	const inv = "One or more parameter values were invalid: "
	for _, tc := range []struct {
		u    AttributeUpdate
		want string
	}{
		{AttributeUpdate{Action: "PUT"}, inv + "Only DELETE action is allowed when no attribute value is specified"},
		{AttributeUpdate{}, inv + "Only DELETE action is allowed when no attribute value is specified"},
		{AttributeUpdate{Action: "DELETE", Value: one(t, `{"S":"1"}`)}, inv + "DELETE action with value is not supported for the type S"},
		{AttributeUpdate{Action: "DELETE", Value: one(t, `{"L":[]}`)}, inv + "DELETE action with value is not supported for the type L"},
		{AttributeUpdate{Action: "ADD", Value: one(t, `{"B":"Yg=="}`)}, inv + "ADD action is not supported for the type B"},
		{AttributeUpdate{Action: "ADD", Value: one(t, `{"M":{}}`)}, inv + "ADD action is not supported for the type M"},
	} {
		_, err := AttributeUpdates(map[string]AttributeUpdate{"a": tc.u})
		if got := validationMessage(t, err); got != tc.want {
			t.Errorf("%+v:\n got %q\nwant %q", tc.u, got, tc.want)
		}
	}
	u, err := AttributeUpdates(map[string]AttributeUpdate{
		"b": {Action: "DELETE"},
		"c": {Action: "DELETE", Value: one(t, `{"SS":["a","b"]}`)},
		"d": {Action: "ADD", Value: one(t, `{"N":"5"}`)},
		"e": {Action: "ADD", Value: one(t, `{"SS":["a","b"]}`)},
		"f": {Action: "ADD", Value: one(t, `{"L":[{"S":"a"},{"N":"1"}]}`)},
		"g": {Value: one(t, `{"S":"put"}`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	before := item(t, `{"k":{"S":"key"},"b":{"S":"x"},"f":{"L":[{"S":"z"}]}}`)
	after, err := u.Apply(before)
	if err != nil {
		t.Fatal(err)
	}
	if got := itemJSON(after); got != `{"d":{"N":"5"},"e":{"SS":["a","b"]},"f":{"L":[{"S":"z"},{"S":"a"},{"N":"1"}]},"g":{"S":"put"},"k":{"S":"key"}}` {
		t.Errorf("after = %s", got)
	}
	_, err = u.Apply(item(t, `{"d":{"S":"not a number"}}`))
	if got := validationMessage(t, err); got != "Type mismatch for attribute to update" {
		t.Errorf("mismatch: %q", got)
	}
}

func TestAttributesToGet(t *testing.T) {
	t.Parallel()
	_, err := AttributesToGet([]string{"a", "b", "a"})
	if got := validationMessage(t, err); got != "One or more parameter values were invalid: Duplicate value in attribute name: a" {
		t.Errorf("duplicate: %q", got)
	}
	pr, err := AttributesToGet([]string{"id", "m.s", "absent"})
	if err != nil {
		t.Fatal(err)
	}
	if got := itemJSON(pr.Apply(item(t, `{"id":{"S":"1"},"m.s":{"S":"dotted"},"m":{"M":{"s":{"S":"nested"}}}}`))); got != `{"id":{"S":"1"},"m.s":{"S":"dotted"}}` {
		t.Errorf("projection = %s", got)
	}
}

func TestCheckParams(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name              string
		exprs, legacy     []Param
		hasNames, hasVals bool
		want              string
	}{
		{"put mixing", []Param{{"ConditionExpression", true}}, []Param{{"Expected", true}}, false, false,
			"Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {Expected} Expression parameters: {ConditionExpression}"},
		{"update mixing", []Param{{"UpdateExpression", true}, {"ConditionExpression", false}}, []Param{{"AttributeUpdates", true}, {"Expected", false}}, false, false,
			"Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {AttributeUpdates} Expression parameters: {UpdateExpression}"},
		{"query mixing", []Param{{"ProjectionExpression", true}, {"FilterExpression", true}, {"KeyConditionExpression", false}}, []Param{{"AttributesToGet", true}, {"QueryFilter", true}, {"ConditionalOperator", false}, {"KeyConditions", false}}, false, false,
			"Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {AttributesToGet, QueryFilter} Expression parameters: {ProjectionExpression, FilterExpression}"},
		{"names without expressions", []Param{{"ConditionExpression", false}}, []Param{{"Expected", true}}, true, true,
			"ExpressionAttributeNames can only be specified when using expressions"},
		{"values without expressions", []Param{{"ConditionExpression", false}}, nil, false, true,
			"ExpressionAttributeValues can only be specified when using expressions: ConditionExpression is null"},
		{"values with only a projection", []Param{{"ProjectionExpression", true}, {"FilterExpression", false}, {"KeyConditionExpression", false}}, nil, false, true,
			"ExpressionAttributeValues can only be specified when using expressions: FilterExpression and KeyConditionExpression are null"},
		{"names with a projection", []Param{{"ProjectionExpression", true}}, []Param{{"AttributesToGet", false}}, true, false, ""},
		{"legacy only", []Param{{"ConditionExpression", false}}, []Param{{"Expected", true}}, false, false, ""},
	} {
		if got := validationMessage(t, CheckParams(tc.exprs, tc.legacy, tc.hasNames, tc.hasVals)); got != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, got, tc.want)
		}
	}
}

func TestNewParams(t *testing.T) {
	t.Parallel()
	conv := func(v attr.Value) (attr.Value, error) { return v, nil }
	for _, tc := range []struct {
		name   string
		names  map[string]string
		values map[string]attr.Value
		want   string
	}{
		{"empty names", map[string]string{}, nil, "ExpressionAttributeNames must not be empty"},
		{"bad name key", map[string]string{"a": "a"}, nil, `ExpressionAttributeNames contains invalid key: Syntax error; key: "a"`},
		{"bad name key characters", map[string]string{"#sryLiyD8D-": "a"}, nil, `ExpressionAttributeNames contains invalid key: Syntax error; key: "#sryLiyD8D-"`},
		{"empty values", nil, map[string]attr.Value{}, "ExpressionAttributeValues must not be empty"},
		{"bad value key", nil, map[string]attr.Value{"b": attr.Str("b")}, `ExpressionAttributeValues contains invalid key: Syntax error; key: "b"`},
		{"bare sigil", map[string]string{"#": "a"}, nil, `ExpressionAttributeNames contains invalid key: Syntax error; key: "#"`},
	} {
		_, err := NewParams(tc.names, tc.values, conv)
		if got := validationMessage(t, err); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
	// A refused value keeps its own wording, and offers the wrapped one.
	_, err := NewParams(nil, map[string]string{":v": "1e126"}, func(s string) (attr.Value, error) { return attr.Num(s) })
	var ive *InvalidValueError
	if !errors.As(err, &ive) || ive.Key != ":v" {
		t.Fatalf("err = %v", err)
	}
	var ae *awsproto.Error
	if !errors.As(err, &ae) || ae.Message != "Number overflow. Attempting to store a number with magnitude larger than supported range" {
		t.Errorf("current wording: %v", ae)
	}
	if got := ive.Wrapped(); got != "ExpressionAttributeValues contains invalid value: Number overflow. Attempting to store a number with magnitude larger than supported range for key :v" {
		t.Errorf("wrapped: %q", got)
	}
	_, err = NewParams(nil, map[string]string{":v": ""}, func(s string) (attr.Value, error) { return attr.Num(s) })
	if errors.As(err, &ive); ive.Wrapped() != "ExpressionAttributeValues contains invalid value: The parameter cannot be converted to a numeric value for key :v" {
		t.Errorf("wrapped older wording: %q", ive.Wrapped())
	}
}
