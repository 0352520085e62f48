package runtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kiri-run/kiri/internal/runtime/bootstraps"
	"github.com/kiri-run/kiri/internal/sandboxinit"
)

// Pool runs function instances: warm ones are reused, new ones start on demand up to the
// concurrency limit, idle ones are reaped.
type Pool struct {
	cfg Config
	log *slog.Logger
	// sb is set once sandbox detection, which New starts in the background to keep it off
	// Kiri's start-up path, has finished (sbReady closed); use sandbox().
	sb         *sandbox
	sbReady    chan struct{}
	detectNow  chan struct{} // closed to start detection before detectDelay
	detectOnce sync.Once
	ship       *shipper
	metrics    *metrics
	spares     *spareInits
	net        *netPolicy

	scriptsMu sync.Mutex
	scripts   map[string]*script // by runtime identifier

	mu       sync.Mutex
	closed   bool
	fns      map[string]*fnPool // by Function.Key
	busy     int                // invocations in flight, all functions
	starting int                // instances in their init phase, all functions
	waiters  []*waiter          // invocations waiting for an instance, in arrival order

	wg       sync.WaitGroup // instance goroutines and the reaper
	stopReap chan struct{}
}

// fnPool is the instances of one Function.Key.
type fnPool struct {
	key     string
	fn      Function // with defaults applied
	userEnv map[string]string
	hide    []string // paths hidden in the sandbox
	m       *fnMetrics

	prepOnce sync.Once
	prepErr  error
	env      []string              // base environment
	argv     []string              // as the instance sees it
	exe      string                // argv[0] on the host
	dir      string                // working directory, as the instance sees it
	keep     []string              // paths visible read-only in the sandbox
	root     *sandboxinit.RootPlan // the instance's own root, when the sandbox gives one

	// guarded by Pool.mu
	idle     []*instance // stack: most recently used last
	all      map[*instance]struct{}
	busy     int
	starting int // instances in their init phase
	waiting  int // invocations waiting for an instance
}

// script is an interpreted runtime's bootstrap, written once per pool.
type script struct {
	once   sync.Once
	interp string
	root   string   // the interpreter's installation, kept visible in the sandbox
	paths  []string // what the interpreter needs from the host in a minimal root
	path   string
	dir    string
	err    error
}

// New creates a pool. It detects the host's sandbox features once and logs what is active.
func New(cfg Config) (*Pool, error) {
	if cfg.Dir == "" {
		return nil, errors.New("runtime: Config.Dir is required")
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = defaultIdleTimeout
	}
	if cfg.InitTimeout <= 0 {
		cfg.InitTimeout = defaultInitTimeout
	}
	if cfg.AccountConcurrency <= 0 {
		cfg.AccountConcurrency = defaultAccountConc
	}
	if cfg.LogFlushInterval <= 0 {
		cfg.LogFlushInterval = defaultLogFlush
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.SpareInits == 0 {
		cfg.SpareInits = defaultSpareInits
	}
	if cfg.ColdStartsPerFunction <= 0 {
		cfg.ColdStartsPerFunction = max(1, goruntime.NumCPU())
	}
	if cfg.ColdStarts <= 0 {
		cfg.ColdStarts = 2 * cfg.ColdStartsPerFunction
	}
	cfg.Dir = cleanAbs(cfg.Dir)
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("runtime: create %s: %w", cfg.Dir, err)
	}
	m, err := newMetrics(cfg.Metrics)
	if err != nil {
		return nil, err
	}
	log := cfg.Logger.With("component", "runtime")
	p := &Pool{
		cfg: cfg, log: log, sbReady: make(chan struct{}), detectNow: make(chan struct{}), metrics: m,
		ship:     newShipper(cfg.Logs, cfg.LogFlushInterval, log),
		scripts:  map[string]*script{},
		fns:      map[string]*fnPool{},
		stopReap: make(chan struct{}),
	}
	p.net = &netPolicy{allow: cfg.NetworkAllow, endpoint: endpointAddr(cfg.Endpoint)}
	p.spares = newSpareInits(cfg.SpareInits, cfg.IdleTimeout, p.sandbox, p.sbReady, p.stopReap)
	p.wg.Add(3)
	go p.detectSandbox()
	go p.reap()
	go func() {
		defer p.wg.Done()
		p.spares.run()
	}()
	return p, nil
}

