package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// A part number makes GET and HEAD ranged reads: 206 with the part's Content-Range, and the
// part count for an object uploaded in parts. An object put whole is one part.
func TestS3ReadByPartNumberIsRanged(t *testing.T) {
	f := newObjectFixture(t)
	f.put(t, "whole", []byte("body"))
	id := mpCreate(t, f.c, f.bucket, "parts")
	first, last := patterned(5*mib, 1), []byte("tail")
	p1 := mpPart(t, f.c, f.bucket, "parts", id, 1, first)
	p2 := mpPart(t, f.c, f.bucket, "parts", id, 2, last)
	if _, err := mpComplete(t.Context(), f.c, f.bucket, "parts", id, p1, p2); err != nil {
		t.Fatal(err)
	}
	total := len(first) + len(last)
	cases := []struct {
		name, path, contentRange, partsCount string
		length                               int
	}{
		{"part 1 of an object put whole", "/objects/whole?partNumber=1", "bytes 0-3/4", "", 4},
		{"part 1 of a multipart object", "/objects/parts?partNumber=1", "bytes 0-5242879/" + strconv.Itoa(total), "2", len(first)},
		{"part 2 of a multipart object", "/objects/parts?partNumber=2", "bytes 5242880-5242883/" + strconv.Itoa(total), "2", len(last)},
	}
	for _, tc := range cases {
		for _, method := range []string{http.MethodGet, http.MethodHead} {
			t.Run(method+" "+tc.name, func(t *testing.T) {
				resp, body := f.raw(t, method, tc.path, nil, nil)
				if resp.StatusCode != http.StatusPartialContent {
					t.Fatalf("status %d, want 206", resp.StatusCode)
				}
				if got := resp.Header.Get("Content-Range"); got != tc.contentRange {
					t.Errorf("Content-Range %q, want %q", got, tc.contentRange)
				}
				if got := resp.Header.Get("x-amz-mp-parts-count"); got != tc.partsCount {
					t.Errorf("x-amz-mp-parts-count %q, want %q", got, tc.partsCount)
				}
				if resp.ContentLength != int64(tc.length) || method == http.MethodGet && len(body) != tc.length {
					t.Errorf("Content-Length %d, body %d bytes, want %d", resp.ContentLength, len(body), tc.length)
				}
			})
		}
	}
	out, _, err := f.get(t, &s3.GetObjectInput{Key: aws.String("whole"), PartNumber: aws.Int32(1)})
	if err != nil || aws.ToString(out.ContentRange) != "bytes 0-3/4" || out.PartsCount != nil {
		t.Fatalf("SDK GetObject part 1 = %+v, %v", out, err)
	}
	_, _, err = f.get(t, &s3.GetObjectInput{Key: aws.String("whole"), PartNumber: aws.Int32(2)})
	expectAPIError(t, err, "InvalidPartNumber", http.StatusRequestedRangeNotSatisfiable)
}

// A copy of an object onto itself that changes nothing is refused, except in a bucket that
// keeps versions, where it makes a new version (as S3 allows, e.g. to refresh an object).
func TestS3CopyOntoItselfInVersionedBucket(t *testing.T) {
	f := newObjectFixture(t)
	ctx := t.Context()
	put := f.put(t, "k", []byte("same bytes"))
	copySelf := func() (*s3.CopyObjectOutput, error) {
		return f.c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(f.bucket), Key: aws.String("k"), CopySource: aws.String(f.bucket + "/k")})
	}
	_, err := copySelf()
	expectAPIError(t, err, "InvalidRequest", http.StatusBadRequest)

	if _, err := f.c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(f.bucket),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	put = f.put(t, "k", []byte("same bytes"))
	out, err := copySelf()
	if err != nil {
		t.Fatalf("CopyObject onto itself in a versioned bucket: %v", err)
	}
	if aws.ToString(out.VersionId) == "" || aws.ToString(out.VersionId) == aws.ToString(put.VersionId) {
		t.Fatalf("copy made version %q, want a new one (the source is %q)", aws.ToString(out.VersionId), aws.ToString(put.VersionId))
	}
	versions, err := f.c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(f.bucket)})
	if err != nil || len(versions.Versions) != 3 {
		t.Fatalf("ListObjectVersions = %d versions, %v; want 3 (null, the put, the copy)", len(versions.Versions), err)
	}
	_, body, err := f.get(t, &s3.GetObjectInput{Key: aws.String("k")})
	if err != nil || string(body) != "same bytes" {
		t.Fatalf("GetObject after the copy = %q, %v", body, err)
	}
}

// S3 labels every response of its XML API as XML, bodiless ones included.
func TestS3ResponsesAreLabelledXML(t *testing.T) {
	f := newObjectFixture(t)
	cases := []struct{ name, method, path string }{
		{"HeadBucket", http.MethodHead, "/objects"},
		{"HeadBucket of a missing bucket", http.MethodHead, "/missing-bucket"},
		{"HeadObject of a missing key", http.MethodHead, "/objects/missing"},
		{"ListObjects", http.MethodGet, "/objects"},
		{"GetObject of a missing key", http.MethodGet, "/objects/missing"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, _ := f.raw(t, tc.method, tc.path, nil, nil)
			if got := resp.Header.Get("Content-Type"); got != "application/xml" {
				t.Fatalf("%s %s: Content-Type %q, want application/xml", tc.method, tc.path, got)
			}
		})
	}
}

