package streams

import (
	"context"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/iam/authz"
	"github.com/kiri-run/kiri/internal/streamlog"
)

// operations is how each Streams operation authorizes in enforce mode (the Service
// Authorization Reference's "Actions defined by Amazon DynamoDB"): dynamodb:ListStreams on
// every stream of the caller (arn:aws:dynamodb:REGION:ACCOUNT:table/*/stream/*), and
// dynamodb:DescribeStream, GetShardIterator and GetRecords on the stream the call names (the
// iterator's stream for GetRecords).
func (s *Service) operations() authz.Operations {
	onStream := func(action, arn string) []authz.Request {
		account, _, ok := streamScope(arn)
		if !ok {
			account = ""
		}
		return []authz.Request{{Action: action, Resource: arn, ResourceAccount: account}}
	}
	return authz.Operations{
		"ListStreams": authz.On(func(ctx context.Context, in *ListStreamsInput) ([]authz.Request, error) {
			account, region := scope(ctx)
			return []authz.Request{{Action: "dynamodb:ListStreams", Resource: "arn:aws:dynamodb:" + region + ":" + account + ":table/*/stream/*", ResourceAccount: account}}, nil
		}),
		"DescribeStream": authz.On(func(ctx context.Context, in *DescribeStreamInput) ([]authz.Request, error) {
			return onStream("dynamodb:DescribeStream", awsproto.Value(in.StreamArn)), nil
		}),
		"GetShardIterator": authz.On(func(ctx context.Context, in *GetShardIteratorInput) ([]authz.Request, error) {
			return onStream("dynamodb:GetShardIterator", awsproto.Value(in.StreamArn)), nil
		}),
		"GetRecords": authz.On(func(ctx context.Context, in *GetRecordsInput) ([]authz.Request, error) {
			it, err := streamlog.DecodeIterator(awsproto.Value(in.ShardIterator))
			if err != nil {
				return nil, validation("Invalid ShardIterator")
			}
			return onStream("dynamodb:GetRecords", it.Stream), nil
		}),
	}
}
