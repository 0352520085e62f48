package auth

import (
	"context"
	"net/http"
	"testing"
)

// BenchmarkVerify measures strict verification of a header-signed S3 request
// with a cached signing key.
func BenchmarkVerify(b *testing.B) {
	r := request{url: "/bucket/some/key.txt?versionId=abc", payloadHash: UnsignedPayload, contentSHA: true,
		header: http.Header{"X-Amz-Meta-A": {"1"}, "Content-Type": {"text/plain"}}}.sign(b)
	a := newTestAuthenticator(Strict)
	ctx := context.Background()
	if _, err := a.Verify(ctx, r, nil, targetS3); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.Verify(ctx, r, nil, targetS3); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyJSON measures a header-signed DynamoDB request whose body
// the verifier hashes.
func BenchmarkVerifyJSON(b *testing.B) {
	r := request{method: http.MethodPost, url: "/", service: "dynamodb", body: `{"TableName":"t","Key":{"pk":{"S":"1"}}}`,
		header: http.Header{"X-Amz-Target": {"DynamoDB_20120810.GetItem"}}}.sign(b)
	a := newTestAuthenticator(Strict)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.Verify(ctx, r, nil, targetDynamoDB); err != nil {
			b.Fatal(err)
		}
	}
}
