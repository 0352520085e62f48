// Package schemas implements the Amazon EventBridge schema registry: registries, schemas of type
// OpenApi3 or JSONSchemaDraft4 with their versions, keyword search, export to JSON Schema draft 4
// and tags; and discoverers, which watch an event bus and infer an OpenAPI 3 schema for each
// source and detail-type it sees into the discovered-schemas registry, making a new version
// only when the shape of the events changes.
//
// The events service tells this one of every event a bus accepts (ObserveEvents). Nothing
// happens unless a started discoverer watches that bus (a map lookup); then the events are
// handed to the queue engine and inferred by a worker, off PutEvents' path.
package schemas

//go:generate go run github.com/kiri-run/kiri/internal/awsproto/apigen -model schemas -package schemas -out api_gen.go

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/iam/authz"
	"github.com/kiri-run/kiri/internal/queue"
	"github.com/kiri-run/kiri/internal/service"
	"github.com/kiri-run/kiri/internal/store"
)

const schemaV1 = `
CREATE TABLE schemas_registries (
	account     TEXT NOT NULL,
	region      TEXT NOT NULL,
	name        TEXT NOT NULL,
	description TEXT NOT NULL,
	tags        TEXT NOT NULL,
	PRIMARY KEY (account, region, name)
);
CREATE TABLE schemas_schemas (
	account     TEXT NOT NULL,
	region      TEXT NOT NULL,
	registry    TEXT NOT NULL,
	name        TEXT NOT NULL,
	description TEXT NOT NULL,
	tags        TEXT NOT NULL,
	modified    BIGINT NOT NULL,
	next        BIGINT NOT NULL,
	PRIMARY KEY (account, region, registry, name)
);
CREATE TABLE schemas_versions (
	account  TEXT NOT NULL,
	region   TEXT NOT NULL,
	registry TEXT NOT NULL,
	name     TEXT NOT NULL,
	version  BIGINT NOT NULL,
	type     TEXT NOT NULL,
	content  TEXT NOT NULL,
	created  BIGINT NOT NULL,
	PRIMARY KEY (account, region, registry, name, version)
);
CREATE TABLE schemas_discoverers (
	account       TEXT NOT NULL,
	region        TEXT NOT NULL,
	id            TEXT NOT NULL,
	source_arn    TEXT NOT NULL,
	description   TEXT NOT NULL,
	cross_account BIGINT NOT NULL,
	state         TEXT NOT NULL,
	tags          TEXT NOT NULL,
	PRIMARY KEY (account, region, id)
);`

var migrations = []store.Migration{{Version: 1, SQL: schemaV1}, {Version: 2, SQL: codeBindingV2}}

// discoverQueue carries the events a started discoverer saw to the inference worker.
const discoverQueue = "schemas-discover"

// discoveredRegistry is the registry discoverers write to.
const discoveredRegistry = "discovered-schemas"

// Service is the schema registry API and its discoverers.
type Service struct {
	api   *awsproto.Service
	st    *store.Store
	eng   *queue.Engine
	authz *authz.Authorizer
	log   *slog.Logger
	now   func() time.Time

	// watched holds the ARNs of the buses a started discoverer watches.
	watchedMu sync.RWMutex
	watched   map[string]bool
}

