// Package jsonpath evaluates JSONPath expressions as AWS does (API Gateway's
// $input.path and $input.json, Step Functions' paths): $, .name, ['name'], [n], [*],
// .., [start:end:step], ['a','b'], [n,m] and filters [?(@.x < 3)].
//
// A definite path (names and indexes only) yields one value; a path with a wildcard,
// slice, union, filter or descent yields the list of all matches, as Jayway JsonPath,
// which AWS uses, does.
package jsonpath

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
)

// Object is an ordered JSON object the path can walk besides map[string]any.
type Object interface {
	Get(key string) (any, bool)
	Keys() []string
}

// Array is a JSON array the path can walk besides []any.
type Array interface {
	Len() int
	Index(i int) any
}

// ErrNotFound reports a definite path naming a member or element the document lacks.
var ErrNotFound = errors.New("jsonpath: no such element")

// SyntaxError is a malformed path.
type SyntaxError struct {
	Path   string
	Offset int
	Msg    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("jsonpath: invalid path %q at offset %d: %s", e.Path, e.Offset, e.Msg)
}

// Path is a parsed JSONPath, safe for concurrent use.
type Path struct {
	text     string
	steps    []step
	definite bool
	length   bool // the path ends in length() or size()
}

type stepKind int

const (
	stepNames stepKind = iota
	stepIndexes
	stepWildcard
	stepSlice
	stepFilter
	stepLength // length() or size(), which ends a path
)

type step struct {
	kind       stepKind
	descendant bool // reached through ..
	names      []string
	indexes    []int
	slice      [3]*int
	filter     *filterExpr
}

const maxPathLen = 4096

// Parse parses a JSONPath. A path not starting with $ is taken relative to the root.
func Parse(path string) (*Path, error) {
	if len(path) > maxPathLen {
		return nil, &SyntaxError{Path: path, Msg: "path too long"}
	}
	p := &pathParser{src: strings.TrimSpace(path)}
	steps, err := p.parse()
	if err != nil {
		return nil, err
	}
	definite := true
	var length bool
	if n := len(steps); n > 0 && steps[n-1].kind == stepLength {
		if steps[n-1].descendant {
			return nil, &SyntaxError{Path: path, Msg: "a function cannot follow .."}
		}
		steps, length = steps[:n-1], true
	}
	for _, s := range steps {
		if s.descendant || s.kind == stepWildcard || s.kind == stepSlice || s.kind == stepFilter ||
			len(s.names) > 1 || len(s.indexes) > 1 {
			definite = false
		}
	}
	return &Path{text: path, steps: steps, definite: definite, length: length}, nil
}

// String returns the path as written.
func (p *Path) String() string { return p.text }

// Definite reports whether the path selects at most one value.
func (p *Path) Definite() bool { return p.definite }

// Get evaluates the path against a decoded JSON document (map[string]any, []any,
// json.Number or float64, string, bool, nil, or Object and Array values). A definite
// path returns the value or ErrNotFound; any other returns a []any of the matches.
func (p *Path) Get(doc any) (any, error) {
	nodes := []any{doc}
	for _, s := range p.steps {
		var next []any
		for _, n := range nodes {
			if s.descendant {
				next = descend(n, s, next, 0)
			} else {
				next = apply(n, s, next)
			}
		}
		nodes = next
		if p.definite && len(nodes) == 0 {
			return nil, ErrNotFound
		}
	}
	if p.length {
		return lengthOf(p.definite, nodes)
	}
	if p.definite {
		return nodes[0], nil
	}
	if nodes == nil {
		nodes = []any{}
	}
	return nodes, nil
}

// lengthOf applies length() to what the path selected: the size of one array, object
// or string, or the number of matches of an indefinite path.
func lengthOf(definite bool, nodes []any) (any, error) {
	if !definite {
		return len(nodes), nil
	}
	switch v := nodes[0].(type) {
	case string:
		return len(utf16.Encode([]rune(v))), nil
	}
	if items, ok := elements(nodes[0]); ok {
		return len(items), nil
	}
	if keys, ok := keysOf(nodes[0]); ok {
		return len(keys), nil
	}
	return nil, fmt.Errorf("jsonpath: length() of a %T", nodes[0])
}

