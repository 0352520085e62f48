package pattern

import (
	"slices"
	"testing"
)

func mustCompile(t testing.TB, src string) *Pattern {
	t.Helper()
	p, err := Compile([]byte(src))
	if err != nil {
		t.Fatalf("Compile(%s): %v", src, err)
	}
	return p
}

func TestMatches(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		pattern string
		event   string
		want    bool
	}{
		{"number matches by value in any text form", `{"x":[{"numeric":["=",3.018e2]}]}`, `{"x":301.8}`, true},
		{"exact number matches another spelling", `{"x":[1.5e1]}`, `{"x":15.000}`, true},
		{"exact number does not match the same text as a string", `{"x":[15]}`, `{"x":"15"}`, false},
		{"numbers past float64 precision match by text", `{"a":[123456789012345678901]}`, `{"a":123456789012345678901}`, true},
		{"numbers past float64 precision never match by value", `{"a":[123456789012345678901]}`, `{"a":123456789012345678900}`, false},
		{"numeric range excludes an open bound", `{"x":[{"numeric":[">",0,"<",5]}]}`, `{"x":5}`, false},
		{"numeric range includes a closed bound", `{"x":[{"numeric":[">=",0,"<=",5]}]}`, `{"x":5}`, true},
		{"numeric ignores strings", `{"x":[{"numeric":[">",0]}]}`, `{"x":"7"}`, false},
		{"null matches null", `{"x":[null]}`, `{"x":null}`, true},
		{"null does not match a missing field", `{"x":[null]}`, `{"y":1}`, false},
		{"exists true matches a null value", `{"x":[{"exists":true}]}`, `{"x":null}`, true},
		{"exists true ignores objects", `{"x":[{"exists":true}]}`, `{"x":{"y":1}}`, false},
		{"exists false matches an object in place of a leaf", `{"x":[{"exists":false}]}`, `{"x":{"y":1}}`, true},
		{"exists false matches an empty array", `{"x":[{"exists":false}]}`, `{"x":[]}`, true},
		{"exists false fails on a present value", `{"x":[{"exists":false}]}`, `{"x":"v"}`, false},
		{"array matches when any element matches", `{"x":["b"]}`, `{"x":["a","b"]}`, true},
		{"nested arrays flatten", `{"x":["c"]}`, `{"x":[["a"],["b","c"]]}`, true},
		{"fields of objects in arrays", `{"e":{"first":["Anna"]}}`, `{"e":[{"first":"John"},{"first":"Anna"}]}`, true},
		{"fields must come from the same array element", `{"e":{"first":["Anna"],"last":["Jones"]}}`,
			`{"e":[{"first":"Anna","last":"Smith"},{"first":"Peter","last":"Jones"}]}`, false},
		{"fields from the same array element match", `{"e":{"first":["Peter"],"last":["Jones"]}}`,
			`{"e":[{"first":"Anna","last":"Smith"},{"first":"Peter","last":"Jones"}]}`, true},
		{"same element through nested arrays", `{"e":{"f":["x"],"g":["y"]}}`,
			`{"e":[[{"f":"x","g":"n"}],[{"f":"n","g":"y"},{"f":"x","g":"y"}]]}`, true},
		{"fields in different arrays are independent", `{"a":["1"],"b":["2"]}`, `{"a":["0","1"],"b":["2","3"]}`, true},
		{"or branches take part in element agreement", `{"e":{"first":["Anna"],"$or":[{"last":["Jones"]},{"age":[3]}]}}`,
			`{"e":[{"first":"Anna","last":"Smith","age":3},{"first":"Peter","last":"Jones"}]}`, true},
		{"dotted event keys meet nested pattern keys", `{"a":{"b":["v"]}}`, `{"a.b":"v"}`, true},
		{"prefix only matches strings", `{"x":[{"prefix":"1"}]}`, `{"x":12}`, false},
		{"suffix ignoring case", `{"x":[{"suffix":{"equals-ignore-case":".PNG"}}]}`, `{"x":"a.png"}`, true},
		{"equals-ignore-case folds Unicode", `{"x":[{"equals-ignore-case":"STRASSE ÄÖÜ"}]}`, `{"x":"strasse äöü"}`, true},
		{"equals-ignore-case folds the Kelvin sign", `{"x":[{"equals-ignore-case":"k"}]}`, `{"x":"\u212a"}`, true},
		{"wildcard escaped star is literal", `{"x":[{"wildcard":"a\\*b*"}]}`, `{"x":"a*bc"}`, true},
		{"wildcard escaped star needs a star", `{"x":[{"wildcard":"a\\*b*"}]}`, `{"x":"axbc"}`, false},
		{"wildcard escaped backslash", `{"x":[{"wildcard":"a\\\\*"}]}`, `{"x":"a\\z"}`, true},
		{"wildcard middle segments in order", `{"x":[{"wildcard":"*a*b*c"}]}`, `{"x":"zzczbzac"}`, false},
		{"wildcard does not match numbers", `{"x":[{"wildcard":"1*"}]}`, `{"x":12}`, false},
		{"cidr matches IPv6", `{"ip":[{"cidr":"2001:db8::/32"}]}`, `{"ip":"2001:DB8:0:0::1"}`, true},
		{"cidr keeps families apart", `{"ip":[{"cidr":"0.0.0.0/0"}]}`, `{"ip":"::1"}`, false},
		{"an exact IP matches another spelling of it", `{"ip":["2001:db8::1"]}`, `{"ip":"2001:0db8:0000::0001"}`, true},
		{"anything-but numbers matches strings", `{"x":[{"anything-but":[1,2]}]}`, `{"x":"1"}`, true},
		{"anything-but numbers compares by value", `{"x":[{"anything-but":[1,2]}]}`, `{"x":1.0}`, false},
		{"anything-but strings matches numbers", `{"x":[{"anything-but":["1"]}]}`, `{"x":1}`, true},
		{"anything-but needs the field", `{"x":[{"anything-but":"a"}]}`, `{}`, false},
		{"anything-but on an array matches when one element differs", `{"x":[{"anything-but":"a"}]}`, `{"x":["a","b"]}`, true},
		{"anything-but ignoring case", `{"x":[{"anything-but":{"equals-ignore-case":["A","b"]}}]}`, `{"x":"B"}`, false},
		{"or at the top", `{"$or":[{"a":["1"]},{"b":["2"]}]}`, `{"b":"2"}`, true},
		{"nested or needs each group", `{"$or":[{"a":["1"]},{"b":["2"]}],"c":{"$or":[{"d":["3"]},{"e":["4"]}]}}`, `{"b":"2","c":{"d":"5"}}`, false},
		{"a later condition on a path replaces an earlier one", `{"a":["1"],"a":["2"]}`, `{"a":"2"}`, true},
		{"a dotted pattern key replaces the nested one", `{"a":{"b":["1"]},"a.b":["2"]}`, `{"a":{"b":"2"}}`, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			p := mustCompile(t, c.pattern)
			got, err := p.Matches([]byte(c.event))
			if err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Fatalf("%s against %s = %v, want %v", c.pattern, c.event, got, c.want)
			}
		})
	}
}

