package awsproto_test

import (
	"context"
	"hash/crc32"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/kiri-run/kiri/internal/awsproto"
	lapi "github.com/kiri-run/kiri/internal/awsproto/internal/testapi/lambdaapi"
	s3api "github.com/kiri-run/kiri/internal/awsproto/internal/testapi/s3api"
	stsapi "github.com/kiri-run/kiri/internal/awsproto/internal/testapi/stsapi"
)

func wireRouter(t testing.TB) *awsproto.Router {
	s3 := s3Service(t)
	awsproto.Handle(s3, "PutBucketTagging", func(ctx context.Context, in *s3api.PutBucketTaggingRequest) (*struct{}, error) {
		var kv []string
		for _, tag := range in.Tagging.TagSet {
			kv = append(kv, awsproto.Value(tag.Key)+"="+awsproto.Value(tag.Value))
		}
		awsproto.CallFrom(ctx).ResponseHeader.Set("x-tags", strings.Join(kv, ","))
		return &struct{}{}, nil
	})
	lm := lambdaService(t)
	awsproto.Handle(lm, "CreateFunction", func(ctx context.Context, in *lapi.CreateFunctionRequest) (*lapi.FunctionConfiguration, error) {
		return &lapi.FunctionConfiguration{}, nil
	})
	st := mustService(t, "sts", awsproto.ServiceOptions{})
	awsproto.Handle(st, "AssumeRole", func(ctx context.Context, in *stsapi.AssumeRoleRequest) (*stsapi.AssumeRoleResponse, error) {
		return &stsapi.AssumeRoleResponse{}, nil
	})
	awsproto.Handle(st, "GetCallerIdentity", func(ctx context.Context, in *stsapi.GetCallerIdentityRequest) (*stsapi.GetCallerIdentityResponse, error) {
		if awsproto.CallFrom(ctx).Request.Header.Get("X-Test-Panic") != "" {
			panic("boom")
		}
		return &stsapi.GetCallerIdentityResponse{}, nil
	})
	sn := mustService(t, "sns", awsproto.ServiceOptions{})
	awsproto.Handle(sn, "Publish", func(ctx context.Context, in *publishIn) (*publishOut, error) { return &publishOut{}, nil })
	return awsproto.NewRouter(st, sn, dynamoService(t), s3, lm)
}

