package logs

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// jsonExpr is a node of a JSON filter pattern, evaluated against a decoded event.
type jsonExpr interface {
	eval(doc any) bool
}

type jsonAnd struct{ l, r jsonExpr }
type jsonOr struct{ l, r jsonExpr }

func (e jsonAnd) eval(doc any) bool { return e.l.eval(doc) && e.r.eval(doc) }
func (e jsonOr) eval(doc any) bool  { return e.l.eval(doc) || e.r.eval(doc) }

// jsonCompare is `selector op value`, or a test such as IS NULL or NOT EXISTS.
type jsonCompare struct {
	path  []pathStep
	op    string // = != < <= > >= null notexists true false exists
	str   string
	num   float64
	isNum bool
}

// pathStep is one step of a $ selector: a key, an array index, or any element.
type pathStep struct {
	key     string
	index   int
	isIndex bool
	all     bool // [*] or .*: any element
}

// jsonPattern matches messages that are JSON objects satisfying its expression.
type jsonPattern struct{ expr jsonExpr }

func (p jsonPattern) match(msg string) bool {
	msg = strings.TrimSpace(msg)
	if !strings.HasPrefix(msg, "{") && !strings.HasPrefix(msg, "[") {
		return false
	}
	dec := json.NewDecoder(strings.NewReader(msg))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return false
	}
	return p.expr.eval(doc)
}

func (c jsonCompare) eval(doc any) bool {
	return c.walk(doc, c.path)
}

// walk follows the selector from v; a [*] step matches when any element satisfies the rest.
func (c jsonCompare) walk(v any, path []pathStep) bool {
	if len(path) == 0 {
		return c.test(v, true)
	}
	st := path[0]
	switch {
	case st.all:
		switch x := v.(type) {
		case []any:
			for _, e := range x {
				if c.walk(e, path[1:]) {
					return true
				}
			}
		case map[string]any:
			for _, e := range x {
				if c.walk(e, path[1:]) {
					return true
				}
			}
		}
		return c.op == "notexists"
	case !st.isIndex:
		m, ok := v.(map[string]any)
		if !ok {
			return c.test(nil, false)
		}
		e, ok := m[st.key]
		if !ok {
			return c.test(nil, false)
		}
		return c.walk(e, path[1:])
	default:
		a, ok := v.([]any)
		if !ok || st.index < 0 || st.index >= len(a) {
			return c.test(nil, false)
		}
		return c.walk(a[st.index], path[1:])
	}
}

// test applies the comparison to the selected value (found reports whether it exists).
func (c jsonCompare) test(v any, found bool) bool {
	switch c.op {
	case "notexists":
		return !found
	case "exists":
		return found
	}
	if !found {
		return false
	}
	switch c.op {
	case "null":
		return v == nil
	case "true", "false":
		b, ok := v.(bool)
		return ok && b == (c.op == "true")
	}
	if c.isNum {
		n, ok := v.(json.Number)
		if !ok {
			return false
		}
		f, err := n.Float64()
		if err != nil {
			return false
		}
		switch c.op {
		case "=":
			return f == c.num
		case "!=":
			return f != c.num
		case "<":
			return f < c.num
		case "<=":
			return f <= c.num
		case ">":
			return f > c.num
		case ">=":
			return f >= c.num
		}
		return false
	}
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case json.Number:
		s = x.String()
	case bool:
		s = strconv.FormatBool(x)
	default:
		return false
	}
	switch c.op {
	case "=":
		return globMatch(c.str, s)
	case "!=":
		return !globMatch(c.str, s)
	}
	return false
}

func compileJSONPattern(s string) (matcher, error) {
	if !strings.HasSuffix(s, "}") {
		return nil, fmt.Errorf("a JSON pattern ends with '}'")
	}
	toks, err := lexJSONPattern(s[1 : len(s)-1])
	if err != nil {
		return nil, err
	}
	p := &jsonParser{toks: toks}
	e, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.pos != len(p.toks) {
		return nil, fmt.Errorf("unexpected %q", p.toks[p.pos].text)
	}
	return jsonPattern{expr: e}, nil
}

// jsonToken is a lexeme of a JSON pattern; quoted strings keep quoted=true.
type jsonToken struct {
	text   string
	quoted bool
}

func lexJSONPattern(s string) ([]jsonToken, error) {
	var toks []jsonToken
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(' || c == ')':
			toks = append(toks, jsonToken{text: string(c)})
			i++
		case strings.HasPrefix(s[i:], "&&") || strings.HasPrefix(s[i:], "||") ||
			strings.HasPrefix(s[i:], "!=") || strings.HasPrefix(s[i:], "<=") || strings.HasPrefix(s[i:], ">="):
			toks = append(toks, jsonToken{text: s[i : i+2]})
			i += 2
		case c == '=' || c == '<' || c == '>':
			toks = append(toks, jsonToken{text: string(c)})
			i++
		case c == '"':
			text, next, err := readQuoted(s, i)
			if err != nil {
				return nil, err
			}
			toks = append(toks, jsonToken{text: text, quoted: true})
			i = next
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\r\n()=!<>&|\"", rune(s[j])) {
				j++
			}
			if j == i {
				return nil, fmt.Errorf("unexpected %q", string(c))
			}
			toks = append(toks, jsonToken{text: s[i:j]})
			i = j
		}
	}
	return toks, nil
}

// jsonParser is a recursive-descent parser over JSON pattern tokens; && binds tighter than ||.
type jsonParser struct {
	toks  []jsonToken
	pos   int
	depth int
}

