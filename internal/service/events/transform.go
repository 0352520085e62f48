package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
)

// A path is a JSONPath as InputPath and InputPathsMap take it: $ followed by .name,
// ['name'] and [index] steps.
type path []pathStep

type pathStep struct {
	name  string
	index int // -1 for a name
}

func parsePath(s string) (path, error) {
	if !strings.HasPrefix(s, "$") {
		return nil, errors.New("JSON path must start with $")
	}
	var p path
	rest := s[1:]
	for rest != "" {
		switch rest[0] {
		case '.':
			end := strings.IndexAny(rest[1:], ".[")
			if end < 0 {
				end = len(rest) - 1
			}
			name := rest[1 : 1+end]
			if name == "" {
				return nil, fmt.Errorf("invalid JSON path %s", s)
			}
			p = append(p, pathStep{name: name, index: -1})
			rest = rest[1+end:]
		case '[':
			end := strings.IndexByte(rest, ']')
			if end < 0 {
				return nil, fmt.Errorf("invalid JSON path %s", s)
			}
			inner := rest[1:end]
			if len(inner) >= 2 && (inner[0] == '\'' || inner[0] == '"') && inner[len(inner)-1] == inner[0] {
				p = append(p, pathStep{name: inner[1 : len(inner)-1], index: -1})
			} else if n, err := strconv.Atoi(inner); err == nil && n >= 0 {
				p = append(p, pathStep{index: n})
			} else {
				return nil, fmt.Errorf("invalid JSON path %s", s)
			}
			rest = rest[end+1:]
		default:
			return nil, fmt.Errorf("invalid JSON path %s", s)
		}
	}
	return p, nil
}

// lookup returns the value p names in v, and whether there is one.
func (p path) lookup(v any) (any, bool) {
	for _, st := range p {
		switch x := v.(type) {
		case map[string]any:
			if st.index >= 0 {
				return nil, false
			}
			var ok bool
			if v, ok = x[st.name]; !ok {
				return nil, false
			}
		case []any:
			if st.index < 0 || st.index >= len(x) {
				return nil, false
			}
			v = x[st.index]
		default:
			return nil, false
		}
	}
	return v, true
}

// decodeEvent decodes an event for paths to look into, keeping numbers as they were written.
func decodeEvent(event []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(event))
	d.UseNumber()
	var v any
	err := d.Decode(&v)
	return v, err
}

// marshal writes v as JSON without escaping HTML characters, as EventBridge writes it.
func marshal(v any) []byte {
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	_ = e.Encode(v)
	return bytes.TrimRight(b.Bytes(), "\n")
}

// transformer is a compiled InputTransformer: the template cut into literal text and
// placeholders, each knowing whether it stands inside a JSON string.
type transformer struct {
	text  bool // the template is not JSON: values go in as plain text
	parts []templatePart
	paths map[string]path
}

type templatePart struct {
	literal  string
	name     string // a placeholder's variable; "" for literal text
	inString bool
}

// Variables EventBridge defines for every template.
const (
	varRuleARN       = "aws.events.rule-arn"
	varRuleName      = "aws.events.rule-name"
	varIngestionTime = "aws.events.event.ingestion-time"
	varEvent         = "aws.events.event"
	varEventJSON     = "aws.events.event.json"
)

var reservedVars = map[string]bool{varRuleARN: true, varRuleName: true, varIngestionTime: true, varEvent: true, varEventJSON: true}

// maxInputPaths is the most entries an InputPathsMap holds.
const maxInputPaths = 100

func compileTransformer(it *InputTransformer) (*transformer, error) {
	if len(it.InputPathsMap) > maxInputPaths {
		return nil, validation("InputPathsMap can have at most %d entries.", maxInputPaths)
	}
	t := &transformer{paths: map[string]path{}}
	for k, v := range it.InputPathsMap {
		if strings.HasPrefix(k, "aws.events.") {
			return nil, validation("Input path map key %s is not valid: keys may not start with aws.events.", k)
		}
		if !validName(k, 256, false) {
			return nil, validation("Input path map key %s is not valid.", k)
		}
		p, err := parsePath(v)
		if err != nil {
			return nil, validation("Parameter InputPathsMap is not valid. Reason: %v", err)
		}
		t.paths[k] = p
	}
	tmpl := awsproto.Value(it.InputTemplate)
	trimmed := strings.TrimSpace(tmpl)
	t.text = trimmed == "" || !strings.ContainsRune("{[\"", rune(trimmed[0]))
	inString := false
	lit := strings.Builder{}
	flush := func() {
		if lit.Len() > 0 {
			t.parts = append(t.parts, templatePart{literal: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(tmpl); i++ {
		c := tmpl[i]
		switch {
		case c == '\\' && inString && i+1 < len(tmpl):
			lit.WriteByte(c)
			i++
			lit.WriteByte(tmpl[i])
			continue
		case c == '"' && !t.text:
			inString = !inString
		case c == '<':
			if end := strings.IndexByte(tmpl[i:], '>'); end > 0 {
				name := tmpl[i+1 : i+end]
				if _, ok := t.paths[name]; ok || reservedVars[name] {
					flush()
					t.parts = append(t.parts, templatePart{name: name, inString: inString})
					i += end
					continue
				}
			}
		}
		lit.WriteByte(c)
	}
	flush()
	return t, nil
}

// apply renders the template for one event (decoded, and as its JSON text) matched by a rule.
func (t *transformer) apply(event []byte, decoded any, ruleARN, ruleName string, ingested time.Time) []byte {
	var out []byte
	for _, p := range t.parts {
		if p.name == "" {
			out = append(out, p.literal...)
			continue
		}
		var v any
		ok := true
		switch p.name {
		case varRuleARN:
			v = ruleARN
		case varRuleName:
			v = ruleName
		case varIngestionTime:
			v = ingested.UTC().Format(time.RFC3339)
		case varEvent, varEventJSON:
			v = json.RawMessage(event)
		default:
			v, ok = t.paths[p.name].lookup(decoded)
		}
		out = t.appendValue(out, v, ok, p.inString)
	}
	return out
}

// appendValue writes one placeholder's value: bare in JSON as JSON (null when the path names
// nothing), inside a JSON string as escaped text (a string without its quotes), in a text
// template as plain text.
func (t *transformer) appendValue(out []byte, v any, ok, inString bool) []byte {
	s, isString := v.(string)
	switch {
	case t.text:
		if !ok {
			return out
		}
		if isString {
			return append(out, s...)
		}
		return append(out, marshal(v)...)
	case inString:
		if !ok {
			return out
		}
		if !isString {
			s = string(marshal(v))
		}
		q := marshal(s)
		return append(out, q[1:len(q)-1]...)
	case !ok:
		return append(out, "null"...)
	}
	return append(out, marshal(v)...)
}
