package scheduler

import (
	"context"
	"strings"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/store"
)

// maxTags is the most tags a schedule group may have.
const maxTags = 50

// taggedGroup reads the group a tagging call's ARN names (only schedule groups take tags).
func taggedGroup(ctx context.Context, arn string) (scope, string, error) {
	sc := scopeOf(ctx)
	name, ok := strings.CutPrefix(arn, sc.groupARN(""))
	if !ok || name == "" {
		return sc, "", notFound("Schedule group %s does not exist.", arn)
	}
	return sc, name, nil
}

// updateTags changes a group's tags with f within one write.
func (s *Service) updateTags(ctx context.Context, arn string, f func(tags map[string]string) error) error {
	sc, name, err := taggedGroup(ctx, arn)
	if err != nil {
		return err
	}
	return wrap("tag schedule group", s.st.Write(ctx, func(tx *store.Tx) error {
		g, err := s.requireGroup(tx.QueryRow, sc, name)
		if err != nil {
			return err
		}
		if err := f(g.tags); err != nil {
			return err
		}
		g.modified = s.now().UTC()
		return putGroup(tx, sc, g)
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
			return validation("A schedule group can have at most %d tags.", maxTags)
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
	sc, name, err := taggedGroup(ctx, awsproto.Value(in.ResourceArn))
	if err != nil {
		return nil, err
	}
	g, err := s.requireGroup(s.reader(ctx), sc, name)
	if err != nil {
		return nil, wrap("list tags", err)
	}
	return &ListTagsForResourceOutput{Tags: tagList(g.tags)}, nil
}
