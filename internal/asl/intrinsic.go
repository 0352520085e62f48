package asl

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"math"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/kiri-run/kiri/internal/jsonobj"
	"github.com/kiri-run/kiri/internal/uuid"
)

// icall is a parsed intrinsic function call: States.Name(args).
type icall struct {
	name string
	args []iarg
}

// iarg is one argument: a literal, a path or a nested call.
type iarg struct {
	lit   any
	path  string
	call  *icall
	isLit bool
}

type intrinsicParser struct {
	src string
	pos int
}

const maxIntrinsicDepth = 64

// parseIntrinsic parses an intrinsic function call.
func parseIntrinsic(s string) (*icall, error) {
	p := &intrinsicParser{src: s}
	c, err := p.call(0)
	if err != nil {
		return nil, err
	}
	p.space()
	if p.pos != len(p.src) {
		return nil, fmt.Errorf("unexpected text after the function call at %d", p.pos)
	}
	return c, nil
}

func (p *intrinsicParser) space() {
	for p.pos < len(p.src) && (p.src[p.pos] == ' ' || p.src[p.pos] == '\t' || p.src[p.pos] == '\n') {
		p.pos++
	}
}

func (p *intrinsicParser) call(depth int) (*icall, error) {
	if depth > maxIntrinsicDepth {
		return nil, fmt.Errorf("intrinsic functions nest too deeply")
	}
	p.space()
	start := p.pos
	for p.pos < len(p.src) && (isIdent(p.src[p.pos]) || p.src[p.pos] == '.') {
		p.pos++
	}
	name := p.src[start:p.pos]
	if !strings.HasPrefix(name, "States.") || len(name) == len("States.") {
		return nil, fmt.Errorf("expected a States. function at %d", start)
	}
	p.space()
	if p.pos >= len(p.src) || p.src[p.pos] != '(' {
		return nil, fmt.Errorf("expected ( at %d", p.pos)
	}
	p.pos++
	c := &icall{name: name}
	p.space()
	if p.pos < len(p.src) && p.src[p.pos] == ')' {
		p.pos++
		return c, nil
	}
	for {
		a, err := p.arg(depth)
		if err != nil {
			return nil, err
		}
		c.args = append(c.args, a)
		p.space()
		if p.pos >= len(p.src) {
			return nil, fmt.Errorf("unterminated function call")
		}
		switch p.src[p.pos] {
		case ',':
			p.pos++
		case ')':
			p.pos++
			return c, nil
		default:
			return nil, fmt.Errorf("unexpected %q at %d", p.src[p.pos], p.pos)
		}
	}
}

func isIdent(b byte) bool {
	return b == '_' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9'
}

func (p *intrinsicParser) arg(depth int) (iarg, error) {
	p.space()
	if p.pos >= len(p.src) {
		return iarg{}, fmt.Errorf("missing argument")
	}
	rest := p.src[p.pos:]
	switch {
	case rest[0] == '\'':
		s, err := p.stringLit()
		return iarg{lit: s, isLit: true}, err
	case rest[0] == '$':
		return iarg{path: p.pathArg()}, nil
	case strings.HasPrefix(rest, "States."):
		c, err := p.call(depth + 1)
		return iarg{call: c}, err
	}
	start := p.pos
	for p.pos < len(p.src) && p.src[p.pos] != ',' && p.src[p.pos] != ')' && p.src[p.pos] != ' ' {
		p.pos++
	}
	word := p.src[start:p.pos]
	switch word {
	case "true":
		return iarg{lit: true, isLit: true}, nil
	case "false":
		return iarg{lit: false, isLit: true}, nil
	case "null":
		return iarg{lit: nil, isLit: true}, nil
	}
	if _, err := strconv.ParseFloat(word, 64); err == nil && word != "" {
		return iarg{lit: json.Number(word), isLit: true}, nil
	}
	return iarg{}, fmt.Errorf("invalid argument %q", word)
}

