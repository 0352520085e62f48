package runtime

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func requireFeature(t *testing.T, p *Pool, ok bool, what string) {
	t.Helper()
	if !ok {
		t.Skipf("host does not allow %s (features: %s)", what, p.Features())
	}
}

func TestSandboxIsolatesFunctions(t *testing.T) {
	base := varTmpDir(t)
	p := testPool(t, func(c *Config) { c.Dir = filepath.Join(base, "instances") })
	f := p.Features()
	requireFeature(t, p, f.MountNS && f.PIDNS, "mount and pid namespaces")
	a, b := goFunctionIn(t, filepath.Join(base, "functions"), "alpha"), goFunctionIn(t, filepath.Join(base, "functions"), "beta")
	os.WriteFile(filepath.Join(base, "data.db"), []byte("kiri data"), 0o644)

	// beta leaves a file in its /tmp and stays warm.
	if res, ans := invoke(t, p, b, ev{"action": "write", "path": "/tmp/beta-secret", "data": "beta's"}); ans.Err != "" || !ans.OK {
		t.Fatalf("beta write /tmp: %s", res.Payload)
	}
	if _, ans := invoke(t, p, b, ev{"action": "read", "path": "/tmp/beta-secret"}); ans.Data != "beta's" {
		t.Fatalf("beta cannot read its own /tmp: %+v", ans)
	}
	if _, ans := invoke(t, p, a, ev{"action": "read", "path": filepath.Join(taskRootOf(p, a), "secret.txt")}); ans.Data != "code of alpha" {
		t.Fatalf("alpha cannot read its own code: %+v", ans)
	}

	tests := []struct {
		name  string
		event ev
	}{
		{"other function's code", ev{"action": "read", "path": filepath.Join(b.CodeDir, "secret.txt")}},
		{"other function's code dir", ev{"action": "list", "path": b.CodeDir}},
		{"other function's /tmp", ev{"action": "read", "path": "/tmp/beta-secret"}},
		{"instance scratch root", ev{"action": "list", "path": p.cfg.Dir}},
		{"host data next to the code", ev{"action": "read", "path": filepath.Join(base, "data.db")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, ans := invoke(t, p, a, tc.event)
			t.Logf("alpha %v: err=%q", tc.event["path"], ans.Err)
			if ans.Err == "" && (ans.Data != "" || ans.OK) {
				t.Fatalf("alpha read %v: %s", tc.event["path"], res.Payload)
			}
		})
	}

	t.Run("code is read-only", func(t *testing.T) {
		_, ans := invoke(t, p, a, ev{"action": "write", "path": filepath.Join(taskRootOf(p, a), "x"), "data": "x"})
		if !strings.Contains(ans.Err, "read-only") && !strings.Contains(ans.Err, "permission denied") {
			t.Fatalf("write into code dir: %+v", ans)
		}
	})
	t.Run("pid namespace hides host processes", func(t *testing.T) {
		_, ans := invoke(t, p, a, ev{"action": "list", "path": "/proc"})
		for name := range strings.SplitSeq(ans.Data, ",") {
			if name != "1" && name[0] >= '0' && name[0] <= '9' {
				t.Fatalf("function sees pid %s in /proc (%s)", name, ans.Data)
			}
		}
	})
	if f.DropPrivileges && f.UserNS {
		t.Run("runs as Lambda's sandbox user", func(t *testing.T) {
			if _, ans := invoke(t, p, a, ev{"action": "echo"}); ans.UID != sandboxUID {
				t.Fatalf("uid %d, want %d", ans.UID, sandboxUID)
			}
		})
	}
}

func TestSandboxTmpIsSizedByEphemeralStorage(t *testing.T) {
	p := testPool(t)
	requireFeature(t, p, p.Features().MountNS, "a mount namespace")
	fn := goFunction(t, "tmpsize")
	fn.EphemeralMB = 1
	_, ans := invoke(t, p, fn, ev{"action": "write", "path": "/tmp/big", "data": strings.Repeat("x", 2<<20)})
	if !strings.Contains(ans.Err, "no space left") {
		t.Fatalf("writing 2 MB into a 1 MB /tmp: %+v", ans)
	}
}

func TestSandboxSeccompDeniesPrivilegedSyscalls(t *testing.T) {
	p := testPool(t)
	requireFeature(t, p, p.Features().Seccomp, "seccomp")
	fn := goFunction(t, "seccomp")
	for _, action := range []string{"mount", "unshare"} {
		_, ans := invoke(t, p, fn, ev{"action": action, "path": "/tmp"})
		if !strings.Contains(ans.Err, "operation not permitted") {
			t.Errorf("%s: %+v, want EPERM", action, ans)
		}
	}
}

