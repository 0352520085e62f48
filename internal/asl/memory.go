package asl

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kiri-run/kiri/internal/jsonobj"
)

// Memory is the in-memory driver: it steps a run, performs its effects and repeats until the
// execution ends. It serves tests and Express executions.
type Memory struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Sleep waits until a timer is due or ctx ends; nil fires timers at once, moving the
	// driver's clock forward to the timer's time instead of sleeping.
	Sleep func(ctx context.Context, until time.Time) error
	// Task runs a task effect and returns its output, or an error name and cause. Tasks run
	// concurrently, each on its own goroutine. Nil fails every task with States.TaskFailed.
	Task func(ctx context.Context, t TaskEffect) (output []byte, errorName, cause string)
	// MapRun runs a Distributed Map's map run; nil runs its children in memory, one after
	// the other, each with this driver (without ItemReader, ItemBatcher or ResultWriter).
	MapRun func(ctx context.Context, m *Machine, e MapRunEffect) (output []byte, errorName, cause string)
	// Deadline, when set, times the execution out (States.Timeout, TIMED_OUT) once the clock
	// reaches it: no timer is waited for beyond it.
	Deadline time.Time

	skew time.Duration
}

// ErrStuck reports a run that waits for nothing yet has not ended.
var ErrStuck = errors.New("asl: the execution waits for no effect but has not ended")

func (d *Memory) now() time.Time {
	if d.Now != nil {
		return d.Now().Add(d.skew)
	}
	return time.Now().Add(d.skew)
}

type taskOutcome struct {
	id, name, cause string
	output          []byte
}

// Run drives r to its end and returns every history event it produced. A cancelled ctx
// stops the execution (ExecutionAborted) and returns ctx's error. Run returns only once
// every task it started has returned.
func (d *Memory) Run(ctx context.Context, m *Machine, r *Run) ([]Event, error) {
	results := make(chan taskOutcome)
	inflight := 0
	defer func() {
		for ; inflight > 0; inflight-- {
			<-results
		}
	}()
	apply := func(o taskOutcome) {
		inflight--
		if o.name != "" {
			r.Fail(o.id, o.name, o.cause)
		} else {
			r.Complete(o.id, o.output)
		}
	}
	var all []Event
	var timers []TimerEffect
	for {
		if !d.Deadline.IsZero() && !r.Finished && !d.now().Before(d.Deadline) {
			r.TimeOut()
		}
		events, effects := r.Step(m, d.now())
		all = append(all, events...)
		if r.Finished {
			return all, nil
		}
		for _, e := range effects {
			switch e := e.(type) {
			case TaskEffect:
				inflight++
				go func() { results <- d.runTask(ctx, e) }()
			case MapRunEffect:
				inflight++
				go func() { results <- d.runMapRun(ctx, m, e) }()
			case TimerEffect:
				timers = append(timers, e)
			}
		}
		if err := ctx.Err(); err != nil {
			return d.abort(m, r, all, err)
		}
		if len(timers) == 0 && inflight == 0 {
			return all, ErrStuck
		}
		next := 0
		for i, t := range timers {
			if t.At.Before(timers[next].At) {
				next = i
			}
		}
		switch {
		case inflight > 0 && (len(timers) == 0 || d.Sleep == nil):
			// on the virtual clock tasks take no time: they end before any timer
			apply(<-results)
		case inflight == 0 && d.Sleep == nil:
			if !d.Deadline.IsZero() && d.Deadline.Before(timers[next].At) {
				d.skew += d.Deadline.Sub(d.now()) // the next round times the execution out
				continue
			}
			if wait := timers[next].At.Sub(d.now()); wait > 0 {
				d.skew += wait
			}
			r.Fire(timers[next].ID)
			timers = append(timers[:next], timers[next+1:]...)
		default:
			until := timers[next].At
			if !d.Deadline.IsZero() && d.Deadline.Before(until) {
				until = d.Deadline
			}
			fired, o, err := d.sleepOrResult(ctx, until, inflight, results)
			switch {
			case err != nil:
				return d.abort(m, r, all, err)
			case fired && until.Before(timers[next].At):
				// the deadline came first: the next round times the execution out
			case fired:
				r.Fire(timers[next].ID)
				timers = append(timers[:next], timers[next+1:]...)
			default:
				apply(o)
			}
		}
	}
}

