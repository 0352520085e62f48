package asl

import (
	"encoding/json"
	"math"
	"time"
)

// Event is one history event, shaped as the stepfunctions model's HistoryEvent so that
// GetExecutionHistory can return it as it is.
type Event struct {
	Timestamp       time.Time `json:"-"`
	Type            string    `json:"type"`
	ID              int64     `json:"id"`
	PreviousEventID int64     `json:"previousEventId"`

	ExecutionStartedEventDetails   *ExecutionStartedEventDetails  `json:"executionStartedEventDetails,omitempty"`
	ExecutionSucceededEventDetails *OutputDetails                 `json:"executionSucceededEventDetails,omitempty"`
	ExecutionFailedEventDetails    *ErrorDetails                  `json:"executionFailedEventDetails,omitempty"`
	ExecutionAbortedEventDetails   *ErrorDetails                  `json:"executionAbortedEventDetails,omitempty"`
	ExecutionTimedOutEventDetails  *ErrorDetails                  `json:"executionTimedOutEventDetails,omitempty"`
	ExecutionRedrivenEventDetails  *ExecutionRedrivenEventDetails `json:"executionRedrivenEventDetails,omitempty"`

	StateEnteredEventDetails *StateEnteredEventDetails `json:"stateEnteredEventDetails,omitempty"`
	StateExitedEventDetails  *StateExitedEventDetails  `json:"stateExitedEventDetails,omitempty"`

	MapStateStartedEventDetails       *MapStateStartedEventDetails `json:"mapStateStartedEventDetails,omitempty"`
	MapIterationStartedEventDetails   *MapIterationEventDetails    `json:"mapIterationStartedEventDetails,omitempty"`
	MapIterationSucceededEventDetails *MapIterationEventDetails    `json:"mapIterationSucceededEventDetails,omitempty"`
	MapIterationFailedEventDetails    *MapIterationEventDetails    `json:"mapIterationFailedEventDetails,omitempty"`
	MapIterationAbortedEventDetails   *MapIterationEventDetails    `json:"mapIterationAbortedEventDetails,omitempty"`
	MapRunStartedEventDetails         *MapRunStartedEventDetails   `json:"mapRunStartedEventDetails,omitempty"`
	MapRunFailedEventDetails          *ErrorDetails                `json:"mapRunFailedEventDetails,omitempty"`

	EvaluationFailedEventDetails *EvaluationFailedEventDetails `json:"evaluationFailedEventDetails,omitempty"`

	TaskScheduledEventDetails    *TaskScheduledEventDetails `json:"taskScheduledEventDetails,omitempty"`
	TaskStartedEventDetails      *TaskResourceDetails       `json:"taskStartedEventDetails,omitempty"`
	TaskSucceededEventDetails    *TaskSucceededEventDetails `json:"taskSucceededEventDetails,omitempty"`
	TaskFailedEventDetails       *TaskErrorDetails          `json:"taskFailedEventDetails,omitempty"`
	TaskTimedOutEventDetails     *TaskErrorDetails          `json:"taskTimedOutEventDetails,omitempty"`
	TaskSubmitFailedEventDetails *TaskErrorDetails          `json:"taskSubmitFailedEventDetails,omitempty"`
	TaskStartFailedEventDetails  *TaskErrorDetails          `json:"taskStartFailedEventDetails,omitempty"`
	TaskSubmittedEventDetails    *TaskSucceededEventDetails `json:"taskSubmittedEventDetails,omitempty"`

	ActivityScheduledEventDetails *ActivityScheduledEventDetails `json:"activityScheduledEventDetails,omitempty"`
	ActivityStartedEventDetails   *ActivityStartedEventDetails   `json:"activityStartedEventDetails,omitempty"`
	ActivitySucceededEventDetails *OutputDetails                 `json:"activitySucceededEventDetails,omitempty"`
	ActivityFailedEventDetails    *ErrorDetails                  `json:"activityFailedEventDetails,omitempty"`
	ActivityTimedOutEventDetails  *ErrorDetails                  `json:"activityTimedOutEventDetails,omitempty"`

	LambdaFunctionScheduledEventDetails   *LambdaFunctionScheduledEventDetails `json:"lambdaFunctionScheduledEventDetails,omitempty"`
	LambdaFunctionSucceededEventDetails   *OutputDetails                       `json:"lambdaFunctionSucceededEventDetails,omitempty"`
	LambdaFunctionFailedEventDetails      *ErrorDetails                        `json:"lambdaFunctionFailedEventDetails,omitempty"`
	LambdaFunctionTimedOutEventDetails    *ErrorDetails                        `json:"lambdaFunctionTimedOutEventDetails,omitempty"`
	LambdaFunctionStartFailedEventDetails *ErrorDetails                        `json:"lambdaFunctionStartFailedEventDetails,omitempty"`
}

// ActivityScheduledEventDetails is ActivityScheduled's detail.
type ActivityScheduledEventDetails struct {
	Resource           string       `json:"resource"`
	Input              string       `json:"input"`
	InputDetails       *DataDetails `json:"inputDetails,omitempty"`
	TimeoutInSeconds   *int64       `json:"timeoutInSeconds,omitempty"`
	HeartbeatInSeconds *int64       `json:"heartbeatInSeconds,omitempty"`
}

// ActivityStartedEventDetails is ActivityStarted's detail.
type ActivityStartedEventDetails struct {
	WorkerName string `json:"workerName,omitempty"`
}

