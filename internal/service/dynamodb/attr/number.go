package attr

import (
	"strings"

	"github.com/cockroachdb/apd/v3"
)

// DynamoDB's number limits: 38 significant digits, and a magnitude from 1E-130 to
// 9.9999999999999999999999999999999999999E+125 (the adjusted exponent, the power of ten of the
// leading digit, from -130 to 125).
const (
	maxDigits   = 38
	maxExponent = 125
	minExponent = -130
)

// exponentGuard bounds the exponents the parser carries around; anything past it is out of range
// whatever the digits, and keeping well inside int64 spares overflow checks.
const exponentGuard = 1 << 40

// canonicalNumber validates the text of a number as DynamoDB reads it and returns its canonical
// form: plain decimal notation, no exponent, no leading or trailing zeros, "-" for negatives and
// "0" for zero (never "-0"). "1.0" and "01" and "1E0" all become "1"; "1.5E2" becomes "150".
func canonicalNumber(text string) (string, *ValueError) {
	p, ok := scanNumber(text)
	if !ok {
		return "", notNumeric(text)
	}
	if p.digits == "" {
		// Zero keeps the exponent it was written with, as BigDecimal does, and that exponent
		// is range-checked: 0E126 overflows, 0E-131 underflows.
		switch adj := p.exp - int64(p.frac); {
		case adj > maxExponent:
			return "", valueError(msgOverflow)
		case adj < minExponent:
			return "", valueError(msgUnderflow)
		}
		return "0", nil
	}
	// The value is 0.digits × 10^point; the adjusted exponent is point-1.
	adj := p.point - 1
	switch {
	case adj > maxExponent:
		return "", valueError(msgOverflow)
	case adj < minExponent:
		return "", valueError(msgUnderflow)
	case len(p.digits) > maxDigits:
		return "", valueError(msgPrecision)
	}
	return plainDecimal(p.neg, p.digits, int(p.point)), nil
}

func notNumeric(text string) *ValueError {
	older := msgNotNumeric
	if text != "" {
		older += ": " + text
	}
	return &ValueError{msg: msgNotNumeric + ": " + text, older: older}
}

// parsedNumber is the text of a number taken apart: the significant digits without leading or
// trailing zeros (empty for zero), and the position of the decimal point relative to them, so
// that the value is ±0.digits × 10^point. For zero, frac and exp keep how it was written.
type parsedNumber struct {
	neg    bool
	digits string
	point  int64
	frac   int   // digits written after the decimal point
	exp    int64 // the written exponent
}

// scanNumber reads BigDecimal's grammar: [+-] (digits [. [digits]] | . digits) [(e|E) [+-] digits].
// An exponent that does not fit an int64 is not a number at all; one that does but lies far
// outside any supported range is clamped to ±exponentGuard.
func scanNumber(s string) (parsedNumber, bool) {
	var p parsedNumber
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		p.neg = s[i] == '-'
		i++
	}
	intStart := i
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	intDigits := s[intStart:i]
	var fracDigits string
	if i < len(s) && s[i] == '.' {
		i++
		fs := i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		fracDigits = s[fs:i]
	}
	if intDigits == "" && fracDigits == "" {
		return p, false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		eneg := false
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			eneg = s[i] == '-'
			i++
		}
		es := i
		const limit = 1 << 63 // |math.MinInt64|
		var e uint64
		for i < len(s) && isDigit(s[i]) {
			d := uint64(s[i] - '0')
			if e > (limit-d)/10 {
				return p, false
			}
			e = e*10 + d
			i++
		}
		if i == es || (!eneg && e == limit) {
			return p, false
		}
		if e > exponentGuard {
			e = exponentGuard
		}
		p.exp = int64(e)
		if eneg {
			p.exp = -p.exp
		}
	}
	if i != len(s) {
		return p, false
	}
	p.frac = len(fracDigits)
	// Significant digits: strip leading zeros across the point, then trailing zeros.
	lead := 0
	all := intDigits + fracDigits
	for lead < len(all) && all[lead] == '0' {
		lead++
	}
	sig := strings.TrimRight(all[lead:], "0")
	p.digits = sig
	p.point = int64(len(intDigits)-lead) + p.exp
	if sig == "" {
		p.neg = false
	}
	return p, true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// plainDecimal writes ±0.digits × 10^point in plain notation.
func plainDecimal(neg bool, digits string, point int) string {
	var b strings.Builder
	n := len(digits)
	size := n + 2
	switch {
	case point > n:
		size = point + 1
	case point <= 0:
		size = n - point + 3
	}
	b.Grow(size)
	if neg {
		b.WriteByte('-')
	}
	switch {
	case point >= n:
		b.WriteString(digits)
		for range point - n {
			b.WriteByte('0')
		}
	case point > 0:
		b.WriteString(digits[:point])
		b.WriteByte('.')
		b.WriteString(digits[point:])
	default:
		b.WriteString("0.")
		for range -point {
			b.WriteByte('0')
		}
		b.WriteString(digits)
	}
	return b.String()
}

