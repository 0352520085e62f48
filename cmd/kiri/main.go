// Command kiri is a serverless cloud in one binary: AWS-compatible functions, objects, queues,
// events, workflows and tables on one port.
//
//	kiri [serve] [flags]                 serve every service (the default)
//	kiri sfn path [flags] EXECUTION_ARN  print the path of a Step Functions execution
//	kiri version                         print the version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/kiri-run/kiri/internal/app"
	"github.com/kiri-run/kiri/internal/auth"
	"github.com/kiri-run/kiri/internal/iam/authz"
	"github.com/kiri-run/kiri/internal/store"
)

// version is set at build time with -ldflags "-X main.version=…"; otherwise it comes from the
// build info.
var version = ""

func main() {
	if os.Getenv("GOGC") == "" {
		// Kiri's live heap is small, so collecting at 3x it rather than 2x costs a few MiB and
		// saves collector CPU on busy request paths (measured: about 5% more 4 KiB S3 PUTs/s).
		debug.SetGCPercent(200)
	}
	if err := run(os.Args[1:], os.Stdout, os.Stderr, isTerminal(os.Stderr)); err != nil {
		fmt.Fprintln(os.Stderr, "kiri:", err)
		os.Exit(1)
	}
}

// run runs the command args name; stderrTerminal says whether a person watches stderr.
func run(args []string, stdout, stderr io.Writer, stderrTerminal bool) error {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(args, stderr, stderrTerminal)
	case "sfn":
		return sfnCommand(context.Background(), args, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "kiri", buildVersion())
		return nil
	case "help":
		usage(stdout)
		return nil
	default:
		usage(stderr)
		return fmt.Errorf("unknown command %q", cmd)
	}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, `usage: kiri [serve] [flags]                 serve every service on one port (the default)
       kiri sfn path [flags] EXECUTION_ARN  print the states a Step Functions execution visited
       kiri version                         print the version
Run "kiri serve -h" or "kiri sfn path -h" for the flags.`)
}

// parseServe reads serve's flags; each has a KIRI_* environment equivalent, which a flag
// overrides. The log format "auto" is pretty when stderr is a terminal, else json.
func parseServe(args []string, stderr io.Writer, stderrTerminal bool) (app.Config, error) {
	cfg := app.Config{Version: buildVersion()}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	env := func(name, def string) string {
		if v, ok := os.LookupEnv("KIRI_" + name); ok {
			return v
		}
		return def
	}
	ephemeral, _ := strconv.ParseBool(env("EPHEMERAL", "false"))
	var authMode, syncMode, allowedHosts, iamMode string
	fs.StringVar(&cfg.Addr, "addr", env("ADDR", "127.0.0.1:4566"), "listen address (KIRI_ADDR)")
	fs.StringVar(&cfg.DataDir, "data-dir", env("DATA_DIR", app.DefaultDataDir()), "data directory (KIRI_DATA_DIR)")
	fs.BoolVar(&cfg.Ephemeral, "ephemeral", ephemeral, "keep data in a temporary directory removed on exit (KIRI_EPHEMERAL)")
	fs.StringVar(&authMode, "auth", env("AUTH", "dev"), "dev (any key, loopback only) or strict (KIRI_AUTH)")
	fs.StringVar(&iamMode, "iam", env("IAM", ""), "off or enforce: authorize calls against IAM policies; default off in dev mode, enforce in strict (KIRI_IAM)")
	fs.StringVar(&cfg.KeysFile, "keys-file", env("KEYS_FILE", ""), "CSV of ACCESS_KEY_ID,SECRET_ACCESS_KEY,ACCOUNT_ID for strict mode (KIRI_KEYS_FILE)")
	fs.StringVar(&cfg.LogLevel, "log-level", env("LOG_LEVEL", "info"), "debug, info, warn or error (KIRI_LOG_LEVEL)")
	fs.StringVar(&cfg.LogFormat, "log-format", env("LOG_FORMAT", "auto"),
		"auto (pretty on a terminal, else json), json, text or pretty (KIRI_LOG_FORMAT)")
	fs.StringVar(&syncMode, "sync", env("SYNC", "normal"), "normal (survives kill -9) or full (also survives power loss) (KIRI_SYNC)")
	fs.StringVar(&cfg.DB, "db", env("DB", ""), "metadata database: empty for SQLite in the data dir, or a postgres:// URL (KIRI_DB)")
	fs.DurationVar(&cfg.FunctionIdleTimeout, "function-idle-timeout", envDuration("FUNCTION_IDLE_TIMEOUT", 10*time.Minute),
		"reap function instances idle this long: scale to zero (KIRI_FUNCTION_IDLE_TIMEOUT)")
	fs.StringVar(&cfg.FunctionNetworkAllow, "function-network-allow", env("FUNCTION_NETWORK_ALLOW", ""),
		"what functions may reach besides Kiri and the public network: CIDRs or addresses with optional ports, e.g. 127.0.0.1:8080,10.0.0.0/8 (KIRI_FUNCTION_NETWORK_ALLOW)")
	fs.BoolVar(&cfg.FunctionHostNetwork, "function-host-network", env("FUNCTION_HOST_NETWORK", "") == "true",
		"let functions share the host's network instead of the sandboxed one; dev mode only (KIRI_FUNCTION_HOST_NETWORK)")
	fs.DurationVar(&cfg.AsyncRetryDelay, "async-retry-delay", envDuration("ASYNC_RETRY_DELAY", time.Minute),
		"wait before the first retry of a failed asynchronous invocation (KIRI_ASYNC_RETRY_DELAY)")
	fs.StringVar(&allowedHosts, "allowed-hosts", env("ALLOWED_HOSTS", ""),
		"comma-separated host names dev mode also serves and takes browser requests from, e.g. myapp.test,.dev.test (KIRI_ALLOWED_HOSTS)")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	cfg.Auth, cfg.Sync, cfg.IAM = auth.Mode(authMode), store.SyncMode(syncMode), authz.Mode(iamMode)
	if cfg.LogFormat == "auto" {
		cfg.LogFormat = "json"
		if stderrTerminal {
			cfg.LogFormat = "pretty"
		}
	}
	for _, h := range strings.Split(allowedHosts, ",") {
		if h = strings.TrimSpace(h); h != "" {
			cfg.AllowedHosts = append(cfg.AllowedHosts, h)
		}
	}
	return cfg, nil
}

// envDuration reads KIRI_<name> as a duration, else def.
func envDuration(name string, def time.Duration) time.Duration {
	if v, ok := os.LookupEnv("KIRI_" + name); ok {
		if d, err := time.ParseDuration(v); err == nil {
			return d
		}
	}
	return def
}

func serve(args []string, stderr io.Writer, stderrTerminal bool) error {
	cfg, err := parseServe(args, stderr, stderrTerminal)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	a, err := app.Start(ctx, cfg)
	if err != nil {
		return err
	}
	select {
	case <-ctx.Done():
	case err := <-a.Done():
		if err != nil {
			return err
		}
	}
	stop() // a second signal now kills the process at once
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return a.Close(shutdownCtx)
}

// isTerminal reports whether f is a terminal: a character device other than /dev/null.
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	if err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return false
	}
	null, err := os.Stat(os.DevNull)
	return err != nil || !os.SameFile(fi, null)
}

func buildVersion() string {
	if version != "" {
		return version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "dev"
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			return "dev-" + s.Value[:12]
		}
	}
	return "dev"
}
