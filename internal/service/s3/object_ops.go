package s3

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/store"
)

// maxKeyLength is the longest object key S3 accepts, in UTF-8 bytes.
const maxKeyLength = 1024

// maxMetadataSize bounds the user metadata (keys and values) of an object, as S3 does.
const maxMetadataSize = 2 << 10

// maxPutSize is the largest object a single PUT may carry.
const maxPutSize = 5 << 30

// storageClasses are the storage classes S3 accepts on writes.
var storageClasses = map[string]bool{
	"STANDARD": true, "REDUCED_REDUNDANCY": true, "STANDARD_IA": true, "ONEZONE_IA": true,
	"INTELLIGENT_TIERING": true, "GLACIER": true, "DEEP_ARCHIVE": true, "OUTPOSTS": true,
	"GLACIER_IR": true, "SNOW": true, "EXPRESS_ONEZONE": true,
}

// registerObjectOps registers the object operations.
func (s *Service) registerObjectOps() {
	awsproto.Handle(s.api, "PutObject", s.putObject)
	awsproto.Handle(s.api, "GetObject", s.getObject)
	awsproto.Handle(s.api, "HeadObject", s.headObject)
	awsproto.Handle(s.api, "DeleteObject", s.deleteObject)
	awsproto.Handle(s.api, "DeleteObjects", s.deleteObjects)
	awsproto.Handle(s.api, "CopyObject", s.copyObject)
	awsproto.Handle(s.api, "ListObjects", s.listObjects)
	awsproto.Handle(s.api, "ListObjectsV2", s.listObjectsV2)
	awsproto.Handle(s.api, "ListObjectVersions", s.listObjectVersions)
	awsproto.Handle(s.api, "PutObjectTagging", s.putObjectTagging)
	awsproto.Handle(s.api, "GetObjectTagging", s.getObjectTagging)
	awsproto.Handle(s.api, "DeleteObjectTagging", s.deleteObjectTagging)
	awsproto.Handle(s.api, "GetObjectAttributes", s.getObjectAttributes)
}

// callHeader returns the request headers of the call in ctx (empty when there is none).
func callHeader(ctx context.Context) http.Header {
	if c := awsproto.CallFrom(ctx); c != nil && c.Request != nil {
		return c.Request.Header
	}
	return http.Header{}
}

// setResponseHeader adds a header to the response of the call in ctx, errors included.
func setResponseHeader(ctx context.Context, name, value string) {
	c := awsproto.CallFrom(ctx)
	if c == nil {
		return
	}
	if c.ResponseHeader == nil {
		c.ResponseHeader = http.Header{}
	}
	c.ResponseHeader.Set(name, value)
}

func setResponseStatus(ctx context.Context, status int) {
	if c := awsproto.CallFrom(ctx); c != nil {
		c.Status = status
	}
}

func validateKey(key string) error {
	if len(key) > maxKeyLength {
		return &awsproto.Error{Code: "KeyTooLongError", Message: "Your key is too long", Status: 400,
			Fields: map[string]string{"Size": strconv.Itoa(len(key)), "MaxSizeAllowed": strconv.Itoa(maxKeyLength)}}
	}
	if key == "" {
		return errInvalidArgument("key", "", "A key must be specified")
	}
	if !utf8.ValidString(key) {
		// Keys are UTF-8; the codec refuses others in a URI this way, and a POST form's the same.
		return awsproto.Errorf("InvalidURI", 400, "Couldn't parse the specified URI.")
	}
	return nil
}

func validateMetadata(m map[string]string) error {
	n := 0
	for k, v := range m {
		n += len(k) + len(v)
	}
	if n > maxMetadataSize {
		return &awsproto.Error{Code: "MetadataTooLarge", Status: 400,
			Message: "Your metadata headers exceed the maximum allowed metadata size",
			Fields:  map[string]string{"Size": strconv.Itoa(n), "MaxSizeAllowed": strconv.Itoa(maxMetadataSize)}}
	}
	return nil
}

func validateStorageClass(sc *string) (string, error) {
	if sc == nil || *sc == "" {
		return "STANDARD", nil
	}
	if !storageClasses[*sc] {
		return "", awsproto.Errorf("InvalidStorageClass", 400, "The storage class you specified is not valid")
	}
	return *sc, nil
}

