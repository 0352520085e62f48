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
	trailed    bool            // some leaf sits inside an array
	scratch    []byte          // room for the strings parseEvent skips
	steps      []step          // the trails of leaves in arrays, one after the other
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
func ParseEvent(data []byte) (*Event, error) { return parseEvent(data, nil) }

// keptPath is a path a Machine's patterns name: as a field (fields counts the patterns), or
// as an object a field is in (inside). name is the path, so that a flattened event shares
// the string rather than making its own.
type keptPath struct {
	name           string
	fields, inside int
}

// parseEvent is ParseEvent keeping only the leaves whose path a pattern names as a field
// (all of them when keep is nil): a Machine flattens only what its patterns look at. The
// whole event is still read, so an event that is not JSON is refused all the same.
func parseEvent(data []byte, keep map[string]keptPath) (*Event, error) {
	n := len(data) / 32
	if keep != nil {
		n = min(n, len(keep))
	}
	e := &Event{paths: make(map[string]span, n), leaves: make([]leaf, 0, n)}
	if err := e.parse(data, keep); err != nil {
		return nil, err
	}
	return e, nil
}

// parse flattens data into e, which is empty.
func (e *Event) parse(data []byte, keep map[string]keptPath) error {
	s := scanner{data: data}
	s.skipSpace()
	if s.pos >= len(data) || data[s.pos] != '{' {
		if _, err := parseJSON(data); err != nil {
			return err
		}
		return ErrEventNotObject
	}
	var room [128]byte
	if err := e.scan(&s, room[:0], nil, keep); err != nil {
		return err
	}
	s.skipSpace()
	if s.pos != len(data) {
		return s.errorf("unexpected %q after the JSON value", data[s.pos])
	}
	return nil
}

// reset empties e for another event, keeping its memory.
func (e *Event) reset() {
	clear(e.leaves)
	e.leaves = e.leaves[:0]
	clear(e.paths)
	clear(e.arrayPaths)
	e.arrayPaths = e.arrayPaths[:0]
	e.steps = e.steps[:0]
	e.trailed = false
}

// scan reads one JSON value from s straight into leaves, without building a tree: the
// same as parsing then calling add, at a fraction of the allocations. path is built in
// place (children write past its end), and becomes a string only for a leaf that is kept.
func (e *Event) scan(s *scanner, path []byte, trail []step, keep map[string]keptPath) error {
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
			child := path
			if len(child) > 0 {
				child = append(child, '.')
			}
			child, err := s.appendStr(child)
			if err != nil {
				return err
			}
			if err := s.expect(':'); err != nil {
				return err
			}
			if err := e.scan(s, child, trail, keep); err != nil {
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
		if keep == nil {
			e.arrayPaths = append(e.arrayPaths, string(path))
		} else {
			// Only the names of arrays patterns reach into are ever looked at.
			e.arrayPaths = append(e.arrayPaths, keep[string(path)].name)
		}
		s.skipSpace()
		if s.pos < len(s.data) && s.data[s.pos] == ']' {
			s.pos++
			s.depth--
			return nil
		}
		for i := int32(0); ; i++ {
			// Trails are cut from one arena: a leaf's trail is never appended to.
			start := len(e.steps)
			e.steps = append(append(e.steps, trail...), step{array: id, index: i})
			t := e.steps[start:len(e.steps):len(e.steps)]
			if err := e.scan(s, path, t, keep); err != nil {
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
		name := ""
		if keep != nil {
			k := keep[string(path)]
			if k.fields <= 0 {
				return e.skipScalar(s)
			}
			name = k.name
		} else {
			name = string(path)
		}
		v, err := s.value()
		if err != nil {
			return err
		}
		e.add(v, name, trail)
		return nil
	}
}

// skipScalar reads a string, number or literal that no pattern asks for, allocating nothing.
func (e *Event) skipScalar(s *scanner) error {
	var err error
	switch c := s.data[s.pos]; {
	case c == '"':
		e.scratch, err = s.appendStr(e.scratch[:0])
	case c == '-' || (c >= '0' && c <= '9'):
		err = s.skipNumber()
	default:
		_, err = s.literal()
	}
	return err
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
		e.trailed = e.trailed || len(trail) > 0
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
func (e *Event) hasArrays() bool { return e.trailed }
