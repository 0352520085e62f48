package sfn

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	mrand "math/rand/v2"
	"strings"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/store"
	"github.com/kiri-run/kiri/internal/uuid"
)

// Execution statuses.
const (
	statusRunning   = "RUNNING"
	statusSucceeded = "SUCCEEDED"
	statusFailed    = "FAILED"
	statusTimedOut  = "TIMED_OUT"
	statusAborted   = "ABORTED"
)

// maxPayload is the largest input or output Step Functions takes, 256 KiB.
const maxPayload = 256 * 1024

// execution is a stored execution: what DescribeExecution shows, and what its driver needs
// (the definition and role it runs with, its parent when a task of another started it).
type execution struct {
	ARN          string                `json:"arn"`
	Name         string                `json:"name"`
	MachineARN   string                `json:"machine"`
	MachineName  string                `json:"machine_name"`
	Type         string                `json:"type"`
	VersionARN   string                `json:"version,omitempty"`
	AliasARN     string                `json:"alias,omitempty"`
	Definition   string                `json:"definition"`
	RoleARN      string                `json:"role"`
	RevisionID   string                `json:"revision,omitempty"`
	Logging      *LoggingConfiguration `json:"logging,omitempty"`
	Status       string                `json:"status"`
	Input        string                `json:"input"`
	Output       *string               `json:"output,omitempty"`
	Error        *string               `json:"error,omitempty"`
	Cause        *string               `json:"cause,omitempty"`
	Started      time.Time             `json:"started"`
	Stopped      *time.Time            `json:"stopped,omitempty"`
	TraceHeader  string                `json:"trace,omitempty"`
	RedriveCount int32                 `json:"redrives,omitempty"`
	RedriveDate  *time.Time            `json:"redrive_date,omitempty"`
	Parent       *parentTask           `json:"parent,omitempty"`
	// MapRun is the Map Run that started this child execution of a Distributed Map.
	MapRun string `json:"map_run,omitempty"`
}

// parentTask is the task of another execution that started this one and waits for it to end
// (states:startExecution.sync and .sync:2).
type parentTask struct {
	Execution string `json:"execution"`
	Effect    string `json:"effect"`
	// JSON reports .sync:2, whose output carries the child's output as JSON, not a string.
	JSON bool `json:"json,omitempty"`
}

func (s *Service) handleExecutions() {
	awsproto.Handle(s.api, "StartExecution", s.startExecution)
	awsproto.Handle(s.api, "StartSyncExecution", s.startSyncExecution)
	awsproto.Handle(s.api, "DescribeExecution", s.describeExecution)
	awsproto.Handle(s.api, "DescribeStateMachineForExecution", s.describeStateMachineForExecution)
	awsproto.Handle(s.api, "ListExecutions", s.listExecutions)
	awsproto.Handle(s.api, "GetExecutionHistory", s.getExecutionHistory)
	awsproto.Handle(s.api, "StopExecution", s.stopExecution)
	awsproto.Handle(s.api, "RedriveExecution", s.redriveExecution)
}

// target is what an execution runs: a state machine, one of its versions, or the version an
// alias routes to.
type target struct {
	sc         scope
	machine    *machine
	definition string
	role       string
	revision   string
	versionARN string
	aliasARN   string
	logging    *LoggingConfiguration
}

// resolveTarget reads what a StartExecution's stateMachineArn names, picking an alias's
// version by its weights.
func resolveTarget(q rowQuery, arn string) (*target, error) {
	ref, err := parseMachineARN(arn, true)
	if err != nil {
		return nil, err
	}
	m, err := requireMachine(q, ref.machineARN())
	if err != nil {
		return nil, err
	}
	t := &target{sc: ref.sc, machine: m, definition: m.Definition, role: m.RoleARN, revision: m.RevisionID, logging: m.Logging}
	n := ref.version
	if ref.alias != "" {
		a, err := loadAlias(q, m.ARN, ref.alias)
		if err != nil {
			return nil, err
		}
		if a == nil {
			return nil, resourceNotFound(arn)
		}
		t.aliasARN = arn
		pick := mrand.Int32N(100)
		for _, r := range a.Routing {
			if pick < r.Weight {
				vr, _ := parseMachineARN(r.Version, true)
				n = vr.version
				break
			}
			pick -= r.Weight
		}
	}
	if n > 0 {
		v, err := loadVersion(q, m.ARN, n)
		if err != nil {
			return nil, err
		}
		if v == nil {
			return nil, resourceNotFound(arn)
		}
		t.versionARN = m.versionARN(n)
		t.definition, t.role, t.revision, t.logging = v.Definition, v.RoleARN, v.RevisionID, v.Logging
	}
	return t, nil
}

