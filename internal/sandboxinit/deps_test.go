package sandboxinit

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependsOnlyOnWhatInitialisesEarly keeps the init's dependencies to the standard library
// and golang.org/x/sys/unix: Go initialises a package only after everything it imports, and
// packages in import-path order among those ready, so every further dependency (and
// path/filepath, which sorts late and which little imports early) lets more of Kiri's package
// initialisation run before each sandbox init takes over.
func TestDependsOnlyOnWhatInitialisesEarly(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}|{{.ImportPath}}", ".").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		nonStd, path, _ := strings.Cut(line, "|")
		switch {
		case path == "path/filepath":
			t.Errorf("sandboxinit depends on path/filepath (use path)")
		case nonStd != "" && nonStd != "golang.org/x/sys/unix" && nonStd != "github.com/kiri-run/kiri/internal/sandboxinit":
			t.Errorf("sandboxinit depends on %s", nonStd)
		}
	}
}
