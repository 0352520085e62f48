package e2e

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// objectFixture is a running Kiri with one empty bucket.
type objectFixture struct {
	srv    *kiritest.Server
	c      *s3.Client
	bucket string
}

func newObjectFixture(t *testing.T) objectFixture {
	t.Helper()
	srv := kiritest.Start(t, kiritest.Options{})
	c := srv.Clients().S3
	f := objectFixture{srv: srv, c: c, bucket: "objects"}
	if _, err := c.CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: aws.String(f.bucket)}); err != nil {
		t.Fatalf("CreateBucket: %v", err)
	}
	return f
}

func (f objectFixture) put(t *testing.T, key string, body []byte, opts ...func(*s3.PutObjectInput)) *s3.PutObjectOutput {
	t.Helper()
	in := &s3.PutObjectInput{Bucket: aws.String(f.bucket), Key: aws.String(key), Body: bytes.NewReader(body)}
	for _, o := range opts {
		o(in)
	}
	out, err := f.c.PutObject(t.Context(), in)
	if err != nil {
		t.Fatalf("PutObject %s: %v", key, err)
	}
	return out
}

func (f objectFixture) get(t *testing.T, in *s3.GetObjectInput) (*s3.GetObjectOutput, []byte, error) {
	t.Helper()
	if in.Bucket == nil {
		in.Bucket = aws.String(f.bucket)
	}
	out, err := f.c.GetObject(t.Context(), in)
	if err != nil {
		return nil, nil, err
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	return out, b, err
}

// raw sends an unsigned request (dev mode accepts it) and returns the response with its body read.
func (f objectFixture) raw(t *testing.T, method, path string, hdr map[string]string, body []byte) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, f.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func quotedMD5(b []byte) string { return fmt.Sprintf("%q", fmt.Sprintf("%x", md5.Sum(b))) }

func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/251)
	}
	return b
}

func TestS3ObjectPutGetRoundTripsWithSDKDefaults(t *testing.T) {
	f := newObjectFixture(t)
	for _, tc := range []struct {
		name string
		size int
	}{
		{"empty object", 0},
		{"small inline object", 11},
		{"object just over the inline limit", 64<<10 + 1},
		{"large blob object", 3 << 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := pattern(tc.size)
			key := "dir/" + strings.ReplaceAll(tc.name, " ", "-")
			put := f.put(t, key, body, func(in *s3.PutObjectInput) {
				in.ContentType = aws.String("text/plain")
				in.Metadata = map[string]string{"color": "blue", "Mixed-Case": "v"}
				in.CacheControl = aws.String("max-age=60")
				in.ContentDisposition = aws.String(`attachment; filename="x.txt"`)
				in.ContentLanguage = aws.String("en")
			})
			if aws.ToString(put.ETag) != quotedMD5(body) {
				t.Errorf("PutObject ETag = %s, want %s", aws.ToString(put.ETag), quotedMD5(body))
			}
			// The SDK asks for checksum validation by default (ChecksumMode ENABLED).
			out, got, err := f.get(t, &s3.GetObjectInput{Key: aws.String(key), ChecksumMode: s3types.ChecksumModeEnabled})
			if err != nil {
				t.Fatalf("GetObject: %v", err)
			}
			if !bytes.Equal(got, body) {
				t.Fatalf("body differs: %d bytes, want %d", len(got), len(body))
			}
			if aws.ToString(out.ETag) != quotedMD5(body) || aws.ToInt64(out.ContentLength) != int64(tc.size) ||
				aws.ToString(out.ContentType) != "text/plain" || aws.ToString(out.CacheControl) != "max-age=60" ||
				aws.ToString(out.ContentLanguage) != "en" || aws.ToString(out.ContentDisposition) != `attachment; filename="x.txt"` {
				t.Errorf("GetObject headers = etag %s len %d type %s cc %s", aws.ToString(out.ETag), aws.ToInt64(out.ContentLength),
					aws.ToString(out.ContentType), aws.ToString(out.CacheControl))
			}
			if out.Metadata["color"] != "blue" || out.Metadata["mixed-case"] != "v" {
				t.Errorf("Metadata = %v", out.Metadata)
			}
			// Over plain HTTP the SDK signs the payload instead of sending a checksum; S3 then
			// computes CRC64NVME, which the SDK validates on this GET.
			if aws.ToString(out.ChecksumCRC64NVME) == "" || out.ChecksumType != s3types.ChecksumTypeFullObject {
				t.Errorf("GetObject with checksum mode returned no CRC64NVME")
			}
			head, err := f.c.HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: aws.String(f.bucket), Key: aws.String(key)})
			if err != nil {
				t.Fatalf("HeadObject: %v", err)
			}
			if aws.ToString(head.ETag) != quotedMD5(body) || head.Metadata["color"] != "blue" || aws.ToString(head.ContentType) != "text/plain" {
				t.Errorf("HeadObject = etag %s meta %v", aws.ToString(head.ETag), head.Metadata)
			}
		})
	}
}

func TestS3ObjectHeadReportsContentLength(t *testing.T) {
	f := newObjectFixture(t)
	body := pattern(1234)
	f.put(t, "k", body)
	head, err := f.c.HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: aws.String(f.bucket), Key: aws.String("k")})
	if err != nil {
		t.Fatalf("HeadObject: %v", err)
	}
	if aws.ToInt64(head.ContentLength) != int64(len(body)) {
		t.Errorf("HeadObject ContentLength = %d, want %d", aws.ToInt64(head.ContentLength), len(body))
	}
}

func TestS3ObjectMissingKeyAndBucket(t *testing.T) {
	f := newObjectFixture(t)
	_, _, err := f.get(t, &s3.GetObjectInput{Key: aws.String("nope")})
	expectAPIError(t, err, "NoSuchKey", 404)
	_, _, err = f.get(t, &s3.GetObjectInput{Bucket: aws.String("no-such-bucket"), Key: aws.String("k")})
	expectAPIError(t, err, "NoSuchBucket", 404)
	_, err = f.c.HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: aws.String(f.bucket), Key: aws.String("nope")})
	expectAPIError(t, err, "NotFound", 404)
	resp, body := f.raw(t, "GET", "/objects/nope", nil, nil)
	if resp.StatusCode != 404 || !strings.Contains(string(body), "<Key>nope</Key>") {
		t.Errorf("raw GET missing = %d %s", resp.StatusCode, body)
	}
}

