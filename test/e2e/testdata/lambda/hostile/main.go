// Command hostile is a test function that tries to reach what a sandbox must keep from it: it
// answers, for each attempt, "ok" or the error it met.
package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
)

type event struct {
	Connect []string `json:"connect"`
	Read    []string `json:"read"`
	Write   []string `json:"write"`
	Get     []string `json:"get"`
}

func handle(ctx context.Context, ev event) (map[string]string, error) {
	out := map[string]string{}
	result := func(key string, err error) {
		if err != nil {
			out[key] = "error: " + err.Error()
		} else {
			out[key] = "ok"
		}
	}
	for _, addr := range ev.Connect {
		c, err := net.DialTimeout("tcp", addr, 2*time.Second)
		if err == nil {
			c.Close()
		}
		result("connect "+addr, err)
	}
	for _, p := range ev.Read {
		_, err := os.ReadDir(p)
		if err != nil && strings.Contains(err.Error(), "not a directory") {
			_, err = os.ReadFile(p)
		}
		result("read "+p, err)
	}
	for _, p := range ev.Write {
		result("write "+p, os.WriteFile(p, []byte("x"), 0o644))
	}
	for _, u := range ev.Get {
		resp, err := (&http.Client{Timeout: 5 * time.Second}).Get(u)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				err = &statusError{resp.Status + ": " + string(body)}
			}
		}
		result("get "+u, err)
	}
	ifs, err := net.Interfaces()
	var names []string
	for _, i := range ifs {
		names = append(names, i.Name)
	}
	if err != nil {
		out["interfaces"] = "error: " + err.Error()
	} else {
		out["interfaces"] = strings.Join(names, ",")
	}
	return out, nil
}

type statusError struct{ s string }

func (e *statusError) Error() string { return e.s }

func main() { lambda.Start(handle) }
