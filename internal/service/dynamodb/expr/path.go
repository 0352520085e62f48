package expr

import (
	"strconv"
	"strings"

	"github.com/kiri-run/kiri/internal/service/dynamodb/attr"
)

// PathElem is one step of a document path: an attribute or map key name, or a list index.
type PathElem struct {
	Name  string
	Index int // the list index; -1 for a name
}

// IsIndex reports whether e is a list index.
func (e PathElem) IsIndex() bool { return e.Index >= 0 }

// Path is a document path: a top-level attribute name, then map keys and list indexes
// (a.b[1].c is [a, b, [1], c]). Placeholders are resolved.
type Path []PathElem

// NamePath returns the path of a top-level attribute.
func NamePath(name string) Path { return Path{{Name: name, Index: -1}} }

// Head returns the path's top-level attribute name.
func (p Path) Head() string { return p[0].Name }

// String renders p as DynamoDB does in messages: [a, b, [1], c].
func (p Path) String() string {
	var b strings.Builder
	b.WriteByte('[')
	for i, e := range p {
		if i > 0 {
			b.WriteString(", ")
		}
		if e.IsIndex() {
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(e.Index))
			b.WriteByte(']')
		} else {
			b.WriteString(e.Name)
		}
	}
	b.WriteByte(']')
	return b.String()
}

// Lookup returns the value at p in item, and whether there is one.
func Lookup(item attr.Item, p Path) (attr.Value, bool) {
	v, ok := item[p[0].Name]
	for _, e := range p[1:] {
		if !ok {
			return attr.Value{}, false
		}
		v, ok = child(v, e)
	}
	return v, ok
}

// child returns the element e of a map or list value.
func child(v attr.Value, e PathElem) (attr.Value, bool) {
	if e.IsIndex() {
		if v.Type() != attr.L {
			return attr.Value{}, false
		}
		l := v.ListValues()
		if e.Index >= len(l) {
			return attr.Value{}, false
		}
		return l[e.Index], true
	}
	if v.Type() != attr.M {
		return attr.Value{}, false
	}
	c, ok := v.MapValues()[e.Name]
	return c, ok
}

// overlapCheck finds the first pair of paths DynamoDB refuses together: one a prefix of the
// other (overlap), or the same prefix followed by a name in one and an index in the other
// (conflict). Overlaps are reported before conflicts.
func overlapCheck(paths []Path) string {
	conflict := ""
	for j := 1; j < len(paths); j++ {
		for i := range j {
			a, b := paths[i], paths[j]
			n := min(len(a), len(b))
			k := 0
			for ; k < n; k++ {
				if a[k].IsIndex() != b[k].IsIndex() {
					if conflict == "" {
						conflict = msgConflict(a, b)
					}
					break
				}
				if a[k] != b[k] {
					break
				}
			}
			if k == n {
				return msgOverlap(a, b)
			}
		}
	}
	return conflict
}

// trie is the tree of a set of non-overlapping paths, for walking an item once for all of them.
// A node is a leaf (one path ends there) or has children, all names or all indexes.
type trie struct {
	leaf    int // the index of the path ending here, or -1
	names   []trieName
	indexes []trieIndex // ascending
}

type trieName struct {
	name string
	node *trie
}

type trieIndex struct {
	index int
	node  *trie
}

// buildTrie arranges paths, which overlapCheck accepted, into a trie.
func buildTrie(paths []Path) *trie {
	root := &trie{leaf: -1}
	for i, p := range paths {
		n := root
		for _, e := range p {
			n = n.step(e)
		}
		n.leaf = i
	}
	return root
}

func (t *trie) step(e PathElem) *trie {
	if e.IsIndex() {
		for _, c := range t.indexes {
			if c.index == e.Index {
				return c.node
			}
		}
		n := &trie{leaf: -1}
		at := len(t.indexes)
		for at > 0 && t.indexes[at-1].index > e.Index {
			at--
		}
		t.indexes = append(t.indexes, trieIndex{})
		copy(t.indexes[at+1:], t.indexes[at:])
		t.indexes[at] = trieIndex{e.Index, n}
		return n
	}
	for _, c := range t.names {
		if c.name == e.Name {
			return c.node
		}
	}
	n := &trie{leaf: -1}
	t.names = append(t.names, trieName{e.Name, n})
	return n
}

// project returns the parts of item the trie's paths select, as ProjectionExpression and
// the UPDATED_OLD / UPDATED_NEW return values do: maps keep the selected entries, lists the
// selected elements in index order (closed up), and nothing is kept of a path that is absent.
func (t *trie) project(item attr.Item) attr.Item {
	out := attr.Item{}
	for _, c := range t.names {
		v, ok := item[c.name]
		if !ok {
			continue
		}
		if p, ok := c.node.extract(v); ok {
			out[c.name] = p
		}
	}
	return out
}

func (t *trie) extract(v attr.Value) (attr.Value, bool) {
	if t.leaf >= 0 {
		return v, true
	}
	switch {
	case len(t.names) > 0 && v.Type() == attr.M:
		m := v.MapValues()
		out := make(map[string]attr.Value, len(t.names))
		for _, c := range t.names {
			if cv, ok := m[c.name]; ok {
				if p, ok := c.node.extract(cv); ok {
					out[c.name] = p
				}
			}
		}
		if len(out) > 0 {
			return attr.Map(out), true
		}
	case len(t.indexes) > 0 && v.Type() == attr.L:
		l := v.ListValues()
		var out []attr.Value
		for _, c := range t.indexes {
			if c.index < len(l) {
				if p, ok := c.node.extract(l[c.index]); ok {
					out = append(out, p)
				}
			}
		}
		if len(out) > 0 {
			return attr.List(out), true
		}
	}
	return attr.Value{}, false
}
