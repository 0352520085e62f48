package auth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

var (
	targetS3       = Target{Service: "s3", Protocol: "rest-xml"}
	targetSQS      = Target{Service: "sqs", Protocol: "query"}
	targetSTS      = Target{Service: "sts", Protocol: "query"}
	targetDynamoDB = Target{Service: "dynamodb", Protocol: "json"}
	targetLambda   = Target{Service: "lambda", Protocol: "rest-json"}
)

func TestVerifyAcceptsSDKSignedRequests(t *testing.T) {
	tests := []struct {
		name    string
		req     request
		presign bool
		target  Target
		want    Identity
	}{
		{
			name:   "s3 get with unsigned payload",
			req:    request{url: "/bucket/key.txt", payloadHash: UnsignedPayload, contentSHA: true},
			target: targetS3,
		},
		{
			name: "s3 put with hex payload hash",
			req: request{method: http.MethodPut, url: "/bucket/key.txt", body: "hello world", contentSHA: true,
				header: http.Header{"Content-Type": {"text/plain"}}},
			target: targetS3,
		},
		{
			name:   "s3 path with spaces unicode and plus, not double-encoded",
			req:    request{url: "/bucket/a%20b/%C3%BC%2Bc+d%3De%26f~g.txt", payloadHash: UnsignedPayload, contentSHA: true},
			target: targetS3,
		},
		{
			name: "s3 query with special characters",
			req: request{url: "/bucket?list-type=2&prefix=a%20b%2Fc&delimiter=%2F&start-after=x+y&marker=%E2%9C%93&empty=&flag",
				payloadHash: UnsignedPayload, contentSHA: true},
			target: targetS3,
		},
		{
			name:   "header-signed query that merely mentions presign parameters",
			req:    request{url: "/bucket?prefix=X-Amz-Signature%3D1&X-Amz-Credential-Note=x", payloadHash: UnsignedPayload, contentSHA: true},
			target: targetS3,
		},
		{
			name: "s3 multi-value headers with extra spaces",
			req: request{method: http.MethodPut, url: "/bucket/k", body: "x", contentSHA: true, header: http.Header{
				"X-Amz-Meta-Tags": {"  a   b  ", "c", " d  e "},
				"X-Amz-Meta-One":  {"single   spaced    value"},
			}},
			target: targetS3,
		},
		{
			name:   "s3 in another region",
			req:    request{url: "/bucket/k", region: "eu-west-1", payloadHash: UnsignedPayload, contentSHA: true},
			target: targetS3,
			want:   Identity{Region: "eu-west-1"},
		},
		{
			name: "sqs query form body hashed by the verifier",
			req: request{method: http.MethodPost, url: "/", service: "sqs",
				body:   "Action=SendMessage&QueueUrl=http%3A%2F%2Flocalhost%3A4566%2F000000000000%2Fq&MessageBody=hi+there",
				header: http.Header{"Content-Type": {"application/x-www-form-urlencoded; charset=utf-8"}}},
			target: targetSQS,
		},
		{
			name: "dynamodb json with x-amz-target",
			req: request{method: http.MethodPost, url: "/", service: "dynamodb", body: `{"TableName":"t"}`,
				header: http.Header{"X-Amz-Target": {"DynamoDB_20120810.DescribeTable"},
					"Content-Type": {"application/x-amz-json-1.0"}}},
			target: targetDynamoDB,
		},
		{
			name: "non-s3 path encoded twice like the SDK",
			req: request{method: http.MethodPost, url: "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A1%3Afunction%3Af%20x/invocations",
				service: "lambda", body: "{}"},
			target: targetLambda,
		},
		{
			name:   "non-s3 hex content hash checked against the body",
			req:    request{method: http.MethodPost, url: "/", service: "dynamodb", body: `{"a":1}`, contentSHA: true},
			target: targetDynamoDB,
		},
		{
			name:   "temporary key with session token",
			req:    request{url: "/bucket/k", creds: tempCreds, payloadHash: UnsignedPayload, contentSHA: true},
			target: targetS3,
			want: Identity{AccessKeyID: tempKeyID, AccountID: tempAccount, PrincipalARN: tempRoleARN, UserID: tempUserID,
				SessionToken: tempToken, Temporary: true},
		},
		{
			name: "signed fourteen minutes ago",
			req: request{url: "/bucket/k", signedAt: testNow.Add(-14 * time.Minute), payloadHash: UnsignedPayload,
				contentSHA: true},
			target: targetS3,
		},
		{
			name:    "s3 presigned get",
			req:     request{url: "/bucket/a%20b/%C3%BC+x.txt?versionId=3%2F4&response-content-type=text%2Fplain"},
			presign: true,
			target:  targetS3,
		},
		{
			name: "s3 presigned put with signed content-type header",
			req: request{method: http.MethodPut, url: "/bucket/upload.bin", body: "data",
				header: http.Header{"Content-Type": {"application/octet-stream"}}},
			presign: true,
			target:  targetS3,
		},
		{
			name:    "presigned with temporary key carries the token in the query",
			req:     request{url: "/bucket/k", creds: tempCreds},
			presign: true,
			target:  targetS3,
			want: Identity{AccessKeyID: tempKeyID, AccountID: tempAccount, PrincipalARN: tempRoleARN, UserID: tempUserID,
				SessionToken: tempToken, Temporary: true},
		},
		{
			name:    "presigned at the end of its lifetime",
			req:     request{url: "/bucket/k", signedAt: testNow.Add(-900 * time.Second)},
			presign: true,
			target:  targetS3,
		},
		{
			name:    "presigned a week ago for a week",
			req:     request{url: "/bucket/k", signedAt: testNow.Add(-604000 * time.Second), expires: "604800"},
			presign: true,
			target:  targetS3,
		},
		{
			name:    "non-s3 presigned over the empty body hash",
			req:     request{url: "/?Action=GetCallerIdentity&Version=2011-06-15", service: "sts", payloadHash: emptySHA256},
			presign: true,
			target:  targetSTS,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var r *http.Request
			if tc.presign {
				r = tc.req.presign(t)
			} else {
				r = tc.req.sign(t)
			}
			id, err := newTestAuthenticator(Strict).Verify(context.Background(), r, nil, tc.target)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			want := tc.want
			if want.AccessKeyID == "" {
				want = Identity{AccessKeyID: testKeyID, AccountID: testAccount,
					PrincipalARN: "arn:aws:iam::" + testAccount + ":root", UserID: testAccount, Region: want.Region}
			}
			if want.Region == "" {
				want.Region = "us-east-1"
			}
			if id.Streaming != nil {
				t.Errorf("Streaming = %v, want nil", id.Streaming)
			}
			if !reflect.DeepEqual(*id, want) {
				t.Errorf("identity = %+v\nwant       %+v", id, &want)
			}
			// The body must still be readable, and whole, after verification.
			got, err := io.ReadAll(r.Body)
			if err != nil {
				t.Fatalf("read body after Verify: %v", err)
			}
			if string(got) != tc.req.body {
				t.Errorf("body after Verify = %q, want %q", got, tc.req.body)
			}
		})
	}
}

