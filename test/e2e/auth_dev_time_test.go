package e2e

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// devPresignScript presigns a GET, as a developer's script against dev mode would, with each
// signature version (SigV2 "s3", SigV4 "s3v4") and each expiry given, one URL a line.
const devPresignScript = `
import sys, boto3
from botocore.config import Config
endpoint, bucket, key = sys.argv[1:4]
for version in ("s3", "s3v4"):
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                      aws_access_key_id="test", aws_secret_access_key="test",
                      config=Config(signature_version=version, s3={"addressing_style": "path"}))
    for expires in sys.argv[4:]:
        print(s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=int(expires)))
`

// TestDevModePresignedURLsExpire checks that dev mode, which checks no signature, still lets
// boto3's presigned URLs (SigV2 and SigV4) expire, with S3's AccessDenied.
func TestDevModePresignedURLsExpire(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{})
	c := srv.Clients().S3
	if _, err := c.CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: aws.String("expiry")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String("expiry"), Key: aws.String("note.txt"),
		Body: strings.NewReader("hello")}); err != nil {
		t.Fatal(err)
	}
	type presigned struct {
		name, short, long string
	}
	var urls []presigned
	for _, b := range boto3Clients(t) {
		lines := strings.Fields(b.run(t, devPresignScript, srv.URL, "expiry", "note.txt", "1", "300"))
		if len(lines) != 4 || !strings.Contains(lines[0], "AWSAccessKeyId=") || !strings.Contains(lines[2], "X-Amz-Algorithm=") {
			t.Fatalf("boto3 %s presigned %q, want two SigV2 and two SigV4 URLs", b.Version, lines)
		}
		urls = append(urls, presigned{name: "boto3 " + b.Version + " SigV2", short: lines[0], long: lines[1]},
			presigned{name: "boto3 " + b.Version + " SigV4", short: lines[2], long: lines[3]})
	}
	time.Sleep(2100 * time.Millisecond) // the one-second URLs expire
	get := func(t *testing.T, url string) (int, string) {
		t.Helper()
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	for _, u := range urls {
		t.Run(u.name, func(t *testing.T) {
			if status, body := get(t, u.long); status != http.StatusOK || body != "hello" {
				t.Errorf("unexpired URL: %d %s", status, body)
			}
			status, body := get(t, u.short)
			if status != http.StatusForbidden || !strings.Contains(body, "<Code>AccessDenied</Code>") ||
				!strings.Contains(body, "<Message>Request has expired</Message>") {
				t.Errorf("expired URL: %d %s, want 403 AccessDenied Request has expired", status, body)
			}
		})
	}
}

// skewedSigner signs as a client whose clock is off by skew.
type skewedSigner struct {
	skew time.Duration
}

func (s skewedSigner) SignHTTP(ctx context.Context, creds aws.Credentials, r *http.Request, payloadHash, service, region string,
	at time.Time, optFns ...func(*v4.SignerOptions)) error {
	return v4.NewSigner().SignHTTP(ctx, creds, r, payloadHash, service, region, at.Add(s.skew), optFns...)
}

func (s skewedSigner) PresignHTTP(ctx context.Context, creds aws.Credentials, r *http.Request, payloadHash, service, region string,
	at time.Time, optFns ...func(*v4.SignerOptions)) (string, http.Header, error) {
	return v4.NewSigner().PresignHTTP(ctx, creds, r, payloadHash, service, region, at.Add(s.skew), optFns...)
}

// TestDevModeRefusesSkewedClocks checks that dev mode holds aws-sdk-go-v2 clients whose clock
// is off by more than 15 minutes to the same errors strict mode does.
func TestDevModeRefusesSkewedClocks(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{})
	clients := srv.Clients()
	ctx := t.Context()
	if _, err := clients.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("skew")}); err != nil {
		t.Fatal(err)
	}
	for _, skew := range []time.Duration{-20 * time.Minute, 20 * time.Minute} {
		t.Run("clock off by "+skew.String(), func(t *testing.T) {
			s3c := s3.NewFromConfig(clients.Config, func(o *s3.Options) {
				o.UsePathStyle = true
				o.HTTPSignerV4 = skewedSigner{skew}
			})
			_, err := s3c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("skew")})
			expectAPIError(t, err, "RequestTimeTooSkewed", http.StatusForbidden)

			stsc := sts.NewFromConfig(clients.Config, func(o *sts.Options) { o.HTTPSignerV4 = skewedSigner{skew} })
			_, err = stsc.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			expectAPIError(t, err, "SignatureDoesNotMatch", http.StatusForbidden)
		})
	}
	t.Run("clock off by a minute still works", func(t *testing.T) {
		s3c := s3.NewFromConfig(clients.Config, func(o *s3.Options) {
			o.UsePathStyle = true
			o.HTTPSignerV4 = skewedSigner{-time.Minute}
		})
		if _, err := s3c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("skew")}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("SDK presigned URL past its expiry", func(t *testing.T) {
		p := s3.NewPresignClient(clients.S3, func(o *s3.PresignOptions) {
			o.Presigner = skewedSigner{-2 * time.Minute}
			o.Expires = time.Minute
		})
		req, err := p.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("skew"), Key: aws.String("k")})
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.Get(req.URL)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "<Message>Request has expired</Message>") ||
			!strings.Contains(string(body), "<X-Amz-Expires>60</X-Amz-Expires>") {
			t.Fatalf("%d %s, want 403 AccessDenied Request has expired", resp.StatusCode, body)
		}
	})
}
