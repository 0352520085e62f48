package runtime

import (
	"context"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"
)

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestLogsCaptureOutputWithPlatformLines(t *testing.T) {
	sink := &memSink{}
	p := testPool(t, func(c *Config) { c.Logs = sink })
	fn := goFunction(t, "logger")
	ctx := context.Background()
	req := newRequest(ev{"action": "log", "lines": []string{"first line", "second line"}})
	req.Tail = true
	res, err := p.Invoke(ctx, fn, req)
	if err != nil || res.FunctionError != "" {
		t.Fatalf("invoke: %v %+v", err, res)
	}
	id := req.RequestID
	wantSeq := []string{
		"START RequestId: " + id + " Version: $LATEST\n",
		"first line\n",
		"second line\n",
		"to stderr\n",
		"END RequestId: " + id + "\n",
	}
	report := regexp.MustCompile(`^REPORT RequestId: ` + id + `\tDuration: \d+\.\d\d ms\tBilled Duration: \d+ ms\tMemory Size: 128 MB\tMax Memory Used: \d+ MB\tInit Duration: \d+\.\d\d ms\t\n$`)

	tail := string(res.LogTail)
	if !strings.HasPrefix(tail, strings.Join(wantSeq, "")) {
		t.Errorf("LogTail = %q, want it to start with %q", tail, strings.Join(wantSeq, ""))
	}
	if lines := strings.SplitAfter(tail, "\n"); !report.MatchString(lines[len(lines)-2]) {
		t.Errorf("LogTail REPORT line %q does not match %s", lines[len(lines)-2], report)
	}

	waitFor(t, "logs shipped", func() bool { return len(sink.messages(fn.LogGroup)) >= 6 })
	msgs := sink.messages(fn.LogGroup)
	for i, w := range wantSeq {
		if msgs[i] != w {
			t.Errorf("event %d = %q, want %q", i, msgs[i], w)
		}
	}
	if !report.MatchString(msgs[5]) {
		t.Errorf("REPORT event %q does not match %s", msgs[5], report)
	}
	streams := sink.streamNames(fn.LogGroup)
	if len(streams) != 1 || !streamNameRE.MatchString(streams[0]) {
		t.Errorf("streams %q, want one Lambda-style stream", streams)
	}

	// A warm invocation's REPORT has no Init Duration.
	req2 := newRequest(ev{"action": "noop"})
	req2.Tail = true
	res2, _ := p.Invoke(ctx, fn, req2)
	if strings.Contains(string(res2.LogTail), "Init Duration") {
		t.Errorf("warm REPORT has Init Duration: %q", res2.LogTail)
	}
	if strings.Contains(string(res2.LogTail), "first line") {
		t.Errorf("warm tail includes the previous invocation: %q", res2.LogTail)
	}
}

func TestLogsTimeoutLine(t *testing.T) {
	p := testPool(t)
	fn := goFunction(t, "timeoutlog")
	fn.Timeout = 100 * time.Millisecond
	req := newRequest(ev{"action": "sleep", "ms": 3000})
	req.Tail = true
	res, err := p.Invoke(context.Background(), fn, req)
	if err != nil {
		t.Fatal(err)
	}
	tail := string(res.LogTail)
	line := regexp.MustCompile(`\n\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z ` + req.RequestID + ` Task timed out after 0\.10 seconds\nEND RequestId: ` + req.RequestID + `\nREPORT RequestId: [^\n]*Status: timeout\n$`)
	if !line.MatchString(tail) {
		t.Errorf("tail %q lacks Lambda's timeout lines", tail)
	}
}

func TestLogsAreBatched(t *testing.T) {
	sink := &memSink{}
	p := testPool(t, func(c *Config) { c.Logs = sink; c.LogFlushInterval = 300 * time.Millisecond })
	fn := goFunction(t, "batched")
	lines := make([]string, 200)
	for i := range lines {
		lines[i] = "line"
	}
	invoke(t, p, fn, ev{"action": "log", "lines": lines})
	waitFor(t, "logs shipped", func() bool { return len(sink.messages(fn.LogGroup)) >= 204 })
	sink.mu.Lock()
	calls := sink.calls
	sink.mu.Unlock()
	if calls > 2 {
		t.Errorf("%d AppendLogs calls for one invocation of 200 lines, want one or two", calls)
	}
}

