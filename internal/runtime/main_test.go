package runtime

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// fnBinary is the test function (testdata/fn), built once by TestMain.
var fnBinary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "kiri-runtime-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fnBinary = filepath.Join(dir, "fn")
	build := exec.Command("go", "build", "-o", fnBinary, "./testdata/fn")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build test function:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// memSink is a LogSink that keeps events in memory.
type memSink struct {
	mu      sync.Mutex
	streams map[string][]LogEvent // group + " " + stream
	calls   int
}

func (s *memSink) AppendLogs(_ context.Context, account, region, group, stream string, events []LogEvent) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.streams == nil {
		s.streams = map[string][]LogEvent{}
	}
	k := group + " " + stream
	s.streams[k] = append(s.streams[k], events...)
	s.calls++
	return nil
}

// messages returns every message logged to group, in order per stream.
func (s *memSink) messages(group string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for k, evs := range s.streams {
		if strings.HasPrefix(k, group+" ") {
			for _, e := range evs {
				out = append(out, e.Message)
			}
		}
	}
	return out
}

func (s *memSink) streamNames(group string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for k := range s.streams {
		if g, st, _ := strings.Cut(k, " "); g == group {
			out = append(out, st)
		}
	}
	return out
}

// varTmpDir is a per-test directory outside /tmp, so sandbox tests see hiding at work rather
// than the private /tmp covering everything.
func varTmpDir(t testing.TB) string {
	t.Helper()
	d, err := os.MkdirTemp("/var/tmp", "kiri-runtime-test-")
	if err != nil {
		t.Skipf("no /var/tmp: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// testPool creates a pool whose scratch dir is under the test's temp dir.
func testPool(t testing.TB, mutate ...func(*Config)) *Pool {
	t.Helper()
	cfg := Config{
		Dir:              filepath.Join(t.TempDir(), "instances"),
		Endpoint:         "http://127.0.0.1:4566",
		Logger:           slog.New(slog.NewTextHandler(io.Discard, nil)),
		LogFlushInterval: 20 * time.Millisecond,
	}
	for _, f := range mutate {
		f(&cfg)
	}
	p, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// goFunction returns a provided.al2023 function whose bootstrap is the test function, in its
// own code directory.
func goFunction(t testing.TB, name string) *Function {
	t.Helper()
	return goFunctionIn(t, t.TempDir(), name)
}

// goFunctionIn is goFunction with the code directory under base.
func goFunctionIn(t testing.TB, base, name string) *Function {
	t.Helper()
	code := filepath.Join(base, "code-"+name)
	if err := os.MkdirAll(code, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(fnBinary, filepath.Join(code, "bootstrap")); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(code, "secret.txt"), []byte("code of "+name), 0o644)
	return &Function{
		Key: name + "#1", Account: "000000000000", Region: "us-east-1",
		Name: name, Version: "$LATEST", ARN: "arn:aws:lambda:us-east-1:000000000000:function:" + name,
		Runtime: "provided.al2023", Handler: "bootstrap", CodeDir: code,
		MemoryMB: 128, Timeout: 5 * time.Second, LogGroup: "/aws/lambda/" + name,
	}
}

// taskRootOf is where fn's instances see their code: /var/task in a sandbox with a root of its
// own, the code directory otherwise.
func taskRootOf(p *Pool, fn *Function) string {
	if p.Features().Root {
		return taskRoot
	}
	return fn.CodeDir
}

var reqSeq struct {
	sync.Mutex
	n int
}

func newRequest(payload any) *Request {
	reqSeq.Lock()
	reqSeq.n++
	n := reqSeq.n
	reqSeq.Unlock()
	b, _ := json.Marshal(payload)
	return &Request{RequestID: fmt.Sprintf("00000000-0000-4000-8000-%012d", n), Payload: b}
}

// answer mirrors testdata/fn's answer.
type answer struct {
	OK        bool              `json:"ok"`
	Err       string            `json:"err"`
	Data      string            `json:"data"`
	Env       map[string]string `json:"env"`
	RequestID string            `json:"requestId"`
	ARN       string            `json:"arn"`
	Deadline  int64             `json:"deadlineMs"`
	UID       int               `json:"uid"`
	PID       int               `json:"pid"`
}

// invoke runs one invocation and decodes a successful answer.
func invoke(t testing.TB, p *Pool, fn *Function, payload any) (*Result, answer) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := p.Invoke(ctx, fn, newRequest(payload))
	if err != nil {
		t.Fatalf("Invoke %v: %v", payload, err)
	}
	var a answer
	if res.FunctionError == "" && len(res.Payload) > 0 && res.Payload[0] == '{' {
		if err := json.Unmarshal(res.Payload, &a); err != nil {
			t.Fatalf("decode %s: %v", res.Payload, err)
		}
	}
	return res, a
}

type ev map[string]any
