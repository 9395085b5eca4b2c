package iam

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsiam "github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/opentrail/opentrail"
)

func TestAuthorizationWithUserKeys(t *testing.T) {
	e := newEnv(t)
	root := e.rootIAM()
	bob, _, _, _ := e.userWithKey("bob")
	userArn := "arn:aws:iam::" + acctA + ":user/"

	// No policy: implicitly denied, in AWS's words.
	_, err := bob.ListUsers(ctx, &awsiam.ListUsersInput{})
	wantErr(t, err, "AccessDenied", 403,
		"User: arn:aws:iam::"+acctA+":user/bob is not authorized to perform: iam:ListUsers on resource: arn:aws:iam::"+acctA+":user/ because no identity-based policy allows the iam:ListUsers action")

	// An inline policy allows it.
	e.putUserPolicy("bob", "list", allow("*", "iam:ListUsers"))
	must(bob.ListUsers(ctx, &awsiam.ListUsersInput{}))(t)
	must(root.DeleteUserPolicy(ctx, &awsiam.DeleteUserPolicyInput{UserName: aws.String("bob"), PolicyName: aws.String("list")}))(t)
	_, err = bob.ListUsers(ctx, &awsiam.ListUsersInput{})
	wantErr(t, err, "AccessDenied", 403, "")

	// A resource-level policy: bob may read users under /team/ only.
	must(root.CreateUser(ctx, &awsiam.CreateUserInput{UserName: aws.String("tm"), Path: aws.String("/team/")}))(t)
	must(root.CreateUser(ctx, &awsiam.CreateUserInput{UserName: aws.String("other")}))(t)
	e.putUserPolicy("bob", "team", allow(userArn+"team/*", "iam:GetUser"))
	must(bob.GetUser(ctx, &awsiam.GetUserInput{UserName: aws.String("tm")}))(t)
	_, err = bob.GetUser(ctx, &awsiam.GetUserInput{UserName: aws.String("other")})
	wantErr(t, err, "AccessDenied", 403, "on resource: "+userArn+"other")

	// A managed policy, through its default version.
	p := must(root.CreatePolicy(ctx, &awsiam.CreatePolicyInput{PolicyName: aws.String("roles"), PolicyDocument: aws.String(allow("*", "iam:ListRoles"))}))(t).Policy
	must(root.AttachUserPolicy(ctx, &awsiam.AttachUserPolicyInput{UserName: aws.String("bob"), PolicyArn: p.Arn}))(t)
	must(bob.ListRoles(ctx, &awsiam.ListRolesInput{}))(t)
	must(root.CreatePolicyVersion(ctx, &awsiam.CreatePolicyVersionInput{PolicyArn: p.Arn, PolicyDocument: aws.String(allow("*", "iam:ListGroups")), SetAsDefault: true}))(t)
	_, err = bob.ListRoles(ctx, &awsiam.ListRolesInput{})
	wantErr(t, err, "AccessDenied", 403, "")
	must(bob.ListGroups(ctx, &awsiam.ListGroupsInput{}))(t)

	// A group's inline and attached policies.
	must(root.CreateGroup(ctx, &awsiam.CreateGroupInput{GroupName: aws.String("g")}))(t)
	must(root.PutGroupPolicy(ctx, &awsiam.PutGroupPolicyInput{GroupName: aws.String("g"), PolicyName: aws.String("pol"), PolicyDocument: aws.String(allow("*", "iam:ListPolicies"))}))(t)
	must(root.AttachGroupPolicy(ctx, &awsiam.AttachGroupPolicyInput{GroupName: aws.String("g"), PolicyArn: aws.String("arn:aws:iam::aws:policy/IAMReadOnlyAccess")}))(t)
	_, err = bob.ListPolicies(ctx, &awsiam.ListPoliciesInput{})
	wantErr(t, err, "AccessDenied", 403, "")
	must(root.AddUserToGroup(ctx, &awsiam.AddUserToGroupInput{GroupName: aws.String("g"), UserName: aws.String("bob")}))(t)
	must(bob.ListPolicies(ctx, &awsiam.ListPoliciesInput{}))(t)
	must(bob.GetUser(ctx, &awsiam.GetUserInput{UserName: aws.String("other")}))(t) // IAMReadOnlyAccess: iam:Get*
	_, err = bob.CreateUser(ctx, &awsiam.CreateUserInput{UserName: aws.String("x")})
	wantErr(t, err, "AccessDenied", 403, "iam:CreateUser on resource: "+userArn+"x")

	// An explicit deny wins over every allow.
	e.putUserPolicy("bob", "deny", deny(userArn+"other", "iam:GetUser"))
	_, err = bob.GetUser(ctx, &awsiam.GetUserInput{UserName: aws.String("other")})
	wantErr(t, err, "AccessDenied", 403, "with an explicit deny in an identity-based policy")
	must(bob.GetUser(ctx, &awsiam.GetUserInput{UserName: aws.String("tm")}))(t)

	// Leaving the group takes its policies away.
	must(root.RemoveUserFromGroup(ctx, &awsiam.RemoveUserFromGroupInput{GroupName: aws.String("g"), UserName: aws.String("bob")}))(t)
	_, err = bob.ListPolicies(ctx, &awsiam.ListPoliciesInput{})
	wantErr(t, err, "AccessDenied", 403, "")

	// AdministratorAccess allows everything in the account.
	must(root.AttachUserPolicy(ctx, &awsiam.AttachUserPolicyInput{UserName: aws.String("bob"), PolicyArn: aws.String("arn:aws:iam::aws:policy/AdministratorAccess")}))(t)
	must(bob.CreateUser(ctx, &awsiam.CreateUserInput{UserName: aws.String("x")}))(t)
}

