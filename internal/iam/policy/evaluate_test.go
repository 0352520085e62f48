package policy

import (
	"net/netip"
	"testing"
	"time"
)

func mustParse(t testing.TB, doc string, kind Kind) *Policy {
	t.Helper()
	p, err := Parse(doc, kind)
	if err != nil {
		t.Fatalf("Parse(%s): %v", doc, err)
	}
	return p
}

func user(account, name string) Principal {
	return Principal{Type: User, Account: account, ARN: "arn:aws:iam::" + account + ":user/" + name, UserID: "AIDA" + account + "USER"}
}

func roleSession(account, role, session string) Principal {
	return Principal{Type: AssumedRole, Account: account,
		ARN:    "arn:aws:sts::" + account + ":assumed-role/" + role + "/" + session,
		Parent: "arn:aws:iam::" + account + ":role/" + role, UserID: "AROA" + account + "ROLE:" + session,
		TokenIssueTime: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func federated(account, name, parentUser string) Principal {
	return Principal{Type: FederatedUser, Account: account,
		ARN: "arn:aws:sts::" + account + ":federated-user/" + name, Parent: "arn:aws:iam::" + account + ":user/" + parentUser,
		UserID: account + ":" + name, TokenIssueTime: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func root(account string) Principal {
	return Principal{Type: Root, Account: account, ARN: "arn:aws:iam::" + account + ":root", UserID: account}
}

// evalCase is one request against one set of policies and the decision AWS documents.
type evalCase struct {
	name     string
	req      Request
	set      Set
	allowed  bool
	explicit bool
	typ      PolicyType
}

func runEvalCases(t *testing.T, cases []evalCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			d := Evaluate(&c.req, &c.set)
			if d.Allowed != c.allowed || d.Explicit != c.explicit || d.Type != c.typ {
				t.Fatalf("Evaluate = allowed %v explicit %v type %v, want allowed %v explicit %v type %v",
					d.Allowed, d.Explicit, d.Type, c.allowed, c.explicit, c.typ)
			}
			if d.Policy != nil && (d.Statement < 0 || d.Statement >= len(d.Policy.Statements)) {
				t.Fatalf("decision names statement %d of %d", d.Statement, len(d.Policy.Statements))
			}
		})
	}
}

// The example of "Policy evaluation logic": Carlos, his user policy and his bucket's policy,
// all in account 123456789012.
func TestEvaluateSameAccount(t *testing.T) {
	t.Parallel()
	const acct = "123456789012"
	carlosPolicy := mustParse(t, stmt(
		`{"Sid":"AllowS3ListRead","Effect":"Allow","Action":["s3:GetBucketLocation","s3:GetAccountPublicAccessBlock","s3:ListAccessPoints","s3:ListAllMyBuckets"],"Resource":"arn:aws:s3:::*"}`,
		`{"Sid":"AllowS3Self","Effect":"Allow","Action":"s3:*","Resource":["arn:aws:s3:::carlossalazar/*","arn:aws:s3:::carlossalazar"]}`,
		`{"Sid":"DenyS3Logs","Effect":"Deny","Action":"s3:*","Resource":"arn:aws:s3:::*log*"}`), Identity)
	bucketPolicy := mustParse(t, stmt(
		`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/carlossalazar"},"Action":"s3:*","Resource":["arn:aws:s3:::carlossalazar/*","arn:aws:s3:::carlossalazar"]}`), Resource)
	carlos := user(acct, "carlossalazar")
	req := func(p Principal, action, resource string) Request {
		return Request{Principal: p, Action: action, Resource: resource, ResourceAccount: acct}
	}
	runEvalCases(t, []evalCase{
		{"an explicit deny in the user's policy refuses the logs bucket",
			req(carlos, "s3:ListBucket", "arn:aws:s3:::carlossalazar-logs"), Set{Identity: []*Policy{carlosPolicy}}, false, true, IdentityBased},
		{"both policies allow his own bucket",
			req(carlos, "s3:PutObject", "arn:aws:s3:::carlossalazar/file"), Set{Identity: []*Policy{carlosPolicy}, Resource: bucketPolicy}, true, false, ResourceBased},
		{"the bucket policy alone allows the user it names",
			req(carlos, "s3:PutObject", "arn:aws:s3:::carlossalazar/file"), Set{Resource: bucketPolicy}, true, false, ResourceBased},
		{"the identity policy alone allows",
			req(carlos, "s3:ListAllMyBuckets", "arn:aws:s3:::carlossalazar"), Set{Identity: []*Policy{carlosPolicy}}, true, false, IdentityBased},
		{"actions are compared ignoring case",
			req(carlos, "S3:LISTALLMYBUCKETS", "arn:aws:s3:::carlossalazar"), Set{Identity: []*Policy{carlosPolicy}}, true, false, IdentityBased},
		{"resources are compared with case",
			req(carlos, "s3:GetObject", "arn:aws:s3:::CarlosSalazar/file"), Set{Identity: []*Policy{carlosPolicy}}, false, false, IdentityBased},
		{"a user neither policy names is implicitly denied",
			req(user(acct, "bob"), "s3:GetObject", "arn:aws:s3:::carlossalazar/file"), Set{Resource: bucketPolicy}, false, false, IdentityBased},
	})
}

// The example of "Cross-account policy evaluation logic": Carlos in 111111111111 and the
// Production bucket in 222222222222.
func TestEvaluateCrossAccount(t *testing.T) {
	t.Parallel()
	carlosPolicy := mustParse(t, stmt(
		`{"Sid":"AllowS3ListRead","Effect":"Allow","Action":"s3:ListAllMyBuckets","Resource":"*"}`,
		`{"Sid":"AllowS3ProductionObjectActions","Effect":"Allow","Action":"s3:*Object*","Resource":"arn:aws:s3:::Production/*"}`,
		`{"Sid":"DenyS3Logs","Effect":"Deny","Action":"s3:*","Resource":["arn:aws:s3:::*log*","arn:aws:s3:::*log*/*"]}`), Identity)
	production := mustParse(t, stmt(
		`{"Effect":"Allow","Action":["s3:GetObject*","s3:PutObject*","s3:ReplicateObject","s3:RestoreObject"],"Principal":{"AWS":"arn:aws:iam::111111111111:user/carlossalazar"},"Resource":"arn:aws:s3:::Production/*"}`), Resource)
	toAccount := mustParse(t, stmt(
		`{"Effect":"Allow","Action":"s3:GetObject","Principal":{"AWS":"111111111111"},"Resource":"arn:aws:s3:::Production/*"}`), Resource)
	carlos := user("111111111111", "carlossalazar")
	req := func(p Principal, action, resource string) Request {
		return Request{Principal: p, Action: action, Resource: resource, ResourceAccount: "222222222222"}
	}
	runEvalCases(t, []evalCase{
		{"the trusted account's explicit deny refuses the logs bucket",
			req(carlos, "s3:PutObject", "arn:aws:s3:::Production-logs/f"), Set{Identity: []*Policy{carlosPolicy}}, false, true, IdentityBased},
		{"both accounts allow the Production bucket",
			req(carlos, "s3:PutObject", "arn:aws:s3:::Production/f"), Set{Identity: []*Policy{carlosPolicy}, Resource: production}, true, false, IdentityBased},
		{"the resource policy must allow too",
			req(carlos, "s3:DeleteObject", "arn:aws:s3:::Production/f"), Set{Identity: []*Policy{carlosPolicy}, Resource: production}, false, false, ResourceBased},
		{"no resource policy at all",
			req(carlos, "s3:GetObject", "arn:aws:s3:::Production/f"), Set{Identity: []*Policy{carlosPolicy}}, false, false, ResourceBased},
		{"the identity policy must allow too, even for a user the resource policy names",
			req(carlos, "s3:GetObject", "arn:aws:s3:::Production/f"), Set{Resource: production}, false, false, IdentityBased},
		{"an account named delegates to its identity policies",
			req(carlos, "s3:GetObject", "arn:aws:s3:::Production/f"), Set{Identity: []*Policy{carlosPolicy}, Resource: toAccount}, true, false, IdentityBased},
		{"the root of a named account needs no identity policy",
			req(root("111111111111"), "s3:GetObject", "arn:aws:s3:::Production/f"), Set{Resource: toAccount}, true, false, ResourceBased},
		{"the root of another account is not named",
			req(root("333333333333"), "s3:GetObject", "arn:aws:s3:::Production/f"), Set{Resource: toAccount}, false, false, ResourceBased},
	})
}

func TestEvaluateBoundariesAndSessions(t *testing.T) {
	t.Parallel()
	const acct = "111122223333"
	const bucket = "arn:aws:s3:::b/k"
	s3All := mustParse(t, stmt(`{"Effect":"Allow","Action":"s3:*","Resource":"*"}`), Identity)
	getOnly := mustParse(t, stmt(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}`), Identity)
	stsOnly := mustParse(t, stmt(`{"Effect":"Allow","Action":"sts:GetCallerIdentity","Resource":"*"}`), Identity)
	denyGet := mustParse(t, stmt(`{"Effect":"Allow","Action":"*","Resource":"*"}`, `{"Effect":"Deny","Action":"s3:GetObject","Resource":"*"}`), Identity)
	grant := func(principal string) *Policy {
		return mustParse(t, stmt(`{"Effect":"Allow","Principal":{"AWS":"`+principal+`"},"Action":"s3:*","Resource":"arn:aws:s3:::b/*"}`), Resource)
	}
	public := mustParse(t, stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::b/*"}`), Resource)
	alice := user(acct, "alice")
	app := roleSession(acct, "app", "s1")
	fed := federated(acct, "fed", "alice")
	req := func(p Principal, action string) Request {
		return Request{Principal: p, Action: action, Resource: bucket, ResourceAccount: acct}
	}
	runEvalCases(t, []evalCase{
		{"a boundary limits what identity policies allow",
			req(alice, "s3:PutObject"), Set{Identity: []*Policy{s3All}, Boundary: getOnly}, false, false, PermissionsBoundary},
		{"within the boundary",
			req(alice, "s3:GetObject"), Set{Identity: []*Policy{s3All}, Boundary: getOnly}, true, false, IdentityBased},
		{"a boundary grants nothing on its own",
			req(alice, "s3:GetObject"), Set{Boundary: getOnly}, false, false, IdentityBased},
		{"an explicit deny in a boundary",
			req(alice, "s3:GetObject"), Set{Identity: []*Policy{s3All}, Boundary: denyGet}, false, true, PermissionsBoundary},
		{"a resource policy naming the user is not limited by its boundary",
			req(alice, "s3:GetObject"), Set{Resource: grant(alice.ARN), Boundary: stsOnly}, true, false, ResourceBased},
		{"a resource policy naming the role is limited by the boundary",
			req(app, "s3:GetObject"), Set{Resource: grant(app.Parent), Boundary: stsOnly}, false, false, PermissionsBoundary},
		{"a resource policy naming the role needs no identity policy",
			req(app, "s3:GetObject"), Set{Resource: grant(app.Parent)}, true, false, ResourceBased},
		{"a resource policy naming the role by unique id",
			req(app, "s3:GetObject"), Set{Resource: grant("AROA" + acct + "ROLE")}, true, false, ResourceBased},
		{"a resource policy naming the session is not limited by the boundary",
			req(app, "s3:GetObject"), Set{Resource: grant(app.ARN), Boundary: stsOnly}, true, false, ResourceBased},
		{"a resource policy naming everyone is not limited by the boundary",
			req(app, "s3:GetObject"), Set{Resource: public, Boundary: stsOnly}, true, false, ResourceBased},
		{"a resource policy naming the account delegates to identity policies",
			req(alice, "s3:GetObject"), Set{Resource: grant(acct)}, false, false, IdentityBased},
		{"session policies limit the role's policies",
			req(app, "s3:PutObject"), Set{Identity: []*Policy{s3All}, Session: []*Policy{getOnly}}, false, false, SessionPolicy},
		{"within the session policies",
			req(app, "s3:GetObject"), Set{Identity: []*Policy{s3All}, Session: []*Policy{getOnly}}, true, false, IdentityBased},
		{"session policies grant nothing the role's policies do not",
			req(app, "s3:GetObject"), Set{Identity: []*Policy{stsOnly}, Session: []*Policy{getOnly}}, false, false, IdentityBased},
		{"any one session policy allowing is enough",
			req(app, "s3:GetObject"), Set{Identity: []*Policy{s3All}, Session: []*Policy{stsOnly, getOnly}}, true, false, IdentityBased},
		{"an explicit deny in a session policy",
			req(app, "s3:GetObject"), Set{Identity: []*Policy{s3All}, Session: []*Policy{denyGet}}, false, true, SessionPolicy},
		{"a resource policy naming the role is limited by session policies",
			req(app, "s3:PutObject"), Set{Resource: grant(app.Parent), Session: []*Policy{getOnly}}, false, false, SessionPolicy},
		{"a resource policy naming the session is not limited by session policies",
			req(app, "s3:PutObject"), Set{Resource: grant(app.ARN), Session: []*Policy{getOnly}}, true, false, ResourceBased},
		{"a federated user without session policies has no permissions",
			req(fed, "s3:GetObject"), Set{Identity: []*Policy{s3All}}, false, false, SessionPolicy},
		{"a federated user has what its user and session policies both allow",
			req(fed, "s3:GetObject"), Set{Identity: []*Policy{s3All}, Session: []*Policy{getOnly}}, true, false, IdentityBased},
		{"a resource policy naming the federated user",
			req(fed, "s3:GetObject"), Set{Resource: grant(fed.ARN)}, true, false, ResourceBased},
		{"a resource policy naming the federating user is limited by session policies",
			req(fed, "s3:GetObject"), Set{Resource: grant(fed.Parent)}, false, false, SessionPolicy},
		{"an explicit deny in the resource policy beats every allow",
			req(app, "s3:GetObject"), Set{Identity: []*Policy{s3All}, Resource: mustParse(t, stmt(`{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"*"}`), Resource)}, false, true, ResourceBased},
	})
}

