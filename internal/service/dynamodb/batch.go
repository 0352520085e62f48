package dynamodb

import (
	"context"
	"slices"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/service/dynamodb/attr"
	"github.com/kiri-run/kiri/internal/service/dynamodb/expr"
	"github.com/kiri-run/kiri/internal/store"
)

// Batch limits.
const (
	maxBatchGetKeys     = 100
	maxBatchWrites      = 25
	maxBatchGetResponse = 16 << 20
)

func sortedNames[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// batchGet is one table's part of a BatchGetItem.
type batchGet struct {
	name       string
	t          *table
	keys       []itemKey
	wire       []map[string]AttributeValue
	projection *expr.Projection
	consistent bool
}

func (s *Service) batchGetItem(ctx context.Context, in *BatchGetItemInput) (*BatchGetItemOutput, error) {
	total := 0
	for _, ka := range in.RequestItems {
		total += len(ka.Keys)
	}
	if total > maxBatchGetKeys {
		return nil, validation("Too many items requested for the BatchGetItem call")
	}
	// Every value is checked before any table is looked up, as DynamoDB does.
	keys := map[string][]attr.Item{}
	projections := map[string]*expr.Projection{}
	for _, name := range sortedNames(in.RequestItems) {
		ka := in.RequestItems[name]
		proj, err := readProjection(ka.ProjectionExpression, ka.AttributesToGet, ka.ExpressionAttributeNames)
		if err != nil {
			return nil, err
		}
		projections[name] = proj
		for _, wk := range ka.Keys {
			key, err := fromWireItem(wk)
			if err != nil {
				return nil, err
			}
			keys[name] = append(keys[name], key)
		}
	}
	var gets []*batchGet
	for _, name := range sortedNames(in.RequestItems) {
		ka := in.RequestItems[name]
		t, err := s.tableFor(ctx, awsproto.Ptr(name))
		if err != nil {
			return nil, err
		}
		g := &batchGet{name: name, t: t, projection: projections[name], consistent: awsproto.Value(ka.ConsistentRead)}
		seen := map[string]bool{}
		for i, key := range keys[name] {
			k, err := keyParam(t, key)
			if err != nil {
				return nil, err
			}
			id := string(k.hk) + "\x00" + string(k.rk)
			if seen[id] {
				return nil, validation("Provided list of item keys contains duplicates")
			}
			seen[id] = true
			g.keys = append(g.keys, k)
			g.wire = append(g.wire, ka.Keys[i])
		}
		gets = append(gets, g)
	}
	out := &BatchGetItemOutput{Responses: map[string][]map[string]AttributeValue{}, UnprocessedKeys: map[string]KeysAndAttributes{}}
	ccs := map[string]*capacity{}
	size := 0
	for _, g := range gets {
		cc := newCapacity(g.t)
		ccs[g.name] = cc
		out.Responses[g.name] = []map[string]AttributeValue{}
		for i, k := range g.keys {
			if size >= maxBatchGetResponse {
				ka := in.RequestItems[g.name]
				un := out.UnprocessedKeys[g.name]
				un.Keys = append(un.Keys, g.wire[i])
				un.ConsistentRead, un.ProjectionExpression = ka.ConsistentRead, ka.ProjectionExpression
				un.ExpressionAttributeNames, un.AttributesToGet = ka.ExpressionAttributeNames, ka.AttributesToGet
				out.UnprocessedKeys[g.name] = un
				continue
			}
			item, err := s.loadItem(ctx, g.t, k)
			if err != nil {
				return nil, err
			}
			cc.addTable(attr.ReadUnits(item.Size(), g.consistent, false))
			if item != nil {
				size += item.Size()
				out.Responses[g.name] = append(out.Responses[g.name], toWireItem(applyProjection(g.projection, item)))
			}
		}
	}
	out.ConsumedCapacity = capacities(ccs, in.ReturnConsumedCapacity)
	return out, nil
}

// batchWrite is one request of a BatchWriteItem.
type batchWrite struct {
	t    *table
	key  itemKey
	item attr.Item // nil: a delete
}

func (s *Service) batchWriteItem(ctx context.Context, in *BatchWriteItemInput) (*BatchWriteItemOutput, error) {
	total := 0
	for _, reqs := range in.RequestItems {
		total += len(reqs)
	}
	if total > maxBatchWrites {
		return nil, validation("Too many items requested for the BatchWriteItem call")
	}
	// Every value is checked before any table is looked up, as DynamoDB does: the requests'
	// items and keys are converted (and puts held to the item size limit) first.
	type request struct{ item, key attr.Item }
	requests := map[string][]request{}
	for _, name := range sortedNames(in.RequestItems) {
		for _, r := range in.RequestItems[name] {
			switch {
			case r.PutRequest != nil && r.DeleteRequest == nil:
				item, err := fromWireItem(r.PutRequest.Item)
				if err != nil {
					return nil, olderWording(err)
				}
				if err := item.CheckSize(); err != nil {
					return nil, err
				}
				requests[name] = append(requests[name], request{item: item})
			case r.DeleteRequest != nil && r.PutRequest == nil:
				key, err := fromWireItem(r.DeleteRequest.Key)
				if err != nil {
					return nil, olderWording(err)
				}
				requests[name] = append(requests[name], request{key: key})
			default:
				return nil, validation("Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes")
			}
		}
	}
	var writes []batchWrite
	for _, name := range sortedNames(in.RequestItems) {
		t, err := s.tableFor(ctx, awsproto.Ptr(name))
		if err != nil {
			return nil, err
		}
		seen := map[string]bool{}
		for _, r := range requests[name] {
			var w batchWrite
			if r.item != nil {
				if err := t.checkItem(r.item); err != nil {
					return nil, err
				}
				w = batchWrite{t: t, key: t.keyOf(r.item), item: r.item}
			} else {
				if err := t.checkKey(r.key); err != nil {
					return nil, err
				}
				w = batchWrite{t: t, key: t.keyOf(r.key)}
			}
			id := string(w.key.hk) + "\x00" + string(w.key.rk)
			if seen[id] {
				return nil, validation("Provided list of item keys contains duplicates")
			}
			seen[id] = true
			writes = append(writes, w)
		}
	}
	ccs := map[string]*capacity{}
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		live := map[int64]*table{}
		for _, w := range writes {
			t, ok := live[w.t.ID]
			if !ok {
				var err error
				if t, err = s.liveTx(tx, w.t); err != nil {
					return err
				}
				live[w.t.ID] = t
			}
			old, err := loadItemTx(tx, t, w.key)
			if err != nil {
				return err
			}
			ch := change{key: w.key, old: old, new: w.item}
			cc := capacityOf(ccs, t)
			cc.addWrite(t, ch, false)
			if err := s.applyChange(tx, t, ch); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &BatchWriteItemOutput{UnprocessedItems: map[string][]WriteRequest{}, ConsumedCapacity: capacities(ccs, in.ReturnConsumedCapacity)}, nil
}
