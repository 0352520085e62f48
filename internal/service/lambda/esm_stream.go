package lambda

import (
	"context"
	"encoding/json"
	"errors"
	"hash/fnv"
	"maps"
	"strings"
	"sync"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/dispatch"
	"github.com/kiri-run/kiri/internal/eventsource"
	"github.com/kiri-run/kiri/internal/iam/authz"
	"github.com/kiri-run/kiri/internal/pattern"
	"github.com/kiri-run/kiri/internal/store"
	"github.com/kiri-run/kiri/internal/streamlog"
	"github.com/kiri-run/kiri/internal/telemetry"
)

// Event source mappings of DynamoDB streams. The poller is a leased worker on the queue
// engine, as for SQS, that reads the stream's shards from the record log (internal/streamlog)
// from the mapping's checkpoint: the next sequence number to process, stored in the log's
// checkpoint table once a batch is done (or given up on). A crash repeats at most the batches
// after the last checkpoint: at least once, in order. With a ParallelizationFactor above 1 a
// shard's records are split by partition key into that many lanes processed at once, so the
// records of one key keep their order; the checkpoint moves once every lane is done.

// Limits and defaults of stream event source mappings (AWS Lambda Developer Guide, "Using
// Lambda with DynamoDB").
const (
	streamDefaultBatch = 100
	streamMaxBatch     = 10000
	streamMaxWindow    = 300
	streamMaxRetries   = 10000
	streamMinAge       = 60
	streamMaxAge       = 604800
	streamMaxParallel  = 10
	// streamIdleRecheck bounds an idle poller's wait: appends wake it sooner.
	streamIdleRecheck = time.Second
	// streamRetryMin and streamRetryMax bound the backoff between retries of a failed batch.
	streamRetryMin = 100 * time.Millisecond
	streamRetryMax = 5 * time.Second
)

// Starting positions.
const (
	positionTrimHorizon = "TRIM_HORIZON"
	positionLatest      = "LATEST"
	positionAtTimestamp = "AT_TIMESTAMP"
)

// streamSourceARN reports whether an event source is a DynamoDB stream.
func streamSourceARN(arn string) bool {
	parts := strings.SplitN(arn, ":", 6)
	return len(parts) == 6 && parts[2] == "dynamodb" && strings.Contains(parts[5], "/stream/")
}

// stream reports whether the mapping reads a DynamoDB stream.
func (m *mapping) stream() bool { return streamSourceARN(m.EventSourceArn) }

// consumer is the mapping's name in the log's checkpoint table.
func (m *mapping) consumer() string { return "lambda.esm." + m.UUID }

// renderStream adds the members Lambda reports for a stream mapping.
func (m *mapping) renderStream(out *EventSourceMappingConfiguration) {
	out.StartingPosition = ptr(m.StartingPosition)
	out.BisectBatchOnFunctionError = ptr(m.Bisect)
	out.MaximumRetryAttempts = ptr(m.MaxRetries)
	out.MaximumRecordAgeInSeconds = ptr(m.MaxRecordAge)
	out.ParallelizationFactor = ptr(m.Parallelization)
	out.TumblingWindowInSeconds = ptr(int32(0))
	out.LastProcessingResult = ptr("No records processed")
	out.DestinationConfig = &DestinationConfig{OnFailure: &OnFailure{}, OnSuccess: &OnSuccess{}}
	if m.OnFailure != "" {
		out.DestinationConfig.OnFailure.Destination = ptr(m.OnFailure)
	}
}

// streamChange is what CreateEventSourceMapping and UpdateEventSourceMapping may set on a
// stream mapping beyond what they set on any mapping.
type streamChange struct {
	Bisect       *bool
	MaxRetries   *int32
	MaxRecordAge *int32
	Parallel     *int32
	Destination  *DestinationConfig
}

