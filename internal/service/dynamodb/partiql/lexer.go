package partiql

import (
	"strings"
)

type tokKind uint8

const (
	tEOF    tokKind = iota
	tIdent          // a bare word: a keyword or a name
	tQuoted         // "name"
	tString         // 'text'
	tNumber         // 12, -1.5, 1e3
	tParam          // ?
	tPunct          // , . [ ] { } ( ) : = <> != < <= > >= + - * << >>
	tBad            // a character or quote the lexer cannot read
)

type token struct {
	kind tokKind
	text string // the word, name or text (unquoted and unescaped), or the punctuation
	pos  int
}

// lex splits src into tokens; a character it cannot read becomes a tBad token, and the
// parser reports it.
func lex(src string) []token {
	var toks []token
	i := 0
	for i < len(src) {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '-' && i+1 < len(src) && src[i+1] == '-': // comment to end of line
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case isIdentStart(c):
			j := i + 1
			for j < len(src) && isIdentPart(src[j]) {
				j++
			}
			toks = append(toks, token{tIdent, src[i:j], i})
			i = j
		case c == '"' || c == '\'':
			text, end, ok := quoted(src, i)
			if !ok {
				return append(toks, token{tBad, src[i:], i})
			}
			kind := tString
			if c == '"' {
				kind = tQuoted
			}
			toks = append(toks, token{kind, text, i})
			i = end
		case isDigit(c) || (c == '.' && i+1 < len(src) && isDigit(src[i+1])):
			j := i
			for j < len(src) && (isDigit(src[j]) || src[j] == '.') {
				j++
			}
			if j < len(src) && (src[j] == 'e' || src[j] == 'E') {
				k := j + 1
				if k < len(src) && (src[k] == '+' || src[k] == '-') {
					k++
				}
				if k < len(src) && isDigit(src[k]) {
					for k < len(src) && isDigit(src[k]) {
						k++
					}
					j = k
				}
			}
			toks = append(toks, token{tNumber, src[i:j], i})
			i = j
		case c == '?':
			toks = append(toks, token{tParam, "?", i})
			i++
		default:
			p := punct(src[i:])
			if p == "" {
				return append(toks, token{tBad, src[i : i+1], i})
			}
			toks = append(toks, token{tPunct, p, i})
			i += len(p)
		}
	}
	return append(toks, token{tEOF, "", len(src)})
}

var puncts = []string{"<<", ">>", "<=", ">=", "<>", "!=", ",", ".", "[", "]", "{", "}", "(", ")", ":", "=", "<", ">", "+", "-", "*"}

func punct(s string) string {
	for _, p := range puncts {
		if strings.HasPrefix(s, p) {
			return p
		}
	}
	return ""
}

// quoted reads a quoted name or string starting at src[i]; a doubled quote is one quote.
func quoted(src string, i int) (text string, end int, ok bool) {
	q := src[i]
	var b strings.Builder
	for j := i + 1; j < len(src); j++ {
		if src[j] != q {
			b.WriteByte(src[j])
			continue
		}
		if j+1 < len(src) && src[j+1] == q {
			b.WriteByte(q)
			j++
			continue
		}
		return b.String(), j + 1, true
	}
	return "", 0, false
}

func isIdentStart(c byte) bool { return c == '_' || (c|0x20 >= 'a' && c|0x20 <= 'z') }
func isIdentPart(c byte) bool  { return isIdentStart(c) || isDigit(c) || c == '$' }
func isDigit(c byte) bool      { return c >= '0' && c <= '9' }
