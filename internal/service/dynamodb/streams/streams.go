// Package streams implements the Amazon DynamoDB Streams API (ListStreams, DescribeStream,
// GetShardIterator, GetRecords) over the record log DynamoDB writes its stream records to
// (internal/streamlog). Each stream has one shard (see streamlog); iterators are positions in
// a shard, valid 15 minutes, and reading never consumes: records stay until trimmed 24 hours
// after they were written.
package streams

//go:generate go run github.com/kiri-run/kiri/internal/awsproto/apigen -model dynamodbstreams -package streams -out api_gen.go

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/kiri-run/kiri/internal/arn"
	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/iam/authz"
	"github.com/kiri-run/kiri/internal/service"
	"github.com/kiri-run/kiri/internal/service/dynamodb"
	"github.com/kiri-run/kiri/internal/service/dynamodb/attr"
	"github.com/kiri-run/kiri/internal/streamlog"
)

// Limits of the Streams API.
const (
	defaultListLimit = 100
	defaultRecords   = 1000
	// maxRecordBytes is the most data one GetRecords returns: 1 MB.
	maxRecordBytes = 1 << 20
)

// Shard iterator types.
const (
	iterTrimHorizon = "TRIM_HORIZON"
	iterLatest      = "LATEST"
	iterAt          = "AT_SEQUENCE_NUMBER"
	iterAfter       = "AFTER_SEQUENCE_NUMBER"
)

// Service is the DynamoDB Streams API.
type Service struct {
	api   *awsproto.Service
	log   *streamlog.Log
	authz *authz.Authorizer
	now   func() time.Time
	slog  *slog.Logger
}

// New builds the Streams API on the record log of d's store.
func New(ctx context.Context, d service.Deps) (*Service, error) {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	l, err := streamlog.Open(ctx, d.Store, d.Now)
	if err != nil {
		return nil, err
	}
	s := &Service{log: l, authz: d.Authz, now: d.Now, slog: d.Logger.With("service", "dynamodbstreams")}
	api, err := awsproto.NewService("dynamodbstreams", awsproto.ServiceOptions{
		Authorize: d.Authz.Hook("dynamodb", s.operations(), accessDenied),
	})
	if err != nil {
		return nil, err
	}
	s.api = api
	awsproto.Handle(api, "ListStreams", s.listStreams)
	awsproto.Handle(api, "DescribeStream", s.describeStream)
	awsproto.Handle(api, "GetShardIterator", s.getShardIterator)
	awsproto.Handle(api, "GetRecords", s.getRecords)
	return s, nil
}

// API returns the codec-facing service to mount on the router.
func (s *Service) API() *awsproto.Service { return s.api }

func accessDenied(d *authz.Denied) error {
	return awsproto.Errorf("AccessDeniedException", http.StatusBadRequest, "%s", d.Message)
}

func validation(format string, args ...any) error {
	return awsproto.Errorf("ValidationException", http.StatusBadRequest, format, args...)
}

func streamNotFound(arn string) error {
	return awsproto.Errorf("ResourceNotFoundException", http.StatusBadRequest, "Requested resource not found: Stream: %s not found", arn)
}

func shardNotFound(arn, shard string) error {
	return awsproto.Errorf("ResourceNotFoundException", http.StatusBadRequest, "Requested resource not found: Shard: %s in Stream: %s not found", shard, arn)
}

func trimmed() error {
	return awsproto.Errorf("TrimmedDataAccessException", http.StatusBadRequest,
		"The operation attempted to read past the oldest stream record in a shard.")
}

// scope is the caller's account and region.
func scope(ctx context.Context) (account, region string) { return awsproto.CallFrom(ctx).Scope() }

// streamScope reads a stream ARN's region and account:
// arn:PARTITION:dynamodb:REGION:ACCOUNT:table/NAME/stream/LABEL.
func streamScope(arn string) (account, region string, ok bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "dynamodb" || !strings.Contains(parts[5], "/stream/") ||
		!strings.HasPrefix(parts[5], "table/") {
		return "", "", false
	}
	return parts[4], parts[3], true
}

// stream loads the stream an ARN names, refused with ResourceNotFoundException when it does
// not exist for the caller.
func (s *Service) stream(ctx context.Context, arn string) (streamlog.Stream, dynamodb.StreamMeta, error) {
	var meta dynamodb.StreamMeta
	account, region, ok := streamScope(arn)
	caller, callerRegion := scope(ctx)
	if !ok {
		return streamlog.Stream{}, meta, validation("Invalid StreamArn")
	}
	if region != callerRegion || (account != caller && s.authz.Mode() != authz.Enforce) {
		return streamlog.Stream{}, meta, streamNotFound(arn)
	}
	st, found, err := s.log.Stream(ctx, arn)
	if err != nil {
		return st, meta, err
	}
	if !found {
		return st, meta, streamNotFound(arn)
	}
	if err := json.Unmarshal([]byte(st.Meta), &meta); err != nil {
		return st, meta, fmt.Errorf("read stream %s: %w", arn, err)
	}
	return st, meta, nil
}