func TestS3ObjectPutValidatesDigests(t *testing.T) {
	f := newObjectFixture(t)
	body := []byte("hello digests")
	md := md5.Sum(body)
	sha := sha256.Sum256(body)
	crc := crc32.ChecksumIEEE(body)
	crcB64 := base64.StdEncoding.EncodeToString([]byte{byte(crc >> 24), byte(crc >> 16), byte(crc >> 8), byte(crc)})
	for _, tc := range []struct {
		name     string
		mod      func(*s3.PutObjectInput)
		wantCode string
	}{
		{"correct Content-MD5 is accepted", func(in *s3.PutObjectInput) {
			in.ContentMD5 = aws.String(base64.StdEncoding.EncodeToString(md[:]))
		}, ""},
		{"wrong Content-MD5 is BadDigest", func(in *s3.PutObjectInput) {
			in.ContentMD5 = aws.String(base64.StdEncoding.EncodeToString(make([]byte, 16)))
		}, "BadDigest"},
		{"malformed Content-MD5 is InvalidDigest", func(in *s3.PutObjectInput) { in.ContentMD5 = aws.String("bm90LW1kNQ==") }, "InvalidDigest"},
		{"correct SHA256 is accepted and returned", func(in *s3.PutObjectInput) {
			in.ChecksumSHA256 = aws.String(base64.StdEncoding.EncodeToString(sha[:]))
		}, ""},
		{"correct CRC32 is accepted", func(in *s3.PutObjectInput) { in.ChecksumCRC32 = aws.String(crcB64) }, ""},
		{"wrong CRC32 is BadDigest", func(in *s3.PutObjectInput) { in.ChecksumCRC32 = aws.String("AAAAAA==") }, "BadDigest"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key := strings.ReplaceAll(tc.name, " ", "_")
			in := &s3.PutObjectInput{Bucket: aws.String(f.bucket), Key: aws.String(key), Body: bytes.NewReader(body)}
			tc.mod(in)
			out, err := f.c.PutObject(t.Context(), in)
			if tc.wantCode != "" {
				expectAPIError(t, err, tc.wantCode, 400)
				_, _, err := f.get(t, &s3.GetObjectInput{Key: aws.String(key)})
				expectAPIError(t, err, "NoSuchKey", 404)
				return
			}
			if err != nil {
				t.Fatalf("PutObject: %v", err)
			}
			if in.ChecksumSHA256 != nil && aws.ToString(out.ChecksumSHA256) != *in.ChecksumSHA256 {
				t.Errorf("ChecksumSHA256 = %q, want %q", aws.ToString(out.ChecksumSHA256), *in.ChecksumSHA256)
			}
		})
	}
	resp, msg := f.raw(t, "PUT", "/objects/badcrc", map[string]string{"x-amz-checksum-crc32": "AAAAAA=="}, body)
	if resp.StatusCode != 400 || !strings.Contains(string(msg), "The CRC32 you specified did not match the calculated checksum.") {
		t.Errorf("raw bad CRC32 = %d %s", resp.StatusCode, msg)
	}
}

func TestS3ObjectConditionalWrites(t *testing.T) {
	f := newObjectFixture(t)
	first := f.put(t, "k", []byte("one"))
	for _, tc := range []struct {
		name       string
		key        string
		ifMatch    string
		ifNone     string
		wantCode   string
		wantStatus int
	}{
		{"if-none-match star on an existing key fails", "k", "", "*", "PreconditionFailed", 412},
		{"if-none-match star on a new key writes", "new", "", "*", "", 200},
		{"if-match with another etag fails", "k", `"0123"`, "", "PreconditionFailed", 412},
		{"if-match on a missing key is NoSuchKey", "missing", aws.ToString(first.ETag), "", "NoSuchKey", 404},
		{"if-match with the current etag writes", "k", aws.ToString(first.ETag), "", "", 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := &s3.PutObjectInput{Bucket: aws.String(f.bucket), Key: aws.String(tc.key), Body: strings.NewReader("two")}
			if tc.ifMatch != "" {
				in.IfMatch = aws.String(tc.ifMatch)
			}
			if tc.ifNone != "" {
				in.IfNoneMatch = aws.String(tc.ifNone)
			}
			_, err := f.c.PutObject(t.Context(), in)
			if tc.wantCode != "" {
				expectAPIError(t, err, tc.wantCode, tc.wantStatus)
				return
			}
			if err != nil {
				t.Fatalf("PutObject: %v", err)
			}
		})
	}
}