// writeCondition is a conditional write's If-Match / If-None-Match, checked in the write's
// transaction against the key's current version.
type writeCondition struct{ IfMatch, IfNoneMatch string }

func (w writeCondition) check(tx *store.Tx, bucketName, key string) error {
	if w.IfMatch == "" && w.IfNoneMatch == "" {
		return nil
	}
	cur, err := loadObject(tx, bucketName, key, "")
	exists := err == nil && !cur.DeleteMarker
	if err != nil && !isCode(err, "NoSuchKey") {
		return err
	}
	if w.IfNoneMatch != "" && exists && etagMatches(w.IfNoneMatch, cur.ETag) {
		return errPreconditionFailed("If-None-Match")
	}
	if w.IfMatch != "" {
		if !exists {
			return errNoSuchKey(key)
		}
		if !etagMatches(w.IfMatch, cur.ETag) {
			return errPreconditionFailed("If-Match")
		}
	}
	return nil
}

func (w writeCondition) validate() error {
	if w.IfNoneMatch != "" && strings.TrimSpace(w.IfNoneMatch) != "*" {
		return awsproto.Errorf("NotImplemented", http.StatusNotImplemented,
			"A header you provided implies functionality that is not implemented")
	}
	return nil
}

func isCode(err error, code string) bool {
	var ae *awsproto.Error
	return errors.As(err, &ae) && ae.Code == code
}

func (s *Service) putObject(ctx context.Context, in *PutObjectRequest) (*PutObjectOutput, error) {
	w, want, err := s.preparePut(ctx, in)
	if err != nil {
		return nil, err
	}
	var r io.Reader = http.NoBody
	if in.Body != nil {
		r = in.Body
	}
	bd, err := s.storeWriteBody(ctx, w, r, want.algorithms()...)
	if err != nil {
		return nil, bodyError(err)
	}
	if err := want.verify(bd, callRequest(ctx)); err != nil {
		s.discardBody(ctx, bd)
		return nil, err
	}
	b, err := s.commitObject(ctx, &w, bd)
	if err != nil {
		return nil, err
	}
	o := w.Obj
	out := &PutObjectOutput{ETag: awsproto.Ptr(o.ETag), Size: awsproto.Ptr(o.Size)}
	s.setExpirationHeader(ctx, b, &o)
	if b.Versioning == versioningEnabled {
		out.VersionId = awsproto.Ptr(o.VersionID)
	}
	setSSEFields(o.Headers, &out.ServerSideEncryption, &out.SSEKMSKeyId, &out.SSECustomerAlgorithm, &out.SSECustomerKeyMD5, &out.BucketKeyEnabled)
	if o.Headers.SSEKMSContext != "" {
		out.SSEKMSEncryptionContext = awsproto.Ptr(o.Headers.SSEKMSContext)
	}
	setChecksumFields(o.Checksums, &out.ChecksumCRC32, &out.ChecksumCRC32C, &out.ChecksumCRC64NVME, &out.ChecksumSHA1, &out.ChecksumSHA256)
	if len(o.Checksums) > 0 {
		out.ChecksumType = awsproto.Ptr(o.Headers.ChecksumType)
	}
	return out, nil
}

// objectWrite is a validated object write: the version to add, and the condition, ACL and
// event its transaction applies.
type objectWrite struct {
	Obj   object
	Key   customerKey // SSE-C key the body is encrypted with
	Cond  writeCondition
	ACL   aclRequest
	Event string
}

