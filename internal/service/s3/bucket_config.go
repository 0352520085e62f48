package s3

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/store"
)

// schemaBuckets adds the ACLs of object versions; bucket configurations live in s3_bucket_configs.
// An object ACL row names the version's seq and last_modified as well, so a row left behind by a
// deleted version never applies to a later one with the same key and version id ("null").
var schemaBuckets = store.Migration{Version: 2, SQL: bucketsSQL, Postgres: collateKeys(bucketsSQL)}

const bucketsSQL = `
CREATE TABLE s3_object_acls (
	bucket        TEXT NOT NULL,
	okey          TEXT NOT NULL,
	version_id    TEXT NOT NULL,
	seq           BIGINT NOT NULL,
	last_modified BIGINT NOT NULL,
	body          TEXT NOT NULL,
	PRIMARY KEY (bucket, okey, version_id)
);`

// Kinds of s3_bucket_configs rows this file and its siblings keep (JSON bodies, except policy).
const (
	configACL        = "acl"
	configTagging    = "tagging"
	configCORS       = "cors"
	configPolicy     = "policy"
	configLifecycle  = "lifecycle"
	configEncryption = "encryption"
	// configNotification is the notification configuration (notify.go).
	configNotification = "notification"
)

// putConfig stores a bucket configuration, replacing any earlier one of its kind.
func (s *Service) putConfig(tx *store.Tx, bucketName, kind string, v any) error {
	body, ok := v.(string)
	if !ok {
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("encode %s configuration: %w", kind, err)
		}
		body = string(b)
	}
	if _, err := tx.Exec(`DELETE FROM s3_bucket_configs WHERE bucket = ? AND kind = ?`, bucketName, kind); err != nil {
		return err
	}
	if _, err := tx.Exec(`INSERT INTO s3_bucket_configs (bucket, kind, body) VALUES (?, ?, ?)`, bucketName, kind, body); err != nil {
		return err
	}
	return s.markConfig(tx, bucketName, kind, true)
}

// deleteConfig removes a bucket configuration; a missing one is no error (S3's deletes are idempotent).
func (s *Service) deleteConfig(tx *store.Tx, bucketName, kind string) error {
	if _, err := tx.Exec(`DELETE FROM s3_bucket_configs WHERE bucket = ? AND kind = ?`, bucketName, kind); err != nil {
		return err
	}
	return s.markConfig(tx, bucketName, kind, false)
}

// configsUnknown marks a bucket whose configuration kinds were not tracked (made before they were).
const configsUnknown = "*"

// schemaConfigKinds tracks which configuration kinds each bucket has. Buckets made earlier are
// marked unknown, which reads configurations as before.
var schemaConfigKinds = store.Migration{Version: 6, SQL: `
ALTER TABLE s3_buckets ADD COLUMN config_kinds TEXT NOT NULL DEFAULT '';
UPDATE s3_buckets SET config_kinds = '*';`}

// markConfig records in the bucket row whether it has a configuration of kind. Every write of
// s3_bucket_configs goes through putConfig, deleteConfig or this.
func (s *Service) markConfig(tx *store.Tx, bucketName, kind string, present bool) error {
	var kinds string
	err := tx.QueryRow(`SELECT config_kinds FROM s3_buckets WHERE name = ?`, bucketName).Scan(&kinds)
	if errors.Is(err, sql.ErrNoRows) || kinds == configsUnknown {
		return nil
	}
	if err != nil {
		return err
	}
	has := strings.Contains(kinds, ","+kind+",")
	switch {
	case present && !has:
		if kinds == "" {
			kinds = ","
		}
		kinds += kind + ","
	case !present && has:
		kinds = strings.Replace(kinds, ","+kind+",", ",", 1)
		if kinds == "," {
			kinds = ""
		}
	default:
		return nil
	}
	s.bucketChanged(tx, bucketName)
	_, err = tx.Exec(`UPDATE s3_buckets SET config_kinds = ? WHERE name = ?`, kinds, bucketName)
	return err
}

// loadBucketConfigJSON is loadConfigJSON for a loaded bucket: it skips the read when the bucket
// has no configuration of kind.
func loadBucketConfigJSON(q querier, b bucket, kind string, v any) (ok bool, err error) {
	if !b.mayHave(kind) {
		return false, nil
	}
	return loadConfigJSON(q, b.Name, kind, v)
}