// keysOf and member give one view of map[string]any and Object.
func keysOf(v any) ([]string, bool) {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		return keys, true
	case Object:
		return x.Keys(), true
	}
	return nil, false
}

func member(v any, key string) (any, bool) {
	switch x := v.(type) {
	case map[string]any:
		r, ok := x[key]
		return r, ok
	case Object:
		return x.Get(key)
	}
	return nil, false
}

func elements(v any) ([]any, bool) {
	switch x := v.(type) {
	case []any:
		return x, true
	case Array:
		items := make([]any, x.Len())
		for i := range items {
			items[i] = x.Index(i)
		}
		return items, true
	}
	return nil, false
}

func apply(n any, s step, out []any) []any {
	switch s.kind {
	case stepNames:
		for _, name := range s.names {
			if v, ok := member(n, name); ok {
				out = append(out, v)
			}
		}
	case stepIndexes:
		items, ok := elements(n)
		if !ok {
			return out
		}
		for _, i := range s.indexes {
			if i < 0 {
				i += len(items)
			}
			if i >= 0 && i < len(items) {
				out = append(out, items[i])
			}
		}
	case stepWildcard:
		if items, ok := elements(n); ok {
			return append(out, items...)
		}
		if keys, ok := keysOf(n); ok {
			for _, k := range keys {
				v, _ := member(n, k)
				out = append(out, v)
			}
		}
	case stepSlice:
		items, ok := elements(n)
		if !ok {
			return out
		}
		for _, i := range sliceIndexes(s.slice, len(items)) {
			out = append(out, items[i])
		}
	case stepFilter:
		if items, ok := elements(n); ok {
			for _, it := range items {
				if s.filter.match(it) {
					out = append(out, it)
				}
			}
		} else if keys, ok := keysOf(n); ok {
			for _, k := range keys {
				v, _ := member(n, k)
				if s.filter.match(v) {
					out = append(out, v)
				}
			}
		}
	}
	return out
}

const maxDescent = 1000

// descend applies s to n and to every value below it, in document order.
func descend(n any, s step, out []any, depth int) []any {
	if depth > maxDescent {
		return out
	}
	out = apply(n, s, out)
	if items, ok := elements(n); ok {
		for _, it := range items {
			out = descend(it, s, out, depth+1)
		}
	} else if keys, ok := keysOf(n); ok {
		for _, k := range keys {
			v, _ := member(n, k)
			out = descend(v, s, out, depth+1)
		}
	}
	return out
}

func sliceIndexes(sl [3]*int, n int) []int {
	step := 1
	if sl[2] != nil {
		step = *sl[2]
	}
	if step == 0 {
		return nil
	}
	norm := func(p *int, def int) int {
		if p == nil {
			return def
		}
		i := *p
		if i < 0 {
			i += n
		}
		return i
	}
	var idx []int
	if step > 0 {
		start, end := max(norm(sl[0], 0), 0), min(norm(sl[1], n), n)
		for i := start; i < end; i += step {
			idx = append(idx, i)
		}
	} else {
		start, end := min(norm(sl[0], n-1), n-1), max(norm(sl[1], -1), -1)
		if sl[1] != nil && *sl[1] < 0 && *sl[1]+n < 0 {
			end = -1
		}
		for i := start; i > end; i += step {
			idx = append(idx, i)
		}
	}
	return idx
}

// Parsing.

type pathParser struct {
	src string
	pos int
}

func (p *pathParser) fail(msg string) error {
	return &SyntaxError{Path: p.src, Offset: p.pos, Msg: msg}
}

