package auth

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"io"
	"net/http"
	"strings"

	"github.com/kiri-run/kiri/internal/awsproto"
)

// Payload hash claims a request may make in x-amz-content-sha256.
const (
	UnsignedPayload                   = "UNSIGNED-PAYLOAD"
	StreamingUnsignedPayloadTrailer   = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
	StreamingHMACSHA256Payload        = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
	StreamingHMACSHA256PayloadTrailer = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
	streamingECDSAPayload             = "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD"
	streamingECDSAPayloadTrailer      = "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER"
	emptySHA256                       = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	msgSHA256Mismatch                 = "The provided 'x-amz-content-sha256' header does not match what was computed."
	msgBadPayloadHash                 = "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, " +
		"STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, or a valid sha256 value."
)

// CodeContentSHA256Mismatch is the error code a reader from NewSHA256Reader
// returns when the body does not match the claimed hash.
const CodeContentSHA256Mismatch = "XAmzContentSHA256Mismatch"

// MaxHashedBody is the largest body Verify reads to hash it (non-S3 requests
// that claim no payload hash, or claim a hex one).
const MaxHashedBody = 16 << 20

// payload is the payload hash a request is verified with.
type payload struct {
	hash          string // the value in the canonical request
	verifyBody    bool   // hash is a hex claim the body must still be checked against
	bodyRead      bool   // hash was computed from the body
	retryWithBody bool   // hash is an assumption; retry with the body's hash on mismatch
}

// payloadClaim decides the payload hash of the canonical request without
// reading the body, except for non-S3 header-signed requests that claim none.
func payloadClaim(r *http.Request, sig *Signature, s3 bool) (payload, *failure) {
	claim := sig.PayloadHash
	switch {
	case claim == "" && sig.Presigned:
		return payload{hash: UnsignedPayload, retryWithBody: !s3}, nil
	case claim == "" && s3:
		return payload{}, &failure{kind: failBadPayloadHash, message: "Missing required header for this request: x-amz-content-sha256"}
	case claim == "":
		return hashBody(r)
	case claim == UnsignedPayload || isStreaming(claim):
		return payload{hash: claim}, nil
	case claim == streamingECDSAPayload || claim == streamingECDSAPayloadTrailer:
		return payload{}, &failure{kind: failUnsupported, message: "SigV4a (" + claim + ") payload signing is not supported; " +
			"sign requests with SigV4 (AWS4-HMAC-SHA256)"}
	case isHexSHA256(claim):
		return payload{hash: claim, verifyBody: true}, nil
	}
	return payload{}, &failure{kind: failBadPayloadHash, message: msgBadPayloadHash}
}

// checkPayload holds the body to a verified hex claim: S3 bodies are checked
// as they are read, others are read and checked now.
func checkPayload(r *http.Request, p payload, s3 bool) *failure {
	if !p.verifyBody {
		return nil
	}
	if s3 {
		r.Body = NewSHA256Reader(r.Body, p.hash)
		return nil
	}
	got, f := hashBody(r)
	if f != nil {
		return f
	}
	if !strings.EqualFold(got.hash, p.hash) {
		return &failure{kind: failPayloadMismatch, message: "The provided X-Amz-Content-Sha256 does not match the request body."}
	}
	return nil
}

func isStreaming(claim string) bool {
	switch claim {
	case StreamingUnsignedPayloadTrailer, StreamingHMACSHA256Payload, StreamingHMACSHA256PayloadTrailer:
		return true
	}
	return false
}

func isHexSHA256(s string) bool {
	if len(s) != 2*sha256.Size {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// hashBody reads the whole body (at most MaxHashedBody), hashes it and puts
// back a reader over the same bytes for later readers.
func hashBody(r *http.Request) (payload, *failure) {
	if r.Body == nil || r.Body == http.NoBody {
		return payload{hash: emptySHA256, bodyRead: true}, nil
	}
	if r.ContentLength > MaxHashedBody {
		return payload{}, &failure{kind: failBodyTooLarge, message: "The request body is larger than 16 MiB, too large to sign-check."}
	}
	orig := r.Body
	b, err := io.ReadAll(io.LimitReader(orig, MaxHashedBody+1))
	r.Body = replayBody{Reader: bytes.NewReader(b), orig: orig}
	if err != nil {
		return payload{}, &failure{kind: failBodyRead}
	}
	if len(b) > MaxHashedBody {
		return payload{}, &failure{kind: failBodyTooLarge, message: "The request body is larger than 16 MiB, too large to sign-check."}
	}
	sum := sha256.Sum256(b)
	return payload{hash: hex.EncodeToString(sum[:]), bodyRead: true}, nil
}

// replayBody serves a body that was read for hashing and closes the original.
type replayBody struct {
	*bytes.Reader
	orig io.Closer
}

func (b replayBody) Close() error { return b.orig.Close() }

// NewSHA256Reader returns body wrapped so that it hashes what is read through
// it. At the end of the body it compares the SHA-256 with wantHex (64 hex
// digits): when they differ, Read returns an *awsproto.Error with code
// XAmzContentSHA256Mismatch (CodeContentSHA256Mismatch) and status 400
// instead of io.EOF, and keeps returning it. Consumers must therefore treat
// any error other than io.EOF, including one that comes with the last bytes,
// as a failed upload and discard what they stored. Close closes body. A nil
// body reads as empty.
func NewSHA256Reader(body io.ReadCloser, wantHex string) io.ReadCloser {
	if body == nil {
		body = http.NoBody
	}
	return &sha256Reader{body: body, want: strings.ToLower(wantHex), h: sha256.New()}
}

type sha256Reader struct {
	body io.ReadCloser
	want string
	h    hash.Hash
	err  error // sticky result once the end was reached
}

func (s *sha256Reader) Read(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	n, err := s.body.Read(p)
	s.h.Write(p[:n])
	if err == io.EOF {
		var sum [sha256.Size]byte
		var got [2 * sha256.Size]byte
		hex.Encode(got[:], s.h.Sum(sum[:0]))
		if string(got[:]) != s.want {
			err = awsproto.Errorf(CodeContentSHA256Mismatch, http.StatusBadRequest, "%s", msgSHA256Mismatch)
		}
		s.err = err
	}
	return n, err
}

func (s *sha256Reader) Close() error { return s.body.Close() }
