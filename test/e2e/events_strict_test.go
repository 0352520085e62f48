package e2e

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/kiri-run/kiri/internal/auth"
	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// TestEventsCrossAccountPutEvents puts events from one account on another's bus in strict
// mode: refused until the bus's policy lets that account put events, then routed by the
// owner's rules with the sender's account in the event.
func TestEventsCrossAccountPutEvents(t *testing.T) {
	t.Parallel()
	owner := auth.Key{AccessKeyID: kiritest.TestAccessKey, SecretAccessKey: kiritest.TestSecretKey, AccountID: kiritest.TestAccount}
	srv := kiritest.Start(t, kiritest.Options{Strict: true, Keys: []auth.Key{owner, otherAccountKey}})
	mine := srv.Clients()
	theirs := srv.ClientsAs(otherAccountKey.AccessKeyID, otherAccountKey.SecretAccessKey, "")
	ctx := t.Context()

	url, queueARN := createQueue(t, mine.SQS, "partner-events")
	ruleARN := putRuleWithTargets(t, mine.Events, "", "partner", `{"source":["partner"]}`, ebtypes.Target{Id: aws.String("q"), Arn: aws.String(queueARN)})
	// As in AWS, the queue's policy must let EventBridge send for the rule.
	if _, err := mine.SQS.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: aws.String(url), Attributes: map[string]string{"Policy": `{
		"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"events.amazonaws.com"},"Action":"sqs:SendMessage",
		"Resource":"` + queueARN + `","Condition":{"ArnEquals":{"aws:SourceArn":"` + ruleARN + `"}}}]}`}}); err != nil {
		t.Fatal(err)
	}
	bus := "arn:aws:events:us-east-1:" + kiritest.TestAccount + ":event-bus/default"
	put := func() (*eventbridge.PutEventsOutput, error) {
		return theirs.Events.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{{
			EventBusName: aws.String(bus), Source: aws.String("partner"), DetailType: aws.String("Hello"), Detail: aws.String(`{"n":1}`)}}})
	}
	_, err := put()
	wantEventsError(t, err, "AccessDeniedException", "")

	if _, err := mine.Events.PutPermission(ctx, &eventbridge.PutPermissionInput{Action: aws.String("events:PutEvents"),
		Principal: aws.String(otherAccountKey.AccountID), StatementId: aws.String("partner")}); err != nil {
		t.Fatal(err)
	}
	out, err := put()
	if err != nil || out.FailedEntryCount != 0 {
		t.Fatalf("PutEvents with the bus's grant = %+v, %v", out, err)
	}
	var ev struct{ ID, Account, Source string }
	if err := json.Unmarshal([]byte(aws.ToString(receiveAll(t, mine.SQS, url, 1, 10*time.Second)[0].Body)), &ev); err != nil ||
		ev.ID != aws.ToString(out.Entries[0].EventId) || ev.Account != otherAccountKey.AccountID || ev.Source != "partner" {
		t.Fatalf("event %+v (%v)", ev, err)
	}

	if _, err := mine.Events.RemovePermission(ctx, &eventbridge.RemovePermissionInput{StatementId: aws.String("partner")}); err != nil {
		t.Fatal(err)
	}
	_, err = put()
	wantEventsError(t, err, "AccessDeniedException", "")
}
