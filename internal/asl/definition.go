package asl

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/kiri-run/kiri/internal/jsonobj"
	"github.com/kiri-run/kiri/internal/jsonpath"
)

// block is one set of states: the top level, a Parallel branch or a Map's item processor.
type block struct {
	startAt string
	states  map[string]*state
	order   []string
}

// optPath is a JSONPath field that may be absent (the default "$" applies), null (discard)
// or a path.
type optPath struct {
	set  bool
	null bool
	text string
}

type retrier struct {
	errorEquals []string
	interval    float64
	maxAttempts int
	backoff     float64
	maxDelay    float64
	hasMaxDelay bool
	jitterFull  bool
}

type catcher struct {
	errorEquals []string
	next        string
	resultPath  optPath
	assign      any
	hasAssign   bool
	output      any
	hasOutput   bool
}

type state struct {
	name, typ, lang string
	next            string
	end             bool
	raw             map[string]any
	path            string // /States/Name for diagnostics

	inputPath, outputPath, resultPath  optPath
	parameters, resultSelector         any
	hasParameters, hasResultSelector   bool
	result                             any
	hasResult                          bool
	arguments, output, assign          any
	hasArguments, hasOutput, hasAssign bool

	resource string
	retry    []retrier
	catch    []catcher

	choices []*choiceRule
	dflt    string

	errorField, causeField any // literal strings or JSONata
	errorPath, causePath   string

	branches        []int
	processor       int
	legacyIterator  bool
	distributed     bool   // ProcessorConfig.Mode DISTRIBUTED: the items run as child executions
	executionType   string // their type, STANDARD or EXPRESS
	childDefinition []byte // the item processor as a state machine definition of its own
	itemsPath       optPath
	items           any
	hasItems        bool
	itemSelector    any
	hasItemSelector bool
}

func (s *state) field(name string) (any, bool) {
	v, ok := s.raw[name]
	return v, ok
}

type parser struct {
	m       *Machine
	diags   []Diagnostic
	names   map[string]bool
	express bool
}

func (p *parser) errorf(loc, code, format string, args ...any) {
	p.diags = append(p.diags, Diagnostic{Severity: "ERROR", Code: code, Message: fmt.Sprintf(format, args...), Location: loc})
}

func (p *parser) schemaf(loc, format string, args ...any) {
	p.errorf(loc, "SCHEMA_VALIDATION_FAILED", format, args...)
}

// decodeJSON decodes JSON keeping numbers as json.Number so their text survives and objects
// as *jsonobj.Object so their key order does. Errors are encoding/json's.
func decodeJSON(b []byte) (any, error) {
	if v, err := jsonobj.Decode(b); err == nil {
		return v, nil
	}
	v, err := decodeStd(b)
	if err != nil {
		return nil, err
	}
	return jsonobj.Ordered(v), nil // nested deeper than jsonobj reads
}

func decodeStd(b []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	if d.More() {
		return nil, fmt.Errorf("unexpected data after the JSON value")
	}
	if _, err := d.Token(); err == nil {
		return nil, fmt.Errorf("unexpected data after the JSON value")
	}
	return v, nil
}

func parse(definition []byte, machineType string) (*Machine, []Diagnostic) {
	p := &parser{m: &Machine{definition: append(json.RawMessage(nil), definition...)}, names: map[string]bool{}, express: machineType == Express}
	if len(bytes.TrimSpace(definition)) == 0 {
		p.schemaf("", "Definition must be a valid JSON object")
		return nil, p.diags
	}
	v, err := decodeJSON(definition)
	if err != nil {
		// located as Jackson, which AWS parses with, locates its errors
		where := jsonErrorSource(definition, err)
		p.errorf(where, "INVALID_JSON_DESCRIPTION", "%s\n at %s", err.Error(), where)
		return nil, p.diags
	}
	top, ok := definitionTree(v, false).(map[string]any)
	if !ok {
		p.schemaf("", "Definition must be a valid JSON object")
		return nil, p.diags
	}
	lang := JSONPath
	if q, ok := top["QueryLanguage"]; ok {
		s, _ := q.(string)
		if s != JSONPath && s != JSONata {
			p.schemaf("/QueryLanguage", "The value for the field 'QueryLanguage' must be one of [JSONPath, JSONata]")
		} else {
			lang = s
		}
	}
	allowed := []string{"Comment", "StartAt", "States", "Version", "TimeoutSeconds", "QueryLanguage"}
	p.unknownFields(top, "", allowed)
	if ts, ok := top["TimeoutSeconds"]; ok {
		n, ok := intValue(ts)
		if !ok || n <= 0 || n > 99999999 {
			p.schemaf("/TimeoutSeconds", "The value for the field 'TimeoutSeconds' must be a positive integer")
		}
		p.m.timeout = int(n)
	}
	p.parseBlock(top, "", lang)
	if len(p.diags) > 0 {
		return nil, p.diags
	}
	return p.m, nil
}

