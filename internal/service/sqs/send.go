package sqs

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/queue"
	"github.com/kiri-run/kiri/internal/store"
	"github.com/kiri-run/kiri/internal/telemetry"
)

// Message system attribute names.
const (
	sysAll                      = "All"
	sysSenderID                 = "SenderId"
	sysSentTimestamp            = "SentTimestamp"
	sysApproximateReceiveCount  = "ApproximateReceiveCount"
	sysApproximateFirstReceive  = "ApproximateFirstReceiveTimestamp"
	sysSequenceNumber           = "SequenceNumber"
	sysMessageDeduplicationID   = "MessageDeduplicationId"
	sysMessageGroupID           = "MessageGroupId"
	sysAWSTraceHeader           = "AWSTraceHeader"
	sysDeadLetterQueueSourceArn = "DeadLetterQueueSourceArn"
)

// Message limits.
const (
	maxDelaySeconds = 900
	maxFifoID       = 128 // MessageGroupId, MessageDeduplicationId, ReceiveRequestAttemptId
	dedupWindow     = 5 * time.Minute
)

// sendInput is what SendMessage and a SendMessageBatch entry both carry.
type sendInput struct {
	Body    *string
	Delay   *int32
	Attrs   map[string]MessageAttributeValue
	System  map[string]MessageSystemAttributeValue
	DedupID *string
	GroupID *string
}

// outgoing is a checked message ready for the engine, with what its send reports.
type outgoing struct {
	msg      queue.Outgoing
	bodyMD5  string
	attrsMD5 string
	sysMD5   string
}

// fifoIDProblem words SQS's refusal of a MessageGroupId, MessageDeduplicationId or
// ReceiveRequestAttemptId: 1 to 128 alphanumerics and punctuation.
func fifoIDProblem(param, v string) error {
	ok := v != "" && len(v) <= maxFifoID
	for i := 0; ok && i < len(v); i++ {
		ok = v[i] > ' ' && v[i] < 0x7f
	}
	if ok {
		return nil
	}
	return invalidValue(param, v, param+" can only include alphanumeric and punctuation characters. 1 to 128 in length.")
}

// checkFifoParams checks the parameters that depend on the queue type and returns the group and
// deduplication id to send with. batch words a missing group id as SendMessageBatch does.
func checkFifoParams(q *queueRow, in sendInput, batch bool) (group, dedup string, err error) {
	group, dedup = awsproto.Value(in.GroupID), awsproto.Value(in.DedupID)
	if in.GroupID != nil {
		if err := fifoIDProblem("MessageGroupId", group); err != nil {
			return "", "", err
		}
	}
	if !q.S.Fifo {
		if in.DedupID != nil {
			return "", "", invalidValue("MessageDeduplicationId", dedup, "The request includes a parameter that is not valid for this queue type.")
		}
		return group, "", nil
	}
	if in.GroupID == nil {
		if batch {
			return "", "", invalidParameter("The request must contain the parameter MessageGroupId.")
		}
		return "", "", missingParameter("MessageGroupId")
	}
	if d := awsproto.Value(in.Delay); d != 0 {
		return "", "", invalidValue("DelaySeconds", strconv.Itoa(int(d)), "The request include parameter that is not valid for this queue type.")
	}
	switch {
	case in.DedupID != nil:
		if err := fifoIDProblem("MessageDeduplicationId", dedup); err != nil {
			return "", "", err
		}
	case q.S.ContentBasedDeduplication:
		sum := sha256.Sum256([]byte(awsproto.Value(in.Body)))
		dedup = hex.EncodeToString(sum[:])
	default:
		return "", "", invalidParameter("The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly")
	}
	return group, dedup, nil
}

// prepare checks one message for q and builds what the engine stores. sizeReason words a
// message over the size limit (SendMessage and SendMessageBatch say it differently).
func prepare(q *queueRow, in sendInput, group, dedup, sender string, now time.Time, sizeReason string) (outgoing, error) {
	body := awsproto.Value(in.Body)
	if body == "" {
		return outgoing{}, missingParameter("MessageBody")
	}
	if !validContents(body) {
		return outgoing{}, errInvalidContents
	}
	attrs, err := checkMessageAttributes(in.Attrs)
	if err != nil {
		return outgoing{}, err
	}
	sys, err := checkSystemAttributes(in.System)
	if err != nil {
		return outgoing{}, err
	}
	size := len(body)
	for _, a := range attrs {
		size += a.size()
	}
	if size > q.S.MaxMessageSize {
		return outgoing{}, invalidParameter("%s Reason: Message must be shorter than %d bytes.", sizeReason, q.S.MaxMessageSize)
	}
	delay := q.S.Delay
	if in.Delay != nil && !q.S.Fifo {
		if *in.Delay < 0 || *in.Delay > maxDelaySeconds {
			return outgoing{}, invalidValue("DelaySeconds", strconv.Itoa(int(*in.Delay)), "DelaySeconds must be >= 0 and <= 900.")
		}
		delay = time.Duration(*in.Delay) * time.Second
	}
	raw := []byte(body)
	m := meta{Sender: sender, Origin: q.Key.Name, BodyMD5: md5.Sum(raw), Attrs: attrs}
	for _, a := range sys {
		m.Trace = string(a.Value)
	}
	out := outgoing{
		msg: queue.Outgoing{
			Body:    raw,
			Group:   group,
			At:      now.Add(delay),
			Expires: now.Add(q.S.Retention),
		},
		bodyMD5:  hex.EncodeToString(m.BodyMD5[:]),
		attrsMD5: md5OfAttributes(attrs),
		sysMD5:   md5OfAttributes(sys),
	}
	if dedup != "" {
		out.msg.DedupID, out.msg.DedupWindow = dedup, dedupWindow
		if q.S.GroupScopedDeduplication {
			// Deduplication per message group: the engine's id carries the group, the
			// message keeps the id as sent.
			out.msg.DedupID = strconv.Itoa(len(group)) + ":" + group + dedup
			m.DedupID = dedup
		}
	}
	out.msg.Meta = m.encode(nil)
	return out, nil
}

