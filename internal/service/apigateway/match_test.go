package apigateway

import (
	"testing"

	"github.com/kiri-run/kiri/internal/awsproto"
)

func TestMatchRouteOrdersRoutesAsAPIGatewayDoes(t *testing.T) {
	t.Parallel()
	var routes []Route
	for _, k := range []string{"$default", "ANY /{proxy+}", "GET /pets/{id}", "GET /pets/dog", "ANY /pets/{id}", "POST /pets", "GET /", "GET /files/{path+}"} {
		routes = append(routes, Route{RouteKey: awsproto.Ptr(k)})
	}
	cases := []struct {
		name, method, path, want string
		params                   map[string]string
	}{
		{"an exact path beats a variable", "GET", "/pets/dog", "GET /pets/dog", nil},
		{"a variable captures one segment", "GET", "/pets/7", "GET /pets/{id}", map[string]string{"id": "7"}},
		{"the method beats ANY", "DELETE", "/pets/7", "ANY /pets/{id}", map[string]string{"id": "7"}},
		{"a greedy variable takes the rest", "GET", "/a/b/c", "ANY /{proxy+}", map[string]string{"proxy": "a/b/c"}},
		{"a longer literal prefix beats a shorter greedy", "GET", "/files/x/y", "GET /files/{path+}", map[string]string{"path": "x/y"}},
		{"the root is its own route", "GET", "/", "GET /", nil},
		{"no route falls to $default", "PUT", "/", "$default", nil},
		{"a literal path does not match longer paths", "POST", "/pets/1/x", "ANY /{proxy+}", map[string]string{"proxy": "pets/1/x"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := matchRoute(routes, c.method, c.path)
			if m == nil || *m.route.RouteKey != c.want {
				t.Fatalf("matched %v, want %s", m, c.want)
			}
			if len(m.params) != len(c.params) {
				t.Fatalf("params %v, want %v", m.params, c.params)
			}
			for k, v := range c.params {
				if m.params[k] != v {
					t.Fatalf("params %v, want %v", m.params, c.params)
				}
			}
		})
	}
	if m := matchRoute(routes[2:3], "GET", "/cats/1"); m != nil {
		t.Fatalf("matched %s with no matching route", *m.route.RouteKey)
	}
}

func TestCheckRouteKey(t *testing.T) {
	t.Parallel()
	for key, ok := range map[string]bool{
		"$default": true, "GET /": true, "ANY /{proxy+}": true, "POST /a/{b}/c": true,
		"GET": false, "FETCH /a": false, "GET a": false, "GET /{proxy+}/x": false, "GET /a//b": false, "GET /{a}/{a}": false,
	} {
		if err := checkRouteKey(key); (err == nil) != ok {
			t.Errorf("checkRouteKey(%q) = %v, want ok=%v", key, err, ok)
		}
	}
}
