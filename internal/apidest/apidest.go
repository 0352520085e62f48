// Package apidest calls EventBridge API destinations: the one HTTP call that event bus rules
// and pipes make to an HTTP endpoint, with the connection's authorization (an API key, basic
// credentials or an OAuth client-credentials token), the connection's invocation parameters and
// the target's HttpParameters, the headers EventBridge adds, and its 5-second timeout.
//
// It also keeps what a call needs between calls: the OAuth tokens of connections (fetched from
// the authorization endpoint, cached until shortly before they expire, refreshed when the
// endpoint answers 401 or 407) and each destination's invocation rate (Limiter).
package apidest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Authorization types of a connection.
const (
	APIKey = "API_KEY"
	Basic  = "BASIC"
	OAuth  = "OAUTH_CLIENT_CREDENTIALS"
)

// Timeout is how long EventBridge waits for an API destination's answer.
const Timeout = 5 * time.Second

// maxResponse is how much of a response is read: the bytes EventBridge asks for with its Range
// header.
const maxResponse = 1 << 20

// refreshBefore is how long before a token expires a call fetches a new one.
const refreshBefore = 60 * time.Second

// Param is one header, query string or body parameter of a connection.
type Param struct {
	Key    string `json:"key"`
	Value  string `json:"value,omitempty"`
	Secret bool   `json:"secret,omitempty"`
}

// Params are a connection's extra parameters of a request.
type Params struct {
	Headers []Param `json:"headers,omitempty"`
	Query   []Param `json:"query,omitempty"`
	Body    []Param `json:"body,omitempty"`
}

// OAuthConfig is how a connection gets its OAuth token.
type OAuthConfig struct {
	Endpoint     string `json:"endpoint"`
	Method       string `json:"method"`
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret,omitempty"`
	Params       Params `json:"params"`
}

// Connection is a connection's authorization as a call needs it, secrets included.
type Connection struct {
	// ARN names the connection; Version changes when it is updated (tokens of an older
	// version are not used).
	ARN     string `json:"-"`
	Version int64  `json:"-"`
	Type    string `json:"-"`

	APIKeyName  string       `json:"api_key_name,omitempty"`
	APIKeyValue string       `json:"api_key_value,omitempty"`
	Username    string       `json:"username,omitempty"`
	Password    string       `json:"password,omitempty"`
	OAuth       *OAuthConfig `json:"oauth,omitempty"`
	Invocation  Params       `json:"invocation"`
}

// Destination is an API destination and its connection.
type Destination struct {
	ARN string
	// Endpoint is the invocation endpoint; each * in it takes the next path parameter value.
	Endpoint string
	Method   string
	// RateLimit is the invocations per second allowed (Limiter).
	RateLimit  int
	Connection *Connection
}

// HTTPParameters are a rule target's or a pipe's HttpParameters.
type HTTPParameters struct {
	PathParameterValues   []string          `json:"path,omitempty"`
	HeaderParameters      map[string]string `json:"headers,omitempty"`
	QueryStringParameters map[string]string `json:"query,omitempty"`
}

// StatusError is an endpoint's answer outside 2xx.
type StatusError struct {
	Status int
	Body   string
}

func (e *StatusError) Error() string {
	body := e.Body
	if len(body) > 256 {
		body = body[:256]
	}
	return fmt.Sprintf("the endpoint answered %d %s: %s", e.Status, http.StatusText(e.Status), body)
}

// Retryable reports whether EventBridge retries a call that got status: 401, 407, 409, 429
// and 5xx; any other answer fails the call for good.
func Retryable(status int) bool {
	switch {
	case status == 401, status == 407, status == 409, status == 429, status >= 500:
		return true
	}
	return false
}

// ErrRequest is wrapped by the error of a call whose request cannot be made (a path wildcard
// without a value, an endpoint that is not a URL): trying again cannot help.
var ErrRequest = errors.New("the API destination's request cannot be made")

// AuthError is a failure to authorize a connection (no OAuth token, or credentials the
// endpoint refused): EventBridge then deauthorizes the connection, with Reason as its state
// reason.
type AuthError struct {
	Reason string
	Err    error
}

func (e *AuthError) Error() string { return e.Reason }
func (e *AuthError) Unwrap() error { return e.Err }

// Client makes API destination calls. It is safe for concurrent use.
type Client struct {
	http *http.Client
	now  func() time.Time

	mu     sync.Mutex
	tokens map[string]token // by connection ARN
}

// token is a connection's cached OAuth access token.
type token struct {
	version int64
	value   string
	expires time.Time // zero: no expiry given
}

