package jsonata

import (
	"math"
	"sort"
	"time"
)

// evaluator holds the state of one evaluation: its guards and clock.
type evaluator struct {
	depth     int
	maxDepth  int
	deadline  time.Time
	timeLimit time.Duration
	ticks     int
	now       time.Time
}

// frame is one scope of variable bindings.
type frame struct {
	vars   map[string]any
	parent *frame
	ev     *evaluator
}

func newFrame(parent *frame) *frame {
	return &frame{parent: parent, ev: parent.ev}
}

func (f *frame) bind(name string, v any) {
	if f.vars == nil {
		f.vars = make(map[string]any, 4)
	}
	f.vars[name] = v
}

func (f *frame) lookup(name string) any {
	for e := f; e != nil; e = e.parent {
		if v, ok := e.vars[name]; ok {
			return v
		}
	}
	if b, ok := builtins[name]; ok {
		return b
	}
	return nil
}

// lambda is a function defined in an expression, closed over its frame.
type lambda struct {
	input     any
	env       *frame
	params    []string
	signature *signature
	body      *node
	thunk     bool
}

// partial is a function with some arguments given and the others ('?') left open.
type partial struct {
	fn    any
	args  []any
	holes []bool
}

// builtin is a function of the library (or one the engine makes, such as a
// transform or a composition).
type builtin struct {
	name      string
	signature *signature
	arity     int
	impl      func(c *call, args []any) any
}

// call is what a builtin sees of its caller: the context and the scope.
type call struct {
	input any
	env   *frame
}

func (ev *evaluator) guard(pos int) {
	ev.depth++
	if ev.maxDepth > 0 && ev.depth > ev.maxDepth {
		throw(&Error{Code: "D1011", Position: pos})
	}
	ev.ticks++
	if ev.timeLimit > 0 && ev.ticks&1023 == 0 && time.Now().After(ev.deadline) {
		throw(&Error{Code: "D1012", Position: pos, Value: float64(ev.timeLimit.Milliseconds())})
	}
}

func (ev *evaluator) eval(n *node, input any, env *frame) any {
	ev.guard(n.pos)
	var result any
	switch n.typ {
	case "path":
		result = ev.evalPath(n, input, env)
	case "binary":
		result = ev.evalBinary(n, input, env)
	case "unary":
		result = ev.evalUnary(n, input, env)
	case "name":
		result = lookupKey(input, n.str())
	case "string", "number", "value":
		result = n.value
	case "wildcard":
		result = evalWildcard(input)
	case "descendant":
		result = evalDescendants(input)
	case "parent":
		result = env.lookup(n.slot.label)
	case "condition":
		if toBoolean(ev.eval(n.cond, input, env)) {
			result = ev.eval(n.then, input, env)
		} else if n.els != nil {
			result = ev.eval(n.els, input, env)
		}
	case "block":
		f := newFrame(env)
		for _, x := range n.exprs {
			result = ev.eval(x, input, f)
		}
	case "bind":
		result = ev.eval(n.rhs, input, env)
		env.bind(n.lhs.str(), result)
	case "regex":
		result = n.value
	case "function":
		result = ev.evalFunction(n, input, env, nil, false)
	case "variable":
		name := n.str()
		if name == "" {
			if a, ok := input.(*array); ok && a.outerWrapper && len(a.items) > 0 {
				result = a.items[0]
			} else {
				result = input
			}
		} else {
			result = env.lookup(name)
		}
	case "lambda":
		result = &lambda{input: input, env: env, params: n.params, signature: n.signature, body: n.body, thunk: n.thunk}
	case "partial":
		result = ev.evalPartial(n, input, env)
	case "apply":
		result = ev.evalApply(n, input, env)
	case "transform":
		result = ev.evalTransform(n, env)
	case "operator":
		throw(&Error{Code: "S0201", Position: n.pos, Token: tokenText(n.value)})
	}
	for _, p := range n.predicate {
		result = ev.filter(p.expr, result, env)
	}
	if n.typ != "path" && n.group != nil {
		result = ev.evalGroup(n.group, result, env)
	}
	if a, ok := result.(*array); ok && a.sequence && !a.tupleStream {
		if n.keepArray {
			a.keepSingleton = true
		}
		switch len(a.items) {
		case 0:
			result = nil
		case 1:
			if !a.keepSingleton {
				result = a.items[0]
			}
		}
	}
	ev.depth--
	return result
}

