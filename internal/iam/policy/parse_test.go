package policy

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// stmt wraps statement JSON in a 2012-10-17 document.
func stmt(statements ...string) string {
	return `{"Version":"2012-10-17","Statement":[` + strings.Join(statements, ",") + `]}`
}

func TestParseRefusesAsIAM(t *testing.T) {
	t.Parallel()
	const ok = `"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::example_bucket"`
	cases := []struct {
		name    string
		kind    Kind
		doc     string
		problem Problem
		msg     string
	}{
		{"not JSON", Identity, `This is not a json document`, ProblemJSON, msgSyntax},
		{"a list, not an object", Identity, `[]`, ProblemJSON, msgSyntax},
		{"trailing data", Identity, stmt(`{`+ok+`}`) + `x`, ProblemJSON, msgSyntax},
		{"no Version in an IAM policy", Identity, `{"Statement":{` + ok + `}}`, ProblemVersionRequired, msgVersion},
		{"the 2008 version in an IAM policy", Identity, `{"Version":"2008-10-17","Statement":{` + ok + `}}`, ProblemVersionRequired, msgVersion},
		{"an unknown version", Identity, `{"Version":"2013-10-17","Statement":{` + ok + `}}`, ProblemVersion, msgSyntax},
		{"no Statement", Identity, `{"Version":"2012-10-17"}`, ProblemNoStatement, msgSyntax},
		{"a statement that is a string", Identity, `{"Version":"2012-10-17","Statement":["afd"]}`, ProblemStatementShape, msgSyntax},
		{"an empty Statement list", Identity, `{"Version":"2012-10-17","Statement":[]}`, ProblemEmptyStatement, msgSyntax},
		{"an unknown top element", Identity, `{"Version":"2012-10-17","Statement":{` + ok + `},"Extra field":"value"}`, ProblemField, msgSyntax},
		{"an unknown statement element", Identity, stmt(`{` + ok + `,"Extra field":"value"}`), ProblemField, msgSyntax},
		{"an Id that is a list", Identity, `{"Version":"2012-10-17","Id":["x"],"Statement":{` + ok + `}}`, ProblemID, msgSyntax},
		{"an unknown effect", Identity, stmt(`{"Effect":"invalid","Action":"s3:ListBucket","Resource":"*"}`), ProblemEffect, msgSyntax},
		{"no effect", Identity, stmt(`{"Action":"s3:ListBucket","Resource":"*"}`), ProblemEffect, msgSyntax},
		{"an effect in the wrong case", Identity, stmt(`{"Effect":"denY","Action":"s3:ListBucket","Resource":"*"}`), ProblemEffect, msgLegacy},
		{"an action without a vendor", Identity, stmt(`{"Effect":"Allow","Action":"invalid","Resource":"*"}`), ProblemAction, msgVendor},
		{"an empty NotAction", Identity, stmt(`{"Effect":"Allow","NotAction":"","Resource":"*"}`), ProblemAction, msgVendor},
		{"a vendor with a space", Identity, stmt(`{"Effect":"Allow","Action":"a a:ListBucket","Resource":"*"}`), ProblemAction, "Vendor a a is not valid"},
		{"an action with two colons", Identity, stmt(`{"Effect":"Allow","Action":"s3:List:Bucket","Resource":"*"}`), ProblemAction, msgOneColon},
		{"Action and NotAction", Identity, stmt(`{"Effect":"Allow","NotAction":"s3:ListBucket","Action":"iam:dsf","Resource":"*"}`), ProblemAction, msgSyntax},
		{"an action that is an object", Identity, stmt(`{"Effect":"Allow","Action":{},"Resource":"*"}`), ProblemAction, msgSyntax},
		{"an action list holding a list", Identity, stmt(`{"Effect":"Deny","Action":[[]],"Resource":"*"}`), ProblemAction, msgSyntax},
		{"no action", Identity, stmt(`{"Effect":"Allow","Resource":"*"}`), ProblemNoAction, msgNoActions},
		{"an empty action list", Identity, stmt(`{"Effect":"Allow","Action":[],"Resource":"*"}`), ProblemNoAction, msgNoActions},
		{"a statement without action before a good one", Identity, stmt(`{"Effect":"Deny"}`, `{`+ok+`}`), ProblemNoAction, msgNoActions},
		{"a resource that is not an ARN", Identity, stmt(`{"Effect":"Allow","Action":"s3:ListBucket","Resource":"invalid resource"}`), ProblemResource, `Resource invalid resource must be in ARN format or "*".`},
		{"an empty resource", Identity, stmt(`{"Effect":"Allow","Action":"s3:ListBucket","Resource":""}`), ProblemResource, `Resource  must be in ARN format or "*".`},
		{"an unknown partition", Identity, stmt(`{"Effect":"Allow","NotAction":"s3s:ListBucket","Resource":"a:bsdfdsafsad"}`), ProblemResource, `Partition "bsdfdsafsad" is not valid for resource "arn:bsdfdsafsad:*:*:*:*".`},
		{"a partition and more parts", Identity, stmt(`{"Effect":"Allow","NotAction":"s3s:ListBucket","Resource":"a:b:c:d:e:f:g:h"}`), ProblemResource, `Partition "b" is not valid for resource "arn:b:c:d:e:f:g:h".`},
		{"an ARN without arn", Identity, stmt(`{"Effect":"Allow","Action":"s3:ListBucket","Resource":"aws:s3:::example_bucket"}`), ProblemResource, `Partition "s3" is not valid for resource "arn:s3:::example_bucket:*".`},
		{"the first bad resource of a list", Identity, stmt(`{"Effect":"Allow","Action":"s3:ListBucket","Resource":["arn:error:s3:::example_bucket","arn:error:s3::example_bucket"]}`), ProblemResource, `Partition "error" is not valid for resource "arn:error:s3:::example_bucket".`},
		{"an ARN without service", Identity, stmt(`{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws"}`), ProblemResource, msgVendorRegex},
		{"an IAM resource of no known type", Identity, stmt(`{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:iam:::example_bucket"}`), ProblemResource,
			`IAM resource path must either be "*" or start with user/, federated-user/, role/, group/, instance-profile/, mfa/, server-certificate/, policy/, sms-mfa/, saml-provider/, oidc-provider/, report/, access-report/.`},
		{"an IAM resource with a region", Identity, stmt(`{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:iam:us-east-1::example_bucket"}`), ProblemResource, "IAM resource arn:aws:iam:us-east-1::example_bucket cannot contain region information."},
		{"an S3 resource with a region", Identity, stmt(`{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:us-east-1::example_bucket"}`), ProblemResource, "Resource arn:aws:s3:us-east-1::example_bucket can not contain region information."},
		{"a truncated ARN", Identity, stmt(`{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3::example_bucket"}`), ProblemResource, msgLegacy},
		{"a truncated ARN without action", Identity, stmt(`{"Effect":"Allow","Resource":"arn:aws:s3::example_bucket"}`), ProblemResource, msgLegacy},
		{"an ARN without service part", Identity, stmt(`{"Effect":"Allow","NotAction":"s3:ListBucket","Resource":"arn:aws::::example_bucket"}`), ProblemResource, msgLegacy},
		{"Resource and NotResource", Identity, stmt(`{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*","NotResource":"*"}`), ProblemResource, msgSyntax},
		{"a resource that is an object", Identity, stmt(`{"Effect":"Allow","Action":"s3:ListBucket","Resource":{"a":"b"}}`), ProblemResource, msgSyntax},
		{"no resource", Identity, stmt(`{"Effect":"Allow","Action":"s3:ListBucket"}`), ProblemNoResource, msgNoResources},
		{"an empty resource list", Identity, stmt(`{"Effect":"Allow","Action":"s3:ListBucket","Resource":[]}`), ProblemNoResource, msgNoResources},
		{"no resource and a bad action", Identity, stmt(`{"Effect":"Allow","Action":"invalid"}`), ProblemAction, msgVendor},
		{"a condition that is a list", Identity, stmt(`{` + ok + `,"Condition":[]}`), ProblemCondition, msgSyntax},
		{"a condition operator that is a string", Identity, stmt(`{` + ok + `,"Condition":{"DateGreaterThan":"b"}}`), ProblemCondition, msgSyntax},
		{"a condition value that is an object", Identity, stmt(`{` + ok + `,"Condition":{"DateGreaterThan":{"a":{}}}}`), ProblemCondition, msgSyntax},
		{"an unknown operator", Identity, stmt(`{` + ok + `,"Condition":{"x":{"a":"1"}}}`), ProblemCondition, msgSyntax},
		{"a doubled set colon", Identity, stmt(`{` + ok + `,"Condition":{"ForAnyValue::StringEqualsIfExists":{"a":"asf"}}}`), ProblemCondition, msgSyntax},
		{"NullIfExists", Identity, stmt(`{` + ok + `,"Condition":{"NullIfExists":{"a":"true"}}}`), ProblemCondition, msgSyntax},
		{"a date that is not one", Identity, stmt(`{` + ok + `,"Condition":{"DateGreaterThan":{"a":"sdfdsf"}}}`), ProblemCondition, msgLegacy},
		{"a month thirteen", Identity, stmt(`{` + ok + `,"Condition":{"DateLessThanEquals":{"a":"234-13"}}}`), ProblemCondition, msgLegacy},
		{"an epoch beyond int64", Identity, stmt(`{` + ok + `,"Condition":{"DateLessThan":{"a":"9223372036854775808"}}}`), ProblemCondition, msgLegacy},
		{"a Sid that is an object", Identity, stmt(`{"Sid":{},` + ok + `}`), ProblemSid, msgSyntax},
		{"a Sid that is not alphanumeric", Identity, stmt(`{"Sid":"autogenerated-id",` + ok + `}`), ProblemSid, msgSidChars},
		{"a repeated Sid", Identity, stmt(`{"Sid":"sdf",`+ok+`}`, `{"Sid":"sdf","Effect":"Allow"}`), ProblemSidUnique, msgSidUnique},
		{"a principal in an identity policy", Identity, stmt(`{` + ok + `,"Principal":"*"}`), ProblemProhibitedPrincipal, msgPrincipalInID},
		{"a NotPrincipal in an identity policy", Identity, stmt(`{` + ok + `,"NotPrincipal":{"AWS":"111122223333"}}`), ProblemProhibitedPrincipal, msgPrincipalInID},
		{"a trust policy with a resource", Trust, stmt(`{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole","Resource":"*"}`), ProblemProhibitedResource, msgResourceInTrust},
		{"a trust policy without principal", Trust, stmt(`{"Effect":"Allow","Action":"sts:AssumeRole"}`), ProblemNoPrincipal, msgNoPrincipal},
		{"a trust policy with an empty principal", Trust, stmt(`{"Effect":"Allow","Principal":{},"Action":"sts:AssumeRole"}`), ProblemNoPrincipal, msgEmptyPrincipal},
		{"a trust policy with the principal *", Trust, stmt(`{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}`), ProblemPrincipal, msgPrincipalObject},
		{"a trust policy allowing with NotPrincipal", Trust, stmt(`{"Effect":"Allow","NotPrincipal":{"AWS":"*"},"Action":"sts:AssumeRole"}`), ProblemPrincipal, msgAllowNotPrinc},
		{"a trust policy denying with NotPrincipal", Trust, stmt(`{"Effect":"Deny","NotPrincipal":{"AWS":"*"},"Action":"sts:AssumeRole"}`), ProblemPrincipal, msgTrustNotPrinc},
		{"a trust policy with NotResource", Trust, stmt(`{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole","NotResource":"*"}`), ProblemProhibitedResource, msgNotResourceTrust},
		{"a trust policy with the action *", Trust, stmt(`{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"*"}`), ProblemTrustAction, msgTrustActions},
		{"a trust policy for Cognito without condition", Trust, stmt(`{"Effect":"Allow","Principal":{"Federated":"cognito-identity.amazonaws.com"},"Action":"sts:AssumeRoleWithWebIdentity"}`), ProblemPrincipal, msgCognito},
		{"a trust policy naming a canonical user", Trust, stmt(`{"Effect":"Allow","Principal":{"CanonicalUser":"79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"},"Action":"sts:AssumeRole"}`), ProblemPrincipal, `Invalid principal in policy: "CanonicalUser"`},
		{"a trust policy repeating a Sid", Trust, stmt(`{"Sid":"a","Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}`, `{"Sid":"a","Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:TagSession"}`), ProblemSidUnique, msgSidsNotUnique},
		{"a trust policy that is not JSON", Trust, `{"Statement":`, ProblemJSON, msgInvalidJSON},
		{"a trust policy with an unknown version", Trust, `{"Version":"2020-01-01","Statement":[]}`, ProblemVersion, msgVersionString},
		{"a trust policy without action", Trust, stmt(`{"Effect":"Allow","Principal":{"AWS":"*"}}`), ProblemNoAction, msgNoAction},
		{"a trust policy with no statements", Trust, `{"Statement":[]}`, ProblemEmptyStatement, msgEmptyStatement},
		{"a resource policy that is not an object", Resource, `"x"`, ProblemJSON, msgFirstByte},
		{"a resource policy without Effect", Resource, `{"Statement":{"Principal":"*","Action":"s3:*","Resource":"*"}}`, ProblemEffect, msgNoEffect},
		{"a resource policy with an unknown effect", Resource, `{"Statement":{"Effect":"Maybe","Principal":"*","Action":"s3:*","Resource":"*"}}`, ProblemEffect, "Invalid effect: Maybe"},
		{"a resource policy with an effect in the wrong case", Resource, `{"Statement":{"Effect":"allow","Principal":"*","Action":"s3:*","Resource":"*"}}`, ProblemEffect, "Invalid effect: allow"},
		{"a resource policy without Statement", Resource, `{"Version":"2012-10-17"}`, ProblemNoStatement, msgNoStatement},
		{"a trust policy granting S3", Trust, stmt(`{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"s3:GetObject"}`), ProblemTrustAction, msgTrustActions},
		{"a trust policy granting sts:*", Trust, stmt(`{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"sts:*"}`), ProblemTrustAction, msgTrustActions},
		{"a trust policy naming a user by wildcard", Trust, stmt(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/*"},"Action":"sts:AssumeRole"}`), ProblemPrincipal, `Invalid principal in policy: "AWS":"arn:aws:iam::111122223333:user/*"`},
		{"a resource policy with an empty principal", Resource, `{"Statement":[{"Effect":"Allow","Principal":{},"Action":"s3:*","Resource":"*"}]}`, ProblemNoPrincipal, msgEmptyPrincipal},
		{"a resource policy without principal", Resource, `{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`, ProblemNoPrincipal, msgNoPrincipal},
		{"a resource policy without resource", Resource, `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*"}]}`, ProblemNoResource, msgNoResource},
		{"a resource policy without action", Resource, `{"Statement":[{"Effect":"Allow","Principal":"*","Resource":"*"}]}`, ProblemNoAction, msgNoAction},
		{"a principal string other than star", Resource, `{"Statement":[{"Effect":"Allow","Principal":"me","Action":"s3:*","Resource":"*"}]}`, ProblemPrincipal, `Invalid principal in policy: "me"`},
		{"an unknown principal type", Resource, `{"Statement":[{"Effect":"Allow","Principal":{"Group":"x"},"Action":"s3:*","Resource":"*"}]}`, ProblemPrincipal, msgSyntax},
		{"an account id too short", Resource, `{"Statement":[{"Effect":"Allow","NotPrincipal":{"AWS":"arn:aws:iam::1:root"},"Action":"s3:*","Resource":"*"}]}`, ProblemPrincipal, `Invalid principal in policy: "AWS":"arn:aws:iam::1:root"`},
		{"a service principal with a wildcard", Resource, `{"Statement":[{"Effect":"Allow","Principal":{"Service":"*.amazonaws.com"},"Action":"sqs:*","Resource":"*"}]}`, ProblemPrincipal, `Invalid principal in policy: "SERVICE":"*.amazonaws.com"`},
		{"Principal and NotPrincipal", Resource, `{"Statement":[{"Effect":"Deny","Principal":"*","NotPrincipal":"*","Action":"s3:*","Resource":"*"}]}`, ProblemPrincipal, msgSyntax},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse(c.doc, c.kind)
			var perr *Error
			if !errors.As(err, &perr) {
				t.Fatalf("Parse = %v, want *Error", err)
			}
			if perr.Problem != c.problem || perr.Message != c.msg {
				t.Fatalf("Parse = problem %d %q, want %d %q", perr.Problem, perr.Message, c.problem, c.msg)
			}
		})
	}
}

func TestParseAccepts(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		kind Kind
		doc  string
	}{
		{"a single statement object", Identity, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":["arn:aws:s3:::example_bucket"]}}`},
		{"an action name with spaces", Identity, stmt(`{"Effect":"Allow","Action":"iam: asdf safdsf af ","Resource":"arn:aws:s3:::example_bucket"}`)},
		{"a star action", Identity, stmt(`{"Effect":"Allow","Action":"*","Resource":"arn:aws:s3:::example_bucket"}`)},
		{"an unknown service", Identity, stmt(`{"Effect":"Allow","Action":"fsx:ListBucket","Resource":"arn:aws:invalid-service:us-east-1::example_bucket"}`)},
		{"a short ARN without empty parts", Identity, stmt(`{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:fdsasf"}`)},
		{"an empty condition", Identity, stmt(`{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*","Condition":{}}`)},
		{"an unknown operator without keys", Identity, stmt(`{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*","Condition":{"a":{}}}`)},
		{"an empty value list", Identity, stmt(`{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*","Condition":{"DateGreaterThan":{"a":[]}}}`)},
		{"dates in IAM's formats", Identity, stmt(`{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":["2017-07-01T00:00:00Z","2017-07-01","1500000000","2017-07-01t00:00:00.5+02:00"]}}}`)},
		{"numbers and booleans as values", Identity, stmt(`{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*","Condition":{"NumericLessThanEquals":{"s3:max-keys":10},"Bool":{"aws:SecureTransport":true}}}`)},
		{"every operator form", Identity, stmt(`{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*","Condition":{"ForAllValues:StringLikeIfExists":{"aws:TagKeys":"a*"},"ForAnyValue:StringEquals":{"aws:TagKeys":"b"},"ArnNotLike":{"aws:SourceArn":"arn:aws:sns:*:*:*"},"NotIpAddress":{"aws:SourceIp":["10.0.0.0/8","2001:DB8::/32"]},"Null":{"aws:TokenIssueTime":"true"},"BinaryEquals":{"k":"QmluYXJ5"}}}`)},
		{"a legacy bucket policy without version", Resource, `{"Statement":[{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::111122223333:root","444455556666"],"CanonicalUser":"79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}`},
		{"repeated Sids in a resource policy", Resource, `{"Version":"2008-10-17","Statement":[{"Sid":"a b","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"},{"Sid":"a b","Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:sts::111122223333:assumed-role/r/s"},"Action":"s3:*","Resource":"*"}]}`},
		{"a trust policy for a service", Trust, stmt(`{"Effect":"Allow","Principal":{"Service":["ecs.amazonaws.com","elasticloadbalancing.amazonaws.com"]},"Action":"sts:AssumeRole"}`)},
		{"a trust policy without version, tagging sessions", Trust, `{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/r"},"Action":["sts:AssumeRole","sts:TagSession"]}}`},
		{"a trust policy for Cognito with its condition", Trust, stmt(`{"Effect":"Allow","Principal":{"Federated":"cognito-identity.amazonaws.com"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"cognito-identity.amazonaws.com:aud":"us-east-1:x"}}}`)},
		{"a trust policy for web identities", Trust, stmt(`{"Effect":"Allow","Principal":{"Federated":"accounts.google.com"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"accounts.google.com:aud":"x"}}}`)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if _, err := Parse(c.doc, c.kind); err != nil {
				t.Fatalf("Parse refused: %v", err)
			}
		})
	}
}

func TestParseReadsDocument(t *testing.T) {
	t.Parallel()
	p, err := Parse(`{"Version":"2012-10-17","Id":"pol","Statement":{"Sid":"1","Effect":"Deny","NotPrincipal":{"AWS":"111122223333","Service":"sns.amazonaws.com"},
		"NotAction":"s3:Get*","NotResource":["arn:aws:s3:::b","arn:aws:s3:::b/*"],
		"Condition":{"StringEquals":{"aws:SourceAccount":111122223333},"Bool":{"aws:SecureTransport":false}}}}`, Resource)
	if err != nil {
		t.Fatal(err)
	}
	want := &Policy{Version: "2012-10-17", ID: "pol", Statements: []Statement{{
		Sid: "1", Effect: Deny,
		NotPrincipal: &Principals{AWS: []string{"111122223333"}, Service: []string{"sns.amazonaws.com"}},
		NotAction:    []string{"s3:Get*"}, NotResource: []string{"arn:aws:s3:::b", "arn:aws:s3:::b/*"},
		Condition: []Condition{
			{Operator: "Bool", Key: "aws:SecureTransport", Values: []string{"false"}},
			{Operator: "StringEquals", Key: "aws:SourceAccount", Values: []string{"111122223333"}},
		},
	}}}
	if p.Kind() != Resource || !reflect.DeepEqual(p.Statements, want.Statements) || p.ID != want.ID || p.Version != want.Version {
		t.Fatalf("Parse = %+v, want %+v", p.Statements, want.Statements)
	}
	out, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	const doc = `{"Version":"2012-10-17","Id":"pol","Statement":[{"Sid":"1","Effect":"Deny","NotPrincipal":{"AWS":["111122223333"],"Service":["sns.amazonaws.com"]},` +
		`"NotAction":["s3:Get*"],"NotResource":["arn:aws:s3:::b","arn:aws:s3:::b/*"],"Condition":{"Bool":{"aws:SecureTransport":["false"]},"StringEquals":{"aws:SourceAccount":["111122223333"]}}}]}`
	if string(out) != doc {
		t.Fatalf("MarshalJSON = %s\nwant %s", out, doc)
	}
}

func TestSize(t *testing.T) {
	t.Parallel()
	if got := Size("{ \"a\" :\n\t\"b c\" }"); got != 10 {
		t.Fatalf("Size = %d, want 10 (white space not counted)", got)
	}
}

func TestCacheKeepsCompiledPolicies(t *testing.T) {
	t.Parallel()
	c := NewCache(2)
	doc := stmt(`{"Effect":"Allow","Action":"s3:*","Resource":"*"}`)
	a, err := c.Parse(doc, Identity)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := c.Parse(doc, Identity); b != a {
		t.Fatal("the same document compiled twice")
	}
	if _, err := c.Parse(doc, Resource); err == nil {
		t.Fatal("a document cached as one kind was accepted as another")
	}
	if _, err := c.Parse(`{`, Identity); err == nil {
		t.Fatal("a bad document was accepted")
	}
	var none *Cache
	if p, err := none.Parse(doc, Identity); err != nil || p == nil {
		t.Fatalf("nil cache Parse = %v, %v", p, err)
	}
}
