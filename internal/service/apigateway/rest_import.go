package apigateway

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/service/apigateway/restapi"
	"github.com/kiri-run/kiri/internal/store"
)

// openAPI is the part of an OpenAPI 3 or Swagger 2 definition REST APIs read.
type openAPI struct {
	Swagger  string                                       `json:"swagger"`
	OpenAPI  string                                       `json:"openapi"`
	Info     struct{ Title, Description, Version string } `json:"info"`
	BasePath string                                       `json:"basePath"`
	Paths    map[string]map[string]json.RawMessage        `json:"paths"`
	Security []map[string][]string                        `json:"security"`

	SecurityDefinitions map[string]securityScheme `json:"securityDefinitions"`
	Components          struct {
		SecuritySchemes map[string]securityScheme  `json:"securitySchemes"`
		Schemas         map[string]json.RawMessage `json:"schemas"`
	} `json:"components"`
	Definitions      map[string]json.RawMessage                                               `json:"definitions"`
	Validators       map[string]restapi.RequestValidator                                      `json:"-"`
	RawValidators    map[string]struct{ ValidateRequestBody, ValidateRequestParameters bool } `json:"x-amazon-apigateway-request-validators"`
	DefaultValidator string                                                                   `json:"x-amazon-apigateway-request-validator"`
	BinaryMediaTypes []string                                                                 `json:"x-amazon-apigateway-binary-media-types"`
	APIKeySource     *string                                                                  `json:"x-amazon-apigateway-api-key-source"`
	Endpoint         *struct{ Types []string }                                                `json:"x-amazon-apigateway-endpoint-configuration"`
	extensions       []string
}

// operation is one method of a path in an OpenAPI definition.
type operation struct {
	OperationID string `json:"operationId"`
	Parameters  []struct {
		Name     string `json:"name"`
		In       string `json:"in"`
		Required bool   `json:"required"`
		Ref      string `json:"$ref"`
		Schema   *struct {
			Ref string `json:"$ref"`
		} `json:"schema"`
	} `json:"parameters"`
	Consumes  []string `json:"consumes"`
	Responses map[string]struct {
		Headers map[string]json.RawMessage `json:"headers"`
	} `json:"responses"`
	Security    *[]map[string][]string `json:"security"`
	Validator   *string                `json:"x-amazon-apigateway-request-validator"`
	RequestBody *struct {
		Content map[string]struct {
			Schema struct {
				Ref string `json:"$ref"`
			} `json:"schema"`
		} `json:"content"`
	} `json:"requestBody"`
	Integration *struct {
		Type                string            `json:"type"`
		URI                 string            `json:"uri"`
		HTTPMethod          string            `json:"httpMethod"`
		PassthroughBehavior string            `json:"passthroughBehavior"`
		RequestTemplates    map[string]string `json:"requestTemplates"`
		RequestParameters   map[string]string `json:"requestParameters"`
		TimeoutInMillis     *int32            `json:"timeoutInMillis"`
		ContentHandling     *string           `json:"contentHandling"`
		Credentials         *string           `json:"credentials"`
		ConnectionType      *string           `json:"connectionType"`
		CacheKeyParameters  []string          `json:"cacheKeyParameters"`
		Responses           map[string]struct {
			StatusCode         string            `json:"statusCode"`
			ResponseTemplates  map[string]string `json:"responseTemplates"`
			ResponseParameters map[string]string `json:"responseParameters"`
			ContentHandling    *string           `json:"contentHandling"`
		} `json:"responses"`
	} `json:"x-amazon-apigateway-integration"`
}

// honoured are the x-amazon-apigateway-* extensions Kiri reads; refused are those it cannot
// honour and that would change who may call a method, so they are never left out with a
// warning. Any other extension is a warning (an error with failonwarnings).
var (
	honoured = []string{"x-amazon-apigateway-integration", "x-amazon-apigateway-binary-media-types",
		"x-amazon-apigateway-api-key-source", "x-amazon-apigateway-endpoint-configuration", "x-amazon-apigateway-any-method",
		"x-amazon-apigateway-authorizer", "x-amazon-apigateway-authtype", "x-amazon-apigateway-request-validators",
		"x-amazon-apigateway-request-validator"}
	refused = []string{"x-amazon-apigateway-policy", "x-amazon-apigateway-api-key"}
)

