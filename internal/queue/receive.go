package queue

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/kiri-run/kiri/internal/store"
)

// ReceiveOptions says how to receive.
type ReceiveOptions struct {
	// Max is the most messages to return; default 1.
	Max int
	// Visibility is how long received messages stay invisible (their lease). It may be zero: the
	// messages then stay due, as an SQS receive with VisibilityTimeout 0 leaves them.
	Visibility time.Duration
	// Wait is how long to wait for a message when none is due (long polling); zero returns at once.
	Wait time.Duration
	// Ordered keeps each group's order: a group's messages come in send order, none while one
	// of the group is in flight (even a later one, made due again by a visibility change) or an
	// earlier one is delayed. Messages without a group are unaffected.
	Ordered bool
	// OnePerGroup, stricter than Ordered, takes only the first message of each group, so a group
	// has at most one message in flight: what a consumer that delivers concurrently needs.
	OnePerGroup bool
	// MaxReceives, when positive, moves a message already received that many times to DeadLetter
	// instead of receiving it again.
	MaxReceives int
	// DeadLetter is the queue MaxReceives moves messages to.
	DeadLetter string
	// DeadLetterRetention, when positive, makes a moved message expire that long after it was
	// first sent (SQS keeps a message's original enqueue time in its dead-letter queue).
	DeadLetterRetention time.Duration
	// AttemptID, when set, names this receive so that a retry of it can return what it
	// returned: a receive with the AttemptID of an earlier one, within AttemptWindow of it,
	// while every message that one leased is still leased by it, returns those messages again
	// with the same receipts and a fresh lease, instead of leasing others (SQS FIFO's
	// ReceiveRequestAttemptId). A receive that leased nothing is not remembered.
	AttemptID     string
	AttemptWindow time.Duration
	// Owner prefixes the receipt token, so an owner's leases can be found again after a crash
	// (see ReleaseLeases); "" for none. It may not contain '.', '%' or '_'.
	Owner string
}

// Received is a received message and the receipt of its lease.
type Received struct {
	Message
	Receipt Receipt
}

// Receive leases up to o.Max due messages of queue, waiting up to o.Wait for one to become due.
// It returns no messages and no error when the wait ends empty or ctx ends.
func (e *Engine) Receive(ctx context.Context, queue string, o ReceiveOptions) ([]Received, error) {
	if o.Max <= 0 {
		o.Max = 1
	}
	if o.Wait <= 0 {
		return e.receiveOnce(ctx, queue, o)
	}
	deadline := time.NewTimer(o.Wait)
	defer deadline.Stop()
	first := true
	for {
		// Take the wake-up channel before looking, so a send that lands after the look still
		// wakes this wait.
		wake := e.signals.channel(queue)
		looked := e.now()
		if first || e.anyDue(ctx, queue) {
			got, err := e.receiveOnce(ctx, queue, o)
			if err != nil || len(got) > 0 {
				return got, err
			}
		}
		first = false
		next := e.nextDue(ctx, queue, looked)
		var timer <-chan time.Time
		if !next.IsZero() {
			t := time.NewTimer(max(next.Sub(e.now()), time.Millisecond))
			defer t.Stop()
			timer = t.C
		}
		select {
		case <-ctx.Done():
			return nil, nil
		case <-e.waitsEnded:
			return nil, nil
		case <-deadline.C:
			return nil, nil
		case <-wake:
		case <-timer:
		}
	}
}

// anyDue reads, without the writer, whether queue has a due message.
func (e *Engine) anyDue(ctx context.Context, queue string) bool {
	var one int
	err := e.st.QueryRow(ctx, "SELECT 1 FROM kiri_queue_messages WHERE queue = ? AND visible_at <= ? LIMIT 1",
		queue, e.now().UnixNano()).Scan(&one)
	return err == nil
}

