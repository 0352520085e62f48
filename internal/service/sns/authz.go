package sns

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/iam/authz"
	"github.com/kiri-run/kiri/internal/iam/policy"
)

// operations is how each SNS operation authorizes in enforce mode (the Service Authorization
// Reference's "Actions defined by Amazon SNS"): its action on the topic the call names, with
// the topic's access policy (its default one when none was set) and tags. Subscription
// operations act on the subscription's topic; PublishBatch is sns:Publish; Subscribe offers
// sns:Protocol and sns:Endpoint. The unsigned SubscribeURL and UnsubscribeURL calls carry
// their token or subscription ARN as the credential and ask nothing.
func (s *Service) operations() authz.Operations {
	topicParam := func(action, param string, arn func(in any) *string) authz.Rule {
		return func(ctx context.Context, in any) ([]authz.Request, error) {
			r, err := s.topicRequest(ctx, action, param, awsproto.Value(arn(in)))
			return []authz.Request{r}, err
		}
	}
	everywhere := func(action string) authz.Rule {
		return func(context.Context, any) ([]authz.Request, error) { return []authz.Request{{Action: action}}, nil }
	}
	return authz.Operations{
		"CreateTopic": authz.On(func(ctx context.Context, in *CreateTopicInput) ([]authz.Request, error) {
			account, region := callerScope(ctx)
			k := topicKey{Account: account, Region: region, Name: awsproto.Value(in.Name)}
			return []authz.Request{{Action: "sns:CreateTopic", Resource: k.arn(), Values: authz.Keys{RequestTags: tagMap(in.Tags)}}}, nil
		}),
		"ListTopics":         everywhere("sns:ListTopics"),
		"ListSubscriptions":  everywhere("sns:ListSubscriptions"),
		"DeleteTopic":        topicParam("sns:DeleteTopic", "TopicArn", func(in any) *string { return in.(*DeleteTopicInput).TopicArn }),
		"GetTopicAttributes": topicParam("sns:GetTopicAttributes", "TopicArn", func(in any) *string { return in.(*GetTopicAttributesInput).TopicArn }),
		"SetTopicAttributes": topicParam("sns:SetTopicAttributes", "TopicArn", func(in any) *string { return in.(*SetTopicAttributesInput).TopicArn }),
		"ListSubscriptionsByTopic": topicParam("sns:ListSubscriptionsByTopic", "TopicArn",
			func(in any) *string { return in.(*ListSubscriptionsByTopicInput).TopicArn }),
		"PublishBatch":        topicParam("sns:Publish", "TopicArn", func(in any) *string { return in.(*PublishBatchInput).TopicArn }),
		"ListTagsForResource": topicParam("sns:ListTagsForResource", "ResourceArn", func(in any) *string { return in.(*ListTagsForResourceRequest).ResourceArn }),
		"Publish": authz.On(func(ctx context.Context, in *PublishInput) ([]authz.Request, error) {
			param, arn := "TopicArn", awsproto.Value(in.TopicArn)
			if arn == "" {
				param, arn = "TargetArn", awsproto.Value(in.TargetArn)
			}
			if arn == "" {
				return nil, nil // refused by the handler for want of a target
			}
			r, err := s.topicRequest(ctx, "sns:Publish", param, arn)
			return []authz.Request{r}, err
		}),
		"Subscribe": authz.On(func(ctx context.Context, in *SubscribeInput) ([]authz.Request, error) {
			r, err := s.topicRequest(ctx, "sns:Subscribe", "TopicArn", awsproto.Value(in.TopicArn))
			k, _ := r.Values.(authz.Keys)
			k.Service = map[string][]string{"sns:protocol": {awsproto.Value(in.Protocol)}, "sns:endpoint": {awsproto.Value(in.Endpoint)}}
			r.Values = k
			return []authz.Request{r}, err
		}),
		"TagResource": authz.On(func(ctx context.Context, in *TagResourceRequest) ([]authz.Request, error) {
			r, err := s.topicRequest(ctx, "sns:TagResource", "ResourceArn", awsproto.Value(in.ResourceArn))
			k, _ := r.Values.(authz.Keys)
			k.RequestTags = tagMap(in.Tags)
			r.Values = k
			return []authz.Request{r}, err
		}),
		"UntagResource": authz.On(func(ctx context.Context, in *UntagResourceRequest) ([]authz.Request, error) {
			r, err := s.topicRequest(ctx, "sns:UntagResource", "ResourceArn", awsproto.Value(in.ResourceArn))
			k, _ := r.Values.(authz.Keys)
			k.TagKeys = append([]string{}, in.TagKeys...)
			r.Values = k
			return []authz.Request{r}, err
		}),
		"ConfirmSubscription": authz.On(func(ctx context.Context, in *ConfirmSubscriptionInput) ([]authz.Request, error) {
			if unsigned(ctx) {
				return nil, nil
			}
			r, err := s.topicRequest(ctx, "sns:ConfirmSubscription", "TopicArn", awsproto.Value(in.TopicArn))
			return []authz.Request{r}, err
		}),
		"Unsubscribe": authz.On(func(ctx context.Context, in *UnsubscribeInput) ([]authz.Request, error) {
			if unsigned(ctx) {
				return nil, nil
			}
			return s.subscriptionRequest(ctx, "sns:Unsubscribe", in.SubscriptionArn)
		}),
		"GetSubscriptionAttributes": authz.On(func(ctx context.Context, in *GetSubscriptionAttributesInput) ([]authz.Request, error) {
			return s.subscriptionRequest(ctx, "sns:GetSubscriptionAttributes", in.SubscriptionArn)
		}),
		"SetSubscriptionAttributes": authz.On(func(ctx context.Context, in *SetSubscriptionAttributesInput) ([]authz.Request, error) {
			return s.subscriptionRequest(ctx, "sns:SetSubscriptionAttributes", in.SubscriptionArn)
		}),
	}
}

