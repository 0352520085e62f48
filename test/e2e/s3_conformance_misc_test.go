package e2e

import (
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

func TestS3MultipartCompleteTwiceAnswersAgain(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{})
	c := srv.Clients().S3
	ctx := t.Context()
	mpBucket(t, c, "mp-again")
	id := mpCreate(t, c, "mp-again", "k")
	p := mpPart(t, c, "mp-again", "k", id, 1, []byte("only part"))
	first, err := mpComplete(ctx, c, "mp-again", "k", id, p)
	if err != nil {
		t.Fatal(err)
	}
	again, err := mpComplete(ctx, c, "mp-again", "k", id, p)
	if err != nil {
		t.Fatalf("second CompleteMultipartUpload: %v", err)
	}
	if aws.ToString(again.ETag) != aws.ToString(first.ETag) {
		t.Fatalf("ETag %s, first %s", aws.ToString(again.ETag), aws.ToString(first.ETag))
	}
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("mp-again"), Key: aws.String("k")}); err != nil {
		t.Fatal(err)
	}
	_, err = mpComplete(ctx, c, "mp-again", "k", id, p)
	expectAPIError(t, err, "NoSuchUpload", http.StatusNotFound)
}

func TestS3ExpectedBucketOwner(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{})
	c := srv.Clients().S3
	ctx := t.Context()
	mustCreateBucket(t, c, "owned")
	if _, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("owned"), ExpectedBucketOwner: aws.String("000000000000")}); err != nil {
		t.Fatalf("matching expected owner: %v", err)
	}
	_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("owned"), Key: aws.String("k"),
		Body: strings.NewReader("x"), ExpectedBucketOwner: aws.String("123456789012")})
	expectAPIError(t, err, "AccessDenied", http.StatusForbidden)
}

func TestS3ListObjectVersionsAfterTheMarkerWasDeleted(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{})
	c := srv.Clients().S3
	ctx := t.Context()
	mustCreateBucket(t, c, "drain")
	if _, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String("drain"),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"a", "a", "b", "c"} {
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("drain"), Key: aws.String(k), Body: strings.NewReader(k)}); err != nil {
			t.Fatal(err)
		}
	}
	// Empty the bucket page by page, deleting each page before asking for the next, as
	// clients that drain a bucket do.
	in := &s3.ListObjectVersionsInput{Bucket: aws.String("drain"), MaxKeys: aws.Int32(1)}
	deleted := 0
	for {
		page, err := c.ListObjectVersions(ctx, in)
		if err != nil {
			t.Fatalf("ListObjectVersions after %d deletions: %v", deleted, err)
		}
		for _, v := range page.Versions {
			if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("drain"), Key: v.Key, VersionId: v.VersionId}); err != nil {
				t.Fatal(err)
			}
			deleted++
		}
		if !aws.ToBool(page.IsTruncated) {
			break
		}
		in.KeyMarker, in.VersionIdMarker = page.NextKeyMarker, page.NextVersionIdMarker
	}
	if deleted != 4 {
		t.Fatalf("deleted %d versions, want 4", deleted)
	}
}

func TestS3CORSRequestMethodMatching(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{})
	c := srv.Clients().S3
	ctx := t.Context()
	mustCreateBucket(t, c, "cors-m")
	if _, err := c.PutBucketCors(ctx, &s3.PutBucketCorsInput{Bucket: aws.String("cors-m"), CORSConfiguration: &types.CORSConfiguration{
		CORSRules: []types.CORSRule{{AllowedMethods: []string{"GET"}, AllowedOrigins: []string{"*.example"}}}}}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, method, origin, requestMethod string
		status                              int
		allowOrigin                         string
	}{
		{"OPTIONS without an Origin is a bad request", http.MethodOptions, "", "", 400, ""},
		{"actual request is matched on Access-Control-Request-Method", http.MethodPut, "a.example", "GET", 0, "a.example"},
		{"actual request without it is matched on its method", http.MethodPut, "a.example", "", 0, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, srv.URL+"/cors-m/obj", nil)
			if tc.origin != "" {
				req.Header.Set("Origin", tc.origin)
			}
			if tc.requestMethod != "" {
				req.Header.Set("Access-Control-Request-Method", tc.requestMethod)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if tc.status != 0 && resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if got := resp.Header.Get("Access-Control-Allow-Origin"); got != tc.allowOrigin {
				t.Fatalf("Access-Control-Allow-Origin %q, want %q", got, tc.allowOrigin)
			}
		})
	}
}

func TestS3LifecycleExpirationHeader(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{})
	c := srv.Clients().S3
	ctx := t.Context()
	mustCreateBucket(t, c, "expiring")
	if _, err := c.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{Bucket: aws.String("expiring"),
		LifecycleConfiguration: &types.BucketLifecycleConfiguration{Rules: []types.LifecycleRule{{ID: aws.String("tmp-rule"),
			Status: types.ExpirationStatusEnabled, Filter: &types.LifecycleRuleFilter{Prefix: aws.String("tmp/")},
			Expiration: &types.LifecycleExpiration{Days: aws.Int32(2)}}}}}); err != nil {
		t.Fatal(err)
	}
	put, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("expiring"), Key: aws.String("tmp/a"), Body: strings.NewReader("x")})
	if err != nil {
		t.Fatal(err)
	}
	exp := aws.ToString(put.Expiration)
	if !strings.HasPrefix(exp, `expiry-date="`) || !strings.HasSuffix(exp, `GMT", rule-id="tmp-rule"`) {
		t.Fatalf("PutObject x-amz-expiration %q", exp)
	}
	head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("expiring"), Key: aws.String("tmp/a")})
	if err != nil || aws.ToString(head.Expiration) != exp {
		t.Fatalf("HeadObject x-amz-expiration %q, %v; want %q", aws.ToString(head.Expiration), err, exp)
	}
	other, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("expiring"), Key: aws.String("keep/a"), Body: strings.NewReader("x")})
	if err != nil || other.Expiration != nil {
		t.Fatalf("object outside the rule: expiration %q, %v", aws.ToString(other.Expiration), err)
	}
}

func TestS3MultipartCompleteChecksumClaim(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{})
	c := srv.Clients().S3
	ctx := t.Context()
	mpBucket(t, c, "mp-claim")
	id := mpCreate(t, c, "mp-claim", "k", func(in *s3.CreateMultipartUploadInput) { in.ChecksumAlgorithm = types.ChecksumAlgorithmCrc32 })
	p := mpPart(t, c, "mp-claim", "k", id, 1, []byte("part one"))
	complete := func(claim string) (*s3.CompleteMultipartUploadOutput, error) {
		return c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("mp-claim"), Key: aws.String("k"),
			UploadId: aws.String(id), ChecksumCRC32: aws.String(claim), MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{p}}})
	}
	_, err := complete("AAAAAA==-1")
	expectAPIError(t, err, "BadDigest", http.StatusBadRequest)
	ok, err := mpComplete(ctx, c, "mp-claim", "k", id, p)
	if err != nil {
		t.Fatalf("complete without a claim: %v", err)
	}
	if _, err := complete(aws.ToString(ok.ChecksumCRC32)); err != nil {
		t.Fatalf("repeated complete with the right claim: %v", err)
	}
}
