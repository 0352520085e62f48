package dynamodb

import (
	"context"
	"strings"
	"testing"

	"github.com/kiri-run/kiri/internal/service/dynamodb/attr"
	"github.com/kiri-run/kiri/internal/service/servicetest"
	"github.com/kiri-run/kiri/internal/store/storetest"
)

// TestReadsAreIndexRangeScans checks SQLite's plan of every read Query and Scan make: each is a
// search of an index (the items' primary key, an index's key, or the scan order), never a
// scan of the whole table, and needs no sort.
func TestReadsAreIndexRangeScans(t *testing.T) {
	t.Parallel()
	st := storetest.Open(t, storetest.SQLiteConfig(t))
	if _, err := New(context.Background(), servicetest.DepsOn(t, st)); err != nil {
		t.Fatal(err)
	}
	tbl := &table{ID: 1, Meta: tableMeta{Hash: "pk", Range: "sk"}}
	ix := &indexMeta{Name: "gsi", Hash: "g", Range: "s", Global: true}
	k := attr.AppendKey(nil, attr.Str("a"))
	after := &rowPos{hk: k, rk: k, bhk: k, brk: k}
	for _, tc := range []struct {
		name string
		r    rangeRead
	}{
		{"query", rangeRead{t: tbl, hk: k}},
		{"query with bounds, after a key, descending", rangeRead{t: tbl, hk: k, lo: k, hi: k, desc: true, after: after}},
		{"index query after a key", rangeRead{t: tbl, ix: ix, hk: k, lo: k, after: after}},
		{"scan of a segment after a key", rangeRead{t: tbl, scan: true, segLo: 10, segHi: 20, after: after}},
		{"index scan", rangeRead{t: tbl, ix: ix, scan: true, segHi: segments}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q, args := tc.r.sql(10)
			rows, err := st.Query(context.Background(), "EXPLAIN QUERY PLAN "+q, args...)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var plan []string
			for rows.Next() {
				var id, parent, unused int
				var detail string
				if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
					t.Fatal(err)
				}
				plan = append(plan, detail)
			}
			joined := strings.Join(plan, "; ")
			if !strings.HasPrefix(joined, "SEARCH ") || strings.Contains(joined, "TEMP B-TREE") {
				t.Fatalf("plan of %s: %s", q, joined)
			}
		})
	}
}

// TestItemStatementsUseThePrimaryKey: the statements naming one item or partition search the
// primary key by (table_id, seg, hk[, rk]), never walking a table's rows.
func TestItemStatementsUseThePrimaryKey(t *testing.T) {
	t.Parallel()
	st := storetest.Open(t, storetest.SQLiteConfig(t))
	if _, err := New(context.Background(), servicetest.DepsOn(t, st)); err != nil {
		t.Fatal(err)
	}
	k := attr.AppendKey(nil, attr.Str("a"))
	seg := segment(k)
	for _, tc := range []struct {
		q    string
		args []any
		want string
	}{
		{selectItemSQL, []any{1, seg, k, k}, "seg=? AND hk=? AND rk=?"},
		{deleteItemSQL, []any{1, seg, k, k}, "seg=? AND hk=? AND rk=?"},
		{setExpiresSQL, []any{0, 1, seg, k, k}, "seg=? AND hk=? AND rk=?"},
		{partitionSizeSQL, []any{1, seg, k}, "seg=? AND hk=?"},
	} {
		rows, err := st.Query(context.Background(), "EXPLAIN QUERY PLAN "+tc.q, tc.args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		if joined := strings.Join(plan, "; "); !strings.HasPrefix(joined, "SEARCH ") || !strings.Contains(joined, tc.want) {
			t.Errorf("plan of %s: %s", tc.q, joined)
		}
	}
}
