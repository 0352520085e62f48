package asl

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/kiri-run/kiri/internal/jsonobj"
	"github.com/kiri-run/kiri/internal/jsonpath"
)

// stateError is an error a state raises: an error name and a cause, either of which AWS may
// leave out.
type stateError struct {
	name, cause string
	noName      bool
	noCause     bool
	evaluation  bool   // a States.QueryEvaluationError, recorded as an EvaluationFailed event
	location    string // the field an evaluation failure is in
}

func (e *stateError) Error() string { return e.name + ": " + e.cause }

func newError(name, cause string) *stateError { return &stateError{name: name, cause: cause} }

// Error names Step Functions raises itself.
const (
	errALL              = "States.ALL"
	errRuntime          = "States.Runtime"
	errTaskFailed       = "States.TaskFailed"
	errTimeout          = "States.Timeout"
	errHeartbeatTimeout = "States.HeartbeatTimeout"
	errDataLimit        = "States.DataLimitExceeded"
	errIntrinsic        = "States.IntrinsicFailure"
	errNoChoice         = "States.NoChoiceMatched"
	errQueryEvaluation  = "States.QueryEvaluationError"
	errBranchFailed     = "States.BranchFailed"
	errToleratedFailure = "States.ExceedToleratedFailureThreshold"
)

// maxPayload is the largest state input or output AWS accepts, in bytes.
const maxPayload = 256 * 1024

// encode writes a data value as JSON, objects in their key order.
func encode(v any) []byte { return jsonobj.Marshal(v) }

func encodeString(v any) string { return string(encode(v)) }

func decode(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	v, err := decodeJSON(b)
	if err != nil {
		return nil
	}
	return v
}

// normalizedPath writes a definite path as Jayway prints it in errors: $['a']['b'][0].
func normalizedPath(p string) string {
	var b strings.Builder
	b.WriteString("$")
	rest := strings.TrimPrefix(p, "$")
	for len(rest) > 0 {
		switch {
		case rest[0] == '.':
			rest = rest[1:]
			i := strings.IndexAny(rest, ".[")
			if i < 0 {
				i = len(rest)
			}
			b.WriteString("['" + rest[:i] + "']")
			rest = rest[i:]
		case rest[0] == '[':
			i := strings.IndexByte(rest, ']')
			if i < 0 {
				b.WriteString(rest)
				return b.String()
			}
			inner := rest[1:i]
			if strings.HasPrefix(inner, "\"") || strings.HasPrefix(inner, "'") {
				inner = "'" + strings.Trim(inner, "'\"") + "'"
			}
			b.WriteString("[" + inner + "]")
			rest = rest[i+1:]
		default:
			b.WriteString(rest)
			return b.String()
		}
	}
	return b.String()
}

var errPathNotFound = errors.New("path not found")

// evalPath evaluates a JSONPath as the paths of JSONPath states do: "$$..." reads the context
// object, "$name..." a variable and any other path the given input.
func (x *exec) evalPath(text string, input any) (any, error) {
	doc := input
	path := text
	switch {
	case strings.HasPrefix(text, "$$"):
		doc = x.contextObject()
		path = text[1:]
	case len(text) > 1 && text[0] == '$' && text[1] != '.' && text[1] != '[':
		name := text[1:]
		i := strings.IndexAny(name, ".[")
		if i >= 0 {
			path = "$" + name[i:]
			name = name[:i]
		} else {
			path = "$"
		}
		v, ok := x.lookupVar(name)
		if !ok {
			return nil, errPathNotFound
		}
		doc = v
	}
	p, err := x.compilePath(path)
	if err != nil {
		return nil, err
	}
	v, err := p.Get(doc)
	if errors.Is(err, jsonpath.ErrNotFound) {
		return nil, errPathNotFound
	}
	if err != nil {
		return nil, err
	}
	return normalizeNumbers(v), nil
}

// normalizeNumbers turns the ints jsonpath's length() yields into JSON numbers.
func normalizeNumbers(v any) any {
	switch n := v.(type) {
	case int:
		return json.Number(strconv.Itoa(n))
	}
	return v
}

func (x *exec) compilePath(path string) (*jsonpath.Path, error) {
	if p, ok := x.m.paths.Load(path); ok {
		return p.(*jsonpath.Path), nil
	}
	p, err := jsonpath.Parse(path)
	if err != nil {
		return nil, err
	}
	x.m.paths.Store(path, p)
	return p, nil
}

// applyPathField applies InputPath, OutputPath or ItemsPath: absent keeps the value, null
// makes it {}.
func (x *exec) applyPathField(op optPath, field string, input any) (any, error) {
	if !op.set {
		return input, nil
	}
	if op.null {
		return jsonobj.New(0), nil
	}
	v, err := x.evalPath(op.text, input)
	if err != nil {
		return nil, x.invalidPath(op.text, input)
	}
	return v, nil
}

