package e2e

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// emptyUploadScript puts an empty file-like body (boto3 asks for 100 Continue on it) and then
// ten more objects on the same connection, and prints how long that took. Without an interim
// 100 Continue, botocore keeps the empty PUT's status line for the next response on the
// connection, which then waits for its read timeout; retries are off so that surfaces as an error.
const emptyUploadScript = `
import io, sys, time, boto3
from botocore.config import Config
s3 = boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1",
                  aws_access_key_id="test", aws_secret_access_key="test",
                  config=Config(read_timeout=5, retries={"total_max_attempts": 1},
                                s3={"addressing_style": "path"}))
s3.create_bucket(Bucket=sys.argv[2])
start = time.monotonic()
s3.put_object(Bucket=sys.argv[2], Key="empty", Body=io.BytesIO(b""))
s3.upload_fileobj(io.BytesIO(b""), sys.argv[2], "empty-fileobj")
for i in range(10):
    s3.put_object(Bucket=sys.argv[2], Key="k%d" % i, Body=io.BytesIO(b"x" * i))
print(time.monotonic() - start)
`

func TestBoto3EmptyUploadDoesNotStallTheConnection(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{})
	for i, b := range boto3Clients(t) {
		t.Run("boto3 "+b.Version, func(t *testing.T) {
			out := b.run(t, emptyUploadScript, srv.URL, "empty-uploads-"+strconv.Itoa(i))
			lines := strings.Split(strings.TrimSpace(out), "\n")
			secs, err := strconv.ParseFloat(lines[len(lines)-1], 64)
			if err != nil {
				t.Fatalf("script output %q", out)
			}
			d := time.Duration(secs * float64(time.Second))
			if d > 2*time.Second {
				t.Fatalf("an empty upload and ten more took %v", d)
			}
			t.Logf("two empty uploads and ten more: %v", d.Round(time.Millisecond))
		})
	}
}
