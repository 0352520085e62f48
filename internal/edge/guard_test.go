package edge

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/kiri-run/kiri/internal/auth"
	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/telemetry"
)

func TestGuardLocalHosts(t *testing.T) {
	g := newGuard(auth.Dev, []string{"myapp.test", "*.dev.test", " .corp.test ", "Upper.Test:8080"})
	cases := []struct {
		host  string
		local bool
	}{
		{"127.0.0.1:4566", true},
		{"127.1.2.3", true},
		{"[::1]:4566", true},
		{"localhost:4566", true},
		{"LocalHost", true},
		{"photos.localhost", true},
		{"localhost.localstack.cloud:4566", true},
		{"x.s3.localhost.localstack.cloud", true},
		{"myapp.test:3000", true},
		{"dev.test", true},
		{"a.b.dev.test", true},
		{"corp.test", true},
		{"upper.test", true},
		{"0.0.0.0:4566", false},
		{"192.168.1.20:4566", false},
		{"evil.example", false},
		{"localhost.evil.example", false},
		{"notmyapp.test", false},
		{"evildev.test", false},
		{"localstack.cloud", false},
	}
	for _, tc := range cases {
		if got := g.local(tc.host); got != tc.local {
			t.Errorf("local(%q) = %v, want %v", tc.host, got, tc.local)
		}
	}
	if !newGuard(auth.Dev, []string{"*"}).local("anything.example") {
		t.Error(`"*" does not allow every host`)
	}
}

func TestGuardForeignSite(t *testing.T) {
	g := newGuard(auth.Dev, nil)
	cases := []struct {
		name        string
		header      map[string]string
		wantOrigin  string
		wantForeign bool
	}{
		{"no browser headers", nil, "", false},
		{"local page", map[string]string{"Origin": "http://localhost:3000"}, "", false},
		{"loopback page", map[string]string{"Origin": "http://127.0.0.1:5173"}, "", false},
		{"page under .localhost", map[string]string{"Origin": "https://app.localhost"}, "", false},
		{"foreign page", map[string]string{"Origin": "https://evil.example"}, "https://evil.example", true},
		{"opaque origin", map[string]string{"Origin": "null"}, "null", true},
		{"same-origin fetch without Origin", map[string]string{"Sec-Fetch-Site": "same-origin"}, "", false},
		{"typed into the address bar", map[string]string{"Sec-Fetch-Site": "none"}, "", false},
		{"cross-site image from a local page", map[string]string{"Sec-Fetch-Site": "cross-site", "Referer": "http://localhost:3000/app"}, "", false},
		{"cross-site image from a foreign page", map[string]string{"Sec-Fetch-Site": "cross-site", "Referer": "https://evil.example/page?q=1"},
			"https://evil.example", true},
		{"cross-site request without a Referer", map[string]string{"Sec-Fetch-Site": "cross-site"}, "", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "http://127.0.0.1:4566/b/k", nil)
			for k, v := range tc.header {
				r.Header.Set(k, v)
			}
			origin, foreign := g.foreignSite(r)
			if origin != tc.wantOrigin || foreign != tc.wantForeign {
				t.Fatalf("foreignSite = %q, %v; want %q, %v", origin, foreign, tc.wantOrigin, tc.wantForeign)
			}
		})
	}
	r := httptest.NewRequest(http.MethodGet, "http://127.0.0.1:4566/b/k", nil)
	r.Header.Set("Origin", "https://evil.example")
	if _, foreign := newGuard(auth.Strict, nil).foreignSite(r); foreign {
		t.Error("strict mode checks origins")
	}
}

// s3Stub is a frontend like S3's: buckets under localhost hosts, preflights, and CORS rules that
// admit one origin for every bucket.
func s3Stub(origin string) Frontend {
	cors := func(r *http.Request) http.Header {
		if r.Header.Get("Origin") != origin {
			return nil
		}
		return http.Header{"Access-Control-Allow-Origin": {origin}}
	}
	return Frontend{
		Rewrite: func(r *http.Request, _ *auth.Signature) {
			if name, ok := LocalName(r.Host); ok && name != "" {
				r.URL.Path = "/" + name + r.URL.Path
			}
		},
		CORS: cors,
		Routes: []Route{{
			Service: "s3", Operation: "PreflightRequest",
			Match:  func(r *http.Request) (*http.Request, bool) { return r, r.Method == http.MethodOptions },
			Serve:  func(w http.ResponseWriter, _ *http.Request, _ *auth.Authenticator) { w.WriteHeader(http.StatusOK) },
			Admits: func(*http.Request, string) bool { return true },
		}},
	}
}

