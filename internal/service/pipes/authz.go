package pipes

import (
	"context"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/iam/authz"
)

// operations is how each Pipes operation authorizes in enforce mode (the Service Authorization
// Reference's "Actions defined by Amazon EventBridge Pipes"): its action on the pipe it names,
// with the pipe's tags and the tags the call sets. Creating or updating a pipe also needs
// iam:PassRole on its role.
func (s *Service) operations() authz.Operations {
	byName := func(action string, name func(in any) *string) authz.Rule {
		return func(ctx context.Context, in any) ([]authz.Request, error) {
			return []authz.Request{s.pipeRequest(ctx, action, awsproto.Value(name(in)), nil)}, nil
		}
	}
	byARN := func(action string, arn func(in any) *string, keys func(in any) authz.Keys) authz.Rule {
		return func(ctx context.Context, in any) ([]authz.Request, error) {
			a := awsproto.Value(arn(in))
			_, _, name, _ := parsePipeARN(a)
			r := s.pipeRequest(ctx, action, name, nil)
			r.Resource = a
			k := keys(in)
			k = k.WithResourceTags(s.tagsOf(ctx, name))
			r.Values = k
			return []authz.Request{r}, nil
		}
	}
	passRole := func(_ context.Context, role string) authz.Request {
		return authz.Request{Action: "iam:PassRole", Resource: role,
			Values: authz.Keys{Service: map[string][]string{"iam:passedtoservice": {pipesPrincipal}}}}
	}
	return authz.Operations{
		"CreatePipe": authz.On(func(ctx context.Context, in *CreatePipeRequest) ([]authz.Request, error) {
			return []authz.Request{s.pipeRequest(ctx, "pipes:CreatePipe", awsproto.Value(in.Name), in.Tags),
				passRole(ctx, awsproto.Value(in.RoleArn))}, nil
		}),
		"UpdatePipe": authz.On(func(ctx context.Context, in *UpdatePipeRequest) ([]authz.Request, error) {
			return []authz.Request{s.pipeRequest(ctx, "pipes:UpdatePipe", awsproto.Value(in.Name), nil),
				passRole(ctx, awsproto.Value(in.RoleArn))}, nil
		}),
		"DescribePipe": byName("pipes:DescribePipe", func(in any) *string { return in.(*DescribePipeRequest).Name }),
		"DeletePipe":   byName("pipes:DeletePipe", func(in any) *string { return in.(*DeletePipeRequest).Name }),
		"StartPipe":    byName("pipes:StartPipe", func(in any) *string { return in.(*StartPipeRequest).Name }),
		"StopPipe":     byName("pipes:StopPipe", func(in any) *string { return in.(*StopPipeRequest).Name }),
		"ListPipes": authz.On(func(ctx context.Context, in *ListPipesRequest) ([]authz.Request, error) {
			return []authz.Request{{Action: "pipes:ListPipes", Resource: "*"}}, nil
		}),
		"TagResource": byARN("pipes:TagResource", func(in any) *string { return in.(*TagResourceRequest).ResourceArn },
			func(in any) authz.Keys { return authz.Keys{RequestTags: in.(*TagResourceRequest).Tags} }),
		"UntagResource": byARN("pipes:UntagResource", func(in any) *string { return in.(*UntagResourceRequest).ResourceArn },
			func(in any) authz.Keys { return authz.Keys{TagKeys: in.(*UntagResourceRequest).TagKeys} }),
		"ListTagsForResource": byARN("pipes:ListTagsForResource", func(in any) *string { return in.(*ListTagsForResourceRequest).ResourceArn },
			func(any) authz.Keys { return authz.Keys{} }),
	}
}

// pipeRequest is action on the caller's pipe name, with its tags and the tags the call sets.
func (s *Service) pipeRequest(ctx context.Context, action, name string, requestTags map[string]string) authz.Request {
	account, region := callScope(ctx)
	k := authz.Keys{RequestTags: requestTags}.WithResourceTags(s.tagsOf(ctx, name))
	return authz.Request{Action: action, Resource: pipeARN(account, region, name), Values: k}
}

// tagsOf loads the tags of the caller's pipe name for a policy that asks.
func (s *Service) tagsOf(ctx context.Context, name string) func() map[string]string {
	return func() map[string]string {
		account, region := callScope(ctx)
		p, err := loadPipe(s.reader(ctx), account, region, name)
		if err != nil || p == nil {
			return nil
		}
		return p.Tags
	}
}
