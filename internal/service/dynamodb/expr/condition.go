package expr

import (
	"slices"

	"github.com/kiri-run/kiri/internal/service/dynamodb/attr"
)

// condKeywords cannot name attributes in conditions.
var condKeywords = []string{"AND", "OR", "NOT", "BETWEEN", "IN"}

type nodeKind uint8

const (
	nAnd     nodeKind = iota
	nOr               // a OR b
	nNot              // NOT a
	nCompare          // a = b, a <> b, a < b, a <= b, a > b, a >= b
	nBetween          // a BETWEEN b AND c
	nIn               // a IN (b, c, …)
	nFunc             // attribute_exists(a), begins_with(a, b), …
)

// node is one node of a condition: a connective over kids, or a leaf test over args.
type node struct {
	kind      nodeKind
	op        token // the comparator, keyword or function name as written
	kids      []*node
	args      []*operand
	parens    int
	redundant bool
}

func (n *node) wrap() {
	n.parens++
	if n.parens >= 2 {
		n.redundant = true
	}
}

func (n *node) leaf() bool { return n.kind >= nCompare }

// Condition is a parsed ConditionExpression or FilterExpression, or a legacy Expected,
// QueryFilter or ScanFilter translated to one: a test of an item. It is safe for concurrent
// use once parsed.
type Condition struct {
	root *node
}

// Condition parses a ConditionExpression (kind KindCondition) or FilterExpression
// (KindFilter), checks it as DynamoDB does and resolves its placeholders.
func (p *Params) Condition(kind, src string) (*Condition, error) {
	root, err := p.parseCondition(kind, src, false)
	if err != nil {
		return nil, err
	}
	return &Condition{root: root}, nil
}

func (p *Params) parseCondition(kind, src string, key bool) (*node, error) {
	if err := emptyCheck(kind, src); err != nil {
		return nil, err
	}
	ps := newParser(src, condKeywords, true)
	root, ok := ps.parseOr()
	if !ok || !ps.atEnd() {
		return nil, invalidExpr(kind, ps.syntaxError())
	}
	if msg := checkCondition(root, p, key); msg != "" {
		return nil, invalidExpr(kind, msg)
	}
	return root, nil
}

func (p *parser) parseOr() (*node, bool) {
	x, ok := p.parseAnd()
	for ok && p.tok().is("OR") {
		op := p.tok()
		p.i++
		var y *node
		if y, ok = p.parseAnd(); ok {
			x = &node{kind: nOr, op: op, kids: []*node{x, y}}
		}
	}
	return x, ok
}

func (p *parser) parseAnd() (*node, bool) {
	x, ok := p.parseNot()
	for ok && p.tok().is("AND") {
		op := p.tok()
		p.i++
		var y *node
		if y, ok = p.parseNot(); ok {
			x = &node{kind: nAnd, op: op, kids: []*node{x, y}}
		}
	}
	return x, ok
}

func (p *parser) parseNot() (*node, bool) {
	if t := p.tok(); t.is("NOT") {
		p.i++
		x, ok := p.parseNot()
		if !ok {
			return nil, false
		}
		return &node{kind: nNot, op: t, kids: []*node{x}}, true
	}
	return p.parsePrimary()
}

// parsePrimary reads a test, or a parenthesized condition. A test is tried first, so that
// "(a) < b" and "(size(a)) > b" are tests with parenthesized operands.
func (p *parser) parsePrimary() (*node, bool) {
	save := p.i
	if n, ok := p.parseTest(); ok {
		return n, true
	}
	p.i = save
	if p.accept(tLParen) {
		if n, ok := p.parseOr(); ok && p.accept(tRParen) {
			n.wrap()
			return n, true
		}
	}
	p.i = save
	return nil, false
}

func isComparator(k tokKind) bool { return k >= tEq && k <= tGe }

