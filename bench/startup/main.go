// Command startup measures how fast a fresh Kiri answers its first request and how much memory
// it holds idle. It builds ./cmd/kiri, then, n times: starts it on a free loopback port with
// --ephemeral, sends GetCallerIdentity (SigV4-shaped, dev mode) in a tight loop until one
// succeeds, and reads VmRSS after the server has idled for a second.
//
//	go run ./bench/startup -n 20
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/kiri-run/kiri/bench/internal/procstat"
)

func main() {
	n := flag.Int("n", 20, "runs")
	flag.Parse()
	dir, err := os.MkdirTemp("", "kiri-startup-*")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "kiri")
	if out, err := exec.Command("go", "build", "-o", bin, "./cmd/kiri").CombinedOutput(); err != nil {
		log.Fatalf("build: %v\n%s", err, out)
	}
	var ready []time.Duration
	var rss []int
	for range *n {
		d, kib, err := once(bin)
		if err != nil {
			log.Fatal(err)
		}
		ready = append(ready, d)
		rss = append(rss, kib)
	}
	slices.Sort(ready)
	slices.Sort(rss)
	fmt.Printf("start to first successful request: p50 %s  min %s  max %s  (n=%d)\n",
		ready[len(ready)/2].Round(10*time.Microsecond), ready[0].Round(10*time.Microsecond), ready[len(ready)-1].Round(10*time.Microsecond), *n)
	fmt.Printf("idle RSS after start: p50 %.1f MiB  max %.1f MiB\n", float64(rss[len(rss)/2])/1024, float64(rss[len(rss)-1])/1024)
}

func once(bin string) (time.Duration, int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, 0, err
	}
	addr := l.Addr().String()
	l.Close()
	req := func() bool {
		r, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/", strings.NewReader("Action=GetCallerIdentity&Version=2011-06-15"))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260101/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=00")
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	}
	cmd := exec.Command(bin, "--ephemeral", "--addr", addr, "--log-level", "warn")
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, 0, err
	}
	defer func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }()
	for !req() {
		if time.Since(start) > 10*time.Second {
			return 0, 0, fmt.Errorf("not ready after 10s")
		}
		time.Sleep(100 * time.Microsecond)
	}
	d := time.Since(start)
	time.Sleep(time.Second)
	kib := procstat.RSS(cmd.Process.Pid)
	if kib == 0 {
		return d, 0, fmt.Errorf("no VmRSS")
	}
	return d, kib, nil
}
