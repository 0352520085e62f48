package pattern

// Matches reports whether the JSON event matches p. It returns an error only when event is
// not a JSON object.
func (p *Pattern) Matches(event []byte) (bool, error) {
	ev, err := ParseEvent(event)
	if err != nil {
		return false, err
	}
	return p.MatchesEvent(ev), nil
}

// MatchesEvent reports whether the flattened event matches p.
//
// A field matches when one of its values matches one of the field's accepted values; an
// array in the event matches when one of its elements does. Like EventBridge, a match may
// not take two fields from objects in different elements of the same array.
func (p *Pattern) MatchesEvent(ev *Event) bool {
	if p.matchAll {
		return true
	}
	// Array elements only narrow a match: without them first, a search that must fail
	// usually fails here at once.
	flat := matchFlat(&p.root, ev)
	if !flat || !ev.hasArrays() {
		return flat
	}
	s := search{ev: ev, shared: p.shared}
	return s.node(&p.root, func() bool { return true })
}

// matchFlat matches an event without arrays, where fields cannot constrain each other.
func matchFlat(n *node, ev *Event) bool {
	for i := range n.fields {
		if !anyLeaf(&n.fields[i], ev) {
			return false
		}
	}
	for _, group := range n.ors {
		ok := false
		for _, b := range group {
			if matchFlat(b, ev) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

func anyLeaf(f *field, ev *Event) bool {
	i := ev.first(f.path)
	if i < 0 {
		return f.absentOK
	}
	for ; i >= 0; i = ev.leaves[i].next {
		if f.matches(&ev.leaves[i]) {
			return true
		}
	}
	return false
}

func (f *field) matches(l *leaf) bool {
	for i := range f.matchers {
		if f.matchers[i].match(l) {
			return true
		}
	}
	return false
}

// search finds a choice of one leaf per field whose array elements agree: two chosen
// leaves inside the same array must be inside the same element of it.
type search struct {
	ev     *Event
	shared map[string]bool
	chosen [][]step
}

// node satisfies n's fields and groups, then the continuation k, backtracking over leaves.
func (s *search) node(n *node, k func() bool) bool {
	return s.fields(n, 0, k)
}

func (s *search) fields(n *node, i int, k func() bool) bool {
	if i == len(n.fields) {
		return s.groups(n, 0, k)
	}
	f := &n.fields[i]
	li := s.ev.first(f.path)
	if li < 0 {
		return f.absentOK && s.fields(n, i+1, k)
	}
	var tried [][]step
	for ; li >= 0; li = s.ev.leaves[li].next {
		l := &s.ev.leaves[li]
		if !f.matches(l) || !s.consistent(l.trail) {
			continue
		}
		// Leaves in the same elements of the arrays other fields also reach are
		// interchangeable: once one failed, the others fail too.
		key := s.project(l.trail)
		if containsTrail(tried, key) {
			continue
		}
		tried = append(tried, key)
		s.chosen = append(s.chosen, l.trail)
		ok := s.fields(n, i+1, k)
		s.chosen = s.chosen[:len(s.chosen)-1]
		if ok {
			return true
		}
	}
	return false
}

func (s *search) groups(n *node, j int, k func() bool) bool {
	if j == len(n.ors) {
		return k()
	}
	for _, b := range n.ors[j] {
		if s.node(b, func() bool { return s.groups(n, j+1, k) }) {
			return true
		}
	}
	return false
}

// consistent reports whether a leaf in trail may be chosen with the leaves chosen so far.
func (s *search) consistent(trail []step) bool {
	for _, c := range s.chosen {
		for i := 0; i < len(c) && i < len(trail); i++ {
			if c[i].array != trail[i].array {
				break // the paths part before this array, so they share no deeper array
			}
			if c[i].index != trail[i].index {
				return false
			}
		}
	}
	return true
}

// project keeps the steps of trail through arrays that another field may also reach.
func (s *search) project(trail []step) []step {
	var out []step
	for _, st := range trail {
		if s.shared[s.ev.arrayPaths[st.array]] {
			out = append(out, st)
		}
	}
	return out
}

func containsTrail(list [][]step, t []step) bool {
	for _, x := range list {
		if len(x) != len(t) {
			continue
		}
		same := true
		for i := range x {
			if x[i] != t[i] {
				same = false
				break
			}
		}
		if same {
			return true
		}
	}
	return false
}
