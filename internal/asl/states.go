package asl

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/kiri-run/kiri/internal/jsonobj"
)

// lookupVar finds a workflow variable in the current frame or an enclosing one.
func (x *exec) lookupVar(name string) (any, bool) {
	for i := len(x.stack) - 1; i >= 0; i-- {
		if raw, ok := x.stack[i].Vars[name]; ok {
			return decode(raw), true
		}
	}
	return nil, false
}

// allVars returns every variable visible to the current frame, inner scopes winning.
func (x *exec) allVars() map[string]any {
	out := map[string]any{}
	for _, f := range x.stack {
		for k, raw := range f.Vars {
			out[k] = decode(raw)
		}
	}
	return out
}

// contextObject is $$ for the current state.
func (x *exec) contextObject() any {
	if x.ctxCache != nil && x.item == nil {
		return x.ctxCache
	}
	f := x.frame()
	c := x.r.Context
	exe := map[string]any{
		"Id":           c.ExecutionArn,
		"Input":        decode(x.r.Input),
		"Name":         c.ExecutionName,
		"RoleArn":      c.RoleArn,
		"StartTime":    formatTime(c.StartTime),
		"RedriveCount": json.Number(fmt.Sprint(c.RedriveCount)),
	}
	st := map[string]any{
		"EnteredTime": formatTime(f.EnteredAt),
		"Name":        f.State,
	}
	if s := x.state(f); s != nil && (s.typ == "Task" || s.typ == "Map" || s.typ == "Parallel") {
		st["RetryCount"] = json.Number(fmt.Sprint(f.RetryCount))
	}
	obj := map[string]any{
		"Execution":    exe,
		"State":        st,
		"StateMachine": map[string]any{"Id": c.StateMachineArn, "Name": c.StateMachineName},
	}
	if f.Token != "" {
		obj["Task"] = map[string]any{"Token": f.Token}
	}
	if x.item != nil {
		obj["Map"] = map[string]any{"Item": map[string]any{"Index": json.Number(fmt.Sprint(x.item.index)), "Value": x.item.value}}
		return obj
	}
	if x.probe != nil && x.probe.context != nil {
		overlay(obj, x.probe.context)
	}
	x.ctxCache = obj
	return obj
}

// formatTime writes a timestamp as the context object shows it: ISO-8601 with milliseconds.
func formatTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

func (s *state) isJSONata() bool { return s.lang == JSONata }

// statesVar builds $states for a JSONata evaluation.
func (x *exec) statesVar(input any, extra map[string]any) map[string]any {
	st := map[string]any{"input": input, "context": x.contextObject()}
	for k, v := range extra {
		st[k] = v
	}
	return st
}

// assignJSONPath evaluates a JSONPath-mode Assign with $ bound to value.
func (x *exec) assignJSONPath(s *state, assign any, value any) (map[string]any, error) {
	v, err := x.template(assign, value)
	if err != nil {
		return nil, err
	}
	if o, ok := v.(*jsonobj.Object); ok {
		return o.Map(), nil
	}
	return nil, nil
}

// finish ends a Pass, Task, Map or Parallel state with its result: ResultSelector, Assign,
// ResultPath and OutputPath (JSONPath) or Assign and Output (JSONata), then the transition.
func (x *exec) finish(f *Frame, s *state, raw, result any, resultSelector bool) error {
	// TestState shows a Pass state's result only when it has a Result
	if s.typ != "Pass" || s.hasResult {
		x.inspected(stateResult, result)
	}
	if s.isJSONata() {
		states := x.statesVar(raw, map[string]any{"result": result})
		out, assigned, err := x.jsonataAssignOutput(states, s.assign, s.hasAssign, s.output, s.hasOutput, result)
		if err != nil {
			return err
		}
		return x.exit(f, s, out, assigned, s.next, s.end)
	}
	if resultSelector && s.hasResultSelector {
		r, err := x.template(s.resultSelector, result)
		if err != nil {
			return err
		}
		result = r
	}
	x.inspected(afterResultSelector, result)
	var assigned map[string]any
	if s.hasAssign {
		a, err := x.assignJSONPath(s, s.assign, result)
		if err != nil {
			return err
		}
		assigned = a
	}
	out, err := x.applyResultPath(s.resultPath, raw, result)
	if err != nil {
		return err
	}
	x.inspected(afterResultPath, out)
	out, err = x.applyPathField(s.outputPath, "OutputPath", out)
	if err != nil {
		return err
	}
	return x.exit(f, s, out, assigned, s.next, s.end)
}

