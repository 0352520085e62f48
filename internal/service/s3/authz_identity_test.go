package s3

import (
	"context"
	"net/http"
	"testing"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/iam/authz"
	"github.com/kiri-run/kiri/internal/iam/policy"
	"github.com/kiri-run/kiri/internal/store/storetest"
)

// users attaches identity-based policies to users by ARN, as IAM will.
type users map[string]string

func (u users) IdentityPolicies(_ context.Context, p policy.Principal) ([]*policy.Policy, *policy.Policy, error) {
	doc, ok := u[p.ARN]
	if !ok {
		return nil, nil, nil
	}
	pol, err := policy.Parse(doc, policy.Identity)
	return []*policy.Policy{pol}, nil, err
}

// TestEnforceModeUsesIdentityPolicies checks S3's decisions in enforce mode, where IAM users
// have what their identity-based policies allow instead of their account's full rights: in
// their own account's bucket, and in another account's bucket whose policy grants their
// account, which needs both.
func TestEnforceModeUsesIdentityPolicies(t *testing.T) {
	t.Parallel()
	const (
		owner  = "111111111111"
		other  = "222222222222"
		reader = "arn:aws:iam::111111111111:user/reader"
		nobody = "arn:aws:iam::111111111111:user/nobody"
		guest  = "arn:aws:iam::222222222222:user/guest"
		denied = "arn:aws:iam::222222222222:user/denied"
	)
	d := testDeps(t, storetest.Open(t, storetest.SQLiteConfig(t)))
	d.Authz = authz.New(authz.Enforce, func() authz.Identities {
		return users{
			reader: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":"*"}]}`,
			guest:  `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::shared*"}]}`,
			denied: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"},` +
				`{"Effect":"Deny","Action":"s3:GetObject","Resource":"*"}]}`,
		}
	}, nil)
	s, err := New(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	as := func(account, arn string) context.Context {
		return awsproto.WithCall(context.Background(), &awsproto.Call{AccountID: account, PrincipalARN: arn, Region: "us-east-1",
			Operation: "GetObject", ResponseHeader: http.Header{}})
	}
	root := as(owner, "")
	if _, err := s.createBucket(root, &CreateBucketRequest{Bucket: awsproto.Ptr("shared")}); err != nil {
		t.Fatal(err)
	}
	grant := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + other + `"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::shared/*"}]}`
	if _, err := s.putBucketPolicy(root, &PutBucketPolicyRequest{Bucket: awsproto.Ptr("shared"), Policy: &grant}); err != nil {
		t.Fatal(err)
	}
	b, err := loadBucket(s.reader(root), "shared")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, account, arn, action string
		allowed                    bool
	}{
		{"the owner's root", owner, "", "s3:PutObject", true},
		{"a user of the owner's account its policy allows", owner, reader, "s3:GetObject", true},
		{"that user for an action its policy does not allow", owner, reader, "s3:PutObject", false},
		{"a user of the owner's account without policies", owner, nobody, "s3:GetObject", false},
		{"another account's root the bucket policy grants", other, "", "s3:GetObject", true},
		{"a user of that account whose policy allows it too", other, guest, "s3:GetObject", true},
		{"a user of that account whose policy denies it", other, denied, "s3:GetObject", false},
		{"a user of that account for what the bucket does not grant", other, guest, "s3:PutObject", false},
	} {
		err := s.decide(as(c.account, c.arn), s.reader(root), b, "k", "", c.action)
		if (err == nil) != c.allowed {
			t.Errorf("%s: %v, want allowed = %v", c.name, err, c.allowed)
		}
	}
}
