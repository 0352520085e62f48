package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/schemas"
	schemastypes "github.com/aws/aws-sdk-go-v2/service/schemas/types"
	"github.com/aws/smithy-go"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

const openAPIOrder = `{"openapi":"3.0.0","info":{"version":"1.0.0","title":"Order"},"paths":{},
"components":{"schemas":{"Order":{"type":"object","required":["id"],"properties":{"id":{"type":"string"},"total":{"type":"number"}}}}}}`

// wantAPIError checks err is the service error code with the HTTP status.
func wantSchemasError(t *testing.T, err error, code string, status int) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code {
		t.Fatalf("error = %v, want %s", err, code)
	}
	var re *awshttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() != status {
		t.Fatalf("error = %v, want HTTP %d", err, status)
	}
}

// TestSchemasRegistryAndSchemaVersions drives registries and schemas through their lifecycle:
// create, describe, versions made by updates, listing with a prefix and paging, search, export,
// tags, deletion of a version and of the schema and registry.
func TestSchemasRegistryAndSchemaVersions(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{})
	sc := schemas.NewFromConfig(srv.Clients().Config)
	ctx := context.Background()

	reg, err := sc.CreateRegistry(ctx, &schemas.CreateRegistryInput{RegistryName: aws.String("shop"), Description: aws.String("orders"),
		Tags: map[string]string{"team": "a"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(reg.RegistryArn); got != "arn:aws:schemas:us-east-1:"+"000000000000"+":registry/shop" {
		t.Fatalf("RegistryArn = %s", got)
	}
	_, err = sc.CreateRegistry(ctx, &schemas.CreateRegistryInput{RegistryName: aws.String("shop")})
	wantSchemasError(t, err, "ConflictException", http.StatusConflict)
	_, err = sc.DescribeRegistry(ctx, &schemas.DescribeRegistryInput{RegistryName: aws.String("nope")})
	wantSchemasError(t, err, "NotFoundException", http.StatusNotFound)
	if _, err := sc.UpdateRegistry(ctx, &schemas.UpdateRegistryInput{RegistryName: aws.String("shop"), Description: aws.String("all orders")}); err != nil {
		t.Fatal(err)
	}
	d, err := sc.DescribeRegistry(ctx, &schemas.DescribeRegistryInput{RegistryName: aws.String("shop")})
	if err != nil || aws.ToString(d.Description) != "all orders" || d.Tags["team"] != "a" {
		t.Fatalf("DescribeRegistry = %+v, %v", d, err)
	}

	// Validation: bad JSON, an OpenApi3 document without openapi, an unknown type.
	for _, c := range []struct{ typ, content string }{
		{"OpenApi3", `{"openapi":`},
		{"OpenApi3", `{"swagger":"2.0"}`},
		{"JSONSchemaDraft4", `{"type":"thing"}`},
		{"Avro", `{}`},
	} {
		_, err := sc.CreateSchema(ctx, &schemas.CreateSchemaInput{RegistryName: aws.String("shop"), SchemaName: aws.String("Bad"),
			Type: schemastypesType(c.typ), Content: aws.String(c.content)})
		wantSchemasError(t, err, "BadRequestException", http.StatusBadRequest)
	}
	_, err = sc.DescribeSchema(ctx, &schemas.DescribeSchemaInput{RegistryName: aws.String("shop"), SchemaName: aws.String("Bad")})
	wantSchemasError(t, err, "NotFoundException", http.StatusNotFound)

	cs, err := sc.CreateSchema(ctx, &schemas.CreateSchemaInput{RegistryName: aws.String("shop"), SchemaName: aws.String("Order"),
		Type: "OpenApi3", Content: aws.String(openAPIOrder), Description: aws.String("an order")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(cs.SchemaVersion) != "1" || aws.ToString(cs.SchemaArn) != "arn:aws:schemas:us-east-1:"+"000000000000"+":schema/shop/Order" {
		t.Fatalf("CreateSchema = %+v", cs)
	}
	_, err = sc.CreateSchema(ctx, &schemas.CreateSchemaInput{RegistryName: aws.String("shop"), SchemaName: aws.String("Order"),
		Type: "OpenApi3", Content: aws.String(openAPIOrder)})
	wantSchemasError(t, err, "ConflictException", http.StatusConflict)
	draft4 := `{"$schema":"http://json-schema.org/draft-04/schema#","type":"object","properties":{"sku":{"type":"string"}}}`
	if _, err := sc.CreateSchema(ctx, &schemas.CreateSchemaInput{RegistryName: aws.String("shop"), SchemaName: aws.String("Item"),
		Type: "JSONSchemaDraft4", Content: aws.String(draft4)}); err != nil {
		t.Fatal(err)
	}
	v2 := strings.Replace(openAPIOrder, `"total":{"type":"number"}`, `"total":{"type":"number"},"currency":{"type":"string"}`, 1)
	us, err := sc.UpdateSchema(ctx, &schemas.UpdateSchemaInput{RegistryName: aws.String("shop"), SchemaName: aws.String("Order"),
		Type: "OpenApi3", Content: aws.String(v2)})
	if err != nil || aws.ToString(us.SchemaVersion) != "2" {
		t.Fatalf("UpdateSchema = %+v, %v", us, err)
	}
	one, err := sc.DescribeSchema(ctx, &schemas.DescribeSchemaInput{RegistryName: aws.String("shop"), SchemaName: aws.String("Order"), SchemaVersion: aws.String("1")})
	if err != nil || aws.ToString(one.Content) != openAPIOrder || aws.ToString(one.SchemaVersion) != "1" {
		t.Fatalf("DescribeSchema v1 = %+v, %v", one, err)
	}
	latest, err := sc.DescribeSchema(ctx, &schemas.DescribeSchemaInput{RegistryName: aws.String("shop"), SchemaName: aws.String("Order")})
	if err != nil || aws.ToString(latest.Content) != v2 || aws.ToString(latest.Description) != "an order" {
		t.Fatalf("DescribeSchema latest = %+v, %v", latest, err)
	}
	vs, err := sc.ListSchemaVersions(ctx, &schemas.ListSchemaVersionsInput{RegistryName: aws.String("shop"), SchemaName: aws.String("Order")})
	if err != nil || len(vs.SchemaVersions) != 2 {
		t.Fatalf("ListSchemaVersions = %+v, %v", vs, err)
	}

	// Listing: a prefix, and pages of one.
	ls, err := sc.ListSchemas(ctx, &schemas.ListSchemasInput{RegistryName: aws.String("shop"), SchemaNamePrefix: aws.String("Or")})
	if err != nil || len(ls.Schemas) != 1 || aws.ToString(ls.Schemas[0].SchemaName) != "Order" || aws.ToInt64(ls.Schemas[0].VersionCount) != 2 {
		t.Fatalf("ListSchemas prefix = %+v, %v", ls, err)
	}
	var names []string
	p := schemas.NewListSchemasPaginator(sc, &schemas.ListSchemasInput{RegistryName: aws.String("shop"), Limit: aws.Int32(1)})
	for p.HasMorePages() {
		pg, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(pg.Schemas) > 1 {
			t.Fatalf("page of %d", len(pg.Schemas))
		}
		for _, s := range pg.Schemas {
			names = append(names, aws.ToString(s.SchemaName))
		}
	}
	if strings.Join(names, ",") != "Item,Order" {
		t.Fatalf("paged names = %v", names)
	}

	// Search by keywords, in names and content.
	ss, err := sc.SearchSchemas(ctx, &schemas.SearchSchemasInput{RegistryName: aws.String("shop"), Keywords: aws.String("currency")})
	if err != nil || len(ss.Schemas) != 1 || aws.ToString(ss.Schemas[0].SchemaName) != "Order" || len(ss.Schemas[0].SchemaVersions) != 1 {
		t.Fatalf("SearchSchemas = %+v, %v", ss, err)
	}

	// Export of an OpenApi3 schema to JSON Schema draft 4.
	ex, err := sc.ExportSchema(ctx, &schemas.ExportSchemaInput{RegistryName: aws.String("shop"), SchemaName: aws.String("Order"), Type: aws.String("JSONSchemaDraft4")})
	if err != nil {
		t.Fatal(err)
	}
	var exported map[string]any
	if err := json.Unmarshal([]byte(aws.ToString(ex.Content)), &exported); err != nil {
		t.Fatal(err)
	}
	if exported["$schema"] != "http://json-schema.org/draft-04/schema#" || exported["type"] != "object" {
		t.Fatalf("exported = %v", exported)
	}

	// Tags on a schema.
	if _, err := sc.TagResource(ctx, &schemas.TagResourceInput{ResourceArn: cs.SchemaArn, Tags: map[string]string{"env": "dev"}}); err != nil {
		t.Fatal(err)
	}
	tg, err := sc.ListTagsForResource(ctx, &schemas.ListTagsForResourceInput{ResourceArn: cs.SchemaArn})
	if err != nil || tg.Tags["env"] != "dev" {
		t.Fatalf("ListTagsForResource = %+v, %v", tg, err)
	}
	if _, err := sc.UntagResource(ctx, &schemas.UntagResourceInput{ResourceArn: cs.SchemaArn, TagKeys: []string{"env"}}); err != nil {
		t.Fatal(err)
	}

	// Deleting: the latest version is refused; an older one goes; then the schema and registry.
	_, err = sc.DeleteSchemaVersion(ctx, &schemas.DeleteSchemaVersionInput{RegistryName: aws.String("shop"), SchemaName: aws.String("Order"), SchemaVersion: aws.String("2")})
	wantSchemasError(t, err, "BadRequestException", http.StatusBadRequest)
	if _, err := sc.DeleteSchemaVersion(ctx, &schemas.DeleteSchemaVersionInput{RegistryName: aws.String("shop"), SchemaName: aws.String("Order"), SchemaVersion: aws.String("1")}); err != nil {
		t.Fatal(err)
	}
	_, err = sc.DescribeSchema(ctx, &schemas.DescribeSchemaInput{RegistryName: aws.String("shop"), SchemaName: aws.String("Order"), SchemaVersion: aws.String("1")})
	wantSchemasError(t, err, "NotFoundException", http.StatusNotFound)
	if _, err := sc.DeleteSchema(ctx, &schemas.DeleteSchemaInput{RegistryName: aws.String("shop"), SchemaName: aws.String("Order")}); err != nil {
		t.Fatal(err)
	}
	if _, err := sc.DeleteRegistry(ctx, &schemas.DeleteRegistryInput{RegistryName: aws.String("shop")}); err != nil {
		t.Fatal(err)
	}
	lr, err := sc.ListRegistries(ctx, &schemas.ListRegistriesInput{Scope: aws.String("LOCAL")})
	if err != nil || len(lr.Registries) != 0 {
		t.Fatalf("ListRegistries LOCAL = %+v, %v", lr, err)
	}
	// The AWS-managed registry is listed, empty, and cannot be changed.
	lr, err = sc.ListRegistries(ctx, &schemas.ListRegistriesInput{})
	if err != nil || len(lr.Registries) != 1 || aws.ToString(lr.Registries[0].RegistryName) != "aws.events" {
		t.Fatalf("ListRegistries = %+v, %v", lr, err)
	}
	awsSchemas, err := sc.ListSchemas(ctx, &schemas.ListSchemasInput{RegistryName: aws.String("aws.events")})
	if err != nil || len(awsSchemas.Schemas) != 0 {
		t.Fatalf("ListSchemas aws.events = %+v, %v", awsSchemas, err)
	}
	_, err = sc.DeleteRegistry(ctx, &schemas.DeleteRegistryInput{RegistryName: aws.String("aws.events")})
	wantSchemasError(t, err, "ForbiddenException", http.StatusForbidden)
}

func schemastypesType(s string) schemastypes.Type { return schemastypes.Type(s) }

// TestSchemasDiscovererInfersFromBus starts a discoverer on a custom bus, puts events of one
// shape then of a wider one, and expects versions 1 then 2 of the discovered schema, exported.
func TestSchemasDiscovererInfersFromBus(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{})
	cl := srv.Clients()
	sc := schemas.NewFromConfig(cl.Config)
	ctx := context.Background()
	bus, err := cl.Events.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String("orders")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = sc.CreateDiscoverer(ctx, &schemas.CreateDiscovererInput{SourceArn: aws.String("arn:aws:sqs:us-east-1:" + "000000000000" + ":q")})
	wantSchemasError(t, err, "BadRequestException", http.StatusBadRequest)
	disc, err := sc.CreateDiscoverer(ctx, &schemas.CreateDiscovererInput{SourceArn: bus.EventBusArn, CrossAccount: aws.Bool(false)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(disc.DiscovererId) != "events-event-bus-orders" || disc.State != "STARTED" || aws.ToBool(disc.CrossAccount) {
		t.Fatalf("CreateDiscoverer = %+v", disc)
	}
	_, err = sc.CreateDiscoverer(ctx, &schemas.CreateDiscovererInput{SourceArn: bus.EventBusArn})
	wantSchemasError(t, err, "ConflictException", http.StatusConflict)

	put := func(detail string) {
		t.Helper()
		out, err := cl.Events.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{{
			EventBusName: aws.String("orders"), Source: aws.String("shop.orders"), DetailType: aws.String("Order Placed"), Detail: aws.String(detail)}}})
		if err != nil || out.FailedEntryCount != 0 {
			t.Fatalf("PutEvents = %+v, %v", out, err)
		}
	}
	const name = "shop.orders@OrderPlaced"
	waitVersion := func(v string) *schemas.DescribeSchemaOutput {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for {
			d, err := sc.DescribeSchema(ctx, &schemas.DescribeSchemaInput{RegistryName: aws.String("discovered-schemas"), SchemaName: aws.String(name)})
			if err == nil && aws.ToString(d.SchemaVersion) == v {
				return d
			}
			if time.Now().After(deadline) {
				t.Fatalf("schema %s version %s not discovered: %+v, %v", name, v, d, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	put(`{"id":"o-1","total":12.5,"placed":"2026-12-05T10:00:00Z","items":[{"sku":"a","qty":1}]}`)
	v1 := waitVersion("1")
	if v1.Type != nil && aws.ToString(v1.Type) != "OpenApi3" {
		t.Fatalf("Type = %s", aws.ToString(v1.Type))
	}
	var doc struct {
		OpenAPI    string `json:"openapi"`
		Components struct {
			Schemas map[string]struct {
				Required   []string                  `json:"required"`
				Properties map[string]map[string]any `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal([]byte(aws.ToString(v1.Content)), &doc); err != nil {
		t.Fatal(err)
	}
	detail, ok := doc.Components.Schemas["OrderPlaced"]
	if doc.OpenAPI != "3.0.0" || !ok || detail.Properties["placed"]["format"] != "date-time" || detail.Properties["items"]["type"] != "array" {
		t.Fatalf("discovered v1 = %s", aws.ToString(v1.Content))
	}
	if env := doc.Components.Schemas["AWSEvent"]; env.Properties["detail"]["$ref"] != "#/components/schemas/OrderPlaced" || env.Properties["time"]["format"] != "date-time" {
		t.Fatalf("discovered envelope = %s", aws.ToString(v1.Content))
	}

	// The same shape again makes no version; a new field makes version 2 with both shapes merged.
	put(`{"id":"o-2","total":3,"placed":"2026-12-05T11:00:00Z","items":[]}`)
	put(`{"id":"o-3","total":4,"placed":"2026-12-05T12:00:00Z","items":[{"sku":"b","qty":2}],"coupon":"XMAS"}`)
	v2 := waitVersion("2")
	if err := json.Unmarshal([]byte(aws.ToString(v2.Content)), &doc); err != nil {
		t.Fatal(err)
	}
	detail = doc.Components.Schemas["OrderPlaced"]
	if _, ok := detail.Properties["coupon"]; !ok {
		t.Fatalf("discovered v2 lacks coupon: %s", aws.ToString(v2.Content))
	}
	for _, r := range detail.Required {
		if r == "coupon" {
			t.Fatalf("coupon, seen once, is required: %s", aws.ToString(v2.Content))
		}
	}
	vs, err := sc.ListSchemaVersions(ctx, &schemas.ListSchemaVersionsInput{RegistryName: aws.String("discovered-schemas"), SchemaName: aws.String(name)})
	if err != nil || len(vs.SchemaVersions) != 2 {
		t.Fatalf("ListSchemaVersions = %+v, %v", vs, err)
	}
	ex, err := sc.ExportSchema(ctx, &schemas.ExportSchemaInput{RegistryName: aws.String("discovered-schemas"), SchemaName: aws.String(name), Type: aws.String("JSONSchemaDraft4")})
	if err != nil || !strings.Contains(aws.ToString(ex.Content), `"#/definitions/OrderPlaced"`) {
		t.Fatalf("ExportSchema = %+v, %v", ex, err)
	}

	// Stopped, the discoverer sees nothing.
	st, err := sc.StopDiscoverer(ctx, &schemas.StopDiscovererInput{DiscovererId: disc.DiscovererId})
	if err != nil || st.State != "STOPPED" {
		t.Fatalf("StopDiscoverer = %+v, %v", st, err)
	}
	put(`{"id":"o-4","other":true}`)
	dd, err := sc.DescribeDiscoverer(ctx, &schemas.DescribeDiscovererInput{DiscovererId: disc.DiscovererId})
	if err != nil || dd.State != "STOPPED" || aws.ToString(dd.SourceArn) != aws.ToString(bus.EventBusArn) {
		t.Fatalf("DescribeDiscoverer = %+v, %v", dd, err)
	}
	ld, err := sc.ListDiscoverers(ctx, &schemas.ListDiscoverersInput{})
	if err != nil || len(ld.Discoverers) != 1 {
		t.Fatalf("ListDiscoverers = %+v, %v", ld, err)
	}
	if _, err := sc.DeleteDiscoverer(ctx, &schemas.DeleteDiscovererInput{DiscovererId: disc.DiscovererId}); err != nil {
		t.Fatal(err)
	}
	_, err = sc.DescribeDiscoverer(ctx, &schemas.DescribeDiscovererInput{DiscovererId: disc.DiscovererId})
	wantSchemasError(t, err, "NotFoundException", http.StatusNotFound)
	time.Sleep(200 * time.Millisecond)
	vs, err = sc.ListSchemaVersions(ctx, &schemas.ListSchemaVersionsInput{RegistryName: aws.String("discovered-schemas"), SchemaName: aws.String(name)})
	if err != nil || len(vs.SchemaVersions) != 2 {
		t.Fatalf("a stopped discoverer made a version: %+v, %v", vs, err)
	}
}
