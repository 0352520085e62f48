package jsonata

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

var (
	numberString = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?([Ee][-+]?[0-9]+)?$`)
	radixString  = regexp.MustCompile(`^0[xX][0-9A-Fa-f]+$|^0[oO][0-7]+$|^0[bB][0-1]+$`)
	isoTimestamp = regexp.MustCompile(`^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?)?)?(Z|[+-]\d{2}:?\d{2})?$`)
)

func fnToMillis(c *call, a []any) any {
	if a[0] == nil {
		return nil
	}
	s := a[0].(string)
	if p, ok := a[1].(string); ok {
		return parseDateTime(s, p)
	}
	return isoMillis(s)
}

func isoMillis(s string) any {
	m := isoTimestamp.FindStringSubmatch(s)
	if m == nil {
		throw(&Error{Code: "D3110", Value: s})
	}
	num := func(i, def int) int {
		if m[i] == "" {
			return def
		}
		n, _ := strconv.Atoi(m[i])
		return n
	}
	nanos := 0
	if m[7] != "" {
		frac := (m[7] + "000000000")[:9]
		nanos, _ = strconv.Atoi(frac)
	}
	loc := time.UTC
	if tz := m[8]; tz != "" && tz != "Z" {
		tz = strings.ReplaceAll(tz, ":", "")
		h, _ := strconv.Atoi(tz[1:3])
		mi, _ := strconv.Atoi(tz[3:5])
		off := h*3600 + mi*60
		if tz[0] == '-' {
			off = -off
		}
		loc = time.FixedZone("", off)
	}
	t := time.Date(num(1, 0), time.Month(num(2, 1)), num(3, 1), num(4, 0), num(5, 0), num(6, 0), nanos, loc)
	return float64(t.UnixMilli())
}

func fnFromMillis(c *call, a []any) any {
	if a[0] == nil {
		return nil
	}
	return formatMillis(a[0].(float64), a[1], a[2])
}

// formatMillis renders milliseconds since the epoch with an XPath picture
// string (ISO 8601 when there is none) in a timezone given as ±HHMM.
func formatMillis(ms float64, picture, tz any) any {
	offset := 0
	if z, ok := tz.(string); ok && z != "" {
		offset = parseTZ(z)
	}
	t := time.UnixMilli(int64(math.Floor(ms))).In(time.FixedZone("", offset))
	p, ok := picture.(string)
	if !ok {
		if offset == 0 {
			return t.UTC().Format("2006-01-02T15:04:05.000Z")
		}
		return t.Format("2006-01-02T15:04:05.000-07:00")
	}
	return formatDateTime(t, p, offset)
}

func parseTZ(z string) int {
	z = strings.ReplaceAll(z, ":", "")
	if len(z) < 3 {
		return 0
	}
	sign := 1
	if z[0] == '-' {
		sign = -1
	}
	digits := z[1:]
	if len(digits) <= 2 {
		h, _ := strconv.Atoi(digits)
		return sign * h * 3600
	}
	h, _ := strconv.Atoi(digits[:len(digits)-2])
	m, _ := strconv.Atoi(digits[len(digits)-2:])
	return sign * (h*3600 + m*60)
}