func (ev *evaluator) evalPath(n *node, input any, env *frame) any {
	var inputSeq *array
	if a, ok := input.(*array); ok && n.steps[0].typ != "variable" {
		inputSeq = a
	} else {
		inputSeq = seqOf(input)
	}
	var resultSeq *array
	isTuple := false
	var tuples *array
	for i, step := range n.steps {
		if step.tuple {
			isTuple = true
		}
		if i == 0 && step.consarray {
			r := ev.eval(step, inputSeq, env)
			resultSeq = asArray(r)
		} else if isTuple {
			tuples = ev.tupleStep(step, inputSeq, tuples, env)
		} else {
			resultSeq = ev.step(step, inputSeq, env, i == len(n.steps)-1)
		}
		if !isTuple && (resultSeq == nil || len(resultSeq.items) == 0) {
			break
		}
		if step.focus == "" {
			inputSeq = resultSeq
		}
	}
	if isTuple {
		if n.tuple {
			resultSeq = tuples
		} else {
			resultSeq = newSeq()
			for _, t := range tuples.items {
				resultSeq.push(t.(tuple)["@"])
			}
		}
	}
	if n.keepSingletonArray {
		if resultSeq == nil {
			resultSeq = newSeq()
		}
		if resultSeq.cons && !resultSeq.sequence {
			resultSeq = newSeq(resultSeq)
		}
		resultSeq.keepSingleton = true
	}
	if n.group != nil {
		var in any = resultSeq
		if isTuple {
			in = tuples
		}
		return ev.evalGroup(n.group, in, env)
	}
	if resultSeq == nil {
		return nil
	}
	return resultSeq
}

// asArray returns the value as an array (undefined is nil, a single value a
// sequence of one).
func asArray(v any) *array {
	switch v := v.(type) {
	case nil:
		return nil
	case *array:
		return v
	}
	return newSeq(v)
}

func (ev *evaluator) step(n *node, input *array, env *frame, last bool) *array {
	if n.typ == "sort" {
		r := ev.sortExpr(n, input, env)
		if n.stages != nil {
			r = ev.stages(n.stages, r, env)
		}
		return r
	}
	out := &array{sequence: true}
	if len(input.items) == 1 {
		out.items = out.one[:0]
	}
	var first any
	count := 0
	for _, item := range input.items {
		res := ev.eval(n, item, env)
		for _, s := range n.stages {
			res = ev.filter(s.expr, res, env)
		}
		if res == nil {
			continue
		}
		if count == 0 {
			first = res
		}
		count++
		if a, ok := res.(*array); ok && !a.cons {
			out.items = append(out.items, a.items...)
		} else {
			out.items = append(out.items, res)
		}
	}
	// The last step keeps a single array it gives as it is.
	if last && count == 1 {
		if a, ok := first.(*array); ok && !a.sequence {
			return a
		}
	}
	return out
}

func (ev *evaluator) stages(stages []*stage, input *array, env *frame) *array {
	result := input
	for _, s := range stages {
		switch s.typ {
		case "filter":
			result = ev.filter(s.expr, result, env)
		case "index":
			for i, t := range result.items {
				if tt, ok := t.(tuple); ok {
					tt[s.value] = float64(i)
				}
			}
		}
	}
	return result
}

func frameFromTuple(env *frame, t tuple) *frame {
	f := newFrame(env)
	f.vars = make(map[string]any, len(t))
	for k, v := range t {
		f.vars[k] = v
	}
	return f
}