// New migrates the registry's tables and registers its operations and its inference worker.
func New(ctx context.Context, d service.Deps) (*Service, error) {
	if err := d.Store.Migrate(ctx, "schemas", migrations); err != nil {
		return nil, fmt.Errorf("migrate schemas: %w", err)
	}
	s := &Service{st: d.Store, eng: d.Queue, authz: d.Authz, now: d.Now, watched: map[string]bool{}}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	s.log = d.Logger.With("service", "schemas")
	if s.now == nil {
		s.now = time.Now
	}
	if err := s.loadWatched(ctx); err != nil {
		return nil, err
	}
	api, err := awsproto.NewService("schemas", awsproto.ServiceOptions{
		ValidationError: func(_ string, problems []string) *awsproto.Error {
			return badRequest("%s", awsproto.ValidationMessage(problems))
		},
		Authorize: d.Authz.Hook("schemas", s.operations(), func(d *authz.Denied) error {
			return awsproto.Errorf("ForbiddenException", http.StatusForbidden, "%s", d.Message)
		}),
	})
	if err != nil {
		return nil, err
	}
	s.api = api
	awsproto.Handle(api, "CreateRegistry", s.createRegistry)
	awsproto.Handle(api, "DescribeRegistry", s.describeRegistry)
	awsproto.Handle(api, "ListRegistries", s.listRegistries)
	awsproto.Handle(api, "UpdateRegistry", s.updateRegistry)
	awsproto.Handle(api, "DeleteRegistry", s.deleteRegistry)
	awsproto.Handle(api, "CreateSchema", s.createSchema)
	awsproto.Handle(api, "DescribeSchema", s.describeSchema)
	awsproto.Handle(api, "UpdateSchema", s.updateSchema)
	awsproto.Handle(api, "ListSchemas", s.listSchemas)
	awsproto.Handle(api, "ListSchemaVersions", s.listSchemaVersions)
	awsproto.Handle(api, "DeleteSchema", s.deleteSchema)
	awsproto.Handle(api, "DeleteSchemaVersion", s.deleteSchemaVersion)
	awsproto.Handle(api, "SearchSchemas", s.searchSchemas)
	awsproto.Handle(api, "ExportSchema", s.exportSchema)
	awsproto.Handle(api, "CreateDiscoverer", s.createDiscoverer)
	awsproto.Handle(api, "DescribeDiscoverer", s.describeDiscoverer)
	awsproto.Handle(api, "ListDiscoverers", s.listDiscoverers)
	awsproto.Handle(api, "UpdateDiscoverer", s.updateDiscoverer)
	awsproto.Handle(api, "DeleteDiscoverer", s.deleteDiscoverer)
	awsproto.Handle(api, "StartDiscoverer", s.startDiscoverer)
	awsproto.Handle(api, "StopDiscoverer", s.stopDiscoverer)
	awsproto.Handle(api, "GetDiscoveredSchema", s.getDiscoveredSchema)
	awsproto.Handle(api, "PutCodeBinding", s.putCodeBinding)
	awsproto.Handle(api, "DescribeCodeBinding", s.describeCodeBinding)
	awsproto.Handle(api, "GetCodeBindingSource", s.getCodeBindingSource)
	awsproto.Handle(api, "TagResource", s.tagResource)
	awsproto.Handle(api, "UntagResource", s.untagResource)
	awsproto.Handle(api, "ListTagsForResource", s.listTagsForResource)
	d.Queue.Handle(discoverQueue, s.discover, queue.HandlerOptions{Concurrency: 1})
	return s, nil
}

// API returns the codec-facing service to mount on the router.
func (s *Service) API() *awsproto.Service { return s.api }

func badRequest(format string, args ...any) *awsproto.Error {
	return awsproto.Errorf("BadRequestException", http.StatusBadRequest, format, args...)
}

// managed refuses a change to the AWS-managed registry.
func managed() *awsproto.Error {
	return awsproto.Errorf("ForbiddenException", http.StatusForbidden, "The registry %s is managed by AWS and cannot be changed.", awsRegistry)
}

func notFound(format string, args ...any) *awsproto.Error {
	return awsproto.Errorf("NotFoundException", http.StatusNotFound, format, args...)
}

func conflict(format string, args ...any) *awsproto.Error {
	return awsproto.Errorf("ConflictException", http.StatusConflict, format, args...)
}

// scope is the account and region a call acts in.
type scope struct{ account, region string }

func scopeOf(ctx context.Context) scope {
	a, r := awsproto.CallFrom(ctx).Scope()
	return scope{a, r}
}

func (sc scope) prefix() string { return "arn:aws:schemas:" + sc.region + ":" + sc.account + ":" }

func (sc scope) registryARN(name string) string { return sc.prefix() + "registry/" + name }

func (sc scope) schemaARN(registry, name string) string {
	return sc.prefix() + "schema/" + registry + "/" + name
}

func (sc scope) discovererARN(id string) string { return sc.prefix() + "discoverer/" + id }

