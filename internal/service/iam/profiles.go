package iam

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/store"
)

// Instance profiles are stored and listed; Kiri runs no instances that would use them.

func (s *Service) registerProfiles() {
	awsproto.Handle(s.api, "CreateInstanceProfile", s.createInstanceProfile)
	awsproto.Handle(s.api, "GetInstanceProfile", s.getInstanceProfile)
	awsproto.Handle(s.api, "DeleteInstanceProfile", s.deleteInstanceProfile)
	awsproto.Handle(s.api, "ListInstanceProfiles", s.listInstanceProfiles)
	awsproto.Handle(s.api, "ListInstanceProfilesForRole", s.listInstanceProfilesForRole)
	awsproto.Handle(s.api, "AddRoleToInstanceProfile", s.addRoleToInstanceProfile)
	awsproto.Handle(s.api, "RemoveRoleFromInstanceProfile", s.removeRoleFromInstanceProfile)
}

type profile struct {
	id, account, name, path, roleID string
	created                         time.Time
}

func (p *profile) arn() string { return arnOf(p.account, "instance-profile", p.path, p.name) }

const profileColumns = `id, account, name, path, created_at, role_id`

func scanProfile(row interface{ Scan(...any) error }) (*profile, error) {
	p := &profile{}
	var at int64
	if err := row.Scan(&p.id, &p.account, &p.name, &p.path, &at, &p.roleID); err != nil {
		return nil, err
	}
	p.created = time.UnixMilli(at).UTC()
	return p, nil
}

