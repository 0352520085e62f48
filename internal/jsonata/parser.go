package jsonata

import "fmt"

// node is a node of the syntax tree, both as the Pratt parser builds it and
// after process has turned it into the form the evaluator walks.
type node struct {
	id    string // parser symbol: an operator, (name), (literal), (regex), (end)
	typ   string
	value any
	pos   int

	lhs, rhs    *node
	expr        *node   // unary operand
	exprs       []*node // block, array constructor
	pairs       [][2]*node
	terms       []sortTerm
	steps       []*node
	args        []*node
	procedure   *node
	body        *node
	params      []string
	signature   *signature
	cond, then  *node
	els         *node
	pattern     *node
	update, del *node

	group     *groupExpr
	predicate []*stage
	stages    []*stage

	keepArray, keepSingletonArray, consarray, tuple, thunk bool
	focus, index                                           string
	ancestor, slot                                         *slot
	seekingParent                                          []*slot
}

type sortTerm struct {
	descending bool
	expr       *node
}

type groupExpr struct {
	pairs [][2]*node
	pos   int
}

// stage is a predicate filter or a positional binding on a path step.
type stage struct {
	typ   string // filter or index
	expr  *node
	value string
	pos   int
}

type slot struct {
	label string
	level int
	index int
}

func (n *node) str() string {
	s, _ := n.value.(string)
	return s
}

func (n *node) clone() *node {
	if n == nil {
		return nil
	}
	c := *n
	c.lhs, c.rhs, c.expr = n.lhs.clone(), n.rhs.clone(), n.expr.clone()
	c.exprs = cloneNodes(n.exprs)
	c.args = cloneNodes(n.args)
	c.steps = cloneNodes(n.steps)
	if n.pairs != nil {
		c.pairs = make([][2]*node, len(n.pairs))
		for i, p := range n.pairs {
			c.pairs[i] = [2]*node{p[0].clone(), p[1].clone()}
		}
	}
	if n.terms != nil {
		c.terms = make([]sortTerm, len(n.terms))
		for i, t := range n.terms {
			c.terms[i] = sortTerm{t.descending, t.expr.clone()}
		}
	}
	c.procedure, c.body = n.procedure.clone(), n.body.clone()
	c.cond, c.then, c.els = n.cond.clone(), n.then.clone(), n.els.clone()
	c.pattern, c.update, c.del = n.pattern.clone(), n.update.clone(), n.del.clone()
	return &c
}

func cloneNodes(ns []*node) []*node {
	if ns == nil {
		return nil
	}
	out := make([]*node, len(ns))
	for i, n := range ns {
		out[i] = n.clone()
	}
	return out
}

type parser struct {
	lx       *lexer
	node     *node
	ancestry []*node
	label    int
	depth    int
}

// maxParseDepth bounds the nesting of an expression, so that no expression
// can exhaust the stack while it is parsed.
const maxParseDepth = 1000

// parse turns source into the processed syntax tree.
func parse(source string) *node {
	p := &parser{lx: &lexer{src: []rune(source)}}
	p.advance("", false)
	expr := p.expression(0)
	if p.node.id != "(end)" {
		throw(&Error{Code: "S0201", Position: p.node.pos, Token: tokenText(p.node.value)})
	}
	expr = p.process(expr)
	if expr.typ == "parent" || expr.seekingParent != nil {
		throw(&Error{Code: "S0217", Position: expr.pos, Token: expr.typ})
	}
	return expr
}

func tokenText(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case null:
		return "null"
	case *regexValue:
		return v.source
	default:
		return fmt.Sprint(v)
	}
}

var infixOps = map[string]bool{
	".": true, "+": true, "-": true, "*": true, "/": true, "%": true, "=": true, "<": true, ">": true,
	"!=": true, "<=": true, ">=": true, "&": true, "and": true, "or": true, "in": true, "~>": true,
	"??": true, "(": true, "[": true, "^": true, "{": true, ":=": true, "@": true, "#": true, "?": true, "?:": true,
}

var knownSymbols = map[string]bool{
	":": true, ";": true, ",": true, ")": true, "]": true, "}": true, "..": true, "|": true, "**": true,
}

