// Package load is the core of the ddbload benchmark: the phases it runs against one DynamoDB
// endpoint (PutItem and consistent GetItem from many clients, full reads of one partition
// through a paged Query, and creating many tables), written against a small Client interface;
// the servers it starts itself to time their start; and the comparison that alternates rounds
// over several targets and reports medians.
package load

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kiri-run/kiri/bench/internal/procstat"
	"github.com/kiri-run/kiri/bench/internal/workload"
)

// Client is what the phases need from one SDK client of a DynamoDB endpoint. Every worker
// has its own Client, and so its own connection pool. Tables have a string partition key and,
// with a sort key, a string sort key; items carry one string attribute, the payload.
type Client interface {
	ListTables(ctx context.Context) error
	// CreateTable creates an on-demand table and returns without waiting for it.
	CreateTable(ctx context.Context, name string, sortKey bool) error
	TableStatus(ctx context.Context, name string) (string, error)
	DeleteTable(ctx context.Context, name string) error
	PutItem(ctx context.Context, table string, key Key, payload string) error
	// GetItem reads an item with a strongly consistent read and returns its payload's length,
	// or found false.
	GetItem(ctx context.Context, table string, key Key) (payloadLen int, found bool, err error)
	// Query reads one page of partition pk at the server's default page size, from after
	// the key start (nil: the first page).
	Query(ctx context.Context, table, pk string, start *Key) (Page, error)
}

// Key is an item's primary key; SK is empty in a table without a sort key.
type Key struct{ PK, SK string }

// Page is one page of a Query.
type Page struct {
	Items       int
	First, Last string // the sort keys of its first and last items
	Next        *Key   // LastEvaluatedKey; nil on the last page
}

// Endpoint is one server under test.
type Endpoint struct {
	Name string
	URL  string
	PID  int // the server's process id, to sample its CPU time and VmRSS; 0: none
	// Started is set for a server this tool started for the round and stops after it: its
	// tables are left to go with it rather than deleted one by one.
	Started bool

	Region, AccessKey, Secret string
}

// Dial returns a new client of an endpoint, with its own connection pool.
type Dial func(Endpoint) Client

// Config is the load of one round.
type Config struct {
	Phases        []string      // "tables", "put", "get" and "query", in order
	Duration      time.Duration // how long the put and get phases run
	Clients       int           // concurrent clients in the put and get phases
	ItemSize      int           // payload bytes of the put and get phases' items
	Prefill       int           // items the get phase tops the put phase's up to, untimed
	QueryItems    int           // items in the partition the query phase reads
	QueryItemSize int           // their payload bytes
	QueryReads    int           // full reads of the partition to time
	Tables        int           // tables the tables phase creates
	Idle          time.Duration // how long the server idles before each VmRSS reading of the tables phase
}

// Result is one round's figures against one endpoint; a phase that did not run is nil.
type Result struct {
	Start    *Start // set for a started target, by the comparison that started it
	Tables   *Tables
	Put, Get *Throughput
	Query    *Query
}

// Start is how a started target came up: the time from starting its command to the first
// answered request, and its VmRSS then.
type Start struct {
	Ready time.Duration
	RSS   int // KiB
}

// Tables is the tables phase: creating Count tables, from many clients, until all are ACTIVE,
// and the server's VmRSS after it idled before and after that.
type Tables struct {
	Count               int
	Elapsed             time.Duration
	RSSBefore, RSSAfter int           // KiB; 0 without a PID
	Idle                time.Duration // how long the server idled before each reading
	IdleCPU             time.Duration // the server's CPU time in the idle time after
}

// Throughput is a phase of single-item calls from many clients.
type Throughput struct {
	Items            int64
	Elapsed          time.Duration
	CallP50, CallP99 time.Duration
	workload.Usage
}

// Rate is items per second.
func (t *Throughput) Rate() float64 { return float64(t.Items) / t.Elapsed.Seconds() }

