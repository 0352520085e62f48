package e2e

import (
	"bytes"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// smallDisk mounts a tmpfs of the given size for the test, or skips where mounting is not
// allowed (it needs root).
func smallDisk(t *testing.T, size string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "disk")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a small filesystem here: %v %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", "-l", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", dir, err, out)
		}
	})
	return dir
}

// fillDisk writes a file into dir until the filesystem is full, as another program might.
func fillDisk(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	for {
		if _, err := f.Write(buf); err != nil {
			break
		}
	}
	for n := len(buf) / 2; n > 0; n /= 2 {
		f.Write(buf[:n]) //nolint:errcheck // the last crumbs, as far as they fit
	}
	return path
}

// On a full disk, writes that add data are refused with S3's and Lambda's errors (not a 500),
// reads go on, and deletes still work, so space can be freed through the API; writes resume
// once it has been.
func TestS3FullDiskCanBeEmptied(t *testing.T) {
	disk := smallDisk(t, "16m")
	srv := kiritest.Start(t, kiritest.Options{DataDir: filepath.Join(disk, "data")})
	cl := srv.Clients()
	ctx := t.Context()
	mustCreateBucket(t, cl.S3, "full")
	body := bytes.Repeat([]byte("k"), 256<<10)
	put := func(key string) error {
		_, err := cl.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("full"), Key: aws.String(key), Body: bytes.NewReader(body)})
		return err
	}
	var keys []string
	for i := 0; ; i++ {
		key := "obj-" + strconv.Itoa(i)
		err := put(key)
		if err == nil {
			keys = append(keys, key)
			continue
		}
		expectAPIError(t, err, "ServiceUnavailable", http.StatusServiceUnavailable)
		break
	}
	if len(keys) < 10 {
		t.Fatalf("only %d objects fit before the disk was full", len(keys))
	}
	// Whatever else shares the disk may take the rest.
	fillDisk(t, disk)
	expectAPIError(t, put("one-more"), "ServiceUnavailable", http.StatusServiceUnavailable)
	_, err := cl.S3.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("full"), Key: aws.String("mp")})
	expectAPIError(t, err, "ServiceUnavailable", http.StatusServiceUnavailable)
	_, err = cl.Lambda.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String("nospace"), Runtime: lambdatypes.RuntimePython312,
		Handler: aws.String("app.handler"), Role: aws.String(lambdaRole),
		Code: &lambdatypes.FunctionCode{ZipFile: kiritest.ZipSource(t, map[string]string{"app.py": "def handler(e, c):\n    return e\n"})}})
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "CodeStorageExceededException" {
		t.Fatalf("CreateFunction on a full disk: %v, want CodeStorageExceededException", err)
	}

	if _, _, err := (objectFixture{srv: srv, c: cl.S3, bucket: "full"}).get(t, &s3.GetObjectInput{Key: aws.String(keys[0])}); err != nil {
		t.Fatalf("GetObject on a full disk: %v", err)
	}
	if _, err := cl.S3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("full"), Key: aws.String(keys[0])}); err != nil {
		t.Fatalf("DeleteObject on a full disk: %v", err)
	}
	var ids []types.ObjectIdentifier
	for _, k := range keys[1:] {
		ids = append(ids, types.ObjectIdentifier{Key: aws.String(k)})
	}
	out, err := cl.S3.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("full"), Delete: &types.Delete{Objects: ids}})
	if err != nil || len(out.Errors) > 0 || len(out.Deleted) != len(ids) {
		t.Fatalf("DeleteObjects on a full disk: %d deleted, errors %v, %v", len(out.Deleted), out.Errors, err)
	}
	eventually(t, 20*time.Second, "writes resume once deletes freed the space", func() bool { return put("after") == nil })
	logs := srv.Logs()
	if !strings.Contains(logs, "reserve given back") {
		t.Errorf("the deletes did not need the reserve; logs:\n%s", logs)
	}
}
