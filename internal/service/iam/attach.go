package iam

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/iam/policy"
	"github.com/kiri-run/kiri/internal/store"
)

// maxAttached is IAM's default quota of managed policies attached to a user, group or role.
const maxAttached = 10

// inlineQuota is the aggregate size of an entity's inline policies, in characters without
// white space.
var inlineQuota = map[string]int{kindUser: 2048, kindGroup: 5120, kindRole: 10240}

// quotaNoun names a kind in IAM's quota names (PoliciesPerUser).
func quotaNoun(kind string) string { return strings.ToUpper(kind[:1]) + kind[1:] }

func (s *Service) registerAttachments() {
	awsproto.Handle(s.api, "AttachUserPolicy", func(ctx context.Context, in *AttachUserPolicyRequest) (*struct{}, error) {
		return &struct{}{}, s.attach(ctx, kindUser, awsproto.Value(in.UserName), awsproto.Value(in.PolicyArn), "AttachUserPolicy")
	})
	awsproto.Handle(s.api, "AttachGroupPolicy", func(ctx context.Context, in *AttachGroupPolicyRequest) (*struct{}, error) {
		return &struct{}{}, s.attach(ctx, kindGroup, awsproto.Value(in.GroupName), awsproto.Value(in.PolicyArn), "AttachGroupPolicy")
	})
	awsproto.Handle(s.api, "AttachRolePolicy", func(ctx context.Context, in *AttachRolePolicyRequest) (*struct{}, error) {
		return &struct{}{}, s.attach(ctx, kindRole, awsproto.Value(in.RoleName), awsproto.Value(in.PolicyArn), "AttachRolePolicy")
	})
	awsproto.Handle(s.api, "DetachUserPolicy", func(ctx context.Context, in *DetachUserPolicyRequest) (*struct{}, error) {
		return &struct{}{}, s.detach(ctx, kindUser, awsproto.Value(in.UserName), awsproto.Value(in.PolicyArn), "DetachUserPolicy")
	})
	awsproto.Handle(s.api, "DetachGroupPolicy", func(ctx context.Context, in *DetachGroupPolicyRequest) (*struct{}, error) {
		return &struct{}{}, s.detach(ctx, kindGroup, awsproto.Value(in.GroupName), awsproto.Value(in.PolicyArn), "DetachGroupPolicy")
	})
	awsproto.Handle(s.api, "DetachRolePolicy", func(ctx context.Context, in *DetachRolePolicyRequest) (*struct{}, error) {
		return &struct{}{}, s.detach(ctx, kindRole, awsproto.Value(in.RoleName), awsproto.Value(in.PolicyArn), "DetachRolePolicy")
	})
	awsproto.Handle(s.api, "ListAttachedUserPolicies", func(ctx context.Context, in *ListAttachedUserPoliciesRequest) (*ListAttachedUserPoliciesResponse, error) {
		ps, truncated, next, err := s.listAttached(ctx, kindUser, awsproto.Value(in.UserName), in.PathPrefix, in.Marker, in.MaxItems, "ListAttachedUserPolicies")
		if err != nil {
			return nil, err
		}
		return &ListAttachedUserPoliciesResponse{AttachedPolicies: ps, IsTruncated: awsproto.Ptr(truncated), Marker: next}, nil
	})
	awsproto.Handle(s.api, "ListAttachedGroupPolicies", func(ctx context.Context, in *ListAttachedGroupPoliciesRequest) (*ListAttachedGroupPoliciesResponse, error) {
		ps, truncated, next, err := s.listAttached(ctx, kindGroup, awsproto.Value(in.GroupName), in.PathPrefix, in.Marker, in.MaxItems, "ListAttachedGroupPolicies")
		if err != nil {
			return nil, err
		}
		return &ListAttachedGroupPoliciesResponse{AttachedPolicies: ps, IsTruncated: awsproto.Ptr(truncated), Marker: next}, nil
	})
	awsproto.Handle(s.api, "ListAttachedRolePolicies", func(ctx context.Context, in *ListAttachedRolePoliciesRequest) (*ListAttachedRolePoliciesResponse, error) {
		ps, truncated, next, err := s.listAttached(ctx, kindRole, awsproto.Value(in.RoleName), in.PathPrefix, in.Marker, in.MaxItems, "ListAttachedRolePolicies")
		if err != nil {
			return nil, err
		}
		return &ListAttachedRolePoliciesResponse{AttachedPolicies: ps, IsTruncated: awsproto.Ptr(truncated), Marker: next}, nil
	})
	s.registerInline()
	s.registerBoundaries()
}

