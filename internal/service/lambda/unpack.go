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
)

// codeDir returns the directory holding the unpacked code of the zip with hex digest sha,
// extracting it on first use: into a temporary directory that is renamed into place, so
// concurrent callers and crashes never expose a half-written tree. Files are read-only (exec
// bits kept). The zip was checked when it was taken in (planZip), and is checked again here.
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

// unpackZip extracts the zip at path into dir (created), as planZip lays it out, writing at
// most limit bytes.
func unpackZip(ctx context.Context, path, dir string, limit int64) error {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return err
	}
	defer zr.Close()
	entries, _, err := planZip(&zr.Reader, limit, false)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var dirs []string
	budget := limit
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return err
		}
		target := filepath.Join(dir, filepath.FromSlash(e.path))
		switch e.kind {
		case entryDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
			dirs = append(dirs, target)
		case entrySymlink:
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return err
			}
			if err := os.Symlink(e.link, target); err != nil {
				return err
			}
		case entryFile:
			n, err := writeFile(target, e.f, budget)
			if err != nil {
				return err
			}
			budget -= n
		}
	}
	// Directories become read-only last, deepest first, once everything is written.
	for i := len(dirs) - 1; i >= 0; i-- {
		os.Chmod(dirs[i], 0o555)
	}
	return nil
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
		return n, errTooBig
	}
	return n, os.Chmod(target, perm)
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
