package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/pipes"
	ptypes "github.com/aws/aws-sdk-go-v2/service/pipes/types"
	schedtypes "github.com/aws/aws-sdk-go-v2/service/scheduler/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// echoMachine ends with its input as its output.
const echoMachine = `{"StartAt":"Echo","States":{"Echo":{"Type":"Pass","End":true}}}`

// firstExecution waits for the state machine's first execution to succeed and returns its
// input.
func firstExecution(t *testing.T, c *sfn.Client, machine string, within time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		l, err := c.ListExecutions(t.Context(), &sfn.ListExecutionsInput{StateMachineArn: &machine, StatusFilter: sfntypes.ExecutionStatusSucceeded})
		if err != nil {
			t.Fatal(err)
		}
		if len(l.Executions) > 0 {
			d, err := c.DescribeExecution(t.Context(), &sfn.DescribeExecutionInput{ExecutionArn: l.Executions[0].ExecutionArn})
			if err != nil {
				t.Fatal(err)
			}
			return aws.ToString(d.Input)
		}
		if time.Now().After(deadline) {
			t.Fatalf("no execution of %s succeeded within %s", machine, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestStepFunctionsEventBridgeRuleTarget starts an execution for each event a rule matches,
// with the event as its input; a state machine target needs a role, as AWS requires.
func TestStepFunctionsEventBridgeRuleTarget(t *testing.T) {
	t.Parallel()
	cl := startKiri(t)
	machine := createMachine(t, cl.SFN, "on-event", echoMachine, "")
	_, err := cl.Events.PutTargets(t.Context(), &eventbridge.PutTargetsInput{Rule: aws.String("none"), Targets: []ebtypes.Target{{Id: aws.String("m"), Arn: aws.String(machine)}}})
	wantAPIError(t, err, "ValidationException", "RoleArn is required")
	putRuleWithTargets(t, cl.Events, "", "orders", `{"source":["shop"]}`,
		ebtypes.Target{Id: aws.String("flow"), Arn: aws.String(machine), RoleArn: aws.String(sfnRole)})
	id := putEvent(t, cl.Events, "", "shop", "Order Placed", `{"id":9}`)
	var ev struct {
		ID     string          `json:"id"`
		Detail json.RawMessage `json:"detail"`
	}
	input := firstExecution(t, cl.SFN, machine, 10*time.Second)
	if err := json.Unmarshal([]byte(input), &ev); err != nil || ev.ID != id || string(ev.Detail) != `{"id":9}` {
		t.Fatalf("input %s (%v)", input, err)
	}
}

// TestStepFunctionsSchedulerTarget starts an execution from a one-time schedule.
func TestStepFunctionsSchedulerTarget(t *testing.T) {
	t.Parallel()
	cl := startKiri(t)
	machine := createMachine(t, cl.SFN, "on-schedule", echoMachine, "")
	createSchedule(t, cl.Scheduler, "soon", atIn(time.Second),
		&schedtypes.Target{Arn: aws.String(machine), RoleArn: aws.String(schedulerRole), Input: aws.String(`{"scheduled":true}`)})
	if input := firstExecution(t, cl.SFN, machine, 15*time.Second); input != `{"scheduled":true}` {
		t.Fatalf("input %s", input)
	}
}

// TestStepFunctionsPipeTarget starts an execution with each batch an SQS pipe reads.
func TestStepFunctionsPipeTarget(t *testing.T) {
	t.Parallel()
	cl := startKiri(t)
	machine := createMachine(t, cl.SFN, "on-pipe", echoMachine, "")
	url, arn := createQueue(t, cl.SQS, "pipe-source")
	// A Standard workflow is started asynchronously: REQUEST_RESPONSE, the default, is for Express
	// workflows.
	createPipe(t, cl.Pipes, &pipes.CreatePipeInput{Name: aws.String("to-flow"), Source: aws.String(arn), Target: aws.String(machine),
		SourceParameters: &ptypes.PipeSourceParameters{SqsQueueParameters: &ptypes.PipeSourceSqsQueueParameters{BatchSize: aws.Int32(1)}},
		TargetParameters: &ptypes.PipeTargetParameters{StepFunctionStateMachineParameters: &ptypes.PipeTargetStateMachineParameters{
			InvocationType: ptypes.PipeTargetInvocationTypeFireAndForget}}})
	sendBodies(t, cl.SQS, url, `{"n":1}`)
	input := firstExecution(t, cl.SFN, machine, 15*time.Second)
	var batch []struct{ Body string }
	if err := json.Unmarshal([]byte(input), &batch); err != nil || len(batch) != 1 || batch[0].Body != `{"n":1}` {
		t.Fatalf("input %s (%v)", input, err)
	}
}

// TestStepFunctionsAPIGatewayIntegrations starts executions from HTTP API routes: a
// StepFunctions-StartSyncExecution integration answers the Express execution's result, and a
// StepFunctions-StartExecution integration answers the started execution.
func TestStepFunctionsAPIGatewayIntegrations(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{})
	cl := srv.Clients()
	express := createMachine(t, cl.SFN, "http-sync", `{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"got.$":"$.id"},"End":true}}}`,
		sfntypes.StateMachineTypeExpress)
	base := serviceRoute(t, srv, "StepFunctions-StartSyncExecution", "", map[string]string{"StateMachineArn": express, "Input": "$request.body"})
	status, _, body := call(t, srv, http.MethodPost, base+"x", "", `{"id":5}`, nil)
	var res struct{ Status, Output, ExecutionArn string }
	if status != http.StatusOK || json.Unmarshal(body, &res) != nil || res.Status != "SUCCEEDED" || res.Output != `{"got":5}` {
		t.Fatalf("sync = %d %s", status, body)
	}
	standard := createMachine(t, cl.SFN, "http-async", echoMachine, "")
	base = serviceRoute(t, srv, "StepFunctions-StartExecution", "", map[string]string{"StateMachineArn": standard, "Input": "$request.body"})
	status, _, body = call(t, srv, http.MethodPost, base+"x", "", `{"id":6}`, nil)
	if status != http.StatusOK || json.Unmarshal(body, &res) != nil || !strings.Contains(res.ExecutionArn, ":execution:http-async:") {
		t.Fatalf("start = %d %s", status, body)
	}
	if input := firstExecution(t, cl.SFN, standard, 10*time.Second); input != `{"id":6}` {
		t.Fatalf("input %s", input)
	}
	status, _, body = call(t, srv, http.MethodPost, base+"x", "", `not json`, nil)
	if status != http.StatusBadRequest || !strings.Contains(string(body), "InvalidExecutionInput") {
		t.Fatalf("bad input = %d %s", status, body)
	}
}
