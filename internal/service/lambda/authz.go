package lambda

import (
	"context"
	"net/http"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/iam/authz"
	"github.com/kiri-run/kiri/internal/iam/policy"
)

// operations is how each Lambda operation authorizes in enforce mode (the Service
// Authorization Reference's "Actions defined by AWS Lambda"): its action on the function the
// call names (its qualified ARN when the call names a version or alias, whose own policy then
// applies), with the function's resource-based policy and tags. Invoke and
// InvokeWithResponseStream are lambda:InvokeFunction; creating a function or changing its
// role also needs iam:PassRole on the role; event source mappings offer lambda:FunctionArn.
func (s *Service) operations() authz.Operations {
	fn := func(action string, name func(in any) (fn, qualifier *string)) authz.Rule {
		return func(ctx context.Context, in any) ([]authz.Request, error) {
			f, q := name(in)
			r, err := s.functionRequest(ctx, action, f, q)
			return []authz.Request{r}, err
		}
	}
	unq := func(action string, name func(in any) *string) authz.Rule {
		return fn(action, func(in any) (*string, *string) { return name(in), nil })
	}
	everywhere := func(action string) authz.Rule {
		return func(context.Context, any) ([]authz.Request, error) { return []authz.Request{{Action: action}}, nil }
	}
	return authz.Operations{
		"CreateFunction": authz.On(func(ctx context.Context, in *CreateFunctionRequest) ([]authz.Request, error) {
			r, err := s.functionRequest(ctx, "lambda:CreateFunction", in.FunctionName, nil)
			if err != nil {
				return nil, err
			}
			r.Values = authz.Keys{RequestTags: in.Tags}
			return []authz.Request{r, passRole(in.Role)}, nil
		}),
		"UpdateFunctionConfiguration": authz.On(func(ctx context.Context, in *UpdateFunctionConfigurationRequest) ([]authz.Request, error) {
			r, err := s.functionRequest(ctx, "lambda:UpdateFunctionConfiguration", in.FunctionName, nil)
			if err != nil || in.Role == nil {
				return []authz.Request{r}, err
			}
			return []authz.Request{r, passRole(in.Role)}, nil
		}),
		"ListFunctions":           everywhere("lambda:ListFunctions"),
		"GetAccountSettings":      everywhere("lambda:GetAccountSettings"),
		"ListEventSourceMappings": everywhere("lambda:ListEventSourceMappings"),
		"GetFunction":             fn("lambda:GetFunction", func(in any) (*string, *string) { i := in.(*GetFunctionRequest); return i.FunctionName, i.Qualifier }),
		"GetFunctionConfiguration": fn("lambda:GetFunctionConfiguration", func(in any) (*string, *string) {
			i := in.(*GetFunctionConfigurationRequest)
			return i.FunctionName, i.Qualifier
		}),
		"UpdateFunctionCode": unq("lambda:UpdateFunctionCode", func(in any) *string { return in.(*UpdateFunctionCodeRequest).FunctionName }),
		"DeleteFunction":     fn("lambda:DeleteFunction", func(in any) (*string, *string) { i := in.(*DeleteFunctionRequest); return i.FunctionName, i.Qualifier }),
		"Invoke":             fn("lambda:InvokeFunction", func(in any) (*string, *string) { i := in.(*InvocationRequest); return i.FunctionName, i.Qualifier }),
		"InvokeWithResponseStream": fn("lambda:InvokeFunction", func(in any) (*string, *string) {
			i := in.(*InvokeWithResponseStreamRequest)
			return i.FunctionName, i.Qualifier
		}),
		"InvokeAsync":            unq("lambda:InvokeAsync", func(in any) *string { return in.(*InvokeAsyncRequest).FunctionName }),
		"PublishVersion":         unq("lambda:PublishVersion", func(in any) *string { return in.(*PublishVersionRequest).FunctionName }),
		"ListVersionsByFunction": unq("lambda:ListVersionsByFunction", func(in any) *string { return in.(*ListVersionsByFunctionRequest).FunctionName }),
		"CreateAlias":            unq("lambda:CreateAlias", func(in any) *string { return in.(*CreateAliasRequest).FunctionName }),
		"GetAlias":               unq("lambda:GetAlias", func(in any) *string { return in.(*GetAliasRequest).FunctionName }),
		"UpdateAlias":            unq("lambda:UpdateAlias", func(in any) *string { return in.(*UpdateAliasRequest).FunctionName }),
		"DeleteAlias":            unq("lambda:DeleteAlias", func(in any) *string { return in.(*DeleteAliasRequest).FunctionName }),
		"ListAliases":            unq("lambda:ListAliases", func(in any) *string { return in.(*ListAliasesRequest).FunctionName }),
		"PutFunctionConcurrency": unq("lambda:PutFunctionConcurrency", func(in any) *string { return in.(*PutFunctionConcurrencyRequest).FunctionName }),
		"GetFunctionConcurrency": unq("lambda:GetFunctionConcurrency", func(in any) *string { return in.(*GetFunctionConcurrencyRequest).FunctionName }),
		"DeleteFunctionConcurrency": unq("lambda:DeleteFunctionConcurrency", func(in any) *string {
			return in.(*DeleteFunctionConcurrencyRequest).FunctionName
		}),
		"PutFunctionEventInvokeConfig": fn("lambda:PutFunctionEventInvokeConfig", func(in any) (*string, *string) {
			i := in.(*PutFunctionEventInvokeConfigRequest)
			return i.FunctionName, i.Qualifier
		}),
		"UpdateFunctionEventInvokeConfig": fn("lambda:UpdateFunctionEventInvokeConfig", func(in any) (*string, *string) {
			i := in.(*UpdateFunctionEventInvokeConfigRequest)
			return i.FunctionName, i.Qualifier
		}),
		"GetFunctionEventInvokeConfig": fn("lambda:GetFunctionEventInvokeConfig", func(in any) (*string, *string) {
			i := in.(*GetFunctionEventInvokeConfigRequest)
			return i.FunctionName, i.Qualifier
		}),
		"DeleteFunctionEventInvokeConfig": fn("lambda:DeleteFunctionEventInvokeConfig", func(in any) (*string, *string) {
			i := in.(*DeleteFunctionEventInvokeConfigRequest)
			return i.FunctionName, i.Qualifier
		}),
		"ListFunctionEventInvokeConfigs": unq("lambda:ListFunctionEventInvokeConfigs", func(in any) *string {
			return in.(*ListFunctionEventInvokeConfigsRequest).FunctionName
		}),
		"AddPermission": authz.On(func(ctx context.Context, in *AddPermissionRequest) ([]authz.Request, error) {
			r, err := s.functionRequest(ctx, "lambda:AddPermission", in.FunctionName, in.Qualifier)
			keys := authz.Keys{Service: map[string][]string{"lambda:principal": {awsproto.Value(in.Principal)}}}
			if t := awsproto.Value(in.FunctionUrlAuthType); t != "" {
				keys.Service["lambda:functionurlauthtype"] = []string{t}
			}
			r.Values = withKeys(r.Values, keys)
			return []authz.Request{r}, err
		}),
		"RemovePermission": fn("lambda:RemovePermission", func(in any) (*string, *string) {
			i := in.(*RemovePermissionRequest)
			return i.FunctionName, i.Qualifier
		}),
		"GetPolicy": fn("lambda:GetPolicy", func(in any) (*string, *string) { i := in.(*GetPolicyRequest); return i.FunctionName, i.Qualifier }),
		"TagResource": authz.On(func(ctx context.Context, in *TagResourceRequest) ([]authz.Request, error) {
			r, err := s.taggableRequest(ctx, "lambda:TagResource", in.Resource)
			r.Values = withKeys(r.Values, authz.Keys{RequestTags: in.Tags})
			return []authz.Request{r}, err
		}),
		"UntagResource": authz.On(func(ctx context.Context, in *UntagResourceRequest) ([]authz.Request, error) {
			r, err := s.taggableRequest(ctx, "lambda:UntagResource", in.Resource)
			r.Values = withKeys(r.Values, authz.Keys{TagKeys: append([]string{}, in.TagKeys...)})
			return []authz.Request{r}, err
		}),
		"ListTags": authz.On(func(ctx context.Context, in *ListTagsRequest) ([]authz.Request, error) {
			r, err := s.taggableRequest(ctx, "lambda:ListTags", in.Resource)
			return []authz.Request{r}, err
		}),
		"CreateFunctionUrlConfig": authz.On(func(ctx context.Context, in *CreateFunctionUrlConfigRequest) ([]authz.Request, error) {
			r, err := s.functionRequest(ctx, "lambda:CreateFunctionUrlConfig", in.FunctionName, in.Qualifier)
			r.Values = withKeys(r.Values, authz.Keys{Service: map[string][]string{"lambda:functionurlauthtype": {awsproto.Value(in.AuthType)}}})
			return []authz.Request{r}, err
		}),
		"UpdateFunctionUrlConfig": authz.On(func(ctx context.Context, in *UpdateFunctionUrlConfigRequest) ([]authz.Request, error) {
			r, err := s.functionRequest(ctx, "lambda:UpdateFunctionUrlConfig", in.FunctionName, in.Qualifier)
			if in.AuthType != nil {
				r.Values = withKeys(r.Values, authz.Keys{Service: map[string][]string{"lambda:functionurlauthtype": {*in.AuthType}}})
			}
			return []authz.Request{r}, err
		}),
		"GetFunctionUrlConfig": fn("lambda:GetFunctionUrlConfig", func(in any) (*string, *string) {
			i := in.(*GetFunctionUrlConfigRequest)
			return i.FunctionName, i.Qualifier
		}),
		"DeleteFunctionUrlConfig": fn("lambda:DeleteFunctionUrlConfig", func(in any) (*string, *string) {
			i := in.(*DeleteFunctionUrlConfigRequest)
			return i.FunctionName, i.Qualifier
		}),
		"ListFunctionUrlConfigs": unq("lambda:ListFunctionUrlConfigs", func(in any) *string { return in.(*ListFunctionUrlConfigsRequest).FunctionName }),
		"CreateEventSourceMapping": authz.On(func(ctx context.Context, in *CreateEventSourceMappingRequest) ([]authz.Request, error) {
			r, err := s.parseRef(in.FunctionName, nil)
			if err != nil {
				return nil, err
			}
			r = s.defaults(ctx, r)
			return []authz.Request{{Action: "lambda:CreateEventSourceMapping",
				Values: authz.Keys{RequestTags: in.Tags, Service: map[string][]string{"lambda:functionarn": {r.arn()}}}}}, nil
		}),
		"GetEventSourceMapping":    mappingRule(s, "lambda:GetEventSourceMapping", func(in any) *string { return in.(*GetEventSourceMappingRequest).UUID }),
		"UpdateEventSourceMapping": mappingRule(s, "lambda:UpdateEventSourceMapping", func(in any) *string { return in.(*UpdateEventSourceMappingRequest).UUID }),
		"DeleteEventSourceMapping": mappingRule(s, "lambda:DeleteEventSourceMapping", func(in any) *string { return in.(*DeleteEventSourceMappingRequest).UUID }),
	}
}

