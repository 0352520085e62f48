package sqs

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/iam/authz"
)

// SendForService sends a message another service sends for a resource of account in region
// (API Gateway's SQS-SendMessage integration), with role (an IAM role ARN the calling service
// assumed): in enforce mode the role needs sqs:SendMessage on the queue; otherwise the queue
// must be of account. params are SendMessage's parameters as strings, by name (QueueUrl,
// MessageBody, DelaySeconds, MessageAttributes as JSON, MessageDeduplicationId,
// MessageGroupId). It returns SendMessage's result members by name, or SQS's error.
func (s *Service) SendForService(ctx context.Context, account, region, role string, params map[string]string) (map[string]*string, error) {
	m := struct{ QueueURL, Body, Delay, Attributes, DedupID, GroupID string }{params["QueueUrl"], params["MessageBody"],
		params["DelaySeconds"], params["MessageAttributes"], params["MessageDeduplicationId"], params["MessageGroupId"]}
	in := &SendMessageRequest{QueueUrl: &m.QueueURL, MessageBody: &m.Body}
	if m.Delay != "" {
		var d int32
		if _, err := fmt.Sscan(m.Delay, &d); err != nil {
			return nil, invalidValue("DelaySeconds", m.Delay, "must be an integer.")
		}
		in.DelaySeconds = &d
	}
	if m.Attributes != "" {
		if err := json.Unmarshal([]byte(m.Attributes), &in.MessageAttributes); err != nil {
			return nil, invalidValue("MessageAttributes", m.Attributes, "not a JSON map of message attributes.")
		}
	}
	if m.DedupID != "" {
		in.MessageDeduplicationId = &m.DedupID
	}
	if m.GroupID != "" {
		in.MessageGroupId = &m.GroupID
	}
	ctx = awsproto.WithCall(ctx, &awsproto.Call{AccountID: account, Region: region, PrincipalARN: role})
	q, err := s.queueFromURL(ctx, in.QueueUrl)
	if err != nil {
		return nil, err
	}
	if s.enforcing() {
		err := s.authz.AuthorizeRole(ctx, role, "", authz.Request{
			Action: "sqs:SendMessage", Resource: q.ARN, ResourceAccount: q.Key.Account, ResourcePolicy: s.queuePolicy(q)})
		if d, ok := authz.IsDenied(err); ok {
			return nil, accessDenied(d)
		}
		if err != nil {
			return nil, err
		}
	}
	out, err := s.sendMessage(ctx, in)
	if err != nil {
		return nil, err
	}
	return map[string]*string{"MD5OfMessageAttributes": out.MD5OfMessageAttributes, "MD5OfMessageBody": out.MD5OfMessageBody,
		"MD5OfMessageSystemAttributes": out.MD5OfMessageSystemAttributes, "MessageId": out.MessageId, "SequenceNumber": out.SequenceNumber}, nil
}
