package apigateway

import (
	"context"
	"strconv"
	"strings"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/service/apigateway/restapi"
	"github.com/kiri-run/kiri/internal/store"
)

// patchEntry applies an add, replace or remove patch operation to one key of a map.
func patchEntry[V any](m map[string]V, op, path, key string, value func() (V, error)) (map[string]V, error) {
	switch op {
	case "add", "replace":
		v, err := value()
		if err != nil {
			return nil, err
		}
		return withEntry(m, key, v), nil
	case "remove":
		delete(m, key)
		return m, nil
	}
	return nil, badPatch(op, path)
}

// patchBool parses a patch operation's value as a boolean.
func patchBool(path string, v *string) (bool, error) {
	b, err := strconv.ParseBool(awsproto.Value(v))
	if err != nil {
		return false, badRequest("Invalid value for %s: %s", path, awsproto.Value(v))
	}
	return b, nil
}

// patchMethod applies a patch operation to a method's settings, as PutMethod takes them.
func patchMethod(in *restapi.PutMethodRequest, p restapi.PatchOperation) error {
	op, path, v := awsproto.Value(p.Op), awsproto.Value(p.Path), p.Value
	var err error
	switch {
	case op == "replace" && path == "/authorizationType":
		in.AuthorizationType = v
	case op == "replace" && path == "/authorizerId":
		in.AuthorizerId = v
	case op == "replace" && path == "/operationName":
		in.OperationName = v
	case op == "replace" && path == "/requestValidatorId":
		in.RequestValidatorId = v
		if awsproto.Value(v) == "" {
			in.RequestValidatorId = nil
		}
	case op == "replace" && path == "/apiKeyRequired":
		b, err := patchBool(path, v)
		if err != nil {
			return err
		}
		in.ApiKeyRequired = &b
	case strings.HasPrefix(path, "/requestParameters/"):
		in.RequestParameters, err = patchEntry(in.RequestParameters, op, path, patchKey(strings.TrimPrefix(path, "/requestParameters/")),
			func() (bool, error) {
				if v == nil {
					return false, nil
				}
				return patchBool(path, v)
			})
	case strings.HasPrefix(path, "/requestModels/"):
		in.RequestModels, err = patchEntry(in.RequestModels, op, path, patchKey(strings.TrimPrefix(path, "/requestModels/")),
			func() (string, error) { return awsproto.Value(v), nil })
	default:
		return badPatch(op, path)
	}
	return err
}

func (s *RESTService) updateMethod(ctx context.Context, in *restapi.UpdateMethodRequest) (*restapi.Method, error) {
	apiID, resourceID, method := awsproto.Value(in.RestApiId), awsproto.Value(in.ResourceId), awsproto.Value(in.HttpMethod)
	sc := scopeOf(ctx)
	var out *restapi.Method
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		r, err := loadResource(tx.QueryRow, sc, apiID, resourceID)
		if err != nil {
			return err
		}
		m, ok := r.ResourceMethods[method]
		if !ok {
			return noMethod()
		}
		put := &restapi.PutMethodRequest{RestApiId: in.RestApiId, ResourceId: in.ResourceId, HttpMethod: in.HttpMethod,
			AuthorizationType: m.AuthorizationType, AuthorizerId: m.AuthorizerId, ApiKeyRequired: m.ApiKeyRequired,
			OperationName: m.OperationName, RequestValidatorId: m.RequestValidatorId, RequestModels: m.RequestModels,
			RequestParameters: m.RequestParameters}
		for _, p := range in.PatchOperations {
			if err := patchMethod(put, p); err != nil {
				return err
			}
		}
		if t := awsproto.Value(put.AuthorizationType); t == "NONE" || t == "AWS_IAM" {
			put.AuthorizerId = nil
		}
		if err := checkMethodInput(put); err != nil {
			return err
		}
		if put.AuthorizerId != nil {
			if _, err := loadAuthorizer(tx.QueryRow, sc, apiID, *put.AuthorizerId); err != nil {
				return err
			}
		}
		if err := checkMethodRefs(tx.QueryRow, sc, apiID, put.RequestModels, put.RequestValidatorId); err != nil {
			return err
		}
		m.AuthorizationType, m.AuthorizerId, m.ApiKeyRequired = put.AuthorizationType, put.AuthorizerId, put.ApiKeyRequired
		m.OperationName, m.RequestValidatorId, m.RequestModels, m.RequestParameters = put.OperationName, put.RequestValidatorId, put.RequestModels, put.RequestParameters
		r.ResourceMethods[method], out = m, &m
		return putDoc(tx, sc, apiID, kindRestResource, resourceID, r)
	})
	if err != nil {
		return nil, wrap("update method", err)
	}
	return out, nil
}

