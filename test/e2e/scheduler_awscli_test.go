package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// TestAWSCLIScheduler drives Scheduler with the AWS CLI v2.9: a tagged group, a schedule in it
// that sends to a queue, reading it back, and the CLI's rendering of a refusal.
func TestAWSCLIScheduler(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{})
	mustAWS(t, srv, "sqs", "create-queue", "--queue-name", "cli-schedule")
	queue := "arn:aws:sqs:us-east-1:000000000000:cli-schedule"
	mustAWS(t, srv, "scheduler", "create-schedule-group", "--name", "cli", "--tags", "Key=team,Value=ops")
	target := `{"Arn":"` + queue + `","RoleArn":"` + schedulerRole + `","Input":"from the CLI"}`
	mustAWS(t, srv, "scheduler", "create-schedule", "--name", "hello", "--group-name", "cli",
		"--schedule-expression", atIn(time.Second), "--flexible-time-window", "Mode=OFF", "--target", target)
	var got struct {
		Arn, GroupName, ScheduleExpression, State string
		Target                                    struct{ Arn, Input string }
	}
	mustAWSJSON(t, srv, &got, "scheduler", "get-schedule", "--name", "hello", "--group-name", "cli")
	if got.GroupName != "cli" || got.State != "ENABLED" || got.Target.Arn != queue || got.Target.Input != "from the CLI" ||
		got.Arn != "arn:aws:scheduler:us-east-1:000000000000:schedule/cli/hello" {
		t.Fatalf("get-schedule: %+v", got)
	}
	var msgs struct{ Messages []struct{ Body string } }
	mustAWSJSON(t, srv, &msgs, "sqs", "receive-message", "--queue-url", srv.URL+"/000000000000/cli-schedule", "--wait-time-seconds", "10")
	if len(msgs.Messages) != 1 || msgs.Messages[0].Body != "from the CLI" {
		t.Fatalf("messages %+v", msgs)
	}
	out, err := runAWS(t, srv, "scheduler", "create-schedule", "--name", "bad", "--schedule-expression", "rate(1 minutes)",
		"--flexible-time-window", "Mode=OFF", "--target", target)
	if err == nil || !strings.Contains(out, "ValidationException") || !strings.Contains(out, "Invalid Schedule Expression rate(1 minutes).") {
		t.Fatalf("a refused schedule: %v\n%s", err, out)
	}
}
