package iam

import (
	"context"
	"errors"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/iam/policy"
	"github.com/kiri-run/kiri/internal/store"
)

// Role quotas and defaults.
const (
	defaultMaxSession = 3600
	trustPolicyQuota  = 2048 // characters without white space (ACLSizePerRole)
)

func (s *Service) registerRoles() {
	awsproto.Handle(s.api, "CreateRole", s.createRole)
	awsproto.Handle(s.api, "GetRole", s.getRole)
	awsproto.Handle(s.api, "UpdateRole", s.updateRole)
	awsproto.Handle(s.api, "UpdateRoleDescription", s.updateRoleDescription)
	awsproto.Handle(s.api, "DeleteRole", s.deleteRole)
	awsproto.Handle(s.api, "ListRoles", s.listRoles)
	awsproto.Handle(s.api, "UpdateAssumeRolePolicy", s.updateAssumeRolePolicy)
	awsproto.Handle(s.api, "TagRole", s.tagRole)
	awsproto.Handle(s.api, "UntagRole", s.untagRole)
	awsproto.Handle(s.api, "ListRoleTags", s.listRoleTags)
}

func roleOut(e *entity, tags []Tag, lastUsed bool) *Role {
	r := &Role{
		Arn: awsproto.Ptr(e.arn()), AssumeRolePolicyDocument: awsproto.Ptr(encodeDocument(e.trust)),
		CreateDate: awsproto.Ptr(e.created), MaxSessionDuration: awsproto.Ptr(e.maxSession), Path: awsproto.Ptr(e.path),
		RoleId: awsproto.Ptr(e.id), RoleName: awsproto.Ptr(e.name), Tags: tags, PermissionsBoundary: boundaryOut(e.boundary),
	}
	if e.description != "" {
		r.Description = awsproto.Ptr(e.description)
	}
	if lastUsed {
		r.RoleLastUsed = &RoleLastUsed{}
		if e.lastUsed != 0 {
			r.RoleLastUsed.LastUsedDate = awsproto.Ptr(time.UnixMilli(e.lastUsed).UTC())
			r.RoleLastUsed.Region = awsproto.Ptr(e.lastRegion)
		}
	}
	return r
}

// checkTrust validates a role trust policy: its size, then the document as a trust policy.
func (s *Service) checkTrust(doc string) error {
	if policy.Size(doc) > trustPolicyQuota {
		return limitExceeded("Cannot exceed quota for ACLSizePerRole: %d", trustPolicyQuota)
	}
	_, err := s.compiled.Parse(doc, policy.Trust)
	return malformed(err)
}

// malformed turns a policy engine refusal into IAM's MalformedPolicyDocument.
func malformed(err error) error {
	var perr *policy.Error
	if errors.As(err, &perr) {
		return awsproto.Errorf("MalformedPolicyDocument", 400, "%s", perr.Message)
	}
	return err
}

func (s *Service) createRole(ctx context.Context, in *CreateRoleRequest) (*CreateRoleResponse, error) {
	account, _ := caller(ctx)
	name := awsproto.Value(in.RoleName)
	if err := checkName("roleName", name); err != nil {
		return nil, err
	}
	path, err := checkPath(in.Path)
	if err != nil {
		return nil, err
	}
	if err := s.allow(ctx, "CreateRole", arnOf(account, kindRole, path, name)); err != nil {
		return nil, err
	}
	trust := awsproto.Value(in.AssumeRolePolicyDocument)
	if err := s.checkTrust(trust); err != nil {
		return nil, err
	}
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	e := &entity{id: newID("AROA"), account: account, kind: kindRole, name: name, path: path, created: s.now().UTC().Truncate(1e6),
		description: awsproto.Value(in.Description), trust: trust, maxSession: defaultMaxSession, boundary: awsproto.Value(in.PermissionsBoundary)}
	if in.MaxSessionDuration != nil {
		e.maxSession = *in.MaxSessionDuration
	}
	err = s.st.Write(ctx, func(tx *store.Tx) error {
		if e.boundary != "" {
			if err := s.checkBoundary(tx, account, e.boundary); err != nil {
				return err
			}
		}
		if err := insertEntity(tx, e); err != nil {
			return err
		}
		s.changed(tx, account)
		return addTags(tx, e.id, in.Tags)
	})
	if err != nil {
		return nil, err
	}
	return &CreateRoleResponse{Role: roleOut(e, sortedTags(in.Tags), false)}, nil
}

func (s *Service) getRole(ctx context.Context, in *GetRoleRequest) (*GetRoleResponse, error) {
	account, _ := caller(ctx)
	q := s.read(ctx)
	e, err := mustEntity(q, account, kindRole, awsproto.Value(in.RoleName))
	if err != nil {
		return nil, err
	}
	if err := s.allow(ctx, "GetRole", e.arn()); err != nil {
		return nil, err
	}
	tags, err := loadTags(q, e.id)
	if err != nil {
		return nil, err
	}
	if r, ok := s.pendingUsage(e.id); ok {
		e.lastUsed, e.lastRegion = r.at.UnixMilli(), r.region
	}
	return &GetRoleResponse{Role: roleOut(e, tags, true)}, nil
}

