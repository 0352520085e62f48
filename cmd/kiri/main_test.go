package main

import (
	"io"
	"os"
	"slices"
	"testing"
)

func TestLogFormatFollowsTheTerminal(t *testing.T) {
	cases := []struct {
		name     string
		args     []string
		env      string // KIRI_LOG_FORMAT; "" unset
		terminal bool
		want     string
	}{
		{name: "terminal gets pretty logs", terminal: true, want: "pretty"},
		{name: "pipe gets JSON", terminal: false, want: "json"},
		{name: "flag wins on a terminal", args: []string{"--log-format", "json"}, terminal: true, want: "json"},
		{name: "environment wins on a terminal", env: "text", terminal: true, want: "text"},
		{name: "pretty can be asked for", args: []string{"--log-format=pretty"}, terminal: false, want: "pretty"},
		{name: "auto can be asked for", env: "auto", terminal: false, want: "json"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.env != "" {
				t.Setenv("KIRI_LOG_FORMAT", tc.env)
			} else {
				unsetenv(t, "KIRI_LOG_FORMAT")
			}
			cfg, err := parseServe(tc.args, io.Discard, tc.terminal)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.LogFormat != tc.want {
				t.Fatalf("log format %q, want %q", cfg.LogFormat, tc.want)
			}
		})
	}
}

func TestAllowedHostsFlag(t *testing.T) {
	unsetenv(t, "KIRI_ALLOWED_HOSTS")
	cfg, err := parseServe([]string{"--allowed-hosts", "myapp.test, .dev.test,,"}, io.Discard, false)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cfg.AllowedHosts, []string{"myapp.test", ".dev.test"}) {
		t.Fatalf("allowed hosts %q", cfg.AllowedHosts)
	}
	t.Setenv("KIRI_ALLOWED_HOSTS", "from.env")
	if cfg, _ := parseServe(nil, io.Discard, false); !slices.Equal(cfg.AllowedHosts, []string{"from.env"}) {
		t.Fatalf("allowed hosts from the environment %q", cfg.AllowedHosts)
	}
}

func TestIsTerminal(t *testing.T) {
	null, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	for name, f := range map[string]*os.File{"/dev/null": null, "a pipe": w} {
		if isTerminal(f) {
			t.Errorf("%s is taken for a terminal", name)
		}
	}
}

// unsetenv unsets name for the test, restoring it afterwards.
func unsetenv(t *testing.T, name string) {
	t.Setenv(name, "")
	os.Unsetenv(name)
}
