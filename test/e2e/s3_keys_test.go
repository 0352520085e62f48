package e2e

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// xmlKeys need escaping in XML; nonXMLKeys hold characters XML 1.0 cannot carry at all.
var (
	xmlKeys = []string{
		"cr\rlf\ncrlf\r\ntab\t",
		`markup <a href="x">&amp;</a> 'q'`,
		"space and+plus%20percent",
		"unicode ü/日本/🌊",
		strings.Repeat("long/", 204) + "1234",
	}
	nonXMLKeys = []string{
		"nul\x00key",
		"controls\x01\x08\x1b\x1f\x7f",
		"noncharacters\uFFFE\uFFFF",
	}
	oddKeys = append(slices.Clone(xmlKeys), nonXMLKeys...)
)

// S3 keys are UTF-8: a key that is not is refused as S3 refuses it (its URI cannot be parsed),
// before anything is stored, so the bucket stays listable.
func TestS3KeysMustBeUTF8(t *testing.T) {
	f := newObjectFixture(t)
	ctx := t.Context()
	_, err := f.c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(f.bucket), Key: aws.String("bad\xff"), Body: strings.NewReader("x")})
	expectAPIError(t, err, "InvalidURI", http.StatusBadRequest)
	_, err = f.c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(f.bucket), Key: aws.String("bad\xc3")})
	expectAPIError(t, err, "InvalidURI", http.StatusBadRequest)
	for _, tc := range []struct{ name, method, path string }{
		{"PutObject", http.MethodPut, "/objects/h%FF"},
		{"HeadObject", http.MethodHead, "/objects/%AE%8A-"},
		{"GetObject", http.MethodGet, "/objects/%AE%8A-"},
		{"ListObjectsV2 with such a prefix", http.MethodGet, "/objects?list-type=2&prefix=%FF"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := f.raw(t, tc.method, tc.path, nil, []byte("x"))
			if resp.StatusCode != http.StatusBadRequest || tc.method != http.MethodHead && !strings.Contains(string(body), "<Code>InvalidURI</Code>") {
				t.Fatalf("%s %s: %d %s, want 400 InvalidURI", tc.method, tc.path, resp.StatusCode, body)
			}
		})
	}
	f.put(t, "src", []byte("x"))
	_, err = f.c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(f.bucket), Key: aws.String("dst"), CopySource: aws.String("objects/src%FF")})
	expectAPIError(t, err, "InvalidArgument", http.StatusBadRequest)
	out, err := f.c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(f.bucket)})
	if err != nil || len(out.Contents) != 1 {
		t.Fatalf("ListObjectsV2 = %+v, %v; want only src", out, err)
	}
}

// Every key S3 accepts lists and reads back exactly. Characters XML 1.0 cannot carry come
// as character references without encoding-type, as S3 writes them (aws-sdk-go-v2, whose
// parser refuses them there as it does against S3, lists such keys with encoding-type=url);
// every other key lists exactly either way.
func TestS3KeysRoundTripExactly(t *testing.T) {
	f := newObjectFixture(t)
	ctx := t.Context()
	if _, err := f.c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(f.bucket),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	for _, k := range xmlKeys {
		f.put(t, k, []byte(k))
	}
	listAll := func(t *testing.T, enc types.EncodingType, want []string) {
		t.Helper()
		want = slices.Clone(want)
		slices.Sort(want)
		v2, err := f.c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(f.bucket), EncodingType: enc})
		if err != nil {
			t.Fatalf("ListObjectsV2: %v", err)
		}
		v1, err := f.c.ListObjects(ctx, &s3.ListObjectsInput{Bucket: aws.String(f.bucket), EncodingType: enc})
		if err != nil {
			t.Fatalf("ListObjects: %v", err)
		}
		vs, err := f.c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(f.bucket), EncodingType: enc})
		if err != nil {
			t.Fatalf("ListObjectVersions: %v", err)
		}
		for name, keys := range map[string][]string{
			"ListObjectsV2":      keysOf(v2.Contents),
			"ListObjects":        keysOf(v1.Contents),
			"ListObjectVersions": versionKeysOf(vs.Versions),
		} {
			if enc == types.EncodingTypeUrl {
				for i, k := range keys {
					if keys[i], err = url.QueryUnescape(k); err != nil {
						t.Fatalf("%s: key %q is not URL-encoded: %v", name, k, err)
					}
				}
			}
			if !slices.Equal(keys, want) {
				t.Errorf("%s (encoding %q) keys\n got %q\nwant %q", name, enc, keys, want)
			}
		}
	}
	listAll(t, "", xmlKeys)
	listAll(t, types.EncodingTypeUrl, xmlKeys)

	for _, k := range nonXMLKeys {
		f.put(t, k, []byte(k))
	}
	listAll(t, types.EncodingTypeUrl, oddKeys)
	resp, body := f.raw(t, http.MethodGet, "/objects?list-type=2", nil, nil)
	for _, ref := range []string{"<Key>nul&#x0;key</Key>", "<Key>controls&#x1;&#x8;&#x1b;&#x1f;\x7f</Key>", "<Key>noncharacters&#xfffe;&#xffff;</Key>", "<Key>cr&#xD;lf&#xA;crlf&#xD;&#xA;tab&#x9;</Key>"} {
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), ref) {
			t.Errorf("ListObjectsV2 without encoding-type lacks %q:\n%s", ref, body)
		}
	}
	for _, k := range oddKeys {
		_, body, err := f.get(t, &s3.GetObjectInput{Key: aws.String(k)})
		if err != nil || string(body) != k {
			t.Errorf("GetObject %q = %q, %v", k, body, err)
		}
	}
}

// boto3 asks for encoding-type=url when it lists, and reads every accepted key back exactly.
func TestS3KeysRoundTripThroughBoto3(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil || exec.Command(python, "-c", "import boto3").Run() != nil {
		t.Skip("no python3 with boto3")
	}
	f := newObjectFixture(t)
	for _, k := range oddKeys {
		f.put(t, k, []byte(k))
	}
	script := `
import json, sys, boto3
from botocore.config import Config
s3 = boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s",
                  config=Config(s3={"addressing_style": "path"}))
b = "objects"
out = {
    "list_objects_v2": [o["Key"] for o in s3.list_objects_v2(Bucket=b)["Contents"]],
    "list_objects": [o["Key"] for o in s3.list_objects(Bucket=b)["Contents"]],
    "list_object_versions": [v["Key"] for v in s3.list_object_versions(Bucket=b)["Versions"]],
}
out["bodies"] = [s3.get_object(Bucket=b, Key=k)["Body"].read().decode() for k in out["list_objects_v2"]]
print(json.dumps(out))
`
	raw, err := exec.Command(python, "-c", script, f.srv.URL).CombinedOutput()
	if err != nil {
		t.Fatalf("boto3: %v\n%s", err, raw)
	}
	var got map[string][]string
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatalf("boto3 printed %s: %v", raw, err)
	}
	want := slices.Clone(oddKeys)
	slices.Sort(want)
	for _, op := range []string{"list_objects_v2", "list_objects", "list_object_versions", "bodies"} {
		if !slices.Equal(got[op], want) {
			t.Errorf("boto3 %s\n got %q\nwant %q", op, got[op], want)
		}
	}
}

func keysOf(objs []types.Object) []string {
	var keys []string
	for _, o := range objs {
		keys = append(keys, aws.ToString(o.Key))
	}
	return keys
}

func versionKeysOf(vs []types.ObjectVersion) []string {
	var keys []string
	for _, v := range vs {
		keys = append(keys, aws.ToString(v.Key))
	}
	return keys
}
