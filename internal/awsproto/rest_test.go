package awsproto_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/kiri-run/kiri/internal/awsproto"
	lapi "github.com/kiri-run/kiri/internal/awsproto/internal/testapi/lambdaapi"
	s3api "github.com/kiri-run/kiri/internal/awsproto/internal/testapi/s3api"
)

func lambdaService(t testing.TB) *awsproto.Service {
	s := mustService(t, "lambda", awsproto.ServiceOptions{})
	awsproto.Handle(s, "GetFunction", func(ctx context.Context, in *lapi.GetFunctionRequest) (*lapi.GetFunctionResponse, error) {
		if awsproto.Value(in.FunctionName) != "my fn" {
			return nil, awsproto.Errorf("ResourceNotFoundException", 0, "Function not found: %s", awsproto.Value(in.FunctionName))
		}
		return &lapi.GetFunctionResponse{
			Configuration: &lapi.FunctionConfiguration{FunctionName: in.FunctionName, Version: in.Qualifier, MemorySize: awsproto.Ptr(int32(256)), Architectures: []string{"arm64"}},
			Tags:          map[string]string{"team": "kiri"},
		}, nil
	})
	awsproto.Handle(s, "Invoke", func(ctx context.Context, in *lapi.InvocationRequest) (*lapi.InvocationResponse, error) {
		return &lapi.InvocationResponse{
			StatusCode:      awsproto.Ptr(int32(200)),
			ExecutedVersion: awsproto.Ptr("$LATEST"),
			FunctionError:   awsproto.Ptr("Unhandled"),
			LogResult:       awsproto.Ptr(awsproto.Value(in.InvocationType) + ":" + awsproto.Value(in.LogType)),
			Payload:         append([]byte("echo:"), in.Payload...),
		}, nil
	})
	return s
}

func TestLambdaRESTJSONRoundTrip(t *testing.T) {
	srv := newServer(t, lambdaService(t), mustService(t, "s3", awsproto.ServiceOptions{}))
	client := lambda.NewFromConfig(sdkConfig(), func(o *lambda.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	ctx := context.Background()

	fn, err := client.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("my fn"), Qualifier: aws.String("3")})
	if err != nil {
		t.Fatalf("GetFunction: %v", err)
	}
	c := fn.Configuration
	if aws.ToString(c.FunctionName) != "my fn" || aws.ToString(c.Version) != "3" || aws.ToInt32(c.MemorySize) != 256 || len(c.Architectures) != 1 || c.Architectures[0] != lambdatypes.ArchitectureArm64 || fn.Tags["team"] != "kiri" {
		t.Errorf("GetFunction = %+v", fn)
	}

	inv, err := client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("f"), Payload: []byte(`{"a":1}`), InvocationType: lambdatypes.InvocationTypeRequestResponse, LogType: lambdatypes.LogTypeTail})
	if err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	if string(inv.Payload) != `echo:{"a":1}` || inv.StatusCode != 200 || aws.ToString(inv.FunctionError) != "Unhandled" || aws.ToString(inv.LogResult) != "RequestResponse:Tail" || aws.ToString(inv.ExecutedVersion) != "$LATEST" {
		t.Errorf("Invoke = %+v payload %q", inv, inv.Payload)
	}

	_, err = client.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("other")})
	var rnf *lambdatypes.ResourceNotFoundException
	if !errors.As(err, &rnf) || aws.ToString(rnf.Message) != "Function not found: other" || aws.ToString(rnf.Type) != "User" {
		t.Fatalf("error = %v (%+v), want ResourceNotFoundException", err, rnf)
	}
	var re *awshttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() != 404 {
		t.Errorf("status = %v", err)
	}
}

type memBucket struct {
	mu      sync.Mutex
	objects map[string][]byte
	meta    map[string]map[string]string
}

func s3Service(t testing.TB) *awsproto.Service {
	s := mustService(t, "s3", awsproto.ServiceOptions{
		XMLRootNames:       map[string]string{"ListObjectsV2": "ListBucketResult"},
		SkipEnumValidation: true,
	})
	b := &memBucket{objects: map[string][]byte{}, meta: map[string]map[string]string{}}
	modified := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	noSuchKey := func(key string) error {
		return &awsproto.Error{Code: "NoSuchKey", Message: "The specified key does not exist.", Fields: map[string]string{"Key": key}}
	}
	awsproto.Handle(s, "PutObject", func(ctx context.Context, in *s3api.PutObjectRequest) (*s3api.PutObjectOutput, error) {
		data, err := io.ReadAll(in.Body)
		if err != nil {
			return nil, err
		}
		b.mu.Lock()
		defer b.mu.Unlock()
		b.objects[*in.Key] = data
		b.meta[*in.Key] = in.Metadata
		return &s3api.PutObjectOutput{ETag: awsproto.Ptr(`"etag1"`)}, nil
	})
	awsproto.Handle(s, "GetObject", func(ctx context.Context, in *s3api.GetObjectRequest) (*s3api.GetObjectOutput, error) {
		b.mu.Lock()
		defer b.mu.Unlock()
		data, ok := b.objects[*in.Key]
		if !ok {
			return nil, noSuchKey(*in.Key)
		}
		return &s3api.GetObjectOutput{Body: io.NopCloser(bytes.NewReader(data)), ContentLength: awsproto.Ptr(int64(len(data))),
			ContentType: awsproto.Ptr("text/plain"), LastModified: &modified, Metadata: b.meta[*in.Key], ETag: awsproto.Ptr(`"etag1"`)}, nil
	})
	awsproto.Handle(s, "HeadObject", func(ctx context.Context, in *s3api.HeadObjectRequest) (*s3api.HeadObjectOutput, error) {
		return nil, awsproto.Errorf("NoSuchKey", 404, "")
	})
	awsproto.Handle(s, "ListObjectsV2", func(ctx context.Context, in *s3api.ListObjectsV2Request) (*s3api.ListObjectsV2Output, error) {
		b.mu.Lock()
		defer b.mu.Unlock()
		out := &s3api.ListObjectsV2Output{Name: in.Bucket, Prefix: in.Prefix, MaxKeys: in.MaxKeys, IsTruncated: awsproto.Ptr(false),
			CommonPrefixes: []s3api.CommonPrefix{{Prefix: awsproto.Ptr("dir/")}}}
		for k, v := range b.objects {
			if strings.HasPrefix(k, awsproto.Value(in.Prefix)) {
				out.Contents = append(out.Contents, s3api.Object{Key: awsproto.Ptr(k), Size: awsproto.Ptr(int64(len(v))), LastModified: &modified, StorageClass: awsproto.Ptr("STANDARD")})
			}
		}
		out.KeyCount = awsproto.Ptr(int32(len(out.Contents)))
		return out, nil
	})
	return s
}

