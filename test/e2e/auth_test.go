package e2e

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

func TestStrictModeRejectsBadCredentials(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{Strict: true})
	ctx := t.Context()
	t.Run("known key is accepted", func(t *testing.T) {
		out, err := srv.Clients().STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(out.Account) != kiritest.TestAccount {
			t.Fatalf("account %s, want %s", aws.ToString(out.Account), kiritest.TestAccount)
		}
	})
	t.Run("unknown key is InvalidClientTokenId", func(t *testing.T) {
		_, err := srv.ClientsAs("AKIANOTAKNOWNKEY0000", "whatever", "").STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		expectAPIError(t, err, "InvalidClientTokenId", http.StatusForbidden)
	})
	t.Run("wrong secret is SignatureDoesNotMatch", func(t *testing.T) {
		_, err := srv.ClientsAs(kiritest.TestAccessKey, "not-the-secret", "").STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		expectAPIError(t, err, "SignatureDoesNotMatch", http.StatusForbidden)
	})
	t.Run("unsigned request is refused", func(t *testing.T) {
		resp, err := http.Post(srv.URL, "application/x-www-form-urlencoded", strings.NewReader("Action=GetCallerIdentity&Version=2011-06-15"))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "MissingAuthenticationToken") {
			t.Fatalf("status %d body %s, want 403 MissingAuthenticationToken", resp.StatusCode, body)
		}
	})
}

func TestPresignedRequests(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{Strict: true})
	ctx := t.Context()
	presign := func(t *testing.T, signedAt time.Time, expires time.Duration) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/?Action=GetCallerIdentity&Version=2011-06-15", nil)
		q := req.URL.Query()
		q.Set("X-Amz-Expires", strconv.Itoa(int(expires.Seconds())))
		req.URL.RawQuery = q.Encode()
		creds := aws.Credentials{AccessKeyID: kiritest.TestAccessKey, SecretAccessKey: kiritest.TestSecretKey}
		url, _, err := v4.NewSigner().PresignHTTP(ctx, creds, req, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "sts", kiritest.Region, signedAt)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	t.Run("fresh presigned URL works", func(t *testing.T) {
		resp := presign(t, time.Now(), 300*time.Second)
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "<Account>"+kiritest.TestAccount+"</Account>") {
			t.Fatalf("status %d body %s", resp.StatusCode, body)
		}
	})
	t.Run("expired presigned URL is AccessDenied", func(t *testing.T) {
		resp := presign(t, time.Now().Add(-10*time.Minute), 60*time.Second)
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "<Code>AccessDenied</Code>") {
			t.Fatalf("status %d body %s, want 403 AccessDenied", resp.StatusCode, body)
		}
	})
	t.Run("SDK presign client URL works", func(t *testing.T) {
		p, err := sts.NewPresignClient(srv.Clients().STS).PresignGetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest(p.Method, p.URL, nil)
		req.Header = p.SignedHeader.Clone()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), kiritest.TestAccount) {
			t.Fatalf("status %d body %s", resp.StatusCode, body)
		}
	})
}

func TestClockSkewIsRefused(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{Strict: true})
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/", strings.NewReader("Action=GetCallerIdentity&Version=2011-06-15"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	creds := aws.Credentials{AccessKeyID: kiritest.TestAccessKey, SecretAccessKey: kiritest.TestSecretKey}
	const bodyHash = "ab821ae955788b0e33ebd34c208442ccfc2d406e2edc5e7a39bd6458fbb4f843"
	if err := v4.NewSigner().SignHTTP(t.Context(), creds, req, bodyHash, "sts", kiritest.Region, time.Now().Add(-20*time.Minute)); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "Signature expired") {
		t.Fatalf("status %d body %s, want 403 Signature expired", resp.StatusCode, body)
	}
}