func TestS3ObjectRangeGets(t *testing.T) {
	f := newObjectFixture(t)
	small := []byte("0123456789")
	big := pattern(200 << 10)
	f.put(t, "small", small)
	f.put(t, "big", big)
	for _, tc := range []struct {
		name, key, rng string
		want           []byte
		wantRange      string
	}{
		{"closed range", "small", "bytes=2-5", small[2:6], "bytes 2-5/10"},
		{"open range", "small", "bytes=7-", small[7:], "bytes 7-9/10"},
		{"suffix range", "small", "bytes=-3", small[7:], "bytes 7-9/10"},
		{"suffix longer than object", "small", "bytes=-30", small, "bytes 0-9/10"},
		{"end past object is clamped", "small", "bytes=8-100", small[8:], "bytes 8-9/10"},
		{"range in a blob", "big", "bytes=100000-150000", big[100000:150001], "bytes 100000-150000/204800"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, got, err := f.get(t, &s3.GetObjectInput{Key: aws.String(tc.key), Range: aws.String(tc.rng)})
			if err != nil {
				t.Fatalf("GetObject: %v", err)
			}
			if !bytes.Equal(got, tc.want) || aws.ToString(out.ContentRange) != tc.wantRange || aws.ToInt64(out.ContentLength) != int64(len(tc.want)) {
				t.Errorf("got %d bytes range %q len %d, want %d bytes %q", len(got), aws.ToString(out.ContentRange), aws.ToInt64(out.ContentLength), len(tc.want), tc.wantRange)
			}
		})
	}
	t.Run("unsatisfiable range is 416 InvalidRange", func(t *testing.T) {
		_, _, err := f.get(t, &s3.GetObjectInput{Key: aws.String("small"), Range: aws.String("bytes=10-")})
		expectAPIError(t, err, "InvalidRange", 416)
		resp, body := f.raw(t, "GET", "/objects/small", map[string]string{"Range": "bytes=20-30"}, nil)
		if resp.StatusCode != 416 || !strings.Contains(string(body), "<ActualObjectSize>10</ActualObjectSize>") {
			t.Errorf("raw = %d %s", resp.StatusCode, body)
		}
	})
	t.Run("raw range answers 206", func(t *testing.T) {
		resp, body := f.raw(t, "GET", "/objects/small", map[string]string{"Range": "bytes=0-0"}, nil)
		if resp.StatusCode != 206 || string(body) != "0" || resp.Header.Get("Content-Range") != "bytes 0-0/10" {
			t.Errorf("raw = %d %q %q", resp.StatusCode, body, resp.Header.Get("Content-Range"))
		}
	})
}

func TestS3ObjectConditionalReads(t *testing.T) {
	f := newObjectFixture(t)
	put := f.put(t, "k", []byte("body"))
	etag := aws.ToString(put.ETag)
	past, future := time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
	for _, tc := range []struct {
		name       string
		in         s3.GetObjectInput
		wantStatus int
	}{
		{"if-match with the etag reads", s3.GetObjectInput{IfMatch: aws.String(etag)}, 200},
		{"if-match with another etag is 412", s3.GetObjectInput{IfMatch: aws.String(`"nope"`)}, 412},
		{"if-none-match with the etag is 304", s3.GetObjectInput{IfNoneMatch: aws.String(etag)}, 304},
		{"if-none-match with another etag reads", s3.GetObjectInput{IfNoneMatch: aws.String(`"nope"`)}, 200},
		{"if-modified-since in the future is 304", s3.GetObjectInput{IfModifiedSince: aws.Time(future)}, 304},
		{"if-modified-since in the past reads", s3.GetObjectInput{IfModifiedSince: aws.Time(past)}, 200},
		{"if-unmodified-since in the past is 412", s3.GetObjectInput{IfUnmodifiedSince: aws.Time(past)}, 412},
		{"if-match wins over a failing if-unmodified-since", s3.GetObjectInput{IfMatch: aws.String(etag), IfUnmodifiedSince: aws.Time(past)}, 200},
		{"if-none-match wins over if-modified-since", s3.GetObjectInput{IfNoneMatch: aws.String(`"x"`), IfModifiedSince: aws.Time(future)}, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			in.Key = aws.String("k")
			_, _, err := f.get(t, &in)
			if tc.wantStatus == 200 {
				if err != nil {
					t.Fatalf("GetObject: %v", err)
				}
				return
			}
			var re interface{ HTTPStatusCode() int }
			if !errors.As(err, &re) || re.HTTPStatusCode() != tc.wantStatus {
				t.Fatalf("err = %v, want status %d", err, tc.wantStatus)
			}
			hin := &s3.HeadObjectInput{Bucket: aws.String(f.bucket), Key: aws.String("k"), IfMatch: in.IfMatch, IfNoneMatch: in.IfNoneMatch,
				IfModifiedSince: in.IfModifiedSince, IfUnmodifiedSince: in.IfUnmodifiedSince}
			_, err = f.c.HeadObject(t.Context(), hin)
			if !errors.As(err, &re) || re.HTTPStatusCode() != tc.wantStatus {
				t.Fatalf("HeadObject err = %v, want status %d", err, tc.wantStatus)
			}
		})
	}
	resp, body := f.raw(t, "GET", "/objects/k", map[string]string{"If-None-Match": etag}, nil)
	if resp.StatusCode != 304 || len(body) != 0 || resp.Header.Get("ETag") != etag {
		t.Errorf("raw 304 = %d %q etag %q", resp.StatusCode, body, resp.Header.Get("ETag"))
	}
}

func TestS3ObjectResponseOverridesAndTagCount(t *testing.T) {
	f := newObjectFixture(t)
	f.put(t, "k", []byte("x"), func(in *s3.PutObjectInput) {
		in.Tagging = aws.String("a=1&b=two%20words")
		in.StorageClass = s3types.StorageClassStandardIa
	})
	out, _, err := f.get(t, &s3.GetObjectInput{Key: aws.String("k"), ResponseContentType: aws.String("application/json"),
		ResponseContentDisposition: aws.String("inline"), ResponseCacheControl: aws.String("no-cache")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.ContentType) != "application/json" || aws.ToString(out.ContentDisposition) != "inline" ||
		aws.ToString(out.CacheControl) != "no-cache" || aws.ToInt32(out.TagCount) != 2 || out.StorageClass != s3types.StorageClassStandardIa {
		t.Errorf("GetObject = type %s disp %s cc %s tags %d class %s", aws.ToString(out.ContentType), aws.ToString(out.ContentDisposition),
			aws.ToString(out.CacheControl), aws.ToInt32(out.TagCount), out.StorageClass)
	}
	tags, err := f.c.GetObjectTagging(t.Context(), &s3.GetObjectTaggingInput{Bucket: aws.String(f.bucket), Key: aws.String("k")})
	if err != nil {
		t.Fatal(err)
	}
	if len(tags.TagSet) != 2 || aws.ToString(tags.TagSet[1].Value) != "two words" {
		t.Errorf("TagSet = %+v", tags.TagSet)
	}
	_, err = f.c.PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String(f.bucket), Key: aws.String("bad"), Body: strings.NewReader("x"),
		StorageClass: "NOPE"})
	expectAPIError(t, err, "InvalidStorageClass", 400)
}