func (ev *evaluator) tupleStep(n *node, input *array, tuples *array, env *frame) *array {
	if n.typ == "sort" {
		var result *array
		if tuples != nil {
			result = ev.sortExpr(n, tuples, env)
		} else {
			sorted := ev.sortExpr(n, input, env)
			result = newSeq()
			result.tupleStream = true
			for i, v := range sorted.items {
				t := tuple{"@": v}
				if n.index != "" {
					t[n.index] = float64(i)
				}
				result.push(t)
			}
		}
		if n.stages != nil {
			result = ev.stages(n.stages, result, env)
		}
		return result
	}
	result := newSeq()
	result.tupleStream = true
	if tuples == nil {
		tuples = newSeq()
		if input != nil {
			for _, it := range input.items {
				tuples.push(tuple{"@": it})
			}
		}
	}
	for _, tv := range tuples.items {
		tb := tv.(tuple)
		stepEnv := frameFromTuple(env, tb)
		res := ev.eval(n, tb["@"], stepEnv)
		if res == nil {
			continue
		}
		ra, ok := res.(*array)
		if !ok {
			ra = &array{items: []any{res}}
		}
		for bb, v := range ra.items {
			t := make(tuple, len(tb)+2)
			for k, x := range tb {
				t[k] = x
			}
			if ra.tupleStream {
				for k, x := range v.(tuple) {
					t[k] = x
				}
			} else {
				if n.focus != "" {
					t[n.focus] = v
					t["@"] = tb["@"]
				} else {
					t["@"] = v
				}
				if n.index != "" {
					t[n.index] = float64(bb)
				}
				if n.ancestor != nil {
					t[n.ancestor.label] = tb["@"]
				}
			}
			result.push(t)
		}
	}
	if n.stages != nil {
		result = ev.stages(n.stages, result, env)
	}
	return result
}

func (ev *evaluator) filter(pred *node, input any, env *frame) *array {
	results := newSeq()
	in, ok := input.(*array)
	if ok && in.tupleStream {
		results.tupleStream = true
	}
	if !ok {
		if input == nil {
			return results
		}
		in = seqOf(input)
	}
	if pred.typ == "number" {
		idx := int(math.Floor(pred.value.(float64)))
		if idx < 0 {
			idx += len(in.items)
		}
		if idx >= 0 && idx < len(in.items) {
			item := in.items[idx]
			if a, ok := item.(*array); ok {
				return a
			} else if item != nil {
				results.push(item)
			}
		}
		return results
	}
	for i, item := range in.items {
		context := item
		e := env
		if in.tupleStream {
			t := item.(tuple)
			context = t["@"]
			e = frameFromTuple(env, t)
		}
		res := ev.eval(pred, context, e)
		if isNumeric(res) {
			res = &array{items: []any{res}}
		}
		if ra, ok := res.(*array); ok && isArrayOfNumbers(ra) {
			for _, x := range ra.items {
				ii := int(math.Floor(x.(float64)))
				if ii < 0 {
					ii += len(in.items)
				}
				if ii == i {
					results.push(item)
				}
			}
		} else if toBoolean(res) {
			results.push(item)
		}
	}
	return results
}

// isNumeric reports whether v is a number, refusing infinities as jsonata-js does.
func isNumeric(v any) bool {
	f, ok := v.(float64)
	if !ok || math.IsNaN(f) {
		return false
	}
	if math.IsInf(f, 0) {
		throw(&Error{Code: "D1001", Value: f})
	}
	return true
}

func (ev *evaluator) evalBinary(n *node, input any, env *frame) any {
	lhs := ev.eval(n.lhs, input, env)
	op := n.str()
	switch op {
	case "and":
		return toBool(lhs) && toBool(ev.eval(n.rhs, input, env))
	case "or":
		return toBool(lhs) || toBool(ev.eval(n.rhs, input, env))
	}
	rhs := ev.eval(n.rhs, input, env)
	switch op {
	case "+", "-", "*", "/", "%":
		return arithmetic(lhs, rhs, op, n.pos)
	case "=":
		if lhs == nil || rhs == nil {
			return false
		}
		return deepEqual(lhs, rhs)
	case "!=":
		if lhs == nil || rhs == nil {
			return false
		}
		return !deepEqual(lhs, rhs)
	case "<", "<=", ">", ">=":
		return compare(lhs, rhs, op, n.pos)
	case "&":
		return stringify(lhs) + stringify(rhs)
	case "..":
		return ev.rangeOf(lhs, rhs, n.pos)
	case "in":
		if lhs == nil || rhs == nil {
			return false
		}
		if a, ok := rhs.(*array); ok {
			for _, x := range a.items {
				if strictEqual(x, lhs) {
					return true
				}
			}
			return false
		}
		return strictEqual(rhs, lhs)
	}
	return nil
}

