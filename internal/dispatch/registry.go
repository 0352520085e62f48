// Package dispatch is the target registry: the one way a Kiri service delivers to another.
package dispatch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/kiri-run/kiri/internal/queue"
	"github.com/kiri-run/kiri/internal/store"
	"github.com/kiri-run/kiri/internal/telemetry"
)

// The target registry is the one way a service delivers to another: S3 event notifications,
// Lambda destinations and dead-letter queues, SNS subscriptions, and later EventBridge targets,
// pipes and Step Functions tasks. A service that can receive deliveries registers a Kind for the
// service name in its ARNs; a service that delivers checks a target when it is configured
// (Check) and hands each delivery to the registry in the transaction that causes it (Enqueue).
// The registry stores the delivery on the queue engine and delivers it with retries.

// Kind is what a service that receives deliveries implements for its ARNs.
type Kind interface {
	// Check reports whether src may deliver to the target arn: nil, ErrNoTarget when the
	// resource does not exist, ErrTargetDenied when its resource policy does not let src
	// deliver, or another error when the check itself failed.
	Check(ctx context.Context, arn string, src Source) error
	// Deliver delivers d to d.Target. An error is retried as the delivery's Policy says, unless
	// it wraps ErrNoTarget or ErrTargetDenied (the target went away, or its policy no longer
	// lets the source deliver) or is queue.Permanent. A queue.Postpone error (a target's rate
	// limit held the delivery back) delivers it again then without counting an attempt, until
	// the Policy's MaxAge.
	Deliver(ctx context.Context, d Delivery) error
}

// ErrNoTarget is returned for a target that does not exist, or whose service Kiri does not run.
var ErrNoTarget = errors.New("target does not exist")

// ErrTargetDenied is returned for a target whose resource policy does not let the source deliver.
var ErrTargetDenied = errors.New("target's resource policy does not allow the source")

// Source is who delivers, as a target's resource policy sees it.
type Source struct {
	// Principal is the delivering service's principal, e.g. "s3.amazonaws.com".
	Principal string `json:"principal"`
	// ARN is the resource the delivery comes from (aws:SourceArn), e.g. "arn:aws:s3:::bucket".
	ARN string `json:"arn,omitempty"`
	// Account owns that resource (aws:SourceAccount).
	Account string `json:"account"`
	// Region is where the source lives.
	Region string `json:"region,omitempty"`
	// Role is the IAM role the delivery acts as ("" for none): a function's execution role,
	// for its destinations and dead-letter queue. A delivery with a role is allowed by the
	// role's identity-based policies (and the target's policy), as AWS decides a call the
	// service makes with the role's credentials; one without by the target's policy, which must
	// let Principal deliver for ARN.
	Role string `json:"role,omitempty"`
}

// Attribute is a typed message attribute, as SQS and SNS carry them.
type Attribute struct {
	// Type is "String", "Number" or "Binary" (with an optional ".custom" suffix).
	Type  string `json:"type"`
	Value string `json:"value,omitempty"`
	// Binary holds a Binary attribute's bytes.
	Binary []byte `json:"binary,omitempty"`
}

// Delivery is one message for one target.
type Delivery struct {
	// Target is the ARN delivered to.
	Target string `json:"target"`
	Source Source `json:"source"`
	// Payload is the message: an SQS body, an SNS message, a function's event.
	Payload []byte `json:"payload"`
	// Subject is an SNS subject ("" for none).
	Subject string `json:"subject,omitempty"`
	// Attributes are message attributes for targets that carry them (SQS, SNS).
	Attributes map[string]Attribute `json:"attributes,omitempty"`
	// Group and DedupID order and deduplicate deliveries to FIFO targets.
	Group   string `json:"group,omitempty"`
	DedupID string `json:"dedup,omitempty"`
	// Params are target-specific parameters of the delivery, for the target's Kind (an API
	// destination's HttpParameters).
	Params json.RawMessage `json:"params,omitempty"`
	// TraceParent continues the trace of the request that caused the delivery.
	TraceParent string `json:"traceparent,omitempty"`
	// Attempt is 1 on the first delivery, 2 on the first retry, and so on (set by the registry).
	Attempt int `json:"-"`
	// Failure is set on a delivery to a Policy's DeadLetter target: the delivery that failed
	// for good and why, for a dead-letter handler that reports it (EventBridge's message
	// attributes). Targets that only take the payload ignore it.
	Failure *Failure `json:"failure,omitempty"`
}

