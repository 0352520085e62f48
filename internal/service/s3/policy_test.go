package s3

import (
	"context"
	"errors"
	"testing"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/iam/policy"
	"github.com/kiri-run/kiri/internal/store"
	"github.com/kiri-run/kiri/internal/store/storetest"
)

// testCaller is the caller of a call of account (none: anonymous) as principal arn.
func testCaller(account, arn, userID string) principal {
	return callerPrincipal(awsproto.WithCall(context.Background(), &awsproto.Call{AccountID: account, PrincipalARN: arn, UserID: userID}))
}

// policyCheck is an access check of bucket "b" of account 111111111111 under doc.
func policyCheck(t *testing.T, doc string, caller principal) *accessCheck {
	t.Helper()
	p, err := parseBucketPolicy(nil, doc, "b")
	if err != nil {
		t.Fatal(err)
	}
	return &accessCheck{ctx: context.Background(), b: bucket{Name: "b", Account: "111111111111"}, caller: caller, policy: p}
}

func TestBucketPolicyDecisions(t *testing.T) {
	t.Parallel()
	const doc = `{"Version":"2012-10-17","Statement":[
	 {"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::222222222222:root"]},"Action":"s3:Get*","Resource":"arn:aws:s3:::b/*"},
	 {"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/secret/*"},
	 {"Effect":"Allow","Principal":"*","Action":"s3:ListBucket","Resource":"arn:aws:s3:::b","Condition":{"StringLike":{"s3:prefix":"public/*"}}},
	 {"Effect":"Allow","Principal":{"AWS":"arn:aws:sts::444444444444:assumed-role/app/s1"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::b/*"}]}`
	other := testCaller("222222222222", "arn:aws:iam::222222222222:root", "")
	otherSession := testCaller("222222222222", "arn:aws:sts::222222222222:assumed-role/r/s", "AROAEXAMPLE:s")
	named := testCaller("444444444444", "arn:aws:sts::444444444444:assumed-role/app/s1", "")
	stranger := testCaller("333333333333", "arn:aws:iam::333333333333:root", "")
	anon := testCaller("", "", "")
	cases := []struct {
		name          string
		caller        principal
		action, key   string
		prefix        string
		allowed, deny bool
	}{
		{"named account is allowed by wildcard action", other, "s3:GetObjectTagging", "k", "", true, false},
		{"a session of the named account is allowed", otherSession, "s3:GetObject", "k", "", true, false},
		{"a session named itself is allowed", named, "s3:PutObject", "k", "", true, false},
		{"another session of its account is not", testCaller("444444444444", "arn:aws:sts::444444444444:assumed-role/app/s2", ""), "s3:PutObject", "k", "", false, false},
		{"other account is not named", stranger, "s3:GetObject", "k", "", false, false},
		{"explicit deny wins over allow", other, "s3:GetObject", "secret/k", "", false, true},
		{"anonymous matches star principal", anon, "s3:ListBucket", "", "public/x", true, false},
		{"condition fails outside the prefix", anon, "s3:ListBucket", "", "private/x", false, false},
		{"action outside the statement", other, "s3:PutObject", "k", "", false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var extra map[string][]string
			if c.prefix != "" {
				extra = map[string][]string{"s3:prefix": {c.prefix}}
			}
			allowed, err := policyCheck(t, doc, c.caller).policyAllows(c.action, c.key, extra)
			if allowed != c.allowed || (err != nil) != c.deny {
				t.Fatalf("policyAllows = %v, %v; want %v, deny %v", allowed, err, c.allowed, c.deny)
			}
		})
	}
}

