package e2e

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

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

// sqsReceiveDeletePath sends a message, receives it and deletes it: acknowledged only when the
// delete is. Each writer has a queue of its own, with a two-second visibility timeout, so a
// restarted Kiri must hold none of the acknowledged messages (no delete undone), and every
// message a kill left in flight must be visible again once its timeout passed.
type sqsReceiveDeletePath struct {
	mu   sync.Mutex
	urls map[int]string
}

const crashVisibility = 2 // seconds

func (*sqsReceiveDeletePath) Name() string { return "sqs.ReceiveMessage+DeleteMessage" }

func (p *sqsReceiveDeletePath) Prepare(context.Context, *kiritest.Clients) error {
	p.urls = map[int]string{}
	return nil
}

// queue returns worker's queue, creating it on its first write.
func (p *sqsReceiveDeletePath) queue(ctx context.Context, c *kiritest.Clients, worker int) (string, error) {
	p.mu.Lock()
	url, ok := p.urls[worker]
	p.mu.Unlock()
	if ok {
		return url, nil
	}
	out, err := c.SQS.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(fmt.Sprintf("crash-rd-%d", worker)),
		Attributes: map[string]string{"VisibilityTimeout": fmt.Sprint(crashVisibility)}})
	if err != nil {
		return "", err
	}
	p.mu.Lock()
	p.urls[worker] = aws.ToString(out.QueueUrl)
	p.mu.Unlock()
	return aws.ToString(out.QueueUrl), nil
}

func (p *sqsReceiveDeletePath) Write(ctx context.Context, c *kiritest.Clients, worker, seq int) (string, error) {
	url, err := p.queue(ctx, c, worker)
	if err != nil {
		return "", err
	}
	body := fmt.Sprintf("%d-%d", worker, seq)
	if _, err := c.SQS.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(body)}); err != nil {
		return "", err
	}
	// Messages a kill left in flight come back after the timeout; this write's own message
	// is among the first ten visible ones, but not necessarily the first.
	for range 20 {
		out, err := c.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		if err != nil {
			return "", err
		}
		for _, m := range out.Messages {
			if aws.ToString(m.Body) != body {
				continue
			}
			if _, err := c.SQS.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle}); err != nil {
				return "", err
			}
			return url + " " + body, nil
		}
	}
	return "", fmt.Errorf("message %s never received", body)
}

// Verify waits for every message in flight to be visible again, then reads each writer's queue
// whole: no acknowledged delete may have been undone.
func (p *sqsReceiveDeletePath) Verify(ctx context.Context, c *kiritest.Clients, acks []string) error {
	deleted := map[string]map[string]bool{}
	for _, a := range acks {
		url, body, _ := strings.Cut(a, " ")
		if deleted[url] == nil {
			deleted[url] = map[string]bool{}
		}
		deleted[url][body] = true
	}
	for url, gone := range deleted {
		if err := waitNoneInFlight(ctx, c, url, 3*crashVisibility*time.Second); err != nil {
			return err
		}
		out, err := c.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
			AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameApproximateNumberOfMessages}})
		if err != nil {
			return err
		}
		visible := out.Attributes[string(types.QueueAttributeNameApproximateNumberOfMessages)]
		var handles []*string
		seen := 0
		for {
			r, err := c.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10, VisibilityTimeout: 60})
			if err != nil {
				return err
			}
			if len(r.Messages) == 0 {
				break
			}
			for _, m := range r.Messages {
				seen++
				if gone[aws.ToString(m.Body)] {
					return fmt.Errorf("%s: message %s is back after its delete was acknowledged", url, aws.ToString(m.Body))
				}
				handles = append(handles, m.ReceiptHandle)
			}
		}
		if fmt.Sprint(seen) != visible {
			return fmt.Errorf("%s: %d messages received, %s counted visible", url, seen, visible)
		}
		for _, h := range handles {
			if _, err := c.SQS.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(url), ReceiptHandle: h}); err != nil {
				return err
			}
		}
	}
	return nil
}

// waitNoneInFlight waits until url's in-flight messages are visible again.
func waitNoneInFlight(ctx context.Context, c *kiritest.Clients, url string, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		out, err := c.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
			AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameApproximateNumberOfMessagesNotVisible}})
		if err != nil {
			return err
		}
		n := out.Attributes[string(types.QueueAttributeNameApproximateNumberOfMessagesNotVisible)]
		if n == "0" {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: %s messages still in flight %v after the restart; their visibility timeout is %ds", url, n, within, crashVisibility)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