// Failure is why a delivery failed for good.
type Failure struct {
	// Target is the ARN the delivery was for.
	Target string `json:"target"`
	// Error is the last attempt's error.
	Error string `json:"error"`
	// Attempts is how many deliveries were tried.
	Attempts int `json:"attempts"`
	// Exhausted is "MaxAttempts" or "MaxAge" when the policy's limit ended the retries, ""
	// when the error was final (the target is gone, or refuses the delivery).
	Exhausted string `json:"exhausted,omitempty"`
	// NoTarget and Denied report an error wrapping ErrNoTarget or ErrTargetDenied.
	NoTarget bool `json:"no_target,omitempty"`
	Denied   bool `json:"denied,omitempty"`
}

// Policy says how hard the registry tries.
type Policy struct {
	// MaxAttempts ends retries after this many deliveries; 0 = until MaxAge.
	MaxAttempts int `json:"max_attempts,omitempty"`
	// MaxAge ends retries this long after Enqueue; default 24 hours.
	MaxAge time.Duration `json:"max_age,omitempty"`
	// MinBackoff and MaxBackoff bound the exponential, jittered wait between attempts;
	// defaults 1s and 5m.
	MinBackoff time.Duration `json:"min_backoff,omitempty"`
	MaxBackoff time.Duration `json:"max_backoff,omitempty"`
	// DeadLetter, when set, is a target ARN that receives the payload of a delivery that failed
	// for good (an SNS subscription's dead-letter queue, for example).
	DeadLetter string `json:"dead_letter,omitempty"`
}

// deliverQueue is the engine queue that holds pending deliveries.
const deliverQueue = "dispatch.deliver"

// envelope is a delivery as stored on the engine.
type envelope struct {
	Delivery Delivery  `json:"d"`
	Policy   Policy    `json:"p"`
	Since    time.Time `json:"since"`
}

// Registry delivers between services.
type Registry struct {
	st  *store.Store
	eng *queue.Engine
	log *slog.Logger
	now func() time.Time

	mu    sync.RWMutex
	kinds map[string]Kind
}

// NewRegistry returns a registry delivering through eng over st, and registers its delivery handler:
// call it before eng.Run.
func NewRegistry(st *store.Store, eng *queue.Engine, log *slog.Logger, now func() time.Time) *Registry {
	if log == nil {
		log = slog.Default()
	}
	if now == nil {
		now = time.Now
	}
	r := &Registry{st: st, eng: eng, log: log.With("component", "dispatch"), now: now, kinds: map[string]Kind{}}
	eng.Handle(deliverQueue, r.handle, queue.HandlerOptions{Concurrency: 32})
	return r
}

// Register makes k the receiver of deliveries to ARNs of service (the third field of an ARN:
// "lambda", "sqs", "sns", "events", "states").
func (r *Registry) Register(service string, k Kind) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.kinds[service] = k
}

// ARNService is the service field of an ARN, or "" when arn is not one.
func ARNService(arn string) string {
	parts := strings.SplitN(arn, ":", 4)
	if len(parts) < 4 || parts[0] != "arn" || parts[2] == "" {
		return ""
	}
	return parts[2]
}

// kind is the Kind for arn's service, or nil.
func (r *Registry) kind(arn string) Kind {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.kinds[ARNService(arn)]
}

// Delivers reports whether some service receives deliveries to ARNs like arn, whether or not
// arn itself exists.
func (r *Registry) Delivers(arn string) bool { return r.kind(arn) != nil }

// Check reports whether src may deliver to arn (see Kind.Check). A target whose service Kiri
// does not run is ErrNoTarget.
func (r *Registry) Check(ctx context.Context, arn string, src Source) error {
	k := r.kind(arn)
	if k == nil {
		return fmt.Errorf("%s: %w", arn, ErrNoTarget)
	}
	return k.Check(ctx, arn, src)
}