// apply sets the change on m and checks the result as Lambda does for a stream.
func (c streamChange) apply(m *mapping, base mappingChange) error {
	if base.Scaling != nil {
		return unsupportedParameter("ScalingConfig")
	}
	if c.Bisect != nil {
		m.Bisect = *c.Bisect
	}
	if c.MaxRetries != nil {
		m.MaxRetries = *c.MaxRetries
	}
	if c.MaxRecordAge != nil {
		m.MaxRecordAge = *c.MaxRecordAge
	}
	if c.Parallel != nil {
		m.Parallelization = *c.Parallel
	}
	if d := c.Destination; d != nil {
		if d.OnSuccess != nil && d.OnSuccess.Destination != nil {
			return invalidParameter("Unsupported DestinationConfig parameter for given event source mapping type.")
		}
		m.OnFailure = ""
		if d.OnFailure != nil {
			m.OnFailure = awsproto.Value(d.OnFailure.Destination)
		}
	}
	if err := base.applyShared(m); err != nil {
		return err
	}
	if base.BatchSize != nil {
		m.BatchSize = *base.BatchSize
	}
	if base.Window != nil {
		m.Window = *base.Window
	}
	switch {
	case m.BatchSize < 1 || m.BatchSize > streamMaxBatch:
		return invalidParameter("BatchSize must be between 1 and %d for DynamoDB streams.", streamMaxBatch)
	case m.Window < 0 || m.Window > streamMaxWindow:
		return invalidParameter("MaximumBatchingWindowInSeconds must be between 0 and %d.", streamMaxWindow)
	case m.MaxRetries < -1 || m.MaxRetries > streamMaxRetries:
		return invalidParameter("MaximumRetryAttempts must be between -1 and %d.", streamMaxRetries)
	case m.MaxRecordAge != -1 && (m.MaxRecordAge < streamMinAge || m.MaxRecordAge > streamMaxAge):
		return invalidParameter("MaximumRecordAgeInSeconds must be -1 or between %d and %d.", streamMinAge, streamMaxAge)
	case m.Parallelization < 1 || m.Parallelization > streamMaxParallel:
		return invalidParameter("ParallelizationFactor must be between 1 and %d.", streamMaxParallel)
	}
	return nil
}

// Parameters stream mappings do not take: those of other sources, and those Kiri does not
// implement for streams (tumbling windows).
var streamUnsupported = []string{"TumblingWindowInSeconds", "SourceAccessConfigurations", "SelfManagedKafkaEventSourceConfig",
	"AmazonManagedKafkaEventSourceConfig", "DocumentDBEventSourceConfig", "ProvisionedPollerConfig", "KMSKeyArn",
	"MetricsConfig", "LoggingConfig", "ScalingConfig"}

func (s *Service) createStreamMapping(ctx context.Context, in *CreateEventSourceMappingRequest) (*EventSourceMappingConfiguration, error) {
	if err := refuseParameters(in, streamUnsupported, []string{"StartingPositionTimestamp", "Topics", "Queues", "SelfManagedEventSource"}); err != nil {
		return nil, err
	}
	switch pos := awsproto.Value(in.StartingPosition); pos {
	case positionTrimHorizon, positionLatest:
	case "":
		return nil, invalidParameter("StartingPosition must be specified for DynamoDB streams.")
	case positionAtTimestamp:
		return nil, invalidParameter("Unsupported starting position for DynamoDB streams: AT_TIMESTAMP.")
	default:
		return nil, invalidParameter("Unsupported starting position: %s.", pos)
	}
	r, err := s.ref(ctx, in.FunctionName, nil)
	if err != nil {
		return nil, err
	}
	source := awsproto.Value(in.EventSourceArn)
	m := &mapping{
		UUID: newUUID(), Account: r.account, Region: r.region, FunctionArn: r.arn(), EventSourceArn: source,
		BatchSize: streamDefaultBatch, Enabled: true, State: esmCreating, StateReason: esmUserInitiated, LastModified: s.now(),
		StartingPosition: awsproto.Value(in.StartingPosition), MaxRetries: -1, MaxRecordAge: -1, Parallelization: 1,
	}
	base := mappingChange{BatchSize: in.BatchSize, Window: in.MaximumBatchingWindowInSeconds, FilterCriteria: in.FilterCriteria,
		ResponseTypes: in.FunctionResponseTypes, Scaling: in.ScalingConfig, Enabled: in.Enabled}
	sc := streamChange{Bisect: in.BisectBatchOnFunctionError, MaxRetries: in.MaximumRetryAttempts, MaxRecordAge: in.MaximumRecordAgeInSeconds,
		Parallel: in.ParallelizationFactor, Destination: in.DestinationConfig}
	if err := sc.apply(m, base); err != nil {
		return nil, err
	}
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	m.Tags = maps.Clone(in.Tags)
	shards, err := s.checkStreamMapping(ctx, r, m)
	if err != nil {
		return nil, err
	}
	err = s.st.Write(ctx, func(tx *store.Tx) error {
		if m.StartingPosition == positionLatest {
			// LATEST is the end of the stream when the mapping is made, kept as its checkpoint.
			for _, sh := range shards {
				if sh.Open() {
					if err := s.records.SetCheckpoint(tx, m.consumer(), source, sh.ID, sh.Last+1); err != nil {
						return err
					}
				}
			}
		}
		return s.commitMapping(tx, m, r.name)
	})
	if err != nil {
		return nil, err
	}
	return m.render(), nil
}

