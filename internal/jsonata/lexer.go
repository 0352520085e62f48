package jsonata

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf16"
)

// token is one lexical token of an expression.
type token struct {
	typ   string // operator, string, number, value, name, variable, regex, end
	value any    // string for operators, names, strings; float64; bool or null{}; *regexValue
	pos   int
}

// operators maps each operator to its binding power; '!' and '~' are not
// operators but stop a name.
var operators = map[string]int{
	".": 75, "[": 80, "]": 0, "{": 70, "}": 0, "(": 80, ")": 0, ",": 0, "@": 80, "#": 80, ";": 80, ":": 80,
	"?": 20, "+": 50, "-": 50, "*": 60, "/": 60, "%": 60, "|": 20, "=": 40, "<": 40, ">": 40, "^": 40,
	"**": 60, "..": 20, ":=": 10, "!=": 40, "<=": 40, ">=": 40, "~>": 40, "?:": 40, "??": 40,
	"and": 30, "or": 25, "in": 40, "&": 50, "!": 0, "~": 0,
}

var numberToken = regexp.MustCompile(`^-?(0|([1-9][0-9]*))(\.[0-9]+)?([Ee][-+]?[0-9]+)?`)

type lexer struct {
	src []rune
	pos int
}

func isSpace(r rune) bool { return r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\v' }

func (l *lexer) at(i int) rune {
	if i < 0 || i >= len(l.src) {
		return 0
	}
	return l.src[i]
}

// next returns the next token, or nil at the end. infix says a '/' here
// divides rather than starting a regular expression.
func (l *lexer) next(infix bool) *token {
	for l.pos < len(l.src) && isSpace(l.src[l.pos]) {
		l.pos++
	}
	if l.pos >= len(l.src) {
		return nil
	}
	c := l.src[l.pos]
	if c == '/' && l.at(l.pos+1) == '*' {
		start := l.pos
		l.pos += 2
		for !(l.at(l.pos) == '*' && l.at(l.pos+1) == '/') {
			l.pos++
			if l.pos >= len(l.src) {
				throw(&Error{Code: "S0106", Position: start})
			}
		}
		l.pos += 2
		return l.next(infix)
	}
	start := l.pos
	tok := func(typ string, v any) *token { return &token{typ: typ, value: v, pos: l.pos} }
	if !infix && c == '/' {
		l.pos++
		return tok("regex", l.scanRegex())
	}
	if l.pos+1 < len(l.src) {
		two := string(l.src[l.pos : l.pos+2])
		switch two {
		case "..", ":=", "!=", ">=", "<=", "**", "~>", "?:", "??":
			l.pos += 2
			return tok("operator", two)
		}
	}
	if _, ok := operators[string(c)]; ok {
		l.pos++
		return tok("operator", string(c))
	}
	if c == '"' || c == '\'' {
		quote := c
		l.pos++
		var sb []uint16
		for l.pos < len(l.src) {
			c = l.src[l.pos]
			if c == '\\' {
				l.pos++
				c = l.at(l.pos)
				switch c {
				case '"', '\\', '/':
					sb = append(sb, uint16(c))
				case 'b':
					sb = append(sb, '\b')
				case 'f':
					sb = append(sb, '\f')
				case 'n':
					sb = append(sb, '\n')
				case 'r':
					sb = append(sb, '\r')
				case 't':
					sb = append(sb, '\t')
				case 'u':
					hex := ""
					if l.pos+5 <= len(l.src) {
						hex = string(l.src[l.pos+1 : l.pos+5])
					}
					n, err := strconv.ParseUint(hex, 16, 32)
					if err != nil || len(hex) != 4 || strings.ContainsAny(hex, "+-") {
						throw(&Error{Code: "S0104", Position: l.pos})
					}
					sb = append(sb, uint16(n))
					l.pos += 4
				default:
					throw(&Error{Code: "S0103", Position: l.pos, Token: string(c)})
				}
			} else if c == quote {
				l.pos++
				return &token{typ: "string", value: string(utf16.Decode(sb)), pos: l.pos}
			} else {
				sb = utf16.AppendRune(sb, c)
			}
			l.pos++
		}
		throw(&Error{Code: "S0101", Position: l.pos})
	}
	if m := numberToken.FindString(string(l.src[l.pos:min(len(l.src), l.pos+400)])); m != "" {
		f, err := strconv.ParseFloat(m, 64)
		if err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
			l.pos += len([]rune(m))
			return tok("number", f)
		}
		throw(&Error{Code: "S0102", Position: l.pos, Token: m})
	}
	if c == '`' {
		l.pos++
		for i := l.pos; i < len(l.src); i++ {
			if l.src[i] == '`' {
				name := string(l.src[l.pos:i])
				l.pos = i + 1
				return tok("name", name)
			}
		}
		l.pos = len(l.src)
		throw(&Error{Code: "S0105", Position: l.pos})
	}
	i := l.pos
	for {
		var ch rune
		if i < len(l.src) {
			ch = l.src[i]
		}
		_, isOp := operators[string(ch)]
		if i == len(l.src) || isSpace(ch) || isOp {
			if l.src[l.pos] == '$' {
				name := string(l.src[l.pos+1 : i])
				l.pos = i
				return tok("variable", name)
			}
			name := string(l.src[l.pos:i])
			l.pos = i
			switch name {
			case "or", "in", "and":
				return tok("operator", name)
			case "true":
				return tok("value", true)
			case "false":
				return tok("value", false)
			case "null":
				return tok("value", null{})
			}
			if l.pos == len(l.src) && name == "" {
				return nil
			}
			_ = start
			return tok("name", name)
		}
		i++
	}
}

func (l *lexer) scanRegex() *regexValue {
	start := l.pos
	depth := 0
	closing := func(p int) bool {
		if l.at(p) == '/' && depth == 0 {
			n := 0
			for l.at(p-(n+1)) == '\\' {
				n++
			}
			return n%2 == 0
		}
		return false
	}
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		if closing(l.pos) {
			pattern := string(l.src[start:l.pos])
			if pattern == "" {
				throw(&Error{Code: "S0301", Position: l.pos})
			}
			l.pos++
			fstart := l.pos
			for l.at(l.pos) == 'i' || l.at(l.pos) == 'm' {
				l.pos++
			}
			return compileRegex(pattern, string(l.src[fstart:l.pos]), start)
		}
		if (c == '(' || c == '[' || c == '{') && l.at(l.pos-1) != '\\' {
			depth++
		}
		if (c == ')' || c == ']' || c == '}') && l.at(l.pos-1) != '\\' {
			depth--
		}
		l.pos++
	}
	throw(&Error{Code: "S0302", Position: l.pos})
	return nil
}
