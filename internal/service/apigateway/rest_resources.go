package apigateway

import (
	"context"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/service/apigateway/mapping"
	"github.com/kiri-run/kiri/internal/service/apigateway/restapi"
	"github.com/kiri-run/kiri/internal/store"
)

var (
	literalPart  = regexp.MustCompile(`^[A-Za-z0-9._~:@!$&'()*+,;=-]+$`)
	variablePart = regexp.MustCompile(`^\{[A-Za-z0-9._-]+\+?\}$`)
	methodParam  = regexp.MustCompile(`^method\.request\.(path|querystring|multivaluequerystring|header|multivalueheader)\.[^.\s]+$`)
)

// restMethods are the HTTP methods a REST API resource may have.
var restMethods = map[string]bool{"GET": true, "POST": true, "PUT": true, "PATCH": true, "DELETE": true, "HEAD": true, "OPTIONS": true, "ANY": true}

// loadResource loads a resource of an existing REST API, or answers NotFoundException.
func loadResource(q rowQuery, sc scope, apiID, id string) (*restapi.Resource, error) {
	return loadChild[restapi.Resource](q, sc, apiID, kindRestResource, id, "Resource")
}

// checkPathPart refuses a path part API Gateway refuses: a literal of other characters, or a
// variable part beside another variable sibling.
func checkPathPart(part string, siblings []restapi.Resource) error {
	if !literalPart.MatchString(part) && !variablePart.MatchString(part) {
		return badRequest("Resource's path part only allow a-zA-Z0-9._- and curly braces at the beginning and the end and an optional plus sign before the closing brace.")
	}
	for _, s := range siblings {
		sp := awsproto.Value(s.PathPart)
		if sp == part {
			return conflict("Another resource with the same parent already has this name: %s", part)
		}
		if strings.HasPrefix(part, "{") && strings.HasPrefix(sp, "{") {
			return badRequest("A sibling (%s) of this resource already has a variable path part -- only one is allowed", sp)
		}
	}
	return nil
}

// childPath is the path of a resource under parent.
func childPath(parent, part string) string {
	if parent == "/" {
		return "/" + part
	}
	return parent + "/" + part
}

func (s *RESTService) createResource(ctx context.Context, in *restapi.CreateResourceRequest) (*restapi.Resource, error) {
	sc := scopeOf(ctx)
	apiID, part := awsproto.Value(in.RestApiId), awsproto.Value(in.PathPart)
	var r *restapi.Resource
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		parent, err := loadResource(tx.QueryRow, sc, apiID, awsproto.Value(in.ParentId))
		if err != nil {
			return err
		}
		all, err := listAll[restapi.Resource](tx.Query, sc, apiID, kindRestResource)
		if err != nil {
			return err
		}
		r, err = addResource(tx, sc, apiID, parent, part, all)
		return err
	})
	if err != nil {
		return nil, wrap("create resource", err)
	}
	return r, nil
}

// addResource stores a new resource named part under parent, all being the API's resources.
func addResource(tx *store.Tx, sc scope, apiID string, parent *restapi.Resource, part string, all []restapi.Resource) (*restapi.Resource, error) {
	if strings.HasSuffix(awsproto.Value(parent.PathPart), "+}") {
		return nil, badRequest("Cannot create a child of a resource with a greedy path variable: %s", awsproto.Value(parent.Path))
	}
	var siblings []restapi.Resource
	for _, x := range all {
		if awsproto.Value(x.ParentId) == *parent.Id {
			siblings = append(siblings, x)
		}
	}
	if err := checkPathPart(part, siblings); err != nil {
		return nil, err
	}
	r := &restapi.Resource{Id: awsproto.Ptr(newID(6)), ParentId: parent.Id, PathPart: &part, Path: awsproto.Ptr(childPath(*parent.Path, part))}
	return r, putDoc(tx, sc, apiID, kindRestResource, *r.Id, r)
}

