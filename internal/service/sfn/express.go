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
	var history []historyEvent
	var tasks []asl.TaskEffect
	var timers []asl.TimerEffect
	for {
		events, effects := run.Step(m, s.now())
		// the history is only kept for CloudWatch Logs: converting it costs more than the
		// steps of a short execution
		for _, e := range events {
			if ex.Logging != nil {
				history = append(history, fromASL(e))
			}
		}
		if run.Finished {
			break
		}
		for _, e := range effects {
			switch e := e.(type) {
			case asl.TaskEffect:
				tasks = append(tasks, e)
			case asl.TimerEffect:
				timers = append(timers, e)
			}
		}
		switch {
		case ctx.Err() != nil:
			run.Stop("", "")
		case !s.now().Before(deadline):
			run.TimeOut()
		case len(tasks) > 0:
			t := tasks[0]
			tasks = tasks[1:]
			tctx, cancel := context.WithDeadline(ctx, deadline)
			res := s.runTask(tctx, ex, t)
			cancel()
			res.apply(t.ID)(run)
		case len(timers) > 0:
			next := 0
			for i, t := range timers {
				if t.At.Before(timers[next].At) {
					next = i
				}
			}
			t := timers[next]
			at := t.At
			if at.After(deadline) {
				at = deadline
			}
			if !sleepUntil(ctx, s.now, at) || at.Before(t.At) {
				continue // stopped or timed out: the next round ends the run
			}
			timers = append(timers[:next], timers[next+1:]...)
			run.Fire(t.ID)
		default:
			run.Stop("States.Runtime", "The execution waits for nothing but has not ended")
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
