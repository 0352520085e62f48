package apigateway

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/service/apigateway/restapi"
	"github.com/kiri-run/kiri/internal/store"
)

// Models (JSON Schema draft 4 documents, rows keyed by name) and request validators of a REST
// API. Both are frozen into deployments with the resources.
const (
	kindRestModel     = "restapi.model"
	kindRestValidator = "restapi.validator"
)

// builtinModels are the models API Gateway gives every new REST API.
var builtinModels = []restapi.Model{
	{Name: awsproto.Ptr("Empty"), ContentType: awsproto.Ptr("application/json"), Description: awsproto.Ptr("This is a default empty schema model"),
		Schema: awsproto.Ptr(`{"$schema": "http://json-schema.org/draft-04/schema#", "title" : "Empty Schema", "type" : "object"}`)},
	{Name: awsproto.Ptr("Error"), ContentType: awsproto.Ptr("application/json"), Description: awsproto.Ptr("This is a default error schema model"),
		Schema: awsproto.Ptr(`{"$schema" : "http://json-schema.org/draft-04/schema#", "title" : "Error Schema", "type" : "object", "properties" : { "message" : { "type" : "string" } }}`)},
}

var modelName = regexp.MustCompile(`^[A-Za-z0-9]+$`)

// modelURL is how one model's schema refers to another's, as API Gateway documents:
// https://apigateway.amazonaws.com/restapis/API-ID/models/NAME.
var modelURL = regexp.MustCompile(`^https://apigateway\.amazonaws\.com/restapis/[a-z0-9]+/models/([A-Za-z0-9]+)$`)

// modelLoader resolves references between a REST API's models, and nothing else: no file or
// network is read.
type modelLoader map[string]string

func (l modelLoader) Load(url string) (any, error) {
	m := modelURL.FindStringSubmatch(url)
	if m == nil {
		return nil, fmt.Errorf("reference %s is not a model of this API", url)
	}
	doc, ok := l[m[1]]
	if !ok {
		return nil, fmt.Errorf("model %s does not exist", m[1])
	}
	return jsonschema.UnmarshalJSON(strings.NewReader(doc))
}

// compileModel compiles a model's schema as JSON Schema draft 4, resolving references to the
// API's other models.
func compileModel(name string, models map[string]string) (*jsonschema.Schema, error) {
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft4)
	c.UseLoader(modelLoader(models))
	return c.Compile("https://apigateway.amazonaws.com/restapis/api/models/" + name)
}

// putBuiltinModels stores the built-in models of a new API.
func putBuiltinModels(tx *store.Tx, sc scope, apiID string) error {
	for _, m := range builtinModels {
		m.Id = awsproto.Ptr(newID(6))
		if err := putDoc(tx, sc, apiID, kindRestModel, *m.Name, &m); err != nil {
			return err
		}
	}
	return nil
}

// modelSchemas is the API's models' schemas by name.
func modelSchemas(models []restapi.Model) map[string]string {
	out := make(map[string]string, len(models))
	for _, m := range models {
		out[*m.Name] = awsproto.Value(m.Schema)
	}
	return out
}

func (s *RESTService) createModel(ctx context.Context, in *restapi.CreateModelRequest) (*restapi.Model, error) {
	name := awsproto.Value(in.Name)
	if !modelName.MatchString(name) {
		return nil, badRequest("Model name must be alphanumeric: %s", name)
	}
	if awsproto.Value(in.ContentType) == "" {
		return nil, badRequest("Content type must be non-empty")
	}
	m := &restapi.Model{Id: awsproto.Ptr(newID(6)), Name: in.Name, ContentType: in.ContentType, Description: in.Description, Schema: in.Schema}
	sc := scopeOf(ctx)
	apiID := awsproto.Value(in.RestApiId)
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		if _, err := requireRestAPI(tx.QueryRow, sc, apiID); err != nil {
			return err
		}
		models, err := listAll[restapi.Model](tx.Query, sc, apiID, kindRestModel)
		if err != nil {
			return err
		}
		schemas := modelSchemas(models)
		if _, ok := schemas[name]; ok {
			return conflict("Model name already exists for this REST API")
		}
		if m.Schema != nil {
			schemas[name] = *m.Schema
			if _, err := compileModel(name, schemas); err != nil {
				return badRequest("Invalid model specified: Validation Result: warnings : [], errors : [Invalid model schema specified: %v]", err)
			}
		}
		return putDoc(tx, sc, apiID, kindRestModel, name, m)
	})
	if err != nil {
		return nil, wrap("create model", err)
	}
	return m, nil
}

