package edge

import (
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/kiri-run/kiri/internal/auth"
	"github.com/kiri-run/kiri/internal/awsproto"
)

// Dev mode takes unsigned requests, so the edge keeps web pages from driving it: a page on
// another site could otherwise post to 127.0.0.1:4566 (a cross-origin "simple" request, which
// no preflight stops) or rebind its own host name to 127.0.0.1. In dev mode the edge serves
// only requests addressed to a local host name, and refuses requests a browser sends on behalf
// of a page from a foreign site unless a CORS configuration (the bucket's, the function URL's)
// admits that site. Strict mode checks neither: every request there is signed, or subject to
// S3's access rules.

// allowHint tells how to let dev mode serve host.
func allowHint(host string) string {
	return "start Kiri with --allowed-hosts " + host + " (or KIRI_ALLOWED_HOSTS=" + host + ")."
}

// guard decides which requests dev mode serves.
type guard struct {
	on      bool
	allowed []string // lower-case names; ".example.test" is that domain and its subdomains; "*" is any
}

func newGuard(mode auth.Mode, allowed []string) guard {
	g := guard{on: mode == auth.Dev}
	for _, a := range allowed {
		switch a = strings.TrimSpace(a); {
		case a == "*":
		case strings.HasPrefix(a, "*."), strings.HasPrefix(a, "."):
			a = "." + hostOnly(strings.TrimLeft(a, "*."))
		default:
			a = hostOnly(a)
		}
		if a != "" && a != "." {
			g.allowed = append(g.allowed, a)
		}
	}
	return g
}

// local reports whether host (a Host header or an origin's host, with or without a port) is
// loopback, a name under a local root, or one of the allowed names.
func (g guard) local(host string) bool {
	h := hostOnly(host)
	if ip := net.ParseIP(h); ip != nil && ip.IsLoopback() {
		return true
	}
	if _, ok := localName(h); ok {
		return true
	}
	for _, a := range g.allowed {
		switch {
		case a == "*", a == h:
			return true
		case strings.HasPrefix(a, ".") && (h == a[1:] || strings.HasSuffix(h, a)):
			return true
		}
	}
	return false
}

// hostRefusal explains why r's Host is not served, or returns "".
func (g guard) hostRefusal(r *http.Request) string {
	if !g.on || r.Host == "" || g.local(r.Host) {
		return ""
	}
	h := hostOnly(r.Host)
	return "Kiri in dev mode accepts unsigned requests, so it serves only loopback addresses, localhost and names " +
		"under .localhost or localhost.localstack.cloud; it refused Host " + quote(h) + " (a web page can rebind " +
		"its own name to 127.0.0.1). To serve this name, " + allowHint(h)
}

// foreignSite returns the site a browser sent r on behalf of when that site is not local: the
// Origin header, else, for a request the browser marks cross-site (Sec-Fetch-Site), the origin of
// its Referer, or "" with foreign set when the browser withheld both.
func (g guard) foreignSite(r *http.Request) (origin string, foreign bool) {
	if !g.on {
		return "", false
	}
	origin = r.Header.Get("Origin")
	if origin == "" {
		if !strings.EqualFold(r.Header.Get("Sec-Fetch-Site"), "cross-site") {
			return "", false
		}
		ref, err := url.Parse(r.Header.Get("Referer"))
		if err != nil || ref.Host == "" {
			return "", true
		}
		origin = ref.Scheme + "://" + ref.Host
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" || !g.local(u.Host) {
		return origin, true
	}
	return "", false
}

// originRefusal explains why a request from origin (a foreign site, "" when unknown) is refused.
func originRefusal(origin string) string {
	msg := "Kiri in dev mode accepts unsigned requests, so it does not let web pages from other sites call it; it refused "
	u, err := url.Parse(origin)
	if origin == "" || origin == "null" || err != nil || u.Host == "" {
		if origin == "" {
			msg += "a cross-site request whose page the browser did not name."
		} else {
			msg += "a request from origin " + quote(origin) + "."
		}
		return msg + " Serve the page from a local address (localhost, 127.0.0.1)."
	}
	return msg + "a request from origin " + quote(origin) + ". A CORS configuration that allows this origin (the " +
		"bucket's, for S3; the function URL's) admits it; or " + allowHint(hostOnly(u.Host))
}

// withOrigin returns r with its Origin header set to origin, for asking S3's CORS rules about
// a request whose site came from its Referer.
func withOrigin(r *http.Request, origin string) *http.Request {
	if r.Header.Get("Origin") == origin {
		return r
	}
	c := r.Clone(r.Context())
	c.Header.Set("Origin", origin)
	return c
}

// quote quotes client text for a message, cut to a sane length.
func quote(s string) string {
	const limit = 100
	if len(s) > limit {
		s = s[:limit]
	}
	return strconv.Quote(s)
}

// refusalError is the AWS error of protocol for a refused request.
func refusalError(protocol, msg string) *awsproto.Error {
	code := "AccessDenied"
	if protocol == "json" || protocol == "rest-json" {
		code = "AccessDeniedException"
	}
	return awsproto.Errorf(code, http.StatusForbidden, "%s", msg)
}
