package e2e

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/pipes"
	ptypes "github.com/aws/aws-sdk-go-v2/service/pipes/types"
	schedtypes "github.com/aws/aws-sdk-go-v2/service/scheduler/types"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// TestSchedulesAndPipesPutEventsOnBuses has a schedule and a pipe target event buses: each
// puts an event in EventBridge's envelope on its bus, whose rule routes it to a queue.
func TestSchedulesAndPipesPutEventsOnBuses(t *testing.T) {
	t.Parallel()
	cl := kiritest.Start(t, kiritest.Options{}).Clients()
	ctx := t.Context()
	bus, err := cl.Events.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String("orders")})
	if err != nil {
		t.Fatal(err)
	}
	outURL, outARN := createQueue(t, cl.SQS, "routed")
	putRuleWithTargets(t, cl.Events, "orders", "from-pipe", `{"source":["Pipe intake"],"detail-type":["Event from aws:sqs"]}`,
		ebtypes.Target{Id: aws.String("q"), Arn: aws.String(outARN), InputPath: aws.String("$.detail.body")})
	putRuleWithTargets(t, cl.Events, "", "from-schedule", `{"source":["shop.reminders"],"detail-type":["Order Due"]}`,
		ebtypes.Target{Id: aws.String("q"), Arn: aws.String(outARN)})

	inURL, inARN := createQueue(t, cl.SQS, "intake")
	createPipe(t, cl.Pipes, &pipes.CreatePipeInput{Name: aws.String("intake"), Source: aws.String(inARN), Target: bus.EventBusArn,
		SourceParameters: &ptypes.PipeSourceParameters{SqsQueueParameters: &ptypes.PipeSourceSqsQueueParameters{BatchSize: aws.Int32(1)}}})
	sendBodies(t, cl.SQS, inURL, "order 7 placed")
	got := receiveAll(t, cl.SQS, outURL, 1, 20*time.Second)
	if body := aws.ToString(got[0].Body); body != `"order 7 placed"` {
		t.Fatalf("the pipe's event carried body %s, want the SQS message's body", body)
	}

	defaultBus := "arn:aws:events:us-east-1:000000000000:event-bus/default"
	createSchedule(t, cl.Scheduler, "due", atIn(time.Second), &schedtypes.Target{Arn: aws.String(defaultBus), Input: aws.String(`{"order":7}`),
		EventBridgeParameters: &schedtypes.EventBridgeParameters{DetailType: aws.String("Order Due"), Source: aws.String("shop.reminders")}})
	got = receiveAll(t, cl.SQS, outURL, 1, 20*time.Second)
	var ev struct {
		Version    string          `json:"version"`
		ID         string          `json:"id"`
		DetailType string          `json:"detail-type"`
		Source     string          `json:"source"`
		Account    string          `json:"account"`
		Time       string          `json:"time"`
		Region     string          `json:"region"`
		Resources  []string        `json:"resources"`
		Detail     json.RawMessage `json:"detail"`
	}
	if err := json.Unmarshal([]byte(aws.ToString(got[0].Body)), &ev); err != nil || ev.Version != "0" || ev.ID == "" || ev.Account != "000000000000" ||
		ev.Region != "us-east-1" || string(ev.Detail) != `{"order":7}` || len(ev.Resources) != 1 {
		t.Fatalf("the schedule's event = %s (%v)", aws.ToString(got[0].Body), err)
	}
}
