package sns

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"mime"
	"strings"
	"time"
)

// Delivery policies say how SNS retries HTTP/S deliveries (Amazon SNS Developer Guide, "Amazon
// SNS message delivery retries"). A topic's DeliveryPolicy holds an "http" section of defaults
// for its HTTP/S subscriptions; a subscription's own DeliveryPolicy overrides them unless the
// topic's disableSubscriptionOverrides is set. Only HTTP/S delivery policies can be changed.

// SNS's delivery policy limits.
const (
	maxRetries      = 100
	maxDelaySeconds = 3600
	// maxRetrySeconds bounds the total time a policy's retries may take.
	maxRetrySeconds = 3600
)

// backoffFunctions are the shapes of the backoff phase's delays.
var backoffFunctions = map[string]bool{"arithmetic": true, "exponential": true, "geometric": true, "linear": true}

// contentTypes are the media types a requestPolicy's headerContentType may name.
var contentTypes = map[string]bool{
	"application/json": true, "application/xml": true, "text/html": true, "text/plain": true, "text/xml": true,
}

// defaultContentType is the Content-Type of HTTP/S deliveries that no policy sets.
const defaultContentType = "text/plain; charset=UTF-8"

// retryPolicy is a healthyRetryPolicy: the four phases of retries after a failed delivery.
type retryPolicy struct {
	MinDelayTarget     int    `json:"minDelayTarget"`
	MaxDelayTarget     int    `json:"maxDelayTarget"`
	NumRetries         int    `json:"numRetries"`
	NumMaxDelayRetries int    `json:"numMaxDelayRetries"`
	NumNoDelayRetries  int    `json:"numNoDelayRetries"`
	NumMinDelayRetries int    `json:"numMinDelayRetries"`
	BackoffFunction    string `json:"backoffFunction"`
}

// defaultRetryPolicy is SNS's policy for HTTP/S endpoints: three retries 20 seconds apart.
var defaultRetryPolicy = retryPolicy{MinDelayTarget: 20, MaxDelayTarget: 20, NumRetries: 3, BackoffFunction: "linear"}

type throttlePolicy struct {
	MaxReceivesPerSecond int `json:"maxReceivesPerSecond"`
}

type requestPolicy struct {
	HeaderContentType string `json:"headerContentType"`
}

// deliveryPolicy is what one HTTP/S subscription's deliveries follow.
type deliveryPolicy struct {
	Retry retryPolicy `json:"retry"`
	// MaxPerSecond throttles deliveries to the subscription; 0 is unthrottled.
	MaxPerSecond int `json:"maxPerSecond,omitempty"`
	// ContentType is the Content-Type of notifications ("" for the default).
	ContentType string `json:"contentType,omitempty"`
}

// topicPolicy is the "http" section of a topic's DeliveryPolicy, as given.
type topicPolicy struct {
	DefaultHealthyRetryPolicy    *retryPolicy    `json:"defaultHealthyRetryPolicy,omitempty"`
	DisableSubscriptionOverrides bool            `json:"disableSubscriptionOverrides"`
	DefaultThrottlePolicy        *throttlePolicy `json:"defaultThrottlePolicy,omitempty"`
	DefaultRequestPolicy         *requestPolicy  `json:"defaultRequestPolicy,omitempty"`
}

// subscriptionPolicy is a subscription's DeliveryPolicy, as given.
type subscriptionPolicy struct {
	HealthyRetryPolicy *retryPolicy    `json:"healthyRetryPolicy,omitempty"`
	ThrottlePolicy     *throttlePolicy `json:"throttlePolicy,omitempty"`
	RequestPolicy      *requestPolicy  `json:"requestPolicy,omitempty"`
}

// policyError is why a delivery policy is refused; SNS answers "Invalid parameter:
// DeliveryPolicy: <reason>".
type policyError struct{ reason string }

func (e *policyError) Error() string { return e.reason }

func refusePolicy(format string, args ...any) error {
	return &policyError{reason: fmt.Sprintf(format, args...)}
}

