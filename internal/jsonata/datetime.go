package jsonata

import (
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
		return parseDateTime(s, p, c.env.ev.now)
	}
	return isoMillis(s)
}

var isoValid = regexp.MustCompile(`^\d{4}(-[01]\d)?(-[0-3]\d)?(T[0-2]\d:[0-5]\d:[0-5]\d)?(\.\d+)?([+-][0-2]\d:?[0-5]\d|Z)?$`)

func isoMillis(s string) any {
	m := isoTimestamp.FindStringSubmatch(s)
	if m == nil || !isoValid.MatchString(s) {
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
