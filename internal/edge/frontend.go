package edge

import (
	"net/http"

	"github.com/kiri-run/kiri/internal/auth"
)

// Frontend is what a service adds to the edge besides its AWS API: routes claimed by host or
// path (function URLs, browser uploads, CORS preflights, API stages), and hooks on its API
// calls. The edge knows no service by name; services hand it their Frontend.
type Frontend struct {
	// Routes are tried on every request, after Rewrite and before Kiri's own routes and the API
	// router, in order: the first whose Match claims a request serves it.
	Routes []Route
	// Rewrite, when set, runs on every request first. It turns a request addressed by host into
	// the form the router and routes know (S3's virtual-hosted buckets into path style); sig is
	// the request's parsed signature. It leaves requests that are not its business alone.
	Rewrite func(r *http.Request, sig *auth.Signature)
	// CORS, when set, answers browsers for the service's API calls: the headers its response to
	// r carries for r's Origin, or nil when no rule admits that origin. In dev mode a page of a
	// foreign site reaches the service's API only when CORS admits its origin.
	CORS func(r *http.Request) http.Header
}

// Route is a way into a service other than its AWS API.
type Route struct {
	// Service and Operation name the route's requests in logs and metrics.
	Service, Operation string
	// Match claims r, returning the request to serve: r itself, or r rewritten (the path form of
	// a function URL strips its prefix; values for Serve may ride in the context).
	Match func(r *http.Request) (*http.Request, bool)
	// Serve answers a claimed request. a authenticates requests the route verifies itself.
	Serve func(w http.ResponseWriter, r *http.Request, a *auth.Authenticator)
	// Admits reports whether dev mode serves r for a page of the foreign site origin ("" when
	// the browser withheld it), as the resource's CORS configuration says. Nil admits none.
	Admits func(r *http.Request, origin string) bool
}

// LocalName returns the labels in front of a local root in host (port and case ignored):
// "photos.localhost:4566" → "photos"; "localhost.localstack.cloud" → "". It reports false for a
// host under no local root. Services use it to claim host names of their own.
func LocalName(host string) (string, bool) { return localName(host) }

// WithOrigin returns r with its Origin header set to origin, for asking CORS rules about a
// request whose site came from its Referer.
func WithOrigin(r *http.Request, origin string) *http.Request { return withOrigin(r, origin) }
