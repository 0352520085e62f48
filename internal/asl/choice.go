package asl

import (
	"encoding/json"
	"fmt"
	"math/big"
	"strings"
)

// choiceRule is one rule of a Choice state: a comparison, And/Or/Not of rules, or (JSONata)
// a Condition.
type choiceRule struct {
	next      string
	variable  string
	op        string
	operand   any
	and, or   []*choiceRule
	not       *choiceRule
	condition any
	hasCond   bool
	assign    any
	hasAssign bool
	output    any
	hasOutput bool
}

var comparisons = []string{
	"StringEquals", "StringEqualsPath", "StringLessThan", "StringLessThanPath", "StringGreaterThan", "StringGreaterThanPath",
	"StringLessThanEquals", "StringLessThanEqualsPath", "StringGreaterThanEquals", "StringGreaterThanEqualsPath", "StringMatches",
	"NumericEquals", "NumericEqualsPath", "NumericLessThan", "NumericLessThanPath", "NumericGreaterThan", "NumericGreaterThanPath",
	"NumericLessThanEquals", "NumericLessThanEqualsPath", "NumericGreaterThanEquals", "NumericGreaterThanEqualsPath",
	"BooleanEquals", "BooleanEqualsPath",
	"TimestampEquals", "TimestampEqualsPath", "TimestampLessThan", "TimestampLessThanPath", "TimestampGreaterThan", "TimestampGreaterThanPath",
	"TimestampLessThanEquals", "TimestampLessThanEqualsPath", "TimestampGreaterThanEquals", "TimestampGreaterThanEqualsPath",
	"IsNull", "IsPresent", "IsNumeric", "IsString", "IsBoolean", "IsTimestamp",
}

func (p *parser) parseChoices(s *state, so map[string]any, loc string) {
	list, ok := so["Choices"].([]any)
	if !ok || len(list) == 0 {
		p.schemaf(loc, "These fields are required: [Choices]")
	}
	for i, c := range list {
		cl := fmt.Sprintf("%s/Choices[%d]", loc, i)
		co, ok := c.(map[string]any)
		if !ok {
			p.schemaf(cl, "The value must be an OBJECT")
			continue
		}
		r := p.parseRule(co, cl, true, s.lang)
		if r == nil {
			continue
		}
		if r.next == "" {
			p.schemaf(cl, "These fields are required: [Next]")
		}
		s.choices = append(s.choices, r)
	}
	if d, ok := so["Default"]; ok {
		ds, isStr := d.(string)
		if !isStr {
			p.schemaf(loc+"/Default", "The value for the field 'Default' must be a STRING")
		}
		s.dflt = ds
	}
}

func (p *parser) parseRule(co map[string]any, loc string, top bool, lang string) *choiceRule {
	r := &choiceRule{}
	allowed := []string{"Comment"}
	if top {
		allowed = append(allowed, "Next", "Assign", "Output")
		r.next, _ = co["Next"].(string)
		r.assign, r.hasAssign = co["Assign"]
		if r.hasAssign {
			p.checkAssign(r.assign, loc+"/Assign", lang)
		}
		r.output, r.hasOutput = co["Output"]
	}
	if lang == JSONata {
		r.condition, r.hasCond = co["Condition"]
		if !r.hasCond {
			p.schemaf(loc, "These fields are required: [Condition]")
		}
		p.unknownFields(co, loc, append(allowed, "Condition"))
		return r
	}
	allowed = append(allowed, "Variable", "And", "Or", "Not")
	allowed = append(allowed, comparisons...)
	p.unknownFields(co, loc, allowed)
	if v, ok := co["And"]; ok {
		r.and = p.parseRuleList(v, loc+"/And", lang)
		return r
	}
	if v, ok := co["Or"]; ok {
		r.or = p.parseRuleList(v, loc+"/Or", lang)
		return r
	}
	if v, ok := co["Not"]; ok {
		no, ok := v.(map[string]any)
		if !ok {
			p.schemaf(loc+"/Not", "The value for the field 'Not' must be an OBJECT")
			return r
		}
		r.not = p.parseRule(no, loc+"/Not", false, lang)
		return r
	}
	r.variable, _ = co["Variable"].(string)
	if r.variable == "" {
		p.schemaf(loc, "These fields are required: [Variable]")
	}
	n := 0
	for _, op := range comparisons {
		if v, ok := co[op]; ok {
			r.op, r.operand = op, v
			n++
		}
	}
	if n != 1 {
		p.schemaf(loc, "A choice rule must contain exactly one comparison operator")
		return r
	}
	p.checkOperand(r, loc)
	return r
}

