// Package dynamodb implements Amazon DynamoDB on Kiri's store. Tables are rows of metadata;
// items are rows keyed by the order-preserving encoding of their key (package attr), so a
// Query reads one partition in sort-key order as an index range scan, and a Scan reads the
// table in the order of a hash of the partition key, split into segments by that hash.
// Secondary indexes are rows of their own, kept in the same write transaction as the item
// they index. Every conditional check runs inside the store transaction of its write, and
// every item change goes through one function (applyChange) that sees the old and the new
// image in that transaction. Expressions and legacy parameters are package expr.
package dynamodb

//go:generate go run github.com/kiri-run/kiri/internal/awsproto/apigen -model dynamodb -package dynamodb -out api_gen.go

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/iam/authz"
	"github.com/kiri-run/kiri/internal/queue"
	"github.com/kiri-run/kiri/internal/service"
	"github.com/kiri-run/kiri/internal/store"
	"github.com/kiri-run/kiri/internal/streamlog"
)

// Background work of the service on the queue engine.
const (
	// topicPurge deletes the items and index entries of a deleted table or index.
	topicPurge = "dynamodb.purge"
	// topicBackfill fills a global secondary index added by UpdateTable.
	topicBackfill = "dynamodb.backfill"
	// jobTTL removes expired items of tables with time to live enabled.
	jobTTL = "dynamodb.ttl"
	// ttlInterval paces the time-to-live sweep.
	ttlInterval = 30 * time.Second
	// tableCacheLimit bounds the cached table rows.
	tableCacheLimit = 4096
)

// Service is the DynamoDB API.
type Service struct {
	api     *awsproto.Service
	st      *store.Store
	eng     *queue.Engine
	log     *slog.Logger
	now     func() time.Time
	tables  *store.Cache[tableKey, *table]
	authz   *authz.Authorizer
	records *streamlog.Log
}

// New migrates DynamoDB's tables, registers its operations, its purge and backfill handlers
// and its time-to-live sweep.
func New(ctx context.Context, d service.Deps) (*Service, error) {
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if err := d.Store.Migrate(ctx, "dynamodb", migrations); err != nil {
		return nil, fmt.Errorf("migrate dynamodb: %w", err)
	}
	records, err := streamlog.Open(ctx, d.Store, d.Now)
	if err != nil {
		return nil, err
	}
	s := &Service{
		records: records,
		st:      d.Store,
		eng:     d.Queue,
		log:     d.Logger.With("service", "dynamodb"),
		now:     d.Now,
		tables:  store.NewCache[tableKey, *table](d.Store, tableCacheLimit),
		authz:   d.Authz,
	}
	opts := wireOptions()
	opts.Authorize = d.Authz.Hook("dynamodb", s.operations(), accessDenied)
	api, err := awsproto.NewService("dynamodb", opts)
	if err != nil {
		return nil, err
	}
	s.api = api
	s.registerTableOps()
	s.registerItemOps()
	s.registerReadOps()
	s.registerBatchOps()
	s.registerTransactOps()
	s.registerStatementOps()
	if d.Queue != nil {
		d.Queue.Handle(topicPurge, s.purge, queue.HandlerOptions{Concurrency: 1})
		d.Queue.Handle(topicBackfill, s.backfill, queue.HandlerOptions{Concurrency: 1})
		d.Queue.Every(jobTTL, ttlInterval, ttlInterval, s.sweepExpired)
		d.Queue.Every(jobStreamTrim, streamTrimInterval, streamTrimInterval, s.trimStreams)
	}
	return s, nil
}

// API returns the codec-facing service to mount on the router.
func (s *Service) API() *awsproto.Service { return s.api }

func (s *Service) registerTableOps() {
	awsproto.Handle(s.api, "CreateTable", s.createTable)
	awsproto.Handle(s.api, "DescribeTable", s.describeTable)
	awsproto.Handle(s.api, "UpdateTable", s.updateTable)
	awsproto.Handle(s.api, "DeleteTable", s.deleteTable)
	awsproto.Handle(s.api, "ListTables", s.listTables)
	awsproto.Handle(s.api, "UpdateTimeToLive", s.updateTimeToLive)
	awsproto.Handle(s.api, "DescribeTimeToLive", s.describeTimeToLive)
	awsproto.Handle(s.api, "TagResource", s.tagResource)
	awsproto.Handle(s.api, "UntagResource", s.untagResource)
	awsproto.Handle(s.api, "ListTagsOfResource", s.listTagsOfResource)
	awsproto.Handle(s.api, "DescribeEndpoints", s.describeEndpoints)
	awsproto.Handle(s.api, "DescribeLimits", s.describeLimits)
}

func (s *Service) registerItemOps() {
	awsproto.Handle(s.api, "PutItem", s.putItem)
	awsproto.Handle(s.api, "GetItem", s.getItem)
	awsproto.Handle(s.api, "UpdateItem", s.updateItem)
	awsproto.Handle(s.api, "DeleteItem", s.deleteItem)
}

func (s *Service) registerReadOps() {
	awsproto.Handle(s.api, "Query", s.query)
	awsproto.Handle(s.api, "Scan", s.scan)
}

func (s *Service) registerBatchOps() {
	awsproto.Handle(s.api, "BatchGetItem", s.batchGetItem)
	awsproto.Handle(s.api, "BatchWriteItem", s.batchWriteItem)
}

func (s *Service) registerTransactOps() {
	awsproto.Handle(s.api, "TransactWriteItems", s.transactWriteItems)
	awsproto.Handle(s.api, "TransactGetItems", s.transactGetItems)
}