func (s *Service) listStreams(ctx context.Context, in *ListStreamsInput) (*ListStreamsOutput, error) {
	account, region := scope(ctx)
	limit := defaultListLimit
	if in.Limit != nil {
		limit = int(*in.Limit)
	}
	source := ""
	if name := awsproto.Value(in.TableName); name != "" {
		source = "arn:" + arn.Partition(region) + ":dynamodb:" + region + ":" + account + ":table/" + name
		if strings.HasPrefix(name, "arn:") {
			source = name
		}
	}
	list, err := s.log.Streams(ctx, account, region, source, awsproto.Value(in.ExclusiveStartStreamArn), limit+1)
	if err != nil {
		return nil, err
	}
	out := &ListStreamsOutput{Streams: []Stream{}}
	for i, st := range list {
		if i == limit {
			out.LastEvaluatedStreamArn = awsproto.Ptr(list[i-1].ARN)
			break
		}
		var meta dynamodb.StreamMeta
		_ = json.Unmarshal([]byte(st.Meta), &meta)
		out.Streams = append(out.Streams, Stream{StreamArn: awsproto.Ptr(st.ARN), StreamLabel: awsproto.Ptr(meta.Label), TableName: awsproto.Ptr(meta.TableName)})
	}
	return out, nil
}

func (s *Service) describeStream(ctx context.Context, in *DescribeStreamInput) (*DescribeStreamOutput, error) {
	arn := awsproto.Value(in.StreamArn)
	st, meta, err := s.stream(ctx, arn)
	if err != nil {
		return nil, err
	}
	shards, err := s.log.Shards(ctx, arn)
	if err != nil {
		return nil, err
	}
	limit := defaultListLimit
	if in.Limit != nil {
		limit = int(*in.Limit)
	}
	d := &StreamDescription{
		StreamArn: awsproto.Ptr(arn), StreamLabel: awsproto.Ptr(meta.Label), StreamStatus: awsproto.Ptr(st.Status),
		StreamViewType: awsproto.Ptr(meta.ViewType), TableName: awsproto.Ptr(meta.TableName),
		CreationRequestDateTime: awsproto.Ptr(st.Created),
		KeySchema:               []KeySchemaElement{{AttributeName: awsproto.Ptr(meta.Hash), KeyType: awsproto.Ptr("HASH")}},
		Shards:                  []Shard{},
	}
	if meta.Range != "" {
		d.KeySchema = append(d.KeySchema, KeySchemaElement{AttributeName: awsproto.Ptr(meta.Range), KeyType: awsproto.Ptr("RANGE")})
	}
	start := awsproto.Value(in.ExclusiveStartShardId)
	skipping := start != ""
	for _, sh := range shards {
		if skipping {
			skipping = sh.ID != start
			continue
		}
		if len(d.Shards) == limit {
			d.LastEvaluatedShardId = d.Shards[limit-1].ShardId
			break
		}
		r := &SequenceNumberRange{StartingSequenceNumber: awsproto.Ptr(streamlog.FormatSeq(max(sh.First, sh.Trimmed+1)))}
		if !sh.Open() {
			if sh.Last < sh.First {
				// A shard closed before it held a record: its range is empty.
				r.StartingSequenceNumber = nil
			} else {
				r.EndingSequenceNumber = awsproto.Ptr(streamlog.FormatSeq(sh.Last))
			}
		}
		out := Shard{ShardId: awsproto.Ptr(sh.ID), SequenceNumberRange: r}
		if sh.Parent != "" {
			out.ParentShardId = awsproto.Ptr(sh.Parent)
		}
		d.Shards = append(d.Shards, out)
	}
	return &DescribeStreamOutput{StreamDescription: d}, nil
}

