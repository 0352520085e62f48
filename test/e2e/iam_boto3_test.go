package e2e

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/kiri-run/kiri/internal/iam/authz"
	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// iamScript drives IAM and STS with boto3 in strict mode: a role and its policies, a user with
// a key of its own, the user assuming the role, and what the session may and may not do. It
// prints one JSON object.
const iamScript = `
import json, sys, boto3
from botocore.exceptions import ClientError
endpoint, key, secret, account = sys.argv[1:5]
kw = dict(endpoint_url=endpoint, region_name="us-east-1")
root = dict(kw, aws_access_key_id=key, aws_secret_access_key=secret)
iam, s3 = boto3.client("iam", **root), boto3.client("s3", **root)
def code(f):
    try:
        f()
        return None
    except ClientError as e:
        return [e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]]
out = {}
s3.create_bucket(Bucket="py-data")
trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % account},
         "Action": "sts:AssumeRole", "Condition": {"StringEquals": {"sts:ExternalId": "py-ext"}}}]}
role = iam.create_role(RoleName="py-reader", AssumeRolePolicyDocument=json.dumps(trust), MaxSessionDuration=7200)["Role"]
out["trust_decoded"] = role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["AWS"]
iam.attach_role_policy(RoleName="py-reader", PolicyArn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
for i in range(3):
    iam.create_user(UserName="py-user-%d" % i)
pages = list(iam.get_paginator("list_users").paginate(PaginationConfig={"PageSize": 2}))
out["user_pages"] = [len(p["Users"]) for p in pages]
iam.put_user_policy(UserName="py-user-0", PolicyName="assume", PolicyDocument=json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role["Arn"]}]}))
k = iam.create_access_key(UserName="py-user-0")["AccessKey"]
user = dict(kw, aws_access_key_id=k["AccessKeyId"], aws_secret_access_key=k["SecretAccessKey"])
sts = boto3.client("sts", **user)
out["user_arn"] = sts.get_caller_identity()["Arn"]
out["no_external_id"] = code(lambda: sts.assume_role(RoleArn=role["Arn"], RoleSessionName="py"))
c = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="py", ExternalId="py-ext")["Credentials"]
session = dict(kw, aws_access_key_id=c["AccessKeyId"], aws_secret_access_key=c["SecretAccessKey"], aws_session_token=c["SessionToken"])
out["session_arn"] = boto3.client("sts", **session).get_caller_identity()["Arn"]
ss3 = boto3.client("s3", **session)
out["session_list"] = code(lambda: ss3.list_objects_v2(Bucket="py-data"))
out["session_put"] = code(lambda: ss3.put_object(Bucket="py-data", Key="k", Body=b"x"))
out["user_s3"] = code(lambda: boto3.client("s3", **user).list_objects_v2(Bucket="py-data"))
out["malformed"] = code(lambda: iam.create_policy(PolicyName="bad", PolicyDocument='{"Statement": [{"Effect": "Maybe"}]}'))
out["missing"] = code(lambda: iam.get_role(RoleName="nobody"))
out["exists"] = code(lambda: iam.create_user(UserName="py-user-1"))
print(json.dumps(out, sort_keys=True))
`

// TestIAMBoto3 runs IAM and STS through every installed boto3 in strict mode.
func TestIAMBoto3(t *testing.T) {
	for _, b := range boto3Clients(t) {
		t.Run(b.Version, func(t *testing.T) {
			t.Parallel()
			srv := kiritest.Start(t, kiritest.Options{Strict: true, IAM: authz.Enforce})
			out := b.run(t, iamScript, srv.URL, kiritest.TestAccessKey, kiritest.TestSecretKey, kiritest.TestAccount)
			lines := strings.Split(strings.TrimSpace(out), "\n")
			var got map[string]any
			if err := json.Unmarshal([]byte(lines[len(lines)-1]), &got); err != nil {
				t.Fatalf("script output %q: %v", out, err)
			}
			a := kiritest.TestAccount
			want := map[string]any{
				"trust_decoded":  "arn:aws:iam::" + a + ":root",
				"user_pages":     []any{2.0, 1.0},
				"user_arn":       "arn:aws:iam::" + a + ":user/py-user-0",
				"no_external_id": []any{"AccessDenied", 403.0},
				"session_arn":    "arn:aws:sts::" + a + ":assumed-role/py-reader/py",
				"session_list":   nil,
				"session_put":    []any{"AccessDenied", 403.0},
				"user_s3":        []any{"AccessDenied", 403.0},
				"malformed":      []any{"MalformedPolicyDocument", 400.0},
				"missing":        []any{"NoSuchEntity", 404.0},
				"exists":         []any{"EntityAlreadyExists", 409.0},
			}
			for k, v := range want {
				g, _ := json.Marshal(got[k])
				w, _ := json.Marshal(v)
				if string(g) != string(w) {
					t.Errorf("%s: got %s, want %s", k, g, w)
				}
			}
		})
	}
}
