package apigateway

import (
	"net/http/httptest"
	"strings"
	"testing"
)

func TestMapParameter(t *testing.T) {
	t.Parallel()
	r := httptest.NewRequest("POST", "/orders/7?q=a&q=b", strings.NewReader(""))
	r.Header.Add("X-Tag", "one")
	p := &proxyRequest{r: r, body: []byte(`{"name":"ink","item":{"n":3}}`), requestID: "rid",
		match: &routeMatch{params: map[string]string{"id": "7"}}, d: &deployedAPI{}}
	for v, want := range map[string]string{
		"static":                 "static",
		"$request.body":          `{"name":"ink","item":{"n":3}}`,
		"$request.body.name":     "ink",
		"$request.body.item":     `{"n":3}`,
		"$request.body.item.n":   "3",
		"$request.body.missing":  "",
		"$request.header.x-tag":  "one",
		"$request.querystring.q": "a,b",
		"$request.path.id":       "7",
		"$context.requestId":     "rid",
	} {
		if got := (&mappingInput{req: p}).eval(v, false); got != want {
			t.Errorf("eval(%q) = %q, want %q", v, got, want)
		}
	}
	for v, want := range map[string]bool{"$request.body": true, "$request.body.a": true, "$request.header.x": true,
		"$request.header.": false, "$request.nothing": false, "$context.requestId": true, "$response.body": false, "${request.path": false} {
		if _, err := parseMappingValue(v, false); (err == nil) != want {
			t.Errorf("parseMappingValue(%q) = %v", v, err)
		}
	}
}
