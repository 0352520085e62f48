package e2e

import (
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// httpDelivery is one POST an HTTP endpoint received from SNS.
type httpDelivery struct {
	header http.Header
	body   string
	at     time.Time
}

// snsEndpoint is an HTTP/S subscriber under test: it records what SNS POSTs and answers
// with the status its answer function gives for the body.
type snsEndpoint struct {
	*httptest.Server
	got chan httpDelivery
	mu  sync.Mutex
	// answer gives the status for a body; nil answers 200.
	answer func(body string) int
}

func newSNSEndpoint(t *testing.T) *snsEndpoint {
	e := &snsEndpoint{got: make(chan httpDelivery, 100)}
	e.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		e.got <- httpDelivery{header: r.Header.Clone(), body: string(b), at: time.Now()}
		e.mu.Lock()
		answer := e.answer
		e.mu.Unlock()
		if answer != nil {
			w.WriteHeader(answer(string(b)))
		}
	}))
	t.Cleanup(e.Close)
	return e
}

func (e *snsEndpoint) setAnswer(f func(string) int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.answer = f
}

// next waits for the next POST.
func (e *snsEndpoint) next(t *testing.T) httpDelivery {
	t.Helper()
	select {
	case d := <-e.got:
		return d
	case <-time.After(20 * time.Second):
		t.Fatal("no POST from SNS within 20s")
		return httpDelivery{}
	}
}

// quiet checks that nothing more is POSTed for a moment.
func (e *snsEndpoint) quiet(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case got := <-e.got:
		t.Fatalf("unexpected POST: %s", got.body)
	case <-time.After(d):
	}
}