func (p *pathParser) parse() ([]step, error) {
	if p.src == "" {
		return nil, p.fail("empty path")
	}
	if p.src[0] == '$' {
		p.pos = 1
	} else if p.src[0] != '.' && p.src[0] != '[' {
		// Jayway reads "a.b" as "$.a.b".
		p.src = "$." + p.src
		p.pos = 1
	} else {
		return nil, p.fail("path must start with $")
	}
	var steps []step
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		switch {
		case strings.HasPrefix(p.src[p.pos:], ".."):
			p.pos += 2
			s, err := p.afterDot()
			if err != nil {
				return nil, err
			}
			s.descendant = true
			steps = append(steps, s)
		case c == '.':
			p.pos++
			s, err := p.afterDot()
			if err != nil {
				return nil, err
			}
			steps = append(steps, s)
		case c == '[':
			s, err := p.bracket()
			if err != nil {
				return nil, err
			}
			steps = append(steps, s)
		case c == ' ':
			p.pos++
		default:
			return nil, p.fail(fmt.Sprintf("unexpected %q", c))
		}
	}
	return steps, nil
}

// afterDot parses what follows . or ..: a name, *, or a bracket.
func (p *pathParser) afterDot() (step, error) {
	if p.pos >= len(p.src) {
		return step{}, p.fail("path must not end with a '.'")
	}
	switch p.src[p.pos] {
	case '*':
		p.pos++
		return step{kind: stepWildcard}, nil
	case '[':
		return p.bracket()
	case '.':
		return step{}, p.fail("unexpected '.'")
	}
	end := p.pos
	for end < len(p.src) && !strings.ContainsRune(".[] ()'\"", rune(p.src[end])) {
		end++
	}
	if end == p.pos {
		return step{}, p.fail(fmt.Sprintf("unexpected %q", p.src[end]))
	}
	name := p.src[p.pos:end]
	p.pos = end
	if strings.HasPrefix(p.src[p.pos:], "()") {
		if name != "length" && name != "size" {
			return step{}, p.fail(fmt.Sprintf("function %s() is not supported", name))
		}
		p.pos += 2
		if p.pos != len(p.src) {
			return step{}, p.fail("a function must end the path")
		}
		return step{kind: stepLength}, nil
	}
	return step{kind: stepNames, names: []string{name}}, nil
}

func (p *pathParser) skipSpace() {
	for p.pos < len(p.src) && p.src[p.pos] == ' ' {
		p.pos++
	}
}

func (p *pathParser) bracket() (step, error) {
	p.pos++ // [
	p.skipSpace()
	if p.pos >= len(p.src) {
		return step{}, p.fail("unterminated [")
	}
	var s step
	switch c := p.src[p.pos]; {
	case c == '*':
		p.pos++
		s = step{kind: stepWildcard}
	case c == '\'' || c == '"':
		s.kind = stepNames
		for {
			if p.pos >= len(p.src) || (p.src[p.pos] != '\'' && p.src[p.pos] != '"') {
				return step{}, p.fail("expected a quoted name")
			}
			name, err := p.quoted()
			if err != nil {
				return step{}, err
			}
			s.names = append(s.names, name)
			p.skipSpace()
			if p.pos < len(p.src) && p.src[p.pos] == ',' {
				p.pos++
				p.skipSpace()
				continue
			}
			break
		}
	case c == '?':
		p.pos++
		p.skipSpace()
		if p.pos >= len(p.src) || p.src[p.pos] != '(' {
			return step{}, p.fail("filter must be [?(...)]")
		}
		p.pos++
		f, err := p.filterOr(0)
		if err != nil {
			return step{}, err
		}
		p.skipSpace()
		if p.pos >= len(p.src) || p.src[p.pos] != ')' {
			return step{}, p.fail("missing ) in filter")
		}
		p.pos++
		s = step{kind: stepFilter, filter: f}
	default:
		var err error
		if s, err = p.indexes(); err != nil {
			return step{}, err
		}
	}
	p.skipSpace()
	if p.pos >= len(p.src) || p.src[p.pos] != ']' {
		return step{}, p.fail("missing ]")
	}
	p.pos++
	return s, nil
}

func (p *pathParser) quoted() (string, error) {
	q := p.src[p.pos]
	var b strings.Builder
	i := p.pos + 1
	for ; i < len(p.src) && p.src[i] != q; i++ {
		// as Jayway, a backslash escapes only the quote; before any other character it is
		// itself part of the name
		if p.src[i] == '\\' && i+1 < len(p.src) && p.src[i+1] == q {
			i++
		}
		b.WriteByte(p.src[i])
	}
	if i >= len(p.src) {
		return "", p.fail("unterminated quoted name")
	}
	p.pos = i + 1
	return b.String(), nil
}