// detectSandbox works out, once, which isolation the host allows (it starts a probe instance,
// which takes tens of milliseconds) and logs what is active.
func (p *Pool) detectSandbox() {
	defer p.wg.Done()
	// Let the process finish starting first: detection competes with it for CPU. A function
	// invoked sooner waits for detection (sandbox) instead.
	select {
	case <-time.After(detectDelay):
	case <-p.detectNow:
	case <-p.stopReap:
	}
	start := time.Now()
	p.sb = newSandbox(p.cfg.Sandbox, "kiri-"+strconv.Itoa(os.Getpid())+"-"+randomHex(4), p.log)
	p.sb.spareNet = !p.cfg.HostNetwork && p.sb.feat.NetNS
	if p.sb.spareNet {
		p.sb.netPorts = append(append([]int{sandboxinit.RuntimeAPIPort}, p.net.forwardPorts()...), sandboxProxyPort)
	}
	if !p.cfg.HostNetwork && !p.sb.feat.NetNS && p.cfg.Sandbox != SandboxOff {
		p.log.Warn("function sandbox: no network namespace, functions share the host's network")
	}
	p.log.Info("function sandbox", "features", p.sb.feat.String(), "detect", time.Since(start).Round(time.Microsecond))
	close(p.sbReady)
}

// detectDelay is how long after New sandbox detection starts unless something needs it sooner.
const detectDelay = 100 * time.Millisecond

// sandbox returns the detected sandbox, starting detection now if it has not begun and waiting
// for it to finish.
func (p *Pool) sandbox() *sandbox {
	select {
	case <-p.sbReady:
		return p.sb
	default:
	}
	p.detectOnce.Do(func() { close(p.detectNow) })
	<-p.sbReady
	return p.sb
}

// Warm has the spare inits started in the background, once sandbox detection has finished
// (without hurrying it), so that the next cold start need not re-execute Kiri: callers warm the
// pool when functions exist that may soon be invoked. Unused spares stop after IdleTimeout.
func (p *Pool) Warm() {
	p.spares.warm()
}

// Features reports the isolation active for instances, waiting for detection if it is still
// running.
func (p *Pool) Features() Features { return p.sandbox().feat }

// Invoke runs one invocation on a warm instance, or a new one when none is idle. It returns
// ErrThrottled at the concurrency limit. Function failures (errors, timeouts, crashes) are
// results with FunctionError set, not errors.
func (p *Pool) Invoke(ctx context.Context, fn *Function, req *Request) (*Result, error) {
	for attempt := 0; ; attempt++ {
		inst, fp, err := p.acquire(ctx, fn)
		if err != nil {
			var fail *initFailure
			if errors.As(err, &fail) {
				return p.initFailed(fp, fail, req), nil
			}
			return nil, err
		}
		res, err := inst.invoke(ctx, req)
		if errors.Is(err, errInstanceGone) && attempt < 3 {
			continue // died while idle; try another
		}
		var fail *initFailure
		if errors.As(err, &fail) {
			return p.initFailed(fp, fail, req), nil
		}
		return res, err
	}
}

func (p *Pool) unbusyLocked(fp *fnPool) {
	fp.busy--
	p.busy--
	fp.m.busy.Dec()
}

// release ends an instance's invocation: it goes back to the idle stack, or is stopped when
// it must not be reused (failed, retired, pool closed).
func (p *Pool) release(inst *instance, reuse bool) {
	fp := inst.fp
	p.mu.Lock()
	p.unbusyLocked(fp)
	if reuse && !inst.retire && !p.closed && !inst.isDead() {
		inst.idleSince = time.Now()
		fp.idle = append(fp.idle, inst)
		fp.m.idle.Inc()
		p.dispatchLocked()
		p.mu.Unlock()
		return
	}
	p.mu.Unlock()
	inst.kill()
}

// instanceGone forgets an instance whose process has exited.
func (p *Pool) instanceGone(inst *instance) {
	fp := inst.fp
	p.mu.Lock()
	delete(fp.all, inst)
	for i, x := range fp.idle {
		if x == inst {
			fp.idle = append(fp.idle[:i], fp.idle[i+1:]...)
			fp.m.idle.Dec()
			break
		}
	}
	p.mu.Unlock()
}

