package s3

import (
	"context"
	"io"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kiri-run/kiri/internal/awsproto"
)

// copySource is a parsed x-amz-copy-source: "[/]bucket/key[?versionId=id]", key URL-encoded.
type copySource struct{ Bucket, Key, VersionID string }

// parseCopySource parses x-amz-copy-source as S3 does.
func parseCopySource(v string) (copySource, error) {
	bad := awsproto.Errorf("InvalidArgument", 400, "Invalid copy source object key")
	path, query, _ := strings.Cut(v, "?")
	path = strings.TrimPrefix(path, "/")
	b, k, ok := strings.Cut(path, "/")
	if !ok || b == "" || k == "" {
		return copySource{}, bad
	}
	key, err := url.PathUnescape(k)
	if err != nil || !utf8.ValidString(key) {
		return copySource{}, bad
	}
	bucketName, err := url.PathUnescape(b)
	if err != nil {
		return copySource{}, bad
	}
	src := copySource{Bucket: bucketName, Key: key}
	if query != "" {
		vals, err := url.ParseQuery(query)
		if err != nil {
			return copySource{}, bad
		}
		if id, ok := vals["versionId"]; ok {
			if len(id) == 0 || id[0] == "" {
				return copySource{}, errInvalidArgument("x-amz-copy-source", v, "Invalid version id specified")
			}
			src.VersionID = id[0]
		}
	}
	return src, nil
}

// loadCopySource reads the source version of a copy, applying the x-amz-copy-source-if-*
// conditions (any failure is 412, as S3 answers copies).
func (s *Service) loadCopySource(ctx context.Context, src copySource, cond preconditions) (object, bucket, error) {
	q := s.reader(ctx)
	b, err := s.authorizeObject(ctx, q, src.Bucket, src.Key, src.VersionID, versioned("s3:GetObject", src.VersionID))
	if err != nil {
		return object{}, bucket{}, err
	}
	o, err := loadObject(q, src.Bucket, src.Key, src.VersionID)
	if err != nil {
		return object{}, bucket{}, err
	}
	if o.DeleteMarker {
		if src.VersionID != "" {
			return object{}, bucket{}, awsproto.Errorf("InvalidRequest", 400,
				"The source of a copy request may not specifically refer to a delete marker by version id.")
		}
		return object{}, bucket{}, errNoSuchKey(src.Key)
	}
	if outcome, name := cond.evaluate(o.ETag, o.LastModified); outcome != conditionPass {
		return object{}, bucket{}, errPreconditionFailed("x-amz-copy-source-" + strings.ToLower(name))
	}
	return o, b, nil
}

