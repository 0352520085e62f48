package attr

import "maps"

// Item is a DynamoDB item (or key): attribute names to values. Like Values, items the package
// returns share structure with their inputs and must be treated as immutable.
type Item map[string]Value

// MaxItemSize is the largest item DynamoDB stores, in bytes as Size counts them: an item of
// exactly 409,600 bytes is accepted and one byte more refused.
const MaxItemSize = 400 * 1024

// Clone returns a shallow copy of it (values are immutable, so it is a full copy in effect).
func (it Item) Clone() Item {
	if it == nil {
		return nil
	}
	return maps.Clone(it)
}

// Size returns the item's size as DynamoDB counts it for the item size limit and for capacity
// units: for each attribute, the UTF-8 length of its name plus the size of its value.
func (it Item) Size() int {
	n := 0
	for name, v := range it {
		n += len(name) + v.Size()
	}
	return n
}

// Size returns the bytes a value counts for in an item:
//   - S: its UTF-8 bytes; B: its raw bytes;
//   - N: one byte, plus one per pair of significant digits (aligned on the decimal point, as
//     DynamoDB stores numbers in base 100), plus one if negative and under 20 pairs;
//   - BOOL and NULL: 1;
//   - SS, NS, BS: the sum of their members' sizes;
//   - L and M: 3, plus for each element 1 and its size, and for a map entry its name's bytes.
func (v Value) Size() int {
	switch v.t {
	case S, B:
		return len(v.s)
	case N:
		return numberSize(v.s)
	case BOOL, NULL:
		return 1
	case SS, BS:
		n := 0
		for _, m := range v.set {
			n += len(m)
		}
		return n
	case NS:
		n := 0
		for _, m := range v.set {
			n += numberSize(m)
		}
		return n
	case L:
		n := 3
		for _, e := range v.list {
			n += 1 + e.Size()
		}
		return n
	case M:
		n := 3
		for k, e := range v.m {
			n += 1 + len(k) + e.Size()
		}
		return n
	}
	return 0
}

// CheckSize refuses an item written whole (PutItem, a batch or transaction put) that is over
// MaxItemSize, with DynamoDB's message.
func (it Item) CheckSize() error {
	if it.Size() > MaxItemSize {
		return ErrItemTooLarge()
	}
	return nil
}

// Capacity unit sizes: a read unit covers 4 KB, a write unit 1 KB.
const (
	readUnitSize  = 4 * 1024
	writeUnitSize = 1024
)

// ReadUnits returns the read capacity units DynamoDB charges for reading size bytes in one
// operation: one unit per 4 KB started (at least one, also for an item that does not exist),
// half that for an eventually consistent read, twice that in a transaction. Query and Scan
// charge once for the total size of the items they read, before any filter.
func ReadUnits(size int, consistent, transactional bool) float64 {
	units := float64(max(1, (size+readUnitSize-1)/readUnitSize))
	switch {
	case transactional:
		return 2 * units
	case !consistent:
		return units / 2
	}
	return units
}

// WriteUnits returns the write capacity units DynamoDB charges for writing size bytes: one unit
// per 1 KB started (at least one), twice that in a transaction. PutItem and UpdateItem are
// charged for the larger of the item before and after, DeleteItem for the item deleted.
func WriteUnits(size int, transactional bool) float64 {
	units := float64(max(1, (size+writeUnitSize-1)/writeUnitSize))
	if transactional {
		return 2 * units
	}
	return units
}
