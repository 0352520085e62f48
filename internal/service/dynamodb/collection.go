package dynamodb

import (
	"fmt"
	"math"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/service/dynamodb/attr"
	"github.com/kiri-run/kiri/internal/store"
)

// collectionMetrics is the ItemCollectionMetrics of a write to the item collection of key (the
// item, or its key), read inside the write's transaction: DynamoDB reports them when the
// request asks for SIZE and the table has a local secondary index, and otherwise not at all.
// The size of a collection is that of its items and of their local index entries; the
// estimate is the whole gigabytes around it.
func collectionMetrics(tx *store.Tx, t *table, k itemKey, key attr.Item, want *string) (*ItemCollectionMetrics, error) {
	if awsproto.Value(want) != "SIZE" || len(t.Meta.LSIs) == 0 {
		return nil, nil
	}
	var size int64
	if err := tx.QueryRow(partitionSizeSQL, t.ID, segment(k.hk), k.hk).Scan(&size); err != nil {
		return nil, fmt.Errorf("item collection size: %w", err)
	}
	for _, ix := range t.Meta.LSIs {
		var n int64
		if err := tx.QueryRow("SELECT COALESCE(SUM(size), 0) FROM ddb_index_items WHERE table_id = ? AND idx = ? AND hk = ?", t.ID, ix.Name, k.hk).Scan(&n); err != nil {
			return nil, fmt.Errorf("item collection size: %w", err)
		}
		size += n
	}
	low := math.Floor(float64(size) / (1 << 30))
	return &ItemCollectionMetrics{
		ItemCollectionKey:   map[string]AttributeValue{t.Meta.Hash: toWire(key[t.Meta.Hash])},
		SizeEstimateRangeGB: []float64{low, low + 1},
	}, nil
}