// patchIntegration applies a patch operation to an integration's settings, as PutIntegration
// takes them.
func patchIntegration(in *restapi.PutIntegrationRequest, p restapi.PatchOperation) error {
	op, path, v := awsproto.Value(p.Op), awsproto.Value(p.Path), p.Value
	var err error
	text := func() (string, error) { return awsproto.Value(v), nil }
	switch {
	case op == "replace" && path == "/uri":
		in.Uri = v
	case op == "replace" && path == "/httpMethod":
		in.IntegrationHttpMethod = v
	case op == "replace" && path == "/type":
		in.Type = v
	case op == "replace" && path == "/passthroughBehavior":
		in.PassthroughBehavior = v
	case op == "replace" && path == "/contentHandling":
		in.ContentHandling = v
	case op == "replace" && path == "/credentials":
		in.Credentials = v
	case op == "replace" && path == "/timeoutInMillis":
		n, err := strconv.Atoi(awsproto.Value(v))
		if err != nil {
			return badRequest("Invalid timeout specified: %s", awsproto.Value(v))
		}
		in.TimeoutInMillis = awsproto.Ptr(int32(n))
	case strings.HasPrefix(path, "/requestTemplates/"):
		in.RequestTemplates, err = patchEntry(in.RequestTemplates, op, path, patchKey(strings.TrimPrefix(path, "/requestTemplates/")), text)
	case strings.HasPrefix(path, "/requestParameters/"):
		in.RequestParameters, err = patchEntry(in.RequestParameters, op, path, patchKey(strings.TrimPrefix(path, "/requestParameters/")), text)
	default:
		return badPatch(op, path)
	}
	return err
}

func (s *RESTService) updateIntegration(ctx context.Context, in *restapi.UpdateIntegrationRequest) (*restapi.Integration, error) {
	var out *restapi.Integration
	_, err := s.editMethod(ctx, awsproto.Value(in.RestApiId), awsproto.Value(in.ResourceId), awsproto.Value(in.HttpMethod),
		func(m *restapi.Method) (*restapi.Method, error) {
			if m == nil {
				return nil, noMethod()
			}
			i := m.MethodIntegration
			if i == nil {
				return nil, notFound("Invalid Integration identifier specified")
			}
			put := &restapi.PutIntegrationRequest{RestApiId: in.RestApiId, ResourceId: in.ResourceId, HttpMethod: in.HttpMethod,
				Type: i.Type, Uri: i.Uri, IntegrationHttpMethod: i.HttpMethod, PassthroughBehavior: i.PassthroughBehavior,
				ContentHandling: i.ContentHandling, Credentials: i.Credentials, TimeoutInMillis: i.TimeoutInMillis,
				RequestTemplates: i.RequestTemplates, RequestParameters: i.RequestParameters, CacheKeyParameters: i.CacheKeyParameters}
			for _, p := range in.PatchOperations {
				if err := patchIntegration(put, p); err != nil {
					return nil, err
				}
			}
			next, err := checkRestIntegration(put, s.enforcing())
			if err != nil {
				return nil, err
			}
			next.IntegrationResponses = i.IntegrationResponses
			m.MethodIntegration, out = next, next
			return m, nil
		})
	if err != nil {
		return nil, wrap("update integration", err)
	}
	return out, nil
}

