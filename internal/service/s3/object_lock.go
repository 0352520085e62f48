package s3

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/store"
)

// configObjectLock is the s3_bucket_configs kind holding a bucket's object lock state.
const configObjectLock = "object-lock"

// Object lock retention modes and legal hold states.
const (
	lockGovernance = "GOVERNANCE"
	lockCompliance = "COMPLIANCE"
	legalHoldOn    = "ON"
	legalHoldOff   = "OFF"
)

// lockConfig is a bucket's object lock configuration: enabled, and an optional default
// retention for new versions (one of Days or Years).
type lockConfig struct {
	Enabled bool   `json:"enabled"`
	Mode    string `json:"mode,omitempty"`
	Days    int32  `json:"days,omitempty"`
	Years   int32  `json:"years,omitempty"`
}

// registerObjectLockOps registers the object lock operations.
func (s *Service) registerObjectLockOps() {
	awsproto.Handle(s.api, "PutObjectLockConfiguration", s.putObjectLockConfiguration)
	awsproto.Handle(s.api, "GetObjectLockConfiguration", s.getObjectLockConfiguration)
	awsproto.Handle(s.api, "PutObjectRetention", s.putObjectRetention)
	awsproto.Handle(s.api, "GetObjectRetention", s.getObjectRetention)
	awsproto.Handle(s.api, "PutObjectLegalHold", s.putObjectLegalHold)
	awsproto.Handle(s.api, "GetObjectLegalHold", s.getObjectLegalHold)
}

func errInvalidBucketState(msg string) *awsproto.Error {
	return awsproto.Errorf("InvalidBucketState", http.StatusConflict, "%s", msg)
}

// errObjectLocked is S3's refusal to delete or weaken the lock of a protected version.
func errObjectLocked() *awsproto.Error {
	return awsproto.Errorf("AccessDenied", http.StatusForbidden, "Access Denied because object protected by object lock.")
}

func errLockNotEnabled() *awsproto.Error {
	return awsproto.Errorf("InvalidRequest", http.StatusBadRequest, "Bucket is missing Object Lock Configuration")
}

func errNoObjectLockConfig() *awsproto.Error {
	return awsproto.Errorf("NoSuchObjectLockConfiguration", http.StatusNotFound, "The specified object does not have a ObjectLock configuration")
}

var errNoBucketLockConfig = configNotFound("ObjectLockConfigurationNotFoundError", "Object Lock configuration does not exist for this bucket")

// loadLockConfig reads a bucket's object lock configuration (zero: lock not enabled).
func loadLockConfig(q querier, bucketName string) (lockConfig, error) {
	var c lockConfig
	_, err := loadConfigJSON(q, bucketName, configObjectLock, &c)
	return c, err
}

// validLockConfig checks a PutObjectLockConfiguration body as S3 does.
func validLockConfig(cfg *ObjectLockConfiguration) (lockConfig, error) {
	if cfg == nil {
		return lockConfig{}, awsproto.Errorf("MissingRequestBodyError", http.StatusBadRequest, "Request Body is empty")
	}
	if awsproto.Value(cfg.ObjectLockEnabled) != "Enabled" {
		return lockConfig{}, errMalformedXML()
	}
	c := lockConfig{Enabled: true}
	if cfg.Rule == nil {
		return c, nil
	}
	d := cfg.Rule.DefaultRetention
	if d == nil {
		return lockConfig{}, errMalformedXML()
	}
	c.Mode = awsproto.Value(d.Mode)
	if c.Mode != lockGovernance && c.Mode != lockCompliance || (d.Days == nil) == (d.Years == nil) {
		return lockConfig{}, errMalformedXML()
	}
	c.Days, c.Years = awsproto.Value(d.Days), awsproto.Value(d.Years)
	if c.Days < 0 || c.Years < 0 || c.Days == 0 && c.Years == 0 {
		return lockConfig{}, awsproto.Errorf("InvalidRetentionPeriod", http.StatusBadRequest, "Default retention period must be a positive integer value.")
	}
	return c, nil
}

