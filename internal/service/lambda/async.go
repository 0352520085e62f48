package lambda

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/dispatch"
	"github.com/kiri-run/kiri/internal/queue"
	"github.com/kiri-run/kiri/internal/runtime"
	"github.com/kiri-run/kiri/internal/store"
	"github.com/kiri-run/kiri/internal/telemetry"
)

// topicAsync carries Event invocations: one queued message per attempt, written in the same
// transaction that accepts the invocation (or schedules its retry), so accepted events survive
// restarts and a retry waits in the store, not in memory.
const topicAsync = "lambda.async"

// Lambda's defaults for asynchronous invocation.
const (
	defaultAsyncRetries = 2
	defaultMaxEventAge  = 6 * time.Hour
)

// destinationActions are the calls a function's execution role makes on each kind of
// destination, as Lambda names them when it refuses one.
var destinationActions = []struct{ prefix, action, service string }{
	{"arn:aws:sqs:", "SendMessage", "SQS"},
	{"arn:aws:sns:", "Publish", "SNS"},
	{"arn:aws:events:", "PutEvents", "EventBridge"},
	{"arn:aws:s3:", "PutObject", "S3"},
}

// deliverable reports whether Kiri can deliver records to a destination ARN: whether a service
// receives deliveries to such ARNs through the target registry.
func (s *Service) deliverable(arn string) bool { return s.deps.Targets.Delivers(arn) }

// checkDestinations refuses on-success and on-failure destinations Kiri cannot deliver to, as
// Lambda refuses one its execution role cannot reach.
func (s *Service) checkDestinations(arns ...string) error {
	for _, arn := range arns {
		if arn == "" || s.deliverable(arn) {
			continue
		}
		action, _ := destinationAction(arn)
		return invalidParameter("The function's execution role does not have permissions to call %s on %s", action, arn)
	}
	return nil
}

// checkDeadLetterDelivery refuses a dead-letter queue or topic Kiri cannot deliver to, in
// Lambda's words for a target the execution role cannot reach.
func (s *Service) checkDeadLetterDelivery(arn string) error {
	if arn == "" || s.deliverable(arn) {
		return nil
	}
	action, service := destinationAction(arn)
	return invalidParameter("The provided execution role does not have permissions to call %s on %s", action, service)
}

func destinationAction(arn string) (action, service string) {
	for _, d := range destinationActions {
		if strings.HasPrefix(arn, d.prefix) {
			return d.action, d.service
		}
	}
	return "InvokeFunction", "Lambda"
}

// asyncEvent is the queued message of one attempt of an Event invocation.
type asyncEvent struct {
	Account       string          `json:"account"`
	Region        string          `json:"region"`
	Function      string          `json:"function"`
	Qualifier     string          `json:"qualifier,omitempty"` // the version or alias invoked ("" = $LATEST)
	RequestID     string          `json:"requestId"`
	Payload       json.RawMessage `json:"payload,omitempty"`
	ClientContext string          `json:"clientContext,omitempty"`
	TraceID       string          `json:"traceId,omitempty"`
	Accepted      time.Time       `json:"accepted"`
	Attempt       int             `json:"attempt"` // 1-based
}

func (s *Service) registerAsync() {
	s.deps.Queue.Handle(topicAsync, s.runAsync, queue.HandlerOptions{Concurrency: 64})
}

// enqueueAsync stores an accepted Event invocation.
func (s *Service) enqueueAsync(ctx context.Context, inv *invocation) error {
	return s.st.Write(ctx, func(tx *store.Tx) error { return s.enqueueAsyncTx(ctx, tx, inv) })
}

func (s *Service) enqueueAsyncTx(ctx context.Context, tx *store.Tx, inv *invocation) error {
	qualifier := inv.t.alias
	if qualifier == "" && strings.Count(inv.t.invokedARN, ":") == 7 {
		qualifier = inv.t.version
	}
	ev := asyncEvent{
		Account: inv.t.account, Region: inv.t.region, Function: inv.t.name, Qualifier: qualifier,
		RequestID: inv.requestID, Payload: inv.payload, ClientContext: inv.clientContext, TraceID: inv.traceID,
		Accepted: s.now().UTC(), Attempt: 1,
	}
	return s.enqueueAttempt(ctx, tx, ev, time.Time{})
}

