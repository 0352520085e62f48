package asl

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/kiri-run/kiri/internal/uuid"
)

// A Map state in Distributed mode runs each item (or batch of items) as a child workflow
// execution of its ItemProcessor, outside this run. The interpreter evaluates everything the
// States Language defines (ItemReader's parameters, ItemSelector, ItemBatcher, the writer's
// location) and hands the rest to the driver as two effects: an ItemReaderEffect that reads
// the items from S3, then a MapRunEffect carrying every child's input. The driver reports each
// back with Complete or Fail.

// Item reader resources and input types.
const (
	ResourceGetObject     = "arn:aws:states:::s3:getObject"
	ResourceListObjectsV2 = "arn:aws:states:::s3:listObjectsV2"
	ResourcePutObject     = "arn:aws:states:::s3:putObject"
)

// ItemReaderEffect asks the driver to read a Distributed Map's items and report them back as
// a JSON array with Complete (or fail with States.ItemReaderFailed).
type ItemReaderEffect struct {
	ID       string `json:"id"`
	State    string `json:"state"`
	Resource string `json:"resource"`
	// Parameters are the evaluated Parameters (JSONPath) or Arguments (JSONata): Bucket, Key
	// or Prefix, and the S3 call's other members.
	Parameters json.RawMessage `json:"parameters"`
	// InputType is CSV, JSON, JSONL or MANIFEST for getObject; empty for listObjectsV2.
	InputType         string   `json:"inputType,omitempty"`
	CSVHeaderLocation string   `json:"csvHeaderLocation,omitempty"` // FIRST_ROW (default) or GIVEN
	CSVHeaders        []string `json:"csvHeaders,omitempty"`
	CSVDelimiter      string   `json:"csvDelimiter,omitempty"` // COMMA (default), PIPE, SEMICOLON, SPACE, TAB
	MaxItems          int      `json:"maxItems,omitempty"`     // 0: all
}

// MapRunEffect asks the driver to run a Map Run: one child execution of Definition per input,
// at most MaxConcurrency at a time. The driver reports the Map state's result (the children's
// outputs in order, or the ResultWriter's summary) with Complete, or fails it with Fail.
type MapRunEffect struct {
	ID            string            `json:"id"`
	State         string            `json:"state"`
	MapRunArn     string            `json:"mapRunArn"`
	Label         string            `json:"label"`
	ExecutionType string            `json:"executionType"` // STANDARD or EXPRESS
	Definition    json.RawMessage   `json:"definition"`
	Inputs        []json.RawMessage `json:"inputs"`
	// Items is how many items the inputs hold (more than len(Inputs) when batched).
	Items          int     `json:"items"`
	BatchSizes     []int   `json:"batchSizes,omitempty"`
	MaxConcurrency int     `json:"maxConcurrency"`
	TolCount       int     `json:"tolCount"` // -1 when not set
	TolPct         float64 `json:"tolPct"`   // -1 when not set
	// Writer is where ResultWriter exports the results; nil without one.
	Writer *WriterTarget `json:"writer,omitempty"`
}

// WriterTarget is a ResultWriter's evaluated S3 location.
type WriterTarget struct {
	Bucket string `json:"bucket"`
	Prefix string `json:"prefix,omitempty"`
}

func (ItemReaderEffect) isEffect() {}
func (MapRunEffect) isEffect()     {}

// Frame steps of a Distributed Map state.
const (
	stepItems  = "items"  // waits for its ItemReaderEffect
	stepMapRun = "maprun" // waits for its MapRunEffect
)

// MaxDistributedConcurrency is the most child executions a Map Run runs at once.
const MaxDistributedConcurrency = 10000

// distributed is a Map state's Distributed mode configuration.
type distributed struct {
	executionType string
	label         string
	definition    json.RawMessage
	reader        map[string]any // ItemReader, nil without one
	batcher       map[string]any // ItemBatcher, nil without one
	writer        map[string]any // ResultWriter, nil without one
}

