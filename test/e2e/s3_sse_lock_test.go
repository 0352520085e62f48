package e2e

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// ssecKey is an SSE-C key as the SDK sends it: base64 key and base64 MD5 of the key.
func ssecKey(fill byte) (key, sum string) {
	raw := bytes.Repeat([]byte{fill}, 32)
	d := md5.Sum(raw)
	return base64.StdEncoding.EncodeToString(raw), base64.StdEncoding.EncodeToString(d[:])
}

func TestS3SSECustomerKey(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{})
	c := srv.Clients().S3
	ctx := t.Context()
	mustCreateBucket(t, c, "ssec")
	key, sum := ssecKey(1)
	other, otherSum := ssecKey(2)
	data := bytes.Repeat([]byte("0123456789abcdef-"), 12000) // > the inline limit: stored as a blob
	for _, tc := range []struct{ name, obj string }{{"a small object", "small"}, {"a blob object", "big"}} {
		t.Run(tc.name, func(t *testing.T) {
			body := data
			if tc.obj == "small" {
				body = data[:1000]
			}
			put, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("ssec"), Key: aws.String(tc.obj), Body: bytes.NewReader(body),
				SSECustomerAlgorithm: aws.String("AES256"), SSECustomerKey: aws.String(key), SSECustomerKeyMD5: aws.String(sum)})
			if err != nil {
				t.Fatal(err)
			}
			if aws.ToString(put.SSECustomerKeyMD5) != sum || aws.ToString(put.SSECustomerAlgorithm) != "AES256" {
				t.Fatalf("PutObject SSE-C echo: %q %q", aws.ToString(put.SSECustomerAlgorithm), aws.ToString(put.SSECustomerKeyMD5))
			}
			_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("ssec"), Key: aws.String(tc.obj)})
			expectAPIError(t, err, "InvalidRequest", http.StatusBadRequest)
			_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("ssec"), Key: aws.String(tc.obj),
				SSECustomerAlgorithm: aws.String("AES256"), SSECustomerKey: aws.String(other), SSECustomerKeyMD5: aws.String(otherSum)})
			expectAPIError(t, err, "InvalidRequest", http.StatusBadRequest)
			got, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("ssec"), Key: aws.String(tc.obj), Range: aws.String("bytes=7-900"),
				SSECustomerAlgorithm: aws.String("AES256"), SSECustomerKey: aws.String(key), SSECustomerKeyMD5: aws.String(sum)})
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(got.Body)
			got.Body.Close()
			if !bytes.Equal(b, body[7:901]) {
				t.Fatalf("range of SSE-C object differs")
			}
		})
	}
	t.Run("a copy decrypts the source and re-encrypts with the destination key", func(t *testing.T) {
		_, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("ssec"), Key: aws.String("copy"), CopySource: aws.String("ssec/big"),
			CopySourceSSECustomerAlgorithm: aws.String("AES256"), CopySourceSSECustomerKey: aws.String(key), CopySourceSSECustomerKeyMD5: aws.String(sum),
			SSECustomerAlgorithm: aws.String("AES256"), SSECustomerKey: aws.String(other), SSECustomerKeyMD5: aws.String(otherSum)})
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("ssec"), Key: aws.String("copy"),
			SSECustomerAlgorithm: aws.String("AES256"), SSECustomerKey: aws.String(other), SSECustomerKeyMD5: aws.String(otherSum)})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(got.Body)
		got.Body.Close()
		if !bytes.Equal(b, data) {
			t.Fatalf("copied SSE-C object differs")
		}
	})
	t.Run("a multipart upload encrypts each part under the upload key", func(t *testing.T) {
		up, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("ssec"), Key: aws.String("mp"),
			SSECustomerAlgorithm: aws.String("AES256"), SSECustomerKey: aws.String(key), SSECustomerKeyMD5: aws.String(sum)})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("ssec"), Key: aws.String("mp"), UploadId: up.UploadId, PartNumber: aws.Int32(1),
			Body: bytes.NewReader(data), SSECustomerAlgorithm: aws.String("AES256"), SSECustomerKey: aws.String(other), SSECustomerKeyMD5: aws.String(otherSum)})
		expectAPIError(t, err, "InvalidRequest", http.StatusBadRequest)
		part1 := bytes.Repeat([]byte("p"), 5<<20)
		var parts []s3types.CompletedPart
		for i, p := range [][]byte{part1, data} {
			res, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("ssec"), Key: aws.String("mp"), UploadId: up.UploadId, PartNumber: aws.Int32(int32(i + 1)),
				Body: bytes.NewReader(p), SSECustomerAlgorithm: aws.String("AES256"), SSECustomerKey: aws.String(key), SSECustomerKeyMD5: aws.String(sum)})
			if err != nil {
				t.Fatal(err)
			}
			parts = append(parts, s3types.CompletedPart{ETag: res.ETag, PartNumber: aws.Int32(int32(i + 1))})
		}
		if _, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("ssec"), Key: aws.String("mp"), UploadId: up.UploadId,
			MultipartUpload:      &s3types.CompletedMultipartUpload{Parts: parts},
			SSECustomerAlgorithm: aws.String("AES256"), SSECustomerKey: aws.String(key), SSECustomerKeyMD5: aws.String(sum)}); err != nil {
			t.Fatal(err)
		}
		whole := append(append([]byte{}, part1...), data...)
		start := int64(len(part1) - 100)
		got, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("ssec"), Key: aws.String("mp"), Range: aws.String(fmt.Sprintf("bytes=%d-%d", start, start+999)),
			SSECustomerAlgorithm: aws.String("AES256"), SSECustomerKey: aws.String(key), SSECustomerKeyMD5: aws.String(sum)})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(got.Body)
		got.Body.Close()
		if !bytes.Equal(b, whole[start:start+1000]) {
			t.Fatalf("range across SSE-C parts differs")
		}
	})
}

