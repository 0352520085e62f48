package logs

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/smithy-go"

	"github.com/kiri-run/kiri/internal/auth"
	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/edge"
	"github.com/kiri-run/kiri/internal/service/servicetest"
	"github.com/kiri-run/kiri/internal/store"
	"github.com/kiri-run/kiri/internal/store/storetest"
	"github.com/kiri-run/kiri/internal/telemetry"
	"github.com/kiri-run/kiri/test/sdkretry"
)

const testAccount = "000000000000"

// harness is a Logs service behind a real edge on an httptest server, with its queue engine running.
type harness struct {
	svc    *Service
	st     *store.Store
	url    string
	client *cloudwatchlogs.Client
}

type harnessOptions struct {
	sweep time.Duration
	now   func() time.Time
	cfg   func(testing.TB) store.Config
	// idle leaves the queue engine stopped, so the store sees only the writes of requests.
	idle bool
}

func newHarness(t *testing.T, opts harnessOptions) *harness {
	t.Helper()
	if opts.cfg == nil {
		opts.cfg = storetest.SQLiteConfig
	}
	st := storetest.Open(t, opts.cfg(t))
	d := servicetest.DepsOn(t, st)
	log := d.Logger
	if opts.sweep == 0 {
		opts.sweep = sweepInterval
	}
	svc, err := newService(context.Background(), d, opts.sweep)
	if err != nil {
		t.Fatal(err)
	}
	if opts.now != nil {
		svc.now = opts.now
	}
	if !opts.idle {
		servicetest.Run(t, d)
	}
	e := edge.New(edge.Config{
		Router:  awsproto.NewRouter(svc.API()),
		Auth:    auth.New(auth.Config{Mode: auth.Dev}),
		Metrics: telemetry.NewMetrics(),
		Logger:  log,
	})
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return &harness{svc: svc, st: st, url: srv.URL, client: newClient(srv.URL, "us-east-1")}
}

func newClient(url, region string) *cloudwatchlogs.Client {
	return cloudwatchlogs.New(cloudwatchlogs.Options{
		Region:       region,
		Credentials:  credentials.NewStaticCredentialsProvider("AKIAIOSFODNN7EXAMPLE", "secret", ""),
		BaseEndpoint: aws.String(url),
		Retryer:      sdkretry.New(),
	})
}

// expectAPIError fails unless err is the AWS error code.
func expectAPIError(t *testing.T, err error, code string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("err = %v, want %s", err, code)
	}
	if ae.ErrorCode() != code {
		t.Fatalf("err = %s: %s, want %s", ae.ErrorCode(), ae.ErrorMessage(), code)
	}
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func nowish() time.Time { return time.Now() }

// putEvents creates group and stream when missing and puts messages at the given times.
func (h *harness) putEvents(t *testing.T, group, stream string, times []time.Time, msgs ...string) *cloudwatchlogs.PutLogEventsOutput {
	t.Helper()
	ctx := t.Context()
	_, _ = h.client.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(group)})
	_, _ = h.client.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream)})
	if len(msgs) == 0 {
		return nil
	}
	in := &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream)}
	for i, m := range msgs {
		in.LogEvents = append(in.LogEvents, types.InputLogEvent{Message: aws.String(m), Timestamp: aws.Int64(times[i].UnixMilli())})
	}
	out, err := h.client.PutLogEvents(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// spaced returns n times one second apart, ending a minute ago.
func spaced(n int) []time.Time {
	base := time.Now().Add(-time.Minute - time.Duration(n)*time.Second).Truncate(time.Millisecond)
	ts := make([]time.Time, n)
	for i := range ts {
		ts[i] = base.Add(time.Duration(i) * time.Second)
	}
	return ts
}
