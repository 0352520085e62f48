package pattern

import (
	"sort"
	"sync"
	"sync/atomic"
)

// keyKind says which structure of the index holds a key.
type keyKind uint8

const (
	keyExact      keyKind = iota // hashed: the path and the exact value
	keyFold                      // hashed: the path and the case-folded value
	keyPrefix                    // by prefix
	keyPrefixFold                // by case-folded prefix
	keySuffix                    // by suffix
	keySuffixFold                // by case-folded suffix
	keyRange                     // a numeric interval
	keyPresence                  // any value at the path
)

// indexKey is one way a pattern can become a candidate: if the pattern matches an event,
// one of its keys fires for one of the event's leaves. Keys may fire for events that do
// not match; every candidate is checked with MatchesEvent.
type indexKey struct {
	kind   keyKind
	path   string
	val    string
	lo, hi float64 // keyRange, bounds taken as closed
}

// selectivity ranks key kinds: the index prefers the field whose keys fire least often.
func (k indexKey) selectivity() int {
	switch k.kind {
	case keyExact, keyFold:
		return 3
	case keyPrefix, keyPrefixFold, keySuffix, keySuffixFold:
		if k.val == "" {
			return 1
		}
		return 2
	case keyRange:
		return 2
	}
	return 1
}

// matcherKey is the index key of one matcher of a field at path.
func matcherKey(path string, m *matcher) indexKey {
	k := indexKey{kind: keyPresence, path: path}
	switch m.op {
	case opExactString:
		k.kind, k.val = keyExact, "s"+m.str
		if m.ip != nil {
			k.val = ipKey(ipAddr{v4: m.ip.v4, b: m.ip.lo})
		}
	case opExactNumber:
		k.kind, k.val = keyExact, "t"+m.str
		if m.numOK {
			k.val = numberKey(m.num)
		}
	case opLiteral:
		k.kind, k.val = keyExact, literalKey(m.lit)
	case opFold:
		k.kind, k.val = keyFold, m.str
	case opPrefix:
		k.kind, k.val = keyPrefix, m.str
	case opPrefixFold:
		k.kind, k.val = keyPrefixFold, m.str
	case opSuffix:
		k.kind, k.val = keySuffix, m.str
	case opSuffixFold:
		k.kind, k.val = keySuffixFold, m.str
	case opNumeric:
		k.kind, k.lo, k.hi = keyRange, m.lo, m.hi
		if !m.hasLo {
			k.lo = -maxFloat
		}
		if !m.hasHi {
			k.hi = maxFloat
		}
	}
	return k
}

const maxFloat = 1.7976931348623157e308

func literalKey(k kind) string {
	switch k {
	case kindTrue:
		return "ltrue"
	case kindFalse:
		return "lfalse"
	}
	return "lnull"
}

func ipKey(a ipAddr) string {
	if a.v4 {
		return "i4" + string(a.b[:4])
	}
	return "i6" + string(a.b[:])
}

// keysOf chooses the keys that index a pattern, or nil when it has none and must be tried
// against every event: the most selective field that every match needs a leaf for, or else
// an $or group all of whose branches have keys.
func keysOf(n *node) []indexKey {
	var best []indexKey
	bestScore := 0
	for i := range n.fields {
		f := &n.fields[i]
		if f.absentOK || len(f.matchers) == 0 {
			continue
		}
		keys := make([]indexKey, 0, len(f.matchers))
		score := 3
		for j := range f.matchers {
			k := matcherKey(f.path, &f.matchers[j])
			keys = append(keys, k)
			score = min(score, k.selectivity())
		}
		if score > bestScore {
			best, bestScore = keys, score
		}
	}
	for _, group := range n.ors {
		var keys []indexKey
		score := 3
		for _, b := range group {
			bk := keysOf(b)
			if bk == nil {
				keys = nil
				break
			}
			for _, k := range bk {
				score = min(score, k.selectivity())
			}
			keys = append(keys, bk...)
		}
		if keys != nil && score > bestScore {
			best, bestScore = keys, score
		}
	}
	return best
}

// index finds the candidate patterns for an event without trying every pattern.
type index struct {
	exact    map[string][]uint32 // path \x00 value key
	fold     map[string][]uint32 // path \x00 folded value
	affixes  [4]map[string]*affixSet
	ranges   map[string]*rangeSet
	presence map[string][]uint32
	always   []uint32
	ipKeys   int // how many exact keys are IP addresses
}

func newIndex() index {
	ix := index{
		exact:    map[string][]uint32{},
		fold:     map[string][]uint32{},
		ranges:   map[string]*rangeSet{},
		presence: map[string][]uint32{},
	}
	for i := range ix.affixes {
		ix.affixes[i] = map[string]*affixSet{}
	}
	return ix
}

