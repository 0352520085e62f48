package asl

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

var testStart = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

func testContext() Context {
	return Context{
		ExecutionArn:     "arn:aws:states:us-east-1:111111111111:execution:sm:ex",
		ExecutionName:    "ex",
		RoleArn:          "arn:aws:iam::111111111111:role/r",
		StartTime:        testStart,
		StateMachineArn:  "arn:aws:states:us-east-1:111111111111:stateMachine:sm",
		StateMachineName: "sm",
	}
}

func mustParse(t testing.TB, def string) *Machine {
	t.Helper()
	m, err := Parse([]byte(def))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return m
}

// execute runs def on input with the in-memory driver and the given task runner.
func execute(t testing.TB, def, input string, task func(context.Context, TaskEffect) ([]byte, string, string)) (*Run, []Event) {
	t.Helper()
	m := mustParse(t, def)
	r, err := m.Start([]byte(input), testContext())
	if err != nil {
		t.Fatal(err)
	}
	d := &Memory{Now: func() time.Time { return testStart }, Task: task}
	events, err := d.Run(context.Background(), m, r)
	if err != nil {
		t.Fatal(err)
	}
	return r, events
}

func types(events []Event) []string {
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = e.Type
	}
	return out
}

// roundTrip stores and reloads a run as a durable driver does.
func roundTrip(t testing.TB, r *Run) *Run {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back Run
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if b2, _ := json.Marshal(&back); !bytes.Equal(b, b2) {
		t.Fatalf("run does not round-trip:\n%s\n%s", b, b2)
	}
	return &back
}

// TestRunRoundTripsAtEveryStep drives every oracle definition storing and reloading the
// run after every step and every reply, and expects the history of an undisturbed run.
func TestRunRoundTripsAtEveryStep(t *testing.T) {
	t.Parallel()
	cases := loadOracle(t)
	for _, c := range cases {
		m, err := Parse(c.Definition)
		if err != nil {
			continue
		}
		r, err := m.Start(c.Input, testContext())
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		var timers []TimerEffect
		for i := 0; i < 100000 && !r.Finished; i++ {
			r = roundTrip(t, r)
			events, effects := r.Step(m, testStart)
			got = append(got, types(events)...)
			r = roundTrip(t, r)
			for _, e := range effects {
				if te, ok := e.(TimerEffect); ok {
					timers = append(timers, te)
				}
			}
			if len(timers) > 0 && !r.Finished {
				r.Fire(timers[0].ID)
				timers = timers[1:]
			}
		}
		want := types(mustRunEvents(t, m, c.Input))
		if !slices.Equal(got, want) {
			t.Errorf("%s: with round trips %v, without %v", c.Name, got, want)
		}
	}
}

func mustRunEvents(t *testing.T, m *Machine, input []byte) []Event {
	r, err := m.Start(input, testContext())
	if err != nil {
		t.Fatal(err)
	}
	d := &Memory{Now: func() time.Time { return testStart }}
	events, err := d.Run(context.Background(), m, r)
	if err != nil {
		t.Fatal(err)
	}
	return events
}

