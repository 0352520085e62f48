package e2e

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// waitExecution polls DescribeExecution until the execution is no longer RUNNING.
func waitExecution(t *testing.T, c *sfn.Client, arn string, within time.Duration) *sfn.DescribeExecutionOutput {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		d, err := c.DescribeExecution(t.Context(), &sfn.DescribeExecutionInput{ExecutionArn: &arn})
		if err != nil {
			t.Fatalf("describe execution: %v", err)
		}
		if d.Status != sfntypes.ExecutionStatusRunning {
			return d
		}
		if time.Now().After(deadline) {
			t.Fatalf("execution %s still RUNNING after %s", arn, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func historyTypes(t *testing.T, c *sfn.Client, arn string) []string {
	t.Helper()
	var types []string
	p := sfn.NewGetExecutionHistoryPaginator(c, &sfn.GetExecutionHistoryInput{ExecutionArn: &arn, MaxResults: 3})
	for p.HasMorePages() {
		pg, err := p.NextPage(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range pg.Events {
			types = append(types, string(e.Type))
		}
	}
	return types
}

const waitMachine = `{"StartAt":"Double","States":{
	"Double":{"Type":"Pass","Parameters":{"n.$":"States.MathAdd($.n, $.n)"},"Next":"Nap"},
	"Nap":{"Type":"Wait","Seconds":1,"Next":"Big?"},
	"Big?":{"Type":"Choice","Choices":[{"Variable":"$.n","NumericGreaterThan":10,"Next":"Big"}],"Default":"Small"},
	"Big":{"Type":"Pass","Result":"big","ResultPath":"$.size","End":true},
	"Small":{"Type":"Pass","Result":"small","ResultPath":"$.size","End":true}}}`

// TestStepFunctionsStandardExecution runs a Standard execution through Pass, Wait and Choice
// states and reads it back with DescribeExecution, GetExecutionHistory and ListExecutions.
func TestStepFunctionsStandardExecution(t *testing.T) {
	t.Parallel()
	c := startKiri(t).SFN
	ctx := t.Context()
	arn := createMachine(t, c, "doubler", waitMachine, "")
	start, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: &arn, Name: aws.String("run-1"), Input: aws.String(`{"n":6}`)})
	if err != nil {
		t.Fatal(err)
	}
	exec := aws.ToString(start.ExecutionArn)
	if exec != "arn:aws:states:us-east-1:000000000000:execution:doubler:run-1" {
		t.Fatalf("execution arn %s", exec)
	}
	// The same name and input while running is the same execution; other input is a conflict.
	again, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: &arn, Name: aws.String("run-1"), Input: aws.String(`{"n":6}`)})
	if err != nil || aws.ToString(again.ExecutionArn) != exec || !again.StartDate.Equal(*start.StartDate) {
		t.Fatalf("idempotent start %+v %v", again, err)
	}
	_, err = c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: &arn, Name: aws.String("run-1"), Input: aws.String(`{"n":7}`)})
	wantAPIError(t, err, "ExecutionAlreadyExists", "Execution Already Exists: '"+exec+"'")

	d := waitExecution(t, c, exec, 10*time.Second)
	if d.Status != sfntypes.ExecutionStatusSucceeded || aws.ToString(d.Output) != `{"n":12,"size":"big"}` ||
		aws.ToString(d.Input) != `{"n":6}` || d.StopDate == nil || d.RedriveStatus != sfntypes.ExecutionRedriveStatusNotRedrivable {
		t.Fatalf("describe %+v output %s", d, aws.ToString(d.Output))
	}
	types := historyTypes(t, c, exec)
	want := "ExecutionStarted PassStateEntered PassStateExited WaitStateEntered WaitStateExited ChoiceStateEntered ChoiceStateExited PassStateEntered PassStateExited ExecutionSucceeded"
	if strings.Join(types, " ") != want {
		t.Fatalf("history %v", types)
	}
	rev, err := c.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: &exec, ReverseOrder: true, IncludeExecutionData: aws.Bool(false)})
	if err != nil || rev.Events[0].Type != sfntypes.HistoryEventTypeExecutionSucceeded || rev.Events[0].ExecutionSucceededEventDetails == nil ||
		rev.Events[0].ExecutionSucceededEventDetails.Output != nil {
		t.Fatalf("reverse history %+v %v", rev, err)
	}
	if _, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: &arn, Input: aws.String(`{"n":1}`)}); err != nil {
		t.Fatal(err)
	}
	list, err := c.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: &arn, StatusFilter: sfntypes.ExecutionStatusSucceeded})
	if err != nil || len(list.Executions) != 1 || aws.ToString(list.Executions[0].ExecutionArn) != exec {
		t.Fatalf("list %+v %v", list, err)
	}
	sm, err := c.DescribeStateMachineForExecution(ctx, &sfn.DescribeStateMachineForExecutionInput{ExecutionArn: &exec})
	if err != nil || aws.ToString(sm.Definition) != waitMachine {
		t.Fatalf("state machine for execution %+v %v", sm, err)
	}
	_, err = c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(exec + "-missing")})
	wantAPIError(t, err, "ExecutionDoesNotExist", "Execution Does Not Exist:")
	_, err = c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: &arn, Input: aws.String(`{`)})
	wantAPIError(t, err, "InvalidExecutionInput", "")
}

