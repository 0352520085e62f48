// Package events implements Amazon EventBridge: event buses (the default bus of each account
// and region, and custom buses) with resource policies and tags, rules with event patterns,
// targets, and PutEvents.
//
// A PutEvents call matches each event against the enabled rules of its bus with one compiled
// pattern.Machine per bus (rebuilt when the bus's rules or targets change), and commits, in one
// store write, one durable delivery per matched target through the target registry
// (internal/dispatch), with the target's retry policy and dead-letter queue. EventBridge also
// registers the "events" kind of the target registry: a delivery to a bus ARN (from a rule of
// another bus, from S3) is put on that bus as an event, and a delivery to an API destination
// ARN is an HTTP call to its endpoint (internal/apidest), with its connection's authorization.
//
// Connections keep their credentials in the store, and no response carries them.
package events

//go:generate go run github.com/kiri-run/kiri/internal/awsproto/apigen -model events -package events -out api_gen.go

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/kiri-run/kiri/internal/apidest"
	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/dispatch"
	"github.com/kiri-run/kiri/internal/iam/authz"
	"github.com/kiri-run/kiri/internal/iam/policy"
	"github.com/kiri-run/kiri/internal/queue"
	"github.com/kiri-run/kiri/internal/service"
	"github.com/kiri-run/kiri/internal/store"
)

// principal is EventBridge's service principal, the source of its deliveries.
const principal = "events.amazonaws.com"

// Service is the EventBridge API.
type Service struct {
	api      *awsproto.Service
	st       *store.Store
	eng      *queue.Engine
	targets  *dispatch.Registry
	log      *slog.Logger
	now      func() time.Time
	authz    *authz.Authorizer
	policies *policy.Cache
	services *service.Directory

	// apidest calls API destinations; limiter keeps their invocation rates.
	apidest *apidest.Client
	limiter *apidest.Limiter

	// routes keeps each bus's compiled rules by bus id.
	routesMu sync.Mutex
	routes   map[int64]*busRoutes
}

// New migrates EventBridge's tables and registers its operations, its queue handlers and its
// kind on the target registry.
func New(ctx context.Context, d service.Deps) (*Service, error) {
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if err := d.Store.Migrate(ctx, "events", migrations); err != nil {
		return nil, fmt.Errorf("migrate events: %w", err)
	}
	s := &Service{
		services: d.Services,
		st:       d.Store,
		eng:      d.Queue,
		targets:  d.Targets,
		log:      d.Logger.With("service", "events"),
		now:      d.Now,
		authz:    d.Authz,
		policies: policy.NewCache(256),
		routes:   map[int64]*busRoutes{},
		apidest:  apidest.NewClient(d.Now, nil),
		limiter:  apidest.NewLimiter(),
	}
	api, err := awsproto.NewService("events", awsproto.ServiceOptions{
		Authorize: d.Authz.Hook("events", s.operations(), accessDenied),
	})
	if err != nil {
		return nil, err
	}
	s.api = api
	s.registerBusOps()
	s.registerRuleOps()
	s.registerTargetOps()
	s.registerArchiveOps()
	s.registerConnectionOps()
	s.registerDestinationOps()
	awsproto.Handle(api, "PutEvents", s.putEvents)
	d.Queue.Handle(scheduleQueue, s.fire, queue.HandlerOptions{Concurrency: 4})
	d.Queue.Handle(authorizeQueue, s.authorizeConnection, queue.HandlerOptions{Concurrency: 2})
	d.Queue.Handle(replayQueue, s.replayStep, queue.HandlerOptions{Concurrency: 2})
	d.Queue.Every("events.archive-retention", archiveRetentionInterval, archiveRetentionInterval, s.sweepArchives)
	d.Targets.Register("events", kind{s})
	return s, nil
}

// API returns the codec-facing service to mount on the router.
func (s *Service) API() *awsproto.Service { return s.api }

// enforcing reports whether IAM decides calls (strict mode's default).
func (s *Service) enforcing() bool { return s.authz.Mode() == authz.Enforce }

// querier reads rows, in a write or outside one.
type querier interface {
	QueryRow(query string, args ...any) *sql.Row
	Query(query string, args ...any) (*sql.Rows, error)
}

// storeReader reads the store outside a write.
type storeReader struct {
	ctx context.Context
	st  *store.Store
}

func (r storeReader) QueryRow(query string, args ...any) *sql.Row {
	return r.st.QueryRow(r.ctx, query, args...)
}

func (r storeReader) Query(query string, args ...any) (*sql.Rows, error) {
	return r.st.Query(r.ctx, query, args...)
}

func (s *Service) reader(ctx context.Context) querier { return storeReader{ctx, s.st} }