func TestS3ObjectTagging(t *testing.T) {
	f := newObjectFixture(t)
	f.put(t, "k", []byte("x"))
	ctx := t.Context()
	tagging := func(pairs ...string) *s3types.Tagging {
		tg := &s3types.Tagging{TagSet: []s3types.Tag{}}
		for i := 0; i < len(pairs); i += 2 {
			tg.TagSet = append(tg.TagSet, s3types.Tag{Key: aws.String(pairs[i]), Value: aws.String(pairs[i+1])})
		}
		return tg
	}
	if _, err := f.c.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: aws.String(f.bucket), Key: aws.String("k"), Tagging: tagging("env", "prod", "team", "a")}); err != nil {
		t.Fatal(err)
	}
	got, err := f.c.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String(f.bucket), Key: aws.String("k")})
	if err != nil || len(got.TagSet) != 2 || aws.ToString(got.TagSet[0].Key) != "env" {
		t.Fatalf("GetObjectTagging = %+v, %v", got, err)
	}
	for _, tc := range []struct {
		name string
		tg   *s3types.Tagging
		code string
	}{
		{"eleven tags are too many", tagging("1", "", "2", "", "3", "", "4", "", "5", "", "6", "", "7", "", "8", "", "9", "", "10", "", "11", ""), "BadRequest"},
		{"duplicate keys are refused", tagging("a", "1", "a", "2"), "InvalidTag"},
		{"a key over 128 characters is refused", tagging(strings.Repeat("k", 129), "v"), "InvalidTag"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.c.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: aws.String(f.bucket), Key: aws.String("k"), Tagging: tc.tg})
			expectAPIError(t, err, tc.code, 400)
		})
	}
	if _, err := f.c.DeleteObjectTagging(ctx, &s3.DeleteObjectTaggingInput{Bucket: aws.String(f.bucket), Key: aws.String("k")}); err != nil {
		t.Fatal(err)
	}
	got, err = f.c.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String(f.bucket), Key: aws.String("k")})
	if err != nil || len(got.TagSet) != 0 {
		t.Fatalf("after delete: %+v, %v", got, err)
	}
	_, err = f.c.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String(f.bucket), Key: aws.String("missing")})
	expectAPIError(t, err, "NoSuchKey", 404)
}

func TestS3ObjectDeleteUnversioned(t *testing.T) {
	f := newObjectFixture(t)
	f.put(t, "k", []byte("x"))
	out, err := f.c.DeleteObject(t.Context(), &s3.DeleteObjectInput{Bucket: aws.String(f.bucket), Key: aws.String("k")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToBool(out.DeleteMarker) || out.VersionId != nil {
		t.Errorf("DeleteObject = marker %v version %v", aws.ToBool(out.DeleteMarker), aws.ToString(out.VersionId))
	}
	_, _, err = f.get(t, &s3.GetObjectInput{Key: aws.String("k")})
	expectAPIError(t, err, "NoSuchKey", 404)
	if _, err := f.c.DeleteObject(t.Context(), &s3.DeleteObjectInput{Bucket: aws.String(f.bucket), Key: aws.String("k")}); err != nil {
		t.Errorf("deleting a missing key: %v, want success", err)
	}
	resp, _ := f.raw(t, "DELETE", "/objects/k", nil, nil)
	if resp.StatusCode != 204 {
		t.Errorf("raw DELETE = %d, want 204", resp.StatusCode)
	}
}

func TestS3ObjectDeleteObjectsBatch(t *testing.T) {
	f := newObjectFixture(t)
	for _, k := range []string{"a", "b", "c"} {
		f.put(t, k, []byte(k))
	}
	ids := func(keys ...string) []s3types.ObjectIdentifier {
		var out []s3types.ObjectIdentifier
		for _, k := range keys {
			out = append(out, s3types.ObjectIdentifier{Key: aws.String(k)})
		}
		return out
	}
	out, err := f.c.DeleteObjects(t.Context(), &s3.DeleteObjectsInput{Bucket: aws.String(f.bucket),
		Delete: &s3types.Delete{Objects: ids("a", "missing")}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Deleted) != 2 || len(out.Errors) != 0 {
		t.Errorf("DeleteObjects = deleted %d errors %d", len(out.Deleted), len(out.Errors))
	}
	out, err = f.c.DeleteObjects(t.Context(), &s3.DeleteObjectsInput{Bucket: aws.String(f.bucket),
		Delete: &s3types.Delete{Objects: ids("b", "c"), Quiet: aws.Bool(true)}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Deleted) != 0 || len(out.Errors) != 0 {
		t.Errorf("quiet DeleteObjects = deleted %d errors %d, want none listed", len(out.Deleted), len(out.Errors))
	}
	list, err := f.c.ListObjectsV2(t.Context(), &s3.ListObjectsV2Input{Bucket: aws.String(f.bucket)})
	if err != nil || aws.ToInt32(list.KeyCount) != 0 {
		t.Fatalf("after deletes: %v keys, %v", aws.ToInt32(list.KeyCount), err)
	}
	resp, body := f.raw(t, "POST", "/objects?delete", nil, []byte(`<Delete><Object><Key>a</Key></Object></Delete>`))
	if resp.StatusCode != 400 || !strings.Contains(string(body), "Content-MD5") {
		t.Errorf("DeleteObjects without Content-MD5 = %d %s", resp.StatusCode, body)
	}
	xml := []byte(`<Delete><Object><Key>a</Key>`)
	sum := md5.Sum(xml)
	resp, body = f.raw(t, "POST", "/objects?delete", map[string]string{"Content-MD5": base64.StdEncoding.EncodeToString(sum[:])}, xml)
	if resp.StatusCode != 400 || !strings.Contains(string(body), "MalformedXML") {
		t.Errorf("DeleteObjects with broken XML = %d %s", resp.StatusCode, body)
	}
}

func TestS3ObjectCopy(t *testing.T) {
	f := newObjectFixture(t)
	ctx := t.Context()
	if _, err := f.c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("other")}); err != nil {
		t.Fatal(err)
	}
	body := pattern(100 << 10)
	src := f.put(t, "src key+special", body, func(in *s3.PutObjectInput) {
		in.Metadata = map[string]string{"a": "1"}
		in.ContentType = aws.String("image/png")
		in.Tagging = aws.String("t=1")
	})
	copySource := f.bucket + "/src%20key%2Bspecial"
	for _, tc := range []struct {
		name      string
		in        s3.CopyObjectInput
		wantMeta  string
		wantType  string
		wantTags  int
		wantError string
	}{
		{"copy keeps metadata by default", s3.CopyObjectInput{Bucket: aws.String(f.bucket), Key: aws.String("dst")}, "1", "image/png", 1, ""},
		{"replace directive takes the request's metadata", s3.CopyObjectInput{Bucket: aws.String(f.bucket), Key: aws.String("dst2"),
			MetadataDirective: s3types.MetadataDirectiveReplace, Metadata: map[string]string{"a": "2"}, ContentType: aws.String("text/plain"),
			TaggingDirective: s3types.TaggingDirectiveReplace}, "2", "text/plain", 0, ""},
		{"copy into another bucket", s3.CopyObjectInput{Bucket: aws.String("other"), Key: aws.String("x")}, "1", "image/png", 1, ""},
		{"copy onto itself unchanged is refused", s3.CopyObjectInput{Bucket: aws.String(f.bucket), Key: aws.String("src key+special")}, "", "", 0, "InvalidRequest"},
		{"failed copy-source-if-match is 412", s3.CopyObjectInput{Bucket: aws.String(f.bucket), Key: aws.String("d3"), CopySourceIfMatch: aws.String(`"zz"`)}, "", "", 0, "PreconditionFailed"},
		{"missing source is NoSuchKey", s3.CopyObjectInput{Bucket: aws.String(f.bucket), Key: aws.String("d4"), CopySource: aws.String(f.bucket + "/nope")}, "", "", 0, "NoSuchKey"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			if in.CopySource == nil {
				in.CopySource = aws.String(copySource)
			}
			out, err := f.c.CopyObject(ctx, &in)
			if tc.wantError != "" {
				status := 400
				switch tc.wantError {
				case "PreconditionFailed":
					status = 412
				case "NoSuchKey":
					status = 404
				}
				expectAPIError(t, err, tc.wantError, status)
				return
			}
			if err != nil {
				t.Fatalf("CopyObject: %v", err)
			}
			if aws.ToString(out.CopyObjectResult.ETag) != aws.ToString(src.ETag) || out.CopyObjectResult.LastModified == nil {
				t.Errorf("CopyObjectResult = %+v", out.CopyObjectResult)
			}
			g, got, err := f.get(t, &s3.GetObjectInput{Bucket: in.Bucket, Key: in.Key})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, body) || g.Metadata["a"] != tc.wantMeta || aws.ToString(g.ContentType) != tc.wantType || int(aws.ToInt32(g.TagCount)) != tc.wantTags {
				t.Errorf("copy = %d bytes meta %v type %s tags %d", len(got), g.Metadata, aws.ToString(g.ContentType), aws.ToInt32(g.TagCount))
			}
		})
	}
	// Copying onto itself with REPLACE is how metadata is changed in place.
	if _, err := f.c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(f.bucket), Key: aws.String("src key+special"), CopySource: aws.String(copySource),
		MetadataDirective: s3types.MetadataDirectiveReplace, Metadata: map[string]string{"a": "3"}}); err != nil {
		t.Fatalf("self copy with REPLACE: %v", err)
	}
}

