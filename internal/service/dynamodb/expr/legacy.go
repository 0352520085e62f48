package expr

import (
	"slices"

	"github.com/kiri-run/kiri/internal/service/dynamodb/attr"
)

// The legacy (pre-expression) parameters translate to the same Condition, KeyCondition,
// Update and Projection as expressions, with DynamoDB's own checks and messages for them.
// Attribute names in legacy parameters are top-level names, dots and brackets included.

// LegacyCondition is one entry of a legacy QueryFilter, ScanFilter or KeyConditions.
type LegacyCondition struct {
	ComparisonOperator string
	AttributeValueList []attr.Value
}

// ExpectedValue is one entry of a legacy Expected.
type ExpectedValue struct {
	Value              *attr.Value // nil when absent
	Exists             *bool       // nil when absent
	ComparisonOperator string      // "" when absent
	AttributeValueList []attr.Value
	HasList            bool // AttributeValueList was sent, even empty
}

// AttributeUpdate is one entry of a legacy AttributeUpdates.
type AttributeUpdate struct {
	Action string      // PUT (the default when ""), ADD or DELETE
	Value  *attr.Value // nil when absent
}

// operandCounts are the AttributeValueList lengths of each comparison operator; -1 is one or
// more.
var operandCounts = map[string]int{
	"EQ": 1, "NE": 1, "LE": 1, "LT": 1, "GE": 1, "GT": 1, "CONTAINS": 1, "NOT_CONTAINS": 1,
	"BEGINS_WITH": 1, "NULL": 0, "NOT_NULL": 0, "IN": -1, "BETWEEN": 2,
}

var (
	scalarTypes = []attr.Type{attr.S, attr.N, attr.B}
	// operandTypes are the value types each comparison operator accepts.
	operandTypes = map[string][]attr.Type{
		"EQ": {attr.S, attr.N, attr.B, attr.SS, attr.NS, attr.BS}, "NE": {attr.S, attr.N, attr.B, attr.SS, attr.NS, attr.BS},
		"LE": scalarTypes, "LT": scalarTypes, "GE": scalarTypes, "GT": scalarTypes,
		"CONTAINS": scalarTypes, "NOT_CONTAINS": scalarTypes, "IN": scalarTypes, "BETWEEN": scalarTypes,
		"BEGINS_WITH": {attr.S, attr.B},
	}
)

func invalidParam(msg string) error {
	return validation("One or more parameter values were invalid: " + msg)
}

func argumentCount(op string) error {
	return invalidParam("Invalid number of argument(s) for the " + op + " ComparisonOperator")
}

// checkLegacyCondition applies DynamoDB's checks of a QueryFilter, ScanFilter or KeyConditions
// entry: the operator, the number of values, one type for all of them, a type the operator
// accepts, BETWEEN's bounds in order.
func checkLegacyCondition(c LegacyCondition) error {
	want, ok := operandCounts[c.ComparisonOperator]
	if !ok {
		return invalidParam("Unsupported ComparisonOperator: " + c.ComparisonOperator)
	}
	n := len(c.AttributeValueList)
	if (want >= 0 && n != want) || (want < 0 && n == 0) {
		return argumentCount(c.ComparisonOperator)
	}
	return checkValueList(c.ComparisonOperator, c.AttributeValueList, true)
}

func checkValueList(op string, vals []attr.Value, typed bool) error {
	for _, v := range vals {
		if v.Type() != vals[0].Type() {
			return invalidParam("AttributeValues inside AttributeValueList must be of same type")
		}
	}
	if typed {
		for _, v := range vals {
			if !slices.Contains(operandTypes[op], v.Type()) {
				return invalidParam("ComparisonOperator " + op + " is not valid for " + v.Type().String() + " AttributeValue type")
			}
		}
	}
	if op == "BETWEEN" {
		if c, ok := attr.Compare(vals[0], vals[1]); ok && c > 0 {
			return validation("The BETWEEN condition was provided a range where the lower bound is greater than the upper bound")
		}
	}
	return nil
}

