package auth

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// verifyingServer is an HTTP server that verifies every request in strict
// mode and records the outcome, answering with just enough for the SDK.
type verifyingServer struct {
	*httptest.Server
	mu     sync.Mutex
	ids    []*Identity
	errs   []error
	bodies []string
}

func newVerifyingServer(t *testing.T, target Target, reply func(w http.ResponseWriter)) *verifyingServer {
	t.Helper()
	a := New(Config{Mode: Strict, Keys: []Key{{AccessKeyID: testKeyID, SecretAccessKey: testSecret, AccountID: testAccount}},
		Temporary: fakeTemporaryKeys{keys: map[string]Key{tempKeyID: {AccessKeyID: tempKeyID, SecretAccessKey: tempSecret,
			AccountID: tempAccount, SessionToken: tempToken, Expiration: time.Now().Add(time.Hour), PrincipalARN: tempRoleARN}}}})
	s := &verifyingServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := a.Verify(r.Context(), r, nil, target)
		var body []byte
		if err == nil {
			body, err = io.ReadAll(r.Body)
		}
		s.mu.Lock()
		s.ids, s.errs, s.bodies = append(s.ids, id), append(s.errs, err), append(s.bodies, string(body))
		s.mu.Unlock()
		if err != nil {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		reply(w)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *verifyingServer) only(t *testing.T) (*Identity, string) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.errs) != 1 {
		t.Fatalf("server saw %d requests, want 1 (errors %v)", len(s.errs), s.errs)
	}
	if s.errs[0] != nil {
		t.Fatalf("Verify: %v", s.errs[0])
	}
	return s.ids[0], s.bodies[0]
}

func sdkConfig(creds aws.Credentials) aws.Config {
	return aws.Config{
		Region:      "eu-central-1",
		Credentials: credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken),
	}
}

func TestSDKClientsAreVerified(t *testing.T) {
	ctx := context.Background()
	t.Run("s3 put object with awkward key", func(t *testing.T) {
		srv := newVerifyingServer(t, targetS3, func(w http.ResponseWriter) { w.Header().Set("ETag", `"x"`) })
		client := s3.NewFromConfig(sdkConfig(longTermCreds), func(o *s3.Options) {
			o.BaseEndpoint, o.UsePathStyle = aws.String(srv.URL), true
		})
		_, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bucket"), Key: aws.String("dir/a b+c/ü=%.txt"),
			Body: strings.NewReader("hello"), Metadata: map[string]string{"note": "two  spaces"}})
		if err != nil {
			t.Fatalf("PutObject: %v", err)
		}
		id, body := srv.only(t)
		if id.AccountID != testAccount || id.Region != "eu-central-1" {
			t.Errorf("identity = %v", id)
		}
		if !strings.Contains(body, "hello") {
			t.Errorf("body = %q, want it to contain the object", body)
		}
	})
	t.Run("s3 head object with temporary credentials", func(t *testing.T) {
		srv := newVerifyingServer(t, targetS3, func(w http.ResponseWriter) {})
		client := s3.NewFromConfig(sdkConfig(tempCreds), func(o *s3.Options) {
			o.BaseEndpoint, o.UsePathStyle = aws.String(srv.URL), true
		})
		if _, err := client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("bucket"), Key: aws.String("k")}); err != nil {
			t.Fatalf("HeadObject: %v", err)
		}
		id, _ := srv.only(t)
		if !id.Temporary || id.AccountID != tempAccount || id.PrincipalARN != tempRoleARN {
			t.Errorf("identity = %v, want the temporary principal", id)
		}
	})
	t.Run("dynamodb list tables", func(t *testing.T) {
		srv := newVerifyingServer(t, targetDynamoDB, func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/x-amz-json-1.0")
			io.WriteString(w, `{"TableNames":[]}`)
		})
		client := dynamodb.NewFromConfig(sdkConfig(longTermCreds), func(o *dynamodb.Options) {
			o.BaseEndpoint = aws.String(srv.URL)
		})
		if _, err := client.ListTables(ctx, &dynamodb.ListTablesInput{Limit: aws.Int32(5)}); err != nil {
			t.Fatalf("ListTables: %v", err)
		}
		if _, body := srv.only(t); !strings.Contains(body, `"Limit":5`) {
			t.Errorf("body after Verify = %q", body)
		}
	})
	t.Run("sts get caller identity", func(t *testing.T) {
		srv := newVerifyingServer(t, targetSTS, func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/xml")
			io.WriteString(w, `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">`+
				`<GetCallerIdentityResult><Account>123456789012</Account></GetCallerIdentityResult></GetCallerIdentityResponse>`)
		})
		client := sts.NewFromConfig(sdkConfig(longTermCreds), func(o *sts.Options) { o.BaseEndpoint = aws.String(srv.URL) })
		if _, err := client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
			t.Fatalf("GetCallerIdentity: %v", err)
		}
		srv.only(t)
	})
}