func TestS3ObjectVersioning(t *testing.T) {
	f := newObjectFixture(t)
	ctx := t.Context()
	if _, err := f.c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(f.bucket),
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	v1 := f.put(t, "k", []byte("one"))
	v2 := f.put(t, "k", []byte("two"))
	if aws.ToString(v1.VersionId) == "" || aws.ToString(v1.VersionId) == aws.ToString(v2.VersionId) {
		t.Fatalf("version ids %q %q", aws.ToString(v1.VersionId), aws.ToString(v2.VersionId))
	}
	_, got, err := f.get(t, &s3.GetObjectInput{Key: aws.String("k"), VersionId: v1.VersionId})
	if err != nil || string(got) != "one" {
		t.Fatalf("get v1 = %q, %v", got, err)
	}
	del, err := f.c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(f.bucket), Key: aws.String("k")})
	if err != nil || !aws.ToBool(del.DeleteMarker) || aws.ToString(del.VersionId) == "" {
		t.Fatalf("DeleteObject = %+v, %v", del, err)
	}
	resp, _ := f.raw(t, "GET", "/objects/k", nil, nil)
	if resp.StatusCode != 404 || resp.Header.Get("x-amz-delete-marker") != "true" {
		t.Errorf("GET behind a delete marker = %d marker %q", resp.StatusCode, resp.Header.Get("x-amz-delete-marker"))
	}
	_, _, err = f.get(t, &s3.GetObjectInput{Key: aws.String("k"), VersionId: del.VersionId})
	expectAPIError(t, err, "MethodNotAllowed", 405)

	vers, err := f.c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(f.bucket)})
	if err != nil {
		t.Fatal(err)
	}
	if len(vers.Versions) != 2 || len(vers.DeleteMarkers) != 1 || !aws.ToBool(vers.DeleteMarkers[0].IsLatest) ||
		aws.ToString(vers.Versions[0].VersionId) != aws.ToString(v2.VersionId) || aws.ToBool(vers.Versions[0].IsLatest) {
		t.Errorf("ListObjectVersions = %d versions %d markers", len(vers.Versions), len(vers.DeleteMarkers))
	}
	page, err := f.c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(f.bucket), MaxKeys: aws.Int32(2)})
	if err != nil || !aws.ToBool(page.IsTruncated) || aws.ToString(page.NextVersionIdMarker) != aws.ToString(v2.VersionId) {
		t.Fatalf("first page = truncated %v next %q, %v", aws.ToBool(page.IsTruncated), aws.ToString(page.NextVersionIdMarker), err)
	}
	page, err = f.c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(f.bucket), MaxKeys: aws.Int32(2),
		KeyMarker: page.NextKeyMarker, VersionIdMarker: page.NextVersionIdMarker})
	if err != nil || aws.ToBool(page.IsTruncated) || len(page.Versions) != 1 || aws.ToString(page.Versions[0].VersionId) != aws.ToString(v1.VersionId) {
		t.Fatalf("second page = %+v, %v", page.Versions, err)
	}
	// Removing the delete marker brings the object back.
	if _, err := f.c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(f.bucket), Key: aws.String("k"), VersionId: del.VersionId}); err != nil {
		t.Fatal(err)
	}
	if _, got, err := f.get(t, &s3.GetObjectInput{Key: aws.String("k")}); err != nil || string(got) != "two" {
		t.Fatalf("after removing the marker = %q, %v", got, err)
	}
	list, err := f.c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(f.bucket)})
	if err != nil || aws.ToInt32(list.KeyCount) != 1 {
		t.Fatalf("ListObjectsV2 = %v, %v", list, err)
	}
}