func (s *RESTService) getModel(ctx context.Context, in *restapi.GetModelRequest) (*restapi.Model, error) {
	sc := scopeOf(ctx)
	apiID := awsproto.Value(in.RestApiId)
	if awsproto.Value(in.Flatten) {
		return nil, badRequest("flatten is not supported by this server yet")
	}
	if _, err := requireRestAPI(storeRow(ctx, s.st), sc, apiID); err != nil {
		return nil, err
	}
	var m restapi.Model
	ok, err := getDoc(storeRow(ctx, s.st), sc, apiID, kindRestModel, awsproto.Value(in.ModelName), &m)
	if err != nil {
		return nil, wrap("get model", err)
	}
	if !ok {
		return nil, notFound("Invalid model name specified: %s", awsproto.Value(in.ModelName))
	}
	return &m, nil
}

func (s *RESTService) getModels(ctx context.Context, in *restapi.GetModelsRequest) (*restapi.Models, error) {
	items, next, err := listChildren[restapi.Model](ctx, s.st, awsproto.Value(in.RestApiId), kindRestModel, in.Position, in.Limit)
	if err != nil {
		return nil, wrap("get models", err)
	}
	return &restapi.Models{Items: items, Position: next}, nil
}

func (s *RESTService) deleteModel(ctx context.Context, in *restapi.DeleteModelRequest) (*struct{}, error) {
	sc := scopeOf(ctx)
	apiID, name := awsproto.Value(in.RestApiId), awsproto.Value(in.ModelName)
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		if _, err := requireRestAPI(tx.QueryRow, sc, apiID); err != nil {
			return err
		}
		var m restapi.Model
		ok, err := getDoc(tx.QueryRow, sc, apiID, kindRestModel, name, &m)
		if err != nil {
			return err
		}
		if !ok {
			return notFound("Invalid model name specified: %s", name)
		}
		resources, err := listAll[restapi.Resource](tx.Query, sc, apiID, kindRestResource)
		if err != nil {
			return err
		}
		for _, r := range resources {
			for method, x := range r.ResourceMethods {
				for _, used := range x.RequestModels {
					if used == name {
						return conflict("Cannot delete model '%s', is referenced in method request: %s/%s", name, awsproto.Value(r.Path), method)
					}
				}
			}
		}
		return deleteDoc(tx, sc, apiID, kindRestModel, name)
	})
	if err != nil {
		return nil, wrap("delete model", err)
	}
	return &struct{}{}, nil
}

func (s *RESTService) createRequestValidator(ctx context.Context, in *restapi.CreateRequestValidatorRequest) (*restapi.RequestValidator, error) {
	v := &restapi.RequestValidator{Id: awsproto.Ptr(newID(6)), Name: in.Name,
		ValidateRequestBody: awsproto.Ptr(awsproto.Value(in.ValidateRequestBody)), ValidateRequestParameters: awsproto.Ptr(awsproto.Value(in.ValidateRequestParameters))}
	sc := scopeOf(ctx)
	apiID := awsproto.Value(in.RestApiId)
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		if _, err := requireRestAPI(tx.QueryRow, sc, apiID); err != nil {
			return err
		}
		return putDoc(tx, sc, apiID, kindRestValidator, *v.Id, v)
	})
	if err != nil {
		return nil, wrap("create request validator", err)
	}
	return v, nil
}

func loadValidator(q rowQuery, sc scope, apiID, id string) (*restapi.RequestValidator, error) {
	return loadChild[restapi.RequestValidator](q, sc, apiID, kindRestValidator, id, "Request Validator")
}

func (s *RESTService) getRequestValidator(ctx context.Context, in *restapi.GetRequestValidatorRequest) (*restapi.RequestValidator, error) {
	v, err := loadValidator(storeRow(ctx, s.st), scopeOf(ctx), awsproto.Value(in.RestApiId), awsproto.Value(in.RequestValidatorId))
	return v, wrap("get request validator", err)
}

func (s *RESTService) getRequestValidators(ctx context.Context, in *restapi.GetRequestValidatorsRequest) (*restapi.RequestValidators, error) {
	items, next, err := listChildren[restapi.RequestValidator](ctx, s.st, awsproto.Value(in.RestApiId), kindRestValidator, in.Position, in.Limit)
	if err != nil {
		return nil, wrap("get request validators", err)
	}
	return &restapi.RequestValidators{Items: items, Position: next}, nil
}

