package policy

import (
	"net/netip"
	"testing"
	"time"
)

// condRequest is the request context the condition cases are evaluated in.
func condRequest() *Request {
	return &Request{
		Principal: Principal{Type: User, Account: "111122223333", ARN: "arn:aws:iam::111122223333:user/division/David",
			UserID: "AIDAJQABLZS4A3QDU576Q", Tags: map[string]string{"Department": "finance", "team": "yellow"}},
		Action: "s3:ListBucket", Resource: "arn:aws:s3:::b", ResourceAccount: "111122223333",
		Time:     time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC),
		SourceIP: netip.MustParseAddr("203.0.113.7"), SecureTransport: true, UserAgent: "aws-cli/2.9",
		SourceARN: "arn:aws:sns:us-east-1:111122223333:topic", Region: "eu-west-1",
		Values: ValueMap{
			"s3:prefix":           {"home/David/notes"},
			"s3:max-keys":         {"10"},
			"aws:tagkeys":         {"key1:legal", "key1:hr"},
			"aws:requesttag/cc":   {""},
			"dynamodb:attributes": {"PostDateTime", "Message"},
			"ec2:instancetype":    {"t2.micro"},
			"x:binary":            {"BinaryValueInBase64"},
			"x:ip":                {"2001:db8:1234:5678::1"},
			"x:none":              {},
			"x:literal":           {"a*b"},
			"x:date":              {"2026-06-15T11:00:00Z"},
		},
	}
}