func TestEvaluateRootAnonymousAndServices(t *testing.T) {
	t.Parallel()
	const acct = "111122223333"
	denyGet := mustParse(t, stmt(`{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/secret/*"}`), Resource)
	public := mustParse(t, stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}`), Resource)
	publicAWS := mustParse(t, stmt(`{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}`), Resource)
	queuePolicy := mustParse(t, stmt(`{"Effect":"Allow","Principal":{"Service":"sns.amazonaws.com"},"Action":"sqs:SendMessage","Resource":"arn:aws:sqs:us-east-1:111122223333:q",
		"Condition":{"ArnEquals":{"aws:SourceArn":"arn:aws:sns:us-east-1:111122223333:topic"}}}`), Resource)
	everything := mustParse(t, stmt(`{"Effect":"Allow","Action":"*","Resource":"*"}`), Identity)
	sns := Principal{Type: Service, ARN: "sns.amazonaws.com"}
	anon := Principal{Type: Anonymous}
	send := func(source string) Request {
		return Request{Principal: sns, Action: "sqs:SendMessage", Resource: "arn:aws:sqs:us-east-1:111122223333:q", ResourceAccount: acct, SourceARN: source}
	}
	get := func(p Principal, key string) Request {
		return Request{Principal: p, Action: "s3:GetObject", Resource: "arn:aws:s3:::b/" + key, ResourceAccount: acct}
	}
	runEvalCases(t, []evalCase{
		{"the root user needs no policy in its account", get(root(acct), "k"), Set{}, true, false, 0},
		{"a resource policy's deny binds the root user", get(root(acct), "secret/k"), Set{Resource: denyGet}, false, true, ResourceBased},
		{"anonymous callers get what * allows", get(anon, "k"), Set{Resource: public}, true, false, ResourceBased},
		{"AWS * means everyone too", get(anon, "k"), Set{Resource: publicAWS}, true, false, ResourceBased},
		{"anonymous callers get nothing else", get(anon, "k"), Set{Resource: denyGet}, false, false, ResourceBased},
		{"anonymous callers have no identity policies", get(anon, "k"), Set{Identity: []*Policy{everything}}, false, false, ResourceBased},
		{"a service principal for the named topic", send("arn:aws:sns:us-east-1:111122223333:topic"), Set{Resource: queuePolicy}, true, false, ResourceBased},
		{"a service principal for another topic", send("arn:aws:sns:us-east-1:111122223333:other"), Set{Resource: queuePolicy}, false, false, ResourceBased},
		{"a service principal without a source", send(""), Set{Resource: queuePolicy}, false, false, ResourceBased},
		{"identity policies never allow a service principal", send("arn:aws:sns:us-east-1:111122223333:topic"), Set{Identity: []*Policy{everything}}, false, false, ResourceBased},
		{"another service principal", Request{Principal: Principal{Type: Service, ARN: "s3.amazonaws.com"}, Action: "sqs:SendMessage",
			Resource: "arn:aws:sqs:us-east-1:111122223333:q", SourceARN: "arn:aws:sns:us-east-1:111122223333:topic"}, Set{Resource: queuePolicy}, false, false, ResourceBased},
	})
}

func TestEvaluateTrustPolicies(t *testing.T) {
	t.Parallel()
	const acct = "111122223333"
	trustUser := mustParse(t, stmt(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/alice"},"Action":"sts:AssumeRole"}`), Trust)
	trustAccount := mustParse(t, stmt(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"sts:AssumeRole"}`), Trust)
	trustLambda := mustParse(t, stmt(`{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}`), Trust)
	admin := mustParse(t, stmt(`{"Effect":"Allow","Action":"*","Resource":"*"}`), Identity)
	assume := func(p Principal) Request {
		return Request{Principal: p, Action: "sts:AssumeRole", Resource: "arn:aws:iam::111122223333:role/r", ResourceAccount: acct}
	}
	runEvalCases(t, []evalCase{
		{"a trust policy naming the user is enough", assume(user(acct, "alice")), Set{Resource: trustUser}, true, false, RoleTrust},
		{"an administrator the trust policy does not name", assume(user(acct, "bob")), Set{Identity: []*Policy{admin}, Resource: trustLambda}, false, false, RoleTrust},
		{"a trust policy naming the account needs an identity policy", assume(user(acct, "bob")), Set{Resource: trustAccount}, false, false, IdentityBased},
		{"the account named and an identity policy", assume(user(acct, "bob")), Set{Identity: []*Policy{admin}, Resource: trustAccount}, true, false, IdentityBased},
		{"the service named", assume(Principal{Type: Service, ARN: "lambda.amazonaws.com"}), Set{Resource: trustLambda}, true, false, RoleTrust},
	})
}

// The pitfalls AWS documents for NotAction, NotResource and NotPrincipal.
func TestEvaluateNotElements(t *testing.T) {
	t.Parallel()
	const acct = "111122223333"
	allowNotIAM := mustParse(t, stmt(`{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}`), Identity)
	denyWithoutMFA := mustParse(t, stmt(`{"Effect":"Allow","Action":"*","Resource":"*"}`,
		`{"Sid":"DenyAllExceptListedIfNoMFA","Effect":"Deny","NotAction":["iam:CreateVirtualMFADevice","iam:EnableMFADevice","iam:ListMFADevices","sts:GetSessionToken"],"Resource":"*",
		  "Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}}`), Identity)
	allowNotProd := mustParse(t, stmt(`{"Effect":"Allow","Action":"s3:*","NotResource":["arn:aws:s3:::prod","arn:aws:s3:::prod/*"]}`), Identity)
	notPrincipal := func(arns ...string) *Policy {
		list := `"` + arns[0] + `"`
		for _, a := range arns[1:] {
			list += `,"` + a + `"`
		}
		return mustParse(t, stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}`,
			`{"Effect":"Deny","NotPrincipal":{"AWS":[`+list+`]},"Action":"s3:*","Resource":"*"}`), Resource)
	}
	bob := user(acct, "Bob")
	app := roleSession(acct, "audit", "app")
	withMFA := app
	withMFA.MFA = true
	req := func(p Principal, action, resource string) Request {
		return Request{Principal: p, Action: action, Resource: resource, ResourceAccount: acct}
	}
	get := func(p Principal) Request { return req(p, "s3:GetObject", "arn:aws:s3:::b/k") }
	runEvalCases(t, []evalCase{
		{"Allow with NotAction allows every other service", req(bob, "s3:DeleteBucket", "arn:aws:s3:::b"), Set{Identity: []*Policy{allowNotIAM}}, true, false, IdentityBased},
		{"Allow with NotAction does not allow what it names", req(bob, "iam:CreateUser", "arn:aws:iam::111122223333:user/x"), Set{Identity: []*Policy{allowNotIAM}}, false, false, IdentityBased},
		{"BoolIfExists denies long-term keys, which have no MFA key", get(bob), Set{Identity: []*Policy{denyWithoutMFA}}, false, true, IdentityBased},
		{"a session without MFA is denied", get(app), Set{Identity: []*Policy{denyWithoutMFA}}, false, true, IdentityBased},
		{"a session with MFA is not", get(withMFA), Set{Identity: []*Policy{denyWithoutMFA}}, true, false, IdentityBased},
		{"the NotAction list stays reachable without MFA", req(bob, "iam:ListMFADevices", "*"), Set{Identity: []*Policy{denyWithoutMFA}}, true, false, IdentityBased},
		{"Allow with NotResource allows other buckets", req(bob, "s3:GetObject", "arn:aws:s3:::dev/k"), Set{Identity: []*Policy{allowNotProd}}, true, false, IdentityBased},
		{"Allow with NotResource leaves the named one out", req(bob, "s3:GetObject", "arn:aws:s3:::prod/k"), Set{Identity: []*Policy{allowNotProd}}, false, false, IdentityBased},
		{"NotPrincipal with the user alone still denies the user", get(bob), Set{Resource: notPrincipal(bob.ARN)}, false, true, ResourceBased},
		{"NotPrincipal with the user and its account", get(bob), Set{Resource: notPrincipal(bob.ARN, "arn:aws:iam::111122223333:root")}, true, false, ResourceBased},
		{"NotPrincipal denies everyone else", get(user(acct, "eve")), Set{Resource: notPrincipal(bob.ARN, "arn:aws:iam::111122223333:root")}, false, true, ResourceBased},
		{"NotPrincipal with the session and account but not the role", get(app), Set{Resource: notPrincipal(app.ARN, acct)}, false, true, ResourceBased},
		{"NotPrincipal with the session, role and account", get(app), Set{Resource: notPrincipal(app.ARN, app.Parent, acct)}, true, false, ResourceBased},
		{"NotPrincipal never exempts a principal with a boundary", get(bob), Set{Resource: notPrincipal(bob.ARN, acct),
			Boundary: mustParse(t, stmt(`{"Effect":"Allow","Action":"*","Resource":"*"}`), Identity)}, false, true, ResourceBased},
		{"NotPrincipal exempts the root user through its account", get(root(acct)), Set{Resource: notPrincipal(acct)}, true, false, ResourceBased},
		{"Allow with NotPrincipal allows everyone else", get(Principal{Type: Anonymous}),
			Set{Resource: mustParse(t, stmt(`{"Effect":"Allow","NotPrincipal":{"AWS":"111122223333"},"Action":"s3:*","Resource":"*"}`), Resource)}, true, false, ResourceBased},
	})
}

// "AWS: Denies access to AWS based on the source IP", from the IAM policy examples.
func TestEvaluateDenyOutsideIPRanges(t *testing.T) {
	t.Parallel()
	denyIP := mustParse(t, stmt(`{"Effect":"Deny","Action":"*","Resource":"*","Condition":{
		"NotIpAddress":{"aws:SourceIp":["192.0.2.0/24","203.0.113.0/24"]},"Bool":{"aws:ViaAWSService":"false"}}}`), Identity)
	allowS3 := mustParse(t, stmt(`{"Effect":"Allow","Action":"s3:*","Resource":"*"}`), Identity)
	set := Set{Identity: []*Policy{allowS3, denyIP}}
	req := func(ip string, via bool) Request {
		return Request{Principal: user("111122223333", "alice"), Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k",
			SourceIP: netip.MustParseAddr(ip), ViaAWSService: via}
	}
	runEvalCases(t, []evalCase{
		{"inside a range", req("203.0.113.9", false), set, true, false, IdentityBased},
		{"outside the ranges", req("198.51.100.1", false), set, false, true, IdentityBased},
		{"outside, through a service on the user's behalf", req("198.51.100.1", true), set, true, false, IdentityBased},
		{"an IPv6 address is outside IPv4 ranges", req("2001:db8::1", false), set, false, true, IdentityBased},
	})
}

func TestDecisionMessages(t *testing.T) {
	t.Parallel()
	cases := []struct {
		d    Decision
		want string
	}{
		{Decision{Type: IdentityBased}, "User: arn:aws:iam::123456789012:user/JohnDoe is not authorized to perform: s3:GetObject on resource: arn:aws:s3:::b/k because no identity-based policy allows the s3:GetObject action"},
		{Decision{Explicit: true, Type: IdentityBased}, "User: arn:aws:iam::123456789012:user/JohnDoe is not authorized to perform: s3:GetObject on resource: arn:aws:s3:::b/k with an explicit deny in an identity-based policy"},
		{Decision{Explicit: true, Type: ResourceBased}, "User: arn:aws:iam::123456789012:user/JohnDoe is not authorized to perform: s3:GetObject on resource: arn:aws:s3:::b/k with an explicit deny in a resource-based policy"},
		{Decision{Type: PermissionsBoundary}, "User: arn:aws:iam::123456789012:user/JohnDoe is not authorized to perform: s3:GetObject on resource: arn:aws:s3:::b/k because no permissions boundary allows the s3:GetObject action"},
		{Decision{Type: SessionPolicy}, "User: arn:aws:iam::123456789012:user/JohnDoe is not authorized to perform: s3:GetObject on resource: arn:aws:s3:::b/k because no session policy allows the s3:GetObject action"},
	}
	for _, c := range cases {
		if got := c.d.Message("arn:aws:iam::123456789012:user/JohnDoe", "s3:GetObject", "arn:aws:s3:::b/k"); got != c.want {
			t.Errorf("Message = %q\nwant %q", got, c.want)
		}
	}
	if got := (Decision{Type: RoleTrust}).Message("arn:aws:iam::1:user/x", "sts:AssumeRole", ""); got != "User: arn:aws:iam::1:user/x is not authorized to perform: sts:AssumeRole because no role trust policy allows the sts:AssumeRole action" {
		t.Errorf("Message without resource = %q", got)
	}
}

func TestEvaluateDoesNotAllocate(t *testing.T) {
	set, req := benchmarkSet(t)
	if n := testing.AllocsPerRun(100, func() { Evaluate(req, set) }); n != 0 {
		t.Fatalf("Evaluate allocates %v times per call, want 0", n)
	}
}
