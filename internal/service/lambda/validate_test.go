package lambda

import (
	"errors"
	"strings"
	"testing"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/store"
)

// TestDeprecatedRuntimeBlocksUpdatesUntilMoved checks that a function stored with a runtime
// Lambda has since deprecated takes neither new code nor other settings, as Lambda refuses
// updates on such runtimes, but may be moved to a supported runtime.
func TestDeprecatedRuntimeBlocksUpdatesUntilMoved(t *testing.T) {
	s, ctx := testService(t)
	z := buildZip(t, zipEntry{"main", "binary", 0o755})
	createFn(t, s, ctx, "legacy", z)
	r := funcRef{account: "000000000000", region: "us-east-1", name: "legacy"}
	err := s.write(ctx, func(tx *store.Tx) error {
		c, _, err := loadVersion(tx, r, latest)
		if err != nil {
			return err
		}
		c.Runtime = "go1.x"
		return saveVersion(tx, r, c)
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "The runtime parameter of go1.x is no longer supported for creating or updating AWS Lambda functions. We recommend you use the new runtime (provided.al2023) while creating or updating functions."
	refused := func(what string, err error) {
		t.Helper()
		var ae *awsproto.Error
		if !errors.As(err, &ae) || ae.Code != codeInvalidParameter || ae.Message != want {
			t.Errorf("%s: err = %v, want InvalidParameterValueException %q", what, err, want)
		}
	}
	_, err = s.updateFunctionCode(ctx, &UpdateFunctionCodeRequest{FunctionName: ptr("legacy"), ZipFile: z})
	refused("UpdateFunctionCode", err)
	_, err = s.updateFunctionConfiguration(ctx, &UpdateFunctionConfigurationRequest{FunctionName: ptr("legacy"), Timeout: ptr(int32(10))})
	refused("UpdateFunctionConfiguration of the timeout", err)
	out, err := s.updateFunctionConfiguration(ctx, &UpdateFunctionConfigurationRequest{FunctionName: ptr("legacy"), Runtime: ptr("provided.al2023")})
	if err != nil || awsproto.Value(out.Runtime) != "provided.al2023" {
		t.Fatalf("moving to provided.al2023: %v", err)
	}
}

func TestCheckRuntime(t *testing.T) {
	for _, tc := range []struct{ runtime, want string }{
		{"python3.14", ""},
		{"nodejs24.x", ""},
		{"python3.9", ""},
		{"provided.al2", ""},
		{"python3.8", "We recommend you use the new runtime (python3.14)"},
		{"nodejs16.x", "We recommend you use the new runtime (nodejs24.x)"},
		{"provided", "We recommend you use the new runtime (provided.al2023)"},
		{"dotnet6", "We recommend you use the new runtime (dotnet10)"},
		{"java21", "Value java21 at 'runtime' failed to satisfy constraint"},
		{"python3.99", "Value python3.99 at 'runtime' failed to satisfy constraint"},
	} {
		err := checkRuntime(tc.runtime)
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("checkRuntime(%q) = %v, want %q", tc.runtime, err, tc.want)
		}
	}
}