// oomTimeout is how long a function running out of memory is given. At 128 MB a function gets
// 7% of a CPU, as in Lambda; where the cpu controller enforces that share, filling 128 MB and
// the kernel's reclaim before the OOM kill take about 12 s.
const oomTimeout = time.Minute

func TestSandboxOutOfMemoryIsRuntimeOutOfMemory(t *testing.T) {
	p := testPool(t)
	requireFeature(t, p, p.Features().Cgroup != "", "cgroup memory limits")
	fn := goFunction(t, "oom")
	fn.MemoryMB = 128
	fn.Timeout = oomTimeout
	res, _ := invoke(t, p, fn, ev{"action": "oom"})
	if res.FunctionError != "Unhandled" || res.ErrorType != errOutOfMemory {
		t.Fatalf("FunctionError=%q ErrorType=%q payload=%s", res.FunctionError, res.ErrorType, res.Payload)
	}
	want := `{"errorType":"Runtime.OutOfMemory","errorMessage":"RequestId: `
	if !strings.HasPrefix(string(res.Payload), want) || !strings.Contains(string(res.Payload), "Runtime exited with error: signal: killed") {
		t.Errorf("payload %s", res.Payload)
	}
	if res.MaxMemoryMB < 100 {
		t.Errorf("MaxMemoryMB = %d, want near the 128 MB limit", res.MaxMemoryMB)
	}
}

