package asl

import (
	"regexp"

	"github.com/kiri-run/kiri/internal/jsonobj"
)

// Validation of a Distributed Map's fields (ItemReader, ItemBatcher, ResultWriter, Label) as
// CreateStateMachine checks them; maprun.go runs the state.

// Resources of ItemReader and ResultWriter.
const (
	ResourceGetObject     = "arn:aws:states:::s3:getObject"
	ResourceListObjectsV2 = "arn:aws:states:::s3:listObjectsV2"
	ResourcePutObject     = "arn:aws:states:::s3:putObject"
)

// MaxDistributedConcurrency is the most child executions a Map Run runs at once.
const MaxDistributedConcurrency = 10000

var labelPattern = regexp.MustCompile(`^[^\s<>{}\[\]?*"#%\\^|~` + "`" + `$&,;:/\x00-\x1f\x7f-\x9f]{1,40}$`)

// checkDistributed checks a Distributed Map state's own fields.
func (p *parser) checkDistributed(s *state, so map[string]any, loc string) {
	if p.express {
		p.schemaf(loc+"/ItemProcessor/ProcessorConfig/Mode", "Express state machine does not support Distributed Map")
	}
	if v, ok := so["Label"]; ok {
		l, isStr := v.(string)
		if !isStr || !labelPattern.MatchString(l) {
			p.schemaf(loc+"/Label", "The value for the field 'Label' must be a valid label: at most 40 characters, without whitespace, brackets, wildcards or special characters")
		}
	}
	if r, ok := so["ItemReader"]; ok {
		p.parseItemReader(s, r, loc+"/ItemReader")
	}
	if b, ok := so["ItemBatcher"]; ok {
		p.parseItemBatcher(s, b, loc+"/ItemBatcher")
	}
	if w, ok := so["ResultWriter"]; ok {
		p.parseResultWriter(s, w, loc+"/ResultWriter")
	}
}

// object is an ItemReader's, ItemBatcher's or ResultWriter's object (parseMap reports one
// that is not an object), or its ReaderConfig.
func (p *parser) object(v any, loc, field string) map[string]any {
	o, ok := v.(map[string]any)
	if !ok && field == "ReaderConfig" {
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
	} else if o, isObj := t.(*jsonobj.Object); isObj && !s.isJSONata() {
		p.checkTemplate(t, loc+"/"+params)
		_, b := o.Get("Bucket")
		_, bp := o.Get("Bucket.$")
		if !b && !bp {
			p.schemaf(loc+"/"+params, "These fields are required: [Bucket]")
		}
	}
	return w
}
