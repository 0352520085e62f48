package jsonata

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// matcher runs a regex (or a function that behaves like one) over s and
// returns its first match object, or nil.
func (c *call) firstMatch(m any, s string) *object {
	r := c.env.ev.apply(m, []any{s}, nil, c.env)
	return c.checkMatch(r)
}

func (c *call) checkMatch(r any) *object {
	if r == nil {
		return nil
	}
	o, ok := r.(*object)
	if !ok {
		throw(&Error{Code: "T1010"})
	}
	_, hasStart := o.vals["start"].(float64)
	_, hasGroups := o.vals["groups"].(*array)
	if !hasStart && !hasGroups && !isFunction(o.vals["next"]) {
		throw(&Error{Code: "T1010"})
	}
	return o
}

func (c *call) nextMatch(o *object) *object {
	next := o.vals["next"]
	if !isFunction(next) {
		return nil
	}
	return c.checkMatch(c.env.ev.apply(next, []any{}, nil, c.env))
}

func numField(o *object, k string) int {
	f, _ := o.vals[k].(float64)
	return int(f)
}

func limitArg(v any, code string, index int) (int, bool) {
	if v == nil {
		return math.MaxInt, true
	}
	f := v.(float64)
	if f < 0 {
		throw(&Error{Code: code, Value: f, index: index})
	}
	return int(f), f > 0
}

func runeSlice(s string, from, to int) string {
	r := []rune(s)
	from = max(0, min(from, len(r)))
	to = max(from, min(to, len(r)))
	return string(r[from:to])
}

func fnContains(c *call, a []any) any {
	if a[0] == nil || a[1] == nil {
		return nil
	}
	s := a[0].(string)
	if t, ok := a[1].(string); ok {
		return strings.Contains(s, t)
	}
	return c.firstMatch(a[1], s) != nil
}

func fnMatch(c *call, a []any) any {
	if a[0] == nil {
		return nil
	}
	limit, some := limitArg(a[2], "D3040", 3)
	out := newSeq()
	if !some {
		return out
	}
	m := c.firstMatch(a[1], a[0].(string))
	for count := 0; m != nil && count < limit; count++ {
		o := newObject(3)
		o.set("match", m.vals["match"])
		o.set("index", m.vals["start"])
		o.set("groups", m.vals["groups"])
		out.push(o)
		m = c.nextMatch(m)
	}
	return out
}

func fnReplace(c *call, a []any) any {
	if a[0] == nil {
		return nil
	}
	s := a[0].(string)
	if a[1] == "" {
		throw(&Error{Code: "D3010", Value: "", index: 2})
	}
	limit, some := limitArg(a[3], "D3011", 4)
	if !some {
		return s
	}
	if pat, ok := a[1].(string); ok {
		rep, ok := a[2].(string)
		if !ok {
			throw(&Error{Code: "T0410", Value: a[2], index: 3})
		}
		return strings.Replace(s, pat, rep, min(limit, math.MaxInt32))
	}
	m := c.firstMatch(a[1], s)
	if m == nil {
		return s
	}
	var sb strings.Builder
	pos := 0
	for count := 0; m != nil && count < limit; count++ {
		start := numField(m, "start")
		text, _ := m.vals["match"].(string)
		sb.WriteString(runeSlice(s, pos, start))
		var with any
		if rep, ok := a[2].(string); ok {
			with = substitute(rep, m)
		} else {
			with = c.env.ev.apply(a[2], []any{m}, nil, c.env)
		}
		ws, ok := with.(string)
		if !ok {
			throw(&Error{Code: "D3012", Value: with})
		}
		sb.WriteString(ws)
		pos = start + utf8.RuneCountInString(text)
		m = c.nextMatch(m)
	}
	sb.WriteString(runeSlice(s, pos, math.MaxInt))
	return sb.String()
}

// substitute expands $0, $1... and $$ in a replacement string.
func substitute(rep string, m *object) string {
	var groups []any
	if g, ok := m.vals["groups"].(*array); ok {
		groups = g.items
	}
	match, _ := m.vals["match"].(string)
	var sb strings.Builder
	pos := 0
	for {
		i := strings.IndexByte(rep[pos:], '$')
		if i < 0 {
			break
		}
		i += pos
		sb.WriteString(rep[pos:i])
		pos = i + 1
		if pos >= len(rep) {
			sb.WriteByte('$')
			break
		}
		switch d := rep[pos]; {
		case d == '$':
			sb.WriteByte('$')
			pos++
		case d == '0':
			sb.WriteString(match)
			pos++
		default:
			maxDigits := 1
			if len(groups) > 0 {
				maxDigits = int(math.Floor(math.Log10(float64(len(groups))))) + 1
			}
			idx, n := leadingInt(rep[pos:], maxDigits)
			if maxDigits > 1 && idx > len(groups) {
				idx, n = leadingInt(rep[pos:], maxDigits-1)
			}
			if n == 0 {
				sb.WriteByte('$')
				continue
			}
			if len(groups) > 0 && idx >= 1 && idx <= len(groups) {
				if g, ok := groups[idx-1].(string); ok {
					sb.WriteString(g)
				}
			}
			pos += len(strconv.Itoa(idx))
		}
	}
	if pos < len(rep) {
		sb.WriteString(rep[pos:])
	}
	return sb.String()
}

func leadingInt(s string, maxDigits int) (int, int) {
	n := 0
	for n < len(s) && n < maxDigits && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	if n == 0 {
		return 0, 0
	}
	v, _ := strconv.Atoi(s[:n])
	return v, n
}

func fnSplit(c *call, a []any) any {
	if a[0] == nil {
		return nil
	}
	s := a[0].(string)
	limit, some := limitArg(a[2], "D3020", 3)
	out := &array{items: []any{}}
	if !some {
		return out
	}
	if sep, ok := a[1].(string); ok {
		var parts []string
		if sep == "" {
			for _, r := range s {
				parts = append(parts, string(r))
			}
		} else {
			parts = strings.Split(s, sep)
		}
		for i, p := range parts {
			if i >= limit {
				break
			}
			out.push(p)
		}
		return out
	}
	m := c.firstMatch(a[1], s)
	if m == nil {
		out.push(s)
		return out
	}
	start, count := 0, 0
	for ; m != nil && count < limit; count++ {
		out.push(runeSlice(s, start, numField(m, "start")))
		start = numField(m, "end")
		m = c.nextMatch(m)
	}
	if count < limit {
		out.push(runeSlice(s, start, math.MaxInt))
	}
	return out
}
