package e2e

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

const mib = 1 << 20

func mpBucket(t *testing.T, c *s3.Client, name string) {
	t.Helper()
	if _, err := c.CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("create bucket: %v", err)
	}
}

func mpCreate(t *testing.T, c *s3.Client, bucket, key string, mod ...func(*s3.CreateMultipartUploadInput)) string {
	t.Helper()
	in := &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key)}
	for _, m := range mod {
		m(in)
	}
	out, err := c.CreateMultipartUpload(t.Context(), in)
	if err != nil {
		t.Fatalf("create multipart upload: %v", err)
	}
	return aws.ToString(out.UploadId)
}

func mpPart(t *testing.T, c *s3.Client, bucket, key, id string, n int32, data []byte) types.CompletedPart {
	t.Helper()
	out, err := c.UploadPart(t.Context(), &s3.UploadPartInput{Bucket: aws.String(bucket), Key: aws.String(key),
		UploadId: aws.String(id), PartNumber: aws.Int32(n), Body: bytes.NewReader(data)})
	if err != nil {
		t.Fatalf("upload part %d: %v", n, err)
	}
	return types.CompletedPart{PartNumber: aws.Int32(n), ETag: out.ETag, ChecksumCRC32: out.ChecksumCRC32}
}

func mpComplete(ctx context.Context, c *s3.Client, bucket, key, id string, parts ...types.CompletedPart) (*s3.CompleteMultipartUploadOutput, error) {
	return c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key),
		UploadId: aws.String(id), MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
}

func mpGet(t *testing.T, c *s3.Client, bucket, key string) []byte {
	t.Helper()
	out, err := c.GetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// patterned returns n bytes that differ by position and seed, so misplaced parts show.
func patterned(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7) ^ seed
	}
	return b
}

func multipartETag(parts ...[]byte) string {
	var cat []byte
	for _, p := range parts {
		s := md5.Sum(p)
		cat = append(cat, s[:]...)
	}
	s := md5.Sum(cat)
	return fmt.Sprintf(`"%s-%d"`, hex.EncodeToString(s[:]), len(parts))
}

func TestS3MultipartUploadRoundTrip(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{})
	c := srv.Clients().S3
	mpBucket(t, c, "mp-bucket")
	id := mpCreate(t, c, "mp-bucket", "dir/big.bin", func(in *s3.CreateMultipartUploadInput) {
		in.ContentType = aws.String("application/x-test")
		in.Metadata = map[string]string{"color": "blue"}
	})
	p1, p2, p3 := patterned(5*mib, 1), patterned(5*mib, 2), patterned(1234, 3)
	// Part 2 is first uploaded with other bytes, then replaced.
	mpPart(t, c, "mp-bucket", "dir/big.bin", id, 2, patterned(5*mib, 9))
	parts := []types.CompletedPart{
		mpPart(t, c, "mp-bucket", "dir/big.bin", id, 1, p1),
		mpPart(t, c, "mp-bucket", "dir/big.bin", id, 2, p2),
		mpPart(t, c, "mp-bucket", "dir/big.bin", id, 3, p3),
	}
	out, err := mpComplete(t.Context(), c, "mp-bucket", "dir/big.bin", id, parts...)
	if err != nil {
		t.Fatal(err)
	}
	if want := multipartETag(p1, p2, p3); aws.ToString(out.ETag) != want {
		t.Fatalf("ETag = %s, want %s", aws.ToString(out.ETag), want)
	}
	got := mpGet(t, c, "mp-bucket", "dir/big.bin")
	if !bytes.Equal(got, append(append(append([]byte{}, p1...), p2...), p3...)) {
		t.Fatalf("object bytes differ from the parts (got %d bytes)", len(got))
	}
	head, err := c.HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: aws.String("mp-bucket"), Key: aws.String("dir/big.bin")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(head.ContentType) != "application/x-test" || head.Metadata["color"] != "blue" {
		t.Fatalf("head = %s %v", aws.ToString(head.ContentType), head.Metadata)
	}
	// The upload is gone once completed.
	_, err = c.ListParts(t.Context(), &s3.ListPartsInput{Bucket: aws.String("mp-bucket"), Key: aws.String("dir/big.bin"), UploadId: aws.String(id)})
	expectAPIError(t, err, "NoSuchUpload", 404)
}

