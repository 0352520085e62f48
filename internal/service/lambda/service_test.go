package lambda

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/queue"
	"github.com/kiri-run/kiri/internal/service/servicetest"
)

// testService is a Service over a throwaway SQLite store and blob directory. Its queue engine
// is not running: tests call queue handlers themselves.
func testService(t *testing.T) (*Service, context.Context) {
	t.Helper()
	s, err := newService(context.Background(), wiring{
		Deps:         servicetest.Deps(t),
		FunctionsDir: filepath.Join(t.TempDir(), "functions"),
		URLBase:      func(id, region string) string { return "http://" + id + ".lambda-url." + region + ".localhost:1234/" },
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := awsproto.WithCall(context.Background(), &awsproto.Call{AccountID: "000000000000", Region: "us-east-1"})
	return s, ctx
}

type zipEntry struct {
	name, body string
	mode       fs.FileMode
}

func buildZip(t *testing.T, entries ...zipEntry) []byte {
	t.Helper()
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		h.SetMode(e.mode)
		f, err := w.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		f.Write([]byte(e.body))
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func storeZip(t *testing.T, s *Service, ctx context.Context, z []byte) string {
	t.Helper()
	c, err := s.intakeCode(ctx, "CreateFunction", "000000000000", "us-east-1", codeSource{ZipFile: z})
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(z)
	if c.sha != hex.EncodeToString(sum[:]) {
		t.Fatalf("sha = %s", c.sha)
	}
	return c.sha
}

func TestCodeDirUnpacksOnceReadOnlyWithExecBits(t *testing.T) {
	s, ctx := testService(t)
	sha := storeZip(t, s, ctx, buildZip(t,
		zipEntry{"bootstrap", "#!/bin/sh\n", 0o755},
		zipEntry{"lib/data.txt", "data", 0o644},
		zipEntry{"lib/link", "data.txt", fs.ModeSymlink | 0o777},
	))
	var wg sync.WaitGroup
	dirs := make([]string, 8)
	errs := make([]error, 8)
	for i := range dirs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dirs[i], errs[i] = s.codeDir(ctx, sha)
		}()
	}
	wg.Wait()
	for i := range dirs {
		if errs[i] != nil || dirs[i] != dirs[0] {
			t.Fatalf("codeDir #%d = %s, %v", i, dirs[i], errs[i])
		}
	}
	dir := dirs[0]
	fi, err := os.Stat(filepath.Join(dir, "bootstrap"))
	if err != nil || fi.Mode().Perm() != 0o555 {
		t.Fatalf("bootstrap mode = %v, %v", fi.Mode(), err)
	}
	fi, _ = os.Stat(filepath.Join(dir, "lib", "data.txt"))
	if fi.Mode().Perm() != 0o444 {
		t.Fatalf("data mode = %v", fi.Mode())
	}
	if b, err := os.ReadFile(filepath.Join(dir, "lib", "link")); err != nil || string(b) != "data" {
		t.Fatalf("symlink reads %q, %v", b, err)
	}
	leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(dir), ".tmp-*"))
	if len(leftovers) != 0 {
		t.Fatalf("temporary directories left: %v", leftovers)
	}
}

