package e2e

import (
	"errors"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/pipes"
	ptypes "github.com/aws/aws-sdk-go-v2/service/pipes/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/kiri-run/kiri/internal/iam/authz"
	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// enrichMachine maps each event of the batch to {id, n + 10, by: "sfn"}.
const enrichMachine = `{"StartAt":"Each","States":{"Each":{"Type":"Map","ItemsPath":"$","End":true,
	"Iterator":{"StartAt":"Enrich","States":{"Enrich":{"Type":"Pass","End":true,
		"Parameters":{"id.$":"$.id","n.$":"States.MathAdd($.n, 10)","by":"sfn"}}}}}}}`

// enrichJSONataMachine does what enrichMachine does, in JSONata.
const enrichJSONataMachine = `{"QueryLanguage":"JSONata","StartAt":"Enrich","States":{"Enrich":{"Type":"Pass","End":true,
	"Output":"{% [$map($states.input, function($e) { {'id': $e.id, 'n': $e.n + 10, 'by': 'sfn'} })] %}"}}}`

// failMachine fails every execution.
const failMachine = `{"StartAt":"No","States":{"No":{"Type":"Fail","Error":"Refused","Cause":"the batch is refused"}}}`

// TestPipeStepFunctionsEnrichment enriches the batches a pipe reads from a queue with an
// Express state machine (in JSONPath, and in JSONata) run synchronously: the execution's
// output, an array, is the enriched events, which reach the target queue.
func TestPipeStepFunctionsEnrichment(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ name, def string }{{"jsonpath", enrichMachine}, {"jsonata", enrichJSONataMachine}} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			cl := kiritest.Start(t, kiritest.Options{}).Clients()
			machine := createMachine(t, cl.SFN, "enrich", c.def, sfntypes.StateMachineTypeExpress)
			src := sqsQueue(t, cl.SQS, "sfn-src", nil)
			dst := sqsQueue(t, cl.SQS, "sfn-dst", nil)
			createPipe(t, cl.Pipes, &pipes.CreatePipeInput{
				Name:   aws.String("enriched"),
				Source: aws.String(queueARN("sfn-src")),
				SourceParameters: &ptypes.PipeSourceParameters{SqsQueueParameters: &ptypes.PipeSourceSqsQueueParameters{
					BatchSize: aws.Int32(5), MaximumBatchingWindowInSeconds: aws.Int32(1)}},
				Enrichment:           aws.String(machine),
				EnrichmentParameters: &ptypes.PipeEnrichmentParameters{InputTemplate: aws.String(`{"id": "<$.body.id>", "n": <$.body.n>}`)},
				Target:               aws.String(queueARN("sfn-dst")),
				TargetParameters:     &ptypes.PipeTargetParameters{InputTemplate: aws.String(`{"id": "<$.id>", "n": <$.n>, "by": "<$.by>"}`)},
			})
			sendBodies(t, cl.SQS, src, `{"id":"a","n":1}`, `{"id":"b","n":2}`, `{"id":"c","n":3}`)
			got := receiveBodies(t, cl.SQS, dst, 3)
			sort.Strings(got)
			want := []string{`{"id": "a", "n": 11, "by": "sfn"}`, `{"id": "b", "n": 12, "by": "sfn"}`, `{"id": "c", "n": 13, "by": "sfn"}`}
			if len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
				t.Fatalf("target received\n%s\nwant\n%s", got, want)
			}
			eventually(t, 5*time.Second, "the source queue drained", func() bool {
				visible, inFlight := queueCounts(t, cl.SQS, src)
				return visible == 0 && inFlight == 0
			})
		})
	}
}