func strictEqual(a, b any) bool {
	switch a.(type) {
	case Func, tuple:
		return false
	}
	switch b.(type) {
	case Func, tuple:
		return false
	}
	return a == b
}

func toBool(v any) bool { return toBoolean(v) }

func stringify(v any) string {
	if v == nil {
		return ""
	}
	return toString(v, false)
}

func arithmetic(lhs, rhs any, op string, pos int) any {
	if lhs != nil && !isNumeric(lhs) {
		throw(&Error{Code: "T2001", Position: pos, Token: op, Value: lhs})
	}
	if rhs != nil && !isNumeric(rhs) {
		throw(&Error{Code: "T2002", Position: pos, Token: op, Value: rhs})
	}
	if lhs == nil || rhs == nil {
		return nil
	}
	l, r := lhs.(float64), rhs.(float64)
	switch op {
	case "+":
		return l + r
	case "-":
		return l - r
	case "*":
		return l * r
	case "/":
		return l / r
	}
	return math.Mod(l, r)
}

func compare(lhs, rhs any, op string, pos int) any {
	comparable := func(v any) bool {
		switch v.(type) {
		case nil, string, float64:
			return true
		}
		return false
	}
	if !comparable(lhs) || !comparable(rhs) {
		bad := rhs
		switch lhs.(type) {
		case string, float64:
		default:
			bad = lhs
		}
		throw(&Error{Code: "T2010", Position: pos, Token: op, Value: bad})
	}
	if lhs == nil || rhs == nil {
		return nil
	}
	ls, lok := lhs.(string)
	rs, rok := rhs.(string)
	if lok != rok {
		throw(&Error{Code: "T2009", Position: pos, Token: op, Value: lhs, value2: rhs})
	}
	var c int
	if lok {
		c = compareStrings(ls, rs)
	} else {
		l, r := lhs.(float64), rhs.(float64)
		switch {
		case l < r:
			c = -1
		case l > r:
			c = 1
		case l == r:
			c = 0
		default:
			return false // NaN
		}
	}
	switch op {
	case "<":
		return c < 0
	case "<=":
		return c <= 0
	case ">":
		return c > 0
	}
	return c >= 0
}

func (ev *evaluator) rangeOf(lhs, rhs any, pos int) any {
	isInt := func(v any) bool {
		f, ok := v.(float64)
		return ok && f == math.Trunc(f) && !math.IsInf(f, 0)
	}
	if lhs != nil && !isInt(lhs) {
		throw(&Error{Code: "T2003", Position: pos, Token: "..", Value: lhs})
	}
	if rhs != nil && !isInt(rhs) {
		throw(&Error{Code: "T2004", Position: pos, Token: "..", Value: rhs})
	}
	if lhs == nil || rhs == nil {
		return nil
	}
	l, r := lhs.(float64), rhs.(float64)
	if l > r {
		return nil
	}
	size := r - l + 1
	if size > 1e7 {
		throw(&Error{Code: "D2014", Position: pos, Token: "..", Value: size})
	}
	out := &array{items: make([]any, 0, int(size)), sequence: true}
	for x := l; x <= r; x++ {
		out.items = append(out.items, x)
	}
	return out
}

func (ev *evaluator) evalUnary(n *node, input any, env *frame) any {
	switch n.str() {
	case "-":
		v := ev.eval(n.expr, input, env)
		if v == nil {
			return nil
		}
		if isNumeric(v) {
			return -v.(float64)
		}
		throw(&Error{Code: "D1002", Position: n.pos, Token: "-", Value: v})
	case "[":
		result := &array{items: []any{}, cons: n.consarray}
		for _, item := range n.exprs {
			v := ev.eval(item, input, env)
			if v == nil {
				continue
			}
			if item.typ == "unary" && item.value == "[" {
				result.push(v)
			} else if a, ok := v.(*array); ok {
				result.items = append(result.items, a.items...)
			} else {
				result.push(v)
			}
		}
		return result
	case "{":
		return ev.evalGroup(&groupExpr{pairs: n.pairs, pos: n.pos}, input, env)
	}
	return nil
}

