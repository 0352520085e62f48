package e2e

import (
	"os/exec"
	"strings"
	"testing"
)

// boto3Client is one installed boto3, named by its version.
type boto3Client struct {
	Python, Version string
}

// boto3Clients returns every installed boto3 this machine offers: Debian's 1.26 at
// /usr/bin/python3 (which generates SigV2 presigned URLs) and the default python3's current
// release. It skips the test when there is none.
func boto3Clients(t *testing.T) []boto3Client {
	t.Helper()
	var out []boto3Client
	seen := map[string]bool{}
	for _, py := range []string{"/usr/bin/python3", "python3"} {
		v, err := exec.Command(py, "-c", "import boto3; print(boto3.__version__)").Output()
		version := strings.TrimSpace(string(v))
		if err != nil || seen[version] {
			continue
		}
		seen[version] = true
		out = append(out, boto3Client{Python: py, Version: version})
	}
	if len(out) == 0 {
		t.Skip("no boto3 installed: apt-get install python3-boto3")
	}
	return out
}

// run runs a Python script with args and returns its combined output; it fails the test when
// the script fails.
func (b boto3Client) run(t *testing.T, script string, args ...string) string {
	t.Helper()
	out, err := exec.Command(b.Python, append([]string{"-c", script}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("boto3 %s: %v\n%s", b.Version, err, out)
	}
	return string(out)
}
