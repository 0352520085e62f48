package attr

// MaxDepth is the deepest nesting DynamoDB stores: a top-level attribute is level 1, and a
// scalar wrapped in 31 maps or lists (level 32) is the deepest accepted.
const MaxDepth = 32

// WireFields are the members of one AttributeValue as a decoder found them: a nil pointer,
// slice or map is a member the request did not send, an empty non-nil one a member sent empty
// ({"B":""}, {"L":[]}, {"SS":[]}). W is the decoder's own AttributeValue type, whose L and M
// hold further W values. The service's generated AttributeValue maps onto it field by field:
//
//	func fields(a AttributeValue) attr.WireFields[AttributeValue] {
//		return attr.WireFields[AttributeValue]{S: a.S, N: a.N, B: a.B, BOOL: a.BOOL, NULL: a.NULL,
//			SS: a.SS, NS: a.NS, BS: a.BS, L: a.L, M: a.M}
//	}
type WireFields[W any] struct {
	S, N       *string
	B          []byte
	BOOL, NULL *bool
	SS, NS     []string
	BS         [][]byte
	L          []W
	M          map[string]W
}

// FromWire validates a decoded AttributeValue and returns it as a Value, refused with
// DynamoDB's error (a *ValueError) when DynamoDB would refuse it: no type or several, NULL
// false, empty or repeated sets, numbers it cannot read or store, nesting past MaxDepth.
// fields unpacks one W.
func FromWire[W any](w W, fields func(W) WireFields[W]) (Value, error) {
	v, err := fromWire(w, fields, 1)
	if err != nil {
		return Value{}, err
	}
	return v, nil
}

// FromWireItem converts every attribute of a decoded item or key.
func FromWireItem[W any](m map[string]W, fields func(W) WireFields[W]) (Item, error) {
	item := make(Item, len(m))
	for name, w := range m {
		v, err := fromWire(w, fields, 1)
		if err != nil {
			return nil, err
		}
		item[name] = v
	}
	return item, nil
}

func fromWire[W any](w W, fields func(W) WireFields[W], depth int) (Value, *ValueError) {
	if depth > MaxDepth {
		return Value{}, valueError(msgNesting)
	}
	f := fields(w)
	var v Value
	n := 0
	// DynamoDB checks a number before it counts types, so {"S":"a","N":"b"} is refused for
	// its number.
	if f.N != nil {
		nv, err := num(*f.N)
		if err != nil {
			return Value{}, err
		}
		v, n = nv, n+1
	}
	if f.NULL != nil {
		if !*f.NULL {
			return Value{}, valueError(msgNullFalse)
		}
		v, n = Null(), n+1
	}
	if f.S != nil {
		v, n = Str(*f.S), n+1
	}
	if f.B != nil {
		v, n = Bin(f.B), n+1
	}
	if f.BOOL != nil {
		v, n = Bool(*f.BOOL), n+1
	}
	if f.SS != nil {
		s, err := strSet(f.SS)
		if err != nil {
			return Value{}, err
		}
		v, n = s, n+1
	}
	if f.NS != nil {
		s, err := numSet(f.NS)
		if err != nil {
			return Value{}, err
		}
		v, n = s, n+1
	}
	if f.BS != nil {
		s, err := binSet(f.BS)
		if err != nil {
			return Value{}, err
		}
		v, n = s, n+1
	}
	if f.M != nil {
		m := make(map[string]Value, len(f.M))
		for k, e := range f.M {
			ev, err := fromWire(e, fields, depth+1)
			if err != nil {
				return Value{}, err
			}
			m[k] = ev
		}
		v, n = Map(m), n+1
	}
	if f.L != nil {
		l := make([]Value, len(f.L))
		for i, e := range f.L {
			ev, err := fromWire(e, fields, depth+1)
			if err != nil {
				return Value{}, err
			}
			l[i] = ev
		}
		v, n = List(l), n+1
	}
	switch n {
	case 0:
		return Value{}, valueError(msgEmpty)
	case 1:
		return v, nil
	}
	return Value{}, valueError(msgManyTypes)
}

// ToWire builds the decoder's AttributeValue for v with build, the inverse of fields.
func ToWire[W any](v Value, build func(WireFields[W]) W) W {
	var f WireFields[W]
	switch v.t {
	case S:
		s := v.s
		f.S = &s
	case N:
		s := v.s
		f.N = &s
	case B:
		f.B = []byte(v.s)
	case BOOL:
		b := v.b
		f.BOOL = &b
	case NULL:
		b := true
		f.NULL = &b
	case SS:
		f.SS = append([]string(nil), v.set...)
	case NS:
		f.NS = append([]string(nil), v.set...)
	case BS:
		f.BS = make([][]byte, len(v.set))
		for i, m := range v.set {
			f.BS[i] = []byte(m)
		}
	case L:
		f.L = make([]W, len(v.list))
		for i, e := range v.list {
			f.L[i] = ToWire(e, build)
		}
	case M:
		f.M = make(map[string]W, len(v.m))
		for k, e := range v.m {
			f.M[k] = ToWire(e, build)
		}
	}
	return build(f)
}

// ToWireItem builds the decoder's form of every attribute of item.
func ToWireItem[W any](item Item, build func(WireFields[W]) W) map[string]W {
	if item == nil {
		return nil
	}
	out := make(map[string]W, len(item))
	for k, v := range item {
		out[k] = ToWire(v, build)
	}
	return out
}
