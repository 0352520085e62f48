package telemetry

import (
	"bytes"
	"errors"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestPrettyLogs(t *testing.T) {
	var out bytes.Buffer
	log, err := NewLogger(&out, "info", "pretty")
	if err != nil {
		t.Fatal(err)
	}
	log.Info("request", "request_id", "req-1", "service", "s3", "operation", "PutObject", "method", "PUT",
		"path", "/photos/cat.jpg", "status", 200, "duration", 1234567*time.Nanosecond, "account", "000000000000")
	log.Error("request", "request_id", "req-2", "service", "sts", "operation", "GetCallerIdentity", "method", "POST",
		"path", "/", "status", 500, "duration", 56789*time.Nanosecond, "error", "open table: disk on fire")
	log.With("component", "store").WithGroup("db").Warn("slow commit", "took", 2*time.Second, "path", "/var/lib/kiri db")
	log.Debug("not shown")
	log.Info("stopped", "err", errors.New("bye"))

	want := []string{
		`^\d\d:\d\d:\d\d\.\d{3} 200 s3\.PutObject PUT /photos/cat\.jpg 1\.23ms$`,
		`^\d\d:\d\d:\d\d\.\d{3} 500 sts\.GetCallerIdentity POST / 56\.8µs$`,
		`^    error \(request req-2\): open table: disk on fire$`,
		`^\d\d:\d\d:\d\d\.\d{3} WARN  slow commit component=store db\.took=2s db\.path="/var/lib/kiri db"$`,
		`^\d\d:\d\d:\d\d\.\d{3} INFO  stopped err=bye$`,
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(want), out.String())
	}
	for i, w := range want {
		if !regexp.MustCompile(w).MatchString(lines[i]) {
			t.Errorf("line %d = %q, want %s", i, lines[i], w)
		}
	}
}

func TestNewLoggerFormats(t *testing.T) {
	for _, f := range []string{"json", "text", "pretty", ""} {
		if _, err := NewLogger(&bytes.Buffer{}, "info", f); err != nil {
			t.Errorf("format %q: %v", f, err)
		}
	}
	if _, err := NewLogger(&bytes.Buffer{}, "info", "fancy"); err == nil {
		t.Error(`format "fancy" accepted`)
	}
	var _ slog.Handler = newPrettyHandler(&bytes.Buffer{}, slog.LevelInfo)
}
