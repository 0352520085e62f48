package pattern

import (
	"fmt"
	"slices"
	"testing"
)

// benchRule returns the i-th of a realistic rule set: rules spread over 200 sources and
// 50 detail types, with the same detail structure and a mix of operators.
func benchRule(i int) string {
	source := fmt.Sprintf(`"com.example.service%d"`, i%200)
	detailType := fmt.Sprintf(`"Order %d"`, (i/200)%50)
	var detail string
	switch (i / 200) % 8 {
	case 0:
		detail = fmt.Sprintf(`"amount":[{"numeric":[">",%d,"<=",%d]}]`, i%1000, i%1000+500)
	case 1:
		detail = `"state":[{"anything-but":["cancelled","failed"]}]`
	case 2:
		detail = fmt.Sprintf(`"region":[{"prefix":"eu-%d"}]`, i%7)
	case 3:
		detail = `"customer":{"id":[{"exists":true}]}`
	case 4:
		detail = fmt.Sprintf(`"state":[{"equals-ignore-case":"SHIPPED-%d"}]`, i%5)
	case 5:
		detail = fmt.Sprintf(`"file":[{"wildcard":"orders/%d/*.json"}]`, i%9)
	case 6:
		detail = `"ip":[{"cidr":"10.0.0.0/8"}]`
	case 7:
		detail = fmt.Sprintf(`"$or":[{"state":["new"]},{"amount":[{"numeric":["<",%d]}]}]`, i%100)
	}
	dt := `"detail-type":[` + detailType + `]`
	if i%3 == 0 {
		dt = `"detail-type":[{"prefix":"Order "}]`
	}
	return `{"source":[` + source + `],` + dt + `,"detail":{` + detail + `}}`
}

var benchEvent = []byte(`{"version":"0","id":"6a7e8feb-b491-4cf7-a9f1-bf3703467718","detail-type":"Order 3",
"source":"com.example.service7","account":"111122223333","time":"2017-12-22T18:43:48Z","region":"eu-west-1",
"resources":["arn:aws:ec2:eu-west-1:111122223333:instance/i-1234567890abcdef0"],
"detail":{"state":"shipped-2","amount":420,"region":"eu-3-north","customer":{"id":"c-17","tier":"gold"},
"file":"orders/7/x.json","ip":"10.1.2.3","items":[{"sku":"a","qty":1},{"sku":"b","qty":2}]}}`)

func benchPatterns(b *testing.B, n int) []*Pattern {
	ps := make([]*Pattern, n)
	for i := range ps {
		p, err := Compile([]byte(benchRule(i)))
		if err != nil {
			b.Fatalf("rule %d %s: %v", i, benchRule(i), err)
		}
		ps[i] = p
	}
	return ps
}

// BenchmarkMachine matches one event (parsing included) against n rules in a Machine.
func BenchmarkMachine(b *testing.B) {
	for _, n := range []int{1, 100, 1000, 10000} {
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			m := NewMachine[int]()
			for i, p := range benchPatterns(b, n) {
				m.Add(i, p)
			}
			matched := 0
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				got, err := m.Match(benchEvent)
				if err != nil {
					b.Fatal(err)
				}
				matched = len(got)
			}
			b.ReportMetric(float64(matched), "matches")
			ev, _ := ParseEvent(benchEvent)
			cands := slices.Compact(slices.Sorted(slices.Values(m.idx.candidates(ev, nil))))
			b.ReportMetric(float64(len(cands)), "candidates")
		})
	}
}

// BenchmarkLoop is the baseline a Machine replaces: every rule tried against the event.
func BenchmarkLoop(b *testing.B) {
	for _, n := range []int{1, 100, 1000, 10000} {
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			ps := benchPatterns(b, n)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				ev, err := ParseEvent(benchEvent)
				if err != nil {
					b.Fatal(err)
				}
				for _, p := range ps {
					p.MatchesEvent(ev)
				}
			}
		})
	}
}

// BenchmarkCompile measures compiling one rule.
func BenchmarkCompile(b *testing.B) {
	src := []byte(benchRule(5))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compile(src); err != nil {
			b.Fatal(err)
		}
	}
}

// benchEvents are events of varied sources, detail types and details, so a run does not
// match one event over and over.
func benchEvents(n int) [][]byte {
	out := make([][]byte, n)
	states := []string{"shipped-2", "new", "cancelled", "SHIPPED-4", "failed"}
	for i := range out {
		out[i] = fmt.Appendf(nil, `{"version":"0","id":"6a7e8feb-b491-4cf7-a9f1-bf37034677%02d","detail-type":"Order %d",
"source":"com.example.service%d","account":"111122223333","time":"2017-12-22T18:43:48Z","region":"eu-west-1",
"resources":["arn:aws:ec2:eu-west-1:111122223333:instance/i-1234567890abcdef0"],
"detail":{"state":%q,"amount":%d,"region":"eu-%d-north","customer":{"id":"c-%d","tier":"gold"},
"file":"orders/%d/x.json","ip":"10.1.%d.3","items":[{"sku":"a","qty":1},{"sku":"b","qty":2}]}}`,
			i%100, (i/7)%50, i%200, states[i%len(states)], (i*37)%1500, i%7, i, i%9, i%250)
	}
	return out
}

// BenchmarkMachineMixed is the EventBridge figure: events of varied shapes matched against
// 1,000 rules of mixed pattern kinds (exact, prefix, anything-but, numeric ranges, exists,
// equals-ignore-case, wildcard, cidr, $or), parsing included. Run it on one core (-cpu 1);
// events/cpu-s divides by the process's CPU time, so other load on the machine does not
// lower it.
func BenchmarkMachineMixed(b *testing.B) {
	m := NewMachine[int]()
	for i, p := range benchPatterns(b, 1000) {
		m.Add(i, p)
	}
	events := benchEvents(1000)
	matched := 0
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	i := 0
	for b.Loop() {
		got, err := m.Match(events[i%len(events)])
		if err != nil {
			b.Fatal(err)
		}
		matched += len(got)
		i++
	}
	cpu := cpuTime() - cpu0
	b.ReportMetric(float64(matched)/float64(i), "matches/event")
	if cpu > 0 {
		b.ReportMetric(float64(i)/cpu.Seconds(), "events/cpu-s")
	}
}
