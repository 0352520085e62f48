package iam

import (
	"context"
	"slices"
	"strings"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/store"
)

func (s *Service) registerUsers() {
	awsproto.Handle(s.api, "CreateUser", s.createUser)
	awsproto.Handle(s.api, "GetUser", s.getUser)
	awsproto.Handle(s.api, "UpdateUser", s.updateUser)
	awsproto.Handle(s.api, "DeleteUser", s.deleteUser)
	awsproto.Handle(s.api, "ListUsers", s.listUsers)
	awsproto.Handle(s.api, "TagUser", s.tagUser)
	awsproto.Handle(s.api, "UntagUser", s.untagUser)
	awsproto.Handle(s.api, "ListUserTags", s.listUserTags)
}

func userOut(e *entity, tags []Tag) *User {
	u := &User{
		Arn: awsproto.Ptr(e.arn()), CreateDate: awsproto.Ptr(e.created), Path: awsproto.Ptr(e.path),
		UserId: awsproto.Ptr(e.id), UserName: awsproto.Ptr(e.name), Tags: tags,
	}
	u.PermissionsBoundary = boundaryOut(e.boundary)
	return u
}

func boundaryOut(arn string) *AttachedPermissionsBoundary {
	if arn == "" {
		return nil
	}
	return &AttachedPermissionsBoundary{PermissionsBoundaryArn: awsproto.Ptr(arn), PermissionsBoundaryType: awsproto.Ptr("PermissionsBoundaryPolicy")}
}

