package expr

import (
	"regexp"
	"strings"
	"testing"
)

func filterError(t *testing.T, expr string, names map[string]string, values string) string {
	t.Helper()
	_, err := params(t, names, values).Condition(KindFilter, expr)
	return validationMessage(t, err)
}

func TestConditionSyntaxErrors(t *testing.T) {
	t.Parallel()
	for _, expr := range []string{
		"things are not gonna be ok",
		"a > 4",
		"attribute_exists(Pictures-RearView)",
		`attribute_exists("Pictures.RearView")`,
		"attribute_exists(Pictures..RearView)",
		"attribute_exists(Pi#ctures.RearView)",
		"attribute_exists(asdf[a])",
		"a in b, c",
		"a > between",
		"a in b",
		"a in (b,c,)",
		"(a)between(b.(c.d))and(c)",
		"(a)between(b.c.d)and((c)",
		"#$.b > a",
		"a > :things.stuff",
		"b[:a] > a",
		"b[#_] > a",
		"ü > a",
		"(a)between(b.c[4.5].#d)and(:a)",
		"size(a).b > a",
		"(size(a)).b > a",
		"size(a)[0] > a",
		"(size(a))[0] > a",
		"a",
		"a = ",
		"NOT",
		"a = b AND",
		"a != b",
		"a == b",
		"a = b c",
		"(a = b",
		"a = b)",
		"a = b OR OR c = d",
		"a.and = b",
	} {
		msg := filterError(t, expr, nil, "")
		if !strings.HasPrefix(msg, "Invalid FilterExpression: Syntax error; token: ") {
			t.Errorf("%q: %q, want a syntax error", expr, msg)
		}
	}
}

// The syntax errors below are DynamoDB's own answers, as captured.
func TestSyntaxErrorsNameTheTokenAndItsNeighbours(t *testing.T) {
	t.Parallel()
	p := params(t, nil, `{":v":{"S":"v"},":incr":{"N":"1"}}`)
	_, err := p.Update("INVALID SYNTAX HERE")
	if got := validationMessage(t, err); got != `Invalid UpdateExpression: Syntax error; token: "INVALID", near: "INVALID SYNTAX"` {
		t.Errorf("got %q", got)
	}
	_, err = p.Update("ADD hits : incr")
	if got := validationMessage(t, err); got != `Invalid UpdateExpression: Syntax error; token: ":", near: "hits : incr"` {
		t.Errorf("got %q", got)
	}
	_, err = p.Projection("!!")
	if got := validationMessage(t, err); got != `Invalid ProjectionExpression: Syntax error; token: "!", near: "!!"` {
		t.Errorf("got %q", got)
	}
	_, err = p.KeyCondition("()")
	if got := validationMessage(t, err); got != `Invalid KeyConditionExpression: Syntax error; token: ")", near: "()"` {
		t.Errorf("got %q", got)
	}
	_, err = p.Update("SET a = :v, #, b = :v")
	if got := validationMessage(t, err); got != `Invalid UpdateExpression: Syntax error; token: "#", near: ", #,"` {
		t.Errorf("got %q", got)
	}
	_, err = p.Update("SET a = :v, updated updated = :v")
	if got := validationMessage(t, err); got != `Invalid UpdateExpression: Syntax error; token: "updated", near: "updated updated ="` {
		t.Errorf("got %q", got)
	}
	_, err = p.Update("SET a")
	if got := validationMessage(t, err); got != `Invalid UpdateExpression: Syntax error; token: "<EOF>", near: "a"` {
		t.Errorf("got %q", got)
	}
}

