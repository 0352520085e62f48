package auth

import (
	"context"
	"errors"
	"testing"

	"github.com/kiri-run/kiri/internal/awsproto"
)

func TestVerifyPostPolicy(t *testing.T) {
	const secret = "post-secret"
	a := New(Config{Mode: Strict, Keys: []Key{{AccessKeyID: "AKIAPOSTPOLICY000001", SecretAccessKey: secret, AccountID: "123456789012"}}})
	policy := "eyJleHBpcmF0aW9uIjoiMjAzMC0wMS0wMVQwMDowMDowMFoiLCJjb25kaXRpb25zIjpbXX0="
	cred := "AKIAPOSTPOLICY000001/20300101/us-east-1/s3/aws4_request"
	cases := []struct {
		name     string
		form     PostForm
		wantCode string // "" when it verifies
		anon     bool
	}{
		{"no policy is anonymous", PostForm{}, "", true},
		{"v2 signature verifies", PostForm{Policy: policy, AccessKeyID: "AKIAPOSTPOLICY000001", Signature: PostPolicySignatureV2(secret, policy)}, "", false},
		{"v4 signature verifies", PostForm{Policy: policy, Algorithm: "AWS4-HMAC-SHA256", Credential: cred, Date: "20300101T000000Z",
			SignatureV4: PostPolicySignatureV4(secret, "20300101", "us-east-1", "s3", policy)}, "", false},
		{"wrong v2 signature does not match", PostForm{Policy: policy, AccessKeyID: "AKIAPOSTPOLICY000001", Signature: PostPolicySignatureV2("x", policy)}, "SignatureDoesNotMatch", false},
		{"unknown key is refused", PostForm{Policy: policy, AccessKeyID: "AKIAUNKNOWN000000001", Signature: "x"}, "InvalidAccessKeyId", false},
		{"missing signature is invalid", PostForm{Policy: policy, AccessKeyID: "AKIAPOSTPOLICY000001"}, "InvalidArgument", false},
		{"signature without policy is invalid", PostForm{Signature: "x"}, "InvalidArgument", false},
		{"v4 date outside the scope is invalid", PostForm{Policy: policy, Algorithm: "AWS4-HMAC-SHA256", Credential: cred, Date: "20300102T000000Z", SignatureV4: "00"}, "InvalidArgument", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			id, err := a.VerifyPostPolicy(context.Background(), tc.form)
			if got := errorCode(err); got != tc.wantCode {
				t.Fatalf("got %q (%v), want %q", got, err, tc.wantCode)
			}
			if err == nil && id.Anonymous != tc.anon {
				t.Fatalf("anonymous %v, want %v", id.Anonymous, tc.anon)
			}
		})
	}
}

func TestBucketRootSignatureV2(t *testing.T) {
	sts := "PUT\n\n\nSat, 21 Nov 2026 16:09:33 GMT\n/v2-bucket-1"
	if !bucketRootSignatureV2("s3tests-main-secret-0000000000000000001", sts, "+pwALPthpXOuZScTOTgzUhJKjVw=") {
		t.Fatal("a signature over /bucket/ should verify a path-style /bucket request")
	}
	if bucketRootSignatureV2("s3tests-main-secret-0000000000000000001", sts+"/key", "+pwALPthpXOuZScTOTgzUhJKjVw=") {
		t.Fatal("an object resource must not get the bucket-root variant")
	}
}

func errorCode(err error) string {
	var ae *awsproto.Error
	if errors.As(err, &ae) {
		return ae.Code
	}
	if err != nil {
		return err.Error()
	}
	return ""
}
