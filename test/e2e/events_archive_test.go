package e2e

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// TestEventArchiveAndReplay archives a bus's events that match the archive's pattern, then
// replays a window of them to one rule of the bus: its target receives them again with
// "replay-name", and a rule outside the replay's filter does not.
func TestEventArchiveAndReplay(t *testing.T) {
	t.Parallel()
	cl := kiritest.Start(t, kiritest.Options{}).Clients()
	c := cl.Events
	ctx := t.Context()
	if _, err := c.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String("orders")}); err != nil {
		t.Fatal(err)
	}
	busARN := "arn:aws:events:us-east-1:000000000000:event-bus/orders"
	url, queueARN := createQueue(t, cl.SQS, "replayed")
	other, otherARN := createQueue(t, cl.SQS, "not-replayed")
	ruleARN := putRuleWithTargets(t, c, "orders", "orders", `{"source":["shop"]}`, ebtypes.Target{Id: aws.String("q"), Arn: aws.String(queueARN)})
	putRuleWithTargets(t, c, "orders", "others", `{"source":["shop"]}`, ebtypes.Target{Id: aws.String("q"), Arn: aws.String(otherARN)})

	arc, err := c.CreateArchive(ctx, &eventbridge.CreateArchiveInput{ArchiveName: aws.String("big"), EventSourceArn: aws.String(busARN),
		EventPattern: aws.String(`{"detail":{"amount":[{"numeric":[">",100]}]}}`), RetentionDays: aws.Int32(7)})
	if err != nil || aws.ToString(arc.ArchiveArn) != "arn:aws:events:us-east-1:000000000000:archive/big" || arc.State != ebtypes.ArchiveStateEnabled {
		t.Fatalf("CreateArchive = %+v, %v", arc, err)
	}
	_, err = c.CreateArchive(ctx, &eventbridge.CreateArchiveInput{ArchiveName: aws.String("big"), EventSourceArn: aws.String(busARN)})
	wantEventsError(t, err, "ResourceAlreadyExistsException", "Archive big already exists.")
	_, err = c.CreateArchive(ctx, &eventbridge.CreateArchiveInput{ArchiveName: aws.String("x"), EventSourceArn: aws.String("arn:aws:events:us-east-1:000000000000:event-bus/nope")})
	wantEventsError(t, err, "ResourceNotFoundException", "Event bus nope does not exist.")

	from := time.Now().Add(-time.Second)
	ids := map[string]bool{}
	for _, amount := range []int{500, 5, 900} {
		id := putEvent(t, c, "orders", "shop", "Order Placed", `{"amount":`+itoaE(amount)+`}`)
		if amount > 100 {
			ids[id] = true
		}
	}
	receiveAll(t, cl.SQS, url, 3, 10*time.Second)
	receiveAll(t, cl.SQS, other, 3, 10*time.Second)
	d, err := c.DescribeArchive(ctx, &eventbridge.DescribeArchiveInput{ArchiveName: aws.String("big")})
	if err != nil || d.EventCount != 2 || d.SizeBytes == 0 || d.RetentionDays == nil || *d.RetentionDays != 7 {
		t.Fatalf("DescribeArchive = %+v, %v", d, err)
	}
	list, err := c.ListArchives(ctx, &eventbridge.ListArchivesInput{EventSourceArn: aws.String(busARN)})
	if err != nil || len(list.Archives) != 1 {
		t.Fatalf("ListArchives = %+v, %v", list, err)
	}

	_, err = c.StartReplay(ctx, &eventbridge.StartReplayInput{ReplayName: aws.String("r"), EventSourceArn: arc.ArchiveArn,
		EventStartTime: aws.Time(from), EventEndTime: aws.Time(time.Now()), Destination: &ebtypes.ReplayDestination{Arn: aws.String("arn:aws:events:us-east-1:000000000000:event-bus/default")}})
	wantEventsError(t, err, "ValidationException", "Parameter Destination.Arn is not valid. Reason: Cross event bus replay is not permitted.")
	time.Sleep(10 * time.Millisecond)
	start, err := c.StartReplay(ctx, &eventbridge.StartReplayInput{ReplayName: aws.String("again"), EventSourceArn: arc.ArchiveArn,
		EventStartTime: aws.Time(from), EventEndTime: aws.Time(time.Now()),
		Destination: &ebtypes.ReplayDestination{Arn: aws.String(busARN), FilterArns: []string{ruleARN}}})
	if err != nil || start.State != ebtypes.ReplayStateStarting {
		t.Fatalf("StartReplay = %+v, %v", start, err)
	}
	for _, m := range receiveAll(t, cl.SQS, url, 2, 10*time.Second) {
		var ev struct {
			ID         string
			ReplayName string `json:"replay-name"`
		}
		if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &ev); err != nil || ev.ReplayName != "again" || !ids[ev.ID] {
			t.Errorf("replayed event %s", aws.ToString(m.Body))
		}
	}
	wantNoMessage(t, cl.SQS, other) // a rule outside the replay's filter
	deadline := time.Now().Add(10 * time.Second)
	for {
		r, err := c.DescribeReplay(ctx, &eventbridge.DescribeReplayInput{ReplayName: aws.String("again")})
		if err != nil {
			t.Fatal(err)
		}
		if r.State == ebtypes.ReplayStateCompleted {
			if r.ReplayEndTime == nil || r.EventLastReplayedTime == nil || aws.ToString(r.Destination.Arn) != busARN {
				t.Errorf("DescribeReplay = %+v", r)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("replay state %s", r.State)
		}
		time.Sleep(20 * time.Millisecond)
	}
	_, err = c.CancelReplay(ctx, &eventbridge.CancelReplayInput{ReplayName: aws.String("again")})
	wantEventsError(t, err, "IllegalStatusException", "")
	replays, err := c.ListReplays(ctx, &eventbridge.ListReplaysInput{})
	if err != nil || len(replays.Replays) != 1 {
		t.Fatalf("ListReplays = %+v, %v", replays, err)
	}
	if _, err := c.DeleteArchive(ctx, &eventbridge.DeleteArchiveInput{ArchiveName: aws.String("big")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DescribeArchive(ctx, &eventbridge.DescribeArchiveInput{ArchiveName: aws.String("big")})
	wantEventsError(t, err, "ResourceNotFoundException", "Archive big does not exist.")
}

func itoaE(n int) string { b, _ := json.Marshal(n); return string(b) }