func TestMatchesRefusesEventsThatAreNotObjects(t *testing.T) {
	t.Parallel()
	p := mustCompile(t, `{"a":["1"]}`)
	for _, ev := range []string{`[]`, `"a"`, `{`, ``, `{"a":1}x`} {
		if _, err := p.Matches([]byte(ev)); err == nil {
			t.Errorf("Matches(%q) took an invalid event", ev)
		}
	}
}

func TestWideArraysMatchQuickly(t *testing.T) {
	t.Parallel()
	// Two fields in a 2,000-element array with no element holding both: a search that
	// tried every pair would take 4 million steps.
	ev := []byte(`{"e":[`)
	for i := 0; i < 2000; i++ {
		if i > 0 {
			ev = append(ev, ',')
		}
		if i%2 == 0 {
			ev = append(ev, `{"a":"x","b":"n"}`...)
		} else {
			ev = append(ev, `{"a":"n","b":"y"}`...)
		}
	}
	ev = append(ev, `],"r":["1","2","3","4","5","6","7","8"]}`...)
	p := mustCompile(t, `{"e":{"a":["x"],"b":["y"]},"r":["8"]}`)
	got, err := p.Matches(ev)
	if err != nil || got {
		t.Fatalf("Matches = %v, %v; want false", got, err)
	}
	p = mustCompile(t, `{"e":{"a":["x"]},"r":["8"]}`)
	if got, _ := p.Matches(ev); !got {
		t.Fatal("a single field in the array should match")
	}
}

func sorted(names []string) []string {
	out := append([]string{}, names...)
	slices.Sort(out)
	return out
}
