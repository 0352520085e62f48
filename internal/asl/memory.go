package asl

import (
	"context"
	"errors"
	"time"
)

// Memory is the in-memory driver: it steps a run, performs its effects and repeats until the
// execution ends. It serves tests and Express executions.
type Memory struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Sleep waits until a timer is due; nil fires timers at once, moving the driver's clock
	// forward to the timer's time instead of sleeping.
	Sleep func(ctx context.Context, until time.Time) error
	// Task runs a task effect and returns its output, or an error name and cause. Nil fails
	// every task with States.TaskFailed.
	Task func(ctx context.Context, t TaskEffect) (output []byte, errorName, cause string)

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

// Run drives r to its end and returns every history event it produced. A cancelled ctx
// stops the execution (ExecutionAborted) and returns ctx's error.
func (d *Memory) Run(ctx context.Context, m *Machine, r *Run) ([]Event, error) {
	var all []Event
	var tasks []TaskEffect
	var timers []TimerEffect
	for {
		events, effects := r.Step(m, d.now())
		all = append(all, events...)
		if r.Finished {
			return all, nil
		}
		for _, e := range effects {
			switch e := e.(type) {
			case TaskEffect:
				tasks = append(tasks, e)
			case TimerEffect:
				timers = append(timers, e)
			}
		}
		if err := ctx.Err(); err != nil {
			r.Stop("", "")
			events, _ := r.Step(m, d.now())
			return append(all, events...), err
		}
		switch {
		case len(tasks) > 0:
			t := tasks[0]
			tasks = tasks[1:]
			if d.Task == nil {
				r.Fail(t.ID, errTaskFailed, "no task runner")
				continue
			}
			out, name, cause := d.Task(ctx, t)
			if name != "" {
				r.Fail(t.ID, name, cause)
			} else {
				r.Complete(t.ID, out)
			}
		case len(timers) > 0:
			next := 0
			for i, t := range timers {
				if t.At.Before(timers[next].At) {
					next = i
				}
			}
			t := timers[next]
			timers = append(timers[:next], timers[next+1:]...)
			if d.Sleep != nil {
				if err := d.Sleep(ctx, t.At); err != nil {
					r.Stop("", "")
					events, _ := r.Step(m, d.now())
					return append(all, events...), err
				}
			} else if wait := t.At.Sub(d.now()); wait > 0 {
				d.skew += wait
			}
			r.Fire(t.ID)
		default:
			return all, ErrStuck
		}
	}
}