// visit fetches a SubscribeURL or UnsubscribeURL as an endpoint does: a plain GET.
func visit(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// confirmHTTP receives the SubscriptionConfirmation and visits its SubscribeURL; it returns
// the subscription ARN the visit answers.
func confirmHTTP(t *testing.T, e *snsEndpoint, topic string) string {
	t.Helper()
	d := e.next(t)
	h := d.header
	if h.Get("x-amz-sns-message-type") != "SubscriptionConfirmation" || h.Get("x-amz-sns-topic-arn") != topic ||
		h.Get("x-amz-sns-message-id") == "" || h.Get("User-Agent") != "Amazon Simple Notification Service Agent" ||
		h.Get("Content-Type") != "text/plain; charset=UTF-8" || h.Get("x-amz-sns-subscription-arn") != "" {
		t.Fatalf("confirmation headers %v", h)
	}
	c := decodeEnvelope(t, d.body)
	if c.Type != "SubscriptionConfirmation" || c.MessageId != h.Get("x-amz-sns-message-id") || c.Token == "" ||
		c.Message != "You have chosen to subscribe to the topic "+topic+".\nTo confirm the subscription, visit the SubscribeURL included in this message." ||
		!strings.Contains(c.SubscribeURL, "Action=ConfirmSubscription&TopicArn="+topic+"&Token="+c.Token) {
		t.Fatalf("confirmation %+v", c)
	}
	verifySNSSignature(t, c)
	status, body := visit(t, c.SubscribeURL)
	var resp struct {
		Result struct{ SubscriptionArn string } `xml:"ConfirmSubscriptionResult"`
	}
	if status != 200 || xml.Unmarshal([]byte(body), &resp) != nil || !strings.HasPrefix(resp.Result.SubscriptionArn, topic+":") {
		t.Fatalf("visiting the SubscribeURL: %d %s", status, body)
	}
	return resp.Result.SubscriptionArn
}

// TestSNSToHTTP subscribes an HTTP endpoint through the confirmation handshake, delivers
// signed notifications and raw messages with SNS's headers, retries after 5xx answers as the
// delivery policy says and then sends the message to the dead-letter queue, and unsubscribes
// through the UnsubscribeURL.
func TestSNSToHTTP(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{})
	cl := srv.Clients()
	ctx := t.Context()
	e := newSNSEndpoint(t)
	topic := createTopic(t, cl.SNS, "web", nil)
	dlqURL, dlqARN := createQueue(t, cl.SQS, "web-dlq")
	out, err := cl.SNS.Subscribe(ctx, &sns.SubscribeInput{TopicArn: aws.String(topic), Protocol: aws.String("http"), Endpoint: aws.String(e.URL + "/hook"),
		Attributes: map[string]string{
			"DeliveryPolicy": `{"healthyRetryPolicy":{"minDelayTarget":1,"maxDelayTarget":1,"numRetries":2}}`,
			"RedrivePolicy":  `{"deadLetterTargetArn":"` + dlqARN + `"}`,
		}})
	if err != nil || aws.ToString(out.SubscriptionArn) != "pending confirmation" {
		t.Fatalf("Subscribe = %v, %v", aws.ToString(out.SubscriptionArn), err)
	}
	sub := confirmHTTP(t, e, topic)
	attrs := subscriptionAttributes(t, cl.SNS, sub)
	if attrs["PendingConfirmation"] != "false" || attrs["ConfirmationWasAuthenticated"] != "false" || attrs["Endpoint"] != e.URL+"/hook" {
		t.Fatalf("attributes after confirming: %v", attrs)
	}
	var eff struct {
		HealthyRetryPolicy struct{ NumRetries, MinDelayTarget int } `json:"healthyRetryPolicy"`
	}
	if json.Unmarshal([]byte(attrs["EffectiveDeliveryPolicy"]), &eff) != nil || eff.HealthyRetryPolicy.NumRetries != 2 || eff.HealthyRetryPolicy.MinDelayTarget != 1 {
		t.Errorf("EffectiveDeliveryPolicy = %s", attrs["EffectiveDeliveryPolicy"])
	}

	pub, err := cl.SNS.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(topic), Message: aws.String("hello"), Subject: aws.String("Hi")})
	if err != nil {
		t.Fatal(err)
	}
	d := e.next(t)
	if d.header.Get("x-amz-sns-message-type") != "Notification" || d.header.Get("x-amz-sns-subscription-arn") != sub ||
		d.header.Get("x-amz-sns-message-id") != aws.ToString(pub.MessageId) {
		t.Fatalf("notification headers %v", d.header)
	}
	n := decodeEnvelope(t, d.body)
	if n.Message != "hello" || n.Subject != "Hi" || n.UnsubscribeURL != srv.URL+"/?Action=Unsubscribe&SubscriptionArn="+sub {
		t.Fatalf("notification %+v", n)
	}
	verifySNSSignature(t, n)

	// Raw delivery POSTs the message itself.
	if _, err := cl.SNS.SetSubscriptionAttributes(ctx, &sns.SetSubscriptionAttributesInput{SubscriptionArn: aws.String(sub),
		AttributeName: aws.String("RawMessageDelivery"), AttributeValue: aws.String("true")}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.SNS.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(topic), Message: aws.String("raw body")}); err != nil {
		t.Fatal(err)
	}
	if d := e.next(t); d.body != "raw body" || d.header.Get("x-amz-sns-rawdelivery") != "true" {
		t.Fatalf("raw delivery %q, headers %v", d.body, d.header)
	}

	// A 4xx answer counts as delivered; 5xx answers are retried twice a second apart, then
	// the message goes to the dead-letter queue.
	e.setAnswer(func(body string) int {
		switch body {
		case "gone":
			return http.StatusNotFound
		case "broken":
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	if _, err := cl.SNS.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(topic), Message: aws.String("gone")}); err != nil {
		t.Fatal(err)
	}
	if d := e.next(t); d.body != "gone" {
		t.Fatalf("got %q", d.body)
	}
	if _, err := cl.SNS.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(topic), Message: aws.String("broken")}); err != nil {
		t.Fatal(err)
	}
	var attempts []time.Time
	for range 3 {
		d := e.next(t)
		if d.body != "broken" {
			t.Fatalf("got %q", d.body)
		}
		attempts = append(attempts, d.at)
	}
	for i := 1; i < len(attempts); i++ {
		if gap := attempts[i].Sub(attempts[i-1]); gap < 900*time.Millisecond {
			t.Errorf("retry %d came %v after the attempt before, want about 1s", i, gap)
		}
	}
	if body := receiveBodies(t, cl.SQS, dlqURL, 1)[0]; body != "broken" {
		t.Fatalf("dead-letter queue got %q", body)
	}
	e.quiet(t, 1500*time.Millisecond)
	expectEmpty(t, cl.SQS, dlqURL)

	// The UnsubscribeURL works from a plain GET; the endpoint is told, with a token that
	// restores the subscription.
	if status, body := visit(t, n.UnsubscribeURL); status != 200 || !strings.Contains(body, "UnsubscribeResponse") {
		t.Fatalf("visiting the UnsubscribeURL: %d %s", status, body)
	}
	u := e.next(t)
	uc := decodeEnvelope(t, u.body)
	if uc.Type != "UnsubscribeConfirmation" || u.header.Get("x-amz-sns-subscription-arn") != sub || uc.Token == "" {
		t.Fatalf("unsubscribe confirmation %+v", uc)
	}
	verifySNSSignature(t, uc)
	if got := topicAttributes(t, cl.SNS, topic)["SubscriptionsDeleted"]; got != "1" {
		t.Errorf("SubscriptionsDeleted = %s", got)
	}
	if _, err := cl.SNS.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(topic), Message: aws.String("after")}); err != nil {
		t.Fatal(err)
	}
	e.quiet(t, time.Second)
	if status, body := visit(t, uc.SubscribeURL); status != 200 || !strings.Contains(body, sub) {
		t.Fatalf("restoring: %d %s", status, body)
	}
	if _, err := cl.SNS.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(topic), Message: aws.String("restored")}); err != nil {
		t.Fatal(err)
	}
	if d := e.next(t); d.body != "restored" {
		t.Fatalf("got %q after restoring", d.body)
	}

	// ConfirmSubscription refuses tokens it did not issue.
	_, err = cl.SNS.ConfirmSubscription(ctx, &sns.ConfirmSubscriptionInput{TopicArn: aws.String(topic), Token: aws.String("randomtoken")})
	wantAPIError(t, err, "InvalidParameter", "Invalid token")
	_, err = cl.SNS.ConfirmSubscription(ctx, &sns.ConfirmSubscriptionInput{TopicArn: aws.String(topic), Token: aws.String(strings.Repeat("ab", 144))})
	wantAPIError(t, err, "InvalidParameter", "Invalid parameter: Token")
	_, err = cl.SNS.ConfirmSubscription(ctx, &sns.ConfirmSubscriptionInput{TopicArn: aws.String("nope"), Token: aws.String(uc.Token)})
	wantAPIError(t, err, "InvalidParameter", "Invalid parameter: Topic")
}

