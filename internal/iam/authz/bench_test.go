package authz

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/iam/policy"
)

// parsedIAM answers every principal with the same parsed policies, as IAM's cache does.
type parsedIAM []*policy.Policy

func (p parsedIAM) IdentityPolicies(context.Context, policy.Principal) ([]*policy.Policy, *policy.Policy, error) {
	return p, nil, nil
}

// BenchmarkAuthorize is the authorizer's whole cost for one S3 GET by a user with 10 attached
// policies of 20 statements each (the request context, the caller's policies and the
// decision); the statement that allows it is the last but one of the last policy.
func BenchmarkAuthorize(b *testing.B) {
	services := []string{"s3", "sqs", "sns", "lambda", "logs"}
	var ids parsedIAM
	for i := range 10 {
		var stmts []string
		for j := range 20 {
			svc := services[(i+j)%len(services)]
			cond := ""
			if j%3 == 0 {
				cond = `,"Condition":{"StringEquals":{"aws:PrincipalTag/team":"team-` + fmt.Sprint(j) + `"},"IpAddress":{"aws:SourceIp":["10.0.0.0/8","192.168.0.0/16"]}}`
			}
			resource := fmt.Sprintf("arn:aws:%s:us-east-1:111111111111:res-%d-%d", svc, i, j)
			if svc == "s3" {
				resource = fmt.Sprintf("arn:aws:s3:::bucket-%d-%d/*", i, j)
			}
			stmts = append(stmts, fmt.Sprintf(`{"Effect":"Allow","Action":["%s:Get*","%s:Tag%d"],"Resource":"%s"%s}`, svc, svc, j, resource, cond))
		}
		if i == 9 {
			stmts[18] = `{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::data/*","Condition":{"IpAddress":{"aws:SourceIp":"127.0.0.0/8"}}}`
		}
		p, err := policy.Parse(`{"Version":"2012-10-17","Statement":[`+strings.Join(stmts, ",")+`]}`, policy.Identity)
		if err != nil {
			b.Fatal(err)
		}
		ids = append(ids, p)
	}
	a := New(Enforce, func() Identities { return ids }, nil)
	hr := httptest.NewRequest("GET", "/data/k", nil)
	hr.RemoteAddr = "127.0.0.1:50000"
	ctx := awsproto.WithCall(context.Background(), &awsproto.Call{AccountID: "111111111111", PrincipalARN: aliceARN, Region: "us-east-1", Request: hr})
	r := Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::data/k", ResourceAccount: "111111111111"}
	if err := a.Authorize(ctx, r); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := a.Authorize(ctx, r); err != nil {
			b.Fatal(err)
		}
	}
}