func TestBucketPolicyConditionKeys(t *testing.T) {
	t.Parallel()
	caller := testCaller("222222222222", "arn:aws:iam::222222222222:root", "")
	extra := map[string][]string{"s3:prefix": {"public/a"}, "s3:max-keys": {"10"}}
	cases := []struct {
		name, condition string
		allowed         bool
	}{
		{"string like matches", `{"StringLike":{"s3:prefix":"public/*"}}`, true},
		{"key names ignore case", `{"StringEquals":{"S3:Prefix":"public/a"}}`, true},
		{"numeric less than", `{"NumericLessThan":{"s3:max-keys":"11"}}`, true},
		{"a missing key fails a positive operator", `{"StringEquals":{"s3:delimiter":"/"}}`, false},
		{"a missing key holds with IfExists", `{"StringEqualsIfExists":{"s3:delimiter":"/"}}`, true},
		{"global keys come from the engine", `{"StringEquals":{"aws:PrincipalAccount":"222222222222","aws:PrincipalType":"Account"}}`, true},
		{"no TLS without a request", `{"Bool":{"aws:SecureTransport":"false"}}`, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			doc := `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:ListBucket","Resource":"arn:aws:s3:::b","Condition":` + c.condition + `}]}`
			if allowed, err := policyCheck(t, doc, caller).policyAllows("s3:ListBucket", "", extra); allowed != c.allowed || err != nil {
				t.Fatalf("policyAllows = %v, %v; want %v", allowed, err, c.allowed)
			}
		})
	}
}