func createFn(t *testing.T, s *Service, ctx context.Context, name string, z []byte) *FunctionConfiguration {
	t.Helper()
	out, err := s.createFunction(ctx, &CreateFunctionRequest{FunctionName: ptr(name), Runtime: ptr("python3.12"), Handler: ptr("a.h"),
		Role: ptr("arn:aws:iam::000000000000:role/r"), Code: &FunctionCode{ZipFile: z}})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestCodeCollectedOnlyWhenUnreferencedAndUnpinned(t *testing.T) {
	s, ctx := testService(t)
	z1 := buildZip(t, zipEntry{"a.py", "one", 0o644})
	z2 := buildZip(t, zipEntry{"a.py", "two", 0o644})
	createFn(t, s, ctx, "f", z1)
	createFn(t, s, ctx, "g", z1) // same digest, stored once
	sum := sha256.Sum256(z1)
	sha1 := hex.EncodeToString(sum[:])
	if _, err := s.codeDir(ctx, sha1); err != nil {
		t.Fatal(err)
	}
	collect := func() {
		t.Helper()
		if err := s.collectCode(ctx, queue.Message{Queue: topicCodeGC, Body: []byte(sha1)}); err != nil {
			t.Fatal(err)
		}
	}
	exists := func() bool {
		_, err := s.blobs.Size(ctx, codeBlobKey(sha1))
		return err == nil
	}
	if _, err := s.updateFunctionCode(ctx, &UpdateFunctionCodeRequest{FunctionName: ptr("f"), ZipFile: z2}); err != nil {
		t.Fatal(err)
	}
	collect()
	if !exists() {
		t.Fatal("code still used by g was collected")
	}
	if _, err := s.deleteFunction(ctx, &DeleteFunctionRequest{FunctionName: ptr("g")}); err != nil {
		t.Fatal(err)
	}
	collect()
	if !exists() {
		t.Fatal("pinned code was collected")
	}
	s.now = func() time.Time { return time.Now().Add(2 * codePin) }
	collect()
	if exists() {
		t.Fatal("unreferenced code was not collected")
	}
	if _, err := os.Stat(filepath.Join(s.deps.FunctionsDir, "code", sha1)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("unpacked code left behind: %v", err)
	}
	// Storing it again works after collection.
	createFn(t, s, ctx, "h", z1)
	if !exists() {
		t.Fatal("code not stored again")
	}
}

func TestResolveTargetsAndPoolKeys(t *testing.T) {
	s, ctx := testService(t)
	var drained []string
	s.deps.Drain = func(p string) { drained = append(drained, p) }
	createFn(t, s, ctx, "f", buildZip(t, zipEntry{"a.py", "one", 0o644}))
	if err := s.settleState(ctx, queue.Message{Body: []byte(`{"account":"000000000000","region":"us-east-1","name":"f"}`)}); err != nil {
		t.Fatal(err)
	}
	t1, err := s.resolve(ctx, "000000000000", "us-east-1", "f", "")
	if err != nil {
		t.Fatal(err)
	}
	if t1.version != latest || t1.state != stateActive || t1.invokedARN != "arn:aws:lambda:us-east-1:000000000000:function:f" || t1.timeout != 3 || t1.memoryMB != 128 {
		t.Fatalf("target = %+v", t1)
	}
	if !strings.HasPrefix(t1.poolKey(), poolPrefix("000000000000", "us-east-1", "f")) {
		t.Fatalf("pool key %s lacks the function prefix", t1.poolKey())
	}
	if _, err := s.publishVersion(ctx, &PublishVersionRequest{FunctionName: ptr("f")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.updateFunctionConfiguration(ctx, &UpdateFunctionConfigurationRequest{FunctionName: ptr("f"), Timeout: ptr(int32(9))}); err != nil {
		t.Fatal(err)
	}
	if len(drained) != 1 || drained[0] != "000000000000/us-east-1/f/" {
		t.Fatalf("drained %v", drained)
	}
	t2, _ := s.resolve(ctx, "000000000000", "us-east-1", "f", "")
	if t2.poolKey() == t1.poolKey() || t2.timeout != 9 {
		t.Fatal("a configuration change kept the pool key")
	}
	v1, _ := s.resolve(ctx, "000000000000", "us-east-1", "f:1", "")
	if v1.poolKey() != strings.Replace(t1.poolKey(), "$LATEST@", "1@", 1) {
		t.Fatalf("version 1 key %s vs $LATEST key %s", v1.poolKey(), t1.poolKey())
	}
	if err := s.changeTags(ctx, funcRef{"000000000000", "us-east-1", "f", ""}, func(m map[string]string) { m[tagNetwork] = "none" }); err != nil {
		t.Fatal(err)
	}
	t3, _ := s.resolve(ctx, "000000000000", "us-east-1", "f", "")
	if !t3.noNetwork || t3.poolKey() == t2.poolKey() {
		t.Fatal("kiri:network=none not reflected")
	}

	// Aliases route to their versions; the event invoke config follows the qualifier.
	if _, err := s.createAlias(ctx, &CreateAliasRequest{FunctionName: ptr("f"), Name: ptr("live"), FunctionVersion: ptr("1")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.putEventInvokeConfig(ctx, &PutFunctionEventInvokeConfigRequest{FunctionName: ptr("f"), Qualifier: ptr("live"), MaximumRetryAttempts: ptr(int32(0))}); err != nil {
		t.Fatal(err)
	}
	ta, err := s.resolve(ctx, "000000000000", "us-east-1", "arn:aws:lambda:us-east-1:000000000000:function:f", "live")
	if err != nil {
		t.Fatal(err)
	}
	if ta.version != "1" || ta.alias != "live" || ta.invokedARN != "arn:aws:lambda:us-east-1:000000000000:function:f:live" ||
		ta.eventInvokeConfig == nil || *ta.eventInvokeConfig.Retries != 0 {
		t.Fatalf("alias target = %+v", ta)
	}
	for _, tc := range []struct{ fn, q, code string }{
		{"nope", "", codeNotFound},
		{"f", "7", codeNotFound},
		{"f", "ghost", codeNotFound},
		{"f:1", "2", codeInvalidParameter},
	} {
		if _, err := s.resolve(ctx, "000000000000", "us-east-1", tc.fn, tc.q); err == nil || err.(*awsproto.Error).Code != tc.code {
			t.Errorf("resolve(%s, %s) = %v, want %s", tc.fn, tc.q, err, tc.code)
		}
	}

	// Function URLs resolve by id.
	u, err := s.createURLConfig(ctx, &CreateFunctionUrlConfigRequest{FunctionName: ptr("f"), Qualifier: ptr("live"), AuthType: ptr("NONE")})
	if err != nil {
		t.Fatal(err)
	}
	id := strings.TrimPrefix(*u.FunctionUrl, "http://")[:32]
	tu, uc, err := s.urlTarget(ctx, id)
	if err != nil || tu.version != "1" || uc.AuthType != "NONE" || uc.InvokeMode != "BUFFERED" {
		t.Fatalf("urlTarget = %+v %+v %v", tu, uc, err)
	}
	if _, _, err := s.urlTarget(ctx, strings.Repeat("a", 32)); err == nil {
		t.Fatal("unknown url id resolved")
	}
}
