package apigateway

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/kiri-run/kiri/internal/service/servicetest"
)

// fakeTimer is a timer a test fires by hand.
type fakeTimer struct {
	mu      sync.Mutex
	d       time.Duration
	f       func()
	resets  int
	stopped bool
}

func (t *fakeTimer) Reset(d time.Duration) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.d, t.resets = d, t.resets+1
	return true
}

func (t *fakeTimer) Stop() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.stopped = true
	return true
}

// socketServer serves one WebSocket connection the way serveWebSocket registers them, on a
// Service whose timers are fake; it returns the client's connection and the connection's idle
// and maximum-duration timers.
func socketServer(t *testing.T) (*Service, *websocket.Conn, *fakeTimer, *fakeTimer) {
	t.Helper()
	s, err := New(context.Background(), servicetest.Deps(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	var mu sync.Mutex
	var timers []*fakeTimer
	s.sockets.after = func(d time.Duration, f func()) timer {
		mu.Lock()
		defer mu.Unlock()
		ft := &fakeTimer{d: d, f: f}
		timers = append(timers, ft)
		return ft
	}
	registered := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := upgrader.Upgrade(hijacker{w}, r, nil)
		if err != nil {
			return
		}
		c := &socket{id: newConnectionID(), apiID: "noapi00000", stage: "prod", account: "000000000000", region: "us-east-1", ws: ws, connectedAt: time.Now()}
		s.sockets.add(c)
		s.sockets.wg.Add(1)
		close(registered)
		go s.readSocket(c)
	}))
	t.Cleanup(srv.Close)
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	<-registered
	mu.Lock()
	defer mu.Unlock()
	if len(timers) != 2 || timers[0].d != socketIdleTimeout || timers[1].d != socketMaxDuration {
		t.Fatalf("timers = %+v", timers)
	}
	return s, ws, timers[0], timers[1]
}

// wantClose reads until the server's close frame and checks its code and text.
func wantClose(t *testing.T, ws *websocket.Conn, code int, text string) {
	t.Helper()
	ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		_, _, err := ws.ReadMessage()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != code || ce.Text != text {
			t.Fatalf("read = %v, want close %d %q", err, code, text)
		}
		return
	}
}

func TestSocketLimits(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		fire func(idle, max *fakeTimer)
	}{
		{"an idle connection closes after 10 minutes", func(idle, _ *fakeTimer) { idle.f() }},
		{"any connection closes after 2 hours", func(_, max *fakeTimer) { max.f() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, ws, idle, max := socketServer(t)
			tc.fire(idle, max)
			wantClose(t, ws, websocket.CloseGoingAway, "Going away")
			ws.Close()
			s.sockets.wg.Wait()
			if len(s.sockets.conns) != 0 || !idle.stopped || !max.stopped {
				t.Errorf("after close: %d connections, timers stopped %v %v", len(s.sockets.conns), idle.stopped, max.stopped)
			}
		})
	}
}

func TestSocketMessageRestartsTheIdleTimer(t *testing.T) {
	t.Parallel()
	_, ws, idle, _ := socketServer(t)
	if err := ws.WriteMessage(websocket.TextMessage, []byte(`{"action":"x"}`)); err != nil {
		t.Fatal(err)
	}
	// The message reaches no API: API Gateway answers its error message.
	ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, b, err := ws.ReadMessage(); err != nil || !strings.Contains(string(b), "Internal server error") {
		t.Fatalf("answer = %s, %v", b, err)
	}
	idle.mu.Lock()
	defer idle.mu.Unlock()
	if idle.resets != 1 || idle.d != socketIdleTimeout {
		t.Errorf("idle timer reset %d times to %v", idle.resets, idle.d)
	}
}

func TestSocketMessageTooBigClosesWith1009(t *testing.T) {
	t.Parallel()
	_, ws, _, _ := socketServer(t)
	if err := ws.WriteMessage(websocket.TextMessage, make([]byte, maxSocketMessage+1)); err != nil {
		t.Fatal(err)
	}
	wantClose(t, ws, websocket.CloseMessageTooBig, "Message too big")
}

func TestRouteSelection(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		expr, body, want string
		ok               bool
	}{
		{"$request.body.action", `{"action":"send"}`, "send", true},
		{"$request.body.a.b", `{"a":{"b":"deep"}}`, "deep", true},
		{"$request.body.n", `{"n":7}`, "7", true},
		{"$request.body.action", `{"other":1}`, "", false},
		{"$request.body.action", `not json`, "", false},
		{"$request.body.action", `["action"]`, "", false},
		{"${request.body.service}/${request.body.action}", `{"service":"chat","action":"send"}`, "chat/send", true},
	} {
		sel, err := parseSelection(tc.expr)
		if err != nil {
			t.Fatalf("%s: %v", tc.expr, err)
		}
		if got, ok := sel.evaluate([]byte(tc.body)); got != tc.want || ok != tc.ok {
			t.Errorf("%s on %s = %q %v, want %q %v", tc.expr, tc.body, got, ok, tc.want, tc.ok)
		}
	}
	for _, bad := range []string{"", "action", "$request.body.", "$request.header.x", "${request.path}", "$request.body.a..b", "${request.body.a"} {
		if _, err := parseSelection(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
