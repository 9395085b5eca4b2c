package iam

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsiam "github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/opentrail/opentrail/internal/redact"
)

func TestRestartKeepsEverything(t *testing.T) {
	e := newEnv(t)
	root := e.rootIAM()
	_, _, bobKey, bobSecret := e.userWithKey("bob")
	k2 := must(root.CreateAccessKey(ctx, &awsiam.CreateAccessKeyInput{UserName: aws.String("bob")}))(t).AccessKey
	must(root.UpdateAccessKey(ctx, &awsiam.UpdateAccessKeyInput{UserName: aws.String("bob"), AccessKeyId: k2.AccessKeyId, Status: types.StatusTypeInactive}))(t)
	doc := allow("*", "iam:ListUsers")
	e.putUserPolicy("bob", "list", doc)
	must(root.CreateGroup(ctx, &awsiam.CreateGroupInput{GroupName: aws.String("g"), Path: aws.String("/p/")}))(t)
	must(root.AddUserToGroup(ctx, &awsiam.AddUserToGroupInput{GroupName: aws.String("g"), UserName: aws.String("bob")}))(t)
	must(root.PutGroupPolicy(ctx, &awsiam.PutGroupPolicyInput{GroupName: aws.String("g"), PolicyName: aws.String("gp"), PolicyDocument: aws.String(allow("*", "iam:ListGroups"))}))(t)
	p := must(root.CreatePolicy(ctx, &awsiam.CreatePolicyInput{PolicyName: aws.String("mp"), PolicyDocument: aws.String(allow("*", "iam:ListRoles"))}))(t).Policy
	must(root.CreatePolicyVersion(ctx, &awsiam.CreatePolicyVersionInput{PolicyArn: p.Arn, PolicyDocument: aws.String(allow("*", "iam:ListRoles", "iam:ListPolicies")), SetAsDefault: true}))(t)
	must(root.AttachGroupPolicy(ctx, &awsiam.AttachGroupPolicyInput{GroupName: aws.String("g"), PolicyArn: p.Arn}))(t)
	role := must(root.CreateRole(ctx, &awsiam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(trust(acctA)), MaxSessionDuration: aws.Int32(5000)}))(t).Role
	must(root.AttachRolePolicy(ctx, &awsiam.AttachRolePolicyInput{RoleName: aws.String("r"), PolicyArn: aws.String("arn:aws:iam::aws:policy/IAMReadOnlyAccess")}))(t)
	sess := must(e.sts(rootA, secretA, "").AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: role.Arn, RoleSessionName: aws.String("keep"),
		Policy: aws.String(allow("*", "iam:GetRole"))}))(t).Credentials
	users := must(root.ListUsers(ctx, &awsiam.ListUsersInput{}))(t).Users

	e.reopen()
	root = e.rootIAM()
	bob := e.iam(bobKey, bobSecret, "")

	if got := must(root.ListUsers(ctx, &awsiam.ListUsersInput{}))(t).Users; len(got) != len(users) || *got[0].UserId != *users[0].UserId || !got[0].CreateDate.Equal(*users[0].CreateDate) {
		t.Errorf("users after restart: %+v; before %+v", got, users)
	}
	keys := must(root.ListAccessKeys(ctx, &awsiam.ListAccessKeysInput{UserName: aws.String("bob")}))(t).AccessKeyMetadata
	if len(keys) != 2 {
		t.Fatalf("%d keys after restart", len(keys))
	}
	for _, k := range keys {
		if (*k.AccessKeyId == *k2.AccessKeyId) != (k.Status == types.StatusTypeInactive) {
			t.Errorf("key %s status %s after restart", *k.AccessKeyId, k.Status)
		}
	}
	_, err := e.iam(*k2.AccessKeyId, *k2.SecretAccessKey, "").ListUsers(ctx, &awsiam.ListUsersInput{})
	wantErr(t, err, "InvalidClientTokenId", 403, "")
	gp := must(root.GetUserPolicy(ctx, &awsiam.GetUserPolicyInput{UserName: aws.String("bob"), PolicyName: aws.String("list")}))(t)
	if d, _ := url.QueryUnescape(*gp.PolicyDocument); d != doc {
		t.Errorf("inline policy after restart: %q", d)
	}
	// Bob's permissions: inline, group inline, and the group's managed policy's default version.
	must(bob.ListUsers(ctx, &awsiam.ListUsersInput{}))(t)
	must(bob.ListGroups(ctx, &awsiam.ListGroupsInput{}))(t)
	must(bob.ListPolicies(ctx, &awsiam.ListPoliciesInput{}))(t)
	if g := must(root.GetGroup(ctx, &awsiam.GetGroupInput{GroupName: aws.String("g")}))(t); len(g.Users) != 1 || *g.Group.Path != "/p/" {
		t.Errorf("group after restart: %+v", g)
	}
	if v := must(root.GetPolicy(ctx, &awsiam.GetPolicyInput{PolicyArn: p.Arn}))(t).Policy; *v.DefaultVersionId != "v2" || *v.AttachmentCount != 1 {
		t.Errorf("policy after restart: %+v", v)
	}
	if r := must(root.GetRole(ctx, &awsiam.GetRoleInput{RoleName: aws.String("r")}))(t).Role; *r.RoleId != *role.RoleId || aws.ToInt32(r.MaxSessionDuration) != 5000 {
		t.Errorf("role after restart: %+v", r)
	}
	// The session survives, with its session policy.
	tmp := e.iam(*sess.AccessKeyId, *sess.SecretAccessKey, *sess.SessionToken)
	must(tmp.GetRole(ctx, &awsiam.GetRoleInput{RoleName: aws.String("r")}))(t)
	_, err = tmp.ListRoles(ctx, &awsiam.ListRolesInput{})
	wantErr(t, err, "AccessDenied", 403, "")
	// Names are still unique.
	_, err = root.CreateUser(ctx, &awsiam.CreateUserInput{UserName: aws.String("bob")})
	wantErr(t, err, "EntityAlreadyExists", 409, "")
	if got := e.m.Accounts(); strings.Join(got, ",") != acctA+","+acctB {
		t.Errorf("accounts after restart: %v", got)
	}
}

