package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// hostileHandler is testdata/lambda/hostile in Python, plus a round trip through Kiri's S3
// with boto3.
const hostileHandler = `
import json, os, socket, urllib.request
import boto3

def handler(event, context):
    out = {}
    def attempt(key, fn):
        try:
            fn()
            out[key] = "ok"
        except Exception as e:
            out[key] = "error: " + repr(e)
    def connect(addr):
        host, port = addr.rsplit(":", 1)
        socket.create_connection((host, int(port)), timeout=2).close()
    def read(p):
        if os.path.isdir(p):
            os.listdir(p)
        else:
            open(p, "rb").read()
        if not os.path.exists(p):
            raise FileNotFoundError(p)
    def write(p):
        with open(p, "w") as f:
            f.write("x")
    def get(u):
        with urllib.request.urlopen(u, timeout=5) as r:
            r.read()
    for a in event.get("connect", []):
        attempt("connect " + a, lambda: connect(a))
    for p in event.get("read", []):
        attempt("read " + p, lambda: read(p))
    for p in event.get("write", []):
        attempt("write " + p, lambda: write(p))
    for u in event.get("get", []):
        attempt("get " + u, lambda: get(u))
    out["interfaces"] = ",".join(name for _, name in socket.if_nameindex())
    def s3_round_trip():
        s3 = boto3.client("s3")
        s3.put_object(Bucket=event["bucket"], Key="from-python", Body=b"sandboxed")
        if s3.get_object(Bucket=event["bucket"], Key="from-python")["Body"].read() != b"sandboxed":
            raise ValueError("wrong body")
    attempt("s3", s3_round_trip)
    return out
`

// TestFunctionSandboxKeepsTheHostOut: a hostile function, in Go and in Python, tries to reach
// the host's loopback ports, a store port, private and link-local addresses, host files, the
// Kiri binary's directory and another function's code, to list the host's interfaces and to
// write outside /tmp; every attempt fails. The same function reaches Kiri (S3) and an
// "outside" server the operator allowed.
func TestFunctionSandboxKeepsTheHostOut(t *testing.T) {
	outside := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "outside") }))
	defer outside.Close()
	hostPort, storePort := listenAndDrop(t), listenAndDrop(t)
	data := t.TempDir()
	srv := kiritest.Start(t, kiritest.Options{DataDir: data, FunctionNetworkAllow: strings.TrimPrefix(outside.URL, "http://")})
	c := srv.Clients()
	ctx := context.Background()
	if _, err := c.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("sandbox")}); err != nil {
		t.Fatal(err)
	}
	createEcho(t, c.Lambda, "victim")
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	wd, _ := os.Getwd()
	event := map[string]any{
		"connect": []string{hostPort, storePort, "10.11.12.13:5432", "192.168.1.1:80", "169.254.169.254:80"},
		"read": []string{"/etc/passwd", "/home", "/root", filepath.Dir(exe), wd, data,
			filepath.Join(data, "functions")},
		"write":  []string{"/x", "/etc/x", "/var/task/x", "/usr/x"},
		"get":    []string{outside.URL + "/", srv.URL + "/_kiri/health"},
		"bucket": "sandbox",
	}
	payload, _ := json.Marshal(event)

	createTestFunction(t, c.Lambda, "hostile-go", kiritest.GoFunctionZip(t, "./testdata/lambda/hostile"))
	createTestFunction(t, c.Lambda, "hostile-python", kiritest.ZipSource(t, map[string]string{"app.py": hostileHandler}),
		func(in *lambda.CreateFunctionInput) {
			in.Runtime, in.Handler, in.Timeout = types.RuntimePython312, aws.String("app.handler"), aws.Int32(30)
		})
	for _, name := range []string{"hostile-go", "hostile-python"} {
		t.Run(name, func(t *testing.T) {
			waitActive(t, c.Lambda, name)
			ictx, cancel := context.WithTimeout(ctx, 60*time.Second)
			defer cancel()
			out, err := c.Lambda.Invoke(ictx, &lambda.InvokeInput{FunctionName: aws.String(name), Payload: payload})
			if err != nil {
				t.Fatal(err)
			}
			var got map[string]string
			if out.FunctionError != nil || json.Unmarshal(out.Payload, &got) != nil {
				t.Fatalf("invoke: %s", out.Payload)
			}
			mustSucceed := map[string]bool{"get " + outside.URL + "/": true, "get " + srv.URL + "/_kiri/health": true, "s3": true}
			for key, res := range got {
				if key == "interfaces" {
					continue
				}
				if key == "read /root" && name == "hostile-python" && pythonUnder("/root") {
					// The interpreter's installation (pyenv) is kept at its host path, so the
					// directories leading to it exist, and hold nothing else.
					continue
				}
				if mustSucceed[key] != (res == "ok") {
					t.Errorf("%s: %s", key, res)
				}
			}
			if name == "hostile-python" && got["s3"] == "" {
				t.Error("no S3 round trip")
			}
			if got["interfaces"] != "lo" {
				t.Errorf("function sees interfaces %q, want only lo", got["interfaces"])
			}
			t.Logf("%s: %v", name, got)
		})
	}
}

// listenAndDrop listens on a loopback port, standing in for a host service (a store, another
// tenant's server), and closes whatever connects.
func listenAndDrop(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	return ln.Addr().String()
}

// pythonUnder reports whether the host's python3 is installed under dir.
func pythonUnder(dir string) bool {
	out, err := exec.Command("python3", "-c", "import sys; print(sys.base_prefix)").Output()
	return err == nil && strings.HasPrefix(strings.TrimSpace(string(out)), dir+"/")
}