// mappingRule is the rule of an operation on the event source mapping a UUID names, in the
// caller's account, with lambda:FunctionArn when the mapping exists.
func mappingRule(s *Service, action string, uuid func(in any) *string) authz.Rule {
	return func(ctx context.Context, in any) ([]authz.Request, error) {
		account, region := callScope(ctx)
		id := awsproto.Value(uuid(in))
		r := authz.Request{Action: action, Resource: "arn:aws:lambda:" + region + ":" + account + ":event-source-mapping:" + id}
		m, err := loadMapping(s.reader(ctx), account, region, id)
		if err != nil {
			return nil, err
		}
		if m != nil {
			r.Values = authz.Keys{Service: map[string][]string{"lambda:functionarn": {m.FunctionArn}}}
		}
		return []authz.Request{r}, nil
	}
}

// passRole is the iam:PassRole request of giving a function the role roleARN.
func passRole(role *string) authz.Request {
	return authz.Request{Action: "iam:PassRole", Resource: awsproto.Value(role),
		Values: authz.Keys{Service: map[string][]string{"iam:passedtoservice": {lambdaPrincipal}}}}
}

// withKeys merges extra's tag and service keys into a request's keys.
func withKeys(v any, extra authz.Keys) authz.Keys {
	k, _ := v.(authz.Keys)
	if extra.RequestTags != nil {
		k.RequestTags = extra.RequestTags
	}
	if extra.TagKeys != nil {
		k.TagKeys = extra.TagKeys
	}
	if extra.Service != nil {
		k.Service = extra.Service
	}
	return k
}