// Query is the query phase: the time of each full read of one partition, page by page.
type Query struct {
	Items, Pages int // per full read
	Reads        []time.Duration
	workload.Usage
}

// tablePoll is how often a table being created is described until it is ACTIVE.
const tablePoll = 20 * time.Millisecond

// tableWait bounds the wait for one table to become ACTIVE.
const tableWait = time.Minute

// Round runs the configured phases against an endpoint on fresh tables, which it deletes
// afterwards unless the server goes with them.
func Round(ctx context.Context, e Endpoint, c Config, dial Dial) (*Result, error) {
	clients := make([]Client, c.Clients)
	for i := range clients {
		clients[i] = dial(e)
	}
	rd := &round{e: e, c: c, clients: clients, prefix: fmt.Sprintf("ddbload-%d-%d", os.Getpid(), time.Now().UnixNano())}
	defer rd.deleteTables(ctx)
	var r Result
	var keys []Key // the items the put phase (and the get phase's prefill) wrote
	for _, phase := range c.Phases {
		var err error
		switch phase {
		case "tables":
			r.Tables, err = rd.tablesPhase(ctx)
		case "put":
			r.Put, keys, err = rd.putPhase(ctx, keys)
		case "get":
			if missing := c.Prefill - len(keys); missing > 0 {
				if keys, err = rd.prefill(ctx, keys, missing); err != nil {
					return nil, fmt.Errorf("prefill: %w", err)
				}
			}
			if len(keys) == 0 {
				return nil, errors.New("the get phase reads what the put phase wrote: run the put phase first or set a prefill")
			}
			r.Get, err = rd.getPhase(ctx, keys)
		case "query":
			r.Query, err = rd.queryPhase(ctx)
		default:
			err = errors.New("unknown phase")
		}
		if err != nil {
			return nil, fmt.Errorf("%s phase: %w", phase, err)
		}
	}
	return &r, nil
}

// round is one round's state against one endpoint.
type round struct {
	e       Endpoint
	c       Config
	clients []Client
	prefix  string
	items   string // the put and get phases' table, once made

	mu      sync.Mutex
	created []string
}

// createTables creates the named tables from all clients at once and waits until every one
// is ACTIVE.
func (rd *round) createTables(ctx context.Context, names []string, sortKey bool) error {
	var next atomic.Int64
	_, err := workload.Drive(ctx, time.Hour, rd.clients, func(ctx context.Context, cl Client) (int, error) {
		i := int(next.Add(1) - 1)
		if i >= len(names) {
			return 0, workload.ErrDrained
		}
		if err := cl.CreateTable(ctx, names[i], sortKey); err != nil {
			return 0, fmt.Errorf("create table %s: %w", names[i], err)
		}
		rd.mu.Lock()
		rd.created = append(rd.created, names[i])
		rd.mu.Unlock()
		return 1, waitActive(ctx, cl, names[i])
	})
	return err
}

