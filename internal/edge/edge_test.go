package edge

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/kiri-run/kiri/internal/auth"
	"github.com/kiri-run/kiri/internal/awsproto"
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

func TestLocalName(t *testing.T) {
	cases := []struct {
		host, name string
		ok         bool
	}{
		{"localhost", "", true},
		{"LOCALHOST:4566", "", true},
		{"a.b.localhost", "a.b", true},
		{"localhost.localstack.cloud:4566", "", true},
		{"x.localhost.localstack.cloud", "x", true},
		{"notlocalhost", "", false},
		{"localhost.example.com", "", false},
		{"127.0.0.1:4566", "", false},
		{"[::1]:4566", "", false},
		{"", "", false},
	}
	for _, tc := range cases {
		name, ok := localName(tc.host)
		if name != tc.name || ok != tc.ok {
			t.Errorf("localName(%q) = %q, %v; want %q, %v", tc.host, name, ok, tc.name, tc.ok)
		}
	}
}

// listInput and listOutput are the slice of the S3 model this test needs.
type listInput struct {
	Bucket *string `aws:"Bucket"`
	Prefix *string `aws:"Prefix"`
}

type listOutput struct {
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
	awsproto.Handle(svc, "ListObjectsV2", func(ctx context.Context, in *listInput) (*listOutput, error) {
		return &listOutput{Name: in.Bucket, Prefix: in.Prefix}, nil
	})
	e := New(Config{
		Router:  awsproto.NewRouter(svc),
		Auth:    auth.New(auth.Config{Mode: auth.Dev}),
		Metrics: telemetry.NewMetrics(),
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
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
			client := s3.New(s3.Options{
				Region:       "us-east-1",
				Credentials:  credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
				BaseEndpoint: aws.String("http://" + endpoint + ":" + port),
				HTTPClient:   &http.Client{Transport: &http.Transport{DialContext: dial}},
			})
			out, err := client.ListObjectsV2(t.Context(), &s3.ListObjectsV2Input{Bucket: aws.String("photos"), Prefix: aws.String("cats/")})
			if err != nil {
				t.Fatal(err)
			}
			if aws.ToString(out.Name) != "photos" || aws.ToString(out.Prefix) != "cats/" {
				t.Fatalf("S3 saw bucket %q prefix %q", aws.ToString(out.Name), aws.ToString(out.Prefix))
			}
		})
	}
}

func TestKiriRoutes(t *testing.T) {
	e := New(Config{
		Router:  awsproto.NewRouter(),
		Auth:    auth.New(auth.Config{Mode: auth.Dev}),
		Metrics: telemetry.NewMetrics(),
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
		Version: "v9",
		Health:  func(context.Context) map[string]string { return map[string]string{"sts": "running"} },
	})
	cases := []struct {
		path, want string
		status     int
	}{
		{"/_kiri/health", `{"version":"v9","services":{"sts":"running"}}`, 200},
		{"/_kiri/metrics", "go_goroutines", 200},
		{"/_kiri/nothing", "404 page not found", 404},
		{"/some/path", "UnknownOperationException", 404},
	}
	for _, tc := range cases {
		t.Run(tc.path, func(t *testing.T) {
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "http://127.0.0.1:4566"+tc.path, nil))
			if rec.Code != tc.status || !strings.Contains(rec.Body.String(), tc.want) {
				t.Fatalf("%d %s, want %d containing %s", rec.Code, rec.Body.String(), tc.status, tc.want)
			}
		})
	}
}

