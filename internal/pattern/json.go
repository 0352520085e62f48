package pattern

import (
	"errors"
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// kind is the JSON type of a value.
type kind uint8

const (
	kindNull kind = iota
	kindFalse
	kindTrue
	kindNumber
	kindString
	kindArray
	kindObject
)

// value is a parsed JSON value that keeps what encoding/json loses: the raw text of numbers
// (so 300.0 stays 300.0) and the order of object members.
type value struct {
	kind    kind
	text    string // a string's contents, a number's raw text, or true, false, null
	items   []value
	members []member
}

type member struct {
	name string
	val  value
}

// maxDepth bounds nesting so hostile input cannot exhaust the stack.
const maxDepth = 1000

var errTooDeep = errors.New("JSON nesting is too deep")

// scanner reads JSON text. Its methods report syntax errors with the byte offset.
type scanner struct {
	data  []byte
	pos   int
	depth int
}

func (s *scanner) errorf(format string, args ...any) error {
	return fmt.Errorf("%s at offset %d", fmt.Sprintf(format, args...), s.pos)
}

func (s *scanner) skipSpace() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// parseJSON parses data as exactly one JSON value.
func parseJSON(data []byte) (value, error) {
	s := scanner{data: data}
	v, err := s.value()
	if err != nil {
		return value{}, err
	}
	s.skipSpace()
	if s.pos != len(s.data) {
		return value{}, s.errorf("unexpected %q after the JSON value", s.data[s.pos])
	}
	return v, nil
}

func (s *scanner) value() (value, error) {
	s.skipSpace()
	if s.pos >= len(s.data) {
		return value{}, s.errorf("unexpected end of JSON input")
	}
	switch c := s.data[s.pos]; {
	case c == '{':
		return s.object()
	case c == '[':
		return s.array()
	case c == '"':
		str, err := s.str()
		return value{kind: kindString, text: str}, err
	case c == '-' || (c >= '0' && c <= '9'):
		num, err := s.number()
		return value{kind: kindNumber, text: num}, err
	default:
		return s.literal()
	}
}

func (s *scanner) literal() (value, error) {
	for _, l := range [...]struct {
		text string
		kind kind
	}{{"true", kindTrue}, {"false", kindFalse}, {"null", kindNull}} {
		if len(s.data)-s.pos >= len(l.text) && string(s.data[s.pos:s.pos+len(l.text)]) == l.text {
			s.pos += len(l.text)
			return value{kind: l.kind, text: l.text}, nil
		}
	}
	return value{}, s.errorf("unexpected character %q", s.data[s.pos])
}

func (s *scanner) enter() error {
	s.depth++
	if s.depth > maxDepth {
		return errTooDeep
	}
	return nil
}

func (s *scanner) object() (value, error) {
	if err := s.enter(); err != nil {
		return value{}, err
	}
	defer func() { s.depth-- }()
	s.pos++ // {
	v := value{kind: kindObject}
	s.skipSpace()
	if s.pos < len(s.data) && s.data[s.pos] == '}' {
		s.pos++
		return v, nil
	}
	for {
		s.skipSpace()
		if s.pos >= len(s.data) || s.data[s.pos] != '"' {
			return value{}, s.errorf("expected a double-quoted field name")
		}
		name, err := s.str()
		if err != nil {
			return value{}, err
		}
		if err := s.expect(':'); err != nil {
			return value{}, err
		}
		val, err := s.value()
		if err != nil {
			return value{}, err
		}
		v.members = append(v.members, member{name: name, val: val})
		done, err := s.next('}')
		if err != nil || done {
			return v, err
		}
	}
}

func (s *scanner) array() (value, error) {
	if err := s.enter(); err != nil {
		return value{}, err
	}
	defer func() { s.depth-- }()
	s.pos++ // [
	v := value{kind: kindArray}
	s.skipSpace()
	if s.pos < len(s.data) && s.data[s.pos] == ']' {
		s.pos++
		return v, nil
	}
	for {
		item, err := s.value()
		if err != nil {
			return value{}, err
		}
		v.items = append(v.items, item)
		done, err := s.next(']')
		if err != nil || done {
			return v, err
		}
	}
}

func (s *scanner) expect(c byte) error {
	s.skipSpace()
	if s.pos >= len(s.data) || s.data[s.pos] != c {
		return s.errorf("expected %q", c)
	}
	s.pos++
	return nil
}

// next consumes the ',' between elements or the closing byte, reporting whether it closed.
func (s *scanner) next(closing byte) (bool, error) {
	s.skipSpace()
	if s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ',':
			s.pos++
			return false, nil
		case closing:
			s.pos++
			return true, nil
		}
	}
	return false, s.errorf("expected ',' or %q", closing)
}

