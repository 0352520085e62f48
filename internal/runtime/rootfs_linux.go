package runtime

import (
	"context"
	"debug/elf"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"slices"
	"strings"

	"golang.org/x/sys/unix"
)

// Where an instance with its own root finds its code and its runtime's bootstrap, as on Lambda.
const (
	taskRoot    = "/var/task"
	runtimeRoot = "/var/runtime"
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

// rootBind attaches a host path at Dst in an instance's root: read-only, or read-write for a
// device node.
type rootBind struct {
	Src string `json:"src"`
	Dst string `json:"dst"`
	Dev bool   `json:"dev,omitempty"`
}

// rootLink is a symbolic link in an instance's root.
type rootLink struct {
	Path   string `json:"path"`
	Target string `json:"target"`
}

// rootPlan is the content of an instance's minimal root: everything else on the host is out of
// its sight.
type rootPlan struct {
	Binds []rootBind `json:"binds"`
	Links []rootLink `json:"links,omitempty"`
}

// newRootPlan returns a plan holding the system files and devices every instance gets.
func newRootPlan() *rootPlan {
	r := &rootPlan{}
	for _, p := range rootSystemFiles {
		r.mirror(p)
	}
	for _, p := range rootDevices {
		if fi, err := os.Stat(p); err == nil && fi.Mode()&os.ModeDevice != 0 {
			r.Binds = append(r.Binds, rootBind{Src: p, Dst: p, Dev: true})
		}
	}
	return r
}

// bind attaches the host path src at dst.
func (r *rootPlan) bind(src, dst string) {
	r.Binds = append(r.Binds, rootBind{Src: src, Dst: dst})
}

// mirror makes the host path p visible at the same path, recreating the symbolic links on the
// way to it (e.g. /lib -> usr/lib) so that both spellings resolve. A missing path is skipped.
func (r *rootPlan) mirror(p string) {
	resolved := "/"
	rest := splitPath(p)
	for hops := 0; len(rest) > 0; {
		next := filepath.Join(resolved, rest[0])
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
		r.Links = append(r.Links, rootLink{Path: next, Target: target})
		if !filepath.IsAbs(target) {
			target = filepath.Join(resolved, target)
		}
		rest = append(splitPath(target), rest...)
		resolved = "/"
	}
	if resolved != "/" {
		r.bind(resolved, resolved)
	}
}

func splitPath(p string) []string {
	var out []string
	for _, c := range strings.Split(filepath.Clean(p), "/") {
		if c != "" && c != "." {
			out = append(out, c)
		}
	}
	return out
}

// finish drops binds covered by another bind and links that would land inside a bind (the
// bound tree already holds them), and orders binds so that parents come first.
func (r *rootPlan) finish() *rootPlan {
	slices.SortFunc(r.Binds, func(a, b rootBind) int { return strings.Compare(a.Dst, b.Dst) })
	var binds []rootBind
	for _, b := range r.Binds {
		if n := len(binds); n > 0 && within(b.Dst, binds[n-1].Dst) {
			continue
		}
		binds = append(binds, b)
	}
	r.Binds = binds
	seen := map[string]bool{}
	var links []rootLink
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

// systemLibraryDirs are where the host's C library and its peers live (as Lambda's
// provided.al2023 root holds glibc), for dynamically linked bootstraps.
func systemLibraryDirs() []string {
	triplet := map[string]string{"amd64": "x86_64-linux-gnu", "arm64": "aarch64-linux-gnu"}[goruntime.GOARCH]
	return []string{"/lib64", "/usr/lib64", "/lib/" + triplet, "/usr/lib/" + triplet}
}

// nativePaths lists what a native bootstrap needs from the host: nothing for a static binary;
// the dynamic loader it names and the system libraries for a dynamically linked one. The
// binary is the function's code: it is read, never run, here.
func nativePaths(exe string) []string {
	f, err := elf.Open(exe)
	if err != nil {
		return nil
	}
	defer f.Close()
	for _, prog := range f.Progs {
		if prog.Type != elf.PT_INTERP {
			continue
		}
		raw, err := io.ReadAll(prog.Open())
		if err != nil {
			return nil
		}
		return append([]string{strings.TrimRight(string(raw), "\x00")}, systemLibraryDirs()...)
	}
	return nil
}

// interpreterPaths lists what an interpreter needs from the host: the executable, its search
// path (standard library and site packages, where boto3 lives when the host's Python has it;
// Node's global module directories) and the directories of the shared libraries it loads.
func interpreterPaths(exe, runtime string) []string {
	ctx, cancel := context.WithTimeout(context.Background(), probeTimeout)
	defer cancel()
	var args []string
	if strings.HasPrefix(runtime, "python") {
		args = []string{"-c", "import sys; print('\\n'.join(p for p in sys.path if p))"}
	} else {
		args = []string{"-p", "[...require('module').globalPaths, require('path').join(process.execPath, '../../lib/node_modules')].join('\\n')"}
	}
	paths := []string{exe}
	if out, err := exec.CommandContext(ctx, exe, args...).Output(); err == nil {
		for _, p := range strings.Split(string(out), "\n") {
			if fi, err := os.Stat(p); err == nil && fi.IsDir() && filepath.IsAbs(p) {
				paths = append(paths, filepath.Clean(p))
			}
		}
	}
	return append(paths, libraryDirs(ctx, exe)...)
}

// libraryDirs returns the dynamic loader and the directories of the shared libraries exe loads.
// Extension modules (Python's _ssl, _ctypes…) load theirs from the same system directory.
func libraryDirs(ctx context.Context, exe string) []string {
	out, err := exec.CommandContext(ctx, "ldd", exe).Output()
	if err != nil {
		return nil
	}
	var dirs []string
	for _, line := range strings.Split(string(out), "\n") {
		for _, f := range strings.Fields(line) {
			if !filepath.IsAbs(f) {
				continue
			}
			if strings.Contains(line, "=>") {
				if real, err := filepath.EvalSymlinks(f); err == nil {
					f = real
				}
				dirs = append(dirs, filepath.Dir(f))
			} else {
				dirs = append(dirs, f) // the loader, by the path the executable names
			}
		}
	}
	return dirs
}

// buildRoot builds the instance's root on a fresh tmpfs and makes it the root, as the init of a
// mount namespace. Host paths are cloned first, while the init still has the host's view and
// the identity Kiri runs as; fsUID and fsGID (when non-negative) then own what the init creates.
// /proc is mounted before the switch: a user namespace may only mount a proc that is already
// fully visible in it.
func buildRoot(plan *rootPlan, tmpMB int, proc bool, fsUID, fsGID int) error {
	clones := make([]int, len(plan.Binds))
	dirs := make([]bool, len(plan.Binds))
	defer func() {
		for _, fd := range clones {
			if fd > 0 {
				unix.Close(fd)
			}
		}
	}()
	for i, b := range plan.Binds {
		fi, err := os.Stat(b.Src)
		if err != nil {
			return fmt.Errorf("root: %w", err)
		}
		dirs[i] = fi.IsDir()
		fd, err := unix.OpenTree(unix.AT_FDCWD, b.Src, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_RECURSIVE)
		if err != nil {
			return fmt.Errorf("clone %s: %w", b.Src, err)
		}
		clones[i] = fd
		attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV}
		if b.Dev {
			attr.Attr_set = unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NOEXEC
		}
		if err := unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH|unix.AT_RECURSIVE, &attr); err != nil {
			return fmt.Errorf("restrict %s: %w", b.Src, err)
		}
	}
	if fsGID >= 0 {
		unix.Setfsgid(fsGID)
	}
	if fsUID >= 0 {
		unix.Setfsuid(fsUID)
	}
	// The new root is staged over /tmp: nothing below it is needed any more, the clones hold
	// every host path, and it is private to this mount namespace.
	const stage = "/tmp"
	if err := unix.Mount("tmpfs", stage, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=755,size=1m"); err != nil {
		return fmt.Errorf("mount root: %w", err)
	}
	in := func(p string) string { return filepath.Join(stage, p) }
	for _, l := range plan.Links {
		if err := os.MkdirAll(in(filepath.Dir(l.Path)), 0o755); err != nil {
			return fmt.Errorf("root: %w", err)
		}
		if err := os.Symlink(l.Target, in(l.Path)); err != nil && !os.IsExist(err) {
			return fmt.Errorf("root: %w", err)
		}
	}
	for i, b := range plan.Binds {
		dst := in(b.Dst)
		var err error
		if dirs[i] {
			err = os.MkdirAll(dst, 0o755)
		} else if err = os.MkdirAll(filepath.Dir(dst), 0o755); err == nil {
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
	}
	for _, l := range [][2]string{{"fd", "/proc/self/fd"}, {"stdin", "/proc/self/fd/0"}, {"stdout", "/proc/self/fd/1"}, {"stderr", "/proc/self/fd/2"}} {
		if err := os.MkdirAll(in("/dev"), 0o755); err != nil {
			return fmt.Errorf("root: %w", err)
		}
		os.Symlink(l[1], in("/dev/"+l[0]))
	}
	if err := os.Mkdir(in("/tmp"), 0o755); err != nil {
		return fmt.Errorf("root: %w", err)
	}
	tmpOpts := fmt.Sprintf("mode=1777,size=%dm", max(tmpMB, 1))
	if err := unix.Mount("tmpfs", in("/tmp"), "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, tmpOpts); err != nil {
		return fmt.Errorf("mount /tmp: %w", err)
	}
	if proc {
		if err := os.Mkdir(in("/proc"), 0o555); err != nil {
			return fmt.Errorf("root: %w", err)
		}
		if err := unix.Mount("proc", in("/proc"), "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
			return fmt.Errorf("mount /proc: %w", err)
		}
	}
	if err := unix.Chdir(stage); err != nil {
		return fmt.Errorf("root: %w", err)
	}
	// pivot_root(".", ".") stacks the old root under the new one; detaching it leaves only the
	// new root in the namespace.
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
}
