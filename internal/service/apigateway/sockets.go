package apigateway

import (
	"bufio"
	"crypto/rand"
	"errors"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"
)

// Limits of WebSocket APIs, as API Gateway's quotas set them.
const (
	// socketIdleTimeout closes a connection that received nothing for 10 minutes.
	socketIdleTimeout = 10 * time.Minute
	// socketMaxDuration closes any connection after 2 hours.
	socketMaxDuration = 2 * time.Hour
	// maxSocketMessage is the largest message a client may send or PostToConnection deliver: 128 KB.
	maxSocketMessage = 128 << 10
	// socketWriteTimeout bounds one write to a client that does not read.
	socketWriteTimeout = 10 * time.Second
	// closeGrace is how long a connection the server closes waits for the client's close frame.
	closeGrace = 2 * time.Second
)

// ErrGone is the answer for a connection that is closed or never was.
var ErrGone = errors.New("the connection is gone")

// timer is a stoppable, resettable timer (a *time.Timer, or a test's).
type timer interface {
	Reset(d time.Duration) bool
	Stop() bool
}

// socketClock starts timers; tests give the registry one they fire by hand.
type socketClock func(d time.Duration, f func()) timer

func realClock(d time.Duration, f func()) timer { return time.AfterFunc(d, f) }

// sockets is the registry of the WebSocket connections this Kiri holds, by connection id.
type sockets struct {
	mu    sync.RWMutex
	conns map[string]*socket
	// idle and maxAge are the connections' limits; after starts their timers.
	idle, maxAge time.Duration
	after        socketClock
	wg           sync.WaitGroup
}

func newSockets() *sockets {
	return &sockets{conns: map[string]*socket{}, idle: socketIdleTimeout, maxAge: socketMaxDuration, after: realClock}
}

// Connection describes a live WebSocket connection, as GetConnection reports it.
type Connection struct {
	ID, APIID, Stage, Account, Region string
	SourceIP, UserAgent               string
	ConnectedAt, LastActiveAt         time.Time
}

// socket is one live connection: the client's, its API and stage, and its limits' timers. It
// holds no goroutine of its own but its read loop, and no buffer while idle but gorilla's read
// buffer (the HTTP server's, reused).
type socket struct {
	id, apiID, stage, account, region string
	sourceIP, userAgent               string
	domain                            string
	connectedAt                       time.Time
	// authorizer is what the $connect route's Lambda authorizer gave (principalId and
	// context), iam the caller of an AWS_IAM $connect route: every event of the connection
	// carries them.
	authorizer          map[string]any
	iam                 *iamAuth
	lastActive          atomic.Int64 // Unix nanoseconds
	ws                  *websocket.Conn
	wmu                 sync.Mutex
	idleTimer, maxTimer timer
	// closing is set once the server decided to close, with the code and reason it sent
	// (written under wmu).
	closing     atomic.Bool
	closeCode   int
	closeReason string
}

// add registers c and starts its limits' timers.
func (ss *sockets) add(c *socket) {
	c.idleTimer = ss.after(ss.idle, func() { c.closeWith(websocket.CloseGoingAway, "Going away") })
	c.maxTimer = ss.after(ss.maxAge, func() { c.closeWith(websocket.CloseGoingAway, "Going away") })
	ss.mu.Lock()
	ss.conns[c.id] = c
	ss.mu.Unlock()
}

// remove forgets c and stops its timers.
func (ss *sockets) remove(c *socket) {
	c.idleTimer.Stop()
	c.maxTimer.Stop()
	ss.mu.Lock()
	delete(ss.conns, c.id)
	ss.mu.Unlock()
}

func (ss *sockets) get(id string) (*socket, bool) {
	ss.mu.RLock()
	c, ok := ss.conns[id]
	ss.mu.RUnlock()
	return c, ok
}

// closeAll closes every connection and waits for their read loops to end.
func (ss *sockets) closeAll() {
	ss.mu.RLock()
	all := make([]*socket, 0, len(ss.conns))
	for _, c := range ss.conns {
		all = append(all, c)
	}
	ss.mu.RUnlock()
	for _, c := range all {
		c.closeWith(websocket.CloseGoingAway, "Going away")
		c.ws.UnderlyingConn().Close()
	}
	ss.wg.Wait()
}

// describe is c as GetConnection reports it.
func (c *socket) describe() Connection {
	return Connection{ID: c.id, APIID: c.apiID, Stage: c.stage, Account: c.account, Region: c.region,
		SourceIP: c.sourceIP, UserAgent: c.userAgent, ConnectedAt: c.connectedAt, LastActiveAt: time.Unix(0, c.lastActive.Load())}
}

// send writes one message to the client: text when it is UTF-8, else binary.
func (c *socket) send(data []byte) error {
	if c.closing.Load() {
		return ErrGone
	}
	typ := websocket.TextMessage
	if !utf8.Valid(data) {
		typ = websocket.BinaryMessage
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.ws.SetWriteDeadline(time.Now().Add(socketWriteTimeout))
	if err := c.ws.WriteMessage(typ, data); err != nil {
		return ErrGone
	}
	return nil
}

// closeWith starts the server's close: it sends the close frame and gives the client closeGrace
// to answer before the read loop gives up. Only the first call counts.
func (c *socket) closeWith(code int, reason string) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.closing.Load() {
		return
	}
	c.closeCode, c.closeReason = code, reason
	c.closing.Store(true)
	c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(socketWriteTimeout))
	c.ws.UnderlyingConn().SetReadDeadline(time.Now().Add(closeGrace))
}

// closedBy reports whether the server closed c, and with which code and reason.
func (c *socket) closedBy() (bool, int, string) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.closing.Load(), c.closeCode, c.closeReason
}

// newConnectionID returns a connection or message id as API Gateway's look: 16 characters of
// base64 text ending in "=", here without the URL-unsafe "+" and "/".
func newConnectionID() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 16)
	rand.Read(b)
	for i := range b[:15] {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	b[15] = '='
	return string(b)
}

// upgrader accepts WebSocket handshakes. It reuses the HTTP server's read buffer for each
// connection and lends write buffers from a pool only while a message is written, so an idle
// connection holds one 4 KiB buffer.
var upgrader = websocket.Upgrader{
	CheckOrigin:     func(*http.Request) bool { return true },
	WriteBufferPool: &sync.Pool{},
}

// hijacker gives gorilla the connection behind the edge's response writers, which unwrap to it.
type hijacker struct{ http.ResponseWriter }

func (h hijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(h.ResponseWriter).Hijack()
}
