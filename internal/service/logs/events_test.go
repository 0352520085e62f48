package logs

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
)

func TestPutLogEventsValidation(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	ctx := t.Context()
	h.putEvents(t, "g", "s", nil)
	h.putEvents(t, "short", "s", nil)
	if _, err := h.client.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: aws.String("short"), RetentionInDays: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	ev := func(ago time.Duration, msg string) types.InputLogEvent {
		return types.InputLogEvent{Timestamp: aws.Int64(now.Add(-ago).UnixMilli()), Message: aws.String(msg)}
	}
	const day = 24 * time.Hour
	cases := []struct {
		name     string
		group    string
		events   []types.InputLogEvent
		err      string
		rejected string // tooOldEnd expiredEnd tooNewStart
		stored   string
	}{
		{"events out of order fail the call", "g", []types.InputLogEvent{ev(time.Minute, "b"), ev(2*time.Minute, "a")}, "InvalidParameterException", "", "[]"},
		{"a batch spanning over 24 hours fails the call", "g", []types.InputLogEvent{ev(25*time.Hour, "a"), ev(0, "b")}, "InvalidParameterException", "", "[]"},
		{"a batch over 1 MiB fails the call", "g", []types.InputLogEvent{ev(0, strings.Repeat("x", 1_048_576-25))}, "InvalidParameterException", "", "[]"},
		{"an empty message fails the call", "g", []types.InputLogEvent{ev(0, "")}, "InvalidParameterException", "", "[]"},
		{"events over 14 days old are rejected", "g", []types.InputLogEvent{ev(14*day+3*time.Hour, "old1"), ev(14*day+time.Hour, "old2"), ev(14*day-time.Hour, "ok")}, "", "1 - -", "[ok]"},
		{"events over 2 hours ahead are rejected", "g", []types.InputLogEvent{ev(0, "now"), ev(-3*time.Hour, "future1"), ev(-4*time.Hour, "future2")}, "", "- - 1", "[now]"},
		{"events past the retention are expired", "short", []types.InputLogEvent{ev(25*time.Hour, "gone"), ev(2*time.Hour, "kept")}, "", "- 0 -", "[kept]"},
		{"a batch right at 1 MiB is accepted", "g", []types.InputLogEvent{ev(0, strings.Repeat("y", 1_048_576-26))}, "", "", "[" + strings.Repeat("y", 1_048_576-26) + "]"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			stream := fmt.Sprintf("case%d", i)
			h.putEvents(t, tc.group, stream, nil)
			out, err := h.client.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{
				LogGroupName: aws.String(tc.group), LogStreamName: aws.String(stream), LogEvents: tc.events})
			if tc.err != "" {
				expectAPIError(t, err, tc.err)
			} else if err != nil {
				t.Fatal(err)
			} else {
				got := ""
				if r := out.RejectedLogEventsInfo; r != nil {
					got = idx(r.TooOldLogEventEndIndex) + " " + idx(r.ExpiredLogEventEndIndex) + " " + idx(r.TooNewLogEventStartIndex)
				}
				if got != tc.rejected {
					t.Fatalf("rejected = %q, want %q", got, tc.rejected)
				}
				if aws.ToString(out.NextSequenceToken) == "" {
					t.Fatal("no nextSequenceToken")
				}
			}
			if got := messages(t, h, tc.group, stream); got != tc.stored {
				t.Fatalf("stored %.80s, want %.80s", got, tc.stored)
			}
		})
	}
	t.Run("a missing stream is not found", func(t *testing.T) {
		_, err := h.client.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("nope"),
			LogEvents: []types.InputLogEvent{ev(0, "x")}})
		expectAPIError(t, err, "ResourceNotFoundException")
	})
	t.Run("a stale sequence token is ignored, as AWS now does", func(t *testing.T) {
		_, err := h.client.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s"),
			SequenceToken: aws.String("1234"), LogEvents: []types.InputLogEvent{ev(0, "x")}})
		if err != nil {
			t.Fatal(err)
		}
	})
}

func idx(p *int32) string {
	if p == nil {
		return "-"
	}
	return fmt.Sprint(*p)
}