// NewClient returns a client timing tokens with now (time.Now when nil) and calling through
// transport (http.DefaultTransport when nil).
func NewClient(now func() time.Time, transport http.RoundTripper) *Client {
	if now == nil {
		now = time.Now
	}
	return &Client{http: &http.Client{Timeout: Timeout, Transport: transport, CheckRedirect: noRedirects}, now: now, tokens: map[string]token{}}
}

// noRedirects makes a 3xx answer the call's answer: EventBridge does not follow redirects.
func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// Response is an endpoint's 2xx answer.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Invoke calls d's endpoint with payload and the target's parameters p (nil for none). It
// returns the answer, a *StatusError for an answer outside 2xx, an *AuthError when the
// connection could not be authorized (or, for API key and basic connections, the endpoint
// answered 401 or 407), or the transport's error.
func (c *Client) Invoke(ctx context.Context, d *Destination, p *HTTPParameters, payload []byte) (*Response, error) {
	conn := d.Connection
	resp, err := c.call(ctx, d, p, payload, false)
	var se *StatusError
	if !errors.As(err, &se) || (se.Status != 401 && se.Status != 407) {
		return resp, err
	}
	if conn.Type != OAuth {
		return nil, &AuthError{Reason: fmt.Sprintf("The endpoint refused the connection's credentials (%d).", se.Status), Err: err}
	}
	// The token may have been revoked or expired early: fetch a new one and try once more.
	return c.call(ctx, d, p, payload, true)
}

func (c *Client) call(ctx context.Context, d *Destination, p *HTTPParameters, payload []byte, refresh bool) (*Response, error) {
	req, err := build(ctx, d, p, payload)
	if err != nil {
		return nil, err
	}
	if err := c.authorize(ctx, d.Connection, req, refresh); err != nil {
		return nil, err
	}
	return c.do(req)
}

func (c *Client) do(req *http.Request) (*Response, error) {
	res, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("call %s: %w", req.URL.Redacted(), err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, maxResponse))
	if err != nil {
		return nil, fmt.Errorf("read answer of %s: %w", req.URL.Redacted(), err)
	}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return nil, &StatusError{Status: res.StatusCode, Body: string(body)}
	}
	return &Response{Status: res.StatusCode, Header: res.Header, Body: body}, nil
}

// Headers EventBridge sets on every call; a parameter cannot replace them.
var fixedHeaders = map[string]bool{"user-agent": true, "range": true, "host": true, "content-length": true, "connection": true,
	"accept-encoding": true, "transfer-encoding": true, "expect": true, "te": true, "upgrade": true, "trailer": true}

// build makes the request of a call: the endpoint with its wildcards filled, the query string
// of the target and the connection, the headers of the target and the connection (the
// connection's win), and the payload with the connection's body parameters when it is a JSON
// object.
func build(ctx context.Context, d *Destination, p *HTTPParameters, payload []byte) (*http.Request, error) {
	if p == nil {
		p = &HTTPParameters{}
	}
	endpoint, err := FillPath(d.Endpoint, p.PathParameterValues)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRequest, err)
	}
	u, err := url.Parse(endpoint)
	if err != nil {
		return nil, fmt.Errorf("%w: invocation endpoint %q: %w", ErrRequest, endpoint, err)
	}
	q := u.Query()
	for k, v := range p.QueryStringParameters {
		q.Set(k, v)
	}
	for _, qp := range d.Connection.Invocation.Query {
		q.Set(qp.Key, qp.Value)
	}
	u.RawQuery = q.Encode()
	body := withBodyParams(payload, d.Connection.Invocation.Body)
	var rd io.Reader
	if d.Method != http.MethodGet && d.Method != http.MethodHead {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, d.Method, u.String(), rd)
	if err != nil {
		return nil, fmt.Errorf("%w: invocation endpoint %q: %w", ErrRequest, endpoint, err)
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	for k, v := range p.HeaderParameters {
		setHeader(req.Header, k, v)
	}
	for _, h := range d.Connection.Invocation.Headers {
		setHeader(req.Header, h.Key, h.Value)
	}
	req.Header.Set("User-Agent", "Amazon/EventBridge/ApiDestinations")
	req.Header.Set("Range", "bytes=0-1048575")
	req.Header.Set("Accept-Encoding", "gzip,deflate")
	req.Close = true
	return req, nil
}

func setHeader(h http.Header, k, v string) {
	if !fixedHeaders[strings.ToLower(k)] {
		h.Set(k, v)
	}
}

// FillPath replaces each * of endpoint with the next of values, in order. A wildcard without
// a value is an error.
func FillPath(endpoint string, values []string) (string, error) {
	n := strings.Count(endpoint, "*")
	if n == 0 {
		return endpoint, nil
	}
	if len(values) < n {
		return "", fmt.Errorf("the invocation endpoint %s has %d path wildcards but the target gives %d PathParameterValues", endpoint, n, len(values))
	}
	var b strings.Builder
	i := 0
	for _, r := range endpoint {
		if r == '*' {
			b.WriteString(url.PathEscape(values[i]))
			i++
			continue
		}
		b.WriteRune(r)
	}
	return b.String(), nil
}

