package lambda

import (
	"archive/zip"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// codeDir returns the directory holding the unpacked code of the zip with hex digest sha,
// extracting it on first use: into a temporary directory that is renamed into place, so
// concurrent callers and crashes never expose a half-written tree. Files are read-only (exec
// bits kept); entries that would land outside the directory, by path or by symlink, are refused.
func (s *Service) codeDir(ctx context.Context, sha string) (string, error) {
	if len(sha) != 64 || !allOf(sha, func(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' }) {
		return "", fmt.Errorf("code digest %q: not a hex SHA-256", sha)
	}
	root := filepath.Join(s.deps.FunctionsDir, "code")
	dir := filepath.Join(root, sha)
	if fi, err := os.Stat(dir); err == nil && fi.IsDir() {
		return dir, nil
	}
	zipPath, err := s.copyCodeZip(ctx, sha)
	if err != nil {
		return "", err
	}
	defer os.Remove(zipPath)
	var suffix [8]byte
	rand.Read(suffix[:])
	tmp := filepath.Join(root, ".tmp-"+sha+"-"+hex.EncodeToString(suffix[:]))
	if err := unpackZip(ctx, zipPath, tmp, maxUnzipped); err != nil {
		removeTree(tmp)
		return "", fmt.Errorf("unpack code %s: %w", sha, err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		removeTree(tmp)
		if fi, serr := os.Stat(dir); serr == nil && fi.IsDir() {
			return dir, nil // another caller won the race
		}
		return "", fmt.Errorf("place code %s: %w", sha, err)
	}
	return dir, nil
}

// copyCodeZip copies the zip out of the blob store into a temporary file (zip needs random
// access).
func (s *Service) copyCodeZip(ctx context.Context, sha string) (string, error) {
	rc, err := s.blobs.Open(ctx, codeBlobKey(sha), 0, -1)
	if err != nil {
		return "", fmt.Errorf("open code %s: %w", sha, err)
	}
	defer rc.Close()
	f, err := os.CreateTemp(filepath.Join(s.deps.FunctionsDir, "tmp"), "zip-*")
	if err != nil {
		return "", fmt.Errorf("temp file for code: %w", err)
	}
	if _, err := io.Copy(f, rc); err != nil {
		f.Close()
		os.Remove(f.Name())
		return "", fmt.Errorf("copy code %s: %w", sha, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

// unpackZip extracts the zip at path into dir (created), writing at most limit bytes.
func unpackZip(ctx context.Context, path, dir string, limit int64) error {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return err
	}
	defer zr.Close()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var dirs []string
	budget := limit
	for _, f := range zr.File {
		if err := ctx.Err(); err != nil {
			return err
		}
		target, err := entryPath(dir, f.Name)
		if err != nil {
			return err
		}
		if target == dir {
			continue
		}
		if err := noSymlinkParents(dir, target); err != nil {
			return fmt.Errorf("zip entry %q: %w", f.Name, err)
		}
		mode := f.Mode()
		switch {
		case mode.IsDir():
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
			dirs = append(dirs, target)
		case mode&fs.ModeSymlink != 0:
			if err := writeSymlink(dir, target, f); err != nil {
				return err
			}
		case mode.IsRegular():
			n, err := writeFile(target, f, budget)
			if err != nil {
				return err
			}
			budget -= n
		default:
			return fmt.Errorf("zip entry %q: unsupported file type", f.Name)
		}
	}
	// Directories become read-only last, deepest first, once everything is written.
	for i := len(dirs) - 1; i >= 0; i-- {
		os.Chmod(dirs[i], 0o555)
	}
	return nil
}

// entryPath maps a zip entry name inside dir, refusing absolute names and ones that climb out.
func entryPath(dir, name string) (string, error) {
	clean := filepath.Clean("/" + strings.ReplaceAll(name, `\`, "/"))
	if strings.HasPrefix(name, "/") || strings.Contains("/"+strings.ReplaceAll(name, `\`, "/")+"/", "/../") {
		return "", fmt.Errorf("zip entry %q: path escapes the code directory", name)
	}
	return filepath.Join(dir, clean), nil
}

func writeFile(target string, f *zip.File, budget int64) (int64, error) {
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return 0, err
	}
	rc, err := f.Open()
	if err != nil {
		return 0, fmt.Errorf("zip entry %q: %w", f.Name, err)
	}
	defer rc.Close()
	perm := os.FileMode(0o444)
	if f.Mode()&0o111 != 0 {
		perm = 0o555
	}
	out, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(out, io.LimitReader(rc, budget+1))
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return n, fmt.Errorf("zip entry %q: %w", f.Name, err)
	}
	if n > budget {
		return n, fmt.Errorf("unzipped size must be smaller than %d bytes", maxUnzipped)
	}
	return n, os.Chmod(target, perm)
}

// writeSymlink creates a symlink whose target stays inside root.
func writeSymlink(root, target string, f *zip.File) error {
	rc, err := f.Open()
	if err != nil {
		return err
	}
	link, err := io.ReadAll(io.LimitReader(rc, 4096))
	rc.Close()
	if err != nil {
		return err
	}
	dest := string(link)
	if filepath.IsAbs(dest) {
		return fmt.Errorf("zip entry %q: symlink escapes the code directory", f.Name)
	}
	resolved := filepath.Clean(filepath.Join(filepath.Dir(target), dest))
	if resolved != root && !strings.HasPrefix(resolved, root+string(filepath.Separator)) {
		return fmt.Errorf("zip entry %q: symlink escapes the code directory", f.Name)
	}
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return err
	}
	return os.Symlink(dest, target)
}

// noSymlinkParents refuses a target reached through a symlink the archive created earlier,
// which could otherwise lead outside root.
func noSymlinkParents(root, target string) error {
	rel, err := filepath.Rel(root, filepath.Dir(target))
	if err != nil || rel == "." {
		return err
	}
	p := root
	for _, part := range strings.Split(rel, string(filepath.Separator)) {
		p = filepath.Join(p, part)
		fi, err := os.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			return errors.New("path passes through a symlink")
		}
	}
	return nil
}

// removeTree deletes a directory tree whose directories may be read-only.
func removeTree(dir string) error {
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			os.Chmod(p, 0o755)
		}
		return nil
	})
	if err := os.RemoveAll(dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove %s: %w", dir, err)
	}
	return nil
}
