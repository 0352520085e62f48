// Package wildcard matches strings and ARNs against the wildcard patterns of IAM policies,
// as the StringLike and ArnLike condition operators and policy Action and Resource elements
// use them: '*' stands for any run of characters, '?' for any one.
package wildcard

import (
	"strings"
	"unicode/utf8"
)

// Match reports whether s matches pattern, case-sensitively. '?' and the steps of '*' are
// whole UTF-8 characters.
func Match(pattern, s string) bool {
	px, sx := 0, 0
	nextPx, nextSx := -1, -1
	for px < len(pattern) || sx < len(s) {
		if px < len(pattern) {
			switch c := pattern[px]; c {
			case '*':
				nextPx, nextSx = px, sx+runeLen(s, sx)
				px++
				continue
			case '?':
				if sx < len(s) {
					px++
					sx += runeLen(s, sx)
					continue
				}
			default:
				if sx < len(s) && s[sx] == c {
					px++
					sx++
					continue
				}
			}
		}
		if nextSx > 0 && nextSx <= len(s) {
			px, sx = nextPx, nextSx
			continue
		}
		return false
	}
	return true
}

// runeLen is the length of the character at s[i:], at least 1 so that matching advances.
func runeLen(s string, i int) int {
	if i >= len(s) {
		return 1
	}
	_, n := utf8.DecodeRuneInString(s[i:])
	return n
}

// MatchFold is Match ignoring case, as IAM compares actions.
func MatchFold(pattern, s string) bool {
	return Match(strings.ToLower(pattern), strings.ToLower(s))
}

// ARNLike reports whether arn matches pattern as the ArnLike operator does: each of the six
// colon-separated parts (arn, partition, service, region, account, resource) is matched on its
// own, so a wildcard never spans a colon between parts. The resource part may hold colons.
func ARNLike(pattern, arn string) bool {
	p := strings.SplitN(pattern, ":", 6)
	a := strings.SplitN(arn, ":", 6)
	if len(p) != 6 || len(a) != 6 {
		return false
	}
	for i := range p {
		if !Match(p[i], a[i]) {
			return false
		}
	}
	return true
}