// sleepOrResult waits until the timer is due or, with tasks in flight, one of them returns.
func (d *Memory) sleepOrResult(ctx context.Context, until time.Time, inflight int, results <-chan taskOutcome) (fired bool, o taskOutcome, err error) {
	if inflight == 0 {
		return true, o, d.Sleep(ctx, until)
	}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- d.Sleep(sctx, until) }()
	select {
	case err := <-done:
		cancel()
		if ctx.Err() != nil {
			return false, o, ctx.Err()
		}
		return err == nil, o, nil
	case o = <-results:
		cancel()
		<-done
		return false, o, nil
	}
}

func (d *Memory) runTask(ctx context.Context, t TaskEffect) taskOutcome {
	if d.Task == nil {
		return taskOutcome{id: t.ID, name: errTaskFailed, cause: "no task runner"}
	}
	out, name, cause := d.Task(ctx, t)
	return taskOutcome{id: t.ID, output: out, name: name, cause: cause}
}

func (d *Memory) runMapRun(ctx context.Context, m *Machine, e MapRunEffect) taskOutcome {
	var out []byte
	var name, cause string
	if d.MapRun != nil {
		out, name, cause = d.MapRun(ctx, m, e)
	} else {
		out, name, cause = d.mapRunInMemory(ctx, m, e)
	}
	return taskOutcome{id: e.ID, output: out, name: name, cause: cause}
}

// mapRunInMemory runs a map run's children one after the other.
func (d *Memory) mapRunInMemory(ctx context.Context, m *Machine, e MapRunEffect) ([]byte, string, string) {
	if e.ItemReader != nil || e.ItemBatcher != nil || e.ResultWriter != nil {
		return nil, errRuntime, "The in-memory driver runs map runs without ItemReader, ItemBatcher and ResultWriter"
	}
	child, err := ParseType(e.Definition, e.ExecutionType)
	if err != nil {
		return nil, errRuntime, err.Error()
	}
	items, _ := decode(e.Items).([]any)
	results := make([]any, len(items))
	failed := 0
	for i, it := range items {
		input, err := e.ItemInput(m, i, encode(it))
		if err != nil {
			return nil, errRuntime, err.Error()
		}
		ctxt := e.Selector.Context
		ctxt.ExecutionName = fmt.Sprintf("%s-%d", ctxt.ExecutionName, i)
		r, err := child.Start(input, ctxt)
		if err != nil {
			return nil, errRuntime, err.Error()
		}
		sub := &Memory{Now: d.now, Sleep: d.Sleep, Task: d.Task, MapRun: d.MapRun}
		if _, err := sub.Run(ctx, child, r); err != nil {
			return nil, errRuntime, err.Error()
		}
		status, output, errName, errCause := r.Status()
		if status != StatusSucceeded {
			failed++
			eo := jsonobj.New(2)
			eo.Set("Error", errName)
			eo.Set("Cause", errCause)
			results[i] = eo
			continue
		}
		results[i] = decode(output)
	}
	fan := Fan{Total: len(items), Failed: failed, TolCount: e.ToleratedFailureCount, TolPct: e.ToleratedFailurePercentage}
	if failed > 0 && !fan.tolerates() {
		return nil, errToleratedFailure, "The specified tolerated failure threshold was exceeded"
	}
	return encode(results), "", ""
}

func (d *Memory) abort(m *Machine, r *Run, all []Event, err error) ([]Event, error) {
	r.Stop("", "")
	events, _ := r.Step(m, d.now())
	return append(all, events...), err
}