func (s *Service) copyObject(ctx context.Context, in *CopyObjectRequest) (*CopyObjectOutput, error) {
	bucketName, key := awsproto.Value(in.Bucket), awsproto.Value(in.Key)
	if err := validateKey(key); err != nil {
		return nil, err
	}
	dst, err := s.authorizeObject(ctx, s.reader(ctx), bucketName, key, "", "s3:PutObject")
	if err != nil {
		return nil, err
	}
	acl := objectACLRequest(in.ACL, in.GrantFullControl, in.GrantRead, in.GrantReadACP, in.GrantWriteACP)
	if p, err := checkObjectACL(dst, ownerFor(dst, callerAccount(ctx), acl), acl); err != nil {
		return nil, err
	} else if err := blockPublicACL(s.reader(ctx), bucketName, p); err != nil {
		return nil, err
	}
	src, err := parseCopySource(awsproto.Value(in.CopySource))
	if err != nil {
		return nil, err
	}
	metaDirective := strings.ToUpper(awsproto.Value(in.MetadataDirective))
	tagDirective := strings.ToUpper(awsproto.Value(in.TaggingDirective))
	for _, d := range []struct{ name, v string }{{"x-amz-metadata-directive", metaDirective}, {"x-amz-tagging-directive", tagDirective}} {
		if d.v != "" && d.v != "COPY" && d.v != "REPLACE" {
			return nil, errInvalidArgument(d.name, d.v, "Unknown %s.", d.name)
		}
	}
	cond := writeCondition{IfMatch: awsproto.Value(in.IfMatch), IfNoneMatch: awsproto.Value(in.IfNoneMatch)}
	if err := cond.validate(); err != nil {
		return nil, err
	}
	class, err := validateStorageClass(in.StorageClass)
	if err != nil {
		return nil, err
	}
	srcObj, srcBucket, err := s.loadCopySource(ctx, src, preconditions{
		IfMatch: awsproto.Value(in.CopySourceIfMatch), IfNoneMatch: awsproto.Value(in.CopySourceIfNoneMatch),
		IfModifiedSince: in.CopySourceIfModifiedSince, IfUnmodifiedSince: in.CopySourceIfUnmodifiedSince,
	})
	if err != nil {
		return nil, err
	}
	h := callHeader(ctx)
	srcKey, err := checkReadSSE(h, ssecSourceHeaders, srcObj.Headers, false)
	if err != nil {
		return nil, err
	}
	sse, err := parseSSEWrite(ctx, h)
	if err != nil {
		return nil, err
	}
	changesSSE := sse.SSE != "" || sse.Customer.given() || srcObj.Headers.SSECKeyMD5 != ""
	if sse, err = s.withBucketDefault(ctx, s.reader(ctx), dst, sse); err != nil {
		return nil, err
	}
	// A copy onto itself that changes nothing is refused, unless it makes a new version: the
	// bucket keeps versions, or the source names the version to copy (restoring it).
	if !changesSSE && src.Bucket == bucketName && src.Key == key && src.VersionID == "" && dst.Versioning != versioningEnabled &&
		metaDirective != "REPLACE" && in.StorageClass == nil && in.WebsiteRedirectLocation == nil &&
		in.ServerSideEncryption == nil && in.SSEKMSKeyId == nil {
		return nil, awsproto.Errorf("InvalidRequest", 400, "This copy request is illegal because it is trying to copy an object to itself "+
			"without changing the object's metadata, storage class, website redirect location or encryption attributes.")
	}
	o, err := copiedVersion(in, srcObj, metaDirective == "REPLACE", tagDirective == "REPLACE")
	if err != nil {
		return nil, err
	}
	o.Owner, o.StorageClass, o.LastModified = callerAccount(ctx), class, s.now().UTC()
	sse.apply(&o.Headers)
	algos := copyChecksumAlgorithms(srcObj, awsproto.Value(in.ChecksumAlgorithm))
	if algos == nil {
		return nil, errUnsupportedChecksum()
	}
	bd, err := s.copyBody(ctx, srcObj, algos, srcKey, sse.Customer, o.Headers.SSECIV)
	if err != nil {
		return nil, err
	}
	w := objectWrite{Obj: o, Cond: cond, ACL: acl, Event: "ObjectCreated:Copy"}
	b, err := s.commitObject(ctx, &w, bd)
	if err != nil {
		return nil, err
	}
	return copyOutput(w.Obj, b, srcObj, srcBucket), nil
}