// collectExtensions lists every x-amazon-apigateway-* key in a JSON document.
func collectExtensions(v any, into map[string]bool) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if strings.HasPrefix(k, "x-amazon-apigateway-") {
				into[k] = true
			}
			collectExtensions(x, into)
		}
	case []any:
		for _, x := range v {
			collectExtensions(x, into)
		}
	}
}

// parseOpenAPI reads a JSON OpenAPI definition, refusing what Kiri cannot honour, and returns
// it with the warnings API Gateway would give.
func parseOpenAPI(body []byte, params map[string]string) (*openAPI, []string, error) {
	if t := bytes.TrimSpace(body); len(t) == 0 || t[0] != '{' {
		return nil, nil, badRequest("Invalid OpenAPI input: only JSON definitions are supported by this server yet (not YAML)")
	}
	var doc openAPI
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, nil, badRequest("Invalid OpenAPI input: %v", err)
	}
	if doc.Swagger == "" && doc.OpenAPI == "" {
		return nil, nil, badRequest("Invalid OpenAPI input: neither swagger nor openapi version specified")
	}
	for k, v := range params {
		switch {
		case k == "mode" || k == "failonwarnings": // the operation's own query members
		case k == "basepath" && (v == "ignore" || v == "prepend"):
		case k == "endpointConfigurationTypes" && (v == "EDGE" || v == "REGIONAL"):
		case k == "ignore" && v == "documentation":
		default:
			return nil, nil, badRequest("Import parameter %s=%s is not supported by this server yet", k, v)
		}
	}
	var generic any
	json.Unmarshal(body, &generic)
	exts := map[string]bool{}
	collectExtensions(generic, exts)
	var warnings []string
	for _, e := range keysInOrder(exts) {
		switch {
		case slices.Contains(honoured, e):
		case slices.Contains(refused, e):
			return nil, nil, badRequest("The %s extension is not supported by this server yet", e)
		default:
			warnings = append(warnings, "Unsupported extension "+e+" ignored")
		}
	}
	if err := doc.checkSecuritySchemes(); err != nil {
		return nil, nil, err
	}
	if err := checkAPIKeySource(doc.APIKeySource); err != nil {
		return nil, nil, err
	}
	if doc.Endpoint != nil {
		if err := checkEndpointConfiguration(&restapi.EndpointConfiguration{Types: doc.Endpoint.Types}); err != nil {
			return nil, nil, err
		}
	}
	if params["basepath"] == "prepend" && doc.BasePath != "" && doc.BasePath != "/" {
		prefixed := map[string]map[string]json.RawMessage{}
		for p, item := range doc.Paths {
			prefixed["/"+strings.Trim(doc.BasePath, "/")+p] = item
		}
		doc.Paths = prefixed
	}
	return &doc, warnings, nil
}