func TestS3SSEHeaders(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{})
	c := srv.Clients().S3
	ctx := t.Context()
	mustCreateBucket(t, c, "sse")
	put, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("sse"), Key: aws.String("plain"), Body: bytes.NewReader([]byte("x"))})
	if err != nil || put.ServerSideEncryption != s3types.ServerSideEncryptionAes256 {
		t.Fatalf("default encryption: %v %v", put.ServerSideEncryption, err)
	}
	put, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("sse"), Key: aws.String("kms"), Body: bytes.NewReader([]byte("x")),
		ServerSideEncryption: s3types.ServerSideEncryptionAwsKms})
	if err != nil || aws.ToString(put.SSEKMSKeyId) == "" {
		t.Fatalf("aws:kms without a key id: %v %v", put.SSEKMSKeyId, err)
	}
	head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("sse"), Key: aws.String("kms")})
	if err != nil || head.ServerSideEncryption != s3types.ServerSideEncryptionAwsKms || aws.ToString(head.SSEKMSKeyId) != aws.ToString(put.SSEKMSKeyId) {
		t.Fatalf("HeadObject of SSE-KMS object: %v %v %v", head.ServerSideEncryption, head.SSEKMSKeyId, err)
	}
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("sse"), Key: aws.String("bad"), Body: bytes.NewReader([]byte("x")),
		ServerSideEncryption: s3types.ServerSideEncryptionAes256, SSEKMSKeyId: aws.String("k")})
	expectAPIError(t, err, "InvalidArgument", http.StatusBadRequest)

	if _, err := c.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: aws.String("sse"),
		ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{Rules: []s3types.ServerSideEncryptionRule{{
			ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: s3types.ServerSideEncryptionAwsKms, KMSMasterKeyID: aws.String("my-key")},
			BucketKeyEnabled:                   aws.Bool(true)}}}}); err != nil {
		t.Fatal(err)
	}
	put, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("sse"), Key: aws.String("defaulted"), Body: bytes.NewReader([]byte("x"))})
	if err != nil || put.ServerSideEncryption != s3types.ServerSideEncryptionAwsKms || aws.ToString(put.SSEKMSKeyId) != "my-key" || !aws.ToBool(put.BucketKeyEnabled) {
		t.Fatalf("bucket default encryption: %v %v %v", put.ServerSideEncryption, put.SSEKMSKeyId, err)
	}
}

