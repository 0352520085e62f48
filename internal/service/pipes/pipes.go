// Package pipes implements Amazon EventBridge Pipes: point-to-point pipes from a source (an
// SQS queue or a DynamoDB stream) through optional filters (FilterCriteria, in the shared
// event-pattern language) and an optional enrichment (a Lambda function or an Express state
// machine run synchronously with each batch, or an EventBridge API destination called with each
// event) to a target reached through the target registry (Lambda, SQS, SNS, an EventBridge bus,
// a state machine) or an API destination, with input templates on the enrichment and the target.
//
// A pipe is stored with the state Pipes reports. A change (create, update, start, stop,
// delete) commits a transitional state (CREATING, UPDATING, STARTING, STOPPING, DELETING)
// and queues, in the same transaction, the message that finishes it: it checks what the pipe
// needs, starts or stops the pipe's poller (a leased worker on the queue engine, so a running
// pipe runs again after a restart) and records the state reached. The pollers read through
// the same interfaces as Lambda's event source mappings: the SQS service's poll methods and
// the stream record log (internal/streamlog) with a checkpoint per pipe.
package pipes

//go:generate go run github.com/kiri-run/kiri/internal/awsproto/apigen -model pipes -package pipes -out api_gen.go

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/eventsource"
	"github.com/kiri-run/kiri/internal/queue"
	"github.com/kiri-run/kiri/internal/service"
	"github.com/kiri-run/kiri/internal/streamlog"
)

// Service is the EventBridge Pipes API.
type Service struct {
	api      *awsproto.Service
	deps     service.Deps
	log      *slog.Logger
	now      func() time.Time
	records  *streamlog.Log
	queues   eventsource.Queues
	lambda   functions
	dests    destinations
	machines stateMachines
}

// New migrates the Pipes tables, registers its operations and the queue handler that settles
// pipe transitions, and starts the pollers of running pipes.
func New(ctx context.Context, d service.Deps) (*Service, error) {
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if err := d.Store.Migrate(ctx, "pipes", migrations); err != nil {
		return nil, fmt.Errorf("migrate pipes: %w", err)
	}
	records, err := streamlog.Open(ctx, d.Store, d.Now)
	if err != nil {
		return nil, err
	}
	s := &Service{deps: d, log: d.Logger.With("service", "pipes"), now: d.Now, records: records,
		queues: eventsource.LazyQueues(d.Services), lambda: lazyFunctions{d.Services}, dests: lazyDestinations{d.Services},
		machines: lazyStateMachines{d.Services}}
	api, err := awsproto.NewService("pipes", awsproto.ServiceOptions{
		ValidationError: modelValidationError,
		StringChecks:    patternChecks(),
		Authorize:       d.Authz.Hook("pipes", s.operations(), accessDenied),
	})
	if err != nil {
		return nil, err
	}
	s.api = api
	awsproto.Handle(api, "CreatePipe", s.createPipe)
	awsproto.Handle(api, "DescribePipe", s.describePipe)
	awsproto.Handle(api, "UpdatePipe", s.updatePipe)
	awsproto.Handle(api, "DeletePipe", s.deletePipe)
	awsproto.Handle(api, "ListPipes", s.listPipes)
	awsproto.Handle(api, "StartPipe", s.startPipe)
	awsproto.Handle(api, "StopPipe", s.stopPipe)
	awsproto.Handle(api, "TagResource", s.tagResource)
	awsproto.Handle(api, "UntagResource", s.untagResource)
	awsproto.Handle(api, "ListTagsForResource", s.listTagsForResource)
	d.Queue.Handle(topicSettle, s.settle, queue.HandlerOptions{})
	if err := s.resume(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// API returns the codec-facing service to mount on the router.
func (s *Service) API() *awsproto.Service { return s.api }
