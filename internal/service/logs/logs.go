// Package logs implements Amazon CloudWatch Logs: log groups and streams, event ingestion
// (PutLogEvents, and AppendLogs for Kiri's own function output), reading (GetLogEvents,
// FilterLogEvents with CloudWatch filter patterns), retention and tags. Everything lives in
// the store; deleting a group or stream drops its rows at once and purges its events through
// the queue engine, and a periodic job of the engine sweeps events past their group's retention.
package logs

//go:generate go run github.com/kiri-run/kiri/internal/awsproto/apigen -model logs -package logs -out api_gen.go

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/queue"
	"github.com/kiri-run/kiri/internal/service"
	"github.com/kiri-run/kiri/internal/store"
)

// sweepInterval paces the retention sweep.
const sweepInterval = 10 * time.Minute

// Service is the CloudWatch Logs API.
type Service struct {
	api   *awsproto.Service
	st    *store.Store
	queue *queue.Engine
	log   *slog.Logger
	now   func() time.Time
}

// New migrates the Logs tables, registers its operations and queue handlers, and schedules
// the retention sweep.
func New(ctx context.Context, d service.Deps) (*Service, error) {
	return newService(ctx, d, sweepInterval)
}

// newService is New with the retention sweep every sweep.
func newService(ctx context.Context, d service.Deps, sweep time.Duration) (*Service, error) {
	if err := d.Store.Migrate(ctx, "logs", migrations); err != nil {
		return nil, fmt.Errorf("migrate logs: %w", err)
	}
	s := &Service{st: d.Store, queue: d.Queue, log: d.Logger.With("service", "logs"), now: time.Now}
	api, err := awsproto.NewService("logs", awsproto.ServiceOptions{
		ValidationError: validationError,
		Authorize:       d.Authz.Hook("logs", s.operations(), accessDenied),
	})
	if err != nil {
		return nil, err
	}
	s.api = api
	s.registerGroupOps()
	s.registerStreamOps()
	s.registerEventOps()
	s.registerRetentionOps()
	s.registerTagOps()
	d.Queue.Handle(topicPurge, s.purge, queue.HandlerOptions{Concurrency: 2})
	if d.Targets != nil {
		d.Targets.Register("logs", kind{s})
	}
	d.Queue.Every(topicSweep, sweep, sweep, s.sweepAll)
	return s, nil
}

// API returns the codec-facing service to mount on the router.
func (s *Service) API() *awsproto.Service { return s.api }

func (s *Service) registerGroupOps() {
	awsproto.Handle(s.api, "CreateLogGroup", s.createLogGroup)
	awsproto.Handle(s.api, "DeleteLogGroup", s.deleteLogGroup)
	awsproto.Handle(s.api, "DescribeLogGroups", s.describeLogGroups)
}

func (s *Service) registerStreamOps() {
	awsproto.Handle(s.api, "CreateLogStream", s.createLogStream)
	awsproto.Handle(s.api, "DeleteLogStream", s.deleteLogStream)
	awsproto.Handle(s.api, "DescribeLogStreams", s.describeLogStreams)
}

func (s *Service) registerEventOps() {
	awsproto.Handle(s.api, "PutLogEvents", s.putLogEvents)
	awsproto.Handle(s.api, "GetLogEvents", s.getLogEvents)
	awsproto.Handle(s.api, "FilterLogEvents", s.filterLogEvents)
}

func (s *Service) registerRetentionOps() {
	awsproto.Handle(s.api, "PutRetentionPolicy", s.putRetentionPolicy)
	awsproto.Handle(s.api, "DeleteRetentionPolicy", s.deleteRetentionPolicy)
}

func (s *Service) registerTagOps() {
	awsproto.Handle(s.api, "TagResource", s.tagResource)
	awsproto.Handle(s.api, "UntagResource", s.untagResource)
	awsproto.Handle(s.api, "ListTagsForResource", s.listTagsForResource)
	awsproto.Handle(s.api, "TagLogGroup", s.tagLogGroup)
	awsproto.Handle(s.api, "UntagLogGroup", s.untagLogGroup)
	awsproto.Handle(s.api, "ListTagsLogGroup", s.listTagsLogGroup)
}

// validationError words model-validation failures as CloudWatch Logs does: an
// InvalidParameterException carrying the usual "N validation errors detected" sentence.
func validationError(_ string, problems []string) *awsproto.Error {
	return invalidParameter("%s", validationMessage(problems))
}

func validationMessage(problems []string) string {
	noun := "errors"
	if len(problems) == 1 {
		noun = "error"
	}
	return fmt.Sprintf("%d validation %s detected: %s", len(problems), noun, strings.Join(problems, "; "))
}
