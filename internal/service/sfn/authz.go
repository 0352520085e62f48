package sfn

import (
	"context"
	"strings"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/iam/authz"
)

// operations is how each operation authorizes in enforce mode, as the Service Authorization
// Reference's "Actions defined by AWS Step Functions" says: states:OPERATION on the state
// machine, version, alias, execution or activity ARN the call names (state machines and
// activities offer their tags to conditions), and "*" for listings, validation and task
// tokens. Giving a state machine its role also needs iam:PassRole on the role, passed to Step
// Functions.
func (s *Service) operations() authz.Operations {
	on := func(action string, arn func(in any) string) authz.Rule {
		return func(ctx context.Context, in any) ([]authz.Request, error) {
			return []authz.Request{s.request(ctx, action, arn(in), authz.Keys{})}, nil
		}
	}
	everything := func(action string) authz.Rule {
		return func(context.Context, any) ([]authz.Request, error) {
			return []authz.Request{{Action: action, Resource: "*"}}, nil
		}
	}
	v := awsproto.Value[string]
	ops := authz.Operations{
		"CreateStateMachine": authz.On(func(ctx context.Context, in *CreateStateMachineInput) ([]authz.Request, error) {
			tags, err := tagMap(in.Tags)
			if err != nil {
				return nil, err
			}
			arn := scopeOf(ctx).machineARN(v(in.Name))
			return []authz.Request{{Action: "states:CreateStateMachine", Resource: arn, Values: authz.Keys{RequestTags: tags}},
				passRole(v(in.RoleArn))}, nil
		}),
		"UpdateStateMachine": authz.On(func(ctx context.Context, in *UpdateStateMachineInput) ([]authz.Request, error) {
			reqs := []authz.Request{s.request(ctx, "states:UpdateStateMachine", v(in.StateMachineArn), authz.Keys{})}
			if in.RoleArn != nil {
				reqs = append(reqs, passRole(v(in.RoleArn)))
			}
			return reqs, nil
		}),
		"CreateStateMachineAlias": authz.On(func(ctx context.Context, in *CreateStateMachineAliasInput) ([]authz.Request, error) {
			arn := "*"
			if len(in.RoutingConfiguration) > 0 {
				if ref, err := parseMachineARN(v(in.RoutingConfiguration[0].StateMachineVersionArn), true); err == nil {
					arn = ref.machineARN() + ":" + v(in.Name)
				}
			}
			return []authz.Request{{Action: "states:CreateStateMachineAlias", Resource: arn}}, nil
		}),
		"CreateActivity": authz.On(func(ctx context.Context, in *CreateActivityInput) ([]authz.Request, error) {
			tags, err := tagMap(in.Tags)
			if err != nil {
				return nil, err
			}
			return []authz.Request{{Action: "states:CreateActivity", Resource: scopeOf(ctx).activityARN(v(in.Name)),
				Values: authz.Keys{RequestTags: tags}}}, nil
		}),
		"TagResource": authz.On(func(ctx context.Context, in *TagResourceInput) ([]authz.Request, error) {
			tags, err := tagMap(in.Tags)
			if err != nil {
				return nil, err
			}
			return []authz.Request{s.request(ctx, "states:TagResource", v(in.ResourceArn), authz.Keys{RequestTags: tags})}, nil
		}),
		"UntagResource": authz.On(func(ctx context.Context, in *UntagResourceInput) ([]authz.Request, error) {
			return []authz.Request{s.request(ctx, "states:UntagResource", v(in.ResourceArn),
				authz.Keys{TagKeys: append([]string{}, in.TagKeys...)})}, nil
		}),
		// TestState acts as roleArn, and revealing secrets is an action of its own
		"TestState": authz.On(func(ctx context.Context, in *TestStateInput) ([]authz.Request, error) {
			reqs := []authz.Request{{Action: "states:TestState", Resource: "*"}}
			if in.RoleArn != nil {
				reqs = append(reqs, passRole(v(in.RoleArn)))
			}
			if awsproto.Value(in.RevealSecrets) {
				reqs = append(reqs, authz.Request{Action: "states:RevealSecrets", Resource: "*"})
			}
			return reqs, nil
		}),
		"ListStateMachines":              everything("states:ListStateMachines"),
		"ListActivities":                 everything("states:ListActivities"),
		"ValidateStateMachineDefinition": everything("states:ValidateStateMachineDefinition"),
		"SendTaskSuccess":                everything("states:SendTaskSuccess"),
		"SendTaskFailure":                everything("states:SendTaskFailure"),
		"SendTaskHeartbeat":              everything("states:SendTaskHeartbeat"),
	}
	for op, arn := range namedARN {
		if _, ok := ops[op]; !ok {
			ops[op] = on("states:"+op, arn)
		}
	}
	return ops
}

// request is a request on arn, offering the tags of the state machine or activity it names
// to conditions.
func (s *Service) request(ctx context.Context, action, arn string, keys authz.Keys) authz.Request {
	keys = keys.WithResourceTags(func() map[string]string { return s.resourceTags(ctx, arn) })
	return authz.Request{Action: action, Resource: arn, Values: keys}
}