// loadConfig reads a bucket configuration's body; ok is false when there is none.
func loadConfig(q querier, bucketName, kind string) (body string, ok bool, err error) {
	err = q.QueryRow(`SELECT body FROM s3_bucket_configs WHERE bucket = ? AND kind = ?`, bucketName, kind).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("load %s configuration of %q: %w", kind, bucketName, err)
	}
	return body, true, nil
}

// loadConfigJSON decodes a JSON bucket configuration into v; ok is false when there is none.
func loadConfigJSON(q querier, bucketName, kind string, v any) (ok bool, err error) {
	body, ok, err := loadConfig(q, bucketName, kind)
	if err != nil || !ok {
		return ok, err
	}
	if err := json.Unmarshal([]byte(body), v); err != nil {
		return false, fmt.Errorf("decode %s configuration of %q: %w", kind, bucketName, err)
	}
	return true, nil
}

// updateBucketConfig checks the caller owns the bucket and stores (or, with v nil, deletes) a
// configuration in one transaction.
func (s *Service) updateBucketConfig(ctx context.Context, bucketName, kind string, v any) error {
	return s.st.Write(ctx, func(tx *store.Tx) error {
		if _, err := s.authorizeConfig(ctx, tx, bucketName, kind); err != nil {
			return err
		}
		if v == nil {
			return s.deleteConfig(tx, bucketName, kind)
		}
		return s.putConfig(tx, bucketName, kind, v)
	})
}

// readBucketConfig checks the caller owns the bucket and decodes its configuration of kind into
// v (raw text when v is *string); a missing one is the error notFound returns.
func (s *Service) readBucketConfig(ctx context.Context, bucketName, kind string, v any, notFound func(string) *awsproto.Error) error {
	q := s.reader(ctx)
	if _, err := s.authorizeConfig(ctx, q, bucketName, kind); err != nil {
		return err
	}
	var ok bool
	var err error
	if sp, raw := v.(*string); raw {
		*sp, ok, err = loadConfig(q, bucketName, kind)
	} else {
		ok, err = loadConfigJSON(q, bucketName, kind, v)
	}
	if err != nil {
		return err
	}
	if !ok {
		return notFound(bucketName)
	}
	return nil
}

func configNotFound(code, message string) func(string) *awsproto.Error {
	return func(bucketName string) *awsproto.Error {
		return &awsproto.Error{Code: code, Status: http.StatusNotFound, Message: message, Fields: map[string]string{"BucketName": bucketName}}
	}
}

var (
	errNoSuchTagSet          = configNotFound("NoSuchTagSet", "The TagSet does not exist")
	errNoSuchBucketPolicy    = configNotFound("NoSuchBucketPolicy", "The bucket policy does not exist")
	errNoEncryptionConfig    = configNotFound("ServerSideEncryptionConfigurationNotFoundError", "The server side encryption configuration was not found")
	errNoOwnershipControls   = configNotFound("OwnershipControlsNotFoundError", "The bucket ownership controls were not found")
	errNoSuchCORSConfig      = configNotFound("NoSuchCORSConfiguration", "The CORS configuration does not exist")
	errNoSuchLifecycleConfig = configNotFound("NoSuchLifecycleConfiguration", "The lifecycle configuration does not exist")
	errMalformedPolicy       = func(msg string) *awsproto.Error { return awsproto.Errorf("MalformedPolicy", 400, "%s", msg) }
	errInvalidRequest        = func(format string, args ...any) *awsproto.Error {
		return awsproto.Errorf("InvalidRequest", 400, format, args...)
	}
	errInvalidEncryptionAlgo = func(v string) *awsproto.Error {
		return errInvalidArgument("SSEAlgorithm", v, "The encryption method specified is not supported")
	}
)

func (s *Service) registerBucketConfigOps() {
	awsproto.Handle(s.api, "PutBucketTagging", s.putBucketTagging)
	awsproto.Handle(s.api, "GetBucketTagging", s.getBucketTagging)
	awsproto.Handle(s.api, "DeleteBucketTagging", s.deleteBucketTagging)
	awsproto.Handle(s.api, "PutBucketPolicy", s.putBucketPolicy)
	awsproto.Handle(s.api, "GetBucketPolicy", s.getBucketPolicy)
	awsproto.Handle(s.api, "DeleteBucketPolicy", s.deleteBucketPolicy)
	awsproto.Handle(s.api, "PutBucketEncryption", s.putBucketEncryption)
	awsproto.Handle(s.api, "GetBucketEncryption", s.getBucketEncryption)
	awsproto.Handle(s.api, "DeleteBucketEncryption", s.deleteBucketEncryption)
	awsproto.Handle(s.api, "PutBucketOwnershipControls", s.putBucketOwnershipControls)
	awsproto.Handle(s.api, "GetBucketOwnershipControls", s.getBucketOwnershipControls)
	awsproto.Handle(s.api, "DeleteBucketOwnershipControls", s.deleteBucketOwnershipControls)
}

