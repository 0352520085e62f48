package e2e

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// clientsAt returns clients for endpoint (a URL whose host names the server) that connect to
// srv whatever host they dial, as localhost.localstack.cloud resolves to loopback and this
// machine may resolve nothing.
func clientsAt(srv *kiritest.Server, endpoint string) aws.Config {
	cfg := srv.Clients().Config.Copy()
	addr := strings.TrimPrefix(srv.URL, "http://")
	cfg.BaseEndpoint = aws.String(endpoint)
	cfg.HTTPClient = &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		},
	}}
	return cfg
}

// TestLocalStackHostNames checks that clients set up for LocalStack work unchanged: the SDK
// pointed at http://localhost.localstack.cloud:PORT (what AWS_ENDPOINT_URL holds in LocalStack
// setups) or at its S3 endpoint s3.localhost.localstack.cloud uses virtual-hosted buckets.
func TestLocalStackHostNames(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{})
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	ctx := t.Context()
	for i, host := range []string{"localhost.localstack.cloud", "s3.localhost.localstack.cloud", "s3.us-east-1.localhost.localstack.cloud"} {
		t.Run(host, func(t *testing.T) {
			cfg := clientsAt(srv, "http://"+host+":"+port)
			c := s3.NewFromConfig(cfg) // virtual-hosted, the SDK's default for host names
			bucket := []string{"ls-root", "ls-s3", "ls-region"}[i]
			if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
				t.Fatal(err)
			}
			if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("dir/a.txt"),
				Body: strings.NewReader("hi")}); err != nil {
				t.Fatal(err)
			}
			out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("dir/a.txt")})
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(out.Body)
			out.Body.Close()
			if string(body) != "hi" {
				t.Fatalf("GetObject = %q", body)
			}
			// The bucket is one seen path-style too.
			if _, err := srv.Clients().S3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(bucket)}); err != nil {
				t.Fatalf("bucket created through %s is not there: %v", host, err)
			}
		})
	}
	t.Run("other services on the LocalStack endpoint", func(t *testing.T) {
		cfg := clientsAt(srv, "http://localhost.localstack.cloud:"+port)
		if _, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
			t.Fatal(err)
		}
		if _, err := lambda.NewFromConfig(cfg).ListFunctions(ctx, &lambda.ListFunctionsInput{}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("signed non-S3 request on a bucket-like host keeps its path", func(t *testing.T) {
		cfg := clientsAt(srv, "http://lambda.localhost:"+port)
		if _, err := lambda.NewFromConfig(cfg).ListFunctions(ctx, &lambda.ListFunctionsInput{}); err != nil {
			t.Fatal(err)
		}
	})
}
