package expr

import (
	"strconv"
	"strings"
)

// The printers write a parsed expression back as expression text, placeholders as written and
// parentheses only where precedence needs them; the result parses to the same expression with
// the same Params. Translated legacy parameters have no text and print as their structure.

// String writes the condition as expression text.
func (c *Condition) String() string {
	var b strings.Builder
	c.root.print(&b)
	return b.String()
}

// String writes the key condition as expression text.
func (k *KeyCondition) String() string {
	if k.root == nil {
		return ""
	}
	var b strings.Builder
	k.root.print(&b)
	return b.String()
}

func (n *node) print(b *strings.Builder) {
	kid := func(k *node) {
		if k.leaf() {
			k.print(b)
			return
		}
		b.WriteByte('(')
		k.print(b)
		b.WriteByte(')')
	}
	switch n.kind {
	case nAnd, nOr:
		kid(n.kids[0])
		if n.kind == nAnd {
			b.WriteString(" AND ")
		} else {
			b.WriteString(" OR ")
		}
		kid(n.kids[1])
	case nNot:
		b.WriteString("NOT ")
		kid(n.kids[0])
	case nCompare:
		n.args[0].print(b)
		b.WriteByte(' ')
		b.WriteString(comparatorText[n.op.kind])
		b.WriteByte(' ')
		n.args[1].print(b)
	case nBetween:
		n.args[0].print(b)
		b.WriteString(" BETWEEN ")
		n.args[1].print(b)
		b.WriteString(" AND ")
		n.args[2].print(b)
	case nIn:
		n.args[0].print(b)
		b.WriteString(" IN (")
		for i, a := range n.args[1:] {
			if i > 0 {
				b.WriteString(", ")
			}
			a.print(b)
		}
		b.WriteByte(')')
	case nFunc:
		n.args[0].print(b)
	}
}

var comparatorText = map[tokKind]string{tEq: "=", tNe: "<>", tLt: "<", tLe: "<=", tGt: ">", tGe: ">="}

func (o *operand) print(b *strings.Builder) {
	switch o.kind {
	case opPath:
		if o.raw == nil {
			b.WriteString(o.path.String())
			return
		}
		for i, e := range o.raw {
			switch {
			case e.index >= 0:
				b.WriteByte('[')
				b.WriteString(strconv.Itoa(e.index))
				b.WriteByte(']')
			case i > 0:
				b.WriteByte('.')
				b.WriteString(e.tok.text)
			default:
				b.WriteString(e.tok.text)
			}
		}
	case opValue:
		if o.ref.text == "" {
			b.WriteString(o.val.String())
			return
		}
		b.WriteString(o.ref.text)
	case opCall:
		b.WriteString(o.ref.text)
		b.WriteByte('(')
		for i, a := range o.args {
			if i > 0 {
				b.WriteString(", ")
			}
			a.print(b)
		}
		b.WriteByte(')')
	case opArith:
		o.args[0].print(b)
		b.WriteByte(' ')
		b.WriteString(o.ref.text)
		b.WriteByte(' ')
		o.args[1].print(b)
	}
}

// String writes the update as expression text, one clause per run of actions.
func (u *Update) String() string {
	var b strings.Builder
	for i, a := range u.actions {
		if i == 0 || u.actions[i-1].kind != a.kind {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(a.kind.String())
			b.WriteByte(' ')
		} else {
			b.WriteString(", ")
		}
		a.target.print(&b)
		switch a.kind {
		case ActionSet:
			b.WriteString(" = ")
			a.value.print(&b)
		case ActionAdd, ActionDelete:
			b.WriteByte(' ')
			a.value.print(&b)
		}
	}
	return b.String()
}

// String writes the projection's paths, resolved, in DynamoDB's message form.
func (pr *Projection) String() string {
	parts := make([]string, len(pr.paths))
	for i, p := range pr.paths {
		parts[i] = p.String()
	}
	return strings.Join(parts, ", ")
}
