package dynamodb

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/iam/authz"
	"github.com/kiri-run/kiri/internal/service/dynamodb/attr"
	"github.com/kiri-run/kiri/internal/service/dynamodb/expr"
	"github.com/kiri-run/kiri/internal/service/dynamodb/partiql"
)

// PartiQL statements run as the operations they amount to: a SELECT as a Query of the
// partition its WHERE names by equality (else a Scan), with WHERE as the filter; INSERT,
// UPDATE and DELETE as conditional writes of the one item their WHERE names by its whole key.
// Statements are translated into DynamoDB's expression language (package expr), so they
// evaluate exactly as expressions do.

func (s *Service) registerStatementOps() {
	awsproto.Handle(s.api, "ExecuteStatement", s.executeStatement)
	awsproto.Handle(s.api, "BatchExecuteStatement", s.batchExecuteStatement)
	awsproto.Handle(s.api, "ExecuteTransaction", s.executeTransaction)
}

// parseStatement parses a statement and converts its parameters.
func parseStatement(src string, params []AttributeValue) (*partiql.Statement, []attr.Value, error) {
	st, err := partiql.Parse(src)
	if err != nil {
		return nil, nil, validation(err.Error())
	}
	if st.Params != len(params) {
		return nil, nil, validation("Number of parameters in request and statement don't match.")
	}
	vals, err := fromWireList(params)
	if err != nil {
		return nil, nil, err
	}
	return st, vals, nil
}

// translator writes PartiQL expressions as expression-language text with placeholders.
type translator struct {
	params []attr.Value
	names  map[string]string
	values map[string]attr.Value
	byName map[string]string
}

func newTranslator(params []attr.Value) *translator {
	return &translator{params: params, names: map[string]string{}, values: map[string]attr.Value{}, byName: map[string]string{}}
}

func (tr *translator) exprParams() *expr.Params {
	names, values := tr.names, tr.values
	if len(names) == 0 {
		names = nil
	}
	if len(values) == 0 {
		values = nil
	}
	p, _ := expr.ValueParams(names, values) // placeholders the translator made are valid
	return p
}

func (tr *translator) name(n string) string {
	if ph, ok := tr.byName[n]; ok {
		return ph
	}
	ph := "#n" + strconv.Itoa(len(tr.names))
	tr.names[ph], tr.byName[n] = n, ph
	return ph
}

func (tr *translator) placeholder(v attr.Value) string {
	ph := ":v" + strconv.Itoa(len(tr.values))
	tr.values[ph] = v
	return ph
}

func (tr *translator) path(p partiql.Path) string {
	var b strings.Builder
	for i, e := range p {
		switch {
		case e.Index >= 0:
			b.WriteString("[" + strconv.Itoa(e.Index) + "]")
		case i == 0:
			b.WriteString(tr.name(e.Name))
		default:
			b.WriteString("." + tr.name(e.Name))
		}
	}
	return b.String()
}

var errStatement = validation("Statement wasn't well formed, can't be processed: Unsupported expression")

// value evaluates a literal or parameter (lists, maps and sets of them) to a value.
func (tr *translator) value(e partiql.Expr) (attr.Value, error) {
	switch x := e.(type) {
	case *partiql.Lit:
		switch x.Kind {
		case partiql.LitString:
			return attr.Str(x.Text), nil
		case partiql.LitNumber:
			return attr.Num(x.Text)
		case partiql.LitBool:
			return attr.Bool(x.Bool), nil
		default:
			return attr.Null(), nil
		}
	case *partiql.Param:
		return tr.params[x.Index], nil
	case *partiql.List:
		out := make([]attr.Value, len(x.Elems))
		for i, el := range x.Elems {
			v, err := tr.value(el)
			if err != nil {
				return attr.Value{}, err
			}
			out[i] = v
		}
		return attr.List(out), nil
	case *partiql.Map:
		m := make(map[string]attr.Value, len(x.Keys))
		for i, k := range x.Keys {
			v, err := tr.value(x.Elems[i])
			if err != nil {
				return attr.Value{}, err
			}
			if _, dup := m[k]; dup {
				return attr.Value{}, validation("Duplicate attribute name " + k + " in the item")
			}
			m[k] = v
		}
		return attr.Map(m), nil
	case *partiql.SetLit:
		var members []attr.Value
		for _, el := range x.Elems {
			v, err := tr.value(el)
			if err != nil {
				return attr.Value{}, err
			}
			members = append(members, v)
		}
		return setOf(members)
	}
	return attr.Value{}, errStatement
}