func TestConditionSemanticErrorsAreWordedAsDynamoDB(t *testing.T) {
	t.Parallel()
	const f = "Invalid FilterExpression: "
	for _, tc := range []struct {
		expr   string
		names  map[string]string
		values string
		want   string
	}{
		{expr: "", want: f + "The expression can not be empty;"},
		// Redundant parentheses come first.
		{expr: "a=a and a > ((views))", want: f + "The expression has redundant parentheses;"},
		{expr: "(a)between(((b.c)).d)and(c)", want: f + "The expression has redundant parentheses;"},
		{expr: "a > whatever((:things), ((a)))", want: f + "The expression has redundant parentheses;"},
		{expr: "a=a AND ((a=a AND a=a)) AND a=a", want: f + "The expression has redundant parentheses;"},
		{expr: "a=a OR ((a=a OR a=a)) OR a=a", want: f + "The expression has redundant parentheses;"},
		{expr: "a=a AND ((a=a AND (a=a AND a=a)))", want: f + "The expression has redundant parentheses;"},
		{expr: "a=a OR ((a=a OR (a=a OR a=a)))", want: f + "The expression has redundant parentheses;"},
		// Then unknown functions, case-sensitively.
		{expr: "a=a and whatever((:things)) > a", want: f + "Invalid function name; function: whatever"},
		{expr: "attRIbute_exIsts((views), #a)", want: f + "Invalid function name; function: attRIbute_exIsts"},
		{expr: "if_not_exists(a, b) = c", want: f + "Invalid function name; function: if_not_exists"},
		// Then functions where they cannot be.
		{expr: "a=a and attribute_exists((views), (#a)) > b", want: f + "The function is not allowed to be used this way in an expression; function: attribute_exists"},
		{expr: "attribute_not_exists(things) > b", want: f + "The function is not allowed to be used this way in an expression; function: attribute_not_exists"},
		{expr: "attribute_type(things, :a) > b", want: f + "The function is not allowed to be used this way in an expression; function: attribute_type"},
		{expr: "begins_with(things, a) > b", want: f + "The function is not allowed to be used this way in an expression; function: begins_with"},
		{expr: "contains(:things, c) > b", want: f + "The function is not allowed to be used this way in an expression; function: contains"},
		{expr: "size(contains(a, b)) > a", want: f + "The function is not allowed to be used this way in an expression; function: contains"},
		{expr: "size(things)", want: f + "The function is not allowed to be used this way in an expression; function: size"},
		{expr: "a between b and attribute_exists(things)", want: f + "The function is not allowed to be used this way in an expression; function: attribute_exists"},
		{expr: "a in (b, attribute_exists(things))", want: f + "The function is not allowed to be used this way in an expression; function: attribute_exists"},
		// Then reserved words, as written.
		{expr: "attribute_exists(views, #a)", want: f + "Attribute name is a reserved keyword; reserved keyword: views"},
		{expr: ":a < abOrT", want: f + "Attribute name is a reserved keyword; reserved keyword: abOrT"},
		{expr: "#s = :v AND status = :v", names: map[string]string{"#s": "status"}, values: `{":v":{"S":"x"}}`, want: f + "Attribute name is a reserved keyword; reserved keyword: status"},
		// Then the first test with a problem: undefined placeholders first.
		{expr: "attribute_exists(#Pictures.RearView, :a) and a=a", want: f + "An expression attribute name used in the document path is not defined; attribute name: #Pictures"},
		{expr: "begins_with(Pictures.#RearView)", want: f + "An expression attribute name used in the document path is not defined; attribute name: #RearView"},
		{expr: "(#P between :lo and :hi) and (#PC in (:cat1, :cat2))", want: f + "An expression attribute name used in the document path is not defined; attribute name: #P"},
		{expr: "#4g > a", want: f + "An expression attribute name used in the document path is not defined; attribute name: #4g"},
		{expr: "#_ > a", want: f + "An expression attribute name used in the document path is not defined; attribute name: #_"},
		{expr: "(a)between(b.c[45].#d)and(:a)", want: f + "An expression attribute name used in the document path is not defined; attribute name: #d"},
		{expr: "begins_with(:hello, #a, #b)", names: map[string]string{"#a": "a", "#b": "b"}, want: f + "An expression attribute value used in expression is not defined; attribute value: :hello"},
		{expr: ":a < :b", want: f + "An expression attribute value used in expression is not defined; attribute value: :a"},
		{expr: ":_ > a", want: f + "An expression attribute value used in expression is not defined; attribute value: :_"},
		// Operand counts.
		{expr: "attribute_exists(things, a) and a=a", want: f + "Incorrect number of operands for operator or function; operator or function: attribute_exists, number of operands: 2"},
		{expr: "attribute_not_exists(things, b)", want: f + "Incorrect number of operands for operator or function; operator or function: attribute_not_exists, number of operands: 2"},
		{expr: "attribute_type(things)", want: f + "Incorrect number of operands for operator or function; operator or function: attribute_type, number of operands: 1"},
		{expr: "begins_with(things)", want: f + "Incorrect number of operands for operator or function; operator or function: begins_with, number of operands: 1"},
		{expr: "begins_with(things, size(a), b)", want: f + "Incorrect number of operands for operator or function; operator or function: begins_with, number of operands: 3"},
		{expr: "contains(things)", want: f + "Incorrect number of operands for operator or function; operator or function: contains, number of operands: 1"},
		{expr: "size(things, a) > b", want: f + "Incorrect number of operands for operator or function; operator or function: size, number of operands: 2"},
		// Operand types.
		{expr: "attribute_type(a, size(a)) and a=a and a=:a", values: `{":a":{"N":"1"}}`, want: f + "Incorrect operand type for operator or function; operator or function: attribute_type, operand type: N"},
		{expr: "attribute_type(a, :a)", values: `{":a":{"B":"YQ=="}}`, want: f + "Incorrect operand type for operator or function; operator or function: attribute_type, operand type: B"},
		{expr: "attribute_type(a, :a)", values: `{":a":{"BOOL":true}}`, want: f + "Incorrect operand type for operator or function; operator or function: attribute_type, operand type: BOOL"},
		{expr: "attribute_type(a, :a)", values: `{":a":{"SS":["1"]}}`, want: f + "Incorrect operand type for operator or function; operator or function: attribute_type, operand type: SS"},
		{expr: "attribute_type(a, b)", want: f + "Incorrect operand type for operator or function; operator or function: attribute_type, operand type: {NS,SS,L,BS,N,M,B,BOOL,NULL,S}"},
		{expr: "begins_with(a, size(a)) and a=:a", values: `{":a":{"N":"1"}}`, want: f + "Incorrect operand type for operator or function; operator or function: begins_with, operand type: N"},
		{expr: "begins_with(a, :a)", values: `{":a":{"M":{}}}`, want: f + "Incorrect operand type for operator or function; operator or function: begins_with, operand type: M"},
		{expr: "begins_with(:a, a)", values: `{":a":{"NULL":true}}`, want: f + "Incorrect operand type for operator or function; operator or function: begins_with, operand type: NULL"},
		{expr: "size(size(a)) > :a", values: `{":a":{"N":"1"}}`, want: f + "Incorrect operand type for operator or function; operator or function: size, operand type: N"},
		{expr: "attribute_not_exists(size(:a))", values: `{":a":{"N":"1"}}`, want: f + "Incorrect operand type for operator or function; operator or function: size, operand type: N"},
		{expr: "size(:a) > a", values: `{":a":{"BOOL":true}}`, want: f + "Incorrect operand type for operator or function; operator or function: size, operand type: BOOL"},
		{expr: "attribute_type(a, :a)", values: `{":a":{"S":"1"}}`, want: f + "Invalid attribute type name found; type: 1, valid types: {B,NULL,SS,BOOL,L,BS,N,NS,S,M}"},
		{expr: "attribute_exists(:a) and a=a", values: `{":a":{"S":"1"}}`, want: f + "Operator or function requires a document path; operator or function: attribute_exists"},
		{expr: "attribute_not_exists(size(:a))", values: `{":a":{"S":"1"}}`, want: f + "Operator or function requires a document path; operator or function: attribute_not_exists"},
		// Operands that are one path.
		{expr: "a = a AND #a = b AND :views > a", names: map[string]string{"#a": "a"}, values: `{":views":{"N":"1"}}`, want: f + "The first operand must be distinct from the remaining operands for this operator or function; operator: =, first operand: [a]"},
		{expr: "#a <> a", names: map[string]string{"#a": "a"}, want: f + "The first operand must be distinct from the remaining operands for this operator or function; operator: <>, first operand: [a]"},
		{expr: "((a=a) OR (a=a))", want: f + "The first operand must be distinct from the remaining operands for this operator or function; operator: =, first operand: [a]"},
		{expr: "contains(ab.bc[1].a, ab.bc[1].#a)", names: map[string]string{"#a": "a"}, want: f + "The first operand must be distinct from the remaining operands for this operator or function; operator: contains, first operand: [ab, bc, [1], a]"},
		// BETWEEN's bounds.
		{expr: "a between :b and :a", values: `{":a":{"S":"a"},":b":{"N":"1"}}`, want: f + "The BETWEEN operator requires same data type for lower and upper bounds; lower bound operand: AttributeValue: {N:1}, upper bound operand: AttributeValue: {S:a}"},
		{expr: "a between :b and :a", values: `{":a":{"S":"a"},":b":{"S":"b"}}`, want: f + "The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: {S:b}, upper bound operand: AttributeValue: {S:a}"},
		// A problem in an earlier test outranks a higher-ranked one in a later test.
		{expr: "attribute_exists(:v) AND #missing = :v", values: `{":v":{"S":"x"}}`, want: f + "Operator or function requires a document path; operator or function: attribute_exists"},
	} {
		if got := filterError(t, tc.expr, tc.names, tc.values); got != tc.want {
			t.Errorf("%q:\n got %q\nwant %q", tc.expr, got, tc.want)
		}
	}
}