// TestStepFunctionsStopAndTimeout stops an execution waiting in a Wait state (ABORTED) and lets
// another outlive its state machine's TimeoutSeconds (TIMED_OUT, States.Timeout).
func TestStepFunctionsStopAndTimeout(t *testing.T) {
	t.Parallel()
	c := startKiri(t).SFN
	ctx := t.Context()
	long := createMachine(t, c, "long", `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":3600,"End":true}}}`, "")
	start, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: &long})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.StopExecution(ctx, &sfn.StopExecutionInput{ExecutionArn: start.ExecutionArn, Error: aws.String("Bored"), Cause: aws.String("too long")}); err != nil {
		t.Fatal(err)
	}
	d := waitExecution(t, c, aws.ToString(start.ExecutionArn), time.Second)
	if d.Status != sfntypes.ExecutionStatusAborted || aws.ToString(d.Error) != "Bored" || aws.ToString(d.Cause) != "too long" {
		t.Fatalf("stopped %+v", d)
	}
	short := createMachine(t, c, "short", `{"TimeoutSeconds":1,"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":3600,"End":true}}}`, "")
	start, err = c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: &short})
	if err != nil {
		t.Fatal(err)
	}
	d = waitExecution(t, c, aws.ToString(start.ExecutionArn), 10*time.Second)
	if d.Status != sfntypes.ExecutionStatusTimedOut || aws.ToString(d.Error) != "States.Timeout" {
		t.Fatalf("timed out %+v", d)
	}
	types := historyTypes(t, c, aws.ToString(start.ExecutionArn))
	if types[len(types)-1] != "ExecutionTimedOut" {
		t.Fatalf("history %v", types)
	}
}

