package asl

import (
	"strings"
)

// taskKind is how history records a Task state's resource: an activity, a Lambda function
// named by its ARN, or any other (service integration) task.
type taskKind int

const (
	kindTask taskKind = iota
	kindActivity
	kindLambda
)

func kindOf(resource string) taskKind {
	parts := strings.SplitN(resource, ":", 7)
	if len(parts) < 6 {
		return kindTask
	}
	switch {
	case parts[2] == "states" && strings.HasPrefix(parts[5], "activity"):
		return kindActivity
	case parts[2] == "lambda" && strings.HasPrefix(parts[5], "function"):
		return kindLambda
	}
	return kindTask
}

// recordScheduled records that a task was scheduled, as its kind's events.
func (x *exec) recordScheduled(f *Frame, s *state, d *TaskScheduledEventDetails, timeout, heartbeat *int64) {
	switch kindOf(s.resource) {
	case kindActivity:
		x.emit(f, Event{Type: "ActivityScheduled", ActivityScheduledEventDetails: &ActivityScheduledEventDetails{
			Resource: s.resource, Input: d.Parameters, InputDetails: &DataDetails{}, TimeoutInSeconds: timeout, HeartbeatInSeconds: heartbeat,
		}})
	case kindLambda:
		x.emit(f, Event{Type: "LambdaFunctionScheduled", LambdaFunctionScheduledEventDetails: &LambdaFunctionScheduledEventDetails{
			Resource: s.resource, Input: d.Parameters, InputDetails: &DataDetails{}, TimeoutInSeconds: timeout, TaskCredentials: d.TaskCredentials,
		}})
		x.emit(f, Event{Type: "LambdaFunctionStarted"})
	default:
		x.emit(f, Event{Type: "TaskScheduled", TaskScheduledEventDetails: d})
		x.emit(f, Event{Type: "TaskStarted", TaskStartedEventDetails: &TaskResourceDetails{ResourceType: d.ResourceType, Resource: d.Resource}})
	}
}

// recordNotes records the progress a driver reported on the awaited task.
func (x *exec) recordNotes(f *Frame, s *state) {
	for _, n := range f.Notes {
		switch {
		case n.Submitted != nil:
			typ, name := resourceParts(s.resource)
			x.emit(f, Event{Type: "TaskSubmitted", TaskSubmittedEventDetails: &TaskSucceededEventDetails{
				ResourceType: typ, Resource: name, Output: string(n.Submitted), OutputDetails: &DataDetails{},
			}})
		case kindOf(s.resource) == kindActivity:
			x.emit(f, Event{Type: "ActivityStarted", ActivityStartedEventDetails: &ActivityStartedEventDetails{WorkerName: n.Worker}})
		}
	}
	f.Notes = nil
}

// recordNotRun records a task that could not be started or submitted.
func (x *exec) recordNotRun(f *Frame, s *state, rep *Reply, errs *ErrorDetails) {
	if kindOf(s.resource) == kindLambda && rep.Stage == "start" {
		x.emit(f, Event{Type: "LambdaFunctionStartFailed", LambdaFunctionStartFailedEventDetails: errs})
		return
	}
	typ, name := resourceParts(s.resource)
	d := &TaskErrorDetails{ResourceType: typ, Resource: name, Error: errs.Error, Cause: errs.Cause}
	if rep.Stage == "submit" {
		x.emit(f, Event{Type: "TaskSubmitFailed", TaskSubmitFailedEventDetails: d})
		return
	}
	x.emit(f, Event{Type: "TaskStartFailed", TaskStartFailedEventDetails: d})
}

// recordOutcome records a task's result or failure, as its kind's events.
func (x *exec) recordOutcome(f *Frame, s *state, rep *Reply, out []byte) {
	timedOut := rep.Failed && (rep.Error == errTimeout || rep.Error == errHeartbeatTimeout)
	errs := &ErrorDetails{Error: optString(rep.Error), Cause: optString(rep.Cause)}
	if rep.Stage != "" {
		x.recordNotRun(f, s, rep, errs)
		return
	}
	switch kindOf(s.resource) {
	case kindActivity:
		switch {
		case timedOut:
			x.emit(f, Event{Type: "ActivityTimedOut", ActivityTimedOutEventDetails: errs})
		case rep.Failed:
			x.emit(f, Event{Type: "ActivityFailed", ActivityFailedEventDetails: errs})
		default:
			x.emit(f, Event{Type: "ActivitySucceeded", ActivitySucceededEventDetails: &OutputDetails{Output: string(out), OutputDetails: &DataDetails{}}})
		}
		return
	case kindLambda:
		switch {
		case timedOut:
			x.emit(f, Event{Type: "LambdaFunctionTimedOut", LambdaFunctionTimedOutEventDetails: errs})
		case rep.Failed:
			x.emit(f, Event{Type: "LambdaFunctionFailed", LambdaFunctionFailedEventDetails: errs})
		default:
			x.emit(f, Event{Type: "LambdaFunctionSucceeded", LambdaFunctionSucceededEventDetails: &OutputDetails{Output: string(out), OutputDetails: &DataDetails{}}})
		}
		return
	}
	typ, name := resourceParts(s.resource)
	d := &TaskErrorDetails{ResourceType: typ, Resource: name, Error: errs.Error, Cause: errs.Cause}
	switch {
	case timedOut:
		x.emit(f, Event{Type: "TaskTimedOut", TaskTimedOutEventDetails: d})
	case rep.Failed:
		x.emit(f, Event{Type: "TaskFailed", TaskFailedEventDetails: d})
	default:
		x.emit(f, Event{Type: "TaskSucceeded", TaskSucceededEventDetails: &TaskSucceededEventDetails{
			ResourceType: typ, Resource: name, Output: string(out), OutputDetails: &DataDetails{},
		}})
	}
}
