package jsonata

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// This file holds the XPath F&O picture strings of $formatInteger,
// $parseInteger, $fromMillis and $toMillis as jsonata-js implements them.

var (
	fewWords     = []string{"Zero", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine", "Ten", "Eleven", "Twelve", "Thirteen", "Fourteen", "Fifteen", "Sixteen", "Seventeen", "Eighteen", "Nineteen"}
	ordinalWords = []string{"Zeroth", "First", "Second", "Third", "Fourth", "Fifth", "Sixth", "Seventh", "Eighth", "Ninth", "Tenth", "Eleventh", "Twelfth", "Thirteenth", "Fourteenth", "Fifteenth", "Sixteenth", "Seventeenth", "Eighteenth", "Nineteenth"}
	decadeWords  = []string{"Twenty", "Thirty", "Forty", "Fifty", "Sixty", "Seventy", "Eighty", "Ninety", "Hundred"}
	magnitudes   = []string{"Thousand", "Million", "Billion", "Trillion"}
	dayNames     = []string{"", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"}
	monthNames   = []string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"}
	// wordKeys lists the number words in jsonata-js's order (it matters in the parsing regex).
	wordKeys   []string
	wordValues = map[string]float64{}
	wordsRegex string
)

var decimalGroups = []rune{0x30, 0x0660, 0x06F0, 0x07C0, 0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0B66, 0x0BE6, 0x0C66, 0x0CE6, 0x0D66, 0x0DE6, 0x0E50, 0x0ED0, 0x0F20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90, 0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0, 0xFF10}

func init() {
	add := func(w string, v float64) {
		if _, ok := wordValues[w]; !ok {
			wordKeys = append(wordKeys, w)
		}
		wordValues[w] = v
	}
	for i, w := range fewWords {
		add(strings.ToLower(w), float64(i))
	}
	for i, w := range ordinalWords {
		add(strings.ToLower(w), float64(i))
	}
	for i, w := range decadeWords {
		lw := strings.ToLower(w)
		add(lw, float64((i+2)*10))
		add(lw[:len(lw)-1]+"ieth", float64((i+2)*10))
	}
	add("hundredth", 100)
	for i, w := range magnitudes {
		lw := strings.ToLower(w)
		v := math.Pow(10, float64((i+1)*3))
		add(lw, v)
		add(lw+"th", v)
	}
	wordsRegex = "(?:" + strings.Join(append(append([]string{}, wordKeys...), "and", `[\-, ]`), "|") + ")+"
}

func numberToWords(v float64, ordinal bool) string {
	var lookup func(num float64, prev, ord bool) string
	lookup = func(num float64, prev, ord bool) string {
		words := ""
		switch {
		case num <= 19:
			if prev {
				words = " and "
			}
			if ord {
				words += ordinalWords[int(num)]
			} else {
				words += fewWords[int(num)]
			}
		case num < 100:
			tens := int(num / 10)
			rem := math.Mod(num, 10)
			if prev {
				words = " and "
			}
			words += decadeWords[tens-2]
			if rem > 0 {
				words += "-" + lookup(rem, false, ord)
			} else if ord {
				words = words[:len(words)-1] + "ieth"
			}
		case num < 1000:
			hundreds := int(num / 100)
			rem := math.Mod(num, 100)
			if prev {
				words = ", "
			}
			words += fewWords[hundreds] + " Hundred"
			if rem > 0 {
				words += lookup(rem, true, ord)
			} else if ord {
				words += "th"
			}
		default:
			mag := int(math.Floor(math.Log10(num) / 3))
			if mag > len(magnitudes) {
				mag = len(magnitudes)
			}
			factor := math.Pow(10, float64(mag*3))
			mant := math.Floor(num / factor)
			rem := num - mant*factor
			if prev {
				words = ", "
			}
			words += lookup(mant, false, false) + " " + magnitudes[mag-1]
			if rem > 0 {
				words += lookup(rem, true, ord)
			} else if ord {
				words += "th"
			}
		}
		return words
	}
	return lookup(v, false, ordinal)
}

var wordSplit = regexp.MustCompile(`,\s|\sand\s|[\s\\-]`)

func wordsToNumber(text string) float64 {
	segs := []float64{0}
	for _, part := range wordSplit.Split(text, -1) {
		v, ok := wordValues[part]
		if !ok {
			v = math.NaN()
		}
		if v < 100 || math.IsNaN(v) {
			top := segs[len(segs)-1]
			segs = segs[:len(segs)-1]
			if top >= 1000 {
				segs = append(segs, top)
				top = 0
			}
			segs = append(segs, top+v)
		} else {
			segs[len(segs)-1] *= v
		}
	}
	total := 0.0
	for _, s := range segs {
		total += s
	}
	return total
}

var romanNumerals = []struct {
	v float64
	s string
}{{1000, "m"}, {900, "cm"}, {500, "d"}, {400, "cd"}, {100, "c"}, {90, "xc"}, {50, "l"}, {40, "xl"}, {10, "x"}, {9, "ix"}, {5, "v"}, {4, "iv"}, {1, "i"}}

func decimalToRoman(v float64) string {
	var sb strings.Builder
	for v >= 1 {
		for _, n := range romanNumerals {
			if v >= n.v {
				sb.WriteString(n.s)
				v -= n.v
				break
			}
		}
	}
	return sb.String()
}

func romanToDecimal(s string) float64 {
	values := map[rune]float64{'M': 1000, 'D': 500, 'C': 100, 'L': 50, 'X': 10, 'V': 5, 'I': 1}
	dec, maxv := 0.0, 1.0
	r := []rune(s)
	for i := len(r) - 1; i >= 0; i-- {
		v := values[r[i]]
		if v < maxv {
			dec -= v
		} else {
			maxv = v
			dec += v
		}
	}
	return dec
}

func decimalToLetters(v float64, a rune) string {
	var letters []rune
	for v > 0 {
		letters = append([]rune{rune(math.Mod(v-1, 26)) + a}, letters...)
		v = math.Floor((v - 1) / 26)
	}
	return string(letters)
}

func lettersToDecimal(s string, a rune) float64 {
	r := []rune(s)
	dec := 0.0
	for i := range r {
		dec += float64(r[len(r)-i-1]-a+1) * math.Pow(26, float64(i))
	}
	return dec
}

type separator struct {
	position int
	char     string
}

// intFormat is an analysed integer picture.
type intFormat struct {
	primary             string // decimal, letters, roman, words, sequence
	upper, title        bool
	ordinal             bool
	zeroCode            rune
	mandatory, optional int
	regular             bool
	regularPos          int
	regularChar         string
	separators          []separator
	token               string
	parseWidth          int
}

func analyseIntegerPicture(picture string) *intFormat {
	f := &intFormat{primary: "decimal"}
	primary := picture
	if i := strings.LastIndex(picture, ";"); i >= 0 {
		primary = picture[:i]
		if strings.HasPrefix(picture[i+1:], "o") {
			f.ordinal = true
		}
	}
	switch primary {
	case "A":
		f.upper = true
		f.primary = "letters"
	case "a":
		f.primary = "letters"
	case "I":
		f.upper = true
		f.primary = "roman"
	case "i":
		f.primary = "roman"
	case "W":
		f.upper = true
		f.primary = "words"
	case "Ww":
		f.title = true
		f.primary = "words"
	case "w":
		f.primary = "words"
	default:
		zero := rune(-1)
		sepPos := 0
		r := []rune(primary)
		for i := len(r) - 1; i >= 0; i-- {
			c := r[i]
			digit := false
			for _, g := range decimalGroups {
				if c >= g && c <= g+9 {
					digit = true
					f.mandatory++
					sepPos++
					if zero == -1 {
						zero = g
					} else if g != zero {
						throw(&Error{Code: "D3131"})
					}
					break
				}
			}
			if !digit {
				if c == '#' {
					sepPos++
					f.optional++
				} else {
					f.separators = append(f.separators, separator{sepPos, string(c)})
				}
			}
		}
		if f.mandatory > 0 {
			f.zeroCode = zero
			if reg := regularRepeat(f.separators); reg > 0 {
				f.regular = true
				f.regularPos = reg
				f.regularChar = f.separators[0].char
			}
		} else {
			f.primary = "sequence"
			f.token = primary
		}
	}
	return f
}

func gcd(a, b int) int {
	if b == 0 {
		return a
	}
	return gcd(b, a%b)
}

func regularRepeat(seps []separator) int {
	if len(seps) == 0 {
		return 0
	}
	for _, s := range seps[1:] {
		if s.char != seps[0].char {
			return 0
		}
	}
	factor := seps[0].position
	for _, s := range seps[1:] {
		factor = gcd(factor, s.position)
	}
	for i := 1; i <= len(seps); i++ {
		found := false
		for _, s := range seps {
			if s.position == i*factor {
				found = true
			}
		}
		if !found {
			return 0
		}
	}
	return factor
}

func insertAt(s []rune, pos int, ins string) []rune {
	if pos < 0 {
		pos = 0
	}
	if pos > len(s) {
		pos = len(s)
	}
	out := make([]rune, 0, len(s)+len(ins))
	out = append(out, s[:pos]...)
	out = append(out, []rune(ins)...)
	return append(out, s[pos:]...)
}

func formatIntegerWith(v float64, f *intFormat) string {
	neg := v < 0
	v = math.Abs(v)
	var s string
	switch f.primary {
	case "letters":
		a := 'a'
		if f.upper {
			a = 'A'
		}
		s = decimalToLetters(v, a)
	case "roman":
		s = decimalToRoman(v)
		if f.upper {
			s = strings.ToUpper(s)
		}
	case "words":
		s = numberToWords(v, f.ordinal)
		if f.upper {
			s = strings.ToUpper(s)
		} else if !f.title {
			s = strings.ToLower(s)
		}
	case "decimal":
		s = strconv.FormatFloat(v, 'f', -1, 64)
		if f.mandatory > maxPadding {
			throw(&Error{Code: "D1001", Value: float64(f.mandatory)})
		}
		if pad := f.mandatory - len(s); pad > 0 {
			s = strings.Repeat("0", pad) + s
		}
		r := []rune(s)
		if f.zeroCode != '0' {
			for i := range r {
				r[i] = r[i] + f.zeroCode - '0'
			}
		}
		if f.regular {
			n := (len(r) - 1) / f.regularPos
			for i := n; i > 0; i-- {
				r = insertAt(r, len(r)-i*f.regularPos, f.regularChar)
			}
		} else {
			for i := len(f.separators) - 1; i >= 0; i-- {
				r = insertAt(r, len(r)-f.separators[i].position, f.separators[i].char)
			}
		}
		s = string(r)
		if f.ordinal {
			suffix := map[byte]string{'1': "st", '2': "nd", '3': "rd"}[s[len(s)-1]]
			if suffix == "" || (len(s) > 1 && s[len(s)-2] == '1') {
				suffix = "th"
			}
			s += suffix
		}
	case "sequence":
		throw(&Error{Code: "D3130", Value: f.token})
	}
	if neg {
		s = "-" + s
	}
	return s
}

func fnFormatInteger(c *call, a []any) any {
	if a[0] == nil {
		return nil
	}
	return formatIntegerWith(math.Floor(a[0].(float64)), analyseIntegerPicture(a[1].(string)))
}

// integerMatcher is the regular expression and parser of an integer picture.
type integerMatcher struct {
	regex string
	parse func(string) float64
}

func (f *intFormat) matcher() integerMatcher {
	switch f.primary {
	case "letters":
		a, re := 'a', "[a-z]+"
		if f.upper {
			a, re = 'A', "[A-Z]+"
		}
		return integerMatcher{re, func(s string) float64 { return lettersToDecimal(s, a) }}
	case "roman":
		re := "[mdclxvi]+"
		if f.upper {
			re = "[MDCLXVI]+"
		}
		return integerMatcher{re, func(s string) float64 { return romanToDecimal(strings.ToUpper(s)) }}
	case "words":
		return integerMatcher{wordsRegex, func(s string) float64 { return wordsToNumber(strings.ToLower(s)) }}
	case "decimal":
		re := "[0-9]+"
		if f.parseWidth > 0 {
			re = "[0-9]{" + strconv.Itoa(f.parseWidth) + "}"
		}
		if f.ordinal {
			re += "(?:th|st|nd|rd)"
		}
		return integerMatcher{re, func(s string) float64 {
			digits := s
			if f.ordinal {
				digits = digits[:max(0, len(digits)-2)]
			}
			if f.regular {
				digits = strings.ReplaceAll(digits, ",", "")
			} else {
				for _, sep := range f.separators {
					digits = strings.ReplaceAll(digits, sep.char, "")
				}
			}
			if f.zeroCode != '0' {
				r := []rune(digits)
				for i := range r {
					r[i] = r[i] - f.zeroCode + '0'
				}
				digits = string(r)
			}
			return parseIntPrefix(digits)
		}}
	}
	throw(&Error{Code: "D3130", Value: f.token})
	return integerMatcher{}
}

// parseIntPrefix is JavaScript's parseInt(s, 10).
func parseIntPrefix(s string) float64 {
	s = strings.TrimSpace(s)
	i := 0
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		i++
	}
	j := i
	for j < len(s) && s[j] >= '0' && s[j] <= '9' {
		j++
	}
	if j == i {
		return math.NaN()
	}
	f, _ := strconv.ParseFloat(s[:j], 64)
	return f
}

func fnParseInteger(c *call, a []any) any {
	if a[0] == nil {
		return nil
	}
	m := analyseIntegerPicture(a[1].(string)).matcher()
	return m.parse(a[0].(string))
}

// dateMarker is one [component...] of a date/time picture, or a literal.
type dateMarker struct {
	literal       string
	isLiteral     bool
	component     byte
	pres1, pres2  string
	ordinal       bool
	names         string // lower, upper, title
	widthMin      int    // -1 when absent
	widthMax      int
	hasWidth      bool
	integerFormat *intFormat
	n             int
}

var defaultPresentation = map[byte]string{
	'Y': "1", 'M': "1", 'D': "1", 'd': "1", 'F': "n", 'W': "1", 'w': "1", 'X': "1", 'x': "1", 'H': "1", 'h': "1",
	'P': "n", 'm': "01", 's': "01", 'f': "1", 'Z': "01:01", 'z': "01:01", 'C': "n", 'E': "n",
}

var spaces = regexp.MustCompile(`\s+`)

func analyseDateTimePicture(picture string) []*dateMarker {
	var spec []*dateMarker
	addLiteral := func(start, end int) {
		if end > start {
			lit := strings.ReplaceAll(picture[start:end], "]]", "]")
			spec = append(spec, &dateMarker{isLiteral: true, literal: lit})
		}
	}
	start, pos := 0, 0
	for pos < len(picture) {
		if picture[pos] == '[' {
			if pos+1 < len(picture) && picture[pos+1] == '[' {
				addLiteral(start, pos)
				spec = append(spec, &dateMarker{isLiteral: true, literal: "["})
				pos += 2
				start = pos
				continue
			}
			addLiteral(start, pos)
			start = pos
			end := strings.IndexByte(picture[start:], ']')
			if end < 0 {
				throw(&Error{Code: "D3135"})
			}
			pos = start + end
			marker := spaces.ReplaceAllString(picture[start+1:pos], "")
			d := &dateMarker{widthMin: -1, widthMax: -1}
			if marker != "" {
				d.component = marker[0]
			}
			var pres string
			if comma := strings.LastIndexByte(marker, ','); comma >= 0 {
				wm := marker[comma+1:]
				minS, maxS := wm, ""
				hasMax := false
				if dash := strings.IndexByte(wm, '-'); dash >= 0 {
					minS, maxS = wm[:dash], wm[dash+1:]
					hasMax = true
				}
				parseWidth := func(s string) int {
					if s == "*" || s == "" {
						return -1
					}
					f := parseIntPrefix(s)
					if math.IsNaN(f) {
						return -1
					}
					return int(f)
				}
				d.hasWidth = true
				d.widthMin = parseWidth(minS)
				if hasMax {
					d.widthMax = parseWidth(maxS)
				}
				pres = marker[1:comma]
			} else if len(marker) > 0 {
				pres = marker[1:]
			}
			switch {
			case len(pres) == 1:
				d.pres1 = pres
			case len(pres) > 1:
				last := pres[len(pres)-1]
				if strings.IndexByte("atco", last) >= 0 {
					d.pres2 = string(last)
					d.ordinal = last == 'o'
					d.pres1 = pres[:len(pres)-1]
				} else {
					d.pres1 = pres
				}
			default:
				p, ok := defaultPresentation[d.component]
				if !ok {
					throw(&Error{Code: "D3132", Value: string(d.component)})
				}
				d.pres1 = p
			}
			if d.pres1[0] == 'n' {
				d.names = "lower"
			} else if d.pres1[0] == 'N' {
				if len(d.pres1) > 1 && d.pres1[1] == 'n' {
					d.names = "title"
				} else {
					d.names = "upper"
				}
			} else if strings.IndexByte("YMDdFWwXxHhmsf", d.component) >= 0 {
				pattern := d.pres1
				if d.pres2 != "" {
					pattern += ";" + d.pres2
				}
				d.integerFormat = analyseIntegerPicture(pattern)
				if d.hasWidth && d.widthMin >= 0 && d.integerFormat.mandatory < d.widthMin {
					d.integerFormat.mandatory = d.widthMin
				}
				if d.component == 'Y' {
					d.n = -1
					if d.hasWidth && d.widthMax >= 0 {
						d.n = d.widthMax
						d.integerFormat.mandatory = d.n
					} else if w := d.integerFormat.mandatory + d.integerFormat.optional; w >= 2 {
						d.n = w
					}
				}
				if len(spec) > 0 {
					if prev := spec[len(spec)-1]; prev.integerFormat != nil {
						prev.integerFormat.parseWidth = prev.integerFormat.mandatory
					}
				}
			}
			if d.component == 'Z' || d.component == 'z' {
				d.integerFormat = analyseIntegerPicture(d.pres1)
			}
			spec = append(spec, d)
			start = pos + 1
		}
		pos++
	}
	addLiteral(start, pos)
	return spec
}

const millisInADay = 86400000.0

func utcMillis(y, m int) float64 {
	return float64(time.Date(y, time.Month(m+1), 1, 0, 0, 0, 0, time.UTC).UnixMilli())
}

func startOfFirstWeek(y, m int) float64 {
	jan1 := utcMillis(y, m)
	dow := int(time.UnixMilli(int64(jan1)).UTC().Weekday())
	if dow == 0 {
		dow = 7
	}
	if dow > 4 {
		return jan1 + float64(8-dow)*millisInADay
	}
	return jan1 - float64(dow-1)*millisInADay
}

func nextMonth(y, m int) (int, int) {
	if m == 11 {
		return y + 1, 0
	}
	return y, m + 1
}

func prevMonth(y, m int) (int, int) {
	if m == 0 {
		return y - 1, 11
	}
	return y, m - 1
}

func deltaWeeks(start, end float64) float64 { return (end-start)/(millisInADay*7) + 1 }

// dateFragment is one component of t (t is already shifted to its zone).
func dateFragment(t time.Time, component byte) any {
	t = t.UTC()
	switch component {
	case 'Y':
		return float64(t.Year())
	case 'M':
		return float64(t.Month())
	case 'D':
		return float64(t.Day())
	case 'd':
		return float64(t.YearDay())
	case 'F':
		d := int(t.Weekday())
		if d == 0 {
			d = 7
		}
		return float64(d)
	case 'W':
		y := t.Year()
		start := startOfFirstWeek(y, 0)
		today := float64(time.Date(y, t.Month(), t.Day(), 0, 0, 0, 0, time.UTC).UnixMilli())
		week := deltaWeeks(start, today)
		if week > 52 {
			if today >= startOfFirstWeek(y+1, 0) {
				week = 1
			}
		} else if week < 1 {
			week = deltaWeeks(startOfFirstWeek(y-1, 0), today)
		}
		return math.Floor(week)
	case 'w':
		y, m := t.Year(), int(t.Month())-1
		start := startOfFirstWeek(y, m)
		today := float64(time.Date(y, t.Month(), t.Day(), 0, 0, 0, 0, time.UTC).UnixMilli())
		week := deltaWeeks(start, today)
		if week > 4 {
			if today >= startOfFirstWeek(nextMonth(y, m)) {
				week = 1
			}
		} else if week < 1 {
			week = deltaWeeks(startOfFirstWeek(prevMonth(y, m)), today)
		}
		return math.Floor(week)
	case 'X':
		y := t.Year()
		now := float64(t.UnixMilli())
		if now < startOfFirstWeek(y, 0) {
			return float64(y - 1)
		} else if now >= startOfFirstWeek(y+1, 0) {
			return float64(y + 1)
		}
		return float64(y)
	case 'x':
		y, m := t.Year(), int(t.Month())-1
		now := float64(t.UnixMilli())
		ny, nm := nextMonth(y, m)
		if now < startOfFirstWeek(y, m) {
			_, pm := prevMonth(y, m)
			return float64(pm + 1)
		} else if now >= startOfFirstWeek(ny, nm) {
			return float64(nm + 1)
		}
		return float64(m + 1)
	case 'H':
		return float64(t.Hour())
	case 'h':
		h := t.Hour() % 12
		if h == 0 {
			h = 12
		}
		return float64(h)
	case 'P':
		if t.Hour() >= 12 {
			return "pm"
		}
		return "am"
	case 'm':
		return float64(t.Minute())
	case 's':
		return float64(t.Second())
	case 'f':
		return float64(t.Nanosecond() / 1e6)
	case 'C', 'E':
		return "ISO"
	}
	return nil
}

const isoPicture = "[Y0001]-[M01]-[D01]T[H01]:[m01]:[s01].[f001][Z01:01t]"

// formatMillis renders milliseconds since the epoch with a picture string
// (ISO 8601 when there is none) in a timezone given as ±HHMM.
func formatMillis(ms float64, picture, tz any) any {
	offH, offM := 0, 0
	if z, ok := tz.(string); ok {
		off := parseIntPrefix(z)
		if !math.IsNaN(off) {
			offH = int(math.Floor(off / 100))
			offM = int(math.Mod(off, 100))
		}
	}
	p, ok := picture.(string)
	if !ok {
		p = isoPicture
	}
	spec := analyseDateTimePicture(p)
	offsetMillis := float64((60*offH + offM) * 60 * 1000)
	t := time.UnixMilli(int64(math.Floor(ms + offsetMillis))).UTC()
	var sb strings.Builder
	for _, part := range spec {
		if part.isLiteral {
			sb.WriteString(part.literal)
			continue
		}
		sb.WriteString(formatComponent(t, part, offH, offM))
	}
	return sb.String()
}

func formatComponent(t time.Time, d *dateMarker, offH, offM int) string {
	v := dateFragment(t, d.component)
	switch {
	case strings.IndexByte("YMDdFWwXxHhms", d.component) >= 0:
		n, _ := v.(float64)
		if d.component == 'Y' && d.n != -1 {
			n = math.Mod(n, math.Pow(10, float64(d.n)))
		}
		if d.names != "" {
			var name string
			switch d.component {
			case 'M', 'x':
				name = monthNames[int(n)-1]
			case 'F':
				name = dayNames[int(n)]
			default:
				throw(&Error{Code: "D3133", Value: string(d.component)})
			}
			switch d.names {
			case "upper":
				name = strings.ToUpper(name)
			case "lower":
				name = strings.ToLower(name)
			}
			if d.hasWidth && d.widthMax >= 0 && utf8.RuneCountInString(name) > d.widthMax {
				name = string([]rune(name)[:d.widthMax])
			}
			return name
		}
		return formatIntegerWith(n, d.integerFormat)
	case d.component == 'f':
		return formatIntegerWith(v.(float64), d.integerFormat)
	case d.component == 'Z' || d.component == 'z':
		offset := offH*100 + offM
		var s string
		if d.integerFormat.regular {
			s = formatIntegerWith(float64(offset), d.integerFormat)
		} else {
			switch n := d.integerFormat.mandatory; n {
			case 1, 2:
				s = formatIntegerWith(float64(offH), d.integerFormat)
				if offM != 0 {
					s += ":" + formatIntegerWith(float64(offM), analyseIntegerPicture("00"))
				}
			case 3, 4:
				s = formatIntegerWith(float64(offset), d.integerFormat)
			default:
				throw(&Error{Code: "D3134", Value: float64(n)})
			}
		}
		if offset >= 0 {
			s = "+" + s
		}
		if d.component == 'z' {
			s = "GMT" + s
		}
		if offset == 0 && d.pres2 == "t" {
			s = "Z"
		}
		return s
	case d.component == 'P':
		s := v.(string)
		if d.names == "upper" {
			s = strings.ToUpper(s)
		}
		return s
	}
	if s, ok := v.(string); ok {
		return s
	}
	if v == nil {
		return "undefined"
	}
	return formatNumber(v.(float64))
}

type datePart struct {
	regex     string
	component byte
	parse     func(string) float64
}

func parseDateTime(timestamp, picture string, now time.Time) any {
	spec := analyseDateTimePicture(picture)
	parts := make([]datePart, len(spec))
	for i, d := range spec {
		p := datePart{component: d.component}
		switch {
		case d.isLiteral:
			p.regex = regexp.QuoteMeta(d.literal)
		case d.component == 'Z' || d.component == 'z':
			sep := ""
			if d.integerFormat.regular {
				sep = d.integerFormat.regularChar
			}
			if d.component == 'z' {
				p.regex = "GMT"
			}
			p.regex += "[-+][0-9]+"
			if sep != "" {
				p.regex += regexp.QuoteMeta(sep) + "[0-9]+"
			}
			comp := d.component
			p.parse = func(v string) float64 {
				if comp == 'z' {
					v = v[3:]
				}
				h, m := 0.0, 0.0
				if sep != "" {
					i := strings.Index(v, sep)
					h = parseIntPrefix(v[:i])
					m = parseIntPrefix(v[i+len(sep):])
				} else if len(v)-1 <= 2 {
					h = parseIntPrefix(v)
				} else {
					h = parseIntPrefix(v[:3])
					m = parseIntPrefix(v[3:])
				}
				return h*60 + m
			}
		case d.component == 'f':
			p.regex = "[0-9]+"
			p.parse = func(v string) float64 {
				f, _ := strconv.ParseFloat("0."+v[:min(3, len(v))], 64)
				return f * 1000
			}
		case d.integerFormat != nil:
			m := d.integerFormat.matcher()
			p.regex, p.parse = m.regex, m.parse
		default:
			p.regex = "[a-zA-Z]+"
			lookup := map[string]float64{}
			switch d.component {
			case 'M', 'x':
				for i, name := range monthNames {
					if d.hasWidth && d.widthMax > 0 {
						name = name[:min(len(name), d.widthMax)]
					}
					lookup[name] = float64(i + 1)
				}
			case 'F':
				for i, name := range dayNames[1:] {
					if d.hasWidth && d.widthMax > 0 {
						name = name[:min(len(name), d.widthMax)]
					}
					lookup[name] = float64(i + 1)
				}
			case 'P':
				lookup = map[string]float64{"am": 0, "AM": 0, "pm": 1, "PM": 1}
			default:
				throw(&Error{Code: "D3133", Value: string(d.component)})
			}
			p.parse = func(v string) float64 {
				if f, ok := lookup[v]; ok {
					return f
				}
				return math.NaN()
			}
		}
		parts[i] = p
	}
	regexes := make([]string, len(parts))
	for i, p := range parts {
		regexes[i] = p.regex
	}
	re, err := groupsRegex("(?i)", regexes)
	if err != nil {
		return nil
	}
	info := re.FindStringSubmatch(timestamp)
	if info == nil {
		return nil
	}
	comps := map[byte]float64{}
	for i := 1; i < len(info); i++ {
		if p := parts[i-1]; p.parse != nil {
			comps[p.component] = p.parse(info[i])
		}
	}
	if len(comps) == 0 {
		return nil
	}
	mask := 0
	shift := func(c byte) {
		mask <<= 1
		if _, ok := comps[c]; ok {
			mask++
		}
	}
	isType := func(t int) bool { return ^t&mask == 0 && t&mask != 0 }
	for _, c := range []byte("YXMxWwdD") {
		shift(c)
	}
	dateA := isType(161)
	dateB := !dateA && isType(130)
	dateC := isType(84)
	dateD := !dateC && isType(72)
	mask = 0
	for _, c := range []byte("PHhmsf") {
		shift(c)
	}
	timeA := isType(23)
	timeB := !timeA && isType(47)
	dateComps := "YMD"
	switch {
	case dateB:
		dateComps = "YD"
	case dateC:
		dateComps = "XxwF"
	case dateD:
		dateComps = "XWF"
	}
	timeComps := "Hmsf"
	if timeB {
		timeComps = "Phmsf"
	}
	startSpecified, endSpecified := false, false
	for _, c := range []byte(dateComps + timeComps) {
		if _, ok := comps[c]; !ok {
			if startSpecified {
				if strings.IndexByte("MDd", c) >= 0 {
					comps[c] = 1
				} else {
					comps[c] = 0
				}
				endSpecified = true
			} else {
				v, _ := dateFragment(now, c).(float64)
				comps[c] = v
			}
		} else {
			startSpecified = true
			if endSpecified {
				throw(&Error{Code: "D3136"})
			}
		}
	}
	if comps['M'] > 0 {
		comps['M']--
	} else {
		comps['M'] = 0
	}
	if dateB {
		first := time.Date(int(comps['Y']), 1, 1, 0, 0, 0, 0, time.UTC)
		derived := first.Add(time.Duration(comps['d']-1) * 24 * time.Hour)
		comps['M'] = float64(derived.Month() - 1)
		comps['D'] = float64(derived.Day())
	}
	if dateC || dateD {
		throw(&Error{Code: "D3136"})
	}
	if timeB {
		h := comps['h']
		if h == 12 {
			h = 0
		}
		if comps['P'] == 1 {
			h += 12
		}
		comps['H'] = h
	}
	for _, v := range comps {
		if math.IsNaN(v) {
			return nil
		}
	}
	t := time.Date(int(comps['Y']), time.Month(int(comps['M'])+1), int(comps['D']), int(comps['H']), int(comps['m']), int(comps['s']), int(comps['f'])*1e6, time.UTC)
	millis := float64(t.UnixMilli())
	if z, ok := comps['Z']; ok && z != 0 {
		millis -= z * 60 * 1000
	} else if z, ok := comps['z']; ok && z != 0 {
		millis -= z * 60 * 1000
	}
	return millis
}
