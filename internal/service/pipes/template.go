package pipes

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Input templates (Amazon EventBridge User Guide, "Amazon EventBridge Pipes input
// transformation"): free text, or JSON, with placeholders <$.path> (a JSON path into the
// event; an SQS body that holds JSON is read as that JSON) and the reserved variables
// <aws.pipes.pipe-arn>, <aws.pipes.pipe-name>, <aws.pipes.source-arn>,
// <aws.pipes.enrichment-arn>, <aws.pipes.target-arn>, <aws.pipes.event.ingestion-time>,
// <aws.pipes.event> and <aws.pipes.event.json>. In a JSON template a placeholder inside quotes
// is replaced by the value as string content, and one outside quotes by the value as JSON;
// in free text a string is inserted as it is, any other value as JSON.

// template is a parsed input template.
type template struct {
	parts []templatePart
	json  bool // the template is JSON: an object or an array
}

// templatePart is literal text, or a placeholder (path or variable) inside or outside quotes.
type templatePart struct {
	text     string
	path     []pathStep
	variable string
	quoted   bool
}

// pathStep is one step of a JSON path: a member name, an array index, or * (every element).
type pathStep struct {
	name  string
	index int // -1 for a name, -2 for *
}

// reservedVariables are the variables a template may name.
var reservedVariables = map[string]bool{"aws.pipes.pipe-arn": true, "aws.pipes.pipe-name": true, "aws.pipes.source-arn": true,
	"aws.pipes.enrichment-arn": true, "aws.pipes.target-arn": true, "aws.pipes.event.ingestion-time": true,
	"aws.pipes.event": true, "aws.pipes.event.json": true}

// parseTemplate parses an input template.
func parseTemplate(src string) (*template, error) {
	t := &template{}
	trimmed := strings.TrimSpace(src)
	t.json = strings.HasPrefix(trimmed, "{") || strings.HasPrefix(trimmed, "[")
	var lit strings.Builder
	inString := false
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch {
		case c == '\\' && inString && i+1 < len(src):
			lit.WriteByte(c)
			lit.WriteByte(src[i+1])
			i++
			continue
		case c == '"' && t.json:
			inString = !inString
		case c == '<':
			end := strings.IndexByte(src[i:], '>')
			if end < 0 {
				break
			}
			name := src[i+1 : i+end]
			part := templatePart{quoted: inString}
			switch {
			case strings.HasPrefix(name, "$"):
				path, err := parsePath(name)
				if err != nil {
					return nil, err
				}
				part.path = path
			case strings.HasPrefix(name, "aws.pipes."):
				if !reservedVariables[name] {
					return nil, errors.New("Invalid InputTemplate: unknown variable <" + name + ">.")
				}
				part.variable = name
			default:
				lit.WriteByte(c)
				continue
			}
			if lit.Len() > 0 {
				t.parts = append(t.parts, templatePart{text: lit.String()})
				lit.Reset()
			}
			t.parts = append(t.parts, part)
			i += end
			continue
		}
		lit.WriteByte(c)
	}
	if lit.Len() > 0 {
		t.parts = append(t.parts, templatePart{text: lit.String()})
	}
	return t, nil
}

// parsePath parses a JSON path of the syntax Pipes supports: $ followed by .name, [index] and
// [*] or .* steps.
func parsePath(p string) ([]pathStep, error) {
	bad := errors.New("Invalid InputTemplate: invalid JSON path <" + p + ">.")
	if p == "$" {
		return nil, nil
	}
	rest := p[1:]
	var steps []pathStep
	for rest != "" {
		switch rest[0] {
		case '.':
			rest = rest[1:]
			n := strings.IndexAny(rest, ".[")
			if n < 0 {
				n = len(rest)
			}
			name := rest[:n]
			if name == "" {
				return nil, bad
			}
			if name == "*" {
				steps = append(steps, pathStep{index: -2})
			} else {
				steps = append(steps, pathStep{name: name, index: -1})
			}
			rest = rest[n:]
		case '[':
			n := strings.IndexByte(rest, ']')
			if n < 0 {
				return nil, bad
			}
			in := rest[1:n]
			if in == "*" {
				steps = append(steps, pathStep{index: -2})
			} else if i, err := strconv.Atoi(in); err == nil && i >= 0 {
				steps = append(steps, pathStep{index: i})
			} else {
				return nil, bad
			}
			rest = rest[n+1:]
		default:
			return nil, bad
		}
	}
	return steps, nil
}