// setOf builds a set from members of one scalar type.
func setOf(members []attr.Value) (attr.Value, error) {
	if len(members) == 0 {
		return attr.Value{}, validation("Set must not be empty")
	}
	t := members[0].Type()
	var texts []string
	var bins [][]byte
	for _, m := range members {
		if m.Type() != t {
			return attr.Value{}, validation("Set elements must all be of the same type: strings, numbers or binaries")
		}
		texts = append(texts, m.Text())
		bins = append(bins, m.Bytes())
	}
	switch t {
	case attr.S:
		return attr.StrSet(texts)
	case attr.N:
		return attr.NumSet(texts)
	case attr.B:
		return attr.BinSet(bins)
	}
	return attr.Value{}, validation("Set elements must all be of the same type: strings, numbers or binaries")
}

// operand writes a value or path used in a condition or a SET.
func (tr *translator) operand(e partiql.Expr) (string, error) {
	switch x := e.(type) {
	case *partiql.PathRef:
		return tr.path(x.Path), nil
	case *partiql.Binary:
		if x.Op != "+" && x.Op != "-" {
			return "", errStatement
		}
		l, err := tr.operand(x.L)
		if err != nil {
			return "", err
		}
		r, err := tr.operand(x.R)
		if err != nil {
			return "", err
		}
		return l + " " + x.Op + " " + r, nil
	case *partiql.Call:
		args := make([]string, len(x.Args))
		for i, a := range x.Args {
			s, err := tr.operand(a)
			if err != nil {
				return "", err
			}
			args[i] = s
		}
		return x.Name + "(" + strings.Join(args, ", ") + ")", nil
	}
	v, err := tr.value(e)
	if err != nil {
		return "", err
	}
	return tr.placeholder(v), nil
}

// cond writes a WHERE condition.
func (tr *translator) cond(e partiql.Expr) (string, error) {
	switch x := e.(type) {
	case *partiql.Binary:
		if x.Op == "AND" || x.Op == "OR" {
			l, err := tr.cond(x.L)
			if err != nil {
				return "", err
			}
			r, err := tr.cond(x.R)
			if err != nil {
				return "", err
			}
			return "(" + l + ") " + x.Op + " (" + r + ")", nil
		}
		l, err := tr.operand(x.L)
		if err != nil {
			return "", err
		}
		r, err := tr.operand(x.R)
		if err != nil {
			return "", err
		}
		return l + " " + x.Op + " " + r, nil
	case *partiql.Not:
		c, err := tr.cond(x.X)
		if err != nil {
			return "", err
		}
		return "NOT (" + c + ")", nil
	case *partiql.Between:
		parts := make([]string, 3)
		for i, o := range []partiql.Expr{x.X, x.Lo, x.Hi} {
			s, err := tr.operand(o)
			if err != nil {
				return "", err
			}
			parts[i] = s
		}
		return parts[0] + " BETWEEN " + parts[1] + " AND " + parts[2], nil
	case *partiql.In:
		l, err := tr.operand(x.X)
		if err != nil {
			return "", err
		}
		var items []string
		for _, el := range x.List {
			s, err := tr.operand(el)
			if err != nil {
				return "", err
			}
			items = append(items, s)
		}
		return l + " IN (" + strings.Join(items, ", ") + ")", nil
	case *partiql.Missing:
		p, ok := x.X.(*partiql.PathRef)
		if !ok {
			return "", errStatement
		}
		if x.Not {
			return "attribute_exists(" + tr.path(p.Path) + ")", nil
		}
		return "attribute_not_exists(" + tr.path(p.Path) + ")", nil
	case *partiql.Call:
		return tr.operand(x)
	}
	return "", errStatement
}

