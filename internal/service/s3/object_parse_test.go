package s3

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
)

func errCode(err error) string {
	var ae *awsproto.Error
	if errors.As(err, &ae) {
		return ae.Code
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

func TestParseRange(t *testing.T) {
	for _, tc := range []struct {
		name     string
		header   string
		size     int64
		want     byteRange
		wantOK   bool
		wantCode string
	}{
		{"closed range", "bytes=2-5", 10, byteRange{2, 4}, true, ""},
		{"open range", "bytes=7-", 10, byteRange{7, 3}, true, ""},
		{"suffix range", "bytes=-3", 10, byteRange{7, 3}, true, ""},
		{"suffix longer than the object is all of it", "bytes=-20", 10, byteRange{0, 10}, true, ""},
		{"end past the object is clamped", "bytes=8-99", 10, byteRange{8, 2}, true, ""},
		{"single last byte", "bytes=9-9", 10, byteRange{9, 1}, true, ""},
		{"start at the size is unsatisfiable", "bytes=10-", 10, byteRange{}, false, "InvalidRange"},
		{"zero suffix is unsatisfiable", "bytes=-0", 10, byteRange{}, false, "InvalidRange"},
		{"any range of an empty object is unsatisfiable", "bytes=0-", 0, byteRange{}, false, "InvalidRange"},
		{"several ranges are ignored", "bytes=0-1,3-4", 10, byteRange{}, false, ""},
		{"end before start is ignored", "bytes=5-2", 10, byteRange{}, false, ""},
		{"other units are ignored", "items=0-1", 10, byteRange{}, false, ""},
		{"garbage is ignored", "bytes=a-b", 10, byteRange{}, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok, err := parseRange(tc.header, tc.size)
			if errCode(err) != tc.wantCode || ok != tc.wantOK || got != tc.want {
				t.Errorf("parseRange(%q, %d) = %+v, %v, %v; want %+v, %v, %s", tc.header, tc.size, got, ok, err, tc.want, tc.wantOK, tc.wantCode)
			}
		})
	}
}

func TestPreconditionsEvaluate(t *testing.T) {
	modified := time.Date(2024, 5, 1, 12, 0, 0, 500e6, time.UTC)
	before, after := modified.Add(-time.Hour), modified.Add(time.Hour)
	same := modified.Truncate(time.Second)
	const etag = `"abc"`
	for _, tc := range []struct {
		name string
		p    preconditions
		want conditionOutcome
	}{
		{"no conditions pass", preconditions{}, conditionPass},
		{"if-match with the etag passes", preconditions{IfMatch: `"abc"`}, conditionPass},
		{"if-match without quotes passes", preconditions{IfMatch: `abc`}, conditionPass},
		{"if-match star passes", preconditions{IfMatch: `*`}, conditionPass},
		{"if-match in a list passes", preconditions{IfMatch: `"x", "abc"`}, conditionPass},
		{"if-match with another etag fails", preconditions{IfMatch: `"x"`}, conditionFailed},
		{"if-unmodified-since before the change fails", preconditions{IfUnmodifiedSince: &before}, conditionFailed},
		{"if-unmodified-since at the change second passes", preconditions{IfUnmodifiedSince: &same}, conditionPass},
		{"if-match overrides a failing if-unmodified-since", preconditions{IfMatch: etag, IfUnmodifiedSince: &before}, conditionPass},
		{"if-none-match with the etag is not modified", preconditions{IfNoneMatch: etag}, conditionNotModified},
		{"if-none-match with another etag passes", preconditions{IfNoneMatch: `"x"`}, conditionPass},
		{"if-modified-since after the change is not modified", preconditions{IfModifiedSince: &after}, conditionNotModified},
		{"if-modified-since at the change second is not modified", preconditions{IfModifiedSince: &same}, conditionNotModified},
		{"if-modified-since before the change passes", preconditions{IfModifiedSince: &before}, conditionPass},
		{"if-none-match overrides if-modified-since", preconditions{IfNoneMatch: `"x"`, IfModifiedSince: &after}, conditionPass},
		{"a failed if-match wins over not modified", preconditions{IfMatch: `"x"`, IfNoneMatch: etag}, conditionFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got, _ := tc.p.evaluate(etag, modified); got != tc.want {
				t.Errorf("evaluate = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestCommonPrefixAndSuccessor(t *testing.T) {
	for _, tc := range []struct {
		name, key, prefix, delim, want string
		wantOK                         bool
	}{
		{"key under a folder", "a/b/c", "", "/", "a/", true},
		{"key under the prefix's folder", "a/b/c", "a/", "/", "a/b/", true},
		{"key without the delimiter", "a.txt", "", "/", "", false},
		{"no delimiter", "a/b", "", "", "", false},
		{"multi-character delimiter", "x--y--z", "", "--", "x--", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := commonPrefix(tc.key, tc.prefix, tc.delim)
			if got != tc.want || ok != tc.wantOK {
				t.Errorf("commonPrefix = %q, %v", got, ok)
			}
		})
	}
	for _, tc := range []struct {
		name, in, want string
		wantOK         bool
	}{
		{"slash becomes the next byte", "a/", "a0", true},
		{"multi-byte delimiter stays valid", "aé", "aê", true},
		{"a successor that is not UTF-8 is refused", "a\x7f", "a\x80", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := prefixSuccessor(tc.in)
			if ok != tc.wantOK || (ok && got != tc.want) {
				t.Errorf("prefixSuccessor(%q) = %q, %v", tc.in, got, ok)
			}
		})
	}
}

func TestParseCopySource(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     copySource
		wantCode string
	}{
		{"plain", "bkt/key", copySource{Bucket: "bkt", Key: "key"}, ""},
		{"leading slash", "/bkt/dir/key", copySource{Bucket: "bkt", Key: "dir/key"}, ""},
		{"encoded key", "bkt/a%20b%2Bc%3Fd", copySource{Bucket: "bkt", Key: "a b+c?d"}, ""},
		{"version id", "bkt/k?versionId=abc", copySource{Bucket: "bkt", Key: "k", VersionID: "abc"}, ""},
		{"no key", "bkt", copySource{}, "InvalidArgument"},
		{"empty version id", "bkt/k?versionId=", copySource{}, "InvalidArgument"},
		{"bad escape", "bkt/%zz", copySource{}, "InvalidArgument"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseCopySource(tc.in)
			if errCode(err) != tc.wantCode || got != tc.want {
				t.Errorf("parseCopySource(%q) = %+v, %v", tc.in, got, err)
			}
		})
	}
}

func TestParseTaggingHeader(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []tag
		wantCode string
	}{
		{"empty", "", nil, ""},
		{"order is kept", "b=2&a=1", []tag{{"b", "2"}, {"a", "1"}}, ""},
		{"values are URL-decoded", "k=two%20words&e=", []tag{{"k", "two words"}, {"e", ""}}, ""},
		{"duplicate keys are refused", "a=1&a=2", nil, "InvalidTag"},
		{"aws: prefix is refused", "aws:x=1", nil, "InvalidTag"},
		{"bad escapes are refused", "a=%zz", nil, "InvalidArgument"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseTaggingHeader(tc.in)
			if errCode(err) != tc.wantCode {
				t.Fatalf("err = %v, want %s", err, tc.wantCode)
			}
			if tc.wantCode == "" && len(got) != len(tc.want) {
				t.Fatalf("tags = %v, want %v", got, tc.want)
			}
			for i := range tc.want {
				if tc.wantCode == "" && got[i] != tc.want[i] {
					t.Errorf("tag %d = %v, want %v", i, got[i], tc.want[i])
				}
			}
		})
	}
}

