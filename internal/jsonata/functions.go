package jsonata

import (
	"encoding/base64"
	"math"
	"math/rand/v2"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// builtins is the function library, bound in the outermost scope.
var builtins map[string]*builtin

func def(name, sig string, arity int, impl func(c *call, args []any) any) {
	builtins[name] = &builtin{name: name, signature: mustSignature(sig), arity: arity, impl: impl}
}

func init() {
	builtins = map[string]*builtin{}
	def("sum", "<a<n>:n>", 1, fnSum)
	def("count", "<a:n>", 1, func(c *call, a []any) any {
		if a[0] == nil {
			return 0.0
		}
		return float64(len(a[0].(*array).items))
	})
	def("max", "<a<n>:n>", 1, func(c *call, a []any) any { return extreme(a[0], 1) })
	def("min", "<a<n>:n>", 1, func(c *call, a []any) any { return extreme(a[0], -1) })
	def("average", "<a<n>:n>", 1, func(c *call, a []any) any {
		if a[0] == nil || len(a[0].(*array).items) == 0 {
			return nil
		}
		return fnSum(c, a).(float64) / float64(len(a[0].(*array).items))
	})
	def("string", "<x-b?:s>", 1, func(c *call, a []any) any {
		if a[0] == nil {
			return nil
		}
		pretty, _ := a[1].(bool)
		return toString(a[0], pretty)
	})
	def("substring", "<s-nn?:s>", 3, fnSubstring)
	def("substringBefore", "<s-s:s>", 2, func(c *call, a []any) any {
		if a[0] == nil {
			return nil
		}
		s, sep := a[0].(string), strOr(a[1])
		if i := strings.Index(s, sep); i >= 0 {
			return s[:i]
		}
		return s
	})
	def("substringAfter", "<s-s:s>", 2, func(c *call, a []any) any {
		if a[0] == nil {
			return nil
		}
		s, sep := a[0].(string), strOr(a[1])
		if i := strings.Index(s, sep); i >= 0 {
			return s[i+len(sep):]
		}
		return s
	})
	def("lowercase", "<s-:s>", 1, strFn(strings.ToLower))
	def("uppercase", "<s-:s>", 1, strFn(strings.ToUpper))
	def("length", "<s-:n>", 1, func(c *call, a []any) any {
		if a[0] == nil {
			return nil
		}
		return float64(utf8.RuneCountInString(a[0].(string)))
	})
	def("trim", "<s-:s>", 1, strFn(trimJS))
	def("pad", "<s-ns?:s>", 3, fnPad)
	def("match", "<s-f<s:o>n?:a<o>>", 3, fnMatch)
	def("contains", "<s-(sf):b>", 2, fnContains)
	def("replace", "<s-(sf)(sf)n?:s>", 4, fnReplace)
	def("split", "<s-(sf)n?:a<s>>", 3, fnSplit)
	def("join", "<a<s>s?:s>", 2, func(c *call, a []any) any {
		if a[0] == nil {
			return nil
		}
		parts := make([]string, 0)
		for _, x := range a[0].(*array).items {
			parts = append(parts, x.(string))
		}
		return strings.Join(parts, strOr(a[1]))
	})
	def("formatNumber", "<n-so?:s>", 3, fnFormatNumber)
	def("formatBase", "<n-n?:s>", 2, fnFormatBase)
	def("formatInteger", "<n-s:s>", 2, fnFormatInteger)
	def("parseInteger", "<s-s:n>", 2, fnParseInteger)
	def("number", "<(nsb)-:n>", 1, fnNumber)
	def("floor", "<n-:n>", 1, numFn(math.Floor))
	def("ceil", "<n-:n>", 1, numFn(math.Ceil))
	def("abs", "<n-:n>", 1, numFn(math.Abs))
	def("round", "<n-n?:n>", 2, fnRound)
	def("sqrt", "<n-:n>", 1, func(c *call, a []any) any {
		if a[0] == nil {
			return nil
		}
		f := a[0].(float64)
		if f < 0 {
			throw(&Error{Code: "D3060", Value: f, index: 1})
		}
		return math.Sqrt(f)
	})
	def("power", "<n-n:n>", 2, func(c *call, a []any) any {
		if a[0] == nil {
			return nil
		}
		r := math.Pow(a[0].(float64), a[1].(float64))
		if math.IsNaN(r) || math.IsInf(r, 0) {
			throw(&Error{Code: "D3061", Value: a[0], exp: a[1], index: 1})
		}
		return r
	})
	def("random", "<:n>", 0, func(c *call, a []any) any { return rand.Float64() })
	def("boolean", "<x-:b>", 1, func(c *call, a []any) any { return toBooleanOrNil(a[0]) })
	def("not", "<x-:b>", 1, func(c *call, a []any) any {
		if a[0] == nil {
			return nil
		}
		return !toBoolean(a[0])
	})
	def("map", "<af>", 2, fnMap)
	def("zip", "<a+>", 0, fnZip)
	def("filter", "<af>", 2, fnFilter)
	def("single", "<af?>", 2, fnSingle)
	def("reduce", "<afj?:j>", 3, fnReduce)
	def("sift", "<o-f?:o>", 2, fnSift)
	def("keys", "<x-:a<s>>", 1, fnKeys)
	def("lookup", "<x-s:x>", 2, func(c *call, a []any) any { return lookupKey(a[0], strOr(a[1])) })
	def("append", "<xx:a>", 2, func(c *call, a []any) any { return appendValues(a[0], a[1]) })
	def("exists", "<x:b>", 1, func(c *call, a []any) any { return a[0] != nil })
	def("spread", "<x-:a<o>>", 1, fnSpread)
	def("merge", "<a<o>:o>", 1, fnMerge)
	def("reverse", "<a:a>", 1, func(c *call, a []any) any {
		if a[0] == nil {
			return nil
		}
		in := a[0].(*array).items
		out := &array{items: make([]any, len(in))}
		for i, x := range in {
			out.items[len(in)-1-i] = x
		}
		return out
	})
	def("each", "<o-f:a>", 2, fnEach)
	def("error", "<s?:x>", 1, func(c *call, a []any) any {
		msg := "$error() function evaluated"
		if s, ok := a[0].(string); ok {
			msg = s
		}
		throw(&Error{Code: "D3137", message: msg})
		return nil
	})
	def("assert", "<bs?:x>", 2, func(c *call, a []any) any {
		if b, _ := a[0].(bool); !b {
			msg := "$assert() statement failed"
			if s, ok := a[1].(string); ok {
				msg = s
			}
			throw(&Error{Code: "D3141", message: msg})
		}
		return nil
	})
	def("type", "<x:s>", 1, func(c *call, a []any) any {
		switch a[0].(type) {
		case nil:
			return nil
		case null:
			return "null"
		case float64:
			return "number"
		case string:
			return "string"
		case bool:
			return "boolean"
		case *array:
			return "array"
		}
		if isFunction(a[0]) {
			return "function"
		}
		return "object"
	})
	def("sort", "<af?:a>", 2, fnSort)
	def("shuffle", "<a:a>", 1, func(c *call, a []any) any {
		if a[0] == nil {
			return nil
		}
		out := &array{items: append([]any(nil), a[0].(*array).items...)}
		rand.Shuffle(len(out.items), func(i, j int) { out.items[i], out.items[j] = out.items[j], out.items[i] })
		return out
	})
	def("distinct", "<x:x>", 1, fnDistinct)
	def("base64encode", "<s-:s>", 1, strFn(func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }))
	def("base64decode", "<s-:s>", 1, strFn(func(s string) string {
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			b, _ = base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
		}
		return string(b)
	}))
	def("encodeUrlComponent", "<s-:s>", 1, urlFn("encodeUrlComponent", encodeURIComponent))
	def("encodeUrl", "<s-:s>", 1, urlFn("encodeUrl", encodeURI))
	def("decodeUrlComponent", "<s-:s>", 1, urlFn("decodeUrlComponent", decodeURI))
	def("decodeUrl", "<s-:s>", 1, urlFn("decodeUrl", decodeURI))
	def("eval", "<sx?:x>", 2, fnEval)
	def("toMillis", "<s-s?:n>", 2, fnToMillis)
	def("fromMillis", "<n-s?s?:s>", 3, fnFromMillis)
	def("clone", "<(oa)-:o>", 1, func(c *call, a []any) any {
		if a[0] == nil {
			return nil
		}
		return deepCopy(a[0])
	})
	def("now", "<s?s?:s>", 2, func(c *call, a []any) any {
		return formatMillis(float64(c.env.ev.now.UnixMilli()), a[0], a[1])
	})
	def("millis", "<:n>", 0, func(c *call, a []any) any { return float64(c.env.ev.now.UnixMilli()) })
}