func TestS3ObjectLock(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{})
	c := srv.Clients().S3
	ctx := t.Context()
	mustCreateBucket(t, c, "unlocked")
	_, err := c.PutObjectLockConfiguration(ctx, &s3.PutObjectLockConfigurationInput{Bucket: aws.String("unlocked"),
		ObjectLockConfiguration: &s3types.ObjectLockConfiguration{ObjectLockEnabled: s3types.ObjectLockEnabledEnabled}})
	expectAPIError(t, err, "InvalidBucketState", http.StatusConflict)
	_, err = c.GetObjectLockConfiguration(ctx, &s3.GetObjectLockConfigurationInput{Bucket: aws.String("unlocked")})
	expectAPIError(t, err, "ObjectLockConfigurationNotFoundError", http.StatusNotFound)

	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("locked"), ObjectLockEnabledForBucket: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	_, err = c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String("locked"),
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusSuspended}})
	expectAPIError(t, err, "InvalidBucketState", http.StatusConflict)
	if _, err := c.PutObjectLockConfiguration(ctx, &s3.PutObjectLockConfigurationInput{Bucket: aws.String("locked"),
		ObjectLockConfiguration: &s3types.ObjectLockConfiguration{ObjectLockEnabled: s3types.ObjectLockEnabledEnabled,
			Rule: &s3types.ObjectLockRule{DefaultRetention: &s3types.DefaultRetention{Mode: s3types.ObjectLockRetentionModeGovernance, Days: aws.Int32(1)}}}}); err != nil {
		t.Fatal(err)
	}
	cfg, err := c.GetObjectLockConfiguration(ctx, &s3.GetObjectLockConfigurationInput{Bucket: aws.String("locked")})
	if err != nil || cfg.ObjectLockConfiguration.Rule == nil || aws.ToInt32(cfg.ObjectLockConfiguration.Rule.DefaultRetention.Days) != 1 {
		t.Fatalf("GetObjectLockConfiguration: %+v %v", cfg, err)
	}
	put, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("locked"), Key: aws.String("k"), Body: bytes.NewReader([]byte("x"))})
	if err != nil {
		t.Fatal(err)
	}
	head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("locked"), Key: aws.String("k")})
	if err != nil || head.ObjectLockMode != s3types.ObjectLockModeGovernance || head.ObjectLockRetainUntilDate == nil {
		t.Fatalf("default retention on HEAD: %v %v", head.ObjectLockMode, err)
	}
	t.Run("a version under governance retention needs the bypass to be deleted", func(t *testing.T) {
		_, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("locked"), Key: aws.String("k"), VersionId: put.VersionId})
		expectAPIError(t, err, "AccessDenied", http.StatusForbidden)
		later := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Second)
		if _, err := c.PutObjectRetention(ctx, &s3.PutObjectRetentionInput{Bucket: aws.String("locked"), Key: aws.String("k"),
			Retention: &s3types.ObjectLockRetention{Mode: s3types.ObjectLockRetentionModeGovernance, RetainUntilDate: &later}}); err != nil {
			t.Fatal(err)
		}
		r, err := c.GetObjectRetention(ctx, &s3.GetObjectRetentionInput{Bucket: aws.String("locked"), Key: aws.String("k")})
		if err != nil || !r.Retention.RetainUntilDate.Equal(later) {
			t.Fatalf("GetObjectRetention: %v %v", r, err)
		}
		sooner := later.Add(-time.Hour)
		_, err = c.PutObjectRetention(ctx, &s3.PutObjectRetentionInput{Bucket: aws.String("locked"), Key: aws.String("k"),
			Retention: &s3types.ObjectLockRetention{Mode: s3types.ObjectLockRetentionModeGovernance, RetainUntilDate: &sooner}})
		expectAPIError(t, err, "AccessDenied", http.StatusForbidden)
		if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("locked"), Key: aws.String("k"), VersionId: put.VersionId,
			BypassGovernanceRetention: aws.Bool(true)}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("a legal hold blocks deletion until it is off", func(t *testing.T) {
		put, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("locked"), Key: aws.String("held"), Body: bytes.NewReader([]byte("x")),
			ObjectLockLegalHoldStatus: s3types.ObjectLockLegalHoldStatusOn, ChecksumAlgorithm: s3types.ChecksumAlgorithmCrc32})
		if err != nil {
			t.Fatal(err)
		}
		hold, err := c.GetObjectLegalHold(ctx, &s3.GetObjectLegalHoldInput{Bucket: aws.String("locked"), Key: aws.String("held")})
		if err != nil || hold.LegalHold.Status != s3types.ObjectLockLegalHoldStatusOn {
			t.Fatalf("GetObjectLegalHold: %v %v", hold, err)
		}
		_, err = c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("locked"), Key: aws.String("held"), VersionId: put.VersionId,
			BypassGovernanceRetention: aws.Bool(true)})
		expectAPIError(t, err, "AccessDenied", http.StatusForbidden)
		if _, err := c.PutObjectLegalHold(ctx, &s3.PutObjectLegalHoldInput{Bucket: aws.String("locked"), Key: aws.String("held"),
			LegalHold: &s3types.ObjectLockLegalHold{Status: s3types.ObjectLockLegalHoldStatusOff}}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("locked"), Key: aws.String("held"), VersionId: put.VersionId,
			BypassGovernanceRetention: aws.Bool(true)}); err != nil {
			t.Fatal(err)
		}
	})
}
