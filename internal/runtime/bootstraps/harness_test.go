package bootstraps

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// waitLimit bounds every wait in these tests; a healthy exchange takes milliseconds.
const waitLimit = 10 * time.Second

// invocation is one event the fake Runtime API hands out on /next.
type invocation struct {
	ID            string
	Event         string
	Deadline      time.Time
	ARN           string
	TraceID       string
	ClientContext string
	Identity      string
}

// chunk is one read of a posted body, with the time it arrived.
type chunk struct {
	data []byte
	at   time.Time
}

// posted is one POST a bootstrap made: an invocation response or error, or an init error.
type posted struct {
	Kind    string // "response", "error" or "init"
	ID      string
	Header  http.Header
	Trailer http.Header
	Body    []byte
	Chunks  []chunk
}

// fakeAPI is a Lambda Runtime API on loopback that tests drive through channels.
type fakeAPI struct {
	srv   *httptest.Server
	next  chan invocation
	posts chan posted
}

func newFakeAPI(t *testing.T) *fakeAPI {
	t.Helper()
	api := &fakeAPI{next: make(chan invocation), posts: make(chan posted, 16)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", api.serveNext)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/{kind}", func(w http.ResponseWriter, r *http.Request) {
		api.record(w, r, r.PathValue("kind"), r.PathValue("id"))
	})
	mux.HandleFunc("POST /2018-06-01/runtime/init/error", func(w http.ResponseWriter, r *http.Request) {
		api.record(w, r, "init", "")
	})
	api.srv = httptest.NewServer(mux)
	t.Cleanup(api.srv.Close)
	return api
}

func (api *fakeAPI) addr() string { return strings.TrimPrefix(api.srv.URL, "http://") }

func (api *fakeAPI) serveNext(w http.ResponseWriter, r *http.Request) {
	var inv invocation
	select {
	case inv = <-api.next:
	case <-r.Context().Done():
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Lambda-Runtime-Aws-Request-Id", inv.ID)
	h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(inv.Deadline.UnixMilli(), 10))
	h.Set("Lambda-Runtime-Invoked-Function-Arn", inv.ARN)
	if inv.TraceID != "" {
		h.Set("Lambda-Runtime-Trace-Id", inv.TraceID)
	}
	if inv.ClientContext != "" {
		h.Set("Lambda-Runtime-Client-Context", inv.ClientContext)
	}
	if inv.Identity != "" {
		h.Set("Lambda-Runtime-Cognito-Identity", inv.Identity)
	}
	io.WriteString(w, inv.Event)
}

func (api *fakeAPI) record(w http.ResponseWriter, r *http.Request, kind, id string) {
	p := posted{Kind: kind, ID: id, Header: r.Header.Clone()}
	buf := make([]byte, 64<<10)
	for {
		n, err := r.Body.Read(buf)
		if n > 0 {
			p.Chunks = append(p.Chunks, chunk{data: bytes.Clone(buf[:n]), at: time.Now()})
			p.Body = append(p.Body, buf[:n]...)
		}
		if err != nil {
			break
		}
	}
	p.Trailer = r.Trailer.Clone()
	w.WriteHeader(http.StatusAccepted)
	io.WriteString(w, `{"status":"OK"}`)
	api.posts <- p
}

// syncBuffer collects a process's output for concurrent reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// instance is one bootstrap process attached to its own fake Runtime API.
type instance struct {
	api     *fakeAPI
	out     *syncBuffer
	pid     int
	exited  chan struct{}
	waitErr error
}

var interpreters sync.Map // runtime -> string ("" when missing)

// interpreterFor resolves a runtime's interpreter once per test binary, skipping when absent.
func interpreterFor(t *testing.T, runtime string) (Script, string) {
	t.Helper()
	s, ok := For(runtime)
	if !ok {
		t.Fatalf("For(%q) = false", runtime)
	}
	v, ok := interpreters.Load(runtime)
	if !ok {
		path, err := s.Interpreter(context.Background())
		if err != nil {
			path = ""
		}
		v, _ = interpreters.LoadOrStore(runtime, path)
	}
	if v.(string) == "" {
		t.Skipf("no interpreter for %s", runtime)
	}
	return s, v.(string)
}