func TestConditionLimits(t *testing.T) {
	t.Parallel()
	long := "attribute_exists(" + strings.Repeat("a", MaxExpressionSize) + ")"
	if got := filterError(t, long, nil, ""); got != "Invalid FilterExpression: Expression size has exceeded the maximum allowed size; expression size: 4114" {
		t.Errorf("size: %q", got)
	}
	atLimit := "attribute_exists(" + strings.Repeat("a", MaxExpressionSize-18) + ")"
	if got := filterError(t, atLimit, nil, ""); got != "" {
		t.Errorf("an expression of %d bytes: %q", len(atLimit), got)
	}
	ops := strings.Repeat("a < b AND ", 150) + "a < b"
	if got := filterError(t, ops, nil, ""); got != "Invalid FilterExpression: The expression contains too many operators; operator count: 301" {
		t.Errorf("operators: %q", got)
	}
	values := `{":v":{"S":"x"}}`
	in := "a IN (" + strings.TrimSuffix(strings.Repeat(":v, ", 101), ", ") + ")"
	if got := filterError(t, in, nil, values); got != "Invalid FilterExpression: The IN operator is provided with too many operands; number of operands: 101" {
		t.Errorf("IN: %q", got)
	}
}

func TestConditionsThatParse(t *testing.T) {
	t.Parallel()
	names := map[string]string{"#s": "status", "#pk": "pk", "#a": "a"}
	values := `{":v":{"S":"x"},":n":{"N":"1"},":t":{"S":"SS"},":l":{"L":[]}}`
	for _, expr := range []string{
		"(attribute_not_exists(#pk)) AND (attribute_not_exists(#s))",
		"(attribute_not_exists(#pk) AND attribute_not_exists(#s))",
		"(attribute_not_exists(#pk) AND (attribute_not_exists(#s)))",
		"(#s = :v OR (#s = :v))",
		"NOT NOT a = :v",
		"NOT (a = :v OR b = :v)",
		"(a) = (:v)",
		"(size(a)) > :n",
		"size(a.b[1].c) >= :n",
		"(a.b).c = :v",
		"a BETWEEN :n AND :n",
		"a in (:v, :n, b)",
		"attribute_type(#a, :t)",
		"contains(a, :v) or begins_with(b, :v)",
		"  a\t=\n:v  ",
		"a[0][1].b = :v",
		"and1 = :v",
		":v = :v",
		"contains(a, :l)",
		"a = :v and b = :v or c = :v and not d = :v",
	} {
		if got := filterError(t, expr, names, values); got != "" {
			t.Errorf("%q: %q", expr, got)
		}
	}
}

var syntaxShape = regexp.MustCompile(`^Invalid (Filter|Condition|KeyCondition|Update|Projection)Expression: Syntax error; token: ".*", near: ".*"$`)