func (p *pathParser) integer() (*int, error) {
	p.skipSpace()
	start := p.pos
	if p.pos < len(p.src) && p.src[p.pos] == '-' {
		p.pos++
	}
	for p.pos < len(p.src) && p.src[p.pos] >= '0' && p.src[p.pos] <= '9' {
		p.pos++
	}
	if p.pos == start {
		return nil, nil
	}
	n, err := strconv.Atoi(p.src[start:p.pos])
	if err != nil || n > math.MaxInt32 || n < math.MinInt32 {
		p.pos = start
		return nil, p.fail("invalid index")
	}
	p.skipSpace()
	return &n, nil
}

// indexes parses [n], [n,m,...] and [start:end:step].
func (p *pathParser) indexes() (step, error) {
	first, err := p.integer()
	if err != nil {
		return step{}, err
	}
	if p.pos < len(p.src) && p.src[p.pos] == ':' {
		s := step{kind: stepSlice}
		s.slice[0] = first
		p.pos++
		if s.slice[1], err = p.integer(); err != nil {
			return step{}, err
		}
		if p.pos < len(p.src) && p.src[p.pos] == ':' {
			p.pos++
			if s.slice[2], err = p.integer(); err != nil {
				return step{}, err
			}
		}
		return s, nil
	}
	if first == nil {
		return step{}, p.fail("expected an index, name, * or filter")
	}
	s := step{kind: stepIndexes, indexes: []int{*first}}
	for p.pos < len(p.src) && p.src[p.pos] == ',' {
		p.pos++
		n, err := p.integer()
		if err != nil {
			return step{}, err
		}
		if n == nil {
			return step{}, p.fail("expected an index")
		}
		s.indexes = append(s.indexes, *n)
	}
	return s, nil
}

// Filters: [?(@.a.b op literal)], combined with && and ||, with ! and parentheses.

type filterExpr struct {
	op          string // "&&", "||", "!", "exists", or a comparison
	left, right *filterExpr
	path        *Path // for @-relative operands
	value       any   // literal operand
	isLiteral   bool
}

const maxFilterDepth = 50

func (p *pathParser) filterOr(depth int) (*filterExpr, error) {
	if depth > maxFilterDepth {
		return nil, p.fail("filter nested too deep")
	}
	left, err := p.filterAnd(depth)
	if err != nil {
		return nil, err
	}
	for {
		p.skipSpace()
		if !strings.HasPrefix(p.src[p.pos:], "||") {
			return left, nil
		}
		p.pos += 2
		right, err := p.filterAnd(depth)
		if err != nil {
			return nil, err
		}
		left = &filterExpr{op: "||", left: left, right: right}
	}
}

func (p *pathParser) filterAnd(depth int) (*filterExpr, error) {
	left, err := p.filterTerm(depth)
	if err != nil {
		return nil, err
	}
	for {
		p.skipSpace()
		if !strings.HasPrefix(p.src[p.pos:], "&&") {
			return left, nil
		}
		p.pos += 2
		right, err := p.filterTerm(depth)
		if err != nil {
			return nil, err
		}
		left = &filterExpr{op: "&&", left: left, right: right}
	}
}

var comparisons = []string{"==", "!=", "<=", ">=", "<", ">"}

func (p *pathParser) filterTerm(depth int) (*filterExpr, error) {
	p.skipSpace()
	if p.pos >= len(p.src) {
		return nil, p.fail("unterminated filter")
	}
	switch p.src[p.pos] {
	case '!':
		p.pos++
		t, err := p.filterTerm(depth + 1)
		if err != nil {
			return nil, err
		}
		return &filterExpr{op: "!", left: t}, nil
	case '(':
		p.pos++
		e, err := p.filterOr(depth + 1)
		if err != nil {
			return nil, err
		}
		p.skipSpace()
		if p.pos >= len(p.src) || p.src[p.pos] != ')' {
			return nil, p.fail("missing )")
		}
		p.pos++
		return e, nil
	}
	left, err := p.operand()
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	for _, op := range comparisons {
		if strings.HasPrefix(p.src[p.pos:], op) {
			p.pos += len(op)
			right, err := p.operand()
			if err != nil {
				return nil, err
			}
			return &filterExpr{op: op, left: left, right: right}, nil
		}
	}
	if left.isLiteral {
		return nil, p.fail("a filter needs a comparison")
	}
	return &filterExpr{op: "exists", left: left}, nil
}

