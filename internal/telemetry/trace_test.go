package telemetry

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

func TestStartRequest(t *testing.T) {
	const w3cTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
	cases := []struct {
		name      string
		header    http.Header
		wantTrace string // "" = any new valid trace
	}{
		{"continues a W3C traceparent", http.Header{"Traceparent": {"00-" + w3cTrace + "-00f067aa0ba902b7-01"}}, w3cTrace},
		{"continues an X-Ray trace header", http.Header{"X-Amzn-Trace-Id": {"Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"}}, "5759e988bd862e3fe1be46a994272793"},
		{"starts a trace when none is sent", http.Header{}, ""},
		{"starts a trace when traceparent is garbage", http.Header{"Traceparent": {"zz-nonsense"}}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := StartRequest(context.Background(), tc.header)
			got := TraceID(ctx)
			if len(got) != 32 {
				t.Fatalf("trace id %q is not 32 hex digits", got)
			}
			if tc.wantTrace != "" && got != tc.wantTrace {
				t.Fatalf("trace id = %s, want %s", got, tc.wantTrace)
			}
			tp := TraceParent(ctx)
			if !strings.Contains(tp, got) {
				t.Fatalf("traceparent %q does not carry trace %s", tp, got)
			}
			out := http.Header{}
			Inject(ctx, out)
			if out.Get("X-Amzn-Trace-Id") == "" || out.Get("traceparent") == "" {
				t.Fatalf("Inject wrote %v, want both headers", out)
			}
			again := TraceID(WithTraceParent(context.Background(), tp))
			if again != got {
				t.Fatalf("stored traceparent resumed trace %s, want %s", again, got)
			}
		})
	}
}

func FuzzStartRequest(f *testing.F) {
	f.Add("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1")
	f.Add("", "Root=;;;Parent")
	f.Fuzz(func(t *testing.T, traceparent, xrayHeader string) {
		ctx := StartRequest(context.Background(), http.Header{"Traceparent": {traceparent}, "X-Amzn-Trace-Id": {xrayHeader}})
		if len(TraceID(ctx)) != 32 {
			t.Fatalf("no valid trace for %q / %q", traceparent, xrayHeader)
		}
	})
}