// lookupKey is $lookup: the value of key in an object, or in each object of an array.
func lookupKey(input any, key string) any {
	switch in := input.(type) {
	case *array:
		result := newSeq()
		for _, it := range in.items {
			r := lookupKey(it, key)
			if r == nil {
				continue
			}
			if a, ok := r.(*array); ok {
				result.items = append(result.items, a.items...)
			} else {
				result.push(r)
			}
		}
		return result
	case *object:
		v, _ := in.get(key)
		return v
	case tuple:
		return in[key]
	}
	return nil
}

func evalWildcard(input any) any {
	results := newSeq()
	if a, ok := input.(*array); ok && a.outerWrapper && len(a.items) > 0 {
		input = a.items[0]
	}
	var values []any
	switch in := input.(type) {
	case *object:
		for _, k := range in.keys {
			values = append(values, in.vals[k])
		}
	case *array:
		values = in.items
	}
	{
		for _, v := range values {
			if a, ok := v.(*array); ok {
				results.items = flattenInto(results.items, a)
				results.sequence = false
			} else {
				results.push(v)
			}
		}
	}
	return results
}

func flattenInto(dst []any, v any) []any {
	if a, ok := v.(*array); ok {
		for _, x := range a.items {
			dst = flattenInto(dst, x)
		}
		return dst
	}
	return append(dst, v)
}

func evalDescendants(input any) any {
	if input == nil {
		return nil
	}
	results := newSeq()
	recurseDescendants(input, results)
	if len(results.items) == 1 {
		return results.items[0]
	}
	return results
}

func recurseDescendants(input any, results *array) {
	switch in := input.(type) {
	case *array:
		for _, m := range in.items {
			recurseDescendants(m, results)
		}
	case *object:
		results.push(in)
		for _, k := range in.keys {
			recurseDescendants(in.vals[k], results)
		}
	default:
		results.push(input)
	}
}

type groupEntry struct {
	data      any
	exprIndex int
}

func (ev *evaluator) evalGroup(g *groupExpr, input any, env *frame) any {
	result := newObject(len(g.pairs))
	var keys []string
	groups := map[string]*groupEntry{}
	in, isArr := input.(*array)
	reduce := isArr && in.tupleStream
	if !isArr {
		in = seqOf(input)
	}
	items := in.items
	if len(items) == 0 && !reduce {
		items = []any{nil}
	}
	if len(items) == 1 && !reduce {
		return ev.constructObject(g, items[0], env, result)
	}
	for _, item := range items {
		e := env
		ctx := item
		if reduce {
			t := item.(tuple)
			e = frameFromTuple(env, t)
			ctx = t["@"]
		}
		for pi, pair := range g.pairs {
			k := ev.eval(pair[0], ctx, e)
			if k == nil {
				continue
			}
			key, ok := k.(string)
			if !ok {
				throw(&Error{Code: "T1003", Position: g.pos, Value: k})
			}
			if entry, ok := groups[key]; ok {
				if entry.exprIndex != pi {
					throw(&Error{Code: "D1009", Position: g.pos, Value: key})
				}
				entry.data = appendValues(entry.data, item)
			} else {
				groups[key] = &groupEntry{data: item, exprIndex: pi}
				keys = append(keys, key)
			}
		}
	}
	for _, key := range keys {
		entry := groups[key]
		ctx := entry.data
		e := env
		if reduce {
			t := reduceTuples(entry.data)
			ctx = t["@"]
			delete(t, "@")
			e = frameFromTuple(env, t)
		}
		v := ev.eval(g.pairs[entry.exprIndex][1], ctx, e)
		if v != nil {
			result.set(key, v)
		}
	}
	return result
}