// checkStreamMapping checks the function, the stream, the execution role's access to it and the
// on-failure destination, as Lambda does; it returns the stream's shards.
func (s *Service) checkStreamMapping(ctx context.Context, r funcRef, m *mapping) ([]streamlog.Shard, error) {
	c, _, err := loadQualified(s.reader(ctx), r, true)
	if isNotFound(err) {
		return nil, invalidParameter("Function does not exist")
	}
	if err != nil {
		return nil, err
	}
	account, region := callScope(ctx)
	st, ok, err := s.records.Stream(ctx, m.EventSourceArn)
	if err != nil {
		return nil, err
	}
	if !ok || !sameScope(m.EventSourceArn, account, region) || st.Status != "ENABLED" {
		return nil, invalidParameter("Stream not found: %s", m.EventSourceArn)
	}
	if s.deps.Authz.Mode() == authz.Enforce {
		for _, action := range []string{"GetRecords", "GetShardIterator", "DescribeStream", "ListStreams"} {
			err := s.deps.Authz.AuthorizeRole(ctx, c.Role, r.name, authz.Request{Action: "dynamodb:" + action, Resource: m.EventSourceArn, ResourceAccount: account})
			if _, denied := authz.IsDenied(err); denied {
				return nil, invalidParameter("Cannot access stream %s. Please ensure the role can perform the GetRecords, GetShardIterator, DescribeStream, and ListStreams Actions on your stream in IAM.", m.EventSourceArn)
			}
			if err != nil {
				return nil, err
			}
		}
	}
	if err := s.checkDestinations(m.OnFailure); err != nil {
		return nil, err
	}
	return s.records.Shards(ctx, m.EventSourceArn)
}

func (s *Service) updateStreamMapping(ctx context.Context, in *UpdateEventSourceMappingRequest, cur *mapping) (*EventSourceMappingConfiguration, error) {
	if err := refuseParameters(in, streamUnsupported); err != nil {
		return nil, err
	}
	fn := cur.function()
	var err error
	if in.FunctionName != nil {
		if fn, err = s.ref(ctx, in.FunctionName, nil); err != nil {
			return nil, err
		}
	}
	base := mappingChange{BatchSize: in.BatchSize, Window: in.MaximumBatchingWindowInSeconds, FilterCriteria: in.FilterCriteria,
		ResponseTypes: in.FunctionResponseTypes, Scaling: in.ScalingConfig, Enabled: in.Enabled}
	sc := streamChange{Bisect: in.BisectBatchOnFunctionError, MaxRetries: in.MaximumRetryAttempts, MaxRecordAge: in.MaximumRecordAgeInSeconds,
		Parallel: in.ParallelizationFactor, Destination: in.DestinationConfig}
	probe := *cur
	if err := sc.apply(&probe, base); err != nil {
		return nil, err
	}
	if _, err := s.checkStreamMapping(ctx, fn, &probe); err != nil {
		return nil, err
	}
	return s.commitUpdate(ctx, in.UUID, fn, func(m *mapping) error { return sc.apply(m, base) })
}

// startStreamPoller runs (or restarts) a stream mapping's poller.
func (s *Service) startStreamPoller(m *mapping) {
	p := &streamPoller{s: s, m: *m, log: s.log.With("event_source_mapping", m.UUID, "stream", m.EventSourceArn)}
	p.filters, _ = pattern.CompileFilterCriteria(m.Filters) // checked when the mapping was stored
	s.deps.Queue.StartWorker(pollerName(m.UUID), p.run)
}

