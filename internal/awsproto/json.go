package awsproto

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// errJSON marks malformed or ill-typed JSON input.
var errJSON = errors.New("malformed JSON")

const maxDepth = 256

// jsonDecoder decodes a JSON document straight into Go values following codec plans.
type jsonDecoder struct {
	data  []byte
	pos   int
	depth int
	buf   []byte
	// javaPkg, when set, makes a value of the wrong type a coralError: the Java package of the
	// service's classes (ServiceOptions.ErrorTypeNamespace).
	javaPkg string
	elem    bool // the value being read is a list member or map value
	// members names structure members by their model names wherever the protocol carries
	// them, and reads a payload blob or stream as text (Service.RunJSON).
	members bool
}

func (d *jsonDecoder) fail(format string, args ...any) error {
	return fmt.Errorf("%w at offset %d: %s", errJSON, d.pos, fmt.Sprintf(format, args...))
}

func (d *jsonDecoder) ws() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

func (d *jsonDecoder) peek() byte {
	d.ws()
	if d.pos >= len(d.data) {
		return 0
	}
	return d.data[d.pos]
}

// decodeDocument decodes a whole JSON body into v according to c (a structure).
// javaPkg is jsonDecoder.javaPkg.
func decodeJSONBody(data []byte, c *codec, v reflect.Value, javaPkg string) error {
	d := &jsonDecoder{data: data, javaPkg: javaPkg}
	if d.peek() == 0 {
		return nil
	}
	if err := d.value(c, v); err != nil {
		return err
	}
	if d.peek() != 0 {
		return d.fail("trailing data")
	}
	return nil
}

func (d *jsonDecoder) literal(lit string) bool {
	if len(d.data)-d.pos >= len(lit) && string(d.data[d.pos:d.pos+len(lit)]) == lit {
		d.pos += len(lit)
		return true
	}
	return false
}

// value decodes one JSON value into v, a settable value of type c.typ.
func (d *jsonDecoder) value(c *codec, v reflect.Value) error {
	ch := d.peek()
	elem := d.elem
	if d.javaPkg != "" && ch != 'n' && c.kind != kindDocument && !d.fits(c, ch) {
		return d.coralMismatch(c, elem)
	}
	if ch == 'n' {
		if !d.literal("null") {
			return d.fail("invalid literal")
		}
		return nil
	}
	if c.kind == kindDocument {
		doc, err := d.any()
		if err != nil {
			return err
		}
		if doc != nil {
			v.Set(reflect.ValueOf(doc))
		}
		return nil
	}
	if c.ptr {
		p := reflect.New(c.base)
		v.Set(p)
		v = p.Elem()
	}
	switch c.kind {
	case kindStruct:
		return d.object(c, v)
	case kindList:
		if ch != '[' {
			return d.fail("expected array for %s", c.shape.name)
		}
		return d.array(c, v)
	case kindMap:
		if ch != '{' {
			return d.fail("expected object for %s", c.shape.name)
		}
		return d.mapping(c, v)
	case kindString:
		if ch != '"' {
			return d.fail("expected string for %s", c.shape.name)
		}
		s, err := d.str()
		if err != nil {
			return err
		}
		v.SetString(s)
	case kindBool:
		if ch == '"' && d.javaPkg != "" {
			str, err := d.str()
			if err != nil {
				return err
			}
			b, ok := coralBool(str)
			if !ok {
				return &coralError{msg: "Unexpected token received from parser"}
			}
			v.SetBool(b)
			return nil
		}
		switch {
		case d.literal("true"):
			v.SetBool(true)
		case d.literal("false"):
		default:
			return d.fail("expected boolean for %s", c.shape.name)
		}
	case kindInt:
		num, err := d.number()
		if err != nil {
			return err
		}
		n, err := strconv.ParseInt(num, 10, 64)
		if err != nil && d.javaPkg != "" {
			// The Java reader truncates a decimal read into an integer.
			var f float64
			if f, err = strconv.ParseFloat(num, 64); err == nil && math.Abs(f) < 1<<63 {
				n = int64(math.Floor(f))
			}
		}
		if err != nil || v.OverflowInt(n) {
			return d.fail("invalid integer %q for %s", num, c.shape.name)
		}
		v.SetInt(n)
	case kindFloat:
		var f float64
		if ch == '"' {
			s, err := d.str()
			if err != nil {
				return err
			}
			if f, err = specialFloat(s); err != nil {
				return d.fail("invalid number for %s", c.shape.name)
			}
		} else {
			num, err := d.number()
			if err != nil {
				return err
			}
			if f, err = strconv.ParseFloat(num, 64); err != nil {
				return d.fail("invalid number %q for %s", num, c.shape.name)
			}
		}
		v.SetFloat(f)
	case kindTimestamp:
		var t time.Time
		var err error
		if ch == '"' {
			var s string
			if s, err = d.str(); err == nil {
				t, err = parseTimestamp(s)
			}
		} else {
			var num string
			if num, err = d.number(); err == nil {
				t, err = parseEpoch(num)
			}
		}
		if err != nil {
			return d.fail("invalid timestamp for %s", c.shape.name)
		}
		v.Set(reflect.ValueOf(t))
	case kindBlob, kindStream:
		if ch != '"' {
			return d.fail("expected base64 string for %s", c.shape.name)
		}
		s, err := d.str()
		if err != nil {
			return err
		}
		var b []byte
		if d.javaPkg != "" {
			if b, err = coralBase64(s); err != nil {
				return err
			}
		} else if b, err = base64.StdEncoding.DecodeString(s); err != nil {
			return d.fail("invalid base64 for %s", c.shape.name)
		}
		if c.base == readerType {
			v.Set(reflect.ValueOf(bytesReader(b)))
		} else {
			v.SetBytes(b)
		}
	}
	return nil
}

