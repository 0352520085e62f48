package logs

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
)

func TestPutRetentionPolicyValidation(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	h.putEvents(t, "g", "s", nil)
	cases := []struct {
		name  string
		group string
		days  int32
		err   string
	}{
		{"a listed value is accepted", "g", 14, ""},
		{"the longest value is accepted", "g", 3653, ""},
		{"an unlisted value is refused", "g", 2, "InvalidParameterException"},
		{"zero is refused", "g", 0, "InvalidParameterException"},
		{"a missing group is not found", "nope", 7, "ResourceNotFoundException"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := h.client.PutRetentionPolicy(t.Context(), &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: aws.String(tc.group), RetentionInDays: aws.Int32(tc.days)})
			if tc.err != "" {
				expectAPIError(t, err, tc.err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			out, err := h.client.DescribeLogGroups(t.Context(), &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String(tc.group)})
			if err != nil || aws.ToInt32(out.LogGroups[0].RetentionInDays) != tc.days {
				t.Fatalf("retention = %v, %v", out, err)
			}
		})
	}
	if _, err := h.client.DeleteRetentionPolicy(t.Context(), &cloudwatchlogs.DeleteRetentionPolicyInput{LogGroupName: aws.String("g")}); err != nil {
		t.Fatal(err)
	}
	out, err := h.client.DescribeLogGroups(t.Context(), &cloudwatchlogs.DescribeLogGroupsInput{})
	if err != nil || out.LogGroups[0].RetentionInDays != nil {
		t.Fatalf("retention after delete = %v, %v", out, err)
	}
}

// storedMessages counts a group's rows in the store, deleted or not by the API's view.
func storedMessages(t *testing.T, h *harness, group string) int {
	t.Helper()
	var n int
	if err := h.st.QueryRow(t.Context(), `SELECT COUNT(*) FROM logs_events e JOIN logs_groups g ON g.id = e.group_id WHERE g.name = ?`, group).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestRetentionIsAppliedWhenSet(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	ctx := t.Context()
	now := time.Now()
	events := []Event{{Time: now.Add(-10 * 24 * time.Hour), Message: "ten days old"}, {Time: now.Add(-time.Hour), Message: "fresh"}}
	if err := h.svc.AppendLogs(ctx, testAccount, "us-east-1", "g", "s", events); err != nil {
		t.Fatal(err)
	}
	if _, err := h.client.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: aws.String("g"), RetentionInDays: aws.Int32(7)}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the expired event to go", func() bool { return storedMessages(t, h, "g") == 1 })
	if got := messages(t, h, "g", "s"); got != "[fresh]" {
		t.Fatalf("messages = %s", got)
	}
	out, err := h.client.DescribeLogStreams(ctx, &cloudwatchlogs.DescribeLogStreamsInput{LogGroupName: aws.String("g")})
	if err != nil {
		t.Fatal(err)
	}
	s := out.LogStreams[0]
	if aws.ToInt64(s.StoredBytes) != int64(len("fresh")) || aws.ToInt64(s.FirstEventTimestamp) != now.Add(-time.Hour).UnixMilli() {
		t.Fatalf("stream after expiry = storedBytes %d first %d", aws.ToInt64(s.StoredBytes), aws.ToInt64(s.FirstEventTimestamp))
	}
}

func TestPeriodicSweepExpiresEvents(t *testing.T) {
	h := newHarness(t, harnessOptions{sweep: 50 * time.Millisecond})
	ctx := t.Context()
	h.putEvents(t, "g", "s", nil)
	if _, err := h.client.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: aws.String("g"), RetentionInDays: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	// Written after the retention was set, as events age past it while Kiri runs.
	now := time.Now()
	if err := h.svc.AppendLogs(ctx, testAccount, "us-east-1", "g", "s", []Event{{Time: now.Add(-49 * time.Hour), Message: "old"}, {Time: now, Message: "new"}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the sweep", func() bool { return storedMessages(t, h, "g") == 1 })
	// The job stays one timer long: each sweep makes the same timer due again.
	time.Sleep(300 * time.Millisecond)
	var pending int
	if err := h.st.QueryRow(ctx, `SELECT COUNT(*) FROM kiri_queue_messages WHERE queue LIKE ?`, "%"+topicSweep).Scan(&pending); err != nil {
		t.Fatal(err)
	}
	if pending != 1 {
		t.Fatalf("%d sweep timers pending, want 1", pending)
	}
}

func TestDeleteLogGroupPurgesEvents(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	ctx := t.Context()
	events := make([]Event, purgeChunk+10)
	for i := range events {
		events[i] = Event{Time: time.Now(), Message: "x"}
	}
	if err := h.svc.AppendLogs(ctx, testAccount, "us-east-1", "g", "s", events); err != nil {
		t.Fatal(err)
	}
	if _, err := h.client.DeleteLogGroup(ctx, &cloudwatchlogs.DeleteLogGroupInput{LogGroupName: aws.String("g")}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the purge", func() bool {
		var n int
		_ = h.st.QueryRow(ctx, `SELECT COUNT(*) FROM logs_events`).Scan(&n)
		return n == 0
	})
}
