package apidest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

func TestRetryableStatuses(t *testing.T) {
	t.Parallel()
	for status, want := range map[int]bool{400: false, 401: true, 403: false, 404: false, 407: true, 409: true, 413: false, 429: true,
		500: true, 502: true, 503: true, 504: true, 301: false} {
		if got := Retryable(status); got != want {
			t.Errorf("Retryable(%d) = %v, want %v", status, got, want)
		}
	}
}

func TestCallsTimeOutAfterFiveSeconds(t *testing.T) {
	t.Parallel()
	if got := NewClient(nil, nil).http.Timeout; got != 5*time.Second {
		t.Fatalf("timeout %v, want EventBridge's 5s", got)
	}
}

func TestFillPath(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, endpoint string
		values         []string
		want           string
		fails          bool
	}{
		{"no wildcard keeps the endpoint", "https://x/a", []string{"v"}, "https://x/a", false},
		{"wildcards take values in order", "https://x/*/b/*", []string{"1", "2"}, "https://x/1/b/2", false},
		{"values are path-escaped", "https://x/*", []string{"a b/c"}, "https://x/a%20b%2Fc", false},
		{"a wildcard without a value fails", "https://x/*/*", []string{"1"}, "", true},
	} {
		got, err := FillPath(tc.endpoint, tc.values)
		if (err != nil) != tc.fails || got != tc.want {
			t.Errorf("%s: FillPath = %q, %v", tc.name, got, err)
		}
	}
}

func TestBuildMergesParametersConnectionFirst(t *testing.T) {
	t.Parallel()
	d := &Destination{Endpoint: "https://api.example.com/v1/*?fixed=1", Method: http.MethodPost, Connection: &Connection{Type: APIKey,
		APIKeyName: "x-api-key", APIKeyValue: "k",
		Invocation: Params{Headers: []Param{{Key: "X-Env", Value: "conn"}, {Key: "User-Agent", Value: "mine"}},
			Query: []Param{{Key: "q", Value: "conn"}}, Body: []Param{{Key: "extra", Value: "yes", Secret: true}}}}}
	p := &HTTPParameters{PathParameterValues: []string{"orders"}, HeaderParameters: map[string]string{"X-Env": "target", "Content-Type": "text/plain"},
		QueryStringParameters: map[string]string{"q": "target", "t": "1"}}
	req, err := build(context.Background(), d, p, []byte(`{"a":1}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := req.URL.String(); got != "https://api.example.com/v1/orders?fixed=1&q=conn&t=1" {
		t.Errorf("URL %s", got)
	}
	for k, want := range map[string]string{"X-Env": "conn", "Content-Type": "text/plain", "User-Agent": "Amazon/EventBridge/ApiDestinations",
		"Range": "bytes=0-1048575", "Accept-Encoding": "gzip,deflate"} {
		if got := req.Header.Get(k); got != want {
			t.Errorf("header %s = %q, want %q", k, got, want)
		}
	}
	body, _ := io.ReadAll(req.Body)
	if string(body) != `{"a":1,"extra":"yes"}` {
		t.Errorf("body %s", body)
	}
	if _, err := build(context.Background(), d, &HTTPParameters{}, nil); !errors.Is(err, ErrRequest) {
		t.Errorf("a wildcard without a value: %v, want ErrRequest", err)
	}
	if got := withBodyParams([]byte(`"text"`), d.Connection.Invocation.Body); string(got) != `"text"` {
		t.Errorf("a payload that is not an object changed: %s", got)
	}
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestOAuthTokenIsCachedRefreshedBeforeExpiryAndOn401(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	fetches := 0
	auth := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		fetches++
		n := fetches
		mu.Unlock()
		fmt.Fprintf(w, `{"access_token":"t%d","expires_in":"300"}`, n)
	}))
	defer auth.Close()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "Bearer t2" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		io.WriteString(w, r.Header.Get("Authorization"))
	}))
	defer api.Close()
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	c := NewClient(clock.now, nil)
	d := &Destination{ARN: "d", Endpoint: api.URL, Method: http.MethodPost, Connection: &Connection{ARN: "c", Version: 1, Type: OAuth,
		OAuth: &OAuthConfig{Endpoint: auth.URL, Method: http.MethodPost, ClientID: "id", ClientSecret: "secret"}}}
	call := func() string {
		t.Helper()
		resp, err := c.Invoke(context.Background(), d, nil, []byte(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		return string(resp.Body)
	}
	if a, b := call(), call(); a != "Bearer t1" || b != "Bearer t1" {
		t.Fatalf("first calls used %q and %q, want the cached t1", a, b)
	}
	clock.advance(241 * time.Second) // within a minute of expiry: fetched anew (t2), refused, fetched again (t3)
	if got := call(); got != "Bearer t3" {
		t.Fatalf("after the 401 the call used %q, want t3", got)
	}
	d.Connection.Version = 2 // an updated connection does not use older tokens
	if got := call(); got != "Bearer t4" {
		t.Fatalf("after an update the call used %q, want t4", got)
	}
	if fetches != 4 {
		t.Fatalf("%d token fetches, want 4", fetches)
	}
}

func TestRefusedCredentialsAreAnAuthError(t *testing.T) {
	t.Parallel()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusProxyAuthRequired) }))
	defer api.Close()
	c := NewClient(nil, nil)
	d := &Destination{Endpoint: api.URL, Method: http.MethodGet, Connection: &Connection{Type: Basic, Username: "u", Password: "p"}}
	_, err := c.Invoke(context.Background(), d, nil, nil)
	var ae *AuthError
	var se *StatusError
	if !errors.As(err, &ae) || !errors.As(err, &se) || se.Status != 407 {
		t.Fatalf("Invoke = %v, want an AuthError for 407", err)
	}
}

func TestLimiterHoldsCallsBeyondTheRateAndSpreadsThem(t *testing.T) {
	t.Parallel()
	l := NewLimiter()
	t0 := time.Unix(1_700_000_000, 0)
	for i := range 2 {
		if ok, _ := l.Take("d", 2, t0.Add(time.Duration(i)*time.Millisecond)); !ok {
			t.Fatalf("call %d within the rate was held", i)
		}
	}
	ok, r1 := l.Take("d", 2, t0.Add(10*time.Millisecond))
	_, r2 := l.Take("d", 2, t0.Add(20*time.Millisecond))
	if ok || r1 != t0.Add(time.Second) || r2 != t0.Add(1500*time.Millisecond) {
		t.Fatalf("held calls retry at %v and %v, want +1s and +1.5s", r1.Sub(t0), r2.Sub(t0))
	}
	if ok, _ := l.Take("other", 2, t0); !ok {
		t.Fatal("another destination's calls were held")
	}
	if ok, _ := l.Take("d", 2, r1); !ok {
		t.Fatal("the first held call was held again at its time")
	}
	if ok, _ := l.Take("d", 2, r2); !ok {
		t.Fatal("the second held call was held again at its time")
	}
	// No second holds more than the rate.
	if ok, _ := l.Take("d", 2, r2.Add(time.Millisecond)); ok {
		t.Fatal("a third call in one second went through")
	}
}
