package auth

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"hash"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/kiri-run/kiri/internal/awsproto"
)

// Headers of aws-chunked requests.
const (
	headerDecodedLength = "X-Amz-Decoded-Content-Length"
	headerTrailer       = "X-Amz-Trailer"
	trailerSignature    = "x-amz-trailer-signature"
	checksumPrefix      = "x-amz-checksum-"
)

// Limits that keep a hostile aws-chunked body from growing memory: a chunk header line and the
// whole trailer section are read through a small buffer.
const (
	maxChunkLine    = 4096
	maxTrailerBytes = 16 << 10
	maxChunkSize    = 1 << 40
)

var emptyHash = sha256.Sum256(nil)

// DecodeChunked replaces the body of an aws-chunked request with a reader of the decoded
// bytes. A request is aws-chunked when its payload hash is a STREAMING-* claim (sc is then the
// Identity's Streaming context). Content-Encoding does not decide it: as S3 does, a plain body
// whose Content-Encoding names aws-chunked is stored as sent, with aws-chunked dropped from
// the encoding it keeps. In strict mode (sc.Verifies) the chunk signatures of a
// STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER] body, and its trailer signature, are checked as
// the body is read.
//
// The request is rewritten as the decoded one: ContentLength and the Content-Length header
// become x-amz-decoded-content-length (unknown: -1 and no header), and aws-chunked is removed
// from Content-Encoding. Trailing headers (x-amz-checksum-crc32, …) are put in r.Trailer once
// the body has been read to its end; see TrailingChecksum.
//
// Read returns *awsproto.Error values: IncompleteBody (400) for a body shorter or longer than
// declared or badly framed, SignatureDoesNotMatch (403) for a bad chunk or trailer signature.
// They are sticky, and a consumer must discard what it stored on any error other than io.EOF.
func DecodeChunked(r *http.Request, sc *StreamingContext) error {
	claim := r.Header.Get(headerContentSHA256)
	encodings, named := withoutAWSChunked(r.Header.Values("Content-Encoding"))
	if named {
		r.Header.Del("Content-Encoding")
		for _, e := range encodings {
			r.Header.Add("Content-Encoding", e)
		}
	}
	if sc == nil && !isStreaming(claim) {
		return nil
	}
	want := int64(-1)
	if v := r.Header.Get(headerDecodedLength); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return awsproto.Errorf("InvalidArgument", http.StatusBadRequest, "x-amz-decoded-content-length must be a non-negative integer")
		}
		want = n
	}
	if r.Trailer == nil {
		r.Trailer = http.Header{}
	}
	cr := newChunkedReader(r.Body, sc, claim, want, r.Trailer)
	r.Body = cr
	r.ContentLength = want
	if want >= 0 {
		r.Header.Set("Content-Length", strconv.FormatInt(want, 10))
	} else {
		r.Header.Del("Content-Length")
	}
	return nil
}

// withoutAWSChunked returns the content codings other than aws-chunked, and whether it was there.
func withoutAWSChunked(values []string) ([]string, bool) {
	var rest []string
	found := false
	for _, v := range values {
		var keep []string
		for e := range strings.SplitSeq(v, ",") {
			e = strings.TrimSpace(e)
			switch {
			case strings.EqualFold(e, "aws-chunked"):
				found = true
			case e != "":
				keep = append(keep, e)
			}
		}
		if len(keep) > 0 {
			rest = append(rest, strings.Join(keep, ","))
		}
	}
	return rest, found
}

// DeclaredChecksumTrailers returns the checksum algorithms ("CRC32", "SHA256", …) that an
// aws-chunked request announces in x-amz-trailer, so a handler can compute them while storing.
func DeclaredChecksumTrailers(r *http.Request) []string {
	var algos []string
	for _, v := range r.Header.Values(headerTrailer) {
		for name := range strings.SplitSeq(v, ",") {
			name = strings.ToLower(strings.TrimSpace(name))
			if a, ok := strings.CutPrefix(name, checksumPrefix); ok && a != "" {
				algos = append(algos, strings.ToUpper(a))
			}
		}
	}
	return algos
}

