package e2e

import (
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

func TestSecondKiriOnSameDataDirFailsAtOnce(t *testing.T) {
	dir := t.TempDir()
	first := kiritest.StartProcess(t, kiritest.Options{DataDir: dir})
	start := time.Now()
	out, err := exec.Command(kiritest.Binary(t), "--addr", "127.0.0.1:0", "--data-dir", dir).CombinedOutput()
	if err == nil {
		t.Fatal("second kiri on the same data dir started")
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("second kiri took %s to fail", took)
	}
	if !strings.Contains(string(out), "in use by another kiri") {
		t.Fatalf("message %q does not explain the lock", out)
	}
	// The first one is untouched.
	if _, err := first.Clients().STS.GetCallerIdentity(t.Context(), &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatalf("first kiri broken after the second tried: %v", err)
	}
}

func TestDevModeRefusesNonLoopbackAddress(t *testing.T) {
	out, err := exec.Command(kiritest.Binary(t), "--ephemeral", "--addr", "0.0.0.0:0").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "--auth=strict") {
		t.Fatalf("err %v, output %q: want a refusal that points at --auth=strict", err, out)
	}
}

func TestEnvironmentConfiguresServe(t *testing.T) {
	cmd := exec.Command(kiritest.Binary(t))
	cmd.Env = append(cmd.Environ(), "KIRI_ADDR=0.0.0.0:0", "KIRI_EPHEMERAL=true")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "refusing to listen on 0.0.0.0:0") {
		t.Fatalf("KIRI_ADDR was not applied: err %v, output %q", err, out)
	}
}

func TestVersionCommand(t *testing.T) {
	out, err := exec.Command(kiritest.Binary(t), "version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "kiri ") {
		t.Fatalf("kiri version: %v %q", err, out)
	}
}

func TestGracefulShutdownKeepsData(t *testing.T) {
	dir := t.TempDir()
	p := kiritest.StartProcess(t, kiritest.Options{DataDir: dir, Strict: true})
	out, err := p.Clients().STS.GetSessionToken(t.Context(), &sts.GetSessionTokenInput{})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Stop(10 * time.Second); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
	p = kiritest.StartProcess(t, kiritest.Options{DataDir: dir, Strict: true})
	cr := out.Credentials
	c := p.ClientsAs(*cr.AccessKeyId, *cr.SecretAccessKey, *cr.SessionToken)
	if _, err := c.STS.GetCallerIdentity(t.Context(), &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatalf("credentials issued before a restart are gone: %v", err)
	}
	resp, err := http.Get(p.URL + "/_kiri/health")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("health after restart: %v", err)
	}
	resp.Body.Close()
}