// maxBucketTags is how many tags a bucket may carry.
const maxBucketTags = 50

// validTags checks a tag set as S3 does and returns it in storage form.
func validTags(in []Tag) ([]tag, error) {
	if len(in) > maxBucketTags {
		return nil, errInvalidTag("Object tags cannot be greater than 50")
	}
	seen := make(map[string]bool, len(in))
	out := make([]tag, 0, len(in))
	for _, t := range in {
		if t.Key == nil {
			return nil, errMalformedXML()
		}
		k, v := *t.Key, awsproto.Value(t.Value)
		switch {
		case k == "" || utf8.RuneCountInString(k) > 128:
			return nil, errInvalidTag("The TagKey you have provided is invalid")
		case utf8.RuneCountInString(v) > 256:
			return nil, errInvalidTag("The TagValue you have provided is invalid")
		case len(k) >= 4 && k[:4] == "aws:":
			return nil, errInvalidTag("System tags cannot be added/updated by requester")
		case seen[k]:
			return nil, errInvalidTag("Cannot provide multiple Tags with the same key")
		}
		seen[k] = true
		out = append(out, tag{Key: k, Value: v})
	}
	return out, nil
}

func (s *Service) putBucketTagging(ctx context.Context, in *PutBucketTaggingRequest) (*struct{}, error) {
	if in.Tagging == nil {
		return nil, errMalformedXML()
	}
	tags, err := validTags(in.Tagging.TagSet)
	if err != nil {
		return nil, err
	}
	var v any = tags
	if len(tags) == 0 {
		v = nil
	}
	if err := s.updateBucketConfig(ctx, awsproto.Value(in.Bucket), configTagging, v); err != nil {
		return nil, err
	}
	callOf(ctx).Status = http.StatusNoContent
	return &struct{}{}, nil
}

func (s *Service) getBucketTagging(ctx context.Context, in *GetBucketTaggingRequest) (*GetBucketTaggingOutput, error) {
	var tags []tag
	if err := s.readBucketConfig(ctx, awsproto.Value(in.Bucket), configTagging, &tags, errNoSuchTagSet); err != nil {
		return nil, err
	}
	out := &GetBucketTaggingOutput{TagSet: make([]Tag, 0, len(tags))}
	for _, t := range tags {
		out.TagSet = append(out.TagSet, Tag{Key: awsproto.Ptr(t.Key), Value: awsproto.Ptr(t.Value)})
	}
	return out, nil
}

func (s *Service) deleteBucketTagging(ctx context.Context, in *DeleteBucketTaggingRequest) (*struct{}, error) {
	return &struct{}{}, s.updateBucketConfig(ctx, awsproto.Value(in.Bucket), configTagging, nil)
}

func (s *Service) putBucketPolicy(ctx context.Context, in *PutBucketPolicyRequest) (*struct{}, error) {
	if err := s.putPolicy(ctx, awsproto.Value(in.Bucket), awsproto.Value(in.Policy)); err != nil {
		return nil, err
	}
	callOf(ctx).Status = http.StatusNoContent
	return &struct{}{}, nil
}

func (s *Service) getBucketPolicy(ctx context.Context, in *GetBucketPolicyRequest) (*GetBucketPolicyOutput, error) {
	var doc string
	if err := s.readBucketConfig(ctx, awsproto.Value(in.Bucket), configPolicy, &doc, errNoSuchBucketPolicy); err != nil {
		return nil, err
	}
	callOf(ctx).ResponseHeader.Set("Content-Type", "application/json")
	return &GetBucketPolicyOutput{Policy: &doc}, nil
}

func (s *Service) deleteBucketPolicy(ctx context.Context, in *DeleteBucketPolicyRequest) (*struct{}, error) {
	return &struct{}{}, s.updateBucketConfig(ctx, awsproto.Value(in.Bucket), configPolicy, nil)
}