// TrailingChecksum returns the algorithm ("CRC32", …) and base64 value of the x-amz-checksum-*
// trailer an aws-chunked body carried. It is valid only after the body was read to io.EOF.
func TrailingChecksum(r *http.Request) (algorithm, value string, ok bool) {
	for name, vs := range r.Trailer {
		if a, found := strings.CutPrefix(strings.ToLower(name), checksumPrefix); found && a != "" && len(vs) > 0 {
			return strings.ToUpper(a), vs[0], true
		}
	}
	return "", "", false
}

func errIncompleteBody(msg string) *awsproto.Error {
	return awsproto.Errorf("IncompleteBody", http.StatusBadRequest, "%s", msg)
}

func errChunkSignature() *awsproto.Error {
	return awsproto.Errorf("SignatureDoesNotMatch", http.StatusForbidden, "%s", msgS3BadSignature)
}

func errMalformedTrailer() *awsproto.Error {
	return awsproto.Errorf("MalformedTrailerError", http.StatusBadRequest,
		"The request contained trailing data that was not well-formed or did not conform to our published schema.")
}

// chunkedReader decodes an aws-chunked body as it is read, without buffering chunks: chunk
// data is passed on as it arrives and its signature checked at the chunk's end, before the
// next chunk (or EOF) is returned.
type chunkedReader struct {
	body          io.ReadCloser
	br            *bufio.Reader
	sc            *StreamingContext
	signed        bool // chunk signatures are checked
	trailerSigned bool // the trailer carries a signature that is checked
	prevSig       string
	chunkSig      string
	h             hash.Hash
	want, got     int64 // decoded length declared (-1: unknown) and read so far
	left          int64 // bytes left in the current chunk
	inChunk       bool
	trailer       http.Header
	err           error // sticky: io.EOF at the end, or the failure
}

func newChunkedReader(body io.ReadCloser, sc *StreamingContext, claim string, want int64, trailer http.Header) *chunkedReader {
	if body == nil {
		body = http.NoBody
	}
	c := &chunkedReader{body: body, br: bufio.NewReaderSize(body, maxChunkLine), sc: sc, want: want, trailer: trailer}
	if sc != nil && sc.Verifies() && (claim == StreamingHMACSHA256Payload || claim == StreamingHMACSHA256PayloadTrailer) {
		c.signed, c.trailerSigned = true, claim == StreamingHMACSHA256PayloadTrailer
		c.prevSig, c.h = sc.SeedSignature, sha256.New()
	}
	return c
}

func (c *chunkedReader) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	for c.left == 0 {
		if err := c.advance(); err != nil {
			c.err = err
			return 0, err
		}
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.br.Read(p)
	c.left -= int64(n)
	c.got += int64(n)
	if c.h != nil {
		c.h.Write(p[:n])
	}
	if c.want >= 0 && c.got > c.want {
		c.err = errIncompleteBody("The request body is longer than x-amz-decoded-content-length.")
		return 0, c.err
	}
	if err != nil && n == 0 {
		c.err = errIncompleteBody("The request body terminated unexpectedly")
		if !errors.Is(err, io.EOF) {
			c.err = err
		}
		return 0, c.err
	}
	return n, nil
}

// advance finishes the current chunk and reads the next chunk's header; at the final chunk
// it reads the trailer and returns io.EOF.
func (c *chunkedReader) advance() error {
	if c.inChunk {
		if err := c.expectCRLF(); err != nil {
			return err
		}
		if c.signed {
			if err := c.verifyChunk(c.h.Sum(nil)); err != nil {
				return err
			}
		}
		c.inChunk = false
	}
	size, sig, err := c.readChunkHeader()
	if err != nil {
		return err
	}
	c.chunkSig = sig
	if size > 0 {
		c.left, c.inChunk = size, true
		if c.h != nil {
			c.h.Reset()
		}
		return nil
	}
	if err := c.verifyChunk(emptyHash[:]); err != nil {
		return err
	}
	if err := c.readTrailer(); err != nil {
		return err
	}
	if c.want >= 0 && c.got != c.want {
		return errIncompleteBody("You did not provide the number of bytes specified by the x-amz-decoded-content-length HTTP header.")
	}
	return io.EOF
}

