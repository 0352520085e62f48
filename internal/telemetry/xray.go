package telemetry

import (
	"context"
	"encoding/hex"
	"strings"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// xrayHeader is the header AWS services and X-Ray SDKs carry trace context in:
// "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1".
const xrayHeader = "X-Amzn-Trace-Id"

// xrayPropagator reads and writes X-Amzn-Trace-Id. It is written here rather than taken from
// OpenTelemetry contrib, whose package links the whole tracing SDK for an ID generator.
type xrayPropagator struct{}

var _ propagation.TextMapPropagator = xrayPropagator{}

// Inject writes sc as an X-Amzn-Trace-Id header.
func (xrayPropagator) Inject(ctx context.Context, carrier propagation.TextMapCarrier) {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() {
		return
	}
	tid := sc.TraceID().String()
	sampled := "0"
	if sc.IsSampled() {
		sampled = "1"
	}
	carrier.Set(xrayHeader, "Root=1-"+tid[:8]+"-"+tid[8:]+";Parent="+sc.SpanID().String()+";Sampled="+sampled)
}

// Extract returns ctx with the remote span context an X-Amzn-Trace-Id header carries, or ctx
// unchanged when the header is absent or malformed.
func (xrayPropagator) Extract(ctx context.Context, carrier propagation.TextMapCarrier) context.Context {
	sc, ok := parseXRay(carrier.Get(xrayHeader))
	if !ok {
		return ctx
	}
	return trace.ContextWithRemoteSpanContext(ctx, sc)
}

// Fields names the header this propagator uses.
func (xrayPropagator) Fields() []string { return []string{xrayHeader} }

func parseXRay(v string) (trace.SpanContext, bool) {
	var cfg trace.SpanContextConfig
	for part := range strings.SplitSeq(v, ";") {
		key, val, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch key {
		case "Root":
			// 1-<8 hex epoch>-<24 hex random>
			if len(val) != 35 || val[:2] != "1-" || val[10] != '-' {
				return trace.SpanContext{}, false
			}
			if _, err := hex.Decode(cfg.TraceID[:4], []byte(val[2:10])); err != nil {
				return trace.SpanContext{}, false
			}
			if _, err := hex.Decode(cfg.TraceID[4:], []byte(val[11:])); err != nil {
				return trace.SpanContext{}, false
			}
		case "Parent":
			if len(val) != 16 {
				return trace.SpanContext{}, false
			}
			if _, err := hex.Decode(cfg.SpanID[:], []byte(val)); err != nil {
				return trace.SpanContext{}, false
			}
		case "Sampled":
			if val == "1" {
				cfg.TraceFlags = trace.FlagsSampled
			}
		}
	}
	if !cfg.TraceID.IsValid() {
		return trace.SpanContext{}, false
	}
	if !cfg.SpanID.IsValid() {
		// A root-only header (as a load balancer sends) still names the trace.
		cfg.SpanID = newSpanID()
	}
	cfg.Remote = true
	return trace.NewSpanContext(cfg), true
}