func (p *jsonParser) peek() (jsonToken, bool) {
	if p.pos < len(p.toks) {
		return p.toks[p.pos], true
	}
	return jsonToken{}, false
}

func (p *jsonParser) next() (jsonToken, error) {
	t, ok := p.peek()
	if !ok {
		return t, fmt.Errorf("unexpected end of pattern")
	}
	p.pos++
	return t, nil
}

func (p *jsonParser) or() (jsonExpr, error) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for {
		t, ok := p.peek()
		if !ok || t.quoted || t.text != "||" {
			return l, nil
		}
		p.pos++
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		l = jsonOr{l, r}
	}
}

func (p *jsonParser) and() (jsonExpr, error) {
	l, err := p.unary()
	if err != nil {
		return nil, err
	}
	for {
		t, ok := p.peek()
		if !ok || t.quoted || t.text != "&&" {
			return l, nil
		}
		p.pos++
		r, err := p.unary()
		if err != nil {
			return nil, err
		}
		l = jsonAnd{l, r}
	}
}

func (p *jsonParser) unary() (jsonExpr, error) {
	t, err := p.next()
	if err != nil {
		return nil, err
	}
	if !t.quoted && t.text == "(" {
		if p.depth++; p.depth > 64 {
			return nil, fmt.Errorf("parentheses nested too deep")
		}
		e, err := p.or()
		if err != nil {
			return nil, err
		}
		if c, err := p.next(); err != nil || c.quoted || c.text != ")" {
			return nil, fmt.Errorf("missing ')'")
		}
		p.depth--
		return e, nil
	}
	if t.quoted || !strings.HasPrefix(t.text, "$") {
		return nil, fmt.Errorf("expected a $ selector, got %q", t.text)
	}
	path, err := parseSelector(t.text)
	if err != nil {
		return nil, err
	}
	return p.comparison(path)
}

// comparison reads what follows a selector: an operator and a value, IS [NOT] NULL/TRUE/FALSE,
// or [NOT] EXISTS.
func (p *jsonParser) comparison(path []pathStep) (jsonExpr, error) {
	op, err := p.next()
	if err != nil {
		return nil, err
	}
	c := jsonCompare{path: path}
	if !op.quoted {
		switch strings.ToUpper(op.text) {
		case "IS":
			v, err := p.next()
			if err != nil {
				return nil, err
			}
			switch strings.ToUpper(v.text) {
			case "NULL":
				c.op = "null"
			case "TRUE":
				c.op = "true"
			case "FALSE":
				c.op = "false"
			default:
				return nil, fmt.Errorf("IS must be followed by NULL, TRUE or FALSE")
			}
			return c, nil
		case "NOT":
			v, err := p.next()
			if err != nil || strings.ToUpper(v.text) != "EXISTS" {
				return nil, fmt.Errorf("NOT must be followed by EXISTS")
			}
			c.op = "notexists"
			return c, nil
		case "EXISTS":
			c.op = "exists"
			return c, nil
		case "=", "!=", "<", "<=", ">", ">=":
			c.op = op.text
		default:
			return nil, fmt.Errorf("unknown operator %q", op.text)
		}
	} else {
		return nil, fmt.Errorf("expected an operator, got %q", op.text)
	}
	v, err := p.next()
	if err != nil {
		return nil, err
	}
	if !v.quoted {
		if f, err := strconv.ParseFloat(v.text, 64); err == nil {
			c.num, c.isNum = f, true
			return c, nil
		}
		if v.text == "(" || v.text == ")" || v.text == "&&" || v.text == "||" {
			return nil, fmt.Errorf("missing value after %s", c.op)
		}
	}
	if c.op != "=" && c.op != "!=" {
		return nil, fmt.Errorf("%s needs a numeric value, got %q", c.op, v.text)
	}
	c.str = v.text
	return c, nil
}

// parseSelector reads $.a.b[0].c, $.a[*] or $.* into steps.
func parseSelector(sel string) ([]pathStep, error) {
	s := sel[1:]
	var steps []pathStep
	for len(s) > 0 {
		switch s[0] {
		case '.':
			s = s[1:]
			j := 0
			for j < len(s) && s[j] != '.' && s[j] != '[' {
				j++
			}
			if j == 0 {
				return nil, fmt.Errorf("empty key in selector %q", sel)
			}
			if s[:j] == "*" {
				steps = append(steps, pathStep{all: true})
			} else {
				steps = append(steps, pathStep{key: s[:j]})
			}
			s = s[j:]
		case '[':
			end := bytes.IndexByte([]byte(s), ']')
			if end < 0 {
				return nil, fmt.Errorf("missing ']' in selector %q", sel)
			}
			idx := s[1:end]
			if idx == "*" {
				steps = append(steps, pathStep{all: true})
			} else if n, err := strconv.Atoi(idx); err == nil && n >= 0 {
				steps = append(steps, pathStep{index: n, isIndex: true})
			} else if len(idx) >= 2 && (idx[0] == '\'' && idx[len(idx)-1] == '\'') {
				steps = append(steps, pathStep{key: idx[1 : len(idx)-1]})
			} else {
				return nil, fmt.Errorf("bad index %q in selector %q", idx, sel)
			}
			s = s[end+1:]
		default:
			return nil, fmt.Errorf("bad selector %q", sel)
		}
	}
	if len(steps) == 0 {
		return nil, fmt.Errorf("selector %q selects nothing", sel)
	}
	return steps, nil
}
