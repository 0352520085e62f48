package runtime

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kiri-run/kiri/internal/sandboxinit"
)

// errInstanceGone reports that an idle instance died before it got the invocation.
var errInstanceGone = errors.New("runtime: instance exited")

// initFailure is an instance that failed to start: Lambda's init error.
type initFailure struct {
	errType string
	msg     string // "Error: ..." (prefixed with the request id in the payload)
	payload []byte // the function's own init error body, when it posted one
	dur     time.Duration
	stream  string
}

func (f *initFailure) Error() string { return "init failed: " + f.errType + ": " + f.msg }

// instance is one function instance: a sandboxed process and its Runtime API server.
type instance struct {
	id     string
	pool   *Pool
	fp     *fnPool
	stream string
	logKey streamKey
	proc   *spawned
	cg     *instanceCgroup
	srv    *http.Server
	ln     net.Listener
	net    *sandboxNet // the instance's sandboxed network, served from Kiri
	logs   *logReader
	dir    string // scratch directory, when the sandbox has no private /tmp

	started   time.Time
	spare     atomic.Bool // started from a spare init that is not replaced yet
	readyOnce sync.Once
	initOnce  sync.Once
	ready     chan struct{} // closed on the first /next
	readyAt   time.Time
	dead      chan struct{} // closed when the process has exited
	exitErr   error
	oom       bool
	killOnce  sync.Once
	initErr   atomic.Pointer[initFailure]
	next      chan *invocation
	cur       atomic.Pointer[invocation]
	coldUsed  bool // the first invocation has been delivered (owned by the invoking goroutine)
	idleSince time.Time
	retire    bool // guarded by Pool.mu
}

// invocation is one request in flight on an instance.
type invocation struct {
	req  *Request
	inst *instance
	cold bool
	done chan struct{}
	res  Result

	mu       sync.Mutex
	start    time.Time
	timer    *time.Timer
	finished bool
	tail     []byte // guarded by inst.logs.mu
}

// appendTail keeps the last lines of the invocation's output for LogResult.
func (inv *invocation) appendTail(msg string) {
	inv.tail = append(inv.tail, msg...)
	if len(inv.tail) > 4*tailBytes {
		inv.tail = append(inv.tail[:0], inv.tail[len(inv.tail)-tailBytes:]...)
	}
}

