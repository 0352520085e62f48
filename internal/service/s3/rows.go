package s3

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/kiri-run/kiri/internal/store"
)

// Versioning states of a bucket ("" means never enabled).
const (
	versioningEnabled   = "Enabled"
	versioningSuspended = "Suspended"
	nullVersion         = "null"
)

// bucket is one row of s3_buckets.
type bucket struct {
	Name, Account, Region string
	Created               time.Time
	Versioning            string
	Ownership             string
	// Configs lists the configuration kinds the bucket has (",policy,cors,"), so requests skip
	// reading configurations a bucket does not have; "*" means unknown (read them all).
	Configs string
}

// mayHave reports whether the bucket may have a configuration of kind.
func (b bucket) mayHave(kind string) bool {
	return b.Configs == configsUnknown || strings.Contains(b.Configs, ","+kind+",")
}

// querier is what both the read pool and a write transaction offer.
type querier interface {
	QueryRow(query string, args ...any) *sql.Row
}

// readQuerier adapts the store's read side to querier.
type readQuerier struct {
	ctx     context.Context
	st      *store.Store
	buckets *bucketCache // nil: no cache
}

func (r readQuerier) QueryRow(q string, args ...any) *sql.Row {
	return r.st.QueryRow(r.ctx, q, args...)
}

func (s *Service) reader(ctx context.Context) querier { return readQuerier{ctx, s.st, s.buckets} }

// loadBucket reads a bucket; a missing one is NoSuchBucket.
func loadBucket(q querier, name string) (bucket, error) {
	if r, ok := q.(readQuerier); ok && r.buckets != nil {
		b, gen, ok := r.buckets.get(name)
		if ok {
			return b, nil
		}
		b, err := readBucket(q, name)
		if err == nil {
			r.buckets.put(b, gen)
		}
		return b, err
	}
	return readBucket(q, name)
}

func readBucket(q querier, name string) (bucket, error) {
	b := bucket{Name: name}
	var created int64
	err := q.QueryRow(`SELECT account, region, created_at, versioning, ownership, config_kinds FROM s3_buckets WHERE name = ?`, name).
		Scan(&b.Account, &b.Region, &created, &b.Versioning, &b.Ownership, &b.Configs)
	if errors.Is(err, sql.ErrNoRows) {
		return bucket{}, errNoSuchBucket(name)
	}
	if err != nil {
		return bucket{}, err
	}
	b.Created = time.UnixMilli(created)
	return b, nil
}

// objectHeaders are the HTTP headers stored with an object and returned on GET and HEAD.
type objectHeaders struct {
	ContentType        string `json:"ct,omitempty"`
	ContentEncoding    string `json:"ce,omitempty"`
	ContentDisposition string `json:"cd,omitempty"`
	ContentLanguage    string `json:"cl,omitempty"`
	CacheControl       string `json:"cc,omitempty"`
	Expires            string `json:"ex,omitempty"`
	WebsiteRedirect    string `json:"wr,omitempty"`
	SSE                string `json:"sse,omitempty"`
	SSEKMSKeyID        string `json:"kms,omitempty"`
	ChecksumType       string `json:"cst,omitempty"`
	// UploadID is the multipart upload that made the version, so a repeated
	// CompleteMultipartUpload can be answered again (multipart_again.go).
	UploadID string `json:"mu,omitempty"`
	// SSE-KMS and SSE-C details (sse.go).
	SSEKMSContext    string `json:"kmsctx,omitempty"`
	BucketKeyEnabled bool   `json:"bke,omitempty"`
	SSECAlgorithm    string `json:"ssec,omitempty"`
	SSECKeyMD5       string `json:"ssecmd5,omitempty"`
	SSECIV           []byte `json:"sseciv,omitempty"`
	// Object lock state of the version (object_lock.go).
	LockMode      string `json:"lm,omitempty"`
	LockUntil     string `json:"lu,omitempty"` // RFC 3339
	LockLegalHold string `json:"lh,omitempty"`
}

// tag is one object or bucket tag, kept in the order the client sent.
type tag struct {
	Key   string `json:"k"`
	Value string `json:"v"`
}

// object is one version of an object (or a delete marker): a row of s3_objects.
type object struct {
	Bucket, Key, VersionID string
	Seq                    int64
	IsLatest, DeleteMarker bool
	Size                   int64
	ETag                   string // quoted
	LastModified           time.Time
	Owner                  string
	Headers                objectHeaders
	Metadata               map[string]string
	Checksums              map[string]string // base64 by algorithm
	Tags                   []tag
	StorageClass           string
	// Parts is the manifest of a multipart object: its part bodies in order. Such an object
	// has no Inline or BlobKey of its own.
	Parts   []partRef
	Inline  []byte
	BlobKey string
}