// copiedVersion is the new version a copy writes, without its bytes: the source's metadata,
// content headers and tags, or the request's where a directive says REPLACE.
func copiedVersion(in *CopyObjectRequest, src object, replaceMeta, replaceTags bool) (object, error) {
	o := object{Bucket: awsproto.Value(in.Bucket), Key: awsproto.Value(in.Key), Headers: src.Headers, Metadata: src.Metadata, Tags: src.Tags}
	if replaceMeta {
		if err := validateMetadata(in.Metadata); err != nil {
			return object{}, err
		}
		o.Metadata = in.Metadata
		o.Headers = objectHeaders{
			ContentType: awsproto.Value(in.ContentType), ContentEncoding: awsproto.Value(in.ContentEncoding),
			ContentDisposition: awsproto.Value(in.ContentDisposition), ContentLanguage: awsproto.Value(in.ContentLanguage),
			CacheControl: awsproto.Value(in.CacheControl), Expires: awsproto.Value(in.Expires),
		}
		if o.Headers.ContentType == "" {
			o.Headers.ContentType = "binary/octet-stream"
		}
	}
	o.Headers.WebsiteRedirect = awsproto.Value(in.WebsiteRedirectLocation)
	o.Headers.SSE, o.Headers.SSEKMSKeyID = awsproto.Value(in.ServerSideEncryption), awsproto.Value(in.SSEKMSKeyId)
	o.Headers.ChecksumType = "FULL_OBJECT"
	o.Headers.UploadID = "" // the copy is no upload's result: a retried Complete must not find it
	lock, err := parseLockHeaders(lockHeader(in.ObjectLockMode, in.ObjectLockRetainUntilDate, in.ObjectLockLegalHoldStatus), time.Now())
	if err != nil {
		return object{}, err
	}
	lock.apply(&o.Headers)
	if replaceTags {
		var err error
		if o.Tags, err = parseTaggingHeader(awsproto.Value(in.Tagging)); err != nil {
			return object{}, err
		}
	}
	return o, nil
}

// copyOutput is CopyObject's answer for the version o written into bucket b from src.
func copyOutput(o object, b bucket, src object, srcBucket bucket) *CopyObjectOutput {
	res := &CopyObjectResult{ETag: awsproto.Ptr(o.ETag), LastModified: awsproto.Ptr(o.LastModified)}
	setChecksumFields(o.Checksums, &res.ChecksumCRC32, &res.ChecksumCRC32C, &res.ChecksumCRC64NVME, &res.ChecksumSHA1, &res.ChecksumSHA256)
	if len(o.Checksums) > 0 {
		res.ChecksumType = awsproto.Ptr(o.Headers.ChecksumType)
	}
	out := &CopyObjectOutput{CopyObjectResult: res}
	if b.Versioning == versioningEnabled {
		out.VersionId = awsproto.Ptr(o.VersionID)
	}
	if srcBucket.Versioning != "" {
		out.CopySourceVersionId = awsproto.Ptr(src.VersionID)
	}
	setSSEFields(o.Headers, &out.ServerSideEncryption, &out.SSEKMSKeyId, &out.SSECustomerAlgorithm, &out.SSECustomerKeyMD5, &out.BucketKeyEnabled)
	return out
}

// copyChecksumAlgorithms picks the checksums a copy computes: the one asked for, else the
// source's full-object ones, else CRC64NVME. nil means the requested one is unknown.
func copyChecksumAlgorithms(src object, requested string) []string {
	if requested != "" {
		a := strings.ToUpper(requested)
		if _, ok := checksumSizes[a]; !ok {
			return nil
		}
		return []string{a}
	}
	var algos []string
	for a := range src.Checksums {
		if _, ok := checksumSizes[a]; ok {
			algos = append(algos, a)
		}
	}
	if len(algos) == 0 {
		algos = []string{algoCRC64NVME}
	}
	return algos
}

// copyBody stores a fresh copy of src's bytes (blobs are never shared between rows, so each
// row can free its own).
// srcKey decrypts an SSE-C source; dstKey and iv encrypt an SSE-C destination.
func (s *Service) copyBody(ctx context.Context, src object, algos []string, srcKey, dstKey customerKey, iv []byte) (body, error) {
	rc, err := s.openObjectKey(ctx, src, srcKey.Key, 0, src.Size)
	if err != nil {
		return body{}, err
	}
	defer rc.Close()
	enc, err := encrypter(dstKey, iv)
	if err != nil {
		return body{}, err
	}
	bd, err := s.storeBodyWith(ctx, io.LimitReader(rc, src.Size), enc, algos...)
	if err != nil {
		return body{}, err
	}
	if bd.Size != src.Size {
		s.discardBody(ctx, bd)
		return body{}, io.ErrUnexpectedEOF
	}
	return bd, nil
}
