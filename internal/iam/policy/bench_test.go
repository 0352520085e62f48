package policy

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// benchmarkSet is a role session with 10 attached policies of 20 statements each: actions
// of several services with wildcards, resource patterns, a third of the statements with
// conditions, a Deny in every policy; one statement near the end allows the request.
func benchmarkSet(t testing.TB) (*Set, *Request) {
	t.Helper()
	services := []string{"s3", "sqs", "sns", "lambda", "dynamodb"}
	verbs := []string{"Get*", "Put%d", "List*", "Delete%d", "Describe%d"}
	set := &Set{}
	for i := 0; i < 10; i++ {
		var stmts []string
		for j := 0; j < 20; j++ {
			svc := services[(i+j)%len(services)]
			verb := verbs[j%len(verbs)]
			if strings.Contains(verb, "%d") {
				verb = fmt.Sprintf(verb, i*20+j)
			}
			effect, cond := "Allow", ""
			switch {
			case j == 7:
				effect, cond = "Deny", `,"Condition":{"Bool":{"aws:SecureTransport":"false"}}`
			case j%3 == 0:
				cond = `,"Condition":{"StringEquals":{"aws:PrincipalTag/team":"team-` + fmt.Sprint(j) + `"},"IpAddress":{"aws:SourceIp":["10.0.0.0/8","192.168.0.0/16"]}}`
			}
			resource := fmt.Sprintf(`["arn:aws:%s:us-east-1:111122223333:res-%d-%d/*","arn:aws:%s:*:111122223333:other-%d"]`, svc, i, j, svc, j)
			if svc == "s3" {
				resource = fmt.Sprintf(`["arn:aws:s3:::bucket-%d-%d/*","arn:aws:s3:::bucket-%d-%d"]`, i, j, i, j)
			}
			stmts = append(stmts, fmt.Sprintf(`{"Sid":"S%d","Effect":"%s","Action":["%s:%s","%s:Tag%d"],"Resource":%s%s}`,
				j, effect, svc, verb, svc, j, resource, cond))
		}
		if i == 9 {
			stmts[18] = `{"Sid":"S18","Effect":"Allow","Action":["s3:GetObject","s3:GetObjectVersion"],"Resource":"arn:aws:s3:::data/${aws:PrincipalTag/team}/*",` +
				`"Condition":{"StringEquals":{"aws:PrincipalTag/team":"blue"},"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}`
		}
		set.Identity = append(set.Identity, mustParse(t, stmt(stmts...), Identity))
	}
	req := &Request{
		Principal: Principal{Type: AssumedRole, Account: "111122223333",
			ARN:    "arn:aws:sts::111122223333:assumed-role/app/session",
			Parent: "arn:aws:iam::111122223333:role/app", UserID: "AROAEXAMPLEID:session",
			Tags: map[string]string{"team": "blue"}},
		Action: "s3:GetObject", Resource: "arn:aws:s3:::data/blue/reports/2026.csv", ResourceAccount: "111122223333",
		Time: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), SourceIP: netip.MustParseAddr("10.1.2.3"), SecureTransport: true,
	}
	if d := Evaluate(req, set); !d.Allowed || d.Policy != set.Identity[9] || d.Statement != 18 {
		t.Fatalf("benchmark request decided %+v, want allowed by policy 9 statement 18", d)
	}
	return set, req
}

// BenchmarkEvaluate decides one request against 10 attached policies of 20 statements.
func BenchmarkEvaluate(b *testing.B) {
	set, req := benchmarkSet(b)
	b.ReportAllocs()
	for b.Loop() {
		Evaluate(req, set)
	}
}

// BenchmarkParse compiles one 20-statement policy.
func BenchmarkParse(b *testing.B) {
	set, _ := benchmarkSet(b)
	doc, err := set.Identity[0].MarshalJSON()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(string(doc), Identity); err != nil {
			b.Fatal(err)
		}
	}
}