// stringLit reads a quoted literal; \' \{ \} and \\ are escapes.
func (p *intrinsicParser) stringLit() (string, error) {
	p.pos++
	var b strings.Builder
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		switch c {
		case '\\':
			if p.pos+1 < len(p.src) {
				b.WriteByte('\\')
				b.WriteByte(p.src[p.pos+1])
				p.pos += 2
				continue
			}
			return "", fmt.Errorf("unterminated escape")
		case '\'':
			p.pos++
			return b.String(), nil
		}
		b.WriteByte(c)
		p.pos++
	}
	return "", fmt.Errorf("unterminated string literal")
}

// unescape resolves the escapes of a string literal, keeping \{ and \} escaped for Format.
func unescape(s string, keepBraces bool) string {
	if !strings.Contains(s, "\\") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			n := s[i+1]
			if keepBraces && (n == '{' || n == '}') {
				b.WriteByte('\\')
			}
			b.WriteByte(n)
			i++
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func (p *intrinsicParser) pathArg() string {
	start := p.pos
	depth := 0
	var quote byte
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '[' || c == '(':
			depth++
		case c == ']' || c == ')':
			if depth == 0 {
				return strings.TrimSpace(p.src[start:p.pos])
			}
			depth--
		case c == ',' && depth == 0:
			return strings.TrimSpace(p.src[start:p.pos])
		}
		p.pos++
	}
	return strings.TrimSpace(p.src[start:p.pos])
}

// intrinsic evaluates an intrinsic function call against the input.
func (x *exec) intrinsic(expr string, input any) (any, error) {
	c, err := parseIntrinsic(expr)
	if err != nil {
		return nil, x.runtime(fmt.Sprintf("The intrinsic function '%s' could not be parsed: %s", expr, err.Error()))
	}
	return x.evalCall(c, input)
}

func (x *exec) evalCall(c *icall, input any) (any, error) {
	args := make([]any, len(c.args))
	for i, a := range c.args {
		switch {
		case a.call != nil:
			v, err := x.evalCall(a.call, input)
			if err != nil {
				return nil, err
			}
			args[i] = v
		case a.isLit:
			if s, ok := a.lit.(string); ok {
				args[i] = unescape(s, c.name == "States.Format" && i == 0)
			} else {
				args[i] = a.lit
			}
		default:
			v, err := x.evalPath(a.path, input)
			if err != nil {
				return nil, x.runtime(fmt.Sprintf("The JSONPath '%s' specified for the function '%s' could not be found in the input '%s'", a.path, c.name, encodeString(input)))
			}
			args[i] = v
		}
	}
	v, err := callIntrinsic(c.name, args)
	if err != nil {
		return nil, &stateError{name: errIntrinsic, cause: x.statePrefix() + err.Error()}
	}
	return v, nil
}

func argCount(name string, args []any, min, max int) error {
	if len(args) < min || max >= 0 && len(args) > max {
		if min == max {
			return fmt.Errorf("The function '%s' must have exactly %d argument(s), but found %d", name, min, len(args))
		}
		return fmt.Errorf("The function '%s' has an invalid number of arguments: %d", name, len(args))
	}
	return nil
}

func arrayArg(name string, args []any, i int) ([]any, error) {
	a, ok := args[i].([]any)
	if !ok {
		return nil, argType(name, i, "array")
	}
	return a, nil
}

func stringArg(name string, args []any, i int) (string, error) {
	s, ok := args[i].(string)
	if !ok {
		return "", argType(name, i, "string")
	}
	return s, nil
}

func argType(name string, i int, want string) error {
	return fmt.Errorf("The function '%s' expects argument %d to be of type %s", name, i+1, want)
}

func jsonInt(v any) (int64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	if i, err := strconv.ParseInt(string(n), 10, 64); err == nil {
		return i, true
	}
	f, err := n.Float64()
	if err == nil && f == math.Trunc(f) && math.Abs(f) < 1<<53 {
		return int64(f), true
	}
	return 0, false
}

