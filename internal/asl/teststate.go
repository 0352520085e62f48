package asl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/kiri-run/kiri/internal/jsonobj"
)

// TestState statuses, as the TestState API reports them.
const (
	TestSucceeded   = "SUCCEEDED"
	TestFailed      = "FAILED"
	TestRetriable   = "RETRIABLE"
	TestCaughtError = "CAUGHT_ERROR"
)

// StateTest is one state ready to run alone, as the TestState API runs it.
type StateTest struct {
	m    *Machine
	name string
}

// ParseStateTest parses TestState's definition: one state's definition or, with stateName,
// a whole state machine's, of which that state runs. An invalid one yields a
// *ValidationError.
func ParseStateTest(definition []byte, stateName string) (*StateTest, error) {
	if stateName != "" {
		m, err := Parse(definition)
		if err != nil {
			return nil, err
		}
		if m.blocks[0].states[stateName] == nil {
			return nil, &ValidationError{Diagnostics: []Diagnostic{{Severity: "ERROR", Code: "SCHEMA_VALIDATION_FAILED",
				Message: fmt.Sprintf("The state '%s' does not exist in the top level of the state machine", stateName), Location: "/States"}}}
		}
		return &StateTest{m: m, name: stateName}, nil
	}
	v, err := decodeJSON(definition)
	st, ok := v.(*jsonobj.Object)
	if err != nil || !ok {
		return nil, &ValidationError{Diagnostics: []Diagnostic{{Severity: "ERROR", Code: "INVALID_JSON_DESCRIPTION", Message: "The state definition must be a JSON object"}}}
	}
	const name = "TestState"
	tree := definitionTree(st, false).(map[string]any)
	states := jsonobj.New(1)
	states.Set(name, st)
	// the states it may go to are stand-ins: only the name of the next state is reported
	for _, t := range stateTargets(tree) {
		if t != name {
			succeed := jsonobj.New(1)
			succeed.Set("Type", "Succeed")
			states.Set(t, succeed)
		}
	}
	top := jsonobj.New(3)
	top.Set("StartAt", name)
	top.Set("States", states)
	if q, ok := tree["QueryLanguage"]; ok {
		top.Set("QueryLanguage", q)
	}
	m, err := Parse(encode(top))
	if err != nil {
		return nil, err
	}
	return &StateTest{m: m, name: name}, nil
}

func stateTargets(st map[string]any) []string {
	var out []string
	add := func(v any) {
		if s, ok := v.(string); ok && s != "" {
			out = append(out, s)
		}
	}
	add(st["Next"])
	add(st["Default"])
	for _, list := range []string{"Choices", "Catch"} {
		items, _ := st[list].([]any)
		for _, it := range items {
			if o, ok := it.(map[string]any); ok {
				add(o["Next"])
			}
		}
	}
	return out
}

// StateTestResult is what TestState reports about one run of a state.
type StateTestResult struct {
	Status     string
	Output     []byte // when the state succeeded or caught its error
	Error      string
	Cause      string
	NextState  string
	Inspection Inspection
}

// Inspection is TestState's inspectionData: the state's data after each step of processing.
type Inspection struct {
	Input                      string                  `json:"input,omitempty"`
	AfterArguments             string                  `json:"afterArguments,omitempty"`
	AfterInputPath             string                  `json:"afterInputPath,omitempty"`
	AfterParameters            string                  `json:"afterParameters,omitempty"`
	Result                     string                  `json:"result,omitempty"`
	AfterResultSelector        string                  `json:"afterResultSelector,omitempty"`
	AfterResultPath            string                  `json:"afterResultPath,omitempty"`
	Variables                  string                  `json:"variables,omitempty"`
	MaxConcurrency             *int                    `json:"maxConcurrency,omitempty"`
	ToleratedFailureCount      *int                    `json:"toleratedFailureCount,omitempty"`
	ToleratedFailurePercentage *float64                `json:"toleratedFailurePercentage,omitempty"`
	ErrorDetails               *InspectionErrorDetails `json:"errorDetails,omitempty"`
}

// InspectionErrorDetails tells which retrier or catcher handled a state's error.
type InspectionErrorDetails struct {
	CatchIndex                  *int   `json:"catchIndex,omitempty"`
	RetryIndex                  *int   `json:"retryIndex,omitempty"`
	RetryBackoffIntervalSeconds *int64 `json:"retryBackoffIntervalSeconds,omitempty"`
}

// probe records a TestState run.
type probe struct {
	insp       Inspection
	next       string
	retryIndex *int
	catchIndex *int
	backoff    *float64 // nil when the matching retrier's attempts are spent
	retries    int      // the retries the matching retrier already made
	caught     *stateError
	mock       *Mock          // replaces the tested Task's task, or its Map or Parallel branches
	context    map[string]any // laid over the context object ($$)
}

// inspectField names a step of a state's data processing TestState shows.
type inspectField int

const (
	afterInputPath inspectField = iota
	afterParameters
	afterArguments
	stateResult
	afterResultSelector
	afterResultPath
)

// inspected records v as the data after one processing step, when TestState runs the
// state (and not a state inside its Map or Parallel branches).
func (x *exec) inspected(field inspectField, v any) {
	if x.probe == nil || len(x.stack) != 1 {
		return
	}
	in := &x.probe.insp
	text := encodeString(v)
	switch field {
	case afterInputPath:
		in.AfterInputPath = text
	case afterParameters:
		in.AfterParameters = text
	case afterArguments:
		in.AfterArguments = text
	case stateResult:
		in.Result = text
	case afterResultSelector:
		in.AfterResultSelector = text
	case afterResultPath:
		in.AfterResultPath = text
	}
}

