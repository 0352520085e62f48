package s3

import (
	"context"
	"net/url"
	"strings"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/store"
)

// Object tag limits S3 enforces.
const (
	maxObjectTags  = 10
	maxTagKeyLen   = 128
	maxTagValueLen = 256
)

// parseTaggingHeader parses x-amz-tagging ("k1=v1&k2=v2", URL-encoded), keeping the order sent.
func parseTaggingHeader(v string) ([]tag, error) {
	if v == "" {
		return nil, nil
	}
	var tags []tag
	for _, kv := range strings.Split(v, "&") {
		if kv == "" {
			continue
		}
		k, val, _ := strings.Cut(kv, "=")
		key, err1 := url.QueryUnescape(k)
		value, err2 := url.QueryUnescape(val)
		if err1 != nil || err2 != nil {
			return nil, awsproto.Errorf("InvalidArgument", 400, "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.")
		}
		tags = append(tags, tag{Key: key, Value: value})
	}
	return tags, validateObjectTags(tags)
}

// validateObjectTags applies S3's object tag rules.
func validateObjectTags(tags []tag) error {
	if len(tags) > maxObjectTags {
		return awsproto.Errorf("BadRequest", 400, "Object tags cannot be greater than 10")
	}
	seen := make(map[string]bool, len(tags))
	for _, t := range tags {
		switch {
		case t.Key == "":
			return errInvalidTag("The TagKey you have provided is invalid")
		case len([]rune(t.Key)) > maxTagKeyLen:
			return errInvalidTag("The TagKey you have provided is too long, max 128")
		case len([]rune(t.Value)) > maxTagValueLen:
			return errInvalidTag("The TagValue you have provided is too long, max 256")
		case strings.HasPrefix(strings.ToLower(t.Key), "aws:"):
			return errInvalidTag("Your TagKey cannot be prefixed with aws:")
		case seen[t.Key]:
			return errInvalidTag("Cannot provide multiple Tags with the same key")
		}
		seen[t.Key] = true
	}
	return nil
}

func errInvalidTag(msg string) *awsproto.Error {
	return awsproto.Errorf("InvalidTag", 400, "%s", msg)
}

func tagSet(tags []tag) []Tag {
	out := make([]Tag, 0, len(tags))
	for _, t := range tags {
		out = append(out, Tag{Key: awsproto.Ptr(t.Key), Value: awsproto.Ptr(t.Value)})
	}
	return out
}

// taggedVersion loads the object version a tagging request addresses; a delete marker has no
// tags (405 by version id, 404 as the latest).
func taggedVersion(q querier, bucketName, key, versionID string) (object, error) {
	return loadLiveVersion(q, bucketName, key, versionID, "GET")
}

func (s *Service) setObjectTags(ctx context.Context, bucketName, key, versionID string, tags []tag) (string, error) {
	var version string
	var versioning string
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		b, err := s.authorizeObject(ctx, tx, bucketName, key, versionID, versioned(operationAction(ctx), versionID))
		if err != nil {
			return err
		}
		versioning = b.Versioning
		o, err := taggedVersion(tx, bucketName, key, versionID)
		if err != nil {
			return err
		}
		version = o.VersionID
		_, err = tx.Exec(`UPDATE s3_objects SET tags = ? WHERE bucket = ? AND okey = ? AND version_id = ?`,
			mustJSON(tags), bucketName, key, o.VersionID)
		return err
	})
	if err != nil || versioning == "" {
		return "", err
	}
	return version, nil
}

func (s *Service) putObjectTagging(ctx context.Context, in *PutObjectTaggingRequest) (*PutObjectTaggingOutput, error) {
	if in.Tagging == nil {
		return nil, errMalformedXML()
	}
	tags := make([]tag, 0, len(in.Tagging.TagSet))
	for _, t := range in.Tagging.TagSet {
		if t.Key == nil || t.Value == nil {
			return nil, errMalformedXML()
		}
		tags = append(tags, tag{Key: *t.Key, Value: *t.Value})
	}
	if err := validateObjectTags(tags); err != nil {
		return nil, err
	}
	v, err := s.setObjectTags(ctx, awsproto.Value(in.Bucket), awsproto.Value(in.Key), awsproto.Value(in.VersionId), tags)
	if err != nil {
		return nil, err
	}
	out := &PutObjectTaggingOutput{}
	if v != "" {
		out.VersionId = awsproto.Ptr(v)
	}
	return out, nil
}

func (s *Service) getObjectTagging(ctx context.Context, in *GetObjectTaggingRequest) (*GetObjectTaggingOutput, error) {
	q := s.reader(ctx)
	b, err := s.authorizeObject(ctx, q, awsproto.Value(in.Bucket), awsproto.Value(in.Key), awsproto.Value(in.VersionId),
		versioned("s3:GetObjectTagging", awsproto.Value(in.VersionId)))
	if err != nil {
		return nil, err
	}
	o, err := taggedVersion(q, b.Name, awsproto.Value(in.Key), awsproto.Value(in.VersionId))
	if err != nil {
		return nil, err
	}
	out := &GetObjectTaggingOutput{TagSet: tagSet(o.Tags)}
	if b.Versioning != "" {
		out.VersionId = awsproto.Ptr(o.VersionID)
	}
	return out, nil
}

func (s *Service) deleteObjectTagging(ctx context.Context, in *DeleteObjectTaggingRequest) (*DeleteObjectTaggingOutput, error) {
	v, err := s.setObjectTags(ctx, awsproto.Value(in.Bucket), awsproto.Value(in.Key), awsproto.Value(in.VersionId), nil)
	if err != nil {
		return nil, err
	}
	out := &DeleteObjectTaggingOutput{}
	if v != "" {
		out.VersionId = awsproto.Ptr(v)
	}
	return out, nil
}