func mustProfile(q db, account, name string) (*profile, error) {
	p, err := scanProfile(q.QueryRow(`SELECT `+profileColumns+` FROM iam_instance_profiles WHERE account = ? AND name_key = ?`, account, strings.ToLower(name)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, awsproto.Errorf("NoSuchEntity", 404, "Instance Profile %s cannot be found.", name)
	}
	if err != nil {
		return nil, fmt.Errorf("load instance profile: %w", err)
	}
	return p, nil
}

func profilesWhere(q db, query string, args ...any) ([]*profile, error) {
	rows, err := q.Query(`SELECT `+profileColumns+` FROM iam_instance_profiles WHERE `+query, args...)
	if err != nil {
		return nil, fmt.Errorf("list instance profiles: %w", err)
	}
	defer rows.Close()
	var out []*profile
	for rows.Next() {
		p, err := scanProfile(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

func (s *Service) profileOut(q db, p *profile, withTags bool) (*InstanceProfile, error) {
	out := &InstanceProfile{Arn: awsproto.Ptr(p.arn()), CreateDate: awsproto.Ptr(p.created), InstanceProfileId: awsproto.Ptr(p.id),
		InstanceProfileName: awsproto.Ptr(p.name), Path: awsproto.Ptr(p.path), Roles: []Role{}}
	if p.roleID != "" {
		r, err := entityByID(q, p.roleID)
		if err != nil {
			return nil, err
		}
		if r != nil {
			out.Roles = append(out.Roles, *roleOut(r, nil, false))
		}
	}
	if withTags {
		tags, err := loadTags(q, p.id)
		if err != nil {
			return nil, err
		}
		out.Tags = tags
	}
	return out, nil
}

func (s *Service) createInstanceProfile(ctx context.Context, in *CreateInstanceProfileRequest) (*CreateInstanceProfileResponse, error) {
	account, _ := caller(ctx)
	name := awsproto.Value(in.InstanceProfileName)
	if err := checkName("instanceProfileName", name); err != nil {
		return nil, err
	}
	path, err := checkPath(in.Path)
	if err != nil {
		return nil, err
	}
	p := &profile{id: newID("AIPA"), account: account, name: name, path: path, created: s.now().UTC().Truncate(time.Millisecond)}
	if err := s.allow(ctx, "CreateInstanceProfile", p.arn()); err != nil {
		return nil, err
	}
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	err = s.st.Write(ctx, func(tx *store.Tx) error {
		n, err := count(tx, `SELECT COUNT(*) FROM iam_instance_profiles WHERE account = ? AND name_key = ?`, account, strings.ToLower(name))
		if err != nil {
			return err
		}
		if n > 0 {
			return awsproto.Errorf("EntityAlreadyExists", 409, "Instance Profile %s already exists.", name)
		}
		if _, err := tx.Exec(`INSERT INTO iam_instance_profiles (id, account, name_key, name, path, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
			p.id, account, strings.ToLower(name), name, path, p.created.UnixMilli()); err != nil {
			return err
		}
		return addTags(tx, p.id, in.Tags)
	})
	if err != nil {
		return nil, err
	}
	out, _ := s.profileOut(nil, p, false)
	out.Tags = sortedTags(in.Tags)
	return &CreateInstanceProfileResponse{InstanceProfile: out}, nil
}

func (s *Service) getInstanceProfile(ctx context.Context, in *GetInstanceProfileRequest) (*GetInstanceProfileResponse, error) {
	account, _ := caller(ctx)
	q := s.read(ctx)
	p, err := mustProfile(q, account, awsproto.Value(in.InstanceProfileName))
	if err != nil {
		return nil, err
	}
	if err := s.allow(ctx, "GetInstanceProfile", p.arn()); err != nil {
		return nil, err
	}
	out, err := s.profileOut(q, p, true)
	if err != nil {
		return nil, err
	}
	return &GetInstanceProfileResponse{InstanceProfile: out}, nil
}

// onProfile runs fn, in a write, on an instance profile after asking for action.
func (s *Service) onProfile(ctx context.Context, name, action string, fn func(tx *store.Tx, p *profile) error) error {
	account, _ := caller(ctx)
	return s.st.Write(ctx, func(tx *store.Tx) error {
		p, err := mustProfile(tx, account, name)
		if err != nil {
			return err
		}
		if err := s.allow(ctx, action, p.arn()); err != nil {
			return err
		}
		return fn(tx, p)
	})
}

func (s *Service) deleteInstanceProfile(ctx context.Context, in *DeleteInstanceProfileRequest) (*struct{}, error) {
	return &struct{}{}, s.onProfile(ctx, awsproto.Value(in.InstanceProfileName), "DeleteInstanceProfile", func(tx *store.Tx, p *profile) error {
		if p.roleID != "" {
			return deleteConflict("Cannot delete entity, must remove roles from instance profile first.")
		}
		if _, err := tx.Exec(`DELETE FROM iam_instance_profiles WHERE id = ?`, p.id); err != nil {
			return err
		}
		_, err := tx.Exec(`DELETE FROM iam_tags WHERE owner = ?`, p.id)
		return err
	})
}

func (s *Service) addRoleToInstanceProfile(ctx context.Context, in *AddRoleToInstanceProfileRequest) (*struct{}, error) {
	return &struct{}{}, s.onProfile(ctx, awsproto.Value(in.InstanceProfileName), "AddRoleToInstanceProfile", func(tx *store.Tx, p *profile) error {
		r, err := mustEntity(tx, p.account, kindRole, awsproto.Value(in.RoleName))
		if err != nil {
			return err
		}
		if p.roleID != "" {
			return limitExceeded("Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1")
		}
		_, err = tx.Exec(`UPDATE iam_instance_profiles SET role_id = ? WHERE id = ?`, r.id, p.id)
		return err
	})
}

func (s *Service) removeRoleFromInstanceProfile(ctx context.Context, in *RemoveRoleFromInstanceProfileRequest) (*struct{}, error) {
	return &struct{}{}, s.onProfile(ctx, awsproto.Value(in.InstanceProfileName), "RemoveRoleFromInstanceProfile", func(tx *store.Tx, p *profile) error {
		name := awsproto.Value(in.RoleName)
		r, err := mustEntity(tx, p.account, kindRole, name)
		if err != nil {
			return err
		}
		if p.roleID != r.id {
			return awsproto.Errorf("NoSuchEntity", 404, "The role with name %s cannot be found.", name)
		}
		_, err = tx.Exec(`UPDATE iam_instance_profiles SET role_id = '' WHERE id = ?`, p.id)
		return err
	})
}

func (s *Service) pageProfiles(q db, ps []*profile, prefix string, marker *string, maxItems *int32) ([]InstanceProfile, bool, *string, error) {
	var kept []*profile
	for _, p := range ps {
		if strings.HasPrefix(p.path, prefix) {
			kept = append(kept, p)
		}
	}
	key := func(p *profile) string { return strings.ToLower(p.name) }
	sortBy(kept, key)
	items, truncated, next, err := page(kept, key, marker, maxItems)
	if err != nil {
		return nil, false, nil, err
	}
	out := []InstanceProfile{}
	for _, p := range items {
		po, err := s.profileOut(q, p, false)
		if err != nil {
			return nil, false, nil, err
		}
		out = append(out, *po)
	}
	return out, truncated, next, nil
}

func (s *Service) listInstanceProfiles(ctx context.Context, in *ListInstanceProfilesRequest) (*ListInstanceProfilesResponse, error) {
	account, _ := caller(ctx)
	prefix, err := checkPrefix(in.PathPrefix)
	if err != nil {
		return nil, err
	}
	if err := s.allow(ctx, "ListInstanceProfiles", "*"); err != nil {
		return nil, err
	}
	q := s.read(ctx)
	ps, err := profilesWhere(q, `account = ?`, account)
	if err != nil {
		return nil, err
	}
	items, truncated, next, err := s.pageProfiles(q, ps, prefix, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return &ListInstanceProfilesResponse{InstanceProfiles: items, IsTruncated: awsproto.Ptr(truncated), Marker: next}, nil
}

func (s *Service) listInstanceProfilesForRole(ctx context.Context, in *ListInstanceProfilesForRoleRequest) (*ListInstanceProfilesForRoleResponse, error) {
	account, _ := caller(ctx)
	q := s.read(ctx)
	r, err := mustEntity(q, account, kindRole, awsproto.Value(in.RoleName))
	if err != nil {
		return nil, err
	}
	if err := s.allow(ctx, "ListInstanceProfilesForRole", r.arn()); err != nil {
		return nil, err
	}
	ps, err := profilesWhere(q, `role_id = ?`, r.id)
	if err != nil {
		return nil, err
	}
	items, truncated, next, err := s.pageProfiles(q, ps, "/", in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return &ListInstanceProfilesForRoleResponse{InstanceProfiles: items, IsTruncated: awsproto.Ptr(truncated), Marker: next}, nil
}