func affixSlot(k keyKind) int { return int(k - keyPrefix) }

func hashKey(path, val string) string { return path + "\x00" + val }

func (ix *index) add(id uint32, keys []indexKey) {
	if keys == nil {
		ix.always = append(ix.always, id)
		return
	}
	for _, k := range keys {
		switch k.kind {
		case keyExact:
			ix.exact[hashKey(k.path, k.val)] = append(ix.exact[hashKey(k.path, k.val)], id)
			if isIPKey(k.val) {
				ix.ipKeys++
			}
		case keyFold:
			ix.fold[hashKey(k.path, k.val)] = append(ix.fold[hashKey(k.path, k.val)], id)
		case keyPrefix, keyPrefixFold, keySuffix, keySuffixFold:
			m := ix.affixes[affixSlot(k.kind)]
			s := m[k.path]
			if s == nil {
				s = &affixSet{byAffix: map[string][]uint32{}, lengths: map[int]int{}}
				m[k.path] = s
			}
			s.add(k.val, id)
		case keyRange:
			r := ix.ranges[k.path]
			if r == nil {
				r = &rangeSet{}
				ix.ranges[k.path] = r
			}
			r.add(rangeItem{lo: k.lo, hi: k.hi, id: id})
		case keyPresence:
			ix.presence[k.path] = append(ix.presence[k.path], id)
		}
	}
}

func (ix *index) remove(id uint32, keys []indexKey) {
	if keys == nil {
		ix.always = removeID(ix.always, id)
		return
	}
	for _, k := range keys {
		switch k.kind {
		case keyExact:
			deleteID(ix.exact, hashKey(k.path, k.val), id)
			if isIPKey(k.val) {
				ix.ipKeys--
			}
		case keyFold:
			deleteID(ix.fold, hashKey(k.path, k.val), id)
		case keyPrefix, keyPrefixFold, keySuffix, keySuffixFold:
			m := ix.affixes[affixSlot(k.kind)]
			if s := m[k.path]; s != nil && s.remove(k.val, id) {
				delete(m, k.path)
			}
		case keyRange:
			if r := ix.ranges[k.path]; r != nil && r.remove(id) {
				delete(ix.ranges, k.path)
			}
		case keyPresence:
			deleteID(ix.presence, k.path, id)
		}
	}
}

func isIPKey(v string) bool { return len(v) > 1 && v[0] == 'i' }

func removeID(ids []uint32, id uint32) []uint32 {
	for i, x := range ids {
		if x == id {
			return append(ids[:i], ids[i+1:]...)
		}
	}
	return ids
}

func deleteID(m map[string][]uint32, key string, id uint32) {
	ids := removeID(m[key], id)
	if len(ids) == 0 {
		delete(m, key)
	} else {
		m[key] = ids
	}
}

// candidates appends the ids of the patterns that may match ev.
func (ix *index) candidates(ev *Event, out []uint32) []uint32 {
	out = append(out, ix.always...)
	var room [128]byte
	buf := room[:0]
	lookup := func(m map[string][]uint32, path, tag, val string) {
		buf = append(append(append(append(buf[:0], path...), 0), tag...), val...)
		out = append(out, m[string(buf)]...)
	}
	for i := range ev.leaves {
		l := &ev.leaves[i]
		switch l.kind {
		case kindString:
			lookup(ix.exact, l.path, "s", l.text)
			if ix.ipKeys > 0 {
				if a, ok := parseIP(l.text); ok {
					lookup(ix.exact, l.path, "", ipKey(a))
				}
			}
			out = ix.affixCandidates(l.path, l.text, out)
		case kindNumber:
			if l.numOK {
				lookup(ix.exact, l.path, "", numberKey(l.num))
				if r := ix.ranges[l.path]; r != nil {
					out = r.stab(l.num, out)
				}
			} else {
				lookup(ix.exact, l.path, "t", l.text)
			}
		default:
			lookup(ix.exact, l.path, "", literalKey(l.kind))
		}
	}
	if len(ix.presence) > 0 {
		for path := range ev.paths {
			out = append(out, ix.presence[path]...)
		}
	}
	return out
}

