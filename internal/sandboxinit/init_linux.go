// Package sandboxinit is the init of a function's sandbox: the process Kiri re-executes itself
// as, in new namespaces, to build the sandbox (its root, its network, its identity, its syscall
// filter) and then execute the function's program in place of itself.
//
// The init runs from this package's init function, before the packages it does not depend on
// are initialised: most of Kiri's (and their dependencies') package initialisation is work the
// init would throw away, and a spare init costs that CPU once per cold start. The package
// therefore depends on the standard library and golang.org/x/sys/unix only, and Kiri's side of
// the protocol (the spec, the root plan, the frames) lives here too.
package sandboxinit

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	goruntime "runtime"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Env marks a process as a sandbox init; its value is the control socket's fd number.
const Env = "KIRI_SANDBOX_INIT"

// ctrlFD is the control socket's descriptor in the sandbox init (ExtraFiles[0]).
const ctrlFD = 3

// RuntimeAPIPort is where the Runtime API listens inside a network-less sandbox.
const RuntimeAPIPort = 9001

// Spec is what Kiri hands a sandbox init over its control socket.
type Spec struct {
	// Probe makes the init set everything up and report instead of executing a program.
	Probe bool `json:"probe,omitempty"`
	// Argv is the program to execute and its arguments; Argv[0] is an absolute path.
	Argv []string `json:"argv,omitempty"`
	Env  []string `json:"env,omitempty"`
	// Dir is the working directory.
	Dir string `json:"dir,omitempty"`
	// Mount asks for the mount namespace set-up: private /tmp, hidden paths, read-only keeps.
	Mount bool `json:"mount,omitempty"`
	// TmpMB sizes the private /tmp.
	TmpMB int `json:"tmpMB,omitempty"`
	// Keep are paths that stay visible, read-only, after Hide paths are covered.
	Keep []string `json:"keep,omitempty"`
	// Hide are paths covered with an empty read-only tmpfs.
	Hide []string `json:"hide,omitempty"`
	// Proc mounts a fresh /proc for the pid namespace.
	Proc bool `json:"proc,omitempty"`
	// Listen brings lo up in the new network namespace, listens on 127.0.0.1:9001 and on
	// 127.0.0.1 at each of Ports, and hands the listeners to Kiri over the control socket.
	Listen bool  `json:"listen,omitempty"`
	Ports  []int `json:"ports,omitempty"`
	// Root, when set, replaces Mount, Keep and Hide: the instance gets a minimal root of its
	// own holding only what the plan lists, its /tmp and, with Proc, its /proc.
	Root *RootPlan `json:"root,omitempty"`
	// UserNS reports that the init runs in a user namespace: what it creates in the new root
	// is owned by UID and GID, and with NoSetgroups the host denied setgroups (an unprivileged
	// Kiri).
	UserNS      bool `json:"userns,omitempty"`
	NoSetgroups bool `json:"noSetgroups,omitempty"`
	// Seccomp installs the syscall filter (after no_new_privs).
	Seccomp bool `json:"seccomp,omitempty"`
	// UID and GID, when non-negative, are switched to before exec (with no supplementary
	// groups), dropping every capability.
	UID int `json:"uid"`
	GID int `json:"gid"`
}

func init() {
	if os.Getenv(Env) != "" {
		run()
	}
}

// run is the sandbox init; it never returns.
func run() {
	// no_new_privs is per thread and must be set on the thread that installs the filter.
	goruntime.LockOSThread()
	ctrl := os.NewFile(ctrlFD, "ctrl")
	err := runInit(ctrl)
	// runInit only returns on failure or after a probe.
	if err != nil {
		msg := []byte("error: " + err.Error())
		WriteFrame(ctrl, msg)
		fmt.Fprintf(os.Stderr, "kiri sandbox: %v\n", err)
		os.Exit(127)
	}
	os.Exit(0)
}

// PreludeEnv carries an init's prelude (JSON).
const PreludeEnv = "KIRI_SANDBOX_PRELUDE"

