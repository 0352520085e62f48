package sns

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/dispatch"
	"github.com/kiri-run/kiri/internal/queue"
	"github.com/kiri-run/kiri/internal/store"
	"github.com/kiri-run/kiri/internal/telemetry"
	"github.com/kiri-run/kiri/internal/uuid"
)

// snsPrincipal is the service principal SNS delivers as.
const snsPrincipal = "sns.amazonaws.com"

// dedupWindow is how long a FIFO topic remembers a deduplication id.
const dedupWindow = 5 * time.Minute

// maxBatchEntries bounds PublishBatch.
const maxBatchEntries = 10

// managedPolicy is how hard the target registry tries to deliver to an SQS queue or a Lambda
// function, as SNS's policy for endpoints AWS manages: retries over 23 days (SNS makes 100,015
// attempts), backing off from 1 to 20 seconds. deadLetter is the subscription's ARN when it has
// a dead-letter queue: the delivery that fails for good comes back to SNS (see kind.Deliver),
// which sends it to the queue the subscription names at that time.
func managedPolicy(deadLetter string) dispatch.Policy {
	return dispatch.Policy{MaxAge: 23 * 24 * time.Hour, MinBackoff: time.Second, MaxBackoff: 20 * time.Second, DeadLetter: deadLetter}
}

// publishInput is one message to publish, from Publish, PublishBatch or a delivery of the
// target registry.
type publishInput struct {
	Message    *string
	Subject    *string
	Structure  *string
	Attributes map[string]MessageAttributeValue
	// Delivered are the attributes of a delivery of the target registry, in Attributes' stead.
	Delivered map[string]dispatch.Attribute
	Group     *string
	Dedup     *string
}

// outgoing is a checked message, ready to fan out.
type outgoing struct {
	n notification
	// byProtocol are the messages of a MessageStructure json Publish; nil otherwise.
	byProtocol   map[string]string
	group, dedup string
	size         int
}

// messageFor is the message a subscription of protocol receives.
func (o *outgoing) messageFor(protocol string) string {
	if o.byProtocol == nil {
		return o.n.Message
	}
	if m, ok := o.byProtocol[protocol]; ok {
		return m
	}
	return o.byProtocol["default"]
}

// prepare checks a message for topic t as Publish does.
func prepare(t *topicRow, in publishInput) (*outgoing, error) {
	if err := checkSubject(in.Subject); err != nil {
		return nil, err
	}
	msg := awsproto.Value(in.Message)
	if msg == "" {
		return nil, invalidParameter("Empty message")
	}
	attrs, size, err := checkAttributes(in.Attributes)
	if in.Delivered != nil {
		attrs = in.Delivered
		size, err = checkAttributeSet(attrs)
	}
	if err != nil {
		return nil, err
	}
	o := &outgoing{n: notification{Type: typeNotification, TopicARN: t.ARN, Subject: awsproto.Value(in.Subject), Message: msg, Attributes: attrs}}
	o.size = len(msg) + size
	if o.size > maxMessageBytes {
		return nil, invalidParameter("Message too long")
	}
	switch st := awsproto.Value(in.Structure); st {
	case "":
	case "json":
		if o.byProtocol, err = parseStructure(msg); err != nil {
			return nil, err
		}
	default:
		return nil, invalidReason("MessageStructure", "must be json")
	}
	if err := o.checkFifo(t, in.Group, in.Dedup); err != nil {
		return nil, err
	}
	return o, nil
}