func (s *Service) createUser(ctx context.Context, in *CreateUserRequest) (*CreateUserResponse, error) {
	account, _ := caller(ctx)
	name := awsproto.Value(in.UserName)
	if err := checkName("userName", name); err != nil {
		return nil, err
	}
	path, err := checkPath(in.Path)
	if err != nil {
		return nil, err
	}
	if err := s.allow(ctx, "CreateUser", arnOf(account, kindUser, path, name)); err != nil {
		return nil, err
	}
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	e := &entity{id: newID("AIDA"), account: account, kind: kindUser, name: name, path: path, created: s.now().UTC().Truncate(1e6)}
	if in.PermissionsBoundary != nil {
		e.boundary = *in.PermissionsBoundary
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
	return &CreateUserResponse{User: userOut(e, sortedTags(in.Tags))}, nil
}

// sortedTags is tags as IAM answers them, by key.
func sortedTags(tags []Tag) []Tag {
	out := slices.Clone(tags)
	slices.SortFunc(out, func(a, b Tag) int { return strings.Compare(*a.Key, *b.Key) })
	return out
}

func (s *Service) getUser(ctx context.Context, in *GetUserRequest) (*GetUserResponse, error) {
	account, c := caller(ctx)
	name := awsproto.Value(in.UserName)
	if in.UserName == nil {
		arn := c.PrincipalARN
		if arn == "" || strings.HasSuffix(arn, ":root") {
			// The root user has no name: IAM answers its id and ARN.
			return &GetUserResponse{User: &User{UserId: awsproto.Ptr(account), Arn: awsproto.Ptr("arn:aws:iam::" + account + ":root"),
				CreateDate: awsproto.Ptr(s.now().UTC().Truncate(1e9))}}, nil
		}
		_, kind, _, n, ok := splitIAMARN(arn)
		if !ok || kind != kindUser {
			return nil, validationError("Must specify userName when calling with non-User credentials")
		}
		name = n
	}
	q := s.read(ctx)
	e, err := mustEntity(q, account, kindUser, name)
	if err != nil {
		return nil, err
	}
	if err := s.allow(ctx, "GetUser", e.arn()); err != nil {
		return nil, err
	}
	tags, err := loadTags(q, e.id)
	if err != nil {
		return nil, err
	}
	return &GetUserResponse{User: userOut(e, tags)}, nil
}

func (s *Service) updateUser(ctx context.Context, in *UpdateUserRequest) (*struct{}, error) {
	account, _ := caller(ctx)
	name := awsproto.Value(in.UserName)
	if in.NewUserName != nil {
		if err := checkName("newUserName", *in.NewUserName); err != nil {
			return nil, err
		}
	}
	var newPath string
	if in.NewPath != nil {
		p, err := checkPath(in.NewPath)
		if err != nil {
			return nil, err
		}
		newPath = p
	}
	return &struct{}{}, s.st.Write(ctx, func(tx *store.Tx) error {
		e, err := mustEntity(tx, account, kindUser, name)
		if err != nil {
			return err
		}
		if err := s.allow(ctx, "UpdateUser", e.arn()); err != nil {
			return err
		}
		return renameEntity(tx, e, in.NewUserName, newPath, func() { s.changed(tx, account) })
	})
}

// renameEntity gives an entity a new name and/or path, refusing a name its kind already has.
func renameEntity(tx *store.Tx, e *entity, newName *string, newPath string, changed func()) error {
	name, path := e.name, e.path
	if newName != nil {
		if !strings.EqualFold(*newName, e.name) {
			other, err := findEntity(tx, e.account, e.kind, *newName)
			if err != nil {
				return err
			}
			if other != nil {
				return alreadyExists(e.kind, *newName)
			}
		}
		name = *newName
	}
	if newPath != "" {
		path = newPath
	}
	changed()
	_, err := tx.Exec(`UPDATE iam_entities SET name = ?, name_key = ?, path = ? WHERE id = ?`, name, strings.ToLower(name), path, e.id)
	return err
}

func (s *Service) deleteUser(ctx context.Context, in *DeleteUserRequest) (*struct{}, error) {
	account, _ := caller(ctx)
	return &struct{}{}, s.st.Write(ctx, func(tx *store.Tx) error {
		e, err := mustEntity(tx, account, kindUser, awsproto.Value(in.UserName))
		if err != nil {
			return err
		}
		if err := s.allow(ctx, "DeleteUser", e.arn()); err != nil {
			return err
		}
		for _, c := range []struct{ query, msg string }{
			{`SELECT COUNT(*) FROM iam_access_keys WHERE user_id = ?`, "Cannot delete entity, must delete access keys first."},
			{`SELECT COUNT(*) FROM iam_inline_policies WHERE owner = ?`, "Cannot delete entity, must delete policies first."},
			{`SELECT COUNT(*) FROM iam_attachments WHERE owner = ?`, "Cannot delete entity, must detach all policies first."},
			{`SELECT COUNT(*) FROM iam_group_members WHERE user_id = ?`, "Cannot delete entity, must remove users from group first."},
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

func (s *Service) listUsers(ctx context.Context, in *ListUsersRequest) (*ListUsersResponse, error) {
	account, _ := caller(ctx)
	prefix, err := checkPrefix(in.PathPrefix)
	if err != nil {
		return nil, err
	}
	if err := s.allow(ctx, "ListUsers", "*"); err != nil {
		return nil, err
	}
	all, err := listEntities(s.read(ctx), account, kindUser, prefix)
	if err != nil {
		return nil, err
	}
	items, truncated, next, err := page(all, nameKey, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	out := &ListUsersResponse{Users: []User{}, IsTruncated: awsproto.Ptr(truncated), Marker: next}
	for _, e := range items {
		out.Users = append(out.Users, *userOut(e, nil))
	}
	return out, nil
}

// taggable runs fn on the entity of kind named name in a write, after asking for action.
func (s *Service) taggable(ctx context.Context, kind, name, action string, fn func(tx *store.Tx, e *entity) error) error {
	account, _ := caller(ctx)
	return s.st.Write(ctx, func(tx *store.Tx) error {
		e, err := mustEntity(tx, account, kind, name)
		if err != nil {
			return err
		}
		if err := s.allow(ctx, action, e.arn()); err != nil {
			return err
		}
		s.changed(tx, account)
		return fn(tx, e)
	})
}

// entityTags answers an entity's tags, paged.
func (s *Service) entityTags(ctx context.Context, kind, name, action string, marker *string, maxItems *int32) ([]Tag, bool, *string, error) {
	account, _ := caller(ctx)
	q := s.read(ctx)
	e, err := mustEntity(q, account, kind, name)
	if err != nil {
		return nil, false, nil, err
	}
	if err := s.allow(ctx, action, e.arn()); err != nil {
		return nil, false, nil, err
	}
	tags, err := loadTags(q, e.id)
	if err != nil {
		return nil, false, nil, err
	}
	items, truncated, next, err := pageTags(tags, marker, maxItems)
	if items == nil {
		items = []Tag{}
	}
	return items, truncated, next, err
}

func (s *Service) tagUser(ctx context.Context, in *TagUserRequest) (*struct{}, error) {
	return &struct{}{}, s.taggable(ctx, kindUser, awsproto.Value(in.UserName), "TagUser", func(tx *store.Tx, e *entity) error {
		return addTags(tx, e.id, in.Tags)
	})
}

func (s *Service) untagUser(ctx context.Context, in *UntagUserRequest) (*struct{}, error) {
	return &struct{}{}, s.taggable(ctx, kindUser, awsproto.Value(in.UserName), "UntagUser", func(tx *store.Tx, e *entity) error {
		return removeTags(tx, e.id, in.TagKeys)
	})
}

func (s *Service) listUserTags(ctx context.Context, in *ListUserTagsRequest) (*ListUserTagsResponse, error) {
	tags, truncated, next, err := s.entityTags(ctx, kindUser, awsproto.Value(in.UserName), "ListUserTags", in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return &ListUserTagsResponse{Tags: tags, IsTruncated: awsproto.Ptr(truncated), Marker: next}, nil
}
