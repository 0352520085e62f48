package dynamodb

import (
	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/service/dynamodb/attr"
)

// capacity counts the capacity units one operation consumes on one table, for
// ReturnConsumedCapacity: TOTAL reports the sum, INDEXES also the table's and each index's part.
type capacity struct {
	table      string
	read       bool
	tableUnits float64
	gsi, lsi   map[string]float64
}

func newCapacity(t *table) *capacity {
	return &capacity{table: t.Key.Name}
}

// addTable charges units to the table.
func (c *capacity) addTable(units float64) {
	c.tableUnits += units
}

// addIndex charges units to an index.
func (c *capacity) addIndex(ix *indexMeta, units float64) {
	m := &c.lsi
	if ix.Global {
		m = &c.gsi
	}
	if *m == nil {
		*m = map[string]float64{}
	}
	(*m)[ix.Name] += units
}

// addWrite charges an item change: the table for the larger image, and each index whose entry
// the change writes or removes (twice when the entry moves to another index key).
func (c *capacity) addWrite(t *table, ch change, transactional bool) {
	size := max(ch.old.Size(), ch.new.Size())
	c.addTable(attr.WriteUnits(size, transactional))
	for _, ix := range t.indexes() {
		ok, oldProj, hadOld := indexEntry(t, ix, ch.old)
		nk, newProj, hasNew := indexEntry(t, ix, ch.new)
		switch {
		case hadOld && hasNew && string(ok.hk) == string(nk.hk) && string(ok.rk) == string(nk.rk):
			c.addIndex(ix, attr.WriteUnits(max(oldProj.Size(), newProj.Size()), transactional))
		default:
			if hadOld {
				c.addIndex(ix, attr.WriteUnits(oldProj.Size(), transactional))
			}
			if hasNew {
				c.addIndex(ix, attr.WriteUnits(newProj.Size(), transactional))
			}
		}
	}
}

// total is every unit consumed.
func (c *capacity) total() float64 {
	n := c.tableUnits
	for _, u := range c.gsi {
		n += u
	}
	for _, u := range c.lsi {
		n += u
	}
	return n
}

// wire is the ConsumedCapacity to return for mode (ReturnConsumedCapacity), nil for NONE.
func (c *capacity) wire(mode *string) *ConsumedCapacity {
	m := awsproto.Value(mode)
	if c == nil || (m != "TOTAL" && m != "INDEXES") {
		return nil
	}
	// DynamoDB reports CapacityUnits alone, without the read and write split.
	out := &ConsumedCapacity{TableName: awsproto.Ptr(c.table), CapacityUnits: awsproto.Ptr(c.total())}
	if m == "INDEXES" {
		out.Table = c.unit(c.tableUnits)
		out.GlobalSecondaryIndexes = c.units(c.gsi)
		out.LocalSecondaryIndexes = c.units(c.lsi)
	}
	return out
}

func (c *capacity) unit(u float64) *Capacity {
	return &Capacity{CapacityUnits: awsproto.Ptr(u)}
}

func (c *capacity) units(m map[string]float64) map[string]Capacity {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]Capacity, len(m))
	for k, u := range m {
		out[k] = *c.unit(u)
	}
	return out
}

// capacities merges per-table capacities into the list batch and transaction operations
// return.
func capacities(cs map[string]*capacity, mode *string) []ConsumedCapacity {
	m := awsproto.Value(mode)
	if m != "TOTAL" && m != "INDEXES" {
		return nil
	}
	out := make([]ConsumedCapacity, 0, len(cs))
	for _, name := range sortedNames(cs) {
		out = append(out, *cs[name].wire(mode))
	}
	return out
}

// capacityOf returns t's entry of a per-table capacity map, added when missing.
func capacityOf(cs map[string]*capacity, t *table) *capacity {
	c := cs[t.Key.Name]
	if c == nil {
		c = newCapacity(t)
		cs[t.Key.Name] = c
	}
	return c
}