// number scans a number as RFC 8259 defines it and returns its raw text.
func (s *scanner) number() (string, error) {
	start := s.pos
	if err := s.skipNumber(); err != nil {
		return "", err
	}
	return string(s.data[start:s.pos]), nil
}

// skipNumber scans a number as RFC 8259 defines it.
func (s *scanner) skipNumber() error {
	d := s.data
	if s.pos < len(d) && d[s.pos] == '-' {
		s.pos++
	}
	switch {
	case s.pos < len(d) && d[s.pos] == '0':
		s.pos++
	case s.pos < len(d) && d[s.pos] >= '1' && d[s.pos] <= '9':
		s.digits()
	default:
		return s.errorf("invalid number")
	}
	if s.pos < len(d) && d[s.pos] == '.' {
		s.pos++
		if s.digits() == 0 {
			return s.errorf("invalid number")
		}
	}
	if s.pos < len(d) && (d[s.pos] == 'e' || d[s.pos] == 'E') {
		s.pos++
		if s.pos < len(d) && (d[s.pos] == '+' || d[s.pos] == '-') {
			s.pos++
		}
		if s.digits() == 0 {
			return s.errorf("invalid number")
		}
	}
	return nil
}

func (s *scanner) digits() int {
	n := 0
	for s.pos < len(s.data) && s.data[s.pos] >= '0' && s.data[s.pos] <= '9' {
		s.pos++
		n++
	}
	return n
}

// str scans a string starting at its opening quote and returns its decoded contents.
func (s *scanner) str() (string, error) {
	// Fast path: no escapes.
	start := s.pos + 1
	for i := start; i < len(s.data); i++ {
		c := s.data[i]
		if c == '"' {
			s.pos = i + 1
			return string(s.data[start:i]), nil
		}
		if c == '\\' || c < 0x20 {
			break
		}
	}
	b, err := s.appendStr(nil)
	return string(b), err
}

// appendStr scans a string starting at its opening quote and appends its decoded contents
// to buf, allocating nothing when buf has room.
func (s *scanner) appendStr(buf []byte) ([]byte, error) {
	s.pos++ // "
	for s.pos < len(s.data) {
		c := s.data[s.pos]
		switch {
		case c == '"':
			s.pos++
			return buf, nil
		case c < 0x20:
			return nil, s.errorf("control character in string")
		case c != '\\':
			buf = append(buf, c)
			s.pos++
			continue
		}
		s.pos++ // backslash
		if s.pos >= len(s.data) {
			break
		}
		e := s.data[s.pos]
		s.pos++
		switch e {
		case '"', '\\', '/':
			buf = append(buf, e)
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
			r, ok := s.hex4()
			if !ok {
				return nil, s.errorf("invalid \\u escape")
			}
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if s.pos+1 < len(s.data) && s.data[s.pos] == '\\' && s.data[s.pos+1] == 'u' {
					save := s.pos
					s.pos += 2
					if x, ok := s.hex4(); ok {
						r2 = x
					} else {
						s.pos = save
					}
					if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
						r = d
					} else {
						s.pos = save
						r = utf8.RuneError
					}
				} else {
					r = utf8.RuneError
				}
			}
			buf = utf8.AppendRune(buf, r)
		default:
			return nil, s.errorf("invalid escape character %q", e)
		}
	}
	return nil, s.errorf("unterminated string")
}

func (s *scanner) hex4() (rune, bool) {
	if len(s.data)-s.pos < 4 {
		return 0, false
	}
	n, err := strconv.ParseUint(string(s.data[s.pos:s.pos+4]), 16, 32)
	if err != nil {
		return 0, false
	}
	s.pos += 4
	return rune(n), true
}
