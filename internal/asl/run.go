package asl

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// Text is JSON text kept byte for byte: it is stored as a JSON string, which, unlike
// json.RawMessage, encoding/json does not compact.
type Text []byte

// MarshalJSON writes the text as a JSON string.
func (t Text) MarshalJSON() ([]byte, error) { return json.Marshal(string(t)) }

// UnmarshalJSON reads what MarshalJSON writes.
func (t *Text) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	*t = Text(s)
	return nil
}

// Effect is something a run waits for: a TaskEffect or a TimerEffect.
type Effect interface{ isEffect() }

// TaskEffect asks the driver to run a Task state's resource and report back with Complete or
// Fail under ID.
type TaskEffect struct {
	ID               string `json:"id"`
	State            string `json:"state"`
	Resource         string `json:"resource"`
	Parameters       []byte `json:"parameters"`
	TimeoutSeconds   int    `json:"timeoutSeconds,omitempty"`
	HeartbeatSeconds int    `json:"heartbeatSeconds,omitempty"`
	Credentials      []byte `json:"credentials,omitempty"`
	TaskToken        string `json:"taskToken,omitempty"` // set for .waitForTaskToken
}

// TimerEffect asks the driver to call Fire(ID) at At: a Wait state or a Retry backoff.
type TimerEffect struct {
	ID string    `json:"id"`
	At time.Time `json:"at"`
}

func (TaskEffect) isEffect()  {}
func (TimerEffect) isEffect() {}

// Run is one execution's whole interpreter state. It is plain data: encoding/json
// round-trips it exactly, so a driver may store it after every Step and resume from the
// stored copy.
type Run struct {
	Context  Context         `json:"context"`
	Input    Text            `json:"input"` // as the execution was started with
	Phase    string          `json:"status"`
	Output   json.RawMessage `json:"output,omitempty"`
	Error    *string         `json:"error,omitempty"`
	Cause    *string         `json:"cause,omitempty"`
	LastID   int64           `json:"lastEventId"`
	Seq      int64           `json:"seq"`
	Begun    bool            `json:"started"`  // ExecutionStarted was recorded
	Finished bool            `json:"finished"` // the terminal event was produced
	Root     *Frame          `json:"root"`
	Redriven bool            `json:"redriven,omitempty"` // ExecutionRedriven is still to be recorded
}

// Frame is one thread of states: the top level, a Parallel branch or a Map iteration.
type Frame struct {
	Block int    `json:"block"`
	Index int    `json:"index"`
	State string `json:"state"`
	Step  string `json:"step"`
	Input Text   `json:"input"`
	// Canonical says Input is this interpreter's own encoding of it (the previous state's
	// output), so a state that passes its input on unchanged may pass on these bytes.
	Canonical   bool                       `json:"canonical,omitempty"`
	EnteredID   int64                      `json:"enteredId"`
	EnteredPrev int64                      `json:"enteredPrev,omitempty"` // the previousEventId of the state's entry
	EnteredAt   time.Time                  `json:"enteredAt"`
	Last        int64                      `json:"last"`
	Vars        map[string]json.RawMessage `json:"vars,omitempty"`
	Retries     []int                      `json:"retries,omitempty"`
	RetryCount  int                        `json:"retryCount,omitempty"`
	Wait        string                     `json:"wait,omitempty"`
	Token       string                     `json:"token,omitempty"`
	Reply       *Reply                     `json:"reply,omitempty"`
	Effective   json.RawMessage            `json:"effective,omitempty"`
	Children    []*Frame                   `json:"children,omitempty"`
	Fan         *Fan                       `json:"fan,omitempty"`
	Output      json.RawMessage            `json:"output,omitempty"`
	Err         *Failure                   `json:"err,omitempty"`
	Reported    bool                       `json:"reported,omitempty"` // a child's end was handled by its parent
	Notes       []Note                     `json:"notes,omitempty"`    // progress of the awaited task, not yet recorded
}

