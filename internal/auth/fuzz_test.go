package auth

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
)

// FuzzParse feeds arbitrary Authorization headers, query strings and dates
// to Parse and to a strict Verify: neither may panic, and every failure must
// be an *awsproto.Error.
func FuzzParse(f *testing.F) {
	seeds := []struct{ authz, query, date string }{
		{"AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20240501/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=abcd", "", "20240501T120000Z"},
		{"AWS4-HMAC-SHA256 Credential=/, SignedHeaders=;;, Signature=", "a=b", ""},
		{"AWS4-ECDSA-P256-SHA256 Credential=a/b/c/d/e", "", ""},
		{"AWS a:b", "", ""},
		{"", "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20240501%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20240501T120000Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host&X-Amz-Signature=00", ""},
		{"", "X-Amz-Signature=%zz&X-Amz-Expires=-1&;", ""},
		{"", "X-Amz-Credential=a%2F20240501%2Fr%2Fs%2Faws4_request&X-Amz-Expires=99999999999999999999", "garbage"},
	}
	for _, s := range seeds {
		f.Add(s.authz, s.query, s.date)
	}
	a := New(Config{Mode: Strict, Keys: []Key{{AccessKeyID: testKeyID, SecretAccessKey: testSecret, AccountID: testAccount}},
		Now: func() time.Time { return testNow }})
	f.Fuzz(func(t *testing.T, authz, query, date string) {
		r, err := http.NewRequest(http.MethodGet, "http://"+testHost+"/", nil)
		if err != nil {
			t.Skip()
		}
		r.URL.RawQuery = query
		r.Header.Set("Authorization", authz)
		r.Header.Set("X-Amz-Date", date)
		r.Header.Set("X-Amz-Content-Sha256", UnsignedPayload)
		sig := Parse(r)
		if sig.Err != nil {
			var e *awsproto.Error
			if !errors.As(sig.Err, &e) {
				t.Fatalf("Err = %T, want *awsproto.Error", sig.Err)
			}
		}
		for _, target := range []Target{targetS3, targetSQS, targetDynamoDB} {
			if _, err := a.Verify(context.Background(), r, sig, target); err != nil {
				var e *awsproto.Error
				if !errors.As(err, &e) || e.Code == "" || e.Status == 0 {
					t.Fatalf("Verify error = %#v, want a complete *awsproto.Error", err)
				}
			}
		}
	})
}
