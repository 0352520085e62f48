package runtime

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the pool's Prometheus series; they make scale-out and scale-to-zero visible.
type metrics struct {
	instances   *prometheus.GaugeVec   // function, state (idle|busy)
	coldStarts  *prometheus.CounterVec // function
	invocations *prometheus.CounterVec // function, outcome (success|error|timeout)
	reaped      *prometheus.CounterVec // function
	throttles   *prometheus.CounterVec // function
	billedMS    *prometheus.CounterVec // function
	initTimeout *prometheus.CounterVec // function
	initSeconds prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		instances: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "kiri_lambda_instances", Help: "Function instances by state (idle, busy).",
		}, []string{"function", "state"}),
		coldStarts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kiri_lambda_cold_starts_total", Help: "Function instances started for an invocation.",
		}, []string{"function"}),
		invocations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kiri_lambda_invocations_total", Help: "Invocations by outcome (success, error, timeout).",
		}, []string{"function", "outcome"}),
		reaped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kiri_lambda_instances_reaped_total", Help: "Idle function instances stopped after the idle timeout.",
		}, []string{"function"}),
		throttles: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kiri_lambda_throttles_total", Help: "Invocations refused at the concurrency limit.",
		}, []string{"function"}),
		billedMS: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kiri_lambda_billed_milliseconds_total", Help: "Billed duration of invocations, in milliseconds.",
		}, []string{"function"}),
		initTimeout: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kiri_lambda_init_timeouts_total", Help: "Function instances whose init ran out of time.",
		}, []string{"function"}),
		initSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "kiri_lambda_init_duration_seconds", Help: "Function instance start-up (init) duration.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
		}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.instances, m.coldStarts, m.invocations, m.reaped, m.throttles, m.billedMS, m.initTimeout, m.initSeconds} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("register function metrics: %w", err)
			}
		}
	}
	return m, nil
}

// fnMetrics are one function's series, looked up once.
type fnMetrics struct {
	idle, busy                prometheus.Gauge
	coldStarts, reaped        prometheus.Counter
	throttles, billedMS       prometheus.Counter
	success, errors, timeouts prometheus.Counter
	initTimeouts              prometheus.Counter
}

func (m *metrics) forFunction(name string) *fnMetrics {
	return &fnMetrics{
		idle:       m.instances.WithLabelValues(name, "idle"),
		busy:       m.instances.WithLabelValues(name, "busy"),
		coldStarts: m.coldStarts.WithLabelValues(name),
		reaped:     m.reaped.WithLabelValues(name),
		throttles:  m.throttles.WithLabelValues(name),
		billedMS:   m.billedMS.WithLabelValues(name),
		success:    m.invocations.WithLabelValues(name, "success"),
		errors:     m.invocations.WithLabelValues(name, "error"),
		timeouts:   m.invocations.WithLabelValues(name, "timeout"),

		initTimeouts: m.initTimeout.WithLabelValues(name),
	}
}
