package bootstraps

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestFor(t *testing.T) {
	tests := []struct {
		runtime      string
		ok           bool
		name         string
		interpreters []string
	}{
		{"python3.9", true, "bootstrap.py", []string{"python3.9", "python3"}},
		{"python3.13", true, "bootstrap.py", []string{"python3.13", "python3"}},
		{"nodejs18.x", true, "bootstrap.mjs", []string{"node18", "node", "nodejs"}},
		{"nodejs22.x", true, "bootstrap.mjs", []string{"node22", "node", "nodejs"}},
		{"python3.14", true, "bootstrap.py", []string{"python3.14", "python3"}},
		{"nodejs24.x", true, "bootstrap.mjs", []string{"node24", "node", "nodejs"}},
		{"python3.15", true, "bootstrap.py", []string{"python3.15", "python3"}},
		{"python3", false, "", nil},
		{"python3.x", false, "", nil},
		{"python2.7", false, "", nil},
		{"nodejs20", false, "", nil},
		{"nodejs.x", false, "", nil},
		{"nodejs4.3-edge", false, "", nil},
		{"provided.al2023", false, "", nil},
		{"java21", false, "", nil},
		{"", false, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.runtime, func(t *testing.T) {
			s, ok := For(tt.runtime)
			if ok != tt.ok || s.Name != tt.name || !slices.Equal(s.Interpreters, tt.interpreters) {
				t.Errorf("For(%q) = %q %v, %v; want %q %v, %v", tt.runtime, s.Name, s.Interpreters, ok, tt.name, tt.interpreters, tt.ok)
			}
			if ok && len(s.Source) == 0 {
				t.Errorf("For(%q) has no embedded source", tt.runtime)
			}
		})
	}
}

func TestInterpreterSkipsBrokenCandidates(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write("broken", "exit 127")
	write("works", "exit 0")
	t.Setenv("PATH", dir)

	s := Script{Name: "x", Interpreters: []string{"absent", "broken", "works"}}
	got, err := s.Interpreter(context.Background())
	if err != nil || got != filepath.Join(dir, "works") {
		t.Errorf("Interpreter() = %q, %v; want %s", got, err, filepath.Join(dir, "works"))
	}

	s.Interpreters = []string{"absent", "broken"}
	if _, err := s.Interpreter(context.Background()); !errors.Is(err, ErrNoInterpreter) {
		t.Errorf("Interpreter() with only a broken candidate: err = %v, want ErrNoInterpreter", err)
	}
	s.Interpreters = []string{"absent"}
	if _, err := s.Interpreter(context.Background()); !errors.Is(err, ErrNoInterpreter) {
		t.Errorf("Interpreter() with nothing on PATH: err = %v, want ErrNoInterpreter", err)
	}
}

// TestEveryRuntimeAnswers runs one invocation through each runtime identifier Lambda offers with
// whatever interpreter it resolves to here: the host's python3 and node, whichever their version.
func TestEveryRuntimeAnswers(t *testing.T) {
	files := map[string]string{
		"lambda_function.py": "def lambda_handler(event, context):\n    return event\n",
		"index.mjs":          "export const handler = async (event) => event;\n",
	}
	for _, runtime := range []string{
		"python3.9", "python3.10", "python3.11", "python3.12", "python3.13", "python3.14",
		"nodejs20.x", "nodejs22.x", "nodejs24.x",
	} {
		t.Run(runtime, func(t *testing.T) {
			handler := "index.handler"
			if s, _ := For(runtime); s.Name == "bootstrap.py" {
				handler = "lambda_function.lambda_handler"
			}
			in := start(t, runtime, writeCode(t, files), handler)
			if p := in.invoke(t, invocation{Event: `{"k":[1]}`}); p.Kind != "response" || string(p.Body) != `{"k": [1]}` && string(p.Body) != `{"k":[1]}` {
				t.Errorf("%s %s", p.Kind, p.Body)
			}
		})
	}
}
