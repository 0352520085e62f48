package apigateway

import (
	"net/http"
	"testing"
)

func TestIntegrationURL(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		uri    string
		params map[string]string
		query  string
		want   string
	}{
		{"https://example.com/api/{proxy}", map[string]string{"proxy": "pets/7"}, "q=1", "https://example.com/api/pets/7?q=1"},
		{"https://example.com/pets/{id}?a=b", map[string]string{"id": "3"}, "c=d", "https://example.com/pets/3?a=b&c=d"},
		{"http://example.com", nil, "", "http://example.com"},
	} {
		u, err := integrationURL(c.uri, c.params, c.query)
		if err != nil || u.String() != c.want {
			t.Errorf("integrationURL(%q, %v, %q) = %v, %v, want %s", c.uri, c.params, c.query, u, err, c.want)
		}
	}
}

func TestDropHopByHop(t *testing.T) {
	t.Parallel()
	h := http.Header{"Connection": {"close, X-Private"}, "X-Private": {"1"}, "Keep-Alive": {"5"}, "Te": {"trailers"}, "X-Kept": {"1"}}
	dropHopByHop(h)
	if len(h) != 1 || h.Get("X-Kept") != "1" {
		t.Errorf("headers left = %v", h)
	}
}