func TestVerifyRejectsTamperedRequests(t *testing.T) {
	s3Put := request{method: http.MethodPut, url: "/bucket/key", body: "payload", contentSHA: true,
		header: http.Header{"X-Amz-Meta-A": {"1"}}}
	s3Get := request{url: "/bucket/key?list-type=2&prefix=p", payloadHash: UnsignedPayload, contentSHA: true}
	ddb := request{method: http.MethodPost, url: "/", service: "dynamodb", body: `{"TableName":"t"}`,
		header: http.Header{"X-Amz-Target": {"DynamoDB_20120810.DescribeTable"}}}
	ddbHashed := ddb
	ddbHashed.contentSHA = true
	sqs := request{method: http.MethodPost, url: "/", service: "sqs", body: "Action=ListQueues"}
	unknown := request{url: "/bucket/key", payloadHash: UnsignedPayload, contentSHA: true,
		creds: credsOf("AKIAUNKNOWNEXAMPLE00", testSecret, "")}
	wrongSecret := s3Get
	wrongSecret.creds = credsOf(testKeyID, "not-the-secret", "")
	skewed := s3Get
	skewed.signedAt = testNow.Add(-16 * time.Minute)
	future := s3Get
	future.signedAt = testNow.Add(16 * time.Minute)

	tests := []struct {
		name       string
		req        request
		presign    bool
		target     Target
		tamper     func(r *http.Request)
		wantCode   string
		wantStatus int
		wantMsg    string // substring
	}{
		{name: "s3 signed header changed", req: s3Put, target: targetS3,
			tamper:   func(r *http.Request) { r.Header.Set("X-Amz-Meta-A", "2") },
			wantCode: "SignatureDoesNotMatch", wantStatus: 403},
		{name: "s3 path changed", req: s3Get, target: targetS3,
			tamper:   func(r *http.Request) { setRequestURI(r, "/bucket/other?list-type=2&prefix=p") },
			wantCode: "SignatureDoesNotMatch", wantStatus: 403},
		{name: "s3 query changed", req: s3Get, target: targetS3,
			tamper:   func(r *http.Request) { setRequestURI(r, "/bucket/key?list-type=2&prefix=q") },
			wantCode: "SignatureDoesNotMatch", wantStatus: 403},
		{name: "s3 query parameter added", req: s3Get, target: targetS3,
			tamper:   func(r *http.Request) { setRequestURI(r, "/bucket/key?list-type=2&prefix=p&max-keys=1") },
			wantCode: "SignatureDoesNotMatch", wantStatus: 403},
		{name: "s3 host changed", req: s3Get, target: targetS3,
			tamper:   func(r *http.Request) { r.Host = "evil.localhost:4566" },
			wantCode: "SignatureDoesNotMatch", wantStatus: 403},
		{name: "s3 method changed", req: s3Get, target: targetS3,
			tamper:   func(r *http.Request) { r.Method = http.MethodDelete },
			wantCode: "SignatureDoesNotMatch", wantStatus: 403},
		{name: "s3 payload hash claim changed", req: s3Put, target: targetS3,
			tamper:   func(r *http.Request) { r.Header.Set("X-Amz-Content-Sha256", UnsignedPayload) },
			wantCode: "SignatureDoesNotMatch", wantStatus: 403},
		{name: "s3 wrong secret", req: wrongSecret, target: targetS3,
			wantCode: "SignatureDoesNotMatch", wantStatus: 403},
		{name: "dynamodb wrong secret", req: withCreds(ddb, credsOf(testKeyID, "nope", "")), target: targetDynamoDB,
			wantCode: "InvalidSignatureException", wantStatus: 403},
		{name: "sqs wrong secret", req: withCreds(sqs, credsOf(testKeyID, "nope", "")), target: targetSQS,
			wantCode: "SignatureDoesNotMatch", wantStatus: 403},
		{name: "dynamodb body changed", req: ddb, target: targetDynamoDB,
			tamper:   func(r *http.Request) { r.Body = io.NopCloser(strings.NewReader(`{"TableName":"u"}`)) },
			wantCode: "InvalidSignatureException", wantStatus: 403},
		{name: "dynamodb body changed under hex claim", req: ddbHashed, target: targetDynamoDB,
			tamper:   func(r *http.Request) { r.Body = io.NopCloser(strings.NewReader(`{"TableName":"u"}`)) },
			wantCode: "InvalidSignatureException", wantStatus: 403},
		{name: "sqs body changed", req: sqs, target: targetSQS,
			tamper:   func(r *http.Request) { r.Body = io.NopCloser(strings.NewReader("Action=DeleteQueue")) },
			wantCode: "SignatureDoesNotMatch", wantStatus: 403},
		{name: "s3 unknown key", req: unknown, target: targetS3,
			wantCode: "InvalidAccessKeyId", wantStatus: 403},
		{name: "query unknown key", req: withCreds(sqs, credsOf("AKIAUNKNOWNEXAMPLE00", "x", "")), target: targetSQS,
			wantCode: "InvalidClientTokenId", wantStatus: 403},
		{name: "json unknown key", req: withCreds(ddb, credsOf("AKIAUNKNOWNEXAMPLE00", "x", "")), target: targetDynamoDB,
			wantCode: "UnrecognizedClientException", wantStatus: 403},
		{name: "rest-json unknown key", req: request{method: http.MethodGet, url: "/2015-03-31/functions/", service: "lambda",
			creds: credsOf("AKIAUNKNOWNEXAMPLE00", "x", "")}, target: targetLambda,
			wantCode: "UnrecognizedClientException", wantStatus: 403},
		{name: "s3 signed sixteen minutes ago", req: skewed, target: targetS3,
			wantCode: "RequestTimeTooSkewed", wantStatus: 403},
		{name: "s3 signed sixteen minutes ahead", req: future, target: targetS3,
			wantCode: "RequestTimeTooSkewed", wantStatus: 403},
		{name: "json signed sixteen minutes ago", req: withTime(ddb, testNow.Add(-16*time.Minute)), target: targetDynamoDB,
			wantCode: "InvalidSignatureException", wantStatus: 403,
			wantMsg: "Signature expired: 20240501T114400Z is now earlier than 20240501T114500Z (20240501T120000Z - 15 min.)"},
		{name: "query signed sixteen minutes ago", req: withTime(sqs, testNow.Add(-16*time.Minute)), target: targetSQS,
			wantCode: "SignatureDoesNotMatch", wantStatus: 403, wantMsg: "Signature expired:"},
		{name: "query signed sixteen minutes ahead", req: withTime(sqs, testNow.Add(16*time.Minute)), target: targetSQS,
			wantCode: "SignatureDoesNotMatch", wantStatus: 403, wantMsg: "Signature not yet current:"},
		{name: "presigned expired", req: request{url: "/bucket/k", signedAt: testNow.Add(-901 * time.Second)}, presign: true,
			target: targetS3, wantCode: "AccessDenied", wantStatus: 403, wantMsg: "Request has expired"},
		{name: "presigned dated in the future", req: request{url: "/bucket/k", signedAt: testNow.Add(16 * time.Minute)},
			presign: true, target: targetS3, wantCode: "AccessDenied", wantStatus: 403, wantMsg: "not valid yet"},
		{name: "presigned expires beyond a week", req: request{url: "/bucket/k", expires: "604801"}, presign: true,
			target: targetS3, wantCode: "AuthorizationQueryParametersError", wantStatus: 400},
		{name: "presigned expires beyond a week for sts", req: request{url: "/?Action=GetCallerIdentity", service: "sts",
			expires: "604801"}, presign: true, target: targetSTS, wantCode: "IncompleteSignature", wantStatus: 400},
		{name: "presigned expires not a number", req: request{url: "/bucket/k", expires: "soon"}, presign: true,
			target: targetS3, wantCode: "AuthorizationQueryParametersError", wantStatus: 400},
		{name: "presigned signature changed", req: request{url: "/bucket/k"}, presign: true, target: targetS3,
			tamper: func(r *http.Request) {
				setRequestURI(r, strings.Replace(r.RequestURI, "X-Amz-Signature=", "X-Amz-Signature=0", 1))
			},
			wantCode: "SignatureDoesNotMatch", wantStatus: 403},
		{name: "presigned expiry extended", req: request{url: "/bucket/k"}, presign: true, target: targetS3,
			tamper: func(r *http.Request) {
				setRequestURI(r, strings.Replace(r.RequestURI, "X-Amz-Expires=900", "X-Amz-Expires=9000", 1))
			},
			wantCode: "SignatureDoesNotMatch", wantStatus: 403},
		{name: "s3 temporary key without token", req: withCreds(s3Get, credsOf(tempKeyID, tempSecret, "")), target: targetS3,
			wantCode: "InvalidToken", wantStatus: 400},
		{name: "s3 temporary key with wrong token", req: withCreds(s3Get, credsOf(tempKeyID, tempSecret, "forged")),
			target: targetS3, wantCode: "InvalidToken", wantStatus: 400},
		{name: "query temporary key without token", req: withCreds(sqs, credsOf(tempKeyID, tempSecret, "")),
			target: targetSQS, wantCode: "InvalidClientTokenId", wantStatus: 403},
		{name: "query temporary key with wrong token", req: withCreds(sqs, credsOf(tempKeyID, tempSecret, "forged")),
			target: targetSQS, wantCode: "InvalidClientTokenId", wantStatus: 403},
		{name: "long-term key with a session token", req: withCreds(sqs, credsOf(testKeyID, testSecret, "stray")),
			target: targetSQS, wantCode: "InvalidClientTokenId", wantStatus: 403},
		{name: "s3 expired temporary key", req: withCreds(s3Get, expiredCreds), target: targetS3,
			wantCode: "ExpiredToken", wantStatus: 400},
		{name: "query expired temporary key", req: withCreds(sqs, expiredCreds), target: targetSQS,
			wantCode: "ExpiredToken", wantStatus: 403},
		{name: "json expired temporary key", req: withCreds(ddb, expiredCreds), target: targetDynamoDB,
			wantCode: "ExpiredTokenException", wantStatus: 400},
		{name: "s3 missing content sha256", req: request{url: "/bucket/k", payloadHash: UnsignedPayload}, target: targetS3,
			wantCode: "InvalidArgument", wantStatus: 400},
		{name: "s3 bogus content sha256", req: request{url: "/bucket/k", payloadHash: "not-a-hash", contentSHA: true},
			target: targetS3, wantCode: "InvalidArgument", wantStatus: 400},
		{name: "s3 ecdsa streaming payload", req: request{method: http.MethodPut, url: "/bucket/k", body: "x",
			payloadHash: "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD", contentSHA: true},
			target: targetS3, wantCode: "NotImplemented", wantStatus: 501, wantMsg: "not supported"},
		{name: "host not signed", req: s3Get, target: targetS3,
			tamper: func(r *http.Request) {
				r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "SignedHeaders=host;", "SignedHeaders=", 1))
			},
			wantCode: "AuthorizationHeaderMalformed", wantStatus: 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var r *http.Request
			if tc.presign {
				r = tc.req.presign(t)
			} else {
				r = tc.req.sign(t)
			}
			if tc.tamper != nil {
				tc.tamper(r)
			}
			id, err := newTestAuthenticator(Strict).Verify(context.Background(), r, nil, tc.target)
			if err == nil {
				t.Fatalf("Verify accepted the request as %v", id)
			}
			e := wantAWSError(t, err, tc.wantCode, tc.wantStatus)
			if !strings.Contains(e.Message, tc.wantMsg) {
				t.Errorf("message = %q, want it to contain %q", e.Message, tc.wantMsg)
			}
			for _, secret := range []string{testSecret, tempSecret, tempToken, expiredSecret, "not-the-secret"} {
				if strings.Contains(fmt.Sprint(e, e.Fields), secret) {
					t.Errorf("error %v leaks a secret", e)
				}
			}
		})
	}
}

