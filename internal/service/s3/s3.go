// Package s3 implements Amazon S3 on Kiri's planes: bucket and object metadata live in the
// store, object bytes in the blob store (small objects inline in their metadata row, so they
// ride the store's group commit), and event notifications go to the target registry in the same
// transaction as the change that causes them.
package s3

//go:generate go run github.com/kiri-run/kiri/internal/awsproto/apigen -model s3 -package s3 -out api_gen.go

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/blob"
	"github.com/kiri-run/kiri/internal/iam/authz"
	"github.com/kiri-run/kiri/internal/iam/policy"
	"github.com/kiri-run/kiri/internal/queue"
	"github.com/kiri-run/kiri/internal/service"
	"github.com/kiri-run/kiri/internal/store"
)

// Service is the S3 API.
type Service struct {
	api   *awsproto.Service
	st    *store.Store
	blobs blob.Store
	log   *slog.Logger
	now   func() time.Time
	deps  service.Deps
	// buckets caches bucket rows for reads (nil with PostgreSQL; see bucket_cache.go).
	buckets *bucketCache
	// policies keeps compiled bucket policies by document.
	policies *policy.Cache
	// authorizeCall decides calls in enforce mode (see operations).
	authorizeCall func(ctx context.Context, op string, in any) error
	// started is when New ran, before this process could store any body (see pending.go).
	started time.Time
}

// xmlRoots names the root element of outputs the model leaves unnamed.
var xmlRoots = map[string]string{
	"ListBuckets":                        "ListAllMyBucketsResult",
	"GetBucketLocation":                  "LocationConstraint", // written unwrapped: <LocationConstraint>region</LocationConstraint>
	"ListObjects":                        "ListBucketResult",
	"ListObjectsV2":                      "ListBucketResult",
	"ListObjectVersions":                 "ListVersionsResult",
	"GetBucketVersioning":                "VersioningConfiguration",
	"GetBucketTagging":                   "Tagging",
	"GetObjectTagging":                   "Tagging",
	"GetBucketCors":                      "CORSConfiguration",
	"GetBucketAcl":                       "AccessControlPolicy",
	"GetObjectAcl":                       "AccessControlPolicy",
	"GetBucketLifecycleConfiguration":    "LifecycleConfiguration",
	"GetBucketNotificationConfiguration": "NotificationConfiguration",
	"CreateMultipartUpload":              "InitiateMultipartUploadResult",
	"CompleteMultipartUpload":            "CompleteMultipartUploadResult",
	"ListParts":                          "ListPartsResult",
	"ListMultipartUploads":               "ListMultipartUploadsResult",
	"DeleteObjects":                      "DeleteResult",
	"GetObjectAttributes":                "GetObjectAttributesResponse",
	"PutObjectTagging":                   "Tagging",
}

// New migrates S3's tables and registers its operations, queue handlers and periodic jobs.
func New(ctx context.Context, d service.Deps) (*Service, error) {
	if err := d.Store.Migrate(ctx, "s3", migrations); err != nil {
		return nil, fmt.Errorf("migrate s3: %w", err)
	}
	var s *Service
	api, err := awsproto.NewService("s3", awsproto.ServiceOptions{
		XMLRootNames:       xmlRoots,
		SkipEnumValidation: true,
		ValidationError: func(op string, problems []string) *awsproto.Error {
			return awsproto.Errorf("InvalidArgument", 400, "%s", strings.Join(problems, "; "))
		},
		Authorize: func(ctx context.Context, op string, in any) error { return s.authorizeCall(ctx, op, in) },
		Intercept: func(ctx context.Context, op string, next func(context.Context) error) error {
			return s.withinSpace(ctx, op, next)
		},
	})
	if err != nil {
		return nil, err
	}
	s = &Service{api: api, st: d.Store, blobs: d.Blobs, log: d.Logger.With("service", "s3"), now: time.Now, deps: d, buckets: newBucketCache(d.Store),
		policies: policy.NewCache(policyCacheLimit)}
	s.authorizeCall = d.Authz.Hook("s3", s.operations(), func(*authz.Denied) error { return errAccessDenied() })
	s.started = s.now()
	s.registerBucketOps()
	s.registerObjectOps()
	s.registerMultipartOps()
	s.registerNotificationOps()
	d.Queue.Handle(topicBlobGC, s.collectBlob, queue.HandlerOptions{})
	clock := lifecycleClockFromEnv()
	d.Queue.Every("s3.lifecycle", clock.interval, clock.interval, func(ctx context.Context) error {
		return s.lifecyclePass(ctx, clock)
	})
	d.Queue.Every("s3.pending-blobs", pendingSweepEvery, pendingSweepEvery, func(ctx context.Context) error {
		return s.sweepPendingOlder(ctx, s.now().Add(-pendingGrace), "pending longer than "+pendingGrace.String())
	})
	if s.st.Dialect() == "sqlite" {
		// One process owns an SQLite store: what is pending was left by a process that ended
		// before committing it.
		if err := s.sweepPendingOlder(ctx, s.started, "written by a process that ended before committing them"); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// API returns the codec-facing service to mount on the router.
func (s *Service) API() *awsproto.Service { return s.api }