func TestS3ObjectSuspendedVersioningUsesNullVersion(t *testing.T) {
	f := newObjectFixture(t)
	ctx := t.Context()
	setVersioning := func(s s3types.BucketVersioningStatus) {
		if _, err := f.c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(f.bucket),
			VersioningConfiguration: &s3types.VersioningConfiguration{Status: s}}); err != nil {
			t.Fatal(err)
		}
	}
	setVersioning(s3types.BucketVersioningStatusEnabled)
	kept := f.put(t, "k", []byte("kept"))
	setVersioning(s3types.BucketVersioningStatusSuspended)
	f.put(t, "k", []byte("null1"))
	f.put(t, "k", []byte("null2"))
	del, err := f.c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(f.bucket), Key: aws.String("k")})
	if err != nil || aws.ToString(del.VersionId) != "null" || !aws.ToBool(del.DeleteMarker) {
		t.Fatalf("DeleteObject = %+v, %v", del, err)
	}
	vers, err := f.c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(f.bucket)})
	if err != nil {
		t.Fatal(err)
	}
	if len(vers.Versions) != 1 || aws.ToString(vers.Versions[0].VersionId) != aws.ToString(kept.VersionId) || len(vers.DeleteMarkers) != 1 {
		t.Errorf("versions = %d (first %s), markers %d", len(vers.Versions), aws.ToString(vers.Versions[0].VersionId), len(vers.DeleteMarkers))
	}
}

func TestS3ListObjects(t *testing.T) {
	f := newObjectFixture(t)
	ctx := t.Context()
	keys := []string{"a.txt", "dir/1", "dir/2", "dir/sub/3", "other/x", "z y"}
	for _, k := range keys {
		f.put(t, k, []byte(k))
	}
	v2 := func(in s3.ListObjectsV2Input) *s3.ListObjectsV2Output {
		t.Helper()
		in.Bucket = aws.String(f.bucket)
		out, err := f.c.ListObjectsV2(ctx, &in)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	names := func(objs []s3types.Object, cps []s3types.CommonPrefix) string {
		var s []string
		for _, o := range objs {
			s = append(s, aws.ToString(o.Key))
		}
		for _, p := range cps {
			s = append(s, "cp:"+aws.ToString(p.Prefix))
		}
		return strings.Join(s, ",")
	}
	for _, tc := range []struct {
		name string
		in   s3.ListObjectsV2Input
		want string
	}{
		{"everything in byte order", s3.ListObjectsV2Input{}, "a.txt,dir/1,dir/2,dir/sub/3,other/x,z y"},
		{"prefix", s3.ListObjectsV2Input{Prefix: aws.String("dir/")}, "dir/1,dir/2,dir/sub/3"},
		{"delimiter rolls up common prefixes", s3.ListObjectsV2Input{Delimiter: aws.String("/")}, "a.txt,z y,cp:dir/,cp:other/"},
		{"prefix and delimiter", s3.ListObjectsV2Input{Prefix: aws.String("dir/"), Delimiter: aws.String("/")}, "dir/1,dir/2,cp:dir/sub/"},
		{"start-after", s3.ListObjectsV2Input{StartAfter: aws.String("dir/2")}, "dir/sub/3,other/x,z y"},
		{"start-after inside a common prefix skips it", s3.ListObjectsV2Input{StartAfter: aws.String("dir/1"), Delimiter: aws.String("/")}, "z y,cp:other/"},
		{"max-keys zero lists nothing", s3.ListObjectsV2Input{MaxKeys: aws.Int32(0)}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := v2(tc.in)
			if got := names(out.Contents, out.CommonPrefixes); got != tc.want {
				t.Errorf("listed %q, want %q", got, tc.want)
			}
			if int(aws.ToInt32(out.KeyCount)) != len(out.Contents)+len(out.CommonPrefixes) {
				t.Errorf("KeyCount = %d", aws.ToInt32(out.KeyCount))
			}
		})
	}
	t.Run("continuation tokens page through keys and prefixes", func(t *testing.T) {
		var got []string
		in := s3.ListObjectsV2Input{Delimiter: aws.String("/"), MaxKeys: aws.Int32(1)}
		for i := 0; ; i++ {
			out := v2(in)
			got = append(got, names(out.Contents, out.CommonPrefixes))
			if !aws.ToBool(out.IsTruncated) {
				break
			}
			if i > 10 {
				t.Fatal("no end")
			}
			in.ContinuationToken = out.NextContinuationToken
		}
		if strings.Join(got, ",") != "a.txt,cp:dir/,cp:other/,z y" {
			t.Errorf("pages = %q", got)
		}
	})
	t.Run("v1 marker and NextMarker with a delimiter", func(t *testing.T) {
		out, err := f.c.ListObjects(ctx, &s3.ListObjectsInput{Bucket: aws.String(f.bucket), Delimiter: aws.String("/"), MaxKeys: aws.Int32(2)})
		if err != nil {
			t.Fatal(err)
		}
		if names(out.Contents, out.CommonPrefixes) != "a.txt,cp:dir/" || !aws.ToBool(out.IsTruncated) || aws.ToString(out.NextMarker) != "dir/" {
			t.Fatalf("page 1 = %q truncated %v next %q", names(out.Contents, out.CommonPrefixes), aws.ToBool(out.IsTruncated), aws.ToString(out.NextMarker))
		}
		out, err = f.c.ListObjects(ctx, &s3.ListObjectsInput{Bucket: aws.String(f.bucket), Delimiter: aws.String("/"), Marker: out.NextMarker})
		if err != nil {
			t.Fatal(err)
		}
		if names(out.Contents, out.CommonPrefixes) != "z y,cp:other/" || aws.ToBool(out.IsTruncated) {
			t.Errorf("page 2 = %q", names(out.Contents, out.CommonPrefixes))
		}
		if len(out.Contents) > 0 && out.Contents[0].Owner == nil {
			t.Errorf("v1 listing has no Owner")
		}
	})
	t.Run("encoding-type url encodes keys", func(t *testing.T) {
		resp, body := f.raw(t, "GET", "/objects?list-type=2&encoding-type=url&prefix=z", nil, nil)
		if resp.StatusCode != 200 || !strings.Contains(string(body), "<Key>z%20y</Key>") || !strings.Contains(string(body), "<EncodingType>url</EncodingType>") {
			t.Errorf("url-encoded listing = %d %s", resp.StatusCode, body)
		}
	})
	t.Run("bad continuation token is refused", func(t *testing.T) {
		_, err := f.c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(f.bucket), ContinuationToken: aws.String("!!!")})
		expectAPIError(t, err, "InvalidArgument", 400)
	})
}