func credsOf(id, secret, token string) (c awsCredentials) {
	c.AccessKeyID, c.SecretAccessKey, c.SessionToken = id, secret, token
	return c
}

func withCreds(q request, c awsCredentials) request { q.creds = c; return q }

func withTime(q request, at time.Time) request { q.signedAt = at; return q }

func TestVerifyS3HexPayloadIsCheckedWhileReading(t *testing.T) {
	tests := []struct {
		name     string
		sendBody string
		wantErr  string
	}{
		{name: "matching body reads to EOF", sendBody: "payload"},
		{name: "altered body fails at EOF", sendBody: "PAYLOAD", wantErr: CodeContentSHA256Mismatch},
		{name: "truncated body fails at EOF", sendBody: "pay", wantErr: CodeContentSHA256Mismatch},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := request{method: http.MethodPut, url: "/bucket/key", body: "payload", contentSHA: true}.sign(t)
			r.Body = io.NopCloser(strings.NewReader(tc.sendBody))
			if _, err := newTestAuthenticator(Strict).Verify(context.Background(), r, nil, targetS3); err != nil {
				t.Fatalf("Verify: %v", err)
			}
			got, err := io.ReadAll(r.Body)
			if tc.wantErr == "" {
				if err != nil || string(got) != tc.sendBody {
					t.Fatalf("ReadAll = %q, %v; want %q, nil", got, err, tc.sendBody)
				}
				return
			}
			wantAWSError(t, err, tc.wantErr, http.StatusBadRequest)
			// The error is sticky.
			if _, err := r.Body.Read(make([]byte, 1)); err == nil || errors.Is(err, io.EOF) {
				t.Errorf("second Read error = %v, want the mismatch again", err)
			}
		})
	}
}

