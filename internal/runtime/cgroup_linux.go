package runtime

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// cpuPeriodUS is the CFS period; quota is a share of it proportional to memory.
const cpuPeriodUS = 100_000

// mbPerVCPU is Lambda's memory-to-CPU ratio: 1,769 MB gets one vCPU.
const mbPerVCPU = 1769

// pidsMax is Lambda's limit on processes and threads per execution environment.
const pidsMax = 1024

// cgroupRoot is the pool's own cgroup, under which every instance gets a child. For cgroup v1
// it has one directory per controller.
type cgroupRoot struct {
	v2   bool
	mem  string // memory controller directory (v2: the unified directory)
	cpu  string // "" when the cpu controller is unavailable
	pids string // "" when the pids controller is unavailable
}

// instanceCgroup is one instance's cgroup.
type instanceCgroup struct {
	root  *cgroupRoot
	dirs  []string
	mem   string
	cpu   string
	pids  string
	peak  *os.File // memory.max_usage_in_bytes (v1) or memory.peak (v2)
	memMB int
}

// setupCgroups finds where this process may create child cgroups with the memory controller
// (cgroup v2 when it has memory, else v1) and creates the pool's root there.
func setupCgroups(name string) (*cgroupRoot, error) {
	own, err := ownCgroups()
	if err != nil {
		return nil, err
	}
	mounts, err := cgroupMounts()
	if err != nil {
		return nil, err
	}
	if r, err := setupCgroupV2(name, own, mounts); err == nil {
		return r, nil
	}
	return setupCgroupV1(name, own, mounts)
}

// cgroupMount is one cgroup filesystem mount.
type cgroupMount struct {
	point, root string
	v2          bool
	controllers []string
}

// dirFor is the directory of cgroup path p in this mount.
func (m cgroupMount) dirFor(p string) string {
	rel := strings.TrimPrefix(p, m.root)
	return filepath.Join(m.point, rel)
}

func ownCgroups() (map[string]string, error) {
	data, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return nil, fmt.Errorf("read own cgroups: %w", err)
	}
	out := map[string]string{}
	for line := range strings.Lines(string(data)) {
		parts := strings.SplitN(strings.TrimSpace(line), ":", 3)
		if len(parts) != 3 {
			continue
		}
		if parts[1] == "" {
			out[""] = parts[2]
			continue
		}
		for c := range strings.SplitSeq(parts[1], ",") {
			out[c] = parts[2]
		}
	}
	return out, nil
}

func cgroupMounts() ([]cgroupMount, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, fmt.Errorf("read mountinfo: %w", err)
	}
	defer f.Close()
	var out []cgroupMount
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		if !ok {
			continue
		}
		pf, qf := strings.Fields(pre), strings.Fields(post)
		if len(pf) < 5 || len(qf) < 3 {
			continue
		}
		switch qf[0] {
		case "cgroup2":
			out = append(out, cgroupMount{point: pf[4], root: pf[3], v2: true})
		case "cgroup":
			var ctrls []string
			for o := range strings.SplitSeq(qf[2], ",") {
				switch o {
				case "memory", "cpu", "pids":
					ctrls = append(ctrls, o)
				}
			}
			out = append(out, cgroupMount{point: pf[4], root: pf[3], controllers: ctrls})
		}
	}
	return out, sc.Err()
}

