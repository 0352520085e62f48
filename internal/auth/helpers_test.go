package auth

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/kiri-run/kiri/internal/awsproto"
)

const (
	testKeyID     = "AKIAIOSFODNN7EXAMPLE"
	testSecret    = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	testAccount   = "123456789012"
	tempKeyID     = "ASIAIOSFODNN7EXAMPLE"
	tempSecret    = "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY"
	tempToken     = "FwoGZXIvYXdzEXAMPLE//token+with/specials=="
	tempAccount   = "210987654321"
	tempRoleARN   = "arn:aws:sts::210987654321:assumed-role/deployer/session-1"
	tempUserID    = "AROAEXAMPLEID:session-1"
	expiredKeyID  = "ASIAEXPIREDEXAMPLE00"
	expiredSecret = "expiredSecretKeyEXAMPLE"
	expiredToken  = "expired-token"
	testHost      = "localhost:4566"
)

var testNow = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

var (
	longTermCreds = aws.Credentials{AccessKeyID: testKeyID, SecretAccessKey: testSecret}
	tempCreds     = aws.Credentials{AccessKeyID: tempKeyID, SecretAccessKey: tempSecret, SessionToken: tempToken}
	expiredCreds  = aws.Credentials{AccessKeyID: expiredKeyID, SecretAccessKey: expiredSecret, SessionToken: expiredToken}
)

// fakeTemporaryKeys is an in-memory TemporaryKeys.
type fakeTemporaryKeys struct {
	keys map[string]Key
	err  error
}

func (f fakeTemporaryKeys) LookupTemporaryKey(_ context.Context, id string) (Key, bool, error) {
	if f.err != nil {
		return Key{}, false, f.err
	}
	k, ok := f.keys[id]
	return k, ok, nil
}

func testTemporaryKeys() fakeTemporaryKeys {
	return fakeTemporaryKeys{keys: map[string]Key{
		tempKeyID: {AccessKeyID: tempKeyID, SecretAccessKey: tempSecret, AccountID: tempAccount,
			SessionToken: tempToken, Expiration: testNow.Add(time.Hour), PrincipalARN: tempRoleARN, UserID: tempUserID},
		expiredKeyID: {AccessKeyID: expiredKeyID, SecretAccessKey: expiredSecret, AccountID: tempAccount,
			SessionToken: expiredToken, Expiration: testNow.Add(-time.Minute)},
	}}
}

func newTestAuthenticator(mode Mode) *Authenticator {
	return New(Config{
		Mode:      mode,
		Keys:      []Key{{AccessKeyID: testKeyID, SecretAccessKey: testSecret, AccountID: testAccount}},
		Temporary: testTemporaryKeys(),
		Now:       func() time.Time { return testNow },
	})
}

// request describes a request to sign with the SDK signer.
type request struct {
	method  string
	url     string // relative to http://localhost:4566
	body    string
	header  http.Header
	service string // signing name
	region  string
	// payloadHash is what the signer signs; "" → SHA-256 of body. With
	// contentSHA the same value is also sent as X-Amz-Content-Sha256.
	payloadHash string
	contentSHA  bool
	creds       aws.Credentials
	signedAt    time.Time // zero → testNow
	expires     string    // presigned X-Amz-Expires; "" → 900
}

func (q request) clientRequest(t testing.TB) *http.Request {
	t.Helper()
	var body io.Reader
	if q.body != "" {
		body = strings.NewReader(q.body)
	}
	method := q.method
	if method == "" {
		method = http.MethodGet
	}
	r, err := http.NewRequest(method, "http://"+testHost+q.url, body)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	for k, vs := range q.header {
		for _, v := range vs {
			r.Header.Add(k, v)
		}
	}
	if q.contentSHA {
		r.Header.Set("X-Amz-Content-Sha256", q.hash())
	}
	return r
}

func (q request) hash() string {
	if q.payloadHash != "" {
		return q.payloadHash
	}
	sum := sha256.Sum256([]byte(q.body))
	return hex.EncodeToString(sum[:])
}

func (q request) defaults() request {
	if q.service == "" {
		q.service = "s3"
	}
	if q.region == "" {
		q.region = "us-east-1"
	}
	if q.creds.AccessKeyID == "" {
		q.creds = longTermCreds
	}
	if q.signedAt.IsZero() {
		q.signedAt = testNow
	}
	return q
}

// sign signs q in its Authorization header and returns it as a server
// would receive it.
func (q request) sign(t testing.TB) *http.Request {
	t.Helper()
	q = q.defaults()
	r := q.clientRequest(t)
	err := v4.NewSigner().SignHTTP(context.Background(), q.creds, r, q.hash(), q.service, q.region, q.signedAt,
		func(o *v4.SignerOptions) { o.DisableURIPathEscaping = q.service == "s3" })
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	return overTheWire(t, r)
}

// presign presigns q and returns the request a client makes with the URL.
func (q request) presign(t testing.TB) *http.Request {
	t.Helper()
	q = q.defaults()
	if q.payloadHash == "" {
		q.payloadHash = UnsignedPayload
	}
	expires := q.expires
	if expires == "" {
		expires = "900"
	}
	r := q.clientRequest(t)
	query := r.URL.Query()
	query.Set("X-Amz-Expires", expires)
	r.URL.RawQuery = query.Encode()
	u, headers, err := v4.NewSigner().PresignHTTP(context.Background(), q.creds, r, q.hash(), q.service, q.region, q.signedAt,
		func(o *v4.SignerOptions) { o.DisableURIPathEscaping = q.service == "s3" })
	if err != nil {
		t.Fatalf("presign: %v", err)
	}
	var body io.Reader
	if q.body != "" {
		body = strings.NewReader(q.body)
	}
	pr, err := http.NewRequest(r.Method, u, body)
	if err != nil {
		t.Fatalf("new presigned request: %v", err)
	}
	for k, vs := range headers {
		if k == "Host" || k == "Content-Length" {
			continue
		}
		pr.Header[k] = vs
	}
	return overTheWire(t, pr)
}

// overTheWire serialises a client request and reads it back as the HTTP
// server does: Host moves to r.Host, RequestURI is the request line.
func overTheWire(t testing.TB, r *http.Request) *http.Request {
	t.Helper()
	var buf bytes.Buffer
	if err := r.Write(&buf); err != nil {
		t.Fatalf("write request: %v", err)
	}
	sr, err := http.ReadRequest(bufio.NewReader(&buf))
	if err != nil {
		t.Fatalf("read request: %v", err)
	}
	return sr
}

// wantAWSError asserts err is an *awsproto.Error with code and status.
func wantAWSError(t *testing.T, err error, code string, status int) *awsproto.Error {
	t.Helper()
	var e *awsproto.Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v (%T), want *awsproto.Error %s", err, err, code)
	}
	if e.Code != code || e.Status != status {
		t.Fatalf("error = %s/%d (%q), want %s/%d", e.Code, e.Status, e.Message, code, status)
	}
	return e
}

func setRequestURI(r *http.Request, uri string) {
	r.RequestURI = uri
	path, query, _ := strings.Cut(uri, "?")
	r.URL.RawPath = ""
	r.URL.Path = path
	r.URL.RawQuery = query
}

type awsCredentials = aws.Credentials

func testClock() time.Time { return testNow }
