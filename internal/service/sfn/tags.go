package sfn

import (
	"context"
	"sort"
	"strings"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/store"
)

// maxTags is the most tags a resource may have.
const maxTags = 50

// tagMap reads a request's tags, refusing keys AWS reserves.
func tagMap(tags []Tag) (map[string]string, error) {
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		k := awsproto.Value(t.Key)
		if strings.HasPrefix(strings.ToLower(k), "aws:") {
			return nil, validation("Tag keys starting with 'aws:' are reserved for system use.")
		}
		m[k] = awsproto.Value(t.Value)
	}
	if len(m) > maxTags {
		return nil, apiError("TooManyTags", "Too many tags: a resource can have at most %d tags.", maxTags)
	}
	return m, nil
}

// tagList is a tag map as the API returns it, sorted by key.
func tagList(m map[string]string) []Tag {
	out := make([]Tag, 0, len(m))
	for k, v := range m {
		out = append(out, Tag{Key: awsproto.Ptr(k), Value: awsproto.Ptr(v)})
	}
	sort.Slice(out, func(i, j int) bool { return *out[i].Key < *out[j].Key })
	return out
}

// tagged is a resource that takes tags: a state machine or an activity.
type tagged struct {
	table string
	tags  func() map[string]string
	put   func(tx *store.Tx) error
}

// loadTagged reads the state machine or activity arn names.
func loadTagged(q rowQuery, arn string) (*tagged, error) {
	r, ok := parseARN(arn)
	if !ok {
		return nil, invalidARN(arn)
	}
	switch {
	case r.kind == "stateMachine" && len(r.rest) == 0:
		m, err := loadMachine(q, arn)
		if err != nil || m == nil {
			return nil, err
		}
		return &tagged{tags: func() map[string]string { return m.Tags }, put: func(tx *store.Tx) error { return putMachine(tx, r.scope, m) }}, nil
	case r.kind == "activity" && len(r.rest) == 0:
		a, err := loadActivity(q, arn)
		if err != nil || a == nil {
			return nil, err
		}
		return &tagged{tags: func() map[string]string { return a.Tags }, put: func(tx *store.Tx) error { return putActivity(tx, r.scope, a) }}, nil
	}
	return nil, invalidARN(arn)
}

// resourceTags are the tags of the state machine or activity arn names, for IAM conditions.
func (s *Service) resourceTags(ctx context.Context, arn string) map[string]string {
	t, err := loadTagged(s.reader(ctx), arn)
	if err != nil || t == nil {
		return nil
	}
	return t.tags()
}

// updateTags changes a resource's tags with f within one write.
func (s *Service) updateTags(ctx context.Context, arn string, f func(tags map[string]string) error) error {
	return wrap("tag resource", s.st.Write(ctx, func(tx *store.Tx) error {
		t, err := loadTagged(tx.QueryRow, arn)
		if err != nil {
			return err
		}
		if t == nil {
			return resourceNotFound(arn)
		}
		if err := f(t.tags()); err != nil {
			return err
		}
		return t.put(tx)
	}))
}

func (s *Service) tagResource(ctx context.Context, in *TagResourceInput) (*TagResourceOutput, error) {
	add, err := tagMap(in.Tags)
	if err != nil {
		return nil, err
	}
	err = s.updateTags(ctx, awsproto.Value(in.ResourceArn), func(tags map[string]string) error {
		for k, v := range add {
			tags[k] = v
		}
		if len(tags) > maxTags {
			return apiError("TooManyTags", "Too many tags: a resource can have at most %d tags.", maxTags)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &TagResourceOutput{}, nil
}

func (s *Service) untagResource(ctx context.Context, in *UntagResourceInput) (*UntagResourceOutput, error) {
	err := s.updateTags(ctx, awsproto.Value(in.ResourceArn), func(tags map[string]string) error {
		for _, k := range in.TagKeys {
			delete(tags, k)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &UntagResourceOutput{}, nil
}

func (s *Service) listTagsForResource(ctx context.Context, in *ListTagsForResourceInput) (*ListTagsForResourceOutput, error) {
	arn := awsproto.Value(in.ResourceArn)
	t, err := loadTagged(s.reader(ctx), arn)
	if err != nil {
		return nil, wrap("list tags", err)
	}
	if t == nil {
		return nil, resourceNotFound(arn)
	}
	return &ListTagsForResourceOutput{Tags: tagList(t.tags())}, nil
}
