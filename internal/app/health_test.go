package app

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"sync"
	"testing"
)

type checker struct{ err error }

func (c *checker) Health(context.Context) error { return c.err }

func TestHealthReportNamesServicesWhoseNeedsFail(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	shared, own := &checker{}, &checker{}
	services := []serviceHealth{{name: "a", needs: []healthChecker{shared}}, {name: "b", needs: []healthChecker{shared, own}}}
	if got := healthReport(context.Background(), services, log); !maps.Equal(got, map[string]string{"a": "running", "b": "running"}) {
		t.Errorf("all working: %v", got)
	}
	own.err = errors.New("worker stopped")
	if got := healthReport(context.Background(), services, log); !maps.Equal(got, map[string]string{"a": "running", "b": "down"}) {
		t.Errorf("b's own need failing: %v", got)
	}
	shared.err = errors.New("store unreachable")
	if got := healthReport(context.Background(), services, log); !maps.Equal(got, map[string]string{"a": "down", "b": "down"}) {
		t.Errorf("the shared need failing: %v", got)
	}
}

func TestWorkerIsDownOnceItReturnsOnItsOwn(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var quitWG, runWG sync.WaitGroup
	quits, runs := &worker{name: "quits"}, &worker{name: "runs"}
	quits.start(ctx, &quitWG, log, func(context.Context) error { return errors.New("boom") })
	release := make(chan struct{})
	runs.start(ctx, &runWG, log, func(ctx context.Context) error { <-release; return ctx.Err() })
	quitWG.Wait()
	if err := quits.Health(ctx); err == nil || err.Error() != "quits stopped: boom" {
		t.Errorf("worker that returned: %v", err)
	}
	if err := runs.Health(ctx); err != nil {
		t.Errorf("running worker: %v", err)
	}
	close(release)
	runWG.Wait()
}

// TestHealthReflectsTheRealState starts Kiri and breaks what its services need: a queue engine
// that stops, or a store that no longer answers, takes every service down.
func TestHealthReflectsTheRealState(t *testing.T) {
	a, err := Start(context.Background(), Config{Addr: "127.0.0.1:0", Ephemeral: true, LogOutput: io.Discard, DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close(context.Background()) })
	health := func() map[string]string {
		t.Helper()
		resp, err := http.Get("http://" + a.Addr() + "/_kiri/health")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var h struct{ Services map[string]string }
		if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
			t.Fatal(err)
		}
		return h.Services
	}
	all := map[string]string{"iam": "running", "sts": "running", "s3": "running", "lambda": "running", "logs": "running", "sqs": "running", "sns": "running", "dynamodb": "running", "dynamodbstreams": "running", "apigatewayv2": "running", "apigatewaymanagementapi": "running", "apigateway": "running", "scheduler": "running", "pipes": "running", "events": "running", "schemas": "running", "stepfunctions": "running"}
	down := map[string]string{}
	for name := range all {
		down[name] = "down"
	}
	if got := health(); !maps.Equal(got, all) {
		t.Fatalf("fresh start: %v", got)
	}
	a.workers["meter"].stopped.Store(true)
	if got := health(); !maps.Equal(got, all) {
		t.Errorf("a worker no service needs stopped: %v, want %v", got, all)
	}
	a.workers["engine"].stopped.Store(true)
	if got := health(); !maps.Equal(got, down) {
		t.Errorf("the queue engine stopped: %v", got)
	}
	a.workers["engine"].stopped.Store(false)
	a.store.Close()
	if got := health(); !maps.Equal(got, down) {
		t.Errorf("store closed: %v", got)
	}
}
