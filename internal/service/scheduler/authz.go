package scheduler

import (
	"context"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/iam/authz"
)

// operations is how each operation authorizes in enforce mode, as the Service Authorization
// Reference's "Actions defined by Amazon EventBridge Scheduler" says: scheduler:OPERATION on
// the schedule (arn:aws:scheduler:REGION:ACCOUNT:schedule/GROUP/NAME) or schedule group
// (…:schedule-group/NAME) the call names, with the group's tags; listings on "*". Giving a
// schedule its execution role also needs iam:PassRole on the role, passed to Scheduler.
func (s *Service) operations() authz.Operations {
	onGroup := func(action string, name func(in any) *string) authz.Rule {
		return func(ctx context.Context, in any) ([]authz.Request, error) {
			return []authz.Request{s.groupRequest(ctx, action, awsproto.Value(name(in)), authz.Keys{})}, nil
		}
	}
	onTagged := func(action string, arn func(in any) *string, keys func(in any) authz.Keys) authz.Rule {
		return func(ctx context.Context, in any) ([]authz.Request, error) {
			_, name, err := taggedGroup(ctx, awsproto.Value(arn(in)))
			if err != nil {
				return nil, err
			}
			return []authz.Request{s.groupRequest(ctx, action, name, keys(in))}, nil
		}
	}
	onSchedule := func(action string, names func(in any) (group, name *string)) authz.Rule {
		return func(ctx context.Context, in any) ([]authz.Request, error) {
			g, n := names(in)
			sc := scopeOf(ctx)
			return []authz.Request{{Action: action, Resource: sc.scheduleARN(groupOf(g), awsproto.Value(n))}}, nil
		}
	}
	everything := func(action string) authz.Rule {
		return func(context.Context, any) ([]authz.Request, error) {
			return []authz.Request{{Action: action, Resource: "*"}}, nil
		}
	}
	return authz.Operations{
		"CreateScheduleGroup": authz.On(func(ctx context.Context, in *CreateScheduleGroupInput) ([]authz.Request, error) {
			tags, err := tagMap(in.Tags)
			if err != nil {
				return nil, err
			}
			return []authz.Request{s.groupRequest(ctx, "scheduler:CreateScheduleGroup", awsproto.Value(in.Name), authz.Keys{RequestTags: tags})}, nil
		}),
		"GetScheduleGroup":    onGroup("scheduler:GetScheduleGroup", func(in any) *string { return in.(*GetScheduleGroupInput).Name }),
		"DeleteScheduleGroup": onGroup("scheduler:DeleteScheduleGroup", func(in any) *string { return in.(*DeleteScheduleGroupInput).Name }),
		"ListScheduleGroups":  everything("scheduler:ListScheduleGroups"),
		"CreateSchedule": authz.On(func(ctx context.Context, in *CreateScheduleInput) ([]authz.Request, error) {
			sc := scopeOf(ctx)
			return []authz.Request{
				{Action: "scheduler:CreateSchedule", Resource: sc.scheduleARN(groupOf(in.GroupName), awsproto.Value(in.Name))},
				passRole(in.Target),
			}, nil
		}),
		"UpdateSchedule": authz.On(func(ctx context.Context, in *UpdateScheduleInput) ([]authz.Request, error) {
			sc := scopeOf(ctx)
			return []authz.Request{
				{Action: "scheduler:UpdateSchedule", Resource: sc.scheduleARN(groupOf(in.GroupName), awsproto.Value(in.Name))},
				passRole(in.Target),
			}, nil
		}),
		"GetSchedule": onSchedule("scheduler:GetSchedule", func(in any) (*string, *string) {
			i := in.(*GetScheduleInput)
			return i.GroupName, i.Name
		}),
		"DeleteSchedule": onSchedule("scheduler:DeleteSchedule", func(in any) (*string, *string) {
			i := in.(*DeleteScheduleInput)
			return i.GroupName, i.Name
		}),
		"ListSchedules": everything("scheduler:ListSchedules"),
		"TagResource": onTagged("scheduler:TagResource", func(in any) *string { return in.(*TagResourceInput).ResourceArn },
			func(in any) authz.Keys {
				tags, _ := tagMap(in.(*TagResourceInput).Tags)
				return authz.Keys{RequestTags: tags}
			}),
		"UntagResource": onTagged("scheduler:UntagResource", func(in any) *string { return in.(*UntagResourceInput).ResourceArn },
			func(in any) authz.Keys {
				return authz.Keys{TagKeys: append([]string{}, in.(*UntagResourceInput).TagKeys...)}
			}),
		"ListTagsForResource": onTagged("scheduler:ListTagsForResource", func(in any) *string { return in.(*ListTagsForResourceInput).ResourceArn },
			func(any) authz.Keys { return authz.Keys{} }),
	}
}

// groupRequest is a request on a schedule group, offering its tags to conditions.
func (s *Service) groupRequest(ctx context.Context, action, name string, keys authz.Keys) authz.Request {
	sc := scopeOf(ctx)
	keys = keys.WithResourceTags(func() map[string]string {
		g, err := s.loadGroup(s.reader(ctx), sc, name)
		if err != nil || g == nil {
			return nil
		}
		return g.tags
	})
	return authz.Request{Action: action, Resource: sc.groupARN(name), Values: keys}
}

// passRole is the iam:PassRole request of giving a schedule its execution role.
func passRole(t *Target) authz.Request {
	var role string
	if t != nil {
		role = awsproto.Value(t.RoleArn)
	}
	return authz.Request{Action: "iam:PassRole", Resource: role,
		Values: authz.Keys{Service: map[string][]string{"iam:passedtoservice": {principal}}}}
}
