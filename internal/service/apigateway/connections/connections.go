// Package connections implements the API Gateway Management API (apigatewaymanagementapi, the
// @connections API of WebSocket APIs): PostToConnection, GetConnection and DeleteConnection on
// the live connections API Gateway holds. Clients reach it at the plain endpoint
// (/@connections/{id}, signed for execute-api, as the SDKs call it through AWS_ENDPOINT_URL) or
// under a stage's invoke URL (http://{domainName}/{stage}/@connections/{id}), which API
// Gateway's frontend rewrites to the plain path.
package connections

//go:generate go run github.com/kiri-run/kiri/internal/awsproto/apigen -model apigatewaymanagementapi -package connections -out api_gen.go

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/iam/authz"
	"github.com/kiri-run/kiri/internal/service"
	"github.com/kiri-run/kiri/internal/service/apigateway"
)

// maxData is the largest message PostToConnection sends: 128 KB, as the model's Data says.
const maxData = 128 << 10

// gateway is what the management API needs of API Gateway: its live connections.
type gateway interface {
	Connection(account, id string) (apigateway.Connection, bool)
	PostToConnection(account, id string, data []byte) error
	DeleteConnection(account, id string) error
}

// Service is the API Gateway Management API.
type Service struct {
	api      *awsproto.Service
	services *service.Directory
}

// New builds the management API on API Gateway's connections, found at call time.
func New(ctx context.Context, d service.Deps) (*Service, error) {
	s := &Service{services: d.Services}
	api, err := awsproto.NewService("apigatewaymanagementapi", awsproto.ServiceOptions{
		ValidationError: func(_ string, problems []string) *awsproto.Error {
			for _, p := range problems {
				if strings.Contains(p, "'data'") || strings.Contains(p, "'Data'") {
					return payloadTooLarge()
				}
			}
			return awsproto.Errorf("BadRequestException", http.StatusBadRequest, "%s", strings.Join(problems, "; "))
		},
		Authorize: d.Authz.Hook("execute-api", s.operations(), forbidden),
	})
	if err != nil {
		return nil, err
	}
	s.api = api
	awsproto.Handle(api, "PostToConnection", s.postToConnection)
	awsproto.Handle(api, "GetConnection", s.getConnection)
	awsproto.Handle(api, "DeleteConnection", s.deleteConnection)
	return s, nil
}

// API returns the codec-facing service to mount on the router.
func (s *Service) API() *awsproto.Service { return s.api }

func (s *Service) gateway() (gateway, error) {
	g, ok := service.Lookup[gateway](s.services, "apigatewayv2")
	if !ok {
		return nil, errors.New("API Gateway is not running")
	}
	return g, nil
}

func (s *Service) postToConnection(ctx context.Context, in *PostToConnectionRequest) (*struct{}, error) {
	if len(in.Data) > maxData {
		return nil, payloadTooLarge()
	}
	g, err := s.gateway()
	if err != nil {
		return nil, err
	}
	if err := g.PostToConnection(awsproto.CallFrom(ctx).AccountID, awsproto.Value(in.ConnectionId), in.Data); err != nil {
		return nil, answer(err)
	}
	return &struct{}{}, nil
}

func (s *Service) getConnection(ctx context.Context, in *GetConnectionRequest) (*GetConnectionResponse, error) {
	g, err := s.gateway()
	if err != nil {
		return nil, err
	}
	c, ok := g.Connection(awsproto.CallFrom(ctx).AccountID, awsproto.Value(in.ConnectionId))
	if !ok {
		return nil, gone()
	}
	connected, last := c.ConnectedAt.UTC(), c.LastActiveAt.UTC()
	return &GetConnectionResponse{ConnectedAt: &connected, LastActiveAt: &last,
		Identity: &Identity{SourceIp: &c.SourceIP, UserAgent: &c.UserAgent}}, nil
}

func (s *Service) deleteConnection(ctx context.Context, in *DeleteConnectionRequest) (*struct{}, error) {
	g, err := s.gateway()
	if err != nil {
		return nil, err
	}
	if err := g.DeleteConnection(awsproto.CallFrom(ctx).AccountID, awsproto.Value(in.ConnectionId)); err != nil {
		return nil, answer(err)
	}
	return &struct{}{}, nil
}

// answer is the client's error for a failed call on a connection.
func answer(err error) error {
	if errors.Is(err, apigateway.ErrGone) {
		return gone()
	}
	return err
}

func gone() error { return awsproto.Errorf("GoneException", http.StatusGone, "") }

func payloadTooLarge() *awsproto.Error {
	return awsproto.Errorf("PayloadTooLargeException", http.StatusRequestEntityTooLarge, "Message too long")
}

func forbidden(d *authz.Denied) error {
	return awsproto.Errorf("ForbiddenException", http.StatusForbidden, "%s", d.Message)
}
