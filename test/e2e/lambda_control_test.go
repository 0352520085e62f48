package e2e

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

const lambdaRole = "arn:aws:iam::000000000000:role/lambda-role"

// lambdaZip builds a zip in memory holding the given files, executable.
func lambdaZip(t testing.TB, files map[string]string) []byte {
	t.Helper()
	entries := make([]zipEntry, 0, len(files))
	for name, body := range files {
		entries = append(entries, zipEntry{name, 0o755, body})
	}
	return zipOf(t, entries...)
}

// zipEntry is one entry of a test zip; a symlink's body is its target.
type zipEntry struct {
	name string
	mode os.FileMode
	body string
}

// zipOf builds a zip in memory holding entries.
func zipOf(t testing.TB, entries ...zipEntry) []byte {
	t.Helper()
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		h.SetMode(e.mode)
		f, err := w.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		f.Write([]byte(e.body))
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func zipSha(z []byte) string {
	s := sha256.Sum256(z)
	return base64.StdEncoding.EncodeToString(s[:])
}

func createTestFunction(t *testing.T, c *lambda.Client, name string, z []byte, mut ...func(*lambda.CreateFunctionInput)) *lambda.CreateFunctionOutput {
	t.Helper()
	in := &lambda.CreateFunctionInput{
		FunctionName: aws.String(name),
		Runtime:      types.RuntimeProvidedal2023,
		Handler:      aws.String("bootstrap"),
		Role:         aws.String(lambdaRole),
		Code:         &types.FunctionCode{ZipFile: z},
	}
	for _, m := range mut {
		m(in)
	}
	out, err := c.CreateFunction(t.Context(), in)
	if err != nil {
		t.Fatalf("create function %s: %v", name, err)
	}
	return out
}

// wantAPIError checks err is the AWS error code (and, when msg is not "", that its message
// contains msg).
func wantAPIError(t *testing.T, err error, code, msg string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("err = %v, want %s", err, code)
	}
	if ae.ErrorCode() != code || !strings.Contains(ae.ErrorMessage(), msg) {
		t.Fatalf("err = %s: %s, want %s containing %q", ae.ErrorCode(), ae.ErrorMessage(), code, msg)
	}
}

func waitActive(t *testing.T, c *lambda.Client, name string) {
	t.Helper()
	w := lambda.NewFunctionActiveV2Waiter(c, func(o *lambda.FunctionActiveV2WaiterOptions) {
		o.MinDelay = 50 * time.Millisecond
		o.MaxDelay = 200 * time.Millisecond
	})
	if err := w.Wait(t.Context(), &lambda.GetFunctionInput{FunctionName: aws.String(name)}, 10*time.Second); err != nil {
		t.Fatalf("wait active %s: %v", name, err)
	}
}

func waitUpdated(t *testing.T, c *lambda.Client, name string) {
	t.Helper()
	w := lambda.NewFunctionUpdatedV2Waiter(c, func(o *lambda.FunctionUpdatedV2WaiterOptions) {
		o.MinDelay = 50 * time.Millisecond
		o.MaxDelay = 200 * time.Millisecond
	})
	if err := w.Wait(t.Context(), &lambda.GetFunctionInput{FunctionName: aws.String(name)}, 10*time.Second); err != nil {
		t.Fatalf("wait updated %s: %v", name, err)
	}
}

func TestLambdaCreateGetAndStateTransitions(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{})
	c := srv.Clients().Lambda
	ctx := t.Context()
	z := lambdaZip(t, map[string]string{"bootstrap": "#!/bin/sh\necho hi\n"})
	out := createTestFunction(t, c, "hello", z, func(in *lambda.CreateFunctionInput) {
		in.Environment = &types.Environment{Variables: map[string]string{"A": "1"}}
		in.Tags = map[string]string{"team": "x"}
		in.MemorySize = aws.Int32(256)
	})
	if out.State != types.StatePending || aws.ToString(out.CodeSha256) != zipSha(z) || out.CodeSize != int64(len(z)) {
		t.Fatalf("create = state %s sha %s size %d", out.State, aws.ToString(out.CodeSha256), out.CodeSize)
	}
	if aws.ToString(out.FunctionArn) != "arn:aws:lambda:us-east-1:000000000000:function:hello" || aws.ToString(out.Version) != "$LATEST" {
		t.Fatalf("arn %s version %s", aws.ToString(out.FunctionArn), aws.ToString(out.Version))
	}
	if aws.ToInt32(out.Timeout) != 3 || aws.ToInt32(out.MemorySize) != 256 || out.PackageType != types.PackageTypeZip {
		t.Fatalf("defaults: timeout %d memory %d package %s", aws.ToInt32(out.Timeout), aws.ToInt32(out.MemorySize), out.PackageType)
	}
	waitActive(t, c, "hello")

	for _, name := range []string{"hello", "arn:aws:lambda:us-east-1:000000000000:function:hello", "000000000000:function:hello"} {
		got, err := c.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(name)})
		if err != nil {
			t.Fatalf("get %s: %v", name, err)
		}
		cfg := got.Configuration
		if cfg.State != types.StateActive || cfg.LastUpdateStatus != types.LastUpdateStatusSuccessful || cfg.Environment.Variables["A"] != "1" {
			t.Fatalf("get %s: state %s last update %s env %v", name, cfg.State, cfg.LastUpdateStatus, cfg.Environment)
		}
		if aws.ToString(got.Code.RepositoryType) != "S3" || got.Tags["team"] != "x" {
			t.Fatalf("get %s: code %+v tags %v", name, got.Code, got.Tags)
		}
	}

	// The code location downloads the zip.
	got, _ := c.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("hello")})
	resp, err := http.Get(aws.ToString(got.Code.Location))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Equal(body, z) {
		t.Fatalf("code download: %d, %d bytes", resp.StatusCode, len(body))
	}

	_, err = c.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String("hello"), Runtime: types.RuntimePython312,
		Handler: aws.String("h.h"), Role: aws.String(lambdaRole), Code: &types.FunctionCode{ZipFile: z}})
	wantAPIError(t, err, "ResourceConflictException", "Function already exist: hello")
	var conflictErr *types.ResourceConflictException
	if !errors.As(err, &conflictErr) {
		t.Fatalf("err %T is not the typed ResourceConflictException", err)
	}

	_, err = c.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("nope")})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("err = %v, want ResourceNotFoundException", err)
	}
	wantAPIError(t, err, "ResourceNotFoundException", "Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope")

	_, err = c.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("arn:aws:lambda:eu-west-1:000000000000:function:hello")})
	wantAPIError(t, err, "ResourceNotFoundException", "Functions from 'eu-west-1' are not reachable in this region ('us-east-1')")

	// GetFunctionConfiguration agrees, and the configuration settles on Successful after an update.
	up, err := c.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("hello"), Timeout: aws.Int32(30)})
	if err != nil {
		t.Fatal(err)
	}
	if up.LastUpdateStatus != types.LastUpdateStatusInProgress || aws.ToInt32(up.Timeout) != 30 || aws.ToInt32(up.MemorySize) != 256 {
		t.Fatalf("update: %s timeout %d memory %d", up.LastUpdateStatus, aws.ToInt32(up.Timeout), aws.ToInt32(up.MemorySize))
	}
	waitUpdated(t, c, "hello")
	cfg, err := c.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("hello")})
	if err != nil || aws.ToInt32(cfg.Timeout) != 30 || cfg.LastUpdateStatus != types.LastUpdateStatusSuccessful {
		t.Fatalf("config after update: %v %+v", err, cfg)
	}
}

