package pattern

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// fuzzEvents are matched against every pattern the parser fuzzer compiles.
var fuzzEvents = []string{
	`{"a":"v1","n":5,"arr":[{"x":"v2","y":1},{"x":null,"y":[true,"10.0.0.7"]}],"c":{"d":"abc","e":-1.5e3}}`,
	`{"source":"aws.ec2","detail":{"state":"running","ip":"2001:db8::1","tags":["x","y"]}}`,
	`{}`,
}

// FuzzCompile feeds arbitrary bytes to every compiler: each must return a pattern or an
// error, never panic, and a compiled pattern must match without panicking.
func FuzzCompile(f *testing.F) {
	seedFromOracle(f)
	for _, s := range []string{
		`{"a":[{"numeric":[">",0,"<=",5]}]}`, `{"$or":[{"a":["1"]},{"b":{"c":[{"wildcard":"*x*"}]}}]}`,
		`{"a":[{"anything-but":{"wildcard":["a*","b\\*"]}}]}`, `{"a":[{"cidr":"::/0"}]}`, `{}`, `[`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var compiled []*Pattern
		if p, err := Compile(data); err == nil {
			compiled = append(compiled, p)
		} else if _, ok := err.(*Error); !ok {
			t.Fatalf("Compile returned %T %v", err, err)
		}
		for _, scope := range []FilterPolicyScope{ScopeMessageAttributes, ScopeMessageBody} {
			if fp, err := CompileFilterPolicy(string(data), scope); err == nil {
				compiled = append(compiled, fp.Pattern())
				fp.Matches(map[string]MessageAttribute{"a": {DataType: "String.Array", StringValue: `["v1",2]`}}, fuzzEvents[0])
			}
		}
		if fc, err := CompileFilterCriteria([]string{string(data)}); err == nil {
			ev, _ := RecordEvent([]byte(`{"eventSource":"aws:sqs","body":"{\"a\":\"v1\"}"}`))
			fc.Matches(ev)
		}
		for _, p := range compiled {
			for _, e := range fuzzEvents {
				if _, err := p.Matches([]byte(e)); err != nil {
					t.Fatal(err)
				}
			}
		}
	})
}

func seedFromOracle(f *testing.F) {
	data, err := os.ReadFile(filepath.Join("testdata", "eventbridge-patterns.json"))
	if err != nil {
		f.Fatal(err)
	}
	var cases []oracleCase
	if err := json.Unmarshal(data, &cases); err != nil {
		f.Fatal(err)
	}
	for _, c := range cases {
		f.Add([]byte(c.Pattern))
	}
}

