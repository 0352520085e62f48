package expr

import (
	"github.com/kiri-run/kiri/internal/service/dynamodb/attr"
)

// Projection is a parsed ProjectionExpression, or a legacy AttributesToGet translated to one:
// the attributes, or parts of them, a read returns. It is safe for concurrent use once parsed.
type Projection struct {
	paths []Path
	trie  *trie
}

// Projection parses a ProjectionExpression, checks it as DynamoDB does (a reserved word, an
// undefined name, overlapping then conflicting paths) and resolves its names.
func (p *Params) Projection(src string) (*Projection, error) {
	if err := emptyCheck(KindProjection, src); err != nil {
		return nil, err
	}
	ps := newParser(src, nil, false)
	var ops []*operand
	for {
		o, ok := ps.parsePath()
		if !ok {
			return nil, invalidExpr(KindProjection, ps.syntaxError())
		}
		ops = append(ops, o)
		if ps.peek(tComma) {
			ps.i++
			continue
		}
		if !ps.atEnd() {
			return nil, invalidExpr(KindProjection, ps.syntaxError())
		}
		break
	}
	r := &resolver{params: p}
	undef := ""
	paths := make([]Path, len(ops))
	for i, o := range ops {
		r.resolvePath(o)
		if undef == "" {
			undef = r.undef
		}
		paths[i] = o.path
	}
	msg := undef
	if r.reserved != "" {
		msg = msgReserved(r.reserved)
	}
	if msg == "" {
		msg = overlapCheck(paths)
	}
	if msg != "" {
		return nil, invalidExpr(KindProjection, msg)
	}
	return newProjection(paths), nil
}

func newProjection(paths []Path) *Projection {
	return &Projection{paths: paths, trie: buildTrie(paths)}
}

// Paths returns the projected paths, in the order written.
func (pr *Projection) Paths() []Path { return pr.paths }

// Apply returns the parts of item the projection selects. Maps keep the selected entries and
// lists the selected elements in index order, closed up; an absent path contributes nothing.
// The result is empty, not nil, when nothing is selected: DynamoDB then returns an empty Item.
func (pr *Projection) Apply(item attr.Item) attr.Item { return pr.trie.project(item) }
