package asl

import (
	"strings"
	"testing"
)

func TestIntrinsicFunctions(t *testing.T) {
	t.Parallel()
	input := `{"arr":[1,2,2,3],"s":"a,b;;c","obj":{"a":1},"other":{"b":2},"n":"x"}`
	for expr, want := range map[string]string{
		`States.Format('{} and {}', $.s, $.obj)`:           `"a,b;;c and {a=1}"`,
		`States.Format('esc \{\} {}', 'x')`:                `"esc {} x"`,
		`States.Format('it\'s {}', States.Array(1, 'a'))`:  `"it's [1, a]"`,
		`States.StringToJson('{"k":[1]}')`:                 `{"k":[1]}`,
		`States.JsonToString($.obj)`:                       `"{\"a\":1}"`,
		`States.Array($.arr, true, null, 1.5)`:             `[[1,2,2,3],true,null,1.5]`,
		`States.ArrayPartition($.arr, 3)`:                  `[[1,2,2],[3]]`,
		`States.ArrayContains($.arr, 3)`:                   `true`,
		`States.ArrayRange(1, 9, 4)`:                       `[1,5,9]`,
		`States.ArrayRange(5, 1, -2)`:                      `[5,3,1]`,
		`States.ArrayGetItem($.arr, 3)`:                    `3`,
		`States.ArrayLength($.arr)`:                        `4`,
		`States.ArrayUnique($.arr)`:                        `[1,2,3]`,
		`States.Base64Encode('hi')`:                        `"aGk="`,
		`States.Base64Decode('aGk=')`:                      `"hi"`,
		`States.Hash('abc', 'SHA-1')`:                      `"a9993e364706816aba3e25717850c26c9cd0d89d"`,
		`States.JsonMerge($.obj, $.other, false)`:          `{"a":1,"b":2}`,
		`States.MathAdd(1.5, -3)`:                          `-1`,
		`States.StringSplit($.s, ',;')`:                    `["a","b","c"]`,
		`States.ArrayLength(States.StringSplit($.s, ','))`: `2`,
	} {
		r, _ := execute(t, `{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"v.$":`+quote(expr)+`},"End":true}}}`, input, nil)
		status, out, name, cause := r.Status()
		if status != StatusSucceeded || string(out) != `{"v":`+want+`}` {
			t.Errorf("%s: %s %s %s %s, want %s", expr, status, out, name, cause, want)
		}
	}
	for _, expr := range []string{
		`States.ArrayGetItem($.arr, 9)`,
		`States.JsonMerge($.obj, $.other, true)`,
		`States.Hash('abc', 'SHA-3')`,
		`States.ArrayRange(1, 2000, 1)`,
		`States.Format('{} {}', 'one')`,
		`States.StringToJson($.n)`,
		`States.MathRandom(5, 1)`,
	} {
		r, _ := execute(t, `{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"v.$":`+quote(expr)+`},"End":true}}}`, input, nil)
		if status, _, name, cause := r.Status(); status != StatusFailed || name != "States.IntrinsicFailure" ||
			!strings.HasPrefix(cause, "An error occurred while executing the state 'P'") {
			t.Errorf("%s: %s %s %s, want States.IntrinsicFailure", expr, status, name, cause)
		}
	}
	r, _ := execute(t, `{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"v.$":"States.UUID()","r.$":"States.MathRandom(1, 3)"},"End":true}}}`, `{}`, nil)
	if _, out, _, _ := r.Status(); !strings.Contains(string(out), `"r":1`) && !strings.Contains(string(out), `"r":2`) {
		t.Errorf("MathRandom(1, 3): %s", out)
	}
}

func quote(s string) string { return encodeString(s) }

func TestParseIntrinsicRejectsMalformedCalls(t *testing.T) {
	t.Parallel()
	for _, s := range []string{
		`States.Format(`, `States.()`, `Foo.Bar()`, `States.Array('a)`, `States.Array(1,)`, `States.Array(1) x`, `States.Array(nope)`,
	} {
		if _, err := parseIntrinsic(s); err == nil {
			t.Errorf("parseIntrinsic(%q) accepted", s)
		}
	}
}

func FuzzParseIntrinsic(f *testing.F) {
	for _, s := range []string{
		`States.Format('a {} b', $.x)`, `States.Array(1, 'x', true, null, $$.Execution.Id)`,
		`States.ArrayLength(States.StringSplit($.s, ','))`, `States.Format('\{\} \' \\')`, `States.UUID()`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := parseIntrinsic(s)
		if err != nil {
			return
		}
		m := mustParse(t, `{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`)
		r, _ := m.Start([]byte(`{"x":[1,"a"],"s":"a,b"}`), testContext())
		x := &exec{m: m, r: r, now: testStart, stack: []*Frame{r.Root}}
		_, _ = x.evalCall(c, decode(r.Input))
	})
}
