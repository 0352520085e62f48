package jsonata

import (
	"math"
	"strconv"
	"strings"
)

func fnFormatBase(c *call, a []any) any {
	if a[0] == nil {
		return nil
	}
	v := a[0].(float64)
	v = roundHalfEven(v)
	radix := 10.0
	if r, ok := a[1].(float64); ok {
		radix = r
	}
	if radix < 2 || radix > 36 {
		throw(&Error{Code: "D3100", Value: radix})
	}
	neg := v < 0
	s := strconv.FormatUint(uint64(math.Abs(v)), int(radix))
	if neg {
		s = "-" + s
	}
	return s
}

func roundHalfEven(v float64) float64 {
	return fnRound(nil, []any{v, nil}).(float64)
}

var _ = strings.Repeat
