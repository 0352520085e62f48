// Package scheduler implements Amazon EventBridge Scheduler: schedule groups (the default group
// exists implicitly) with tags, and schedules with at(), rate() and cron() expressions in IANA
// time zones, start and end dates, flexible time windows, ActionAfterCompletion, and templated
// targets (Lambda, SQS, SNS and, once a service registers the "events" Kind, EventBridge buses)
// with input templates, retry policies and SQS dead-letter queues.
//
// Firing is durable on the queue engine: each enabled schedule has one timer message due at its
// next fire. Its handler, in one transaction, hands the invocation to the target registry and
// sends the timer of the fire after it (or completes the schedule). The invocation is delivered
// through this package's own Kind, which fills in the attempt number, applies the schedule's
// retry policy and sends what fails for good to the dead-letter queue with Scheduler's error
// attributes. A fire that fell due while Kiri was down is delivered when it comes back, unless
// it is older than the schedule's MaximumEventAgeInSeconds; then it goes to the dead-letter
// queue, as an invocation that could not be delivered in time does.
package scheduler

//go:generate go run github.com/kiri-run/kiri/internal/awsproto/apigen -model scheduler -package scheduler -out api_gen.go

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/dispatch"
	"github.com/kiri-run/kiri/internal/iam/authz"
	"github.com/kiri-run/kiri/internal/queue"
	"github.com/kiri-run/kiri/internal/service"
	"github.com/kiri-run/kiri/internal/store"
)

// principal is the service principal of Scheduler's deliveries and the one its execution
// roles must trust.
const principal = "scheduler.amazonaws.com"

// Service is the EventBridge Scheduler API and its timers.
type Service struct {
	api      *awsproto.Service
	st       *store.Store
	eng      *queue.Engine
	targets  *dispatch.Registry
	authz    *authz.Authorizer
	services *service.Directory
	log      *slog.Logger
	now      func() time.Time
}

// New migrates Scheduler's tables, registers its operations, its timer handler and its Kind.
func New(ctx context.Context, d service.Deps) (*Service, error) {
	if err := d.Store.Migrate(ctx, "scheduler", migrations); err != nil {
		return nil, fmt.Errorf("migrate scheduler: %w", err)
	}
	s := &Service{st: d.Store, eng: d.Queue, targets: d.Targets, authz: d.Authz, services: d.Services,
		log: d.Logger.With("service", "scheduler"), now: d.Now}
	if s.now == nil {
		s.now = time.Now
	}
	checks, err := patternChecks()
	if err != nil {
		return nil, err
	}
	api, err := awsproto.NewService("scheduler", awsproto.ServiceOptions{
		ValidationError: validationError,
		StringChecks:    checks,
		Authorize:       d.Authz.Hook("scheduler", s.operations(), accessDenied),
	})
	if err != nil {
		return nil, err
	}
	s.api = api
	awsproto.Handle(s.api, "CreateScheduleGroup", s.createScheduleGroup)
	awsproto.Handle(s.api, "GetScheduleGroup", s.getScheduleGroup)
	awsproto.Handle(s.api, "ListScheduleGroups", s.listScheduleGroups)
	awsproto.Handle(s.api, "DeleteScheduleGroup", s.deleteScheduleGroup)
	awsproto.Handle(s.api, "CreateSchedule", s.createSchedule)
	awsproto.Handle(s.api, "GetSchedule", s.getSchedule)
	awsproto.Handle(s.api, "UpdateSchedule", s.updateSchedule)
	awsproto.Handle(s.api, "DeleteSchedule", s.deleteSchedule)
	awsproto.Handle(s.api, "ListSchedules", s.listSchedules)
	awsproto.Handle(s.api, "TagResource", s.tagResource)
	awsproto.Handle(s.api, "UntagResource", s.untagResource)
	awsproto.Handle(s.api, "ListTagsForResource", s.listTagsForResource)
	d.Queue.Handle(fireQueue, s.fire, queue.HandlerOptions{Concurrency: 8})
	if d.Targets != nil {
		d.Targets.Register("scheduler", kind{s})
	}
	return s, nil
}

// API returns the codec-facing service to mount on the router.
func (s *Service) API() *awsproto.Service { return s.api }

// enforcing reports whether IAM is enforced.
func (s *Service) enforcing() bool { return s.authz.Mode() == authz.Enforce }

// scope is the account and region a call acts in.
type scope struct{ account, region string }

func scopeOf(ctx context.Context) scope {
	a, r := awsproto.CallFrom(ctx).Scope()
	return scope{a, r}
}

func (sc scope) groupARN(name string) string {
	return "arn:aws:scheduler:" + sc.region + ":" + sc.account + ":schedule-group/" + name
}

func (sc scope) scheduleARN(group, name string) string {
	return "arn:aws:scheduler:" + sc.region + ":" + sc.account + ":schedule/" + group + "/" + name
}
