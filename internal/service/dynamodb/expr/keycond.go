package expr

import (
	"bytes"
	"strconv"

	"github.com/kiri-run/kiri/internal/service/dynamodb/attr"
)

// KeyOp is the comparison of a key condition.
type KeyOp uint8

// The comparisons a key condition can make.
const (
	KeyEQ KeyOp = iota
	KeyLT
	KeyLE
	KeyGT
	KeyGE
	KeyBetween
	KeyBeginsWith
	keyUnindexable // a legacy operator a key condition cannot use
)

// KeyCondition is a parsed KeyConditionExpression or a legacy KeyConditions: one condition
// on the partition key and at most one on the sort key. Query uses it in three steps, in
// DynamoDB's order: parse it with the request's other expressions (Params.KeyCondition), then
// after Params.CheckUnused call Check (structure, before the table is looked up), then
// Resolve against the table's or index's key schema.
type KeyCondition struct {
	root   *node     // an expression's condition, checked by Check
	conds  []keyCond // the conditions, once checked
	legacy bool
	err    error // the legacy structure's refusal, reported by Check
}

type keyCond struct {
	name string
	op   KeyOp
	vals []attr.Value
}

// KeyCondition parses a KeyConditionExpression and checks it as a condition (syntax,
// placeholders, functions and operand types; refused with the "Invalid
// KeyConditionExpression: " prefix). Its structure as a key condition is checked by Check.
func (p *Params) KeyCondition(src string) (*KeyCondition, error) {
	root, err := p.parseCondition(KindKeyCondition, src, true)
	if err != nil {
		return nil, err
	}
	return &KeyCondition{root: root}, nil
}

// Check refuses a key condition DynamoDB cannot use as one: OR, NOT, IN, <> and the functions
// other than begins_with, size(), a test without a key attribute or with two, a nested
// attribute, a key on the wrong side of BETWEEN or begins_with, two conditions on one key.
func (k *KeyCondition) Check() error {
	if k.err != nil {
		return k.err
	}
	if k.conds != nil || k.root == nil {
		return nil
	}
	var conds []keyCond
	if msg := keyConds(k.root, &conds); msg != "" {
		return validation(msg)
	}
	k.conds = conds
	return nil
}

// keyConds collects the conditions of an AND tree, refusing what a key condition cannot hold.
func keyConds(n *node, out *[]keyCond) string {
	switch n.kind {
	case nOr, nNot, nIn:
		return "Invalid operator used in KeyConditionExpression: " + upperWord(n.op.text)
	case nAnd:
		if msg := keyConds(n.kids[0], out); msg != "" {
			return msg
		}
		return keyConds(n.kids[1], out)
	}
	if n.kind == nCompare && n.op.kind == tNe {
		return "Invalid operator used in KeyConditionExpression: <>"
	}
	args := n.args
	name := ""
	switch n.kind {
	case nFunc:
		f := n.args[0]
		switch f.name() {
		case "begins_with":
		case "size":
			return "KeyConditionExpressions cannot contain nested operations"
		default:
			return "Invalid operator used in KeyConditionExpression: " + f.name()
		}
		args, name = f.args, "begins_with"
		if args[0].kind != opPath {
			return "Invalid condition in KeyConditionExpression: begins_with operator must have the key attribute as its first operand"
		}
	case nBetween:
		name = "BETWEEN"
		if args[0].kind != opPath {
			return "Invalid condition in KeyConditionExpression: BETWEEN operator must have the key attribute as its first operand"
		}
	}
	key := -1
	for i, a := range args {
		switch a.kind {
		case opPath:
			if key >= 0 {
				return "Invalid condition in KeyConditionExpression: Multiple attribute names used in one condition"
			}
			if len(a.path) > 1 {
				return "KeyConditionExpressions cannot have conditions on nested attributes"
			}
			key = i
		case opCall:
			return "KeyConditionExpressions cannot contain nested operations"
		}
	}
	if key < 0 {
		return "Invalid condition in KeyConditionExpression: No key attribute specified"
	}
	c := keyCond{name: args[key].path.Head()}
	for _, prev := range *out {
		if prev.name == c.name {
			return "Invalid KeyConditionExpression: KeyConditionExpressions must only contain one condition per key"
		}
	}
	for i, a := range args {
		if i != key {
			c.vals = append(c.vals, a.val)
		}
	}
	switch name {
	case "begins_with":
		c.op = KeyBeginsWith
	case "BETWEEN":
		c.op = KeyBetween
	default:
		c.op = compareOp(n.op.kind, key == 1)
	}
	*out = append(*out, c)
	return ""
}

