package s3

import (
	"bytes"
	"context"
	"io"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/iam/authz"
)

// Other Kiri services read and write objects acting as a role (Step Functions' Distributed Map
// reads its items and writes its results as the state machine's role): the calls below run
// S3's own operations under that role, so its policies and the buckets' decide as for any
// caller.

// asRole is ctx carrying a call of account and region made by role.
func asRole(ctx context.Context, account, region, role, op string) context.Context {
	call := &awsproto.Call{AccountID: account, Region: region, Operation: op}
	if p, ok := authz.RolePrincipal(role, ""); ok {
		call.PrincipalARN, call.ParentARN = p.ARN, role
	}
	return awsproto.WithCall(ctx, call)
}

// GetObjectAs reads an object's bytes as role.
func (s *Service) GetObjectAs(ctx context.Context, account, region, role, bucket, key, versionID string) ([]byte, error) {
	in := &GetObjectRequest{Bucket: &bucket, Key: &key}
	if versionID != "" {
		in.VersionId = &versionID
	}
	out, err := s.getObject(asRole(ctx, account, region, role, "GetObject"), in)
	if err != nil {
		return nil, err
	}
	if c, ok := out.Body.(io.Closer); ok {
		defer c.Close()
	}
	if out.Body == nil {
		return nil, nil
	}
	return io.ReadAll(out.Body)
}

// PutObjectAs writes an object as role.
func (s *Service) PutObjectAs(ctx context.Context, account, region, role, bucket, key string, body []byte, contentType string) error {
	n := int64(len(body))
	in := &PutObjectRequest{Bucket: &bucket, Key: &key, Body: bytes.NewReader(body), ContentLength: &n}
	if contentType != "" {
		in.ContentType = &contentType
	}
	_, err := s.putObject(asRole(ctx, account, region, role, "PutObject"), in)
	return err
}

// ListObjectsV2As lists one page of a bucket's objects under prefix as role, from the
// continuation token given (none for the first page), calling each for every object; next is
// "" on the last page.
func (s *Service) ListObjectsV2As(ctx context.Context, account, region, role, bucket, prefix, token string,
	each func(key, etag string, modified time.Time, size int64, class string)) (next string, err error) {
	in := &ListObjectsV2Request{Bucket: &bucket}
	if prefix != "" {
		in.Prefix = &prefix
	}
	if token != "" {
		in.ContinuationToken = &token
	}
	out, err := s.listObjectsV2(asRole(ctx, account, region, role, "ListObjectsV2"), in)
	if err != nil {
		return "", err
	}
	for _, o := range out.Contents {
		each(awsproto.Value(o.Key), awsproto.Value(o.ETag), awsproto.Value(o.LastModified), awsproto.Value(o.Size), awsproto.Value(o.StorageClass))
	}
	if awsproto.Value(out.IsTruncated) {
		next = awsproto.Value(out.NextContinuationToken)
	}
	return next, nil
}
