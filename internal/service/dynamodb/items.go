package dynamodb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/kiri-run/kiri/internal/service/dynamodb/attr"
	"github.com/kiri-run/kiri/internal/store"
)

// change is one item change in a write transaction: the item's key and its images before and
// after (nil for none). It is what a stream record will be written from.
type change struct {
	key      itemKey
	old, new attr.Item
	// expired marks a time-to-live deletion: its stream record names DynamoDB as the actor.
	expired bool
}

// The statements that name one item or one partition by its primary key, which leads with the
// partition's scan segment: each passes segment(hk) with hk.
const (
	selectItemSQL    = "SELECT item FROM ddb_items WHERE table_id = ? AND seg = ? AND hk = ? AND rk = ?"
	deleteItemSQL    = "DELETE FROM ddb_items WHERE table_id = ? AND seg = ? AND hk = ? AND rk = ?"
	setExpiresSQL    = "UPDATE ddb_items SET expires = ? WHERE table_id = ? AND seg = ? AND hk = ? AND rk = ?"
	partitionSizeSQL = "SELECT COALESCE(SUM(size), 0) FROM ddb_items WHERE table_id = ? AND seg = ? AND hk = ?"
)

// applyChange writes one item change inside tx: the item row, every secondary index entry, and
// the time-to-live column. It is the single path of every item change (puts, updates, deletes,
// batches, transactions, PartiQL, TTL expiry), holding both images in the write transaction, so
// a stream record can be written here in the same transaction.
func (s *Service) applyChange(tx *store.Tx, t *table, c change) error {
	if c.new == nil {
		if c.old == nil {
			return nil
		}
		if _, err := tx.Exec(deleteItemSQL, t.ID, segment(c.key.hk), c.key.hk, c.key.rk); err != nil {
			return fmt.Errorf("delete item: %w", err)
		}
	} else {
		enc := attr.AppendItem(nil, c.new)
		var expires any
		if e, ok := expiresAt(t, c.new); ok {
			expires = e
		}
		if _, err := tx.Exec(`INSERT INTO ddb_items (table_id, hk, rk, seg, expires, size, item) VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (table_id, seg, hk, rk) DO UPDATE SET expires = excluded.expires, size = excluded.size, item = excluded.item`,
			t.ID, c.key.hk, c.key.rk, segment(c.key.hk), expires, c.new.Size(), enc); err != nil {
			return fmt.Errorf("write item: %w", err)
		}
	}
	for _, ix := range t.indexes() {
		if err := s.indexChange(tx, t, ix, c); err != nil {
			return err
		}
	}
	return s.recordChange(tx, t, c)
}

// indexEntry is an item's entry in a secondary index: its index key and projected item, or
// ok false when the item lacks an index key attribute (a sparse index leaves it out).
func indexEntry(t *table, ix *indexMeta, item attr.Item) (k itemKey, projected attr.Item, ok bool) {
	if item == nil {
		return k, nil, false
	}
	if _, has := item[ix.Hash]; !has {
		return k, nil, false
	}
	if ix.Range != "" {
		if _, has := item[ix.Range]; !has {
			return k, nil, false
		}
	}
	return encodeKey(item, ix.Hash, ix.Range), project(t, ix, item), true
}

// project returns the attributes of item an index holds.
func project(t *table, ix *indexMeta, item attr.Item) attr.Item {
	if ix.ProjType == projectAll {
		return item
	}
	out := t.keyItem(item)
	out[ix.Hash] = item[ix.Hash]
	if ix.Range != "" {
		out[ix.Range] = item[ix.Range]
	}
	for _, n := range ix.NonKey {
		if v, ok := item[n]; ok {
			out[n] = v
		}
	}
	return out
}

// indexChange keeps one index's entry of a changed item.
func (s *Service) indexChange(tx *store.Tx, t *table, ix *indexMeta, c change) error {
	ok, _, hadOld := indexEntry(t, ix, c.old)
	nk, newProj, hasNew := indexEntry(t, ix, c.new)
	if hadOld && (!hasNew || string(ok.hk) != string(nk.hk) || string(ok.rk) != string(nk.rk)) {
		if _, err := tx.Exec("DELETE FROM ddb_index_items WHERE table_id = ? AND idx = ? AND hk = ? AND rk = ? AND bhk = ? AND brk = ?",
			t.ID, ix.Name, ok.hk, ok.rk, c.key.hk, c.key.rk); err != nil {
			return fmt.Errorf("delete index entry: %w", err)
		}
	}
	if hasNew {
		return putIndexEntry(tx, t, ix, nk, c.key, newProj)
	}
	return nil
}

func putIndexEntry(tx *store.Tx, t *table, ix *indexMeta, k, base itemKey, projected attr.Item) error {
	if _, err := tx.Exec(`INSERT INTO ddb_index_items (table_id, idx, hk, rk, bhk, brk, seg, size, item) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (table_id, idx, hk, rk, bhk, brk) DO UPDATE SET size = excluded.size, item = excluded.item`,
		t.ID, ix.Name, k.hk, k.rk, base.hk, base.rk, segment(k.hk), projected.Size(), attr.AppendItem(nil, projected)); err != nil {
		return fmt.Errorf("write index entry: %w", err)
	}
	return nil
}

// expiresAt is the epoch second an item expires at under the table's time to live: its TTL
// attribute when that is a number.
func expiresAt(t *table, item attr.Item) (int64, bool) {
	if !t.Meta.TTLEnabled || t.Meta.TTLAttr == "" {
		return 0, false
	}
	v, ok := item[t.Meta.TTLAttr]
	if !ok || v.Type() != attr.N {
		return 0, false
	}
	f, err := strconv.ParseFloat(v.Text(), 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) || f > math.MaxInt64/2 || f < 0 {
		return 0, false
	}
	return int64(f), true
}

// loadItemTx reads an item inside a write, nil when there is none.
func loadItemTx(tx *store.Tx, t *table, k itemKey) (attr.Item, error) {
	var b []byte
	err := tx.QueryRow(selectItemSQL, t.ID, segment(k.hk), k.hk, k.rk).Scan(&b)
	return decodeRow(b, err)
}

// loadItem reads an item, nil when there is none. Reads are always strongly consistent.
func (s *Service) loadItem(ctx context.Context, t *table, k itemKey) (attr.Item, error) {
	var b []byte
	err := s.st.QueryRow(ctx, selectItemSQL, t.ID, segment(k.hk), k.hk, k.rk).Scan(&b)
	return decodeRow(b, err)
}

func decodeRow(b []byte, err error) (attr.Item, error) {
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read item: %w", err)
	}
	item, err := attr.DecodeItem(b)
	if err != nil {
		return nil, fmt.Errorf("decode item: %w", err)
	}
	return item, nil
}

// keyBytes is a key column as bound: an empty key part (a table without a sort key) is an
// empty BLOB, never NULL, which a scan of an empty BLOB returns.
func keyBytes(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// fix restores the empty parts of a key read from the store.
func (k *itemKey) fix() { k.hk, k.rk = keyBytes(k.hk), keyBytes(k.rk) }