// topicRequest is the request for action on the topic an ARN parameter names, refused as the
// handler refuses an ARN it cannot read.
func (s *Service) topicRequest(ctx context.Context, action, param, arn string) (authz.Request, error) {
	k, err := s.resolveTopicARN(ctx, param, arn, action)
	if err != nil {
		return authz.Request{}, err
	}
	r := authz.Request{Action: action, Resource: k.arn(), ResourceAccount: k.Account}
	t, err := s.loadTopic(ctx, k)
	if err != nil || t == nil {
		return r, err
	}
	r.ResourcePolicy = s.topicPolicy(t)
	r.Values = authz.Keys{}.WithResourceTags(func() map[string]string {
		tags, err := s.topicTags(ctx, t.ID)
		if err != nil {
			s.log.Warn("topic tags not read for a policy condition", "topic", t.ARN, "error", err)
		}
		return tags
	})
	return r, nil
}

// subscriptionRequest is the request for action on the topic of the subscription an ARN names.
func (s *Service) subscriptionRequest(ctx context.Context, action string, arn *string) ([]authz.Request, error) {
	a := awsproto.Value(arn)
	k, err := subscriptionARNKey(a)
	if err != nil {
		return nil, err
	}
	if k.Name == "" {
		return []authz.Request{{Action: action, Resource: a}}, nil // the handler answers that it does not exist
	}
	r, err := s.topicRequest(ctx, action, "SubscriptionArn", k.arn())
	return []authz.Request{r}, err
}

// topicPolicy is the topic's compiled access policy: the one set, else SNS's default. A stored
// policy the engine cannot read grants nothing.
func (s *Service) topicPolicy(t *topicRow) *policy.Policy {
	doc := t.Attrs[attrPolicy]
	if doc == "" {
		doc = defaultTopicPolicy(t)
	}
	p, err := s.policies.Parse(doc, policy.Resource)
	if err != nil {
		s.log.Warn("topic policy does not parse; it grants nothing", "topic", t.ARN, "error", err)
		return nil
	}
	return p
}

// topicTags reads a topic's tags.
func (s *Service) topicTags(ctx context.Context, id int64) (map[string]string, error) {
	rows, err := s.st.Query(ctx, "SELECT tag_key, value FROM sns_topic_tags WHERE topic_id = ?", id)
	if err != nil {
		return nil, fmt.Errorf("read topic tags: %w", err)
	}
	defer rows.Close()
	tags := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, fmt.Errorf("read topic tags: %w", err)
		}
		tags[k] = v
	}
	return tags, rows.Err()
}

// tagMap is a request's tags as a map.
func tagMap(tags []Tag) map[string]string {
	if tags == nil {
		return nil
	}
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		m[awsproto.Value(t.Key)] = awsproto.Value(t.Value)
	}
	return m
}

// accessDenied is SNS's refusal of a call: AuthorizationError (403), with IAM's message naming
// the action as SNS does ("SNS:Publish").
func accessDenied(d *authz.Denied) error {
	action := "SNS:" + strings.TrimPrefix(d.Action, "sns:")
	return awsproto.Errorf("AuthorizationError", http.StatusForbidden, "%s", d.Decision.Message(d.Principal, action, d.Resource))
}

// enforcing reports whether calls may address topics of other accounts: in enforce mode, where
// their policies decide; otherwise another account's topic is AuthorizationError.
func (s *Service) enforcing() bool { return s.authz.Mode() == authz.Enforce }
