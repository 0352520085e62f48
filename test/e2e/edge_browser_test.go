package e2e

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// browserRequest sends what a browser sends for a page: no signature, the page's Origin, and
// the Host the page's URL named. It returns the response, its body read, and the body.
func browserRequest(t *testing.T, srv *kiritest.Server, method, path, host string, header map[string]string, body string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// TestDevModeRefusesForeignPages checks that a web page on another site cannot use a dev-mode
// Kiri, which accepts unsigned requests: neither with cross-origin "simple" requests nor by
// rebinding its own host name to 127.0.0.1; while local pages, pages a bucket's CORS admits and
// S3 browser uploads keep working.
func TestDevModeRefusesForeignPages(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{AllowedHosts: []string{"myapp.test"}})
	clients := srv.Clients()
	ctx := t.Context()
	for _, b := range []string{"private", "shop"} {
		if _, err := clients.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := clients.S3.PutBucketCors(ctx, &s3.PutBucketCorsInput{Bucket: aws.String("shop"), CORSConfiguration: &s3types.CORSConfiguration{
		CORSRules: []s3types.CORSRule{{AllowedOrigins: []string{"https://shop.example"}, AllowedMethods: []string{"GET", "PUT", "POST"}}},
	}}); err != nil {
		t.Fatal(err)
	}
	exists := func(bucket, key string) bool {
		_, err := clients.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		return err == nil
	}
	textPlain := map[string]string{"Content-Type": "text/plain"}
	from := func(origin string) map[string]string {
		return map[string]string{"Content-Type": "text/plain", "Origin": origin}
	}

	t.Run("foreign page cannot write objects", func(t *testing.T) {
		resp, body := browserRequest(t, srv, http.MethodPut, "/private/planted.txt", "", from("https://evil.example"), "x")
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "<Code>AccessDenied</Code>") || !strings.Contains(body, "--allowed-hosts evil.example") {
			t.Fatalf("%d %s, want 403 AccessDenied naming the flag", resp.StatusCode, body)
		}
		if exists("private", "planted.txt") {
			t.Fatal("the refused PUT stored the object")
		}
	})
	t.Run("foreign page cannot invoke functions", func(t *testing.T) {
		createEcho(t, clients.Lambda, "victim")
		resp, body := browserRequest(t, srv, http.MethodPost, "/2015-03-31/functions/victim/invocations", "", from("https://evil.example"), "{}")
		if resp.StatusCode != http.StatusForbidden || resp.Header.Get("X-Amzn-Errortype") != "AccessDeniedException" ||
			!strings.Contains(body, "does not let web pages from other sites call it") {
			t.Fatalf("%d %v %s, want 403 AccessDeniedException", resp.StatusCode, resp.Header, body)
		}
		// The same request from no page (a script, an SDK) invokes the function.
		if resp, body := browserRequest(t, srv, http.MethodPost, "/2015-03-31/functions/victim/invocations", "", textPlain, "{}"); resp.StatusCode != http.StatusOK {
			t.Fatalf("unsigned invoke without an Origin: %d %s", resp.StatusCode, body)
		}
	})
	t.Run("rebound host name is refused", func(t *testing.T) {
		resp, body := browserRequest(t, srv, http.MethodGet, "/", "attacker.example:4566", nil, "")
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, `Host &quot;attacker.example&quot;`) {
			t.Fatalf("%d %s, want 403 naming the host", resp.StatusCode, body)
		}
		resp, _ = browserRequest(t, srv, http.MethodPut, "/private/rebound.txt", "attacker.example", textPlain, "x")
		if resp.StatusCode != http.StatusForbidden || exists("private", "rebound.txt") {
			t.Fatalf("PUT through a rebound name: %d", resp.StatusCode)
		}
	})
	t.Run("local and allowed pages work", func(t *testing.T) {
		for _, origin := range []string{"http://localhost:3000", "http://127.0.0.1:5173", "http://app.localhost:8080", "http://myapp.test:3000"} {
			if resp, body := browserRequest(t, srv, http.MethodPut, "/private/local.txt", "", from(origin), "x"); resp.StatusCode != http.StatusOK {
				t.Fatalf("PUT from %s: %d %s", origin, resp.StatusCode, body)
			}
		}
		if resp, body := browserRequest(t, srv, http.MethodGet, "/private/local.txt", "myapp.test:4566", nil, ""); resp.StatusCode != http.StatusOK {
			t.Fatalf("GET through an allowed host: %d %s", resp.StatusCode, body)
		}
	})
	t.Run("the bucket's CORS rules admit their sites", func(t *testing.T) {
		resp, body := browserRequest(t, srv, http.MethodPut, "/shop/cart.txt", "", from("https://shop.example"), "x")
		if resp.StatusCode != http.StatusOK || !exists("shop", "cart.txt") {
			t.Fatalf("PUT admitted by CORS: %d %s", resp.StatusCode, body)
		}
		if resp, _ := browserRequest(t, srv, http.MethodPut, "/private/cart.txt", "", from("https://shop.example"), "x"); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("PUT to a bucket whose CORS does not admit the site: %d", resp.StatusCode)
		}
	})
	t.Run("browser upload form from a site the CORS rules admit", func(t *testing.T) {
		var form bytes.Buffer
		mw := multipart.NewWriter(&form)
		mw.WriteField("key", "uploads/photo.txt")
		fw, _ := mw.CreateFormFile("file", "photo.txt")
		fw.Write([]byte("pixels"))
		mw.Close()
		header := map[string]string{"Content-Type": mw.FormDataContentType(), "Origin": "https://shop.example"}
		if resp, body := browserRequest(t, srv, http.MethodPost, "/shop", "", header, form.String()); resp.StatusCode/100 != 2 || !exists("shop", "uploads/photo.txt") {
			t.Fatalf("form upload: %d %s", resp.StatusCode, body)
		}
		header["Origin"] = "https://evil.example"
		if resp, _ := browserRequest(t, srv, http.MethodPost, "/private", "", header, form.String()); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("form upload from a foreign site: %d", resp.StatusCode)
		}
	})
	t.Run("function URL CORS admits its sites", func(t *testing.T) {
		createEcho(t, clients.Lambda, "public")
		cfg, err := clients.Lambda.CreateFunctionUrlConfig(ctx, &lambda.CreateFunctionUrlConfigInput{FunctionName: aws.String("public"),
			AuthType: types.FunctionUrlAuthTypeNone, Cors: &types.Cors{AllowOrigins: []string{"https://app.example"}}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := clients.Lambda.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: aws.String("public"), StatementId: aws.String("public"),
			Action: aws.String("lambda:InvokeFunctionUrl"), Principal: aws.String("*"), FunctionUrlAuthType: types.FunctionUrlAuthTypeNone}); err != nil {
			t.Fatal(err)
		}
		host := strings.TrimSuffix(strings.TrimPrefix(aws.ToString(cfg.FunctionUrl), "http://"), "/")
		if resp, body := browserRequest(t, srv, http.MethodPost, "/", host, from("https://app.example"), "{}"); resp.StatusCode != http.StatusOK {
			t.Fatalf("function URL from an admitted site: %d %s", resp.StatusCode, body)
		}
		if resp, body := browserRequest(t, srv, http.MethodPost, "/", host, from("https://evil.example"), "{}"); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("function URL from a foreign site: %d %s", resp.StatusCode, body)
		}
	})
}

// TestStrictModeLeavesHostsToSignatures checks that strict mode, where signatures protect every
// request, serves any Host.
func TestStrictModeLeavesHostsToSignatures(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{Strict: true})
	cfg := clientsAt(srv, "http://kiri.internal.example:80")
	if _, err := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }).ListBuckets(t.Context(), &s3.ListBucketsInput{}); err != nil {
		t.Fatal(err)
	}
}
