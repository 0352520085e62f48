package runtime

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/kiri-run/kiri/internal/sandboxinit"
	"golang.org/x/sys/unix"
)

// Lambda's sandbox user and group (sbx_user1051), as functions see them inside a user
// namespace.
const (
	sandboxUID = 993
	sandboxGID = 990
	// nobody is the host identity sandboxed functions run as when Kiri runs as root.
	nobody = 65534
)

// probeTimeout bounds one sandbox capability probe.
const probeTimeout = 5 * time.Second

// Features reports the isolation a Pool applies to instances.
type Features struct {
	// Init reports that instances start through the sandbox init.
	Init bool
	// UserNS, PIDNS, MountNS and NetNS report the namespaces instances get (NetNS only for
	// functions with NoNetwork).
	UserNS, PIDNS, MountNS, NetNS bool
	// Root reports that each instance gets a minimal root of its own (its code at /var/task,
	// its runtime, /tmp, /proc and a few system files) instead of the host's, with paths hidden.
	Root bool
	// Seccomp reports the syscall filter.
	Seccomp bool
	// Cgroup is "v2", "v1" or "" (no memory/CPU limits).
	Cgroup string
	// CPULimit and PidsLimit report the cpu and pids controllers.
	CPULimit, PidsLimit bool
	// DropPrivileges reports that functions run as an unprivileged user.
	DropPrivileges bool
}

// String lists the active features, e.g. "userns pidns mountns netns seccomp cgroup-v1 cpu pids".
func (f Features) String() string {
	var parts []string
	add := func(on bool, name string) {
		if on {
			parts = append(parts, name)
		}
	}
	add(f.UserNS, "userns")
	add(f.PIDNS, "pidns")
	add(f.MountNS, "mountns")
	add(f.NetNS, "netns")
	add(f.Root, "rootfs")
	add(f.Seccomp, "seccomp")
	add(f.Cgroup != "", "cgroup-"+f.Cgroup)
	add(f.CPULimit, "cpu")
	add(f.PidsLimit, "pids")
	add(f.DropPrivileges, "unprivileged")
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, " ")
}

// initCapabilities are what a sandbox init in a user namespace keeps to build the sandbox:
// mounts, the switch to the function's identity and bringing lo up.
var initCapabilities = []uintptr{unix.CAP_SYS_ADMIN, unix.CAP_SETUID, unix.CAP_SETGID, unix.CAP_NET_ADMIN}

// sandbox starts instance processes with the isolation detected at New.
type sandbox struct {
	feat Features
	// spareNet starts spare inits in a network namespace of their own: instances get the
	// sandboxed network by default.
	spareNet bool
	// netPorts are the ports a spare with a network namespace listens on ahead of its spec:
	// the Runtime API's, the forwarded ones and the proxy's.
	netPorts []int
	// base is the part of the minimal root every instance shares (with Root).
	base   *sandboxinit.RootPlan
	exe    string
	cg     *cgroupRoot
	flags  uintptr // namespaces every instance gets (without CLONE_NEWNET)
	uidMap []syscall.SysProcIDMap
	gidMap []syscall.SysProcIDMap
	uid    int // switched to before exec; -1 keeps the init's
	gid    int
}

// spawnSpec describes one instance process.
type spawnSpec struct {
	argv      []string
	env       []string
	dir       string
	keep      []string
	hide      []string
	tmpMB     int
	noNetwork bool
	output    *os.File
	// root is the instance's own root, used when the sandbox has Root (keep and hide otherwise).
	root *sandboxinit.RootPlan
	// ports are loopback ports listened on in the instance's network namespace (noNetwork),
	// besides the Runtime API.
	ports []int
}

// spawned is a started instance process.
type spawned struct {
	cmd      *exec.Cmd
	listener net.Listener   // the Runtime API listener inside a sandbox's own network namespace
	ports    []net.Listener // the listeners on spawnSpec.ports there
}

// newSandbox detects, once, which isolation this host allows.
func newSandbox(mode SandboxMode, name string, log *slog.Logger) *sandbox {
	s := &sandbox{uid: -1, gid: -1}
	if mode == SandboxOff {
		return s
	}
	if cg, err := setupCgroups(name); err != nil {
		log.Warn("function sandbox: no cgroup memory limits", "err", err)
	} else {
		s.cg = cg
		s.feat.Cgroup = cg.name()
		s.feat.CPULimit = cg.cpu != ""
		s.feat.PidsLimit = cg.pids != ""
	}
	exe, err := os.Executable()
	if err != nil {
		log.Warn("function sandbox: no executable to re-execute", "err", err)
		return s
	}
	s.exe = exe
	s.detect(log)
	return s
}

