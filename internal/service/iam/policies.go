package iam

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/iam/policy"
	"github.com/kiri-run/kiri/internal/store"
)

// Managed policy quotas.
const (
	managedPolicyQuota = 6144 // characters without white space
	maxPolicyVersions  = 5
)

var versionPattern = regexp.MustCompile(`^v[1-9][0-9]*(\.[A-Za-z0-9-]*)?$`)

func (s *Service) registerPolicies() {
	awsproto.Handle(s.api, "CreatePolicy", s.createPolicy)
	awsproto.Handle(s.api, "GetPolicy", s.getPolicy)
	awsproto.Handle(s.api, "DeletePolicy", s.deletePolicy)
	awsproto.Handle(s.api, "ListPolicies", s.listPolicies)
	awsproto.Handle(s.api, "CreatePolicyVersion", s.createPolicyVersion)
	awsproto.Handle(s.api, "GetPolicyVersion", s.getPolicyVersion)
	awsproto.Handle(s.api, "DeletePolicyVersion", s.deletePolicyVersion)
	awsproto.Handle(s.api, "ListPolicyVersions", s.listPolicyVersions)
	awsproto.Handle(s.api, "SetDefaultPolicyVersion", s.setDefaultPolicyVersion)
	awsproto.Handle(s.api, "TagPolicy", s.tagPolicy)
	awsproto.Handle(s.api, "UntagPolicy", s.untagPolicy)
	awsproto.Handle(s.api, "ListPolicyTags", s.listPolicyTags)
	awsproto.Handle(s.api, "ListEntitiesForPolicy", s.listEntitiesForPolicy)
}

// managedPolicy is a managed policy: an AWS one (account "aws") or a customer's.
type managedPolicy struct {
	arn, account, name, path, id, description string
	defaultVersion                            string
	nextVersion                               int64
	created, updated                          time.Time
}

func (p *managedPolicy) aws() bool { return p.account == "aws" }

func fromAWS(a *awsPolicy) *managedPolicy {
	return &managedPolicy{arn: a.arn(), account: "aws", name: a.Name, path: a.Path, id: a.id(),
		defaultVersion: a.Version, created: a.Updated, updated: a.Updated}
}

const policyColumns = `arn, account, name, path, id, description, default_version, next_version, created_at, updated_at`

func scanPolicy(row interface{ Scan(...any) error }) (*managedPolicy, error) {
	p := &managedPolicy{}
	var created, updated int64
	if err := row.Scan(&p.arn, &p.account, &p.name, &p.path, &p.id, &p.description, &p.defaultVersion, &p.nextVersion, &created, &updated); err != nil {
		return nil, err
	}
	p.created, p.updated = time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC()
	return p, nil
}

// findPolicy loads the managed policy arn names as account sees it: an AWS managed policy, or
// one of the account's own; nil when there is none.
func findPolicy(q db, account, arn string) (*managedPolicy, error) {
	if isAWSPolicy(arn) {
		if a, ok := awsPolicies().byARN[arn]; ok {
			return fromAWS(a), nil
		}
		return nil, nil
	}
	p, err := scanPolicy(q.QueryRow(`SELECT `+policyColumns+` FROM iam_policies WHERE arn = ? AND account = ?`, arn, account))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load policy %s: %w", arn, err)
	}
	return p, nil
}

// mustPolicy is findPolicy answering NoSuchEntity in GetPolicy's words.
func mustPolicy(q db, account, arn string) (*managedPolicy, error) {
	p, err := findPolicy(q, account, arn)
	if err == nil && p == nil {
		err = awsproto.Errorf("NoSuchEntity", 404, "Policy %s was not found.", arn)
	}
	return p, err
}

// policyVersionDocument returns the document of a version of a managed policy.
func policyVersionDocument(q db, p *managedPolicy, version string) (doc string, created time.Time, ok bool, err error) {
	if p.aws() {
		a := awsPolicies().byARN[p.arn]
		if version != a.Version {
			return "", time.Time{}, false, nil
		}
		return a.Document, a.Updated, true, nil
	}
	var at int64
	err = q.QueryRow(`SELECT document, created_at FROM iam_policy_versions WHERE arn = ? AND version_id = ?`, p.arn, version).Scan(&doc, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return "", time.Time{}, false, nil
	}
	if err != nil {
		return "", time.Time{}, false, fmt.Errorf("load policy version: %w", err)
	}
	return doc, time.UnixMilli(at).UTC(), true, nil
}

