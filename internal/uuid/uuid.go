// Package uuid makes random (version 4) UUIDs, the ids AWS services hand out for requests,
// messages and subscriptions.
package uuid

import (
	"crypto/rand"
	"encoding/hex"
)

// New returns a random version 4 UUID in its canonical text form, e.g.
// "3f1c2a5e-9d7b-4c1e-8a2f-0b6d5e4c3a21".
func New() string {
	var b [16]byte
	rand.Read(b[:])
	return Format(b)
}

// Format writes 16 bytes as a version 4 UUID: the version and variant bits are set, the other
// bits are b's. Ids derived from something else than randomness keep the UUID form with it.
func Format(b [16]byte) string {
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}