func TestS3MultipartErrors(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{})
	c := srv.Clients().S3
	ctx := t.Context()
	mpBucket(t, c, "mp-errs")
	small := patterned(1000, 1)
	big := patterned(5*mib, 2)
	tests := []struct {
		name   string
		run    func(id string, parts []types.CompletedPart) error
		code   string
		status int
	}{
		{name: "part smaller than 5 MiB before the last is EntityTooSmall", code: "EntityTooSmall", status: 400,
			run: func(id string, parts []types.CompletedPart) error {
				_, err := mpComplete(ctx, c, "mp-errs", "k", id, parts[2], parts[3])
				return err
			}},
		{name: "unknown part number is InvalidPart", code: "InvalidPart", status: 400,
			run: func(id string, parts []types.CompletedPart) error {
				_, err := mpComplete(ctx, c, "mp-errs", "k", id, parts[0], types.CompletedPart{PartNumber: aws.Int32(9), ETag: parts[1].ETag})
				return err
			}},
		{name: "wrong ETag is InvalidPart", code: "InvalidPart", status: 400,
			run: func(id string, parts []types.CompletedPart) error {
				_, err := mpComplete(ctx, c, "mp-errs", "k", id, parts[0], types.CompletedPart{PartNumber: aws.Int32(2), ETag: aws.String(`"00000000000000000000000000000000"`)})
				return err
			}},
		{name: "parts out of order are InvalidPartOrder", code: "InvalidPartOrder", status: 400,
			run: func(id string, parts []types.CompletedPart) error {
				_, err := mpComplete(ctx, c, "mp-errs", "k", id, parts[1], parts[0])
				return err
			}},
		{name: "no parts is MalformedXML", code: "MalformedXML", status: 400,
			run: func(id string, parts []types.CompletedPart) error {
				_, err := mpComplete(ctx, c, "mp-errs", "k", id)
				return err
			}},
		{name: "unknown upload id is NoSuchUpload", code: "NoSuchUpload", status: 404,
			run: func(id string, parts []types.CompletedPart) error {
				_, err := mpComplete(ctx, c, "mp-errs", "k", "nope", parts[0])
				return err
			}},
		{name: "upload id of another key is NoSuchUpload", code: "NoSuchUpload", status: 404,
			run: func(id string, parts []types.CompletedPart) error {
				_, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("mp-errs"), Key: aws.String("other"),
					UploadId: aws.String(id), PartNumber: aws.Int32(1), Body: bytes.NewReader(small)})
				return err
			}},
		{name: "part number 10001 is InvalidArgument", code: "InvalidArgument", status: 400,
			run: func(id string, parts []types.CompletedPart) error {
				_, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("mp-errs"), Key: aws.String("k"),
					UploadId: aws.String(id), PartNumber: aws.Int32(10001), Body: bytes.NewReader(small)})
				return err
			}},
		{name: "wrong Content-MD5 is BadDigest", code: "BadDigest", status: 400,
			run: func(id string, parts []types.CompletedPart) error {
				_, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("mp-errs"), Key: aws.String("k"),
					UploadId: aws.String(id), PartNumber: aws.Int32(5), Body: bytes.NewReader(small),
					ContentMD5: aws.String("1B2M2Y8AsgTpgAmY7PhCfg==")})
				return err
			}},
		{name: "wrong CRC32 is BadDigest", code: "BadDigest", status: 400,
			run: func(id string, parts []types.CompletedPart) error {
				_, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("mp-errs"), Key: aws.String("k"),
					UploadId: aws.String(id), PartNumber: aws.Int32(5), Body: bytes.NewReader(small),
					ChecksumCRC32: aws.String("AAAAAA==")})
				return err
			}},
		{name: "missing bucket is NoSuchBucket", code: "NoSuchBucket", status: 404,
			run: func(id string, parts []types.CompletedPart) error {
				_, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("nobucket"), Key: aws.String("k")})
				return err
			}},
		{name: "abort of an unknown upload is NoSuchUpload", code: "NoSuchUpload", status: 404,
			run: func(id string, parts []types.CompletedPart) error {
				_, err := c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String("mp-errs"), Key: aws.String("k"), UploadId: aws.String("nope")})
				return err
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id := mpCreate(t, c, "mp-errs", "k")
			parts := []types.CompletedPart{
				mpPart(t, c, "mp-errs", "k", id, 1, big),
				mpPart(t, c, "mp-errs", "k", id, 2, big),
				mpPart(t, c, "mp-errs", "k", id, 3, small),
				mpPart(t, c, "mp-errs", "k", id, 4, small),
			}
			expectAPIError(t, tc.run(id, parts), tc.code, tc.status)
			// A failed complete changes nothing: the upload is still there and can complete.
			if _, err := mpComplete(ctx, c, "mp-errs", "k", id, parts[0], parts[1], parts[2]); err != nil {
				t.Fatalf("complete after the failure: %v", err)
			}
		})
	}
}

