// Package load is the core of the sqsload benchmark: the phases it runs against one SQS
// endpoint (send, receive+delete, long-poll wake-up), written against a small Client
// interface so that SDK builds speaking either SQS protocol can drive them, and the
// comparison that alternates rounds over several endpoints and reports medians.
package load

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/kiri-run/kiri/bench/internal/workload"
)

// Client is what the phases need from one SDK client of an SQS endpoint. Every worker has
// its own Client, and so its own connection pool.
type Client interface {
	CreateQueue(ctx context.Context, name string) (url string, err error)
	DeleteQueue(ctx context.Context, url string) error
	SendMessage(ctx context.Context, url, body string) error
	// SendMessageBatch sends bodies in one call, with entry ids "0", "1", ...
	SendMessageBatch(ctx context.Context, url string, bodies []string) (BatchResult, error)
	ReceiveMessage(ctx context.Context, url string, max int, wait time.Duration) ([]Message, error)
	DeleteMessageBatch(ctx context.Context, url string, receiptHandles []string) (BatchResult, error)
}

// Message is a received message.
type Message struct{ Body, ReceiptHandle string }

// BatchResult is what a batch call reported for its entries.
type BatchResult struct {
	Succeeded int
	Failed    []string // "id code: message" per failed entry
}

// check fails unless all n entries succeeded.
func (b BatchResult) check(n int) error {
	switch {
	case len(b.Failed) > 0:
		return fmt.Errorf("%d of %d entries failed, first %s", len(b.Failed), n, b.Failed[0])
	case b.Succeeded != n:
		return fmt.Errorf("%d of %d entries succeeded and none failed", b.Succeeded, n)
	}
	return nil
}

// Endpoint is one server under test.
type Endpoint struct {
	Name     string
	Protocol string // "json" or "query"
	URL      string
	PID      int // the server's process id, to sample its CPU time and VmRSS; 0: none

	Region, AccessKey, Secret string
}

// Dial returns a new client of an endpoint, with its own connection pool.
type Dial func(Endpoint) Client

// Config is the load of one round.
type Config struct {
	Phases   []string      // "send", "receive" and "wake", in order
	Duration time.Duration // how long each throughput phase runs at most
	Clients  int           // concurrent clients in the throughput phases
	Batch    int           // messages per SendMessageBatch, and MaxNumberOfMessages per receive
	BodySize int           // bytes per message body
	Prefill  int           // messages the receive phase tops its backlog up to, untimed
	Wakeups  int           // long-poll wake-ups to time
	Settle   time.Duration // least time a long-polling receiver gets to block before the send
	Jitter   time.Duration // random extra settle time, to spread sends over a polling server's interval
}

// Result is one round's figures against one endpoint; a phase that did not run is nil.
type Result struct {
	Send, Receive *Throughput
	Wake          *Wake
}

// Throughput is a phase that moved messages with many clients.
type Throughput struct {
	Messages, Calls  int64
	Empty            int64 // receives that returned no message
	Elapsed          time.Duration
	CallP50, CallP99 time.Duration
	workload.Usage
}

// Rate is messages per second.
func (t *Throughput) Rate() float64 { return float64(t.Messages) / t.Elapsed.Seconds() }

// Wake is the long-poll phase: per message, the time from SendMessage's response to the
// blocked ReceiveMessage's response. It is negative when a server wakes the receiver before
// it answers the sender.
type Wake struct {
	Latencies []time.Duration
	Empty     int64 // long polls that returned without the message
	workload.Usage
}