// passRole is the iam:PassRole request of giving a state machine its role.
func passRole(role string) authz.Request {
	return authz.Request{Action: "iam:PassRole", Resource: role,
		Values: authz.Keys{Service: map[string][]string{"iam:passedtoservice": {principal}}}}
}

// namedARN reads the ARN of the resource each operation acts on from its input.
var namedARN = map[string]func(in any) string{
	"UpdateStateMachine":         func(in any) string { return awsproto.Value(in.(*UpdateStateMachineInput).StateMachineArn) },
	"TagResource":                func(in any) string { return awsproto.Value(in.(*TagResourceInput).ResourceArn) },
	"UntagResource":              func(in any) string { return awsproto.Value(in.(*UntagResourceInput).ResourceArn) },
	"DescribeStateMachine":       func(in any) string { return awsproto.Value(in.(*DescribeStateMachineInput).StateMachineArn) },
	"DeleteStateMachine":         func(in any) string { return awsproto.Value(in.(*DeleteStateMachineInput).StateMachineArn) },
	"PublishStateMachineVersion": func(in any) string { return awsproto.Value(in.(*PublishStateMachineVersionInput).StateMachineArn) },
	"ListStateMachineVersions":   func(in any) string { return awsproto.Value(in.(*ListStateMachineVersionsInput).StateMachineArn) },
	"DeleteStateMachineVersion": func(in any) string {
		return awsproto.Value(in.(*DeleteStateMachineVersionInput).StateMachineVersionArn)
	},
	"ListStateMachineAliases":   func(in any) string { return awsproto.Value(in.(*ListStateMachineAliasesInput).StateMachineArn) },
	"DescribeStateMachineAlias": func(in any) string { return awsproto.Value(in.(*DescribeStateMachineAliasInput).StateMachineAliasArn) },
	"UpdateStateMachineAlias":   func(in any) string { return awsproto.Value(in.(*UpdateStateMachineAliasInput).StateMachineAliasArn) },
	"DeleteStateMachineAlias":   func(in any) string { return awsproto.Value(in.(*DeleteStateMachineAliasInput).StateMachineAliasArn) },
	"DescribeActivity":          func(in any) string { return awsproto.Value(in.(*DescribeActivityInput).ActivityArn) },
	"DeleteActivity":            func(in any) string { return awsproto.Value(in.(*DeleteActivityInput).ActivityArn) },
	"GetActivityTask":           func(in any) string { return awsproto.Value(in.(*GetActivityTaskInput).ActivityArn) },
	"ListTagsForResource":       func(in any) string { return awsproto.Value(in.(*ListTagsForResourceInput).ResourceArn) },
	"StartExecution":            func(in any) string { return awsproto.Value(in.(*StartExecutionInput).StateMachineArn) },
	"StartSyncExecution":        func(in any) string { return awsproto.Value(in.(*StartSyncExecutionInput).StateMachineArn) },
	"ListExecutions": func(in any) string {
		if l := in.(*ListExecutionsInput); l.MapRunArn != nil {
			return awsproto.Value(l.MapRunArn)
		}
		return awsproto.Value(in.(*ListExecutionsInput).StateMachineArn)
	},
	"DescribeExecution":                func(in any) string { return awsproto.Value(in.(*DescribeExecutionInput).ExecutionArn) },
	"DescribeStateMachineForExecution": func(in any) string { return awsproto.Value(in.(*DescribeStateMachineForExecutionInput).ExecutionArn) },
	"GetExecutionHistory":              func(in any) string { return awsproto.Value(in.(*GetExecutionHistoryInput).ExecutionArn) },
	"StopExecution":                    func(in any) string { return awsproto.Value(in.(*StopExecutionInput).ExecutionArn) },
	"RedriveExecution":                 func(in any) string { return awsproto.Value(in.(*RedriveExecutionInput).ExecutionArn) },
	"DescribeMapRun":                   func(in any) string { return awsproto.Value(in.(*DescribeMapRunInput).MapRunArn) },
	"UpdateMapRun":                     func(in any) string { return awsproto.Value(in.(*UpdateMapRunInput).MapRunArn) },
	"ListMapRuns":                      func(in any) string { return awsproto.Value(in.(*ListMapRunsInput).ExecutionArn) },
}

// inScope refuses a call naming a resource of another account or region than the caller's
// with the error of a resource that does not exist: no account sees another's.
func inScope(ctx context.Context, op string, in any) error {
	arn, ok := namedARN[op]
	call := awsproto.CallFrom(ctx)
	if !ok || call == nil {
		return nil
	}
	r, ok := parseARN(arn(in))
	account, region := call.Scope()
	if !ok || r.account == account && r.region == region {
		return nil
	}
	switch {
	case strings.HasPrefix(op, "Tag") || strings.HasPrefix(op, "Untag") || strings.HasPrefix(op, "ListTags"):
		return resourceNotFound(arn(in))
	case r.kind == "execution":
		return executionNotFound(arn(in))
	case r.kind == "activity":
		return activityNotFound(arn(in))
	case r.kind == "stateMachine" && len(r.rest) == 0:
		return machineNotFound(arn(in))
	}
	return resourceNotFound(arn(in))
}
