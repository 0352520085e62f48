package jsonata

import (
	"encoding/json"
	"testing"
	"time"
)

// FuzzCompileEvaluate checks that no expression makes Compile or Evaluate
// panic or return an error that is not an *Error.
func FuzzCompileEvaluate(f *testing.F) {
	for _, s := range []string{
		`Account.Order.Product[Price > 30].Name`, `$sum(a.b)`, `{"a": [1..3]}`, `$map([1,2], function($v){$v*2})`,
		`a ~> |b|{"c": 1}|`, `%.x`, `$x := 1`, `/a+/`, `$replace("x", /x/, "$1")`, `**[0]`, `a^(>b)`, `a#$i@$j`,
		`$fromMillis(0, "[Y0001]-[M01]-[D01]")`, `$formatNumber(1234.5, "#,##0.00")`, `$eval("1+")`, `(`, `[1,2`,
	} {
		f.Add(s, `{"a": {"b": [1, 2, {"c": "x"}]}, "x": null}`)
	}
	f.Fuzz(func(t *testing.T, expr, input string) {
		e, err := Compile(expr)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("Compile(%q): %T %v", expr, err, err)
			}
			return
		}
		var in any
		if json.Unmarshal([]byte(input), &in) != nil {
			in = nil
		}
		_, _, err = e.evaluateResult(in, nil, 200, time.Second)
		if err != nil {
			je, ok := err.(*Error)
			if !ok {
				t.Fatalf("Evaluate(%q): %T %v", expr, err, err)
			}
			if je.Code == "U0000" {
				t.Fatalf("Evaluate(%q): %s", expr, je.Message)
			}
		}
	})
}

// BenchmarkEvaluate evaluates a typical Step Functions JSONata expression
// (an Output/Arguments template over $states).
func BenchmarkEvaluate(b *testing.B) {
	e, err := Compile(`{
  "orderId": $states.input.order.id,
  "total": $sum($states.input.order.items.(price * quantity)),
  "skus": $states.input.order.items[quantity > 1].sku,
  "customer": $uppercase($states.input.customer.name) & " <" & $states.input.customer.email & ">",
  "express": $states.input.order.shipping = "express" ? true : false
}`)
	if err != nil {
		b.Fatal(err)
	}
	var input any
	json.Unmarshal([]byte(`{"order": {"id": "o-1", "shipping": "express", "items": [
		{"sku": "a", "price": 2.5, "quantity": 2}, {"sku": "b", "price": 10, "quantity": 1}, {"sku": "c", "price": 1.25, "quantity": 4}]},
		"customer": {"name": "Ada", "email": "ada@example.com"}}`), &input)
	vars := map[string]any{"states": map[string]any{"input": input, "context": map[string]any{"Execution": map[string]any{"Id": "x"}}}}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, _, err := e.Evaluate(nil, vars); err != nil {
			b.Fatal(err)
		}
	}
}
