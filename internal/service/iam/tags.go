package iam

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/store"
)

// maxTags is how many tags an IAM resource holds.
const maxTags = 50

var tagKeyPattern = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]+$`)
var tagValuePattern = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)

// checkTags validates tags as IAM does: keys unique ignoring case, IAM's characters.
func checkTags(tags []Tag) error {
	for i, t := range tags {
		k, v := awsproto.Value(t.Key), awsproto.Value(t.Value)
		if !tagKeyPattern.MatchString(k) {
			return validationError("1 validation error detected: Value '%s' at 'tags.%d.member.key' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+", k, i+1)
		}
		if !tagValuePattern.MatchString(v) {
			return validationError("1 validation error detected: Value '%s' at 'tags.%d.member.value' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*", v, i+1)
		}
		for _, u := range tags[:i] {
			if strings.EqualFold(awsproto.Value(u.Key), k) {
				return invalidInput("Duplicate tag keys found. Please note that Tag keys are case insensitive.")
			}
		}
	}
	if len(tags) > maxTags {
		return limitExceeded("The number of tags has reached the maximum limit.")
	}
	return nil
}

// loadTags returns an owner's tags, sorted by key.
func loadTags(q db, owner string) ([]Tag, error) {
	rows, err := q.Query(`SELECT tag_key, value FROM iam_tags WHERE owner = ?`, owner)
	if err != nil {
		return nil, fmt.Errorf("load tags: %w", err)
	}
	defer rows.Close()
	var out []Tag
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, err
		}
		out = append(out, Tag{Key: awsproto.Ptr(k), Value: awsproto.Ptr(v)})
	}
	slices.SortFunc(out, func(a, b Tag) int { return strings.Compare(*a.Key, *b.Key) })
	return out, rows.Err()
}

// tagMap is tags as principal tags.
func tagMap(tags []Tag) map[string]string {
	if len(tags) == 0 {
		return nil
	}
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		m[awsproto.Value(t.Key)] = awsproto.Value(t.Value)
	}
	return m
}

// addTags adds or replaces an owner's tags (keys compared ignoring case), within the quota.
func addTags(tx *store.Tx, owner string, tags []Tag) error {
	if err := checkTags(tags); err != nil {
		return err
	}
	existing, err := loadTags(tx, owner)
	if err != nil {
		return err
	}
	n := len(existing)
	for _, t := range tags {
		for _, e := range existing {
			if strings.EqualFold(*e.Key, *t.Key) {
				n--
				if _, err := tx.Exec(`DELETE FROM iam_tags WHERE owner = ? AND tag_key = ?`, owner, *e.Key); err != nil {
					return err
				}
			}
		}
		n++
		if _, err := tx.Exec(`INSERT INTO iam_tags (owner, tag_key, value) VALUES (?, ?, ?)`, owner, *t.Key, awsproto.Value(t.Value)); err != nil {
			return err
		}
	}
	if n > maxTags {
		return limitExceeded("The number of tags has reached the maximum limit.")
	}
	return nil
}

// removeTags deletes an owner's tags with the given keys (ignoring case).
func removeTags(tx *store.Tx, owner string, keys []string) error {
	existing, err := loadTags(tx, owner)
	if err != nil {
		return err
	}
	for _, e := range existing {
		if slices.ContainsFunc(keys, func(k string) bool { return strings.EqualFold(k, *e.Key) }) {
			if _, err := tx.Exec(`DELETE FROM iam_tags WHERE owner = ? AND tag_key = ?`, owner, *e.Key); err != nil {
				return err
			}
		}
	}
	return nil
}

// pageTags pages a tag list by key (ListUserTags and the like).
func pageTags(tags []Tag, marker *string, maxItems *int32) ([]Tag, bool, *string, error) {
	return page(tags, func(t Tag) string { return *t.Key }, marker, maxItems)
}
