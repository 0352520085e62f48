package jsonpath

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func decode(t *testing.T, s string) any {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestGetBasics(t *testing.T) {
	t.Parallel()
	doc := `{"a":{"b":[1,2,3]},"s":"x"}`
	for _, tc := range []struct{ name, path, want string }{
		{"root", "$", doc},
		{"member", "$.s", `"x"`},
		{"index", "$.a.b[1]", `2`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Parse(tc.path)
			if err != nil {
				t.Fatal(err)
			}
			got, err := p.Get(decode(t, doc))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, decode(t, tc.want)) {
				t.Errorf("got %#v, want %s", got, tc.want)
			}
		})
	}
}