// onEntity runs fn, in a write, on the entity of kind named name, after asking for action on
// it; fn's changes drop the account's cached policies.
func (s *Service) onEntity(ctx context.Context, kind, name, action string, fn func(tx *store.Tx, e *entity) error) error {
	return s.taggable(ctx, kind, name, action, fn)
}

func notAttachable(arn string) error {
	return awsproto.Errorf("NoSuchEntity", 404, "Policy %s does not exist or is not attachable.", arn)
}

func (s *Service) attach(ctx context.Context, kind, name, arn, action string) error {
	return s.onEntity(ctx, kind, name, action, func(tx *store.Tx, e *entity) error {
		p, err := findPolicy(tx, e.account, arn)
		if err != nil {
			return err
		}
		if p == nil {
			return notAttachable(arn)
		}
		n, err := count(tx, `SELECT COUNT(*) FROM iam_attachments WHERE owner = ? AND policy_arn <> ?`, e.id, arn)
		if err != nil {
			return err
		}
		if n >= maxAttached {
			return limitExceeded("Cannot exceed quota for PoliciesPer%s: %d", quotaNoun(kind), maxAttached)
		}
		_, err = tx.Exec(`INSERT INTO iam_attachments (owner, account, policy_arn) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`, e.id, e.account, arn)
		return err
	})
}

func (s *Service) detach(ctx context.Context, kind, name, arn, action string) error {
	return s.onEntity(ctx, kind, name, action, func(tx *store.Tx, e *entity) error {
		res, err := tx.Exec(`DELETE FROM iam_attachments WHERE owner = ? AND policy_arn = ?`, e.id, arn)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return awsproto.Errorf("NoSuchEntity", 404, "Policy %s was not found.", arn)
		}
		return nil
	})
}