// keyEqualities collects the top-level `name = value` conjuncts of a WHERE.
func (tr *translator) keyEqualities(e partiql.Expr, out map[string]attr.Value) {
	b, ok := e.(*partiql.Binary)
	if !ok {
		return
	}
	switch b.Op {
	case "AND":
		tr.keyEqualities(b.L, out)
		tr.keyEqualities(b.R, out)
	case "=":
		l, r := b.L, b.R
		if _, ok := r.(*partiql.PathRef); ok {
			l, r = r, l
		}
		p, ok := l.(*partiql.PathRef)
		if !ok || len(p.Path) != 1 || p.Path[0].Index >= 0 {
			return
		}
		if v, err := tr.value(r); err == nil {
			out[p.Path[0].Name] = v
		}
	}
}

// statementKey is the whole primary key a write's WHERE names by equality.
func statementKey(t *table, tr *translator, where partiql.Expr) (attr.Item, error) {
	eq := map[string]attr.Value{}
	if where != nil {
		tr.keyEqualities(where, eq)
	}
	key := attr.Item{}
	for _, n := range []string{t.Meta.Hash, t.Meta.Range} {
		if n == "" {
			continue
		}
		v, ok := eq[n]
		if !ok {
			return nil, validation("Where clause does not contain a mandatory equality on all key attributes")
		}
		key[n] = v
	}
	if err := t.checkKey(key); err != nil {
		return nil, err
	}
	return key, nil
}

// writePlan turns an INSERT, UPDATE or DELETE into a transaction action.
func (s *Service) writePlan(ctx context.Context, st *partiql.Statement, params []attr.Value) (*txWrite, error) {
	t, err := s.tableFor(ctx, &st.Table)
	if err != nil {
		return nil, err
	}
	tr := newTranslator(params)
	w := &txWrite{t: t}
	switch st.Kind {
	case partiql.Insert:
		v, err := tr.value(st.Item)
		if err != nil {
			return nil, err
		}
		if v.Type() != attr.M {
			return nil, validation("Unsupported operation: Inserting a value other than a map is not supported")
		}
		w.put, w.insert = attr.Item(v.MapValues()), true
		if err := t.checkItem(w.put); err != nil {
			return nil, err
		}
		if err := w.put.CheckSize(); err != nil {
			return nil, err
		}
		w.key = t.keyItem(w.put)
	case partiql.Update, partiql.Delete:
		if w.key, err = statementKey(t, tr, st.Where); err != nil {
			return nil, err
		}
		cond, err := tr.cond(st.Where)
		if err != nil {
			return nil, err
		}
		// UPDATE needs the item to exist; DELETE of an absent item does nothing.
		if st.Kind == partiql.Update {
			cond = "(" + cond + ") AND attribute_exists(" + tr.name(t.Meta.Hash) + ")"
		} else {
			cond = "attribute_not_exists(" + tr.name(t.Meta.Hash) + ") OR (" + cond + ")"
		}
		var upd string
		if st.Kind == partiql.Update {
			if upd, err = tr.update(st); err != nil {
				return nil, err
			}
		}
		p := tr.exprParams()
		if w.cond, err = p.Condition(expr.KindCondition, cond); err != nil {
			return nil, err
		}
		if st.Kind == partiql.Update {
			u, err := p.Update(upd)
			if err != nil {
				return nil, err
			}
			w.update = &updateRequest{update: u, cond: w.cond}
			if err := w.update.checkKeys(t); err != nil {
				return nil, err
			}
		} else {
			w.delete = true
		}
	default:
		return nil, validation("Unsupported operation: a SELECT cannot be part of a write")
	}
	w.k = t.keyOf(w.key)
	return w, nil
}