func (s *Service) putObjectLockConfiguration(ctx context.Context, in *PutObjectLockConfigurationRequest) (*PutObjectLockConfigurationOutput, error) {
	bucketName := awsproto.Value(in.Bucket)
	if _, err := s.authorize(ctx, s.reader(ctx), bucketName, "s3:PutBucketObjectLockConfiguration"); err != nil {
		return nil, err
	}
	c, err := validLockConfig(in.ObjectLockConfiguration)
	if err != nil {
		return nil, err
	}
	err = s.st.Write(ctx, func(tx *store.Tx) error {
		b, err := s.authorize(ctx, tx, bucketName, "s3:PutBucketObjectLockConfiguration")
		if err != nil {
			return err
		}
		cur, err := loadLockConfig(tx, bucketName)
		if err != nil {
			return err
		}
		if !cur.Enabled && b.Versioning != versioningEnabled {
			return errInvalidBucketState("Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration")
		}
		return s.putConfig(tx, bucketName, configObjectLock, c)
	})
	if err != nil {
		return nil, err
	}
	return &PutObjectLockConfigurationOutput{}, nil
}

func (s *Service) getObjectLockConfiguration(ctx context.Context, in *GetObjectLockConfigurationRequest) (*GetObjectLockConfigurationOutput, error) {
	bucketName := awsproto.Value(in.Bucket)
	if _, err := s.authorize(ctx, s.reader(ctx), bucketName, "s3:GetBucketObjectLockConfiguration"); err != nil {
		return nil, err
	}
	c, err := loadLockConfig(s.reader(ctx), bucketName)
	if err != nil {
		return nil, err
	}
	if !c.Enabled {
		return nil, errNoBucketLockConfig(bucketName)
	}
	cfg := &ObjectLockConfiguration{ObjectLockEnabled: awsproto.Ptr("Enabled")}
	if c.Mode != "" {
		d := &DefaultRetention{Mode: awsproto.Ptr(c.Mode)}
		if c.Days > 0 {
			d.Days = awsproto.Ptr(c.Days)
		}
		if c.Years > 0 {
			d.Years = awsproto.Ptr(c.Years)
		}
		cfg.Rule = &ObjectLockRule{DefaultRetention: d}
	}
	return &GetObjectLockConfigurationOutput{ObjectLockConfiguration: cfg}, nil
}

// lockedVersion loads the version a retention or legal hold request names, in a bucket with
// object lock enabled.
func (s *Service) lockedVersion(ctx context.Context, q querier, bucketName, key, versionID string) (object, error) {
	if _, err := s.authorizeObject(ctx, q, bucketName, key, versionID, operationAction(ctx)); err != nil {
		return object{}, err
	}
	c, err := loadLockConfig(q, bucketName)
	if err != nil {
		return object{}, err
	}
	if !c.Enabled {
		return object{}, errLockNotEnabled()
	}
	return loadLiveVersion(q, bucketName, key, versionID, callMethod(ctx))
}

// updateLockHeaders rewrites the stored headers of one version after change edits them.
func (s *Service) updateLockHeaders(ctx context.Context, bucketName, key, versionID string, change func(o *object) error) error {
	return s.st.Write(ctx, func(tx *store.Tx) error {
		o, err := s.lockedVersion(ctx, tx, bucketName, key, versionID)
		if err != nil {
			return err
		}
		if err := change(&o); err != nil {
			return err
		}
		_, err = tx.Exec(`UPDATE s3_objects SET headers = ? WHERE bucket = ? AND okey = ? AND version_id = ?`,
			mustJSON(o.Headers), bucketName, key, o.VersionID)
		return err
	})
}