// TestStepFunctionsActivityWorkerAndRedrive runs an activity task through a worker
// (GetActivityTask, SendTaskFailure), then redrives the failed execution from the failed
// state and completes it with SendTaskSuccess.
func TestStepFunctionsActivityWorkerAndRedrive(t *testing.T) {
	t.Parallel()
	c := startKiri(t).SFN
	ctx := t.Context()
	act, err := c.CreateActivity(ctx, &sfn.CreateActivityInput{Name: aws.String("worker")})
	if err != nil {
		t.Fatal(err)
	}
	def := `{"StartAt":"Prep","States":{"Prep":{"Type":"Pass","Result":{"job":7},"Next":"Work"},
		"Work":{"Type":"Task","Resource":"` + aws.ToString(act.ActivityArn) + `","HeartbeatSeconds":30,"End":true}}}`
	arn := createMachine(t, c, "with-activity", def, "")
	start, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: &arn})
	if err != nil {
		t.Fatal(err)
	}
	task, err := c.GetActivityTask(ctx, &sfn.GetActivityTaskInput{ActivityArn: act.ActivityArn, WorkerName: aws.String("w1")})
	if err != nil || aws.ToString(task.Input) != `{"job":7}` || aws.ToString(task.TaskToken) == "" {
		t.Fatalf("task %+v %v", task, err)
	}
	if _, err := c.SendTaskHeartbeat(ctx, &sfn.SendTaskHeartbeatInput{TaskToken: task.TaskToken}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SendTaskFailure(ctx, &sfn.SendTaskFailureInput{TaskToken: task.TaskToken, Error: aws.String("Flaky"), Cause: aws.String("try again")}); err != nil {
		t.Fatal(err)
	}
	d := waitExecution(t, c, aws.ToString(start.ExecutionArn), 5*time.Second)
	if d.Status != sfntypes.ExecutionStatusFailed || aws.ToString(d.Error) != "Flaky" || d.RedriveStatus != sfntypes.ExecutionRedriveStatusRedrivable {
		t.Fatalf("failed %+v", d)
	}
	_, err = c.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: task.TaskToken, Output: aws.String(`{}`)})
	wantAPIError(t, err, "TaskTimedOut", "")
	_, err = c.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String("nonsense"), Output: aws.String(`{}`)})
	wantAPIError(t, err, "InvalidToken", "")

	if _, err := c.RedriveExecution(ctx, &sfn.RedriveExecutionInput{ExecutionArn: start.ExecutionArn}); err != nil {
		t.Fatal(err)
	}
	task, err = c.GetActivityTask(ctx, &sfn.GetActivityTaskInput{ActivityArn: act.ActivityArn})
	if err != nil || aws.ToString(task.Input) != `{"job":7}` {
		t.Fatalf("redriven task %+v %v", task, err)
	}
	if _, err := c.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: task.TaskToken, Output: aws.String(`{"done":true}`)}); err != nil {
		t.Fatal(err)
	}
	d = waitExecution(t, c, aws.ToString(start.ExecutionArn), 5*time.Second)
	if d.Status != sfntypes.ExecutionStatusSucceeded || aws.ToString(d.Output) != `{"done":true}` || aws.ToInt32(d.RedriveCount) != 1 {
		t.Fatalf("redriven %+v", d)
	}
	types := historyTypes(t, c, aws.ToString(start.ExecutionArn))
	joined := strings.Join(types, " ")
	if strings.Count(joined, "PassStateEntered") != 1 || !strings.Contains(joined, "ExecutionFailed ExecutionRedriven TaskStateEntered") ||
		strings.Count(joined, "ActivityStarted") != 2 {
		t.Fatalf("history %v", types)
	}
	_, err = c.RedriveExecution(ctx, &sfn.RedriveExecutionInput{ExecutionArn: start.ExecutionArn})
	wantAPIError(t, err, "ExecutionNotRedrivable", "")
}

// TestStepFunctionsExpress runs Express executions: StartSyncExecution answers their result,
// and they keep no history to describe.
func TestStepFunctionsExpress(t *testing.T) {
	t.Parallel()
	c := startKiri(t).SFN
	ctx := t.Context()
	arn := createMachine(t, c, "quick", waitMachine, sfntypes.StateMachineTypeExpress)
	out, err := c.StartSyncExecution(ctx, &sfn.StartSyncExecutionInput{StateMachineArn: &arn, Input: aws.String(`{"n":2}`)})
	if err != nil {
		t.Fatal(err)
	}
	if out.Status != sfntypes.SyncExecutionStatusSucceeded || aws.ToString(out.Output) != `{"n":4,"size":"small"}` ||
		!strings.HasPrefix(aws.ToString(out.ExecutionArn), "arn:aws:states:us-east-1:000000000000:express:quick:") ||
		out.BillingDetails == nil || out.BillingDetails.BilledDurationInMilliseconds < 1000 {
		t.Fatalf("sync %+v", out)
	}
	failing := createMachine(t, c, "failing", `{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"Nope","Cause":"because"}}}`, sfntypes.StateMachineTypeExpress)
	out, err = c.StartSyncExecution(ctx, &sfn.StartSyncExecutionInput{StateMachineArn: &failing})
	if err != nil || out.Status != sfntypes.SyncExecutionStatusFailed || aws.ToString(out.Error) != "Nope" || aws.ToString(out.Cause) != "because" {
		t.Fatalf("failed sync %+v %v", out, err)
	}
	// The state machine's TimeoutSeconds times a synchronous execution out, without waiting
	// for the Wait state beyond it.
	slow := createMachine(t, c, "slow", `{"TimeoutSeconds":1,"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":30,"End":true}}}`, sfntypes.StateMachineTypeExpress)
	started := time.Now()
	timedOut, err := c.StartSyncExecution(ctx, &sfn.StartSyncExecutionInput{StateMachineArn: &slow})
	if err != nil || timedOut.Status != sfntypes.SyncExecutionStatusTimedOut || aws.ToString(timedOut.Error) != "States.Timeout" || time.Since(started) > 10*time.Second {
		t.Fatalf("timed-out sync %+v %v after %v", timedOut, err, time.Since(started))
	}
	_, err = c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: out.ExecutionArn})
	wantAPIError(t, err, "InvalidArn", "Resource type not valid in this context: express")
	_, err = c.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: &failing})
	wantAPIError(t, err, "StateMachineTypeNotSupported", "")
	standard := createMachine(t, c, "standard", passMachine, "")
	_, err = c.StartSyncExecution(ctx, &sfn.StartSyncExecutionInput{StateMachineArn: &standard})
	wantAPIError(t, err, "StateMachineTypeNotSupported", "")
	async, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: &arn, Input: aws.String(`{"n":1}`)})
	if err != nil || !strings.Contains(aws.ToString(async.ExecutionArn), ":express:quick:") {
		t.Fatalf("async express %+v %v", async, err)
	}
}

