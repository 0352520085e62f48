package blob

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// FS keeps blobs as files under a root directory: each Put writes a temporary file, syncs it,
// and renames it into place, so readers see either the old blob or the whole new one.
type FS struct {
	root   string
	noSync bool
}

// FSOptions configures an FS.
type FSOptions struct {
	// NoSync skips fsync (default false). Only for --ephemeral data, which need not outlive
	// the process.
	NoSync bool
}

// copyBuffers holds the buffers streams are copied through, so large objects never sit whole
// in memory and small ones allocate nothing per copy.
var copyBuffers = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

// OpenFS returns an FS rooted at dir, creating it, and removes temporary files a crash left.
func OpenFS(dir string, opts FSOptions) (*FS, error) {
	tmp := filepath.Join(dir, "tmp")
	if err := os.RemoveAll(tmp); err != nil {
		return nil, fmt.Errorf("clear blob temp dir: %w", err)
	}
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		return nil, fmt.Errorf("create blob dir: %w", err)
	}
	return &FS{root: dir, noSync: opts.NoSync}, nil
}

// path places a key in one of 256 subdirectories so no directory grows huge.
func (f *FS) path(key string) (string, error) {
	if !validKey(key) {
		return "", fmt.Errorf("blob key %q: want 1-200 characters from [A-Za-z0-9._-], not starting with '.'", key)
	}
	h := fnv.New32a()
	h.Write([]byte(key))
	return filepath.Join(f.root, fmt.Sprintf("%02x", h.Sum32()&0xff), key), nil
}

func validKey(key string) bool {
	if key == "" || len(key) > 200 || key[0] == '.' {
		return false
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// Put implements Store.
func (f *FS) Put(ctx context.Context, key string, r io.Reader) (int64, error) {
	final, err := f.path(key)
	if err != nil {
		return 0, err
	}
	tmp, err := os.CreateTemp(filepath.Join(f.root, "tmp"), "put-*")
	if err != nil {
		return 0, fmt.Errorf("put blob %s: %w", key, err)
	}
	committed := false
	defer func() {
		if !committed {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	buf := copyBuffers.Get().(*[]byte)
	n, err := io.CopyBuffer(tmp, ctxReader{ctx, r}, *buf)
	copyBuffers.Put(buf)
	if err != nil {
		return n, fmt.Errorf("put blob %s: %w", key, err)
	}
	if !f.noSync {
		if err := tmp.Sync(); err != nil {
			return n, fmt.Errorf("sync blob %s: %w", key, err)
		}
	}
	if err := tmp.Close(); err != nil {
		return n, fmt.Errorf("close blob %s: %w", key, err)
	}
	dir := filepath.Dir(final)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return n, fmt.Errorf("put blob %s: %w", key, err)
	}
	if err := os.Rename(tmp.Name(), final); err != nil {
		return n, fmt.Errorf("put blob %s: %w", key, err)
	}
	committed = true
	if !f.noSync {
		if err := syncDir(dir); err != nil {
			return n, fmt.Errorf("sync blob dir for %s: %w", key, err)
		}
	}
	return n, nil
}

// Open implements Store.
func (f *FS) Open(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	p, err := f.path(key)
	if err != nil {
		return nil, err
	}
	file, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("open blob %s: %w", key, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("open blob %s: %w", key, err)
	}
	if offset == 0 && length < 0 {
		return file, nil
	}
	if length < 0 {
		st, err := file.Stat()
		if err != nil {
			file.Close()
			return nil, fmt.Errorf("open blob %s: %w", key, err)
		}
		length = max(st.Size()-offset, 0)
	}
	return sectionReadCloser{io.NewSectionReader(file, offset, length), file}, nil
}

// Size implements Store.
func (f *FS) Size(ctx context.Context, key string) (int64, error) {
	p, err := f.path(key)
	if err != nil {
		return 0, err
	}
	st, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, fmt.Errorf("stat blob %s: %w", key, ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("stat blob %s: %w", key, err)
	}
	return st.Size(), nil
}

// Delete implements Store.
func (f *FS) Delete(ctx context.Context, key string) error {
	p, err := f.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete blob %s: %w", key, err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

type sectionReadCloser struct {
	*io.SectionReader
	io.Closer
}

// ctxReader stops a long copy when its context ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
