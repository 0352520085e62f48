package s3

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/store"
)

// defaultRegion is the region of requests that name none, and S3's "no location constraint".
const defaultRegion = "us-east-1"

// registerBucketOps registers the bucket operations.
func (s *Service) registerBucketOps() {
	awsproto.Handle(s.api, "CreateBucket", s.createBucket)
	awsproto.Handle(s.api, "DeleteBucket", s.deleteBucket)
	awsproto.Handle(s.api, "HeadBucket", s.headBucket)
	awsproto.Handle(s.api, "ListBuckets", s.listBuckets)
	awsproto.Handle(s.api, "GetBucketLocation", s.getBucketLocation)
	awsproto.Handle(s.api, "PutBucketVersioning", s.putBucketVersioning)
	awsproto.Handle(s.api, "GetBucketVersioning", s.getBucketVersioning)
	s.registerBucketConfigOps()
	s.registerObjectLockOps()
	s.registerCORSOps()
	s.registerACLOps()
	s.registerLifecycleOps()
	s.registerAccessOps()
}

// callOf returns the request's call, or an empty one (unit tests call handlers directly).
func callOf(ctx context.Context) *awsproto.Call {
	if c := awsproto.CallFrom(ctx); c != nil {
		if c.ResponseHeader == nil {
			c.ResponseHeader = http.Header{}
		}
		return c
	}
	return &awsproto.Call{ResponseHeader: http.Header{}}
}

// callerAccount is the account a request acts for: "" for an anonymous request, the dev
// account when there is no call at all (unit tests).
func callerAccount(ctx context.Context) string {
	c := awsproto.CallFrom(ctx)
	if c == nil {
		return "000000000000"
	}
	return c.AccountID
}

// callerRegion is the region a request was signed for.
func callerRegion(ctx context.Context) string {
	if r := callOf(ctx).Region; r != "" {
		return r
	}
	return defaultRegion
}

func errAccessDenied() *awsproto.Error {
	return awsproto.Errorf("AccessDenied", http.StatusForbidden, "Access Denied")
}

// ownedBucket loads a bucket the caller's account owns: another account's bucket is AccessDenied,
// as S3 answers requests without a granting policy.
func (s *Service) ownedBucket(ctx context.Context, q querier, name string) (bucket, error) {
	b, err := loadBucket(q, name)
	if err != nil {
		return bucket{}, err
	}
	if b.Account != callerAccount(ctx) {
		return bucket{}, errAccessDenied()
	}
	return b, nil
}

var (
	bucketNameChars = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	regionName      = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
)

// validBucketName reports whether name follows S3's general purpose bucket naming rules.
func validBucketName(name string) bool {
	if !bucketNameChars.MatchString(name) || strings.Contains(name, "..") ||
		strings.Contains(name, ".-") || strings.Contains(name, "-.") || net.ParseIP(name) != nil {
		return false
	}
	for _, p := range []string{"xn--", "sthree-", "amzn-s3-demo-"} {
		if strings.HasPrefix(name, p) {
			return false
		}
	}
	for _, suf := range []string{"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"} {
		if strings.HasSuffix(name, suf) {
			return false
		}
	}
	return true
}

func errInvalidBucketName(name string) *awsproto.Error {
	return &awsproto.Error{Code: "InvalidBucketName", Status: 400, Message: "The specified bucket is not valid.",
		Fields: map[string]string{"BucketName": name}}
}

