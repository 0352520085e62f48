package apigateway

import (
	"context"
	"strings"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/store"
)

// maxTags is the most tags a resource may have.
const maxTags = 50

// taggable is an API or stage named by its ARN: arn:aws:apigateway:REGION::/apis/ID or
// arn:aws:apigateway:REGION::/apis/ID/stages/NAME.
type taggable struct {
	sc           scope
	apiID, stage string
}

func parseTaggable(ctx context.Context, arn string) (taggable, error) {
	sc := scopeOf(ctx)
	prefix := "arn:aws:apigateway:" + sc.region + "::/apis/"
	rest, ok := strings.CutPrefix(arn, prefix)
	if !ok || rest == "" {
		return taggable{}, badRequest("Invalid resource ARN: %s", arn)
	}
	id, tail, _ := strings.Cut(rest, "/")
	t := taggable{sc: sc, apiID: id}
	if tail != "" {
		name, ok := strings.CutPrefix(tail, "stages/")
		if !ok || name == "" || strings.Contains(name, "/") {
			return taggable{}, badRequest("Tags are supported on APIs and stages only: %s", arn)
		}
		t.stage = name
	}
	return t, nil
}

// update changes the resource's tags with f within one write, and returns them.
func (s *Service) updateTags(ctx context.Context, arn string, f func(tags map[string]string) error) (map[string]string, error) {
	t, err := parseTaggable(ctx, arn)
	if err != nil {
		return nil, err
	}
	var tags map[string]string
	err = s.st.Write(ctx, func(tx *store.Tx) error {
		if t.stage == "" {
			a, err := requireAPI(tx.QueryRow, t.sc, t.apiID)
			if err != nil {
				return err
			}
			if a.Tags == nil {
				a.Tags = map[string]string{}
			}
			if err := f(a.Tags); err != nil {
				return err
			}
			tags = a.Tags
			return putDoc(tx, t.sc, t.apiID, kindAPI, t.apiID, a)
		}
		var st Stage
		if err := requireStage(tx.QueryRow, t.sc, t.apiID, t.stage, &st); err != nil {
			return err
		}
		if st.Tags == nil {
			st.Tags = map[string]string{}
		}
		if err := f(st.Tags); err != nil {
			return err
		}
		tags = st.Tags
		return putDoc(tx, t.sc, t.apiID, kindStage, t.stage, &st)
	})
	return tags, wrap("tags", err)
}

func (s *Service) tagResource(ctx context.Context, in *TagResourceRequest) (*TagResourceResponse, error) {
	for k, v := range in.Tags {
		if k == "" || len(k) > 128 || len(v) > 256 || strings.HasPrefix(k, "aws:") {
			return nil, badRequest("Invalid tag: a key is 1 to 128 characters not starting with aws:, a value at most 256")
		}
	}
	_, err := s.updateTags(ctx, awsproto.Value(in.ResourceArn), func(tags map[string]string) error {
		for k, v := range in.Tags {
			tags[k] = v
		}
		if len(tags) > maxTags {
			return badRequest("A resource may have at most %d tags", maxTags)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &TagResourceResponse{}, nil
}

func (s *Service) untagResource(ctx context.Context, in *UntagResourceRequest) (*struct{}, error) {
	_, err := s.updateTags(ctx, awsproto.Value(in.ResourceArn), func(tags map[string]string) error {
		for _, k := range in.TagKeys {
			delete(tags, k)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &struct{}{}, nil
}

func (s *Service) getTags(ctx context.Context, in *GetTagsRequest) (*GetTagsResponse, error) {
	t, err := parseTaggable(ctx, awsproto.Value(in.ResourceArn))
	if err != nil {
		return nil, err
	}
	q := storeRow(ctx, s.st)
	if t.stage == "" {
		a, err := requireAPI(q, t.sc, t.apiID)
		if err != nil {
			return nil, wrap("get tags", err)
		}
		return &GetTagsResponse{Tags: nonNil(a.Tags)}, nil
	}
	var st Stage
	if err := requireStage(q, t.sc, t.apiID, t.stage, &st); err != nil {
		return nil, wrap("get tags", err)
	}
	return &GetTagsResponse{Tags: nonNil(st.Tags)}, nil
}

func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}