func (p *parser) checkOperand(r *choiceRule, loc string) {
	at := loc + "/" + r.op
	switch {
	case strings.HasSuffix(r.op, "Path"):
		if s, ok := r.operand.(string); !ok || !strings.HasPrefix(s, "$") {
			p.schemaf(at, "The value for the field '%s' must be a valid JSONPath", r.op)
		}
	case strings.HasPrefix(r.op, "Is") || r.op == "BooleanEquals":
		if _, ok := r.operand.(bool); !ok {
			p.schemaf(at, "The value for the field '%s' must be a BOOLEAN", r.op)
		}
	case strings.HasPrefix(r.op, "String"):
		if _, ok := r.operand.(string); !ok {
			p.schemaf(at, "The value for the field '%s' must be a STRING", r.op)
		}
	case strings.HasPrefix(r.op, "Numeric"):
		if _, ok := r.operand.(json.Number); !ok {
			p.schemaf(at, "The value for the field '%s' must be a NUMBER", r.op)
		}
	case strings.HasPrefix(r.op, "Timestamp"):
		s, _ := r.operand.(string)
		if _, ok := parseTimestamp(s); !ok {
			p.schemaf(at, "The value for the field '%s' must be a valid timestamp", r.op)
		}
	}
}

func (p *parser) parseRuleList(v any, loc, lang string) []*choiceRule {
	list, ok := v.([]any)
	if !ok || len(list) == 0 {
		p.schemaf(loc, "The value must be a non-empty ARRAY")
		return nil
	}
	var out []*choiceRule
	for i, e := range list {
		eo, ok := e.(map[string]any)
		if !ok {
			p.schemaf(fmt.Sprintf("%s[%d]", loc, i), "The value must be an OBJECT")
			continue
		}
		out = append(out, p.parseRule(eo, fmt.Sprintf("%s[%d]", loc, i), false, lang))
	}
	return out
}

// runChoice evaluates a Choice state's rules in order and takes the first that matches.
func (x *exec) runChoice(f *Frame, s *state) error {
	raw := decode(f.Input)
	if s.isJSONata() {
		states := x.statesVar(raw, nil)
		for i, r := range s.choices {
			v, err := x.jsonataValue(r.condition, fmt.Sprintf("Choices[%d]/Condition", i), states)
			if err != nil {
				return err
			}
			b, ok := v.(bool)
			if !ok {
				expr, _ := r.condition.(string)
				return x.evalError("Condition", fmt.Sprintf("The JSONata expression '%s' specified for the field 'Condition' returned an unexpected result type. Expected 'boolean', but was '%s' for value: %s", jsonataBody(expr), jsonTypeName(v), encodeString(v)))
			}
			if b {
				return x.choose(f, s, raw, states, r.assign, r.hasAssign, r.output, r.hasOutput, r.next)
			}
		}
		if s.dflt == "" {
			return newError(errNoChoice, fmt.Sprintf("No Matches! at state %s", s.name))
		}
		return x.choose(f, s, raw, states, s.assign, s.hasAssign, s.output, s.hasOutput, s.dflt)
	}
	eff, err := x.applyPathField(s.inputPath, "InputPath", raw)
	if err != nil {
		return err
	}
	x.inspected(afterInputPath, eff)
	for _, r := range s.choices {
		ok, err := x.matchRule(r, eff)
		if err != nil {
			return err
		}
		if ok {
			return x.chooseJSONPath(f, s, eff, r.assign, r.hasAssign, r.next)
		}
	}
	if s.dflt == "" {
		return newError(errNoChoice, fmt.Sprintf("No Matches! at state %s", s.name))
	}
	return x.chooseJSONPath(f, s, eff, s.assign, s.hasAssign, s.dflt)
}

func (x *exec) choose(f *Frame, s *state, raw any, states map[string]any, assign any, hasAssign bool, output any, hasOutput bool, next string) error {
	out, assigned, err := x.jsonataAssignOutput(states, assign, hasAssign, output, hasOutput, raw)
	if err != nil {
		return err
	}
	return x.exit(f, s, out, assigned, next, false)
}

func (x *exec) chooseJSONPath(f *Frame, s *state, eff any, assign any, hasAssign bool, next string) error {
	var assigned map[string]any
	if hasAssign {
		a, err := x.assignJSONPath(s, assign, eff)
		if err != nil {
			return err
		}
		assigned = a
	}
	out, err := x.applyPathField(s.outputPath, "OutputPath", eff)
	if err != nil {
		return err
	}
	return x.exit(f, s, out, assigned, next, false)
}

