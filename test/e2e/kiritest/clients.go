package kiritest

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/pipes"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/kiri-run/kiri/test/sdkretry"
)

// Region is the region test clients sign for.
const Region = "us-east-1"

// Clients are aws-sdk-go-v2 clients for every service, pointed at one Kiri.
type Clients struct {
	Config    aws.Config
	STS       *sts.Client
	IAM       *iam.Client
	S3        *s3.Client
	SQS       *sqs.Client
	SNS       *sns.Client
	DynamoDB  *dynamodb.Client
	Streams   *dynamodbstreams.Client
	Lambda    *lambda.Client
	Logs      *cloudwatchlogs.Client
	Scheduler *scheduler.Client
	Pipes     *pipes.Client
	Events    *eventbridge.Client
	SFN       *sfn.Client
}

// Clients returns clients signing with the server's default identity: the strict-mode test key,
// or any key in dev mode.
func (s *Server) Clients() *Clients {
	if s.opts.Strict {
		k := s.opts.keys()[0]
		return s.ClientsAs(k.AccessKeyID, k.SecretAccessKey, "")
	}
	return s.ClientsAs("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "")
}

// ClientsAs returns clients signing with the given credentials.
func (s *Server) ClientsAs(accessKey, secretKey, sessionToken string) *Clients {
	cfg := aws.Config{
		Region:       Region,
		Credentials:  credentials.NewStaticCredentialsProvider(accessKey, secretKey, sessionToken),
		BaseEndpoint: aws.String(s.URL),
		// Tests assert on single responses; the SDK's retries would hide them. Only a
		// connection the client closed itself is retried (see sdkretry).
		Retryer: sdkretry.New,
	}
	return &Clients{
		Config:    cfg,
		STS:       sts.NewFromConfig(cfg),
		IAM:       iam.NewFromConfig(cfg),
		S3:        s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }),
		SQS:       sqs.NewFromConfig(cfg),
		SNS:       sns.NewFromConfig(cfg),
		DynamoDB:  dynamodb.NewFromConfig(cfg),
		Streams:   dynamodbstreams.NewFromConfig(cfg),
		Lambda:    lambda.NewFromConfig(cfg),
		Logs:      cloudwatchlogs.NewFromConfig(cfg),
		Scheduler: scheduler.NewFromConfig(cfg),
		Pipes:     pipes.NewFromConfig(cfg),
		Events:    eventbridge.NewFromConfig(cfg),
		SFN:       sfn.NewFromConfig(cfg, func(o *sfn.Options) { o.APIOptions = append(o.APIOptions, noHostPrefix) }),
	}
}

// noHostPrefix turns off the SDK's endpoint host prefixes (StartSyncExecution's "sync-"), which
// a loopback endpoint cannot resolve, as a client of a local endpoint configures it.
func noHostPrefix(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("KiriNoHostPrefix",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			return next.HandleInitialize(smithyhttp.DisableEndpointHostPrefix(ctx, true), in)
		}), middleware.Before)
}
