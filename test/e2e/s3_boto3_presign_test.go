package e2e

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// debianBoto3 is Debian's boto3 1.26 (python3-boto3, which .ci/run installs), which signs S3
// presigned URLs with SigV2 by default against a custom endpoint.
func debianBoto3(t *testing.T) string {
	t.Helper()
	if err := exec.Command("/usr/bin/python3", "-c", "import boto3").Run(); err == nil {
		return "/usr/bin/python3"
	}
	if os.Getenv("CI") != "" {
		t.Fatal("Debian's boto3 is not installed; .ci/run installs python3-boto3")
	}
	t.Skip("Debian's boto3 is not installed: apt-get install python3-boto3")
	return ""
}

const presignScript = `
import sys, boto3
endpoint, method, bucket, key, expires = sys.argv[1:6]
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                  aws_access_key_id=sys.argv[6], aws_secret_access_key=sys.argv[7])
print(s3.generate_presigned_url(method, Params={"Bucket": bucket, "Key": key}, ExpiresIn=int(expires)))
`

func boto3Presign(t *testing.T, srv *kiritest.Server, method, key string, expires int) string {
	t.Helper()
	out, err := exec.Command(debianBoto3(t), "-c", presignScript, srv.URL, method, "presigned", key,
		strconv.Itoa(expires), kiritest.TestAccessKey, kiritest.TestSecretKey).CombinedOutput()
	if err != nil {
		t.Fatalf("boto3: %v\n%s", err, out)
	}
	url := strings.TrimSpace(string(out))
	if !strings.Contains(url, "AWSAccessKeyId=") || !strings.Contains(url, "Signature=") {
		t.Fatalf("boto3 1.26 made %s, not a SigV2 URL", url)
	}
	return url
}

func TestS3Boto3SigV2PresignedURLs(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{Strict: true})
	c := srv.Clients().S3
	ctx := t.Context()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("presigned")}); err != nil {
		t.Fatal(err)
	}

	put, err := http.NewRequest(http.MethodPut, boto3Presign(t, srv, "put_object", "docs/report 1.txt", 300), bytes.NewReader([]byte("quarterly")))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(put)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("presigned PUT: %d %s", resp.StatusCode, body)
	}

	resp, err = http.Get(boto3Presign(t, srv, "get_object", "docs/report 1.txt", 300))
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != "quarterly" {
		t.Fatalf("presigned GET: %d %q", resp.StatusCode, body)
	}

	expired := boto3Presign(t, srv, "get_object", "docs/report 1.txt", 1)
	time.Sleep(2100 * time.Millisecond)
	resp, err = http.Get(expired)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "<Code>AccessDenied</Code>") {
		t.Fatalf("expired presigned GET: %d %s, want 403 AccessDenied", resp.StatusCode, body)
	}
}
