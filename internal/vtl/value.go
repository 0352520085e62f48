package vtl

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
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
	entries []mapEntry
	index   map[string]int // position of each key, once the map outgrows a linear scan
}

type mapEntry struct {
	key   string
	value any
}

const smallMap = 8

// NewMap returns an empty Map.
func NewMap() *Map { return &Map{} }

func (m *Map) find(key string) int {
	if m.index != nil {
		if i, ok := m.index[key]; ok {
			return i
		}
		return -1
	}
	for i := range m.entries {
		if m.entries[i].key == key {
			return i
		}
	}
	return -1
}

// Get returns the value stored under key.
func (m *Map) Get(key string) (any, bool) {
	if i := m.find(key); i >= 0 {
		return m.entries[i].value, true
	}
	return nil, false
}

// Set stores value under key, keeping the key's first insertion position.
func (m *Map) Set(key string, value any) {
	if i := m.find(key); i >= 0 {
		m.entries[i].value = value
		return
	}
	m.entries = append(m.entries, mapEntry{key, value})
	switch {
	case m.index != nil:
		m.index[key] = len(m.entries) - 1
	case len(m.entries) > smallMap:
		m.reindex()
	}
}

func (m *Map) reindex() {
	m.index = make(map[string]int, len(m.entries))
	for i, e := range m.entries {
		m.index[e.key] = i
	}
}

// Delete removes key.
func (m *Map) Delete(key string) {
	i := m.find(key)
	if i < 0 {
		return
	}
	m.entries = append(m.entries[:i:i], m.entries[i+1:]...)
	if m.index != nil {
		m.reindex()
	}
}

// Keys returns the keys in insertion order.
func (m *Map) Keys() []string {
	keys := make([]string, len(m.entries))
	for i, e := range m.entries {
		keys[i] = e.key
	}
	return keys
}

// Len returns the number of entries.
func (m *Map) Len() int { return len(m.entries) }

