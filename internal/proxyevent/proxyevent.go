// Package proxyevent builds the parts of the HTTP request events Lambda functions receive
// from function URLs and API Gateway that both build alike: payload format 2.0's headers,
// cookies and query parameters, the body as text or base64, and the caller's address.
package proxyevent

import (
	"bytes"
	"encoding/base64"
	"net"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"
)

// Headers returns r's headers as payload format 2.0 carries them: names in lower case, values
// that repeat joined with commas, the Host header included, and the Cookie header split out
// into cookies.
func Headers(r *http.Request) (headers map[string]string, cookies []string) {
	headers = make(map[string]string, len(r.Header)+1)
	for k, vs := range r.Header {
		lk := strings.ToLower(k)
		if lk == "cookie" {
			for _, v := range vs {
				for _, c := range strings.Split(v, ";") {
					if c = strings.TrimSpace(c); c != "" {
						cookies = append(cookies, c)
					}
				}
			}
			continue
		}
		headers[lk] = strings.Join(vs, ",")
	}
	if r.Host != "" {
		headers["host"] = r.Host
	}
	return headers, cookies
}

// Query returns a query's parameters with repeated values joined with commas; nil when it
// has none.
func Query(q url.Values) map[string]string {
	if len(q) == 0 {
		return nil
	}
	out := make(map[string]string, len(q))
	for k, vs := range q {
		out[k] = strings.Join(vs, ",")
	}
	return out
}

// Body returns a request body as the event carries it: UTF-8 text of a text content type as it
// is, anything else base64-encoded (base64 true).
func Body(body []byte, contentType string) (text string, base64Encoded bool) {
	if utf8.Valid(body) && !bytes.ContainsRune(body, 0) && isText(contentType) {
		return string(body), false
	}
	return base64.StdEncoding.EncodeToString(body), true
}

// isText reports whether a body of this content type is passed as text.
func isText(ct string) bool {
	ct = strings.ToLower(ct)
	if ct == "" {
		return true
	}
	for _, t := range []string{"text/", "application/json", "application/javascript", "application/xml", "application/x-www-form-urlencoded", "+json", "+xml"} {
		if strings.Contains(ct, t) {
			return true
		}
	}
	return false
}

// SourceIP is the address r came from.
func SourceIP(r *http.Request) string {
	if h, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return h
	}
	return r.RemoteAddr
}
