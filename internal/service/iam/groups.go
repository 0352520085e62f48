package iam

import (
	"context"
	"fmt"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/store"
)

// maxGroupsPerUser is IAM's quota of groups a user belongs to.
const maxGroupsPerUser = 10

func (s *Service) registerGroups() {
	awsproto.Handle(s.api, "CreateGroup", s.createGroup)
	awsproto.Handle(s.api, "GetGroup", s.getGroup)
	awsproto.Handle(s.api, "UpdateGroup", s.updateGroup)
	awsproto.Handle(s.api, "DeleteGroup", s.deleteGroup)
	awsproto.Handle(s.api, "ListGroups", s.listGroups)
	awsproto.Handle(s.api, "AddUserToGroup", s.addUserToGroup)
	awsproto.Handle(s.api, "RemoveUserFromGroup", s.removeUserFromGroup)
	awsproto.Handle(s.api, "ListGroupsForUser", s.listGroupsForUser)
}

func groupOut(e *entity) Group {
	return Group{Arn: awsproto.Ptr(e.arn()), CreateDate: awsproto.Ptr(e.created), GroupId: awsproto.Ptr(e.id),
		GroupName: awsproto.Ptr(e.name), Path: awsproto.Ptr(e.path)}
}

func (s *Service) createGroup(ctx context.Context, in *CreateGroupRequest) (*CreateGroupResponse, error) {
	account, _ := caller(ctx)
	name := awsproto.Value(in.GroupName)
	if err := checkName("groupName", name); err != nil {
		return nil, err
	}
	path, err := checkPath(in.Path)
	if err != nil {
		return nil, err
	}
	if err := s.allow(ctx, "CreateGroup", arnOf(account, kindGroup, path, name)); err != nil {
		return nil, err
	}
	e := &entity{id: newID("AGPA"), account: account, kind: kindGroup, name: name, path: path, created: s.now().UTC().Truncate(1e6)}
	err = s.st.Write(ctx, func(tx *store.Tx) error {
		s.changed(tx, account)
		return insertEntity(tx, e)
	})
	if err != nil {
		return nil, err
	}
	g := groupOut(e)
	return &CreateGroupResponse{Group: &g}, nil
}

// groupMembers loads the users of a group, by name.
func groupMembers(q db, groupID string) ([]*entity, error) {
	return entitiesWhere(q, `SELECT `+entityColumns+` FROM iam_entities WHERE id IN (SELECT user_id FROM iam_group_members WHERE group_id = ?)`, groupID)
}

// userGroups loads the groups a user belongs to, by name.
func userGroups(q db, userID string) ([]*entity, error) {
	return entitiesWhere(q, `SELECT `+entityColumns+` FROM iam_entities WHERE id IN (SELECT group_id FROM iam_group_members WHERE user_id = ?)`, userID)
}

