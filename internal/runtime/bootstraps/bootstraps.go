// Package bootstraps holds the bootstrap scripts Kiri ships for Lambda's interpreted runtimes
// (python3.x and nodejs*.x). Each script is a standard-library-only client of the Lambda Runtime
// API (2018-06-01): it loads the function's handler from LAMBDA_TASK_ROOT, long-polls for
// invocations, calls the handler and posts its result or error, as AWS's own runtime interface
// clients do.
package bootstraps

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

//go:embed bootstrap.py
var pythonSource []byte

//go:embed bootstrap.mjs
var nodeSource []byte

// Script is a bootstrap Kiri ships for an interpreted runtime.
type Script struct {
	// Name is the file name to write the script under, e.g. "bootstrap.py" or "bootstrap.mjs".
	Name string
	// Source is the script text, embedded in the Kiri binary. It is shared: do not modify it.
	Source []byte
	// Interpreters are argv[0] candidates in order of preference; the first one found on PATH
	// (see Interpreter) runs the script as `<interpreter> <dir>/<Name>`.
	Interpreters []string
}

// For returns the bootstrap for a Lambda runtime identifier of the form python3.N or nodejsN.x,
// whatever the version: which identifiers a function may name is the Lambda service's decision.
// The interpreter of the exact version is preferred, then any python3 / node on PATH, since the
// scripts run on every Python 3 and Node.js version Lambda has offered.
func For(runtime string) (Script, bool) {
	if minor, ok := strings.CutPrefix(runtime, "python3."); ok && isNumber(minor) {
		return Script{
			Name:         "bootstrap.py",
			Source:       pythonSource,
			Interpreters: []string{runtime, "python3"},
		}, true
	}
	if v, ok := strings.CutPrefix(runtime, "nodejs"); ok {
		if major, ok := strings.CutSuffix(v, ".x"); ok && isNumber(major) {
			return Script{
				Name:         "bootstrap.mjs",
				Source:       nodeSource,
				Interpreters: []string{"node" + major, "node", "nodejs"},
			}, true
		}
	}
	return Script{}, false
}

func isNumber(s string) bool {
	if s == "" || len(s) > 3 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// ErrNoInterpreter reports that none of a script's interpreters is installed and working.
var ErrNoInterpreter = errors.New("no working interpreter")

// probeTimeout bounds one `<interpreter> --version` probe. It is generous: a version manager's
// shim is a shell script that runs the manager first, and on a loaded machine that took more
// than 5 s, which made a working interpreter look broken.
const probeTimeout = 30 * time.Second

// Interpreter returns the absolute path of the first of s.Interpreters that is on PATH and
// actually runs (`--version` exits 0). Probing matters because version managers such as pyenv
// put shims on PATH for versions that are installed but not selected, and those shims fail.
// A probe costs one process start, so callers should resolve once per runtime and keep the
// answer.
func (s Script) Interpreter(ctx context.Context) (string, error) {
	var tried []string
	for _, name := range s.Interpreters {
		path, err := exec.LookPath(name)
		if err != nil {
			continue
		}
		tried = append(tried, path)
		pctx, cancel := context.WithTimeout(ctx, probeTimeout)
		err = exec.CommandContext(pctx, path, "--version").Run()
		cancel()
		if err == nil {
			return path, nil
		}
		if ctx.Err() != nil {
			return "", fmt.Errorf("probe interpreter %s: %w", path, ctx.Err())
		}
	}
	if len(tried) == 0 {
		return "", fmt.Errorf("%w for %s: none of %s is on PATH", ErrNoInterpreter, s.Name, strings.Join(s.Interpreters, ", "))
	}
	return "", fmt.Errorf("%w for %s: %s found but failed to run", ErrNoInterpreter, s.Name, strings.Join(tried, ", "))
}