// messages reads a whole stream from the head.
func messages(t *testing.T, h *harness, group, stream string) string {
	t.Helper()
	out, err := h.client.GetLogEvents(t.Context(), &cloudwatchlogs.GetLogEventsInput{
		LogGroupName: aws.String(group), LogStreamName: aws.String(stream), StartFromHead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	return eventMessages(out.Events)
}

func eventMessages(events []types.OutputLogEvent) string {
	msgs := make([]string, len(events))
	for i, e := range events {
		msgs[i] = aws.ToString(e.Message)
	}
	return fmt.Sprint(msgs)
}

func TestGetLogEventsTokens(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	ctx := t.Context()
	ts := spaced(5)
	h.putEvents(t, "g", "s", ts, "e0", "e1", "e2", "e3", "e4")
	get := func(in cloudwatchlogs.GetLogEventsInput) *cloudwatchlogs.GetLogEventsOutput {
		t.Helper()
		in.LogGroupName, in.LogStreamName = aws.String("g"), aws.String("s")
		out, err := h.client.GetLogEvents(ctx, &in)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	check := func(out *cloudwatchlogs.GetLogEventsOutput, want string) {
		t.Helper()
		if got := eventMessages(out.Events); got != want {
			t.Fatalf("events = %s, want %s", got, want)
		}
	}

	// Forward from the head, two at a time, to the end, where the token comes back unchanged.
	page := get(cloudwatchlogs.GetLogEventsInput{StartFromHead: aws.Bool(true), Limit: aws.Int32(2)})
	check(page, "[e0 e1]")
	page = get(cloudwatchlogs.GetLogEventsInput{NextToken: page.NextForwardToken, Limit: aws.Int32(2)})
	check(page, "[e2 e3]")
	page = get(cloudwatchlogs.GetLogEventsInput{NextToken: page.NextForwardToken, Limit: aws.Int32(2)})
	check(page, "[e4]")
	end := page.NextForwardToken
	page = get(cloudwatchlogs.GetLogEventsInput{NextToken: end, Limit: aws.Int32(2)})
	check(page, "[]")
	if aws.ToString(page.NextForwardToken) != aws.ToString(end) {
		t.Fatalf("at the end the forward token changed: %s → %s", aws.ToString(end), aws.ToString(page.NextForwardToken))
	}
	// An event appended later is picked up by the saved forward token.
	h.putEvents(t, "g", "s", []time.Time{time.Now()}, "e5")
	check(get(cloudwatchlogs.GetLogEventsInput{NextToken: end}), "[e5]")

	// Without a token, the newest events come back (oldest first), then backward pages.
	page = get(cloudwatchlogs.GetLogEventsInput{Limit: aws.Int32(2)})
	check(page, "[e4 e5]")
	page = get(cloudwatchlogs.GetLogEventsInput{NextToken: page.NextBackwardToken, Limit: aws.Int32(3)})
	check(page, "[e1 e2 e3]")
	page = get(cloudwatchlogs.GetLogEventsInput{NextToken: page.NextBackwardToken, Limit: aws.Int32(3)})
	check(page, "[e0]")
	start := page.NextBackwardToken
	page = get(cloudwatchlogs.GetLogEventsInput{NextToken: start})
	check(page, "[]")
	if aws.ToString(page.NextBackwardToken) != aws.ToString(start) {
		t.Fatalf("at the start the backward token changed: %s → %s", aws.ToString(start), aws.ToString(page.NextBackwardToken))
	}

	// startTime is inclusive and endTime exclusive.
	check(get(cloudwatchlogs.GetLogEventsInput{StartFromHead: aws.Bool(true),
		StartTime: aws.Int64(ts[1].UnixMilli()), EndTime: aws.Int64(ts[3].UnixMilli())}), "[e1 e2]")

	_, err := h.client.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s"), NextToken: aws.String("f/garbage")})
	expectAPIError(t, err, "InvalidParameterException")
	_, err = h.client.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("nope")})
	expectAPIError(t, err, "ResourceNotFoundException")
}

func TestFilterLogEvents(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	ts := spaced(6)
	h.putEvents(t, "g", "web-1", []time.Time{ts[0], ts[2], ts[4]}, "INFO start", `{"level":"ERROR","latency":250}`, "ERROR disk full")
	h.putEvents(t, "g", "web-2", []time.Time{ts[1], ts[3]}, `{"level":"INFO","latency":50}`, "WARN slow request")
	h.putEvents(t, "g", "job-1", []time.Time{ts[5]}, "ERROR job failed")
	cases := []struct {
		name string
		in   cloudwatchlogs.FilterLogEventsInput
		want string
	}{
		{"no pattern returns all, interleaved by time", cloudwatchlogs.FilterLogEventsInput{},
			`[web-1:INFO start web-2:{"level":"INFO","latency":50} web-1:{"level":"ERROR","latency":250} web-2:WARN slow request web-1:ERROR disk full job-1:ERROR job failed]`},
		{"a term", cloudwatchlogs.FilterLogEventsInput{FilterPattern: aws.String("ERROR")},
			`[web-1:{"level":"ERROR","latency":250} web-1:ERROR disk full job-1:ERROR job failed]`},
		{"any term", cloudwatchlogs.FilterLogEventsInput{FilterPattern: aws.String("?WARN ?start")}, `[web-1:INFO start web-2:WARN slow request]`},
		{"excluded term", cloudwatchlogs.FilterLogEventsInput{FilterPattern: aws.String("ERROR -job")},
			`[web-1:{"level":"ERROR","latency":250} web-1:ERROR disk full]`},
		{"json equality", cloudwatchlogs.FilterLogEventsInput{FilterPattern: aws.String(`{ $.level = "ERROR" }`)}, `[web-1:{"level":"ERROR","latency":250}]`},
		{"json number", cloudwatchlogs.FilterLogEventsInput{FilterPattern: aws.String(`{ $.latency > 10 }`)},
			`[web-2:{"level":"INFO","latency":50} web-1:{"level":"ERROR","latency":250}]`},
		{"stream names", cloudwatchlogs.FilterLogEventsInput{LogStreamNames: []string{"web-2", "job-1"}},
			`[web-2:{"level":"INFO","latency":50} web-2:WARN slow request job-1:ERROR job failed]`},
		{"stream prefix", cloudwatchlogs.FilterLogEventsInput{LogStreamNamePrefix: aws.String("job")}, `[job-1:ERROR job failed]`},
		{"time range is inclusive", cloudwatchlogs.FilterLogEventsInput{StartTime: aws.Int64(ts[1].UnixMilli()), EndTime: aws.Int64(ts[2].UnixMilli())},
			`[web-2:{"level":"INFO","latency":50} web-1:{"level":"ERROR","latency":250}]`},
		{"one per page", cloudwatchlogs.FilterLogEventsInput{FilterPattern: aws.String("ERROR"), Limit: aws.Int32(1)},
			`[web-1:{"level":"ERROR","latency":250} web-1:ERROR disk full job-1:ERROR job failed]`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			in.LogGroupName = aws.String("g")
			var got []string
			ids := map[string]bool{}
			p := cloudwatchlogs.NewFilterLogEventsPaginator(h.client, &in)
			for p.HasMorePages() {
				out, err := p.NextPage(t.Context())
				if err != nil {
					t.Fatal(err)
				}
				for _, e := range out.Events {
					if ids[aws.ToString(e.EventId)] || aws.ToInt64(e.IngestionTime) == 0 {
						t.Fatalf("event %+v repeats an id or lacks an ingestion time", e)
					}
					ids[aws.ToString(e.EventId)] = true
					got = append(got, aws.ToString(e.LogStreamName)+":"+aws.ToString(e.Message))
				}
			}
			if fmt.Sprint(got) != tc.want {
				t.Fatalf("=\n%s\nwant\n%s", fmt.Sprint(got), tc.want)
			}
		})
	}
	t.Run("stream names and prefix together are refused", func(t *testing.T) {
		_, err := h.client.FilterLogEvents(t.Context(), &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("g"),
			LogStreamNames: []string{"a"}, LogStreamNamePrefix: aws.String("a")})
		expectAPIError(t, err, "InvalidParameterException")
	})
	t.Run("a broken pattern is refused", func(t *testing.T) {
		_, err := h.client.FilterLogEvents(t.Context(), &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("g"),
			FilterPattern: aws.String(`{ $.level = `)})
		expectAPIError(t, err, "InvalidParameterException")
	})
	t.Run("a deleted stream's events are gone at once", func(t *testing.T) {
		if _, err := h.client.DeleteLogStream(t.Context(), &cloudwatchlogs.DeleteLogStreamInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("job-1")}); err != nil {
			t.Fatal(err)
		}
		out, err := h.client.FilterLogEvents(t.Context(), &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("g"), FilterPattern: aws.String("job")})
		if err != nil || len(out.Events) != 0 {
			t.Fatalf("events of a deleted stream: %v %v", out, err)
		}
		eventually(t, "the purge of the deleted stream's events", func() bool {
			var n int
			_ = h.st.QueryRow(t.Context(), `SELECT COUNT(*) FROM logs_events WHERE message = 'ERROR job failed'`).Scan(&n)
			return n == 0
		})
	})
}