// embedMethods reports whether an embed parameter asks for the resources' methods.
func embedMethods(embed []string) bool {
	for _, e := range embed {
		for _, p := range strings.Split(e, ",") {
			if strings.TrimSpace(p) == "methods" {
				return true
			}
		}
	}
	return false
}

// shownResource is a resource as GetResource(s) show it: with its methods only when
// embedded, else their names alone.
func shownResource(r restapi.Resource, embed bool) restapi.Resource {
	if len(r.ResourceMethods) == 0 {
		r.ResourceMethods = nil
		return r
	}
	if !embed {
		names := make(map[string]restapi.Method, len(r.ResourceMethods))
		for m := range r.ResourceMethods {
			names[m] = restapi.Method{}
		}
		r.ResourceMethods = names
	}
	return r
}

func (s *RESTService) getResource(ctx context.Context, in *restapi.GetResourceRequest) (*restapi.Resource, error) {
	r, err := loadResource(storeRow(ctx, s.st), scopeOf(ctx), awsproto.Value(in.RestApiId), awsproto.Value(in.ResourceId))
	if err != nil {
		return nil, wrap("get resource", err)
	}
	out := shownResource(*r, embedMethods(in.Embed))
	return &out, nil
}

func (s *RESTService) getResources(ctx context.Context, in *restapi.GetResourcesRequest) (*restapi.Resources, error) {
	items, next, err := listChildren[restapi.Resource](ctx, s.st, awsproto.Value(in.RestApiId), kindRestResource, in.Position, in.Limit)
	if err != nil {
		return nil, wrap("get resources", err)
	}
	embed := embedMethods(in.Embed)
	for i := range items {
		items[i] = shownResource(items[i], embed)
	}
	return &restapi.Resources{Items: items, Position: next}, nil
}

func (s *RESTService) deleteResource(ctx context.Context, in *restapi.DeleteResourceRequest) (*struct{}, error) {
	sc := scopeOf(ctx)
	apiID := awsproto.Value(in.RestApiId)
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		r, err := loadResource(tx.QueryRow, sc, apiID, awsproto.Value(in.ResourceId))
		if err != nil {
			return err
		}
		if r.ParentId == nil {
			return badRequest("Cannot delete root resource")
		}
		all, err := listAll[restapi.Resource](tx.Query, sc, apiID, kindRestResource)
		if err != nil {
			return err
		}
		for _, x := range all {
			if p := awsproto.Value(x.Path); p == *r.Path || strings.HasPrefix(p, *r.Path+"/") {
				if err := deleteDoc(tx, sc, apiID, kindRestResource, *x.Id); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, wrap("delete resource", err)
	}
	return &struct{}{}, nil
}

// editMethod loads a resource, lets edit change the method named (nil when it has none) and
// stores the resource again; edit returns the method to store, or nil to delete it.
func (s *RESTService) editMethod(ctx context.Context, apiID, resourceID, httpMethod string,
	edit func(m *restapi.Method) (*restapi.Method, error)) (*restapi.Method, error) {
	sc := scopeOf(ctx)
	var out *restapi.Method
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		r, err := loadResource(tx.QueryRow, sc, apiID, resourceID)
		if err != nil {
			return err
		}
		var cur *restapi.Method
		if m, ok := r.ResourceMethods[httpMethod]; ok {
			cur = &m
		}
		if out, err = edit(cur); err != nil {
			return err
		}
		if out == nil {
			delete(r.ResourceMethods, httpMethod)
		} else {
			if r.ResourceMethods == nil {
				r.ResourceMethods = map[string]restapi.Method{}
			}
			r.ResourceMethods[httpMethod] = *out
		}
		return putDoc(tx, sc, apiID, kindRestResource, resourceID, r)
	})
	return out, err
}

// readMethod loads the method of a resource, or answers NotFoundException.
func (s *RESTService) readMethod(ctx context.Context, apiID, resourceID, httpMethod string) (*restapi.Method, error) {
	r, err := loadResource(storeRow(ctx, s.st), scopeOf(ctx), apiID, resourceID)
	if err != nil {
		return nil, err
	}
	m, ok := r.ResourceMethods[httpMethod]
	if !ok {
		return nil, notFound("Invalid Method identifier specified")
	}
	return &m, nil
}

