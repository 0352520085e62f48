package schedule

import (
	"strconv"
	"strings"
	"time"
)

const (
	minYear = 1970
	maxYear = 2199
)

// cron is a parsed cron expression, evaluated in loc.
type cron struct {
	loc     *time.Location
	minutes uint64    // bit m for minute m
	hours   uint64    // bit h for hour h
	months  uint64    // bit m for month m (1-12)
	years   [4]uint64 // bit y-minYear
	dom     dayOfMonth
	dow     dayOfWeek
}

// dayOfMonth is the day-of-month field; any means `?`.
type dayOfMonth struct {
	any         bool
	days        uint64 // bit d for day d
	last        bool   // L
	lastWeekday bool   // LW
	nearest     int    // nW: the weekday nearest to day n
}

// dayOfWeek is the day-of-week field (1 is Sunday); any means `?`.
type dayOfWeek struct {
	any    bool
	days   uint64 // bit d for weekday d
	last   int    // nL: the last weekday n of the month
	nth    int    // n#k: the k-th weekday n of the month
	nthDay int
}

var monthNames = map[string]int{
	"JAN": 1, "FEB": 2, "MAR": 3, "APR": 4, "MAY": 5, "JUN": 6,
	"JUL": 7, "AUG": 8, "SEP": 9, "OCT": 10, "NOV": 11, "DEC": 12,
}