// preparePut validates a PutObject before any of its body is read.
func (s *Service) preparePut(ctx context.Context, in *PutObjectRequest) (objectWrite, integrity, error) {
	bucketName, key := awsproto.Value(in.Bucket), awsproto.Value(in.Key)
	if err := validateKey(key); err != nil {
		return objectWrite{}, integrity{}, err
	}
	b, err := s.authorizeObject(ctx, s.reader(ctx), bucketName, key, "", "s3:PutObject")
	if err != nil {
		return objectWrite{}, integrity{}, err
	}
	w := objectWrite{
		Cond:  writeCondition{IfMatch: awsproto.Value(in.IfMatch), IfNoneMatch: awsproto.Value(in.IfNoneMatch)},
		ACL:   objectACLRequest(in.ACL, in.GrantFullControl, in.GrantRead, in.GrantReadACP, in.GrantWriteACP),
		Event: "ObjectCreated:Put",
		Obj: object{Bucket: bucketName, Key: key, Owner: callerAccount(ctx), Metadata: in.Metadata, LastModified: s.now().UTC(),
			Headers: objectHeaders{
				ContentType: awsproto.Value(in.ContentType), ContentEncoding: stripAWSChunked(awsproto.Value(in.ContentEncoding)),
				ContentDisposition: awsproto.Value(in.ContentDisposition), ContentLanguage: awsproto.Value(in.ContentLanguage),
				CacheControl: awsproto.Value(in.CacheControl), Expires: awsproto.Value(in.Expires),
				WebsiteRedirect: awsproto.Value(in.WebsiteRedirectLocation), SSE: awsproto.Value(in.ServerSideEncryption),
				SSEKMSKeyID: awsproto.Value(in.SSEKMSKeyId), ChecksumType: "FULL_OBJECT",
			}},
	}
	if w.Obj.Headers.ContentType == "" {
		w.Obj.Headers.ContentType = "binary/octet-stream"
	}
	if p, err := checkObjectACL(b, ownerFor(b, w.Obj.Owner, w.ACL), w.ACL); err != nil {
		return objectWrite{}, integrity{}, err
	} else if err := blockPublicACL(s.reader(ctx), bucketName, p); err != nil {
		return objectWrite{}, integrity{}, err
	}
	if err := w.Cond.validate(); err != nil {
		return objectWrite{}, integrity{}, err
	}
	h := callHeader(ctx)
	if n := declaredLength(h, in.ContentLength); n > maxPutSize {
		return objectWrite{}, integrity{}, &awsproto.Error{Code: "EntityTooLarge", Status: 400, Message: "Your proposed upload exceeds the maximum allowed size",
			Fields: map[string]string{"ProposedSize": strconv.FormatInt(n, 10), "MaxSizeAllowed": strconv.FormatInt(maxPutSize, 10)}}
	}
	if w.Obj.Tags, err = parseTaggingHeader(awsproto.Value(in.Tagging)); err != nil {
		return objectWrite{}, integrity{}, err
	}
	if err := validateMetadata(in.Metadata); err != nil {
		return objectWrite{}, integrity{}, err
	}
	if w.Obj.StorageClass, err = validateStorageClass(in.StorageClass); err != nil {
		return objectWrite{}, integrity{}, err
	}
	lock, err := parseLockHeaders(h, s.now())
	if err != nil {
		return objectWrite{}, integrity{}, err
	}
	if err := checkLockWrite(ctx, lock); err != nil {
		return objectWrite{}, integrity{}, err
	}
	lock.apply(&w.Obj.Headers)
	sse, err := parseSSEWrite(ctx, h)
	if err != nil {
		return objectWrite{}, integrity{}, err
	}
	if sse, err = s.withBucketDefault(ctx, s.reader(ctx), b, sse); err != nil {
		return objectWrite{}, integrity{}, err
	}
	sse.apply(&w.Obj.Headers)
	w.Key = sse.Customer
	want, err := parseIntegrity(h, in.ContentMD5, in.ChecksumAlgorithm)
	return w, want, err
}

// commitObject adds w.Obj, with its stored body bd, as the newest version of its key: one
// transaction checks the write condition, writes the row and its ACL, and emits the event.
// The caller must have authorized the write (s3:PutObject) already. On failure the body is
// discarded.
func (s *Service) commitObject(ctx context.Context, w *objectWrite, bd body) (bucket, error) {
	o := &w.Obj
	o.Size, o.ETag, o.Checksums, o.Inline, o.BlobKey = bd.Size, bd.ETag, bd.Sums, bd.Inline, bd.BlobKey
	var b bucket
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		var err error
		// Every caller decided access before storing the body; the transaction re-reads only
		// the bucket, whose versioning state the new version follows.
		if b, err = s.loadBucketInTx(tx, o.Bucket); err != nil {
			return err
		}
		o.Owner = ownerFor(b, o.Owner, w.ACL)
		if err := w.Cond.check(tx, o.Bucket, o.Key); err != nil {
			return err
		}
		if err := applyObjectLock(tx, b, o, s.now()); err != nil {
			return err
		}
		if err := claimBlob(tx, o.BlobKey); err != nil {
			return err
		}
		if err := s.putVersion(tx, b.Versioning, o); err != nil {
			return err
		}
		if err := applyObjectACL(tx, b, o, w.ACL); err != nil {
			return err
		}
		return s.emit(ctx, tx, b, w.Event, o)
	})
	if err != nil {
		s.discardBody(ctx, bd)
		return bucket{}, err
	}
	return b, nil
}