// member decodes a structure member (elem false) or a list member or map value (elem true).
func (d *jsonDecoder) member(c *codec, v reflect.Value, elem bool) error {
	d.elem = elem
	return d.value(c, v)
}

// fits reports whether a JSON value starting with ch can be read into c as the Java reader
// reads it: a boolean also from a string, a number into an integer also with decimals.
func (d *jsonDecoder) fits(c *codec, ch byte) bool {
	switch c.kind {
	case kindStruct, kindMap:
		return ch == '{'
	case kindList:
		return ch == '['
	case kindString, kindBlob, kindStream:
		return ch == '"'
	case kindBool:
		return ch == 't' || ch == 'f' || ch == '"'
	case kindInt, kindFloat:
		return ch == '-' || ch >= '0' && ch <= '9'
	}
	return true
}

func specialFloat(s string) (float64, error) {
	switch s {
	case "NaN":
		return math.NaN(), nil
	case "Infinity":
		return math.Inf(1), nil
	case "-Infinity":
		return math.Inf(-1), nil
	}
	return 0, errJSON
}

func (d *jsonDecoder) enter() error {
	d.depth++
	if d.depth > maxDepth {
		return d.fail("nesting too deep")
	}
	return nil
}

func (d *jsonDecoder) object(c *codec, v reflect.Value) error {
	if d.peek() != '{' {
		return d.fail("expected object for %s", c.shape.name)
	}
	if err := d.enter(); err != nil {
		return err
	}
	d.pos++
	if d.peek() == '}' {
		d.pos++
		d.depth--
		return nil
	}
	for {
		if d.peek() != '"' {
			return d.fail("expected member name")
		}
		key, err := d.key()
		if err != nil {
			return err
		}
		if d.peek() != ':' {
			return d.fail("expected colon")
		}
		d.pos++
		f := c.byName[string(key)]
		if d.members {
			f = memberField(c, string(key))
		} else if f == nil && c.payload != nil && c.payload.wire == string(key) {
			f = c.payload
		}
		if f != nil && d.members && f == c.payload && (f.c.kind == kindBlob || f.c.kind == kindStream) {
			if err := d.payloadText(f.c, v.Field(f.index)); err != nil {
				return err
			}
		} else if f == nil {
			if d.members {
				return d.fail("%s has no member %s", c.shape.name, key)
			}
			if err := d.skip(); err != nil {
				return err
			}
		} else if err := d.member(f.c, v.Field(f.index), false); err != nil {
			return err
		}
		switch d.peek() {
		case ',':
			d.pos++
		case '}':
			d.pos++
			d.depth--
			return nil
		default:
			return d.fail("expected , or }")
		}
	}
}