// updateRoleRow runs fn on a role in a write, after asking for action.
func (s *Service) updateRoleRow(ctx context.Context, name, action string, fn func(tx *store.Tx, e *entity) error) error {
	return s.taggable(ctx, kindRole, name, action, fn)
}

func (s *Service) updateRole(ctx context.Context, in *UpdateRoleRequest) (*UpdateRoleResponse, error) {
	return &UpdateRoleResponse{}, s.updateRoleRow(ctx, awsproto.Value(in.RoleName), "UpdateRole", func(tx *store.Tx, e *entity) error {
		if in.Description != nil {
			e.description = *in.Description
		}
		if in.MaxSessionDuration != nil {
			e.maxSession = *in.MaxSessionDuration
		}
		_, err := tx.Exec(`UPDATE iam_entities SET description = ?, max_session = ? WHERE id = ?`, e.description, int64(e.maxSession), e.id)
		return err
	})
}

func (s *Service) updateRoleDescription(ctx context.Context, in *UpdateRoleDescriptionRequest) (*UpdateRoleDescriptionResponse, error) {
	var out *Role
	err := s.updateRoleRow(ctx, awsproto.Value(in.RoleName), "UpdateRoleDescription", func(tx *store.Tx, e *entity) error {
		e.description = awsproto.Value(in.Description)
		if _, err := tx.Exec(`UPDATE iam_entities SET description = ? WHERE id = ?`, e.description, e.id); err != nil {
			return err
		}
		tags, err := loadTags(tx, e.id)
		out = roleOut(e, tags, true)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &UpdateRoleDescriptionResponse{Role: out}, nil
}

func (s *Service) updateAssumeRolePolicy(ctx context.Context, in *UpdateAssumeRolePolicyRequest) (*struct{}, error) {
	doc := awsproto.Value(in.PolicyDocument)
	if err := s.checkTrust(doc); err != nil {
		return nil, err
	}
	return &struct{}{}, s.updateRoleRow(ctx, awsproto.Value(in.RoleName), "UpdateAssumeRolePolicy", func(tx *store.Tx, e *entity) error {
		_, err := tx.Exec(`UPDATE iam_entities SET trust = ? WHERE id = ?`, doc, e.id)
		return err
	})
}

func (s *Service) deleteRole(ctx context.Context, in *DeleteRoleRequest) (*struct{}, error) {
	account, _ := caller(ctx)
	return &struct{}{}, s.st.Write(ctx, func(tx *store.Tx) error {
		e, err := mustEntity(tx, account, kindRole, awsproto.Value(in.RoleName))
		if err != nil {
			return err
		}
		if err := s.allow(ctx, "DeleteRole", e.arn()); err != nil {
			return err
		}
		for _, c := range []struct{ query, msg string }{
			{`SELECT COUNT(*) FROM iam_instance_profiles WHERE role_id = ?`, "Cannot delete entity, must remove roles from instance profile first."},
			{`SELECT COUNT(*) FROM iam_attachments WHERE owner = ?`, "Cannot delete entity, must detach all policies first."},
			{`SELECT COUNT(*) FROM iam_inline_policies WHERE owner = ?`, "Cannot delete entity, must delete policies first."},
		} {
			n, err := count(tx, c.query, e.id)
			if err != nil {
				return err
			}
			if n > 0 {
				return deleteConflict(c.msg)
			}
		}
		s.changed(tx, account)
		return deleteEntity(tx, e)
	})
}

func (s *Service) listRoles(ctx context.Context, in *ListRolesRequest) (*ListRolesResponse, error) {
	account, _ := caller(ctx)
	prefix, err := checkPrefix(in.PathPrefix)
	if err != nil {
		return nil, err
	}
	if err := s.allow(ctx, "ListRoles", "*"); err != nil {
		return nil, err
	}
	all, err := listEntities(s.read(ctx), account, kindRole, prefix)
	if err != nil {
		return nil, err
	}
	items, truncated, next, err := page(all, nameKey, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	out := &ListRolesResponse{Roles: []Role{}, IsTruncated: awsproto.Ptr(truncated), Marker: next}
	for _, e := range items {
		out.Roles = append(out.Roles, *roleOut(e, nil, false))
	}
	return out, nil
}

func (s *Service) tagRole(ctx context.Context, in *TagRoleRequest) (*struct{}, error) {
	return &struct{}{}, s.taggable(ctx, kindRole, awsproto.Value(in.RoleName), "TagRole", func(tx *store.Tx, e *entity) error {
		return addTags(tx, e.id, in.Tags)
	})
}

func (s *Service) untagRole(ctx context.Context, in *UntagRoleRequest) (*struct{}, error) {
	return &struct{}{}, s.taggable(ctx, kindRole, awsproto.Value(in.RoleName), "UntagRole", func(tx *store.Tx, e *entity) error {
		return removeTags(tx, e.id, in.TagKeys)
	})
}

func (s *Service) listRoleTags(ctx context.Context, in *ListRoleTagsRequest) (*ListRoleTagsResponse, error) {
	tags, truncated, next, err := s.entityTags(ctx, kindRole, awsproto.Value(in.RoleName), "ListRoleTags", in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return &ListRoleTagsResponse{Tags: tags, IsTruncated: awsproto.Ptr(truncated), Marker: next}, nil
}
