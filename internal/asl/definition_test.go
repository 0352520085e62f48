package asl

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestValidateDiagnostics(t *testing.T) {
	t.Parallel()
	for name, c := range map[string]struct {
		def  string
		want []Diagnostic
	}{
		"valid": {`{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}`, nil},
		// the following four as AWS recorded them (localstack's test_sfn_api_validation snapshots)
		"bad json": {`{"StartAt":`, []Diagnostic{{"ERROR", "INVALID_JSON_DESCRIPTION",
			"unexpected EOF\n at [Source: (String)\"{\\\"StartAt\\\":\"; line: 1, column: 11]", `[Source: (String)"{\"StartAt\":"; line: 1, column: 11]`}}},
		"empty":      {` `, []Diagnostic{{"ERROR", "SCHEMA_VALIDATION_FAILED", "Definition must be a valid JSON object", ""}}},
		"empty dict": {`{}`, []Diagnostic{{"ERROR", "SCHEMA_VALIDATION_FAILED", "These fields are required: [States, StartAt]", "/"}}},
		"query language downgrade": {`{"QueryLanguage":"JSONata","StartAt":"Pass","States":{"Pass":{"Type":"Pass","QueryLanguage":"JSONPath","End":true}}}`, []Diagnostic{
			{"ERROR", "SCHEMA_VALIDATION_FAILED", "'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine", "/States/Pass"}}},
		"next not a string": {`{"StartAt":"A","States":{"A":{"Type":"Pass","Next":1},"B":{"Type":"Succeed"}}}`, []Diagnostic{
			{"ERROR", "SCHEMA_VALIDATION_FAILED", "The value for the field 'Next' must be a STRING", "/States/A/Next"},
			{"ERROR", "SCHEMA_VALIDATION_FAILED", "This state must have exactly one of 'Next' or 'End'", "/States/A"},
			{"ERROR", "MISSING_TRANSITION_TARGET", `State "B" is not reachable.`, "/States/B"},
		}},
		"missing target": {`{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"Nope"}}}`, []Diagnostic{
			{"ERROR", "MISSING_TRANSITION_TARGET", "Missing 'Next' target: Nope", "/States/A/Next"},
		}},
		"no terminal state": {`{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"},"B":{"Type":"Pass","Next":"A"}}}`, []Diagnostic{
			{"ERROR", "MISSING_END_STATE", "Workflow has no terminal state", ""},
		}},
		"unknown field": {`{"StartAt":"A","States":{"A":{"Type":"Pass","End":true,"Bogus":1}}}`, []Diagnostic{
			{"ERROR", "SCHEMA_VALIDATION_FAILED", "Field 'Bogus' is not supported by Step Functions", "/States/A"},
		}},
		"bad type": {`{"StartAt":"A","States":{"A":{"Type":"Nope","End":true}}}`, []Diagnostic{
			{"ERROR", "SCHEMA_VALIDATION_FAILED", "The value for the field 'Type' must be one of [Choice, Fail, Map, Parallel, Pass, Succeed, Task, Wait]", "/States/A/Type"},
		}},
		"jsonpath field in jsonata": {`{"QueryLanguage":"JSONata","StartAt":"A","States":{"A":{"Type":"Pass","InputPath":"$","End":true}}}`, []Diagnostic{
			{"ERROR", "SCHEMA_VALIDATION_FAILED", `The field "InputPath" is not supported in JSONata query language`, "/States/A"},
		}},
		"nested missing target": {`{"StartAt":"P","States":{"P":{"Type":"Parallel","End":true,"Branches":[{"StartAt":"X","States":{"X":{"Type":"Pass","Next":"Y"}}}]}}}`, []Diagnostic{
			{"ERROR", "MISSING_TRANSITION_TARGET", "Missing 'Next' target: Y", "/States/P/Branches[0]/States/X/Next"},
		}},
	} {
		got := Validate([]byte(c.def))
		if !slices.Equal(got, c.want) {
			t.Errorf("%s:\n got  %+v\n want %+v", name, got, c.want)
		}
	}
}