func TestSecretsAtRest(t *testing.T) {
	e := newEnv(t)
	_, _, _, bobSecret := e.userWithKey("bob")
	must(e.rootIAM().CreateRole(ctx, &awsiam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(trust(acctA))}))(t)
	cr := must(e.sts(rootA, secretA, "").AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + acctA + ":role/r"), RoleSessionName: aws.String("s1")}))(t).Credentials
	var dump strings.Builder
	if err := e.store.Scan("", func(k string, v []byte) error {
		dump.WriteString(k)
		dump.Write(v)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{bobSecret, secretA, *cr.SecretAccessKey, *cr.SessionToken} {
		if strings.Contains(dump.String(), s) {
			t.Errorf("the store holds a secret in clear text")
		}
	}
}

func TestRecords(t *testing.T) {
	e := newEnv(t)
	root := e.rootIAM()
	must(root.CreateUser(ctx, &awsiam.CreateUserInput{UserName: aws.String("bob"), Path: aws.String("/d/")}))(t)
	rec := e.rec.last("CreateUser")
	if rec == nil || rec.EventSource != "iam.amazonaws.com" || rec.AWSRegion != "us-east-1" || rec.ReadOnly {
		t.Fatalf("CreateUser record %+v", rec)
	}
	if len(rec.Resources) != 1 || rec.Resources[0].ARN != "arn:aws:iam::"+acctA+":user/d/bob" || rec.Resources[0].Type != "AWS::IAM::User" {
		t.Errorf("resources %+v", rec.Resources)
	}
	var resp struct {
		User map[string]any `json:"user"`
	}
	if err := json.Unmarshal(rec.ResponseElements, &resp); err != nil || resp.User["userName"] != "bob" || resp.User["createDate"] == nil {
		t.Errorf("responseElements %s", rec.ResponseElements)
	}

	k := must(root.CreateAccessKey(ctx, &awsiam.CreateAccessKeyInput{UserName: aws.String("bob")}))(t).AccessKey
	rec = e.rec.last("CreateAccessKey")
	if strings.Contains(string(rec.ResponseElements), *k.SecretAccessKey) || !strings.Contains(string(rec.ResponseElements), redact.Hidden) {
		t.Errorf("CreateAccessKey record shows the secret: %s", rec.ResponseElements)
	}

	must(root.CreateRole(ctx, &awsiam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(trust(acctA))}))(t)
	cr := must(e.sts(rootA, secretA, "").AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + acctA + ":role/r"), RoleSessionName: aws.String("s1")}))(t).Credentials
	rec = e.rec.last("AssumeRole")
	if rec.EventSource != "sts.amazonaws.com" || strings.Contains(string(rec.ResponseElements), *cr.SecretAccessKey) || strings.Contains(string(rec.ResponseElements), *cr.SessionToken) {
		t.Errorf("AssumeRole record: %s", rec.ResponseElements)
	}
	if len(rec.Resources) != 1 || rec.Resources[0].Type != "AWS::IAM::Role" {
		t.Errorf("AssumeRole resources %+v", rec.Resources)
	}
	must(e.sts(*cr.AccessKeyId, *cr.SecretAccessKey, *cr.SessionToken).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}))(t)
	rec = e.rec.last("GetCallerIdentity")
	ui := rec.UserIdentity
	if ui.Type != "AssumedRole" || ui.SessionContext == nil || ui.SessionContext.SessionIssuer.UserName != "r" || ui.AccessKeyID != *cr.AccessKeyId {
		t.Errorf("userIdentity %+v", ui)
	}
}