func TestParseBucketPolicyRejects(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, doc, msg string }{
		{"not JSON", `not json`, "Policies must be valid JSON and the first byte must be '{'"},
		{"truncated", `{"Statement":[`, "Policies must be valid JSON and the first byte must be '{'"},
		{"a bad version", `{"Version":"2020-01-01","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}]}`, "Invalid policy version"},
		{"no statement", `{"Version":"2012-10-17"}`, "Missing required field Statement"},
		{"a statement that is a string", `{"Statement":"x"}`, "Statement must be an object or a list of objects"},
		{"an empty statement", `{"Statement":[]}`, "Could not parse the policy: Statement is empty!"},
		{"a bad effect", `{"Statement":[{"Effect":"Maybe","Principal":"*","Action":"s3:*","Resource":"*"}]}`, "Invalid effect"},
		{"a missing action", `{"Statement":[{"Effect":"Allow","Principal":"*","Resource":"*"}]}`, "Missing required field Action"},
		{"a missing principal", `{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`, "Missing required field Principal"},
		{"a missing resource", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*"}]}`, "Missing required field Resource"},
		{"an account that is not one", `{"Statement":[{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::1:root"},"Action":"s3:*","Resource":"*"}]}`, "Invalid principal in policy"},
		{"allow with NotPrincipal", `{"Statement":[{"Effect":"Allow","NotPrincipal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"s3:*","Resource":"arn:aws:s3:::b"}]}`, "Allow with NotPrincipal is not supported"},
		{"resource in another bucket", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::other/*"}]}`, "Policy has invalid resource"},
		{"a resource that is no ARN", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"b"}]}`, "Policy has invalid resource"},
		{"non-s3 action", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"sqs:SendMessage","Resource":"arn:aws:s3:::b"}]}`, "Policy has invalid action"},
		{"an action without a service", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"GetObject","Resource":"arn:aws:s3:::b"}]}`, "Policy has invalid action"},
		{"an unknown condition operator", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"StringSorta":{"s3:prefix":"a"}}}]}`, "Syntax errors in policy."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := parseBucketPolicy(nil, c.doc, "b")
			var ae *awsproto.Error
			if !errors.As(err, &ae) || ae.Code != "MalformedPolicy" || ae.Message != c.msg {
				t.Fatalf("parseBucketPolicy = %v, want MalformedPolicy %q", err, c.msg)
			}
		})
	}
	ok := `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Principal":{"AWS":"*"},"NotAction":"s3:*","Resource":"*"}}`
	if _, err := parseBucketPolicy(nil, ok, "b"); err != nil {
		t.Fatalf("single-statement policy refused: %v", err)
	}
}

func TestPolicyPrincipal(t *testing.T) {
	t.Parallel()
	cases := []struct {
		caller principal
		want   policy.Principal
	}{
		{testCaller("", "", ""), policy.Principal{Type: policy.Anonymous}},
		{testCaller("111111111111", "arn:aws:iam::111111111111:root", "111111111111"),
			policy.Principal{Type: policy.Root, Account: "111111111111", ARN: "arn:aws:iam::111111111111:root", UserID: "111111111111", CanonicalID: canonicalID("111111111111")}},
		{testCaller("111111111111", "arn:aws:sts::111111111111:assumed-role/app/s1", "AROAX:s1"),
			policy.Principal{Type: policy.AssumedRole, Account: "111111111111", ARN: "arn:aws:sts::111111111111:assumed-role/app/s1",
				Parent: "arn:aws:iam::111111111111:role/app", UserID: "AROAX:s1", CanonicalID: canonicalID("111111111111")}},
	}
	for _, c := range cases {
		got := c.caller.policy
		if got.Type != c.want.Type || got.Account != c.want.Account || got.ARN != c.want.ARN || got.Parent != c.want.Parent ||
			got.UserID != c.want.UserID || got.CanonicalID != c.want.CanonicalID {
			t.Errorf("policyPrincipal(%+v) = %+v, want %+v", c.caller, got, c.want)
		}
	}
}

func TestBucketPolicyIsPublic(t *testing.T) {
	t.Parallel()
	for doc, public := range map[string]bool{
		`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}`:                                                                      true,
		`{"Statement":[{"Effect":"Allow","Principal":{"AWS":"111111111111"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}`:                                                   false,
		`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{"StringEquals":{"aws:SourceAccount":"111111111111"}}}]}`:    false,
		`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{"StringLike":{"aws:SourceArn":"arn:aws:sns:*:*:*"}}}]}`:     true,
		`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}`:              false,
		`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{"StringNotEquals":{"aws:SourceAccount":"111111111111"}}}]}`: true,
		`{"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}`:                                                                       false,
		`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:ListBucket","Resource":"arn:aws:s3:::b","Condition":{"StringLike":{"s3:prefix":"public/*"}}}]}`:                   true,
	} {
		p, err := parseBucketPolicy(nil, doc, "b")
		if err != nil {
			t.Fatal(err)
		}
		if p.IsPublic() != public {
			t.Errorf("IsPublic(%s) = %v, want %v", doc, !public, public)
		}
	}
}

// A stored policy the engine refuses (put before a stricter check) cannot be evaluated, so
// every account but the owner's is refused rather than let past its denies, even where the
// bucket's ACL would let it in.
func TestUnreadableStoredPolicy(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t, storetest.Backends()[0].Config(t))
	svc, err := New(ctx, testDeps(t, st))
	if err != nil {
		t.Fatal(err)
	}
	publicRead := &aclPolicy{Owner: canonicalID("111111111111"), Grants: []aclGrant{{Type: "Group", URI: groupAllUsers, Permission: "READ"}}}
	if err := st.Write(ctx, func(tx *store.Tx) error {
		if err := svc.putConfig(tx, "bkt", configACL, publicRead); err != nil {
			return err
		}
		return svc.putConfig(tx, "bkt", configPolicy, `{"Statement":[{"Effect":"Deny"}]}`)
	}); err != nil {
		t.Fatal(err)
	}
	b := bucket{Name: "bkt", Account: "111111111111", Configs: configsUnknown}
	q := readQuerier{ctx: ctx, st: st}
	as := func(account string) context.Context {
		return awsproto.WithCall(ctx, &awsproto.Call{AccountID: account, PrincipalARN: "arn:aws:iam::" + account + ":root"})
	}
	if err := svc.decide(as("111111111111"), q, b, "", "", "s3:ListBucket"); err != nil {
		t.Fatalf("owner refused: %v", err)
	}
	if err := svc.decide(as("222222222222"), q, b, "", "", "s3:ListBucket"); bucketErrCode(err) != "AccessDenied" {
		t.Fatalf("another account = %v, want AccessDenied", err)
	}
}