func (s *Service) enqueueAttempt(ctx context.Context, tx *store.Tx, ev asyncEvent, at time.Time) error {
	b, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	_, err = s.deps.Queue.Send(tx, topicAsync, queue.Outgoing{Body: b, At: at, TraceParent: telemetry.TraceParent(ctx)})
	return err
}

// runAsync runs one attempt. A failed attempt is not handed back to the engine: the next attempt
// (or the failure destination) is written to the store instead, as Lambda's retry policy says.
func (s *Service) runAsync(ctx context.Context, rec queue.Message) error {
	var ev asyncEvent
	if err := json.Unmarshal(rec.Body, &ev); err != nil {
		return queue.Permanent(fmt.Errorf("decode async invocation: %w", err))
	}
	t, err := s.resolve(ctx, ev.Account, ev.Region, ev.Function, ev.Qualifier)
	var apiErr *awsproto.Error
	if errors.As(err, &apiErr) {
		s.log.Info("async invocation dropped: function is gone", "function", ev.Function, "request_id", ev.RequestID, "err", err)
		return nil
	}
	if err != nil {
		return err
	}
	retries, maxAge := defaultAsyncRetries, defaultMaxEventAge
	if c := t.eventInvokeConfig; c != nil {
		if c.Retries != nil {
			retries = int(*c.Retries)
		}
		if c.MaxAge != nil {
			maxAge = time.Duration(*c.MaxAge) * time.Second
		}
	}
	if s.now().Sub(ev.Accepted) > maxAge {
		return s.asyncDone(ctx, t, ev, nil, "EventAgeExceeded")
	}
	if t.state == statePending {
		return s.retryAsync(ctx, ev, time.Second, false)
	}
	inv := &invocation{t: t, payload: ev.Payload, clientContext: ev.ClientContext, requestID: ev.RequestID, traceID: ev.TraceID}
	res, err := s.run(ctx, inv, nil)
	switch {
	case errors.As(err, &apiErr) && apiErr.Code == "TooManyRequestsException":
		// Throttles are retried, without spending an attempt, until the event is too old.
		return s.retryAsync(ctx, ev, time.Second, false)
	case err != nil:
		return err // the engine retries with backoff
	case res.FunctionError != "":
		if ev.Attempt <= retries {
			return s.retryAsync(ctx, ev, s.deps.AsyncRetryDelay*time.Duration(ev.Attempt), true)
		}
		return s.asyncDone(ctx, t, ev, res, "RetriesExhausted")
	}
	return s.asyncDone(ctx, t, ev, res, "Success")
}

func (s *Service) retryAsync(ctx context.Context, ev asyncEvent, delay time.Duration, spend bool) error {
	if spend {
		ev.Attempt++
	}
	return s.st.Write(ctx, func(tx *store.Tx) error { return s.enqueueAttempt(ctx, tx, ev, s.now().Add(delay)) })
}

// asyncDone sends the outcome of an Event invocation to its destination: on success the
// on-success destination; on failure the on-failure destination, else the dead-letter queue.
func (s *Service) asyncDone(ctx context.Context, t *target, ev asyncEvent, res *runtime.Result, condition string) error {
	var dest string
	if c := t.eventInvokeConfig; c != nil {
		dest = c.OnFailure
		if condition == "Success" {
			dest = c.OnSuccess
		}
	}
	if condition != "Success" {
		s.log.Info("async invocation failed", "function", t.functionARN, "request_id", ev.RequestID, "condition", condition, "attempts", ev.Attempt)
	}
	if dest != "" {
		return s.sendRecord(ctx, t, dest, destinationRecord(t, ev, res, condition), nil)
	}
	if condition != "Success" && t.deadLetterTarget != "" {
		// A dead-letter queue gets the event itself, and what failed as message attributes.
		return s.sendRecord(ctx, t, t.deadLetterTarget, ev.Payload, deadLetterAttributes(ev, res, condition))
	}
	return nil
}