func (x *exec) runPass(f *Frame, s *state) error {
	if f.Canonical && x.probe == nil && s.passesInputOn() {
		// its output is its input: skip decoding and encoding it again
		return x.exitText(f, s, f.Input, nil, s.next, s.end)
	}
	raw := decode(f.Input)
	if s.isJSONata() {
		return x.finish(f, s, raw, raw, false)
	}
	eff, err := x.applyPathField(s.inputPath, "InputPath", raw)
	if err != nil {
		return err
	}
	if s.hasResult {
		// the input plays no part: TestState shows neither the input path's nor the
		// parameters' data
		return x.finish(f, s, raw, jsonobj.Clone(s.result), false)
	}
	x.inspected(afterInputPath, eff)
	result := eff
	if s.hasParameters {
		if result, err = x.template(s.parameters, eff); err != nil {
			return err
		}
	}
	x.inspected(afterParameters, result)
	return x.finish(f, s, raw, result, false)
}

// passesInputOn reports whether a Pass state's output is its input, unchanged: a JSONPath
// Pass state with no Result, Parameters or Assign and paths that select the whole input.
func (s *state) passesInputOn() bool {
	whole := func(p optPath) bool { return !p.set || !p.null && p.text == "$" }
	return !s.isJSONata() && !s.hasResult && !s.hasParameters && !s.hasAssign &&
		whole(s.inputPath) && whole(s.outputPath) && (whole(s.resultPath) || s.resultPath.null)
}

func (x *exec) runSucceed(f *Frame, s *state) error {
	raw := decode(f.Input)
	out := raw
	if s.isJSONata() {
		if s.hasOutput {
			o, err := x.jsonataValue(s.output, "Output", x.statesVar(raw, nil))
			if err != nil {
				return err
			}
			out = o
		}
	} else {
		eff, err := x.applyPathField(s.inputPath, "InputPath", raw)
		if err != nil {
			return err
		}
		x.inspected(afterInputPath, eff)
		if out, err = x.applyPathField(s.outputPath, "OutputPath", eff); err != nil {
			return err
		}
	}
	return x.exit(f, s, out, nil, "", true)
}

func (x *exec) runFail(f *Frame, s *state) error {
	raw := decode(f.Input)
	if !s.isJSONata() {
		x.inspected(afterInputPath, raw)
	}
	e := &stateError{noName: true, noCause: true}
	if s.isJSONata() {
		states := x.statesVar(raw, nil)
		for _, fld := range []struct {
			v    any
			name string
			dst  *string
			none *bool
		}{{s.errorField, "Error", &e.name, &e.noName}, {s.causeField, "Cause", &e.cause, &e.noCause}} {
			if fld.v == nil {
				continue
			}
			v, err := x.jsonataValue(fld.v, fld.name, states)
			if err != nil {
				return err
			}
			str, ok := v.(string)
			if !ok {
				return x.evalError(fld.name, fmt.Sprintf("The %s field must evaluate to a string, but was: %s", fld.name, encodeString(v)))
			}
			*fld.dst, *fld.none = str, false
		}
	} else {
		if str, ok := s.errorField.(string); ok {
			e.name, e.noName = str, false
		}
		if str, ok := s.causeField.(string); ok {
			e.cause, e.noCause = str, false
		}
		for _, fld := range []struct {
			path, name string
			dst        *string
			none       *bool
		}{{s.errorPath, "ErrorPath", &e.name, &e.noName}, {s.causePath, "CausePath", &e.cause, &e.noCause}} {
			if fld.path == "" {
				continue
			}
			v, err := x.dynamic(fld.path, fld.name, raw)
			if err != nil {
				return err
			}
			str, ok := v.(string)
			if !ok {
				str = encodeString(v)
			}
			*fld.dst, *fld.none = str, false
		}
	}
	x.endFailed(f, e)
	return nil
}

