// Package kiritest starts real Kiri servers for black-box tests, in process or as a
// subprocess, on a random loopback port, and hands out aws-sdk-go-v2 clients configured for
// them.
package kiritest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kiri-run/kiri/internal/app"
	"github.com/kiri-run/kiri/internal/auth"
	"github.com/kiri-run/kiri/internal/iam/authz"
	"github.com/kiri-run/kiri/internal/store"
)

// Options configures a test server. The zero value is an ephemeral dev-mode server.
type Options struct {
	// DataDir, when set, keeps data there (not ephemeral), so a later server can reopen it.
	DataDir string
	// Strict turns on --auth=strict with Keys written to a keys file.
	Strict bool
	// Keys are the strict-mode credentials; default one key, TestKey, in account TestAccount.
	Keys []auth.Key
	// Sync is the --sync mode; default normal.
	Sync store.SyncMode
	// DB is the --db URL; default SQLite in the data dir.
	DB string
	// FunctionIdleTimeout reaps idle function instances; default Kiri's (10m).
	FunctionIdleTimeout time.Duration
	// AsyncRetryDelay is the wait before the first retry of a failed Event invocation; default
	// 200ms, so tests see retries quickly.
	AsyncRetryDelay time.Duration
	// AllowedHosts are further host names dev mode serves (--allowed-hosts).
	AllowedHosts []string
	// BodyIdleTimeout fails requests whose body stalls this long; default Kiri's (20s).
	BodyIdleTimeout time.Duration
	// FunctionNetworkAllow is the --function-network-allow list: what functions may reach
	// besides Kiri and the public network.
	FunctionNetworkAllow string
	// LogFormat is the --log-format; default json.
	LogFormat string
	// IAM is the --iam mode; default Kiri's (off in dev mode, enforce in strict), or the
	// KIRI_E2E_IAM environment variable when set, which runs the suite's strict-mode tests
	// under either mode (KIRI_E2E_IAM=off go test ./test/e2e).
	IAM authz.Mode
}

// iam is the --iam mode of a server with o: o.IAM, else $KIRI_E2E_IAM ("" for Kiri's default).
func (o *Options) iam() authz.Mode {
	if o.IAM != "" {
		return o.IAM
	}
	return authz.Mode(os.Getenv("KIRI_E2E_IAM"))
}

// The default strict-mode identity.
const (
	TestAccessKey = "AKIAKIRITEST00000001"
	TestSecretKey = "kiri-test-secret-key-0000000000000000001"
	TestAccount   = "111122223333"
)

func (o *Options) keys() []auth.Key {
	if len(o.Keys) == 0 {
		return []auth.Key{{AccessKeyID: TestAccessKey, SecretAccessKey: TestSecretKey, AccountID: TestAccount}}
	}
	return o.Keys
}

// Server is a running Kiri under test.
type Server struct {
	// URL is the endpoint to point clients at, e.g. http://127.0.0.1:40123.
	URL  string
	opts Options
	logs *lockedBuffer
}

// DataDir is the server's data directory ("" when ephemeral).
func (s *Server) DataDir() string { return s.opts.DataDir }

// Logs returns everything the server has logged so far.
func (s *Server) Logs() string { return s.logs.String() }

// Start runs Kiri in this process and stops it when the test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	logs := &lockedBuffer{}
	cfg := app.Config{
		Addr:      "127.0.0.1:0",
		DataDir:   opts.DataDir,
		Ephemeral: opts.DataDir == "",
		Sync:      opts.Sync,
		DB:        opts.DB,
		LogLevel:  "debug",
		LogFormat: opts.LogFormat,
		LogOutput: logs,
		Version:   "test",

		FunctionIdleTimeout: opts.FunctionIdleTimeout,
		AsyncRetryDelay:     opts.AsyncRetryDelay,
		AllowedHosts:        opts.AllowedHosts,
		BodyIdleTimeout:     opts.BodyIdleTimeout,
		IAM:                 opts.iam(),

		FunctionNetworkAllow: opts.FunctionNetworkAllow,
	}
	if cfg.AsyncRetryDelay == 0 {
		cfg.AsyncRetryDelay = 200 * time.Millisecond
	}
	if opts.Strict {
		cfg.Auth = auth.Strict
		cfg.KeysFile = writeKeysFile(t, opts.keys())
	}
	a, err := app.Start(context.Background(), cfg)
	if err != nil {
		t.Fatalf("start kiri: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := a.Close(ctx); err != nil {
			t.Errorf("stop kiri: %v", err)
		}
		if t.Failed() {
			t.Logf("kiri logs:\n%s", logs.String())
		}
	})
	return &Server{URL: "http://" + a.Addr(), opts: opts, logs: logs}
}

