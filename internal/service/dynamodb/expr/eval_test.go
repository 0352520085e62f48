package expr

import (
	"testing"
)

const evalItem = `{
	"id":{"S":"abc"}, "n":{"N":"10"}, "f":{"N":"-1.5"}, "b":{"B":"AAEC"}, "t":{"BOOL":true}, "z":{"NULL":true},
	"ss":{"SS":["red","blue"]}, "ns":{"NS":["1","2.5"]}, "bs":{"BS":["AQ=="]},
	"l":{"L":[{"S":"x"},{"N":"7"},{"M":{"k":{"S":"v"}}}]}, "m":{"M":{"a":{"M":{"b":{"N":"1"}}},"s":{"S":"hello"}}},
	"blank":{"S":""}, "sixes":{"S":"6"}
}`

const evalValues = `{
	":abc":{"S":"abc"}, ":ab":{"S":"ab"}, ":b":{"S":"b"}, ":10":{"N":"10"}, ":ten":{"N":"10.00"}, ":9":{"N":"9"},
	":11":{"N":"11"}, ":3":{"N":"3"}, ":0":{"N":"0"}, ":6n":{"N":"6"}, ":6s":{"S":"6"}, ":red":{"S":"red"}, ":1":{"N":"1"},
	":bin":{"B":"AAE="}, ":b1":{"B":"AQ=="}, ":true":{"BOOL":true}, ":null":{"NULL":true}, ":S":{"S":"S"}, ":N":{"S":"N"},
	":SS":{"S":"SS"}, ":NULL":{"S":"NULL"}, ":M":{"S":"M"}, ":L":{"S":"L"}, ":ssv":{"SS":["blue","red"]},
	":x":{"S":"x"}, ":kv":{"M":{"k":{"S":"v"}}}, ":empty":{"S":""}, ":hello":{"S":"hello"}, ":list":{"L":[{"S":"x"}]}
}`

func TestConditionEvaluation(t *testing.T) {
	t.Parallel()
	it := item(t, evalItem)
	for _, tc := range []struct {
		expr string
		want bool
	}{
		{"id = :abc", true},
		{"id <> :abc", false},
		{"id = :ab", false},
		{"n = :ten", true}, // numbers compare by value
		{"n = :6s", false},
		{"sixes = :6n", false}, // {"S":"6"} is not {"N":"6"}
		{"n < :11", true},
		{"n <= :10", true},
		{"n > :9", true},
		{"n >= :11", false},
		{"f < :0", true},
		{"id > :ab", true}, // strings by bytes
		{"id < :b", true},
		{"b > :bin", true},  // binaries by unsigned bytes
		{"n < :abc", false}, // different types never compare
		{"t < :true", false},
		{"absent = :abc", false},
		{"absent <> :abc", true}, // an absent attribute differs from everything
		{"absent <> also_absent", true},
		{"absent = also_absent", false},
		{"absent < :10", false},
		{"ss = :ssv", true}, // sets compare as sets
		{"l[2] = :kv", true},
		{"m.a.b = :1", true},
		{"m.s = :hello", true},
		{"m.a.c = :1", false},
		{"l[5] = :x", false},
		{"n.x = :1", false},
		{"n BETWEEN :9 AND :11", true},
		{"n BETWEEN :10 AND :10", true},
		{"n BETWEEN :11 AND :11", false},
		{"id BETWEEN :ab AND :b", true},
		{"absent BETWEEN :9 AND :11", false},
		{"n IN (:9, :ten)", true},
		{"n IN (:9, :11, :abc)", false},
		{"absent IN (:9)", false},
		{"attribute_exists(id)", true},
		{"attribute_exists(z)", true}, // NULL is a value
		{"attribute_exists(m.a.b)", true},
		{"attribute_exists(l[9])", false},
		{"attribute_not_exists(absent)", true},
		{"attribute_not_exists(id)", false},
		{"attribute_type(id, :S)", true},
		{"attribute_type(n, :N)", true},
		{"attribute_type(ss, :SS)", true},
		{"attribute_type(z, :NULL)", true},
		{"attribute_type(m, :M)", true},
		{"attribute_type(l, :L)", true},
		{"attribute_type(id, :N)", false},
		{"attribute_type(absent, :S)", false},
		{"begins_with(id, :ab)", true},
		{"begins_with(id, :abc)", true},
		{"begins_with(id, :b)", false},
		{"begins_with(id, :empty)", true},
		{"begins_with(b, :bin)", true},
		{"begins_with(n, :ab)", false},
		{"contains(id, :b)", true},
		{"contains(ss, :red)", true},
		{"contains(ss, :ab)", false},
		{"contains(ns, :1)", true},
		{"contains(ns, :6s)", false},
		{"contains(bs, :b1)", true},
		{"contains(b, :b1)", true}, // a binary's subsequence
		{"contains(l, :x)", true},
		{"contains(l, :kv)", true}, // any element equal to the operand
		{"contains(l, :abc)", false},
		{"contains(absent, :x)", false},
		{"NOT contains(absent, :x)", true},
		{"size(id) = :3", true},
		{"size(b) = :3", true},
		{"size(ss) < :3", true},
		{"size(l) = :3", true},
		{"size(m) > :3", false},
		{"size(blank) = :0", true},
		{"size(n) = :1", false}, // a number has no size
		{"size(absent) = :0", false},
		{"size(absent) <> :0", true},
		{"size(:list) = :1", true},
		{"id = :abc AND n = :10", true},
		{"id = :abc AND n = :9", false},
		{"id = :ab OR n = :10", true},
		{"NOT id = :ab", true},
		{"NOT (id = :abc AND n = :10)", false},
		{"id = :ab OR n = :9 OR attribute_exists(t)", true},
		{"id = :abc AND (n = :9 OR n = :10)", true},
		{":abc = :abc", true},
	} {
		c, err := params(t, nil, evalValues).Condition(KindCondition, tc.expr)
		if err != nil {
			t.Errorf("%q: %v", tc.expr, err)
			continue
		}
		if got := c.Eval(it); got != tc.want {
			t.Errorf("%q = %v, want %v", tc.expr, got, tc.want)
		}
	}
}

