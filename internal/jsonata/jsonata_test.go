package jsonata

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/kiri-run/kiri/internal/jsonobj"
)

const testInput = `{
  "Account": {
    "Name": "Firefly",
    "Order": [
      {"OrderID": "order103", "Product": [
        {"Name": "Bowler Hat", "ID": 858383, "Price": 34.45, "Quantity": 2},
        {"Name": "Trilby hat", "ID": 858236, "Price": 21.67, "Quantity": 1}]},
      {"OrderID": "order104", "Product": [
        {"Name": "Bowler Hat", "ID": 858383, "Price": 34.45, "Quantity": 4},
        {"Name": "Cloak", "ID": 345664, "Price": 107.99, "Quantity": 1}]}
    ]
  },
  "states": {"input": {"n": 3, "items": [1, 2, 3], "name": "kiri", "flag": true, "none": null}}
}`

func mustInput(t testing.TB) any {
	v, err := jsonobj.Decode([]byte(testInput))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestEvaluate(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, expr, want string // want is JSON; "" means undefined
	}{
		{"field path", `Account.Name`, `"Firefly"`},
		{"missing path is undefined", `Account.Nothing`, ``},
		{"path over arrays flattens", `Account.Order.Product.Price`, `[34.45,21.67,34.45,107.99]`},
		{"singleton sequence collapses", `Account.Order[0].OrderID`, `"order103"`},
		{"keep array", `Account.Order[0].OrderID[]`, `["order103"]`},
		{"negative index", `Account.Order.Product[-1].Name`, `["Trilby hat","Cloak"]`},
		{"predicate", `Account.Order.Product[Price > 30].Name`, `["Bowler Hat","Bowler Hat","Cloak"]`},
		{"wildcard flattens", `states.input.*`, `[3,1,2,3,"kiri",true,null]`},
		{"descendants", `$count(**.Price)`, `4`},
		{"arithmetic", `1 + 2 * 3 - 4 / 2 % 3`, `5`},
		{"unary minus", `-states.input.n`, `-3`},
		{"string concat", `"a" & 1 & true & null`, `"a1truenull"`},
		{"comparison", `[1 < 2, 2 <= 2, "b" > "a", 1 >= 2, 1 = 1, 1 != 1]`, `[true,true,true,false,true,false]`},
		{"boolean operators", `true and false or true`, `true`},
		{"in", `2 in states.input.items`, `true`},
		{"range", `[1..4]`, `[1,2,3,4]`},
		{"conditional", `states.input.n > 2 ? "big" : "small"`, `"big"`},
		{"elvis", `states.input.none ?: "dflt"`, `"dflt"`},
		{"coalesce", `states.input.missing ?? 7`, `7`},
		{"block and binding", `($x := 2; $y := 3; $x * $y)`, `6`},
		{"object constructor", `{"n": states.input.n, "name": $uppercase(states.input.name)}`, `{"n":3,"name":"KIRI"}`},
		{"grouping", `Account.Order.Product{Name: $sum(Quantity)}`, `{"Bowler Hat":6,"Trilby hat":1,"Cloak":1}`},
		{"sort", `Account.Order.Product^(>Price).Price`, `[107.99,34.45,34.45,21.67]`},
		{"positional binding", `Account.Order#$i.(OrderID & $string($i))`, `["order1030","order1041"]`},
		{"context binding", `Account@$a.Account.Order.($a.Name & "/" & OrderID)`, `["Firefly/order103","Firefly/order104"]`},
		{"parent", `Account.Order.Product.{"o": %.OrderID, "n": Name}[0]`, `{"o":"order103","n":"Bowler Hat"}`},
		{"lambda", `($f := function($x){$x * 2}; $f(21))`, `42`},
		{"closure", `($add := function($a){function($b){$a + $b}}; $add(1)(2))`, `3`},
		{"partial application", `($p := $substring(?, 0, 2); $p("hello"))`, `"he"`},
		{"chain", `"  hi " ~> $trim ~> $uppercase`, `"HI"`},
		{"function composition", `($f := $trim ~> $uppercase; $f(" a "))`, `"A"`},
		{"transform", `states.input ~> |$|{"n": 4}, ["items"]|`, `{"n":4,"name":"kiri","flag":true,"none":null}`},
		{"regex match", `$match("ab12cd34", /\d+/).match`, `["12","34"]`},
		{"regex replace", `$replace("John Smith", /(\w+)\s(\w+)/, "$2, $1")`, `"Smith, John"`},
		{"regex with JavaScript escapes", `[$contains("hello$world", /^hello\$/), $contains("a b", /a\ b/), $contains("é", /\u00e9/)]`, `[true,true,true]`},
		{"split", `$split("a,b,c", ",")`, `["a","b","c"]`},
		{"contains regex", `$contains("abc", /B/i)`, `true`},
		{"map filter reduce", `$reduce($filter($map([1,2,3,4], function($v){$v*10}), function($v){$v>10}), function($a,$b){$a+$b})`, `90`},
		{"sift", `$sift({"a":1,"b":2}, function($v){$v>1})`, `{"b":2}`},
		{"each", `$each({"a":1}, function($v,$k){$k & $v})`, `"a1"`},
		{"single", `$single([1,2,3], function($v){$v=2})`, `2`},
		{"aggregates", `[$sum([1,2]), $max([1,5]), $min([3,2]), $average([1,3]), $count([1,2,3])]`, `[3,5,2,2,3]`},
		{"string functions", `[$substring("hello", 1, 3), $substringBefore("a-b", "-"), $substringAfter("a-b", "-"), $length("héllo"), $pad("x", 3, "#"), $pad("x", -3)]`, `["ell","a","b",5,"x##","  x"]`},
		{"join", `$join(["a","b"], "+")`, `"a+b"`},
		{"number functions", `[$number("12.5"), $floor(1.5), $ceil(1.2), $round(2.5), $round(3.14159, 2), $abs(-2), $sqrt(16), $power(2, 10)]`, `[12.5,1,2,2,3.14,2,4,1024]`},
		{"string of object", `$string({"a": [1, 2.5]})`, `"{\"a\":[1,2.5]}"`},
		{"boolean and not", `[$boolean(""), $boolean([0, 1]), $not(true)]`, `[false,true,false]`},
		{"keys", `$keys({"a":1,"b":2})`, `["a","b"]`},
		{"lookup", `$lookup({"a":1}, "a")`, `1`},
		{"merge", `$merge([{"a":1},{"b":2}])`, `{"a":1,"b":2}`},
		{"spread", `$spread({"a":1,"b":2})`, `[{"a":1},{"b":2}]`},
		{"array constructor flattens", `[$append([1], 2), $reverse([3,4]), $distinct([5,5])]`, `[1,2,4,3,5]`},
		{"nested array constructor", `[[1], [2, 3]]`, `[[1],[2,3]]`},
		{"exists and type", `[$exists(states.input.none), $exists(states.nothing), $type(1), $type("s"), $type(null), $type({}), $type([]), $type($sum)]`, `[true,false,"number","string","null","object","array","function"]`},
		{"zip", `$zip([1,2],[3,4])`, `[[1,3],[2,4]]`},
		{"sort function", `$sort([3,1,2])`, `[1,2,3]`},
		{"sort with comparator", `$sort(["bb","a","ccc"], function($a,$b){$length($a) > $length($b)})`, `["a","bb","ccc"]`},
		{"base64", `$base64decode($base64encode("kiri"))`, `"kiri"`},
		{"url encoding", `[$encodeUrlComponent("a b&c"), $decodeUrl("a%20b")]`, `["a%20b%26c","a b"]`},
		{"eval", `$eval("1 + $x", {"x": 1})`, ``},
		{"eval with context", `$eval("a + 1", {"a": 1})`, `2`},
		{"formatBase", `$formatBase(255, 16)`, `"ff"`},
		{"fromMillis", `$fromMillis(1510067557121)`, `"2017-11-07T15:12:37.121Z"`},
		{"toMillis", `$toMillis("2017-11-07T15:12:37.121Z")`, `1510067557121`},
		{"formatNumber", `$formatNumber(1234567.891, "#,##0.00")`, `"1,234,567.89"`},
		{"formatNumber percent and exponent", `[$formatNumber(0.25, "#%"), $formatNumber(1234.5, "0.0e0")]`, `["25%","1.2e3"]`},
		{"formatInteger", `[$formatInteger(1999, "I"), $formatInteger(21, "w"), $formatInteger(3, "1;o"), $formatInteger(1234567, "#,##0")]`, `["MCMXCIX","twenty-one","3rd","1,234,567"]`},
		{"parseInteger", `[$parseInteger("MCMXCIX", "I"), $parseInteger("twenty-one", "w"), $parseInteger("1,234", "#,##0")]`, `[1999,21,1234]`},
		{"fromMillis with picture and zone", `$fromMillis(1510067557121, "[D1o] [MNn] [Y0001], [h]:[m01][P] [z]", "-0500")`, `"7th November 2017, 10:12am GMT-05:00"`},
		{"toMillis with picture", `$toMillis("2018-07-04 10:30", "[Y]-[M]-[D] [H]:[m]")`, `1530700200000`},
		{"now and millis agree", `$toMillis($now()) = $millis()`, `true`},
		{"random in range", `$random() < 1`, `true`},
		{"shuffle keeps members", `$sort($shuffle([3,1,2]))`, `[1,2,3]`},
		{"clone", `$clone({"a":[1]})`, `{"a":[1]}`},
		{"case", `[$lowercase("AbC"), $uppercase("aBc")]`, `["abc","ABC"]`},
		{"trim collapses spaces", `$trim("  a   b  ")`, `"a b"`},
		{"string pretty", `$string({"a":1}, true)`, `"{\n  \"a\": 1\n}"`},
		{"filter by index", `[10,20,30][[0,2]]`, `[10,30]`},
		{"regex as function", `/b+/("abbbc").match`, `"bbb"`},
		{"comments", `/* c */ 1 /* d */ + 1`, `2`},
		{"backquoted names", "states.input.`name`", `"kiri"`},
		{"root variable", `$$.states.input.n`, `3`},
	}
	input := mustInput(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e, err := Compile(c.expr)
			if err != nil {
				t.Fatalf("Compile(%q): %v", c.expr, err)
			}
			got, defined, err := e.Evaluate(input, nil)
			if err != nil {
				t.Fatalf("Evaluate(%q): %v", c.expr, err)
			}
			if c.want == "" {
				if defined {
					t.Fatalf("Evaluate(%q) = %v, want undefined", c.expr, got)
				}
				return
			}
			b, _ := Marshal(got)
			w, _ := jsonobj.Decode([]byte(c.want))
			wb, _ := Marshal(w)
			if !defined || string(b) != string(wb) {
				t.Fatalf("Evaluate(%q) = %s (defined %v), want %s", c.expr, b, defined, wb)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, expr, code, message string }{
		{"unterminated string", `"abc`, "S0101", "String literal must be terminated by a matching quote"},
		{"syntax error", `1 +`, "S0207", "Unexpected end of expression"},
		{"expected token", `(1`, "S0203", `Expected ")" before end of expression`},
		{"non-numeric left side", `"a" + 1`, "T2001", `The left side of the "+" operator must evaluate to a number`},
		{"non-numeric right side", `1 * "b"`, "T2002", `The right side of the "*" operator must evaluate to a number`},
		{"mixed comparison", `1 < "a"`, "T2009", `The values 1 and "a" either side of operator "<" must be of the same data type`},
		{"bad argument", `$substring("a", "b")`, "T0410", `Argument 2 of function "substring" does not match function signature`},
		{"context of wrong type", `$substring(1)`, "T0411", `Context value is not a compatible type with argument 1 of function "substring"`},
		{"not a function", `$foo()`, "T1006", `Attempted to invoke a non-function`},
		{"number cast", `$number("x")`, "D3030", `Unable to cast value to a number: "x"`},
		{"error function", `$error("boom")`, "D3137", `boom`},
		{"assert", `$assert(false, "nope")`, "D3141", `nope`},
		{"regular expression RE2 cannot run", `$match("aa", /(a)\1/)`, "S0303", ""},
		{"padding too wide", `$pad("x", 1e9)`, "D1001", "Number out of range: 1000000000"},
		{"nesting too deep to parse", strings.Repeat("(", 5000), "D1011", ""},
		{"runaway recursion", `($f := function($x){$f($x) + 1}; $f(1))`, "D1011", ``},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e, err := Compile(c.expr)
			if err == nil {
				_, _, err = e.Evaluate(nil, nil)
			}
			var je *Error
			if !errors.As(err, &je) {
				t.Fatalf("%q: got %v, want error %s", c.expr, err, c.code)
			}
			if je.Code != c.code || (c.message != "" && je.Message != c.message) {
				t.Fatalf("%q: got %s %q, want %s %q", c.expr, je.Code, je.Message, c.code, c.message)
			}
		})
	}
}