func (d *jsonDecoder) array(c *codec, v reflect.Value) error {
	if err := d.enter(); err != nil {
		return err
	}
	d.pos++
	s := reflect.MakeSlice(c.base, 0, 4)
	if d.peek() == ']' {
		d.pos++
		d.depth--
		v.Set(s)
		return nil
	}
	zero := reflect.Zero(c.base.Elem())
	for i := 0; ; i++ {
		s = reflect.Append(s, zero)
		if err := d.member(c.elem, s.Index(i), true); err != nil {
			return err
		}
		switch d.peek() {
		case ',':
			d.pos++
		case ']':
			d.pos++
			d.depth--
			v.Set(s)
			return nil
		default:
			return d.fail("expected , or ]")
		}
	}
}

func (d *jsonDecoder) mapping(c *codec, v reflect.Value) error {
	if err := d.enter(); err != nil {
		return err
	}
	d.pos++
	m := reflect.MakeMap(c.base)
	v.Set(m)
	if d.peek() == '}' {
		d.pos++
		d.depth--
		return nil
	}
	// One key and one value cell serve every entry: SetMapIndex copies them into the map.
	kv := reflect.New(c.base.Key()).Elem()
	ev := reflect.New(c.base.Elem()).Elem()
	for {
		if d.peek() != '"' {
			return d.fail("expected key")
		}
		k, err := d.str()
		if err != nil {
			return err
		}
		if d.peek() != ':' {
			return d.fail("expected colon")
		}
		d.pos++
		ev.SetZero()
		if err := d.member(c.elem, ev, true); err != nil {
			return err
		}
		kv.SetString(k)
		m.SetMapIndex(kv, ev)
		switch d.peek() {
		case ',':
			d.pos++
		case '}':
			d.pos++
			d.depth--
			return nil
		default:
			return d.fail("expected , or }")
		}
	}
}

// key returns a member name; the slice is only valid until the next read.
func (d *jsonDecoder) key() ([]byte, error) {
	start := d.pos + 1
	for i := start; i < len(d.data); i++ {
		switch ch := d.data[i]; {
		case ch == '"':
			d.pos = i + 1
			return d.data[start:i], nil
		case ch == '\\' || ch < 0x20:
			s, err := d.str()
			return []byte(s), err
		}
	}
	return nil, d.fail("unterminated string")
}

// str reads a JSON string at d.pos (which holds the opening quote).
func (d *jsonDecoder) str() (string, error) {
	start := d.pos + 1
	i := start
	for ; i < len(d.data); i++ {
		ch := d.data[i]
		if ch == '"' {
			d.pos = i + 1
			return string(d.data[start:i]), nil
		}
		if ch == '\\' || ch < 0x20 {
			break
		}
	}
	buf := append(d.buf[:0], d.data[start:i]...)
	for i < len(d.data) {
		ch := d.data[i]
		switch {
		case ch == '"':
			d.pos = i + 1
			d.buf = buf
			return string(buf), nil
		case ch < 0x20:
			return "", d.fail("control character in string")
		case ch != '\\':
			buf = append(buf, ch)
			i++
			continue
		}
		if i+1 >= len(d.data) {
			break
		}
		esc := d.data[i+1]
		i += 2
		switch esc {
		case '"', '\\', '/':
			buf = append(buf, esc)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, ok := hex4(d.data, i)
			if !ok {
				return "", d.fail("invalid \\u escape")
			}
			i += 4
			if utf16.IsSurrogate(r) {
				if r2, ok := hex4(d.data, i+2); ok && i+1 < len(d.data) && d.data[i] == '\\' && d.data[i+1] == 'u' {
					if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
						r = dec
						i += 6
					} else {
						r = utf8.RuneError
					}
				} else {
					r = utf8.RuneError
				}
			}
			buf = utf8.AppendRune(buf, r)
		default:
			return "", d.fail("invalid escape")
		}
	}
	return "", d.fail("unterminated string")
}