// startInstance starts a new instance of fp, in the start admission granted (see acquire). It
// returns as soon as the process runs; the invocation waits for the instance's first /next.
// The start is given back when the instance's init ends (endInit), or at once when no process
// was started.
func (p *Pool) startInstance(ctx context.Context, fp *fnPool) (*instance, error) {
	running := false
	defer func() {
		if !running {
			p.initEnded(fp)
		}
	}()
	if err := p.prepare(fp); err != nil {
		return nil, withStream(err, newStreamName(fp.fn.Version))
	}
	fn := &fp.fn
	inst := &instance{
		id: randomHex(16), pool: p, fp: fp,
		ready: make(chan struct{}), dead: make(chan struct{}), next: make(chan *invocation),
	}
	inst.stream = newStreamNameID(fn.Version, inst.id)
	inst.logKey = streamKey{fn.Account, fn.Region, fn.LogGroup, inst.stream}
	if fi, err := os.Stat(fp.exe); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
		msg := "Error: fork/exec " + fp.argv[0] + ": "
		switch {
		case err != nil && errors.Is(err, os.ErrNotExist):
			msg += "no such file or directory"
		case err != nil:
			msg += err.Error()
		default:
			msg += "permission denied"
		}
		return nil, &initFailure{errType: errInvalidEntry, msg: msg, stream: inst.stream}
	}
	// ownNet: the instance gets a network namespace of its own, with no network at all
	// (kiri:network=none) or the sandboxed network (sandboxNet).
	sandboxNet := !fn.NoNetwork && !p.cfg.HostNetwork && p.sandbox().feat.NetNS
	ownNet := sandboxNet || fn.NoNetwork && p.sandbox().feat.NetNS
	var ports []int
	if sandboxNet {
		ports = append(p.net.forwardPorts(), sandboxProxyPort)
	}
	addr := "127.0.0.1:" + strconv.Itoa(sandboxinit.RuntimeAPIPort)
	if !ownNet {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("runtime: listen for instance: %w", err)
		}
		inst.ln = ln
		addr = ln.Addr().String()
	}
	env := instanceEnv(fp.env, inst.stream, addr)
	if sandboxNet {
		env = append(env, proxyEnv()...)
	}
	if !p.sandbox().feat.MountNS {
		inst.dir = filepath.Join(p.cfg.Dir, inst.id)
		if err := os.MkdirAll(filepath.Join(inst.dir, "tmp"), 0o777); err != nil {
			inst.closeListener()
			return nil, fmt.Errorf("runtime: instance dir: %w", err)
		}
		env = append(env, "TMPDIR="+filepath.Join(inst.dir, "tmp"))
	}
	var spare *spareInit
	if ownNet == p.sandbox().spareNet {
		spare = p.spares.claim(p.sandbox())
	}
	inst.spare.Store(spare != nil)
	// place is the cgroup the sandbox still has to move the process into: none when the
	// spare already waits in the cgroup this instance adopts.
	var place *instanceCgroup
	if spare != nil && spare.cg != nil {
		if err := spare.cg.setMemory(fn.MemoryMB); err != nil {
			spare.stop()
			inst.cleanup()
			inst.refillSpares()
			return nil, fmt.Errorf("runtime: %w", err)
		}
		inst.cg, spare.cg = spare.cg, nil
	} else if p.sandbox().cg != nil {
		cg, err := p.sandbox().cg.create(inst.id, fn.MemoryMB)
		if err != nil {
			if spare != nil {
				spare.stop()
			}
			inst.cleanup()
			inst.refillSpares()
			return nil, fmt.Errorf("runtime: %w", err)
		}
		inst.cg, place = cg, cg
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		if spare != nil {
			spare.stop()
		}
		inst.cleanup()
		inst.refillSpares()
		return nil, fmt.Errorf("runtime: output pipe: %w", err)
	}
	inst.started = time.Now()
	proc, err := p.sandbox().start(&spawnSpec{
		argv: fp.argv, env: env, dir: fp.dir, keep: fp.keep, hide: fp.hide, root: fp.root,
		tmpMB: fn.EphemeralMB, noNetwork: ownNet, ports: ports, output: pw,
	}, inst.cg, place, spare)
	pw.Close()
	if err != nil {
		pr.Close()
		inst.cleanup()
		inst.refillSpares()
		return nil, fmt.Errorf("runtime: start instance of %s: %w", fn.Name, err)
	}
	inst.proc = proc
	if proc.listener != nil {
		inst.ln = proc.listener
	}
	if sandboxNet {
		n := len(proc.ports) - 1
		inst.net = serveSandboxNet(p.net, ports[:n], proc.ports[:n], proc.ports[n])
	}
	inst.logs = newLogReader(inst, pr)
	inst.srv = &http.Server{Handler: inst, ErrorLog: log.New(io.Discard, "", 0)}

	p.mu.Lock()
	fp.all[inst] = struct{}{}
	closed := p.closed
	p.mu.Unlock()
	fp.m.coldStarts.Inc()
	running = true
	p.wg.Add(3)
	go func() {
		defer p.wg.Done()
		inst.srv.Serve(inst.ln)
	}()
	go func() {
		defer p.wg.Done()
		inst.logs.run()
	}()
	go func() {
		defer p.wg.Done()
		inst.wait()
	}()
	if closed {
		inst.kill()
		return nil, ErrClosed
	}
	return inst, nil
}

// refillSpares tops the spare inits up once, after the cold start that took one has answered
// (or failed): see spareInits.claim.
func (inst *instance) refillSpares() {
	if inst.spare.Swap(false) {
		inst.pool.spares.refill()
	}
}

// wait reaps the process and tears the instance down.
func (inst *instance) wait() {
	err := inst.proc.cmd.Wait()
	if inst.cg != nil {
		inst.oom = inst.cg.oomKilled()
	}
	inst.exitErr = err
	close(inst.dead)
	inst.endInit()
	inst.refillSpares()
	inst.srv.Close()
	if inv := inst.cur.Load(); inv != nil {
		inst.crashed(inv)
	}
	inst.pool.instanceGone(inst)
	inst.cleanup()
}

// endInit gives back the instance's start once its init is over: ready, or dead.
func (inst *instance) endInit() {
	inst.initOnce.Do(func() { inst.pool.initEnded(inst.fp) })
}

// cleanup releases the instance's host resources.
func (inst *instance) cleanup() {
	inst.closeListener()
	if inst.cg != nil {
		inst.cg.remove()
	}
	if inst.dir != "" {
		os.RemoveAll(inst.dir)
	}
}

