package asl

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/kiri-run/kiri/internal/jsonobj"
)

// runFanOut starts a Parallel state's branches or a Map state's iterations.
func (x *exec) runFanOut(f *Frame, s *state) error {
	raw := decode(f.Input)
	var eff any = raw
	var err error
	if s.isJSONata() {
		if s.hasArguments {
			if eff, err = x.jsonataValue(s.arguments, "Arguments", x.statesVar(raw, nil)); err != nil {
				return err
			}
			x.inspected(afterArguments, eff)
		}
	} else {
		if eff, err = x.applyPathField(s.inputPath, "InputPath", raw); err != nil {
			return err
		}
		x.inspected(afterInputPath, eff)
		if s.hasParameters && s.typ == "Parallel" {
			if eff, err = x.template(s.parameters, eff); err != nil {
				return err
			}
			x.inspected(afterParameters, eff)
		}
	}
	f.Effective = encode(eff)
	if m := x.mocked(); m != nil {
		f.Effective = nil
		if m.Error != "" {
			return &stateError{name: m.Error, cause: m.Cause}
		}
		return x.finish(f, s, raw, decode(m.Result), true)
	}
	if s.typ == "Parallel" {
		started := x.emit(f, Event{Type: "ParallelStateStarted"})
		fan := &Fan{Total: len(s.branches), Results: make([]json.RawMessage, len(s.branches)), StartPrev: started}
		f.Children = make([]*Frame, len(s.branches))
		for i, b := range s.branches {
			f.Children[i] = &Frame{Block: b, Index: i, State: x.m.blocks[b].startAt, Input: Text(f.Effective)}
		}
		f.Fan, f.Step = fan, stepFan
		return nil
	}
	if s.distributed {
		return x.startMapRun(f, s, raw, eff)
	}
	items, err := x.mapItems(s, raw, eff)
	if err != nil {
		return err
	}
	fan := &Fan{Total: len(items), Results: make([]json.RawMessage, len(items)), TolCount: -1, TolPct: -1}
	if fan.Max, err = x.mapMaxConcurrency(s, raw, eff); err != nil {
		return err
	}
	fan.StartPrev = x.emit(f, Event{Type: "MapStateStarted", MapStateStartedEventDetails: &MapStateStartedEventDetails{Length: len(items)}})
	if err := x.mapTolerance(s, raw, eff, fan); err != nil {
		return err
	}
	if x.probe != nil && len(x.stack) == 1 {
		in := &x.probe.insp
		in.MaxConcurrency = &fan.Max
		if fan.TolCount >= 0 {
			in.ToleratedFailureCount = &fan.TolCount
		}
		if fan.TolPct >= 0 {
			in.ToleratedFailurePercentage = &fan.TolPct
		}
	}
	fan.Items = make([]json.RawMessage, len(items))
	f.Children = make([]*Frame, len(items))
	for i, it := range items {
		fan.Items[i] = encode(it)
		f.Children[i] = &Frame{Block: s.processor, Index: i, State: x.m.blocks[s.processor].startAt}
	}
	f.Fan, f.Step = fan, stepFan
	return nil
}

// mapItems selects the array a Map state iterates over.
func (x *exec) mapItems(s *state, raw, eff any) ([]any, error) {
	if s.isJSONata() {
		if !s.hasItems {
			arr, ok := raw.([]any)
			if !ok {
				return nil, x.evalError("", "Map state input must be an array but was: "+encodeString(raw))
			}
			return arr, nil
		}
		v, err := x.jsonataValue(s.items, "Items", x.statesVar(raw, nil))
		if err != nil {
			return nil, err
		}
		arr, ok := v.([]any)
		if !ok {
			expr, _ := s.items.(string)
			return nil, x.evalError("Items", fmt.Sprintf("The JSONata expression '%s' specified for the field 'Items' returned an unexpected result type. Expected 'array', but was '%s' for value: %s", jsonataBody(expr), jsonTypeName(v), encodeString(v)))
		}
		return arr, nil
	}
	v, err := x.applyPathField(s.itemsPath, "ItemsPath", eff)
	if err != nil {
		return nil, err
	}
	arr, ok := v.([]any)
	if !ok {
		path := "$"
		if s.itemsPath.set && !s.itemsPath.null {
			path = strings.Replace(s.itemsPath.text, "$$", "$", 1)
		}
		return nil, x.runtime(fmt.Sprintf("Reference path \"%s\" must point to array.", path))
	}
	return arr, nil
}

func jsonTypeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case []any:
		return "array"
	case *jsonobj.Object, map[string]any:
		return "object"
	case json.Number, float64, int:
		return "number"
	}
	return "unknown"
}

// mapMaxConcurrency reads MaxConcurrency, MaxConcurrencyPath or its JSONata form; 0 means no limit.
func (x *exec) mapMaxConcurrency(s *state, raw, eff any) (int, error) {
	n, ok, err := x.mapNumber(s, "MaxConcurrency", raw, eff, true)
	if err != nil || !ok {
		return 0, err
	}
	if n < 0 {
		return 0, x.runtime("MaxConcurrency cannot be negative.")
	}
	return int(n), nil
}

func (x *exec) mapTolerance(s *state, raw, eff any, fan *Fan) error {
	n, ok, err := x.mapNumber(s, "ToleratedFailureCount", raw, eff, true)
	if err != nil {
		return err
	}
	if ok {
		if n < 0 {
			return x.runtime("ToleratedFailureCount cannot be negative.")
		}
		fan.TolCount = int(n)
	}
	p, ok, err := x.mapNumber(s, "ToleratedFailurePercentage", raw, eff, false)
	if err != nil {
		return err
	}
	if ok {
		if p < 0 || p > 100 {
			return x.runtime("ToleratedFailurePercentage must be between 0 and 100.")
		}
		fan.TolPct = p
	}
	return nil
}

// mapNumber reads a numeric Map field given literally, through its Path form or as JSONata.
func (x *exec) mapNumber(s *state, field string, raw, eff any, integer bool) (float64, bool, error) {
	kind := "float"
	if integer {
		kind = "integer"
	}
	if v, ok := s.field(field); ok {
		if s.isJSONata() {
			if str, isStr := v.(string); isStr && isJSONataString(str) {
				r, err := x.jsonataValue(v, field, x.statesVar(raw, nil))
				if err != nil {
					return 0, false, err
				}
				f, ok := floatValue(r)
				if !ok || (integer && f != math.Trunc(f)) {
					return 0, false, x.evalError(field, fmt.Sprintf("The %s field must evaluate to a valid %s, but was: %s", field, kind, encodeString(r)))
				}
				return f, true, nil
			}
		}
		f, _ := floatValue(v)
		return f, true, nil
	}
	pv, ok := s.field(field + "Path")
	if !ok {
		return 0, false, nil
	}
	p, _ := pv.(string)
	v, err := x.evalPath(p, eff)
	if err != nil {
		return 0, false, x.runtime(fmt.Sprintf("The %sPath field refers to a value that does not exist: %s", field, p))
	}
	// a number, or a string holding one, as Java's parsers read it
	var text string
	switch n := v.(type) {
	case json.Number:
		text = string(n)
	case string:
		text = n
	}
	var f float64
	if integer {
		i, perr := strconv.ParseInt(text, 10, 32)
		f, ok = float64(i), perr == nil
	} else {
		f, err = strconv.ParseFloat(text, 64)
		ok = err == nil && text != ""
	}
	if !ok {
		return 0, false, x.runtime(fmt.Sprintf("The %sPath field refers to value \"%s\" which is not a valid %s: %s", field, plainText(v), kind, p))
	}
	return f, true, nil
}

