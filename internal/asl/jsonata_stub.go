//go:build !jsonata

package asl

import "fmt"

// jsonataEval evaluates one JSONata expression with $states and the workflow's variables bound.
func (x *exec) jsonataEval(expr, field string, states map[string]any) (any, error) {
	return nil, x.evalError(field, fmt.Sprintf("The JSONata expression '%s' specified for the field '%s' threw an error during evaluation. JSONata is not available", expr, field))
}

func compileJSONata(expr string) error { return nil }
