package s3

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	s3sdk "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/kiri-run/kiri/internal/auth"
	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/edge"
	"github.com/kiri-run/kiri/internal/telemetry"
)

func TestVirtualHostedBucket(t *testing.T) {
	cases := []struct {
		host, bucket string
		ok           bool
	}{
		{"photos.localhost:4566", "photos", true},
		{"photos.localhost", "photos", true},
		{"photos.s3.localhost:4566", "photos", true},
		{"my.dotted.bucket.localhost:4566", "my.dotted.bucket", true},
		{"Photos.LOCALHOST:4566", "photos", true},
		{"localhost:4566", "", false},
		{"s3.localhost:4566", "", false},
		{"127.0.0.1:4566", "", false},
		{"abc123.lambda-url.us-east-1.localhost:4566", "", false},
		{"api1.execute-api.localhost:4566", "", false},
		{"example.com", "", false},
		{"photos.s3.eu-west-1.localhost:4566", "photos", true},
		{"s3.eu-west-1.localhost", "", false},
		{"my.s3.bucket.localhost", "my.s3.bucket", true},
		{"photos.localhost.", "photos", true},
		// LocalStack's names.
		{"photos.localhost.localstack.cloud:4566", "photos", true},
		{"photos.s3.localhost.localstack.cloud:4566", "photos", true},
		{"photos.s3.us-gov-west-1.localhost.localstack.cloud", "photos", true},
		{"my.dotted.bucket.s3.localhost.localstack.cloud", "my.dotted.bucket", true},
		{"localhost.localstack.cloud:4566", "", false},
		{"s3.localhost.localstack.cloud:4566", "", false},
		{"s3.ap-southeast-2.localhost.localstack.cloud:4566", "", false},
		{"abc123.lambda-url.us-east-1.localhost.localstack.cloud:4566", "", false},
		{"api1.execute-api.localhost.localstack.cloud:4566", "", false},
		{"localstack.cloud", "", false},
		{"photos.localstack.cloud", "", false},
		{"evil-localhost.localstack.cloud", "", false},
	}
	for _, tc := range cases {
		t.Run(tc.host, func(t *testing.T) {
			bucket, ok := virtualHostedBucket(tc.host)
			if bucket != tc.bucket || ok != tc.ok {
				t.Fatalf("= %q, %v; want %q, %v", bucket, ok, tc.bucket, tc.ok)
			}
		})
	}
}

// vhListInput and vhListOutput are the slice of the S3 model this test needs.
type vhListInput struct {
	Bucket *string `aws:"Bucket"`
	Prefix *string `aws:"Prefix"`
}

type vhListOutput struct {
	Name   *string `aws:"Name"`
	Prefix *string `aws:"Prefix"`
}

// TestVirtualHostedRequestsReachS3 drives a stub S3 operation with the SDK in
// virtual-hosted style, the form it uses for host names, through the edge.
func TestVirtualHostedRequestsReachS3(t *testing.T) {
	svc, err := awsproto.NewService("s3", awsproto.ServiceOptions{
		XMLRootNames: map[string]string{"ListObjectsV2": "ListBucketResult"},
	})
	if err != nil {
		t.Fatal(err)
	}
	awsproto.Handle(svc, "ListObjectsV2", func(ctx context.Context, in *vhListInput) (*vhListOutput, error) {
		return &vhListOutput{Name: in.Bucket, Prefix: in.Prefix}, nil
	})
	e := edge.New(edge.Config{
		Router:    awsproto.NewRouter(svc),
		Auth:      auth.New(auth.Config{Mode: auth.Dev}),
		Metrics:   telemetry.NewMetrics(),
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		Frontends: map[string]edge.Frontend{"s3": {Rewrite: rewriteVirtualHost}},
	})
	srv := httptest.NewServer(e)
	defer srv.Close()
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	// Send every host name to the test server, as *.localhost resolves to loopback.
	dial := func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, srv.Listener.Addr().String())
	}
	// Kiri's own names, and LocalStack's: an SDK pointed at any of these endpoints puts the
	// bucket in the host name.
	for _, endpoint := range []string{"localhost", "s3.localhost", "localhost.localstack.cloud", "s3.localhost.localstack.cloud"} {
		t.Run(endpoint, func(t *testing.T) {
			client := s3sdk.New(s3sdk.Options{
				Region:       "us-east-1",
				Credentials:  credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
				BaseEndpoint: aws.String("http://" + endpoint + ":" + port),
				HTTPClient:   &http.Client{Transport: &http.Transport{DialContext: dial}},
			})
			out, err := client.ListObjectsV2(t.Context(), &s3sdk.ListObjectsV2Input{Bucket: aws.String("photos"), Prefix: aws.String("cats/")})
			if err != nil {
				t.Fatal(err)
			}
			if aws.ToString(out.Name) != "photos" || aws.ToString(out.Prefix) != "cats/" {
				t.Fatalf("S3 saw bucket %q prefix %q", aws.ToString(out.Name), aws.ToString(out.Prefix))
			}
		})
	}
}
