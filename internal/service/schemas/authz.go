package schemas

import (
	"context"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/iam/authz"
)

// operations is how each operation authorizes in enforce mode, as the Service Authorization
// Reference's "Actions defined by Amazon EventBridge Schemas" says: schemas:OPERATION on the
// registry (arn:aws:schemas:REGION:ACCOUNT:registry/NAME), schema (…:schema/REGISTRY/NAME) or
// discoverer (…:discoverer/ID) the call names; listings of registries and discoverers on "*".
func (s *Service) operations() authz.Operations {
	on := func(action string, arn func(sc scope, in any) string) authz.Rule {
		return func(ctx context.Context, in any) ([]authz.Request, error) {
			return []authz.Request{{Action: "schemas:" + action, Resource: arn(scopeOf(ctx), in)}}, nil
		}
	}
	star := func(scope, any) string { return "*" }
	type regNamed interface{ registry() string }
	type schemaNamed interface{ schema() (string, string) }
	type discNamed interface{ discoverer() string }
	reg := func(sc scope, in any) string { return sc.registryARN(in.(regNamed).registry()) }
	sch := func(sc scope, in any) string { r, n := in.(schemaNamed).schema(); return sc.schemaARN(r, n) }
	disc := func(sc scope, in any) string { return sc.discovererARN(in.(discNamed).discoverer()) }
	res := func(_ scope, in any) string {
		switch in := in.(type) {
		case *TagResourceRequest:
			return awsproto.Value(in.ResourceArn)
		case *UntagResourceRequest:
			return awsproto.Value(in.ResourceArn)
		case *ListTagsForResourceRequest:
			return awsproto.Value(in.ResourceArn)
		}
		return "*"
	}
	return authz.Operations{
		"CreateRegistry":       on("CreateRegistry", reg),
		"DescribeRegistry":     on("DescribeRegistry", reg),
		"ListRegistries":       on("ListRegistries", star),
		"UpdateRegistry":       on("UpdateRegistry", reg),
		"DeleteRegistry":       on("DeleteRegistry", reg),
		"CreateSchema":         on("CreateSchema", sch),
		"DescribeSchema":       on("DescribeSchema", sch),
		"UpdateSchema":         on("UpdateSchema", sch),
		"ListSchemas":          on("ListSchemas", reg),
		"ListSchemaVersions":   on("ListSchemaVersions", sch),
		"DeleteSchema":         on("DeleteSchema", sch),
		"DeleteSchemaVersion":  on("DeleteSchemaVersion", sch),
		"SearchSchemas":        on("SearchSchemas", reg),
		"ExportSchema":         on("ExportSchema", sch),
		"PutCodeBinding":       on("PutCodeBinding", sch),
		"DescribeCodeBinding":  on("DescribeCodeBinding", sch),
		"GetCodeBindingSource": on("GetCodeBindingSource", sch),
		"CreateDiscoverer": on("CreateDiscoverer", func(sc scope, in any) string {
			id, _ := discovererID(awsproto.Value(in.(*CreateDiscovererRequest).SourceArn))
			return sc.discovererARN(id)
		}),
		"DescribeDiscoverer":  on("DescribeDiscoverer", disc),
		"ListDiscoverers":     on("ListDiscoverers", star),
		"GetDiscoveredSchema": on("GetDiscoveredSchema", star),
		"UpdateDiscoverer":    on("UpdateDiscoverer", disc),
		"DeleteDiscoverer":    on("DeleteDiscoverer", disc),
		"StartDiscoverer":     on("StartDiscoverer", disc),
		"StopDiscoverer":      on("StopDiscoverer", disc),
		"TagResource":         on("TagResource", res),
		"UntagResource":       on("UntagResource", res),
		"ListTagsForResource": on("ListTagsForResource", res),
	}
}

func (in *CreateRegistryRequest) registry() string   { return awsproto.Value(in.RegistryName) }
func (in *DescribeRegistryRequest) registry() string { return awsproto.Value(in.RegistryName) }
func (in *UpdateRegistryRequest) registry() string   { return awsproto.Value(in.RegistryName) }
func (in *DeleteRegistryRequest) registry() string   { return awsproto.Value(in.RegistryName) }
func (in *ListSchemasRequest) registry() string      { return awsproto.Value(in.RegistryName) }
func (in *SearchSchemasRequest) registry() string    { return awsproto.Value(in.RegistryName) }

func (in *CreateSchemaRequest) schema() (string, string) {
	return awsproto.Value(in.RegistryName), awsproto.Value(in.SchemaName)
}
func (in *DescribeSchemaRequest) schema() (string, string) {
	return awsproto.Value(in.RegistryName), awsproto.Value(in.SchemaName)
}
func (in *UpdateSchemaRequest) schema() (string, string) {
	return awsproto.Value(in.RegistryName), awsproto.Value(in.SchemaName)
}
func (in *ListSchemaVersionsRequest) schema() (string, string) {
	return awsproto.Value(in.RegistryName), awsproto.Value(in.SchemaName)
}
func (in *DeleteSchemaRequest) schema() (string, string) {
	return awsproto.Value(in.RegistryName), awsproto.Value(in.SchemaName)
}
func (in *DeleteSchemaVersionRequest) schema() (string, string) {
	return awsproto.Value(in.RegistryName), awsproto.Value(in.SchemaName)
}
func (in *ExportSchemaRequest) schema() (string, string) {
	return awsproto.Value(in.RegistryName), awsproto.Value(in.SchemaName)
}
func (in *PutCodeBindingRequest) schema() (string, string) {
	return awsproto.Value(in.RegistryName), awsproto.Value(in.SchemaName)
}
func (in *DescribeCodeBindingRequest) schema() (string, string) {
	return awsproto.Value(in.RegistryName), awsproto.Value(in.SchemaName)
}
func (in *GetCodeBindingSourceRequest) schema() (string, string) {
	return awsproto.Value(in.RegistryName), awsproto.Value(in.SchemaName)
}

func (in *DescribeDiscovererRequest) discoverer() string { return awsproto.Value(in.DiscovererId) }
func (in *UpdateDiscovererRequest) discoverer() string   { return awsproto.Value(in.DiscovererId) }
func (in *DeleteDiscovererRequest) discoverer() string   { return awsproto.Value(in.DiscovererId) }
func (in *StartDiscovererRequest) discoverer() string    { return awsproto.Value(in.DiscovererId) }
func (in *StopDiscovererRequest) discoverer() string     { return awsproto.Value(in.DiscovererId) }
