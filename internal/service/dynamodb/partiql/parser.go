package partiql

import (
	"strconv"
	"strings"
)

// MaxStatementSize is the longest statement DynamoDB accepts, in bytes.
const MaxStatementSize = 8192

// maxDepth bounds the nesting of expressions and literals.
const maxDepth = 64

// Error is a statement DynamoDB cannot parse; its message is DynamoDB's wording.
type Error struct{ Msg string }

func (e *Error) Error() string { return e.Msg }

type parser struct {
	toks   []token
	i      int
	params int
	depth  int
	err    error
}

// Parse parses one statement.
func Parse(src string) (*Statement, error) {
	if strings.TrimSpace(src) == "" {
		return nil, &Error{"Statement wasn't well formed, can't be processed: Empty statement"}
	}
	if len(src) > MaxStatementSize {
		return nil, &Error{"Statement wasn't well formed, can't be processed: Statement exceeds the maximum size of 8192 bytes"}
	}
	p := &parser{toks: lex(src)}
	st := p.statement()
	if p.err == nil && p.tok().kind != tEOF {
		p.fail()
	}
	if p.err != nil {
		return nil, p.err
	}
	st.Params = p.params
	return st, nil
}

func (p *parser) tok() token { return p.toks[p.i] }

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

// fail records a syntax error at the current token, once.
func (p *parser) fail() {
	if p.err != nil {
		return
	}
	t := p.tok()
	what := "unexpected token: " + strconv.Quote(t.text)
	if t.kind == tEOF {
		what = "unexpected end of statement"
	}
	p.err = &Error{"Statement wasn't well formed, can't be processed: " + what + " at position " + strconv.Itoa(t.pos+1)}
}

func (p *parser) word(kw string) bool {
	t := p.tok()
	if t.kind == tIdent && strings.EqualFold(t.text, kw) {
		p.i++
		return true
	}
	return false
}

func (p *parser) expectWord(kw string) {
	if !p.word(kw) {
		p.fail()
	}
}

func (p *parser) punct(s string) bool {
	t := p.tok()
	if t.kind == tPunct && t.text == s {
		p.i++
		return true
	}
	return false
}

func (p *parser) expectPunct(s string) {
	if !p.punct(s) {
		p.fail()
	}
}

func (p *parser) statement() *Statement {
	st := &Statement{}
	switch {
	case p.word("SELECT"):
		st.Kind = Select
		if !p.punct("*") {
			for {
				st.Projection = append(st.Projection, p.path())
				if !p.punct(",") || p.err != nil {
					break
				}
			}
		}
		p.expectWord("FROM")
		st.Table = p.name()
		if p.punct(".") {
			st.Index = p.name()
		}
		if p.word("WHERE") {
			st.Where = p.or()
		}
	case p.word("INSERT"):
		st.Kind = Insert
		p.expectWord("INTO")
		st.Table = p.name()
		p.expectWord("VALUE")
		st.Item = p.value()
	case p.word("UPDATE"):
		st.Kind = Update
		st.Table = p.name()
		for p.err == nil {
			if p.word("SET") {
				for {
					path := p.path()
					p.expectPunct("=")
					st.Sets = append(st.Sets, Set{Path: path, Value: p.arith()})
					if !p.punct(",") || p.err != nil {
						break
					}
				}
			} else if p.word("REMOVE") {
				for {
					st.Removes = append(st.Removes, p.path())
					if !p.punct(",") || p.err != nil {
						break
					}
				}
			} else {
				break
			}
		}
		if len(st.Sets) == 0 && len(st.Removes) == 0 {
			p.fail()
		}
		p.expectWord("WHERE")
		st.Where = p.or()
		st.Returning = p.returning()
	case p.word("DELETE"):
		st.Kind = Delete
		p.expectWord("FROM")
		st.Table = p.name()
		p.expectWord("WHERE")
		st.Where = p.or()
		st.Returning = p.returning()
	default:
		p.fail()
	}
	return st
}

// returning reads RETURNING ALL|MODIFIED OLD|NEW *.
func (p *parser) returning() string {
	if !p.word("RETURNING") {
		return ""
	}
	var which, when string
	switch {
	case p.word("ALL"):
		which = "ALL"
	case p.word("MODIFIED"):
		which = "MODIFIED"
	default:
		p.fail()
	}
	switch {
	case p.word("OLD"):
		when = "OLD"
	case p.word("NEW"):
		when = "NEW"
	default:
		p.fail()
	}
	p.expectPunct("*")
	return which + " " + when
}

// name reads a table or index name: quoted, or a bare word.
func (p *parser) name() string {
	t := p.tok()
	if t.kind == tQuoted || t.kind == tIdent {
		p.i++
		return t.text
	}
	p.fail()
	return ""
}

// path reads name(.name | [n] | ['key'])*.
func (p *parser) path() Path {
	var path Path
	t := p.tok()
	if t.kind != tIdent && t.kind != tQuoted {
		p.fail()
		return nil
	}
	p.i++
	path = append(path, PathElem{Name: t.text, Index: -1})
	for p.err == nil {
		switch {
		case p.punct("."):
			t := p.tok()
			if t.kind != tIdent && t.kind != tQuoted {
				p.fail()
				return nil
			}
			p.i++
			path = append(path, PathElem{Name: t.text, Index: -1})
		case p.punct("["):
			t := p.next()
			switch t.kind {
			case tNumber:
				n, err := strconv.Atoi(t.text)
				if err != nil || n < 0 {
					p.i--
					p.fail()
					return nil
				}
				path = append(path, PathElem{Index: n})
			case tString:
				path = append(path, PathElem{Name: t.text, Index: -1})
			default:
				p.i--
				p.fail()
				return nil
			}
			p.expectPunct("]")
		default:
			return path
		}
	}
	return path
}