// TestPipeStepFunctionsEnrichmentFailure fails the batch when the enrichment's execution fails:
// the message is received again after its visibility timeout and the queue's redrive policy
// moves it to the dead-letter queue; nothing reaches the target.
func TestPipeStepFunctionsEnrichmentFailure(t *testing.T) {
	t.Parallel()
	cl := kiritest.Start(t, kiritest.Options{}).Clients()
	machine := createMachine(t, cl.SFN, "refuse", failMachine, sfntypes.StateMachineTypeExpress)
	dlq := sqsQueue(t, cl.SQS, "enrich-dlq", nil)
	attrs := redrive(queueARN("enrich-dlq"), 2)
	attrs["VisibilityTimeout"] = "1"
	src := sqsQueue(t, cl.SQS, "enrich-src", attrs)
	dst := sqsQueue(t, cl.SQS, "enrich-dst", nil)
	createPipe(t, cl.Pipes, &pipes.CreatePipeInput{Name: aws.String("refused"), Source: aws.String(queueARN("enrich-src")),
		Enrichment: aws.String(machine), Target: aws.String(queueARN("enrich-dst"))})
	sendBodies(t, cl.SQS, src, `{"id":"x"}`)
	if got := receiveBodies(t, cl.SQS, dlq, 1); got[0] != `{"id":"x"}` {
		t.Fatalf("dead-letter queue received %q", got)
	}
	if visible, inFlight := queueCounts(t, cl.SQS, dst); visible+inFlight != 0 {
		t.Fatalf("the target holds %d messages of a failed enrichment", visible+inFlight)
	}
}

// TestPipeStepFunctionsRequestResponseTarget runs an Express state machine target
// synchronously (REQUEST_RESPONSE) with each batch: a succeeding execution (which sends its
// input to a queue) takes the batch; a failing one fails it, and the queue's redrive policy
// moves its message to the dead-letter queue. REQUEST_RESPONSE is the default: the failing
// pipe names no invocation type.
func TestPipeStepFunctionsRequestResponseTarget(t *testing.T) {
	t.Parallel()
	cl := kiritest.Start(t, kiritest.Options{}).Clients()
	out := sqsQueue(t, cl.SQS, "rr-out", nil)
	forward := createMachine(t, cl.SFN, "forward", `{"StartAt":"Send","States":{"Send":{"Type":"Task","End":true,
		"Resource":"arn:aws:states:::sqs:sendMessage","Parameters":{"QueueUrl":"`+out+`","MessageBody.$":"$[0].body"}}}}`, sfntypes.StateMachineTypeExpress)
	refuse := createMachine(t, cl.SFN, "refuse", failMachine, sfntypes.StateMachineTypeExpress)
	sync := &ptypes.PipeTargetParameters{StepFunctionStateMachineParameters: &ptypes.PipeTargetStateMachineParameters{
		InvocationType: ptypes.PipeTargetInvocationTypeRequestResponse}}

	src := sqsQueue(t, cl.SQS, "rr-src", nil)
	createPipe(t, cl.Pipes, &pipes.CreatePipeInput{Name: aws.String("rr"), Source: aws.String(queueARN("rr-src")), Target: aws.String(forward), TargetParameters: sync})
	d, err := cl.Pipes.DescribePipe(t.Context(), &pipes.DescribePipeInput{Name: aws.String("rr")})
	if err != nil || d.TargetParameters.StepFunctionStateMachineParameters.InvocationType != ptypes.PipeTargetInvocationTypeRequestResponse {
		t.Fatalf("DescribePipe = %+v, %v", d, err)
	}
	sendBodies(t, cl.SQS, src, `{"order":7}`)
	if got := receiveBodies(t, cl.SQS, out, 1); got[0] != `{"order":7}` {
		t.Fatalf("the execution sent %q", got)
	}
	eventually(t, 5*time.Second, "the source queue drained", func() bool {
		visible, inFlight := queueCounts(t, cl.SQS, src)
		return visible == 0 && inFlight == 0
	})

	dlq := sqsQueue(t, cl.SQS, "rr-dlq", nil)
	attrs := redrive(queueARN("rr-dlq"), 2)
	attrs["VisibilityTimeout"] = "1"
	failing := sqsQueue(t, cl.SQS, "rr-failing", attrs)
	createPipe(t, cl.Pipes, &pipes.CreatePipeInput{Name: aws.String("rr-fail"), Source: aws.String(queueARN("rr-failing")), Target: aws.String(refuse)})
	d, err = cl.Pipes.DescribePipe(t.Context(), &pipes.DescribePipeInput{Name: aws.String("rr-fail")})
	if err != nil || d.TargetParameters.StepFunctionStateMachineParameters.InvocationType != ptypes.PipeTargetInvocationTypeRequestResponse {
		t.Fatalf("DescribePipe of a pipe without an invocation type = %+v, %v", d, err)
	}
	sendBodies(t, cl.SQS, failing, `{"order":8}`)
	if got := receiveBodies(t, cl.SQS, dlq, 1); got[0] != `{"order":8}` {
		t.Fatalf("dead-letter queue received %q", got)
	}
}

