package pattern

import (
	"slices"
	"strings"
	"sync"
)

// Machine matches an event against many named patterns at once. It indexes each pattern by
// one field it needs (exact values hashed, prefixes and suffixes by length, numeric ranges
// in an interval tree), so matching flattens the event once, looks each value up, and runs
// the full match only on the patterns the lookups name: its cost grows with the event and
// the matches, not with the number of patterns. Match flattens only the fields some pattern
// names, into an Event it reuses.
//
// A Machine is safe for concurrent use. Match and MatchEvent take a read lock and run in
// parallel with each other; Add and Remove take the write lock and wait for running
// matches to finish.
type Machine[K comparable] struct {
	mu      sync.RWMutex
	byName  map[K]uint32
	entries []*machineEntry[K] // by id; nil for a free id
	free    []uint32
	idx     index
	// paths are the field paths the patterns name and their prefixes: an event is
	// flattened to these.
	paths map[string]keptPath
	// events are flattened events to reuse.
	events sync.Pool
}

type machineEntry[K comparable] struct {
	name K
	p    *Pattern
	keys []indexKey
}

// NewMachine returns an empty Machine.
func NewMachine[K comparable]() *Machine[K] {
	return &Machine[K]{byName: map[K]uint32{}, idx: newIndex(), paths: map[string]keptPath{}}
}

// Add adds p under name, replacing any pattern already added under that name.
func (m *Machine[K]) Add(name K, p *Pattern) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.removeLocked(name)
	var id uint32
	if n := len(m.free); n > 0 {
		id, m.free = m.free[n-1], m.free[:n-1]
	} else {
		id = uint32(len(m.entries))
		m.entries = append(m.entries, nil)
	}
	e := &machineEntry[K]{name: name, p: p}
	if !p.matchAll {
		e.keys = keysOf(&p.root)
	}
	m.entries[id] = e
	m.byName[name] = id
	m.idx.add(id, e.keys)
	for _, path := range p.fieldPaths() {
		keepPath(m.paths, path, 1)
	}
}

// Remove removes the pattern added under name, reporting whether there was one.
func (m *Machine[K]) Remove(name K) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.removeLocked(name)
}

func (m *Machine[K]) removeLocked(name K) bool {
	id, ok := m.byName[name]
	if !ok {
		return false
	}
	m.idx.remove(id, m.entries[id].keys)
	for _, path := range m.entries[id].p.fieldPaths() {
		keepPath(m.paths, path, -1)
	}
	m.entries[id] = nil
	delete(m.byName, name)
	m.free = append(m.free, id)
	return true
}

// Len returns the number of patterns in the machine.
func (m *Machine[K]) Len() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.byName)
}

// Match returns the names of the patterns that the JSON event matches, in no particular
// order. It returns an error only when event is not a JSON object.
// It flattens only the fields its patterns name, so it is cheaper than ParseEvent followed
// by MatchEvent.
func (m *Machine[K]) Match(event []byte) ([]K, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	ev, _ := m.events.Get().(*Event)
	if ev == nil {
		ev = &Event{paths: map[string]span{}}
	}
	defer func() { ev.reset(); m.events.Put(ev) }()
	if err := ev.parse(event, m.paths); err != nil {
		return nil, err
	}
	return m.matchLocked(ev), nil
}

// keepPath counts one pattern more (delta 1) or less (-1) naming path as a field, and path's
// prefixes as objects its field is in.
func keepPath(paths map[string]keptPath, path string, delta int) {
	for p, leaf := path, true; ; leaf = false {
		k := paths[p]
		k.name = p
		if leaf {
			k.fields += delta
		} else {
			k.inside += delta
		}
		if k.fields <= 0 && k.inside <= 0 {
			delete(paths, p)
		} else {
			paths[p] = k
		}
		i := strings.LastIndexByte(p, '.')
		if i < 0 {
			return
		}
		p = p[:i]
	}
}

// MatchEvent returns the names of the patterns that the flattened event matches, in no
// particular order; each name once.
func (m *Machine[K]) MatchEvent(ev *Event) []K {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.matchLocked(ev)
}

func (m *Machine[K]) matchLocked(ev *Event) []K {
	var stack [64]uint32
	cands := m.idx.candidates(ev, stack[:0])
	slices.Sort(cands)
	cands = slices.Compact(cands)
	var out []K
	for _, id := range cands {
		e := m.entries[id]
		if e.p.MatchesEvent(ev) {
			out = append(out, e.name)
		}
	}
	return out
}
