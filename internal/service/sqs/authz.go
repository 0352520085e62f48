package sqs

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/iam/authz"
	"github.com/kiri-run/kiri/internal/iam/policy"
)

// operations is how each SQS operation authorizes in enforce mode (the Service Authorization
// Reference's "Actions defined by Amazon SQS"): its action on the queue the call addresses,
// with the queue's policy and its tags (aws:ResourceTag/KEY). Batch operations need the
// action of their single form; creating or tagging a queue also offers aws:RequestTag/KEY and
// aws:TagKeys. Calls on another account's queue reach it only through its policy.
func (s *Service) operations() authz.Operations {
	return authz.Operations{
		"CreateQueue": authz.On(func(ctx context.Context, in *CreateQueueRequest) ([]authz.Request, error) {
			account, region := callerScope(ctx)
			k := queueKey{Account: account, Region: region, Name: awsproto.Value(in.QueueName)}
			keys := authz.Keys{RequestTags: in.Tags}
			reqs := []authz.Request{{Action: "sqs:CreateQueue", Resource: k.arn(), Values: keys}}
			if len(in.Tags) > 0 {
				reqs = append(reqs, authz.Request{Action: "sqs:TagQueue", Resource: k.arn(), Values: keys})
			}
			return reqs, nil
		}),
		"ListQueues": authz.On(func(ctx context.Context, in *ListQueuesRequest) ([]authz.Request, error) {
			return []authz.Request{{Action: "sqs:ListQueues"}}, nil
		}),
		"GetQueueUrl": authz.On(func(ctx context.Context, in *GetQueueUrlRequest) ([]authz.Request, error) {
			account, region := callerScope(ctx)
			if owner := awsproto.Value(in.QueueOwnerAWSAccountId); owner != "" {
				account = owner
			}
			r, err := s.queueRequest(ctx, "sqs:GetQueueUrl", queueKey{Account: account, Region: region, Name: awsproto.Value(in.QueueName)})
			return []authz.Request{r}, err
		}),
		"DeleteQueue":                  byURL("sqs:DeleteQueue", s, func(in *DeleteQueueRequest) *string { return in.QueueUrl }),
		"GetQueueAttributes":           byURL("sqs:GetQueueAttributes", s, func(in *GetQueueAttributesRequest) *string { return in.QueueUrl }),
		"SetQueueAttributes":           byURL("sqs:SetQueueAttributes", s, func(in *SetQueueAttributesRequest) *string { return in.QueueUrl }),
		"PurgeQueue":                   byURL("sqs:PurgeQueue", s, func(in *PurgeQueueRequest) *string { return in.QueueUrl }),
		"ListDeadLetterSourceQueues":   byURL("sqs:ListDeadLetterSourceQueues", s, func(in *ListDeadLetterSourceQueuesRequest) *string { return in.QueueUrl }),
		"ListQueueTags":                byURL("sqs:ListQueueTags", s, func(in *ListQueueTagsRequest) *string { return in.QueueUrl }),
		"AddPermission":                byURL("sqs:AddPermission", s, func(in *AddPermissionRequest) *string { return in.QueueUrl }),
		"RemovePermission":             byURL("sqs:RemovePermission", s, func(in *RemovePermissionRequest) *string { return in.QueueUrl }),
		"SendMessage":                  byURL("sqs:SendMessage", s, func(in *SendMessageRequest) *string { return in.QueueUrl }),
		"SendMessageBatch":             byURL("sqs:SendMessage", s, func(in *SendMessageBatchRequest) *string { return in.QueueUrl }),
		"ReceiveMessage":               byURL("sqs:ReceiveMessage", s, func(in *ReceiveMessageRequest) *string { return in.QueueUrl }),
		"DeleteMessage":                byURL("sqs:DeleteMessage", s, func(in *DeleteMessageRequest) *string { return in.QueueUrl }),
		"DeleteMessageBatch":           byURL("sqs:DeleteMessage", s, func(in *DeleteMessageBatchRequest) *string { return in.QueueUrl }),
		"ChangeMessageVisibility":      byURL("sqs:ChangeMessageVisibility", s, func(in *ChangeMessageVisibilityRequest) *string { return in.QueueUrl }),
		"ChangeMessageVisibilityBatch": byURL("sqs:ChangeMessageVisibility", s, func(in *ChangeMessageVisibilityBatchRequest) *string { return in.QueueUrl }),
		"TagQueue": authz.On(func(ctx context.Context, in *TagQueueRequest) ([]authz.Request, error) {
			r, err := s.urlRequest(ctx, "sqs:TagQueue", in.QueueUrl)
			r.Values = withRequestTags(r.Values, in.Tags, nil)
			return []authz.Request{r}, err
		}),
		"UntagQueue": authz.On(func(ctx context.Context, in *UntagQueueRequest) ([]authz.Request, error) {
			r, err := s.urlRequest(ctx, "sqs:UntagQueue", in.QueueUrl)
			r.Values = withRequestTags(r.Values, nil, slices.Clip(in.TagKeys))
			return []authz.Request{r}, err
		}),
		// A move task reads from its source and sends to its destination (the source queue's
		// own source queues when none is named): it needs those actions too.
		"StartMessageMoveTask": authz.On(func(ctx context.Context, in *StartMessageMoveTaskRequest) ([]authz.Request, error) {
			var reqs []authz.Request
			for _, action := range []string{"sqs:StartMessageMoveTask", "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"} {
				r, err := s.arnRequest(ctx, action, awsproto.Value(in.SourceArn))
				if err != nil {
					return nil, err
				}
				reqs = append(reqs, r)
			}
			if dest := awsproto.Value(in.DestinationArn); dest != "" {
				r, err := s.arnRequest(ctx, "sqs:SendMessage", dest)
				if err != nil {
					return nil, err
				}
				reqs = append(reqs, r)
			}
			return reqs, nil
		}),
		"ListMessageMoveTasks": authz.On(func(ctx context.Context, in *ListMessageMoveTasksRequest) ([]authz.Request, error) {
			r, err := s.arnRequest(ctx, "sqs:ListMessageMoveTasks", awsproto.Value(in.SourceArn))
			return []authz.Request{r}, err
		}),
		"CancelMessageMoveTask": authz.On(func(ctx context.Context, in *CancelMessageMoveTaskRequest) ([]authz.Request, error) {
			h, ok := decodeTaskHandle(awsproto.Value(in.TaskHandle))
			if !ok {
				return nil, invalidParameter("Value for parameter TaskHandle is invalid.")
			}
			r, err := s.arnRequest(ctx, "sqs:CancelMessageMoveTask", h.SourceArn)
			return []authz.Request{r}, err
		}),
	}
}

