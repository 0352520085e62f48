package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// notifyChannel is the one PostgreSQL LISTEN/NOTIFY channel Kiri uses; a notification's payload
// is "<topic>|<payload>" (a topic never contains "|"), so any number of topics share one LISTEN connection.
const notifyChannel = "kiri_notify"

// note is one notification a write asked for.
type note struct{ topic, payload string }

// Notify announces payload on topic once the transaction that holds this Write commits: to
// this process's subscribers (Subscribe) and, on PostgreSQL, to every other node's through
// NOTIFY, which the database delivers only on commit. Nothing is announced when the Write fails
// or its batch rolls back. Identical notes of one batch are announced once.
func (t *Tx) Notify(topic, payload string) {
	n := note{topic, payload}
	if k := len(t.notes); k > 0 && t.notes[k-1] == n {
		return // a batch of sends to one queue announces it once
	}
	t.notes = append(t.notes, n)
}

// Subscribe calls fn with the payload of every notification on topic, from this process's
// commits and, on PostgreSQL, from other nodes'. fn runs on the writer or the listener
// goroutine, so it must be quick and must not block (signal a channel, for example). Call stop
// to unsubscribe. After a PostgreSQL listener reconnects, fn is called with the empty payload:
// notifications may have been missed, so subscribers should look again at everything.
func (s *Store) Subscribe(topic string, fn func(payload string)) (stop func()) {
	return s.subs.add(topic, fn)
}

// subscribers fans notifications out by topic.
type subscribers struct {
	mu   sync.RWMutex
	next int
	m    map[string]map[int]func(string)
}

func (ss *subscribers) add(topic string, fn func(string)) func() {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.m == nil {
		ss.m = map[string]map[int]func(string){}
	}
	if ss.m[topic] == nil {
		ss.m[topic] = map[int]func(string){}
	}
	id := ss.next
	ss.next++
	ss.m[topic][id] = fn
	return func() {
		ss.mu.Lock()
		defer ss.mu.Unlock()
		delete(ss.m[topic], id)
	}
}

// publish calls every subscriber of topic with payload.
func (ss *subscribers) publish(topic, payload string) {
	ss.mu.RLock()
	defer ss.mu.RUnlock()
	for _, fn := range ss.m[topic] {
		fn(payload)
	}
}

// publishAll calls every subscriber of every topic with the empty payload.
func (ss *subscribers) publishAll() {
	ss.mu.RLock()
	defer ss.mu.RUnlock()
	for _, fns := range ss.m {
		for _, fn := range fns {
			fn("")
		}
	}
}

// dedupNotes drops repeated notes, keeping the first of each.
func dedupNotes(notes []note) []note {
	if len(notes) < 2 {
		return notes
	}
	if len(notes) <= 16 {
		out := notes[:1]
		for _, n := range notes[1:] {
			if !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
		return out
	}
	seen := make(map[note]bool, len(notes))
	out := notes[:0]
	for _, n := range notes {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}

// notifyPostgres queues the batch's notes in its transaction; PostgreSQL delivers them on commit.
func notifyPostgres(ctx context.Context, tx *sql.Tx, notes []note) error {
	for _, n := range notes {
		if _, err := tx.ExecContext(ctx, "SELECT pg_notify($1, $2)", notifyChannel, n.topic+"|"+n.payload); err != nil {
			return fmt.Errorf("notify %s: %w", n.topic, err)
		}
	}
	return nil
}

// listen relays PostgreSQL notifications (this node's and others') to local subscribers until
// ctx ends, reconnecting after failures.
func (s *Store) listen(ctx context.Context, dsn string) {
	defer s.bg.Done()
	for ctx.Err() == nil {
		err := s.listenOnce(ctx, dsn)
		if ctx.Err() != nil {
			return
		}
		s.log.Warn("notification listener lost its connection; reconnecting", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

// listenOnce holds one LISTEN connection until it fails or ctx ends.
func (s *Store) listenOnce(ctx context.Context, dsn string) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = conn.Close(closeCtx)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+notifyChannel); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	// Notifications may have been sent while no connection listened.
	s.subs.publishAll()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return fmt.Errorf("wait for notification: %w", err)
		}
		topic, payload, _ := strings.Cut(n.Payload, "|")
		s.subs.publish(topic, payload)
	}
}
