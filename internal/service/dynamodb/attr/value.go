package attr

import (
	"bytes"
	"slices"
	"strconv"
	"strings"
)

// Type is a DynamoDB data type.
type Type uint8

// The data types. The zero Type is no type: the zero Value, or an attribute that is absent.
const (
	None Type = iota
	S
	N
	B
	BOOL
	NULL
	M
	L
	SS
	NS
	BS
)

var typeNames = [...]string{None: "", S: "S", N: "N", B: "B", BOOL: "BOOL", NULL: "NULL", M: "M", L: "L", SS: "SS", NS: "NS", BS: "BS"}

// String returns the type's descriptor as the wire writes it ("S", "NS", "BOOL", …).
func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return "Type(" + strconv.Itoa(int(t)) + ")"
}

// TypeNamed returns the Type whose descriptor is name, and whether there is one.
func TypeNamed(name string) (Type, bool) {
	for t, n := range typeNames {
		if n == name && t != 0 {
			return Type(t), true
		}
	}
	return None, false
}

// IsSet reports whether t is SS, NS or BS.
func (t Type) IsSet() bool { return t == SS || t == NS || t == BS }

// IsKey reports whether t can be a key attribute's type (S, N or B).
func (t Type) IsKey() bool { return t == S || t == N || t == B }

// Value is a DynamoDB attribute value. Values are immutable: the slices and maps an accessor
// returns belong to the value and must not be modified. The zero Value has type None.
//
// Numbers are held in canonical form (see Number), so two numbers are equal exactly when
// their texts are. Binary values are held as strings of bytes.
type Value struct {
	t    Type
	b    bool
	s    string           // S text, N canonical text, B bytes
	set  []string         // SS, NS (canonical), BS members: never empty, no duplicates
	list []Value          // L
	m    map[string]Value // M
}

// Str returns an S value.
func Str(s string) Value { return Value{t: S, s: s} }

// Bin returns a B value holding a copy of b.
func Bin(b []byte) Value { return Value{t: B, s: string(b)} }

// BinString returns a B value whose bytes are those of s.
func BinString(s string) Value { return Value{t: B, s: s} }

// Bool returns a BOOL value.
func Bool(b bool) Value { return Value{t: BOOL, b: b} }

// Null returns the NULL value.
func Null() Value { return Value{t: NULL, b: true} }

// List returns an L value over vs, which the value takes ownership of.
func List(vs []Value) Value {
	if vs == nil {
		vs = []Value{}
	}
	return Value{t: L, list: vs}
}

// Map returns an M value over m, which the value takes ownership of.
func Map(m map[string]Value) Value {
	if m == nil {
		m = map[string]Value{}
	}
	return Value{t: M, m: m}
}

// Num returns an N value from the text of a number, validated and put in canonical form as
// DynamoDB does ("01.50" becomes "1.5", "1E3" becomes "1000").
func Num(text string) (Value, error) { return noValueError(num(text)) }

func num(text string) (Value, *ValueError) {
	c, err := canonicalNumber(text)
	if err != nil {
		return Value{}, err
	}
	return Value{t: N, s: c}, nil
}

// Int returns the N value of n.
func Int(n int64) Value { return Value{t: N, s: strconv.FormatInt(n, 10)} }

// StrSet returns an SS value, refused as DynamoDB refuses an empty set or a repeated member.
func StrSet(members []string) (Value, error) { return noValueError(strSet(members)) }

// NumSet returns an NS value; each member is validated and made canonical like Num.
func NumSet(members []string) (Value, error) { return noValueError(numSet(members)) }

// BinSet returns a BS value holding copies of members.
func BinSet(members [][]byte) (Value, error) { return noValueError(binSet(members)) }

// noValueError keeps a nil *ValueError from becoming a non-nil error.
func noValueError(v Value, err *ValueError) (Value, error) {
	if err != nil {
		return Value{}, err
	}
	return v, nil
}

func strSet(members []string) (Value, *ValueError) {
	if len(members) == 0 {
		return Value{}, valueError(msgEmptySS)
	}
	if err := duplicateMembers(members, SS); err != nil {
		return Value{}, err
	}
	return Value{t: SS, set: slices.Clone(members)}, nil
}

