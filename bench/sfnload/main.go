// Command sfnload measures state transitions per second of a chain of Pass states, the first
// figure of Step Functions' issue, side by side:
//
//   - kiri: StartSyncExecution of an Express state machine of -states Pass states on a running
//     Kiri (-endpoint), one execution after another, through aws-sdk-go-v2;
//   - asl: the same chain in internal/asl's in-memory driver, in this process (the interpreter
//     alone, no API, no codec);
//   - peer: the same chain in aws-local-stepfunctions (npm), in its own node process.
//
// Each round runs every side once, in an order that rotates per round; a side's figure in a
// round is the median over -runs executions of states/duration, and the run ends with each
// side's median over the rounds and the ratio of Kiri's to the peer's:
//
//	go run ./bench/sfnload -endpoint http://127.0.0.1:4566 -states 1000 -runs 20 -rounds 5 -peer ~/sfnpeer
//
// The peer is found through -peer, a directory where it was installed:
//
//	mkdir ~/sfnpeer && cd ~/sfnpeer && npm install aws-local-stepfunctions
//
// Without -peer, or when node or the package is missing there, the peer is skipped.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/kiri-run/kiri/bench/internal/workload"
	"github.com/kiri-run/kiri/internal/asl"
)

func main() {
	endpoint := flag.String("endpoint", "http://127.0.0.1:4566", "Kiri's endpoint; empty skips the kiri side")
	states := flag.Int("states", 1000, "Pass states in the chain")
	runs := flag.Int("runs", 20, "executions per side and round")
	rounds := flag.Int("rounds", 5, "rounds")
	peer := flag.String("peer", "", "directory where aws-local-stepfunctions is installed (npm install aws-local-stepfunctions); empty skips the peer")
	cpuProfile := flag.String("aslprofile", "", "write a CPU profile of the asl side to this file")
	flag.Parse()
	if err := run(context.Background(), *endpoint, *states, *runs, *rounds, *peer, *cpuProfile); err != nil {
		fmt.Fprintln(os.Stderr, "sfnload:", err)
		os.Exit(1)
	}
}

// side is one way of running the chain: it returns the median transitions/s over runs.
type side struct {
	name string
	run  func(ctx context.Context) (float64, error)
}

func run(ctx context.Context, endpoint string, n, runs, rounds int, peer, profile string) error {
	def := passChain(n)
	var sides []side
	if endpoint != "" {
		k, err := kiriSide(ctx, endpoint, def, n, runs)
		if err != nil {
			return err
		}
		sides = append(sides, k)
	}
	a, err := aslSide(def, n, runs, profile)
	if err != nil {
		return err
	}
	sides = append(sides, a)
	if p, err := peerSide(peer, n, runs); err != nil {
		fmt.Fprintln(os.Stderr, "sfnload: skipping the peer:", err)
	} else {
		sides = append(sides, p)
	}
	figures := map[string][]float64{}
	for r := 0; r < rounds; r++ {
		for i := range sides {
			s := sides[(i+r)%len(sides)]
			v, err := s.run(ctx)
			if err != nil {
				return fmt.Errorf("%s: %w", s.name, err)
			}
			figures[s.name] = append(figures[s.name], v)
		}
	}
	fmt.Printf("chain of %d Pass states, %d executions per side and round, %d rounds (median transitions/s)\n", n, runs, rounds)
	for _, s := range sides {
		fmt.Printf("%-6s %10s   rounds %s\n", s.name, workload.Rate(workload.Median(figures[s.name])), rates(figures[s.name]))
	}
	if k, p := figures["kiri"], figures["peer"]; len(k) > 0 && len(p) > 0 {
		fmt.Printf("kiri/peer %.2f\n", workload.Median(k)/workload.Median(p))
	}
	if a, p := figures["asl"], figures["peer"]; len(p) > 0 {
		fmt.Printf("asl/peer  %.2f\n", workload.Median(a)/workload.Median(p))
	}
	return nil
}

func rates(vs []float64) string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = workload.Rate(v)
	}
	return strings.Join(out, " ")
}

// passChain is a definition of n Pass states, each going to the next.
func passChain(n int) string {
	states := make(map[string]any, n)
	for i := range n {
		st := map[string]any{"Type": "Pass"}
		if i < n-1 {
			st["Next"] = "P" + strconv.Itoa(i+1)
		} else {
			st["End"] = true
		}
		states["P"+strconv.Itoa(i)] = st
	}
	b, _ := json.Marshal(map[string]any{"StartAt": "P0", "States": states})
	return string(b)
}

const chainInput = `{"x":1,"payload":"abc"}`

