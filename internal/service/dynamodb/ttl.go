package dynamodb

import (
	"context"
	"fmt"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/service/dynamodb/attr"
	"github.com/kiri-run/kiri/internal/store"
)

func (s *Service) updateTimeToLive(ctx context.Context, in *UpdateTimeToLiveInput) (*UpdateTimeToLiveOutput, error) {
	spec := in.TimeToLiveSpecification
	name, enable := awsproto.Value(spec.AttributeName), awsproto.Value(spec.Enabled)
	t, err := s.existingTable(ctx, in.TableName)
	if err != nil {
		return nil, err
	}
	err = s.st.Write(ctx, func(tx *store.Tx) error {
		cur, err := currentTable(tx, t)
		if err != nil {
			return err
		}
		switch {
		case enable && cur.Meta.TTLEnabled:
			return validation("TimeToLive is already enabled")
		case !enable && !cur.Meta.TTLEnabled:
			return validation("TimeToLive is already disabled")
		case !enable && cur.Meta.TTLAttr != name:
			return validation("TimeToLive is active on a different AttributeName: current AttributeName is " + cur.Meta.TTLAttr)
		}
		cur.Meta.TTLEnabled, cur.Meta.TTLAttr = enable, name
		if err := s.saveMeta(tx, cur); err != nil {
			return err
		}
		return refreshExpiry(tx, cur)
	})
	if err != nil {
		return nil, err
	}
	return &UpdateTimeToLiveOutput{TimeToLiveSpecification: spec}, nil
}

// refreshExpiry recomputes every item's expiry column after the table's TTL setting changed.
func refreshExpiry(tx *store.Tx, t *table) error {
	if !t.Meta.TTLEnabled {
		_, err := tx.Exec("UPDATE ddb_items SET expires = NULL WHERE table_id = ? AND expires IS NOT NULL", t.ID)
		return err
	}
	rows, err := tx.Query("SELECT hk, rk, item FROM ddb_items WHERE table_id = ?", t.ID)
	if err != nil {
		return fmt.Errorf("refresh expiry: %w", err)
	}
	type exp struct {
		k  itemKey
		at int64
	}
	var set []exp
	for rows.Next() {
		var k itemKey
		var b []byte
		if err := rows.Scan(&k.hk, &k.rk, &b); err != nil {
			rows.Close()
			return err
		}
		k.fix()
		item, err := attr.DecodeItem(b)
		if err != nil {
			rows.Close()
			return err
		}
		if at, ok := expiresAt(t, item); ok {
			set = append(set, exp{k, at})
		}
	}
	rows.Close()
	for _, e := range set {
		if _, err := tx.Exec(setExpiresSQL, e.at, t.ID, segment(e.k.hk), e.k.hk, e.k.rk); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) describeTimeToLive(ctx context.Context, in *DescribeTimeToLiveInput) (*DescribeTimeToLiveOutput, error) {
	t, err := s.existingTable(ctx, in.TableName)
	if err != nil {
		return nil, err
	}
	d := &TimeToLiveDescription{TimeToLiveStatus: awsproto.Ptr("DISABLED")}
	if t.Meta.TTLEnabled {
		d.TimeToLiveStatus, d.AttributeName = awsproto.Ptr("ENABLED"), awsproto.Ptr(t.Meta.TTLAttr)
	}
	return &DescribeTimeToLiveOutput{TimeToLiveDescription: d}, nil
}

// sweepBatch bounds the expired items one sweep write removes.
const sweepBatch = 100

// sweepExpired removes items past their time to live, a batch per write, each through
// applyChange as any delete.
func (s *Service) sweepExpired(ctx context.Context) error {
	for {
		now := s.now().Unix()
		n := 0
		err := s.st.Write(ctx, func(tx *store.Tx) error {
			rows, err := tx.Query("SELECT table_id, hk, rk FROM ddb_items WHERE expires IS NOT NULL AND expires < ? ORDER BY expires LIMIT ?", now, sweepBatch)
			if err != nil {
				return fmt.Errorf("find expired items: %w", err)
			}
			type expired struct {
				table int64
				k     itemKey
			}
			var due []expired
			for rows.Next() {
				var e expired
				if err := rows.Scan(&e.table, &e.k.hk, &e.k.rk); err != nil {
					rows.Close()
					return err
				}
				e.k.fix()
				due = append(due, e)
			}
			rows.Close()
			tables := map[int64]*table{}
			for _, e := range due {
				t, ok := tables[e.table]
				if !ok {
					if t, err = readTableByID(tx, e.table); err != nil {
						return err
					}
					tables[e.table] = t
				}
				if t == nil {
					continue // the purge of a deleted table removes it
				}
				old, err := loadItemTx(tx, t, e.k)
				if err != nil {
					return err
				}
				if err := s.applyChange(tx, t, change{key: e.k, old: old, expired: true}); err != nil {
					return err
				}
				n++
			}
			return nil
		})
		if err != nil || n < sweepBatch {
			return err
		}
	}
}