func (s *RESTService) updateIntegrationResponse(ctx context.Context, in *restapi.UpdateIntegrationResponseRequest) (*restapi.IntegrationResponse, error) {
	i, err := s.readIntegration(ctx, awsproto.Value(in.RestApiId), awsproto.Value(in.ResourceId), awsproto.Value(in.HttpMethod))
	if err != nil {
		return nil, wrap("update integration response", err)
	}
	ir, ok := i.IntegrationResponses[awsproto.Value(in.StatusCode)]
	if !ok {
		return nil, notFound("Invalid Response status code specified")
	}
	put := &restapi.PutIntegrationResponseRequest{RestApiId: in.RestApiId, ResourceId: in.ResourceId, HttpMethod: in.HttpMethod,
		StatusCode: in.StatusCode, SelectionPattern: ir.SelectionPattern, ContentHandling: ir.ContentHandling,
		ResponseTemplates: ir.ResponseTemplates, ResponseParameters: ir.ResponseParameters}
	for _, p := range in.PatchOperations {
		op, path, v := awsproto.Value(p.Op), awsproto.Value(p.Path), p.Value
		text := func() (string, error) { return awsproto.Value(v), nil }
		switch {
		case op == "replace" && path == "/selectionPattern":
			put.SelectionPattern = v
		case op == "replace" && path == "/contentHandling":
			put.ContentHandling = v
		case strings.HasPrefix(path, "/responseTemplates/"):
			put.ResponseTemplates, err = patchEntry(put.ResponseTemplates, op, path, patchKey(strings.TrimPrefix(path, "/responseTemplates/")), text)
		case strings.HasPrefix(path, "/responseParameters/"):
			put.ResponseParameters, err = patchEntry(put.ResponseParameters, op, path, patchKey(strings.TrimPrefix(path, "/responseParameters/")), text)
		default:
			err = badPatch(op, path)
		}
		if err != nil {
			return nil, err
		}
	}
	return s.putIntegrationResponse(ctx, put)
}

func (s *RESTService) updateMethodResponse(ctx context.Context, in *restapi.UpdateMethodResponseRequest) (*restapi.MethodResponse, error) {
	m, err := s.readMethod(ctx, awsproto.Value(in.RestApiId), awsproto.Value(in.ResourceId), awsproto.Value(in.HttpMethod))
	if err != nil {
		return nil, wrap("update method response", err)
	}
	mr, ok := m.MethodResponses[awsproto.Value(in.StatusCode)]
	if !ok {
		return nil, notFound("Invalid Response status code specified")
	}
	put := &restapi.PutMethodResponseRequest{RestApiId: in.RestApiId, ResourceId: in.ResourceId, HttpMethod: in.HttpMethod,
		StatusCode: in.StatusCode, ResponseParameters: mr.ResponseParameters, ResponseModels: mr.ResponseModels}
	for _, p := range in.PatchOperations {
		op, path, v := awsproto.Value(p.Op), awsproto.Value(p.Path), p.Value
		switch {
		case strings.HasPrefix(path, "/responseParameters/"):
			put.ResponseParameters, err = patchEntry(put.ResponseParameters, op, path, patchKey(strings.TrimPrefix(path, "/responseParameters/")),
				func() (bool, error) {
					if v == nil {
						return false, nil
					}
					return patchBool(path, v)
				})
		case strings.HasPrefix(path, "/responseModels/"):
			put.ResponseModels, err = patchEntry(put.ResponseModels, op, path, patchKey(strings.TrimPrefix(path, "/responseModels/")),
				func() (string, error) { return awsproto.Value(v), nil })
		default:
			err = badPatch(op, path)
		}
		if err != nil {
			return nil, err
		}
	}
	return s.putMethodResponse(ctx, put)
}

func (s *RESTService) updateDeployment(ctx context.Context, in *restapi.UpdateDeploymentRequest) (*restapi.Deployment, error) {
	sc := scopeOf(ctx)
	apiID := awsproto.Value(in.RestApiId)
	var d *restSnapshot
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		var err error
		if d, err = loadDeployment(tx.QueryRow, sc, apiID, awsproto.Value(in.DeploymentId)); err != nil {
			return err
		}
		for _, p := range in.PatchOperations {
			if op, path := awsproto.Value(p.Op), awsproto.Value(p.Path); op != "replace" || path != "/description" {
				return badPatch(op, path)
			}
			d.Description = p.Value
		}
		return putDoc(tx, sc, apiID, kindRestDeployment, *d.Id, d)
	})
	if err != nil {
		return nil, wrap("update deployment", err)
	}
	return &d.Deployment, nil
}