func noMethod() error { return notFound("Invalid Method identifier specified") }

// checkMethodInput refuses what Kiri's REST API methods do not honour.
func checkMethodInput(in *restapi.PutMethodRequest) error {
	if !restMethods[awsproto.Value(in.HttpMethod)] {
		return badRequest("Invalid HttpMethod specified. Valid options are GET,PUT,POST,DELETE,PATCH,OPTIONS,HEAD,ANY")
	}
	switch t := awsproto.Value(in.AuthorizationType); t {
	case "NONE":
		if in.AuthorizerId != nil {
			return badRequest("Authorizer ID must not be set for authorization type NONE")
		}
	case "CUSTOM":
		if in.AuthorizerId == nil {
			return badRequest("Invalid authorizer ID specified. Setting the authorization type to CUSTOM or COGNITO_USER_POOLS requires a valid authorizer.")
		}
	case "AWS_IAM":
		if in.AuthorizerId != nil {
			return badRequest("Authorizer ID must not be set for authorization type AWS_IAM")
		}
	case "COGNITO_USER_POOLS":
		return badRequest("Authorization type %s is not supported by this server yet", t)
	default:
		return badRequest("Invalid authorization type specified: %s", t)
	}
	if len(in.AuthorizationScopes) > 0 {
		return badRequest("Authorization scopes are only used by COGNITO_USER_POOLS authorizers")
	}
	for p := range in.RequestParameters {
		if !methodParam.MatchString(p) {
			return badRequest("Invalid method parameter specified: %s", p)
		}
	}
	return nil
}

func (s *RESTService) putMethod(ctx context.Context, in *restapi.PutMethodRequest) (*restapi.Method, error) {
	if err := checkMethodInput(in); err != nil {
		return nil, err
	}
	q := storeRow(ctx, s.st)
	if in.AuthorizerId != nil {
		if _, err := loadAuthorizer(q, scopeOf(ctx), awsproto.Value(in.RestApiId), *in.AuthorizerId); err != nil {
			return nil, wrap("put method", err)
		}
	}
	if err := checkMethodRefs(q, scopeOf(ctx), awsproto.Value(in.RestApiId), in.RequestModels, in.RequestValidatorId); err != nil {
		return nil, wrap("put method", err)
	}
	m, err := s.editMethod(ctx, awsproto.Value(in.RestApiId), awsproto.Value(in.ResourceId), awsproto.Value(in.HttpMethod),
		func(*restapi.Method) (*restapi.Method, error) {
			return &restapi.Method{
				AuthorizerId: in.AuthorizerId,
				HttpMethod:   in.HttpMethod, AuthorizationType: in.AuthorizationType, ApiKeyRequired: awsproto.Ptr(awsproto.Value(in.ApiKeyRequired)),
				OperationName: in.OperationName, RequestModels: in.RequestModels, RequestParameters: in.RequestParameters,
				RequestValidatorId: in.RequestValidatorId,
			}, nil
		})
	return m, wrap("put method", err)
}

func (s *RESTService) getMethod(ctx context.Context, in *restapi.GetMethodRequest) (*restapi.Method, error) {
	m, err := s.readMethod(ctx, awsproto.Value(in.RestApiId), awsproto.Value(in.ResourceId), awsproto.Value(in.HttpMethod))
	return m, wrap("get method", err)
}

func (s *RESTService) deleteMethod(ctx context.Context, in *restapi.DeleteMethodRequest) (*struct{}, error) {
	_, err := s.editMethod(ctx, awsproto.Value(in.RestApiId), awsproto.Value(in.ResourceId), awsproto.Value(in.HttpMethod),
		func(m *restapi.Method) (*restapi.Method, error) {
			if m == nil {
				return nil, noMethod()
			}
			return nil, nil
		})
	if err != nil {
		return nil, wrap("delete method", err)
	}
	return &struct{}{}, nil
}

