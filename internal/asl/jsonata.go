package asl

import (
	"fmt"
	"strings"

	"github.com/kiri-run/kiri/internal/jsonobj"
)

// jsonataBody strips the {% %} delimiters of a JSONata field.
func jsonataBody(s string) string {
	s = strings.TrimSpace(s)
	return strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(s, "{%"), "%}"))
}

// evalError builds a States.QueryEvaluationError about the current state.
func (x *exec) evalError(location, msg string) error {
	return &stateError{name: errQueryEvaluation, cause: x.statePrefix() + msg, evaluation: true, location: location}
}

// jsonataAssignOutput evaluates the Assign and Output of a JSONata state, Choice rule or
// catcher, both over the same $states and the variables as they were before; without Output
// the output is dflt.
func (x *exec) jsonataAssignOutput(states map[string]any, assign any, hasAssign bool, output any, hasOutput bool, dflt any) (out any, assigned map[string]any, err error) {
	if hasAssign {
		a, err := x.jsonataValue(assign, "Assign", states)
		if err != nil {
			return nil, nil, err
		}
		if o, ok := a.(*jsonobj.Object); ok {
			assigned = o.Map()
		}
	}
	out = dflt
	if hasOutput {
		if out, err = x.jsonataValue(output, "Output", states); err != nil {
			return nil, nil, err
		}
	}
	return out, assigned, nil
}

// jsonataValue evaluates a JSONata-mode field: every "{% expr %}" string in it is replaced by
// the expression's value; other values stay as they are.
func (x *exec) jsonataValue(v any, field string, states map[string]any) (any, error) {
	switch t := v.(type) {
	case string:
		if !isJSONataString(t) {
			return t, nil
		}
		return x.jsonataEval(jsonataBody(t), field, states)
	case *jsonobj.Object:
		out := jsonobj.New(t.Len())
		for k, e := range t.All() {
			r, err := x.jsonataValue(e, field+"/"+k, states)
			if err != nil {
				return nil, err
			}
			out.Set(k, r)
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			r, err := x.jsonataValue(e, field+"/"+k, states)
			if err != nil {
				return nil, err
			}
			out[k] = r
		}
		return out, nil
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			r, err := x.jsonataValue(e, fmt.Sprintf("%s[%d]", field, i), states)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	}
	return v, nil
}
