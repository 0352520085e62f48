// Command sqsload measures SQS endpoints side by side with concurrent aws-sdk-go-v2 clients:
//
//   - send: msg/s of SendMessageBatch calls (batches of 10 small bodies) from 16 clients;
//   - receive+delete: msg/s of ReceiveMessage (MaxNumberOfMessages 10) each followed by a
//     DeleteMessageBatch of what it returned, from 16 clients, over the send phase's backlog;
//   - wake-up: a receiver blocks in ReceiveMessage with WaitTimeSeconds 20 on an empty queue,
//     another client sends one message, and the time from SendMessage's response to
//     ReceiveMessage's is taken, 200 times (p50, p90, p99).
//
// Each round runs every endpoint once, in an order that rotates per round, and the run ends
// with each endpoint's medians, so that one run on a shared machine compares like with like:
//
//	go run ./bench/sqsload -rounds 4 -duration 4s \
//	  -endpoints kiri=http://127.0.0.1:4566,kiri-query=query:http://127.0.0.1:4566,goaws=query:http://127.0.0.1:4100,moto=http://127.0.0.1:5000 \
//	  -pid kiri=1234,kiri-query=1234,goaws=2345,moto=3456
//
// With -pid it also reports each server's CPU time per message and its peak VmRSS.
//
// An endpoint is spoken to in JSON 1.0, as current SDKs do, or, after "query:", in the query
// protocol, as AWS CLI 2.9 and boto3 1.26 do. The last SDK release whose SQS client
// spoke query is pinned in its own module under ./query, built on demand (-query-driver), and
// every round runs in a fresh process of the build for its protocol. That build also runs on
// its own: cd bench/sqsload/query && go run . -endpoints goaws=query:http://127.0.0.1:4100
//
// Peers to compare with:
//
//	go install github.com/Admiral-Piett/goaws/app/cmd@v0.4.5   # goaws, query only; the binary is named cmd
//	printf 'Local:\n  Host: 127.0.0.1\n  Port: 4100\n  Region: us-east-1\n' > goaws.yaml
//	~/go/bin/cmd -config goaws.yaml Local
//	python3 -m moto.server -p 5000                              # moto (pip install 'moto[server]')
//
// goaws answers a long poll by looking at the queue every 100 ms, so its wake-ups take 0 to
// 100 ms; its receive, like moto's receive and delete, walks the whole queue, so their
// receive+delete rates fall as the backlog the send phase left grows.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/kiri-run/kiri/bench/sqsload/load"
)

func main() {
	queryDriver := flag.String("query-driver", "bench/sqsload/query", "the query-protocol build: a binary, or its module directory to build")
	load.Tool{Protocol: "json", Dial: dial, Driver: func(protocol string) (string, error) {
		if protocol != "query" {
			return "", fmt.Errorf("no build speaks %s", protocol)
		}
		return buildQueryDriver(*queryDriver)
	}}.Main()
}

// buildQueryDriver returns the query build at path, building it first if path is its module
// directory.
func buildQueryDriver(path string) (string, error) {
	if fi, err := os.Stat(path); err != nil || !fi.IsDir() {
		return path, err
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(cache, "kiri-sqsload", "sqsload-query")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir, cmd.Stdout, cmd.Stderr = path, os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build the query driver in %s: %w", path, err)
	}
	return bin, nil
}
