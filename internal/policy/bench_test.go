package policy

import "testing"

// typicalPolicies is the set of policies of a user: a managed read-only
// policy, a self-service policy with variables, a deny guard with
// conditions, an IP restriction and a scoped admin policy.
var typicalPolicies = []string{
	`{"Version":"2012-10-17","Statement":[{"Sid":"ReadOnly","Effect":"Allow","Action":["iam:Get*","iam:List*","cloudtrail:Describe*","cloudtrail:Get*","cloudtrail:List*","cloudtrail:LookupEvents"],"Resource":"*"}]}`,
	`{"Version":"2012-10-17","Statement":[
		{"Sid":"OwnKeys","Effect":"Allow","Action":["iam:*AccessKey*","iam:*LoginProfile","iam:ChangePassword"],"Resource":"arn:aws:iam::123456789012:user/${aws:username}"},
		{"Sid":"OwnMFA","Effect":"Allow","Action":["iam:*MFADevice"],"Resource":["arn:aws:iam::123456789012:mfa/${aws:username}","arn:aws:iam::123456789012:user/${aws:username}"]}]}`,
	`{"Version":"2012-10-17","Statement":[
		{"Sid":"DenyInsecure","Effect":"Deny","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}},
		{"Sid":"DenyTrailDelete","Effect":"Deny","Action":["cloudtrail:DeleteTrail","cloudtrail:StopLogging"],"Resource":"arn:aws:cloudtrail:*:123456789012:trail/org-*",
		 "Condition":{"StringNotEquals":{"aws:PrincipalTag/team":["security","audit"]}}}]}`,
	`{"Version":"2012-10-17","Statement":[{"Sid":"OfficeOnly","Effect":"Deny","NotAction":["sts:GetCallerIdentity"],"Resource":"*",
		"Condition":{"NotIpAddress":{"aws:SourceIp":["203.0.113.0/24","2001:DB8:1234:5678::/64"]},"Bool":{"aws:ViaAWSService":"false"}}}]}`,
	`{"Version":"2012-10-17","Statement":[{"Sid":"TrailAdmin","Effect":"Allow","Action":["cloudtrail:*","s3:GetBucketPolicy","s3:PutBucketPolicy"],
		"Resource":["arn:aws:cloudtrail:us-east-1:123456789012:trail/*","arn:aws:s3:::trail-bucket"],
		"Condition":{"DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"},"StringEqualsIfExists":{"aws:RequestedRegion":"us-east-1"}}}]}`,
}

func benchDocs(tb testing.TB) []*Document {
	docs := make([]*Document, len(typicalPolicies))
	for i, p := range typicalPolicies {
		docs[i] = mustParse(tb, KindIdentity, p)
	}
	return docs
}

var benchRequests = []Request{
	{Action: "cloudtrail:CreateTrail", Resource: "arn:aws:cloudtrail:us-east-1:123456789012:trail/main",
		Principal: "arn:aws:iam::123456789012:user/alice", PrincipalAccount: "123456789012",
		Context: map[string][]string{
			"aws:username": {"alice"}, "aws:userid": {"AIDAEXAMPLE"}, "aws:SecureTransport": {"true"},
			"aws:SourceIp": {"203.0.113.7"}, "aws:ViaAWSService": {"false"}, "aws:CurrentTime": {"2026-03-01T12:00:00Z"},
			"aws:RequestedRegion": {"us-east-1"}, "aws:PrincipalTag/team": {"dev"},
		}},
	{Action: "iam:CreateAccessKey", Resource: "arn:aws:iam::123456789012:user/alice",
		Principal: "arn:aws:iam::123456789012:user/alice", PrincipalAccount: "123456789012",
		Context: map[string][]string{
			"aws:username": {"alice"}, "aws:SecureTransport": {"true"}, "aws:SourceIp": {"2001:db8:1234:5678::9"},
			"aws:ViaAWSService": {"false"}, "aws:CurrentTime": {"2026-03-01T12:00:00Z"},
		}},
	{Action: "cloudtrail:DeleteTrail", Resource: "arn:aws:cloudtrail:us-east-1:123456789012:trail/org-main",
		Principal: "arn:aws:iam::123456789012:user/alice", PrincipalAccount: "123456789012",
		Context: map[string][]string{
			"aws:username": {"alice"}, "aws:SecureTransport": {"true"}, "aws:SourceIp": {"203.0.113.7"},
			"aws:ViaAWSService": {"false"}, "aws:CurrentTime": {"2026-03-01T12:00:00Z"}, "aws:PrincipalTag/team": {"dev"},
		}},
	{Action: "s3:GetObject", Resource: "arn:aws:s3:::other/key",
		Principal: "arn:aws:iam::123456789012:user/alice", PrincipalAccount: "123456789012",
		Context: map[string][]string{"aws:SecureTransport": {"true"}, "aws:SourceIp": {"198.51.100.1"}, "aws:ViaAWSService": {"false"}}},
}

func TestBenchRequestsDecisions(t *testing.T) {
	docs := benchDocs(t)
	want := []Decision{Allow, Allow, ExplicitDeny, ExplicitDeny}
	for i, req := range benchRequests {
		if got := Evaluate(docs, req); got != want[i] {
			t.Errorf("request %d (%s): got %v, want %v", i, req.Action, got, want[i])
		}
	}
}

func TestEvaluateDoesNotAllocate(t *testing.T) {
	docs := benchDocs(t)
	trust := mustParse(t, KindTrust, stmt(`{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::123456789012:role/Admin","999999999999"],"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole",
		"Condition":{"StringEquals":{"sts:ExternalId":"x"}}}`))
	for i, req := range benchRequests {
		if n := testing.AllocsPerRun(100, func() { Evaluate(docs, req) }); n != 0 {
			t.Errorf("request %d: %v allocations per Evaluate", i, n)
		}
	}
	req := Request{Action: "sts:AssumeRole", Principal: "arn:aws:sts::123456789012:assumed-role/Admin/s", PrincipalAccount: "123456789012",
		Context: map[string][]string{"sts:ExternalId": {"x"}}}
	if n := testing.AllocsPerRun(100, func() { trust.AllowsPrincipal(req) }); n != 0 {
		t.Errorf("%v allocations per AllowsPrincipal", n)
	}
}

func BenchmarkEvaluate(b *testing.B) {
	docs := benchDocs(b)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		Evaluate(docs, benchRequests[i%len(benchRequests)])
	}
}

func BenchmarkAllowsPrincipal(b *testing.B) {
	trust := mustParse(b, KindTrust, stmt(`{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::123456789012:role/Admin","999999999999"],"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole",
		"Condition":{"StringEquals":{"sts:ExternalId":"x"}}}`))
	req := Request{Action: "sts:AssumeRole", Principal: "arn:aws:sts::123456789012:assumed-role/Admin/s", PrincipalAccount: "123456789012",
		Context: map[string][]string{"sts:ExternalId": {"x"}}}
	b.ReportAllocs()
	for b.Loop() {
		trust.AllowsPrincipal(req)
	}
}

func BenchmarkParseIdentity(b *testing.B) {
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := ParseIdentity(typicalPolicies[i%len(typicalPolicies)]); err != nil {
			b.Fatal(err)
		}
	}
}
