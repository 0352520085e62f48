package awsproto

import (
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"strconv"
	"strings"
)

// errQuery marks an ill-typed query-protocol parameter.
var errQuery = errors.New("invalid query parameter")

// queryForm is the parsed parameters of a query-protocol request with an index of key prefixes.
type queryForm struct {
	values   url.Values
	prefixes map[string]bool
}

func newQueryForm(v url.Values) *queryForm {
	f := &queryForm{values: v, prefixes: make(map[string]bool, len(v)*2)}
	for k := range v {
		for i := 0; i < len(k); i++ {
			if k[i] == '.' {
				f.prefixes[k[:i]] = true
			}
		}
		f.prefixes[k] = true
	}
	return f
}

func (f *queryForm) get(k string) (string, bool) {
	vs, ok := f.values[k]
	if !ok || len(vs) == 0 {
		return "", false
	}
	return vs[0], true
}

func joinKey(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

// decodeQueryStruct fills the members of structure v from the parameters under prefix.
func decodeQueryStruct(c *codec, v reflect.Value, f *queryForm, prefix string) error {
	for _, fl := range c.fields {
		name := fl.wire
		// Flattened lists take their member's locationName as the key.
		if fl.c.kind == kindList && isFlattened(fl) && fl.c.elemRef.LocationName != "" {
			name = fl.c.elemRef.LocationName
		}
		key := joinKey(prefix, name)
		if !f.prefixes[key] {
			continue
		}
		if err := decodeQueryValue(fl, fl.c, v.Field(fl.index), f, key); err != nil {
			return err
		}
	}
	return nil
}

func decodeQueryValue(fl *field, c *codec, v reflect.Value, f *queryForm, key string) error {
	switch c.kind {
	case kindStruct:
		if c.ptr {
			p := reflect.New(c.base)
			v.Set(p)
			v = p.Elem()
		}
		return decodeQueryStruct(c, v, f, key)
	case kindList:
		base := key + "."
		if fl == nil || !isFlattened(fl) {
			base = key + "." + xmlListMemberName(c) + "."
		}
		s := reflect.MakeSlice(c.base, 0, 4)
		for i := 1; ; i++ {
			k := base + strconv.Itoa(i)
			if !f.prefixes[k] {
				break
			}
			s = reflect.Append(s, reflect.Zero(c.base.Elem()))
			if err := decodeQueryValue(nil, c.elem, s.Index(i-1), f, k); err != nil {
				return err
			}
		}
		v.Set(s)
		return nil
	case kindMap:
		base := key + ".entry."
		if fl != nil && isFlattened(fl) {
			base = key + "."
		}
		kn, vn := mapNames(c)
		m := reflect.MakeMap(c.base)
		for i := 1; ; i++ {
			k := base + strconv.Itoa(i)
			if !f.prefixes[k] {
				break
			}
			mk, ok := f.get(k + "." + kn)
			if !ok {
				continue
			}
			ev := reflect.New(c.base.Elem()).Elem()
			if err := decodeQueryValue(nil, c.elem, ev, f, k+"."+vn); err != nil {
				return err
			}
			m.SetMapIndex(reflect.ValueOf(mk).Convert(c.base.Key()), ev)
		}
		v.Set(m)
		return nil
	case kindDocument:
		return fmt.Errorf("%w: %s: documents are not supported", errQuery, key)
	}
	text, ok := f.get(key)
	if !ok {
		return nil
	}
	if err := setScalarText(c, v, text); err != nil {
		return fmt.Errorf("%w: %s=%q", errQuery, key, truncate(text))
	}
	return nil
}

func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return strings.ToValidUTF8(s, "?")
}
