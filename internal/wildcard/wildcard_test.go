package wildcard

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestMatch(t *testing.T) {
	cases := []struct {
		name, pattern, s string
		want             bool
	}{
		{"star matches everything", "*", "anything/at/all", true},
		{"star matches empty", "a*", "a", true},
		{"prefix star", "arn:aws:s3:::b/*", "arn:aws:s3:::b/k/x", true},
		{"prefix star needs the prefix", "arn:aws:s3:::b/*", "arn:aws:s3:::bb/k", false},
		{"question mark is one character", "s3:Get?bject", "s3:GetObject", true},
		{"question mark needs a character", "ab?", "ab", false},
		{"question mark is a whole character", "caf?", "café", true},
		{"star steps over whole characters", "*é", "ééé", true},
		{"middle star backtracks", "a*b*c", "axxbyybzc", true},
		{"case counts", "arn:aws:s3:::B/*", "arn:aws:s3:::b/k", false},
		{"literal mismatch", "s3:PutObject", "s3:GetObject", false},
		{"empty pattern matches only empty", "", "x", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Match(c.pattern, c.s); got != c.want {
				t.Fatalf("Match(%q, %q) = %v, want %v", c.pattern, c.s, got, c.want)
			}
		})
	}
	if !MatchFold("s3:get*", "s3:GetObject") {
		t.Errorf("MatchFold ignores case")
	}
}

func TestARNLike(t *testing.T) {
	cases := []struct {
		name, pattern, arn string
		want               bool
	}{
		{"exact bucket", "arn:aws:s3:::photos", "arn:aws:s3:::photos", true},
		{"bucket wildcard", "arn:aws:s3:::photos-*", "arn:aws:s3:::photos-in", true},
		{"other bucket", "arn:aws:s3:::photos", "arn:aws:s3:::photos-in", false},
		{"any account", "arn:aws:sqs:us-east-1:*:jobs", "arn:aws:sqs:us-east-1:111122223333:jobs", true},
		{"a star stays within its part", "arn:aws:sqs:*", "arn:aws:sqs:us-east-1:111122223333:jobs", false},
		{"every part starred", "arn:*:*:*:*:*", "arn:aws:lambda:us-east-1:111122223333:function:f", true},
		{"resource keeps its colons", "arn:aws:lambda:us-east-1:111122223333:function:*", "arn:aws:lambda:us-east-1:111122223333:function:f:live", true},
		{"not an arn", "arn:aws:s3:::b", "b", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := ARNLike(c.pattern, c.arn); got != c.want {
				t.Fatalf("ARNLike(%q, %q) = %v, want %v", c.pattern, c.arn, got, c.want)
			}
		})
	}
}

// FuzzMatch checks Match against a regular expression built from the same pattern.
func FuzzMatch(f *testing.F) {
	f.Add("a*b?c", "axxbyc")
	f.Add("*", "")
	f.Add("arn:aws:s3:::b/*", "arn:aws:s3:::b/k")
	f.Add("caf?", "café")
	f.Fuzz(func(t *testing.T, pattern, s string) {
		if !utf8.ValidString(pattern) || !utf8.ValidString(s) {
			t.Skip() // HTTP and JSON hand policies and ARNs over as UTF-8
		}
		var re strings.Builder
		re.WriteString(`(?s)^`)
		for _, r := range pattern {
			switch r {
			case '*':
				re.WriteString(`.*`)
			case '?':
				re.WriteString(`.`)
			default:
				re.WriteString(regexp.QuoteMeta(string(r)))
			}
		}
		re.WriteString(`$`)
		want := regexp.MustCompile(re.String()).MatchString(s)
		if got := Match(pattern, s); got != want {
			t.Fatalf("Match(%q, %q) = %v, regexp says %v", pattern, s, got, want)
		}
	})
}
