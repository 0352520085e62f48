package expr

import (
	"strings"
	"testing"

	"github.com/kiri-run/kiri/internal/service/dynamodb/attr"
)

func updateError(t *testing.T, expr string, names map[string]string, values string) string {
	t.Helper()
	_, err := params(t, names, values).Update(expr)
	return validationMessage(t, err)
}

func TestUpdateSyntaxErrors(t *testing.T) {
	t.Parallel()
	for _, expr := range []string{
		"whatever", "set a", "add a", "delete a", "set a=set", "remove a = b", "add a = b",
		"delete a = b", "delete a b", "delete a if_not_exist(b)", "add abort b", "add a if_not_exist(b)",
		"remove a b", "set a b", "set :a = b", "add :a b", "delete :a b", "remove :a", "set a = b / c",
		"set a = b * c", `set a[1] = "eight"`, "set a[1] = 1", "SET a = if_not_exist(a, 100)",
		"SET if_not_exist(a, b) = a", "set (a = (b + c))", "set a = (b.c).d + e", "set a = (b.c)[0] + e",
		"set a = b + c + d", "set a = ((b + c))", "SET a = :v,", "SET", "REMOVE a,", "set and = :v set",
	} {
		msg := updateError(t, expr, nil, "")
		if !strings.HasPrefix(msg, "Invalid UpdateExpression: Syntax error; token: ") {
			t.Errorf("%q: %q, want a syntax error", expr, msg)
		}
	}
}