// destinationRecord is the invocation record Lambda sends to destinations.
func destinationRecord(t *target, ev asyncEvent, res *runtime.Result, condition string) []byte {
	rec := struct {
		Version         string           `json:"version"`
		Timestamp       string           `json:"timestamp"`
		RequestContext  requestContext   `json:"requestContext"`
		RequestPayload  json.RawMessage  `json:"requestPayload"`
		ResponseContext *responseContext `json:"responseContext,omitempty"`
		ResponsePayload json.RawMessage  `json:"responsePayload,omitempty"`
	}{
		Version: "1.0", Timestamp: time.Now().UTC().Format("2006-01-02T15:04:05.000Z"),
		RequestContext: requestContext{RequestID: ev.RequestID, FunctionARN: t.functionARN + ":" + t.version, Condition: condition, ApproximateInvokeCount: ev.Attempt},
		RequestPayload: orNull(ev.Payload),
	}
	if res != nil {
		rec.ResponseContext = &responseContext{StatusCode: 200, ExecutedVersion: t.version, FunctionError: res.FunctionError}
		if json.Valid(res.Payload) {
			rec.ResponsePayload = res.Payload
		}
	}
	b, _ := json.Marshal(rec)
	return b
}

// requestContext and responseContext are members of the invocation records Lambda sends
// destinations.
type requestContext struct {
	RequestID              string `json:"requestId"`
	FunctionARN            string `json:"functionArn"`
	Condition              string `json:"condition"`
	ApproximateInvokeCount int    `json:"approximateInvokeCount"`
}

type responseContext struct {
	StatusCode      int    `json:"statusCode"`
	ExecutedVersion string `json:"executedVersion"`
	FunctionError   string `json:"functionError,omitempty"`
}

func orNull(b json.RawMessage) json.RawMessage {
	if len(b) == 0 || !json.Valid(b) {
		return json.RawMessage("null")
	}
	return b
}

// deadLetterAttributes are the message attributes Lambda gives an event it sends to a
// dead-letter queue or topic: the request id, the invoke's status code and the first kilobyte
// of the error message.
func deadLetterAttributes(ev asyncEvent, res *runtime.Result, condition string) map[string]dispatch.Attribute {
	msg := condition
	if res != nil {
		var e struct {
			Message string `json:"errorMessage"`
		}
		if json.Unmarshal(res.Payload, &e) == nil && e.Message != "" {
			msg = e.Message
		}
	}
	if len(msg) > 1024 {
		msg = strings.ToValidUTF8(msg[:1024], "")
	}
	return map[string]dispatch.Attribute{
		"RequestID":    {Type: "String", Value: ev.RequestID},
		"ErrorCode":    {Type: "Number", Value: "200"},
		"ErrorMessage": {Type: "String", Value: msg},
	}
}

// sendRecord hands a record for a destination to the target registry: delivered, with
// retries, as the function's execution role would send it.
func (s *Service) sendRecord(ctx context.Context, t *target, arn string, record []byte, attrs map[string]dispatch.Attribute) error {
	d := dispatch.Delivery{
		Target: arn, Payload: record, Attributes: attrs, TraceParent: telemetry.TraceParent(ctx),
		Source: dispatch.Source{Principal: lambdaPrincipal, ARN: t.functionARN, Account: t.account, Region: t.region, Role: t.role},
	}
	return s.st.Write(ctx, func(tx *store.Tx) error { return s.deps.Targets.Enqueue(tx, d, dispatch.Policy{}) })
}

// invokeARNAsync accepts an Event invocation of the function an ARN names, for destinations and
// S3 notifications.
func (s *Service) invokeARNAsync(ctx context.Context, arn string, payload []byte) error {
	parts := strings.Split(arn, ":")
	if len(parts) < 7 {
		return fmt.Errorf("not a function ARN: %q: %w", arn, dispatch.ErrNoTarget)
	}
	t, err := s.resolve(ctx, parts[4], parts[3], arn, "")
	var apiErr *awsproto.Error
	if errors.As(err, &apiErr) {
		return fmt.Errorf("%s: %w", apiErr.Message, dispatch.ErrNoTarget)
	}
	if err != nil {
		return err
	}
	return s.enqueueAsync(ctx, &invocation{t: t, payload: payload, requestID: newRequestID(), traceID: ""})
}
