package vtl

import (
	"fmt"
	"math"
	"reflect"
	"regexp"
	"strings"
	"unicode/utf16"
)

// entry is an element of a map's entrySet().
type entry struct {
	key   string
	value any
}

func (en *entry) Get(name string) (any, bool) {
	switch name {
	case "key":
		return en.key, true
	case "value":
		return en.value, true
	}
	return nil, false
}

func (en *entry) Call(method string, args []any) (any, error) {
	switch method {
	case "getKey":
		return en.key, nil
	case "getValue":
		return en.value, nil
	}
	return nil, nil
}

// property resolves $v.name as Velocity's introspection does: a map's get("name"), an
// Object's Get, or a getName()/isName() method.
func property(v any, name string) (any, error) {
	switch x := v.(type) {
	case *Map:
		r, _ := x.Get(name)
		return r, nil
	case map[string]any:
		return x[name], nil
	case Object:
		if r, ok := x.Get(name); ok {
			return r, nil
		}
		return nil, nil
	}
	capital := strings.ToUpper(name[:1]) + name[1:]
	if r, err := call(v, "get"+capital, nil); r != nil || err != nil {
		return r, err
	}
	return call(v, "is"+capital, nil)
}

// index resolves $v[i]: get(i) on lists (negative i counts from the end) and maps.
func index(v any, idx any) (any, error) {
	if items, ok := listItems(v); ok {
		if i, ok := toInt(idx); ok && i < 0 {
			idx = int64(i + len(items))
		}
	}
	return call(v, "get", []any{idx})
}

// call invokes $v.method(args) on a built-in value or an Object. A method the value
// lacks yields null, which renders the reference as written.
func call(v any, method string, args []any) (any, error) {
	switch x := v.(type) {
	case Object:
		return x.Call(method, args)
	case string:
		return stringMethod(x, method, args)
	case *Map:
		return mapMethod(orderedMap{x}, method, args)
	case map[string]any:
		return mapMethod(goMap(x), method, args)
	case *List:
		return listMethod(x.Items, x, method, args)
	case []any:
		return listMethod(x, nil, method, args)
	case []string:
		items := make([]any, len(x))
		for i, s := range x {
			items[i] = s
		}
		return listMethod(items, nil, method, args)
	}
	if len(args) == 0 {
		switch method {
		case "toString":
			return String(v), nil
		case "intValue", "longValue":
			if i, f, isFloat, ok := number(v); ok {
				if isFloat {
					return int64(f), nil
				}
				return i, nil
			}
		case "doubleValue", "floatValue":
			if i, f, isFloat, ok := number(v); ok {
				if isFloat {
					return f, nil
				}
				return float64(i), nil
			}
		case "booleanValue":
			if b, ok := v.(bool); ok {
				return b, nil
			}
		}
	}
	if method == "equals" && len(args) == 1 {
		return equal(v, args[0]), nil
	}
	return nil, nil
}

func argString(args []any, i int) (string, bool) {
	if i >= len(args) || args[i] == nil {
		return "", false
	}
	s, ok := args[i].(string)
	if !ok {
		return String(args[i]), true
	}
	return s, true
}

func utf16Of(s string) []uint16 { return utf16.Encode([]rune(s)) }

func fromUTF16(u []uint16) string { return string(utf16.Decode(u)) }

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// javaLen, javaSub and javaIndex work on UTF-16 code units, as Java strings do.
func javaLen(s string) int {
	if isASCII(s) {
		return len(s)
	}
	return len(utf16Of(s))
}

func javaSub(s string, b, e int) (string, error) {
	n := javaLen(s)
	if b < 0 || e > n || b > e {
		return "", fmt.Errorf("java.lang.StringIndexOutOfBoundsException: begin %d, end %d, length %d", b, e, n)
	}
	if isASCII(s) {
		return s[b:e], nil
	}
	return fromUTF16(utf16Of(s)[b:e]), nil
}

