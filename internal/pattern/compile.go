package pattern

import (
	"errors"
	"sort"
	"strings"
)

// Pattern is a compiled event pattern, filter policy or filter: an AND of field conditions
// and $or groups. It is immutable and safe for concurrent use.
type Pattern struct {
	root     node
	matchAll bool            // an empty SNS filter policy: every message matches
	shared   map[string]bool // array paths that two or more fields of the pattern pass through
}

// fieldPaths returns every field path the pattern names, in its $or branches too.
func (p *Pattern) fieldPaths() []string {
	var out []string
	var walk func(n *node)
	walk = func(n *node) {
		for i := range n.fields {
			out = append(out, n.fields[i].path)
		}
		for _, group := range n.ors {
			for _, b := range group {
				walk(b)
			}
		}
	}
	walk(&p.root)
	return out
}

// node is an AND of field conditions and of $or groups (each group an OR of nodes).
type node struct {
	fields []field
	ors    [][]*node
}

// field is one field path and the values it accepts: it matches when one of its leaves
// matches one of the matchers, or, with absentOK, when the event has no leaf at path.
type field struct {
	path     string
	matchers []matcher
	absentOK bool
}

// set adds f, replacing an earlier condition on the same path as event-ruler does.
func (n *node) set(f field) {
	for i := range n.fields {
		if n.fields[i].path == f.path {
			n.fields[i] = f
			return
		}
	}
	n.fields = append(n.fields, f)
}

// dialect holds what differs between the services that share the pattern language.
type dialect struct {
	sns bool // SNS filter policies: no wildcard, anything-but takes only prefix objects
}

// refusal is why a pattern is invalid, in the wording of AWS's pattern engine.
type refusal struct{ reason string }

func (r *refusal) Error() string { return r.reason }

func refuse(reason string) error { return &refusal{reason: reason} }

// orReserved are the names event-ruler refuses as field names inside $or.
var orReserved = map[string]bool{
	"exactly": true, "equals-ignore-case": true, "prefix": true, "suffix": true, "anything-but": true,
	"exists": true, "wildcard": true, "numeric": true, "cidr": true,
	"=": true, "<": true, "<=": true, ">": true, ">=": true,
	"regex": true, "not-wildcard": true, "not-equals-ignore-case": true,
	"date-after": true, "date-on-or-after": true, "date-before": true, "date-on-or-before": true,
	"in-date-range": true, "ip-address-in-range": true, "ip-address-not-in-range": true,
}

type compiler struct {
	d dialect
}

// compile turns a parsed pattern into a Pattern or the engine's refusal.
func (c *compiler) compile(v value) (*Pattern, error) {
	if v.kind != kindObject {
		return nil, refuse("Filter is not an object")
	}
	p := &Pattern{}
	if err := c.object(&p.root, v, "", false); err != nil {
		return nil, err
	}
	p.shared = sharedPaths(&p.root)
	return p, nil
}