// update writes an UPDATE's SET and REMOVE clauses as an update expression: set_add and
// set_delete become ADD and DELETE.
func (tr *translator) update(st *partiql.Statement) (string, error) {
	var sets, adds, dels, removes []string
	for _, set := range st.Sets {
		target := tr.path(set.Path)
		if c, ok := set.Value.(*partiql.Call); ok && (c.Name == "set_add" || c.Name == "set_delete") && len(c.Args) == 2 {
			v, err := tr.value(c.Args[1])
			if err != nil {
				return "", err
			}
			if c.Name == "set_add" {
				adds = append(adds, target+" "+tr.placeholder(v))
			} else {
				dels = append(dels, target+" "+tr.placeholder(v))
			}
			continue
		}
		v, err := tr.operand(set.Value)
		if err != nil {
			return "", err
		}
		sets = append(sets, target+" = "+v)
	}
	for _, r := range st.Removes {
		removes = append(removes, tr.path(r))
	}
	var b []string
	for _, c := range []struct {
		kw    string
		parts []string
	}{{"SET", sets}, {"REMOVE", removes}, {"ADD", adds}, {"DELETE", dels}} {
		if len(c.parts) > 0 {
			b = append(b, c.kw+" "+strings.Join(c.parts, ", "))
		}
	}
	return strings.Join(b, " "), nil
}

// statementError is what a failed single statement answers.
func statementError(err error) error {
	var c *canceled
	if !errors.As(err, &c) {
		return err
	}
	r := c.reasons[0]
	switch r.code {
	case "DuplicateItem":
		return awsproto.Errorf("DuplicateItemException", http.StatusBadRequest, "Duplicate primary key exists in table")
	case "ConditionalCheckFailed":
		return conditionFailed(r.item)
	}
	return validation(r.msg)
}

func (s *Service) executeStatement(ctx context.Context, in *ExecuteStatementInput) (*ExecuteStatementOutput, error) {
	st, params, err := parseStatement(awsproto.Value(in.Statement), in.Parameters)
	if err != nil {
		return nil, err
	}
	if st.Kind == partiql.Select {
		return s.selectStatement(ctx, st, params, in)
	}
	if in.NextToken != nil || in.Limit != nil {
		return nil, validation("Limit and NextToken can only be used with a SELECT statement")
	}
	w, err := s.writePlan(ctx, st, params)
	if err != nil {
		return nil, err
	}
	w.onFail = in.ReturnValuesOnConditionCheckFailure
	outs, ccs, err := s.runWrites(ctx, []*txWrite{w}, "", "", false)
	if err != nil {
		return nil, statementError(err)
	}
	out := &ExecuteStatementOutput{Items: []map[string]AttributeValue{}}
	if cc := ccs[w.t.Key.Name]; cc != nil {
		out.ConsumedCapacity = cc.wire(in.ReturnConsumedCapacity)
	}
	if ret := returning(st, w, outs[0]); ret != nil {
		out.Items = append(out.Items, toWireItem(ret))
	}
	return out, nil
}

// returning is what a write's RETURNING clause asks for.
func returning(st *partiql.Statement, w *txWrite, o outcome) attr.Item {
	var u *expr.Update
	if w.update != nil {
		u = w.update.update
	}
	switch st.Returning {
	case "ALL OLD":
		return returned("ALL_OLD", u, o.old, o.new)
	case "ALL NEW":
		return returned("ALL_NEW", u, o.old, o.new)
	case "MODIFIED OLD":
		return returned("UPDATED_OLD", u, o.old, o.new)
	case "MODIFIED NEW":
		return returned("UPDATED_NEW", u, o.old, o.new)
	}
	return nil
}