func TestEnsureAccount(t *testing.T) {
	e := newEnv(t)
	// Again: nothing changes.
	if err := e.m.EnsureAccount(acctA, rootA, secretA); err != nil {
		t.Fatal(err)
	}
	// A key of another account, or a bad account ID, is refused.
	if err := e.m.EnsureAccount("333333333333", rootA, secretA); err == nil {
		t.Error("a key of account A was given to another account")
	}
	if err := e.m.EnsureAccount("12345", "", ""); err == nil {
		t.Error("a bad account ID was accepted")
	}
	// The account exists: a changed secret does not replace the stored one.
	if err := e.m.EnsureAccount(acctA, rootA, "new-secret-new-secret-new-secret-new-sec"); err != nil {
		t.Fatal(err)
	}
	must(e.rootIAM().ListUsers(ctx, &awsiam.ListUsersInput{}))(t)
	// A root key deleted through the API is not brought back by a restart.
	k := must(e.rootIAM().CreateAccessKey(ctx, &awsiam.CreateAccessKeyInput{}))(t).AccessKey
	root2 := e.iam(*k.AccessKeyId, *k.SecretAccessKey, "")
	must(root2.DeleteAccessKey(ctx, &awsiam.DeleteAccessKeyInput{AccessKeyId: aws.String(rootA)}))(t)
	e.reopen()
	if err := e.m.EnsureAccount(acctA, rootA, secretA); err != nil {
		t.Fatal(err)
	}
	_, err := e.rootIAM().ListUsers(ctx, &awsiam.ListUsersInput{})
	wantErr(t, err, "InvalidClientTokenId", 403, "")

	// An account without a key.
	if err := e.m.EnsureAccount("333333333333", "", ""); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(e.m.Accounts(), ","); got != acctA+","+acctB+",333333333333" {
		t.Errorf("accounts %s", got)
	}
	creds, ok := e.m.LookupKey(rootB)
	if !ok || creds.Secret != secretB || creds.Caller.Type != "Root" || creds.Caller.ARN != "arn:aws:iam::"+acctB+":root" || creds.Caller.PrincipalID != acctB {
		t.Errorf("LookupKey(rootB) = %+v, %v", creds, ok)
	}
}