// runWait computes when the Wait state ends and asks for a timer.
func (x *exec) runWait(f *Frame, s *state) error {
	raw := decode(f.Input)
	var at time.Time
	if s.isJSONata() {
		states := x.statesVar(raw, nil)
		if v, ok := s.field("Seconds"); ok {
			n, err := x.jsonataValue(v, "Seconds", states)
			if err != nil {
				return err
			}
			sec, ok := intValue(n)
			if !ok || sec < 0 {
				return x.evalError("Seconds", fmt.Sprintf("The Seconds field must evaluate to a non-negative integer, but was: %s", encodeString(n)))
			}
			at = x.now.Add(time.Duration(sec) * time.Second)
		} else if v, ok := s.field("Timestamp"); ok {
			t, err := x.jsonataValue(v, "Timestamp", states)
			if err != nil {
				return err
			}
			ts, _ := t.(string)
			parsed, ok := parseTimestamp(ts)
			if !ok {
				return x.evalError("Timestamp", "The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time format string: "+ts)
			}
			at = parsed
		}
	} else {
		eff, err := x.applyPathField(s.inputPath, "InputPath", raw)
		if err != nil {
			return err
		}
		switch {
		case s.raw["Seconds"] != nil:
			sec, _ := intValue(s.raw["Seconds"])
			at = x.now.Add(time.Duration(sec) * time.Second)
		case s.raw["Timestamp"] != nil:
			ts, _ := s.raw["Timestamp"].(string)
			parsed, ok := parseTimestamp(ts)
			if !ok {
				return x.runtime("The Timestamp parameter does not reference a valid ISO-8601 extended offset date-time format string: " + ts)
			}
			at = parsed
		case s.raw["SecondsPath"] != nil:
			p, _ := s.raw["SecondsPath"].(string)
			v, err := x.evalPath(p, eff)
			if err != nil {
				return x.runtime("The SecondsPath parameter does not reference an input value: " + p)
			}
			sec, ok := intValue(v)
			if !ok {
				return x.runtime(fmt.Sprintf("The SecondsPath parameter cannot be parsed as a long value: %s == %s", p, plainText(v)))
			}
			if sec < 0 {
				return x.runtime(fmt.Sprintf("The SecondsPath parameter references a negative value: %s == %s", p, plainText(v)))
			}
			at = x.now.Add(time.Duration(sec) * time.Second)
		case s.raw["TimestampPath"] != nil:
			p, _ := s.raw["TimestampPath"].(string)
			v, err := x.evalPath(p, eff)
			if err != nil {
				return x.runtime("The TimestampPath parameter does not reference an input value: " + p)
			}
			ts, _ := v.(string)
			parsed, ok := parseTimestamp(ts)
			if !ok {
				return x.runtime(fmt.Sprintf("The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: %s == %s", p, plainText(v)))
			}
			at = parsed
		}
	}
	// AWS keeps the delay in a signed 32-bit number of seconds
	if at.Sub(x.now) > math.MaxInt32*time.Second {
		return x.runtime("Wait state delay is too long.")
	}
	id := x.nextID()
	f.Wait, f.Reply, f.Step = id, nil, stepTimer
	x.effects = append(x.effects, TimerEffect{ID: id, At: at})
	return nil
}

// plainText writes a value as AWS quotes it in messages: strings bare, others as JSON.
func plainText(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return encodeString(v)
}

// waitDone ends a Wait state once its timer fired.
func (x *exec) waitDone(f *Frame, s *state) {
	raw := decode(f.Input)
	var err error
	if s.isJSONata() {
		err = x.finishPlain(f, s, raw)
	} else {
		err = x.finishInputOutput(f, s, raw)
	}
	if err != nil {
		x.raise(f, s, err)
	}
}

// finishInputOutput ends a JSONPath Wait or Choice state: InputPath, Assign, OutputPath.
func (x *exec) finishInputOutput(f *Frame, s *state, raw any) error {
	eff, err := x.applyPathField(s.inputPath, "InputPath", raw)
	if err != nil {
		return err
	}
	x.inspected(afterInputPath, eff)
	var assigned map[string]any
	if s.hasAssign {
		if assigned, err = x.assignJSONPath(s, s.assign, eff); err != nil {
			return err
		}
	}
	out, err := x.applyPathField(s.outputPath, "OutputPath", eff)
	if err != nil {
		return err
	}
	return x.exit(f, s, out, assigned, s.next, s.end)
}

// finishPlain ends a JSONata Wait state: Assign and Output over the input.
func (x *exec) finishPlain(f *Frame, s *state, raw any) error {
	out, assigned, err := x.jsonataAssignOutput(x.statesVar(raw, nil), s.assign, s.hasAssign, s.output, s.hasOutput, raw)
	if err != nil {
		return err
	}
	return x.exit(f, s, out, assigned, s.next, s.end)
}

// parseTimestamp parses an ISO-8601 extended offset date-time as Java's
// ISO_OFFSET_DATE_TIME does.
func parseTimestamp(s string) (time.Time, bool) {
	if len(s) < 20 || s[10] != 'T' {
		return time.Time{}, false
	}
	last := s[len(s)-1]
	if last != 'Z' && !strings.ContainsAny(s[19:], "+-") {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, false
	}
	return t, true
}