func (p *parser) parseTest() (*node, bool) {
	x, ok := p.parseOperand()
	if !ok {
		return nil, false
	}
	t := p.tok()
	switch {
	case isComparator(t.kind):
		p.i++
		y, ok := p.parseOperand()
		if !ok {
			return nil, false
		}
		return &node{kind: nCompare, op: t, args: []*operand{x, y}}, true
	case t.is("BETWEEN"):
		p.i++
		lo, ok := p.parseOperand()
		if !ok || !p.acceptWord("AND") {
			return nil, false
		}
		hi, ok := p.parseOperand()
		if !ok {
			return nil, false
		}
		return &node{kind: nBetween, op: t, args: []*operand{x, lo, hi}}, true
	case t.is("IN"):
		p.i++
		if !p.accept(tLParen) {
			return nil, false
		}
		n := &node{kind: nIn, op: t, args: []*operand{x}}
		for {
			y, ok := p.parseOperand()
			if !ok {
				return nil, false
			}
			n.args = append(n.args, y)
			if p.peek(tComma) {
				p.i++
				continue
			}
			if !p.accept(tRParen) {
				return nil, false
			}
			return n, true
		}
	case x.kind == opCall && x.parens == 0:
		return &node{kind: nFunc, op: x.ref, args: []*operand{x}}, true
	}
	p.miss()
	return nil, false
}

// walkNodes calls f on every node of n, in source order, connectives before their kids.
func walkNodes(n *node, f func(*node)) {
	f(n)
	for _, k := range n.kids {
		walkNodes(k, f)
	}
}

// conditionFunctions are the functions of conditions and their operand counts.
var conditionFunctions = map[string]int{
	"attribute_exists": 1, "attribute_not_exists": 1, "attribute_type": 2,
	"begins_with": 2, "contains": 2, "size": 1,
}

// checkCondition resolves the placeholders of a parsed condition and refuses it as DynamoDB
// does, in DynamoDB's order of precedence: redundant parentheses, an unknown function, a
// function used where it cannot be, a reserved word, too many operators, then the first test
// with a problem (an undefined placeholder, a wrong operand count, operands that are not
// distinct, an operand of the wrong type). key adds the key condition's operand types.
func checkCondition(root *node, params *Params, key bool) string {
	var leaves []*node
	redundant := false
	operators := 0
	walkNodes(root, func(n *node) {
		operators++
		redundant = redundant || n.redundant
		if n.leaf() {
			leaves = append(leaves, n)
		}
	})
	r := &resolver{params: params}
	undef := make([]string, len(leaves))
	unknown, misused := "", ""
	for i, l := range leaves {
		r.undef = ""
		for _, a := range l.args {
			r.resolve(a)
			walkOperands(a, func(o *operand) {
				redundant = redundant || o.redundant
				if o.kind != opCall {
					return
				}
				if l.kind != nFunc || o != l.args[0] {
					operators++
				}
				if _, ok := conditionFunctions[o.name()]; !ok && unknown == "" {
					unknown = o.name()
				}
				for _, arg := range o.args {
					if arg.kind == opCall && arg.name() != "size" && misused == "" {
						misused = arg.name()
					}
				}
			})
		}
		undef[i] = r.undef
		if l.kind == nFunc {
			if l.op.text == "size" && misused == "" {
				misused = "size"
			}
		} else {
			for _, a := range l.args {
				if a.kind == opCall && a.name() != "size" && misused == "" {
					misused = a.name()
				}
			}
		}
	}
	switch {
	case redundant:
		return msgRedundantParens
	case unknown != "":
		return msgUnknownFunction(unknown)
	case misused != "":
		return msgMisusedFunction(misused)
	case r.reserved != "":
		return msgReserved(r.reserved)
	case operators > MaxOperators:
		return msgTooManyOperators(operators)
	}
	for i, l := range leaves {
		if msg := leafProblem(l, undef[i], key); msg != "" {
			return msg
		}
	}
	return ""
}

// leafProblem returns the first problem of one test, each check relying on the ones before.
func leafProblem(l *node, undef string, key bool) string {
	if undef != "" {
		return undef
	}
	if msg := leafCount(l); msg != "" {
		return msg
	}
	if msg := leafDistinct(l); msg != "" {
		return msg
	}
	return leafTypes(l, key)
}

// leafCount checks the operand counts of a test's functions and of IN.
func leafCount(l *node) string {
	msg := ""
	for _, a := range l.args {
		walkOperands(a, func(o *operand) {
			if o.kind == opCall && msg == "" && len(o.args) != conditionFunctions[o.name()] {
				msg = msgOperandCount(o.name(), len(o.args))
			}
		})
	}
	if msg == "" && l.kind == nIn && len(l.args)-1 > MaxInOperands {
		msg = msgTooManyIn(len(l.args) - 1)
	}
	return msg
}

