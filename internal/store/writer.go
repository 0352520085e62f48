package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"sync/atomic"
)

// maxBatch caps how many writes share one transaction.
const maxBatch = 512

// maxBatchPostgres is lower: each write is a subtransaction, and PostgreSQL slows every
// snapshot once a transaction holds more than 64 of them (subxid cache overflow).
const maxBatchPostgres = 64

// batchLimit is the batch cap for this backend.
func (s *Store) batchLimit() int {
	if s.dialect == dialectPostgres {
		return maxBatchPostgres
	}
	return maxBatch
}

// Write request states; the caller and the writer race to move a request out of reqQueued.
const (
	reqQueued int32 = iota
	reqRunning
	reqAbandoned
)

// writeReq is one Write call waiting in the writer's queue.
type writeReq struct {
	fn    func(tx *Tx) error
	state atomic.Int32
	done  chan error // buffered 1: the writer never blocks on an answer
}

// Tx is the handle a Write function uses. It is valid only while that function runs, and it
// must not be used from other goroutines.
type Tx struct {
	s        *Store
	tx       *sql.Tx
	rows     []*sql.Rows
	notes    []note
	finished bool
	after    []func()
	ended    []func()
}

// AfterCommit registers f to run once the transaction that holds this Write has committed. It
// is not run when the Write function fails or the commit does not happen. f runs on the writer
// goroutine and must be quick (e.g. invalidating a cache entry).
func (t *Tx) AfterCommit(f func()) { t.after = append(t.after, f) }

// AfterBatch registers f to run once the transaction that holds this Write has ended,
// committed or rolled back, whether or not the Write function succeeded, and before the writer
// starts its next transaction. f runs on the writer goroutine and must be quick.
func (t *Tx) AfterBatch(f func()) { t.ended = append(t.ended, f) }

// errTxFinished is returned by a Tx used after its Write function returned.
var errTxFinished = errors.New("store: Tx used after its Write function returned")

// Exec runs a statement in the write transaction. Placeholders are `?` on both backends.
func (t *Tx) Exec(query string, args ...any) (sql.Result, error) {
	if t.finished {
		return nil, errTxFinished
	}
	return t.exec(query, args...)
}

