package pattern

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
)

// loopMatch is what a Machine must answer: every pattern tried in turn.
func loopMatch(patterns map[string]*Pattern, ev *Event) []string {
	var out []string
	for name, p := range patterns {
		if p.MatchesEvent(ev) {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// TestMachineAgreesWithEachPattern puts every valid oracle pattern in one machine and checks
// each oracle event against it.
func TestMachineAgreesWithEachPattern(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join("testdata", "eventbridge-patterns.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []oracleCase
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	m := NewMachine[string]()
	patterns := map[string]*Pattern{}
	for _, c := range cases {
		if p, err := Compile(c.Pattern); err == nil {
			m.Add(c.Name, p)
			patterns[c.Name] = p
		}
	}
	extra := map[string]string{
		"ip":       `{"detail":{"sourceIPAddress":["10.0.0.255"]}}`,
		"range":    `{"detail":{"c-count":[{"numeric":[">",0,"<=",5]}]}}`,
		"fold":     `{"detail-type":[{"equals-ignore-case":"TEST-DETAIL-TYPE"}]}`,
		"suffixci": `{"source":[{"suffix":{"equals-ignore-case":"SOURCE"}}]}`,
		"bool":     `{"boolean":[false]}`,
		"big":      `{"number":[12345678901234567890]}`,
	}
	for name, src := range extra {
		p := mustCompile(t, src)
		m.Add(name, p)
		patterns[name] = p
	}
	if m.Len() != len(patterns) {
		t.Fatalf("Len = %d, want %d", m.Len(), len(patterns))
	}
	matched := 0
	for _, c := range cases {
		ev, err := ParseEvent(c.Event)
		if err != nil {
			t.Fatal(err)
		}
		got := sorted(m.MatchEvent(ev))
		want := loopMatch(patterns, ev)
		if !slices.Equal(got, want) {
			t.Errorf("event of %s: machine %v, patterns %v", c.Name, got, want)
		}
		matched += len(got)
	}
	if matched == 0 {
		t.Fatal("nothing matched")
	}
}

func TestMachineAddReplaceRemove(t *testing.T) {
	t.Parallel()
	m := NewMachine[string]()
	ev, _ := ParseEvent([]byte(`{"source":"a","n":5}`))
	m.Add("r", mustCompile(t, `{"source":["a"]}`))
	if got := m.MatchEvent(ev); !slices.Equal(got, []string{"r"}) {
		t.Fatalf("after Add: %v", got)
	}
	m.Add("r", mustCompile(t, `{"source":["b"]}`))
	if got := m.MatchEvent(ev); len(got) != 0 || m.Len() != 1 {
		t.Fatalf("after replace: %v, Len %d", got, m.Len())
	}
	m.Add("n", mustCompile(t, `{"n":[{"numeric":[">",4]}]}`))
	if got := m.MatchEvent(ev); !slices.Equal(got, []string{"n"}) {
		t.Fatalf("range: %v", got)
	}
	if !m.Remove("n") || m.Remove("n") {
		t.Fatal("Remove should report whether the name was there")
	}
	if got := m.MatchEvent(ev); len(got) != 0 {
		t.Fatalf("after Remove: %v", got)
	}
	m.Remove("r")
	if m.Len() != 0 || len(m.idx.exact) != 0 || len(m.idx.ranges) != 0 {
		t.Fatalf("an empty machine keeps index entries: %+v", m.idx)
	}
}

// TestMachineConcurrentUse matches while other goroutines add and remove patterns; run
// with -race.
func TestMachineConcurrentUse(t *testing.T) {
	t.Parallel()
	m := NewMachine[int]()
	stable := mustCompile(t, `{"source":["s"],"n":[{"numeric":[">=",0]}]}`)
	m.Add(-1, stable)
	ev, _ := ParseEvent([]byte(`{"source":"s","n":3}`))
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				name := w*1000 + i
				m.Add(name, mustCompile(t, fmt.Sprintf(`{"source":["s"],"n":[{"numeric":["<",%d]}]}`, i)))
				if i%2 == 0 {
					m.Remove(name)
				}
			}
		}(w)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				if !slices.Contains(m.MatchEvent(ev), -1) {
					t.Error("the stable pattern stopped matching")
					return
				}
			}
		}()
	}
	wg.Wait()
	if m.Len() != 1+4*100 {
		t.Fatalf("Len = %d", m.Len())
	}
}