// TestSNSHTTPLinksInStrictMode confirms and unsubscribes through the URLs of SNS's messages,
// which carry no AWS signature, in strict mode; a subscription confirmed with
// AuthenticateOnUnsubscribe takes only signed unsubscribes.
func TestSNSHTTPLinksInStrictMode(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{Strict: true})
	cl := srv.Clients()
	ctx := t.Context()
	e := newSNSEndpoint(t)
	topic := createTopic(t, cl.SNS, "strict", nil)
	if !strings.Contains(topic, ":"+kiritest.TestAccount+":") {
		t.Fatalf("topic %s is not in the test account", topic)
	}

	// An unsigned API call is still refused.
	if status, _ := visit(t, srv.URL+"/?Action=ListTopics"); status != http.StatusForbidden {
		t.Fatalf("unsigned ListTopics answered %d", status)
	}

	subscribe(t, cl.SNS, topic, "http", e.URL, nil)
	sub := confirmHTTP(t, e, topic)
	if _, err := cl.SNS.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(topic), Message: aws.String("strict hello")}); err != nil {
		t.Fatal(err)
	}
	n := decodeEnvelope(t, e.next(t).body)
	verifySNSSignature(t, n)
	if status, body := visit(t, n.UnsubscribeURL); status != 200 {
		t.Fatalf("visiting the UnsubscribeURL: %d %s", status, body)
	}
	e.next(t) // the UnsubscribeConfirmation
	if _, err := cl.SNS.GetSubscriptionAttributes(ctx, &sns.GetSubscriptionAttributesInput{SubscriptionArn: aws.String(sub)}); err == nil {
		t.Fatal("the subscription is still there")
	}

	// Confirmed with AuthenticateOnUnsubscribe, the subscription refuses unsigned unsubscribes.
	if _, err := cl.SNS.Subscribe(ctx, &sns.SubscribeInput{TopicArn: aws.String(topic), Protocol: aws.String("http"), Endpoint: aws.String(e.URL + "/second")}); err != nil {
		t.Fatal(err)
	}
	c := decodeEnvelope(t, e.next(t).body)
	conf, err := cl.SNS.ConfirmSubscription(ctx, &sns.ConfirmSubscriptionInput{TopicArn: aws.String(topic), Token: aws.String(c.Token),
		AuthenticateOnUnsubscribe: aws.String("true")})
	if err != nil {
		t.Fatal(err)
	}
	second := aws.ToString(conf.SubscriptionArn)
	if got := subscriptionAttributes(t, cl.SNS, second)["ConfirmationWasAuthenticated"]; got != "true" {
		t.Errorf("ConfirmationWasAuthenticated = %s", got)
	}
	if status, body := visit(t, srv.URL+"/?Action=Unsubscribe&SubscriptionArn="+second); status != http.StatusForbidden || !strings.Contains(body, "AuthorizationError") {
		t.Fatalf("unsigned unsubscribe of an authenticated subscription: %d %s", status, body)
	}
	if _, err := cl.SNS.Unsubscribe(ctx, &sns.UnsubscribeInput{SubscriptionArn: aws.String(second)}); err != nil {
		t.Fatalf("signed unsubscribe: %v", err)
	}
}
