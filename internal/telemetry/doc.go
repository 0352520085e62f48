// Package telemetry holds Kiri's observability plumbing: structured logs (log/slog), Prometheus
// metrics served at /_kiri/metrics, and trace context (W3C traceparent and AWS X-Amzn-Trace-Id)
// accepted on every request and carried to the work it causes.
package telemetry