// constructObject is evalGroup for a single context, which needs no grouping:
// keys are evaluated first, in order, then each value.
func (ev *evaluator) constructObject(g *groupExpr, ctx any, env *frame, result *object) *object {
	keys := make([]string, len(g.pairs))
	defined := make([]bool, len(g.pairs))
	for i, pair := range g.pairs {
		k := ev.eval(pair[0], ctx, env)
		if k == nil {
			continue
		}
		key, ok := k.(string)
		if !ok {
			throw(&Error{Code: "T1003", Position: g.pos, Value: k})
		}
		for j := 0; j < i; j++ {
			if defined[j] && keys[j] == key {
				throw(&Error{Code: "D1009", Position: g.pos, Value: key})
			}
		}
		keys[i], defined[i] = key, true
	}
	for i, pair := range g.pairs {
		if !defined[i] {
			continue
		}
		if v := ev.eval(pair[1], ctx, env); v != nil {
			result.set(keys[i], v)
		}
	}
	return result
}

func reduceTuples(v any) tuple {
	a, ok := v.(*array)
	if !ok {
		t := v.(tuple)
		out := make(tuple, len(t))
		for k, x := range t {
			out[k] = x
		}
		return out
	}
	out := tuple{}
	for k, x := range a.items[0].(tuple) {
		out[k] = x
	}
	for _, it := range a.items[1:] {
		for k, x := range it.(tuple) {
			out[k] = appendValues(out[k], x)
		}
	}
	return out
}

// appendValues is $append: undefined is dropped, other values joined into one array.
func appendValues(a, b any) any {
	if a == nil {
		return b
	}
	if b == nil {
		return a
	}
	out := &array{}
	if x, ok := a.(*array); ok {
		out.items = append(out.items, x.items...)
	} else {
		out.items = append(out.items, a)
	}
	if x, ok := b.(*array); ok {
		out.items = append(out.items, x.items...)
	} else {
		out.items = append(out.items, b)
	}
	return out
}

func (ev *evaluator) sortExpr(n *node, input *array, env *frame) *array {
	isTuple := input.tupleStream
	type keyed struct {
		v    any
		keys []any
	}
	ks := make([]keyed, len(input.items))
	for i, it := range input.items {
		ctx, e := it, env
		if isTuple {
			t := it.(tuple)
			ctx = t["@"]
			e = frameFromTuple(env, t)
		}
		keys := make([]any, len(n.terms))
		for j, term := range n.terms {
			keys[j] = ev.eval(term.expr, ctx, e)
		}
		ks[i] = keyed{it, keys}
	}
	cmp := func(a, b keyed) int {
		for j, term := range n.terms {
			aa, bb := a.keys[j], b.keys[j]
			if aa == nil {
				if bb == nil {
					continue
				}
				return 1
			}
			if bb == nil {
				return -1
			}
			_, as := aa.(string)
			_, an := aa.(float64)
			_, bs := bb.(string)
			_, bn := bb.(float64)
			if !(as || an) || !(bs || bn) {
				bad := bb
				if !(as || an) {
					bad = aa
				}
				throw(&Error{Code: "T2008", Position: n.pos, Value: bad})
			}
			if as != bs {
				throw(&Error{Code: "T2007", Position: n.pos, Value: aa, value2: bb})
			}
			c := 0
			if as {
				c = compareStrings(aa.(string), bb.(string))
			} else {
				x, y := aa.(float64), bb.(float64)
				if x < y {
					c = -1
				} else if x > y {
					c = 1
				}
			}
			if c == 0 {
				continue
			}
			if term.descending {
				c = -c
			}
			return c
		}
		return 0
	}
	sort.SliceStable(ks, func(i, j int) bool { return cmp(ks[i], ks[j]) < 0 })
	out := &array{items: make([]any, len(ks)), sequence: true, tupleStream: isTuple}
	for i, k := range ks {
		out.items[i] = k.v
	}
	return out
}

func compareStrings(a, b string) int {
	// JavaScript compares UTF-16 code units.
	if a == b {
		return 0
	}
	ua, ub := utf16Units(a), utf16Units(b)
	for i := 0; i < len(ua) && i < len(ub); i++ {
		if ua[i] != ub[i] {
			if ua[i] < ub[i] {
				return -1
			}
			return 1
		}
	}
	if len(ua) < len(ub) {
		return -1
	}
	return 1
}