// bucketRegion works out the region a new bucket lives in from the request's region and its
// LocationConstraint, as S3 does: us-east-1 (the legacy global endpoint) takes any valid
// constraint but refuses its own name; every other region wants exactly its own.
func bucketRegion(requestRegion string, cfg *CreateBucketConfiguration) (string, error) {
	constraint := ""
	if cfg != nil {
		constraint = awsproto.Value(cfg.LocationConstraint)
	}
	if constraint == "EU" {
		constraint = "eu-west-1"
	}
	if constraint != "" && !regionName.MatchString(constraint) {
		return "", &awsproto.Error{Code: "InvalidLocationConstraint", Status: 400,
			Message: "The specified location-constraint is not valid", Fields: map[string]string{"LocationConstraint": constraint}}
	}
	switch {
	case requestRegion == defaultRegion && constraint == defaultRegion:
		return "", &awsproto.Error{Code: "InvalidLocationConstraint", Status: 400,
			Message: "The specified location-constraint is not valid", Fields: map[string]string{"LocationConstraint": constraint}}
	case requestRegion == defaultRegion && constraint == "":
		return defaultRegion, nil
	case requestRegion == defaultRegion:
		return constraint, nil
	case constraint == "":
		return "", awsproto.Errorf("IllegalLocationConstraintException", 400,
			"The unspecified location constraint is incompatible for the region specific endpoint this request was sent to.")
	case constraint != requestRegion:
		return "", awsproto.Errorf("IllegalLocationConstraintException", 400,
			"The %s location constraint is incompatible for the region specific endpoint this request was sent to.", constraint)
	}
	return constraint, nil
}

// objectOwnerships are the accepted x-amz-object-ownership values.
var objectOwnerships = map[string]bool{"BucketOwnerPreferred": true, "ObjectWriter": true, "BucketOwnerEnforced": true}

func (s *Service) createBucket(ctx context.Context, in *CreateBucketRequest) (*CreateBucketOutput, error) {
	name := awsproto.Value(in.Bucket)
	if !validBucketName(name) {
		return nil, errInvalidBucketName(name)
	}
	region, err := bucketRegion(callerRegion(ctx), in.CreateBucketConfiguration)
	if err != nil {
		return nil, err
	}
	ownership := awsproto.Value(in.ObjectOwnership)
	if ownership != "" && !objectOwnerships[ownership] {
		return nil, errInvalidArgument("x-amz-object-ownership", ownership, "Invalid x-amz-object-ownership header: %s", ownership)
	}
	if callerPrincipal(ctx).Anonymous {
		return nil, errAccessDenied()
	}
	account := callerAccount(ctx)
	acl, err := aclFromRequest(aclRequest{
		Canned: awsproto.Value(in.ACL), FullControl: awsproto.Value(in.GrantFullControl), Read: awsproto.Value(in.GrantRead),
		ReadACP: awsproto.Value(in.GrantReadACP), Write: awsproto.Value(in.GrantWrite), WriteACP: awsproto.Value(in.GrantWriteACP),
	}, account, account, true)
	if err != nil {
		return nil, err
	}
	if ownership == "BucketOwnerEnforced" && acl != nil && !acl.ownerOnly(account) {
		return nil, errBucketACLWithOwnership()
	}
	var tags []tag
	if cfg := in.CreateBucketConfiguration; cfg != nil && len(cfg.Tags) > 0 {
		if tags, err = validTags(cfg.Tags); err != nil {
			return nil, err
		}
	}
	versioning := ""
	if awsproto.Value(in.ObjectLockEnabledForBucket) {
		versioning = versioningEnabled
	}
	err = s.st.Write(ctx, func(tx *store.Tx) error {
		existing, err := loadBucket(tx, name)
		var nsb *awsproto.Error
		switch {
		case err == nil && existing.Account != account:
			return awsproto.Errorf("BucketAlreadyExists", 409,
				"The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.")
		case err == nil && existing.Region == defaultRegion && region == defaultRegion:
			// us-east-1 legacy: re-creating your own bucket succeeds and resets its ACL.
			return s.setBucketACL(tx, name, acl)
		case err == nil:
			return &awsproto.Error{Code: "BucketAlreadyOwnedByYou", Status: 409,
				Message: "Your previous request to create the named bucket succeeded and you already own it.",
				Fields:  map[string]string{"BucketName": name}}
		case !errors.As(err, &nsb):
			return err
		}
		s.bucketChanged(tx, name)
		if _, err := tx.Exec(`INSERT INTO s3_buckets (name, account, region, created_at, versioning, ownership) VALUES (?, ?, ?, ?, ?, ?)`,
			name, account, region, s.now().UnixMilli(), versioning, ownership); err != nil {
			return err
		}
		if _, err := tx.Exec(`DELETE FROM s3_bucket_configs WHERE bucket = ?`, name); err != nil {
			return err
		}
		if versioning == versioningEnabled {
			if err := s.putConfig(tx, name, configObjectLock, lockConfig{Enabled: true}); err != nil {
				return err
			}
		}
		if len(tags) > 0 {
			if err := s.putConfig(tx, name, configTagging, tags); err != nil {
				return err
			}
		}
		return s.setBucketACL(tx, name, acl)
	})
	if err != nil {
		return nil, err
	}
	callOf(ctx).ResponseHeader.Set("x-amz-bucket-arn", bucketARN(name))
	return &CreateBucketOutput{Location: awsproto.Ptr("/" + name), BucketArn: awsproto.Ptr(bucketARN(name))}, nil
}