func (p *parser) enter() bool {
	p.depth++
	if p.depth > maxDepth {
		if p.err == nil {
			p.err = &Error{"Statement wasn't well formed, can't be processed: Expression nesting exceeds the supported depth"}
		}
		return false
	}
	return true
}

func (p *parser) leave() { p.depth-- }

func (p *parser) or() Expr {
	x := p.and()
	for p.err == nil && p.word("OR") {
		x = &Binary{Op: "OR", L: x, R: p.and()}
	}
	return x
}

func (p *parser) and() Expr {
	x := p.not()
	for p.err == nil && p.word("AND") {
		x = &Binary{Op: "AND", L: x, R: p.not()}
	}
	return x
}

func (p *parser) not() Expr {
	if p.word("NOT") {
		if !p.enter() {
			return nil
		}
		defer p.leave()
		return &Not{X: p.not()}
	}
	return p.predicate()
}

var comparators = []string{"=", "<>", "!=", "<=", ">=", "<", ">"}

// predicate reads a comparison, BETWEEN, IN or IS [NOT] MISSING, or a value standing alone: a
// function call, or a parenthesized condition (value reads those, so nothing is parsed twice);
// the service refuses a lone value that is not a condition.
func (p *parser) predicate() Expr {
	x := p.arith()
	if p.err != nil {
		return nil
	}
	for _, c := range comparators {
		if p.punct(c) {
			op := c
			if op == "!=" {
				op = "<>"
			}
			return &Binary{Op: op, L: x, R: p.arith()}
		}
	}
	switch {
	case p.word("BETWEEN"):
		lo := p.arith()
		p.expectWord("AND")
		return &Between{X: x, Lo: lo, Hi: p.arith()}
	case p.word("IN"):
		var list []Expr
		closer := ")"
		if p.punct("[") {
			closer = "]"
		} else {
			p.expectPunct("(")
		}
		for p.err == nil {
			list = append(list, p.arith())
			if !p.punct(",") {
				break
			}
		}
		p.expectPunct(closer)
		return &In{X: x, List: list}
	case p.word("IS"):
		not := p.word("NOT")
		p.expectWord("MISSING")
		return &Missing{X: x, Not: not}
	}
	return x
}

// arith reads a value with + and -.
func (p *parser) arith() Expr {
	x := p.value()
	for p.err == nil {
		switch {
		case p.punct("+"):
			x = &Binary{Op: "+", L: x, R: p.value()}
		case p.punct("-"):
			x = &Binary{Op: "-", L: x, R: p.value()}
		default:
			return x
		}
	}
	return x
}

// value reads a literal, a parameter, a function call or a path.
func (p *parser) value() Expr {
	if !p.enter() {
		return nil
	}
	defer p.leave()
	t := p.tok()
	switch t.kind {
	case tString:
		p.i++
		return &Lit{Kind: LitString, Text: t.text}
	case tNumber:
		p.i++
		return &Lit{Kind: LitNumber, Text: t.text}
	case tParam:
		p.i++
		p.params++
		return &Param{Index: p.params - 1}
	case tPunct:
		switch t.text {
		case "-":
			p.i++
			n := p.tok()
			if n.kind != tNumber {
				p.fail()
				return nil
			}
			p.i++
			return &Lit{Kind: LitNumber, Text: "-" + n.text}
		case "[":
			p.i++
			l := &List{}
			if p.punct("]") {
				return l
			}
			for p.err == nil {
				l.Elems = append(l.Elems, p.value())
				if !p.punct(",") {
					break
				}
			}
			p.expectPunct("]")
			return l
		case "<<":
			p.i++
			s := &SetLit{}
			for p.err == nil {
				s.Elems = append(s.Elems, p.value())
				if !p.punct(",") {
					break
				}
			}
			p.expectPunct(">>")
			return s
		case "{":
			p.i++
			m := &Map{}
			if p.punct("}") {
				return m
			}
			for p.err == nil {
				k := p.tok()
				if k.kind != tString && k.kind != tQuoted {
					p.fail()
					return nil
				}
				p.i++
				p.expectPunct(":")
				m.Keys = append(m.Keys, k.text)
				m.Elems = append(m.Elems, p.value())
				if !p.punct(",") {
					break
				}
			}
			p.expectPunct("}")
			return m
		case "(":
			p.i++
			x := p.or()
			p.expectPunct(")")
			return x
		}
	case tIdent:
		switch strings.ToUpper(t.text) {
		case "TRUE", "FALSE":
			p.i++
			return &Lit{Kind: LitBool, Bool: strings.EqualFold(t.text, "TRUE")}
		case "NULL":
			p.i++
			return &Lit{Kind: LitNull}
		}
		if n := p.toks[p.i+1]; n.kind == tPunct && n.text == "(" {
			p.i += 2
			c := &Call{Name: strings.ToLower(t.text)}
			if !p.punct(")") {
				for p.err == nil {
					c.Args = append(c.Args, p.arith())
					if !p.punct(",") {
						break
					}
				}
				p.expectPunct(")")
			}
			return c
		}
		return &PathRef{Path: p.path()}
	case tQuoted:
		return &PathRef{Path: p.path()}
	}
	p.fail()
	return nil
}
