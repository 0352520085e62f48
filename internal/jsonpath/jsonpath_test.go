package jsonpath

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// store is the example document of Goessner's JSONPath article.
const store = `{"store": {
  "book": [
    {"category": "reference", "author": "Nigel Rees", "title": "Sayings of the Century", "price": 8.95},
    {"category": "fiction", "author": "Evelyn Waugh", "title": "Sword of Honour", "price": 12.99},
    {"category": "fiction", "author": "Herman Melville", "title": "Moby Dick", "isbn": "0-553-21311-3", "price": 8.99},
    {"category": "fiction", "author": "J. R. R. Tolkien", "title": "The Lord of the Rings", "isbn": "0-395-19395-8", "price": 22.99}
  ],
  "bicycle": {"color": "red", "price": 19.95}
}, "odd key": 1, "a.b": 2}`

func decode(t testing.TB, s string) any {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func canonical(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestGet(t *testing.T) {
	t.Parallel()
	doc := decode(t, store)
	for _, tc := range []struct{ name, path, want string }{
		{"root", "$", canonical(t, doc)},
		{"member", "$.store.bicycle.color", `"red"`},
		{"bracket member", "$['store']['bicycle']['color']", `"red"`},
		{"double-quoted bracket member", `$["store"]["bicycle"].price`, `19.95`},
		{"member with a space", "$['odd key']", `1`},
		{"member with a dot", "$['a.b']", `2`},
		{"index", "$.store.book[2].title", `"Moby Dick"`},
		{"negative index", "$.store.book[-1].title", `"The Lord of the Rings"`},
		{"relative path", "store.bicycle.color", `"red"`},
		{"wildcard over an array", "$.store.book[*].author", `["Nigel Rees","Evelyn Waugh","Herman Melville","J. R. R. Tolkien"]`},
		{"dot wildcard over an object", "$.store.bicycle.*", `["red",19.95]`},
		{"descendants by name", "$..author", `["Nigel Rees","Evelyn Waugh","Herman Melville","J. R. R. Tolkien"]`},
		{"descendants of a Go map come in key order", "$.store..price", `[19.95,8.95,12.99,8.99,22.99]`},
		{"descendant index", "$..book[2].author", `["Herman Melville"]`},
		{"union of indexes", "$.store.book[0,1].price", `[8.95,12.99]`},
		{"union of names", "$.store.bicycle['color','price']", `["red",19.95]`},
		{"slice", "$.store.book[:2].price", `[8.95,12.99]`},
		{"slice from", "$.store.book[2:].price", `[8.99,22.99]`},
		{"slice from the end", "$.store.book[-1:].price", `[22.99]`},
		{"slice with a step", "$.store.book[0:4:2].price", `[8.95,8.99]`},
		{"filter by existence", "$.store.book[?(@.isbn)].title", `["Moby Dick","The Lord of the Rings"]`},
		{"filter by comparison", "$.store.book[?(@.price < 10)].title", `["Sayings of the Century","Moby Dick"]`},
		{"filter by string", "$..book[?(@.author == 'Evelyn Waugh')].price", `[12.99]`},
		{"filter with and/or", "$..book[?(@.price > 10 && @.category == 'fiction' || @.price < 9 && @.isbn)].price", `[12.99,8.99,22.99]`},
		{"negated filter", "$..book[?(!@.isbn)].price", `[8.95,12.99]`},
		{"no matches is an empty list", "$..nothing", `[]`},
		{"length of an array", "$.store.book.length()", `4`},
		{"size of an object", "$.store.bicycle.size()", `2`},
		{"length of a string", "$.store.bicycle.color.length()", `3`},
		{"length of an indefinite path counts matches", "$.store.book[?(@.isbn)].length()", `2`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := Parse(tc.path)
			if err != nil {
				t.Fatal(err)
			}
			got, err := p.Get(doc)
			if err != nil {
				t.Fatal(err)
			}
			if g := canonical(t, got); g != tc.want {
				t.Errorf("%s: got %s, want %s", tc.path, g, tc.want)
			}
		})
	}
}

func TestDefinitePathNotFound(t *testing.T) {
	t.Parallel()
	doc := decode(t, store)
	for _, path := range []string{"$.nope", "$.store.book[10]", "$.store.bicycle.color.x", "$.store[0]"} {
		p, err := Parse(path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.Get(doc); !errors.Is(err, ErrNotFound) {
			t.Errorf("%s: error %v, want ErrNotFound", path, err)
		}
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	for _, path := range []string{"", "$.", "$[", "$['a'", "$[?(@.a <)]", "$[?@.a]", "$[a]", "$.a]", "$[1:2", "$..", "$[99999999999]", `$['unterminated]`, "$.a.keys()", "$.a.length().b", "$..length()"} {
		if _, err := Parse(path); err == nil {
			t.Errorf("Parse(%q) accepted", path)
		} else {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Errorf("Parse(%q): %v is not a SyntaxError", path, err)
			}
		}
	}
}

type orderedObject struct {
	keys []string
	vals map[string]any
}

func (o orderedObject) Get(k string) (any, bool) { v, ok := o.vals[k]; return v, ok }
func (o orderedObject) Keys() []string           { return o.keys }

type array []any

func (a array) Len() int        { return len(a) }
func (a array) Index(i int) any { return a[i] }

func TestOrderedValues(t *testing.T) {
	t.Parallel()
	t.Run("descendants in document order", func(t *testing.T) {
		doc := orderedObject{keys: []string{"book", "bicycle"}, vals: map[string]any{
			"book":    array{map[string]any{"price": 1}, map[string]any{"price": 2}},
			"bicycle": map[string]any{"price": 3},
		}}
		p, _ := Parse("$..price")
		got, _ := p.Get(doc)
		if g := canonical(t, got); g != `[1,2,3]` {
			t.Errorf("got %s", g)
		}
	})
	doc := orderedObject{keys: []string{"z", "a"}, vals: map[string]any{"z": array{1, 2}, "a": "x"}}
	p, _ := Parse("$.*")
	got, err := p.Get(doc)
	if err != nil {
		t.Fatal(err)
	}
	if g := canonical(t, got); g != `[[1,2],"x"]` {
		t.Errorf("got %s", g)
	}
	p, _ = Parse("$.z[1]")
	if got, _ := p.Get(doc); got != 2 {
		t.Errorf("got %v", got)
	}
}

func TestQuotedNameKeepsBackslashesThatEscapeNoQuote(t *testing.T) {
	t.Parallel()
	doc := decode(t, `{"Test\\\"\"Name\"": "v1", "it's": "v2"}`)
	for path, want := range map[string]string{
		`$['Test\""Name"']`: `"v1"`,
		`$['it\'s']`:        `"v2"`,
	} {
		p, err := Parse(path)
		if err != nil {
			t.Fatalf("Parse(%s): %v", path, err)
		}
		got, err := p.Get(doc)
		if err != nil {
			t.Fatalf("Get(%s): %v", path, err)
		}
		if c := canonical(t, got); c != want {
			t.Errorf("%s = %s, want %s", path, c, want)
		}
	}
}
