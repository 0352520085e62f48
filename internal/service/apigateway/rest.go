package apigateway

//go:generate go run github.com/kiri-run/kiri/internal/awsproto/apigen -model apigateway -package restapi -out restapi/api_gen.go

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/iam/authz"
	"github.com/kiri-run/kiri/internal/service"
	"github.com/kiri-run/kiri/internal/store"
)

// Kinds of REST API rows in apigw_resources. A REST API's row has its own id as api_id, like an
// HTTP API's, so the two share one id namespace; its resources (each holding its methods,
// their integrations and responses), stages and deployments are rows under that api_id.
const (
	kindRestAPI        = "restapi"
	kindRestResource   = "restapi.resource"
	kindRestStage      = "restapi.stage"
	kindRestDeployment = "restapi.deployment"
)

// RESTService is API Gateway's REST APIs (the apigateway API, v1): the control plane and,
// through the HTTP APIs' invoke URLs, the deployed stages.
type RESTService struct {
	api       *awsproto.Service
	st        *store.Store
	log       *slog.Logger
	now       func() time.Time
	services  *service.Directory
	port      string
	authz     *authz.Authorizer
	usage     usage
	authCache authCache[*authorization]
}

// NewREST registers the REST APIs' operations; the tables are API Gateway's (New migrates them).
func NewREST(ctx context.Context, d service.Deps) (*RESTService, error) {
	if err := d.Store.Migrate(ctx, "apigateway", migrations); err != nil {
		return nil, fmt.Errorf("migrate apigateway: %w", err)
	}
	s := &RESTService{st: d.Store, log: d.Logger.With("service", "apigateway-rest"), now: d.Now, services: d.Services, port: "4566", authz: d.Authz}
	if s.now == nil {
		s.now = time.Now
	}
	if u, err := url.Parse(d.Config.Endpoint); err == nil && u.Port() != "" {
		s.port = u.Port()
	}
	api, err := awsproto.NewService("apigateway", awsproto.ServiceOptions{
		ValidationError: func(_ string, problems []string) *awsproto.Error {
			return badRequest("%s", strings.Join(problems, "; "))
		},
		Authorize: d.Authz.Hook("apigateway", restOperations(), accessDenied),
	})
	if err != nil {
		return nil, err
	}
	s.api = api
	awsproto.Handle(s.api, "CreateRestApi", s.createRestApi)
	awsproto.Handle(s.api, "GetRestApi", s.getRestApi)
	awsproto.Handle(s.api, "GetRestApis", s.getRestApis)
	awsproto.Handle(s.api, "UpdateRestApi", s.updateRestApi)
	awsproto.Handle(s.api, "DeleteRestApi", s.deleteRestApi)
	awsproto.Handle(s.api, "ImportRestApi", s.importRestApi)
	awsproto.Handle(s.api, "PutRestApi", s.putRestApi)
	awsproto.Handle(s.api, "CreateResource", s.createResource)
	awsproto.Handle(s.api, "GetResource", s.getResource)
	awsproto.Handle(s.api, "GetResources", s.getResources)
	awsproto.Handle(s.api, "DeleteResource", s.deleteResource)
	awsproto.Handle(s.api, "PutMethod", s.putMethod)
	awsproto.Handle(s.api, "GetMethod", s.getMethod)
	awsproto.Handle(s.api, "DeleteMethod", s.deleteMethod)
	awsproto.Handle(s.api, "PutMethodResponse", s.putMethodResponse)
	awsproto.Handle(s.api, "GetMethodResponse", s.getMethodResponse)
	awsproto.Handle(s.api, "DeleteMethodResponse", s.deleteMethodResponse)
	awsproto.Handle(s.api, "PutIntegration", s.putIntegration)
	awsproto.Handle(s.api, "GetIntegration", s.getIntegration)
	awsproto.Handle(s.api, "DeleteIntegration", s.deleteIntegration)
	awsproto.Handle(s.api, "PutIntegrationResponse", s.putIntegrationResponse)
	awsproto.Handle(s.api, "GetIntegrationResponse", s.getIntegrationResponse)
	awsproto.Handle(s.api, "DeleteIntegrationResponse", s.deleteIntegrationResponse)
	awsproto.Handle(s.api, "UpdateMethod", s.updateMethod)
	awsproto.Handle(s.api, "UpdateMethodResponse", s.updateMethodResponse)
	awsproto.Handle(s.api, "UpdateIntegration", s.updateIntegration)
	awsproto.Handle(s.api, "UpdateIntegrationResponse", s.updateIntegrationResponse)
	awsproto.Handle(s.api, "UpdateDeployment", s.updateDeployment)
	awsproto.Handle(s.api, "CreateDeployment", s.createDeployment)
	awsproto.Handle(s.api, "GetDeployment", s.getDeployment)
	awsproto.Handle(s.api, "GetDeployments", s.getDeployments)
	awsproto.Handle(s.api, "DeleteDeployment", s.deleteDeployment)
	awsproto.Handle(s.api, "GetExport", s.getExport)
	awsproto.Handle(s.api, "CreateStage", s.createStage)
	awsproto.Handle(s.api, "GetStage", s.getStage)
	awsproto.Handle(s.api, "GetStages", s.getStages)
	awsproto.Handle(s.api, "UpdateStage", s.updateStage)
	awsproto.Handle(s.api, "DeleteStage", s.deleteStage)
	awsproto.Handle(s.api, "CreateAuthorizer", s.createAuthorizer)
	awsproto.Handle(s.api, "GetAuthorizer", s.getAuthorizer)
	awsproto.Handle(s.api, "GetAuthorizers", s.getAuthorizers)
	awsproto.Handle(s.api, "UpdateAuthorizer", s.updateAuthorizer)
	awsproto.Handle(s.api, "DeleteAuthorizer", s.deleteAuthorizer)
	awsproto.Handle(s.api, "CreateModel", s.createModel)
	awsproto.Handle(s.api, "GetModel", s.getModel)
	awsproto.Handle(s.api, "GetModels", s.getModels)
	awsproto.Handle(s.api, "DeleteModel", s.deleteModel)
	awsproto.Handle(s.api, "CreateRequestValidator", s.createRequestValidator)
	awsproto.Handle(s.api, "GetRequestValidator", s.getRequestValidator)
	awsproto.Handle(s.api, "GetRequestValidators", s.getRequestValidators)
	awsproto.Handle(s.api, "UpdateRequestValidator", s.updateRequestValidator)
	awsproto.Handle(s.api, "DeleteRequestValidator", s.deleteRequestValidator)
	awsproto.Handle(s.api, "CreateApiKey", s.createApiKey)
	awsproto.Handle(s.api, "GetApiKey", s.getApiKey)
	awsproto.Handle(s.api, "GetApiKeys", s.getApiKeys)
	awsproto.Handle(s.api, "UpdateApiKey", s.updateApiKey)
	awsproto.Handle(s.api, "DeleteApiKey", s.deleteApiKey)
	awsproto.Handle(s.api, "CreateUsagePlan", s.createUsagePlan)
	awsproto.Handle(s.api, "GetUsagePlan", s.getUsagePlan)
	awsproto.Handle(s.api, "GetUsagePlans", s.getUsagePlans)
	awsproto.Handle(s.api, "DeleteUsagePlan", s.deleteUsagePlan)
	awsproto.Handle(s.api, "CreateUsagePlanKey", s.createUsagePlanKey)
	awsproto.Handle(s.api, "GetUsagePlanKey", s.getUsagePlanKey)
	awsproto.Handle(s.api, "GetUsagePlanKeys", s.getUsagePlanKeys)
	awsproto.Handle(s.api, "DeleteUsagePlanKey", s.deleteUsagePlanKey)
	return s, nil
}

