package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// TestAWSCLIScheduler drives Scheduler with the AWS CLI v2.9 (strict mode): a group, a schedule
// in it that sends to a queue, reading it back, and the CLI's rendering of a refusal.
func TestAWSCLIScheduler(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{Strict: true})
	mustAWS(t, srv, "sqs", "create-queue", "--queue-name", "cli-schedule")
	queue := "arn:aws:sqs:us-east-1:" + kiritest.TestAccount + ":cli-schedule"
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"scheduler.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	mustAWS(t, srv, "iam", "create-role", "--role-name", "cli-scheduler", "--assume-role-policy-document", trust)
	mustAWS(t, srv, "iam", "put-role-policy", "--role-name", "cli-scheduler", "--policy-name", "send", "--policy-document",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sqs:SendMessage","Resource":"*"}]}`)
	role := "arn:aws:iam::" + kiritest.TestAccount + ":role/cli-scheduler"
	mustAWS(t, srv, "scheduler", "create-schedule-group", "--name", "cli", "--tags", "Key=team,Value=ops")
	target := `{"Arn":"` + queue + `","RoleArn":"` + role + `","Input":"from the CLI"}`
	mustAWS(t, srv, "scheduler", "create-schedule", "--name", "hello", "--group-name", "cli",
		"--schedule-expression", atIn(time.Second), "--flexible-time-window", "Mode=OFF", "--target", target)
	var got struct {
		Arn, GroupName, ScheduleExpression, State string
		Target                                    struct{ Arn, Input string }
	}
	mustAWSJSON(t, srv, &got, "scheduler", "get-schedule", "--name", "hello", "--group-name", "cli")
	if got.GroupName != "cli" || got.State != "ENABLED" || got.Target.Arn != queue || got.Target.Input != "from the CLI" ||
		got.Arn != "arn:aws:scheduler:us-east-1:"+kiritest.TestAccount+":schedule/cli/hello" {
		t.Fatalf("get-schedule: %+v", got)
	}
	var msgs struct{ Messages []struct{ Body string } }
	deadline := time.Now().Add(15 * time.Second)
	for len(msgs.Messages) == 0 && time.Now().Before(deadline) {
		mustAWSJSON(t, srv, &msgs, "sqs", "receive-message", "--queue-url", srv.URL+"/"+kiritest.TestAccount+"/cli-schedule", "--wait-time-seconds", "2")
	}
	if len(msgs.Messages) != 1 || msgs.Messages[0].Body != "from the CLI" {
		t.Fatalf("messages %+v", msgs)
	}
	out, err := runAWS(t, srv, "scheduler", "create-schedule", "--name", "bad", "--schedule-expression", "rate(1 minutes)",
		"--flexible-time-window", "Mode=OFF", "--target", target)
	if err == nil || !strings.Contains(out, "ValidationException") || !strings.Contains(out, "Invalid Schedule Expression rate(1 minutes).") {
		t.Fatalf("a refused schedule: %v\n%s", err, out)
	}
}