// parseTopicPolicy reads a topic's DeliveryPolicy: an object whose "http" member holds the
// defaults of its HTTP/S subscriptions.
func parseTopicPolicy(s string) (*topicPolicy, error) {
	var raw map[string]json.RawMessage
	if err := decodeStrict(s, &raw); err != nil {
		return nil, err
	}
	tp := &topicPolicy{}
	for name, v := range raw {
		if name != "http" && name != "https" {
			return nil, refusePolicy("Delivery protocol [%s] does not support delivery policies.", name)
		}
		var sec struct {
			DefaultHealthyRetryPolicy    json.RawMessage `json:"defaultHealthyRetryPolicy"`
			DisableSubscriptionOverrides *bool           `json:"disableSubscriptionOverrides"`
			DefaultThrottlePolicy        json.RawMessage `json:"defaultThrottlePolicy"`
			DefaultRequestPolicy         json.RawMessage `json:"defaultRequestPolicy"`
			// Accepted for compatibility with policies AWS returns; not a setting.
			DefaultSicklyRetryPolicy json.RawMessage `json:"defaultSicklyRetryPolicy"`
		}
		if err := decodeStrict(string(v), &sec); err != nil {
			return nil, err
		}
		var err error
		if tp.DefaultHealthyRetryPolicy, err = parseRetry(sec.DefaultHealthyRetryPolicy, "defaultHealthyRetryPolicy"); err != nil {
			return nil, err
		}
		if sec.DisableSubscriptionOverrides != nil {
			tp.DisableSubscriptionOverrides = *sec.DisableSubscriptionOverrides
		}
		if tp.DefaultThrottlePolicy, err = parseThrottle(sec.DefaultThrottlePolicy, "defaultThrottlePolicy"); err != nil {
			return nil, err
		}
		if tp.DefaultRequestPolicy, err = parseRequest(sec.DefaultRequestPolicy, "defaultRequestPolicy"); err != nil {
			return nil, err
		}
	}
	return tp, nil
}

// parseSubscriptionPolicy reads a subscription's DeliveryPolicy.
func parseSubscriptionPolicy(s string) (*subscriptionPolicy, error) {
	var raw struct {
		HealthyRetryPolicy json.RawMessage `json:"healthyRetryPolicy"`
		ThrottlePolicy     json.RawMessage `json:"throttlePolicy"`
		RequestPolicy      json.RawMessage `json:"requestPolicy"`
		// Accepted for compatibility with policies AWS returns; not settings.
		SicklyRetryPolicy json.RawMessage `json:"sicklyRetryPolicy"`
		Guaranteed        json.RawMessage `json:"guaranteed"`
	}
	if err := decodeStrict(s, &raw); err != nil {
		return nil, err
	}
	sp := &subscriptionPolicy{}
	var err error
	if sp.HealthyRetryPolicy, err = parseRetry(raw.HealthyRetryPolicy, "healthyRetryPolicy"); err != nil {
		return nil, err
	}
	if sp.ThrottlePolicy, err = parseThrottle(raw.ThrottlePolicy, "throttlePolicy"); err != nil {
		return nil, err
	}
	if sp.RequestPolicy, err = parseRequest(raw.RequestPolicy, "requestPolicy"); err != nil {
		return nil, err
	}
	return sp, nil
}

// decodeStrict decodes one JSON object into v, refusing unknown members and trailing data.
func decodeStrict(s string, v any) error {
	d := json.NewDecoder(strings.NewReader(s))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		var field *json.UnmarshalTypeError
		if errors.As(err, &field) && field.Field != "" {
			return refusePolicy("%s has the wrong type.", field.Field)
		}
		if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return refusePolicy("Unrecognized field %s.", name)
		}
		return refusePolicy("failed to parse JSON.")
	}
	if d.More() {
		return refusePolicy("failed to parse JSON.")
	}
	return nil
}

// isNull reports whether a member was absent or null.
func isNull(v json.RawMessage) bool {
	return len(v) == 0 || bytes.Equal(bytes.TrimSpace(v), []byte("null"))
}