// importMethods turns a path's operations into REST API methods.
func importMethods(item map[string]json.RawMessage, resourceID string, enforcing bool, im *importer) (map[string]restapi.Method, error) {
	out := map[string]restapi.Method{}
	for key, raw := range item {
		name := strings.ToUpper(key)
		if key == "x-amazon-apigateway-any-method" {
			name = "ANY"
		}
		if !restMethods[name] || name == "ANY" && key != "x-amazon-apigateway-any-method" {
			continue // parameters, summary, servers and the like
		}
		var op operation
		if err := json.Unmarshal(raw, &op); err != nil {
			return nil, badRequest("Invalid OpenAPI input for method %s: %v", key, err)
		}
		put := &restapi.PutMethodRequest{HttpMethod: &name, AuthorizationType: awsproto.Ptr("NONE"), ResourceId: &resourceID}
		if err := im.applySecurity(put, op.Security); err != nil {
			return nil, err
		}
		if err := im.applyValidation(put, &op); err != nil {
			return nil, err
		}
		if op.OperationID != "" {
			put.OperationName = &op.OperationID
		}
		for _, p := range op.Parameters {
			if p.Ref != "" {
				continue
			}
			loc := map[string]string{"path": "path", "query": "querystring", "header": "header"}[p.In]
			if loc != "" {
				put.RequestParameters = withEntry(put.RequestParameters, "method.request."+loc+"."+p.Name, p.Required)
			}
		}
		if err := checkMethodInput(put); err != nil {
			return nil, err
		}
		m := restapi.Method{HttpMethod: &name, AuthorizationType: put.AuthorizationType, ApiKeyRequired: awsproto.Ptr(awsproto.Value(put.ApiKeyRequired)),
			AuthorizerId: put.AuthorizerId, RequestValidatorId: put.RequestValidatorId, RequestModels: put.RequestModels,
			OperationName: put.OperationName, RequestParameters: put.RequestParameters}
		for code, r := range op.Responses {
			if !statusCode.MatchString(code) {
				continue
			}
			mr := restapi.MethodResponse{StatusCode: awsproto.Ptr(code)}
			for h := range r.Headers {
				mr.ResponseParameters = withEntry(mr.ResponseParameters, "method.response.header."+h, false)
			}
			m.MethodResponses = withEntry(m.MethodResponses, code, mr)
		}
		if x := op.Integration; x != nil {
			in := &restapi.PutIntegrationRequest{
				Type: awsproto.Ptr(strings.ToUpper(x.Type)), Uri: &x.URI, IntegrationHttpMethod: awsproto.Ptr(strings.ToUpper(x.HTTPMethod)),
				RequestTemplates: x.RequestTemplates, RequestParameters: x.RequestParameters, TimeoutInMillis: x.TimeoutInMillis,
				ContentHandling: x.ContentHandling, Credentials: x.Credentials, ConnectionType: x.ConnectionType,
				CacheKeyParameters: x.CacheKeyParameters, ResourceId: &resourceID,
			}
			if x.PassthroughBehavior != "" {
				in.PassthroughBehavior = awsproto.Ptr(strings.ToUpper(x.PassthroughBehavior))
			}
			integ, err := checkRestIntegration(in, enforcing)
			if err != nil {
				return nil, err
			}
			for pattern, r := range x.Responses {
				if err := checkContentHandling(r.ContentHandling); err != nil {
					return nil, err
				}
				if err := checkTemplates(r.ResponseTemplates); err != nil {
					return nil, err
				}
				ir := restapi.IntegrationResponse{StatusCode: awsproto.Ptr(r.StatusCode), ResponseTemplates: r.ResponseTemplates, ResponseParameters: r.ResponseParameters,
					ContentHandling: r.ContentHandling}
				if pattern != "default" {
					ir.SelectionPattern = awsproto.Ptr(pattern)
				}
				if _, err := strconv.Atoi(r.StatusCode); err != nil {
					return nil, badRequest("Invalid status code in integration response %q: %q", pattern, r.StatusCode)
				}
				if _, ok := m.MethodResponses[r.StatusCode]; !ok {
					m.MethodResponses = withEntry(m.MethodResponses, r.StatusCode, restapi.MethodResponse{StatusCode: awsproto.Ptr(r.StatusCode)})
				}
				for p := range r.ResponseParameters {
					mr := m.MethodResponses[r.StatusCode]
					mr.ResponseParameters = withEntry(mr.ResponseParameters, p, false)
					m.MethodResponses[r.StatusCode] = mr
				}
				integ.IntegrationResponses = withEntry(integ.IntegrationResponses, r.StatusCode, ir)
			}
			m.MethodIntegration = integ
		}
		out[name] = m
	}
	return out, nil
}

// importDefinition writes a definition's resources and methods into an API. With overwrite,
// the API's resources are replaced (the root keeps its id); else (merge) each path's methods
// are added to, or replace, the API's.
func importDefinition(tx *store.Tx, sc scope, a *restapi.RestApi, doc *openAPI, overwrite, enforcing bool) error {
	apiID := *a.Id
	if overwrite {
		if _, err := tx.Exec(`DELETE FROM apigw_resources WHERE account = ? AND region = ? AND api_id = ? AND kind = ?`,
			sc.account, sc.region, apiID, kindRestResource); err != nil {
			return err
		}
		root := restapi.Resource{Id: a.RootResourceId, Path: awsproto.Ptr("/")}
		if err := putDoc(tx, sc, apiID, kindRestResource, *root.Id, &root); err != nil {
			return err
		}
	}
	im, err := newImporter(tx, sc, apiID, doc, overwrite)
	if err != nil {
		return err
	}
	all, err := listAll[restapi.Resource](tx.Query, sc, apiID, kindRestResource)
	if err != nil {
		return err
	}
	byPath := map[string]*restapi.Resource{}
	for i := range all {
		byPath[*all[i].Path] = &all[i]
	}
	for _, path := range keysInOrder(doc.Paths) {
		if !strings.HasPrefix(path, "/") {
			return badRequest("Invalid OpenAPI input: path %q does not start with /", path)
		}
		res := byPath["/"]
		for _, part := range strings.Split(strings.Trim(path, "/"), "/") {
			if part == "" {
				continue
			}
			next := byPath[childPath(*res.Path, part)]
			if next == nil {
				if next, err = addResource(tx, sc, apiID, res, part, all); err != nil {
					return err
				}
				all = append(all, *next)
				byPath[*next.Path] = next
			}
			res = next
		}
		methods, err := importMethods(doc.Paths[path], *res.Id, enforcing, im)
		if err != nil {
			return err
		}
		for name, m := range methods {
			res.ResourceMethods = withEntry(res.ResourceMethods, name, m)
		}
		if err := putDoc(tx, sc, apiID, kindRestResource, *res.Id, res); err != nil {
			return err
		}
	}
	return nil
}