func waitActive(ctx context.Context, cl Client, name string) error {
	deadline := time.Now().Add(tableWait)
	for {
		status, err := cl.TableStatus(ctx, name)
		switch {
		case err != nil:
			return fmt.Errorf("describe table %s: %w", name, err)
		case status == "ACTIVE":
			return nil
		case time.Now().After(deadline):
			return fmt.Errorf("table %s is still %s after %s", name, status, tableWait)
		}
		select {
		case <-time.After(tablePoll):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// deleteTables removes the round's tables so that they cost the server nothing in later
// rounds; a started server takes them with it.
func (rd *round) deleteTables(ctx context.Context) {
	if rd.e.Started || len(rd.created) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	var next atomic.Int64
	workload.Drive(ctx, time.Hour, rd.clients, func(ctx context.Context, cl Client) (int, error) {
		i := int(next.Add(1) - 1)
		if i >= len(rd.created) {
			return 0, workload.ErrDrained
		}
		if err := cl.DeleteTable(ctx, rd.created[i]); err != nil {
			fmt.Fprintf(os.Stderr, "delete table %s: %v\n", rd.created[i], err)
		}
		return 1, nil
	})
}

// tablesPhase reads the idle server's VmRSS, creates the tables, and reads it again after the
// server idled with them.
func (rd *round) tablesPhase(ctx context.Context) (*Tables, error) {
	t := &Tables{Count: rd.c.Tables, Idle: rd.c.Idle}
	if err := sleep(ctx, rd.c.Idle); err != nil {
		return nil, err
	}
	t.RSSBefore = procstat.RSS(rd.e.PID)
	names := make([]string, rd.c.Tables)
	for i := range names {
		names[i] = fmt.Sprintf("%s-t%04d", rd.prefix, i)
	}
	start := time.Now()
	if err := rd.createTables(ctx, names, false); err != nil {
		return nil, err
	}
	t.Elapsed = time.Since(start)
	cpu := workload.ServerCPU(rd.e.PID)
	if err := sleep(ctx, rd.c.Idle); err != nil {
		return nil, err
	}
	t.IdleCPU = workload.ServerCPU(rd.e.PID) - cpu
	t.RSSAfter = procstat.RSS(rd.e.PID)
	return t, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-time.After(d):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// itemsTable returns the put and get phases' table, creating it the first time.
func (rd *round) itemsTable(ctx context.Context) (string, error) {
	if rd.items == "" {
		name := rd.prefix + "-items"
		if err := rd.createTables(ctx, []string{name}, false); err != nil {
			return "", err
		}
		rd.items = name
	}
	return rd.items, nil
}

// keyWriter hands out fresh item keys to concurrent workers and keeps the ones written.
type keyWriter struct {
	next atomic.Int64
	mu   sync.Mutex
	keys []Key
}

func (w *keyWriter) fresh() Key {
	return Key{PK: fmt.Sprintf("item-%09d", w.next.Add(1))}
}

func (w *keyWriter) written(k Key) {
	w.mu.Lock()
	w.keys = append(w.keys, k)
	w.mu.Unlock()
}

// put writes one fresh item.
func (w *keyWriter) put(ctx context.Context, cl Client, table, payload string) error {
	k := w.fresh()
	if err := cl.PutItem(ctx, table, k, payload); err != nil {
		return fmt.Errorf("put item %s: %w", k.PK, err)
	}
	w.written(k)
	return nil
}

func (rd *round) putPhase(ctx context.Context, keys []Key) (*Throughput, []Key, error) {
	table, err := rd.itemsTable(ctx)
	if err != nil {
		return nil, keys, err
	}
	w := &keyWriter{keys: keys}
	w.next.Store(int64(len(keys)))
	payload := strings.Repeat("p", rd.c.ItemSize)
	var done workload.Calls
	u, err := workload.Measure(rd.e.PID, func() (err error) {
		done, err = workload.Drive(ctx, rd.c.Duration, rd.clients, func(ctx context.Context, cl Client) (int, error) {
			return 1, w.put(ctx, cl, table, payload)
		})
		return err
	})
	if err != nil {
		return nil, w.keys, err
	}
	return throughput(done, u), w.keys, nil
}

// prefill writes n more items, untimed, for a get phase that runs without the put phase.
func (rd *round) prefill(ctx context.Context, keys []Key, n int) ([]Key, error) {
	table, err := rd.itemsTable(ctx)
	if err != nil {
		return keys, err
	}
	w := &keyWriter{keys: keys}
	w.next.Store(int64(len(keys)))
	payload := strings.Repeat("p", rd.c.ItemSize)
	var left atomic.Int64
	left.Store(int64(n))
	_, err = workload.Drive(ctx, time.Hour, rd.clients, func(ctx context.Context, cl Client) (int, error) {
		if left.Add(-1) < 0 {
			return 0, workload.ErrDrained
		}
		return 1, w.put(ctx, cl, table, payload)
	})
	return w.keys, err
}

// getPhase reads random items of those written, with strongly consistent reads, and checks
// that each is there whole.
func (rd *round) getPhase(ctx context.Context, keys []Key) (*Throughput, error) {
	var done workload.Calls
	u, err := workload.Measure(rd.e.PID, func() (err error) {
		done, err = workload.Drive(ctx, rd.c.Duration, rd.clients, func(ctx context.Context, cl Client) (int, error) {
			k := keys[rand.N(len(keys))]
			n, found, err := cl.GetItem(ctx, rd.items, k)
			switch {
			case err != nil:
				return 0, fmt.Errorf("get item %s: %w", k.PK, err)
			case !found:
				return 0, fmt.Errorf("get item %s: not found, though PutItem succeeded", k.PK)
			case n != rd.c.ItemSize:
				return 0, fmt.Errorf("get item %s: a payload of %d bytes, put %d", k.PK, n, rd.c.ItemSize)
			}
			return 1, nil
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	return throughput(done, u), nil
}

func throughput(c workload.Calls, u workload.Usage) *Throughput {
	t := &Throughput{Items: c.Units, Elapsed: c.Elapsed, Usage: u}
	t.CallP50, t.CallP99 = workload.Quantile(c.Latency, 0.5), workload.Quantile(c.Latency, 0.99)
	return t
}

// queryPartition is the partition key of the query phase's items.
const queryPartition = "partition"

// queryPhase writes QueryItems items into one partition, untimed, and then times QueryReads
// full reads of it, each a Query followed page by page to its end, one after another.
func (rd *round) queryPhase(ctx context.Context) (*Query, error) {
	table := rd.prefix + "-query"
	if err := rd.createTables(ctx, []string{table}, true); err != nil {
		return nil, err
	}
	payload := strings.Repeat("q", rd.c.QueryItemSize)
	var next atomic.Int64
	_, err := workload.Drive(ctx, time.Hour, rd.clients, func(ctx context.Context, cl Client) (int, error) {
		i := next.Add(1) - 1
		if i >= int64(rd.c.QueryItems) {
			return 0, workload.ErrDrained
		}
		k := Key{PK: queryPartition, SK: fmt.Sprintf("sort-%07d", i)}
		if err := cl.PutItem(ctx, table, k, payload); err != nil {
			return 0, fmt.Errorf("put item %s: %w", k.SK, err)
		}
		return 1, nil
	})
	if err != nil {
		return nil, fmt.Errorf("fill the partition: %w", err)
	}
	q := &Query{}
	q.Usage, err = workload.Measure(rd.e.PID, func() error {
		for i := range rd.c.QueryReads {
			start := time.Now()
			items, pages, err := readPartition(ctx, rd.clients[0], table)
			if err != nil {
				return fmt.Errorf("read %d: %w", i, err)
			}
			q.Reads = append(q.Reads, time.Since(start))
			if items != rd.c.QueryItems {
				return fmt.Errorf("read %d: %d items in %d pages, wrote %d", i, items, pages, rd.c.QueryItems)
			}
			q.Items, q.Pages = items, pages
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return q, nil
}

// readPartition reads the query phase's partition to its end and checks that each page
// starts after the one before it ended.
func readPartition(ctx context.Context, cl Client, table string) (items, pages int, err error) {
	var start *Key
	last := ""
	for {
		callCtx, cancel := context.WithTimeout(ctx, workload.CallTimeout)
		p, err := cl.Query(callCtx, table, queryPartition, start)
		cancel()
		if err != nil {
			return items, pages, fmt.Errorf("query page %d: %w", pages+1, err)
		}
		if p.Items > 0 && p.First <= last {
			return items, pages, fmt.Errorf("page %d starts at %s, not after %s where page %d ended", pages+1, p.First, last, pages)
		}
		pages++
		items += p.Items
		if p.Items > 0 {
			last = p.Last
		}
		if p.Next == nil {
			return items, pages, nil
		}
		start = p.Next
	}
}