func TestS3ObjectAttributes(t *testing.T) {
	f := newObjectFixture(t)
	body := []byte("attrs")
	f.put(t, "k", body, func(in *s3.PutObjectInput) { in.ChecksumAlgorithm = s3types.ChecksumAlgorithmSha256 })
	out, err := f.c.GetObjectAttributes(context.Background(), &s3.GetObjectAttributesInput{Bucket: aws.String(f.bucket), Key: aws.String("k"),
		ObjectAttributes: []s3types.ObjectAttributes{s3types.ObjectAttributesEtag, s3types.ObjectAttributesObjectSize, s3types.ObjectAttributesChecksum}})
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(body)
	if aws.ToInt64(out.ObjectSize) != 5 || aws.ToString(out.ETag) != fmt.Sprintf("%x", md5.Sum(body)) ||
		out.Checksum == nil || aws.ToString(out.Checksum.ChecksumSHA256) != base64.StdEncoding.EncodeToString(sum[:]) {
		t.Errorf("GetObjectAttributes = %+v", out)
	}
}

func TestS3ObjectTrailingChecksumIsValidated(t *testing.T) {
	f := newObjectFixture(t)
	for _, tc := range []struct {
		name, trailer string
		wantStatus    int
	}{
		{"matching CRC32 trailer stores the object", "NhCmhg==", 200},
		{"mismatching CRC32 trailer is BadDigest", "AAAAAA==", 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := "5\r\nhello\r\n0\r\nx-amz-checksum-crc32:" + tc.trailer + "\r\n\r\n"
			resp, msg := f.raw(t, "PUT", "/objects/chunked", map[string]string{
				"Content-Encoding":             "aws-chunked",
				"X-Amz-Content-Sha256":         "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
				"X-Amz-Trailer":                "x-amz-checksum-crc32",
				"X-Amz-Decoded-Content-Length": "5",
			}, []byte(body))
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("PUT = %d %s", resp.StatusCode, msg)
			}
			if tc.wantStatus != 200 {
				if !strings.Contains(string(msg), "BadDigest") {
					t.Errorf("body %s lacks BadDigest", msg)
				}
				return
			}
			if resp.Header.Get("x-amz-checksum-crc32") != tc.trailer {
				t.Errorf("x-amz-checksum-crc32 = %q", resp.Header.Get("x-amz-checksum-crc32"))
			}
			out, got, err := f.get(t, &s3.GetObjectInput{Key: aws.String("chunked"), ChecksumMode: s3types.ChecksumModeEnabled})
			if err != nil || string(got) != "hello" || aws.ToString(out.ContentEncoding) != "" {
				t.Fatalf("GET = %q encoding %q, %v", got, aws.ToString(out.ContentEncoding), err)
			}
		})
	}
}

func TestS3ObjectPartNumberReadsOfMultipartObject(t *testing.T) {
	f := newObjectFixture(t)
	ctx := t.Context()
	parts := [][]byte{pattern(5 << 20), []byte("tail")}
	mp, err := f.c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(f.bucket), Key: aws.String("mp")})
	if err != nil {
		t.Fatal(err)
	}
	var done []s3types.CompletedPart
	for i, p := range parts {
		up, err := f.c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(f.bucket), Key: aws.String("mp"), UploadId: mp.UploadId,
			PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(p)})
		if err != nil {
			t.Fatal(err)
		}
		done = append(done, s3types.CompletedPart{ETag: up.ETag, PartNumber: aws.Int32(int32(i + 1))})
	}
	if _, err := f.c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(f.bucket), Key: aws.String("mp"),
		UploadId: mp.UploadId, MultipartUpload: &s3types.CompletedMultipartUpload{Parts: done}}); err != nil {
		t.Fatal(err)
	}
	out, got, err := f.get(t, &s3.GetObjectInput{Key: aws.String("mp"), PartNumber: aws.Int32(2)})
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "tail" || aws.ToInt32(out.PartsCount) != 2 || aws.ToString(out.ContentRange) != fmt.Sprintf("bytes %d-%d/%d", 5<<20, 5<<20+3, 5<<20+4) {
		t.Errorf("part 2 = %q parts %d range %q", got, aws.ToInt32(out.PartsCount), aws.ToString(out.ContentRange))
	}
	_, _, err = f.get(t, &s3.GetObjectInput{Key: aws.String("mp"), PartNumber: aws.Int32(3)})
	expectAPIError(t, err, "InvalidPartNumber", 416)
	_, got, err = f.get(t, &s3.GetObjectInput{Key: aws.String("mp"), Range: aws.String("bytes=5242878-5242881")})
	if err != nil || !bytes.Equal(got, append(append([]byte{}, parts[0][5242878:]...), "ta"...)) {
		t.Errorf("range across parts = %q, %v", got, err)
	}
	// A copy of a multipart object is one part: its ETag is the MD5 of the whole.
	cp, err := f.c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(f.bucket), Key: aws.String("flat"), CopySource: aws.String(f.bucket + "/mp")})
	if err != nil {
		t.Fatal(err)
	}
	if want := quotedMD5(append(append([]byte{}, parts[0]...), parts[1]...)); aws.ToString(cp.CopyObjectResult.ETag) != want {
		t.Errorf("copy ETag = %s, want %s", aws.ToString(cp.CopyObjectResult.ETag), want)
	}
}

