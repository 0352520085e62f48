package apigateway

import (
	"strings"

	"github.com/kiri-run/kiri/internal/awsproto"
)

// routeMatch is a route that matches a request, with the path parameters it captured.
type routeMatch struct {
	route  *Route
	params map[string]string
	rank   []int
}

// matchRoute picks the route a request takes as API Gateway orders them: paths with more
// literal segments before path variables, path variables before greedy ones, a route for the
// request's method before ANY, and $default last. It returns nil when none matches.
func matchRoute(routes []Route, method, path string) *routeMatch {
	var best, fallback *routeMatch
	segs := strings.Split(strings.TrimPrefix(path, "/"), "/")
	for i := range routes {
		key := awsproto.Value(routes[i].RouteKey)
		if key == defaultRoute {
			fallback = &routeMatch{route: &routes[i]}
			continue
		}
		m, p, _ := strings.Cut(key, " ")
		if m != method && m != "ANY" {
			continue
		}
		params, rank, ok := matchPath(strings.Split(strings.TrimPrefix(p, "/"), "/"), segs)
		if !ok {
			continue
		}
		methodRank := 0
		if m == "ANY" {
			methodRank = 1
		}
		c := &routeMatch{route: &routes[i], params: params, rank: append(rank, methodRank)}
		if best == nil || less(c.rank, best.rank) {
			best = c
		}
	}
	if best != nil {
		return best
	}
	return fallback
}

// matchPath matches a route path's segments against a request path's; rank orders matches,
// lower first: per segment 0 for a literal, 1 for a variable, 2 for a greedy variable.
func matchPath(route, req []string) (map[string]string, []int, bool) {
	var params map[string]string
	rank := make([]int, 0, len(route))
	capture := func(name, v string) {
		if params == nil {
			params = map[string]string{}
		}
		params[name] = v
	}
	for i, seg := range route {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "+}") {
			rest := strings.Join(req[i:], "/")
			if i >= len(req) || rest == "" {
				return nil, nil, false
			}
			capture(seg[1:len(seg)-2], rest)
			return params, append(rank, 2), true
		}
		if i >= len(req) {
			return nil, nil, false
		}
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			if req[i] == "" {
				return nil, nil, false
			}
			capture(seg[1:len(seg)-1], req[i])
			rank = append(rank, 1)
			continue
		}
		if seg != req[i] {
			return nil, nil, false
		}
		rank = append(rank, 0)
	}
	if len(route) != len(req) {
		return nil, nil, false
	}
	return params, rank, true
}

// less orders two ranks segment by segment; a longer match of equal prefix goes first.
func less(a, b []int) bool {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return len(a) > len(b)
}