// checkInput refuses an execution input that is not JSON or is too large.
func checkInput(input string) error {
	if len(input) > maxPayload {
		return validation("1 validation error detected: Value at 'input' failed to satisfy constraint: Member must have length less than or equal to 262144")
	}
	if !json.Valid([]byte(input)) {
		return apiError("InvalidExecutionInput", "Invalid State Machine Execution Input: 'Unexpected input: %s'", input)
	}
	return nil
}

// newExecution is the execution a start of t makes.
func (s *Service) newExecution(t *target, name, input, trace string) (*execution, error) {
	if name == "" {
		name = uuid.New()
	}
	if !validName(name) {
		return nil, invalidName(name)
	}
	if input == "" {
		input = "{}"
	}
	if err := checkInput(input); err != nil {
		return nil, err
	}
	ex := &execution{Name: name, MachineARN: t.machine.ARN, MachineName: t.machine.Name, Type: t.machine.Type,
		VersionARN: t.versionARN, AliasARN: t.aliasARN, Definition: t.definition, RoleARN: t.role, RevisionID: t.revision,
		Logging: t.logging, Status: statusRunning, Input: input, Started: s.now().UTC(), TraceHeader: trace}
	if ex.Type == typeExpress {
		ex.ARN = t.sc.arn("express", t.machine.Name+":"+name+":"+uuid.New())
	} else {
		ex.ARN = t.sc.arn("execution", t.machine.Name+":"+name)
	}
	return ex, nil
}

func (s *Service) startExecution(ctx context.Context, in *StartExecutionInput) (*StartExecutionOutput, error) {
	ex, err := s.start(ctx, awsproto.Value(in.StateMachineArn), awsproto.Value(in.Name), in.Input, awsproto.Value(in.TraceHeader), nil)
	if err != nil {
		return nil, err
	}
	return &StartExecutionOutput{ExecutionArn: &ex.ARN, StartDate: &ex.Started}, nil
}

// start starts an execution of what machineARN names: a Standard one durably, in the one
// transaction that stores it and runs its first step; an Express one on the queue engine.
func (s *Service) start(ctx context.Context, machineARN, name string, input *string, trace string, parent *parentTask) (*execution, error) {
	t, err := resolveTarget(s.reader(ctx), machineARN)
	if err != nil {
		return nil, wrap("start execution", err)
	}
	if caller := awsproto.CallFrom(ctx); caller != nil && caller.AccountID != "" && caller.AccountID != t.sc.account {
		return nil, machineNotFound(machineARN)
	}
	ex, err := s.newExecution(t, name, awsproto.Value(input), trace)
	if err != nil {
		return nil, err
	}
	ex.Parent = parent
	if ex.Type == typeExpress {
		return ex, wrap("start execution", s.st.Write(ctx, func(tx *store.Tx) error { return s.enqueueExpress(tx, ex) }))
	}
	err = s.st.Write(ctx, func(tx *store.Tx) error {
		old, err := loadExecution(tx.QueryRow, ex.ARN)
		if err != nil {
			return err
		}
		if old != nil {
			// A start of a running execution with the same name and input is idempotent.
			if old.Status == statusRunning && old.Input == ex.Input {
				*ex = *old
				return nil
			}
			return apiError("ExecutionAlreadyExists", "Execution Already Exists: '%s'", ex.ARN)
		}
		return s.begin(tx, ex)
	})
	if err != nil {
		return nil, wrap("start execution", err)
	}
	return ex, nil
}

// loadExecution reads a stored execution; nil when there is none.
func loadExecution(q rowQuery, arn string) (*execution, error) {
	var ex execution
	found, err := loadDoc(q, &ex, `SELECT doc FROM sfn_executions WHERE arn = ?`, arn)
	if !found || err != nil {
		return nil, err
	}
	return &ex, nil
}

// parseExecutionARN reads an execution ARN; Express executions keep no record to read.
func parseExecutionARN(arn string) (resource, error) {
	r, ok := parseARN(arn)
	if !ok {
		return r, invalidARN("Invalid ARN prefix: " + arn)
	}
	if r.kind != "execution" || len(r.rest) != 1 {
		return r, invalidARN("Resource type not valid in this context: " + r.kind)
	}
	return r, nil
}

// requireExecution reads the execution arn names, or answers ExecutionDoesNotExist.
func requireExecution(q rowQuery, arn string) (*execution, error) {
	if _, err := parseExecutionARN(arn); err != nil {
		return nil, err
	}
	ex, err := loadExecution(q, arn)
	if err == nil && ex == nil {
		err = executionNotFound(arn)
	}
	return ex, err
}

