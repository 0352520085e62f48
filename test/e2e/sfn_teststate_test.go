package e2e

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	ltypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// TestStepFunctionsTestState tests single states and a state of a whole machine: Pass and
// Choice with their inspection data, a Task calling a real function as the role, its
// retriers and catchers reported, mocks, and AWS's refusals.
func TestStepFunctionsTestState(t *testing.T) {
	t.Parallel()
	cl := startKiri(t)
	c := cl.SFN
	ctx := t.Context()
	test := func(t *testing.T, in sfn.TestStateInput) *sfn.TestStateOutput {
		t.Helper()
		out, err := c.TestState(ctx, &in)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}

	t.Run("pass shows each processing step at DEBUG", func(t *testing.T) {
		out := test(t, sfn.TestStateInput{Definition: aws.String(`{"Type":"Pass","InputPath":"$.a","Parameters":{"b.$":"$.x"},"ResultPath":"$.r","Next":"N"}`),
			Input: aws.String(`{"a":{"x":1}}`), InspectionLevel: sfntypes.InspectionLevelDebug})
		d := out.InspectionData
		if out.Status != sfntypes.TestExecutionStatusSucceeded || aws.ToString(out.NextState) != "N" || aws.ToString(out.Output) != `{"a":{"x":1},"r":{"b":1}}` ||
			d == nil || aws.ToString(d.AfterInputPath) != `{"x":1}` || aws.ToString(d.AfterParameters) != `{"b":1}` {
			t.Fatalf("%+v %+v", out, d)
		}
		info := test(t, sfn.TestStateInput{Definition: aws.String(`{"Type":"Pass","End":true}`)})
		if info.InspectionData != nil || aws.ToString(info.Output) != `{}` {
			t.Fatalf("INFO shows %+v", info)
		}
	})
	t.Run("choice names the next state of a whole machine's state", func(t *testing.T) {
		def := `{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.n","NumericGreaterThan":5,"Next":"Big"}],"Default":"Small"},
			"Big":{"Type":"Succeed"},"Small":{"Type":"Succeed"}}}`
		out := test(t, sfn.TestStateInput{Definition: &def, StateName: aws.String("C"), Input: aws.String(`{"n":9}`)})
		if aws.ToString(out.NextState) != "Big" {
			t.Fatalf("%+v", out)
		}
		_, err := c.TestState(ctx, &sfn.TestStateInput{Definition: &def, StateName: aws.String("Nope")})
		wantAPIError(t, err, "InvalidDefinition", "The state 'Nope' does not exist")
	})

	createTestFunction(t, cl.Lambda, "ts-doubler", kiritest.ZipSource(t, map[string]string{"app.py": sfnFunction}), func(in *lambda.CreateFunctionInput) {
		in.Runtime, in.Handler = ltypes.RuntimePython312, aws.String("app.handler")
	})
	waitActive(t, cl.Lambda, "ts-doubler")
	t.Run("task invokes a real function as the role", func(t *testing.T) {
		out := test(t, sfn.TestStateInput{RoleArn: aws.String(sfnRole), InspectionLevel: sfntypes.InspectionLevelTrace,
			Definition: aws.String(`{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"ts-doubler","Payload.$":"$"},
				"ResultSelector":{"r.$":"$.Payload.doubled"},"End":true}`), Input: aws.String(`{"n":21}`)})
		if out.Status != sfntypes.TestExecutionStatusSucceeded || aws.ToString(out.Output) != `{"r":42}` ||
			!strings.Contains(aws.ToString(out.InspectionData.Result), `"Payload":{"doubled":42}`) {
			t.Fatalf("%+v %+v", out, out.InspectionData)
		}
	})
	failing := `"Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"ts-doubler","Payload":{"fail":true}}`
	t.Run("a retrier is reported with its backoff", func(t *testing.T) {
		out := test(t, sfn.TestStateInput{RoleArn: aws.String(sfnRole), InspectionLevel: sfntypes.InspectionLevelDebug,
			Definition: aws.String(`{"Type":"Task",` + failing + `,"Retry":[{"ErrorEquals":["Other"]},{"ErrorEquals":["ValueError"],"IntervalSeconds":3,"MaxAttempts":2}],"End":true}`)})
		e := out.InspectionData.ErrorDetails
		if out.Status != sfntypes.TestExecutionStatusRetriable || aws.ToString(out.Error) != "ValueError" || e == nil ||
			aws.ToInt32(e.RetryIndex) != 1 || aws.ToInt32(e.RetryBackoffIntervalSeconds) != 3 {
			t.Fatalf("%+v %+v", out, e)
		}
		spent := test(t, sfn.TestStateInput{RoleArn: aws.String(sfnRole), StateConfiguration: &sfntypes.TestStateConfiguration{RetrierRetryCount: aws.Int32(2)},
			Definition: aws.String(`{"Type":"Task",` + failing + `,"Retry":[{"ErrorEquals":["ValueError"],"MaxAttempts":2}],"End":true}`)})
		if spent.Status != sfntypes.TestExecutionStatusFailed {
			t.Fatalf("spent retrier: %+v", spent)
		}
	})
	t.Run("a catcher is reported", func(t *testing.T) {
		out := test(t, sfn.TestStateInput{RoleArn: aws.String(sfnRole), InspectionLevel: sfntypes.InspectionLevelDebug,
			Definition: aws.String(`{"Type":"Task",` + failing + `,"Catch":[{"ErrorEquals":["ValueError"],"Next":"Handle"}],"End":true}`)})
		if out.Status != sfntypes.TestExecutionStatusCaughtError || aws.ToString(out.NextState) != "Handle" ||
			aws.ToInt32(out.InspectionData.ErrorDetails.CatchIndex) != 0 || !strings.Contains(aws.ToString(out.Output), "asked to fail") {
			t.Fatalf("%+v", out)
		}
	})
	t.Run("mocks stand in for the task", func(t *testing.T) {
		task := `{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken","Parameters":{"FunctionName":"absent"},"Catch":[{"ErrorEquals":["States.ALL"],"Next":"H"}],"End":true}`
		out := test(t, sfn.TestStateInput{Definition: &task, Mock: &sfntypes.MockInput{Result: aws.String(`{"ok":true}`)}})
		if out.Status != sfntypes.TestExecutionStatusSucceeded || aws.ToString(out.Output) != `{"ok":true}` {
			t.Fatalf("%+v", out)
		}
		out = test(t, sfn.TestStateInput{Definition: &task, Mock: &sfntypes.MockInput{ErrorOutput: &sfntypes.MockErrorOutput{Error: aws.String("E"), Cause: aws.String("c")}}})
		if out.Status != sfntypes.TestExecutionStatusCaughtError || aws.ToString(out.NextState) != "H" || aws.ToString(out.Error) != "E" {
			t.Fatalf("%+v", out)
		}
		events := `{"Type":"Task","Resource":"arn:aws:states:::events:putEvents","Parameters":{"Entries":[]},"End":true}`
		_, err := c.TestState(ctx, &sfn.TestStateInput{Definition: &events, Mock: &sfntypes.MockInput{Result: aws.String(`{"Entries":"x"}`)}})
		wantAPIError(t, err, "ValidationException", "Mock result schema validation error: Field 'Entries' must be an array")
		out = test(t, sfn.TestStateInput{Definition: &events, Mock: &sfntypes.MockInput{Result: aws.String(`{"Entries":"x"}`), FieldValidationMode: sfntypes.MockResponseValidationModeNone}})
		if aws.ToString(out.Output) != `{"Entries":"x"}` {
			t.Fatalf("NONE: %+v", out)
		}
	})
	t.Run("refusals", func(t *testing.T) {
		cases := []struct {
			name, code, msg string
			in              sfn.TestStateInput
		}{
			{"an invalid state", "InvalidDefinition", "Invalid State Machine Definition", sfn.TestStateInput{Definition: aws.String(`{"Type":"Pass"}`)}},
			{"input that is not JSON", "InvalidExecutionInput", "Invalid State Machine Execution Input", sfn.TestStateInput{Definition: aws.String(`{"Type":"Pass","End":true}`), Input: aws.String("{")}},
			{"a task without a role", "ValidationException", "roleArn", sfn.TestStateInput{Definition: aws.String(`{"Type":"Task",` + failing + `,"End":true}`)}},
			{"a token task without a mock", "ValidationException", "only when a mock is specified", sfn.TestStateInput{RoleArn: aws.String(sfnRole),
				Definition: aws.String(`{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage.waitForTaskToken","End":true}`)}},
			{"a mock of a Pass state", "ValidationException", "Task, Map and Parallel", sfn.TestStateInput{Definition: aws.String(`{"Type":"Pass","End":true}`),
				Mock: &sfntypes.MockInput{Result: aws.String(`1`)}}},
		}
		for _, tc := range cases {
			_, err := c.TestState(ctx, &tc.in)
			wantAPIError(t, err, tc.code, tc.msg)
		}
	})
}
