package sandboxinit

import (
	"fmt"
	"os"
	"path"
	goruntime "runtime"
	"slices"
	"strings"

	"golang.org/x/sys/unix"
)

// rootSystemFiles are the host files every instance root holds read-only: name resolution, CA
// certificates and time zone data. Paths missing on the host are left out.
var rootSystemFiles = []string{
	"/etc/resolv.conf", "/etc/hosts", "/etc/nsswitch.conf",
	"/etc/ssl/certs", "/etc/ssl/openssl.cnf", "/etc/pki/tls/certs", "/etc/pki/ca-trust",
	"/usr/share/ca-certificates", "/usr/share/zoneinfo",
}

// rootDevices are the device nodes every instance root holds (read-write).
var rootDevices = []string{"/dev/null", "/dev/zero", "/dev/random", "/dev/urandom"}

// RootBind attaches a host path at Dst in an instance's root: read-only, or read-write for a
// device node.
type RootBind struct {
	Src string `json:"src"`
	Dst string `json:"dst"`
	Dev bool   `json:"dev,omitempty"`
}

// RootLink is a symbolic link in an instance's root.
type RootLink struct {
	Path   string `json:"path"`
	Target string `json:"target"`
}

// RootPlan is the content of an instance's minimal root: everything else on the host is out of
// its sight.
type RootPlan struct {
	Binds []RootBind `json:"binds"`
	Links []RootLink `json:"links,omitempty"`
}

// NewRootPlan returns a plan holding the system files and devices every instance gets.
func NewRootPlan() *RootPlan {
	r := &RootPlan{}
	for _, p := range rootSystemFiles {
		r.Mirror(p)
	}
	for _, p := range rootDevices {
		if fi, err := os.Stat(p); err == nil && fi.Mode()&os.ModeDevice != 0 {
			r.Binds = append(r.Binds, RootBind{Src: p, Dst: p, Dev: true})
		}
	}
	return r
}

// Bind attaches the host path src at dst. The init resolves src without the host's root (part of
// it is covered by then), so src must be given with its symbolic links resolved.
func (r *RootPlan) Bind(src, dst string) {
	r.Binds = append(r.Binds, RootBind{Src: src, Dst: dst})
}

// Mirror makes the host path p visible at the same path, recreating the symbolic links on the
// way to it (e.g. /lib -> usr/lib) so that both spellings resolve. A missing path is skipped.
func (r *RootPlan) Mirror(p string) {
	resolved := "/"
	rest := splitPath(p)
	for hops := 0; len(rest) > 0; {
		next := path.Join(resolved, rest[0])
		rest = rest[1:]
		fi, err := os.Lstat(next)
		if err != nil {
			return
		}
		if fi.Mode()&os.ModeSymlink == 0 {
			resolved = next
			continue
		}
		if hops++; hops > 40 {
			return
		}
		target, err := os.Readlink(next)
		if err != nil {
			return
		}
		r.Links = append(r.Links, RootLink{Path: next, Target: target})
		if !path.IsAbs(target) {
			target = path.Join(resolved, target)
		}
		rest = append(splitPath(target), rest...)
		resolved = "/"
	}
	if resolved != "/" {
		r.Bind(resolved, resolved)
	}
}

func splitPath(p string) []string {
	var out []string
	for _, c := range strings.Split(path.Clean(p), "/") {
		if c != "" && c != "." {
			out = append(out, c)
		}
	}
	return out
}

// Finish drops binds covered by another bind and links that would land inside a bind (the
// bound tree already holds them), and orders binds so that parents come first.
func (r *RootPlan) Finish() *RootPlan {
	slices.SortFunc(r.Binds, func(a, b RootBind) int { return strings.Compare(a.Dst, b.Dst) })
	var binds []RootBind
	for _, b := range r.Binds {
		if n := len(binds); n > 0 && within(b.Dst, binds[n-1].Dst) {
			continue
		}
		binds = append(binds, b)
	}
	r.Binds = binds
	seen := map[string]bool{}
	var links []RootLink
	for _, l := range r.Links {
		covered := seen[l.Path]
		for _, b := range binds {
			covered = covered || within(l.Path, b.Dst)
		}
		if !covered {
			seen[l.Path] = true
			links = append(links, l)
		}
	}
	r.Links = links
	return r
}

// within reports whether p is dir or lies under it.
func within(p, dir string) bool {
	return p == dir || strings.HasPrefix(p, dir+"/")
}

