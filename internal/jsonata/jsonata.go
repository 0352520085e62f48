// Package jsonata is a JSONata 2.x engine: it compiles an expression once and
// evaluates it against JSON values, as jsonata-js does (the reference).
//
// Values in and out are nil (JSON null), bool, float64 (json.Number is
// accepted on input), string, []any and *jsonobj.Object (map[string]any is
// accepted on input); a function in a result is a Function (Marshal writes it
// as ""). Undefined, JSONata's absence of a value, is reported by Evaluate's
// defined result. Object keys keep their order: the input's, and the order an
// expression gives them; a map given as input is read in sorted key order.
//
// Errors carry jsonata-js's codes and messages. Three are this engine's own:
// S0303 (a regular expression that Go's RE2 cannot run: look-around,
// backreferences), D1011/D1012 when an evaluation exceeds DefaultMaxDepth or
// DefaultTimeLimit (jsonata-js leaves those limits to its caller), and U0000
// for a defect in the engine, which is reported rather than let crash the caller.
package jsonata

import (
	"fmt"
	"time"
)

// Expr is a compiled expression. It is safe for concurrent use.
type Expr struct {
	ast *node
	src string
}

// Func is a Go function bound as a variable: vars["partition"] = Func(...).
// It receives its arguments in the caller's form (undefined arguments are
// nil) and returns a value in the same form; an error it returns that is an
// *Error is passed through, any other becomes an error of code D3137.
type Func func(args []any) (any, error)

// Default guards of one evaluation: the depth of nested evaluation (a
// runaway recursion fails with D1011) and the time (D1012).
const (
	DefaultMaxDepth  = 5000
	DefaultTimeLimit = 10 * time.Second
)

// Compile parses expr. Syntax errors are *Error.
func Compile(expr string) (e *Expr, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = recovered(r)
			e = nil
		}
	}()
	return &Expr{ast: parse(expr), src: expr}, nil
}

// String returns the source of the expression.
func (e *Expr) String() string { return e.src }

// Evaluate evaluates the expression against input with the variables vars
// bound ($name for each name). defined is false when the result is
// undefined. Errors are *Error.
func (e *Expr) Evaluate(input any, vars map[string]any) (result any, defined bool, err error) {
	return e.evaluateResult(input, vars, DefaultMaxDepth, DefaultTimeLimit)
}

func (e *Expr) evaluateResult(input any, vars map[string]any, maxDepth int, limit time.Duration) (result any, defined bool, err error) {
	native := make(map[string]any, len(vars))
	for k, v := range vars {
		native[k] = fromGo(v)
	}
	r, err := e.evaluateNative(fromGo(input), native, maxDepth, limit)
	if err != nil || r == nil {
		return nil, false, err
	}
	return toGo(r), true, nil
}

// evaluateNative evaluates with engine values in and out (the test suite
// uses it directly to keep the order of object keys and undefined input).
func (e *Expr) evaluateNative(input any, vars map[string]any, maxDepth int, limit time.Duration) (result any, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = recovered(r)
			result = nil
		}
	}()
	now := time.Now()
	ev := &evaluator{maxDepth: maxDepth, timeLimit: limit, deadline: now.Add(limit), now: now}
	env := &frame{ev: ev, vars: make(map[string]any, len(vars)+1)}
	for k, v := range vars {
		env.vars[k] = v
	}
	env.vars["$"] = input
	if a, ok := input.(*array); ok && !a.sequence {
		input = &array{items: []any{a}, sequence: true, outerWrapper: true}
	}
	r := ev.eval(e.ast, input, env)
	if a, ok := r.(*array); ok && a.sequence && !a.keepSingleton {
		switch len(a.items) {
		case 0:
			r = nil
		case 1:
			r = a.items[0]
		}
	}
	return r, nil
}

func recovered(r any) error {
	switch x := r.(type) {
	case *Error:
		x.finish()
		return x
	}
	// A defect in the engine: report it as an error, never crash the caller.
	return &Error{Code: "U0000", Message: fmt.Sprintf("internal error evaluating expression: %v", r)}
}