func (inst *instance) closeListener() {
	if inst.ln != nil {
		inst.ln.Close()
	}
	if inst.net != nil {
		inst.net.close()
	}
}

// kill ends the instance's whole sandbox.
func (inst *instance) kill() {
	inst.killOnce.Do(func() {
		if inst.proc != nil {
			killGroup(inst.proc.cmd.Process.Pid)
		}
	})
}

func (inst *instance) isDead() bool {
	select {
	case <-inst.dead:
		return true
	default:
		return false
	}
}

// invoke runs req on the instance.
func (inst *instance) invoke(ctx context.Context, req *Request) (*Result, error) {
	fp, p := inst.fp, inst.pool
	inv := &invocation{req: req, inst: inst, done: make(chan struct{})}
	if !inst.coldUsed {
		inst.coldUsed = true
		inv.cold = true
		if fail := inst.awaitReady(ctx); fail != nil {
			inst.kill()
			p.release(inst, false)
			if fail == errCtx {
				return nil, ctx.Err()
			}
			return nil, fail
		}
	}
	deliver := time.NewTimer(fp.fn.Timeout)
	select {
	case inst.next <- inv:
		deliver.Stop()
	case <-inst.dead:
		deliver.Stop()
		p.release(inst, false)
		if inv.cold {
			return nil, inst.initFailure(time.Since(inst.started))
		}
		return nil, errInstanceGone
	case <-deliver.C:
		// The runtime never asked for the next event: it is stuck, as good as timed out.
		inv.start = time.Now().Add(-fp.fn.Timeout)
		inst.pool.log.Warn("function runtime did not ask for the next event", "function", fp.fn.Name)
		inst.cur.Store(inv)
		inst.timeout(inv)
	case <-ctx.Done():
		deliver.Stop()
		p.release(inst, true)
		return nil, ctx.Err()
	}
	select {
	case <-inv.done:
		return &inv.res, nil
	case <-ctx.Done():
		// The invocation runs on, as in Lambda; the instance is released when it ends.
		return nil, ctx.Err()
	}
}

// errCtx marks a wait cut short by the caller's context.
var errCtx = &initFailure{errType: "context"}

// awaitReady waits for the instance's first /next, its death or the init timeout.
func (inst *instance) awaitReady(ctx context.Context) *initFailure {
	limit := inst.pool.cfg.InitTimeout
	t := time.NewTimer(limit - time.Since(inst.started))
	defer t.Stop()
	select {
	case <-inst.ready:
		inst.pool.metrics.initSeconds.Observe(inst.readyAt.Sub(inst.started).Seconds())
		return nil
	case <-inst.dead:
		return inst.initFailure(time.Since(inst.started))
	case <-t.C:
		inst.fp.m.initTimeouts.Inc()
		p := inst.pool
		p.mu.Lock()
		starting, waiting := p.starting, len(p.waiters)
		p.mu.Unlock()
		p.log.Warn("function init timed out", "function", inst.fp.fn.Name, "version", inst.fp.fn.Version,
			"timeout", limit, "memory_mb", inst.fp.fn.MemoryMB, "inits_in_progress", starting, "waiting_invocations", waiting)
		return &initFailure{errType: errTimeout, stream: inst.stream, dur: limit,
			msg: "Error: Task timed out after " + strconv.FormatFloat(limit.Seconds(), 'f', 2, 64) + " seconds"}
	case <-ctx.Done():
		return errCtx
	}
}

// initFailure describes why an instance that has exited failed to start.
func (inst *instance) initFailure(d time.Duration) *initFailure {
	if f := inst.initErr.Load(); f != nil {
		f.dur, f.stream = d, inst.stream
		return f
	}
	f := &initFailure{errType: errExit, dur: d, stream: inst.stream, msg: "Error: " + exitText(inst.exitErr)}
	if inst.oom {
		f.errType = errOutOfMemory
	}
	return f
}

// exitText is how Lambda words a runtime's exit.
func exitText(err error) string {
	if err == nil {
		return "Runtime exited without providing a reason"
	}
	return "Runtime exited with error: " + err.Error()
}

// begin is called by /next when it hands inv to the runtime: the invoke phase starts.
func (inst *instance) begin(inv *invocation) time.Time {
	timeout := inst.fp.fn.Timeout
	inv.mu.Lock()
	inv.start = time.Now()
	inst.cur.Store(inv)
	inv.timer = time.AfterFunc(timeout, func() { inst.timeout(inv) })
	inv.mu.Unlock()
	if inv.req.Tail || inst.pool.ship.enabled() {
		inst.emit(inv, startLine(inv.req.RequestID, inst.fp.fn.Version))
	}
	return inv.start.Add(timeout)
}

