package dynamodb

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/service/dynamodb/attr"
	"github.com/kiri-run/kiri/internal/service/dynamodb/expr"
)

// maxPageSize is the most item data one Query or Scan page reads: 1 MB, before any filter.
const maxPageSize = 1 << 20

// readChunk is how many rows one store read fetches while a page fills.
const readChunk = 256

// rowPos is a row's position in the order a read walks: the scan segment, the (index) key,
// and for index rows the base table key.
type rowPos struct {
	seg              int
	hk, rk, bhk, brk []byte
}

// row is one item a read found.
type row struct {
	pos  rowPos
	size int
	item attr.Item
}

// rangeRead is one walk over a table or index: a query of one partition (hk, sort key bounds
// lo and hi, direction) or a scan of a range of segments, after a position.
type rangeRead struct {
	t      *table
	ix     *indexMeta
	scan   bool
	hk     []byte
	lo, hi []byte
	desc   bool
	segLo  int
	segHi  int
	after  *rowPos
}

// fetch reads up to n rows of the walk after r.after, as an index range scan: a query reads
// only its partition, in sort key order.
func (s *Service) fetch(ctx context.Context, r *rangeRead, n int) ([]row, error) {
	query, args := r.sql(n)
	rows, err := s.st.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("read items: %w", err)
	}
	defer rows.Close()
	var out []row
	for rows.Next() {
		var rw row
		var b []byte
		if err := rows.Scan(&rw.pos.seg, &rw.pos.hk, &rw.pos.rk, &rw.pos.bhk, &rw.pos.brk, &rw.size, &b); err != nil {
			return nil, fmt.Errorf("read items: %w", err)
		}
		for _, k := range []*[]byte{&rw.pos.hk, &rw.pos.rk, &rw.pos.bhk, &rw.pos.brk} {
			*k = keyBytes(*k)
		}
		if rw.item, err = attr.DecodeItem(b); err != nil {
			return nil, fmt.Errorf("decode item: %w", err)
		}
		out = append(out, rw)
	}
	return out, rows.Err()
}

// sql is the statement that reads up to n rows of the walk after r.after.
func (r *rangeRead) sql(n int) (string, []any) {
	var q strings.Builder
	var args []any
	index := r.ix != nil
	if index {
		q.WriteString("SELECT seg, hk, rk, bhk, brk, size, item FROM ddb_index_items WHERE table_id = ? AND idx = ?")
		args = append(args, r.t.ID, r.ix.Name)
	} else {
		q.WriteString("SELECT seg, hk, rk, hk, rk, size, item FROM ddb_items WHERE table_id = ?")
		args = append(args, r.t.ID)
	}
	var order []string
	if r.scan {
		q.WriteString(" AND seg >= ? AND seg < ?")
		args = append(args, r.segLo, r.segHi)
		order = []string{"seg", "hk", "rk"}
	} else {
		q.WriteString(" AND hk = ?")
		if !index {
			q.WriteString(" AND seg = ?") // the primary key leads with the partition's segment
			args = append(args, r.hk, segment(r.hk))
		} else {
			args = append(args, r.hk)
		}
		if r.lo != nil {
			q.WriteString(" AND rk >= ?")
			args = append(args, r.lo)
		}
		if r.hi != nil {
			q.WriteString(" AND rk < ?")
			args = append(args, r.hi)
		}
		order = []string{"rk"}
	}
	if index {
		order = append(order, "bhk", "brk")
	}
	if a := r.after; a != nil {
		cmp := ">"
		if r.desc {
			cmp = "<"
		}
		var vals []any
		for _, c := range order {
			switch c {
			case "seg":
				vals = append(vals, a.seg)
			case "hk":
				vals = append(vals, a.hk)
			case "rk":
				vals = append(vals, a.rk)
			case "bhk":
				vals = append(vals, a.bhk)
			case "brk":
				vals = append(vals, a.brk)
			}
		}
		fmt.Fprintf(&q, " AND (%s) %s (%s)", strings.Join(order, ", "), cmp, strings.TrimSuffix(strings.Repeat("?, ", len(order)), ", "))
		args = append(args, vals...)
	}
	dir := ""
	if r.desc {
		dir = " DESC"
	}
	q.WriteString(" ORDER BY " + strings.Join(order, dir+", ") + dir + " LIMIT ?")
	return q.String(), append(args, n)
}

