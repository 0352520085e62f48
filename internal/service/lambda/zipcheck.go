package lambda

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"
)

// errTooBig reports code whose unzipped size passes Lambda's 250 MB limit.
var errTooBig = errors.New("unzipped size over the limit")

// entryKind is what one zip entry becomes in the code directory.
type entryKind uint8

const (
	entryDir entryKind = iota + 1
	entryFile
	entrySymlink
)

// codeEntry is one entry of a code zip as it is laid out in the code directory.
type codeEntry struct {
	f    *zip.File
	path string // slash-separated and clean, relative to the code directory
	kind entryKind
	link string // a symlink's target
}

// Linux's limits on a file name and a path (NAME_MAX, and PATH_MAX less room for the code
// directory's own path).
const (
	maxNameBytes = 255
	maxPathBytes = 3072
)

// maxSymlinkHops bounds symlink resolution, as the kernel's ELOOP limit does.
const maxSymlinkHops = 40

// planZip checks a code zip and returns the entries to write, in order, and the unzipped size.
// It refuses what could not be unpacked inside the code directory: absolute names and names
// that climb out, entries other than files, directories and symlinks, a path that is both a file
// and a directory or that passes through a symlink, and symlinks that resolve outside the
// directory (following the archive's other symlinks, as the kernel would). Of entries repeated
// with the same name the last wins, as unzip leaves it. With verify set every file is also
// decompressed, which checks its data and checksum and measures its real size against limit.
func planZip(zr *zip.Reader, limit int64, verify bool) ([]codeEntry, int64, error) {
	var (
		entries []codeEntry
		at      = map[string]int{} // path -> index in entries, or -1 for an implied directory
		total   int64
	)
	for _, f := range zr.File {
		e, skip, err := readEntry(f)
		if err != nil {
			return nil, 0, err
		}
		if skip {
			continue
		}
		for dir := path.Dir(e.path); dir != "."; dir = path.Dir(dir) {
			i, seen := at[dir]
			if seen && i >= 0 && entries[i].kind != entryDir {
				return nil, 0, fmt.Errorf("zip entry %q: %s is not a directory", f.Name, dir)
			}
			if !seen {
				at[dir] = -1
			}
		}
		i, seen := at[e.path]
		switch {
		case !seen:
		case i < 0 || entries[i].kind == entryDir:
			if e.kind != entryDir {
				return nil, 0, fmt.Errorf("zip entry %q: also a directory", f.Name)
			}
			continue
		case e.kind == entryDir:
			return nil, 0, fmt.Errorf("zip entry %q: also a file", f.Name)
		default:
			entries[i].kind = 0 // replaced by this later entry of the same name
		}
		at[e.path] = len(entries)
		entries = append(entries, e)
	}
	kept := entries[:0]
	for _, e := range entries {
		if e.kind == 0 {
			continue
		}
		kept = append(kept, e)
		switch e.kind {
		case entrySymlink:
			if err := resolvesInside(e, entries, at); err != nil {
				return nil, 0, err
			}
		case entryFile:
			n := int64(e.f.UncompressedSize64)
			if verify {
				var err error
				if n, err = readAll(e.f, limit-total); err != nil {
					return nil, 0, err
				}
			}
			if total += n; n < 0 || total > limit {
				return nil, 0, errTooBig
			}
		}
	}
	return kept, total, nil
}

// readEntry maps one zip entry into the code directory; skip is set for the directory itself.
func readEntry(f *zip.File) (e codeEntry, skip bool, err error) {
	name := strings.ReplaceAll(f.Name, `\`, "/")
	if strings.HasPrefix(name, "/") {
		return e, false, fmt.Errorf("zip entry %q: absolute path", f.Name)
	}
	if strings.IndexByte(name, 0) >= 0 || len(name) > maxPathBytes {
		return e, false, fmt.Errorf("zip entry %q: not a usable file name", f.Name)
	}
	for _, part := range strings.Split(name, "/") {
		if part == ".." {
			return e, false, fmt.Errorf("zip entry %q: path climbs out of the code directory", f.Name)
		}
		if len(part) > maxNameBytes {
			return e, false, fmt.Errorf("zip entry %q: name too long", f.Name)
		}
	}
	e = codeEntry{f: f, path: path.Clean(name)}
	if e.path == "." {
		return e, true, nil
	}
	mode := f.Mode()
	switch {
	case mode.IsDir():
		e.kind = entryDir
	case mode&fs.ModeSymlink != 0:
		e.kind = entrySymlink
		rc, err := f.Open()
		if err != nil {
			return e, false, fmt.Errorf("zip entry %q: %w", f.Name, err)
		}
		link, err := io.ReadAll(io.LimitReader(rc, 4097))
		rc.Close()
		switch {
		case err != nil:
			return e, false, fmt.Errorf("zip entry %q: %w", f.Name, err)
		case len(link) == 0 || len(link) > 4096 || strings.IndexByte(string(link), 0) >= 0:
			return e, false, fmt.Errorf("zip entry %q: not a usable symlink target", f.Name)
		case strings.HasPrefix(string(link), "/"):
			return e, false, fmt.Errorf("zip entry %q: symlink to an absolute path", f.Name)
		}
		e.link = string(link)
	case mode.IsRegular():
		e.kind = entryFile
	default:
		return e, false, fmt.Errorf("zip entry %q: unsupported file type %v", f.Name, mode.Type())
	}
	return e, false, nil
}

// resolvesInside follows a symlink's target through the archive's own symlinks and refuses it
// when it leads out of the code directory (or loops).
func resolvesInside(link codeEntry, entries []codeEntry, at map[string]int) error {
	var (
		cur  []string // resolved components so far
		todo = strings.Split(link.link, "/")
		hops = 0
	)
	if dir := path.Dir(link.path); dir != "." {
		cur = strings.Split(dir, "/")
	}
	for len(todo) > 0 {
		part := todo[0]
		todo = todo[1:]
		switch part {
		case "", ".":
			continue
		case "..":
			if len(cur) == 0 {
				return fmt.Errorf("zip entry %q: symlink leads out of the code directory", link.f.Name)
			}
			cur = cur[:len(cur)-1]
			continue
		}
		cur = append(cur, part)
		i, ok := at[strings.Join(cur, "/")]
		if !ok || i < 0 || entries[i].kind != entrySymlink {
			continue
		}
		if hops++; hops > maxSymlinkHops {
			return fmt.Errorf("zip entry %q: too many levels of symlinks", link.f.Name)
		}
		cur = cur[:len(cur)-1]
		todo = append(strings.Split(entries[i].link, "/"), todo...)
	}
	return nil
}

// readAll decompresses a file entry, checking its data and checksum, and returns its size;
// more than limit bytes is errTooBig.
func readAll(f *zip.File, limit int64) (int64, error) {
	rc, err := f.Open()
	if err != nil {
		return 0, fmt.Errorf("zip entry %q: %w", f.Name, err)
	}
	defer rc.Close()
	n, err := io.Copy(io.Discard, io.LimitReader(rc, limit+1))
	if err != nil {
		return n, fmt.Errorf("zip entry %q: %w", f.Name, err)
	}
	if n > limit {
		return n, errTooBig
	}
	return n, nil
}