// setBucketACL stores a bucket's ACL; nil means the default, the owner's full control.
func (s *Service) setBucketACL(tx *store.Tx, name string, acl *aclPolicy) error {
	if acl == nil {
		return s.deleteConfig(tx, name, configACL)
	}
	return s.putConfig(tx, name, configACL, acl)
}

func bucketARN(name string) string { return "arn:aws:s3:::" + name }

func (s *Service) deleteBucket(ctx context.Context, in *DeleteBucketRequest) (*struct{}, error) {
	name := awsproto.Value(in.Bucket)
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		if _, err := s.authorize(ctx, tx, name, operationAction(ctx)); err != nil {
			return err
		}
		var one int
		err := tx.QueryRow(`SELECT 1 FROM s3_objects WHERE bucket = ? LIMIT 1`, name).Scan(&one)
		if err == nil {
			return &awsproto.Error{Code: "BucketNotEmpty", Status: 409, Message: "The bucket you tried to delete is not empty",
				Fields: map[string]string{"BucketName": name}}
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if err := s.abortAllUploads(tx, name); err != nil {
			return err
		}
		s.bucketChanged(tx, name)
		for _, q := range []string{`DELETE FROM s3_bucket_configs WHERE bucket = ?`, `DELETE FROM s3_object_acls WHERE bucket = ?`,
			`DELETE FROM s3_buckets WHERE name = ?`} {
			if _, err := tx.Exec(q, name); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &struct{}{}, nil
}

// abortAllUploads drops a bucket's incomplete multipart uploads and frees their parts' bytes.
func (s *Service) abortAllUploads(tx *store.Tx, bucketName string) error {
	ids, err := store.Strings(tx.Query(`SELECT upload_id FROM s3_uploads WHERE bucket = ?`, bucketName))
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := s.abortUploadRows(tx, id); err != nil {
			return err
		}
	}
	return nil
}

// abortUploadRows deletes one upload and its parts, scheduling the parts' blobs for collection.
func (s *Service) abortUploadRows(tx *store.Tx, uploadID string) error {
	keys, err := store.Strings(tx.Query(`SELECT blob_key FROM s3_parts WHERE upload_id = ?`, uploadID))
	if err != nil {
		return err
	}
	for _, k := range keys {
		if err := s.releaseBlob(tx, k); err != nil {
			return err
		}
	}
	if _, err := tx.Exec(`DELETE FROM s3_parts WHERE upload_id = ?`, uploadID); err != nil {
		return err
	}
	_, err = tx.Exec(`DELETE FROM s3_uploads WHERE upload_id = ?`, uploadID)
	return err
}

func (s *Service) headBucket(ctx context.Context, in *HeadBucketRequest) (*HeadBucketOutput, error) {
	b, err := s.authorize(ctx, s.reader(ctx), awsproto.Value(in.Bucket), operationAction(ctx))
	if err != nil {
		return nil, err
	}
	// S3 labels even this bodiless answer as XML, as it does every response.
	setResponseHeader(ctx, "Content-Type", "application/xml")
	return &HeadBucketOutput{BucketRegion: awsproto.Ptr(b.Region), AccessPointAlias: awsproto.Ptr(false)}, nil
}

// maxListBuckets is the largest (and default) page of ListBuckets.
const maxListBuckets = 10000

func (s *Service) listBuckets(ctx context.Context, in *ListBucketsRequest) (*ListBucketsOutput, error) {
	limit := maxListBuckets
	if in.MaxBuckets != nil {
		if n := int(*in.MaxBuckets); n < 1 || n > maxListBuckets {
			return nil, errInvalidArgument("max-buckets", fmt.Sprint(n), "Argument max-buckets must be an integer between 1 and 10000")
		} else {
			limit = n
		}
	}
	after := ""
	if tok := awsproto.Value(in.ContinuationToken); tok != "" {
		raw, err := base64.RawURLEncoding.DecodeString(tok)
		if err != nil {
			return nil, errInvalidArgument("continuation-token", tok, "The continuation token provided is incorrect")
		}
		after = string(raw)
	}
	if callerPrincipal(ctx).Anonymous {
		return nil, errAccessDenied()
	}
	account := callerAccount(ctx)
	q := `SELECT name, region, created_at FROM s3_buckets WHERE account = ? AND name > ?`
	args := []any{account, after}
	if p := awsproto.Value(in.Prefix); p != "" {
		q += ` AND substr(name, 1, ?) = ?`
		args = append(args, len(p), p)
	}
	if r := awsproto.Value(in.BucketRegion); r != "" {
		q += ` AND region = ?`
		args = append(args, r)
	}
	q += ` ORDER BY name LIMIT ?`
	args = append(args, limit+1)
	rows, err := s.st.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list buckets: %w", err)
	}
	defer rows.Close()
	out := &ListBucketsOutput{Owner: ownerOf(account), Buckets: []Bucket{}, Prefix: in.Prefix}
	for rows.Next() {
		var name, region string
		var created int64
		if err := rows.Scan(&name, &region, &created); err != nil {
			return nil, fmt.Errorf("list buckets: %w", err)
		}
		if len(out.Buckets) == limit {
			last := awsproto.Value(out.Buckets[limit-1].Name)
			out.ContinuationToken = awsproto.Ptr(base64.RawURLEncoding.EncodeToString([]byte(last)))
			break
		}
		out.Buckets = append(out.Buckets, Bucket{Name: awsproto.Ptr(name), BucketRegion: awsproto.Ptr(region),
			CreationDate: awsproto.Ptr(time.UnixMilli(created).UTC()), BucketArn: awsproto.Ptr(bucketARN(name))})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list buckets: %w", err)
	}
	return out, nil
}

