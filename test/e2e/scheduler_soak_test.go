//go:build soak

package e2e

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	schedtypes "github.com/aws/aws-sdk-go-v2/service/scheduler/types"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// TestSchedulerRateScheduleFiresRepeatedly creates rate(1 minute): Scheduler invokes the target
// at once and again a minute later. (Rate schedules are a minute apart at the least, so this
// test waits a minute and runs with -tags soak; the unit tests drive them on a clock.)
func TestSchedulerRateScheduleFiresRepeatedly(t *testing.T) {
	if testing.Short() {
		t.Skip("waits a minute for the second fire")
	}
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{})
	cl := srv.Clients()
	url, arn := createQueue(t, cl.SQS, "ticks")
	createSchedule(t, cl.Scheduler, "tick", "rate(1 minute)", &schedtypes.Target{Arn: aws.String(arn), Input: aws.String("<aws.scheduler.scheduled-time>")})
	first := receiveAll(t, cl.SQS, url, 1, 10*time.Second)
	second := receiveAll(t, cl.SQS, url, 1, 75*time.Second)
	t1, err1 := time.Parse(time.RFC3339, aws.ToString(first[0].Body))
	t2, err2 := time.Parse(time.RFC3339, aws.ToString(second[0].Body))
	if err1 != nil || err2 != nil || t2.Sub(t1) != time.Minute {
		t.Fatalf("fires scheduled at %s and %s, want a minute apart", aws.ToString(first[0].Body), aws.ToString(second[0].Body))
	}
}

// TestSchedulerFifoQueueTarget sends to a FIFO queue with the schedule's MessageGroupId.