// Drain retires the instances of every function whose Key starts with keyPrefix: idle ones
// stop now, busy ones when their invocation ends.
func (p *Pool) Drain(keyPrefix string) {
	var stop []*instance
	p.mu.Lock()
	for key, fp := range p.fns {
		if !strings.HasPrefix(key, keyPrefix) {
			continue
		}
		for inst := range fp.all {
			inst.retire = true
		}
		stop = append(stop, fp.idle...)
		fp.m.idle.Sub(float64(len(fp.idle)))
		fp.idle = nil
	}
	p.mu.Unlock()
	for _, inst := range stop {
		inst.kill()
	}
}

// Health reports whether the pool runs invocations: nil until it is closed.
func (p *Pool) Health(context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return ErrClosed
	}
	return nil
}

// Close stops every instance and background goroutine and flushes pending logs.
func (p *Pool) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	p.dispatchLocked() // waiters learn the pool is closed
	var all []*instance
	for _, fp := range p.fns {
		for inst := range fp.all {
			inst.retire = true
			all = append(all, inst)
		}
		fp.m.idle.Sub(float64(len(fp.idle)))
		fp.idle = nil
	}
	p.mu.Unlock()
	close(p.stopReap)
	for _, inst := range all {
		inst.kill()
	}
	p.wg.Wait()
	p.ship.close()
	if sb := p.sandbox(); sb.cg != nil {
		sb.cg.remove()
	}
	os.RemoveAll(filepath.Join(p.cfg.Dir, "runtimes"))
	return nil
}

// reap stops instances idle for longer than IdleTimeout and forgets empty function pools.
func (p *Pool) reap() {
	defer p.wg.Done()
	every := min(max(p.cfg.IdleTimeout/4, 10*time.Millisecond), 30*time.Second)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-p.stopReap:
			return
		case <-t.C:
		}
		cutoff := time.Now().Add(-p.cfg.IdleTimeout)
		var stop []*instance
		p.mu.Lock()
		for key, fp := range p.fns {
			n := 0
			for n < len(fp.idle) && fp.idle[n].idleSince.Before(cutoff) {
				n++
			}
			if n > 0 {
				stop = append(stop, fp.idle[:n]...)
				fp.idle = append(fp.idle[:0], fp.idle[n:]...)
				fp.m.idle.Sub(float64(n))
				fp.m.reaped.Add(float64(n))
			}
			if len(fp.all) == 0 && fp.busy == 0 && len(fp.idle) == 0 && fp.starting == 0 && fp.waiting == 0 {
				delete(p.fns, key)
			}
		}
		p.mu.Unlock()
		for _, inst := range stop {
			inst.kill()
		}
	}
}

// newFnPool prepares the recipe shared by a function's instances.
func (p *Pool) newFnPool(fn *Function) *fnPool {
	f := *fn
	if f.MemoryMB <= 0 {
		f.MemoryMB = defaultMemoryMB
	}
	if f.Timeout <= 0 {
		f.Timeout = defaultTimeout
	}
	if f.EphemeralMB <= 0 {
		f.EphemeralMB = defaultEphemeralMB
	}
	if f.Version == "" {
		f.Version = "$LATEST"
	}
	if f.LogGroup == "" {
		f.LogGroup = "/aws/lambda/" + f.Name
	}
	f.CodeDir = cleanAbs(f.CodeDir)
	f.Environment = nil // folded into env below
	fp := &fnPool{key: fn.Key, fn: f, all: map[*instance]struct{}{}, m: p.metrics.forFunction(f.Name)}
	hide := append([]string{p.cfg.Dir}, p.cfg.HidePaths...)
	if parent := filepath.Dir(f.CodeDir); !systemDir(parent) {
		hide = append(hide, parent)
	}
	for _, h := range hide {
		if h = cleanAbs(h); !systemDir(h) {
			fp.hide = append(fp.hide, h)
		}
	}
	fp.userEnv = fn.Environment
	return fp
}

// systemDir reports directories that must never be hidden from functions.
func systemDir(p string) bool {
	switch p {
	case "/", "/usr", "/usr/local", "/bin", "/sbin", "/lib", "/lib64", "/etc", "/proc", "/dev", "/sys", "/tmp", "/var", "/opt":
		return true
	}
	return false
}

