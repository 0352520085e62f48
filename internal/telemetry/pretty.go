package telemetry

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"
)

// prettyHandler writes log records for a person at a terminal: the time of day, then a request
// line as "200 s3.PutObject PUT /photos/cat.jpg 1.2ms", any other record as its level, message
// and key=value attributes.
type prettyHandler struct {
	mu    *sync.Mutex
	w     io.Writer
	level slog.Leveler
	attrs []slog.Attr // from WithAttrs, keys already qualified by their groups
	group string      // "a.b." prefix for later attributes
}

func newPrettyHandler(w io.Writer, level slog.Leveler) *prettyHandler {
	return &prettyHandler{mu: &sync.Mutex{}, w: w, level: level}
}

func (h *prettyHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level.Level() }

func (h *prettyHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append(c.attrs[:len(c.attrs):len(c.attrs)], h.qualify(attrs)...)
	return &c
}

func (h *prettyHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	c := *h
	c.group += name + "."
	return &c
}

func (h *prettyHandler) qualify(attrs []slog.Attr) []slog.Attr {
	out := make([]slog.Attr, 0, len(attrs))
	for _, a := range attrs {
		out = appendFlat(out, h.group, a)
	}
	return out
}

// appendFlat appends a, with groups flattened into dotted keys.
func appendFlat(out []slog.Attr, prefix string, a slog.Attr) []slog.Attr {
	v := a.Value.Resolve()
	if v.Kind() == slog.KindGroup {
		p := prefix
		if a.Key != "" {
			p += a.Key + "."
		}
		for _, g := range v.Group() {
			out = appendFlat(out, p, g)
		}
		return out
	}
	if a.Key == "" {
		return out
	}
	return append(out, slog.Attr{Key: prefix + a.Key, Value: v})
}

func (h *prettyHandler) Handle(_ context.Context, r slog.Record) error {
	attrs := append([]slog.Attr(nil), h.attrs...)
	r.Attrs(func(a slog.Attr) bool {
		attrs = appendFlat(attrs, h.group, a)
		return true
	})
	var b bytes.Buffer
	b.WriteString(r.Time.Format("15:04:05.000"))
	b.WriteByte(' ')
	if r.Message == "request" && attrValue(attrs, "status") != "" {
		writeRequest(&b, attrs)
	} else {
		fmt.Fprintf(&b, "%-5s %s", r.Level, r.Message)
		for _, a := range attrs {
			b.WriteByte(' ')
			b.WriteString(a.Key)
			b.WriteByte('=')
			b.WriteString(quoteIfNeeded(formatValue(a.Value)))
		}
	}
	b.WriteByte('\n')
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := h.w.Write(b.Bytes())
	return err
}

// writeRequest writes the edge's request record: status, service.Operation, method and path,
// duration; an error, with the request id to find it by, goes on a second line.
func writeRequest(b *bytes.Buffer, attrs []slog.Attr) {
	fmt.Fprintf(b, "%s %s.%s", attrValue(attrs, "status"), attrValue(attrs, "service"), attrValue(attrs, "operation"))
	if m := attrValue(attrs, "method"); m != "" {
		fmt.Fprintf(b, " %s %s", m, attrValue(attrs, "path"))
	}
	b.WriteByte(' ')
	b.WriteString(attrValue(attrs, "duration"))
	if e := attrValue(attrs, "error"); e != "" {
		fmt.Fprintf(b, "\n    error (request %s): %s", attrValue(attrs, "request_id"), strings.ReplaceAll(e, "\n", "\n    "))
	}
}

func attrValue(attrs []slog.Attr, key string) string {
	for _, a := range attrs {
		if a.Key == key {
			return formatValue(a.Value)
		}
	}
	return ""
}

func formatValue(v slog.Value) string {
	switch v.Kind() {
	case slog.KindDuration:
		return roundDuration(v.Duration()).String()
	case slog.KindTime:
		return v.Time().Format(time.RFC3339)
	default:
		return v.String()
	}
}

// roundDuration keeps three significant digits or so: 1.234ms, 56.8µs, 2.05s.
func roundDuration(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond)
	case d >= time.Microsecond:
		return d.Round(100 * time.Nanosecond)
	}
	return d
}

func quoteIfNeeded(s string) string {
	if s == "" || strings.ContainsAny(s, " \t\n\"=") {
		return strconv.Quote(s)
	}
	return s
}