func TestS3MultipartAbortFreesTheUpload(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{})
	c := srv.Clients().S3
	mpBucket(t, c, "mp-abort")
	id := mpCreate(t, c, "mp-abort", "k")
	mpPart(t, c, "mp-abort", "k", id, 1, patterned(100<<10, 1))
	if _, err := c.AbortMultipartUpload(t.Context(), &s3.AbortMultipartUploadInput{Bucket: aws.String("mp-abort"), Key: aws.String("k"), UploadId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	_, err := c.UploadPart(t.Context(), &s3.UploadPartInput{Bucket: aws.String("mp-abort"), Key: aws.String("k"),
		UploadId: aws.String(id), PartNumber: aws.Int32(2), Body: strings.NewReader("x")})
	expectAPIError(t, err, "NoSuchUpload", 404)
	_, err = c.AbortMultipartUpload(t.Context(), &s3.AbortMultipartUploadInput{Bucket: aws.String("mp-abort"), Key: aws.String("k"), UploadId: aws.String(id)})
	expectAPIError(t, err, "NoSuchUpload", 404)
}

func TestS3ListPartsPaginates(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{})
	c := srv.Clients().S3
	mpBucket(t, c, "mp-parts")
	id := mpCreate(t, c, "mp-parts", "k")
	for n := int32(1); n <= 5; n++ {
		mpPart(t, c, "mp-parts", "k", id, n, patterned(int(n)*10, byte(n)))
	}
	var got []int32
	marker := (*string)(nil)
	for pages := 0; ; pages++ {
		in := &s3.ListPartsInput{Bucket: aws.String("mp-parts"), Key: aws.String("k"), UploadId: aws.String(id), MaxParts: aws.Int32(2), PartNumberMarker: marker}
		out, err := c.ListParts(t.Context(), in)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range out.Parts {
			got = append(got, aws.ToInt32(p.PartNumber))
			if aws.ToInt64(p.Size) != int64(aws.ToInt32(p.PartNumber))*10 {
				t.Fatalf("part %d size %d", aws.ToInt32(p.PartNumber), aws.ToInt64(p.Size))
			}
		}
		if !aws.ToBool(out.IsTruncated) {
			break
		}
		marker = out.NextPartNumberMarker
		if pages > 5 {
			t.Fatal("pagination does not end")
		}
	}
	if fmt.Sprint(got) != "[1 2 3 4 5]" {
		t.Fatalf("parts = %v", got)
	}
}

