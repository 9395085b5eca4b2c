package iam

import (
	"crypto/sha256"
	"fmt"
	"time"

	"github.com/opentrail/opentrail/internal/policy"
)

// awsAccount is the account field of AWS managed policy ARNs (arn:aws:iam::aws:policy/...).
const awsAccount = "aws"

// builtinPolicy is the definition of an AWS managed policy that OpenTrail provides. The
// documents are simplified to the services OpenTrail hosts.
type builtinPolicy struct {
	name, path, description, document string
}

var builtinDefs = []builtinPolicy{
	{"AdministratorAccess", "/", "Provides full access to AWS services and resources.",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`},
	{"PowerUserAccess", "/", "Provides full access to AWS services and resources, but does not allow management of Users and groups.",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":["iam:*","organizations:*","account:*"],"Resource":"*"},` +
			`{"Effect":"Allow","Action":["iam:CreateServiceLinkedRole","iam:DeleteServiceLinkedRole","iam:ListRoles","organizations:DescribeOrganization","account:ListRegions","account:GetAccountInformation"],"Resource":"*"}]}`},
	{"ReadOnlyAccess", "/", "Provides read-only access to AWS services and resources.",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":[` +
			`"cloudtrail:Describe*","cloudtrail:Get*","cloudtrail:List*","cloudtrail:LookupEvents",` +
			`"iam:Get*","iam:List*","iam:Generate*","iam:Simulate*","sts:GetCallerIdentity",` +
			`"logs:Describe*","logs:Get*","logs:List*","logs:FilterLogEvents","logs:StartQuery","logs:StopQuery","logs:TestMetricFilter",` +
			`"cloudwatch:Describe*","cloudwatch:Get*","cloudwatch:List*","sns:Get*","sns:List*","events:Describe*","events:List*","events:TestEventPattern",` +
			`"kms:Describe*","kms:Get*","kms:List*","organizations:Describe*","organizations:List*","s3:Get*","s3:List*"],"Resource":"*"}]}`},
	{"IAMFullAccess", "/", "Provides full access to IAM via the AWS Management Console.",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:*","organizations:DescribeAccount","organizations:DescribeOrganization","organizations:DescribeOrganizationalUnit","organizations:DescribePolicy","organizations:ListChildren","organizations:ListParents","organizations:ListPoliciesForTarget","organizations:ListRoots","organizations:ListPolicies","organizations:ListTargetsForPolicy"],"Resource":"*"}]}`},
	{"IAMReadOnlyAccess", "/", "Provides read only access to IAM via the AWS Management Console.",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:GenerateCredentialReport","iam:GenerateServiceLastAccessedDetails","iam:Get*","iam:List*","iam:SimulateCustomPolicy","iam:SimulatePrincipalPolicy"],"Resource":"*"}]}`},
	{"AWSCloudTrail_FullAccess", "/", "Provides full access to AWS CloudTrail.",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["cloudtrail:*","cloudtrail-data:*"],"Resource":"*"}]}`},
	{"AWSCloudTrail_ReadOnlyAccess", "/", "Provides read only access to AWS CloudTrail.",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["cloudtrail:Get*","cloudtrail:Describe*","cloudtrail:List*","cloudtrail:LookupEvents"],"Resource":"*"}]}`},
}

// builtinCreated is the creation date reported for the built-in AWS managed policies.
var builtinCreated = time.Date(2015, 2, 6, 18, 39, 46, 0, time.UTC)

// builtinPolicies parses the built-in AWS managed policies.
func builtinPolicies() (map[string]*managedPolicy, error) {
	out := make(map[string]*managedPolicy, len(builtinDefs))
	for _, d := range builtinDefs {
		doc, err := policy.ParseIdentity(d.document)
		if err != nil {
			return nil, fmt.Errorf("iam: built-in policy %s: %w", d.name, err)
		}
		sum := sha256.Sum256([]byte(d.name))
		id := prefixPolicy
		for _, b := range sum[:17] {
			id += string(idAlphabet[b&31])
		}
		out[lower(d.name)] = &managedPolicy{
			Name: d.name, Path: d.path, ID: id, Description: d.description,
			Created: builtinCreated, Updated: builtinCreated, Default: "v1", NextVersion: 2,
			Versions: []policyVersion{{ID: "v1", Document: d.document, Created: builtinCreated, doc: doc}},
			account:  awsAccount,
		}
	}
	return out, nil
}