func javaIndex(s, sub string, from int, last bool) int {
	us, usub := utf16Of(s), utf16Of(sub)
	if last {
		if from > len(us)-len(usub) {
			from = len(us) - len(usub)
		}
		for i := from; i >= 0; i-- {
			if equalUnits(us[i:i+len(usub)], usub) {
				return i
			}
		}
		return -1
	}
	if from < 0 {
		from = 0
	}
	for i := from; i+len(usub) <= len(us); i++ {
		if equalUnits(us[i:i+len(usub)], usub) {
			return i
		}
	}
	return -1
}

func equalUnits(a, b []uint16) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// javaRegexp compiles a java.util.regex pattern; RE2 covers the common subset.
func javaRegexp(pattern string) (*regexp.Regexp, error) {
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, fmt.Errorf("java.util.regex.PatternSyntaxException: %v", err)
	}
	return re, nil
}

// javaReplacement turns a Java replacement string ($1, \$) into Go's (${1}, $$).
func javaReplacement(r string) string {
	var b strings.Builder
	for i := 0; i < len(r); i++ {
		switch c := r[i]; {
		case c == '\\' && i+1 < len(r):
			i++
			if r[i] == '$' {
				b.WriteString("$$")
			} else {
				b.WriteByte(r[i])
			}
		case c == '$':
			j := i + 1
			for j < len(r) && isDigit(r[j]) {
				j++
			}
			if j == i+1 {
				b.WriteString("$$")
				continue
			}
			b.WriteString("${" + r[i+1:j] + "}")
			i = j - 1
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func stringMethod(s, method string, args []any) (any, error) {
	a0, has0 := argString(args, 0)
	a1, has1 := argString(args, 1)
	switch method {
	case "length":
		return int64(javaLen(s)), nil
	case "isEmpty":
		return s == "", nil
	case "toString", "intern":
		return s, nil
	case "toLowerCase":
		return strings.ToLower(s), nil
	case "toUpperCase":
		return strings.ToUpper(s), nil
	case "trim":
		return strings.TrimFunc(s, func(r rune) bool { return r <= ' ' }), nil
	case "equals":
		if len(args) == 1 {
			o, ok := args[0].(string)
			return ok && o == s, nil
		}
	case "equalsIgnoreCase":
		if len(args) == 1 {
			o, ok := args[0].(string)
			return ok && strings.EqualFold(o, s), nil
		}
	case "contains":
		if has0 {
			return strings.Contains(s, a0), nil
		}
	case "startsWith":
		if has0 {
			return strings.HasPrefix(s, a0), nil
		}
	case "endsWith":
		if has0 {
			return strings.HasSuffix(s, a0), nil
		}
	case "concat":
		if has0 {
			return s + a0, nil
		}
	case "substring":
		b, okB := intArg(args, 0)
		if !okB {
			break
		}
		e := javaLen(s)
		if len(args) > 1 {
			var okE bool
			if e, okE = intArg(args, 1); !okE {
				break
			}
		}
		return javaSub(s, b, e)
	case "charAt":
		i, ok := intArg(args, 0)
		if !ok {
			break
		}
		return javaSub(s, i, i+1)
	case "indexOf", "lastIndexOf":
		if !has0 {
			break
		}
		last := method == "lastIndexOf"
		from := 0
		if last {
			from = javaLen(s)
		}
		if len(args) > 1 {
			f, ok := intArg(args, 1)
			if !ok {
				break
			}
			from = f
		}
		return int64(javaIndex(s, a0, from, last)), nil
	case "replace":
		if has0 && has1 {
			return strings.ReplaceAll(s, a0, a1), nil
		}
	case "replaceAll", "replaceFirst":
		if !has0 || !has1 {
			break
		}
		re, err := javaRegexp(a0)
		if err != nil {
			return nil, err
		}
		repl := javaReplacement(a1)
		if method == "replaceAll" {
			return re.ReplaceAllString(s, repl), nil
		}
		loc := re.FindStringSubmatchIndex(s)
		if loc == nil {
			return s, nil
		}
		out := re.ExpandString(nil, repl, s, loc)
		return s[:loc[0]] + string(out) + s[loc[1]:], nil
	case "matches":
		if !has0 {
			break
		}
		re, err := javaRegexp("^(?:" + a0 + ")$")
		if err != nil {
			return nil, err
		}
		return re.MatchString(s), nil
	case "split":
		if !has0 {
			break
		}
		limit := 0
		if len(args) > 1 {
			l, ok := intArg(args, 1)
			if !ok {
				break
			}
			limit = l
		}
		return javaSplit(s, a0, limit)
	case "hashCode":
		var h int32
		for _, u := range utf16Of(s) {
			h = 31*h + int32(u)
		}
		return int64(h), nil
	}
	return nil, nil
}

// javaSplit splits as String.split: with limit 0 trailing empty strings are removed.
func javaSplit(s, pattern string, limit int) (any, error) {
	re, err := javaRegexp(pattern)
	if err != nil {
		return nil, err
	}
	n := -1
	if limit > 0 {
		n = limit
	}
	if s == "" {
		return &List{Items: []any{""}}, nil
	}
	parts := re.Split(s, n)
	// A zero-width match at the start yields no leading empty string in Java 8+.
	if len(parts) > 1 && parts[0] == "" {
		if loc := re.FindStringIndex(s); loc != nil && loc[1] == 0 {
			parts = parts[1:]
		}
	}
	if limit == 0 {
		for len(parts) > 0 && parts[len(parts)-1] == "" {
			parts = parts[:len(parts)-1]
		}
	}
	items := make([]any, len(parts))
	for i, p := range parts {
		items[i] = p
	}
	return &List{Items: items}, nil
}

func intArg(args []any, i int) (int, bool) {
	if i >= len(args) {
		return 0, false
	}
	return toInt(args[i])
}

// mapView gives the map methods one implementation over *Map and map[string]any.
type mapView interface {
	get(k string) (any, bool)
	set(k string, v any)
	del(k string)
	keys() []string
}

type orderedMap struct{ m *Map }

func (o orderedMap) get(k string) (any, bool) { return o.m.Get(k) }
func (o orderedMap) set(k string, v any)      { o.m.Set(k, v) }
func (o orderedMap) del(k string)             { o.m.Delete(k) }
func (o orderedMap) keys() []string           { return append([]string(nil), o.m.keys...) }

type goMap map[string]any

func (g goMap) get(k string) (any, bool) { v, ok := g[k]; return v, ok }
func (g goMap) set(k string, v any)      { g[k] = v }
func (g goMap) del(k string)             { delete(g, k) }
func (g goMap) keys() []string {
	ks := make([]string, 0, len(g))
	for k := range g {
		ks = append(ks, k)
	}
	sortStrings(ks)
	return ks
}

func mapMethod(m mapView, method string, args []any) (any, error) {
	key := func() (string, bool) {
		if len(args) == 0 || args[0] == nil {
			return "", false
		}
		return String(args[0]), true
	}
	switch method {
	case "get":
		if k, ok := key(); ok && len(args) == 1 {
			v, _ := m.get(k)
			return v, nil
		}
	case "put":
		if k, ok := key(); ok && len(args) == 2 {
			prev, _ := m.get(k)
			m.set(k, args[1])
			return prev, nil
		}
	case "putAll":
		if len(args) == 1 {
			if src, ok := asMapView(args[0]); ok {
				for _, k := range src.keys() {
					v, _ := src.get(k)
					m.set(k, v)
				}
				return "", nil
			}
		}
	case "remove":
		if k, ok := key(); ok && len(args) == 1 {
			prev, _ := m.get(k)
			m.del(k)
			return prev, nil
		}
	case "containsKey":
		if k, ok := key(); ok {
			_, found := m.get(k)
			return found, nil
		}
		return false, nil
	case "containsValue":
		if len(args) == 1 {
			for _, k := range m.keys() {
				if v, _ := m.get(k); equal(v, args[0]) {
					return true, nil
				}
			}
			return false, nil
		}
	case "keySet":
		ks := m.keys()
		items := make([]any, len(ks))
		for i, k := range ks {
			items[i] = k
		}
		return &List{Items: items}, nil
	case "values":
		ks := m.keys()
		items := make([]any, len(ks))
		for i, k := range ks {
			items[i], _ = m.get(k)
		}
		return &List{Items: items}, nil
	case "entrySet":
		ks := m.keys()
		items := make([]any, len(ks))
		for i, k := range ks {
			v, _ := m.get(k)
			items[i] = &entry{key: k, value: v}
		}
		return &List{Items: items}, nil
	case "size":
		return int64(len(m.keys())), nil
	case "isEmpty":
		return len(m.keys()) == 0, nil
	case "clear":
		for _, k := range m.keys() {
			m.del(k)
		}
		return "", nil
	case "toString":
		return String(m), nil
	}
	return nil, nil
}

func asMapView(v any) (mapView, bool) {
	switch x := v.(type) {
	case *Map:
		return orderedMap{x}, true
	case map[string]any:
		return goMap(x), true
	}
	return nil, false
}

func listItems(v any) ([]any, bool) {
	switch x := v.(type) {
	case *List:
		return x.Items, true
	case []any:
		return x, true
	}
	return nil, false
}

func outOfBounds(i, n int) error {
	return fmt.Errorf("java.lang.IndexOutOfBoundsException: Index: %d, Size: %d", i, n)
}

// listMethod implements the java.util.List methods; l is nil for an immutable []any.
func listMethod(items []any, l *List, method string, args []any) (any, error) {
	mutable := func() error {
		if l == nil {
			return fmt.Errorf("java.lang.UnsupportedOperationException: %s", method)
		}
		return nil
	}
	switch method {
	case "size":
		return int64(len(items)), nil
	case "isEmpty":
		return len(items) == 0, nil
	case "get":
		i, ok := intArg(args, 0)
		if !ok || len(args) != 1 {
			break
		}
		if i < 0 || i >= len(items) {
			return nil, outOfBounds(i, len(items))
		}
		return items[i], nil
	case "contains":
		if len(args) == 1 {
			for _, it := range items {
				if equal(it, args[0]) {
					return true, nil
				}
			}
			return false, nil
		}
	case "indexOf", "lastIndexOf":
		if len(args) == 1 {
			found := int64(-1)
			for i, it := range items {
				if equal(it, args[0]) {
					found = int64(i)
					if method == "indexOf" {
						break
					}
				}
			}
			return found, nil
		}
	case "add":
		if err := mutable(); err != nil {
			return nil, err
		}
		switch len(args) {
		case 1:
			l.Items = append(l.Items, args[0])
			return true, nil
		case 2:
			i, ok := intArg(args, 0)
			if !ok {
				break
			}
			if i < 0 || i > len(l.Items) {
				return nil, outOfBounds(i, len(l.Items))
			}
			l.Items = append(l.Items[:i], append([]any{args[1]}, l.Items[i:]...)...)
			return "", nil
		}
	case "addAll":
		if err := mutable(); err != nil {
			return nil, err
		}
		if len(args) == 1 {
			if more, ok := listItems(args[0]); ok {
				l.Items = append(l.Items, more...)
				return len(more) > 0, nil
			}
		}
	case "set":
		if err := mutable(); err != nil {
			return nil, err
		}
		i, ok := intArg(args, 0)
		if !ok || len(args) != 2 {
			break
		}
		if i < 0 || i >= len(l.Items) {
			return nil, outOfBounds(i, len(l.Items))
		}
		prev := l.Items[i]
		l.Items[i] = args[1]
		return prev, nil
	case "remove":
		if err := mutable(); err != nil {
			return nil, err
		}
		if len(args) != 1 {
			break
		}
		if i, ok := toInt(args[0]); ok {
			if i < 0 || i >= len(l.Items) {
				return nil, outOfBounds(i, len(l.Items))
			}
			prev := l.Items[i]
			l.Items = append(l.Items[:i:i], l.Items[i+1:]...)
			return prev, nil
		}
		for i, it := range l.Items {
			if equal(it, args[0]) {
				l.Items = append(l.Items[:i:i], l.Items[i+1:]...)
				return true, nil
			}
		}
		return false, nil
	case "clear":
		if err := mutable(); err != nil {
			return nil, err
		}
		l.Items = l.Items[:0]
		return "", nil
	case "toString":
		return String(items), nil
	}
	return nil, nil
}

// equal is Velocity's ==: numbers compare by value, values of one kind with equals,
// and values of different kinds by their string forms.
func equal(a, b any) bool {
	if isNumber(a) && isNumber(b) {
		c, _ := compareNumbers(a, b)
		return c == 0
	}
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	if kind(a) == kind(b) {
		switch x := a.(type) {
		case string, bool:
			return a == b
		case *List, []any:
			xa, _ := listItems(x)
			xb, _ := listItems(b)
			if len(xa) != len(xb) {
				return false
			}
			for i := range xa {
				if !equal(xa[i], xb[i]) {
					return false
				}
			}
			return true
		case *Map, map[string]any:
			ma, _ := asMapView(a)
			mb, _ := asMapView(b)
			ka, kb := ma.keys(), mb.keys()
			if len(ka) != len(kb) {
				return false
			}
			for _, k := range ka {
				va, _ := ma.get(k)
				vb, ok := mb.get(k)
				if !ok || !equal(va, vb) {
					return false
				}
			}
			return true
		}
		if reflect.TypeOf(a).Comparable() && reflect.TypeOf(b).Comparable() {
			return a == b
		}
	}
	return String(a) == String(b)
}

func kind(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case bool:
		return "bool"
	case *List, []any:
		return "list"
	case *Map, map[string]any:
		return "map"
	}
	return fmt.Sprintf("%T", v)
}

func compareNumbers(a, b any) (int, bool) {
	ai, af, aFloat, okA := number(a)
	bi, bf, bFloat, okB := number(b)
	if !okA || !okB {
		return 0, false
	}
	if !aFloat && !bFloat {
		switch {
		case ai < bi:
			return -1, true
		case ai > bi:
			return 1, true
		}
		return 0, true
	}
	if !aFloat {
		af = float64(ai)
	}
	if !bFloat {
		bf = float64(bi)
	}
	switch {
	case af < bf:
		return -1, true
	case af > bf:
		return 1, true
	}
	return 0, true
}

// arithmetic applies + - * / % as Velocity's MathUtils: integers stay integers
// (division truncates), any float makes the result a float, and a non-number or a
// division by zero gives null.
func arithmetic(op string, a, b any) any {
	ai, af, aFloat, okA := number(a)
	bi, bf, bFloat, okB := number(b)
	if !okA || !okB {
		return nil
	}
	if !aFloat && !bFloat {
		switch op {
		case "+":
			if r := ai + bi; (r > ai) == (bi > 0) {
				return r
			}
			return float64(ai) + float64(bi)
		case "-":
			if r := ai - bi; (r < ai) == (bi > 0) {
				return r
			}
			return float64(ai) - float64(bi)
		case "*":
			if ai == 0 || bi == 0 {
				return int64(0)
			}
			r := ai * bi
			if r/bi == ai && !(ai == -1 && bi == math.MinInt64) && !(bi == -1 && ai == math.MinInt64) {
				return r
			}
			return float64(ai) * float64(bi)
		case "/":
			if bi == 0 || (ai == math.MinInt64 && bi == -1) {
				return nil
			}
			return ai / bi
		case "%":
			if bi == 0 || bi == -1 {
				if bi == -1 {
					return int64(0)
				}
				return nil
			}
			return ai % bi
		}
		return nil
	}
	if !aFloat {
		af = float64(ai)
	}
	if !bFloat {
		bf = float64(bi)
	}
	switch op {
	case "+":
		return af + bf
	case "-":
		return af - bf
	case "*":
		return af * bf
	case "/":
		if bf == 0 {
			return nil
		}
		return af / bf
	case "%":
		if bf == 0 {
			return nil
		}
		return math.Mod(af, bf)
	}
	return nil
}
