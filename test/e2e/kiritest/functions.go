package kiritest

import (
	"archive/zip"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// builtFunctions caches zips of Go test functions per package path for the test binary's life.
var builtFunctions sync.Map // pkg -> *builtFunction

type builtFunction struct {
	once sync.Once
	zip  []byte
	err  error
	out  []byte
}

// GoFunctionZip builds the Go main package pkg (a path such as "./testdata/lambda/echo",
// relative to the calling test's directory) as a Linux `bootstrap` executable and returns it
// zipped, ready for CreateFunction with runtime provided.al2023. Builds are cached.
func GoFunctionZip(t testing.TB, pkg string) []byte {
	t.Helper()
	return GoFunctionZipAs(t, pkg, "bootstrap")
}

// GoFunctionZipAs is GoFunctionZip with the executable named exe in the zip (go1.x functions
// name theirs in Handler).
func GoFunctionZipAs(t testing.TB, pkg, exe string) []byte {
	t.Helper()
	v, _ := builtFunctions.LoadOrStore(pkg+"\x00"+exe, &builtFunction{})
	bf := v.(*builtFunction)
	bf.once.Do(func() {
		dir, err := os.MkdirTemp("", "kiri-fn-")
		if err != nil {
			bf.err = err
			return
		}
		defer os.RemoveAll(dir)
		path := filepath.Join(dir, exe)
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", path, pkg)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
		if bf.out, bf.err = cmd.CombinedOutput(); bf.err != nil {
			return
		}
		bf.zip, bf.err = zipFiles(map[string]string{exe: path})
	})
	if bf.err != nil {
		t.Fatalf("build function %s: %v\n%s", pkg, bf.err, bf.out)
	}
	return bf.zip
}

// ZipSource zips source files (name -> text) for interpreted runtimes.
func ZipSource(t testing.TB, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, text := range files {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(text)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// zipFiles zips executables (name in zip -> path on disk) with mode 0755.
func zipFiles(files map[string]string) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, path := range files {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		h := &zip.FileHeader{Name: name, Method: zip.Deflate}
		h.SetMode(0o755)
		w, err := zw.CreateHeader(h)
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(b); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
