package s3

import (
	"context"
	"crypto/md5"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/kiri-run/kiri/internal/auth"
	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/store"
)

// Multipart limits, as S3 documents them.
const (
	minPartNumber   = 1
	maxPartNumber   = 10000
	minPartSize     = 5 << 20 // every part but the last
	maxListParts    = 1000
	maxListUploads  = 1000
	checksumTypeCmp = "COMPOSITE"
	checksumTypeAll = "FULL_OBJECT"
)

// registerMultipartOps registers the multipart upload operations.
func (s *Service) registerMultipartOps() {
	awsproto.Handle(s.api, "CreateMultipartUpload", s.createMultipartUpload)
	awsproto.Handle(s.api, "UploadPart", s.uploadPart)
	awsproto.Handle(s.api, "UploadPartCopy", s.uploadPartCopy)
	awsproto.Handle(s.api, "CompleteMultipartUpload", s.completeMultipartUpload)
	awsproto.Handle(s.api, "AbortMultipartUpload", s.abortMultipartUpload)
	awsproto.Handle(s.api, "ListParts", s.listParts)
	awsproto.Handle(s.api, "ListMultipartUploads", s.listMultipartUploads)
}

// upload is one row of s3_uploads: a multipart upload in progress and what its object will carry.
type upload struct {
	ID, Bucket, Key   string
	Initiated         time.Time
	Owner             string
	Headers           objectHeaders
	Metadata          map[string]string
	Tags              []tag
	StorageClass      string
	ChecksumAlgorithm string
	ChecksumType      string
	// ACL is the ACL the object is to have, as CreateMultipartUpload asked for it.
	ACL aclRequest
	// Initiator is the account that began the upload ("": Owner).
	Initiator string
}

const uploadColumns = `upload_id, bucket, okey, initiated, owner, headers, metadata, tags, storage_class, checksum_algorithm, checksum_type,
	acl, initiator`

func scanUpload(r scanner) (upload, error) {
	var u upload
	var initiated int64
	var headers, meta, tags, acl string
	if err := r.Scan(&u.ID, &u.Bucket, &u.Key, &initiated, &u.Owner, &headers, &meta, &tags, &u.StorageClass,
		&u.ChecksumAlgorithm, &u.ChecksumType, &acl, &u.Initiator); err != nil {
		return upload{}, err
	}
	u.Initiated = time.UnixMilli(initiated).UTC()
	for _, f := range []struct {
		raw string
		dst any
	}{{headers, &u.Headers}, {meta, &u.Metadata}, {tags, &u.Tags}, {acl, &u.ACL}} {
		if f.raw != "" && f.raw != "null" {
			if err := json.Unmarshal([]byte(f.raw), f.dst); err != nil {
				return upload{}, fmt.Errorf("decode upload %s: %w", u.ID, err)
			}
		}
	}
	return u, nil
}

// initiatorOf names the account that began an upload.
func initiatorOf(u upload) *Initiator {
	who := u.Initiator
	if who == "" {
		who = u.Owner
	}
	o := ownerOf(who)
	return &Initiator{ID: o.ID, DisplayName: o.DisplayName}
}