// splitCanonical takes a canonical number apart into sign, significant digits and point
// position (see parsedNumber). It does not allocate.
func splitCanonical(c string) (neg bool, intPart, fracPart string) {
	if c[0] == '-' {
		neg = true
		c = c[1:]
	}
	if dot := strings.IndexByte(c, '.'); dot >= 0 {
		return neg, c[:dot], c[dot+1:]
	}
	return neg, c, ""
}

// compareNumbers orders two canonical numbers.
func compareNumbers(a, b string) int {
	an, bn := a[0] == '-', b[0] == '-'
	switch {
	case an && !bn:
		return -1
	case !an && bn:
		return 1
	case an:
		return compareMagnitudes(b[1:], a[1:])
	}
	return compareMagnitudes(a, b)
}

// compareMagnitudes orders two canonical non-negative numbers. Canonical integer parts have no
// leading zeros (only "0" itself), so a longer integer part is a larger number, and equal
// lengths compare digit by digit with the point in the same place.
func compareMagnitudes(a, b string) int {
	ai, bi := intLen(a), intLen(b)
	aSmall, bSmall := a[0] == '0', b[0] == '0'
	switch {
	case aSmall != bSmall:
		if aSmall {
			return -1
		}
		return 1
	case ai != bi:
		if ai < bi {
			return -1
		}
		return 1
	}
	return strings.Compare(a, b)
}

func intLen(s string) int {
	if i := strings.IndexByte(s, '.'); i >= 0 {
		return i
	}
	return len(s)
}

// numberDigits returns the significant digits of a canonical number and the point position p
// such that |n| = 0.digits × 10^p. Zero has no digits.
func numberDigits(c string) (neg bool, digits string, point int) {
	neg, ip, fp := splitCanonical(c)
	if ip == "0" {
		z := 0
		for z < len(fp) && fp[z] == '0' {
			z++
		}
		return neg, fp[z:], -z
	}
	if fp == "" {
		t := strings.TrimRight(ip, "0")
		return neg, t, len(ip)
	}
	return neg, ip + fp, len(ip)
}

// numberSize is the number of bytes DynamoDB counts for a number, the length of its base-100
// form: one byte of exponent, one per pair of significant digits aligned on the decimal point,
// and for a negative number a terminating byte unless the pairs fill all 20 places. Zero
// costs 1.
func numberSize(c string) int {
	neg, digits, point := numberDigits(c)
	if digits == "" {
		return 1
	}
	n := len(digits)
	if point%2 != 0 { // the leading digit sits in the low half of its pair
		n++
	}
	pairs := (n + 1) / 2
	if neg && pairs < 20 {
		return pairs + 2
	}
	return pairs + 1
}

// isCanonical reports whether s is a number in canonical form, without allocating.
func isCanonical(s string) bool {
	if strings.HasPrefix(s, "-") {
		s = s[1:]
		if s == "0" {
			return false
		}
	}
	ip, fp, dot := strings.Cut(s, ".")
	if ip == "" || (len(ip) > 1 && ip[0] == '0') || (dot && (fp == "" || fp[len(fp)-1] == '0')) {
		return false
	}
	for i := 0; i < len(ip); i++ {
		if !isDigit(ip[i]) {
			return false
		}
	}
	for i := 0; i < len(fp); i++ {
		if !isDigit(fp[i]) {
			return false
		}
	}
	return true
}

// arithmetic is exact: Precision 0 disables rounding, and the exponent range of the decimal
// library is far wider than DynamoDB's.
var arithmetic = apd.BaseContext

// addNumbers returns a+b (or a-b) as a canonical number, refused as DynamoDB refuses a result
// that it cannot store. DynamoDB answers the overflow message both for a magnitude out of range
// and for a result needing more than 38 digits (1E50 + 1).
func addNumbers(a, b string, subtract bool) (string, *ValueError) {
	var x, y, z apd.Decimal
	if _, _, err := x.SetString(a); err != nil {
		return "", notNumeric(a)
	}
	if _, _, err := y.SetString(b); err != nil {
		return "", notNumeric(b)
	}
	var err error
	if subtract {
		_, err = arithmetic.Sub(&z, &x, &y)
	} else {
		_, err = arithmetic.Add(&z, &x, &y)
	}
	if err != nil {
		return "", valueError(msgOverflow)
	}
	z.Reduce(&z)
	if z.IsZero() {
		return "0", nil
	}
	digits := z.Coeff.String()
	point := int64(len(digits)) + int64(z.Exponent)
	switch adj := point - 1; {
	case adj > maxExponent:
		return "", valueError(msgOverflow)
	case adj < minExponent:
		return "", valueError(msgUnderflow)
	case len(digits) > maxDigits:
		return "", valueError(msgOverflow)
	}
	return plainDecimal(z.Negative, digits, int(point)), nil
}