func TestUpdateSemanticErrorsAreWordedAsDynamoDB(t *testing.T) {
	t.Parallel()
	const u = "Invalid UpdateExpression: "
	ab := map[string]string{"#a": "a", "#b": "b"}
	abValues := `{":a":{"S":"a"},":b":{"S":"a"}}`
	typed := `{":a":{"S":"a"},":b":{"N":"1"},":c":{"B":"YQ=="},":d":{"BOOL":false},":e":{"NULL":true},` +
		`":f":{"SS":["a"]},":g":{"NS":["1"]},":h":{"BS":["YQ=="]},":i":{"M":{}},":j":{"L":[]}}`
	for _, tc := range []struct {
		expr   string
		names  map[string]string
		values string
		want   string
	}{
		{expr: "", want: u + "The expression can not be empty;"},
		{expr: " set #c = :c set abOrt = true ", names: ab, values: abValues, want: u + "Attribute name is a reserved keyword; reserved keyword: abOrt"},
		{expr: " remove Absolute ", names: ab, values: abValues, want: u + "Attribute name is a reserved keyword; reserved keyword: Absolute"},
		{expr: "set #c = if_not_exist(:c) set c = d", names: ab, values: abValues, want: u + "Invalid function name; function: if_not_exist"},
		{expr: "set a = size(b)", want: u + "Invalid function name; function: size"},
		{expr: "set a = #c set c = :d", names: ab, values: abValues, want: u + `The "SET" section can only be used once in an update expression;`},
		{expr: "remove #d set a = b remove e", names: ab, values: abValues, want: u + `The "REMOVE" section can only be used once in an update expression;`},
		{expr: "add #d :e set a = b add e :f", names: ab, values: abValues, want: u + `The "ADD" section can only be used once in an update expression;`},
		{expr: "delete #d :e set a = b delete #e :f", names: ab, values: abValues, want: u + `The "DELETE" section can only be used once in an update expression;`},
		{expr: "SET #c = if_not_exists(:c)", names: ab, values: abValues, want: u + "An expression attribute name used in the document path is not defined; attribute name: #c"},
		{expr: "SET #a = if_not_exists(:c)", names: ab, values: abValues, want: u + "An expression attribute value used in expression is not defined; attribute value: :c"},
		{expr: "SET attr1 = :v", want: u + "An expression attribute value used in expression is not defined; attribute value: :v"},
		{expr: "set d[1] = a, d.b = a, c[1].a = a, #c = if_not_exists(a)", names: map[string]string{"#c": "c", "#d": "[3]"}, want: u + "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [c, [1], a], path two: [c]"},
		{expr: "set #c[3].#d = a, #c[3] = a", names: map[string]string{"#c": "c", "#d": "[3]"}, want: u + "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [c, [3], [3]], path two: [c, [3]]"},
		{expr: "set a = :a remove a", values: abValues, want: u + "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a]"},
		{expr: "set #c[3].#d = a, #c.#d[3] = if_not_exists(a)", names: map[string]string{"#b": "b", "#c": "c", "#d": "[3]"}, want: u + "Two document paths conflict with each other; must remove or rewrite one of these paths; path one: [c, [3], [3]], path two: [c, [3], [3]]"},
		{expr: "remove a.#c set a[1] = #d", names: map[string]string{"#c": "c", "#d": "[3]"}, want: u + "Two document paths conflict with each other; must remove or rewrite one of these paths; path one: [a, c], path two: [a, [1]]"},
		{expr: "set b = list_append(:a, a), c = if_not_exists(a) add a.b :a", values: `{":a":{"S":"a"},":b":{"S":"a"}}`, want: u + "Incorrect operand type for operator or function; operator: ADD, operand type: STRING"},
		{expr: "delete a.b :a", values: `{":a":{"S":"a"}}`, want: u + "Incorrect operand type for operator or function; operator: DELETE, operand type: STRING"},
		{expr: "add a.b :a", values: `{":a":{"NULL":true}}`, want: u + "Incorrect operand type for operator or function; operator: ADD, operand type: NULL"},
		{expr: "add a.b :a", values: `{":a":{"BOOL":false}}`, want: u + "Incorrect operand type for operator or function; operator: ADD, operand type: BOOLEAN"},
		{expr: "delete a.b :a", values: `{":a":{"B":"YQ=="}}`, want: u + "Incorrect operand type for operator or function; operator: DELETE, operand type: BINARY"},
		{expr: "add a.b :a", values: `{":a":{"M":{"a":{"L":[{"N":"1"}]}}}}`, want: u + "Incorrect operand type for operator or function; operator: ADD, operand type: MAP"},
		{expr: "add a.b :a", values: `{":a":{"L":[{"N":"1"}]}}`, want: u + "Incorrect operand type for operator or function; operator: ADD, operand type: LIST"},
		{expr: "delete a.b :a", values: `{":a":{"N":"1"}}`, want: u + "Incorrect operand type for operator or function; operator: DELETE, operand type: NUMBER"},
		{expr: "set a = if_not_exists(c)", names: ab, values: abValues, want: u + "Incorrect number of operands for operator or function; operator or function: if_not_exists, number of operands: 1"},
		{expr: "set a = list_append(c)", names: ab, values: abValues, want: u + "Incorrect number of operands for operator or function; operator or function: list_append, number of operands: 1"},
		{expr: "set a = if_not_exists(:a, c)", names: ab, values: abValues, want: u + "Operator or function requires a document path; operator or function: if_not_exists"},
		{expr: "set a = if_not_exists(if_not_exists(a, b), c)", names: ab, values: abValues, want: u + "Operator or function requires a document path; operator or function: if_not_exists"},
		{expr: "set a = list_append(:a, a)", names: ab, values: typed, want: u + "Incorrect operand type for operator or function; operator or function: list_append, operand type: S"},
		{expr: "set a = list_append(a, :b)", names: ab, values: typed, want: u + "Incorrect operand type for operator or function; operator or function: list_append, operand type: N"},
		{expr: "set a = list_append(:i, a)", names: ab, values: typed, want: u + "Incorrect operand type for operator or function; operator or function: list_append, operand type: M"},
		{expr: "set a = a + :a", names: ab, values: typed, want: u + "Incorrect operand type for operator or function; operator or function: +, operand type: S"},
		{expr: "set a = :c + a", names: ab, values: typed, want: u + "Incorrect operand type for operator or function; operator or function: +, operand type: B"},
		{expr: "set a = a + :j", names: ab, values: typed, want: u + "Incorrect operand type for operator or function; operator or function: +, operand type: L"},
		{expr: "set a = a - :h", names: ab, values: typed, want: u + "Incorrect operand type for operator or function; operator or function: -, operand type: BS"},
		{expr: "set a = :a - :c", names: ab, values: typed, want: u + "Incorrect operand type for operator or function; operator or function: -, operand type: S"},
	} {
		if got := updateError(t, tc.expr, tc.names, tc.values); got != tc.want {
			t.Errorf("%q:\n got %q\nwant %q", tc.expr, got, tc.want)
		}
	}
}

