package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/kiri-run/kiri/internal/apidest"
	"github.com/kiri-run/kiri/internal/dispatch"
	"github.com/kiri-run/kiri/internal/iam/authz"
	"github.com/kiri-run/kiri/internal/queue"
)

// errOverRate is a call an API destination's invocation rate holds back.
var errOverRate = errors.New("the API destination's invocation rate limit is reached")

// destination loads the API destination arn and its connection for a call. A destination
// that does not exist (or was recreated: its ARN's id differs) is ErrNoTarget.
func (s *Service) destination(ctx context.Context, arn string) (*apidest.Destination, *connRow, error) {
	account, region, name, id, ok := parseDestARN(arn)
	if !ok {
		return nil, nil, fmt.Errorf("%s: %w", arn, dispatch.ErrNoTarget)
	}
	q := s.reader(ctx)
	d, err := loadDest(q, account, region, name)
	if err != nil {
		return nil, nil, err
	}
	if d == nil || d.UUID != id {
		return nil, nil, fmt.Errorf("%s: %w", arn, dispatch.ErrNoTarget)
	}
	c, err := s.connOf(q, d)
	if err != nil {
		return nil, nil, err
	}
	if c == nil {
		return nil, nil, fmt.Errorf("the connection %s of %s does not exist: %w", d.Connection, arn, dispatch.ErrNoTarget)
	}
	return &apidest.Destination{ARN: arn, Endpoint: d.Endpoint, Method: d.Method, RateLimit: int(d.rate()), Connection: c.call()}, c, nil
}

// checkDestination reports whether src may invoke the API destination arn: it exists in src's
// account, and a delivery with a role needs the role to allow events:InvokeApiDestination. It
// returns the destination and its connection.
func (s *Service) checkDestination(ctx context.Context, arn string, src dispatch.Source) (*apidest.Destination, *connRow, error) {
	d, c, err := s.destination(ctx, arn)
	if err != nil {
		return nil, nil, err
	}
	account, _, _, _, _ := parseDestARN(d.ARN)
	if src.Account != "" && src.Account != account {
		return nil, nil, fmt.Errorf("%s belongs to another account: %w", arn, dispatch.ErrNoTarget)
	}
	if src.Role != "" && s.enforcing() {
		req := authz.Request{Action: "events:InvokeApiDestination", Resource: arn, ResourceAccount: account}
		if err := dispatch.Authorize(ctx, s.authz, src, req); err != nil {
			return nil, nil, err
		}
	}
	return d, c, nil
}

// call makes one call to an API destination, within its invocation rate: when the rate holds
// the call back the error is errOverRate and retry when to try again. A connection whose
// credentials failed is deauthorized.
func (s *Service) call(ctx context.Context, arn string, src dispatch.Source, p *apidest.HTTPParameters, payload []byte) (resp *apidest.Response, retry time.Time, err error) {
	d, c, err := s.checkDestination(ctx, arn, src)
	if err != nil {
		return nil, time.Time{}, err
	}
	if c.State != connAuthorized && c.State != connAuthorizing {
		return nil, time.Time{}, fmt.Errorf("the connection %s of %s is %s: %s", c.arn(), arn, c.State, c.Reason)
	}
	if ok, at := s.limiter.Take(arn, d.RateLimit, s.now()); !ok {
		return nil, at, errOverRate
	}
	resp, err = s.apidest.Invoke(ctx, d, p, payload)
	var ae *apidest.AuthError
	if errors.As(err, &ae) {
		s.deauthorize(context.WithoutCancel(ctx), c, ae.Reason)
	}
	return resp, time.Time{}, err
}

// deliverToDestination delivers a rule's event to an API destination, with the target's
// HttpParameters. A call over the destination's rate is postponed (not an attempt); an answer
// EventBridge does not retry (a 4xx other than 401, 407, 409 and 429) fails the delivery for
// good, as does a request that cannot be made.
func (s *Service) deliverToDestination(ctx context.Context, d dispatch.Delivery) error {
	var p apidest.HTTPParameters
	if len(d.Params) > 0 {
		if err := json.Unmarshal(d.Params, &p); err != nil {
			return queueNever(fmt.Errorf("decode HttpParameters of a delivery to %s: %w", d.Target, err))
		}
	}
	_, retry, err := s.call(ctx, d.Target, d.Source, &p, d.Payload)
	if errors.Is(err, errOverRate) {
		return queue.Postpone(err, retry)
	}
	var se *apidest.StatusError
	if errors.Is(err, apidest.ErrRequest) || (errors.As(err, &se) && !apidest.Retryable(se.Status)) {
		return queueNever(err)
	}
	return err
}

// InvokeAPIDestination calls the API destination arn once for a pipe (as src) with payload and
// the pipe's HttpParameters, and returns the endpoint's answer: the enrichment's result, or a
// target's acknowledgement. It waits for its turn when the destination's invocation rate is
// reached. The pipe's source retries a failure.
func (s *Service) InvokeAPIDestination(ctx context.Context, arn string, src dispatch.Source, p *apidest.HTTPParameters, payload []byte) ([]byte, error) {
	for {
		resp, retry, err := s.call(ctx, arn, src, p, payload)
		if !errors.Is(err, errOverRate) {
			if err != nil {
				return nil, err
			}
			return resp.Body, nil
		}
		t := time.NewTimer(max(retry.Sub(s.now()), time.Millisecond))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}
