package s3

import (
	"encoding/binary"
	"strings"
	"testing"
)

// TestChecksumCheckValues checks each algorithm against its catalogued check value: the
// checksum of "123456789".
func TestChecksumCheckValues(t *testing.T) {
	for algo, want := range map[string]uint64{
		algoCRC32:     0xcbf43926,
		algoCRC32C:    0xe3069283,
		algoCRC64NVME: 0xae8b14860a799888,
	} {
		h := newChecksum(strings.ToLower(algo))
		h.Write([]byte("12345"))
		h.Write([]byte("6789"))
		sum := h.Sum(nil)
		var got uint64
		if len(sum) == 8 {
			got = binary.BigEndian.Uint64(sum)
		} else {
			got = uint64(binary.BigEndian.Uint32(sum))
		}
		if got != want {
			t.Errorf("%s(123456789) = %#x, want %#x", algo, got, want)
		}
	}
}
