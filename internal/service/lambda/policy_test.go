package lambda

import (
	"testing"
	"time"

	"github.com/kiri-run/kiri/internal/iam/policy"
)

func TestPolicyStatementRendering(t *testing.T) {
	const res = "arn:aws:lambda:us-east-1:000000000000:function:f"
	cases := []struct {
		name string
		p    permission
		want string
	}{
		{"service principal with source conditions",
			permission{Sid: "s3", Action: "lambda:InvokeFunction", Principal: "s3.amazonaws.com", Resource: res, SourceAccount: "000000000000", SourceArn: "arn:aws:s3:::b"},
			`{"Sid":"s3","Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"lambda:InvokeFunction","Resource":"` + res + `","Condition":{"StringEquals":{"AWS:SourceAccount":"000000000000"},"ArnLike":{"AWS:SourceArn":"arn:aws:s3:::b"}}}`},
		{"account principal becomes its root ARN",
			permission{Sid: "a", Action: "lambda:GetFunction", Principal: "123456789012", Resource: res},
			`{"Sid":"a","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"lambda:GetFunction","Resource":"` + res + `"}`},
		{"everyone with a function URL auth type",
			permission{Sid: "u", Action: "lambda:InvokeFunctionUrl", Principal: "*", Resource: res, FunctionURLAuthType: "NONE"},
			`{"Sid":"u","Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunctionUrl","Resource":"` + res + `","Condition":{"StringEquals":{"lambda:FunctionUrlAuthType":"NONE"}}}`},
		{"IAM ARN principal and invoked via URL",
			permission{Sid: "r", Action: "lambda:InvokeFunction", Principal: "arn:aws:iam::123456789012:role/x", Resource: res, InvokedViaFunctionURL: true},
			`{"Sid":"r","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:role/x"},"Action":"lambda:InvokeFunction","Resource":"` + res + `","Condition":{"Bool":{"lambda:InvokedViaFunctionUrl":"true"}}}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(tc.p.statement()); got != tc.want {
				t.Fatalf("statement:\n got %s\nwant %s", got, tc.want)
			}
		})
	}
	doc := renderPolicy([]permission{cases[1].p})
	if want := `{"Version":"2012-10-17","Id":"default","Statement":[` + cases[1].want + `]}`; doc != want {
		t.Fatalf("policy:\n got %s\nwant %s", doc, want)
	}
}

// TestPermissionAllowsService checks what AddPermission's statements let a service principal
// do, as the policy engine evaluates the function's policy.
func TestPermissionAllowsService(t *testing.T) {
	const s3 = "s3.amazonaws.com"
	const bucket = "arn:aws:s3:::photos"
	fn := funcRef{account: "111122223333", region: "us-east-1", name: "f"}
	base := permission{Sid: "s", Action: "lambda:InvokeFunction", Principal: s3, Resource: fn.arn()}
	with := func(f func(p *permission)) permission { p := base; f(&p); return p }
	cases := []struct {
		name string
		p    permission
		want bool
	}{
		{"service principal without conditions", base, true},
		{"every action", with(func(p *permission) { p.Action = "lambda:*" }), true},
		{"another action", with(func(p *permission) { p.Action = "lambda:GetFunction" }), false},
		{"everyone", with(func(p *permission) { p.Principal = "*" }), true},
		{"another service", with(func(p *permission) { p.Principal = "sqs.amazonaws.com" }), false},
		{"an account is not the service", with(func(p *permission) { p.Principal = "111122223333" }), false},
		{"the bucket", with(func(p *permission) { p.SourceArn = bucket }), true},
		{"a bucket pattern", with(func(p *permission) { p.SourceArn = "arn:aws:s3:::photo?" }), true},
		{"another bucket", with(func(p *permission) { p.SourceArn = "arn:aws:s3:::photos-out" }), false},
		{"the owner", with(func(p *permission) { p.SourceAccount = "111122223333" }), true},
		{"another owner", with(func(p *permission) { p.SourceAccount = "999999999999" }), false},
		{"an event source token S3 cannot send", with(func(p *permission) { p.EventSourceToken = "tok" }), false},
		{"an organization S3 is not in", with(func(p *permission) { p.PrincipalOrgID = "o-abc" }), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := policy.Parse(renderPolicy([]permission{c.p}), policy.Resource)
			if err != nil {
				t.Fatal(err)
			}
			if got := serviceMayInvoke(p, fn, s3, bucket, "111122223333", time.Now()); got != c.want {
				t.Fatalf("serviceMayInvoke = %v, want %v for %+v", got, c.want, c.p)
			}
		})
	}
}