// objectACLRequest gathers the ACL headers of an object write.
func objectACLRequest(canned, fullControl, read, readACP, writeACP *string) aclRequest {
	return aclRequest{Canned: awsproto.Value(canned), FullControl: awsproto.Value(fullControl), Read: awsproto.Value(read),
		ReadACP: awsproto.Value(readACP), WriteACP: awsproto.Value(writeACP)}
}

// stripAWSChunked drops the aws-chunked transfer coding from a stored Content-Encoding.
func stripAWSChunked(ce string) string {
	if !strings.Contains(ce, "aws-chunked") {
		return ce
	}
	var keep []string
	for _, p := range strings.Split(ce, ",") {
		if p = strings.TrimSpace(p); p != "" && p != "aws-chunked" {
			keep = append(keep, p)
		}
	}
	return strings.Join(keep, ",")
}

// declaredLength is the object size a request announces (decoded length for aws-chunked).
func declaredLength(h http.Header, contentLength *int64) int64 {
	if v := h.Get("X-Amz-Decoded-Content-Length"); v != "" {
		n, _ := strconv.ParseInt(v, 10, 64)
		return n
	}
	return awsproto.Value(contentLength)
}

func callRequest(ctx context.Context) *http.Request {
	if c := awsproto.CallFrom(ctx); c != nil {
		return c.Request
	}
	return nil
}

// bodyError maps a failure to read a request body to the client's error: an *awsproto.Error
// (a bad chunk signature) as it is, anything else as IncompleteBody.
func bodyError(err error) error {
	var ae *awsproto.Error
	if errors.As(err, &ae) {
		return ae
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return awsproto.Errorf("IncompleteBody", 400, "You did not provide the number of bytes specified by the Content-Length HTTP header")
	}
	return err
}

// setChecksumFields copies stored checksums into an output's checksum members.
func setChecksumFields(sums map[string]string, crc32, crc32c, crc64, sha1, sha256 **string) {
	for algo, dst := range map[string]**string{algoCRC32: crc32, algoCRC32C: crc32c, algoCRC64NVME: crc64, algoSHA1: sha1, algoSHA256: sha256} {
		if v, ok := sums[algo]; ok {
			*dst = awsproto.Ptr(v)
		}
	}
}

// readRequest is what GetObject and HeadObject share.
type readRequest struct {
	Bucket, Key, VersionID string
	Conditions             preconditions
	Range                  string
	PartNumber             *int32
	ChecksumMode           string
	Overrides              objectHeaders
	ResponseExpires        *time.Time
	WithBody               bool
}

func (s *Service) getObject(ctx context.Context, in *GetObjectRequest) (*GetObjectOutput, error) {
	return s.readObject(ctx, readRequest{
		Bucket: awsproto.Value(in.Bucket), Key: awsproto.Value(in.Key), VersionID: awsproto.Value(in.VersionId),
		Conditions: preconditions{IfMatch: awsproto.Value(in.IfMatch), IfNoneMatch: awsproto.Value(in.IfNoneMatch),
			IfModifiedSince: in.IfModifiedSince, IfUnmodifiedSince: in.IfUnmodifiedSince},
		Range: awsproto.Value(in.Range), PartNumber: in.PartNumber, ChecksumMode: awsproto.Value(in.ChecksumMode),
		Overrides: objectHeaders{ContentType: awsproto.Value(in.ResponseContentType), ContentEncoding: awsproto.Value(in.ResponseContentEncoding),
			ContentDisposition: awsproto.Value(in.ResponseContentDisposition), ContentLanguage: awsproto.Value(in.ResponseContentLanguage),
			CacheControl: awsproto.Value(in.ResponseCacheControl)},
		ResponseExpires: in.ResponseExpires,
		WithBody:        true,
	})
}

