package expr

import (
	"slices"
	"strconv"
	"strings"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/service/dynamodb/attr"
)

// Params are one request's ExpressionAttributeNames and ExpressionAttributeValues, which all
// the request's expressions share. Parsing an expression marks the placeholders it uses;
// CheckUnused then refuses any left unused. A Params is used by one request at a time.
type Params struct {
	names      map[string]string
	values     map[string]attr.Value
	usedNames  map[string]bool
	usedValues map[string]bool
}

// InvalidValueError is an ExpressionAttributeValues entry DynamoDB refuses. Its Error (and the
// ValidationException errors.As finds in it) is the value's refusal alone, as PutItem,
// UpdateItem, DeleteItem, GetItem and Query word it; Wrapped is the wording of BatchWriteItem,
// Scan and the transactions: "ExpressionAttributeValues contains invalid value: <older wording>
// for key :v".
type InvalidValueError struct {
	Key string
	Err error
}

func (e *InvalidValueError) Error() string { return e.Err.Error() }

// Unwrap returns the value's own error.
func (e *InvalidValueError) Unwrap() error { return e.Err }

// Wrapped returns the older, wrapped wording.
func (e *InvalidValueError) Wrapped() string {
	msg := e.Err.Error()
	if ve, ok := e.Err.(*attr.ValueError); ok {
		msg = ve.Older()
	}
	return "ExpressionAttributeValues contains invalid value: " + msg + " for key " + e.Key
}

// NewParams checks a request's placeholders as DynamoDB does, in its order: the names map not
// empty and every key #[0-9A-Za-z_]+, the values map not empty and every key :[0-9A-Za-z_]+,
// then every value, converted by conv (attr.FromWire for the generated AttributeValue), whose
// refusal comes back as an *InvalidValueError. Nil maps mean the request did not send them.
func NewParams[W any](names map[string]string, values map[string]W, conv func(W) (attr.Value, error)) (*Params, error) {
	p := &Params{names: names, usedNames: map[string]bool{}, usedValues: map[string]bool{}}
	if names != nil && len(names) == 0 {
		return nil, validation("ExpressionAttributeNames must not be empty")
	}
	for _, k := range sortedKeys(names) {
		if !validPlaceholder(k, '#') {
			return nil, validation("ExpressionAttributeNames contains invalid key: Syntax error; key: " + strconv.Quote(k))
		}
	}
	if values != nil && len(values) == 0 {
		return nil, validation("ExpressionAttributeValues must not be empty")
	}
	keys := sortedKeys(values)
	for _, k := range keys {
		if !validPlaceholder(k, ':') {
			return nil, validation("ExpressionAttributeValues contains invalid key: Syntax error; key: " + strconv.Quote(k))
		}
	}
	if values != nil {
		p.values = make(map[string]attr.Value, len(values))
	}
	for _, k := range keys {
		v, err := conv(values[k])
		if err != nil {
			return nil, &InvalidValueError{Key: k, Err: err}
		}
		p.values[k] = v
	}
	return p, nil
}

// ValueParams is NewParams for values already converted.
func ValueParams(names map[string]string, values map[string]attr.Value) (*Params, error) {
	return NewParams(names, values, func(v attr.Value) (attr.Value, error) { return v, nil })
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func validPlaceholder(k string, sigil byte) bool {
	if len(k) < 2 || k[0] != sigil {
		return false
	}
	for i := 1; i < len(k); i++ {
		if !isIdentPart(k[i]) {
			return false
		}
	}
	return true
}

// name resolves a #placeholder, marking it used.
func (p *Params) name(ph string) (string, bool) {
	n, ok := p.names[ph]
	if ok {
		p.usedNames[ph] = true
	}
	return n, ok
}

// value resolves a :placeholder, marking it used.
func (p *Params) value(ph string) (attr.Value, bool) {
	v, ok := p.values[ph]
	if ok {
		p.usedValues[ph] = true
	}
	return v, ok
}

// CheckUnused refuses names or values no parsed expression used, names first, as DynamoDB
// does once every expression of the request has parsed:
// "Value provided in ExpressionAttributeValues unused in expressions: keys: {:x, :y}".
func (p *Params) CheckUnused() error {
	if msg := unused("ExpressionAttributeNames", p.names, p.usedNames); msg != "" {
		return validation(msg)
	}
	if msg := unused("ExpressionAttributeValues", p.values, p.usedValues); msg != "" {
		return validation(msg)
	}
	return nil
}

func unused[V any](what string, m map[string]V, used map[string]bool) string {
	var keys []string
	for _, k := range sortedKeys(m) {
		if !used[k] {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return ""
	}
	return "Value provided in " + what + " unused in expressions: keys: {" + strings.Join(keys, ", ") + "}"
}

// Param is one expression-related request parameter and whether the request set it.
type Param struct {
	Name string
	Set  bool
}

// CheckParams applies DynamoDB's rules on mixing expression and legacy parameters. exprs lists
// the operation's expression parameters in its order, legacy its non-expression ones:
//
//	GetItem, BatchGetItem:  ProjectionExpression | AttributesToGet
//	PutItem, DeleteItem:    ConditionExpression | Expected
//	UpdateItem:             UpdateExpression, ConditionExpression | AttributeUpdates, Expected
//	Query:                  ProjectionExpression, FilterExpression, KeyConditionExpression |
//	                        AttributesToGet, QueryFilter, ConditionalOperator, KeyConditions
//	Scan:                   ProjectionExpression, FilterExpression |
//	                        AttributesToGet, ScanFilter, ConditionalOperator
//
// Query's KeyConditions may come with FilterExpression and ProjectionExpression when there is
// no KeyConditionExpression; the caller then leaves KeyConditions out of legacy.
func CheckParams(exprs, legacy []Param, hasNames, hasValues bool) error {
	var set, legacySet []string
	for _, p := range exprs {
		if p.Set {
			set = append(set, p.Name)
		}
	}
	for _, p := range legacy {
		if p.Set {
			legacySet = append(legacySet, p.Name)
		}
	}
	if len(set) > 0 && len(legacySet) > 0 {
		return validation("Can not use both expression and non-expression parameters in the same request: " +
			"Non-expression parameters: {" + strings.Join(legacySet, ", ") + "} " +
			"Expression parameters: {" + strings.Join(set, ", ") + "}")
	}
	if hasNames && len(set) == 0 {
		return validation("ExpressionAttributeNames can only be specified when using expressions")
	}
	var valued []string
	anyValued := false
	for _, p := range exprs {
		if p.Name != "ProjectionExpression" {
			valued = append(valued, p.Name)
			anyValued = anyValued || p.Set
		}
	}
	if hasValues && len(valued) > 0 && !anyValued {
		verb := " is null"
		if len(valued) > 1 {
			verb = " are null"
		}
		return validation("ExpressionAttributeValues can only be specified when using expressions: " + strings.Join(valued, " and ") + verb)
	}
	return nil
}

// emptyCheck refuses an empty expression and one over MaxExpressionSize.
func emptyCheck(kind, src string) *awsproto.Error {
	if src == "" {
		return invalidExpr(kind, msgEmptyExpression)
	}
	if len(src) > MaxExpressionSize {
		return invalidExpr(kind, msgTooLarge(len(src)))
	}
	return nil
}
