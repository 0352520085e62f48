package awsproto_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/kiri-run/kiri/internal/awsproto"
)

// signingName returns the service of a SigV4 Authorization header's credential scope.
func signingName(auth string) string {
	_, cred, ok := strings.Cut(auth, "Credential=")
	if !ok {
		return ""
	}
	cred, _, _ = strings.Cut(cred, ",")
	parts := strings.Split(cred, "/")
	if len(parts) < 5 {
		return ""
	}
	return parts[3]
}

// edge is a minimal stand-in for internal/edge: resolve, then serve.
func edge(r *awsproto.Router) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		rt, err := r.Resolve(req, signingName(req.Header.Get("Authorization")))
		if err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		rt.Serve(w, req, &awsproto.Call{RequestID: "req-0001", AccountID: "000000000000", ResponseHeader: http.Header{}})
	})
}

func newServer(t *testing.T, svcs ...*awsproto.Service) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(edge(awsproto.NewRouter(svcs...)))
	t.Cleanup(srv.Close)
	return srv
}

func mustService(t testing.TB, name string, opts awsproto.ServiceOptions) *awsproto.Service {
	t.Helper()
	s, err := awsproto.NewService(name, opts)
	if err != nil {
		t.Fatalf("NewService(%q): %v", name, err)
	}
	return s
}

func sdkConfig() aws.Config {
	return aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		Retryer:     func() aws.Retryer { return aws.NopRetryer{} },
	}
}
