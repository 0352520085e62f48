package awsproto

import (
	"context"
	"net/http/httptest"
	"reflect"
	"testing"

	s3api "github.com/kiri-run/kiri/internal/awsproto/internal/testapi/s3api"
)

func TestWriteUnwrappedXML(t *testing.T) {
	for _, tc := range []struct {
		name  string
		roots map[string]string
		out   s3api.GetBucketLocationOutput
		wrote bool
		body  string
	}{
		{"member named as root is written as the root", map[string]string{"GetBucketLocation": "LocationConstraint"},
			s3api.GetBucketLocationOutput{LocationConstraint: Ptr("eu-west-1")}, true,
			"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<LocationConstraint xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">eu-west-1</LocationConstraint>"},
		{"absent member is an empty root", map[string]string{"GetBucketLocation": "LocationConstraint"},
			s3api.GetBucketLocationOutput{}, true,
			"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<LocationConstraint xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"></LocationConstraint>"},
		{"text is escaped", map[string]string{"GetBucketLocation": "LocationConstraint"},
			s3api.GetBucketLocationOutput{LocationConstraint: Ptr("a<b")}, true,
			"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<LocationConstraint xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">a&lt;b</LocationConstraint>"},
		{"other root names keep the wrapper", map[string]string{"GetBucketLocation": "Wrapper"},
			s3api.GetBucketLocationOutput{LocationConstraint: Ptr("x")}, false, ""},
		{"no root name keeps the wrapper", nil, s3api.GetBucketLocationOutput{}, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := NewService("s3", ServiceOptions{XMLRootNames: tc.roots})
			if err != nil {
				t.Fatal(err)
			}
			Handle(s, "GetBucketLocation", func(context.Context, *s3api.GetBucketLocationRequest) (*s3api.GetBucketLocationOutput, error) {
				return &tc.out, nil
			})
			e := s.op("GetBucketLocation")
			rec := httptest.NewRecorder()
			wrote := s.writeUnwrappedXML(rec, httptest.NewRequest("GET", "/b?location", nil), 200, e, e.binding.Load().out, reflect.ValueOf(tc.out))
			if wrote != tc.wrote {
				t.Fatalf("wrote = %v, want %v", wrote, tc.wrote)
			}
			if wrote && rec.Body.String() != tc.body {
				t.Fatalf("body = %q, want %q", rec.Body.String(), tc.body)
			}
		})
	}
}