// FuzzParseJSON checks the JSON reader against encoding/json: the same inputs are valid,
// and valid UTF-8 input decodes to the same values, numbers kept as text.
func FuzzParseJSON(f *testing.F) {
	for _, s := range []string{`{"a":[1,2.50,"x\u00e9\ud83d\ude80"],"b":{"c":null}}`, `[]`, `"\ud800"`, `-0.0e+1`, `01`, `{"a":1,}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := parseJSON(data)
		ev, evErr := ParseEvent(data)
		switch {
		case err == nil && v.kind == kindObject:
			if evErr != nil || !sameEvent(ev, eventOf(v)) {
				t.Fatalf("ParseEvent(%q) = %+v, %v; want %+v", data, ev, evErr, eventOf(v))
			}
		case evErr == nil:
			t.Fatalf("ParseEvent(%q) took what parseJSON refuses or is no object (%v)", data, err)
		}
		if (err == nil) != json.Valid(data) {
			if err == errTooDeep || strings.Contains(fmt.Sprint(err), "too deep") {
				return
			}
			t.Fatalf("parseJSON(%q) error %v, json.Valid %v", data, err, json.Valid(data))
		}
		if err != nil || !utf8.Valid(data) {
			return
		}
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		var want any
		if err := dec.Decode(&want); err != nil {
			t.Fatal(err)
		}
		if got := plain(v); !reflect.DeepEqual(got, want) {
			t.Fatalf("parseJSON(%q) = %#v, want %#v", data, got, want)
		}
	})
}

// sameEvent compares two events, an empty leaf list equal to none.
func sameEvent(a, b *Event) bool {
	if len(a.leaves) != len(b.leaves) || (len(a.leaves) > 0 && !reflect.DeepEqual(a.leaves, b.leaves)) {
		return false
	}
	return reflect.DeepEqual(a.paths, b.paths) && reflect.DeepEqual(a.arrayPaths, b.arrayPaths)
}

// plain converts a value to what encoding/json decodes (the last duplicate key wins).
func plain(v value) any {
	switch v.kind {
	case kindNull:
		return nil
	case kindTrue:
		return true
	case kindFalse:
		return false
	case kindNumber:
		return json.Number(v.text)
	case kindString:
		return v.text
	case kindArray:
		out := []any{}
		for _, it := range v.items {
			out = append(out, plain(it))
		}
		return out
	}
	out := map[string]any{}
	for _, m := range v.members {
		out[m.name] = plain(m.val)
	}
	return out
}

// FuzzMachine is a differential fuzzer: random valid patterns go into a Machine, and for
// random events the Machine must name exactly the patterns whose own Matches is true.
func FuzzMachine(f *testing.F) {
	for i := uint64(0); i < 8; i++ {
		f.Add(i, uint8(20+i))
	}
	f.Fuzz(func(t *testing.T, seed uint64, count uint8) {
		r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
		m := NewMachine[int]()
		patterns := map[int]*Pattern{}
		for i := 0; i < int(count); i++ {
			src := genPattern(r)
			p, err := Compile([]byte(src))
			if err != nil {
				continue
			}
			m.Add(i, p)
			patterns[i] = p
		}
		for i := range patterns { // some removals and replacements too
			switch r.IntN(6) {
			case 0:
				m.Remove(i)
				delete(patterns, i)
			case 1:
				if p, err := Compile([]byte(genPattern(r))); err == nil {
					m.Add(i, p)
					patterns[i] = p
				}
			}
		}
		for j := 0; j < 8; j++ {
			src := genEvent(r)
			ev, err := ParseEvent([]byte(src))
			if err != nil {
				t.Fatalf("generated event %s: %v", src, err)
			}
			got := m.MatchEvent(ev)
			slices.Sort(got)
			// Match flattens only the fields the patterns name, and must agree.
			filtered, err := m.Match([]byte(src))
			if err != nil {
				t.Fatal(err)
			}
			slices.Sort(filtered)
			if !slices.Equal(got, filtered) {
				t.Fatalf("event %s: MatchEvent %v, Match %v", src, got, filtered)
			}
			var want []int
			for name, p := range patterns {
				ok := p.MatchesEvent(ev)
				if ok != bruteMatch(&p.root, ev) {
					t.Fatalf("pattern %d against %s: MatchesEvent %v, brute force %v", name, src, ok, !ok)
				}
				if ok {
					want = append(want, name)
				}
			}
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("event %s\nmachine %v\npatterns %v", src, got, want)
			}
		}
	})
}

var (
	genPaths   = []string{"a", "b", "n", "c.d", "c.e", "arr.x", "arr.y", "ip"}
	genStrings = []string{`"v1"`, `"V1"`, `"v2"`, `"abc"`, `""`, `"10.0.0.1"`, `"10.0.0.200"`, `"2001:db8::1"`, `"a*c"`}
	genNumbers = []string{"1", "2.5", "1e2", "100", "-3", "0", "100.0", "12345678901234567890"}
)

func pick[T any](r *rand.Rand, list []T) T { return list[r.IntN(len(list))] }

func genValue(r *rand.Rand) string {
	switch r.IntN(10) {
	case 0:
		return "null"
	case 1:
		return pick(r, []string{"true", "false"})
	case 2, 3, 4:
		return pick(r, genNumbers)
	}
	return pick(r, genStrings)
}

func genMatcher(r *rand.Rand) string {
	switch r.IntN(16) {
	case 0:
		return `{"prefix":` + pick(r, []string{`"v"`, `"a"`, `""`, `"10."`}) + `}`
	case 1:
		return `{"prefix":{"equals-ignore-case":"V"}}`
	case 2:
		return `{"suffix":` + pick(r, []string{`"1"`, `"c"`, `""`}) + `}`
	case 3:
		return `{"suffix":{"equals-ignore-case":"C"}}`
	case 4:
		return `{"equals-ignore-case":` + pick(r, []string{`"v1"`, `"ABC"`}) + `}`
	case 5:
		return `{"wildcard":` + pick(r, []string{`"v*"`, `"*c"`, `"a\\*c"`, `"*"`}) + `}`
	case 6:
		return `{"anything-but":` + pick(r, []string{`"v1"`, `["v1","abc"]`, `[1,100]`, `5`, `{"prefix":"v"}`,
			`{"suffix":"c"}`, `{"equals-ignore-case":["V1"]}`, `{"wildcard":"*c"}`}) + `}`
	case 7:
		ops := [][]string{{">", "0"}, {">=", "1"}, {"<", "100"}, {"<=", "2.5"}, {"=", "100"}, {">", "-5", "<=", "1e2"}}
		op := pick(r, ops)
		parts := make([]string, len(op))
		for i, s := range op {
			if i%2 == 0 {
				parts[i] = `"` + s + `"`
			} else {
				parts[i] = s
			}
		}
		return `{"numeric":[` + strings.Join(parts, ",") + `]}`
	case 8:
		return `{"exists":` + pick(r, []string{"true", "false"}) + `}`
	case 9:
		return `{"cidr":` + pick(r, []string{`"10.0.0.0/24"`, `"2001:db8::/32"`}) + `}`
	}
	return genValue(r)
}

func genFields(r *rand.Rand, depth int) string {
	n := 1 + r.IntN(3)
	var parts []string
	for i := 0; i < n; i++ {
		if depth < 2 && r.IntN(6) == 0 {
			parts = append(parts, `"$or":[{`+genFields(r, depth+1)+`},{`+genFields(r, depth+1)+`}]`)
			continue
		}
		path := strings.Split(pick(r, genPaths), ".")
		ms := make([]string, 1+r.IntN(3))
		for j := range ms {
			ms[j] = genMatcher(r)
		}
		field := `[` + strings.Join(ms, ",") + `]`
		for k := len(path) - 1; k > 0; k-- {
			field = `{"` + path[k] + `":` + field + `}`
		}
		parts = append(parts, `"`+path[0]+`":`+field)
	}
	return strings.Join(parts, ",")
}

func genPattern(r *rand.Rand) string { return `{` + genFields(r, 0) + `}` }

func genEvent(r *rand.Rand) string {
	var parts []string
	leafOrArray := func() string {
		if r.IntN(4) == 0 {
			return `[` + genValue(r) + `,` + genValue(r) + `]`
		}
		return genValue(r)
	}
	for _, k := range []string{"a", "b", "n", "ip"} {
		if r.IntN(3) != 0 {
			parts = append(parts, `"`+k+`":`+leafOrArray())
		}
	}
	if r.IntN(3) != 0 {
		parts = append(parts, `"c":{"d":`+leafOrArray()+`,"e":`+leafOrArray()+`}`)
	}
	if r.IntN(3) != 0 {
		var elems []string
		for i := r.IntN(4); i > 0; i-- {
			elem := `{"x":` + leafOrArray() + `,"y":` + leafOrArray() + `}`
			if r.IntN(4) == 0 {
				elem = `[` + elem + `,{"x":` + leafOrArray() + `}]`
			}
			elems = append(elems, elem)
		}
		parts = append(parts, `"arr":[`+strings.Join(elems, ",")+`]`)
	}
	return `{` + strings.Join(parts, ",") + `}`
}

// bruteMatch is the definition MatchesEvent implements, by exhaustion: some alternative of
// the pattern's $or expansion has, for each field, either no leaf at all (exists:false) or a
// matching leaf, such that no two chosen leaves sit in different elements of one array.
func bruteMatch(n *node, ev *Event) bool {
	for _, alt := range expandNode(n) {
		if bruteAlternative(alt, ev, nil) {
			return true
		}
	}
	return false
}

func expandNode(n *node) [][]*field {
	alts := [][]*field{nil}
	for i := range n.fields {
		alts[0] = append(alts[0], &n.fields[i])
	}
	for _, group := range n.ors {
		var next [][]*field
		for _, a := range alts {
			for _, b := range group {
				for _, e := range expandNode(b) {
					next = append(next, append(append([]*field{}, a...), e...))
				}
			}
		}
		alts = next
	}
	return alts
}

func bruteAlternative(fields []*field, ev *Event, chosen [][]step) bool {
	if len(fields) == 0 {
		return true
	}
	f := fields[0]
	i := ev.first(f.path)
	if i < 0 {
		return f.absentOK && bruteAlternative(fields[1:], ev, chosen)
	}
	for ; i >= 0; i = ev.leaves[i].next {
		l := &ev.leaves[i]
		if !f.matches(l) {
			continue
		}
		agree := true
		for _, c := range chosen {
			at := map[int32]int32{}
			for _, s := range c {
				at[s.array] = s.index
			}
			for _, s := range l.trail {
				if j, ok := at[s.array]; ok && j != s.index {
					agree = false
				}
			}
		}
		if agree && bruteAlternative(fields[1:], ev, append(chosen, l.trail)) {
			return true
		}
	}
	return false
}
