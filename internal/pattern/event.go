package pattern

import (
	"errors"
)

// Event is an event flattened once for matching against any number of patterns: its leaf
// values by dotted field path, each with the array elements it sits in. An Event is
// read-only after it is built and safe for concurrent use.
type Event struct {
	leaves     []leaf
	paths      map[string]span // the leaves of each path, chained through leaf.next
	arrayPaths []string        // the field path of each array, by array id
}

// span is the first and last leaf of one path.
type span struct{ first, last int32 }

// leaf is one scalar value of the event.
type leaf struct {
	next  int32 // the next leaf with the same path, or -1
	path  string
	kind  kind
	text  string // string contents, number text, or true/false/null
	num   float64
	numOK bool   // num holds the exact value of a number event-ruler can compare
	trail []step // the array elements, outermost first, that contain the value
}

// step is "element index of array": arrays are numbered in document order.
type step struct {
	array, index int32
}

// ErrEventNotObject is returned for an event whose JSON is not an object.
var ErrEventNotObject = errors.New("event is not a JSON object")

// ParseEvent parses and flattens a JSON event. Numbers keep their text, so 300.0 equals
// the pattern value 300 by number and "300.0" only by text, as in EventBridge.
func ParseEvent(data []byte) (*Event, error) {
	s := scanner{data: data}
	s.skipSpace()
	if s.pos >= len(data) || data[s.pos] != '{' {
		if _, err := parseJSON(data); err != nil {
			return nil, err
		}
		return nil, ErrEventNotObject
	}
	e := &Event{paths: make(map[string]span, len(data)/32), leaves: make([]leaf, 0, len(data)/24)}
	if err := e.scan(&s, "", nil); err != nil {
		return nil, err
	}
	s.skipSpace()
	if s.pos != len(data) {
		return nil, s.errorf("unexpected %q after the JSON value", data[s.pos])
	}
	return e, nil
}

// scan reads one JSON value from s straight into leaves, without building a tree: the
// same as parsing then calling add, at a fraction of the allocations.
func (e *Event) scan(s *scanner, path string, trail []step) error {
	s.skipSpace()
	if s.pos >= len(s.data) {
		return s.errorf("unexpected end of JSON input")
	}
	switch c := s.data[s.pos]; {
	case c == '{':
		if err := s.enter(); err != nil {
			return err
		}
		s.pos++
		s.skipSpace()
		if s.pos < len(s.data) && s.data[s.pos] == '}' {
			s.pos++
			s.depth--
			return nil
		}
		for {
			s.skipSpace()
			if s.pos >= len(s.data) || s.data[s.pos] != '"' {
				return s.errorf("expected a double-quoted field name")
			}
			name, err := s.str()
			if err != nil {
				return err
			}
			if err := s.expect(':'); err != nil {
				return err
			}
			if err := e.scan(s, joinPath(path, name), trail); err != nil {
				return err
			}
			done, err := s.next('}')
			if err != nil {
				return err
			}
			if done {
				s.depth--
				return nil
			}
		}
	case c == '[':
		if err := s.enter(); err != nil {
			return err
		}
		s.pos++
		id := int32(len(e.arrayPaths))
		e.arrayPaths = append(e.arrayPaths, path)
		s.skipSpace()
		if s.pos < len(s.data) && s.data[s.pos] == ']' {
			s.pos++
			s.depth--
			return nil
		}
		for i := int32(0); ; i++ {
			t := append(trail[:len(trail):len(trail)], step{array: id, index: i})
			if err := e.scan(s, path, t); err != nil {
				return err
			}
			done, err := s.next(']')
			if err != nil {
				return err
			}
			if done {
				s.depth--
				return nil
			}
		}
	default:
		v, err := s.value()
		if err != nil {
			return err
		}
		e.add(v, path, trail)
		return nil
	}
}

// eventOf flattens a parsed JSON object.
func eventOf(v value) *Event {
	e := &Event{paths: map[string]span{}}
	e.add(v, "", nil)
	return e
}

// add flattens v, found at path inside the array elements trail, into e.
func (e *Event) add(v value, path string, trail []step) {
	switch v.kind {
	case kindObject:
		for _, m := range v.members {
			e.add(m.val, joinPath(path, m.name), trail)
		}
	case kindArray:
		id := int32(len(e.arrayPaths))
		e.arrayPaths = append(e.arrayPaths, path)
		for i, item := range v.items {
			t := append(trail[:len(trail):len(trail)], step{array: id, index: int32(i)})
			e.add(item, path, t)
		}
	default:
		l := leaf{next: -1, path: path, kind: v.kind, text: v.text, trail: trail}
		if v.kind == kindNumber {
			l.num, l.numOK = comparableNumber(v.text)
		}
		i := int32(len(e.leaves))
		if sp, ok := e.paths[path]; ok {
			e.leaves[sp.last].next = i
			e.paths[path] = span{sp.first, i}
		} else {
			e.paths[path] = span{i, i}
		}
		e.leaves = append(e.leaves, l)
	}
}

// first returns the index of the first leaf at path, or -1.
func (e *Event) first(path string) int32 {
	if sp, ok := e.paths[path]; ok {
		return sp.first
	}
	return -1
}

// hasArrays reports whether any leaf sits inside an array.
func (e *Event) hasArrays() bool { return len(e.arrayPaths) > 0 }