func TestConditionOnAnAbsentItem(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		expr string
		want bool
	}{
		{"attribute_not_exists(id)", true},
		{"attribute_exists(id)", false},
		{"id <> :abc", true},
		{"id = :abc", false},
	} {
		c, err := params(t, nil, evalValues).Condition(KindCondition, tc.expr)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.Eval(nil); got != tc.want {
			t.Errorf("%q on no item = %v", tc.expr, got)
		}
	}
}

func TestConditionHeads(t *testing.T) {
	t.Parallel()
	c, err := params(t, map[string]string{"#k": "key"}, evalValues).Condition(KindFilter, "m.a = :1 AND (#k = :x OR size(l[1]) > :1) AND b = m.s")
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Heads(); len(got) != 4 || got[0] != "b" || got[1] != "key" || got[2] != "l" || got[3] != "m" {
		t.Errorf("heads = %v", got)
	}
}

func TestProjection(t *testing.T) {
	t.Parallel()
	it := item(t, evalItem)
	for _, tc := range []struct {
		expr  string
		names map[string]string
		want  string
	}{
		{expr: "id", want: `{"id":{"S":"abc"}}`},
		{expr: "id, n, absent", want: `{"id":{"S":"abc"},"n":{"N":"10"}}`},
		{expr: "m.a.b, m.x", want: `{"m":{"M":{"a":{"M":{"b":{"N":"1"}}}}}}`},
		{expr: "l[2].k, l[0], l[7]", want: `{"l":{"L":[{"S":"x"},{"M":{"k":{"S":"v"}}}]}}`},
		{expr: "#m.#s", names: map[string]string{"#m": "m", "#s": "s"}, want: `{"m":{"M":{"s":{"S":"hello"}}}}`},
		{expr: "absent, n.x, l[1].y", want: `{}`},
	} {
		pr, err := params(t, tc.names, "").Projection(tc.expr)
		if err != nil {
			t.Errorf("%q: %v", tc.expr, err)
			continue
		}
		if got := itemJSON(pr.Apply(it)); got != tc.want {
			t.Errorf("%q:\n got %s\nwant %s", tc.expr, got, tc.want)
		}
	}
}

func TestProjectionRefusals(t *testing.T) {
	t.Parallel()
	const pe = "Invalid ProjectionExpression: "
	for _, tc := range []struct {
		expr  string
		names map[string]string
		want  string
	}{
		{expr: "", want: pe + "The expression can not be empty;"},
		{expr: "a, status", want: pe + "Attribute name is a reserved keyword; reserved keyword: status"},
		{expr: "a, #b", want: pe + "An expression attribute name used in the document path is not defined; attribute name: #b"},
		{expr: "a, a", want: pe + "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a]"},
		{expr: "a.b, a", want: pe + "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a, b], path two: [a]"},
		{expr: "a.b, #a[1]", names: map[string]string{"#a": "a"}, want: pe + "Two document paths conflict with each other; must remove or rewrite one of these paths; path one: [a, b], path two: [a, [1]]"},
		{expr: "a b", want: "syntax"},
		{expr: "(a)", want: "syntax"},
		{expr: "a,", want: "syntax"},
		{expr: "a[x]", want: "syntax"},
		{expr: ":a", want: "syntax"},
	} {
		_, err := params(t, tc.names, "").Projection(tc.expr)
		got := validationMessage(t, err)
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