func entitiesWhere(q db, query string, args ...any) ([]*entity, error) {
	rows, err := q.Query(query, args...)
	if err != nil {
		return nil, fmt.Errorf("load entities: %w", err)
	}
	defer rows.Close()
	var out []*entity
	for rows.Next() {
		e, err := scanEntity(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	sortEntities(out)
	return out, rows.Err()
}

func (s *Service) getGroup(ctx context.Context, in *GetGroupRequest) (*GetGroupResponse, error) {
	account, _ := caller(ctx)
	q := s.read(ctx)
	g, err := mustEntity(q, account, kindGroup, awsproto.Value(in.GroupName))
	if err != nil {
		return nil, err
	}
	if err := s.allow(ctx, "GetGroup", g.arn()); err != nil {
		return nil, err
	}
	members, err := groupMembers(q, g.id)
	if err != nil {
		return nil, err
	}
	items, truncated, next, err := page(members, nameKey, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	out := groupOut(g)
	resp := &GetGroupResponse{Group: &out, Users: []User{}, IsTruncated: awsproto.Ptr(truncated), Marker: next}
	for _, u := range items {
		resp.Users = append(resp.Users, *userOut(u, nil))
	}
	return resp, nil
}

func (s *Service) updateGroup(ctx context.Context, in *UpdateGroupRequest) (*struct{}, error) {
	account, _ := caller(ctx)
	if in.NewGroupName != nil {
		if err := checkName("newGroupName", *in.NewGroupName); err != nil {
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
		g, err := mustEntity(tx, account, kindGroup, awsproto.Value(in.GroupName))
		if err != nil {
			return err
		}
		if err := s.allow(ctx, "UpdateGroup", g.arn()); err != nil {
			return err
		}
		return renameEntity(tx, g, in.NewGroupName, newPath, func() { s.changed(tx, account) })
	})
}

func (s *Service) deleteGroup(ctx context.Context, in *DeleteGroupRequest) (*struct{}, error) {
	account, _ := caller(ctx)
	return &struct{}{}, s.st.Write(ctx, func(tx *store.Tx) error {
		g, err := mustEntity(tx, account, kindGroup, awsproto.Value(in.GroupName))
		if err != nil {
			return err
		}
		if err := s.allow(ctx, "DeleteGroup", g.arn()); err != nil {
			return err
		}
		for _, c := range []struct{ query, msg string }{
			{`SELECT COUNT(*) FROM iam_group_members WHERE group_id = ?`, "Cannot delete entity, must remove users from group first."},
			{`SELECT COUNT(*) FROM iam_inline_policies WHERE owner = ?`, "Cannot delete entity, must delete policies first."},
			{`SELECT COUNT(*) FROM iam_attachments WHERE owner = ?`, "Cannot delete entity, must detach all policies first."},
		} {
			n, err := count(tx, c.query, g.id)
			if err != nil {
				return err
			}
			if n > 0 {
				return deleteConflict(c.msg)
			}
		}
		s.changed(tx, account)
		return deleteEntity(tx, g)
	})
}

func (s *Service) listGroups(ctx context.Context, in *ListGroupsRequest) (*ListGroupsResponse, error) {
	account, _ := caller(ctx)
	prefix, err := checkPrefix(in.PathPrefix)
	if err != nil {
		return nil, err
	}
	if err := s.allow(ctx, "ListGroups", "*"); err != nil {
		return nil, err
	}
	all, err := listEntities(s.read(ctx), account, kindGroup, prefix)
	if err != nil {
		return nil, err
	}
	return groupsPage(all, in.Marker, in.MaxItems, func(gs []Group, truncated bool, next *string) *ListGroupsResponse {
		return &ListGroupsResponse{Groups: gs, IsTruncated: awsproto.Ptr(truncated), Marker: next}
	})
}

func groupsPage[R any](all []*entity, marker *string, maxItems *int32, out func([]Group, bool, *string) *R) (*R, error) {
	items, truncated, next, err := page(all, nameKey, marker, maxItems)
	if err != nil {
		return nil, err
	}
	gs := []Group{}
	for _, g := range items {
		gs = append(gs, groupOut(g))
	}
	return out(gs, truncated, next), nil
}

// membership runs fn on a group and a user in a write, after asking for action on the group.
func (s *Service) membership(ctx context.Context, group, user, action string, fn func(tx *store.Tx, g, u *entity) error) error {
	account, _ := caller(ctx)
	return s.st.Write(ctx, func(tx *store.Tx) error {
		g, err := mustEntity(tx, account, kindGroup, group)
		if err != nil {
			return err
		}
		u, err := mustEntity(tx, account, kindUser, user)
		if err != nil {
			return err
		}
		if err := s.allow(ctx, action, g.arn()); err != nil {
			return err
		}
		s.changed(tx, account)
		return fn(tx, g, u)
	})
}

func (s *Service) addUserToGroup(ctx context.Context, in *AddUserToGroupRequest) (*struct{}, error) {
	return &struct{}{}, s.membership(ctx, awsproto.Value(in.GroupName), awsproto.Value(in.UserName), "AddUserToGroup",
		func(tx *store.Tx, g, u *entity) error {
			n, err := count(tx, `SELECT COUNT(*) FROM iam_group_members WHERE user_id = ? AND group_id <> ?`, u.id, g.id)
			if err != nil {
				return err
			}
			if n >= maxGroupsPerUser {
				return limitExceeded("Cannot exceed quota for GroupsPerUser: %d", maxGroupsPerUser)
			}
			_, err = tx.Exec(`INSERT INTO iam_group_members (group_id, user_id) VALUES (?, ?) ON CONFLICT DO NOTHING`, g.id, u.id)
			return err
		})
}

func (s *Service) removeUserFromGroup(ctx context.Context, in *RemoveUserFromGroupRequest) (*struct{}, error) {
	return &struct{}{}, s.membership(ctx, awsproto.Value(in.GroupName), awsproto.Value(in.UserName), "RemoveUserFromGroup",
		func(tx *store.Tx, g, u *entity) error {
			res, err := tx.Exec(`DELETE FROM iam_group_members WHERE group_id = ? AND user_id = ?`, g.id, u.id)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return awsproto.Errorf("NoSuchEntity", 404, "The user with name %s cannot be found.", u.name)
			}
			return nil
		})
}

func (s *Service) listGroupsForUser(ctx context.Context, in *ListGroupsForUserRequest) (*ListGroupsForUserResponse, error) {
	account, _ := caller(ctx)
	q := s.read(ctx)
	u, err := mustEntity(q, account, kindUser, awsproto.Value(in.UserName))
	if err != nil {
		return nil, err
	}
	if err := s.allow(ctx, "ListGroupsForUser", u.arn()); err != nil {
		return nil, err
	}
	groups, err := userGroups(q, u.id)
	if err != nil {
		return nil, err
	}
	return groupsPage(groups, in.Marker, in.MaxItems, func(gs []Group, truncated bool, next *string) *ListGroupsForUserResponse {
		return &ListGroupsForUserResponse{Groups: gs, IsTruncated: awsproto.Ptr(truncated), Marker: next}
	})
}
