package attr

import (
	"encoding/binary"
	"errors"
	"slices"
)

// The binary form is how the service stores items: compact, self-describing, and decoded
// without validation beyond what keeps the decoder safe, since only encoded Values reach it.
// Map entries are written in name order, so equal items encode to equal bytes.
//
//	item  = uvarint(count) { string(name) value }
//	value = type byte, then by type:
//	        S N B: string   BOOL: 0|1   NULL: nothing
//	        SS NS BS: uvarint(count) { string }
//	        L: uvarint(count) { value }   M: uvarint(count) { string(name) value }
//	string = uvarint(len) bytes

// AppendItem appends the binary form of item to dst.
func AppendItem(dst []byte, item Item) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(item)))
	for _, name := range sortedNames(item) {
		dst = appendString(dst, name)
		dst = AppendValue(dst, item[name])
	}
	return dst
}

// AppendValue appends the binary form of v to dst.
func AppendValue(dst []byte, v Value) []byte {
	dst = append(dst, byte(v.t))
	switch v.t {
	case S, N, B:
		dst = appendString(dst, v.s)
	case BOOL:
		if v.b {
			dst = append(dst, 1)
		} else {
			dst = append(dst, 0)
		}
	case SS, NS, BS:
		dst = binary.AppendUvarint(dst, uint64(len(v.set)))
		for _, m := range v.set {
			dst = appendString(dst, m)
		}
	case L:
		dst = binary.AppendUvarint(dst, uint64(len(v.list)))
		for _, e := range v.list {
			dst = AppendValue(dst, e)
		}
	case M:
		dst = AppendItem(dst, v.m)
	}
	return dst
}

func sortedNames[V any](m map[string]V) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

var errBinary = errors.New("attr: malformed item encoding")

// decodeDepth bounds nesting while decoding; stored items never exceed MaxDepth.
const decodeDepth = 2 * MaxDepth

// DecodeItem decodes an item written by AppendItem.
func DecodeItem(b []byte) (Item, error) {
	d := decoder{b: b}
	item := d.item(0)
	if d.err != nil || len(d.b) != 0 {
		return nil, errBinary
	}
	return item, nil
}

// DecodeValue decodes a value written by AppendValue.
func DecodeValue(b []byte) (Value, error) {
	d := decoder{b: b}
	v := d.value(0)
	if d.err != nil || len(d.b) != 0 {
		return Value{}, errBinary
	}
	return v, nil
}

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) count() int {
	n, k := binary.Uvarint(d.b)
	if k <= 0 || n > uint64(len(d.b)) { // every element takes at least one byte
		d.err = errBinary
		return 0
	}
	d.b = d.b[k:]
	return int(n)
}

func (d *decoder) str() string {
	n := d.count()
	if d.err != nil || n > len(d.b) {
		d.err = errBinary
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

func (d *decoder) item(depth int) Item {
	n := d.count()
	item := make(Item, n)
	for range n {
		name := d.str()
		v := d.value(depth + 1)
		if d.err != nil {
			return nil
		}
		item[name] = v
	}
	return item
}

func (d *decoder) value(depth int) Value {
	if depth > decodeDepth || len(d.b) == 0 {
		d.err = errBinary
		return Value{}
	}
	t := Type(d.b[0])
	d.b = d.b[1:]
	switch t {
	case S, B:
		return Value{t: t, s: d.str()}
	case N:
		s := d.str()
		if !isCanonical(s) {
			d.err = errBinary
		}
		return Value{t: t, s: s}
	case BOOL:
		if len(d.b) == 0 || d.b[0] > 1 {
			d.err = errBinary
			return Value{}
		}
		v := Bool(d.b[0] == 1)
		d.b = d.b[1:]
		return v
	case NULL:
		return Null()
	case SS, NS, BS:
		n := d.count()
		set := make([]string, 0, n)
		for range n {
			m := d.str()
			if t == NS && !isCanonical(m) {
				d.err = errBinary
			}
			set = append(set, m)
		}
		if n == 0 {
			d.err = errBinary
		}
		return Value{t: t, set: set}
	case L:
		n := d.count()
		list := make([]Value, 0, n)
		for range n {
			list = append(list, d.value(depth+1))
		}
		return List(list)
	case M:
		return Map(d.item(depth))
	}
	d.err = errBinary
	return Value{}
}