// attempt is one combination of isolation features to probe.
type attempt struct {
	userns, ns, netns bool
}

// detect probes namespace/seccomp combinations from strongest to weakest and keeps the first
// the host allows.
func (s *sandbox) detect(log *slog.Logger) {
	root := os.Getuid() == 0
	attempts := []attempt{{userns: true, ns: true, netns: true}, {userns: true, ns: true}}
	if root {
		attempts = append(attempts, attempt{ns: true, netns: true}, attempt{ns: true})
	}
	attempts = append(attempts, attempt{})
	var firstErr error
	for _, a := range attempts {
		cand := s.configure(a, root)
		err := cand.probe(a.netns, true)
		if err != nil && a == (attempt{}) {
			err = cand.probe(false, false) // a host without seccomp still gets cgroups
		} else if err == nil {
			cand.feat.Seccomp = true
		}
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		cand.feat.Init = true
		if cand.feat.MountNS {
			cand.base = sandboxinit.NewRootPlan().Finish()
			if err := cand.probeRoot(); err != nil {
				log.Warn("function sandbox: no minimal root, hiding host paths instead", "err", err)
			} else {
				cand.feat.Root = true
			}
		}
		*s = *cand
		if firstErr != nil {
			log.Debug("function sandbox: stronger isolation refused", "err", firstErr)
		}
		return
	}
	log.Warn("function sandbox: sandbox init unavailable, running plain processes", "err", firstErr)
}

// configure returns a copy of s set up for one attempt.
func (s *sandbox) configure(a attempt, root bool) *sandbox {
	c := *s
	c.flags, c.uidMap, c.gidMap, c.uid, c.gid = 0, nil, nil, -1, -1
	c.feat.UserNS, c.feat.PIDNS, c.feat.MountNS, c.feat.NetNS, c.feat.DropPrivileges = false, false, false, false, false
	if a.ns {
		c.flags |= unix.CLONE_NEWPID | unix.CLONE_NEWNS
		c.feat.PIDNS, c.feat.MountNS = true, true
	}
	c.feat.NetNS = a.netns
	switch {
	case a.userns && root:
		// Only the function's own identity is mapped: host root has no name inside, so
		// nothing in the sandbox can act as it. The init keeps what it needs to build the
		// sandbox as ambient capabilities, and drops them before it executes the function.
		c.flags |= unix.CLONE_NEWUSER
		c.feat.UserNS = true
		c.uidMap = []syscall.SysProcIDMap{{ContainerID: sandboxUID, HostID: nobody, Size: 1}}
		c.gidMap = []syscall.SysProcIDMap{{ContainerID: sandboxGID, HostID: nobody, Size: 1}}
		c.uid, c.gid = sandboxUID, sandboxGID
		c.feat.DropPrivileges = true
	case a.userns:
		// Unprivileged: the function runs as Kiri's own user, which is all the namespace maps.
		c.flags |= unix.CLONE_NEWUSER
		c.feat.UserNS = true
		c.uidMap = []syscall.SysProcIDMap{{ContainerID: sandboxUID, HostID: os.Getuid(), Size: 1}}
		c.gidMap = []syscall.SysProcIDMap{{ContainerID: sandboxGID, HostID: os.Getgid(), Size: 1}}
		c.uid, c.gid = sandboxUID, sandboxGID
	case root:
		c.uid, c.gid = nobody, nobody
		c.feat.DropPrivileges = true
	}
	return &c
}

// probeRoot checks that instances can get a minimal root of their own.
func (s *sandbox) probeRoot() error {
	c := *s
	c.feat.Root = true
	return c.probe(false, c.feat.Seccomp)
}

