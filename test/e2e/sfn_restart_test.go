package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// TestStepFunctionsMachinesSurviveKill kills Kiri (SIGKILL) right after it acknowledged a state
// machine, a version, an alias and an activity: all are there after a restart.
func TestStepFunctionsMachinesSurviveKill(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	first := kiritest.StartProcess(t, kiritest.Options{DataDir: dir})
	c := first.Clients().SFN
	out, err := c.CreateStateMachine(t.Context(), &sfn.CreateStateMachineInput{Name: aws.String("durable"), Definition: aws.String(passMachine),
		RoleArn: aws.String(sfnRole), Publish: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateActivity(t.Context(), &sfn.CreateActivityInput{Name: aws.String("durable")}); err != nil {
		t.Fatal(err)
	}
	first.Kill()

	c = kiritest.StartProcess(t, kiritest.Options{DataDir: dir}).Clients().SFN
	d, err := c.DescribeStateMachine(t.Context(), &sfn.DescribeStateMachineInput{StateMachineArn: out.StateMachineVersionArn})
	if err != nil || aws.ToString(d.Definition) != passMachine {
		t.Fatalf("after restart: %+v %v", d, err)
	}
	if _, err := c.DescribeActivity(t.Context(), &sfn.DescribeActivityInput{
		ActivityArn: aws.String("arn:aws:states:us-east-1:000000000000:activity:durable")}); err != nil {
		t.Fatal(err)
	}
}

// TestStepFunctionsWaitSurvivesKill kills Kiri (SIGKILL) while a Standard execution waits in a
// Wait state and starts it again on the same data directory: the execution finishes, and its
// history holds each transition once, with consecutive ids.
func TestStepFunctionsWaitSurvivesKill(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	first := kiritest.StartProcess(t, kiritest.Options{DataDir: dir})
	c := first.Clients().SFN
	arn := createMachine(t, c, "sleeper", `{"StartAt":"Before","States":{
		"Before":{"Type":"Pass","Result":{"step":1},"Next":"Nap"},
		"Nap":{"Type":"Wait","Seconds":2,"Next":"After"},
		"After":{"Type":"Pass","Parameters":{"done.$":"$.step"},"End":true}}}`, "")
	start, err := c.StartExecution(t.Context(), &sfn.StartExecutionInput{StateMachineArn: &arn, Name: aws.String("through-a-crash")})
	if err != nil {
		t.Fatal(err)
	}
	exec := aws.ToString(start.ExecutionArn)
	if got := historyTypes(t, c, exec); got[len(got)-1] != "WaitStateEntered" {
		t.Fatalf("before the kill: %v", got)
	}
	first.Kill()

	c = kiritest.StartProcess(t, kiritest.Options{DataDir: dir}).Clients().SFN
	d := waitExecution(t, c, exec, 15*time.Second)
	if d.Status != sfntypes.ExecutionStatusSucceeded || aws.ToString(d.Output) != `{"done":1}` {
		t.Fatalf("after restart: %+v", d)
	}
	h, err := c.GetExecutionHistory(t.Context(), &sfn.GetExecutionHistoryInput{ExecutionArn: &exec})
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for i, e := range h.Events {
		if e.Id != int64(i+1) {
			t.Fatalf("event %d has id %d", i, e.Id)
		}
		types = append(types, string(e.Type))
	}
	want := "ExecutionStarted PassStateEntered PassStateExited WaitStateEntered WaitStateExited PassStateEntered PassStateExited ExecutionSucceeded"
	if strings.Join(types, " ") != want {
		t.Fatalf("history %v", types)
	}
}