// Enqueue stores d for delivery under p as part of tx: it is delivered, at least once, only if
// tx commits. The target is not checked again here; a target that is gone by delivery time
// fails the delivery for good.
func (r *Registry) Enqueue(tx *store.Tx, d Delivery, p Policy) error {
	if d.Target == "" {
		return errors.New("dispatch: delivery without a target")
	}
	b, err := json.Marshal(envelope{Delivery: d, Policy: p, Since: r.now()})
	if err != nil {
		return fmt.Errorf("encode delivery to %s: %w", d.Target, err)
	}
	_, err = r.eng.Send(tx, deliverQueue, queue.Outgoing{Body: b, Group: d.Group, TraceParent: d.TraceParent})
	return err
}

// Deliver delivers d now, once, without storing it: for callers that already run on the queue
// engine and retry themselves.
func (r *Registry) Deliver(ctx context.Context, d Delivery) error {
	k := r.kind(d.Target)
	if k == nil {
		return fmt.Errorf("%s: %w", d.Target, ErrNoTarget)
	}
	if d.Attempt == 0 {
		d.Attempt = 1
	}
	return k.Deliver(ctx, d)
}

// handle delivers one stored delivery and applies its policy to a failure.
func (r *Registry) handle(ctx context.Context, m queue.Message) error {
	var env envelope
	if err := json.Unmarshal(m.Body, &env); err != nil {
		return queue.Permanent(fmt.Errorf("decode delivery: %w", err))
	}
	p := env.Policy.withDefaults()
	d := env.Delivery
	d.Attempt = m.Receives
	err := r.Deliver(telemetry.WithTraceParent(ctx, d.TraceParent), d)
	if err == nil {
		return nil
	}
	now := r.now()
	if queue.IsPostponed(err) && now.Sub(env.Since) < p.MaxAge {
		return err
	}
	f := &Failure{Target: d.Target, Error: err.Error(), Attempts: d.Attempt,
		NoTarget: errors.Is(err, ErrNoTarget), Denied: errors.Is(err, ErrTargetDenied)}
	switch {
	case f.NoTarget || f.Denied || queue.IsPermanent(err):
	case queue.IsPostponed(err): // held back until past its MaxAge
		f.Exhausted = "MaxAge"
	case p.MaxAttempts > 0 && d.Attempt >= p.MaxAttempts:
		f.Exhausted = "MaxAttempts"
	case now.Sub(env.Since) >= p.MaxAge:
		f.Exhausted = "MaxAge"
	default:
		return queue.RetryAt(err, now.Add(p.backoff(d.Attempt)))
	}
	log := r.log.With("target", d.Target, "source", d.Source.ARN, "attempts", d.Attempt, "err", err)
	if p.DeadLetter == "" {
		log.Warn("delivery failed for good")
		return queue.Permanent(err)
	}
	log.Warn("delivery failed for good; sending it to its dead-letter target", "dead_letter", p.DeadLetter)
	dead := d
	dead.Target, dead.Attempt, dead.Failure = p.DeadLetter, 0, f
	return r.st.Write(ctx, func(tx *store.Tx) error {
		return r.Enqueue(tx, dead, Policy{})
	})
}

func (p Policy) withDefaults() Policy {
	if p.MaxAge <= 0 {
		p.MaxAge = 24 * time.Hour
	}
	if p.MinBackoff <= 0 {
		p.MinBackoff = time.Second
	}
	if p.MaxBackoff <= 0 {
		p.MaxBackoff = 5 * time.Minute
	}
	p.MaxBackoff = max(p.MaxBackoff, p.MinBackoff)
	return p
}

// backoff is the wait after the attempt-th delivery failed.
func (p Policy) backoff(attempt int) time.Duration {
	d := p.MinBackoff
	for i := 1; i < attempt && d < p.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, p.MaxBackoff)
	half := d / 2
	return half + rand.N(half+1)
}
