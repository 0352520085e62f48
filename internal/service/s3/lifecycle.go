package s3

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/store"
)

// Lifecycle timing. S3 evaluates rules about once a day and counts in days; tests shorten both
// with these environment variables (Go durations, e.g. "200ms" and "1s").
const (
	envLifecycleInterval = "KIRI_S3_LIFECYCLE_INTERVAL" // how often rules are applied; default 1h
	envLifecycleDay      = "KIRI_S3_LIFECYCLE_DAY"      // how long a lifecycle "day" lasts; default 24h
	maxLifecycleRules    = 1000
)

// lifecycleClock holds the lifecycle pass interval and the length of a lifecycle day.
type lifecycleClock struct {
	interval, day time.Duration
}

// lifecycleClockFromEnv reads the lifecycle timing, falling back to the defaults on bad values.
func lifecycleClockFromEnv() lifecycleClock {
	c := lifecycleClock{interval: time.Hour, day: 24 * time.Hour}
	if d, err := time.ParseDuration(os.Getenv(envLifecycleInterval)); err == nil && d > 0 {
		c.interval = d
	}
	if d, err := time.ParseDuration(os.Getenv(envLifecycleDay)); err == nil && d > 0 {
		c.day = d
	}
	return c
}

// after returns when something that started at t is n lifecycle days old. With real days S3
// rounds up to the next midnight UTC.
func (c lifecycleClock) after(t time.Time, n int32) time.Time {
	due := t.Add(time.Duration(n) * c.day)
	if c.day == 24*time.Hour {
		if mid := due.UTC().Truncate(24 * time.Hour); !mid.Equal(due) {
			due = mid.Add(24 * time.Hour)
		}
	}
	return due
}

func (s *Service) registerLifecycleOps() {
	awsproto.Handle(s.api, "PutBucketLifecycleConfiguration", s.putBucketLifecycle)
	awsproto.Handle(s.api, "GetBucketLifecycleConfiguration", s.getBucketLifecycle)
	awsproto.Handle(s.api, "DeleteBucketLifecycle", s.deleteBucketLifecycle)
}

// lifecycleFilter is what a rule's Prefix or Filter selects.
type lifecycleFilter struct {
	prefix         string
	tags           []tag
	sizeGT, sizeLT *int64
}

// filterOf returns the filter of a rule (validated or not) and whether it is well-formed.
func filterOf(r *LifecycleRule) (lifecycleFilter, bool) {
	var f lifecycleFilter
	if r.Filter == nil {
		f.prefix = awsproto.Value(r.Prefix)
		return f, true
	}
	if r.Prefix != nil {
		return f, false
	}
	fl := r.Filter
	set := 0
	for _, b := range []bool{fl.Prefix != nil, fl.Tag != nil, fl.And != nil, fl.ObjectSizeGreaterThan != nil, fl.ObjectSizeLessThan != nil} {
		if b {
			set++
		}
	}
	if set > 1 {
		return f, false
	}
	f.prefix, f.sizeGT, f.sizeLT = awsproto.Value(fl.Prefix), fl.ObjectSizeGreaterThan, fl.ObjectSizeLessThan
	if fl.Tag != nil {
		f.tags = []tag{{Key: awsproto.Value(fl.Tag.Key), Value: awsproto.Value(fl.Tag.Value)}}
	}
	if a := fl.And; a != nil {
		f.prefix, f.sizeGT, f.sizeLT = awsproto.Value(a.Prefix), a.ObjectSizeGreaterThan, a.ObjectSizeLessThan
		for _, t := range a.Tags {
			f.tags = append(f.tags, tag{Key: awsproto.Value(t.Key), Value: awsproto.Value(t.Value)})
		}
	}
	return f, true
}

