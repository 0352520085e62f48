package s3

import (
	"context"
	"encoding/base64"
	"math"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/kiri-run/kiri/internal/awsproto"
)

// defaultMaxKeys is the page size of listings that ask for none (and the most S3 returns).
const defaultMaxKeys = 1000

// listColumns are objectColumns without what listings never need: the bodies, and the columns
// stored after the inline body, whose reading would load its overflow pages.
var listColumns = strings.NewReplacer("metadata,", "'' AS metadata,", "tags,", "'' AS tags,", "parts,", "'' AS parts,",
	"inline_data", "NULL", "blob_key", "'' AS blob_key").Replace(objectColumns)

// listCursor is a position in a listing: rows with okey > Key, or okey = Key and seq < Seq.
// Seq = math.MaxInt64 makes Key itself included; Seq = 0 excludes it.
type listCursor struct {
	Key string
	Seq int64
}

// listQuery says what to list.
type listQuery struct {
	Bucket, Prefix, Delimiter string
	// After is the marker, start-after or continuation point: a common prefix at or before it
	// is not listed again.
	After    string
	Start    listCursor
	MaxKeys  int
	Versions bool // every version and delete marker, newest first per key; else latest objects
}

// listEntry is one result: an object version, or a common prefix when Prefix is set.
type listEntry struct {
	Prefix string
	Obj    object
}

// listPage is one page of a listing.
type listPage struct {
	Entries   []listEntry
	Truncated bool
}

// list pages through a bucket's keys in UTF-8 byte order, rolling keys up into common prefixes
// at the delimiter and jumping past each rolled-up prefix instead of reading its keys.
func (s *Service) list(ctx context.Context, lq listQuery) (listPage, error) {
	var page listPage
	if lq.MaxKeys <= 0 {
		return page, nil
	}
	cur := lq.Start
	if lq.Prefix > cur.Key {
		cur = listCursor{Key: lq.Prefix, Seq: math.MaxInt64}
	}
	skipPrefix := "" // a common prefix whose keys are being skipped one by one
	for {
		limit := min(max(lq.MaxKeys-len(page.Entries)+1, 2), defaultMaxKeys+1)
		rows, err := s.fetchListRows(ctx, lq, cur, limit)
		if err != nil {
			return listPage{}, err
		}
		jumped := false
		for _, o := range rows {
			if !strings.HasPrefix(o.Key, lq.Prefix) {
				return page, nil
			}
			cur = listCursor{Key: o.Key, Seq: o.Seq}
			if !lq.Versions {
				cur.Seq = 0
			}
			if skipPrefix != "" && strings.HasPrefix(o.Key, skipPrefix) {
				continue
			}
			if cp, ok := commonPrefix(o.Key, lq.Prefix, lq.Delimiter); ok {
				if cp > lq.After {
					if len(page.Entries) == lq.MaxKeys {
						page.Truncated = true
						return page, nil
					}
					page.Entries = append(page.Entries, listEntry{Prefix: cp})
				}
				if next, ok := prefixSuccessor(cp); ok {
					cur, jumped = listCursor{Key: next, Seq: math.MaxInt64}, true
					break
				}
				skipPrefix = cp
				continue
			}
			if len(page.Entries) == lq.MaxKeys {
				page.Truncated = true
				return page, nil
			}
			page.Entries = append(page.Entries, listEntry{Obj: o})
		}
		if !jumped && len(rows) < limit {
			return page, nil
		}
	}
}

