package s3

import (
	"encoding/base64"
	"testing"
)

func TestCombineCRCsEqualsTheWholeObjectCRC(t *testing.T) {
	parts := [][]byte{[]byte("the first part, "), []byte("a second one"), {}, []byte("and the last part")}
	for _, algo := range []string{algoCRC32, algoCRC32C, algoCRC64NVME} {
		t.Run(algo, func(t *testing.T) {
			var refs []partRef
			whole := newChecksum(algo)
			for _, p := range parts {
				h := newChecksum(algo)
				h.Write(p)
				whole.Write(p)
				refs = append(refs, partRef{Size: int64(len(p)), Checksums: map[string]string{algo: base64.StdEncoding.EncodeToString(h.Sum(nil))}})
			}
			got, ok := combineCRCs(algo, refs)
			if want := base64.StdEncoding.EncodeToString(whole.Sum(nil)); !ok || got != want {
				t.Fatalf("combined %s = %q (%v), want %q", algo, got, ok, want)
			}
		})
	}
}

func TestCombineCRCsNeedsEveryPartChecksum(t *testing.T) {
	if _, ok := combineCRCs(algoCRC32, []partRef{{Size: 1}}); ok {
		t.Fatal("combined a CRC from a part without one")
	}
}