func TestAllowedDirect(t *testing.T) {
	e := newEnv(t)
	rootCaller := &opentrail.Caller{Type: opentrail.IdentityRoot, AccountID: acctA, ARN: "arn:aws:iam::" + acctA + ":root", PrincipalID: acctA}
	cases := []struct {
		resource string
		allowed  bool
	}{
		{"*", true},
		{"arn:aws:iam::" + acctA + ":user/bob", true},
		{"arn:aws:s3:::bucket/key", true},
		{"arn:aws:iam::aws:policy/AdministratorAccess", true},
		{"arn:aws:iam::" + acctB + ":user/bob", false},
		{"arn:aws:logs:us-east-1:" + acctB + ":log-group:x", false},
	}
	for _, tc := range cases {
		allowed, explicit := e.m.Allowed(rootCaller, "iam:GetUser", tc.resource, nil)
		if allowed != tc.allowed || explicit {
			t.Errorf("root on %s: allowed=%v explicit=%v; want %v false", tc.resource, allowed, explicit, tc.allowed)
		}
	}
	// An unknown account's root, or a user that no longer exists, is allowed nothing.
	ghost := &opentrail.Caller{Type: opentrail.IdentityRoot, AccountID: "999999999999"}
	if ok, _ := e.m.Allowed(ghost, "iam:GetUser", "*", nil); ok {
		t.Error("unknown account's root allowed")
	}
	gone := &opentrail.Caller{Type: opentrail.IdentityIAMUser, AccountID: acctA, UserName: "gone", PrincipalID: "AIDAXXXXXXXXXXXXXXXXX"}
	if ok, _ := e.m.Allowed(gone, "iam:GetUser", "*", nil); ok {
		t.Error("missing user allowed")
	}
	// A user recreated under the same name does not inherit the old user's credentials.
	root := e.rootIAM()
	must(root.CreateUser(ctx, &awsiam.CreateUserInput{UserName: aws.String("same")}))(t)
	must(root.AttachUserPolicy(ctx, &awsiam.AttachUserPolicyInput{UserName: aws.String("same"), PolicyArn: aws.String("arn:aws:iam::aws:policy/AdministratorAccess")}))(t)
	old := &opentrail.Caller{Type: opentrail.IdentityIAMUser, AccountID: acctA, UserName: "same", PrincipalID: "AIDAOLDOLDOLDOLDOLDOL"}
	if ok, _ := e.m.Allowed(old, "iam:GetUser", "*", nil); ok {
		t.Error("caller with a stale user ID allowed")
	}
}
