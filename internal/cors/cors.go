// Package cors answers browsers' cross-origin requests from the CORS configuration Lambda
// function URLs and API Gateway HTTP APIs share: allowed origins, methods and headers, exposed
// headers, credentials and the preflight's max age.
package cors

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// Config is a CORS configuration.
type Config struct {
	AllowCredentials bool
	AllowHeaders     []string
	AllowMethods     []string
	AllowOrigins     []string
	ExposeHeaders    []string
	// MaxAge is the preflight's Access-Control-Max-Age in seconds; nil sends none.
	MaxAge *int32
}

// IsPreflight reports whether r is a browser's preflight request.
func IsPreflight(r *http.Request) bool {
	return r.Method == http.MethodOptions && r.Header.Get("Origin") != "" && r.Header.Get("Access-Control-Request-Method") != ""
}

// AllowsOrigin reports whether pages from origin may call.
func (c *Config) AllowsOrigin(origin string) bool {
	return origin != "" && allowed(c.AllowOrigins, origin)
}

// Preflight sets the headers of the answer to the preflight r: none when its origin or method
// is not allowed.
func (c *Config) Preflight(h http.Header, r *http.Request) {
	origin := r.Header.Get("Origin")
	if !allowed(c.AllowOrigins, origin) || !allowed(c.AllowMethods, r.Header.Get("Access-Control-Request-Method")) {
		return
	}
	c.SetHeaders(h, origin)
	if len(c.AllowMethods) > 0 {
		h.Set("Access-Control-Allow-Methods", strings.Join(c.AllowMethods, ","))
	}
	if len(c.AllowHeaders) > 0 {
		h.Set("Access-Control-Allow-Headers", strings.Join(c.AllowHeaders, ","))
	}
	if c.MaxAge != nil {
		h.Set("Access-Control-Max-Age", strconv.Itoa(int(*c.MaxAge)))
	}
}

// SetHeaders adds the headers of an allowed cross-origin response for origin; it adds none
// when origin is not allowed.
func (c *Config) SetHeaders(h http.Header, origin string) {
	if !allowed(c.AllowOrigins, origin) {
		return
	}
	if slices.Contains(c.AllowOrigins, "*") && !c.AllowCredentials {
		h.Set("Access-Control-Allow-Origin", "*")
	} else {
		h.Set("Access-Control-Allow-Origin", origin)
		h.Add("Vary", "Origin")
	}
	if c.AllowCredentials {
		h.Set("Access-Control-Allow-Credentials", "true")
	}
	if len(c.ExposeHeaders) > 0 {
		h.Set("Access-Control-Expose-Headers", strings.Join(c.ExposeHeaders, ","))
	}
}

func allowed(list []string, v string) bool {
	for _, a := range list {
		if a == "*" || strings.EqualFold(a, v) {
			return true
		}
	}
	return false
}