func TestWireErrors(t *testing.T) {
	const ddbTarget = "DynamoDB_20120810."
	form := "application/x-www-form-urlencoded"
	tests := []struct {
		name     string
		method   string
		path     string
		headers  map[string]string
		body     string
		status   int
		wantHdr  map[string]string
		contains []string
		noBody   bool
	}{
		{name: "json unknown operation is UnknownOperationException", method: "POST", path: "/", headers: map[string]string{"X-Amz-Target": ddbTarget + "Nope"}, body: "{}",
			status: 400, wantHdr: map[string]string{"X-Amzn-ErrorType": "UnknownOperationException", "Content-Type": "application/x-amz-json-1.0"}, contains: []string{`"__type":"UnknownOperationException"`}},
		{name: "json malformed body is SerializationException", method: "POST", path: "/", headers: map[string]string{"X-Amz-Target": ddbTarget + "GetItem"}, body: `{"TableName":`,
			status: 400, contains: []string{`"__type":"SerializationException"`}},
		{name: "json wrong type is SerializationException", method: "POST", path: "/", headers: map[string]string{"X-Amz-Target": ddbTarget + "GetItem"}, body: `{"TableName":5,"Key":{}}`,
			status: 400, contains: []string{`"__type":"SerializationException"`}},
		{name: "json missing required is ValidationException", method: "POST", path: "/", headers: map[string]string{"X-Amz-Target": ddbTarget + "GetItem"}, body: `{"Key":{}}`,
			status: 400, contains: []string{`"__type":"ValidationException"`, `1 validation error detected: Value null at 'tableName' failed to satisfy constraint: Member must not be null`}},
		{name: "json enum and length violations are listed", method: "POST", path: "/", headers: map[string]string{"X-Amz-Target": ddbTarget + "GetItem"}, body: `{"TableName":"","Key":{},"ReturnConsumedCapacity":"LOTS"}`,
			status: 400, contains: []string{`2 validation errors detected`, `at 'returnConsumedCapacity' failed to satisfy constraint: Member must satisfy enum value set`, `Member must have length greater than or equal to 1`}},
		{name: "dynamodb responses carry X-Amz-Crc32", method: "POST", path: "/", headers: map[string]string{"X-Amz-Target": ddbTarget + "GetItem"}, body: `{"TableName":"t","Key":{"pk":{"S":"x"}}}`,
			status: 200, contains: []string{`{}`}},
		{name: "query unknown action is InvalidAction", method: "POST", path: "/", headers: map[string]string{"Content-Type": form}, body: "Action=Nope&Version=2011-06-15",
			status: 400, contains: []string{`<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>InvalidAction</Code>`, `<RequestId>req-0001</RequestId>`}},
		{name: "query missing required is ValidationError", method: "POST", path: "/", headers: map[string]string{"Content-Type": form}, body: "Action=AssumeRole&Version=2011-06-15&RoleSessionName=s",
			status: 400, contains: []string{`<Code>ValidationError</Code>`, `Value null at &apos;roleArn&apos; failed to satisfy constraint: Member must not be null`}},
		{name: "query ill-typed value is MalformedQueryString", method: "POST", path: "/", headers: map[string]string{"Content-Type": form}, body: "Action=AssumeRole&Version=2011-06-15&RoleArn=arn:aws:iam::1:role/abcdefghijkl&RoleSessionName=sess&DurationSeconds=x",
			status: 400, contains: []string{`<Code>MalformedQueryString</Code>`}},
		{name: "query range violation is ValidationError", method: "POST", path: "/", headers: map[string]string{"Content-Type": form}, body: "Action=AssumeRole&Version=2011-06-15&RoleArn=arn:aws:iam::1:role/abcdefghijkl&RoleSessionName=sess&DurationSeconds=5",
			status: 400, contains: []string{`Value &apos;5&apos; at &apos;durationSeconds&apos; failed to satisfy constraint: Member must have value greater than or equal to 900`}},
		{name: "query nested map member validation names the path", method: "POST", path: "/", headers: map[string]string{"Content-Type": form},
			body:   "Action=Publish&Version=2010-03-31&Message=m&MessageAttributes.entry.1.Name=x&MessageAttributes.entry.1.Value.StringValue=v",
			status: 400, contains: []string{"<Code>ValidationError</Code>", "Value null at &apos;messageAttributes.x.dataType&apos;"}},
		{name: "query GET with Action in URL works", method: "GET", path: "/?Action=AssumeRole&Version=2011-06-15&RoleArn=arn:aws:iam::1:role/abcdefghijkl&RoleSessionName=sess",
			status: 200, contains: []string{`<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult></AssumeRoleResult><ResponseMetadata><RequestId>req-0001</RequestId></ResponseMetadata></AssumeRoleResponse>`}},
		{name: "handler panic is InternalFailure 500", method: "POST", path: "/", body: "Action=GetCallerIdentity&Version=2011-06-15", headers: map[string]string{"Content-Type": form, "X-Test-Panic": "1"},
			status: 500, contains: []string{`<Type>Receiver</Type><Code>InternalFailure</Code>`}},
		{name: "s3 error carries fields and request id", method: "GET", path: "/bkt/missing%20key",
			status: 404, wantHdr: map[string]string{"Content-Type": "application/xml", "x-amz-request-id": "req-0001"}, contains: []string{"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Key>missing key</Key><RequestId>req-0001</RequestId><HostId>"}},
		{name: "s3 head error has no body", method: "HEAD", path: "/bkt/missing", status: 404, noBody: true},
		{name: "s3 malformed xml is MalformedXML", method: "PUT", path: "/bkt?tagging", body: "<Tagging><TagSet>", status: 400, contains: []string{"<Code>MalformedXML</Code>"}},
		{name: "s3 xml payload decodes lists", method: "PUT", path: "/bkt?tagging", body: `<Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><TagSet><Tag><Key>a</Key><Value>1</Value></Tag><Tag><Key>b</Key><Value>2</Value></Tag></TagSet></Tagging>`,
			status: 200, wantHdr: map[string]string{"x-tags": "a=1,b=2"}},
		{name: "s3 xml payload missing required is InvalidArgument", method: "PUT", path: "/bkt?tagging", body: `<Tagging><TagSet><Tag><Key>a</Key></Tag></TagSet></Tagging>`,
			status: 400, contains: []string{"<Code>InvalidArgument</Code>", "Value null at &apos;tagging.tagSet.1.member.value&apos;"}},
		{name: "s3 registered-less operation is NotImplemented", method: "GET", path: "/bkt?versioning", status: 501, contains: []string{"<Code>NotImplemented</Code><Message>Kiri does not implement S3.GetBucketVersioning yet</Message>"}},
		{name: "rest-json missing label-bound member routes to S3 catch-all", method: "DELETE", path: "/2015-03-31/functions/", status: 501, contains: []string{"<Code>NotImplemented</Code>"}},
		{name: "rest-json malformed body is SerializationException", method: "POST", path: "/2015-03-31/functions", body: "{", headers: map[string]string{"Authorization": "AWS4-HMAC-SHA256 Credential=AK/20240101/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=x"},
			status: 400, wantHdr: map[string]string{"X-Amzn-ErrorType": "SerializationException"}, contains: []string{`{"message":`}},
		{name: "rest-json unknown route for signed service is UnknownOperationException", method: "GET", path: "/nothing/here", headers: map[string]string{"Authorization": "AWS4-HMAC-SHA256 Credential=AK/20240101/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=x"},
			status: 404, wantHdr: map[string]string{"X-Amzn-ErrorType": "UnknownOperationException"}},
	}
	r := wireRouter(t)
	h := edge(r)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body))
			for k, v := range tc.headers {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			body := rec.Body.String()
			if rec.Code != tc.status {
				t.Fatalf("status = %d, want %d; body %s", rec.Code, tc.status, body)
			}
			for k, v := range tc.wantHdr {
				if got := rec.Header().Get(k); got != v {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
			for _, c := range tc.contains {
				if !strings.Contains(body, c) {
					t.Errorf("body %s\nlacks %s", body, c)
				}
			}
			if tc.noBody && body != "" {
				t.Errorf("body = %q, want none", body)
			}
			if strings.HasPrefix(tc.headers["X-Amz-Target"], ddbTarget) {
				want := strconv.FormatUint(uint64(crc32.ChecksumIEEE(rec.Body.Bytes())), 10)
				if got := rec.Header().Get("X-Amz-Crc32"); got != want {
					t.Errorf("X-Amz-Crc32 = %q, want %q", got, want)
				}
			}
		})
	}
}