// checkManagedDocument validates a managed policy document: its size, then the document.
func (s *Service) checkManagedDocument(doc string) error {
	if policy.Size(doc) > managedPolicyQuota {
		return limitExceeded("Cannot exceed quota for PolicySize: %d", managedPolicyQuota)
	}
	_, err := s.compiled.Parse(doc, policy.Identity)
	return malformed(err)
}

func (s *Service) policyOut(q db, p *managedPolicy, tags []Tag) (*Policy, error) {
	attached, err := count(q, `SELECT COUNT(*) FROM iam_attachments WHERE account = ? AND policy_arn = ?`, accountOf(q, p), p.arn)
	if err != nil {
		return nil, err
	}
	boundaries, err := count(q, `SELECT COUNT(*) FROM iam_entities WHERE account = ? AND boundary = ?`, accountOf(q, p), p.arn)
	if err != nil {
		return nil, err
	}
	out := &Policy{
		Arn: awsproto.Ptr(p.arn), AttachmentCount: awsproto.Ptr(int32(attached)), CreateDate: awsproto.Ptr(p.created),
		DefaultVersionId: awsproto.Ptr(p.defaultVersion), IsAttachable: awsproto.Ptr(true), Path: awsproto.Ptr(p.path),
		PermissionsBoundaryUsageCount: awsproto.Ptr(int32(boundaries)), PolicyId: awsproto.Ptr(p.id),
		PolicyName: awsproto.Ptr(p.name), UpdateDate: awsproto.Ptr(p.updated), Tags: tags,
	}
	if p.description != "" {
		out.Description = awsproto.Ptr(p.description)
	}
	return out, nil
}

// accountOf is the account whose attachments of p count: the policy's own, or for an AWS
// managed policy the caller's (kept on the reader).
func accountOf(q db, p *managedPolicy) string {
	if p.aws() {
		if a, ok := q.(accountDB); ok {
			return a.account
		}
	}
	return p.account
}

// accountDB is a db that knows the calling account, for counting AWS policies' attachments.
type accountDB struct {
	db
	account string
}

