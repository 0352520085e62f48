// Package queue is Kiri's one durable queue engine. Every piece of asynchronous work runs on it:
// SQS queues, the deliveries of one service to another, retries, timers and periodic jobs.
//
// A queue is a name; it exists while it holds messages. A message lives in the store from the
// commit that sends it until one that deletes it. It is due (receivable) once its visible_at time
// has passed; receiving it leases it: it becomes invisible until the lease (visibility timeout)
// ends, and a receipt names that one lease. Delays and timers are messages whose visible_at lies
// in the future; an index on (queue, visible_at) finds what is due without scanning what is not.
//
// Messages with the same non-empty group are ordered: a receive that asks for order takes a
// group's messages only in send order and none of them while an earlier one is in flight (SQS
// FIFO semantics). Deduplication ids suppress a second send within a window. A message received
// more often than a receive allows moves to a dead-letter queue instead.
//
// Sends and changes that make messages due announce the queue through the store's notifications,
// in process and, on PostgreSQL, to other nodes through LISTEN/NOTIFY, so a long poll wakes at once
// and an idle engine does nothing: no goroutine polls.
package queue

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kiri-run/kiri/internal/store"
)

// notifyTopic is the store notification topic that announces a queue whose messages may have
// become due; its payload is the queue's name.
const notifyTopic = "queue"

// Config configures an Engine. Every field is optional.
type Config struct {
	// Logger receives the engine's log lines. Default slog.Default().
	Logger *slog.Logger
	// Node identifies this Kiri node across restarts; leases it held before a crash are taken
	// back when it starts again. Default: a random identity.
	Node string
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Metrics registers the engine's gauges (kiri_queue_messages, kiri_queue_dead_letters);
	// nil registers none.
	Metrics prometheus.Registerer
}

// Engine is the queue engine over one store. Its methods are safe for concurrent use.
type Engine struct {
	st   *store.Store
	log  *slog.Logger
	node string
	now  func() time.Time
	pg   bool

	signals  signals
	unsub    func()
	expiry   expiry
	mu       sync.Mutex
	handlers map[string]*consumer
	periodic map[string]*periodicJob
	running  bool
	workers  *workers

	// waitsEnded is closed by EndWaits: long polls return at once, empty.
	waitsEnded chan struct{}
	endWaits   sync.Once
}

// New returns an engine over st and applies its migrations.
func New(ctx context.Context, st *store.Store, cfg Config) (*Engine, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Node == "" {
		cfg.Node = randomHex(8)
	}
	if strings.ContainsAny(cfg.Node, ".%_") {
		return nil, fmt.Errorf("queue: node %q may not contain '.', '%%' or '_'", cfg.Node)
	}
	if err := st.Migrate(ctx, "queue", migrations); err != nil {
		return nil, err
	}
	e := &Engine{
		st:       st,
		log:      cfg.Logger.With("component", "queue"),
		node:     cfg.Node,
		now:      cfg.Now,
		pg:       st.Dialect() == "postgres",
		handlers: map[string]*consumer{},
		periodic: map[string]*periodicJob{},
	}
	e.waitsEnded = make(chan struct{})
	e.expiry.init()
	if cfg.Metrics != nil {
		if err := cfg.Metrics.Register(collector{e}); err != nil {
			return nil, fmt.Errorf("queue: register metrics: %w", err)
		}
	}
	e.workers = newWorkers(e)
	e.unsub = st.Subscribe(notifyTopic, func(q string) {
		if q == "" {
			e.signals.all()
			return
		}
		e.signals.wake(q)
	})
	return e, nil
}

// EndWaits makes every long poll, waiting or to come, return at once with what it has (nothing):
// a server that shuts down gracefully need not wait out its clients' long polls.
func (e *Engine) EndWaits() { e.endWaits.Do(func() { close(e.waitsEnded) }) }

// Close stops listening for notifications. Run must have returned.
func (e *Engine) Close() { e.unsub() }

// Message is a stored message as a receive or a handler sees it.
type Message struct {
	// ID is unique across every queue and grows in send order; FIFO sequence numbers derive from it.
	ID int64
	// Queue is the queue the message is in.
	Queue string
	// Group is the message's ordering group ("" for none).
	Group string
	// DedupID is the deduplication id it was sent with ("" for none).
	DedupID string
	// Body and Meta are what the sender gave; Meta is opaque to the engine.
	Body, Meta []byte
	// SentAt is when it was sent.
	SentAt time.Time
	// Receives counts the receives so far, this one included.
	Receives int
	// FirstReceiveAt is when it was first received.
	FirstReceiveAt time.Time
	// LastError is the failure noted when a handler last gave it back ("" for none).
	LastError string
	// TraceParent is the W3C traceparent of the request that sent it.
	TraceParent string
}

// Outgoing is a message to send.
type Outgoing struct {
	Body []byte
	// Meta is stored with the body and returned with it; the engine never reads it.
	Meta []byte
	// Group orders the message with the others of its group ("" for none).
	Group string
	// DedupID, with DedupWindow > 0, makes a second send of the same id to the same queue within
	// the window a no-op that reports the first message's id.
	DedupID     string
	DedupWindow time.Duration
	// At is when the message becomes due; zero (or the past) means at once. Delays and timers.
	At time.Time
	// Expires is when the message is dropped, received or not; zero means never.
	Expires time.Time
	// TraceParent is carried to whoever receives the message.
	TraceParent string
}

