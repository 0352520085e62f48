package asl

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

func TestDistributedMapRunsItsItemsAsAMapRun(t *testing.T) {
	t.Parallel()
	def := `{"StartAt":"A","States":{
		"A":{"Type":"Pass","Assign":{"prefix":"item-"},"Next":"M"},
		"M":{"Type":"Map","ItemsPath":"$.items","Label":"Doubler","MaxConcurrency":10,
			"ItemSelector":{"n.$":"$$.Map.Item.Value","name.$":"States.Format('{}{}', $prefix, $$.Map.Item.Index)"},
			"ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"EXPRESS"},"StartAt":"C","States":{
				"C":{"Type":"Choice","Choices":[{"Variable":"$.n","NumericEquals":0,"Next":"F"}],"Default":"P"},
				"F":{"Type":"Fail","Error":"Zero"},
				"P":{"Type":"Pass","Parameters":{"name.$":"$.name"},"End":true}}},
			"End":true}}}`
	r, events := execute(t, def, `{"items":[1,2]}`, nil)
	want := []string{"ExecutionStarted", "PassStateEntered", "PassStateExited", "MapStateEntered", "MapStateStarted",
		"MapRunStarted", "MapRunSucceeded", "MapStateSucceeded", "MapStateExited", "ExecutionSucceeded"}
	if got := types(events); !slices.Equal(got, want) {
		t.Fatalf("events %v", got)
	}
	if arn := events[5].MapRunStartedEventDetails.MapRunArn; !strings.HasPrefix(arn, "arn:aws:states:us-east-1:111111111111:mapRun:sm/Doubler:") {
		t.Fatalf("mapRunArn %s", arn)
	}
	if status, out, _, _ := r.Status(); status != StatusSucceeded || string(out) != `[{"name":"item-0"},{"name":"item-1"}]` {
		t.Fatalf("%s %s", status, out)
	}
	r, events = execute(t, def, `{"items":[1,0]}`, nil)
	if got := types(events); !slices.Contains(got, "MapRunFailed") || !slices.Contains(got, "MapStateFailed") {
		t.Fatalf("events %v", got)
	}
	if _, _, name, _ := r.Status(); name != "States.ExceedToleratedFailureThreshold" {
		t.Fatalf("error %s", name)
	}
}

func TestItemReaderNeedsADistributedMap(t *testing.T) {
	t.Parallel()
	d := Validate([]byte(`{"StartAt":"M","States":{"M":{"Type":"Map","End":true,
		"ItemReader":{"Resource":"arn:aws:states:::s3:getObject","Parameters":{"Bucket":"b","Key":"k"}},
		"ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}}}}`))
	if len(d) != 1 || d[0].Location != "/States/M/ItemReader" {
		t.Fatalf("diagnostics %+v", d)
	}
	m := mustParse(t, `{"StartAt":"M","States":{"M":{"Type":"Map","End":true,
		"ItemReader":{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"CSV","MaxItemsPath":"$.max"},"Parameters":{"Bucket.$":"$.bucket","Key":"k.csv"}},
		"ItemBatcher":{"MaxItemsPerBatch":10,"BatchInput":{"run.$":"$.run"}},
		"ResultWriter":{"Resource":"arn:aws:states:::s3:putObject","Parameters":{"Bucket":"out","Prefix":"p"}},
		"ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED"},"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}}}}`)
	r, _ := m.Start([]byte(`{"bucket":"in","max":5,"run":"r1"}`), testContext())
	_, effects := r.Step(m, testStart)
	e, ok := effects[0].(MapRunEffect)
	if !ok {
		t.Fatalf("effects %v", effects)
	}
	if string(e.ItemReader) != `{"Parameters":{"Bucket":"in","Key":"k.csv"},"ReaderConfig":{"InputType":"CSV","MaxItems":5},"Resource":"arn:aws:states:::s3:getObject"}` ||
		string(e.ItemBatcher) != `{"BatchInput":{"run":"r1"},"MaxItemsPerBatch":10}` ||
		string(e.ResultWriter) != `{"Parameters":{"Bucket":"out","Prefix":"p"},"Resource":"arn:aws:states:::s3:putObject"}` ||
		e.ExecutionType != Standard || e.ToleratedFailureCount != -1 {
		t.Fatalf("effect %+v\n%s\n%s\n%s", e, e.ItemReader, e.ItemBatcher, e.ResultWriter)
	}
	if in, err := e.ItemInput(m, 3, []byte(`{"a":1}`)); err != nil || string(in) != `{"a":1}` {
		t.Fatalf("item input %s %v", in, err)
	}
	r = roundTrip(t, r)
	r.Complete(e.ID, []byte(`{"MapRunArn":"x","ResultWriterDetails":{}}`))
	events, _ := r.Step(m, testStart)
	if got := types(events); !slices.Equal(got, []string{"MapRunSucceeded", "MapStateSucceeded", "MapStateExited", "ExecutionSucceeded"}) {
		t.Fatalf("events %v", got)
	}
}

func TestRedriveReRunsAFailedMapRun(t *testing.T) {
	t.Parallel()
	m := mustParse(t, `{"StartAt":"M","States":{"M":{"Type":"Map","End":true,
		"ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED"},"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}}}}`)
	r, _ := m.Start([]byte(`[1]`), testContext())
	_, effects := r.Step(m, testStart)
	r.Fail(effects[0].(MapRunEffect).ID, "States.ExceedToleratedFailureThreshold", "too many")
	r.Step(m, testStart)
	if err := r.Redrive(); err != nil {
		t.Fatal(err)
	}
	events, effects := r.Step(m, testStart)
	if got := types(events); !slices.Equal(got, []string{"ExecutionRedriven", "MapStateEntered", "MapStateStarted", "MapRunStarted"}) || len(effects) != 1 {
		t.Fatalf("events %v effects %v", got, effects)
	}
}

func TestMapRunEffectMarshalsItsJSONAsJSON(t *testing.T) {
	t.Parallel()
	m := mustParse(t, `{"StartAt":"M","States":{"M":{"Type":"Map","End":true,
		"ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED"},"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}}}}`)
	r, _ := m.Start([]byte(`[1,2]`), testContext())
	_, effects := r.Step(m, testStart)
	b, err := json.Marshal(effects[0])
	if err != nil || !strings.Contains(string(b), `"items":[1,2]`) || !strings.Contains(string(b), `"definition":{"StartAt":"P"`) {
		t.Fatalf("%s %v", b, err)
	}
	var back MapRunEffect
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if in, err := back.ItemInput(m, 0, []byte(`7`)); err != nil || string(in) != "7" {
		t.Fatalf("%s %v", in, err)
	}
}