// nextDue is when the first message of queue that was not due at looked becomes due, or zero.
// A message that became due since looked gives a time in the past: the caller looks again at
// once rather than miss it.
func (e *Engine) nextDue(ctx context.Context, queue string, looked time.Time) time.Time {
	var at *int64
	err := e.st.QueryRow(ctx, "SELECT MIN(visible_at) FROM kiri_queue_messages WHERE queue = ? AND visible_at > ?",
		queue, looked.UnixNano()).Scan(&at)
	if err != nil || at == nil {
		return time.Time{}
	}
	return time.Unix(0, *at)
}

// receiveOnce leases what is due now.
func (e *Engine) receiveOnce(ctx context.Context, queue string, o ReceiveOptions) ([]Received, error) {
	var out []Received
	err := e.st.Write(ctx, func(tx *store.Tx) error {
		out = out[:0]
		var err error
		out, err = e.lease(tx, queue, o)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("receive from %s: %w", queue, err)
	}
	return out, nil
}

// lease takes up to o.Max due messages of queue in tx: it reads them whole and leases them with
// one statement.
func (e *Engine) lease(tx *store.Tx, queue string, o ReceiveOptions) ([]Received, error) {
	now := e.now().UnixNano()
	if o.AttemptID != "" {
		if again, err := e.repeatAttempt(tx, queue, o, now); err != nil || again != nil {
			return again, err
		}
	}
	cands, err := e.candidates(tx, queue, o, now)
	if err != nil {
		return nil, err
	}
	token := randomHex(8)
	if o.Owner != "" {
		token = o.Owner + "-" + token
	}
	until := now + int64(o.Visibility)
	out := make([]Received, 0, len(cands))
	ids := make([]any, 0, len(cands)+3)
	ids = append(ids, until, token, now)
	for _, m := range cands {
		if o.MaxReceives > 0 && m.Receives >= o.MaxReceives && o.DeadLetter != "" {
			if err := e.moveToDeadLetter(tx, m, o, now); err != nil {
				return nil, err
			}
			continue
		}
		m.Receives++
		if m.FirstReceiveAt.IsZero() {
			m.FirstReceiveAt = unixTime(now)
		}
		out = append(out, Received{Message: m, Receipt: Receipt{ID: m.ID, Token: token}})
		ids = append(ids, m.ID)
	}
	if len(out) > 0 {
		if _, err := tx.Exec(`UPDATE kiri_queue_messages
			SET visible_at = ?, receipt = ?, receives = receives + 1,
			    first_receive_at = CASE WHEN first_receive_at = 0 THEN ? ELSE first_receive_at END
			WHERE id IN (`+placeholders(len(out))+`)`, ids...); err != nil {
			return nil, err
		}
	}
	if o.Visibility == 0 && len(out) > 0 {
		tx.Notify(notifyTopic, queue)
	}
	if o.AttemptID != "" && len(out) > 0 && o.AttemptWindow > 0 {
		until := now + int64(o.AttemptWindow)
		if _, err := tx.Exec(`INSERT INTO kiri_queue_attempts (queue, attempt, token, messages, expires_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (queue, attempt) DO UPDATE SET token = excluded.token, messages = excluded.messages, expires_at = excluded.expires_at`,
			queue, o.AttemptID, token, len(out), until); err != nil {
			return nil, fmt.Errorf("record receive attempt: %w", err)
		}
		e.expiry.note(tx, until)
	}
	return out, nil
}

// placeholders is n comma-separated "?".
func placeholders(n int) string {
	return strings.Repeat("?, ", n-1) + "?"
}

// repeatAttempt returns again, with a fresh lease, what the receive named o.AttemptID leased,
// when it is remembered and every message of it is still leased by it; nil otherwise.
func (e *Engine) repeatAttempt(tx *store.Tx, queue string, o ReceiveOptions, now int64) ([]Received, error) {
	var token string
	var n int
	var until int64
	err := tx.QueryRow("SELECT token, messages, expires_at FROM kiri_queue_attempts WHERE queue = ? AND attempt = ?",
		queue, o.AttemptID).Scan(&token, &n, &until)
	if errors.Is(err, errNoRows) || (err == nil && until <= now) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read receive attempt: %w", err)
	}
	var held int
	if err := tx.QueryRow("SELECT COUNT(*) FROM kiri_queue_messages WHERE queue = ? AND receipt = ? AND visible_at > ?",
		queue, token, now).Scan(&held); err != nil {
		return nil, fmt.Errorf("read receive attempt: %w", err)
	}
	if held != n {
		return nil, nil
	}
	rows, err := tx.Query(`UPDATE kiri_queue_messages SET visible_at = ? WHERE queue = ? AND receipt = ? AND visible_at > ?
		RETURNING `+messageColumns, now+int64(o.Visibility), queue, token, now)
	if err != nil {
		return nil, fmt.Errorf("repeat receive attempt: %w", err)
	}
	defer rows.Close()
	out := make([]Received, 0, n)
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, fmt.Errorf("repeat receive attempt: %w", err)
		}
		out = append(out, Received{Message: m, Receipt: Receipt{ID: m.ID, Token: token}})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("repeat receive attempt: %w", err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// candidates reads up to o.Max messages of queue due at now, in the order a receive takes them.
func (e *Engine) candidates(tx *store.Tx, queue string, o ReceiveOptions, now int64) ([]Message, error) {
	lock := ""
	if e.pg {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	var q string
	if o.OnePerGroup {
		q = `SELECT ` + messageColumnsOf("m") + ` FROM kiri_queue_messages m
			WHERE m.queue = ? AND m.visible_at <= ?
			  AND (m.grp = '' OR NOT EXISTS (SELECT 1 FROM kiri_queue_messages p
				WHERE p.queue = m.queue AND p.grp = m.grp AND p.grp <> '' AND p.id < m.id))
			ORDER BY m.id LIMIT ?` + lock
	} else if o.Ordered {
		// A grouped message is a candidate only when no message of its group is in flight
		// and no earlier one is delayed; earlier visible ones come first by id.
		q = `SELECT ` + messageColumnsOf("m") + ` FROM kiri_queue_messages m
			WHERE m.queue = ? AND m.visible_at <= ?
			  AND (m.grp = '' OR NOT EXISTS (SELECT 1 FROM kiri_queue_messages p
				WHERE p.queue = m.queue AND p.grp = m.grp AND p.grp <> '' AND p.visible_at > ?
				  AND (p.id < m.id OR p.receipt <> '')))
			ORDER BY m.id LIMIT ?` + lock
	} else {
		q = `SELECT ` + messageColumns + ` FROM kiri_queue_messages
			WHERE queue = ? AND visible_at <= ? ORDER BY visible_at, id LIMIT ?` + lock
	}
	args := []any{queue, now, o.Max}
	if o.Ordered && !o.OnePerGroup {
		args = []any{queue, now, now, o.Max}
	}
	rows, err := tx.Query(q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Message
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// moveToDeadLetter moves a candidate to o.DeadLetter, due at once, lease and error cleared.
func (e *Engine) moveToDeadLetter(tx *store.Tx, m Message, o ReceiveOptions, now int64) error {
	var expires int64
	if o.DeadLetterRetention > 0 {
		expires = m.SentAt.UnixNano() + int64(o.DeadLetterRetention)
		e.expiry.note(tx, expires)
	}
	if _, err := tx.Exec(`UPDATE kiri_queue_messages SET queue = ?, visible_at = ?, receipt = '', expires_at = ? WHERE id = ?`,
		o.DeadLetter, now, expires, m.ID); err != nil {
		return fmt.Errorf("move message %d to %s: %w", m.ID, o.DeadLetter, err)
	}
	tx.Notify(notifyTopic, o.DeadLetter)
	return nil
}

// Delete removes the message r leases from queue. It reports false, with no error, when r no
// longer holds the message (deleted already, or received again since): SQS answers such deletes
// with success.
func (e *Engine) Delete(ctx context.Context, queue string, r Receipt) (bool, error) {
	res, err := e.DeleteBatch(ctx, queue, []Receipt{r})
	if err != nil {
		return false, err
	}
	return res[0], nil
}

// DeleteBatch deletes several leased messages in one commit, reporting each one's outcome.
func (e *Engine) DeleteBatch(ctx context.Context, queue string, rs []Receipt) ([]bool, error) {
	out := make([]bool, len(rs))
	err := e.st.Write(ctx, func(tx *store.Tx) error {
		for i, r := range rs {
			res, err := tx.Exec("DELETE FROM kiri_queue_messages WHERE id = ? AND queue = ? AND receipt = ?", r.ID, queue, r.Token)
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			out[i] = n > 0
		}
		if e.hasGroups(queue) {
			// A deletion may unblock the next message of an ordered group.
			tx.Notify(notifyTopic, queue)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("delete from %s: %w", queue, err)
	}
	return out, nil
}

// DeleteBatchHeld deletes several messages in one commit, each only while its receipt's lease
// is held (SQS FIFO queues refuse a lapsed receipt): errs[i] is nil when the message was
// deleted, ErrNotInFlight when the lease lapsed or another receive took the message, and
// ErrNoMessage when the message is no longer in the queue.
func (e *Engine) DeleteBatchHeld(ctx context.Context, queue string, rs []Receipt) ([]error, error) {
	errs, err := e.eachReceipt(ctx, queue, rs, func(tx *store.Tx, i int, now int64) (sql.Result, error) {
		return tx.Exec("DELETE FROM kiri_queue_messages WHERE id = ? AND queue = ? AND receipt = ? AND visible_at > ?",
			rs[i].ID, queue, rs[i].Token, now)
	})
	if err != nil {
		return nil, fmt.Errorf("delete from %s: %w", queue, err)
	}
	return errs, nil
}

// hasGroups is a hint that deletions in queue may unblock ordered receivers. Queues are not
// typed, so every deletion announces the queue; waking a waiter costs one indexed read.
func (e *Engine) hasGroups(string) bool { return true }

// ChangeVisibility makes the message r leases due again after d (0: at once). It returns
// ErrNotInFlight when r no longer holds an unexpired lease.
func (e *Engine) ChangeVisibility(ctx context.Context, queue string, r Receipt, d time.Duration) error {
	errs, err := e.ChangeVisibilityBatch(ctx, queue, []Receipt{r}, []time.Duration{d})
	if err != nil {
		return err
	}
	return errs[0]
}

// ChangeVisibilityBatch changes several leases in one commit; errs[i] is nil, ErrNotInFlight,
// or ErrNoMessage (which is an ErrNotInFlight too) when the message is no longer in the queue.
func (e *Engine) ChangeVisibilityBatch(ctx context.Context, queue string, rs []Receipt, ds []time.Duration) (errs []error, err error) {
	return e.changeVisibility(ctx, queue, rs, ds, true)
}

// RenewBatch is ChangeVisibilityBatch for receipts whose lease may have lapsed: it changes the
// message as long as no receive has taken it since the receipt's, so a consumer that overran
// its lease can still take it back (SQS standard queues allow this). errs[i] is nil,
// ErrNotInFlight (received again since) or ErrNoMessage.
func (e *Engine) RenewBatch(ctx context.Context, queue string, rs []Receipt, ds []time.Duration) (errs []error, err error) {
	return e.changeVisibility(ctx, queue, rs, ds, false)
}

// changeVisibility changes leases in one commit; held requires them not to have lapsed.
func (e *Engine) changeVisibility(ctx context.Context, queue string, rs []Receipt, ds []time.Duration, held bool) ([]error, error) {
	errs, err := e.eachReceipt(ctx, queue, rs, func(tx *store.Tx, i int, now int64) (sql.Result, error) {
		after := int64(-1 << 63)
		if held {
			after = now
		}
		return tx.Exec(`UPDATE kiri_queue_messages SET visible_at = ?
			WHERE id = ? AND queue = ? AND receipt = ? AND visible_at > ?`, now+int64(ds[i]), rs[i].ID, queue, rs[i].Token, after)
	})
	if err != nil {
		return nil, fmt.Errorf("change visibility in %s: %w", queue, err)
	}
	return errs, nil
}

// eachReceipt runs change for every receipt in one commit and announces the queue; errs[i] says
// why change touched no row for rs[i] (see missing), nil when it did.
func (e *Engine) eachReceipt(ctx context.Context, queue string, rs []Receipt, change func(tx *store.Tx, i int, now int64) (sql.Result, error)) ([]error, error) {
	errs := make([]error, len(rs))
	err := e.st.Write(ctx, func(tx *store.Tx) error {
		now := e.now().UnixNano()
		for i, r := range rs {
			res, err := change(tx, i, now)
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil {
				return err
			} else if n == 0 {
				if errs[i], err = e.missing(tx, queue, r); err != nil {
					return err
				}
			}
		}
		tx.Notify(notifyTopic, queue)
		return nil
	})
	return errs, err
}

// missing tells why r no longer holds its message: ErrNoMessage when the message is gone,
// else ErrNotInFlight.
func (e *Engine) missing(tx *store.Tx, queue string, r Receipt) (error, error) {
	var one int
	err := tx.QueryRow("SELECT 1 FROM kiri_queue_messages WHERE id = ? AND queue = ?", r.ID, queue).Scan(&one)
	switch {
	case errors.Is(err, errNoRows):
		return ErrNoMessage, nil
	case err != nil:
		return nil, err
	}
	return ErrNotInFlight, nil
}

// Release gives a leased message back, due at at, noting cause as its last error. It does
// nothing when r no longer holds the message.
func (e *Engine) Release(ctx context.Context, queue string, r Receipt, at time.Time, cause string) error {
	err := e.st.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(`UPDATE kiri_queue_messages SET visible_at = ?, receipt = '', last_error = ?
			WHERE id = ? AND queue = ? AND receipt = ?`, at.UnixNano(), cause, r.ID, queue, r.Token)
		tx.Notify(notifyTopic, queue)
		return err
	})
	if err != nil {
		return fmt.Errorf("release message %d of %s: %w", r.ID, queue, err)
	}
	return nil
}

// postpone gives a leased message back, due at at, and takes back the receive that leased it.
func (e *Engine) postpone(ctx context.Context, queue string, r Receipt, at time.Time) error {
	err := e.st.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(`UPDATE kiri_queue_messages SET visible_at = ?, receipt = '', receives = receives - 1
			WHERE id = ? AND queue = ? AND receipt = ? AND receives > 0`, at.UnixNano(), r.ID, queue, r.Token)
		tx.Notify(notifyTopic, queue)
		return err
	})
	if err != nil {
		return fmt.Errorf("postpone message %d of %s: %w", r.ID, queue, err)
	}
	return nil
}

// MoveLeased moves the message r leases to queue to, due at once, noting cause. It does
// nothing when r no longer holds the message.
func (e *Engine) MoveLeased(ctx context.Context, from string, r Receipt, to, cause string) error {
	err := e.st.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(`UPDATE kiri_queue_messages SET queue = ?, visible_at = ?, receipt = '', last_error = ?
			WHERE id = ? AND queue = ? AND receipt = ?`, to, e.now().UnixNano(), cause, r.ID, from, r.Token)
		tx.Notify(notifyTopic, to)
		return err
	})
	if err != nil {
		return fmt.Errorf("move message %d from %s to %s: %w", r.ID, from, to, err)
	}
	return nil
}