func TestS3RESTXMLRoundTrip(t *testing.T) {
	srv := newServer(t, s3Service(t), lambdaService(t))
	client := s3.NewFromConfig(sdkConfig(), func(o *s3.Options) {
		o.BaseEndpoint = aws.String(srv.URL)
		o.UsePathStyle = true
	})
	ctx := context.Background()
	key := "dir/a b+c&.txt"
	_, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String(key), Body: strings.NewReader("hello world"),
		Metadata: map[string]string{"color": "blue", "Mixed-Case": "x"}})
	if err != nil {
		t.Fatalf("PutObject: %v", err)
	}
	got, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("GetObject: %v", err)
	}
	body, _ := io.ReadAll(got.Body)
	got.Body.Close()
	if string(body) != "hello world" || aws.ToInt64(got.ContentLength) != 11 || got.Metadata["color"] != "blue" || got.Metadata["mixed-case"] != "x" ||
		!got.LastModified.Equal(time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)) || aws.ToString(got.ContentType) != "text/plain" {
		t.Errorf("GetObject = %q %+v", body, got)
	}

	list, err := client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("bkt"), Prefix: aws.String("dir/"), MaxKeys: aws.Int32(10)})
	if err != nil {
		t.Fatalf("ListObjectsV2: %v", err)
	}
	if aws.ToString(list.Name) != "bkt" || aws.ToInt32(list.MaxKeys) != 10 || len(list.Contents) != 1 || aws.ToString(list.Contents[0].Key) != key ||
		aws.ToInt64(list.Contents[0].Size) != 11 || list.Contents[0].StorageClass != s3types.ObjectStorageClassStandard || len(list.CommonPrefixes) != 1 {
		t.Errorf("ListObjectsV2 = %+v", list)
	}

	_, err = client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("missing")})
	var nsk *s3types.NoSuchKey
	if !errors.As(err, &nsk) {
		t.Fatalf("error = %v, want NoSuchKey", err)
	}
	var re *awshttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() != 404 || re.ServiceRequestID() != "req-0001" {
		t.Errorf("status = %v", err)
	}

	_, err = client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("bkt"), Key: aws.String("missing")})
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "NotFound" || !errors.As(err, &re) || re.HTTPStatusCode() != 404 {
		t.Errorf("HeadObject error = %v", err)
	}
}

// TestHandlerEnumsLeaveNewValuesToTheHandler checks that an enum named in HandlerEnums reaches
// the handler with a value the model does not list (a runtime newer than the model), while other
// enums are still checked.
func TestHandlerEnumsLeaveNewValuesToTheHandler(t *testing.T) {
	ctx := context.Background()
	for _, open := range []bool{true, false} {
		opts := awsproto.ServiceOptions{}
		if open {
			opts.HandlerEnums = []string{"Runtime"}
		}
		s := mustService(t, "lambda", opts)
		var got string
		awsproto.Handle(s, "CreateFunction", func(ctx context.Context, in *lapi.CreateFunctionRequest) (*lapi.FunctionConfiguration, error) {
			got = awsproto.Value(in.Runtime)
			return &lapi.FunctionConfiguration{Runtime: in.Runtime}, nil
		})
		srv := newServer(t, s)
		client := lambda.NewFromConfig(sdkConfig(), func(o *lambda.Options) { o.BaseEndpoint = aws.String(srv.URL) })
		in := &lambda.CreateFunctionInput{FunctionName: aws.String("f"), Role: aws.String("arn:aws:iam::000000000000:role/r"),
			Runtime: "python3.99", Code: &lambdatypes.FunctionCode{ZipFile: []byte("z")}}
		_, err := client.CreateFunction(ctx, in)
		if open && (err != nil || got != "python3.99") {
			t.Errorf("open Runtime enum: err %v, handler saw %q", err, got)
		}
		if !open && (err == nil || !strings.Contains(err.Error(), "Member must satisfy enum value set")) {
			t.Errorf("checked Runtime enum: err %v, want an enum violation", err)
		}
		in.Runtime, in.PackageType = lambdatypes.RuntimePython314, "Bogus"
		if _, err := client.CreateFunction(ctx, in); err == nil || !strings.Contains(err.Error(), "at 'packageType' failed to satisfy constraint") {
			t.Errorf("open=%v: PackageType Bogus: err %v, want an enum violation", open, err)
		}
	}
}