func TestVerifyAnonymous(t *testing.T) {
	tests := []struct {
		name       string
		target     Target
		wantCode   string
		wantStatus int
	}{
		{name: "s3 refuses anonymous", target: targetS3, wantCode: "AccessDenied", wantStatus: 403},
		{name: "query refuses anonymous", target: targetSTS, wantCode: "MissingAuthenticationToken", wantStatus: 403},
		{name: "json refuses anonymous", target: targetDynamoDB, wantCode: "MissingAuthenticationTokenException", wantStatus: 403},
		{name: "allowed operation lets anonymous through", target: Target{Service: "sts", Protocol: "query", AllowAnonymous: true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, _ := http.NewRequest(http.MethodGet, "http://"+testHost+"/bucket/key", nil)
			id, err := newTestAuthenticator(Strict).Verify(context.Background(), r, nil, tc.target)
			if tc.wantCode != "" {
				wantAWSError(t, err, tc.wantCode, tc.wantStatus)
				return
			}
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if !id.Anonymous || id.AccountID != "" || id.Region != "us-east-1" {
				t.Errorf("identity = %+v, want anonymous in us-east-1 with no account", id)
			}
		})
	}
}

func TestVerifyMalformedAuthorization(t *testing.T) {
	const cred = "Credential=AKIAIOSFODNN7EXAMPLE/20240501/us-east-1/s3/aws4_request"
	tests := []struct {
		name     string
		authz    string
		amzDate  string
		target   Target
		wantCode string
		status   int
	}{
		{name: "s3 missing signature", authz: "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host",
			target: targetS3, wantCode: "AuthorizationHeaderMalformed", status: 400},
		{name: "query missing signature", authz: "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host",
			target: targetSQS, wantCode: "IncompleteSignature", status: 400},
		{name: "json bad credential scope", authz: "AWS4-HMAC-SHA256 Credential=AKID/20240501/us-east-1, SignedHeaders=host, Signature=ab",
			target: targetDynamoDB, wantCode: "IncompleteSignature", status: 400},
		{name: "s3 bad terminator", authz: "AWS4-HMAC-SHA256 Credential=AKID/20240501/us-east-1/s3/aws5_request, SignedHeaders=host, Signature=ab",
			target: targetS3, wantCode: "AuthorizationHeaderMalformed", status: 400},
		{name: "s3 scope date differs from x-amz-date", authz: "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host, Signature=ab",
			amzDate: "20240502T000000Z", target: targetS3, wantCode: "AuthorizationHeaderMalformed", status: 400},
		{name: "s3 missing date", authz: "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host, Signature=ab",
			amzDate: "-", target: targetS3, wantCode: "AuthorizationHeaderMalformed", status: 400},
		{name: "unknown scheme", authz: "Bearer abc", target: targetSQS, wantCode: "IncompleteSignature", status: 400},
		{name: "sigv2 without an RFC 1123 date is refused", authz: "AWS AKIAIOSFODNN7EXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg=",
			target: targetS3, wantCode: "AccessDenied", status: 403},
		{name: "sigv4a is not supported", authz: "AWS4-ECDSA-P256-SHA256 " + cred + ", SignedHeaders=host, Signature=ab",
			target: targetS3, wantCode: "NotImplemented", status: 501},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, _ := http.NewRequest(http.MethodGet, "http://"+testHost+"/", nil)
			r.Header.Set("Authorization", tc.authz)
			switch tc.amzDate {
			case "":
				r.Header.Set("X-Amz-Date", "20240501T120000Z")
			case "-":
			default:
				r.Header.Set("X-Amz-Date", tc.amzDate)
			}
			_, err := newTestAuthenticator(Strict).Verify(context.Background(), r, nil, tc.target)
			wantAWSError(t, err, tc.wantCode, tc.status)
		})
	}
}

