// Package reserve keeps disk space back in the data directory so that a full disk can still be
// emptied through the API.
//
// On a full disk everything that writes fails, deletes included: SQLite appends a delete to
// its write-ahead log like any other change, and S3 frees an object's bytes through a queued
// message written in the same transaction. So Kiri holds a reserve: a file of preallocated blocks
// in the data directory. Writes that add data are refused once free space drops below the
// reserve's size (they would soon fail anyway), and are answered with the service's
// "storage full" error instead of a bare 500. A delete that still fails for lack of space gives
// the reserve back to the filesystem and runs once more, into the space it freed. The reserve is
// taken again, and writes admitted again, once deletes have freed twice its size.
package reserve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"syscall"
)

// FileName is the reserve's file in the data directory.
const FileName = "reserve"

// Size limits: a reserve is 1/32 of its filesystem, within these bounds.
const (
	MinSize = 1 << 20
	MaxSize = 64 << 20
)

// ErrFull is the error of a write refused because the disk is full.
var ErrFull = errors.New("the data directory's disk is full")

// Kind is what an operation does to disk usage.
type Kind int

const (
	// Reads neither adds nor frees data.
	Reads Kind = iota
	// Adds writes new data; refused while the disk is full.
	Adds
	// Frees deletes data; it may use the reserve.
	Frees
)

// Reserve is the space held back in one data directory. A nil *Reserve holds nothing and
// admits everything.
type Reserve struct {
	dir, path string
	size      int64
	log       *slog.Logger
	// free reports the bytes available to Kiri on dir's filesystem (a test can fake it).
	free func(dir string) (int64, error)

	mu   sync.Mutex
	held bool
}

// Open takes the reserve in dir: size bytes, or when size is 0, 1/32 of the filesystem within
// MinSize..MaxSize. A disk too full to take it is no error: Kiri starts refusing new data
// until space is freed.
func Open(dir string, size int64, log *slog.Logger) (*Reserve, error) {
	r := &Reserve{dir: dir, path: filepath.Join(dir, FileName), size: size, log: log, free: freeBytes}
	if size == 0 {
		total, err := totalBytes(dir)
		if err != nil {
			return nil, fmt.Errorf("disk reserve: %w", err)
		}
		r.size = min(max(total/32, MinSize), MaxSize)
	}
	if st, err := os.Stat(r.path); err == nil && st.Size() == r.size {
		r.held = true
		return r, nil
	}
	if err := r.take(); err != nil && !IsNoSpace(err) {
		return nil, err
	}
	if !r.held {
		log.Warn("disk reserve not taken: the disk is full; writes that add data are refused until space is freed",
			"dir", dir, "size", r.size)
	}
	return r, nil
}

// Size is the reserve's size in bytes.
func (r *Reserve) Size() int64 {
	if r == nil {
		return 0
	}
	return r.size
}

// take preallocates the reserve file; r.mu is held or r is not shared yet.
func (r *Reserve) take() error {
	f, err := os.OpenFile(r.path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("disk reserve: %w", err)
	}
	err = syscall.Fallocate(int(f.Fd()), 0, 0, r.size)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(r.path)
		return fmt.Errorf("disk reserve: %w", err)
	}
	r.held = true
	return nil
}

// Admit lets a write that adds data go ahead, or refuses it with ErrFull while free space is
// below the reserve's size. Without its reserve (given back to a delete), Kiri admits writes
// again only once it could take the reserve back and still have that much free.
func (r *Reserve) Admit() error {
	if r == nil {
		return nil
	}
	free, err := r.free(r.dir)
	if err != nil {
		return nil // no figure to judge by: let the write find out
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.held {
		if free < 2*r.size {
			return ErrFull
		}
		if err := r.take(); err != nil {
			if IsNoSpace(err) {
				return ErrFull
			}
			r.log.Warn("disk reserve not taken back", "err", err)
			return nil
		}
		r.log.Info("disk reserve taken back; writes admitted again", "dir", r.dir, "size", r.size)
		free -= r.size
	}
	if free < r.size {
		return ErrFull
	}
	return nil
}

// Release gives the reserve back to the filesystem, reporting whether it held one.
func (r *Reserve) Release() bool {
	if r == nil {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.held {
		return false
	}
	if err := os.Remove(r.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		r.log.Error("disk reserve not given back", "err", err)
		return false
	}
	r.held = false
	r.log.Warn("disk full: reserve given back so deletes can free space; writes that add data are refused until they have",
		"dir", r.dir, "size", r.size)
	return true
}

// Run runs an operation of the given kind: Adds is refused with full() while the disk is full,
// Frees that fails for lack of space runs once more after the reserve is given back, and
// either answers full() if space still runs out.
func (r *Reserve) Run(ctx context.Context, kind Kind, next func(context.Context) error, full func() error) error {
	if kind == Adds {
		if err := r.Admit(); err != nil {
			return full()
		}
	}
	err := next(ctx)
	if err == nil || kind == Reads || !IsNoSpace(err) {
		return err
	}
	if kind == Frees && r.Release() {
		if err = next(ctx); err == nil || !IsNoSpace(err) {
			return err
		}
	}
	return full()
}

// IsNoSpace reports whether err is a failure for lack of disk space: ENOSPC or EDQUOT from the
// filesystem, SQLITE_FULL from SQLite, disk_full (53100) from PostgreSQL, or ErrFull.
func IsNoSpace(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrFull) || errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return true
	}
	var coded interface{ Code() int }
	if errors.As(err, &coded) && coded.Code()&0xff == sqliteFull {
		return true
	}
	var state interface{ SQLState() string }
	return errors.As(err, &state) && state.SQLState() == "53100"
}

// sqliteFull is SQLITE_FULL, "database or disk is full".
const sqliteFull = 13

func freeBytes(dir string) (int64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return int64(st.Bavail) * st.Bsize, nil
}

func totalBytes(dir string) (int64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return int64(st.Blocks) * st.Bsize, nil
}