// exec runs a statement through the writer's statement cache, finished or not: the writer
// uses it for the savepoints around a Write function.
func (t *Tx) exec(query string, args ...any) (sql.Result, error) {
	ctx := context.Background()
	if st, err := t.s.wstmts.get(ctx, query); err == nil {
		return t.tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return t.tx.ExecContext(ctx, t.s.dialect.rebind(query), args...)
}

// Query runs a query in the write transaction, seeing its uncommitted changes. Rows left open
// are closed when the Write function returns.
func (t *Tx) Query(query string, args ...any) (*sql.Rows, error) {
	if t.finished {
		return nil, errTxFinished
	}
	ctx := context.Background()
	var rows *sql.Rows
	var err error
	if st, serr := t.s.wstmts.get(ctx, query); serr == nil {
		rows, err = t.tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	} else {
		rows, err = t.tx.QueryContext(ctx, t.s.dialect.rebind(query), args...)
	}
	if err == nil {
		t.rows = append(t.rows, rows)
	}
	return rows, err
}

// QueryRow runs a query expected to return at most one row in the write transaction.
func (t *Tx) QueryRow(query string, args ...any) *sql.Row {
	// A finished Tx's sql.Tx is done, so QueryRow reports sql.ErrTxDone through Scan.
	ctx := context.Background()
	if st, err := t.s.wstmts.get(ctx, query); err == nil {
		return t.tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return t.tx.QueryRowContext(ctx, t.s.dialect.rebind(query), args...)
}

// closeRows closes any rows the function left open, so the savepoint can be released.
func (t *Tx) closeRows() {
	for _, r := range t.rows {
		_ = r.Close()
	}
	t.rows = t.rows[:0]
}

// Write runs fn in the store's single writer, batched with concurrent writes into one transaction
// and one sync (group commit). Each fn runs inside its own savepoint: if fn returns an error or
// panics, only its changes are rolled back and only its caller gets the error. Write returns after
// the batch is durable. If ctx ends before fn has run, fn is not run and ctx's error is returned;
// once fn has started, Write waits for the commit's outcome. fn runs on the writer goroutine:
// it must be short and must not call Write itself (that would deadlock).
func (s *Store) Write(ctx context.Context, fn func(tx *Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	req := &writeReq{fn: fn, done: make(chan error, 1)}
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return ErrClosed
	}
	select {
	case s.queue <- req:
		s.mu.RUnlock()
	case <-ctx.Done():
		s.mu.RUnlock()
		return ctx.Err()
	}
	select {
	case err := <-req.done:
		return err
	case <-ctx.Done():
		if req.state.CompareAndSwap(reqQueued, reqAbandoned) {
			return ctx.Err()
		}
		return <-req.done
	}
}

// runWriter is the single writer: it takes the first queued write, drains whatever else is
// queued at that moment, and commits them together. It exits after Close once the queue is empty.
func (s *Store) runWriter() {
	defer close(s.done)
	batch := make([]*writeReq, 0, maxBatch)
	for {
		select {
		case r := <-s.queue:
			// Let the goroutines that are ready run first: requests about to call Write join
			// this batch instead of paying a commit of their own. With nothing else ready,
			// this returns at once, so an idle store adds no latency.
			runtime.Gosched()
			batch = s.fillBatch(append(batch[:0], r))
			s.commitBatch(batch)
			if s.wstmts.pending() {
				s.wstmts.prepareQueued(context.Background())
			}
		case <-s.stop:
			for {
				batch = s.fillBatch(batch[:0])
				if len(batch) == 0 {
					return
				}
				s.commitBatch(batch)
			}
		}
	}
}

// fillBatch appends queued writes to batch without waiting, up to the batch cap.
func (s *Store) fillBatch(batch []*writeReq) []*writeReq {
	limit := s.batchLimit()
	for len(batch) < limit {
		select {
		case r := <-s.queue:
			batch = append(batch, r)
		default:
			return batch
		}
	}
	return batch
}

// commitBatch runs every live request of batch in one transaction, each in its own savepoint,
// commits once, and answers every caller.
func (s *Store) commitBatch(batch []*writeReq) {
	live := batch[:0:0]
	for _, r := range batch {
		if r.state.CompareAndSwap(reqQueued, reqRunning) {
			live = append(live, r)
		}
	}
	if len(live) == 0 {
		return
	}
	results := make([]error, len(live))
	if err := s.runBatch(live, results); err != nil {
		for i, r := range live {
			if results[i] == nil {
				results[i] = err
			}
			r.done <- results[i]
		}
		return
	}
	for i, r := range live {
		r.done <- results[i]
	}
}

// runBatch executes the batch and commits. It fills results with each function's own error and
// returns an error that fails every request whose function succeeded (begin, savepoint or commit
// failure).
func (s *Store) runBatch(live []*writeReq, results []error) error {
	ctx := context.Background()
	sqlTx, err := s.wdb.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin write batch: %w", err)
	}
	single := len(live) == 1
	var notes []note
	anyOK := false
	var after, ended []func()
	defer func() {
		for _, f := range ended {
			f()
		}
	}()
	for i, r := range live {
		tx := &Tx{s: s, tx: sqlTx}
		if single {
			results[i] = runFn(tx, r.fn)
		} else {
			results[i], err = runInSavepoint(tx, r.fn)
		}
		ended = append(ended, tx.ended...)
		if !single {
			if err != nil {
				_ = sqlTx.Rollback()
				return err
			}
		}
		if results[i] == nil {
			anyOK = true
			notes = append(notes, tx.notes...)
			after = append(after, tx.after...)
		}
	}
	if !anyOK {
		if err := sqlTx.Rollback(); err != nil {
			s.log.Warn("rollback of failed write batch", "err", err)
		}
		return nil
	}
	notes = dedupNotes(notes)
	if len(notes) > 0 && s.dialect == dialectPostgres {
		if err := notifyPostgres(ctx, sqlTx, notes); err != nil {
			_ = sqlTx.Rollback()
			return fmt.Errorf("store: %w", err)
		}
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("store: commit write batch: %w", err)
	}
	s.commits.Add(1)
	if s.ckpt != nil {
		s.ckpt.poke()
	}
	for _, f := range after {
		f()
	}
	for _, e := range results {
		if e == nil {
			s.writes.Add(1)
		}
	}
	for _, n := range notes {
		s.subs.publish(n.topic, n.payload)
	}
	return nil
}

// runInSavepoint runs fn between SAVEPOINT and RELEASE, rolling back to the savepoint when fn
// fails. fnErr is fn's own outcome; err reports that the transaction itself is unusable.
func runInSavepoint(tx *Tx, fn func(*Tx) error) (fnErr, err error) {
	if _, err := tx.exec("SAVEPOINT kiri_w"); err != nil {
		return nil, fmt.Errorf("store: savepoint: %w", err)
	}
	fnErr = runFn(tx, fn)
	if fnErr == nil {
		_, err := tx.exec("RELEASE SAVEPOINT kiri_w")
		if err == nil {
			return nil, nil
		}
		// PostgreSQL refuses RELEASE when fn swallowed a statement error; undo fn instead.
		fnErr = fmt.Errorf("store: write left the transaction unusable: %w", err)
	}
	if _, err := tx.exec("ROLLBACK TO SAVEPOINT kiri_w"); err != nil {
		return fnErr, fmt.Errorf("store: rollback to savepoint: %w", err)
	}
	if _, err := tx.exec("RELEASE SAVEPOINT kiri_w"); err != nil {
		return fnErr, fmt.Errorf("store: release savepoint: %w", err)
	}
	return fnErr, nil
}

// runFn calls fn, turning a panic into an error, and retires tx afterwards.
func runFn(tx *Tx, fn func(*Tx) error) (err error) {
	defer func() {
		tx.closeRows()
		tx.finished = true
		if p := recover(); p != nil {
			tx.s.log.Error("write function panicked", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			err = fmt.Errorf("store: write function panicked: %v", p)
		}
	}()
	return fn(tx)
}
