package expr

import (
	"strconv"

	"github.com/kiri-run/kiri/internal/service/dynamodb/attr"
)

// The parsers are hand-written recursive descent with backtracking, over the token list of the
// whole expression. A syntax error is reported at the furthest token any alternative failed to
// get past, as a PEG parser (and DynamoDB, in the cases captured) reports it.

type parser struct {
	src      string
	toks     []token
	i        int
	fail     int
	keywords []string // words of the grammar that cannot name an attribute
	cond     bool     // the condition grammar: operands nest in parentheses, path heads group
}

func newParser(src string, keywords []string, cond bool) *parser {
	return &parser{src: src, toks: lex(src), keywords: keywords, cond: cond}
}

func (p *parser) tok() token { return p.toks[p.i] }

func (p *parser) peek(k tokKind) bool { return p.toks[p.i].kind == k }

// miss records that the parse could not get past the current token.
func (p *parser) miss() {
	if p.i > p.fail {
		p.fail = p.i
	}
}

// accept consumes a token of kind k, or records a miss.
func (p *parser) accept(k tokKind) bool {
	if p.toks[p.i].kind == k {
		p.i++
		return true
	}
	p.miss()
	return false
}

// acceptWord consumes the keyword kw, or records a miss.
func (p *parser) acceptWord(kw string) bool {
	if p.toks[p.i].is(kw) {
		p.i++
		return true
	}
	p.miss()
	return false
}

func (p *parser) isKeyword(t token) bool {
	for _, kw := range p.keywords {
		if t.is(kw) {
			return true
		}
	}
	return false
}

// atEnd consumes the end of the expression, or records a miss.
func (p *parser) atEnd() bool { return p.accept(tEOF) }

// syntaxError returns the message for the furthest miss.
func (p *parser) syntaxError() string {
	at := p.fail
	if at >= len(p.toks) {
		at = len(p.toks) - 1
	}
	return syntaxMessage(p.src, p.toks, at)
}

// rawElem is one path element as written: an identifier, a #placeholder or a list index.
type rawElem struct {
	tok   token
	index int // for a tNumber; -1 otherwise
}

type opKind uint8

const (
	opPath  opKind = iota // a document path
	opValue               // a :placeholder
	opCall                // a function call
	opArith               // a + b or a - b (update expressions)
)

// operand is an operand as parsed, then resolved by the checks.
type operand struct {
	kind      opKind
	raw       []rawElem  // opPath as written
	path      Path       // opPath resolved
	ref       token      // opValue placeholder, opCall name, opArith operator
	val       attr.Value // opValue resolved
	args      []*operand // opCall arguments, opArith operands
	parens    int
	redundant bool // wrapped in two pairs of parentheses somewhere
}

// name returns the function or operator name of a call or arithmetic operand.
func (o *operand) name() string { return o.ref.text }

func (o *operand) wrap() {
	o.parens++
	if o.parens >= 2 {
		o.redundant = true
	}
}

// parseName reads the head of a path or a name after '.': an identifier that is not a keyword
// of the grammar, or a #placeholder.
func (p *parser) parseName() (rawElem, bool) {
	t := p.tok()
	if t.kind == tName || (t.kind == tIdent && !p.isKeyword(t)) {
		p.i++
		return rawElem{tok: t, index: -1}, true
	}
	p.miss()
	return rawElem{}, false
}

// parsePathTail reads the .name and [index] steps after a path's head.
func (p *parser) parsePathTail(elems []rawElem) ([]rawElem, bool) {
	for {
		switch p.tok().kind {
		case tDot:
			p.i++
			e, ok := p.parseName()
			if !ok {
				return nil, false
			}
			elems = append(elems, e)
		case tLBracket:
			p.i++
			t := p.tok()
			if t.kind != tNumber {
				p.miss()
				return nil, false
			}
			n, err := strconv.Atoi(t.text)
			if err != nil || n > 1<<31-1 {
				p.miss()
				return nil, false
			}
			p.i++
			if !p.accept(tRBracket) {
				return nil, false
			}
			elems = append(elems, rawElem{tok: t, index: n})
		default:
			return elems, true
		}
	}
}

