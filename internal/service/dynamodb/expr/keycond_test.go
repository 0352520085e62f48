package expr

import (
	"bytes"
	"testing"

	"github.com/kiri-run/kiri/internal/service/dynamodb/attr"
)

var stringSortKey = KeySchema{Partition: "pk", PartitionType: attr.S, Sort: "sk", SortType: attr.S}

// keyError parses, checks and resolves a key condition, returning the first refusal.
func keyError(t *testing.T, expr, values string, schema KeySchema) string {
	t.Helper()
	p := params(t, nil, values)
	k, err := p.KeyCondition(expr)
	if err == nil {
		err = k.Check()
	}
	if err == nil {
		_, err = k.Resolve(schema)
	}
	return validationMessage(t, err)
}

func TestKeyConditionRefusals(t *testing.T) {
	t.Parallel()
	numberSortKey := KeySchema{Partition: "pk", PartitionType: attr.S, Sort: "sk", SortType: attr.N}
	hashOnly := KeySchema{Partition: "pk", PartitionType: attr.S}
	const k = "Invalid KeyConditionExpression: "
	for _, tc := range []struct {
		expr, values string
		schema       KeySchema
		want         string
	}{
		{expr: "", want: k + "The expression can not be empty;"},
		{expr: "a > 4", want: "syntax"},
		{expr: "(size(a))[0] > a", want: "syntax"},
		{expr: "attribute_type(a, b)", want: k + "Incorrect operand type for operator or function; operator or function: attribute_type, operand type: {NS,SS,L,BS,N,M,B,BOOL,NULL,S}"},
		{expr: "attribute_type(a, :a)", values: `{":a":{"N":"1"}}`, want: k + "Incorrect operand type for operator or function; operator or function: attribute_type, operand type: N"},
		{expr: "attribute_type(a, :a)", values: `{":a":{"S":"S"}}`, want: "Invalid operator used in KeyConditionExpression: attribute_type"},
		{expr: "a > b and size(b) > c or a > c", want: "Invalid operator used in KeyConditionExpression: OR"},
		{expr: "a in (b, size(c), d)", want: "Invalid operator used in KeyConditionExpression: IN"},
		{expr: "attribute_exists(a)", want: "Invalid operator used in KeyConditionExpression: attribute_exists"},
		{expr: "attribute_not_exists(a)", want: "Invalid operator used in KeyConditionExpression: attribute_not_exists"},
		{expr: "contains(a.d, b)", want: "Invalid operator used in KeyConditionExpression: contains"},
		{expr: "not a > b", want: "Invalid operator used in KeyConditionExpression: NOT"},
		{expr: "a <> b", want: "Invalid operator used in KeyConditionExpression: <>"},
		{expr: ":a between size(b) and size(a) and b > :b", values: `{":a":{"S":"1"},":b":{"S":"1"}}`, want: "Invalid condition in KeyConditionExpression: BETWEEN operator must have the key attribute as its first operand"},
		{expr: "begins_with(:a, b) and a > :b", values: `{":a":{"S":"1"},":b":{"S":"1"}}`, want: "Invalid condition in KeyConditionExpression: begins_with operator must have the key attribute as its first operand"},
		{expr: "size(b) > a AND a.b > b AND b > c", want: "KeyConditionExpressions cannot contain nested operations"},
		{expr: "a > size(b.d)", want: "KeyConditionExpressions cannot contain nested operations"},
		{expr: "a between size(b) and size(a)", want: "KeyConditionExpressions cannot contain nested operations"},
		{expr: "b > a.b", want: "Invalid condition in KeyConditionExpression: Multiple attribute names used in one condition"},
		{expr: "b between c[1] and d", want: "Invalid condition in KeyConditionExpression: Multiple attribute names used in one condition"},
		{expr: "begins_with(a, b)", want: "Invalid condition in KeyConditionExpression: Multiple attribute names used in one condition"},
		{expr: "b.d > a AND c.d > e.f", want: "KeyConditionExpressions cannot have conditions on nested attributes"},
		{expr: "a.d > c", want: "KeyConditionExpressions cannot have conditions on nested attributes"},
		{expr: "b[0] > a", want: "KeyConditionExpressions cannot have conditions on nested attributes"},
		{expr: ":b > :a AND a < :b", values: `{":a":{"N":"1"},":b":{"N":"1"}}`, want: "Invalid condition in KeyConditionExpression: No key attribute specified"},
		{expr: "b > :a AND b < :a and c = :a and d = :a", values: `{":a":{"N":"1"}}`, want: k + "KeyConditionExpressions must only contain one condition per key"},
		{expr: "a between :b and :a", values: `{":a":{"S":"a"},":b":{"N":"1"}}`, want: k + "The BETWEEN operator requires same data type for lower and upper bounds; lower bound operand: AttributeValue: {N:1}, upper bound operand: AttributeValue: {S:a}"},
		// Captured against DynamoDB in 2026.
		{expr: "pk = :p AND begins_with(sk, :v)", values: `{":p":{"S":"q"},":v":{"N":"1"}}`, schema: stringSortKey, want: k + "Incorrect operand type for operator or function; operator or function: begins_with, operand type: N"},
		{expr: "pk = :p AND begins_with(sk, :v)", values: `{":p":{"S":"q"},":v":{"BOOL":true}}`, schema: stringSortKey, want: k + "Incorrect operand type for operator or function; operator or function: begins_with, operand type: BOOL"},
		{expr: "pk = :p AND begins_with(sk, :v)", values: `{":p":{"S":"q"},":v":{"S":"a"}}`, schema: numberSortKey, want: "One or more parameter values were invalid: Condition parameter type does not match schema type"},
		{expr: "pk = :p AND sk < :v", values: `{":p":{"S":"q"},":v":{"BOOL":true}}`, schema: numberSortKey, want: k + "Incorrect operand type for operator or function; operator or function: <, operand type: BOOL"},
		{expr: "pk = :p AND :v >= sk", values: `{":p":{"S":"q"},":v":{"BOOL":true}}`, schema: numberSortKey, want: k + "Incorrect operand type for operator or function; operator or function: >=, operand type: BOOL"},
		{expr: "pk = :p AND sk BETWEEN :a AND :b", values: `{":p":{"S":"q"},":a":{"BOOL":false},":b":{"BOOL":true}}`, schema: numberSortKey, want: k + "Incorrect operand type for operator or function; operator or function: BETWEEN, operand type: BOOL"},
		{expr: "pk = :p AND sk = :v", values: `{":p":{"S":"q"},":v":{"BOOL":true}}`, schema: numberSortKey, want: "One or more parameter values were invalid: Condition parameter type does not match schema type"},
		{expr: "pk = :p AND sk > :a AND sk < :b", values: `{":p":{"S":"q"},":a":{"N":"1"},":b":{"N":"5"}}`, schema: numberSortKey, want: k + "KeyConditionExpressions must only contain one condition per key"},
		{expr: "pk = :p AND sk > :a AND extra = :b", values: `{":p":{"S":"q"},":a":{"N":"1"},":b":{"N":"5"}}`, schema: numberSortKey, want: "The number of query conditions (3) exceeds the number of key attributes defined in the schema (2)"},
		{expr: "pk = :missing AND begins_with(sk, :n)", values: `{":n":{"N":"1"}}`, schema: stringSortKey, want: k + "An expression attribute value used in expression is not defined; attribute value: :missing"},
		{expr: "begins_with(sk, :n) AND pk = :missing", values: `{":n":{"N":"1"}}`, schema: stringSortKey, want: k + "Incorrect operand type for operator or function; operator or function: begins_with, operand type: N"},
		// Against the schema.
		{expr: "sk = :v", values: `{":v":{"S":"a"}}`, schema: stringSortKey, want: "Query condition missed key schema element: pk"},
		{expr: "pk = :v AND extra = :v", values: `{":v":{"S":"a"}}`, schema: stringSortKey, want: "Query condition missed key schema element: sk"},
		{expr: "pk > :v", values: `{":v":{"S":"a"}}`, schema: stringSortKey, want: "Query key condition not supported"},
		{expr: "pk = :v AND sk = :v", values: `{":v":{"S":"a"}}`, schema: hashOnly, want: "The number of query conditions (2) exceeds the number of key attributes defined in the schema (1)"},
		{expr: "pk = :v", values: `{":v":{"N":"1"}}`, schema: hashOnly, want: "One or more parameter values were invalid: Condition parameter type does not match schema type"},
	} {
		got := keyError(t, tc.expr, tc.values, tc.schema)
		if tc.want == "syntax" {
			if !syntaxShape.MatchString(got) {
				t.Errorf("%q: %q, want a syntax error", tc.expr, got)
			}
			continue
		}
		if got != tc.want {
			t.Errorf("%q:\n got %q\nwant %q", tc.expr, got, tc.want)
		}
	}
}

