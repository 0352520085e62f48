package apigateway

import (
	"strings"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/service/apigateway/restapi"
	"github.com/kiri-run/kiri/internal/store"
)

// securityScheme is an OpenAPI security scheme with API Gateway's extensions: a Lambda
// authorizer, or the x-api-key header of API keys.
type securityScheme struct {
	Type       string `json:"type"`
	Name       string `json:"name"`
	In         string `json:"in"`
	AuthType   string `json:"x-amazon-apigateway-authtype"`
	Authorizer *struct {
		Type                         string   `json:"type"`
		AuthorizerURI                *string  `json:"authorizerUri"`
		AuthorizerCredentials        *string  `json:"authorizerCredentials"`
		AuthorizerResultTTLInSeconds *int32   `json:"authorizerResultTtlInSeconds"`
		IdentitySource               *string  `json:"identitySource"`
		IdentityValidationExpression *string  `json:"identityValidationExpression"`
		ProviderARNs                 []string `json:"providerARNs"`
	} `json:"x-amazon-apigateway-authorizer"`
}

// schemes is the definition's security schemes, of Swagger 2 or OpenAPI 3.
func (d *openAPI) schemes() map[string]securityScheme {
	if len(d.SecurityDefinitions) > 0 {
		return d.SecurityDefinitions
	}
	return d.Components.SecuritySchemes
}

// authorizer is the REST API authorizer a scheme describes; nil for an API key scheme.
func (sch *securityScheme) authorizer(name string) (*restapi.Authorizer, error) {
	if sch.Authorizer == nil {
		switch {
		case strings.EqualFold(sch.AuthType, "awsSigv4"):
			return nil, badRequest("Security scheme %s: AWS_IAM authorization is not supported by this server yet", name)
		case sch.Type == "apiKey" && sch.In == "header" && strings.EqualFold(sch.Name, "x-api-key"):
			return nil, nil
		}
		return nil, badRequest("Security scheme %s is not supported by this server yet: only Lambda authorizers and API keys (x-api-key) are", name)
	}
	x := sch.Authorizer
	a := &restapi.Authorizer{Name: awsproto.Ptr(name), Type: awsproto.Ptr(strings.ToUpper(x.Type)), AuthType: awsproto.Ptr(sch.AuthType),
		AuthorizerUri: x.AuthorizerURI, AuthorizerCredentials: x.AuthorizerCredentials, IdentitySource: x.IdentitySource,
		IdentityValidationExpression: x.IdentityValidationExpression, ProviderARNs: x.ProviderARNs,
		AuthorizerResultTtlInSeconds: awsproto.Ptr(int32(300))}
	set(&a.AuthorizerResultTtlInSeconds, x.AuthorizerResultTTLInSeconds)
	if *a.Type == "TOKEN" && a.IdentitySource == nil && sch.In == "header" && sch.Name != "" {
		a.IdentitySource = awsproto.Ptr("method.request.header." + sch.Name)
	}
	if err := checkRESTAuthorizer(a); err != nil {
		return nil, badRequest("Security scheme %s: %v", name, err)
	}
	return a, nil
}

// checkSecuritySchemes refuses security schemes and validators Kiri cannot honour, before
// anything is written.
func (d *openAPI) checkSecuritySchemes() error {
	for name, sch := range d.schemes() {
		if _, err := sch.authorizer(name); err != nil {
			return err
		}
	}
	if d.DefaultValidator != "" {
		if _, ok := d.RawValidators[d.DefaultValidator]; !ok {
			return badRequest("Invalid request validator %s specified as the default", d.DefaultValidator)
		}
	}
	return nil
}

// importer is what an import writes besides resources: the definition's authorizers, request
// validators and models, by name, for the methods that use them.
type importer struct {
	doc         *openAPI
	authorizers map[string]string // scheme name → authorizer id
	validators  map[string]string // validator name → id
	models      map[string]bool
}

// newImporter writes the definition's authorizers, validators and models into the API (in
// place of the API's own with overwrite, else beside them, replacing those of the same name).
func newImporter(tx *store.Tx, sc scope, apiID string, doc *openAPI, overwrite bool) (*importer, error) {
	im := &importer{doc: doc, authorizers: map[string]string{}, validators: map[string]string{}, models: map[string]bool{}}
	if overwrite {
		for _, kind := range []string{kindRestAuthorizer, kindRestValidator, kindRestModel} {
			if _, err := tx.Exec(`DELETE FROM apigw_resources WHERE account = ? AND region = ? AND api_id = ? AND kind = ?`,
				sc.account, sc.region, apiID, kind); err != nil {
				return nil, err
			}
		}
		if err := putBuiltinModels(tx, sc, apiID); err != nil {
			return nil, err
		}
	}
	existingAuth, err := listAll[restapi.Authorizer](tx.Query, sc, apiID, kindRestAuthorizer)
	if err != nil {
		return nil, err
	}
	for name, sch := range doc.schemes() {
		a, _ := sch.authorizer(name)
		if a == nil {
			continue
		}
		a.Id = awsproto.Ptr(newID(6))
		for _, x := range existingAuth {
			if awsproto.Value(x.Name) == name {
				a.Id = x.Id
			}
		}
		if err := putDoc(tx, sc, apiID, kindRestAuthorizer, *a.Id, a); err != nil {
			return nil, err
		}
		im.authorizers[name] = *a.Id
	}
	existingVal, err := listAll[restapi.RequestValidator](tx.Query, sc, apiID, kindRestValidator)
	if err != nil {
		return nil, err
	}
	for name, v := range doc.RawValidators {
		rv := restapi.RequestValidator{Id: awsproto.Ptr(newID(6)), Name: awsproto.Ptr(name),
			ValidateRequestBody: awsproto.Ptr(v.ValidateRequestBody), ValidateRequestParameters: awsproto.Ptr(v.ValidateRequestParameters)}
		for _, x := range existingVal {
			if awsproto.Value(x.Name) == name {
				rv.Id = x.Id
			}
		}
		if err := putDoc(tx, sc, apiID, kindRestValidator, *rv.Id, &rv); err != nil {
			return nil, err
		}
		im.validators[name] = *rv.Id
	}
	if err := im.putModels(tx, sc, apiID); err != nil {
		return nil, err
	}
	return im, nil
}

