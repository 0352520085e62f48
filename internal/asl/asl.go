// Package asl is the Amazon States Language as Step Functions evaluates it: it parses and
// validates state machine definitions and interprets executions.
//
// An execution is a Run: plain data that encoding/json round-trips exactly. Run.Step advances
// every branch of the execution as far as it can go without the outside world and returns the
// history events it produced and the effects (tasks to run, timers to fire) it now waits for.
// The package never touches a store, the network or a real clock; Memory is the in-memory
// driver.
//
// The driver's contract:
//   - Step returns each effect once, when it is created; a durable driver commits the new
//     Run, the events and the effects' queue messages together.
//   - A task's outcome is reported with Complete(id, output) or Fail(id, error, cause): a
//     timed-out task with Fail(id, "States.Timeout", "") (AWS records States.Timeout for
//     heartbeat timeouts too); then Step records it. Reports for unknown or settled ids are
//     ignored, so a redelivered message changes nothing.
//   - Started(id, worker) records ActivityStarted when a worker takes an activity task, and
//     Submitted(id, output) records TaskSubmitted for .sync and .waitForTaskToken tasks;
//     FailToStart and FailToSubmit report tasks that never ran (TaskStartFailed,
//     TaskSubmitFailed, LambdaFunctionStartFailed).
//   - Fire(id) reports a due timer (Wait states, Retry backoffs).
//   - Stop, TimeOut and Redrive end or restart the execution; the next Step records
//     ExecutionAborted, ExecutionTimedOut or ExecutionRedriven.
//
// A Distributed Map state (ItemProcessor Mode DISTRIBUTED) asks for a MapRunEffect: the
// driver reads, batches and runs the items as child executions of the item processor and
// reports the map run's output or failure like a task's (MapRunStarted, MapRunSucceeded,
// MapRunFailed).
package asl

import (
	"encoding/json"
	"strings"
	"sync"
	"time"
)

// Query languages of a state machine or a state.
const (
	JSONPath = "JSONPath"
	JSONata  = "JSONata"
)

// Execution statuses as DescribeExecution reports them.
const (
	StatusRunning   = "RUNNING"
	StatusSucceeded = "SUCCEEDED"
	StatusFailed    = "FAILED"
	StatusAborted   = "ABORTED"
	StatusTimedOut  = "TIMED_OUT"
)

// Context describes the execution to the interpreter: it is what the context object ($$)
// shows and what the ExecutionStarted event records.
type Context struct {
	ExecutionArn     string    `json:"executionArn"`
	ExecutionName    string    `json:"executionName"`
	RoleArn          string    `json:"roleArn,omitempty"`
	StartTime        time.Time `json:"startTime"`
	StateMachineArn  string    `json:"stateMachineArn"`
	StateMachineName string    `json:"stateMachineName"`
	// VersionArn and AliasArn are set when the execution was started through a version or alias.
	VersionArn   string `json:"versionArn,omitempty"`
	AliasArn     string `json:"aliasArn,omitempty"`
	RedriveCount int    `json:"redriveCount,omitempty"`
}

// Diagnostic is one finding of ValidateStateMachineDefinition.
type Diagnostic struct {
	Severity string `json:"severity"` // ERROR or WARNING
	Code     string `json:"code"`
	Message  string `json:"message"`
	Location string `json:"location,omitempty"`
}

// ValidationError is an invalid definition; its message is CreateStateMachine's
// InvalidDefinition message.
type ValidationError struct {
	Diagnostics []Diagnostic
}

func (e *ValidationError) Error() string {
	var parts []string
	for _, d := range e.Diagnostics {
		if d.Severity != "ERROR" {
			continue
		}
		s := d.Code + ": " + d.Message
		if d.Location != "" {
			s += " at " + d.Location
		}
		parts = append(parts, s)
	}
	// one error is quoted; several are each quoted, and their list too
	if len(parts) == 1 {
		return "Invalid State Machine Definition: '" + parts[0] + "'"
	}
	return "Invalid State Machine Definition: ''" + strings.Join(parts, "', '") + "''"
}

// Machine is a parsed, valid state machine definition. It is immutable and safe for
// concurrent use by many runs.
type Machine struct {
	definition json.RawMessage
	blocks     []*block // blocks[0] is the top level; branches and item processors follow
	timeout    int
	paths      sync.Map // compiled JSONPaths by text
	jsonata    sync.Map // compiled JSONata expressions by text
}

// State machine types.
const (
	Standard = "STANDARD"
	Express  = "EXPRESS"
)

// Parse parses and validates a definition of a Standard state machine. An invalid one
// yields a *ValidationError.
func Parse(definition []byte) (*Machine, error) { return ParseType(definition, Standard) }

// ParseType parses and validates a definition for a state machine of the given type
// (Standard or Express, which refuses .sync, .waitForTaskToken and activities).
func ParseType(definition []byte, machineType string) (*Machine, error) {
	m, diags := parse(definition, machineType)
	for _, d := range diags {
		if d.Severity == "ERROR" {
			return nil, &ValidationError{Diagnostics: diags}
		}
	}
	return m, nil
}

// Validate returns ValidateStateMachineDefinition's diagnostics for a Standard state
// machine's definition; none means it is valid.
func Validate(definition []byte) []Diagnostic { return ValidateType(definition, Standard) }

// ValidateType returns the diagnostics for a definition of a state machine of the given type.
func ValidateType(definition []byte, machineType string) []Diagnostic {
	_, diags := parse(definition, machineType)
	return diags
}

// TimeoutSeconds is the definition's TimeoutSeconds: how long an execution may run before it
// times out (the driver calls Run.TimeOut); 0 means no limit.
func (m *Machine) TimeoutSeconds() int { return m.timeout }

// Definition returns the definition as it was given.
func (m *Machine) Definition() []byte { return m.definition }
