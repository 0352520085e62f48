package authz

import (
	"context"
	"testing"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/iam/policy"
)

// fakeIAM attaches policies to principals by ARN (a session's by its role).
type fakeIAM map[string][]string

func (f fakeIAM) IdentityPolicies(_ context.Context, p policy.Principal) ([]*policy.Policy, *policy.Policy, error) {
	key := p.ARN
	if p.Parent != "" {
		key = p.Parent
	}
	var out []*policy.Policy
	for _, doc := range f[key] {
		pol, err := policy.Parse(doc, policy.Identity)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, pol)
	}
	return out, nil, nil
}

func mustParse(t *testing.T, doc string, kind policy.Kind) *policy.Policy {
	t.Helper()
	p, err := policy.Parse(doc, kind)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

const (
	queueARN   = "arn:aws:sqs:us-east-1:111111111111:orders"
	allowSend  = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sqs:SendMessage","Resource":"*"}]}`
	allowAll   = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
	aliceARN   = "arn:aws:iam::111111111111:user/alice"
	roleARN    = "arn:aws:iam::111111111111:role/app/worker"
	sessionARN = "arn:aws:sts::111111111111:assumed-role/worker/s1"
)

func TestAuthorize(t *testing.T) {
	t.Parallel()
	iam := fakeIAM{aliceARN: {allowSend}, roleARN: {allowAll}}
	a := New(Enforce, func() Identities { return iam }, nil)
	grantOther := mustParse(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"222222222222"},"Action":"sqs:SendMessage","Resource":"`+queueARN+`"}]}`, policy.Resource)
	send := Request{Action: "sqs:SendMessage", Resource: queueARN, ResourceAccount: "111111111111"}
	recv := Request{Action: "sqs:ReceiveMessage", Resource: queueARN, ResourceAccount: "111111111111"}
	withPolicy := func(r Request, p *policy.Policy) Request { r.ResourcePolicy = p; return r }
	cases := []struct {
		name    string
		call    *awsproto.Call
		req     Request
		allowed bool
		message string
	}{
		{"the root of the resource's account", &awsproto.Call{AccountID: "111111111111"}, recv, true, ""},
		{"a user whose policy allows the action", &awsproto.Call{AccountID: "111111111111", PrincipalARN: aliceARN}, send, true, ""},
		{"a user whose policy does not", &awsproto.Call{AccountID: "111111111111", PrincipalARN: aliceARN}, recv, false,
			"User: " + aliceARN + " is not authorized to perform: sqs:ReceiveMessage on resource: " + queueARN + " because no identity-based policy allows the sqs:ReceiveMessage action"},
		{"a role session gets its role's policies", &awsproto.Call{AccountID: "111111111111", PrincipalARN: sessionARN, ParentARN: roleARN}, recv, true, ""},
		{"a session policy narrows its role", &awsproto.Call{AccountID: "111111111111", PrincipalARN: sessionARN, ParentARN: roleARN,
			SessionPolicies: []string{allowSend}}, recv, false, ""},
		{"another account's root without a grant", &awsproto.Call{AccountID: "222222222222"}, send, false, ""},
		{"another account's root with a grant", &awsproto.Call{AccountID: "222222222222"}, withPolicy(send, grantOther), true, ""},
		{"an unsigned call", &awsproto.Call{}, send, false, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := a.Authorize(awsproto.WithCall(context.Background(), c.call), c.req)
			d, denied := IsDenied(err)
			if err != nil && !denied {
				t.Fatal(err)
			}
			if denied == c.allowed {
				t.Fatalf("denied = %v (%v), want allowed = %v", denied, err, c.allowed)
			}
			if c.message != "" && d.Message != c.message {
				t.Errorf("message %q\nwant    %q", d.Message, c.message)
			}
		})
	}
}

func TestAuthorizeOffAllows(t *testing.T) {
	t.Parallel()
	a := New(Off, nil, nil)
	ctx := awsproto.WithCall(context.Background(), &awsproto.Call{AccountID: "222222222222"})
	if err := a.Authorize(ctx, Request{Action: "sqs:SendMessage", Resource: queueARN, ResourceAccount: "111111111111"}); err != nil {
		t.Fatalf("mode off: %v", err)
	}
	var none *Authorizer
	if err := none.Authorize(ctx, Request{Action: "sqs:SendMessage"}); err != nil || none.Mode() != Off {
		t.Fatalf("a nil Authorizer: %v, mode %q", err, none.Mode())
	}
}

func TestPrincipal(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		call *awsproto.Call
		want policy.PrincipalType
		arn  string
	}{
		{&awsproto.Call{}, policy.Anonymous, ""},
		{&awsproto.Call{AccountID: "1"}, policy.Root, "arn:aws:iam::1:root"},
		{&awsproto.Call{AccountID: "1", PrincipalARN: aliceARN}, policy.User, aliceARN},
		{&awsproto.Call{AccountID: "1", PrincipalARN: sessionARN, ParentARN: roleARN}, policy.AssumedRole, sessionARN},
	} {
		p := Principal(c.call)
		if p.Type != c.want || p.ARN != c.arn {
			t.Errorf("Principal(%+v) = %v %q, want %v %q", c.call, p.Type, p.ARN, c.want, c.arn)
		}
	}
	// A session whose call does not carry its role names the role without its path.
	if p := Principal(&awsproto.Call{AccountID: "111111111111", PrincipalARN: sessionARN}); p.Parent != "arn:aws:iam::111111111111:role/worker" {
		t.Errorf("a session's role = %q", p.Parent)
	}
}
