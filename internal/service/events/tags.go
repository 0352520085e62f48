package events

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/store"
)

// maxTags is the quota of tags per resource.
const maxTags = 50

// checkTags refuses tags EventBridge refuses and returns them as a map.
func checkTags(tags []Tag) (map[string]string, error) {
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		k := awsproto.Value(t.Key)
		if strings.HasPrefix(k, "aws:") {
			return nil, validation("Invalid tag key: tag keys starting with aws: are reserved.")
		}
		m[k] = awsproto.Value(t.Value)
	}
	if len(m) > maxTags {
		return nil, limitExceeded("The requested resource exceeds the maximum number allowed.")
	}
	return m, nil
}

func setTags(tx *store.Tx, arn string, tags map[string]string) error {
	for k, v := range tags {
		if _, err := tx.Exec("DELETE FROM events_tags WHERE arn = ? AND tag_key = ?", arn, k); err != nil {
			return err
		}
		if _, err := tx.Exec("INSERT INTO events_tags (arn, tag_key, value) VALUES (?, ?, ?)", arn, k, v); err != nil {
			return fmt.Errorf("tag %s: %w", arn, err)
		}
	}
	var n int
	if err := tx.QueryRow("SELECT COUNT(*) FROM events_tags WHERE arn = ?", arn).Scan(&n); err != nil {
		return err
	}
	if n > maxTags {
		return limitExceeded("The requested resource exceeds the maximum number allowed.")
	}
	return nil
}

// taggable checks that arn names a bus or rule of the caller that exists, and returns it.
func (s *Service) taggable(ctx context.Context, q querier, arn string) error {
	account, region := callerScope(ctx)
	if k, ok := parseBusARN(arn); ok {
		if k.Account != account || k.Region != region {
			return busNotFound(k.Name)
		}
		_, err := mustBus(q, k)
		return err
	}
	if k, name, ok := parseRuleARN(arn); ok {
		if k.Account != account || k.Region != region {
			return ruleNotFound(name, k.Name)
		}
		_, err := mustRule(q, k, name)
		return err
	}
	return validation("Parameter %s is not valid. Reason: Provided Arn is not in correct format.", arn)
}

func (s *Service) tagResource(ctx context.Context, in *TagResourceRequest) (*TagResourceResponse, error) {
	arn := awsproto.Value(in.ResourceARN)
	tags, err := checkTags(in.Tags)
	if err != nil {
		return nil, err
	}
	err = s.st.Write(ctx, func(tx *store.Tx) error {
		if err := s.taggable(ctx, tx, arn); err != nil {
			return err
		}
		return setTags(tx, arn, tags)
	})
	if err != nil {
		return nil, err
	}
	return &TagResourceResponse{}, nil
}

func (s *Service) untagResource(ctx context.Context, in *UntagResourceRequest) (*UntagResourceResponse, error) {
	arn := awsproto.Value(in.ResourceARN)
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		if err := s.taggable(ctx, tx, arn); err != nil {
			return err
		}
		for _, k := range in.TagKeys {
			if _, err := tx.Exec("DELETE FROM events_tags WHERE arn = ? AND tag_key = ?", arn, k); err != nil {
				return err
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
	arn := awsproto.Value(in.ResourceARN)
	q := s.reader(ctx)
	if err := s.taggable(ctx, q, arn); err != nil {
		return nil, err
	}
	tags, err := loadTags(q, arn)
	if err != nil {
		return nil, err
	}
	out := &ListTagsForResourceResponse{Tags: []Tag{}}
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		out.Tags = append(out.Tags, Tag{Key: awsproto.Ptr(k), Value: awsproto.Ptr(tags[k])})
	}
	return out, nil
}

func loadTags(q querier, arn string) (map[string]string, error) {
	rows, err := q.Query("SELECT tag_key, value FROM events_tags WHERE arn = ?", arn)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	tags := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, err
		}
		tags[k] = v
	}
	return tags, rows.Err()
}