// Prelude is the part of a sandbox init's set-up that is the same for every function: the
// listeners of its network namespace and the shared part of its root. The init does it as soon
// as it starts, before it reads its spec, so a spare has it done while it waits and a cold
// start pays only for the rest.
type Prelude struct {
	// Ports are listened on at 127.0.0.1, with lo brought up, in the init's own network
	// namespace.
	Ports []int `json:"ports,omitempty"`
	// Root, when set, is staged (see stageRoot) over Stage, with /proc when Proc is set; FsUID and FsGID
	// (when non-negative) own what the init creates.
	Root  *RootPlan `json:"root,omitempty"`
	Stage string    `json:"stage,omitempty"`
	Proc  bool      `json:"proc,omitempty"`
	FsUID int       `json:"fsUID"`
	FsGID int       `json:"fsGID"`
}

// prepared is what an init's prelude left ready.
type prepared struct {
	loUp      bool
	listeners map[int]int // port → listening socket
	root      *stagedRoot
}

// runPrelude does the prelude the environment carries, if any.
func runPrelude() (*prepared, error) {
	pre := &prepared{listeners: map[int]int{}}
	raw := os.Getenv(PreludeEnv)
	if raw == "" {
		return pre, nil
	}
	var p Prelude
	if err := json.Unmarshal([]byte(raw), &p); err != nil {
		return pre, fmt.Errorf("decode prelude: %w", err)
	}
	if len(p.Ports) > 0 {
		if err := bringLoUp(); err != nil {
			return pre, err
		}
		pre.loUp = true
		for _, port := range p.Ports {
			fd, err := listenLoopback(port)
			if err != nil {
				return pre, err
			}
			pre.listeners[port] = fd
		}
	}
	if p.Root != nil {
		st, err := stageRoot(p.Stage, p.Root, p.Proc, p.FsUID, p.FsGID)
		if err != nil {
			return pre, err
		}
		pre.root = st
	}
	return pre, nil
}

// release closes what the spec did not use. The function's program must not inherit any of it.
func (pre *prepared) release() {
	for port, fd := range pre.listeners {
		unix.Close(fd)
		delete(pre.listeners, port)
	}
	if pre.root != nil {
		pre.root.release()
	}
}

// runInit reads the spec and builds the sandbox, then execs the program (or reports for a
// probe).
func runInit(ctrl *os.File) error {
	pre, preErr := runPrelude()
	defer pre.release()
	raw, err := readSpec(ctrl)
	if err != nil {
		return fmt.Errorf("read spec: %w", err)
	}
	if preErr != nil {
		return preErr
	}
	var spec Spec
	if err := json.Unmarshal(raw, &spec); err != nil {
		return fmt.Errorf("decode spec: %w", err)
	}
	switch {
	case spec.Root != nil:
		st := pre.root
		if st == nil {
			fsUID, fsGID := -1, -1
			if spec.UserNS {
				fsUID, fsGID = spec.UID, spec.GID
			}
			if st, err = stageRoot("", nil, spec.Proc, fsUID, fsGID); err != nil {
				return err
			}
		}
		pre.root = nil
		if err := st.finish(spec.Root, spec.TmpMB); err != nil {
			return err
		}
	case pre.root != nil:
		return errors.New("a root was staged for an instance without one")
	case spec.Mount:
		if err := setupMounts(&spec); err != nil {
			return err
		}
	}
	if spec.Listen {
		if err := handOverListeners(ctrl, append([]int{RuntimeAPIPort}, spec.Ports...), pre); err != nil {
			return err
		}
	}
	pre.release()
	if spec.Dir != "" {
		if err := unix.Chdir(spec.Dir); err != nil {
			return fmt.Errorf("chdir %s: %w", spec.Dir, err)
		}
	}
	if spec.GID >= 0 && spec.UID >= 0 {
		if err := dropPrivileges(spec.UID, spec.GID, !spec.NoSetgroups); err != nil {
			return err
		}
	}
	if err := clearCapabilities(); err != nil {
		return err
	}
	if spec.Seccomp {
		if err := installSeccomp(); err != nil {
			return err
		}
	}
	if spec.Probe {
		return WriteFrame(ctrl, []byte("ok"))
	}
	syscall.CloseOnExec(ctrlFD)
	err = execRetryingBusy(spec.Argv, spec.Env)
	return fmt.Errorf("exec %s: %w", spec.Argv[0], err)
}

