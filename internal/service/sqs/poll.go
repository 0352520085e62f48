package sqs

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/kiri-run/kiri/internal/iam/policy"
	"github.com/kiri-run/kiri/internal/store"
)

// Pollers. Lambda's event source mappings read queues through the methods below, as Lambda's
// pollers call ReceiveMessage, DeleteMessageBatch and ChangeMessageVisibilityBatch: messages
// come out of the same receive path as the API's, with its MD5 digests, attributes, receipt
// handles, group order and redrive. A poll waits on the engine, which wakes it when a message
// arrives, for as long as the poller asks; deleting the queue ends the waits on it.

// PollQueue describes the queue queueARN names for a poller: whether it is a FIFO queue and its
// visibility timeout. ok is false when there is no such queue.
func (s *Service) PollQueue(ctx context.Context, queueARN string) (fifo bool, visibility time.Duration, ok bool, err error) {
	q, err := s.pollQueue(ctx, queueARN)
	if err != nil || q == nil {
		return false, 0, false, err
	}
	return q.S.Fifo, q.S.Visibility, true, nil
}

// QueuePolicy is the compiled policy of the queue queueARN names, for a service that decides
// what a role may do with it; nil when it has none, or there is no such queue.
func (s *Service) QueuePolicy(ctx context.Context, queueARN string) (*policy.Policy, error) {
	q, err := s.pollQueue(ctx, queueARN)
	if err != nil || q == nil {
		return nil, err
	}
	return s.queuePolicy(q), nil
}

// PollMessages receives up to max messages of the queue queueARN names, leased for
// visibility, waiting up to wait for the first. Each message is the JSON of the Message
// ReceiveMessage answers in the JSON protocol, with every system and message attribute. ok is
// false when the queue does not exist, or was deleted during the wait.
func (s *Service) PollMessages(ctx context.Context, queueARN string, max int, wait, visibility time.Duration) (msgs []json.RawMessage, ok bool, err error) {
	q, err := s.pollQueue(ctx, queueARN)
	if err != nil || q == nil {
		return nil, false, err
	}
	o, err := s.receiveOptions(ctx, q)
	if err != nil {
		return nil, true, err
	}
	o.Max, o.Wait, o.Visibility = max, wait, visibility
	wctx, done := s.polls.wait(ctx, q.Engine)
	got, err := s.eng.Receive(wctx, q.Engine, o)
	gone := done()
	if err != nil {
		return nil, true, err
	}
	all := map[string]bool{sysAll: true}
	for _, r := range got {
		m, err := s.message(q, r, all, attributeFilter{all: true})
		if err != nil {
			return nil, true, err
		}
		b, err := json.Marshal(m)
		if err != nil {
			return nil, true, fmt.Errorf("encode message: %w", err)
		}
		msgs = append(msgs, b)
	}
	return msgs, !gone || len(msgs) > 0, nil
}

// DeleteMessages deletes messages by their receipt handles, as DeleteMessageBatch does
// (entries that fail are left as they are). ok is false when the queue does not exist.
func (s *Service) DeleteMessages(ctx context.Context, queueARN string, receiptHandles []string) (ok bool, err error) {
	q, err := s.pollQueue(ctx, queueARN)
	if err != nil || q == nil {
		return false, err
	}
	return true, s.deleteAll(ctx, q, leaseOps(q, receiptHandles))
}

// ChangeMessagesVisibility makes received messages visible again after d (0: at once), as
// ChangeMessageVisibilityBatch does. ok is false when the queue does not exist.
func (s *Service) ChangeMessagesVisibility(ctx context.Context, queueARN string, receiptHandles []string, d time.Duration) (ok bool, err error) {
	q, err := s.pollQueue(ctx, queueARN)
	if err != nil || q == nil {
		return false, err
	}
	ds := make([]time.Duration, len(receiptHandles))
	for i := range ds {
		ds[i] = d
	}
	return true, s.changeAll(ctx, q, leaseOps(q, receiptHandles), ds)
}

// pollQueue loads the queue an ARN names, or nil.
func (s *Service) pollQueue(ctx context.Context, queueARN string) (*queueRow, error) {
	k, ok := parseQueueARN(queueARN)
	if !ok {
		return nil, nil
	}
	return s.loadQueue(ctx, k)
}

// polls tracks the polls waiting on each engine queue, so that deleting the queue ends them.
type polls struct {
	mu   sync.Mutex
	next int
	m    map[string]map[int]context.CancelFunc
}

// wait returns a context for a poll of engineQueue that deleting the queue cancels, and done,
// which ends the poll and reports whether the queue was deleted during it.
func (p *polls) wait(ctx context.Context, engineQueue string) (context.Context, func() (gone bool)) {
	wctx, cancel := context.WithCancel(ctx)
	p.mu.Lock()
	if p.m == nil {
		p.m = map[string]map[int]context.CancelFunc{}
	}
	if p.m[engineQueue] == nil {
		p.m[engineQueue] = map[int]context.CancelFunc{}
	}
	id := p.next
	p.next++
	p.m[engineQueue][id] = cancel
	p.mu.Unlock()
	return wctx, func() bool {
		p.mu.Lock()
		delete(p.m[engineQueue], id)
		if len(p.m[engineQueue]) == 0 {
			delete(p.m, engineQueue)
		}
		p.mu.Unlock()
		gone := wctx.Err() != nil && ctx.Err() == nil
		cancel()
		return gone
	}
}

// end cancels the polls of engineQueue once tx commits.
func (p *polls) end(tx *store.Tx, engineQueue string) {
	tx.AfterCommit(func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		for _, cancel := range p.m[engineQueue] {
			cancel()
		}
	})
}