func strOr(v any) string {
	s, _ := v.(string)
	return s
}

func strFn(f func(string) string) func(c *call, a []any) any {
	return func(c *call, a []any) any {
		if a[0] == nil {
			return nil
		}
		return f(a[0].(string))
	}
}

func numFn(f func(float64) float64) func(c *call, a []any) any {
	return func(c *call, a []any) any {
		if a[0] == nil {
			return nil
		}
		return f(a[0].(float64))
	}
}

func trimJS(s string) string {
	fields := strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\f' || r == '\v' })
	return strings.Join(fields, " ")
}

func fnSum(c *call, a []any) any {
	if a[0] == nil {
		return nil
	}
	total := 0.0
	for _, x := range a[0].(*array).items {
		total += x.(float64)
	}
	return total
}

func extreme(v any, sign float64) any {
	if v == nil {
		return nil
	}
	items := v.(*array).items
	if len(items) == 0 {
		return nil
	}
	best := items[0].(float64)
	for _, x := range items[1:] {
		f := x.(float64)
		if (f-best)*sign > 0 {
			best = f
		}
	}
	return best
}

// toString is $string: strings as they are, other values as JSON with
// numbers to 15 significant digits.
func toString(v any, pretty bool) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		if math.IsInf(x, 0) || math.IsNaN(x) {
			throw(&Error{Code: "D3001", Value: x})
		}
	case *array:
		if x.outerWrapper && len(x.items) > 0 {
			v = x.items[0]
		}
	}
	if isFunction(v) {
		return ""
	}
	var sb strings.Builder
	indent := ""
	if pretty {
		indent = "  "
	}
	writeJSON(&sb, precise(v), indent, "")
	return sb.String()
}