func (s *RESTService) updateRequestValidator(ctx context.Context, in *restapi.UpdateRequestValidatorRequest) (*restapi.RequestValidator, error) {
	sc := scopeOf(ctx)
	apiID := awsproto.Value(in.RestApiId)
	var v *restapi.RequestValidator
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		var err error
		if v, err = loadValidator(tx.QueryRow, sc, apiID, awsproto.Value(in.RequestValidatorId)); err != nil {
			return err
		}
		for _, p := range in.PatchOperations {
			op, path, val := awsproto.Value(p.Op), awsproto.Value(p.Path), awsproto.Value(p.Value)
			switch {
			case op == "replace" && path == "/name":
				v.Name = p.Value
			case op == "replace" && (path == "/validateRequestBody" || path == "/validateRequestParameters"):
				b, err := strconv.ParseBool(val)
				if err != nil {
					return badRequest("Invalid value for %s: %s", path, val)
				}
				if path == "/validateRequestBody" {
					v.ValidateRequestBody = &b
				} else {
					v.ValidateRequestParameters = &b
				}
			default:
				return badPatch(op, path)
			}
		}
		return putDoc(tx, sc, apiID, kindRestValidator, *v.Id, v)
	})
	if err != nil {
		return nil, wrap("update request validator", err)
	}
	return v, nil
}

func (s *RESTService) deleteRequestValidator(ctx context.Context, in *restapi.DeleteRequestValidatorRequest) (*struct{}, error) {
	sc := scopeOf(ctx)
	apiID := awsproto.Value(in.RestApiId)
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		v, err := loadValidator(tx.QueryRow, sc, apiID, awsproto.Value(in.RequestValidatorId))
		if err != nil {
			return err
		}
		return deleteDoc(tx, sc, apiID, kindRestValidator, *v.Id)
	})
	if err != nil {
		return nil, wrap("delete request validator", err)
	}
	return &struct{}{}, nil
}

// checkMethodRefs requires the models and request validator a method names to exist.
func checkMethodRefs(q rowQuery, sc scope, apiID string, models map[string]string, validator *string) error {
	for _, name := range models {
		var m restapi.Model
		ok, err := getDoc(q, sc, apiID, kindRestModel, name, &m)
		if err != nil {
			return err
		}
		if !ok {
			return badRequest("Invalid model identifier specified: %s", name)
		}
	}
	if validator != nil {
		var v restapi.RequestValidator
		ok, err := getDoc(q, sc, apiID, kindRestValidator, *validator, &v)
		if err != nil {
			return err
		}
		if !ok {
			return badRequest("Invalid Request Validator identifier specified")
		}
	}
	return nil
}

// validateRequest applies the method's request validator: required parameters present, and
// the body valid against the model for its content type. It reports false after answering
// the client with API Gateway's 400.
func (c *restCall) validateRequest(w http.ResponseWriter) bool {
	id := awsproto.Value(c.method.RequestValidatorId)
	if id == "" {
		return true
	}
	var v *restapi.RequestValidator
	for i := range c.deployed.Validators {
		if *c.deployed.Validators[i].Id == id {
			v = &c.deployed.Validators[i]
		}
	}
	if v == nil {
		return true
	}
	if awsproto.Value(v.ValidateRequestParameters) {
		var missing []string
		for p, required := range c.method.RequestParameters {
			if required && !c.hasParam(p) {
				missing = append(missing, p[strings.LastIndex(p, ".")+1:])
			}
		}
		if len(missing) > 0 {
			sort.Strings(missing)
			writeRESTMessage(w, http.StatusBadRequest, "Missing required request parameters: ["+strings.Join(missing, ", ")+"]")
			return false
		}
	}
	if awsproto.Value(v.ValidateRequestBody) {
		ct, _, _ := strings.Cut(c.r.Header.Get("Content-Type"), ";")
		ct = strings.TrimSpace(ct)
		if ct == "" {
			ct = "application/json"
		}
		name, ok := c.method.RequestModels[ct]
		if !ok {
			name, ok = c.method.RequestModels["$default"]
		}
		if ok && !c.bodyFits(name) {
			writeRESTMessage(w, http.StatusBadRequest, "Invalid request body")
			return false
		}
	}
	return true
}

// hasParam reports whether a method request parameter is in the request.
func (c *restCall) hasParam(p string) bool {
	loc, name, _ := strings.Cut(strings.TrimPrefix(p, "method.request."), ".")
	switch loc {
	case "path":
		_, ok := c.params[name]
		return ok
	case "querystring", "multivaluequerystring":
		return c.r.URL.Query().Has(name)
	case "header", "multivalueheader":
		return len(c.r.Header.Values(name)) > 0
	}
	return true
}

// bodyFits reports whether the request body is JSON valid against the named model.
func (c *restCall) bodyFits(name string) bool {
	sch, err := compileModel(name, modelSchemas(c.deployed.Models))
	if err != nil {
		return false
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(c.body))
	if err != nil {
		return false
	}
	return sch.Validate(doc) == nil
}