// sseAlgorithms are the default encryption algorithms a bucket may name.
var sseAlgorithms = map[string]bool{"AES256": true, "aws:kms": true, "aws:kms:dsse": true}

func validEncryption(cfg *ServerSideEncryptionConfiguration) error {
	if cfg == nil || len(cfg.Rules) == 0 {
		return errMalformedXML()
	}
	for _, r := range cfg.Rules {
		d := r.ApplyServerSideEncryptionByDefault
		if d == nil {
			continue
		}
		alg := awsproto.Value(d.SSEAlgorithm)
		if !sseAlgorithms[alg] {
			return errInvalidEncryptionAlgo(alg)
		}
		if d.KMSMasterKeyID != nil && alg == "AES256" {
			return errInvalidArgument("ApplyServerSideEncryptionByDefault", "", "a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or aws:kms:dsse")
		}
	}
	return nil
}

func (s *Service) putBucketEncryption(ctx context.Context, in *PutBucketEncryptionRequest) (*struct{}, error) {
	if err := validEncryption(in.ServerSideEncryptionConfiguration); err != nil {
		return nil, err
	}
	return &struct{}{}, s.updateBucketConfig(ctx, awsproto.Value(in.Bucket), configEncryption, in.ServerSideEncryptionConfiguration)
}

func (s *Service) getBucketEncryption(ctx context.Context, in *GetBucketEncryptionRequest) (*GetBucketEncryptionOutput, error) {
	var cfg ServerSideEncryptionConfiguration
	if err := s.readBucketConfig(ctx, awsproto.Value(in.Bucket), configEncryption, &cfg, errNoEncryptionConfig); err != nil {
		return nil, err
	}
	return &GetBucketEncryptionOutput{ServerSideEncryptionConfiguration: &cfg}, nil
}

func (s *Service) deleteBucketEncryption(ctx context.Context, in *DeleteBucketEncryptionRequest) (*struct{}, error) {
	return &struct{}{}, s.updateBucketConfig(ctx, awsproto.Value(in.Bucket), configEncryption, nil)
}

// setOwnership writes s3_buckets.ownership ("" removes the controls).
func (s *Service) setOwnership(ctx context.Context, bucketName, ownership string) error {
	return s.st.Write(ctx, func(tx *store.Tx) error {
		b, err := s.authorize(ctx, tx, bucketName, "s3:PutBucketOwnershipControls")
		if err != nil {
			return err
		}
		if ownership == "BucketOwnerEnforced" {
			// ACLs can be disabled only once the bucket's ACL grants nobody but its owner.
			acl := defaultACL(b.Account)
			if _, err := loadConfigJSON(tx, bucketName, configACL, acl); err != nil {
				return err
			}
			if !acl.ownerOnly(b.Account) {
				return errBucketACLWithOwnership()
			}
		}
		s.bucketChanged(tx, bucketName)
		_, err = tx.Exec(`UPDATE s3_buckets SET ownership = ? WHERE name = ?`, ownership, bucketName)
		return err
	})
}

func (s *Service) putBucketOwnershipControls(ctx context.Context, in *PutBucketOwnershipControlsRequest) (*struct{}, error) {
	c := in.OwnershipControls
	if c == nil || len(c.Rules) != 1 || !objectOwnerships[awsproto.Value(c.Rules[0].ObjectOwnership)] {
		return nil, errMalformedXML()
	}
	return &struct{}{}, s.setOwnership(ctx, awsproto.Value(in.Bucket), *c.Rules[0].ObjectOwnership)
}

func (s *Service) getBucketOwnershipControls(ctx context.Context, in *GetBucketOwnershipControlsRequest) (*GetBucketOwnershipControlsOutput, error) {
	b, err := s.authorize(ctx, s.reader(ctx), awsproto.Value(in.Bucket), "s3:GetBucketOwnershipControls")
	if err != nil {
		return nil, err
	}
	if b.Ownership == "" {
		return nil, errNoOwnershipControls(b.Name)
	}
	return &GetBucketOwnershipControlsOutput{OwnershipControls: &OwnershipControls{
		Rules: []OwnershipControlsRule{{ObjectOwnership: awsproto.Ptr(b.Ownership)}}}}, nil
}

func (s *Service) deleteBucketOwnershipControls(ctx context.Context, in *DeleteBucketOwnershipControlsRequest) (*struct{}, error) {
	return &struct{}{}, s.setOwnership(ctx, awsproto.Value(in.Bucket), "")
}
