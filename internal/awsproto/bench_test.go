package awsproto_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
	ddbapi "github.com/kiri-run/kiri/internal/awsproto/internal/testapi/dynamodbapi"
	s3api "github.com/kiri-run/kiri/internal/awsproto/internal/testapi/s3api"
)

// discard is a ResponseWriter that keeps nothing, so benchmarks measure the codec.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(int)             {}

func benchServe(b *testing.B, s *awsproto.Service, req *http.Request, body []byte) {
	rt, err := awsproto.NewRouter(s).Resolve(req, "")
	if err != nil || rt.Err != nil {
		b.Fatalf("Resolve: %v %v", err, rt.Err)
	}
	rd := bytes.NewReader(body)
	w := &discard{h: http.Header{}}
	call := &awsproto.Call{RequestID: "req-0001"}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rd.Reset(body)
		req.Body = io.NopCloser(rd)
		clear(w.h)
		rt.Serve(w, req, call)
	}
}

func BenchmarkCodecJSON(b *testing.B) {
	s := mustService(b, "dynamodb", awsproto.ServiceOptions{})
	item := map[string]ddbapi.AttributeValue{
		"pk":    {S: awsproto.Ptr("user#123")},
		"name":  {S: awsproto.Ptr("Ada Lovelace")},
		"age":   {N: awsproto.Ptr("36")},
		"tags":  {SS: []string{"a", "b", "c"}},
		"addr":  {M: map[string]ddbapi.AttributeValue{"city": {S: awsproto.Ptr("London")}, "zip": {N: awsproto.Ptr("12345")}}},
		"items": {L: []ddbapi.AttributeValue{{S: awsproto.Ptr("x")}, {N: awsproto.Ptr("1")}, {BOOL: awsproto.Ptr(true)}}},
	}
	awsproto.Handle(s, "GetItem", func(ctx context.Context, in *ddbapi.GetItemInput) (*ddbapi.GetItemOutput, error) {
		return &ddbapi.GetItemOutput{Item: item}, nil
	})
	body := []byte(`{"TableName":"users","Key":{"pk":{"S":"user#123"}},"ConsistentRead":true,"ProjectionExpression":"#n, age","ExpressionAttributeNames":{"#n":"name"}}`)
	req := httptest.NewRequest("POST", "/", nil)
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810.GetItem")
	benchServe(b, s, req, body)
}

func BenchmarkCodecRESTXML(b *testing.B) {
	s := mustService(b, "s3", awsproto.ServiceOptions{XMLRootNames: map[string]string{"ListObjectsV2": "ListBucketResult"}, SkipEnumValidation: true})
	mod := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	var objs []s3api.Object
	for _, k := range []string{"photos/2024/a.jpg", "photos/2024/b.jpg", "photos/2024/c.jpg", "photos/2024/d.jpg", "photos/2024/e.jpg"} {
		objs = append(objs, s3api.Object{Key: awsproto.Ptr(k), Size: awsproto.Ptr(int64(1024)), LastModified: &mod, ETag: awsproto.Ptr(`"d41d8cd98f00b204e9800998ecf8427e"`), StorageClass: awsproto.Ptr("STANDARD")})
	}
	awsproto.Handle(s, "ListObjectsV2", func(ctx context.Context, in *s3api.ListObjectsV2Request) (*s3api.ListObjectsV2Output, error) {
		return &s3api.ListObjectsV2Output{Name: in.Bucket, Prefix: in.Prefix, MaxKeys: in.MaxKeys, KeyCount: awsproto.Ptr(int32(len(objs))), IsTruncated: awsproto.Ptr(false), Contents: objs}, nil
	})
	req := httptest.NewRequest("GET", "/bucket?list-type=2&prefix=photos%2F2024%2F&max-keys=100", nil)
	benchServe(b, s, req, nil)
}

// BenchmarkResolveS3GetObject resolves the SDK's GetObject request: its template is S3's
// least specific, so it is tried after every other GET route.
func BenchmarkResolveS3GetObject(b *testing.B) {
	s := mustService(b, "s3", awsproto.ServiceOptions{SkipEnumValidation: true})
	router := awsproto.NewRouter(s)
	req := httptest.NewRequest("GET", "/bucket/small/03/00001234?x-id=GetObject", nil)
	b.ReportAllocs()
	for b.Loop() {
		if rt, err := router.Resolve(req, "s3"); err != nil || rt.Operation != "GetObject" {
			b.Fatalf("Resolve: %v %v", rt, err)
		}
	}
}