func (s *RESTService) putMethodResponse(ctx context.Context, in *restapi.PutMethodResponseRequest) (*restapi.MethodResponse, error) {
	code := awsproto.Value(in.StatusCode)
	if !statusCode.MatchString(code) {
		return nil, badRequest("Invalid status code specified: %s", code)
	}
	for p := range in.ResponseParameters {
		if !strings.HasPrefix(p, "method.response.header.") {
			return nil, badRequest("Invalid mapping expression specified: %s", p)
		}
	}
	if err := checkMethodRefs(storeRow(ctx, s.st), scopeOf(ctx), awsproto.Value(in.RestApiId), in.ResponseModels, nil); err != nil {
		return nil, wrap("put method response", err)
	}
	mr := restapi.MethodResponse{StatusCode: &code, ResponseParameters: in.ResponseParameters, ResponseModels: in.ResponseModels}
	_, err := s.editMethod(ctx, awsproto.Value(in.RestApiId), awsproto.Value(in.ResourceId), awsproto.Value(in.HttpMethod),
		func(m *restapi.Method) (*restapi.Method, error) {
			if m == nil {
				return nil, noMethod()
			}
			m.MethodResponses = withEntry(m.MethodResponses, code, mr)
			return m, nil
		})
	if err != nil {
		return nil, wrap("put method response", err)
	}
	return &mr, nil
}

var statusCode = regexp.MustCompile(`^[1-5]\d\d$`)

// withEntry is m (made when nil) with k set to v.
func withEntry[V any](m map[string]V, k string, v V) map[string]V {
	if m == nil {
		m = map[string]V{}
	}
	m[k] = v
	return m
}

func (s *RESTService) getMethodResponse(ctx context.Context, in *restapi.GetMethodResponseRequest) (*restapi.MethodResponse, error) {
	m, err := s.readMethod(ctx, awsproto.Value(in.RestApiId), awsproto.Value(in.ResourceId), awsproto.Value(in.HttpMethod))
	if err != nil {
		return nil, wrap("get method response", err)
	}
	mr, ok := m.MethodResponses[awsproto.Value(in.StatusCode)]
	if !ok {
		return nil, notFound("Invalid Response status code specified")
	}
	return &mr, nil
}

func (s *RESTService) deleteMethodResponse(ctx context.Context, in *restapi.DeleteMethodResponseRequest) (*struct{}, error) {
	_, err := s.editMethod(ctx, awsproto.Value(in.RestApiId), awsproto.Value(in.ResourceId), awsproto.Value(in.HttpMethod),
		func(m *restapi.Method) (*restapi.Method, error) {
			if m == nil {
				return nil, noMethod()
			}
			if _, ok := m.MethodResponses[awsproto.Value(in.StatusCode)]; !ok {
				return nil, notFound("Invalid Response status code specified")
			}
			delete(m.MethodResponses, awsproto.Value(in.StatusCode))
			return m, nil
		})
	if err != nil {
		return nil, wrap("delete method response", err)
	}
	return &struct{}{}, nil
}

// Integration types of REST APIs.
const (
	restLambdaProxy = "AWS_PROXY"
	restHTTPProxy   = "HTTP_PROXY"
	restMock        = "MOCK"
	restAWS         = "AWS"
	restHTTP        = "HTTP"
)

var (
	integrationParam = regexp.MustCompile(`^integration\.request\.(path|querystring|header)\.[^.\s]+$`)
	paramSource      = regexp.MustCompile(`^(method\.request\.(path|querystring|header)\.[^.\s]+|'[^']*'|stageVariables\.[A-Za-z0-9_]+)$`)
)