func joinPath(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

// object adds the conditions of the JSON object v, found at path prefix, to n.
func (c *compiler) object(n *node, v value, prefix string, inOr bool) error {
	if len(v.members) == 0 {
		return refuse("Empty objects are not allowed")
	}
	for _, m := range v.members {
		if m.name == "$or" {
			group, err := c.or(m.val, prefix)
			if err != nil {
				return err
			}
			n.ors = append(n.ors, group)
			continue
		}
		if inOr && orReserved[m.name] {
			return refuse(m.name + " is Ruler reserved fieldName which cannot be used inside $or.")
		}
		path := joinPath(prefix, m.name)
		switch m.val.kind {
		case kindObject:
			if err := c.object(n, m.val, path, inOr); err != nil {
				return err
			}
		case kindArray:
			f, err := c.field(path, m.val)
			if err != nil {
				return err
			}
			n.set(f)
		default:
			return refuse(`"` + m.name + `" must be an object or an array`)
		}
	}
	return nil
}

func (c *compiler) or(v value, prefix string) ([]*node, error) {
	if v.kind != kindArray {
		return nil, refuse("It must be an Array followed with $or.")
	}
	var group []*node
	for _, item := range v.items {
		if item.kind != kindObject {
			return nil, refuse("Only JSON object is allowed in array of $or relationship.")
		}
		branch := &node{}
		if err := c.object(branch, item, prefix, true); err != nil {
			return nil, err
		}
		group = append(group, branch)
	}
	if len(group) < 2 {
		return nil, refuse("There must have at least 2 Objects in $or relationship.")
	}
	return group, nil
}

// field compiles the array of accepted values of one field.
func (c *compiler) field(path string, v value) (field, error) {
	f := field{path: path}
	for _, item := range v.items {
		switch item.kind {
		case kindObject:
			m, absent, err := c.expression(item)
			if err != nil {
				return field{}, err
			}
			if absent {
				f.absentOK = true
			} else {
				f.matchers = append(f.matchers, m)
			}
		case kindString:
			f.matchers = append(f.matchers, exactString(item.text))
		case kindNumber:
			f.matchers = append(f.matchers, exactNumber(item.text))
		case kindTrue, kindFalse, kindNull:
			f.matchers = append(f.matchers, matcher{op: opLiteral, lit: item.kind})
		default:
			return field{}, refuse("Match value must be String, number, true, false, or null")
		}
	}
	if len(v.items) == 0 {
		return field{}, refuse("Empty arrays are not allowed")
	}
	return f, nil
}

// onlyKey refuses an expression object with members after its first.
func onlyKey(v value, reason string) error {
	if len(v.members) > 1 {
		return refuse(reason)
	}
	return nil
}

const (
	oneKey          = "Only one key allowed in match expression"
	tooManyElements = "Too many elements in numeric expression"
)

// expression compiles one {"operator": operand} object. absent reports {"exists": false}.
func (c *compiler) expression(v value) (m matcher, absent bool, err error) {
	if len(v.members) == 0 {
		return matcher{}, false, refuse("Match expression name not found")
	}
	name, arg := v.members[0].name, v.members[0].val
	switch {
	case name == "exactly" && !c.d.sns:
		if arg.kind != kindString {
			return matcher{}, false, refuse("exact match pattern must be a string")
		}
		return matcher{op: opExactString, str: arg.text}, false, onlyKey(v, oneKey)
	case name == "prefix" || name == "suffix":
		m, err := c.affix(name, arg)
		if err != nil {
			return matcher{}, false, err
		}
		return m, false, onlyKey(v, oneKey)
	case name == "numeric":
		if arg.kind != kindArray {
			return matcher{}, false, refuse("Value of numeric must be an array.")
		}
		m, err := numeric(arg.items)
		if err != nil {
			return matcher{}, false, err
		}
		return m, false, onlyKey(v, tooManyElements)
	case name == "anything-but":
		m, err := c.anythingBut(v, arg)
		return m, false, err
	case name == "exists":
		if arg.kind != kindTrue && arg.kind != kindFalse {
			return matcher{}, false, refuse("exists match pattern must be either true or false.")
		}
		if err := onlyKey(v, oneKey); err != nil {
			return matcher{}, false, err
		}
		return matcher{op: opExists}, arg.kind == kindFalse, nil
	case name == "cidr":
		if arg.kind != kindString {
			return matcher{}, false, refuse("prefix match pattern must be a string")
		}
		r, reason := parseCIDR(arg.text)
		if reason != "" {
			return matcher{}, false, refuse(reason)
		}
		return matcher{op: opCIDR, ip: &r}, false, onlyKey(v, oneKey)
	case name == "equals-ignore-case":
		if arg.kind != kindString {
			return matcher{}, false, refuse("equals-ignore-case match pattern must be a string")
		}
		return matcher{op: opFold, str: fold(arg.text)}, false, onlyKey(v, oneKey)
	case name == "wildcard" && !c.d.sns:
		if arg.kind != kindString {
			return matcher{}, false, refuse("wildcard match pattern must be a string")
		}
		w, reason := parseWildcard(arg.text)
		if reason != "" {
			return matcher{}, false, refuse(reason)
		}
		return matcher{op: opWildcard, wilds: []wildcard{w}}, false, onlyKey(v, oneKey)
	}
	return matcher{}, false, refuse("Unrecognized match type " + name)
}

// affix compiles a prefix or suffix operand: a string, or {"equals-ignore-case": string}.
func (c *compiler) affix(name string, arg value) (matcher, error) {
	plain, folded := opPrefix, opPrefixFold
	label := "Prefix"
	if name == "suffix" {
		plain, folded, label = opSuffix, opSuffixFold, "Suffix"
	}
	if arg.kind == kindObject && !c.d.sns {
		if len(arg.members) == 0 {
			return matcher{}, refuse(label + " expression name not found")
		}
		inner := arg.members[0]
		if inner.name != "equals-ignore-case" {
			return matcher{}, refuse("Unsupported " + name + " pattern: " + inner.name)
		}
		if inner.val.kind != kindString {
			return matcher{}, refuse("equals-ignore-case match pattern must be a string")
		}
		if err := onlyKey(arg, oneKey); err != nil {
			return matcher{}, err
		}
		return matcher{op: folded, str: fold(inner.val.text)}, nil
	}
	if arg.kind != kindString {
		return matcher{}, refuse(name + " match pattern must be a string")
	}
	return matcher{op: plain, str: arg.text}, nil
}

// anythingBut compiles {"anything-but": operand}, where operand is a string, a number, a
// list of either, or an object naming prefix, suffix, equals-ignore-case or wildcard.
func (c *compiler) anythingBut(expr, arg value) (matcher, error) {
	kindOf := ""
	outer := expr // the object whose remaining members must be absent
	if arg.kind == kindObject {
		if len(arg.members) == 0 {
			return matcher{}, refuse("Anything-But expression name not found")
		}
		kindOf = arg.members[0].name
		switch kindOf {
		case "prefix":
			// SNS takes one prefix string, as AWS's older engine did.
			if c.d.sns && arg.members[0].val.kind != kindString {
				return matcher{}, refuse("prefix match pattern must be a string")
			}
		case "suffix", "equals-ignore-case", "wildcard":
			if c.d.sns {
				return matcher{}, refuse("Unsupported anything-but pattern: " + kindOf)
			}
		default:
			return matcher{}, refuse("Unsupported anything-but pattern: " + kindOf)
		}
		outer = arg
		arg = arg.members[0].val
	}
	if arg.kind != kindArray && arg.kind != kindString && arg.kind != kindNumber {
		return matcher{}, refuse("Value of anything-but must be an array or single string/number value.")
	}
	items := []value{arg}
	if arg.kind == kindArray {
		items = arg.items
	}
	var m matcher
	var err error
	if kindOf == "" {
		m, err = anythingButValues(items, arg.kind == kindArray)
	} else {
		m, err = anythingButSet(kindOf, items)
	}
	if err != nil {
		return matcher{}, err
	}
	if len(outer.members) > 1 {
		return matcher{}, refuse(tooManyElements)
	}
	if kindOf != "" && len(expr.members) > 1 {
		return matcher{}, refuse(tooManyElements)
	}
	return m, nil
}

func anythingButValues(items []value, list bool) (matcher, error) {
	var m matcher
	hasNumber, hasString := false, false
	for _, item := range items {
		switch item.kind {
		case kindString:
			m.strs = append(m.strs, item.text)
			hasString = true
		case kindNumber:
			f, ok := comparableNumber(item.text)
			if !ok {
				return matcher{}, refuse("Cannot compare number : " + item.text)
			}
			m.nums = append(m.nums, f)
			hasNumber = true
		default:
			if list {
				return matcher{}, refuse("Inside anything but list, start|null|boolean is not supported.")
			}
			return matcher{}, refuse("Inside anything-but list, start|null|boolean is not supported.")
		}
	}
	if hasNumber == hasString {
		return matcher{}, refuse("Inside anything but list, either all values are number or string, mixed type is not supported")
	}
	m.op = opNotStrings
	if hasNumber {
		m.op = opNotNumbers
	}
	return m, nil
}

// anythingButSet compiles anything-but prefix, suffix, equals-ignore-case or wildcard.
func anythingButSet(kindOf string, items []value) (matcher, error) {
	var m matcher
	for _, item := range items {
		if item.kind != kindString {
			switch kindOf {
			case "equals-ignore-case":
				return matcher{}, refuse("Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported.")
			case "wildcard":
				return matcher{}, refuse("wildcard match pattern must be a string")
			default:
				return matcher{}, refuse("prefix/suffix match pattern must be a string")
			}
		}
		if (kindOf == "prefix" || kindOf == "suffix") && item.text == "" {
			return matcher{}, refuse("Null prefix/suffix not allowed")
		}
		switch kindOf {
		case "equals-ignore-case":
			m.strs = append(m.strs, fold(item.text))
		case "wildcard":
			m.strs = append(m.strs, item.text) // parsed below, once all are strings
		default:
			m.strs = append(m.strs, item.text)
		}
	}
	switch kindOf {
	case "prefix":
		m.op = opNotPrefix
	case "suffix":
		m.op = opNotSuffix
	case "equals-ignore-case":
		m.op = opNotFold
	case "wildcard":
		m.op = opNotWildcard
		for _, s := range m.strs {
			w, reason := parseWildcard(s)
			if reason != "" {
				return matcher{}, refuse(reason)
			}
			m.wilds = append(m.wilds, w)
		}
		m.strs = nil
	}
	return m, nil
}

// numeric compiles the operand list of {"numeric": [...]}.
func numeric(items []value) (matcher, error) {
	at := func(i int) (value, bool) {
		if i < len(items) {
			return items[i], true
		}
		return value{}, false
	}
	first, ok := at(0)
	if !ok {
		return matcher{}, refuse("Invalid member in numeric match: ]")
	}
	if first.kind != kindString {
		return matcher{}, refuse("Invalid member in numeric match: " + tokenText(first))
	}
	op := first.text
	val, ok := at(1)
	isNum := ok && val.kind == kindNumber
	m := matcher{op: opNumeric}
	switch op {
	case "=":
		if !isNum {
			return matcher{}, refuse("Value of equals must be numeric")
		}
		if len(items) > 2 {
			return matcher{}, refuse(tooManyElements)
		}
		f, err := rangeBound(val.text)
		if err != nil {
			return matcher{}, err
		}
		m.lo, m.hi, m.hasLo, m.hasHi = f, f, true, true
		return m, nil
	case ">", ">=":
		if !isNum {
			return matcher{}, refuse("Value of " + op + " must be numeric")
		}
		if len(items) == 2 {
			f, err := rangeBound(val.text)
			if err != nil {
				return matcher{}, err
			}
			m.lo, m.hasLo, m.loOpen = f, true, op == ">"
			return m, nil
		}
		return completeRange(m, val.text, op == ">", items[2:])
	case "<", "<=":
		if !isNum {
			return matcher{}, refuse("Value of " + op + " must be numeric")
		}
		if len(items) > 2 {
			return matcher{}, refuse(tooManyElements)
		}
		f, err := rangeBound(val.text)
		if err != nil {
			return matcher{}, err
		}
		m.hi, m.hasHi, m.hiOpen = f, true, op == "<"
		return m, nil
	}
	return matcher{}, refuse("Unrecognized numeric range operator: " + op)
}

func completeRange(m matcher, bottom string, openBottom bool, rest []value) (matcher, error) {
	opv := rest[0]
	if opv.kind != kindString {
		return matcher{}, refuse("Bad value in numeric range: " + tokenText(opv))
	}
	op := opv.text
	if op != "<" && op != "<=" {
		return matcher{}, refuse("Bad numeric range operator: " + op)
	}
	if len(rest) < 2 || rest[1].kind != kindNumber {
		return matcher{}, refuse("Value of " + op + " must be numeric")
	}
	if len(rest) > 2 {
		return matcher{}, refuse("Too many terms in numeric range expression")
	}
	lo, err := rangeBound(bottom)
	if err != nil {
		return matcher{}, err
	}
	hi, err := rangeBound(rest[1].text)
	if err != nil {
		return matcher{}, err
	}
	if !(lo < hi) {
		return matcher{}, refuse("Bottom must be less than top")
	}
	m.lo, m.hasLo, m.loOpen = lo, true, openBottom
	m.hi, m.hasHi, m.hiOpen = hi, true, op == "<"
	return m, nil
}

func rangeBound(text string) (float64, error) {
	f, ok := comparableNumber(text)
	if !ok {
		return 0, refuse("Cannot compare number : " + text)
	}
	return f, nil
}

// tokenText is how Jackson prints the token that starts v in event-ruler's messages.
func tokenText(v value) string {
	switch v.kind {
	case kindObject:
		return "{"
	case kindArray:
		return "["
	}
	return v.text
}

// sharedPaths returns the field path prefixes that two or more field paths of the pattern
// share: only arrays at these paths can tie two fields to the same array element.
func sharedPaths(root *node) map[string]bool {
	var paths []string // one entry per field condition, so a path used twice is shared
	var walk func(n *node)
	walk = func(n *node) {
		for _, f := range n.fields {
			paths = append(paths, f.path)
		}
		for _, g := range n.ors {
			for _, b := range g {
				walk(b)
			}
		}
	}
	walk(root)
	count := map[string]int{}
	for _, p := range paths {
		for i := 0; i <= len(p); i++ {
			if i == len(p) || p[i] == '.' {
				count[p[:i]]++
			}
		}
	}
	shared := map[string]bool{}
	for p, n := range count {
		if n >= 2 {
			shared[p] = true
		}
	}
	return shared
}

// wildcardsByPath gathers the wildcard values of each field, for the complexity check.
func wildcardsByPath(root *node) map[string][]wildcard {
	out := map[string][]wildcard{}
	seen := map[string]bool{}
	var walk func(n *node)
	walk = func(n *node) {
		for _, f := range n.fields {
			for _, m := range f.matchers {
				for _, w := range m.wilds {
					k := f.path + "\x00" + strings.Join(w.segs, "\x00*")
					if !seen[k] {
						seen[k] = true
						out[f.path] = append(out[f.path], w)
					}
				}
			}
		}
		for _, g := range n.ors {
			for _, b := range g {
				walk(b)
			}
		}
	}
	walk(root)
	return out
}

// checkComplexity refuses a pattern whose wildcards would make matching too costly.
func checkComplexity(root *node) error {
	byPath := wildcardsByPath(root)
	paths := make([]string, 0, len(byPath))
	for p := range byPath {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		if wildcardComplexity(byPath[p]) > wildcardComplexityLimit {
			return refuse("Rule is too complex - try using fewer wildcard characters or fewer repeating character sequences after a wildcard character")
		}
	}
	return nil
}

// reasonOf extracts the engine's reason from a compile error.
func reasonOf(err error) string {
	var r *refusal
	if errors.As(err, &r) {
		return r.reason
	}
	return err.Error()
}