// senderID is the SenderId of the caller: its user id, else its account.
func senderID(ctx context.Context) string {
	if c := awsproto.CallFrom(ctx); c != nil {
		if c.UserID != "" {
			return c.UserID
		}
		return c.AccountID
	}
	return ""
}

// sendAll sends the prepared messages to q in one write, and returns each one's engine
// result; entries with a nil message (failed checks) are skipped.
func (s *Service) sendAll(ctx context.Context, q *queueRow, outs []*outgoing) ([]queue.Sent, error) {
	sent := make([]queue.Sent, len(outs))
	tp := telemetry.TraceParent(ctx)
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		cur, err := s.loadQueueInTx(tx, q.Key)
		if err != nil {
			return err
		}
		if cur == nil || cur.ID != q.ID {
			return queueDoesNotExist()
		}
		for i, o := range outs {
			if o == nil {
				continue
			}
			o.msg.TraceParent = tp
			if sent[i], err = s.eng.Send(tx, q.Engine, o.msg); err != nil {
				return err
			}
		}
		return nil
	})
	return sent, err
}

func (s *Service) sendMessage(ctx context.Context, in *SendMessageRequest) (*SendMessageResult, error) {
	q, err := s.queueFromURL(ctx, in.QueueUrl)
	if err != nil {
		return nil, err
	}
	si := sendInput{Body: in.MessageBody, Delay: in.DelaySeconds, Attrs: in.MessageAttributes, System: in.MessageSystemAttributes,
		DedupID: in.MessageDeduplicationId, GroupID: in.MessageGroupId}
	if awsproto.Value(in.MessageBody) == "" {
		return nil, missingParameter("MessageBody")
	}
	group, dedup, err := checkFifoParams(q, si, false)
	if err != nil {
		return nil, err
	}
	o, err := prepare(q, si, group, dedup, senderID(ctx), s.now(), "One or more parameters are invalid.")
	if err != nil {
		return nil, err
	}
	sent, err := s.sendAll(ctx, q, []*outgoing{&o})
	if err != nil {
		return nil, err
	}
	out := &SendMessageResult{
		MessageId:                    awsproto.Ptr(messageID(sent[0].ID)),
		MD5OfMessageBody:             awsproto.Ptr(o.bodyMD5),
		MD5OfMessageAttributes:       optional(o.attrsMD5),
		MD5OfMessageSystemAttributes: optional(o.sysMD5),
	}
	if q.S.Fifo {
		out.SequenceNumber = awsproto.Ptr(sequenceNumber(sent[0].ID))
	}
	return out, nil
}

func (s *Service) sendMessageBatch(ctx context.Context, in *SendMessageBatchRequest) (*SendMessageBatchResult, error) {
	q, err := s.queueFromURL(ctx, in.QueueUrl)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(in.Entries))
	total := 0
	for i, e := range in.Entries {
		ids[i] = awsproto.Value(e.Id)
		total += len(awsproto.Value(e.MessageBody))
		for name, a := range e.MessageAttributes {
			total += len(name) + len(awsproto.Value(a.DataType)) + len(awsproto.Value(a.StringValue)) + len(a.BinaryValue)
		}
	}
	if err := checkBatch("SendMessageBatchRequestEntry", ids); err != nil {
		return nil, err
	}
	if total > maxMessageSize {
		return nil, batchTooLong(maxMessageSize, total)
	}
	type entry struct {
		group, dedup string
	}
	params := make([]entry, len(in.Entries))
	for i, e := range in.Entries {
		si := sendInput{Body: e.MessageBody, Delay: e.DelaySeconds, DedupID: e.MessageDeduplicationId, GroupID: e.MessageGroupId}
		if params[i].group, params[i].dedup, err = checkFifoParams(q, si, true); err != nil {
			return nil, err
		}
	}
	out := &SendMessageBatchResult{Successful: []SendMessageBatchResultEntry{}, Failed: []BatchResultErrorEntry{}}
	outs := make([]*outgoing, len(in.Entries))
	now, sender := s.now(), senderID(ctx)
	for i, e := range in.Entries {
		si := sendInput{Body: e.MessageBody, Delay: e.DelaySeconds, Attrs: e.MessageAttributes, System: e.MessageSystemAttributes,
			DedupID: e.MessageDeduplicationId, GroupID: e.MessageGroupId}
		o, err := prepare(q, si, params[i].group, params[i].dedup, sender, now, "One or more parameters cannot be validated.")
		if err != nil {
			out.Failed = append(out.Failed, batchError(ids[i], err))
			continue
		}
		outs[i] = &o
	}
	sent, err := s.sendAll(ctx, q, outs)
	if err != nil {
		return nil, err
	}
	for i, o := range outs {
		if o == nil {
			continue
		}
		r := SendMessageBatchResultEntry{
			Id:                           awsproto.Ptr(ids[i]),
			MessageId:                    awsproto.Ptr(messageID(sent[i].ID)),
			MD5OfMessageBody:             awsproto.Ptr(o.bodyMD5),
			MD5OfMessageAttributes:       optional(o.attrsMD5),
			MD5OfMessageSystemAttributes: optional(o.sysMD5),
		}
		if q.S.Fifo {
			r.SequenceNumber = awsproto.Ptr(sequenceNumber(sent[i].ID))
		}
		out.Successful = append(out.Successful, r)
	}
	return out, nil
}

// optional is s, or nil when it is empty.
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
