package iam

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/kiri-run/kiri/internal/service/servicetest"
)

// TestHandlersFitModel loads the IAM model and binds every handler, as the first request would:
// a handler whose types do not fit its operation fails here rather than in production.
func TestHandlersFitModel(t *testing.T) {
	svc, err := New(context.Background(), servicetest.Deps(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.API().Load(); err != nil {
		t.Fatal(err)
	}
}

// TestAWSManagedPoliciesParse reads every embedded AWS managed policy with the policy engine.
func TestAWSManagedPoliciesParse(t *testing.T) {
	c := awsPolicies()
	if len(c.ordered) < 24 {
		t.Fatalf("%d AWS managed policies, want at least 24", len(c.ordered))
	}
	if _, ok := c.byARN["arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"]; !ok {
		t.Fatal("AWSLambdaBasicExecutionRole is missing or not under service-role/")
	}
}

func TestPage(t *testing.T) {
	items := []string{"a", "b", "c", "d", "e"}
	id := func(s string) string { return s }
	var got []string
	var marker *string
	max := int32(2)
	for range 10 {
		p, truncated, next, err := page(items, id, marker, &max)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, p...)
		if !truncated {
			if next != nil {
				t.Fatal("a last page with a marker")
			}
			break
		}
		marker = next
	}
	if strings.Join(got, "") != "abcde" {
		t.Fatalf("pages gave %v", got)
	}
	bad := "!!"
	if _, _, _, err := page(items, id, &bad, nil); err == nil {
		t.Fatal("a marker that is no marker was accepted")
	}
}

func TestEncodeDocument(t *testing.T) {
	doc := "{\n  \"Version\": \"2012-10-17\", \"Resource\": \"arn:aws:s3:::b/*\"}"
	enc := encodeDocument(doc)
	if dec, err := url.PathUnescape(enc); err != nil || dec != doc {
		t.Fatalf("round trip: %q, %v", dec, err)
	}
	if strings.ContainsAny(enc, " \n{}\":,/*+") {
		t.Fatalf("%q keeps reserved characters", enc)
	}
}

func TestStatementSpan(t *testing.T) {
	cases := []struct {
		name, doc string
		i         int
		want      string // the statement's text
		line, col int32
	}{
		{"list", "{\"Version\":\"2012-10-17\",\n\"Statement\":[\n  {\"Effect\":\"Allow\"},\n  {\"Effect\":\"Deny\"}\n]}", 1, `{"Effect":"Deny"}`, 4, 3},
		{"single object", `{"Statement": {"Effect":"Allow"}, "Version":"2012-10-17"}`, 0, `{"Effect":"Allow"}`, 1, 15},
		{"statement after other members", `{"Id":{"x":[1,2]},"Statement":[{"Sid":"a"}]}`, 0, `{"Sid":"a"}`, 1, 32},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			start, end, ok := statementSpan(tc.doc, tc.i)
			if !ok || tc.doc[start:end] != tc.want {
				t.Fatalf("span %d..%d %v = %q", start, end, ok, tc.doc[start:min(end, len(tc.doc))])
			}
			if p := position(tc.doc, start); *p.Line != tc.line || *p.Column != tc.col {
				t.Fatalf("position %d:%d, want %d:%d", *p.Line, *p.Column, tc.line, tc.col)
			}
		})
	}
	if _, _, ok := statementSpan(`{"Statement":[{}]}`, 3); ok {
		t.Fatal("found a statement past the end")
	}
}

func TestSplitIAMARN(t *testing.T) {
	cases := []struct {
		arn                       string
		account, kind, path, name string
		ok                        bool
	}{
		{"arn:aws:iam::123456789012:user/alice", "123456789012", "user", "/", "alice", true},
		{"arn:aws:iam::123456789012:role/a/b/r", "123456789012", "role", "/a/b/", "r", true},
		{"arn:aws:iam::aws:policy/service-role/X", "aws", "policy", "/service-role/", "X", true},
		{"arn:aws:iam::123456789012:root", "", "", "", "", false},
		{"arn:aws:sts::123456789012:assumed-role/r/s", "", "", "", "", false},
		{"arn:aws:iam::123456789012:role/", "", "", "", "", false},
	}
	for _, tc := range cases {
		a, k, p, n, ok := splitIAMARN(tc.arn)
		if ok != tc.ok || a != tc.account || k != tc.kind || p != tc.path || n != tc.name {
			t.Errorf("splitIAMARN(%s) = %s %s %s %s %v", tc.arn, a, k, p, n, ok)
		}
	}
}
