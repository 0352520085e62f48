// Package sfn implements AWS Step Functions: state machines with versions and aliases,
// activities, tags, and executions of the Amazon States Language (interpreted by internal/asl).
//
// A Standard execution is durable on the store and the queue engine: its interpreter state is
// stored after every step, in the one transaction that also stores the step's history events
// and sends the queue messages of what it now waits for (a task to run, a timer to fire). A
// restart resumes it from the stored state, and a message delivered twice finds its effect no
// longer pending and changes nothing. Express executions run in memory and keep no history but
// what their logging configuration sends to CloudWatch Logs.
package sfn

//go:generate go run github.com/kiri-run/kiri/internal/awsproto/apigen -model stepfunctions -package sfn -out api_gen.go

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

// principal is the service principal state machines' roles must trust.
const principal = "states.amazonaws.com"

// Service is the Step Functions API and its execution driver.
type Service struct {
	api      *awsproto.Service
	st       *store.Store
	eng      *queue.Engine
	targets  *dispatch.Registry
	authz    *authz.Authorizer
	services *service.Directory
	log      *slog.Logger
	now      func() time.Time
	machines machines
	schemas  schemas
	// endpoint is Kiri's own listener, where apigateway:invoke tasks call APIs as clients do.
	endpoint string
}

// New migrates Step Functions' tables and registers its operations, its queue handlers and its
// Kind.
func New(ctx context.Context, d service.Deps) (*Service, error) {
	if err := d.Store.Migrate(ctx, "sfn", migrations); err != nil {
		return nil, fmt.Errorf("migrate sfn: %w", err)
	}
	s := &Service{st: d.Store, eng: d.Queue, targets: d.Targets, authz: d.Authz, services: d.Services,
		log: d.Logger.With("service", "sfn"), now: d.Now, endpoint: d.Config.Endpoint}
	if s.now == nil {
		s.now = time.Now
	}
	authorize := inScope
	if d.Authz != nil {
		hook := d.Authz.Hook("states", s.operations(), accessDenied)
		authorize = func(ctx context.Context, op string, in any) error {
			if err := inScope(ctx, op, in); err != nil {
				return err
			}
			return hook(ctx, op, in)
		}
	}
	api, err := awsproto.NewService("stepfunctions", awsproto.ServiceOptions{
		ValidationError: validationError,
		Authorize:       authorize,
	})
	if err != nil {
		return nil, err
	}
	s.api = api
	s.handleMachines()
	s.handleExecutions()
	s.handleActivities()
	awsproto.Handle(s.api, "TagResource", s.tagResource)
	awsproto.Handle(s.api, "UntagResource", s.untagResource)
	awsproto.Handle(s.api, "ListTagsForResource", s.listTagsForResource)
	awsproto.Handle(s.api, "TestState", s.testState)
	s.registerDriver()
	if err := s.registerMapRuns(ctx); err != nil {
		return nil, err
	}
	if d.Targets != nil {
		d.Targets.Register("states", kind{s})
	}
	return s, nil
}

// API returns the codec-facing service to mount on the router.
func (s *Service) API() *awsproto.Service { return s.api }

// enforcing reports whether IAM is enforced.
func (s *Service) enforcing() bool { return s.authz != nil && s.authz.Mode() == authz.Enforce }

// scope is the account and region a call acts in.
type scope struct{ account, region string }

func scopeOf(ctx context.Context) scope {
	a, r := awsproto.CallFrom(ctx).Scope()
	return scope{a, r}
}

func (sc scope) arn(kind, name string) string {
	return "arn:aws:states:" + sc.region + ":" + sc.account + ":" + kind + ":" + name
}

func (sc scope) machineARN(name string) string  { return sc.arn("stateMachine", name) }
func (sc scope) activityARN(name string) string { return sc.arn("activity", name) }

// RunForService runs a Step Functions action (StartExecution, StartSyncExecution, ...) with its
// JSON input for another service acting in account and region with role (API Gateway's
// integrations); see service.RunJSONAction.
func (s *Service) RunForService(ctx context.Context, account, region, role, action string, input []byte) (int, []byte) {
	return service.RunJSONAction(ctx, s.api, account, region, role, action, input)
}