func TestS3ListMultipartUploads(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{})
	c := srv.Clients().S3
	mpBucket(t, c, "mp-uploads")
	ids := map[string]string{}
	for _, k := range []string{"a/1", "a/2", "b", "c/x/1", "d"} {
		ids[k] = mpCreate(t, c, "mp-uploads", k)
	}
	second := mpCreate(t, c, "mp-uploads", "b") // two uploads of one key

	t.Run("pages of two walk every upload in key order", func(t *testing.T) {
		var keys []string
		var km, im *string
		for range 10 {
			out, err := c.ListMultipartUploads(t.Context(), &s3.ListMultipartUploadsInput{Bucket: aws.String("mp-uploads"),
				MaxUploads: aws.Int32(2), KeyMarker: km, UploadIdMarker: im})
			if err != nil {
				t.Fatal(err)
			}
			for _, u := range out.Uploads {
				keys = append(keys, aws.ToString(u.Key))
			}
			if !aws.ToBool(out.IsTruncated) {
				break
			}
			km, im = out.NextKeyMarker, out.NextUploadIdMarker
		}
		if fmt.Sprint(keys) != "[a/1 a/2 b b c/x/1 d]" {
			t.Fatalf("keys = %v", keys)
		}
	})
	t.Run("delimiter rolls keys up into common prefixes", func(t *testing.T) {
		out, err := c.ListMultipartUploads(t.Context(), &s3.ListMultipartUploadsInput{Bucket: aws.String("mp-uploads"), Delimiter: aws.String("/")})
		if err != nil {
			t.Fatal(err)
		}
		var keys, prefixes []string
		for _, u := range out.Uploads {
			keys = append(keys, aws.ToString(u.Key))
		}
		for _, p := range out.CommonPrefixes {
			prefixes = append(prefixes, aws.ToString(p.Prefix))
		}
		if fmt.Sprint(keys) != "[b b d]" || fmt.Sprint(prefixes) != "[a/ c/]" {
			t.Fatalf("keys %v prefixes %v", keys, prefixes)
		}
	})
	t.Run("prefix selects keys", func(t *testing.T) {
		out, err := c.ListMultipartUploads(t.Context(), &s3.ListMultipartUploadsInput{Bucket: aws.String("mp-uploads"), Prefix: aws.String("a/")})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Uploads) != 2 || aws.ToString(out.Uploads[0].UploadId) != ids["a/1"] {
			t.Fatalf("uploads = %+v", out.Uploads)
		}
	})
	t.Run("upload id marker continues within a key", func(t *testing.T) {
		out, err := c.ListMultipartUploads(t.Context(), &s3.ListMultipartUploadsInput{Bucket: aws.String("mp-uploads"),
			KeyMarker: aws.String("b"), UploadIdMarker: aws.String(ids["b"])})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Uploads) == 0 || aws.ToString(out.Uploads[0].UploadId) != second {
			t.Fatalf("first upload after the marker = %+v, want %s", out.Uploads, second)
		}
	})
}