// precise rounds the numbers in v to 15 significant digits, as $string does.
func precise(v any) any {
	switch x := v.(type) {
	case float64:
		if math.IsInf(x, 0) || math.IsNaN(x) {
			throw(&Error{Code: "D1001", Value: x})
		}
		if x == math.Trunc(x) {
			return x
		}
		f, _ := strconv.ParseFloat(strconv.FormatFloat(x, 'g', 15, 64), 64)
		return f
	case *array:
		out := &array{items: make([]any, len(x.items))}
		for i, it := range x.items {
			out.items[i] = precise(it)
		}
		return out
	case *object:
		o := &object{keys: x.keys, vals: make(map[string]any, len(x.vals))}
		for k, it := range x.vals {
			o.vals[k] = precise(it)
		}
		return o
	}
	return v
}

func utf16Units(s string) []uint16 { return utf16.Encode([]rune(s)) }

func fnSubstring(c *call, a []any) any {
	if a[0] == nil {
		return nil
	}
	runes := []rune(a[0].(string))
	n := len(runes)
	start := a[1].(float64)
	if start < 0 {
		start = math.Max(0, float64(n)+start)
	}
	if start > float64(n) {
		return ""
	}
	end := float64(n)
	if a[2] != nil {
		l := a[2].(float64)
		if l <= 0 {
			return ""
		}
		end = math.Min(float64(n), start+l)
	}
	s := int(start)
	e := int(math.Ceil(end))
	if float64(int(start)) != start {
		// JavaScript's Array.slice truncates fractional indexes.
		s = int(math.Trunc(start))
	}
	e = int(math.Trunc(end))
	if e > n {
		e = n
	}
	if s > e {
		return ""
	}
	return string(runes[s:e])
}