func TestLambdaCreateValidation(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{})
	c := srv.Clients().Lambda
	z := lambdaZip(t, map[string]string{"index.py": "def h(e, c): return 1\n"})
	base := func() *lambda.CreateFunctionInput {
		return &lambda.CreateFunctionInput{FunctionName: aws.String("v"), Runtime: types.RuntimePython312, Handler: aws.String("index.h"),
			Role: aws.String(lambdaRole), Code: &types.FunctionCode{ZipFile: z}}
	}
	bigEnv := map[string]string{"BIG": strings.Repeat("x", 5000)}
	cases := []struct {
		name      string
		mut       func(*lambda.CreateFunctionInput)
		code, msg string
	}{
		{"unknown runtime is an invalid parameter", func(in *lambda.CreateFunctionInput) { in.Runtime = "cobol9" }, "InvalidParameterValueException", "Value cobol9 at 'runtime' failed to satisfy constraint"},
		{"unsupported runtime is an invalid parameter", func(in *lambda.CreateFunctionInput) { in.Runtime = types.RuntimeJava21 }, "InvalidParameterValueException", "at 'runtime'"},
		{"deprecated runtime is refused", func(in *lambda.CreateFunctionInput) { in.Runtime = types.RuntimePython27 }, "InvalidParameterValueException",
			"The runtime parameter of python2.7 is no longer supported for creating or updating AWS Lambda functions. We recommend you use the new runtime (python3.14) while creating or updating functions."},
		{"deprecated nodejs18.x is refused", func(in *lambda.CreateFunctionInput) { in.Runtime = types.RuntimeNodejs18x }, "InvalidParameterValueException",
			"The runtime parameter of nodejs18.x is no longer supported for creating or updating AWS Lambda functions. We recommend you use the new runtime (nodejs24.x) while creating or updating functions."},
		{"deprecated go1.x is refused", func(in *lambda.CreateFunctionInput) { in.Runtime = types.RuntimeGo1x }, "InvalidParameterValueException",
			"The runtime parameter of go1.x is no longer supported for creating or updating AWS Lambda functions. We recommend you use the new runtime (provided.al2023) while creating or updating functions."},
		{"malformed role fails validation", func(in *lambda.CreateFunctionInput) { in.Role = aws.String("r1") }, "ValidationException", "at 'role' failed to satisfy constraint"},
		{"memory below 128 fails validation", func(in *lambda.CreateFunctionInput) { in.MemorySize = aws.Int32(64) }, "ValidationException", "greater than or equal to 128"},
		{"memory above 10240 fails validation", func(in *lambda.CreateFunctionInput) { in.MemorySize = aws.Int32(10241) }, "ValidationException", "less than or equal to 10240"},
		{"timeout above 900 fails validation", func(in *lambda.CreateFunctionInput) { in.Timeout = aws.Int32(901) }, "ValidationException", "less than or equal to 900"},
		{"timeout zero fails validation", func(in *lambda.CreateFunctionInput) { in.Timeout = aws.Int32(0) }, "ValidationException", "greater than or equal to 1"},
		{"ephemeral storage out of range fails validation", func(in *lambda.CreateFunctionInput) {
			in.EphemeralStorage = &types.EphemeralStorage{Size: aws.Int32(256)}
		}, "ValidationException", "ephemeralStorage"},
		{"environment over 4 KB is refused", func(in *lambda.CreateFunctionInput) { in.Environment = &types.Environment{Variables: bigEnv} }, "InvalidParameterValueException", "exceeded the 4KB limit"},
		{"reserved environment keys are refused", func(in *lambda.CreateFunctionInput) {
			in.Environment = &types.Environment{Variables: map[string]string{"AWS_REGION": "x"}}
		}, "InvalidParameterValueException", "Reserved keys used in this request: AWS_REGION"},
		{"missing handler is refused", func(in *lambda.CreateFunctionInput) { in.Handler = nil }, "InvalidParameterValueException", "Runtime and Handler are mandatory"},
		{"image packages are refused", func(in *lambda.CreateFunctionInput) { in.PackageType = types.PackageTypeImage }, "InvalidParameterValueException", "PackageType"},
		{"missing code source is refused", func(in *lambda.CreateFunctionInput) { in.Code = &types.FunctionCode{} }, "InvalidParameterValueException", "Please provide a source for function code."},
		{"a layer, none existing yet, is refused", func(in *lambda.CreateFunctionInput) {
			in.Layers = []string{"arn:aws:lambda:us-east-1:000000000000:layer:deps:1"}
		}, "InvalidParameterValueException", "Layer version arn:aws:lambda:us-east-1:000000000000:layer:deps:1 does not exist."},
		{"bytes that are not a zip are refused", func(in *lambda.CreateFunctionInput) { in.Code = &types.FunctionCode{ZipFile: []byte("not a zip")} }, "InvalidParameterValueException", "Could not unzip uploaded file"},
		{"bad function name fails validation", func(in *lambda.CreateFunctionInput) { in.FunctionName = aws.String("bad name!") }, "ValidationException", "at 'functionName'"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := base()
			tc.mut(in)
			_, err := c.CreateFunction(t.Context(), in)
			wantAPIError(t, err, tc.code, tc.msg)
		})
	}
	for _, rt := range []types.Runtime{types.RuntimeProvidedal2023, types.RuntimeProvidedal2, types.RuntimePython39, types.RuntimePython313,
		types.RuntimePython314, types.RuntimeNodejs20x, types.RuntimeNodejs22x, types.RuntimeNodejs24x} {
		in := base()
		in.FunctionName = aws.String("rt-" + strings.NewReplacer(".", "-").Replace(string(rt)))
		in.Runtime = rt
		if _, err := c.CreateFunction(t.Context(), in); err != nil {
			t.Errorf("runtime %s: %v", rt, err)
		}
	}
	waitActive(t, c, "rt-python3-14")
	_, err := c.UpdateFunctionConfiguration(t.Context(), &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("rt-python3-14"), Runtime: types.RuntimePython38})
	wantAPIError(t, err, "InvalidParameterValueException", "The runtime parameter of python3.8 is no longer supported for creating or updating AWS Lambda functions.")
}

