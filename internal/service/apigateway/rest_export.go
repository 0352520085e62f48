package apigateway

import (
	"context"
	"encoding/json"
	"sort"
	"strings"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/service/apigateway/restapi"
)

// getExport answers GetExport: a stage's deployed API as Swagger 2 (swagger) or OpenAPI 3
// (oas30) JSON, with its x-amazon-apigateway-integration extensions when the extensions
// parameter asks for integrations or apigateway.
func (s *RESTService) getExport(ctx context.Context, in *restapi.GetExportRequest) (*restapi.ExportResponse, error) {
	typ := awsproto.Value(in.ExportType)
	if typ != "swagger" && typ != "oas30" {
		return nil, badRequest("Invalid export type specified: %s", typ)
	}
	if a := awsproto.Value(in.Accepts); a != "" && a != "application/json" {
		return nil, badRequest("Exports as %s are not supported by this server yet; ask for application/json", a)
	}
	ext := in.Parameters["extensions"]
	for _, e := range strings.Split(ext, ",") {
		if e = strings.TrimSpace(e); e != "" && e != "integrations" && e != "apigateway" {
			return nil, badRequest("Export extensions %s are not supported by this server yet", e)
		}
	}
	sc := scopeOf(ctx)
	apiID := awsproto.Value(in.RestApiId)
	q := storeRow(ctx, s.st)
	st, err := loadStage(q, sc, apiID, awsproto.Value(in.StageName))
	if err != nil {
		return nil, wrap("get export", err)
	}
	d, err := loadDeployment(q, sc, apiID, awsproto.Value(st.DeploymentId))
	if err != nil {
		return nil, wrap("get export", err)
	}
	doc := exportDefinition(d, typ, *st.StageName, "http://"+apiID+".execute-api.localhost:"+s.port, ext != "")
	body, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, wrap("get export", err)
	}
	return &restapi.ExportResponse{Body: body, ContentType: awsproto.Ptr("application/octet-stream"),
		ContentDisposition: awsproto.Ptr(`attachment; filename="` + typ + `_` + exportVersion(d) + `.json"`)}, nil
}

func exportVersion(d *restSnapshot) string {
	if d.CreatedDate == nil {
		return "export"
	}
	return d.CreatedDate.UTC().Format("2006-01-02T15:04:05Z")
}

// exportDefinition builds the definition of a deployment.
func exportDefinition(d *restSnapshot, typ, stage, endpoint string, integrations bool) map[string]any {
	paths := map[string]any{}
	resources := append([]restapi.Resource(nil), d.Resources...)
	sort.Slice(resources, func(i, j int) bool { return *resources[i].Path < *resources[j].Path })
	modelRef := "#/definitions/"
	if typ == "oas30" {
		modelRef = "#/components/schemas/"
	}
	for _, r := range resources {
		if len(r.ResourceMethods) == 0 {
			continue
		}
		item := map[string]any{}
		for name, m := range r.ResourceMethods {
			item[exportMethodKey(name)] = exportOperation(m, typ, modelRef, integrations)
		}
		paths[*r.Path] = item
	}
	schemas := map[string]json.RawMessage{}
	for _, m := range d.Models {
		if m.Schema != nil && json.Valid([]byte(*m.Schema)) {
			prefix := "https://apigateway.amazonaws.com/restapis/" + awsproto.Value(d.API.Id) + "/models/"
			schemas[*m.Name] = json.RawMessage(strings.ReplaceAll(*m.Schema, prefix, modelRef))
		}
	}
	info := map[string]any{"title": awsproto.Value(d.API.Name), "version": exportVersion(d)}
	if d.API.Description != nil {
		info["description"] = *d.API.Description
	}
	out := map[string]any{"info": info, "paths": paths}
	if typ == "oas30" {
		out["openapi"] = "3.0.1"
		out["servers"] = []any{map[string]any{"url": endpoint + "/{basePath}", "variables": map[string]any{"basePath": map[string]string{"default": stage}}}}
		out["components"] = map[string]any{"schemas": schemas}
	} else {
		out["swagger"] = "2.0"
		host, _ := strings.CutPrefix(endpoint, "http://")
		out["host"], out["basePath"], out["schemes"] = host, "/"+stage, []string{"http"}
		out["definitions"] = schemas
	}
	if integrations && len(d.API.BinaryMediaTypes) > 0 {
		out["x-amazon-apigateway-binary-media-types"] = d.API.BinaryMediaTypes
	}
	return out
}

func exportMethodKey(name string) string {
	if name == "ANY" {
		return "x-amazon-apigateway-any-method"
	}
	return strings.ToLower(name)
}

// exportOperation is one method as an OpenAPI operation.
func exportOperation(m restapi.Method, typ, modelRef string, integrations bool) map[string]any {
	op := map[string]any{}
	if m.OperationName != nil {
		op["operationId"] = *m.OperationName
	}
	var params []any
	for _, p := range keysInOrder(m.RequestParameters) {
		loc, name, _ := strings.Cut(strings.TrimPrefix(p, "method.request."), ".")
		in := map[string]string{"querystring": "query", "path": "path", "header": "header"}[loc]
		if in == "" {
			continue
		}
		param := map[string]any{"name": name, "in": in, "required": m.RequestParameters[p] || in == "path"}
		if typ == "oas30" {
			param["schema"] = map[string]string{"type": "string"}
		} else {
			param["type"] = "string"
		}
		params = append(params, param)
	}
	if len(params) > 0 {
		op["parameters"] = params
	}
	responses := map[string]any{}
	for code, mr := range m.MethodResponses {
		r := map[string]any{"description": code + " response"}
		headers := map[string]any{}
		for h := range mr.ResponseParameters {
			headers[strings.TrimPrefix(h, "method.response.header.")] = map[string]string{"type": "string"}
		}
		if len(headers) > 0 {
			r["headers"] = headers
		}
		responses[code] = r
	}
	op["responses"] = responses
	if integrations && m.MethodIntegration != nil {
		op["x-amazon-apigateway-integration"] = exportIntegration(m.MethodIntegration)
	}
	return op
}

func exportIntegration(i *restapi.Integration) map[string]any {
	x := map[string]any{"type": strings.ToLower(awsproto.Value(i.Type)), "passthroughBehavior": strings.ToLower(awsproto.Value(i.PassthroughBehavior)),
		"timeoutInMillis": awsproto.Value(i.TimeoutInMillis)}
	if i.Uri != nil {
		x["uri"] = *i.Uri
	}
	if i.HttpMethod != nil {
		x["httpMethod"] = *i.HttpMethod
	}
	for k, v := range map[string]map[string]string{"requestTemplates": i.RequestTemplates, "requestParameters": i.RequestParameters} {
		if len(v) > 0 {
			x[k] = v
		}
	}
	if i.ContentHandling != nil {
		x["contentHandling"] = *i.ContentHandling
	}
	if i.Credentials != nil {
		x["credentials"] = *i.Credentials
	}
	if len(i.IntegrationResponses) > 0 {
		responses := map[string]any{}
		for code, ir := range i.IntegrationResponses {
			key := awsproto.Value(ir.SelectionPattern)
			if key == "" {
				key = "default"
			}
			r := map[string]any{"statusCode": code}
			if len(ir.ResponseTemplates) > 0 {
				r["responseTemplates"] = ir.ResponseTemplates
			}
			if len(ir.ResponseParameters) > 0 {
				r["responseParameters"] = ir.ResponseParameters
			}
			if ir.ContentHandling != nil {
				r["contentHandling"] = *ir.ContentHandling
			}
			responses[key] = r
		}
		x["responses"] = responses
	}
	return x
}
