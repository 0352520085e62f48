package lambda

import (
	"net/http/httptest"
	"testing"
)

func TestFunctionURL(t *testing.T) {
	const id = "abcdefghijklmnopqrstuvwxyz012345"
	tests := []struct {
		name, host, target string
		wantID, wantPath   string
		ok                 bool
	}{
		{"host form", id + ".lambda-url.us-east-1.localhost:4566", "/a/b?x=1", id, "/a/b", true},
		{"host form is case-insensitive", "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345.lambda-url.eu-west-1.localhost", "/", id, "/", true},
		{"LocalStack host form", id + ".lambda-url.us-east-1.localhost.localstack.cloud:4566", "/a", id, "/a", true},
		{"host form needs a region", id + ".lambda-url.localhost", "/a", "", "/a", false},
		{"host form needs a local root", id + ".lambda-url.us-east-1.example.com", "/a", "", "/a", false},
		{"path form strips the prefix", "127.0.0.1:4566", "/_kiri/lambda-url/" + id + "/items/7", id, "/items/7", true},
		{"path form root", "127.0.0.1:4566", "/_kiri/lambda-url/" + id, id, "/", true},
		{"short id is not a URL", "abc.lambda-url.us-east-1.localhost", "/", "", "/", false},
		{"bucket host is not a URL", "photos.localhost", "/", "", "/", false},
		{"other kiri routes are not URLs", "127.0.0.1", "/_kiri/health", "", "/_kiri/health", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", tc.target, nil)
			r.Host = tc.host
			id, ok := functionURL(r)
			if ok != tc.ok || id != tc.wantID || r.URL.Path != tc.wantPath {
				t.Errorf("functionURL = %q, %v, path %q; want %q, %v, path %q", id, ok, r.URL.Path, tc.wantID, tc.ok, tc.wantPath)
			}
		})
	}
}
