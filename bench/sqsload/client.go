package main

// This file is compiled twice: here against the module's current SDK, whose SQS client
// speaks JSON 1.0, and through the symlink query/client.go against the last SDK release whose
// SQS client spoke the query protocol. Both releases have the same API for these calls.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/kiri-run/kiri/bench/sqsload/load"
)

// client is a load.Client over one SDK client.
type client struct{ sqs *sqs.Client }

// dial makes a client that retries only a connection the client closed itself
// (aws-sdk-go-v2#2737, which the query SDK release predates the fix of), so that what the
// server answered shows as it is.
func dial(e load.Endpoint) load.Client {
	return client{sqs.New(sqs.Options{
		Region:       e.Region,
		Credentials:  credentials.NewStaticCredentialsProvider(e.AccessKey, e.Secret, ""),
		BaseEndpoint: aws.String(e.URL),
		Retryer:      closedConnRetryer{},
	})}
}

// closedConnRetryer retries a call, at once and at most twice, only when its error is a
// connection the HTTP client closed itself; written out here because the query SDK release
// lacks the pieces test/sdkretry builds this from.
type closedConnRetryer struct{}

func (closedConnRetryer) IsErrorRetryable(err error) bool { return errors.Is(err, net.ErrClosed) }
func (closedConnRetryer) MaxAttempts() int                { return 3 }
func (closedConnRetryer) RetryDelay(int, error) (time.Duration, error) {
	return 0, nil
}
func (closedConnRetryer) GetRetryToken(context.Context, error) (func(error) error, error) {
	return func(error) error { return nil }, nil
}
func (closedConnRetryer) GetInitialToken() func(error) error { return func(error) error { return nil } }

func (c client) CreateQueue(ctx context.Context, name string) (string, error) {
	out, err := c.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name)})
	if err != nil {
		return "", err
	}
	return aws.ToString(out.QueueUrl), nil
}

func (c client) DeleteQueue(ctx context.Context, url string) error {
	_, err := c.sqs.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: aws.String(url)})
	return err
}

func (c client) SendMessage(ctx context.Context, url, body string) error {
	_, err := c.sqs.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(body)})
	return err
}

func (c client) SendMessageBatch(ctx context.Context, url string, bodies []string) (load.BatchResult, error) {
	entries := make([]types.SendMessageBatchRequestEntry, len(bodies))
	for i, b := range bodies {
		entries[i] = types.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), MessageBody: aws.String(b)}
	}
	out, err := c.sqs.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(url), Entries: entries})
	if err != nil {
		return load.BatchResult{}, err
	}
	return batchResult(len(out.Successful), out.Failed), nil
}

func (c client) ReceiveMessage(ctx context.Context, url string, max int, wait time.Duration) ([]load.Message, error) {
	out, err := c.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl:            aws.String(url),
		MaxNumberOfMessages: int32(max),
		WaitTimeSeconds:     int32(wait / time.Second),
	})
	if err != nil {
		return nil, err
	}
	msgs := make([]load.Message, len(out.Messages))
	for i, m := range out.Messages {
		msgs[i] = load.Message{Body: aws.ToString(m.Body), ReceiptHandle: aws.ToString(m.ReceiptHandle)}
	}
	return msgs, nil
}

func (c client) DeleteMessageBatch(ctx context.Context, url string, receiptHandles []string) (load.BatchResult, error) {
	entries := make([]types.DeleteMessageBatchRequestEntry, len(receiptHandles))
	for i, h := range receiptHandles {
		entries[i] = types.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: aws.String(h)}
	}
	out, err := c.sqs.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(url), Entries: entries})
	if err != nil {
		return load.BatchResult{}, err
	}
	return batchResult(len(out.Successful), out.Failed), nil
}

func batchResult(succeeded int, failed []types.BatchResultErrorEntry) load.BatchResult {
	r := load.BatchResult{Succeeded: succeeded}
	for _, f := range failed {
		r.Failed = append(r.Failed, fmt.Sprintf("%s %s: %s", aws.ToString(f.Id), aws.ToString(f.Code), aws.ToString(f.Message)))
	}
	return r
}