// partRef is one part of a multipart object: where its bytes are and how many there are.
type partRef struct {
	Size    int64  `json:"s"`
	ETag    string `json:"e,omitempty"`
	BlobKey string `json:"b,omitempty"`
	Inline  []byte `json:"i,omitempty"`
	// Checksums of the part (base64 by algorithm), for composite checksums and GetObject partNumber.
	Checksums map[string]string `json:"c,omitempty"`
	// IV is the SSE-C counter block the part's bytes were encrypted from (nil: plaintext).
	IV []byte `json:"iv,omitempty"`
}

const objectColumns = `bucket, okey, version_id, seq, is_latest, delete_marker, size, etag, last_modified, owner,
	headers, metadata, checksums, tags, storage_class, parts, inline_data, blob_key`

type scanner interface{ Scan(dest ...any) error }

func scanObject(r scanner) (object, error) {
	var o object
	var modified int64
	var headers, meta, sums, tags, parts string
	err := r.Scan(&o.Bucket, &o.Key, &o.VersionID, &o.Seq, &o.IsLatest, &o.DeleteMarker, &o.Size, &o.ETag, &modified,
		&o.Owner, &headers, &meta, &sums, &tags, &o.StorageClass, &parts, &o.Inline, &o.BlobKey)
	if err != nil {
		return object{}, err
	}
	o.LastModified = time.UnixMilli(modified).UTC()
	for _, f := range []struct {
		raw string
		dst any
	}{{headers, &o.Headers}, {meta, &o.Metadata}, {sums, &o.Checksums}, {tags, &o.Tags}, {parts, &o.Parts}} {
		if f.raw != "" && f.raw != "null" { // mustJSON stores an empty map or slice as null
			if err := json.Unmarshal([]byte(f.raw), f.dst); err != nil {
				return object{}, err
			}
		}
	}
	return o, nil
}

// loadObject reads a version of an object: the latest when versionID is "". It returns
// NoSuchKey (or NoSuchVersion) when there is none; a delete marker is returned as a row and the
// caller decides.
func loadObject(q querier, bucketName, key, versionID string) (object, error) {
	var row *sql.Row
	if versionID == "" {
		row = q.QueryRow(`SELECT `+objectColumns+` FROM s3_objects WHERE bucket = ? AND okey = ? AND is_latest = TRUE`, bucketName, key)
	} else {
		row = q.QueryRow(`SELECT `+objectColumns+` FROM s3_objects WHERE bucket = ? AND okey = ? AND version_id = ?`, bucketName, key, versionID)
	}
	o, err := scanObject(row)
	if errors.Is(err, sql.ErrNoRows) {
		if versionID != "" {
			return object{}, errNoSuchVersion(key, versionID)
		}
		return object{}, errNoSuchKey(key)
	}
	return o, err
}

