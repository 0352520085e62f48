package lambda

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kiri-run/kiri/internal/awsproto"
)

const couldNotUnzip = "Could not unzip uploaded file. Please check your file, then try to upload again."

// badZips are archives that cannot be unpacked as function code.
var badZips = []struct {
	name    string
	entries []zipEntry
}{
	{"parent path", []zipEntry{{"../evil", "x", 0o644}}},
	{"nested parent path", []zipEntry{{"a/../../evil", "x", 0o644}}},
	{"backslash parent path", []zipEntry{{`a\..\..\evil`, "x", 0o644}}},
	{"absolute path", []zipEntry{{"/etc/evil", "x", 0o644}}},
	{"absolute symlink", []zipEntry{{"link", "/etc/passwd", fs.ModeSymlink | 0o777}}},
	{"climbing symlink", []zipEntry{{"link", "../../outside", fs.ModeSymlink | 0o777}}},
	{"symlink climbing from a subdirectory", []zipEntry{{"a/b/link", "../../../evil", fs.ModeSymlink | 0o777}}},
	{"symlink climbing through another symlink", []zipEntry{{"here", ".", fs.ModeSymlink | 0o777}, {"up", "here/..", fs.ModeSymlink | 0o777}}},
	{"symlink loop", []zipEntry{{"a", "b", fs.ModeSymlink | 0o777}, {"b", "a/x", fs.ModeSymlink | 0o777}}},
	{"writing through a symlink", []zipEntry{{"d", ".", fs.ModeSymlink | 0o777}, {"d/x", "x", 0o644}}},
	{"symlink over an earlier directory", []zipEntry{{"d/x", "x", 0o644}, {"d", "/tmp", fs.ModeSymlink | 0o777}}},
	{"file that is also a directory", []zipEntry{{"a", "x", 0o644}, {"a/b", "y", 0o644}}},
	{"named pipe", []zipEntry{{"fifo", "", fs.ModeNamedPipe | 0o644}}},
	{"device", []zipEntry{{"dev", "", fs.ModeDevice | 0o644}}},
}

// TestBadCodeRefusedAtTheDoor checks that code that cannot be unpacked is refused when it is
// taken in, with Lambda's error, and nothing is stored.
func TestBadCodeRefusedAtTheDoor(t *testing.T) {
	for _, tc := range badZips {
		t.Run(tc.name, func(t *testing.T) {
			s, ctx := testService(t)
			_, err := s.intakeCode(ctx, "CreateFunction", "000000000000", "us-east-1", codeSource{ZipFile: buildZip(t, tc.entries...)})
			wantInvalidParameter(t, err, couldNotUnzip)
			if n := countCodeRows(t, s); n != 0 {
				t.Errorf("%d code rows stored for refused code", n)
			}
		})
	}
	t.Run("corrupted data", func(t *testing.T) {
		s, ctx := testService(t)
		z := buildZip(t, zipEntry{"bootstrap", strings.Repeat("kiri ", 100), 0o755})
		z[bytes.Index(z, []byte("bootstrap"))+len("bootstrap")+3] ^= 0xff // inside the deflated data
		_, err := s.intakeCode(ctx, "CreateFunction", "000000000000", "us-east-1", codeSource{ZipFile: z})
		wantInvalidParameter(t, err, couldNotUnzip)
	})
	t.Run("unsupported compression", func(t *testing.T) {
		s, ctx := testService(t)
		var b bytes.Buffer
		w := zip.NewWriter(&b)
		w.RegisterCompressor(14, func(out io.Writer) (io.WriteCloser, error) { return nopCloser{out}, nil })
		f, _ := w.CreateHeader(&zip.FileHeader{Name: "bootstrap", Method: 14})
		f.Write([]byte("lzma?"))
		w.Close()
		_, err := s.intakeCode(ctx, "CreateFunction", "000000000000", "us-east-1", codeSource{ZipFile: b.Bytes()})
		wantInvalidParameter(t, err, couldNotUnzip)
	})
	t.Run("real size over the limit", func(t *testing.T) {
		entries, total, err := planZip(mustZipReader(t, buildZip(t, zipEntry{"big", strings.Repeat("x", 2000), 0o644})), 1000, true)
		if !errors.Is(err, errTooBig) {
			t.Errorf("planZip over the limit = %v, %d, %v", entries, total, err)
		}
	})
}

