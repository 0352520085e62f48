package apigateway

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/service/apigateway/restapi"
	"github.com/kiri-run/kiri/internal/store"
)

// requireRestAPI loads a REST API, or answers NotFoundException.
func requireRestAPI(q rowQuery, sc scope, id string) (*restapi.RestApi, error) {
	var a restapi.RestApi
	ok, err := getDoc(q, sc, id, kindRestAPI, id, &a)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, notFound("Invalid API identifier specified %s:%s", sc.account, id)
	}
	return &a, nil
}

// checkRestAPISettings refuses settings Kiri's REST APIs do not honour: private and regional
// endpoint features beyond the type's name, resource policies, compression and clones.
func checkRestAPISettings(in *restapi.CreateRestApiRequest) error {
	if in.CloneFrom != nil {
		return badRequest("cloneFrom is not supported by this server yet")
	}
	if in.Policy != nil {
		return badRequest("Resource policies on REST APIs are not supported by this server yet")
	}
	if in.MinimumCompressionSize != nil {
		return badRequest("minimumCompressionSize is not supported by this server yet")
	}
	if err := checkAPIKeySource(in.ApiKeySource); err != nil {
		return err
	}
	return checkEndpointConfiguration(in.EndpointConfiguration)
}

func checkAPIKeySource(s *string) error {
	switch awsproto.Value(s) {
	case "", "HEADER":
		return nil
	case "AUTHORIZER":
		return badRequest("API key source AUTHORIZER is not supported by this server yet")
	}
	return badRequest("Invalid API key source specified: %s", *s)
}

func checkEndpointConfiguration(c *restapi.EndpointConfiguration) error {
	if c == nil {
		return nil
	}
	if len(c.Types) != 1 {
		return badRequest("Exactly one endpoint type must be specified")
	}
	switch c.Types[0] {
	case "EDGE", "REGIONAL":
	case "PRIVATE":
		return badRequest("Private REST APIs are not supported by this server yet")
	default:
		return badRequest("Invalid endpoint type specified: %s", c.Types[0])
	}
	if len(c.VpcEndpointIds) > 0 {
		return badRequest("VPC endpoints are only supported for PRIVATE APIs")
	}
	return nil
}

func (s *RESTService) createRestApi(ctx context.Context, in *restapi.CreateRestApiRequest) (*restapi.RestApi, error) {
	if err := checkRestAPISettings(in); err != nil {
		return nil, err
	}
	sc := scopeOf(ctx)
	a := s.newRestAPI(in)
	err := s.st.Write(ctx, func(tx *store.Tx) error { return s.putNewRestAPI(tx, sc, a) })
	if err != nil {
		return nil, wrap("create rest api", err)
	}
	return a, nil
}

// newRestAPI is a new REST API with its settings and defaults.
func (s *RESTService) newRestAPI(in *restapi.CreateRestApiRequest) *restapi.RestApi {
	now := s.now().UTC()
	a := &restapi.RestApi{
		Id: awsproto.Ptr(newID(10)), Name: in.Name, Description: in.Description, Version: in.Version, CreatedDate: &now,
		ApiKeySource: awsproto.Ptr("HEADER"), BinaryMediaTypes: in.BinaryMediaTypes, Tags: in.Tags,
		EndpointConfiguration:     &restapi.EndpointConfiguration{Types: []string{"EDGE"}, IpAddressType: awsproto.Ptr("ipv4")},
		DisableExecuteApiEndpoint: awsproto.Ptr(awsproto.Value(in.DisableExecuteApiEndpoint)),
		RootResourceId:            awsproto.Ptr(newID(10)), ApiStatus: awsproto.Ptr("AVAILABLE"),
	}
	set(&a.ApiKeySource, in.ApiKeySource)
	if in.EndpointConfiguration != nil {
		a.EndpointConfiguration.Types = in.EndpointConfiguration.Types
		set(&a.EndpointConfiguration.IpAddressType, in.EndpointConfiguration.IpAddressType)
	}
	if a.Tags == nil {
		a.Tags = map[string]string{}
	}
	return a
}

// putNewRestAPI stores a new REST API and its root resource "/".
func (s *RESTService) putNewRestAPI(tx *store.Tx, sc scope, a *restapi.RestApi) error {
	if err := putDoc(tx, sc, *a.Id, kindRestAPI, *a.Id, a); err != nil {
		return err
	}
	root := restapi.Resource{Id: a.RootResourceId, Path: awsproto.Ptr("/")}
	if err := putDoc(tx, sc, *a.Id, kindRestResource, *root.Id, &root); err != nil {
		return err
	}
	return putBuiltinModels(tx, sc, *a.Id)
}

func (s *RESTService) getRestApi(ctx context.Context, in *restapi.GetRestApiRequest) (*restapi.RestApi, error) {
	a, err := requireRestAPI(storeRow(ctx, s.st), scopeOf(ctx), awsproto.Value(in.RestApiId))
	return a, wrap("get rest api", err)
}

