package vtl

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxDepth bounds the nesting of directives, expressions and values, so that neither
// parsing nor evaluation can exhaust the stack.
const maxDepth = 200

// ParseError is a template syntax error at a 1-based line and column, worded as
// Velocity words its parse errors.
type ParseError struct {
	Line, Column int
	Msg          string
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("%s at line %d, column %d.", e.Msg, e.Line, e.Column)
}

// Template is a parsed template, safe for concurrent use by many Execute calls.
type Template struct {
	src    string
	body   []node
	macros map[string]*macroNode
}

// Parse parses a Velocity template.
func Parse(src string) (t *Template, err error) {
	defer func() {
		if r := recover(); r != nil {
			t, err = nil, fmt.Errorf("vtl: parse failed: %v", r)
		}
	}()
	p := &parser{src: src, macros: map[string]*macroNode{}}
	body, term, err := p.parseBody(false)
	if err != nil {
		return nil, err
	}
	if term != "" {
		return nil, p.errorAt(p.termPos, fmt.Sprintf("Encountered \"#%s\"", term))
	}
	return &Template{src: src, body: body, macros: p.macros}, nil
}

type parser struct {
	src     string
	pos     int
	depth   int
	termPos int // where the last block terminator (#end, #else, #elseif) began
	macros  map[string]*macroNode
	inMacro bool
}

