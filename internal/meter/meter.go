// Package meter records usage per account and resource: requests, MB-milliseconds of function
// time and the like, in one-minute buckets in the store. Usage is summed in memory and written
// once a second (and on Close), so metering costs one store write per second, not one per
// request; a crash loses at most the last second of usage, never user data.
package meter

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/kiri-run/kiri/internal/store"
)

// Kinds of usage.
const (
	// LambdaRequests counts function invocations.
	LambdaRequests = "lambda.requests"
	// LambdaMBMilliseconds is billed duration times configured memory (MB·ms); GB-s = /1024/1000.
	LambdaMBMilliseconds = "lambda.mb-ms"
)

var migrations = []store.Migration{{Version: 1, SQL: `
CREATE TABLE meter_usage (
	account  TEXT NOT NULL,
	region   TEXT NOT NULL,
	resource TEXT NOT NULL,
	kind     TEXT NOT NULL,
	minute   BIGINT NOT NULL,
	quantity BIGINT NOT NULL,
	PRIMARY KEY (account, region, resource, kind, minute)
);`}}

// Usage is an amount of one kind of usage by one resource (e.g. a function ARN).
type Usage struct {
	Account, Region, Resource, Kind string
	Quantity                        int64
}

// Record is usage summed over one minute.
type Record struct {
	Usage
	Minute time.Time
}

type key struct {
	account, region, resource, kind string
	minute                          int64
}

// Meter sums usage and writes it to the store.
type Meter struct {
	st  *store.Store
	log *slog.Logger
	now func() time.Time

	mu      sync.Mutex
	pending map[key]int64
}

// New migrates the meter's table.
func New(ctx context.Context, st *store.Store, log *slog.Logger) (*Meter, error) {
	if err := st.Migrate(ctx, "meter", migrations); err != nil {
		return nil, fmt.Errorf("migrate meter: %w", err)
	}
	return &Meter{st: st, log: log, now: time.Now, pending: map[key]int64{}}, nil
}

// Add counts usage now. It never blocks on the store.
func (m *Meter) Add(u Usage) {
	if m == nil || u.Quantity == 0 {
		return
	}
	k := key{u.Account, u.Region, u.Resource, u.Kind, m.now().Unix() / 60 * 60}
	m.mu.Lock()
	m.pending[k] += u.Quantity
	m.mu.Unlock()
}

// Run writes pending usage every second until ctx ends, then once more.
func (m *Meter) Run(ctx context.Context) error {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return m.Flush(context.WithoutCancel(ctx))
		case <-t.C:
			if err := m.Flush(ctx); err != nil {
				m.log.Warn("meter flush failed; will retry", "err", err)
			}
		}
	}
}

// Flush writes pending usage in one transaction. On failure the usage stays pending.
func (m *Meter) Flush(ctx context.Context) error {
	m.mu.Lock()
	batch := m.pending
	m.pending = map[key]int64{}
	m.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	err := m.st.Write(ctx, func(tx *store.Tx) error {
		for k, q := range batch {
			if _, err := tx.Exec(`INSERT INTO meter_usage (account, region, resource, kind, minute, quantity) VALUES (?, ?, ?, ?, ?, ?)
				ON CONFLICT (account, region, resource, kind, minute) DO UPDATE SET quantity = meter_usage.quantity + excluded.quantity`,
				k.account, k.region, k.resource, k.kind, k.minute, q); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		m.mu.Lock()
		for k, q := range batch {
			m.pending[k] += q
		}
		m.mu.Unlock()
		return fmt.Errorf("write usage: %w", err)
	}
	return nil
}

// Usage returns the recorded usage of an account since a time, by minute, resource and kind.
func (m *Meter) Usage(ctx context.Context, account string, since time.Time) ([]Record, error) {
	rows, err := m.st.Query(ctx, `SELECT region, resource, kind, minute, quantity FROM meter_usage
		WHERE account = ? AND minute >= ? ORDER BY minute, resource, kind`, account, since.Unix()/60*60)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Record
	for rows.Next() {
		r := Record{Usage: Usage{Account: account}}
		var minute int64
		if err := rows.Scan(&r.Region, &r.Resource, &r.Kind, &minute, &r.Quantity); err != nil {
			return nil, err
		}
		r.Minute = time.Unix(minute, 0).UTC()
		out = append(out, r)
	}
	return out, rows.Err()
}