func TestEventIDsChainWithinEachBranch(t *testing.T) {
	t.Parallel()
	_, events := execute(t, `{"StartAt":"M","States":{"M":{"Type":"Map","End":true,
		"ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}}}}`, `[1,2]`, nil)
	want := []string{"ExecutionStarted", "MapStateEntered", "MapStateStarted",
		"MapIterationStarted", "PassStateEntered", "PassStateExited", "MapIterationSucceeded",
		"MapIterationStarted", "PassStateEntered", "PassStateExited", "MapIterationSucceeded",
		"MapStateSucceeded", "MapStateExited", "ExecutionSucceeded"}
	if got := types(events); !slices.Equal(got, want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	for i, e := range events {
		if e.ID != int64(i+1) {
			t.Errorf("event %d has id %d", i, e.ID)
		}
		if e.PreviousEventID >= e.ID {
			t.Errorf("event %d (%s) points forward to %d", e.ID, e.Type, e.PreviousEventID)
		}
	}
	// the first state of an iteration follows its MapIterationStarted
	if events[4].PreviousEventID != events[3].ID {
		t.Errorf("PassStateEntered previous %d, want %d", events[4].PreviousEventID, events[3].ID)
	}
}

func TestEventMarshalsAsHistoryEvent(t *testing.T) {
	t.Parallel()
	e := Event{Timestamp: time.UnixMilli(1700000000123), Type: "PassStateExited", ID: 3, PreviousEventID: 2,
		StateExitedEventDetails: &StateExitedEventDetails{Name: "P", Output: "{}", OutputDetails: &DataDetails{}}}
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"timestamp":1700000000.123,"type":"PassStateExited","id":3,"previousEventId":2,"stateExitedEventDetails":{"name":"P","output":"{}","outputDetails":{"truncated":false}}}`
	if string(b) != want {
		t.Fatalf("got  %s\nwant %s", b, want)
	}
	var back Event
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !back.Timestamp.Equal(e.Timestamp) || back.Type != e.Type || back.StateExitedEventDetails.Name != "P" {
		t.Fatalf("round trip: %+v", back)
	}
}

func TestTaskRetryThenCatch(t *testing.T) {
	t.Parallel()
	calls := 0
	r, events := execute(t, `{"StartAt":"T","States":{
		"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"n.$":"$.n"},
			"Retry":[{"ErrorEquals":["Boom"],"IntervalSeconds":2,"MaxAttempts":2,"BackoffRate":3}],
			"Catch":[{"ErrorEquals":["States.ALL"],"ResultPath":"$.err","Next":"After"}],"Next":"After"},
		"After":{"Type":"Pass","End":true}}}`, `{"n":1}`,
		func(_ context.Context, te TaskEffect) ([]byte, string, string) {
			calls++
			if string(te.Parameters) != `{"n":1}` {
				t.Errorf("parameters %s", te.Parameters)
			}
			return nil, "Boom", "it broke"
		})
	if calls != 3 {
		t.Fatalf("task ran %d times, want 3", calls)
	}
	status, out, _, _ := r.Status()
	if status != StatusSucceeded || string(out) != `{"n":1,"err":{"Error":"Boom","Cause":"it broke"}}` {
		t.Fatalf("status %s output %s", status, out)
	}
	want := []string{"ExecutionStarted", "TaskStateEntered",
		"TaskScheduled", "TaskStarted", "TaskFailed",
		"TaskScheduled", "TaskStarted", "TaskFailed",
		"TaskScheduled", "TaskStarted", "TaskFailed",
		"TaskStateExited", "PassStateEntered", "PassStateExited", "ExecutionSucceeded"}
	if got := types(events); !slices.Equal(got, want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	// backoff: 2s, then 6s, on the driver's clock
	if d := events[5].Timestamp.Sub(events[4].Timestamp); d != 2*time.Second {
		t.Errorf("first backoff %v", d)
	}
	if d := events[8].Timestamp.Sub(events[7].Timestamp); d != 6*time.Second {
		t.Errorf("second backoff %v", d)
	}
}

func TestTaskEffectCarriesTimeoutsAndToken(t *testing.T) {
	t.Parallel()
	m := mustParse(t, `{"StartAt":"T","States":{"T":{"Type":"Task",
		"Resource":"arn:aws:states:::sqs:sendMessage.waitForTaskToken",
		"Parameters":{"token.$":"$$.Task.Token"},"TimeoutSecondsPath":"$.t","HeartbeatSeconds":5,"End":true}}}`)
	r, _ := m.Start([]byte(`{"t":30}`), testContext())
	events, effects := r.Step(m, testStart)
	if len(effects) != 1 {
		t.Fatalf("effects %v", effects)
	}
	te := effects[0].(TaskEffect)
	if te.TaskToken == "" || string(te.Parameters) != fmt.Sprintf(`{"token":%q}`, te.TaskToken) {
		t.Fatalf("token %q parameters %s", te.TaskToken, te.Parameters)
	}
	if te.TimeoutSeconds != 30 || te.HeartbeatSeconds != 5 {
		t.Fatalf("timeouts %d %d", te.TimeoutSeconds, te.HeartbeatSeconds)
	}
	sched := events[2].TaskScheduledEventDetails
	if sched == nil || sched.ResourceType != "sqs" || sched.Resource != "sendMessage.waitForTaskToken" ||
		sched.Region != "us-east-1" || *sched.TimeoutInSeconds != 30 || *sched.HeartbeatInSeconds != 5 {
		t.Fatalf("TaskScheduled %+v", sched)
	}
	r = roundTrip(t, r)
	r.Fail(te.ID, "States.Timeout", "")
	events, _ = r.Step(m, testStart)
	if got := types(events); !slices.Equal(got, []string{"TaskTimedOut", "ExecutionFailed"}) {
		t.Fatalf("events %v", got)
	}
	if status, _, name, _ := r.Status(); status != StatusFailed || name != "States.Timeout" {
		t.Fatalf("status %s error %s", status, name)
	}
}

func TestStopAbortsTheExecution(t *testing.T) {
	t.Parallel()
	m := mustParse(t, `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":100,"End":true}}}`)
	r, _ := m.Start(nil, testContext())
	_, effects := r.Step(m, testStart)
	if len(effects) != 1 {
		t.Fatalf("effects %v", effects)
	}
	r.Stop("Cancelled", "by test")
	events, _ := r.Step(m, testStart)
	if got := types(events); !slices.Equal(got, []string{"ExecutionAborted"}) {
		t.Fatalf("events %v", got)
	}
	if d := events[0].ExecutionAbortedEventDetails; *d.Error != "Cancelled" || *d.Cause != "by test" {
		t.Fatalf("details %+v", d)
	}
	// a late timer changes nothing
	r.Fire(effects[0].(TimerEffect).ID)
	if events, _ := r.Step(m, testStart); len(events) != 0 {
		t.Fatalf("events after the end: %v", types(events))
	}
	if status, _, _, _ := r.Status(); status != StatusAborted {
		t.Fatalf("status %s", status)
	}
}