// TestInterimContinue checks on the wire that every request asking for 100 Continue gets it
// before its final answer, whatever its body length and whoever serves it.
func TestInterimContinue(t *testing.T) {
	e := New(Config{
		Router:  awsproto.NewRouter(),
		Auth:    auth.New(auth.Config{Mode: auth.Dev}),
		Metrics: telemetry.NewMetrics(),
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	srv := httptest.NewServer(e)
	defer srv.Close()
	cases := []struct {
		name, request, final string
	}{
		{"empty upload", "PUT /bucket/key HTTP/1.1\r\nHost: localhost\r\nExpect: 100-continue\r\nContent-Length: 0\r\n\r\n", "HTTP/1.1 404"},
		{"upload with a body", "PUT /bucket/key HTTP/1.1\r\nHost: localhost\r\nExpect: 100-Continue\r\nContent-Length: 3\r\n\r\n", "HTTP/1.1 404"},
		{"kiri route", "POST /_kiri/health HTTP/1.1\r\nHost: localhost\r\nExpect: 100-continue\r\nContent-Length: 0\r\n\r\n", "HTTP/1.1 200"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			conn := sendRaw(t, srv, tc.request)
			br := bufio.NewReader(conn)
			line, err := br.ReadString('\n')
			if err != nil || line != "HTTP/1.1 100 Continue\r\n" {
				t.Fatalf("first line %q, %v; want the interim 100 Continue", line, err)
			}
			if blank, _ := br.ReadString('\n'); blank != "\r\n" {
				t.Fatalf("interim response continues with %q", blank)
			}
			if strings.Contains(tc.request, "Content-Length: 3") {
				io.WriteString(conn, "abc")
			}
			if line, _ = br.ReadString('\n'); !strings.HasPrefix(line, tc.final) {
				t.Fatalf("final status line %q, want %s", line, tc.final)
			}
		})
	}
}

// failingKeys is a temporary key store that cannot be read.
type failingKeys struct{}

func (failingKeys) LookupTemporaryKey(context.Context, string) (auth.Key, bool, error) {
	return auth.Key{}, false, errors.New("database is locked")
}

// TestInternalErrorsAreLogged checks that a 500 the client sees only as InternalFailure is
// logged once, at error level, with its request id and its cause.
func TestInternalErrorsAreLogged(t *testing.T) {
	svc, err := awsproto.NewService("sts", awsproto.ServiceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	type output struct {
		Account *string `aws:"Account"`
	}
	var fail func() error
	awsproto.Handle(svc, "GetCallerIdentity", func(ctx context.Context, in *struct{}) (*output, error) {
		return nil, fail()
	})
	cases := []struct {
		name  string
		fail  func() error
		authz string
		want  []string
	}{
		{"handler error", func() error { return fmt.Errorf("open table: %w", errors.New("disk on fire")) }, "",
			[]string{"open table: disk on fire"}},
		{"handler panic", func() error { panic("boom") }, "", []string{"handler panic: boom", "goroutine "}},
		{"temporary key store failure", nil,
			"AWS4-HMAC-SHA256 Credential=ASIAEXAMPLE/20240501/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=x",
			[]string{"temporary credentials could not be looked up: database is locked"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fail = tc.fail
			var logs bytes.Buffer
			e := New(Config{
				Router:  awsproto.NewRouter(svc),
				Auth:    auth.New(auth.Config{Mode: auth.Dev, Temporary: failingKeys{}}),
				Metrics: telemetry.NewMetrics(),
				Logger:  slog.New(slog.NewJSONHandler(&logs, nil)),
			})
			r := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:4566/", strings.NewReader("Action=GetCallerIdentity&Version=2011-06-15"))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tc.authz != "" {
				r.Header.Set("Authorization", tc.authz)
				r.Header.Set("X-Amz-Date", "20240501T120000Z")
			}
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, r)
			if rec.Code != http.StatusInternalServerError || strings.Contains(rec.Body.String(), "disk") {
				t.Fatalf("%d %s, want a 500 that keeps its cause", rec.Code, rec.Body.String())
			}
			var line struct {
				Level, Msg, Error string
				RequestID         string `json:"request_id"`
			}
			if n := strings.Count(logs.String(), "\n"); n != 1 {
				t.Fatalf("%d log lines, want 1:\n%s", n, logs.String())
			}
			if err := json.Unmarshal(logs.Bytes(), &line); err != nil {
				t.Fatal(err)
			}
			if line.Level != "ERROR" || line.Msg != "request" || line.RequestID != rec.Header().Get("X-Amzn-Requestid") || line.RequestID == "" {
				t.Fatalf("log line %+v, want the request at ERROR with id %s", line, rec.Header().Get("X-Amzn-Requestid"))
			}
			for _, w := range tc.want {
				if !strings.Contains(line.Error, w) {
					t.Errorf("logged error %q lacks %q", line.Error, w)
				}
			}
		})
	}
}

// sendRaw opens a connection to srv, sends request as it is and returns the connection, which
// the test's end closes.
func sendRaw(t *testing.T, srv *httptest.Server, request string) *net.TCPConn {
	t.Helper()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(conn, request); err != nil {
		t.Fatal(err)
	}
	return conn.(*net.TCPConn)
}