// ErrTaskRunner reports a Task state tested without a way to run its task.
var ErrTaskRunner = errors.New("asl: the state is a Task state and no task runner was given")

// StateTestInput is what one TestState call runs the state with.
type StateTestInput struct {
	Input     []byte  // the state's input (JSON); empty means {}
	Variables []byte  // the workflow variables, a JSON object, or empty
	Context   Context // the execution the state runs in
	Now       time.Time
	// RetrierRetryCount is stateConfiguration.retrierRetryCount: how many retries the
	// matching retrier already made.
	RetrierRetryCount int
	// ContextObject is TestState's context: a JSON object laid over the context object ($$)
	// the state sees, member by member; empty means none.
	ContextObject []byte
	// Mock, when set, stands in for the state's task (a Task state) or for its branches or
	// iterations (a Parallel or Map state).
	Mock *Mock
}

// Mock is TestState's mock: the result a mocked state's work returns, or the error it fails with.
type Mock struct {
	Result       []byte // JSON
	Error, Cause string // when Error is set, the work fails with it
}

// overlay lays o over base, member by member: objects merge, other values replace.
func overlay(base, o map[string]any) {
	for k, v := range o {
		bo, ok1 := base[k].(map[string]any)
		vo, ok2 := v.(map[string]any)
		if ok1 && ok2 {
			overlay(bo, vo)
			continue
		}
		base[k] = v
	}
}

// Run runs the state once. A Task state's task runs through task; its retriers are not
// applied but reported (RETRIABLE, or FAILED once spent), its catchers are (CAUGHT_ERROR).
// Wait states do not wait.
func (t *StateTest) Run(in StateTestInput, task func(TaskEffect) (output []byte, errorName, cause string)) (*StateTestResult, error) {
	r, err := t.m.Start(in.Input, in.Context)
	if err != nil {
		return nil, err
	}
	now := in.Now
	r.Root.State = t.name
	if variables := in.Variables; len(variables) > 0 {
		vars, ok := decode(variables).(*jsonobj.Object)
		if !ok {
			return nil, fmt.Errorf("asl: the variables must be a JSON object")
		}
		r.Root.Vars = map[string]json.RawMessage{}
		for k, v := range vars.All() {
			r.Root.Vars[k] = encode(v)
		}
	}
	p := &probe{retries: in.RetrierRetryCount, mock: in.Mock}
	if len(in.ContextObject) > 0 {
		c, ok := decode(in.ContextObject).(*jsonobj.Object)
		if !ok {
			return nil, fmt.Errorf("asl: the context must be a JSON object")
		}
		p.context = jsonobj.Plain(c).(map[string]any)
	}
	p.insp.Input = string(r.Input)
	for i := 0; i < 1000 && r.Root.Step != stepDone && r.Root.Step != stepFailed; i++ {
		x := &exec{m: t.m, r: r, now: now.UTC(), probe: p}
		x.advance(r.Root)
		for _, e := range x.effects {
			switch e := e.(type) {
			case TaskEffect:
				if m := p.mock; m != nil {
					if m.Error != "" {
						r.Fail(e.ID, m.Error, m.Cause)
					} else {
						r.Complete(e.ID, m.Result)
					}
					continue
				}
				if task == nil {
					return nil, ErrTaskRunner
				}
				out, name, cause := task(e)
				if name != "" {
					r.Fail(e.ID, name, cause)
				} else {
					r.Complete(e.ID, out)
				}
			case TimerEffect:
				r.Fire(e.ID)
			case MapRunEffect:
				d := &Memory{Now: func() time.Time { return now }}
				if task != nil {
					d.Task = func(_ context.Context, te TaskEffect) ([]byte, string, string) { return task(te) }
				}
				out, name, cause := d.mapRunInMemory(context.Background(), t.m, e)
				if name != "" {
					r.Fail(e.ID, name, cause)
				} else {
					r.Complete(e.ID, out)
				}
			}
		}
	}
	res := &StateTestResult{Inspection: p.insp, NextState: p.next}
	if vars := r.Root.Vars; len(vars) > 0 {
		res.Inspection.Variables = string(encode(decodeVars(vars)))
	}
	switch {
	case r.Root.Step == stepDone && p.catchIndex != nil:
		res.Status, res.Output = TestCaughtError, r.Root.Output
		res.Inspection.ErrorDetails = &InspectionErrorDetails{CatchIndex: p.catchIndex}
		if p.caught != nil {
			res.Error, res.Cause = p.caught.name, p.caught.cause
		}
	case r.Root.Step == stepDone:
		res.Status, res.Output = TestSucceeded, r.Root.Output
	default:
		res.Status = TestFailed
		if p.retryIndex != nil {
			res.Inspection.ErrorDetails = &InspectionErrorDetails{RetryIndex: p.retryIndex}
			if p.backoff != nil {
				res.Status = TestRetriable
				secs := int64(*p.backoff)
				res.Inspection.ErrorDetails.RetryBackoffIntervalSeconds = &secs
			}
		}
		if r.Root.Err != nil {
			if r.Root.Err.Error != nil {
				res.Error = *r.Root.Err.Error
			}
			if r.Root.Err.Cause != nil {
				res.Cause = *r.Root.Err.Cause
			}
		}
	}
	return res, nil
}

func decodeVars(vars map[string]json.RawMessage) map[string]any {
	out := make(map[string]any, len(vars))
	for k, v := range vars {
		out[k] = decode(v)
	}
	return out
}

// mocked is TestState's mock when the state running is the tested one.
func (x *exec) mocked() *Mock {
	if x.probe == nil || len(x.stack) != 1 {
		return nil
	}
	return x.probe.mock
}