// Round runs the configured phases against an endpoint on fresh queues, which it deletes
// afterwards.
func Round(ctx context.Context, e Endpoint, c Config, dial Dial) (*Result, error) {
	clients := make([]Client, c.Clients)
	for i := range clients {
		clients[i] = dial(e)
	}
	prefix := fmt.Sprintf("sqsload-%d-%d", os.Getpid(), time.Now().UnixNano())
	var r Result
	var backlog int64 // messages sent to the queue and not yet deleted
	var queue string
	for _, phase := range c.Phases {
		if phase != "wake" && queue == "" {
			url, err := createQueue(ctx, clients[0], prefix)
			if err != nil {
				return nil, err
			}
			defer deleteQueue(ctx, clients[0], url)
			queue = url
		}
		var err error
		switch phase {
		case "send":
			r.Send, err = sendPhase(ctx, e, c, clients, queue)
			if r.Send != nil {
				backlog += r.Send.Messages
			}
		case "receive":
			if missing := int64(c.Prefill) - backlog; missing > 0 {
				sent, err := prefill(ctx, c, clients, queue, missing)
				if err != nil {
					return nil, fmt.Errorf("prefill: %w", err)
				}
				backlog += sent
			}
			if backlog == 0 {
				return nil, errors.New("the receive phase needs a backlog: run the send phase first or set a prefill")
			}
			r.Receive, err = receivePhase(ctx, e, c, clients, queue, backlog)
		case "wake":
			var url string
			if url, err = createQueue(ctx, clients[0], prefix+"-wake"); err != nil {
				return nil, err
			}
			defer deleteQueue(ctx, clients[0], url)
			r.Wake, err = wakePhase(ctx, e, c, dial, url)
		default:
			err = errors.New("unknown phase")
		}
		if err != nil {
			return nil, fmt.Errorf("%s phase: %w", phase, err)
		}
	}
	return &r, nil
}

func createQueue(ctx context.Context, c Client, name string) (string, error) {
	url, err := c.CreateQueue(ctx, name)
	if err != nil {
		return "", fmt.Errorf("create queue %s: %w", name, err)
	}
	return url, nil
}

// deleteQueue removes a round's queue so that its leftover backlog costs the server nothing
// in later rounds.
func deleteQueue(ctx context.Context, c Client, url string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := c.DeleteQueue(ctx, url); err != nil {
		fmt.Fprintf(os.Stderr, "delete queue %s: %v\n", url, err)
	}
}

func throughput(c workload.Calls, u workload.Usage) *Throughput {
	t := &Throughput{Messages: c.Units, Calls: c.Calls, Elapsed: c.Elapsed, Usage: u}
	t.CallP50, t.CallP99 = workload.Quantile(c.Latency, 0.5), workload.Quantile(c.Latency, 0.99)
	return t
}

func bodies(c Config) []string {
	body := strings.Repeat("m", c.BodySize)
	b := make([]string, c.Batch)
	for i := range b {
		b[i] = body
	}
	return b
}

func sendBatch(ctx context.Context, c Client, url string, bodies []string) error {
	res, err := c.SendMessageBatch(ctx, url, bodies)
	if err == nil {
		err = res.check(len(bodies))
	}
	if err != nil {
		return fmt.Errorf("send message batch: %w", err)
	}
	return nil
}

