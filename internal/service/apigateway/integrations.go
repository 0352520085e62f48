package apigateway

import (
	"context"
	"encoding/json"
	"net/url"
	"regexp"
	"strings"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/store"
)

// defaultTimeoutMillis is an HTTP API integration's timeout unless set: 30 seconds.
const defaultTimeoutMillis = 30000

var (
	functionARN = regexp.MustCompile(`^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]+(:[A-Za-z0-9_$-]+)?$`)
	invokeARN   = regexp.MustCompile(`^arn:aws[a-z-]*:apigateway:[a-z0-9-]+:lambda:path/2015-03-31/functions/(.+)/invocations$`)
)

// checkIntegrationURI accepts a Lambda function ARN, or its invoke ARN, and returns it.
func checkIntegrationURI(uri string) (string, error) {
	fn := uri
	if m := invokeARN.FindStringSubmatch(uri); m != nil {
		fn = m[1]
	}
	if !functionARN.MatchString(fn) {
		return "", badRequest("Invalid integration URI specified: %s. A Lambda proxy integration needs a Lambda function ARN or its invoke ARN", uri)
	}
	return uri, nil
}

// integrationFunction is the function ARN an integration invokes.
func integrationFunction(uri string) string {
	if m := invokeARN.FindStringSubmatch(uri); m != nil {
		return m[1]
	}
	return uri
}

// Integration types and subtypes Kiri serves.
const (
	typeLambda       = "AWS_PROXY"
	typeHTTP         = "HTTP_PROXY"
	subtypeSQSSend   = "SQS-SendMessage"
	subtypeEventsPut = "EventBridge-PutEvents"
)

var roleARN = regexp.MustCompile(`^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$`)

// integrationMethods are the methods an HTTP proxy integration may call its URL with.
var integrationMethods = map[string]bool{"ANY": true, "GET": true, "POST": true, "PUT": true, "PATCH": true, "DELETE": true, "HEAD": true, "OPTIONS": true}

// checkIntegrationInput refuses integrations Kiri does not build: anything but AWS_PROXY to a
// Lambda function or HTTP_PROXY to a URL over the internet, and the mapping features HTTP APIs
// offer other integrations.
func checkIntegrationInput(typ, subtype, connection, credentials, version *string, timeout *int32,
	reqParams, templates map[string]string, respParams map[string]map[string]string, tls *TlsConfigInput) error {
	if t := awsproto.Value(typ); t != "" && t != typeLambda && t != typeHTTP {
		return badRequest("Integration type %s is not supported by this server yet; only AWS_PROXY integrations with Lambda functions and HTTP_PROXY integrations are", t)
	}
	if _, ok := subtypeParams[awsproto.Value(subtype)]; subtype != nil && !ok {
		return badRequest("Integration subtype %s is not supported by this server yet; only %s, %s, %s and %s are", *subtype,
			subtypeSQSSend, subtypeEventsPut, subtypeSFNStart, subtypeSFNSync)
	}
	if c := awsproto.Value(connection); c != "" && c != "INTERNET" {
		return badRequest("Connection type %s is not supported by this server yet", c)
	}
	if credentials != nil && !roleARN.MatchString(*credentials) {
		return badRequest("Invalid role ARN specified for CredentialsArn: %s", *credentials)
	}
	if v := awsproto.Value(version); v != "" && v != "1.0" && v != "2.0" {
		return badRequest("Invalid payload format version specified: %s. Supported values are 1.0 and 2.0", v)
	}
	if timeout != nil && (*timeout < 50 || *timeout > 30000) {
		return badRequest("Timeout must be between 50 milliseconds and 30 seconds for HTTP APIs")
	}
	if tls != nil {
		return badRequest("TLS configuration is not supported by this server yet")
	}
	if len(templates) > 0 {
		return badRequest("RequestTemplates are not supported for HTTP APIs")
	}
	return nil
}