// checkIntegrationTarget checks an integration's type, URI and method, and returns the
// integration as stored.
func checkRestIntegration(in *restapi.PutIntegrationRequest, enforcing bool) (*restapi.Integration, error) {
	typ := awsproto.Value(in.Type)
	uri := awsproto.Value(in.Uri)
	method := awsproto.Value(in.IntegrationHttpMethod)
	switch typ {
	case restAWS:
		if sqsURI.MatchString(uri) || strings.Contains(uri, ":sqs:") {
			if err := checkSQSTarget(uri, in.Credentials, enforcing); err != nil {
				return nil, err
			}
			if method != "POST" {
				return nil, badRequest("SQS integrations must use the POST integration HTTP method")
			}
			break
		}
		if strings.Contains(uri, ":dynamodb:") || strings.Contains(uri, ":events:") {
			if err := checkDynamoTarget(uri, method, in.Credentials, enforcing); err != nil {
				return nil, err
			}
			break
		}
		fallthrough
	case restLambdaProxy:
		m := invokeARN.FindStringSubmatch(uri)
		if m == nil || !functionARN.MatchString(m[1]) {
			if typ == restAWS && strings.HasPrefix(uri, "arn:") {
				return nil, badRequest("AWS integrations with services other than Lambda are not supported by this server yet: %s", uri)
			}
			return nil, badRequest("Invalid ARN specified in the request")
		}
		if method != "POST" {
			return nil, badRequest("Lambda integrations must use the POST integration HTTP method")
		}
	case restHTTPProxy, restHTTP:
		u, err := url.Parse(uri)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, badRequest("Invalid HTTP endpoint specified for URI")
		}
		if !restMethods[method] {
			return nil, badRequest("Enumeration value for HttpMethod must be non-empty")
		}
		if typ == restHTTP {
			return nil, badRequest("HTTP (non-proxy) integrations are not supported by this server yet; use HTTP_PROXY")
		}
	case restMock:
		uri, method = "", ""
	case "":
		return nil, badRequest("Enumeration value for IntegrationType must be non-empty")
	default:
		return nil, badRequest("Invalid integration type specified: %s", typ)
	}
	if in.Credentials != nil && !sqsURI.MatchString(uri) && !dynamoURI.MatchString(uri) {
		return nil, badRequest("Integration credentials are not supported by this server yet for %s integrations other than with SQS and DynamoDB", typ)
	}
	if c := awsproto.Value(in.ConnectionType); c != "" && c != "INTERNET" {
		return nil, badRequest("Connection type %s is not supported by this server yet", c)
	}
	if in.TlsConfig != nil || in.IntegrationTarget != nil || in.ResponseTransferMode != nil && *in.ResponseTransferMode != "BUFFERED" {
		return nil, badRequest("TLS configuration, integration targets and response streaming are not supported by this server yet")
	}
	if err := checkContentHandling(in.ContentHandling); err != nil {
		return nil, err
	}
	if in.ContentHandling != nil && typ == restHTTPProxy {
		return nil, badRequest("Content handling is not supported for HTTP_PROXY integrations, which pass bodies through as they are")
	}
	if awsproto.Value(in.ContentHandling) == convertToBinary && typ == restLambdaProxy {
		return nil, badRequest("CONVERT_TO_BINARY is not supported for AWS_PROXY integrations: a Lambda proxy event carries a binary body in base64")
	}
	timeout := int32(29000)
	if in.TimeoutInMillis != nil {
		if *in.TimeoutInMillis < 50 || *in.TimeoutInMillis > 29000 {
			return nil, badRequest("Timeout should be between 50 ms and 29000 ms")
		}
		timeout = *in.TimeoutInMillis
	}
	pass := awsproto.Value(in.PassthroughBehavior)
	switch pass {
	case "":
		pass = "WHEN_NO_MATCH"
	case "WHEN_NO_MATCH", "WHEN_NO_TEMPLATES", "NEVER":
	default:
		return nil, badRequest("Invalid passthrough behavior specified: %s", pass)
	}
	if err := checkTemplates(in.RequestTemplates); err != nil {
		return nil, err
	}
	if len(in.RequestTemplates) > 0 && (typ == restLambdaProxy || typ == restHTTPProxy) {
		return nil, badRequest("Mapping templates are not used by proxy integrations")
	}
	for k, v := range in.RequestParameters {
		if !integrationParam.MatchString(k) || !paramSource.MatchString(v) {
			return nil, badRequest("Invalid mapping expression specified: Validation Result: warnings : [], errors : [Invalid mapping expression specified: %s]", v)
		}
	}
	i := &restapi.Integration{
		Type: &typ, HttpMethod: awsproto.Ptr(method), Uri: awsproto.Ptr(uri), PassthroughBehavior: &pass,
		TimeoutInMillis: &timeout, RequestTemplates: in.RequestTemplates, RequestParameters: in.RequestParameters, Credentials: in.Credentials,
		CacheNamespace: in.ResourceId, CacheKeyParameters: in.CacheKeyParameters, ConnectionType: awsproto.Ptr("INTERNET"),
		ContentHandling: in.ContentHandling,
	}
	if method == "" {
		i.HttpMethod = nil
	}
	if uri == "" {
		i.Uri = nil
	}
	if i.CacheKeyParameters == nil {
		i.CacheKeyParameters = []string{}
	}
	return i, nil
}

