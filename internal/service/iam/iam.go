// Package iam implements AWS Identity and Access Management: users, groups and roles, managed
// and inline policies, permissions boundaries, access keys, instance profiles and OpenID
// Connect providers, each account's own, and the AWS managed policies every account sees.
//
// IAM is the source of what the authorizer (internal/iam/authz) evaluates in strict mode: the
// Service implements authz.Identities (a user's or role's policies, cached until IAM writes),
// auth.LongTermKeys (access keys made with CreateAccessKey sign requests at once), and what STS
// asks of roles and identity providers (internal/iam/identity).
package iam

//go:generate go run github.com/kiri-run/kiri/internal/awsproto/apigen -model iam -package iam -out api_gen.go

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/iam/authz"
	"github.com/kiri-run/kiri/internal/iam/policy"
	"github.com/kiri-run/kiri/internal/service"
	"github.com/kiri-run/kiri/internal/store"
)

// schemaV1 holds every IAM entity. Users, groups and roles share iam_entities (kind is the
// ARN's resource type: user, group, role); what hangs off them (tags, inline policies,
// attachments, group members, access keys) refers to them by their unique id, so renaming one
// moves nothing. name_key is the lower-case name: IAM names are unique ignoring case.
const schemaV1 = `
CREATE TABLE iam_entities (
	id          TEXT   PRIMARY KEY,
	account     TEXT   NOT NULL,
	kind        TEXT   NOT NULL,
	name_key    TEXT   NOT NULL,
	name        TEXT   NOT NULL,
	path        TEXT   NOT NULL,
	created_at  BIGINT NOT NULL,
	description TEXT   NOT NULL DEFAULT '',
	trust       TEXT   NOT NULL DEFAULT '',
	max_session BIGINT NOT NULL DEFAULT 0,
	boundary    TEXT   NOT NULL DEFAULT '',
	last_used   BIGINT NOT NULL DEFAULT 0,
	last_region TEXT   NOT NULL DEFAULT '',
	UNIQUE (account, kind, name_key)
);
CREATE TABLE iam_tags (
	owner   TEXT NOT NULL,
	tag_key TEXT NOT NULL,
	value   TEXT NOT NULL,
	PRIMARY KEY (owner, tag_key)
);
CREATE TABLE iam_inline_policies (
	owner    TEXT NOT NULL,
	name     TEXT NOT NULL,
	document TEXT NOT NULL,
	PRIMARY KEY (owner, name)
);
CREATE TABLE iam_attachments (
	owner      TEXT NOT NULL,
	account    TEXT NOT NULL,
	policy_arn TEXT NOT NULL,
	PRIMARY KEY (owner, policy_arn)
);
CREATE INDEX iam_attachments_policy ON iam_attachments (account, policy_arn);
CREATE TABLE iam_group_members (
	group_id TEXT NOT NULL,
	user_id  TEXT NOT NULL,
	PRIMARY KEY (group_id, user_id)
);
CREATE INDEX iam_group_members_user ON iam_group_members (user_id);
CREATE TABLE iam_policies (
	arn             TEXT   PRIMARY KEY,
	account         TEXT   NOT NULL,
	name_key        TEXT   NOT NULL,
	name            TEXT   NOT NULL,
	path            TEXT   NOT NULL,
	id              TEXT   NOT NULL,
	description     TEXT   NOT NULL DEFAULT '',
	default_version TEXT   NOT NULL,
	next_version    BIGINT NOT NULL,
	created_at      BIGINT NOT NULL,
	updated_at      BIGINT NOT NULL,
	UNIQUE (account, name_key)
);
CREATE TABLE iam_policy_versions (
	arn        TEXT   NOT NULL,
	version_id TEXT   NOT NULL,
	document   TEXT   NOT NULL,
	created_at BIGINT NOT NULL,
	PRIMARY KEY (arn, version_id)
);
CREATE TABLE iam_access_keys (
	access_key_id TEXT   PRIMARY KEY,
	account       TEXT   NOT NULL,
	user_id       TEXT   NOT NULL,
	secret        TEXT   NOT NULL,
	status        TEXT   NOT NULL,
	created_at    BIGINT NOT NULL,
	last_used     BIGINT NOT NULL DEFAULT 0,
	last_service  TEXT   NOT NULL DEFAULT '',
	last_region   TEXT   NOT NULL DEFAULT ''
);
CREATE INDEX iam_access_keys_user ON iam_access_keys (user_id);
CREATE TABLE iam_instance_profiles (
	id         TEXT   PRIMARY KEY,
	account    TEXT   NOT NULL,
	name_key   TEXT   NOT NULL,
	name       TEXT   NOT NULL,
	path       TEXT   NOT NULL,
	created_at BIGINT NOT NULL,
	role_id    TEXT   NOT NULL DEFAULT '',
	UNIQUE (account, name_key)
);
CREATE TABLE iam_oidc_providers (
	arn         TEXT   PRIMARY KEY,
	account     TEXT   NOT NULL,
	url         TEXT   NOT NULL,
	client_ids  TEXT   NOT NULL,
	thumbprints TEXT   NOT NULL,
	created_at  BIGINT NOT NULL
);`

