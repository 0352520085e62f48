package asl

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/kiri-run/kiri/internal/uuid"
)

// MapRunEffect asks the driver to run a Distributed Map state's map run: read the items
// (Items, or ItemReader), batch them (ItemBatcher), start a child execution of Definition
// for each item or batch, with ItemInput as its input, at most MaxConcurrency at once, and
// write the results (ResultWriter). The driver reports back with Complete(ID, output) or,
// when more children failed than tolerated, Fail(ID, "States.ExceedToleratedFailureThreshold",
// ...); ItemReader and ResultWriter failures are States.ItemReaderFailed and
// States.ResultWriterFailed.
type MapRunEffect struct {
	ID            string          `json:"id"`
	State         string          `json:"state"`
	MapRunArn     string          `json:"mapRunArn"`
	Definition    json.RawMessage `json:"definition"`    // the item processor as a state machine definition
	ExecutionType string          `json:"executionType"` // of the child executions: STANDARD or EXPRESS
	// Items are the items when there is no ItemReader (a JSON array).
	Items json.RawMessage `json:"items,omitempty"`
	// ItemReader, ItemBatcher and ResultWriter are the state's fields with their parameters,
	// paths and expressions evaluated; nil when the state has none.
	ItemReader   json.RawMessage `json:"itemReader,omitempty"`
	ItemBatcher  json.RawMessage `json:"itemBatcher,omitempty"`
	ResultWriter json.RawMessage `json:"resultWriter,omitempty"`
	// MaxConcurrency is 0 for no limit; the tolerated thresholds are -1 when not set.
	MaxConcurrency             int      `json:"maxConcurrency"`
	ToleratedFailureCount      int      `json:"toleratedFailureCount"`
	ToleratedFailurePercentage float64  `json:"toleratedFailurePercentage"`
	Selector                   Selector `json:"selector"`
}

func (MapRunEffect) isEffect() {}

// Selector is what a map run needs to compute its children's inputs: the Map state, its
// effective input and the variables and context it ran with.
type Selector struct {
	Block     int                        `json:"block"`
	State     string                     `json:"state"`
	Input     json.RawMessage            `json:"input"`     // the Map state's raw input
	Effective json.RawMessage            `json:"effective"` // after InputPath (JSONPath)
	Vars      map[string]json.RawMessage `json:"vars,omitempty"`
	Execution Text                       `json:"execution"` // the execution's input
	Context   Context                    `json:"context"`
	EnteredAt time.Time                  `json:"enteredAt"`
}

// ItemInput is the input of the child execution for one item: the item, or the state's
// ItemSelector evaluated over it.
func (e MapRunEffect) ItemInput(m *Machine, index int, item []byte) ([]byte, error) {
	sel := e.Selector
	b := m.blocks[sel.Block]
	s := b.states[sel.State]
	if s == nil {
		return nil, fmt.Errorf("asl: the map run's state %q is not in the definition", sel.State)
	}
	f := &Frame{Block: sel.Block, State: sel.State, Input: Text(sel.Input), Effective: sel.Effective, EnteredAt: sel.EnteredAt, Vars: sel.Vars}
	r := &Run{Context: sel.Context, Input: sel.Execution, Root: f}
	x := &exec{m: m, r: r, stack: []*Frame{f}}
	v, err := x.itemInput(f, s, index, decode(item))
	if err != nil {
		return nil, err
	}
	return encode(v), nil
}

// startMapRun begins a Distributed Map state's map run.
func (x *exec) startMapRun(f *Frame, s *state, raw, eff any) error {
	var items []any
	var err error
	reader, hasReader := s.raw["ItemReader"].(map[string]any)
	if !hasReader {
		if items, err = x.mapItems(s, raw, eff); err != nil {
			return err
		}
	}
	max, err := x.mapMaxConcurrency(s, raw, eff)
	if err != nil {
		return err
	}
	// the length is the items' when the state holds them, 0 when a reader will find them
	x.emit(f, Event{Type: "MapStateStarted", MapStateStartedEventDetails: &MapStateStartedEventDetails{Length: len(items)}})
	fan := &Fan{TolCount: -1, TolPct: -1, Max: max}
	if err := x.mapTolerance(s, raw, eff, fan); err != nil {
		return err
	}
	e := MapRunEffect{
		ID: x.nextID(), State: s.name, MapRunArn: x.mapRunArn(s),
		Definition: s.childDefinition, ExecutionType: s.executionType,
		MaxConcurrency: max, ToleratedFailureCount: fan.TolCount, ToleratedFailurePercentage: fan.TolPct,
		Selector: Selector{Block: f.Block, State: f.State, Input: json.RawMessage(f.Input), Effective: f.Effective,
			Vars: x.visibleVars(), Execution: x.r.Input, Context: x.r.Context, EnteredAt: f.EnteredAt},
	}
	if !hasReader {
		e.Items = encode(items)
	} else if e.ItemReader, err = x.evaluatedConfig(reader, raw, eff, "ItemReader"); err != nil {
		return err
	}
	for field, dst := range map[string]*json.RawMessage{"ItemBatcher": &e.ItemBatcher, "ResultWriter": &e.ResultWriter} {
		if obj, ok := s.raw[field].(map[string]any); ok {
			if *dst, err = x.evaluatedConfig(obj, raw, eff, field); err != nil {
				return err
			}
		}
	}
	x.emit(f, Event{Type: "MapRunStarted", MapRunStartedEventDetails: &MapRunStartedEventDetails{MapRunArn: e.MapRunArn}})
	// a Fan marks the state as started, so that its failure records MapStateFailed
	f.Fan = fan
	f.Wait, f.Reply, f.Step = e.ID, nil, stepMapRun
	x.effects = append(x.effects, e)
	return nil
}

