package s3

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"hash"
	"hash/crc32"
	"io"
	"strings"

	"github.com/minio/crc64nvme"
)

// Checksum algorithms as S3 names them.
const (
	algoCRC32     = "CRC32"
	algoCRC32C    = "CRC32C"
	algoCRC64NVME = "CRC64NVME"
	algoSHA1      = "SHA1"
	algoSHA256    = "SHA256"
)

// checksumAlgorithms lists every flexible checksum S3 supports.
var checksumAlgorithms = []string{algoCRC32, algoCRC32C, algoCRC64NVME, algoSHA1, algoSHA256}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// newChecksum returns a hash for an S3 checksum algorithm name, or nil if it is unknown.
func newChecksum(algo string) hash.Hash {
	switch strings.ToUpper(algo) {
	case algoCRC32:
		return crc32.NewIEEE()
	case algoCRC32C:
		return crc32.New(castagnoli)
	case algoCRC64NVME:
		return crc64nvme.New()
	case algoSHA1:
		return sha1.New()
	case algoSHA256:
		return sha256.New()
	}
	return nil
}

// digests hashes a stream once for MD5 (the ETag) and any flexible checksums asked for.
type digests struct {
	md5    hash.Hash
	sums   map[string]hash.Hash
	writer io.Writer
	size   int64
}

func newDigests(algos ...string) *digests {
	d := &digests{md5: md5.New(), sums: map[string]hash.Hash{}}
	ws := []io.Writer{d.md5}
	for _, a := range algos {
		a = strings.ToUpper(a)
		if _, dup := d.sums[a]; dup {
			continue
		}
		if h := newChecksum(a); h != nil {
			d.sums[a] = h
			ws = append(ws, h)
		}
	}
	d.writer = io.MultiWriter(ws...)
	return d
}

func (d *digests) Write(p []byte) (int, error) {
	d.size += int64(len(p))
	return d.writer.Write(p)
}

// etag is the quoted hex MD5, as S3 returns it for single-part objects.
func (d *digests) etag() string {
	return `"` + hexString(d.md5.Sum(nil)) + `"`
}

// checksums returns each computed checksum in base64, by algorithm.
func (d *digests) checksums() map[string]string {
	out := make(map[string]string, len(d.sums))
	for a, h := range d.sums {
		out[a] = base64.StdEncoding.EncodeToString(h.Sum(nil))
	}
	return out
}

func hexString(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, len(b)*2)
	for i, c := range b {
		out[i*2], out[i*2+1] = digits[c>>4], digits[c&0xf]
	}
	return string(out)
}