func (s *Service) getBucketLocation(ctx context.Context, in *GetBucketLocationRequest) (*GetBucketLocationOutput, error) {
	b, err := s.authorize(ctx, s.reader(ctx), awsproto.Value(in.Bucket), operationAction(ctx))
	if err != nil {
		return nil, err
	}
	out := &GetBucketLocationOutput{}
	if b.Region != defaultRegion {
		out.LocationConstraint = awsproto.Ptr(b.Region)
	}
	return out, nil
}

func (s *Service) putBucketVersioning(ctx context.Context, in *PutBucketVersioningRequest) (*struct{}, error) {
	cfg := in.VersioningConfiguration
	if cfg == nil {
		return nil, errMalformedXML()
	}
	status := awsproto.Value(cfg.Status)
	if status != versioningEnabled && status != versioningSuspended {
		return nil, errMalformedXML()
	}
	name := awsproto.Value(in.Bucket)
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		if _, err := s.authorize(ctx, tx, name, operationAction(ctx)); err != nil {
			return err
		}
		if lock, err := loadLockConfig(tx, name); err != nil {
			return err
		} else if lock.Enabled && status != versioningEnabled {
			return errInvalidBucketState("An Object Lock configuration is present on this bucket, so the versioning state cannot be changed.")
		}
		s.bucketChanged(tx, name)
		_, err := tx.Exec(`UPDATE s3_buckets SET versioning = ? WHERE name = ?`, status, name)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &struct{}{}, nil
}

func (s *Service) getBucketVersioning(ctx context.Context, in *GetBucketVersioningRequest) (*GetBucketVersioningOutput, error) {
	b, err := s.authorize(ctx, s.reader(ctx), awsproto.Value(in.Bucket), operationAction(ctx))
	if err != nil {
		return nil, err
	}
	out := &GetBucketVersioningOutput{}
	if b.Versioning != "" {
		out.Status = awsproto.Ptr(b.Versioning)
	}
	return out, nil
}