// roundedInt reads a number as the math functions do: rounded half up, as Java's Math.round.
func roundedInt(v any) (int64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	f, err := n.Float64()
	if err != nil || math.IsInf(f, 0) || math.Abs(f) > 1<<62 {
		return 0, false
	}
	return int64(math.Floor(f + 0.5)), true
}

func num(i int64) json.Number { return json.Number(strconv.FormatInt(i, 10)) }

// callIntrinsic runs one intrinsic function on evaluated arguments.
func callIntrinsic(name string, args []any) (any, error) {
	switch name {
	case "States.Format":
		if len(args) < 1 {
			return nil, argCount(name, args, 1, -1)
		}
		tmpl, err := stringArg(name, args, 0)
		if err != nil {
			return nil, err
		}
		return formatIntrinsic(tmpl, args[1:])
	case "States.StringToJson":
		if err := argCount(name, args, 1, 1); err != nil {
			return nil, err
		}
		s, err := stringArg(name, args, 0)
		if err != nil {
			return nil, err
		}
		if strings.TrimSpace(s) == "" {
			return nil, nil
		}
		v, err := decodeJSON([]byte(s))
		if err != nil {
			return nil, fmt.Errorf("The function '%s' could not parse its argument as JSON: %s", name, s)
		}
		return v, nil
	case "States.JsonToString":
		if err := argCount(name, args, 1, 1); err != nil {
			return nil, err
		}
		return encodeString(args[0]), nil
	case "States.Array":
		out := make([]any, len(args))
		copy(out, args)
		return out, nil
	case "States.ArrayPartition":
		if err := argCount(name, args, 2, 2); err != nil {
			return nil, err
		}
		arr, err := arrayArg(name, args, 0)
		if err != nil {
			return nil, err
		}
		size, ok := jsonInt(args[1])
		if !ok || size <= 0 {
			return nil, fmt.Errorf("The function '%s' expects a positive integer chunk size, but found %s", name, encodeString(args[1]))
		}
		return partition(arr, int(size)), nil
	case "States.ArrayContains":
		if err := argCount(name, args, 2, 2); err != nil {
			return nil, err
		}
		arr, err := arrayArg(name, args, 0)
		if err != nil {
			return nil, err
		}
		for _, e := range arr {
			if jsonEqual(e, args[1]) {
				return true, nil
			}
		}
		return false, nil
	case "States.ArrayRange":
		if err := argCount(name, args, 3, 3); err != nil {
			return nil, err
		}
		var n [3]int64
		for i := range n {
			v, ok := jsonInt(args[i])
			if !ok {
				return nil, argType(name, i, "integer")
			}
			n[i] = v
		}
		values, err := arrayRange(n[0], n[1], n[2])
		if err != nil {
			return nil, fmt.Errorf("The function '%s' %s", name, err.Error())
		}
		out := make([]any, len(values))
		for i, v := range values {
			out[i] = num(v)
		}
		return out, nil
	case "States.ArrayGetItem":
		if err := argCount(name, args, 2, 2); err != nil {
			return nil, err
		}
		arr, err := arrayArg(name, args, 0)
		if err != nil {
			return nil, err
		}
		i, ok := jsonInt(args[1])
		if !ok {
			return nil, argType(name, 1, "integer")
		}
		if i < 0 || int(i) >= len(arr) {
			return nil, fmt.Errorf("The function '%s' index %d is out of bounds for an array of length %d", name, i, len(arr))
		}
		return arr[i], nil
	case "States.ArrayLength":
		if err := argCount(name, args, 1, 1); err != nil {
			return nil, err
		}
		arr, err := arrayArg(name, args, 0)
		if err != nil {
			return nil, err
		}
		return num(int64(len(arr))), nil
	case "States.ArrayUnique":
		if err := argCount(name, args, 1, 1); err != nil {
			return nil, err
		}
		arr, err := arrayArg(name, args, 0)
		if err != nil {
			return nil, err
		}
		out := []any{}
		for _, e := range arr {
			dup := false
			for _, o := range out {
				if jsonEqual(e, o) {
					dup = true
					break
				}
			}
			if !dup {
				out = append(out, e)
			}
		}
		return out, nil
	case "States.Base64Encode":
		if err := argCount(name, args, 1, 1); err != nil {
			return nil, err
		}
		s, err := stringArg(name, args, 0)
		if err != nil {
			return nil, err
		}
		if len(s) > 10000 {
			return nil, fmt.Errorf("The function '%s' accepts at most 10000 characters", name)
		}
		return base64.StdEncoding.EncodeToString([]byte(s)), nil
	case "States.Base64Decode":
		if err := argCount(name, args, 1, 1); err != nil {
			return nil, err
		}
		s, err := stringArg(name, args, 0)
		if err != nil {
			return nil, err
		}
		if len(s) > 10000 {
			return nil, fmt.Errorf("The function '%s' accepts at most 10000 characters", name)
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, fmt.Errorf("The function '%s' could not decode its argument: %s", name, s)
		}
		return string(b), nil
	case "States.Hash":
		if err := argCount(name, args, 2, 2); err != nil {
			return nil, err
		}
		alg, err := stringArg(name, args, 1)
		if err != nil {
			return nil, err
		}
		if args[0] == nil {
			return nil, fmt.Errorf("The function '%s' expects argument 1 to be non-null", name)
		}
		data := plainText(args[0])
		if len(data) > 10000 {
			return nil, fmt.Errorf("The function '%s' accepts at most 10000 characters", name)
		}
		sum, err := hashHex(alg, data)
		if err != nil {
			return nil, fmt.Errorf("The function '%s' %s", name, err.Error())
		}
		return sum, nil
	case "States.JsonMerge":
		if err := argCount(name, args, 3, 3); err != nil {
			return nil, err
		}
		a, ok := args[0].(*jsonobj.Object)
		b, ok2 := args[1].(*jsonobj.Object)
		if !ok || !ok2 {
			return nil, fmt.Errorf("The function '%s' expects its first two arguments to be JSON objects", name)
		}
		deep, ok := args[2].(bool)
		if !ok {
			return nil, argType(name, 2, "boolean")
		}
		if deep {
			return nil, fmt.Errorf("The function '%s' supports only shallow merges: its third argument must be false", name)
		}
		out := jsonobj.New(a.Len() + b.Len())
		for k, v := range a.All() {
			out.Set(k, v)
		}
		for k, v := range b.All() {
			out.Set(k, v)
		}
		return out, nil
	case "States.MathRandom":
		if err := argCount(name, args, 2, 3); err != nil {
			return nil, err
		}
		lo, ok := roundedInt(args[0])
		hi, ok2 := roundedInt(args[1])
		if !ok || !ok2 {
			return nil, fmt.Errorf("The function '%s' expects integer bounds", name)
		}
		if hi <= lo {
			return nil, fmt.Errorf("The function '%s' expects its end to be greater than its start", name)
		}
		r := rand.Int64N(hi-lo) + lo
		if len(args) == 3 {
			seed, ok := jsonInt(args[2])
			if !ok {
				return nil, argType(name, 2, "integer")
			}
			r = rand.New(rand.NewPCG(uint64(seed), 0)).Int64N(hi-lo) + lo
		}
		return num(r), nil
	case "States.MathAdd":
		if err := argCount(name, args, 2, 2); err != nil {
			return nil, err
		}
		a, ok := roundedInt(args[0])
		b, ok2 := roundedInt(args[1])
		if !ok || !ok2 {
			return nil, fmt.Errorf("The function '%s' expects numeric arguments", name)
		}
		return num(a + b), nil
	case "States.StringSplit":
		if err := argCount(name, args, 2, 2); err != nil {
			return nil, err
		}
		s, ok := args[0].(string)
		d, ok2 := args[1].(string)
		if !ok || !ok2 {
			return nil, fmt.Errorf("The function '%s' expects string arguments", name)
		}
		parts := strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune(d, r) })
		out := make([]any, len(parts))
		for i, p := range parts {
			out[i] = p
		}
		return out, nil
	case "States.UUID":
		if err := argCount(name, args, 0, 0); err != nil {
			return nil, err
		}
		return uuid.New(), nil
	}
	return nil, fmt.Errorf("The function '%s' is not supported", name)
}

