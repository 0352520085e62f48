package s3

import (
	"bytes"
	"crypto/md5"
	"net/http"
	"strings"

	"github.com/kiri-run/kiri/internal/awsproto"
)

// checksumSizes are the raw sizes of each flexible checksum.
var checksumSizes = map[string]int{algoCRC32: 4, algoCRC32C: 4, algoCRC64NVME: 8, algoSHA1: 20, algoSHA256: 32}

// integrity is what a write asks the stored bytes to match: Content-MD5, a flexible checksum
// given as a header (or promised as an aws-chunked trailer), and the algorithms to compute.
type integrity struct {
	MD5      []byte
	Algo     string // flexible checksum algorithm to compute and return
	Expected string // base64 value from x-amz-checksum-<algo>; "" when none (or a trailer)
	Trailer  string // trailer header name carrying the value, e.g. "x-amz-checksum-crc32"
}

// parseIntegrity reads Content-MD5, x-amz-checksum-*, x-amz-trailer and
// x-amz-sdk-checksum-algorithm. With no algorithm named, CRC64NVME is computed, as S3 does
// for every new object.
func parseIntegrity(h http.Header, contentMD5, sdkAlgo *string) (integrity, error) {
	var in integrity
	if contentMD5 != nil {
		sum, ok := decodeBase64Digest(*contentMD5, md5.Size)
		if !ok {
			return integrity{}, awsproto.Errorf("InvalidDigest", 400, "The Content-MD5 you specified was invalid.")
		}
		in.MD5 = sum
	}
	for _, algo := range checksumAlgorithms {
		name := "x-amz-checksum-" + strings.ToLower(algo)
		v := h.Get(name)
		if v == "" {
			continue
		}
		if in.Algo != "" {
			return integrity{}, awsproto.Errorf("InvalidRequest", 400, "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.")
		}
		if _, ok := decodeBase64Digest(v, checksumSizes[algo]); !ok {
			return integrity{}, awsproto.Errorf("InvalidRequest", 400, "Value for %s header is invalid.", name)
		}
		in.Algo, in.Expected = algo, v
	}
	if t := strings.ToLower(strings.TrimSpace(h.Get("X-Amz-Trailer"))); strings.HasPrefix(t, "x-amz-checksum-") && in.Algo == "" {
		algo := strings.ToUpper(strings.TrimPrefix(t, "x-amz-checksum-"))
		if _, ok := checksumSizes[algo]; !ok {
			return integrity{}, errUnsupportedChecksum()
		}
		in.Algo, in.Trailer = algo, t
	}
	if a := strings.ToUpper(awsproto.Value(sdkAlgo)); a != "" {
		if _, ok := checksumSizes[a]; !ok {
			return integrity{}, errUnsupportedChecksum()
		}
		if in.Algo != "" && in.Algo != a {
			return integrity{}, awsproto.Errorf("InvalidRequest", 400,
				"Value for x-amz-sdk-checksum-algorithm header is invalid.")
		}
		in.Algo = a
	}
	return in, nil
}

func errUnsupportedChecksum() *awsproto.Error {
	return awsproto.Errorf("InvalidRequest", 400,
		"Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]")
}

// algorithms lists the flexible checksums to compute while storing the body.
func (in integrity) algorithms() []string {
	if in.Algo == "" {
		return []string{algoCRC64NVME}
	}
	return []string{in.Algo}
}

// verify checks a stored body against what the request promised: BadDigest on a mismatch.
// A trailer's value is in req.Trailer once the body was read to its end (see auth.DecodeChunked).
func (in integrity) verify(b body, req *http.Request) error {
	if in.MD5 != nil && !bytes.Equal(in.MD5, b.MD5) {
		return awsproto.Errorf("BadDigest", 400, "The Content-MD5 you specified did not match what we received.")
	}
	want := in.Expected
	if want == "" && in.Trailer != "" {
		if req != nil && req.Trailer != nil {
			want = req.Trailer.Get(in.Trailer)
		}
	}
	if want != "" && strings.TrimSpace(want) != b.Sums[in.Algo] {
		return awsproto.Errorf("BadDigest", 400, "The %s you specified did not match the calculated checksum.", in.Algo)
	}
	return nil
}
