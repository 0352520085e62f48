package awsproto

import (
	"encoding/xml"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestXMLTextEscaping(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"markup is escaped", `<a href="x">&'`, "&lt;a href=&quot;x&quot;&gt;&amp;&apos;"},
		{"line ends and tabs survive as references", "a\r\nb\tc", "a&#xD;&#xA;b&#x9;c"},
		{"characters XML 1.0 lacks become references", "nul\x00esc\x1b", "nul&#x0;esc&#x1b;"},
		{"noncharacters become references", "x\uFFFE\uFFFFy", "x&#xfffe;&#xffff;y"},
		{"other text passes", "ü日本🌊\x7f", "ü日本🌊\x7f"},
		{"bytes that are not UTF-8 become U+FFFD", "a\xffb\xc3", "a\uFFFDb\uFFFD"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var w xmlWriter
			w.text(tc.in)
			if got := string(w.buf); got != tc.want {
				t.Fatalf("text(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if !utf8.Valid(w.buf) {
				t.Fatalf("text(%q) is not UTF-8", tc.in)
			}
		})
	}
}

// Text without references to characters XML 1.0 lacks reads back exactly through encoding/xml.
func TestXMLTextRoundTrip(t *testing.T) {
	for _, s := range []string{"cr\rlf\ncrlf\r\n", `<&>"'`, "ü/日本/🌊", strings.Repeat("k", 1024)} {
		var w xmlWriter
		w.open("K")
		w.text(s)
		w.close("K")
		var got string
		if err := xml.Unmarshal(w.buf, &got); err != nil || got != s {
			t.Fatalf("round trip of %q = %q, %v", s, got, err)
		}
	}
}