// writeCode writes the function's files into a fresh task root.
func writeCode(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// start runs runtime's bootstrap for handler with cwd = LAMBDA_TASK_ROOT = code, as Kiri's
// process runtime does. The process is killed when the test ends.
func start(t *testing.T, runtime, code, handler string, env ...string) *instance {
	t.Helper()
	script, interp := interpreterFor(t, runtime)
	scriptDir := t.TempDir()
	scriptPath := filepath.Join(scriptDir, script.Name)
	if err := os.WriteFile(scriptPath, script.Source, 0o644); err != nil {
		t.Fatal(err)
	}
	api := newFakeAPI(t)
	in := &instance{api: api, out: &syncBuffer{}, exited: make(chan struct{})}
	cmd := exec.Command(interp, scriptPath)
	cmd.Dir = code
	cmd.Stdout = in.out
	cmd.Stderr = in.out
	cmd.Env = append(os.Environ(),
		"AWS_LAMBDA_RUNTIME_API="+api.addr(),
		"_HANDLER="+handler,
		"LAMBDA_TASK_ROOT="+code,
		"AWS_LAMBDA_FUNCTION_NAME=fn",
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256",
		"AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/fn",
		"AWS_LAMBDA_LOG_STREAM_NAME=2025/01/01/[$LATEST]abc",
		"AWS_REGION=us-east-1",
		"TZ=UTC",
	)
	cmd.Env = append(cmd.Env, env...)
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", interp, err)
	}
	in.pid = cmd.Process.Pid
	go func() {
		in.waitErr = cmd.Wait()
		close(in.exited)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-in.exited
		if t.Failed() {
			t.Logf("bootstrap output:\n%s", in.out.String())
		}
	})
	return in
}

// invocationSeq numbers the request ids invoke makes up.
var invocationSeq atomic.Int64

// invoke hands inv to the bootstrap and returns what it posts back.
func (in *instance) invoke(t *testing.T, inv invocation) posted {
	t.Helper()
	if inv.ID == "" {
		inv.ID = fmt.Sprintf("req-%d", invocationSeq.Add(1))
	}
	if inv.Deadline.IsZero() {
		inv.Deadline = time.Now().Add(time.Minute)
	}
	if inv.ARN == "" {
		inv.ARN = "arn:aws:lambda:us-east-1:000000000000:function:fn"
	}
	if inv.Event == "" {
		inv.Event = "{}"
	}
	select {
	case in.api.next <- inv:
	case <-in.exited:
		t.Fatalf("bootstrap exited before taking %s: %v", inv.ID, in.waitErr)
	case <-time.After(waitLimit):
		t.Fatalf("bootstrap never polled for %s", inv.ID)
	}
	p := in.post(t)
	if p.ID != inv.ID {
		t.Fatalf("posted %s for request %q, want %q", p.Kind, p.ID, inv.ID)
	}
	return p
}

// post waits for the bootstrap's next POST.
func (in *instance) post(t *testing.T) posted {
	t.Helper()
	select {
	case p := <-in.api.posts:
		return p
	case <-in.exited:
		select {
		case p := <-in.api.posts:
			return p
		default:
		}
		t.Fatalf("bootstrap exited without posting: %v", in.waitErr)
	case <-time.After(waitLimit):
		t.Fatal("bootstrap posted nothing")
	}
	return posted{}
}

// exitCode waits for the process to end and returns its exit status.
func (in *instance) exitCode(t *testing.T) int {
	t.Helper()
	select {
	case <-in.exited:
	case <-time.After(waitLimit):
		t.Fatal("bootstrap did not exit")
	}
	var ee *exec.ExitError
	if errors.As(in.waitErr, &ee) {
		return ee.ExitCode()
	}
	if in.waitErr != nil {
		t.Fatalf("wait: %v", in.waitErr)
	}
	return 0
}

// waitOutput waits until the process has written want and returns all its output.
func (in *instance) waitOutput(t *testing.T, want string) string {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for {
		out := in.out.String()
		if strings.Contains(out, want) {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("output never contained %q; got:\n%s", want, out)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// initError waits for the init error a bootstrap posts before exiting non-zero.
func (in *instance) initError(t *testing.T) posted {
	t.Helper()
	p := in.post(t)
	if p.Kind != "init" {
		t.Fatalf("posted %s, want init error", p.Kind)
	}
	if code := in.exitCode(t); code == 0 {
		t.Errorf("exit code 0 after init error, want non-zero")
	}
	return p
}
