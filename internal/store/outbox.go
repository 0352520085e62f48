package store

import (
	"context"
	"fmt"
	"sort"
	"time"
)

// outboxTopic is the notification topic (Subscribe) that announces committed outbox records.
const outboxTopic = "kiri_outbox"

// OutboxRecord is one unit of durable asynchronous work, written in the same transaction as the
// change that causes it.
type OutboxRecord struct {
	// ID is assigned by the store on enqueue (ignored as input); IDs grow in commit order.
	ID int64
	// Topic routes the record to a relay handler, e.g. "s3.notification", "lambda.async".
	Topic string
	// Key orders records: those with the same non-empty (Topic, Key) are delivered one at a time
	// in enqueue order. "" means no ordering constraint.
	Key string
	// Payload is the handler's input.
	Payload []byte
	// NotBefore delays delivery; zero means deliverable at once.
	NotBefore time.Time
	// Attempts is set when the relay claims the record: 1 on the first delivery, 2 on the first
	// retry, and so on.
	Attempts int
	// TraceParent is the W3C traceparent of the request that caused the record (may be "").
	TraceParent string
}

// DeadRecord is an outbox record that was given up on and kept for inspection.
type DeadRecord struct {
	OutboxRecord
	// LastError is the failure that ended delivery.
	LastError string
	// DiedAt is when the record was moved to the dead-letter table.
	DiedAt time.Time
}

// Enqueue adds an outbox record that becomes visible to the relay only if this write commits.
// Records with the same non-empty (topic, key) are delivered in enqueue order; an empty key means
// no ordering constraint.
func (t *Tx) Enqueue(rec OutboxRecord) error {
	if rec.Topic == "" {
		return fmt.Errorf("enqueue outbox record: empty topic")
	}
	payload := rec.Payload
	if payload == nil {
		payload = []byte{}
	}
	var notBefore int64
	if !rec.NotBefore.IsZero() {
		notBefore = rec.NotBefore.UnixNano()
	}
	_, err := t.Exec(`INSERT INTO kiri_outbox (topic, msg_key, payload, not_before, traceparent, created_at)
		VALUES (?, ?, ?, ?, ?, ?)`, rec.Topic, rec.Key, payload, notBefore, rec.TraceParent, time.Now().UnixNano())
	if err != nil {
		return fmt.Errorf("enqueue outbox record (topic %q): %w", rec.Topic, err)
	}
	t.Notify(outboxTopic, "")
	return nil
}

// WatchOutbox returns a channel that receives a value whenever outbox records may have become
// deliverable: after a local commit that enqueued records and, on PostgreSQL, when another node
// announces one. Signals coalesce. Call stop to unsubscribe.
func (s *Store) WatchOutbox() (signals <-chan struct{}, stop func()) {
	ch := make(chan struct{}, 1)
	stop = s.Subscribe(outboxTopic, func(string) {
		select {
		case ch <- struct{}{}:
		default:
		}
	})
	return ch, stop
}

