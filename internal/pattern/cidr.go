package pattern

import (
	"bytes"
	"net/netip"
	"strconv"
	"strings"
)

// ipRange is the closed range of addresses a cidr pattern (or an exact IP string) covers.
type ipRange struct {
	v4     bool
	lo, hi [16]byte
}

func (r ipRange) contains(a ipAddr) bool {
	if a.v4 != r.v4 {
		return false
	}
	n := 16
	if a.v4 {
		n = 4
	}
	return bytes.Compare(a.b[:n], r.lo[:n]) >= 0 && bytes.Compare(a.b[:n], r.hi[:n]) <= 0
}

// ipAddr is an IPv4 address (first 4 bytes) or an IPv6 address.
type ipAddr struct {
	v4 bool
	b  [16]byte
}

// looksLikeIP reports whether s has the shape event-ruler tries as an IP address: four runs
// of digits joined by dots, or hex digits and colons with at least one colon.
func looksLikeIP(s string) bool {
	if s == "" {
		return false
	}
	if strings.IndexByte(s, ':') >= 0 {
		for i := 0; i < len(s); i++ {
			c := s[i]
			if !(c == ':' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) {
				return false
			}
		}
		return true
	}
	parts := 0
	run := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			run++
		case c == '.':
			if run == 0 {
				return false
			}
			parts++
			run = 0
		default:
			return false
		}
	}
	return run > 0 && parts == 3
}

// parseIP parses an address of the shape looksLikeIP accepts. IPv4 parts are decimal, leading
// zeros allowed, as Java's InetAddress reads them.
func parseIP(s string) (ipAddr, bool) {
	if !looksLikeIP(s) {
		return ipAddr{}, false
	}
	var a ipAddr
	if strings.IndexByte(s, ':') < 0 {
		a.v4 = true
		for i, part := range strings.Split(s, ".") {
			n, err := strconv.ParseUint(part, 10, 8)
			if err != nil {
				return ipAddr{}, false
			}
			a.b[i] = byte(n)
		}
		return a, true
	}
	addr, err := netip.ParseAddr(s)
	if err != nil {
		return ipAddr{}, false
	}
	if addr.Is4In6() {
		v4 := addr.Unmap().As4()
		a.v4 = true
		copy(a.b[:], v4[:])
		return a, true
	}
	a.b = addr.As16()
	return a, true
}

// parseCIDR compiles a cidr pattern, refusing it with event-ruler's messages.
func parseCIDR(s string) (ipRange, string) {
	parts := strings.Split(s, "/")
	for len(parts) > 0 && parts[len(parts)-1] == "" { // Java's String.split drops trailing empties
		parts = parts[:len(parts)-1]
	}
	if len(parts) != 2 {
		return ipRange{}, "Malformed CIDR, one '/' required"
	}
	bits, err := strconv.ParseInt(parts[1], 10, 32)
	if err != nil {
		return ipRange{}, "Malformed CIDR, mask bits must be an integer"
	}
	if bits < 0 {
		return ipRange{}, "Malformed CIDR, mask bits must not be negative"
	}
	a, reason := ipOfPattern(parts[0])
	if reason != "" {
		return ipRange{}, reason
	}
	size := 16
	if a.v4 {
		size = 4
		if bits > 31 {
			return ipRange{}, "IPv4 mask bits must be < 32"
		}
	} else if bits > 127 {
		return ipRange{}, "IPv6 mask bits must be < 128"
	}
	r := ipRange{v4: a.v4}
	for i := 0; i < size; i++ {
		keep := int(bits) - 8*i // bits of this byte that belong to the network
		var mask byte
		switch {
		case keep >= 8:
			mask = 0xff
		case keep > 0:
			mask = byte(0xff << (8 - keep))
		}
		r.lo[i] = a.b[i] & mask
		r.hi[i] = a.b[i] | ^mask
	}
	return r, ""
}

func ipOfPattern(s string) (ipAddr, string) {
	if !looksLikeIP(s) {
		return ipAddr{}, "Nonstandard IP address: " + s
	}
	a, ok := parseIP(s)
	if !ok {
		return ipAddr{}, "Invalid IP address: " + s
	}
	return a, ""
}

// singleIP is the range of one address: event-ruler matches an exact string that is an IP
// address as that address, whatever its spelling in the event.
func singleIP(a ipAddr) ipRange {
	return ipRange{v4: a.v4, lo: a.b, hi: a.b}
}
