package pattern

import (
	"math"
	"math/big"
	"strconv"
)

// minNormal is the smallest positive normal float64. Below it a short decimal need not
// survive the trip through float64.
const minNormal = 2.2250738585072014e-308

// comparableNumber parses the raw text of a JSON number and reports whether numeric
// comparison applies to it: its float64 must have exactly the decimal value of the text, as
// event-ruler requires before it compares numbers (a number it cannot compare, such as a
// 20-digit account id, still matches by its text).
func comparableNumber(text string) (float64, bool) {
	f, err := strconv.ParseFloat(text, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, false
	}
	if f == 0 {
		return 0, true // -0 compares equal to 0
	}
	if significantDigits(text) <= 15 && math.Abs(f) >= minNormal {
		// Any decimal of up to 15 significant digits survives the round trip exactly.
		return f, true
	}
	want, ok := new(big.Rat).SetString(text)
	if !ok {
		return 0, false
	}
	got, ok := new(big.Rat).SetString(strconv.FormatFloat(f, 'g', -1, 64))
	if !ok || want.Cmp(got) != 0 {
		return 0, false
	}
	return f, true
}

// significantDigits counts the digits of a number's mantissa without leading or trailing zeros.
func significantDigits(text string) int {
	first, last, n := -1, -1, 0
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c == 'e' || c == 'E' {
			break
		}
		if c < '0' || c > '9' {
			continue
		}
		if c != '0' {
			if first < 0 {
				first = n
			}
			last = n
		}
		n++
	}
	if first < 0 {
		return 0
	}
	return last - first + 1
}

// numberKey is the index key of a comparable number: equal numbers have equal keys.
func numberKey(f float64) string {
	if f == 0 {
		f = 0 // fold -0 into 0
	}
	b := math.Float64bits(f)
	var k [9]byte
	k[0] = 'n'
	for i := 0; i < 8; i++ {
		k[1+i] = byte(b >> (56 - 8*i))
	}
	return string(k[:])
}