// selectStatement runs a SELECT: a Query of the partition WHERE names, else a Scan.
func (s *Service) selectStatement(ctx context.Context, st *partiql.Statement, params []attr.Value, in *ExecuteStatementInput) (*ExecuteStatementOutput, error) {
	t, err := s.tableFor(ctx, &st.Table)
	if err != nil {
		return nil, err
	}
	consistent := awsproto.Value(in.ConsistentRead)
	var ix *indexMeta
	if st.Index != "" {
		if ix, err = readIndex(t, &st.Index, consistent); err != nil {
			return nil, err
		}
	}
	tr := newTranslator(params)
	spec := readSpec{limit: int(awsproto.Value(in.Limit)), consistent: consistent}
	var condSrc, projSrc string
	if st.Where != nil {
		if condSrc, err = tr.cond(st.Where); err != nil {
			return nil, err
		}
	}
	if st.Projection != nil {
		var paths []string
		for _, p := range st.Projection {
			paths = append(paths, tr.path(p))
		}
		projSrc = strings.Join(paths, ", ")
	}
	p := tr.exprParams()
	if condSrc != "" {
		if spec.filter, err = p.Condition(expr.KindFilter, condSrc); err != nil {
			return nil, err
		}
	}
	var proj *expr.Projection
	if projSrc != "" {
		if proj, err = p.Projection(projSrc); err != nil {
			return nil, err
		}
	}
	r := &rangeRead{t: t, ix: ix, scan: true, segHi: segments}
	hash := t.Meta.Hash
	if ix != nil {
		hash = ix.Hash
	}
	eq := map[string]attr.Value{}
	if st.Where != nil {
		tr.keyEqualities(st.Where, eq)
	}
	if v, ok := eq[hash]; ok && v.Type() == t.attrType(hash) {
		r.scan, r.hk = false, attr.AppendKey(nil, v)
	}
	if in.NextToken != nil {
		start, err := decodeNextToken(*in.NextToken)
		if err != nil {
			return nil, err
		}
		pos, _, err := startPosition(t, ix, start)
		if err != nil {
			return nil, err
		}
		r.after = pos
	}
	res, err := s.readPage(ctx, r, spec)
	if err != nil {
		return nil, err
	}
	for i, item := range res.items {
		res.items[i] = selectList(proj, item)
	}
	out := &ExecuteStatementOutput{Items: make([]map[string]AttributeValue, 0, len(res.items)),
		ConsumedCapacity: readCapacity(t, ix, res.size, consistent).wire(in.ReturnConsumedCapacity)}
	out.Items = append(out.Items, toWireItems(res.items)...)
	if res.last != nil {
		out.LastEvaluatedKey = toWireItem(res.last)
		out.NextToken = awsproto.Ptr(encodeNextToken(out.LastEvaluatedKey))
	}
	return out, nil
}

func encodeNextToken(key map[string]AttributeValue) string {
	b, _ := json.Marshal(attrItem(key))
	return base64.RawURLEncoding.EncodeToString(b)
}

func attrItem(key map[string]AttributeValue) attr.Item {
	it, _ := fromWireItem(key)
	return it
}

func decodeNextToken(tok string) (map[string]AttributeValue, error) {
	bad := validation("Given NextToken is not valid")
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return nil, bad
	}
	var it attr.Item
	if err := json.Unmarshal(b, &it); err != nil {
		return nil, bad
	}
	return toWireItem(it), nil
}

// maxBatchStatements is the most statements a BatchExecuteStatement runs.
const maxBatchStatements = 25

