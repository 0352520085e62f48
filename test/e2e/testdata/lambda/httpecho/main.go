// Command httpecho is a test function behind API Gateway: it answers 201 with the event it was
// given as the body, and misbehaves when the request path says so (fail, sleep, raw, malformed).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(ctx context.Context, ev json.RawMessage) (any, error) {
		var probe struct {
			RawPath string `json:"rawPath"`
			Path    string `json:"path"`
		}
		json.Unmarshal(ev, &probe)
		path := probe.RawPath + probe.Path
		switch {
		case strings.Contains(path, "fail"):
			return nil, errors.New("asked to fail")
		case strings.Contains(path, "sleep"):
			time.Sleep(3 * time.Second)
		case strings.Contains(path, "raw"):
			return map[string]string{"hello": "world"}, nil
		case strings.Contains(path, "malformed"):
			return "not a response", nil
		}
		return map[string]any{
			"statusCode": 201,
			"headers":    map[string]string{"Content-Type": "application/json", "X-Kind": "echo"},
			"cookies":    []string{"a=1"},
			"body":       string(ev),
		}, nil
	})
}
