package apigateway

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/kiri-run/kiri/internal/awsproto"
)

func TestParseMappingKey(t *testing.T) {
	t.Parallel()
	for key, ok := range map[string]bool{
		"append:header.X-Tenant": true, "overwrite:querystring.q": true, "remove:header.x": true, "overwrite:path": true,
		"append:path": false, "remove:path": false, "overwrite:statuscode": false, "copy:header.x": false, "header.x": false,
		"overwrite:header.": false, "overwrite:header.Content-Length": false, "append:header.X-Amzn-Trace-Id": false,
		"overwrite:header.access-control-allow-origin": false, "overwrite:header.Apigw-Requestid": false, "overwrite:header.Host": true,
	} {
		if _, err := parseMappingKey(key, false); (err == nil) != ok {
			t.Errorf("request key %q: %v", key, err)
		}
	}
	for key, ok := range map[string]bool{"overwrite:statuscode": true, "append:statuscode": false, "overwrite:path": false,
		"overwrite:querystring.q": false, "append:header.X-Api": true, "remove:header.via": false} {
		if _, err := parseMappingKey(key, true); (err == nil) != ok {
			t.Errorf("response key %q: %v", key, err)
		}
	}
}

func TestMappingValues(t *testing.T) {
	t.Parallel()
	r := httptest.NewRequest("POST", "/dev/orders/7?q=a&q=b", nil)
	r.Header.Add("X-Tag", "one")
	r.Header.Add("X-Tag", "two")
	p := &proxyRequest{r: r, requestID: "rid", body: []byte(`{"a":{"list":[{"n":1},{"n":"two"}],"odd key":true}}`),
		match: &routeMatch{params: map[string]string{"id": "7"}},
		d:     &deployedAPI{apiID: "api1", path: "/orders/7", stage: Stage{StageName: awsproto.Ptr("dev"), StageVariables: map[string]string{"env": "test"}}},
		auth:  &authContext{lambda: map[string]any{"tier": "gold", "n": 3.0}, principalID: "p1"}}
	in := &mappingInput{req: p, respHeader: http.Header{"X-Up": {"u"}}, respBody: []byte(`{"e":{"code":"E1"}}`)}
	for v, want := range map[string]string{
		"static":                                      "static",
		"$request.header.x-tag":                       "one,two",
		"${request.querystring.q}":                    "a,b",
		"$request.path":                               "/orders/7",
		"$request.path.id":                            "7",
		"$request.body.a.list[1].n":                   "two",
		"$request.body.a.list[0]":                     `{"n":1}`,
		"${request.body.a['odd key']}":                "true",
		"$request.body.a.list[5].n":                   "",
		"$request.body.nothing.deeper":                "",
		"$stageVariables.env":                         "test",
		"$context.requestId":                          "rid",
		"$context.authorizer.tier":                    "gold",
		"$context.authorizer.n":                       "3",
		"$context.authorizer.principalId":             "p1",
		"id-${request.path.id}/${stageVariables.env}": "id-7/test",
		"$request.path.id/items":                      "7/items",
		"cost: $5":                                    "cost: $5",
	} {
		if got := in.eval(v, false); got != want {
			t.Errorf("eval(%q) = %q, want %q", v, got, want)
		}
	}
	for v, want := range map[string]string{"$response.header.x-up": "u", "$response.body.e.code": "E1", "${response.body.e}": `{"code":"E1"}`} {
		if got := in.eval(v, true); got != want {
			t.Errorf("eval response (%q) = %q, want %q", v, got, want)
		}
	}
	if got := jsonPath([]byte(`{"a":"`+strings.Repeat("x", maxMappedBody)+`"}`), "a"); got != "" {
		t.Errorf("a JSON path read past 100 KB: %d bytes", len(got))
	}
}

func TestMapRequestAndResponse(t *testing.T) {
	t.Parallel()
	r := httptest.NewRequest("GET", "/dev/items/7?keep=1&drop=2", nil)
	r.Header.Set("X-Old", "v")
	r.Header.Set("X-Over", "before")
	p := &proxyRequest{r: r, match: &routeMatch{params: map[string]string{"id": "7"}}, d: &deployedAPI{path: "/items/7"}}
	s := &Service{}
	out, path := s.mapRequest(p, nil, map[string]string{
		"append:header.X-New": "$request.header.X-Old", "remove:header.X-Old": "''", "overwrite:header.X-Over": "after",
		"remove:querystring.drop": "''", "append:querystring.keep": "3", "overwrite:path": "v2/$request.path.id",
	})
	if path != "/v2/7" || out.URL.Path != "/v2/7" || out.Header.Get("X-New") != "v" || out.Header.Get("X-Old") != "" ||
		out.Header.Get("X-Over") != "after" || out.URL.RawQuery != "keep=1&keep=3" {
		t.Errorf("mapped request: path %q %q headers %v query %q", path, out.URL.Path, out.Header, out.URL.RawQuery)
	}
	if r.Header.Get("X-Old") != "v" || r.URL.RawQuery != "keep=1&drop=2" {
		t.Error("mapping changed the client's request")
	}
	params := map[string]map[string]string{"500": {"overwrite:statuscode": "503", "append:header.X-Why": "$response.body.why", "remove:header.X-Debug": "''"}}
	h := http.Header{"X-Debug": {"d"}}
	if got := s.mapResponse(p, nil, params, 500, h, []byte(`{"why":"db"}`)); got != 503 || h.Get("X-Why") != "db" || h.Get("X-Debug") != "" {
		t.Errorf("mapped response: %d %v", got, h)
	}
	if got := s.mapResponse(p, nil, params, 200, h, nil); got != 200 {
		t.Errorf("a status code without mappings became %d", got)
	}
}