func (s *Service) describeExecution(ctx context.Context, in *DescribeExecutionInput) (*DescribeExecutionOutput, error) {
	ex, err := requireExecution(s.reader(ctx), awsproto.Value(in.ExecutionArn))
	if err != nil {
		return nil, wrap("describe execution", err)
	}
	out := &DescribeExecutionOutput{ExecutionArn: &ex.ARN, StateMachineArn: &ex.MachineARN, Name: &ex.Name, Status: &ex.Status,
		StartDate: &ex.Started, StopDate: ex.Stopped, Input: &ex.Input, InputDetails: included(), Output: ex.Output,
		Error: ex.Error, Cause: ex.Cause, RedriveCount: &ex.RedriveCount, RedriveDate: ex.RedriveDate}
	if ex.Output != nil {
		out.OutputDetails = included()
	}
	if ex.TraceHeader != "" {
		out.TraceHeader = &ex.TraceHeader
	}
	if awsproto.Value(in.IncludedData) == "METADATA_ONLY" {
		out.Input, out.Output = nil, nil
		out.InputDetails = &CloudWatchEventsExecutionDataDetails{Included: awsproto.Ptr(false)}
		if ex.Output != nil {
			out.OutputDetails = out.InputDetails
		}
	}
	if ex.VersionARN != "" {
		out.StateMachineVersionArn = &ex.VersionARN
	}
	if ex.AliasARN != "" {
		out.StateMachineAliasArn = &ex.AliasARN
	}
	if ex.MapRun != "" {
		out.MapRunArn = &ex.MapRun
	}
	status, reason := redriveStatus(ex)
	out.RedriveStatus = &status
	if reason != "" {
		out.RedriveStatusReason = &reason
	}
	return out, nil
}

func included() *CloudWatchEventsExecutionDataDetails {
	return &CloudWatchEventsExecutionDataDetails{Included: awsproto.Ptr(true)}
}

// redriveStatus is whether RedriveExecution may redrive ex, and why not.
func redriveStatus(ex *execution) (status, reason string) {
	switch {
	case ex.Status == statusRunning:
		return "NOT_REDRIVABLE", "Execution is RUNNING and cannot be redriven"
	case ex.Status == statusSucceeded:
		return "NOT_REDRIVABLE", "Execution is SUCCEEDED and cannot be redriven"
	case ex.Parent != nil:
		return "NOT_REDRIVABLE", "Execution was started by a parent execution and cannot be redriven"
	case ex.Stopped != nil && time.Since(*ex.Stopped) > 14*24*time.Hour:
		return "NOT_REDRIVABLE", "Execution can no longer be redriven: more than 14 days have passed since it closed"
	}
	return "REDRIVABLE", ""
}

func (s *Service) describeStateMachineForExecution(ctx context.Context, in *DescribeStateMachineForExecutionInput) (*DescribeStateMachineForExecutionOutput, error) {
	ex, err := requireExecution(s.reader(ctx), awsproto.Value(in.ExecutionArn))
	if err != nil {
		return nil, wrap("describe state machine for execution", err)
	}
	arn := ex.MachineARN
	if ex.VersionARN != "" {
		arn = ex.VersionARN
	}
	out := &DescribeStateMachineForExecutionOutput{StateMachineArn: &arn, Name: &ex.MachineName, Definition: &ex.Definition,
		RoleArn: &ex.RoleARN, UpdateDate: &ex.Started, LoggingConfiguration: ex.Logging,
		TracingConfiguration: defaultTracing(nil)}
	if ex.RevisionID != "" {
		out.RevisionId = &ex.RevisionID
	}
	return out, nil
}

