package dynamodb

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/queue"
	"github.com/kiri-run/kiri/internal/service/dynamodb/attr"
	"github.com/kiri-run/kiri/internal/store"
)

func (s *Service) updateTable(ctx context.Context, in *UpdateTableInput) (*UpdateTableOutput, error) {
	if in.BillingMode == nil && in.ProvisionedThroughput == nil && len(in.GlobalSecondaryIndexUpdates) == 0 &&
		in.DeletionProtectionEnabled == nil && in.StreamSpecification == nil && in.SSESpecification == nil && in.TableClass == nil {
		return nil, validation("At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required")
	}
	if err := unsupported(in.SSESpecification); err != nil {
		return nil, err
	}
	if len(in.ReplicaUpdates) > 0 {
		return nil, validation("Kiri does not provide global table replicas: ReplicaUpdates cannot be set")
	}
	if err := checkTableUpdate(in); err != nil {
		return nil, err
	}
	t, err := s.existingTable(ctx, in.TableName)
	if err != nil {
		return nil, err
	}
	var created []string
	var removed []string
	var out *table
	err = s.st.Write(ctx, func(tx *store.Tx) error {
		cur, err := currentTable(tx, t)
		if err != nil {
			return err
		}
		next := *cur
		next.Meta = cloneMeta(cur.Meta)
		if created, removed, err = s.changeTable(&next, in); err != nil {
			return err
		}
		if err := s.changeStream(tx, &next, in.StreamSpecification); err != nil {
			return err
		}
		if len(created) > 0 {
			next.Meta.Status = statusUpdating
		}
		if err := s.saveMeta(tx, &next); err != nil {
			return err
		}
		for _, name := range removed {
			if err := s.enqueuePurge(tx, purgeJob{TableID: t.ID, Index: name}); err != nil {
				return err
			}
		}
		for _, name := range created {
			b, _ := json.Marshal(purgeJob{TableID: t.ID, Index: name})
			if _, err := s.eng.Send(tx, topicBackfill, queue.Outgoing{Body: b}); err != nil {
				return err
			}
		}
		out = &next
		return nil
	})
	if err != nil {
		return nil, err
	}
	d, err := s.describe(ctx, out)
	if err != nil {
		return nil, err
	}
	for i := range d.GlobalSecondaryIndexes {
		if slices.Contains(removed, *d.GlobalSecondaryIndexes[i].IndexName) {
			d.GlobalSecondaryIndexes[i].IndexStatus = awsproto.Ptr(statusDeleting)
		}
	}
	return &UpdateTableOutput{TableDescription: d}, nil
}

// cloneMeta copies a definition deeply enough to change its indexes.
func cloneMeta(m tableMeta) tableMeta {
	m.Attrs = slices.Clone(m.Attrs)
	gsis := make([]*indexMeta, len(m.GSIs))
	for i, ix := range m.GSIs {
		c := *ix
		gsis[i] = &c
	}
	m.GSIs = gsis
	if m.Stream != nil {
		st := *m.Stream
		m.Stream = &st
	}
	return m
}