func TestConditions(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		condition string // the Condition element
		holds     bool
	}{
		{"StringEquals matches exactly", `{"StringEquals":{"s3:prefix":"home/David/notes"}}`, true},
		{"StringEquals is case-sensitive", `{"StringEquals":{"s3:prefix":"HOME/David/notes"}}`, false},
		{"StringEquals takes * literally", `{"StringEquals":{"s3:prefix":"home/*"}}`, false},
		{"condition keys ignore case", `{"StringEquals":{"S3:Prefix":"home/David/notes"}}`, true},
		{"several values are an OR", `{"StringEquals":{"s3:prefix":["x","home/David/notes"]}}`, true},
		{"several keys are an AND", `{"StringEquals":{"s3:prefix":"home/David/notes","aws:PrincipalTag/team":"blue"}}`, false},
		{"several operators are an AND", `{"StringEquals":{"s3:prefix":"home/David/notes"},"NumericLessThan":{"s3:max-keys":"5"}}`, false},
		{"StringNotEquals with several values is a NOR", `{"StringNotEquals":{"aws:PrincipalAccount":["444455556666","111122223333"]}}`, false},
		{"StringNotEquals holds for other values", `{"StringNotEquals":{"aws:PrincipalAccount":["444455556666"]}}`, true},
		{"StringEqualsIgnoreCase", `{"StringEqualsIgnoreCase":{"aws:PrincipalTag/department":"FINANCE"}}`, true},
		{"StringNotEqualsIgnoreCase", `{"StringNotEqualsIgnoreCase":{"aws:PrincipalTag/department":"FINANCE"}}`, false},
		{"StringLike with *", `{"StringLike":{"s3:prefix":"home/*"}}`, true},
		{"StringLike with ?", `{"StringLike":{"s3:prefix":"home/Davi?/notes"}}`, true},
		{"StringLike is case-sensitive", `{"StringLike":{"s3:prefix":"Home/*"}}`, false},
		{"StringNotLike", `{"StringNotLike":{"s3:prefix":"private/*"}}`, true},
		{"a missing key fails a positive operator", `{"StringEquals":{"s3:delimiter":"/"}}`, false},
		{"a missing key satisfies a negated operator", `{"StringNotEquals":{"s3:delimiter":"/"}}`, true},
		{"a missing key satisfies IfExists", `{"StringLikeIfExists":{"ec2:InstanceType":"t2.*","s3:delimiter":"x"}}`, true},
		{"IfExists checks a key that exists", `{"StringLikeIfExists":{"ec2:InstanceType":["t1.*","m3.*"]}}`, false},
		{"a negated IfExists on a missing key holds", `{"StringNotEqualsIfExists":{"s3:delimiter":"/"}}`, true},
		{"NumericEquals", `{"NumericEquals":{"s3:max-keys":"10.0"}}`, true},
		{"NumericNotEquals", `{"NumericNotEquals":{"s3:max-keys":"10"}}`, false},
		{"NumericLessThan", `{"NumericLessThan":{"s3:max-keys":"11"}}`, true},
		{"NumericLessThanEquals", `{"NumericLessThanEquals":{"s3:max-keys":10}}`, true},
		{"NumericGreaterThan", `{"NumericGreaterThan":{"s3:max-keys":"10"}}`, false},
		{"NumericGreaterThanEquals", `{"NumericGreaterThanEquals":{"s3:max-keys":"10"}}`, true},
		{"a value that is not a number", `{"NumericLessThan":{"s3:prefix":"10"}}`, false},
		{"aws:EpochTime is a number", `{"NumericGreaterThan":{"aws:EpochTime":"1700000000"}}`, true},
		{"DateGreaterThan on aws:CurrentTime", `{"DateGreaterThan":{"aws:CurrentTime":"2026-06-15T11:59:59Z"}}`, true},
		{"DateLessThan on aws:CurrentTime", `{"DateLessThan":{"aws:CurrentTime":"2026-06-15"}}`, false},
		{"dates in epoch seconds", `{"DateLessThanEquals":{"aws:CurrentTime":"1781524800"}}`, true},
		{"DateEquals compares instants across zones", `{"DateEquals":{"aws:CurrentTime":"2026-06-15T14:00:00+02:00"}}`, true},
		{"DateNotEquals", `{"DateNotEquals":{"aws:CurrentTime":"2026-06-15T12:00:00Z"}}`, false},
		{"dates from a service key", `{"DateGreaterThanEquals":{"x:date":"2026-06-15T11:00:00Z"}}`, true},
		{"aws:CurrentTime as a string", `{"StringLike":{"aws:CurrentTime":"2026-06-15T*"}}`, true},
		{"Bool", `{"Bool":{"aws:SecureTransport":"true"}}`, true},
		{"Bool ignores case", `{"Bool":{"aws:SecureTransport":"TRUE"}}`, true},
		{"Bool false", `{"Bool":{"aws:SecureTransport":false}}`, false},
		{"BinaryEquals", `{"BinaryEquals":{"x:binary":"QmluYXJ5VmFsdWVJbkJhc2U2NA=="}}`, true},
		{"BinaryEquals another value", `{"BinaryEquals":{"x:binary":"QmluYXJ5"}}`, false},
		{"IpAddress in a range", `{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}`, true},
		{"IpAddress of an address alone", `{"IpAddress":{"aws:SourceIp":"203.0.113.7"}}`, true},
		{"IpAddress outside the ranges", `{"IpAddress":{"aws:SourceIp":["10.0.0.0/8","2001:DB8:1234:5678::/64"]}}`, false},
		{"NotIpAddress", `{"NotIpAddress":{"aws:SourceIp":"203.0.113.188/32"}}`, true},
		{"IpAddress of IPv6", `{"IpAddress":{"x:ip":"2001:DB8:1234:5678::/64"}}`, true},
		{"ArnEquals part by part", `{"ArnEquals":{"aws:SourceArn":"arn:aws:sns:*:111122223333:topic"}}`, true},
		{"ArnLike keeps a star in its part", `{"ArnLike":{"aws:SourceArn":"arn:aws:sns:*"}}`, false},
		{"ArnLike with a region wildcard", `{"ArnLike":{"aws:SourceArn":"arn:aws:sns:us-*-1:*:t*"}}`, true},
		{"ArnNotLike", `{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/*"}}`, true},
		{"Null true on a missing key", `{"Null":{"aws:TokenIssueTime":"true"}}`, true},
		{"Null false on a missing key", `{"Null":{"aws:TokenIssueTime":"false"}}`, false},
		{"Null false on a present key", `{"Null":{"aws:PrincipalTag/team":"false"}}`, true},
		{"Null on an empty value list", `{"Null":{"x:none":"true"}}`, true},
		{"ForAllValues: every request value in the policy's", `{"ForAllValues:StringLike":{"aws:TagKeys":"key1*"}}`, true},
		{"ForAllValues: one value outside", `{"ForAllValues:StringEquals":{"dynamodb:Attributes":["PostDateTime","Tags"]}}`, false},
		{"ForAllValues holds for a missing key", `{"ForAllValues:StringEquals":{"aws:TagKeys":"x","x:missing":"y"}}`, false},
		{"ForAllValues with a missing key only", `{"ForAllValues:StringEquals":{"x:missing":"y"}}`, true},
		{"ForAllValues holds for an empty set", `{"ForAllValues:StringEquals":{"x:none":"y"}}`, true},
		{"ForAllValues holds for an empty string", `{"ForAllValues:StringEquals":{"aws:RequestTag/cc":"y"}}`, true},
		{"ForAnyValue: one request value matches", `{"ForAnyValue:StringEquals":{"dynamodb:Attributes":["ID","PostDateTime"]}}`, true},
		{"ForAnyValue: none matches", `{"ForAnyValue:StringEquals":{"dynamodb:Attributes":["ID","UserName"]}}`, false},
		{"ForAnyValue fails for a missing key", `{"ForAnyValue:StringEquals":{"x:missing":"y"}}`, false},
		{"ForAnyValue fails for an empty set", `{"ForAnyValue:StringNotEquals":{"x:none":"y"}}`, false},
		{"ForAllValues:StringNotLike with every value prefixed", `{"ForAllValues:StringNotLike":{"aws:TagKeys":"key1*"}}`, false},
		{"ForAllValues:StringNotLike with none prefixed", `{"ForAllValues:StringNotLike":{"aws:TagKeys":"key2*"}}`, true},
		{"ForAnyValue:StringNotEquals with one value outside", `{"ForAnyValue:StringNotEquals":{"aws:TagKeys":"key1:legal"}}`, true},
		{"a policy value that is not a date never matches", `{"StringEquals":{"aws:PrincipalType":"User"},"NumericEquals":{"s3:max-keys":"ten"}}`, false},
		{"derived keys", `{"StringEquals":{"aws:PrincipalArn":"arn:aws:iam::111122223333:user/division/David","aws:PrincipalAccount":"111122223333","aws:PrincipalType":"User","aws:username":"David","aws:userid":"AIDAJQABLZS4A3QDU576Q","aws:UserAgent":"aws-cli/2.9","aws:RequestedRegion":"eu-west-1","aws:ResourceAccount":"111122223333"},"Bool":{"aws:PrincipalIsAWSService":"false"}}`, true},
		{"MFA is absent for long-term keys", `{"Null":{"aws:MultiFactorAuthPresent":"true"}}`, true},
		{"an unknown operator without keys is no condition", `{"Frobnicate":{}}`, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			p := mustParse(t, stmt(`{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*","Condition":`+c.condition+`}`), Identity)
			d := Evaluate(condRequest(), &Set{Identity: []*Policy{p}})
			if d.Allowed != c.holds {
				t.Fatalf("condition %s holds = %v, want %v", c.condition, d.Allowed, c.holds)
			}
		})
	}
}

