package e2e

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"

	"github.com/kiri-run/kiri/internal/iam/authz"
	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

const lambdaTrust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`

// wantIAMError asserts err is the IAM error code, with the message when msg is not "".
func wantIAMError(t *testing.T, err error, code, msg string) {
	t.Helper()
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("got %v, want %s", err, code)
	}
	if apiErr.ErrorCode() != code || msg != "" && apiErr.ErrorMessage() != msg {
		t.Fatalf("got %s: %q, want %s: %q", apiErr.ErrorCode(), apiErr.ErrorMessage(), code, msg)
	}
}

func TestIAMUsersAndGroups(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{Strict: true, IAM: authz.Enforce})
	c := srv.Clients().IAM
	ctx := t.Context()

	out, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("alice"), Path: aws.String("/dev/"),
		Tags: []iamtypes.Tag{{Key: aws.String("team"), Value: aws.String("blue")}}})
	if err != nil {
		t.Fatal(err)
	}
	u := out.User
	if aws.ToString(u.Arn) != "arn:aws:iam::"+kiritest.TestAccount+":user/dev/alice" || !strings.HasPrefix(aws.ToString(u.UserId), "AIDA") ||
		len(aws.ToString(u.UserId)) != 21 {
		t.Fatalf("user = %s %s", aws.ToString(u.Arn), aws.ToString(u.UserId))
	}
	_, err = c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("ALICE")})
	wantIAMError(t, err, "EntityAlreadyExists", "User with name ALICE already exists.")
	_, err = c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("bad name")})
	wantIAMError(t, err, "ValidationError", "")
	_, err = c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("nobody")})
	wantIAMError(t, err, "NoSuchEntity", "The user with name nobody cannot be found.")

	got, err := c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("alice")})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.User.Tags) != 1 || aws.ToString(got.User.Tags[0].Value) != "blue" {
		t.Fatalf("tags = %+v", got.User.Tags)
	}
	// GetUser without a name answers the caller: the keys file's identity is the account's root.
	me, err := c.GetUser(ctx, &iam.GetUserInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(me.User.Arn) != "arn:aws:iam::"+kiritest.TestAccount+":root" {
		t.Fatalf("caller = %s", aws.ToString(me.User.Arn))
	}

	// Paging by Marker and MaxItems, filtered by path prefix.
	for i := range 5 {
		if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(fmt.Sprintf("u%d", i)), Path: aws.String("/batch/")}); err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	var marker *string
	for pages := 0; ; pages++ {
		lo, err := c.ListUsers(ctx, &iam.ListUsersInput{PathPrefix: aws.String("/batch/"), MaxItems: aws.Int32(2), Marker: marker})
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range lo.Users {
			names = append(names, aws.ToString(u.UserName))
		}
		if !lo.IsTruncated {
			break
		}
		marker = lo.Marker
	}
	if strings.Join(names, ",") != "u0,u1,u2,u3,u4" {
		t.Fatalf("paged users = %v", names)
	}

	// Groups: membership, and a group with members is not deleted.
	if _, err := c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("devs")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("devs"), UserName: aws.String("alice")}); err != nil {
		t.Fatal(err)
	}
	g, err := c.GetGroup(ctx, &iam.GetGroupInput{GroupName: aws.String("devs")})
	if err != nil || len(g.Users) != 1 || aws.ToString(g.Users[0].UserName) != "alice" {
		t.Fatalf("group members %+v, %v", g, err)
	}
	fu, err := c.ListGroupsForUser(ctx, &iam.ListGroupsForUserInput{UserName: aws.String("alice")})
	if err != nil || len(fu.Groups) != 1 {
		t.Fatalf("groups for user %+v, %v", fu, err)
	}
	_, err = c.DeleteGroup(ctx, &iam.DeleteGroupInput{GroupName: aws.String("devs")})
	wantIAMError(t, err, "DeleteConflict", "")
	_, err = c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("alice")})
	wantIAMError(t, err, "DeleteConflict", "")
	if _, err := c.RemoveUserFromGroup(ctx, &iam.RemoveUserFromGroupInput{GroupName: aws.String("devs"), UserName: aws.String("alice")}); err != nil {
		t.Fatal(err)
	}

	// Inline policies within the user's quota; a bad document gets the engine's message.
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListAllMyBuckets","Resource":"*"}]}`
	if _, err := c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("list"), PolicyDocument: aws.String(doc)}); err != nil {
		t.Fatal(err)
	}
	gp, err := c.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("list")})
	if err != nil {
		t.Fatal(err)
	}
	if decoded, _ := url.QueryUnescape(aws.ToString(gp.PolicyDocument)); decoded != doc {
		t.Fatalf("document %q, want it percent-encoded as IAM answers", aws.ToString(gp.PolicyDocument))
	}
	_, err = c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("bad"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*"}]}`)})
	wantIAMError(t, err, "MalformedPolicyDocument", "Policy statement must contain resources.")
	big := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::` + strings.Repeat("b", 2048) + `/*"}]}`
	_, err = c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("big"), PolicyDocument: aws.String(big)})
	wantIAMError(t, err, "LimitExceeded", "Maximum policy size of 2048 bytes exceeded for user alice")
	_, err = c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("alice")})
	wantIAMError(t, err, "DeleteConflict", "Cannot delete entity, must delete policies first.")
	if _, err := c.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("list")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("alice")}); err != nil {
		t.Fatal(err)
	}
}

func TestIAMRolesAndManagedPolicies(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{Strict: true, IAM: authz.Enforce})
	c := srv.Clients().IAM
	ctx := t.Context()

	_, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("bad"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"s3:GetObject"}]}`)})
	wantIAMError(t, err, "MalformedPolicyDocument", "AssumeRole policy may only specify STS AssumeRole actions.")
	_, err = c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(lambdaTrust), MaxSessionDuration: aws.Int32(60)})
	wantIAMError(t, err, "ValidationError", "")

	role, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("fn"), Path: aws.String("/service/"),
		AssumeRolePolicyDocument: aws.String(lambdaTrust), Description: aws.String("runs fn"), MaxSessionDuration: aws.Int32(7200)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(role.Role.Arn) != "arn:aws:iam::"+kiritest.TestAccount+":role/service/fn" || !strings.HasPrefix(aws.ToString(role.Role.RoleId), "AROA") ||
		aws.ToInt32(role.Role.MaxSessionDuration) != 7200 {
		t.Fatalf("role = %+v", role.Role)
	}

	// AWS managed policies exist in every account, attachable and listable by scope.
	basic := "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
	p, err := c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(basic)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(p.Policy.DefaultVersionId) != "v1" || aws.ToString(p.Policy.Path) != "/service-role/" {
		t.Fatalf("managed policy = %+v", p.Policy)
	}
	pv, err := c.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(basic), VersionId: aws.String("v1")})
	if err != nil {
		t.Fatal(err)
	}
	if doc, _ := url.QueryUnescape(aws.ToString(pv.PolicyVersion.Document)); !strings.Contains(doc, "logs:PutLogEvents") {
		t.Fatalf("document %s", doc)
	}
	for _, arn := range []string{basic, "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"} {
		if _, err := c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("fn"), PolicyArn: aws.String(arn)}); err != nil {
			t.Fatal(err)
		}
	}
	_, err = c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("fn"), PolicyArn: aws.String("arn:aws:iam::aws:policy/NoSuchPolicy")})
	wantIAMError(t, err, "NoSuchEntity", "Policy arn:aws:iam::aws:policy/NoSuchPolicy does not exist or is not attachable.")
	attached, err := c.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String("fn")})
	if err != nil || len(attached.AttachedPolicies) != 2 {
		t.Fatalf("attached = %+v, %v", attached, err)
	}
	scoped, err := c.ListPolicies(ctx, &iam.ListPoliciesInput{Scope: iamtypes.PolicyScopeTypeAws, OnlyAttached: true})
	if err != nil || len(scoped.Policies) != 2 {
		t.Fatalf("attached AWS policies = %+v, %v", scoped, err)
	}
	all, err := c.ListPolicies(ctx, &iam.ListPoliciesInput{Scope: iamtypes.PolicyScopeTypeAws, MaxItems: aws.Int32(1000)})
	if err != nil || len(all.Policies) < 24 {
		t.Fatalf("AWS policies = %d, %v", len(all.Policies), err)
	}
	_, err = c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("fn")})
	wantIAMError(t, err, "DeleteConflict", "Cannot delete entity, must detach all policies first.")

	// Customer managed policies and their versions.
	v1 := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sqs:SendMessage","Resource":"*"}]}`
	cp, err := c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("send"), PolicyDocument: aws.String(v1)})
	if err != nil {
		t.Fatal(err)
	}
	arn := cp.Policy.Arn
	if !strings.HasPrefix(aws.ToString(cp.Policy.PolicyId), "ANPA") {
		t.Fatalf("policy id %s", aws.ToString(cp.Policy.PolicyId))
	}
	for i := 2; i <= 5; i++ {
		out, err := c.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: arn, PolicyDocument: aws.String(v1), SetAsDefault: i == 3})
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("v%d", i); aws.ToString(out.PolicyVersion.VersionId) != want {
			t.Fatalf("version %s, want %s", aws.ToString(out.PolicyVersion.VersionId), want)
		}
	}
	_, err = c.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: arn, PolicyDocument: aws.String(v1)})
	wantIAMError(t, err, "LimitExceeded", "A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing version.")
	_, err = c.DeletePolicyVersion(ctx, &iam.DeletePolicyVersionInput{PolicyArn: arn, VersionId: aws.String("v3")})
	wantIAMError(t, err, "DeleteConflict", "Cannot delete the default version of a policy.")
	if _, err := c.SetDefaultPolicyVersion(ctx, &iam.SetDefaultPolicyVersionInput{PolicyArn: arn, VersionId: aws.String("v5")}); err != nil {
		t.Fatal(err)
	}
	versions, err := c.ListPolicyVersions(ctx, &iam.ListPolicyVersionsInput{PolicyArn: arn})
	if err != nil || len(versions.Versions) != 5 || aws.ToString(versions.Versions[0].VersionId) != "v5" || !versions.Versions[0].IsDefaultVersion {
		t.Fatalf("versions = %+v, %v", versions, err)
	}
	if _, err := c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("fn"), PolicyArn: arn}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: arn})
	wantIAMError(t, err, "DeleteConflict", "Cannot delete a policy attached to entities.")

	// Instance profiles hold a role, which then cannot be deleted.
	if _, err := c.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("ip")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("ip"), RoleName: aws.String("fn")}); err != nil {
		t.Fatal(err)
	}
	ip, err := c.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String("ip")})
	if err != nil || len(ip.InstanceProfile.Roles) != 1 {
		t.Fatalf("instance profile = %+v, %v", ip, err)
	}
	for _, arn := range []*string{aws.String(basic), aws.String("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"), arn} {
		if _, err := c.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String("fn"), PolicyArn: arn}); err != nil {
			t.Fatal(err)
		}
	}
	_, err = c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("fn")})
	wantIAMError(t, err, "DeleteConflict", "Cannot delete entity, must remove roles from instance profile first.")
}

func TestIAMAccessKeyQuota(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{Strict: true, IAM: authz.Enforce})
	c := srv.Clients().IAM
	ctx := t.Context()
	if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("bob")}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		k, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("bob")})
		if err != nil {
			t.Fatal(err)
		}
		if id := aws.ToString(k.AccessKey.AccessKeyId); len(id) != 20 || !strings.HasPrefix(id, "AKIA") || len(aws.ToString(k.AccessKey.SecretAccessKey)) != 40 {
			t.Fatalf("key %s", id)
		}
	}
	_, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("bob")})
	wantIAMError(t, err, "LimitExceeded", "Cannot exceed quota for AccessKeysPerUser: 2")
	_, err = c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("bob")})
	wantIAMError(t, err, "DeleteConflict", "Cannot delete entity, must delete access keys first.")
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) && re.HTTPStatusCode() != http.StatusConflict {
		t.Fatalf("status %d", re.HTTPStatusCode())
	}
}

// trustAccounts is a trust policy letting the named accounts' principals assume a role (their
// own policies permitting).
func trustAccounts(accounts ...string) string {
	var principals []string
	for _, a := range accounts {
		principals = append(principals, `"arn:aws:iam::`+a+`:root"`)
	}
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":[` + strings.Join(principals, ",") + `]},"Action":["sts:AssumeRole","sts:TagSession"]}]}`
}

// createRole makes a role (name may hold a path: "app/deployer") with a trust policy and
// attached managed policies, and returns its ARN.
func createRole(t *testing.T, c *kiritest.Clients, name, trust string, managed ...string) string {
	t.Helper()
	path := "/"
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		path, name = "/"+name[:i+1], name[i+1:]
	}
	out, err := c.IAM.CreateRole(t.Context(), &iam.CreateRoleInput{RoleName: aws.String(name), Path: aws.String(path),
		AssumeRolePolicyDocument: aws.String(trust)})
	if err != nil {
		t.Fatalf("create role %s: %v", name, err)
	}
	for _, arn := range managed {
		if _, err := c.IAM.AttachRolePolicy(t.Context(), &iam.AttachRolePolicyInput{RoleName: aws.String(name), PolicyArn: aws.String(arn)}); err != nil {
			t.Fatalf("attach %s to %s: %v", arn, name, err)
		}
	}
	return aws.ToString(out.Role.Arn)
}

// createFunctionRole makes a role Lambda may assume, with attached managed policies, and returns
// its ARN.
func createFunctionRole(ctx context.Context, c *kiritest.Clients, name string, managed ...string) (string, error) {
	out, err := c.IAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(lambdaTrust)})
	if err != nil {
		return "", fmt.Errorf("create role %s: %w", name, err)
	}
	for _, arn := range managed {
		if _, err := c.IAM.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String(name), PolicyArn: aws.String(arn)}); err != nil {
			return "", fmt.Errorf("attach %s to %s: %w", arn, name, err)
		}
	}
	return aws.ToString(out.Role.Arn), nil
}
