package events

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/dispatch"
	"github.com/kiri-run/kiri/internal/iam/authz"
	"github.com/kiri-run/kiri/internal/iam/policy"
	"github.com/kiri-run/kiri/internal/queue"
	"github.com/kiri-run/kiri/internal/uuid"
)

// kind receives the target registry's deliveries to bus ARNs: events from rules of other buses
// (of this account or another) and from other services (S3's EventBridge notifications). Each
// is put on the bus as it is, and routed by the bus's rules.
//
// A delivery from another account needs the bus's resource policy to let that account (or the
// delivery's role) events:PutEvents, decided by the policy engine.
//
// Deliveries to API destination ARNs are calls to their endpoints.
//
// It also receives EventBridge's own deliveries that failed for good, addressed to the rule they
// came from (see deliveryPolicy), and sends them to the target's dead-letter queue with the
// message attributes EventBridge adds.
type kind struct{ s *Service }

// Check reports whether the bus exists and src may put events on it.
func (k kind) Check(ctx context.Context, arn string, src dispatch.Source) error {
	if _, _, ok := parseRuleARN(arn); ok && src.Principal == principal {
		return nil
	}
	if _, _, _, _, ok := parseDestARN(arn); ok {
		_, _, err := k.s.checkDestination(ctx, arn, src)
		return err
	}
	key, ok := parseBusARN(arn)
	if !ok {
		return fmt.Errorf("%s: %w", arn, dispatch.ErrNoTarget)
	}
	b, err := loadBus(k.s.reader(ctx), key)
	if err != nil {
		return err
	}
	if b == nil {
		return fmt.Errorf("%s: %w", arn, dispatch.ErrNoTarget)
	}
	req := authz.Request{Action: "events:PutEvents", Resource: arn, ResourceAccount: key.Account, ResourcePolicy: k.s.busPolicy(b)}
	if src.Role != "" && k.s.enforcing() {
		return dispatch.Authorize(ctx, k.s.authz, src, req)
	}
	if src.Account == "" || src.Account == key.Account {
		return nil
	}
	if req.ResourcePolicy == nil {
		return fmt.Errorf("%s has no policy letting account %s put events: %w", arn, src.Account, dispatch.ErrTargetDenied)
	}
	// Another account's bus: its policy must let the sending account put events, as AWS
	// decides for rules that target a bus across accounts.
	pr := policy.Request{Principal: policy.Principal{Type: policy.Root, Account: src.Account, ARN: "arn:aws:iam::" + src.Account + ":root", UserID: src.Account},
		Action: req.Action, Resource: arn, ResourceAccount: key.Account, SourceARN: src.ARN, SourceAccount: src.Account, Time: k.s.now()}
	if !policy.Evaluate(&pr, &policy.Set{Resource: req.ResourcePolicy}).Allowed {
		return fmt.Errorf("%s's policy does not let account %s put events: %w", arn, src.Account, dispatch.ErrTargetDenied)
	}
	return nil
}

// Deliver puts the delivered event on its bus, or sends a failed delivery to its dead-letter
// queue.
func (k kind) Deliver(ctx context.Context, d dispatch.Delivery) error {
	if bus, rule, ok := parseRuleARN(d.Target); ok && d.Source.Principal == principal {
		return k.s.deadLetter(ctx, d, bus, rule)
	}
	if _, _, _, _, ok := parseDestARN(d.Target); ok {
		return k.s.deliverToDestination(ctx, d)
	}
	if err := k.Check(ctx, d.Target, d.Source); err != nil {
		return err
	}
	key, _ := parseBusARN(d.Target)
	b, err := mustBus(k.s.reader(ctx), key)
	if err != nil {
		return fmt.Errorf("%s: %w", d.Target, dispatch.ErrNoTarget)
	}
	event := d.Payload
	if d.Source.Principal == lambdaPrincipal {
		event = k.s.lambdaResultEvent(d)
	}
	var head struct {
		ID         string          `json:"id"`
		DetailType string          `json:"detail-type"`
		Source     string          `json:"source"`
		Detail     json.RawMessage `json:"detail"`
	}
	if err := json.Unmarshal(event, &head); err != nil || head.DetailType == "" || head.Source == "" || len(head.Detail) == 0 {
		return queueNever(fmt.Errorf("delivery to %s is not an event", d.Target))
	}
	return k.s.ingest(ctx, map[busKey]*busRow{key: b}, []ingested{{bus: key, id: head.ID, event: event, at: k.s.now()}})
}

