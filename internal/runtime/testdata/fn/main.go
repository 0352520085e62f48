// Command fn is the test function: an unmodified aws-lambda-go handler whose behaviour the
// event selects. FN_MODE changes what happens during init.
package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

type event struct {
	Action string   `json:"action"`
	Path   string   `json:"path"`
	Data   string   `json:"data"`
	Addr   string   `json:"addr"`
	MS     int      `json:"ms"`
	N      int      `json:"n"`
	Lines  []string `json:"lines"`
}

type answer struct {
	OK        bool              `json:"ok"`
	Err       string            `json:"err,omitempty"`
	Data      string            `json:"data,omitempty"`
	Env       map[string]string `json:"env,omitempty"`
	RequestID string            `json:"requestId,omitempty"`
	ARN       string            `json:"arn,omitempty"`
	Deadline  int64             `json:"deadlineMs,omitempty"`
	UID       int               `json:"uid"`
	PID       int               `json:"pid"`
}

var hold [][]byte

func handle(ctx context.Context, ev event) (any, error) {
	lc, _ := lambdacontext.FromContext(ctx)
	a := answer{OK: true, UID: os.Getuid(), PID: os.Getpid()}
	if lc != nil {
		a.RequestID, a.ARN = lc.AwsRequestID, lc.InvokedFunctionArn
	}
	if d, ok := ctx.Deadline(); ok {
		a.Deadline = d.UnixMilli()
	}
	switch ev.Action {
	case "noop":
		return nil, nil
	case "echo":
		a.Data = ev.Data
	case "env":
		a.Env = map[string]string{}
		for _, kv := range os.Environ() {
			k, v, _ := strings.Cut(kv, "=")
			a.Env[k] = v
		}
	case "log":
		for _, l := range ev.Lines {
			fmt.Println(l)
		}
		fmt.Fprint(os.Stderr, "to stderr\n")
	case "sleep":
		time.Sleep(time.Duration(ev.MS) * time.Millisecond)
	case "error":
		return nil, errors.New(ev.Data)
	case "exit":
		os.Exit(ev.N)
	case "oom":
		for {
			b := make([]byte, 16<<20)
			for i := range b {
				b[i] = 1
			}
			hold = append(hold, b)
		}
	case "read":
		b, err := os.ReadFile(ev.Path)
		if err != nil {
			return answer{Err: err.Error()}, nil
		}
		a.Data = string(b)
	case "list":
		ents, err := os.ReadDir(ev.Path)
		if err != nil {
			return answer{Err: err.Error()}, nil
		}
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		a.Data = strings.Join(names, ",")
	case "write":
		if err := os.WriteFile(ev.Path, []byte(ev.Data), 0o644); err != nil {
			return answer{Err: err.Error()}, nil
		}
	case "connect":
		c, err := net.DialTimeout("tcp", ev.Addr, 2*time.Second)
		if err != nil {
			return answer{Err: err.Error()}, nil
		}
		c.Close()
	case "download":
		// Reads ev.Addr to the end, through the sandbox's proxy when ev.Data is "proxy".
		client := &http.Client{}
		if ev.Data == "proxy" {
			proxy, _ := url.Parse(os.Getenv("HTTP_PROXY"))
			client.Transport = &http.Transport{Proxy: http.ProxyURL(proxy)}
		}
		resp, err := client.Get(ev.Addr)
		if err != nil {
			return answer{Err: err.Error()}, nil
		}
		n, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil {
			return answer{Err: err.Error()}, nil
		}
		a.Data = strconv.FormatInt(n, 10)
	case "ifaces":
		ifs, err := net.Interfaces()
		if err != nil {
			return answer{Err: err.Error()}, nil
		}
		var names []string
		for _, i := range ifs {
			names = append(names, i.Name)
		}
		a.Data = strings.Join(names, ",")
	case "http":
		resp, err := http.Get(ev.Addr)
		if err != nil {
			return answer{Err: err.Error()}, nil
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		a.Data = string(b)
	case "mount":
		if err := syscall.Mount("tmpfs", ev.Path, "tmpfs", 0, ""); err != nil {
			return answer{Err: err.Error()}, nil
		}
	case "unshare":
		if err := syscall.Unshare(syscall.CLONE_NEWNS); err != nil {
			return answer{Err: err.Error()}, nil
		}
	case "big":
		return strings.Repeat("x", ev.N), nil
	case "stream":
		pr, pw := io.Pipe()
		go func() {
			for _, l := range ev.Lines {
				pw.Write([]byte(l))
				time.Sleep(time.Duration(ev.MS) * time.Millisecond)
			}
			if ev.Data != "" {
				pw.CloseWithError(errors.New(ev.Data))
				return
			}
			pw.Close()
		}()
		return io.Reader(pr), nil
	case "streambuf":
		return io.Reader(bytes.NewReader([]byte(ev.Data))), nil
	}
	return a, nil
}

func main() {
	api := "http://" + os.Getenv("AWS_LAMBDA_RUNTIME_API") + "/2018-06-01/runtime/"
	switch os.Getenv("FN_MODE") {
	case "initerror":
		req, _ := http.NewRequest("POST", api+"init/error", strings.NewReader(`{"errorType":"Runtime.TestInitError","errorMessage":"cannot start"}`))
		req.Header.Set("Lambda-Runtime-Function-Error-Type", "Runtime.TestInitError")
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		time.Sleep(5 * time.Second)
		os.Exit(1)
	case "initexit":
		fmt.Println("giving up during init")
		os.Exit(3)
	case "slowinit":
		time.Sleep(10 * time.Second)
	case "gate":
		// Init lasts until the file FN_GATE names in the code exists.
		gate := filepath.Join(os.Getenv("LAMBDA_TASK_ROOT"), os.Getenv("FN_GATE"))
		for {
			if _, err := os.Stat(gate); err == nil {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
	case "probeapi":
		probe := func(method, path string) {
			req, _ := http.NewRequest(method, api+path, strings.NewReader("{}"))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				fmt.Println("probe", method, path, "error", err)
				return
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			fmt.Println("probe", method, path, resp.StatusCode, string(body))
		}
		probe("POST", "invocation/nope/response")
		probe("POST", "invocation/nope/error")
		probe("GET", "invocation/nope/bogus")
		probe("GET", "nothing/here")
		probe("POST", "invocation/next")
	}
	lambda.Start(handle)
}
