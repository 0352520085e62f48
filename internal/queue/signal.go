package queue

import (
	"context"
	"sync"
	"time"

	"github.com/kiri-run/kiri/internal/store"
)

// signals wakes the waiters of a queue. A waiter takes the queue's channel, looks for work, and
// waits on the channel only if it found none; a wake-up closes the channel, so a wake-up that
// lands between the look and the wait is not lost. Only queues with a waiter have a channel.
type signals struct {
	mu sync.Mutex
	m  map[string]chan struct{}
}

// channel returns the channel the next wake-up of queue closes.
func (s *signals) channel(queue string) <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]chan struct{}{}
	}
	ch, ok := s.m[queue]
	if !ok {
		ch = make(chan struct{})
		s.m[queue] = ch
	}
	return ch
}

// wake wakes every waiter of queue.
func (s *signals) wake(queue string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ch, ok := s.m[queue]; ok {
		close(ch)
		delete(s.m, queue)
	}
}

// all wakes every waiter of every queue.
func (s *signals) all() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for q, ch := range s.m {
		close(ch)
		delete(s.m, q)
	}
}

// Wake wakes the waiters of queue, as a send to it would. Tests that move the clock use it.
func (e *Engine) Wake(queue string) { e.signals.wake(queue) }

// expiry drops expired messages, deduplication ids and receive attempts. It sleeps until the
// earliest expiry it knows of; a commit that sets an earlier one pokes it. Later ones do not: a
// steady stream of sends, each expiring days ahead, costs no sweeps.
type expiry struct {
	mu sync.Mutex
	// next is when the sweeper wakes, or during a sweep the earliest expiry noted since it
	// began; 0 for none.
	next     int64
	sweeping bool
	poke     chan struct{}
}

func (x *expiry) init() { x.poke = make(chan struct{}, 1) }

// note records, once tx commits, that something expires at at.
func (x *expiry) note(tx *store.Tx, at int64) {
	tx.AfterCommit(func() {
		x.mu.Lock()
		earlier := x.next == 0 || at < x.next
		if earlier {
			x.next = at
		}
		poke := earlier && !x.sweeping
		x.mu.Unlock()
		if poke {
			select {
			case x.poke <- struct{}{}:
			default:
			}
		}
	})
}

// begin marks a sweep under way: what is noted meanwhile is kept for end, and wakes nothing.
func (x *expiry) begin() {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.sweeping, x.next = true, 0
}

// end closes a sweep that found next as the earliest expiry left (zero: none) and returns when
// the sweeper wakes: then, or at an earlier expiry noted during the sweep.
func (x *expiry) end(next time.Time) time.Time {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.next != 0 && (next.IsZero() || x.next < next.UnixNano()) {
		next = time.Unix(0, x.next)
	}
	x.sweeping, x.next = false, 0
	if !next.IsZero() {
		x.next = next.UnixNano()
	}
	return next
}

// sweepBatch bounds the rows one sweep transaction deletes.
const sweepBatch = 1000

// runExpiry sweeps expired rows until ctx ends.
func (e *Engine) runExpiry(ctx context.Context) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		e.expiry.begin()
		next, err := e.sweepExpired(ctx)
		if err != nil && ctx.Err() == nil {
			e.log.Error("drop expired messages", "err", err)
			next = e.now().Add(time.Minute)
		}
		next = e.expiry.end(next)
		var wait <-chan time.Time
		if !next.IsZero() {
			timer.Reset(max(next.Sub(e.now()), time.Millisecond))
			wait = timer.C
		}
		select {
		case <-ctx.Done():
			return
		case <-e.expiry.poke:
		case <-wait:
		}
		timer.Stop()
	}
}

// sweepExpired deletes what has expired and returns when the next row expires (zero: none).
func (e *Engine) sweepExpired(ctx context.Context) (time.Time, error) {
	for {
		now := e.now().UnixNano()
		var n int64
		err := e.st.Write(ctx, func(tx *store.Tx) error {
			n = 0
			for _, q := range []string{
				`DELETE FROM kiri_queue_messages WHERE id IN (
					SELECT id FROM kiri_queue_messages WHERE expires_at > 0 AND expires_at <= ? LIMIT ?)`,
				`DELETE FROM kiri_queue_dedup WHERE (queue, dedup) IN (
					SELECT queue, dedup FROM kiri_queue_dedup WHERE expires_at <= ? LIMIT ?)`,
				`DELETE FROM kiri_queue_attempts WHERE (queue, attempt) IN (
					SELECT queue, attempt FROM kiri_queue_attempts WHERE expires_at <= ? LIMIT ?)`,
			} {
				res, err := tx.Exec(q, now, sweepBatch)
				if err != nil {
					return err
				}
				k, err := res.RowsAffected()
				if err != nil {
					return err
				}
				n = max(n, k)
			}
			return nil
		})
		if err != nil {
			return time.Time{}, err
		}
		if n < sweepBatch {
			break
		}
	}
	var next int64
	for _, q := range []string{
		"SELECT MIN(expires_at) FROM kiri_queue_messages WHERE expires_at > 0",
		"SELECT MIN(expires_at) FROM kiri_queue_dedup",
		"SELECT MIN(expires_at) FROM kiri_queue_attempts",
	} {
		var at *int64
		if err := e.st.QueryRow(ctx, q).Scan(&at); err != nil {
			return time.Time{}, err
		}
		if at != nil && (next == 0 || *at < next) {
			next = *at
		}
	}
	return unixTime(next), nil
}