func (s *RESTService) getRestApis(ctx context.Context, in *restapi.GetRestApisRequest) (*restapi.RestApis, error) {
	limit, err := restPage(in.Limit)
	if err != nil {
		return nil, err
	}
	sc := scopeOf(ctx)
	out := &restapi.RestApis{Items: []restapi.RestApi{}}
	rows, err := s.st.Query(ctx, `SELECT id, doc FROM apigw_resources WHERE account = ? AND region = ? AND kind = ? AND id > ?
		ORDER BY id LIMIT ?`, sc.account, sc.region, kindRestAPI, awsproto.Value(in.Position), limit+1)
	if err != nil {
		return nil, wrap("get rest apis", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, doc string
		if err := rows.Scan(&id, &doc); err != nil {
			return nil, wrap("get rest apis", err)
		}
		if len(out.Items) == limit {
			out.Position = out.Items[limit-1].Id
			break
		}
		var a restapi.RestApi
		if err := json.Unmarshal([]byte(doc), &a); err != nil {
			return nil, wrap("get rest apis", err)
		}
		out.Items = append(out.Items, a)
	}
	return out, wrap("get rest apis", rows.Err())
}

func (s *RESTService) updateRestApi(ctx context.Context, in *restapi.UpdateRestApiRequest) (*restapi.RestApi, error) {
	sc := scopeOf(ctx)
	var a *restapi.RestApi
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		var err error
		if a, err = requireRestAPI(tx.QueryRow, sc, awsproto.Value(in.RestApiId)); err != nil {
			return err
		}
		for _, op := range in.PatchOperations {
			if err := patchRestAPI(a, op); err != nil {
				return err
			}
		}
		return putDoc(tx, sc, *a.Id, kindRestAPI, *a.Id, a)
	})
	if err != nil {
		return nil, wrap("update rest api", err)
	}
	return a, nil
}

// patchRestAPI applies one patch operation to a REST API.
func patchRestAPI(a *restapi.RestApi, p restapi.PatchOperation) error {
	op, path, v := awsproto.Value(p.Op), awsproto.Value(p.Path), p.Value
	switch {
	case op == "replace" && path == "/name":
		if awsproto.Value(v) == "" {
			return badRequest("Invalid REST API name specified")
		}
		a.Name = v
	case op == "replace" && path == "/description":
		a.Description = v
	case op == "replace" && path == "/version":
		a.Version = v
	case op == "replace" && path == "/apiKeySource":
		if err := checkAPIKeySource(v); err != nil {
			return err
		}
		a.ApiKeySource = v
	case op == "replace" && path == "/disableExecuteApiEndpoint":
		b, err := strconv.ParseBool(awsproto.Value(v))
		if err != nil {
			return badRequest("Invalid value for disableExecuteApiEndpoint: %s", awsproto.Value(v))
		}
		a.DisableExecuteApiEndpoint = &b
	case op == "replace" && strings.HasPrefix(path, "/endpointConfiguration/types/"):
		c := &restapi.EndpointConfiguration{Types: []string{awsproto.Value(v)}}
		if err := checkEndpointConfiguration(c); err != nil {
			return err
		}
		a.EndpointConfiguration.Types = c.Types
	case strings.HasPrefix(path, "/binaryMediaTypes/"):
		t := patchKey(strings.TrimPrefix(path, "/binaryMediaTypes/"))
		switch op {
		case "add":
			if !slices.Contains(a.BinaryMediaTypes, t) {
				a.BinaryMediaTypes = append(a.BinaryMediaTypes, t)
			}
		case "remove":
			a.BinaryMediaTypes = slices.DeleteFunc(a.BinaryMediaTypes, func(x string) bool { return x == t })
		case "replace":
			i := slices.Index(a.BinaryMediaTypes, t)
			if i < 0 {
				return badRequest("Invalid binary media type %s", t)
			}
			a.BinaryMediaTypes[i] = awsproto.Value(v)
		default:
			return badPatch(op, path)
		}
	default:
		return badPatch(op, path)
	}
	return nil
}

// patchKey decodes a JSON-pointer segment of a patch path: "~1" is "/", "~0" is "~".
func patchKey(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~1", "/"), "~0", "~")
}

func badPatch(op, path string) error {
	return badRequest("Invalid patch path '%s' specified for op '%s'", path, op)
}

func (s *RESTService) deleteRestApi(ctx context.Context, in *restapi.DeleteRestApiRequest) (*struct{}, error) {
	sc := scopeOf(ctx)
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		a, err := requireRestAPI(tx.QueryRow, sc, awsproto.Value(in.RestApiId))
		if err != nil {
			return err
		}
		_, err = tx.Exec(`DELETE FROM apigw_resources WHERE account = ? AND region = ? AND api_id = ?`, sc.account, sc.region, *a.Id)
		return err
	})
	if err != nil {
		return nil, wrap("delete rest api", err)
	}
	return &struct{}{}, nil
}
