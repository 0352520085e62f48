package jsonobj

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Decode decodes one JSON document into *Object, []any, string, json.Number, bool and nil,
// keeping the order of object keys and the text of numbers.
func Decode(data []byte) (any, error) {
	return DecodeArrays(data, func(items []any) any { return items })
}

// DecodeArrays is Decode with each array made by array from its items.
func DecodeArrays(data []byte, array func(items []any) any) (any, error) {
	d := &jsonDecoder{data: data, array: array}
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
	data  []byte
	pos   int
	array func([]any) any
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
		return d.arrayValue(depth)
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
	m := &Object{}
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

func (d *jsonDecoder) arrayValue(depth int) (any, error) {
	d.pos++
	items := []any{}
	d.space()
	if d.pos < len(d.data) && d.data[d.pos] == ']' {
		d.pos++
		return d.array(items), nil
	}
	for {
		d.space()
		v, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		items = append(items, v)
		d.space()
		if d.pos < len(d.data) && d.data[d.pos] == ',' {
			d.pos++
			continue
		}
		if d.pos < len(d.data) && d.data[d.pos] == ']' {
			d.pos++
			return d.array(items), nil
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
