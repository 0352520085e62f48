package lambda

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kiri-run/kiri/internal/auth"
	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/blob"
	"github.com/kiri-run/kiri/internal/eventsource"
	"github.com/kiri-run/kiri/internal/iam/policy"
	"github.com/kiri-run/kiri/internal/queue"
	"github.com/kiri-run/kiri/internal/runtime"
	"github.com/kiri-run/kiri/internal/service"
	"github.com/kiri-run/kiri/internal/store"
	"github.com/kiri-run/kiri/internal/streamlog"
)

// wiring is what the Lambda service needs beyond service.Deps: New builds it from those,
// and tests build their own.
type wiring struct {
	service.Deps
	// Objects reads function code from S3; nil refuses S3-sourced code.
	Objects ObjectReader
	// Queues reads the SQS queues event source mappings poll.
	Queues sqsQueues
	// FunctionsDir is <data>/functions: unpacked code lives under its code/ directory.
	FunctionsDir string
	// URLBase builds a function URL from its id and region.
	URLBase func(urlID, region string) string
	// Drain is called, after the change commits, with the pool-key prefix of a function whose
	// code or configuration changed or that was deleted, so its old instances retire; may be nil.
	Drain func(keyPrefix string)
	// Runtime runs invocations; nil answers them with ServiceException.
	Runtime Invoker
	// Warm is called when functions exist that may soon be invoked (at start, and when one
	// becomes Active or is updated), so the runtime can prepare for cold starts off the request
	// path; may be nil.
	Warm func()
	// Credentials issues the temporary credentials of a function's execution role in the
	// function's account (Kiri's STS); nil hands functions fixed development credentials, which
	// dev-mode auth accepts.
	Credentials func(ctx context.Context, account, roleARN, session string, d time.Duration) (key, secret, token string, err error)
	// CheckRole refuses a role Lambda cannot assume for a function of account (STS decides);
	// nil accepts any.
	CheckRole func(ctx context.Context, account, roleARN string) error
	// AsyncRetryDelay is the wait before the first retry of a failed Event invocation; the second
	// waits twice as long. Default 1 minute, as Lambda.
	AsyncRetryDelay time.Duration
}

// Service is the Lambda control plane.
type Service struct {
	api     *awsproto.Service
	st      *store.Store
	blobs   blob.Store
	log     *slog.Logger
	deps    wiring
	pool    *runtime.Pool // nil in tests that bring their own Runtime
	now     func() time.Time
	codeKey []byte // signs GetFunction's code download URLs
	creds   credentialCache
	targets *targetCache // nil with PostgreSQL
	// pollers counts the running pollers of each event source mapping.
	pollers *prometheus.GaugeVec
	// functionDeleted ends the waits of event source mapping pollers when a function is
	// deleted, so that a mapping whose function is gone takes no more messages.
	functionDeleted broadcast
	// policies keeps compiled function policies, for decisions in enforce mode.
	policies *policy.Cache
	// records is the record log stream event source mappings read.
	records *streamlog.Log
}

// New starts the function runtime, migrates Lambda's tables and registers its operations,
// queue handlers and target kind.
func New(ctx context.Context, d service.Deps) (*Service, error) {
	w := wiring{
		Deps:            d,
		Objects:         lazyObjects{d.Services},
		Queues:          eventsource.LazyQueues(d.Services),
		FunctionsDir:    filepath.Join(d.Config.DataDir, "functions"),
		URLBase:         urlBase(d.Config.Endpoint),
		AsyncRetryDelay: d.Config.AsyncRetryDelay,
	}
	if d.Config.Auth == auth.Strict {
		// Functions sign their calls back to Kiri with their execution role's credentials.
		w.Credentials = issueRoleCredentials(d.Services)
		w.CheckRole = checkRoleWithSTS(d.Services)
	}
	allow, err := runtime.ParseNetAllow(d.Config.FunctionNetworkAllow)
	if err != nil {
		return nil, fmt.Errorf("function network allow-list: %w", err)
	}
	pool, err := runtime.New(runtime.Config{
		Dir:          filepath.Join(w.FunctionsDir, "instances"),
		HidePaths:    []string{d.Config.DataDir},
		Endpoint:     d.Config.Endpoint,
		IdleTimeout:  d.Config.FunctionIdleTimeout,
		HostNetwork:  d.Config.FunctionHostNetwork,
		NetworkAllow: allow,
		Logs:         lazyLogs{d.Services},
		Metrics:      d.Metrics,
		Logger:       d.Logger,
	})
	if err != nil {
		return nil, fmt.Errorf("start function runtime: %w", err)
	}
	w.Runtime, w.Drain, w.Warm = pool, pool.Drain, pool.Warm
	s, err := newService(ctx, w)
	if err != nil {
		pool.Close()
		return nil, err
	}
	s.pool = pool
	return s, nil
}