// stagedRoot is an instance root under construction. The part every instance shares (system
// files and devices, /proc) is staged as soon as a sandbox init starts, so a spare has it ready;
// the function's own part (its code, its runtime) is added once the spec arrives, and then the
// stage becomes the root.
type stagedRoot struct {
	// stage is where the root is built: the host's /tmp, covered in this mount namespace and
	// not needed by anything below it.
	stage string
	// hostStage is the directory the stage covers, for host paths that lie under it.
	hostStage int
	// have are the binds already attached.
	have map[RootBind]bool
	mk   *creator
}

// stageRoot covers stage (the host's /tmp with its symbolic links resolved; "/tmp" when empty)
// with a fresh tmpfs and stages the shared part of an instance root in
// it: base's binds and links, the /dev links, the mount point of /tmp and, with proc, /proc
// (a user namespace may only mount a proc that is already fully visible in it, so it is mounted
// before the switch). fsUID and fsGID (when non-negative) own what the init creates; host paths
// are cloned with the identity Kiri runs as.
func stageRoot(stage string, base *RootPlan, proc bool, fsUID, fsGID int) (_ *stagedRoot, err error) {
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return nil, fmt.Errorf("make / private: %w", err)
	}
	if stage == "" {
		stage = "/tmp"
	}
	host, err := unix.Open(stage, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("root: %w", err)
	}
	st := &stagedRoot{stage: stage, hostStage: host, have: map[RootBind]bool{}, mk: newCreator(fsUID, fsGID)}
	defer func() {
		if err != nil {
			st.release()
		}
	}()
	if base == nil {
		base = &RootPlan{}
	}
	clones, dirs, err := st.cloneAll(base.Binds)
	if err != nil {
		return nil, err
	}
	defer closeAll(clones)
	err = st.mk.do(func() error {
		if err := unix.Mount("tmpfs", stage, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=755,size=1m"); err != nil {
			return fmt.Errorf("mount root: %w", err)
		}
		if err := st.attach(base, clones, dirs); err != nil {
			return err
		}
		for _, l := range [][2]string{{"fd", "/proc/self/fd"}, {"stdin", "/proc/self/fd/0"}, {"stdout", "/proc/self/fd/1"}, {"stderr", "/proc/self/fd/2"}} {
			if err := os.MkdirAll(st.in("/dev"), 0o755); err != nil {
				return fmt.Errorf("root: %w", err)
			}
			os.Symlink(l[1], st.in("/dev/"+l[0]))
		}
		if err := os.Mkdir(st.in("/tmp"), 0o755); err != nil {
			return fmt.Errorf("root: %w", err)
		}
		if !proc {
			return nil
		}
		if err := os.Mkdir(st.in("/proc"), 0o555); err != nil {
			return fmt.Errorf("root: %w", err)
		}
		if err := unix.Mount("proc", st.in("/proc"), "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
			return fmt.Errorf("mount /proc: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return st, nil
}

// in is p inside the stage.
func (st *stagedRoot) in(p string) string { return path.Join(st.stage, p) }

// finish adds what plan holds beyond the staged part, mounts the instance's /tmp and makes the
// stage the root, read-only.
func (st *stagedRoot) finish(plan *RootPlan, tmpMB int) error {
	defer st.release()
	var late []RootBind
	for _, b := range plan.Binds {
		if !st.have[b] {
			late = append(late, b)
		}
	}
	clones, dirs, err := st.cloneAll(late)
	if err != nil {
		return err
	}
	defer closeAll(clones)
	return st.mk.do(func() error {
		if err := st.attach(&RootPlan{Binds: late, Links: plan.Links}, clones, dirs); err != nil {
			return err
		}
		tmpOpts := fmt.Sprintf("mode=1777,size=%dm", max(tmpMB, 1))
		if err := unix.Mount("tmpfs", st.in("/tmp"), "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, tmpOpts); err != nil {
			return fmt.Errorf("mount /tmp: %w", err)
		}
		if err := unix.Chdir(st.stage); err != nil {
			return fmt.Errorf("root: %w", err)
		}
		// pivot_root(".", ".") stacks the old root under the new one; detaching it leaves only
		// the new root in the namespace.
		if err := unix.PivotRoot(".", "."); err != nil {
			return fmt.Errorf("pivot_root: %w", err)
		}
		if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
			return fmt.Errorf("detach old root: %w", err)
		}
		if err := unix.Chdir("/"); err != nil {
			return fmt.Errorf("root: %w", err)
		}
		attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}
		if err := unix.MountSetattr(unix.AT_FDCWD, "/", 0, &attr); err != nil {
			return fmt.Errorf("make root read-only: %w", err)
		}
		return nil
	})
}

// release closes the descriptor of the host's directory under the stage and ends the creator.
// The instance's program must not inherit either.
func (st *stagedRoot) release() {
	if st.hostStage >= 0 {
		unix.Close(st.hostStage)
		st.hostStage = -1
	}
	st.mk.stop()
}

// cloneAll clones each bind's host path, restricted (read-only, or no-exec for a device node),
// and reports which are directories. It runs on the init's own thread, with Kiri's identity.
func (st *stagedRoot) cloneAll(binds []RootBind) (clones []int, dirs []bool, err error) {
	defer func() {
		if err != nil {
			closeAll(clones)
		}
	}()
	for _, b := range binds {
		dirfd, path, flags := unix.AT_FDCWD, b.Src, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_RECURSIVE
		if within(b.Src, st.stage) {
			// The stage covers this path in the namespace: reach it through the directory
			// it covers.
			dirfd, path = st.hostStage, strings.TrimPrefix(strings.TrimPrefix(b.Src, st.stage), "/")
			if path == "" {
				flags |= unix.AT_EMPTY_PATH
			}
		}
		fd, err := unix.OpenTree(dirfd, path, uint(flags))
		if err != nil {
			return clones, dirs, fmt.Errorf("clone %s: %w", b.Src, err)
		}
		clones = append(clones, fd)
		var stat unix.Stat_t
		if err := unix.Fstat(fd, &stat); err != nil {
			return clones, dirs, fmt.Errorf("root: %w", err)
		}
		dirs = append(dirs, stat.Mode&unix.S_IFMT == unix.S_IFDIR)
		attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV}
		if b.Dev {
			attr.Attr_set = unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NOEXEC
		}
		if err := unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH|unix.AT_RECURSIVE, &attr); err != nil {
			return clones, dirs, fmt.Errorf("restrict %s: %w", b.Src, err)
		}
	}
	return clones, dirs, nil
}

