package awsproto

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

var allModels = []string{"apigatewayv2", "cloudformation", "dynamodb", "dynamodbstreams", "events", "iam", "kinesis", "lambda", "logs", "pipes", "s3", "scheduler", "sns", "sqs", "stepfunctions", "sts"}

// exampleRequest builds a request that the operation's own template describes.
func exampleRequest(s *Service, r *restRoute) *httptestRequest {
	var path []string
	for _, p := range r.parts {
		switch {
		case p.greedy:
			path = append(path, "a/b%20c")
		case p.label != "":
			path = append(path, "lbl")
		default:
			path = append(path, p.lit)
		}
	}
	var q []string
	for _, l := range r.queryLits {
		if l.hasValue {
			q = append(q, l.key+"="+l.value)
		} else {
			q = append(q, l.key)
		}
	}
	for _, k := range r.reqQuery {
		q = append(q, k+"=1")
	}
	target := "/" + strings.Join(path, "/")
	if len(q) > 0 {
		target += "?" + strings.Join(q, "&")
	}
	return &httptestRequest{method: r.method, target: target, headers: r.reqHeaders}
}

type httptestRequest struct {
	method, target string
	headers        []string
}

func TestEveryRESTOperationRoutesToItself(t *testing.T) {
	for _, name := range allModels {
		s, err := NewService(name, ServiceOptions{})
		if err != nil {
			t.Fatalf("NewService(%q): %v", name, err)
		}
		if s.protocol != "rest-json" && s.protocol != "rest-xml" {
			continue
		}
		router := NewRouter(s)
		t.Run(name, func(t *testing.T) {
			for _, r := range s.routes {
				// ListDirectoryBuckets shares ListBuckets' template (S3 Express endpoints only);
				// deprecated aliases share their replacement's template.
				if r.op == "ListDirectoryBuckets" || s.ops[r.op].op.Deprecated {
					continue
				}
				ex := exampleRequest(s, r)
				req := httptest.NewRequest(ex.method, ex.target, nil)
				for _, h := range ex.headers {
					req.Header.Set(h, "x")
				}
				rt, err := router.Resolve(req, s.SigningName())
				if err != nil || rt.Operation != r.op {
					got := ""
					if rt != nil {
						got = rt.Operation
					}
					t.Errorf("%s %s resolved to %q (%v), want %s", ex.method, ex.target, got, err, r.op)
				}
			}
		})
	}
}

func TestEveryModelLoads(t *testing.T) {
	for _, name := range allModels {
		s, err := NewService(name, ServiceOptions{})
		if err != nil {
			t.Fatalf("NewService(%q): %v", name, err)
		}
		if s.Name() != name || s.SigningName() == "" || s.APIVersion() == "" || len(s.Operations()) == 0 {
			t.Errorf("%s: name %q signing %q version %q", name, s.Name(), s.SigningName(), s.APIVersion())
		}
	}
}

func TestParseTimestampAcceptsEveryWireFormat(t *testing.T) {
	want := time.Date(2024, 2, 3, 4, 5, 6, 0, time.UTC)
	tests := []struct {
		name, in string
	}{
		{"iso8601 zulu", "2024-02-03T04:05:06Z"},
		{"iso8601 fractional", "2024-02-03T04:05:06.000Z"},
		{"iso8601 offset", "2024-02-03T06:05:06+02:00"},
		{"http date", "Sat, 03 Feb 2024 04:05:06 GMT"},
		{"epoch seconds", "1706933106"},
		{"epoch fractional", "1706933106.000"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseTimestamp(tc.in)
			if err != nil || !got.Equal(want) {
				t.Errorf("parseTimestamp(%q) = %v, %v", tc.in, got, err)
			}
		})
	}
}
