package jsonata

import (
	"math"
	"strconv"
	"strings"
)

// This file is $formatNumber: XPath F&O's format-number with a decimal
// format given as an object, as jsonata-js implements it.

type numberPicture struct {
	prefix, suffix, activePart, mantissa, integer, fractional, sub string
	exponent                                                       *string
}

type numberVars struct {
	intGroups             []int
	regularGrouping       int
	minInt, scalingFactor int
	prefix, suffix        string
	fracGroups            []int
	minFrac, maxFrac      int
	minExp                int
	picture               string
}

func fnFormatNumber(c *call, a []any) any {
	if a[0] == nil {
		return nil
	}
	value := a[0].(float64)
	props := map[string]string{
		"decimal-separator": ".", "grouping-separator": ",", "exponent-separator": "e", "infinity": "Infinity",
		"minus-sign": "-", "NaN": "NaN", "percent": "%", "per-mille": "\u2030", "zero-digit": "0", "digit": "#",
		"pattern-separator": ";",
	}
	if o, ok := a[2].(*object); ok {
		for _, k := range o.keys {
			if s, ok := o.vals[k].(string); ok {
				props[k] = s
			}
		}
	}
	zero := []rune(props["zero-digit"])[0]
	var family []string
	for i := rune(0); i < 10; i++ {
		family = append(family, string(zero+i))
	}
	isDigit := func(ch string) bool {
		for _, d := range family {
			if d == ch {
				return true
			}
		}
		return false
	}
	active := append(append([]string{}, family...), props["decimal-separator"], props["exponent-separator"], props["grouping-separator"], props["digit"], props["pattern-separator"])
	isActive := func(ch string) bool {
		for _, x := range active {
			if x == ch {
				return true
			}
		}
		return false
	}
	subs := strings.Split(a[1].(string), props["pattern-separator"])
	if len(subs) > 2 {
		throw(&Error{Code: "D3080"})
	}
	split := func(sub string) numberPicture {
		r := []rune(sub)
		prefix, suffix := "", ""
		for i := 0; i < len(r); i++ {
			ch := string(r[i])
			if isActive(ch) && ch != props["exponent-separator"] {
				prefix = string(r[:i])
				break
			}
		}
		for i := len(r) - 1; i >= 0; i-- {
			ch := string(r[i])
			if isActive(ch) && ch != props["exponent-separator"] {
				suffix = string(r[i+1:])
				break
			}
		}
		pl, sl := len([]rune(prefix)), len([]rune(suffix))
		activePart := string(r[pl : len(r)-sl])
		p := numberPicture{prefix: prefix, suffix: suffix, activePart: activePart, sub: sub}
		expPos := runeIndexFrom(sub, props["exponent-separator"], pl)
		if expPos == -1 || expPos > len(r)-sl {
			p.mantissa = activePart
		} else {
			ar := []rune(activePart)
			p.mantissa = string(ar[:min(expPos, len(ar))])
			e := ""
			if expPos+1 <= len(ar) {
				e = string(ar[expPos+1:])
			}
			p.exponent = &e
		}
		if dp := runeIndexFrom(p.mantissa, props["decimal-separator"], 0); dp == -1 {
			p.integer = p.mantissa
			p.fractional = suffix
		} else {
			mr := []rune(p.mantissa)
			p.integer = string(mr[:dp])
			p.fractional = string(mr[dp+1:])
		}
		return p
	}
	validate := func(p numberPicture) {
		code := ""
		sub := p.sub
		ds, gs := props["decimal-separator"], props["grouping-separator"]
		decimalPos := runeIndexFrom(sub, ds, 0)
		if decimalPos != runeLastIndex(sub, ds) {
			code = "D3081"
		}
		if runeIndexFrom(sub, props["percent"], 0) != runeLastIndex(sub, props["percent"]) {
			code = "D3082"
		}
		if runeIndexFrom(sub, props["per-mille"], 0) != runeLastIndex(sub, props["per-mille"]) {
			code = "D3083"
		}
		if strings.Contains(sub, props["percent"]) && strings.Contains(sub, props["per-mille"]) {
			code = "D3084"
		}
		valid := false
		for _, ch := range p.mantissa {
			if isDigit(string(ch)) || string(ch) == props["digit"] {
				valid = true
				break
			}
		}
		if !valid {
			code = "D3085"
		}
		for _, ch := range p.activePart {
			if !isActive(string(ch)) {
				code = "D3086"
			}
		}
		sr := []rune(sub)
		if decimalPos != -1 {
			if (decimalPos > 0 && string(sr[decimalPos-1]) == gs) || (decimalPos+1 < len(sr) && string(sr[decimalPos+1]) == gs) {
				code = "D3087"
			}
		} else if strings.HasSuffix(p.integer, gs) {
			code = "D3088"
		}
		if strings.Contains(sub, gs+gs) {
			code = "D3089"
		}
		if i := runeIndexFrom(p.integer, props["digit"], 0); i != -1 {
			for _, ch := range []rune(p.integer)[:i] {
				if isDigit(string(ch)) {
					code = "D3090"
				}
			}
		}
		if i := runeLastIndex(p.fractional, props["digit"]); i != -1 {
			for _, ch := range []rune(p.fractional)[i:] {
				if isDigit(string(ch)) {
					code = "D3091"
				}
			}
		}
		if p.exponent != nil && len(*p.exponent) > 0 && (strings.Contains(sub, props["percent"]) || strings.Contains(sub, props["per-mille"])) {
			code = "D3092"
		}
		if p.exponent != nil {
			bad := len(*p.exponent) == 0
			for _, ch := range *p.exponent {
				if !isDigit(string(ch)) {
					bad = true
				}
			}
			if bad {
				code = "D3093"
			}
		}
		if code != "" {
			throw(&Error{Code: code})
		}
	}
	countIf := func(s string, f func(string) bool) int {
		n := 0
		for _, ch := range s {
			if f(string(ch)) {
				n++
			}
		}
		return n
	}
	digitOrOpt := func(ch string) bool { return isDigit(ch) || ch == props["digit"] }
	analyse := func(p numberPicture) numberVars {
		gs := props["grouping-separator"]
		groupPositions := func(part string, toLeft bool) []int {
			var out []int
			pr := []rune(part)
			pos := runeIndexFrom(part, gs, 0)
			for pos != -1 {
				var seg string
				if toLeft {
					seg = string(pr[:pos])
				} else {
					seg = string(pr[pos:])
				}
				out = append(out, countIf(seg, digitOrOpt))
				pos = runeIndexFrom(p.integer, gs, pos+1)
			}
			return out
		}
		v := numberVars{prefix: p.prefix, suffix: p.suffix, picture: p.sub}
		v.intGroups = groupPositions(p.integer, false)
		v.regularGrouping = regularIndexes(v.intGroups)
		v.fracGroups = groupPositions(p.fractional, true)
		v.minInt = countIf(p.integer, isDigit)
		v.scalingFactor = v.minInt
		v.minFrac = countIf(p.fractional, isDigit)
		v.maxFrac = countIf(p.fractional, digitOrOpt)
		expPresent := p.exponent != nil
		if v.minInt == 0 && v.maxFrac == 0 {
			if expPresent {
				v.minFrac, v.maxFrac = 1, 1
			} else {
				v.minInt = 1
			}
		}
		if expPresent && v.minInt == 0 && strings.Contains(p.integer, props["digit"]) {
			v.minInt = 1
		}
		if v.minInt == 0 && v.minFrac == 0 {
			v.minFrac = 1
		}
		if expPresent {
			v.minExp = countIf(*p.exponent, isDigit)
		}
		return v
	}
	var parts []numberPicture
	for _, s := range subs {
		parts = append(parts, split(s))
	}
	for _, p := range parts {
		validate(p)
	}
	var vars []numberVars
	for _, p := range parts {
		vars = append(vars, analyse(p))
	}
	minus, zeroDigit, ds, gs := props["minus-sign"], props["zero-digit"], props["decimal-separator"], props["grouping-separator"]
	if len(vars) == 1 {
		neg := vars[0]
		neg.prefix = minus + neg.prefix
		vars = append(vars, neg)
	}
	pic := vars[0]
	if value < 0 {
		pic = vars[1]
	}
	adjusted := value
	if strings.Contains(pic.picture, props["percent"]) {
		adjusted = value * 100
	} else if strings.Contains(pic.picture, props["per-mille"]) {
		adjusted = value * 1000
	}
	mantissa := adjusted
	var exponent *int
	if pic.minExp != 0 {
		maxM := math.Pow(10, float64(pic.scalingFactor))
		minM := math.Pow(10, float64(pic.scalingFactor-1))
		e := 0
		if mantissa != 0 {
			for math.Abs(mantissa) < minM {
				mantissa *= 10
				e--
			}
			for math.Abs(mantissa) > maxM {
				mantissa /= 10
				e++
			}
		}
		exponent = &e
	}
	rounded := fnRound(nil, []any{mantissa, float64(pic.maxFrac)}).(float64)
	makeString := func(v float64, dp int) string {
		s := strconv.FormatFloat(math.Abs(v), 'f', dp, 64)
		if zeroDigit != "0" {
			var sb strings.Builder
			for _, ch := range s {
				if ch >= '0' && ch <= '9' {
					sb.WriteString(family[ch-'0'])
				} else {
					sb.WriteRune(ch)
				}
			}
			s = sb.String()
		}
		return s
	}
	s := makeString(rounded, pic.maxFrac)
	if !strings.Contains(s, ".") {
		s += ds
	} else {
		s = strings.Replace(s, ".", ds, 1)
	}
	for strings.HasPrefix(s, zeroDigit) {
		s = s[len(zeroDigit):]
	}
	for strings.HasSuffix(s, zeroDigit) {
		s = s[:len(s)-len(zeroDigit)]
	}
	r := []rune(s)
	decimalPos := runeIndexFrom(s, ds, 0)
	padLeft := pic.minInt - decimalPos
	padRight := pic.minFrac - (len(r) - decimalPos - 1)
	if padLeft > 0 {
		s = strings.Repeat(zeroDigit, padLeft) + s
	}
	if padRight > 0 {
		s += strings.Repeat(zeroDigit, padRight)
	}
	r = []rune(s)
	decimalPos = runeIndexFrom(s, ds, 0)
	if pic.regularGrouping > 0 {
		groups := (decimalPos - 1) / pic.regularGrouping
		for g := 1; g <= groups; g++ {
			r = insertAt(r, decimalPos-g*pic.regularGrouping, gs)
		}
	} else {
		for _, pos := range pic.intGroups {
			r = insertAt(r, decimalPos-pos, gs)
			decimalPos++
		}
	}
	s = string(r)
	decimalPos = runeIndexFrom(s, ds, 0)
	for _, pos := range pic.fracGroups {
		r = insertAt([]rune(s), pos+decimalPos+1, gs)
		s = string(r)
	}
	r = []rune(s)
	decimalPos = runeIndexFrom(s, ds, 0)
	if !strings.Contains(pic.picture, ds) || decimalPos == len(r)-1 {
		s = string(r[:len(r)-1])
	}
	if exponent != nil {
		se := makeString(float64(*exponent), 0)
		if pad := pic.minExp - len([]rune(se)); pad > 0 {
			se = strings.Repeat(zeroDigit, pad) + se
		}
		sign := ""
		if *exponent < 0 {
			sign = minus
		}
		s += props["exponent-separator"] + sign + se
	}
	return pic.prefix + s + pic.suffix
}

func regularIndexes(idx []int) int {
	if len(idx) == 0 {
		return 0
	}
	factor := idx[0]
	for _, i := range idx[1:] {
		factor = gcd(factor, i)
	}
	for i := 1; i <= len(idx); i++ {
		found := false
		for _, x := range idx {
			if x == i*factor {
				found = true
			}
		}
		if !found {
			return 0
		}
	}
	return factor
}

// runeIndexFrom is JavaScript's indexOf in runes.
func runeIndexFrom(s, sub string, from int) int {
	r := []rune(s)
	if from > len(r) {
		return -1
	}
	i := strings.Index(string(r[from:]), sub)
	if i < 0 {
		return -1
	}
	return from + len([]rune(string(r[from:])[:i]))
}

func runeLastIndex(s, sub string) int {
	i := strings.LastIndex(s, sub)
	if i < 0 {
		return -1
	}
	return len([]rune(s[:i]))
}
