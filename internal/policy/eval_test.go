package policy

import (
	"strconv"
	"testing"
)

func mustParse(t testing.TB, kind Kind, doc string) *Document {
	t.Helper()
	d, err := ParseKind(doc, kind)
	if err != nil {
		t.Fatalf("ParseKind(%s, %s): %v", kind, doc, err)
	}
	return d
}

func TestActionMatching(t *testing.T) {
	tests := []struct {
		pattern, action string
		want            bool
	}{
		{"iam:CreateUser", "iam:CreateUser", true},
		{"iam:CreateUser", "iam:createuser", true},
		{"IAM:CREATEUSER", "iam:CreateUser", true},
		{"iam:CreateUser", "iam:CreateUsers", false},
		{"iam:CreateUser", "iam:CreateUse", false},
		{"iam:CreateUser", "s3:CreateUser", false},
		{"*", "anything:AtAll", true},
		{"iam:*", "iam:CreateUser", true},
		{"IAM:*", "iam:CreateUser", true},
		{"iam:*", "iam2:CreateUser", false},
		{"iam:Create*", "iam:CreateAccessKey", true},
		{"iam:create*", "iam:CreateAccessKey", true},
		{"iam:Get*", "iam:CreateUser", false},
		{"iam:*User", "iam:DeleteUser", true},
		{"iam:*User", "iam:DeleteUserPolicy", false},
		{"iam:*AccessKey*", "iam:CreateAccessKey", true},
		{"iam:*AccessKey*", "iam:ListAccessKeys", true},
		{"iam:*AccessKey*", "iam:ListUsers", false},
		{"iam:C?eateUser", "iam:CreateUser", true},
		{"iam:?", "iam:CreateUser", false},
		{"iam:??", "iam:Ab", true},
		{"*:Get*", "s3:GetObject", true},
		{"s3:*Object*", "s3:GetObjectAcl", true},
		{"iam:**User", "iam:CreateUser", true},
		{"iam:*e*e*", "iam:CreateUser", true},
		{"iam:*e*e*", "iam:ListTags", false},
		{"cloudtrail:*", "cloudtrail:LookupEvents", true},
	}
	for _, tc := range tests {
		d := mustParse(t, KindIdentity, stmt(`{"Effect":"Allow","Action":`+strconv.Quote(tc.pattern)+`,"Resource":"*"}`))
		got := Evaluate([]*Document{d}, Request{Action: tc.action, Resource: "*"}) == Allow
		if got != tc.want {
			t.Errorf("Action %q vs %q = %v, want %v", tc.pattern, tc.action, got, tc.want)
		}
		// NotAction is the complement.
		nd := mustParse(t, KindIdentity, stmt(`{"Effect":"Allow","NotAction":`+strconv.Quote(tc.pattern)+`,"Resource":"*"}`))
		if got := Evaluate([]*Document{nd}, Request{Action: tc.action, Resource: "*"}) == Allow; got == tc.want {
			t.Errorf("NotAction %q vs %q = %v, want %v", tc.pattern, tc.action, got, !tc.want)
		}
	}
}