// acceptingServer listens on loopback and closes every connection it accepts.
func acceptingServer(t *testing.T) string {
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

func TestSandboxNoNetworkBlocksOutboundButServesRuntimeAPI(t *testing.T) {
	addr := acceptingServer(t)
	allow, err := ParseNetAllow(addr)
	if err != nil {
		t.Fatal(err)
	}
	p := testPool(t, func(c *Config) { c.NetworkAllow = allow })
	requireFeature(t, p, p.Features().NetNS, "network namespaces")

	open := goFunction(t, "net-open")
	if _, ans := invoke(t, p, open, ev{"action": "connect", "addr": addr}); ans.Err != "" {
		t.Fatalf("function with network cannot connect to %s: %s", addr, ans.Err)
	}
	closed := goFunction(t, "net-closed")
	closed.NoNetwork = true
	res, ans := invoke(t, p, closed, ev{"action": "connect", "addr": addr})
	if ans.Err == "" {
		t.Fatalf("NoNetwork function connected to %s: %s", addr, res.Payload)
	}
	// Spare inits listen on the sandboxed network's ports ahead of their spec; an instance
	// without network must find none of those listening.
	for _, port := range []int{4566, sandboxProxyPort} {
		inside := "127.0.0.1:" + strconv.Itoa(port)
		if res, ans := invoke(t, p, closed, ev{"action": "connect", "addr": inside}); ans.Err == "" {
			t.Fatalf("NoNetwork function connected to %s inside its namespace: %s", inside, res.Payload)
		}
	}
	// The function keeps working: warm invokes go through the in-namespace Runtime API.
	if _, ans := invoke(t, p, closed, ev{"action": "echo", "data": "still here"}); ans.Data != "still here" {
		t.Fatalf("NoNetwork function second invoke: %+v", ans)
	}
}

func TestSandboxDetectionIsLogged(t *testing.T) {
	p := testPool(t)
	if p.Features().String() == "" {
		t.Fatal("empty feature string")
	}
	off := testPool(t, func(c *Config) { c.Sandbox = SandboxOff })
	if f := off.Features(); f.Init || f.MountNS || f.Cgroup != "" {
		t.Fatalf("SandboxOff features: %s", f)
	}
	fn := goFunction(t, "plain")
	if _, ans := invoke(t, off, fn, ev{"action": "echo", "data": "plain"}); ans.Data != "plain" {
		t.Fatalf("plain process invoke: %+v", ans)
	}
	if _, ans := invoke(t, off, fn, ev{"action": "env"}); !strings.HasPrefix(ans.Env["TMPDIR"], off.cfg.Dir) {
		t.Errorf("plain process TMPDIR %q, want under %s", ans.Env["TMPDIR"], off.cfg.Dir)
	}
}

// TestSandboxExecWaitsOutABusyExecutable: while any process holds a function's executable
// open for writing (a fork that inherited the descriptor Kiri extracted it with), exec fails
// with ETXTBSY; the sandbox waits that moment out instead of failing the invoke.
func TestSandboxExecWaitsOutABusyExecutable(t *testing.T) {
	p := testPool(t)
	fn := goFunctionIn(t, t.TempDir(), "busy")
	// A copy, not the shared link, so that only this test's file is held open.
	bin := filepath.Join(fn.CodeDir, "bootstrap")
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(bin); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	w, err := os.OpenFile(bin, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	released := time.AfterFunc(150*time.Millisecond, func() { w.Close() })
	defer released.Stop()
	if res, ans := invoke(t, p, fn, ev{"action": "echo"}); res.FunctionError != "" || ans.Err != "" {
		t.Fatalf("invoke while the executable was briefly busy: %s %s", res.FunctionError, res.Payload)
	}
}

// TestSandboxRootHidesTheHost: an instance's root holds its code, its runtime, /tmp, /proc and
// a few system files; nothing else of the host.
func TestSandboxRootHidesTheHost(t *testing.T) {
	p := testPool(t)
	requireFeature(t, p, p.Features().Root, "a minimal root")
	fn := goFunction(t, "rooted")
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	wd, _ := os.Getwd()
	for _, path := range []string{"/etc/passwd", "/etc/shadow", "/home", "/root", filepath.Dir(exe), wd, fn.CodeDir, p.cfg.Dir, "/var/lib", "/usr/bin", "/sys"} {
		t.Run("hidden "+path, func(t *testing.T) {
			res, ans := invoke(t, p, fn, ev{"action": "list", "path": path})
			if ans.Err == "" {
				res, ans = invoke(t, p, fn, ev{"action": "read", "path": path})
			}
			if ans.Err == "" && (ans.Data != "" || ans.OK) {
				t.Fatalf("function sees %s: %s", path, res.Payload)
			}
		})
	}
	for _, path := range []string{"/etc/passwd", "/x", "/var/task/x", "/etc/x", "/dev/x", "/proc/x"} {
		t.Run("read-only "+path, func(t *testing.T) {
			if _, ans := invoke(t, p, fn, ev{"action": "write", "path": path, "data": "x"}); ans.Err == "" {
				t.Fatalf("function wrote %s", path)
			}
		})
	}
	t.Run("system files and devices", func(t *testing.T) {
		_, ans := invoke(t, p, fn, ev{"action": "list", "path": "/"})
		t.Logf("/ holds %s", ans.Data)
		for _, path := range []string{"/etc/resolv.conf", "/etc/hosts", "/var/task/secret.txt"} {
			if _, ans := invoke(t, p, fn, ev{"action": "read", "path": path}); ans.Err != "" {
				t.Errorf("read %s: %s", path, ans.Err)
			}
		}
		for _, path := range []string{"/dev/null", "/tmp/ok"} {
			if _, ans := invoke(t, p, fn, ev{"action": "write", "path": path, "data": "x"}); ans.Err != "" {
				t.Errorf("write %s: %s", path, ans.Err)
			}
		}
	})
}

// TestSandboxMapsOnlyTheFunctionsIdentity: the user namespace maps the function's uid and gid
// and nothing else; host root has no name inside.
func TestSandboxMapsOnlyTheFunctionsIdentity(t *testing.T) {
	p := testPool(t)
	requireFeature(t, p, p.Features().UserNS, "a user namespace")
	fn := goFunction(t, "ident")
	for _, m := range []struct{ file, want string }{{"/proc/self/uid_map", "993"}, {"/proc/self/gid_map", "990"}} {
		_, ans := invoke(t, p, fn, ev{"action": "read", "path": m.file})
		lines := strings.Split(strings.TrimSpace(ans.Data), "\n")
		if ans.Err != "" || len(lines) != 1 || strings.Fields(lines[0])[0] != m.want || strings.Fields(lines[0])[2] != "1" {
			t.Fatalf("%s = %q (%s), want only %s mapped", m.file, ans.Data, ans.Err, m.want)
		}
	}
	if _, ans := invoke(t, p, fn, ev{"action": "echo"}); ans.UID != sandboxUID {
		t.Fatalf("uid %d, want %d", ans.UID, sandboxUID)
	}
}

// TestSandboxNetworkReachesOnlyWhatIsAllowed: a function with the sandboxed network reaches
// Kiri's endpoint and what the operator allows, and nothing else of the host: not its other
// loopback ports, not private addresses, not its interfaces.
func TestSandboxNetworkReachesOnlyWhatIsAllowed(t *testing.T) {
	endpoint := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "kiri") }))
	defer endpoint.Close()
	outside := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "outside") }))
	defer outside.Close()
	hostOnly := acceptingServer(t)
	allow, err := ParseNetAllow(strings.TrimPrefix(outside.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	p := testPool(t, func(c *Config) { c.Endpoint, c.NetworkAllow = endpoint.URL, allow })
	requireFeature(t, p, p.Features().NetNS, "network namespaces")
	fn := goFunction(t, "netpolicy")
	if _, ans := invoke(t, p, fn, ev{"action": "http", "addr": endpoint.URL}); ans.Data != "kiri" {
		t.Fatalf("function cannot reach Kiri's endpoint: %+v", ans)
	}
	if _, ans := invoke(t, p, fn, ev{"action": "http", "addr": outside.URL}); ans.Data != "outside" {
		t.Fatalf("function cannot reach the allowed address: %+v", ans)
	}
	for _, tc := range []struct{ name, action, addr string }{
		{"host loopback port", "connect", hostOnly},
		{"private address", "connect", "10.11.12.13:80"},
		{"link-local address", "connect", "169.254.169.254:80"},
		{"private address through the proxy", "http", "http://10.11.12.13/"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, ans := invoke(t, p, fn, ev{"action": tc.action, "addr": tc.addr})
			t.Logf("%s %s: %q %q", tc.action, tc.addr, ans.Err, ans.Data)
			if ans.Err == "" && !strings.Contains(ans.Data, "not allowed") {
				t.Fatalf("function reached %s: %s", tc.addr, res.Payload)
			}
		})
	}
	t.Run("interfaces", func(t *testing.T) {
		if _, ans := invoke(t, p, fn, ev{"action": "ifaces"}); ans.Data != "lo" {
			t.Fatalf("function sees interfaces %q, want only lo", ans.Data)
		}
	})
}