func TestUnusedPlaceholdersAreRefusedAfterEveryExpressionParses(t *testing.T) {
	t.Parallel()
	p := params(t, map[string]string{"#a": "a", "#b": "b"}, `{":a":{"S":"a"},":b":{"S":"a"}}`)
	if _, err := p.Update("remove a set b = list_append(b, if_not_exists(a, :a))"); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Condition(KindCondition, "a = :b"); err != nil {
		t.Fatal(err)
	}
	if got := validationMessage(t, p.CheckUnused()); got != "Value provided in ExpressionAttributeNames unused in expressions: keys: {#a, #b}" {
		t.Errorf("names: %q", got)
	}
	p = params(t, nil, `{":a":{"S":"a"},":b":{"S":"a"},":c":{"S":"a"}}`)
	if _, err := p.Update("remove a"); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Condition(KindCondition, "a = :b"); err != nil {
		t.Fatal(err)
	}
	if got := validationMessage(t, p.CheckUnused()); got != "Value provided in ExpressionAttributeValues unused in expressions: keys: {:a, :c}" {
		t.Errorf("values: %q", got)
	}
}

func TestUpdateApplication(t *testing.T) {
	t.Parallel()
	values := `{":s":{"S":"new"},":n":{"N":"5"},":neg":{"N":"-1.5"},":ss":{"SS":["b","c"]},":ns":{"NS":["1","4"]},` +
		`":l":{"L":[{"S":"x"}]},":m":{"M":{"k":{"S":"v"}}},":zero":{"N":"0"},":big":{"N":"9.9999999999999999999999999999999999999E+125"},` +
		`":bs":{"BS":["AQ=="]}}`
	for _, tc := range []struct {
		name, expr, before, after, err string
	}{
		{name: "set a new attribute", expr: "SET a = :s", before: `{"k":{"S":"1"}}`, after: `{"a":{"S":"new"},"k":{"S":"1"}}`},
		{name: "set on an item that does not exist", expr: "SET a = :s", before: ``, after: `{"a":{"S":"new"}}`},
		{name: "set from another attribute", expr: "SET a = b", before: `{"b":{"N":"1"}}`, after: `{"a":{"N":"1"},"b":{"N":"1"}}`},
		{name: "set reads the item before any action", expr: "SET a = b, b = a", before: `{"a":{"N":"1"},"b":{"N":"2"}}`, after: `{"a":{"N":"2"},"b":{"N":"1"}}`},
		{name: "set from a missing attribute", expr: "SET a = b", before: `{}`, err: "The provided expression refers to an attribute that does not exist in the item"},
		{name: "list_append of a missing attribute", expr: "SET e = list_append(b, c)", before: `{}`, err: "The provided expression refers to an attribute that does not exist in the item"},
		{name: "increment", expr: "SET a = a + :n", before: `{"a":{"N":"10"}}`, after: `{"a":{"N":"15"}}`},
		{name: "decimal subtraction is exact", expr: "SET a = a - :neg", before: `{"a":{"N":"0.3"}}`, after: `{"a":{"N":"1.8"}}`},
		{name: "arithmetic on a string", expr: "SET a = a + :n", before: `{"a":{"S":"10"}}`, err: "An operand in the update expression has an incorrect data type"},
		{name: "arithmetic on a missing attribute", expr: "SET a = a + :n", before: `{}`, err: "The provided expression refers to an attribute that does not exist in the item"},
		{name: "arithmetic overflow", expr: "SET a = a + :big", before: `{"a":{"N":"9E125"}}`, err: "Number overflow. Attempting to store a number with magnitude larger than supported range"},
		{name: "if_not_exists on a missing attribute", expr: "SET a = if_not_exists(a, :zero) + :n", before: `{}`, after: `{"a":{"N":"5"}}`},
		{name: "if_not_exists on a present attribute", expr: "SET a = if_not_exists(a, :zero) + :n", before: `{"a":{"N":"1"}}`, after: `{"a":{"N":"6"}}`},
		{name: "list_append", expr: "SET l = list_append(l, :l)", before: `{"l":{"L":[{"N":"1"}]}}`, after: `{"l":{"L":[{"N":"1"},{"S":"x"}]}}`},
		{name: "list_append in front", expr: "SET l = list_append(:l, l)", before: `{"l":{"L":[{"N":"1"}]}}`, after: `{"l":{"L":[{"S":"x"},{"N":"1"}]}}`},
		{name: "list_append of a non-list", expr: "SET l = list_append(l, :l)", before: `{"l":{"S":"a"}}`, err: "An operand in the update expression has an incorrect data type"},
		{name: "set a nested map entry", expr: "SET m.k = :s", before: `{"m":{"M":{"keep":{"S":"k"}}}}`, after: `{"m":{"M":{"k":{"S":"new"},"keep":{"S":"k"}}}}`},
		{name: "set two entries of one map", expr: "SET m.b = :s, m.c = :n", before: `{"m":{"M":{}}}`, after: `{"m":{"M":{"b":{"S":"new"},"c":{"N":"5"}}}}`},
		{name: "set under a missing map", expr: "SET m.a.b = :s", before: `{"x":{"S":"1"}}`, err: "The document path provided in the update expression is invalid for update"},
		{name: "set under a scalar", expr: "SET b.a = :s", before: `{"b":{"S":"x"}}`, err: "The document path provided in the update expression is invalid for update"},
		{name: "set an index of a map", expr: "SET m[1] = :s", before: `{"m":{"M":{}}}`, err: "The document path provided in the update expression is invalid for update"},
		{name: "set a name of a list", expr: "SET l.k = :s", before: `{"l":{"L":[]}}`, err: "The document path provided in the update expression is invalid for update"},
		{name: "set a nested path in an item that does not exist", expr: "SET b.a = :s", before: ``, err: "The document path provided in the update expression is invalid for update"},
		{name: "set a list element", expr: "SET l[1] = :s", before: `{"l":{"L":[{"S":"a"},{"S":"b"},{"S":"c"}]}}`, after: `{"l":{"L":[{"S":"a"},{"S":"new"},{"S":"c"}]}}`},
		{name: "set past the end appends", expr: "SET l[5] = :s", before: `{"l":{"L":[{"S":"a"},{"S":"b"},{"S":"c"}]}}`, after: `{"l":{"L":[{"S":"a"},{"S":"b"},{"S":"c"},{"S":"new"}]}}`},
		{name: "sets past the end append in index order", expr: "SET l[9] = :n, l[7] = :s", before: `{"l":{"L":[]}}`, after: `{"l":{"L":[{"S":"new"},{"N":"5"}]}}`},
		{name: "set index 0 of an empty list", expr: "SET l[0] = :s", before: `{"l":{"L":[]}}`, after: `{"l":{"L":[{"S":"new"}]}}`},
		{name: "set under a missing list element", expr: "SET l[5].a = :s", before: `{"l":{"L":[]}}`, err: "The document path provided in the update expression is invalid for update"},
		{name: "nested arithmetic", expr: "SET m.c = m.c + :n", before: `{"m":{"M":{"c":{"N":"10"}}}}`, after: `{"m":{"M":{"c":{"N":"15"}}}}`},
		{name: "remove an attribute", expr: "REMOVE a, absent", before: `{"a":{"S":"x"},"b":{"S":"y"}}`, after: `{"b":{"S":"y"}}`},
		{name: "remove a map entry", expr: "REMOVE m.a", before: `{"m":{"M":{"a":{"S":"x"},"b":{"S":"y"}}}}`, after: `{"m":{"M":{"b":{"S":"y"}}}}`},
		{name: "remove list elements by their original positions", expr: "REMOVE l[1], l[2]", before: `{"l":{"L":[{"S":"a"},{"S":"b"},{"S":"c"},{"S":"d"}]}}`, after: `{"l":{"L":[{"S":"a"},{"S":"d"}]}}`},
		{name: "remove past the end does nothing", expr: "REMOVE l[7]", before: `{"l":{"L":[{"S":"a"}]}}`, after: `{"l":{"L":[{"S":"a"}]}}`},
		{name: "remove under a missing attribute", expr: "REMOVE y.a", before: `{}`, err: "The document path provided in the update expression is invalid for update"},
		{name: "remove an index of a map", expr: "REMOVE m[1]", before: `{"m":{"M":{}}}`, err: "The document path provided in the update expression is invalid for update"},
		{name: "add to a number", expr: "ADD a :n", before: `{"a":{"N":"1"}}`, after: `{"a":{"N":"6"}}`},
		{name: "add to a missing number", expr: "ADD a :n", before: `{}`, after: `{"a":{"N":"5"}}`},
		{name: "add to a set", expr: "ADD s :ss", before: `{"s":{"SS":["a","b"]}}`, after: `{"s":{"SS":["a","b","c"]}}`},
		{name: "add a set to a missing one", expr: "ADD s :ns", before: `{}`, after: `{"s":{"NS":["1","4"]}}`},
		{name: "add a number to a string", expr: "ADD a :n", before: `{"a":{"S":"x"}}`, err: "An operand in the update expression has an incorrect data type"},
		{name: "add a string set to a number set", expr: "ADD s :ss", before: `{"s":{"NS":["1"]}}`, err: "An operand in the update expression has an incorrect data type"},
		{name: "add in a nested map", expr: "ADD m.c :n", before: `{"m":{"M":{}}}`, after: `{"m":{"M":{"c":{"N":"5"}}}}`},
		{name: "add under a missing map", expr: "ADD y.a :n", before: `{}`, err: "The document path provided in the update expression is invalid for update"},
		{name: "delete from a set", expr: "DELETE s :ss", before: `{"s":{"SS":["a","b","c"]}}`, after: `{"s":{"SS":["a"]}}`},
		{name: "delete the last members", expr: "DELETE s :ns", before: `{"s":{"NS":["4","1"]}}`, after: `{}`},
		{name: "delete from a missing set", expr: "DELETE s :ss", before: `{}`, after: `{}`},
		{name: "delete from a set of another type", expr: "DELETE s :bs", before: `{"s":{"SS":["a"]}}`, err: "An operand in the update expression has an incorrect data type"},
		{name: "all four clauses", expr: "REMOVE b DELETE c :ss ADD d :n, e :ss SET f = :l", before: `{"b":{"N":"1"},"c":{"SS":["b"]}}`, after: `{"d":{"N":"5"},"e":{"SS":["b","c"]},"f":{"L":[{"S":"x"}]}}`},
	} {
		p := params(t, nil, values)
		u, err := p.Update(tc.expr)
		if err != nil {
			t.Fatalf("%s: parse: %v", tc.name, err)
		}
		before := item(t, tc.before)
		var snapshot string
		if before != nil {
			snapshot = itemJSON(before)
		}
		after, err := u.Apply(before)
		if tc.err != "" {
			if got := validationMessage(t, err); got != tc.err {
				t.Errorf("%s: error %q, want %q", tc.name, got, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if got := itemJSON(after); got != tc.after {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, got, tc.after)
		}
		if before != nil && itemJSON(before) != snapshot {
			t.Errorf("%s: the item before the update changed", tc.name)
		}
	}
}

func TestUpdatedAttributes(t *testing.T) {
	t.Parallel()
	p := params(t, map[string]string{"#a": "a", "#b": "b", "#c": "c"}, `{":x":{"S":"x"},":y":{"S":"y"},":n":{"N":"1"}}`)
	u, err := p.Update("SET #a.#b = :x, #a.#c = :y ADD n :n REMOVE gone")
	if err != nil {
		t.Fatal(err)
	}
	old := item(t, `{"k":{"S":"key"},"a":{"M":{"existing":{"S":"e"},"b":{"S":"old"}}},"n":{"N":"2"},"gone":{"S":"g"}}`)
	updated, err := u.Apply(old)
	if err != nil {
		t.Fatal(err)
	}
	if got := itemJSON(u.Changed(old)); got != `{"a":{"M":{"b":{"S":"old"}}},"gone":{"S":"g"},"n":{"N":"2"}}` {
		t.Errorf("UPDATED_OLD = %s", got)
	}
	if got := itemJSON(u.Changed(updated)); got != `{"a":{"M":{"b":{"S":"x"},"c":{"S":"y"}}},"n":{"N":"3"}}` {
		t.Errorf("UPDATED_NEW = %s", got)
	}
	acts := u.Actions()
	if len(acts) != 4 || acts[0].Kind != ActionSet || acts[0].Path.String() != "[a, b]" || acts[0].Type != attr.S ||
		acts[2].Kind != ActionAdd || acts[2].Type != attr.N || acts[3].Kind != ActionRemove {
		t.Errorf("actions = %+v", acts)
	}
}

func TestUpdateNestingLimit(t *testing.T) {
	t.Parallel()
	deep := strings.Repeat(`{"M":{"n":`, 30) + `{"S":"leaf"}` + strings.Repeat(`}}`, 30)
	p := params(t, nil, `{":deep":`+deep+`}`)
	u, err := p.Update("SET a.b = :deep")
	if err != nil {
		t.Fatal(err)
	}
	// a (1) . b (2) holding 31 levels: the leaf at level 32.
	if _, err := u.Apply(item(t, `{"a":{"M":{}}}`)); err != nil {
		t.Fatalf("32 levels: %v", err)
	}
	u, err = params(t, nil, `{":deep":`+deep+`}`).Update("SET a.b.c = :deep")
	if err != nil {
		t.Fatal(err)
	}
	_, err = u.Apply(item(t, `{"a":{"M":{"b":{"M":{}}}}}`))
	if got := validationMessage(t, err); got != "Nesting Levels have exceeded supported limits: Attributes in the item have nested levels beyond supported limit" {
		t.Fatalf("33 levels: %q", got)
	}
}
