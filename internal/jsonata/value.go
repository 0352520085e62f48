package jsonata

import (
	"encoding/json"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/kiri-run/kiri/internal/jsonobj"
)

// null is JSON null inside the engine; Go nil is JSONata's undefined.
type null struct{}

// object is a JSON object that remembers the order of its keys.
type object struct {
	keys []string
	vals map[string]any
}

func newObject(n int) *object {
	return &object{keys: make([]string, 0, n), vals: make(map[string]any, n)}
}

func (o *object) set(k string, v any) {
	if _, ok := o.vals[k]; !ok {
		o.keys = append(o.keys, k)
	}
	o.vals[k] = v
}

func (o *object) get(k string) (any, bool) {
	v, ok := o.vals[k]
	return v, ok
}

func (o *object) del(k string) {
	if _, ok := o.vals[k]; !ok {
		return
	}
	delete(o.vals, k)
	for i, kk := range o.keys {
		if kk == k {
			o.keys = append(o.keys[:i:i], o.keys[i+1:]...)
			break
		}
	}
}

// array is a JSON array or a JSONata sequence (a result of a path that
// collapses to its single member unless keepSingleton).
type array struct {
	items                                                    []any
	sequence, keepSingleton, outerWrapper, tupleStream, cons bool
	one                                                      [1]any // storage of a sequence of one, the commonest
}

func newSeq(items ...any) *array {
	if len(items) == 1 {
		return seqOf(items[0])
	}
	return &array{items: items, sequence: true}
}

// seqOf is a sequence of the one value v.
func seqOf(v any) *array {
	a := &array{sequence: true}
	a.one[0] = v
	a.items = a.one[:]
	return a
}

func (a *array) push(v any) { a.items = append(a.items, v) }

// tuple is one member of a tuple stream: the context '@' and the variables
// bound along the path.
type tuple map[string]any

// fromGo converts a value given by a caller into the engine's form.
func fromGo(v any) any {
	switch v := v.(type) {
	case nil:
		return null{}
	case bool, string, float64:
		return v
	case json.Number:
		f, err := v.Float64()
		if err != nil {
			return v.String()
		}
		return f
	case int:
		return float64(v)
	case int64:
		return float64(v)
	case int32:
		return float64(v)
	case uint64:
		return float64(v)
	case float32:
		return float64(v)
	case []any:
		a := &array{items: make([]any, len(v))}
		for i, x := range v {
			a.items[i] = fromGo(x)
		}
		return a
	case []string:
		a := &array{items: make([]any, len(v))}
		for i, x := range v {
			a.items[i] = x
		}
		return a
	case []map[string]any:
		a := &array{items: make([]any, len(v))}
		for i, x := range v {
			a.items[i] = fromGo(x)
		}
		return a
	case *jsonobj.Object:
		o := newObject(v.Len())
		for k, x := range v.All() {
			o.keys = append(o.keys, k)
			o.vals[k] = fromGo(x)
		}
		return o
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		o := &object{keys: keys, vals: make(map[string]any, len(v))}
		for _, k := range keys {
			o.vals[k] = fromGo(v[k])
		}
		return o
	case Func:
		return v
	case Function:
		return v.fn
	case func(args []any) (any, error):
		return Func(v)
	case *object, *array, null:
		return v
	}
	// Anything else goes through encoding/json.
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var x any
	d := json.NewDecoder(strings.NewReader(string(b)))
	d.UseNumber()
	if d.Decode(&x) != nil {
		return nil
	}
	return fromGo(x)
}

// Function is a function in a result: a lambda, a built-in, a partial application, a
// regular expression or a bound Func. It is not JSON data; Marshal writes it as "", as
// jsonata-js's $string (JSON.stringify with jsonata's replacer) writes a function. Given back
// as input or in vars, it is the function again.
type Function struct{ fn any }

// MarshalJSON writes a function as "", as Marshal does.
func (Function) MarshalJSON() ([]byte, error) { return []byte(`""`), nil }

// toGo converts an engine value into the caller's form. Functions become Function.
func toGo(v any) any {
	switch v := v.(type) {
	case null:
		return nil
	case *object:
		m := jsonobj.New(len(v.keys))
		for _, k := range v.keys {
			if x := v.vals[k]; x != nil {
				m.Set(k, toGo(x))
			}
		}
		return m
	case *array:
		out := make([]any, 0, len(v.items))
		for _, x := range v.items {
			if x == nil {
				continue
			}
			out = append(out, toGo(x))
		}
		return out
	case tuple:
		return toGo(v["@"])
	case float64, string, bool:
		return v
	}
	if isFunction(v) {
		return Function{fn: v}
	}
	return nil
}

func isFunction(v any) bool {
	switch v.(type) {
	case *lambda, *builtin, *partial, Func, *regexValue:
		return true
	}
	return false
}