// TestPipeStepFunctionsStandard refuses a Standard state machine as the enrichment (Pipes
// enriches with Express workflows only), at CreatePipe and at UpdatePipe. A Standard target is
// accepted with either invocation type, as on AWS; with REQUEST_RESPONSE (the default) each
// invocation fails, since StartSyncExecution does not run Standard workflows, and the source's
// redrive policy moves the batch to its dead-letter queue; with FIRE_AND_FORGET it starts.
func TestPipeStepFunctionsStandard(t *testing.T) {
	t.Parallel()
	cl := kiritest.Start(t, kiritest.Options{}).Clients()
	standard := createMachine(t, cl.SFN, "standard", echoMachine, sfntypes.StateMachineTypeStandard)
	sqsQueue(t, cl.SQS, "std-dst", nil)
	dlq := sqsQueue(t, cl.SQS, "std-dlq", nil)
	attrs := redrive(queueARN("std-dlq"), 2)
	attrs["VisibilityTimeout"] = "1"
	src := sqsQueue(t, cl.SQS, "std-src", attrs)
	wantField := func(err error, field string) {
		t.Helper()
		var ve *ptypes.ValidationException
		if !errors.As(err, &ve) {
			t.Fatalf("err = %v, want ValidationException", err)
		}
		if len(ve.FieldList) != 1 || aws.ToString(ve.FieldList[0].Name) != field {
			t.Fatalf("fieldList %+v (message %q), want %s", ve.FieldList, ve.ErrorMessage(), field)
		}
	}
	_, err := cl.Pipes.CreatePipe(t.Context(), &pipes.CreatePipeInput{Name: aws.String("p"), RoleArn: aws.String(pipeRole),
		Source: aws.String(queueARN("std-src")), Enrichment: aws.String(standard), Target: aws.String(queueARN("std-dst"))})
	wantField(err, "Enrichment")
	if list, err := cl.Pipes.ListPipes(t.Context(), &pipes.ListPipesInput{}); err != nil || len(list.Pipes) != 0 {
		t.Fatalf("ListPipes = %v, %v: a refused pipe was created", list, err)
	}

	createPipe(t, cl.Pipes, &pipes.CreatePipeInput{Name: aws.String("p"), Source: aws.String(queueARN("std-src")), Target: aws.String(standard)})
	_, err = cl.Pipes.UpdatePipe(t.Context(), &pipes.UpdatePipeInput{Name: aws.String("p"), RoleArn: aws.String(pipeRole), Enrichment: aws.String(standard)})
	wantField(err, "Enrichment")
	d, err := cl.Pipes.DescribePipe(t.Context(), &pipes.DescribePipeInput{Name: aws.String("p")})
	if err != nil || aws.ToString(d.Enrichment) != "" || d.TargetParameters.StepFunctionStateMachineParameters.InvocationType != ptypes.PipeTargetInvocationTypeRequestResponse {
		t.Fatalf("DescribePipe after a refused update = %+v, %v", d, err)
	}
	sendBodies(t, cl.SQS, src, `{"order":9}`)
	if got := receiveBodies(t, cl.SQS, dlq, 1); got[0] != `{"order":9}` {
		t.Fatalf("dead-letter queue received %q", got)
	}
	if list, err := cl.SFN.ListExecutions(t.Context(), &sfn.ListExecutionsInput{StateMachineArn: aws.String(standard)}); err != nil || len(list.Executions) != 0 {
		t.Fatalf("ListExecutions = %+v, %v: a REQUEST_RESPONSE invocation started a Standard execution", list, err)
	}

	_, err = cl.Pipes.UpdatePipe(t.Context(), &pipes.UpdatePipeInput{Name: aws.String("p"), RoleArn: aws.String(pipeRole),
		TargetParameters: &ptypes.PipeTargetParameters{StepFunctionStateMachineParameters: &ptypes.PipeTargetStateMachineParameters{
			InvocationType: ptypes.PipeTargetInvocationTypeFireAndForget}}})
	if err != nil {
		t.Fatalf("UpdatePipe to FIRE_AND_FORGET: %v", err)
	}
	eventually(t, 10*time.Second, "the pipe running again", func() bool {
		d, err := cl.Pipes.DescribePipe(t.Context(), &pipes.DescribePipeInput{Name: aws.String("p")})
		return err == nil && d.CurrentState == ptypes.PipeStateRunning
	})
	sendBodies(t, cl.SQS, src, `{"order":10}`)
	if input := firstExecution(t, cl.SFN, standard, 15*time.Second); !strings.Contains(input, `order\":10`) {
		t.Fatalf("execution input %s", input)
	}
}

