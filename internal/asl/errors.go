package asl

import (
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/kiri-run/kiri/internal/jsonobj"
)

// matchesError reports whether an ErrorEquals list covers the error name, with the wildcards
// States.ALL (every error but States.Runtime, which is terminal; AWS histories show it
// catching States.DataLimitExceeded) and States.TaskFailed (every error but States.Timeout
// and the other errors of Step Functions itself).
func matchesError(list []string, name string) bool {
	if slices.Contains(list, name) {
		return true
	}
	terminal := name == errRuntime
	if slices.Contains(list, errALL) && !terminal {
		return true
	}
	if slices.Contains(list, errTaskFailed) && !terminal && name != errDataLimit && name != errTimeout &&
		name != errHeartbeatTimeout && name != errBranchFailed && name != errNoChoice &&
		name != errIntrinsic && name != errQueryEvaluation {
		return true
	}
	return false
}

// retry applies the first retrier matching the error: it waits the backoff and runs the
// state again, unless the retrier's attempts are spent.
func (x *exec) retry(f *Frame, s *state, e *stateError) bool {
	if e.name == errRuntime {
		return false
	}
	for i, r := range s.retry {
		if !matchesError(r.errorEquals, e.name) {
			continue
		}
		if len(f.Retries) != len(s.retry) {
			f.Retries = make([]int, len(s.retry))
		}
		n := f.Retries[i]
		probing := x.probe != nil && f == x.r.Root
		if probing {
			n = x.probe.retries
			x.probe.retryIndex = &i
		}
		if n >= r.maxAttempts {
			return false
		}
		delay := r.interval * math.Pow(r.backoff, float64(n))
		if r.hasMaxDelay && delay > r.maxDelay {
			delay = r.maxDelay
		}
		if probing {
			x.probe.backoff = &delay
			return false
		}
		if r.jitterFull {
			delay = rand.Float64() * delay
		}
		f.Retries[i]++
		f.RetryCount++
		id := x.nextID()
		f.Wait, f.Reply, f.Step = id, nil, stepBackoff
		x.effects = append(x.effects, TimerEffect{ID: id, At: x.now.Add(time.Duration(delay * float64(time.Second)))})
		return true
	}
	return false
}

// errorOutput is what a catcher passes on: {"Error": ..., "Cause": ...}.
func errorOutput(e *stateError) *jsonobj.Object {
	out := jsonobj.New(2)
	if !e.noName {
		out.Set("Error", e.name)
	}
	if !e.noCause {
		out.Set("Cause", e.cause)
	}
	return out
}

// catch applies the first catcher matching the error: the error output goes through the
// catcher's ResultPath (or Output) and the state exits to the catcher's Next.
func (x *exec) catch(f *Frame, s *state, e *stateError) bool {
	if e.name == errRuntime {
		return false
	}
	for i, c := range s.catch {
		if !matchesError(c.errorEquals, e.name) {
			continue
		}
		if x.probe != nil && f == x.r.Root {
			x.probe.catchIndex, x.probe.caught = &i, e
		}
		if err := x.caught(f, s, c, e); err != nil {
			ee, ok := err.(*stateError)
			if !ok {
				ee = newError(errRuntime, err.Error())
			}
			x.endFailed(f, ee)
		}
		return true
	}
	return false
}

func (x *exec) caught(f *Frame, s *state, c catcher, e *stateError) error {
	raw := decode(f.Input)
	eo := errorOutput(e)
	var out any = eo
	var assigned map[string]any
	if s.isJSONata() {
		states := x.statesVar(raw, map[string]any{"errorOutput": eo})
		o, a, err := x.jsonataAssignOutput(states, c.assign, c.hasAssign, c.output, c.hasOutput, out)
		if err != nil {
			return err
		}
		out, assigned = o, a
	} else {
		if c.hasAssign {
			a, err := x.assignJSONPath(s, c.assign, eo)
			if err != nil {
				return err
			}
			assigned = a
		}
		o, err := x.applyResultPath(c.resultPath, raw, eo)
		if err != nil {
			return err
		}
		out = o
	}
	return x.exit(f, s, out, assigned, c.next, false)
}
