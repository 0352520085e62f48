package events

import (
	"context"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/iam/authz"
)

// operations is how each EventBridge operation authorizes in enforce mode (the Service
// Authorization Reference's "Actions defined by Amazon EventBridge"): its action on the bus or
// rule it names, or on the archive, replay, connection or API destination it names. PutEvents asks events:PutEvents on each bus its entries name, with the bus's
// resource policy, which is what lets another account put events on it.
func (s *Service) operations() authz.Operations {
	everywhere := func(action string) authz.Rule {
		return func(context.Context, any) ([]authz.Request, error) { return []authz.Request{{Action: action}}, nil }
	}
	bus := func(action string, param func(in any) *string) authz.Rule {
		return func(ctx context.Context, in any) ([]authz.Request, error) {
			k, err := busParam(ctx, param(in), false)
			if err != nil {
				return nil, nil // refused by the handler
			}
			return []authz.Request{{Action: action, Resource: k.arn(), ResourceAccount: k.Account}}, nil
		}
	}
	rule := func(action string, param func(in any) (bus, name *string)) authz.Rule {
		return func(ctx context.Context, in any) ([]authz.Request, error) {
			b, name := param(in)
			k, err := busParam(ctx, b, false)
			if err != nil {
				return nil, nil
			}
			return []authz.Request{{Action: action, Resource: k.ruleARN(awsproto.Value(name)), ResourceAccount: k.Account}}, nil
		}
	}
	resource := func(action string, arn func(in any) *string) authz.Rule {
		return func(ctx context.Context, in any) ([]authz.Request, error) {
			return []authz.Request{{Action: action, Resource: awsproto.Value(arn(in))}}, nil
		}
	}
	named := func(action, kind string, name func(in any) *string) authz.Rule {
		return func(ctx context.Context, in any) ([]authz.Request, error) {
			account, region := callerScope(ctx)
			return []authz.Request{{Action: action, Resource: "arn:aws:events:" + region + ":" + account + ":" + kind + "/" + awsproto.Value(name(in))}}, nil
		}
	}
	return authz.Operations{
		"CreateArchive":    named("events:CreateArchive", "archive", func(in any) *string { return in.(*CreateArchiveRequest).ArchiveName }),
		"DescribeArchive":  named("events:DescribeArchive", "archive", func(in any) *string { return in.(*DescribeArchiveRequest).ArchiveName }),
		"UpdateArchive":    named("events:UpdateArchive", "archive", func(in any) *string { return in.(*UpdateArchiveRequest).ArchiveName }),
		"DeleteArchive":    named("events:DeleteArchive", "archive", func(in any) *string { return in.(*DeleteArchiveRequest).ArchiveName }),
		"ListArchives":     everywhere("events:ListArchives"),
		"StartReplay":      named("events:StartReplay", "replay", func(in any) *string { return in.(*StartReplayRequest).ReplayName }),
		"DescribeReplay":   named("events:DescribeReplay", "replay", func(in any) *string { return in.(*DescribeReplayRequest).ReplayName }),
		"CancelReplay":     named("events:CancelReplay", "replay", func(in any) *string { return in.(*CancelReplayRequest).ReplayName }),
		"ListReplays":      everywhere("events:ListReplays"),
		"CreateConnection": named("events:CreateConnection", "connection", func(in any) *string { return in.(*CreateConnectionRequest).Name }),
		"DescribeConnection": named("events:DescribeConnection", "connection",
			func(in any) *string { return in.(*DescribeConnectionRequest).Name }),
		"UpdateConnection": named("events:UpdateConnection", "connection", func(in any) *string { return in.(*UpdateConnectionRequest).Name }),
		"DeleteConnection": named("events:DeleteConnection", "connection", func(in any) *string { return in.(*DeleteConnectionRequest).Name }),
		"DeauthorizeConnection": named("events:DeauthorizeConnection", "connection",
			func(in any) *string { return in.(*DeauthorizeConnectionRequest).Name }),
		"ListConnections": everywhere("events:ListConnections"),
		"CreateApiDestination": named("events:CreateApiDestination", "api-destination",
			func(in any) *string { return in.(*CreateApiDestinationRequest).Name }),
		"DescribeApiDestination": named("events:DescribeApiDestination", "api-destination",
			func(in any) *string { return in.(*DescribeApiDestinationRequest).Name }),
		"UpdateApiDestination": named("events:UpdateApiDestination", "api-destination",
			func(in any) *string { return in.(*UpdateApiDestinationRequest).Name }),
		"DeleteApiDestination": named("events:DeleteApiDestination", "api-destination",
			func(in any) *string { return in.(*DeleteApiDestinationRequest).Name }),
		"ListApiDestinations": everywhere("events:ListApiDestinations"),
		"ListEventBuses":      everywhere("events:ListEventBuses"),
		"TestEventPattern":    everywhere("events:TestEventPattern"),
		"CreateEventBus":      bus("events:CreateEventBus", func(in any) *string { return in.(*CreateEventBusRequest).Name }),
		"DescribeEventBus":    bus("events:DescribeEventBus", func(in any) *string { return in.(*DescribeEventBusRequest).Name }),
		"DeleteEventBus":      bus("events:DeleteEventBus", func(in any) *string { return in.(*DeleteEventBusRequest).Name }),
		"UpdateEventBus":      bus("events:UpdateEventBus", func(in any) *string { return in.(*UpdateEventBusRequest).Name }),
		"PutPermission":       bus("events:PutPermission", func(in any) *string { return in.(*PutPermissionRequest).EventBusName }),
		"RemovePermission":    bus("events:RemovePermission", func(in any) *string { return in.(*RemovePermissionRequest).EventBusName }),
		"ListRules":           bus("events:ListRules", func(in any) *string { return in.(*ListRulesRequest).EventBusName }),
		"ListRuleNamesByTarget": bus("events:ListRuleNamesByTarget",
			func(in any) *string { return in.(*ListRuleNamesByTargetRequest).EventBusName }),
		"PutRule": rule("events:PutRule", func(in any) (*string, *string) {
			r := in.(*PutRuleRequest)
			return r.EventBusName, r.Name
		}),
		"DescribeRule": rule("events:DescribeRule", func(in any) (*string, *string) {
			r := in.(*DescribeRuleRequest)
			return r.EventBusName, r.Name
		}),
		"DeleteRule": rule("events:DeleteRule", func(in any) (*string, *string) {
			r := in.(*DeleteRuleRequest)
			return r.EventBusName, r.Name
		}),
		"EnableRule": rule("events:EnableRule", func(in any) (*string, *string) {
			r := in.(*EnableRuleRequest)
			return r.EventBusName, r.Name
		}),
		"DisableRule": rule("events:DisableRule", func(in any) (*string, *string) {
			r := in.(*DisableRuleRequest)
			return r.EventBusName, r.Name
		}),
		"PutTargets": rule("events:PutTargets", func(in any) (*string, *string) {
			r := in.(*PutTargetsRequest)
			return r.EventBusName, r.Rule
		}),
		"RemoveTargets": rule("events:RemoveTargets", func(in any) (*string, *string) {
			r := in.(*RemoveTargetsRequest)
			return r.EventBusName, r.Rule
		}),
		"ListTargetsByRule": rule("events:ListTargetsByRule", func(in any) (*string, *string) {
			r := in.(*ListTargetsByRuleRequest)
			return r.EventBusName, r.Rule
		}),
		"TagResource":         resource("events:TagResource", func(in any) *string { return in.(*TagResourceRequest).ResourceARN }),
		"UntagResource":       resource("events:UntagResource", func(in any) *string { return in.(*UntagResourceRequest).ResourceARN }),
		"ListTagsForResource": resource("events:ListTagsForResource", func(in any) *string { return in.(*ListTagsForResourceRequest).ResourceARN }),
		"PutEvents": authz.On(func(ctx context.Context, in *PutEventsRequest) ([]authz.Request, error) {
			seen := map[busKey]bool{}
			var reqs []authz.Request
			for _, e := range in.Entries {
				k, err := busParam(ctx, e.EventBusName, true)
				if err != nil || seen[k] {
					continue
				}
				seen[k] = true
				b, err := loadBus(s.reader(ctx), k)
				if err != nil {
					return nil, err
				}
				reqs = append(reqs, authz.Request{Action: "events:PutEvents", Resource: k.arn(), ResourceAccount: k.Account, ResourcePolicy: s.busPolicy(b)})
			}
			return reqs, nil
		}),
	}
}