func isNumber(v any) bool {
	f, ok := v.(float64)
	return ok && !math.IsNaN(f) && !math.IsInf(f, 0)
}

func isArrayOfStrings(v any) bool {
	a, ok := v.(*array)
	if !ok {
		return false
	}
	for _, x := range a.items {
		if _, ok := x.(string); !ok {
			return false
		}
	}
	return true
}

func isArrayOfNumbers(v any) bool {
	a, ok := v.(*array)
	if !ok {
		return false
	}
	for _, x := range a.items {
		if !isNumber(x) {
			return false
		}
	}
	return true
}

func deepEqual(a, b any) bool {
	switch x := a.(type) {
	case *array:
		y, ok := b.(*array)
		if !ok || len(x.items) != len(y.items) {
			return false
		}
		for i := range x.items {
			if !deepEqual(x.items[i], y.items[i]) {
				return false
			}
		}
		return true
	case *object:
		y, ok := b.(*object)
		if !ok || len(x.keys) != len(y.keys) {
			return false
		}
		for _, k := range x.keys {
			yv, ok := y.vals[k]
			if !ok || !deepEqual(x.vals[k], yv) {
				return false
			}
		}
		return true
	case float64, string, bool, null, nil:
		return a == b
	}
	return a == b
}

// Marshal encodes v as JSON the way JavaScript's JSON.stringify does:
// numbers in their shortest form (1, 1.5, 1e+21), keys in the order given
// (*jsonobj.Object keys in their order, map keys sorted).
func Marshal(v any) ([]byte, error) {
	var sb strings.Builder
	writeJSON(&sb, fromGo(v), "", "")
	return []byte(sb.String()), nil
}

// formatNumber renders a float64 as JavaScript's Number.prototype.toString.
func formatNumber(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "null"
	}
	if f == 0 {
		return "0"
	}
	abs := math.Abs(f)
	if abs >= 1e21 || abs < 1e-6 {
		s := strconv.FormatFloat(f, 'e', -1, 64)
		// Go: 1e+21, 1.5e-07; JavaScript: 1e+21, 1.5e-7
		mant, exp, _ := strings.Cut(s, "e")
		sign := exp[0]
		exp = strings.TrimLeft(exp[1:], "0")
		if exp == "" {
			exp = "0"
		}
		return mant + "e" + string(sign) + exp
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// writeJSON writes v; indent "" is compact. Functions are written as "".
func writeJSON(sb *strings.Builder, v any, indent, prefix string) {
	switch v := v.(type) {
	case nil, null:
		sb.WriteString("null")
	case bool:
		if v {
			sb.WriteString("true")
		} else {
			sb.WriteString("false")
		}
	case float64:
		sb.WriteString(formatNumber(v))
	case string:
		writeJSONString(sb, v)
	case *array:
		if len(v.items) == 0 {
			sb.WriteString("[]")
			return
		}
		sb.WriteByte('[')
		inner := prefix + indent
		first := true
		for _, x := range v.items {
			if !first {
				sb.WriteByte(',')
			}
			first = false
			if indent != "" {
				sb.WriteString("\n" + inner)
			}
			writeJSON(sb, x, indent, inner)
		}
		if indent != "" {
			sb.WriteString("\n" + prefix)
		}
		sb.WriteByte(']')
	case *object:
		inner := prefix + indent
		n := 0
		sb.WriteByte('{')
		for _, k := range v.keys {
			x := v.vals[k]
			if x == nil {
				continue
			}
			if n > 0 {
				sb.WriteByte(',')
			}
			n++
			if indent != "" {
				sb.WriteString("\n" + inner)
			}
			writeJSONString(sb, k)
			sb.WriteByte(':')
			if indent != "" {
				sb.WriteByte(' ')
			}
			writeJSON(sb, x, indent, inner)
		}
		if indent != "" && n > 0 {
			sb.WriteString("\n" + prefix)
		}
		sb.WriteByte('}')
	case tuple:
		writeJSON(sb, v["@"], indent, prefix)
	default:
		if isFunction(v) {
			sb.WriteString(`""`)
			return
		}
		sb.WriteString("null")
	}
}

func writeJSONString(sb *strings.Builder, s string) {
	sb.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			sb.WriteString(`\"`)
		case '\\':
			sb.WriteString(`\\`)
		case '\n':
			sb.WriteString(`\n`)
		case '\r':
			sb.WriteString(`\r`)
		case '\t':
			sb.WriteString(`\t`)
		case '\b':
			sb.WriteString(`\b`)
		case '\f':
			sb.WriteString(`\f`)
		default:
			if r < 0x20 {
				sb.WriteString(`\u00`)
				sb.WriteByte("0123456789abcdef"[r>>4])
				sb.WriteByte("0123456789abcdef"[r&15])
			} else {
				sb.WriteRune(r)
			}
		}
	}
	sb.WriteByte('"')
}