// invalidPath is the States.Runtime error of a path that selects nothing, worded as Jayway
// words it: a missing last member has "No results for path", a missing member before it
// "Missing property in path" up to that member.
func (x *exec) invalidPath(path string, input any) error {
	msg := "No results for path: " + normalizedPath(path)
	if keys, ok := simplePathKeys(path); ok && !strings.HasPrefix(path, "$$") {
		doc := input
		for i, k := range keys {
			obj, isObj := doc.(*jsonobj.Object)
			if !isObj {
				obj = &jsonobj.Object{}
			}
			next, found := obj.Get(k)
			if isObj && found {
				doc = next
				continue
			}
			if i < len(keys)-1 {
				var b strings.Builder
				b.WriteString("$")
				for _, kk := range keys[:i+1] {
					b.WriteString("['" + kk + "']")
				}
				msg = "Missing property in path " + b.String()
			}
			break
		}
	}
	return x.runtime(fmt.Sprintf("Invalid path '%s' : %s", path, msg))
}

// template evaluates a JSONPath-mode payload template (Parameters, ResultSelector, ItemSelector).
func (x *exec) template(t any, input any) (any, error) {
	switch v := t.(type) {
	case *jsonobj.Object:
		out := jsonobj.New(v.Len())
		for k, e := range v.All() {
			if strings.HasSuffix(k, ".$") {
				expr, _ := e.(string)
				r, err := x.dynamic(expr, k, input)
				if err != nil {
					return nil, err
				}
				out.Set(strings.TrimSuffix(k, ".$"), r)
				continue
			}
			r, err := x.template(e, input)
			if err != nil {
				return nil, err
			}
			out.Set(k, r)
		}
		return out, nil
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			r, err := x.template(e, input)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	}
	return t, nil
}

// dynamic evaluates the value of a ".$" key: a path or an intrinsic function call.
func (x *exec) dynamic(expr, field string, input any) (any, error) {
	if strings.HasPrefix(expr, "States.") {
		return x.intrinsic(expr, input)
	}
	v, err := x.evalPath(expr, input)
	if err != nil {
		return nil, x.pathNotFound(expr, field, input)
	}
	return v, nil
}

func (x *exec) pathNotFound(path, field string, input any) error {
	doc := input
	if strings.HasPrefix(path, "$$") {
		doc = x.contextObject()
	}
	return x.runtime(fmt.Sprintf("The JSONPath '%s' specified for the field '%s' could not be found in the input '%s'", path, field, encodeString(doc)))
}

// applyResultPath places result into input as ResultPath says.
func (x *exec) applyResultPath(op optPath, input, result any) (any, error) {
	if !op.set {
		return result, nil
	}
	if op.null {
		return input, nil
	}
	if op.text == "$" {
		return result, nil
	}
	keys, ok := simplePathKeys(op.text)
	if !ok {
		return nil, x.runtime(fmt.Sprintf("Invalid path '%s'", op.text))
	}
	if len(keys) == 0 {
		return result, nil
	}
	root := jsonobj.Clone(input)
	obj, ok := root.(*jsonobj.Object)
	if !ok {
		return nil, x.runtime(fmt.Sprintf("Unable to apply ResultPath '%s' to the input: the input is not a JSON object", op.text))
	}
	for i, k := range keys {
		if i == len(keys)-1 {
			obj.Set(k, result)
			break
		}
		next, ok := get(obj, k).(*jsonobj.Object)
		if !ok {
			next = jsonobj.New(1)
			obj.Set(k, next)
		}
		obj = next
	}
	return root, nil
}

// get is o's value under key, nil when there is none.
func get(o *jsonobj.Object, key string) any {
	v, _ := o.Get(key)
	return v
}

// simplePathKeys splits a reference path of names ($.a.b or $['a']) into its keys.
func simplePathKeys(p string) ([]string, bool) {
	if !strings.HasPrefix(p, "$") {
		return nil, false
	}
	var keys []string
	rest := p[1:]
	for len(rest) > 0 {
		switch rest[0] {
		case '.':
			rest = rest[1:]
			i := strings.IndexAny(rest, ".[")
			if i < 0 {
				i = len(rest)
			}
			if i == 0 {
				return nil, false
			}
			keys = append(keys, rest[:i])
			rest = rest[i:]
		case '[':
			i := strings.IndexByte(rest, ']')
			if i < 0 {
				return nil, false
			}
			inner := rest[1:i]
			if len(inner) < 2 || (inner[0] != '\'' && inner[0] != '"') {
				return nil, false
			}
			keys = append(keys, inner[1:len(inner)-1])
			rest = rest[i+1:]
		default:
			return nil, false
		}
	}
	return keys, true
}