// probe starts a sandbox init that sets everything up and reports instead of executing.
func (s *sandbox) probe(netns, seccomp bool) error {
	ctx, cancel := context.WithTimeout(context.Background(), probeTimeout)
	defer cancel()
	tmp, err := os.MkdirTemp("", "kiri-probe-")
	if err != nil {
		return fmt.Errorf("probe dir: %w", err)
	}
	defer os.RemoveAll(tmp)
	keep := filepath.Join(tmp, "keep")
	if err := os.Mkdir(keep, 0o755); err != nil {
		return fmt.Errorf("probe dir: %w", err)
	}
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer devnull.Close()
	sp := &spawnSpec{dir: keep, keep: []string{keep}, hide: []string{tmp}, tmpMB: 1, noNetwork: netns, output: devnull}
	if s.feat.Root {
		sp.dir = taskRoot
		sp.root = &sandboxinit.RootPlan{Binds: slices.Clone(s.base.Binds), Links: slices.Clone(s.base.Links)}
		sp.root.Bind(realPath(keep), taskRoot)
		sp.root.Finish()
	}
	spec := s.initSpec(sp)
	spec.Probe, spec.Seccomp = true, seccomp
	cmd, ctrl, err := s.startInit(sp, spec, nil)
	if err != nil {
		return err
	}
	defer ctrl.Close()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	ctrl.SetReadDeadline(time.Now().Add(probeTimeout))
	var answer []byte
	if netns {
		if ln, err := receiveListener(ctrl); err != nil {
			answer = []byte(err.Error())
		} else {
			ln.Close()
		}
	}
	if answer == nil {
		answer, err = sandboxinit.ReadFrame(ctrl)
		if err != nil {
			answer = []byte("no answer: " + err.Error())
		}
	}
	select {
	case err := <-done:
		if string(answer) != "ok" {
			return fmt.Errorf("probe (%s): %s (%v)", s.flagNames(netns), answer, err)
		}
		return err
	case <-ctx.Done():
		cmd.Process.Kill()
		<-done
		return fmt.Errorf("probe (%s): timed out", s.flagNames(netns))
	}
}

func (s *sandbox) flagNames(netns bool) string {
	f := s.feat
	f.NetNS = netns
	return f.String()
}

// initSpec is the init's instructions for one instance.
func (s *sandbox) initSpec(sp *spawnSpec) *sandboxinit.Spec {
	spec := &sandboxinit.Spec{
		Argv: sp.argv, Env: sp.env, Dir: sp.dir, UID: s.uid, GID: s.gid, Seccomp: s.feat.Seccomp,
		UserNS: s.feat.UserNS, NoSetgroups: s.feat.UserNS && os.Getuid() != 0,
	}
	if s.feat.Root && sp.root != nil {
		spec.Root, spec.Proc, spec.TmpMB = sp.root, s.feat.PIDNS, sp.tmpMB
	} else if s.feat.MountNS {
		spec.Mount, spec.Proc, spec.TmpMB, spec.Keep, spec.Hide = true, s.feat.PIDNS, sp.tmpMB, sp.keep, sp.hide
	}
	spec.Listen = sp.noNetwork && s.feat.NetNS
	if spec.Listen {
		spec.Ports = sp.ports
	}
	return spec
}

// start starts an instance process in cg before it runs any function code. A spare init, when
// one is ready and the instance keeps the network, saves re-executing Kiri; place is the cgroup
// the spare still has to be moved into, nil when it already waits in cg.
func (s *sandbox) start(sp *spawnSpec, cg, place *instanceCgroup, spare *spareInit) (*spawned, error) {
	if !s.feat.Init {
		return s.startPlain(sp, cg)
	}
	spec := s.initSpec(sp)
	var cmd *exec.Cmd
	var ctrl *os.File
	if spare != nil && spare.netns == spec.Listen {
		if err := s.sendSpec(spare.cmd, spare.ctrl, spec, sp.output, place); err == nil {
			cmd, ctrl = spare.cmd, spare.ctrl
		}
		// Otherwise the spare died or could not be placed; sendSpec has reaped it. Start
		// afresh.
	} else if spare != nil {
		spare.stop()
	}
	if cmd == nil {
		var err error
		if cmd, ctrl, err = s.startInit(sp, spec, cg); err != nil {
			return nil, err
		}
	}
	defer ctrl.Close()
	out := &spawned{cmd: cmd}
	if spec.Listen {
		ctrl.SetReadDeadline(time.Now().Add(probeTimeout))
		lns, err := receiveListeners(ctrl, 1+len(spec.Ports))
		if err != nil {
			killGroup(cmd.Process.Pid)
			cmd.Wait()
			return nil, fmt.Errorf("sandbox listener: %w", err)
		}
		out.listener, out.ports = lns[0], lns[1:]
	}
	return out, nil
}