func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// number returns the text of a JSON number.
func (d *jsonDecoder) number() (string, error) {
	d.ws()
	start := d.pos
	for d.pos < len(d.data) {
		switch ch := d.data[d.pos]; {
		case ch >= '0' && ch <= '9', ch == '-', ch == '+', ch == '.', ch == 'e', ch == 'E':
			d.pos++
			continue
		}
		break
	}
	if start == d.pos {
		return "", d.fail("expected number")
	}
	return string(d.data[start:d.pos]), nil
}

// skip consumes one value of any type, checking its syntax.
func (d *jsonDecoder) skip() error {
	_, err := d.anyValue(false)
	return err
}

// any decodes one value into encoding/json's generic form (map[string]any, []any, float64…).
func (d *jsonDecoder) any() (any, error) { return d.anyValue(true) }

func (d *jsonDecoder) anyValue(keep bool) (any, error) {
	switch ch := d.peek(); {
	case ch == '{':
		if err := d.enter(); err != nil {
			return nil, err
		}
		d.pos++
		var m map[string]any
		if keep {
			m = map[string]any{}
		}
		if d.peek() == '}' {
			d.pos++
			d.depth--
			return m, nil
		}
		for {
			if d.peek() != '"' {
				return nil, d.fail("expected member name")
			}
			k, err := d.str()
			if err != nil {
				return nil, err
			}
			if d.peek() != ':' {
				return nil, d.fail("expected colon")
			}
			d.pos++
			v, err := d.anyValue(keep)
			if err != nil {
				return nil, err
			}
			if keep {
				m[k] = v
			}
			switch d.peek() {
			case ',':
				d.pos++
			case '}':
				d.pos++
				d.depth--
				return m, nil
			default:
				return nil, d.fail("expected , or }")
			}
		}
	case ch == '[':
		if err := d.enter(); err != nil {
			return nil, err
		}
		d.pos++
		var a []any
		if keep {
			a = []any{}
		}
		if d.peek() == ']' {
			d.pos++
			d.depth--
			return a, nil
		}
		for {
			v, err := d.anyValue(keep)
			if err != nil {
				return nil, err
			}
			if keep {
				a = append(a, v)
			}
			switch d.peek() {
			case ',':
				d.pos++
			case ']':
				d.pos++
				d.depth--
				return a, nil
			default:
				return nil, d.fail("expected , or ]")
			}
		}
	case ch == '"':
		return d.str()
	case ch == 't':
		if d.literal("true") {
			return true, nil
		}
	case ch == 'f':
		if d.literal("false") {
			return false, nil
		}
	case ch == 'n':
		if d.literal("null") {
			return nil, nil
		}
	case ch == '-' || (ch >= '0' && ch <= '9'):
		num, err := d.number()
		if err != nil {
			return nil, err
		}
		f, err := strconv.ParseFloat(num, 64)
		if err != nil {
			return nil, d.fail("invalid number")
		}
		return f, nil
	}
	return nil, d.fail("unexpected character")
}