// templateVars are the values of the reserved variables for one event.
type templateVars struct {
	pipeARN, pipeName, sourceARN, enrichmentARN, targetARN string
	ingestion                                              time.Time
}

// render fills the template in for event (its JSON).
func (t *template) render(event []byte, vars templateVars) []byte {
	var doc any
	parsed := decodeJSON(event, &doc) == nil
	var out bytes.Buffer
	for _, p := range t.parts {
		if p.path == nil && p.variable == "" {
			out.WriteString(p.text)
			continue
		}
		var v any
		found := true
		switch p.variable {
		case "":
			if parsed {
				v, found = lookup(doc, p.path)
			} else {
				found = false
			}
		case "aws.pipes.event":
			v = string(event)
		case "aws.pipes.event.json":
			if !parsed {
				found = false
				break
			}
			v = expandBody(doc)
		default:
			v = vars.value(p.variable)
		}
		t.insert(&out, v, found, p.quoted)
	}
	return out.Bytes()
}

// insert writes a placeholder's value as the template and its position call for.
func (t *template) insert(out *bytes.Buffer, v any, found, quoted bool) {
	if !found {
		if t.json && !quoted {
			out.WriteString("null")
		}
		return
	}
	s, isString := v.(string)
	switch {
	case quoted:
		if !isString {
			s = string(encodeJSON(v))
		}
		b := encodeJSON(s)
		out.Write(b[1 : len(b)-1])
	case t.json || !isString:
		out.Write(encodeJSON(v))
	default:
		out.WriteString(s)
	}
}

func (v templateVars) value(name string) any {
	switch name {
	case "aws.pipes.pipe-arn":
		return v.pipeARN
	case "aws.pipes.pipe-name":
		return v.pipeName
	case "aws.pipes.source-arn":
		return v.sourceARN
	case "aws.pipes.enrichment-arn":
		return v.enrichmentARN
	case "aws.pipes.target-arn":
		return v.targetARN
	}
	return v.ingestion.UTC().Format("2006-01-02T15:04:05.000Z")
}

// lookup follows path into doc; a string that holds JSON (an SQS body) is read as that JSON.
// A * step collects the matches of the rest of the path under each element.
func lookup(doc any, path []pathStep) (any, bool) {
	if len(path) == 0 {
		return doc, true
	}
	if s, ok := doc.(string); ok {
		var inner any
		if decodeJSON([]byte(s), &inner) != nil {
			return nil, false
		}
		doc = inner
	}
	step := path[0]
	switch d := doc.(type) {
	case map[string]any:
		if step.index == -2 {
			var all []any
			for _, k := range sortedKeys(d) {
				if v, ok := lookup(d[k], path[1:]); ok {
					all = append(all, v)
				}
			}
			return all, true
		}
		v, ok := d[step.name]
		if !ok || step.index != -1 {
			return nil, false
		}
		return lookup(v, path[1:])
	case []any:
		switch {
		case step.index == -2:
			all := make([]any, 0, len(d))
			for _, e := range d {
				if v, ok := lookup(e, path[1:]); ok {
					all = append(all, v)
				}
			}
			return all, true
		case step.index >= 0 && step.index < len(d):
			return lookup(d[step.index], path[1:])
		}
	}
	return nil, false
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// expandBody is an event with an SQS body that holds JSON replaced by that JSON (implicit
// body data parsing).
func expandBody(doc any) any {
	m, ok := doc.(map[string]any)
	if !ok || m["eventSource"] != "aws:sqs" {
		return doc
	}
	body, ok := m["body"].(string)
	if !ok {
		return doc
	}
	var inner any
	if decodeJSON([]byte(body), &inner) != nil {
		return doc
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	out["body"] = inner
	return out
}

// decodeJSON decodes one JSON value, keeping numbers as they are written.
func decodeJSON(b []byte, v *any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		return err
	}
	if d.More() {
		return errors.New("trailing data")
	}
	return nil
}

// encodeJSON encodes v without HTML escaping.
func encodeJSON(v any) []byte {
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	_ = e.Encode(v)
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}
