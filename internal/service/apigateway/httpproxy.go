package apigateway

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/proxyevent"
)

// hopByHop are the headers that describe one connection, not the request: a proxy drops them.
var hopByHop = []string{"Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization", "Proxy-Connection",
	"Te", "Trailer", "Transfer-Encoding", "Upgrade"}

// dropHopByHop removes the hop-by-hop headers, and those the Connection header names, from h.
func dropHopByHop(h http.Header) {
	for _, v := range h.Values("Connection") {
		for _, name := range strings.Split(v, ",") {
			h.Del(strings.TrimSpace(name))
		}
	}
	for _, name := range hopByHop {
		h.Del(name)
	}
}

// proxyClient calls HTTP proxy integrations' URLs. It does not follow redirects: the backend's
// answer, redirect or not, is the client's.
var proxyClient = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// integrationURL is the URL an HTTP proxy integration calls for a request: the integration's
// URI with {name} replaced by the route's path parameter name (for a greedy {proxy+}, {proxy}),
// and the request's query string added to the URI's own.
func integrationURL(uri string, params map[string]string, rawQuery string) (*url.URL, error) {
	for name, v := range params {
		uri = strings.ReplaceAll(uri, "{"+name+"}", v)
	}
	u, err := url.Parse(uri)
	if err != nil {
		return nil, err
	}
	switch {
	case u.RawQuery == "":
		u.RawQuery = rawQuery
	case rawQuery != "":
		u.RawQuery += "&" + rawQuery
	}
	return u, nil
}

// forward sends the request to an HTTP proxy integration's URL within its timeout and writes
// the backend's answer, less the hop-by-hop headers. path, when not "", replaces the URL's path
// (a request parameter overwrote it).
func (s *Service) forward(w http.ResponseWriter, r *http.Request, rec *accessRecord, m *routeMatch, integ *Integration, body []byte, path string) {
	u, err := integrationURL(awsproto.Value(integ.IntegrationUri), m.params, r.URL.RawQuery)
	if err != nil {
		writeMessage(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	if path != "" {
		u.Path, u.RawPath = path, ""
	}
	method := awsproto.Value(integ.IntegrationMethod)
	if method == "ANY" {
		method = r.Method
	}
	ctx, cancel := context.WithTimeout(r.Context(), integ.timeout())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(body))
	if err != nil {
		writeMessage(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	req.Header = r.Header.Clone()
	dropHopByHop(req.Header)
	req.Header.Del("Host")
	if prior := r.Header.Get("X-Forwarded-For"); prior != "" {
		req.Header.Set("X-Forwarded-For", prior+", "+proxyevent.SourceIP(r))
	} else {
		req.Header.Set("X-Forwarded-For", proxyevent.SourceIP(r))
	}
	start := s.now()
	resp, err := proxyClient.Do(req)
	var out []byte
	if err == nil {
		out, err = io.ReadAll(io.LimitReader(resp.Body, maxPayload+1))
		resp.Body.Close()
		if err == nil && len(out) > maxPayload {
			err = errors.New("integration response over 10 MB")
		}
	}
	rec.integrationLatency = s.now().Sub(start)
	switch {
	case err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded):
		rec.integrationError = "integration timed out"
		writeMessage(w, http.StatusGatewayTimeout, "Gateway Timeout")
		return
	case err != nil:
		rec.integrationError = err.Error()
		s.log.Warn("HTTP integration failed", "api", rec.d.apiID, "url", u.Redacted(), "error", err)
		writeMessage(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	rec.integrationStatus = resp.StatusCode
	h := resp.Header.Clone()
	dropHopByHop(h)
	status := resp.StatusCode
	if rec.mapResponse != nil {
		status = rec.mapResponse(status, h, out)
	}
	for k, vs := range h {
		w.Header()[k] = vs
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(out)))
	w.WriteHeader(status)
	w.Write(out)
}
