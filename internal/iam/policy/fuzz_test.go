package policy

import (
	"errors"
	"net/netip"
	"reflect"
	"testing"
	"time"
)

var fuzzSeeds = []string{
	stmt(`{"Sid":"A1","Effect":"Allow","Action":["s3:Get*","sqs:SendMessage"],"Resource":["arn:aws:s3:::b/${aws:username}/*","*"],"Condition":{"StringLike":{"s3:prefix":"home/*"},"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}`),
	stmt(`{"Effect":"Deny","NotAction":"iam:*","NotResource":"arn:aws:iam::*:user/${aws:username}","Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"},"ForAllValues:StringEquals":{"aws:TagKeys":["a","b"]}}}`),
	`{"Version":"2008-10-17","Id":"x","Statement":{"Effect":"Allow","Principal":{"AWS":["111122223333","arn:aws:iam::444455556666:root"],"Service":"sns.amazonaws.com"},"Action":"sqs:*","Resource":"arn:aws:sqs:*:111122223333:q","Condition":{"ArnEquals":{"aws:SourceArn":"arn:aws:sns:us-east-1:111122223333:t"}}}}`,
	`{"Statement":[{"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:sts::111122223333:assumed-role/r/s"},"Action":"s3:*","Resource":"*","Condition":{"DateLessThan":{"aws:CurrentTime":"2030-01-01"},"NumericGreaterThan":{"s3:max-keys":10}}}]}`,
	stmt(`{"Effect":"Allow","Principal":{"Federated":"accounts.google.com"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"Null":{"x":"true"},"BinaryEquals":{"y":"QQ=="}}}`),
	`{"Statement":[]}`, `{`, `[]`, `{"Version":"2012-10-17","Statement":{"Effect":"allow"}}`,
}

// FuzzParse feeds arbitrary documents to the parser of every kind: it must refuse with an
// *Error or accept, never panic, and an accepted document must survive MarshalJSON and
// Parse unchanged.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		for _, kind := range []Kind{Identity, Resource, Trust} {
			p, err := Parse(doc, kind)
			if err != nil {
				var perr *Error
				if !errors.As(err, &perr) || perr.Message == "" || perr.Problem == 0 {
					t.Fatalf("Parse(%q) = %T %v", doc, err, err)
				}
				continue
			}
			out, err := p.MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			again, err := Parse(string(out), kind)
			if err != nil {
				t.Fatalf("Parse accepted %q but refuses its marshalled form %s: %v", doc, out, err)
			}
			if again.Version != p.Version || again.ID != p.ID || !reflect.DeepEqual(again.Statements, p.Statements) {
				t.Fatalf("round trip changed the policy:\n%s\n%s", doc, out)
			}
			p.IsPublic()
		}
	})
}

// FuzzEvaluate evaluates arbitrary accepted policies for arbitrary actions and resources:
// it must not panic, a decision must name a statement of the right effect, and an explicit
// Deny of everything added to the identity policies must always win.
func FuzzEvaluate(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s, "s3:GetObject", "arn:aws:s3:::b/home/David/x")
		f.Add(s, "sqs:SendMessage", "arn:aws:sqs:us-east-1:111122223333:q")
	}
	denyAll := mustParse(f, stmt(`{"Effect":"Deny","Action":"*","Resource":"*"}`), Identity)
	principals := []Principal{
		{Type: Anonymous},
		root("111122223333"),
		user("111122223333", "David"),
		roleSession("444455556666", "r", "s"),
		federated("111122223333", "fed", "David"),
		{Type: Service, ARN: "sns.amazonaws.com"},
	}
	f.Fuzz(func(t *testing.T, doc, action, resource string) {
		var policies []*Policy
		for _, kind := range []Kind{Identity, Resource, Trust} {
			if p, err := Parse(doc, kind); err == nil {
				policies = append(policies, p)
			}
		}
		if len(policies) == 0 {
			return
		}
		for _, pr := range principals {
			req := &Request{Principal: pr, Action: action, Resource: resource, ResourceAccount: "111122223333",
				Time: time.Unix(1700000000, 0), SourceIP: netip.MustParseAddr("10.0.0.1"),
				SourceARN: "arn:aws:sns:us-east-1:111122223333:t", Values: ValueMap{"s3:prefix": {"home/x"}, "aws:tagkeys": {"a"}}}
			for _, p := range policies {
				set := &Set{Resource: p}
				if p.Kind() == Identity {
					set = &Set{Identity: []*Policy{p}, Boundary: p, Session: []*Policy{p}}
				}
				d := Evaluate(req, set)
				if d.Policy != nil {
					st := d.Policy.Statements[d.Statement]
					if d.Allowed && st.Effect != Allow || d.Explicit && st.Effect != Deny {
						t.Fatalf("decision %+v names a %v statement", d, st.Effect)
					}
				}
				if pr.Type != Anonymous && pr.Type != Service {
					set.Identity = append(set.Identity, denyAll)
					if d := Evaluate(req, set); d.Allowed || !d.Explicit {
						t.Fatalf("a Deny of everything did not decide: %+v", d)
					}
				}
			}
		}
	})
}