// applyDefinitionSettings sets an API's name and the settings a definition's extensions give.
func applyDefinitionSettings(a *restapi.RestApi, doc *openAPI, params map[string]string) {
	if doc.Info.Title != "" {
		a.Name = awsproto.Ptr(doc.Info.Title)
	}
	if doc.Info.Description != "" {
		a.Description = awsproto.Ptr(doc.Info.Description)
	}
	if doc.Info.Version != "" {
		a.Version = awsproto.Ptr(doc.Info.Version)
	}
	if doc.BinaryMediaTypes != nil {
		a.BinaryMediaTypes = doc.BinaryMediaTypes
	}
	set(&a.ApiKeySource, doc.APIKeySource)
	if doc.Endpoint != nil {
		a.EndpointConfiguration.Types = doc.Endpoint.Types
	}
	if t := params["endpointConfigurationTypes"]; t != "" {
		a.EndpointConfiguration.Types = []string{t}
	}
}

// withWarnings fails on warnings when asked, else returns them for the API's answer.
func withWarnings(warnings []string, fail *bool) ([]string, error) {
	if len(warnings) > 0 && awsproto.Value(fail) {
		return nil, badRequest("Warnings found during import:\n\t%s", strings.Join(warnings, "\n\t"))
	}
	return warnings, nil
}

func (s *RESTService) importRestApi(ctx context.Context, in *restapi.ImportRestApiRequest) (*restapi.RestApi, error) {
	doc, warnings, err := parseOpenAPI(in.Body, in.Parameters)
	if err != nil {
		return nil, err
	}
	if warnings, err = withWarnings(warnings, in.FailOnWarnings); err != nil {
		return nil, err
	}
	if doc.Info.Title == "" {
		return nil, badRequest("Invalid OpenAPI input: the API needs a title (info.title)")
	}
	sc := scopeOf(ctx)
	a := s.newRestAPI(&restapi.CreateRestApiRequest{})
	applyDefinitionSettings(a, doc, in.Parameters)
	err = s.st.Write(ctx, func(tx *store.Tx) error {
		if err := s.putNewRestAPI(tx, sc, a); err != nil {
			return err
		}
		return importDefinition(tx, sc, a, doc, true, s.enforcing())
	})
	if err != nil {
		return nil, wrap("import rest api", err)
	}
	a.Warnings = warnings
	return a, nil
}

func (s *RESTService) putRestApi(ctx context.Context, in *restapi.PutRestApiRequest) (*restapi.RestApi, error) {
	mode := awsproto.Value(in.Mode)
	if mode == "" {
		mode = "merge"
	}
	if mode != "merge" && mode != "overwrite" {
		return nil, badRequest("Invalid mode specified: %s", mode)
	}
	doc, warnings, err := parseOpenAPI(in.Body, in.Parameters)
	if err != nil {
		return nil, err
	}
	if warnings, err = withWarnings(warnings, in.FailOnWarnings); err != nil {
		return nil, err
	}
	sc := scopeOf(ctx)
	var a *restapi.RestApi
	err = s.st.Write(ctx, func(tx *store.Tx) error {
		var err error
		if a, err = requireRestAPI(tx.QueryRow, sc, awsproto.Value(in.RestApiId)); err != nil {
			return err
		}
		applyDefinitionSettings(a, doc, in.Parameters)
		if err := putDoc(tx, sc, *a.Id, kindRestAPI, *a.Id, a); err != nil {
			return err
		}
		return importDefinition(tx, sc, a, doc, mode == "overwrite", s.enforcing())
	})
	if err != nil {
		return nil, wrap(fmt.Sprintf("put rest api (%s)", mode), err)
	}
	a.Warnings = warnings
	return a, nil
}