func (s *Service) listExecutions(ctx context.Context, in *ListExecutionsInput) (*ListExecutionsOutput, error) {
	if in.MapRunArn != nil {
		return s.listMapRunExecutions(ctx, in)
	}
	arn := awsproto.Value(in.StateMachineArn)
	if arn == "" {
		return nil, validation("Must provide a StateMachine ARN or MapRun ARN")
	}
	ref, err := parseMachineARN(arn, true)
	if err != nil {
		return nil, err
	}
	m, err := requireMachine(s.reader(ctx), ref.machineARN())
	if err != nil {
		return nil, wrap("list executions", err)
	}
	if m.Type == typeExpress {
		return nil, apiError("StateMachineTypeNotSupported", "This operation is not supported by this type of state machine")
	}
	all, err := queryDocs[execution](ctx, s.st, `SELECT doc FROM sfn_executions WHERE machine = ? ORDER BY started DESC, arn`, m.ARN)
	if err != nil {
		return nil, wrap("list executions", err)
	}
	var match []execution
	for _, ex := range all {
		switch {
		case in.StatusFilter != nil && ex.Status != *in.StatusFilter,
			ref.version > 0 && ex.VersionARN != arn,
			ref.alias != "" && ex.AliasARN != arn:
			continue
		}
		if f := awsproto.Value(in.RedriveFilter); f != "" {
			if (f == "REDRIVEN") != (ex.RedriveCount > 0) {
				continue
			}
		}
		match = append(match, ex)
	}
	items, next, err := page(match, "executions", in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	out := &ListExecutionsOutput{NextToken: next, Executions: []ExecutionListItem{}}
	for _, ex := range items {
		item := ExecutionListItem{ExecutionArn: awsproto.Ptr(ex.ARN), StateMachineArn: awsproto.Ptr(ex.MachineARN), Name: awsproto.Ptr(ex.Name),
			Status: awsproto.Ptr(ex.Status), StartDate: awsproto.Ptr(ex.Started), StopDate: ex.Stopped, RedriveDate: ex.RedriveDate}
		if ex.RedriveCount > 0 {
			item.RedriveCount = awsproto.Ptr(ex.RedriveCount)
		}
		if ex.VersionARN != "" {
			item.StateMachineVersionArn = awsproto.Ptr(ex.VersionARN)
		}
		if ex.AliasARN != "" {
			item.StateMachineAliasArn = awsproto.Ptr(ex.AliasARN)
		}
		out.Executions = append(out.Executions, item)
	}
	return out, nil
}

func (s *Service) getExecutionHistory(ctx context.Context, in *GetExecutionHistoryInput) (*GetExecutionHistoryOutput, error) {
	arn := awsproto.Value(in.ExecutionArn)
	if _, err := requireExecution(s.reader(ctx), arn); err != nil {
		return nil, wrap("get execution history", err)
	}
	order := "ASC"
	if awsproto.Value(in.ReverseOrder) {
		order = "DESC"
	}
	all, err := queryDocs[historyEvent](ctx, s.st, `SELECT body FROM sfn_events WHERE execution = ? ORDER BY id `+order, arn)
	if err != nil {
		return nil, wrap("get execution history", err)
	}
	items, next, err := page(all, "history", in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	withData := in.IncludeExecutionData == nil || *in.IncludeExecutionData
	out := &GetExecutionHistoryOutput{NextToken: next, Events: make([]HistoryEvent, 0, len(items))}
	for _, e := range items {
		he, err := e.wire(withData)
		if err != nil {
			return nil, wrap("get execution history", err)
		}
		out.Events = append(out.Events, he)
	}
	return out, nil
}

func (s *Service) stopExecution(ctx context.Context, in *StopExecutionInput) (*StopExecutionOutput, error) {
	arn := awsproto.Value(in.ExecutionArn)
	if _, err := parseExecutionARN(arn); err != nil {
		return nil, err
	}
	var stopped time.Time
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		l, err := s.loadLive(tx.QueryRow, arn)
		if err != nil {
			return err
		}
		if l == nil {
			return executionNotFound(arn)
		}
		if l.ex.Status == statusRunning {
			l.run.Stop(awsproto.Value(in.Error), awsproto.Value(in.Cause))
			if err := s.advance(tx, l); err != nil {
				return err
			}
		}
		if l.ex.Stopped != nil {
			stopped = *l.ex.Stopped
		}
		return nil
	})
	if err != nil {
		return nil, wrap("stop execution", err)
	}
	return &StopExecutionOutput{StopDate: &stopped}, nil
}

func (s *Service) redriveExecution(ctx context.Context, in *RedriveExecutionInput) (*RedriveExecutionOutput, error) {
	arn := awsproto.Value(in.ExecutionArn)
	if _, err := parseExecutionARN(arn); err != nil {
		return nil, err
	}
	var date time.Time
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		l, err := s.loadLive(tx.QueryRow, arn)
		if err != nil {
			return err
		}
		if l == nil {
			return executionNotFound(arn)
		}
		if status, reason := redriveStatus(l.ex); status != "REDRIVABLE" {
			return apiError("ExecutionNotRedrivable", "%s", reason)
		}
		if err := s.redrive(tx, l); err != nil {
			return err
		}
		ex := l.ex
		date = *ex.RedriveDate
		return nil
	})
	if err != nil {
		return nil, wrap("redrive execution", err)
	}
	return &RedriveExecutionOutput{RedriveDate: &date}, nil
}

// errNoRows reports a query that found nothing.
func errNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

// splitExecutionARN is an execution ARN's machine name and execution name.
func splitExecutionARN(arn string) (machine, name string) {
	r, _ := parseARN(arn)
	if len(r.rest) > 0 {
		return r.name, strings.Join(r.rest, ":")
	}
	return r.name, ""
}
