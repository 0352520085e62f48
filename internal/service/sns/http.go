package sns

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/kiri-run/kiri/internal/dispatch"
	"github.com/kiri-run/kiri/internal/queue"
	"github.com/kiri-run/kiri/internal/store"
)

// httpQueue is the engine queue of SNS's HTTP/S deliveries: notifications and the
// confirmation messages of subscribing and unsubscribing.
const httpQueue = "sns.http"

// httpTimeout is how long an endpoint has to answer a delivery, as SNS gives it.
const httpTimeout = 15 * time.Second

// httpAgent is the User-Agent of SNS's deliveries.
const httpAgent = "Amazon Simple Notification Service Agent"

// httpJob is one message for one HTTP/S endpoint, as queued.
type httpJob struct {
	Sub      string         `json:"sub"`
	Endpoint string         `json:"endpoint"`
	Raw      bool           `json:"raw,omitempty"`
	Policy   deliveryPolicy `json:"policy"`
	N        notification   `json:"n"`
}

// deliverHTTP POSTs one message to its endpoint. An answer in the 200–4xx range delivers it;
// a 5xx answer, no answer within 15 seconds or no connection fails the attempt, which is
// retried as the subscription's delivery policy says. A notification that fails for good goes
// to the subscription's dead-letter queue, when it has one.
func (s *Service) deliverHTTP(ctx context.Context, m queue.Message) error {
	var j httpJob
	if err := json.Unmarshal(m.Body, &j); err != nil {
		return queue.Permanent(fmt.Errorf("decode HTTP delivery: %w", err))
	}
	body, err := s.httpBody(ctx, &j)
	if err != nil {
		return err // the engine retries: the body could not be signed
	}
	s.throttle.wait(ctx, j.Sub, j.Policy.MaxPerSecond)
	err = s.post(ctx, &j, body)
	if err == nil {
		return nil
	}
	if d, ok := j.Policy.Retry.delay(m.Receives); ok {
		return queue.RetryAt(err, s.now().Add(d))
	}
	log := s.log.With("subscription", j.Sub, "endpoint", j.Endpoint, "type", j.N.Type, "attempts", m.Receives, "err", err)
	if j.N.Type != typeNotification {
		log.Warn("HTTP delivery failed for good")
		return nil
	}
	d := dispatch.Delivery{Target: j.Sub, Payload: body, TraceParent: m.TraceParent,
		Source: dispatch.Source{Principal: snsPrincipal, ARN: j.N.TopicARN}}
	if j.Raw {
		d.Attributes = j.N.Attributes
	}
	return s.deadLetterLater(ctx, d, log)
}

// httpBody renders a job's message: the raw message, or the signed JSON envelope.
func (s *Service) httpBody(ctx context.Context, j *httpJob) ([]byte, error) {
	if j.Raw && j.N.Type == typeNotification {
		return []byte(j.N.Message), nil
	}
	u := urls{endpoint: s.endpoint}
	if j.N.SignatureVersion != "" {
		path, err := s.sign(ctx, &j.N)
		if err != nil {
			return nil, err
		}
		u.certPath = path
	}
	return u.envelopeOf(&j.N, j.Sub), nil
}

// post makes one delivery attempt.
func (s *Service) post(ctx context.Context, j *httpJob, body []byte) error {
	ctx, cancel := context.WithTimeout(ctx, httpTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, j.Endpoint, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("HTTP delivery to %s: %w", j.Endpoint, err)
	}
	h := req.Header
	h.Set("Content-Type", defaultContentType)
	if j.N.Type == typeNotification && j.Policy.ContentType != "" {
		h.Set("Content-Type", j.Policy.ContentType)
	}
	h.Set("User-Agent", httpAgent)
	h.Set("Accept-Encoding", "gzip,deflate")
	h.Set("x-amz-sns-message-type", j.N.Type)
	h.Set("x-amz-sns-message-id", j.N.MessageID)
	h.Set("x-amz-sns-topic-arn", j.N.TopicARN)
	if j.N.Type != typeSubscriptionConfirmation {
		h.Set("x-amz-sns-subscription-arn", j.Sub)
	}
	if j.Raw && j.N.Type == typeNotification {
		h.Set("x-amz-sns-rawdelivery", "true")
	}
	resp, err := s.http.Do(req)
	if err != nil {
		return fmt.Errorf("HTTP delivery to %s: %w", j.Endpoint, err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode >= 500 {
		return fmt.Errorf("HTTP delivery to %s: status %d", j.Endpoint, resp.StatusCode)
	}
	return nil
}

// newHTTPClient is the client of HTTP/S deliveries: redirects are answers, not followed.
func newHTTPClient() *http.Client {
	return &http.Client{
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// deadLetterLater hands a notification that failed for good, addressed to its subscription,
// to the target registry for the subscription's dead-letter queue.
func (s *Service) deadLetterLater(ctx context.Context, d dispatch.Delivery, log interface{ Warn(string, ...any) }) error {
	k, ok := parseSubscriptionARN(d.Target)
	if !ok {
		return queue.Permanent(errors.New("not a subscription ARN: " + d.Target))
	}
	d.Source.Account, d.Source.Region = k.Account, k.Region
	r, err := loadSub(storeReader{ctx, s.st}, d.Target)
	if err != nil {
		return err
	}
	if r == nil || r.deadLetter == "" {
		log.Warn("HTTP delivery failed for good; the subscription has no dead-letter queue")
		return nil
	}
	log.Warn("HTTP delivery failed for good; sending it to the subscription's dead-letter queue", "dead_letter", r.deadLetter)
	d.Target = r.deadLetter
	return s.st.Write(ctx, func(tx *store.Tx) error { return s.targets.Enqueue(tx, d, dispatch.Policy{}) })
}

// limiter spaces the deliveries of throttled subscriptions (a delivery policy's
// maxReceivesPerSecond).
type limiter struct {
	mu   sync.Mutex
	next map[string]time.Time
}

// limiterEntries bounds the subscriptions a limiter remembers; past it, it starts over.
const limiterEntries = 10000

// wait blocks until key may take another delivery at perSecond (0: at once), or ctx ends.
func (l *limiter) wait(ctx context.Context, key string, perSecond int) {
	if perSecond <= 0 {
		return
	}
	l.mu.Lock()
	if l.next == nil || len(l.next) > limiterEntries {
		l.next = map[string]time.Time{}
	}
	now := time.Now()
	at := l.next[key]
	if at.Before(now) {
		at = now
	}
	l.next[key] = at.Add(time.Second / time.Duration(perSecond))
	l.mu.Unlock()
	if d := time.Until(at); d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-ctx.Done():
		case <-t.C:
		}
	}
}
