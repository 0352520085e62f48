package dynamodb

import (
	"github.com/kiri-run/kiri/internal/service/dynamodb/attr"
)

// fields and build map the generated AttributeValue onto attr's wire form.
func fields(a AttributeValue) attr.WireFields[AttributeValue] {
	return attr.WireFields[AttributeValue]{S: a.S, N: a.N, B: a.B, BOOL: a.BOOL, NULL: a.NULL,
		SS: a.SS, NS: a.NS, BS: a.BS, L: a.L, M: a.M}
}

func build(f attr.WireFields[AttributeValue]) AttributeValue {
	return AttributeValue{S: f.S, N: f.N, B: f.B, BOOL: f.BOOL, NULL: f.NULL, SS: f.SS, NS: f.NS, BS: f.BS, L: f.L, M: f.M}
}

func fromWire(a AttributeValue) (attr.Value, error) { return attr.FromWire(a, fields) }

func fromWireItem(m map[string]AttributeValue) (attr.Item, error) {
	return attr.FromWireItem(m, fields)
}

func toWire(v attr.Value) AttributeValue { return attr.ToWire(v, build) }

func toWireItem(it attr.Item) map[string]AttributeValue {
	if it == nil {
		return nil
	}
	return attr.ToWireItem(it, build)
}

func toWireItems(items []attr.Item) []map[string]AttributeValue {
	out := make([]map[string]AttributeValue, len(items))
	for i, it := range items {
		out[i] = toWireItem(it)
	}
	return out
}

func fromWireList(l []AttributeValue) ([]attr.Value, error) {
	out := make([]attr.Value, len(l))
	for i, a := range l {
		v, err := fromWire(a)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}
