package expr

import (
	"maps"

	"github.com/kiri-run/kiri/internal/service/dynamodb/attr"
)

// updateKeywords cannot name attributes in update expressions.
var updateKeywords = []string{"SET", "REMOVE", "ADD", "DELETE"}

// ActionKind is what an update action does.
type ActionKind uint8

// The actions of an update.
const (
	ActionSet ActionKind = iota
	ActionRemove
	ActionAdd
	ActionDelete
)

var actionNames = [...]string{"SET", "REMOVE", "ADD", "DELETE"}

// String returns the action's keyword.
func (k ActionKind) String() string { return actionNames[k] }

// Action describes one action of an update, for the service's checks on keys and indexes.
type Action struct {
	Kind ActionKind
	Path Path
	// Type is the type of the value the action writes, when it is known without reading the
	// item (a placeholder, list_append, + or -, if_not_exists of such a value); else None.
	Type attr.Type
}

type action struct {
	kind   ActionKind
	target *operand // the path
	value  *operand // SET: the value; ADD, DELETE: the placeholder; REMOVE: nil
}

// Update is a parsed UpdateExpression, or a legacy AttributeUpdates translated to one. It is
// safe for concurrent use once parsed.
type Update struct {
	actions []action
	paths   []Path
	trie    *trie
	legacy  bool // AttributeUpdates: ADD may append to a list, and mismatches say so
}

// Update parses an UpdateExpression, checks it as DynamoDB does and resolves its placeholders.
func (p *Params) Update(src string) (*Update, error) {
	if err := emptyCheck(KindUpdate, src); err != nil {
		return nil, err
	}
	ps := newParser(src, updateKeywords, false)
	acts, sections, ok := ps.parseUpdate()
	if !ok {
		return nil, invalidExpr(KindUpdate, ps.syntaxError())
	}
	u := &Update{actions: acts}
	if msg := u.check(p, sections); msg != "" {
		return nil, invalidExpr(KindUpdate, msg)
	}
	u.index()
	return u, nil
}

// index lists the action paths and arranges them in a trie.
func (u *Update) index() {
	u.paths = make([]Path, len(u.actions))
	for i, a := range u.actions {
		u.paths[i] = a.target.path
	}
	u.trie = buildTrie(u.paths)
}

func (p *parser) parseUpdate() ([]action, []token, bool) {
	var acts []action
	var sections []token
	for {
		t := p.tok()
		kind := ActionSet
		switch {
		case t.is("SET"):
		case t.is("REMOVE"):
			kind = ActionRemove
		case t.is("ADD"):
			kind = ActionAdd
		case t.is("DELETE"):
			kind = ActionDelete
		default:
			if len(sections) > 0 && p.atEnd() {
				return acts, sections, true
			}
			p.miss()
			return nil, nil, false
		}
		p.i++
		sections = append(sections, t)
		for {
			a, ok := p.parseAction(kind)
			if !ok {
				return nil, nil, false
			}
			acts = append(acts, a)
			if !p.peek(tComma) {
				break
			}
			p.i++
		}
	}
}

func (p *parser) parseAction(kind ActionKind) (action, bool) {
	target, ok := p.parsePath()
	if !ok {
		return action{}, false
	}
	a := action{kind: kind, target: target}
	switch kind {
	case ActionSet:
		if !p.accept(tEq) {
			return action{}, false
		}
		a.value, ok = p.parseSetValue()
	case ActionAdd, ActionDelete:
		t := p.tok()
		if ok = p.accept(tValue); ok {
			a.value = &operand{kind: opValue, ref: t}
		}
	}
	return a, ok
}

// parseSetValue reads operand, operand + operand or operand - operand, optionally in one pair
// of parentheses.
func (p *parser) parseSetValue() (*operand, bool) {
	save := p.i
	if v, ok := p.parseArith(); ok {
		return v, true
	}
	p.i = save
	if p.accept(tLParen) {
		if v, ok := p.parseArith(); ok && p.accept(tRParen) {
			return v, true
		}
	}
	p.i = save
	return nil, false
}

func (p *parser) parseArith() (*operand, bool) {
	x, ok := p.parseOperand()
	if !ok {
		return nil, false
	}
	if t := p.tok(); t.kind == tPlus || t.kind == tMinus {
		p.i++
		y, ok := p.parseOperand()
		if !ok {
			return nil, false
		}
		return &operand{kind: opArith, ref: t, args: []*operand{x, y}}, true
	}
	return x, true
}

// updateFunctions are the functions of update expressions and their operand counts.
var updateFunctions = map[string]int{"if_not_exists": 2, "list_append": 2}

// typeWords are the type names of ADD and DELETE operand errors.
var typeWords = map[attr.Type]string{
	attr.S: "STRING", attr.N: "NUMBER", attr.B: "BINARY", attr.NULL: "NULL",
	attr.BOOL: "BOOLEAN", attr.L: "LIST", attr.M: "MAP",
}