// loadUpload reads an upload of bucket/key; any other upload id is NoSuchUpload.
func loadUpload(q querier, bucketName, key, id string) (upload, error) {
	u, err := scanUpload(q.QueryRow(`SELECT `+uploadColumns+` FROM s3_uploads WHERE upload_id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) || err == nil && (u.Bucket != bucketName || u.Key != key) {
		return upload{}, errNoSuchUpload(id)
	}
	return u, err
}

// newUploadID returns an opaque id that sorts in creation order: uploads of one key started in
// the same millisecond (the resolution of their Initiated time) still list in the order they
// began, which upload-id-marker pagination relies on.
func newUploadID() string {
	var b [24]byte
	binary.BigEndian.PutUint64(b[:8], uint64(time.Now().UnixNano()))
	rand.Read(b[8:])
	return hex.EncodeToString(b[:8]) + base64.RawURLEncoding.EncodeToString(b[8:])
}

func (s *Service) createMultipartUpload(ctx context.Context, in *CreateMultipartUploadRequest) (*CreateMultipartUploadOutput, error) {
	bucketName, key := orZero(in.Bucket), orZero(in.Key)
	b, err := s.authorizeObject(ctx, s.reader(ctx), bucketName, key, "", "s3:PutObject")
	if err != nil {
		return nil, err
	}
	acl := objectACLRequest(in.ACL, in.GrantFullControl, in.GrantRead, in.GrantReadACP, in.GrantWriteACP)
	caller := callerAccount(ctx)
	if p, err := checkObjectACL(b, ownerFor(b, caller, acl), acl); err != nil {
		return nil, err
	} else if err := blockPublicACL(s.reader(ctx), bucketName, p); err != nil {
		return nil, err
	}
	u := upload{
		ID: newUploadID(), Bucket: bucketName, Key: key, Initiated: s.now().UTC(), Owner: ownerFor(b, caller, acl),
		Initiator: caller, ACL: acl,
		Metadata: in.Metadata, StorageClass: orZero(in.StorageClass),
		Headers: objectHeaders{
			ContentType: orZero(in.ContentType), ContentEncoding: orZero(in.ContentEncoding),
			ContentDisposition: orZero(in.ContentDisposition), ContentLanguage: orZero(in.ContentLanguage),
			CacheControl: orZero(in.CacheControl), Expires: orZero(in.Expires),
			WebsiteRedirect: orZero(in.WebsiteRedirectLocation), SSE: orZero(in.ServerSideEncryption),
			SSEKMSKeyID: orZero(in.SSEKMSKeyId),
		},
	}
	if u.StorageClass == "" {
		u.StorageClass = "STANDARD"
	}
	lock, lerr := parseLockHeaders(lockHeader(in.ObjectLockMode, in.ObjectLockRetainUntilDate, in.ObjectLockLegalHoldStatus), s.now())
	if lerr != nil {
		return nil, lerr
	}
	lock.apply(&u.Headers)
	sse, serr := parseSSEWrite(ctx, callHeader(ctx))
	if serr == nil {
		sse, serr = s.withBucketDefault(ctx, s.reader(ctx), b, sse)
	}
	if serr != nil {
		return nil, serr
	}
	sse.apply(&u.Headers)
	if a := strings.ToUpper(orZero(in.ChecksumAlgorithm)); a != "" {
		if newChecksum(a) == nil {
			return nil, errInvalidArgument("x-amz-checksum-algorithm", a, "Checksum algorithm %s is not supported", a)
		}
		u.ChecksumAlgorithm = a
	}
	switch t := strings.ToUpper(orZero(in.ChecksumType)); {
	case t == "" && u.ChecksumAlgorithm == algoCRC64NVME:
		u.ChecksumType = checksumTypeAll
	case t == "" && u.ChecksumAlgorithm != "":
		u.ChecksumType = checksumTypeCmp
	case t == checksumTypeCmp || t == checksumTypeAll:
		if u.ChecksumAlgorithm == "" {
			return nil, errInvalidArgument("x-amz-checksum-type", t, "The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.")
		}
		if t == checksumTypeAll && !isCRC(u.ChecksumAlgorithm) || t == checksumTypeCmp && u.ChecksumAlgorithm == algoCRC64NVME {
			return nil, errInvalidArgument("x-amz-checksum-type", t, "The %s checksum type cannot be used with the %s checksum algorithm.", t, u.ChecksumAlgorithm)
		}
		u.ChecksumType = t
	case t != "":
		return nil, errInvalidArgument("x-amz-checksum-type", t, "Value for x-amz-checksum-type header is invalid.")
	}
	if in.Tagging != nil {
		tags, err := parseTaggingHeader(*in.Tagging)
		if err != nil {
			return nil, err
		}
		u.Tags = tags
	}
	err = s.st.Write(ctx, func(tx *store.Tx) error {
		if _, err := loadBucket(tx, bucketName); err != nil {
			return err
		}
		acl := ""
		if u.ACL != (aclRequest{}) {
			acl = mustJSON(u.ACL)
		}
		_, err := tx.Exec(`INSERT INTO s3_uploads (`+uploadColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			u.ID, u.Bucket, u.Key, u.Initiated.UnixMilli(), u.Owner, mustJSON(u.Headers), mustJSON(u.Metadata),
			mustJSON(u.Tags), u.StorageClass, u.ChecksumAlgorithm, u.ChecksumType, acl, u.Initiator)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := &CreateMultipartUploadOutput{Bucket: &bucketName, Key: &key, UploadId: &u.ID}
	if u.ChecksumAlgorithm != "" {
		out.ChecksumAlgorithm, out.ChecksumType = refOf(u.ChecksumAlgorithm), refOf(u.ChecksumType)
	}
	setSSEFields(u.Headers, &out.ServerSideEncryption, &out.SSEKMSKeyId, &out.SSECustomerAlgorithm, &out.SSECustomerKeyMD5, &out.BucketKeyEnabled)
	return out, nil
}

// partRow is one row of s3_parts.
type partRow struct {
	Number       int32
	Size         int64
	ETag         string
	LastModified time.Time
	Checksums    map[string]string
	Inline       []byte
	BlobKey      string
	IV           []byte // SSE-C counter block (nil: plaintext)
}

func checkPartNumber(n *int32) (int32, error) {
	if n == nil || *n < minPartNumber || *n > maxPartNumber {
		v := ""
		if n != nil {
			v = strconv.Itoa(int(*n))
		}
		return 0, errInvalidArgument("partNumber", v, "Part number must be an integer between 1 and 10000, inclusive")
	}
	return *n, nil
}

// partChecksums are the flexible checksums a part request claims, by algorithm.
func partChecksums(in *UploadPartRequest) map[string]string {
	claims := map[string]string{}
	for a, v := range map[string]*string{algoCRC32: in.ChecksumCRC32, algoCRC32C: in.ChecksumCRC32C,
		algoCRC64NVME: in.ChecksumCRC64NVME, algoSHA1: in.ChecksumSHA1, algoSHA256: in.ChecksumSHA256} {
		if v != nil && *v != "" {
			claims[a] = *v
		}
	}
	return claims
}

func (s *Service) uploadPart(ctx context.Context, in *UploadPartRequest) (*UploadPartOutput, error) {
	bucketName, key, id := orZero(in.Bucket), orZero(in.Key), orZero(in.UploadId)
	n, err := checkPartNumber(in.PartNumber)
	if err != nil {
		return nil, err
	}
	var wantMD5 []byte
	if in.ContentMD5 != nil {
		if wantMD5, err = base64.StdEncoding.DecodeString(*in.ContentMD5); err != nil || len(wantMD5) != md5.Size {
			return nil, awsproto.Errorf("InvalidDigest", 400, "The Content-MD5 you specified was invalid.")
		}
	}
	r := s.reader(ctx)
	if _, err := s.authorizeObject(ctx, r, bucketName, key, "", "s3:PutObject"); err != nil {
		return nil, err
	}
	u, err := loadUpload(r, bucketName, key, id)
	if err != nil {
		return nil, err
	}
	enc, iv, err := partEncryption(callHeader(ctx), u)
	if err != nil {
		return nil, err
	}
	claims := partChecksums(in)
	algos := []string{partAlgorithm(u), strings.ToUpper(orZero(in.ChecksumAlgorithm))}
	for a := range claims {
		algos = append(algos, a)
	}
	var req *awsproto.Call
	if req = awsproto.CallFrom(ctx); req != nil && req.Request != nil {
		algos = append(algos, auth.DeclaredChecksumTrailers(req.Request)...)
	}
	var src io.Reader = strings.NewReader("")
	if in.Body != nil {
		src = in.Body
	}
	b, err := s.storeBodyWith(ctx, src, enc, algos...)
	if err != nil {
		return nil, partBodyError(err)
	}
	if req != nil && req.Request != nil {
		if a, v, ok := auth.TrailingChecksum(req.Request); ok {
			claims[a] = v
		}
	}
	if err := checkPartDigests(b, wantMD5, claims); err != nil {
		s.discardBody(ctx, b)
		return nil, err
	}
	p := partRow{Number: n, Size: b.Size, ETag: b.ETag, LastModified: s.now().UTC(), Checksums: b.Sums, Inline: b.Inline, BlobKey: b.BlobKey, IV: iv}
	if err := s.st.Write(ctx, func(tx *store.Tx) error { return s.putPart(tx, bucketName, key, id, p) }); err != nil {
		s.discardBody(ctx, b)
		return nil, err
	}
	out := &UploadPartOutput{ETag: refOf(b.ETag)}
	setPartChecksums(b.Sums, claims, u.ChecksumAlgorithm, &out.ChecksumCRC32, &out.ChecksumCRC32C,
		&out.ChecksumCRC64NVME, &out.ChecksumSHA1, &out.ChecksumSHA256)
	setSSEFields(u.Headers, &out.ServerSideEncryption, &out.SSEKMSKeyId, &out.SSECustomerAlgorithm, &out.SSECustomerKeyMD5, &out.BucketKeyEnabled)
	return out, nil
}

// partBodyError passes on errors the body reader raised as S3 errors (bad chunk signature, short
// body) and wraps the rest.
func partBodyError(err error) error {
	var ae *awsproto.Error
	if errors.As(err, &ae) {
		return ae
	}
	return fmt.Errorf("store part body: %w", err)
}

// checkPartDigests compares what was received with the Content-MD5 and checksums the client claimed.
func checkPartDigests(b body, wantMD5 []byte, claims map[string]string) error {
	if wantMD5 != nil && string(wantMD5) != string(b.MD5) {
		return awsproto.Errorf("BadDigest", 400, "The Content-MD5 you specified did not match what we received.")
	}
	for a, v := range claims {
		got, ok := b.Sums[a]
		if !ok {
			continue
		}
		if raw, err := base64.StdEncoding.DecodeString(v); err != nil || len(raw) != newChecksum(a).Size() {
			return awsproto.Errorf("InvalidRequest", 400, "Value for x-amz-checksum-%s header is invalid.", strings.ToLower(a))
		}
		if got != v {
			return awsproto.Errorf("BadDigest", 400, "The %s you specified did not match the calculated checksum.", a)
		}
	}
	return nil
}

// setPartChecksums fills the output checksum members the upload or the request asked for.
func setPartChecksums(sums, claims map[string]string, uploadAlgo string, crc32, crc32c, crc64, sha1, sha256 **string) {
	for a, dst := range map[string]**string{algoCRC32: crc32, algoCRC32C: crc32c, algoCRC64NVME: crc64, algoSHA1: sha1, algoSHA256: sha256} {
		if _, claimed := claims[a]; (claimed || a == uploadAlgo) && sums[a] != "" {
			*dst = refOf(sums[a])
		}
	}
}

// putPart stores a part, replacing (and freeing) an earlier part with the same number. The
// upload must still exist: a part uploaded while the upload completes or aborts is refused.
func (s *Service) putPart(tx *store.Tx, bucketName, key, id string, p partRow) error {
	if _, err := loadUpload(tx, bucketName, key, id); err != nil {
		return err
	}
	if err := claimBlob(tx, p.BlobKey); err != nil {
		return err
	}
	var old string
	err := tx.QueryRow(`SELECT blob_key FROM s3_parts WHERE upload_id = ? AND part_number = ?`, id, p.Number).Scan(&old)
	switch {
	case err == nil:
		if _, err := tx.Exec(`DELETE FROM s3_parts WHERE upload_id = ? AND part_number = ?`, id, p.Number); err != nil {
			return err
		}
		if err := s.releaseBlob(tx, old); err != nil {
			return err
		}
	case !errors.Is(err, sql.ErrNoRows):
		return err
	}
	_, err = tx.Exec(`INSERT INTO s3_parts (upload_id, part_number, size, etag, last_modified, checksums, inline_data, blob_key, sse_iv)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, id, p.Number, p.Size, p.ETag, p.LastModified.UnixMilli(), mustJSON(p.Checksums), p.Inline, p.BlobKey, p.IV)
	return err
}

func (s *Service) uploadPartCopy(ctx context.Context, in *UploadPartCopyRequest) (*UploadPartCopyOutput, error) {
	bucketName, key, id := orZero(in.Bucket), orZero(in.Key), orZero(in.UploadId)
	n, err := checkPartNumber(in.PartNumber)
	if err != nil {
		return nil, err
	}
	cs, err := parseCopySource(orZero(in.CopySource))
	if err != nil {
		return nil, err
	}
	r := s.reader(ctx)
	if _, err := s.authorizeObject(ctx, r, bucketName, key, "", "s3:PutObject"); err != nil {
		return nil, err
	}
	u, err := loadUpload(r, bucketName, key, id)
	if err != nil {
		return nil, err
	}
	src, _, err := s.loadCopySource(ctx, cs, preconditions{
		IfMatch: orZero(in.CopySourceIfMatch), IfNoneMatch: orZero(in.CopySourceIfNoneMatch),
		IfModifiedSince: in.CopySourceIfModifiedSince, IfUnmodifiedSince: in.CopySourceIfUnmodifiedSince,
	})
	if err != nil {
		return nil, err
	}
	srcBucket, srcKey := cs.Bucket, cs.Key
	offset, length := int64(0), src.Size
	if in.CopySourceRange != nil {
		if offset, length, err = parsePartCopyRange(*in.CopySourceRange, src.Size); err != nil {
			return nil, err
		}
	}
	h := callHeader(ctx)
	srcSSEC, err := checkReadSSE(h, ssecSourceHeaders, src.Headers, false)
	if err != nil {
		return nil, err
	}
	enc, iv, err := partEncryption(h, u)
	if err != nil {
		return nil, err
	}
	rc, err := s.openObjectKey(ctx, src, srcSSEC.Key, offset, length)
	if err != nil {
		return nil, fmt.Errorf("open copy source: %w", err)
	}
	b, err := s.storeBodyWith(ctx, rc, enc, partAlgorithm(u))
	rc.Close()
	if err != nil {
		return nil, partBodyError(err)
	}
	if b.Size != length {
		s.discardBody(ctx, b)
		return nil, fmt.Errorf("copy source %s/%s: read %d of %d bytes", srcBucket, srcKey, b.Size, length)
	}
	p := partRow{Number: n, Size: b.Size, ETag: b.ETag, LastModified: s.now().UTC(), Checksums: b.Sums, Inline: b.Inline, BlobKey: b.BlobKey, IV: iv}
	if err := s.st.Write(ctx, func(tx *store.Tx) error { return s.putPart(tx, bucketName, key, id, p) }); err != nil {
		s.discardBody(ctx, b)
		return nil, err
	}
	res := &CopyPartResult{ETag: refOf(b.ETag), LastModified: &p.LastModified}
	setPartChecksums(b.Sums, nil, u.ChecksumAlgorithm, &res.ChecksumCRC32, &res.ChecksumCRC32C,
		&res.ChecksumCRC64NVME, &res.ChecksumSHA1, &res.ChecksumSHA256)
	out := &UploadPartCopyOutput{CopyPartResult: res}
	setSSEFields(u.Headers, &out.ServerSideEncryption, &out.SSEKMSKeyId, &out.SSECustomerAlgorithm, &out.SSECustomerKeyMD5, &out.BucketKeyEnabled)
	if src.VersionID != "" && src.VersionID != nullVersion {
		out.CopySourceVersionId = refOf(src.VersionID)
	}
	return out, nil
}

// parsePartCopyRange reads x-amz-copy-source-range "bytes=first-last", which must lie in the source.
func parsePartCopyRange(v string, size int64) (offset, length int64, err error) {
	bad := errInvalidArgument("x-amz-copy-source-range", v, "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy")
	spec, ok := strings.CutPrefix(v, "bytes=")
	if !ok {
		return 0, 0, bad
	}
	a, b, ok := strings.Cut(spec, "-")
	first, err1 := strconv.ParseInt(a, 10, 64)
	last, err2 := strconv.ParseInt(b, 10, 64)
	if !ok || err1 != nil || err2 != nil || first < 0 || last < first {
		return 0, 0, bad
	}
	if last >= size {
		return 0, 0, errInvalidArgument("x-amz-copy-source-range", v, "Range specified is not valid for source object of size: %d", size)
	}
	return first, last - first + 1, nil
}

func (s *Service) completeMultipartUpload(ctx context.Context, in *CompleteMultipartUploadRequest) (*CompleteMultipartUploadOutput, error) {
	bucketName, key, id := orZero(in.Bucket), orZero(in.Key), orZero(in.UploadId)
	if in.MultipartUpload == nil || len(in.MultipartUpload.Parts) == 0 {
		return nil, errMalformedXML()
	}
	listed := in.MultipartUpload.Parts
	for i, p := range listed {
		if p.PartNumber == nil || p.ETag == nil {
			return nil, errMalformedXML()
		}
		if i > 0 && *p.PartNumber <= *listed[i-1].PartNumber {
			return nil, awsproto.Errorf("InvalidPartOrder", 400,
				"The list of parts was not in ascending order. The parts list must be specified in order by part number.")
		}
	}
	if _, err := s.authorizeObject(ctx, s.reader(ctx), bucketName, key, "", "s3:PutObject"); err != nil {
		return nil, err
	}
	ckey, err := parseCustomerKey(callHeader(ctx), ssecHeaders)
	if err != nil {
		return nil, err
	}
	var obj object
	var b bucket
	err = s.st.Write(ctx, func(tx *store.Tx) error {
		var err error
		if b, err = loadBucket(tx, bucketName); err != nil {
			return err
		}
		u, err := loadUpload(tx, bucketName, key, id)
		if err != nil {
			return err
		}
		if err := matchCustomerKey(u.Headers, ckey); err != nil {
			return err
		}
		if obj, err = assembleObject(tx, u, listed); err != nil {
			return err
		}
		if err := checkCompleteChecksum(in, obj.Checksums); err != nil {
			return err
		}
		obj.LastModified = s.now().UTC()
		obj.Headers.UploadID = id
		if err := checkCompleteConditions(tx, in, bucketName, key); err != nil {
			return err
		}
		if err := applyObjectLock(tx, b, &obj, s.now()); err != nil {
			return err
		}
		if err := s.putVersion(tx, b.Versioning, &obj); err != nil {
			return err
		}
		if err := applyObjectACL(tx, b, &obj, u.ACL); err != nil {
			return err
		}
		if err := s.dropUpload(tx, id, obj.Parts); err != nil {
			return err
		}
		return s.emit(ctx, tx, b, "ObjectCreated:CompleteMultipartUpload", &obj)
	})
	if isCode(err, "NoSuchUpload") {
		if o, again := s.completedUpload(ctx, bucketName, key, id); again {
			obj, err = o, nil
		}
	}
	if err != nil {
		return nil, err
	}
	out := &CompleteMultipartUploadOutput{Bucket: &bucketName, Key: &key, ETag: refOf(obj.ETag), Location: refOf(uploadLocation(ctx, bucketName, key))}
	if b.Versioning == versioningEnabled {
		out.VersionId = refOf(obj.VersionID)
	}
	if obj.Headers.ChecksumType != "" {
		out.ChecksumType = refOf(obj.Headers.ChecksumType)
		setPartChecksums(obj.Checksums, nil, onlyKey(obj.Checksums), &out.ChecksumCRC32, &out.ChecksumCRC32C,
			&out.ChecksumCRC64NVME, &out.ChecksumSHA1, &out.ChecksumSHA256)
	}
	setSSEFields(obj.Headers, &out.ServerSideEncryption, &out.SSEKMSKeyId, nil, nil, &out.BucketKeyEnabled)
	if obj.Headers.SSECKeyMD5 != "" {
		// The model's output has no SSE-C members, but S3 echoes the key's headers.
		setResponseHeader(ctx, "x-amz-server-side-encryption-customer-algorithm", obj.Headers.SSECAlgorithm)
		setResponseHeader(ctx, "x-amz-server-side-encryption-customer-key-md5", obj.Headers.SSECKeyMD5)
	}
	return out, nil
}

// onlyKey returns the only key of a one-entry checksum map.
func onlyKey(m map[string]string) string {
	for k := range m {
		return k
	}
	return ""
}

// location is the URL of an object as S3 reports it after a multipart upload.
func uploadLocation(ctx context.Context, bucketName, key string) string {
	host := "localhost"
	if c := awsproto.CallFrom(ctx); c != nil && c.Request != nil && c.Request.Host != "" {
		host = c.Request.Host
	}
	return "http://" + host + "/" + bucketName + "/" + (&url.URL{Path: key}).EscapedPath()
}

// checkCompleteConditions applies If-Match and If-None-Match of a conditional complete.
func checkCompleteConditions(tx *store.Tx, in *CompleteMultipartUploadRequest, bucketName, key string) error {
	if in.IfMatch == nil && in.IfNoneMatch == nil {
		return nil
	}
	cur, err := loadObject(tx, bucketName, key, "")
	exists := err == nil && !cur.DeleteMarker
	var ae *awsproto.Error
	if err != nil && !(errors.As(err, &ae) && ae.Code == "NoSuchKey") {
		return err
	}
	if in.IfNoneMatch != nil && exists && etagMatches(*in.IfNoneMatch, cur.ETag) {
		return errPreconditionFailed("If-None-Match")
	}
	if in.IfMatch != nil {
		if !exists {
			return errNoSuchKey(key)
		}
		if !etagMatches(*in.IfMatch, cur.ETag) {
			return errPreconditionFailed("If-Match")
		}
	}
	return nil
}

// assembleObject checks the listed parts against the stored ones and builds the object: a
// manifest of the part bodies, with S3's multipart ETag and composite checksum.
func assembleObject(tx *store.Tx, u upload, listed []CompletedPart) (object, error) {
	obj := object{
		Bucket: u.Bucket, Key: u.Key, Owner: u.Owner, Headers: u.Headers, Metadata: u.Metadata,
		Tags: u.Tags, StorageClass: u.StorageClass, Parts: make([]partRef, 0, len(listed)),
	}
	etags := md5.New()
	var sums []byte
	for i, lp := range listed {
		p, err := loadPart(tx, u.ID, *lp.PartNumber)
		if err != nil {
			return object{}, err
		}
		if p == nil || strings.Trim(*lp.ETag, `"`) != strings.Trim(p.ETag, `"`) || !listedChecksumsMatch(lp, p.Checksums) {
			return object{}, errInvalidPart(u.ID, *lp.PartNumber, *lp.ETag)
		}
		if i < len(listed)-1 && p.Size < minPartSize {
			e := awsproto.Errorf("EntityTooSmall", 400, "Your proposed upload is smaller than the minimum allowed size")
			e.Fields = map[string]string{"ProposedSize": strconv.FormatInt(p.Size, 10), "MinSizeAllowed": strconv.Itoa(minPartSize),
				"PartNumber": strconv.Itoa(int(p.Number)), "ETag": strings.Trim(p.ETag, `"`)}
			return object{}, e
		}
		raw, err := hex.DecodeString(strings.Trim(p.ETag, `"`))
		if err != nil {
			return object{}, fmt.Errorf("part %d of %s has etag %q: %w", p.Number, u.ID, p.ETag, err)
		}
		etags.Write(raw)
		if u.ChecksumAlgorithm != "" {
			c, _ := base64.StdEncoding.DecodeString(p.Checksums[u.ChecksumAlgorithm])
			sums = append(sums, c...)
		}
		obj.Size += p.Size
		obj.Parts = append(obj.Parts, partRef{Size: p.Size, ETag: p.ETag, BlobKey: p.BlobKey, Inline: p.Inline, Checksums: p.Checksums, IV: p.IV})
	}
	obj.ETag = fmt.Sprintf(`"%s-%d"`, hex.EncodeToString(etags.Sum(nil)), len(listed))
	if u.ChecksumAlgorithm != "" && u.ChecksumType != checksumTypeAll {
		h := newChecksum(u.ChecksumAlgorithm)
		h.Write(sums)
		obj.Checksums = map[string]string{u.ChecksumAlgorithm: fmt.Sprintf("%s-%d", base64.StdEncoding.EncodeToString(h.Sum(nil)), len(listed))}
		obj.Headers.ChecksumType = checksumTypeCmp
	} else if sum, ok := combineCRCs(partAlgorithm(u), obj.Parts); ok {
		// A full-object CRC; an upload that named no algorithm gets S3's default, CRC64NVME
		// (parts stored before Kiri computed it for them have none to combine).
		obj.Checksums = map[string]string{partAlgorithm(u): sum}
		obj.Headers.ChecksumType = checksumTypeAll
	}
	return obj, nil
}

// partAlgorithm is the checksum every part of an upload carries: the upload's algorithm, else
// CRC64NVME, from which S3's default full-object checksum of the object is combined.
func partAlgorithm(u upload) string {
	if u.ChecksumAlgorithm == "" {
		return algoCRC64NVME
	}
	return u.ChecksumAlgorithm
}

// listedChecksumsMatch reports whether the checksums a Complete request lists for a part
// match the stored ones.
func listedChecksumsMatch(lp CompletedPart, stored map[string]string) bool {
	for a, v := range map[string]*string{algoCRC32: lp.ChecksumCRC32, algoCRC32C: lp.ChecksumCRC32C,
		algoCRC64NVME: lp.ChecksumCRC64NVME, algoSHA1: lp.ChecksumSHA1, algoSHA256: lp.ChecksumSHA256} {
		if v != nil && *v != "" {
			if got, ok := stored[a]; ok && got != *v {
				return false
			}
		}
	}
	return true
}

func errInvalidPart(id string, n int32, etag string) *awsproto.Error {
	e := awsproto.Errorf("InvalidPart", 400, "One or more of the specified parts could not be found.  The part may not have been "+
		"uploaded, or the specified entity tag may not match the part's entity tag.")
	e.Fields = map[string]string{"UploadId": id, "PartNumber": strconv.Itoa(int(n)), "ETag": etag}
	return e
}

// loadPart reads one part with its inline bytes; nil when there is none.
func loadPart(q querier, id string, n int32) (*partRow, error) {
	p := partRow{Number: n}
	var modified int64
	var sums string
	err := q.QueryRow(`SELECT size, etag, last_modified, checksums, inline_data, blob_key, sse_iv FROM s3_parts
		WHERE upload_id = ? AND part_number = ?`, id, n).Scan(&p.Size, &p.ETag, &modified, &sums, &p.Inline, &p.BlobKey, &p.IV)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	p.LastModified = time.UnixMilli(modified).UTC()
	if sums != "" && sums != "null" {
		if err := json.Unmarshal([]byte(sums), &p.Checksums); err != nil {
			return nil, fmt.Errorf("decode part %d of %s: %w", n, id, err)
		}
	}
	return &p, nil
}

// dropUpload deletes an upload and its part rows, freeing the bodies of parts that kept is not
// holding (kept are the parts a completed object now owns).
func (s *Service) dropUpload(tx *store.Tx, id string, kept []partRef) error {
	keep := make(map[string]bool, len(kept))
	for _, p := range kept {
		if p.BlobKey != "" {
			keep[p.BlobKey] = true
		}
	}
	rows, err := tx.Query(`SELECT blob_key FROM s3_parts WHERE upload_id = ? AND blob_key <> ''`, id)
	if err != nil {
		return err
	}
	var free []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			rows.Close()
			return err
		}
		if !keep[k] {
			free = append(free, k)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, k := range free {
		if err := s.releaseBlob(tx, k); err != nil {
			return err
		}
	}
	if _, err := tx.Exec(`DELETE FROM s3_parts WHERE upload_id = ?`, id); err != nil {
		return err
	}
	_, err = tx.Exec(`DELETE FROM s3_uploads WHERE upload_id = ?`, id)
	return err
}

func (s *Service) abortMultipartUpload(ctx context.Context, in *AbortMultipartUploadRequest) (*AbortMultipartUploadOutput, error) {
	bucketName, key, id := orZero(in.Bucket), orZero(in.Key), orZero(in.UploadId)
	if _, err := s.authorizeObject(ctx, s.reader(ctx), bucketName, key, "", "s3:AbortMultipartUpload"); err != nil {
		return nil, err
	}
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		u, err := loadUpload(tx, bucketName, key, id)
		if err != nil {
			return err
		}
		if in.IfMatchInitiatedTime != nil && !in.IfMatchInitiatedTime.Truncate(time.Second).Equal(u.Initiated.Truncate(time.Second)) {
			return errPreconditionFailed("x-amz-if-match-initiated-time")
		}
		return s.dropUpload(tx, id, nil)
	})
	if err != nil {
		return nil, err
	}
	return &AbortMultipartUploadOutput{}, nil
}