// prepare resolves, once, the command and environment of fp's instances.
func (p *Pool) prepare(fp *fnPool) error {
	fp.prepOnce.Do(func() {
		argv, extra, sc, err := p.command(fp)
		if err != nil {
			fp.prepErr = err
			return
		}
		runtimeDir := filepath.Join(p.cfg.Dir, "runtimes", "provided")
		if len(extra) > 0 {
			runtimeDir = extra[0]
		}
		f := fp.fn
		f.Environment = fp.userEnv
		fp.argv, fp.exe, fp.dir = argv, argv[0], f.CodeDir
		fp.keep = append([]string{f.CodeDir}, extra...)
		sb := p.sandbox()
		if sb.feat.Root {
			fp.root, fp.argv = rootFor(&f, argv, sc)
			f.CodeDir, fp.dir, runtimeDir = taskRoot, taskRoot, runtimeRoot
		} else if sb.feat.MountNS && sb.feat.DropPrivileges {
			fp.hide = append(fp.hide, untraversable(fp.keep)...)
		}
		fp.env = baseEnv(&f, runtimeDir, p.cfg.Endpoint)
	})
	return fp.prepErr
}

// rootFor plans the minimal root of fn's instances: its code at /var/task and, for an
// interpreted runtime, the bootstrap script at /var/runtime and the interpreter's files where
// the host has them. It returns argv as the instance sees it.
func rootFor(fn *Function, argv []string, sc *script) (*sandboxinit.RootPlan, []string) {
	plan := sandboxinit.NewRootPlan()
	plan.Bind(realPath(fn.CodeDir), taskRoot)
	inside := slices.Clone(argv)
	if sc == nil {
		rel, _ := filepath.Rel(fn.CodeDir, argv[0])
		inside[0] = filepath.Join(taskRoot, rel)
		for _, p := range nativePaths(argv[0]) {
			plan.Mirror(p)
		}
		return plan.Finish(), inside
	}
	plan.Bind(realPath(sc.dir), runtimeRoot)
	for _, p := range sc.paths {
		plan.Mirror(p)
	}
	inside[1] = filepath.Join(runtimeRoot, filepath.Base(sc.path))
	return plan.Finish(), inside
}

// command resolves what an instance of fp runs, writing an interpreted runtime's bootstrap
// script on first use. sc is the interpreted runtime's script, nil for a native one.
func (p *Pool) command(fp *fnPool) (argv, extra []string, sc *script, err error) {
	fn := &fp.fn
	switch fn.Runtime {
	case "provided.al2023", "provided.al2", "provided":
		return []string{filepath.Join(fn.CodeDir, "bootstrap")}, nil, nil, nil
	case "go1.x":
		return []string{filepath.Join(fn.CodeDir, fn.Handler)}, nil, nil, nil
	}
	bs, ok := bootstraps.For(fn.Runtime)
	if !ok {
		return nil, nil, nil, &initFailure{errType: errInvalidEntry, msg: "Error: unsupported runtime " + fn.Runtime}
	}
	sc = p.script(fn.Runtime)
	sc.once.Do(func() {
		interp, err := bs.Interpreter(context.Background())
		if err != nil {
			sc.err = err
			return
		}
		sc.interp, sc.root = resolveInterpreter(interp, fn.Runtime)
		if p.sandbox().feat.Root {
			sc.paths = interpreterPaths(sc.interp, fn.Runtime)
		}
		sc.dir = filepath.Join(p.cfg.Dir, "runtimes", fn.Runtime)
		sc.path = filepath.Join(sc.dir, bs.Name)
		if sc.err = os.MkdirAll(sc.dir, 0o755); sc.err != nil {
			return
		}
		tmp := sc.path + ".tmp"
		if sc.err = os.WriteFile(tmp, bs.Source, 0o444); sc.err == nil {
			sc.err = os.Rename(tmp, sc.path)
		}
		if sc.err == nil {
			sc.err = os.Chmod(sc.dir, 0o555)
		}
	})
	if sc.err != nil {
		return nil, nil, nil, &initFailure{errType: errInvalidEntry, msg: "Error: " + sc.err.Error()}
	}
	extra = []string{sc.dir}
	if sc.root != "" && !systemDir(sc.root) {
		extra = append(extra, sc.root)
	}
	return []string{sc.interp, sc.path}, extra, sc, nil
}