func TestLambdaListFunctionsPaginates(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{})
	c := srv.Clients().Lambda
	ctx := t.Context()
	z := lambdaZip(t, map[string]string{"bootstrap": "x"})
	for i := range 7 {
		createTestFunction(t, c, fmt.Sprintf("fn-%02d", i), z)
	}
	if _, err := c.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String("fn-03")}); err != nil {
		t.Fatal(err)
	}
	var names []string
	p := lambda.NewListFunctionsPaginator(c, &lambda.ListFunctionsInput{MaxItems: aws.Int32(3)})
	pages := 0
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, f := range page.Functions {
			names = append(names, aws.ToString(f.FunctionName))
			if f.State != "" {
				t.Errorf("ListFunctions shows State for %s", aws.ToString(f.FunctionName))
			}
		}
	}
	if len(names) != 7 || pages != 3 || names[0] != "fn-00" || names[6] != "fn-06" {
		t.Fatalf("names %v in %d pages", names, pages)
	}
	all, err := c.ListFunctions(ctx, &lambda.ListFunctionsInput{FunctionVersion: types.FunctionVersionAll})
	if err != nil {
		t.Fatal(err)
	}
	if len(all.Functions) != 8 {
		t.Fatalf("ALL lists %d configurations, want 8", len(all.Functions))
	}
}

func TestLambdaCodeUpdatesVersionsAndDeletes(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{})
	c := srv.Clients().Lambda
	ctx := t.Context()
	z1 := lambdaZip(t, map[string]string{"bootstrap": "one"})
	z2 := lambdaZip(t, map[string]string{"bootstrap": "two"})
	created := createTestFunction(t, c, "ver", z1)
	waitActive(t, c, "ver")

	// Publishing checks the code digest and revision.
	_, err := c.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String("ver"), CodeSha256: aws.String(zipSha(z2))})
	wantAPIError(t, err, "InvalidParameterValueException", "is different from current CodeSHA256 in $LATEST")
	_, err = c.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String("ver"), RevisionId: aws.String("nope")})
	wantAPIError(t, err, "PreconditionFailedException", "The Revision Id provided does not match the latest Revision Id")
	v1, err := c.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String("ver"), CodeSha256: aws.String(zipSha(z1)), Description: aws.String("first")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(v1.Version) != "1" || aws.ToString(v1.FunctionArn) != aws.ToString(created.FunctionArn)+":1" || aws.ToString(v1.Description) != "first" {
		t.Fatalf("v1 = %s %s %q", aws.ToString(v1.Version), aws.ToString(v1.FunctionArn), aws.ToString(v1.Description))
	}
	again, err := c.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String("ver")})
	if err != nil || aws.ToString(again.Version) != "1" {
		t.Fatalf("republishing unchanged code: %v version %s, want 1", err, aws.ToString(again.Version))
	}

	// A dry run changes nothing; a wrong revision is refused; publish makes version 2.
	dry, err := c.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{FunctionName: aws.String("ver"), ZipFile: z2, DryRun: true})
	if err != nil || aws.ToString(dry.CodeSha256) != zipSha(z2) {
		t.Fatalf("dry run: %v", err)
	}
	cur, _ := c.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("ver")})
	if aws.ToString(cur.CodeSha256) != zipSha(z1) {
		t.Fatal("dry run changed the code")
	}
	_, err = c.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{FunctionName: aws.String("ver"), ZipFile: z2, RevisionId: aws.String("stale")})
	wantAPIError(t, err, "PreconditionFailedException", "")
	v2, err := c.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{FunctionName: aws.String("ver"), ZipFile: z2, Publish: true, RevisionId: cur.RevisionId})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(v2.Version) != "2" || aws.ToString(v2.CodeSha256) != zipSha(z2) {
		t.Fatalf("update+publish = version %s sha %s", aws.ToString(v2.Version), aws.ToString(v2.CodeSha256))
	}
	waitUpdated(t, c, "ver")
	q1, err := c.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("ver"), Qualifier: aws.String("1")})
	if err != nil || aws.ToString(q1.Configuration.CodeSha256) != zipSha(z1) {
		t.Fatalf("version 1 = %v", err)
	}
	q2, err := c.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("ver:2")})
	if err != nil || aws.ToString(q2.Configuration.Version) != "2" {
		t.Fatalf("ver:2 = %v", err)
	}
	_, err = c.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("ver:2"), Qualifier: aws.String("1")})
	wantAPIError(t, err, "InvalidParameterValueException", "The derived qualifier from the function name does not match the specified qualifier.")
	_, err = c.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("ver"), Qualifier: aws.String("9")})
	wantAPIError(t, err, "ResourceNotFoundException", "Function not found: arn:aws:lambda:us-east-1:000000000000:function:ver:9")

	// Versions list in order, paginated.
	var versions []string
	p := lambda.NewListVersionsByFunctionPaginator(c, &lambda.ListVersionsByFunctionInput{FunctionName: aws.String("ver"), MaxItems: aws.Int32(2)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range page.Versions {
			versions = append(versions, aws.ToString(v.Version))
		}
	}
	if strings.Join(versions, ",") != "$LATEST,1,2" {
		t.Fatalf("versions %v", versions)
	}

	// Deleting: not $LATEST alone, not a version an alias uses; a version; then everything.
	_, err = c.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String("ver"), Qualifier: aws.String("$LATEST")})
	wantAPIError(t, err, "InvalidParameterValueException", "$LATEST version cannot be deleted without deleting the function.")
	if _, err := c.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: aws.String("ver"), Name: aws.String("live"), FunctionVersion: aws.String("1")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String("ver"), Qualifier: aws.String("1")})
	wantAPIError(t, err, "ResourceConflictException", "live")
	if _, err := c.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String("ver"), Qualifier: aws.String("2")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("ver:2")}); err == nil {
		t.Fatal("version 2 still there")
	}
	if _, err := c.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String("ver")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("ver")})
	wantAPIError(t, err, "ResourceNotFoundException", "Function not found")
	_, err = c.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String("ver")})
	wantAPIError(t, err, "ResourceNotFoundException", "Function not found")
}