// templateFields hold payload templates and literal data, whose keys come out in the order
// written: they stay *jsonobj.Object. The rest of a definition is read as maps.
var templateFields = map[string]bool{"Parameters": true, "ResultSelector": true, "Result": true,
	"Arguments": true, "Output": true, "Assign": true, "ItemSelector": true, "BatchInput": true, "Items": true,
	"Credentials": true}

// definitionTree turns a decoded definition's objects into maps, but for template fields;
// inStates says v is a States object, whose keys are state names.
func definitionTree(v any, inStates bool) any {
	switch x := v.(type) {
	case *jsonobj.Object:
		m := make(map[string]any, x.Len())
		for k, e := range x.All() {
			switch {
			case inStates:
				m[k] = definitionTree(e, false)
			case templateFields[k]:
				m[k] = e
			default:
				m[k] = definitionTree(e, k == "States")
			}
		}
		return m
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = definitionTree(e, false)
		}
		return out
	}
	return v
}

// jsonErrorSource writes where a JSON syntax error is as Jackson does:
// [Source: (String)"..."; line: 1, column: 4].
func jsonErrorSource(def []byte, err error) string {
	offset := len(def)
	var se *json.SyntaxError
	if errors.As(err, &se) {
		offset = int(se.Offset)
	}
	offset = min(offset, len(def))
	line, col := 1, 1
	for _, c := range def[:offset] {
		if c == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	src := string(def)
	if len(src) > 500 {
		src = src[:500] + "[truncated " + strconv.Itoa(len(def)-500) + " chars]"
	}
	return fmt.Sprintf("[Source: (String)%q; line: %d, column: %d]", src, line, col-1)
}

func (p *parser) unknownFields(obj map[string]any, loc string, allowed []string) {
	keys := slices.Sorted(maps.Keys(obj))
	for _, k := range keys {
		if !slices.Contains(allowed, k) {
			p.schemaf(loc, "Field '%s' is not supported by Step Functions", k)
		}
	}
}

// parseBlock parses StartAt and States of obj (at loc) and returns the block's index.
func (p *parser) parseBlock(obj map[string]any, loc, lang string) int {
	b := &block{states: map[string]*state{}}
	id := len(p.m.blocks)
	p.m.blocks = append(p.m.blocks, b)
	var missing []string
	for _, f := range []string{"States", "StartAt"} {
		if _, present := obj[f]; !present {
			missing = append(missing, f)
		}
	}
	if len(missing) > 0 {
		at := loc
		if at == "" {
			at = "/"
		}
		p.schemaf(at, "These fields are required: [%s]", strings.Join(missing, ", "))
	}
	startAt, ok := obj["StartAt"].(string)
	if _, present := obj["StartAt"]; present && !ok {
		p.schemaf(loc+"/StartAt", "The value for the field 'StartAt' must be a STRING")
	}
	b.startAt = startAt
	states, ok := obj["States"].(map[string]any)
	if _, present := obj["States"]; !present {
		return id
	} else if !ok {
		p.schemaf(loc+"/States", "The value for the field 'States' must be an OBJECT")
		return id
	}
	names := slices.Sorted(maps.Keys(states))
	b.order = names
	for _, n := range names {
		sloc := loc + "/States/" + n
		if p.names[n] {
			p.errorf(sloc, "DUPLICATE_STATE_NAME", "Duplicate State name: %s", n)
		}
		p.names[n] = true
		if len(n) > 80 {
			p.errorf(sloc, "INVALID_STATE_NAME", "State name is too long: %s", n)
		}
		so, ok := states[n].(map[string]any)
		if !ok {
			p.schemaf(sloc, "The value for the field '%s' must be an OBJECT", n)
			continue
		}
		if s := p.parseState(n, so, sloc, lang); s != nil {
			b.states[n] = s
		}
	}
	if len(states) == 0 {
		p.schemaf(loc+"/States", "The value for the field 'States' must contain at least one state")
	} else if _, ok := states[startAt]; !ok {
		p.errorf(loc+"/StartAt", "MISSING_TRANSITION_TARGET", "Missing 'Next' target: %s", startAt)
	}
	p.checkTransitions(b, loc)
	return id
}

func (p *parser) checkTransitions(b *block, loc string) {
	terminal, missingTarget := false, false
	reach := map[string]bool{}
	var visit func(n string)
	visit = func(n string) {
		s := b.states[n]
		if s == nil || reach[n] {
			return
		}
		reach[n] = true
		for _, t := range s.targets() {
			visit(t)
		}
	}
	visit(b.startAt)
	for _, n := range b.order {
		s := b.states[n]
		if s == nil {
			continue
		}
		if s.end || s.typ == "Succeed" || s.typ == "Fail" {
			terminal = true
		}
		for _, t := range s.targetFields() {
			if _, ok := b.states[t.name]; !ok && t.name != "" {
				p.errorf(s.path+t.loc, "MISSING_TRANSITION_TARGET", "Missing 'Next' target: %s", t.name)
				missingTarget = true
			}
		}
		if !reach[n] && b.states[b.startAt] != nil {
			p.errorf(s.path, "MISSING_TRANSITION_TARGET", "State \"%s\" is not reachable.", n)
		}
	}
	// a missing target may well be the missing terminal state: it is reported alone
	if !terminal && len(b.states) > 0 && !missingTarget {
		p.errorf(loc, "MISSING_END_STATE", "Workflow has no terminal state")
	}
}

type target struct{ name, loc string }

func (s *state) targetFields() []target {
	var ts []target
	if s.next != "" {
		ts = append(ts, target{s.next, "/Next"})
	}
	for i, c := range s.choices {
		ts = append(ts, target{c.next, fmt.Sprintf("/Choices[%d]/Next", i)})
	}
	if s.dflt != "" {
		ts = append(ts, target{s.dflt, "/Default"})
	}
	for i, c := range s.catch {
		ts = append(ts, target{c.next, fmt.Sprintf("/Catch[%d]/Next", i)})
	}
	return ts
}

func (s *state) targets() []string {
	var out []string
	for _, t := range s.targetFields() {
		out = append(out, t.name)
	}
	return out
}

var stateFields = map[string][]string{
	"Pass":     {"Result", "ResultPath", "Parameters", "InputPath", "OutputPath", "Next", "End", "Output", "Assign"},
	"Task":     {"Resource", "Parameters", "ResultPath", "ResultSelector", "InputPath", "OutputPath", "Next", "End", "Retry", "Catch", "TimeoutSeconds", "TimeoutSecondsPath", "HeartbeatSeconds", "HeartbeatSecondsPath", "Credentials", "Arguments", "Output", "Assign"},
	"Choice":   {"Choices", "Default", "InputPath", "OutputPath", "Output", "Assign"},
	"Wait":     {"Seconds", "SecondsPath", "Timestamp", "TimestampPath", "InputPath", "OutputPath", "Next", "End", "Output", "Assign"},
	"Succeed":  {"InputPath", "OutputPath", "Output"},
	"Fail":     {"Error", "ErrorPath", "Cause", "CausePath"},
	"Parallel": {"Branches", "Parameters", "ResultPath", "ResultSelector", "InputPath", "OutputPath", "Next", "End", "Retry", "Catch", "Arguments", "Output", "Assign"},
	"Map":      {"Iterator", "ItemProcessor", "ItemsPath", "Items", "ItemSelector", "Parameters", "MaxConcurrency", "MaxConcurrencyPath", "ResultPath", "ResultSelector", "InputPath", "OutputPath", "Next", "End", "Retry", "Catch", "ToleratedFailureCount", "ToleratedFailureCountPath", "ToleratedFailurePercentage", "ToleratedFailurePercentagePath", "ItemReader", "ItemBatcher", "ResultWriter", "Label", "Arguments", "Output", "Assign"},
}

// jsonPathOnly and jsonataOnly are the fields each query language forbids in the other.
var jsonPathOnly = []string{"InputPath", "OutputPath", "ResultPath", "Parameters", "ResultSelector", "ItemsPath", "SecondsPath", "TimestampPath", "ErrorPath", "CausePath", "TimeoutSecondsPath", "HeartbeatSecondsPath", "MaxConcurrencyPath", "ToleratedFailureCountPath", "ToleratedFailurePercentagePath", "Iterator"}
var jsonataOnly = []string{"Arguments", "Output", "Items"}

func (p *parser) parseState(name string, so map[string]any, loc, parentLang string) *state {
	s := &state{name: name, raw: so, path: loc, lang: parentLang}
	typ, ok := so["Type"].(string)
	if _, present := so["Type"]; !present {
		p.schemaf(loc, "These fields are required: [Type]")
		return nil
	}
	fields, known := stateFields[typ]
	if !ok || !known {
		p.schemaf(loc+"/Type", "The value for the field 'Type' must be one of [Choice, Fail, Map, Parallel, Pass, Succeed, Task, Wait]")
		return nil
	}
	s.typ = typ
	if q, ok := so["QueryLanguage"]; ok {
		qs, _ := q.(string)
		switch {
		case qs != JSONPath && qs != JSONata:
			p.schemaf(loc+"/QueryLanguage", "The value for the field 'QueryLanguage' must be one of [JSONPath, JSONata]")
		case parentLang == JSONata && qs == JSONPath:
			p.schemaf(loc, "'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine")
		default:
			s.lang = qs
		}
	}
	p.unknownFields(so, loc, append([]string{"Type", "Comment", "QueryLanguage"}, fields...))
	for _, f := range jsonPathOnly {
		if _, ok := so[f]; ok && s.lang == JSONata {
			p.schemaf(loc, "The field \"%s\" is not supported in JSONata query language", f)
		}
	}
	for _, f := range jsonataOnly {
		if _, ok := so[f]; ok && s.lang == JSONPath {
			p.schemaf(loc, "The field \"%s\" is not supported when QueryLanguage is JSONPath", f)
		}
	}
	str := func(f string) string {
		v, ok := so[f]
		if !ok {
			return ""
		}
		sv, ok := v.(string)
		if !ok {
			p.schemaf(loc+"/"+f, "The value for the field '%s' must be a STRING", f)
		}
		return sv
	}
	s.next = str("Next")
	if e, ok := so["End"]; ok {
		b, isBool := e.(bool)
		if !isBool {
			p.schemaf(loc+"/End", "The value for the field 'End' must be a BOOLEAN")
		}
		s.end = b
	}
	switch typ {
	case "Choice", "Succeed", "Fail":
	default:
		if s.next != "" && s.end {
			p.schemaf(loc, "Only one of 'Next' or 'End' can be specified")
		} else if s.next == "" && !s.end {
			p.schemaf(loc, "This state must have exactly one of 'Next' or 'End'")
		}
	}
	s.inputPath = p.optPath(so, "InputPath", loc)
	s.outputPath = p.optPath(so, "OutputPath", loc)
	s.resultPath = p.optPath(so, "ResultPath", loc)
	s.parameters, s.hasParameters = so["Parameters"]
	s.resultSelector, s.hasResultSelector = so["ResultSelector"]
	s.result, s.hasResult = so["Result"]
	s.arguments, s.hasArguments = so["Arguments"]
	s.output, s.hasOutput = so["Output"]
	s.assign, s.hasAssign = so["Assign"]
	if s.hasParameters {
		p.checkTemplate(s.parameters, loc+"/Parameters")
	}
	if s.hasResultSelector {
		p.checkTemplate(s.resultSelector, loc+"/ResultSelector")
	}
	if s.hasAssign {
		p.checkAssign(s.assign, loc+"/Assign", s.lang)
	}
	switch typ {
	case "Task":
		s.resource = str("Resource")
		if _, ok := so["Resource"]; !ok {
			p.schemaf(loc, "These fields are required: [Resource]")
		} else if !strings.HasPrefix(s.resource, "arn:") {
			p.errorf(loc+"/Resource", "INVALID_RESOURCE", "Invalid Resource: %s", s.resource)
		} else if p.express {
			p.checkExpressResource(s.resource, loc+"/Resource")
		}
		hb, hasHB := intValue(so["HeartbeatSeconds"])
		to, hasTO := intValue(so["TimeoutSeconds"])
		if hasHB && hasTO && hb >= to {
			p.schemaf(loc+"/HeartbeatSeconds", "HeartbeatSeconds must be smaller than TimeoutSeconds")
		}
	case "Choice":
		p.parseChoices(s, so, loc)
	case "Wait":
		if ts, ok := so["Timestamp"].(string); ok && s.lang == JSONPath {
			if _, valid := parseTimestamp(ts); !valid {
				p.schemaf(loc+"/Timestamp", "The value for the field 'Timestamp' must be a valid ISO-8601 extended offset date-time")
			}
		}
		n := 0
		for _, f := range []string{"Seconds", "SecondsPath", "Timestamp", "TimestampPath"} {
			if _, ok := so[f]; ok {
				n++
			}
		}
		if n != 1 {
			p.schemaf(loc, "A Wait state must contain exactly one of 'Seconds', 'SecondsPath', 'Timestamp' or 'TimestampPath'")
		}
		for _, f := range []string{"SecondsPath", "TimestampPath"} {
			if v, ok := so[f]; ok {
				p.checkPathString(v, loc+"/"+f, f)
			}
		}
	case "Fail":
		s.errorField, s.causeField = so["Error"], so["Cause"]
		s.errorPath, s.causePath = str("ErrorPath"), str("CausePath")
		if _, ok := so["Error"]; ok && so["ErrorPath"] != nil {
			p.schemaf(loc, "Only one of 'Error' or 'ErrorPath' can be specified")
		}
		if _, ok := so["Cause"]; ok && so["CausePath"] != nil {
			p.schemaf(loc, "Only one of 'Cause' or 'CausePath' can be specified")
		}
	case "Parallel":
		br, ok := so["Branches"].([]any)
		if !ok {
			p.schemaf(loc, "These fields are required: [Branches]")
		}
		for i, b := range br {
			bo, ok := b.(map[string]any)
			if !ok {
				p.schemaf(fmt.Sprintf("%s/Branches[%d]", loc, i), "The value must be an OBJECT")
				continue
			}
			p.unknownFields(bo, fmt.Sprintf("%s/Branches[%d]", loc, i), []string{"StartAt", "States", "Comment", "QueryLanguage"})
			s.branches = append(s.branches, p.parseBlock(bo, fmt.Sprintf("%s/Branches[%d]", loc, i), s.lang))
		}
	case "Map":
		p.parseMap(s, so, loc)
	}
	if typ == "Task" || typ == "Parallel" || typ == "Map" {
		p.parseRetryCatch(s, so, loc)
	}
	if s.lang == JSONata {
		p.checkJSONata(so, loc)
	}
	p.checkNumbers(so, loc, s.lang)
	return s
}

// numberFields are the numeric fields of states, with whether they take integers only and
// their least value.
var numberFields = []struct {
	name    string
	integer bool
	min     float64
}{
	{"Seconds", true, 0}, {"TimeoutSeconds", true, 1}, {"HeartbeatSeconds", true, 1},
	{"MaxConcurrency", true, 0}, {"ToleratedFailureCount", true, 0}, {"ToleratedFailurePercentage", false, 0},
}

// checkNumbers checks numeric fields: numbers in JSONPath states, numbers or expressions in
// JSONata states.
func (p *parser) checkNumbers(so map[string]any, loc, lang string) {
	for _, nf := range numberFields {
		v, ok := so[nf.name]
		if !ok || lang == JSONata && isJSONataString(v) {
			continue
		}
		f, isNum := floatValue(v)
		_, isInt := intValue(v)
		switch {
		case !isNum || nf.integer && !isInt:
			p.schemaf(loc+"/"+nf.name, "The value for the field '%s' must be %s", nf.name, map[bool]string{true: "an INTEGER", false: "a NUMBER"}[nf.integer])
		case f < nf.min || nf.name == "ToleratedFailurePercentage" && f > 100:
			p.schemaf(loc+"/"+nf.name, "The value for the field '%s' is out of range", nf.name)
		}
	}
}

// checkExpressResource refuses the integration patterns Express state machines lack.
func (p *parser) checkExpressResource(resource, loc string) {
	switch {
	case strings.HasSuffix(resource, ".waitForTaskToken"):
		p.schemaf(loc, "Express state machine does not support '.waitForTaskToken' service integration ")
	case strings.HasSuffix(resource, ".sync") || strings.Contains(resource, ".sync:"):
		p.schemaf(loc, "Express state machine does not support '.sync' service integration ")
	case kindOf(resource) == kindActivity:
		p.schemaf(loc, "Express state machine does not support Activity resources ")
	}
}

// jsonataFields are the fields of a JSONata state that may hold {% expressions %}.
var jsonataFields = []string{"Arguments", "Output", "Assign", "Items", "ItemSelector", "Error", "Cause",
	"Seconds", "Timestamp", "TimeoutSeconds", "HeartbeatSeconds", "MaxConcurrency", "ToleratedFailureCount",
	"ToleratedFailurePercentage", "Credentials", "Choices", "Catch"}

// checkJSONata compiles every expression of a JSONata state so a syntax error is a
// definition error, not a failed execution.
func (p *parser) checkJSONata(so map[string]any, loc string) {
	var walk func(v any, at string)
	walk = func(v any, at string) {
		switch t := v.(type) {
		case string:
			if isJSONataString(t) {
				if err := compileJSONata(jsonataBody(t)); err != nil {
					p.schemaf(at, "The value for the field '%s' must be a valid JSONata expression: %s", at[strings.LastIndexByte(at, '/')+1:], err.Error())
				}
			}
		case map[string]any:
			keys := slices.Sorted(maps.Keys(t))
			for _, k := range keys {
				walk(t[k], at+"/"+k)
			}
		case *jsonobj.Object:
			for k, e := range t.All() {
				walk(e, at+"/"+k)
			}
		case []any:
			for i, e := range t {
				walk(e, fmt.Sprintf("%s[%d]", at, i))
			}
		}
	}
	for _, f := range jsonataFields {
		if v, ok := so[f]; ok {
			walk(v, loc+"/"+f)
		}
	}
}

func (p *parser) parseMap(s *state, so map[string]any, loc string) {
	proc, ok := so["ItemProcessor"].(map[string]any)
	field := "ItemProcessor"
	if !ok {
		proc, ok = so["Iterator"].(map[string]any)
		field = "Iterator"
		s.legacyIterator = ok
	}
	if !ok {
		p.schemaf(loc, "These fields are required: [ItemProcessor]")
		return
	}
	allowed := []string{"StartAt", "States", "Comment", "ProcessorConfig", "QueryLanguage"}
	p.unknownFields(proc, loc+"/"+field, allowed)
	if pc, ok := proc["ProcessorConfig"].(map[string]any); ok {
		p.unknownFields(pc, loc+"/"+field+"/ProcessorConfig", []string{"Mode", "ExecutionType"})
		if mode, ok := pc["Mode"]; ok && mode != "INLINE" && mode != "DISTRIBUTED" {
			p.schemaf(loc+"/"+field+"/ProcessorConfig/Mode", "The value for the field 'Mode' must be one of [INLINE, DISTRIBUTED]")
		}
		if pc["Mode"] == "DISTRIBUTED" {
			s.distributed, s.executionType = true, Standard
			if et, ok := pc["ExecutionType"]; ok {
				if et != Standard && et != Express {
					p.schemaf(loc+"/"+field+"/ProcessorConfig/ExecutionType", "The value for the field 'ExecutionType' must be one of [STANDARD, EXPRESS]")
				}
				s.executionType, _ = et.(string)
			}
			child := map[string]any{"StartAt": proc["StartAt"], "States": proc["States"]}
			if q, ok := proc["QueryLanguage"]; ok {
				child["QueryLanguage"] = q
			} else if s.lang == JSONata {
				child["QueryLanguage"] = JSONata
			}
			s.childDefinition = encode(child)
			p.checkDistributed(s, so, loc)
		}
	}
	s.itemsPath = p.optPath(so, "ItemsPath", loc)
	s.items, s.hasItems = so["Items"]
	s.itemSelector, s.hasItemSelector = so["ItemSelector"]
	if s.hasItemSelector && s.hasParameters {
		p.schemaf(loc, "Only one of 'ItemSelector' or 'Parameters' can be specified")
	}
	for _, f := range []string{"ItemReader", "ItemBatcher", "ResultWriter", "Label"} {
		v, ok := so[f]
		if !ok {
			continue
		}
		if !s.distributed {
			p.schemaf(loc+"/"+f, "The field '%s' is supported only when the ItemProcessor's Mode is DISTRIBUTED", f)
			continue
		}
		if _, isObj := v.(map[string]any); !isObj && f != "Label" {
			p.schemaf(loc+"/"+f, "The value for the field '%s' must be an OBJECT", f)
		}
	}
	for _, f := range []string{"MaxConcurrencyPath", "ToleratedFailureCountPath", "ToleratedFailurePercentagePath"} {
		if v, ok := so[f]; ok {
			p.checkPathString(v, loc+"/"+f, f)
		}
	}
	express := p.express
	if s.distributed {
		// Express children take what Express state machines take
		p.express = s.executionType == Express
	}
	s.processor = p.parseBlock(proc, loc+"/"+field, s.lang)
	p.express = express
}

func (p *parser) parseRetryCatch(s *state, so map[string]any, loc string) {
	if r, ok := so["Retry"]; ok {
		list, ok := r.([]any)
		if !ok {
			p.schemaf(loc+"/Retry", "The value for the field 'Retry' must be an ARRAY")
		}
		for i, x := range list {
			rl := fmt.Sprintf("%s/Retry[%d]", loc, i)
			ro, ok := x.(map[string]any)
			if !ok {
				p.schemaf(rl, "The value must be an OBJECT")
				continue
			}
			p.unknownFields(ro, rl, []string{"ErrorEquals", "IntervalSeconds", "MaxAttempts", "BackoffRate", "MaxDelaySeconds", "JitterStrategy", "Comment"})
			rt := retrier{interval: 1, maxAttempts: 3, backoff: 2}
			rt.errorEquals = p.errorEquals(ro, rl)
			if v, ok := ro["IntervalSeconds"]; ok {
				n, ok := intValue(v)
				if !ok || n < 1 {
					p.schemaf(rl+"/IntervalSeconds", "The value for the field 'IntervalSeconds' must be a positive integer")
				}
				rt.interval = float64(n)
			}
			if v, ok := ro["MaxAttempts"]; ok {
				n, ok := intValue(v)
				if !ok || n < 0 {
					p.schemaf(rl+"/MaxAttempts", "The value for the field 'MaxAttempts' must be a non-negative integer")
				}
				rt.maxAttempts = int(n)
			}
			if v, ok := ro["BackoffRate"]; ok {
				f, ok := floatValue(v)
				if !ok || f < 1 {
					p.schemaf(rl+"/BackoffRate", "The value for the field 'BackoffRate' must be a number greater than or equal to 1.0")
				}
				rt.backoff = f
			}
			if v, ok := ro["MaxDelaySeconds"]; ok {
				n, ok := intValue(v)
				if !ok || n < 1 {
					p.schemaf(rl+"/MaxDelaySeconds", "The value for the field 'MaxDelaySeconds' must be a positive integer")
				}
				rt.maxDelay, rt.hasMaxDelay = float64(n), true
			}
			if v, ok := ro["JitterStrategy"]; ok {
				js, _ := v.(string)
				if js != "FULL" && js != "NONE" {
					p.schemaf(rl+"/JitterStrategy", "The value for the field 'JitterStrategy' must be one of [FULL, NONE]")
				}
				rt.jitterFull = js == "FULL"
			}
			if i < len(list)-1 && slices.Contains(rt.errorEquals, errALL) {
				p.schemaf(rl+"/ErrorEquals", "States.ALL must appear in the last retrier only")
			}
			s.retry = append(s.retry, rt)
		}
	}
	if c, ok := so["Catch"]; ok {
		list, ok := c.([]any)
		if !ok {
			p.schemaf(loc+"/Catch", "The value for the field 'Catch' must be an ARRAY")
		}
		for i, x := range list {
			cl := fmt.Sprintf("%s/Catch[%d]", loc, i)
			co, ok := x.(map[string]any)
			if !ok {
				p.schemaf(cl, "The value must be an OBJECT")
				continue
			}
			p.unknownFields(co, cl, []string{"ErrorEquals", "Next", "ResultPath", "Comment", "Assign", "Output"})
			ct := catcher{errorEquals: p.errorEquals(co, cl)}
			ct.next, _ = co["Next"].(string)
			if ct.next == "" {
				p.schemaf(cl, "These fields are required: [Next]")
			}
			ct.resultPath = p.optPath(co, "ResultPath", cl)
			ct.assign, ct.hasAssign = co["Assign"]
			if ct.hasAssign {
				p.checkAssign(ct.assign, cl+"/Assign", s.lang)
			}
			ct.output, ct.hasOutput = co["Output"]
			if i < len(list)-1 && slices.Contains(ct.errorEquals, errALL) {
				p.schemaf(cl+"/ErrorEquals", "States.ALL must appear in the last catcher only")
			}
			s.catch = append(s.catch, ct)
		}
	}
}

func (p *parser) errorEquals(o map[string]any, loc string) []string {
	list, ok := o["ErrorEquals"].([]any)
	if !ok || len(list) == 0 {
		p.schemaf(loc, "These fields are required: [ErrorEquals]")
		return nil
	}
	var out []string
	for i, e := range list {
		s, ok := e.(string)
		if !ok {
			p.schemaf(fmt.Sprintf("%s/ErrorEquals[%d]", loc, i), "The value must be a STRING")
		}
		out = append(out, s)
	}
	if slices.Contains(out, "States.ALL") && len(out) > 1 {
		p.schemaf(loc+"/ErrorEquals", "States.ALL must appear alone in ErrorEquals")
	}
	return out
}

func (p *parser) optPath(o map[string]any, f, loc string) optPath {
	v, ok := o[f]
	if !ok {
		return optPath{}
	}
	if v == nil {
		return optPath{set: true, null: true}
	}
	s, ok := v.(string)
	if !ok {
		p.schemaf(loc+"/"+f, "The value for the field '%s' must be a STRING", f)
		return optPath{}
	}
	if !validPath(s) {
		p.schemaf(loc+"/"+f, "The value for the field '%s' must be a valid JSONPath", f)
		return optPath{}
	}
	return optPath{set: true, text: s}
}

func (p *parser) checkPathString(v any, loc, f string) {
	s, ok := v.(string)
	if !ok {
		p.schemaf(loc, "The value for the field '%s' must be a STRING", f)
		return
	}
	if !validPath(s) {
		p.schemaf(loc, "The value for the field '%s' must be a valid JSONPath", f)
	}
}

// validPath reports whether s is a reference path of a JSONPath state: a path into the
// input ($...), the context object ($$...) or a variable ($name...).
func validPath(s string) bool {
	switch {
	case strings.HasPrefix(s, "$$"):
		s = s[1:]
	case len(s) > 1 && s[0] == '$' && s[1] != '.' && s[1] != '[':
		i := strings.IndexAny(s, ".[")
		if i < 0 {
			return true
		}
		s = "$" + s[i:]
	case !strings.HasPrefix(s, "$"):
		return false
	}
	_, err := jsonpath.Parse(s)
	return err == nil
}

// checkTemplate checks that every ".$" key of a payload template holds a string.
func (p *parser) checkTemplate(v any, loc string) {
	switch x := v.(type) {
	case *jsonobj.Object:
		for k, e := range x.All() {
			if strings.HasSuffix(k, ".$") {
				s, ok := e.(string)
				if !ok {
					p.schemaf(loc+"/"+k, "The value for the field '%s' must be a STRING that contains a JSONPath", k)
				} else if strings.HasPrefix(s, "States.") {
					if _, err := parseIntrinsic(s); err != nil {
						p.schemaf(loc+"/"+k, "The value for the field '%s' must be a valid JSONPath or a valid intrinsic function call", k)
					}
				} else if !validPath(s) {
					p.schemaf(loc+"/"+k, "The value for the field '%s' must be a valid JSONPath or a valid intrinsic function call", k)
				}
				continue
			}
			p.checkTemplate(e, loc+"/"+k)
		}
	case []any:
		for i, e := range x {
			p.checkTemplate(e, fmt.Sprintf("%s[%d]", loc, i))
		}
	}
}

// checkAssign checks an Assign field: an object whose keys name variables (a ".$" suffix
// marks a path or intrinsic function in JSONPath states).
func (p *parser) checkAssign(v any, loc, lang string) {
	obj, ok := v.(*jsonobj.Object)
	if !ok {
		p.schemaf(loc, "The value for the field 'Assign' must be an OBJECT")
		return
	}
	for k := range obj.All() {
		name := k
		if lang == JSONPath {
			name = strings.TrimSuffix(k, ".$")
		}
		if !validVariableName(name) {
			p.schemaf(loc+"/"+k, "The variable name '%s' is not valid: it must start with a letter or '_', contain only letters, digits and '_', and be at most 80 characters long", name)
		}
	}
	if lang == JSONPath {
		p.checkTemplate(v, loc)
	}
}

func validVariableName(s string) bool {
	if s == "" || utf8.RuneCountInString(s) > 80 {
		return false
	}
	for i, r := range s {
		if r == '_' || unicode.IsLetter(r) || i > 0 && unicode.IsDigit(r) {
			continue
		}
		return false
	}
	return true
}

func isJSONataString(v any) bool {
	s, ok := v.(string)
	return ok && strings.HasPrefix(s, "{%") && strings.HasSuffix(s, "%}")
}

// intValue reads an integral JSON number.
func intValue(v any) (int64, bool) {
	switch n := v.(type) {
	case json.Number:
		if i, err := n.Int64(); err == nil {
			return i, true
		}
		f, err := n.Float64()
		if err == nil && f == float64(int64(f)) && !strings.ContainsAny(string(n), ".eE") {
			return int64(f), true
		}
	case float64:
		if n == float64(int64(n)) {
			return int64(n), true
		}
	case int:
		return int64(n), true
	case int64:
		return n, true
	}
	return 0, false
}

func floatValue(v any) (float64, bool) {
	switch n := v.(type) {
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	case float64:
		return n, true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	}
	return 0, false
}
