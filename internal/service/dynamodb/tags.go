package dynamodb

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/store"
)

// maxTags is the most tags a table holds.
const maxTags = 50

// checkTags refuses tags DynamoDB refuses and returns them as a map.
func checkTags(tags []Tag) (map[string]string, error) {
	out := make(map[string]string, len(tags))
	for _, t := range tags {
		k := awsproto.Value(t.Key)
		if strings.HasPrefix(k, "aws:") {
			return nil, invalidParams("Tag keys beginning with aws: are reserved for system use")
		}
		if _, dup := out[k]; dup {
			return nil, invalidParams("Duplicate tag keys found in the request")
		}
		out[k] = awsproto.Value(t.Value)
	}
	if len(out) > maxTags {
		return nil, limitExceeded("One or more parameter values were invalid: The number of tags exceeds the limit of %d", maxTags)
	}
	return out, nil
}

func writeTags(tx *store.Tx, tableID int64, tags map[string]string) error {
	for k, v := range tags {
		if _, err := tx.Exec(`INSERT INTO ddb_tags (table_id, tag_key, value) VALUES (?, ?, ?)
			ON CONFLICT (table_id, tag_key) DO UPDATE SET value = excluded.value`, tableID, k, v); err != nil {
			return fmt.Errorf("write tags: %w", err)
		}
	}
	return nil
}

// tableTags reads a table's tags.
func (s *Service) tableTags(ctx context.Context, id int64) (map[string]string, error) {
	rows, err := s.st.Query(ctx, "SELECT tag_key, value FROM ddb_tags WHERE table_id = ?", id)
	if err != nil {
		return nil, fmt.Errorf("read tags: %w", err)
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

// taggedTable loads the table a ResourceArn names.
func (s *Service) taggedTable(ctx context.Context, resourceARN string) (*table, error) {
	account, region, name, ok := parseTableARN(resourceARN)
	if !ok || strings.Contains(strings.TrimPrefix(resourceARN[strings.Index(resourceARN, "table/"):], "table/"), "/") || checkTableName(name) != nil {
		return nil, validation("Invalid TableArn: Invalid ResourceArn provided as input " + resourceARN)
	}
	t, err := s.loadTable(ctx, tableKey{Account: account, Region: region, Name: name})
	if err != nil {
		return nil, err
	}
	if t == nil {
		return nil, awsproto.Errorf("ResourceNotFoundException", 400, "Requested resource not found: ResourcArn: %s not found", resourceARN)
	}
	return t, nil
}

func (s *Service) tagResource(ctx context.Context, in *TagResourceInput) (*struct{}, error) {
	tags, err := checkTags(in.Tags)
	if err != nil {
		return nil, err
	}
	t, err := s.taggedTable(ctx, awsproto.Value(in.ResourceArn))
	if err != nil {
		return nil, err
	}
	err = s.st.Write(ctx, func(tx *store.Tx) error {
		if _, err := s.liveTx(tx, t); err != nil {
			return err
		}
		if err := writeTags(tx, t.ID, tags); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow("SELECT COUNT(*) FROM ddb_tags WHERE table_id = ?", t.ID).Scan(&n); err != nil {
			return err
		}
		if n > maxTags {
			return limitExceeded("One or more parameter values were invalid: The number of tags exceeds the limit of %d", maxTags)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &struct{}{}, nil
}

func (s *Service) untagResource(ctx context.Context, in *UntagResourceInput) (*struct{}, error) {
	t, err := s.taggedTable(ctx, awsproto.Value(in.ResourceArn))
	if err != nil {
		return nil, err
	}
	err = s.st.Write(ctx, func(tx *store.Tx) error {
		for _, k := range in.TagKeys {
			if _, err := tx.Exec("DELETE FROM ddb_tags WHERE table_id = ? AND tag_key = ?", t.ID, k); err != nil {
				return fmt.Errorf("untag: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &struct{}{}, nil
}

func (s *Service) listTagsOfResource(ctx context.Context, in *ListTagsOfResourceInput) (*ListTagsOfResourceOutput, error) {
	t, err := s.taggedTable(ctx, awsproto.Value(in.ResourceArn))
	if err != nil {
		return nil, err
	}
	tags, err := s.tableTags(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := &ListTagsOfResourceOutput{Tags: []Tag{}}
	for _, k := range keys {
		out.Tags = append(out.Tags, Tag{Key: awsproto.Ptr(k), Value: awsproto.Ptr(tags[k])})
	}
	return out, nil
}