// streamPoller is the running poller of one stream mapping.
type streamPoller struct {
	s       *Service
	m       mapping
	filters *pattern.FilterCriteria
	log     interface {
		Info(string, ...any)
		Warn(string, ...any)
		Error(string, ...any)
	}
}

// streamRecord is a record read from the log and its event JSON.
type streamRecord struct {
	seq     int64
	id      string // its SequenceNumber, the itemIdentifier of partial batch responses
	key     string
	created time.Time
	json    []byte
}

// run processes the stream until ctx ends. A batch in flight when ctx ends is abandoned
// without a checkpoint: it runs again after a restart.
func (p *streamPoller) run(ctx context.Context) {
	for ctx.Err() == nil {
		changed := p.s.records.Changed(p.m.EventSourceArn)
		deleted := p.s.functionDeleted.wait()
		progressed, err := p.pass(ctx)
		if err != nil && ctx.Err() == nil {
			p.log.Error("event source mapping: read stream", "err", err)
		}
		if progressed {
			continue
		}
		t := time.NewTimer(streamIdleRecheck)
		select {
		case <-ctx.Done():
		case <-changed:
		case <-deleted:
		case <-t.C:
		}
		t.Stop()
	}
}

// pass processes one batch window of each shard that has records past its checkpoint; it
// reports whether any did.
func (p *streamPoller) pass(ctx context.Context) (bool, error) {
	arn := p.m.EventSourceArn
	shards, err := p.s.records.Shards(ctx, arn)
	if err != nil || len(shards) == 0 {
		return false, err
	}
	t, err := p.s.resolve(ctx, p.m.Account, p.m.Region, p.m.FunctionArn, "")
	var apiErr *awsproto.Error
	if errors.As(err, &apiErr) || (err == nil && t.state == statePending) {
		return false, nil // the function is missing or not ready: look again later
	}
	if err != nil {
		return false, err
	}
	exhausted := map[string]bool{}
	progressed := false
	for _, sh := range shards {
		if sh.Parent != "" && !exhausted[sh.Parent] {
			continue // a child waits until its parent is read to its end
		}
		pos, ok, err := p.s.records.Checkpoint(ctx, p.m.consumer(), arn, sh.ID)
		if err != nil {
			return progressed, err
		}
		if !ok {
			pos = max(sh.First, sh.Trimmed+1)
			if p.m.StartingPosition == positionLatest {
				pos = sh.Last + 1
			}
		}
		pos = max(pos, sh.Trimmed+1) // records trimmed before they were processed are lost, as in Lambda
		if pos > sh.Last {
			exhausted[sh.ID] = !sh.Open()
			continue
		}
		recs, err := p.read(ctx, sh, pos)
		if err != nil || len(recs) == 0 {
			return progressed, err
		}
		next, ok := p.process(ctx, t, sh, recs)
		if !ok {
			return progressed, nil // stopping: no checkpoint
		}
		progressed = true
		if err := p.s.st.Write(ctx, func(tx *store.Tx) error {
			return p.s.records.SetCheckpoint(tx, p.m.consumer(), arn, sh.ID, next)
		}); err != nil {
			return progressed, err
		}
	}
	return progressed, nil
}

// read reads the next records of a shard: up to BatchSize per lane, waiting up to the batching
// window for a full batch.
func (p *streamPoller) read(ctx context.Context, sh streamlog.Shard, pos int64) ([]streamRecord, error) {
	raw, err := eventsource.ReadShard(ctx, p.s.records, eventsource.ShardRead{Stream: p.m.EventSourceArn, Shard: sh.ID, From: pos,
		Limit: int(p.m.BatchSize) * int(p.m.Parallelization), Full: int(p.m.BatchSize), MaxBytes: maxSyncPayload * int(p.m.Parallelization),
		Deadline: p.s.now().Add(time.Duration(p.m.Window) * time.Second)}, p.s.now)
	if err != nil {
		return nil, err
	}
	return p.events(raw), nil
}