// execRetryingBusy execs argv, waiting out ETXTBSY for up to two seconds. A process that
// forks while Kiri holds a just-extracted executable open for writing (another function's
// code, in any goroutine) carries that descriptor until it execs in turn, and for that
// moment the kernel refuses to run the file (golang/go#22315).
func execRetryingBusy(argv, env []string) error {
	deadline := time.Now().Add(2 * time.Second)
	for {
		err := syscall.Exec(argv[0], argv, env)
		if err != syscall.ETXTBSY || time.Now().After(deadline) {
			return err
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// readSpec reads the spec frame. A descriptor sent with it (a pre-started spare init learns
// its instance's output pipe this way) becomes stdout and stderr.
func readSpec(ctrl *os.File) ([]byte, error) {
	var hdr [4]byte
	oob := make([]byte, unix.CmsgSpace(4))
	var n, oobn int
	var err error
	for {
		n, oobn, _, _, err = unix.Recvmsg(ctrlFD, hdr[:], oob, unix.MSG_CMSG_CLOEXEC)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, io.EOF
	}
	if oobn > 0 {
		if err := adoptOutput(oob[:oobn]); err != nil {
			return nil, err
		}
	}
	if _, err := io.ReadFull(ctrl, hdr[n:]); err != nil {
		return nil, err
	}
	size := binary.BigEndian.Uint32(hdr[:])
	if size > 16<<20 {
		return nil, errors.New("frame too large")
	}
	p := make([]byte, size)
	_, err = io.ReadFull(ctrl, p)
	return p, err
}

// adoptOutput makes the descriptor in a control message stdout and stderr.
func adoptOutput(oob []byte) error {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil || len(msgs) == 0 {
		return fmt.Errorf("parse output message: %v", err)
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) == 0 {
		return fmt.Errorf("parse output rights: %v", err)
	}
	for _, target := range []int{1, 2} {
		if err := unix.Dup3(fds[0], target, 0); err != nil {
			return fmt.Errorf("output to fd %d: %w", target, err)
		}
	}
	unix.Close(fds[0])
	return nil
}

// setupMounts gives the sandbox a private /tmp, covers hidden paths and re-attaches the kept
// ones read-only. Kept trees are cloned before anything is covered so they survive it.
func setupMounts(spec *Spec) error {
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make / private: %w", err)
	}
	keeps := make([]int, len(spec.Keep))
	for i, p := range spec.Keep {
		fd, err := unix.OpenTree(unix.AT_FDCWD, p, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_RECURSIVE)
		if err != nil {
			return fmt.Errorf("clone %s: %w", p, err)
		}
		attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV}
		if err := unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH|unix.AT_RECURSIVE, &attr); err != nil {
			return fmt.Errorf("make %s read-only: %w", p, err)
		}
		keeps[i] = fd
	}
	tmpOpts := "mode=1777,size=" + strconv.Itoa(max(spec.TmpMB, 1)) + "m"
	if err := unix.Mount("tmpfs", "/tmp", "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, tmpOpts); err != nil {
		return fmt.Errorf("mount /tmp: %w", err)
	}
	hideOpts := "mode=755,size=1m"
	if spec.UserNS {
		// Kiri's own identity has no name in the namespace: what the init creates from here on
		// belongs to the function's.
		hideOpts += fmt.Sprintf(",uid=%d,gid=%d", spec.UID, spec.GID)
	}
	for _, p := range spec.Hide {
		if fi, err := os.Stat(p); err != nil || !fi.IsDir() {
			continue // already gone from view (e.g. under the new /tmp)
		}
		if err := unix.Mount("tmpfs", p, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, hideOpts); err != nil {
			return fmt.Errorf("hide %s: %w", p, err)
		}
	}
	if spec.UserNS {
		unix.Setfsgid(spec.GID)
		unix.Setfsuid(spec.UID)
	}
	for i, p := range spec.Keep {
		if err := os.MkdirAll(p, 0o755); err != nil {
			return fmt.Errorf("mount point %s: %w", p, err)
		}
		if err := unix.MoveMount(keeps[i], "", unix.AT_FDCWD, p, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
			return fmt.Errorf("attach %s: %w", p, err)
		}
		unix.Close(keeps[i])
	}
	if spec.Proc {
		if err := unix.Mount("proc", "/proc", "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
			return fmt.Errorf("mount /proc: %w", err)
		}
	}
	return nil
}