func TestResolveRejectsUnclaimedRequests(t *testing.T) {
	r := awsproto.NewRouter(mustService(t, "dynamodb", awsproto.ServiceOptions{}))
	tests := []struct {
		name string
		req  *http.Request
	}{
		{name: "unknown target prefix", req: func() *http.Request {
			q := httptest.NewRequest("POST", "/", nil)
			q.Header.Set("X-Amz-Target", "Other_2020.Op")
			return q
		}()},
		{name: "rest path without rest services", req: httptest.NewRequest("GET", "/bucket/key", nil)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if rt, err := r.Resolve(tc.req, ""); err == nil {
				t.Fatalf("Resolve = %+v, want error", rt)
			}
		})
	}
}

func TestLoadRejectsMismatchedHandlers(t *testing.T) {
	type wrongField struct {
		RoleArn *int32 `aws:"RoleArn"`
	}
	type unknownMember struct {
		Nope *string `aws:"Nope"`
	}
	tests := []struct {
		name string
		reg  func(s *awsproto.Service)
	}{
		{name: "unknown operation", reg: func(s *awsproto.Service) {
			awsproto.Handle(s, "Nope", func(context.Context, *struct{}) (*struct{}, error) { return nil, nil })
		}},
		{name: "field type does not fit member", reg: func(s *awsproto.Service) {
			awsproto.Handle(s, "AssumeRole", func(context.Context, *wrongField) (*stsapi.AssumeRoleResponse, error) { return nil, nil })
		}},
		{name: "tag names no member", reg: func(s *awsproto.Service) {
			awsproto.Handle(s, "AssumeRole", func(context.Context, *unknownMember) (*stsapi.AssumeRoleResponse, error) { return nil, nil })
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name+" before load", func(t *testing.T) {
			s := mustService(t, "sts", awsproto.ServiceOptions{})
			tc.reg(s)
			if err := s.Load(); err == nil {
				t.Fatal("Load accepted the handler")
			}
		})
		t.Run(tc.name+" after load panics", func(t *testing.T) {
			s := mustService(t, "sts", awsproto.ServiceOptions{})
			if err := s.Load(); err != nil {
				t.Fatal(err)
			}
			defer func() {
				if recover() == nil {
					t.Fatal("Handle did not panic")
				}
			}()
			tc.reg(s)
		})
	}
}
