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
	in := StateTestInput{Input: []byte(input), Context: testContext(), Now: testStart}
	if vars != "" {
		in.Variables = []byte(vars)
	}
	res, err := st.Run(in, task)
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

func TestStateTestInspectionAsAWSShowsIt(t *testing.T) {
	t.Parallel()
	// as localstack's test_test_state_scenarios snapshots recorded it
	res := runStateTest(t, `{"Type":"Pass","End":true}`, "", `{"Value":"HelloWorld"}`, "", nil)
	want := Inspection{Input: `{"Value":"HelloWorld"}`, AfterInputPath: `{"Value":"HelloWorld"}`, AfterParameters: `{"Value":"HelloWorld"}`,
		AfterResultSelector: `{"Value":"HelloWorld"}`, AfterResultPath: `{"Value":"HelloWorld"}`}
	if res.Inspection != want {
		t.Errorf("pass: %+v", res.Inspection)
	}
	res = runStateTest(t, `{"Type":"Pass","Result":{"resultKey":"result value"},"End":true}`, "", `{"Value":"HelloWorld"}`, "", nil)
	want = Inspection{Input: `{"Value":"HelloWorld"}`, Result: `{"resultKey":"result value"}`,
		AfterResultSelector: `{"resultKey":"result value"}`, AfterResultPath: `{"resultKey":"result value"}`}
	if res.Inspection != want {
		t.Errorf("pass with Result: %+v", res.Inspection)
	}
	res = runStateTest(t, `{"Type":"Fail","Error":"SomeFailure","Cause":"c"}`, "", `{"Value":"HelloWorld"}`, "", nil)
	if want := (Inspection{Input: `{"Value":"HelloWorld"}`, AfterInputPath: `{"Value":"HelloWorld"}`}); res.Inspection != want {
		t.Errorf("fail: %+v", res.Inspection)
	}
	res = runStateTest(t, `{"Type":"Map","ItemsPath":"$.Values","MaxConcurrency":1,"ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","Result":1,"End":true}}},"End":true}`,
		"", `{"Values":[1,2,3]}`, "", nil)
	if string(res.Output) != `[1,1,1]` || *res.Inspection.MaxConcurrency != 1 || res.Inspection.ToleratedFailureCount != nil {
		t.Errorf("map: %s %+v", res.Output, res.Inspection)
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
	if res.Status != TestCaughtError || res.NextState != "Handler" || *res.Inspection.ErrorDetails.CatchIndex != 1 || res.Error != "Oops" ||
		string(res.Output) != `{"a":1,"e":{"Error":"Oops","Cause":"bad"}}` {
		t.Fatalf("caught: %+v", res)
	}
	st, _ := ParseStateTest([]byte(`{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","End":true,
		"Retry":[{"ErrorEquals":["Oops"],"IntervalSeconds":2,"BackoffRate":2,"MaxAttempts":4}]}`), "")
	for count, want := range map[int]string{3: TestRetriable, 4: TestFailed} {
		res, err := st.Run(StateTestInput{Input: []byte(`{}`), Context: testContext(), Now: testStart, RetrierRetryCount: count}, fail)
		if err != nil || res.Status != want || *res.Inspection.ErrorDetails.RetryIndex != 0 {
			t.Fatalf("%d retries made: %+v %v", count, res, err)
		}
		if want == TestRetriable && *res.Inspection.ErrorDetails.RetryBackoffIntervalSeconds != 16 {
			t.Fatalf("backoff %d", *res.Inspection.ErrorDetails.RetryBackoffIntervalSeconds)
		}
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
	if _, err := st.Run(StateTestInput{Context: testContext(), Now: testStart}, nil); !errors.Is(err, ErrTaskRunner) {
		t.Fatalf("err %v", err)
	}
}

func TestStateTestMocks(t *testing.T) {
	t.Parallel()
	run := func(def string, mock *Mock) *StateTestResult {
		st, err := ParseStateTest([]byte(def), "")
		if err != nil {
			t.Fatal(err)
		}
		res, err := st.Run(StateTestInput{Input: []byte(`{"a":1}`), Context: testContext(), Now: testStart, Mock: mock}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	res := run(`{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","ResultSelector":{"p.$":"$.Payload"},"End":true}`,
		&Mock{Result: []byte(`{"Payload":7}`)})
	if res.Status != TestSucceeded || string(res.Output) != `{"p":7}` {
		t.Errorf("mocked result: %+v", res)
	}
	res = run(`{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Catch":[{"ErrorEquals":["Other"],"Next":"X"},{"ErrorEquals":["Boom"],"Next":"Y"}],"End":true}`,
		&Mock{Error: "Boom", Cause: "it broke"})
	if res.Status != TestCaughtError || res.NextState != "Y" || res.Error != "Boom" || *res.Inspection.ErrorDetails.CatchIndex != 1 {
		t.Errorf("mocked error caught: %+v", res)
	}
	res = run(`{"Type":"Parallel","Branches":[{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}],"ResultPath":"$.r","End":true}`,
		&Mock{Result: []byte(`["m"]`)})
	if res.Status != TestSucceeded || string(res.Output) != `{"a":1,"r":["m"]}` {
		t.Errorf("mocked Parallel: %+v", res)
	}
	res = run(`{"Type":"Map","ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"Retry":[{"ErrorEquals":["States.ALL"]}],"End":true}`,
		&Mock{Error: "States.TaskFailed", Cause: "c"})
	if res.Status != TestRetriable || *res.Inspection.ErrorDetails.RetryIndex != 0 {
		t.Errorf("mocked Map error retried: %+v", res)
	}
}

func TestStateTestContextOverlaysTheContextObject(t *testing.T) {
	t.Parallel()
	st, err := ParseStateTest([]byte(`{"Type":"Pass","Parameters":{"n.$":"$$.Execution.Name","id.$":"$$.Execution.Id","x.$":"$$.Custom"},"End":true}`), "")
	if err != nil {
		t.Fatal(err)
	}
	res, err := st.Run(StateTestInput{Context: testContext(), Now: testStart,
		ContextObject: []byte(`{"Execution":{"Name":"given"},"Custom":3}`)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"n":"given","id":"` + testContext().ExecutionArn + `","x":3}`
	if string(res.Output) != want {
		t.Errorf("output %s, want %s", res.Output, want)
	}
}
