package pipes

import (
	"context"
	"maps"
	"strings"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/store"
)

// parsePipeARN reads a pipe ARN: arn:aws:pipes:REGION:ACCOUNT:pipe/NAME.
func parsePipeARN(arn string) (account, region, name string, ok bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "pipes" || !strings.HasPrefix(parts[5], "pipe/") {
		return "", "", "", false
	}
	return parts[4], parts[3], strings.TrimPrefix(parts[5], "pipe/"), true
}

// taggedPipe loads the caller's pipe a resource ARN names, or NotFoundException.
func (s *Service) taggedPipe(ctx context.Context, q rowQuerier, arn string) (*pipe, error) {
	account, region, name, ok := parsePipeARN(arn)
	caller, callRegion := callScope(ctx)
	if !ok || account != caller || region != callRegion {
		return nil, awsproto.Errorf("NotFoundException", 404, "Resource %s does not exist.", arn)
	}
	p, err := loadPipe(q, account, region, name)
	if err == nil && p == nil {
		err = awsproto.Errorf("NotFoundException", 404, "Resource %s does not exist.", arn)
	}
	return p, err
}

// editTags changes a pipe's tags; they take no transition.
func (s *Service) editTags(ctx context.Context, arn string, edit func(map[string]string)) error {
	return s.deps.Store.Write(ctx, func(tx *store.Tx) error {
		p, err := s.taggedPipe(ctx, tx, arn)
		if err != nil {
			return err
		}
		tags := maps.Clone(p.Tags)
		if tags == nil {
			tags = map[string]string{}
		}
		edit(tags)
		if len(tags) > maxTags {
			return invalidField("tags", "Number of tags exceeds the limit of %d.", maxTags)
		}
		p.Tags = tags
		return savePipe(tx, p)
	})
}

func (s *Service) tagResource(ctx context.Context, in *TagResourceRequest) (*TagResourceResponse, error) {
	err := s.editTags(ctx, awsproto.Value(in.ResourceArn), func(tags map[string]string) { maps.Copy(tags, in.Tags) })
	if err != nil {
		return nil, err
	}
	return &TagResourceResponse{}, nil
}

func (s *Service) untagResource(ctx context.Context, in *UntagResourceRequest) (*UntagResourceResponse, error) {
	err := s.editTags(ctx, awsproto.Value(in.ResourceArn), func(tags map[string]string) {
		for _, k := range in.TagKeys {
			delete(tags, k)
		}
	})
	if err != nil {
		return nil, err
	}
	return &UntagResourceResponse{}, nil
}

func (s *Service) listTagsForResource(ctx context.Context, in *ListTagsForResourceRequest) (*ListTagsForResourceResponse, error) {
	p, err := s.taggedPipe(ctx, s.reader(ctx), awsproto.Value(in.ResourceArn))
	if err != nil {
		return nil, err
	}
	tags := p.Tags
	if tags == nil {
		tags = map[string]string{}
	}
	return &ListTagsForResourceResponse{Tags: tags}, nil
}