var dayNames = map[string]int{"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}

// parseCron reads the six fields of a cron expression.
func parseCron(s string, loc *time.Location) (*cron, bool) {
	f := strings.Fields(s)
	if len(f) != 6 {
		return nil, false
	}
	c := &cron{loc: loc}
	var ok bool
	if c.minutes, ok = parseSet(f[0], 0, 59, nil); !ok {
		return nil, false
	}
	if c.hours, ok = parseSet(f[1], 0, 23, nil); !ok {
		return nil, false
	}
	if c.dom, ok = parseDayOfMonth(f[2]); !ok {
		return nil, false
	}
	if c.months, ok = parseSet(f[3], 1, 12, monthNames); !ok {
		return nil, false
	}
	if c.dow, ok = parseDayOfWeek(f[4]); !ok {
		return nil, false
	}
	// Exactly one of the day fields is `?`.
	if c.dom.any == c.dow.any {
		return nil, false
	}
	if c.years, ok = parseYears(f[5]); !ok {
		return nil, false
	}
	return c, true
}

// parseSet reads a field of values, ranges, lists, `*` and increments into a bit set.
func parseSet(field string, lo, hi int, names map[string]int) (uint64, bool) {
	var set uint64
	for _, part := range strings.Split(field, ",") {
		first, last, step, ok := parseRange(part, lo, hi, names)
		if !ok {
			return 0, false
		}
		for v := first; v <= last; v += step {
			set |= 1 << v
		}
	}
	return set, true
}

// parseYears reads the year field, whose range does not fit one word.
func parseYears(field string) ([4]uint64, bool) {
	var set [4]uint64
	for _, part := range strings.Split(field, ",") {
		first, last, step, ok := parseRange(part, minYear, maxYear, nil)
		if !ok {
			return set, false
		}
		for v := first; v <= last; v += step {
			i := v - minYear
			set[i/64] |= 1 << (i % 64)
		}
	}
	return set, true
}

// parseRange reads one element of a list: `*`, a value, a range a-b, each optionally with /step
// (a value with a step runs to the field's maximum).
func parseRange(part string, lo, hi int, names map[string]int) (first, last, step int, ok bool) {
	base, stepText, hasStep := strings.Cut(part, "/")
	step = 1
	if hasStep {
		n, ok := parseNumber(stepText)
		if !ok || n < 1 {
			return 0, 0, 0, false
		}
		step = n
	}
	switch {
	case base == "*":
		first, last = lo, hi
	case strings.Contains(base, "-"):
		a, b, _ := strings.Cut(base, "-")
		var okA, okB bool
		first, okA = parseValue(a, lo, hi, names)
		last, okB = parseValue(b, lo, hi, names)
		if !okA || !okB || first > last {
			return 0, 0, 0, false
		}
	default:
		v, ok := parseValue(base, lo, hi, names)
		if !ok {
			return 0, 0, 0, false
		}
		first, last = v, v
		if hasStep {
			last = hi
		}
	}
	return first, last, step, true
}

func parseValue(s string, lo, hi int, names map[string]int) (int, bool) {
	if v, ok := names[strings.ToUpper(s)]; ok {
		return v, true
	}
	v, ok := parseNumber(s)
	if !ok || v < lo || v > hi {
		return 0, false
	}
	return v, true
}

func parseNumber(s string) (int, bool) {
	if s == "" || len(s) > 4 || !allDigits(s) {
		return 0, false
	}
	v, err := strconv.Atoi(s)
	return v, err == nil
}

func parseDayOfMonth(field string) (dayOfMonth, bool) {
	switch {
	case field == "?":
		return dayOfMonth{any: true}, true
	case field == "L":
		return dayOfMonth{last: true}, true
	case field == "LW":
		return dayOfMonth{lastWeekday: true}, true
	case strings.HasSuffix(field, "W"):
		n, ok := parseValue(strings.TrimSuffix(field, "W"), 1, 31, nil)
		return dayOfMonth{nearest: n}, ok
	}
	days, ok := parseSet(field, 1, 31, nil)
	return dayOfMonth{days: days}, ok
}

func parseDayOfWeek(field string) (dayOfWeek, bool) {
	switch {
	case field == "?":
		return dayOfWeek{any: true}, true
	case field == "L":
		// The last day of the week is Saturday.
		return dayOfWeek{days: 1 << 7}, true
	case strings.HasSuffix(field, "L"):
		n, ok := parseValue(strings.TrimSuffix(field, "L"), 1, 7, dayNames)
		return dayOfWeek{last: n}, ok
	case strings.Contains(field, "#"):
		d, k, _ := strings.Cut(field, "#")
		n, okD := parseValue(d, 1, 7, dayNames)
		nth, okK := parseValue(k, 1, 5, nil)
		return dayOfWeek{nthDay: n, nth: nth}, okD && okK
	}
	days, ok := parseSet(field, 1, 7, dayNames)
	return dayOfWeek{days: days}, ok
}

// Next returns the first wall-clock time after after that matches, skipping times that do not
// exist in the time zone; a time that happens twice is resolved to one instant, so it fires once.
func (c *cron) Next(after time.Time) time.Time {
	from := after.In(c.loc)
	y, m, d := from.Date()
	for year := max(y, minYear); year <= maxYear; year++ {
		i := year - minYear
		if c.years[i/64]&(1<<(i%64)) == 0 {
			continue
		}
		firstMonth := time.January
		if year == y {
			firstMonth = m
		}
		for month := firstMonth; month <= time.December; month++ {
			if c.months&(1<<month) == 0 {
				continue
			}
			firstDay := 1
			if year == y && month == m {
				firstDay = d
			}
			n := daysIn(year, month)
			for day := firstDay; day <= n; day++ {
				if !c.dayMatches(year, month, day, n) {
					continue
				}
				if t := c.firstOnDay(year, month, day, after); !t.IsZero() {
					return t
				}
			}
		}
	}
	return time.Time{}
}

// firstOnDay returns the first matching time of a day that is after after.
func (c *cron) firstOnDay(year int, month time.Month, day int, after time.Time) time.Time {
	for h := 0; h < 24; h++ {
		if c.hours&(1<<h) == 0 {
			continue
		}
		for mi := 0; mi < 60; mi++ {
			if c.minutes&(1<<mi) == 0 {
				continue
			}
			t := time.Date(year, month, day, h, mi, 0, 0, c.loc)
			if t.Day() != day || t.Hour() != h || t.Minute() != mi {
				continue // skipped by a clock change
			}
			if t.After(after) {
				return t
			}
		}
	}
	return time.Time{}
}

func (c *cron) dayMatches(year int, month time.Month, day, daysInMonth int) bool {
	weekday := int(time.Date(year, month, day, 12, 0, 0, 0, time.UTC).Weekday()) + 1
	if !c.dom.any {
		switch {
		case c.dom.last:
			return day == daysInMonth
		case c.dom.lastWeekday:
			return day == nearestWeekday(year, month, daysInMonth, daysInMonth)
		case c.dom.nearest > 0:
			return c.dom.nearest <= daysInMonth && day == nearestWeekday(year, month, c.dom.nearest, daysInMonth)
		}
		return c.dom.days&(1<<day) != 0
	}
	switch {
	case c.dow.last > 0:
		return weekday == c.dow.last && day+7 > daysInMonth
	case c.dow.nth > 0:
		return weekday == c.dow.nthDay && (day-1)/7+1 == c.dow.nth
	}
	return c.dow.days&(1<<weekday) != 0
}

// nearestWeekday returns the weekday (Monday to Friday) nearest to day n of the month, never
// crossing into another month.
func nearestWeekday(year int, month time.Month, n, daysInMonth int) int {
	switch time.Date(year, month, n, 12, 0, 0, 0, time.UTC).Weekday() {
	case time.Saturday:
		if n == 1 {
			return 3
		}
		return n - 1
	case time.Sunday:
		if n == daysInMonth {
			return n - 2
		}
		return n + 1
	}
	return n
}

func daysIn(year int, month time.Month) int {
	return time.Date(year, month+1, 0, 12, 0, 0, 0, time.UTC).Day()
}