func TestWaitTimerIsDueAtItsTimestamp(t *testing.T) {
	t.Parallel()
	m := mustParse(t, `{"StartAt":"W","States":{"W":{"Type":"Wait","TimestampPath":"$.at","End":true}}}`)
	r, _ := m.Start([]byte(`{"at":"2030-01-02T03:04:05Z"}`), testContext())
	_, effects := r.Step(m, testStart)
	te, ok := effects[0].(TimerEffect)
	if !ok || !te.At.Equal(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)) {
		t.Fatalf("effects %v", effects)
	}
}

func TestParallelBranchFailureFailsTheState(t *testing.T) {
	t.Parallel()
	r, events := execute(t, `{"StartAt":"P","States":{"P":{"Type":"Parallel","End":true,"Branches":[
		{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}},
		{"StartAt":"B","States":{"B":{"Type":"Fail","Error":"E","Cause":"C"}}}]}}}`, `{}`, nil)
	status, _, name, cause := r.Status()
	if status != StatusFailed || name != "E" || cause != "C" {
		t.Fatalf("status %s %s %s", status, name, cause)
	}
	if got := types(events); !slices.Contains(got, "ParallelStateFailed") {
		t.Fatalf("events %v", got)
	}
}

func TestMapToleratedFailures(t *testing.T) {
	t.Parallel()
	def := `{"StartAt":"M","States":{"M":{"Type":"Map","End":true,"ToleratedFailureCount":1,
		"ItemProcessor":{"StartAt":"C","States":{
			"C":{"Type":"Choice","Choices":[{"Variable":"$","NumericEquals":0,"Next":"F"}],"Default":"P"},
			"F":{"Type":"Fail","Error":"Zero"},"P":{"Type":"Pass","End":true}}}}}}`
	r, _ := execute(t, def, `[1,0,2]`, nil)
	if status, out, _, _ := r.Status(); status != StatusSucceeded || string(out) != `[1,{"Error":"Zero"},2]` {
		t.Fatalf("status %s output %s", status, out)
	}
	r, _ = execute(t, def, `[0,0,2]`, nil)
	if status, _, name, _ := r.Status(); status != StatusFailed || name != "States.ExceedToleratedFailureThreshold" {
		t.Fatalf("status %s error %s", status, name)
	}
	pct := strings.Replace(def, `"ToleratedFailureCount":1`, `"ToleratedFailurePercentage":50`, 1)
	if r, _ = execute(t, pct, `[0,1]`, nil); r.Phase != StatusSucceeded {
		t.Fatalf("50%% failed with 50%% tolerated: %s", r.Phase)
	}
	if r, _ = execute(t, pct, `[0,0,1]`, nil); r.Phase != StatusFailed {
		t.Fatalf("67%% failed with 50%% tolerated: %s", r.Phase)
	}
}

func TestMaxConcurrencyLimitsRunningIterations(t *testing.T) {
	t.Parallel()
	m := mustParse(t, `{"StartAt":"M","States":{"M":{"Type":"Map","End":true,"MaxConcurrency":2,
		"ItemProcessor":{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":1,"End":true}}}}}}`)
	r, _ := m.Start([]byte(`[1,2,3,4,5]`), testContext())
	_, effects := r.Step(m, testStart)
	if len(effects) != 2 {
		t.Fatalf("%d timers at once, want 2", len(effects))
	}
	r.Fire(effects[0].(TimerEffect).ID)
	_, effects = r.Step(m, testStart)
	if len(effects) != 1 {
		t.Fatalf("%d new timers after one iteration ended, want 1", len(effects))
	}
}