// checkIntegration checks an integration as it would be stored, by its type: a Lambda proxy
// integration calls a function ARN with POST; an HTTP proxy integration calls an http(s) URL with
// a method and payload format 1.0; an SQS-SendMessage integration maps the request to
// SendMessage's parameters (and needs a role when IAM is enforced, as AWS always does).
func checkIntegration(i *Integration, enforcing bool) error {
	uri := awsproto.Value(i.IntegrationUri)
	if i.IntegrationSubtype == nil {
		if err := checkRequestParameters(i.RequestParameters); err != nil {
			return err
		}
	}
	if len(i.ResponseParameters) > 0 && i.IntegrationSubtype != nil {
		return badRequest("Response parameter mapping is not supported by this server yet for integration subtypes")
	}
	if err := checkResponseParameters(i.ResponseParameters); err != nil {
		return err
	}
	if i.CredentialsArn != nil && i.IntegrationSubtype == nil {
		return badRequest("CredentialsArn is not supported by this server yet except for AWS service integrations")
	}
	switch t := awsproto.Value(i.IntegrationType); {
	case t == typeLambda && i.IntegrationSubtype != nil:
		return checkServiceIntegration(i, enforcing)
	case t == typeLambda:
		if i.IntegrationUri == nil {
			return badRequest("IntegrationUri is required for AWS_PROXY integrations")
		}
		if _, err := checkIntegrationURI(uri); err != nil {
			return err
		}
		if m := awsproto.Value(i.IntegrationMethod); m != "POST" {
			return badRequest("Invalid integration method %s: Lambda proxy integrations use POST", m)
		}
	case t == typeHTTP && i.IntegrationSubtype != nil:
		return badRequest("IntegrationSubtype is only supported for AWS_PROXY integrations")
	case t == typeHTTP:
		if i.IntegrationUri == nil {
			return badRequest("IntegrationUri is required for HTTP_PROXY integrations")
		}
		if u, err := url.Parse(uri); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return badRequest("Invalid HTTP endpoint specified for URI")
		}
		if i.IntegrationMethod == nil {
			return badRequest("IntegrationMethod is required for HTTP_PROXY integrations")
		}
		if m := *i.IntegrationMethod; !integrationMethods[m] {
			return badRequest("Invalid HTTP method specified: %s", m)
		}
		if v := awsproto.Value(i.PayloadFormatVersion); v != "1.0" {
			return badRequest("Unsupported payload format version %s for integration type HTTP_PROXY; HTTP_PROXY integrations support 1.0 only", v)
		}
	default:
		return badRequest("IntegrationType is required")
	}
	return nil
}

func (s *Service) createIntegration(ctx context.Context, in *CreateIntegrationRequest) (*CreateIntegrationResult, error) {
	if err := checkIntegrationInput(in.IntegrationType, in.IntegrationSubtype, in.ConnectionType, in.CredentialsArn,
		in.PayloadFormatVersion, in.TimeoutInMillis, in.RequestParameters, in.RequestTemplates, in.ResponseParameters, in.TlsConfig); err != nil {
		return nil, err
	}
	version := awsproto.Value(in.PayloadFormatVersion)
	if version == "" {
		version = "1.0"
	}
	if err := checkTemplateInput(in.ContentHandlingStrategy, in.PassthroughBehavior, in.TemplateSelectionExpression); err != nil {
		return nil, err
	}
	i := Integration{
		IntegrationId: awsproto.Ptr(newID(7)), IntegrationType: in.IntegrationType, IntegrationUri: in.IntegrationUri,
		IntegrationMethod: in.IntegrationMethod, PayloadFormatVersion: &version, ConnectionType: awsproto.Ptr("INTERNET"),
		Description: in.Description, TimeoutInMillis: awsproto.Ptr(int32(defaultTimeoutMillis)), ApiGatewayManaged: awsproto.Ptr(false),
		IntegrationSubtype: in.IntegrationSubtype, RequestParameters: in.RequestParameters, CredentialsArn: in.CredentialsArn,
		ResponseParameters: in.ResponseParameters,
	}
	if awsproto.Value(i.IntegrationType) == typeLambda && in.IntegrationSubtype == nil && i.IntegrationMethod == nil {
		i.IntegrationMethod = awsproto.Ptr("POST")
	}
	set(&i.TimeoutInMillis, in.TimeoutInMillis)
	if err := checkIntegration(&i, s.enforcing()); err != nil {
		return nil, err
	}
	sc := scopeOf(ctx)
	apiID := awsproto.Value(in.ApiId)
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		a, err := requireAPI(tx.QueryRow, sc, apiID)
		if err != nil {
			return err
		}
		if isWebSocket(a) {
			if in.TimeoutInMillis == nil {
				i.TimeoutInMillis = awsproto.Ptr(int32(webSocketTimeoutMillis))
			}
			if err := checkWebSocketIntegration(&i); err != nil {
				return err
			}
		}
		return putDoc(tx, sc, apiID, kindIntegration, *i.IntegrationId, &i)
	})
	if err != nil {
		return nil, wrap("create integration", err)
	}
	return (*CreateIntegrationResult)(&i), nil
}

