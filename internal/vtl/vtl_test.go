package vtl

import (
	"strings"
	"testing"
)

func render(t *testing.T, src string, vars map[string]any) string {
	t.Helper()
	tpl, err := Parse(src)
	if err != nil {
		t.Fatalf("Parse(%q): %v", src, err)
	}
	var b strings.Builder
	if err := tpl.Execute(&b, vars); err != nil {
		t.Fatalf("Execute(%q): %v", src, err)
	}
	return b.String()
}

func TestExecuteBasics(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, src, want string }{
		{"plain text", "hello world", "hello world"},
		{"reference", "$name", "Ann"},
		{"undefined reference renders as written", "$nobody and $nobody.x('a')", "$nobody and $nobody.x('a')"},
		{"quiet reference renders empty", "[$!nobody]", "[]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := render(t, tc.src, map[string]any{"name": "Ann"}); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