// Note is progress a driver reported on a task before its result: an activity worker took
// it (Started) or a service accepted it (Submitted).
type Note struct {
	Worker    string          `json:"worker,omitempty"`
	Submitted json.RawMessage `json:"submitted,omitempty"`
}

// Reply is the outcome of the effect a frame waits for.
type Reply struct {
	Output json.RawMessage `json:"output,omitempty"`
	Failed bool            `json:"failed,omitempty"`
	Error  string          `json:"error,omitempty"`
	Cause  string          `json:"cause,omitempty"`
	Stage  string          `json:"stage,omitempty"` // "start" or "submit" when the task never ran
}

// Failure is an error a frame ended with; nil fields are ones AWS leaves out.
type Failure struct {
	Error *string `json:"error,omitempty"`
	Cause *string `json:"cause,omitempty"`
}

// Fan is the progress of a Map or Parallel state's children.
type Fan struct {
	Total     int               `json:"total"`
	Max       int               `json:"max"`
	Next      int               `json:"next"`
	Running   int               `json:"running"`
	Failed    int               `json:"failed"`
	TolCount  int               `json:"tolCount"` // ToleratedFailureCount, -1 when not set
	TolPct    float64           `json:"tolPct"`   // ToleratedFailurePercentage, -1 when not set
	Results   []json.RawMessage `json:"results"`
	Items     []json.RawMessage `json:"items,omitempty"`
	StartPrev int64             `json:"startPrev"` // the previousEventId of the next child\'s first event
	Err       *Failure          `json:"err,omitempty"`
}

// Frame steps.
const (
	stepEnter   = "enter"
	stepRun     = "run"
	stepTask    = "task"
	stepTimer   = "timer"
	stepBackoff = "backoff"
	stepFan     = "fan"
	stepMapRun  = "maprun"
	stepDone    = "done"
	stepFailed  = "failed"
	stepAborted = "aborted"
)

// Start begins an execution of m with the given input (JSON text; empty means {}).
func (m *Machine) Start(input []byte, ctx Context) (*Run, error) {
	if len(input) == 0 {
		input = []byte("{}")
	}
	if _, err := decodeJSON(input); err != nil {
		return nil, fmt.Errorf("invalid execution input: %w", err)
	}
	ctx.StartTime = ctx.StartTime.UTC()
	// as AWS, the history shows the input as it was given, whitespace and all
	text := Text(bytes.Clone(input))
	return &Run{
		Context: ctx,
		Input:   text,
		Phase:   StatusRunning,
		Root:    &Frame{Block: 0, State: m.blocks[0].startAt, Step: stepEnter, Input: text},
	}, nil
}

// Status reports the execution's status and, once it ended, its output or error and cause.
func (r *Run) Status() (status string, output []byte, errorName, cause string) {
	if r.Error != nil {
		errorName = *r.Error
	}
	if r.Cause != nil {
		cause = *r.Cause
	}
	return r.Phase, r.Output, errorName, cause
}

// Complete reports the result of the task effect id.
func (r *Run) Complete(id string, output []byte) {
	if f := r.waiting(id); f != nil {
		f.Reply = &Reply{Output: append(json.RawMessage(nil), output...)}
	}
}

// Fail reports that the task effect id failed with errorName and cause
// (States.Timeout, States.HeartbeatTimeout, Lambda.ServiceException, ...).
func (r *Run) Fail(id string, errorName, cause string) {
	if f := r.waiting(id); f != nil {
		f.Reply = &Reply{Failed: true, Error: errorName, Cause: cause}
	}
}

// FailToStart reports that the task effect id could not be started (TaskStartFailed,
// LambdaFunctionStartFailed), for example because the role may not call the resource.
func (r *Run) FailToStart(id string, errorName, cause string) {
	if f := r.waiting(id); f != nil {
		f.Reply = &Reply{Failed: true, Error: errorName, Cause: cause, Stage: "start"}
	}
}