func TestKeyConditionsResolve(t *testing.T) {
	t.Parallel()
	values := `{":p":{"S":"part"},":a":{"S":"b"},":b":{"S":"d"}}`
	for _, tc := range []struct {
		expr string
		op   KeyOp
		in   []string
		out  []string
	}{
		{"pk = :p", 0, nil, nil},
		{"pk = :p AND sk = :a", KeyEQ, []string{"b"}, []string{"a", "b0", "c"}},
		{"(#pk = :p) AND (sk < :a)", KeyLT, []string{"a", "", "a\xff"}, []string{"b", "b0"}},
		{"pk = :p AND :a > sk", KeyLT, []string{"a"}, []string{"b"}},
		{"pk = :p AND sk <= :a", KeyLE, []string{"a", "b"}, []string{"b\x00", "c"}},
		{"pk = :p AND sk > :a", KeyGT, []string{"b\x00", "c"}, []string{"a", "b"}},
		{"pk = :p AND :a <= sk", KeyGE, []string{"b", "c"}, []string{"a"}},
		{"sk BETWEEN :a AND :b AND pk = :p", KeyBetween, []string{"b", "c", "d"}, []string{"a", "d\x00", "e"}},
		{"pk = :p AND begins_with(sk, :a)", KeyBeginsWith, []string{"b", "b\x00", "bzzz"}, []string{"a", "c", ""}},
	} {
		names := map[string]string(nil)
		if tc.expr[0] == '(' {
			names = map[string]string{"#pk": "pk"}
		}
		p := params(t, names, values)
		k, err := p.KeyCondition(tc.expr)
		if err == nil {
			err = k.Check()
		}
		if err != nil {
			t.Fatalf("%q: %v", tc.expr, err)
		}
		q, err := k.Resolve(stringSortKey)
		if err != nil {
			t.Fatalf("%q: %v", tc.expr, err)
		}
		if q.Partition.Text() != "part" {
			t.Errorf("%q: partition %v", tc.expr, q.Partition)
		}
		if tc.in == nil {
			if q.Sort != nil {
				t.Errorf("%q: sort condition %v", tc.expr, q.Sort)
			}
			continue
		}
		if q.Sort == nil || q.Sort.Op != tc.op {
			t.Fatalf("%q: sort condition %+v", tc.expr, q.Sort)
		}
		lo, hi := q.Sort.Bounds()
		check := func(s string, want bool) {
			v := attr.Str(s)
			if got := q.Sort.Match(v); got != want {
				t.Errorf("%q: Match(%q) = %v", tc.expr, s, got)
			}
			if got := InBounds(attr.AppendKey(nil, v), lo, hi); got != want {
				t.Errorf("%q: %q in [%x, %x) = %v", tc.expr, s, lo, hi, got)
			}
		}
		for _, s := range tc.in {
			check(s, true)
		}
		for _, s := range tc.out {
			check(s, false)
		}
	}
}

func TestNumberSortKeyBounds(t *testing.T) {
	t.Parallel()
	schema := KeySchema{Partition: "pk", PartitionType: attr.S, Sort: "sk", SortType: attr.N}
	p := params(t, nil, `{":p":{"S":"x"},":lo":{"N":"-1.5"},":hi":{"N":"10"}}`)
	k, err := p.KeyCondition("pk = :p AND sk BETWEEN :lo AND :hi")
	if err != nil {
		t.Fatal(err)
	}
	q, err := k.Resolve(schema)
	if err != nil {
		t.Fatal(err)
	}
	lo, hi := q.Sort.Bounds()
	for _, tc := range []struct {
		n  string
		in bool
	}{{"-2", false}, {"-1.5", true}, {"-1.49", true}, {"0", true}, {"9.999", true}, {"10", true}, {"10.0001", false}, {"1E100", false}} {
		v, _ := attr.Num(tc.n)
		if got := InBounds(attr.AppendKey(nil, v), lo, hi); got != tc.in || q.Sort.Match(v) != tc.in {
			t.Errorf("%s in range = %v, want %v", tc.n, got, tc.in)
		}
	}
	if bytes.Compare(lo, hi) >= 0 {
		t.Fatalf("empty range")
	}
}
