package policy

import (
	"errors"
	"testing"
)

var fuzzSeeds = []string{
	`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`,
	`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","NotAction":["iam:*","s3:Get*"],"NotResource":"arn:aws:s3:::${aws:username}/*"}]}`,
	`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::b","Condition":{"StringLike":{"s3:prefix":["","home/","home/${aws:username, 'x'}/${*}${?}${$}"]}}}]}`,
	`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["123456789012","arn:aws:iam::123456789012:role/a/b"],"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"x"}}}]}`,
	`{"Version":"2008-10-17","Statement":[{"Sid":"","Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}]}`,
	`{"Statement":[{"Effect":"Allow","Action":"ec2:*","Resource":"*","Condition":{"Null":{"aws:TokenIssueTime":"true"},"IpAddress":{"aws:SourceIp":["203.0.113.0/24","2001:DB8::/32"]},
		"DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"},"NumericGreaterThanEquals":{"k":1.5},"Bool":{"aws:SecureTransport":true},
		"BinaryEquals":{"b":"QQ=="},"ForAllValues:ArnLikeIfExists":{"a":"arn:aws:*:*:*:*"},"ForAnyValue:StringNotEqualsIgnoreCase":{"t":["A","B"]}}}]}`,
	`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:sts::123456789012:assumed-role/r/s"},"Action":"s3:*","Resource":"arn:aws:s3:::b/?*?"}]}`,
	`not json`,
	`{"Version":"2012-10-17","Statement":[]}`,
	`{"Version":"2012-10-17","Statement":[{"Effect":"allow","Action":"x","Resource":"y"}]}`,
}

var fuzzRequests = []Request{
	{Action: "iam:CreateUser", Resource: "*"},
	{Action: "s3:GetObject", Resource: "arn:aws:s3:::b/home/alice/x", Principal: "arn:aws:iam::123456789012:user/alice", PrincipalAccount: "123456789012",
		Context: map[string][]string{"aws:username": {"alice"}, "s3:prefix": {"home/alice/"}, "aws:SourceIp": {"203.0.113.9"}, "aws:CurrentTime": {"2025-01-01T00:00:00Z"},
			"aws:SecureTransport": {"true"}, "k": {"2", "x"}, "b": {"A"}, "a": {"arn:aws:s3:::b", ""}, "t": {}}},
	{Action: "sts:AssumeRole", Principal: "arn:aws:sts::123456789012:assumed-role/b/s", Context: map[string][]string{"AWS:USERNAME": {"*?"}, "sts:externalid": {"x"}}},
	{Action: "", Resource: "", Principal: "ec2.amazonaws.com"},
	{Action: "é:?", Resource: "arn:::::", Principal: "arn:aws:iam::123456789012:root"},
}

// FuzzParse checks that parsing never panics, that a document accepted by a
// strict parser is accepted by Parse, and that parsed documents evaluate
// without panicking.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		var parsed []*Document
		for _, kind := range []Kind{KindAny, KindIdentity, KindTrust} {
			d, err := ParseKind(doc, kind)
			if err != nil {
				var me *MalformedError
				if !errors.As(err, &me) || me.Message == "" {
					t.Fatalf("ParseKind(%s) error %v is not a MalformedError", kind, err)
				}
				if d != nil {
					t.Fatalf("ParseKind(%s) returned a document and an error", kind)
				}
				continue
			}
			if kind != KindAny && parsed == nil {
				t.Fatalf("ParseKind(%s) accepted a document Parse rejects", kind)
			}
			parsed = append(parsed, d)
		}
		for _, d := range parsed {
			for _, req := range fuzzRequests {
				Evaluate([]*Document{d}, req)
				d.AllowsPrincipal(req)
			}
		}
	})
}

func TestParseErrorsAreMalformed(t *testing.T) {
	for _, s := range fuzzSeeds {
		for _, kind := range []Kind{KindAny, KindIdentity, KindTrust} {
			if _, err := ParseKind(s, kind); err != nil {
				var me *MalformedError
				if !errors.As(err, &me) {
					t.Errorf("%T", err)
				}
			}
		}
	}
}