func TestVariablesAreScopedToMapIterations(t *testing.T) {
	t.Parallel()
	r, _ := execute(t, `{"StartAt":"A","States":{
		"A":{"Type":"Pass","Assign":{"outer":"o"},"Next":"M"},
		"M":{"Type":"Map","Next":"B","ItemProcessor":{"StartAt":"I","States":{
			"I":{"Type":"Pass","Assign":{"inner.$":"$"},"Parameters":{"o.$":"$outer","i.$":"$"},"End":true}}}},
		"B":{"Type":"Pass","Parameters":{"outer.$":"$outer","items.$":"$"},"End":true}}}`, `[1,2]`, nil)
	status, out, name, cause := r.Status()
	if status != StatusSucceeded || string(out) != `{"outer":"o","items":[{"o":"o","i":1},{"o":"o","i":2}]}` {
		t.Fatalf("status %s output %s %s %s", status, out, name, cause)
	}
	r, _ = execute(t, `{"StartAt":"M","States":{
		"M":{"Type":"Map","Next":"B","ItemProcessor":{"StartAt":"I","States":{
			"I":{"Type":"Pass","Assign":{"inner.$":"$"},"End":true}}}},
		"B":{"Type":"Pass","Parameters":{"x.$":"$inner"},"End":true}}}`, `[1]`, nil)
	if status, _, name, _ := r.Status(); status != StatusFailed || name != "States.Runtime" {
		t.Fatalf("an iteration's variable leaked out: %s %s", status, name)
	}
}

func TestErrorsNameTheirState(t *testing.T) {
	t.Parallel()
	r, _ := execute(t, `{"StartAt":"P","States":{"P":{"Type":"Pass","InputPath":"$.missing","End":true}}}`, `{}`, nil)
	_, _, name, cause := r.Status()
	if name != "States.Runtime" || !strings.HasPrefix(cause, "An error occurred while executing the state 'P' (entered at the event id #2). Invalid path '$.missing'") {
		t.Fatalf("%s: %s", name, cause)
	}
}

func BenchmarkPassChain(b *testing.B) {
	const n = 100
	states := make([]string, n)
	for i := range states {
		next := fmt.Sprintf(`"Next":"S%d"`, i+1)
		if i == n-1 {
			next = `"End":true`
		}
		states[i] = fmt.Sprintf(`"S%d":{"Type":"Pass","Parameters":{"i":%d,"v.$":"$.v"},%s}`, i, i, next)
	}
	m := mustParse(b, `{"StartAt":"S0","States":{`+strings.Join(states, ",")+`}}`)
	d := &Memory{}
	b.ResetTimer()
	for b.Loop() {
		r, err := m.Start([]byte(`{"v":"payload"}`), testContext())
		if err != nil {
			b.Fatal(err)
		}
		if _, err := d.Run(context.Background(), m, r); err != nil {
			b.Fatal(err)
		}
		if r.Phase != StatusSucceeded {
			b.Fatal(r.Phase)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "transitions/s")
}

func TestTaskEventsFollowTheResourceKind(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		resource string
		report   func(r *Run, id string)
		want     []string
	}{
		{"arn:aws:states:us-east-1:111111111111:activity:work", func(r *Run, id string) { r.Started(id, "worker-1") },
			[]string{"ActivityScheduled", "ActivityStarted", "ActivitySucceeded", "TaskStateExited"}},
		{"arn:aws:lambda:us-east-1:111111111111:function:fn", nil,
			[]string{"LambdaFunctionScheduled", "LambdaFunctionStarted", "LambdaFunctionSucceeded", "TaskStateExited"}},
		{"arn:aws:states:::sqs:sendMessage.waitForTaskToken", func(r *Run, id string) { r.Submitted(id, []byte(`{"MessageId":"m"}`)) },
			[]string{"TaskScheduled", "TaskStarted", "TaskSubmitted", "TaskSucceeded", "TaskStateExited"}},
	} {
		m := mustParse(t, `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"`+c.resource+`","End":true}}}`)
		r, _ := m.Start([]byte(`{"a":1}`), testContext())
		var got []string
		events, effects := r.Step(m, testStart)
		got = append(got, types(events[2:])...)
		id := effects[0].(TaskEffect).ID
		if c.report != nil {
			c.report(r, id)
			events, _ = r.Step(m, testStart)
			got = append(got, types(events)...)
		}
		r.Complete(id, []byte(`{"done":true}`))
		events, _ = r.Step(m, testStart)
		got = append(got, types(events[:len(events)-1])...)
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: events %v, want %v", c.resource, got, c.want)
		}
		if _, out, _, _ := r.Status(); string(out) != `{"done":true}` {
			t.Errorf("%s: output %s", c.resource, out)
		}
	}
}