// fan runs a Map or Parallel state's children; it reports whether the state moved on.
func (x *exec) fan(f *Frame, s *state) bool {
	fan := f.Fan
	isMap := s.typ == "Map"
	for i, c := range f.Children {
		if c.Reported {
			continue
		}
		if c.Step == "" {
			if fan.Max > 0 && fan.Running >= fan.Max {
				continue
			}
			fan.Running++
			c.Step = stepEnter
			c.Last = fan.StartPrev
			if isMap {
				input, err := x.itemInput(f, s, i, decode(fan.Items[i]))
				if err != nil {
					x.abortChildren(f, s)
					x.raise(f, s, err)
					return true
				}
				c.Input = encode(input)
				fan.Items[i] = nil
				x.emit(c, Event{Type: "MapIterationStarted", MapIterationStartedEventDetails: &MapIterationEventDetails{Name: s.name, Index: i}})
			}
		}
		x.advance(c)
		switch c.Step {
		case stepDone:
			c.Reported = true
			fan.Running--
			fan.Results[i] = c.Output
			c.Output, c.Vars, c.Input = nil, nil, nil
			x.childEnded(f, c, isMap)
			if isMap {
				x.emit(f, Event{Type: "MapIterationSucceeded", MapIterationSucceededEventDetails: &MapIterationEventDetails{Name: s.name, Index: i}})
			}
		case stepFailed:
			c.Reported = true
			fan.Running--
			fan.Failed++
			x.childEnded(f, c, isMap)
			if isMap {
				// the events after a failed iteration point to its last event, not to this one
				x.emit(f, Event{Type: "MapIterationFailed", MapIterationFailedEventDetails: &MapIterationEventDetails{Name: s.name, Index: i}})
				f.Last = c.Last
			}
			if isMap && fan.tolerates() {
				fan.Results[i] = encode(errorOutput(failureError(c.Err)))
				continue
			}
			e := failureError(c.Err)
			if isMap && fan.hasTolerance() {
				e = newError(errToleratedFailure, "The specified tolerated failure threshold was exceeded")
			}
			x.abortChildren(f, s)
			x.raise(f, s, e)
			return true
		}
	}
	for _, c := range f.Children {
		if !c.Reported {
			return false
		}
	}
	// as in AWS histories, the state's exit points back past <Kind>StateSucceeded, to
	// the event before it
	last := f.Last
	x.emit(f, Event{Type: s.typ + "StateSucceeded"})
	f.Last = last
	results := make([]any, len(fan.Results))
	for i, r := range fan.Results {
		results[i] = decode(r)
	}
	f.Children, f.Fan = nil, nil
	if err := x.finish(f, s, decode(f.Input), results, true); err != nil {
		x.raise(f, s, err)
	}
	return true
}

func (fan *Fan) hasTolerance() bool { return fan.TolCount >= 0 || fan.TolPct >= 0 }

// childEnded links the events that follow a child's end to it: the parent's next event
// points to the child's last, and so (in a Map) does the next iteration's
// MapIterationStarted, as AWS numbers them.
func (x *exec) childEnded(f, c *Frame, isMap bool) {
	f.Last = c.Last
	if isMap {
		f.Fan.StartPrev = c.Last
	}
}

// tolerates reports whether the failures so far stay within the tolerated thresholds: a Map
// state fails as soon as either is exceeded.
func (fan *Fan) tolerates() bool {
	if !fan.hasTolerance() {
		return false
	}
	if fan.TolCount >= 0 && fan.Failed > fan.TolCount {
		return false
	}
	if fan.TolPct >= 0 && float64(fan.Failed)*100 > fan.TolPct*float64(fan.Total) {
		return false
	}
	return true
}

func failureError(fl *Failure) *stateError {
	e := &stateError{noName: fl.Error == nil, noCause: fl.Cause == nil}
	if fl.Error != nil {
		e.name = *fl.Error
	}
	if fl.Cause != nil {
		e.cause = *fl.Cause
	}
	return e
}

// abortChildren stops the children still running: the states they are in record
// <Kind>StateAborted, and Map iterations MapIterationAborted.
func (x *exec) abortChildren(f *Frame, s *state) {
	for i, c := range f.Children {
		if c.Reported || c.Step == "" {
			continue
		}
		x.stack = append(x.stack, c)
		x.abort(c)
		x.stack = x.stack[:len(x.stack)-1]
		c.Reported = true
		if s.typ == "Map" {
			x.emit(f, Event{Type: "MapIterationAborted", MapIterationAbortedEventDetails: &MapIterationEventDetails{Name: s.name, Index: i}})
		}
	}
}

// itemInput is the input of one Map iteration: the item, or ItemSelector (Parameters) over it.
func (x *exec) itemInput(f *Frame, s *state, index int, item any) (any, error) {
	x.item = &mapItem{index: index, value: item}
	defer func() { x.item = nil }()
	if s.isJSONata() {
		if !s.hasItemSelector {
			return item, nil
		}
		return x.jsonataValue(s.itemSelector, "ItemSelector", x.statesVar(decode(f.Input), nil))
	}
	sel, has := s.itemSelector, s.hasItemSelector
	if !has && s.hasParameters {
		sel, has = s.parameters, true
	}
	if !has {
		return item, nil
	}
	return x.template(sel, decode(f.Effective))
}
