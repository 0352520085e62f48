package dynamodb

import (
	"context"
	"errors"
	"slices"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/service/dynamodb/attr"
	"github.com/kiri-run/kiri/internal/service/dynamodb/expr"
	"github.com/kiri-run/kiri/internal/store"
)

// checkReturnValues refuses a ReturnValues the operation does not offer.
func checkReturnValues(rv *string, allowed ...string) error {
	if rv == nil || slices.Contains(allowed, *rv) || *rv == "NONE" {
		return nil
	}
	return validation("Return values set to invalid value")
}

func (s *Service) putItem(ctx context.Context, in *PutItemInput) (*PutItemOutput, error) {
	if err := checkReturnValues(in.ReturnValues, "ALL_OLD"); err != nil {
		return nil, err
	}
	cond, err := writeCondition(in.ConditionExpression, in.Expected, in.ConditionalOperator, in.ExpressionAttributeNames, in.ExpressionAttributeValues)
	if err != nil {
		return nil, err
	}
	item, err := fromWireItem(in.Item)
	if err != nil {
		return nil, err
	}
	if err := item.CheckSize(); err != nil {
		return nil, err
	}
	t, err := s.tableFor(ctx, in.TableName)
	if err != nil {
		return nil, err
	}
	if err := t.checkItem(item); err != nil {
		return nil, err
	}
	var old attr.Item
	var icm *ItemCollectionMetrics
	cc := newCapacity(t)
	err = s.st.Write(ctx, func(tx *store.Tx) error {
		t, err := s.liveTx(tx, t)
		if err != nil {
			return err
		}
		k := t.keyOf(item)
		if old, err = loadItemTx(tx, t, k); err != nil {
			return err
		}
		if !conditionHolds(cond, old) {
			return conditionFailed(onFailure(in.ReturnValuesOnConditionCheckFailure, old))
		}
		ch := change{key: k, old: old, new: item}
		cc.addWrite(t, ch, false)
		if err := s.applyChange(tx, t, ch); err != nil {
			return err
		}
		icm, err = collectionMetrics(tx, t, k, item, in.ReturnItemCollectionMetrics)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := &PutItemOutput{ConsumedCapacity: cc.wire(in.ReturnConsumedCapacity), ItemCollectionMetrics: icm}
	if awsproto.Value(in.ReturnValues) == "ALL_OLD" && old != nil {
		out.Attributes = toWireItem(old)
	}
	return out, nil
}

func (s *Service) getItem(ctx context.Context, in *GetItemInput) (*GetItemOutput, error) {
	proj, err := readProjection(in.ProjectionExpression, in.AttributesToGet, in.ExpressionAttributeNames)
	if err != nil {
		return nil, err
	}
	key, err := fromWireItem(in.Key)
	if err != nil {
		return nil, err
	}
	t, err := s.tableFor(ctx, in.TableName)
	if err != nil {
		return nil, err
	}
	k, err := keyParam(t, key)
	if err != nil {
		return nil, err
	}
	item, err := s.loadItem(ctx, t, k)
	if err != nil {
		return nil, err
	}
	cc := newCapacity(t)
	cc.addTable(attr.ReadUnits(item.Size(), awsproto.Value(in.ConsistentRead), false))
	out := &GetItemOutput{ConsumedCapacity: cc.wire(in.ReturnConsumedCapacity)}
	if item != nil {
		out.Item = toWireItem(applyProjection(proj, item))
	}
	return out, nil
}

func (s *Service) deleteItem(ctx context.Context, in *DeleteItemInput) (*DeleteItemOutput, error) {
	if err := checkReturnValues(in.ReturnValues, "ALL_OLD"); err != nil {
		return nil, err
	}
	cond, err := writeCondition(in.ConditionExpression, in.Expected, in.ConditionalOperator, in.ExpressionAttributeNames, in.ExpressionAttributeValues)
	if err != nil {
		return nil, err
	}
	key, err := fromWireItem(in.Key)
	if err != nil {
		return nil, err
	}
	t, err := s.tableFor(ctx, in.TableName)
	if err != nil {
		return nil, err
	}
	k, err := keyParam(t, key)
	if err != nil {
		return nil, err
	}
	var old attr.Item
	var icm *ItemCollectionMetrics
	cc := newCapacity(t)
	err = s.st.Write(ctx, func(tx *store.Tx) error {
		t, err := s.liveTx(tx, t)
		if err != nil {
			return err
		}
		if old, err = loadItemTx(tx, t, k); err != nil {
			return err
		}
		if !conditionHolds(cond, old) {
			return conditionFailed(onFailure(in.ReturnValuesOnConditionCheckFailure, old))
		}
		ch := change{key: k, old: old}
		cc.addWrite(t, ch, false)
		if err := s.applyChange(tx, t, ch); err != nil {
			return err
		}
		icm, err = collectionMetrics(tx, t, k, key, in.ReturnItemCollectionMetrics)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := &DeleteItemOutput{ConsumedCapacity: cc.wire(in.ReturnConsumedCapacity), ItemCollectionMetrics: icm}
	if awsproto.Value(in.ReturnValues) == "ALL_OLD" && old != nil {
		out.Attributes = toWireItem(old)
	}
	return out, nil
}

// updateRequest is a parsed UpdateItem (or a transaction's Update).
type updateRequest struct {
	update *expr.Update // nil: the item is created with its key alone, or left as it is
	cond   *expr.Condition
}

// parseUpdate parses an UpdateItem's update and condition, expressions or legacy parameters.
func parseUpdate(updExpr, condExpr *string, updates map[string]AttributeValueUpdate, exp map[string]ExpectedAttributeValue, condOp *string,
	names map[string]string, values map[string]AttributeValue) (*updateRequest, error) {
	if err := expr.CheckParams(
		[]expr.Param{param("UpdateExpression", updExpr != nil), param("ConditionExpression", condExpr != nil)},
		[]expr.Param{param("AttributeUpdates", updates != nil), param("Expected", exp != nil), param("ConditionalOperator", condOp != nil)},
		names != nil, values != nil); err != nil {
		return nil, err
	}
	params, err := newParams(names, values)
	if err != nil {
		return nil, err
	}
	r := &updateRequest{}
	if updExpr != nil {
		if r.update, err = params.Update(*updExpr); err != nil {
			return nil, err
		}
	} else if updates != nil {
		u, err := attributeUpdates(updates)
		if err != nil {
			return nil, err
		}
		if r.update, err = expr.AttributeUpdates(u); err != nil {
			return nil, err
		}
	}
	if condExpr != nil {
		if r.cond, err = params.Condition(expr.KindCondition, *condExpr); err != nil {
			return nil, err
		}
	} else if exp != nil {
		e, err := expected(exp)
		if err != nil {
			return nil, err
		}
		if r.cond, err = expr.ExpectedCondition(e, awsproto.Value(condOp)); err != nil {
			return nil, err
		}
	}
	if err := params.CheckUnused(); err != nil {
		return nil, err
	}
	return r, nil
}

// checkUpdateKeys refuses an update of a key attribute.
func (r *updateRequest) checkKeys(t *table) error {
	if r.update == nil {
		return nil
	}
	for _, a := range r.update.Actions() {
		if t.isKey(a.Path.Head()) {
			return invalidParams("Cannot update attribute " + a.Path.Head() + ". This attribute is part of the key")
		}
	}
	return nil
}

// apply works out the new item from the stored one (nil when there is none) and the key.
func (r *updateRequest) apply(t *table, key, old attr.Item) (attr.Item, error) {
	base := old
	if base == nil {
		base = key.Clone()
	}
	if r.update == nil {
		return base, nil
	}
	item, err := r.update.Apply(base)
	if err != nil {
		return nil, err
	}
	if item.Size() > attr.MaxItemSize {
		return nil, attr.ErrUpdatedItemTooLarge()
	}
	if err := t.checkIndexKeys(item); err != nil {
		return nil, err
	}
	return item, nil
}

func (s *Service) updateItem(ctx context.Context, in *UpdateItemInput) (*UpdateItemOutput, error) {
	req, err := parseUpdate(in.UpdateExpression, in.ConditionExpression, in.AttributeUpdates, in.Expected, in.ConditionalOperator,
		in.ExpressionAttributeNames, in.ExpressionAttributeValues)
	if err != nil {
		return nil, err
	}
	key, err := fromWireItem(in.Key)
	if err != nil {
		return nil, err
	}
	t, err := s.tableFor(ctx, in.TableName)
	if err != nil {
		return nil, err
	}
	k, err := keyParam(t, key)
	if err != nil {
		return nil, err
	}
	if err := req.checkKeys(t); err != nil {
		return nil, err
	}
	var old, item attr.Item
	var icm *ItemCollectionMetrics
	cc := newCapacity(t)
	err = s.st.Write(ctx, func(tx *store.Tx) error {
		t, err := s.liveTx(tx, t)
		if err != nil {
			return err
		}
		if old, err = loadItemTx(tx, t, k); err != nil {
			return err
		}
		if !conditionHolds(req.cond, old) {
			return conditionFailed(onFailure(in.ReturnValuesOnConditionCheckFailure, old))
		}
		if item, err = req.apply(t, key, old); err != nil {
			return err
		}
		ch := change{key: k, old: old, new: item}
		cc.addWrite(t, ch, false)
		if err := s.applyChange(tx, t, ch); err != nil {
			return err
		}
		icm, err = collectionMetrics(tx, t, k, key, in.ReturnItemCollectionMetrics)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := &UpdateItemOutput{ConsumedCapacity: cc.wire(in.ReturnConsumedCapacity), ItemCollectionMetrics: icm}
	out.Attributes = toWireItem(returned(awsproto.Value(in.ReturnValues), req.update, old, item))
	return out, nil
}

// returned is what UpdateItem's ReturnValues asks for; nil for nothing.
func returned(rv string, u *expr.Update, old, item attr.Item) attr.Item {
	var out attr.Item
	switch rv {
	case "ALL_OLD":
		out = old
	case "ALL_NEW":
		out = item
	case "UPDATED_OLD":
		if u != nil && old != nil {
			out = u.Changed(old)
		}
	case "UPDATED_NEW":
		if u != nil {
			out = u.Changed(item)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// isConditionFailed reports a ConditionalCheckFailedException.
func isConditionFailed(err error) bool {
	var ae *awsproto.Error
	return errors.As(err, &ae) && ae.Code == "ConditionalCheckFailedException"
}