func numSet(members []string) (Value, *ValueError) {
	if len(members) == 0 {
		return Value{}, valueError(msgEmptyNS)
	}
	set := make([]string, len(members))
	for i, m := range members {
		c, err := canonicalNumber(m)
		if err != nil {
			return Value{}, err
		}
		set[i] = c
	}
	if err := duplicateMembers(set, NS); err != nil {
		return Value{}, err
	}
	return Value{t: NS, set: set}, nil
}

func binSet(members [][]byte) (Value, *ValueError) {
	if len(members) == 0 {
		return Value{}, valueError(msgEmptyBS)
	}
	set := make([]string, len(members))
	for i, m := range members {
		set[i] = string(m)
	}
	if err := duplicateMembers(set, BS); err != nil {
		return Value{}, err
	}
	return Value{t: BS, set: set}, nil
}

// duplicateMembers refuses a set with a repeated member in DynamoDB's words. The current
// wording lists, quoted, the members sent before the first repeat in byte order, then the
// repeat, then the members after it as sent (the state of a sorted set when the repeat is
// found); the older wording lists the members as sent.
func duplicateMembers(members []string, t Type) *ValueError {
	seen := make(map[string]struct{}, len(members))
	dup := -1
	for i, m := range members {
		if _, ok := seen[m]; ok {
			dup = i
			break
		}
		seen[m] = struct{}{}
	}
	if dup < 0 {
		return nil
	}
	if t == NS {
		return &ValueError{msg: invalidParams + "Input collection contains duplicates.", older: "Input collection contains duplicates"}
	}
	show := func(m string) string {
		if t == BS {
			return encodeBase64(m)
		}
		return m
	}
	before := slices.Clone(members[:dup])
	slices.Sort(before)
	order := append(append(before, members[dup]), members[dup+1:]...)
	var cur, old strings.Builder
	sep := ", "
	if t == BS {
		sep = ","
	}
	for i, m := range order {
		if i > 0 {
			cur.WriteString(sep)
		}
		cur.WriteString(show(m))
	}
	for i, m := range members {
		if i > 0 {
			old.WriteString(", ")
		}
		old.WriteString(show(m))
	}
	tail := " contains duplicates."
	if t == BS {
		tail = "of type BS contains duplicates."
	}
	return &ValueError{
		msg:   invalidParams + "Input collection [" + cur.String() + "]" + tail,
		older: invalidParams + "Input collection [" + old.String() + "]" + tail,
	}
}

// Type returns the value's type.
func (v Value) Type() Type { return v.t }

// IsZero reports whether v is the zero Value (no type).
func (v Value) IsZero() bool { return v.t == None }

// Text returns the string of an S value, the canonical text of an N value, or the bytes of a
// B value as a string.
func (v Value) Text() string { return v.s }

// Bytes returns a copy of the bytes of a B value.
func (v Value) Bytes() []byte { return []byte(v.s) }

// BoolValue returns the value of a BOOL.
func (v Value) BoolValue() bool { return v.b }

// ListValues returns the elements of an L value.
func (v Value) ListValues() []Value { return v.list }

// MapValues returns the entries of an M value.
func (v Value) MapValues() map[string]Value { return v.m }

// Members returns the members of a set: strings, canonical numbers, or bytes as strings.
func (v Value) Members() []string { return v.set }

// Len returns the number of elements of an L, entries of an M, members of a set, or bytes of
// an S or B value (size() in expressions); 0 for other types.
func (v Value) Len() int {
	switch v.t {
	case S, B:
		return len(v.s)
	case L:
		return len(v.list)
	case M:
		return len(v.m)
	case SS, NS, BS:
		return len(v.set)
	}
	return 0
}

// HasMember reports whether a set contains the member m (a string, canonical number or bytes).
func (v Value) HasMember(m string) bool { return slices.Contains(v.set, m) }

// withSet returns a set value of type t over members, which must be a valid set.
func withSet(t Type, members []string) Value { return Value{t: t, set: members} }