// LambdaFunctionScheduledEventDetails is LambdaFunctionScheduled's detail.
type LambdaFunctionScheduledEventDetails struct {
	Resource         string           `json:"resource"`
	Input            string           `json:"input"`
	InputDetails     *DataDetails     `json:"inputDetails,omitempty"`
	TimeoutInSeconds *int64           `json:"timeoutInSeconds,omitempty"`
	TaskCredentials  *TaskCredentials `json:"taskCredentials,omitempty"`
}

type eventJSON Event

// MarshalJSON writes the timestamp as epoch seconds, as the JSON protocol does.
func (e Event) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Timestamp float64 `json:"timestamp"`
		eventJSON
	}{epochSeconds(e.Timestamp), eventJSON(e)})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (e *Event) UnmarshalJSON(b []byte) error {
	var v struct {
		Timestamp float64 `json:"timestamp"`
		*eventJSON
	}
	v.eventJSON = (*eventJSON)(e)
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	sec, frac := math.Modf(v.Timestamp)
	e.Timestamp = time.Unix(int64(sec), int64(math.Round(frac*1000))*int64(time.Millisecond)).UTC()
	return nil
}

func epochSeconds(t time.Time) float64 {
	return float64(t.UnixMilli()) / 1000
}

// DataDetails tells whether a payload was truncated.
type DataDetails struct {
	Truncated bool `json:"truncated"`
}

// ExecutionStartedEventDetails is ExecutionStarted's detail.
type ExecutionStartedEventDetails struct {
	Input                  string       `json:"input"`
	InputDetails           *DataDetails `json:"inputDetails,omitempty"`
	RoleArn                string       `json:"roleArn,omitempty"`
	StateMachineAliasArn   string       `json:"stateMachineAliasArn,omitempty"`
	StateMachineVersionArn string       `json:"stateMachineVersionArn,omitempty"`
}

// ExecutionRedrivenEventDetails is ExecutionRedriven's detail.
type ExecutionRedrivenEventDetails struct {
	RedriveCount int `json:"redriveCount"`
}

// OutputDetails is ExecutionSucceeded's detail.
type OutputDetails struct {
	Output        string       `json:"output"`
	OutputDetails *DataDetails `json:"outputDetails,omitempty"`
}

// ErrorDetails is the detail of ExecutionFailed, ExecutionAborted and ExecutionTimedOut; a
// nil field is one AWS leaves out.
type ErrorDetails struct {
	Error *string `json:"error,omitempty"`
	Cause *string `json:"cause,omitempty"`
}

// StateEnteredEventDetails is <Kind>StateEntered's detail.
type StateEnteredEventDetails struct {
	Name         string       `json:"name"`
	Input        string       `json:"input"`
	InputDetails *DataDetails `json:"inputDetails,omitempty"`
}

// StateExitedEventDetails is <Kind>StateExited's detail.
type StateExitedEventDetails struct {
	Name                     string            `json:"name"`
	Output                   string            `json:"output"`
	OutputDetails            *DataDetails      `json:"outputDetails,omitempty"`
	AssignedVariables        map[string]string `json:"assignedVariables,omitempty"`
	AssignedVariablesDetails *DataDetails      `json:"assignedVariablesDetails,omitempty"`
}

// MapStateStartedEventDetails is MapStateStarted's detail.
type MapStateStartedEventDetails struct {
	Length int `json:"length"`
}

// MapRunStartedEventDetails is MapRunStarted's detail.
type MapRunStartedEventDetails struct {
	MapRunArn string `json:"mapRunArn"`
}

// MapIterationEventDetails is the detail of the MapIteration* events.
type MapIterationEventDetails struct {
	Name  string `json:"name"`
	Index int    `json:"index"`
}

// EvaluationFailedEventDetails is EvaluationFailed's detail.
type EvaluationFailedEventDetails struct {
	Error    string `json:"error"`
	Cause    string `json:"cause"`
	Location string `json:"location,omitempty"`
	State    string `json:"state"`
}

// TaskCredentials is the role a task runs as.
type TaskCredentials struct {
	RoleArn string `json:"roleArn"`
}

// TaskScheduledEventDetails is TaskScheduled's detail.
type TaskScheduledEventDetails struct {
	ResourceType       string           `json:"resourceType"`
	Resource           string           `json:"resource"`
	Region             string           `json:"region"`
	Parameters         string           `json:"parameters"`
	TimeoutInSeconds   *int64           `json:"timeoutInSeconds,omitempty"`
	HeartbeatInSeconds *int64           `json:"heartbeatInSeconds,omitempty"`
	TaskCredentials    *TaskCredentials `json:"taskCredentials,omitempty"`
}

// TaskResourceDetails is TaskStarted's detail.
type TaskResourceDetails struct {
	ResourceType string `json:"resourceType"`
	Resource     string `json:"resource"`
}

// TaskSucceededEventDetails is TaskSucceeded's detail.
type TaskSucceededEventDetails struct {
	ResourceType  string       `json:"resourceType"`
	Resource      string       `json:"resource"`
	Output        string       `json:"output"`
	OutputDetails *DataDetails `json:"outputDetails,omitempty"`
}

// TaskErrorDetails is the detail of TaskFailed, TaskTimedOut, TaskSubmitFailed and
// TaskStartFailed.
type TaskErrorDetails struct {
	ResourceType string  `json:"resourceType"`
	Resource     string  `json:"resource"`
	Error        *string `json:"error,omitempty"`
	Cause        *string `json:"cause,omitempty"`
}
