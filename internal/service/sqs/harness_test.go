package sqs

import (
	"context"
	"errors"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go"

	"github.com/kiri-run/kiri/internal/auth"
	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/edge"
	"github.com/kiri-run/kiri/internal/queue"
	"github.com/kiri-run/kiri/internal/service"
	"github.com/kiri-run/kiri/internal/store"
	"github.com/kiri-run/kiri/internal/store/storetest"
	"github.com/kiri-run/kiri/internal/telemetry"
	"github.com/kiri-run/kiri/test/sdkretry"
)

// clock is a settable clock shared by the service and its engine.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// harness is an SQS service on its engine behind a real edge, driven by aws-sdk-go-v2, with
// a clock the test moves.
type harness struct {
	svc    *Service
	eng    *queue.Engine
	st     *store.Store
	clock  *clock
	client *sqs.Client
}

// forEachBackend runs f on SQLite and, when configured, PostgreSQL.
func forEachBackend(t *testing.T, f func(t *testing.T, cfg store.Config)) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			f(t, b.Config(t))
		})
	}
}

func newHarness(t *testing.T, cfg store.Config) *harness {
	t.Helper()
	st := storetest.Open(t, cfg)
	c := &clock{t: time.Unix(1_800_000_000, 0)}
	log := storetest.QuietLogger()
	eng, err := queue.New(context.Background(), st, queue.Config{Logger: log, Node: "n1", Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := New(context.Background(), service.Deps{Store: st, Queue: eng, Logger: log, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = eng.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; eng.Close() })
	e := edge.New(edge.Config{
		Router:  awsproto.NewRouter(svc.API()),
		Auth:    auth.New(auth.Config{Mode: auth.Dev}),
		Metrics: telemetry.NewMetrics(),
		Logger:  log,
	})
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	client := sqs.New(sqs.Options{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIAIOSFODNN7EXAMPLE", "secret", ""),
		BaseEndpoint: aws.String(srv.URL),
		Retryer:      sdkretry.New(),
	})
	return &harness{svc: svc, eng: eng, st: st, clock: c, client: client}
}

// createQueue creates a queue and returns its URL.
func (h *harness) createQueue(t *testing.T, name string, attrs map[string]string) string {
	t.Helper()
	out, err := h.client.CreateQueue(t.Context(), &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	if err != nil {
		t.Fatalf("create queue %s: %v", name, err)
	}
	return aws.ToString(out.QueueUrl)
}

// expectAPIError fails unless err is the AWS error code (as the query-compatible SDK reports it).
func expectAPIError(t *testing.T, err error, code, message string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("err = %v, want %s", err, code)
	}
	if ae.ErrorCode() != code || (message != "" && ae.ErrorMessage() != message) {
		t.Fatalf("err = %s: %s, want %s: %s", ae.ErrorCode(), ae.ErrorMessage(), code, message)
	}
}