var labelPattern = regexp.MustCompile(`^[^\s<>{}\[\]?*"#%\\^|~` + "`" + `$&,;:/\x00-\x1f\x7f-\x9f]{1,40}$`)

// parseDistributed checks and records a Map state's Distributed mode fields.
func (p *parser) parseDistributed(s *state, so, proc, pc map[string]any, loc, field string) {
	d := &distributed{}
	et, hasET := pc["ExecutionType"]
	switch {
	case !hasET:
		p.schemaf(loc+"/"+field+"/ProcessorConfig", "These fields are required: [ExecutionType]")
	case et != Standard && et != Express:
		p.schemaf(loc+"/"+field+"/ProcessorConfig/ExecutionType", "The value for the field 'ExecutionType' must be one of [STANDARD, EXPRESS]")
	default:
		d.executionType = et.(string)
	}
	if p.express {
		p.schemaf(loc+"/"+field+"/ProcessorConfig/Mode", "Express state machine does not support Distributed Map")
	}
	if v, ok := so["Label"]; ok {
		l, isStr := v.(string)
		if !isStr || !labelPattern.MatchString(l) {
			p.schemaf(loc+"/Label", "The value for the field 'Label' must be a valid label: at most 40 characters, without whitespace, brackets, wildcards or special characters")
		}
		d.label = l
	}
	if r, ok := so["ItemReader"]; ok {
		d.reader = p.parseItemReader(s, r, loc+"/ItemReader")
	}
	if b, ok := so["ItemBatcher"]; ok {
		d.batcher = p.parseItemBatcher(s, b, loc+"/ItemBatcher")
	}
	if w, ok := so["ResultWriter"]; ok {
		d.writer = p.parseResultWriter(s, w, loc+"/ResultWriter")
	}
	child := map[string]any{"StartAt": proc["StartAt"], "States": proc["States"]}
	lang := s.lang
	if q, ok := proc["QueryLanguage"].(string); ok {
		lang = q
	}
	if lang == JSONata {
		child["QueryLanguage"] = JSONata
	}
	d.definition = encode(child)
	s.dist = d
}

func (p *parser) object(v any, loc, field string) map[string]any {
	o, ok := v.(map[string]any)
	if !ok {
		p.schemaf(loc, "The value for the field '%s' must be an OBJECT", field)
	}
	return o
}