// visibleVars flattens the variables the current frame sees.
func (x *exec) visibleVars() map[string]json.RawMessage {
	out := map[string]json.RawMessage{}
	for _, f := range x.stack {
		for k, v := range f.Vars {
			out[k] = v
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// evaluatedConfig evaluates an ItemReader, ItemBatcher or ResultWriter: its Parameters
// (JSONPath) or Arguments and other expressions (JSONata), and its *Path fields, which take
// the name without Path.
func (x *exec) evaluatedConfig(obj map[string]any, raw, eff any, field string) ([]byte, error) {
	out := map[string]any{}
	for k, v := range obj {
		switch {
		case x.isJSONataState():
			r, err := x.jsonataValue(v, field+"/"+k, x.statesVar(raw, nil))
			if err != nil {
				return nil, err
			}
			out[k] = r
		case k == "Parameters" || k == "BatchInput":
			r, err := x.template(v, eff)
			if err != nil {
				return nil, err
			}
			out[k] = r
		case k == "ReaderConfig":
			cfg, _ := v.(map[string]any)
			resolved := map[string]any{}
			for ck, cv := range cfg {
				if p, ok := cv.(string); ok && strings.HasSuffix(ck, "Path") {
					r, err := x.evalPath(p, eff)
					if err != nil {
						return nil, x.invalidPath(p, eff)
					}
					resolved[strings.TrimSuffix(ck, "Path")] = r
					continue
				}
				resolved[ck] = cv
			}
			out[k] = resolved
		case strings.HasSuffix(k, "Path"):
			p, _ := v.(string)
			r, err := x.evalPath(p, eff)
			if err != nil {
				return nil, x.invalidPath(p, eff)
			}
			out[strings.TrimSuffix(k, "Path")] = r
		default:
			out[k] = v
		}
	}
	return encode(out), nil
}

func (x *exec) isJSONataState() bool {
	s := x.state(x.frame())
	return s != nil && s.isJSONata()
}

// mapRunArn names a map run as AWS does: mapRun:<state machine>/<label>:<id>.
func (x *exec) mapRunArn(s *state) string {
	label, _ := s.raw["Label"].(string)
	if label == "" {
		label = strings.ReplaceAll(uuid.New(), "-", "")[:8]
	}
	arn := x.r.Context.StateMachineArn
	if i := strings.Index(arn, ":stateMachine:"); i >= 0 {
		name := arn[i+len(":stateMachine:"):]
		if j := strings.IndexByte(name, ':'); j >= 0 {
			name = name[:j] // a version or alias qualifier
		}
		return arn[:i] + ":mapRun:" + name + "/" + label + ":" + uuid.New()
	}
	return "arn:aws:states:::mapRun:" + x.r.Context.StateMachineName + "/" + label + ":" + uuid.New()
}

// mapRunDone records the end of a map run and finishes or fails the Map state.
func (x *exec) mapRunDone(f *Frame, s *state) {
	rep := f.Reply
	f.Reply, f.Wait = nil, ""
	if rep.Failed {
		x.emit(f, Event{Type: "MapRunFailed", MapRunFailedEventDetails: &ErrorDetails{Error: optString(rep.Error), Cause: optString(rep.Cause)}})
		x.raise(f, s, &stateError{name: rep.Error, cause: rep.Cause, noCause: rep.Cause == ""})
		return
	}
	x.emit(f, Event{Type: "MapRunSucceeded"})
	last := f.Last
	x.emit(f, Event{Type: "MapStateSucceeded"})
	f.Last = last
	f.Fan = nil
	out := rep.Output
	if len(out) == 0 {
		out = []byte("null")
	}
	if err := x.finish(f, s, decode(f.Input), decode(out), true); err != nil {
		x.raise(f, s, err)
	}
}
