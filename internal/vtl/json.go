package vtl

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// JSON returns the compact JSON text of a value, objects in key order and JSON
// numbers as written, as API Gateway's $input.json and json-smart's JSONArray write it.
func JSON(v any) string {
	var b strings.Builder
	writeJSON(&b, v, 0)
	return b.String()
}

func writeJSON(b *strings.Builder, v any, depth int) {
	if b.Len() > MaxOutput {
		return // the template's output limit reports it
	}
	if depth > 1000 {
		b.WriteString("null")
		return
	}
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case string:
		writeJSONString(b, x)
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case json.Number:
		b.WriteString(string(x))
	case *Map:
		b.WriteByte('{')
		i := 0
		for k, v := range x.All() {
			if i > 0 {
				b.WriteByte(',')
			}
			i++
			writeJSONString(b, k)
			b.WriteByte(':')
			writeJSON(b, v, depth+1)
		}
		b.WriteByte('}')
	case *List:
		writeJSONList(b, x.Items, depth)
	case []any:
		writeJSONList(b, x, depth)
	case map[string]any:
		b.WriteByte('{')
		for i, k := range slices.Sorted(maps.Keys(x)) {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSONString(b, k)
			b.WriteByte(':')
			writeJSON(b, x[k], depth+1)
		}
		b.WriteByte('}')
	case int, int64, float64:
		b.WriteString(String(x))
	default:
		data, err := json.Marshal(x)
		if err != nil {
			writeJSONString(b, String(x))
			return
		}
		b.Write(data)
	}
}

func writeJSONList(b *strings.Builder, items []any, depth int) {
	b.WriteByte('[')
	for i, e := range items {
		if i > 0 {
			b.WriteByte(',')
		}
		writeJSON(b, e, depth+1)
	}
	b.WriteByte(']')
}

// writeJSONString quotes s as Jackson does: quote, backslash and control characters
// escaped, nothing else.
func writeJSONString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c == '\t':
			b.WriteString(`\t`)
		case c == '\b':
			b.WriteString(`\b`)
		case c == '\f':
			b.WriteString(`\f`)
		case c < 0x20:
			fmt.Fprintf(b, `\u%04X`, c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
}