func (ev *evaluator) evalTransform(n *node, env *frame) any {
	return &builtin{name: "transform", signature: mustSignature("<(oa):o>"), arity: 1, impl: func(c *call, args []any) any {
		obj := args[0]
		if obj == nil {
			return nil
		}
		if _, ok := env.lookup("clone").(*builtin); !ok {
			if !isFunction(env.lookup("clone")) {
				throw(&Error{Code: "T2013", Position: n.pos})
			}
		}
		result := deepCopy(obj)
		matches := ev.eval(n.pattern, result, env)
		if matches == nil {
			return result
		}
		ms, ok := matches.(*array)
		if !ok {
			ms = &array{items: []any{matches}}
		}
		for _, m := range ms.items {
			update := ev.eval(n.update, m, env)
			if update != nil {
				uo, ok := update.(*object)
				if !ok {
					throw(&Error{Code: "T2011", Position: n.update.pos, Value: update})
				}
				if mo, ok := m.(*object); ok {
					for _, k := range uo.keys {
						mo.set(k, uo.vals[k])
					}
				}
			}
			if n.del != nil {
				dels := ev.eval(n.del, m, env)
				if dels == nil {
					continue
				}
				da, ok := dels.(*array)
				if !ok {
					da = &array{items: []any{dels}}
				}
				if !isArrayOfStrings(da) {
					throw(&Error{Code: "T2012", Position: n.del.pos, Value: dels})
				}
				if mo, ok := m.(*object); ok {
					for _, k := range da.items {
						mo.del(k.(string))
					}
				}
			}
		}
		return result
	}}
}

func deepCopy(v any) any {
	switch v := v.(type) {
	case *object:
		o := &object{keys: append([]string(nil), v.keys...), vals: make(map[string]any, len(v.vals))}
		for k, x := range v.vals {
			o.vals[k] = deepCopy(x)
		}
		return o
	case *array:
		a := &array{items: make([]any, 0, len(v.items))}
		for _, x := range v.items {
			if x == nil {
				x = null{}
			}
			a.items = append(a.items, deepCopy(x))
		}
		return a
	}
	if isFunction(v) {
		return ""
	}
	return v
}

func (ev *evaluator) evalApply(n *node, input any, env *frame) any {
	lhs := ev.eval(n.lhs, input, env)
	if n.rhs.typ == "function" {
		return ev.evalFunction(n.rhs, input, env, lhs, true)
	}
	fn := ev.eval(n.rhs, input, env)
	if !isFunction(fn) {
		throw(&Error{Code: "T2006", Position: n.pos, Value: fn})
	}
	if isFunction(lhs) {
		f := lhs
		return &builtin{name: "", arity: 1, impl: func(c *call, args []any) any {
			var x any
			if len(args) > 0 {
				x = args[0]
			}
			return ev.apply(fn, []any{ev.apply(f, []any{x}, nil, env)}, nil, env)
		}}
	}
	return ev.apply(fn, []any{lhs}, input, env)
}

func procName(n *node) string {
	if n.typ == "path" && len(n.steps) > 0 {
		return n.steps[0].str()
	}
	return n.str()
}

func (ev *evaluator) evalFunction(n *node, input any, env *frame, applyTo any, hasApplyTo bool) (result any) {
	proc := ev.eval(n.procedure, input, env)
	if proc == nil && n.procedure.typ == "path" && env.lookup(n.procedure.steps[0].str()) != nil {
		throw(&Error{Code: "T1005", Position: n.pos, Token: n.procedure.steps[0].str()})
	}
	args := make([]any, 0, len(n.args)+1)
	if hasApplyTo {
		args = append(args, applyTo)
	}
	for _, a := range n.args {
		args = append(args, ev.eval(a, input, env))
	}
	name := procName(n.procedure)
	defer func() {
		if r := recover(); r != nil {
			if e, ok := r.(*Error); ok {
				if e.Position == 0 {
					e.Position = n.pos
				}
				if e.Token == "" {
					e.Token = name
				}
			}
			panic(r)
		}
	}()
	return ev.apply(proc, args, input, env)
}