func TestLambdaAliasesAndRouting(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{})
	c := srv.Clients().Lambda
	ctx := t.Context()
	createTestFunction(t, c, "al", lambdaZip(t, map[string]string{"bootstrap": "1"}))
	c.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String("al")})
	c.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{FunctionName: aws.String("al"), ZipFile: lambdaZip(t, map[string]string{"bootstrap": "2"}), Publish: true})

	weights := func(w map[string]float64) *types.AliasRoutingConfiguration {
		return &types.AliasRoutingConfiguration{AdditionalVersionWeights: w}
	}
	bad := []struct {
		name      string
		in        lambda.CreateAliasInput
		code, msg string
	}{
		{"routing from $LATEST is refused", lambda.CreateAliasInput{FunctionVersion: aws.String("$LATEST"), RoutingConfig: weights(map[string]float64{"1": 0.5})}, "InvalidParameterValueException", "$LATEST is not supported for an alias pointing to more than 1 version"},
		{"two additional versions are refused", lambda.CreateAliasInput{FunctionVersion: aws.String("1"), RoutingConfig: weights(map[string]float64{"2": 0.1, "3": 0.1})}, "InvalidParameterValueException", "cannot be greater than 1"},
		{"a weight above 1 fails validation", lambda.CreateAliasInput{FunctionVersion: aws.String("1"), RoutingConfig: weights(map[string]float64{"2": 1.5})}, "ValidationException", ""},
		{"the primary version as additional is refused", lambda.CreateAliasInput{FunctionVersion: aws.String("1"), RoutingConfig: weights(map[string]float64{"1": 0.5})}, "InvalidParameterValueException", "already included"},
		{"a missing additional version is not found", lambda.CreateAliasInput{FunctionVersion: aws.String("1"), RoutingConfig: weights(map[string]float64{"7": 0.5})}, "ResourceNotFoundException", "function:al:7"},
		{"a missing primary version is not found", lambda.CreateAliasInput{FunctionVersion: aws.String("8")}, "ResourceNotFoundException", "function:al:8"},
		{"a numeric alias name fails validation", lambda.CreateAliasInput{Name: aws.String("12"), FunctionVersion: aws.String("1")}, "ValidationException", "at 'name'"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			in.FunctionName = aws.String("al")
			if in.Name == nil {
				in.Name = aws.String("x")
			}
			_, err := c.CreateAlias(ctx, &in)
			wantAPIError(t, err, tc.code, tc.msg)
		})
	}

	a, err := c.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: aws.String("al"), Name: aws.String("live"), FunctionVersion: aws.String("1"),
		Description: aws.String("canary"), RoutingConfig: weights(map[string]float64{"2": 0.25})})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(a.AliasArn) != "arn:aws:lambda:us-east-1:000000000000:function:al:live" || a.RoutingConfig.AdditionalVersionWeights["2"] != 0.25 {
		t.Fatalf("alias = %s %+v", aws.ToString(a.AliasArn), a.RoutingConfig)
	}
	_, err = c.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: aws.String("al"), Name: aws.String("live"), FunctionVersion: aws.String("1")})
	wantAPIError(t, err, "ResourceConflictException", "Alias already exists")

	// The alias qualifies reads.
	cfg, err := c.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("al"), Qualifier: aws.String("live")})
	if err != nil || aws.ToString(cfg.Version) != "1" {
		t.Fatalf("via alias: %v", err)
	}

	_, err = c.UpdateAlias(ctx, &lambda.UpdateAliasInput{FunctionName: aws.String("al"), Name: aws.String("live"), RevisionId: aws.String("old")})
	wantAPIError(t, err, "PreconditionFailedException", "")
	up, err := c.UpdateAlias(ctx, &lambda.UpdateAliasInput{FunctionName: aws.String("al"), Name: aws.String("live"), FunctionVersion: aws.String("2"),
		RoutingConfig: weights(map[string]float64{}), RevisionId: a.RevisionId})
	if err != nil || aws.ToString(up.FunctionVersion) != "2" || up.RoutingConfig != nil && len(up.RoutingConfig.AdditionalVersionWeights) != 0 {
		t.Fatalf("update alias: %v %+v", err, up)
	}
	for _, n := range []string{"b", "c", "d"} {
		if _, err := c.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: aws.String("al"), Name: aws.String(n), FunctionVersion: aws.String("1")}); err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	p := lambda.NewListAliasesPaginator(c, &lambda.ListAliasesInput{FunctionName: aws.String("al"), MaxItems: aws.Int32(2)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range page.Aliases {
			names = append(names, aws.ToString(a.Name))
		}
	}
	if strings.Join(names, ",") != "b,c,d,live" {
		t.Fatalf("aliases %v", names)
	}
	byVersion, _ := c.ListAliases(ctx, &lambda.ListAliasesInput{FunctionName: aws.String("al"), FunctionVersion: aws.String("2")})
	if len(byVersion.Aliases) != 1 {
		t.Fatalf("aliases of version 2: %d", len(byVersion.Aliases))
	}
	if _, err := c.DeleteAlias(ctx, &lambda.DeleteAliasInput{FunctionName: aws.String("al"), Name: aws.String("b")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetAlias(ctx, &lambda.GetAliasInput{FunctionName: aws.String("al"), Name: aws.String("b")})
	wantAPIError(t, err, "ResourceNotFoundException", "Cannot find alias arn: arn:aws:lambda:us-east-1:000000000000:function:al:b")
}

func TestLambdaTagsConcurrencyAndAccountSettings(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{})
	c := srv.Clients().Lambda
	ctx := t.Context()
	z := lambdaZip(t, map[string]string{"bootstrap": "x"})
	f := createTestFunction(t, c, "tg", z, func(in *lambda.CreateFunctionInput) { in.Tags = map[string]string{"a": "1"} })
	createTestFunction(t, c, "other", z)
	arn := f.FunctionArn
	if _, err := c.TagResource(ctx, &lambda.TagResourceInput{Resource: arn, Tags: map[string]string{"b": "2", "c": "3"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UntagResource(ctx, &lambda.UntagResourceInput{Resource: arn, TagKeys: []string{"c"}}); err != nil {
		t.Fatal(err)
	}
	tags, err := c.ListTags(ctx, &lambda.ListTagsInput{Resource: arn})
	if err != nil || len(tags.Tags) != 2 || tags.Tags["a"] != "1" || tags.Tags["b"] != "2" {
		t.Fatalf("tags = %v %v", tags, err)
	}
	_, err = c.TagResource(ctx, &lambda.TagResourceInput{Resource: aws.String(aws.ToString(arn) + ":1"), Tags: map[string]string{"x": "y"}})
	wantAPIError(t, err, "InvalidParameterValueException", "Tags on function aliases and versions are not supported")
	_, err = c.ListTags(ctx, &lambda.ListTagsInput{Resource: aws.String("arn:aws:lambda:us-east-1:000000000000:function:none")})
	wantAPIError(t, err, "ResourceNotFoundException", "Function not found")

	got, _ := c.GetFunctionConcurrency(ctx, &lambda.GetFunctionConcurrencyInput{FunctionName: aws.String("tg")})
	if got.ReservedConcurrentExecutions != nil {
		t.Fatal("fresh function has reserved concurrency")
	}
	if _, err := c.PutFunctionConcurrency(ctx, &lambda.PutFunctionConcurrencyInput{FunctionName: aws.String("tg"), ReservedConcurrentExecutions: aws.Int32(850)}); err != nil {
		t.Fatal(err)
	}
	_, err = c.PutFunctionConcurrency(ctx, &lambda.PutFunctionConcurrencyInput{FunctionName: aws.String("other"), ReservedConcurrentExecutions: aws.Int32(51)})
	wantAPIError(t, err, "InvalidParameterValueException", "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [100].")
	if _, err := c.PutFunctionConcurrency(ctx, &lambda.PutFunctionConcurrencyInput{FunctionName: aws.String("other"), ReservedConcurrentExecutions: aws.Int32(50)}); err != nil {
		t.Fatal(err)
	}
	settings, err := c.GetAccountSettings(ctx, &lambda.GetAccountSettingsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if settings.AccountLimit.ConcurrentExecutions != 1000 || settings.AccountLimit.UnreservedConcurrentExecutions == nil ||
		*settings.AccountLimit.UnreservedConcurrentExecutions != 100 || settings.AccountUsage.FunctionCount != 2 ||
		settings.AccountUsage.TotalCodeSize != 2*int64(len(z)) {
		t.Fatalf("settings = %+v %+v", settings.AccountLimit, settings.AccountUsage)
	}
	fn, _ := c.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("tg")})
	if fn.Concurrency == nil || aws.ToInt32(fn.Concurrency.ReservedConcurrentExecutions) != 850 {
		t.Fatalf("GetFunction concurrency = %+v", fn.Concurrency)
	}
	if _, err := c.DeleteFunctionConcurrency(ctx, &lambda.DeleteFunctionConcurrencyInput{FunctionName: aws.String("tg")}); err != nil {
		t.Fatal(err)
	}
	got, _ = c.GetFunctionConcurrency(ctx, &lambda.GetFunctionConcurrencyInput{FunctionName: aws.String("tg")})
	if got.ReservedConcurrentExecutions != nil {
		t.Fatal("reserved concurrency not deleted")
	}
}

func TestLambdaEventInvokeConfigs(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{})
	c := srv.Clients().Lambda
	ctx := t.Context()
	createTestFunction(t, c, "ev", lambdaZip(t, map[string]string{"bootstrap": "x"}))
	c.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String("ev")})

	_, err := c.GetFunctionEventInvokeConfig(ctx, &lambda.GetFunctionEventInvokeConfigInput{FunctionName: aws.String("ev")})
	wantAPIError(t, err, "ResourceNotFoundException", "doesn't have an EventInvokeConfig")
	_, err = c.PutFunctionEventInvokeConfig(ctx, &lambda.PutFunctionEventInvokeConfigInput{FunctionName: aws.String("ev"), MaximumRetryAttempts: aws.Int32(3)})
	wantAPIError(t, err, "ValidationException", "maximumRetryAttempts")
	_, err = c.PutFunctionEventInvokeConfig(ctx, &lambda.PutFunctionEventInvokeConfigInput{FunctionName: aws.String("ev"), MaximumEventAgeInSeconds: aws.Int32(30)})
	wantAPIError(t, err, "ValidationException", "maximumEventAgeInSeconds")
	_, err = c.PutFunctionEventInvokeConfig(ctx, &lambda.PutFunctionEventInvokeConfigInput{FunctionName: aws.String("ev"),
		DestinationConfig: &types.DestinationConfig{OnSuccess: &types.OnSuccess{Destination: aws.String("nope")}}})
	wantAPIError(t, err, "InvalidParameterValueException", "destination config")

	// S3 buckets cannot be reached until Kiri delivers to them: refused, as Lambda refuses a
	// destination the execution role cannot reach, rather than dropped later.
	const bucket = "arn:aws:s3:::records"
	_, err = c.PutFunctionEventInvokeConfig(ctx, &lambda.PutFunctionEventInvokeConfigInput{FunctionName: aws.String("ev"),
		DestinationConfig: &types.DestinationConfig{OnFailure: &types.OnFailure{Destination: aws.String(bucket)}}})
	wantAPIError(t, err, "InvalidParameterValueException", "The function's execution role does not have permissions to call PutObject on "+bucket)
	if _, err := c.GetFunctionEventInvokeConfig(ctx, &lambda.GetFunctionEventInvokeConfigInput{FunctionName: aws.String("ev")}); err == nil {
		t.Fatal("a refused destination left an event invoke config")
	}
	// Event buses are (see TestLambdaDestinationToEventBus).
	const bus = "arn:aws:events:us-east-1:000000000000:event-bus/default"
	if _, err := c.PutFunctionEventInvokeConfig(ctx, &lambda.PutFunctionEventInvokeConfigInput{FunctionName: aws.String("ev"),
		DestinationConfig: &types.DestinationConfig{OnFailure: &types.OnFailure{Destination: aws.String(bus)}}}); err != nil {
		t.Fatalf("an event bus as destination: %v", err)
	}
	if _, err := c.DeleteFunctionEventInvokeConfig(ctx, &lambda.DeleteFunctionEventInvokeConfigInput{FunctionName: aws.String("ev")}); err != nil {
		t.Fatal(err)
	}
	// Topics are: as destinations and as dead-letter targets.
	const topic = "arn:aws:sns:us-east-1:000000000000:alerts"
	if _, err := c.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("ev"),
		DeadLetterConfig: &types.DeadLetterConfig{TargetArn: aws.String(topic)}}); err != nil {
		t.Fatalf("a topic as dead-letter target: %v", err)
	}
	waitUpdated(t, c, "ev")
	createTestFunction(t, c, "ev-dlq", lambdaZip(t, map[string]string{"bootstrap": "x"}), func(in *lambda.CreateFunctionInput) {
		in.DeadLetterConfig = &types.DeadLetterConfig{TargetArn: aws.String(topic)}
	})
	if _, err := c.PutFunctionEventInvokeConfig(ctx, &lambda.PutFunctionEventInvokeConfigInput{FunctionName: aws.String("ev-dlq"),
		DestinationConfig: &types.DestinationConfig{OnFailure: &types.OnFailure{Destination: aws.String(topic)}}}); err != nil {
		t.Fatalf("a topic as destination: %v", err)
	}

	const other = "arn:aws:lambda:us-east-1:000000000000:function:other"
	put, err := c.PutFunctionEventInvokeConfig(ctx, &lambda.PutFunctionEventInvokeConfigInput{FunctionName: aws.String("ev"),
		MaximumRetryAttempts: aws.Int32(1), MaximumEventAgeInSeconds: aws.Int32(600),
		DestinationConfig: &types.DestinationConfig{OnFailure: &types.OnFailure{Destination: aws.String(other)}}})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(put.FunctionArn) != "arn:aws:lambda:us-east-1:000000000000:function:ev:$LATEST" || aws.ToInt32(put.MaximumRetryAttempts) != 1 {
		t.Fatalf("put = %s %d", aws.ToString(put.FunctionArn), aws.ToInt32(put.MaximumRetryAttempts))
	}
	up, err := c.UpdateFunctionEventInvokeConfig(ctx, &lambda.UpdateFunctionEventInvokeConfigInput{FunctionName: aws.String("ev"), MaximumRetryAttempts: aws.Int32(0)})
	if err != nil || aws.ToInt32(up.MaximumRetryAttempts) != 0 || aws.ToInt32(up.MaximumEventAgeInSeconds) != 600 ||
		aws.ToString(up.DestinationConfig.OnFailure.Destination) != other {
		t.Fatalf("update merges: %v %+v", err, up)
	}
	_, err = c.UpdateFunctionEventInvokeConfig(ctx, &lambda.UpdateFunctionEventInvokeConfigInput{FunctionName: aws.String("ev"), Qualifier: aws.String("1"), MaximumRetryAttempts: aws.Int32(0)})
	wantAPIError(t, err, "ResourceNotFoundException", "")
	if _, err := c.PutFunctionEventInvokeConfig(ctx, &lambda.PutFunctionEventInvokeConfigInput{FunctionName: aws.String("ev"), Qualifier: aws.String("1"), MaximumRetryAttempts: aws.Int32(2)}); err != nil {
		t.Fatal(err)
	}
	list, err := c.ListFunctionEventInvokeConfigs(ctx, &lambda.ListFunctionEventInvokeConfigsInput{FunctionName: aws.String("ev"), MaxItems: aws.Int32(1)})
	if err != nil || len(list.FunctionEventInvokeConfigs) != 1 || list.NextMarker == nil {
		t.Fatalf("list page 1: %v %+v", err, list)
	}
	list2, err := c.ListFunctionEventInvokeConfigs(ctx, &lambda.ListFunctionEventInvokeConfigsInput{FunctionName: aws.String("ev"), Marker: list.NextMarker})
	if err != nil || len(list2.FunctionEventInvokeConfigs) != 1 || list2.NextMarker != nil {
		t.Fatalf("list page 2: %v %+v", err, list2)
	}
	if _, err := c.DeleteFunctionEventInvokeConfig(ctx, &lambda.DeleteFunctionEventInvokeConfigInput{FunctionName: aws.String("ev")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetFunctionEventInvokeConfig(ctx, &lambda.GetFunctionEventInvokeConfigInput{FunctionName: aws.String("ev")})
	wantAPIError(t, err, "ResourceNotFoundException", "")
}

func TestLambdaPermissionsPolicy(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{})
	c := srv.Clients().Lambda
	ctx := t.Context()
	createTestFunction(t, c, "pol", lambdaZip(t, map[string]string{"bootstrap": "x"}))
	_, err := c.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String("pol")})
	wantAPIError(t, err, "ResourceNotFoundException", "The resource you requested does not exist.")

	add, err := c.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: aws.String("pol"), StatementId: aws.String("s3"),
		Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("s3.amazonaws.com"),
		SourceArn: aws.String("arn:aws:s3:::bucket"), SourceAccount: aws.String("000000000000")})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"Sid":"s3","Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:us-east-1:000000000000:function:pol","Condition":{"StringEquals":{"AWS:SourceAccount":"000000000000"},"ArnLike":{"AWS:SourceArn":"arn:aws:s3:::bucket"}}}`
	if aws.ToString(add.Statement) != want {
		t.Fatalf("statement = %s\nwant        %s", aws.ToString(add.Statement), want)
	}
	_, err = c.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: aws.String("pol"), StatementId: aws.String("s3"),
		Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("*")})
	wantAPIError(t, err, "ResourceConflictException", "The statement id (s3) provided already exists")
	_, err = c.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: aws.String("pol"), StatementId: aws.String("x"),
		Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("*"), RevisionId: aws.String("old")})
	wantAPIError(t, err, "PreconditionFailedException", "")
	if _, err := c.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: aws.String("pol"), StatementId: aws.String("url"),
		Action: aws.String("lambda:InvokeFunctionUrl"), Principal: aws.String("*"), FunctionUrlAuthType: types.FunctionUrlAuthTypeNone}); err != nil {
		t.Fatal(err)
	}
	pol, err := c.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String("pol")})
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Version, Id string
		Statement   []map[string]any
	}
	if err := json.Unmarshal([]byte(aws.ToString(pol.Policy)), &doc); err != nil || doc.Version != "2012-10-17" || doc.Id != "default" || len(doc.Statement) != 2 {
		t.Fatalf("policy = %s (%v)", aws.ToString(pol.Policy), err)
	}
	cfg, _ := c.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("pol")})
	if aws.ToString(pol.RevisionId) != aws.ToString(cfg.RevisionId) {
		t.Fatalf("policy revision %s, function revision %s", aws.ToString(pol.RevisionId), aws.ToString(cfg.RevisionId))
	}
	_, err = c.RemovePermission(ctx, &lambda.RemovePermissionInput{FunctionName: aws.String("pol"), StatementId: aws.String("nope")})
	wantAPIError(t, err, "ResourceNotFoundException", "Statement nope is not found in resource policy.")
	for _, sid := range []string{"s3", "url"} {
		if _, err := c.RemovePermission(ctx, &lambda.RemovePermissionInput{FunctionName: aws.String("pol"), StatementId: aws.String(sid)}); err != nil {
			t.Fatal(err)
		}
	}
	_, err = c.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String("pol")})
	wantAPIError(t, err, "ResourceNotFoundException", "")
}

func TestLambdaFunctionURLConfigs(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{})
	c := srv.Clients().Lambda
	ctx := t.Context()
	createTestFunction(t, c, "web", lambdaZip(t, map[string]string{"bootstrap": "x"}))
	c.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String("web")})
	c.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: aws.String("web"), Name: aws.String("prod"), FunctionVersion: aws.String("1")})

	created, err := c.CreateFunctionUrlConfig(ctx, &lambda.CreateFunctionUrlConfigInput{FunctionName: aws.String("web"), AuthType: types.FunctionUrlAuthTypeNone,
		Cors: &types.Cors{AllowOrigins: []string{"*"}, AllowMethods: []string{"GET"}}})
	if err != nil {
		t.Fatal(err)
	}
	port := srv.URL[strings.LastIndex(srv.URL, ":")+1:]
	urlRE := regexp.MustCompile(`^http://[a-z0-9]{32}\.lambda-url\.us-east-1\.localhost:` + port + `/$`)
	if !urlRE.MatchString(aws.ToString(created.FunctionUrl)) || created.InvokeMode != types.InvokeModeBuffered ||
		aws.ToString(created.FunctionArn) != "arn:aws:lambda:us-east-1:000000000000:function:web" {
		t.Fatalf("created = %s %s %s", aws.ToString(created.FunctionUrl), created.InvokeMode, aws.ToString(created.FunctionArn))
	}
	_, err = c.CreateFunctionUrlConfig(ctx, &lambda.CreateFunctionUrlConfigInput{FunctionName: aws.String("web"), AuthType: types.FunctionUrlAuthTypeNone})
	wantAPIError(t, err, "ResourceConflictException", "FunctionUrlConfig exists for this Lambda function")
	_, err = c.CreateFunctionUrlConfig(ctx, &lambda.CreateFunctionUrlConfigInput{FunctionName: aws.String("web"), AuthType: "BOGUS"})
	wantAPIError(t, err, "ValidationException", "authType")
	prod, err := c.CreateFunctionUrlConfig(ctx, &lambda.CreateFunctionUrlConfigInput{FunctionName: aws.String("web"), Qualifier: aws.String("prod"),
		AuthType: types.FunctionUrlAuthTypeAwsIam, InvokeMode: types.InvokeModeResponseStream})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(prod.FunctionArn) != "arn:aws:lambda:us-east-1:000000000000:function:web:prod" || aws.ToString(prod.FunctionUrl) == aws.ToString(created.FunctionUrl) {
		t.Fatalf("alias url = %s %s", aws.ToString(prod.FunctionArn), aws.ToString(prod.FunctionUrl))
	}
	up, err := c.UpdateFunctionUrlConfig(ctx, &lambda.UpdateFunctionUrlConfigInput{FunctionName: aws.String("web"), AuthType: types.FunctionUrlAuthTypeAwsIam})
	if err != nil || up.AuthType != types.FunctionUrlAuthTypeAwsIam || aws.ToString(up.FunctionUrl) != aws.ToString(created.FunctionUrl) || len(up.Cors.AllowOrigins) != 1 {
		t.Fatalf("update = %v %+v", err, up)
	}
	list, err := c.ListFunctionUrlConfigs(ctx, &lambda.ListFunctionUrlConfigsInput{FunctionName: aws.String("web"), MaxItems: aws.Int32(1)})
	if err != nil || len(list.FunctionUrlConfigs) != 1 || list.NextMarker == nil {
		t.Fatalf("list = %v %+v", err, list)
	}
	list2, err := c.ListFunctionUrlConfigs(ctx, &lambda.ListFunctionUrlConfigsInput{FunctionName: aws.String("web"), Marker: list.NextMarker})
	if err != nil || len(list2.FunctionUrlConfigs) != 1 || list2.NextMarker != nil {
		t.Fatalf("list page 2 = %v %+v", err, list2)
	}
	if _, err := c.DeleteFunctionUrlConfig(ctx, &lambda.DeleteFunctionUrlConfigInput{FunctionName: aws.String("web")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetFunctionUrlConfig(ctx, &lambda.GetFunctionUrlConfigInput{FunctionName: aws.String("web")})
	wantAPIError(t, err, "ResourceNotFoundException", "")
	got, err := c.GetFunctionUrlConfig(ctx, &lambda.GetFunctionUrlConfigInput{FunctionName: aws.String("web"), Qualifier: aws.String("prod")})
	if err != nil || got.InvokeMode != types.InvokeModeResponseStream {
		t.Fatalf("alias url after deleting the function's: %v", err)
	}
}

func TestLambdaCodeFromS3(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{})
	cl := srv.Clients()
	ctx := t.Context()
	z := lambdaZip(t, map[string]string{"bootstrap": "from s3"})
	if _, err := cl.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("code")}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("code"), Key: aws.String("fn.zip"), Body: bytes.NewReader(z)}); err != nil {
		t.Fatal(err)
	}
	out, err := cl.Lambda.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String("s3fn"), Runtime: types.RuntimeProvidedal2023,
		Handler: aws.String("bootstrap"), Role: aws.String(lambdaRole), Code: &types.FunctionCode{S3Bucket: aws.String("code"), S3Key: aws.String("fn.zip")}})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.CodeSha256) != zipSha(z) {
		t.Fatalf("sha = %s", aws.ToString(out.CodeSha256))
	}
	_, err = cl.Lambda.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{FunctionName: aws.String("s3fn"), S3Bucket: aws.String("code"), S3Key: aws.String("missing.zip")})
	wantAPIError(t, err, "InvalidParameterValueException", "Error occurred while GetObject. S3 Error Code: NoSuchKey. S3 Error Message: The specified key does not exist.")
	_, err = cl.Lambda.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{FunctionName: aws.String("s3fn"), S3Bucket: aws.String("nobucket"), S3Key: aws.String("k")})
	wantAPIError(t, err, "InvalidParameterValueException", "S3 Error Code: NoSuchBucket")
}