func (s *RESTService) putIntegration(ctx context.Context, in *restapi.PutIntegrationRequest) (*restapi.Integration, error) {
	integ, err := checkRestIntegration(in, s.enforcing())
	if err != nil {
		return nil, err
	}
	_, err = s.editMethod(ctx, awsproto.Value(in.RestApiId), awsproto.Value(in.ResourceId), awsproto.Value(in.HttpMethod),
		func(m *restapi.Method) (*restapi.Method, error) {
			if m == nil {
				return nil, noMethod()
			}
			m.MethodIntegration = integ
			return m, nil
		})
	if err != nil {
		return nil, wrap("put integration", err)
	}
	return integ, nil
}

// readIntegration loads a method's integration, or answers NotFoundException.
func (s *RESTService) readIntegration(ctx context.Context, apiID, resourceID, httpMethod string) (*restapi.Integration, error) {
	m, err := s.readMethod(ctx, apiID, resourceID, httpMethod)
	if err != nil {
		return nil, err
	}
	if m.MethodIntegration == nil {
		return nil, notFound("Invalid Integration identifier specified")
	}
	return m.MethodIntegration, nil
}

func (s *RESTService) getIntegration(ctx context.Context, in *restapi.GetIntegrationRequest) (*restapi.Integration, error) {
	i, err := s.readIntegration(ctx, awsproto.Value(in.RestApiId), awsproto.Value(in.ResourceId), awsproto.Value(in.HttpMethod))
	return i, wrap("get integration", err)
}

func (s *RESTService) deleteIntegration(ctx context.Context, in *restapi.DeleteIntegrationRequest) (*struct{}, error) {
	_, err := s.editMethod(ctx, awsproto.Value(in.RestApiId), awsproto.Value(in.ResourceId), awsproto.Value(in.HttpMethod),
		func(m *restapi.Method) (*restapi.Method, error) {
			if m == nil {
				return nil, noMethod()
			}
			if m.MethodIntegration == nil {
				return nil, notFound("Invalid Integration identifier specified")
			}
			m.MethodIntegration = nil
			return m, nil
		})
	if err != nil {
		return nil, wrap("delete integration", err)
	}
	return &struct{}{}, nil
}

var responseParam = regexp.MustCompile(`^method\.response\.header\.[^.\s]+$`)
var responseSource = regexp.MustCompile(`^('[^']*'|integration\.response\.header\.[^.\s]+)$`)