// check resolves the placeholders of a parsed update and refuses it as DynamoDB does, in
// DynamoDB's order: a reserved word, an unknown function, a clause used twice, too many
// operators, an undefined name, an undefined value, overlapping then conflicting paths, a
// wrong ADD or DELETE operand, then a function's operands.
func (u *Update) check(params *Params, sections []token) string {
	r := &resolver{params: params}
	undefName, undefValue := "", ""
	unknown := ""
	operators := 0
	for _, a := range u.actions {
		r.resolvePath(a.target)
		if r.undef != "" && undefName == "" {
			undefName, r.undef = r.undef, ""
		}
		if a.value == nil {
			continue
		}
		walkOperands(a.value, func(o *operand) {
			switch o.kind {
			case opPath:
				r.resolvePath(o)
				if r.undef != "" && undefName == "" {
					undefName = r.undef
				}
			case opValue:
				r.resolveValue(o)
				if r.undef != "" && undefValue == "" {
					undefValue = r.undef
				}
			case opCall:
				operators++
				if _, ok := updateFunctions[o.name()]; !ok && unknown == "" {
					unknown = o.name()
				}
			case opArith:
				operators++
			}
			r.undef = ""
		})
	}
	dup := ""
	seen := map[string]bool{}
	for _, s := range sections {
		k := actionNames[sectionKind(s)]
		if seen[k] && dup == "" {
			dup = k
		}
		seen[k] = true
	}
	switch {
	case r.reserved != "":
		return msgReserved(r.reserved)
	case unknown != "":
		return msgUnknownFunction(unknown)
	case dup != "":
		return `The "` + dup + `" section can only be used once in an update expression;`
	case operators > MaxOperators:
		return msgTooManyOperators(operators)
	case undefName != "":
		return undefName
	case undefValue != "":
		return undefValue
	}
	paths := make([]Path, len(u.actions))
	for i, a := range u.actions {
		paths[i] = a.target.path
	}
	if msg := overlapCheck(paths); msg != "" {
		return msg
	}
	for _, a := range u.actions {
		if a.kind != ActionAdd && a.kind != ActionDelete {
			continue
		}
		t := a.value.val.Type()
		if t.IsSet() || (a.kind == ActionAdd && t == attr.N) {
			continue
		}
		return "Incorrect operand type for operator or function; operator: " + a.kind.String() + ", operand type: " + typeWords[t]
	}
	for _, a := range u.actions {
		if a.kind != ActionSet {
			continue
		}
		msg := ""
		walkOperands(a.value, func(o *operand) {
			if msg == "" && (o.kind == opCall || o.kind == opArith) {
				msg = updateFunctionTypes(o)
			}
		})
		if msg != "" {
			return msg
		}
	}
	return ""
}

func sectionKind(t token) ActionKind {
	for k, w := range actionNames {
		if t.is(w) {
			return ActionKind(k)
		}
	}
	return ActionSet
}

func updateFunctionTypes(o *operand) string {
	name := o.name()
	if o.kind == opCall && len(o.args) != updateFunctions[name] {
		return msgOperandCount(name, len(o.args))
	}
	switch name {
	case "if_not_exists":
		if o.args[0].kind != opPath {
			return msgNeedsPath(name)
		}
	case "list_append", "+", "-":
		want := attr.L
		if name != "list_append" {
			want = attr.N
		}
		for _, a := range o.args {
			if a.kind == opValue && a.val.Type() != want {
				return msgOperandType(name, a.val.Type().String())
			}
		}
	}
	return ""
}

// Actions describes the update's actions, in the order written.
func (u *Update) Actions() []Action {
	out := make([]Action, len(u.actions))
	for i, a := range u.actions {
		out[i] = Action{Kind: a.kind, Path: a.target.path}
		if a.value != nil {
			out[i].Type = staticType(a.value)
		}
	}
	return out
}

// result is what one action leaves at its path: a value, or nothing.
type result struct {
	v    attr.Value
	keep bool
}

// Apply applies the update to old (nil when the item does not exist yet; the service passes
// the key then, as DynamoDB creates the item from it) and returns the new item. old is not
// modified; the new item shares what the update left unchanged.
//
// As DynamoDB: every SET value is worked out from old before anything changes; each action
// then reads old, so list indexes refer to the list as it was; a SET past the end of a list
// appends (several in index order), a REMOVE past the end does nothing; a nested path whose
// parent is absent or of the wrong type is refused. The errors are DynamoDB's: "The provided
// expression refers to an attribute that does not exist in the item", "An operand in the
// update expression has an incorrect data type", "The document path provided in the update
// expression is invalid for update", a number overflow, the nesting limit.
func (u *Update) Apply(old attr.Item) (attr.Item, error) {
	results := make([]result, len(u.actions))
	for i, a := range u.actions {
		if a.kind == ActionSet {
			v, err := u.setValue(a.value, old)
			if err != nil {
				return nil, err
			}
			results[i] = result{v, true}
		}
	}
	for i, a := range u.actions {
		if err := u.prepare(a, old, &results[i]); err != nil {
			return nil, err
		}
	}
	item := make(attr.Item, len(old)+len(u.trie.names))
	maps.Copy(item, old)
	for _, c := range u.trie.names {
		ov, ok := old[c.name]
		if v, keep := c.node.rebuild(ov, ok, results); keep {
			item[c.name] = v
		} else {
			delete(item, c.name)
		}
	}
	return item, nil
}