func TestVariablesAndFuncs(t *testing.T) {
	t.Parallel()
	e, err := Compile(`{"sum": $partition($states.input.items, 2), "v": $myVar, "n": $states.input.n}`)
	if err != nil {
		t.Fatal(err)
	}
	part := Func(func(args []any) (any, error) {
		items := args[0].([]any)
		n := int(args[1].(float64))
		var out []any
		for i := 0; i < len(items); i += n {
			out = append(out, items[i:min(i+n, len(items))])
		}
		return out, nil
	})
	states := map[string]any{"input": map[string]any{"items": []any{1.0, 2.0, 3.0}, "n": json.Number("5")}}
	got, defined, err := e.Evaluate(nil, map[string]any{"states": states, "myVar": "x", "partition": part})
	if err != nil || !defined {
		t.Fatalf("got %v %v", err, defined)
	}
	b, _ := Marshal(got)
	if want := `{"sum":[[1,2],[3]],"v":"x","n":5}`; string(b) != want {
		t.Fatalf("got %s, want %s", b, want)
	}
	// A Func's error surfaces as D3137 with its text.
	fail := Func(func(args []any) (any, error) { return nil, errors.New("no partition") })
	_, _, err = e.Evaluate(nil, map[string]any{"states": states, "partition": fail})
	var je *Error
	if !errors.As(err, &je) || je.Code != "D3137" || je.Message != "no partition" {
		t.Fatalf("got %v", err)
	}
}

