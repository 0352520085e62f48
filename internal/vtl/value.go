package vtl

import (
	"encoding/json"
	"math"
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

// Map is an insertion-ordered map of string keys, as Java's LinkedHashMap that
// Velocity map literals and JSON objects become. The zero value is empty and usable.
type Map struct {
	keys []string
	vals map[string]any
}

// NewMap returns an empty Map.
func NewMap() *Map { return &Map{vals: map[string]any{}} }

// Get returns the value stored under key.
func (m *Map) Get(key string) (any, bool) {
	v, ok := m.vals[key]
	return v, ok
}

// Set stores value under key, keeping the key's first insertion position.
func (m *Map) Set(key string, value any) {
	if m.vals == nil {
		m.vals = map[string]any{}
	}
	if _, ok := m.vals[key]; !ok {
		m.keys = append(m.keys, key)
	}
	m.vals[key] = value
}

// Delete removes key.
func (m *Map) Delete(key string) {
	if _, ok := m.vals[key]; !ok {
		return
	}
	delete(m.vals, key)
	for i, k := range m.keys {
		if k == key {
			m.keys = append(m.keys[:i:i], m.keys[i+1:]...)
			break
		}
	}
}

// Keys returns the keys in insertion order.
func (m *Map) Keys() []string { return m.keys }

// Len returns the number of entries.
func (m *Map) Len() int { return len(m.keys) }

// MarshalJSON encodes the map as a JSON object in key order.
func (m *Map) MarshalJSON() ([]byte, error) {
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range m.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		vb, err := json.Marshal(m.vals[k])
		if err != nil {
			return nil, err
		}
		b.Write(vb)
	}
	b.WriteByte('}')
	return []byte(b.String()), nil
}

// List is a growable list, as Java's ArrayList that Velocity list literals and JSON
// arrays become; methods such as add change it in place.
type List struct {
	Items []any
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

// FromJSON converts a decoded JSON value (maps, slices, json.Number, ...) into the
// package's mutable, ordered values: objects become *Map and arrays *List. Key order
// of a Go map is lost; decode with DecodeJSON to keep the document's order.
func FromJSON(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := NewMap()
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sortStrings(keys)
		for _, k := range keys {
			m.Set(k, FromJSON(x[k]))
		}
		return m
	case []any:
		items := make([]any, len(x))
		for i, e := range x {
			items[i] = FromJSON(e)
		}
		return &List{Items: items}
	}
	return v
}

// DecodeJSON decodes one JSON document into *Map, *List, string, json.Number, bool
// and nil, keeping object key order and the text of numbers.
func DecodeJSON(data []byte) (any, error) {
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.UseNumber()
	v, err := decodeValue(dec, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err == nil {
		return nil, &json.SyntaxError{Offset: dec.InputOffset()}
	}
	return v, nil
}

const maxJSONDepth = 1000

func decodeValue(dec *json.Decoder, depth int) (any, error) {
	if depth > maxJSONDepth {
		return nil, &json.SyntaxError{Offset: dec.InputOffset()}
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			m := NewMap()
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				key, _ := kt.(string)
				v, err := decodeValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				m.Set(key, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return m, nil
		case '[':
			l := &List{Items: []any{}}
			for dec.More() {
				v, err := decodeValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				l.Items = append(l.Items, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return l, nil
		}
		return nil, &json.SyntaxError{Offset: dec.InputOffset()}
	default:
		return t, nil
	}
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// String renders v as Velocity writes a value: Java's toString of the value, so maps
// print as {a=1, b=2} and lists as [1, 2].
func String(v any) string {
	var b strings.Builder
	writeString(&b, v, 0)
	return b.String()
}

func writeString(b *strings.Builder, v any, depth int) {
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
		for i, k := range x.keys {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(k)
			b.WriteByte('=')
			writeString(b, x.vals[k], depth+1)
		}
		b.WriteByte('}')
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sortStrings(keys)
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