// TestPipeStepFunctionsEnrichmentNeedsStartSyncExecution runs the enrichment as the pipe's role
// when IAM is enforced: a role allowed only states:StartExecution on the Express state machine
// fails the pipe with Pipes' reason; once it is allowed states:StartSyncExecution, an update
// runs the pipe and events arrive enriched.
func TestPipeStepFunctionsEnrichmentNeedsStartSyncExecution(t *testing.T) {
	t.Parallel()
	cl := kiritest.Start(t, kiritest.Options{Strict: true, IAM: authz.Enforce}).Clients()
	ctx := t.Context()
	arn := func(name string) string { return "arn:aws:sqs:us-east-1:" + kiritest.TestAccount + ":" + name }
	role := func(name, service, policy string) string {
		t.Helper()
		trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"` + service + `"},"Action":"sts:AssumeRole"}]}`
		out, err := cl.IAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(trust)})
		if err != nil {
			t.Fatal(err)
		}
		if policy != "" {
			if _, err := cl.IAM.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String("p"),
				PolicyDocument: aws.String(policy)}); err != nil {
				t.Fatal(err)
			}
		}
		return aws.ToString(out.Role.Arn)
	}
	m, err := cl.SFN.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("enrich"), Definition: aws.String(enrichMachine),
		RoleArn: aws.String(role("flow", "states.amazonaws.com", "")), Type: sfntypes.StateMachineTypeExpress})
	if err != nil {
		t.Fatal(err)
	}
	machine := aws.ToString(m.StateMachineArn)
	src := sqsQueue(t, cl.SQS, "iam-src", nil)
	dst := sqsQueue(t, cl.SQS, "iam-dst", nil)
	allow := func(action, resource string) string {
		return `{"Effect":"Allow","Action":` + action + `,"Resource":"` + resource + `"}`
	}
	base := allow(`["sqs:ReceiveMessage","sqs:DeleteMessage","sqs:GetQueueAttributes"]`, arn("iam-src")) + "," +
		allow(`"sqs:SendMessage"`, arn("iam-dst"))
	runner := role("pipe-runner", "pipes.amazonaws.com",
		`{"Version":"2012-10-17","Statement":[`+base+","+allow(`"states:StartExecution"`, machine)+`]}`)
	if _, err := cl.Pipes.CreatePipe(ctx, &pipes.CreatePipeInput{Name: aws.String("guarded"), RoleArn: aws.String(runner),
		Source: aws.String(arn("iam-src")), Enrichment: aws.String(machine), Target: aws.String(arn("iam-dst")),
		EnrichmentParameters: &ptypes.PipeEnrichmentParameters{InputTemplate: aws.String(`{"id": "<$.body.id>", "n": <$.body.n>}`)},
		TargetParameters:     &ptypes.PipeTargetParameters{InputTemplate: aws.String(`{"id": "<$.id>", "n": <$.n>}`)}}); err != nil {
		t.Fatal(err)
	}
	d := waitPipeState(t, cl.Pipes, "guarded", ptypes.PipeStateCreateFailed)
	if !strings.Contains(aws.ToString(d.StateReason), "does not have permissions to deliver to the enrichment") {
		t.Fatalf("StateReason %q", aws.ToString(d.StateReason))
	}
	if _, err := cl.IAM.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("pipe-runner"), PolicyName: aws.String("p"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[` + base + "," + allow(`"states:StartSyncExecution"`, machine) + `]}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Pipes.UpdatePipe(ctx, &pipes.UpdatePipeInput{Name: aws.String("guarded"), RoleArn: aws.String(runner)}); err != nil {
		t.Fatal(err)
	}
	waitPipeState(t, cl.Pipes, "guarded", ptypes.PipeStateRunning)
	sendBodies(t, cl.SQS, src, `{"id":"a","n":5}`)
	if got := receiveBodies(t, cl.SQS, dst, 1); got[0] != `{"id": "a", "n": 15}` {
		t.Fatalf("target received %q", got)
	}
}