func (s *Service) listParts(ctx context.Context, in *ListPartsRequest) (*ListPartsOutput, error) {
	bucketName, key, id := orZero(in.Bucket), orZero(in.Key), orZero(in.UploadId)
	r := s.reader(ctx)
	if _, err := s.authorizeObject(ctx, r, bucketName, key, "", "s3:ListMultipartUploadParts"); err != nil {
		return nil, err
	}
	u, err := loadUpload(r, bucketName, key, id)
	if err != nil {
		return nil, err
	}
	maxParts := int32(maxListParts)
	if in.MaxParts != nil {
		if *in.MaxParts < 0 {
			return nil, errInvalidArgument("max-parts", strconv.Itoa(int(*in.MaxParts)), "Argument max-parts must be an integer between 0 and 2147483647")
		}
		maxParts = min(*in.MaxParts, maxListParts)
	}
	marker := int32(0)
	if in.PartNumberMarker != nil {
		marker = max(*in.PartNumberMarker, 0)
	}
	rows, err := s.st.Query(ctx, `SELECT part_number, size, etag, last_modified, checksums FROM s3_parts
		WHERE upload_id = ? AND part_number > ? ORDER BY part_number LIMIT ?`, id, marker, maxParts+1)
	if err != nil {
		return nil, fmt.Errorf("list parts of %s: %w", id, err)
	}
	defer rows.Close()
	out := &ListPartsOutput{
		Bucket: &bucketName, Key: &key, UploadId: &id, MaxParts: &maxParts, PartNumberMarker: &marker,
		StorageClass: refOf(u.StorageClass), Owner: ownerOf(u.Owner), Initiator: initiatorOf(u),
		IsTruncated: refOf(false), Parts: []Part{},
	}
	if u.ChecksumAlgorithm != "" {
		out.ChecksumAlgorithm, out.ChecksumType = refOf(u.ChecksumAlgorithm), refOf(u.ChecksumType)
	}
	for rows.Next() {
		var p Part
		var n int32
		var size, modified int64
		var etag, sums string
		if err := rows.Scan(&n, &size, &etag, &modified, &sums); err != nil {
			return nil, fmt.Errorf("list parts of %s: %w", id, err)
		}
		if int32(len(out.Parts)) == maxParts {
			out.IsTruncated = refOf(true)
			break
		}
		var cs map[string]string
		_ = json.Unmarshal([]byte(sums), &cs)
		p.PartNumber, p.Size, p.ETag, p.LastModified = refOf(n), refOf(size), refOf(etag), refOf(time.UnixMilli(modified).UTC())
		setPartChecksums(cs, nil, u.ChecksumAlgorithm, &p.ChecksumCRC32, &p.ChecksumCRC32C, &p.ChecksumCRC64NVME, &p.ChecksumSHA1, &p.ChecksumSHA256)
		out.Parts = append(out.Parts, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list parts of %s: %w", id, err)
	}
	if len(out.Parts) > 0 {
		out.NextPartNumberMarker = out.Parts[len(out.Parts)-1].PartNumber
	}
	return out, nil
}

func (s *Service) listMultipartUploads(ctx context.Context, in *ListMultipartUploadsRequest) (*ListMultipartUploadsOutput, error) {
	bucketName := orZero(in.Bucket)
	r := s.reader(ctx)
	if _, err := s.authorize(ctx, r, bucketName, "s3:ListBucketMultipartUploads"); err != nil {
		return nil, err
	}
	encodeURL := false
	if in.EncodingType != nil {
		if *in.EncodingType != "url" {
			return nil, errInvalidArgument("encoding-type", *in.EncodingType, "Invalid Encoding Method specified in Request")
		}
		encodeURL = true
	}
	maxUploads := int32(maxListUploads)
	if in.MaxUploads != nil {
		if *in.MaxUploads < 0 {
			return nil, errInvalidArgument("max-uploads", strconv.Itoa(int(*in.MaxUploads)), "Argument max-uploads must be an integer between 0 and 2147483647")
		}
		maxUploads = min(*in.MaxUploads, maxListUploads)
	}
	prefix, delim, keyMarker, idMarker := orZero(in.Prefix), orZero(in.Delimiter), orZero(in.KeyMarker), orZero(in.UploadIdMarker)
	page, err := s.scanUploads(ctx, uploadQuery{bucket: bucketName, prefix: prefix, delimiter: delim,
		keyMarker: keyMarker, idMarker: idMarker, max: int(maxUploads)})
	if err != nil {
		return nil, err
	}
	enc := func(v string) *string {
		if encodeURL {
			v = url.QueryEscape(v)
		}
		return &v
	}
	out := &ListMultipartUploadsOutput{
		Bucket: &bucketName, MaxUploads: &maxUploads, IsTruncated: refOf(page.truncated),
		KeyMarker: enc(keyMarker), UploadIdMarker: &idMarker, Prefix: enc(prefix), Uploads: []MultipartUpload{},
	}
	if delim != "" {
		out.Delimiter = enc(delim)
	}
	if encodeURL {
		out.EncodingType = refOf("url")
	}
	for _, u := range page.uploads {
		mu := MultipartUpload{Key: enc(u.Key), UploadId: refOf(u.ID), Initiated: refOf(u.Initiated), StorageClass: refOf(u.StorageClass),
			Owner: ownerOf(u.Owner), Initiator: initiatorOf(u)}
		if u.ChecksumAlgorithm != "" {
			mu.ChecksumAlgorithm, mu.ChecksumType = refOf(u.ChecksumAlgorithm), refOf(u.ChecksumType)
		}
		out.Uploads = append(out.Uploads, mu)
	}
	for _, p := range page.prefixes {
		out.CommonPrefixes = append(out.CommonPrefixes, CommonPrefix{Prefix: enc(p)})
	}
	if page.truncated {
		out.NextKeyMarker, out.NextUploadIdMarker = enc(page.nextKey), refOf(page.nextID)
	}
	return out, nil
}

func orZero[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func refOf[T any](v T) *T { return &v }
