package pattern

import (
	"sort"
	"strconv"
	"strings"
)

// wildcard is a compiled wildcard pattern: literal segments joined by '*'. EventBridge's
// wildcard knows only '*'; "\*" is a literal asterisk and "\\" a literal backslash.
type wildcard struct {
	segs []string // len(segs) == number of stars + 1
}

// parseWildcard compiles s, refusing consecutive stars and bad escapes with event-ruler's
// messages. Positions count bytes of the value with its opening quote, as event-ruler does.
func parseWildcard(s string) (wildcard, string) {
	var w wildcard
	var cur strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '*':
			if i+1 < len(s) && s[i+1] == '*' {
				return wildcard{}, "Consecutive wildcard characters at pos " + strconv.Itoa(i+1)
			}
			w.segs = append(w.segs, cur.String())
			cur.Reset()
		case '\\':
			if i+1 < len(s) && (s[i+1] == '*' || s[i+1] == '\\') {
				cur.WriteByte(s[i+1])
				i++
				continue
			}
			return wildcard{}, "Invalid escape character at pos " + strconv.Itoa(i+1)
		default:
			cur.WriteByte(c)
		}
	}
	w.segs = append(w.segs, cur.String())
	return w, ""
}

// match reports whether s matches the whole pattern.
func (w wildcard) match(s string) bool {
	if len(w.segs) == 1 {
		return s == w.segs[0]
	}
	first, last := w.segs[0], w.segs[len(w.segs)-1]
	if len(s) < len(first)+len(last) || !strings.HasPrefix(s, first) || !strings.HasSuffix(s, last) {
		return false
	}
	// Leftmost placement of each middle segment is optimal for a pattern of stars only.
	rest := s[len(first) : len(s)-len(last)]
	for _, seg := range w.segs[1 : len(w.segs)-1] {
		i := strings.Index(rest, seg)
		if i < 0 {
			return false
		}
		rest = rest[i+len(seg):]
	}
	return true
}

// wildcardComplexityLimit is the most simultaneously live wildcard prefixes EventBridge
// accepts for one field. Event-ruler measures complexity as the number of wildcard rule
// prefixes a worst-case value keeps alive at once (MachineComplexityEvaluator); AWS does not
// publish its threshold. Ten refuses "*:*:*:*:*:event-bus/*" (complexity 11) and accepts
// the patterns AWS accepts in the recorded cases.
const wildcardComplexityLimit = 10

// maxComplexityStates bounds the search; a field whose state space is this large is refused.
const maxComplexityStates = 4096

// nfaPattern is one wildcard value as event-ruler's byte machine sees it: the quoted value's
// literal bytes, and which positions carry a '*' loop.
type nfaPattern struct {
	lits []byte
	loop []bool // len(lits)+1
}

func newNFAPattern(w wildcard) nfaPattern {
	p := nfaPattern{lits: []byte{'"'}, loop: []bool{false, false}}
	for i, seg := range w.segs {
		if i > 0 {
			p.loop[len(p.loop)-1] = true
		}
		for j := 0; j < len(seg); j++ {
			p.lits = append(p.lits, seg[j])
			p.loop = append(p.loop, false)
		}
	}
	p.lits = append(p.lits, '"')
	p.loop = append(p.loop, false)
	return p
}

// wildcardComplexity returns the largest number of wildcard prefixes alive at once while
// matching any value against all of ws together, stopping early past the limit.
func wildcardComplexity(ws []wildcard) int {
	pats := make([]nfaPattern, len(ws))
	alphabet := map[byte]bool{}
	for i, w := range ws {
		pats[i] = newNFAPattern(w)
		for _, c := range pats[i].lits {
			alphabet[c] = true
		}
	}
	bytesToTry := []int{-1} // -1 stands for every byte that no pattern names
	for c := range alphabet {
		bytesToTry = append(bytesToTry, int(c))
	}
	type pos struct{ p, k int }
	start := make([]pos, len(pats))
	for i := range pats {
		start[i] = pos{i, 0}
	}
	key := func(set []pos) string {
		var b strings.Builder
		for _, x := range set {
			b.WriteString(strconv.Itoa(x.p))
			b.WriteByte(':')
			b.WriteString(strconv.Itoa(x.k))
			b.WriteByte(',')
		}
		return b.String()
	}
	seen := map[string]bool{key(start): true}
	queue := [][]pos{start}
	worst := 0
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		for _, c := range bytesToTry {
			type trans struct {
				p, k int
				star bool
			}
			taken := map[trans]bool{}
			next := map[pos]bool{}
			for _, x := range cur {
				p := pats[x.p]
				if p.loop[x.k] {
					taken[trans{x.p, x.k, true}] = true
					next[x] = true
				}
				if x.k < len(p.lits) && int(p.lits[x.k]) == c {
					taken[trans{x.p, x.k, false}] = true
					next[pos{x.p, x.k + 1}] = true
				}
			}
			if len(next) == 0 {
				continue
			}
			size := len(taken)
			for t := range taken {
				// A value that reaches a state with a '*' loop is also a prefix of the starred pattern.
				if !t.star && pats[t.p].loop[t.k+1] && !taken[trans{t.p, t.k + 1, true}] {
					size++
				}
			}
			if size > worst {
				worst = size
			}
			if worst > wildcardComplexityLimit {
				return worst
			}
			set := make([]pos, 0, len(next))
			for x := range next {
				set = append(set, x)
			}
			sort.Slice(set, func(i, j int) bool {
				if set[i].p != set[j].p {
					return set[i].p < set[j].p
				}
				return set[i].k < set[j].k
			})
			k := key(set)
			if !seen[k] {
				if len(seen) >= maxComplexityStates {
					return wildcardComplexityLimit + 1
				}
				seen[k] = true
				queue = append(queue, set)
			}
		}
	}
	return worst
}