// changeTable applies an UpdateTable to t's definition, returning the global indexes it
// creates and deletes.
func (s *Service) changeTable(t *table, in *UpdateTableInput) (created, removed []string, err error) {
	m := &t.Meta
	if in.DeletionProtectionEnabled != nil {
		m.DeletionProtection = *in.DeletionProtectionEnabled
	}
	if in.TableClass != nil {
		m.TableClass = *in.TableClass
	}
	billing := m.Billing
	if in.BillingMode != nil && *in.BillingMode != m.Billing {
		billing = *in.BillingMode
		m.BillingChanged = s.now().UnixMilli()
	}
	if billing == billingOnDemand {
		if in.ProvisionedThroughput != nil {
			return nil, nil, invalidParams("Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST")
		}
		m.Read, m.Write = 0, 0
		for _, ix := range m.GSIs {
			ix.Read, ix.Write = 0, 0
		}
	} else if in.ProvisionedThroughput != nil {
		r, w := awsproto.Value(in.ProvisionedThroughput.ReadCapacityUnits), awsproto.Value(in.ProvisionedThroughput.WriteCapacityUnits)
		if m.Billing == billingProvisioned && r == m.Read && w == m.Write && len(in.GlobalSecondaryIndexUpdates) == 0 {
			return nil, nil, validation("The provisioned throughput for the table will not change. The requested value equals the current value. " +
				"Current ReadCapacityUnits provisioned for the table: " + strconv.FormatInt(m.Read, 10) + ". Requested ReadCapacityUnits: " + strconv.FormatInt(r, 10) +
				". Current WriteCapacityUnits provisioned for the table: " + strconv.FormatInt(m.Write, 10) + ". Requested WriteCapacityUnits: " + strconv.FormatInt(w, 10) +
				". Refer to the Amazon DynamoDB Developer Guide for current limits and how to request higher limits.")
		}
		m.Read, m.Write = r, w
	} else if billing != m.Billing {
		return nil, nil, invalidParams("ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED")
	}
	defs := m.Attrs
	for _, d := range attrDefs(in.AttributeDefinitions) {
		if i := slices.IndexFunc(defs, func(a attrDef) bool { return a.Name == d.Name }); i >= 0 {
			defs[i] = d
		} else {
			defs = append(defs, d)
		}
	}
	for _, u := range in.GlobalSecondaryIndexUpdates {
		switch {
		case u.Create != nil:
			c := u.Create
			ix, err := indexDef(c.IndexName, c.KeySchema, c.Projection, true)
			if err != nil {
				return nil, nil, err
			}
			if t.index(ix.Name) != nil {
				return nil, nil, invalidParams("Index with name: " + ix.Name + " already exists")
			}
			if ix.Read, ix.Write, err = throughput(billing, c.ProvisionedThroughput, ix.Name); err != nil {
				return nil, nil, err
			}
			ix.Status = statusCreating
			m.GSIs = append(m.GSIs, ix)
			created = append(created, ix.Name)
		case u.Delete != nil:
			name := awsproto.Value(u.Delete.IndexName)
			i := slices.IndexFunc(m.GSIs, func(ix *indexMeta) bool { return ix.Name == name })
			if i < 0 {
				return nil, nil, awsproto.Errorf("ResourceNotFoundException", 400, "Requested resource not found: Index: %s not found", name)
			}
			m.GSIs = slices.Delete(m.GSIs, i, i+1)
			removed = append(removed, name)
		case u.Update != nil:
			ix := t.index(awsproto.Value(u.Update.IndexName))
			if ix == nil || !ix.Global {
				return nil, nil, awsproto.Errorf("ResourceNotFoundException", 400, "Requested resource not found: Index: %s not found", awsproto.Value(u.Update.IndexName))
			}
			r, w, err := throughput(billing, u.Update.ProvisionedThroughput, ix.Name)
			if err != nil {
				return nil, nil, err
			}
			ix.Read, ix.Write = r, w
		}
	}
	if len(created)+len(removed) > 1 {
		return nil, nil, limitExceeded("Subscriber limit exceeded: Only 1 online index can be created or deleted simultaneously per table")
	}
	if len(created) > 0 {
		for _, ix := range m.GSIs {
			if ix.Status == statusCreating && ix.Name != created[0] {
				return nil, nil, limitExceeded("Subscriber limit exceeded: Only 1 online index can be created or deleted simultaneously per table")
			}
		}
	}
	if billing == billingProvisioned && m.Billing == billingOnDemand {
		for _, ix := range m.GSIs {
			if ix.Read == 0 {
				return nil, nil, invalidParams("ProvisionedThroughput must be specified for index: " + ix.Name)
			}
		}
	}
	m.Billing = billing
	if err := checkIndexes(m); err != nil {
		return nil, nil, err
	}
	// Definitions keep only the key attributes of the table and its indexes.
	used := keyNames(m)
	var kept []attrDef
	for _, d := range defs {
		if slices.Contains(used, d.Name) {
			kept = append(kept, d)
		}
	}
	for _, n := range used {
		if !slices.ContainsFunc(kept, func(a attrDef) bool { return a.Name == n }) {
			return nil, nil, invalidParams("Global Secondary Index hash key not specified in Attribute Definitions.Type unknown.")
		}
	}
	m.Attrs = kept
	return created, removed, nil
}