// emit records a platform log line for inv.
func (inst *instance) emit(inv *invocation, line string) {
	if inv.req.Tail {
		inst.logs.mu.Lock()
		inv.appendTail(line)
		inst.logs.mu.Unlock()
	}
	inst.pool.ship.add(inst.logKey, LogEvent{Time: time.Now(), Message: line})
}

// claim marks inv finished; only the first caller proceeds to finish it.
func (inv *invocation) claim() bool {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	if inv.finished {
		return false
	}
	inv.finished = true
	if inv.timer != nil {
		inv.timer.Stop()
	}
	return true
}

// timeout ends inv at its deadline and kills the instance.
func (inst *instance) timeout(inv *invocation) {
	if !inv.claim() {
		return
	}
	inst.kill()
	timeout := inst.fp.fn.Timeout
	msg := timeoutMessage(time.Now(), inv.req.RequestID, timeout)
	inst.emit(inv, msg+"\n")
	inst.finish(inv, Result{
		Payload: timeoutPayload(msg), FunctionError: unhandled, ErrorType: errTimeout,
		Duration: timeout,
	}, "timeout", false)
}

// crashed ends inv because the process exited under it.
func (inst *instance) crashed(inv *invocation) {
	if !inv.claim() {
		return
	}
	errType := errExit
	if inst.oom {
		errType = errOutOfMemory
	}
	res := Result{
		Payload:       errorPayload(errType, "RequestId: "+inv.req.RequestID+" Error: "+exitText(inst.exitErr)),
		FunctionError: unhandled, ErrorType: errType,
		Duration: time.Since(inv.start),
	}
	inst.finish(inv, res, "error", false)
}

// finish completes inv with res: platform log lines, metering, release, wake the caller.
func (inst *instance) finish(inv *invocation, res Result, status string, reuse bool) {
	fp, p := inst.fp, inst.pool
	if res.Duration == 0 {
		res.Duration = time.Since(inv.start)
	}
	res.MemoryMB = fp.fn.MemoryMB
	res.MaxMemoryMB = inst.maxMemoryMB()
	if inv.cold {
		res.ColdStart = true
		res.InitDuration = inst.readyAt.Sub(inst.started)
	}
	res.BilledDuration = billed(res.Duration + res.InitDuration)
	if status != "timeout" {
		inst.logs.sync()
	}
	if inv.req.Tail || p.ship.enabled() {
		inst.emit(inv, endLine(inv.req.RequestID))
		inst.emit(inv, reportLine(inv.req.RequestID, &res, status))
	}
	if inv.req.Tail {
		inst.logs.mu.Lock()
		res.LogTail = append([]byte(nil), lastBytes(inv.tail, tailBytes)...)
		inst.logs.mu.Unlock()
	}
	if inv.cold {
		defer inst.refillSpares() // after the cold start has answered
	}
	inst.cur.CompareAndSwap(inv, nil)
	switch {
	case status == "timeout":
		fp.m.timeouts.Inc()
	case res.FunctionError != "":
		fp.m.errors.Inc()
	default:
		fp.m.success.Inc()
	}
	fp.m.billedMS.Add(float64(res.BilledDuration / time.Millisecond))
	inv.res = res
	p.release(inst, reuse)
	close(inv.done)
}

// maxMemoryMB is the instance's peak memory use in MB, from its cgroup or, without one, the
// process's high-water mark.
func (inst *instance) maxMemoryMB() int {
	var b int64
	if inst.cg != nil {
		b = inst.cg.peakBytes()
	}
	if b == 0 && inst.proc != nil {
		b = vmHWM(inst.proc.cmd.Process.Pid)
	}
	return int((b + 1<<20 - 1) >> 20)
}

// vmHWM reads a process's peak resident set size.
func vmHWM(pid int) int64 {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(data)) {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// newStreamName is a Lambda log stream name: YYYY/MM/DD/[version]<32 hex>.
func newStreamName(version string) string { return newStreamNameID(version, randomHex(16)) }

func newStreamNameID(version, id string) string {
	return time.Now().UTC().Format("2006/01/02") + "/[" + version + "]" + id
}

// withStream attaches a log stream to an init failure.
func withStream(err error, stream string) error {
	var f *initFailure
	if errors.As(err, &f) {
		c := *f
		c.stream = stream
		return &c
	}
	return err
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
