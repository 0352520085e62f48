package logs

import (
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
)

func TestLogStreamLifecycle(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	ctx := t.Context()
	c := h.client
	_, err := c.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String("missing"), LogStreamName: aws.String("s")})
	expectAPIError(t, err, "ResourceNotFoundException")
	if _, err := c.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("g")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("2024/01/01/[$LATEST]abc")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("2024/01/01/[$LATEST]abc")})
	expectAPIError(t, err, "ResourceAlreadyExistsException")
	_, err = c.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("a:b")})
	expectAPIError(t, err, "InvalidParameterException")

	out, err := c.DescribeLogStreams(ctx, &cloudwatchlogs.DescribeLogStreamsInput{LogGroupName: aws.String("g")})
	if err != nil || len(out.LogStreams) != 1 {
		t.Fatalf("streams = %v, %v", out, err)
	}
	s := out.LogStreams[0]
	if aws.ToString(s.Arn) != "arn:aws:logs:us-east-1:000000000000:log-group:g:log-stream:2024/01/01/[$LATEST]abc" ||
		s.FirstEventTimestamp != nil || s.LastEventTimestamp != nil || s.LastIngestionTime != nil || aws.ToInt64(s.StoredBytes) != 0 {
		t.Fatalf("new stream = %+v", s)
	}

	if _, err := c.DeleteLogStream(ctx, &cloudwatchlogs.DeleteLogStreamInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("2024/01/01/[$LATEST]abc")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DeleteLogStream(ctx, &cloudwatchlogs.DeleteLogStreamInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("2024/01/01/[$LATEST]abc")})
	expectAPIError(t, err, "ResourceNotFoundException")
}

func TestDescribeLogStreamsReportsEvents(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	ts := spaced(3)
	h.putEvents(t, "g", "s", ts, "one", "two", "three")
	out, err := h.client.DescribeLogStreams(t.Context(), &cloudwatchlogs.DescribeLogStreamsInput{LogGroupIdentifier: aws.String("arn:aws:logs:us-east-1:000000000000:log-group:g")})
	if err != nil || len(out.LogStreams) != 1 {
		t.Fatalf("streams = %v, %v", out, err)
	}
	s := out.LogStreams[0]
	if aws.ToInt64(s.FirstEventTimestamp) != ts[0].UnixMilli() || aws.ToInt64(s.LastEventTimestamp) != ts[2].UnixMilli() {
		t.Fatalf("first/last = %d/%d, want %d/%d", aws.ToInt64(s.FirstEventTimestamp), aws.ToInt64(s.LastEventTimestamp), ts[0].UnixMilli(), ts[2].UnixMilli())
	}
	if d := time.Since(time.UnixMilli(aws.ToInt64(s.LastIngestionTime))); d < 0 || d > time.Minute {
		t.Fatalf("lastIngestionTime %s ago", d)
	}
	if aws.ToInt64(s.StoredBytes) != int64(len("one")+len("two")+len("three")) {
		t.Fatalf("storedBytes = %d", aws.ToInt64(s.StoredBytes))
	}
	groups, err := h.client.DescribeLogGroups(t.Context(), &cloudwatchlogs.DescribeLogGroupsInput{})
	if err != nil || aws.ToInt64(groups.LogGroups[0].StoredBytes) != 11 {
		t.Fatalf("group storedBytes: %v %v", groups, err)
	}
}

func TestDescribeLogStreamsOrdersAndPages(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	ts := spaced(5)
	// Streams whose names sort opposite to their last event times.
	for i, name := range []string{"e", "d", "c", "b", "a"} {
		h.putEvents(t, "g", name, ts[i:i+1], "x")
	}
	h.putEvents(t, "g", "other", nil)
	list := func(in cloudwatchlogs.DescribeLogStreamsInput) string {
		t.Helper()
		in.LogGroupName = aws.String("g")
		var names []string
		p := cloudwatchlogs.NewDescribeLogStreamsPaginator(h.client, &in)
		for p.HasMorePages() {
			out, err := p.NextPage(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range out.LogStreams {
				names = append(names, aws.ToString(s.LogStreamName))
			}
		}
		return fmt.Sprint(names)
	}
	cases := []struct {
		name string
		in   cloudwatchlogs.DescribeLogStreamsInput
		want string
	}{
		{"by name", cloudwatchlogs.DescribeLogStreamsInput{Limit: aws.Int32(2)}, "[a b c d e other]"},
		{"by name descending", cloudwatchlogs.DescribeLogStreamsInput{Limit: aws.Int32(4), Descending: aws.Bool(true)}, "[other e d c b a]"},
		{"by prefix", cloudwatchlogs.DescribeLogStreamsInput{LogStreamNamePrefix: aws.String("o")}, "[other]"},
		{"by last event time", cloudwatchlogs.DescribeLogStreamsInput{OrderBy: types.OrderByLastEventTime, Limit: aws.Int32(2)}, "[other e d c b a]"},
		{"newest first", cloudwatchlogs.DescribeLogStreamsInput{OrderBy: types.OrderByLastEventTime, Descending: aws.Bool(true), Limit: aws.Int32(1)}, "[a b c d e other]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := list(tc.in); got != tc.want {
				t.Fatalf("= %s, want %s", got, tc.want)
			}
		})
	}
	t.Run("last event time with a prefix is refused", func(t *testing.T) {
		_, err := h.client.DescribeLogStreams(t.Context(), &cloudwatchlogs.DescribeLogStreamsInput{LogGroupName: aws.String("g"),
			OrderBy: types.OrderByLastEventTime, LogStreamNamePrefix: aws.String("a")})
		expectAPIError(t, err, "InvalidParameterException")
	})
	t.Run("name and identifier together are refused", func(t *testing.T) {
		_, err := h.client.DescribeLogStreams(t.Context(), &cloudwatchlogs.DescribeLogStreamsInput{LogGroupName: aws.String("g"), LogGroupIdentifier: aws.String("g")})
		expectAPIError(t, err, "InvalidParameterException")
	})
	t.Run("a missing group is not found", func(t *testing.T) {
		_, err := h.client.DescribeLogStreams(t.Context(), &cloudwatchlogs.DescribeLogStreamsInput{LogGroupName: aws.String("nope")})
		expectAPIError(t, err, "ResourceNotFoundException")
	})
}