func (ev *evaluator) apply(proc any, args []any, input any, env *frame) any {
	result := ev.applyInner(proc, args, input, env)
	for {
		l, ok := result.(*lambda)
		if !ok || !l.thunk {
			return result
		}
		body := l.body
		next := ev.eval(body.procedure, l.input, l.env)
		nargs := make([]any, len(body.args))
		for i, a := range body.args {
			nargs[i] = ev.eval(a, l.input, l.env)
		}
		result = ev.applyTail(body.procedure, next, nargs, input, env)
	}
}

// applyTail applies a function in tail position, naming it in its errors as
// the call would have.
func (ev *evaluator) applyTail(proc *node, fn any, args []any, input any, env *frame) any {
	defer func() {
		if r := recover(); r != nil {
			if e, ok := r.(*Error); ok {
				if e.Token == "" && proc.typ == "variable" {
					e.Token = proc.str()
				}
				if e.Position == 0 {
					e.Position = proc.pos
				}
			}
			panic(r)
		}
	}()
	return ev.applyInner(fn, args, input, env)
}

func (ev *evaluator) applyInner(proc any, args []any, input any, env *frame) any {
	switch p := proc.(type) {
	case *lambda:
		if p.signature != nil {
			args = p.signature.validate(args, input)
		}
		f := newFrame(p.env)
		f.vars = make(map[string]any, len(p.params))
		for i, name := range p.params {
			if i < len(args) {
				f.vars[name] = args[i]
			} else {
				f.vars[name] = nil
			}
		}
		return ev.eval(p.body, p.input, f)
	case *builtin:
		if p.signature != nil {
			args = p.signature.validate(args, input)
		}
		return p.impl(&call{input: input, env: env}, args)
	case *partial:
		full := make([]any, len(p.args))
		j := 0
		for i, a := range p.args {
			if p.holes[i] {
				if j < len(args) {
					full[i] = args[j]
				}
				j++
			} else {
				full[i] = a
			}
		}
		return ev.applyInner(p.fn, full, input, env)
	case Func:
		goArgs := make([]any, len(args))
		for i, a := range args {
			goArgs[i] = toGo(a)
		}
		r, err := p(goArgs)
		if err != nil {
			if e, ok := err.(*Error); ok {
				throw(e)
			}
			throw(&Error{Code: "D3137", Message: err.Error(), message: err.Error()})
		}
		return fromGo(r)
	case *regexValue:
		var s any
		if len(args) > 0 {
			s = args[0]
		}
		str, ok := s.(string)
		if !ok {
			return nil
		}
		return p.matchObject(str, 0)
	}
	throw(&Error{Code: "T1006"})
	return nil
}

func (ev *evaluator) evalPartial(n *node, input any, env *frame) any {
	args := make([]any, len(n.args))
	holes := make([]bool, len(n.args))
	for i, a := range n.args {
		if a.typ == "operator" && a.value == "?" {
			holes[i] = true
		} else {
			args[i] = ev.eval(a, input, env)
		}
	}
	proc := ev.eval(n.procedure, input, env)
	if proc == nil && n.procedure.typ == "path" && env.lookup(n.procedure.steps[0].str()) != nil {
		throw(&Error{Code: "T1007", Position: n.pos, Token: n.procedure.steps[0].str()})
	}
	if !isFunction(proc) {
		throw(&Error{Code: "T1008", Position: n.pos, Token: procName(n.procedure)})
	}
	return &partial{fn: proc, args: args, holes: holes}
}

// arity is the number of arguments a function takes, which decides how many
// the higher-order functions pass it.
func arity(f any) int {
	switch f := f.(type) {
	case *lambda:
		return len(f.params)
	case *builtin:
		return f.arity
	case *partial:
		n := 0
		for _, h := range f.holes {
			if h {
				n++
			}
		}
		return n
	case *regexValue:
		return 1
	case Func:
		return 1
	}
	return 0
}