// TestCodeDirRefusesEscapesThatBypassedTheDoor stores bad zips straight into the blob store, as
// code taken in before the door checked them: unpacking refuses them and nothing escapes.
func TestCodeDirRefusesEscapesThatBypassedTheDoor(t *testing.T) {
	for _, tc := range badZips {
		t.Run(tc.name, func(t *testing.T) {
			s, ctx := testService(t)
			z := buildZip(t, tc.entries...)
			sum := sha256Hex(z)
			if _, err := s.blobs.Put(ctx, codeBlobKey(sum), bytes.NewReader(z)); err != nil {
				t.Fatal(err)
			}
			if _, err := s.codeDir(ctx, sum); err == nil {
				t.Fatal("codeDir accepted an escaping archive")
			}
			if _, err := os.Stat(filepath.Join(s.deps.FunctionsDir, "code", sum)); !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("a code dir exists after refusal: %v", err)
			}
			if _, err := os.Stat(filepath.Join(s.deps.FunctionsDir, "evil")); !errors.Is(err, fs.ErrNotExist) {
				t.Fatal("an entry escaped")
			}
		})
	}
}

// TestPlanZipAcceptsOrdinaryLayouts checks layouts real packagers produce.
func TestPlanZipAcceptsOrdinaryLayouts(t *testing.T) {
	s, ctx := testService(t)
	sha := storeZip(t, s, ctx, buildZip(t,
		zipEntry{"./", "", fs.ModeDir | 0o755},
		zipEntry{"lib/", "", fs.ModeDir | 0o755},
		zipEntry{"lib/python3/site.py", "one", 0o644},
		zipEntry{"lib64", "lib", fs.ModeSymlink | 0o777},
		zipEntry{"current", "lib64/python3", fs.ModeSymlink | 0o777},
		zipEntry{"lib/python3/up", "../../lib", fs.ModeSymlink | 0o777},
		zipEntry{"dangling", "missing/file", fs.ModeSymlink | 0o777},
		zipEntry{"dup.txt", "first", 0o644},
		zipEntry{"dup.txt", "last", 0o644},
	))
	dir, err := s.codeDir(ctx, sha)
	if err != nil {
		t.Fatal(err)
	}
	for file, want := range map[string]string{"current/site.py": "one", "lib64/python3/site.py": "one", "dup.txt": "last", "lib/python3/up/python3/site.py": "one"} {
		if b, err := os.ReadFile(filepath.Join(dir, file)); err != nil || string(b) != want {
			t.Errorf("%s reads %q, %v; want %q", file, b, err, want)
		}
	}
}

func wantInvalidParameter(t *testing.T, err error, msg string) {
	t.Helper()
	var ae *awsproto.Error
	if !errors.As(err, &ae) || ae.Code != codeInvalidParameter || ae.Message != msg {
		t.Fatalf("err = %v, want InvalidParameterValueException %q", err, msg)
	}
}

func countCodeRows(t *testing.T, s *Service) int {
	t.Helper()
	var n int
	if err := s.st.QueryRow(t.Context(), `SELECT COUNT(*) FROM lambda_code`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func mustZipReader(t testing.TB, z []byte) *zip.Reader {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(z), int64(len(z)))
	if err != nil {
		t.Fatal(err)
	}
	return zr
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// FuzzPlanZip feeds arbitrary bytes to the door's zip check. It must never panic, and whatever
// it accepts must unpack, with every path and every symlink inside the code directory.
func FuzzPlanZip(f *testing.F) {
	t := &testing.T{}
	for _, tc := range badZips {
		f.Add(buildZip(t, tc.entries...))
	}
	f.Add(buildZip(t, zipEntry{"lib64", "lib", fs.ModeSymlink | 0o777}, zipEntry{"lib/a", "x", 0o644}, zipEntry{"c", "lib64/a", fs.ModeSymlink | 0o777}))
	f.Add(buildZip(t, zipEntry{"a/b/", "", fs.ModeDir | 0o755}, zipEntry{"a/b/l", "../../a", fs.ModeSymlink | 0o777}))
	f.Fuzz(func(t *testing.T, z []byte) {
		zr, err := zip.NewReader(bytes.NewReader(z), int64(len(z)))
		if err != nil {
			return
		}
		if _, _, err := planZip(zr, 1<<20, true); err != nil {
			return
		}
		base := t.TempDir()
		dir := filepath.Join(base, "code")
		path := filepath.Join(base, "code.zip")
		if err := os.WriteFile(path, z, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := unpackZip(t.Context(), path, dir, 1<<20); err != nil {
			t.Fatalf("accepted zip does not unpack: %v", err)
		}
		defer removeTree(dir)
		filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.Type()&fs.ModeSymlink == 0 {
				return nil
			}
			real, err := filepath.EvalSymlinks(p)
			if err != nil {
				return nil // dangling, or a loop the kernel gives up on: nothing outside is reached
			}
			if real != dir && !strings.HasPrefix(real, dir+string(filepath.Separator)) {
				t.Fatalf("symlink %s resolves outside the code directory, to %s", p, real)
			}
			return nil
		})
		entries, _ := os.ReadDir(base)
		if len(entries) != 2 {
			t.Fatalf("unpacking wrote beside the code directory: %v", entries)
		}
	})
}