func tagsJSON(m map[string]string) string {
	if m == nil {
		m = map[string]string{}
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func parseTags(s string) map[string]string {
	m := map[string]string{}
	_ = json.Unmarshal([]byte(s), &m)
	return m
}

// page cuts names (sorted) to one page after the NextToken, which is the last name returned.
func page[T any](items []T, key func(T) string, limit *int32, next *string) ([]T, *string) {
	start := 0
	if next != nil {
		start = sort.Search(len(items), func(i int) bool { return key(items[i]) > *next })
	}
	items = items[start:]
	n := int(awsproto.Value(limit))
	if n <= 0 || n > 100 {
		n = 100
	}
	if len(items) <= n {
		return items, nil
	}
	last := key(items[n-1])
	return items[:n], &last
}

// registry

type registry struct {
	name, description string
	tags              map[string]string
}

// awsRegistry is the registry AWS manages, of its services' events; Kiri keeps it empty.
const awsRegistry = "aws.events"

func (s *Service) loadRegistry(ctx context.Context, sc scope, name string) (*registry, error) {
	if name == awsRegistry {
		return &registry{name: name, description: "Schemas of events published by AWS services", tags: map[string]string{}}, nil
	}
	var r registry
	var tags string
	err := s.st.QueryRow(ctx, `SELECT name, description, tags FROM schemas_registries WHERE account = ? AND region = ? AND name = ?`,
		sc.account, sc.region, name).Scan(&r.name, &r.description, &tags)
	if err != nil {
		if isNoRows(err) {
			return nil, notFound("Registry with name %s does not exist.", name)
		}
		return nil, err
	}
	r.tags = parseTags(tags)
	return &r, nil
}

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

func checkName(what, name string) error {
	if name == "" || len(name) > 385 || strings.ContainsAny(name, "/ ") {
		return badRequest("Invalid %s name: %s", what, name)
	}
	return nil
}

func (s *Service) createRegistry(ctx context.Context, in *CreateRegistryRequest) (*CreateRegistryResponse, error) {
	sc := scopeOf(ctx)
	name := awsproto.Value(in.RegistryName)
	if err := checkName("registry", name); err != nil {
		return nil, err
	}
	if strings.HasPrefix(name, "aws.") || name == discoveredRegistry {
		return nil, badRequest("Registry name %s is reserved.", name)
	}
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		res, err := tx.Exec(`INSERT INTO schemas_registries (account, region, name, description, tags) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
			sc.account, sc.region, name, awsproto.Value(in.Description), tagsJSON(in.Tags))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return conflict("Registry with name %s already exists.", name)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &CreateRegistryResponse{Description: in.Description, RegistryArn: awsproto.Ptr(sc.registryARN(name)),
		RegistryName: &name, Tags: nonNil(in.Tags)}, nil
}

func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

func (s *Service) describeRegistry(ctx context.Context, in *DescribeRegistryRequest) (*DescribeRegistryResponse, error) {
	sc := scopeOf(ctx)
	r, err := s.loadRegistry(ctx, sc, awsproto.Value(in.RegistryName))
	if err != nil {
		return nil, err
	}
	out := &DescribeRegistryResponse{RegistryArn: awsproto.Ptr(sc.registryARN(r.name)), RegistryName: &r.name, Tags: r.tags}
	if r.description != "" {
		out.Description = &r.description
	}
	return out, nil
}

func (s *Service) listRegistries(ctx context.Context, in *ListRegistriesRequest) (*ListRegistriesResponse, error) {
	sc := scopeOf(ctx)
	var all []RegistrySummary
	scopeName := awsproto.Value(in.Scope)
	if scopeName != "LOCAL" && strings.HasPrefix(awsRegistry, awsproto.Value(in.RegistryNamePrefix)) {
		// The AWS-managed aws.events registry is listed, empty.
		all = append(all, RegistrySummary{RegistryArn: awsproto.Ptr(sc.registryARN(awsRegistry)), RegistryName: awsproto.Ptr(awsRegistry), Tags: map[string]string{}})
	}
	if scopeName == "AWS" {
		items, next := page(all, func(r RegistrySummary) string { return *r.RegistryName }, in.Limit, in.NextToken)
		return &ListRegistriesResponse{Registries: nonNilSlice(items), NextToken: next}, nil
	}
	rows, err := s.st.Query(ctx, `SELECT name, tags FROM schemas_registries WHERE account = ? AND region = ? ORDER BY name`, sc.account, sc.region)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var name, tags string
		if err := rows.Scan(&name, &tags); err != nil {
			return nil, err
		}
		if !strings.HasPrefix(name, awsproto.Value(in.RegistryNamePrefix)) {
			continue
		}
		all = append(all, RegistrySummary{RegistryArn: awsproto.Ptr(sc.registryARN(name)), RegistryName: awsproto.Ptr(name), Tags: parseTags(tags)})
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	sort.Slice(all, func(i, j int) bool { return *all[i].RegistryName < *all[j].RegistryName })
	items, next := page(all, func(r RegistrySummary) string { return *r.RegistryName }, in.Limit, in.NextToken)
	return &ListRegistriesResponse{Registries: nonNilSlice(items), NextToken: next}, nil
}

func nonNilSlice[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func (s *Service) updateRegistry(ctx context.Context, in *UpdateRegistryRequest) (*UpdateRegistryResponse, error) {
	sc := scopeOf(ctx)
	if awsproto.Value(in.RegistryName) == awsRegistry {
		return nil, managed()
	}
	name := awsproto.Value(in.RegistryName)
	if _, err := s.loadRegistry(ctx, sc, name); err != nil {
		return nil, err
	}
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(`UPDATE schemas_registries SET description = ? WHERE account = ? AND region = ? AND name = ?`,
			awsproto.Value(in.Description), sc.account, sc.region, name)
		return err
	})
	if err != nil {
		return nil, err
	}
	r, err := s.loadRegistry(ctx, sc, name)
	if err != nil {
		return nil, err
	}
	return &UpdateRegistryResponse{Description: in.Description, RegistryArn: awsproto.Ptr(sc.registryARN(name)), RegistryName: &name, Tags: r.tags}, nil
}

func (s *Service) deleteRegistry(ctx context.Context, in *DeleteRegistryRequest) (*struct{}, error) {
	sc := scopeOf(ctx)
	if awsproto.Value(in.RegistryName) == awsRegistry {
		return nil, managed()
	}
	name := awsproto.Value(in.RegistryName)
	if _, err := s.loadRegistry(ctx, sc, name); err != nil {
		return nil, err
	}
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		for _, t := range []string{"schemas_registries WHERE name = ?", "schemas_schemas WHERE registry = ?", "schemas_versions WHERE registry = ?", "schemas_bindings WHERE registry = ?"} {
			if _, err := tx.Exec(`DELETE FROM `+t+` AND account = ? AND region = ?`, name, sc.account, sc.region); err != nil {
				return err
			}
		}
		return nil
	})
	return &struct{}{}, err
}

// schemas

type schemaRow struct {
	registry, name, description string
	tags                        map[string]string
	modified                    time.Time
	next                        int64
}

type version struct {
	version      int64
	typ, content string
	created      time.Time
}

func (s *Service) loadSchema(ctx context.Context, sc scope, registry, name string) (*schemaRow, error) {
	if _, err := s.loadRegistry(ctx, sc, registry); err != nil {
		return nil, err
	}
	r := schemaRow{registry: registry, name: name}
	var tags string
	var modified int64
	err := s.st.QueryRow(ctx, `SELECT description, tags, modified, next FROM schemas_schemas WHERE account = ? AND region = ? AND registry = ? AND name = ?`,
		sc.account, sc.region, registry, name).Scan(&r.description, &tags, &modified, &r.next)
	if err != nil {
		if isNoRows(err) {
			return nil, notFound("Schema with name %s does not exist.", name)
		}
		return nil, err
	}
	r.tags = parseTags(tags)
	r.modified = time.Unix(0, modified).UTC()
	return &r, nil
}

// loadVersion reads version v of a schema ("" is the latest).
func (s *Service) loadVersion(ctx context.Context, sc scope, registry, name, v string) (*version, error) {
	q := `SELECT version, type, content, created FROM schemas_versions WHERE account = ? AND region = ? AND registry = ? AND name = ?`
	args := []any{sc.account, sc.region, registry, name}
	if v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, notFound("Schema version %s does not exist.", v)
		}
		q += " AND version = ?"
		args = append(args, n)
	} else {
		q += " ORDER BY version DESC LIMIT 1"
	}
	var ver version
	var created int64
	err := s.st.QueryRow(ctx, q, args...).Scan(&ver.version, &ver.typ, &ver.content, &created)
	if err != nil {
		if isNoRows(err) {
			return nil, notFound("Schema version %s does not exist.", v)
		}
		return nil, err
	}
	ver.created = time.Unix(0, created).UTC()
	return &ver, nil
}

// checkContent validates a schema document as its type requires.
func checkContent(typ, content string) error {
	var doc map[string]any
	if err := json.Unmarshal([]byte(content), &doc); err != nil {
		return badRequest("Invalid Content: the schema is not valid JSON: %v", err)
	}
	switch typ {
	case "OpenApi3":
		v, _ := doc["openapi"].(string)
		if !strings.HasPrefix(v, "3.") {
			return badRequest("Invalid Content: an OpenApi3 schema needs an \"openapi\" field of version 3.x.")
		}
		if info, ok := doc["info"]; ok {
			if _, ok := info.(map[string]any); !ok {
				return badRequest("Invalid Content: \"info\" must be an object.")
			}
		}
		if c, ok := doc["components"]; ok {
			if _, ok := c.(map[string]any); !ok {
				return badRequest("Invalid Content: \"components\" must be an object.")
			}
		}
	case "JSONSchemaDraft4":
		if v, ok := doc["$schema"]; ok {
			if v, _ := v.(string); !strings.Contains(v, "draft-04") {
				return badRequest("Invalid Content: \"$schema\" must be http://json-schema.org/draft-04/schema#.")
			}
		}
		if err := checkDraft4(doc); err != nil {
			return err
		}
	default:
		return badRequest("Invalid Type: %s. Valid types are OpenApi3 and JSONSchemaDraft4.", typ)
	}
	return nil
}

var draft4Types = map[string]bool{"array": true, "boolean": true, "integer": true, "null": true, "number": true, "object": true, "string": true}

// checkDraft4 checks the keywords whose values have a fixed kind, recursively.
func checkDraft4(doc map[string]any) error {
	switch t := doc["type"].(type) {
	case nil:
	case string:
		if !draft4Types[t] {
			return badRequest("Invalid Content: unknown type %q.", t)
		}
	case []any:
		for _, e := range t {
			if s, _ := e.(string); !draft4Types[s] {
				return badRequest("Invalid Content: unknown type %v.", e)
			}
		}
	default:
		return badRequest("Invalid Content: \"type\" must be a string or an array.")
	}
	if r, ok := doc["required"]; ok {
		l, ok := r.([]any)
		if !ok {
			return badRequest("Invalid Content: \"required\" must be an array of strings.")
		}
		for _, e := range l {
			if _, ok := e.(string); !ok {
				return badRequest("Invalid Content: \"required\" must be an array of strings.")
			}
		}
	}
	for _, k := range []string{"properties", "definitions"} {
		if p, ok := doc[k]; ok {
			m, ok := p.(map[string]any)
			if !ok {
				return badRequest("Invalid Content: %q must be an object.", k)
			}
			for _, sub := range m {
				sm, ok := sub.(map[string]any)
				if !ok {
					return badRequest("Invalid Content: each of %q must be a schema object.", k)
				}
				if err := checkDraft4(sm); err != nil {
					return err
				}
			}
		}
	}
	if it, ok := doc["items"].(map[string]any); ok {
		return checkDraft4(it)
	}
	return nil
}

func (s *Service) createSchema(ctx context.Context, in *CreateSchemaRequest) (*CreateSchemaResponse, error) {
	sc := scopeOf(ctx)
	if awsproto.Value(in.RegistryName) == awsRegistry {
		return nil, managed()
	}
	reg, name := awsproto.Value(in.RegistryName), awsproto.Value(in.SchemaName)
	if err := checkName("schema", name); err != nil {
		return nil, err
	}
	if _, err := s.loadRegistry(ctx, sc, reg); err != nil {
		return nil, err
	}
	typ, content := awsproto.Value(in.Type), awsproto.Value(in.Content)
	if err := checkContent(typ, content); err != nil {
		return nil, err
	}
	now := s.now().UTC()
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		res, err := tx.Exec(`INSERT INTO schemas_schemas (account, region, registry, name, description, tags, modified, next) VALUES (?, ?, ?, ?, ?, ?, ?, 2) ON CONFLICT DO NOTHING`,
			sc.account, sc.region, reg, name, awsproto.Value(in.Description), tagsJSON(in.Tags), now.UnixNano())
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return conflict("Schema with name %s already exists.", name)
		}
		_, err = tx.Exec(`INSERT INTO schemas_versions (account, region, registry, name, version, type, content, created) VALUES (?, ?, ?, ?, 1, ?, ?, ?)`,
			sc.account, sc.region, reg, name, typ, content, now.UnixNano())
		return err
	})
	if err != nil {
		return nil, err
	}
	return &CreateSchemaResponse{Description: in.Description, LastModified: &now, SchemaArn: awsproto.Ptr(sc.schemaARN(reg, name)),
		SchemaName: &name, SchemaVersion: awsproto.Ptr("1"), Tags: nonNil(in.Tags), Type: &typ, VersionCreatedDate: &now}, nil
}

func (s *Service) describeSchema(ctx context.Context, in *DescribeSchemaRequest) (*DescribeSchemaResponse, error) {
	sc := scopeOf(ctx)
	reg, name := awsproto.Value(in.RegistryName), awsproto.Value(in.SchemaName)
	r, err := s.loadSchema(ctx, sc, reg, name)
	if err != nil {
		return nil, err
	}
	v, err := s.loadVersion(ctx, sc, reg, name, awsproto.Value(in.SchemaVersion))
	if err != nil {
		return nil, err
	}
	out := &DescribeSchemaResponse{Content: &v.content, LastModified: &r.modified, SchemaArn: awsproto.Ptr(sc.schemaARN(reg, name)),
		SchemaName: &name, SchemaVersion: awsproto.Ptr(strconv.FormatInt(v.version, 10)), Tags: r.tags, Type: &v.typ, VersionCreatedDate: &v.created}
	if r.description != "" {
		out.Description = &r.description
	}
	return out, nil
}

// addVersion writes a new version of an existing schema and returns its number.
func addVersion(tx *store.Tx, sc scope, reg, name, typ, content string, now time.Time) (int64, error) {
	var next int64
	if err := tx.QueryRow(`SELECT next FROM schemas_schemas WHERE account = ? AND region = ? AND registry = ? AND name = ?`,
		sc.account, sc.region, reg, name).Scan(&next); err != nil {
		return 0, err
	}
	if _, err := tx.Exec(`INSERT INTO schemas_versions (account, region, registry, name, version, type, content, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		sc.account, sc.region, reg, name, next, typ, content, now.UnixNano()); err != nil {
		return 0, err
	}
	_, err := tx.Exec(`UPDATE schemas_schemas SET next = ?, modified = ? WHERE account = ? AND region = ? AND registry = ? AND name = ?`,
		next+1, now.UnixNano(), sc.account, sc.region, reg, name)
	return next, err
}

func (s *Service) updateSchema(ctx context.Context, in *UpdateSchemaRequest) (*UpdateSchemaResponse, error) {
	sc := scopeOf(ctx)
	reg, name := awsproto.Value(in.RegistryName), awsproto.Value(in.SchemaName)
	r, err := s.loadSchema(ctx, sc, reg, name)
	if err != nil {
		return nil, err
	}
	latest, err := s.loadVersion(ctx, sc, reg, name, "")
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	ver := latest.version
	typ := latest.typ
	if in.Content != nil {
		if in.Type != nil {
			typ = *in.Type
		}
		if err := checkContent(typ, *in.Content); err != nil {
			return nil, err
		}
	} else if in.Type != nil && *in.Type != latest.typ {
		return nil, badRequest("Content is required to change the Type of a schema.")
	}
	desc := r.description
	if in.Description != nil {
		desc = *in.Description
	}
	err = s.st.Write(ctx, func(tx *store.Tx) error {
		if in.Content != nil && (*in.Content != latest.content || typ != latest.typ) {
			if ver, err = addVersion(tx, sc, reg, name, typ, *in.Content, now); err != nil {
				return err
			}
		}
		_, err := tx.Exec(`UPDATE schemas_schemas SET description = ?, modified = ? WHERE account = ? AND region = ? AND registry = ? AND name = ?`,
			desc, now.UnixNano(), sc.account, sc.region, reg, name)
		return err
	})
	if err != nil {
		return nil, err
	}
	v, err := s.loadVersion(ctx, sc, reg, name, strconv.FormatInt(ver, 10))
	if err != nil {
		return nil, err
	}
	out := &UpdateSchemaResponse{LastModified: &now, SchemaArn: awsproto.Ptr(sc.schemaARN(reg, name)), SchemaName: &name,
		SchemaVersion: awsproto.Ptr(strconv.FormatInt(ver, 10)), Tags: r.tags, Type: &v.typ, VersionCreatedDate: &v.created}
	if desc != "" {
		out.Description = &desc
	}
	return out, nil
}

func (s *Service) listSchemas(ctx context.Context, in *ListSchemasRequest) (*ListSchemasResponse, error) {
	sc := scopeOf(ctx)
	reg := awsproto.Value(in.RegistryName)
	if _, err := s.loadRegistry(ctx, sc, reg); err != nil {
		return nil, err
	}
	rows, err := s.st.Query(ctx, `SELECT s.name, s.tags, s.modified, (SELECT COUNT(*) FROM schemas_versions v WHERE v.account = s.account AND v.region = s.region AND v.registry = s.registry AND v.name = s.name)
		FROM schemas_schemas s WHERE s.account = ? AND s.region = ? AND s.registry = ? ORDER BY s.name`, sc.account, sc.region, reg)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var all []SchemaSummary
	for rows.Next() {
		var name, tags string
		var modified, count int64
		if err := rows.Scan(&name, &tags, &modified, &count); err != nil {
			return nil, err
		}
		if !strings.HasPrefix(name, awsproto.Value(in.SchemaNamePrefix)) {
			continue
		}
		m := time.Unix(0, modified).UTC()
		all = append(all, SchemaSummary{LastModified: &m, SchemaArn: awsproto.Ptr(sc.schemaARN(reg, name)), SchemaName: awsproto.Ptr(name),
			Tags: parseTags(tags), VersionCount: awsproto.Ptr(count)})
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	items, next := page(all, func(r SchemaSummary) string { return *r.SchemaName }, in.Limit, in.NextToken)
	return &ListSchemasResponse{Schemas: nonNilSlice(items), NextToken: next}, nil
}

func (s *Service) versions(ctx context.Context, sc scope, reg, name string) ([]version, error) {
	rows, err := s.st.Query(ctx, `SELECT version, type, created FROM schemas_versions WHERE account = ? AND region = ? AND registry = ? AND name = ? ORDER BY version`,
		sc.account, sc.region, reg, name)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []version
	for rows.Next() {
		var v version
		var created int64
		if err := rows.Scan(&v.version, &v.typ, &created); err != nil {
			return nil, err
		}
		v.created = time.Unix(0, created).UTC()
		out = append(out, v)
	}
	return out, rows.Err()
}

func (s *Service) listSchemaVersions(ctx context.Context, in *ListSchemaVersionsRequest) (*ListSchemaVersionsResponse, error) {
	sc := scopeOf(ctx)
	reg, name := awsproto.Value(in.RegistryName), awsproto.Value(in.SchemaName)
	if _, err := s.loadSchema(ctx, sc, reg, name); err != nil {
		return nil, err
	}
	vs, err := s.versions(ctx, sc, reg, name)
	if err != nil {
		return nil, err
	}
	var all []SchemaVersionSummary
	for _, v := range vs {
		all = append(all, SchemaVersionSummary{SchemaArn: awsproto.Ptr(sc.schemaARN(reg, name)), SchemaName: &name,
			SchemaVersion: awsproto.Ptr(fmt.Sprintf("%020d", v.version)), Type: awsproto.Ptr(v.typ)})
	}
	items, next := page(all, func(r SchemaVersionSummary) string { return *r.SchemaVersion }, in.Limit, in.NextToken)
	for i := range items {
		n, _ := strconv.ParseInt(*items[i].SchemaVersion, 10, 64)
		items[i].SchemaVersion = awsproto.Ptr(strconv.FormatInt(n, 10))
	}
	return &ListSchemaVersionsResponse{SchemaVersions: nonNilSlice(items), NextToken: next}, nil
}

func (s *Service) deleteSchema(ctx context.Context, in *DeleteSchemaRequest) (*struct{}, error) {
	sc := scopeOf(ctx)
	reg, name := awsproto.Value(in.RegistryName), awsproto.Value(in.SchemaName)
	if _, err := s.loadSchema(ctx, sc, reg, name); err != nil {
		return nil, err
	}
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		for _, t := range []string{"schemas_schemas", "schemas_versions", "schemas_bindings"} {
			if _, err := tx.Exec(`DELETE FROM `+t+` WHERE account = ? AND region = ? AND registry = ? AND name = ?`, sc.account, sc.region, reg, name); err != nil {
				return err
			}
		}
		return nil
	})
	return &struct{}{}, err
}

func (s *Service) deleteSchemaVersion(ctx context.Context, in *DeleteSchemaVersionRequest) (*struct{}, error) {
	sc := scopeOf(ctx)
	reg, name := awsproto.Value(in.RegistryName), awsproto.Value(in.SchemaName)
	if _, err := s.loadSchema(ctx, sc, reg, name); err != nil {
		return nil, err
	}
	v, err := s.loadVersion(ctx, sc, reg, name, awsproto.Value(in.SchemaVersion))
	if err != nil {
		return nil, err
	}
	latest, err := s.loadVersion(ctx, sc, reg, name, "")
	if err != nil {
		return nil, err
	}
	if latest.version == v.version {
		return nil, badRequest("The latest version of a schema cannot be deleted; delete the schema instead.")
	}
	err = s.st.Write(ctx, func(tx *store.Tx) error {
		for _, t := range []string{"schemas_versions", "schemas_bindings"} {
			if _, err := tx.Exec(`DELETE FROM `+t+` WHERE account = ? AND region = ? AND registry = ? AND name = ? AND version = ?`,
				sc.account, sc.region, reg, name, v.version); err != nil {
				return err
			}
		}
		return nil
	})
	return &struct{}{}, err
}

// searchSchemas finds the schemas of a registry whose name or content holds every keyword.
func (s *Service) searchSchemas(ctx context.Context, in *SearchSchemasRequest) (*SearchSchemasResponse, error) {
	sc := scopeOf(ctx)
	reg := awsproto.Value(in.RegistryName)
	if _, err := s.loadRegistry(ctx, sc, reg); err != nil {
		return nil, err
	}
	words := strings.Fields(strings.ToLower(awsproto.Value(in.Keywords)))
	if len(words) == 0 {
		return nil, badRequest("Keywords must not be empty.")
	}
	rows, err := s.st.Query(ctx, `SELECT name, version, type, content, created FROM schemas_versions WHERE account = ? AND region = ? AND registry = ? ORDER BY name, version`,
		sc.account, sc.region, reg)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var all []SearchSchemaSummary
	for rows.Next() {
		var name, typ, content string
		var ver, created int64
		if err := rows.Scan(&name, &ver, &typ, &content, &created); err != nil {
			return nil, err
		}
		hay := strings.ToLower(name + " " + content)
		match := true
		for _, w := range words {
			if !strings.Contains(hay, w) {
				match = false
				break
			}
		}
		if !match {
			continue
		}
		c := time.Unix(0, created).UTC()
		vs := SearchSchemaVersionSummary{CreatedDate: &c, SchemaVersion: awsproto.Ptr(strconv.FormatInt(ver, 10)), Type: awsproto.Ptr(typ)}
		if n := len(all); n > 0 && *all[n-1].SchemaName == name {
			all[n-1].SchemaVersions = append(all[n-1].SchemaVersions, vs)
			continue
		}
		all = append(all, SearchSchemaSummary{RegistryName: &reg, SchemaArn: awsproto.Ptr(sc.schemaARN(reg, name)), SchemaName: awsproto.Ptr(name),
			SchemaVersions: []SearchSchemaVersionSummary{vs}})
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	items, next := page(all, func(r SearchSchemaSummary) string { return *r.SchemaName }, in.Limit, in.NextToken)
	return &SearchSchemasResponse{Schemas: nonNilSlice(items), NextToken: next}, nil
}

func (s *Service) exportSchema(ctx context.Context, in *ExportSchemaRequest) (*ExportSchemaResponse, error) {
	sc := scopeOf(ctx)
	reg, name := awsproto.Value(in.RegistryName), awsproto.Value(in.SchemaName)
	if t := awsproto.Value(in.Type); t != "JSONSchemaDraft4" {
		return nil, badRequest("Invalid Type: %s. The only export type is JSONSchemaDraft4.", t)
	}
	if _, err := s.loadSchema(ctx, sc, reg, name); err != nil {
		return nil, err
	}
	v, err := s.loadVersion(ctx, sc, reg, name, awsproto.Value(in.SchemaVersion))
	if err != nil {
		return nil, err
	}
	content := v.content
	if v.typ == "OpenApi3" {
		if content, err = toDraft4(v.content); err != nil {
			return nil, err
		}
	}
	return &ExportSchemaResponse{Content: &content, SchemaArn: awsproto.Ptr(sc.schemaARN(reg, name)), SchemaName: &name,
		SchemaVersion: awsproto.Ptr(strconv.FormatInt(v.version, 10)), Type: awsproto.Ptr("JSONSchemaDraft4")}, nil
}

// toDraft4 turns an OpenAPI 3 document into a JSON Schema draft 4 one: its root component (the
// one carrying the event's source, else the first) with the other components as definitions.
func toDraft4(content string) (string, error) {
	var doc struct {
		Components struct {
			Schemas map[string]map[string]any `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal([]byte(content), &doc); err != nil {
		return "", badRequest("The schema cannot be exported: %v", err)
	}
	comps := doc.Components.Schemas
	if len(comps) == 0 {
		return "", badRequest("The schema cannot be exported: it has no components.schemas.")
	}
	names := make([]string, 0, len(comps))
	for n := range comps {
		names = append(names, n)
	}
	sort.Strings(names)
	root := names[0]
	for _, n := range names {
		if _, ok := comps[n]["x-amazon-events-source"]; ok {
			root = n
			break
		}
	}
	out := map[string]any{"$schema": "http://json-schema.org/draft-04/schema#", "title": root}
	for k, v := range comps[root] {
		out[k] = v
	}
	defs := map[string]any{}
	for _, n := range names {
		if n != root {
			defs[n] = comps[n]
		}
	}
	if len(defs) > 0 {
		out["definitions"] = defs
	}
	b, err := json.Marshal(out)
	if err != nil {
		return "", err
	}
	return strings.ReplaceAll(string(b), `"#/components/schemas/`, `"#/definitions/`), nil
}

// tags

// tagged resolves a resource ARN to its table and key, or NotFoundException.
func (s *Service) tagged(ctx context.Context, arn string) (table string, where string, args []any, err error) {
	sc := scopeOf(ctx)
	rest, ok := strings.CutPrefix(arn, sc.prefix())
	if !ok {
		return "", "", nil, notFound("Resource %s does not exist.", arn)
	}
	kind, id, _ := strings.Cut(rest, "/")
	base := []any{sc.account, sc.region}
	var n int
	switch kind {
	case "registry":
		table, where, args = "schemas_registries", "account = ? AND region = ? AND name = ?", append(base, id)
	case "schema":
		reg, name, _ := strings.Cut(id, "/")
		table, where, args = "schemas_schemas", "account = ? AND region = ? AND registry = ? AND name = ?", append(base, reg, name)
	case "discoverer":
		table, where, args = "schemas_discoverers", "account = ? AND region = ? AND id = ?", append(base, id)
	default:
		return "", "", nil, notFound("Resource %s does not exist.", arn)
	}
	if err := s.st.QueryRow(ctx, `SELECT COUNT(*) FROM `+table+` WHERE `+where, args...).Scan(&n); err != nil {
		return "", "", nil, err
	}
	if n == 0 {
		return "", "", nil, notFound("Resource %s does not exist.", arn)
	}
	return table, where, args, nil
}

func (s *Service) editTags(ctx context.Context, arn string, edit func(map[string]string)) (map[string]string, error) {
	table, where, args, err := s.tagged(ctx, arn)
	if err != nil {
		return nil, err
	}
	var out map[string]string
	err = s.st.Write(ctx, func(tx *store.Tx) error {
		var tags string
		if err := tx.QueryRow(`SELECT tags FROM `+table+` WHERE `+where, args...).Scan(&tags); err != nil {
			return err
		}
		out = parseTags(tags)
		if edit == nil {
			return nil
		}
		edit(out)
		_, err := tx.Exec(`UPDATE `+table+` SET tags = ? WHERE `+where, append([]any{tagsJSON(out)}, args...)...)
		return err
	})
	return out, err
}

func (s *Service) tagResource(ctx context.Context, in *TagResourceRequest) (*struct{}, error) {
	for k := range in.Tags {
		if strings.HasPrefix(strings.ToLower(k), "aws:") {
			return nil, badRequest("Tag keys starting with 'aws:' are reserved.")
		}
	}
	_, err := s.editTags(ctx, awsproto.Value(in.ResourceArn), func(m map[string]string) {
		for k, v := range in.Tags {
			m[k] = v
		}
	})
	return &struct{}{}, err
}

func (s *Service) untagResource(ctx context.Context, in *UntagResourceRequest) (*struct{}, error) {
	_, err := s.editTags(ctx, awsproto.Value(in.ResourceArn), func(m map[string]string) {
		for _, k := range in.TagKeys {
			delete(m, k)
		}
	})
	return &struct{}{}, err
}

func (s *Service) listTagsForResource(ctx context.Context, in *ListTagsForResourceRequest) (*ListTagsForResourceResponse, error) {
	m, err := s.editTags(ctx, awsproto.Value(in.ResourceArn), nil)
	if err != nil {
		return nil, err
	}
	return &ListTagsForResourceResponse{Tags: m}, nil
}