// Process is Kiri running as a child process.
type Process struct {
	Server
	cmd    *exec.Cmd
	exited chan struct{}
}

// StartProcess builds the kiri binary (once per test binary) and runs it as a subprocess with
// the given options; extra are further command-line flags. It returns when the server is ready.
func StartProcess(t testing.TB, opts Options, extra ...string) *Process {
	t.Helper()
	args := []string{"serve", "--addr", "127.0.0.1:0", "--log-level", "info"}
	if opts.DataDir != "" {
		args = append(args, "--data-dir", opts.DataDir)
	} else {
		args = append(args, "--ephemeral")
	}
	if opts.Sync != "" {
		args = append(args, "--sync", string(opts.Sync))
	}
	if opts.DB != "" {
		args = append(args, "--db", opts.DB)
	}
	if opts.Strict {
		args = append(args, "--auth", "strict", "--keys-file", writeKeysFile(t, opts.keys()))
	}
	if m := opts.iam(); m != "" {
		args = append(args, "--iam", string(m))
	}
	args = append(args, extra...)
	cmd := exec.Command(Binary(t), args...)
	cmd.Env = withoutKiriEnv(os.Environ())
	stderr := &lockedBuffer{}
	pr, pw := io.Pipe()
	cmd.Stderr = io.MultiWriter(stderr, pw)
	if err := cmd.Start(); err != nil {
		t.Fatalf("start kiri process: %v", err)
	}
	p := &Process{cmd: cmd, exited: make(chan struct{}), Server: Server{opts: opts, logs: stderr}}
	go func() { cmd.Wait(); pw.Close(); close(p.exited) }()
	addr, err := readReadyAddr(pr, 30*time.Second)
	go io.Copy(io.Discard, pr)
	if err != nil {
		p.Kill()
		t.Fatalf("kiri process did not become ready: %v\n%s", err, stderr.String())
	}
	p.URL = "http://" + addr
	t.Cleanup(func() {
		if p.Running() {
			p.Kill()
		}
	})
	return p
}

// readReadyAddr scans Kiri's JSON log for the "kiri ready" line and returns its address.
func readReadyAddr(r io.Reader, timeout time.Duration) (string, error) {
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			var line struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "kiri ready" {
				found <- line.Addr
				return
			}
		}
		close(found)
	}()
	select {
	case addr, ok := <-found:
		if !ok {
			return "", fmt.Errorf("process exited before it was ready")
		}
		return addr, nil
	case <-time.After(timeout):
		return "", fmt.Errorf("not ready after %s", timeout)
	}
}

// Kill ends the process with SIGKILL, as a crash would, and waits for it.
func (p *Process) Kill() {
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
}

// Stop asks the process to shut down gracefully (SIGTERM) and waits; it returns the exit error.
func (p *Process) Stop(timeout time.Duration) error {
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		if code := p.cmd.ProcessState.ExitCode(); code != 0 {
			return fmt.Errorf("kiri exited with status %d", code)
		}
		return nil
	case <-time.After(timeout):
		p.Kill()
		return fmt.Errorf("kiri did not stop within %s", timeout)
	}
}

// PID is the process's id.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// Running reports whether the process has not exited.
func (p *Process) Running() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// Binary returns the path of a kiri binary built from this checkout, building it on first use.
func Binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "kiri-bin-*")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "kiri")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/kiri")
		cmd.Dir = ModuleRoot()
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build ./cmd/kiri: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// ModuleRoot is the repository root, found from this file's location.
func ModuleRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..")
}

func writeKeysFile(t testing.TB, keys []auth.Key) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("# access key id, secret access key, account id\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "%s,%s,%s\n", k.AccessKeyID, k.SecretAccessKey, k.AccountID)
	}
	path := filepath.Join(t.TempDir(), "keys.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// withoutKiriEnv drops KIRI_* variables so the developer's environment cannot change a test.
func withoutKiriEnv(env []string) []string {
	out := env[:0:0]
	for _, e := range env {
		if !strings.HasPrefix(e, "KIRI_") {
			out = append(out, e)
		}
	}
	return out
}

type lockedBuffer struct {
	mu sync.Mutex
	bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.Buffer.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.Buffer.String()
}