func TestS3ObjectKeysWithSpecialCharacters(t *testing.T) {
	f := newObjectFixture(t)
	keys := []string{"a b", "ü/ñ", "100%", "q?x=1&y", "plus+sign", "tilde~", "dir//double"}
	for _, k := range keys {
		f.put(t, k, []byte(k))
	}
	for _, k := range keys {
		if _, got, err := f.get(t, &s3.GetObjectInput{Key: aws.String(k)}); err != nil || string(got) != k {
			t.Errorf("GET %q = %q, %v", k, got, err)
		}
	}
	list, err := f.c.ListObjectsV2(t.Context(), &s3.ListObjectsV2Input{Bucket: aws.String(f.bucket)})
	if err != nil || int(aws.ToInt32(list.KeyCount)) != len(keys) {
		t.Fatalf("ListObjectsV2 = %d keys, %v", aws.ToInt32(list.KeyCount), err)
	}
}

func TestS3ObjectCannedACLOnPut(t *testing.T) {
	f := newObjectFixture(t)
	f.put(t, "k", []byte("x"), func(in *s3.PutObjectInput) { in.ACL = s3types.ObjectCannedACLPublicRead })
	acl, err := f.c.GetObjectAcl(t.Context(), &s3.GetObjectAclInput{Bucket: aws.String(f.bucket), Key: aws.String("k")})
	if err != nil {
		t.Fatal(err)
	}
	if len(acl.Grants) != 2 {
		t.Errorf("public-read object has %d grants, want 2", len(acl.Grants))
	}
	_, err = f.c.PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String(f.bucket), Key: aws.String("bad"), Body: strings.NewReader("x"), ACL: "no-such-acl"})
	expectAPIError(t, err, "InvalidArgument", 400)
}

func TestS3ObjectIfNoneMatchWriteHasOneWinner(t *testing.T) {
	f := newObjectFixture(t)
	var wins, conflicts atomic.Int32
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := f.c.PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String(f.bucket), Key: aws.String("once"),
				Body: strings.NewReader(fmt.Sprint(i)), IfNoneMatch: aws.String("*")})
			var re interface{ HTTPStatusCode() int }
			switch {
			case err == nil:
				wins.Add(1)
			case errors.As(err, &re) && re.HTTPStatusCode() == 412:
				conflicts.Add(1)
			default:
				t.Errorf("PutObject: %v", err)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 || conflicts.Load() != 15 {
		t.Errorf("%d writes won and %d got 412, want 1 and 15", wins.Load(), conflicts.Load())
	}
}

func TestS3ListObjectsPagesPastOneThousandKeys(t *testing.T) {
	f := newObjectFixture(t)
	const n = 1005
	var wg sync.WaitGroup
	keys := make(chan int)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range keys {
				if _, err := f.c.PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String(f.bucket),
					Key: aws.String(fmt.Sprintf("k%05d", i)), Body: strings.NewReader("x")}); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	for i := range n {
		keys <- i
	}
	close(keys)
	wg.Wait()
	p := s3.NewListObjectsV2Paginator(f.c, &s3.ListObjectsV2Input{Bucket: aws.String(f.bucket)})
	var pages, total int
	last := ""
	for p.HasMorePages() {
		out, err := p.NextPage(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, o := range out.Contents {
			if k := aws.ToString(o.Key); k <= last {
				t.Fatalf("key %q after %q", k, last)
			} else {
				last = k
			}
			total++
		}
	}
	if pages != 2 || total != n {
		t.Errorf("listed %d keys in %d pages, want %d in 2", total, pages, n)
	}
	v1, err := f.c.ListObjects(t.Context(), &s3.ListObjectsInput{Bucket: aws.String(f.bucket), Marker: aws.String("k01000")})
	if err != nil || len(v1.Contents) != 4 || aws.ToBool(v1.IsTruncated) {
		t.Fatalf("v1 after marker = %d keys truncated %v, %v", len(v1.Contents), aws.ToBool(v1.IsTruncated), err)
	}
}

// A Content-Encoding naming aws-chunked does not make a plain body aws-chunked: S3 stores the
// body as sent and keeps the other codings (s3-tests' test_object_content_encoding_aws_chunked).
func TestS3ContentEncodingNamingAWSChunked(t *testing.T) {
	f := newObjectFixture(t)
	for _, tc := range []struct{ sent, kept string }{
		{"gzip", "gzip"},
		{"deflate, gzip", "deflate, gzip"},
		{"gzip, aws-chunked", "gzip"},
		{"aws-chunked, gzip", "gzip"},
		{"aws-chunked", ""},
		{"aws-chunked, aws-chunked", ""},
	} {
		f.put(t, "encoded", []byte("plain bytes"), func(in *s3.PutObjectInput) { in.ContentEncoding = aws.String(tc.sent) })
		out, got, err := f.get(t, &s3.GetObjectInput{Key: aws.String("encoded")})
		if err != nil {
			t.Fatalf("%q: GetObject: %v", tc.sent, err)
		}
		if string(got) != "plain bytes" || aws.ToString(out.ContentEncoding) != tc.kept {
			t.Errorf("%q: GET = %q with Content-Encoding %q, want %q", tc.sent, got, aws.ToString(out.ContentEncoding), tc.kept)
		}
	}
}
