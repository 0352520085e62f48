package load

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// memQueues is an in-memory SQS with long polling, shared by every fakeClient of a test.
type memQueues struct {
	mu       sync.Mutex
	cond     *sync.Cond
	queues   map[string][]Message // visible messages per queue URL
	inFlight map[string]bool      // receipt handles received and not deleted
	next     int
	// lose makes DeleteMessageBatch report fewer successes than entries and no failures,
	// as goaws v0.4.5 does for receipt handles it does not find.
	lose bool
}

func newMemQueues() *memQueues {
	m := &memQueues{queues: map[string][]Message{}, inFlight: map[string]bool{}}
	m.cond = sync.NewCond(&m.mu)
	return m
}

func (m *memQueues) dial(Endpoint) Client { return fakeClient{m} }

type fakeClient struct{ m *memQueues }

func (c fakeClient) CreateQueue(_ context.Context, name string) (string, error) {
	c.m.mu.Lock()
	defer c.m.mu.Unlock()
	url := "http://fake/000000000000/" + name
	c.m.queues[url] = nil
	return url, nil
}

func (c fakeClient) DeleteQueue(_ context.Context, url string) error {
	c.m.mu.Lock()
	defer c.m.mu.Unlock()
	delete(c.m.queues, url)
	return nil
}

func (c fakeClient) SendMessage(_ context.Context, url, body string) error {
	c.m.mu.Lock()
	defer c.m.mu.Unlock()
	c.m.next++
	c.m.queues[url] = append(c.m.queues[url], Message{Body: body, ReceiptHandle: strconv.Itoa(c.m.next)})
	c.m.cond.Broadcast()
	return nil
}

func (c fakeClient) SendMessageBatch(ctx context.Context, url string, bodies []string) (BatchResult, error) {
	for _, b := range bodies {
		c.SendMessage(ctx, url, b)
	}
	return BatchResult{Succeeded: len(bodies)}, nil
}

