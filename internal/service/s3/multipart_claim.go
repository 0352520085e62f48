package s3

import (
	"strings"

	"github.com/kiri-run/kiri/internal/awsproto"
)

// checkCompleteChecksum compares the whole-object checksum a CompleteMultipartUpload claims
// (x-amz-checksum-<algo>) with the one the parts add up to: BadDigest when they differ. A
// composite value may be claimed with or without its "-<parts>" suffix. A claim for an
// algorithm the upload did not compute is not checked.
func checkCompleteChecksum(in *CompleteMultipartUploadRequest, sums map[string]string) error {
	claims := map[string]*string{algoCRC32: in.ChecksumCRC32, algoCRC32C: in.ChecksumCRC32C,
		algoCRC64NVME: in.ChecksumCRC64NVME, algoSHA1: in.ChecksumSHA1, algoSHA256: in.ChecksumSHA256}
	for algo, claim := range claims {
		have, ok := sums[algo]
		if claim == nil || !ok {
			continue
		}
		if withoutPartCount(strings.TrimSpace(*claim)) != withoutPartCount(have) {
			return awsproto.Errorf("BadDigest", 400, "The %s you specified did not match the calculated checksum.", strings.ToLower(algo))
		}
	}
	return nil
}

// withoutPartCount drops a composite checksum's "-<parts>" suffix.
func withoutPartCount(v string) string {
	if i := strings.LastIndexByte(v, '-'); i > 0 {
		return v[:i]
	}
	return v
}
