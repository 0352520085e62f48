package sqs

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/store"
)

// deletedGrace is how long a deleted queue's name stays taken (QueueDeletedRecently), and
// how often a queue may be purged.
const deletedGrace = 60 * time.Second

// maxListResults bounds ListQueues and ListDeadLetterSourceQueues pages.
const maxListResults = 1000

func (s *Service) createQueue(ctx context.Context, in *CreateQueueRequest) (*CreateQueueResult, error) {
	name := awsproto.Value(in.QueueName)
	fifo := false
	if v, ok := in.Attributes[attrFifoQueue]; ok {
		c, _, _ := boolean(v)
		fifo = c == "true"
	}
	if !validQueueName(name, fifo) {
		if fifo {
			return nil, invalidParameter("The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in length.")
		}
		return nil, invalidParameter("Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length")
	}
	attrs, err := applyAttributes(defaultAttributes(fifo), in.Attributes, fifo, true)
	if err != nil {
		return nil, err
	}
	if err := checkTags(name, in.Tags, 0); err != nil {
		return nil, err
	}
	account, region := callerScope(ctx)
	k := queueKey{Account: account, Region: region, Name: name}
	err = s.st.Write(ctx, func(tx *store.Tx) error {
		existing, err := s.loadQueueInTx(tx, k)
		if err != nil {
			return err
		}
		if existing != nil {
			return sameAttributes(existing, attrs, in.Attributes)
		}
		now := s.now()
		var deletedAt int64
		err = tx.QueryRow("SELECT deleted_at FROM sqs_deleted WHERE account = ? AND region = ? AND name = ?", account, region, name).Scan(&deletedAt)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if err == nil && now.Sub(time.Unix(0, deletedAt)) < deletedGrace {
			return awsproto.Errorf("QueueDeletedRecently", 400, "You must wait 60 seconds after deleting a queue before you can create another queue with the same name.")
		}
		if err := s.checkDeadLetter(tx, k, fifo, attrs[attrRedrivePolicy]); err != nil {
			return err
		}
		raw, _ := json.Marshal(attrs)
		var id int64
		if err := tx.QueryRow(`INSERT INTO sqs_queues (account, region, name, created_at, modified_at, dead_letter, attrs)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, account, region, name, now.UnixNano(), now.UnixNano(),
			deadLetterOf(attrs), string(raw)).Scan(&id); err != nil {
			return fmt.Errorf("create queue %s: %w", name, err)
		}
		s.queues.Changed(tx, k)
		return putTags(tx, id, in.Tags)
	})
	if err != nil {
		return nil, err
	}
	return &CreateQueueResult{QueueUrl: awsproto.Ptr(queueURL(ctx, account, name))}, nil
}

// sameAttributes answers a CreateQueue of an existing queue: it succeeds only when every
// attribute it gives has the queue's value.
func sameAttributes(q *queueRow, want, given map[string]string) error {
	for _, name := range sortedKeys(given) {
		if want[name] != q.Attrs[name] {
			return awsproto.Errorf("QueueNameExists", 400, "A queue already exists with the same name and a different value for attribute %s", name)
		}
	}
	return nil
}

// deadLetterOf is the ARN of the dead-letter queue that attrs name, or "".
func deadLetterOf(attrs map[string]string) string {
	if rp, ok := parseRedrivePolicy(attrs[attrRedrivePolicy]); ok {
		return rp.DeadLetterTargetArn
	}
	return ""
}

// checkDeadLetter checks the dead-letter queue a RedrivePolicy names for the queue k: it must
// exist in the same account and region, be of the same type, and allow k in its
// RedriveAllowPolicy.
func (s *Service) checkDeadLetter(tx *store.Tx, k queueKey, fifo bool, policy string) error {
	rp, ok := parseRedrivePolicy(policy)
	if !ok {
		return nil
	}
	refuse := func(reason string) error { return invalidValue(attrRedrivePolicy, policy, reason) }
	dk, _ := parseQueueARN(rp.DeadLetterTargetArn)
	if dk.Account != k.Account || dk.Region != k.Region {
		return refuse("Dead letter target does not exist.")
	}
	dlq, err := s.loadQueueInTx(tx, dk)
	if err != nil {
		return err
	}
	switch {
	case dlq == nil:
		return refuse("Dead letter target does not exist.")
	case dlq.S.Fifo != fifo:
		return refuse("Dead-letter queue must be same type of queue as the source.")
	case !dlq.S.Allow.allows(k.arn()):
		return refuse("Queue " + dlq.ARN + " does not allow " + k.arn() + " to use it as a dead-letter queue.")
	}
	return nil
}

func (s *Service) deleteQueue(ctx context.Context, in *DeleteQueueRequest) (*struct{}, error) {
	q, err := s.queueFromURL(ctx, in.QueueUrl)
	if err != nil {
		return nil, err
	}
	err = s.st.Write(ctx, func(tx *store.Tx) error {
		cur, err := s.loadQueueInTx(tx, q.Key)
		if err != nil || cur == nil || cur.ID != q.ID {
			return err // deleted meanwhile: done
		}
		for _, stmt := range []string{"DELETE FROM sqs_queues WHERE id = ?", "DELETE FROM sqs_tags WHERE queue_id = ?"} {
			if _, err := tx.Exec(stmt, q.ID); err != nil {
				return fmt.Errorf("delete queue %s: %w", q.Key.Name, err)
			}
		}
		if err := s.eng.Drop(tx, q.Engine); err != nil {
			return err
		}
		s.polls.end(tx, q.Engine)
		now := s.now().UnixNano()
		if _, err := tx.Exec("DELETE FROM sqs_deleted WHERE deleted_at < ?", now-int64(deletedGrace)); err != nil {
			return err
		}
		if _, err := tx.Exec(`INSERT INTO sqs_deleted (account, region, name, deleted_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (account, region, name) DO UPDATE SET deleted_at = excluded.deleted_at`,
			q.Key.Account, q.Key.Region, q.Key.Name, now); err != nil {
			return fmt.Errorf("delete queue %s: %w", q.Key.Name, err)
		}
		s.queues.Changed(tx, q.Key)
		return nil
	})
	return nil, err
}

func (s *Service) getQueueURL(ctx context.Context, in *GetQueueUrlRequest) (*GetQueueUrlResult, error) {
	account, region := callerScope(ctx)
	if owner := awsproto.Value(in.QueueOwnerAWSAccountId); owner != "" && owner != account {
		// Another account's queue is reachable only through its policy, which only enforce
		// mode evaluates (the call's authorization did): otherwise it is not visible.
		if !s.enforcing() {
			return nil, queueDoesNotExist()
		}
		account = owner
	}
	name := awsproto.Value(in.QueueName)
	q, err := s.loadQueue(ctx, queueKey{Account: account, Region: region, Name: name})
	if err != nil {
		return nil, err
	}
	if q == nil {
		return nil, queueDoesNotExist()
	}
	return &GetQueueUrlResult{QueueUrl: awsproto.Ptr(queueURL(ctx, account, name))}, nil
}

// listPage reads a page of the names a query lists after the cursor, in name order; limit is
// MaxResults (nil: up to 1000, without a NextToken).
func (s *Service) listPage(ctx context.Context, maxResults *int32, token *string, query string, args ...any) (names []string, next *string, err error) {
	limit := maxListResults
	if maxResults != nil {
		if *maxResults < 1 || *maxResults > maxListResults {
			return nil, nil, invalidValue("MaxResults", strconv.Itoa(int(*maxResults)), "MaxResults must be an integer between 1 and 1000.")
		}
		limit = int(*maxResults)
	}
	after := ""
	if token != nil {
		b, err := base64.RawURLEncoding.DecodeString(*token)
		if err != nil || len(b) == 0 {
			return nil, nil, invalidParameter("Invalid NextToken value.")
		}
		after = string(b)
	}
	rows, err := s.st.Query(ctx, query+" AND name > ? ORDER BY name LIMIT ?", append(args, after, limit+1)...)
	names, err = store.Strings(rows, err)
	if err != nil {
		return nil, nil, fmt.Errorf("list queues: %w", err)
	}
	if len(names) > limit {
		names = names[:limit]
		if maxResults != nil {
			next = awsproto.Ptr(base64.RawURLEncoding.EncodeToString([]byte(names[limit-1])))
		}
	}
	return names, next, nil
}

func (s *Service) listQueues(ctx context.Context, in *ListQueuesRequest) (*ListQueuesResult, error) {
	account, region := callerScope(ctx)
	prefix := awsproto.Value(in.QueueNamePrefix)
	// Queue names are ASCII below 0x7f: [prefix, prefix+"\x7f") holds every name it begins.
	names, next, err := s.listPage(ctx, in.MaxResults, in.NextToken,
		"SELECT name FROM sqs_queues WHERE account = ? AND region = ? AND name >= ? AND name < ?",
		account, region, prefix, prefix+"\x7f")
	if err != nil {
		return nil, err
	}
	out := &ListQueuesResult{NextToken: next}
	for _, n := range names {
		out.QueueUrls = append(out.QueueUrls, queueURL(ctx, account, n))
	}
	return out, nil
}

func (s *Service) listDeadLetterSourceQueues(ctx context.Context, in *ListDeadLetterSourceQueuesRequest) (*ListDeadLetterSourceQueuesResult, error) {
	q, err := s.queueFromURL(ctx, in.QueueUrl)
	if err != nil {
		return nil, err
	}
	names, next, err := s.listPage(ctx, in.MaxResults, in.NextToken,
		"SELECT name FROM sqs_queues WHERE dead_letter = ? AND account = ? AND region = ?", q.ARN, q.Key.Account, q.Key.Region)
	if err != nil {
		return nil, err
	}
	out := &ListDeadLetterSourceQueuesResult{NextToken: next, QueueUrls: []string{}}
	for _, n := range names {
		out.QueueUrls = append(out.QueueUrls, queueURL(ctx, q.Key.Account, n))
	}
	return out, nil
}

func (s *Service) getQueueAttributes(ctx context.Context, in *GetQueueAttributesRequest) (*GetQueueAttributesResult, error) {
	q, err := s.queueFromURL(ctx, in.QueueUrl)
	if err != nil {
		return nil, err
	}
	names := in.AttributeNames
	for _, n := range names {
		if !knownAttribute(n) {
			return nil, unknownAttribute(n)
		}
	}
	if slices.Contains(names, attrAll) {
		names = names[:0:0]
		for n := range attrSpecs {
			names = append(names, n)
		}
		for n := range readOnlyAttributes {
			names = append(names, n)
		}
	}
	out := map[string]string{}
	var stats *queueStats
	for _, n := range names {
		if !shownAttribute(n, q.Attrs) {
			continue
		}
		switch n {
		case attrQueueArn:
			out[n] = q.ARN
		case attrCreatedTimestamp:
			out[n] = strconv.FormatInt(q.Created.Unix(), 10)
		case attrLastModifiedTimestamp:
			out[n] = strconv.FormatInt(q.Modified.Unix(), 10)
		case attrApproximateNumberOfMessages, attrApproximateNotVisible, attrApproximateDelayed:
			if stats == nil {
				st, err := s.eng.Stats(ctx, q.Engine)
				if err != nil {
					return nil, err
				}
				stats = &queueStats{visible: st.Visible, inFlight: st.InFlight, delayed: st.Delayed}
			}
			out[n] = strconv.FormatInt(stats.count(n), 10)
		default:
			out[n] = q.Attrs[n]
		}
	}
	if len(out) == 0 {
		out = nil
	}
	return &GetQueueAttributesResult{Attributes: out}, nil
}

// queueStats are the engine's counts of a queue's messages.
type queueStats struct{ visible, inFlight, delayed int64 }

func (st *queueStats) count(attr string) int64 {
	switch attr {
	case attrApproximateNotVisible:
		return st.inFlight
	case attrApproximateDelayed:
		return st.delayed
	}
	return st.visible
}

func (s *Service) setQueueAttributes(ctx context.Context, in *SetQueueAttributesRequest) (*struct{}, error) {
	q, err := s.queueFromURL(ctx, in.QueueUrl)
	if err != nil {
		return nil, err
	}
	return nil, s.updateQueue(ctx, q.Key, func(tx *store.Tx, cur *queueRow) (map[string]string, error) {
		attrs, err := applyAttributes(cur.Attrs, in.Attributes, cur.S.Fifo, false)
		if err != nil {
			return nil, err
		}
		if attrs[attrRedrivePolicy] != cur.Attrs[attrRedrivePolicy] {
			if err := s.checkDeadLetter(tx, cur.Key, cur.S.Fifo, attrs[attrRedrivePolicy]); err != nil {
				return nil, err
			}
		}
		return attrs, nil
	})
}

// updateQueue rewrites the attributes of the queue k names with what change returns, in one
// write, bringing its messages' expiry in line when the retention changed.
func (s *Service) updateQueue(ctx context.Context, k queueKey, change func(tx *store.Tx, cur *queueRow) (map[string]string, error)) error {
	return s.st.Write(ctx, func(tx *store.Tx) error {
		cur, err := s.loadQueueInTx(tx, k)
		if err != nil {
			return err
		}
		if cur == nil {
			return queueDoesNotExist()
		}
		attrs, err := change(tx, cur)
		if err != nil {
			return err
		}
		raw, _ := json.Marshal(attrs)
		if _, err := tx.Exec("UPDATE sqs_queues SET attrs = ?, dead_letter = ?, modified_at = ? WHERE id = ?",
			string(raw), deadLetterOf(attrs), s.now().UnixNano(), cur.ID); err != nil {
			return fmt.Errorf("update queue %s: %w", k.Name, err)
		}
		s.queues.Changed(tx, k)
		if attrs[attrMessageRetentionPeriod] != cur.Attrs[attrMessageRetentionPeriod] {
			return s.eng.SetRetention(tx, cur.Engine, parseSettings(attrs).Retention)
		}
		return nil
	})
}

func (s *Service) purgeQueue(ctx context.Context, in *PurgeQueueRequest) (*struct{}, error) {
	q, err := s.queueFromURL(ctx, in.QueueUrl)
	if err != nil {
		return nil, err
	}
	err = s.st.Write(ctx, func(tx *store.Tx) error {
		cur, err := s.loadQueueInTx(tx, q.Key)
		if err != nil {
			return err
		}
		if cur == nil {
			return queueDoesNotExist()
		}
		now := s.now()
		if cur.PurgedAt.UnixNano() > 0 && now.Sub(cur.PurgedAt) < deletedGrace {
			return awsproto.Errorf("PurgeQueueInProgress", 403, "Only one PurgeQueue operation on %s is allowed every 60 seconds.", cur.Key.Name)
		}
		if _, err := s.eng.Purge(tx, cur.Engine); err != nil {
			return err
		}
		if _, err := tx.Exec("UPDATE sqs_queues SET purged_at = ? WHERE id = ?", now.UnixNano(), cur.ID); err != nil {
			return fmt.Errorf("purge queue %s: %w", cur.Key.Name, err)
		}
		s.queues.Changed(tx, q.Key)
		return nil
	})
	return nil, err
}
