// Package jsonobj is an insertion-ordered JSON object and the JSON reading and writing that
// keep its order: AWS services whose JSON model is ordered (Step Functions' data, API
// Gateway's mapping templates) give object keys back in the order they were given or built.
//
// Decoded values are *Object, []any (or what the caller makes of arrays), string,
// json.Number (the number's text), bool and nil.
package jsonobj

import (
	"iter"
	"maps"
	"slices"
)

// Object is an insertion-ordered map of string keys, as a JSON object is read and as Java's
// LinkedHashMap keeps one. The zero value is empty and usable; an Object is not safe for
// concurrent change.
type Object struct {
	entries []entry
	index   map[string]int // position of each key, once the object outgrows a linear scan
}

type entry struct {
	key   string
	value any
}

const small = 8

// New returns an empty Object with room for n keys.
func New(n int) *Object { return &Object{entries: make([]entry, 0, n)} }

// FromMap returns an Object of m's keys in sorted order (a Go map has no order of its own).
func FromMap(m map[string]any) *Object {
	o := New(len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		o.Set(k, m[k])
	}
	return o
}

func (o *Object) find(key string) int {
	if o.index != nil {
		if i, ok := o.index[key]; ok {
			return i
		}
		return -1
	}
	for i := range o.entries {
		if o.entries[i].key == key {
			return i
		}
	}
	return -1
}

// Get returns the value stored under key.
func (o *Object) Get(key string) (any, bool) {
	if i := o.find(key); i >= 0 {
		return o.entries[i].value, true
	}
	return nil, false
}

// Set stores value under key: an existing key keeps its position, a new one goes last.
func (o *Object) Set(key string, value any) {
	if i := o.find(key); i >= 0 {
		o.entries[i].value = value
		return
	}
	o.entries = append(o.entries, entry{key, value})
	switch {
	case o.index != nil:
		o.index[key] = len(o.entries) - 1
	case len(o.entries) > small:
		o.reindex()
	}
}

func (o *Object) reindex() {
	o.index = make(map[string]int, len(o.entries))
	for i, e := range o.entries {
		o.index[e.key] = i
	}
}

// Delete removes key.
func (o *Object) Delete(key string) {
	i := o.find(key)
	if i < 0 {
		return
	}
	o.entries = append(o.entries[:i:i], o.entries[i+1:]...)
	if o.index != nil {
		o.reindex()
	}
}

// Keys returns the keys in order.
func (o *Object) Keys() []string {
	keys := make([]string, len(o.entries))
	for i, e := range o.entries {
		keys[i] = e.key
	}
	return keys
}

// All yields the keys and their values in order.
func (o *Object) All() iter.Seq2[string, any] {
	return func(yield func(string, any) bool) {
		for _, e := range o.entries {
			if !yield(e.key, e.value) {
				return
			}
		}
	}
}

// Len returns the number of keys.
func (o *Object) Len() int { return len(o.entries) }

// Map returns the object as a map[string]any, one level deep: for Go APIs to which the
// order of keys means nothing.
func (o *Object) Map() map[string]any {
	m := make(map[string]any, len(o.entries))
	for _, e := range o.entries {
		m[e.key] = e.value
	}
	return m
}

// Clone deep-copies a decoded JSON value (objects and []any arrays), so a change to the copy
// never reaches the original.
func Clone(v any) any {
	switch x := v.(type) {
	case *Object:
		c := &Object{entries: make([]entry, len(x.entries), len(x.entries)+1)}
		for i, e := range x.entries {
			c.entries[i] = entry{e.key, Clone(e.value)}
		}
		if x.index != nil {
			c.reindex()
		}
		return c
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = Clone(e)
		}
		return m
	case []any:
		a := make([]any, len(x))
		for i, e := range x {
			a[i] = Clone(e)
		}
		return a
	}
	return v
}

// Plain converts a value deeply into map[string]any objects, for Go APIs that take
// encoding/json's form.
func Plain(v any) any {
	switch x := v.(type) {
	case *Object:
		m := make(map[string]any, len(x.entries))
		for _, e := range x.entries {
			m[e.key] = Plain(e.value)
		}
		return m
	case []any:
		a := make([]any, len(x))
		for i, e := range x {
			a[i] = Plain(e)
		}
		return a
	}
	return v
}

// Ordered converts a value deeply from map[string]any objects (sorted keys) into *Object;
// arrays and Objects in it are changed in place.
func Ordered(v any) any {
	switch x := v.(type) {
	case map[string]any:
		o := New(len(x))
		for _, k := range slices.Sorted(maps.Keys(x)) {
			o.Set(k, Ordered(x[k]))
		}
		return o
	case *Object:
		for i, e := range x.entries {
			x.entries[i].value = Ordered(e.value)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = Ordered(e)
		}
		return x
	}
	return v
}

// MarshalJSON encodes the object in key order.
func (o *Object) MarshalJSON() ([]byte, error) { return Append(nil, o), nil }

// UnmarshalJSON decodes a JSON object keeping its order.
func (o *Object) UnmarshalJSON(b []byte) error {
	v, err := Decode(b)
	if err != nil {
		return err
	}
	d, ok := v.(*Object)
	if !ok {
		return &typeError{}
	}
	*o = *d
	return nil
}

type typeError struct{}

func (*typeError) Error() string { return "jsonobj: cannot unmarshal a non-object into an Object" }