// functionRequest is the request for action on the function (and version or alias) a
// FunctionName and Qualifier name, refused as the handler refuses a name it cannot read; it
// may be another account's function, whose policy then decides.
func (s *Service) functionRequest(ctx context.Context, action string, name, qualifier *string) (authz.Request, error) {
	r, err := s.parseRef(name, qualifier)
	if err != nil {
		return authz.Request{}, err
	}
	if _, region := callScope(ctx); r.region != "" && r.region != region {
		return authz.Request{}, notFound("Functions from '%s' are not reachable in this region ('%s')", r.region, region)
	}
	return s.functionRefRequest(ctx, action, s.defaults(ctx, r))
}

// functionRefRequest is the request for action on the function r names, with its policy (the
// version's or alias's when r has a qualifier) and its tags.
func (s *Service) functionRefRequest(ctx context.Context, action string, r funcRef) (authz.Request, error) {
	p, err := s.functionPolicy(ctx, r)
	if err != nil {
		return authz.Request{}, err
	}
	req := authz.Request{Action: action, Resource: r.arn(), ResourceAccount: r.account, ResourcePolicy: p}
	req.Values = authz.Keys{}.WithResourceTags(func() map[string]string {
		row, err := loadFunction(s.reader(ctx), r)
		if err != nil {
			return nil
		}
		return row.Tags
	})
	return req, nil
}