func TestResourceMatching(t *testing.T) {
	tests := []struct {
		pattern, resource string
		want              bool
	}{
		{"*", "arn:aws:iam::123456789012:user/alice", true},
		{"*", "*", true},
		{"arn:aws:iam::123456789012:user/alice", "arn:aws:iam::123456789012:user/alice", true},
		{"arn:aws:iam::123456789012:user/Alice", "arn:aws:iam::123456789012:user/alice", false},
		{"arn:aws:iam::123456789012:user/*", "arn:aws:iam::123456789012:user/alice", true},
		{"arn:aws:iam::123456789012:user/*", "arn:aws:iam::123456789012:user/path/alice", true},
		{"arn:aws:iam::123456789012:user/*", "arn:aws:iam::123456789012:role/alice", false},
		{"arn:aws:iam::123456789012:user/accounting/*", "arn:aws:iam::123456789012:user/accounting/bob", true},
		{"arn:aws:iam::123456789012:user/accounting/*", "arn:aws:iam::123456789012:user/sales/bob", false},
		{"arn:aws:iam::*:user/alice", "arn:aws:iam::123456789012:user/alice", true},
		{"arn:aws:iam::12345678901?:user/alice", "arn:aws:iam::123456789012:user/alice", true},
		{"arn:aws:iam::123456789012:*", "arn:aws:iam::123456789012:user/alice", true},
		{"arn:aws:iam::123456789012:*", "arn:aws:iam::999999999999:user/alice", false},
		{"arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/a/b:c", true},
		{"arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket", false},
		{"arn:aws:s3:::bucket*", "arn:aws:s3:::bucket", true},
		{"arn:aws:logs:*:*:*", "arn:aws:logs:us-east-1:123456789012:log-group:g:log-stream:s", true},
		{"arn:aws:*:*:*:*", "arn:aws:sqs:us-east-2:123456789012:queue1", true},
		{"arn:aws:sqs:us-east-2:*:*-queue", "arn:aws:sqs:us-east-2:123456789012:alice-queue", true},
		// Within the first five components a wildcard does not cross a colon.
		{"arn:aws:someservice:*:111122223333:finance/*", "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt", false},
		{"arn:aws:someservice:*:111122223333:finance/*", "arn:aws:someservice:us-east-2:111122223333:finance/document.txt", true},
		// Shorter patterns are matched as strings.
		{"arn:*", "arn:aws:iam::123456789012:user/alice", true},
		{"arn:aws:iam::*", "arn:aws:iam::123456789012:user/alice", true},
		{"arn:aws:s3:::b/?", "arn:aws:s3:::b/é", true},
		{"arn:aws:s3:::b/??", "arn:aws:s3:::b/é", false},
		{"arn:aws:iam::123456789012:user/alice", "*", false},
		{"arn:aws:iam::123456789012:user/alice", "", false},
		{"arn:aws:iam::123456789012:user/alice", "arn:aws:iam::123456789012:user/alice/x", false},
	}
	for _, tc := range tests {
		d := mustParse(t, KindIdentity, stmt(`{"Effect":"Allow","Action":"*","Resource":`+strconv.Quote(tc.pattern)+`}`))
		got := Evaluate([]*Document{d}, Request{Action: "iam:GetUser", Resource: tc.resource}) == Allow
		if got != tc.want {
			t.Errorf("Resource %q vs %q = %v, want %v", tc.pattern, tc.resource, got, tc.want)
		}
		nd := mustParse(t, KindIdentity, stmt(`{"Effect":"Allow","Action":"*","NotResource":`+strconv.Quote(tc.pattern)+`}`))
		if got := Evaluate([]*Document{nd}, Request{Action: "iam:GetUser", Resource: tc.resource}) == Allow; got == tc.want {
			t.Errorf("NotResource %q vs %q = %v, want %v", tc.pattern, tc.resource, got, !tc.want)
		}
	}
}

