package e2e

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

func TestS3StreamingDefaultSDKPutObjectWithCRC32Trailer(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{Strict: true})
	c := srv.Clients().S3
	mpBucket(t, c, "stream-put")
	data := patterned(200<<10, 4)
	// Over plain HTTP the SDK sends STREAMING-UNSIGNED-PAYLOAD-TRAILER with a CRC32 trailer.
	out, err := c.PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String("stream-put"), Key: aws.String("k"),
		Body: bytes.NewReader(data), ChecksumAlgorithm: types.ChecksumAlgorithmCrc32})
	if err != nil {
		t.Fatal(err)
	}
	if out.ChecksumCRC32 == nil {
		t.Fatal("PutObject returned no CRC32")
	}
	if got := mpGet(t, c, "stream-put", "k"); !bytes.Equal(got, data) {
		t.Fatalf("object differs (%d bytes)", len(got))
	}
}

func TestS3StreamingUploadPartWithCRC32Trailer(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{Strict: true})
	c := srv.Clients().S3
	mpBucket(t, c, "stream-part")
	id := mpCreate(t, c, "stream-part", "k")
	data := patterned(100<<10, 6)
	out, err := c.UploadPart(t.Context(), &s3.UploadPartInput{Bucket: aws.String("stream-part"), Key: aws.String("k"),
		UploadId: aws.String(id), PartNumber: aws.Int32(1), Body: bytes.NewReader(data), ChecksumAlgorithm: types.ChecksumAlgorithmCrc32})
	if err != nil {
		t.Fatal(err)
	}
	if out.ChecksumCRC32 == nil {
		t.Fatal("UploadPart returned no CRC32")
	}
	if _, err := mpComplete(t.Context(), c, "stream-part", "k", id, types.CompletedPart{PartNumber: aws.Int32(1), ETag: out.ETag}); err != nil {
		t.Fatal(err)
	}
	if got := mpGet(t, c, "stream-part", "k"); !bytes.Equal(got, data) {
		t.Fatalf("object differs (%d bytes)", len(got))
	}
}

// signedChunkRequest builds a PUT whose body is aws-chunked with SigV4 chunk signatures
// (STREAMING-AWS4-HMAC-SHA256-PAYLOAD), signed with the strict-mode test key. tamper, when
// set, changes one byte of the given chunk after it was signed.
func signedChunkRequest(t *testing.T, target string, chunks [][]byte, tamper int) *http.Request {
	t.Helper()
	creds := aws.Credentials{AccessKeyID: kiritest.TestAccessKey, SecretAccessKey: kiritest.TestSecretKey}
	decoded := 0
	for _, c := range chunks {
		decoded += len(c)
	}
	now := time.Now().UTC()
	sigs := make([]string, len(chunks)+1)
	// The encoded length depends only on the chunk sizes and the fixed signature length.
	encodedLen := 0
	for _, c := range append(chunks, nil) {
		encodedLen += len(strconv.FormatInt(int64(len(c)), 16)) + len(";chunk-signature=") + 64 + 2 + len(c) + 2
	}
	r, err := http.NewRequest(http.MethodPut, target, nil)
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Content-Encoding", "aws-chunked")
	r.Header.Set("X-Amz-Decoded-Content-Length", strconv.Itoa(decoded))
	r.Header.Set("X-Amz-Content-Sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
	r.ContentLength = int64(encodedLen)
	if err := v4.NewSigner().SignHTTP(t.Context(), creds, r, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", "s3", kiritest.Region, now); err != nil {
		t.Fatal(err)
	}
	authz := r.Header.Get("Authorization")
	seedHex := authz[strings.LastIndex(authz, "Signature=")+len("Signature="):]
	seed, _ := hex.DecodeString(seedHex)
	ss := v4.NewStreamSigner(creds, "s3", kiritest.Region, seed)
	var body bytes.Buffer
	for i, c := range append(chunks, nil) {
		sig, err := ss.GetSignature(context.Background(), nil, c, now)
		if err != nil {
			t.Fatal(err)
		}
		sigs[i] = hex.EncodeToString(sig)
		if i == tamper && len(c) > 0 {
			c = append([]byte{}, c...)
			c[0] ^= 0xff
		}
		fmt.Fprintf(&body, "%x;chunk-signature=%s\r\n", len(c), sigs[i])
		body.Write(c)
		body.WriteString("\r\n")
	}
	if body.Len() != encodedLen {
		t.Fatalf("encoded %d bytes, computed %d", body.Len(), encodedLen)
	}
	r.Body = io.NopCloser(&body)
	return r
}

func TestS3StreamingSignedChunks(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{Strict: true})
	c := srv.Clients().S3
	mpBucket(t, c, "stream-signed")
	id := mpCreate(t, c, "stream-signed", "k")
	chunks := [][]byte{patterned(64<<10, 1), patterned(64<<10, 2), patterned(100, 3)}
	partURL := srv.URL + "/stream-signed/k?partNumber=1&uploadId=" + url.QueryEscape(id)
	tests := []struct {
		name   string
		target string
		tamper int
		status int
	}{
		{name: "tampered chunk is refused", target: partURL, tamper: 1, status: 403},
		{name: "signed chunks upload a part", target: partURL, tamper: -1, status: 200},
		{name: "signed chunks put an object", target: srv.URL + "/stream-signed/whole", tamper: -1, status: 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := http.DefaultClient.Do(signedChunkRequest(t, tc.target, chunks, tc.tamper))
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d (%s), want %d", resp.StatusCode, b, tc.status)
			}
			if tc.status == 403 && !bytes.Contains(b, []byte("SignatureDoesNotMatch")) {
				t.Fatalf("body %s, want SignatureDoesNotMatch", b)
			}
		})
	}
	parts, err := c.ListParts(t.Context(), &s3.ListPartsInput{Bucket: aws.String("stream-signed"), Key: aws.String("k"), UploadId: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	want := int64(64<<10*2 + 100)
	if len(parts.Parts) != 1 || aws.ToInt64(parts.Parts[0].Size) != want {
		t.Fatalf("parts = %+v, want one of %d bytes", parts.Parts, want)
	}
	if got := mpGet(t, c, "stream-signed", "whole"); !bytes.Equal(got, bytes.Join(chunks, nil)) {
		t.Fatalf("object differs (%d bytes)", len(got))
	}
}

func TestS3PresignClientSigV4(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{Strict: true})
	c := srv.Clients().S3
	mpBucket(t, c, "presign-v4")
	pc := s3.NewPresignClient(c)
	put, err := pc.PresignPutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String("presign-v4"), Key: aws.String("k")})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPut, put.URL, strings.NewReader("presigned body"))
	if resp := doStatus(t, req); resp != 200 {
		t.Fatalf("presigned PUT status %d", resp)
	}
	get, err := pc.PresignGetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String("presign-v4"), Key: aws.String("k")})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(get.URL)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != "presigned body" {
		t.Fatalf("presigned GET = %d %q", resp.StatusCode, b)
	}
}