func TestVerifyBothHeaderAndQueryIsRejected(t *testing.T) {
	r := request{url: "/bucket/k"}.presign(t)
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20240501/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=ab")
	_, err := newTestAuthenticator(Strict).Verify(context.Background(), r, nil, targetS3)
	wantAWSError(t, err, "AuthorizationQueryParametersError", 400)
}

func TestVerifyStreamingPayload(t *testing.T) {
	for _, mode := range []Mode{Strict, Dev} {
		for _, claim := range []string{StreamingHMACSHA256Payload, StreamingHMACSHA256PayloadTrailer, StreamingUnsignedPayloadTrailer} {
			t.Run(string(mode)+" "+claim, func(t *testing.T) {
				r := request{method: http.MethodPut, url: "/bucket/k", body: "aws-chunked bytes", payloadHash: claim,
					contentSHA: true, header: http.Header{"Content-Encoding": {"aws-chunked"}}}.sign(t)
				sig := Parse(r)
				id, err := newTestAuthenticator(mode).Verify(context.Background(), r, sig, targetS3)
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				s := id.Streaming
				if s == nil {
					t.Fatal("Streaming is nil")
				}
				if s.PayloadHash != claim || s.SeedSignature != sig.Signature || s.AmzDate != "20240501T120000Z" ||
					s.Scope != "20240501/us-east-1/s3/aws4_request" {
					t.Errorf("streaming context = %+v", s)
				}
				if s.Verifies() != (mode == Strict) {
					t.Errorf("Verifies() = %v in %s mode", s.Verifies(), mode)
				}
				if body, _ := io.ReadAll(r.Body); string(body) != "aws-chunked bytes" {
					t.Errorf("body = %q, want it untouched", body)
				}
			})
		}
	}
}