func TestAFailedIterationAbortsTheOthers(t *testing.T) {
	t.Parallel()
	m := mustParse(t, `{"StartAt":"M","States":{"M":{"Type":"Map","End":true,
		"ItemProcessor":{"StartAt":"C","States":{
			"C":{"Type":"Choice","Choices":[{"Variable":"$","NumericEquals":0,"Next":"W"}],"Default":"F"},
			"W":{"Type":"Wait","Seconds":10,"End":true},"F":{"Type":"Fail","Error":"E"}}}}}}`)
	r, _ := m.Start([]byte(`[0,1]`), testContext())
	events, _ := r.Step(m, testStart)
	got := types(events)
	want := []string{"ExecutionStarted", "MapStateEntered", "MapStateStarted",
		"MapIterationStarted", "ChoiceStateEntered", "ChoiceStateExited", "WaitStateEntered",
		"MapIterationStarted", "ChoiceStateEntered", "ChoiceStateExited", "FailStateEntered", "MapIterationFailed",
		"WaitStateAborted", "MapIterationAborted", "MapStateFailed", "ExecutionFailed"}
	if !slices.Equal(got, want) {
		t.Fatalf("events\n got  %v\n want %v", got, want)
	}
}

func TestMemoryRunsTasksConcurrently(t *testing.T) {
	t.Parallel()
	arrived := make(chan struct{}, 2)
	both := make(chan struct{})
	go func() {
		<-arrived
		<-arrived
		close(both)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m := mustParse(t, `{"StartAt":"P","States":{"P":{"Type":"Parallel","End":true,"Branches":[
		{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","End":true}}},
		{"StartAt":"B","States":{"B":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","End":true}}}]}}}`)
	r, _ := m.Start(nil, testContext())
	d := &Memory{Now: func() time.Time { return testStart }, Task: func(ctx context.Context, te TaskEffect) ([]byte, string, string) {
		arrived <- struct{}{}
		select {
		case <-both:
			return []byte(`"` + te.State + `"`), "", ""
		case <-ctx.Done():
			return nil, "States.Timeout", "the other task never started"
		}
	}}
	if _, err := d.Run(ctx, m, r); err != nil {
		t.Fatal(err)
	}
	if status, out, name, cause := r.Status(); status != StatusSucceeded || string(out) != `["A","B"]` {
		t.Fatalf("%s %s %s %s", status, out, name, cause)
	}
}

func TestMemorySleepsUntilTimers(t *testing.T) {
	t.Parallel()
	var slept []time.Time
	m := mustParse(t, `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":30,"Next":"T"},
		"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","End":true}}}`)
	r, _ := m.Start(nil, testContext())
	d := &Memory{
		Now:   func() time.Time { return testStart },
		Sleep: func(_ context.Context, until time.Time) error { slept = append(slept, until); return nil },
		Task:  func(context.Context, TaskEffect) ([]byte, string, string) { return []byte(`1`), "", "" },
	}
	if _, err := d.Run(context.Background(), m, r); err != nil {
		t.Fatal(err)
	}
	if len(slept) != 1 || !slept[0].Equal(testStart.Add(30*time.Second)) {
		t.Fatalf("slept %v", slept)
	}
	if status, out, _, _ := r.Status(); status != StatusSucceeded || string(out) != "1" {
		t.Fatalf("%s %s", status, out)
	}
}

func TestRedriveRerunsOnlyFailedIterations(t *testing.T) {
	t.Parallel()
	m := mustParse(t, `{"StartAt":"M","States":{"M":{"Type":"Map","Next":"Done","MaxConcurrency":1,
		"ItemProcessor":{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","End":true}}}},
		"Done":{"Type":"Pass","Parameters":{"n.$":"$$.Execution.RedriveCount","r.$":"$"},"End":true}}}`)
	r, _ := m.Start([]byte(`[1,2,3]`), testContext())
	var mu sync.Mutex
	calls := map[string]int{}
	broken := true
	d := &Memory{Now: func() time.Time { return testStart }, Task: func(_ context.Context, te TaskEffect) ([]byte, string, string) {
		mu.Lock()
		defer mu.Unlock()
		calls[string(te.Parameters)]++
		if string(te.Parameters) == "2" && broken {
			return nil, "Broken", "item 2"
		}
		return te.Parameters, "", ""
	}}
	if _, err := d.Run(context.Background(), m, r); err != nil {
		t.Fatal(err)
	}
	if status, _, name, _ := r.Status(); status != StatusFailed || name != "Broken" {
		t.Fatalf("first attempt: %s %s", status, name)
	}
	r = roundTrip(t, r)
	mu.Lock()
	broken = false
	mu.Unlock()
	if err := r.Redrive(); err != nil {
		t.Fatal(err)
	}
	events, err := d.Run(context.Background(), m, r)
	if err != nil {
		t.Fatal(err)
	}
	if events[0].Type != "ExecutionRedriven" || events[0].ExecutionRedrivenEventDetails.RedriveCount != 1 {
		t.Fatalf("first event %+v", events[0])
	}
	if status, out, name, cause := r.Status(); status != StatusSucceeded || string(out) != `{"n":1,"r":[1,2,3]}` {
		t.Fatalf("redriven: %s %s %s %s", status, out, name, cause)
	}
	if calls["1"] != 1 || calls["3"] != 1 || calls["2"] != 2 {
		t.Fatalf("task calls %v", calls)
	}
	if err := r.Redrive(); err == nil {
		t.Fatal("a succeeded execution was redriven")
	}
}

func TestRedriveAfterStopResumesTheStoppedState(t *testing.T) {
	t.Parallel()
	m := mustParse(t, `{"StartAt":"P","States":{"P":{"Type":"Parallel","End":true,"Branches":[
		{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}},
		{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":5,"End":true}}}]}}}`)
	r, _ := m.Start([]byte(`{}`), testContext())
	r.Step(m, testStart)
	r.Stop("", "")
	r.Step(m, testStart)
	if err := r.Redrive(); err != nil {
		t.Fatal(err)
	}
	events, effects := r.Step(m, testStart)
	if got := types(events); !slices.Equal(got, []string{"ExecutionRedriven", "WaitStateEntered"}) || len(effects) != 1 {
		t.Fatalf("events %v effects %v", got, effects)
	}
	r.Fire(effects[0].(TimerEffect).ID)
	r.Step(m, testStart)
	if status, out, _, _ := r.Status(); status != StatusSucceeded || string(out) != `[{},{}]` {
		t.Fatalf("%s %s", status, out)
	}
}

// TestEventIDsAsAWSNumbersThem replays an AWS-recorded history (localstack's
// test_assign_base snapshot, BASE_SCOPE_MAP) and compares every previousEventId.
func TestEventIDsAsAWSNumbersThem(t *testing.T) {
	t.Parallel()
	_, events := execute(t, `{"StartAt":"State0","States":{
		"State0":{"Type":"Pass","Assign":{"x":42,"items":[1,2,3]},"Next":"State1"},
		"State1":{"Type":"Map","ItemsPath":"$items","MaxConcurrency":1,"ItemProcessor":{"ProcessorConfig":{"Mode":"INLINE"},
			"StartAt":"Inner","States":{"Inner":{"Type":"Pass","Assign":{"innerX.$":"$x"},"End":true}}},"Next":"State2"},
		"State2":{"Type":"Pass","Assign":{"final.$":"$x"},"End":true}}}`, `{"input_value":"input_value_literal"}`, nil)
	want := []int64{0, 0, 2, 3, 4, 5, 6, 7, 8, 8, 10, 11, 12, 12, 14, 15, 16, 17, 17, 19, 20, 21}
	got := make([]int64, len(events))
	for i, e := range events {
		got[i] = e.PreviousEventID
	}
	if !slices.Equal(got, want) {
		t.Fatalf("previousEventIds\n got  %v\n want %v\n events %v", got, want, types(events))
	}
	if a := events[2].StateExitedEventDetails.AssignedVariables; a["items"] != "[1,2,3]" || a["x"] != "42" {
		t.Fatalf("assignedVariables %v", a)
	}
}

// TestFailureEventIDsAsAWSNumbersThem compares previousEventIds with AWS-recorded histories
// (localstack's test_base_scenarios snapshots) of failures: a Map retried until it fails, a
// JSONata evaluation failure in a Map and in a Wait state.
func TestFailureEventIDsAsAWSNumbersThem(t *testing.T) {
	t.Parallel()
	for name, c := range map[string]struct {
		def, input string
		want       []int64
	}{
		"map retried": {`{"StartAt":"StartState","States":{"StartState":{"Type":"Pass","Result":[1],"ResultPath":"$.arr","Next":"MapState"},
			"MapState":{"Type":"Map","ResultPath":null,"InputPath":"$.arr","MaxConcurrency":1,"ItemProcessor":{"ProcessorConfig":{"Mode":"INLINE"},
			"StartAt":"HandleItemFail","States":{"HandleItemFail":{"Type":"Fail","Error":"HandleItemFailError","Cause":"HandleItemFailCause"}}},
			"Retry":[{"ErrorEquals":["NoSuchError"],"MaxAttempts":1},{"ErrorEquals":["State.ALL"],"MaxAttempts":2},{"ErrorEquals":["HandleItemFailError"],"MaxAttempts":3}],
			"Next":"Final"},"Final":{"Type":"Pass","End":true}}}`, `{}`,
			[]int64{0, 0, 2, 3, 4, 5, 6, 7, 7, 9, 10, 11, 11, 13, 14, 15, 15, 17, 18, 19, 19, 21}},
		"map items": {`{"QueryLanguage":"JSONata","StartAt":"MapIterateState","States":{"MapIterateState":{"Type":"Map","MaxConcurrency":1,"Items":"{% 1 %}",
			"ItemProcessor":{"ProcessorConfig":{"Mode":"INLINE"},"StartAt":"Pass","States":{"Pass":{"Type":"Pass","End":true}}},"End":true}}}`, `{}`,
			[]int64{0, 0, 0, 3, 4}},
		"wait timestamp": {`{"QueryLanguage":"JSONata","StartAt":"WaitState","States":{"WaitState":{"Type":"Wait","Timestamp":"{% $states.input.TimestampValue %}","End":true}}}`,
			`{"TimestampValue":"2016-12-05T21:29:29"}`, []int64{0, 0, 2, 3}},
	} {
		_, events := execute(t, c.def, c.input, nil)
		got := make([]int64, len(events))
		for i, e := range events {
			got[i] = e.PreviousEventID
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: previousEventIds\n got  %v\n want %v\n events %v", name, got, c.want, types(events))
		}
	}
}

func TestATooLargeTaskResultIsACatchableTaskFailure(t *testing.T) {
	t.Parallel()
	big := []byte(`"` + strings.Repeat("x", 300*1024) + `"`)
	r, events := execute(t, `{"StartAt":"InvokeLambda","States":{
		"InvokeLambda":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Catch":[{"ErrorEquals":["States.ALL"],"Next":"HandleGeneralError"}],"End":true},
		"HandleGeneralError":{"Type":"Pass","End":true}}}`, `{}`,
		func(context.Context, TaskEffect) ([]byte, string, string) { return big, "", "" })
	want := []string{"ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskFailed", "TaskStateExited",
		"PassStateEntered", "PassStateExited", "ExecutionSucceeded"}
	if got := types(events); !slices.Equal(got, want) {
		t.Fatalf("events %v", got)
	}
	if _, out, _, _ := r.Status(); string(out) != `{"Error":"States.DataLimitExceeded","Cause":"The state/task 'lambda' returned a result with a size exceeding the maximum number of bytes service limit."}` {
		t.Fatalf("output %s", out)
	}
}

func TestPathErrorsAsJaywayWordsThem(t *testing.T) {
	t.Parallel()
	for def, want := range map[string]string{
		`{"StartAt":"P","States":{"P":{"Type":"Pass","OutputPath":"$.no.such.result.path","End":true}}}`: "Invalid path '$.no.such.result.path' : Missing property in path $['no']",
		`{"StartAt":"P","States":{"P":{"Type":"Pass","InputPath":"$.a.missing","End":true}}}`:            "Invalid path '$.a.missing' : No results for path: $['a']['missing']",
		`{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":2147483648,"End":true}}}`:                 "Wait state delay is too long.",
	} {
		r, _ := execute(t, def, `{"a":{}}`, nil)
		if _, _, name, cause := r.Status(); name != "States.Runtime" || !strings.HasSuffix(cause, want) {
			t.Errorf("%s: %s %s, want %s", def, name, cause, want)
		}
	}
}

func TestRedeliveredReportsChangeNothing(t *testing.T) {
	t.Parallel()
	m := mustParse(t, `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Next":"W"},
		"W":{"Type":"Wait","Seconds":1,"Next":"U"},"U":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","End":true}}}`)
	r, _ := m.Start(nil, testContext())
	_, effects := r.Step(m, testStart)
	first := effects[0].(TaskEffect).ID
	r.Complete(first, []byte(`1`))
	r.Complete(first, []byte(`2`)) // before the step: the first report stands
	_, effects = r.Step(m, testStart)
	timer := effects[0].(TimerEffect).ID
	r.Complete(first, []byte(`3`)) // after it: nothing waits for the id any more
	r.Fire(timer)
	r.Fire(timer)
	events, effects := r.Step(m, testStart)
	if got := types(events); !slices.Equal(got, []string{"WaitStateExited", "TaskStateEntered", "TaskScheduled", "TaskStarted"}) {
		t.Fatalf("events %v", got)
	}
	if string(effects[0].(TaskEffect).Parameters) != "1" {
		t.Fatalf("parameters %s", effects[0].(TaskEffect).Parameters)
	}
}

func TestTheInputIsRecordedAsGiven(t *testing.T) {
	t.Parallel()
	m := mustParse(t, `{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`)
	input := "{\n  \"b\": 1, \"a\" : [ 2 ]\n}"
	r, _ := m.Start([]byte(input), testContext())
	r = roundTrip(t, r)
	events, _ := r.Step(m, testStart)
	if got := events[0].ExecutionStartedEventDetails.Input; got != input {
		t.Errorf("ExecutionStarted input %q", got)
	}
	if got := events[1].StateEnteredEventDetails.Input; got != input {
		t.Errorf("PassStateEntered input %q", got)
	}
	if got := events[2].StateExitedEventDetails.Output; got != `{"b":1,"a":[2]}` {
		t.Errorf("PassStateExited output %q", got)
	}
}

func TestTasksThatNeverRan(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		resource string
		report   func(r *Run, id string)
		want     string
	}{
		{"arn:aws:states:::sqs:sendMessage.waitForTaskToken", func(r *Run, id string) { r.FailToSubmit(id, "SQS.QueueDoesNotExistException", "no queue") }, "TaskSubmitFailed"},
		{"arn:aws:states:::lambda:invoke", func(r *Run, id string) { r.FailToStart(id, "States.TaskFailed", "not authorized") }, "TaskStartFailed"},
		{"arn:aws:lambda:us-east-1:111111111111:function:fn", func(r *Run, id string) { r.FailToStart(id, "States.TaskFailed", "not authorized") }, "LambdaFunctionStartFailed"},
	} {
		m := mustParse(t, `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"`+c.resource+`","End":true}}}`)
		r, _ := m.Start(nil, testContext())
		_, effects := r.Step(m, testStart)
		c.report(r, effects[0].(TaskEffect).ID)
		events, _ := r.Step(m, testStart)
		if got := types(events); !slices.Equal(got, []string{c.want, "ExecutionFailed"}) {
			t.Errorf("%s: events %v", c.resource, got)
		}
	}
}