// compareOp turns a comparator into a KeyOp; flipped when the key is on the right (":v < k").
func compareOp(k tokKind, flipped bool) KeyOp {
	switch k {
	case tLt:
		if flipped {
			return KeyGT
		}
		return KeyLT
	case tLe:
		if flipped {
			return KeyGE
		}
		return KeyLE
	case tGt:
		if flipped {
			return KeyLT
		}
		return KeyGT
	case tGe:
		if flipped {
			return KeyLE
		}
		return KeyGE
	}
	return KeyEQ
}

func upperWord(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// KeySchema is the key of a table or index: a partition key, and a sort key unless Sort is "".
type KeySchema struct {
	Partition     string
	PartitionType attr.Type
	Sort          string
	SortType      attr.Type
}

// KeyQuery is a key condition resolved against a key schema: the partition to read, and the
// condition on the sort key, if any.
type KeyQuery struct {
	Partition attr.Value
	Sort      *SortCondition
}

// SortCondition is the condition a query puts on the sort key.
type SortCondition struct {
	Op     KeyOp
	Values []attr.Value // one value; two for KeyBetween
}

// Resolve matches the key condition with a key schema, refused as DynamoDB refuses a query
// its key cannot serve: more conditions than key attributes, no condition on the partition
// key or on a key it skips, a partition key compared other than by equality, values of the
// wrong type.
func (k *KeyCondition) Resolve(s KeySchema) (*KeyQuery, error) {
	if err := k.Check(); err != nil {
		return nil, err
	}
	keys := 1
	if s.Sort != "" {
		keys = 2
	}
	if !k.legacy && len(k.conds) > keys {
		return nil, validation("The number of query conditions (" + strconv.Itoa(len(k.conds)) +
			") exceeds the number of key attributes defined in the schema (" + strconv.Itoa(keys) + ")")
	}
	q := &KeyQuery{}
	for _, key := range []struct {
		name string
		typ  attr.Type
		hash bool
	}{{s.Partition, s.PartitionType, true}, {s.Sort, s.SortType, false}} {
		if key.name == "" {
			continue
		}
		if key.hash && keys == 1 && len(k.conds) > 1 {
			return nil, validation("Query key condition not supported")
		}
		c := k.cond(key.name)
		if c == nil {
			if key.hash || len(k.conds) > 1 {
				return nil, validation("Query condition missed key schema element: " + key.name)
			}
			continue
		}
		if c.op == keyUnindexable {
			return nil, validation("Attempted conditional constraint is not an indexable operation")
		}
		for _, v := range c.vals {
			if v.Type() != key.typ {
				return nil, validation("One or more parameter values were invalid: Condition parameter type does not match schema type")
			}
		}
		if key.hash {
			if c.op != KeyEQ {
				return nil, validation("Query key condition not supported")
			}
			q.Partition = c.vals[0]
			continue
		}
		q.Sort = &SortCondition{Op: c.op, Values: c.vals}
	}
	return q, nil
}

func (k *KeyCondition) cond(name string) *keyCond {
	for i := range k.conds {
		if k.conds[i].name == name {
			return &k.conds[i]
		}
	}
	return nil
}

// Match reports whether a sort key value satisfies the condition.
func (c *SortCondition) Match(v attr.Value) bool {
	if c.Op == KeyBeginsWith {
		return attr.HasPrefix(v, c.Values[0])
	}
	lo, ok := attr.Compare(v, c.Values[0])
	if !ok {
		return false
	}
	switch c.Op {
	case KeyEQ:
		return lo == 0
	case KeyLT:
		return lo < 0
	case KeyLE:
		return lo <= 0
	case KeyGT:
		return lo > 0
	case KeyGE:
		return lo >= 0
	}
	hi, ok := attr.Compare(v, c.Values[1])
	return ok && lo >= 0 && hi <= 0
}

// Bounds returns the range of sort key encodings (attr.AppendKey) the condition selects, as
// [start, end): a store reads the partition's keys k with start <= k < end. A nil bound is
// open.
func (c *SortCondition) Bounds() (start, end []byte) {
	key := func(v attr.Value) []byte { return attr.AppendKey(nil, v) }
	switch c.Op {
	case KeyEQ:
		k := key(c.Values[0])
		return k, attr.PrefixEnd(k)
	case KeyLT:
		return nil, key(c.Values[0])
	case KeyLE:
		return nil, attr.PrefixEnd(key(c.Values[0]))
	case KeyGT:
		return attr.PrefixEnd(key(c.Values[0])), nil
	case KeyGE:
		return key(c.Values[0]), nil
	case KeyBetween:
		return key(c.Values[0]), attr.PrefixEnd(key(c.Values[1]))
	}
	p := attr.AppendKeyPrefix(nil, c.Values[0])
	return p, attr.PrefixEnd(p)
}

// InBounds reports whether an encoded key lies in [start, end), nil bounds being open.
func InBounds(k, start, end []byte) bool {
	return (start == nil || bytes.Compare(k, start) >= 0) && (end == nil || bytes.Compare(k, end) < 0)
}