// ReleaseLeases makes due at once every message of queue leased by owner (see
// ReceiveOptions.Owner). A node calls it on start for the leases a crash left behind.
func (e *Engine) ReleaseLeases(ctx context.Context, queue, owner string) (int64, error) {
	var n int64
	err := e.st.Write(ctx, func(tx *store.Tx) error {
		res, err := tx.Exec(`UPDATE kiri_queue_messages SET visible_at = ?, receipt = ''
			WHERE queue = ? AND receipt LIKE ?`, e.now().UnixNano(), queue, owner+"-%")
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		if n > 0 {
			tx.Notify(notifyTopic, queue)
		}
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("release leases of %s in %s: %w", owner, queue, err)
	}
	return n, nil
}

// ExtendLeases pushes the visibility of every message of queue leased by owner to until.
func (e *Engine) ExtendLeases(ctx context.Context, queue, owner string, until time.Time) error {
	err := e.st.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(`UPDATE kiri_queue_messages SET visible_at = ? WHERE queue = ? AND receipt LIKE ? AND visible_at > ?`,
			until.UnixNano(), queue, owner+"-%", e.now().UnixNano())
		return err
	})
	if err != nil {
		return fmt.Errorf("extend leases of %s in %s: %w", owner, queue, err)
	}
	return nil
}

