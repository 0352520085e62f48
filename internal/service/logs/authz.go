package logs

import (
	"context"
	"fmt"
	"strings"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/iam/authz"
)

// operations is how each CloudWatch Logs operation authorizes in enforce mode (the Service
// Authorization Reference's "Actions defined by Amazon CloudWatch Logs"): its action on the
// log group or stream the call names, with the group's tags. Resources are written as Logs
// names them in its decisions: a stream's ARN, and for group-level actions the group's ARN
// with an empty stream (arn:…:log-group:NAME:log-stream:), which a policy's
// "log-group:NAME:*" covers. Log groups have no resource policies: another account's group is
// refused.
func (s *Service) operations() authz.Operations {
	group := func(action string, name func(in any) (name, identifier *string)) authz.Rule {
		return func(ctx context.Context, in any) ([]authz.Request, error) {
			n, id := name(in)
			return []authz.Request{s.groupRequest(ctx, action, n, id, nil)}, nil
		}
	}
	byName := func(action string, name func(in any) *string) authz.Rule {
		return group(action, func(in any) (*string, *string) { return name(in), nil })
	}
	stream := func(action string, names func(in any) (group, identifier, stream *string)) authz.Rule {
		return func(ctx context.Context, in any) ([]authz.Request, error) {
			g, id, st := names(in)
			return []authz.Request{s.groupRequest(ctx, action, g, id, st)}, nil
		}
	}
	byARN := func(action string, arn func(in any) *string, keys func(in any) authz.Keys) authz.Rule {
		return func(ctx context.Context, in any) ([]authz.Request, error) {
			a := awsproto.Value(arn(in))
			account, region, name, ok := parseGroupARN(a)
			if !ok {
				return nil, invalidParameter("Invalid resource ARN: %s", a)
			}
			r := s.request(ctx, action, account, region, name, nil)
			if keys != nil {
				k, extra := r.Values.(authz.Keys), keys(in)
				k.RequestTags, k.TagKeys = extra.RequestTags, extra.TagKeys
				r.Values = k
			}
			return []authz.Request{r}, nil
		}
	}
	return authz.Operations{
		"CreateLogGroup": authz.On(func(ctx context.Context, in *CreateLogGroupRequest) ([]authz.Request, error) {
			r := s.groupRequest(ctx, "logs:CreateLogGroup", in.LogGroupName, nil, nil)
			r.Values = authz.Keys{RequestTags: in.Tags}
			return []authz.Request{r}, nil
		}),
		"DescribeLogGroups": authz.On(func(ctx context.Context, in *DescribeLogGroupsRequest) ([]authz.Request, error) {
			c := awsproto.CallFrom(ctx)
			return []authz.Request{{Action: "logs:DescribeLogGroups", Resource: groupARN(c.Region, c.AccountID, "") + ":log-stream:"}}, nil
		}),
		"DeleteLogGroup":        byName("logs:DeleteLogGroup", func(in any) *string { return in.(*DeleteLogGroupRequest).LogGroupName }),
		"PutRetentionPolicy":    byName("logs:PutRetentionPolicy", func(in any) *string { return in.(*PutRetentionPolicyRequest).LogGroupName }),
		"DeleteRetentionPolicy": byName("logs:DeleteRetentionPolicy", func(in any) *string { return in.(*DeleteRetentionPolicyRequest).LogGroupName }),
		"ListTagsLogGroup":      byName("logs:ListTagsLogGroup", func(in any) *string { return in.(*ListTagsLogGroupRequest).LogGroupName }),
		"TagLogGroup": authz.On(func(ctx context.Context, in *TagLogGroupRequest) ([]authz.Request, error) {
			r := s.groupRequest(ctx, "logs:TagLogGroup", in.LogGroupName, nil, nil)
			k := r.Values.(authz.Keys)
			k.RequestTags = in.Tags
			r.Values = k
			return []authz.Request{r}, nil
		}),
		"UntagLogGroup": authz.On(func(ctx context.Context, in *UntagLogGroupRequest) ([]authz.Request, error) {
			r := s.groupRequest(ctx, "logs:UntagLogGroup", in.LogGroupName, nil, nil)
			k := r.Values.(authz.Keys)
			k.TagKeys = append([]string{}, in.Tags...)
			r.Values = k
			return []authz.Request{r}, nil
		}),
		"DescribeLogStreams": group("logs:DescribeLogStreams", func(in any) (*string, *string) {
			i := in.(*DescribeLogStreamsRequest)
			return i.LogGroupName, i.LogGroupIdentifier
		}),
		"FilterLogEvents": group("logs:FilterLogEvents", func(in any) (*string, *string) {
			i := in.(*FilterLogEventsRequest)
			return i.LogGroupName, i.LogGroupIdentifier
		}),
		"CreateLogStream": stream("logs:CreateLogStream", func(in any) (*string, *string, *string) {
			i := in.(*CreateLogStreamRequest)
			return i.LogGroupName, nil, i.LogStreamName
		}),
		"DeleteLogStream": stream("logs:DeleteLogStream", func(in any) (*string, *string, *string) {
			i := in.(*DeleteLogStreamRequest)
			return i.LogGroupName, nil, i.LogStreamName
		}),
		"PutLogEvents": stream("logs:PutLogEvents", func(in any) (*string, *string, *string) {
			i := in.(*PutLogEventsRequest)
			return i.LogGroupName, nil, i.LogStreamName
		}),
		"GetLogEvents": stream("logs:GetLogEvents", func(in any) (*string, *string, *string) {
			i := in.(*GetLogEventsRequest)
			return i.LogGroupName, i.LogGroupIdentifier, i.LogStreamName
		}),
		"ListTagsForResource": byARN("logs:ListTagsForResource", func(in any) *string { return in.(*ListTagsForResourceRequest).ResourceArn }, nil),
		"TagResource": byARN("logs:TagResource", func(in any) *string { return in.(*TagResourceRequest).ResourceArn },
			func(in any) authz.Keys { return authz.Keys{RequestTags: in.(*TagResourceRequest).Tags} }),
		"UntagResource": byARN("logs:UntagResource", func(in any) *string { return in.(*UntagResourceRequest).ResourceArn },
			func(in any) authz.Keys {
				return authz.Keys{TagKeys: append([]string{}, in.(*UntagResourceRequest).TagKeys...)}
			}),
	}
}