// MarshalJSON encodes the map as a JSON object in key order.
func (m *Map) MarshalJSON() ([]byte, error) {
	var b strings.Builder
	b.WriteByte('{')
	for i, e := range m.entries {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(e.key)
		b.Write(kb)
		b.WriteByte(':')
		vb, err := json.Marshal(e.value)
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
	d := &jsonDecoder{data: data}
	d.space()
	v, err := d.value(0)
	if err != nil {
		return nil, err
	}
	d.space()
	if d.pos != len(d.data) {
		return nil, d.fail("after top-level value")
	}
	return v, nil
}

const maxJSONDepth = 1000

// jsonDecoder is a small JSON parser: encoding/json cannot keep key order without its
// slower token API.
type jsonDecoder struct {
	data []byte
	pos  int
}

func (d *jsonDecoder) fail(context string) error {
	if d.pos >= len(d.data) {
		return fmt.Errorf("unexpected end of JSON input")
	}
	return fmt.Errorf("invalid character %q %s at offset %d", d.data[d.pos], context, d.pos)
}

func (d *jsonDecoder) space() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

func (d *jsonDecoder) literal(word string, v any) (any, error) {
	if !bytes.HasPrefix(d.data[d.pos:], []byte(word)) {
		return nil, d.fail("looking for beginning of value")
	}
	d.pos += len(word)
	return v, nil
}

func (d *jsonDecoder) value(depth int) (any, error) {
	if depth > maxJSONDepth {
		return nil, errors.New("JSON nested too deeply")
	}
	if d.pos >= len(d.data) {
		return nil, d.fail("")
	}
	switch c := d.data[d.pos]; {
	case c == '{':
		return d.object(depth)
	case c == '[':
		return d.array(depth)
	case c == '"':
		return d.string()
	case c == 't':
		return d.literal("true", true)
	case c == 'f':
		return d.literal("false", false)
	case c == 'n':
		return d.literal("null", nil)
	case c == '-' || c >= '0' && c <= '9':
		return d.number()
	}
	return nil, d.fail("looking for beginning of value")
}

func (d *jsonDecoder) object(depth int) (any, error) {
	d.pos++
	m := NewMap()
	d.space()
	if d.pos < len(d.data) && d.data[d.pos] == '}' {
		d.pos++
		return m, nil
	}
	for {
		d.space()
		if d.pos >= len(d.data) || d.data[d.pos] != '"' {
			return nil, d.fail("looking for beginning of object key string")
		}
		k, err := d.string()
		if err != nil {
			return nil, err
		}
		d.space()
		if d.pos >= len(d.data) || d.data[d.pos] != ':' {
			return nil, d.fail("after object key")
		}
		d.pos++
		d.space()
		v, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		m.Set(k.(string), v)
		d.space()
		if d.pos < len(d.data) && d.data[d.pos] == ',' {
			d.pos++
			continue
		}
		if d.pos < len(d.data) && d.data[d.pos] == '}' {
			d.pos++
			return m, nil
		}
		return nil, d.fail("after object key:value pair")
	}
}

func (d *jsonDecoder) array(depth int) (any, error) {
	d.pos++
	l := &List{Items: []any{}, JSON: true}
	d.space()
	if d.pos < len(d.data) && d.data[d.pos] == ']' {
		d.pos++
		return l, nil
	}
	for {
		d.space()
		v, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		l.Items = append(l.Items, v)
		d.space()
		if d.pos < len(d.data) && d.data[d.pos] == ',' {
			d.pos++
			continue
		}
		if d.pos < len(d.data) && d.data[d.pos] == ']' {
			d.pos++
			return l, nil
		}
		return nil, d.fail("after array element")
	}
}

func (d *jsonDecoder) number() (any, error) {
	start := d.pos
	digits := func() int {
		n := 0
		for d.pos < len(d.data) && d.data[d.pos] >= '0' && d.data[d.pos] <= '9' {
			d.pos++
			n++
		}
		return n
	}
	if d.data[d.pos] == '-' {
		d.pos++
	}
	intStart := d.pos
	if digits() == 0 {
		return nil, d.fail("in numeric literal")
	}
	if d.data[intStart] == '0' && d.pos-intStart > 1 {
		d.pos = intStart + 1
		return nil, d.fail("after top-level value")
	}
	if d.pos < len(d.data) && d.data[d.pos] == '.' {
		d.pos++
		if digits() == 0 {
			return nil, d.fail("after decimal point in numeric literal")
		}
	}
	if d.pos < len(d.data) && (d.data[d.pos] == 'e' || d.data[d.pos] == 'E') {
		d.pos++
		if d.pos < len(d.data) && (d.data[d.pos] == '+' || d.data[d.pos] == '-') {
			d.pos++
		}
		if digits() == 0 {
			return nil, d.fail("in exponent of numeric literal")
		}
	}
	return json.Number(d.data[start:d.pos]), nil
}

func (d *jsonDecoder) string() (any, error) {
	d.pos++ // "
	start := d.pos
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		if c == '"' {
			s := string(d.data[start:d.pos])
			d.pos++
			return validUTF8(s), nil
		}
		if c == '\\' || c < 0x20 {
			break
		}
		d.pos++
	}
	// Slow path: escapes.
	var b []byte
	b = append(b, d.data[start:d.pos]...)
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		switch {
		case c == '"':
			d.pos++
			return validUTF8(string(b)), nil
		case c < 0x20:
			return nil, d.fail("in string literal")
		case c == '\\':
			d.pos++
			if d.pos >= len(d.data) {
				return nil, d.fail("")
			}
			switch e := d.data[d.pos]; e {
			case '"', '\\', '/':
				b = append(b, e)
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				r, ok := d.hex4(d.pos + 1)
				if !ok {
					return nil, d.fail("in \\u hexadecimal character escape")
				}
				d.pos += 4
				if utf16.IsSurrogate(r) {
					if r2, ok := d.hex4(d.pos + 3); ok && d.data[d.pos+1] == '\\' && d.data[d.pos+2] == 'u' {
						if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
							r = dec
							d.pos += 6
						}
					}
				}
				b = utf8.AppendRune(b, r)
			default:
				return nil, d.fail("in string escape code")
			}
			d.pos++
		default:
			b = append(b, c)
			d.pos++
		}
	}
	return nil, d.fail("")
}

// validUTF8 replaces each byte of an invalid UTF-8 sequence with U+FFFD, as
// encoding/json does.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		b.WriteRune(r)
	}
	return b.String()
}

func (d *jsonDecoder) hex4(at int) (rune, bool) {
	if at+4 > len(d.data) {
		return 0, false
	}
	n, err := strconv.ParseUint(string(d.data[at:at+4]), 16, 32)
	return rune(n), err == nil
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
		for i, e := range x.entries {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(e.key)
			b.WriteByte('=')
			writeString(b, e.value, depth+1)
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