var migrations = []store.Migration{{Version: 1, SQL: schemaV1}}

// Entity kinds: the resource types of their ARNs.
const (
	kindUser  = "user"
	kindGroup = "group"
	kindRole  = "role"
)

// Service is the IAM API.
type Service struct {
	api   *awsproto.Service
	st    *store.Store
	authz *authz.Authorizer
	log   *slog.Logger
	now   func() time.Time

	// compiled keeps parsed policy documents; principals keeps each account's resolved
	// identity-based policies, dropped whenever IAM writes in the account.
	compiled   *policy.Cache
	principals *store.Cache[string, *accountView]
	keys       *store.Cache[string, keyRow]

	usage usage // access key and role last-used records, written in the background
}

// New migrates IAM's tables and registers its operations.
func New(ctx context.Context, d service.Deps) (*Service, error) {
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if err := d.Store.Migrate(ctx, "iam", migrations); err != nil {
		return nil, fmt.Errorf("migrate iam: %w", err)
	}
	api, err := awsproto.NewService("iam", awsproto.ServiceOptions{})
	if err != nil {
		return nil, err
	}
	s := &Service{
		api: api, st: d.Store, authz: d.Authz, log: d.Logger.With("service", "iam"), now: d.Now,
		compiled:   policy.NewCache(4096),
		principals: store.NewCache[string, *accountView](d.Store, 1024),
		keys:       store.NewCache[string, keyRow](d.Store, 4096),
	}
	s.usage.pending = map[string]usageRecord{}
	s.registerUsers()
	s.registerGroups()
	s.registerRoles()
	s.registerPolicies()
	s.registerAttachments()
	s.registerKeys()
	s.registerProfiles()
	s.registerOIDC()
	awsproto.Handle(api, "SimulatePrincipalPolicy", s.simulatePrincipalPolicy)
	awsproto.Handle(api, "SimulateCustomPolicy", s.simulateCustomPolicy)
	awsproto.Handle(api, "GetAccountSummary", s.getAccountSummary)
	if d.Queue != nil {
		d.Queue.Every("iam.last-used", usageFlushInterval, usageFlushInterval, s.flushUsage)
	}
	return s, nil
}

// API returns the codec-facing service to mount on the router.
func (s *Service) API() *awsproto.Service { return s.api }

// caller is the account and principal a call acts for.
func caller(ctx context.Context) (account string, c *awsproto.Call) {
	c = awsproto.CallFrom(ctx)
	account, _ = c.Scope()
	return account, c
}

// allow asks the authorizer whether the call may do iam:action on resource (an ARN, or "*"),
// and answers IAM's AccessDenied when it may not. IAM has no resource policies, so an ARN of
// another account is refused whatever the caller's own policies say, before Kiri looks for it.
func (s *Service) allow(ctx context.Context, action, resource string) error {
	r := authz.Request{Action: "iam:" + action, Resource: resource}
	if account, _, _, _, ok := splitIAMARN(resource); ok && account != "aws" {
		r.ResourceAccount = account
	}
	err := s.authz.Authorize(ctx, r)
	if d, ok := authz.IsDenied(err); ok {
		return awsproto.Errorf("AccessDenied", 403, "%s", d.Message)
	}
	return err
}

// arnOf builds an IAM ARN: arn:aws:iam::ACCOUNT:KIND/PATH/NAME (path starts and ends with /).
func arnOf(account, kind, path, name string) string {
	return "arn:aws:iam::" + account + ":" + kind + path + name
}

// splitIAMARN reads arn:aws:iam::ACCOUNT:KIND/PATH/NAME into its account, kind, path and name.
func splitIAMARN(s string) (account, kind, path, name string, ok bool) {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "iam" || parts[3] != "" {
		return "", "", "", "", false
	}
	kind, rest, found := strings.Cut(parts[5], "/")
	if !found || rest == "" || strings.HasSuffix(rest, "/") {
		return "", "", "", "", false
	}
	i := strings.LastIndexByte(rest, '/')
	return parts[4], kind, "/" + rest[:i+1], rest[i+1:], true
}

// usage holds last-used records not yet written.
type usage struct {
	mu      sync.Mutex
	pending map[string]usageRecord // by access key id or role id
}

type usageRecord struct {
	role            bool
	at              time.Time
	service, region string
}

// usageFlushInterval is how often last-used records are written: AWS itself reports them
// hours late.
const usageFlushInterval = time.Minute
