// Package sqs implements Amazon SQS on Kiri's queue engine. Queue metadata (attributes, tags,
// message move tasks) lives in the service's own tables; messages live in the engine, one
// engine queue per SQS queue, sent in the caller's request transaction, received under leases
// whose receipts become SQS receipt handles, and woken by arrival for long polls. FIFO queues
// use the engine's ordered groups and deduplication windows; dead-letter queues its receive
// counts. SQS speaks both its JSON protocol and, through a query twin of its older model, the
// query protocol of the AWS CLI v2.9 and boto3 1.26.
package sqs

//go:generate go run github.com/kiri-run/kiri/internal/awsproto/apigen -model sqs -package sqs -out api_gen.go

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/iam/authz"
	"github.com/kiri-run/kiri/internal/iam/policy"
	"github.com/kiri-run/kiri/internal/queue"
	"github.com/kiri-run/kiri/internal/service"
	"github.com/kiri-run/kiri/internal/store"
)

// Service is the SQS API.
type Service struct {
	api    *awsproto.Service
	st     *store.Store
	eng    *queue.Engine
	log    *slog.Logger
	now    func() time.Time
	queues *store.Cache[queueKey, *queueRow]
	polls  polls
	// authz decides calls and deliveries in enforce mode; policies keeps compiled queue policies.
	authz    *authz.Authorizer
	policies *policy.Cache
}

// New migrates SQS's tables, registers its operations and starts its move-task worker on the
// engine.
func New(ctx context.Context, d service.Deps) (*Service, error) {
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if err := d.Store.Migrate(ctx, "sqs", migrations); err != nil {
		return nil, fmt.Errorf("migrate sqs: %w", err)
	}
	s := &Service{
		st:       d.Store,
		eng:      d.Queue,
		log:      d.Logger.With("service", "sqs"),
		now:      d.Now,
		queues:   store.NewCache[queueKey, *queueRow](d.Store, queueCacheLimit),
		authz:    d.Authz,
		policies: policy.NewCache(queueCacheLimit),
	}
	api, err := awsproto.NewService("sqs", awsproto.ServiceOptions{
		// The AWS CLI v2.9 and boto3 1.26 speak query to SQS; a request they post to a queue
		// URL may name the queue by that URL alone.
		QueryModel:         "sqs-query",
		QueryURLParam:      "QueueUrl",
		SkipEnumValidation: true, // SQS answers unknown attribute names itself (InvalidAttributeName)
		ValidationError:    validationError,
		Authorize:          d.Authz.Hook("sqs", s.operations(), accessDenied),
	})
	if err != nil {
		return nil, err
	}
	s.api = api
	s.registerQueueOps()
	s.registerMessageOps()
	s.registerMoveTaskOps()
	startMoveRunner(s)
	if d.Targets != nil {
		d.Targets.Register("sqs", kind{s})
	}
	return s, nil
}

// API returns the codec-facing service to mount on the router.
func (s *Service) API() *awsproto.Service { return s.api }

func (s *Service) registerQueueOps() {
	awsproto.Handle(s.api, "CreateQueue", s.createQueue)
	awsproto.Handle(s.api, "DeleteQueue", s.deleteQueue)
	awsproto.Handle(s.api, "GetQueueUrl", s.getQueueURL)
	awsproto.Handle(s.api, "ListQueues", s.listQueues)
	awsproto.Handle(s.api, "GetQueueAttributes", s.getQueueAttributes)
	awsproto.Handle(s.api, "SetQueueAttributes", s.setQueueAttributes)
	awsproto.Handle(s.api, "PurgeQueue", s.purgeQueue)
	awsproto.Handle(s.api, "ListDeadLetterSourceQueues", s.listDeadLetterSourceQueues)
	awsproto.Handle(s.api, "TagQueue", s.tagQueue)
	awsproto.Handle(s.api, "UntagQueue", s.untagQueue)
	awsproto.Handle(s.api, "ListQueueTags", s.listQueueTags)
	awsproto.Handle(s.api, "AddPermission", s.addPermission)
	awsproto.Handle(s.api, "RemovePermission", s.removePermission)
}

func (s *Service) registerMessageOps() {
	awsproto.Handle(s.api, "SendMessage", s.sendMessage)
	awsproto.Handle(s.api, "SendMessageBatch", s.sendMessageBatch)
	awsproto.Handle(s.api, "ReceiveMessage", s.receiveMessage)
	awsproto.Handle(s.api, "DeleteMessage", s.deleteMessage)
	awsproto.Handle(s.api, "DeleteMessageBatch", s.deleteMessageBatch)
	awsproto.Handle(s.api, "ChangeMessageVisibility", s.changeMessageVisibility)
	awsproto.Handle(s.api, "ChangeMessageVisibilityBatch", s.changeMessageVisibilityBatch)
}

func (s *Service) registerMoveTaskOps() {
	awsproto.Handle(s.api, "StartMessageMoveTask", s.startMessageMoveTask)
	awsproto.Handle(s.api, "ListMessageMoveTasks", s.listMessageMoveTasks)
	awsproto.Handle(s.api, "CancelMessageMoveTask", s.cancelMessageMoveTask)
}