func TestPassStatesThatPassInputOnWriteItAsOtherStatesDo(t *testing.T) {
	t.Parallel()
	r, events := execute(t, `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"},"B":{"Type":"Pass","ResultPath":null,"InputPath":"$","Next":"C"},
		"C":{"Type":"Pass","OutputPath":"$","End":true}}}`, `{ "b": 1, "a": [1, 2.50] }`, nil)
	var entered, exited []string
	for _, e := range events {
		if d := e.StateEnteredEventDetails; d != nil {
			entered = append(entered, d.Input)
		}
		if d := e.StateExitedEventDetails; d != nil {
			exited = append(exited, d.Output)
		}
	}
	const canonical = `{"b":1,"a":[1,2.50]}`
	if _, out, _, _ := r.Status(); string(out) != canonical {
		t.Errorf("output %s", out)
	}
	want := []string{`{ "b": 1, "a": [1, 2.50] }`, canonical, canonical}
	if strings.Join(entered, "|") != strings.Join(want, "|") || strings.Join(exited, "|") != strings.Join(want[1:], "|")+"|"+canonical {
		t.Errorf("entered %q\nexited %q", entered, exited)
	}
}

// TestMemoryDeadlineTimesOutTheExecution: a driver with a deadline times a run out when the
// clock reaches it, without waiting for a timer beyond it.
func TestMemoryDeadlineTimesOutTheExecution(t *testing.T) {
	t.Parallel()
	m := mustParse(t, `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":10,"Next":"P"},"P":{"Type":"Pass","End":true}}}`)
	r, err := m.Start([]byte(`{}`), testContext())
	if err != nil {
		t.Fatal(err)
	}
	d := &Memory{Now: func() time.Time { return testStart }, Deadline: testStart.Add(2 * time.Second)}
	events, err := d.Run(context.Background(), m, r)
	if err != nil {
		t.Fatal(err)
	}
	if status, _, name, _ := r.Status(); status != StatusTimedOut || name != "States.Timeout" {
		t.Fatalf("status %s %s, want TIMED_OUT States.Timeout", status, name)
	}
	if got := types(events); got[len(got)-1] != "ExecutionTimedOut" || slices.Contains(got, "PassStateEntered") {
		t.Fatalf("events %v", got)
	}
	if last := events[len(events)-1].Timestamp; last.After(testStart.Add(2 * time.Second)) {
		t.Fatalf("timed out at %v, after the deadline", last)
	}
}
