package dynamodb

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/service/dynamodb/attr"
	"github.com/kiri-run/kiri/internal/service/dynamodb/expr"
	"github.com/kiri-run/kiri/internal/store"
)

// tokenWindow is how long a TransactWriteItems client request token makes repeats no-ops.
const tokenWindow = 10 * time.Minute

// txWrite is one action of a write transaction, checked before the transaction runs.
type txWrite struct {
	t       *table
	key     attr.Item
	k       itemKey
	cond    *expr.Condition
	put     attr.Item      // Put: the item
	update  *updateRequest // Update
	delete  bool
	onFail  *string // ReturnValuesOnConditionCheckFailure
	checkOp bool    // ConditionCheck
	insert  bool    // a PartiQL INSERT: refused when the item exists
}

// maxTransactSize is the most a write transaction's items may add up to: 4 MB.
const maxTransactSize = 4 << 20

// cancelReason is one entry of TransactionCanceledException's CancellationReasons.
type cancelReason struct {
	code, msg string
	item      attr.Item
}

// transactionCanceled is the TransactionCanceledException of reasons, one per action in
// request order ("None" for the actions that did not fail).
func transactionCanceled(reasons []cancelReason) *awsproto.Error {
	codes := make([]string, len(reasons))
	detail := &TransactionCanceledException{}
	for i, r := range reasons {
		codes[i] = r.code
		cr := CancellationReason{Code: awsproto.Ptr(r.code)}
		if r.msg != "" {
			cr.Message = awsproto.Ptr(r.msg)
		}
		if r.item != nil {
			cr.Item = toWireItem(r.item)
		}
		detail.CancellationReasons = append(detail.CancellationReasons, cr)
	}
	e := awsproto.Errorf("TransactionCanceledException", 400, "Transaction cancelled, please refer cancellation reasons for specific reasons [%s]", strings.Join(codes, ", "))
	e.Detail = detail
	return e
}

// parseTxWrite checks one TransactWriteItem.
func (s *Service) parseTxWrite(ctx context.Context, w TransactWriteItem) (*txWrite, error) {
	n := 0
	for _, set := range []bool{w.ConditionCheck != nil, w.Put != nil, w.Delete != nil, w.Update != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		return nil, validation("TransactItems can only contain one of Check, Put, Update or Delete")
	}
	tw := &txWrite{}
	var tableName *string
	var err error
	switch {
	case w.Put != nil:
		p := w.Put
		tableName, tw.onFail = p.TableName, p.ReturnValuesOnConditionCheckFailure
		if tw.cond, err = writeCondition(p.ConditionExpression, nil, nil, p.ExpressionAttributeNames, p.ExpressionAttributeValues); err != nil {
			return nil, err
		}
		if tw.put, err = fromWireItem(p.Item); err != nil {
			return nil, err
		}
	case w.Delete != nil:
		d := w.Delete
		tableName, tw.onFail, tw.delete = d.TableName, d.ReturnValuesOnConditionCheckFailure, true
		if tw.cond, err = writeCondition(d.ConditionExpression, nil, nil, d.ExpressionAttributeNames, d.ExpressionAttributeValues); err != nil {
			return nil, err
		}
		if tw.key, err = fromWireItem(d.Key); err != nil {
			return nil, err
		}
	case w.ConditionCheck != nil:
		c := w.ConditionCheck
		tableName, tw.onFail, tw.checkOp = c.TableName, c.ReturnValuesOnConditionCheckFailure, true
		if c.ConditionExpression == nil {
			return nil, validation("The ConditionExpression of a ConditionCheck must be specified")
		}
		if tw.cond, err = writeCondition(c.ConditionExpression, nil, nil, c.ExpressionAttributeNames, c.ExpressionAttributeValues); err != nil {
			return nil, err
		}
		if tw.key, err = fromWireItem(c.Key); err != nil {
			return nil, err
		}
	default:
		u := w.Update
		tableName, tw.onFail = u.TableName, u.ReturnValuesOnConditionCheckFailure
		if tw.update, err = parseUpdate(u.UpdateExpression, u.ConditionExpression, nil, nil, nil, u.ExpressionAttributeNames, u.ExpressionAttributeValues); err != nil {
			return nil, err
		}
		tw.cond = tw.update.cond
		if tw.key, err = fromWireItem(u.Key); err != nil {
			return nil, err
		}
	}
	if tw.t, err = s.tableFor(ctx, tableName); err != nil {
		return nil, err
	}
	if tw.put != nil {
		if err := tw.t.checkItem(tw.put); err != nil {
			return nil, err
		}
		if err := tw.put.CheckSize(); err != nil {
			return nil, err
		}
		tw.key = tw.t.keyItem(tw.put)
	} else if err := tw.t.checkKey(tw.key); err != nil {
		return nil, err
	}
	if tw.update != nil {
		if err := tw.update.checkKeys(tw.t); err != nil {
			return nil, err
		}
	}
	tw.k = tw.t.keyOf(tw.key)
	return tw, nil
}

