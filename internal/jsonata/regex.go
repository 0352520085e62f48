package jsonata

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// regexValue is a regular expression literal (/.../flags). Its syntax is
// JavaScript's; Go's RE2 accepts all of it but look-around and backreferences,
// which fail to compile with code S0303.
type regexValue struct {
	source string
	re     *regexp.Regexp
}

func compileRegex(pattern, flags string, pos int) *regexValue {
	prefix := ""
	for _, f := range flags {
		switch f {
		case 'i':
			prefix += "i"
		case 'm':
			prefix += "m"
		}
	}
	expr := translateRegex(pattern)
	if prefix != "" {
		expr = "(?" + prefix + ")" + pattern
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		// jsonata-js passes JavaScript's own SyntaxError through, with no code.
		throw(&Error{Code: "S0303", Position: pos, Token: pattern, Message: "Invalid regular expression: /" + pattern + "/: " + err.Error()})
	}
	return &regexValue{source: pattern, re: re}
}

// translateRegex rewrites the JavaScript regular expression syntax RE2
// spells differently: \uXXXX, \cX, \0 and escaped characters that are not
// punctuation (JavaScript takes them literally, RE2 refuses them).
func translateRegex(p string) string {
	var sb strings.Builder
	r := []rune(p)
	for i := 0; i < len(r); i++ {
		c := r[i]
		if c != '\\' || i+1 >= len(r) {
			sb.WriteRune(c)
			continue
		}
		i++
		e := r[i]
		switch {
		case e == 'u' && i+4 < len(r) && isHex(r[i+1:i+5]):
			sb.WriteString(`\x{` + string(r[i+1:i+5]) + `}`)
			i += 4
		case e == 'c' && i+1 < len(r) && unicode.IsLetter(r[i+1]):
			sb.WriteString(fmt.Sprintf(`\x{%x}`, r[i+1]%32))
			i++
		case e == '0':
			sb.WriteString(`\x{0}`)
		case e == 'd' || e == 'D' || e == 'w' || e == 'W' || e == 's' || e == 'S' || e == 'b' || e == 'B' ||
			e == 'n' || e == 'r' || e == 't' || e == 'f' || e == 'v' || e == 'x' || e >= '1' && e <= '9':
			sb.WriteRune('\\')
			sb.WriteRune(e)
		case e < 128 && unicode.IsPunct(e) || e < 128 && unicode.IsSymbol(e):
			sb.WriteRune('\\')
			sb.WriteRune(e)
		default:
			sb.WriteString(regexp.QuoteMeta(string(e)))
		}
	}
	return sb.String()
}

func isHex(r []rune) bool {
	for _, c := range r {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// regexMatch is one match, with rune offsets.
type regexMatch struct {
	match      string
	start, end int
	groups     []any
}

func (r *regexValue) findAll(s string, limit int) []regexMatch {
	locs := r.re.FindAllStringSubmatchIndex(s, limit)
	out := make([]regexMatch, 0, len(locs))
	for _, loc := range locs {
		m := regexMatch{match: s[loc[0]:loc[1]], start: utf8.RuneCountInString(s[:loc[0]])}
		m.end = m.start + utf8.RuneCountInString(m.match)
		for g := 1; g < len(loc)/2; g++ {
			if loc[2*g] < 0 {
				m.groups = append(m.groups, "")
			} else {
				m.groups = append(m.groups, s[loc[2*g]:loc[2*g+1]])
			}
		}
		out = append(out, m)
	}
	return out
}

// matchObject is what calling a regex gives: {match, start, end, groups,
// next}; next() gives the following match.
func (r *regexValue) matchObject(s string, _ int) any {
	return r.matchAt(s, r.findAll(s, -1), 0)
}

func (r *regexValue) matchAt(s string, all []regexMatch, i int) any {
	if i >= len(all) {
		return nil
	}
	m := all[i]
	o := newObject(5)
	o.set("match", m.match)
	o.set("start", float64(m.start))
	o.set("end", float64(m.end))
	o.set("groups", &array{items: append([]any{}, m.groups...)})
	o.set("next", &builtin{name: "next", arity: 0, impl: func(c *call, a []any) any {
		if i+1 >= len(all) {
			return nil
		}
		if all[i+1].match == "" {
			throw(&Error{Code: "D1004", Value: r.source})
		}
		return r.matchAt(s, all, i+1)
	}})
	return o
}
