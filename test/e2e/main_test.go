package e2e

import (
	"os"
	"testing"

	"github.com/kiri-run/kiri/internal/runtime"
)

// TestMain lets this test binary serve as the sandbox init of the function instances that the
// in-process Kiri servers start.
func TestMain(m *testing.M) {
	runtime.SandboxMain()
	os.Exit(m.Run())
}