func (s *Service) batchExecuteStatement(ctx context.Context, in *BatchExecuteStatementInput) (*BatchExecuteStatementOutput, error) {
	if len(in.Statements) > maxBatchStatements {
		return nil, validation("Too many statements in the batch: the limit is 25")
	}
	out := &BatchExecuteStatementOutput{Responses: make([]BatchStatementResponse, len(in.Statements))}
	ccs := map[string]*capacity{}
	reads, writes := 0, 0
	sts := make([]*partiql.Statement, len(in.Statements))
	params := make([][]attr.Value, len(in.Statements))
	for i, req := range in.Statements {
		st, p, err := parseStatement(awsproto.Value(req.Statement), req.Parameters)
		if err != nil {
			return nil, err
		}
		sts[i], params[i] = st, p
		if st.Kind == partiql.Select {
			reads++
		} else {
			writes++
		}
	}
	if reads > 0 && writes > 0 {
		return nil, validation("Batch must contain either all read or all write statements")
	}
	for i, st := range sts {
		resp := &out.Responses[i]
		resp.TableName = awsproto.Ptr(st.Table)
		fail := func(err error) {
			var ae *awsproto.Error
			code, msg := "InternalServerError", "Internal server error"
			if errors.As(err, &ae) {
				code, msg = strings.TrimSuffix(ae.Code, "Exception"), ae.Message
				if code == "Validation" {
					code = "ValidationError"
				}
				if ae.Code == "ConditionalCheckFailedException" {
					code = "ConditionalCheckFailed"
				}
			}
			resp.Error = &BatchStatementError{Code: awsproto.Ptr(code), Message: awsproto.Ptr(msg)}
		}
		if st.Kind == partiql.Select {
			item, t, err := s.getStatement(ctx, st, params[i])
			if err != nil {
				fail(err)
				continue
			}
			cc := capacityOf(ccs, t)
			cc.addTable(attr.ReadUnits(item.Size(), awsproto.Value(in.Statements[i].ConsistentRead), false))
			if item != nil {
				resp.Item = toWireItem(item)
			}
			continue
		}
		w, err := s.writePlan(ctx, st, params[i])
		if err != nil {
			fail(err)
			continue
		}
		w.onFail = in.Statements[i].ReturnValuesOnConditionCheckFailure
		_, wc, err := s.runWrites(ctx, []*txWrite{w}, "", "", false)
		if err != nil {
			err = statementError(err)
			fail(err)
			var ae *awsproto.Error
			if errors.As(err, &ae) && ae.Detail != nil {
				if d, ok := ae.Detail.(*ConditionalCheckFailedException); ok {
					resp.Error.Item = d.Item
				}
			}
			continue
		}
		for name, c := range wc {
			if ccs[name] == nil {
				ccs[name] = c
			} else {
				ccs[name].addTable(c.total())
			}
		}
	}
	out.ConsumedCapacity = capacities(ccs, in.ReturnConsumedCapacity)
	return out, nil
}

// getStatement runs a SELECT that names one item by its whole key, as batches and
// transactions require.
func (s *Service) getStatement(ctx context.Context, st *partiql.Statement, params []attr.Value) (attr.Item, *table, error) {
	t, err := s.tableFor(ctx, &st.Table)
	if err != nil {
		return nil, nil, err
	}
	if st.Index != "" {
		return nil, nil, validation("Batch and transaction reads cannot read an index")
	}
	tr := newTranslator(params)
	key, err := statementKey(t, tr, st.Where)
	if err != nil {
		return nil, nil, err
	}
	cond, err := tr.cond(st.Where)
	if err != nil {
		return nil, nil, err
	}
	var projSrc string
	if st.Projection != nil {
		var paths []string
		for _, p := range st.Projection {
			paths = append(paths, tr.path(p))
		}
		projSrc = strings.Join(paths, ", ")
	}
	p := tr.exprParams()
	c, err := p.Condition(expr.KindFilter, cond)
	if err != nil {
		return nil, nil, err
	}
	var proj *expr.Projection
	if projSrc != "" {
		if proj, err = p.Projection(projSrc); err != nil {
			return nil, nil, err
		}
	}
	item, err := s.loadItem(ctx, t, t.keyOf(key))
	if err != nil || item == nil || !c.Eval(item) {
		return nil, t, err
	}
	return selectList(proj, item), t, nil
}