func (s *Service) putObjectRetention(ctx context.Context, in *PutObjectRetentionRequest) (*PutObjectRetentionOutput, error) {
	r := in.Retention
	if r == nil || r.RetainUntilDate == nil {
		return nil, errMalformedXML()
	}
	mode := awsproto.Value(r.Mode)
	if mode != lockGovernance && mode != lockCompliance {
		return nil, errMalformedXML()
	}
	until := r.RetainUntilDate.UTC()
	now := s.now()
	if !until.After(now) {
		return nil, errInvalidArgument("RetainUntilDate", until.Format(time.RFC3339), "The retain until date must be in the future!")
	}
	bypass := awsproto.Value(in.BypassGovernanceRetention)
	err := s.updateLockHeaders(ctx, awsproto.Value(in.Bucket), awsproto.Value(in.Key), awsproto.Value(in.VersionId), func(o *object) error {
		if err := checkRetentionChange(o.Headers, mode, until, now, bypass); err != nil {
			return err
		}
		o.Headers.LockMode, o.Headers.LockUntil = mode, until.Format(time.RFC3339Nano)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &PutObjectRetentionOutput{}, nil
}

// checkRetentionChange refuses what S3 refuses: weakening an active COMPLIANCE retention, or an
// active GOVERNANCE one without x-amz-bypass-governance-retention. Extending is always allowed.
func checkRetentionChange(h objectHeaders, mode string, until, now time.Time, bypass bool) error {
	cur, ok := retainUntil(h)
	if !ok || !cur.After(now) {
		return nil
	}
	weaker := until.Before(cur) || h.LockMode != mode
	switch {
	case !weaker:
		return nil
	case h.LockMode == lockCompliance:
		return errObjectLocked()
	case !bypass:
		return errObjectLocked()
	}
	return nil
}

// retainUntil parses a version's retain-until date.
func retainUntil(h objectHeaders) (time.Time, bool) {
	if h.LockMode == "" || h.LockUntil == "" {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, h.LockUntil)
	return t, err == nil
}

func (s *Service) getObjectRetention(ctx context.Context, in *GetObjectRetentionRequest) (*GetObjectRetentionOutput, error) {
	o, err := s.lockedVersion(ctx, s.reader(ctx), awsproto.Value(in.Bucket), awsproto.Value(in.Key), awsproto.Value(in.VersionId))
	if err != nil {
		return nil, err
	}
	until, ok := retainUntil(o.Headers)
	if !ok {
		return nil, errNoObjectLockConfig()
	}
	return &GetObjectRetentionOutput{Retention: &ObjectLockRetention{Mode: awsproto.Ptr(o.Headers.LockMode), RetainUntilDate: &until}}, nil
}

func (s *Service) putObjectLegalHold(ctx context.Context, in *PutObjectLegalHoldRequest) (*PutObjectLegalHoldOutput, error) {
	if in.LegalHold == nil {
		return nil, errMalformedXML()
	}
	status := awsproto.Value(in.LegalHold.Status)
	if status != legalHoldOn && status != legalHoldOff {
		return nil, errMalformedXML()
	}
	err := s.updateLockHeaders(ctx, awsproto.Value(in.Bucket), awsproto.Value(in.Key), awsproto.Value(in.VersionId), func(o *object) error {
		o.Headers.LockLegalHold = status
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &PutObjectLegalHoldOutput{}, nil
}

func (s *Service) getObjectLegalHold(ctx context.Context, in *GetObjectLegalHoldRequest) (*GetObjectLegalHoldOutput, error) {
	o, err := s.lockedVersion(ctx, s.reader(ctx), awsproto.Value(in.Bucket), awsproto.Value(in.Key), awsproto.Value(in.VersionId))
	if err != nil {
		return nil, err
	}
	if o.Headers.LockLegalHold == "" {
		return nil, errNoObjectLockConfig()
	}
	return &GetObjectLegalHoldOutput{LegalHold: &ObjectLockLegalHold{Status: awsproto.Ptr(o.Headers.LockLegalHold)}}, nil
}

// lockRequest is the object lock a write asks for with x-amz-object-lock-* headers.
type lockRequest struct {
	Mode, Until, LegalHold string
}

func (l lockRequest) any() bool { return l != lockRequest{} }

// parseLockHeaders validates the x-amz-object-lock-* headers of an object write.
func parseLockHeaders(h http.Header, now time.Time) (lockRequest, error) {
	mode, until, hold := h.Get("X-Amz-Object-Lock-Mode"), h.Get("X-Amz-Object-Lock-Retain-Until-Date"), h.Get("X-Amz-Object-Lock-Legal-Hold")
	var l lockRequest
	if (mode == "") != (until == "") {
		return l, errInvalidArgument("x-amz-object-lock-mode", mode,
			"x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied")
	}
	if mode != "" {
		if mode != lockGovernance && mode != lockCompliance {
			return l, errInvalidArgument("x-amz-object-lock-mode", mode, "Unknown wormMode directive.")
		}
		t, err := time.Parse(time.RFC3339Nano, until)
		if err != nil {
			return l, errInvalidArgument("x-amz-object-lock-retain-until-date", until, "The retain until date must be provided in ISO 8601 format")
		}
		if !t.After(now) {
			return l, errInvalidArgument("x-amz-object-lock-retain-until-date", until, "The retain until date must be in the future!")
		}
		l.Mode, l.Until = mode, t.UTC().Format(time.RFC3339Nano)
	}
	if hold != "" && hold != legalHoldOn && hold != legalHoldOff {
		return l, errInvalidArgument("x-amz-object-lock-legal-hold", hold, "Legal Hold must be either of 'ON' or 'OFF'")
	}
	l.LegalHold = hold
	return l, nil
}

// checkLockWrite refuses object lock headers S3 refuses before any body is read: on a PUT they
// need Content-MD5 or a flexible checksum.
func checkLockWrite(ctx context.Context, l lockRequest) error {
	if l.any() && !hasIntegrityHeader(ctx) {
		return awsproto.Errorf("InvalidRequest", http.StatusBadRequest,
			"Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests with Object Lock parameters")
	}
	return nil
}

// setLock records a write's requested lock in the headers it stores.
func (l lockRequest) apply(h *objectHeaders) {
	h.LockMode, h.LockUntil, h.LockLegalHold = l.Mode, l.Until, l.LegalHold
}

// applyObjectLock checks a new version's lock against its bucket, in the write's transaction,
// and gives it the bucket's default retention when it asks for none.
func applyObjectLock(tx *store.Tx, b bucket, o *object, now time.Time) error {
	h := &o.Headers
	asked := h.LockMode != "" || h.LockLegalHold != ""
	// Object lock needs versioning enabled, and S3 refuses to suspend versioning on a lock
	// bucket, so a PUT to any other bucket skips reading the lock configuration.
	if b.Versioning != versioningEnabled {
		if asked {
			return errLockNotEnabled()
		}
		return nil
	}
	c, err := loadLockConfig(tx, b.Name)
	if err != nil {
		return err
	}
	if !c.Enabled {
		if asked {
			return errLockNotEnabled()
		}
		return nil
	}
	if h.LockMode == "" && c.Mode != "" {
		h.LockMode = c.Mode
		h.LockUntil = now.UTC().AddDate(int(c.Years), 0, int(c.Days)).Format(time.RFC3339Nano)
	}
	return nil
}

// checkVersionDeletable refuses to delete a version under legal hold or active retention
// (GOVERNANCE can be bypassed with x-amz-bypass-governance-retention).
func checkVersionDeletable(o object, now time.Time, bypass bool) error {
	if o.DeleteMarker {
		return nil
	}
	if o.Headers.LockLegalHold == legalHoldOn {
		return errObjectLocked()
	}
	until, ok := retainUntil(o.Headers)
	if !ok || !until.After(now) {
		return nil
	}
	if o.Headers.LockMode == lockGovernance && bypass {
		return nil
	}
	return errObjectLocked()
}

// bypassGovernance reports whether a request carries x-amz-bypass-governance-retention: true.
func bypassGovernance(ctx context.Context) bool {
	return strings.EqualFold(strings.TrimSpace(callHeader(ctx).Get("X-Amz-Bypass-Governance-Retention")), "true")
}

// setLockOutput copies a version's lock state into GetObject's output.
func setLockOutput(out *GetObjectOutput, h objectHeaders) {
	if until, ok := retainUntil(h); ok {
		out.ObjectLockMode, out.ObjectLockRetainUntilDate = awsproto.Ptr(h.LockMode), &until
	}
	if h.LockLegalHold != "" {
		out.ObjectLockLegalHoldStatus = awsproto.Ptr(h.LockLegalHold)
	}
}

// lockHeader rebuilds the x-amz-object-lock-* headers from decoded request members.
func lockHeader(mode *string, until *time.Time, hold *string) http.Header {
	h := http.Header{}
	if v := awsproto.Value(mode); v != "" {
		h.Set("X-Amz-Object-Lock-Mode", v)
	}
	if until != nil {
		h.Set("X-Amz-Object-Lock-Retain-Until-Date", until.UTC().Format(time.RFC3339Nano))
	}
	if v := awsproto.Value(hold); v != "" {
		h.Set("X-Amz-Object-Lock-Legal-Hold", v)
	}
	return h
}