// FailToSubmit reports that the service a .sync or .waitForTaskToken task calls refused the
// request (TaskSubmitFailed).
func (r *Run) FailToSubmit(id string, errorName, cause string) {
	if f := r.waiting(id); f != nil {
		f.Reply = &Reply{Failed: true, Error: errorName, Cause: cause, Stage: "submit"}
	}
}

// Started reports that an activity worker took the task effect id (GetActivityTask); the
// next Step records ActivityStarted.
func (r *Run) Started(id, workerName string) {
	if f := r.waiting(id); f != nil {
		f.Notes = append(f.Notes, Note{Worker: workerName})
	}
}

// Submitted reports that the service a .sync or .waitForTaskToken task calls accepted the
// request with output; the next Step records TaskSubmitted.
func (r *Run) Submitted(id string, output []byte) {
	if f := r.waiting(id); f != nil {
		if len(output) == 0 {
			output = []byte("{}")
		}
		f.Notes = append(f.Notes, Note{Submitted: append(json.RawMessage(nil), output...)})
	}
}

// Fire reports that the timer effect id is due.
func (r *Run) Fire(id string) {
	if f := r.waiting(id); f != nil {
		f.Reply = &Reply{}
	}
}

// Stop aborts the execution (StopExecution). The next Step produces ExecutionAborted.
func (r *Run) Stop(errorName, cause string) {
	if r.Phase != StatusRunning {
		return
	}
	r.Phase = StatusAborted
	r.Error, r.Cause = optString(errorName), optString(cause)
}

// Redrive restarts a failed, aborted or timed-out execution where it stopped
// (RedriveExecution): the states that failed or were aborted run again with the same input,
// and in Map and Parallel states only the iterations and branches that failed or were
// aborted. The next Step records ExecutionRedriven.
func (r *Run) Redrive() error {
	switch r.Phase {
	case StatusFailed, StatusAborted, StatusTimedOut:
	default:
		return fmt.Errorf("asl: a %s execution cannot be redriven", r.Phase)
	}
	if !r.Finished {
		return fmt.Errorf("asl: the execution has not recorded its end yet")
	}
	r.Phase, r.Output, r.Error, r.Cause = StatusRunning, nil, nil, nil
	r.Finished, r.Redriven = false, true
	r.Context.RedriveCount++
	redriveFrame(r.Root)
	return nil
}

// redriveFrame sets a failed or aborted frame to run its state again.
func redriveFrame(f *Frame) {
	if f.Step != stepFailed && f.Step != stepAborted {
		return
	}
	f.Err, f.Reply, f.Wait, f.Notes = nil, nil, "", nil
	if f.Fan == nil || len(f.Children) == 0 {
		// a state without children to resume (a Distributed Map's map run among them)
		// runs again
		f.Fan, f.Children, f.Step = nil, nil, stepEnter
		return
	}
	f.Fan.Running, f.Fan.Failed = 0, 0
	for _, c := range f.Children {
		if c.Step == stepFailed || c.Step == stepAborted {
			redriveFrame(c)
			c.Reported = false
		}
		if !c.Reported && c.Step != "" {
			f.Fan.Running++
		}
	}
	f.Step = stepFan
}

