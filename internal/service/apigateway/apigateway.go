// Package apigateway implements Amazon API Gateway's HTTP APIs (apigatewayv2) in front of Lambda
// functions, HTTP backends and SQS: APIs (with quick create), routes, AWS_PROXY integrations to
// functions, HTTP_PROXY integrations to URLs and SQS-SendMessage integrations, stages and
// deployments in the store, and the invoke URLs that match a request to a route of a deployed
// stage and call its function with the payload format 1.0 or 2.0 event, forward it to its URL,
// or send it to a queue. WebSocket APIs share the control plane and invoke URLs: a stage's URL
// accepts the WebSocket handshake, and the live connections (sockets.go) are what the
// @connections API (package connections) posts to.
package apigateway

//go:generate go run github.com/kiri-run/kiri/internal/awsproto/apigen -model apigatewayv2 -package apigateway -out api_gen.go

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/iam/authz"
	"github.com/kiri-run/kiri/internal/oidc"
	"github.com/kiri-run/kiri/internal/service"
	"github.com/kiri-run/kiri/internal/store"
)

// Service is the API Gateway v2 API and its invoke URLs.
type Service struct {
	api      *awsproto.Service
	st       *store.Store
	log      *slog.Logger
	now      func() time.Time
	services *service.Directory
	port     string
	authz    *authz.Authorizer
	// throttles are the token buckets of throttled routes.
	throttles throttles
	// cache keeps the APIs, stages and deployments invoke URLs read.
	cache deployedCache
	// sockets are the WebSocket APIs' live connections; socketCtx (ended by Close) is the
	// context their integrations run in.
	sockets      *sockets
	socketCtx    context.Context
	socketCancel context.CancelFunc
	// jwks caches JWT authorizers' issuers' keys, and authCache Lambda authorizers' answers.
	jwks      *oidc.Keys
	authCache authCache[*authorizerAnswer]
}

// enforcing reports whether IAM is enforced: then integrations that call AWS services need a role.
func (s *Service) enforcing() bool { return s.authz != nil && s.authz.Mode() == authz.Enforce }

// New migrates API Gateway's tables and registers its operations.
func New(ctx context.Context, d service.Deps) (*Service, error) {
	if err := d.Store.Migrate(ctx, "apigateway", migrations); err != nil {
		return nil, fmt.Errorf("migrate apigateway: %w", err)
	}
	s := &Service{st: d.Store, log: d.Logger.With("service", "apigateway"), now: d.Now, services: d.Services, port: "4566", authz: d.Authz}
	if s.now == nil {
		s.now = time.Now
	}
	s.sockets = newSockets()
	s.socketCtx, s.socketCancel = context.WithCancel(context.WithoutCancel(ctx))
	s.jwks = oidc.NewKeys(s.now)
	if u, err := url.Parse(d.Config.Endpoint); err == nil && u.Port() != "" {
		s.port = u.Port()
	}
	api, err := awsproto.NewService("apigatewayv2", awsproto.ServiceOptions{
		ValidationError: func(_ string, problems []string) *awsproto.Error {
			return badRequest("%s", strings.Join(problems, "; "))
		},
		Authorize: d.Authz.Hook("apigateway", s.operations(), accessDenied),
	})
	if err != nil {
		return nil, err
	}
	s.api = api
	s.cache.watch(d.Store)
	awsproto.Handle(s.api, "CreateApi", s.createApi)
	awsproto.Handle(s.api, "GetApi", s.getApi)
	awsproto.Handle(s.api, "GetApis", s.getApis)
	awsproto.Handle(s.api, "UpdateApi", s.updateApi)
	awsproto.Handle(s.api, "DeleteApi", s.deleteApi)
	awsproto.Handle(s.api, "DeleteCorsConfiguration", s.deleteCorsConfiguration)
	awsproto.Handle(s.api, "CreateRoute", s.createRoute)
	awsproto.Handle(s.api, "GetRoute", s.getRoute)
	awsproto.Handle(s.api, "GetRoutes", s.getRoutes)
	awsproto.Handle(s.api, "UpdateRoute", s.updateRoute)
	awsproto.Handle(s.api, "DeleteRoute", s.deleteRoute)
	awsproto.Handle(s.api, "CreateRouteResponse", s.createRouteResponse)
	awsproto.Handle(s.api, "GetRouteResponse", s.getRouteResponse)
	awsproto.Handle(s.api, "GetRouteResponses", s.getRouteResponses)
	awsproto.Handle(s.api, "UpdateRouteResponse", s.updateRouteResponse)
	awsproto.Handle(s.api, "DeleteRouteResponse", s.deleteRouteResponse)
	awsproto.Handle(s.api, "CreateIntegration", s.createIntegration)
	awsproto.Handle(s.api, "GetIntegration", s.getIntegration)
	awsproto.Handle(s.api, "GetIntegrations", s.getIntegrations)
	awsproto.Handle(s.api, "UpdateIntegration", s.updateIntegration)
	awsproto.Handle(s.api, "DeleteIntegration", s.deleteIntegration)
	awsproto.Handle(s.api, "CreateStage", s.createStage)
	awsproto.Handle(s.api, "GetStage", s.getStage)
	awsproto.Handle(s.api, "GetStages", s.getStages)
	awsproto.Handle(s.api, "UpdateStage", s.updateStage)
	awsproto.Handle(s.api, "DeleteStage", s.deleteStage)
	awsproto.Handle(s.api, "DeleteRouteSettings", s.deleteRouteSettings)
	awsproto.Handle(s.api, "CreateDeployment", s.createDeployment)
	awsproto.Handle(s.api, "GetDeployment", s.getDeployment)
	awsproto.Handle(s.api, "GetDeployments", s.getDeployments)
	awsproto.Handle(s.api, "DeleteDeployment", s.deleteDeployment)
	awsproto.Handle(s.api, "CreateAuthorizer", s.createAuthorizer)
	awsproto.Handle(s.api, "GetAuthorizer", s.getAuthorizer)
	awsproto.Handle(s.api, "GetAuthorizers", s.getAuthorizers)
	awsproto.Handle(s.api, "UpdateAuthorizer", s.updateAuthorizer)
	awsproto.Handle(s.api, "DeleteAuthorizer", s.deleteAuthorizer)
	awsproto.Handle(s.api, "TagResource", s.tagResource)
	awsproto.Handle(s.api, "UntagResource", s.untagResource)
	awsproto.Handle(s.api, "GetTags", s.getTags)
	return s, nil
}

// API returns the codec-facing service to mount on the router.
func (s *Service) API() *awsproto.Service { return s.api }
