package apigateway

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/service/servicetest"
)

// instantFunction answers every invoke at once, so a benchmark sees API Gateway's own work.
type instantFunction struct{ api *awsproto.Service }

func (f *instantFunction) API() *awsproto.Service { return f.api }

func (f *instantFunction) InvokeForService(context.Context, string, string, string, string, []byte) ([]byte, string, error) {
	return []byte(`{"statusCode":200,"headers":{"content-type":"text/plain"},"body":"ok"}`), "", nil
}

// BenchmarkHTTPAPIRequest measures what an HTTP API adds to a function's invoke: finding the
// API, stage, deployment and route, building the payload 2.0 event and reading the answer.
func BenchmarkHTTPAPIRequest(b *testing.B) {
	d := servicetest.Deps(b)
	fake, err := awsproto.NewService("lambda", awsproto.ServiceOptions{})
	if err != nil {
		b.Fatal(err)
	}
	d.Services.Add(&instantFunction{api: fake})
	s, err := New(context.Background(), d)
	if err != nil {
		b.Fatal(err)
	}
	ctx := awsproto.WithCall(context.Background(), &awsproto.Call{AccountID: "000000000000", Region: "us-east-1"})
	api, err := s.createApi(ctx, &CreateApiRequest{Name: awsproto.Ptr("bench"), ProtocolType: awsproto.Ptr("HTTP"),
		Target: awsproto.Ptr("arn:aws:lambda:us-east-1:000000000000:function:noop")})
	if err != nil {
		b.Fatal(err)
	}
	id := awsproto.Value(api.ApiId)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r := httptest.NewRequest(http.MethodGet, "http://127.0.0.1:4566/pets/7?sort=asc", nil)
			r.Header.Set("User-Agent", "bench")
			w := httptest.NewRecorder()
			s.serveInvoke(w, r, id)
			if w.Code != http.StatusOK {
				b.Fatalf("status %d: %s", w.Code, w.Body)
			}
		}
	})
}
