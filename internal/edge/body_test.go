package edge

import (
	"bufio"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
)

// TestReadBodyKeepsTheRequestAlive checks that the idle deadline of body reads ends with the
// body: a request that runs on after reading its body (an invocation) keeps its context, even
// when its handler reads again after the end.
func TestReadBodyKeepsTheRequestAlive(t *testing.T) {
	const idle = 50 * time.Millisecond
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := &requestBody{body: r.Body, rc: http.NewResponseController(w), idle: idle, length: r.ContentLength}
		io.ReadAll(body)
		body.Read(make([]byte, 1))
		select {
		case <-r.Context().Done():
			http.Error(w, "request context ended", http.StatusInternalServerError)
		case <-time.After(6 * idle):
		}
	}))
	defer srv.Close()
	resp, err := http.Post(srv.URL, "text/plain", strings.NewReader("payload"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
}

// TestBodyReadErrorsAreTheClients checks the errors a failed body read becomes.
func TestBodyReadErrorsAreTheClients(t *testing.T) {
	seen := make(chan error, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := &requestBody{body: r.Body, rc: http.NewResponseController(w), idle: 50 * time.Millisecond, length: r.ContentLength}
		_, err := io.ReadAll(body)
		seen <- err
	}))
	defer srv.Close()
	cases := []struct {
		name, request, code string
		closeWrite          bool
	}{
		{"cut short", "PUT /b/k HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10\r\n\r\nabc", "IncompleteBody", true},
		{"cut short chunked", "PUT /b/k HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n", "IncompleteBody", true},
		{"stalled", "PUT /b/k HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10\r\n\r\nabc", "RequestTimeout", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			conn := sendRaw(t, srv, tc.request)
			if tc.closeWrite {
				conn.CloseWrite()
			}
			http.ReadResponse(bufio.NewReader(conn), nil)
			err := <-seen
			ae, ok := err.(*awsproto.Error)
			if !ok || ae.Code != tc.code || ae.Status != http.StatusBadRequest {
				t.Fatalf("read error %v (%T), want %s 400", err, err, tc.code)
			}
		})
	}
}
