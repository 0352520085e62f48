// Package app wires Kiri's planes and services together and runs the server.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/kiri-run/kiri/internal/auth"
	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/blob"
	"github.com/kiri-run/kiri/internal/dispatch"
	"github.com/kiri-run/kiri/internal/edge"
	"github.com/kiri-run/kiri/internal/iam/authz"
	"github.com/kiri-run/kiri/internal/meter"
	"github.com/kiri-run/kiri/internal/queue"
	"github.com/kiri-run/kiri/internal/reserve"
	"github.com/kiri-run/kiri/internal/runtime"
	"github.com/kiri-run/kiri/internal/service"
	"github.com/kiri-run/kiri/internal/store"
	"github.com/kiri-run/kiri/internal/telemetry"
)

// Config is everything `kiri serve` can be told. The zero value of each field means its default.
type Config struct {
	// Addr is the listen address. Default 127.0.0.1:4566.
	Addr string
	// DataDir holds kiri.db, blobs/ and functions/. Default $XDG_DATA_HOME/kiri, else
	// ~/.local/share/kiri.
	DataDir string
	// Ephemeral keeps all data in a temporary directory removed on exit. Default false.
	Ephemeral bool
	// Auth is dev (any key, loopback only) or strict (keys from KeysFile). Default dev.
	Auth auth.Mode
	// KeysFile is the CSV of ACCESS_KEY_ID,SECRET_ACCESS_KEY,ACCOUNT_ID lines for strict mode.
	KeysFile string
	// LogLevel is debug, info, warn or error. Default info.
	LogLevel string
	// LogFormat is json, text (logfmt) or pretty (for a person at a terminal: a banner, then
	// one short line a request). Default json.
	LogFormat string
	// IAM is off or enforce: whether calls are authorized against IAM policies. Default off in
	// dev mode, enforce in strict mode.
	IAM authz.Mode
	// Sync is normal (survives kill -9) or full (also survives power loss). Default normal.
	Sync store.SyncMode
	// DB is "" for SQLite in the data dir, or a postgres:// URL.
	DB string
	// Version is reported by /_kiri/health and `kiri version`.
	Version string
	// LogOutput receives logs. Default os.Stderr.
	LogOutput io.Writer
	// FunctionIdleTimeout is how long an idle function instance lives before it is reaped (scale
	// to zero). Default 10m.
	FunctionIdleTimeout time.Duration
	// FunctionNetworkAllow lists what functions may reach besides Kiri's endpoint and the
	// public network: comma-separated CIDRs or addresses, each with an optional port.
	FunctionNetworkAllow string
	// FunctionHostNetwork lets functions share the host's network (dev mode only).
	FunctionHostNetwork bool
	// AsyncRetryDelay is the wait before the first retry of a failed asynchronous invocation.
	// Default 1m, as Lambda.
	AsyncRetryDelay time.Duration
	// BodyIdleTimeout is how long a request body may send nothing before the request fails
	// with RequestTimeout, as S3's does. Default 20s.
	BodyIdleTimeout time.Duration
	// AllowedHosts are host names dev mode serves, and whose pages may call it, beside loopback
	// addresses, localhost and the names under .localhost and localhost.localstack.cloud.
	// ".example.test" is that domain and its subdomains, "*" any name. Default none.
	AllowedHosts []string
}

// App is a running Kiri.
type App struct {
	cfg      Config
	log      *slog.Logger
	lock     *os.File
	store    *store.Store
	blobs    blob.Store
	engine   *queue.Engine
	closers  []service.Closer // services' resources, released after serving stops
	server   *http.Server
	listener net.Listener
	stop     context.CancelFunc
	wg       sync.WaitGroup
	served   chan error
	workers  map[string]*worker // background goroutines, by what they serve
}