// attachedARNs lists the ARNs of the managed policies attached to an entity.
func attachedARNs(q db, owner string) ([]string, error) {
	rows, err := q.Query(`SELECT policy_arn FROM iam_attachments WHERE owner = ?`, owner)
	if err != nil {
		return nil, fmt.Errorf("load attached policies: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var arn string
		if err := rows.Scan(&arn); err != nil {
			return nil, err
		}
		out = append(out, arn)
	}
	return out, rows.Err()
}

func (s *Service) listAttached(ctx context.Context, kind, name string, pathPrefix, marker *string, maxItems *int32, action string) ([]AttachedPolicy, bool, *string, error) {
	account, _ := caller(ctx)
	prefix, err := checkPrefix(pathPrefix)
	if err != nil {
		return nil, false, nil, err
	}
	q := s.read(ctx)
	e, err := mustEntity(q, account, kind, name)
	if err != nil {
		return nil, false, nil, err
	}
	if err := s.allow(ctx, action, e.arn()); err != nil {
		return nil, false, nil, err
	}
	arns, err := attachedARNs(q, e.id)
	if err != nil {
		return nil, false, nil, err
	}
	var ps []*managedPolicy
	for _, arn := range arns {
		p, err := findPolicy(q, account, arn)
		if err != nil {
			return nil, false, nil, err
		}
		if p != nil && strings.HasPrefix(p.path, prefix) {
			ps = append(ps, p)
		}
	}
	slices.SortFunc(ps, func(a, b *managedPolicy) int { return strings.Compare(policyKey(a), policyKey(b)) })
	items, truncated, next, err := page(ps, policyKey, marker, maxItems)
	if err != nil {
		return nil, false, nil, err
	}
	out := []AttachedPolicy{}
	for _, p := range items {
		out = append(out, AttachedPolicy{PolicyArn: awsproto.Ptr(p.arn), PolicyName: awsproto.Ptr(p.name)})
	}
	return out, truncated, next, nil
}

func (s *Service) registerInline() {
	awsproto.Handle(s.api, "PutUserPolicy", func(ctx context.Context, in *PutUserPolicyRequest) (*struct{}, error) {
		return &struct{}{}, s.putInline(ctx, kindUser, awsproto.Value(in.UserName), awsproto.Value(in.PolicyName), awsproto.Value(in.PolicyDocument), "PutUserPolicy")
	})
	awsproto.Handle(s.api, "PutGroupPolicy", func(ctx context.Context, in *PutGroupPolicyRequest) (*struct{}, error) {
		return &struct{}{}, s.putInline(ctx, kindGroup, awsproto.Value(in.GroupName), awsproto.Value(in.PolicyName), awsproto.Value(in.PolicyDocument), "PutGroupPolicy")
	})
	awsproto.Handle(s.api, "PutRolePolicy", func(ctx context.Context, in *PutRolePolicyRequest) (*struct{}, error) {
		return &struct{}{}, s.putInline(ctx, kindRole, awsproto.Value(in.RoleName), awsproto.Value(in.PolicyName), awsproto.Value(in.PolicyDocument), "PutRolePolicy")
	})
	awsproto.Handle(s.api, "GetUserPolicy", func(ctx context.Context, in *GetUserPolicyRequest) (*GetUserPolicyResponse, error) {
		doc, err := s.getInline(ctx, kindUser, awsproto.Value(in.UserName), awsproto.Value(in.PolicyName), "GetUserPolicy")
		if err != nil {
			return nil, err
		}
		return &GetUserPolicyResponse{UserName: in.UserName, PolicyName: in.PolicyName, PolicyDocument: awsproto.Ptr(doc)}, nil
	})
	awsproto.Handle(s.api, "GetGroupPolicy", func(ctx context.Context, in *GetGroupPolicyRequest) (*GetGroupPolicyResponse, error) {
		doc, err := s.getInline(ctx, kindGroup, awsproto.Value(in.GroupName), awsproto.Value(in.PolicyName), "GetGroupPolicy")
		if err != nil {
			return nil, err
		}
		return &GetGroupPolicyResponse{GroupName: in.GroupName, PolicyName: in.PolicyName, PolicyDocument: awsproto.Ptr(doc)}, nil
	})
	awsproto.Handle(s.api, "GetRolePolicy", func(ctx context.Context, in *GetRolePolicyRequest) (*GetRolePolicyResponse, error) {
		doc, err := s.getInline(ctx, kindRole, awsproto.Value(in.RoleName), awsproto.Value(in.PolicyName), "GetRolePolicy")
		if err != nil {
			return nil, err
		}
		return &GetRolePolicyResponse{RoleName: in.RoleName, PolicyName: in.PolicyName, PolicyDocument: awsproto.Ptr(doc)}, nil
	})
	awsproto.Handle(s.api, "DeleteUserPolicy", func(ctx context.Context, in *DeleteUserPolicyRequest) (*struct{}, error) {
		return &struct{}{}, s.deleteInline(ctx, kindUser, awsproto.Value(in.UserName), awsproto.Value(in.PolicyName), "DeleteUserPolicy")
	})
	awsproto.Handle(s.api, "DeleteGroupPolicy", func(ctx context.Context, in *DeleteGroupPolicyRequest) (*struct{}, error) {
		return &struct{}{}, s.deleteInline(ctx, kindGroup, awsproto.Value(in.GroupName), awsproto.Value(in.PolicyName), "DeleteGroupPolicy")
	})
	awsproto.Handle(s.api, "DeleteRolePolicy", func(ctx context.Context, in *DeleteRolePolicyRequest) (*struct{}, error) {
		return &struct{}{}, s.deleteInline(ctx, kindRole, awsproto.Value(in.RoleName), awsproto.Value(in.PolicyName), "DeleteRolePolicy")
	})
	awsproto.Handle(s.api, "ListUserPolicies", func(ctx context.Context, in *ListUserPoliciesRequest) (*ListUserPoliciesResponse, error) {
		names, truncated, next, err := s.listInline(ctx, kindUser, awsproto.Value(in.UserName), in.Marker, in.MaxItems, "ListUserPolicies")
		if err != nil {
			return nil, err
		}
		return &ListUserPoliciesResponse{PolicyNames: names, IsTruncated: awsproto.Ptr(truncated), Marker: next}, nil
	})
	awsproto.Handle(s.api, "ListGroupPolicies", func(ctx context.Context, in *ListGroupPoliciesRequest) (*ListGroupPoliciesResponse, error) {
		names, truncated, next, err := s.listInline(ctx, kindGroup, awsproto.Value(in.GroupName), in.Marker, in.MaxItems, "ListGroupPolicies")
		if err != nil {
			return nil, err
		}
		return &ListGroupPoliciesResponse{PolicyNames: names, IsTruncated: awsproto.Ptr(truncated), Marker: next}, nil
	})
	awsproto.Handle(s.api, "ListRolePolicies", func(ctx context.Context, in *ListRolePoliciesRequest) (*ListRolePoliciesResponse, error) {
		names, truncated, next, err := s.listInline(ctx, kindRole, awsproto.Value(in.RoleName), in.Marker, in.MaxItems, "ListRolePolicies")
		if err != nil {
			return nil, err
		}
		return &ListRolePoliciesResponse{PolicyNames: names, IsTruncated: awsproto.Ptr(truncated), Marker: next}, nil
	})
}

// inlinePolicies loads an entity's inline policies: names to documents.
func inlinePolicies(q db, owner string) (map[string]string, error) {
	rows, err := q.Query(`SELECT name, document FROM iam_inline_policies WHERE owner = ?`, owner)
	if err != nil {
		return nil, fmt.Errorf("load inline policies: %w", err)
	}
	defer rows.Close()
	m := map[string]string{}
	for rows.Next() {
		var name, doc string
		if err := rows.Scan(&name, &doc); err != nil {
			return nil, err
		}
		m[name] = doc
	}
	return m, rows.Err()
}

func (s *Service) putInline(ctx context.Context, kind, name, policyName, doc, action string) error {
	if err := checkPattern("policyName", policyName, policyNameChar, `[\w+=,.@-]+`); err != nil {
		return err
	}
	if _, err := s.compiled.Parse(doc, policy.Identity); err != nil {
		return malformed(err)
	}
	return s.onEntity(ctx, kind, name, action, func(tx *store.Tx, e *entity) error {
		existing, err := inlinePolicies(tx, e.id)
		if err != nil {
			return err
		}
		existing[policyName] = doc
		total := 0
		for _, d := range existing {
			total += policy.Size(d)
		}
		if quota := inlineQuota[kind]; total > quota {
			return limitExceeded("Maximum policy size of %d bytes exceeded for %s %s", quota, kind, e.name)
		}
		_, err = tx.Exec(`INSERT INTO iam_inline_policies (owner, name, document) VALUES (?, ?, ?)
			ON CONFLICT (owner, name) DO UPDATE SET document = excluded.document`, e.id, policyName, doc)
		return err
	})
}

func noSuchInline(kind, name string) error {
	return awsproto.Errorf("NoSuchEntity", 404, "The %s policy with name %s cannot be found.", kind, name)
}

func (s *Service) getInline(ctx context.Context, kind, name, policyName, action string) (string, error) {
	account, _ := caller(ctx)
	q := s.read(ctx)
	e, err := mustEntity(q, account, kind, name)
	if err != nil {
		return "", err
	}
	if err := s.allow(ctx, action, e.arn()); err != nil {
		return "", err
	}
	var doc string
	err = q.QueryRow(`SELECT document FROM iam_inline_policies WHERE owner = ? AND name = ?`, e.id, policyName).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return "", noSuchInline(kind, policyName)
	}
	if err != nil {
		return "", err
	}
	return encodeDocument(doc), nil
}