// affixCandidates looks a string leaf up among the prefixes, suffixes and case-folded
// values indexed for its path.
func (ix *index) affixCandidates(path, s string, out []uint32) []uint32 {
	if p := ix.affixes[affixSlot(keyPrefix)][path]; p != nil {
		out = p.prefixes(s, out)
	}
	if p := ix.affixes[affixSlot(keySuffix)][path]; p != nil {
		out = p.suffixes(s, out)
	}
	pf := ix.affixes[affixSlot(keyPrefixFold)][path]
	sf := ix.affixes[affixSlot(keySuffixFold)][path]
	if pf == nil && sf == nil && len(ix.fold) == 0 {
		return out
	}
	folded := fold(s)
	if pf != nil {
		out = pf.prefixes(folded, out)
	}
	if sf != nil {
		out = sf.suffixes(folded, out)
	}
	if len(ix.fold) != 0 {
		out = append(out, ix.fold[hashKey(path, folded)]...)
	}
	return out
}

// affixSet indexes the prefixes (or suffixes) of one path: a value is looked up once for
// each distinct affix length, so the cost does not grow with the number of patterns.
type affixSet struct {
	byAffix map[string][]uint32
	lengths map[int]int // affix length -> how many affixes have it
	sorted  []int
}

func (s *affixSet) add(affix string, id uint32) {
	if len(s.byAffix[affix]) == 0 {
		s.lengths[len(affix)]++
		s.resort()
	}
	s.byAffix[affix] = append(s.byAffix[affix], id)
}

// remove reports whether the set is now empty.
func (s *affixSet) remove(affix string, id uint32) bool {
	ids := removeID(s.byAffix[affix], id)
	if len(ids) > 0 {
		s.byAffix[affix] = ids
		return false
	}
	delete(s.byAffix, affix)
	if s.lengths[len(affix)]--; s.lengths[len(affix)] == 0 {
		delete(s.lengths, len(affix))
		s.resort()
	}
	return len(s.byAffix) == 0
}

func (s *affixSet) resort() {
	s.sorted = s.sorted[:0]
	for n := range s.lengths {
		s.sorted = append(s.sorted, n)
	}
	sort.Ints(s.sorted)
}

func (s *affixSet) prefixes(v string, out []uint32) []uint32 {
	for _, n := range s.sorted {
		if n > len(v) {
			break
		}
		out = append(out, s.byAffix[v[:n]]...)
	}
	return out
}

func (s *affixSet) suffixes(v string, out []uint32) []uint32 {
	for _, n := range s.sorted {
		if n > len(v) {
			break
		}
		out = append(out, s.byAffix[v[len(v)-n:]]...)
	}
	return out
}

// rangeSet holds the numeric intervals of one path. Changes happen under the Machine's
// write lock; the search tree is rebuilt by the first Match after a change.
type rangeSet struct {
	items []rangeItem
	mu    sync.Mutex
	tree  atomic.Pointer[rangeTree]
}

type rangeItem struct {
	lo, hi float64
	id     uint32
}

func (r *rangeSet) add(it rangeItem) {
	r.items = append(r.items, it)
	r.tree.Store(nil)
}

// remove reports whether the set is now empty.
func (r *rangeSet) remove(id uint32) bool {
	for i, it := range r.items {
		if it.id == id {
			r.items = append(r.items[:i], r.items[i+1:]...)
			break
		}
	}
	r.tree.Store(nil)
	return len(r.items) == 0
}

func (r *rangeSet) stab(x float64, out []uint32) []uint32 {
	t := r.tree.Load()
	if t == nil {
		r.mu.Lock()
		if t = r.tree.Load(); t == nil {
			t = newRangeTree(r.items)
			r.tree.Store(t)
		}
		r.mu.Unlock()
	}
	return t.stab(0, len(t.items), x, out)
}

// rangeTree is an interval tree laid out in an array sorted by lower bound: the middle of
// each span is its root, and maxHi bounds the upper ends below it.
type rangeTree struct {
	items []rangeItem
	maxHi []float64
}

func newRangeTree(items []rangeItem) *rangeTree {
	t := &rangeTree{items: append([]rangeItem(nil), items...)}
	sort.Slice(t.items, func(i, j int) bool { return t.items[i].lo < t.items[j].lo })
	t.maxHi = make([]float64, len(t.items))
	t.build(0, len(t.items))
	return t
}

func (t *rangeTree) build(lo, hi int) float64 {
	if lo >= hi {
		return -maxFloat
	}
	mid := (lo + hi) / 2
	m := max(t.items[mid].hi, t.build(lo, mid), t.build(mid+1, hi))
	t.maxHi[mid] = m
	return m
}

func (t *rangeTree) stab(lo, hi int, x float64, out []uint32) []uint32 {
	for lo < hi {
		mid := (lo + hi) / 2
		if t.maxHi[mid] < x {
			return out
		}
		out = t.stab(lo, mid, x, out)
		if t.items[mid].lo > x {
			return out // everything right of mid starts above x too
		}
		if t.items[mid].hi >= x {
			out = append(out, t.items[mid].id)
		}
		lo = mid + 1
	}
	return out
}