// readSpec is what a Query or Scan returns of the items it reads.
type readSpec struct {
	filter     *expr.Condition
	projection *expr.Projection
	count      bool // Select COUNT
	limit      int  // 0: none
	consistent bool
	// fetchBase: items come from a local index that does not project what is asked for, so
	// each is read whole from the table.
	fetchBase bool
}

// readResult is one page of a Query or Scan.
type readResult struct {
	items   []attr.Item
	count   int
	scanned int
	size    int
	last    attr.Item // the key of the last item read when the page stopped short
}

// readPage walks r until the limit or the page size, applying the filter and projection.
func (s *Service) readPage(ctx context.Context, r *rangeRead, spec readSpec) (*readResult, error) {
	res := &readResult{}
	for {
		n := readChunk
		if spec.limit > 0 {
			n = min(n, spec.limit-res.scanned)
		}
		rows, err := s.fetch(ctx, r, n)
		if err != nil {
			return nil, err
		}
		for _, rw := range rows {
			res.scanned++
			res.size += rw.size
			item := rw.item
			if spec.fetchBase {
				full, err := s.loadItem(ctx, r.t, itemKey{hk: rw.pos.bhk, rk: rw.pos.brk})
				if err != nil {
					return nil, err
				}
				if full != nil {
					item = full
				}
			}
			if conditionHolds(spec.filter, item) {
				res.count++
				if !spec.count {
					res.items = append(res.items, applyProjection(spec.projection, item))
				}
			}
			pos := rw.pos
			r.after = &pos
			if (spec.limit > 0 && res.scanned >= spec.limit) || res.size >= maxPageSize {
				res.last = lastKey(r.t, r.ix, rw.item)
				return res, nil
			}
		}
		if len(rows) < n {
			return res, nil
		}
	}
}

// lastKey is the LastEvaluatedKey of an item: the table's key, and the index's for an index.
func lastKey(t *table, ix *indexMeta, item attr.Item) attr.Item {
	k := t.keyItem(item)
	if ix != nil {
		k[ix.Hash] = item[ix.Hash]
		if ix.Range != "" {
			k[ix.Range] = item[ix.Range]
		}
	}
	return k
}

// checkSegments checks a Scan's Segment and TotalSegments together.
func checkSegments(seg, total *int32) error {
	switch {
	case seg != nil && total == nil:
		return validation("The TotalSegments parameter is required but was not present in the request when Segment parameter is present")
	case total != nil && seg == nil:
		return validation("The Segment parameter is required but was not present in the request when parameter TotalSegments is present")
	case seg != nil && *seg >= *total:
		return validation(fmt.Sprintf("The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: %d is not less than TotalSegments: %d",
			*seg, *total))
	}
	return nil
}

// startKeyValues converts an ExclusiveStartKey's values, refused as DynamoDB words it: as an
// invalid starting key, except for the refusals of sets and numbers, which it words as
// anywhere else.
func startKeyValues(start map[string]AttributeValue) (attr.Item, error) {
	k, err := fromWireItem(start)
	if err == nil {
		return k, nil
	}
	err = olderWording(err)
	var ae *awsproto.Error
	if errors.As(err, &ae) && !unprefixedStartKeyError(ae.Message) {
		return nil, validation("The provided starting key is invalid: " + ae.Message)
	}
	return nil, err
}