// ClaimOutbox leases up to limit deliverable records of topic to owner until now+lease, in ID
// order, and increments their attempt counts. A record is deliverable when it is due, not leased
// (or its lease expired), and no earlier record with the same non-empty (topic, key) remains.
// The claim is a conditional UPDATE, so two relays never hold the same record at once.
func (s *Store) ClaimOutbox(ctx context.Context, topic string, limit int, owner string, lease time.Duration) ([]OutboxRecord, error) {
	if limit <= 0 {
		return nil, nil
	}
	lock := ""
	if s.dialect == dialectPostgres {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	query := `UPDATE kiri_outbox SET claimed_until = ?, claim_owner = ?, attempts = attempts + 1
	WHERE id IN (
		SELECT o.id FROM kiri_outbox o
		WHERE o.topic = ? AND o.not_before <= ? AND o.claimed_until <= ?
		  AND (o.msg_key = '' OR NOT EXISTS (
			SELECT 1 FROM kiri_outbox p WHERE p.topic = o.topic AND p.msg_key = o.msg_key AND p.id < o.id))
		ORDER BY o.id LIMIT ?` + lock + `)
	  AND claimed_until <= ?
	RETURNING id, topic, msg_key, payload, not_before, attempts, traceparent`
	var out []OutboxRecord
	err := s.Write(ctx, func(tx *Tx) error {
		out = out[:0]
		now := time.Now()
		rows, err := tx.Query(query, now.Add(lease).UnixNano(), owner, topic, now.UnixNano(), now.UnixNano(), limit, now.UnixNano())
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var r OutboxRecord
			var notBefore int64
			if err := rows.Scan(&r.ID, &r.Topic, &r.Key, &r.Payload, &notBefore, &r.Attempts, &r.TraceParent); err != nil {
				return err
			}
			if notBefore != 0 {
				r.NotBefore = time.Unix(0, notBefore)
			}
			out = append(out, r)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("claim outbox records (topic %q): %w", topic, err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// ReleaseOutboxLeases ends every lease owner holds, making its records deliverable at once. A
// node calls it on start: leases it holds then are left over from a run that crashed.
func (s *Store) ReleaseOutboxLeases(ctx context.Context, owner string) (int64, error) {
	var n int64
	err := s.Write(ctx, func(tx *Tx) error {
		res, err := tx.Exec("UPDATE kiri_outbox SET claimed_until = 0, claim_owner = '' WHERE claim_owner = ? AND claimed_until > 0", owner)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("release outbox leases of %s: %w", owner, err)
	}
	return n, nil
}

// AckOutbox deletes a delivered record. Acks ride group commit like any other write.
func (s *Store) AckOutbox(ctx context.Context, id int64) error {
	err := s.Write(ctx, func(tx *Tx) error {
		_, err := tx.Exec("DELETE FROM kiri_outbox WHERE id = ?", id)
		return err
	})
	if err != nil {
		return fmt.Errorf("ack outbox record %d: %w", id, err)
	}
	return nil
}

// RetryOutbox releases owner's lease on a record and makes it due again at at, noting cause.
// It does nothing when owner no longer holds the record.
func (s *Store) RetryOutbox(ctx context.Context, id int64, owner string, at time.Time, cause string) error {
	err := s.Write(ctx, func(tx *Tx) error {
		_, err := tx.Exec(`UPDATE kiri_outbox SET not_before = ?, claimed_until = 0, claim_owner = '', last_error = ?
			WHERE id = ? AND claim_owner = ?`, at.UnixNano(), cause, id, owner)
		return err
	})
	if err != nil {
		return fmt.Errorf("schedule retry of outbox record %d: %w", id, err)
	}
	return nil
}

// BuryOutbox moves a record owner holds to the dead-letter table with cause as its last error.
// It does nothing when owner no longer holds the record.
func (s *Store) BuryOutbox(ctx context.Context, id int64, owner string, cause string) error {
	err := s.Write(ctx, func(tx *Tx) error {
		res, err := tx.Exec(`INSERT INTO kiri_outbox_dead
			(id, topic, msg_key, payload, attempts, last_error, traceparent, created_at, died_at)
			SELECT id, topic, msg_key, payload, attempts, ?, traceparent, created_at, ?
			FROM kiri_outbox WHERE id = ? AND claim_owner = ?`, cause, time.Now().UnixNano(), id, owner)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		_, err = tx.Exec("DELETE FROM kiri_outbox WHERE id = ?", id)
		return err
	})
	if err != nil {
		return fmt.Errorf("move outbox record %d to dead letters: %w", id, err)
	}
	return nil
}

// RenewOutbox extends every lease owner holds to until, so long deliveries keep their records.
func (s *Store) RenewOutbox(ctx context.Context, owner string, until time.Time) error {
	err := s.Write(ctx, func(tx *Tx) error {
		_, err := tx.Exec("UPDATE kiri_outbox SET claimed_until = ? WHERE claim_owner = ?", until.UnixNano(), owner)
		return err
	})
	if err != nil {
		return fmt.Errorf("renew outbox leases: %w", err)
	}
	return nil
}

// OutboxTopics lists the topics that have records waiting.
func (s *Store) OutboxTopics(ctx context.Context) ([]string, error) {
	rows, err := s.Query(ctx, "SELECT DISTINCT topic FROM kiri_outbox")
	if err != nil {
		return nil, fmt.Errorf("list outbox topics: %w", err)
	}
	defer rows.Close()
	var topics []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, fmt.Errorf("list outbox topics: %w", err)
		}
		topics = append(topics, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list outbox topics: %w", err)
	}
	return topics, nil
}

// DeadLetters lists up to limit dead records of topic, oldest first.
func (s *Store) DeadLetters(ctx context.Context, topic string, limit int) ([]DeadRecord, error) {
	rows, err := s.Query(ctx, `SELECT id, topic, msg_key, payload, attempts, last_error, traceparent, died_at
		FROM kiri_outbox_dead WHERE topic = ? ORDER BY id LIMIT ?`, topic, limit)
	if err != nil {
		return nil, fmt.Errorf("list dead letters (topic %q): %w", topic, err)
	}
	defer rows.Close()
	var out []DeadRecord
	for rows.Next() {
		var d DeadRecord
		var died int64
		if err := rows.Scan(&d.ID, &d.Topic, &d.Key, &d.Payload, &d.Attempts, &d.LastError, &d.TraceParent, &died); err != nil {
			return nil, fmt.Errorf("list dead letters (topic %q): %w", topic, err)
		}
		d.DiedAt = time.Unix(0, died)
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list dead letters (topic %q): %w", topic, err)
	}
	return out, nil
}