// TestStepFunctionsValidateDefinition answers ValidateStateMachineDefinition's diagnostics.
func TestStepFunctionsValidateDefinition(t *testing.T) {
	t.Parallel()
	c := startKiri(t).SFN
	ok, err := c.ValidateStateMachineDefinition(t.Context(), &sfn.ValidateStateMachineDefinitionInput{Definition: aws.String(passMachine)})
	if err != nil || ok.Result != sfntypes.ValidateStateMachineDefinitionResultCodeOk || len(ok.Diagnostics) != 0 {
		t.Fatalf("valid %+v %v", ok, err)
	}
	bad, err := c.ValidateStateMachineDefinition(t.Context(), &sfn.ValidateStateMachineDefinitionInput{
		Definition: aws.String(`{"StartAt":"Missing","States":{"P":{"Type":"Pass","End":true}}}`)})
	if err != nil || bad.Result != sfntypes.ValidateStateMachineDefinitionResultCodeFail || len(bad.Diagnostics) == 0 {
		t.Fatalf("invalid %+v %v", bad, err)
	}
	b, _ := json.Marshal(bad.Diagnostics)
	t.Logf("diagnostics %s", b)
}

// startKiri starts a dev-mode Kiri for a test and returns its clients.
func startKiri(t *testing.T) *kiritest.Clients {
	t.Helper()
	return kiritest.Start(t, kiritest.Options{}).Clients()
}

// TestStepFunctionsExecutionsOfVersionsAndAliases starts executions through a version and an
// alias: they run that version, say so, and list under it.
func TestStepFunctionsExecutionsOfVersionsAndAliases(t *testing.T) {
	t.Parallel()
	c := startKiri(t).SFN
	ctx := t.Context()
	out, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("versioned"), RoleArn: aws.String(sfnRole), Publish: true,
		Definition: aws.String(`{"StartAt":"P","States":{"P":{"Type":"Pass","Result":"v1","End":true}}}`)})
	if err != nil {
		t.Fatal(err)
	}
	arn, v1 := aws.ToString(out.StateMachineArn), aws.ToString(out.StateMachineVersionArn)
	if _, err := c.UpdateStateMachine(ctx, &sfn.UpdateStateMachineInput{StateMachineArn: &arn,
		Definition: aws.String(`{"StartAt":"P","States":{"P":{"Type":"Pass","Result":"latest","End":true}}}`)}); err != nil {
		t.Fatal(err)
	}
	al, err := c.CreateStateMachineAlias(ctx, &sfn.CreateStateMachineAliasInput{Name: aws.String("prod"),
		RoutingConfiguration: []sfntypes.RoutingConfigurationListItem{{StateMachineVersionArn: &v1, Weight: 100}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{arn, v1, aws.ToString(al.StateMachineAliasArn)} {
		d := runToEnd(t, c, target, `{}`)
		want := `"v1"`
		if target == arn {
			want = `"latest"`
		}
		if aws.ToString(d.Output) != want {
			t.Fatalf("through %s: output %s", target, aws.ToString(d.Output))
		}
		if target != arn && aws.ToString(d.StateMachineVersionArn) != v1 {
			t.Fatalf("through %s: version %s", target, aws.ToString(d.StateMachineVersionArn))
		}
		if target == aws.ToString(al.StateMachineAliasArn) && aws.ToString(d.StateMachineAliasArn) != target {
			t.Fatalf("through the alias: alias %s", aws.ToString(d.StateMachineAliasArn))
		}
		meta, err := c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: d.ExecutionArn, IncludedData: sfntypes.IncludedDataMetadataOnly})
		if err != nil || meta.Input != nil || meta.Output != nil {
			t.Fatalf("metadata only %+v %v", meta, err)
		}
	}
	l, err := c.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: &v1})
	if err != nil || len(l.Executions) != 2 {
		t.Fatalf("executions of the version %+v %v", l, err)
	}
}
