package jsonpath

import "testing"

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"$", "$.store.book[0].title", "$['store']['bicycle']", "$..author", "$.store.*", "$..book[-1:]",
		"$.store.book[0:4:2]", "$.store.book[0,1]", "$['a','b']", "$..book[?(@.isbn)]",
		"$..book[?(@.price < 10 && @.category == 'fiction' || !@.x)]", "a.b", `$["x y"]`, "$[?(@.a.b[0] >= -1.5e2)]",
	} {
		f.Add(s)
	}
	doc := decode(f, store)
	f.Fuzz(func(t *testing.T, path string) {
		p, err := Parse(path)
		if err != nil {
			return
		}
		if _, err := p.Get(doc); err != nil && err != ErrNotFound {
			t.Fatalf("Get(%q): %v", path, err)
		}
	})
}
