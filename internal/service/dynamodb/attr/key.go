package attr

import (
	"errors"
	"strings"
)

// Key encoding. AppendKey writes a key attribute value (S, N or B) as bytes whose bytewise
// order is DynamoDB's order for that type: strings by UTF-8 bytes, binaries by unsigned bytes,
// numbers by value. Encodings are self-delimiting, so a partition key's encoding followed by a
// sort key's still sorts by (partition, sort), and a store can keep either in one BLOB/bytea
// column and range-scan it (SQLite and PostgreSQL both compare those bytewise).
//
//   - S and B: the bytes, with 0x00 written as 0x00 0xFF, then the terminator 0x00 0x01.
//   - N: zero is 0x01. A number ±0.d₁d₂…dₙ × 10^e (e from -129 to 126) is 0x02, then e+129,
//     then its digits in pairs (a trailing lone digit padded with 0) as bytes 1…100, then
//     0x00. A negative number is 0x00, then 255-(e+129), then each pair byte p as 101-p,
//     then 0xFF: larger magnitudes sort first.
//
// Only values of one type are meant to be compared: a key attribute's type is fixed by the
// table's schema.

// AppendKey appends the order-preserving encoding of v, which must be S, N or B.
func AppendKey(dst []byte, v Value) []byte {
	switch v.t {
	case S, B:
		return appendEscaped(dst, v.s, true)
	case N:
		return appendNumberKey(dst, v.s)
	}
	panic("attr: AppendKey of a " + v.t.String() + " value")
}

// AppendKeyPrefix appends the encoding of every S or B value that begins with v, without the
// terminator: the encodings of exactly those values begin with it, so [AppendKeyPrefix(v),
// PrefixEnd(AppendKeyPrefix(v))) is the key range of begins_with(key, v).
func AppendKeyPrefix(dst []byte, v Value) []byte {
	if v.t != S && v.t != B {
		panic("attr: AppendKeyPrefix of a " + v.t.String() + " value")
	}
	return appendEscaped(dst, v.s, false)
}

func appendEscaped(dst []byte, s string, terminate bool) []byte {
	for {
		i := strings.IndexByte(s, 0)
		if i < 0 {
			break
		}
		dst = append(dst, s[:i]...)
		dst = append(dst, 0x00, 0xFF)
		s = s[i+1:]
	}
	dst = append(dst, s...)
	if terminate {
		dst = append(dst, 0x00, 0x01)
	}
	return dst
}

func appendNumberKey(dst []byte, c string) []byte {
	neg, digits, point := numberDigits(c)
	if digits == "" {
		return append(dst, 0x01)
	}
	e := byte(point + 129)
	if neg {
		dst = append(dst, 0x00, 255-e)
	} else {
		dst = append(dst, 0x02, e)
	}
	for i := 0; i < len(digits); i += 2 {
		p := (digits[i] - '0') * 10
		if i+1 < len(digits) {
			p += digits[i+1] - '0'
		}
		p++
		if neg {
			p = 101 - p
		}
		dst = append(dst, p)
	}
	if neg {
		return append(dst, 0xFF)
	}
	return append(dst, 0x00)
}

// PrefixEnd returns the smallest byte string greater than every string beginning with p, or nil
// when there is none (p is empty or all 0xFF): the exclusive upper bound of a prefix scan.
func PrefixEnd(p []byte) []byte {
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] != 0xFF {
			end := append([]byte(nil), p[:i+1]...)
			end[i]++
			return end
		}
	}
	return nil
}

var errKey = errors.New("attr: malformed key encoding")

// DecodeKey reads one value of type t (S, N or B) encoded by AppendKey from the front of b, and
// returns it with the rest of b.
func DecodeKey(b []byte, t Type) (Value, []byte, error) {
	switch t {
	case S, B:
		var out []byte
		for i := 0; i < len(b); i++ {
			if b[i] != 0 {
				out = append(out, b[i])
				continue
			}
			if i+1 >= len(b) {
				return Value{}, nil, errKey
			}
			switch b[i+1] {
			case 0xFF:
				out = append(out, 0)
				i++
			case 0x01:
				return Value{t: t, s: string(out)}, b[i+2:], nil
			default:
				return Value{}, nil, errKey
			}
		}
		return Value{}, nil, errKey
	case N:
		return decodeNumberKey(b)
	}
	return Value{}, nil, errKey
}

func decodeNumberKey(b []byte) (Value, []byte, error) {
	if len(b) == 0 {
		return Value{}, nil, errKey
	}
	if b[0] == 0x01 {
		return Value{t: N, s: "0"}, b[1:], nil
	}
	if len(b) < 2 || b[0] > 0x02 {
		return Value{}, nil, errKey
	}
	neg := b[0] == 0x00
	e := int(b[1])
	end := byte(0x00)
	if neg {
		e = 255 - e
		end = 0xFF
	}
	var digits []byte
	for i := 2; i < len(b); i++ {
		p := b[i]
		if p == end {
			d := strings.TrimRight(string(digits), "0")
			if d == "" || d[0] == '0' || len(d) > maxDigits {
				return Value{}, nil, errKey
			}
			return Value{t: N, s: plainDecimal(neg, d, e-129)}, b[i+1:], nil
		}
		if neg {
			p = 101 - p
		}
		if p < 1 || p > 100 {
			return Value{}, nil, errKey
		}
		p--
		digits = append(digits, '0'+p/10, '0'+p%10)
	}
	return Value{}, nil, errKey
}
