package e2e

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	schedtypes "github.com/aws/aws-sdk-go-v2/service/scheduler/types"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// TestSchedulerFireMissedWhileDownIsDeliveredOnRestart kills Kiri (SIGKILL) after it
// acknowledged a one-time schedule, keeps it down past the fire's time, and starts it again on
// the same data directory: the missed fire is delivered when it comes back.
func TestSchedulerFireMissedWhileDownIsDeliveredOnRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	first := kiritest.StartProcess(t, kiritest.Options{DataDir: dir})
	cl := first.Clients()
	url, arn := createQueue(t, cl.SQS, "while-down")
	expr := atIn(2 * time.Second)
	createSchedule(t, cl.Scheduler, "during-downtime", expr, &schedtypes.Target{Arn: aws.String(arn), Input: aws.String(`{"missed":true}`)})
	first.Kill()
	at, _ := time.Parse("2006-01-02T15:04:05", expr[len("at("):len(expr)-1])
	time.Sleep(time.Until(at) + time.Second)

	second := kiritest.StartProcess(t, kiritest.Options{DataDir: dir})
	got := receiveAll(t, second.Clients().SQS, url, 1, 15*time.Second)
	if aws.ToString(got[0].Body) != `{"missed":true}` {
		t.Fatalf("body %s", aws.ToString(got[0].Body))
	}
}