// parsePath reads a path: a name, then steps.
func (p *parser) parsePath() (*operand, bool) {
	head, ok := p.parseName()
	if !ok {
		return nil, false
	}
	elems, ok := p.parsePathTail([]rawElem{head})
	if !ok {
		return nil, false
	}
	return &operand{kind: opPath, raw: elems}, true
}

// parseOperand reads a path, a :placeholder or a function call. In the condition grammar an
// operand may be parenthesized (twice is redundant) and a parenthesized path may continue
// ("(a.b).c"); in the update grammar one pair of parentheses is allowed.
func (p *parser) parseOperand() (*operand, bool) {
	save := p.i
	if p.peek(tLParen) {
		p.i++
		var inner *operand
		var ok bool
		if p.cond {
			inner, ok = p.parseOperand()
		} else {
			inner, ok = p.parseBareOperand()
		}
		if !ok || !p.accept(tRParen) {
			p.i = save
			return nil, false
		}
		inner.wrap()
		if p.cond && inner.kind == opPath && (p.peek(tDot) || p.peek(tLBracket)) {
			elems, ok := p.parsePathTail(append([]rawElem(nil), inner.raw...))
			if !ok {
				p.i = save
				return nil, false
			}
			inner = &operand{kind: opPath, raw: elems, redundant: inner.redundant}
		}
		return inner, true
	}
	return p.parseBareOperand()
}

func (p *parser) parseBareOperand() (*operand, bool) {
	t := p.tok()
	switch {
	case t.kind == tValue:
		p.i++
		return &operand{kind: opValue, ref: t}, true
	case t.kind == tIdent && !p.isKeyword(t) && p.toks[p.i+1].kind == tLParen:
		save := p.i
		p.i += 2
		call := &operand{kind: opCall, ref: t}
		for {
			arg, ok := p.parseOperand()
			if !ok {
				p.i = save
				return nil, false
			}
			call.args = append(call.args, arg)
			if p.peek(tComma) {
				p.i++
				continue
			}
			if !p.accept(tRParen) {
				p.i = save
				return nil, false
			}
			return call, true
		}
	}
	return p.parsePath()
}

// walkOperands calls f on o and every operand within it, arguments before the call (the order
// DynamoDB completes them in).
func walkOperands(o *operand, f func(*operand)) {
	for _, a := range o.args {
		walkOperands(a, f)
	}
	f(o)
}

// resolver resolves the placeholders and checks the raw names of one expression, keeping the
// first error of each kind DynamoDB ranks.
type resolver struct {
	params   *Params
	reserved string // the first reserved word used as a name
	undef    string // the first undefined placeholder's message
}

// resolvePath resolves an operand's path, noting reserved words and undefined names.
func (r *resolver) resolvePath(o *operand) {
	o.path = make(Path, len(o.raw))
	for i, e := range o.raw {
		switch {
		case e.index >= 0:
			o.path[i] = PathElem{Index: e.index}
		case e.tok.kind == tName:
			n, ok := r.params.name(e.tok.text)
			if !ok && r.undef == "" {
				r.undef = msgUndefinedName(e.tok.text)
			}
			o.path[i] = PathElem{Name: n, Index: -1}
		default:
			if r.reserved == "" && isReserved(e.tok.text) {
				r.reserved = e.tok.text
			}
			o.path[i] = PathElem{Name: e.tok.text, Index: -1}
		}
	}
}

// resolveValue resolves a :placeholder, noting an undefined one.
func (r *resolver) resolveValue(o *operand) {
	v, ok := r.params.value(o.ref.text)
	if !ok && r.undef == "" {
		r.undef = msgUndefinedValue(o.ref.text)
	}
	o.val = v
}

// resolve resolves every path and placeholder within o.
func (r *resolver) resolve(o *operand) {
	walkOperands(o, func(o *operand) {
		switch o.kind {
		case opPath:
			r.resolvePath(o)
		case opValue:
			r.resolveValue(o)
		}
	})
}