// attach creates plan's links and the mount points of its binds in the stage and attaches the
// clones there. It runs on the creator.
func (st *stagedRoot) attach(plan *RootPlan, clones []int, dirs []bool) error {
	for _, l := range plan.Links {
		if err := os.MkdirAll(st.in(path.Dir(l.Path)), 0o755); err != nil {
			return fmt.Errorf("root: %w", err)
		}
		if err := os.Symlink(l.Target, st.in(l.Path)); err != nil && !os.IsExist(err) {
			return fmt.Errorf("root: %w", err)
		}
	}
	for i, b := range plan.Binds {
		dst := st.in(b.Dst)
		var err error
		if dirs[i] {
			err = os.MkdirAll(dst, 0o755)
		} else if err = os.MkdirAll(path.Dir(dst), 0o755); err == nil {
			var f *os.File
			if f, err = os.OpenFile(dst, os.O_CREATE|os.O_WRONLY, 0o644); err == nil {
				f.Close()
			}
		}
		if err != nil {
			return fmt.Errorf("mount point %s: %w", b.Dst, err)
		}
		if err := unix.MoveMount(clones[i], "", unix.AT_FDCWD, dst, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
			return fmt.Errorf("attach %s: %w", b.Dst, err)
		}
		st.have[b] = true
	}
	return nil
}

func closeAll(fds []int) {
	for _, fd := range fds {
		unix.Close(fd)
	}
}

// creator runs file system changes on an OS thread of its own whose file system identity is
// the function's (fsuid and fsgid are per thread). Host paths must be cloned with Kiri's own
// identity, which a thread cannot switch back to once it has left it: inside the user
// namespace that identity has no name.
type creator struct {
	ops chan func() // nil: operations run on the caller's thread
}

// newCreator starts a creator acting as uid and gid (each when non-negative). With neither, the
// creator runs operations where it is called.
func newCreator(uid, gid int) *creator {
	c := &creator{}
	if uid < 0 && gid < 0 {
		return c
	}
	c.ops = make(chan func())
	ready := make(chan struct{})
	go func() {
		// Never unlocked: the thread ends with the goroutine, its identity with it.
		goruntime.LockOSThread()
		if gid >= 0 {
			unix.Setfsgid(gid)
		}
		if uid >= 0 {
			unix.Setfsuid(uid)
		}
		close(ready)
		for op := range c.ops {
			op()
		}
	}()
	<-ready
	return c
}

// do runs f on the creator's thread.
func (c *creator) do(f func() error) error {
	if c.ops == nil {
		return f()
	}
	done := make(chan error, 1)
	c.ops <- func() { done <- f() }
	return <-done
}

// stop ends the creator and its thread.
func (c *creator) stop() {
	if c.ops != nil {
		close(c.ops)
		c.ops = nil
	}
}