func (s *RESTService) putIntegrationResponse(ctx context.Context, in *restapi.PutIntegrationResponseRequest) (*restapi.IntegrationResponse, error) {
	code := awsproto.Value(in.StatusCode)
	if err := checkContentHandling(in.ContentHandling); err != nil {
		return nil, err
	}
	if err := checkTemplates(in.ResponseTemplates); err != nil {
		return nil, err
	}
	if p := in.SelectionPattern; p != nil {
		if _, err := regexp.Compile(*p); err != nil {
			return nil, badRequest("Invalid selection pattern specified: %s", *p)
		}
	}
	for k, v := range in.ResponseParameters {
		if !responseParam.MatchString(k) || !responseSource.MatchString(v) {
			return nil, badRequest("Invalid mapping expression specified: Validation Result: warnings : [], errors : [Invalid mapping expression specified: %s]", v)
		}
	}
	ir := restapi.IntegrationResponse{StatusCode: &code, SelectionPattern: in.SelectionPattern, ContentHandling: in.ContentHandling,
		ResponseParameters: in.ResponseParameters, ResponseTemplates: in.ResponseTemplates}
	_, err := s.editMethod(ctx, awsproto.Value(in.RestApiId), awsproto.Value(in.ResourceId), awsproto.Value(in.HttpMethod),
		func(m *restapi.Method) (*restapi.Method, error) {
			if m == nil {
				return nil, noMethod()
			}
			if m.MethodIntegration == nil {
				return nil, notFound("Invalid Integration identifier specified")
			}
			if _, ok := m.MethodResponses[code]; !ok {
				return nil, notFound("Invalid Response status code specified")
			}
			for p := range in.ResponseParameters {
				if _, ok := m.MethodResponses[code].ResponseParameters[p]; !ok {
					return nil, badRequest("Invalid mapping expression specified: Validation Result: warnings : [], errors : [Invalid mapping expression parameter specified: %s]", p)
				}
			}
			m.MethodIntegration.IntegrationResponses = withEntry(m.MethodIntegration.IntegrationResponses, code, ir)
			return m, nil
		})
	if err != nil {
		return nil, wrap("put integration response", err)
	}
	return &ir, nil
}

func (s *RESTService) getIntegrationResponse(ctx context.Context, in *restapi.GetIntegrationResponseRequest) (*restapi.IntegrationResponse, error) {
	i, err := s.readIntegration(ctx, awsproto.Value(in.RestApiId), awsproto.Value(in.ResourceId), awsproto.Value(in.HttpMethod))
	if err != nil {
		return nil, wrap("get integration response", err)
	}
	ir, ok := i.IntegrationResponses[awsproto.Value(in.StatusCode)]
	if !ok {
		return nil, notFound("Invalid Response status code specified")
	}
	return &ir, nil
}

func (s *RESTService) deleteIntegrationResponse(ctx context.Context, in *restapi.DeleteIntegrationResponseRequest) (*struct{}, error) {
	_, err := s.editMethod(ctx, awsproto.Value(in.RestApiId), awsproto.Value(in.ResourceId), awsproto.Value(in.HttpMethod),
		func(m *restapi.Method) (*restapi.Method, error) {
			if m == nil {
				return nil, noMethod()
			}
			if m.MethodIntegration == nil {
				return nil, notFound("Invalid Integration identifier specified")
			}
			if _, ok := m.MethodIntegration.IntegrationResponses[awsproto.Value(in.StatusCode)]; !ok {
				return nil, notFound("Invalid Response status code specified")
			}
			m.MethodIntegration.IntegrationResponses = maps.Clone(m.MethodIntegration.IntegrationResponses)
			delete(m.MethodIntegration.IntegrationResponses, awsproto.Value(in.StatusCode))
			return m, nil
		})
	if err != nil {
		return nil, wrap("delete integration response", err)
	}
	return &struct{}{}, nil
}

// checkTemplates refuses mapping templates that do not parse as Velocity.
func checkTemplates(templates map[string]string) error {
	for ct, t := range templates {
		if err := mapping.Validate(t); err != nil {
			return badRequest("Invalid mapping template specified for content type %s: %v", ct, err)
		}
	}
	return nil
}

// keysInOrder is m's keys in lexical order.
func keysInOrder[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

// Content handling strategies: how API Gateway converts a payload between text and binary.
const (
	convertToText   = "CONVERT_TO_TEXT"
	convertToBinary = "CONVERT_TO_BINARY"
)

func checkContentHandling(h *string) error {
	switch awsproto.Value(h) {
	case "", convertToText, convertToBinary:
		return nil
	}
	return badRequest("Invalid content handling specified: %s", *h)
}