// matches reports whether object version o falls under the filter.
func (f lifecycleFilter) matches(o *object) bool {
	if !strings.HasPrefix(o.Key, f.prefix) {
		return false
	}
	if (f.sizeGT != nil && o.Size <= *f.sizeGT) || (f.sizeLT != nil && o.Size >= *f.sizeLT) {
		return false
	}
	for _, want := range f.tags {
		found := false
		for _, t := range o.Tags {
			if t == want {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// validLifecycle checks rules as S3 does, giving rules without an ID a generated one.
func validLifecycle(cfg *BucketLifecycleConfiguration) error {
	if cfg == nil || len(cfg.Rules) == 0 || len(cfg.Rules) > maxLifecycleRules {
		return errMalformedXML()
	}
	ids := map[string]bool{}
	for i := range cfg.Rules {
		r := &cfg.Rules[i]
		if r.ID == nil || *r.ID == "" {
			r.ID = awsproto.Ptr(newRuleID())
		}
		if len(*r.ID) > 255 {
			return errInvalidArgument("ID", *r.ID, "ID length should not exceed allowed limit of 255")
		}
		if ids[*r.ID] {
			return errInvalidArgument("ID", *r.ID, "Rule ID must be unique. Found same ID for more than one rule")
		}
		ids[*r.ID] = true
		if st := awsproto.Value(r.Status); st != "Enabled" && st != "Disabled" {
			return errMalformedXML()
		}
		f, ok := filterOf(r)
		if !ok {
			return errMalformedXML()
		}
		if len(f.tags) > 0 {
			var api []Tag
			for _, t := range f.tags {
				api = append(api, Tag{Key: awsproto.Ptr(t.Key), Value: awsproto.Ptr(t.Value)})
			}
			if _, err := validTags(api); err != nil {
				return err
			}
		}
		if err := validLifecycleActions(r, len(f.tags) > 0); err != nil {
			return err
		}
	}
	return nil
}

func validLifecycleActions(r *LifecycleRule, tagged bool) error {
	if r.Expiration == nil && r.NoncurrentVersionExpiration == nil && r.AbortIncompleteMultipartUpload == nil &&
		len(r.Transitions) == 0 && len(r.NoncurrentVersionTransitions) == 0 {
		return errInvalidRequest("At least one action needs to be specified in a rule")
	}
	if e := r.Expiration; e != nil {
		set := 0
		for _, b := range []bool{e.Days != nil, e.Date != nil, e.ExpiredObjectDeleteMarker != nil} {
			if b {
				set++
			}
		}
		switch {
		case set != 1:
			return errMalformedXML()
		case e.Days != nil && *e.Days <= 0:
			return errInvalidArgument("Days", fmt.Sprint(*e.Days), "'Days' for Expiration action must be a positive integer")
		case e.Date != nil && !atMidnight(*e.Date):
			return errMidnight(*e.Date)
		case e.ExpiredObjectDeleteMarker != nil && tagged:
			return errInvalidRequest("ExpiredObjectDeleteMarker cannot be specified with object tags")
		}
	}
	for _, t := range r.Transitions {
		if t.Date != nil && !atMidnight(*t.Date) {
			return errMidnight(*t.Date)
		}
	}
	if n := r.NoncurrentVersionExpiration; n != nil {
		if n.NoncurrentDays == nil || *n.NoncurrentDays <= 0 {
			return errInvalidArgument("NoncurrentDays", fmt.Sprint(awsproto.Value(n.NoncurrentDays)),
				"'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive integer")
		}
		if v := n.NewerNoncurrentVersions; v != nil && (*v < 1 || *v > 100) {
			return errInvalidArgument("NewerNoncurrentVersions", fmt.Sprint(*v), "'NewerNoncurrentVersions' must be between 1 and 100")
		}
	}
	if a := r.AbortIncompleteMultipartUpload; a != nil {
		if tagged {
			return errInvalidRequest("AbortIncompleteMultipartUpload cannot be specified with Tags.")
		}
		if a.DaysAfterInitiation == nil || *a.DaysAfterInitiation <= 0 {
			return errInvalidArgument("DaysAfterInitiation", fmt.Sprint(awsproto.Value(a.DaysAfterInitiation)),
				"'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a positive integer")
		}
	}
	return nil
}

// atMidnight reports whether a rule's Date is midnight UTC, the only time S3 takes for it.
func atMidnight(t time.Time) bool {
	return t.UTC().Equal(t.UTC().Truncate(24 * time.Hour))
}

func errMidnight(t time.Time) *awsproto.Error {
	return errInvalidArgument("Date", t.String(), "'Date' must be at midnight GMT")
}

func newRuleID() string {
	var b [20]byte
	rand.Read(b[:])
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:])
}

func (s *Service) putBucketLifecycle(ctx context.Context, in *PutBucketLifecycleConfigurationRequest) (*PutBucketLifecycleConfigurationOutput, error) {
	if err := validLifecycle(in.LifecycleConfiguration); err != nil {
		return nil, err
	}
	if err := s.updateBucketConfig(ctx, awsproto.Value(in.Bucket), configLifecycle, in.LifecycleConfiguration.Rules); err != nil {
		return nil, err
	}
	size := awsproto.Value(in.TransitionDefaultMinimumObjectSize)
	if size == "" {
		size = "all_storage_classes_128K"
	}
	return &PutBucketLifecycleConfigurationOutput{TransitionDefaultMinimumObjectSize: &size}, nil
}

func (s *Service) getBucketLifecycle(ctx context.Context, in *GetBucketLifecycleConfigurationRequest) (*GetBucketLifecycleConfigurationOutput, error) {
	var rules []LifecycleRule
	if err := s.readBucketConfig(ctx, awsproto.Value(in.Bucket), configLifecycle, &rules, errNoSuchLifecycleConfig); err != nil {
		return nil, err
	}
	return &GetBucketLifecycleConfigurationOutput{Rules: rules, TransitionDefaultMinimumObjectSize: awsproto.Ptr("all_storage_classes_128K")}, nil
}

func (s *Service) deleteBucketLifecycle(ctx context.Context, in *DeleteBucketLifecycleRequest) (*struct{}, error) {
	return &struct{}{}, s.updateBucketConfig(ctx, awsproto.Value(in.Bucket), configLifecycle, nil)
}

// runLifecycle applies buckets' lifecycle expiration rules until ctx ends.

// lifecyclePass applies every bucket's lifecycle rules once, then drops ACL rows of versions
// that no longer exist.
func (s *Service) lifecyclePass(ctx context.Context, clock lifecycleClock) error {
	rows, err := s.st.Query(ctx, `SELECT bucket, body FROM s3_bucket_configs WHERE kind = ?`, configLifecycle)
	if err != nil {
		return fmt.Errorf("list lifecycle configurations: %w", err)
	}
	type config struct{ bucket, body string }
	var configs []config
	for rows.Next() {
		var c config
		if err := rows.Scan(&c.bucket, &c.body); err != nil {
			rows.Close()
			return err
		}
		configs = append(configs, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, c := range configs {
		var rules []LifecycleRule
		if err := json.Unmarshal([]byte(c.body), &rules); err != nil {
			s.log.Error("decode lifecycle configuration", "bucket", c.bucket, "err", err)
			continue
		}
		if err := s.applyLifecycle(ctx, c.bucket, rules, clock); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			s.log.Error("apply lifecycle", "bucket", c.bucket, "err", err)
		}
	}
	return s.st.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(`DELETE FROM s3_object_acls WHERE NOT EXISTS (SELECT 1 FROM s3_objects o WHERE o.bucket = s3_object_acls.bucket
			AND o.okey = s3_object_acls.okey AND o.version_id = s3_object_acls.version_id AND o.seq = s3_object_acls.seq)`)
		return err
	})
}

// activeRule is an enabled lifecycle rule with its filter parsed.
type activeRule struct {
	*LifecycleRule
	filter lifecycleFilter
}

// applyLifecycle applies one bucket's rules to its objects and incomplete uploads.
func (s *Service) applyLifecycle(ctx context.Context, bucketName string, rules []LifecycleRule, clock lifecycleClock) error {
	var active []activeRule
	for i := range rules {
		if awsproto.Value(rules[i].Status) != "Enabled" {
			continue
		}
		if f, ok := filterOf(&rules[i]); ok {
			active = append(active, activeRule{&rules[i], f})
		}
	}
	if len(active) == 0 {
		return nil
	}
	after := ""
	for {
		keys, err := s.keysAfter(ctx, bucketName, after, 500)
		if err != nil {
			return err
		}
		for _, k := range keys {
			if err := s.expireKey(ctx, bucketName, k, active, clock); err != nil {
				return err
			}
		}
		if len(keys) < 500 {
			break
		}
		after = keys[len(keys)-1]
	}
	return s.abortStaleUploads(ctx, bucketName, active, clock)
}

func (s *Service) keysAfter(ctx context.Context, bucketName, after string, limit int) ([]string, error) {
	keys, err := store.Strings(s.st.Query(ctx, `SELECT DISTINCT okey FROM s3_objects WHERE bucket = ? AND okey > ? ORDER BY okey LIMIT ?`, bucketName, after, limit))
	if err != nil {
		return nil, fmt.Errorf("list keys: %w", err)
	}
	return keys, nil
}

// versionsOf returns every version of a key, newest first.
func versionsOf(ctx context.Context, st *store.Store, bucketName, key string) ([]object, error) {
	rows, err := st.Query(ctx, `SELECT `+objectColumns+` FROM s3_objects WHERE bucket = ? AND okey = ? ORDER BY seq DESC`, bucketName, key)
	if err != nil {
		return nil, fmt.Errorf("list versions of %q: %w", key, err)
	}
	defer rows.Close()
	var vs []object
	for rows.Next() {
		o, err := scanObject(rows)
		if err != nil {
			return nil, err
		}
		vs = append(vs, o)
	}
	return vs, rows.Err()
}

// lifecycleActions are what the rules decide for one key.
type lifecycleActions struct {
	expireCurrent bool     // delete (unversioned) or hide behind a delete marker (versioned)
	removeMarker  bool     // the current version is an expired object delete marker
	removeOld     []string // noncurrent version ids to delete permanently
}

// decideLifecycle works out the actions for a key's versions (newest first) at now.
func decideLifecycle(vs []object, rules []activeRule, clock lifecycleClock, now time.Time) lifecycleActions {
	var a lifecycleActions
	if len(vs) == 0 {
		return a
	}
	cur := &vs[0]
	doomed := map[string]bool{}
	for _, r := range rules {
		if e := r.Expiration; e != nil && !cur.DeleteMarker && r.filter.matches(cur) {
			if (e.Days != nil && !now.Before(clock.after(cur.LastModified, *e.Days))) || (e.Date != nil && !now.Before(*e.Date)) {
				a.expireCurrent = true
			}
		}
		if e := r.Expiration; e != nil && awsproto.Value(e.ExpiredObjectDeleteMarker) && cur.DeleteMarker && len(vs) == 1 &&
			strings.HasPrefix(cur.Key, r.filter.prefix) {
			a.removeMarker = true
		}
		if n := r.NoncurrentVersionExpiration; n != nil && n.NoncurrentDays != nil {
			keep := int(awsproto.Value(n.NewerNoncurrentVersions))
			for i := 1; i < len(vs); i++ {
				if i <= keep || !r.filter.matches(&vs[i]) {
					continue
				}
				if !now.Before(clock.after(vs[i-1].LastModified, *n.NoncurrentDays)) {
					doomed[vs[i].VersionID] = true
				}
			}
		}
	}
	for i := 1; i < len(vs); i++ {
		if doomed[vs[i].VersionID] {
			a.removeOld = append(a.removeOld, vs[i].VersionID)
		}
	}
	return a
}

// expireKey applies the rules to one key in one transaction, provided the key has not changed
// since its versions were read.
func (s *Service) expireKey(ctx context.Context, bucketName, key string, rules []activeRule, clock lifecycleClock) error {
	vs, err := versionsOf(ctx, s.st, bucketName, key)
	if err != nil || len(vs) == 0 {
		return err
	}
	now := s.now()
	a := decideLifecycle(vs, rules, clock, now)
	if !a.expireCurrent && !a.removeMarker && len(a.removeOld) == 0 {
		return nil
	}
	cur := vs[0]
	return s.st.Write(ctx, func(tx *store.Tx) error {
		b, err := loadBucket(tx, bucketName)
		if err != nil {
			return err
		}
		var latest int64
		if err := tx.QueryRow(`SELECT COALESCE(MAX(seq), 0) FROM s3_objects WHERE bucket = ? AND okey = ?`, bucketName, key).Scan(&latest); err != nil {
			return err
		}
		if latest != cur.Seq {
			return nil // written meanwhile: the next pass decides again
		}
		for _, id := range a.removeOld {
			o := vs[indexOfVersion(vs, id)]
			if checkVersionDeletable(o, now, false) != nil {
				continue // object lock: expiration never removes a locked version
			}
			if _, err := s.removeVersion(tx, bucketName, key, id); err != nil {
				return err
			}
			if err := s.emit(ctx, tx, b, "LifecycleExpiration:Delete", &o); err != nil {
				return err
			}
		}
		switch {
		case a.removeMarker:
			if _, err := s.removeVersion(tx, bucketName, key, cur.VersionID); err != nil {
				return err
			}
			return s.emit(ctx, tx, b, "LifecycleExpiration:Delete", &cur)
		case a.expireCurrent && b.Versioning == "":
			if _, err := s.removeVersion(tx, bucketName, key, cur.VersionID); err != nil {
				return err
			}
			return s.emit(ctx, tx, b, "LifecycleExpiration:Delete", &cur)
		case a.expireCurrent:
			marker := object{Bucket: bucketName, Key: key, DeleteMarker: true, LastModified: now.UTC(), Owner: b.Account,
				ETag: "", StorageClass: "STANDARD"}
			if err := s.putVersion(tx, b.Versioning, &marker); err != nil {
				return err
			}
			return s.emit(ctx, tx, b, "LifecycleExpiration:DeleteMarkerCreated", &marker)
		}
		return nil
	})
}

func indexOfVersion(vs []object, id string) int {
	for i := range vs {
		if vs[i].VersionID == id {
			return i
		}
	}
	return 0
}

// abortStaleUploads aborts incomplete multipart uploads older than an AbortIncompleteMultipartUpload rule allows.
func (s *Service) abortStaleUploads(ctx context.Context, bucketName string, rules []activeRule, clock lifecycleClock) error {
	var abortRules []activeRule
	for _, r := range rules {
		if r.AbortIncompleteMultipartUpload != nil && r.AbortIncompleteMultipartUpload.DaysAfterInitiation != nil {
			abortRules = append(abortRules, r)
		}
	}
	if len(abortRules) == 0 {
		return nil
	}
	rows, err := s.st.Query(ctx, `SELECT upload_id, okey, initiated FROM s3_uploads WHERE bucket = ?`, bucketName)
	if err != nil {
		return fmt.Errorf("list uploads: %w", err)
	}
	now := s.now()
	var stale []string
	for rows.Next() {
		var id, key string
		var initiated int64
		if err := rows.Scan(&id, &key, &initiated); err != nil {
			rows.Close()
			return err
		}
		for _, r := range abortRules {
			if strings.HasPrefix(key, r.filter.prefix) &&
				!now.Before(clock.after(time.UnixMilli(initiated), *r.AbortIncompleteMultipartUpload.DaysAfterInitiation)) {
				stale = append(stale, id)
				break
			}
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, id := range stale {
		err := s.st.Write(ctx, func(tx *store.Tx) error { return s.abortUploadRows(tx, id) })
		if err != nil && !errors.Is(err, context.Canceled) {
			return fmt.Errorf("abort upload %s: %w", id, err)
		}
	}
	return nil
}
