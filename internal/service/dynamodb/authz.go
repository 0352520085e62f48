package dynamodb

import (
	"context"
	"slices"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/iam/authz"
)

// operations is how each DynamoDB operation authorizes in enforce mode (the Service
// Authorization Reference's "Actions defined by Amazon DynamoDB"): dynamodb:<Operation> on
// the table the call names (arn:aws:dynamodb:REGION:ACCOUNT:table/NAME), or on the index for
// a Query or Scan of one (…/index/NAME), with the table's tags. Batch and transaction
// operations need the action of each item's operation on each table they touch; PartiQL
// statements need dynamodb:PartiQL<Verb>. Tables have no resource policies in Kiri: another
// account's table is refused.
func (s *Service) operations() authz.Operations {
	byTable := func(action string, name func(in any) *string) authz.Rule {
		return func(ctx context.Context, in any) ([]authz.Request, error) {
			return []authz.Request{s.tableRequest(ctx, action, awsproto.Value(name(in)), "")}, nil
		}
	}
	account := func(action string) authz.Rule {
		return func(ctx context.Context, in any) ([]authz.Request, error) {
			acct, region := callerScope(ctx)
			return []authz.Request{{Action: action, Resource: tableKey{Account: acct, Region: region, Name: "*"}.arn(), ResourceAccount: acct}}, nil
		}
	}
	return authz.Operations{
		"CreateTable": authz.On(func(ctx context.Context, in *CreateTableInput) ([]authz.Request, error) {
			r := s.tableRequest(ctx, "dynamodb:CreateTable", awsproto.Value(in.TableName), "")
			r.Values = authz.Keys{RequestTags: tagMap(in.Tags)}
			reqs := []authz.Request{r}
			if len(in.Tags) > 0 {
				reqs = append(reqs, authz.Request{Action: "dynamodb:TagResource", Resource: r.Resource, ResourceAccount: r.ResourceAccount, Values: r.Values})
			}
			return reqs, nil
		}),
		"DescribeTable":      byTable("dynamodb:DescribeTable", func(in any) *string { return in.(*DescribeTableInput).TableName }),
		"UpdateTable":        byTable("dynamodb:UpdateTable", func(in any) *string { return in.(*UpdateTableInput).TableName }),
		"DeleteTable":        byTable("dynamodb:DeleteTable", func(in any) *string { return in.(*DeleteTableInput).TableName }),
		"UpdateTimeToLive":   byTable("dynamodb:UpdateTimeToLive", func(in any) *string { return in.(*UpdateTimeToLiveInput).TableName }),
		"DescribeTimeToLive": byTable("dynamodb:DescribeTimeToLive", func(in any) *string { return in.(*DescribeTimeToLiveInput).TableName }),
		"ListTables":         account("dynamodb:ListTables"),
		"DescribeEndpoints": func(context.Context, any) ([]authz.Request, error) {
			return []authz.Request{{Action: "dynamodb:DescribeEndpoints"}}, nil
		},
		"DescribeLimits": account("dynamodb:DescribeLimits"),
		"TagResource": authz.On(func(ctx context.Context, in *TagResourceInput) ([]authz.Request, error) {
			r := s.tableRequest(ctx, "dynamodb:TagResource", awsproto.Value(in.ResourceArn), "")
			k := r.Values.(authz.Keys)
			k.RequestTags = tagMap(in.Tags)
			r.Values = k
			return []authz.Request{r}, nil
		}),
		"UntagResource": authz.On(func(ctx context.Context, in *UntagResourceInput) ([]authz.Request, error) {
			r := s.tableRequest(ctx, "dynamodb:UntagResource", awsproto.Value(in.ResourceArn), "")
			k := r.Values.(authz.Keys)
			k.TagKeys = append([]string{}, in.TagKeys...)
			r.Values = k
			return []authz.Request{r}, nil
		}),
		"ListTagsOfResource": byTable("dynamodb:ListTagsOfResource", func(in any) *string { return in.(*ListTagsOfResourceInput).ResourceArn }),
		"PutItem":            byTable("dynamodb:PutItem", func(in any) *string { return in.(*PutItemInput).TableName }),
		"GetItem":            byTable("dynamodb:GetItem", func(in any) *string { return in.(*GetItemInput).TableName }),
		"UpdateItem":         byTable("dynamodb:UpdateItem", func(in any) *string { return in.(*UpdateItemInput).TableName }),
		"DeleteItem":         byTable("dynamodb:DeleteItem", func(in any) *string { return in.(*DeleteItemInput).TableName }),
		"Query": authz.On(func(ctx context.Context, in *QueryInput) ([]authz.Request, error) {
			return []authz.Request{s.tableRequest(ctx, "dynamodb:Query", awsproto.Value(in.TableName), awsproto.Value(in.IndexName))}, nil
		}),
		"Scan": authz.On(func(ctx context.Context, in *ScanInput) ([]authz.Request, error) {
			return []authz.Request{s.tableRequest(ctx, "dynamodb:Scan", awsproto.Value(in.TableName), awsproto.Value(in.IndexName))}, nil
		}),
		"BatchGetItem": authz.On(func(ctx context.Context, in *BatchGetItemInput) ([]authz.Request, error) {
			var reqs []authz.Request
			for _, name := range sortedNames(in.RequestItems) {
				reqs = append(reqs, s.tableRequest(ctx, "dynamodb:BatchGetItem", name, ""))
			}
			return reqs, nil
		}),
		"BatchWriteItem": authz.On(func(ctx context.Context, in *BatchWriteItemInput) ([]authz.Request, error) {
			var reqs []authz.Request
			for _, name := range sortedNames(in.RequestItems) {
				reqs = append(reqs, s.tableRequest(ctx, "dynamodb:BatchWriteItem", name, ""))
			}
			return reqs, nil
		}),
		"TransactWriteItems": authz.On(func(ctx context.Context, in *TransactWriteItemsInput) ([]authz.Request, error) {
			var reqs []authz.Request
			for _, w := range in.TransactItems {
				switch {
				case w.Put != nil:
					reqs = append(reqs, s.tableRequest(ctx, "dynamodb:PutItem", awsproto.Value(w.Put.TableName), ""))
				case w.Update != nil:
					reqs = append(reqs, s.tableRequest(ctx, "dynamodb:UpdateItem", awsproto.Value(w.Update.TableName), ""))
				case w.Delete != nil:
					reqs = append(reqs, s.tableRequest(ctx, "dynamodb:DeleteItem", awsproto.Value(w.Delete.TableName), ""))
				case w.ConditionCheck != nil:
					reqs = append(reqs, s.tableRequest(ctx, "dynamodb:ConditionCheckItem", awsproto.Value(w.ConditionCheck.TableName), ""))
				}
			}
			return dedupRequests(reqs), nil
		}),
		"TransactGetItems": authz.On(func(ctx context.Context, in *TransactGetItemsInput) ([]authz.Request, error) {
			var reqs []authz.Request
			for _, g := range in.TransactItems {
				if g.Get != nil {
					reqs = append(reqs, s.tableRequest(ctx, "dynamodb:GetItem", awsproto.Value(g.Get.TableName), ""))
				}
			}
			return dedupRequests(reqs), nil
		}),
		"ExecuteStatement": authz.On(func(ctx context.Context, in *ExecuteStatementInput) ([]authz.Request, error) {
			return s.statementRequests(ctx, []string{awsproto.Value(in.Statement)})
		}),
		"BatchExecuteStatement": authz.On(func(ctx context.Context, in *BatchExecuteStatementInput) ([]authz.Request, error) {
			var stmts []string
			for _, st := range in.Statements {
				stmts = append(stmts, awsproto.Value(st.Statement))
			}
			return s.statementRequests(ctx, stmts)
		}),
		"ExecuteTransaction": authz.On(func(ctx context.Context, in *ExecuteTransactionInput) ([]authz.Request, error) {
			var stmts []string
			for _, st := range in.TransactStatements {
				stmts = append(stmts, awsproto.Value(st.Statement))
			}
			return s.statementRequests(ctx, stmts)
		}),
	}
}