func (x *exec) matchRule(r *choiceRule, input any) (bool, error) {
	switch {
	case r.and != nil:
		for _, c := range r.and {
			ok, err := x.matchRule(c, input)
			if err != nil || !ok {
				return false, err
			}
		}
		return true, nil
	case r.or != nil:
		for _, c := range r.or {
			ok, err := x.matchRule(c, input)
			if err != nil || ok {
				return ok, err
			}
		}
		return false, nil
	case r.not != nil:
		ok, err := x.matchRule(r.not, input)
		return !ok, err
	}
	v, err := x.evalPath(r.variable, input)
	present := err == nil
	if r.op == "IsPresent" {
		want, _ := r.operand.(bool)
		return present == want, nil
	}
	if !present {
		return false, x.runtime(fmt.Sprintf("Invalid path '%s': The choice state's condition path references an invalid value.", r.variable))
	}
	operand := r.operand
	op := r.op
	if strings.HasSuffix(op, "Path") {
		p, _ := operand.(string)
		operand, err = x.evalPath(p, input)
		if err != nil {
			return false, x.runtime(fmt.Sprintf("Invalid path '%s': The choice state's condition path references an invalid value.", p))
		}
		op = strings.TrimSuffix(op, "Path")
	}
	return compareChoice(op, v, operand), nil
}

// compareChoice applies one comparison operator; mismatched types never match.
func compareChoice(op string, v, operand any) bool {
	want, _ := operand.(bool)
	switch op {
	case "IsNull":
		return (v == nil) == want
	case "IsNumeric":
		_, ok := v.(json.Number)
		return ok == want
	case "IsString":
		_, ok := v.(string)
		return ok == want
	case "IsBoolean":
		_, ok := v.(bool)
		return ok == want
	case "IsTimestamp":
		s, ok := v.(string)
		if ok {
			_, ok = parseTimestamp(s)
		}
		return ok == want
	case "BooleanEquals":
		b, ok := v.(bool)
		ob, ok2 := operand.(bool)
		return ok && ok2 && b == ob
	case "StringMatches":
		s, ok := v.(string)
		pat, _ := operand.(string)
		return ok && stringMatches(s, pat)
	}
	switch {
	case strings.HasPrefix(op, "String"):
		a, ok := v.(string)
		b, ok2 := operand.(string)
		if !ok || !ok2 {
			return false
		}
		return ordered(op[len("String"):], strings.Compare(a, b))
	case strings.HasPrefix(op, "Numeric"):
		a, ok := numberValue(v)
		b, ok2 := numberValue(operand)
		if !ok || !ok2 {
			return false
		}
		return ordered(op[len("Numeric"):], a.Cmp(b))
	case strings.HasPrefix(op, "Timestamp"):
		as, ok := v.(string)
		bs, ok2 := operand.(string)
		if !ok || !ok2 {
			return false
		}
		a, ok := parseTimestamp(as)
		b, ok2 := parseTimestamp(bs)
		if !ok || !ok2 {
			return false
		}
		return ordered(op[len("Timestamp"):], a.Compare(b))
	}
	return false
}

func ordered(rel string, c int) bool {
	switch rel {
	case "Equals":
		return c == 0
	case "LessThan":
		return c < 0
	case "GreaterThan":
		return c > 0
	case "LessThanEquals":
		return c <= 0
	case "GreaterThanEquals":
		return c >= 0
	}
	return false
}

func numberValue(v any) (*big.Float, bool) {
	switch n := v.(type) {
	case json.Number:
		f, _, err := big.ParseFloat(string(n), 10, 200, big.ToNearestEven)
		return f, err == nil
	case float64:
		return big.NewFloat(n), true
	case int:
		return big.NewFloat(float64(n)), true
	}
	return nil, false
}

// stringMatches matches s against a StringMatches pattern: * is any run of characters,
// \* a literal star and \\ a literal backslash.
func stringMatches(s, pat string) bool {
	type tok struct {
		star bool
		lit  rune
	}
	var toks []tok
	rs := []rune(pat)
	for i := 0; i < len(rs); i++ {
		switch {
		case rs[i] == '\\' && i+1 < len(rs) && (rs[i+1] == '*' || rs[i+1] == '\\'):
			toks = append(toks, tok{lit: rs[i+1]})
			i++
		case rs[i] == '*':
			toks = append(toks, tok{star: true})
		default:
			toks = append(toks, tok{lit: rs[i]})
		}
	}
	str := []rune(s)
	// classic wildcard matching with backtracking on the last star
	si, ti, starTi, starSi := 0, 0, -1, 0
	for si < len(str) {
		switch {
		case ti < len(toks) && !toks[ti].star && toks[ti].lit == str[si]:
			si++
			ti++
		case ti < len(toks) && toks[ti].star:
			starTi, starSi = ti, si
			ti++
		case starTi >= 0:
			starSi++
			si, ti = starSi, starTi+1
		default:
			return false
		}
	}
	for ti < len(toks) && toks[ti].star {
		ti++
	}
	return ti == len(toks)
}