// byURL is the rule of an operation on the queue its QueueUrl names.
func byURL[I any](action string, s *Service, queueURL func(*I) *string) authz.Rule {
	return authz.On(func(ctx context.Context, in *I) ([]authz.Request, error) {
		r, err := s.urlRequest(ctx, action, queueURL(in))
		return []authz.Request{r}, err
	})
}

// urlRequest is the request for action on the queue a QueueUrl names, refused as the handler
// refuses a URL it cannot read.
func (s *Service) urlRequest(ctx context.Context, action string, u *string) (authz.Request, error) {
	if u == nil || *u == "" {
		return authz.Request{}, missingParameter("QueueUrl")
	}
	account, name, ok := parseQueueURL(*u)
	if !ok {
		return authz.Request{}, invalidAddress(*u)
	}
	_, region := callerScope(ctx)
	return s.queueRequest(ctx, action, queueKey{Account: account, Region: region, Name: name})
}

// arnRequest is the request for action on the queue an ARN names; an ARN that names no queue
// is asked about as it is (the handler answers that it does not exist).
func (s *Service) arnRequest(ctx context.Context, action, queueARN string) (authz.Request, error) {
	k, ok := parseQueueARN(queueARN)
	if !ok {
		return authz.Request{Action: action, Resource: queueARN}, nil
	}
	return s.queueRequest(ctx, action, k)
}