// leafDistinct refuses a comparison or two-operand function whose operands are the same path.
func leafDistinct(l *node) string {
	msg := ""
	check := func(op string, a, b *operand) {
		if msg == "" && a.kind == opPath && b.kind == opPath && slices.Equal(a.path, b.path) {
			msg = msgNotDistinct(op, a.path)
		}
	}
	if l.kind == nCompare {
		check(l.op.text, l.args[0], l.args[1])
	}
	for _, a := range l.args {
		walkOperands(a, func(o *operand) {
			if o.kind == opCall && len(o.args) == 2 {
				check(o.name(), o.args[0], o.args[1])
			}
		})
	}
	return msg
}

// staticType is the type an operand is known to have before any item is read: a value's, or
// a function's result; None for a path.
func staticType(o *operand) attr.Type {
	switch o.kind {
	case opValue:
		return o.val.Type()
	case opCall:
		switch o.name() {
		case "size":
			return attr.N
		case "attribute_exists", "attribute_not_exists", "attribute_type", "begins_with", "contains":
			return attr.BOOL
		case "list_append":
			return attr.L
		case "if_not_exists":
			if len(o.args) == 2 {
				return staticType(o.args[1])
			}
		}
	case opArith:
		return attr.N
	}
	return attr.None
}

const anyTypeName = "{NS,SS,L,BS,N,M,B,BOOL,NULL,S}"

// leafTypes checks the operand types of a test's functions, of BETWEEN's bounds, and, in a key
// condition, of the values compared with a key.
func leafTypes(l *node, key bool) string {
	msg := ""
	for _, a := range l.args {
		walkOperands(a, func(o *operand) {
			if o.kind == opCall && msg == "" {
				msg = functionTypes(o)
			}
		})
	}
	if msg != "" {
		return msg
	}
	if key && (l.kind == nBetween || (l.kind == nCompare && l.op.kind != tEq)) {
		name := l.op.text
		if l.kind == nBetween {
			name = "BETWEEN"
		}
		for _, a := range l.args {
			if t := staticType(a); t != attr.None && !t.IsKey() {
				return msgOperandType(name, t.String())
			}
		}
	}
	if l.kind == nBetween {
		return betweenBounds(l.args[1], l.args[2])
	}
	return ""
}

func functionTypes(o *operand) string {
	name := o.name()
	switch name {
	case "attribute_exists", "attribute_not_exists":
		if o.args[0].kind != opPath {
			return msgNeedsPath(name)
		}
	case "begins_with":
		for _, a := range o.args {
			if t := staticType(a); t != attr.None && t != attr.S && t != attr.B {
				return msgOperandType(name, t.String())
			}
		}
	case "attribute_type":
		a := o.args[1]
		switch t := staticType(a); {
		case t == attr.None:
			return msgOperandType(name, anyTypeName)
		case t != attr.S:
			return msgOperandType(name, t.String())
		}
		if _, ok := attr.TypeNamed(a.val.Text()); !ok {
			return "Invalid attribute type name found; type: " + a.val.Text() + ", valid types: {B,NULL,SS,BOOL,L,BS,N,NS,S,M}"
		}
	case "size":
		if t := staticType(o.args[0]); t == attr.N || t == attr.BOOL || t == attr.NULL {
			return msgOperandType(name, t.String())
		}
	}
	return ""
}

// betweenBounds refuses bounds given as values that differ in type or are out of order.
func betweenBounds(lo, hi *operand) string {
	if lo.kind != opValue || hi.kind != opValue {
		return ""
	}
	a, b := lo.val, hi.val
	bounds := "lower bound operand: AttributeValue: {" + shortValue(a) + "}, upper bound operand: AttributeValue: {" + shortValue(b) + "}"
	if a.Type() != b.Type() {
		return "The BETWEEN operator requires same data type for lower and upper bounds; " + bounds
	}
	if c, ok := attr.Compare(a, b); ok && c > 0 {
		return "The BETWEEN operator requires upper bound to be greater than or equal to lower bound; " + bounds
	}
	return ""
}

