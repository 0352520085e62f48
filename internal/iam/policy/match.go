package policy

import (
	"strings"
	"unicode/utf8"
)

// A glob is a compiled policy string: an Action, a Resource segment or a condition value.
// It is a run of tokens: literal text, the wildcards '*' and '?' (where the element allows
// them) and policy variables, whose values match literally once substituted (so do ${*},
// ${?} and ${$}). It matches without allocating.
//
// internal/wildcard matches plain pattern strings; a glob exists because a substituted
// variable's '*' must stay a literal and actions compare case-insensitively, neither of
// which a pattern string can say.
type glob struct {
	toks  []token
	exact bool   // no wildcard and no variable: text is the whole pattern
	text  string // the pattern's text when exact
	nvars int
	// vendor is an action pattern's service prefix with its colon ("s3:") when it has no
	// wildcard, so that actions of other services are told apart at once.
	vendor string
}

type tokenKind uint8

const (
	tokLit tokenKind = iota
	tokStar
	tokOne
	tokVar
)

type token struct {
	kind tokenKind
	text string    // tokLit
	v    *variable // tokVar
	vi   int       // tokVar: index of its value among the glob's variables
}

// variable is a ${key} or ${key, 'default'} reference.
type variable struct {
	key    keyRef
	def    string
	hasDef bool
}

// compileGlob compiles s. wild says whether '*' and '?' are wildcards, vars whether ${...}
// is a variable, and fold whether the glob compares ignoring ASCII case (its literals are
// then stored in lower case).
func compileGlob(s string, wild, vars, fold bool) glob {
	var g glob
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			text := lit.String()
			if fold {
				text = lowerASCII(text)
			}
			g.toks = append(g.toks, token{kind: tokLit, text: text})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '*' && wild:
			flush()
			if n := len(g.toks); n == 0 || g.toks[n-1].kind != tokStar {
				g.toks = append(g.toks, token{kind: tokStar})
			}
		case c == '?' && wild:
			flush()
			g.toks = append(g.toks, token{kind: tokOne})
		case c == '$' && vars && strings.HasPrefix(s[i:], "${"):
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				lit.WriteByte(c)
				continue
			}
			body := s[i+2 : i+end]
			i += end
			switch body {
			case "*", "?", "$":
				lit.WriteString(body)
			default:
				flush()
				g.toks = append(g.toks, token{kind: tokVar, v: parseVariable(body), vi: g.nvars})
				g.nvars++
			}
		default:
			lit.WriteByte(c)
		}
	}
	flush()
	if g.nvars == 0 && (len(g.toks) == 0 || len(g.toks) == 1 && g.toks[0].kind == tokLit) {
		g.exact = true
		if len(g.toks) == 1 {
			g.text = g.toks[0].text
		}
	}
	return g
}

// parseVariable reads the inside of ${...}: a key, optionally followed by ", 'default'".
func parseVariable(body string) *variable {
	v := &variable{}
	name := body
	if k, rest, ok := strings.Cut(body, ","); ok {
		rest = strings.TrimSpace(rest)
		if len(rest) >= 2 && rest[0] == '\'' && rest[len(rest)-1] == '\'' {
			name, v.def, v.hasDef = k, rest[1:len(rest)-1], true
		}
	}
	v.key = compileKey(strings.TrimSpace(name))
	return v
}

// match reports whether s matches g. A variable without a value (and without a default)
// makes the glob match nothing, as AWS treats an unresolved variable.
func (g *glob) match(s string, fold bool, e *evaluation) bool {
	if g.exact {
		if fold {
			return equalLower(s, g.text)
		}
		return s == g.text
	}
	var small [4]string
	vals := small[:0]
	if g.nvars > len(small) {
		vals = make([]string, 0, g.nvars)
	}
	for i := range g.toks {
		if t := &g.toks[i]; t.kind == tokVar {
			if e == nil {
				return false
			}
			v, ok := e.variable(t.v)
			if !ok {
				return false
			}
			vals = append(vals, v)
		}
	}
	return g.matchTokens(s, fold, vals)
}