func setupCgroupV2(name string, own map[string]string, mounts []cgroupMount) (*cgroupRoot, error) {
	for _, m := range mounts {
		if !m.v2 {
			continue
		}
		parent := m.dirFor(own[""])
		ctrls, err := os.ReadFile(filepath.Join(parent, "cgroup.controllers"))
		if err != nil || !bytes.Contains(ctrls, []byte("memory")) {
			continue
		}
		dir := filepath.Join(parent, name)
		if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("create cgroup %s: %w", dir, err)
		}
		// Controllers must be enabled on the way down; this fails when the parent holds
		// processes (the no-internal-process rule), and v1 is tried instead.
		enable := "+memory"
		for _, c := range []string{"cpu", "pids"} {
			if bytes.Contains(ctrls, []byte(c)) {
				enable += " +" + c
			}
		}
		if err := os.WriteFile(filepath.Join(parent, "cgroup.subtree_control"), []byte(enable), 0); err != nil {
			os.Remove(dir)
			return nil, fmt.Errorf("enable controllers in %s: %w", parent, err)
		}
		if err := os.WriteFile(filepath.Join(dir, "cgroup.subtree_control"), []byte(enable), 0); err != nil {
			os.Remove(dir)
			return nil, fmt.Errorf("enable controllers in %s: %w", dir, err)
		}
		r := &cgroupRoot{v2: true, mem: dir}
		if strings.Contains(enable, "cpu") {
			r.cpu = dir
		}
		if strings.Contains(enable, "pids") {
			r.pids = dir
		}
		return r, nil
	}
	return nil, errors.New("no cgroup v2 hierarchy with the memory controller")
}

func setupCgroupV1(name string, own map[string]string, mounts []cgroupMount) (*cgroupRoot, error) {
	r := &cgroupRoot{}
	for _, m := range mounts {
		for _, c := range m.controllers {
			dir := filepath.Join(m.dirFor(own[c]), name)
			if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
				if c == "memory" {
					return nil, fmt.Errorf("create cgroup %s: %w", dir, err)
				}
				continue
			}
			switch c {
			case "memory":
				r.mem = dir
			case "cpu":
				r.cpu = dir
			case "pids":
				r.pids = dir
			}
		}
	}
	if r.mem == "" {
		r.remove()
		return nil, errors.New("no cgroup v1 memory controller")
	}
	return r, nil
}

// name reports the cgroup version in use.
func (r *cgroupRoot) name() string {
	if r == nil {
		return ""
	}
	if r.v2 {
		return "v2"
	}
	return "v1"
}

// remove deletes the pool's cgroups; instances must be gone.
func (r *cgroupRoot) remove() {
	for _, d := range []string{r.mem, r.cpu, r.pids} {
		if d != "" {
			os.Remove(d)
		}
	}
}

// create makes an instance's cgroup with its memory and pids limits. CPU is limited later
// (limitCPU) so start-up runs at full speed, like Lambda's init phase.
func (r *cgroupRoot) create(id string, memMB int) (*instanceCgroup, error) {
	g, err := r.createEmpty(id)
	if err != nil {
		return nil, err
	}
	if err := g.setMemory(memMB); err != nil {
		g.remove()
		return nil, err
	}
	return g, nil
}

// createEmpty makes a cgroup with no limits yet: a spare init waits in one (spare_linux.go).
func (r *cgroupRoot) createEmpty(id string) (*instanceCgroup, error) {
	g := &instanceCgroup{root: r}
	seen := map[string]bool{}
	for _, base := range []string{r.mem, r.cpu, r.pids} {
		if base == "" || seen[base] {
			continue
		}
		seen[base] = true
		d := filepath.Join(base, id)
		if err := os.Mkdir(d, 0o755); err != nil {
			g.remove()
			return nil, fmt.Errorf("create cgroup %s: %w", d, err)
		}
		g.dirs = append(g.dirs, d)
	}
	g.mem = filepath.Join(r.mem, id)
	if r.cpu != "" {
		g.cpu = filepath.Join(r.cpu, id)
	}
	if r.pids != "" {
		g.pids = filepath.Join(r.pids, id)
	}
	peak := "memory.max_usage_in_bytes"
	if r.v2 {
		peak = "memory.peak"
	}
	g.peak, _ = os.Open(filepath.Join(g.mem, peak))
	// What does not depend on the function is set now: a spare's cgroup has it before a cold
	// start claims it.
	if r.v2 {
		writeCg(g.mem, "memory.swap.max", "0")
	} else {
		writeCg(g.mem, "memory.swappiness", "0")
		if g.cpu != "" {
			writeCg(g.cpu, "cpu.cfs_period_us", strconv.Itoa(cpuPeriodUS))
		}
	}
	if g.pids != "" {
		writeCg(g.pids, "pids.max", strconv.Itoa(pidsMax))
	}
	return g, nil
}

