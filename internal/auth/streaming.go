package auth

import (
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
)

// StreamingContext is what verifying the chunk signatures of an aws-chunked
// body (x-amz-content-sha256: STREAMING-*) needs once the request itself is
// verified. Printing or logging it never shows the signing key.
type StreamingContext struct {
	PayloadHash   string // the STREAMING-* claim of the request
	SigningKey    []byte // derived SigV4 key; nil in dev mode, where chunk signatures are not checked
	SeedSignature string // the request's own signature, which the first chunk chains from
	AmzDate       string // signing time, "20060102T150405Z"
	Scope         string // "yyyymmdd/region/service/aws4_request"
}

func newStreamingContext(sig *Signature, signingKey []byte) *StreamingContext {
	c := &StreamingContext{
		PayloadHash:   sig.PayloadHash,
		SeedSignature: sig.Signature,
		AmzDate:       sig.AmzDate,
		Scope:         string(appendScope(nil, sig)),
	}
	if signingKey != nil {
		c.SigningKey = append([]byte(nil), signingKey...)
	}
	return c
}

// Verifies reports whether chunk signatures must be checked (strict mode).
func (c *StreamingContext) Verifies() bool { return c.SigningKey != nil }

// ChunkSignature returns the hex signature of one aws-chunked chunk whose
// data hashes to chunkSHA256, chained from the previous chunk's signature
// (the seed signature for the first chunk). The final, empty chunk hashes to
// the SHA-256 of nothing.
func (c *StreamingContext) ChunkSignature(prevSignature string, chunkSHA256 []byte) string {
	return c.sign("AWS4-HMAC-SHA256-PAYLOAD", prevSignature, emptySHA256, chunkSHA256)
}

// TrailerSignature returns the hex signature of the trailing headers of an
// aws-chunked body (…-TRAILER claims), chained from the last chunk's
// signature. trailer is the canonical trailer, "name:value\n" per header.
func (c *StreamingContext) TrailerSignature(prevSignature string, trailer []byte) string {
	sum := sha256.Sum256(trailer)
	return c.sign("AWS4-HMAC-SHA256-TRAILER", prevSignature, "", sum[:])
}

func (c *StreamingContext) sign(algorithm, prev, extraHex string, sum []byte) string {
	buf := make([]byte, 0, 256)
	buf = append(buf, algorithm...)
	buf = append(buf, '\n')
	buf = append(buf, c.AmzDate...)
	buf = append(buf, '\n')
	buf = append(buf, c.Scope...)
	buf = append(buf, '\n')
	buf = append(buf, prev...)
	buf = append(buf, '\n')
	if extraHex != "" {
		buf = append(buf, extraHex...)
		buf = append(buf, '\n')
	}
	buf = hex.AppendEncode(buf, sum)
	mac := hmacSHA256Bytes(c.SigningKey, buf)
	return hex.EncodeToString(mac[:])
}

// String describes c without its signing key.
func (c *StreamingContext) String() string {
	return "StreamingContext{PayloadHash: " + c.PayloadHash + ", Scope: " + c.Scope + ", AmzDate: " + c.AmzDate + "}"
}

// GoString is String, so %#v does not print the key either.
func (c *StreamingContext) GoString() string { return c.String() }

// LogValue logs c without its signing key.
func (c *StreamingContext) LogValue() slog.Value {
	return slog.GroupValue(slog.String("payload_hash", c.PayloadHash), slog.String("scope", c.Scope))
}
