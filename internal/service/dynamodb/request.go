package dynamodb

import (
	"errors"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/service/dynamodb/attr"
	"github.com/kiri-run/kiri/internal/service/dynamodb/expr"
)

// newParams checks a request's ExpressionAttributeNames and ExpressionAttributeValues.
func newParams(names map[string]string, values map[string]AttributeValue) (*expr.Params, error) {
	return expr.NewParams(names, values, fromWire)
}

func param(name string, set bool) expr.Param { return expr.Param{Name: name, Set: set} }

// expected converts a legacy Expected.
func expected(m map[string]ExpectedAttributeValue) (map[string]expr.ExpectedValue, error) {
	out := make(map[string]expr.ExpectedValue, len(m))
	for name, e := range m {
		ev := expr.ExpectedValue{Exists: e.Exists, ComparisonOperator: awsproto.Value(e.ComparisonOperator), HasList: e.AttributeValueList != nil}
		if e.Value != nil {
			v, err := fromWire(*e.Value)
			if err != nil {
				return nil, err
			}
			ev.Value = &v
		}
		vals, err := fromWireList(e.AttributeValueList)
		if err != nil {
			return nil, err
		}
		ev.AttributeValueList = vals
		out[name] = ev
	}
	return out, nil
}

// legacyConditions converts a legacy QueryFilter, ScanFilter or KeyConditions.
func legacyConditions(m map[string]Condition) (map[string]expr.LegacyCondition, error) {
	out := make(map[string]expr.LegacyCondition, len(m))
	for name, c := range m {
		vals, err := fromWireList(c.AttributeValueList)
		if err != nil {
			return nil, err
		}
		out[name] = expr.LegacyCondition{ComparisonOperator: awsproto.Value(c.ComparisonOperator), AttributeValueList: vals}
	}
	return out, nil
}

// attributeUpdates converts a legacy AttributeUpdates.
func attributeUpdates(m map[string]AttributeValueUpdate) (map[string]expr.AttributeUpdate, error) {
	out := make(map[string]expr.AttributeUpdate, len(m))
	for name, u := range m {
		au := expr.AttributeUpdate{Action: awsproto.Value(u.Action)}
		if u.Value != nil {
			v, err := fromWire(*u.Value)
			if err != nil {
				return nil, err
			}
			au.Value = &v
		}
		out[name] = au
	}
	return out, nil
}

// writeCondition parses the condition of a PutItem or DeleteItem (or a transaction's Put,
// Delete, ConditionCheck): a ConditionExpression or a legacy Expected. It checks unused
// placeholders. A nil Condition means none.
func writeCondition(condExpr *string, exp map[string]ExpectedAttributeValue, condOp *string,
	names map[string]string, values map[string]AttributeValue) (*expr.Condition, error) {
	if err := expr.CheckParams([]expr.Param{param("ConditionExpression", condExpr != nil)},
		[]expr.Param{param("Expected", exp != nil), param("ConditionalOperator", condOp != nil)}, names != nil, values != nil); err != nil {
		return nil, err
	}
	params, err := newParams(names, values)
	if err != nil {
		return nil, err
	}
	var cond *expr.Condition
	if condExpr != nil {
		if cond, err = params.Condition(expr.KindCondition, *condExpr); err != nil {
			return nil, err
		}
	} else if exp != nil {
		e, err := expected(exp)
		if err != nil {
			return nil, err
		}
		if cond, err = expr.ExpectedCondition(e, awsproto.Value(condOp)); err != nil {
			return nil, err
		}
	}
	if err := params.CheckUnused(); err != nil {
		return nil, err
	}
	return cond, nil
}

// readProjection parses the projection of a GetItem (or a batch's or transaction's get):
// a ProjectionExpression or a legacy AttributesToGet. A nil Projection returns everything.
func readProjection(projExpr *string, toGet []string, names map[string]string) (*expr.Projection, error) {
	if err := expr.CheckParams([]expr.Param{param("ProjectionExpression", projExpr != nil)},
		[]expr.Param{param("AttributesToGet", toGet != nil)}, names != nil, false); err != nil {
		return nil, err
	}
	params, err := newParams(names, nil)
	if err != nil {
		return nil, err
	}
	var p *expr.Projection
	if projExpr != nil {
		if p, err = params.Projection(*projExpr); err != nil {
			return nil, err
		}
	} else if toGet != nil {
		if p, err = expr.AttributesToGet(toGet); err != nil {
			return nil, err
		}
	}
	if err := params.CheckUnused(); err != nil {
		return nil, err
	}
	return p, nil
}

// applyProjection returns the part of item p selects.
func applyProjection(p *expr.Projection, item attr.Item) attr.Item {
	if p == nil || item == nil {
		return item
	}
	return p.Apply(item)
}

// conditionHolds evaluates a condition on the stored item (nil when none); a nil condition holds.
func conditionHolds(c *expr.Condition, item attr.Item) bool {
	return c == nil || c.Eval(item)
}

// onFailure is the item a ConditionalCheckFailedException carries: the old item when the
// request asked for ALL_OLD.
func onFailure(returnOnFailure *string, old attr.Item) attr.Item {
	if awsproto.Value(returnOnFailure) == "ALL_OLD" {
		return old
	}
	return nil
}

// keyParam checks a Key parameter, converted before the table was looked up (DynamoDB refuses
// a malformed value whether the table exists or not), against the table.
func keyParam(t *table, k attr.Item) (itemKey, error) {
	if err := t.checkKey(k); err != nil {
		return itemKey{}, err
	}
	return t.keyOf(k), nil
}

// asInvalidValue finds an ExpressionAttributeValues refusal in err.
func asInvalidValue(err error, target **expr.InvalidValueError) bool { return errors.As(err, target) }
