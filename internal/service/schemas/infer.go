package schemas

import (
	"encoding/json"
	"math"
	"sort"
	"strings"
	"time"
	"unicode"
)

// shape is what is known of a JSON value from the events seen: its type, a format for strings,
// the properties of an object (Required: those every event had) and the items of an array.
type shape struct {
	Type     string
	Format   string
	Props    map[string]*shape
	Required map[string]bool
	Items    *shape
}

// discoveredName is the name AWS gives a discovered schema: SOURCE@DetailType, the detail-type
// in PascalCase without its separators ("Object Created" → aws.s3@ObjectCreated).
func discoveredName(source, detailType string) string {
	return source + "@" + pascal(detailType)
}

func pascal(s string) string {
	var b strings.Builder
	up := true
	for _, r := range s {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			up = true
			continue
		}
		if up {
			r = unicode.ToUpper(r)
			up = false
		}
		b.WriteRune(r)
	}
	if b.Len() == 0 {
		return "Event"
	}
	return b.String()
}

// infer is the shape of one value.
func infer(v any) *shape {
	switch v := v.(type) {
	case map[string]any:
		sh := &shape{Type: "object", Props: map[string]*shape{}, Required: map[string]bool{}}
		for k, e := range v {
			sh.Props[k] = infer(e)
			sh.Required[k] = true
		}
		return sh
	case []any:
		sh := &shape{Type: "array"}
		for _, e := range v {
			sh.Items = merge(sh.Items, infer(e))
		}
		return sh
	case string:
		sh := &shape{Type: "string"}
		if _, err := time.Parse(time.RFC3339, v); err == nil {
			sh.Format = "date-time"
		}
		return sh
	case float64:
		if v == math.Trunc(v) && math.Abs(v) < 1<<53 {
			return &shape{Type: "number"}
		}
		return &shape{Type: "number", Format: "double"}
	case bool:
		return &shape{Type: "boolean"}
	}
	return &shape{}
}

// merge is a shape that admits what a and b admit: properties of both, required only when both
// require them.
func merge(a, b *shape) *shape {
	if a == nil {
		return b
	}
	if b == nil {
		return a
	}
	if a.Type == "" {
		return b
	}
	if b.Type == "" || a.Type != b.Type {
		return a
	}
	out := &shape{Type: a.Type, Format: a.Format}
	if a.Format != b.Format {
		out.Format = ""
		if a.Type == "number" && (a.Format == "double" || b.Format == "double") {
			out.Format = "double"
		}
	}
	switch a.Type {
	case "object":
		out.Props, out.Required = map[string]*shape{}, map[string]bool{}
		for k, p := range a.Props {
			out.Props[k] = merge(p, b.Props[k])
			out.Required[k] = a.Required[k] && b.Required[k]
		}
		for k, p := range b.Props {
			if _, ok := a.Props[k]; !ok {
				out.Props[k] = p
			}
		}
	case "array":
		out.Items = merge(a.Items, b.Items)
	}
	return out
}

// document writes the OpenAPI 3 document of an event's shape as AWS's discovered schemas are:
// the envelope is the AWSEvent component, its detail and each nested object a component of its
// own named after its property in PascalCase.
func document(sh *shape, source, detailType string) string {
	comps := map[string]any{}
	detailName := pascal(detailType)
	names := map[string]bool{"AWSEvent": true}
	var component func(name string, sh *shape) string
	var schemaOf func(prop string, sh *shape) map[string]any
	schemaOf = func(prop string, sh *shape) map[string]any {
		if sh == nil || sh.Type == "" {
			return map[string]any{}
		}
		switch sh.Type {
		case "object":
			return map[string]any{"$ref": "#/components/schemas/" + component(pascal(prop), sh)}
		case "array":
			out := map[string]any{"type": "array"}
			out["items"] = schemaOf(prop+" item", sh.Items)
			return out
		}
		out := map[string]any{"type": sh.Type}
		if sh.Format != "" {
			out["format"] = sh.Format
		}
		return out
	}
	component = func(name string, sh *shape) string {
		base := name
		for i := 2; names[name]; i++ {
			name = base + itoa(i)
		}
		names[name] = true
		props := map[string]any{}
		keys := make([]string, 0, len(sh.Props))
		for k := range sh.Props {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var req []string
		for _, k := range keys {
			props[k] = schemaOf(k, sh.Props[k])
			if sh.Required[k] {
				req = append(req, k)
			}
		}
		c := map[string]any{"type": "object", "properties": props}
		if len(req) > 0 {
			c["required"] = req
		}
		comps[name] = c
		return name
	}
	root := map[string]any{"type": "object"}
	if sh != nil && sh.Type == "object" {
		props := map[string]any{}
		var req []string
		keys := make([]string, 0, len(sh.Props))
		for k := range sh.Props {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if k == "detail" && sh.Props[k].Type == "object" {
				props[k] = map[string]any{"$ref": "#/components/schemas/" + component(detailName, sh.Props[k])}
			} else {
				props[k] = schemaOf(k, sh.Props[k])
			}
			if sh.Required[k] {
				req = append(req, k)
			}
		}
		root["properties"] = props
		if len(req) > 0 {
			root["required"] = req
		}
	}
	root["x-amazon-events-source"] = source
	root["x-amazon-events-detail-type"] = detailType
	comps["AWSEvent"] = root
	doc := map[string]any{
		"openapi":    "3.0.0",
		"info":       map[string]any{"version": "1.0.0", "title": detailName},
		"paths":      map[string]any{},
		"components": map[string]any{"schemas": comps},
	}
	b, _ := json.MarshalIndent(doc, "", "  ")
	return string(b)
}

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}

// shapeOfDocument reads back the shape a discovered document was written from, so a new batch
// of events merges with what earlier versions saw.
func shapeOfDocument(content string) *shape {
	var doc struct {
		Components struct {
			Schemas map[string]map[string]any `json:"schemas"`
		} `json:"components"`
	}
	if json.Unmarshal([]byte(content), &doc) != nil {
		return nil
	}
	comps := doc.Components.Schemas
	var read func(s map[string]any, depth int) *shape
	read = func(s map[string]any, depth int) *shape {
		if depth > 64 {
			return &shape{}
		}
		if ref, ok := s["$ref"].(string); ok {
			c, ok := comps[strings.TrimPrefix(ref, "#/components/schemas/")]
			if !ok {
				return &shape{}
			}
			return read(c, depth+1)
		}
		sh := &shape{Type: str(s["type"]), Format: str(s["format"])}
		switch sh.Type {
		case "object":
			sh.Props, sh.Required = map[string]*shape{}, map[string]bool{}
			props, _ := s["properties"].(map[string]any)
			for k, p := range props {
				pm, _ := p.(map[string]any)
				sh.Props[k] = read(pm, depth+1)
			}
			req, _ := s["required"].([]any)
			for _, r := range req {
				sh.Required[str(r)] = true
			}
		case "array":
			if it, ok := s["items"].(map[string]any); ok && len(it) > 0 {
				sh.Items = read(it, depth+1)
			}
		}
		return sh
	}
	root, ok := comps["AWSEvent"]
	if !ok {
		return nil
	}
	return read(root, 0)
}
