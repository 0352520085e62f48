// Command echo is a test function: it answers with what it was given and what its context
// says, and misbehaves on request (fail, sleep, alloc, stream).
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

type event struct {
	Say     string `json:"say"`
	Fail    string `json:"fail"`
	SleepMS int    `json:"sleepMs"`
	AllocMB int    `json:"allocMb"`
	Read    string `json:"read"`
	Write   string `json:"write"`
}

type answer struct {
	Said          string `json:"said"`
	RequestID     string `json:"requestId"`
	FunctionName  string `json:"functionName"`
	Version       string `json:"version"`
	InvokedARN    string `json:"invokedArn"`
	MemoryMB      int    `json:"memoryMb"`
	RemainingMS   int64  `json:"remainingMs"`
	Region        string `json:"region"`
	Endpoint      string `json:"endpoint"`
	TaskRoot      string `json:"taskRoot"`
	Env           string `json:"env"`
	ReadError     string `json:"readError,omitempty"`
	ReadContent   string `json:"readContent,omitempty"`
	WriteError    string `json:"writeError,omitempty"`
	ClientContext string `json:"clientContext,omitempty"`
}

func handle(ctx context.Context, ev event) (answer, error) {
	lc, _ := lambdacontext.FromContext(ctx)
	fmt.Printf("handling %q\n", ev.Say)
	if ev.Fail != "" {
		return answer{}, errors.New(ev.Fail)
	}
	if ev.SleepMS > 0 {
		time.Sleep(time.Duration(ev.SleepMS) * time.Millisecond)
	}
	var hold [][]byte
	for i := 0; i < ev.AllocMB; i++ {
		b := make([]byte, 1<<20)
		for j := range b {
			b[j] = byte(j)
		}
		hold = append(hold, b)
	}
	deadline, _ := ctx.Deadline()
	a := answer{
		Said: ev.Say, RequestID: lc.AwsRequestID, FunctionName: lambdacontext.FunctionName,
		Version: lambdacontext.FunctionVersion, InvokedARN: lc.InvokedFunctionArn,
		MemoryMB: lambdacontext.MemoryLimitInMB, RemainingMS: time.Until(deadline).Milliseconds(),
		Region: os.Getenv("AWS_REGION"), Endpoint: os.Getenv("AWS_ENDPOINT_URL"),
		TaskRoot: os.Getenv("LAMBDA_TASK_ROOT"), Env: os.Getenv("GREETING"),
	}
	if lc.ClientContext.Custom != nil {
		a.ClientContext = lc.ClientContext.Custom["k"]
	}
	if ev.Read != "" {
		b, err := os.ReadFile(ev.Read)
		if err != nil {
			a.ReadError = err.Error()
		} else {
			a.ReadContent = strings.TrimSpace(string(b))
		}
	}
	if ev.Write != "" {
		if err := os.WriteFile(ev.Write, []byte("written by "+lambdacontext.FunctionName), 0o644); err != nil {
			a.WriteError = err.Error()
		}
	}
	_ = hold
	return a, nil
}

func main() { lambda.Start(handle) }