func (s *Service) transactWriteItems(ctx context.Context, in *TransactWriteItemsInput) (*TransactWriteItemsOutput, error) {
	writes := make([]*txWrite, 0, len(in.TransactItems))
	seen := map[string]bool{}
	size := 0
	for _, w := range in.TransactItems {
		tw, err := s.parseTxWrite(ctx, w)
		if err != nil {
			return nil, olderWording(unwrapInvalidValue(err))
		}
		// What a transaction carries: the items it puts and the keys of its other actions.
		if tw.put != nil {
			size += tw.put.Size()
		} else {
			size += tw.key.Size()
		}
		if size > maxTransactSize {
			return nil, validation("The aggregate size of the items in the transaction exceeds 4 MB")
		}
		id := fmt.Sprintf("%d\x00%s\x00%s", tw.t.ID, tw.k.hk, tw.k.rk)
		if seen[id] {
			return nil, validation("Transaction request cannot include multiple operations on one item")
		}
		seen[id] = true
		writes = append(writes, tw)
	}
	var digest string
	token := awsproto.Value(in.ClientRequestToken)
	if token != "" {
		digest = requestDigest(in.TransactItems)
	}
	_, ccs, err := s.runWrites(ctx, writes, token, digest, true)
	var c *canceled
	if errors.As(err, &c) {
		return nil, transactionCanceled(c.reasons)
	}
	if err != nil {
		return nil, err
	}
	return &TransactWriteItemsOutput{ConsumedCapacity: capacities(ccs, in.ReturnConsumedCapacity)}, nil
}

// canceled is a write transaction some of whose actions failed: reasons has one entry per
// action.
type canceled struct{ reasons []cancelReason }

func (c *canceled) Error() string { return "transaction canceled" }

// outcome is what one action of a write transaction did.
type outcome struct{ old, new attr.Item }

// runWrites runs writes all or nothing in one store transaction: every condition is checked
// against the items as they are inside it, and if any fails nothing is written and the error
// is a *canceled. A client request token already used with the same parameters within ten
// minutes makes it a no-op.
func (s *Service) runWrites(ctx context.Context, writes []*txWrite, token, digest string, transactional bool) ([]outcome, map[string]*capacity, error) {
	ccs := map[string]*capacity{}
	outcomes := make([]outcome, len(writes))
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		clear(ccs)
		if token != "" {
			done, err := s.checkToken(tx, ctx, token, digest)
			if err != nil || done {
				return err
			}
		}
		reasons := make([]cancelReason, len(writes))
		failed := false
		changes := make([]change, len(writes))
		tables := make([]*table, len(writes))
		for i, w := range writes {
			reasons[i].code = "None"
			t, err := s.liveTx(tx, w.t)
			if err != nil {
				return err
			}
			tables[i] = t
			old, err := loadItemTx(tx, t, w.k)
			if err != nil {
				return err
			}
			outcomes[i].old = old
			if w.insert && old != nil {
				reasons[i] = cancelReason{code: "DuplicateItem", msg: "Duplicate primary key exists in table"}
				failed = true
				continue
			}
			if !conditionHolds(w.cond, old) {
				reasons[i] = cancelReason{code: "ConditionalCheckFailed", msg: "The conditional request failed", item: onFailure(w.onFail, old)}
				failed = true
				continue
			}
			ch := change{key: w.k, old: old}
			switch {
			case w.checkOp:
				continue
			case w.put != nil:
				ch.new = w.put
			case w.update != nil:
				item, err := w.update.apply(t, w.key, old)
				if err != nil {
					var ae *awsproto.Error
					if errors.As(err, &ae) && ae.Code == "ValidationException" {
						reasons[i] = cancelReason{code: "ValidationError", msg: ae.Message}
						failed = true
						continue
					}
					return err
				}
				ch.new = item
			}
			changes[i] = ch
			outcomes[i].new = ch.new
		}
		if failed {
			return &canceled{reasons: reasons}
		}
		for i, w := range writes {
			cc := capacityOf(ccs, tables[i])
			if w.checkOp {
				cc.addTable(attr.ReadUnits(0, true, transactional))
				continue
			}
			cc.addWrite(tables[i], changes[i], transactional)
			if err := s.applyChange(tx, tables[i], changes[i]); err != nil {
				return err
			}
		}
		return nil
	})
	return outcomes, ccs, err
}