func TestParseIntegrity(t *testing.T) {
	for _, tc := range []struct {
		name     string
		hdr      map[string]string
		md5      string
		sdk      string
		wantAlgo string
		wantCode string
	}{
		{"nothing asked computes CRC64NVME", nil, "", "", "", ""},
		{"a checksum header names its algorithm", map[string]string{"x-amz-checksum-crc32c": "AAAAAA=="}, "", "", algoCRC32C, ""},
		{"the SDK algorithm alone is computed", nil, "", "sha1", algoSHA1, ""},
		{"a trailer names its algorithm", map[string]string{"x-amz-trailer": "x-amz-checksum-sha256"}, "", "", algoSHA256, ""},
		{"two checksum headers are refused", map[string]string{"x-amz-checksum-crc32": "AAAAAA==", "x-amz-checksum-crc32c": "AAAAAA=="}, "", "", "", "InvalidRequest"},
		{"a checksum of the wrong size is refused", map[string]string{"x-amz-checksum-sha1": "AAAAAA=="}, "", "", "", "InvalidRequest"},
		{"an unknown SDK algorithm is refused", nil, "", "MD4", "", "InvalidRequest"},
		{"a short Content-MD5 is InvalidDigest", nil, "AAAA", "", "", "InvalidDigest"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tc.hdr {
				h.Set(k, v)
			}
			var md5, sdk *string
			if tc.md5 != "" {
				md5 = &tc.md5
			}
			if tc.sdk != "" {
				sdk = &tc.sdk
			}
			in, err := parseIntegrity(h, md5, sdk)
			if errCode(err) != tc.wantCode || in.Algo != tc.wantAlgo {
				t.Errorf("parseIntegrity = %+v, %v; want algo %q code %q", in, err, tc.wantAlgo, tc.wantCode)
			}
			if err == nil && tc.wantAlgo == "" && in.algorithms()[0] != algoCRC64NVME {
				t.Errorf("default algorithms = %v", in.algorithms())
			}
		})
	}
}

func TestStripAWSChunked(t *testing.T) {
	for in, want := range map[string]string{"": "", "gzip": "gzip", "aws-chunked": "", "aws-chunked,gzip": "gzip", "gzip, aws-chunked": "gzip"} {
		if got := stripAWSChunked(in); got != want {
			t.Errorf("stripAWSChunked(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestListEncoderEncodesAsS3(t *testing.T) {
	for in, want := range map[string]string{
		"asdf+b": "asdf%2Bb", "foo+1/": "foo%2B1/", "quux ab/": "quux%20ab/", "a/b~c_d-e.f": "a/b~c_d-e.f", "ü": "%C3%BC", "%": "%25",
	} {
		if got := listEncoder(true).enc(in); got != want {
			t.Errorf("enc(%q) = %q, want %q", in, got, want)
		}
	}
	if got := listEncoder(false).enc("a b"); got != "a b" {
		t.Errorf("without encoding-type = %q", got)
	}
}
