package auth

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/kiri-run/kiri/internal/awsproto"
)

// FuzzChunkedReader feeds arbitrary aws-chunked bodies to the decoder, signed and unsigned:
// it must never panic, never return more bytes than the declared decoded length, and fail
// only with *awsproto.Error values.
func FuzzChunkedReader(f *testing.F) {
	sc := testStreaming(StreamingHMACSHA256PayloadTrailer)
	f.Add("5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n", false, int64(5))
	f.Add(signedBody(sc, []string{"abc", "de"}, "x-amz-checksum-crc32:NSRBwg=="), true, int64(5))
	f.Add("ffffffffffffffff\r\n", false, int64(-1))
	f.Add("0;chunk-signature=\r\n:\r\n\r\n", true, int64(0))
	f.Add("3\r\nabc\n0\n\n", false, int64(3))
	f.Fuzz(func(t *testing.T, body string, signed bool, want int64) {
		claim := StreamingUnsignedPayloadTrailer
		if signed {
			claim = StreamingHMACSHA256PayloadTrailer
		}
		if want < -1 {
			want = -1
		}
		r := newChunkedReader(io.NopCloser(strings.NewReader(body)), sc, claim, want, map[string][]string{})
		n, err := io.Copy(io.Discard, r)
		if want >= 0 && n > want {
			t.Fatalf("read %d bytes, declared %d", n, want)
		}
		var ae *awsproto.Error
		if err != nil && !errors.As(err, &ae) {
			t.Fatalf("error %v (%T) is not an *awsproto.Error", err, err)
		}
	})
}
