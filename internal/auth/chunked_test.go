package auth

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// testStreaming returns a strict-mode streaming context for the test key.
func testStreaming(claim string) *StreamingContext {
	sig := &Signature{AccessKeyID: testKeyID, Date: "20240501", Region: "us-east-1", Service: "s3",
		AmzDate: "20240501T120000Z", Signature: strings.Repeat("ab", 32), PayloadHash: claim}
	var a Authenticator
	k := Key{AccessKeyID: testKeyID, SecretAccessKey: testSecret}
	key := a.cache.signingKey(&k, sig)
	return newStreamingContext(sig, key[:])
}

// signedBody encodes chunks as STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER] does.
func signedBody(sc *StreamingContext, chunks []string, trailer string) string {
	var b strings.Builder
	prev := sc.SeedSignature
	for _, c := range append(chunks, "") {
		sum := sha256.Sum256([]byte(c))
		prev = sc.ChunkSignature(prev, sum[:])
		fmt.Fprintf(&b, "%x;chunk-signature=%s\r\n%s", len(c), prev, c)
		if c != "" {
			b.WriteString("\r\n")
		}
	}
	if trailer != "" {
		b.WriteString(trailer + "\r\n")
		fmt.Fprintf(&b, "x-amz-trailer-signature:%s\r\n", sc.TrailerSignature(prev, []byte(trailer+"\n")))
	}
	b.WriteString("\r\n")
	return b.String()
}

func chunkedRequest(body, claim string, decoded int) *http.Request {
	r, _ := http.NewRequest(http.MethodPut, "http://"+testHost+"/b/k", strings.NewReader(body))
	r.Header.Set("X-Amz-Content-Sha256", claim)
	r.Header.Set("Content-Encoding", "aws-chunked,gzip")
	if decoded >= 0 {
		r.Header.Set("X-Amz-Decoded-Content-Length", fmt.Sprint(decoded))
	}
	return r
}

func TestDecodeChunked(t *testing.T) {
	signed := testStreaming(StreamingHMACSHA256Payload)
	signedTrailer := testStreaming(StreamingHMACSHA256PayloadTrailer)
	devCtx := &StreamingContext{PayloadHash: StreamingHMACSHA256Payload}
	good := signedBody(signed, []string{"hello ", "world"}, "")
	tests := []struct {
		name     string
		body     string
		claim    string
		sc       *StreamingContext
		decoded  int
		want     string
		wantCode string
		trailer  string
	}{
		{name: "unsigned chunks with a checksum trailer decode", claim: StreamingUnsignedPayloadTrailer, sc: signed,
			body: "5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n", decoded: 11,
			want: "hello world", trailer: "DUoRhQ=="},
		{name: "unsigned trailer without the final blank line decodes", claim: StreamingUnsignedPayloadTrailer, sc: signed,
			body: "5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n", decoded: 5, want: "hello", trailer: "NhCmhg=="},
		{name: "empty body with trailer decodes", claim: StreamingUnsignedPayloadTrailer, sc: signed,
			body: "0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n", decoded: 0, want: "", trailer: "AAAAAA=="},
		{name: "signed chunks verify", claim: StreamingHMACSHA256Payload, sc: signed, body: good, decoded: 11, want: "hello world"},
		{name: "signed chunks with signed trailer verify", claim: StreamingHMACSHA256PayloadTrailer, sc: signedTrailer,
			body:    signedBody(signedTrailer, []string{"abc"}, "x-amz-checksum-crc32:NSRBwg=="),
			decoded: 3, want: "abc", trailer: "NSRBwg=="},
		{name: "tampered chunk data is SignatureDoesNotMatch", claim: StreamingHMACSHA256Payload, sc: signed,
			body: strings.Replace(good, "world", "w0rld", 1), decoded: 11, wantCode: "SignatureDoesNotMatch"},
		{name: "tampered trailer is SignatureDoesNotMatch", claim: StreamingHMACSHA256PayloadTrailer, sc: signedTrailer,
			body:    strings.Replace(signedBody(signedTrailer, []string{"abc"}, "x-amz-checksum-crc32:NSRBwg=="), "NSRBwg", "AAAAAA", 1),
			decoded: 3, wantCode: "SignatureDoesNotMatch"},
		{name: "missing chunk signature is SignatureDoesNotMatch", claim: StreamingHMACSHA256Payload, sc: signed,
			body: "5\r\nhello\r\n0\r\n\r\n", decoded: 5, wantCode: "SignatureDoesNotMatch"},
		{name: "dev mode does not check chunk signatures", claim: StreamingHMACSHA256Payload, sc: devCtx,
			body: strings.Replace(good, "world", "w0rld", 1), decoded: 11, want: "hello w0rld"},
		{name: "decoded length larger than the body is IncompleteBody", claim: StreamingUnsignedPayloadTrailer, sc: signed,
			body: "5\r\nhello\r\n0\r\n\r\n", decoded: 6, wantCode: "IncompleteBody"},
		{name: "decoded length smaller than the body is IncompleteBody", claim: StreamingUnsignedPayloadTrailer, sc: signed,
			body: "5\r\nhello\r\n0\r\n\r\n", decoded: 4, wantCode: "IncompleteBody"},
		{name: "truncated chunk is IncompleteBody", claim: StreamingUnsignedPayloadTrailer, sc: signed,
			body: "a\r\nhello", decoded: -1, wantCode: "IncompleteBody"},
		{name: "chunk longer than its size is IncompleteBody", claim: StreamingUnsignedPayloadTrailer, sc: signed,
			body: "3\r\nhello\r\n0\r\n\r\n", decoded: -1, wantCode: "IncompleteBody"},
		{name: "bad chunk size is IncompleteBody", claim: StreamingUnsignedPayloadTrailer, sc: signed,
			body: "zz\r\nhello\r\n0\r\n\r\n", decoded: -1, wantCode: "IncompleteBody"},
		{name: "overlong chunk line is IncompleteBody", claim: StreamingUnsignedPayloadTrailer, sc: signed,
			body: "5;" + strings.Repeat("x", 5000) + "\r\nhello\r\n0\r\n\r\n", decoded: -1, wantCode: "IncompleteBody"},
		{name: "malformed trailer line is MalformedTrailerError", claim: StreamingUnsignedPayloadTrailer, sc: signed,
			body: "0\r\nnot a header\r\n\r\n", decoded: 0, wantCode: "MalformedTrailerError"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := chunkedRequest(tc.body, tc.claim, tc.decoded)
			if err := DecodeChunked(r, tc.sc); err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(r.Body)
			if tc.wantCode != "" {
				status := 400
				if tc.wantCode == "SignatureDoesNotMatch" {
					status = 403
				}
				wantAWSError(t, err, tc.wantCode, status)
				if _, err2 := r.Body.Read(make([]byte, 1)); err2 != err {
					t.Fatalf("error is not sticky: %v then %v", err, err2)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Fatalf("body = %q, want %q", got, tc.want)
			}
			if a, v, ok := TrailingChecksum(r); tc.trailer != "" && (!ok || a != "CRC32" || v != tc.trailer) {
				t.Fatalf("trailer = %s %s %v, want CRC32 %s", a, v, ok, tc.trailer)
			}
		})
	}
}