// Purge deletes every message of queue sent before now, in tx.
func (e *Engine) Purge(tx *store.Tx, queue string) (int64, error) {
	res, err := tx.Exec("DELETE FROM kiri_queue_messages WHERE queue = ? AND sent_at <= ?", queue, e.now().UnixNano())
	if err != nil {
		return 0, fmt.Errorf("purge %s: %w", queue, err)
	}
	return res.RowsAffected()
}

// Drop deletes queue's messages, deduplication ids and remembered receive attempts, in tx.
func (e *Engine) Drop(tx *store.Tx, queue string) error {
	if _, err := tx.Exec("DELETE FROM kiri_queue_messages WHERE queue = ?", queue); err != nil {
		return fmt.Errorf("drop %s: %w", queue, err)
	}
	if _, err := tx.Exec("DELETE FROM kiri_queue_dedup WHERE queue = ?", queue); err != nil {
		return fmt.Errorf("drop %s: %w", queue, err)
	}
	if _, err := tx.Exec("DELETE FROM kiri_queue_attempts WHERE queue = ?", queue); err != nil {
		return fmt.Errorf("drop %s: %w", queue, err)
	}
	return nil
}

// SetRetention makes every message of queue expire retention after it was sent, in tx.
func (e *Engine) SetRetention(tx *store.Tx, queue string, retention time.Duration) error {
	if _, err := tx.Exec("UPDATE kiri_queue_messages SET expires_at = sent_at + ? WHERE queue = ?", int64(retention), queue); err != nil {
		return fmt.Errorf("set retention of %s: %w", queue, err)
	}
	var first *int64
	if err := tx.QueryRow("SELECT MIN(expires_at) FROM kiri_queue_messages WHERE queue = ? AND expires_at > 0", queue).Scan(&first); err != nil {
		return fmt.Errorf("set retention of %s: %w", queue, err)
	}
	if first != nil {
		e.expiry.note(tx, *first)
	}
	return nil
}