func TestMarshalNumbersAsJavaScript(t *testing.T) {
	t.Parallel()
	cases := map[float64]string{1: "1", 1.5: "1.5", 1e21: "1e+21", 1e-7: "1e-7", 123456789012: "123456789012", -0.000001: "-0.000001", 0.30000000000000004: "0.30000000000000004"}
	for f, want := range cases {
		b, err := Marshal(f)
		if err != nil || string(b) != want {
			t.Errorf("Marshal(%v) = %s, want %s", f, b, want)
		}
	}
	b, _ := Marshal(map[string]any{"b": []any{1.0, nil}, "a": "x\n"})
	if want := `{"a":"x\n","b":[1,null]}`; string(b) != want {
		t.Errorf("got %s, want %s", b, want)
	}
}

func TestExprIsSafeForConcurrentUse(t *testing.T) {
	t.Parallel()
	e, err := Compile(`Account.Order#$i.{"id": OrderID, "i": $i, "total": $sum(Product.(Price * Quantity))}^(>total)`)
	if err != nil {
		t.Fatal(err)
	}
	input := mustInput(t)
	want, _, err := e.Evaluate(input, nil)
	if err != nil {
		t.Fatal(err)
	}
	wb, _ := Marshal(want)
	if w := `[{"id":"order104","i":1,"total":245.79000000000002},{"id":"order103","i":0,"total":90.57000000000001}]`; string(wb) != w {
		t.Fatalf("Evaluate = %s, want %s", wb, w)
	}
	done := make(chan string)
	for range 4 {
		go func() {
			var last string
			for range 50 {
				got, _, err := e.Evaluate(input, nil)
				if err != nil {
					last = err.Error()
					break
				}
				b, _ := Marshal(got)
				last = string(b)
			}
			done <- last
		}()
	}
	for range 4 {
		if got := <-done; got != string(wb) {
			t.Errorf("concurrent Evaluate = %s, want %s", got, wb)
		}
	}
}

