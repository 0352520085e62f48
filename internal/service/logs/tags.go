package logs

import (
	"context"
	"fmt"
	"strings"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/store"
)

// maxTags is how many tags one log group may carry.
const maxTags = 50

// checkTags rejects tag keys in the reserved aws: namespace.
func checkTags(tags map[string]string) error {
	for k := range tags {
		if strings.HasPrefix(strings.ToLower(k), "aws:") {
			return invalidParameter("Tag keys beginning with 'aws:' are reserved for system use: %s", k)
		}
	}
	return nil
}

// putTags upserts tags on group gid and enforces the per-group limit.
func putTags(tx *store.Tx, gid int64, tags map[string]string) error {
	for k, v := range tags {
		if _, err := tx.Exec(`INSERT INTO logs_tags (group_id, tag_key, value) VALUES (?, ?, ?)
			ON CONFLICT (group_id, tag_key) DO UPDATE SET value = excluded.value`, gid, k, v); err != nil {
			return err
		}
	}
	var n int
	if err := tx.QueryRow(`SELECT COUNT(*) FROM logs_tags WHERE group_id = ?`, gid).Scan(&n); err != nil {
		return err
	}
	if n > maxTags {
		return &awsproto.Error{Code: "TooManyTagsException", Status: 400,
			Message: fmt.Sprintf("A resource can have no more than %d tags.", maxTags)}
	}
	return nil
}

// groupByARN looks up the caller's log group named by a resource ARN (with or without ":*").
func (s *Service) groupByARN(ctx context.Context, arn string) (group, error) {
	account, region, name, ok := parseGroupARN(arn)
	if !ok {
		return group{}, invalidParameter("Invalid resource ARN: %s", arn)
	}
	c := awsproto.CallFrom(ctx)
	if account != c.AccountID || region != c.Region {
		return group{}, groupNotFound()
	}
	return s.lookupGroup(ctx, account, region, name)
}

func (s *Service) tag(ctx context.Context, g group, tags map[string]string) error {
	if err := checkTags(tags); err != nil {
		return err
	}
	err := s.st.Write(ctx, func(tx *store.Tx) error { return putTags(tx, g.id, tags) })
	return wrapStoreError("tag log group", err)
}

func (s *Service) untag(ctx context.Context, g group, keys []string) error {
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		for _, k := range keys {
			if _, err := tx.Exec(`DELETE FROM logs_tags WHERE group_id = ? AND tag_key = ?`, g.id, k); err != nil {
				return err
			}
		}
		return nil
	})
	return wrapStoreError("untag log group", err)
}

func (s *Service) tagsOf(ctx context.Context, g group) (map[string]string, error) {
	rows, err := s.st.Query(ctx, `SELECT tag_key, value FROM logs_tags WHERE group_id = ?`, g.id)
	if err != nil {
		return nil, fmt.Errorf("list tags: %w", err)
	}
	defer rows.Close()
	tags := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, fmt.Errorf("list tags: %w", err)
		}
		tags[k] = v
	}
	return tags, rows.Err()
}

func (s *Service) tagResource(ctx context.Context, in *TagResourceRequest) (*struct{}, error) {
	g, err := s.groupByARN(ctx, awsproto.Value(in.ResourceArn))
	if err != nil {
		return nil, err
	}
	if err := s.tag(ctx, g, in.Tags); err != nil {
		return nil, err
	}
	return &struct{}{}, nil
}

func (s *Service) untagResource(ctx context.Context, in *UntagResourceRequest) (*struct{}, error) {
	g, err := s.groupByARN(ctx, awsproto.Value(in.ResourceArn))
	if err != nil {
		return nil, err
	}
	if err := s.untag(ctx, g, in.TagKeys); err != nil {
		return nil, err
	}
	return &struct{}{}, nil
}

func (s *Service) listTagsForResource(ctx context.Context, in *ListTagsForResourceRequest) (*ListTagsForResourceResponse, error) {
	g, err := s.groupByARN(ctx, awsproto.Value(in.ResourceArn))
	if err != nil {
		return nil, err
	}
	tags, err := s.tagsOf(ctx, g)
	if err != nil {
		return nil, err
	}
	return &ListTagsForResourceResponse{Tags: tags}, nil
}

func (s *Service) tagLogGroup(ctx context.Context, in *TagLogGroupRequest) (*struct{}, error) {
	g, err := s.callerGroup(ctx, awsproto.Value(in.LogGroupName))
	if err != nil {
		return nil, err
	}
	if err := s.tag(ctx, g, in.Tags); err != nil {
		return nil, err
	}
	return &struct{}{}, nil
}

func (s *Service) untagLogGroup(ctx context.Context, in *UntagLogGroupRequest) (*struct{}, error) {
	g, err := s.callerGroup(ctx, awsproto.Value(in.LogGroupName))
	if err != nil {
		return nil, err
	}
	if err := s.untag(ctx, g, in.Tags); err != nil {
		return nil, err
	}
	return &struct{}{}, nil
}

func (s *Service) listTagsLogGroup(ctx context.Context, in *ListTagsLogGroupRequest) (*ListTagsLogGroupResponse, error) {
	g, err := s.callerGroup(ctx, awsproto.Value(in.LogGroupName))
	if err != nil {
		return nil, err
	}
	tags, err := s.tagsOf(ctx, g)
	if err != nil {
		return nil, err
	}
	return &ListTagsLogGroupResponse{Tags: tags}, nil
}