// putModels writes the definition's schemas as models, their references to each other
// rewritten to model URLs, and checks that each compiles.
func (im *importer) putModels(tx *store.Tx, sc scope, apiID string) error {
	schemas := im.doc.Definitions
	if len(schemas) == 0 {
		schemas = im.doc.Components.Schemas
	}
	if len(schemas) == 0 {
		existing, err := listAll[restapi.Model](tx.Query, sc, apiID, kindRestModel)
		for _, m := range existing {
			im.models[*m.Name] = true
		}
		return err
	}
	existing, err := listAll[restapi.Model](tx.Query, sc, apiID, kindRestModel)
	if err != nil {
		return err
	}
	all := modelSchemas(existing)
	prefix := "https://apigateway.amazonaws.com/restapis/" + apiID + "/models/"
	for name, raw := range schemas {
		if !modelName.MatchString(name) {
			return badRequest("Invalid model name specified: %s; model names are alphanumeric", name)
		}
		doc := strings.NewReplacer(`"#/definitions/`, `"`+prefix, `"#/components/schemas/`, `"`+prefix).Replace(string(raw))
		all[name] = doc
	}
	for name := range schemas {
		if _, err := compileModel(name, all); err != nil {
			return badRequest("Invalid model schema specified for %s: %v", name, err)
		}
		m := restapi.Model{Id: awsproto.Ptr(newID(6)), Name: awsproto.Ptr(name), ContentType: awsproto.Ptr("application/json"), Schema: awsproto.Ptr(all[name])}
		if err := putDoc(tx, sc, apiID, kindRestModel, name, &m); err != nil {
			return err
		}
	}
	for name := range all {
		im.models[name] = true
	}
	return nil
}

// applySecurity sets a method's authorization from its security requirements (else the
// definition's): a Lambda authorizer's scheme makes it CUSTOM, the API key scheme makes it
// require a key.
func (im *importer) applySecurity(put *restapi.PutMethodRequest, own *[]map[string][]string) error {
	reqs := im.doc.Security
	if own != nil {
		reqs = *own
	}
	schemes := im.doc.schemes()
	for _, req := range reqs {
		for name := range req {
			sch, ok := schemes[name]
			if !ok {
				return badRequest("Security requirement %s names no security scheme", name)
			}
			if sch.Authorizer == nil {
				put.ApiKeyRequired = awsproto.Ptr(true)
				continue
			}
			if put.AuthorizerId != nil && *put.AuthorizerId != im.authorizers[name] {
				return badRequest("A method may use one authorizer only")
			}
			put.AuthorizationType, put.AuthorizerId = awsproto.Ptr("CUSTOM"), awsproto.Ptr(im.authorizers[name])
		}
	}
	return nil
}

// applyValidation sets a method's request validator and its body models.
func (im *importer) applyValidation(put *restapi.PutMethodRequest, op *operation) error {
	name := im.doc.DefaultValidator
	if op.Validator != nil {
		name = *op.Validator
	}
	if name != "" {
		id, ok := im.validators[name]
		if !ok {
			return badRequest("Invalid request validator %s specified", name)
		}
		put.RequestValidatorId = &id
	}
	model := func(ref string) (string, error) {
		name, ok := strings.CutPrefix(ref, "#/definitions/")
		if !ok {
			name, ok = strings.CutPrefix(ref, "#/components/schemas/")
		}
		if !ok || !im.models[name] {
			return "", badRequest("Invalid model reference %q: request bodies refer to the definition's schemas by $ref", ref)
		}
		return name, nil
	}
	if op.RequestBody != nil {
		for ct, c := range op.RequestBody.Content {
			m, err := model(c.Schema.Ref)
			if err != nil {
				return err
			}
			put.RequestModels = withEntry(put.RequestModels, ct, m)
		}
	}
	for _, p := range op.Parameters {
		if p.In != "body" || p.Schema == nil {
			continue
		}
		m, err := model(p.Schema.Ref)
		if err != nil {
			return err
		}
		cts := op.Consumes
		if len(cts) == 0 {
			cts = []string{"application/json"}
		}
		for _, ct := range cts {
			put.RequestModels = withEntry(put.RequestModels, ct, m)
		}
	}
	return nil
}