func (p *parser) advance(id string, infix bool) *node {
	if id != "" && p.node.id != id {
		code := "S0202"
		if p.node.id == "(end)" {
			code = "S0203"
		}
		throw(&Error{Code: code, Position: p.node.pos, Token: tokenText(p.node.value), Value: id})
	}
	t := p.lx.next(infix)
	if t == nil {
		p.node = &node{id: "(end)", typ: "(end)", value: "(end)", pos: len(p.lx.src)}
		return p.node
	}
	n := &node{typ: t.typ, value: t.value, pos: t.pos}
	switch t.typ {
	case "name", "variable":
		n.id = "(name)"
	case "operator":
		op := t.value.(string)
		if !infixOps[op] && !knownSymbols[op] {
			throw(&Error{Code: "S0204", Position: t.pos, Token: op})
		}
		n.id = op
	case "string", "number", "value":
		n.id = "(literal)"
	case "regex":
		n.id = "(regex)"
	}
	p.node = n
	return n
}

func (p *parser) lbp(n *node) int {
	if infixOps[n.id] {
		return operators[n.id]
	}
	return 0
}

func (p *parser) expression(rbp int) *node {
	p.depth++
	if p.depth > maxParseDepth {
		throw(&Error{Code: "D1011", Position: p.node.pos})
	}
	defer func() { p.depth-- }()
	t := p.node
	p.advance("", true)
	left := p.nud(t)
	for rbp < p.lbp(p.node) {
		t = p.node
		p.advance("", false)
		left = p.led(t, left)
	}
	return left
}

func (p *parser) nud(t *node) *node {
	switch t.id {
	case "(name)", "(literal)", "(regex)", "(end)", "and", "or", "in":
		return t
	case "-":
		t.expr = p.expression(70)
		t.typ = "unary"
		return t
	case "*":
		t.typ = "wildcard"
		return t
	case "**":
		t.typ = "descendant"
		return t
	case "%":
		t.typ = "parent"
		return t
	case "(":
		var exprs []*node
		for p.node.id != ")" {
			exprs = append(exprs, p.expression(0))
			if p.node.id != ";" {
				break
			}
			p.advance(";", false)
		}
		p.advance(")", true)
		t.typ = "block"
		t.exprs = exprs
		return t
	case "[":
		var items []*node
		if p.node.id != "]" {
			for {
				item := p.expression(0)
				if p.node.id == ".." {
					r := &node{typ: "binary", value: "..", id: "..", pos: p.node.pos, lhs: item}
					p.advance("..", false)
					r.rhs = p.expression(0)
					item = r
				}
				items = append(items, item)
				if p.node.id != "," {
					break
				}
				p.advance(",", false)
			}
		}
		p.advance("]", true)
		t.exprs = items
		t.typ = "unary"
		return t
	case "{":
		t.pairs = p.objectPairs()
		t.typ = "unary"
		return t
	case "|":
		t.typ = "transform"
		t.pattern = p.expression(0)
		p.advance("|", false)
		t.update = p.expression(0)
		if p.node.id == "," {
			p.advance(",", false)
			t.del = p.expression(0)
		}
		p.advance("|", false)
		return t
	}
	throw(&Error{Code: "S0211", Position: t.pos, Token: tokenText(t.value)})
	return nil
}

func (p *parser) objectPairs() [][2]*node {
	var pairs [][2]*node
	if p.node.id != "}" {
		for {
			k := p.expression(0)
			p.advance(":", false)
			v := p.expression(0)
			pairs = append(pairs, [2]*node{k, v})
			if p.node.id != "," {
				break
			}
			p.advance(",", false)
		}
	}
	p.advance("}", true)
	return pairs
}