// groupRequest is the request for action on the log group a logGroupName or
// logGroupIdentifier (a name or an ARN) names, and on one of its streams when stream is set.
// A name Logs refuses is asked about as it is: the handler answers it.
func (s *Service) groupRequest(ctx context.Context, action string, name, identifier, stream *string) authz.Request {
	c := awsproto.CallFrom(ctx)
	account, region, g := c.AccountID, c.Region, awsproto.Value(name)
	if id := awsproto.Value(identifier); name == nil && id != "" {
		g = id
		if a, r, n, ok := parseGroupARN(id); ok && strings.HasPrefix(id, "arn:") {
			account, region, g = a, r, n
		}
	}
	return s.request(ctx, action, account, region, g, stream)
}

// request is the request for action on the group name of account in region (and its stream).
func (s *Service) request(ctx context.Context, action, account, region, name string, stream *string) authz.Request {
	r := authz.Request{Action: action, Resource: streamARN(region, account, name, awsproto.Value(stream)), ResourceAccount: account}
	r.Values = authz.Keys{}.WithResourceTags(func() map[string]string {
		tags, err := s.groupTags(ctx, account, region, name)
		if err != nil {
			s.log.Warn("log group tags not read for a policy condition", "group", name, "error", err)
		}
		return tags
	})
	return r
}

// groupTags reads the tags of a log group; none when it does not exist.
func (s *Service) groupTags(ctx context.Context, account, region, name string) (map[string]string, error) {
	rows, err := s.st.Query(ctx, `SELECT t.tag_key, t.value FROM logs_tags t JOIN logs_groups g ON g.id = t.group_id
		WHERE g.account = ? AND g.region = ? AND g.name = ?`, account, region, name)
	if err != nil {
		return nil, fmt.Errorf("read log group tags: %w", err)
	}
	defer rows.Close()
	tags := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, fmt.Errorf("read log group tags: %w", err)
		}
		tags[k] = v
	}
	return tags, rows.Err()
}

// accessDenied is CloudWatch Logs' refusal of a call: AccessDeniedException with IAM's message.
func accessDenied(d *authz.Denied) error {
	return awsproto.Errorf("AccessDeniedException", 400, "%s", d.Message)
}