func TestFilterLogEventsScanBudgetPages(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	now := time.Now()
	events := make([]Event, filterScanBudget+filterChunk+5)
	for i := range events {
		events[i] = Event{Time: now, Message: "noise"}
	}
	events[len(events)-1].Message = "needle"
	if err := h.svc.AppendLogs(t.Context(), testAccount, "us-east-1", "g", "s", events); err != nil {
		t.Fatal(err)
	}
	in := &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("g"), FilterPattern: aws.String("needle")}
	first, err := h.client.FilterLogEvents(t.Context(), in)
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Events) != 0 || first.NextToken == nil {
		t.Fatalf("first page: %d events, token %v; want an empty page with a token", len(first.Events), first.NextToken)
	}
	in.NextToken = first.NextToken
	second, err := h.client.FilterLogEvents(t.Context(), in)
	if err != nil || len(second.Events) != 1 || second.NextToken != nil {
		t.Fatalf("second page: %v %v", second, err)
	}
}

func TestAppendLogsCreatesGroupAndStreamInOneWrite(t *testing.T) {
	h := newHarness(t, harnessOptions{idle: true})
	ctx := t.Context()
	before := h.st.Stats().Writes
	t0 := time.Now().Add(-time.Second).Truncate(time.Millisecond)
	err := h.svc.AppendLogs(ctx, testAccount, "us-east-1", "/aws/lambda/fn", "2026/01/01/[$LATEST]abc",
		[]Event{{Time: t0, Message: "START"}, {Time: t0.Add(time.Millisecond), Message: "hello\n"}, {Time: t0.Add(2 * time.Millisecond), Message: "END"}})
	if err != nil {
		t.Fatal(err)
	}
	if w := h.st.Stats().Writes - before; w != 1 {
		t.Fatalf("AppendLogs took %d store writes, want 1", w)
	}
	if err := h.svc.AppendLogs(ctx, testAccount, "us-east-1", "/aws/lambda/fn", "2026/01/01/[$LATEST]abc",
		[]Event{{Time: t0.Add(3 * time.Millisecond), Message: "REPORT"}}); err != nil {
		t.Fatal(err)
	}
	if got := messages(t, h, "/aws/lambda/fn", "2026/01/01/[$LATEST]abc"); got != "[START hello\n END REPORT]" {
		t.Fatalf("messages = %q", got)
	}
	out, err := h.client.DescribeLogStreams(ctx, &cloudwatchlogs.DescribeLogStreamsInput{LogGroupName: aws.String("/aws/lambda/fn")})
	if err != nil || len(out.LogStreams) != 1 {
		t.Fatalf("streams: %v %v", out, err)
	}
	s := out.LogStreams[0]
	if aws.ToInt64(s.FirstEventTimestamp) != t0.UnixMilli() || aws.ToInt64(s.LastEventTimestamp) != t0.UnixMilli()+3 || s.LastIngestionTime == nil {
		t.Fatalf("stream = %+v", s)
	}
	if err := h.svc.AppendLogs(ctx, testAccount, "us-east-1", "bad name", "s", []Event{{Time: t0, Message: "x"}}); err == nil {
		t.Fatal("AppendLogs took an invalid group name")
	}
}