// tableRequest is the request for action on the table a TableName (a name or an ARN) names,
// or on one of its indexes, with the table's tags.
func (s *Service) tableRequest(ctx context.Context, action, nameOrARN, index string) authz.Request {
	k := tableKeyOf(ctx, nameOrARN)
	resource := k.arn()
	if index != "" {
		resource += "/index/" + index
	}
	r := authz.Request{Action: action, Resource: resource, ResourceAccount: k.Account}
	r.Values = authz.Keys{}.WithResourceTags(func() map[string]string {
		t, err := s.readTable(ctx, k)
		if err != nil || t == nil {
			return map[string]string{}
		}
		tags, err := s.tableTags(ctx, t.ID)
		if err != nil {
			s.log.Warn("table tags not read for a policy condition", "table", k.Name, "error", err)
		}
		return tags
	})
	return r
}

// dedupRequests drops repeated requests (a transaction touching one table many times).
func dedupRequests(reqs []authz.Request) []authz.Request {
	var out []authz.Request
	for _, r := range reqs {
		if !slices.ContainsFunc(out, func(o authz.Request) bool { return o.Action == r.Action && o.Resource == r.Resource }) {
			out = append(out, r)
		}
	}
	return out
}

func tagMap(tags []Tag) map[string]string {
	if len(tags) == 0 {
		return nil
	}
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		m[awsproto.Value(t.Key)] = awsproto.Value(t.Value)
	}
	return m
}

// enforcing reports whether calls may address tables of other accounts: in enforce mode,
// where the authorization decided; otherwise another account's table does not exist for a
// caller.
func (s *Service) enforcing() bool { return s.authz.Mode() == authz.Enforce }
