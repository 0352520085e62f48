package sfn

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/kiri-run/kiri/internal/asl"
	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/uuid"
)

// testStateLimit is how long TestState may run, as AWS documents it.
const testStateLimit = 5 * time.Minute

// testMachineName names the state machine a TestState run reports in its context object.
const testMachineName = "TestStateMachine"

// testState runs one state alone (TestState). Its tasks run through the same task execution
// as an execution's, acting as roleArn; a mock stands in for them.
func (s *Service) testState(ctx context.Context, in *TestStateInput) (*TestStateOutput, error) {
	sc := scopeOf(ctx)
	def := awsproto.Value(in.Definition)
	role := awsproto.Value(in.RoleArn)
	if role != "" {
		if err := checkRoleARN(role); err != nil {
			return nil, err
		}
	}
	st, err := asl.ParseStateTest([]byte(def), awsproto.Value(in.StateName))
	var ve *asl.ValidationError
	if errors.As(err, &ve) {
		return nil, apiError("InvalidDefinition", "%s", ve.Error())
	}
	if err != nil {
		return nil, wrap("test state", err)
	}
	state := testedState([]byte(def), awsproto.Value(in.StateName))
	mock, err := s.testMock(in.Mock, state)
	if err != nil {
		return nil, err
	}
	if err := s.checkTestedState(state, mock != nil, role); err != nil {
		return nil, err
	}
	run, err := testRunInput(in, mock)
	if err != nil {
		return nil, err
	}
	if role != "" {
		if err := s.checkRole(ctx, sc, role); err != nil {
			return nil, err
		}
	}
	now := s.now().UTC()
	ex := &execution{ARN: sc.arn("execution", testMachineName+":"+uuid.New()), MachineARN: sc.machineARN(testMachineName),
		MachineName: testMachineName, Type: typeStandard, RoleARN: role, Started: now, Input: string(run.Input)}
	ex.Name = ex.ARN[len(sc.arn("execution", testMachineName+":")):]
	run.Context, run.Now = aslContext(ex), now
	ctx, cancel := context.WithTimeout(ctx, testStateLimit)
	defer cancel()
	res, err := st.Run(run, func(t asl.TaskEffect) ([]byte, string, string) {
		if ctx.Err() != nil {
			return nil, "States.Timeout", "The TestState call ran longer than its 5 minutes"
		}
		r := s.runTask(ctx, ex, t)
		return r.output, r.errName, r.cause
	})
	if err != nil {
		return nil, wrap("test state", err)
	}
	return testStateOutput(res, awsproto.Value(in.InspectionLevel)), nil
}

// testRunInput checks TestState's input, variables, context and state configuration.
func testRunInput(in *TestStateInput, mock *asl.Mock) (asl.StateTestInput, error) {
	run := asl.StateTestInput{Input: []byte("{}"), Mock: mock}
	if in.Input != nil {
		if err := checkInput(*in.Input); err != nil {
			return run, err
		}
		run.Input = []byte(*in.Input)
	}
	if in.Variables != nil {
		if !isJSONObject(*in.Variables) {
			return run, validation("Variables must be a valid JSON object")
		}
		run.Variables = []byte(*in.Variables)
	}
	if in.Context != nil {
		if !isJSONObject(*in.Context) {
			return run, validation("Context must be a valid JSON object")
		}
		run.ContextObject = []byte(*in.Context)
	}
	if c := in.StateConfiguration; c != nil {
		if c.ErrorCausedByState != nil || c.MapIterationFailureCount != nil || c.MapItemReaderData != nil {
			return run, validation("stateConfiguration supports only retrierRetryCount on this server: errorCausedByState, mapIterationFailureCount and mapItemReaderData are not supported")
		}
		if n := awsproto.Value(c.RetrierRetryCount); n < 0 {
			return run, validation("retrierRetryCount must not be negative")
		} else {
			run.RetrierRetryCount = int(n)
		}
	}
	return run, nil
}

func isJSONObject(s string) bool {
	var m map[string]json.RawMessage
	return json.Unmarshal([]byte(s), &m) == nil && m != nil
}

// testedState is the definition of the state TestState runs (nil when it is not an object).
func testedState(def []byte, name string) map[string]any {
	var v map[string]any
	if json.Unmarshal(def, &v) != nil {
		return nil
	}
	if name == "" {
		return v
	}
	states, _ := v["States"].(map[string]any)
	st, _ := states[name].(map[string]any)
	return st
}

// checkTestedState refuses what TestState cannot run: the tasks this server has no
// integration for, and, without a mock, tasks that wait for something outside the call
// (activities, .sync and .waitForTaskToken) or that would act as no role.
func (s *Service) checkTestedState(state map[string]any, mocked bool, role string) error {
	root := map[string]any{"States": map[string]any{"TestState": state}}
	var problems []string
	var waits, tasks bool
	walkStates(root, "", func(path string, st map[string]any) {
		if p := s.unsupported(typeStandard, path, st); p != "" {
			problems = append(problems, p)
		}
		if st["Type"] != "Task" || (mocked && path == "/States/TestState") {
			return
		}
		tasks = true
		res, _ := st["Resource"].(string)
		if _, ok := activityOf(res); ok {
			waits = true
		} else if in, ok := parseIntegration(res); ok && in.mode != "" {
			waits = true
		}
	})
	if len(problems) > 0 {
		return invalidDefinition(problems...)
	}
	if waits {
		return validation("TestState supports Activity tasks and the .sync and .waitForTaskToken integration patterns only when a mock is specified")
	}
	if tasks && role == "" {
		return validation("A roleArn is required to test a Task state that is not mocked")
	}
	return nil
}

// testStateOutput is TestState's answer; inspection data is shown from the DEBUG level on.
func testStateOutput(res *asl.StateTestResult, level string) *TestStateOutput {
	out := &TestStateOutput{Status: &res.Status, Error: optional(res.Error), Cause: optional(res.Cause), NextState: optional(res.NextState)}
	if res.Output != nil {
		out.Output = awsproto.Ptr(string(res.Output))
	}
	if level != "DEBUG" && level != "TRACE" {
		return out
	}
	in := res.Inspection
	d := &InspectionData{Input: optional(in.Input), AfterArguments: optional(in.AfterArguments), AfterInputPath: optional(in.AfterInputPath),
		AfterParameters: optional(in.AfterParameters), Result: optional(in.Result), AfterResultSelector: optional(in.AfterResultSelector),
		AfterResultPath: optional(in.AfterResultPath), Variables: optional(in.Variables)}
	if in.MaxConcurrency != nil {
		d.MaxConcurrency = awsproto.Ptr(int32(*in.MaxConcurrency))
	}
	if in.ToleratedFailureCount != nil {
		d.ToleratedFailureCount = awsproto.Ptr(int32(*in.ToleratedFailureCount))
	}
	if in.ToleratedFailurePercentage != nil {
		d.ToleratedFailurePercentage = awsproto.Ptr(float32(*in.ToleratedFailurePercentage))
	}
	if e := in.ErrorDetails; e != nil {
		d.ErrorDetails = &InspectionErrorDetails{CatchIndex: int32Ptr(e.CatchIndex), RetryIndex: int32Ptr(e.RetryIndex)}
		if e.RetryBackoffIntervalSeconds != nil {
			d.ErrorDetails.RetryBackoffIntervalSeconds = awsproto.Ptr(int32(*e.RetryBackoffIntervalSeconds))
		}
	}
	out.InspectionData = d
	return out
}

func int32Ptr(p *int) *int32 {
	if p == nil {
		return nil
	}
	return awsproto.Ptr(int32(*p))
}
