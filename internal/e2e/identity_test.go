package e2e

import (
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/opentrail/opentrail/internal/testserver"
)

// apiCode returns the AWS error code of err, or "" when err is nil.
func apiCode(t *testing.T, err error) string {
	t.Helper()
	if err == nil {
		return ""
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("not an AWS API error: %v", err)
	}
	return ae.ErrorCode()
}

func TestIdentityEndToEnd(t *testing.T) {
	srv := testserver.Start(t)
	ctx := testserver.Context(t)
	rootIAM := iam.NewFromConfig(srv.RootConfig())
	rootSTS := sts.NewFromConfig(srv.RootConfig())

	id, err := rootSTS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(id.Arn) != "arn:aws:iam::123456789012:root" || aws.ToString(id.Account) != testserver.AccountID {
		t.Fatalf("root identity: %s %s", aws.ToString(id.Arn), aws.ToString(id.Account))
	}

	// A user, a key and a managed policy.
	if _, err := rootIAM.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("bob")}); err != nil {
		t.Fatal(err)
	}
	key, err := rootIAM.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("bob")})
	if err != nil {
		t.Fatal(err)
	}
	pol, err := rootIAM.CreatePolicy(ctx, &iam.CreatePolicyInput{
		PolicyName:     aws.String("whoami"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["sts:GetCallerIdentity","iam:ListUsers","sts:AssumeRole"],"Resource":"*"}]}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rootIAM.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("bob"), PolicyArn: pol.Policy.Arn}); err != nil {
		t.Fatal(err)
	}
	bobCfg := srv.Config(aws.ToString(key.AccessKey.AccessKeyId), aws.ToString(key.AccessKey.SecretAccessKey), "")
	bobSTS, bobIAM := sts.NewFromConfig(bobCfg), iam.NewFromConfig(bobCfg)
	bid, err := bobSTS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(bid.Arn); got != "arn:aws:iam::123456789012:user/bob" {
		t.Fatalf("bob's ARN = %s", got)
	}
	if _, err := bobIAM.ListUsers(ctx, &iam.ListUsersInput{}); err != nil {
		t.Fatalf("allowed call denied: %v", err)
	}
	_, err = bobIAM.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("eve")})
	if got := apiCode(t, err); got != "AccessDenied" {
		t.Fatalf("denied call: code %q (%v); want AccessDenied", got, err)
	}

	// A role bob may assume, and calls with its temporary credentials.
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/bob"},"Action":"sts:AssumeRole"}]}`
	if _, err := rootIAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("reader"), AssumeRolePolicyDocument: aws.String(trust)}); err != nil {
		t.Fatal(err)
	}
	if _, err := rootIAM.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("reader"), PolicyName: aws.String("p"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:GetRole","Resource":"*"}]}`)}); err != nil {
		t.Fatal(err)
	}
	ar, err := bobSTS.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::123456789012:role/reader"), RoleSessionName: aws.String("s1"), DurationSeconds: aws.Int32(900)})
	if err != nil {
		t.Fatal(err)
	}
	if time.Until(aws.ToTime(ar.Credentials.Expiration)) > 16*time.Minute {
		t.Fatalf("expiration %v is not ~15 minutes away", ar.Credentials.Expiration)
	}
	tmpCfg := srv.Config(aws.ToString(ar.Credentials.AccessKeyId), aws.ToString(ar.Credentials.SecretAccessKey), aws.ToString(ar.Credentials.SessionToken))
	tid, err := sts.NewFromConfig(tmpCfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(tid.Arn); got != "arn:aws:sts::123456789012:assumed-role/reader/s1" {
		t.Fatalf("assumed-role ARN = %s", got)
	}
	if _, err := iam.NewFromConfig(tmpCfg).GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("reader")}); err != nil {
		t.Fatalf("role's allowed call: %v", err)
	}
	_, err = iam.NewFromConfig(tmpCfg).ListUsers(ctx, &iam.ListUsersInput{})
	if got := apiCode(t, err); got != "AccessDenied" {
		t.Fatalf("role's denied call: %q; want AccessDenied", got)
	}

	// Restart: everything survives.
	srv.Restart()
	if _, err := sts.NewFromConfig(bobCfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatalf("bob after restart: %v", err)
	}
	if _, err := sts.NewFromConfig(tmpCfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatalf("temporary credentials after restart: %v", err)
	}
	users, err := iam.NewFromConfig(srv.RootConfig()).ListUsers(ctx, &iam.ListUsersInput{})
	if err != nil || len(users.Users) != 1 || aws.ToString(users.Users[0].UserName) != "bob" {
		t.Fatalf("users after restart: %v %v", users, err)
	}
	_, err = iam.NewFromConfig(bobCfg).CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("eve")})
	if got := apiCode(t, err); got != "AccessDenied" {
		t.Fatalf("policies after restart: %q; want AccessDenied", got)
	}
}