// unwrapInvalidValue words an ExpressionAttributeValues refusal as the transactions do.
func unwrapInvalidValue(err error) error {
	var iv *expr.InvalidValueError
	if errors.As(err, &iv) {
		return validation(iv.Wrapped())
	}
	return err
}

// requestDigest identifies a transaction's parameters for its client request token
// (encoding/json writes map keys in order, so equal requests digest equally).
func requestDigest(items []TransactWriteItem) string {
	b, _ := json.Marshal(items)
	return requestDigestBytes(b)
}

func requestDigestBytes(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// checkToken records a client request token, or reports the transaction it names as already
// done: a repeat within ten minutes with the same parameters succeeds without running again,
// one with other parameters is refused.
func (s *Service) checkToken(tx *store.Tx, ctx context.Context, token, digest string) (done bool, err error) {
	account, region := callerScope(ctx)
	now := s.now()
	var prev string
	var at int64
	err = tx.QueryRow("SELECT digest, created_at FROM ddb_tokens WHERE account = ? AND region = ? AND token = ?", account, region, token).Scan(&prev, &at)
	switch {
	case err == nil && now.Sub(time.UnixMilli(at)) < tokenWindow:
		if prev != digest {
			return false, awsproto.Errorf("IdempotentParameterMismatchException", 400, "Request token conflicts with a previous request with different parameters")
		}
		return true, nil
	case err != nil && !isNoRows(err):
		return false, fmt.Errorf("read client request token: %w", err)
	}
	if _, err := tx.Exec("DELETE FROM ddb_tokens WHERE created_at < ?", now.Add(-tokenWindow).UnixMilli()); err != nil {
		return false, err
	}
	_, err = tx.Exec(`INSERT INTO ddb_tokens (account, region, token, digest, created_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (account, region, token) DO UPDATE SET digest = excluded.digest, created_at = excluded.created_at`,
		account, region, token, digest, now.UnixMilli())
	return false, err
}

func (s *Service) transactGetItems(ctx context.Context, in *TransactGetItemsInput) (*TransactGetItemsOutput, error) {
	type get struct {
		t    *table
		k    itemKey
		proj *expr.Projection
	}
	gets := make([]get, 0, len(in.TransactItems))
	seen := map[string]bool{}
	// A key that does not fit its table cancels the transaction, with that action's reason.
	reasons := make([]cancelReason, len(in.TransactItems))
	invalid := false
	for i, ti := range in.TransactItems {
		reasons[i] = cancelReason{code: "None"}
		g := ti.Get
		if g == nil {
			return nil, validation("1 validation error detected: Value null at 'transactItems.member.get' failed to satisfy constraint: Member must not be null")
		}
		proj, err := readProjection(g.ProjectionExpression, nil, g.ExpressionAttributeNames)
		if err != nil {
			return nil, err
		}
		t, err := s.tableFor(ctx, g.TableName)
		if err != nil {
			return nil, err
		}
		key, err := fromWireItem(g.Key)
		if err != nil {
			return nil, olderWording(err)
		}
		if err := t.checkKey(key); err != nil {
			var ae *awsproto.Error
			if !errors.As(err, &ae) {
				return nil, err
			}
			reasons[i], invalid = cancelReason{code: "ValidationError", msg: ae.Message}, true
			continue
		}
		k := t.keyOf(key)
		id := fmt.Sprintf("%d\x00%s\x00%s", t.ID, k.hk, k.rk)
		if seen[id] {
			return nil, validation("Transaction request cannot include multiple operations on one item")
		}
		seen[id] = true
		gets = append(gets, get{t: t, k: k, proj: proj})
	}
	if invalid {
		return nil, transactionCanceled(reasons)
	}
	out := &TransactGetItemsOutput{Responses: make([]ItemResponse, len(gets))}
	ccs := map[string]*capacity{}
	// The reads run in one store transaction, so they see one state of every item.
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		for i, g := range gets {
			t, err := s.liveTx(tx, g.t)
			if err != nil {
				return err
			}
			item, err := loadItemTx(tx, t, g.k)
			if err != nil {
				return err
			}
			cc := capacityOf(ccs, t)
			cc.addTable(attr.ReadUnits(item.Size(), true, true))
			if item != nil {
				out.Responses[i].Item = toWireItem(applyProjection(g.proj, item))
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out.ConsumedCapacity = capacities(ccs, in.ReturnConsumedCapacity)
	return out, nil
}
