package sns

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/store"
)

// maxTags is the most tags a topic has.
const maxTags = 50

// checkTags validates a request's tags and returns them as a map.
func checkTags(tags []Tag) (map[string]string, error) {
	out := make(map[string]string, len(tags))
	for _, t := range tags {
		k, v := awsproto.Value(t.Key), awsproto.Value(t.Value)
		switch {
		case k == "" || utf8.RuneCountInString(k) > 128:
			return nil, invalidReason("Tags", "Tag keys must be between 1 and 128 characters in length.")
		case strings.HasPrefix(strings.ToLower(k), "aws:"):
			return nil, invalidReason("Tags", "Tag keys must not start with aws:, which is reserved for AWS use.")
		case utf8.RuneCountInString(v) > 256:
			return nil, invalidReason("Tags", "Tag values must be between 0 and 256 characters in length.")
		}
		if _, dup := out[k]; dup {
			return nil, invalidParameter("Duplicated keys are not allowed.")
		}
		out[k] = v
	}
	if len(out) > maxTags {
		return nil, tagLimitExceeded()
	}
	return out, nil
}

func tagLimitExceeded() *awsproto.Error {
	return awsproto.Errorf("TagLimitExceeded", 400, "Could not complete request: tag quota of per resource exceeded")
}

func resourceNotFound() *awsproto.Error {
	return awsproto.Errorf("ResourceNotFound", 404, "Resource does not exist")
}

// putTags sets tags of a topic, replacing values of keys it has.
func putTags(tx *store.Tx, topicID int64, tags map[string]string) error {
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		if _, err := tx.Exec(`INSERT INTO sns_topic_tags (topic_id, tag_key, value) VALUES (?, ?, ?)
			ON CONFLICT (topic_id, tag_key) DO UPDATE SET value = excluded.value`, topicID, k, tags[k]); err != nil {
			return fmt.Errorf("tag topic: %w", err)
		}
	}
	return nil
}

// loadTags reads a topic's tags inside a write.
func loadTags(tx *store.Tx, topicID int64) (map[string]string, error) {
	rows, err := tx.Query("SELECT tag_key, value FROM sns_topic_tags WHERE topic_id = ?", topicID)
	if err != nil {
		return nil, fmt.Errorf("read topic tags: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, err
		}
		out[k] = v
	}
	return out, rows.Err()
}

// taggedTopic resolves the topic a tagging call names; a topic that does not exist is
// ResourceNotFound.
func (s *Service) taggedTopic(ctx context.Context, arn *string, action string) (*topicRow, error) {
	t, err := s.topicFromARN(ctx, "ResourceArn", arn, action)
	var ae *awsproto.Error
	if errors.As(err, &ae) && ae.Code == "NotFound" {
		return nil, resourceNotFound()
	}
	return t, err
}

func (s *Service) tagResource(ctx context.Context, in *TagResourceRequest) (*TagResourceResponse, error) {
	t, err := s.taggedTopic(ctx, in.ResourceArn, "TagResource")
	if err != nil {
		return nil, err
	}
	tags, err := checkTags(in.Tags)
	if err != nil {
		return nil, err
	}
	err = s.st.Write(ctx, func(tx *store.Tx) error {
		if err := putTags(tx, t.ID, tags); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow("SELECT COUNT(*) FROM sns_topic_tags WHERE topic_id = ?", t.ID).Scan(&n); err != nil {
			return err
		}
		if n > maxTags {
			return tagLimitExceeded()
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &TagResourceResponse{}, nil
}

func (s *Service) untagResource(ctx context.Context, in *UntagResourceRequest) (*UntagResourceResponse, error) {
	t, err := s.taggedTopic(ctx, in.ResourceArn, "UntagResource")
	if err != nil {
		return nil, err
	}
	err = s.st.Write(ctx, func(tx *store.Tx) error {
		for _, k := range in.TagKeys {
			if _, err := tx.Exec("DELETE FROM sns_topic_tags WHERE topic_id = ? AND tag_key = ?", t.ID, k); err != nil {
				return fmt.Errorf("untag topic: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &UntagResourceResponse{}, nil
}

func (s *Service) listTagsForResource(ctx context.Context, in *ListTagsForResourceRequest) (*ListTagsForResourceResponse, error) {
	t, err := s.taggedTopic(ctx, in.ResourceArn, "ListTagsForResource")
	if err != nil {
		return nil, err
	}
	rows, err := s.st.Query(ctx, "SELECT tag_key, value FROM sns_topic_tags WHERE topic_id = ? ORDER BY tag_key", t.ID)
	if err != nil {
		return nil, fmt.Errorf("list topic tags: %w", err)
	}
	defer rows.Close()
	out := &ListTagsForResourceResponse{Tags: []Tag{}}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, err
		}
		out.Tags = append(out.Tags, Tag{Key: awsproto.Ptr(k), Value: awsproto.Ptr(v)})
	}
	return out, rows.Err()
}