func (p *parser) parseItemReader(s *state, v any, loc string) map[string]any {
	r := p.object(v, loc, "ItemReader")
	if r == nil {
		return nil
	}
	allowed := []string{"Resource", "ReaderConfig", "Parameters"}
	if s.isJSONata() {
		allowed = []string{"Resource", "ReaderConfig", "Arguments"}
	}
	p.unknownFields(r, loc, allowed)
	res, _ := r["Resource"].(string)
	if _, ok := r["Resource"]; !ok {
		p.schemaf(loc, "These fields are required: [Resource]")
	} else if res != ResourceGetObject && res != ResourceListObjectsV2 {
		p.schemaf(loc+"/Resource", "The value for the field 'Resource' must be one of [%s, %s]", ResourceGetObject, ResourceListObjectsV2)
	}
	if t, ok := r["Parameters"]; ok {
		p.checkTemplate(t, loc+"/Parameters")
	}
	cfg := map[string]any{}
	if c, ok := r["ReaderConfig"]; ok {
		cfg = p.object(c, loc+"/ReaderConfig", "ReaderConfig")
		if cfg == nil {
			return nil
		}
	}
	p.unknownFields(cfg, loc+"/ReaderConfig", []string{"InputType", "CSVHeaderLocation", "CSVHeaders", "CSVDelimiter", "MaxItems", "MaxItemsPath"})
	it, hasIT := cfg["InputType"]
	switch {
	case res == ResourceGetObject && !hasIT:
		p.schemaf(loc+"/ReaderConfig", "These fields are required: [InputType]")
	case res == ResourceListObjectsV2 && hasIT:
		p.schemaf(loc+"/ReaderConfig/InputType", "The field 'InputType' is not supported for resource %s", res)
	case hasIT && it == "PARQUET":
		p.schemaf(loc+"/ReaderConfig/InputType", "The value 'PARQUET' for the field 'InputType' is not supported by this server")
	case hasIT && it != "CSV" && it != "JSON" && it != "JSONL" && it != "MANIFEST":
		p.schemaf(loc+"/ReaderConfig/InputType", "The value for the field 'InputType' must be one of [CSV, JSON, JSONL, MANIFEST, PARQUET]")
	}
	hl, hasHL := cfg["CSVHeaderLocation"]
	if hasHL && hl != "FIRST_ROW" && hl != "GIVEN" {
		p.schemaf(loc+"/ReaderConfig/CSVHeaderLocation", "The value for the field 'CSVHeaderLocation' must be one of [FIRST_ROW, GIVEN]")
	}
	if (hasHL || cfg["CSVHeaders"] != nil || cfg["CSVDelimiter"] != nil) && it != "CSV" {
		p.schemaf(loc+"/ReaderConfig", "The fields 'CSVHeaderLocation', 'CSVHeaders' and 'CSVDelimiter' require the InputType CSV")
	}
	headers, hasHeaders := cfg["CSVHeaders"]
	if hl == "GIVEN" && !hasHeaders {
		p.schemaf(loc+"/ReaderConfig", "The field 'CSVHeaders' is required when 'CSVHeaderLocation' is GIVEN")
	}
	if hasHeaders {
		list, ok := headers.([]any)
		valid := ok && len(list) > 0
		for _, h := range list {
			if _, isStr := h.(string); !isStr {
				valid = false
			}
		}
		if !valid {
			p.schemaf(loc+"/ReaderConfig/CSVHeaders", "The value for the field 'CSVHeaders' must be a non-empty array of STRING")
		}
		if hl != "GIVEN" {
			p.schemaf(loc+"/ReaderConfig/CSVHeaders", "The field 'CSVHeaders' requires 'CSVHeaderLocation' GIVEN")
		}
	}
	if d, ok := cfg["CSVDelimiter"]; ok && csvDelimiter(d) == 0 {
		p.schemaf(loc+"/ReaderConfig/CSVDelimiter", "The value for the field 'CSVDelimiter' must be one of [COMMA, PIPE, SEMICOLON, SPACE, TAB]")
	}
	p.limitFields(s, cfg, loc+"/ReaderConfig", "MaxItems", 0, 100000000)
	return r
}

// csvDelimiter is the rune a CSVDelimiter names, or 0.
func csvDelimiter(v any) rune {
	switch v {
	case nil, "COMMA":
		return ','
	case "PIPE":
		return '|'
	case "SEMICOLON":
		return ';'
	case "SPACE":
		return ' '
	case "TAB":
		return '\t'
	}
	return 0
}

// limitFields checks an integer field given literally, as a JSONata expression, or through
// its Path form (JSONPath states only); at most one of the two.
func (p *parser) limitFields(s *state, o map[string]any, loc, name string, lo, hi int64) {
	v, has := o[name]
	pv, hasPath := o[name+"Path"]
	if has && hasPath {
		p.schemaf(loc, "Only one of '%s' or '%sPath' can be specified", name, name)
	}
	if hasPath {
		if s.isJSONata() {
			p.schemaf(loc, "The field \"%sPath\" is not supported in JSONata query language", name)
		}
		p.checkPathString(pv, loc+"/"+name+"Path", name+"Path")
	}
	if has && !(s.isJSONata() && isJSONataString(v)) {
		n, ok := intValue(v)
		if !ok {
			p.schemaf(loc+"/"+name, "The value for the field '%s' must be an INTEGER", name)
		} else if n < lo || n > hi {
			p.schemaf(loc+"/"+name, "The value for the field '%s' must be between %d and %d", name, lo, hi)
		}
	}
}