// withBodyParams adds the connection's body parameters to a JSON object payload (the
// connection's values win); any other payload is sent as it is.
func withBodyParams(payload []byte, params []Param) []byte {
	if len(params) == 0 {
		return payload
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(payload, &obj) != nil || obj == nil {
		return payload
	}
	for _, bp := range params {
		v, _ := json.Marshal(bp.Value)
		obj[bp.Key] = v
	}
	out, err := json.Marshal(obj)
	if err != nil {
		return payload
	}
	return out
}

// authorize adds the connection's authorization to req: the API key header, basic credentials,
// or the OAuth token (fetched anew when refresh is set, or when the cached one expires within
// a minute).
func (c *Client) authorize(ctx context.Context, conn *Connection, req *http.Request, refresh bool) error {
	switch conn.Type {
	case APIKey:
		req.Header.Set(conn.APIKeyName, conn.APIKeyValue)
	case Basic:
		req.SetBasicAuth(conn.Username, conn.Password)
	case OAuth:
		tok, err := c.Token(ctx, conn, refresh)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	default:
		return &AuthError{Reason: "The connection has no authorization."}
	}
	return nil
}

// Token returns conn's OAuth access token: the cached one, unless force is set or it expires
// within a minute, else a new one from the authorization endpoint. A failure is an *AuthError.
func (c *Client) Token(ctx context.Context, conn *Connection, force bool) (string, error) {
	now := c.now()
	c.mu.Lock()
	t, ok := c.tokens[conn.ARN]
	c.mu.Unlock()
	if ok && !force && t.version == conn.Version && (t.expires.IsZero() || now.Add(refreshBefore).Before(t.expires)) {
		return t.value, nil
	}
	t, err := c.fetchToken(ctx, conn)
	if err != nil {
		c.Forget(conn.ARN)
		return "", err
	}
	c.mu.Lock()
	c.tokens[conn.ARN] = t
	c.mu.Unlock()
	return t.value, nil
}

// Forget drops the cached token of a connection (updated, deauthorized or deleted).
func (c *Client) Forget(arn string) {
	c.mu.Lock()
	delete(c.tokens, arn)
	c.mu.Unlock()
}

// fetchToken asks the authorization endpoint for a token with the client credentials (as basic
// credentials), and the connection's OAuth parameters: headers, query string, and body
// parameters form-encoded.
func (c *Client) fetchToken(ctx context.Context, conn *Connection) (token, error) {
	o := conn.OAuth
	if o == nil {
		return token{}, &AuthError{Reason: "The connection has no OAuth parameters."}
	}
	u, err := url.Parse(o.Endpoint)
	if err != nil {
		return token{}, &AuthError{Reason: "The authorization endpoint is not a valid URL.", Err: err}
	}
	q := u.Query()
	for _, qp := range o.Params.Query {
		q.Set(qp.Key, qp.Value)
	}
	u.RawQuery = q.Encode()
	form := url.Values{}
	for _, bp := range o.Params.Body {
		form.Set(bp.Key, bp.Value)
	}
	var rd io.Reader
	if o.Method != http.MethodGet {
		rd = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, o.Method, u.String(), rd)
	if err != nil {
		return token{}, &AuthError{Reason: "The authorization endpoint is not a valid URL.", Err: err}
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for _, h := range o.Params.Headers {
		setHeader(req.Header, h.Key, h.Value)
	}
	req.Header.Set("User-Agent", "Amazon/EventBridge/ApiDestinations")
	req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(o.ClientID+":"+o.ClientSecret)))
	resp, err := c.do(req)
	if err != nil {
		return token{}, &AuthError{Reason: "Failed to obtain an OAuth token from the authorization endpoint: " + err.Error(), Err: err}
	}
	var body struct {
		AccessToken string          `json:"access_token"`
		ExpiresIn   json.RawMessage `json:"expires_in"`
	}
	if err := json.Unmarshal(resp.Body, &body); err != nil || body.AccessToken == "" {
		return token{}, &AuthError{Reason: "The authorization endpoint's answer has no access_token."}
	}
	t := token{version: conn.Version, value: body.AccessToken}
	if secs, err := strconv.ParseFloat(strings.Trim(string(body.ExpiresIn), `"`), 64); err == nil && secs > 0 {
		t.expires = c.now().Add(time.Duration(secs * float64(time.Second)))
	}
	return t, nil
}