func (c *chunkedReader) verifyChunk(sum []byte) error {
	if !c.signed {
		return nil
	}
	want := c.sc.ChunkSignature(c.prevSig, sum)
	if subtle.ConstantTimeCompare([]byte(want), []byte(c.chunkSig)) != 1 {
		return errChunkSignature()
	}
	c.prevSig = c.chunkSig
	return nil
}

// readLine reads one line without its CR LF; it fails on lines longer than maxChunkLine.
func (c *chunkedReader) readLine() ([]byte, error) {
	line, err := c.br.ReadSlice('\n')
	switch {
	case errors.Is(err, bufio.ErrBufferFull):
		return nil, errIncompleteBody("An aws-chunked line is too long.")
	case errors.Is(err, io.EOF):
		if len(line) == 0 {
			return nil, io.EOF
		}
		return nil, errIncompleteBody("The request body terminated unexpectedly")
	case err != nil:
		return nil, err
	}
	line = line[:len(line)-1]
	return bytes.TrimSuffix(line, []byte{'\r'}), nil
}

func (c *chunkedReader) expectCRLF() error {
	line, err := c.readLine()
	if errors.Is(err, io.EOF) {
		return errIncompleteBody("The request body terminated unexpectedly")
	}
	if err != nil {
		return err
	}
	if len(line) != 0 {
		return errIncompleteBody("An aws-chunked chunk is longer than its declared size.")
	}
	return nil
}

// readChunkHeader reads "hex-size[;chunk-signature=sig][;ext…]".
func (c *chunkedReader) readChunkHeader() (int64, string, error) {
	line, err := c.readLine()
	if errors.Is(err, io.EOF) {
		return 0, "", errIncompleteBody("The request body terminated unexpectedly")
	}
	if err != nil {
		return 0, "", err
	}
	sizeHex, exts, _ := bytes.Cut(line, []byte{';'})
	sizeHex = bytes.TrimSpace(sizeHex)
	if len(sizeHex) == 0 || len(sizeHex) > 16 {
		return 0, "", errIncompleteBody("An aws-chunked chunk size is not valid.")
	}
	size, err := strconv.ParseInt(string(sizeHex), 16, 64)
	if err != nil || size < 0 || size > maxChunkSize {
		return 0, "", errIncompleteBody("An aws-chunked chunk size is not valid.")
	}
	sig := ""
	for len(exts) > 0 {
		var ext []byte
		ext, exts, _ = bytes.Cut(exts, []byte{';'})
		if k, v, ok := bytes.Cut(bytes.TrimSpace(ext), []byte{'='}); ok && string(k) == "chunk-signature" {
			sig = string(v)
		}
	}
	if c.signed && sig == "" {
		return 0, "", errChunkSignature()
	}
	return size, sig, nil
}

// readTrailer reads the trailing headers after the final chunk, up to the empty line (or the
// end of the body), verifies their signature when signed, and publishes them in c.trailer.
func (c *chunkedReader) readTrailer() error {
	var canonical []byte
	var sig string
	received := http.Header{}
	total := 0
	for {
		line, err := c.readLine()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if len(line) == 0 {
			break
		}
		if total += len(line); total > maxTrailerBytes {
			return errMalformedTrailer()
		}
		name, value, ok := bytes.Cut(line, []byte{':'})
		if !ok {
			return errMalformedTrailer()
		}
		k := strings.ToLower(strings.TrimSpace(string(name)))
		v := strings.TrimSpace(string(value))
		if k == "" {
			return errMalformedTrailer()
		}
		if k == trailerSignature {
			sig = v
			continue
		}
		canonical = append(canonical, k...)
		canonical = append(canonical, ':')
		canonical = append(canonical, v...)
		canonical = append(canonical, '\n')
		received.Add(k, v)
	}
	if c.trailerSigned {
		want := c.sc.TrailerSignature(c.prevSig, canonical)
		if subtle.ConstantTimeCompare([]byte(want), []byte(sig)) != 1 {
			return errChunkSignature()
		}
	}
	for k, vs := range received {
		for _, v := range vs {
			c.trailer.Add(k, v)
		}
	}
	return nil
}

func (c *chunkedReader) Close() error { return c.body.Close() }