// setValue works out a SET value from the item before the update.
func (u *Update) setValue(o *operand, item attr.Item) (attr.Value, error) {
	switch o.kind {
	case opPath:
		v, ok := Lookup(item, o.path)
		if !ok {
			return attr.Value{}, validation(msgNoSuchAttribute)
		}
		return v, nil
	case opValue:
		return o.val, nil
	case opArith:
		a, err := u.numberOperand(o.args[0], item)
		if err != nil {
			return attr.Value{}, err
		}
		b, err := u.numberOperand(o.args[1], item)
		if err != nil {
			return attr.Value{}, err
		}
		if o.ref.kind == tMinus {
			return attr.Sub(a, b)
		}
		return attr.Add(a, b)
	}
	switch o.name() {
	case "if_not_exists":
		if v, ok := Lookup(item, o.args[0].path); ok {
			return v, nil
		}
		return u.setValue(o.args[1], item)
	default: // list_append
		a, err := u.setValue(o.args[0], item)
		if err != nil {
			return attr.Value{}, err
		}
		if a.Type() != attr.L {
			return attr.Value{}, validation(msgBadOperandType)
		}
		b, err := u.setValue(o.args[1], item)
		if err != nil {
			return attr.Value{}, err
		}
		if b.Type() != attr.L {
			return attr.Value{}, validation(msgBadOperandType)
		}
		al, bl := a.ListValues(), b.ListValues()
		l := make([]attr.Value, 0, len(al)+len(bl))
		return attr.List(append(append(l, al...), bl...)), nil
	}
}

func (u *Update) numberOperand(o *operand, item attr.Item) (attr.Value, error) {
	v, err := u.setValue(o, item)
	if err == nil && v.Type() != attr.N {
		err = validation(msgBadOperandType)
	}
	return v, err
}

func (u *Update) mismatch() error {
	if u.legacy {
		return validation(msgLegacyMismatch)
	}
	return validation(msgBadOperandType)
}

// prepare checks one action against the item before the update and works out what it leaves
// at its path: ADD's sum or union, DELETE's difference.
func (u *Update) prepare(a action, old attr.Item, r *result) error {
	p := a.target.path
	if len(p) > 1 {
		parent, ok := Lookup(old, p[:len(p)-1])
		want := attr.M
		if p[len(p)-1].IsIndex() {
			want = attr.L
		}
		if !ok || parent.Type() != want {
			return validation(msgBadUpdatePath)
		}
	}
	existing, exists := Lookup(old, p)
	switch a.kind {
	case ActionSet:
		if len(p)-1+r.v.Depth() > attr.MaxDepth {
			return attr.ErrNesting()
		}
	case ActionAdd:
		v := a.value.val
		if !exists {
			*r = result{v, true}
			return nil
		}
		if existing.Type() != v.Type() {
			return u.mismatch()
		}
		switch v.Type() {
		case attr.N:
			sum, err := attr.Add(existing, v)
			if err != nil {
				return err
			}
			*r = result{sum, true}
		case attr.L:
			el, vl := existing.ListValues(), v.ListValues()
			l := make([]attr.Value, 0, len(el)+len(vl))
			*r = result{attr.List(append(append(l, el...), vl...)), true}
		default:
			*r = result{attr.Union(existing, v), true}
		}
	case ActionDelete:
		if !exists {
			return nil
		}
		if existing.Type() != a.value.val.Type() {
			return u.mismatch()
		}
		d, ok := attr.Difference(existing, a.value.val)
		*r = result{d, ok}
	}
	return nil
}

// rebuild returns the value the update leaves where old was (exists false: nothing was), and
// whether anything is left. The checks of prepare guarantee the containers it walks.
func (t *trie) rebuild(old attr.Value, exists bool, results []result) (attr.Value, bool) {
	if t.leaf >= 0 {
		r := results[t.leaf]
		return r.v, r.keep
	}
	if len(t.names) > 0 {
		m := maps.Clone(old.MapValues())
		for _, c := range t.names {
			cv, ok := m[c.name]
			if v, keep := c.node.rebuild(cv, ok, results); keep {
				m[c.name] = v
			} else {
				delete(m, c.name)
			}
		}
		return attr.Map(m), true
	}
	l := old.ListValues()
	out := make([]attr.Value, 0, len(l)+len(t.indexes))
	next := 0
	for i, e := range l {
		if next < len(t.indexes) && t.indexes[next].index == i {
			if v, keep := t.indexes[next].node.rebuild(e, true, results); keep {
				out = append(out, v)
			}
			next++
			continue
		}
		out = append(out, e)
	}
	for ; next < len(t.indexes); next++ {
		if v, keep := t.indexes[next].node.rebuild(attr.Value{}, false, results); keep {
			out = append(out, v)
		}
	}
	return attr.List(out), true
}

// Changed returns the parts of item at the update's paths: applied to the item before the
// update it is ReturnValues UPDATED_OLD, to the item after it UPDATED_NEW.
func (u *Update) Changed(item attr.Item) attr.Item { return u.trie.project(item) }