func TestLambdaStateSurvivesRestart(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	p := kiritest.StartProcess(t, kiritest.Options{DataDir: dir})
	c := p.Clients().Lambda
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	z := lambdaZip(t, map[string]string{"bootstrap": "durable"})
	if _, err := c.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String("keep"), Runtime: types.RuntimeNodejs20x,
		Handler: aws.String("index.handler"), Role: aws.String(lambdaRole), Code: &types.FunctionCode{ZipFile: z},
		Tags: map[string]string{"k": "v"}, Publish: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: aws.String("keep"), Name: aws.String("live"), FunctionVersion: aws.String("1")}); err != nil {
		t.Fatal(err)
	}
	p.Kill()

	p2 := kiritest.StartProcess(t, kiritest.Options{DataDir: dir})
	c2 := p2.Clients().Lambda
	waitActive(t, c2, "keep")
	got, err := c2.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("keep"), Qualifier: aws.String("live")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(got.Configuration.Version) != "1" || aws.ToString(got.Configuration.CodeSha256) != zipSha(z) || got.Tags["k"] != "v" {
		t.Fatalf("after restart: %+v tags %v", got.Configuration, got.Tags)
	}
	resp, err := http.Get(aws.ToString(got.Code.Location))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Equal(body, z) {
		t.Fatalf("code after restart: %d %d bytes", resp.StatusCode, len(body))
	}
}