// TimeOut ends the execution as TIMED_OUT (the state machine's TimeoutSeconds passed). The
// next Step produces ExecutionTimedOut.
func (r *Run) TimeOut() {
	if r.Phase != StatusRunning {
		return
	}
	r.Phase = StatusTimedOut
	r.Error, r.Cause = optString(errTimeout), nil
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// TakeReply removes and returns the outcome reported for effect id that no Step has recorded
// yet; nil when there is none. Resume gives it back.
func (r *Run) TakeReply(id string) *Reply {
	f := r.frameFor(id, true)
	if f == nil {
		return nil
	}
	rep := f.Reply
	f.Reply = nil
	return rep
}

// Resume reports rep, an outcome taken with TakeReply, for effect id.
func (r *Run) Resume(id string, rep *Reply) {
	if f := r.waiting(id); f != nil {
		f.Reply = rep
	}
}

func (r *Run) waiting(id string) *Frame { return r.frameFor(id, false) }

// frameFor finds the frame waiting for effect id: one that has no outcome for it yet, or with
// replied one that has.
func (r *Run) frameFor(id string, replied bool) *Frame {
	var find func(f *Frame) *Frame
	find = func(f *Frame) *Frame {
		if f.Wait == id && (f.Reply != nil) == replied && id != "" {
			return f
		}
		for _, c := range f.Children {
			if g := find(c); g != nil {
				return g
			}
		}
		return nil
	}
	if r.Root == nil {
		return nil
	}
	return find(r.Root)
}

// exec is the working context of one Step.
type exec struct {
	m       *Machine
	r       *Run
	now     time.Time
	events  []Event
	effects []Effect

	// the frame being advanced and its enclosing frames (innermost last), for variables and
	// the context object
	stack []*Frame
	// the current Map item, for $$.Map.Item while evaluating an ItemSelector
	item     *mapItem
	ctxCache any
	// probe, set by TestState, runs one state and records what it did
	probe *probe
}

type mapItem struct {
	index int
	value any
}

// Step advances every branch of the run as far as it can go without the outside world and
// returns the history events produced and the new effects the run now waits for.
func (r *Run) Step(m *Machine, now time.Time) (events []Event, effects []Effect) {
	x := &exec{m: m, r: r, now: now.UTC()}
	if !r.Begun {
		r.Begun = true
		x.emit(r.Root, Event{Type: "ExecutionStarted", ExecutionStartedEventDetails: &ExecutionStartedEventDetails{
			Input: string(r.Input), InputDetails: &DataDetails{}, RoleArn: r.Context.RoleArn,
			StateMachineAliasArn: r.Context.AliasArn, StateMachineVersionArn: r.Context.VersionArn,
		}})
		// as in AWS histories, the first state's entry does not point back to ExecutionStarted
		r.Root.Last = 0
	}
	if r.Finished {
		return nil, nil
	}
	if r.Redriven {
		r.Redriven = false
		x.emit(r.Root, Event{Type: "ExecutionRedriven", ExecutionRedrivenEventDetails: &ExecutionRedrivenEventDetails{RedriveCount: r.Context.RedriveCount}})
	}
	switch r.Phase {
	case StatusAborted:
		stopAll(r.Root)
		r.Finished = true
		x.emit(r.Root, Event{Type: "ExecutionAborted", ExecutionAbortedEventDetails: &ErrorDetails{Error: r.Error, Cause: r.Cause}})
		return x.events, nil
	case StatusTimedOut:
		stopAll(r.Root)
		r.Finished = true
		x.emit(r.Root, Event{Type: "ExecutionTimedOut", ExecutionTimedOutEventDetails: &ErrorDetails{Error: r.Error, Cause: r.Cause}})
		return x.events, nil
	}
	x.advance(r.Root)
	switch r.Root.Step {
	case stepDone:
		r.Finished = true
		r.Phase = StatusSucceeded
		r.Output = r.Root.Output
		x.emit(r.Root, Event{Type: "ExecutionSucceeded", ExecutionSucceededEventDetails: &OutputDetails{Output: string(r.Output), OutputDetails: &DataDetails{}}})
	case stepFailed:
		r.Finished = true
		r.Phase = StatusFailed
		r.Error, r.Cause = r.Root.Err.Error, r.Root.Err.Cause
		x.emit(r.Root, Event{Type: "ExecutionFailed", ExecutionFailedEventDetails: &ErrorDetails{Error: r.Error, Cause: r.Cause}})
	}
	return x.events, x.effects
}

// emit appends an event produced by frame f.
func (x *exec) emit(f *Frame, e Event) int64 {
	x.r.LastID++
	e.ID = x.r.LastID
	e.PreviousEventID = f.Last
	e.Timestamp = x.now
	f.Last = e.ID
	x.events = append(x.events, e)
	return e.ID
}

func (x *exec) nextID() string {
	x.r.Seq++
	return strconv.FormatInt(x.r.Seq, 10)
}

func (x *exec) frame() *Frame { return x.stack[len(x.stack)-1] }

func (x *exec) state(f *Frame) *state { return x.m.blocks[f.Block].states[f.State] }

// advance runs frame f until it blocks or ends.
func (x *exec) advance(f *Frame) {
	x.stack = append(x.stack, f)
	x.ctxCache = nil
	defer func() {
		x.stack = x.stack[:len(x.stack)-1]
		x.ctxCache = nil
	}()
	for {
		s := x.state(f)
		if s == nil {
			// only a definition that does not match this run gets here
			x.endFailed(f, newError(errRuntime, fmt.Sprintf("The state '%s' does not exist in the state machine definition", f.State)))
			return
		}
		switch f.Step {
		case stepEnter:
			x.enter(f, s)
		case stepRun:
			x.run(f, s)
		case stepTask:
			x.recordNotes(f, s)
			if f.Reply == nil {
				return
			}
			x.taskReply(f, s)
		case stepTimer:
			if f.Reply == nil {
				return
			}
			f.Reply, f.Wait = nil, ""
			x.waitDone(f, s)
		case stepBackoff:
			if f.Reply == nil {
				return
			}
			f.Reply, f.Wait = nil, ""
			f.Step = stepRun
		case stepFan:
			if !x.fan(f, s) {
				return
			}
		case stepMapRun:
			if f.Reply == nil {
				return
			}
			x.mapRunDone(f, s)
		default:
			return
		}
	}
}

// enter records <Kind>StateEntered and starts the state.
func (x *exec) enter(f *Frame, s *state) {
	f.EnteredAt = x.now
	f.Retries, f.RetryCount = nil, 0
	x.ctxCache = nil
	typ := s.typ + "StateEntered"
	if s.typ == "Fail" {
		typ = "FailStateEntered"
	}
	f.EnteredPrev = f.Last
	f.EnteredID = x.emit(f, Event{Type: typ, StateEnteredEventDetails: &StateEnteredEventDetails{
		Name: s.name, Input: string(f.Input), InputDetails: &DataDetails{},
	}})
	f.Step = stepRun
}

// run executes the current state of f once it was entered (again after a retry's backoff).
func (x *exec) run(f *Frame, s *state) {
	var err error
	switch s.typ {
	case "Pass":
		err = x.runPass(f, s)
	case "Succeed":
		err = x.runSucceed(f, s)
	case "Fail":
		err = x.runFail(f, s)
	case "Choice":
		err = x.runChoice(f, s)
	case "Wait":
		err = x.runWait(f, s)
	case "Task":
		err = x.runTask(f, s)
	case "Parallel", "Map":
		err = x.runFanOut(f, s)
	}
	if err != nil {
		x.raise(f, s, err)
	}
}

// runtime builds a States.Runtime error about the current state.
func (x *exec) runtime(msg string) error {
	return &stateError{name: errRuntime, cause: x.statePrefix() + msg}
}

func (x *exec) statePrefix() string {
	f := x.frame()
	return fmt.Sprintf("An error occurred while executing the state '%s' (entered at the event id #%d). ", f.State, f.EnteredID)
}

// exit records <Kind>StateExited and moves f on to the next state (or ends it).
func (x *exec) exit(f *Frame, s *state, output any, assigned map[string]any, next string, end bool) error {
	return x.exitText(f, s, encode(output), assigned, next, end)
}

// exitText is exit with the output already encoded.
func (x *exec) exitText(f *Frame, s *state, out []byte, assigned map[string]any, next string, end bool) error {
	if len(out) > maxPayload {
		return &stateError{name: errDataLimit, cause: fmt.Sprintf("The state/task '%s' returned a result with a size exceeding the maximum number of bytes service limit.", s.name)}
	}
	if assigned != nil {
		if f.Vars == nil {
			f.Vars = map[string]json.RawMessage{}
		}
		for k, v := range assigned {
			f.Vars[k] = encode(v)
		}
	}
	x.emitExit(f, s, out, assigned)
	x.transition(f, out, next, end)
	return nil
}

func (x *exec) emitExit(f *Frame, s *state, out []byte, assigned map[string]any) {
	d := &StateExitedEventDetails{Name: s.name, Output: string(out), OutputDetails: &DataDetails{}}
	if len(assigned) > 0 {
		d.AssignedVariables = map[string]string{}
		for k, v := range assigned {
			d.AssignedVariables[k] = encodeString(v)
		}
		d.AssignedVariablesDetails = &DataDetails{}
	}
	x.emit(f, Event{Type: s.typ + "StateExited", StateExitedEventDetails: d})
}

func (x *exec) transition(f *Frame, out []byte, next string, end bool) {
	f.Effective, f.Token = nil, ""
	if x.probe != nil && f == x.r.Root {
		x.probe.next = next
		end = true
	}
	if end {
		f.Step, f.Output = stepDone, out
		return
	}
	f.State, f.Input, f.Step, f.Canonical = next, out, stepEnter, true
}

// endFailed ends f with an error no Retry or Catch handled.
func (x *exec) endFailed(f *Frame, e *stateError) {
	fl := &Failure{}
	if !e.noName {
		fl.Error = &e.name
	}
	if !e.noCause {
		fl.Cause = &e.cause
	}
	f.Step, f.Err = stepFailed, fl
}

// raise handles an error the current state raised: an EvaluationFailed event for query
// evaluation errors, then the state's Retry and Catch, or the frame fails.
func (x *exec) raise(f *Frame, s *state, err error) {
	e, ok := err.(*stateError)
	if !ok {
		e = &stateError{name: errRuntime, cause: x.statePrefix() + err.Error()}
	}
	if e.evaluation {
		// as AWS records it, EvaluationFailed points where the state's entry points (in a
		// Wait state, to the entry itself)
		if s.typ != "Wait" {
			f.Last = f.EnteredPrev
		}
		x.emit(f, Event{Type: "EvaluationFailed", EvaluationFailedEventDetails: &EvaluationFailedEventDetails{
			Error: e.name, Cause: e.cause, Location: e.location, State: s.name,
		}})
		e.evaluation = false
	}
	children, fan := f.Children, f.Fan
	f.Children, f.Fan = nil, nil
	if x.retry(f, s, e) {
		return
	}
	if x.probe != nil && x.probe.retryIndex != nil && f == x.r.Root {
		x.endFailed(f, e)
		return
	}
	// a Map or Parallel state that is not retried records its failure, unless it failed
	// with States.Runtime before it started its children
	if (s.typ == "Map" || s.typ == "Parallel") && (fan != nil || e.name != errRuntime) {
		x.emit(f, Event{Type: s.typ + "StateFailed"})
	}
	if x.catch(f, s, e) {
		return
	}
	// the children stay for a redrive, which reruns only the failed and aborted ones
	f.Children, f.Fan = children, fan
	x.endFailed(f, e)
}

// stopAll stops every running frame of an execution that was stopped or timed out: as AWS,
// the history records only the execution's end.
func stopAll(f *Frame) {
	for _, c := range f.Children {
		stopAll(c)
	}
	switch f.Step {
	case stepDone, stepFailed, stepAborted, "":
		return
	}
	f.Step = stepAborted
}

// abort stops a running frame whose sibling failed, recording the aborted states.
func (x *exec) abort(f *Frame) {
	switch f.Step {
	case stepDone, stepFailed, stepAborted, stepEnter, "":
		return
	}
	s := x.state(f)
	if s != nil && f.Step == stepFan {
		x.abortChildren(f, s)
	}
	if s != nil && s.typ != "Choice" && s.typ != "Pass" {
		x.emit(f, Event{Type: s.typ + "StateAborted"})
	}
	f.Step = stepAborted
}
