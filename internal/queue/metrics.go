package queue

import (
	"context"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metricsTimeout bounds the count one scrape makes.
const metricsTimeout = 5 * time.Second

var (
	messagesDesc = prometheus.NewDesc("kiri_queue_messages",
		"Messages on the queue engine by queue and state: visible (due), inflight (leased), delayed (not due yet: delays, timers, retries waiting). SQS queues are counted together as queue \"sqs\".",
		[]string{"queue", "state"}, nil)
	deadDesc = prometheus.NewDesc("kiri_queue_dead_letters",
		"Messages whose delivery failed for good, kept on a handled queue's dead-letter queue, by the queue they came from.",
		[]string{"queue"}, nil)
)

// collector counts the engine's messages when Prometheus scrapes, so that an idle engine does
// no work between scrapes.
type collector struct{ e *Engine }

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- messagesDesc
	ch <- deadDesc
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), metricsTimeout)
	defer cancel()
	now := c.e.now().UnixNano()
	rows, err := c.e.st.Query(ctx, `SELECT queue,
			COALESCE(SUM(CASE WHEN visible_at <= ? THEN 1 ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN visible_at > ? AND receipt <> '' THEN 1 ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN visible_at > ? AND receipt = '' THEN 1 ELSE 0 END), 0)
		FROM kiri_queue_messages GROUP BY queue`, now, now, now)
	if err != nil {
		c.e.log.Warn("count queued messages for metrics", "err", err)
		return
	}
	defer rows.Close()
	type counts struct{ visible, inflight, delayed float64 }
	live := map[string]*counts{}
	dead := map[string]float64{}
	for rows.Next() {
		var q string
		var v, i, d float64
		if err := rows.Scan(&q, &v, &i, &d); err != nil {
			c.e.log.Warn("count queued messages for metrics", "err", err)
			return
		}
		if src, ok := strings.CutSuffix(q, ".dead"); ok {
			dead[src] += v + i + d
			continue
		}
		name := metricQueue(q)
		if live[name] == nil {
			live[name] = &counts{}
		}
		live[name].visible += v
		live[name].inflight += i
		live[name].delayed += d
	}
	for q, n := range live {
		ch <- prometheus.MustNewConstMetric(messagesDesc, prometheus.GaugeValue, n.visible, q, "visible")
		ch <- prometheus.MustNewConstMetric(messagesDesc, prometheus.GaugeValue, n.inflight, q, "inflight")
		ch <- prometheus.MustNewConstMetric(messagesDesc, prometheus.GaugeValue, n.delayed, q, "delayed")
	}
	for q, n := range dead {
		ch <- prometheus.MustNewConstMetric(deadDesc, prometheus.GaugeValue, n, q)
	}
}

// metricQueue is the label a queue is counted under: a service's own queues by their name, a
// family of user queues (sqs/<id>) by the family, so that labels stay few.
func metricQueue(q string) string {
	if family, _, ok := strings.Cut(q, "/"); ok {
		return family
	}
	return q
}