// Equal reports whether a and b are the same value as DynamoDB compares them: same type, sets
// regardless of member order, lists element by element, maps entry by entry.
func Equal(a, b Value) bool {
	if a.t != b.t {
		return false
	}
	switch a.t {
	case S, N, B:
		return a.s == b.s
	case BOOL, NULL:
		return a.b == b.b
	case SS, NS, BS:
		if len(a.set) != len(b.set) {
			return false
		}
		for _, m := range a.set {
			if !slices.Contains(b.set, m) {
				return false
			}
		}
		return true
	case L:
		if len(a.list) != len(b.list) {
			return false
		}
		for i := range a.list {
			if !Equal(a.list[i], b.list[i]) {
				return false
			}
		}
		return true
	case M:
		if len(a.m) != len(b.m) {
			return false
		}
		for k, av := range a.m {
			bv, ok := b.m[k]
			if !ok || !Equal(av, bv) {
				return false
			}
		}
		return true
	}
	return true
}

// Compare orders two values of the same scalar type: strings by their UTF-8 bytes, numbers by
// value, binaries by unsigned bytes. ok is false when the types differ or are not S, N or B.
func Compare(a, b Value) (c int, ok bool) {
	if a.t != b.t {
		return 0, false
	}
	switch a.t {
	case S, B:
		return strings.Compare(a.s, b.s), true
	case N:
		return compareNumbers(a.s, b.s), true
	}
	return 0, false
}

// HasPrefix reports whether a (S or B) begins with b of the same type.
func HasPrefix(a, b Value) bool {
	return a.t == b.t && (a.t == S || a.t == B) && strings.HasPrefix(a.s, b.s)
}

// Contains reports contains(a, b) as DynamoDB evaluates it: a substring of a string, a
// subsequence of a binary, a member of a set of b's type, or an element of a list equal to b.
func Contains(a, b Value) bool {
	switch a.t {
	case S:
		return b.t == S && strings.Contains(a.s, b.s)
	case B:
		return b.t == B && bytes.Contains([]byte(a.s), []byte(b.s))
	case SS:
		return b.t == S && slices.Contains(a.set, b.s)
	case NS:
		return b.t == N && slices.Contains(a.set, b.s)
	case BS:
		return b.t == B && slices.Contains(a.set, b.s)
	case L:
		for _, e := range a.list {
			if Equal(e, b) {
				return true
			}
		}
	}
	return false
}

// Add returns a+b for two numbers, refused as DynamoDB refuses a result it cannot store.
func Add(a, b Value) (Value, error) { return arith(a, b, false) }

// Sub returns a-b for two numbers.
func Sub(a, b Value) (Value, error) { return arith(a, b, true) }

func arith(a, b Value, subtract bool) (Value, error) {
	if a.t != N || b.t != N {
		return Value{}, Validation("An operand in the update expression has an incorrect data type")
	}
	c, err := addNumbers(a.s, b.s, subtract)
	if err != nil {
		return Value{}, err
	}
	return Value{t: N, s: c}, nil
}

// Union returns the set a with b's members added (ADD on sets); both must be sets of one type.
func Union(a, b Value) Value {
	out := slices.Clone(a.set)
	for _, m := range b.set {
		if !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	return withSet(a.t, out)
}

// Difference returns the set a without b's members (DELETE on sets), and false when nothing
// remains (DynamoDB then removes the attribute).
func Difference(a, b Value) (Value, bool) {
	out := make([]string, 0, len(a.set))
	for _, m := range a.set {
		if !slices.Contains(b.set, m) {
			out = append(out, m)
		}
	}
	if len(out) == 0 {
		return Value{}, false
	}
	return withSet(a.t, out), true
}

// Depth is the nesting level of a value: 1 for a scalar or set, one more than its deepest
// element for a list or map (an empty one is 1).
func (v Value) Depth() int {
	d := 0
	switch v.t {
	case L:
		for _, e := range v.list {
			d = max(d, e.Depth())
		}
	case M:
		for _, e := range v.m {
			d = max(d, e.Depth())
		}
	}
	return d + 1
}

// String renders v in DynamoDB's JSON form, for messages and debugging.
func (v Value) String() string {
	b, _ := v.MarshalJSON()
	return string(b)
}
