package sfn

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/kiri-run/kiri/internal/asl"
	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/queue"
	"github.com/kiri-run/kiri/internal/store"
	"github.com/kiri-run/kiri/internal/uuid"
)

// The driver's queues on the queue engine.
const (
	// taskQueue holds the tasks Standard executions wait for.
	taskQueue = "sfn.task"
	// timerQueue holds their timers: Wait states, Retry backoffs, task and heartbeat timeouts
	// and execution timeouts, each due when it fires.
	timerQueue = "sfn.timer"
	// logQueue holds history events on their way to CloudWatch Logs.
	logQueue = "sfn.log"
	// expressQueue holds started asynchronous Express executions.
	expressQueue = "sfn.express"
)

// Timer kinds.
const (
	timerFire      = "fire"      // a TimerEffect
	timerTask      = "task"      // a task's TimeoutSeconds
	timerHeartbeat = "heartbeat" // a task's HeartbeatSeconds since its last heartbeat
	timerExecution = "execution" // the state machine's TimeoutSeconds
)

// effectMsg is the body of a task or timer message.
type effectMsg struct {
	Execution string `json:"e"`
	Effect    string `json:"i,omitempty"`
	Kind      string `json:"k,omitempty"`
	Seq       int    `json:"s,omitempty"`
}

// pending is an effect a stored run waits for.
type pending struct {
	Task *asl.TaskEffect `json:"task,omitempty"`
	// Token is the task token of an activity or a .waitForTaskToken task.
	Token string `json:"token,omitempty"`
	// Heartbeat counts heartbeats: a heartbeat timer of an earlier count fires nothing.
	Heartbeat int `json:"heartbeat,omitempty"`
	// Submits marks a .sync or .waitForTaskToken task, whose request is recorded as submitted
	// (TaskSubmitted) before its outcome; Submitted, that it has been. Early holds an outcome
	// that came first: a callback or a nested execution can be quicker than the commit of the
	// submission.
	Submits   bool       `json:"submits,omitempty"`
	Submitted bool       `json:"submitted,omitempty"`
	Early     *asl.Reply `json:"early,omitempty"`
}

// live is a Standard execution as its driver holds it within a transaction.
type live struct {
	ex      *execution
	run     *asl.Run
	pending map[string]*pending
}

func (s *Service) registerDriver() {
	s.eng.Handle(taskQueue, s.handleTask, queue.HandlerOptions{Concurrency: 16, MaxAttempts: 5})
	s.eng.Handle(timerQueue, s.handleTimer, queue.HandlerOptions{Concurrency: 8})
	s.eng.Handle(logQueue, s.handleLog, queue.HandlerOptions{Concurrency: 2, MaxAttempts: 5})
	s.eng.Handle(expressQueue, s.handleExpress, queue.HandlerOptions{Concurrency: 16, MaxAttempts: 3})
}