// appendJSONValue encodes v (of type c.typ) as JSON.
func appendJSONValue(buf []byte, c *codec, v reflect.Value) []byte {
	if c.kind == kindDocument {
		b, err := json.Marshal(v.Interface())
		if err != nil {
			return append(buf, "null"...)
		}
		return append(buf, b...)
	}
	if c.ptr {
		if v.IsNil() {
			return append(buf, "null"...)
		}
		v = v.Elem()
	}
	switch c.kind {
	case kindStruct:
		return appendJSONStruct(buf, c, v)
	case kindList:
		buf = append(buf, '[')
		for i := 0; i < v.Len(); i++ {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = appendJSONValue(buf, c.elem, v.Index(i))
		}
		return append(buf, ']')
	case kindMap:
		return appendJSONMap(buf, c, v, appendJSONValue)
	case kindString:
		return appendJSONString(buf, v.String())
	case kindBool:
		return strconv.AppendBool(buf, v.Bool())
	case kindInt:
		return strconv.AppendInt(buf, v.Int(), 10)
	case kindFloat:
		f := v.Float()
		switch {
		case math.IsNaN(f):
			return append(buf, `"NaN"`...)
		case math.IsInf(f, 1):
			return append(buf, `"Infinity"`...)
		case math.IsInf(f, -1):
			return append(buf, `"-Infinity"`...)
		}
		bits := 64
		if c.base.Kind() == reflect.Float32 {
			bits = 32
		}
		return strconv.AppendFloat(buf, f, 'g', -1, bits)
	case kindTimestamp:
		t := v.Interface().(time.Time)
		switch timestampFormat(c, nil, "unixTimestamp") {
		case "iso8601":
			return appendJSONString(buf, formatISO(t))
		case "rfc822":
			return appendJSONString(buf, t.UTC().Format(http1123))
		}
		return appendEpoch(buf, t)
	case kindBlob:
		return appendBase64JSON(buf, v.Bytes())
	case kindStream:
		if b, ok := v.Interface().([]byte); ok {
			return appendBase64JSON(buf, b)
		}
		return append(buf, "null"...)
	}
	return buf
}

// appendJSONMap encodes a map (of type c.typ) as a JSON object, its values by value.
func appendJSONMap(buf []byte, c *codec, v reflect.Value, value func([]byte, *codec, reflect.Value) []byte) []byte {
	buf = append(buf, '{')
	kv, ev := mapCells(c)
	var iter reflect.MapIter
	iter.Reset(v)
	first := true
	for iter.Next() {
		if !first {
			buf = append(buf, ',')
		}
		first = false
		kv.SetIterKey(&iter)
		ev.SetIterValue(&iter)
		buf = appendJSONString(buf, kv.String())
		buf = append(buf, ':')
		buf = value(buf, c.elem, ev)
	}
	return append(buf, '}')
}

func appendBase64JSON(buf, b []byte) []byte {
	buf = append(buf, '"')
	buf = base64.StdEncoding.AppendEncode(buf, b)
	return append(buf, '"')
}

func appendEpoch(buf []byte, t time.Time) []byte {
	if t.Nanosecond() == 0 {
		return strconv.AppendInt(buf, t.Unix(), 10)
	}
	return strconv.AppendFloat(buf, float64(t.UnixMilli())/1000, 'f', -1, 64)
}

// appendJSONStruct encodes the body members of a structure.
func appendJSONStruct(buf []byte, c *codec, v reflect.Value) []byte {
	buf = append(buf, '{')
	first := true
	for _, f := range c.fields {
		if f.location != "" {
			continue
		}
		fv := v.Field(f.index)
		if isAbsent(fv) {
			continue
		}
		if !first {
			buf = append(buf, ',')
		}
		first = false
		buf = appendJSONString(buf, f.wire)
		buf = append(buf, ':')
		buf = appendJSONValue(buf, f.c, fv)
	}
	return append(buf, '}')
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s quoted, replacing invalid UTF-8 with U+FFFD.
func appendJSONString(buf []byte, s string) []byte {
	buf = append(buf, '"')
	start := 0
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' {
				i++
				continue
			}
			buf = append(buf, s[start:i]...)
			switch b {
			case '"', '\\':
				buf = append(buf, '\\', b)
			case '\n':
				buf = append(buf, '\\', 'n')
			case '\r':
				buf = append(buf, '\\', 'r')
			case '\t':
				buf = append(buf, '\\', 't')
			default:
				buf = append(buf, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			buf = append(buf, s[start:i]...)
			buf = append(buf, `\ufffd`...)
			i += size
			start = i
			continue
		}
		i += size
	}
	buf = append(buf, s[start:]...)
	return append(buf, '"')
}

// mapCells returns settable key and value cells for iterating a map of c without
// allocating per entry.
func mapCells(c *codec) (reflect.Value, reflect.Value) {
	return reflect.New(c.base.Key()).Elem(), reflect.New(c.base.Elem()).Elem()
}