// TestInstanceCgroupLimits reads an instance's cgroup after a cold start from a spare (whose
// cgroup got the function-independent settings before the claim): memory without swap, the
// pids cap, and CPU in proportion to memory once the init has ended.
func TestInstanceCgroupLimits(t *testing.T) {
	t.Parallel()
	p := testPool(t)
	requireFeature(t, p, p.Features().Cgroup != "", "cgroups")
	fn := goFunction(t, "cg-limits")
	fn.MemoryMB = 512
	if _, ans := invoke(t, p, fn, ev{"action": "echo", "data": "x"}); ans.Data != "x" {
		t.Fatalf("invoke: %+v", ans)
	}
	p.mu.Lock()
	var cg *instanceCgroup
	for _, fp := range p.fns {
		for inst := range fp.all {
			cg = inst.cg
		}
	}
	p.mu.Unlock()
	if cg == nil {
		t.Fatal("no instance cgroup")
	}
	read := func(dir, file string) string {
		b, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			return "missing: " + err.Error()
		}
		return strings.TrimSpace(string(b))
	}
	quota := strconv.Itoa(cpuPeriodUS * 512 / mbPerVCPU)
	want := map[string]string{"memory.limit_in_bytes": strconv.Itoa(512 << 20), "memory.swappiness": "0",
		"cpu.cfs_period_us": strconv.Itoa(cpuPeriodUS), "cpu.cfs_quota_us": quota}
	dirs := map[string]string{"memory.limit_in_bytes": cg.mem, "memory.swappiness": cg.mem, "cpu.cfs_period_us": cg.cpu, "cpu.cfs_quota_us": cg.cpu}
	if cg.root.v2 {
		want = map[string]string{"memory.max": strconv.Itoa(512 << 20), "memory.swap.max": "0", "cpu.max": quota + " " + strconv.Itoa(cpuPeriodUS)}
		dirs = map[string]string{"memory.max": cg.mem, "memory.swap.max": cg.mem, "cpu.max": cg.cpu}
	}
	if cg.pids != "" {
		want["pids.max"], dirs["pids.max"] = strconv.Itoa(pidsMax), cg.pids
	}
	// The CPU limit is set off the first event's path.
	deadline := time.Now().Add(5 * time.Second)
	for file, w := range want {
		if dirs[file] == "" {
			continue
		}
		got := read(dirs[file], file)
		for got != w && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
			got = read(dirs[file], file)
		}
		if got != w {
			t.Errorf("%s = %q, want %q", file, got, w)
		}
	}
}
