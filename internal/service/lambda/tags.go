package lambda

import (
	"context"
	"maps"
	"strings"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/store"
)

// maxTags is AWS's limit of tags per function.
const maxTags = 50

// tagNetwork with value "none" runs a function's instances without network access.
const tagNetwork = "kiri:network"

func (s *Service) registerTagOps() {
	awsproto.Handle(s.api, "TagResource", s.tagResource)
	awsproto.Handle(s.api, "UntagResource", s.untagResource)
	awsproto.Handle(s.api, "ListTags", s.listTags)
}

func checkTags(tags map[string]string) error {
	if len(tags) > maxTags {
		return invalidParameter("Number of tags exceeds resource tag limit.")
	}
	for k, v := range tags {
		if k == "" || len(k) > 128 || len(v) > 256 {
			return invalidParameter("An error occurred while validating tags: tag keys must be 1-128 characters and values at most 256.")
		}
		if strings.HasPrefix(strings.ToLower(k), "aws:") {
			return invalidParameter("Tag keys cannot start with the reserved prefix 'aws:'")
		}
	}
	return nil
}

// taggable resolves a TagResource/UntagResource/ListTags ARN: an unqualified function ARN, or
// an event source mapping's ARN (returned as esm).
func (s *Service) taggable(ctx context.Context, resource *string) (r funcRef, esm string, err error) {
	arn := awsproto.Value(resource)
	if !strings.HasPrefix(arn, "arn:") || (strings.Contains(arn, ":event-source-mapping:") && !isMappingARN(arn)) {
		return funcRef{}, "", validation("Value '" + arn + "' at 'resource' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*):lambda:[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:\\d{12}:(function:[a-zA-Z0-9-_]+(:(\\$LATEST|[a-zA-Z0-9-_]+))?|code-signing-config:csc-[a-z0-9]{17}|event-source-mapping:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|capacity-provider:[a-zA-Z0-9-_]+)")
	}
	if isMappingARN(arn) {
		return funcRef{}, arn, nil
	}
	r, err = s.ref(ctx, resource, nil)
	if err != nil {
		return r, "", err
	}
	if r.qualifier != "" {
		return r, "", invalidParameter("Tags on function aliases and versions are not supported. Please specify a function ARN.")
	}
	return r, "", nil
}

// isMappingARN reports whether arn is arn:aws:lambda:<region>:<account>:event-source-mapping:<uuid>.
func isMappingARN(arn string) bool {
	parts := strings.Split(arn, ":")
	return len(parts) == 7 && strings.HasPrefix(parts[1], "aws") && parts[2] == "lambda" && validRegion(parts[3]) &&
		validAccount(parts[4]) && parts[5] == "event-source-mapping" && isUUID(parts[6])
}

// isUUID reports whether s is a UUID in its 8-4-4-4-12 hex form.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if s[i] != '-' {
				return false
			}
		case !(s[i] >= '0' && s[i] <= '9' || s[i] >= 'a' && s[i] <= 'f' || s[i] >= 'A' && s[i] <= 'F'):
			return false
		}
	}
	return true
}

func (s *Service) tagResource(ctx context.Context, in *TagResourceRequest) (*struct{}, error) {
	r, esm, err := s.taggable(ctx, in.Resource)
	if err != nil {
		return nil, err
	}
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	edit := func(tags map[string]string) { maps.Copy(tags, in.Tags) }
	if esm != "" {
		err = s.changeMappingTags(ctx, esm, edit)
	} else {
		err = s.changeTags(ctx, r, edit)
	}
	if err != nil {
		return nil, err
	}
	return &struct{}{}, nil
}

func (s *Service) untagResource(ctx context.Context, in *UntagResourceRequest) (*struct{}, error) {
	r, esm, err := s.taggable(ctx, in.Resource)
	if err != nil {
		return nil, err
	}
	edit := func(tags map[string]string) {
		for _, k := range in.TagKeys {
			delete(tags, k)
		}
	}
	if esm != "" {
		err = s.changeMappingTags(ctx, esm, edit)
	} else {
		err = s.changeTags(ctx, r, edit)
	}
	if err != nil {
		return nil, err
	}
	return &struct{}{}, nil
}

// changeTags edits a function's tags; a change to the network tag retires running instances.
func (s *Service) changeTags(ctx context.Context, r funcRef, edit func(map[string]string)) error {
	var drain bool
	err := s.write(ctx, func(tx *store.Tx) error {
		row, err := loadFunction(tx, r)
		if err != nil {
			return err
		}
		if row.Tags == nil {
			row.Tags = map[string]string{}
		}
		before := row.Tags[tagNetwork]
		edit(row.Tags)
		if len(row.Tags) > maxTags {
			return invalidParameter("Number of tags exceeds resource tag limit.")
		}
		drain = before != row.Tags[tagNetwork]
		return saveFunction(tx, r, row)
	})
	if err == nil && drain {
		s.drain(r)
	}
	return err
}

func (s *Service) listTags(ctx context.Context, in *ListTagsRequest) (*ListTagsResponse, error) {
	r, esm, err := s.taggable(ctx, in.Resource)
	if err != nil {
		return nil, err
	}
	var tags map[string]string
	if esm != "" {
		m, err := s.mappingTagsOf(ctx, s.reader(ctx), esm)
		if err != nil {
			return nil, err
		}
		tags = m.Tags
	} else {
		row, err := loadFunction(s.reader(ctx), r)
		if err != nil {
			return nil, err
		}
		tags = row.Tags
	}
	if tags == nil {
		tags = map[string]string{}
	}
	return &ListTagsResponse{Tags: tags}, nil
}