// Sent is what Send reports.
type Sent struct {
	// ID is the message's id, or the earlier message's when Duplicate.
	ID int64
	// Duplicate reports a send suppressed by deduplication.
	Duplicate bool
}

// Send adds m to queue as part of tx: the message exists only if tx commits, and it is announced
// once tx commits. Send must be called inside a store.Write function.
func (e *Engine) Send(tx *store.Tx, queue string, m Outgoing) (Sent, error) {
	if err := checkQueueName(queue); err != nil {
		return Sent{}, err
	}
	now := e.now()
	if m.DedupID != "" && m.DedupWindow > 0 {
		var id, until int64
		err := tx.QueryRow("SELECT message_id, expires_at FROM kiri_queue_dedup WHERE queue = ? AND dedup = ?", queue, m.DedupID).Scan(&id, &until)
		switch {
		case err == nil && until > now.UnixNano():
			return Sent{ID: id, Duplicate: true}, nil
		case err == nil:
			if _, err := tx.Exec("DELETE FROM kiri_queue_dedup WHERE queue = ? AND dedup = ?", queue, m.DedupID); err != nil {
				return Sent{}, fmt.Errorf("send to %s: %w", queue, err)
			}
		case !errors.Is(err, errNoRows):
			return Sent{}, fmt.Errorf("send to %s: read deduplication id: %w", queue, err)
		}
	}
	at := now
	if m.At.After(now) {
		at = m.At
	}
	body, meta := m.Body, m.Meta
	if body == nil {
		body = []byte{}
	}
	if meta == nil {
		meta = []byte{}
	}
	var expires int64
	if !m.Expires.IsZero() {
		expires = m.Expires.UnixNano()
	}
	id, err := e.insertMessage(tx, queue, m.Group, m.DedupID, body, meta, now.UnixNano(), at.UnixNano(), expires, m.TraceParent)
	if err != nil {
		return Sent{}, fmt.Errorf("send to %s: %w", queue, err)
	}
	if m.DedupID != "" && m.DedupWindow > 0 {
		until := now.Add(m.DedupWindow).UnixNano()
		if _, err := tx.Exec("INSERT INTO kiri_queue_dedup (queue, dedup, message_id, expires_at) VALUES (?, ?, ?, ?)",
			queue, m.DedupID, id, until); err != nil {
			return Sent{}, fmt.Errorf("send to %s: record deduplication id: %w", queue, err)
		}
		e.expiry.note(tx, until)
	}
	if expires != 0 {
		e.expiry.note(tx, expires)
	}
	tx.Notify(notifyTopic, queue)
	return Sent{ID: id}, nil
}

const insertMessage = `INSERT INTO kiri_queue_messages (queue, grp, dedup, body, meta, sent_at, visible_at, expires_at, traceparent)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`

// insertMessage inserts a message row and returns its id. On SQLite it takes the id from the
// insert's result rather than reading a RETURNING row, which made sends (BenchmarkSendBatch)
// about 1.7 times as fast; PostgreSQL has no such result.
func (e *Engine) insertMessage(tx *store.Tx, args ...any) (int64, error) {
	var id int64
	if e.pg {
		err := tx.QueryRow(insertMessage+" RETURNING id", args...).Scan(&id)
		return id, err
	}
	res, err := tx.Exec(insertMessage, args...)
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}

// checkQueueName refuses names the engine cannot carry in a notification.
func checkQueueName(q string) error {
	if q == "" || strings.Contains(q, "|") {
		return fmt.Errorf("queue: invalid queue name %q", q)
	}
	return nil
}

// DeadLetterQueue names the queue where a handled queue's messages go when delivery gives up.
func DeadLetterQueue(queue string) string { return queue + ".dead" }

// randomHex returns n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Receipt names one lease of one message: it is what Delete and ChangeVisibility take. Its text
// form is "<id>.<token>".
type Receipt struct {
	ID    int64
	Token string
}

// String is the receipt's text form.
func (r Receipt) String() string { return strconv.FormatInt(r.ID, 10) + "." + r.Token }

// ParseReceipt reads a receipt's text form.
func ParseReceipt(s string) (Receipt, error) {
	id, token, ok := strings.Cut(s, ".")
	n, err := strconv.ParseInt(id, 10, 64)
	if !ok || err != nil || n <= 0 || token == "" || strings.ContainsAny(token, "%_") {
		return Receipt{}, ErrInvalidReceipt
	}
	return Receipt{ID: n, Token: token}, nil
}

// ErrInvalidReceipt is returned for a receipt that is not one the engine could have issued.
var ErrInvalidReceipt = errors.New("queue: invalid receipt")

// ErrNotInFlight is returned by ChangeVisibility when the receipt's lease is no longer held.
var ErrNotInFlight = errors.New("queue: message not in flight")

// ErrNoMessage is returned by ChangeVisibility when the receipt's message is no longer in the
// queue (deleted, expired or moved). errors.Is(ErrNoMessage, ErrNotInFlight) holds.
var ErrNoMessage = fmt.Errorf("%w: no such message", ErrNotInFlight)
