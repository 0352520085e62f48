package pattern

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// oracleCase is one TestEventPattern call recorded against AWS (see testdata/NOTICE).
type oracleCase struct {
	Name    string          `json:"name"`
	Event   json.RawMessage `json:"event"`   // raw, so 300.0 stays 300.0
	Pattern json.RawMessage `json:"pattern"` // likewise
	Expect  json.RawMessage `json:"expect"`
}

// TestEventBridgeOracle runs the AWS-recorded cases checked in under testdata.
func TestEventBridgeOracle(t *testing.T) {
	t.Parallel()
	runOracle(t, filepath.Join("testdata", "eventbridge-patterns.json"))
}

// TestEventBridgeSharedOracle runs the shared oracle file beside the repository, when there
// is one, so a newer recording is checked without copying it in first.
func TestEventBridgeSharedOracle(t *testing.T) {
	t.Parallel()
	path := filepath.Join("..", "..", "..", "shared", "oracles", "eventbridge-patterns.json")
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		t.Skipf("no shared oracle at %s", path)
	}
	runOracle(t, path)
}

func runOracle(t *testing.T, path string) {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var cases []oracleCase
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) == 0 {
		t.Fatal("no cases")
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			var verdict string
			var want struct {
				Error   string `json:"error"`
				Message string `json:"message"`
			}
			if err := json.Unmarshal(c.Expect, &verdict); err != nil {
				if err := json.Unmarshal(c.Expect, &want); err != nil {
					t.Fatalf("expect: %v", err)
				}
			}
			p, err := Compile(c.Pattern)
			if want.Error != "" {
				var pe *Error
				if !errors.As(err, &pe) {
					t.Fatalf("Compile(%s) = %v, want %s %q", c.Pattern, err, want.Error, want.Message)
				}
				got, _, _ := strings.Cut(pe.Message, "\n")
				if pe.Code != want.Error || got != want.Message {
					t.Fatalf("Compile(%s):\n got %s %q\nwant %s %q", c.Pattern, pe.Code, got, want.Error, want.Message)
				}
				return
			}
			if err != nil {
				t.Fatalf("Compile(%s): %v", c.Pattern, err)
			}
			got, err := p.Matches(c.Event)
			if err != nil {
				t.Fatalf("Matches: %v", err)
			}
			if got != (verdict == "match") {
				t.Fatalf("pattern %s\nevent %s\nmatched = %v, want %s", c.Pattern, c.Event, got, verdict)
			}
		})
	}
}
