package vtl

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"runtime/debug"
	"slices"
	"strings"
)

// Limits of one Execute call.
const (
	// MaxForeachIterations is API Gateway's quota on iterations of one #foreach loop;
	// the loop ends silently there, as Velocity's directive.foreach.maxloops does.
	MaxForeachIterations = 1000
	// MaxOutput bounds the rendered output (API Gateway's payload limit is 10 MB).
	MaxOutput = 10 << 20
	// maxSteps bounds the work of one execution (nested loops, macro recursion, text
	// produced or scanned, one step per bytesPerStep bytes).
	maxSteps     = 5_000_000
	bytesPerStep = 16
)

// ErrOutputTooLarge reports a template whose output exceeds MaxOutput.
var ErrOutputTooLarge = errors.New("vtl: template output exceeds the size limit")

// ExecError is an error raised while rendering, such as a failing method call.
type ExecError struct {
	Line, Column int
	Err          error
}

func (e *ExecError) Error() string {
	return fmt.Sprintf("%v at line %d, column %d", e.Err, e.Line, e.Column)
}

func (e *ExecError) Unwrap() error { return e.Err }

// Execute renders the template to w with vars as its context. vars is not modified:
// #set changes a copy. Values may be nil, bool, int/int64/float64/json.Number, string,
// []any, *List, map[string]any, *Map or Object.
func (t *Template) Execute(w io.Writer, vars map[string]any) error {
	return t.ExecuteOptions(w, vars, Options{})
}

// Options change how a template renders.
type Options struct {
	// NullAsEmpty renders a reference whose value is null as nothing, as API Gateway
	// does, instead of as written, which is Velocity's default.
	NullAsEmpty bool
}

// ExecuteOptions is Execute with options.
func (t *Template) ExecuteOptions(w io.Writer, vars map[string]any, opts Options) (err error) {
	ctx := make(map[string]any, len(vars)+4)
	for k, v := range vars {
		ctx[k] = v
	}
	e := &evaluator{t: t, vars: ctx, out: &strings.Builder{}, opts: opts}
	defer func() {
		if r := recover(); r != nil {
			if f, ok := r.(fault); ok {
				err = f.err
				return
			}
			err = fmt.Errorf("vtl: internal error: %v\n%s", r, debug.Stack())
		}
	}()
	if err := e.body(t.body); err != nil && !errors.Is(err, errStop) && !errors.Is(err, errBreak) {
		return err
	}
	_, err = io.WriteString(w, e.out.String())
	return err
}

// fault carries an error out of deep evaluation through panic, caught in Execute.
type fault struct{ err error }

var (
	errStop  = errors.New("#stop")
	errBreak = errors.New("#break")
)

type evaluator struct {
	t       *Template
	opts    Options
	aliases map[string]string // macro parameters bound to null: the caller's literal
	regexps map[string]*regexp.Regexp
	vars    map[string]any
	out     *strings.Builder
	steps   int
	depth   int
}

func (e *evaluator) write(s string) {
	if e.out.Len()+len(s) > MaxOutput {
		panic(fault{ErrOutputTooLarge})
	}
	e.charge(len(s))
	e.out.WriteString(s)
}

// charge counts work proportional to n bytes of text produced or scanned.
func (e *evaluator) charge(n int) {
	e.steps += n / bytesPerStep
	e.step()
}

func (e *evaluator) step() {
	e.steps++
	if e.steps > maxSteps {
		panic(fault{errors.New("vtl: template execution exceeds the step limit")})
	}
}

func (e *evaluator) enter() {
	e.depth++
	if e.depth > maxDepth {
		panic(fault{errors.New("vtl: template recursion too deep")})
	}
}

func (e *evaluator) body(nodes []node) error {
	for _, n := range nodes {
		if err := e.node(n); err != nil {
			return err
		}
	}
	return nil
}

func (e *evaluator) node(n node) error {
	e.step()
	switch n := n.(type) {
	case *textNode:
		e.write(n.text)
	case *refNode:
		return e.renderRef(n)
	case *setNode:
		return e.set(n)
	case *ifNode:
		for i, c := range n.conds {
			v, err := e.eval(c)
			if err != nil {
				return err
			}
			if truthy(v) {
				return e.body(n.blocks[i])
			}
		}
		return e.body(n.orElse)
	case *foreachNode:
		return e.foreach(n)
	case *defineNode:
		e.vars[n.name] = &block{e: e, body: n.body}
	case *macroCall:
		return e.callMacro(n)
	case *rawNode:
		e.write(n.text)
	case *breakNode:
		return errBreak
	case *stopNode:
		return errStop
	case trimLast:
		s := e.out.String()
		if s != "" {
			_, size := lastRune(s)
			e.out.Reset()
			e.out.WriteString(s[:len(s)-size])
		}
	}
	return nil
}