func (c fakeClient) ReceiveMessage(ctx context.Context, url string, max int, wait time.Duration) ([]Message, error) {
	stop := context.AfterFunc(ctx, func() {
		c.m.mu.Lock()
		c.m.cond.Broadcast()
		c.m.mu.Unlock()
	})
	defer stop()
	c.m.mu.Lock()
	defer c.m.mu.Unlock()
	for wait > 0 && len(c.m.queues[url]) == 0 && ctx.Err() == nil {
		c.m.cond.Wait()
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	n := min(max, len(c.m.queues[url]))
	got := c.m.queues[url][:n:n]
	c.m.queues[url] = c.m.queues[url][n:]
	for _, msg := range got {
		c.m.inFlight[msg.ReceiptHandle] = true
	}
	return got, nil
}

func (c fakeClient) DeleteMessageBatch(_ context.Context, _ string, handles []string) (BatchResult, error) {
	c.m.mu.Lock()
	defer c.m.mu.Unlock()
	var r BatchResult
	for _, h := range handles {
		if !c.m.inFlight[h] {
			r.Failed = append(r.Failed, "ReceiptHandleIsInvalid")
			continue
		}
		delete(c.m.inFlight, h)
		r.Succeeded++
	}
	if c.m.lose && r.Succeeded > 0 {
		r.Succeeded--
	}
	return r, nil
}

func TestRoundMovesEveryMessageAndTimesEachWakeUp(t *testing.T) {
	t.Parallel()
	m := newMemQueues()
	c := Config{Phases: []string{"send", "receive", "wake"}, Duration: 50 * time.Millisecond, Clients: 4,
		Batch: 10, BodySize: 100, Wakeups: 5, Settle: time.Millisecond}
	r, err := Round(t.Context(), Endpoint{Name: "fake"}, c, m.dial)
	if err != nil {
		t.Fatal(err)
	}
	if r.Send.Messages == 0 || r.Send.Messages%10 != 0 {
		t.Errorf("sent %d messages, want a positive multiple of 10", r.Send.Messages)
	}
	if r.Receive.Messages > r.Send.Messages || r.Receive.Messages == 0 {
		t.Errorf("received and deleted %d of %d messages", r.Receive.Messages, r.Send.Messages)
	}
	if len(r.Wake.Latencies) != 5 || r.Wake.Empty != 0 {
		t.Errorf("wake-ups: %d latencies, %d empty polls; want 5 and 0", len(r.Wake.Latencies), r.Wake.Empty)
	}
	if len(m.queues) != 0 || len(m.inFlight) != 0 {
		t.Errorf("left %d queues and %d messages in flight", len(m.queues), len(m.inFlight))
	}
}

func TestReceivePhaseEndsWhenTheBacklogIsGone(t *testing.T) {
	t.Parallel()
	m := newMemQueues()
	c := Config{Phases: []string{"receive"}, Duration: time.Minute, Clients: 3, Batch: 10, BodySize: 10, Prefill: 95}
	start := time.Now()
	r, err := Round(t.Context(), Endpoint{}, c, m.dial)
	if err != nil {
		t.Fatal(err)
	}
	if r.Receive.Messages != 100 { // the prefill sends whole batches
		t.Errorf("received %d messages, want 100", r.Receive.Messages)
	}
	if time.Since(start) > 10*time.Second {
		t.Errorf("the phase ran %s, not until the backlog was gone", time.Since(start))
	}
}

func TestReceivePhaseFailsWhenADeleteIsNeitherDoneNorRefused(t *testing.T) {
	t.Parallel()
	m := newMemQueues()
	m.lose = true
	c := Config{Phases: []string{"receive"}, Duration: time.Minute, Clients: 1, Batch: 10, BodySize: 10, Prefill: 10}
	_, err := Round(t.Context(), Endpoint{}, c, m.dial)
	if err == nil || !strings.Contains(err.Error(), "9 of 10 entries succeeded and none failed") {
		t.Fatalf("err = %v, want the silently dropped entry reported", err)
	}
}

func TestReceivePhaseNeedsABacklog(t *testing.T) {
	t.Parallel()
	c := Config{Phases: []string{"receive"}, Duration: time.Second, Clients: 1, Batch: 10}
	if _, err := Round(t.Context(), Endpoint{}, c, newMemQueues().dial); err == nil {
		t.Fatal("a receive phase with nothing to receive succeeded")
	}
}

func TestParseEndpoints(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, spec, pids string
		want             []Endpoint
		err              bool
	}{
		{name: "protocol defaults to json and name to host", spec: "http://127.0.0.1:4566",
			want: []Endpoint{{Name: "127.0.0.1:4566", Protocol: "json", URL: "http://127.0.0.1:4566"}}},
		{name: "named endpoints with protocols and pids", spec: "kiri=http://h:1,goaws=query:http://h:2", pids: "goaws=7,kiri=5",
			want: []Endpoint{{Name: "kiri", Protocol: "json", URL: "http://h:1", PID: 5}, {Name: "goaws", Protocol: "query", URL: "http://h:2", PID: 7}}},
		{name: "bare pid with one endpoint", spec: "k=json:http://h:1", pids: "9",
			want: []Endpoint{{Name: "k", Protocol: "json", URL: "http://h:1", PID: 9}}},
		{name: "bare pid with two endpoints", spec: "a=http://h:1,b=http://h:2", pids: "9", err: true},
		{name: "pid for an unknown name", spec: "a=http://h:1", pids: "b=9", err: true},
		{name: "unknown protocol", spec: "a=xml:http://h:1", err: true},
		{name: "name used twice", spec: "a=http://h:1,a=http://h:2", err: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseEndpoints(tc.spec, tc.pids)
			if tc.err {
				if err == nil {
					t.Fatalf("parsed %+v, want an error", got)
				}
				return
			}
			if err != nil || fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("got %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}
