package e2e

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

// TestStepFunctionsKeepKeyOrder runs executions whose outputs AWS writes with their keys in
// order (the input's order, templates' order, new keys last) and reads them back with
// DescribeExecution, GetExecutionHistory, StartSyncExecution and TestState.
func TestStepFunctionsKeepKeyOrder(t *testing.T) {
	t.Parallel()
	c := startKiri(t).SFN
	ctx := t.Context()
	pathMachine := createMachine(t, c, "ordered", `{"StartAt":"P","States":{
		"P":{"Type":"Pass","Result":{"z":1,"a":2},"ResultPath":"$.r","Next":"Q"},
		"Q":{"Type":"Pass","Parameters":{"zz.$":"$.r.z","aa":"x","mm":{"k2":1,"k1":2},"in.$":"$"},"End":true}}}`, "")
	jsonataMachine := createMachine(t, c, "ordered-jsonata", `{"QueryLanguage":"JSONata","StartAt":"P","States":{
		"P":{"Type":"Pass","Output":{"zz":"{% $states.input %}","aa":"x","mm":"{% {'k2': 1, 'k1': $states.input.b} %}"},"End":true}}}`, "")
	const want = `{"zz":1,"aa":"x","mm":{"k2":1,"k1":2},"in":{"y":1,"b":2,"r":{"z":1,"a":2}}}`
	const wantJSONata = `{"zz":{"y":1,"b":2},"aa":"x","mm":{"k2":1,"k1":2}}`
	for _, m := range []struct{ arn, want, exited string }{
		{pathMachine, want, `{"y":1,"b":2,"r":{"z":1,"a":2}}`},
		{jsonataMachine, wantJSONata, wantJSONata},
	} {
		start, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: &m.arn, Input: aws.String(`{"y":1,"b":2}`)})
		if err != nil {
			t.Fatal(err)
		}
		d := waitExecution(t, c, aws.ToString(start.ExecutionArn), 10*time.Second)
		if d.Status != sfntypes.ExecutionStatusSucceeded || aws.ToString(d.Output) != m.want {
			t.Errorf("%s: status %s output %s, want %s", m.arn, d.Status, aws.ToString(d.Output), m.want)
		}
		h, err := c.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: start.ExecutionArn})
		if err != nil {
			t.Fatal(err)
		}
		var exited string
		for _, e := range h.Events {
			if e.Type == sfntypes.HistoryEventTypePassStateExited && exited == "" {
				exited = aws.ToString(e.StateExitedEventDetails.Output)
			}
		}
		if exited != m.exited {
			t.Errorf("%s: first PassStateExited output %s, want %s", m.arn, exited, m.exited)
		}
	}
	express := createMachine(t, c, "ordered-express", `{"StartAt":"P","States":{
		"P":{"Type":"Pass","Result":{"z":1,"a":2},"ResultPath":"$.r","Next":"Q"},
		"Q":{"Type":"Pass","Parameters":{"zz.$":"$.r.z","aa":"x","mm":{"k2":1,"k1":2},"in.$":"$"},"End":true}}}`, sfntypes.StateMachineTypeExpress)
	out, err := c.StartSyncExecution(ctx, &sfn.StartSyncExecutionInput{StateMachineArn: &express, Input: aws.String(`{"y":1,"b":2}`)})
	if err != nil || aws.ToString(out.Output) != want {
		t.Errorf("sync output %s %v, want %s", aws.ToString(out.Output), err, want)
	}
	ts, err := c.TestState(ctx, &sfn.TestStateInput{Definition: aws.String(`{"Type":"Pass","Parameters":{"z.$":"$.y","a":1},"ResultPath":"$.r","End":true}`),
		Input: aws.String(`{"y":{"q":1,"c":2},"b":2}`)})
	if wantTS := `{"y":{"q":1,"c":2},"b":2,"r":{"z":{"q":1,"c":2},"a":1}}`; err != nil || aws.ToString(ts.Output) != wantTS {
		t.Errorf("TestState output %s %v, want %s", aws.ToString(ts.Output), err, wantTS)
	}
}
