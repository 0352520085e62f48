package e2e

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// sqsSendPath writes through SendMessageBatch: three messages a write, acknowledged only when
// the batch is; a restarted Kiri must hold all three of every acknowledged batch.
type sqsSendPath struct{ url string }

func (*sqsSendPath) Name() string { return "sqs.SendMessageBatch" }

func (p *sqsSendPath) Prepare(ctx context.Context, c *kiritest.Clients) error {
	out, err := c.SQS.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("crash")})
	if err == nil {
		p.url = aws.ToString(out.QueueUrl)
	}
	return err
}

func (p *sqsSendPath) Write(ctx context.Context, c *kiritest.Clients, worker, seq int) (string, error) {
	ack := fmt.Sprintf("%d-%d", worker, seq)
	var entries []types.SendMessageBatchRequestEntry
	for i := range 3 {
		entries = append(entries, types.SendMessageBatchRequestEntry{Id: aws.String(fmt.Sprint(i)), MessageBody: aws.String(fmt.Sprintf("%s-%d", ack, i))})
	}
	out, err := c.SQS.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(p.url), Entries: entries})
	if err == nil && len(out.Successful) != 3 {
		err = fmt.Errorf("%d of 3 messages sent", len(out.Successful))
	}
	return ack, err
}

// Verify receives every message (leased, then made visible again for the next cycle's check)
// and finds the three of each acknowledged batch, each once.
func (p *sqsSendPath) Verify(ctx context.Context, c *kiritest.Clients, acks []string) error {
	seen := map[string]int{}
	var handles []*string
	defer func() {
		for len(handles) > 0 {
			n := min(10, len(handles))
			var es []types.ChangeMessageVisibilityBatchRequestEntry
			for i, h := range handles[:n] {
				es = append(es, types.ChangeMessageVisibilityBatchRequestEntry{Id: aws.String(fmt.Sprint(i)), ReceiptHandle: h})
			}
			c.SQS.ChangeMessageVisibilityBatch(ctx, &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: aws.String(p.url), Entries: es})
			handles = handles[n:]
		}
	}()
	for {
		out, err := c.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(p.url), MaxNumberOfMessages: 10, VisibilityTimeout: 600})
		if err != nil {
			return err
		}
		if len(out.Messages) == 0 {
			break
		}
		for _, m := range out.Messages {
			body := aws.ToString(m.Body)
			seen[body[:strings.LastIndexByte(body, '-')]]++
			handles = append(handles, m.ReceiptHandle)
		}
	}
	return verifyEach(acks, "acknowledged batches lost", func(ack string) error {
		if n := seen[ack]; n != 3 {
			return fmt.Errorf("batch %s: %d of its 3 messages", ack, n)
		}
		return nil
	})
}