func TestVariables(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		version  string
		resource string // the statement's Resource element
		cond     string // its Condition element, or ""
		target   string // the resource requested
		allowed  bool
	}{
		{"aws:username in a resource", "2012-10-17", `"arn:aws:s3:::b/home/${aws:username}/*"`, "", "arn:aws:s3:::b/home/David/x", true},
		{"aws:username is another user's", "2012-10-17", `"arn:aws:s3:::b/home/${aws:username}/*"`, "", "arn:aws:s3:::b/home/Maria/x", false},
		{"variable names ignore case", "2012-10-17", `"arn:aws:s3:::b/home/${AWS:UserName}/*"`, "", "arn:aws:s3:::b/home/David/x", true},
		{"a principal tag", "2012-10-17", `"arn:aws:s3:::b-${aws:PrincipalTag/team}"`, "", "arn:aws:s3:::b-yellow", true},
		{"a default for a missing tag", "2012-10-17", `"arn:aws:s3:::b-${aws:PrincipalTag/unit, 'company-wide'}"`, "", "arn:aws:s3:::b-company-wide", true},
		{"a default unused when the tag exists", "2012-10-17", `"arn:aws:s3:::b-${aws:PrincipalTag/team, 'company-wide'}"`, "", "arn:aws:s3:::b-company-wide", false},
		{"a variable without value matches no resource", "2012-10-17", `"arn:aws:s3:::b/${aws:PrincipalTag/unit}*"`, "", "arn:aws:s3:::b/x", false},
		{"${*} is a literal star", "2012-10-17", `"arn:aws:s3:::b/${*}"`, "", "arn:aws:s3:::b/*", true},
		{"${*} matches nothing else", "2012-10-17", `"arn:aws:s3:::b/${*}"`, "", "arn:aws:s3:::b/x", false},
		{"${?} and ${$}", "2012-10-17", `"arn:aws:s3:::b/${?}${$}"`, "", "arn:aws:s3:::b/?$", true},
		{"a substituted value's star is literal", "2012-10-17", `"arn:aws:s3:::b/${s3:prefix}"`, "", "arn:aws:s3:::b/anything", false},
		{"variables are literal text in 2008-10-17", "2008-10-17", `"arn:aws:s3:::b/home/${aws:username}/*"`, "", "arn:aws:s3:::b/home/David/x", false},
		{"... and match themselves there", "2008-10-17", `"arn:aws:s3:::b/home/${aws:username}/*"`, "", "arn:aws:s3:::b/home/${aws:username}/x", true},
		{"variables only in the resource part", "2012-10-17", `"arn:aws:s3:::b/${aws:PrincipalAccount}"`, "", "arn:aws:s3:::b/111122223333", true},
		{"a variable in StringLike", "2012-10-17", `"*"`, `{"StringLike":{"s3:prefix":["","home/","home/${aws:username}/*"]}}`, "arn:aws:s3:::b", true},
		{"a variable in StringEquals, another value", "2012-10-17", `"*"`, `{"StringEquals":{"s3:prefix":"home/${aws:username}"}}`, "arn:aws:s3:::b", false},
		{"a variable with no value fails StringEquals", "2012-10-17", `"*"`, `{"StringEquals":{"aws:PrincipalTag/team":"${aws:PrincipalTag/unit}"}}`, "arn:aws:s3:::b", false},
		{"a variable with no value satisfies StringNotEquals", "2012-10-17", `"*"`, `{"StringNotEquals":{"aws:PrincipalTag/team":"${aws:PrincipalTag/unit}"}}`, "arn:aws:s3:::b", true},
		{"a variable in ArnLike", "2012-10-17", `"*"`, `{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::${aws:PrincipalAccount}:user/*"}}`, "arn:aws:s3:::b", true},
		{"a multivalued key is no variable", "2012-10-17", `"arn:aws:s3:::b/${aws:TagKeys}"`, "", "arn:aws:s3:::b/key1:legal", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			cond := ""
			if c.cond != "" {
				cond = `,"Condition":` + c.cond
			}
			doc := `{"Version":"` + c.version + `","Statement":{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":` + c.resource + cond + `}}`
			req := condRequest()
			req.Values = ValueMap{"s3:prefix": {"home/David/notes"}, "aws:tagkeys": {"key1:legal", "key1:hr"}}
			req.Principal.ARN = "arn:aws:iam::111122223333:user/David"
			req.Resource = c.target
			if c.name == "a substituted value's star is literal" {
				req.Values = ValueMap{"s3:prefix": {"*"}}
			}
			d := Evaluate(req, &Set{Resource: mustParse(t, doc, Resource)})
			if d.Allowed != c.allowed {
				t.Fatalf("%s for %s: allowed %v, want %v", doc, c.target, d.Allowed, c.allowed)
			}
		})
	}
}