func unprefixedStartKeyError(msg string) bool {
	for _, s := range []string{"contains duplicates", "number set", "numeric value", "significant digits", "number with magnitude"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// startPosition reads an ExclusiveStartKey: the table's key, and the index's for an index,
// with nothing else.
func startPosition(t *table, ix *indexMeta, start map[string]AttributeValue) (*rowPos, attr.Item, error) {
	if start == nil {
		return nil, nil, nil
	}
	k, err := startKeyValues(start)
	if err != nil {
		return nil, nil, err
	}
	bad := validation("The provided starting key is invalid: The provided key element does not match the schema")
	names := []string{t.Meta.Hash, t.Meta.Range}
	if ix != nil {
		names = append(names, ix.Hash, ix.Range)
	}
	want := map[string]bool{}
	for _, n := range names {
		if n == "" {
			continue
		}
		want[n] = true
		v, ok := k[n]
		if !ok || v.Type() != t.attrType(n) {
			return nil, nil, bad
		}
	}
	if len(k) != len(want) {
		return nil, nil, bad
	}
	base := t.keyOf(k)
	pos := &rowPos{hk: base.hk, rk: base.rk, bhk: base.hk, brk: base.rk}
	if ix != nil {
		ik := encodeKey(k, ix.Hash, ix.Range)
		pos.hk, pos.rk = ik.hk, ik.rk
	}
	pos.seg = segment(pos.hk)
	return pos, k, nil
}

// selectSpec applies Select: COUNT, or what items carry.
func selectSpec(sel *string, hasProjection bool, t *table, ix *indexMeta) (count, fetchBase bool, err error) {
	v := awsproto.Value(sel)
	switch v {
	case "":
	case "COUNT":
		if hasProjection {
			return false, false, validation("Cannot specify the AttributesToGet when choosing to get only the COUNT")
		}
		return true, false, nil
	case "SPECIFIC_ATTRIBUTES":
		if !hasProjection {
			return false, false, validation("Select type SPECIFIC_ATTRIBUTES requires AttributesToGet or ProjectionExpression")
		}
	case "ALL_ATTRIBUTES":
		if hasProjection {
			return false, false, validation("Cannot specify the AttributesToGet when choosing to get ALL_ATTRIBUTES")
		}
		if ix != nil && ix.ProjType != projectAll {
			if ix.Global {
				return false, false, invalidParams("Select type ALL_ATTRIBUTES is not supported for global secondary index " + ix.Name + " because its projection type is not ALL")
			}
			return false, true, nil
		}
	case "ALL_PROJECTED_ATTRIBUTES":
		if hasProjection {
			return false, false, validation("Cannot specify the AttributesToGet when choosing to get ALL_PROJECTED_ATTRIBUTES")
		}
		if ix == nil {
			return false, false, validation("ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName")
		}
	}
	// A projection on a local index that lacks attributes reads them from the table.
	if hasProjection && ix != nil && !ix.Global && ix.ProjType != projectAll {
		fetchBase = true
	}
	return false, fetchBase, nil
}

// readIndex resolves IndexName for a Query or Scan.
func readIndex(t *table, name *string, consistent bool) (*indexMeta, error) {
	if name == nil {
		return nil, nil
	}
	ix := t.index(*name)
	if ix == nil {
		return nil, validation("The table does not have the specified index: " + *name)
	}
	if ix.Global && consistent {
		return nil, validation("Consistent reads are not supported on global secondary indexes")
	}
	if ix.Status == statusCreating {
		return nil, validation("Cannot read from backfilling global secondary index: " + ix.Name)
	}
	return ix, nil
}

// readCapacity charges a read of size bytes to the table or the index read.
func readCapacity(t *table, ix *indexMeta, size int, consistent bool) *capacity {
	cc := newCapacity(t)
	units := attr.ReadUnits(size, consistent, false)
	if ix == nil {
		cc.addTable(units)
	} else {
		cc.addIndex(ix, units)
	}
	return cc
}

func (s *Service) query(ctx context.Context, in *QueryInput) (*QueryOutput, error) {
	useKeyConditions := in.KeyConditions != nil && in.KeyConditionExpression == nil
	legacy := []expr.Param{param("AttributesToGet", in.AttributesToGet != nil), param("QueryFilter", in.QueryFilter != nil),
		param("ConditionalOperator", in.ConditionalOperator != nil)}
	if !useKeyConditions {
		legacy = append(legacy, param("KeyConditions", in.KeyConditions != nil))
	}
	if err := expr.CheckParams([]expr.Param{param("ProjectionExpression", in.ProjectionExpression != nil),
		param("FilterExpression", in.FilterExpression != nil), param("KeyConditionExpression", in.KeyConditionExpression != nil)},
		legacy, in.ExpressionAttributeNames != nil, in.ExpressionAttributeValues != nil); err != nil {
		return nil, err
	}
	params, err := newParams(in.ExpressionAttributeNames, in.ExpressionAttributeValues)
	if err != nil {
		return nil, err
	}
	var kc *expr.KeyCondition
	switch {
	case in.KeyConditionExpression != nil:
		if kc, err = params.KeyCondition(*in.KeyConditionExpression); err != nil {
			return nil, err
		}
	case in.KeyConditions != nil:
		conds, err := legacyConditions(in.KeyConditions)
		if err != nil {
			return nil, err
		}
		if kc, err = expr.KeyConditions(conds); err != nil {
			return nil, err
		}
	default:
		return nil, validation("Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.")
	}
	spec := readSpec{limit: int(awsproto.Value(in.Limit)), consistent: awsproto.Value(in.ConsistentRead)}
	if spec.filter, spec.projection, err = readFilter(params, in.FilterExpression, in.QueryFilter, in.ConditionalOperator,
		in.ProjectionExpression, in.AttributesToGet); err != nil {
		return nil, err
	}
	if err := params.CheckUnused(); err != nil {
		return nil, err
	}
	if err := kc.Check(); err != nil {
		return nil, err
	}
	t, err := s.tableFor(ctx, in.TableName)
	if err != nil {
		return nil, err
	}
	ix, err := readIndex(t, in.IndexName, spec.consistent)
	if err != nil {
		return nil, err
	}
	schema := t.schema()
	if ix != nil {
		schema = t.indexSchema(ix)
	}
	kq, err := kc.Resolve(schema)
	if err != nil {
		return nil, err
	}
	if spec.count, spec.fetchBase, err = selectSpec(in.Select, spec.projection != nil, t, ix); err != nil {
		return nil, err
	}
	r := &rangeRead{t: t, ix: ix, hk: attr.AppendKey(nil, kq.Partition), desc: in.ScanIndexForward != nil && !*in.ScanIndexForward}
	if kq.Sort != nil {
		r.lo, r.hi = kq.Sort.Bounds()
	}
	pos, startKey, err := startPosition(t, ix, in.ExclusiveStartKey)
	if err != nil {
		return nil, err
	}
	if pos != nil {
		if string(pos.hk) != string(r.hk) {
			return nil, validation("The provided starting key is outside query boundaries based on provided conditions")
		}
		if kq.Sort != nil && !kq.Sort.Match(startKey[schema.Sort]) {
			return nil, validation("The provided starting key does not match the range key predicate")
		}
		r.after = pos
	}
	res, err := s.readPage(ctx, r, spec)
	if err != nil {
		return nil, err
	}
	out := &QueryOutput{Count: awsproto.Ptr(int32(res.count)), ScannedCount: awsproto.Ptr(int32(res.scanned)),
		ConsumedCapacity: readCapacity(t, ix, res.size, spec.consistent).wire(in.ReturnConsumedCapacity)}
	if !spec.count {
		out.Items = make([]map[string]AttributeValue, 0, len(res.items))
		out.Items = append(out.Items, toWireItems(res.items)...)
	}
	out.LastEvaluatedKey = toWireItem(res.last)
	return out, nil
}

// readFilter parses a read's filter and projection, expressions or legacy parameters.
func readFilter(params *expr.Params, filterExpr *string, filter map[string]Condition, condOp *string,
	projExpr *string, toGet []string) (*expr.Condition, *expr.Projection, error) {
	var f *expr.Condition
	var p *expr.Projection
	var err error
	if filterExpr != nil {
		if f, err = params.Condition(expr.KindFilter, *filterExpr); err != nil {
			return nil, nil, err
		}
	} else if filter != nil {
		conds, err := legacyConditions(filter)
		if err != nil {
			return nil, nil, err
		}
		if f, err = expr.FilterCondition(conds, awsproto.Value(condOp)); err != nil {
			return nil, nil, err
		}
	}
	if projExpr != nil {
		if p, err = params.Projection(*projExpr); err != nil {
			return nil, nil, err
		}
	} else if toGet != nil {
		if p, err = expr.AttributesToGet(toGet); err != nil {
			return nil, nil, err
		}
	}
	return f, p, nil
}

// segments is the number of scan hash values a Scan's segments divide.
const segments = 1 << 16

func (s *Service) scan(ctx context.Context, in *ScanInput) (*ScanOutput, error) {
	if err := expr.CheckParams([]expr.Param{param("ProjectionExpression", in.ProjectionExpression != nil), param("FilterExpression", in.FilterExpression != nil)},
		[]expr.Param{param("AttributesToGet", in.AttributesToGet != nil), param("ScanFilter", in.ScanFilter != nil),
			param("ConditionalOperator", in.ConditionalOperator != nil)},
		in.ExpressionAttributeNames != nil, in.ExpressionAttributeValues != nil); err != nil {
		return nil, err
	}
	// DynamoDB checks the legacy parameters' values and the start key's, then the segments,
	// then the expressions.
	segErr := checkSegments(in.Segment, in.TotalSegments)
	if segErr != nil && (in.FilterExpression != nil || in.ProjectionExpression != nil) {
		return nil, segErr
	}
	params, err := newParams(in.ExpressionAttributeNames, in.ExpressionAttributeValues)
	if err != nil {
		var iv *expr.InvalidValueError
		if asInvalidValue(err, &iv) {
			return nil, validation(iv.Wrapped())
		}
		return nil, err
	}
	spec := readSpec{limit: int(awsproto.Value(in.Limit)), consistent: awsproto.Value(in.ConsistentRead)}
	if spec.filter, spec.projection, err = readFilter(params, in.FilterExpression, in.ScanFilter, in.ConditionalOperator,
		in.ProjectionExpression, in.AttributesToGet); err != nil {
		return nil, olderWording(err)
	}
	if _, err := startKeyValues(in.ExclusiveStartKey); err != nil {
		return nil, err
	}
	if segErr != nil {
		return nil, segErr
	}
	if err := params.CheckUnused(); err != nil {
		return nil, err
	}
	t, err := s.tableFor(ctx, in.TableName)
	if err != nil {
		return nil, err
	}
	ix, err := readIndex(t, in.IndexName, spec.consistent)
	if err != nil {
		return nil, err
	}
	if spec.count, spec.fetchBase, err = selectSpec(in.Select, spec.projection != nil, t, ix); err != nil {
		return nil, err
	}
	r := &rangeRead{t: t, ix: ix, scan: true, segLo: 0, segHi: segments}
	if in.TotalSegments != nil {
		total, seg := int(*in.TotalSegments), int(*in.Segment)
		r.segLo, r.segHi = seg*segments/total, (seg+1)*segments/total
	}
	pos, _, err := startPosition(t, ix, in.ExclusiveStartKey)
	if err != nil {
		return nil, err
	}
	if pos != nil {
		if pos.seg < r.segLo || pos.seg >= r.segHi {
			return nil, validation("The provided Exclusive start key does not map to the provided Segment and TotalSegments values.")
		}
		r.after = pos
	}
	res, err := s.readPage(ctx, r, spec)
	if err != nil {
		return nil, err
	}
	out := &ScanOutput{Count: awsproto.Ptr(int32(res.count)), ScannedCount: awsproto.Ptr(int32(res.scanned)),
		ConsumedCapacity: readCapacity(t, ix, res.size, spec.consistent).wire(in.ReturnConsumedCapacity)}
	if !spec.count {
		out.Items = make([]map[string]AttributeValue, 0, len(res.items))
		out.Items = append(out.Items, toWireItems(res.items)...)
	}
	out.LastEvaluatedKey = toWireItem(res.last)
	return out, nil
}