// partition splits arr into chunks of size items (the last may be shorter).
func partition(arr []any, size int) []any {
	out := []any{}
	for i := 0; i < len(arr); i += size {
		out = append(out, append([]any{}, arr[i:min(len(arr), i+size)]...))
	}
	return out
}

// arrayRange lists start, start+step, ... up to end inclusive: at most 1000 numbers.
func arrayRange(start, end, step int64) ([]int64, error) {
	if step == 0 {
		return nil, fmt.Errorf("expects a non-zero step")
	}
	var out []int64
	for v := start; (step > 0 && v <= end) || (step < 0 && v >= end); v += step {
		out = append(out, v)
		if len(out) > 1000 {
			return nil, fmt.Errorf("can return at most 1000 items")
		}
	}
	return out, nil
}

// hashHex hashes data with one of the algorithms States.Hash and $hash offer.
func hashHex(alg, data string) (string, error) {
	var h hash.Hash
	switch alg {
	case "MD5":
		h = md5.New()
	case "SHA-1":
		h = sha1.New()
	case "SHA-256":
		h = sha256.New()
	case "SHA-384":
		h = sha512.New384()
	case "SHA-512":
		h = sha512.New()
	default:
		return "", fmt.Errorf("does not support the algorithm '%s'; use one of MD5, SHA-1, SHA-256, SHA-384, SHA-512", alg)
	}
	h.Write([]byte(data))
	return hex.EncodeToString(h.Sum(nil)), nil
}

