// Package service is the one shape of a Kiri service. A service is built from one Deps by its
// package's New, contributes its AWS API (operations through the codec), and may contribute
// more by implementing the optional interfaces below: edge routes and hooks (Frontend),
// background work (Runner), a health check (Checker), resources to release (Closer). Its
// migrations run in New, and its asynchronous work is queue handlers registered on Deps.Queue.
// The app holds the list of services; adding one is adding it to that list.
package service

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kiri-run/kiri/internal/auth"
	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/blob"
	"github.com/kiri-run/kiri/internal/dispatch"
	"github.com/kiri-run/kiri/internal/edge"
	"github.com/kiri-run/kiri/internal/iam/authz"
	"github.com/kiri-run/kiri/internal/meter"
	"github.com/kiri-run/kiri/internal/queue"
	"github.com/kiri-run/kiri/internal/reserve"
	"github.com/kiri-run/kiri/internal/store"
)

// Deps is what every service is built with.
type Deps struct {
	// Store holds the service's metadata and records.
	Store *store.Store
	// Blobs holds bytes: object bodies, function code.
	Blobs blob.Store
	// Queue is the engine for every piece of asynchronous work.
	Queue *queue.Engine
	// Authz decides whether calls may act on resources (IAM policies); every operation asks it.
	Authz *authz.Authorizer
	// Targets delivers to other services and is where a service that receives deliveries
	// registers its ARNs' Kind.
	Targets *dispatch.Registry
	// Meter receives usage records.
	Meter *meter.Meter
	// Reserve is the data directory's disk reserve; nil holds none.
	Reserve *reserve.Reserve
	// Logger is Kiri's logger.
	Logger *slog.Logger
	// Metrics registers the service's Prometheus metrics.
	Metrics prometheus.Registerer
	// Now is the clock.
	Now func() time.Time
	// Config is the part of Kiri's configuration services read.
	Config Config
	// Services finds the other services by name. Services are built in list order, so look
	// others up when they are used, not in New.
	Services *Directory
}

// Config is the part of Kiri's configuration services read.
type Config struct {
	// DataDir is Kiri's data directory.
	DataDir string
	// Endpoint is the URL functions and generated URLs reach Kiri at, e.g. http://127.0.0.1:4566.
	Endpoint string
	// Auth is dev or strict.
	Auth auth.Mode
	// Ephemeral reports a data directory removed on exit.
	Ephemeral bool
	// FunctionIdleTimeout is how long an idle function instance lives; 0 for the default.
	FunctionIdleTimeout time.Duration
	// FunctionNetworkAllow lists what functions may reach besides Kiri's endpoint and the
	// public network (runtime.ParseNetAllow; validated at start).
	FunctionNetworkAllow string
	// FunctionHostNetwork lets functions share the host's network.
	FunctionHostNetwork bool
	// AsyncRetryDelay is the wait before the first retry of a failed Event invocation; 0 for
	// the default.
	AsyncRetryDelay time.Duration
}

// Service is an AWS service Kiri serves.
type Service interface {
	// API is the service's operations, mounted on the router.
	API() *awsproto.Service
}

// Frontend is a service with more than its API at the edge: routes claimed by host or path
// (function URLs, browser uploads), and hooks on its API calls (S3's virtual hosts and CORS).
type Frontend interface {
	Frontend() edge.Frontend
}

// Runner is a service with background work besides its queue handlers. Run returns when ctx
// ends; returning earlier means the work stopped, and the service reports itself down.
type Runner interface {
	Run(ctx context.Context) error
}

// Checker is a service that can tell whether what it needs beyond the store and the queue
// engine works (the function runtime, for example).
type Checker interface {
	Health(ctx context.Context) error
}

// Closer is a service holding resources to release after serving stops.
type Closer interface {
	Close()
}

// New builds a service from its Deps.
type New func(ctx context.Context, d Deps) (Service, error)

// Of adapts a package's typed constructor to New.
func Of[S Service](f func(context.Context, Deps) (S, error)) New {
	return func(ctx context.Context, d Deps) (Service, error) { return f(ctx, d) }
}

// Directory finds services by name.
type Directory struct {
	mu sync.RWMutex
	m  map[string]Service
}

// Add lists s under its API's name.
func (d *Directory) Add(s Service) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.m == nil {
		d.m = map[string]Service{}
	}
	d.m[s.API().Name()] = s
}

// Lookup finds the service named name as a T, an interface its consumer declares. It reports
// false when no such service runs or it does not implement T.
func Lookup[T any](d *Directory, name string) (T, bool) {
	var zero T
	if d == nil {
		return zero, false
	}
	d.mu.RLock()
	s, ok := d.m[name]
	d.mu.RUnlock()
	if !ok {
		return zero, false
	}
	t, ok := s.(T)
	return t, ok
}
