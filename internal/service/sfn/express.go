package sfn

import (
	"context"
	"encoding/json"
	"time"

	"github.com/kiri-run/kiri/internal/asl"
	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/queue"
	"github.com/kiri-run/kiri/internal/store"
)

// enqueueExpress hands a started asynchronous Express execution to the queue engine, in tx:
// it runs, in memory, at least once, as AWS runs asynchronous Express executions.
func (s *Service) enqueueExpress(tx *store.Tx, ex *execution) error {
	_, err := s.eng.Send(tx, expressQueue, queue.Outgoing{Body: []byte(encode(ex))})
	return err
}

func (s *Service) handleExpress(ctx context.Context, msg queue.Message) error {
	var ex execution
	if err := json.Unmarshal(msg.Body, &ex); err != nil {
		return queue.Permanent(err)
	}
	if err := s.runExpress(ctx, &ex); err != nil {
		return err
	}
	if ex.Parent == nil {
		return nil
	}
	return s.st.Write(ctx, func(tx *store.Tx) error { return s.reportToParent(tx, &ex) })
}

// reportToParent settles the .sync task of the parent execution waiting for ex, which ended.
func (s *Service) reportToParent(tx *store.Tx, ex *execution) error {
	p := ex.Parent
	return s.settleTx(tx, p.Execution, p.Effect, childOutcome(ex, p.JSON).apply(p.Effect))
}

// runExpress runs an Express execution in memory to its end, filling in ex's status and
// result, and sends its history to CloudWatch Logs as its logging configuration says. The
// state machine's TimeoutSeconds (else Express's 5 minutes) times it out.
func (s *Service) runExpress(ctx context.Context, ex *execution) error {
	m, err := s.machines.parsed(ex.Definition)
	if err != nil {
		return queue.Permanent(err)
	}
	run, err := m.Start([]byte(ex.Input), aslContext(ex))
	if err != nil {
		return queue.Permanent(err)
	}
	limit := 5 * time.Minute
	if secs := timeoutSeconds(ex.Definition); secs > 0 && time.Duration(secs)*time.Second < limit {
		limit = time.Duration(secs) * time.Second
	}
	deadline := ex.Started.Add(limit)
	d := &asl.Memory{Now: s.now, Deadline: deadline,
		Sleep: func(ctx context.Context, until time.Time) error {
			if !sleepUntil(ctx, s.now, until) {
				return ctx.Err()
			}
			return nil
		},
		Task: func(ctx context.Context, t asl.TaskEffect) ([]byte, string, string) {
			tctx, cancel := context.WithDeadline(ctx, deadline)
			defer cancel()
			res := s.runTask(tctx, ex, t)
			return res.output, res.errName, res.cause
		}}
	events, err := d.Run(ctx, m, run)
	if err != nil && ctx.Err() == nil {
		// the run waits for nothing yet has not ended
		run.Stop("States.Runtime", "The execution waits for nothing but has not ended")
		more, _ := run.Step(m, s.now())
		events = append(events, more...)
	}
	var history []historyEvent
	if logsHistory(ex.Logging) { // the history goes nowhere else
		for _, e := range events {
			history = append(history, fromASL(e))
		}
	}
	status, output, errName, cause := run.Status()
	now := s.now().UTC()
	ex.Status, ex.Stopped = status, &now
	if status == statusSucceeded {
		ex.Output = awsproto.Ptr(string(output))
	}
	ex.Error, ex.Cause = optional(errName), optional(cause)
	if ex.Logging != nil {
		s.logHistory(ctx, ex.Logging, ex.ARN, logStream(ex.MachineName, ex.Name, ex.Started), history)
	}
	return nil
}

// sleepUntil waits until at on the clock now; false when ctx ended first.
func sleepUntil(ctx context.Context, now func() time.Time, at time.Time) bool {
	d := at.Sub(now())
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func (s *Service) startSyncExecution(ctx context.Context, in *StartSyncExecutionInput) (*StartSyncExecutionOutput, error) {
	t, err := resolveTarget(s.reader(ctx), awsproto.Value(in.StateMachineArn))
	if err != nil {
		return nil, wrap("start sync execution", err)
	}
	if t.machine.Type != typeExpress {
		return nil, apiError("StateMachineTypeNotSupported", "This operation is not supported by this type of state machine")
	}
	ex, err := s.newExecution(t, awsproto.Value(in.Name), awsproto.Value(in.Input), awsproto.Value(in.TraceHeader))
	if err != nil {
		return nil, err
	}
	if err := s.runExpress(ctx, ex); err != nil {
		return nil, wrap("start sync execution", err)
	}
	billed := max(int64(100), (ex.Stopped.Sub(ex.Started).Milliseconds()+99)/100*100)
	out := &StartSyncExecutionOutput{ExecutionArn: &ex.ARN, StateMachineArn: &ex.MachineARN, Name: &ex.Name, Status: &ex.Status,
		StartDate: &ex.Started, StopDate: ex.Stopped, Input: &ex.Input, InputDetails: included(), Output: ex.Output,
		Error: ex.Error, Cause: ex.Cause,
		BillingDetails: &BillingDetails{BilledDurationInMilliseconds: &billed, BilledMemoryUsedInMB: awsproto.Ptr(int64(64))}}
	if ex.Output != nil {
		out.OutputDetails = included()
	}
	if ex.TraceHeader != "" {
		out.TraceHeader = &ex.TraceHeader
	}
	return out, nil
}