// matchTokens is wildcard matching over tokens, backtracking to the last star only, which
// is enough for patterns whose only wildcards are '*' and '?'.
func (g *glob) matchTokens(s string, fold bool, vals []string) bool {
	ti, off, sx := 0, 0, 0
	back, backSx := -1, 0
	for {
		if ti < len(g.toks) {
			t := &g.toks[ti]
			switch t.kind {
			case tokStar:
				if ti+1 == len(g.toks) {
					return true
				}
				ti++
				off = 0
				back, backSx = ti, sx
				continue
			case tokOne:
				if sx < len(s) {
					sx += runeLen(s, sx)
					ti++
					continue
				}
			default:
				text := t.text
				if t.kind == tokVar {
					text = vals[t.vi]
				}
				if off == len(text) {
					ti++
					off = 0
					continue
				}
				if sx < len(s) && sameByte(s[sx], text[off], fold, t.kind == tokLit) {
					sx++
					off++
					continue
				}
			}
		} else if sx == len(s) {
			return true
		}
		if back < 0 || backSx >= len(s) {
			return false
		}
		backSx += runeLen(s, backSx)
		ti, off, sx = back, 0, backSx
	}
}

// sameByte compares a byte of the input with one of the pattern. A folded pattern's literals
// are lower case already (lower); a variable's value is not.
func sameByte(a, b byte, fold, lower bool) bool {
	switch {
	case !fold:
		return a == b
	case lower:
		return lowerByte(a) == b
	}
	return lowerByte(a) == lowerByte(b)
}

func lowerByte(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				b[j] = lowerByte(b[j])
			}
			return string(b)
		}
	}
	return s
}

// equalLower reports whether s equals lower, a lower-case ASCII string, ignoring ASCII case.
func equalLower(s, lower string) bool {
	if len(s) != len(lower) {
		return false
	}
	if s == lower {
		return true
	}
	for i := 0; i < len(s); i++ {
		if lowerByte(s[i]) != lower[i] {
			return false
		}
	}
	return true
}

func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if lowerByte(a[i]) != lowerByte(b[i]) {
			return false
		}
	}
	return true
}

// runeLen is the length of the character at s[i:], at least 1 so that matching advances.
func runeLen(s string, i int) int {
	if s[i] < utf8.RuneSelf {
		return 1
	}
	_, n := utf8.DecodeRuneInString(s[i:])
	return n
}

// arnPattern matches ARNs part by part, as ArnLike and the Resource element do: each of
// the six colon-separated parts (arn, partition, service, region, account, resource) on its
// own, so a wildcard never spans a colon between parts; the resource part may hold colons.
type arnPattern struct {
	any   bool // the pattern "*"
	valid bool // the pattern has six parts; one without them matches nothing
	parts [6]glob
}

// compileARN compiles an ARN pattern. resourceVars limits variables to the resource part,
// as the Resource element does; condition values allow them anywhere.
func compileARN(s string, vars, resourceVars bool) arnPattern {
	if s == "*" {
		return arnPattern{any: true, valid: true}
	}
	parts, ok := splitARNPattern(s, vars)
	if !ok {
		return arnPattern{}
	}
	p := arnPattern{valid: true}
	for i, part := range parts {
		p.parts[i] = compileGlob(part, true, vars && (!resourceVars || i == 5), false)
	}
	return p
}

func (p *arnPattern) match(parts *[6]string, ok bool, e *evaluation) bool {
	if p.any {
		return true
	}
	if !p.valid || !ok {
		return false
	}
	// The resource part first: it is where patterns differ most.
	for i := len(p.parts) - 1; i >= 0; i-- {
		if !p.parts[i].match(parts[i], false, e) {
			return false
		}
	}
	return true
}

// splitARNPattern splits an ARN pattern into its six parts; with vars, a colon inside a
// ${...} variable does not split.
func splitARNPattern(s string, vars bool) (parts [6]string, ok bool) {
	n, start := 0, 0
	for i := 0; i < len(s) && n < 5; i++ {
		switch {
		case vars && strings.HasPrefix(s[i:], "${"):
			if end := strings.IndexByte(s[i:], '}'); end > 0 {
				i += end
			}
		case s[i] == ':':
			parts[n], start = s[start:i], i+1
			n++
		}
	}
	if n < 5 {
		return parts, false
	}
	parts[5] = s[start:]
	return parts, true
}

// splitARN splits an ARN into its six parts without allocating.
func splitARN(s string) (parts [6]string, ok bool) {
	for i := 0; i < 5; i++ {
		j := strings.IndexByte(s, ':')
		if j < 0 {
			return parts, false
		}
		parts[i], s = s[:j], s[j+1:]
	}
	parts[5] = s
	return parts, true
}