// formatIntrinsic fills the {} placeholders of States.Format's template.
func formatIntrinsic(tmpl string, args []any) (any, error) {
	var b strings.Builder
	n := 0
	for i := 0; i < len(tmpl); {
		r, size := utf8.DecodeRuneInString(tmpl[i:])
		switch {
		case r == '\\' && i+1 < len(tmpl):
			b.WriteByte(tmpl[i+1])
			i += 2
			continue
		case r == '{' && strings.HasPrefix(tmpl[i:], "{}"):
			if n >= len(args) {
				return nil, fmt.Errorf("The function 'States.Format' has more placeholders than arguments")
			}
			b.WriteString(javaText(args[n]))
			n++
			i += 2
			continue
		}
		b.WriteRune(r)
		i += size
	}
	if n != len(args) {
		return nil, fmt.Errorf("The function 'States.Format' has %d placeholder(s) but %d argument(s)", n, len(args))
	}
	return b.String(), nil
}

// javaText writes a value as States.Format does: strings bare, objects and arrays as Java's
// Map and List print themselves ({a=1, b=[x, y]}).
func javaText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return "null"
	case *jsonobj.Object:
		parts := make([]string, 0, x.Len())
		for k, e := range x.All() {
			parts = append(parts, k+"="+javaText(e))
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case map[string]any:
		return javaText(jsonobj.FromMap(x))
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = javaText(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return encodeString(v)
}

// jsonEqual compares decoded JSON values, numbers by value.
func jsonEqual(a, b any) bool {
	// the context object's members are maps
	if m, ok := a.(map[string]any); ok {
		a = jsonobj.FromMap(m)
	}
	if m, ok := b.(map[string]any); ok {
		b = jsonobj.FromMap(m)
	}
	na, ok := numberValue(a)
	nb, ok2 := numberValue(b)
	if ok && ok2 {
		return na.Cmp(nb) == 0
	}
	switch x := a.(type) {
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !jsonEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	case *jsonobj.Object:
		y, ok := b.(*jsonobj.Object)
		if !ok || x.Len() != y.Len() {
			return false
		}
		for k, v := range x.All() {
			w, ok := y.Get(k)
			if !ok || !jsonEqual(v, w) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a, b)
}
