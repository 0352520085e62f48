package policy

import (
	"encoding/base64"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// opKind is a condition operator without its set qualifier, IfExists suffix or negation.
type opKind uint8

const (
	opStringEquals opKind = iota + 1
	opStringEqualsIgnoreCase
	opStringLike
	opNumericEquals
	opNumericLessThan
	opNumericLessThanEquals
	opNumericGreaterThan
	opNumericGreaterThanEquals
	opDateEquals
	opDateLessThan
	opDateLessThanEquals
	opDateGreaterThan
	opDateGreaterThanEquals
	opBool
	opBinaryEquals
	opIPAddress
	opARNLike // ArnEquals and ArnLike behave identically
	opNull
)

type operator struct {
	kind    opKind
	negated bool
}

// operators are IAM's condition operators by name.
var operators = map[string]operator{
	"StringEquals":              {opStringEquals, false},
	"StringNotEquals":           {opStringEquals, true},
	"StringEqualsIgnoreCase":    {opStringEqualsIgnoreCase, false},
	"StringNotEqualsIgnoreCase": {opStringEqualsIgnoreCase, true},
	"StringLike":                {opStringLike, false},
	"StringNotLike":             {opStringLike, true},
	"NumericEquals":             {opNumericEquals, false},
	"NumericNotEquals":          {opNumericEquals, true},
	"NumericLessThan":           {opNumericLessThan, false},
	"NumericLessThanEquals":     {opNumericLessThanEquals, false},
	"NumericGreaterThan":        {opNumericGreaterThan, false},
	"NumericGreaterThanEquals":  {opNumericGreaterThanEquals, false},
	"DateEquals":                {opDateEquals, false},
	"DateNotEquals":             {opDateEquals, true},
	"DateLessThan":              {opDateLessThan, false},
	"DateLessThanEquals":        {opDateLessThanEquals, false},
	"DateGreaterThan":           {opDateGreaterThan, false},
	"DateGreaterThanEquals":     {opDateGreaterThanEquals, false},
	"Bool":                      {opBool, false},
	"BinaryEquals":              {opBinaryEquals, false},
	"IpAddress":                 {opIPAddress, false},
	"NotIpAddress":              {opIPAddress, true},
	"ArnEquals":                 {opARNLike, false},
	"ArnLike":                   {opARNLike, false},
	"ArnNotEquals":              {opARNLike, true},
	"ArnNotLike":                {opARNLike, true},
	"Null":                      {opNull, false},
}

type setOp uint8

const (
	setNone setOp = iota
	setForAll
	setForAny
)

// parsedOperator is an operator name read apart.
type parsedOperator struct {
	operator
	set      setOp
	ifExists bool
}

// parseOperator reads "ForAnyValue:StringLikeIfExists" and the like.
func parseOperator(name string) (parsedOperator, bool) {
	var p parsedOperator
	if rest, ok := strings.CutPrefix(name, "ForAllValues:"); ok {
		p.set, name = setForAll, rest
	} else if rest, ok := strings.CutPrefix(name, "ForAnyValue:"); ok {
		p.set, name = setForAny, rest
	}
	if base, ok := strings.CutSuffix(name, "IfExists"); ok && base != "Null" {
		p.ifExists, name = true, base
	}
	op, ok := operators[name]
	p.operator = op
	return p, ok
}

// cond is a compiled condition: one operator on one key.
type cond struct {
	parsedOperator
	key  keyRef
	vals []condValue
}

// condValue is one value a policy lists for a condition, compiled for its operator.
type condValue struct {
	glob   glob       // string and Bool operators
	arn    arnPattern // ARN operators
	num    float64    // numeric operators
	date   time.Time  // date operators
	prefix netip.Prefix
	bin    string // BinaryEquals: the decoded bytes
	null   bool   // Null: true when the policy asks for an absent key
	ok     bool   // the value parsed; one that did not matches nothing
}

// compileCondition compiles c. vars says whether the policy's version reads variables.
func compileCondition(c Condition, op parsedOperator, vars bool) cond {
	cc := cond{parsedOperator: op, key: compileKey(c.Key), vals: make([]condValue, len(c.Values))}
	for i, s := range c.Values {
		cc.vals[i] = compileValue(op.kind, s, vars)
	}
	return cc
}

func compileValue(kind opKind, s string, vars bool) condValue {
	v := condValue{ok: true}
	switch kind {
	case opStringEquals:
		v.glob = compileGlob(s, false, vars, false)
	case opStringEqualsIgnoreCase, opBool:
		v.glob = compileGlob(s, false, vars, true)
	case opStringLike:
		v.glob = compileGlob(s, true, vars, false)
	case opARNLike:
		v.arn = compileARN(s, vars, false)
	case opNumericEquals, opNumericLessThan, opNumericLessThanEquals, opNumericGreaterThan, opNumericGreaterThanEquals:
		f, err := strconv.ParseFloat(s, 64)
		v.num, v.ok = f, err == nil
	case opDateEquals, opDateLessThan, opDateLessThanEquals, opDateGreaterThan, opDateGreaterThanEquals:
		v.date, v.ok = parseDate(s)
	case opBinaryEquals:
		b, err := base64.StdEncoding.DecodeString(s)
		v.bin, v.ok = string(b), err == nil
	case opIPAddress:
		v.prefix, v.ok = parseCIDR(s)
	case opNull:
		b, err := strconv.ParseBool(s)
		v.null, v.ok = b, err == nil
	}
	return v
}

// parseCIDR reads an IpAddress value: a CIDR block, or an address meaning /32 (/128).
func parseCIDR(s string) (netip.Prefix, bool) {
	if p, err := netip.ParsePrefix(s); err == nil {
		if p.Addr().Is4In6() {
			bits := p.Bits() - 96
			if bits < 0 {
				return netip.Prefix{}, false
			}
			p = netip.PrefixFrom(p.Addr().Unmap(), bits)
		}
		return p.Masked(), true
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, false
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), true
}

// dateLayouts are the W3C profiles of ISO 8601 that IAM reads, longest first.
var dateLayouts = []string{
	"2006-01-02T15:04:05.999999999Z07:00", "2006-01-02T15:04:05Z07:00", "2006-01-02T15:04Z07:00",
	"2006-01-02T15:04:05.999999999", "2006-01-02T15:04:05", "2006-01-02T15:04",
	"2006-01-02", "2006-01", "2006",
}

// parseDate reads a date value: an ISO 8601 date and time (UTC when it has no zone), or
// epoch seconds.
func parseDate(s string) (time.Time, bool) {
	if isDigits(s) {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return time.Time{}, false
		}
		return time.Unix(n, 0).UTC(), true
	}
	if strings.ContainsAny(s, "tz") {
		s = strings.ToUpper(s)
	}
	for _, layout := range dateLayouts {
		if len(s) < len("2006") {
			break
		}
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// holds evaluates the condition for a request. A key the request lacks fails a positive
// operator and satisfies a negated one, except that ...IfExists and ForAllValues hold and
// ForAnyValue fails; Null asks whether the key is absent. With several values, a positive
// operator needs one request value to match one policy value; a negated one needs no
// request value to match any; ForAllValues needs every request value to match and
// ForAnyValue one.
func (c *cond) holds(e *evaluation) bool {
	v := e.req.lookup(&c.key)
	if c.kind == opNull {
		absent := !v.present || v.n == 0
		for i := range c.vals {
			if c.vals[i].ok && c.vals[i].null == absent {
				return true
			}
		}
		return false
	}
	if !v.present {
		switch {
		case c.ifExists || c.set == setForAll:
			return true
		case c.set == setForAny:
			return false
		}
		return c.negated
	}
	if c.set != setNone && nullSet(&v) {
		return c.set == setForAll
	}
	all := c.set == setForAll || c.set == setNone && c.negated
	for i := 0; i < v.n; i++ {
		m := c.matchesAny(e, &v, i) != c.negated
		if m && !all {
			return true
		}
		if !m && all {
			return false
		}
	}
	return all
}

// nullSet reports whether a request's values are a null data set: none, or only "".
func nullSet(v *value) bool {
	for i := 0; i < v.n; i++ {
		if v.many == nil || v.many[i] != "" {
			return false
		}
	}
	return true
}

// matchesAny reports whether the request's i-th value matches one of the policy's values
// under the positive form of the operator.
func (c *cond) matchesAny(e *evaluation, v *value, i int) bool {
	for j := range c.vals {
		if c.vals[j].ok && c.matches(e, v, i, &c.vals[j]) {
			return true
		}
	}
	return false
}

func (c *cond) matches(e *evaluation, v *value, i int, w *condValue) bool {
	switch c.kind {
	case opStringEquals, opStringLike:
		return w.glob.match(v.str(i), false, e)
	case opStringEqualsIgnoreCase, opBool:
		if w.glob.exact {
			return strings.EqualFold(v.str(i), w.glob.text)
		}
		return w.glob.match(v.str(i), true, e)
	case opARNLike:
		parts, ok := splitARN(v.str(i))
		return w.arn.match(&parts, ok, e)
	case opNumericEquals, opNumericLessThan, opNumericLessThanEquals, opNumericGreaterThan, opNumericGreaterThanEquals:
		var f float64
		if v.timed {
			f = float64(v.time.Unix())
		} else {
			var err error
			if f, err = strconv.ParseFloat(v.str(i), 64); err != nil {
				return false
			}
		}
		return compare(c.kind-opNumericEquals, cmpFloat(f, w.num))
	case opDateEquals, opDateLessThan, opDateLessThanEquals, opDateGreaterThan, opDateGreaterThanEquals:
		t, ok := v.time, v.timed
		if !ok {
			t, ok = parseDate(v.str(i))
		}
		return ok && compare(c.kind-opDateEquals, t.Compare(w.date))
	case opBinaryEquals:
		return v.str(i) == w.bin
	case opIPAddress:
		a := v.addr
		if !a.IsValid() {
			var err error
			if a, err = netip.ParseAddr(v.str(i)); err != nil {
				return false
			}
			a = a.Unmap()
		}
		return w.prefix.Contains(a)
	}
	return false
}

// compare applies the n-th of Equals, LessThan, LessThanEquals, GreaterThan,
// GreaterThanEquals to the result of a three-way comparison.
func compare(n opKind, c int) bool {
	switch n {
	case 0:
		return c == 0
	case 1:
		return c < 0
	case 2:
		return c <= 0
	case 3:
		return c > 0
	}
	return c >= 0
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