func (p *parser) errorAt(pos int, msg string) *ParseError {
	if pos > len(p.src) {
		pos = len(p.src)
	}
	line, col := 1, 1
	for _, r := range p.src[:pos] {
		if r == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return &ParseError{Line: line, Column: col, Msg: msg}
}

// encountered reports the token at pos as Velocity's parser does.
func (p *parser) encountered(pos int) *ParseError {
	if pos >= len(p.src) {
		return p.errorAt(pos, `Encountered "<EOF>"`)
	}
	end := pos + 1
	for end < len(p.src) && end-pos < 20 && isIdentChar(p.src[end]) && isIdentChar(p.src[pos]) {
		end++
	}
	for end < len(p.src) && !utf8.RuneStart(p.src[end]) {
		end++
	}
	return p.errorAt(pos, fmt.Sprintf("Encountered %q", p.src[pos:end]))
}

func (p *parser) enter(pos int) error {
	p.depth++
	if p.depth > maxDepth {
		return p.errorAt(pos, "Template nesting too deep")
	}
	return nil
}

func (p *parser) leave() { p.depth-- }

var directiveNames = map[string]bool{
	"if": true, "elseif": true, "else": true, "end": true, "set": true, "foreach": true,
	"define": true, "macro": true, "break": true, "stop": true,
	"include": true, "parse": true, "evaluate": true,
}

// parseBody parses statements up to the end of input or a block terminator (#end, #else,
// #elseif), which it returns without its arguments (the caller parses #elseif's condition).
func (p *parser) parseBody(inString bool) ([]node, string, error) {
	var out []node
	var text []byte
	boundary := p.pos // where the current run of plain text began
	flush := func() {
		if len(text) > 0 {
			out = append(out, &textNode{text: string(text)})
			text = nil
		}
	}
	add := func(n node) {
		flush()
		if n != nil {
			out = append(out, n)
		}
		boundary = p.pos
	}
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		switch c {
		case '$':
			if ref, ok, err := p.reference(p.pos, 0); err != nil {
				return nil, "", err
			} else if ok {
				add(ref)
				continue
			}
			text = append(text, '$')
			p.pos++
			boundary = p.pos
		case '\\':
			n := 0
			for p.pos+n < len(p.src) && p.src[p.pos+n] == '\\' {
				n++
			}
			after := p.pos + n
			if after < len(p.src) && p.src[after] == '$' {
				start := p.pos
				p.pos = after
				if ref, ok, err := p.reference(after, n); err != nil {
					return nil, "", err
				} else if ok {
					ref.pos = start
					add(ref)
					continue
				}
				text = append(text, p.src[start:after]...)
				continue
			}
			if after < len(p.src) && p.src[after] == '#' {
				if word, wlen := p.directiveWord(after + 1); directiveNames[word] || p.macros[word] != nil {
					text = append(text, strings.Repeat(`\`, n/2)...)
					if n%2 == 1 {
						text = append(text, p.src[after:after+1+wlen]...)
						p.pos = after + 1 + wlen
					} else {
						p.pos = after
					}
					boundary = p.pos
					continue
				}
			}
			text = append(text, p.src[p.pos:after]...)
			p.pos = after
			boundary = p.pos
		case '#':
			// #set eats the spaces and tabs before it when they begin a token.
			if p.isSet() {
				q := p.pos
				for q > 0 && (p.src[q-1] == ' ' || p.src[q-1] == '\t') {
					q--
				}
				if q == boundary || (q > 0 && strings.IndexByte("$#\\", p.src[q-1]) >= 0) {
					if drop := p.pos - q; drop <= len(text) {
						text = text[:len(text)-drop]
					}
				}
				n, err := p.parseSet()
				if err != nil {
					return nil, "", err
				}
				add(n)
				continue
			}
			n, term, handled, err := p.hash(inString)
			if err != nil {
				return nil, "", err
			}
			if term != "" {
				flush()
				return out, term, nil
			}
			if handled {
				add(n)
				continue
			}
			text = append(text, '#')
			p.pos++
			boundary = p.pos
		default:
			end := p.pos
			for end < len(p.src) && !isSpecial(p.src[end]) {
				end++
			}
			text = append(text, p.src[p.pos:end]...)
			p.pos = end
		}
	}
	flush()
	return out, "", nil
}

func isSpecial(c byte) bool { return c == '$' || c == '#' || c == '\\' }

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isIdentStart(c byte) bool { return isLetter(c) || c == '_' }

func isIdentChar(c byte) bool { return isLetter(c) || isDigit(c) || c == '_' || c == '-' }

// directiveWord returns the directive name at pos (after the #), as in #name or #{name},
// and the length of the text it spans.
func (p *parser) directiveWord(pos int) (string, int) {
	s := p.src
	if pos < len(s) && s[pos] == '{' {
		end := pos + 1
		if end >= len(s) || !(isLetter(s[end]) || s[end] == '_') {
			return "", 0
		}
		for end < len(s) && (isLetter(s[end]) || isDigit(s[end]) || s[end] == '_' || s[end] == '@') {
			end++
		}
		if end < len(s) && s[end] == '}' {
			return s[pos+1 : end], end + 1 - pos
		}
		return "", 0
	}
	end := pos
	if end >= len(s) || !(isLetter(s[end]) || s[end] == '_' || s[end] == '@') {
		return "", 0
	}
	for end < len(s) && (isLetter(s[end]) || isDigit(s[end]) || s[end] == '_' || s[end] == '@') {
		end++
	}
	return s[pos:end], end - pos
}

// isSet reports whether a #set( directive starts at p.pos.
func (p *parser) isSet() bool {
	word, n := p.directiveWord(p.pos + 1)
	if word != "set" {
		return false
	}
	q := p.pos + 1 + n
	for q < len(p.src) && p.src[q] == ' ' {
		q++
	}
	return q < len(p.src) && p.src[q] == '('
}

// eatLineEnd consumes spaces and tabs followed by a line break, as Velocity does after
// #end, #else and a directive's closing parenthesis; without a line break it eats nothing.
func (p *parser) eatLineEnd() {
	q := p.pos
	for q < len(p.src) && (p.src[q] == ' ' || p.src[q] == '\t') {
		q++
	}
	if q < len(p.src) && p.src[q] == '\n' {
		p.pos = q + 1
	} else if q < len(p.src) && p.src[q] == '\r' {
		p.pos = q + 1
		if p.pos < len(p.src) && p.src[p.pos] == '\n' {
			p.pos++
		}
	}
}

// hash handles a # at p.pos: comments, unparsed text and directives. handled is false
// when the # is plain text.
func (p *parser) hash(inString bool) (n node, term string, handled bool, err error) {
	s, start := p.src, p.pos
	switch {
	case strings.HasPrefix(s[start:], "##"):
		end := strings.IndexAny(s[start:], "\r\n")
		if end < 0 {
			p.pos = len(s)
		} else {
			p.pos = start + end + 1
			if s[start+end] == '\r' && p.pos < len(s) && s[p.pos] == '\n' {
				p.pos++
			}
		}
		return nil, "", true, nil
	case strings.HasPrefix(s[start:], "#[["):
		end := strings.Index(s[start+3:], "]]#")
		if end < 0 {
			return nil, "", false, p.errorAt(len(s), `Lexical error: encountered <EOF> inside #[[ ]]#`)
		}
		p.pos = start + 3 + end + 3
		return &textNode{text: s[start+3 : start+3+end]}, "", true, nil
	case strings.HasPrefix(s[start:], "#*"):
		end := strings.Index(s[start+2:], "*#")
		if end < 0 {
			return nil, "", false, p.errorAt(len(s), `Lexical error: encountered <EOF> inside a #* *# comment`)
		}
		p.pos = start + 2 + end + 2
		return nil, "", true, nil
	}
	word, wlen := p.directiveWord(start + 1)
	if word == "" {
		return nil, "", false, nil
	}
	after := start + 1 + wlen
	switch word {
	case "end", "else":
		p.termPos = start
		p.pos = after
		p.eatLineEnd()
		return nil, word, true, nil
	case "elseif":
		p.termPos = start
		p.pos = after
		return nil, word, true, nil
	case "if":
		p.pos = after
		n, err := p.parseIf()
		return n, "", true, err
	case "foreach":
		p.pos = after
		n, err := p.parseForeach(start)
		return n, "", true, err
	case "define":
		p.pos = after
		n, err := p.parseDefine(start)
		return n, "", true, err
	case "macro":
		p.pos = after
		err := p.parseMacro(start)
		return nil, "", true, err
	case "break":
		p.pos = after
		return &breakNode{}, "", true, nil
	case "stop":
		p.pos = after
		return &stopNode{}, "", true, nil
	}
	if m := p.macros[word]; m != nil {
		p.pos = after
		q := p.skipSpace(p.pos)
		if q >= len(s) || s[q] != '(' {
			p.pos = start
			return nil, "", false, nil
		}
		p.pos = q + 1
		args, err := p.directiveArgs(start)
		if err != nil {
			return nil, "", false, err
		}
		return &macroCall{pos: start, name: word, args: args}, "", true, nil
	}
	return nil, "", false, nil
}

func (p *parser) skipSpace(q int) int {
	for q < len(p.src) && strings.IndexByte(" \t\r\n", p.src[q]) >= 0 {
		q++
	}
	return q
}

// openParen consumes optional whitespace and the ( that opens a directive's arguments.
func (p *parser) openParen() error {
	q := p.skipSpace(p.pos)
	if q >= len(p.src) || p.src[q] != '(' {
		return p.encountered(q)
	}
	p.pos = q + 1
	return nil
}

// closeParen consumes optional whitespace, the ) that closes a directive's arguments and
// any spaces and line break after it.
func (p *parser) closeParen() error {
	q := p.skipSpace(p.pos)
	if q >= len(p.src) || p.src[q] != ')' {
		return p.encountered(q)
	}
	p.pos = q + 1
	p.eatLineEnd()
	return nil
}

func (p *parser) parseSet() (node, error) {
	start := p.pos
	_, wlen := p.directiveWord(start + 1)
	p.pos = start + 1 + wlen
	if err := p.openParen(); err != nil {
		return nil, err
	}
	q := p.skipSpace(p.pos)
	if q >= len(p.src) || p.src[q] != '$' {
		return nil, p.encountered(q)
	}
	ref, ok, err := p.reference(q, 0)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, p.encountered(q)
	}
	q = p.skipSpace(p.pos)
	if q >= len(p.src) || p.src[q] != '=' || strings.HasPrefix(p.src[q:], "==") {
		return nil, p.encountered(q)
	}
	p.pos = q + 1
	value, err := p.expression()
	if err != nil {
		return nil, err
	}
	if err := p.closeParen(); err != nil {
		return nil, err
	}
	return &setNode{pos: start, target: ref, value: value}, nil
}

func (p *parser) parseIf() (node, error) {
	if err := p.enter(p.pos); err != nil {
		return nil, err
	}
	defer p.leave()
	n := &ifNode{}
	for {
		if err := p.openParen(); err != nil {
			return nil, err
		}
		cond, err := p.expression()
		if err != nil {
			return nil, err
		}
		if err := p.closeParen(); err != nil {
			return nil, err
		}
		body, term, err := p.parseBody(false)
		if err != nil {
			return nil, err
		}
		n.conds = append(n.conds, cond)
		n.blocks = append(n.blocks, body)
		switch term {
		case "elseif":
			continue
		case "else":
			body, term, err := p.parseBody(false)
			if err != nil {
				return nil, err
			}
			if term != "end" {
				return nil, p.unterminated(term)
			}
			n.orElse = body
			return n, nil
		case "end":
			return n, nil
		default:
			return nil, p.unterminated(term)
		}
	}
}

// unterminated reports a block that ended at term (or the end of input) instead of #end.
func (p *parser) unterminated(term string) error {
	if term == "" {
		return p.errorAt(len(p.src), `Encountered "<EOF>"`)
	}
	return p.errorAt(p.termPos, fmt.Sprintf("Encountered \"#%s\"", term))
}

// block parses a directive's body up to its #end.
func (p *parser) block() ([]node, error) {
	if err := p.enter(p.pos); err != nil {
		return nil, err
	}
	defer p.leave()
	body, term, err := p.parseBody(false)
	if err != nil {
		return nil, err
	}
	if term != "end" {
		return nil, p.unterminated(term)
	}
	return body, nil
}

func (p *parser) parseForeach(start int) (node, error) {
	if err := p.openParen(); err != nil {
		return nil, err
	}
	q := p.skipSpace(p.pos)
	if q >= len(p.src) || p.src[q] != '$' {
		return nil, p.encountered(q)
	}
	ref, ok, err := p.reference(q, 0)
	if err != nil {
		return nil, err
	}
	if !ok || len(ref.parts) > 0 || ref.quiet {
		return nil, p.errorAt(q, "Invalid arg #0 in directive #foreach")
	}
	q = p.skipSpace(p.pos)
	if !strings.HasPrefix(p.src[q:], "in") || q+2 < len(p.src) && isIdentChar(p.src[q+2]) {
		return nil, p.errorAt(q, "Invalid arg #1 in directive #foreach")
	}
	p.pos = q + 2
	list, err := p.expression()
	if err != nil {
		return nil, err
	}
	if err := p.closeParen(); err != nil {
		return nil, err
	}
	body, err := p.block()
	if err != nil {
		return nil, err
	}
	return &foreachNode{pos: start, name: ref.name, list: list, body: body}, nil
}

func (p *parser) parseDefine(start int) (node, error) {
	if err := p.openParen(); err != nil {
		return nil, err
	}
	q := p.skipSpace(p.pos)
	ref, ok, err := p.reference(q, 0)
	if err != nil {
		return nil, err
	}
	if !ok || len(ref.parts) > 0 {
		return nil, p.errorAt(q, "Invalid arg #0 in directive #define")
	}
	if err := p.closeParen(); err != nil {
		return nil, err
	}
	body, err := p.block()
	if err != nil {
		return nil, err
	}
	return &defineNode{name: ref.name, body: body}, nil
}

func (p *parser) parseMacro(start int) error {
	if err := p.openParen(); err != nil {
		return err
	}
	q := p.skipSpace(p.pos)
	name, n := p.directiveWord(q)
	if name == "" || p.src[q] == '{' {
		return p.errorAt(q, "Invalid first arg in #macro() directive - must be a word token (no ' or \" surrounding)")
	}
	p.pos = q + n
	m := &macroNode{name: name}
	for {
		q = p.skipSpace(p.pos)
		if q < len(p.src) && p.src[q] == ',' {
			q = p.skipSpace(q + 1)
		}
		if q < len(p.src) && p.src[q] == ')' {
			break
		}
		if q >= len(p.src) || p.src[q] != '$' {
			return p.encountered(q)
		}
		ref, ok, err := p.reference(q, 0)
		if err != nil {
			return err
		}
		if !ok || len(ref.parts) > 0 {
			return p.errorAt(q, "Invalid arg in #macro() directive")
		}
		m.params = append(m.params, ref.name)
	}
	p.pos = q
	if err := p.closeParen(); err != nil {
		return err
	}
	p.macros[name] = m // visible in its own body, for recursion
	body, err := p.block()
	if err != nil {
		return err
	}
	m.body = body
	return nil
}

// directiveArgs parses a macro call's whitespace- or comma-separated arguments up to ).
func (p *parser) directiveArgs(start int) ([]expr, error) {
	var args []expr
	for {
		q := p.skipSpace(p.pos)
		if q < len(p.src) && p.src[q] == ',' {
			q = p.skipSpace(q + 1)
		}
		if q < len(p.src) && p.src[q] == ')' {
			p.pos = q
			return args, p.closeParen()
		}
		p.pos = q
		e, err := p.primary()
		if err != nil {
			return nil, err
		}
		args = append(args, e)
	}
}

// reference parses a reference whose $ is at pos, preceded by escapes backslashes. ok is
// false when the text there is not a reference (then p.pos is unchanged).
func (p *parser) reference(pos, escapes int) (ref *refNode, ok bool, err error) {
	s := p.src
	q := pos + 1
	quiet := false
	if q < len(s) && s[q] == '!' {
		quiet = true
		q++
	}
	formal := false
	if q < len(s) && s[q] == '{' {
		formal = true
		q++
	}
	if q >= len(s) || !isIdentStart(s[q]) {
		return nil, false, nil
	}
	end := q
	for end < len(s) && isIdentChar(s[end]) {
		end++
	}
	if err := p.enter(pos); err != nil {
		return nil, false, err
	}
	defer p.leave()
	ref = &refNode{pos: pos, escapes: escapes, quiet: quiet, name: s[q:end]}
	save := p.pos
	p.pos = end
	for p.pos < len(s) {
		c := s[p.pos]
		if c == '.' && p.pos+1 < len(s) && isLetter(s[p.pos+1]) {
			nameStart := p.pos + 1
			e := nameStart
			for e < len(s) && isIdentChar(s[e]) {
				e++
			}
			part := refPart{kind: partProperty, pos: nameStart, name: s[nameStart:e]}
			p.pos = e
			if e < len(s) && s[e] == '(' {
				p.pos = e + 1
				args, err := p.callArgs()
				if err != nil {
					return nil, false, err
				}
				part.kind, part.args = partMethod, args
			}
			ref.parts = append(ref.parts, part)
			continue
		}
		if c == '[' {
			idxPos := p.pos
			p.pos++
			p.pos = p.skipSpace(p.pos)
			e, err := p.primary()
			if err != nil {
				return nil, false, err
			}
			q := p.skipSpace(p.pos)
			if q >= len(s) || s[q] != ']' {
				return nil, false, p.encountered(q)
			}
			p.pos = q + 1
			ref.parts = append(ref.parts, refPart{kind: partIndex, pos: idxPos, args: []expr{e}})
			continue
		}
		break
	}
	if formal {
		if p.pos >= len(s) || s[p.pos] != '}' {
			p.pos = save
			return nil, false, nil
		}
		p.pos++
	}
	ref.literal = s[pos:p.pos]
	return ref, true, nil
}

// callArgs parses a method call's comma-separated arguments after its (.
func (p *parser) callArgs() ([]expr, error) {
	var args []expr
	q := p.skipSpace(p.pos)
	if q < len(p.src) && p.src[q] == ')' {
		p.pos = q + 1
		return args, nil
	}
	for {
		e, err := p.expression()
		if err != nil {
			return nil, err
		}
		args = append(args, e)
		q = p.skipSpace(p.pos)
		if q < len(p.src) && p.src[q] == ',' {
			p.pos = q + 1
			continue
		}
		if q < len(p.src) && p.src[q] == ')' {
			p.pos = q + 1
			return args, nil
		}
		return nil, p.encountered(q)
	}
}

// Expressions, lowest precedence first.

func (p *parser) expression() (expr, error) {
	if err := p.enter(p.pos); err != nil {
		return nil, err
	}
	defer p.leave()
	return p.binary(0)
}

var precedence = [][]string{
	{"||", "or"},
	{"&&", "and"},
	{"==", "!=", "eq", "ne"},
	{"<=", ">=", "<", ">", "le", "ge", "lt", "gt"},
	{"+", "-"},
	{"*", "/", "%"},
}

var wordOps = map[string]string{"or": "||", "and": "&&", "eq": "==", "ne": "!=", "le": "<=", "ge": ">=", "lt": "<", "gt": ">"}

func (p *parser) binary(level int) (expr, error) {
	if level == len(precedence) {
		return p.unary()
	}
	left, err := p.binary(level + 1)
	if err != nil {
		return nil, err
	}
	for {
		q := p.skipSpace(p.pos)
		op := p.operatorAt(q, precedence[level])
		if op == "" {
			return left, nil
		}
		p.pos = q + len(op)
		right, err := p.binary(level + 1)
		if err != nil {
			return nil, err
		}
		if w, ok := wordOps[op]; ok {
			op = w
		}
		left = &binaryExpr{pos: q, op: op, left: left, right: right}
	}
}

func (p *parser) operatorAt(q int, ops []string) string {
	s := p.src[q:]
	for _, op := range ops {
		if !strings.HasPrefix(s, op) {
			continue
		}
		if isLetter(op[0]) && len(s) > len(op) && isIdentChar(s[len(op)]) {
			continue
		}
		// "<" must not take the start of "<=", nor "=" of "==" be read as an operator here.
		if (op == "<" || op == ">") && len(s) > 1 && s[1] == '=' {
			continue
		}
		return op
	}
	return ""
}

func (p *parser) unary() (expr, error) {
	q := p.skipSpace(p.pos)
	s := p.src[q:]
	if strings.HasPrefix(s, "!") && !strings.HasPrefix(s, "!=") {
		p.pos = q + 1
		if err := p.enter(q); err != nil {
			return nil, err
		}
		defer p.leave()
		e, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &notExpr{operand: e}, nil
	}
	if strings.HasPrefix(s, "not") && (len(s) == 3 || !isIdentChar(s[3])) {
		p.pos = q + 3
		if err := p.enter(q); err != nil {
			return nil, err
		}
		defer p.leave()
		e, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &notExpr{operand: e}, nil
	}
	p.pos = q
	return p.primary()
}

func (p *parser) primary() (expr, error) {
	q := p.skipSpace(p.pos)
	p.pos = q
	if q >= len(p.src) {
		return nil, p.encountered(q)
	}
	s := p.src[q:]
	switch c := s[0]; {
	case c == '$':
		ref, ok, err := p.reference(q, 0)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, p.encountered(q)
		}
		return ref, nil
	case c == '"' || c == '\'':
		return p.stringLiteral()
	case isDigit(c) || (c == '-' || c == '.') && len(s) > 1 && (isDigit(s[1]) || s[1] == '.' && c == '-' && len(s) > 2 && isDigit(s[2])):
		return p.numberLiteral()
	case c == '[':
		return p.listLiteral()
	case c == '{':
		return p.mapLiteral()
	case c == '(':
		p.pos = q + 1
		e, err := p.expression()
		if err != nil {
			return nil, err
		}
		r := p.skipSpace(p.pos)
		if r >= len(p.src) || p.src[r] != ')' {
			return nil, p.encountered(r)
		}
		p.pos = r + 1
		return e, nil
	case strings.HasPrefix(s, "true") && (len(s) == 4 || !isIdentChar(s[4])):
		p.pos = q + 4
		return &literal{value: true}, nil
	case strings.HasPrefix(s, "false") && (len(s) == 5 || !isIdentChar(s[5])):
		p.pos = q + 5
		return &literal{value: false}, nil
	}
	return nil, p.encountered(q)
}

func (p *parser) numberLiteral() (expr, error) {
	s, q := p.src, p.pos
	end := q
	if s[end] == '-' {
		end++
	}
	for end < len(s) && isDigit(s[end]) {
		end++
	}
	isFloat := false
	if end < len(s) && s[end] == '.' && !(end+1 < len(s) && s[end+1] == '.') {
		isFloat = true
		end++
		for end < len(s) && isDigit(s[end]) {
			end++
		}
	}
	if end < len(s) && (s[end] == 'e' || s[end] == 'E') {
		e := end + 1
		if e < len(s) && (s[e] == '+' || s[e] == '-') {
			e++
		}
		if e < len(s) && isDigit(s[e]) {
			for e < len(s) && isDigit(s[e]) {
				e++
			}
			isFloat, end = true, e
		}
	}
	text := s[q:end]
	p.pos = end
	if isFloat {
		f, err := strconv.ParseFloat(text, 64)
		if err != nil {
			return nil, p.encountered(q)
		}
		return &literal{value: f}, nil
	}
	n, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		return nil, p.errorAt(q, fmt.Sprintf("Invalid integer literal %q", text))
	}
	return &literal{value: n}, nil
}

func (p *parser) stringLiteral() (expr, error) {
	s, q := p.src, p.pos
	quote := s[q]
	var b strings.Builder
	i := q + 1
	for {
		if i >= len(s) {
			return nil, p.errorAt(q, "Lexical error: unterminated string literal")
		}
		if s[i] == quote {
			if i+1 < len(s) && s[i+1] == quote {
				b.WriteByte(quote)
				i += 2
				continue
			}
			break
		}
		b.WriteByte(s[i])
		i++
	}
	p.pos = i + 1
	content := b.String()
	if quote == '\'' {
		return &literal{value: content}, nil
	}
	content = unescapeUnicode(content)
	if !strings.ContainsAny(content, "$#") {
		return &literal{value: content}, nil
	}
	// Velocity parses an interpolated string as a template of its own, with a space
	// appended (unless it holds a ## comment) that it removes after rendering.
	if !strings.Contains(content, "##") {
		content += " "
	}
	if err := p.enter(q); err != nil {
		return nil, err
	}
	defer p.leave()
	sub := &parser{src: content, macros: p.macros, depth: p.depth}
	body, term, err := sub.parseBody(true)
	if err != nil {
		if pe, ok := err.(*ParseError); ok {
			return nil, p.errorAt(q, "Failed to parse String literal: "+pe.Error())
		}
		return nil, err
	}
	if term != "" {
		return nil, p.errorAt(q, fmt.Sprintf("Failed to parse String literal: Encountered \"#%s\"", term))
	}
	return &interpolated{body: trimAppendedSpace(body, !strings.Contains(b.String(), "##"))}, nil
}

// trimAppendedSpace removes the space Velocity appended to an interpolated string when it
// is still the last character of the parsed body.
func trimAppendedSpace(body []node, appended bool) []node {
	if !appended || len(body) == 0 {
		return body
	}
	if t, ok := body[len(body)-1].(*textNode); ok && strings.HasSuffix(t.text, " ") {
		t.text = t.text[:len(t.text)-1]
		if t.text == "" {
			body = body[:len(body)-1]
		}
		return body
	}
	// The space was consumed (e.g. by a directive); Velocity then trims the last
	// rendered character, which we mark for the evaluator.
	return append(body, trimLast{})
}

// trimLast asks the evaluator to drop the last rendered character of an interpolated string.
type trimLast struct{}

func unescapeUnicode(s string) string {
	if !strings.Contains(s, `\u`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+5 < len(s) && s[i+1] == 'u' {
			if n, err := strconv.ParseUint(s[i+2:i+6], 16, 16); err == nil {
				b.WriteRune(rune(n))
				i += 5
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func (p *parser) listLiteral() (expr, error) {
	start := p.pos
	p.pos++
	q := p.skipSpace(p.pos)
	if q < len(p.src) && p.src[q] == ']' {
		p.pos = q + 1
		return &listExpr{}, nil
	}
	first, err := p.expression()
	if err != nil {
		return nil, err
	}
	q = p.skipSpace(p.pos)
	if strings.HasPrefix(p.src[q:], "..") {
		p.pos = q + 2
		last, err := p.expression()
		if err != nil {
			return nil, err
		}
		r := p.skipSpace(p.pos)
		if r >= len(p.src) || p.src[r] != ']' {
			return nil, p.encountered(r)
		}
		p.pos = r + 1
		return &rangeExpr{from: first, to: last}, nil
	}
	l := &listExpr{items: []expr{first}}
	for {
		q = p.skipSpace(p.pos)
		if q < len(p.src) && p.src[q] == ']' {
			p.pos = q + 1
			return l, nil
		}
		if q >= len(p.src) || p.src[q] != ',' {
			if q >= len(p.src) {
				return nil, p.errorAt(start, `Encountered "<EOF>"`)
			}
			return nil, p.encountered(q)
		}
		p.pos = q + 1
		e, err := p.expression()
		if err != nil {
			return nil, err
		}
		l.items = append(l.items, e)
	}
}

func (p *parser) mapLiteral() (expr, error) {
	p.pos++
	m := &mapExpr{}
	q := p.skipSpace(p.pos)
	if q < len(p.src) && p.src[q] == '}' {
		p.pos = q + 1
		return m, nil
	}
	for {
		k, err := p.expression()
		if err != nil {
			return nil, err
		}
		q = p.skipSpace(p.pos)
		if q >= len(p.src) || p.src[q] != ':' {
			return nil, p.encountered(q)
		}
		p.pos = q + 1
		v, err := p.expression()
		if err != nil {
			return nil, err
		}
		m.keys = append(m.keys, k)
		m.values = append(m.values, v)
		q = p.skipSpace(p.pos)
		if q < len(p.src) && p.src[q] == '}' {
			p.pos = q + 1
			return m, nil
		}
		if q >= len(p.src) || p.src[q] != ',' {
			return nil, p.encountered(q)
		}
		p.pos = q + 1
	}
}