// loadLive reads a Standard execution with its run; nil when there is none.
func (s *Service) loadLive(q rowQuery, arn string) (*live, error) {
	var doc, run, pend string
	err := q(`SELECT doc, run, pending FROM sfn_executions WHERE arn = ?`, arn).Scan(&doc, &run, &pend)
	if errNoRows(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	l := &live{ex: &execution{}, run: &asl.Run{}, pending: map[string]*pending{}}
	for _, d := range []struct {
		s string
		v any
	}{{doc, l.ex}, {run, l.run}, {pend, &l.pending}} {
		if err := decode(d.s, d.v); err != nil {
			return nil, fmt.Errorf("decode execution %s: %w", arn, err)
		}
	}
	return l, nil
}

func (s *Service) putLive(tx *store.Tx, l *live) error {
	_, err := tx.Exec(`INSERT INTO sfn_executions (arn, machine, status, started, doc, run, pending) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (arn) DO UPDATE SET status = excluded.status, doc = excluded.doc, run = excluded.run, pending = excluded.pending`,
		l.ex.ARN, l.ex.MachineARN, l.ex.Status, l.ex.Started.UnixNano(), encode(l.ex), encode(l.run), encode(l.pending))
	return err
}

// aslContext is what the interpreter knows of ex.
func aslContext(ex *execution) asl.Context {
	return asl.Context{ExecutionArn: ex.ARN, ExecutionName: ex.Name, RoleArn: ex.RoleARN, StartTime: ex.Started,
		StateMachineArn: ex.MachineARN, StateMachineName: ex.MachineName, VersionArn: ex.VersionARN, AliasArn: ex.AliasARN,
		RedriveCount: int(ex.RedriveCount)}
}

// begin stores a new Standard execution and runs its first step, in tx.
func (s *Service) begin(tx *store.Tx, ex *execution) error {
	m, err := s.machines.parsed(ex.Definition)
	if err != nil {
		return err
	}
	run, err := m.Start([]byte(ex.Input), aslContext(ex))
	if err != nil {
		return apiError("InvalidExecutionInput", "Invalid State Machine Execution Input: '%s'", err.Error())
	}
	l := &live{ex: ex, run: run, pending: map[string]*pending{}}
	if secs := timeoutSeconds(ex.Definition); secs > 0 {
		if err := s.sendTimer(tx, effectMsg{Execution: ex.ARN, Kind: timerExecution, Seq: int(ex.RedriveCount)},
			ex.Started.Add(time.Duration(secs)*time.Second)); err != nil {
			return err
		}
	}
	return s.advance(tx, l)
}

// advance steps l's run as far as it goes and commits, in tx, the new run, its history events
// and the messages of the effects it now waits for. An execution that ended reports to the
// task of a parent execution waiting for it.
func (s *Service) advance(tx *store.Tx, l *live) error {
	m, err := s.machines.parsed(l.ex.Definition)
	if err != nil {
		return err
	}
	now := s.now().UTC()
	events, effects := l.run.Step(m, now)
	history := make([]historyEvent, len(events))
	for i, e := range events {
		history[i] = fromASL(e)
		if _, err := tx.Exec(`INSERT INTO sfn_events (execution, id, body) VALUES (?, ?, ?)`, l.ex.ARN, e.ID, encode(history[i])); err != nil {
			return err
		}
	}
	for _, e := range effects {
		if err := s.schedule(tx, l, e, now); err != nil {
			return err
		}
	}
	status, output, errName, cause := l.run.Status()
	ended := l.run.Finished && l.ex.Status == statusRunning
	l.ex.Status = status
	if ended {
		l.ex.Stopped = &now
		l.pending = map[string]*pending{}
		if status == statusSucceeded {
			l.ex.Output = awsproto.Ptr(string(output))
		}
		l.ex.Error, l.ex.Cause = optional(errName), optional(cause)
	}
	if err := s.sendLog(tx, l.ex, history); err != nil {
		return err
	}
	if err := s.putLive(tx, l); err != nil {
		return err
	}
	if ended {
		if err := s.abortMapRuns(tx, l.ex.ARN, now); err != nil {
			return err
		}
	}
	if ended && l.ex.MapRun != "" {
		return s.childEnded(tx, l.ex)
	}
	if ended && l.ex.Parent != nil {
		return s.reportToParent(tx, l.ex)
	}
	return nil
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// schedule starts waiting for an effect: a timer message due when it fires, or a task
// message (an activity's task waits for a worker instead), with the task's timeout and
// heartbeat timers.
func (s *Service) schedule(tx *store.Tx, l *live, e asl.Effect, now time.Time) error {
	switch e := e.(type) {
	case asl.TimerEffect:
		l.pending[e.ID] = &pending{}
		return s.sendTimer(tx, effectMsg{Execution: l.ex.ARN, Effect: e.ID, Kind: timerFire}, e.At)
	case asl.TaskEffect:
		in, _ := parseIntegration(e.Resource)
		p := &pending{Task: &e, Token: e.TaskToken, Submits: in.mode != ""}
		l.pending[e.ID] = p
		if e.TimeoutSeconds > 0 {
			if err := s.sendTimer(tx, effectMsg{Execution: l.ex.ARN, Effect: e.ID, Kind: timerTask},
				now.Add(time.Duration(e.TimeoutSeconds)*time.Second)); err != nil {
				return err
			}
		}
		if e.HeartbeatSeconds > 0 {
			if err := s.sendTimer(tx, effectMsg{Execution: l.ex.ARN, Effect: e.ID, Kind: timerHeartbeat},
				now.Add(time.Duration(e.HeartbeatSeconds)*time.Second)); err != nil {
				return err
			}
		}
		if act, ok := activityOf(e.Resource); ok {
			p.Token = uuid.New()
			if err := putToken(tx, p.Token, l.ex.ARN, e.ID); err != nil {
				return err
			}
			return s.offerActivityTask(tx, act, activityTask{Token: p.Token, Input: string(e.Parameters)})
		}
		if p.Token != "" {
			if err := putToken(tx, p.Token, l.ex.ARN, e.ID); err != nil {
				return err
			}
		}
		body, _ := json.Marshal(effectMsg{Execution: l.ex.ARN, Effect: e.ID})
		_, err := s.eng.Send(tx, taskQueue, queue.Outgoing{Body: body})
		return err
	case asl.MapRunEffect:
		return s.startMapRun(tx, l, e, now)
	}
	return fmt.Errorf("unknown effect %T", e)
}

func (s *Service) sendTimer(tx *store.Tx, m effectMsg, at time.Time) error {
	body, _ := json.Marshal(m)
	_, err := s.eng.Send(tx, timerQueue, queue.Outgoing{Body: body, At: at})
	return err
}

// settle reports the outcome of effect id of the execution arn with apply and steps the run
// on, in one transaction. An execution that ended, or no longer waits for id (a message
// delivered twice, a timeout after the task's result), is left as it is.
func (s *Service) settle(ctx context.Context, arn, id string, apply func(r *asl.Run)) error {
	return s.st.Write(ctx, func(tx *store.Tx) error { return s.settleTx(tx, arn, id, apply) })
}

func (s *Service) settleTx(tx *store.Tx, arn, id string, apply func(r *asl.Run)) error {
	return s.reportTx(tx, arn, id, apply, true)
}

// reportTx reports progress of effect id of the execution arn that it still waits for (an
// activity worker took the task; a callback task's request was accepted), or, with settled,
// its outcome, and steps the run on.
func (s *Service) reportTx(tx *store.Tx, arn, id string, apply func(r *asl.Run), settled bool) error {
	return s.withPending(tx, arn, id, func(l *live, _ *pending) error {
		if settled {
			return s.settleLive(tx, l, id, apply)
		}
		apply(l.run)
		return s.advance(tx, l)
	})
}

// withPending calls fn with the running execution arn and its pending effect id; an execution
// that ended or no longer waits for id is left as it is.
func (s *Service) withPending(tx *store.Tx, arn, id string, fn func(l *live, p *pending) error) error {
	l, err := s.loadLive(tx.QueryRow, arn)
	if err != nil || l == nil || l.ex.Status != statusRunning || l.pending[id] == nil {
		return err
	}
	return fn(l, l.pending[id])
}

// settleLive applies an outcome of effect id and steps the run on. The outcome of a task whose
// request is not yet recorded as submitted waits for that (submittedLive): history records
// TaskSubmitted before the outcome, as AWS's does.
func (s *Service) settleLive(tx *store.Tx, l *live, id string, apply func(r *asl.Run)) error {
	p := l.pending[id]
	apply(l.run)
	if p.Submits && !p.Submitted {
		if rep := l.run.TakeReply(id); p.Early == nil {
			p.Early = rep
		}
		return s.putLive(tx, l)
	}
	delete(l.pending, id)
	return s.advance(tx, l)
}

// submittedLive records that the request of task id was accepted with output, then the
// outcome that was waiting for that, if any.
func (s *Service) submittedLive(tx *store.Tx, l *live, id string, output []byte) error {
	p := l.pending[id]
	l.run.Submitted(id, output)
	p.Submitted = true
	if p.Early != nil {
		l.run.Resume(id, p.Early)
		delete(l.pending, id)
	}
	return s.advance(tx, l)
}

// handleTask runs a task a Standard execution waits for and settles it with the result. A
// task whose result comes later (an activity, a .waitForTaskToken callback, a nested
// execution) leaves the effect pending.
func (s *Service) handleTask(ctx context.Context, msg queue.Message) error {
	var m effectMsg
	if err := json.Unmarshal(msg.Body, &m); err != nil {
		return queue.Permanent(err)
	}
	l, err := s.loadLive(s.reader(ctx), m.Execution)
	if err != nil {
		return err
	}
	if l == nil || l.ex.Status != statusRunning {
		return nil
	}
	// A task whose request was accepted (a delivery after a crash) is not made again.
	if p := l.pending[m.Effect]; p == nil || p.Task == nil || p.Submitted {
		return nil
	}
	res := s.runTask(ctx, l.ex, *l.pending[m.Effect].Task)
	if res.wait {
		if res.submitted == nil {
			return nil
		}
		return s.st.Write(ctx, func(tx *store.Tx) error {
			return s.withPending(tx, m.Execution, m.Effect, func(l *live, p *pending) error {
				if p.Submitted {
					return nil
				}
				return s.submittedLive(tx, l, m.Effect, res.submitted)
			})
		})
	}
	// The task's own outcome (it was refused, or it ended without waiting) needs no submission.
	return s.st.Write(ctx, func(tx *store.Tx) error {
		return s.withPending(tx, m.Execution, m.Effect, func(l *live, p *pending) error {
			p.Submits = false
			return s.settleLive(tx, l, m.Effect, res.apply(m.Effect))
		})
	})
}

// handleTimer fires a due timer.
func (s *Service) handleTimer(ctx context.Context, msg queue.Message) error {
	var m effectMsg
	if err := json.Unmarshal(msg.Body, &m); err != nil {
		return queue.Permanent(err)
	}
	switch m.Kind {
	case timerFire:
		return s.settle(ctx, m.Execution, m.Effect, func(r *asl.Run) { r.Fire(m.Effect) })
	case timerTask:
		return s.settle(ctx, m.Execution, m.Effect, func(r *asl.Run) { r.Fail(m.Effect, "States.Timeout", "") })
	case timerHeartbeat:
		return s.st.Write(ctx, func(tx *store.Tx) error {
			l, err := s.loadLive(tx.QueryRow, m.Execution)
			if err != nil || l == nil || l.pending[m.Effect] == nil || l.pending[m.Effect].Heartbeat != m.Seq {
				return err
			}
			return s.settleTx(tx, m.Execution, m.Effect, func(r *asl.Run) { r.Fail(m.Effect, "States.Timeout", "") })
		})
	case timerExecution:
		return s.st.Write(ctx, func(tx *store.Tx) error {
			l, err := s.loadLive(tx.QueryRow, m.Execution)
			if err != nil || l == nil || l.ex.Status != statusRunning || int(l.ex.RedriveCount) != m.Seq {
				return err
			}
			l.run.TimeOut()
			return s.advance(tx, l)
		})
	}
	return queue.Permanent(fmt.Errorf("unknown timer kind %q", m.Kind))
}