func (s *Service) getIntegration(ctx context.Context, in *GetIntegrationRequest) (*GetIntegrationResult, error) {
	var i Integration
	if err := requireDoc(storeRow(ctx, s.st), scopeOf(ctx), awsproto.Value(in.ApiId), kindIntegration, awsproto.Value(in.IntegrationId), "Integration", &i); err != nil {
		return nil, wrap("get integration", err)
	}
	return (*GetIntegrationResult)(&i), nil
}

func (s *Service) getIntegrations(ctx context.Context, in *GetIntegrationsRequest) (*GetIntegrationsResponse, error) {
	out := &GetIntegrationsResponse{Items: []Integration{}}
	next, err := s.page(ctx, awsproto.Value(in.ApiId), kindIntegration, in.MaxResults, in.NextToken, func(doc []byte) error {
		var i Integration
		err := json.Unmarshal(doc, &i)
		out.Items = append(out.Items, i)
		return err
	})
	out.NextToken = next
	return out, wrap("get integrations", err)
}

func (s *Service) updateIntegration(ctx context.Context, in *UpdateIntegrationRequest) (*UpdateIntegrationResult, error) {
	if err := checkIntegrationInput(in.IntegrationType, in.IntegrationSubtype, in.ConnectionType, in.CredentialsArn,
		in.PayloadFormatVersion, in.TimeoutInMillis, in.RequestParameters, in.RequestTemplates, in.ResponseParameters, in.TlsConfig); err != nil {
		return nil, err
	}
	if err := checkTemplateInput(in.ContentHandlingStrategy, in.PassthroughBehavior, in.TemplateSelectionExpression); err != nil {
		return nil, err
	}
	sc := scopeOf(ctx)
	apiID, id := awsproto.Value(in.ApiId), awsproto.Value(in.IntegrationId)
	var i Integration
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		if err := requireDoc(tx.QueryRow, sc, apiID, kindIntegration, id, "Integration", &i); err != nil {
			return err
		}
		a, err := requireAPI(tx.QueryRow, sc, apiID)
		if err != nil {
			return err
		}
		set(&i.IntegrationType, in.IntegrationType)
		set(&i.IntegrationUri, in.IntegrationUri)
		set(&i.IntegrationMethod, in.IntegrationMethod)
		set(&i.PayloadFormatVersion, in.PayloadFormatVersion)
		set(&i.TimeoutInMillis, in.TimeoutInMillis)
		set(&i.Description, in.Description)
		set(&i.IntegrationSubtype, in.IntegrationSubtype)
		set(&i.CredentialsArn, in.CredentialsArn)
		switch {
		case in.RequestParameters == nil:
		case i.IntegrationSubtype != nil:
			i.RequestParameters = in.RequestParameters
		default:
			// A mapping's key given an empty value removes it; the others are kept.
			i.RequestParameters = mergeMappings(i.RequestParameters, in.RequestParameters)
		}
		if in.ResponseParameters != nil {
			i.ResponseParameters = mergeMappings(i.ResponseParameters, in.ResponseParameters)
		}
		if err := checkIntegration(&i, s.enforcing()); err != nil {
			return err
		}
		if isWebSocket(a) {
			if err := checkWebSocketIntegration(&i); err != nil {
				return err
			}
		}
		if err := putDoc(tx, sc, apiID, kindIntegration, id, &i); err != nil {
			return err
		}
		return s.autoDeploy(tx, sc, apiID)
	})
	if err != nil {
		return nil, wrap("update integration", err)
	}
	return (*UpdateIntegrationResult)(&i), nil
}

func (s *Service) deleteIntegration(ctx context.Context, in *DeleteIntegrationRequest) (*struct{}, error) {
	sc := scopeOf(ctx)
	apiID, id := awsproto.Value(in.ApiId), awsproto.Value(in.IntegrationId)
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		var i Integration
		if err := requireDoc(tx.QueryRow, sc, apiID, kindIntegration, id, "Integration", &i); err != nil {
			return err
		}
		routes, err := listAll[Route](tx.Query, sc, apiID, kindRoute)
		if err != nil {
			return err
		}
		for _, r := range routes {
			if strings.TrimPrefix(awsproto.Value(r.Target), "integrations/") == id {
				return conflict("Cannot delete integration %s: route %s targets it", id, awsproto.Value(r.RouteKey))
			}
		}
		if err := deleteDoc(tx, sc, apiID, kindIntegration, id); err != nil {
			return err
		}
		return s.autoDeploy(tx, sc, apiID)
	})
	if err != nil {
		return nil, wrap("delete integration", err)
	}
	return &struct{}{}, nil
}