// checkFifo applies a FIFO topic's rules on groups and deduplication, and refuses both on a
// standard topic.
func (o *outgoing) checkFifo(t *topicRow, group, dedup *string) error {
	if !t.Fifo {
		if dedup != nil {
			return invalidReason("MessageDeduplicationId", "The request includes MessageDeduplicationId parameter that is not valid for this topic type")
		}
		if group != nil {
			return invalidReason("MessageGroupId", "The request includes MessageGroupId parameter that is not valid for this topic type")
		}
		return nil
	}
	if awsproto.Value(group) == "" {
		return invalidParameter("The MessageGroupId parameter is required for FIFO topics")
	}
	o.group, o.dedup = *group, awsproto.Value(dedup)
	if o.dedup == "" {
		if t.effective(attrContentBasedDedup) != "true" {
			return invalidParameter("The topic should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly")
		}
		sum := sha256.Sum256([]byte(o.n.Message))
		o.dedup = hex.EncodeToString(sum[:])
	}
	for param, v := range map[string]string{"MessageGroupId": o.group, "MessageDeduplicationId": o.dedup} {
		if len(v) > 128 || !printableASCII(v) {
			return invalidReason(param, param+" can only include alphanumeric and punctuation characters. 1 to 128 in length.")
		}
	}
	return nil
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// sequencer hands out FIFO sequence numbers: increasing, from the clock, so they keep
// increasing across restarts.
type sequencer struct {
	mu   sync.Mutex
	last int64
}

func (q *sequencer) next(now time.Time) string {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.last = max(q.last+1, now.UnixNano())
	return fmt.Sprintf("%020d", q.last)
}

// delivery is one message for one subscription: for the target registry (SQS, Lambda) or the
// HTTP/S queue.
type delivery struct {
	registry *dispatch.Delivery
	policy   dispatch.Policy
	http     []byte
	trace    string
}

// publishAll stamps each message, fans it out to the topic's confirmed subscriptions whose
// filter policies it passes, and commits every delivery in one write. A FIFO message whose
// deduplication id the topic saw in the last five minutes is acknowledged again and not
// delivered.
func (s *Service) publishAll(ctx context.Context, t *topicRow, msgs []*outgoing) error {
	f, err := s.fanout(ctx, t)
	if err != nil {
		return err
	}
	now := s.now().UTC()
	trace := telemetry.TraceParent(ctx)
	src := dispatch.Source{Principal: snsPrincipal, ARN: t.ARN, Account: t.Key.Account, Region: t.Key.Region}
	perMessage := make([][]delivery, len(msgs))
	deliveries := 0
	for i, m := range msgs {
		m.n.MessageID, m.n.Timestamp = uuid.New(), now.Format(timestampLayout)
		if t.Fifo {
			m.n.Sequence = s.seq.next(now)
		} else {
			m.n.SignatureVersion = t.effective(attrSignatureVersion)
		}
		if perMessage[i], err = s.fanOut(ctx, t, f, m, src, trace); err != nil {
			return err
		}
		deliveries += len(perMessage[i])
	}
	if deliveries == 0 && !t.Fifo {
		return nil // nothing to store: no subscription takes the messages
	}
	return s.st.Write(ctx, func(tx *store.Tx) error {
		for i, m := range msgs {
			if t.Fifo {
				dup, err := s.deduplicate(tx, t, m)
				if err != nil || dup {
					continue
				}
			}
			for _, d := range perMessage[i] {
				if err := s.send(tx, d); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// send stores one delivery in tx.
func (s *Service) send(tx *store.Tx, d delivery) error {
	if d.registry != nil {
		return s.targets.Enqueue(tx, *d.registry, d.policy)
	}
	_, err := s.eng.Send(tx, httpQueue, queue.Outgoing{Body: d.http, TraceParent: d.trace})
	return err
}

// fanOut renders m for each subscription that takes it.
func (s *Service) fanOut(ctx context.Context, t *topicRow, f *fanout, m *outgoing, src dispatch.Source, trace string) ([]delivery, error) {
	var out []delivery
	attrs := filterAttributes(m.n.Attributes)
	signed := map[string]string{} // signatures by message text
	u := urls{endpoint: s.endpoint}
	for _, sub := range f.subs {
		text := m.messageFor(sub.Protocol)
		if sub.filter != nil && !sub.filter.Matches(attrs, text) {
			continue
		}
		n := m.n
		n.Message = text
		if sub.Protocol == "http" || sub.Protocol == "https" {
			job := httpJob{Sub: sub.ARN, Endpoint: sub.Endpoint, Raw: sub.raw, Policy: effectivePolicy(t.policy, sub.policy), N: n}
			out = append(out, delivery{http: marshal(job), trace: trace})
			continue
		}
		d := &dispatch.Delivery{Target: sub.Endpoint, Source: src, TraceParent: trace}
		if _, _, fifo, _ := queueARN(sub.Endpoint); fifo {
			d.Group, d.DedupID = m.group, m.dedup
		}
		if sub.Protocol == "sqs" && sub.raw {
			d.Payload, d.Attributes = []byte(text), n.Attributes
		} else {
			if err := s.signOnce(ctx, &n, signed, &u); err != nil {
				return nil, err
			}
			if sub.Protocol == "sqs" {
				d.Payload = u.envelopeOf(&n, sub.ARN)
			} else {
				d.Payload = u.lambdaEventOf(&n, sub.ARN)
			}
		}
		deadLetter := ""
		if sub.deadLetter != "" {
			deadLetter = sub.ARN
		}
		out = append(out, delivery{registry: d, policy: managedPolicy(deadLetter)})
	}
	return out, nil
}

// signOnce signs n (unless its topic is FIFO), reusing the signature of a message with the
// same text, as the signature covers no field of the subscription; it sets u's certificate.
func (s *Service) signOnce(ctx context.Context, n *notification, signed map[string]string, u *urls) error {
	if n.SignatureVersion == "" {
		return nil
	}
	if sig, ok := signed[n.Message]; ok {
		n.Signature = sig
		return nil
	}
	path, err := s.sign(ctx, n)
	if err != nil {
		return err
	}
	u.certPath = path
	signed[n.Message] = n.Signature
	return nil
}

// sign signs n with the data directory's key, and returns the path of its certificate.
func (s *Service) sign(ctx context.Context, n *notification) (string, error) {
	g, err := s.signer(ctx)
	if err != nil {
		return "", err
	}
	u := urls{endpoint: s.endpoint, certPath: g.path}
	n.Signature, err = g.sign(n.SignatureVersion, canonical(n, u.subscribe(n.TopicARN, n.Token)))
	return g.path, err
}

// deduplicate records m's deduplication id for t, or, when t saw it within the window, makes m
// the message it saw and reports the duplicate.
func (s *Service) deduplicate(tx *store.Tx, t *topicRow, m *outgoing) (bool, error) {
	now := s.now()
	var id, seq string
	var until int64
	err := tx.QueryRow("SELECT message_id, seq, expires_at FROM sns_dedup WHERE topic_id = ? AND dedup = ?", t.ID, m.dedup).Scan(&id, &seq, &until)
	switch {
	case err == nil && until > now.UnixNano():
		m.n.MessageID, m.n.Sequence = id, seq
		return true, nil
	case err != nil && !errors.Is(err, sql.ErrNoRows):
		return false, fmt.Errorf("read deduplication id: %w", err)
	}
	_, err = tx.Exec(`INSERT INTO sns_dedup (topic_id, dedup, message_id, seq, expires_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (topic_id, dedup) DO UPDATE SET message_id = excluded.message_id, seq = excluded.seq, expires_at = excluded.expires_at`,
		t.ID, m.dedup, m.n.MessageID, m.n.Sequence, now.Add(dedupWindow).UnixNano())
	if err != nil {
		return false, fmt.Errorf("record deduplication id: %w", err)
	}
	return false, nil
}

func (s *Service) publish(ctx context.Context, in *PublishInput) (*PublishResponse, error) {
	if awsproto.Value(in.PhoneNumber) != "" {
		return nil, invalidReason("PhoneNumber", "Kiri does not send SMS messages.")
	}
	topicARN := awsproto.Value(in.TopicArn)
	param := "TopicArn"
	switch target := awsproto.Value(in.TargetArn); {
	case topicARN == "" && target == "":
		return nil, invalidReason("TopicArn or TargetArn", "no value for required parameter")
	case topicARN != "" && target != "":
		return nil, invalidReason("TopicArn or TargetArn", "Only one of TopicArn and TargetArn may be given.")
	case target != "":
		if strings.Contains(target, ":endpoint/") {
			return nil, invalidReason("TargetArn", "No endpoint found for the target arn specified")
		}
		topicARN, param = target, "TargetArn"
	}
	t, err := s.topicFromARN(ctx, param, &topicARN, "Publish")
	if err != nil {
		return nil, err
	}
	m, err := prepare(t, publishInput{Message: in.Message, Subject: in.Subject, Structure: in.MessageStructure,
		Attributes: in.MessageAttributes, Group: in.MessageGroupId, Dedup: in.MessageDeduplicationId})
	if err != nil {
		return nil, err
	}
	if err := s.publishAll(ctx, t, []*outgoing{m}); err != nil {
		return nil, err
	}
	out := &PublishResponse{MessageId: awsproto.Ptr(m.n.MessageID)}
	if t.Fifo {
		out.SequenceNumber = awsproto.Ptr(m.n.Sequence)
	}
	return out, nil
}

func (s *Service) publishBatch(ctx context.Context, in *PublishBatchInput) (*PublishBatchResponse, error) {
	t, err := s.topicFromARN(ctx, "TopicArn", in.TopicArn, "Publish")
	if err != nil {
		return nil, err
	}
	entries := in.PublishBatchRequestEntries
	if len(entries) > maxBatchEntries {
		return nil, awsproto.Errorf("TooManyEntriesInBatchRequest", 400, "The batch request contains more entries than permissible.")
	}
	seen := map[string]bool{}
	for _, e := range entries {
		id := awsproto.Value(e.Id)
		if seen[id] {
			return nil, awsproto.Errorf("BatchEntryIdsNotDistinct", 400, "Two or more batch entries in the request have the same Id.")
		}
		seen[id] = true
		if len(id) > 80 {
			return nil, awsproto.Errorf("InvalidBatchEntryId", 400, "The Id of a batch entry in the batch request is too long: %s", id)
		}
		if id == "" || strings.IndexFunc(id, func(r rune) bool { return !(r < 0x80 && (isNameByte(byte(r)))) }) >= 0 {
			return nil, awsproto.Errorf("InvalidBatchEntryId", 400, "The Id of a batch entry in the batch request contains an impermissible character: %s", id)
		}
	}
	out := &PublishBatchResponse{Successful: []PublishBatchResultEntry{}, Failed: []BatchResultErrorEntry{}}
	var msgs []*outgoing
	var ids []string
	total := 0
	for _, e := range entries {
		m, err := prepare(t, publishInput{Message: e.Message, Subject: e.Subject, Structure: e.MessageStructure,
			Attributes: e.MessageAttributes, Group: e.MessageGroupId, Dedup: e.MessageDeduplicationId})
		var ae *awsproto.Error
		switch {
		case err == nil:
			msgs, ids = append(msgs, m), append(ids, awsproto.Value(e.Id))
			total += m.size
		case errors.As(err, &ae) && entryError(ae):
			out.Failed = append(out.Failed, BatchResultErrorEntry{Id: e.Id, Code: awsproto.Ptr(ae.Code),
				Message: awsproto.Ptr(ae.Message), SenderFault: awsproto.Ptr(true)})
		default:
			return nil, err
		}
	}
	if total > maxMessageBytes {
		return nil, awsproto.Errorf("BatchRequestTooLong", 400, "The length of all the messages put together is more than the limit.")
	}
	if err := s.publishAll(ctx, t, msgs); err != nil {
		return nil, err
	}
	for i, m := range msgs {
		r := PublishBatchResultEntry{Id: awsproto.Ptr(ids[i]), MessageId: awsproto.Ptr(m.n.MessageID)}
		if t.Fifo {
			r.SequenceNumber = awsproto.Ptr(m.n.Sequence)
		}
		out.Successful = append(out.Successful, r)
	}
	return out, nil
}

// entryError reports whether PublishBatch answers a refusal of one entry's message in that
// entry's result rather than failing the whole request. SNS fails the request for errors in
// message attributes, the MessageStructure and a FIFO topic's group and deduplication ids.
func entryError(e *awsproto.Error) bool {
	if e.Code != "InvalidParameter" {
		return false
	}
	switch e.Message {
	case "Invalid parameter: Empty message", "Invalid parameter: Subject", "Invalid parameter: Message too long":
		return true
	}
	return strings.HasPrefix(e.Message, "Invalid parameter: MessageStructure")
}

// sendConfirmation queues a SubscriptionConfirmation or UnsubscribeConfirmation for an HTTP/S
// endpoint, in tx.
func (s *Service) sendConfirmation(ctx context.Context, tx *store.Tx, t *topicRow, subARN, endpoint, token, typ string) error {
	n := notification{Type: typ, MessageID: uuid.New(), TopicARN: t.ARN, Token: token,
		Timestamp: s.now().UTC().Format(timestampLayout), SignatureVersion: t.effective(attrSignatureVersion)}
	if typ == typeSubscriptionConfirmation {
		n.Message = "You have chosen to subscribe to the topic " + t.ARN + ".\nTo confirm the subscription, visit the SubscribeURL included in this message."
	} else {
		n.Message = "You have chosen to deactivate subscription " + subARN + ".\nTo cancel this operation and restore the subscription, visit the SubscribeURL included in this message."
	}
	job := httpJob{Sub: subARN, Endpoint: endpoint, Policy: effectivePolicy(t.policy, nil), N: n}
	_, err := s.eng.Send(tx, httpQueue, queue.Outgoing{Body: marshal(job), TraceParent: telemetry.TraceParent(ctx)})
	return err
}