func TestEvaluatePrecedence(t *testing.T) {
	admin := mustParse(t, KindIdentity, stmt(`{"Effect":"Allow","Action":"*","Resource":"*"}`))
	denyDelete := mustParse(t, KindIdentity, stmt(`{"Effect":"Deny","Action":"iam:Delete*","Resource":"*"}`))
	readOnly := mustParse(t, KindIdentity, stmt(`{"Effect":"Allow","Action":["iam:Get*","iam:List*"],"Resource":"*"}`))
	mixed := mustParse(t, KindIdentity, stmt(`{"Effect":"Allow","Action":"iam:*","Resource":"*"},{"Effect":"Deny","Action":"iam:DeleteUser","Resource":"arn:aws:iam::123456789012:user/root-*"}`))
	notActionDeny := mustParse(t, KindIdentity, stmt(`{"Effect":"Deny","NotAction":["iam:Get*","iam:List*"],"Resource":"*"}`))
	notResourceDeny := mustParse(t, KindIdentity, stmt(`{"Effect":"Deny","Action":"s3:*","NotResource":["arn:aws:s3:::mine","arn:aws:s3:::mine/*"]}`))

	user := func(n string) string { return "arn:aws:iam::123456789012:user/" + n }
	tests := []struct {
		name string
		docs []*Document
		req  Request
		want Decision
	}{
		{"no policies", nil, Request{Action: "iam:GetUser", Resource: "*"}, ImplicitDeny},
		{"nil policy", []*Document{nil}, Request{Action: "iam:GetUser", Resource: "*"}, ImplicitDeny},
		{"admin", []*Document{admin}, Request{Action: "iam:DeleteUser", Resource: user("a")}, Allow},
		{"deny wins after allow", []*Document{admin, denyDelete}, Request{Action: "iam:DeleteUser", Resource: user("a")}, ExplicitDeny},
		{"deny wins before allow", []*Document{denyDelete, admin}, Request{Action: "iam:DeleteUser", Resource: user("a")}, ExplicitDeny},
		{"deny alone", []*Document{denyDelete}, Request{Action: "iam:DeleteUser", Resource: user("a")}, ExplicitDeny},
		{"deny does not apply", []*Document{admin, denyDelete}, Request{Action: "iam:CreateUser", Resource: user("a")}, Allow},
		{"read only allows get", []*Document{readOnly}, Request{Action: "iam:GetUser", Resource: user("a")}, Allow},
		{"read only denies create", []*Document{readOnly}, Request{Action: "iam:CreateUser", Resource: user("a")}, ImplicitDeny},
		{"same document deny", []*Document{mixed}, Request{Action: "iam:DeleteUser", Resource: user("root-x")}, ExplicitDeny},
		{"same document allow", []*Document{mixed}, Request{Action: "iam:DeleteUser", Resource: user("x")}, Allow},
		{"notaction deny", []*Document{admin, notActionDeny}, Request{Action: "iam:CreateUser", Resource: "*"}, ExplicitDeny},
		{"notaction deny spares reads", []*Document{admin, notActionDeny}, Request{Action: "iam:ListUsers", Resource: "*"}, Allow},
		{"notresource deny", []*Document{admin, notResourceDeny}, Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::other/k"}, ExplicitDeny},
		{"notresource deny spares own bucket", []*Document{admin, notResourceDeny}, Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::mine/k"}, Allow},
		{"notresource deny other service", []*Document{admin, notResourceDeny}, Request{Action: "iam:GetUser", Resource: "arn:aws:s3:::other"}, Allow},
	}
	for _, tc := range tests {
		if got := Evaluate(tc.docs, tc.req); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestPolicyVariables(t *testing.T) {
	userRes := func(v string) *Document {
		return mustParse(t, KindIdentity, stmt(`{"Effect":"Allow","Action":"iam:*AccessKey*","Resource":"arn:aws:iam::123456789012:user/`+v+`"}`))
	}
	alice := map[string][]string{"aws:username": {"alice"}, "aws:userid": {"AIDAEXAMPLE"}}
	tests := []struct {
		name     string
		doc      *Document
		resource string
		ctx      map[string][]string
		want     Decision
	}{
		{"username", userRes("${aws:username}"), "arn:aws:iam::123456789012:user/alice", alice, Allow},
		{"username other user", userRes("${aws:username}"), "arn:aws:iam::123456789012:user/bob", alice, ImplicitDeny},
		{"username missing", userRes("${aws:username}"), "arn:aws:iam::123456789012:user/alice", nil, ImplicitDeny},
		{"username case-insensitive key", userRes("${AWS:UserName}"), "arn:aws:iam::123456789012:user/alice", alice, Allow},
		{"context key case-insensitive", userRes("${aws:username}"), "arn:aws:iam::123456789012:user/alice", map[string][]string{"AWS:USERNAME": {"alice"}}, Allow},
		{"multi-valued key does not resolve", userRes("${aws:username}"), "arn:aws:iam::123456789012:user/alice", map[string][]string{"aws:username": {"alice", "bob"}}, ImplicitDeny},
		{"userid", userRes("${aws:userid}"), "arn:aws:iam::123456789012:user/AIDAEXAMPLE", alice, Allow},
		{"default", userRes("${aws:username, 'anonymous'}"), "arn:aws:iam::123456789012:user/anonymous", nil, Allow},
		{"default not used", userRes("${aws:username, 'anonymous'}"), "arn:aws:iam::123456789012:user/anonymous", alice, ImplicitDeny},
		{"variable and wildcard", userRes("${aws:username}/*"), "arn:aws:iam::123456789012:user/alice/key", alice, Allow},
		{"variable value is literal", userRes("${aws:username}"), "arn:aws:iam::123456789012:user/abc", map[string][]string{"aws:username": {"a*"}}, ImplicitDeny},
		{"variable value star literal", userRes("${aws:username}"), "arn:aws:iam::123456789012:user/a*", map[string][]string{"aws:username": {"a*"}}, Allow},
		{"escape star", userRes("${*}"), "arn:aws:iam::123456789012:user/*", nil, Allow},
		{"escape star is not a wildcard", userRes("${*}"), "arn:aws:iam::123456789012:user/alice", nil, ImplicitDeny},
		{"escape question mark", userRes("a${?}"), "arn:aws:iam::123456789012:user/a?", nil, Allow},
		{"escape question mark is not a wildcard", userRes("a${?}"), "arn:aws:iam::123456789012:user/ab", nil, ImplicitDeny},
		{"escape dollar", userRes("${$}{aws:username}"), "arn:aws:iam::123456789012:user/${aws:username}", alice, Allow},
		{"unterminated variable is literal", userRes("${aws:username"), "arn:aws:iam::123456789012:user/${aws:username", alice, Allow},
		{"principal account fallback", mustParse(t, KindIdentity, stmt(`{"Effect":"Allow","Action":"*","Resource":"arn:aws:iam::${aws:PrincipalAccount}:user/*"}`)),
			"arn:aws:iam::123456789012:user/alice", nil, Allow},
		{"principal tag", mustParse(t, KindIdentity, stmt(`{"Effect":"Allow","Action":"*","Resource":"arn:aws:s3:::bucket/${aws:PrincipalTag/department}/*"}`)),
			"arn:aws:s3:::bucket/hr/file", map[string][]string{"aws:PrincipalTag/department": {"hr"}}, Allow},
		{"version 2008 is literal", mustParse(t, KindIdentity, `{"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"arn:aws:iam::123456789012:user/${aws:username}"}}`),
			"arn:aws:iam::123456789012:user/alice", alice, ImplicitDeny},
		{"version 2008 literal text matches", mustParse(t, KindIdentity, `{"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"arn:aws:iam::123456789012:user/${aws:username}"}}`),
			"arn:aws:iam::123456789012:user/${aws:username}", alice, Allow},
		{"no version is literal", mustParse(t, KindIdentity, `{"Statement":{"Effect":"Allow","Action":"*","Resource":"arn:aws:iam::123456789012:user/${aws:username}"}}`),
			"arn:aws:iam::123456789012:user/alice", alice, ImplicitDeny},
		{"notresource with unresolved variable does not apply", mustParse(t, KindIdentity, stmt(`{"Effect":"Allow","Action":"*","NotResource":"arn:aws:s3:::${aws:username}/*"}`)),
			"arn:aws:s3:::other/x", nil, ImplicitDeny},
		{"notresource with resolved variable", mustParse(t, KindIdentity, stmt(`{"Effect":"Allow","Action":"*","NotResource":"arn:aws:s3:::${aws:username}/*"}`)),
			"arn:aws:s3:::other/x", alice, Allow},
		{"unresolved entry does not hide others", mustParse(t, KindIdentity, stmt(`{"Effect":"Allow","Action":"*","Resource":["arn:aws:s3:::${aws:username}/*","arn:aws:s3:::shared/*"]}`)),
			"arn:aws:s3:::shared/x", nil, Allow},
	}
	for _, tc := range tests {
		req := Request{Action: "iam:CreateAccessKey", Resource: tc.resource, PrincipalAccount: "123456789012", Context: tc.ctx}
		if got := Evaluate([]*Document{tc.doc}, req); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestAWSDocExamples evaluates policies from the IAM User Guide.
func TestAWSDocExamples(t *testing.T) {
	// Home directory in S3 with ${aws:username} in a condition and resources.
	home := mustParse(t, KindIdentity, `{
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow", "Action": ["s3:ListAllMyBuckets", "s3:GetBucketLocation"], "Resource": "arn:aws:s3:::*"},
    {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::BUCKET-NAME",
      "Condition": {"StringLike": {"s3:prefix": ["", "home/", "home/${aws:username}/"]}}},
    {"Effect": "Allow", "Action": "s3:*", "Resource": ["arn:aws:s3:::BUCKET-NAME/home/${aws:username}", "arn:aws:s3:::BUCKET-NAME/home/${aws:username}/*"]}
  ]
}`)
	ctx := func(prefix ...string) map[string][]string {
		m := map[string][]string{"aws:username": {"David"}}
		if prefix != nil {
			m["s3:prefix"] = prefix
		}
		return m
	}
	// The request-deny example: Bool aws:SecureTransport false.
	tls := mustParse(t, KindIdentity, `{
  "Version": "2012-10-17",
  "Statement": [{"Sid": "BooleanExample", "Action": "s3:*", "Effect": "Deny",
    "Resource": ["arn:aws:s3:::DOC-EXAMPLE-BUCKET", "arn:aws:s3:::DOC-EXAMPLE-BUCKET/*"],
    "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]
}`)
	// RunInstances with StringLikeIfExists.
	ec2 := mustParse(t, KindIdentity, `{
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "RunInstance", "Effect": "Allow", "Action": "ec2:RunInstances", "Resource": "*",
            "Condition": {"StringLikeIfExists": {"ec2:InstanceType": ["t1.*", "t2.*", "m3.*"]}}},
        {"Sid": "DescribeActions", "Effect": "Allow",
            "Action": ["ec2:DescribeImages", "ec2:DescribeInstances", "ec2:DescribeVpcs", "ec2:DescribeKeyPairs", "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups"],
            "Resource": "*"}]
}`)
	// Null: no temporary credentials.
	null := mustParse(t, KindIdentity, `{"Version":"2012-10-17","Statement":{"Action":"ec2:*","Effect":"Allow","Resource":"*","Condition":{"Null":{"aws:TokenIssueTime":"true"}}}}`)
	// ForAllValues / ForAnyValue on DynamoDB attributes.
	getItem := mustParse(t, KindIdentity, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"dynamodb:GetItem",
		"Resource":"arn:aws:dynamodb:us-east-1:123456789012:table/Thread",
		"Condition":{"ForAllValues:StringLike":{"dynamodb:requestedAttributes":["PostDateTime","Message","Tags"]}}}]}`)
	putItem := mustParse(t, KindIdentity, `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"dynamodb:PutItem",
		"Resource":"arn:aws:dynamodb:us-east-1:123456789012:table/Thread",
		"Condition":{"ForAnyValue:StringLike":{"dynamodb:requestedAttributes":["ID","PostDateTime"]}}}]}`)
	// Deny tag keys that do not start with key1.
	tagKeys := mustParse(t, KindIdentity, `{"Version":"2012-10-17","Statement":[{"Sid":"DenyRestrictedTags","Effect":"Deny","Action":["iam:Tag*","iam:UnTag*"],
		"Resource":["*"],"Condition":{"ForAllValues:StringNotLike":{"aws:TagKeys":"key1*"}}}]}`)
	table := "arn:aws:dynamodb:us-east-1:123456789012:table/Thread"

	tests := []struct {
		name string
		doc  *Document
		req  Request
		want Decision
	}{
		{"home list root", home, Request{Action: "s3:ListBucket", Resource: "arn:aws:s3:::BUCKET-NAME", Context: ctx("")}, Allow},
		{"home list home/", home, Request{Action: "s3:ListBucket", Resource: "arn:aws:s3:::BUCKET-NAME", Context: ctx("home/")}, Allow},
		{"home list own", home, Request{Action: "s3:ListBucket", Resource: "arn:aws:s3:::BUCKET-NAME", Context: ctx("home/David/")}, Allow},
		{"home list other", home, Request{Action: "s3:ListBucket", Resource: "arn:aws:s3:::BUCKET-NAME", Context: ctx("home/Adele/")}, ImplicitDeny},
		{"home list no prefix", home, Request{Action: "s3:ListBucket", Resource: "arn:aws:s3:::BUCKET-NAME", Context: ctx()}, ImplicitDeny},
		{"home get own", home, Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::BUCKET-NAME/home/David/notes.txt", Context: ctx()}, Allow},
		{"home get other", home, Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::BUCKET-NAME/home/Adele/notes.txt", Context: ctx()}, ImplicitDeny},
		{"home list buckets", home, Request{Action: "s3:ListAllMyBuckets", Resource: "arn:aws:s3:::x", Context: ctx()}, Allow},
		{"tls plain", tls, Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::DOC-EXAMPLE-BUCKET/k", Context: map[string][]string{"aws:SecureTransport": {"false"}}}, ExplicitDeny},
		{"tls secure", tls, Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::DOC-EXAMPLE-BUCKET/k", Context: map[string][]string{"aws:SecureTransport": {"true"}}}, ImplicitDeny},
		{"ec2 t2", ec2, Request{Action: "ec2:RunInstances", Resource: "*", Context: map[string][]string{"ec2:InstanceType": {"t2.micro"}}}, Allow},
		{"ec2 c5", ec2, Request{Action: "ec2:RunInstances", Resource: "*", Context: map[string][]string{"ec2:InstanceType": {"c5.large"}}}, ImplicitDeny},
		{"ec2 other resource without key", ec2, Request{Action: "ec2:RunInstances", Resource: "*"}, Allow},
		{"null long-term", null, Request{Action: "ec2:DescribeInstances", Resource: "*"}, Allow},
		{"null temporary", null, Request{Action: "ec2:DescribeInstances", Resource: "*", Context: map[string][]string{"aws:TokenIssueTime": {"2020-01-01T00:00:00Z"}}}, ImplicitDeny},
		{"forall subset", getItem, Request{Action: "dynamodb:GetItem", Resource: table, Context: map[string][]string{"dynamodb:requestedAttributes": {"PostDateTime", "Message"}}}, Allow},
		{"forall not subset", getItem, Request{Action: "dynamodb:GetItem", Resource: table, Context: map[string][]string{"dynamodb:requestedAttributes": {"PostDateTime", "UserName"}}}, ImplicitDeny},
		{"forall ID", getItem, Request{Action: "dynamodb:GetItem", Resource: table, Context: map[string][]string{"dynamodb:requestedAttributes": {"ID"}}}, ImplicitDeny},
		{"foranyvalue hit", putItem, Request{Action: "dynamodb:PutItem", Resource: table, Context: map[string][]string{"dynamodb:requestedAttributes": {"UserName", "Message", "PostDateTime"}}}, ExplicitDeny},
		{"foranyvalue miss", putItem, Request{Action: "dynamodb:PutItem", Resource: table, Context: map[string][]string{"dynamodb:requestedAttributes": {"UserName"}}}, ImplicitDeny},
		{"tagkeys key1 legal", tagKeys, Request{Action: "iam:TagUser", Resource: "*", Context: map[string][]string{"aws:TagKeys": {"key1:legal"}}}, ImplicitDeny},
		{"tagkeys key1 two", tagKeys, Request{Action: "iam:TagUser", Resource: "*", Context: map[string][]string{"aws:TagKeys": {"key1:hr", "key1:personnel"}}}, ImplicitDeny},
		{"tagkeys key2", tagKeys, Request{Action: "iam:TagUser", Resource: "*", Context: map[string][]string{"aws:TagKeys": {"key2:audit"}}}, ExplicitDeny},
		{"tagkeys missing", tagKeys, Request{Action: "iam:TagUser", Resource: "*"}, ExplicitDeny},
	}
	for _, tc := range tests {
		if got := Evaluate([]*Document{tc.doc}, tc.req); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestTrustPolicies(t *testing.T) {
	trust := func(principal string, extra string) *Document {
		return mustParse(t, KindTrust, stmt(`{"Effect":"Allow","Principal":`+principal+`,"Action":"sts:AssumeRole"`+extra+`}`))
	}
	const acct = "123456789012"
	alice := "arn:aws:iam::123456789012:user/alice"
	session := "arn:aws:sts::123456789012:assumed-role/Admin/my-session"
	other := "arn:aws:iam::999999999999:user/mallory"

	byID := trust(`{"AWS":"123456789012"}`, "")
	byRoot := trust(`{"AWS":"arn:aws:iam::123456789012:root"}`, "")
	byUser := trust(`{"AWS":"arn:aws:iam::123456789012:user/alice"}`, "")
	byRole := trust(`{"AWS":"arn:aws:iam::123456789012:role/ops/Admin"}`, "")
	bySession := trust(`{"AWS":"arn:aws:sts::123456789012:assumed-role/Admin/my-session"}`, "")
	anyone := trust(`{"AWS":"*"}`, "")
	list := trust(`{"AWS":["999999999999","arn:aws:iam::123456789012:user/alice"]}`, "")
	ec2 := trust(`{"Service":"ec2.amazonaws.com"}`, "")
	services := trust(`{"Service":["ecs.amazonaws.com","elasticloadbalancing.amazonaws.com"]}`, "")
	externalID := trust(`{"AWS":"999999999999"}`, `,"Condition":{"StringEquals":{"sts:ExternalId":"secret"}}`)
	saml := mustParse(t, KindTrust, stmt(`{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::123456789012:saml-provider/idp"},"Action":"sts:AssumeRoleWithSAML"}`))
	denyOthers := mustParse(t, KindTrust, stmt(`{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"},
		{"Effect":"Deny","NotPrincipal":{"AWS":["arn:aws:iam::123456789012:user/alice","123456789012"]},"Action":"sts:AssumeRole"}`))
	denyUser := mustParse(t, KindTrust, stmt(`{"Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":"sts:*"},
		{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::123456789012:user/bob"},"Action":"sts:AssumeRole"}`))
	legacy := mustParse(t, KindTrust, `{"Version":"2008-10-17","Statement":[{"Sid":"","Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)
	anyKind := mustParse(t, KindAny, stmt(`{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}`))

	assume := func(principal, account string) Request {
		return Request{Action: "sts:AssumeRole", Resource: "arn:aws:iam::123456789012:role/target", Principal: principal, PrincipalAccount: account}
	}
	tests := []struct {
		name string
		doc  *Document
		req  Request
		want Decision
	}{
		{"account id, same account user", byID, assume(alice, acct), Allow},
		{"account id, account from ARN", byID, assume(alice, ""), Allow},
		{"account id, root caller", byID, assume("arn:aws:iam::123456789012:root", acct), Allow},
		{"account id, session", byID, assume(session, acct), Allow},
		{"account id, other account", byID, assume(other, "999999999999"), ImplicitDeny},
		{"account id, service caller", byID, assume("ec2.amazonaws.com", ""), ImplicitDeny},
		{"root ARN, same account", byRoot, assume(alice, acct), Allow},
		{"root ARN, other account", byRoot, assume(other, "999999999999"), ImplicitDeny},
		{"user ARN, that user", byUser, assume(alice, acct), Allow},
		{"user ARN, other user", byUser, assume("arn:aws:iam::123456789012:user/bob", acct), ImplicitDeny},
		{"user ARN is case-sensitive", byUser, assume("arn:aws:iam::123456789012:user/Alice", acct), ImplicitDeny},
		{"user ARN via aws:PrincipalArn", byUser, Request{Action: "sts:AssumeRole", Principal: "AIDAEXAMPLE", Context: map[string][]string{"aws:PrincipalArn": {alice}}}, Allow},
		{"role ARN, session of role", byRole, assume(session, acct), Allow},
		{"role ARN, the role", byRole, assume("arn:aws:iam::123456789012:role/ops/Admin", acct), Allow},
		{"role ARN, other role session", byRole, assume("arn:aws:sts::123456789012:assumed-role/Dev/s", acct), ImplicitDeny},
		{"role ARN, same name other account", byRole, assume("arn:aws:sts::999999999999:assumed-role/Admin/s", "999999999999"), ImplicitDeny},
		{"role ARN, user with same name", byRole, assume("arn:aws:iam::123456789012:user/Admin", acct), ImplicitDeny},
		{"session ARN, that session", bySession, assume(session, acct), Allow},
		{"session ARN, other session", bySession, assume("arn:aws:sts::123456789012:assumed-role/Admin/other", acct), ImplicitDeny},
		{"star, other account", anyone, assume(other, "999999999999"), Allow},
		{"star, service", anyone, assume("ec2.amazonaws.com", ""), Allow},
		{"list, second entry", list, assume(alice, acct), Allow},
		{"list, first entry", list, assume(other, "999999999999"), Allow},
		{"list, neither", list, assume("arn:aws:iam::123456789012:user/bob", acct), ImplicitDeny},
		{"service", ec2, assume("ec2.amazonaws.com", ""), Allow},
		{"service case-insensitive", ec2, assume("EC2.amazonaws.com", ""), Allow},
		{"other service", ec2, assume("lambda.amazonaws.com", ""), ImplicitDeny},
		{"service vs user", ec2, assume(alice, acct), ImplicitDeny},
		{"service list", services, assume("elasticloadbalancing.amazonaws.com", ""), Allow},
		{"wrong action", byID, Request{Action: "sts:AssumeRoleWithSAML", Principal: alice, PrincipalAccount: acct}, ImplicitDeny},
		{"action case-insensitive", byID, Request{Action: "STS:assumerole", Principal: alice, PrincipalAccount: acct}, Allow},
		{"external id ok", externalID, Request{Action: "sts:AssumeRole", Principal: other, PrincipalAccount: "999999999999", Context: map[string][]string{"sts:ExternalId": {"secret"}}}, Allow},
		{"external id wrong", externalID, Request{Action: "sts:AssumeRole", Principal: other, PrincipalAccount: "999999999999", Context: map[string][]string{"sts:ExternalId": {"guess"}}}, ImplicitDeny},
		{"external id missing", externalID, Request{Action: "sts:AssumeRole", Principal: other, PrincipalAccount: "999999999999"}, ImplicitDeny},
		{"saml", saml, Request{Action: "sts:AssumeRoleWithSAML", Principal: "arn:aws:iam::123456789012:saml-provider/idp"}, Allow},
		{"saml other provider", saml, Request{Action: "sts:AssumeRoleWithSAML", Principal: "arn:aws:iam::123456789012:saml-provider/other"}, ImplicitDeny},
		{"notprincipal deny spares alice", denyOthers, assume(alice, acct), Allow},
		{"notprincipal deny hits others", denyOthers, assume(other, "999999999999"), ExplicitDeny},
		{"deny user", denyUser, assume("arn:aws:iam::123456789012:user/bob", acct), ExplicitDeny},
		{"deny user spares others", denyUser, assume(alice, acct), Allow},
		{"legacy version", legacy, assume("ec2.amazonaws.com", ""), Allow},
		{"generic star", anyKind, assume(other, ""), Allow},
	}
	for _, tc := range tests {
		if got := tc.doc.AllowsPrincipal(tc.req); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
	var nilDoc *Document
	if got := nilDoc.AllowsPrincipal(assume(alice, acct)); got != ImplicitDeny {
		t.Errorf("nil document: %v", got)
	}
}

func TestEvaluateChecksPrincipalOfResourcePolicies(t *testing.T) {
	d := mustParse(t, KindAny, stmt(`{"Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}`))
	ok := Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k", Principal: "arn:aws:iam::123456789012:user/a"}
	if got := Evaluate([]*Document{d}, ok); got != Allow {
		t.Errorf("same account: %v", got)
	}
	ok.Principal = "arn:aws:iam::999999999999:user/a"
	if got := Evaluate([]*Document{d}, ok); got != ImplicitDeny {
		t.Errorf("other account: %v", got)
	}
	ok.Principal, ok.Resource = "arn:aws:iam::123456789012:user/a", "arn:aws:s3:::c/k"
	if got := Evaluate([]*Document{d}, ok); got != ImplicitDeny {
		t.Errorf("other bucket: %v", got)
	}
}
