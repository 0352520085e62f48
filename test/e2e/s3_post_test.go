package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/kiri-run/kiri/internal/auth"
	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// postField is one form field, in the order sent.
type postField struct{ name, value string }

// postForm sends a browser-based upload: fields, then the file, and returns the response.
func postForm(t *testing.T, url string, fields []postField, filename, content string) *http.Response {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, f := range fields {
		mw.WriteField(f.name, f.value)
	}
	fw, _ := mw.CreateFormFile("file", filename)
	io.WriteString(fw, content)
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, url, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// encodePolicy base64-encodes a policy document expiring in d with conds.
func encodePolicy(t *testing.T, d time.Duration, conds ...any) string {
	t.Helper()
	doc, err := json.Marshal(map[string]any{"expiration": time.Now().Add(d).UTC().Format("2006-01-02T15:04:05Z"), "conditions": conds})
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(doc)
}

func postErrorCode(t *testing.T, resp *http.Response) string {
	t.Helper()
	var e struct{ Code string }
	body, _ := io.ReadAll(resp.Body)
	if err := xml.Unmarshal(body, &e); err != nil {
		t.Fatalf("error body %q: %v", body, err)
	}
	return e.Code
}

func TestS3PostObject(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{Strict: true})
	c := srv.Clients().S3
	ctx := context.Background()
	const bucket = "post-forms"
	mustCreateBucket(t, c, bucket)
	url := srv.URL + "/" + bucket
	std := []any{map[string]string{"bucket": bucket}, []any{"starts-with", "$key", "up/"},
		[]any{"starts-with", "$Content-Type", "text/"}, []any{"content-length-range", 0, 1 << 20},
		[]any{"starts-with", "$x-amz-meta-color", ""}, map[string]string{"success_action_status": "201"}}
	v2 := func(policy string, extra ...postField) []postField {
		return append([]postField{{"key", "up/${filename}"}, {"AWSAccessKeyId", kiritest.TestAccessKey}, {"policy", policy},
			{"signature", auth.PostPolicySignatureV2(kiritest.TestSecretKey, policy)}, {"Content-Type", "text/plain"},
			{"x-amz-meta-color", "blue"}, {"success_action_status", "201"}}, extra...)
	}

	t.Run("signed v2 form stores the file under the expanded key", func(t *testing.T) {
		resp := postForm(t, url, v2(encodePolicy(t, time.Hour, std...)), "a.txt", "hello form")
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("status %d: %s", resp.StatusCode, postErrorCode(t, resp))
		}
		var pr struct{ Bucket, Key, ETag string }
		if err := xml.NewDecoder(resp.Body).Decode(&pr); err != nil || pr.Key != "up/a.txt" || pr.Bucket != bucket {
			t.Fatalf("PostResponse %+v, %v", pr, err)
		}
		out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("up/a.txt")})
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(out.Body)
		if string(body) != "hello form" || aws.ToString(out.ContentType) != "text/plain" || out.Metadata["color"] != "blue" {
			t.Fatalf("object %q %q %v", body, aws.ToString(out.ContentType), out.Metadata)
		}
	})

	t.Run("signed v4 form is accepted", func(t *testing.T) {
		date := time.Now().UTC().Format("20060102T150405Z")
		cred := kiritest.TestAccessKey + "/" + date[:8] + "/us-east-1/s3/aws4_request"
		policy := encodePolicy(t, time.Hour, map[string]string{"bucket": bucket}, map[string]string{"key": "v4.txt"},
			map[string]string{"x-amz-algorithm": "AWS4-HMAC-SHA256"}, map[string]string{"x-amz-credential": cred},
			map[string]string{"x-amz-date": date})
		resp := postForm(t, url, []postField{{"key", "v4.txt"}, {"x-amz-algorithm", "AWS4-HMAC-SHA256"},
			{"x-amz-credential", cred}, {"x-amz-date", date}, {"policy", policy},
			{"x-amz-signature", auth.PostPolicySignatureV4(kiritest.TestSecretKey, date[:8], "us-east-1", "s3", policy)}}, "f", "v4")
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("status %d: %s", resp.StatusCode, postErrorCode(t, resp))
		}
	})

	t.Run("redirect answers 303 with bucket key and etag", func(t *testing.T) {
		policy := encodePolicy(t, time.Hour, map[string]string{"bucket": bucket}, map[string]string{"key": "r.txt"},
			map[string]string{"success_action_redirect": "http://example.com/done"})
		resp := postForm(t, url, []postField{{"key", "r.txt"}, {"AWSAccessKeyId", kiritest.TestAccessKey}, {"policy", policy},
			{"signature", auth.PostPolicySignatureV2(kiritest.TestSecretKey, policy)},
			{"success_action_redirect", "http://example.com/done"}}, "f", "x")
		loc := resp.Header.Get("Location")
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "http://example.com/done?bucket=post-forms&key=r.txt&etag=%22") {
			t.Fatalf("status %d location %q", resp.StatusCode, loc)
		}
	})

	failures := []struct {
		name   string
		fields []postField
		file   string
		status int
		code   string
	}{
		{"bad signature is SignatureDoesNotMatch", func() []postField {
			f := v2(encodePolicy(t, time.Hour, std...))
			f[3].value = base64.StdEncoding.EncodeToString([]byte("nope"))
			return f
		}(), "x", 403, "SignatureDoesNotMatch"},
		{"unknown access key is InvalidAccessKeyId", func() []postField {
			f := v2(encodePolicy(t, time.Hour, std...))
			f[1].value = "AKIANOTAKEY000000000"
			return f
		}(), "x", 403, "InvalidAccessKeyId"},
		{"expired policy is AccessDenied", v2(encodePolicy(t, -time.Hour, std...)), "x", 403, "AccessDenied"},
		{"failed condition is AccessDenied", v2(encodePolicy(t, time.Hour, std...), postField{"x-amz-meta-extra", "1"}), "x", 403, "AccessDenied"},
		{"file over content-length-range is EntityTooLarge", v2(encodePolicy(t, time.Hour, append(std[:3:3], []any{"content-length-range", 0, 3},
			[]any{"starts-with", "$x-amz-meta-color", ""}, map[string]string{"success_action_status": "201"})...)), "toolong", 400, "EntityTooLarge"},
		{"policy without expiration is InvalidPolicyDocument", v2(base64.StdEncoding.EncodeToString([]byte(`{"conditions":[]}`))), "x", 400, "InvalidPolicyDocument"},
		{"missing key is InvalidArgument", v2(encodePolicy(t, time.Hour, std...))[1:], "x", 400, "InvalidArgument"},
		{"missing signature is InvalidArgument", func() []postField {
			f := v2(encodePolicy(t, time.Hour, std...))
			return append(f[:3:3], f[4:]...)
		}(), "x", 400, "InvalidArgument"},
		{"anonymous form to a private bucket is AccessDenied", []postField{{"key", "anon.txt"}}, "x", 403, "AccessDenied"},
	}
	for _, tc := range failures {
		t.Run(tc.name, func(t *testing.T) {
			resp := postForm(t, url, tc.fields, "f.txt", tc.file)
			if code := postErrorCode(t, resp); resp.StatusCode != tc.status || code != tc.code {
				t.Fatalf("got %d %s, want %d %s", resp.StatusCode, code, tc.status, tc.code)
			}
		})
	}
	if _, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("up/f.txt")}); err == nil {
		t.Fatal("a refused form stored its file")
	}

	t.Run("anonymous form to a public-read-write bucket is stored", func(t *testing.T) {
		const open = "post-open"
		if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(open), ACL: types.BucketCannedACLPublicReadWrite}); err != nil {
			t.Fatal(err)
		}
		resp := postForm(t, srv.URL+"/"+open, []postField{{"key", "anon.txt"}, {"tagging",
			"<Tagging><TagSet><Tag><Key>k</Key><Value>v</Value></Tag></TagSet></Tagging>"}}, "f", "anon")
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("status %d: %s", resp.StatusCode, postErrorCode(t, resp))
		}
		tags, err := c.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String(open), Key: aws.String("anon.txt")})
		if err != nil || len(tags.TagSet) != 1 || aws.ToString(tags.TagSet[0].Key) != "k" {
			t.Fatalf("tags %+v, %v", tags, err)
		}
	})
}