func (p *parser) parseItemBatcher(s *state, v any, loc string) map[string]any {
	b := p.object(v, loc, "ItemBatcher")
	if b == nil {
		return nil
	}
	p.unknownFields(b, loc, []string{"MaxItemsPerBatch", "MaxItemsPerBatchPath", "MaxInputBytesPerBatch", "MaxInputBytesPerBatchPath", "BatchInput"})
	p.limitFields(s, b, loc, "MaxItemsPerBatch", 1, 100000000)
	p.limitFields(s, b, loc, "MaxInputBytesPerBatch", 1, 262144)
	_, a := b["MaxItemsPerBatch"]
	_, ap := b["MaxItemsPerBatchPath"]
	_, c := b["MaxInputBytesPerBatch"]
	_, cp := b["MaxInputBytesPerBatchPath"]
	if !a && !ap && !c && !cp {
		p.schemaf(loc, "At least one of 'MaxItemsPerBatch', 'MaxItemsPerBatchPath', 'MaxInputBytesPerBatch' or 'MaxInputBytesPerBatchPath' must be specified")
	}
	if t, ok := b["BatchInput"]; ok && !s.isJSONata() {
		p.checkTemplate(t, loc+"/BatchInput")
	}
	return b
}

func (p *parser) parseResultWriter(s *state, v any, loc string) map[string]any {
	w := p.object(v, loc, "ResultWriter")
	if w == nil {
		return nil
	}
	params := "Parameters"
	if s.isJSONata() {
		params = "Arguments"
	}
	p.unknownFields(w, loc, []string{"Resource", params, "WriterConfig"})
	if _, ok := w["WriterConfig"]; ok {
		p.schemaf(loc+"/WriterConfig", "The field 'WriterConfig' is not supported by this server")
	}
	if res, ok := w["Resource"]; !ok {
		p.schemaf(loc, "These fields are required: [Resource]")
	} else if res != ResourcePutObject {
		p.schemaf(loc+"/Resource", "The value for the field 'Resource' must be %s", ResourcePutObject)
	}
	t, ok := w[params]
	if !ok {
		p.schemaf(loc, "These fields are required: [%s]", params)
	} else if o, isObj := t.(map[string]any); isObj && !s.isJSONata() {
		p.checkTemplate(t, loc+"/"+params)
		_, b := o["Bucket"]
		_, bp := o["Bucket.$"]
		if !b && !bp {
			p.schemaf(loc+"/"+params, "These fields are required: [Bucket]")
		}
	}
	return w
}

// startDistributed begins a Distributed Map state once its input is evaluated: it reads
// its items (ItemReader), or takes them from its input.
func (x *exec) startDistributed(f *Frame, s *state, raw, eff any) error {
	d := s.dist
	if d.reader == nil {
		items, err := x.mapItems(s, raw, eff)
		if err != nil {
			return err
		}
		return x.startMapRun(f, s, raw, eff, items)
	}
	res, _ := d.reader["Resource"].(string)
	e := ItemReaderEffect{ID: x.nextID(), State: s.name, Resource: res}
	params, err := x.fieldTemplate(s, d.reader, raw, eff, "ItemReader")
	if err != nil {
		return err
	}
	e.Parameters = encode(params)
	cfg, _ := d.reader["ReaderConfig"].(map[string]any)
	if cfg != nil {
		e.InputType, _ = cfg["InputType"].(string)
		e.CSVHeaderLocation, _ = cfg["CSVHeaderLocation"].(string)
		if hs, ok := cfg["CSVHeaders"].([]any); ok {
			for _, h := range hs {
				hs, _ := h.(string)
				e.CSVHeaders = append(e.CSVHeaders, hs)
			}
		}
		e.CSVDelimiter, _ = cfg["CSVDelimiter"].(string)
		n, _, err := x.limit(s, cfg, "MaxItems", raw, eff)
		if err != nil {
			return err
		}
		e.MaxItems = n
	}
	f.Wait, f.Step = e.ID, stepItems
	x.effects = append(x.effects, e)
	return nil
}