// parseRetry reads a retry policy, filling members it leaves out with SNS's defaults.
func parseRetry(v json.RawMessage, name string) (*retryPolicy, error) {
	if isNull(v) {
		return nil, nil
	}
	var raw struct {
		MinDelayTarget     *int    `json:"minDelayTarget"`
		MaxDelayTarget     *int    `json:"maxDelayTarget"`
		NumRetries         *int    `json:"numRetries"`
		NumMaxDelayRetries *int    `json:"numMaxDelayRetries"`
		NumNoDelayRetries  *int    `json:"numNoDelayRetries"`
		NumMinDelayRetries *int    `json:"numMinDelayRetries"`
		BackoffFunction    *string `json:"backoffFunction"`
	}
	if err := decodeStrict(string(v), &raw); err != nil {
		return nil, err
	}
	p := defaultRetryPolicy
	set := func(dst *int, src *int) {
		if src != nil {
			*dst = *src
		}
	}
	set(&p.MinDelayTarget, raw.MinDelayTarget)
	set(&p.MaxDelayTarget, raw.MaxDelayTarget)
	set(&p.NumRetries, raw.NumRetries)
	set(&p.NumMaxDelayRetries, raw.NumMaxDelayRetries)
	set(&p.NumNoDelayRetries, raw.NumNoDelayRetries)
	set(&p.NumMinDelayRetries, raw.NumMinDelayRetries)
	if raw.BackoffFunction != nil {
		p.BackoffFunction = *raw.BackoffFunction
	}
	if err := p.check(name); err != nil {
		return nil, err
	}
	return &p, nil
}

// check applies SNS's constraints to a retry policy.
func (p retryPolicy) check(name string) error {
	switch {
	case p.MinDelayTarget < 1:
		return refusePolicy("%s.minDelayTarget must be at least 1.", name)
	case p.MaxDelayTarget > maxDelaySeconds:
		return refusePolicy("%s.maxDelayTarget must be at most %d.", name, maxDelaySeconds)
	case p.MinDelayTarget > p.MaxDelayTarget:
		return refusePolicy("%s.minDelayTarget must be less than or equal to maxDelayTarget.", name)
	case p.NumRetries < 0 || p.NumRetries > maxRetries:
		return refusePolicy("%s.numRetries must be between 0 and %d.", name, maxRetries)
	case p.NumNoDelayRetries < 0 || p.NumMinDelayRetries < 0 || p.NumMaxDelayRetries < 0:
		return refusePolicy("%s: the numbers of retries of a phase must not be negative.", name)
	case p.NumNoDelayRetries+p.NumMinDelayRetries+p.NumMaxDelayRetries > p.NumRetries:
		return refusePolicy("%s: numNoDelayRetries, numMinDelayRetries and numMaxDelayRetries must add up to at most numRetries.", name)
	case !backoffFunctions[p.BackoffFunction]:
		return refusePolicy("%s.backoffFunction must be one of arithmetic, exponential, geometric or linear.", name)
	case p.total() > maxRetrySeconds*time.Second:
		return refusePolicy("%s: the total retry time must not exceed %d seconds.", name, maxRetrySeconds)
	}
	return nil
}

func parseThrottle(v json.RawMessage, name string) (*throttlePolicy, error) {
	if isNull(v) {
		return nil, nil
	}
	var t throttlePolicy
	if err := decodeStrict(string(v), &t); err != nil {
		return nil, err
	}
	if t.MaxReceivesPerSecond < 1 {
		return nil, refusePolicy("%s.maxReceivesPerSecond must be at least 1.", name)
	}
	return &t, nil
}

func parseRequest(v json.RawMessage, name string) (*requestPolicy, error) {
	if isNull(v) {
		return nil, nil
	}
	var r requestPolicy
	if err := decodeStrict(string(v), &r); err != nil {
		return nil, err
	}
	mt, _, err := mime.ParseMediaType(r.HeaderContentType)
	if err != nil || !contentTypes[mt] {
		return nil, refusePolicy("%s.headerContentType %q is not supported.", name, r.HeaderContentType)
	}
	return &r, nil
}

// effectivePolicy is the policy an HTTP/S subscription's deliveries follow: SNS's defaults,
// overridden by the topic's, overridden by the subscription's unless the topic forbids it.
func effectivePolicy(t *topicPolicy, s *subscriptionPolicy) deliveryPolicy {
	p := deliveryPolicy{Retry: defaultRetryPolicy}
	if t != nil {
		if t.DefaultHealthyRetryPolicy != nil {
			p.Retry = *t.DefaultHealthyRetryPolicy
		}
		if t.DefaultThrottlePolicy != nil {
			p.MaxPerSecond = t.DefaultThrottlePolicy.MaxReceivesPerSecond
		}
		if t.DefaultRequestPolicy != nil {
			p.ContentType = t.DefaultRequestPolicy.HeaderContentType
		}
		if t.DisableSubscriptionOverrides {
			return p
		}
	}
	if s != nil {
		if s.HealthyRetryPolicy != nil {
			p.Retry = *s.HealthyRetryPolicy
		}
		if s.ThrottlePolicy != nil {
			p.MaxPerSecond = s.ThrottlePolicy.MaxReceivesPerSecond
		}
		if s.RequestPolicy != nil {
			p.ContentType = s.RequestPolicy.HeaderContentType
		}
	}
	return p
}

