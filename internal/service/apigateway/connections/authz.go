package connections

import (
	"context"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/iam/authz"
)

// operations is how each operation authorizes in enforce mode (the Service Authorization
// Reference's "Actions defined by Amazon API Gateway"): execute-api:ManageConnections on the
// connection's execute-api ARN, arn:aws:execute-api:REGION:ACCOUNT:API-ID/STAGE/METHOD/@connections/ID,
// with the method of the call (POST, GET, DELETE). A connection that is not live has no API
// or stage: its ARN has * for them, and the call answers GoneException if allowed.
func (s *Service) operations() authz.Operations {
	on := func(method string, id func(in any) *string) authz.Rule {
		return func(ctx context.Context, in any) ([]authz.Request, error) {
			c := awsproto.CallFrom(ctx)
			connID := awsproto.Value(id(in))
			api, stage := "*", "*"
			if g, err := s.gateway(); err == nil {
				if conn, ok := g.Connection(c.AccountID, connID); ok {
					api, stage = conn.APIID, conn.Stage
				}
			}
			arn := "arn:aws:execute-api:" + c.Region + ":" + c.AccountID + ":" + api + "/" + stage + "/" + method + "/@connections/" + connID
			return []authz.Request{{Action: "execute-api:ManageConnections", Resource: arn}}, nil
		}
	}
	return authz.Operations{
		"PostToConnection": on("POST", func(in any) *string { return in.(*PostToConnectionRequest).ConnectionId }),
		"GetConnection":    on("GET", func(in any) *string { return in.(*GetConnectionRequest).ConnectionId }),
		"DeleteConnection": on("DELETE", func(in any) *string { return in.(*DeleteConnectionRequest).ConnectionId }),
	}
}