// handOverListeners sends Kiri listening sockets on 127.0.0.1 at each port of the sandbox's
// network namespace, in order: those the prelude opened, and new ones for the rest.
func handOverListeners(ctrl *os.File, ports []int, pre *prepared) error {
	if !pre.loUp {
		if err := bringLoUp(); err != nil {
			return err
		}
		pre.loUp = true
	}
	fds := make([]int, 0, len(ports))
	defer func() { closeAll(fds) }()
	for _, port := range ports {
		fd, ok := pre.listeners[port]
		delete(pre.listeners, port)
		if !ok {
			var err error
			if fd, err = listenLoopback(port); err != nil {
				return err
			}
		}
		fds = append(fds, fd)
	}
	rights := unix.UnixRights(fds...)
	if err := unix.Sendmsg(int(ctrl.Fd()), []byte{0, 0, 0, 1, 'L'}, rights, nil, 0); err != nil {
		return fmt.Errorf("send listeners: %w", err)
	}
	return nil
}

// bringLoUp brings the loopback interface of the init's network namespace up.
func bringLoUp() error {
	s, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("socket: %w", err)
	}
	defer unix.Close(s)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return fmt.Errorf("ifreq lo: %w", err)
	}
	if err := unix.IoctlIfreq(s, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("get lo flags: %w", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(s, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("bring lo up: %w", err)
	}
	return nil
}

// listenLoopback returns a socket listening on 127.0.0.1:port.
func listenLoopback(port int) (int, error) {
	ln, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("listen socket: %w", err)
	}
	if err := unix.SetsockoptInt(ln, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
		unix.Close(ln)
		return -1, fmt.Errorf("reuseaddr: %w", err)
	}
	if err := unix.Bind(ln, &unix.SockaddrInet4{Port: port, Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		unix.Close(ln)
		return -1, fmt.Errorf("bind 127.0.0.1:%d: %w", port, err)
	}
	if err := unix.Listen(ln, 64); err != nil {
		unix.Close(ln)
		return -1, fmt.Errorf("listen: %w", err)
	}
	return ln, nil
}

// dropPrivileges switches to uid/gid with no supplementary groups; a non-root uid loses every
// capability on the switch. Only the calling thread switches (syscall.Setresuid would signal
// every thread of the init, which costs half a millisecond): the init's OS thread is locked and
// execs next, and the exec ends every other thread, which only ever ran the init's own code.
func dropPrivileges(uid, gid int, setgroups bool) error {
	// An unprivileged Kiri's user namespace denies setgroups; the host's groups then stay,
	// unmapped (they show as the overflow group).
	if setgroups {
		if _, _, errno := unix.RawSyscall(unix.SYS_SETGROUPS, 0, 0, 0); errno != 0 {
			return fmt.Errorf("setgroups: %w", errno)
		}
	}
	if _, _, errno := unix.RawSyscall(unix.SYS_SETRESGID, uintptr(gid), uintptr(gid), uintptr(gid)); errno != 0 {
		return fmt.Errorf("setresgid %d: %w", gid, errno)
	}
	if _, _, errno := unix.RawSyscall(unix.SYS_SETRESUID, uintptr(uid), uintptr(uid), uintptr(uid)); errno != 0 {
		return fmt.Errorf("setresuid %d: %w", uid, errno)
	}
	return nil
}

// clearCapabilities drops the ambient capabilities the init was started with (they would
// otherwise survive the exec of the function's program) and every other capability of the
// calling thread.
func clearCapabilities() error {
	if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); err != nil && err != unix.EINVAL {
		return fmt.Errorf("clear ambient capabilities: %w", err)
	}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return fmt.Errorf("clear capabilities: %w", err)
	}
	return nil
}

// WriteFrame writes one length-prefixed message.
func WriteFrame(w io.Writer, p []byte) error {
	buf := make([]byte, 4+len(p))
	binary.BigEndian.PutUint32(buf, uint32(len(p)))
	copy(buf[4:], p)
	_, err := w.Write(buf)
	return err
}

// ReadFrame reads one length-prefixed message.
func ReadFrame(r io.Reader) ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n > 16<<20 {
		return nil, errors.New("frame too large")
	}
	p := make([]byte, n)
	_, err := io.ReadFull(r, p)
	return p, err
}
