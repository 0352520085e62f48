package e2e

import (
	"bytes"
	"crypto/md5"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// mustAWS runs the AWS CLI and fails the test when it exits non-zero.
func mustAWS(t *testing.T, srv *kiritest.Server, args ...string) string {
	t.Helper()
	out, err := runAWS(t, srv, args...)
	if err != nil {
		t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// mustAWSJSON runs the AWS CLI and decodes its JSON output into v.
func mustAWSJSON(t *testing.T, srv *kiritest.Server, v any, args ...string) {
	t.Helper()
	out := mustAWS(t, srv, args...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("aws %s: output is not JSON: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func writeRandomFile(t *testing.T, path string, size int, seed uint64) []byte {
	t.Helper()
	b := make([]byte, size)
	rand.NewChaCha8([32]byte{0: byte(seed), 1: byte(seed >> 8)}).Read(b)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return b
}

func sameFile(t *testing.T, path string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s: %d bytes (md5 %x), want %d bytes (md5 %x)", path, len(got), md5.Sum(got), len(want), md5.Sum(want))
	}
}

func wantLines(t *testing.T, what, out string, lines ...string) {
	t.Helper()
	for _, l := range lines {
		if !strings.Contains(out, l) {
			t.Fatalf("%s: output lacks %q:\n%s", what, l, out)
		}
	}
}

// TestS3AWSCLIHighLevelCommands drives the AWS CLI's s3 commands through a bucket's whole life:
// mb, cp up and down (a 9 MiB file goes as a two-part multipart upload), sync both ways, ls,
// presign, rm and rb.
func TestS3AWSCLIHighLevelCommands(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{Strict: true})
	dir := t.TempDir()

	wantLines(t, "s3 mb", mustAWS(t, srv, "s3", "mb", "s3://cli-bucket"), "make_bucket: cli-bucket")
	wantLines(t, "s3 ls", mustAWS(t, srv, "s3", "ls"), "cli-bucket")

	small := writeRandomFile(t, filepath.Join(dir, "small.bin"), 1000, 1)
	wantLines(t, "s3 cp up", mustAWS(t, srv, "s3", "cp", filepath.Join(dir, "small.bin"), "s3://cli-bucket/one/small.bin"),
		"upload: ", "s3://cli-bucket/one/small.bin")
	mustAWS(t, srv, "s3", "cp", "s3://cli-bucket/one/small.bin", filepath.Join(dir, "small.down"))
	sameFile(t, filepath.Join(dir, "small.down"), small)

	big := writeRandomFile(t, filepath.Join(dir, "big.bin"), 9<<20, 2)
	mustAWS(t, srv, "s3", "cp", filepath.Join(dir, "big.bin"), "s3://cli-bucket/big.bin")
	var head struct {
		ContentLength int64
		ETag          string
	}
	mustAWSJSON(t, srv, &head, "s3api", "head-object", "--bucket", "cli-bucket", "--key", "big.bin")
	if head.ContentLength != 9<<20 || !strings.HasSuffix(head.ETag, `-2"`) {
		t.Errorf("9 MiB upload: head-object says %d bytes, ETag %s; want %d bytes and a two-part multipart ETag", head.ContentLength, head.ETag, 9<<20)
	}
	mustAWS(t, srv, "s3", "cp", "s3://cli-bucket/big.bin", filepath.Join(dir, "big.down"))
	sameFile(t, filepath.Join(dir, "big.down"), big)

	tree := map[string][]byte{}
	for i, name := range []string{"a.txt", "b/c.txt", "b/d/e.txt"} {
		tree[name] = writeRandomFile(t, filepath.Join(dir, "tree", name), 100*(i+1), uint64(10+i))
	}
	out := mustAWS(t, srv, "s3", "sync", filepath.Join(dir, "tree"), "s3://cli-bucket/tree")
	wantLines(t, "s3 sync up", out, "s3://cli-bucket/tree/a.txt", "s3://cli-bucket/tree/b/c.txt", "s3://cli-bucket/tree/b/d/e.txt")
	if out := mustAWS(t, srv, "s3", "sync", filepath.Join(dir, "tree"), "s3://cli-bucket/tree"); strings.TrimSpace(out) != "" {
		t.Fatalf("a second sync of an unchanged tree uploaded again:\n%s", out)
	}
	out = mustAWS(t, srv, "s3", "ls", "s3://cli-bucket/tree/")
	wantLines(t, "s3 ls with delimiter", out, "PRE b/", "100 a.txt")
	if strings.Contains(out, "c.txt") {
		t.Fatalf("s3 ls listed below a common prefix:\n%s", out)
	}
	wantLines(t, "s3 ls --recursive", mustAWS(t, srv, "s3", "ls", "--recursive", "s3://cli-bucket/"),
		"one/small.bin", "big.bin", "tree/a.txt", "tree/b/c.txt", "tree/b/d/e.txt")
	mustAWS(t, srv, "s3", "sync", "s3://cli-bucket/tree", filepath.Join(dir, "tree.down"))
	for name, want := range tree {
		sameFile(t, filepath.Join(dir, "tree.down", name), want)
	}

	url := strings.TrimSpace(mustAWS(t, srv, "s3", "presign", "s3://cli-bucket/one/small.bin", "--expires-in", "300"))
	if !strings.Contains(url, "X-Amz-Signature=") {
		t.Fatalf("s3 presign gave %q, want a SigV4 presigned URL", url)
	}
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Equal(got, small) {
		t.Fatalf("GET of the presigned URL: status %d, %d bytes; want 200 and the object\n%s", resp.StatusCode, len(got), got)
	}
	resp, err = http.Get(strings.Replace(url, "X-Amz-Signature=", "X-Amz-Signature=0", 1))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("GET of a tampered presigned URL: status %d, want 403", resp.StatusCode)
	}

	out, err = runAWS(t, srv, "s3", "rb", "s3://cli-bucket")
	if err == nil || !strings.Contains(out, "BucketNotEmpty") {
		t.Fatalf("s3 rb of a non-empty bucket: %v, want BucketNotEmpty\n%s", err, out)
	}
	out = mustAWS(t, srv, "s3", "rm", "--recursive", "s3://cli-bucket/")
	wantLines(t, "s3 rm --recursive", out, "delete: s3://cli-bucket/big.bin", "delete: s3://cli-bucket/tree/b/d/e.txt")
	if out := mustAWS(t, srv, "s3", "ls", "--recursive", "s3://cli-bucket/"); strings.TrimSpace(out) != "" {
		t.Fatalf("s3 ls after rm --recursive:\n%s", out)
	}
	wantLines(t, "s3 rb", mustAWS(t, srv, "s3", "rb", "s3://cli-bucket"), "remove_bucket: cli-bucket")
	if out := mustAWS(t, srv, "s3", "ls"); strings.Contains(out, "cli-bucket") {
		t.Fatalf("s3 ls after rb still lists the bucket:\n%s", out)
	}
}

// TestS3AWSCLIObjectAPI drives the s3api object calls: put-object with metadata, head-object,
// list-objects-v2 with a prefix, get-object, delete-object, and the errors the CLI reports.
func TestS3AWSCLIObjectAPI(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{Strict: true})
	dir := t.TempDir()
	mustAWS(t, srv, "s3api", "create-bucket", "--bucket", "cli-api")
	body := writeRandomFile(t, filepath.Join(dir, "body"), 70<<10, 3)
	etag := fmt.Sprintf("%q", fmt.Sprintf("%x", md5.Sum(body)))

	var put struct{ ETag string }
	mustAWSJSON(t, srv, &put, "s3api", "put-object", "--bucket", "cli-api", "--key", "docs/report.bin",
		"--body", filepath.Join(dir, "body"), "--content-type", "application/x-report", "--metadata", "team=storage,run=7")
	if put.ETag != etag {
		t.Fatalf("put-object ETag %s, want %s", put.ETag, etag)
	}
	mustAWS(t, srv, "s3api", "put-object", "--bucket", "cli-api", "--key", "docs/empty")
	mustAWS(t, srv, "s3api", "put-object", "--bucket", "cli-api", "--key", "other")

	var head struct {
		ContentLength int64
		ContentType   string
		ETag          string
		Metadata      map[string]string
	}
	mustAWSJSON(t, srv, &head, "s3api", "head-object", "--bucket", "cli-api", "--key", "docs/report.bin")
	if head.ContentLength != int64(len(body)) || head.ContentType != "application/x-report" || head.ETag != etag ||
		head.Metadata["team"] != "storage" || head.Metadata["run"] != "7" {
		t.Errorf("head-object: %+v; want %d bytes, application/x-report, ETag %s, metadata team=storage run=7", head, len(body), etag)
	}

	var list struct {
		Contents []struct {
			Key  string
			Size int64
			ETag string
		}
	}
	mustAWSJSON(t, srv, &list, "s3api", "list-objects-v2", "--bucket", "cli-api", "--prefix", "docs/")
	if len(list.Contents) != 2 || list.Contents[0].Key != "docs/empty" ||
		list.Contents[1].Key != "docs/report.bin" || list.Contents[1].Size != int64(len(body)) || list.Contents[1].ETag != etag {
		t.Errorf("list-objects-v2 --prefix docs/: %+v; want docs/empty and docs/report.bin", list)
	}
	var paged struct {
		Contents []struct{ Key string }
	}
	mustAWSJSON(t, srv, &paged, "s3api", "list-objects-v2", "--bucket", "cli-api", "--page-size", "1")
	if len(paged.Contents) != 3 {
		t.Fatalf("list-objects-v2 --page-size 1 (the CLI follows continuation tokens): %+v, want 3 keys", paged)
	}

	var get struct {
		ContentLength int64
		ETag          string
	}
	mustAWSJSON(t, srv, &get, "s3api", "get-object", "--bucket", "cli-api", "--key", "docs/report.bin", filepath.Join(dir, "got"))
	sameFile(t, filepath.Join(dir, "got"), body)
	if get.ETag != etag {
		t.Fatalf("get-object ETag %s, want %s", get.ETag, etag)
	}
	mustAWSJSON(t, srv, &get, "s3api", "get-object", "--bucket", "cli-api", "--key", "docs/report.bin", "--range", "bytes=10-19", filepath.Join(dir, "range"))
	sameFile(t, filepath.Join(dir, "range"), body[10:20])

	mustAWS(t, srv, "s3api", "delete-object", "--bucket", "cli-api", "--key", "docs/report.bin")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"head of a deleted object is 404", []string{"s3api", "head-object", "--bucket", "cli-api", "--key", "docs/report.bin"}, "(404)"},
		{"get of a deleted object is NoSuchKey", []string{"s3api", "get-object", "--bucket", "cli-api", "--key", "docs/report.bin", filepath.Join(dir, "x")}, "NoSuchKey"},
		{"listing a missing bucket is NoSuchBucket", []string{"s3api", "list-objects-v2", "--bucket", "cli-missing"}, "NoSuchBucket"},
		{"deleting a non-empty bucket is BucketNotEmpty", []string{"s3api", "delete-bucket", "--bucket", "cli-api"}, "BucketNotEmpty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := runAWS(t, srv, tc.args...)
			if err == nil || !strings.Contains(out, tc.want) {
				t.Fatalf("aws %s: %v, want an error with %s\n%s", strings.Join(tc.args, " "), err, tc.want, out)
			}
		})
	}
}
