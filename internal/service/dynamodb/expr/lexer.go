package expr

import (
	"strings"
	"unicode/utf8"
)

type tokKind uint8

const (
	tEOF      tokKind = iota
	tIdent            // a letter or underscore, then letters, digits and underscores
	tName             // #placeholder
	tValue            // :placeholder
	tNumber           // digits (list indexes)
	tLParen           // (
	tRParen           // )
	tLBracket         // [
	tRBracket         // ]
	tComma            // ,
	tDot              // .
	tEq               // =
	tNe               // <>
	tLt               // <
	tLe               // <=
	tGt               // >
	tGe               // >=
	tPlus             // +
	tMinus            // -
	tOther            // any other character, alone
)

// token is one lexeme of an expression; pos and end are byte offsets into the source.
type token struct {
	kind     tokKind
	text     string
	pos, end int
}

// lex splits src into tokens, ending with tEOF. It never fails: a character that starts no
// token is a token of its own, for the parser to refuse.
func lex(src string) []token {
	toks := make([]token, 0, len(src)/3+2)
	last := 0
	for i := 0; i < len(src); {
		c := src[i]
		if c == ' ' || c == '\t' || c == '\n' || c == '\r' {
			i++
			continue
		}
		start := i
		kind := tOther
		switch {
		case isIdentStart(c):
			i++
			for i < len(src) && isIdentPart(src[i]) {
				i++
			}
			kind = tIdent
		case isDigit(c):
			for i < len(src) && isDigit(src[i]) {
				i++
			}
			kind = tNumber
		case c == '#' || c == ':':
			i++
			for i < len(src) && isIdentPart(src[i]) {
				i++
			}
			if i > start+1 {
				kind = tName
				if c == ':' {
					kind = tValue
				}
			}
		case c == '<':
			i++
			kind = tLt
			if i < len(src) && src[i] == '=' {
				i, kind = i+1, tLe
			} else if i < len(src) && src[i] == '>' {
				i, kind = i+1, tNe
			}
		case c == '>':
			i++
			kind = tGt
			if i < len(src) && src[i] == '=' {
				i, kind = i+1, tGe
			}
		case c < utf8.RuneSelf:
			i++
			if k := punct[c]; k != tEOF {
				kind = k
			}
		default:
			_, n := utf8.DecodeRuneInString(src[i:])
			i += n
		}
		toks = append(toks, token{kind: kind, text: src[start:i], pos: start, end: i})
		last = i
	}
	return append(toks, token{kind: tEOF, text: "<EOF>", pos: last, end: last})
}

var punct = [utf8.RuneSelf]tokKind{
	'(': tLParen, ')': tRParen, '[': tLBracket, ']': tRBracket, ',': tComma, '.': tDot,
	'=': tEq, '+': tPlus, '-': tMinus,
}

func isIdentStart(c byte) bool { return c == '_' || (c|0x20 >= 'a' && c|0x20 <= 'z') }
func isIdentPart(c byte) bool  { return isIdentStart(c) || isDigit(c) }
func isDigit(c byte) bool      { return c >= '0' && c <= '9' }

// is reports whether t is the keyword kw (upper case), which DynamoDB reads in any case.
func (t token) is(kw string) bool { return t.kind == tIdent && strings.EqualFold(t.text, kw) }