// taggableRequest is the request for action on a tagging call's resource: a function, or an
// event source mapping.
func (s *Service) taggableRequest(ctx context.Context, action string, resource *string) (authz.Request, error) {
	if arn := awsproto.Value(resource); isMappingARN(arn) {
		return authz.Request{Action: action, Resource: arn}, nil
	}
	return s.functionRequest(ctx, action, resource, nil)
}

// functionPolicy is the compiled resource-based policy of the function, version or alias r
// names (the unqualified function's for $LATEST); nil when it has none.
func (s *Service) functionPolicy(ctx context.Context, r funcRef) (*policy.Policy, error) {
	perms, err := loadPermissions(s.reader(ctx), policyRef(r))
	if err != nil || len(perms) == 0 {
		return nil, err
	}
	p, err := s.policies.Parse(renderPolicy(perms), policy.Resource)
	if err != nil {
		s.log.Warn("function policy does not parse; it grants nothing", "function", r.arn(), "error", err)
		return nil, nil
	}
	return p, nil
}

// policyRef is the reference whose policy applies to r: $LATEST has the unqualified function's.
func policyRef(r funcRef) funcRef {
	if r.qualifier == latest {
		r.qualifier = ""
	}
	return r
}

// defaults fills in the caller's account and region where a reference names none.
func (s *Service) defaults(ctx context.Context, r funcRef) funcRef {
	account, region := callScope(ctx)
	if r.account == "" {
		r.account = account
	}
	if r.region == "" {
		r.region = region
	}
	return r
}

// crossAccountOps are the operations another account may call on a function through the
// function's resource-based policy, as Lambda allows them ("Granting Lambda function access
// to other accounts"); the others act only on the caller's own functions.
var crossAccountOps = map[string]bool{
	"Invoke": true, "InvokeAsync": true, "InvokeWithResponseStream": true, "GetFunction": true,
	"GetFunctionConfiguration": true, "UpdateFunctionCode": true, "DeleteFunction": true, "PublishVersion": true,
	"ListVersionsByFunction": true, "CreateAlias": true, "GetAlias": true, "ListAliases": true, "UpdateAlias": true,
	"DeleteAlias": true, "GetPolicy": true, "PutFunctionConcurrency": true, "DeleteFunctionConcurrency": true,
	"ListTags": true, "TagResource": true, "UntagResource": true,
}

// crossAccount reports whether the call in ctx may act on another account's function: in
// enforce mode, where the function's policy decided, for the operations Lambda shares.
func (s *Service) crossAccount(ctx context.Context) bool {
	c := awsproto.CallFrom(ctx)
	return c != nil && crossAccountOps[c.Operation] && s.deps.Authz.Mode() == authz.Enforce
}

// accessDenied is Lambda's refusal of a call: AccessDeniedException (403) with IAM's message.
func accessDenied(d *authz.Denied) error {
	return lambdaError("AccessDeniedException", http.StatusForbidden, "%s", d.Message)
}
