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
	"strings"
	"sync"
	"time"

	"github.com/kiri-run/kiri/internal/auth"
	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/blob"
	"github.com/kiri-run/kiri/internal/dispatch"
	"github.com/kiri-run/kiri/internal/edge"
	"github.com/kiri-run/kiri/internal/meter"
	"github.com/kiri-run/kiri/internal/queue"
	"github.com/kiri-run/kiri/internal/runtime"
	"github.com/kiri-run/kiri/internal/service/lambda"
	"github.com/kiri-run/kiri/internal/service/logs"
	"github.com/kiri-run/kiri/internal/service/s3"
	"github.com/kiri-run/kiri/internal/service/sqs"
	"github.com/kiri-run/kiri/internal/service/sts"
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
	// LogFormat is json or text. Default json.
	LogFormat string
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
	// AsyncRetryDelay is the wait before the first retry of a failed asynchronous invocation.
	// Default 1m, as Lambda.
	AsyncRetryDelay time.Duration
}

// App is a running Kiri.
type App struct {
	cfg      Config
	log      *slog.Logger
	lock     *os.File
	store    *store.Store
	blobs    blob.Store
	pool     *runtime.Pool
	server   *http.Server
	listener net.Listener
	stop     context.CancelFunc
	wg       sync.WaitGroup
	served   chan error
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
	relay := dispatch.NewRelay(a.store, log, node)
	engine, err := queue.New(ctx, a.store, queue.Config{Logger: log, Node: node})
	if err != nil {
		return nil, err
	}
	stsSvc, err := sts.New(ctx, a.store, relay, log)
	if err != nil {
		return nil, err
	}
	notify := &notifiers{}
	s3Svc, err := s3.New(ctx, s3.Deps{Store: a.store, Blobs: a.blobs, Relay: relay, Logger: log, Notifier: notify})
	if err != nil {
		return nil, err
	}
	logsSvc, err := logs.New(ctx, logs.Deps{Store: a.store, Relay: relay, Logger: log})
	if err != nil {
		return nil, err
	}
	usage, err := meter.New(ctx, a.store, log)
	if err != nil {
		return nil, err
	}
	a.pool, err = runtime.New(runtime.Config{
		Dir:         filepath.Join(a.cfg.DataDir, "functions", "instances"),
		HidePaths:   []string{a.cfg.DataDir},
		Endpoint:    endpointURL(a.Addr()),
		IdleTimeout: cfg.FunctionIdleTimeout,
		Logs:        functionLogs{logsSvc},
		Metrics:     metrics.Registerer(),
		Logger:      log,
	})
	if err != nil {
		return nil, fmt.Errorf("start function runtime: %w", err)
	}
	lambdaDeps := lambda.Deps{
		Store: a.store, Blobs: a.blobs, Relay: relay, Logger: log, Objects: s3Svc,
		FunctionsDir: filepath.Join(a.cfg.DataDir, "functions"),
		URLBase: func(urlID, region string) string {
			_, port, _ := net.SplitHostPort(a.Addr())
			return "http://" + urlID + ".lambda-url." + region + ".localhost:" + port + "/"
		},
		Runtime: a.pool, Meter: usage, Drain: a.pool.Drain, AsyncRetryDelay: cfg.AsyncRetryDelay,
	}
	if cfg.Auth == auth.Strict {
		// Functions sign their calls back to Kiri with their execution role's credentials.
		lambdaDeps.Credentials = func(ctx context.Context, role, session string, d time.Duration) (string, string, string, error) {
			k, err := stsSvc.RoleCredentials(ctx, "lambda.amazonaws.com", role, session, d)
			return k.AccessKeyID, k.SecretAccessKey, k.SessionToken, err
		}
	}
	lambdaSvc, err := lambda.New(ctx, lambdaDeps)
	if err != nil {
		return nil, err
	}
	notify.lambda = lambdaSvc
	sqsSvc, err := sqs.New(ctx, sqs.Deps{Store: a.store, Queues: engine, Logger: log})
	if err != nil {
		return nil, err
	}
	apis := []*awsproto.Service{stsSvc.API(), s3Svc.API(), lambdaSvc.API(), logsSvc.API(), sqsSvc.API()}

	authCfg := auth.Config{Mode: cfg.Auth, Temporary: stsSvc}
	if cfg.KeysFile != "" {
		if authCfg.Keys, err = auth.LoadKeysFile(cfg.KeysFile); err != nil {
			return nil, err
		}
	}
	health := make(map[string]string, len(apis))
	for _, s := range apis {
		health[s.Name()] = "running"
	}
	handler := edge.New(edge.Config{
		Router:  awsproto.NewRouter(apis...),
		Auth:    auth.New(authCfg),
		Metrics: metrics,
		Logger:  log,
		Version: cfg.Version,
		Health:  func(context.Context) map[string]string { return health },
		CORS:    s3Svc,
		Forms:   s3Svc,

		FunctionURLs: lambdaSvc,
	})

	a.server = &http.Server{
		Handler:           withLambdaCode(handler, lambdaSvc.CodeHandler()),
		ReadHeaderTimeout: 30 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
	runCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	a.stop = stop
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		if err := relay.Run(runCtx); err != nil && !errors.Is(err, context.Canceled) {
			log.Error("outbox relay stopped", "err", err)
		}
	}()
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		if err := engine.Run(runCtx); err != nil {
			log.Error("queue engine stopped", "err", err)
		}
		engine.Close()
	}()
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		s3Svc.Run(runCtx)
	}()
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		usage.Run(runCtx)
	}()
	go func() { a.served <- a.server.Serve(a.listener) }()
	log.Info("kiri ready", "addr", a.Addr(), "data_dir", a.cfg.DataDir, "store", a.store.Dialect(),
		"auth", string(cfg.Auth), "sync", string(cfg.Sync), "ephemeral", cfg.Ephemeral, "version", cfg.Version)
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
	if a.pool != nil {
		a.pool.Close()
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

// withLambdaCode serves the download URLs of GetFunction's Code.Location beside the edge.
func withLambdaCode(next, code http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, lambda.CodePath) {
			code.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}
