package logs

import (
	"fmt"
	"strconv"
	"strings"
)

// spaceField is one field of a space-delimited pattern: a name with an optional condition,
// or "..." for any number of fields.
type spaceField struct {
	ellipsis bool
	op       string // "" (any value), = != < <= > >=
	value    string
	num      float64
	isNum    bool
}

// spacePattern matches messages whose space-delimited fields satisfy its fields in order.
// In messages, "quoted" and [bracketed] runs are one field, without their delimiters.
type spacePattern struct{ fields []spaceField }

func compileSpacePattern(s string) (matcher, error) {
	if !strings.HasSuffix(s, "]") {
		return nil, fmt.Errorf("a space-delimited pattern ends with ']'")
	}
	parts, err := splitFields(s[1 : len(s)-1])
	if err != nil {
		return nil, err
	}
	p := spacePattern{}
	for _, part := range parts {
		f, err := parseSpaceField(strings.TrimSpace(part))
		if err != nil {
			return nil, err
		}
		p.fields = append(p.fields, f)
	}
	return p, nil
}

// splitFields splits on commas outside double quotes.
func splitFields(s string) ([]string, error) {
	var parts []string
	start, quoted := 0, false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			quoted = !quoted
		case ',':
			if !quoted {
				parts = append(parts, s[start:i])
				start = i + 1
			}
		}
	}
	if quoted {
		return nil, fmt.Errorf("unterminated quoted string")
	}
	return append(parts, s[start:]), nil
}

func parseSpaceField(s string) (spaceField, error) {
	if s == "" {
		return spaceField{}, fmt.Errorf("empty field")
	}
	if s == "..." || strings.HasSuffix(s, "...") && !strings.ContainsAny(s, "=<>!") {
		return spaceField{ellipsis: true}, nil
	}
	i := strings.IndexAny(s, "=<>!")
	if i < 0 {
		return spaceField{}, nil
	}
	op := s[i : i+1]
	if i+1 < len(s) && s[i+1] == '=' {
		op += "="
	}
	if op == "!" {
		return spaceField{}, fmt.Errorf("bad operator in field %q", s)
	}
	v := strings.TrimSpace(s[i+len(op):])
	if v == "" {
		return spaceField{}, fmt.Errorf("missing value in field %q", s)
	}
	f := spaceField{op: op}
	if strings.HasPrefix(v, `"`) {
		text, next, err := readQuoted(v, 0)
		if err != nil {
			return spaceField{}, err
		}
		if next != len(v) {
			return spaceField{}, fmt.Errorf("unexpected text after %q", text)
		}
		v = text
	} else if n, err := strconv.ParseFloat(v, 64); err == nil {
		f.num, f.isNum = n, true
	}
	if !f.isNum && op != "=" && op != "!=" {
		return spaceField{}, fmt.Errorf("%s needs a numeric value in field %q", op, s)
	}
	f.value = v
	return f, nil
}

func (p spacePattern) match(msg string) bool {
	return matchFields(p.fields, splitMessage(msg))
}

// matchFields matches fields against tokens as a wildcard match: an ellipsis absorbs any
// number of tokens, every other field exactly one. Backtracking only to the last ellipsis keeps
// it O(fields×tokens) without memory.
func matchFields(fields []spaceField, tokens []string) bool {
	p, t, star, mark := 0, 0, -1, 0
	for t < len(tokens) {
		switch {
		case p < len(fields) && fields[p].ellipsis:
			star, mark = p, t
			p++
		case p < len(fields) && fields[p].accepts(tokens[t]):
			p++
			t++
		case star >= 0:
			p = star + 1
			mark++
			t = mark
		default:
			return false
		}
	}
	for p < len(fields) && fields[p].ellipsis {
		p++
	}
	return p == len(fields)
}

func (f spaceField) accepts(tok string) bool {
	if f.op == "" {
		return true
	}
	if f.isNum {
		n, err := strconv.ParseFloat(tok, 64)
		if err != nil {
			return false
		}
		switch f.op {
		case "=":
			return n == f.num
		case "!=":
			return n != f.num
		case "<":
			return n < f.num
		case "<=":
			return n <= f.num
		case ">":
			return n > f.num
		case ">=":
			return n >= f.num
		}
		return false
	}
	if f.op == "!=" {
		return !globMatch(f.value, tok)
	}
	return globMatch(f.value, tok)
}

// splitMessage splits a message on spaces, keeping "quoted" and [bracketed] runs whole.
func splitMessage(msg string) []string {
	var toks []string
	for i := 0; i < len(msg); {
		switch c := msg[i]; {
		case c == ' ' || c == '\t':
			i++
		case c == '"' || c == '[':
			end := byte('"')
			if c == '[' {
				end = ']'
			}
			j := strings.IndexByte(msg[i+1:], end)
			if j < 0 {
				toks = append(toks, msg[i+1:])
				return toks
			}
			toks = append(toks, msg[i+1:i+1+j])
			i += j + 2
		default:
			j := i
			for j < len(msg) && msg[j] != ' ' && msg[j] != '\t' {
				j++
			}
			toks = append(toks, msg[i:j])
			i = j
		}
	}
	return toks
}