func fnPad(c *call, a []any) any {
	if a[0] == nil {
		return nil
	}
	s := a[0].(string)
	ch := " "
	if x, ok := a[2].(string); ok && x != "" {
		ch = x
	}
	w := math.Trunc(a[1].(float64))
	if math.Abs(w) > maxPadding {
		throw(&Error{Code: "D1001", Value: w})
	}
	width := int(w)
	padLen := absInt(width) - utf8.RuneCountInString(s)
	if padLen <= 0 {
		return s
	}
	padding := []rune(strings.Repeat(ch, padLen))[:padLen]
	if width > 0 {
		return s + string(padding)
	}
	return string(padding) + s
}

// maxPadding bounds the width $pad, $formatInteger and date pictures pad
// to (a JavaScript engine fails long before its 2^29-character strings).
const maxPadding = 1 << 24

func absInt(i int) int {
	if i < 0 {
		return -i
	}
	return i
}

func fnNumber(c *call, a []any) any {
	switch x := a[0].(type) {
	case nil:
		return nil
	case float64:
		return x
	case bool:
		if x {
			return 1.0
		}
		return 0.0
	case string:
		if numberString.MatchString(x) {
			f, err := strconv.ParseFloat(x, 64)
			if err == nil && !math.IsInf(f, 0) {
				return f
			}
		}
		if m := radixString.FindStringSubmatch(x); m != nil && m[0] == x {
			base := map[byte]int{'x': 16, 'X': 16, 'o': 8, 'O': 8, 'b': 2, 'B': 2}[x[1]]
			n, err := strconv.ParseUint(x[2:], base, 64)
			if err == nil {
				return float64(n)
			}
		}
	}
	throw(&Error{Code: "D3030", Value: a[0], index: 1})
	return nil
}

func fnRound(c *call, a []any) any {
	if a[0] == nil {
		return nil
	}
	x := a[0].(float64)
	prec := 0
	if p, ok := a[1].(float64); ok {
		prec = int(p)
	}
	shifted := x
	if prec != 0 {
		shifted = shiftDecimal(x, prec)
	}
	r := math.Floor(shifted + 0.5)
	if diff := r - shifted; math.Abs(diff) == 0.5 && math.Mod(math.Abs(r), 2) == 1 {
		r--
	}
	if prec != 0 {
		r = shiftDecimal(r, -prec)
	}
	if r == 0 {
		r = 0
	}
	return r
}

// shiftDecimal multiplies x by 10^n through its decimal text, so no binary
// rounding error creeps in.
func shiftDecimal(x float64, n int) float64 {
	s := strconv.FormatFloat(x, 'e', -1, 64)
	mant, exp, _ := strings.Cut(s, "e")
	e, _ := strconv.Atoi(exp)
	f, _ := strconv.ParseFloat(mant+"e"+strconv.Itoa(e+n), 64)
	return f
}

func toBooleanOrNil(v any) any {
	if v == nil {
		return nil
	}
	return toBoolean(v)
}

// toBoolean is $boolean's cast (undefined is false).
func toBoolean(v any) bool {
	switch x := v.(type) {
	case nil, null:
		return false
	case bool:
		return x
	case string:
		return x != ""
	case float64:
		return x != 0 && !math.IsNaN(x)
	case *array:
		if len(x.items) == 1 {
			return toBoolean(x.items[0])
		}
		for _, it := range x.items {
			if toBoolean(it) {
				return true
			}
		}
		return false
	case *object:
		return len(x.keys) > 0
	}
	return false // functions, tuples
}

// hofArgs gives a function passed to a higher-order function as many of
// (value, index, array) as it takes.
func hofArgs(f any, v, i, all any) []any {
	args := []any{v}
	n := arity(f)
	if n >= 2 {
		args = append(args, i)
	}
	if n >= 3 {
		args = append(args, all)
	}
	return args
}

func fnMap(c *call, a []any) any {
	if a[0] == nil {
		return nil
	}
	ev := c.env.ev
	items := a[0].(*array).items
	out := newSeq()
	for i, x := range items {
		r := ev.apply(a[1], hofArgs(a[1], x, float64(i), a[0]), nil, c.env)
		if r != nil {
			out.push(r)
		}
	}
	return out
}