func (p *parser) led(t *node, left *node) *node {
	bp := operators[t.id]
	switch t.id {
	case "??":
		t.typ = "condition"
		t.cond = &node{typ: "function", value: "(", pos: t.pos, procedure: &node{typ: "variable", value: "exists", pos: t.pos}, args: []*node{left.clone()}}
		t.then = left
		t.els = p.expression(0)
		return t
	case "?:":
		t.typ = "condition"
		t.cond = left.clone()
		t.then = left
		t.els = p.expression(0)
		return t
	case "?":
		t.typ = "condition"
		t.cond = left
		t.then = p.expression(0)
		if p.node.id == ":" {
			p.advance(":", false)
			t.els = p.expression(0)
		}
		return t
	case "(":
		t.procedure = left
		t.typ = "function"
		if p.node.id != ")" {
			for {
				if p.node.typ == "operator" && p.node.id == "?" {
					t.typ = "partial"
					t.args = append(t.args, p.node)
					p.advance("?", false)
				} else {
					t.args = append(t.args, p.expression(0))
				}
				if p.node.id != "," {
					break
				}
				p.advance(",", false)
			}
		}
		p.advance(")", true)
		if left.typ == "name" && (left.value == "function" || left.value == "λ") {
			for i, a := range t.args {
				if a.typ != "variable" {
					throw(&Error{Code: "S0208", Position: a.pos, Token: tokenText(a.value), Value: float64(i + 1)})
				}
				t.params = append(t.params, a.str())
			}
			t.typ = "lambda"
			if p.node.id == "<" {
				sigPos := p.node.pos
				depth := 1
				sig := "<"
				for depth > 0 && p.node.id != "{" && p.node.id != "(end)" {
					tok := p.advance("", false)
					if tok.id == ">" {
						depth--
					} else if tok.id == "<" {
						depth++
					}
					sig += tokenText(tok.value)
				}
				p.advance(">", false)
				t.signature = parseSignature(sig, sigPos)
			}
			p.advance("{", false)
			t.body = p.expression(0)
			p.advance("}", false)
		}
		return t
	case "[":
		if p.node.id == "]" {
			step := left
			for step != nil && step.typ == "binary" && step.value == "[" {
				step = step.lhs
			}
			step.keepArray = true
			p.advance("]", false)
			return left
		}
		t.lhs = left
		t.rhs = p.expression(operators["]"])
		t.typ = "binary"
		p.advance("]", true)
		return t
	case "^":
		p.advance("(", false)
		var terms []sortTerm
		for {
			term := sortTerm{}
			if p.node.id == "<" {
				p.advance("<", false)
			} else if p.node.id == ">" {
				term.descending = true
				p.advance(">", false)
			}
			term.expr = p.expression(0)
			terms = append(terms, term)
			if p.node.id != "," {
				break
			}
			p.advance(",", false)
		}
		p.advance(")", false)
		t.lhs = left
		t.terms = terms
		t.typ = "binary"
		return t
	case "{":
		t.lhs = left
		t.pairs = p.objectPairs()
		t.typ = "binary"
		return t
	case ":=":
		if left.typ != "variable" {
			throw(&Error{Code: "S0212", Position: left.pos, Token: tokenText(left.value)})
		}
		t.lhs = left
		t.rhs = p.expression(bp - 1)
		t.typ = "binary"
		return t
	case "@", "#":
		t.lhs = left
		t.rhs = p.expression(bp)
		if t.rhs.typ != "variable" {
			throw(&Error{Code: "S0214", Position: t.rhs.pos, Token: t.id})
		}
		t.typ = "binary"
		return t
	}
	t.lhs = left
	t.rhs = p.expression(bp)
	t.typ = "binary"
	return t
}

func tailCallOptimize(e *node) *node {
	switch e.typ {
	case "function":
		if e.predicate == nil {
			return &node{typ: "lambda", thunk: true, pos: e.pos, body: e}
		}
	case "condition":
		e.then = tailCallOptimize(e.then)
		if e.els != nil {
			e.els = tailCallOptimize(e.els)
		}
	case "block":
		if n := len(e.exprs); n > 0 {
			e.exprs[n-1] = tailCallOptimize(e.exprs[n-1])
		}
	}
	return e
}

func (p *parser) seekParent(n *node, s *slot) *slot {
	switch n.typ {
	case "name", "wildcard":
		s.level--
		if s.level == 0 {
			if n.ancestor == nil {
				n.ancestor = s
			} else {
				p.ancestry[s.index].slot.label = n.ancestor.label
				n.ancestor = s
			}
			n.tuple = true
		}
	case "parent":
		s.level++
	case "block":
		if len(n.exprs) > 0 {
			n.tuple = true
			s = p.seekParent(n.exprs[len(n.exprs)-1], s)
		}
	case "path":
		n.tuple = true
		i := len(n.steps) - 1
		s = p.seekParent(n.steps[i], s)
		i--
		for s.level > 0 && i >= 0 {
			s = p.seekParent(n.steps[i], s)
			i--
		}
	default:
		throw(&Error{Code: "S0217", Position: n.pos, Token: n.typ})
	}
	return s
}

