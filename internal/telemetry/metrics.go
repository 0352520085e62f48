package telemetry

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics is Kiri's Prometheus registry with the request metrics every plane shares. Planes
// register their own collectors through Registerer.
type Metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	overhead *prometheus.HistogramVec
}

// latencyBuckets spans 50 µs to 10 s: Kiri's own overhead is tens of microseconds, function
// invocations take up to seconds.
var latencyBuckets = []float64{
	0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
}

// overheadBuckets resolve Kiri's own part of a request that ran a function: 25 µs steps up to
// 250 µs, then coarser.
var overheadBuckets = []float64{
	0.000025, 0.00005, 0.000075, 0.0001, 0.000125, 0.00015, 0.000175, 0.0002, 0.000225, 0.00025,
	0.0003, 0.0004, 0.0005, 0.00075, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
}

// NewMetrics returns a registry holding the request counters and latency histograms plus the
// Go runtime and process collectors.
func NewMetrics() *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kiri_requests_total",
			Help: "API requests served, by service, operation and HTTP status.",
		}, []string{"service", "operation", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "kiri_request_duration_seconds",
			Help:    "API request latency, by service and operation.",
			Buckets: latencyBuckets,
		}, []string{"service", "operation"}),
		overhead: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "kiri_platform_overhead_seconds",
			Help: "Time Kiri added to requests that ran a function: from receiving the request to handing " +
				"over the response, less the function's own Duration. By service and operation.",
			Buckets: overheadBuckets,
		}, []string{"service", "operation"}),
	}
	m.registry.MustRegister(m.requests, m.latency, m.overhead,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registerer is where other planes register their collectors.
func (m *Metrics) Registerer() prometheus.Registerer { return m.registry }

// ObserveRequest records one served request.
func (m *Metrics) ObserveRequest(service, operation string, status int, d time.Duration) {
	m.requests.WithLabelValues(service, operation, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(service, operation).Observe(d.Seconds())
}

// ObserveOverhead records the platform overhead of one request that ran a function.
func (m *Metrics) ObserveOverhead(service, operation string, d time.Duration) {
	m.overhead.WithLabelValues(service, operation).Observe(max(d, 0).Seconds())
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}