func TestS3UploadPartCopy(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{})
	c := srv.Clients().S3
	ctx := t.Context()
	mpBucket(t, c, "mp-copy")
	src := patterned(6*mib, 5)
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("mp-copy"), Key: aws.String("src"), Body: bytes.NewReader(src)}); err != nil {
		t.Fatal(err)
	}
	id := mpCreate(t, c, "mp-copy", "dst")
	cp1, err := c.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: aws.String("mp-copy"), Key: aws.String("dst"), UploadId: aws.String(id),
		PartNumber: aws.Int32(1), CopySource: aws.String("mp-copy/src")})
	if err != nil {
		t.Fatal(err)
	}
	cp2, err := c.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: aws.String("mp-copy"), Key: aws.String("dst"), UploadId: aws.String(id),
		PartNumber: aws.Int32(2), CopySource: aws.String("/mp-copy/src"), CopySourceRange: aws.String("bytes=10-109")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: aws.String("mp-copy"), Key: aws.String("dst"), UploadId: aws.String(id),
		PartNumber: aws.Int32(3), CopySource: aws.String("mp-copy/src"), CopySourceIfMatch: aws.String(`"nomatch"`)})
	expectAPIError(t, err, "PreconditionFailed", 412)
	_, err = c.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: aws.String("mp-copy"), Key: aws.String("dst"), UploadId: aws.String(id),
		PartNumber: aws.Int32(3), CopySource: aws.String("mp-copy/src"), CopySourceRange: aws.String(fmt.Sprintf("bytes=0-%d", len(src)))})
	expectAPIError(t, err, "InvalidArgument", 400)
	_, err = c.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: aws.String("mp-copy"), Key: aws.String("dst"), UploadId: aws.String(id),
		PartNumber: aws.Int32(3), CopySource: aws.String("mp-copy/missing")})
	expectAPIError(t, err, "NoSuchKey", 404)
	_, err = mpComplete(ctx, c, "mp-copy", "dst", id,
		types.CompletedPart{PartNumber: aws.Int32(1), ETag: cp1.CopyPartResult.ETag},
		types.CompletedPart{PartNumber: aws.Int32(2), ETag: cp2.CopyPartResult.ETag})
	if err != nil {
		t.Fatal(err)
	}
	want := append(append([]byte{}, src...), src[10:110]...)
	if got := mpGet(t, c, "mp-copy", "dst"); !bytes.Equal(got, want) {
		t.Fatalf("copied object differs (%d bytes, want %d)", len(got), len(want))
	}
}

func TestS3MultipartCompositeChecksum(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{})
	c := srv.Clients().S3
	mpBucket(t, c, "mp-cksum")
	id := mpCreate(t, c, "mp-cksum", "k", func(in *s3.CreateMultipartUploadInput) { in.ChecksumAlgorithm = types.ChecksumAlgorithmCrc32 })
	var parts []types.CompletedPart
	for n, data := range [][]byte{patterned(5*mib, 1), patterned(10, 2)} {
		out, err := c.UploadPart(t.Context(), &s3.UploadPartInput{Bucket: aws.String("mp-cksum"), Key: aws.String("k"), UploadId: aws.String(id),
			PartNumber: aws.Int32(int32(n + 1)), Body: bytes.NewReader(data), ChecksumAlgorithm: types.ChecksumAlgorithmCrc32})
		if err != nil {
			t.Fatal(err)
		}
		if out.ChecksumCRC32 == nil {
			t.Fatal("UploadPart returned no CRC32")
		}
		parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(int32(n + 1)), ETag: out.ETag, ChecksumCRC32: out.ChecksumCRC32})
	}
	out, err := mpComplete(t.Context(), c, "mp-cksum", "k", id, parts...)
	if err != nil {
		t.Fatal(err)
	}
	if sum := aws.ToString(out.ChecksumCRC32); !strings.HasSuffix(sum, "-2") {
		t.Fatalf("composite checksum = %q, want <base64>-2", sum)
	}
}

func TestS3MultipartSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	opts := kiritest.Options{DataDir: dir}
	p := kiritest.StartProcess(t, opts)
	c := p.Clients().S3
	mpBucket(t, c, "mp-durable")
	id := mpCreate(t, c, "mp-durable", "k")
	a, b := patterned(5*mib, 1), patterned(70<<10, 2)
	p1 := mpPart(t, c, "mp-durable", "k", id, 1, a)
	if err := p.Stop(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	p = kiritest.StartProcess(t, opts)
	c = p.Clients().S3
	p2 := mpPart(t, c, "mp-durable", "k", id, 2, b)
	if _, err := mpComplete(t.Context(), c, "mp-durable", "k", id, p1, p2); err != nil {
		t.Fatal(err)
	}
	p.Kill()
	p = kiritest.StartProcess(t, opts)
	c = p.Clients().S3
	if got := mpGet(t, c, "mp-durable", "k"); !bytes.Equal(got, append(append([]byte{}, a...), b...)) {
		t.Fatalf("object after restarts differs (%d bytes)", len(got))
	}
}