// resolveInterpreter finds the real executable behind an interpreter path (version managers
// such as pyenv put shell-script shims on PATH) and the installation it needs, so the sandbox
// can run it directly and keep its installation visible.
func resolveInterpreter(interp, runtime string) (exe, root string) {
	ctx, cancel := context.WithTimeout(context.Background(), probeTimeout)
	defer cancel()
	var args []string
	if strings.HasPrefix(runtime, "python") {
		args = []string{"-c", "import sys; print(sys.executable); print(sys.base_prefix)"}
	} else {
		args = []string{"-p", "process.execPath"}
	}
	out, err := exec.CommandContext(ctx, interp, args...).Output()
	if err != nil {
		return interp, ""
	}
	lines := strings.Fields(string(out))
	if len(lines) == 0 || !filepath.IsAbs(lines[0]) {
		return interp, ""
	}
	exe = lines[0]
	if len(lines) > 1 {
		root = lines[1]
	} else {
		root = filepath.Dir(filepath.Dir(exe))
	}
	if real, err := filepath.EvalSymlinks(exe); err == nil {
		exe = real
	}
	return exe, filepath.Clean(root)
}

// untraversable returns the ancestors of paths that other users cannot enter; the sandbox
// covers them so a function running as its own user can still reach the kept paths.
func untraversable(paths []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, k := range paths {
		for dir := filepath.Dir(k); dir != "/" && dir != "."; dir = filepath.Dir(dir) {
			fi, err := os.Stat(dir)
			if err != nil || fi.Mode().Perm()&0o001 != 0 || seen[dir] {
				continue
			}
			seen[dir] = true
			out = append(out, dir)
		}
	}
	return out
}

func (p *Pool) script(runtime string) *script {
	p.scriptsMu.Lock()
	defer p.scriptsMu.Unlock()
	sc := p.scripts[runtime]
	if sc == nil {
		sc = &script{}
		p.scripts[runtime] = sc
	}
	return sc
}

// initFailed turns a failed start into Lambda's invocation result and log lines.
func (p *Pool) initFailed(fp *fnPool, fail *initFailure, req *Request) *Result {
	res := &Result{
		Payload: fail.payload, FunctionError: unhandled, ErrorType: fail.errType,
		MemoryMB: fp.fn.MemoryMB, InitDuration: fail.dur, ColdStart: true,
		Duration: fail.dur, BilledDuration: billed(fail.dur),
	}
	if res.Payload == nil {
		res.Payload = errorPayload(fail.errType, "RequestId: "+req.RequestID+" "+fail.msg)
	}
	status := "error"
	if fail.errType == errTimeout {
		status = "timeout"
	}
	lines := []string{initReportLine(fail.dur, status, fail.errType), startLine(req.RequestID, fp.fn.Version)}
	if fail.errType == errTimeout {
		lines = append(lines, fail.msg+"\n")
	}
	res.InitDuration = 0 // the failed init is reported in INIT_REPORT, not REPORT
	lines = append(lines, endLine(req.RequestID), reportLine(req.RequestID, res, status))
	res.InitDuration = fail.dur
	now := time.Now()
	if fail.stream != "" {
		events := make([]LogEvent, len(lines))
		for i, l := range lines {
			events[i] = LogEvent{Time: now, Message: l}
		}
		p.ship.add(streamKey{fp.fn.Account, fp.fn.Region, fp.fn.LogGroup, fail.stream}, events...)
		p.ship.flushSoon()
	}
	if req.Tail {
		res.LogTail = lastBytes([]byte(strings.Join(lines, "")), tailBytes)
	}
	fp.m.errors.Inc()
	return res
}

// lastBytes returns the last n bytes of b.
func lastBytes(b []byte, n int) []byte {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return b
}

// cleanAbs returns p cleaned, made absolute.
func cleanAbs(p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		return filepath.Clean(p)
	}
	return a
}

// realPath is p with its symbolic links resolved, or p when it cannot be resolved.
func realPath(p string) string {
	if real, err := filepath.EvalSymlinks(p); err == nil {
		return real
	}
	return p
}
