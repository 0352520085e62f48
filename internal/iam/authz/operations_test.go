package authz

import (
	"context"
	"errors"
	"testing"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/iam/policy"
)

type sendInput struct{ Queue string }

// errRefused stands for a service's access-denied error.
type errRefused struct{ d *Denied }

func (e errRefused) Error() string { return e.d.Message }

func TestHook(t *testing.T) {
	t.Parallel()
	ops := Operations{
		"SendMessage": On(func(ctx context.Context, in *sendInput) ([]Request, error) {
			if in.Queue == "" {
				return nil, errors.New("QueueUrl is missing")
			}
			return []Request{{Action: "sqs:SendMessage", Resource: in.Queue, ResourceAccount: "111111111111"}}, nil
		}),
		"Handled": func(context.Context, any) ([]Request, error) { return nil, nil },
	}
	refuse := func(d *Denied) error { return errRefused{d} }
	iam := fakeIAM{aliceARN: {allowSend}}
	hook := New(Enforce, func() Identities { return iam }, nil).Hook("sqs", ops, refuse)
	alice := awsproto.WithCall(context.Background(), &awsproto.Call{AccountID: "111111111111", PrincipalARN: aliceARN})
	other := awsproto.WithCall(context.Background(), &awsproto.Call{AccountID: "222222222222"})
	cases := []struct {
		name, op string
		ctx      context.Context
		in       any
		refused  bool
		err      string
	}{
		{"a rule's requests allowed", "SendMessage", alice, &sendInput{Queue: queueARN}, false, ""},
		{"a rule's requests denied", "SendMessage", other, &sendInput{Queue: queueARN}, true, ""},
		{"a rule's own refusal of its input", "SendMessage", alice, &sendInput{}, false, "QueueUrl is missing"},
		{"an operation its handler decides", "Handled", other, &sendInput{}, false, ""},
		{"an operation without a rule", "PurgeQueue", alice, &sendInput{}, true, ""},
		{"Kiri's own work, without a call", "PurgeQueue", context.Background(), &sendInput{}, false, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := hook(c.ctx, c.op, c.in)
			var r errRefused
			if refused := errors.As(err, &r); refused != c.refused {
				t.Fatalf("refused = %v (%v), want %v", refused, err, c.refused)
			}
			if !c.refused && (err == nil) != (c.err == "") || err != nil && c.err != "" && err.Error() != c.err {
				t.Fatalf("err = %v, want %q", err, c.err)
			}
		})
	}
	if err := New(Off, nil, nil).Hook("sqs", ops, refuse)(other, "PurgeQueue", &sendInput{}); err != nil {
		t.Fatalf("mode off refused an operation without a rule: %v", err)
	}
}

func TestAuthorizeRoleAndService(t *testing.T) {
	t.Parallel()
	iam := fakeIAM{roleARN: {allowSend}}
	a := New(Enforce, func() Identities { return iam }, nil)
	ctx := context.Background()
	send := Request{Action: "sqs:SendMessage", Resource: queueARN, ResourceAccount: "111111111111"}
	if err := a.AuthorizeRole(ctx, roleARN, "fn", send); err != nil {
		t.Fatalf("a role allowed by its policy: %v", err)
	}
	recv := send
	recv.Action = "sqs:ReceiveMessage"
	err := a.AuthorizeRole(ctx, roleARN, "fn", recv)
	d, ok := IsDenied(err)
	if want := "User: arn:aws:sts::111111111111:assumed-role/worker/fn is not authorized to perform: sqs:ReceiveMessage on resource: " +
		queueARN + " because no identity-based policy allows the sqs:ReceiveMessage action"; !ok || d.Message != want {
		t.Fatalf("a role its policy does not allow: %v\nwant %s", err, want)
	}
	if err := a.AuthorizeService(ctx, "s3.amazonaws.com", "arn:aws:s3:::b", "111111111111", send); err == nil {
		t.Fatal("a service principal without a resource policy was allowed")
	}
	send.ResourcePolicy = mustParse(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},`+
		`"Action":"sqs:SendMessage","Resource":"`+queueARN+`","Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:s3:::b"}}}]}`, policy.Resource)
	if err := a.AuthorizeService(ctx, "s3.amazonaws.com", "arn:aws:s3:::b", "111111111111", send); err != nil {
		t.Fatalf("a service principal the queue policy grants: %v", err)
	}
	if err := a.AuthorizeService(ctx, "s3.amazonaws.com", "arn:aws:s3:::c", "111111111111", send); err == nil {
		t.Fatal("a service principal for another source was allowed")
	}
	if err := New(Off, nil, nil).AuthorizeRole(ctx, "arn:aws:iam::1:role/none", "", recv); err != nil {
		t.Fatalf("mode off: %v", err)
	}
}

// TestWithoutIAM checks the interim rule while no IAM service runs: users and role sessions
// have their account's rights, which session policies still narrow and which do not reach
// another account's resources.
func TestWithoutIAM(t *testing.T) {
	t.Parallel()
	a := New(Enforce, nil, nil)
	session := &awsproto.Call{AccountID: "111111111111", PrincipalARN: "arn:aws:sts::111111111111:assumed-role/worker/s1"}
	recv := Request{Action: "sqs:ReceiveMessage", Resource: queueARN, ResourceAccount: "111111111111"}
	if err := a.Authorize(awsproto.WithCall(context.Background(), session), recv); err != nil {
		t.Fatalf("a session in its account: %v", err)
	}
	narrowed := *session
	narrowed.SessionPolicies = []string{allowSend}
	if err := a.Authorize(awsproto.WithCall(context.Background(), &narrowed), recv); err == nil {
		t.Fatal("a session policy did not narrow the session")
	}
	recv.ResourceAccount = "222222222222"
	if err := a.Authorize(awsproto.WithCall(context.Background(), session), recv); err == nil {
		t.Fatal("a session reached another account's resource without its policy")
	}
}

func TestKeys(t *testing.T) {
	t.Parallel()
	loads := 0
	k := Keys{RequestTags: map[string]string{"team": "a", "env": "dev"}, Service: map[string][]string{"sns:protocol": {"sqs"}}}.
		WithResourceTags(func() map[string]string { loads++; return map[string]string{"owner": "ops"} })
	for _, c := range []struct {
		key  string
		want []string
	}{
		{"aws:ResourceTag/owner", []string{"ops"}},
		{"AWS:ResourceTag/owner", []string{"ops"}},
		{"aws:RequestTag/team", []string{"a"}},
		{"aws:TagKeys", []string{"env", "team"}},
		{"sns:Protocol", []string{"sqs"}},
		{"aws:ResourceTag/none", nil},
	} {
		got, ok := k.Value(c.key)
		if ok != (c.want != nil) || len(got) != len(c.want) || len(got) > 0 && got[0] != c.want[0] {
			t.Errorf("Value(%q) = %v, %v; want %v", c.key, got, ok, c.want)
		}
	}
	if loads != 1 {
		t.Errorf("resource tags loaded %d times, want once", loads)
	}
}