func (c *Config) applyDefaults() error {
	if c.Addr == "" {
		c.Addr = "127.0.0.1:4566"
	}
	if c.Auth == "" {
		c.Auth = auth.Dev
	}
	if c.Auth != auth.Dev && c.Auth != auth.Strict {
		return fmt.Errorf("--auth=%s: want dev or strict", c.Auth)
	}
	if _, err := runtime.ParseNetAllow(c.FunctionNetworkAllow); err != nil {
		return fmt.Errorf("--function-network-allow: %w", err)
	}
	if c.FunctionHostNetwork && c.Auth == auth.Strict {
		return errors.New("--function-host-network: strict mode always sandboxes function networks")
	}
	if c.IAM == "" {
		c.IAM = authz.Off
		if c.Auth == auth.Strict {
			c.IAM = authz.Enforce
		}
	}
	if c.IAM != authz.Off && c.IAM != authz.Enforce {
		return fmt.Errorf("--iam=%s: want off or enforce", c.IAM)
	}
	if c.Sync == "" {
		c.Sync = store.SyncNormal
	}
	if c.Sync != store.SyncNormal && c.Sync != store.SyncFull {
		return fmt.Errorf("--sync=%s: want normal or full", c.Sync)
	}
	if c.LogLevel == "" {
		c.LogLevel = "info"
	}
	if c.LogFormat == "" {
		c.LogFormat = "json"
	}
	if c.BodyIdleTimeout == 0 {
		c.BodyIdleTimeout = 20 * time.Second
	}
	if c.LogOutput == nil {
		c.LogOutput = os.Stderr
	}
	if c.Version == "" {
		c.Version = "dev"
	}
	if c.Auth == auth.Strict && c.KeysFile == "" {
		return errors.New("--auth=strict needs --keys-file")
	}
	return nil
}

// DefaultDataDir is $XDG_DATA_HOME/kiri, else ~/.local/share/kiri.
func DefaultDataDir() string {
	if x := os.Getenv("XDG_DATA_HOME"); x != "" {
		return filepath.Join(x, "kiri")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(os.TempDir(), "kiri")
	}
	return filepath.Join(home, ".local", "share", "kiri")
}