// API returns the codec-facing service to mount on the router.
func (s *RESTService) API() *awsproto.Service { return s.api }

// restPage parses a limit parameter: 25 unless given, at most 500.
func restPage(limit *int32) (int, error) {
	if limit == nil {
		return 25, nil
	}
	if *limit < 1 || *limit > 500 {
		return 0, badRequest("1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 500 and greater than or equal to 1", *limit)
	}
	return int(*limit), nil
}

// enforcing reports whether IAM is enforced: then AWS service integrations need a role.
func (s *RESTService) enforcing() bool { return s.authz != nil && s.authz.Mode() == authz.Enforce }

// loadChild loads a resource of an existing REST API (a resource, stage, deployment,
// authorizer or validator), or answers NotFoundException: "Invalid NOUN identifier specified".
func loadChild[T any](q rowQuery, sc scope, apiID, kind, id, noun string) (*T, error) {
	if _, err := requireRestAPI(q, sc, apiID); err != nil {
		return nil, err
	}
	var v T
	ok, err := getDoc(q, sc, apiID, kind, id, &v)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, notFound("Invalid %s identifier specified", noun)
	}
	return &v, nil
}

// listChildren reads one page of a REST API's resources of a kind, after position, and the
// position of the next page ("" when none follows).
func listChildren[T any](ctx context.Context, st *store.Store, apiID, kind string, position *string, limit *int32) ([]T, *string, error) {
	n, err := restPage(limit)
	if err != nil {
		return nil, nil, err
	}
	sc := scopeOf(ctx)
	if _, err := requireRestAPI(storeRow(ctx, st), sc, apiID); err != nil {
		return nil, nil, err
	}
	items := []T{}
	next, err := listDocs(storeRows(ctx, st), sc, apiID, kind, awsproto.Value(position), n, func(doc []byte) error {
		var v T
		if err := json.Unmarshal(doc, &v); err != nil {
			return err
		}
		items = append(items, v)
		return nil
	})
	if err != nil || next == "" {
		return items, nil, err
	}
	return items, &next, nil
}
