package s3

import (
	"encoding/base64"
	"encoding/binary"
)

// crcSpec describes a reflected CRC for combining: its width and reversed polynomial.
type crcSpec struct {
	width uint
	poly  uint64
}

var crcSpecs = map[string]crcSpec{
	algoCRC32:     {32, 0xedb88320},
	algoCRC32C:    {32, 0x82f63b78},
	algoCRC64NVME: {64, 0x9a6c9329ac4bc9b5},
}

// isCRC reports whether algo is a CRC, whose full-object value can be combined from parts.
func isCRC(algo string) bool {
	_, ok := crcSpecs[algo]
	return ok
}

// multmodp multiplies a and b modulo the CRC polynomial (bit-reflected), as zlib does.
func (c crcSpec) multmodp(a, b uint64) uint64 {
	m := uint64(1) << (c.width - 1)
	var p uint64
	for m != 0 {
		if a&m != 0 {
			p ^= b
			if a&(m-1) == 0 {
				break
			}
		}
		m >>= 1
		if b&1 != 0 {
			b = b>>1 ^ c.poly
		} else {
			b >>= 1
		}
	}
	return p
}

// shift returns x^(8n) modulo the polynomial: the operator that appends n zero bytes.
func (c crcSpec) shift(n int64) uint64 {
	sq := uint64(1) << (c.width - 2) // x^1
	for range 3 {                    // x^8 = x^(2^3)
		sq = c.multmodp(sq, sq)
	}
	p := uint64(1) << (c.width - 1) // x^0
	for ; n > 0; n >>= 1 {
		if n&1 != 0 {
			p = c.multmodp(sq, p)
		}
		sq = c.multmodp(sq, sq)
	}
	return p
}

// combine returns the CRC of A||B from crc(A), crc(B) and len(B).
func (c crcSpec) combine(crcA, crcB uint64, lenB int64) uint64 {
	return c.multmodp(c.shift(lenB), crcA) ^ crcB
}

// combineCRCs computes a full-object CRC from the parts' CRCs, as S3 does for FULL_OBJECT
// multipart checksums. It reports false if a part lacks the checksum.
func combineCRCs(algo string, parts []partRef) (string, bool) {
	c, ok := crcSpecs[algo]
	if !ok {
		return "", false
	}
	var sum uint64
	for i, p := range parts {
		raw, err := base64.StdEncoding.DecodeString(p.Checksums[algo])
		if err != nil || len(raw) != int(c.width/8) {
			return "", false
		}
		var v uint64
		if c.width == 32 {
			v = uint64(binary.BigEndian.Uint32(raw))
		} else {
			v = binary.BigEndian.Uint64(raw)
		}
		if i == 0 {
			sum = v
		} else {
			sum = c.combine(sum, v, p.Size)
		}
	}
	out := make([]byte, c.width/8)
	if c.width == 32 {
		binary.BigEndian.PutUint32(out, uint32(sum))
	} else {
		binary.BigEndian.PutUint64(out, sum)
	}
	return base64.StdEncoding.EncodeToString(out), true
}