func pushAncestry(result, value *node) {
	if value.seekingParent != nil || value.typ == "parent" {
		slots := append([]*slot(nil), value.seekingParent...)
		if value.typ == "parent" {
			slots = append(slots, value.slot)
		}
		result.seekingParent = append(result.seekingParent, slots...)
	}
}

func (p *parser) resolveAncestry(path *node) {
	last := path.steps[len(path.steps)-1]
	slots := append([]*slot(nil), last.seekingParent...)
	if last.typ == "parent" {
		slots = append(slots, last.slot)
	}
	for _, s := range slots {
		i := len(path.steps) - 2
		for s.level > 0 {
			if i < 0 {
				path.seekingParent = append(path.seekingParent, s)
				break
			}
			step := path.steps[i]
			i--
			for i >= 0 && step.focus != "" && path.steps[i].focus != "" {
				step = path.steps[i]
				i--
			}
			s = p.seekParent(step, s)
		}
	}
}

// process rewrites the parser's tree into paths, steps, predicates and
// bindings.
func (p *parser) process(e *node) *node {
	var r *node
	switch e.typ {
	case "binary":
		switch e.value {
		case ".":
			l := p.process(e.lhs)
			if l.typ == "path" {
				r = l
			} else {
				r = &node{typ: "path", steps: []*node{l}}
			}
			if l.typ == "parent" {
				r.seekingParent = []*slot{l.slot}
			}
			rest := p.process(e.rhs)
			if rest.typ == "path" {
				r.steps = append(r.steps, rest.steps...)
			} else {
				if rest.predicate != nil {
					rest.stages = rest.predicate
					rest.predicate = nil
				}
				r.steps = append(r.steps, rest)
			}
			for _, s := range r.steps {
				if s.typ == "number" || s.typ == "value" {
					throw(&Error{Code: "S0213", Position: s.pos, Value: s.value})
				}
				if s.typ == "string" {
					s.typ = "name"
				}
				if s.keepArray {
					r.keepSingletonArray = true
				}
			}
			if f := r.steps[0]; f.typ == "unary" && f.value == "[" {
				f.consarray = true
			}
			if l := r.steps[len(r.steps)-1]; l.typ == "unary" && l.value == "[" {
				l.consarray = true
			}
			p.resolveAncestry(r)
		case "[":
			r = p.process(e.lhs)
			step := r
			isStages := false
			if r.typ == "path" {
				step = r.steps[len(r.steps)-1]
				isStages = true
			}
			if step.group != nil {
				throw(&Error{Code: "S0209", Position: e.pos})
			}
			pred := p.process(e.rhs)
			if pred.seekingParent != nil {
				for _, s := range pred.seekingParent {
					if s.level == 1 {
						p.seekParent(step, s)
					} else {
						s.level--
					}
				}
				pushAncestry(step, pred)
			}
			st := &stage{typ: "filter", expr: pred, pos: e.pos}
			if isStages {
				step.stages = append(step.stages, st)
			} else {
				step.predicate = append(step.predicate, st)
			}
		case "{":
			r = p.process(e.lhs)
			if r.group != nil {
				throw(&Error{Code: "S0210", Position: e.pos})
			}
			g := &groupExpr{pos: e.pos}
			for _, pr := range e.pairs {
				g.pairs = append(g.pairs, [2]*node{p.process(pr[0]), p.process(pr[1])})
			}
			r.group = g
		case "^":
			r = p.process(e.lhs)
			if r.typ != "path" {
				r = &node{typ: "path", steps: []*node{r}}
			}
			sortStep := &node{typ: "sort", pos: e.pos}
			for _, t := range e.terms {
				x := p.process(t.expr)
				pushAncestry(sortStep, x)
				sortStep.terms = append(sortStep.terms, sortTerm{t.descending, x})
			}
			r.steps = append(r.steps, sortStep)
			p.resolveAncestry(r)
		case ":=":
			r = &node{typ: "bind", value: e.value, pos: e.pos}
			r.lhs = p.process(e.lhs)
			r.rhs = p.process(e.rhs)
			pushAncestry(r, r.rhs)
		case "@":
			r = p.process(e.lhs)
			step := r
			if r.typ == "path" {
				step = r.steps[len(r.steps)-1]
			}
			if step.stages != nil || step.predicate != nil {
				throw(&Error{Code: "S0215", Position: e.pos})
			}
			if step.typ == "sort" {
				throw(&Error{Code: "S0216", Position: e.pos})
			}
			if e.keepArray {
				step.keepArray = true
			}
			step.focus = e.rhs.str()
			step.tuple = true
		case "#":
			r = p.process(e.lhs)
			step := r
			if r.typ == "path" {
				step = r.steps[len(r.steps)-1]
			} else {
				r = &node{typ: "path", steps: []*node{r}}
				if step.predicate != nil {
					step.stages = step.predicate
					step.predicate = nil
				}
			}
			if step.stages == nil {
				step.index = e.rhs.str()
			} else {
				step.stages = append(step.stages, &stage{typ: "index", value: e.rhs.str(), pos: e.pos})
			}
			step.tuple = true
		case "~>":
			r = &node{typ: "apply", value: e.value, pos: e.pos}
			r.lhs = p.process(e.lhs)
			r.rhs = p.process(e.rhs)
			r.keepArray = r.lhs.keepArray || r.rhs.keepArray
		default:
			r = &node{typ: e.typ, value: e.value, pos: e.pos}
			r.lhs = p.process(e.lhs)
			r.rhs = p.process(e.rhs)
			pushAncestry(r, r.lhs)
			pushAncestry(r, r.rhs)
		}
	case "unary":
		r = &node{typ: e.typ, value: e.value, pos: e.pos}
		switch e.value {
		case "[":
			for _, it := range e.exprs {
				v := p.process(it)
				pushAncestry(r, v)
				r.exprs = append(r.exprs, v)
			}
			if r.exprs == nil {
				r.exprs = []*node{}
			}
		case "{":
			for _, pr := range e.pairs {
				k := p.process(pr[0])
				pushAncestry(r, k)
				v := p.process(pr[1])
				pushAncestry(r, v)
				r.pairs = append(r.pairs, [2]*node{k, v})
			}
		default:
			r.expr = p.process(e.expr)
			if e.value == "-" && r.expr.typ == "number" {
				r = r.expr
				r.value = -r.value.(float64)
			} else {
				pushAncestry(r, r.expr)
			}
		}
	case "function", "partial":
		r = &node{typ: e.typ, value: e.value, pos: e.pos}
		for _, a := range e.args {
			x := p.process(a)
			pushAncestry(r, x)
			r.args = append(r.args, x)
		}
		r.procedure = p.process(e.procedure)
	case "lambda":
		r = &node{typ: e.typ, params: e.params, signature: e.signature, pos: e.pos}
		r.body = tailCallOptimize(p.process(e.body))
	case "condition":
		r = &node{typ: e.typ, pos: e.pos}
		r.cond = p.process(e.cond)
		pushAncestry(r, r.cond)
		r.then = p.process(e.then)
		pushAncestry(r, r.then)
		if e.els != nil {
			r.els = p.process(e.els)
			pushAncestry(r, r.els)
		}
	case "transform":
		r = &node{typ: e.typ, pos: e.pos}
		r.pattern = p.process(e.pattern)
		r.update = p.process(e.update)
		if e.del != nil {
			r.del = p.process(e.del)
		}
	case "block":
		r = &node{typ: e.typ, pos: e.pos}
		for _, it := range e.exprs {
			x := p.process(it)
			pushAncestry(r, x)
			if x.consarray || (x.typ == "path" && x.steps[0].consarray) {
				r.consarray = true
			}
			r.exprs = append(r.exprs, x)
		}
	case "name":
		r = &node{typ: "path", steps: []*node{e}}
		if e.keepArray {
			r.keepSingletonArray = true
		}
	case "parent":
		r = &node{typ: "parent", pos: e.pos, slot: &slot{label: fmt.Sprintf("!%d", p.label), level: 1, index: len(p.ancestry)}}
		p.label++
		p.ancestry = append(p.ancestry, r)
	case "string", "number", "value", "wildcard", "descendant", "variable", "regex":
		r = e
	case "operator":
		switch e.value {
		case "and", "or", "in":
			e.typ = "name"
			r = p.process(e)
		case "?":
			r = e
		default:
			throw(&Error{Code: "S0201", Position: e.pos, Token: tokenText(e.value)})
		}
	default:
		code := "S0206"
		if e.id == "(end)" {
			code = "S0207"
		}
		throw(&Error{Code: code, Position: e.pos, Token: tokenText(e.value)})
	}
	if e.keepArray {
		r.keepArray = true
	}
	return r
}