// newService builds Lambda on w.
func newService(ctx context.Context, d wiring) (*Service, error) {
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.AsyncRetryDelay <= 0 {
		d.AsyncRetryDelay = time.Minute
	}
	if err := d.Store.Migrate(ctx, "lambda", migrations); err != nil {
		return nil, fmt.Errorf("migrate lambda: %w", err)
	}
	if d.FunctionsDir == "" {
		return nil, fmt.Errorf("lambda: FunctionsDir is required")
	}
	if err := os.MkdirAll(filepath.Join(d.FunctionsDir, "code"), 0o755); err != nil {
		return nil, fmt.Errorf("create functions dir: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(d.FunctionsDir, "tmp"), 0o755); err != nil {
		return nil, fmt.Errorf("create functions dir: %w", err)
	}
	records, err := streamlog.Open(ctx, d.Store, d.Now)
	if err != nil {
		return nil, err
	}
	s := &Service{records: records, st: d.Store, blobs: d.Blobs, log: d.Logger.With("service", "lambda"), deps: d, now: time.Now, codeKey: make([]byte, 32), targets: newTargetCache(d.Store),
		pollers: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "kiri_lambda_event_source_pollers", Help: "Pollers running for an event source mapping (batches it can process at once).",
		}, []string{"uuid"}), policies: policy.NewCache(1024)}
	api, err := awsproto.NewService("lambda", awsproto.ServiceOptions{HandlerEnums: []string{"Runtime"},
		Authorize: d.Authz.Hook("lambda", s.operations(), accessDenied),
		Intercept: func(ctx context.Context, op string, next func(context.Context) error) error {
			return d.Reserve.Run(ctx, spaceKind(op), next, errCodeStorageFull)
		}})
	if err != nil {
		return nil, err
	}
	s.api = api
	if d.Metrics != nil {
		var again prometheus.AlreadyRegisteredError
		if err := d.Metrics.Register(s.pollers); errors.As(err, &again) {
			s.pollers = again.ExistingCollector.(*prometheus.GaugeVec) // a service built again on the same registry
		} else if err != nil {
			return nil, fmt.Errorf("register event source mapping metrics: %w", err)
		}
	}
	rand.Read(s.codeKey)
	s.registerFunctionOps()
	s.registerVersionOps()
	s.registerAliasOps()
	s.registerTagOps()
	s.registerConcurrencyOps()
	s.registerInvokeConfigOps()
	s.registerPolicyOps()
	s.registerURLOps()
	s.registerInvokeOps()
	s.registerAsync()
	s.registerMappingOps()
	d.Queue.Handle(topicState, s.settleState, queue.HandlerOptions{})
	d.Queue.Handle(topicCodeGC, s.collectCode, queue.HandlerOptions{})
	d.Targets.Register("lambda", kind{s})
	var functions int
	if err := d.Store.QueryRow(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM lambda_versions LIMIT 1) AS v`).Scan(&functions); err != nil {
		return nil, fmt.Errorf("look for functions: %w", err)
	}
	if functions > 0 {
		s.warm()
	}
	if d.Queues == nil {
		s.deps.Queues = eventsource.LazyQueues(d.Services)
	}
	if err := s.resumeMappings(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// Health reports whether the function runtime runs.
func (s *Service) Health(ctx context.Context) error {
	if s.pool == nil {
		return nil
	}
	return s.pool.Health(ctx)
}

// Close stops every function instance.
func (s *Service) Close() {
	if s.pool != nil {
		s.pool.Close()
	}
}

// warm tells the runtime that functions may soon be invoked.
func (s *Service) warm() {
	if s.deps.Warm != nil {
		s.deps.Warm()
	}
}

// API returns the codec-facing service to mount on the router.
func (s *Service) API() *awsproto.Service { return s.api }

// drain retires the instances of a function after a committed change.
func (s *Service) drain(r funcRef) {
	if s.deps.Drain != nil {
		s.deps.Drain(poolPrefix(r.account, r.region, r.name))
	}
}