// TestDevModeServesOnlyLocalPages drives the edge with requests a browser could send on
// behalf of a page, and checks which reach the services.
func TestDevModeServesOnlyLocalPages(t *testing.T) {
	s3svc, err := awsproto.NewService("s3", awsproto.ServiceOptions{
		XMLRootNames: map[string]string{"ListObjectsV2": "ListBucketResult"},
	})
	if err != nil {
		t.Fatal(err)
	}
	awsproto.Handle(s3svc, "ListObjectsV2", func(ctx context.Context, in *listInput) (*listOutput, error) {
		return &listOutput{Name: in.Bucket}, nil
	})
	stsSvc, err := awsproto.NewService("sts", awsproto.ServiceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	type callerOutput struct {
		Account *string `aws:"Account"`
	}
	awsproto.Handle(stsSvc, "GetCallerIdentity", func(ctx context.Context, in *struct{}) (*callerOutput, error) {
		return &callerOutput{Account: awsproto.Ptr("000000000000")}, nil
	})
	newEdge := func(mode auth.Mode) *Edge {
		return New(Config{
			Router:       awsproto.NewRouter(stsSvc, s3svc),
			Auth:         auth.New(auth.Config{Mode: mode}),
			Metrics:      telemetry.NewMetrics(),
			Logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
			Frontends:    map[string]Frontend{"s3": s3Stub("https://shop.example")},
			AllowedHosts: []string{"myapp.test"},
		})
	}
	const listBucket = "/photos?list-type=2"
	const stsQuery = "/?Action=GetCallerIdentity&Version=2011-06-15"
	cases := []struct {
		name, host, target string
		header             map[string]string
		mode               auth.Mode
		status             int
		want               string
	}{
		{"loopback host", "127.0.0.1:4566", listBucket, nil, auth.Dev, 200, "<Name>photos</Name>"},
		{"virtual host under localhost", "photos.localhost:4566", "/?list-type=2", nil, auth.Dev, 200, "<Name>photos</Name>"},
		{"allowed host", "myapp.test:4566", listBucket, nil, auth.Dev, 200, "<Name>photos</Name>"},
		{"rebound host name", "attacker.example:4566", listBucket, nil, auth.Dev, 403,
			`<Code>AccessDenied</Code><Message>Kiri in dev mode accepts unsigned requests, so it serves only loopback addresses`},
		{"rebound host name names the flag", "attacker.example:4566", stsQuery, nil, auth.Dev, 403,
			`start Kiri with --allowed-hosts attacker.example (or KIRI_ALLOWED_HOSTS=attacker.example).`},
		{"rebound host name for Kiri's routes", "attacker.example:4566", "/_kiri/health", nil, auth.Dev, 403, `"__type":"AccessDeniedException"`},
		{"page on localhost", "127.0.0.1:4566", listBucket, map[string]string{"Origin": "http://localhost:3000"}, auth.Dev, 200, "<Name>photos</Name>"},
		{"page on an allowed host", "127.0.0.1:4566", listBucket, map[string]string{"Origin": "http://myapp.test:3000"}, auth.Dev, 200, "<Name>photos</Name>"},
		{"foreign page", "127.0.0.1:4566", listBucket, map[string]string{"Origin": "https://evil.example"}, auth.Dev, 403,
			`it refused a request from origin &quot;https://evil.example&quot;`},
		{"foreign page the bucket's CORS admits", "127.0.0.1:4566", listBucket, map[string]string{"Origin": "https://shop.example"}, auth.Dev, 200,
			"<Name>photos</Name>"},
		{"foreign page on another service", "127.0.0.1:4566", stsQuery, map[string]string{"Origin": "https://shop.example"}, auth.Dev, 403,
			"<Code>AccessDenied</Code>"},
		{"foreign page for Kiri's routes", "127.0.0.1:4566", "/_kiri/health", map[string]string{"Origin": "https://evil.example"}, auth.Dev, 403,
			`"__type":"AccessDeniedException"`},
		{"cross-site image of a foreign page", "127.0.0.1:4566", listBucket,
			map[string]string{"Sec-Fetch-Site": "cross-site", "Referer": "https://evil.example/"}, auth.Dev, 403, "<Code>AccessDenied</Code>"},
		{"cross-site image of a page the bucket's CORS admits", "127.0.0.1:4566", listBucket,
			map[string]string{"Sec-Fetch-Site": "cross-site", "Referer": "https://shop.example/cart"}, auth.Dev, 200, "<Name>photos</Name>"},
		{"preflight goes to the bucket's CORS rules", "127.0.0.1:4566", "/photos/k",
			map[string]string{"Origin": "https://evil.example", "Access-Control-Request-Method": "PUT"}, auth.Dev, 200, ""},
		{"strict mode leaves hosts to signatures", "attacker.example:4566", stsQuery, nil, auth.Strict, 403, "MissingAuthenticationToken"},
		{"strict mode leaves origins to signatures", "127.0.0.1:4566", listBucket, map[string]string{"Origin": "https://evil.example"}, auth.Strict, 200,
			"<Name>photos</Name>"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			method := http.MethodGet
			if tc.header["Access-Control-Request-Method"] != "" {
				method = http.MethodOptions
			}
			r := httptest.NewRequest(method, tc.target, nil)
			r.Host = tc.host
			for k, v := range tc.header {
				r.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			newEdge(tc.mode).ServeHTTP(rec, r)
			if rec.Code != tc.status || !strings.Contains(rec.Body.String(), tc.want) {
				t.Fatalf("%d %s\nwant %d containing %s", rec.Code, rec.Body.String(), tc.status, tc.want)
			}
		})
	}
}