func TestLambdaZipOver50MBIsTooLarge(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{})
	c := srv.Clients().Lambda
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	f, _ := w.CreateHeader(&zip.FileHeader{Name: "big", Method: zip.Store})
	chunk := make([]byte, 1<<20)
	for i := range chunk {
		chunk[i] = byte(i * 7)
	}
	for range 51 {
		f.Write(chunk)
	}
	w.Close()
	_, err := c.CreateFunction(t.Context(), &lambda.CreateFunctionInput{FunctionName: aws.String("big"), Runtime: types.RuntimeProvidedal2023,
		Handler: aws.String("bootstrap"), Role: aws.String(lambdaRole), Code: &types.FunctionCode{ZipFile: b.Bytes()}})
	wantAPIError(t, err, "RequestEntityTooLargeException", "Request must be smaller than")
}

// TestLambdaRefusesUnsafeCodeAtTheDoor checks that code which cannot be unpacked inside the code
// directory is refused by CreateFunction and UpdateFunctionCode, inline or from S3, with
// Lambda's error, and that a refused update leaves the function running its old code.
func TestLambdaRefusesUnsafeCodeAtTheDoor(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{})
	cl := srv.Clients()
	c := cl.Lambda
	ctx := t.Context()
	const msg = "Could not unzip uploaded file. Please check your file, then try to upload again."
	bad := map[string][]byte{
		"parent path":      zipOf(t, zipEntry{"../../evil", 0o755, "#!/bin/sh\n"}),
		"absolute path":    zipOf(t, zipEntry{"/tmp/evil", 0o755, "#!/bin/sh\n"}),
		"escaping symlink": zipOf(t, zipEntry{"bootstrap", os.ModeSymlink | 0o777, "../../../../bin/sh"}),
		"absolute symlink": zipOf(t, zipEntry{"bootstrap", os.ModeSymlink | 0o777, "/bin/sh"}),
	}
	if _, err := cl.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("code")}); err != nil {
		t.Fatal(err)
	}
	good := kiritest.GoFunctionZip(t, "./testdata/lambda/echo")
	createTestFunction(t, c, "keeper", good)
	waitActive(t, c, "keeper")
	for name, z := range bad {
		t.Run(name, func(t *testing.T) {
			_, err := c.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String("bad"), Runtime: types.RuntimeProvidedal2023,
				Handler: aws.String("bootstrap"), Role: aws.String(lambdaRole), Code: &types.FunctionCode{ZipFile: z}})
			wantAPIError(t, err, "InvalidParameterValueException", msg)
			_, err = c.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{FunctionName: aws.String("keeper"), ZipFile: z})
			wantAPIError(t, err, "InvalidParameterValueException", msg)
			key := strings.ReplaceAll(name, " ", "-") + ".zip"
			if _, err := cl.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("code"), Key: aws.String(key), Body: bytes.NewReader(z)}); err != nil {
				t.Fatal(err)
			}
			_, err = c.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{FunctionName: aws.String("keeper"), S3Bucket: aws.String("code"), S3Key: aws.String(key)})
			wantAPIError(t, err, "InvalidParameterValueException", msg)
		})
	}
	if _, err := c.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("bad")}); err == nil {
		t.Error("a function was created with refused code")
	}
	out, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("keeper"), Payload: []byte(`{"say":"still here"}`)})
	if err != nil || out.FunctionError != nil || !strings.Contains(string(out.Payload), "still here") {
		t.Fatalf("invoke after refused updates: %v %s", err, out.Payload)
	}
}
