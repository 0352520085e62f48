package edge

import (
	"errors"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
)

// requestBody is a request body as handlers read it. A client that stops sending for longer
// than idle fails the read with S3's RequestTimeout (each read gets a fresh deadline, so a large
// upload that keeps moving is never cut), and one that goes away mid-body fails it with
// IncompleteBody: both are the client's fault (400), not Kiri's. Either error is an
// *awsproto.Error, so it reaches the client as it is, whoever read the body.
type requestBody struct {
	body   io.ReadCloser
	rc     *http.ResponseController
	idle   time.Duration // 0: no deadline
	length int64         // Content-Length; -1 when unknown
	ended  bool          // a read failed or hit EOF
}

func (b *requestBody) Read(p []byte) (int, error) {
	// Once the body has ended, net/http watches the connection for a client that goes away,
	// with no deadline (it clears ours); a deadline set now would cut that watch, and with it
	// a request that runs on (an invocation). After a failed read the passed deadline stays,
	// so that net/http's attempt to read the rest of the body fails at once.
	if b.idle > 0 && !b.ended {
		b.rc.SetReadDeadline(time.Now().Add(b.idle))
	}
	n, err := b.body.Read(p)
	switch {
	case err == nil:
		return n, nil
	case errors.Is(err, io.EOF):
		b.ended = true
		return n, err
	default:
		b.ended = true
		return n, b.clientError(err)
	}
}

func (b *requestBody) Close() error { return b.body.Close() }

// clientError turns the failure to read the body into the error S3 answers for it.
func (b *requestBody) clientError(err error) error {
	var ae *awsproto.Error
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.Is(err, os.ErrDeadlineExceeded):
		return awsproto.Errorf("RequestTimeout", http.StatusBadRequest, "Your socket connection to the server was not read from "+
			"or written to within the timeout period. Idle connections will be closed.")
	case b.length > 0:
		return awsproto.Errorf("IncompleteBody", http.StatusBadRequest, "You did not provide the number of bytes specified by the Content-Length HTTP header")
	default:
		return awsproto.Errorf("IncompleteBody", http.StatusBadRequest, "The request body terminated unexpectedly")
	}
}
