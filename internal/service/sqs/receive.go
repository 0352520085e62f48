package sqs

import (
	"context"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/queue"
)

// Receive limits.
const (
	maxReceiveMessages = 10
	maxWaitSeconds     = 20
	maxVisibility      = 43200
)

func (s *Service) receiveMessage(ctx context.Context, in *ReceiveMessageRequest) (*ReceiveMessageResult, error) {
	q, err := s.queueFromURL(ctx, in.QueueUrl)
	if err != nil {
		return nil, err
	}
	o, err := s.receiveOptions(ctx, q)
	if err != nil {
		return nil, err
	}
	if n := in.MaxNumberOfMessages; n != nil {
		if *n < 1 || *n > maxReceiveMessages {
			return nil, invalidValue("MaxNumberOfMessages", strconv.Itoa(int(*n)), "Must be between 1 and 10, if provided.")
		}
		o.Max = int(*n)
	}
	if v := in.VisibilityTimeout; v != nil {
		if *v < 0 || *v > maxVisibility {
			return nil, invalidValue("VisibilityTimeout", strconv.Itoa(int(*v)), "Must be >= 0 and <= 43200, if provided.")
		}
		o.Visibility = time.Duration(*v) * time.Second
	}
	if w := in.WaitTimeSeconds; w != nil {
		if *w < 0 || *w > maxWaitSeconds {
			return nil, invalidValue("WaitTimeSeconds", strconv.Itoa(int(*w)), "Must be >= 0 and <= 20, if provided.")
		}
		o.Wait = time.Duration(*w) * time.Second
	}
	if a := in.ReceiveRequestAttemptId; a != nil && q.S.Fifo {
		if err := fifoIDProblem("ReceiveRequestAttemptId", *a); err != nil {
			return nil, err
		}
		o.AttemptID, o.AttemptWindow = *a, dedupWindow
	}
	got, err := s.eng.Receive(ctx, q.Engine, o)
	if err != nil {
		return nil, err
	}
	want := wantedSystemAttributes(in.AttributeNames, in.MessageSystemAttributeNames)
	names := messageAttributeFilter(in.MessageAttributeNames)
	out := &ReceiveMessageResult{Messages: make([]Message, 0, len(got))}
	for _, r := range got {
		m, err := s.message(q, r, want, names)
		if err != nil {
			return nil, err
		}
		out.Messages = append(out.Messages, m)
	}
	return out, nil
}

// receiveOptions are how a receive from q leases by default: one message, under the queue's
// visibility timeout and wait time, in group order on a FIFO queue, moving messages past the
// redrive policy's maxReceiveCount to its dead-letter queue.
func (s *Service) receiveOptions(ctx context.Context, q *queueRow) (queue.ReceiveOptions, error) {
	o := queue.ReceiveOptions{Max: 1, Visibility: q.S.Visibility, Wait: q.S.ReceiveWait, Ordered: q.S.Fifo}
	if rp := q.S.Redrive; rp != nil {
		// A deleted dead-letter queue leaves the policy in place and moves nothing.
		if k, ok := parseQueueARN(rp.DeadLetterTargetArn); ok {
			dlq, err := s.loadQueue(ctx, k)
			if err != nil {
				return o, err
			}
			if dlq != nil {
				o.MaxReceives, o.DeadLetter, o.DeadLetterRetention = rp.MaxReceiveCount, dlq.Engine, dlq.S.Retention
			}
		}
	}
	return o, nil
}

// message is the wire form of a received message, with the system attributes in want and the
// message attributes names selects.
func (s *Service) message(q *queueRow, r queue.Received, want map[string]bool, names attributeFilter) (Message, error) {
	md, err := decodeMeta(r.Meta)
	if err != nil {
		return Message{}, err
	}
	m := Message{
		MessageId:     awsproto.Ptr(messageID(r.ID)),
		ReceiptHandle: awsproto.Ptr(encodeReceipt(q.ID, r.Receipt)),
		Body:          awsproto.Ptr(string(r.Body)),
		MD5OfBody:     awsproto.Ptr(hex.EncodeToString(md.BodyMD5[:])),
	}
	if len(md.Attrs) > 0 && !names.none() {
		attrs := md.Attrs
		if !names.all {
			attrs = make([]msgAttr, 0, len(md.Attrs))
			for _, a := range md.Attrs {
				if names.match(a.Name) {
					attrs = append(attrs, a)
				}
			}
		}
		if len(attrs) > 0 {
			m.MessageAttributes = make(map[string]MessageAttributeValue, len(attrs))
			for _, a := range attrs {
				m.MessageAttributes[a.Name] = a.value()
			}
			m.MD5OfMessageAttributes = awsproto.Ptr(md5OfAttributes(attrs))
		}
	}
	if len(want) == 0 {
		return m, nil
	}
	m.Attributes = make(map[string]string, len(want))
	put := func(name, v string) {
		if want[sysAll] || want[name] {
			m.Attributes[name] = v
		}
	}
	put(sysSenderID, md.Sender)
	put(sysSentTimestamp, millis(r.SentAt))
	put(sysApproximateReceiveCount, strconv.Itoa(r.Receives))
	put(sysApproximateFirstReceive, millis(r.FirstReceiveAt))
	if r.Group != "" {
		put(sysMessageGroupID, r.Group)
	}
	if q.S.Fifo {
		dedup := md.DedupID
		if dedup == "" {
			dedup = r.DedupID
		}
		put(sysMessageDeduplicationID, dedup)
		put(sysSequenceNumber, sequenceNumber(r.ID))
	}
	if md.Trace != "" {
		put(sysAWSTraceHeader, md.Trace)
	}
	if md.Origin != q.Key.Name {
		put(sysDeadLetterQueueSourceArn, queueKey{Account: q.Key.Account, Region: q.Key.Region, Name: md.Origin}.arn())
	}
	if len(m.Attributes) == 0 {
		m.Attributes = nil
	}
	return m, nil
}

// millis is t in milliseconds since the epoch, as SQS writes message timestamps.
func millis(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

// wantedSystemAttributes merges ReceiveMessage's AttributeNames (deprecated, which may also
// hold queue attribute names: they select nothing) and MessageSystemAttributeNames.
func wantedSystemAttributes(lists ...[]string) map[string]bool {
	var want map[string]bool
	for _, l := range lists {
		for _, n := range l {
			if want == nil {
				want = map[string]bool{}
			}
			want[n] = true
		}
	}
	return want
}

// attributeFilter is the message attribute names a receive asks for: "All", ".*" or "*" for
// every one, "prefix.*" for those beginning with prefix, else exact names.
type attributeFilter struct {
	all      bool
	names    map[string]bool
	prefixes []string
}

func messageAttributeFilter(names []string) attributeFilter {
	var f attributeFilter
	for _, n := range names {
		switch {
		case n == "All" || n == ".*" || n == "*":
			f.all = true
		case strings.HasSuffix(n, ".*"):
			f.prefixes = append(f.prefixes, strings.TrimSuffix(n, ".*"))
		default:
			if f.names == nil {
				f.names = map[string]bool{}
			}
			f.names[n] = true
		}
	}
	return f
}

func (f attributeFilter) none() bool { return !f.all && len(f.names) == 0 && len(f.prefixes) == 0 }

func (f attributeFilter) match(name string) bool {
	if f.all || f.names[name] {
		return true
	}
	for _, p := range f.prefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}