// kiriSide creates an Express machine of the chain on Kiri and runs it with StartSyncExecution.
func kiriSide(ctx context.Context, endpoint, def string, n, runs int) (side, error) {
	c := sfn.New(sfn.Options{Region: "us-east-1", BaseEndpoint: &endpoint,
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
		APIOptions:  []func(*middleware.Stack) error{noHostPrefix}})
	name := fmt.Sprintf("passchain-%d-%d", n, time.Now().UnixNano())
	m, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: &name, Definition: &def, Type: sfntypes.StateMachineTypeExpress,
		RoleArn: aws.String("arn:aws:iam::000000000000:role/sfnload")})
	if err != nil {
		return side{}, fmt.Errorf("create the chain on %s: %w", endpoint, err)
	}
	return side{name: "kiri", run: func(ctx context.Context) (float64, error) {
		return medianRate(n, runs, func() error {
			out, err := c.StartSyncExecution(ctx, &sfn.StartSyncExecutionInput{StateMachineArn: m.StateMachineArn, Input: aws.String(chainInput)})
			if err == nil && out.Status != sfntypes.SyncExecutionStatusSucceeded {
				err = fmt.Errorf("execution %s: %s %s", out.Status, aws.ToString(out.Error), aws.ToString(out.Cause))
			}
			return err
		})
	}}, nil
}

// noHostPrefix turns off StartSyncExecution's "sync-" host prefix, which a loopback endpoint
// cannot resolve.
func noHostPrefix(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("NoHostPrefix",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			return next.HandleInitialize(smithyhttp.DisableEndpointHostPrefix(ctx, true), in)
		}), middleware.Before)
}

// aslSide runs the chain in internal/asl's in-memory driver.
func aslSide(def string, n, runs int, profile string) (side, error) {
	m, err := asl.Parse([]byte(def))
	if err != nil {
		return side{}, err
	}
	d := &asl.Memory{}
	ctx := asl.Context{ExecutionArn: "arn:aws:states:us-east-1:000000000000:execution:passchain:x", ExecutionName: "x",
		StateMachineArn: "arn:aws:states:us-east-1:000000000000:stateMachine:passchain", StateMachineName: "passchain", StartTime: time.Now()}
	once := func(c context.Context) error {
		r, err := m.Start([]byte(chainInput), ctx)
		if err != nil {
			return err
		}
		if _, err := d.Run(c, m, r); err != nil {
			return err
		}
		if r.Phase != asl.StatusSucceeded {
			return fmt.Errorf("execution %s", r.Phase)
		}
		return nil
	}
	if profile != "" {
		f, err := os.Create(profile)
		if err != nil {
			return side{}, err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return side{}, err
		}
		for range 20 * runs {
			if err := once(context.Background()); err != nil {
				return side{}, err
			}
		}
		pprof.StopCPUProfile()
		f.Close()
	}
	return side{name: "asl", run: func(c context.Context) (float64, error) {
		return medianRate(n, runs, func() error { return once(c) })
	}}, nil
}

// medianRate runs one execution runs times and is the median of n/duration.
func medianRate(n, runs int, one func() error) (float64, error) {
	vs := make([]float64, 0, runs)
	for range runs {
		t := time.Now()
		if err := one(); err != nil {
			return 0, err
		}
		vs = append(vs, float64(n)/time.Since(t).Seconds())
	}
	return workload.Median(vs), nil
}

// peerScript runs the chain in aws-local-stepfunctions as passchain.mjs does; it prints the
// median transitions/s.
const peerScript = `
import { StateMachine } from 'aws-local-stepfunctions';
const [n, runs] = process.argv.slice(-2).map(Number);
const States = {};
for (let i = 0; i < n; i++) States['P' + i] = i < n - 1 ? { Type: 'Pass', Next: 'P' + (i + 1) } : { Type: 'Pass', End: true };
const sm = new StateMachine({ StartAt: 'P0', States });
const rates = [];
for (let r = 0; r < runs; r++) {
  const t0 = process.hrtime.bigint();
  await sm.run({ x: 1, payload: 'abc' }).result;
  rates.push(n / (Number(process.hrtime.bigint() - t0) / 1e9));
}
rates.sort((a, b) => a - b);
console.log(rates.length % 2 ? rates[rates.length >> 1] : (rates[rates.length / 2 - 1] + rates[rates.length / 2]) / 2);
`

// peerSide runs the chain in aws-local-stepfunctions installed in dir, a fresh node process
// per round (its start-up is not timed).
func peerSide(dir string, n, runs int) (side, error) {
	if dir == "" {
		return side{}, errors.New("no -peer directory given")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		return side{}, err
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "aws-local-stepfunctions")); err != nil {
		return side{}, fmt.Errorf("aws-local-stepfunctions is not installed in %s (npm install aws-local-stepfunctions): %w", dir, err)
	}
	return side{name: "peer", run: func(ctx context.Context) (float64, error) {
		cmd := exec.CommandContext(ctx, node, "--input-type=module", "-e", peerScript, strconv.Itoa(n), strconv.Itoa(runs))
		cmd.Dir, cmd.Stderr = dir, os.Stderr
		out, err := cmd.Output()
		if err != nil {
			return 0, err
		}
		return strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
	}}, nil
}