func (s *Service) fetchListRows(ctx context.Context, lq listQuery, cur listCursor, limit int) ([]object, error) {
	query := `SELECT ` + listColumns + ` FROM s3_objects WHERE bucket = ? AND is_latest = TRUE AND delete_marker = FALSE
		AND okey >= ? AND (okey > ? OR seq < ?) ORDER BY okey LIMIT ?`
	if lq.Versions {
		query = `SELECT ` + listColumns + ` FROM s3_objects WHERE bucket = ?
		AND okey >= ? AND (okey > ? OR seq < ?) ORDER BY okey, seq DESC LIMIT ?`
	}
	rows, err := s.st.Query(ctx, query, lq.Bucket, cur.Key, cur.Key, cur.Seq, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []object
	for rows.Next() {
		o, err := scanObject(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// commonPrefix returns the common prefix key rolls up into: prefix through the first
// delimiter after it.
func commonPrefix(key, prefix, delimiter string) (string, bool) {
	if delimiter == "" {
		return "", false
	}
	i := strings.Index(key[len(prefix):], delimiter)
	if i < 0 {
		return "", false
	}
	return key[:len(prefix)+i+len(delimiter)], true
}

// prefixSuccessor returns the least string greater than every string that starts with p, if it
// is valid UTF-8 (the store compares keys as bytes; PostgreSQL accepts only valid text).
func prefixSuccessor(p string) (string, bool) {
	b := []byte(p)
	for len(b) > 0 && b[len(b)-1] == 0xff {
		b = b[:len(b)-1]
	}
	if len(b) == 0 {
		return "", false
	}
	b[len(b)-1]++
	return string(b), utf8.Valid(b)
}

// parseMaxKeys applies S3's max-keys rules: default and cap 1000, negative is an error.
func parseMaxKeys(v *int32) (int, error) {
	if v == nil {
		return defaultMaxKeys, nil
	}
	if *v < 0 {
		return 0, errInvalidArgument("max-keys", strconv.Itoa(int(*v)), "Argument maxKeys must be an integer between 0 and 2147483647")
	}
	return min(int(*v), defaultMaxKeys), nil
}

// listEncoder applies encoding-type=url to the keys and prefixes of a listing.
type listEncoder bool

func newListEncoder(encodingType *string) (listEncoder, error) {
	switch v := awsproto.Value(encodingType); v {
	case "":
		return false, nil
	case "url":
		return true, nil
	default:
		return false, errInvalidArgument("encoding-type", v, "Invalid Encoding Method specified in Request")
	}
}

// str returns v (URL-encoded when asked) as an optional member: nil when empty.
func (e listEncoder) str(v string) *string {
	if v == "" {
		return nil
	}
	return awsproto.Ptr(e.enc(v))
}

// enc URL-encodes as S3 does for encoding-type=url: every byte but the unreserved ones and
// "/" is percent-encoded, a space as %20.
func (e listEncoder) enc(v string) string {
	if !e {
		return v
	}
	return listEscaper.Replace(url.QueryEscape(v))
}

var listEscaper = strings.NewReplacer("+", "%20", "%2F", "/")

func (e listEncoder) encodingType() *string {
	if e {
		return awsproto.Ptr("url")
	}
	return nil
}

func (e listEncoder) prefixes(page listPage) []CommonPrefix {
	var out []CommonPrefix
	for _, en := range page.Entries {
		if en.Obj.Key == "" {
			out = append(out, CommonPrefix{Prefix: awsproto.Ptr(e.enc(en.Prefix))})
		}
	}
	return out
}

func (e listEncoder) contents(page listPage, withOwner bool) []Object {
	var out []Object
	for _, en := range page.Entries {
		o := en.Obj
		if o.Key == "" {
			continue
		}
		item := Object{Key: awsproto.Ptr(e.enc(o.Key)), LastModified: awsproto.Ptr(o.LastModified), ETag: awsproto.Ptr(o.ETag),
			Size: awsproto.Ptr(o.Size), StorageClass: awsproto.Ptr(storageClassOf(o)), ChecksumAlgorithm: checksumAlgorithmList(o)}
		if len(item.ChecksumAlgorithm) > 0 && o.Headers.ChecksumType != "" {
			item.ChecksumType = awsproto.Ptr(o.Headers.ChecksumType)
		}
		if withOwner {
			item.Owner = objectOwner(o.Owner)
		}
		out = append(out, item)
	}
	return out
}

func storageClassOf(o object) string {
	if o.StorageClass == "" {
		return "STANDARD"
	}
	return o.StorageClass
}

func checksumAlgorithmList(o object) []string {
	var out []string
	for a := range o.Checksums {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}

// lastEntryName is the key or common prefix that ends a page: where the next page starts.
func lastEntryName(page listPage) string {
	if len(page.Entries) == 0 {
		return ""
	}
	en := page.Entries[len(page.Entries)-1]
	if en.Obj.Key != "" {
		return en.Obj.Key
	}
	return en.Prefix
}

func (s *Service) listObjects(ctx context.Context, in *ListObjectsRequest) (*ListObjectsOutput, error) {
	b, err := s.authorize(ctx, s.reader(ctx), awsproto.Value(in.Bucket), "s3:ListBucket")
	if err != nil {
		return nil, err
	}
	maxKeys, err := parseMaxKeys(in.MaxKeys)
	if err != nil {
		return nil, err
	}
	enc, err := newListEncoder(in.EncodingType)
	if err != nil {
		return nil, err
	}
	marker, prefix, delim := awsproto.Value(in.Marker), awsproto.Value(in.Prefix), awsproto.Value(in.Delimiter)
	page, err := s.list(ctx, listQuery{Bucket: b.Name, Prefix: prefix, Delimiter: delim, After: marker,
		Start: listCursor{Key: marker}, MaxKeys: maxKeys})
	if err != nil {
		return nil, err
	}
	out := &ListObjectsOutput{
		// ListObjects (v1) url-encodes Marker, NextMarker, Delimiter and keys, never Prefix.
		Name: awsproto.Ptr(b.Name), Prefix: awsproto.Ptr(prefix), Marker: awsproto.Ptr(enc.enc(marker)),
		MaxKeys: awsproto.Ptr(int32(maxKeys)), Delimiter: enc.str(delim), EncodingType: enc.encodingType(),
		IsTruncated: awsproto.Ptr(page.Truncated), Contents: enc.contents(page, true), CommonPrefixes: enc.prefixes(page),
	}
	if page.Truncated && delim != "" {
		out.NextMarker = enc.str(lastEntryName(page))
	}
	return out, nil
}

func (s *Service) listObjectsV2(ctx context.Context, in *ListObjectsV2Request) (*ListObjectsV2Output, error) {
	b, err := s.authorize(ctx, s.reader(ctx), awsproto.Value(in.Bucket), "s3:ListBucket")
	if err != nil {
		return nil, err
	}
	maxKeys, err := parseMaxKeys(in.MaxKeys)
	if err != nil {
		return nil, err
	}
	enc, err := newListEncoder(in.EncodingType)
	if err != nil {
		return nil, err
	}
	prefix, delim, startAfter := awsproto.Value(in.Prefix), awsproto.Value(in.Delimiter), awsproto.Value(in.StartAfter)
	after := startAfter
	if in.ContinuationToken != nil {
		raw, err := base64.RawURLEncoding.DecodeString(*in.ContinuationToken)
		if err != nil || *in.ContinuationToken == "" {
			return nil, errInvalidArgument("continuation-token", *in.ContinuationToken, "The continuation token provided is incorrect")
		}
		after = string(raw)
	}
	page, err := s.list(ctx, listQuery{Bucket: b.Name, Prefix: prefix, Delimiter: delim, After: after,
		Start: listCursor{Key: after}, MaxKeys: maxKeys})
	if err != nil {
		return nil, err
	}
	contents := enc.contents(page, awsproto.Value(in.FetchOwner))
	prefixes := enc.prefixes(page)
	out := &ListObjectsV2Output{
		Name: awsproto.Ptr(b.Name), Prefix: awsproto.Ptr(enc.enc(prefix)), MaxKeys: awsproto.Ptr(int32(maxKeys)),
		Delimiter: enc.str(delim), EncodingType: enc.encodingType(), StartAfter: enc.str(startAfter),
		ContinuationToken: in.ContinuationToken, IsTruncated: awsproto.Ptr(page.Truncated),
		KeyCount: awsproto.Ptr(int32(len(contents) + len(prefixes))), Contents: contents, CommonPrefixes: prefixes,
	}
	if page.Truncated {
		out.NextContinuationToken = awsproto.Ptr(base64.RawURLEncoding.EncodeToString([]byte(lastEntryName(page))))
	}
	return out, nil
}

func (s *Service) listObjectVersions(ctx context.Context, in *ListObjectVersionsRequest) (*ListObjectVersionsOutput, error) {
	q := s.reader(ctx)
	b, err := s.authorize(ctx, q, awsproto.Value(in.Bucket), "s3:ListBucketVersions")
	if err != nil {
		return nil, err
	}
	maxKeys, err := parseMaxKeys(in.MaxKeys)
	if err != nil {
		return nil, err
	}
	enc, err := newListEncoder(in.EncodingType)
	if err != nil {
		return nil, err
	}
	prefix, delim := awsproto.Value(in.Prefix), awsproto.Value(in.Delimiter)
	keyMarker, versionMarker := awsproto.Value(in.KeyMarker), awsproto.Value(in.VersionIdMarker)
	start := listCursor{Key: keyMarker}
	if versionMarker != "" {
		if keyMarker == "" {
			return nil, errInvalidArgument("version-id-marker", versionMarker, "A version-id marker cannot be specified without a key marker.")
		}
		o, err := loadObject(q, b.Name, keyMarker, versionMarker)
		switch {
		case err == nil:
			start.Seq = o.Seq
		case isCode(err, "NoSuchVersion") || isCode(err, "NoSuchKey"):
			// The marker's version was deleted since the last page (a client emptying the
			// bucket page by page): the key's remaining versions are the ones left to list.
			start.Seq = math.MaxInt64
		default:
			return nil, err
		}
	}
	page, err := s.list(ctx, listQuery{Bucket: b.Name, Prefix: prefix, Delimiter: delim, After: keyMarker,
		Start: start, MaxKeys: maxKeys, Versions: true})
	if err != nil {
		return nil, err
	}
	out := &ListObjectVersionsOutput{
		Name: awsproto.Ptr(b.Name), Prefix: awsproto.Ptr(enc.enc(prefix)), MaxKeys: awsproto.Ptr(int32(maxKeys)),
		Delimiter: enc.str(delim), EncodingType: enc.encodingType(), KeyMarker: awsproto.Ptr(enc.enc(keyMarker)),
		VersionIdMarker: awsproto.Ptr(versionMarker), IsTruncated: awsproto.Ptr(page.Truncated), CommonPrefixes: enc.prefixes(page),
	}
	for _, en := range page.Entries {
		o := en.Obj
		if o.Key == "" {
			continue
		}
		if o.DeleteMarker {
			out.DeleteMarkers = append(out.DeleteMarkers, DeleteMarkerEntry{Key: awsproto.Ptr(enc.enc(o.Key)), VersionId: awsproto.Ptr(o.VersionID),
				IsLatest: awsproto.Ptr(o.IsLatest), LastModified: awsproto.Ptr(o.LastModified), Owner: objectOwner(o.Owner)})
			continue
		}
		v := ObjectVersion{Key: awsproto.Ptr(enc.enc(o.Key)), VersionId: awsproto.Ptr(o.VersionID), IsLatest: awsproto.Ptr(o.IsLatest),
			LastModified: awsproto.Ptr(o.LastModified), ETag: awsproto.Ptr(o.ETag), Size: awsproto.Ptr(o.Size),
			StorageClass: awsproto.Ptr(storageClassOf(o)), Owner: objectOwner(o.Owner), ChecksumAlgorithm: checksumAlgorithmList(o)}
		if len(v.ChecksumAlgorithm) > 0 && o.Headers.ChecksumType != "" {
			v.ChecksumType = awsproto.Ptr(o.Headers.ChecksumType)
		}
		out.Versions = append(out.Versions, v)
	}
	if page.Truncated {
		last := page.Entries[len(page.Entries)-1]
		if last.Obj.Key != "" {
			out.NextKeyMarker = awsproto.Ptr(enc.enc(last.Obj.Key))
			out.NextVersionIdMarker = awsproto.Ptr(last.Obj.VersionID)
		} else {
			out.NextKeyMarker = awsproto.Ptr(enc.enc(last.Prefix))
		}
	}
	return out, nil
}

// objectOwner is the Owner element listings show for an object's owning account.
func objectOwner(account string) *Owner {
	if account == "" {
		return nil
	}
	return ownerOf(account)
}