// fieldTemplate evaluates the Parameters (JSONPath) or Arguments (JSONata) of an ItemReader
// or ResultWriter.
func (x *exec) fieldTemplate(s *state, o map[string]any, raw, eff any, where string) (any, error) {
	if s.isJSONata() {
		t, ok := o["Arguments"]
		if !ok {
			return map[string]any{}, nil
		}
		return x.jsonataValue(t, where+".Arguments", x.statesVar(raw, nil))
	}
	t, ok := o["Parameters"]
	if !ok {
		return map[string]any{}, nil
	}
	return x.template(t, eff)
}

// limit reads an integer field of a Distributed Map's configuration given literally, as
// JSONata or through its Path form.
func (x *exec) limit(s *state, o map[string]any, name string, raw, eff any) (int, bool, error) {
	if v, ok := o[name]; ok {
		if s.isJSONata() && isJSONataString(v) {
			r, err := x.jsonataValue(v, name, x.statesVar(raw, nil))
			if err != nil {
				return 0, false, err
			}
			n, ok := intValue(r)
			if !ok || n < 0 {
				return 0, false, x.evalError(name, fmt.Sprintf("The %s field must evaluate to a valid integer, but was: %s", name, encodeString(r)))
			}
			return int(n), true, nil
		}
		n, _ := intValue(v)
		return int(n), true, nil
	}
	pv, ok := o[name+"Path"].(string)
	if !ok {
		return 0, false, nil
	}
	v, err := x.evalPath(pv, eff)
	if err != nil {
		return 0, false, x.runtime(fmt.Sprintf("The %sPath field refers to a value that does not exist: %s", name, pv))
	}
	n, ok := intValue(v)
	if !ok || n < 0 {
		return 0, false, x.runtime(fmt.Sprintf("The %sPath field refers to value \"%s\" which is not a valid integer: %s", name, plainText(v), pv))
	}
	return int(n), true, nil
}

// distributedReply takes the outcome of a Distributed Map's item reader or Map Run.
func (x *exec) distributedReply(f *Frame, s *state) {
	r := f.Reply
	f.Reply, f.Wait = nil, ""
	raw, eff := decode(f.Input), decode(f.Effective)
	if f.Step == stepItems {
		if r.Failed {
			x.raise(f, s, &stateError{name: r.Error, cause: r.Cause})
			return
		}
		items, ok := decode(r.Output).([]any)
		if !ok {
			x.raise(f, s, newError(errItemReaderFailed, "The item reader did not return an array"))
			return
		}
		if err := x.startMapRun(f, s, raw, eff, items); err != nil {
			x.raise(f, s, err)
		}
		return
	}
	if r.Failed {
		x.emit(f, Event{Type: "MapRunFailed", MapRunFailedEventDetails: &ErrorDetails{Error: optString(r.Error), Cause: optString(r.Cause)}})
		x.raise(f, s, &stateError{name: r.Error, cause: r.Cause})
		return
	}
	x.emit(f, Event{Type: "MapRunSucceeded"})
	x.emit(f, Event{Type: "MapStateSucceeded"})
	if err := x.finish(f, s, raw, decode(r.Output), true); err != nil {
		x.raise(f, s, err)
	}
}