func TestNotResourceWithUnresolvedVariable(t *testing.T) {
	t.Parallel()
	// A NotResource pattern whose variable has no value matches no resource, so the
	// statement applies to every resource.
	p := mustParse(t, stmt(`{"Effect":"Deny","Action":"s3:*","NotResource":"arn:aws:s3:::b-${aws:PrincipalTag/unit}/*"}`,
		`{"Effect":"Allow","Action":"s3:*","Resource":"*"}`), Identity)
	d := Evaluate(condRequest(), &Set{Identity: []*Policy{p}})
	if d.Allowed || !d.Explicit {
		t.Fatalf("Evaluate = %+v, want an explicit deny", d)
	}
}

func TestGlob(t *testing.T) {
	t.Parallel()
	cases := []struct {
		pattern, s string
		fold, want bool
	}{
		{"s3:get*", "s3:GetObject", true, true},
		{"s3:get*", "s3:GetObject", false, false},
		{"s3:*object", "S3:GETOBJECT", true, true},
		{"s3:*Object*", "s3:PutObjectAcl", false, true},
		{"*", "", false, true},
		{"a*b*c", "a-b-x-c", false, true},
		{"a*b*c", "a-c-b", false, false},
		{"a?c", "aéc", false, true},
		{"a??c", "aéc", false, false},
		{"**a", "ba", false, true},
		{"", "", false, true},
		{"", "x", false, false},
	}
	for _, c := range cases {
		g := compileGlob(c.pattern, true, false, c.fold)
		if got := g.match(c.s, c.fold, nil); got != c.want {
			t.Errorf("glob %q on %q (fold %v) = %v, want %v", c.pattern, c.s, c.fold, got, c.want)
		}
	}
}
