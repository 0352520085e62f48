package s3

import "testing"

func TestConditionHolds(t *testing.T) {
	ctx := map[string][]string{"aws:SourceArn": {"arn:aws:sqs:us-east-1:111122223333:q"}, "s3:prefix": {"public/a"}, "s3:max-keys": {"10"}, "aws:SecureTransport": {"false"}}
	value := func(k string) ([]string, bool) { v, ok := ctx[k]; return v, ok }
	cases := []struct {
		name, op, key string
		want          []string
		holds         bool
	}{
		{"string like matches", "StringLike", "s3:prefix", []string{"public/*"}, true},
		{"arn like matches part by part", "ArnLike", "aws:SourceArn", []string{"arn:aws:sqs:*:111122223333:*"}, true},
		{"arn like keeps a star within its part", "ArnLike", "aws:SourceArn", []string{"arn:aws:sqs:*"}, false},
		{"string like misses", "StringLike", "s3:prefix", []string{"private/*"}, false},
		{"string not like holds when nothing matches", "StringNotLike", "s3:prefix", []string{"private/*"}, true},
		{"string equals any listed value", "StringEquals", "s3:prefix", []string{"x", "public/a"}, true},
		{"missing key fails a positive operator", "StringEquals", "s3:delimiter", []string{"/"}, false},
		{"missing key holds for a negated operator", "StringNotEquals", "s3:delimiter", []string{"/"}, true},
		{"missing key holds with IfExists", "StringLikeIfExists", "aws:Referer", []string{"http://x/*"}, true},
		{"present key is checked with IfExists", "StringLikeIfExists", "s3:prefix", []string{"x*"}, false},
		{"numeric less than", "NumericLessThan", "s3:max-keys", []string{"11"}, true},
		{"numeric greater than", "NumericGreaterThan", "s3:max-keys", []string{"11"}, false},
		{"bool", "Bool", "aws:SecureTransport", []string{"false"}, true},
		{"null true on a missing key", "Null", "s3:delimiter", []string{"true"}, true},
		{"null false on a present key", "Null", "s3:prefix", []string{"false"}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := conditionHolds(c.op, c.want, value, c.key); got != c.holds {
				t.Fatalf("%s %s %v = %v, want %v", c.op, c.key, c.want, got, c.holds)
			}
		})
	}
}

func TestPolicyEvaluate(t *testing.T) {
	const doc = `{"Version":"2012-10-17","Statement":[
	 {"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::222222222222:root"]},"Action":"s3:Get*","Resource":"arn:aws:s3:::b/*"},
	 {"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/secret/*"},
	 {"Effect":"Allow","Principal":"*","Action":"s3:ListBucket","Resource":"arn:aws:s3:::b","Condition":{"StringLike":{"s3:prefix":"public/*"}}}]}`
	p, err := checkPolicy(doc, "b")
	if err != nil {
		t.Fatal(err)
	}
	other := principal{Account: "222222222222", ARN: "arn:aws:iam::222222222222:root"}
	stranger := principal{Account: "333333333333"}
	anon := principal{Anonymous: true}
	prefix := func(v string) func(string) ([]string, bool) {
		return func(k string) ([]string, bool) {
			if k == "s3:prefix" && v != "" {
				return []string{v}, true
			}
			return nil, false
		}
	}
	cases := []struct {
		name     string
		caller   principal
		action   string
		resource string
		value    func(string) ([]string, bool)
		want     policyDecision
	}{
		{"named account is allowed by wildcard action", other, "s3:GetObjectTagging", "arn:aws:s3:::b/k", prefix(""), policyAllow},
		{"other account is not named", stranger, "s3:GetObject", "arn:aws:s3:::b/k", prefix(""), policyNone},
		{"explicit deny wins over allow", other, "s3:GetObject", "arn:aws:s3:::b/secret/k", prefix(""), policyDeny},
		{"anonymous matches star principal", anon, "s3:ListBucket", "arn:aws:s3:::b", prefix("public/x"), policyAllow},
		{"condition fails outside the prefix", anon, "s3:ListBucket", "arn:aws:s3:::b", prefix("private/x"), policyNone},
		{"action outside the statement", other, "s3:PutObject", "arn:aws:s3:::b/k", prefix(""), policyNone},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := p.evaluate(&requestContext{Caller: c.caller, Action: c.action, Resource: c.resource, Value: c.value})
			if got != c.want {
				t.Fatalf("evaluate = %v, want %v", got, c.want)
			}
		})
	}
	if !p.isPublic() {
		t.Fatal("a policy allowing Principal * without fixed callers should be public")
	}
}

func TestCheckPolicyRejects(t *testing.T) {
	cases := []struct{ name, doc string }{
		{"allow with NotPrincipal", `{"Statement":[{"Effect":"Allow","NotPrincipal":{"AWS":"arn:aws:iam::1:root"},"Action":"s3:*","Resource":"arn:aws:s3:::b"}]}`},
		{"resource in another bucket", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::other/*"}]}`},
		{"non-s3 action", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"sqs:SendMessage","Resource":"arn:aws:s3:::b"}]}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := checkPolicy(c.doc, "b"); err == nil {
				t.Fatal("policy accepted, want MalformedPolicy")
			}
		})
	}
}
