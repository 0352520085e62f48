package e2e

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// snsPublishPath writes through Publish to a topic with a queue subscription: an acknowledged
// publish is a delivery committed with it, which a restarted Kiri must still make.
type snsPublishPath struct {
	topic, url string
	seen       map[string]bool // delivered messages, across cycles
}

func (*snsPublishPath) Name() string { return "sns.Publish" }

func (p *snsPublishPath) Prepare(ctx context.Context, c *kiritest.Clients) error {
	t, err := c.SNS.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("crash")})
	if err != nil {
		return err
	}
	q, err := c.SQS.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("crash-sns")})
	if err != nil {
		return err
	}
	p.topic, p.url, p.seen = aws.ToString(t.TopicArn), aws.ToString(q.QueueUrl), map[string]bool{}
	attrs, err := c.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{"QueueArn"}})
	if err != nil {
		return err
	}
	// The queue's policy lets the topic send to it, as SNS needs.
	queueARN := attrs.Attributes["QueueArn"]
	if _, err := c.SQS.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: q.QueueUrl, Attributes: map[string]string{"Policy": `{"Version":"2012-10-17","Statement":[` +
		`{"Effect":"Allow","Principal":{"Service":"sns.amazonaws.com"},"Action":"sqs:SendMessage","Resource":"` + queueARN + `",` +
		`"Condition":{"ArnEquals":{"aws:SourceArn":"` + p.topic + `"}}}]}`}}); err != nil {
		return err
	}
	_, err = c.SNS.Subscribe(ctx, &sns.SubscribeInput{TopicArn: t.TopicArn, Protocol: aws.String("sqs"),
		Endpoint: aws.String(queueARN), Attributes: map[string]string{"RawMessageDelivery": "true"}})
	return err
}

func (p *snsPublishPath) Write(ctx context.Context, c *kiritest.Clients, worker, seq int) (string, error) {
	ack := fmt.Sprintf("%d-%d", worker, seq)
	_, err := c.SNS.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(p.topic), Message: aws.String(ack)})
	return ack, err
}

// Verify waits for every acknowledged publish to reach the queue: deliveries resume after the
// restart.
func (p *snsPublishPath) Verify(ctx context.Context, c *kiritest.Clients, acks []string) error {
	deadline := time.Now().Add(60 * time.Second)
	for {
		missing := 0
		for _, a := range acks {
			if !p.seen[a] {
				missing++
			}
		}
		if missing == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return verifyEach(acks, "acknowledged publishes not delivered", func(a string) error {
				if !p.seen[a] {
					return fmt.Errorf("publish %s never reached the queue", a)
				}
				return nil
			})
		}
		out, err := c.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(p.url), MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		if err != nil {
			return err
		}
		var done []sqstypes.DeleteMessageBatchRequestEntry
		for i, m := range out.Messages {
			p.seen[aws.ToString(m.Body)] = true
			done = append(done, sqstypes.DeleteMessageBatchRequestEntry{Id: aws.String(fmt.Sprint(i)), ReceiptHandle: m.ReceiptHandle})
		}
		if len(done) > 0 {
			if _, err := c.SQS.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(p.url), Entries: done}); err != nil {
				return err
			}
		}
	}
}