// startMapRun prepares every child's input (ItemSelector, ItemBatcher) and asks the driver
// to run the Map Run.
func (x *exec) startMapRun(f *Frame, s *state, raw, eff any, items []any) error {
	d := s.dist
	fan := &Fan{TolCount: -1, TolPct: -1}
	maxc, err := x.mapMaxConcurrency(s, raw, eff)
	if err != nil {
		return err
	}
	if maxc == 0 || maxc > MaxDistributedConcurrency {
		maxc = MaxDistributedConcurrency
	}
	x.emit(f, Event{Type: "MapStateStarted", MapStateStartedEventDetails: &MapStateStartedEventDetails{Length: len(items)}})
	if err := x.mapTolerance(s, raw, eff, fan); err != nil {
		return err
	}
	inputs := make([]any, len(items))
	for i, it := range items {
		if inputs[i], err = x.itemInput(f, s, i, it); err != nil {
			return err
		}
	}
	e := MapRunEffect{ID: x.nextID(), State: s.name, ExecutionType: d.executionType, Definition: d.definition,
		Items: len(items), MaxConcurrency: maxc, TolCount: fan.TolCount, TolPct: fan.TolPct}
	if d.batcher != nil {
		batches, sizes, err := x.batch(s, raw, eff, inputs)
		if err != nil {
			return err
		}
		inputs, e.BatchSizes = batches, sizes
	}
	e.Inputs = make([]json.RawMessage, len(inputs))
	for i, in := range inputs {
		e.Inputs[i] = encode(in)
	}
	if d.writer != nil {
		params, err := x.fieldTemplate(s, d.writer, raw, eff, "ResultWriter")
		if err != nil {
			return err
		}
		o, _ := params.(map[string]any)
		bucket, _ := o["Bucket"].(string)
		prefix, _ := o["Prefix"].(string)
		if bucket == "" {
			return x.runtime("The ResultWriter's Bucket must be a non-empty string")
		}
		e.Writer = &WriterTarget{Bucket: bucket, Prefix: prefix}
	}
	e.Label = d.label
	if e.Label == "" {
		e.Label = s.name
	}
	machine := x.r.Context.StateMachineArn
	if i := strings.Index(machine, ":stateMachine:"); i >= 0 {
		name := machine[i+len(":stateMachine:"):]
		if j := strings.IndexByte(name, ':'); j >= 0 {
			name = name[:j] // a version or alias
		}
		machine = machine[:i] + ":mapRun:" + name
	}
	e.MapRunArn = machine + "/" + e.Label + ":" + uuid.New()
	x.emit(f, Event{Type: "MapRunStarted", MapRunStartedEventDetails: &MapRunStartedEventDetails{MapRunArn: e.MapRunArn}})
	f.Wait, f.Step = e.ID, stepMapRun
	x.effects = append(x.effects, e)
	return nil
}

// batch groups child inputs as ItemBatcher says: {"Items": [...], "BatchInput": ...}, each
// batch at most MaxItemsPerBatch items and MaxInputBytesPerBatch bytes.
func (x *exec) batch(s *state, raw, eff any, inputs []any) ([]any, []int, error) {
	b := s.dist.batcher
	maxItems, hasItems, err := x.limit(s, b, "MaxItemsPerBatch", raw, eff)
	if err != nil {
		return nil, nil, err
	}
	maxBytes, hasBytes, err := x.limit(s, b, "MaxInputBytesPerBatch", raw, eff)
	if err != nil {
		return nil, nil, err
	}
	if !hasItems || maxItems == 0 {
		maxItems = len(inputs) + 1
	}
	if !hasBytes || maxBytes == 0 || maxBytes > maxPayload {
		maxBytes = maxPayload
	}
	var batchInput any
	t, hasBatchInput := b["BatchInput"]
	if hasBatchInput {
		if s.isJSONata() {
			batchInput, err = x.jsonataValue(t, "BatchInput", x.statesVar(raw, nil))
		} else {
			batchInput, err = x.template(t, eff)
		}
		if err != nil {
			return nil, nil, err
		}
	}
	// the envelope's size without items: {"BatchInput":...,"Items":[]}
	base := len(`{"Items":[]}`)
	if hasBatchInput {
		base += len(`"BatchInput":,`) + len(encode(batchInput))
	}
	var batches []any
	var sizes []int
	var cur []any
	size := base
	flush := func() {
		if len(cur) == 0 {
			return
		}
		env := map[string]any{"Items": cur}
		if hasBatchInput {
			env["BatchInput"] = batchInput
		}
		batches, sizes = append(batches, env), append(sizes, len(cur))
		cur, size = nil, base
	}
	for _, in := range inputs {
		n := len(encode(in))
		if len(cur) > 0 {
			n++ // the comma
		}
		if len(cur) > 0 && (len(cur) >= maxItems || size+n > maxBytes) {
			flush()
			n = len(encode(in))
		}
		if size+n > maxBytes {
			return nil, nil, newError(errDataLimit, "An item exceeds the ItemBatcher's MaxInputBytesPerBatch")
		}
		cur = append(cur, in)
		size += n
	}
	flush()
	return batches, sizes, nil
}