func doStatus(t *testing.T, r *http.Request) int {
	t.Helper()
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// presignV2 builds a SigV2 query-string URL as boto3 does.
func presignV2(base, method, bucketKey string, expires int64, secret string) string {
	sts := fmt.Sprintf("%s\n\n\n%d\n/%s", method, expires, bucketKey)
	mac := hmac.New(sha1.New, []byte(secret))
	mac.Write([]byte(sts))
	sig := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	return fmt.Sprintf("%s/%s?AWSAccessKeyId=%s&Expires=%d&Signature=%s", base, bucketKey, kiritest.TestAccessKey, expires, url.QueryEscape(sig))
}

func TestS3PresignedSigV2(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{Strict: true})
	c := srv.Clients().S3
	mpBucket(t, c, "presign-v2")
	exp := time.Now().Add(time.Hour).Unix()
	put, _ := http.NewRequest(http.MethodPut, presignV2(srv.URL, "PUT", "presign-v2/k", exp, kiritest.TestSecretKey), strings.NewReader("v2 body"))
	if s := doStatus(t, put); s != 200 {
		t.Fatalf("SigV2 presigned PUT status %d", s)
	}
	if got := mpGet(t, c, "presign-v2", "k"); string(got) != "v2 body" {
		t.Fatalf("object = %q", got)
	}
	tests := []struct {
		name   string
		url    string
		status int
	}{
		{name: "valid GET succeeds", url: presignV2(srv.URL, "GET", "presign-v2/k", exp, kiritest.TestSecretKey), status: 200},
		{name: "expired URL is refused", url: presignV2(srv.URL, "GET", "presign-v2/k", time.Now().Add(-time.Minute).Unix(), kiritest.TestSecretKey), status: 403},
		{name: "wrong secret is refused", url: presignV2(srv.URL, "GET", "presign-v2/k", exp, "wrong"), status: 403},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, tc.url, nil)
			if s := doStatus(t, req); s != tc.status {
				t.Fatalf("status %d, want %d", s, tc.status)
			}
		})
	}
}

// TestS3PresignedByAWSCLI uses `aws s3 presign`, which makes SigV2 URLs against a custom endpoint.
func TestS3PresignedByAWSCLI(t *testing.T) {
	t.Parallel()
	const cli = "/usr/bin/aws"
	if _, err := os.Stat(cli); err != nil {
		t.Skip("AWS CLI not installed at /usr/bin/aws")
	}
	srv := kiritest.Start(t, kiritest.Options{Strict: true})
	c := srv.Clients().S3
	mpBucket(t, c, "presign-cli")
	if _, err := c.PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String("presign-cli"), Key: aws.String("dir/a b.txt"),
		Body: strings.NewReader("from the cli")}); err != nil {
		t.Fatal(err)
	}
	presign := func(expires string) string {
		cmd := exec.Command(cli, "s3", "presign", "s3://presign-cli/dir/a b.txt", "--endpoint-url", srv.URL, "--expires-in", expires)
		cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID="+kiritest.TestAccessKey, "AWS_SECRET_ACCESS_KEY="+kiritest.TestSecretKey,
			"AWS_DEFAULT_REGION=us-east-1", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("aws s3 presign: %v: %s", err, out)
		}
		return strings.TrimSpace(string(out))
	}
	u := presign("300")
	t.Logf("presigned URL: %s", u)
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != "from the cli" {
		t.Fatalf("GET presigned = %d %s", resp.StatusCode, b)
	}
	expired := presign("1")
	time.Sleep(2100 * time.Millisecond)
	resp, err = http.Get(expired)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 403 || !bytes.Contains(b, []byte("Request has expired")) {
		t.Fatalf("expired presigned GET = %d %s", resp.StatusCode, b)
	}
}