func TestShipperWaitsForTheIntervalOrABacklog(t *testing.T) {
	sink := &memSink{}
	s := newShipper(sink, time.Hour, slog.New(slog.DiscardHandler))
	k := streamKey{"000000000000", "us-east-1", "/aws/lambda/f", "s"}
	s.add(k, LogEvent{Time: time.Now(), Message: "one\n"})
	time.Sleep(50 * time.Millisecond)
	if n := len(sink.messages("/aws/lambda/f")); n != 0 {
		t.Fatalf("%d events shipped before the interval or a backlog", n)
	}
	big := make([]LogEvent, shipFlushEvents)
	for i := range big {
		big[i] = LogEvent{Time: time.Now(), Message: "x\n"}
	}
	s.add(k, big...)
	waitFor(t, "backlog shipped", func() bool { return len(sink.messages("/aws/lambda/f")) == shipFlushEvents+1 })
	s.add(k, LogEvent{Time: time.Now(), Message: "last\n"})
	s.close()
	if n := len(sink.messages("/aws/lambda/f")); n != shipFlushEvents+2 {
		t.Fatalf("close shipped %d events in all, want %d", n, shipFlushEvents+2)
	}
}

func TestReportLineFormat(t *testing.T) {
	res := &Result{Duration: 1234567 * time.Nanosecond, BilledDuration: 2 * time.Millisecond, MemoryMB: 128, MaxMemoryMB: 20, InitDuration: 5670 * time.Microsecond}
	tests := []struct {
		name, status, want string
		res                Result
	}{
		{"cold start has Init Duration", "", "REPORT RequestId: r\tDuration: 1.23 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\tMax Memory Used: 20 MB\tInit Duration: 5.67 ms\t\n", *res},
		{"timeout has Status", "timeout", "REPORT RequestId: r\tDuration: 1.23 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\tMax Memory Used: 20 MB\tStatus: timeout\n", Result{Duration: res.Duration, BilledDuration: res.BilledDuration, MemoryMB: 128, MaxMemoryMB: 20}},
		{"crash has Error Type", "error", "REPORT RequestId: r\tDuration: 1.23 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\tMax Memory Used: 20 MB\tStatus: error\tError Type: Runtime.ExitError\n", Result{Duration: res.Duration, BilledDuration: res.BilledDuration, MemoryMB: 128, MaxMemoryMB: 20, ErrorType: errExit}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := reportLine("r", &tc.res, tc.status); got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestBilledRoundsUpToMillisecond(t *testing.T) {
	tests := []struct {
		name string
		in   time.Duration
		want time.Duration
	}{
		{"fraction rounds up", 1200 * time.Microsecond, 2 * time.Millisecond},
		{"exact stays", 3 * time.Millisecond, 3 * time.Millisecond},
		{"tiny is one ms", time.Microsecond, time.Millisecond},
		{"zero is one ms", 0, time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := billed(tc.in); got != tc.want {
				t.Errorf("billed(%v) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func TestRuntimeAPIRejectsWrongIDsAndPaths(t *testing.T) {
	sink := &memSink{}
	p := testPool(t, func(c *Config) { c.Logs = sink })
	fn := goFunction(t, "probeapi")
	fn.Environment = map[string]string{"FN_MODE": "probeapi"}
	invoke(t, p, fn, ev{"action": "echo"})
	waitFor(t, "probe output", func() bool { return len(sink.messages(fn.LogGroup)) >= 5 })
	all := strings.Join(sink.messages(fn.LogGroup), "")
	for _, want := range []string{
		`probe POST invocation/nope/response 400 {"errorType":"InvalidRequestID","errorMessage":"Invalid request ID"}`,
		`probe POST invocation/nope/error 400 {"errorType":"InvalidRequestID"`,
		`probe GET invocation/nope/bogus 404`,
		`probe GET nothing/here 404`,
		`probe POST invocation/next 405`,
	} {
		if !strings.Contains(all, want) {
			t.Errorf("logs lack %q:\n%s", want, all)
		}
	}
}