func (s *Service) headObject(ctx context.Context, in *HeadObjectRequest) (*HeadObjectOutput, error) {
	g, err := s.readObject(ctx, readRequest{
		Bucket: awsproto.Value(in.Bucket), Key: awsproto.Value(in.Key), VersionID: awsproto.Value(in.VersionId),
		Conditions: preconditions{IfMatch: awsproto.Value(in.IfMatch), IfNoneMatch: awsproto.Value(in.IfNoneMatch),
			IfModifiedSince: in.IfModifiedSince, IfUnmodifiedSince: in.IfUnmodifiedSince},
		Range: awsproto.Value(in.Range), PartNumber: in.PartNumber, ChecksumMode: awsproto.Value(in.ChecksumMode),
		Overrides: objectHeaders{ContentType: awsproto.Value(in.ResponseContentType), ContentEncoding: awsproto.Value(in.ResponseContentEncoding),
			ContentDisposition: awsproto.Value(in.ResponseContentDisposition), ContentLanguage: awsproto.Value(in.ResponseContentLanguage),
			CacheControl: awsproto.Value(in.ResponseCacheControl)},
		ResponseExpires: in.ResponseExpires,
	})
	if err != nil {
		return nil, err
	}
	return &HeadObjectOutput{
		AcceptRanges: g.AcceptRanges, CacheControl: g.CacheControl,
		ChecksumCRC32: g.ChecksumCRC32, ChecksumCRC32C: g.ChecksumCRC32C, ChecksumCRC64NVME: g.ChecksumCRC64NVME,
		ChecksumSHA1: g.ChecksumSHA1, ChecksumSHA256: g.ChecksumSHA256, ChecksumType: g.ChecksumType,
		ContentDisposition: g.ContentDisposition, ContentEncoding: g.ContentEncoding, ContentLanguage: g.ContentLanguage,
		ContentLength: g.ContentLength, ContentRange: g.ContentRange, ContentType: g.ContentType, DeleteMarker: g.DeleteMarker,
		ETag: g.ETag, Expires: g.Expires, LastModified: g.LastModified, Metadata: g.Metadata, PartsCount: g.PartsCount,
		SSEKMSKeyId: g.SSEKMSKeyId, ServerSideEncryption: g.ServerSideEncryption, StorageClass: g.StorageClass,
		TagCount: g.TagCount, VersionId: g.VersionId, WebsiteRedirectLocation: g.WebsiteRedirectLocation,
		ObjectLockMode: g.ObjectLockMode, ObjectLockRetainUntilDate: g.ObjectLockRetainUntilDate,
		ObjectLockLegalHoldStatus: g.ObjectLockLegalHoldStatus, BucketKeyEnabled: g.BucketKeyEnabled,
		SSECustomerAlgorithm: g.SSECustomerAlgorithm, SSECustomerKeyMD5: g.SSECustomerKeyMD5,
	}, nil
}

