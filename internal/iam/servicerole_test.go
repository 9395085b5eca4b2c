package iam

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsiam "github.com/aws/aws-sdk-go-v2/service/iam"
)

func TestServiceRole(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.rootIAM()
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	other := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	perms := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["logs:CreateLogStream","logs:PutLogEvents"],"Resource":"arn:aws:logs:us-east-1:` + acctA + `:log-group:trail:*"}]}`
	for name, doc := range map[string]string{"CloudTrailLogs": trust, "Ec2Role": other, "NoPerms": trust} {
		must(c.CreateRole(ctx, &awsiam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(doc)}))(t)
	}
	for _, name := range []string{"CloudTrailLogs", "Ec2Role"} {
		must(c.PutRolePolicy(ctx, &awsiam.PutRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String("logs"), PolicyDocument: aws.String(perms)}))(t)
	}
	actions := []string{"logs:CreateLogStream", "logs:PutLogEvents"}
	group := "arn:aws:logs:us-east-1:" + acctA + ":log-group:trail:*"
	role := func(n string) string { return "arn:aws:iam::" + acctA + ":role/" + n }
	for _, tc := range []struct {
		role, reason string
	}{
		{role("CloudTrailLogs"), ""},
		{role("Ec2Role"), "trust policy"},
		{role("NoPerms"), "do not allow logs:CreateLogStream"},
		{role("Missing"), "does not exist"},
		{"arn:aws:iam::999999999999:role/CloudTrailLogs", "another account"},
		{"arn:aws:iam::" + acctA + ":user/CloudTrailLogs", "not a role"},
	} {
		ok, reason := e.m.ServiceRole(acctA, tc.role, "cloudtrail.amazonaws.com", actions, group)
		if ok != (tc.reason == "") || !strings.Contains(reason, tc.reason) {
			t.Errorf("%s: ok %v reason %q, want reason containing %q", tc.role, ok, reason, tc.reason)
		}
	}
	if ok, _ := e.m.ServiceRole(acctA, role("CloudTrailLogs"), "cloudtrail.amazonaws.com", actions, "arn:aws:logs:us-east-1:"+acctA+":log-group:other:*"); ok {
		t.Error("the role is allowed on a log group its policy does not name")
	}
}