func TestFunctionResultsAreFunctions(t *testing.T) {
	t.Parallel()
	for _, expr := range []string{`$sum`, `function($x){$x}`, `{"f": $uppercase, "n": 1}`, `[1, $substring(?, 1)]`} {
		e, err := Compile(expr)
		if err != nil {
			t.Fatal(err)
		}
		v, _, err := e.Evaluate(nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		switch r := v.(type) {
		case Function:
		case *jsonobj.Object:
			if f, _ := r.Get("f"); f == nil {
				t.Errorf("%s: %#v", expr, v)
			} else if _, ok := f.(Function); !ok {
				t.Errorf("%s: %#v", expr, v)
			}
		case []any:
			if _, ok := r[1].(Function); !ok {
				t.Errorf("%s: %#v", expr, v)
			}
		default:
			t.Errorf("%s: %#v is no Function", expr, v)
		}
		b, _ := Marshal(v)
		if expr == `{"f": $uppercase, "n": 1}` && string(b) != `{"f":"","n":1}` {
			t.Errorf("Marshal: %s", b)
		}
	}
	// a function handed back in is the function again
	e, _ := Compile(`$f("ab")`)
	f, _, _ := mustCompile(t, `$uppercase`).Evaluate(nil, nil)
	v, _, err := e.Evaluate(nil, map[string]any{"f": f})
	if err != nil || v != "AB" {
		t.Errorf("$f(\"ab\") = %v, %v", v, err)
	}
}

func mustCompile(t *testing.T, expr string) *Expr {
	t.Helper()
	e, err := Compile(expr)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestOrderedObjectsFlowThrough(t *testing.T) {
	t.Parallel()
	in, err := jsonobj.Decode([]byte(`{"z":1,"a":{"y":2,"b":3}}`))
	if err != nil {
		t.Fatal(err)
	}
	for expr, want := range map[string]string{
		`$`:                             `{"z":1,"a":{"y":2,"b":3}}`,
		`{"q": a, "c": z}`:              `{"q":{"y":2,"b":3},"c":1}`,
		`$merge([$, {"a": 0, "n": 1}])`: `{"z":1,"a":0,"n":1}`,
		`$v`:                            `{"z":1,"a":{"y":2,"b":3}}`,
	} {
		e, err := Compile(expr)
		if err != nil {
			t.Fatal(err)
		}
		v, _, err := e.Evaluate(in, map[string]any{"v": in})
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := v.(*jsonobj.Object); !ok {
			t.Errorf("%s: %T is no *jsonobj.Object", expr, v)
		}
		if got := string(jsonobj.Marshal(v)); got != want {
			t.Errorf("%s: got %s, want %s", expr, got, want)
		}
		if b, _ := Marshal(v); string(b) != want {
			t.Errorf("%s: Marshal gives %s, want %s", expr, b, want)
		}
	}
}