func TestSDKPresignedURLsAreVerified(t *testing.T) {
	ctx := context.Background()
	a := New(Config{Mode: Strict, Keys: []Key{{AccessKeyID: testKeyID, SecretAccessKey: testSecret, AccountID: testAccount}}})
	t.Run("s3 presigned get object", func(t *testing.T) {
		client := s3.NewFromConfig(sdkConfig(longTermCreds), func(o *s3.Options) {
			o.BaseEndpoint, o.UsePathStyle = aws.String("http://"+testHost), true
		})
		p, err := s3.NewPresignClient(client).PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bucket"),
			Key: aws.String("a b/ü+c&d=e.txt"), ResponseContentDisposition: aws.String(`attachment; filename="x y"`)},
			s3.WithPresignExpires(10*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		verifyPresigned(t, a, p.Method, p.URL, p.SignedHeader, targetS3)
	})
	t.Run("sts presigned get caller identity", func(t *testing.T) {
		client := sts.NewFromConfig(sdkConfig(longTermCreds), func(o *sts.Options) { o.BaseEndpoint = aws.String("http://" + testHost) })
		p, err := sts.NewPresignClient(client).PresignGetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			t.Fatal(err)
		}
		verifyPresigned(t, a, p.Method, p.URL, p.SignedHeader, targetSTS)
	})
}

func verifyPresigned(t *testing.T, a *Authenticator, method, url string, headers http.Header, target Target) {
	t.Helper()
	r, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range headers {
		if k != "Host" {
			r.Header[k] = vs
		}
	}
	id, err := a.Verify(context.Background(), overTheWire(t, r), nil, target)
	if err != nil {
		t.Fatalf("Verify %s: %v", url, err)
	}
	if id.AccountID != testAccount || id.Region != "eu-central-1" {
		t.Errorf("identity = %v", id)
	}
}

func TestChunkSignatureMatchesSDKStreamSigner(t *testing.T) {
	r := request{method: http.MethodPut, url: "/bucket/k", payloadHash: StreamingHMACSHA256Payload, contentSHA: true,
		header: http.Header{"Content-Encoding": {"aws-chunked"}}}.sign(t)
	id, err := newTestAuthenticator(Strict).Verify(context.Background(), r, nil, targetS3)
	if err != nil {
		t.Fatal(err)
	}
	sc := id.Streaming
	seed, err := hex.DecodeString(sc.SeedSignature)
	if err != nil {
		t.Fatal(err)
	}
	sdk := v4.NewStreamSigner(longTermCreds, "s3", "us-east-1", seed)
	prev := sc.SeedSignature
	for _, chunk := range [][]byte{bytes.Repeat([]byte("a"), 65536), []byte("tail"), nil} {
		want, err := sdk.GetSignature(context.Background(), nil, chunk, testNow)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(chunk)
		got := sc.ChunkSignature(prev, sum[:])
		if got != hex.EncodeToString(want) {
			t.Fatalf("chunk signature = %s, want %s", got, hex.EncodeToString(want))
		}
		prev = got
	}
}
