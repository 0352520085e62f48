package telemetry

import (
	"context"
	"encoding/binary"
	"math/rand/v2"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// propagator reads and writes both trace headers AWS clients send: W3C traceparent and
// X-Amzn-Trace-Id. When both are present the X-Ray header wins, as it does at AWS.
var propagator = propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, xrayPropagator{})

// StartRequest returns ctx carrying a new span context for one request: a child of the trace the
// request headers carry, or the root of a new sampled trace.
func StartRequest(ctx context.Context, h http.Header) context.Context {
	parent := trace.SpanContextFromContext(propagator.Extract(ctx, propagation.HeaderCarrier(h)))
	cfg := trace.SpanContextConfig{SpanID: newSpanID(), TraceFlags: trace.FlagsSampled}
	if parent.IsValid() {
		cfg.TraceID, cfg.TraceFlags, cfg.TraceState = parent.TraceID(), parent.TraceFlags(), parent.TraceState()
	} else {
		cfg.TraceID = newTraceID()
	}
	return trace.ContextWithSpanContext(ctx, trace.NewSpanContext(cfg))
}

// Inject writes ctx's trace context into h as traceparent and X-Amzn-Trace-Id.
func Inject(ctx context.Context, h http.Header) {
	propagator.Inject(ctx, propagation.HeaderCarrier(h))
}

// TraceParent returns ctx's trace context as a W3C traceparent value, or "" when there is none.
// Work that outlives a request (queued messages) stores it.
func TraceParent(ctx context.Context) string {
	h := http.Header{}
	propagation.TraceContext{}.Inject(ctx, propagation.HeaderCarrier(h))
	return h.Get("traceparent")
}

// WithTraceParent returns ctx continuing the trace in a stored traceparent value with a new span.
func WithTraceParent(ctx context.Context, traceparent string) context.Context {
	if traceparent == "" {
		return StartRequest(ctx, nil)
	}
	return StartRequest(ctx, http.Header{"Traceparent": {traceparent}})
}

// TraceID returns the trace id of ctx in hex, or "".
func TraceID(ctx context.Context) string {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() {
		return ""
	}
	return sc.TraceID().String()
}

// newTraceID makes an id X-Ray can also represent: its first four bytes are the epoch second.
func newTraceID() trace.TraceID {
	var id trace.TraceID
	binary.BigEndian.PutUint32(id[:4], uint32(time.Now().Unix()))
	binary.BigEndian.PutUint32(id[4:8], rand.Uint32())
	binary.BigEndian.PutUint64(id[8:], rand.Uint64())
	return id
}

func newSpanID() trace.SpanID {
	var id trace.SpanID
	for id == (trace.SpanID{}) {
		binary.BigEndian.PutUint64(id[:], rand.Uint64())
	}
	return id
}