// shortValue renders a value as DynamoDB does in BETWEEN messages: N:1, S:a.
func shortValue(v attr.Value) string {
	s := v.String()
	switch v.Type() {
	case attr.S, attr.N:
		s = v.Text()
	case attr.B:
		s = string(attr.AppendJSON(nil, v))
		s = s[len(`{"B":"`) : len(s)-2]
	}
	return v.Type().String() + ":" + s
}

// Eval reports whether item satisfies the condition. A nil item is an item that does not
// exist: every path is absent.
func (c *Condition) Eval(item attr.Item) bool { return c.root.eval(item) }

func (n *node) eval(item attr.Item) bool {
	switch n.kind {
	case nAnd:
		return n.kids[0].eval(item) && n.kids[1].eval(item)
	case nOr:
		return n.kids[0].eval(item) || n.kids[1].eval(item)
	case nNot:
		return !n.kids[0].eval(item)
	case nCompare:
		a, aok := n.args[0].eval(item)
		b, bok := n.args[1].eval(item)
		switch n.op.kind {
		case tEq:
			return aok && bok && attr.Equal(a, b)
		case tNe:
			// An absent operand differs from everything, another absent one included.
			return !aok || !bok || !attr.Equal(a, b)
		}
		if !aok || !bok {
			return false
		}
		c, ok := attr.Compare(a, b)
		if !ok {
			return false
		}
		switch n.op.kind {
		case tLt:
			return c < 0
		case tLe:
			return c <= 0
		case tGt:
			return c > 0
		}
		return c >= 0
	case nBetween:
		a, aok := n.args[0].eval(item)
		lo, lok := n.args[1].eval(item)
		hi, hok := n.args[2].eval(item)
		if !aok || !lok || !hok {
			return false
		}
		c1, ok1 := attr.Compare(lo, a)
		c2, ok2 := attr.Compare(a, hi)
		return ok1 && ok2 && c1 <= 0 && c2 <= 0
	case nIn:
		a, ok := n.args[0].eval(item)
		if !ok {
			return false
		}
		for _, o := range n.args[1:] {
			if b, ok := o.eval(item); ok && attr.Equal(a, b) {
				return true
			}
		}
		return false
	}
	return evalFunction(n.args[0], item)
}

func evalFunction(f *operand, item attr.Item) bool {
	switch f.name() {
	case "attribute_exists":
		_, ok := Lookup(item, f.args[0].path)
		return ok
	case "attribute_not_exists":
		_, ok := Lookup(item, f.args[0].path)
		return !ok
	case "attribute_type":
		v, ok := f.args[0].eval(item)
		t, tok := f.args[1].eval(item)
		return ok && tok && t.Type() == attr.S && v.Type().String() == t.Text()
	case "begins_with":
		a, aok := f.args[0].eval(item)
		b, bok := f.args[1].eval(item)
		return aok && bok && attr.HasPrefix(a, b)
	case "contains":
		a, aok := f.args[0].eval(item)
		b, bok := f.args[1].eval(item)
		return aok && bok && attr.Contains(a, b)
	}
	return false
}

// eval returns the operand's value in item, and false when it has none (an absent path, or
// size() of a value that has no size).
func (o *operand) eval(item attr.Item) (attr.Value, bool) {
	switch o.kind {
	case opPath:
		return Lookup(item, o.path)
	case opValue:
		return o.val, true
	case opCall:
		if o.name() == "size" {
			v, ok := o.args[0].eval(item)
			if !ok {
				return attr.Value{}, false
			}
			switch v.Type() {
			case attr.S, attr.B, attr.L, attr.M, attr.SS, attr.NS, attr.BS:
				return attr.Int(int64(v.Len())), true
			}
		}
	}
	return attr.Value{}, false
}

// Heads returns the top-level attribute names the condition reads, sorted, so that Query can
// refuse a filter on a key attribute.
func (c *Condition) Heads() []string {
	var heads []string
	walkNodes(c.root, func(n *node) {
		for _, a := range n.args {
			walkOperands(a, func(o *operand) {
				if o.kind == opPath && !slices.Contains(heads, o.path.Head()) {
					heads = append(heads, o.path.Head())
				}
			})
		}
	})
	slices.Sort(heads)
	return heads
}
