package asl

import (
	"errors"
	"testing"
)

func runStateTest(t *testing.T, def, stateName, input, vars string, task func(TaskEffect) ([]byte, string, string)) *StateTestResult {
	t.Helper()
	st, err := ParseStateTest([]byte(def), stateName)
	if err != nil {
		t.Fatalf("ParseStateTest: %v", err)
	}
	var v []byte
	if vars != "" {
		v = []byte(vars)
	}
	res, err := st.Run([]byte(input), v, testContext(), testStart, task)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestStateTestInspectsEachStep(t *testing.T) {
	t.Parallel()
	res := runStateTest(t, `{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","InputPath":"$.in",
		"Parameters":{"v.$":"$.v"},"ResultSelector":{"r.$":"$.Payload"},"ResultPath":"$.out","Next":"After"}`, "",
		`{"in":{"v":1}}`, "", func(te TaskEffect) ([]byte, string, string) {
			return []byte(`{"Payload":2}`), "", ""
		})
	want := Inspection{Input: `{"in":{"v":1}}`, AfterInputPath: `{"v":1}`, AfterParameters: `{"v":1}`,
		Result: `{"Payload":2}`, AfterResultSelector: `{"r":2}`, AfterResultPath: `{"in":{"v":1},"out":{"r":2}}`}
	if res.Status != TestSucceeded || res.NextState != "After" || string(res.Output) != want.AfterResultPath || res.Inspection != want {
		t.Fatalf("result %+v\ninspection %+v", res, res.Inspection)
	}
}

func TestStateTestReportsRetriesAndCatches(t *testing.T) {
	t.Parallel()
	fail := func(TaskEffect) ([]byte, string, string) { return nil, "Oops", "bad" }
	def := `{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","End":true,
		"Retry":[{"ErrorEquals":["Other"]},{"ErrorEquals":["Oops"],"IntervalSeconds":3}],
		"Catch":[{"ErrorEquals":["States.ALL"],"Next":"Handler","ResultPath":"$.e"}]}`
	res := runStateTest(t, def, "", `{}`, "", fail)
	if res.Status != TestRetriable || res.Error != "Oops" || res.Cause != "bad" ||
		*res.Inspection.ErrorDetails.RetryIndex != 1 || *res.Inspection.ErrorDetails.RetryBackoffIntervalSeconds != 3 {
		t.Fatalf("retriable: %+v %+v", res, res.Inspection.ErrorDetails)
	}
	def = `{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","End":true,
		"Catch":[{"ErrorEquals":["Other"],"Next":"A"},{"ErrorEquals":["States.ALL"],"Next":"Handler","ResultPath":"$.e"}]}`
	res = runStateTest(t, def, "", `{"a":1}`, "", fail)
	if res.Status != TestCaughtError || res.NextState != "Handler" || *res.Inspection.ErrorDetails.CatchIndex != 1 ||
		string(res.Output) != `{"a":1,"e":{"Cause":"bad","Error":"Oops"}}` {
		t.Fatalf("caught: %+v", res)
	}
	res = runStateTest(t, `{"Type":"Fail","Error":"E","Cause":"C"}`, "", `{}`, "", nil)
	if res.Status != TestFailed || res.Error != "E" || res.Cause != "C" {
		t.Fatalf("fail: %+v", res)
	}
}

func TestStateTestChoiceAndVariables(t *testing.T) {
	t.Parallel()
	res := runStateTest(t, `{"QueryLanguage":"JSONata","Type":"Choice","Choices":[
		{"Condition":"{% $limit < $states.input.n %}","Next":"Big","Assign":{"seen":"{% $states.input.n %}"}}],"Default":"Small"}`,
		"", `{"n":5}`, `{"limit":3}`, nil)
	if res.Status != TestSucceeded || res.NextState != "Big" || res.Inspection.Variables != `{"limit":3,"seen":5}` {
		t.Fatalf("%+v %+v", res, res.Inspection)
	}
	res = runStateTest(t, `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"},"B":{"Type":"Wait","Seconds":60,"End":true}}}`,
		"B", `{"x":1}`, "", nil)
	if res.Status != TestSucceeded || res.NextState != "" || string(res.Output) != `{"x":1}` {
		t.Fatalf("%+v", res)
	}
	if _, err := ParseStateTest([]byte(`{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}`), "Z"); err == nil {
		t.Fatal("a missing state name was accepted")
	}
	st, _ := ParseStateTest([]byte(`{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","End":true}`), "")
	if _, err := st.Run([]byte(`{}`), nil, testContext(), testStart, nil); !errors.Is(err, ErrTaskRunner) {
		t.Fatalf("err %v", err)
	}
}