// readObject serves GetObject and HeadObject: version and delete-marker rules, preconditions,
// ranges and part numbers, and the stored headers with any response-* overrides.
func (s *Service) readObject(ctx context.Context, r readRequest) (*GetObjectOutput, error) {
	q := s.reader(ctx)
	b, err := s.authorizeObject(ctx, q, r.Bucket, r.Key, r.VersionID, versioned("s3:GetObject", r.VersionID))
	if err != nil {
		return nil, err
	}
	o, err := loadObject(q, r.Bucket, r.Key, r.VersionID)
	if err != nil {
		return nil, err
	}
	if o.DeleteMarker {
		setResponseHeader(ctx, "x-amz-delete-marker", "true")
		setResponseHeader(ctx, "x-amz-version-id", o.VersionID)
		if r.VersionID != "" {
			setResponseHeader(ctx, "Allow", "DELETE")
			return nil, errDeleteMarkerMethod(callMethod(ctx))
		}
		return nil, errNoSuchKey(r.Key)
	}
	if err := authorizeForeignObject(ctx, q, b, &o, versioned("s3:GetObject", r.VersionID)); err != nil {
		return nil, err
	}
	key, err := checkReadSSE(callHeader(ctx), ssecHeaders, o.Headers, true)
	if err != nil {
		return nil, err
	}
	if r.PartNumber != nil && r.Range != "" {
		return nil, awsproto.Errorf("InvalidRequest", 400, "Cannot specify both Range header and partNumber query parameter")
	}
	out := &GetObjectOutput{
		ETag: awsproto.Ptr(o.ETag), LastModified: awsproto.Ptr(o.LastModified), AcceptRanges: awsproto.Ptr("bytes"),
	}
	if b.Versioning != "" {
		out.VersionId = awsproto.Ptr(o.VersionID)
	}
	switch outcome, cond := r.Conditions.evaluate(o.ETag, o.LastModified); outcome {
	case conditionFailed:
		return nil, errPreconditionFailed(cond)
	case conditionNotModified:
		setResponseStatus(ctx, http.StatusNotModified)
		return out, nil
	}
	offset, length, sums, err := s.selectBytes(ctx, r, o, out)
	if err != nil {
		return nil, err
	}
	fillObjectHeaders(out, o, r)
	if o.IsLatest {
		s.setExpirationHeader(ctx, b, &o)
	}
	setLockOutput(out, o.Headers)
	setSSEFields(o.Headers, &out.ServerSideEncryption, &out.SSEKMSKeyId, &out.SSECustomerAlgorithm, &out.SSECustomerKeyMD5, &out.BucketKeyEnabled)
	setMetadataHeaders(ctx, o.Metadata)
	out.ContentLength = awsproto.Ptr(length)
	if strings.EqualFold(r.ChecksumMode, "ENABLED") && sums != nil {
		setChecksumFields(sums, &out.ChecksumCRC32, &out.ChecksumCRC32C, &out.ChecksumCRC64NVME, &out.ChecksumSHA1, &out.ChecksumSHA256)
		if o.Headers.ChecksumType != "" && len(sums) > 0 {
			out.ChecksumType = awsproto.Ptr(o.Headers.ChecksumType)
		}
	}
	if r.WithBody {
		rc, err := s.openObjectKey(ctx, o, key.Key, offset, length)
		if err != nil {
			return nil, err
		}
		out.Body = rc
	}
	return out, nil
}

// selectBytes works out which bytes of o a read returns (a Range, a part, or all of it),
// setting the 206 status and Content-Range, and which checksums describe those bytes (nil: none).
func (s *Service) selectBytes(ctx context.Context, r readRequest, o object, out *GetObjectOutput) (offset, length int64, sums map[string]string, err error) {
	if r.PartNumber != nil {
		n := int(*r.PartNumber)
		if n < 1 || n > 10000 {
			return 0, 0, nil, errInvalidArgument("partNumber", strconv.Itoa(n), "Part number must be an integer between 1 and 10000, inclusive")
		}
		if n > max(len(o.Parts), 1) {
			return 0, 0, nil, awsproto.Errorf("InvalidPartNumber", http.StatusRequestedRangeNotSatisfiable, "The requested partnumber is not satisfiable")
		}
		// A part is a ranged read, answered 206 with its Content-Range; an object not
		// uploaded in parts is one part (S3 then sends no x-amz-mp-parts-count).
		length, sums = o.Size, o.Checksums
		if len(o.Parts) > 0 {
			for _, p := range o.Parts[:n-1] {
				offset += p.Size
			}
			length, sums = o.Parts[n-1].Size, o.Parts[n-1].Checksums
			out.PartsCount = awsproto.Ptr(int32(len(o.Parts)))
		}
		out.ContentRange = awsproto.Ptr(byteRange{offset, length}.contentRange(o.Size))
		setResponseStatus(ctx, http.StatusPartialContent)
		return offset, length, sums, nil
	}
	if r.Range != "" {
		br, ok, err := parseRange(r.Range, o.Size)
		if err != nil {
			setResponseHeader(ctx, "Content-Range", "bytes */"+strconv.FormatInt(o.Size, 10))
			return 0, 0, nil, err
		}
		if ok {
			out.ContentRange = awsproto.Ptr(br.contentRange(o.Size))
			setResponseStatus(ctx, http.StatusPartialContent)
			var whole map[string]string
			if br.Offset == 0 && br.Length == o.Size {
				whole = o.Checksums
			}
			return br.Offset, br.Length, whole, nil
		}
	}
	return 0, o.Size, o.Checksums, nil
}

