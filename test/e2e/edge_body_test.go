package e2e

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// rawPut opens a connection to srv and sends a PUT of path that announces length body bytes;
// the caller sends the body (or not) on the returned connection.
func rawPut(t *testing.T, srv *kiritest.Server, path string, length int) *net.TCPConn {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	fmt.Fprintf(c, "PUT %s HTTP/1.1\r\nHost: %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n",
		path, strings.TrimPrefix(srv.URL, "http://"), length)
	return c.(*net.TCPConn)
}

// readResponse reads the response on c.
func readResponse(t *testing.T, c net.Conn) (*http.Response, string) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(body)
}

// metric returns the value of the sample named exactly by series in srv's metrics, or "".
func metric(t *testing.T, srv *kiritest.Server, series string) string {
	t.Helper()
	resp, err := http.Get(srv.URL + "/_kiri/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			return v
		}
	}
	return ""
}

// TestClientThatDropsAnUploadIsA400 checks that an upload whose client goes away before the
// announced Content-Length stores nothing and counts as the client's error (400 IncompleteBody),
// small bodies (stored inline) and large ones (streamed to a blob) alike.
func TestClientThatDropsAnUploadIsA400(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{})
	c := srv.Clients().S3
	if _, err := c.CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: aws.String("drops")}); err != nil {
		t.Fatal(err)
	}
	for _, size := range []int{1000, 200_000} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			key := fmt.Sprintf("cut-%d", size)
			conn := rawPut(t, srv, "/drops/"+key, size)
			conn.Write([]byte(strings.Repeat("x", size/2)))
			conn.CloseWrite() // the client is gone; its half of the connection ends early
			resp, body := readResponse(t, conn)
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "<Code>IncompleteBody</Code>") {
				t.Fatalf("%d %s, want 400 IncompleteBody", resp.StatusCode, body)
			}
			if _, err := c.HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: aws.String("drops"), Key: aws.String(key)}); err == nil {
				t.Fatal("the cut upload left an object")
			}
		})
	}
	if got := metric(t, srv, `kiri_requests_total{operation="PutObject",service="s3",status="400"}`); got != "2" {
		t.Fatalf("PutObject 400s counted %q, want 2", got)
	}
	if got := metric(t, srv, `kiri_requests_total{operation="PutObject",service="s3",status="500"}`); got != "" {
		t.Fatalf("PutObject 500s counted %q, want none", got)
	}
}

// TestStalledUploadTimesOut checks that a body that stops arriving fails after the idle
// timeout with S3's RequestTimeout, while a slow body that keeps arriving is never cut.
func TestStalledUploadTimesOut(t *testing.T) {
	const idle = 300 * time.Millisecond
	srv := kiritest.Start(t, kiritest.Options{BodyIdleTimeout: idle})
	c := srv.Clients().S3
	if _, err := c.CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: aws.String("slow")}); err != nil {
		t.Fatal(err)
	}
	t.Run("stalled", func(t *testing.T) {
		conn := rawPut(t, srv, "/slow/stalled", 10)
		start := time.Now()
		conn.Write([]byte("abc"))
		resp, body := readResponse(t, conn)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "<Code>RequestTimeout</Code>") ||
			!strings.Contains(body, "Your socket connection to the server was not read from or written to within the timeout period.") {
			t.Fatalf("%d %s, want 400 RequestTimeout", resp.StatusCode, body)
		}
		if d := time.Since(start); d < idle || d > idle+2*time.Second {
			t.Fatalf("answered after %v, want about %v", d, idle)
		}
	})
	t.Run("trickling", func(t *testing.T) {
		conn := rawPut(t, srv, "/slow/trickled", 8)
		for _, b := range []byte("trickled") { // 8 × 100ms: twice the idle timeout in all
			time.Sleep(idle / 3)
			conn.Write([]byte{b})
		}
		if resp, body := readResponse(t, conn); resp.StatusCode != http.StatusOK {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
		out, err := c.GetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String("slow"), Key: aws.String("trickled")})
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(out.Body)
		out.Body.Close()
		if string(got) != "trickled" {
			t.Fatalf("stored %q", got)
		}
	})
}