// loadLiveVersion loads a version that holds data, for operations on an object's data or
// subresources: a delete marker is NoSuchKey when it is the latest version, and
// MethodNotAllowed for method when named by version id.
func loadLiveVersion(q querier, bucketName, key, versionID, method string) (object, error) {
	o, err := loadObject(q, bucketName, key, versionID)
	if err != nil {
		return object{}, err
	}
	if o.DeleteMarker {
		if versionID == "" {
			return object{}, errNoSuchKey(key)
		}
		return object{}, errDeleteMarkerMethod(method)
	}
	return o, nil
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// putVersion writes o as the newest version of its key, as the bucket's versioning state
// says: a bucket never versioned, or suspended, replaces the "null" version (freeing its
// bytes); an enabled one keeps every version. o.VersionID, o.Seq and o.IsLatest are set here.
func (s *Service) putVersion(tx *store.Tx, versioning string, o *object) error {
	if versioning == "" {
		return s.replaceNullVersion(tx, o)
	}
	var seq int64
	if err := tx.QueryRow(`SELECT COALESCE(MAX(seq), 0) FROM s3_objects WHERE bucket = ? AND okey = ?`, o.Bucket, o.Key).Scan(&seq); err != nil {
		return err
	}
	o.Seq, o.IsLatest = seq+1, true
	if versioning == versioningEnabled {
		o.VersionID = newVersionID()
	} else {
		o.VersionID = nullVersion
		if err := s.removeRow(tx, o.Bucket, o.Key, nullVersion); err != nil {
			return err
		}
	}
	if _, err := tx.Exec(`UPDATE s3_objects SET is_latest = FALSE WHERE bucket = ? AND okey = ? AND is_latest = TRUE`, o.Bucket, o.Key); err != nil {
		return err
	}
	_, err := tx.Exec(`INSERT INTO s3_objects (`+objectColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		o.Bucket, o.Key, o.VersionID, o.Seq, o.IsLatest, o.DeleteMarker, o.Size, o.ETag, o.LastModified.UnixMilli(), o.Owner,
		mustJSON(o.Headers), mustJSON(o.Metadata), mustJSON(o.Checksums), mustJSON(o.Tags), o.StorageClass, mustJSON(o.Parts),
		o.Inline, o.BlobKey)
	return err
}

// replaceNullVersion is putVersion for a bucket that was never versioned, whose keys have only
// the "null" version. Most puts make a new key, so it first tries a plain insert; only if the
// key has a row does it read the old row (for its seq and bytes) and overwrite it.
func (s *Service) replaceNullVersion(tx *store.Tx, o *object) error {
	o.Seq, o.IsLatest, o.VersionID = 1, true, nullVersion
	args := []any{o.Bucket, o.Key, o.VersionID, o.Seq, o.IsLatest, o.DeleteMarker, o.Size, o.ETag, o.LastModified.UnixMilli(), o.Owner,
		mustJSON(o.Headers), mustJSON(o.Metadata), mustJSON(o.Checksums), mustJSON(o.Tags), o.StorageClass, mustJSON(o.Parts),
		o.Inline, o.BlobKey}
	res, err := tx.Exec(`INSERT INTO s3_objects (`+objectColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (bucket, okey, version_id) DO NOTHING`, args...)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return err
	}
	var seq int64
	var blobKey, parts string
	if err := tx.QueryRow(`SELECT seq, blob_key, parts FROM s3_objects WHERE bucket = ? AND okey = ? AND version_id = ?`,
		o.Bucket, o.Key, nullVersion).Scan(&seq, &blobKey, &parts); err != nil {
		return err
	}
	o.Seq = seq + 1
	args[3] = o.Seq
	if _, err := tx.Exec(`UPDATE s3_objects SET seq = ?, is_latest = ?, delete_marker = ?, size = ?, etag = ?, last_modified = ?,
		owner = ?, headers = ?, metadata = ?, checksums = ?, tags = ?, storage_class = ?, parts = ?, inline_data = ?, blob_key = ?
		WHERE bucket = ? AND okey = ? AND version_id = ?`, append(args[3:], args[:3]...)...); err != nil {
		return err
	}
	return s.releaseBlobs(tx, blobKey, parts)
}

// removeVersion deletes one version row, frees its bytes, and, if it was the latest, makes
// the next newest version the latest. It reports whether a row was removed.
func (s *Service) removeVersion(tx *store.Tx, bucketName, key, versionID string) (bool, error) {
	var latest bool
	err := tx.QueryRow(`SELECT is_latest FROM s3_objects WHERE bucket = ? AND okey = ? AND version_id = ?`, bucketName, key, versionID).Scan(&latest)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := s.removeRow(tx, bucketName, key, versionID); err != nil {
		return false, err
	}
	if latest {
		_, err = tx.Exec(`UPDATE s3_objects SET is_latest = TRUE WHERE bucket = ? AND okey = ? AND seq =
			(SELECT MAX(seq) FROM s3_objects WHERE bucket = ? AND okey = ?)`, bucketName, key, bucketName, key)
	}
	return true, err
}

// removeRow deletes a version row if present and schedules its blobs for collection.
func (s *Service) removeRow(tx *store.Tx, bucketName, key, versionID string) error {
	var blobKey, parts string
	err := tx.QueryRow(`SELECT blob_key, parts FROM s3_objects WHERE bucket = ? AND okey = ? AND version_id = ?`, bucketName, key, versionID).Scan(&blobKey, &parts)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	if _, err := tx.Exec(`DELETE FROM s3_objects WHERE bucket = ? AND okey = ? AND version_id = ?`, bucketName, key, versionID); err != nil {
		return err
	}
	return s.releaseBlobs(tx, blobKey, parts)
}

// releaseBlobs schedules the bytes of a removed version (its body, or its parts' bodies) for
// collection.
func (s *Service) releaseBlobs(tx *store.Tx, blobKey, parts string) error {
	if err := s.releaseBlob(tx, blobKey); err != nil {
		return err
	}
	var refs []partRef
	if parts != "" {
		if err := json.Unmarshal([]byte(parts), &refs); err != nil {
			return err
		}
	}
	for _, p := range refs {
		if err := s.releaseBlob(tx, p.BlobKey); err != nil {
			return err
		}
	}
	return nil
}

// newVersionID returns a URL-safe id like S3's 32-character version ids.
func newVersionID() string {
	var b [24]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