func (s *Service) deleteInline(ctx context.Context, kind, name, policyName, action string) error {
	return s.onEntity(ctx, kind, name, action, func(tx *store.Tx, e *entity) error {
		res, err := tx.Exec(`DELETE FROM iam_inline_policies WHERE owner = ? AND name = ?`, e.id, policyName)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return noSuchInline(kind, policyName)
		}
		return nil
	})
}

func (s *Service) listInline(ctx context.Context, kind, name string, marker *string, maxItems *int32, action string) ([]string, bool, *string, error) {
	account, _ := caller(ctx)
	q := s.read(ctx)
	e, err := mustEntity(q, account, kind, name)
	if err != nil {
		return nil, false, nil, err
	}
	if err := s.allow(ctx, action, e.arn()); err != nil {
		return nil, false, nil, err
	}
	m, err := inlinePolicies(q, e.id)
	if err != nil {
		return nil, false, nil, err
	}
	names := []string{}
	for n := range m {
		names = append(names, n)
	}
	slices.Sort(names)
	items, truncated, next, err := page(names, func(n string) string { return n }, marker, maxItems)
	if items == nil {
		items = []string{}
	}
	return items, truncated, next, err
}

func (s *Service) registerBoundaries() {
	awsproto.Handle(s.api, "PutUserPermissionsBoundary", func(ctx context.Context, in *PutUserPermissionsBoundaryRequest) (*struct{}, error) {
		return &struct{}{}, s.setBoundary(ctx, kindUser, awsproto.Value(in.UserName), awsproto.Value(in.PermissionsBoundary), "PutUserPermissionsBoundary")
	})
	awsproto.Handle(s.api, "PutRolePermissionsBoundary", func(ctx context.Context, in *PutRolePermissionsBoundaryRequest) (*struct{}, error) {
		return &struct{}{}, s.setBoundary(ctx, kindRole, awsproto.Value(in.RoleName), awsproto.Value(in.PermissionsBoundary), "PutRolePermissionsBoundary")
	})
	awsproto.Handle(s.api, "DeleteUserPermissionsBoundary", func(ctx context.Context, in *DeleteUserPermissionsBoundaryRequest) (*struct{}, error) {
		return &struct{}{}, s.setBoundary(ctx, kindUser, awsproto.Value(in.UserName), "", "DeleteUserPermissionsBoundary")
	})
	awsproto.Handle(s.api, "DeleteRolePermissionsBoundary", func(ctx context.Context, in *DeleteRolePermissionsBoundaryRequest) (*struct{}, error) {
		return &struct{}{}, s.setBoundary(ctx, kindRole, awsproto.Value(in.RoleName), "", "DeleteRolePermissionsBoundary")
	})
}

// checkBoundary refuses a permissions boundary that names no managed policy the account sees.
func (s *Service) checkBoundary(tx *store.Tx, account, arn string) error {
	p, err := findPolicy(tx, account, arn)
	if err != nil {
		return err
	}
	if p == nil {
		return awsproto.Errorf("NoSuchEntity", 404, "Scope ARN: %s does not exist or is not attachable.", arn)
	}
	return nil
}

// setBoundary sets (arn) or removes ("") the permissions boundary of a user or role.
func (s *Service) setBoundary(ctx context.Context, kind, name, arn, action string) error {
	return s.onEntity(ctx, kind, name, action, func(tx *store.Tx, e *entity) error {
		if arn != "" {
			if err := s.checkBoundary(tx, e.account, arn); err != nil {
				return err
			}
		}
		_, err := tx.Exec(`UPDATE iam_entities SET boundary = ? WHERE id = ?`, arn, e.id)
		return err
	})
}