// events turns log records into event records: the stored record with eventSourceARN.
func (p *streamPoller) events(raw []streamlog.Record) []streamRecord {
	suffix := eventsource.StreamSuffix(p.m.EventSourceArn)
	out := make([]streamRecord, len(raw))
	for i, r := range raw {
		out[i] = streamRecord{seq: r.Seq, id: streamlog.FormatSeq(r.Seq), key: r.Key, created: r.Created, json: eventsource.Stream(r.Data, suffix)}
	}
	return out
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// process runs the records read from a shard through the function, in lanes by partition
// key, and returns the checkpoint after them; ok is false when the poller is stopping.
func (p *streamPoller) process(ctx context.Context, t *target, sh streamlog.Shard, recs []streamRecord) (next int64, ok bool) {
	lanes := make([][]streamRecord, p.m.Parallelization)
	for _, r := range recs {
		h := fnv.New32a()
		_, _ = h.Write([]byte(r.key))
		i := int(h.Sum32() % uint32(len(lanes)))
		lanes[i] = append(lanes[i], r)
	}
	var wg sync.WaitGroup
	for _, lane := range lanes {
		if len(lane) == 0 {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for len(lane) > 0 && ctx.Err() == nil {
				n := min(len(lane), int(p.m.BatchSize))
				p.batch(ctx, t, sh, lane[:n])
				lane = lane[n:]
			}
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		return 0, false
	}
	return recs[len(recs)-1].seq + 1, true
}

// batch delivers one batch: filtered, aged out records sent to the on-failure destination,
// then invoked until it succeeds or its retries are spent.
func (p *streamPoller) batch(ctx context.Context, t *target, sh streamlog.Shard, recs []streamRecord) {
	var kept []streamRecord
	for _, r := range recs {
		if p.filters.Len() > 0 {
			ev, err := pattern.RecordEvent(r.json)
			if err != nil || !p.filters.Matches(ev) {
				continue
			}
		}
		kept = append(kept, r)
	}
	p.deliver(ctx, t, sh, kept)
}

// deliver invokes the function with recs and retries as the mapping says: bisecting a failed
// batch (halves do not count as retries), resuming from the first reported failure, up to
// MaximumRetryAttempts and MaximumRecordAgeInSeconds, then sending the batch's description to
// the on-failure destination.
func (p *streamPoller) deliver(ctx context.Context, t *target, sh streamlog.Shard, recs []streamRecord) {
	backoff := streamRetryMin
	for attempt := 0; len(recs) > 0; attempt++ {
		if ctx.Err() != nil {
			return
		}
		if aged := p.aged(recs); aged > 0 {
			p.giveUp(ctx, t, sh, recs[:aged], "RecordAgeExceeded", attempt, nil)
			recs = recs[aged:]
			continue
		}
		done, res := p.invoke(ctx, t, recs)
		if done == len(recs) {
			return
		}
		if done > 0 {
			recs = recs[done:] // the checkpoint moves past what succeeded
		}
		if p.m.Bisect && len(recs) > 1 {
			half := len(recs) / 2
			p.deliver(ctx, t, sh, recs[:half])
			p.deliver(ctx, t, sh, recs[half:])
			return
		}
		if p.m.MaxRetries >= 0 && attempt >= int(p.m.MaxRetries) {
			p.giveUp(ctx, t, sh, recs, "RetryAttemptsExhausted", attempt+1, res)
			return
		}
		timer := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
		case <-timer.C:
		}
		timer.Stop()
		backoff = min(2*backoff, streamRetryMax)
	}
}

// aged counts the leading records older than MaximumRecordAgeInSeconds.
func (p *streamPoller) aged(recs []streamRecord) int {
	if p.m.MaxRecordAge < 0 {
		return 0
	}
	limit := p.s.now().Add(-time.Duration(p.m.MaxRecordAge) * time.Second)
	n := 0
	for n < len(recs) && recs[n].created.Before(limit) {
		n++
	}
	return n
}

// invoke runs the function with a batch and returns how many leading records it processed:
// all, none, or with ReportBatchItemFailures those before the first reported failure.
func (p *streamPoller) invoke(ctx context.Context, t *target, recs []streamRecord) (int, *invokeOutcome) {
	polled := make([]polledRecord, len(recs))
	for i, r := range recs {
		polled[i] = polledRecord{id: r.id, json: r.json}
	}
	res, err := p.s.run(ctx, &invocation{t: t, payload: recordsEvent(polled), requestID: newRequestID()}, nil)
	switch {
	case err != nil:
		if ctx.Err() == nil {
			p.log.Warn("event source mapping: invocation failed", "function", p.m.FunctionArn, "records", len(recs), "err", err)
		}
		return 0, &invokeOutcome{functionError: "ServiceException"}
	case res.FunctionError != "":
		return 0, &invokeOutcome{functionError: res.FunctionError, version: t.version}
	case !p.m.ReportFailures:
		return len(recs), nil
	}
	ids := make(map[string]bool, len(recs))
	for _, r := range recs {
		ids[r.id] = true
	}
	failed, ok := eventsource.BatchItemFailures(res.Payload, ids)
	if !ok {
		return 0, &invokeOutcome{version: t.version}
	}
	for i, r := range recs {
		if failed[r.id] {
			return i, &invokeOutcome{version: t.version}
		}
	}
	return len(recs), nil
}

// invokeOutcome is how a failed invocation ended, for the on-failure record.
type invokeOutcome struct{ functionError, version string }

// giveUp skips records the mapping stops retrying: their description goes to the on-failure
// destination, when there is one, in Lambda's invocation record for stream sources.
func (p *streamPoller) giveUp(ctx context.Context, t *target, sh streamlog.Shard, recs []streamRecord, condition string, attempts int, res *invokeOutcome) {
	p.log.Info("event source mapping: records skipped", "reason", condition, "records", len(recs), "first", recs[0].id)
	if p.m.OnFailure == "" {
		return
	}
	record := failureRecord(p.m, t, sh.ID, recs, condition, attempts, res, p.s.now())
	d := dispatch.Delivery{
		Target: p.m.OnFailure, Payload: record, TraceParent: telemetry.TraceParent(ctx),
		Source: dispatch.Source{Principal: lambdaPrincipal, ARN: t.functionARN, Account: t.account, Region: t.region, Role: t.role},
	}
	if err := p.s.st.Write(ctx, func(tx *store.Tx) error { return p.s.deps.Targets.Enqueue(tx, d, dispatch.Policy{}) }); err != nil {
		p.log.Error("event source mapping: send to the on-failure destination", "err", err)
	}
}

// failureRecord is the invocation record Lambda sends an on-failure destination for a batch of
// a DynamoDB stream (AWS Lambda Developer Guide, "Retaining discarded batches").
func failureRecord(m mapping, t *target, shard string, recs []streamRecord, condition string, attempts int, res *invokeOutcome, now time.Time) []byte {
	type batchInfo struct {
		ShardID                         string `json:"shardId"`
		StartSequenceNumber             string `json:"startSequenceNumber"`
		EndSequenceNumber               string `json:"endSequenceNumber"`
		ApproximateArrivalOfFirstRecord string `json:"approximateArrivalOfFirstRecord"`
		ApproximateArrivalOfLastRecord  string `json:"approximateArrivalOfLastRecord"`
		BatchSize                       int    `json:"batchSize"`
		StreamArn                       string `json:"streamArn"`
	}
	const stamp = "2006-01-02T15:04:05.000Z"
	rec := struct {
		RequestContext     requestContext   `json:"requestContext"`
		ResponseContext    *responseContext `json:"responseContext,omitempty"`
		Version            string           `json:"version"`
		Timestamp          string           `json:"timestamp"`
		DDBStreamBatchInfo batchInfo        `json:"DDBStreamBatchInfo"`
	}{
		RequestContext: requestContext{RequestID: newRequestID(), FunctionARN: m.FunctionArn, Condition: condition, ApproximateInvokeCount: attempts},
		Version:        "1.0", Timestamp: now.UTC().Format(stamp),
		DDBStreamBatchInfo: batchInfo{ShardID: shard, StartSequenceNumber: recs[0].id, EndSequenceNumber: recs[len(recs)-1].id,
			ApproximateArrivalOfFirstRecord: recs[0].created.UTC().Format(stamp), ApproximateArrivalOfLastRecord: recs[len(recs)-1].created.UTC().Format(stamp),
			BatchSize: len(recs), StreamArn: m.EventSourceArn},
	}
	if res != nil {
		rec.ResponseContext = &responseContext{StatusCode: 200, ExecutedVersion: res.version, FunctionError: res.functionError}
		if rec.ResponseContext.ExecutedVersion == "" {
			rec.ResponseContext.ExecutedVersion = t.version
		}
	}
	return mustJSON(rec)
}