// fillObjectHeaders sets the stored representation headers of o on out, with the response-*
// overrides of r on top.
func fillObjectHeaders(out *GetObjectOutput, o object, r readRequest) {
	h := o.Headers
	pick := func(override, stored string) *string {
		if override != "" {
			return awsproto.Ptr(override)
		}
		if stored != "" {
			return awsproto.Ptr(stored)
		}
		return nil
	}
	out.ContentType = pick(r.Overrides.ContentType, h.ContentType)
	out.ContentEncoding = pick(r.Overrides.ContentEncoding, h.ContentEncoding)
	out.ContentDisposition = pick(r.Overrides.ContentDisposition, h.ContentDisposition)
	out.ContentLanguage = pick(r.Overrides.ContentLanguage, h.ContentLanguage)
	out.CacheControl = pick(r.Overrides.CacheControl, h.CacheControl)
	out.Expires = pick("", h.Expires)
	if r.ResponseExpires != nil {
		out.Expires = awsproto.Ptr(r.ResponseExpires.UTC().Format(http.TimeFormat))
	}
	out.WebsiteRedirectLocation = pick("", h.WebsiteRedirect)
	out.ServerSideEncryption = pick("", h.SSE)
	out.SSEKMSKeyId = pick("", h.SSEKMSKeyID)
	if o.StorageClass != "" && o.StorageClass != "STANDARD" {
		out.StorageClass = awsproto.Ptr(o.StorageClass)
	}
	if len(o.Tags) > 0 {
		out.TagCount = awsproto.Ptr(int32(len(o.Tags)))
	}
}

func (s *Service) deleteObject(ctx context.Context, in *DeleteObjectRequest) (*DeleteObjectOutput, error) {
	bucketName, key := awsproto.Value(in.Bucket), awsproto.Value(in.Key)
	action := versioned("s3:DeleteObject", awsproto.Value(in.VersionId))
	if _, err := s.authorizeObject(ctx, s.reader(ctx), bucketName, key, awsproto.Value(in.VersionId), action); err != nil {
		return nil, err
	}
	var res deleteResult
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		b, err := s.authorizeObject(ctx, tx, bucketName, key, awsproto.Value(in.VersionId), action)
		if err != nil {
			return err
		}
		res, err = s.deleteInTx(ctx, tx, b, key, awsproto.Value(in.VersionId), awsproto.Value(in.IfMatch), callerAccount(ctx))
		return err
	})
	if err != nil {
		return nil, err
	}
	out := &DeleteObjectOutput{}
	if res.DeleteMarker {
		out.DeleteMarker = awsproto.Ptr(true)
	}
	if res.VersionID != "" {
		out.VersionId = awsproto.Ptr(res.VersionID)
	}
	return out, nil
}

// deleteResult says what a delete did: the version it removed or the delete marker it made.
type deleteResult struct {
	DeleteMarker bool
	VersionID    string
}

// deleteInTx deletes key (or one version of it) as the bucket's versioning state says, and
// emits the event.
func (s *Service) deleteInTx(ctx context.Context, tx *store.Tx, b bucket, key, versionID, ifMatch, owner string) (deleteResult, error) {
	if versionID != "" {
		o, err := loadObject(tx, b.Name, key, versionID)
		if isCode(err, "NoSuchVersion") {
			return deleteResult{VersionID: versionID}, nil
		}
		if err != nil {
			return deleteResult{}, err
		}
		if ifMatch != "" && !etagMatches(ifMatch, o.ETag) {
			return deleteResult{}, errPreconditionFailed("If-Match")
		}
		if err := checkVersionDeletable(o, s.now(), bypassGovernance(ctx)); err != nil {
			return deleteResult{}, err
		}
		if _, err := s.removeVersion(tx, b.Name, key, versionID); err != nil {
			return deleteResult{}, err
		}
		if err := s.emit(ctx, tx, b, "ObjectRemoved:Delete", &o); err != nil {
			return deleteResult{}, err
		}
		return deleteResult{DeleteMarker: o.DeleteMarker, VersionID: versionID}, nil
	}
	if ifMatch != "" {
		cur, err := loadObject(tx, b.Name, key, "")
		if err != nil && !isCode(err, "NoSuchKey") {
			return deleteResult{}, err
		}
		if err != nil || cur.DeleteMarker {
			return deleteResult{}, errNoSuchKey(key)
		}
		if !etagMatches(ifMatch, cur.ETag) {
			return deleteResult{}, errPreconditionFailed("If-Match")
		}
	}
	if b.Versioning == "" {
		o, err := loadObject(tx, b.Name, key, nullVersion)
		if err != nil {
			if isCode(err, "NoSuchVersion") {
				return deleteResult{}, nil
			}
			return deleteResult{}, err
		}
		if _, err := s.removeVersion(tx, b.Name, key, nullVersion); err != nil {
			return deleteResult{}, err
		}
		return deleteResult{}, s.emit(ctx, tx, b, "ObjectRemoved:Delete", &o)
	}
	m := object{Bucket: b.Name, Key: key, DeleteMarker: true, LastModified: s.now().UTC(), Owner: owner, StorageClass: "STANDARD"}
	if err := s.putVersion(tx, b.Versioning, &m); err != nil {
		return deleteResult{}, err
	}
	if err := s.emit(ctx, tx, b, "ObjectRemoved:DeleteMarkerCreated", &m); err != nil {
		return deleteResult{}, err
	}
	return deleteResult{DeleteMarker: true, VersionID: m.VersionID}, nil
}