// Start opens the data directory and store, starts every service and begins serving. It
// returns once the listener accepts connections.
func Start(ctx context.Context, cfg Config) (_ *App, err error) {
	if err := cfg.applyDefaults(); err != nil {
		return nil, err
	}
	log, err := telemetry.NewLogger(cfg.LogOutput, cfg.LogLevel, cfg.LogFormat)
	if err != nil {
		return nil, err
	}
	if err := checkExposure(cfg.Addr, cfg.Auth); err != nil {
		return nil, err
	}
	a := &App{cfg: cfg, log: log, served: make(chan error, 1)}
	defer func() {
		if err != nil {
			a.release()
		}
	}()
	if err := a.openDataDir(); err != nil {
		return nil, err
	}
	a.store, err = store.Open(ctx, store.Config{
		DSN: cfg.DB, Path: filepath.Join(a.cfg.DataDir, "kiri.db"), Sync: cfg.Sync, Logger: log,
	})
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	a.blobs, err = blob.OpenFS(filepath.Join(a.cfg.DataDir, "blobs"), blob.FSOptions{NoSync: cfg.Ephemeral})
	if err != nil {
		return nil, err
	}
	// Disk space held back so a full disk can still be emptied (ephemeral data lives only as
	// long as the process, and keeps none).
	var space *reserve.Reserve
	if !cfg.Ephemeral {
		if space, err = reserve.Open(a.cfg.DataDir, 0, log); err != nil {
			return nil, err
		}
	}

	// Listen before the services start: functions are told Kiri's endpoint, and requests that
	// arrive early wait in the backlog until serving begins.
	a.listener, err = net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	metrics := telemetry.NewMetrics()
	node, err := a.nodeID()
	if err != nil {
		return nil, err
	}
	engine, err := queue.New(ctx, a.store, queue.Config{Logger: log, Node: node, Metrics: metrics.Registerer()})
	if err != nil {
		return nil, err
	}
	a.engine = engine
	usage, err := meter.New(ctx, a.store, log)
	if err != nil {
		return nil, err
	}
	directory := &service.Directory{}
	deps := service.Deps{
		Authz: authz.New(cfg.IAM, func() authz.Identities {
			ids, _ := service.Lookup[authz.Identities](directory, "iam")
			return ids
		}, nil),
		Store: a.store, Blobs: a.blobs, Queue: engine, Targets: dispatch.NewRegistry(a.store, engine, log, nil),
		Meter: usage, Reserve: space, Logger: log, Metrics: metrics.Registerer(), Now: time.Now,
		Config: service.Config{
			DataDir: a.cfg.DataDir, Endpoint: endpointURL(a.Addr()), Auth: cfg.Auth, Ephemeral: cfg.Ephemeral,
			FunctionIdleTimeout: cfg.FunctionIdleTimeout, AsyncRetryDelay: cfg.AsyncRetryDelay,
			FunctionNetworkAllow: cfg.FunctionNetworkAllow, FunctionHostNetwork: cfg.FunctionHostNetwork,
		},
		Services: directory,
	}
	engineWorker, meterWorker := &worker{name: "queue engine"}, &worker{name: "usage meter"}
	a.workers = map[string]*worker{"engine": engineWorker, "meter": meterWorker}
	var apis []*awsproto.Service
	var health []serviceHealth
	frontends := map[string]edge.Frontend{}
	runners := map[string]service.Runner{}
	for _, build := range services {
		svc, err := build(ctx, deps)
		if err != nil {
			return nil, err
		}
		if c, ok := svc.(service.Closer); ok {
			a.closers = append(a.closers, c)
		}
		name := svc.API().Name()
		deps.Services.Add(svc)
		apis = append(apis, svc.API())
		h := serviceHealth{name: name, needs: []healthChecker{a.store, engineWorker}}
		if f, ok := svc.(service.Frontend); ok {
			frontends[name] = f.Frontend()
		}
		if r, ok := svc.(service.Runner); ok {
			w := &worker{name: name + " background work"}
			a.workers[name] = w
			runners[name] = r
			h.needs = append(h.needs, w)
		}
		if c, ok := svc.(service.Checker); ok {
			h.needs = append(h.needs, c)
		}
		health = append(health, h)
	}

	authCfg := auth.Config{Mode: cfg.Auth}
	if keys, ok := service.Lookup[auth.TemporaryKeys](deps.Services, "sts"); ok {
		authCfg.Temporary = keys
	}
	if keys, ok := service.Lookup[auth.LongTermKeys](deps.Services, "iam"); ok {
		authCfg.LongTerm = keys
	}
	if cfg.KeysFile != "" {
		if authCfg.Keys, err = auth.LoadKeysFile(cfg.KeysFile); err != nil {
			return nil, err
		}
	}
	handler := edge.New(edge.Config{
		Router:          awsproto.NewRouter(apis...),
		Auth:            auth.New(authCfg),
		Metrics:         metrics,
		Logger:          log,
		Version:         cfg.Version,
		Health:          func(ctx context.Context) map[string]string { return healthReport(ctx, health, log) },
		Frontends:       frontends,
		AllowedHosts:    cfg.AllowedHosts,
		BodyIdleTimeout: cfg.BodyIdleTimeout,
	})

	a.server = &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 30 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
	// A graceful stop waits for requests in flight, but not for long polls to time out.
	a.server.RegisterOnShutdown(engine.EndWaits)
	runCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	a.stop = stop
	engineWorker.start(runCtx, &a.wg, log, engine.Run)
	meterWorker.start(runCtx, &a.wg, log, func(ctx context.Context) error { usage.Run(ctx); return nil })
	for name, r := range runners {
		a.workers[name].start(runCtx, &a.wg, log, r.Run)
	}
	if cfg.LogFormat == "pretty" {
		services := make([]string, len(apis))
		for i, s := range apis {
			services[i] = s.Name()
		}
		writeBanner(cfg.LogOutput, bannerInfo{
			Version: cfg.Version, Endpoint: endpointURL(a.Addr()), DataDir: a.cfg.DataDir, Store: a.store.Dialect(),
			Ephemeral: cfg.Ephemeral, Auth: cfg.Auth, KeysFile: cfg.KeysFile, Services: services,
		})
	} else {
		log.Info("kiri ready", "addr", a.Addr(), "data_dir", a.cfg.DataDir, "store", a.store.Dialect(),
			"auth", string(cfg.Auth), "sync", string(cfg.Sync), "ephemeral", cfg.Ephemeral, "version", cfg.Version)
	}
	go func() { a.served <- a.server.Serve(a.listener) }()
	return a, nil
}

// Addr is the address the server listens on (useful with port 0).
func (a *App) Addr() string { return a.listener.Addr().String() }

// Done receives the listener's error if the server stops serving on its own.
func (a *App) Done() <-chan error { return a.served }

// Close stops accepting requests, drains those in flight, stops background work and closes
// the store cleanly.
func (a *App) Close(ctx context.Context) error {
	err := a.server.Shutdown(ctx)
	a.stop()
	a.wg.Wait()
	if rerr := a.release(); err == nil {
		err = rerr
	}
	a.log.Info("kiri stopped")
	return err
}

// release closes what Start opened, in reverse order.
func (a *App) release() error {
	var err error
	for _, c := range a.closers {
		c.Close()
	}
	if a.engine != nil {
		a.engine.Close()
	}
	if a.listener != nil && a.server == nil {
		a.listener.Close()
	}
	if a.store != nil {
		err = a.store.Close()
	}
	if a.lock != nil {
		a.lock.Close()
	}
	if a.cfg.Ephemeral && a.cfg.DataDir != "" {
		os.RemoveAll(a.cfg.DataDir)
	}
	return err
}
