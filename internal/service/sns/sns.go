// Package sns implements Amazon SNS: standard and FIFO topics, subscriptions of SQS queues,
// Lambda functions and HTTP/S endpoints, filter policies, and Publish and PublishBatch.
//
// A Publish commits, in one store write, one durable delivery per confirmed subscription whose
// filter policy the message passes. Deliveries to queues and functions go through the target
// registry (internal/dispatch), retried for 23 days as SNS retries them; deliveries to HTTP/S
// endpoints go through SNS's own engine queue, retried as the subscription's delivery policy
// says. What fails for good goes to the subscription's dead-letter queue. Messages are signed
// with a key and certificate made once per data directory. SNS also registers the "sns" kind
// of the target registry, so other services (S3 notifications, Lambda destinations) publish
// to topics.
package sns

//go:generate go run github.com/kiri-run/kiri/internal/awsproto/apigen -model sns -package sns -out api_gen.go

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/dispatch"
	"github.com/kiri-run/kiri/internal/iam/authz"
	"github.com/kiri-run/kiri/internal/iam/policy"
	"github.com/kiri-run/kiri/internal/queue"
	"github.com/kiri-run/kiri/internal/service"
	"github.com/kiri-run/kiri/internal/store"
)

// sweepInterval is how often expired deduplication ids and unconfirmed subscriptions are
// removed.
const sweepInterval = 5 * time.Minute

// Service is the SNS API.
type Service struct {
	api      *awsproto.Service
	router   *awsproto.Router
	st       *store.Store
	eng      *queue.Engine
	targets  *dispatch.Registry
	log      *slog.Logger
	now      func() time.Time
	endpoint string
	http     *http.Client
	topics   *store.Cache[topicKey, *topicRow]
	fanouts  *store.Cache[int64, *fanout]
	keys     keyring
	seq      sequencer
	throttle limiter
	// authz decides calls and deliveries in enforce mode; policies keeps compiled topic policies.
	authz    *authz.Authorizer
	policies *policy.Cache
}

// New migrates SNS's tables, registers its operations, its HTTP/S delivery queue and its
// sweep on the engine, and its kind on the target registry.
func New(ctx context.Context, d service.Deps) (*Service, error) {
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if err := d.Store.Migrate(ctx, "sns", migrations); err != nil {
		return nil, fmt.Errorf("migrate sns: %w", err)
	}
	s := &Service{
		st:       d.Store,
		eng:      d.Queue,
		targets:  d.Targets,
		log:      d.Logger.With("service", "sns"),
		now:      d.Now,
		endpoint: d.Config.Endpoint,
		http:     newHTTPClient(),
		topics:   store.NewCache[topicKey, *topicRow](d.Store, cacheLimit),
		fanouts:  store.NewCache[int64, *fanout](d.Store, cacheLimit),
		authz:    d.Authz,
		policies: policy.NewCache(cacheLimit),
	}
	api, err := awsproto.NewService("sns", awsproto.ServiceOptions{
		ValidationError: validationError,
		Authorize:       d.Authz.Hook("sns", s.operations(), accessDenied),
	})
	if err != nil {
		return nil, err
	}
	s.api, s.router = api, awsproto.NewRouter(api)
	s.registerTopicOps()
	s.registerSubscriptionOps()
	awsproto.Handle(api, "Publish", s.publish)
	awsproto.Handle(api, "PublishBatch", s.publishBatch)
	d.Queue.Handle(httpQueue, s.deliverHTTP, queue.HandlerOptions{Concurrency: 16})
	d.Queue.Every("sns.sweep", sweepInterval, sweepInterval, s.sweep)
	d.Targets.Register("sns", kind{s})
	return s, nil
}

// API returns the codec-facing service to mount on the router.
func (s *Service) API() *awsproto.Service { return s.api }

func (s *Service) registerTopicOps() {
	awsproto.Handle(s.api, "CreateTopic", s.createTopic)
	awsproto.Handle(s.api, "DeleteTopic", s.deleteTopic)
	awsproto.Handle(s.api, "GetTopicAttributes", s.getTopicAttributes)
	awsproto.Handle(s.api, "SetTopicAttributes", s.setTopicAttributes)
	awsproto.Handle(s.api, "ListTopics", s.listTopics)
	awsproto.Handle(s.api, "TagResource", s.tagResource)
	awsproto.Handle(s.api, "UntagResource", s.untagResource)
	awsproto.Handle(s.api, "ListTagsForResource", s.listTagsForResource)
}

func (s *Service) registerSubscriptionOps() {
	awsproto.Handle(s.api, "Subscribe", s.subscribe)
	awsproto.Handle(s.api, "ConfirmSubscription", s.confirmSubscription)
	awsproto.Handle(s.api, "Unsubscribe", s.unsubscribe)
	awsproto.Handle(s.api, "ListSubscriptions", s.listSubscriptions)
	awsproto.Handle(s.api, "ListSubscriptionsByTopic", s.listSubscriptionsByTopic)
	awsproto.Handle(s.api, "GetSubscriptionAttributes", s.getSubscriptionAttributes)
	awsproto.Handle(s.api, "SetSubscriptionAttributes", s.setSubscriptionAttributes)
}

// sweep removes expired deduplication ids, and subscriptions whose confirmation token expired
// unused: pending ones never confirmed, unsubscribed ones never restored.
func (s *Service) sweep(ctx context.Context) error {
	now := s.now().UnixNano()
	return s.st.Write(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec("DELETE FROM sns_dedup WHERE expires_at < ?", now); err != nil {
			return fmt.Errorf("sweep deduplication ids: %w", err)
		}
		if _, err := tx.Exec("DELETE FROM sns_subscriptions WHERE state <> ? AND token_until < ?", stateConfirmed, now); err != nil {
			return fmt.Errorf("sweep unconfirmed subscriptions: %w", err)
		}
		return nil
	})
}
