package lambda

import (
	"context"
	"testing"

	"github.com/kiri-run/kiri/internal/awsproto"
)

func TestParseFunctionName(t *testing.T) {
	cases := []struct {
		name, in string
		want     funcRef
		ok       bool
	}{
		{"plain name", "hello", funcRef{name: "hello"}, true},
		{"name with version", "hello:3", funcRef{name: "hello", qualifier: "3"}, true},
		{"name with $LATEST", "hello:$LATEST", funcRef{name: "hello", qualifier: "$LATEST"}, true},
		{"partial ARN", "123456789012:function:hello", funcRef{account: "123456789012", name: "hello"}, true},
		{"partial ARN with alias", "123456789012:function:hello:live", funcRef{account: "123456789012", name: "hello", qualifier: "live"}, true},
		{"full ARN", "arn:aws:lambda:us-west-2:123456789012:function:hello", funcRef{account: "123456789012", region: "us-west-2", name: "hello"}, true},
		{"full ARN with alias", "arn:aws:lambda:us-west-2:123456789012:function:hello:live", funcRef{account: "123456789012", region: "us-west-2", name: "hello", qualifier: "live"}, true},
		{"empty name", "", funcRef{}, false},
		{"name with a space", "he llo", funcRef{}, false},
		{"name too long", "a234567890123456789012345678901234567890123456789012345678901234x", funcRef{}, false},
		{"empty qualifier", "hello:", funcRef{}, false},
		{"ARN of another service", "arn:aws:s3:us-west-2:123456789012:function:hello", funcRef{}, false},
		{"ARN with a short account", "arn:aws:lambda:us-west-2:1234:function:hello", funcRef{}, false},
		{"too many parts", "arn:aws:lambda:us-west-2:123456789012:function:hello:1:2", funcRef{}, false},
		{"bad qualifier characters", "hello:a.b", funcRef{}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := parseFunctionName(tc.in)
			if ok != tc.ok || (ok && got != tc.want) {
				t.Fatalf("parseFunctionName(%q) = %+v, %v; want %+v, %v", tc.in, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestRefScopesAndQualifiers(t *testing.T) {
	s := &Service{}
	ctx := awsproto.WithCall(context.Background(), &awsproto.Call{AccountID: "111122223333", Region: "eu-west-1"})
	cases := []struct {
		name, fn, qualifier string
		wantARN, wantCode   string
	}{
		{"name takes the caller's scope", "f", "", "arn:aws:lambda:eu-west-1:111122223333:function:f", ""},
		{"qualifier parameter qualifies", "f", "live", "arn:aws:lambda:eu-west-1:111122223333:function:f:live", ""},
		{"matching qualifiers agree", "f:2", "2", "arn:aws:lambda:eu-west-1:111122223333:function:f:2", ""},
		{"contradicting qualifiers are refused", "f:2", "3", "", codeInvalidParameter},
		{"another region is not reachable", "arn:aws:lambda:us-east-1:111122223333:function:f", "", "", codeNotFound},
		{"another account is denied", "999988887777:function:f", "", "", "AccessDeniedException"},
		{"malformed names fail validation", "f/g", "", "", codeValidation},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := s.ref(ctx, &tc.fn, &tc.qualifier)
			if tc.wantCode != "" {
				ae, ok := err.(*awsproto.Error)
				if !ok || ae.Code != tc.wantCode {
					t.Fatalf("err = %v, want %s", err, tc.wantCode)
				}
				return
			}
			if err != nil || r.arn() != tc.wantARN {
				t.Fatalf("ref = %s, %v; want %s", r.arn(), err, tc.wantARN)
			}
		})
	}
}
