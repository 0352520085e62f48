package runtime

import (
	"context"
	"debug/elf"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strings"
)

// Where an instance with its own root finds its code and its runtime's bootstrap, as on Lambda.
const (
	taskRoot    = "/var/task"
	runtimeRoot = "/var/runtime"
)

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
