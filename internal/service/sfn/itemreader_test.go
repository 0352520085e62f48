package sfn

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/kiri-run/kiri/internal/jsonobj"
)

func itemsJSON(t *testing.T, items []any) string {
	t.Helper()
	b, err := json.Marshal(items)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestParseCSV reads CSV items as RFC 4180 quotes them: quoted fields hold delimiters, line
// breaks and doubled quotes; every value is a string; a header row (or the given headers)
// names the fields.
func TestParseCSV(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, body string
		e          readerConfig
		want, err  string
	}{
		{"header row", "a,b\n1,2\n3,4\n", readerConfig{}, `[{"a":"1","b":"2"},{"a":"3","b":"4"}]`, ""},
		{"columns in header order", "z,a,m\n1,2,3\n", readerConfig{}, `[{"z":"1","a":"2","m":"3"}]`, ""},
		{"quoting", "a,b\r\n\"x, y\",\"say \"\"hi\"\"\"\r\n\"two\nlines\",\r\n", readerConfig{},
			`[{"a":"x, y","b":"say \"hi\""},{"a":"two\nlines","b":""}]`, ""},
		{"byte order mark", "\ufeffa\n1\n", readerConfig{}, `[{"a":"1"}]`, ""},
		{"short row", "a,b\n1\n", readerConfig{}, `[{"a":"1","b":""}]`, ""},
		{"given headers", "1;2\n", readerConfig{CSVHeaderLocation: "GIVEN", CSVHeaders: []string{"x", "y"}, CSVDelimiter: "SEMICOLON"},
			`[{"x":"1","y":"2"}]`, ""},
		{"tab", "a\tb\n1\t2\n", readerConfig{CSVDelimiter: "TAB"}, `[{"a":"1","b":"2"}]`, ""},
		{"only a header", "a,b\n", readerConfig{}, `null`, ""},
		{"long row", "a\n1,2\n", readerConfig{}, "", "Row 2 has 2 fields but there are 1 headers"},
		{"bare quote", "a\nx\"y\n", readerConfig{}, "", "The CSV object cannot be read"},
		{"duplicate header", "a,a\n1,2\n", readerConfig{}, "", "names the column 'a' twice"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.e.InputType = "CSV"
			items, err := parseItems([]byte(tc.body), tc.e)
			if tc.err != "" {
				var re *readerError
				if !errors.As(err, &re) || !strings.Contains(re.msg, tc.err) {
					t.Fatalf("err %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || itemsJSON(t, items) != tc.want {
				t.Fatalf("items %s %v, want %s", itemsJSON(t, items), err, tc.want)
			}
		})
	}
}

// TestParseJSONItems reads a JSON array and JSON Lines, numbers kept as written.
func TestParseJSONItems(t *testing.T) {
	t.Parallel()
	items, err := parseItems([]byte(` [1.50, {"z":[true],"a":1}, "s"] `), readerConfig{InputType: "JSON"})
	if err != nil || itemsJSON(t, items) != `[1.50,{"z":[true],"a":1},"s"]` {
		t.Fatalf("json %s %v", itemsJSON(t, items), err)
	}
	for _, bad := range []string{`{"a":1}`, `[1] [2]`, `[1`} {
		if _, err := parseItems([]byte(bad), readerConfig{InputType: "JSON"}); err == nil {
			t.Fatalf("%s: no error", bad)
		}
	}
	items, err = parseItems([]byte("{\"n\":1,\"b\":2}\r\n\n  2  \n\"x\""), readerConfig{InputType: "JSONL"})
	if err != nil || itemsJSON(t, items) != `[{"n":1,"b":2},2,"x"]` {
		t.Fatalf("jsonl %s %v", itemsJSON(t, items), err)
	}
	if _, err := parseItems([]byte("1\n{\n"), readerConfig{InputType: "JSONL"}); err == nil || !strings.Contains(err.Error(), "Line 2") {
		t.Fatalf("jsonl error %v", err)
	}
	if got := limitItems([]any{1, 2, 3}, 2); len(got) != 2 {
		t.Fatalf("limit %v", got)
	}
}

// FuzzItemReaders feeds arbitrary objects to the CSV and JSONL readers: they fail only with
// a reader error, and every CSV item names exactly the header's fields with string values.
func FuzzItemReaders(f *testing.F) {
	for _, s := range []string{"a,b\n1,2\n", "a\n\"x\"\"y\"\n", "{\"a\":1}\n[2]\n", "\ufeffa;b\n", "a,b\n\"\n", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		for _, typ := range []string{"CSV", "JSONL"} {
			items, err := parseItems([]byte(body), readerConfig{InputType: typ})
			if err != nil {
				var re *readerError
				if !errors.As(err, &re) {
					t.Fatalf("%s: %v is not a reader error", typ, err)
				}
				continue
			}
			if _, err := json.Marshal(items); err != nil {
				t.Fatalf("%s: items do not marshal: %v", typ, err)
			}
			if typ != "CSV" || len(items) == 0 {
				continue
			}
			width := items[0].(*jsonobj.Object).Len()
			for _, it := range items {
				m := it.(*jsonobj.Object)
				if m.Len() != width {
					t.Fatalf("items of different widths: %v", items)
				}
				for _, v := range m.All() {
					if _, ok := v.(string); !ok {
						t.Fatalf("value %v is not a string", v)
					}
				}
			}
		}
	})
}