func TestVerifyDevMode(t *testing.T) {
	tests := []struct {
		name string
		req  *http.Request
		want Identity
	}{
		{
			name: "any key and secret is the dev account",
			req: request{url: "/bucket/k", payloadHash: UnsignedPayload, contentSHA: true, region: "ap-south-1",
				creds: credsOf("AKIAANYTHING", "whatever", "")}.sign(t),
			want: Identity{AccessKeyID: "AKIAANYTHING", AccountID: DevAccountID, Region: "ap-south-1",
				PrincipalARN: "arn:aws:iam::000000000000:root", UserID: DevAccountID},
		},
		{
			name: "wrong signature is not checked",
			req: request{url: "/bucket/k", payloadHash: UnsignedPayload, contentSHA: true,
				creds: credsOf(testKeyID, "not-the-secret", "")}.sign(t),
			want: Identity{AccessKeyID: testKeyID, AccountID: DevAccountID, Region: "us-east-1",
				PrincipalARN: "arn:aws:iam::000000000000:root", UserID: DevAccountID},
		},
		{
			name: "presigned URL with a wrong signature works until it expires",
			req: request{url: "/bucket/k", creds: credsOf(testKeyID, "not-the-secret", ""), expires: "60",
				signedAt: testNow.Add(-59 * time.Second)}.presign(t),
			want: Identity{AccessKeyID: testKeyID, AccountID: DevAccountID, Region: "us-east-1",
				PrincipalARN: "arn:aws:iam::000000000000:root", UserID: DevAccountID},
		},
		{
			name: "temporary key resolves to its stored identity",
			req:  request{url: "/bucket/k", payloadHash: UnsignedPayload, contentSHA: true, creds: tempCreds}.sign(t),
			want: Identity{AccessKeyID: tempKeyID, AccountID: tempAccount, Region: "us-east-1", PrincipalARN: tempRoleARN,
				UserID: tempUserID, SessionToken: tempToken, Temporary: true},
		},
		{
			name: "anonymous is the dev account",
			req:  mustRequest(t, http.MethodGet, "/bucket/k"),
			want: Identity{AccountID: DevAccountID, Region: "us-east-1", PrincipalARN: "arn:aws:iam::000000000000:root",
				UserID: DevAccountID, Anonymous: true},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id, err := newTestAuthenticator(Dev).Verify(context.Background(), tc.req, nil, targetS3)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if !reflect.DeepEqual(*id, tc.want) {
				t.Errorf("identity = %+v\nwant       %+v", id, &tc.want)
			}
		})
	}
}