func TestDecodeChunkedRewritesTheRequest(t *testing.T) {
	r := chunkedRequest("5\r\nhello\r\n0\r\n\r\n", StreamingUnsignedPayloadTrailer, 5)
	r.Header.Set("X-Amz-Trailer", "x-amz-checksum-crc32c")
	if err := DecodeChunked(r, nil); err != nil {
		t.Fatal(err)
	}
	if r.ContentLength != 5 || r.Header.Get("Content-Length") != "5" {
		t.Fatalf("content length = %d %q, want 5", r.ContentLength, r.Header.Get("Content-Length"))
	}
	if got := r.Header.Values("Content-Encoding"); len(got) != 1 || got[0] != "gzip" {
		t.Fatalf("content-encoding = %q, want [gzip]", got)
	}
	if got := DeclaredChecksumTrailers(r); len(got) != 1 || got[0] != "CRC32C" {
		t.Fatalf("declared trailers = %q", got)
	}
}

func TestDecodeChunkedKeepsPlainBodiesNamedAWSChunked(t *testing.T) {
	for _, enc := range []string{"aws-chunked", "gzip, aws-chunked", "aws-chunked, aws-chunked"} {
		r, _ := http.NewRequest(http.MethodPut, "http://"+testHost+"/b/k", strings.NewReader("plain"))
		r.Header.Set("X-Amz-Content-Sha256", UnsignedPayload)
		r.Header.Set("Content-Encoding", enc)
		body := r.Body
		if err := DecodeChunked(r, nil); err != nil || r.Body != body {
			t.Fatalf("%q: plain body was replaced (err %v)", enc, err)
		}
		want := []string(nil)
		if strings.HasPrefix(enc, "gzip") {
			want = []string{"gzip"}
		}
		if got := r.Header.Values("Content-Encoding"); !slices.Equal(got, want) {
			t.Fatalf("%q: content-encoding = %q, want %q", enc, got, want)
		}
	}
}

func TestDecodeChunkedLeavesPlainBodiesAlone(t *testing.T) {
	r, _ := http.NewRequest(http.MethodPut, "http://"+testHost+"/b/k", strings.NewReader("plain"))
	r.Header.Set("X-Amz-Content-Sha256", UnsignedPayload)
	body := r.Body
	if err := DecodeChunked(r, nil); err != nil || r.Body != body {
		t.Fatalf("plain body was replaced (err %v)", err)
	}
}

// TestChunkSignaturesMatchTheSDKStreamSigner checks the chunk chain against aws-sdk-go-v2's
// own streaming signer.
func TestChunkSignaturesMatchTheSDKStreamSigner(t *testing.T) {
	sc := testStreaming(StreamingHMACSHA256Payload)
	seed, _ := hex.DecodeString(sc.SeedSignature)
	signer := v4.NewStreamSigner(longTermCreds, "s3", "us-east-1", seed)
	at, _ := time.Parse(amzDateFormat, sc.AmzDate)
	prev := sc.SeedSignature
	for _, chunk := range []string{"first chunk", "second", ""} {
		want, err := signer.GetSignature(t.Context(), nil, []byte(chunk), at)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256([]byte(chunk))
		got := sc.ChunkSignature(prev, sum[:])
		if got != fmt.Sprintf("%x", want) {
			t.Fatalf("chunk %q: signature %s, SDK %x", chunk, got, want)
		}
		prev = got
	}
}

func TestDecodeChunkedStreamsLargeBodies(t *testing.T) {
	sc := testStreaming(StreamingHMACSHA256Payload)
	chunk := strings.Repeat("x", 64<<10)
	chunks := make([]string, 64)
	for i := range chunks {
		chunks[i] = chunk
	}
	r := chunkedRequest(signedBody(sc, chunks, ""), StreamingHMACSHA256Payload, 64*len(chunk))
	if err := DecodeChunked(r, sc); err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, r.Body)
	if err != nil || n != int64(64*len(chunk)) {
		t.Fatalf("read %d, %v", n, err)
	}
}