// backfill fills a global secondary index UpdateTable added from the table's items, then makes
// it ACTIVE, in one write: items written meanwhile already have their entries, and the index
// serves no query until it is whole.
func (s *Service) backfill(ctx context.Context, m queue.Message) error {
	var j purgeJob
	if err := json.Unmarshal(m.Body, &j); err != nil {
		return nil
	}
	return s.st.Write(ctx, func(tx *store.Tx) error {
		t, err := readTableByID(tx, j.TableID)
		if err != nil || t == nil {
			return err
		}
		ix := t.index(j.Index)
		if ix == nil || ix.Status != statusCreating {
			return nil
		}
		rows, err := tx.Query("SELECT hk, rk, item FROM ddb_items WHERE table_id = ?", t.ID)
		if err != nil {
			return fmt.Errorf("backfill %s: %w", ix.Name, err)
		}
		type entry struct {
			base itemKey
			item attr.Item
		}
		var entries []entry
		for rows.Next() {
			var e entry
			var b []byte
			if err := rows.Scan(&e.base.hk, &e.base.rk, &b); err != nil {
				rows.Close()
				return err
			}
			e.base.fix()
			if e.item, err = attr.DecodeItem(b); err != nil {
				rows.Close()
				return err
			}
			entries = append(entries, e)
		}
		rows.Close()
		for _, e := range entries {
			if t.checkIndexKeys(e.item) != nil {
				continue // an item the index cannot hold is left out, as DynamoDB reports a violation
			}
			if k, proj, ok := indexEntry(t, ix, e.item); ok {
				if err := putIndexEntry(tx, t, ix, k, e.base, proj); err != nil {
					return err
				}
			}
		}
		ix.Status = statusActive
		t.Meta.Status = statusActive
		for _, o := range t.Meta.GSIs {
			if o.Status == statusCreating {
				t.Meta.Status = statusUpdating
			}
		}
		return s.saveMeta(tx, t)
	})
}

// readTableByID reads a table by its row id inside a write, nil when it is gone.
func readTableByID(tx *store.Tx, id int64) (*table, error) {
	var k tableKey
	err := tx.QueryRow("SELECT account, region, name FROM ddb_tables WHERE id = ?", id).Scan(&k.Account, &k.Region, &k.Name)
	if err != nil {
		if isNoRows(err) {
			return nil, nil
		}
		return nil, err
	}
	return readTableTx(tx, k)
}

// checkTableUpdate makes the checks DynamoDB makes of an UpdateTable request before it looks
// the table up: capacity bounds, and one update per index, each naming what it does.
func checkTableUpdate(in *UpdateTableInput) error {
	if err := throughputBounds(in.ProvisionedThroughput); err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, u := range in.GlobalSecondaryIndexUpdates {
		var name *string
		switch {
		case u.Update != nil:
			name = u.Update.IndexName
		case u.Create != nil:
			name = u.Create.IndexName
		case u.Delete != nil:
			name = u.Delete.IndexName
		default:
			return invalidParams("One of GlobalSecondaryIndexUpdate.Update, GlobalSecondaryIndexUpdate.Create, GlobalSecondaryIndexUpdate.Delete must not be null")
		}
		if n := awsproto.Value(name); seen[n] {
			return invalidParams("Only one global secondary index update per index is allowed simultaneously. Index: " + n)
		} else {
			seen[n] = true
		}
	}
	return nil
}