// ownerOnly are the actions a queue policy cannot grant another account ("Cross-account
// permissions don't apply to the following actions" of SQS's API permissions reference).
var ownerOnly = map[string]bool{
	"sqs:AddPermission": true, "sqs:CancelMessageMoveTask": true, "sqs:CreateQueue": true, "sqs:DeleteQueue": true,
	"sqs:ListMessageMoveTasks": true, "sqs:ListQueues": true, "sqs:ListQueueTags": true, "sqs:RemovePermission": true,
	"sqs:SetQueueAttributes": true, "sqs:StartMessageMoveTask": true, "sqs:TagQueue": true, "sqs:UntagQueue": true,
}

// queueRequest is the request for action on the queue k names, with its policy and tags when
// it exists. The policy of another account's queue is left out for the actions only its
// owner's account may take.
func (s *Service) queueRequest(ctx context.Context, action string, k queueKey) (authz.Request, error) {
	r := authz.Request{Action: action, Resource: k.arn(), ResourceAccount: k.Account}
	q, err := s.loadQueue(ctx, k)
	if err != nil || q == nil {
		return r, err
	}
	if caller, _ := callerScope(ctx); caller == k.Account || !ownerOnly[action] {
		r.ResourcePolicy = s.queuePolicy(q)
	}
	r.Values = authz.Keys{}.WithResourceTags(func() map[string]string {
		tags, err := s.queueTags(ctx, q.ID)
		if err != nil {
			s.log.Warn("queue tags not read for a policy condition", "queue", q.ARN, "error", err)
		}
		return tags
	})
	return r, nil
}

// withRequestTags adds the tags a request sets (or the keys it removes) to a request's keys.
func withRequestTags(v policy.Values, tags map[string]string, keys []string) policy.Values {
	k, _ := v.(authz.Keys)
	k.RequestTags, k.TagKeys = tags, keys
	if keys == nil && tags == nil {
		k.TagKeys = []string{}
	}
	return k
}

// queuePolicy is the queue's compiled policy, nil when it has none. A stored policy the engine
// cannot read grants nothing (the queue's account still has its own rights).
func (s *Service) queuePolicy(q *queueRow) *policy.Policy {
	doc := q.Attrs[attrPolicy]
	if doc == "" {
		return nil
	}
	p, err := s.policies.Parse(doc, policy.Resource)
	if err != nil {
		s.log.Warn("stored queue policy does not parse; it grants nothing", "queue", q.ARN, "error", err)
		return nil
	}
	return p
}

// queueTags reads a queue's tags.
func (s *Service) queueTags(ctx context.Context, id int64) (map[string]string, error) {
	rows, err := s.st.Query(ctx, "SELECT tag_key, value FROM sqs_tags WHERE queue_id = ?", id)
	if err != nil {
		return nil, fmt.Errorf("read queue tags: %w", err)
	}
	defer rows.Close()
	tags := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, fmt.Errorf("read queue tags: %w", err)
		}
		tags[k] = v
	}
	return tags, rows.Err()
}

// accessDenied is SQS's refusal of a call: AccessDenied (403), with IAM's message naming the
// action in lower case as SQS does ("sqs:sendmessage").
func accessDenied(d *authz.Denied) error {
	action := strings.ToLower(d.Action)
	return awsproto.Errorf("AccessDeniedException", http.StatusForbidden, "%s", d.Decision.Message(d.Principal, action, d.Resource))
}

// enforcing reports whether calls may address queues of other accounts: in enforce mode,
// where their policies decide; otherwise another account's queue does not exist for a caller.
func (s *Service) enforcing() bool { return s.authz.Mode() == authz.Enforce }
