package asl

import (
	"context"
	"strings"
	"testing"
)

// TestObjectsKeepTheirKeyOrder checks each place a state builds or passes on an object:
// Step Functions keeps the order of keys (input order, template order, new keys last).
func TestObjectsKeepTheirKeyOrder(t *testing.T) {
	t.Parallel()
	task := func(_ context.Context, e TaskEffect) ([]byte, string, string) {
		if string(e.Parameters) == `{"fail":true}` {
			return nil, "Boom", "it broke"
		}
		return []byte(`{"zeta":1,"alpha":{"y":2,"b":3}}`), "", ""
	}
	cases := []struct {
		name, def, input, want string
	}{
		{"templates in the order written, a path key where it stands",
			`{"StartAt":"P","States":{"P":{"Type":"Pass","Result":{"z":1,"a":2},"ResultPath":"$.r","Next":"Q"},
			"Q":{"Type":"Pass","Parameters":{"zz.$":"$.r.z","aa":"x","mm":{"k2":1,"k1":2},"in.$":"$"},"End":true}}}`,
			`{"y":1,"b":2}`, `{"zz":1,"aa":"x","mm":{"k2":1,"k1":2},"in":{"y":1,"b":2,"r":{"z":1,"a":2}}}`},
		{"input passed on as given", `{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`,
			`{"z":{"q":1,"c":[{"y":1,"x":2}]},"a":0}`, `{"z":{"q":1,"c":[{"y":1,"x":2}]},"a":0}`},
		{"ResultPath replaces an existing key in place",
			`{"StartAt":"P","States":{"P":{"Type":"Pass","Result":"new","ResultPath":"$.m","End":true}}}`,
			`{"z":1,"m":"old","a":2}`, `{"z":1,"m":"new","a":2}`},
		{"ResultPath creates missing parts at the end",
			`{"StartAt":"P","States":{"P":{"Type":"Pass","Result":{"k":1},"ResultPath":"$.m.n.o","End":true}}}`,
			`{"z":1,"m":{"y":0},"a":2}`, `{"z":1,"m":{"y":0,"n":{"o":{"k":1}}},"a":2}`},
		{"InputPath and OutputPath select in order",
			`{"StartAt":"P","States":{"P":{"Type":"Pass","InputPath":"$.in","Next":"Q"},"Q":{"Type":"Pass","OutputPath":"$.sub","End":true}}}`,
			`{"in":{"z":1,"sub":{"y":1,"b":2},"a":2}}`, `{"y":1,"b":2}`},
		{"ResultSelector in template order, task result in its order",
			`{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",
			"ResultSelector":{"whole.$":"$","b.$":"$.alpha.b","a":1},"End":true}}}`,
			`{}`, `{"whole":{"zeta":1,"alpha":{"y":2,"b":3}},"b":3,"a":1}`},
		{"a task result in its order",
			`{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","ResultPath":"$.res","End":true}}}`,
			`{"q":0}`, `{"q":0,"res":{"zeta":1,"alpha":{"y":2,"b":3}}}`},
		{"Catch's error output is Error then Cause",
			`{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"fail":true},
			"Catch":[{"ErrorEquals":["States.ALL"],"ResultPath":"$.err","Next":"D"}],"End":true},"D":{"Type":"Pass","End":true}}}`,
			`{"z":1,"a":2}`, `{"z":1,"a":2,"err":{"Error":"Boom","Cause":"it broke"}}`},
		{"Map results and ItemSelector in order",
			`{"StartAt":"M","States":{"M":{"Type":"Map","ItemsPath":"$.items","ItemSelector":{"v.$":"$$.Map.Item.Value","i.$":"$$.Map.Item.Index","k":"c"},
			"ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}}`,
			`{"items":[{"y":1,"b":2}]}`, `[{"v":{"y":1,"b":2},"i":0,"k":"c"}]`},
		{"Parallel results in order",
			`{"StartAt":"Par","States":{"Par":{"Type":"Parallel","Branches":[
			{"StartAt":"A","States":{"A":{"Type":"Pass","Result":{"z":1,"a":2},"End":true}}},
			{"StartAt":"B","States":{"B":{"Type":"Pass","End":true}}}],"End":true}}}`,
			`{"y":1,"b":2}`, `[{"z":1,"a":2},{"y":1,"b":2}]`},
		{"States.JsonMerge: the first object's keys, then the second's new ones",
			`{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"m.$":"States.JsonMerge($.a, $.b, false)"},"End":true}}}`,
			`{"a":{"z":1,"k":2,"c":3},"b":{"y":9,"k":8}}`, `{"m":{"z":1,"k":8,"c":3,"y":9}}`},
		{"States.StringToJson and States.JsonToString keep the order",
			`{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"o.$":"States.StringToJson($.s)","s.$":"States.JsonToString($.o)"},"End":true}}}`,
			`{"s":"{\"z\":1,\"a\":{\"y\":2,\"b\":3}}","o":{"q":1,"c":2}}`, `{"o":{"z":1,"a":{"y":2,"b":3}},"s":"{\"q\":1,\"c\":2}"}`},
		{"States.Array leaves its objects as they are",
			`{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"a.$":"States.Array($.o, 1)"},"End":true}}}`,
			`{"o":{"z":1,"a":2}}`, `{"a":[{"z":1,"a":2},1]}`},
		{"Assign'd variables and their reads",
			`{"StartAt":"P","States":{"P":{"Type":"Pass","Assign":{"v":{"z":1,"a":2},"w.$":"$"},"Next":"Q"},
			"Q":{"Type":"Pass","Parameters":{"v.$":"$v","w.$":"$w"},"End":true}}}`,
			`{"y":1,"b":2}`, `{"v":{"z":1,"a":2},"w":{"y":1,"b":2}}`},
		{"Choice passes its input on",
			`{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.z","NumericEquals":1,"Next":"D"}]},"D":{"Type":"Succeed"}}}`,
			`{"z":1,"a":{"y":2,"b":3}}`, `{"z":1,"a":{"y":2,"b":3}}`},
		{"JSONata: Output template, $states.input and expressions in order",
			`{"QueryLanguage":"JSONata","StartAt":"P","States":{"P":{"Type":"Pass","Assign":{"v":"{% {'q': 1, 'c': 2} %}"},"Next":"Q"},
			"Q":{"Type":"Pass","Output":{"zz":"{% $states.input %}","aa":"{% $v %}","mm":"{% {'k2': 1, 'k1': $states.input.b} %}"},"End":true}}}`,
			`{"y":1,"b":2}`, `{"zz":{"y":1,"b":2},"aa":{"q":1,"c":2},"mm":{"k2":1,"k1":2}}`},
		{"JSONata: Arguments in template order",
			`{"QueryLanguage":"JSONata","StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",
			"Arguments":{"z":"{% $states.input %}","a":1},"Output":"{% $states.result %}","End":true}}}`,
			`{"y":1,"b":2}`, `{"zeta":1,"alpha":{"y":2,"b":3}}`},
		{"States.Format writes an object in its order",
			`{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"s.$":"States.Format('{}', $.o)"},"End":true}}}`,
			`{"o":{"z":1,"a":2}}`, `{"s":"{z=1, a=2}"}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r, _ := execute(t, c.def, c.input, task)
			status, out, name, cause := r.Status()
			if status != StatusSucceeded || string(out) != c.want {
				t.Errorf("status %s (%s %s) output %s, want %s", status, name, cause, out, c.want)
			}
		})
	}
}

// TestTaskParametersAndHistoryKeepTheirKeyOrder checks what leaves the interpreter: a task's
// parameters and the inputs and outputs the history records.
func TestTaskParametersAndHistoryKeepTheirKeyOrder(t *testing.T) {
	t.Parallel()
	var params string
	_, events := execute(t, `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",
		"Parameters":{"FunctionName":"f","Payload":{"z.$":"$.z","a":1}},"ResultPath":null,"Next":"P"},
		"P":{"Type":"Pass","Result":{"z":1,"a":2},"ResultPath":"$.r","End":true}}}`, `{"z":0,"b":2}`,
		func(_ context.Context, e TaskEffect) ([]byte, string, string) {
			params = string(e.Parameters)
			return []byte(`{}`), "", ""
		})
	if want := `{"FunctionName":"f","Payload":{"z":0,"a":1}}`; params != want {
		t.Errorf("parameters %s, want %s", params, want)
	}
	var exited string
	for _, e := range events {
		if e.Type == "PassStateExited" {
			exited = e.StateExitedEventDetails.Output
		}
	}
	if want := `{"z":0,"b":2,"r":{"z":1,"a":2}}`; exited != want {
		t.Errorf("PassStateExited output %s, want %s", exited, want)
	}
}

// TestStateTestKeepsKeyOrder checks TestState's output and inspection data.
func TestStateTestKeepsKeyOrder(t *testing.T) {
	t.Parallel()
	res := runStateTest(t, `{"Type":"Pass","Parameters":{"z.$":"$.y","a":1},"ResultPath":"$.r","End":true}`, "", `{"y":{"q":1,"c":2},"b":2}`, "", nil)
	if want := `{"y":{"q":1,"c":2},"b":2,"r":{"z":{"q":1,"c":2},"a":1}}`; string(res.Output) != want {
		t.Errorf("output %s, want %s", res.Output, want)
	}
	if want := `{"z":{"q":1,"c":2},"a":1}`; res.Inspection.AfterParameters != want {
		t.Errorf("afterParameters %s, want %s", res.Inspection.AfterParameters, want)
	}
}

// TestDistributedChildDefinitionKeepsTemplateOrder checks the definition a Distributed Map's
// child executions run: its templates keep the order written.
func TestDistributedChildDefinitionKeepsTemplateOrder(t *testing.T) {
	t.Parallel()
	m := mustParse(t, `{"StartAt":"M","States":{"M":{"Type":"Map","ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},
		"StartAt":"P","States":{"P":{"Type":"Pass","Result":{"z":1,"a":2},"End":true}}},"End":true}}}`)
	if def := string(m.blocks[0].states["M"].childDefinition); !strings.Contains(def, `"Result":{"z":1,"a":2}`) {
		t.Errorf("child definition %s", def)
	}
}