func fnFilter(c *call, a []any) any {
	if a[0] == nil {
		return nil
	}
	ev := c.env.ev
	out := newSeq()
	for i, x := range a[0].(*array).items {
		if toBoolean(ev.apply(a[1], hofArgs(a[1], x, float64(i), a[0]), nil, c.env)) {
			out.push(x)
		}
	}
	return out
}

func fnSingle(c *call, a []any) any {
	if a[0] == nil {
		return nil
	}
	ev := c.env.ev
	var result any
	found := false
	for i, x := range a[0].(*array).items {
		ok := true
		if a[1] != nil {
			ok = toBoolean(ev.apply(a[1], hofArgs(a[1], x, float64(i), a[0]), nil, c.env))
		}
		if ok {
			if found {
				throw(&Error{Code: "D3138", index: i})
			}
			result, found = x, true
		}
	}
	if !found {
		throw(&Error{Code: "D3139"})
	}
	return result
}

func fnZip(c *call, a []any) any {
	out := &array{items: []any{}}
	if len(a) == 0 {
		return out
	}
	n := math.MaxInt
	for _, x := range a {
		if x == nil {
			return out
		}
		n = min(n, len(x.(*array).items))
	}
	for i := 0; i < n; i++ {
		t := &array{}
		for _, x := range a {
			t.push(x.(*array).items[i])
		}
		out.push(t)
	}
	return out
}

func fnReduce(c *call, a []any) any {
	if a[0] == nil {
		return nil
	}
	ev := c.env.ev
	if arity(a[1]) < 2 {
		throw(&Error{Code: "D3050", index: 1})
	}
	items := a[0].(*array).items
	var acc any
	start := 0
	if len(a) > 2 && a[2] != nil {
		acc = a[2]
	} else if len(items) > 0 {
		acc = items[0]
		start = 1
	}
	n := arity(a[1])
	for i := start; i < len(items); i++ {
		args := []any{acc, items[i]}
		if n >= 3 {
			args = append(args, float64(i))
		}
		if n >= 4 {
			args = append(args, a[0])
		}
		acc = ev.apply(a[1], args, nil, c.env)
	}
	return acc
}

func fnSift(c *call, a []any) any {
	if a[0] == nil {
		return nil
	}
	ev := c.env.ev
	o := a[0].(*object)
	out := newObject(0)
	for _, k := range o.keys {
		v := o.vals[k]
		if toBoolean(ev.apply(a[1], hofArgs(a[1], v, k, o), nil, c.env)) {
			out.set(k, v)
		}
	}
	if len(out.keys) == 0 {
		return nil
	}
	return out
}

func fnEach(c *call, a []any) any {
	if a[0] == nil {
		return nil
	}
	ev := c.env.ev
	o := a[0].(*object)
	out := newSeq()
	for _, k := range o.keys {
		r := ev.apply(a[1], hofArgs(a[1], o.vals[k], k, o), nil, c.env)
		if r != nil {
			out.push(r)
		}
	}
	return out
}

func fnKeys(c *call, a []any) any {
	switch x := a[0].(type) {
	case *array:
		seen := map[string]bool{}
		out := newSeq()
		for _, it := range x.items {
			if o, ok := it.(*object); ok {
				for _, k := range o.keys {
					if !seen[k] {
						seen[k] = true
						out.push(k)
					}
				}
			}
		}
		if len(out.items) == 0 {
			return nil
		}
		return out
	case *object:
		out := newSeq()
		for _, k := range x.keys {
			out.push(k)
		}
		if len(out.items) == 0 {
			return nil
		}
		return out
	}
	return nil
}

func fnSpread(c *call, a []any) any {
	switch x := a[0].(type) {
	case *array:
		out := newSeq()
		for _, it := range x.items {
			r := fnSpread(c, []any{it})
			if ra, ok := r.(*array); ok {
				out.items = append(out.items, ra.items...)
			} else if r != nil {
				out.push(r)
			}
		}
		return out
	case *object:
		out := newSeq()
		for _, k := range x.keys {
			o := newObject(1)
			o.set(k, x.vals[k])
			out.push(o)
		}
		return out
	}
	return a[0]
}