// TestVerifyDevModeEnforcesTime checks that dev mode refuses what strict mode refuses for its
// time alone (expired presigned URLs, skewed signatures), with the same error.
func TestVerifyDevModeEnforcesTime(t *testing.T) {
	s3Get := request{url: "/bucket/k", payloadHash: UnsignedPayload, contentSHA: true}
	sts := request{method: http.MethodPost, url: "/", service: "sts", body: "Action=GetCallerIdentity&Version=2011-06-15"}
	at := func(q request, signedAt time.Time, expires string) request {
		q.signedAt, q.expires = signedAt, expires
		return q
	}
	tests := []struct {
		name     string
		req      func() *http.Request
		target   Target
		wantCode string
		wantMsg  string
	}{
		{name: "expired SigV4 presigned URL", target: targetS3,
			req:      func() *http.Request { return at(s3Get, testNow.Add(-61*time.Second), "60").presign(t) },
			wantCode: "AccessDenied", wantMsg: "Request has expired"},
		{name: "SigV4 presigned URL dated in the future", target: targetS3,
			req:      func() *http.Request { return at(s3Get, testNow.Add(16*time.Minute), "60").presign(t) },
			wantCode: "AccessDenied", wantMsg: "Request is not valid yet"},
		{name: "expired presigned STS URL", target: targetSTS,
			req:      func() *http.Request { return at(sts, testNow.Add(-2*time.Minute), "60").presign(t) },
			wantCode: "AccessDenied", wantMsg: "Request has expired"},
		{name: "S3 header signature too old", target: targetS3,
			req:      func() *http.Request { return at(s3Get, testNow.Add(-16*time.Minute), "").sign(t) },
			wantCode: "RequestTimeTooSkewed", wantMsg: "The difference between the request time and the current time is too large."},
		{name: "S3 header signature from the future", target: targetS3,
			req:      func() *http.Request { return at(s3Get, testNow.Add(16*time.Minute), "").sign(t) },
			wantCode: "RequestTimeTooSkewed", wantMsg: "The difference between the request time and the current time is too large."},
		{name: "STS header signature too old", target: targetSTS,
			req:      func() *http.Request { return at(sts, testNow.Add(-16*time.Minute), "").sign(t) },
			wantCode: "SignatureDoesNotMatch", wantMsg: "Signature expired: 20240501T114400Z is now earlier than 20240501T114500Z"},
		{name: "expired SigV2 presigned URL", target: targetS3,
			req: func() *http.Request {
				uri := "/bucket/k?AWSAccessKeyId=" + testKeyID + "&Expires=" + strconv.FormatInt(testNow.Unix()-1, 10) + "&Signature=x"
				return sigV2Request(t, uri, nil)
			},
			wantCode: "AccessDenied", wantMsg: "Request has expired"},
		{name: "SigV2 header signature too old", target: targetS3,
			req: func() *http.Request {
				return sigV2Request(t, "/bucket/k", map[string]string{"Authorization": "AWS " + testKeyID + ":x",
					"Date": testNow.Add(-16 * time.Minute).Format(http.TimeFormat)})
			},
			wantCode: "RequestTimeTooSkewed", wantMsg: "The difference between the request time and the current time is too large."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, strictErr := newTestAuthenticator(Strict).Verify(context.Background(), tc.req(), nil, tc.target)
			_, devErr := newTestAuthenticator(Dev).Verify(context.Background(), tc.req(), nil, tc.target)
			e := wantAWSError(t, devErr, tc.wantCode, http.StatusForbidden)
			if !strings.HasPrefix(e.Message, tc.wantMsg) {
				t.Errorf("message %q, want %q", e.Message, tc.wantMsg)
			}
			if !reflect.DeepEqual(devErr, strictErr) {
				t.Errorf("dev mode answers %#v\nstrict mode    %#v", devErr, strictErr)
			}
		})
	}
}

