package sqs

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/store"
)

// queueCacheLimit bounds the queue cache; past it the cache starts over.
const queueCacheLimit = 10000

// queueRow is a queue as stored, with what the message paths derive from it. A loaded row is
// shared through the cache and never changed.
type queueRow struct {
	ID       int64
	Key      queueKey
	ARN      string
	Engine   string // the engine queue that holds the messages
	Created  time.Time
	Modified time.Time
	PurgedAt time.Time
	Attrs    map[string]string // canonical settable attributes
	S        settings
}

// engineQueue names the engine queue of the queue with id.
func engineQueue(id int64) string { return "sqs/" + strconv.FormatInt(id, 10) }

const queueColumns = "id, account, region, name, created_at, modified_at, purged_at, attrs"

func scanQueue(sc interface{ Scan(...any) error }) (*queueRow, error) {
	var q queueRow
	var created, modified, purged int64
	var attrs string
	if err := sc.Scan(&q.ID, &q.Key.Account, &q.Key.Region, &q.Key.Name, &created, &modified, &purged, &attrs); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(attrs), &q.Attrs); err != nil {
		return nil, fmt.Errorf("queue %s: attributes: %w", q.Key.Name, err)
	}
	q.ARN = q.Key.arn()
	q.Engine = engineQueue(q.ID)
	q.Created, q.Modified, q.PurgedAt = time.Unix(0, created), time.Unix(0, modified), time.Unix(0, purged)
	q.S = parseSettings(q.Attrs)
	return &q, nil
}

const selectQueue = "SELECT " + queueColumns + " FROM sqs_queues WHERE account = ? AND region = ? AND name = ?"

// loadQueue returns the queue k names, or nil when there is none.
func (s *Service) loadQueue(ctx context.Context, k queueKey) (*queueRow, error) {
	q, gen, ok := s.queues.Get(k)
	if ok {
		return q, nil
	}
	q, err := scanQueue(s.st.QueryRow(ctx, selectQueue, k.Account, k.Region, k.Name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read queue %s: %w", k.Name, err)
	}
	s.queues.Put(k, q, gen)
	return q, nil
}

// loadQueueInTx reads the queue k names inside a write (from the cache when it holds the row,
// which is then the committed row), or nil when there is none.
func (s *Service) loadQueueInTx(tx *store.Tx, k queueKey) (*queueRow, error) {
	if q, _, ok := s.queues.Get(k); ok {
		return q, nil
	}
	q, err := scanQueue(tx.QueryRow(selectQueue, k.Account, k.Region, k.Name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read queue %s: %w", k.Name, err)
	}
	return q, nil
}

// callerScope is the account and region a request acts in.
func callerScope(ctx context.Context) (account, region string) { return awsproto.CallFrom(ctx).Scope() }

// queueFromURL resolves a request's QueueUrl to its queue in the caller's region. In enforce
// mode it may be another account's queue (the call's authorization let the caller in through
// the queue's policy); otherwise another account's queue is not visible (QueueDoesNotExist).
func (s *Service) queueFromURL(ctx context.Context, u *string) (*queueRow, error) {
	if u == nil || *u == "" {
		return nil, missingParameter("QueueUrl")
	}
	account, name, ok := parseQueueURL(*u)
	if !ok {
		return nil, invalidAddress(*u)
	}
	caller, region := callerScope(ctx)
	if account != caller && !s.enforcing() {
		return nil, queueDoesNotExist()
	}
	q, err := s.loadQueue(ctx, queueKey{Account: account, Region: region, Name: name})
	if err != nil {
		return nil, err
	}
	if q == nil {
		return nil, queueDoesNotExist()
	}
	return q, nil
}

// queueFromARN resolves a queue ARN in the caller's account and region; nil when there is no
// such queue.
func (s *Service) queueFromARN(ctx context.Context, queueARN string) (*queueRow, error) {
	k, ok := parseQueueARN(queueARN)
	caller, region := callerScope(ctx)
	if !ok || k.Account != caller || k.Region != region {
		return nil, nil
	}
	return s.loadQueue(ctx, k)
}