func sendPhase(ctx context.Context, e Endpoint, c Config, clients []Client, url string) (*Throughput, error) {
	batch := bodies(c)
	var done workload.Calls
	u, err := workload.Measure(e.PID, func() (err error) {
		done, err = workload.Drive(ctx, c.Duration, clients, func(ctx context.Context, cl Client) (int, error) {
			return len(batch), sendBatch(ctx, cl, url, batch)
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	return throughput(done, u), nil
}

// prefill sends at least n messages, untimed, and returns how many it sent.
func prefill(ctx context.Context, c Config, clients []Client, url string, n int64) (int64, error) {
	batch := bodies(c)
	var left atomic.Int64
	left.Store(n)
	done, err := workload.Drive(ctx, time.Hour, clients, func(ctx context.Context, cl Client) (int, error) {
		if left.Add(-int64(len(batch))) <= -int64(len(batch)) {
			return 0, workload.ErrDrained
		}
		return len(batch), sendBatch(ctx, cl, url, batch)
	})
	return done.Units, err
}

// receivePhase receives batches and deletes what each returned until the time is up or the
// backlog is gone.
func receivePhase(ctx context.Context, e Endpoint, c Config, clients []Client, url string, backlog int64) (*Throughput, error) {
	var deleted, empty atomic.Int64
	var done workload.Calls
	u, err := workload.Measure(e.PID, func() (err error) {
		done, err = workload.Drive(ctx, c.Duration, clients, func(ctx context.Context, cl Client) (int, error) {
			msgs, err := cl.ReceiveMessage(ctx, url, c.Batch, 0)
			if err != nil {
				return 0, fmt.Errorf("receive message: %w", err)
			}
			if len(msgs) == 0 {
				empty.Add(1)
				return 0, nil
			}
			handles := make([]string, len(msgs))
			for i, m := range msgs {
				if len(m.Body) != c.BodySize {
					return 0, fmt.Errorf("received a body of %d bytes, sent %d", len(m.Body), c.BodySize)
				}
				handles[i] = m.ReceiptHandle
			}
			res, err := cl.DeleteMessageBatch(ctx, url, handles)
			if err == nil {
				err = res.check(len(handles))
			}
			if err != nil {
				return 0, fmt.Errorf("delete message batch: %w", err)
			}
			if deleted.Add(int64(len(msgs))) >= backlog {
				return len(msgs), workload.ErrDrained
			}
			return len(msgs), nil
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	t := throughput(done, u)
	t.Empty = empty.Load()
	return t, nil
}

// longPoll is the WaitTimeSeconds of the wake phase's receives, SQS's maximum.
const longPoll = 20 * time.Second

func wakePhase(ctx context.Context, e Endpoint, c Config, dial Dial, url string) (*Wake, error) {
	recv, send := dial(e), dial(e)
	w := &Wake{}
	var err error
	w.Usage, err = workload.Measure(e.PID, func() error {
		for i := range c.Wakeups {
			settle := c.Settle
			if c.Jitter > 0 {
				settle += rand.N(c.Jitter)
			}
			lat, empty, err := wakeOnce(ctx, recv, send, url, fmt.Sprintf("wake-up %d", i), settle)
			w.Empty += empty
			if err != nil {
				return fmt.Errorf("wake-up %d: %w", i, err)
			}
			w.Latencies = append(w.Latencies, lat)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return w, nil
}

// wakeOnce starts a long-polling receive, sends body once the receiver has had settle to
// block, and returns the time from the send's response to the receive's, and how many polls
// returned empty first.
func wakeOnce(ctx context.Context, recv, send Client, url, body string, settle time.Duration) (time.Duration, int64, error) {
	ctx, cancel := context.WithTimeout(ctx, longPoll+time.Minute)
	defer cancel()
	type received struct {
		msgs  []Message
		at    time.Time
		empty int64
		err   error
	}
	got := make(chan received, 1)
	go func() {
		var r received
		for r.err == nil && len(r.msgs) == 0 {
			r.msgs, r.err = recv.ReceiveMessage(ctx, url, 1, longPoll)
			if r.err == nil && len(r.msgs) == 0 {
				r.empty++
			}
		}
		r.at = time.Now()
		got <- r
	}()
	select {
	case <-time.After(settle):
	case <-ctx.Done():
	}
	sendErr := send.SendMessage(ctx, url, body)
	acked := time.Now()
	if sendErr != nil {
		cancel()
	}
	r := <-got
	switch {
	case sendErr != nil:
		return 0, r.empty, fmt.Errorf("send message: %w", sendErr)
	case r.err != nil:
		return 0, r.empty, fmt.Errorf("receive message: %w", r.err)
	case len(r.msgs) != 1:
		return 0, r.empty, fmt.Errorf("received %d messages, want 1", len(r.msgs))
	case r.msgs[0].Body != body:
		return 0, r.empty, fmt.Errorf("received %q, want %q", r.msgs[0].Body, body)
	}
	res, err := recv.DeleteMessageBatch(ctx, url, []string{r.msgs[0].ReceiptHandle})
	if err == nil {
		err = res.check(1)
	}
	if err != nil {
		return 0, r.empty, fmt.Errorf("delete message batch: %w", err)
	}
	return r.at.Sub(acked), r.empty, nil
}
