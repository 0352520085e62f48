package s3

import (
	"context"
	"net/http"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
)

// expirationHeader returns the x-amz-expiration value S3 sends with the current version o of a
// key an enabled lifecycle Expiration rule applies to: the earliest expiry, and that rule's id.
// It is "" when no rule applies (or the rules cannot be read: the header is advisory).
func (s *Service) expirationHeader(q querier, b bucket, o *object) string {
	if o.DeleteMarker {
		return ""
	}
	var rules []LifecycleRule
	if ok, err := loadBucketConfigJSON(q, b, configLifecycle, &rules); err != nil || !ok {
		return ""
	}
	clock := lifecycleClockFromEnv()
	var best time.Time
	var id string
	for i := range rules {
		r := &rules[i]
		e := r.Expiration
		if awsproto.Value(r.Status) != "Enabled" || e == nil || e.Days == nil && e.Date == nil {
			continue
		}
		f, ok := filterOf(r)
		if !ok || !f.matches(o) {
			continue
		}
		due := time.Time{}
		if e.Days != nil {
			due = clock.after(o.LastModified, *e.Days)
		} else {
			due = e.Date.UTC()
		}
		if best.IsZero() || due.Before(best) {
			best, id = due, awsproto.Value(r.ID)
		}
	}
	if best.IsZero() {
		return ""
	}
	return `expiry-date="` + best.UTC().Format(http.TimeFormat) + `", rule-id="` + id + `"`
}

// setExpirationHeader adds x-amz-expiration for o to the response of the call in ctx.
func (s *Service) setExpirationHeader(ctx context.Context, b bucket, o *object) {
	if v := s.expirationHeader(s.reader(ctx), b, o); v != "" {
		setResponseHeader(ctx, "x-amz-expiration", v)
	}
}
