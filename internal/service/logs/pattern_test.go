package logs

import (
	"testing"
)

func TestPatternMatches(t *testing.T) {
	cases := []struct {
		name, pattern, msg string
		want               bool
	}{
		{"empty pattern matches everything", "", "anything", true},
		{"quoted empty pattern matches everything", `""`, "anything", true},
		{"a term matches a substring", "ERROR", "[ERROR] boom", true},
		{"terms are case sensitive", "ERROR", "error: boom", false},
		{"all terms must appear", "ERROR disk", "ERROR network", false},
		{"all terms in any order", "disk ERROR", "ERROR disk full", true},
		{"a quoted phrase matches exactly", `"disk full"`, "ERROR disk full", true},
		{"a quoted phrase keeps its order", `"full disk"`, "ERROR disk full", false},
		{"a quoted phrase may hold punctuation", `"user=42: denied"`, "auth user=42: denied", true},
		{"escaped quote inside a phrase", `"say \"hi\""`, `they say "hi"`, true},
		{"any term: one of them", "?WARN ?ERROR", "WARN slow", true},
		{"any term: none of them", "?WARN ?ERROR", "INFO ok", false},
		{"excluded term drops the event", "ERROR -timeout", "ERROR timeout", false},
		{"excluded term absent keeps the event", "ERROR -timeout", "ERROR disk", true},
		{"exclusion alone", "-DEBUG", "INFO x", true},
		{"regex term", `%[Ee]rror [0-9]+%`, "error 42", true},
		{"regex term that misses", `%^ok$%`, "not ok", false},

		{"json string equality", `{ $.level = "ERROR" }`, `{"level":"ERROR"}`, true},
		{"json string inequality", `{ $.level != "ERROR" }`, `{"level":"INFO"}`, true},
		{"json unquoted string", `{ $.eventType = UpdateTrail }`, `{"eventType":"UpdateTrail"}`, true},
		{"json wildcard string", `{ $.path = "/api/*" }`, `{"path":"/api/users"}`, true},
		{"json number greater", `{ $.latency > 100 }`, `{"latency":250}`, true},
		{"json number not greater", `{ $.latency > 100 }`, `{"latency":100}`, false},
		{"json number at least", `{ $.latency >= 100 }`, `{"latency":100}`, true},
		{"json number equality across forms", `{ $.code = 200 }`, `{"code":2e2}`, true},
		{"json number compares only numbers", `{ $.latency > 100 }`, `{"latency":"250"}`, false},
		{"json and", `{ $.level = "ERROR" && $.latency > 100 }`, `{"level":"ERROR","latency":50}`, false},
		{"json or", `{ $.level = "ERROR" || $.latency > 100 }`, `{"level":"INFO","latency":150}`, true},
		{"json and binds tighter than or", `{ $.a = 1 || $.b = 1 && $.c = 1 }`, `{"a":1,"b":0,"c":0}`, true},
		{"json parentheses", `{ ($.a = 1 || $.b = 1) && $.c = 1 }`, `{"a":1,"b":0,"c":0}`, false},
		{"json nested field", `{ $.user.id = 7 }`, `{"user":{"id":7}}`, true},
		{"json array index", `{ $.items[1].n = "b" }`, `{"items":[{"n":"a"},{"n":"b"}]}`, true},
		{"json any array element", `{ $.items[*].n = "b" }`, `{"items":[{"n":"a"},{"n":"b"}]}`, true},
		{"json missing field does not match", `{ $.missing = "x" }`, `{"level":"ERROR"}`, false},
		{"json missing field does not match inequality", `{ $.missing != "x" }`, `{"level":"ERROR"}`, false},
		{"json is null", `{ $.v IS NULL }`, `{"v":null}`, true},
		{"json not exists", `{ $.v NOT EXISTS }`, `{"w":1}`, true},
		{"json exists fails not exists", `{ $.v NOT EXISTS }`, `{"v":1}`, false},
		{"json is true", `{ $.ok IS TRUE }`, `{"ok":true}`, true},
		{"json is false", `{ $.ok IS FALSE }`, `{"ok":true}`, false},
		{"json pattern skips plain text", `{ $.level = "ERROR" }`, `level=ERROR`, false},
		{"json pattern skips bad json", `{ $.level = "ERROR" }`, `{"level":"ERROR"`, false},

		{"space-delimited field count", `[ip, user, status]`, `1.2.3.4 bob 200`, true},
		{"space-delimited wrong count", `[ip, user]`, `1.2.3.4 bob 200`, false},
		{"space-delimited condition", `[ip, user, status=404]`, `1.2.3.4 bob 404`, true},
		{"space-delimited numeric condition", `[ip, user, status>=500]`, `1.2.3.4 bob 404`, false},
		{"space-delimited wildcard", `[ip, user, status=4*]`, `1.2.3.4 bob 404`, true},
		{"space-delimited ellipsis", `[..., status=404, bytes]`, `a b c 404 12`, true},
		{"space-delimited brackets and quotes", `[ip, id, user, ts, request="GET *", status=200, bytes]`,
			`127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 200 1534`, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, err := compilePattern(tc.pattern)
			if err != nil {
				t.Fatalf("compile %q: %v", tc.pattern, err)
			}
			if got := m.match(tc.msg); got != tc.want {
				t.Fatalf("%q on %q = %v, want %v", tc.pattern, tc.msg, got, tc.want)
			}
		})
	}
}

func TestPatternErrors(t *testing.T) {
	cases := []struct{ name, pattern string }{
		{"unterminated phrase", `"abc`},
		{"bare question mark", `? ERROR`},
		{"unterminated regex", `%abc`},
		{"bad regex", `%a(%`},
		{"json without closing brace", `{ $.a = 1`},
		{"json without selector", `{ a = 1 }`},
		{"json without value", `{ $.a = }`},
		{"json unknown operator", `{ $.a ~ 1 }`},
		{"json ordering needs a number", `{ $.a > "x" }`},
		{"json dangling and", `{ $.a = 1 && }`},
		{"json unbalanced parenthesis", `{ ($.a = 1 }`},
		{"json bad index", `{ $.a[x] = 1 }`},
		{"space-delimited without closing bracket", `[a, b`},
		{"space-delimited empty field", `[a, , b]`},
		{"space-delimited ordering needs a number", `[a>x]`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := compilePattern(tc.pattern); err == nil {
				t.Fatalf("%q compiled", tc.pattern)
			}
		})
	}
}

// FuzzPattern checks that no pattern or message makes the matcher panic or hang; run with
// go test -fuzz FuzzPattern ./internal/service/logs.
func FuzzPattern(f *testing.F) {
	seeds := [][2]string{
		{"ERROR", "ERROR x"},
		{`?a ?b -c "d e"`, "a d e"},
		{`{ $.a = "x*" && ($.b > 1 || $.c[0].d IS NULL) }`, `{"a":"xy","b":2,"c":[{"d":null}]}`},
		{`{ $.* = 1 }`, `{"q":1}`},
		{`[a, ..., b=4*, c>3]`, `1 2 3 44 5`},
		{`%^a+$%`, "aaa"},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, msg string) {
		m, err := compilePattern(pattern)
		if err != nil {
			return
		}
		m.match(msg)
	})
}