// startInit re-executes this binary as the sandbox init and sends it the spec.
func (s *sandbox) startInit(sp *spawnSpec, spec *sandboxinit.Spec, cg *instanceCgroup) (*exec.Cmd, *os.File, error) {
	flags := s.flags
	if spec.Listen {
		flags |= unix.CLONE_NEWNET
	}
	ports := []int(nil)
	if spec.Listen {
		ports = append([]int{sandboxinit.RuntimeAPIPort}, spec.Ports...)
	}
	cmd, ctrl, err := s.launchInit(flags, sp.output, s.prelude(ports))
	if err != nil {
		return nil, nil, err
	}
	if err := s.sendSpec(cmd, ctrl, spec, nil, cg); err != nil {
		return nil, nil, err
	}
	return cmd, ctrl, nil
}

// prelude is the set-up an init can do before its spec arrives: listening on ports (in its own
// network namespace) and staging the shared part of the root.
func (s *sandbox) prelude(ports []int) *sandboxinit.Prelude {
	pre := &sandboxinit.Prelude{Ports: ports, FsUID: -1, FsGID: -1}
	if s.feat.Root && s.base != nil {
		pre.Root, pre.Proc, pre.Stage = s.base, s.feat.PIDNS, realPath("/tmp")
		if s.feat.UserNS {
			pre.FsUID, pre.FsGID = s.uid, s.gid
		}
	}
	return pre
}

// launchInit re-executes this binary as a sandbox init in new namespaces (flags). The init does
// pre and then waits for its spec on the returned control socket; output, when set, is its
// stdout and stderr.
func (s *sandbox) launchInit(flags uintptr, output *os.File, pre *sandboxinit.Prelude) (*exec.Cmd, *os.File, error) {
	prelude, err := json.Marshal(pre)
	if err != nil {
		return nil, nil, fmt.Errorf("encode sandbox prelude: %w", err)
	}
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("control socket: %w", err)
	}
	// Non-blocking, so reads on Kiri's end honour deadlines.
	if err := unix.SetNonblock(fds[0], true); err != nil {
		unix.Close(fds[0])
		unix.Close(fds[1])
		return nil, nil, fmt.Errorf("control socket: %w", err)
	}
	parent, child := os.NewFile(uintptr(fds[0]), "ctrl"), os.NewFile(uintptr(fds[1]), "ctrl-child")
	cmd := &exec.Cmd{
		Path: s.exe,
		// Package sandboxinit takes the process over before main. Should it ever not, a test
		// binary sees a filter matching nothing and kiri an unknown flag, and either exits
		// instead of starting a second server.
		Args: []string{"kiri-sandbox", "-test.run=^$"},
		// One P: the init only waits for its spec and execs, and every thread it has must
		// exit before that exec completes.
		Env:        []string{sandboxinit.Env + "=1", "GOMAXPROCS=1", sandboxinit.PreludeEnv + "=" + string(prelude)},
		ExtraFiles: []*os.File{child},
		SysProcAttr: &syscall.SysProcAttr{
			Cloneflags:                 flags,
			UidMappings:                s.uidMap,
			GidMappings:                s.gidMap,
			GidMappingsEnableSetgroups: len(s.gidMap) > 0 && os.Getuid() == 0,
			Setpgid:                    true,
		},
	}
	if flags&unix.CLONE_NEWUSER != 0 {
		// The init's identity is not root inside (root is not mapped), so it needs these
		// across its own exec to build the sandbox.
		cmd.SysProcAttr.AmbientCaps = initCapabilities
	}
	if output != nil {
		cmd.Stdout, cmd.Stderr = output, output
	}
	err = cmd.Start()
	child.Close()
	if err != nil {
		parent.Close()
		return nil, nil, fmt.Errorf("start sandbox init: %w", err)
	}
	return cmd, parent, nil
}

// sendSpec places a started init in cg and sends it the spec, with output to become its stdout
// and stderr when set. On failure the init is killed and reaped and ctrl closed.
func (s *sandbox) sendSpec(cmd *exec.Cmd, ctrl *os.File, spec *sandboxinit.Spec, output *os.File, cg *instanceCgroup) error {
	fail := func(err error) error {
		killGroup(cmd.Process.Pid)
		cmd.Wait()
		ctrl.Close()
		return err
	}
	raw, err := json.Marshal(spec)
	if err != nil {
		return fail(fmt.Errorf("encode sandbox spec: %w", err))
	}
	if cg != nil {
		if err := cg.add(cmd.Process.Pid); err != nil {
			return fail(err)
		}
	}
	frame := make([]byte, 4+len(raw))
	binary.BigEndian.PutUint32(frame, uint32(len(raw)))
	copy(frame[4:], raw)
	if output != nil {
		err = sendWithFD(ctrl, frame, int(output.Fd()))
	} else {
		_, err = ctrl.Write(frame)
	}
	if err != nil {
		return fail(fmt.Errorf("send sandbox spec: %w", err))
	}
	return nil
}

