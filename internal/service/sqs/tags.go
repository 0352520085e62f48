package sqs

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/kiri-run/kiri/internal/store"
)

// maxTags is the most tags a queue has.
const maxTags = 50

// checkTags refuses tags a queue that has n tags already cannot take.
func checkTags(queue string, tags map[string]string, n int) error {
	for k, v := range tags {
		switch {
		case k == "" || utf8.RuneCountInString(k) > 128:
			return invalidParameter("Tag keys must be between 1 and 128 characters in length.")
		case strings.HasPrefix(strings.ToLower(k), "aws:"):
			return invalidParameter("Tag keys must not start with aws:, which is reserved for AWS use.")
		case utf8.RuneCountInString(v) > 256:
			return invalidParameter("Tag values must be between 0 and 256 characters in length.")
		}
	}
	if n+len(tags) > maxTags {
		return invalidParameter("Too many tags added for queue %s.", queue)
	}
	return nil
}

// putTags sets tags of a queue, replacing values of keys it has.
func putTags(tx *store.Tx, queueID int64, tags map[string]string) error {
	for _, k := range sortedKeys(tags) {
		if _, err := tx.Exec(`INSERT INTO sqs_tags (queue_id, tag_key, value) VALUES (?, ?, ?)
			ON CONFLICT (queue_id, tag_key) DO UPDATE SET value = excluded.value`, queueID, k, tags[k]); err != nil {
			return fmt.Errorf("tag queue: %w", err)
		}
	}
	return nil
}

func (s *Service) tagQueue(ctx context.Context, in *TagQueueRequest) (*struct{}, error) {
	q, err := s.queueFromURL(ctx, in.QueueUrl)
	if err != nil {
		return nil, err
	}
	if err := checkTags(q.Key.Name, in.Tags, 0); err != nil {
		return nil, err
	}
	return nil, s.st.Write(ctx, func(tx *store.Tx) error {
		if err := putTags(tx, q.ID, in.Tags); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow("SELECT COUNT(*) FROM sqs_tags WHERE queue_id = ?", q.ID).Scan(&n); err != nil {
			return err
		}
		if n > maxTags {
			return invalidParameter("Too many tags added for queue %s.", q.Key.Name)
		}
		return nil
	})
}

func (s *Service) untagQueue(ctx context.Context, in *UntagQueueRequest) (*struct{}, error) {
	q, err := s.queueFromURL(ctx, in.QueueUrl)
	if err != nil {
		return nil, err
	}
	return nil, s.st.Write(ctx, func(tx *store.Tx) error {
		for _, k := range in.TagKeys {
			if _, err := tx.Exec("DELETE FROM sqs_tags WHERE queue_id = ? AND tag_key = ?", q.ID, k); err != nil {
				return fmt.Errorf("untag queue: %w", err)
			}
		}
		return nil
	})
}

func (s *Service) listQueueTags(ctx context.Context, in *ListQueueTagsRequest) (*ListQueueTagsResult, error) {
	q, err := s.queueFromURL(ctx, in.QueueUrl)
	if err != nil {
		return nil, err
	}
	rows, err := s.st.Query(ctx, "SELECT tag_key, value FROM sqs_tags WHERE queue_id = ?", q.ID)
	if err != nil {
		return nil, fmt.Errorf("list queue tags: %w", err)
	}
	defer rows.Close()
	out := &ListQueueTagsResult{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, fmt.Errorf("list queue tags: %w", err)
		}
		if out.Tags == nil {
			out.Tags = map[string]string{}
		}
		out.Tags[k] = v
	}
	return out, rows.Err()
}
