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

	"github.com/kiri-run/kiri/internal/auth"
	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/telemetry"
)

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