// setMemory sets the memory limit (no swap: see createEmpty) of a cgroup for a function of
// memMB megabytes.
func (g *instanceCgroup) setMemory(memMB int) error {
	g.memMB = memMB
	limit := strconv.Itoa(memMB << 20)
	if g.root.v2 {
		return writeCg(g.mem, "memory.max", limit)
	}
	if err := writeCg(g.mem, "memory.limit_in_bytes", limit); err != nil {
		return err
	}
	// Without swap accounting this file is missing; the limit above still holds.
	writeCg(g.mem, "memory.memsw.limit_in_bytes", limit)
	return nil
}

// add moves a process into every controller of the cgroup.
func (g *instanceCgroup) add(pid int) error {
	s := strconv.Itoa(pid)
	for _, d := range g.dirs {
		if err := writeCg(d, "cgroup.procs", s); err != nil {
			return err
		}
	}
	return nil
}

// limitCPU caps CPU in proportion to memory, as Lambda does (1,769 MB = 1 vCPU), with shares
// in the same proportion.
func (g *instanceCgroup) limitCPU() {
	if g.cpu == "" {
		return
	}
	quota := max(cpuPeriodUS*g.memMB/mbPerVCPU, 1000)
	if g.root.v2 {
		writeCg(g.cpu, "cpu.max", strconv.Itoa(quota)+" "+strconv.Itoa(cpuPeriodUS))
		writeCg(g.cpu, "cpu.weight", strconv.Itoa(max(1, min(10000, 100*g.memMB/mbPerVCPU))))
		return
	}
	writeCg(g.cpu, "cpu.cfs_quota_us", strconv.Itoa(quota))
	writeCg(g.cpu, "cpu.cfs_burst_us", strconv.Itoa(quota))
	writeCg(g.cpu, "cpu.shares", strconv.Itoa(max(2, 1024*g.memMB/mbPerVCPU)))
}

// peakBytes is the cgroup's peak memory use, or 0 when unknown.
func (g *instanceCgroup) peakBytes() int64 {
	if g.peak == nil {
		return 0
	}
	var buf [32]byte
	n, err := unix.Pread(int(g.peak.Fd()), buf[:], 0)
	if err != nil || n == 0 {
		return 0
	}
	v, _ := strconv.ParseInt(string(bytes.TrimSpace(buf[:n])), 10, 64)
	return v
}

// oomKilled reports whether the kernel's OOM killer ended a process of the cgroup.
func (g *instanceCgroup) oomKilled() bool {
	file, key := "memory.oom_control", "oom_kill "
	if g.root.v2 {
		file, key = "memory.events", "oom_kill "
	}
	data, err := os.ReadFile(filepath.Join(g.mem, file))
	if err != nil {
		return false
	}
	for line := range strings.Lines(string(data)) {
		if v, ok := strings.CutPrefix(line, key); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(v))
			return n > 0
		}
	}
	return false
}

// remove deletes the cgroup once its processes are gone, retrying briefly while the kernel
// finishes tearing them down.
func (g *instanceCgroup) remove() {
	if g.peak != nil {
		g.peak.Close()
	}
	for _, d := range g.dirs {
		for i := 0; i < 50; i++ {
			err := os.Remove(d)
			if err == nil || errors.Is(err, os.ErrNotExist) {
				break
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
}

func writeCg(dir, file, value string) error {
	if err := os.WriteFile(filepath.Join(dir, file), []byte(value), 0); err != nil {
		return fmt.Errorf("cgroup write %s: %w", file, err)
	}
	return nil
}