// TestVerifyDevModeToleratesUnreadableTimes keeps dev mode's trust in malformed claims: only a
// time it can read is held against the clock.
func TestVerifyDevModeToleratesUnreadableTimes(t *testing.T) {
	for name, r := range map[string]*http.Request{
		"SigV2 presigned URL without Expires": sigV2Request(t, "/bucket/k?AWSAccessKeyId=a&Signature=x", nil),
		"SigV2 Expires that is not a number":  sigV2Request(t, "/bucket/k?AWSAccessKeyId=a&Expires=soon&Signature=x", nil),
		"SigV2 header without a date":         sigV2Request(t, "/bucket/k", map[string]string{"Authorization": "AWS a:x"}),
		"SigV4 header without a date": func() *http.Request {
			r := mustRequest(t, http.MethodGet, "/bucket/k")
			r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=a/20240501/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=x")
			return r
		}(),
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := newTestAuthenticator(Dev).Verify(context.Background(), r, nil, targetS3); err != nil {
				t.Fatalf("Verify: %v", err)
			}
		})
	}
}

func sigV2Request(t *testing.T, uri string, header map[string]string) *http.Request {
	t.Helper()
	r := mustRequest(t, http.MethodGet, uri)
	setRequestURI(r, uri)
	for k, v := range header {
		r.Header.Set(k, v)
	}
	return r
}

func mustRequest(t *testing.T, method, path string) *http.Request {
	t.Helper()
	r, err := http.NewRequest(method, "http://"+testHost+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestVerifyTemporaryKeyLookupFailure(t *testing.T) {
	a := New(Config{Mode: Strict, Temporary: fakeTemporaryKeys{err: errors.New("database is locked")},
		Now: func() time.Time { return testNow }})
	r := request{url: "/bucket/k", payloadHash: UnsignedPayload, contentSHA: true, creds: tempCreds}.sign(t)
	_, err := a.Verify(context.Background(), r, nil, targetS3)
	e := wantAWSError(t, err, "InternalError", 500)
	if strings.Contains(e.Message, "database") {
		t.Errorf("message %q exposes internals", e.Message)
	}
	if e.Cause == nil || e.Cause.Error() != "database is locked" {
		t.Errorf("cause %v, want the store's error for the log", e.Cause)
	}
}

func TestVerifyRejectsOversizedBody(t *testing.T) {
	body := strings.Repeat("x", MaxHashedBody+1)
	r := request{method: http.MethodPost, url: "/", service: "sqs", body: body}.sign(t)
	_, err := newTestAuthenticator(Strict).Verify(context.Background(), r, nil, targetSQS)
	wantAWSError(t, err, "RequestEntityTooLarge", 413)
}

func TestSecretsAreRedacted(t *testing.T) {
	k := Key{AccessKeyID: tempKeyID, SecretAccessKey: tempSecret, AccountID: tempAccount, SessionToken: tempToken}
	id := &Identity{AccessKeyID: tempKeyID, SessionToken: tempToken, Temporary: true,
		Streaming: &StreamingContext{SigningKey: []byte(tempSecret)}}
	var logs strings.Builder
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("auth", "key", k, "identity", id, "streaming", id.Streaming)
	for _, out := range []string{
		fmt.Sprint(k), fmt.Sprintf("%+v", k), fmt.Sprintf("%#v", k),
		fmt.Sprint(id), fmt.Sprintf("%+v", id), fmt.Sprintf("%#v", id),
		fmt.Sprintf("%+v", id.Streaming), logs.String(),
	} {
		if strings.Contains(out, tempSecret) || strings.Contains(out, tempToken) {
			t.Errorf("output leaks a secret: %s", out)
		}
	}
}

func TestVerifyDevModeRefusesOnlyUnsupportedSigning(t *testing.T) {
	tests := []struct {
		name     string
		authz    string
		wantCode string
	}{
		{name: "malformed header is tolerated", authz: "AWS4-HMAC-SHA256 Credential=garbage"},
		{name: "foreign scheme is tolerated", authz: "Bearer token"},
		{name: "sigv4a is refused", authz: "AWS4-ECDSA-P256-SHA256 Credential=a/20240501/us-east-1/s3/aws4_request",
			wantCode: "NotImplemented"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := mustRequest(t, http.MethodGet, "/")
			r.Header.Set("Authorization", tc.authz)
			id, err := newTestAuthenticator(Dev).Verify(context.Background(), r, nil, Target{Protocol: "query"})
			if tc.wantCode != "" {
				wantAWSError(t, err, tc.wantCode, http.StatusNotImplemented)
				return
			}
			if err != nil || id.AccountID != DevAccountID || id.Region != "us-east-1" {
				t.Fatalf("Verify = %v, %v; want the dev account in us-east-1", id, err)
			}
		})
	}
}

func TestVerifyTakesServiceFromScopeWhenTargetHasNone(t *testing.T) {
	r := request{url: "/bucket/k", creds: credsOf("AKIAUNKNOWNEXAMPLE00", "x", ""), payloadHash: UnsignedPayload,
		contentSHA: true}.sign(t)
	_, err := newTestAuthenticator(Strict).Verify(context.Background(), r, nil, Target{Protocol: "rest-xml"})
	wantAWSError(t, err, "InvalidAccessKeyId", 403)
}