func lastRune(s string) (rune, int) {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i]&0xC0 != 0x80 {
			return rune(s[i]), len(s) - i
		}
	}
	return 0, 1
}

// block is the value #define gives a name: rendered where referenced.
type block struct {
	e    *evaluator
	body []node
}

func (b *block) render() (string, error) {
	b.e.enter()
	defer func() { b.e.depth-- }()
	saved := b.e.out
	b.e.out = &strings.Builder{}
	defer func() { b.e.out = saved }()
	if err := b.e.body(b.body); err != nil && !errors.Is(err, errBreak) {
		return "", err
	}
	return b.e.out.String(), nil
}

func (e *evaluator) renderRef(n *refNode) error {
	v, err := e.refValue(n)
	if err != nil {
		return err
	}
	if b, ok := v.(*block); ok {
		s, err := b.render()
		if err != nil {
			return err
		}
		v = s
	}
	half := strings.Repeat(`\`, n.escapes/2)
	if n.escapes%2 == 1 {
		// \$foo renders $foo when $foo has a value, and \$foo as written when it has none.
		if v == nil {
			e.write(half + `\` + n.literal)
		} else {
			e.write(half + n.literal)
		}
		return nil
	}
	if v == nil && e.opts.NullAsEmpty {
		e.write(half)
		return nil
	}
	if v == nil {
		literal := n.literal
		if alias, ok := e.aliases[n.name]; ok && len(n.parts) == 0 {
			literal = alias
		}
		if !n.quiet {
			e.write(half + half + literal)
		} else {
			e.write(half + half)
		}
		return nil
	}
	e.write(half + String(v))
	return nil
}

func (e *evaluator) refValue(n *refNode) (any, error) {
	v, ok := e.vars[n.name]
	if !ok {
		return nil, nil
	}
	for _, part := range n.parts {
		if v == nil {
			return nil, nil
		}
		var err error
		v, err = e.applyPart(v, part)
		if err != nil {
			return nil, err
		}
	}
	return v, nil
}

func (e *evaluator) applyPart(v any, part refPart) (any, error) {
	switch part.kind {
	case partProperty:
		r, err := e.property(v, part.name)
		return r, e.at(part.pos, err)
	case partMethod:
		args := make([]any, len(part.args))
		for i, a := range part.args {
			x, err := e.eval(a)
			if err != nil {
				return nil, err
			}
			args[i] = x
		}
		if s, ok := v.(string); ok {
			e.charge(len(s)) // string methods scan their receiver
		}
		r, err := e.call(v, part.name, args)
		if s, ok := r.(string); ok {
			if len(s) > MaxOutput {
				err = ErrOutputTooLarge
			}
			e.charge(len(s))
		}
		return r, e.at(part.pos, err)
	default:
		idx, err := e.eval(part.args[0])
		if err != nil {
			return nil, err
		}
		r, err := e.index(v, idx)
		return r, e.at(part.pos, err)
	}
}

// at locates err at the template offset pos.
func (e *evaluator) at(pos int, err error) error {
	if err == nil {
		return nil
	}
	var ee *ExecError
	if errors.As(err, &ee) {
		return err
	}
	line, col := position(e.t, pos)
	return &ExecError{Line: line, Column: col, Err: err}
}

// position returns the 1-based line and column of the template offset pos.
func position(t *Template, pos int) (int, int) {
	if t.src == "" || pos > len(t.src) {
		return 0, 0
	}
	line, col := 1, 1
	for _, r := range t.src[:pos] {
		if r == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return line, col
}

func (e *evaluator) set(n *setNode) error {
	v, err := e.eval(n.value)
	if err != nil {
		return err
	}
	if v == nil {
		// Velocity 1.7 leaves the context unchanged when the right side is null.
		return nil
	}
	ref := n.target
	if len(ref.parts) == 0 {
		e.vars[ref.name] = v
		return nil
	}
	target, ok := e.vars[ref.name]
	if !ok || target == nil {
		return nil
	}
	for _, part := range ref.parts[:len(ref.parts)-1] {
		target, err = e.applyPart(target, part)
		if err != nil {
			return err
		}
		if target == nil {
			return nil
		}
	}
	last := ref.parts[len(ref.parts)-1]
	switch last.kind {
	case partProperty:
		_, err := e.call(target, "put", []any{last.name, v})
		return e.at(last.pos, err)
	case partIndex:
		idx, err := e.eval(last.args[0])
		if err != nil {
			return err
		}
		if _, isList := target.(*List); isList {
			_, err = e.call(target, "set", []any{idx, v})
		} else {
			_, err = e.call(target, "put", []any{idx, v})
		}
		return e.at(last.pos, err)
	}
	return nil
}

func (e *evaluator) foreach(n *foreachNode) error {
	listV, err := e.eval(n.list)
	if err != nil {
		return err
	}
	items, ok := iterate(listV)
	if !ok {
		return nil
	}
	saved := map[string]any{}
	for _, k := range []string{n.name, "foreach", "velocityCount", "velocityHasNext"} {
		if v, ok := e.vars[k]; ok {
			saved[k] = v
		}
	}
	defer func() {
		for _, k := range []string{n.name, "foreach", "velocityCount", "velocityHasNext"} {
			if v, ok := saved[k]; ok {
				e.vars[k] = v
			} else {
				delete(e.vars, k)
			}
		}
	}()
	loop := &loopState{parent: saved["foreach"]}
	e.vars["foreach"] = loop
	count := len(items)
	if count > MaxForeachIterations {
		count = MaxForeachIterations
	}
	for i := 0; i < count; i++ {
		e.step()
		loop.index = i
		loop.hasNext = i+1 < count
		if items[i] == nil {
			delete(e.vars, n.name)
		} else {
			e.vars[n.name] = items[i]
		}
		e.vars["velocityCount"] = int64(i + 1)
		e.vars["velocityHasNext"] = loop.hasNext
		if err := e.body(n.body); err != nil {
			if errors.Is(err, errBreak) {
				return nil
			}
			return err
		}
	}
	return nil
}

// loopState is $foreach inside a #foreach loop.
type loopState struct {
	index   int
	hasNext bool
	parent  any
}

func (l *loopState) Get(name string) (any, bool) {
	switch name {
	case "index":
		return int64(l.index), true
	case "count":
		return int64(l.index + 1), true
	case "hasNext":
		return l.hasNext, true
	case "first":
		return l.index == 0, true
	case "last":
		return !l.hasNext, true
	case "parent":
		return l.parent, true
	}
	return nil, false
}

func (l *loopState) Call(method string, args []any) (any, error) {
	if len(args) == 0 {
		name := method
		switch {
		case strings.HasPrefix(method, "get") && len(method) > 3:
			name = strings.ToLower(method[3:4]) + method[4:]
		case strings.HasPrefix(method, "is") && len(method) > 2:
			name = strings.ToLower(method[2:3]) + method[3:]
		}
		if v, ok := l.Get(name); ok {
			return v, nil
		}
	}
	return nil, nil
}

func (e *evaluator) callMacro(n *macroCall) error {
	m := e.t.macros[n.name]
	if m == nil {
		return nil
	}
	e.enter()
	defer func() { e.depth-- }()
	// Arguments are evaluated once, before the body runs.
	values := make([]any, len(m.params))
	for i := range m.params {
		if i < len(n.args) {
			v, err := e.eval(n.args[i])
			if err != nil {
				return err
			}
			values[i] = v
		}
	}
	saved := map[string]any{}
	savedAliases := e.aliases
	e.aliases = map[string]string{}
	for i, name := range m.params {
		if v, ok := e.vars[name]; ok {
			saved[name] = v
		}
		if values[i] != nil {
			e.vars[name] = values[i]
			continue
		}
		delete(e.vars, name)
		// A null argument renders as the caller wrote it, as Velocity's macros do.
		if i < len(n.args) {
			if r, ok := n.args[i].(*refNode); ok {
				e.aliases[name] = r.literal
			}
		}
	}
	defer func() {
		e.aliases = savedAliases
		for _, name := range m.params {
			if v, ok := saved[name]; ok {
				e.vars[name] = v
			} else {
				delete(e.vars, name)
			}
		}
	}()
	return e.body(m.body)
}

// iterate returns the elements #foreach walks over, and false for a value it cannot.
func iterate(v any) ([]any, bool) {
	switch x := v.(type) {
	case *List:
		return append([]any(nil), x.Items...), true
	case []any:
		return x, true
	case []string:
		items := make([]any, len(x))
		for i, s := range x {
			items[i] = s
		}
		return items, true
	case *Map:
		items := make([]any, 0, x.Len())
		for _, v := range x.All() {
			items = append(items, v)
		}
		return items, true
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		items := make([]any, len(keys))
		for i, k := range keys {
			items[i] = x[k]
		}
		return items, true
	}
	return nil, false
}

func (e *evaluator) eval(x expr) (any, error) {
	e.step()
	switch x := x.(type) {
	case *literal:
		return x.value, nil
	case *refNode:
		v, err := e.refValue(x)
		if b, ok := v.(*block); ok && err == nil {
			return b.render()
		}
		return v, err
	case *interpolated:
		saved := e.out
		e.out = &strings.Builder{}
		err := e.body(x.body)
		s := e.out.String()
		e.out = saved
		if err != nil && !errors.Is(err, errStop) {
			return nil, err
		}
		return s, nil
	case *listExpr:
		l := &List{Items: make([]any, 0, len(x.items))}
		for _, it := range x.items {
			v, err := e.eval(it)
			if err != nil {
				return nil, err
			}
			l.Items = append(l.Items, v)
		}
		return l, nil
	case *mapExpr:
		m := NewMap()
		for i := range x.keys {
			k, err := e.eval(x.keys[i])
			if err != nil {
				return nil, err
			}
			v, err := e.eval(x.values[i])
			if err != nil {
				return nil, err
			}
			m.Set(String(k), v)
		}
		return m, nil
	case *rangeExpr:
		return e.evalRange(x)
	case *notExpr:
		v, err := e.eval(x.operand)
		if err != nil {
			return nil, err
		}
		return !truthy(v), nil
	case *binaryExpr:
		return e.evalBinary(x)
	}
	return nil, fmt.Errorf("vtl: unknown expression %T", x)
}

func (e *evaluator) evalRange(x *rangeExpr) (any, error) {
	from, err := e.eval(x.from)
	if err != nil {
		return nil, err
	}
	to, err := e.eval(x.to)
	if err != nil {
		return nil, err
	}
	a, okA := toInt(from)
	b, okB := toInt(to)
	if !okA || !okB {
		return nil, nil
	}
	step := 1
	if b < a {
		step = -1
	}
	n := (b-a)*step + 1
	if n > MaxForeachIterations*10 {
		return nil, errors.New("vtl: range too large")
	}
	l := &List{Items: make([]any, 0, n)}
	for i := a; ; i += step {
		l.Items = append(l.Items, int64(i))
		if i == b {
			break
		}
	}
	return l, nil
}

func (e *evaluator) evalBinary(x *binaryExpr) (any, error) {
	left, err := e.eval(x.left)
	if err != nil {
		return nil, err
	}
	switch x.op {
	case "&&":
		if !truthy(left) {
			return false, nil
		}
		right, err := e.eval(x.right)
		return truthy(right), err
	case "||":
		if truthy(left) {
			return true, nil
		}
		right, err := e.eval(x.right)
		return truthy(right), err
	}
	right, err := e.eval(x.right)
	if err != nil {
		return nil, err
	}
	switch x.op {
	case "==":
		return equal(left, right), nil
	case "!=":
		return !equal(left, right), nil
	case "<", "<=", ">", ">=":
		c, ok := compareNumbers(left, right)
		if !ok {
			return false, nil
		}
		switch x.op {
		case "<":
			return c < 0, nil
		case "<=":
			return c <= 0, nil
		case ">":
			return c > 0, nil
		default:
			return c >= 0, nil
		}
	case "+":
		_, ls := left.(string)
		_, rs := right.(string)
		if ls || rs {
			if left == nil {
				left = literalOf(x.left)
			}
			if right == nil {
				right = literalOf(x.right)
			}
			ls, rs := String(left), String(right)
			if len(ls)+len(rs) > MaxOutput {
				return nil, ErrOutputTooLarge
			}
			e.charge(len(ls) + len(rs))
			return ls + rs, nil
		}
	}
	return arithmetic(x.op, left, right), nil
}

// literalOf returns how an operand was written, which Velocity concatenates for a null.
func literalOf(x expr) string {
	if r, ok := x.(*refNode); ok {
		return r.literal
	}
	return "null"
}
