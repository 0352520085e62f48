package lambda

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/blob"
	"github.com/kiri-run/kiri/internal/dispatch"
	"github.com/kiri-run/kiri/internal/meter"
	"github.com/kiri-run/kiri/internal/reserve"
	"github.com/kiri-run/kiri/internal/store"
)

// ObjectReader reads an S3 object (implemented by the S3 service).
type ObjectReader interface {
	ReadObject(ctx context.Context, account, bucket, key, versionID string) (io.ReadCloser, int64, error)
}

// Deps are what the Lambda service needs from the rest of Kiri.
type Deps struct {
	Store  *store.Store
	Blobs  blob.Store
	Relay  *dispatch.Relay
	Logger *slog.Logger
	// Objects reads function code from S3; nil refuses S3-sourced code.
	Objects ObjectReader
	// FunctionsDir is <data>/functions: unpacked code lives under its code/ directory.
	FunctionsDir string
	// URLBase builds a function URL from its id and region; the app supplies it.
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
	// Meter receives each invocation's requests and MB-ms; may be nil.
	Meter *meter.Meter
	// Credentials issues the temporary credentials of a function's execution role in the
	// function's account (Kiri's STS); nil hands functions fixed development credentials, which
	// dev-mode auth accepts. When set, a function's role must be of the function's account: a
	// role Kiri can assume for it.
	Credentials func(ctx context.Context, account, roleARN, session string, d time.Duration) (key, secret, token string, err error)
	// AsyncRetryDelay is the wait before the first retry of a failed Event invocation; the second
	// waits twice as long. Default 1 minute, as Lambda.
	AsyncRetryDelay time.Duration
	// Destinations delivers async invocation records to SQS, SNS and EventBridge ARNs; nil, or
	// an ARN it does not deliver to, refuses such destinations and dead-letter targets when they
	// are configured. Lambda destinations are handled here.
	Destinations Destinations
	// Reserve is the data directory's disk reserve; nil holds none (see space.go).
	Reserve *reserve.Reserve
}

// Service is the Lambda control plane.
type Service struct {
	api     *awsproto.Service
	st      *store.Store
	blobs   blob.Store
	log     *slog.Logger
	deps    Deps
	now     func() time.Time
	codeKey []byte // signs GetFunction's code download URLs
	creds   credentialCache
	targets *targetCache // nil with PostgreSQL
}

// New migrates Lambda's tables and registers its control-plane operations and outbox handlers.
func New(ctx context.Context, d Deps) (*Service, error) {
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
	api, err := awsproto.NewService("lambda", awsproto.ServiceOptions{HandlerEnums: []string{"Runtime"},
		Intercept: func(ctx context.Context, op string, next func(context.Context) error) error {
			return d.Reserve.Run(ctx, spaceKind(op), next, errCodeStorageFull)
		}})
	if err != nil {
		return nil, err
	}
	s := &Service{api: api, st: d.Store, blobs: d.Blobs, log: d.Logger.With("service", "lambda"), deps: d, now: time.Now, codeKey: make([]byte, 32), targets: newTargetCache(d.Store)}
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
	d.Relay.Handle(topicState, s.settleState, dispatch.HandlerOptions{})
	d.Relay.Handle(topicCodeGC, s.collectCode, dispatch.HandlerOptions{})
	var functions int
	if err := d.Store.QueryRow(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM lambda_versions LIMIT 1) AS v`).Scan(&functions); err != nil {
		return nil, fmt.Errorf("look for functions: %w", err)
	}
	if functions > 0 {
		s.warm()
	}
	return s, nil
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
