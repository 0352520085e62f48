package pattern

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// op is what a matcher tests about one leaf value of the event.
type op uint8

const (
	opExactString op = iota // a string equal to str (or the same IP address, when ip is set)
	opExactNumber           // a number equal to num, or with the same text when either cannot be compared
	opLiteral               // true, false or null
	opPrefix
	opPrefixFold
	opSuffix
	opSuffixFold
	opFold // equals-ignore-case
	opWildcard
	opNumeric
	opCIDR
	opExists
	opNotStrings // anything-but strings
	opNotNumbers // anything-but numbers
	opNotPrefix
	opNotSuffix
	opNotFold
	opNotWildcard
)

// matcher is one accepted value of a field.
type matcher struct {
	op    op
	str   string // exact string or its number text, prefix, suffix, or case-folded operand
	lit   kind
	num   float64
	numOK bool
	ip    *ipRange
	// numeric range
	lo, hi         float64
	hasLo, hasHi   bool
	loOpen, hiOpen bool
	// anything-but
	strs  []string
	nums  []float64
	wilds []wildcard
}

func exactString(s string) matcher {
	m := matcher{op: opExactString, str: s}
	if a, ok := parseIP(s); ok {
		r := singleIP(a)
		m.ip = &r
	}
	return m
}

func exactNumber(text string) matcher {
	f, ok := comparableNumber(text)
	return matcher{op: opExactNumber, str: text, num: f, numOK: ok}
}

// match reports whether the leaf l satisfies m.
func (m *matcher) match(l *leaf) bool {
	str := l.kind == kindString
	switch m.op {
	case opExactString:
		if !str {
			return false
		}
		if m.ip != nil {
			a, ok := parseIP(l.text)
			return ok && m.ip.contains(a)
		}
		return l.text == m.str
	case opExactNumber:
		if l.kind != kindNumber {
			return false
		}
		if m.numOK && l.numOK {
			return m.num == l.num
		}
		return l.text == m.str
	case opLiteral:
		return l.kind == m.lit
	case opPrefix:
		return str && strings.HasPrefix(l.text, m.str)
	case opPrefixFold:
		return str && strings.HasPrefix(fold(l.text), m.str)
	case opSuffix:
		return str && strings.HasSuffix(l.text, m.str)
	case opSuffixFold:
		return str && strings.HasSuffix(fold(l.text), m.str)
	case opFold:
		return str && fold(l.text) == m.str
	case opWildcard:
		return str && m.wilds[0].match(l.text)
	case opNumeric:
		return l.kind == kindNumber && l.numOK && m.inRange(l.num)
	case opCIDR:
		if !str {
			return false
		}
		a, ok := parseIP(l.text)
		return ok && m.ip.contains(a)
	case opExists:
		return true
	case opNotStrings:
		return !str || !contains(m.strs, l.text)
	case opNotNumbers:
		if l.kind != kindNumber || !l.numOK {
			return true
		}
		for _, n := range m.nums {
			if n == l.num {
				return false
			}
		}
		return true
	case opNotPrefix:
		if !str {
			return true
		}
		for _, p := range m.strs {
			if strings.HasPrefix(l.text, p) {
				return false
			}
		}
		return true
	case opNotSuffix:
		if !str {
			return true
		}
		for _, p := range m.strs {
			if strings.HasSuffix(l.text, p) {
				return false
			}
		}
		return true
	case opNotFold:
		return !str || !contains(m.strs, fold(l.text))
	case opNotWildcard:
		if !str {
			return true
		}
		for _, w := range m.wilds {
			if w.match(l.text) {
				return false
			}
		}
		return true
	}
	return false
}

func (m *matcher) inRange(x float64) bool {
	if m.hasLo && (x < m.lo || (m.loOpen && x == m.lo)) {
		return false
	}
	if m.hasHi && (x > m.hi || (m.hiOpen && x == m.hi)) {
		return false
	}
	return true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// fold maps each character of s to one representative of its case-folding orbit, so two
// strings are equal ignoring case exactly when their folds are equal (strings.EqualFold).
func fold(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToLower(s)
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		b.WriteRune(foldRune(r))
	}
	return b.String()
}

// foldRune returns one representative of r's simple case-folding orbit: the lower-case ASCII
// letter when the orbit has one (so ASCII text folds by strings.ToLower), else its smallest rune.
func foldRune(r rune) rune {
	least := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		if f < least {
			least = f
		}
	}
	if least < utf8.RuneSelf {
		return unicode.ToLower(least)
	}
	return least
}