// decodeBase64Digest decodes a base64 digest header of the given raw size.
func decodeBase64Digest(v string, size int) ([]byte, bool) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(v))
	return b, err == nil && len(b) == size
}

// applyObjectACL stores the ACL an object write asked for with x-amz-acl or x-amz-grant-*
// headers, in the write's transaction. A request that asks for none keeps the default.
func applyObjectACL(tx *store.Tx, b bucket, o *object, r aclRequest) error {
	p, err := checkObjectACL(b, o.Owner, r)
	if err != nil || p == nil {
		return err
	}
	return storeObjectACL(tx, o, p)
}

// checkObjectACL builds the ACL an object write asks for (nil when none), refusing grants a
// bucket with enforced ownership does not take.
func checkObjectACL(b bucket, owner string, r aclRequest) (*aclPolicy, error) {
	if r == (aclRequest{}) {
		return nil, nil
	}
	p, err := aclFromRequest(r, owner, b.Account, false)
	if err != nil || p == nil {
		return nil, err
	}
	if b.Ownership == "BucketOwnerEnforced" && !bucketOwnerFullControl(r, p, b.Account) {
		return nil, errACLNotSupported()
	}
	return p, nil
}

// ownerFor is who owns an object writer creates in b: the bucket owner if the bucket enforces
// that it owns what is written, or prefers it and the write grants it bucket-owner-full-control;
// otherwise the writer. An anonymous writer's object belongs to the bucket owner.
func ownerFor(b bucket, writer string, r aclRequest) string {
	if writer == "" || b.Ownership == "BucketOwnerEnforced" ||
		b.Ownership == "BucketOwnerPreferred" && r.Canned == "bucket-owner-full-control" {
		return b.Account
	}
	return writer
}

// bucketOwnerFullControl reports whether an ACL request is one a bucket whose ACLs are disabled
// (BucketOwnerEnforced) accepts: bucket-owner-full-control, or the same in grant headers.
func bucketOwnerFullControl(r aclRequest, p *aclPolicy, bucketOwner string) bool {
	return (r.Canned == "" || r.Canned == "bucket-owner-full-control") && p.ownerOnly(bucketOwner)
}

// errDeleteMarkerMethod is S3's answer to reading a delete marker by its version id.
func errDeleteMarkerMethod(method string) *awsproto.Error {
	return &awsproto.Error{Code: "MethodNotAllowed", Status: http.StatusMethodNotAllowed,
		Message: "The specified method is not allowed against this resource.",
		Fields:  map[string]string{"Method": method, "ResourceType": "DeleteMarker"}}
}

func callMethod(ctx context.Context) string {
	if r := callRequest(ctx); r != nil {
		return r.Method
	}
	return http.MethodGet
}

// setMetadataHeaders returns user metadata as S3 does, with lower-case x-amz-meta-* header
// names (some clients keep the case they receive).
func setMetadataHeaders(ctx context.Context, meta map[string]string) {
	c := awsproto.CallFrom(ctx)
	if c == nil || len(meta) == 0 {
		return
	}
	if c.ResponseHeader == nil {
		c.ResponseHeader = http.Header{}
	}
	for k, v := range meta {
		c.ResponseHeader["x-amz-meta-"+strings.ToLower(k)] = []string{v}
	}
}