// FilterCondition translates a legacy QueryFilter or ScanFilter, joined by conditionalOperator
// (AND, the default, or OR). An empty filter is a nil Condition: every item passes.
func FilterCondition(filter map[string]LegacyCondition, conditionalOperator string) (*Condition, error) {
	var leaves []*node
	for _, name := range sortedKeys(filter) {
		c := filter[name]
		if err := checkLegacyCondition(c); err != nil {
			return nil, err
		}
		leaves = append(leaves, legacyTest(name, c.ComparisonOperator, c.AttributeValueList))
	}
	return joinLegacy(leaves, conditionalOperator), nil
}

// ExpectedCondition translates a legacy Expected, joined by conditionalOperator, with
// DynamoDB's checks: Value and AttributeValueList not together, Exists and ComparisonOperator
// not together, a value where Exists is true or absent and none where it is false, the right
// number of values of one type. An empty Expected is a nil Condition.
func ExpectedCondition(expected map[string]ExpectedValue, conditionalOperator string) (*Condition, error) {
	var leaves []*node
	for _, name := range sortedKeys(expected) {
		e := expected[name]
		if e.HasList && e.Value != nil {
			return nil, invalidParam("Value and AttributeValueList cannot be used together for Attribute: " + name)
		}
		switch {
		case e.ComparisonOperator != "":
			op := e.ComparisonOperator
			if e.Exists != nil {
				return nil, invalidParam("Exists and ComparisonOperator cannot be used together for Attribute: " + name)
			}
			if op != "NULL" && op != "NOT_NULL" && !e.HasList && e.Value == nil {
				return nil, invalidParam("Value or AttributeValueList must be used with ComparisonOperator: " + op + " for Attribute: " + name)
			}
			vals := e.AttributeValueList
			if e.Value != nil {
				vals = []attr.Value{*e.Value}
			}
			want, ok := operandCounts[op]
			if !ok {
				return nil, invalidParam("Unsupported ComparisonOperator: " + op)
			}
			if (want >= 0 && len(vals) != want) || (want < 0 && len(vals) == 0) {
				return nil, argumentCount(op)
			}
			if len(vals) > 0 {
				if err := checkValueList(op, vals, false); err != nil {
					return nil, err
				}
			}
			leaves = append(leaves, legacyTest(name, op, vals))
		case e.HasList:
			return nil, invalidParam("AttributeValueList can only be used with a ComparisonOperator for Attribute: " + name)
		default:
			exists := e.Exists == nil || *e.Exists
			if exists && e.Value == nil {
				state := "null"
				if e.Exists != nil {
					state = "true"
				}
				return nil, invalidParam("Value must be provided when Exists is " + state + " for Attribute: " + name)
			}
			if !exists && e.Value != nil {
				return nil, invalidParam("Value cannot be used when Exists is false for Attribute: " + name)
			}
			if exists {
				leaves = append(leaves, legacyTest(name, "EQ", []attr.Value{*e.Value}))
			} else {
				leaves = append(leaves, legacyTest(name, "NULL", nil))
			}
		}
	}
	return joinLegacy(leaves, conditionalOperator), nil
}

func joinLegacy(leaves []*node, conditionalOperator string) *Condition {
	if len(leaves) == 0 {
		return nil
	}
	kind, word := nAnd, "AND"
	if conditionalOperator == "OR" {
		kind, word = nOr, "OR"
	}
	root := leaves[0]
	for _, l := range leaves[1:] {
		root = &node{kind: kind, op: token{kind: tIdent, text: word}, kids: []*node{root, l}}
	}
	return &Condition{root: root}
}

var legacyComparators = map[string]tokKind{"EQ": tEq, "NE": tNe, "LT": tLt, "LE": tLe, "GT": tGt, "GE": tGe}

