package asl

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/kiri-run/kiri/internal/jsonata"
	"github.com/kiri-run/kiri/internal/jsonobj"
	"github.com/kiri-run/kiri/internal/uuid"
)

// compileJSONata checks an expression's syntax.
func compileJSONata(expr string) error {
	_, err := jsonata.Compile(expr)
	return err
}

func (x *exec) compiledJSONata(expr string) (*jsonata.Expr, error) {
	if e, ok := x.m.jsonata.Load(expr); ok {
		return e.(*jsonata.Expr), nil
	}
	e, err := jsonata.Compile(expr)
	if err != nil {
		return nil, err
	}
	x.m.jsonata.Store(expr, e)
	return e, nil
}

// jsonataEval evaluates one JSONata expression with $states, the workflow's variables and
// Step Functions' added functions bound.
func (x *exec) jsonataEval(expr, field string, states map[string]any) (any, error) {
	e, err := x.compiledJSONata(expr)
	if err == nil {
		vars := x.allVars()
		vars["states"] = states
		for name, fn := range stepFunctionsFuncs {
			vars[name] = fn
		}
		var v any
		var defined bool
		v, defined, err = e.Evaluate(nil, vars)
		if err == nil {
			if !defined {
				return nil, x.evalError(field, fmt.Sprintf("The JSONata expression '%s' specified for the field '%s' returned nothing (undefined).", expr, field))
			}
			if !isJSONValue(v) {
				return nil, x.evalError(field, fmt.Sprintf("The JSONata expression '%s' specified for the field '%s' returned an unsupported result type.", expr, field))
			}
			return jsNumbers(v), nil
		}
	}
	msg := err.Error()
	var je *jsonata.Error
	if errors.As(err, &je) {
		msg = je.Code + ": " + je.Message
	}
	return nil, x.evalError(field, fmt.Sprintf("The JSONata expression '%s' specified for the field '%s' threw an error during evaluation. %s", expr, field, msg))
}

// jsNumbers turns the float64s of a JSONata result into JSON numbers written as JavaScript
// writes them (1e-7, not Go's 1e-07).
func jsNumbers(v any) any {
	switch t := v.(type) {
	case float64:
		if b, err := jsonata.Marshal(t); err == nil {
			return json.Number(b)
		}
	case []any:
		for i, e := range t {
			t[i] = jsNumbers(e)
		}
	case *jsonobj.Object:
		for k, e := range t.All() {
			t.Set(k, jsNumbers(e))
		}
	}
	return v
}

// isJSONValue reports whether v (deeply) is JSON data rather than, say, a function.
func isJSONValue(v any) bool {
	switch t := v.(type) {
	case nil, bool, string, float64, int, int64:
		return true
	case []any:
		for _, e := range t {
			if !isJSONValue(e) {
				return false
			}
		}
		return true
	case *jsonobj.Object:
		for _, e := range t.All() {
			if !isJSONValue(e) {
				return false
			}
		}
		return true
	}
	return strings.HasPrefix(fmt.Sprintf("%T", v), "json.Number")
}

// stepFunctionsFuncs are the functions Step Functions adds to JSONata.
var stepFunctionsFuncs = map[string]jsonata.Func{
	"partition": jsonataPartition,
	"range":     jsonataRange,
	"hash":      jsonataHash,
	"random":    jsonataRandom,
	"uuid":      func(args []any) (any, error) { return uuid.New(), nil },
	"parse":     jsonataParse,
}

func number(v any) (float64, bool) {
	f, ok := floatValue(v)
	return f, ok
}

func jsonataPartition(args []any) (any, error) {
	if len(args) != 2 {
		return nil, fmt.Errorf("$partition expects 2 arguments")
	}
	arr, ok := args[0].([]any)
	if !ok {
		arr = []any{args[0]}
	}
	size, ok := number(args[1])
	if !ok || size < 1 || size != math.Trunc(size) {
		return nil, fmt.Errorf("$partition expects a positive integer size")
	}
	return partition(arr, int(size)), nil
}

func jsonataRange(args []any) (any, error) {
	if len(args) != 3 {
		return nil, fmt.Errorf("$range expects 3 arguments")
	}
	var n [3]int64
	for i := range n {
		f, ok := number(args[i])
		if !ok || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
			return nil, fmt.Errorf("$range expects integer arguments")
		}
		n[i] = int64(f)
	}
	values, err := arrayRange(n[0], n[1], n[2])
	if err != nil {
		return nil, fmt.Errorf("$range %s", err.Error())
	}
	// one number is a JSONata singleton sequence, the number itself
	if len(values) == 1 {
		return float64(values[0]), nil
	}
	out := make([]any, len(values))
	for i, v := range values {
		out[i] = float64(v)
	}
	return out, nil
}

func jsonataHash(args []any) (any, error) {
	if len(args) != 2 {
		return nil, fmt.Errorf("$hash expects 2 arguments")
	}
	alg, _ := args[1].(string)
	sum, err := hashHex(alg, plainText(args[0]))
	if err != nil {
		return nil, fmt.Errorf("$hash %s", err.Error())
	}
	return sum, nil
}

func jsonataRandom(args []any) (any, error) {
	if len(args) == 1 {
		seed, ok := number(args[0])
		if !ok {
			return nil, fmt.Errorf("$random expects a numeric seed")
		}
		return rand.New(rand.NewPCG(uint64(int64(seed)), 0)).Float64(), nil
	}
	return rand.Float64(), nil
}

func jsonataParse(args []any) (any, error) {
	if len(args) != 1 {
		return nil, fmt.Errorf("$parse expects 1 argument")
	}
	s, ok := args[0].(string)
	if !ok {
		return nil, fmt.Errorf("$parse expects a string")
	}
	v, err := decodeJSON([]byte(s))
	if err != nil {
		return nil, fmt.Errorf("$parse could not parse its argument as JSON")
	}
	return v, nil
}