func fnMerge(c *call, a []any) any {
	if a[0] == nil {
		return nil
	}
	out := newObject(0)
	for _, it := range a[0].(*array).items {
		o := it.(*object)
		for _, k := range o.keys {
			out.set(k, o.vals[k])
		}
	}
	return out
}

func fnSort(c *call, a []any) any {
	if a[0] == nil {
		return nil
	}
	items := append([]any(nil), a[0].(*array).items...)
	if len(items) <= 1 {
		return &array{items: items}
	}
	var less func(x, y any) bool
	if a[1] == nil {
		if !isArrayOfNumbers(a[0]) && !isArrayOfStrings(a[0]) {
			throw(&Error{Code: "D3070", index: 1})
		}
		less = func(x, y any) bool {
			if xs, ok := x.(string); ok {
				return compareStrings(xs, y.(string)) < 0
			}
			return x.(float64) < y.(float64)
		}
	} else {
		ev := c.env.ev
		f := a[1]
		// The comparator says whether x must come after y.
		less = func(x, y any) bool {
			return toBoolean(ev.apply(f, []any{y, x}, nil, c.env))
		}
	}
	sort.SliceStable(items, func(i, j int) bool { return less(items[i], items[j]) })
	return &array{items: items}
}

func fnDistinct(c *call, a []any) any {
	arr, ok := a[0].(*array)
	if !ok {
		return a[0]
	}
	if len(arr.items) <= 1 {
		return arr
	}
	out := &array{sequence: arr.sequence}
	for _, x := range arr.items {
		dup := false
		for _, y := range out.items {
			if deepEqual(x, y) {
				dup = true
				break
			}
		}
		if !dup {
			out.push(x)
		}
	}
	return out
}

func urlFn(name string, f func(string) (string, bool)) func(c *call, a []any) any {
	return func(c *call, a []any) any {
		if a[0] == nil {
			return nil
		}
		s, ok := f(a[0].(string))
		if !ok {
			throw(&Error{Code: "D3140", Token: name, Value: a[0]})
		}
		return s
	}
}

func encodeWith(s string, keep string) (string, bool) {
	var sb strings.Builder
	for _, r := range s {
		if r == utf8.RuneError {
			return "", false
		}
		if r < 128 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(keep, r)) {
			sb.WriteRune(r)
			continue
		}
		var buf [4]byte
		n := utf8.EncodeRune(buf[:], r)
		for _, b := range buf[:n] {
			sb.WriteString("%" + strings.ToUpper(strconv.FormatUint(uint64(b)|0x100, 16)[1:]))
		}
	}
	return sb.String(), true
}

func encodeURIComponent(s string) (string, bool) { return encodeWith(s, "-_.!~*'()") }
func encodeURI(s string) (string, bool)          { return encodeWith(s, "-_.!~*'();/?:@&=+$,#") }
func decodeURI(s string) (string, bool) {
	r, err := url.PathUnescape(s)
	if err != nil || !utf8.ValidString(r) {
		return "", false
	}
	return r, true
}

func fnEval(c *call, a []any) any {
	src, ok := a[0].(string)
	if !ok {
		return nil
	}
	input := c.input
	if len(a) > 1 && a[1] != nil {
		input = a[1]
		if arr, ok := input.(*array); ok && !arr.sequence {
			input = &array{items: []any{arr}, sequence: true, outerWrapper: true}
		}
	}
	var ast *node
	func() {
		defer func() {
			if r := recover(); r != nil {
				if e, ok := r.(*Error); ok {
					e.finish()
					throw(&Error{Code: "D3120", Value: e.Message})
				}
				panic(r)
			}
		}()
		ast = parse(src)
	}()
	var result any
	func() {
		depth := c.env.ev.depth
		defer func() {
			if r := recover(); r != nil {
				if e, ok := r.(*Error); ok {
					c.env.ev.depth = depth
					e.finish()
					throw(&Error{Code: "D3121", Value: e.Message})
				}
				panic(r)
			}
		}()
		result = c.env.ev.eval(ast, input, c.env)
	}()
	return result
}