func (s *Service) getShardIterator(ctx context.Context, in *GetShardIteratorInput) (*GetShardIteratorOutput, error) {
	arn, shardID, typ := awsproto.Value(in.StreamArn), awsproto.Value(in.ShardId), awsproto.Value(in.ShardIteratorType)
	if _, _, err := s.stream(ctx, arn); err != nil {
		return nil, err
	}
	sh, ok, err := s.log.Shard(ctx, arn, shardID)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, shardNotFound(arn, shardID)
	}
	it := streamlog.Iterator{Stream: arn, Shard: shardID, Issued: s.now().UnixMilli()}
	seqText := awsproto.Value(in.SequenceNumber)
	switch typ {
	case iterTrimHorizon, iterLatest:
		if in.SequenceNumber != nil {
			return nil, validation("Invalid SequenceNumber: a sequence number must not be specified for ShardIteratorType %s", typ)
		}
		it.Seq = max(sh.First, sh.Trimmed+1)
		if typ == iterLatest {
			it.Seq = sh.Last + 1
		}
	case iterAt, iterAfter:
		if seqText == "" {
			return nil, validation("Invalid SequenceNumber: a sequence number is required for ShardIteratorType %s", typ)
		}
		n, ok := streamlog.ParseSeq(seqText)
		if !ok || n < sh.First || n > sh.Last {
			return nil, validation("Invalid SequenceNumber: %s is not in the sequence number range of shard %s", seqText, shardID)
		}
		if n <= sh.Trimmed {
			return nil, trimmed()
		}
		it.Seq = n
		if typ == iterAfter {
			it.Seq = n + 1
		}
	}
	return &GetShardIteratorOutput{ShardIterator: awsproto.Ptr(it.Encode())}, nil
}

func (s *Service) getRecords(ctx context.Context, in *GetRecordsInput) (*GetRecordsOutput, error) {
	it, err := streamlog.DecodeIterator(awsproto.Value(in.ShardIterator))
	if err != nil {
		return nil, validation("Invalid ShardIterator")
	}
	now := s.now()
	if it.Expired(now) {
		return nil, awsproto.Errorf("ExpiredIteratorException", http.StatusBadRequest, "Shard iterator has expired")
	}
	if _, _, err := s.stream(ctx, it.Stream); err != nil {
		return nil, err
	}
	sh, ok, err := s.log.Shard(ctx, it.Stream, it.Shard)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, shardNotFound(it.Stream, it.Shard)
	}
	if it.Seq <= sh.Trimmed {
		return nil, trimmed()
	}
	limit := defaultRecords
	if in.Limit != nil {
		limit = int(*in.Limit)
	}
	recs, err := s.log.Read(ctx, it.Stream, it.Shard, it.Seq, limit, maxRecordBytes)
	if err != nil {
		return nil, err
	}
	out := &GetRecordsOutput{Records: []Record{}}
	for _, r := range recs {
		rec, err := wireRecord(r.Data)
		if err != nil {
			return nil, err
		}
		out.Records = append(out.Records, rec)
		it.Seq = r.Seq + 1
	}
	if sh.Open() || it.Seq <= sh.Last {
		it.Issued = now.UnixMilli()
		out.NextShardIterator = awsproto.Ptr(it.Encode())
	}
	return out, nil
}

// wireRecord turns a stored stream record into GetRecords' Record.
func wireRecord(data []byte) (Record, error) {
	var r dynamodb.StreamRecord
	if err := json.Unmarshal(data, &r); err != nil {
		return Record{}, fmt.Errorf("decode stream record: %w", err)
	}
	b := &r.Dynamodb
	out := Record{
		AwsRegion: awsproto.Ptr(r.AWSRegion), EventID: awsproto.Ptr(r.EventID), EventName: awsproto.Ptr(r.EventName),
		EventSource: awsproto.Ptr(r.EventSource), EventVersion: awsproto.Ptr(r.EventVersion),
		Dynamodb: &StreamRecord{
			ApproximateCreationDateTime: awsproto.Ptr(time.Unix(b.ApproximateCreationDateTime, 0)),
			Keys:                        toWireItem(b.Keys), NewImage: toWireItem(b.NewImage), OldImage: toWireItem(b.OldImage),
			SequenceNumber: awsproto.Ptr(b.SequenceNumber), SizeBytes: awsproto.Ptr(b.SizeBytes), StreamViewType: awsproto.Ptr(b.StreamViewType),
		},
	}
	if u := r.UserIdentity; u != nil {
		out.UserIdentity = &Identity{Type: awsproto.Ptr(u.Type), PrincipalId: awsproto.Ptr(u.PrincipalID)}
	}
	return out, nil
}

func build(f attr.WireFields[AttributeValue]) AttributeValue {
	return AttributeValue{S: f.S, N: f.N, B: f.B, BOOL: f.BOOL, NULL: f.NULL, SS: f.SS, NS: f.NS, BS: f.BS, L: f.L, M: f.M}
}

func toWireItem(it attr.Item) map[string]AttributeValue {
	if it == nil {
		return nil
	}
	return attr.ToWireItem(it, build)
}