// delay is the wait before retry k (1 is the first retry), and false when the policy has no
// retry k. The phases follow one another: immediate retries, then retries at the minimum
// delay, then the backoff phase from the minimum to the maximum delay, then retries at the
// maximum delay.
func (p retryPolicy) delay(k int) (time.Duration, bool) {
	if k < 1 || k > p.NumRetries {
		return 0, false
	}
	backoff := p.NumRetries - p.NumNoDelayRetries - p.NumMinDelayRetries - p.NumMaxDelayRetries
	switch {
	case k <= p.NumNoDelayRetries:
		return 0, true
	case k <= p.NumNoDelayRetries+p.NumMinDelayRetries:
		return seconds(float64(p.MinDelayTarget)), true
	case k <= p.NumNoDelayRetries+p.NumMinDelayRetries+backoff:
		return seconds(p.backoff(k-p.NumNoDelayRetries-p.NumMinDelayRetries, backoff)), true
	}
	return seconds(float64(p.MaxDelayTarget)), true
}

// backoff is the delay, in seconds, of retry i (1..n) of a backoff phase of n retries: the
// minimum delay at the first, the maximum at the last, and the function's curve between.
func (p retryPolicy) backoff(i, n int) float64 {
	lo, hi := float64(p.MinDelayTarget), float64(p.MaxDelayTarget)
	if n <= 1 {
		return lo
	}
	x := float64(i-1) / float64(n-1) // 0 at the first retry, 1 at the last
	switch p.BackoffFunction {
	case "arithmetic":
		return lo + (hi-lo)*x*x
	case "geometric":
		return lo + (hi-lo)*(1-(1-x)*(1-x))
	case "exponential":
		return lo * math.Pow(hi/lo, x)
	}
	return lo + (hi-lo)*x
}

// total is how long all of a policy's retries wait.
func (p retryPolicy) total() time.Duration {
	var t time.Duration
	for k := 1; k <= p.NumRetries && k <= maxRetries; k++ {
		d, _ := p.delay(k)
		t += d
	}
	return t
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// effectiveTopicPolicy renders a topic's EffectiveDeliveryPolicy attribute: its "http" section
// with SNS's defaults filled in.
func effectiveTopicPolicy(t *topicPolicy) string {
	eff := topicPolicy{DefaultHealthyRetryPolicy: &defaultRetryPolicy, DefaultRequestPolicy: &requestPolicy{HeaderContentType: defaultContentType}}
	if t != nil {
		if t.DefaultHealthyRetryPolicy != nil {
			eff.DefaultHealthyRetryPolicy = t.DefaultHealthyRetryPolicy
		}
		eff.DisableSubscriptionOverrides = t.DisableSubscriptionOverrides
		eff.DefaultThrottlePolicy = t.DefaultThrottlePolicy
		if t.DefaultRequestPolicy != nil {
			eff.DefaultRequestPolicy = t.DefaultRequestPolicy
		}
	}
	b, _ := json.Marshal(map[string]topicPolicy{"http": eff})
	return string(b)
}

// effectiveSubscriptionPolicy renders an HTTP/S subscription's EffectiveDeliveryPolicy
// attribute.
func effectiveSubscriptionPolicy(p deliveryPolicy) string {
	out := struct {
		HealthyRetryPolicy retryPolicy     `json:"healthyRetryPolicy"`
		SicklyRetryPolicy  *retryPolicy    `json:"sicklyRetryPolicy"`
		ThrottlePolicy     *throttlePolicy `json:"throttlePolicy"`
		RequestPolicy      requestPolicy   `json:"requestPolicy"`
		Guaranteed         bool            `json:"guaranteed"`
	}{HealthyRetryPolicy: p.Retry, RequestPolicy: requestPolicy{HeaderContentType: defaultContentType}}
	if p.MaxPerSecond > 0 {
		out.ThrottlePolicy = &throttlePolicy{MaxReceivesPerSecond: p.MaxPerSecond}
	}
	if p.ContentType != "" {
		out.RequestPolicy.HeaderContentType = p.ContentType
	}
	b, _ := json.Marshal(out)
	return string(b)
}
