package asl

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func eventTypes(events []Event) string {
	var types []string
	for _, e := range events {
		types = append(types, e.Type)
	}
	return strings.Join(types, " ")
}

// stepJSON steps r after a JSON round trip, as a durable driver does.
func stepJSON(t *testing.T, m *Machine, r *Run) (*Run, []Event, []Effect) {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var again Run
	if err := json.Unmarshal(b, &again); err != nil {
		t.Fatal(err)
	}
	events, effects := again.Step(m, time.Unix(0, 0))
	return &again, events, effects
}

const distributedDef = `{"StartAt":"M","States":{"M":{"Type":"Map","Label":"lbl","ItemsPath":"$.items",
	"ItemSelector":{"i.$":"$$.Map.Item.Index","v.$":"$$.Map.Item.Value","k.$":"$.k"},
	"ItemBatcher":{"MaxItemsPerBatch":2,"BatchInput":{"k.$":"$.k"}},
	"ToleratedFailureCount":1,"MaxConcurrency":3,
	"ResultWriter":{"Resource":"arn:aws:states:::s3:putObject","Parameters":{"Bucket":"b","Prefix.$":"$.k"}},
	"ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"EXPRESS"},"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},
	"ResultPath":"$.out","End":true}}}`

// TestDistributedMapEffect checks the Map Run a Distributed Map asks for: every child's input
// (ItemSelector, then ItemBatcher), its limits and writer, and the events around it.
func TestDistributedMapEffect(t *testing.T) {
	m, err := Parse([]byte(distributedDef))
	if err != nil {
		t.Fatal(err)
	}
	r, err := m.Start([]byte(`{"k":"x","items":[10,20,30]}`), Context{StateMachineArn: "arn:aws:states:us-east-1:1:stateMachine:sm", ExecutionArn: "e"})
	if err != nil {
		t.Fatal(err)
	}
	r, events, effects := stepJSON(t, m, r)
	if got := eventTypes(events); got != "ExecutionStarted MapStateEntered MapStateStarted MapRunStarted" {
		t.Fatalf("events %s", got)
	}
	if len(effects) != 1 {
		t.Fatalf("effects %+v", effects)
	}
	e := effects[0].(MapRunEffect)
	var inputs []string
	for _, in := range e.Inputs {
		inputs = append(inputs, string(in))
	}
	if strings.Join(inputs, " ") != `{"BatchInput":{"k":"x"},"Items":[{"i":0,"k":"x","v":10},{"i":1,"k":"x","v":20}]} {"BatchInput":{"k":"x"},"Items":[{"i":2,"k":"x","v":30}]}` ||
		e.Items != 3 || e.MaxConcurrency != 3 || e.TolCount != 1 || e.TolPct != -1 || e.Label != "lbl" || e.ExecutionType != Express ||
		*e.Writer != (WriterTarget{Bucket: "b", Prefix: "x"}) || !strings.HasPrefix(e.MapRunArn, "arn:aws:states:us-east-1:1:mapRun:sm/lbl:") ||
		string(e.Definition) != `{"StartAt":"P","States":{"P":{"End":true,"Type":"Pass"}}}` {
		t.Fatalf("effect %+v inputs %s", e, inputs)
	}
	if events[3].MapRunStartedEventDetails.MapRunArn != e.MapRunArn {
		t.Fatalf("MapRunStarted %+v", events[3])
	}
	snapshot, _ := json.Marshal(r)
	restore := func() *Run {
		var c Run
		if err := json.Unmarshal(snapshot, &c); err != nil {
			t.Fatal(err)
		}
		return &c
	}
	done := restore()
	done.Complete(e.ID, []byte(`{"MapRunArn":"x"}`))
	_, events, _ = stepJSON(t, m, done)
	if got := eventTypes(events); got != "MapRunSucceeded MapStateSucceeded MapStateExited ExecutionSucceeded" {
		t.Fatalf("events %s", got)
	}
	failed := restore()
	failed.Fail(e.ID, "States.ExceedToleratedFailureThreshold", "too many")
	failed, events, _ = stepJSON(t, m, failed)
	if got := eventTypes(events); got != "MapRunFailed MapStateFailed ExecutionFailed" || failed.Phase != StatusFailed {
		t.Fatalf("events %s", got)
	}
	stopped := restore()
	stopped.Stop("", "")
	_, events, _ = stepJSON(t, m, stopped)
	// as AWS, a stopped execution records only its end
	if got := eventTypes(events); got != "ExecutionAborted" {
		t.Fatalf("events %s", got)
	}
}