func TestParseReportsInvalidDefinition(t *testing.T) {
	t.Parallel()
	_, err := Parse([]byte(`{"StartAt":"A","States":{"A":{"Type":"Pass","Next":1}}}`))
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err %v", err)
	}
	want := "Invalid State Machine Definition: ''SCHEMA_VALIDATION_FAILED: The value for the field 'Next' must be a STRING at /States/A/Next', " +
		"'SCHEMA_VALIDATION_FAILED: This state must have exactly one of 'Next' or 'End' at /States/A', " +
		"'MISSING_END_STATE: Workflow has no terminal state''"
	if err.Error() != want {
		t.Fatalf("got  %s\nwant %s", err, want)
	}
	_, err = Parse([]byte(`{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"}}}`))
	if want := "Invalid State Machine Definition: 'MISSING_TRANSITION_TARGET: Missing 'Next' target: B at /States/A/Next'"; err == nil ||
		!strings.HasPrefix(err.Error(), want[:len(want)-1]) {
		t.Fatalf("got %v", err)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}`,
		`{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.a","NumericEquals":1,"Next":"A"}],"Default":"A"},"A":{"Type":"Succeed"}}}`,
		`{"StartAt":"M","States":{"M":{"Type":"Map","ItemsPath":"$.x","MaxConcurrency":2,"ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}}`,
		`{"StartAt":"P","States":{"P":{"Type":"Parallel","Branches":[{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":1,"End":true}}}],"Retry":[{"ErrorEquals":["States.ALL"]}],"End":true}}}`,
		`{"QueryLanguage":"JSONata","StartAt":"A","States":{"A":{"Type":"Pass","Output":"{% $states.input %}","End":true}}}`,
		`{"StartAt":"M","States":{"M":{"Type":"Map","ItemsPath":"$.x","ItemSelector":{"v.$":"$$.Map.Item.Value"},"ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED"},"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}}`,
		`{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"a.$":"States.Format('{}', $.b)"},"Catch":[{"ErrorEquals":["States.ALL"],"Next":"F"}],"End":true},"F":{"Type":"Fail","Error":"E"}}}`,
	} {
		f.Add([]byte(s), []byte(`{"a":1,"x":[1,2],"b":"c"}`))
	}
	f.Fuzz(func(t *testing.T, def, input []byte) {
		m, err := Parse(def)
		if err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) || len(ve.Diagnostics) == 0 {
				t.Fatalf("Parse error %v is not a ValidationError with diagnostics", err)
			}
			return
		}
		r, err := m.Start(input, testContext())
		if err != nil {
			return
		}
		// a bounded number of steps, replying to every effect: no panic, no runaway
		for i := 0; i < 50 && !r.Finished; i++ {
			_, effects := r.Step(m, testStart)
			for _, e := range effects {
				switch e := e.(type) {
				case TaskEffect:
					r.Complete(e.ID, []byte(`{"ok":true}`))
				case TimerEffect:
					r.Fire(e.ID)
				case MapRunEffect:
					if _, err := e.ItemInput(m, 0, []byte(`1`)); err != nil {
						r.Fail(e.ID, "States.Runtime", err.Error())
					} else {
						r.Complete(e.ID, []byte(`[]`))
					}
				}
			}
		}
	})
}

func TestJSONataSyntaxErrorsAreDefinitionErrors(t *testing.T) {
	t.Parallel()
	diags := Validate([]byte(`{"QueryLanguage":"JSONata","StartAt":"A","States":{"A":{"Type":"Pass","Output":{"x":"{% $states.input.( %}"},"End":true}}}`))
	if len(diags) != 1 || diags[0].Code != "SCHEMA_VALIDATION_FAILED" || diags[0].Location != "/States/A/Output/x" {
		t.Fatalf("diagnostics %+v", diags)
	}
}

func TestAssignNamesVariables(t *testing.T) {
	t.Parallel()
	ok := `{"StartAt":"A","States":{"A":{"Type":"Pass","Assign":{"a_1":1,"_b.$":"$.x","ünï":2},"End":true}}}`
	if d := Validate([]byte(ok)); d != nil {
		t.Fatalf("valid names rejected: %+v", d)
	}
	bad := `{"StartAt":"A","States":{"A":{"Type":"Pass","Assign":{"1a":1,"b-c":2,"d.$":"nope"},"End":true}}}`
	if d := Validate([]byte(bad)); len(d) != 3 {
		t.Fatalf("diagnostics %+v", d)
	}
}

func TestExpressRefusesCallbacksSyncAndActivities(t *testing.T) {
	t.Parallel()
	def := `{"StartAt":"SendMessageWithWait","States":{"SendMessageWithWait":{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage.waitForTaskToken","End":true}}}`
	if d := Validate([]byte(def)); d != nil {
		t.Fatalf("Standard: %+v", d)
	}
	want := []Diagnostic{{"ERROR", "SCHEMA_VALIDATION_FAILED", "Express state machine does not support '.waitForTaskToken' service integration ", "/States/SendMessageWithWait/Resource"}}
	if d := ValidateType([]byte(def), Express); !slices.Equal(d, want) {
		t.Fatalf("Express: %+v", d)
	}
	for _, res := range []string{"arn:aws:states:::states:startExecution.sync:2", "arn:aws:states:us-east-1:111111111111:activity:a"} {
		if _, err := ParseType([]byte(`{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"`+res+`","End":true}}}`), Express); err == nil {
			t.Errorf("Express accepted %s", res)
		}
	}
}

func TestStatesALLComesLast(t *testing.T) {
	t.Parallel()
	def := `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","End":true,
		"Retry":[{"ErrorEquals":["States.ALL"]},{"ErrorEquals":["X"]}],
		"Catch":[{"ErrorEquals":["States.ALL"],"Next":"F"},{"ErrorEquals":["X"],"Next":"F"}]},"F":{"Type":"Fail"}}}`
	if d := Validate([]byte(def)); len(d) != 2 || d[0].Location != "/States/T/Retry[0]/ErrorEquals" || d[1].Location != "/States/T/Catch[0]/ErrorEquals" {
		t.Fatalf("diagnostics %+v", d)
	}
}