// The refusals of object lock, of a lock configuration without a body and of too many tags
// carry S3's codes and messages.
func TestS3RefusalsCarryS3Messages(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{})
	c := srv.Clients().S3
	ctx := t.Context()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("vault"), ObjectLockEnabledForBucket: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	until := time.Now().Add(time.Hour)
	put, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("vault"), Key: aws.String("k"), Body: strings.NewReader("x"),
		ObjectLockMode: types.ObjectLockModeCompliance, ObjectLockRetainUntilDate: &until, ChecksumAlgorithm: types.ChecksumAlgorithmCrc32})
	if err != nil {
		t.Fatal(err)
	}
	locked := "Access Denied because object protected by object lock."
	_, err = c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("vault"), Key: aws.String("k"), VersionId: put.VersionId})
	wantS3Error(t, err, "AccessDenied", http.StatusForbidden, locked)
	sooner := time.Now().Add(time.Minute)
	_, err = c.PutObjectRetention(ctx, &s3.PutObjectRetentionInput{Bucket: aws.String("vault"), Key: aws.String("k"), VersionId: put.VersionId,
		Retention: &types.ObjectLockRetention{Mode: types.ObjectLockRetentionModeCompliance, RetainUntilDate: &sooner}, ChecksumAlgorithm: types.ChecksumAlgorithmCrc32})
	wantS3Error(t, err, "AccessDenied", http.StatusForbidden, locked)

	f := objectFixture{srv: srv, c: c, bucket: "vault"}
	resp, body := f.raw(t, http.MethodPut, "/vault?object-lock", nil, nil)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "<Code>MissingRequestBodyError</Code>") ||
		!strings.Contains(string(body), "<Message>Request Body is empty</Message>") {
		t.Fatalf("PutObjectLockConfiguration without a body: %d %s", resp.StatusCode, body)
	}

	var tags []types.Tag
	for _, k := range strings.Split("a b c d e f g h i j k", " ") {
		tags = append(tags, types.Tag{Key: aws.String(k), Value: aws.String("v")})
	}
	_, err = c.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: aws.String("vault"), Key: aws.String("k"),
		Tagging: &types.Tagging{TagSet: tags}, ChecksumAlgorithm: types.ChecksumAlgorithmCrc32})
	wantS3Error(t, err, "BadRequest", http.StatusBadRequest, "Object tags cannot be greater than 10")
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("vault"), Key: aws.String("t"), Body: strings.NewReader("x"),
		Tagging: aws.String("a=1&b=2&c=3&d=4&e=5&f=6&g=7&h=8&i=9&j=10&k=11"), ChecksumAlgorithm: types.ChecksumAlgorithmCrc32})
	wantS3Error(t, err, "BadRequest", http.StatusBadRequest, "Object tags cannot be greater than 10")
}

// wantS3Error checks an S3 error's code, HTTP status and exact message.
func wantS3Error(t *testing.T, err error, code string, status int, msg string) {
	t.Helper()
	expectAPIError(t, err, code, status)
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) && apiErr.ErrorMessage() != msg {
		t.Fatalf("message %q, want %q", apiErr.ErrorMessage(), msg)
	}
}

// S3 sends its s3:TestEvent to the queues and topics of a new configuration, never to a
// function: a function hears only of real events.
func TestS3TestEventNeverInvokesAFunction(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{})
	cl := srv.Clients()
	ctx := context.Background()
	mustCreateBucket(t, cl.S3, "heard")
	src := `export const handler = async (event) => { console.log("EVENT " + JSON.stringify(event)); return {}; };`
	fn := createTestFunction(t, cl.Lambda, "listener", kiritest.ZipSource(t, map[string]string{"index.mjs": src}), func(in *lambda.CreateFunctionInput) {
		in.Runtime, in.Handler = lambdatypes.RuntimeNodejs20x, aws.String("index.handler")
	})
	waitActive(t, cl.Lambda, "listener")
	if _, err := cl.Lambda.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: aws.String("listener"), StatementId: aws.String("s3"),
		Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("s3.amazonaws.com"), SourceArn: aws.String("arn:aws:s3:::heard")}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.S3.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{Bucket: aws.String("heard"),
		NotificationConfiguration: &types.NotificationConfiguration{LambdaFunctionConfigurations: []types.LambdaFunctionConfiguration{{
			LambdaFunctionArn: fn.FunctionArn, Events: []types.Event{"s3:ObjectCreated:*"}}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("heard"), Key: aws.String("after-config"), Body: strings.NewReader("x")}); err != nil {
		t.Fatal(err)
	}
	// The object's event is enqueued after anything the configuration caused, so once the
	// function has logged it, a test event would have been logged too.
	eventually(t, 30*time.Second, "the function logs the object's event", func() bool {
		return logLines(t, cl.Logs, "/aws/lambda/listener", "after-config") > 0
	})
	if n := logLines(t, cl.Logs, "/aws/lambda/listener", "s3:TestEvent"); n != 0 {
		t.Fatalf("the function was invoked with %d s3:TestEvent(s)", n)
	}
}