// selectList returns what a SELECT list takes of item: a nested path's value under its last
// name (SELECT m.a returns a), as DynamoDB's PartiQL does, and a top-level attribute or a path
// ending in a list index as a projection expression returns them. A nil list is SELECT *.
func selectList(p *expr.Projection, item attr.Item) attr.Item {
	if p == nil || item == nil {
		return item
	}
	var nested attr.Item
	out := attr.Item{}
	for _, path := range p.Paths() {
		last := path[len(path)-1]
		switch {
		case len(path) > 1 && !last.IsIndex():
			if v, ok := expr.Lookup(item, path); ok {
				out[last.Name] = v
			}
		default:
			if nested == nil {
				nested = p.Apply(item)
			}
			if v, ok := nested[path.Head()]; ok {
				out[path.Head()] = v
			}
		}
	}
	return out
}

func (s *Service) executeTransaction(ctx context.Context, in *ExecuteTransactionInput) (*ExecuteTransactionOutput, error) {
	sts := make([]*partiql.Statement, len(in.TransactStatements))
	params := make([][]attr.Value, len(in.TransactStatements))
	reads := 0
	for i, req := range in.TransactStatements {
		st, p, err := parseStatement(awsproto.Value(req.Statement), req.Parameters)
		if err != nil {
			return nil, err
		}
		sts[i], params[i] = st, p
		if st.Kind == partiql.Select {
			reads++
		}
	}
	if reads > 0 && reads != len(sts) {
		return nil, validation("Transaction must contain either all read or all write statements")
	}
	if reads > 0 {
		out := &ExecuteTransactionOutput{Responses: make([]ItemResponse, len(sts))}
		for i, st := range sts {
			item, _, err := s.getStatement(ctx, st, params[i])
			if err != nil {
				return nil, err
			}
			if item != nil {
				out.Responses[i].Item = toWireItem(item)
			}
		}
		return out, nil
	}
	writes := make([]*txWrite, len(sts))
	seen := map[string]bool{}
	for i, st := range sts {
		w, err := s.writePlan(ctx, st, params[i])
		if err != nil {
			return nil, err
		}
		w.onFail = in.TransactStatements[i].ReturnValuesOnConditionCheckFailure
		id := strconv.FormatInt(w.t.ID, 10) + "\x00" + string(w.k.hk) + "\x00" + string(w.k.rk)
		if seen[id] {
			return nil, validation("Transaction request cannot include multiple operations on one item")
		}
		seen[id] = true
		writes[i] = w
	}
	var digest string
	token := awsproto.Value(in.ClientRequestToken)
	if token != "" {
		b, _ := json.Marshal(in.TransactStatements)
		digest = requestDigestBytes(b)
	}
	_, ccs, err := s.runWrites(ctx, writes, token, digest, true)
	var c *canceled
	if errors.As(err, &c) {
		return nil, transactionCanceled(c.reasons)
	}
	if err != nil {
		return nil, err
	}
	return &ExecuteTransactionOutput{ConsumedCapacity: capacities(ccs, in.ReturnConsumedCapacity)}, nil
}

// statementRequests are the authorization requests of PartiQL statements: dynamodb:PartiQL<Verb>
// on each table (or index) they name. A statement that does not parse asks for nothing; the
// handler refuses it.
func (s *Service) statementRequests(ctx context.Context, stmts []string) ([]authz.Request, error) {
	var reqs []authz.Request
	for _, src := range stmts {
		st, err := partiql.Parse(src)
		if err != nil {
			continue
		}
		action := map[partiql.Kind]string{partiql.Select: "dynamodb:PartiQLSelect", partiql.Insert: "dynamodb:PartiQLInsert",
			partiql.Update: "dynamodb:PartiQLUpdate", partiql.Delete: "dynamodb:PartiQLDelete"}[st.Kind]
		reqs = append(reqs, s.tableRequest(ctx, action, st.Table, st.Index))
	}
	return dedupRequests(reqs), nil
}