// legacyTest is the condition a legacy comparison operator stands for.
func legacyTest(name, op string, vals []attr.Value) *node {
	path := &operand{kind: opPath, path: NamePath(name)}
	args := []*operand{path}
	for _, v := range vals {
		args = append(args, &operand{kind: opValue, val: v})
	}
	call := func(fn string) *node {
		f := &operand{kind: opCall, ref: token{kind: tIdent, text: fn}, args: args}
		return &node{kind: nFunc, op: f.ref, args: []*operand{f}}
	}
	if k, ok := legacyComparators[op]; ok {
		return &node{kind: nCompare, op: token{kind: k}, args: args}
	}
	switch op {
	case "NOT_NULL":
		return call("attribute_exists")
	case "NULL":
		return call("attribute_not_exists")
	case "CONTAINS":
		return call("contains")
	case "NOT_CONTAINS":
		return &node{kind: nNot, kids: []*node{call("contains")}}
	case "BEGINS_WITH":
		return call("begins_with")
	case "IN":
		return &node{kind: nIn, args: args}
	}
	return &node{kind: nBetween, args: args}
}

var legacyKeyOps = map[string]KeyOp{
	"EQ": KeyEQ, "LT": KeyLT, "LE": KeyLE, "GT": KeyGT, "GE": KeyGE, "BETWEEN": KeyBetween, "BEGINS_WITH": KeyBeginsWith,
}

// KeyConditions translates a legacy KeyConditions with DynamoDB's checks of each entry and of
// their number ("Conditions can be of length 1 or 2 only"). Operators a key cannot use are
// refused by Resolve, as DynamoDB refuses them once it knows the key schema.
func KeyConditions(conds map[string]LegacyCondition) (*KeyCondition, error) {
	k := &KeyCondition{legacy: true, conds: []keyCond{}}
	for _, name := range sortedKeys(conds) {
		c := conds[name]
		if err := checkLegacyCondition(c); err != nil {
			return nil, err
		}
		op, ok := legacyKeyOps[c.ComparisonOperator]
		if !ok {
			op = keyUnindexable
		}
		k.conds = append(k.conds, keyCond{name: name, op: op, vals: c.AttributeValueList})
	}
	if len(k.conds) != 1 && len(k.conds) != 2 {
		return nil, validation("Conditions can be of length 1 or 2 only")
	}
	return k, nil
}

// AttributesToGet translates a legacy AttributesToGet, refusing a repeated name.
func AttributesToGet(names []string) (*Projection, error) {
	paths := make([]Path, len(names))
	for i, n := range names {
		if slices.Contains(names[:i], n) {
			return nil, invalidParam("Duplicate value in attribute name: " + n)
		}
		paths[i] = NamePath(n)
	}
	return newProjection(paths), nil
}

// AttributeUpdates translates a legacy AttributeUpdates with DynamoDB's checks: only DELETE
// goes without a value, DELETE with a value needs a set, ADD a number, a set or a list.
func AttributeUpdates(updates map[string]AttributeUpdate) (*Update, error) {
	u := &Update{legacy: true}
	for _, name := range sortedKeys(updates) {
		a := updates[name]
		target := &operand{kind: opPath, path: NamePath(name)}
		var value *operand
		if a.Value != nil {
			value = &operand{kind: opValue, val: *a.Value}
		}
		act := action{target: target, value: value}
		switch {
		case a.Value == nil && a.Action != "DELETE":
			return nil, invalidParam("Only DELETE action is allowed when no attribute value is specified")
		case a.Action == "DELETE" && a.Value == nil:
			act.kind = ActionRemove
		case a.Action == "DELETE":
			if t := a.Value.Type(); !t.IsSet() {
				return nil, invalidParam("DELETE action with value is not supported for the type " + t.String())
			}
			act.kind = ActionDelete
		case a.Action == "ADD":
			if t := a.Value.Type(); !t.IsSet() && t != attr.N && t != attr.L {
				return nil, invalidParam("ADD action is not supported for the type " + t.String())
			}
			act.kind = ActionAdd
		default:
			act.kind = ActionSet
		}
		u.actions = append(u.actions, act)
	}
	u.index()
	return u, nil
}