// lambdaPrincipal is the principal of Lambda's deliveries to destinations.
const lambdaPrincipal = "lambda.amazonaws.com"

// lambdaResultEvent is the event EventBridge makes of a Lambda destination's invocation
// record: source "lambda", detail-type "Lambda Function Invocation Result - Success" (or
// "- Failure"), the function's ARN as its resource and the record as its detail.
func (s *Service) lambdaResultEvent(d dispatch.Delivery) []byte {
	var rec struct {
		RequestContext struct {
			FunctionARN string `json:"functionArn"`
			Condition   string `json:"condition"`
		} `json:"requestContext"`
	}
	if err := json.Unmarshal(d.Payload, &rec); err != nil {
		return d.Payload
	}
	outcome := "Failure"
	if rec.RequestContext.Condition == "Success" {
		outcome = "Success"
	}
	id := uuid.New()
	e := PutEventsRequestEntry{Source: awsproto.Ptr("lambda"), DetailType: awsproto.Ptr("Lambda Function Invocation Result - " + outcome),
		Detail: awsproto.Ptr(string(d.Payload)), Resources: []string{rec.RequestContext.FunctionARN}}
	return envelope(id, d.Source.Account, d.Source.Region, s.now(), &e)
}

// deadLetter sends a delivery of a rule's that failed for good to the dead-letter queue of the
// rule's target it was for, with RULE_ARN, TARGET_ARN, ERROR_CODE, ERROR_MESSAGE,
// EXHAUSTED_RETRY_CONDITION and RETRY_ATTEMPTS attributes. Without such a target any more,
// the event is dropped, as EventBridge drops it.
func (s *Service) deadLetter(ctx context.Context, d dispatch.Delivery, bus busKey, ruleName string) error {
	f := d.Failure
	log := s.log.With("rule", d.Target)
	if f == nil {
		log.Warn("dead-letter delivery without its failure; dropped")
		return nil
	}
	q := s.reader(ctx)
	r, err := loadRule(q, bus, ruleName)
	if err != nil {
		return err
	}
	var dlq string
	if r != nil {
		ts, err := loadTargets(q, r.ID, "", maxTargets+1)
		if err != nil {
			return err
		}
		for _, t := range ts {
			if awsproto.Value(t.Arn) == f.Target && t.DeadLetterConfig != nil && awsproto.Value(t.DeadLetterConfig.Arn) != "" {
				dlq = *t.DeadLetterConfig.Arn
				break
			}
		}
	}
	if dlq == "" {
		log.Warn("event not delivered and dropped: its target has no dead-letter queue any more", "target", f.Target)
		return nil
	}
	str := func(v string) dispatch.Attribute { return dispatch.Attribute{Type: "String", Value: v} }
	attrs := map[string]dispatch.Attribute{
		"RULE_ARN":      str(d.Target),
		"TARGET_ARN":    str(f.Target),
		"ERROR_CODE":    str(errorCode(f)),
		"ERROR_MESSAGE": str(f.Error),
	}
	if f.Exhausted != "" {
		cond := "MaximumRetryAttempts"
		if f.Exhausted == "MaxAge" {
			cond = "MaximumEventAgeInSeconds"
		}
		attrs["EXHAUSTED_RETRY_CONDITION"] = str(cond)
		attrs["RETRY_ATTEMPTS"] = dispatch.Attribute{Type: "Number", Value: strconv.Itoa(max(f.Attempts-1, 0))}
	}
	log.Info("event not delivered; sending it to the target's dead-letter queue", "target", f.Target, "dead_letter", dlq)
	return s.targets.Deliver(ctx, dispatch.Delivery{Target: dlq, Payload: d.Payload, Attributes: attrs, TraceParent: d.TraceParent,
		Source: dispatch.Source{Principal: principal, ARN: d.Target, Account: bus.Account, Region: bus.Region}})
}

// errorCode is the ERROR_CODE EventBridge gives a failure.
func errorCode(f *dispatch.Failure) string {
	switch {
	case f.NoTarget:
		return "NO_RESOURCE"
	case f.Denied:
		return "NO_PERMISSIONS"
	}
	return "SDK_CLIENT_ERROR"
}

// queueNever marks an error retrying cannot help.
func queueNever(err error) error { return queue.Permanent(err) }