func (p *pathParser) operand() (*filterExpr, error) {
	p.skipSpace()
	if p.pos >= len(p.src) {
		return nil, p.fail("missing operand")
	}
	s := p.src[p.pos:]
	switch c := s[0]; {
	case c == '@':
		end := 1
		depth := 0
		for end < len(s) {
			ch := s[end]
			if ch == '[' {
				depth++
			} else if ch == ']' {
				if depth == 0 {
					break
				}
				depth--
			} else if depth == 0 && strings.ContainsRune(" )=!<>&|", rune(ch)) {
				break
			}
			end++
		}
		sub, err := Parse("$" + s[1:end])
		if err != nil {
			return nil, p.fail("invalid path in filter")
		}
		p.pos += end
		return &filterExpr{path: sub}, nil
	case c == '\'' || c == '"':
		str, err := p.quoted()
		if err != nil {
			return nil, err
		}
		return &filterExpr{value: str, isLiteral: true}, nil
	case strings.HasPrefix(s, "true"):
		p.pos += 4
		return &filterExpr{value: true, isLiteral: true}, nil
	case strings.HasPrefix(s, "false"):
		p.pos += 5
		return &filterExpr{value: false, isLiteral: true}, nil
	case strings.HasPrefix(s, "null"):
		p.pos += 4
		return &filterExpr{value: nil, isLiteral: true}, nil
	case c == '-' || c >= '0' && c <= '9':
		end := 1
		for end < len(s) && strings.ContainsRune("0123456789.eE+-", rune(s[end])) {
			end++
		}
		f, err := strconv.ParseFloat(s[:end], 64)
		if err != nil {
			return nil, p.fail("invalid number")
		}
		p.pos += end
		return &filterExpr{value: f, isLiteral: true}, nil
	}
	return nil, p.fail("invalid filter operand")
}

func (f *filterExpr) operandValue(v any) (any, bool) {
	if f.isLiteral {
		return f.value, true
	}
	r, err := f.path.Get(v)
	if err != nil {
		return nil, false
	}
	return r, true
}

func (f *filterExpr) match(v any) bool {
	switch f.op {
	case "&&":
		return f.left.match(v) && f.right.match(v)
	case "||":
		return f.left.match(v) || f.right.match(v)
	case "!":
		return !f.left.match(v)
	case "exists":
		_, ok := f.left.operandValue(v)
		return ok
	}
	a, okA := f.left.operandValue(v)
	b, okB := f.right.operandValue(v)
	if !okA || !okB {
		return false
	}
	if fa, ok := toFloat(a); ok {
		fb, ok := toFloat(b)
		if !ok {
			return f.op == "!="
		}
		return compare(f.op, cmp.Compare(fa, fb))
	}
	sa, okA := a.(string)
	sb, okB := b.(string)
	if okA && okB {
		return compare(f.op, strings.Compare(sa, sb))
	}
	switch f.op {
	case "==":
		return scalarEqual(a, b)
	case "!=":
		return !scalarEqual(a, b)
	}
	return false
}

// scalarEqual compares booleans and nulls; objects and arrays are never equal here.
func scalarEqual(a, b any) bool {
	switch a.(type) {
	case bool, nil:
		switch b.(type) {
		case bool, nil:
			return a == b
		}
	}
	return false
}

func compare(op string, c int) bool {
	switch op {
	case "==":
		return c == 0
	case "!=":
		return c != 0
	case "<":
		return c < 0
	case "<=":
		return c <= 0
	case ">":
		return c > 0
	case ">=":
		return c >= 0
	}
	return false
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	}
	return 0, false
}
