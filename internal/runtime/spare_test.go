package runtime

import (
	"errors"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// sparePids lists the pids of the pool's ready spare inits.
func sparePids(p *Pool) []int {
	p.spares.mu.Lock()
	defer p.spares.mu.Unlock()
	var pids []int
	for _, sp := range p.spares.ready {
		pids = append(pids, sp.cmd.Process.Pid)
	}
	return pids
}

// waitSpares waits until the pool holds n ready spares.
func waitSpares(t *testing.T, p *Pool, n int) []int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		pids := sparePids(p)
		if len(pids) == n {
			return pids
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d spare inits ready, want %d", len(pids), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// instancePids lists the pids of the pool's instances.
func instancePids(p *Pool) []int {
	p.mu.Lock()
	defer p.mu.Unlock()
	var pids []int
	for _, fp := range p.fns {
		for inst := range fp.all {
			pids = append(pids, inst.proc.cmd.Process.Pid)
		}
	}
	return pids
}

// gone reports that no process has pid (spares are reaped, so not even a zombie).
func gone(pid int) bool { return unix.Kill(pid, 0) == unix.ESRCH }

func TestSpareInitsServeColdStarts(t *testing.T) {
	sink := &memSink{}
	p := testPool(t, func(c *Config) { c.Logs = sink })
	f := p.Features()
	requireFeature(t, p, f.Init, "the sandbox init")
	first, second := goFunction(t, "first"), goFunction(t, "second")
	invoke(t, p, first, ev{"action": "echo"})
	spares := waitSpares(t, p, defaultSpareInits)

	res, ans := invoke(t, p, second, ev{"action": "log", "lines": []string{"from a spare"}})
	if res.FunctionError != "" || !res.ColdStart || !ans.OK {
		t.Fatalf("cold start on a spare: %+v %s", res, res.Payload)
	}
	var used int
	for _, pid := range instancePids(p) {
		if slices.Contains(spares, pid) {
			used = pid
		}
	}
	if used == 0 {
		t.Fatal("the cold start did not use a spare init")
	}
	t.Run("output reaches the function's logs", func(t *testing.T) {
		p.ship.flushSoon()
		deadline := time.Now().Add(5 * time.Second)
		for {
			logs := strings.Join(sink.messages(second.LogGroup), "")
			if strings.Contains(logs, "from a spare") && strings.Contains(logs, "to stderr") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("logs: %q", logs)
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
	t.Run("runs with the instance's isolation", func(t *testing.T) {
		_, ans := invoke(t, p, second, ev{"action": "list", "path": "/proc"})
		if f.PIDNS && strings.Contains(ans.Data, strconv.Itoa(os.Getpid())) {
			t.Errorf("host pid %d visible in the spare's /proc: %s", os.Getpid(), ans.Data)
		}
		if _, ans := invoke(t, p, second, ev{"action": "echo"}); f.UserNS && f.DropPrivileges && ans.UID != sandboxUID {
			t.Errorf("uid %d, want %d", ans.UID, sandboxUID)
		}
		if _, ans := invoke(t, p, second, ev{"action": "mount", "path": "/tmp"}); f.Seccomp && !strings.Contains(ans.Err, "operation not permitted") {
			t.Errorf("mount inside a spare: %+v, want EPERM", ans)
		}
	})
	t.Run("runs at normal priority", func(t *testing.T) {
		if os.Geteuid() != 0 {
			t.Skip("spares are only niced when Kiri may undo it")
		}
		if nice, err := unix.Getpriority(unix.PRIO_PROCESS, used); err != nil || nice != 20 {
			t.Errorf("getpriority = %d, %v; want 20 (nice 0)", nice, err)
		}
	})
	t.Run("is placed in the instance's cgroup", func(t *testing.T) {
		requireFeature(t, p, f.Cgroup != "", "cgroup memory limits")
		oom := goFunction(t, "oom")
		oom.MemoryMB = 128
		oom.Timeout = oomTimeout
		waitSpares(t, p, defaultSpareInits)
		res, _ := invoke(t, p, oom, ev{"action": "oom"})
		if res.ErrorType != errOutOfMemory {
			t.Errorf("ErrorType %q, want %q (%s)", res.ErrorType, errOutOfMemory, res.Payload)
		}
	})

	spares = waitSpares(t, p, defaultSpareInits)
	root := p.sandbox().cg
	p.Close()
	for _, pid := range spares {
		if !gone(pid) {
			t.Errorf("spare init %d outlived Close", pid)
		}
	}
	if root != nil {
		// Spares wait in cgroups of their own; Close removes them, so the pool's goes too.
		for _, d := range []string{root.mem, root.cpu, root.pids} {
			if _, err := os.Stat(d); d != "" && !errors.Is(err, os.ErrNotExist) {
				t.Errorf("cgroup %s left after Close: %v", d, err)
			}
		}
	}
}

func TestSpareInitsStopWhenColdStartsStop(t *testing.T) {
	p := testPool(t, func(c *Config) { c.IdleTimeout = 300 * time.Millisecond })
	requireFeature(t, p, p.Features().Init, "the sandbox init")
	invoke(t, p, goFunction(t, "once"), ev{"action": "echo"})
	spares := waitSpares(t, p, defaultSpareInits)
	waitSpares(t, p, 0)
	deadline := time.Now().Add(5 * time.Second)
	for _, pid := range spares {
		for !gone(pid) {
			if time.Now().After(deadline) {
				t.Fatalf("idle spare init %d still running", pid)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
}

func TestSpareInitsCanBeDisabled(t *testing.T) {
	p := testPool(t, func(c *Config) { c.SpareInits = -1 })
	p.Warm()
	invoke(t, p, goFunction(t, "plain"), ev{"action": "echo"})
	invoke(t, p, goFunction(t, "plain2"), ev{"action": "echo"})
	time.Sleep(50 * time.Millisecond)
	if pids := sparePids(p); len(pids) != 0 {
		t.Errorf("%d spare inits with SpareInits < 0", len(pids))
	}
}

// TestWarmReadiesSparesForTheFirstColdStart checks that a warmed pool starts its spare inits
// before any cold start, so that the very first cold start, too, skips re-executing Kiri.
func TestWarmReadiesSparesForTheFirstColdStart(t *testing.T) {
	p := testPool(t)
	requireFeature(t, p, p.Features().Init, "the sandbox init")
	if pids := sparePids(p); len(pids) != 0 {
		t.Fatalf("%d spare inits before anything asked for them", len(pids))
	}
	p.Warm()
	spares := waitSpares(t, p, defaultSpareInits)
	res, _ := invoke(t, p, goFunction(t, "first"), ev{"action": "echo"})
	if res.FunctionError != "" || !res.ColdStart {
		t.Fatalf("first invoke: %+v %s", res, res.Payload)
	}
	if pids := instancePids(p); len(pids) != 1 || !slices.Contains(spares, pids[0]) {
		t.Errorf("the first cold start ran in %v, not in a warmed spare %v", pids, spares)
	}
}
