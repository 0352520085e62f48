package vtl

import (
	"encoding/json"
	"github.com/kiri-run/kiri/internal/jsonobj"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Object is a value whose properties and methods are implemented outside the package,
// such as API Gateway's $input and $util. Get answers $obj.name (ok false when the
// object has no such property); Call answers $obj.name(args...).
type Object interface {
	Get(name string) (any, bool)
	Call(method string, args []any) (any, error)
}

// Map is an insertion-ordered map of string keys, as Java's LinkedHashMap that Velocity
// map literals and JSON objects become. The zero value is empty and usable.
type Map = jsonobj.Object

// NewMap returns an empty Map.
func NewMap() *Map { return &Map{} }

// List is a growable list, as Java's ArrayList that Velocity list literals and JSON
// arrays become; methods such as add change it in place.
type List struct {
	Items []any
	// JSON makes the list render as JSON text, as the JSONArray of json-smart that
	// API Gateway's JSONPath returns does; a Velocity list literal renders as [a, b].
	JSON bool
}

// Len returns the number of items.
func (l *List) Len() int { return len(l.Items) }

// Index returns the i-th item.
func (l *List) Index(i int) any { return l.Items[i] }

// MarshalJSON encodes the list as a JSON array.
func (l *List) MarshalJSON() ([]byte, error) {
	if l.Items == nil {
		return []byte("[]"), nil
	}
	return json.Marshal(l.Items)
}

// DecodeJSON decodes one JSON document into *Map, *List, string, json.Number, bool
// and nil, keeping object key order and the text of numbers.
func DecodeJSON(data []byte) (any, error) {
	return jsonobj.DecodeArrays(data, func(items []any) any { return &List{Items: items, JSON: true} })
}

// String renders v as Velocity writes a value: Java's toString of the value, so maps
// print as {a=1, b=2} and lists as [1, 2].
func String(v any) string {
	var b strings.Builder
	writeString(&b, v, 0)
	return b.String()
}

func writeString(b *strings.Builder, v any, depth int) {
	if b.Len() > MaxOutput {
		return // the caller reports the output as too large
	}
	if depth > maxDepth {
		b.WriteString("...")
		return
	}
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case string:
		b.WriteString(x)
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case int:
		b.WriteString(strconv.Itoa(x))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case int32:
		b.WriteString(strconv.FormatInt(int64(x), 10))
	case float64:
		b.WriteString(formatDouble(x))
	case float32:
		b.WriteString(formatDouble(float64(x)))
	case json.Number:
		b.WriteString(string(x))
	case *Map:
		b.WriteByte('{')
		i := 0
		for k, v := range x.All() {
			if i > 0 {
				b.WriteString(", ")
			}
			i++
			b.WriteString(k)
			b.WriteByte('=')
			writeString(b, v, depth+1)
		}
		b.WriteByte('}')
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(k)
			b.WriteByte('=')
			writeString(b, x[k], depth+1)
		}
		b.WriteByte('}')
	case *List:
		if x.JSON {
			writeJSON(b, x, depth)
			return
		}
		writeList(b, x.Items, depth)
	case []any:
		writeList(b, x, depth)
	case []string:
		items := make([]any, len(x))
		for i, s := range x {
			items[i] = s
		}
		writeList(b, items, depth)
	case *entry:
		b.WriteString(x.key)
		b.WriteByte('=')
		writeString(b, x.value, depth+1)
	case interface{ String() string }:
		b.WriteString(x.String())
	default:
		data, err := json.Marshal(x)
		if err != nil {
			b.WriteString("?")
			return
		}
		b.Write(data)
	}
}

func writeList(b *strings.Builder, items []any, depth int) {
	b.WriteByte('[')
	for i, e := range items {
		if i > 0 {
			b.WriteString(", ")
		}
		writeString(b, e, depth+1)
	}
	b.WriteByte(']')
}

// formatDouble formats f as Java's Double.toString does.
func formatDouble(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	abs := math.Abs(f)
	if abs >= 1e-3 && abs < 1e7 {
		s := strconv.FormatFloat(f, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	}
	s := strconv.FormatFloat(f, 'e', -1, 64) // e.g. 1.5e+10
	mant, exp, _ := strings.Cut(s, "e")
	if !strings.Contains(mant, ".") {
		mant += ".0"
	}
	e, _ := strconv.Atoi(exp)
	return mant + "E" + strconv.Itoa(e)
}

// number returns v as an int64 or float64 when it is a number.
func number(v any) (i int64, f float64, isFloat, ok bool) {
	switch x := v.(type) {
	case int:
		return int64(x), 0, false, true
	case int64:
		return x, 0, false, true
	case int32:
		return int64(x), 0, false, true
	case float64:
		return 0, x, true, true
	case float32:
		return 0, float64(x), true, true
	case json.Number:
		if n, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return n, 0, false, true
		}
		if g, err := strconv.ParseFloat(string(x), 64); err == nil {
			return 0, g, true, true
		}
	}
	return 0, 0, false, false
}

func isNumber(v any) bool {
	_, _, _, ok := number(v)
	return ok
}

// toInt returns v as an int when it is an integral number.
func toInt(v any) (int, bool) {
	i, _, isFloat, ok := number(v)
	if !ok || isFloat || i > math.MaxInt32 || i < math.MinInt32 {
		return 0, false
	}
	return int(i), true
}

// truthy reports whether v counts as true in #if: null and false are false, all else is true.
func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	}
	return true
}