// A multipart copy made without naming a checksum algorithm (as managed copies of boto3 and
// the AWS CLI make it) gets S3's default: a full-object CRC64NVME, the same as its source's,
// with no "-<parts>" suffix.
func TestS3MultipartCopyHasFullObjectChecksum(t *testing.T) {
	f := newObjectFixture(t)
	ctx := t.Context()
	src := patterned(6*mib+123, 9)
	f.put(t, "src", src)
	id := mpCreate(t, f.c, f.bucket, "dst")
	var parts []types.CompletedPart
	for i, rng := range []string{"bytes=0-5242879", "bytes=5242880-" + strconv.Itoa(len(src)-1)} {
		out, err := f.c.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: aws.String(f.bucket), Key: aws.String("dst"), UploadId: aws.String(id),
			PartNumber: aws.Int32(int32(i + 1)), CopySource: aws.String(f.bucket + "/src"), CopySourceRange: aws.String(rng)})
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(int32(i + 1)), ETag: out.CopyPartResult.ETag})
	}
	done, err := mpComplete(ctx, f.c, f.bucket, "dst", id, parts...)
	if err != nil {
		t.Fatal(err)
	}
	head := func(key string) *s3.HeadObjectOutput {
		out, err := f.c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(f.bucket), Key: aws.String(key), ChecksumMode: types.ChecksumModeEnabled})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	want := aws.ToString(head("src").ChecksumCRC64NVME)
	got := head("dst")
	if want == "" || aws.ToString(got.ChecksumCRC64NVME) != want || got.ChecksumType != types.ChecksumTypeFullObject {
		t.Fatalf("copy's checksum %q (%s), want the source's full-object %q", aws.ToString(got.ChecksumCRC64NVME), got.ChecksumType, want)
	}
	if aws.ToString(done.ChecksumCRC64NVME) != want || done.ChecksumType != types.ChecksumTypeFullObject {
		t.Fatalf("CompleteMultipartUpload answered %q (%s), want %q (FULL_OBJECT)", aws.ToString(done.ChecksumCRC64NVME), done.ChecksumType, want)
	}
}

// Errors that name a header spell it as S3 does (Content-MD5, x-amz-content-sha256), not in
// Go's canonical form (Content-Md5, X-Amz-Content-Sha256).
func TestS3ErrorsNameHeadersAsS3Does(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{Strict: true})
	c := srv.Clients().S3
	ctx := t.Context()
	mustCreateBucket(t, c, "named")
	body := `<Delete><Object><Key>k</Key></Object></Delete>`
	hash := func(s string) string { sum := sha256.Sum256([]byte(s)); return hex.EncodeToString(sum[:]) }
	send := func(t *testing.T, method, path, payload string, headers map[string]string) string {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, method, srv.URL+path, strings.NewReader(payload))
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		creds, _ := srv.Clients().Config.Credentials.Retrieve(ctx)
		if err := v4.NewSigner().SignHTTP(ctx, creds, req, hash(payload), "s3", kiritest.Region, time.Now()); err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	for _, tc := range []struct {
		name, method, path, payload string
		headers                     map[string]string
		message                     string
	}{
		{"DeleteObjects without Content-MD5", http.MethodPost, "/named?delete", body,
			map[string]string{"x-amz-content-sha256": hash(body), "Content-Type": "application/xml"},
			"<Message>Missing required header for this request: Content-MD5</Message>"},
		{"a signed S3 request without x-amz-content-sha256", http.MethodGet, "/named", "", nil,
			"<Message>Missing required header for this request: x-amz-content-sha256</Message>"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := send(t, tc.method, tc.path, tc.payload, tc.headers); !strings.Contains(got, tc.message) {
				t.Fatalf("answer %s, want %s", got, tc.message)
			}
		})
	}
}

// CopyObject and UploadPartCopy name a failed source precondition the same way, in the
// lower case S3 gives its x-amz-* headers.
func TestS3CopyPreconditionsNameTheirHeader(t *testing.T) {
	f := newObjectFixture(t)
	f.put(t, "src", []byte("source"))
	id := mpCreate(t, f.c, f.bucket, "dst")
	hdr := map[string]string{"x-amz-copy-source": "objects/src", "x-amz-copy-source-if-match": `"nomatch"`}
	for _, path := range []string{"/objects/dst", "/objects/dst?partNumber=1&uploadId=" + id} {
		resp, body := f.raw(t, http.MethodPut, path, hdr, nil)
		if resp.StatusCode != http.StatusPreconditionFailed || !strings.Contains(string(body), "<Condition>x-amz-copy-source-if-match</Condition>") {
			t.Errorf("PUT %s: %d %s, want 412 naming x-amz-copy-source-if-match", path, resp.StatusCode, body)
		}
	}
}