// sendWithFD writes p to the control socket with fd attached to its first bytes.
func sendWithFD(ctrl *os.File, p []byte, fd int) error {
	conn, err := ctrl.SyscallConn()
	if err != nil {
		return err
	}
	rights := unix.UnixRights(fd)
	var n int
	var werr error
	err = conn.Write(func(cfd uintptr) bool {
		n, werr = unix.SendmsgN(int(cfd), p, rights, nil, 0)
		return werr != unix.EAGAIN
	})
	if err == nil {
		err = werr
	}
	if err != nil {
		return err
	}
	if n < len(p) {
		_, err = ctrl.Write(p[n:])
	}
	return err
}

// startPlain starts the program directly: own process group, working directory and
// environment, and the cgroup when there is one.
func (s *sandbox) startPlain(sp *spawnSpec, cg *instanceCgroup) (*spawned, error) {
	cmd := &exec.Cmd{
		Path:        sp.argv[0],
		Args:        sp.argv,
		Env:         sp.env,
		Dir:         sp.dir,
		Stdout:      sp.output,
		Stderr:      sp.output,
		SysProcAttr: &syscall.SysProcAttr{Setpgid: true},
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	if cg != nil {
		if err := cg.add(cmd.Process.Pid); err != nil {
			cmd.Process.Kill()
			cmd.Wait()
			return nil, err
		}
	}
	return &spawned{cmd: cmd}, nil
}

// receiveListener receives the Runtime API listener a network-less sandbox init sends, or the
// init's error.
func receiveListener(ctrl *os.File) (net.Listener, error) {
	lns, err := receiveListeners(ctrl, 1)
	if err != nil {
		return nil, err
	}
	return lns[0], nil
}

// receiveListeners receives the n listening sockets a sandbox init with its own network
// namespace sends, or the init's error.
func receiveListeners(ctrl *os.File, n int) ([]net.Listener, error) {
	conn, err := ctrl.SyscallConn()
	if err != nil {
		return nil, err
	}
	// Read just the listener frame ("L"), so an error frame is left for readFrame.
	buf := make([]byte, 5)
	oob := make([]byte, unix.CmsgSpace(4*n))
	var got, oobn int
	var rerr error
	err = conn.Read(func(fd uintptr) bool {
		got, oobn, _, _, rerr = unix.Recvmsg(int(fd), buf, oob, unix.MSG_CMSG_CLOEXEC)
		return rerr != unix.EAGAIN
	})
	if err == nil {
		err = rerr
	}
	if err != nil {
		return nil, fmt.Errorf("receive listener: %w", err)
	}
	if oobn == 0 {
		if got < 5 {
			return nil, errors.New("sandbox init sent no listener")
		}
		size := int(binary.BigEndian.Uint32(buf[:4]))
		rest := make([]byte, max(size-1, 0))
		io.ReadFull(ctrl, rest)
		return nil, errors.New(string(buf[4:]) + string(rest))
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) == 0 {
		return nil, fmt.Errorf("parse listener message: %v", err)
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != n {
		for _, fd := range fds {
			unix.Close(fd)
		}
		return nil, fmt.Errorf("parse listener rights: %d of %d listeners (%v)", len(fds), n, err)
	}
	lns := make([]net.Listener, 0, n)
	for _, fd := range fds {
		f := os.NewFile(uintptr(fd), "runtime-api")
		ln, err := net.FileListener(f)
		f.Close()
		if err != nil {
			for _, l := range lns {
				l.Close()
			}
			return nil, err
		}
		lns = append(lns, ln)
	}
	return lns, nil
}

// kill ends an instance's whole sandbox: its process group, and with a pid namespace every
// process in it (they die with its init).
func killGroup(pid int) {
	unix.Kill(-pid, unix.SIGKILL)
	unix.Kill(pid, unix.SIGKILL)
}