// Move moves up to limit due messages from one queue to another, oldest first, due at once;
// a redrive. It reports how many moved.
func (e *Engine) Move(ctx context.Context, from, to string, limit int, retention time.Duration) (int, error) {
	var n int
	err := e.st.Write(ctx, func(tx *store.Tx) error {
		n = 0
		cands, err := e.candidates(tx, from, ReceiveOptions{Max: limit}, e.now().UnixNano())
		if err != nil {
			return err
		}
		o := ReceiveOptions{DeadLetter: to, DeadLetterRetention: retention}
		for _, c := range cands {
			if err := e.moveToDeadLetter(tx, c, o, e.now().UnixNano()); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("move messages from %s to %s: %w", from, to, err)
	}
	return n, nil
}

// Redrive moves up to limit due messages of from, oldest first, each to the queue route names
// for it, due at once and as if never received: receive counts and leases are cleared, and the
// message expires retention after it was sent (never when retention is 0). route runs inside the
// write; an error from it stops the redrive and is returned (the Write function returning it
// undoes the moves made). Redrive must be called inside a store.Write function; it reports how
// many messages moved.
func (e *Engine) Redrive(tx *store.Tx, from string, limit int, route func(Message) (to string, retention time.Duration, err error)) (int, error) {
	lock := ""
	if e.pg {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	now := e.now().UnixNano()
	rows, err := tx.Query("SELECT "+messageColumns+" FROM kiri_queue_messages WHERE queue = ? AND visible_at <= ? ORDER BY visible_at, id LIMIT ?"+lock,
		from, now, limit)
	if err != nil {
		return 0, fmt.Errorf("redrive %s: %w", from, err)
	}
	var ms []Message
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			rows.Close()
			return 0, fmt.Errorf("redrive %s: %w", from, err)
		}
		ms = append(ms, m)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("redrive %s: %w", from, err)
	}
	for _, m := range ms {
		to, retention, err := route(m)
		if err != nil {
			return 0, err
		}
		if err := checkQueueName(to); err != nil {
			return 0, err
		}
		var expires int64
		if retention > 0 {
			expires = m.SentAt.UnixNano() + int64(retention)
			e.expiry.note(tx, expires)
		}
		if _, err := tx.Exec(`UPDATE kiri_queue_messages SET queue = ?, visible_at = ?, receipt = '', receives = 0,
			first_receive_at = 0, last_error = '', expires_at = ? WHERE id = ?`, to, now, expires, m.ID); err != nil {
			return 0, fmt.Errorf("redrive message %d from %s to %s: %w", m.ID, from, to, err)
		}
		tx.Notify(notifyTopic, to)
	}
	return len(ms), nil
}

// Stats counts a queue's messages.
type Stats struct {
	// Visible messages are due: a receive would take them.
	Visible int64
	// InFlight messages are leased.
	InFlight int64
	// Delayed messages are not due yet and not leased (delays, timers, retries waiting).
	Delayed int64
	// Oldest is when the oldest message was sent; zero when the queue is empty.
	Oldest time.Time
}

// Stats counts queue's messages now.
func (e *Engine) Stats(ctx context.Context, queue string) (Stats, error) {
	now := e.now().UnixNano()
	var s Stats
	var oldest *int64
	err := e.st.QueryRow(ctx, `SELECT
			COALESCE(SUM(CASE WHEN visible_at <= ? THEN 1 ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN visible_at > ? AND receipt <> '' THEN 1 ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN visible_at > ? AND receipt = '' THEN 1 ELSE 0 END), 0),
			MIN(sent_at)
		FROM kiri_queue_messages WHERE queue = ?`, now, now, now, queue).Scan(&s.Visible, &s.InFlight, &s.Delayed, &oldest)
	if err != nil {
		return Stats{}, fmt.Errorf("count messages of %s: %w", queue, err)
	}
	if oldest != nil {
		s.Oldest = time.Unix(0, *oldest)
	}
	return s, nil
}

// Peek lists up to limit messages of queue in id order without leasing them, for inspection
// (dead letters, tests).
func (e *Engine) Peek(ctx context.Context, queue string, limit int) ([]Message, error) {
	rows, err := e.st.Query(ctx, "SELECT "+messageColumns+" FROM kiri_queue_messages WHERE queue = ? ORDER BY id LIMIT ?", queue, limit)
	if err != nil {
		return nil, fmt.Errorf("peek at %s: %w", queue, err)
	}
	defer rows.Close()
	var out []Message
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, fmt.Errorf("peek at %s: %w", queue, err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("peek at %s: %w", queue, err)
	}
	return out, nil
}

// unixTime is t nanoseconds after the epoch, or the zero time for 0.
func unixTime(t int64) time.Time {
	if t == 0 {
		return time.Time{}
	}
	return time.Unix(0, t)
}
