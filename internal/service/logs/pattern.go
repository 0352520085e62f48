package logs

import (
	"fmt"
	"regexp"
	"strings"
)

// matcher tests one log message against a compiled filter pattern.
type matcher interface {
	match(message string) bool
}

// matchAll is the empty pattern.
type matchAll struct{}

func (matchAll) match(string) bool { return true }

// compilePattern parses a CloudWatch Logs filter pattern: terms (all must appear), quoted
// phrases, ?terms (any may appear), -terms (must not appear), %regex% terms, JSON patterns
// ({ $.level = "ERROR" && $.latency > 100 }) and space-delimited patterns ([ip, user, ..., status=404]).
// A pattern that cannot be parsed is an InvalidParameterException, as AWS answers it.
func compilePattern(p string) (matcher, error) {
	t := strings.TrimSpace(p)
	var m matcher
	var err error
	switch {
	case t == "" || t == `""`:
		return matchAll{}, nil
	case strings.HasPrefix(t, "{"):
		m, err = compileJSONPattern(t)
	case strings.HasPrefix(t, "["):
		m, err = compileSpacePattern(t)
	default:
		m, err = compileTerms(t)
	}
	if err != nil {
		return nil, invalidParameter("Invalid filter pattern %q: %v", p, err)
	}
	return m, nil
}

// termPattern is the term form: every all-term, at least one any-term when there are any, and
// no excluded term must be found in the message.
type termPattern struct {
	all, any, none []term
}

// term is a literal substring or a %regex%.
type term struct {
	text string
	re   *regexp.Regexp
}

func (t term) in(msg string) bool {
	if t.re != nil {
		return t.re.MatchString(msg)
	}
	return strings.Contains(msg, t.text)
}

func (p *termPattern) match(msg string) bool {
	for _, t := range p.none {
		if t.in(msg) {
			return false
		}
	}
	for _, t := range p.all {
		if !t.in(msg) {
			return false
		}
	}
	if len(p.any) == 0 {
		return true
	}
	for _, t := range p.any {
		if t.in(msg) {
			return true
		}
	}
	return false
}

func compileTerms(s string) (matcher, error) {
	p := &termPattern{}
	for i := 0; i < len(s); {
		if s[i] == ' ' || s[i] == '\t' {
			i++
			continue
		}
		kind := byte(0)
		if s[i] == '?' || s[i] == '-' {
			kind = s[i]
			i++
			if i == len(s) || s[i] == ' ' || s[i] == '\t' {
				return nil, fmt.Errorf("%q needs a term", string(kind))
			}
		}
		t, next, err := readTerm(s, i)
		if err != nil {
			return nil, err
		}
		i = next
		switch kind {
		case '?':
			p.any = append(p.any, t)
		case '-':
			p.none = append(p.none, t)
		default:
			p.all = append(p.all, t)
		}
	}
	return p, nil
}

// readTerm reads a quoted phrase, a %regex% or a bare word starting at s[i].
func readTerm(s string, i int) (term, int, error) {
	switch s[i] {
	case '"':
		text, next, err := readQuoted(s, i)
		return term{text: text}, next, err
	case '%':
		end := strings.IndexByte(s[i+1:], '%')
		if end < 0 {
			return term{}, 0, fmt.Errorf("unterminated regular expression")
		}
		re, err := regexp.Compile(s[i+1 : i+1+end])
		if err != nil {
			return term{}, 0, fmt.Errorf("regular expression: %w", err)
		}
		return term{re: re}, i + end + 2, nil
	}
	j := i
	for j < len(s) && s[j] != ' ' && s[j] != '\t' {
		if s[j] == '"' {
			return term{}, 0, fmt.Errorf("unexpected quote in term %q", s[i:j+1])
		}
		j++
	}
	return term{text: s[i:j]}, j, nil
}

// readQuoted reads the double-quoted string starting at s[i] (backslash escapes the next
// character) and returns its text and the index just past the closing quote.
func readQuoted(s string, i int) (string, int, error) {
	var b strings.Builder
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			if j+1 < len(s) {
				j++
				b.WriteByte(s[j])
			}
		case '"':
			return b.String(), j + 1, nil
		default:
			b.WriteByte(s[j])
		}
	}
	return "", 0, fmt.Errorf("unterminated quoted string")
}

// globMatch reports whether s matches pattern, where '*' stands for any run of characters.
func globMatch(pattern, s string) bool {
	if !strings.Contains(pattern, "*") {
		return pattern == s
	}
	parts := strings.Split(pattern, "*")
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, mid := range parts[1 : len(parts)-1] {
		k := strings.Index(s, mid)
		if k < 0 {
			return false
		}
		s = s[k+len(mid):]
	}
	return len(s) >= len(last) && strings.HasSuffix(s, last)
}