func (s *Service) createPolicy(ctx context.Context, in *CreatePolicyRequest) (*CreatePolicyResponse, error) {
	account, _ := caller(ctx)
	name := awsproto.Value(in.PolicyName)
	if err := checkName("policyName", name); err != nil {
		return nil, err
	}
	path, err := checkPath(in.Path)
	if err != nil {
		return nil, err
	}
	arn := arnOf(account, "policy", path, name)
	if err := s.allow(ctx, "CreatePolicy", arn); err != nil {
		return nil, err
	}
	doc := awsproto.Value(in.PolicyDocument)
	if err := s.checkManagedDocument(doc); err != nil {
		return nil, err
	}
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	p := &managedPolicy{arn: arn, account: account, name: name, path: path, id: newID("ANPA"),
		description: awsproto.Value(in.Description), defaultVersion: "v1", nextVersion: 2, created: now, updated: now}
	err = s.st.Write(ctx, func(tx *store.Tx) error {
		n, err := count(tx, `SELECT COUNT(*) FROM iam_policies WHERE account = ? AND name_key = ?`, account, strings.ToLower(name))
		if err != nil {
			return err
		}
		if n > 0 {
			return awsproto.Errorf("EntityAlreadyExists", 409, "A policy called %s already exists. Duplicate names are not allowed.", name)
		}
		if _, err := tx.Exec(`INSERT INTO iam_policies (`+policyColumns+`, name_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			p.arn, p.account, p.name, p.path, p.id, p.description, p.defaultVersion, p.nextVersion, now.UnixMilli(), now.UnixMilli(),
			strings.ToLower(name)); err != nil {
			return err
		}
		if _, err := tx.Exec(`INSERT INTO iam_policy_versions (arn, version_id, document, created_at) VALUES (?, 'v1', ?, ?)`,
			p.arn, doc, now.UnixMilli()); err != nil {
			return err
		}
		return addTags(tx, p.id, in.Tags)
	})
	if err != nil {
		return nil, err
	}
	out := &Policy{Arn: awsproto.Ptr(arn), AttachmentCount: awsproto.Ptr(int32(0)), CreateDate: awsproto.Ptr(now),
		DefaultVersionId: awsproto.Ptr("v1"), IsAttachable: awsproto.Ptr(true), Path: awsproto.Ptr(path),
		PermissionsBoundaryUsageCount: awsproto.Ptr(int32(0)), PolicyId: awsproto.Ptr(p.id), PolicyName: awsproto.Ptr(name),
		UpdateDate: awsproto.Ptr(now), Tags: sortedTags(in.Tags)}
	if p.description != "" {
		out.Description = awsproto.Ptr(p.description)
	}
	return &CreatePolicyResponse{Policy: out}, nil
}

func (s *Service) getPolicy(ctx context.Context, in *GetPolicyRequest) (*GetPolicyResponse, error) {
	account, _ := caller(ctx)
	q := accountDB{s.read(ctx), account}
	if err := s.allow(ctx, "GetPolicy", awsproto.Value(in.PolicyArn)); err != nil {
		return nil, err
	}
	p, err := mustPolicy(q, account, awsproto.Value(in.PolicyArn))
	if err != nil {
		return nil, err
	}
	tags, err := loadTags(q, p.id)
	if err != nil {
		return nil, err
	}
	out, err := s.policyOut(q, p, tags)
	if err != nil {
		return nil, err
	}
	return &GetPolicyResponse{Policy: out}, nil
}

// ownPolicy runs fn, in a write, on one of the caller's own managed policies (AWS managed ones
// cannot be changed), after asking for action.
func (s *Service) ownPolicy(ctx context.Context, arn, action string, fn func(tx *store.Tx, p *managedPolicy) error) error {
	account, c := caller(ctx)
	return s.st.Write(ctx, func(tx *store.Tx) error {
		if isAWSPolicy(arn) {
			return awsproto.Errorf("AccessDenied", 403, "User: %s is not authorized to perform: iam:%s on resource: policy %s", c.PrincipalARN, action, arn)
		}
		if err := s.allow(ctx, action, arn); err != nil {
			return err
		}
		p, err := mustPolicy(tx, account, arn)
		if err != nil {
			return err
		}
		s.changed(tx, account)
		return fn(tx, p)
	})
}

func (s *Service) deletePolicy(ctx context.Context, in *DeletePolicyRequest) (*struct{}, error) {
	return &struct{}{}, s.ownPolicy(ctx, awsproto.Value(in.PolicyArn), "DeletePolicy", func(tx *store.Tx, p *managedPolicy) error {
		n, err := count(tx, `SELECT COUNT(*) FROM iam_attachments WHERE account = ? AND policy_arn = ?`, p.account, p.arn)
		if err != nil {
			return err
		}
		if n > 0 {
			return deleteConflict("Cannot delete a policy attached to entities.")
		}
		if n, err = count(tx, `SELECT COUNT(*) FROM iam_policy_versions WHERE arn = ?`, p.arn); err != nil {
			return err
		}
		if n > 1 {
			return deleteConflict("This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.")
		}
		for _, q := range []string{`DELETE FROM iam_policies WHERE arn = ?`, `DELETE FROM iam_policy_versions WHERE arn = ?`} {
			if _, err := tx.Exec(q, p.arn); err != nil {
				return err
			}
		}
		_, err = tx.Exec(`DELETE FROM iam_tags WHERE owner = ?`, p.id)
		return err
	})
}

// localPolicies loads the account's own managed policies.
func localPolicies(q db, account string) ([]*managedPolicy, error) {
	rows, err := q.Query(`SELECT `+policyColumns+` FROM iam_policies WHERE account = ?`, account)
	if err != nil {
		return nil, fmt.Errorf("list policies: %w", err)
	}
	defer rows.Close()
	var out []*managedPolicy
	for rows.Next() {
		p, err := scanPolicy(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

func policyKey(p *managedPolicy) string { return strings.ToLower(p.name) + "\x00" + p.arn }

// usedARNs is the set of policy ARNs attached in the account, or used there as boundaries.
func usedARNs(q db, account string, boundaries bool) (map[string]bool, error) {
	query := `SELECT policy_arn FROM iam_attachments WHERE account = ?`
	if boundaries {
		query = `SELECT boundary FROM iam_entities WHERE account = ? AND boundary <> ''`
	}
	rows, err := q.Query(query, account)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	m := map[string]bool{}
	for rows.Next() {
		var arn string
		if err := rows.Scan(&arn); err != nil {
			return nil, err
		}
		m[arn] = true
	}
	return m, rows.Err()
}

func (s *Service) listPolicies(ctx context.Context, in *ListPoliciesRequest) (*ListPoliciesResponse, error) {
	account, _ := caller(ctx)
	prefix, err := checkPrefix(in.PathPrefix)
	if err != nil {
		return nil, err
	}
	if err := s.allow(ctx, "ListPolicies", "*"); err != nil {
		return nil, err
	}
	q := accountDB{s.read(ctx), account}
	scope := awsproto.Value(in.Scope)
	var all []*managedPolicy
	if scope != "Local" {
		for _, a := range awsPolicies().ordered {
			all = append(all, fromAWS(a))
		}
	}
	if scope != "AWS" {
		local, err := localPolicies(q, account)
		if err != nil {
			return nil, err
		}
		all = append(all, local...)
	}
	filter := awsproto.Value(in.PolicyUsageFilter)
	var attached, bounding map[string]bool
	if awsproto.Value(in.OnlyAttached) {
		if filter != "PermissionsBoundary" {
			if attached, err = usedARNs(q, account, false); err != nil {
				return nil, err
			}
		}
		if filter != "PermissionsPolicy" {
			if bounding, err = usedARNs(q, account, true); err != nil {
				return nil, err
			}
		}
	}
	all = slices.DeleteFunc(all, func(p *managedPolicy) bool {
		return !strings.HasPrefix(p.path, prefix) || awsproto.Value(in.OnlyAttached) && !attached[p.arn] && !bounding[p.arn]
	})
	slices.SortFunc(all, func(a, b *managedPolicy) int { return strings.Compare(policyKey(a), policyKey(b)) })
	items, truncated, next, err := page(all, policyKey, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	out := &ListPoliciesResponse{Policies: []Policy{}, IsTruncated: awsproto.Ptr(truncated), Marker: next}
	for _, p := range items {
		po, err := s.policyOut(q, p, nil)
		if err != nil {
			return nil, err
		}
		out.Policies = append(out.Policies, *po)
	}
	return out, nil
}

func (s *Service) createPolicyVersion(ctx context.Context, in *CreatePolicyVersionRequest) (*CreatePolicyVersionResponse, error) {
	doc := awsproto.Value(in.PolicyDocument)
	if err := s.checkManagedDocument(doc); err != nil {
		return nil, err
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	var out *PolicyVersion
	err := s.ownPolicy(ctx, awsproto.Value(in.PolicyArn), "CreatePolicyVersion", func(tx *store.Tx, p *managedPolicy) error {
		n, err := count(tx, `SELECT COUNT(*) FROM iam_policy_versions WHERE arn = ?`, p.arn)
		if err != nil {
			return err
		}
		if n >= maxPolicyVersions {
			return limitExceeded("A managed policy can have up to %d versions. Before you create a new version, you must delete an existing version.", maxPolicyVersions)
		}
		version := "v" + strconv.FormatInt(p.nextVersion, 10)
		if _, err := tx.Exec(`INSERT INTO iam_policy_versions (arn, version_id, document, created_at) VALUES (?, ?, ?, ?)`,
			p.arn, version, doc, now.UnixMilli()); err != nil {
			return err
		}
		isDefault := awsproto.Value(in.SetAsDefault)
		def := p.defaultVersion
		if isDefault {
			def = version
		}
		if _, err := tx.Exec(`UPDATE iam_policies SET next_version = next_version + 1, default_version = ?, updated_at = ? WHERE arn = ?`,
			def, now.UnixMilli(), p.arn); err != nil {
			return err
		}
		out = &PolicyVersion{VersionId: awsproto.Ptr(version), IsDefaultVersion: awsproto.Ptr(isDefault), CreateDate: awsproto.Ptr(now)}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &CreatePolicyVersionResponse{PolicyVersion: out}, nil
}

func checkVersionID(v string) error {
	return checkPattern("versionId", v, versionPattern, `v[1-9][0-9]*(\.[A-Za-z0-9-]*)?`)
}

func noSuchVersion(arn, version string) error {
	return awsproto.Errorf("NoSuchEntity", 404, "Policy %s version %s does not exist or is not attachable.", arn, version)
}

func (s *Service) getPolicyVersion(ctx context.Context, in *GetPolicyVersionRequest) (*GetPolicyVersionResponse, error) {
	account, _ := caller(ctx)
	version := awsproto.Value(in.VersionId)
	if err := checkVersionID(version); err != nil {
		return nil, err
	}
	q := s.read(ctx)
	if err := s.allow(ctx, "GetPolicyVersion", awsproto.Value(in.PolicyArn)); err != nil {
		return nil, err
	}
	p, err := mustPolicy(q, account, awsproto.Value(in.PolicyArn))
	if err != nil {
		return nil, err
	}
	doc, created, ok, err := policyVersionDocument(q, p, version)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, noSuchVersion(p.arn, version)
	}
	return &GetPolicyVersionResponse{PolicyVersion: &PolicyVersion{Document: awsproto.Ptr(encodeDocument(doc)), VersionId: awsproto.Ptr(version),
		IsDefaultVersion: awsproto.Ptr(version == p.defaultVersion), CreateDate: awsproto.Ptr(created)}}, nil
}

func (s *Service) deletePolicyVersion(ctx context.Context, in *DeletePolicyVersionRequest) (*struct{}, error) {
	version := awsproto.Value(in.VersionId)
	if err := checkVersionID(version); err != nil {
		return nil, err
	}
	return &struct{}{}, s.ownPolicy(ctx, awsproto.Value(in.PolicyArn), "DeletePolicyVersion", func(tx *store.Tx, p *managedPolicy) error {
		if version == p.defaultVersion {
			return deleteConflict("Cannot delete the default version of a policy.")
		}
		res, err := tx.Exec(`DELETE FROM iam_policy_versions WHERE arn = ? AND version_id = ?`, p.arn, version)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return noSuchVersion(p.arn, version)
		}
		return nil
	})
}

func (s *Service) listPolicyVersions(ctx context.Context, in *ListPolicyVersionsRequest) (*ListPolicyVersionsResponse, error) {
	account, _ := caller(ctx)
	q := s.read(ctx)
	if err := s.allow(ctx, "ListPolicyVersions", awsproto.Value(in.PolicyArn)); err != nil {
		return nil, err
	}
	p, err := mustPolicy(q, account, awsproto.Value(in.PolicyArn))
	if err != nil {
		return nil, err
	}
	var versions []PolicyVersion
	if p.aws() {
		a := awsPolicies().byARN[p.arn]
		versions = append(versions, PolicyVersion{VersionId: awsproto.Ptr(a.Version), IsDefaultVersion: awsproto.Ptr(true), CreateDate: awsproto.Ptr(a.Updated)})
	} else {
		rows, err := q.Query(`SELECT version_id, created_at FROM iam_policy_versions WHERE arn = ?`, p.arn)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		for rows.Next() {
			var v string
			var at int64
			if err := rows.Scan(&v, &at); err != nil {
				return nil, err
			}
			versions = append(versions, PolicyVersion{VersionId: awsproto.Ptr(v), IsDefaultVersion: awsproto.Ptr(v == p.defaultVersion),
				CreateDate: awsproto.Ptr(time.UnixMilli(at).UTC())})
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	// Newest first, as IAM lists them.
	slices.SortFunc(versions, func(a, b PolicyVersion) int { return versionNumber(*b.VersionId) - versionNumber(*a.VersionId) })
	key := func(v PolicyVersion) string { return fmt.Sprintf("%012d", 1<<30-versionNumber(*v.VersionId)) }
	items, truncated, next, err := page(versions, key, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	if items == nil {
		items = []PolicyVersion{}
	}
	return &ListPolicyVersionsResponse{Versions: items, IsTruncated: awsproto.Ptr(truncated), Marker: next}, nil
}

func versionNumber(v string) int {
	n, _ := strconv.Atoi(strings.TrimPrefix(strings.SplitN(v, ".", 2)[0], "v"))
	return n
}

func (s *Service) setDefaultPolicyVersion(ctx context.Context, in *SetDefaultPolicyVersionRequest) (*struct{}, error) {
	version := awsproto.Value(in.VersionId)
	if err := checkVersionID(version); err != nil {
		return nil, err
	}
	return &struct{}{}, s.ownPolicy(ctx, awsproto.Value(in.PolicyArn), "SetDefaultPolicyVersion", func(tx *store.Tx, p *managedPolicy) error {
		if _, _, ok, err := policyVersionDocument(tx, p, version); err != nil {
			return err
		} else if !ok {
			return noSuchVersion(p.arn, version)
		}
		_, err := tx.Exec(`UPDATE iam_policies SET default_version = ?, updated_at = ? WHERE arn = ?`, version, s.now().UnixMilli(), p.arn)
		return err
	})
}

func (s *Service) tagPolicy(ctx context.Context, in *TagPolicyRequest) (*struct{}, error) {
	return &struct{}{}, s.ownPolicy(ctx, awsproto.Value(in.PolicyArn), "TagPolicy", func(tx *store.Tx, p *managedPolicy) error {
		return addTags(tx, p.id, in.Tags)
	})
}

func (s *Service) untagPolicy(ctx context.Context, in *UntagPolicyRequest) (*struct{}, error) {
	return &struct{}{}, s.ownPolicy(ctx, awsproto.Value(in.PolicyArn), "UntagPolicy", func(tx *store.Tx, p *managedPolicy) error {
		return removeTags(tx, p.id, in.TagKeys)
	})
}

func (s *Service) listPolicyTags(ctx context.Context, in *ListPolicyTagsRequest) (*ListPolicyTagsResponse, error) {
	account, _ := caller(ctx)
	q := s.read(ctx)
	if err := s.allow(ctx, "ListPolicyTags", awsproto.Value(in.PolicyArn)); err != nil {
		return nil, err
	}
	p, err := mustPolicy(q, account, awsproto.Value(in.PolicyArn))
	if err != nil {
		return nil, err
	}
	tags, err := loadTags(q, p.id)
	if err != nil {
		return nil, err
	}
	items, truncated, next, err := pageTags(tags, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	if items == nil {
		items = []Tag{}
	}
	return &ListPolicyTagsResponse{Tags: items, IsTruncated: awsproto.Ptr(truncated), Marker: next}, nil
}

func (s *Service) listEntitiesForPolicy(ctx context.Context, in *ListEntitiesForPolicyRequest) (*ListEntitiesForPolicyResponse, error) {
	account, _ := caller(ctx)
	prefix, err := checkPrefix(in.PathPrefix)
	if err != nil {
		return nil, err
	}
	q := s.read(ctx)
	if err := s.allow(ctx, "ListEntitiesForPolicy", awsproto.Value(in.PolicyArn)); err != nil {
		return nil, err
	}
	p, err := mustPolicy(q, account, awsproto.Value(in.PolicyArn))
	if err != nil {
		return nil, err
	}
	var ents []*entity
	filter := awsproto.Value(in.PolicyUsageFilter)
	if filter != "PermissionsBoundary" {
		attached, err := entitiesWhere(q, `SELECT `+entityColumns+` FROM iam_entities WHERE id IN (SELECT owner FROM iam_attachments WHERE account = ? AND policy_arn = ?)`, account, p.arn)
		if err != nil {
			return nil, err
		}
		ents = append(ents, attached...)
	}
	if filter != "PermissionsPolicy" {
		bounded, err := entitiesWhere(q, `SELECT `+entityColumns+` FROM iam_entities WHERE account = ? AND boundary = ?`, account, p.arn)
		if err != nil {
			return nil, err
		}
		ents = append(ents, bounded...)
	}
	kind := strings.ToLower(awsproto.Value(in.EntityFilter))
	ents = slices.DeleteFunc(ents, func(e *entity) bool {
		return !strings.HasPrefix(e.path, prefix) || kind != "" && kind != e.kind
	})
	key := func(e *entity) string { return e.kind + "\x00" + nameKey(e) + "\x00" + e.id }
	slices.SortFunc(ents, func(a, b *entity) int { return strings.Compare(key(a), key(b)) })
	ents = slices.CompactFunc(ents, func(a, b *entity) bool { return a.id == b.id })
	items, truncated, next, err := page(ents, key, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	out := &ListEntitiesForPolicyResponse{PolicyGroups: []PolicyGroup{}, PolicyUsers: []PolicyUser{}, PolicyRoles: []PolicyRole{},
		IsTruncated: awsproto.Ptr(truncated), Marker: next}
	for _, e := range items {
		switch e.kind {
		case kindUser:
			out.PolicyUsers = append(out.PolicyUsers, PolicyUser{UserId: awsproto.Ptr(e.id), UserName: awsproto.Ptr(e.name)})
		case kindGroup:
			out.PolicyGroups = append(out.PolicyGroups, PolicyGroup{GroupId: awsproto.Ptr(e.id), GroupName: awsproto.Ptr(e.name)})
		case kindRole:
			out.PolicyRoles = append(out.PolicyRoles, PolicyRole{RoleId: awsproto.Ptr(e.id), RoleName: awsproto.Ptr(e.name)})
		}
	}
	return out, nil
}

// encodeDocument is a policy document as IAM answers it: percent-encoded (RFC 3986), which
// the AWS CLI and boto3 decode.
func encodeDocument(doc string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(doc) * 2)
	for i := 0; i < len(doc); i++ {
		c := doc[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}
