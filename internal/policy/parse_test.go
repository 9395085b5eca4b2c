package policy

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// stmt wraps statement JSON into a 2012-10-17 document.
func stmt(s string) string {
	return `{"Version":"2012-10-17","Statement":[` + s + `]}`
}

func TestParseErrors(t *testing.T) {
	const allow = `"Effect":"Allow","Action":"iam:GetUser","Resource":"*"`
	const trustOK = `"Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":"sts:AssumeRole"`
	tests := []struct {
		name string
		kind Kind
		doc  string
		want string
	}{
		// Grammar.
		{"not json", KindIdentity, `not json`, msgSyntax},
		{"empty", KindIdentity, ``, msgSyntax},
		{"array", KindIdentity, `[]`, msgSyntax},
		{"trailing data", KindIdentity, stmt(`{`+allow+`}`) + ` {}`, msgSyntax},
		{"no statement", KindIdentity, `{"Version":"2012-10-17"}`, msgSyntax},
		{"empty statement list", KindIdentity, `{"Version":"2012-10-17","Statement":[]}`, msgSyntax},
		{"statement string", KindIdentity, `{"Version":"2012-10-17","Statement":"x"}`, msgSyntax},
		{"statement null", KindIdentity, `{"Version":"2012-10-17","Statement":null}`, msgSyntax},
		{"statement item not object", KindIdentity, stmt(`"x"`), msgSyntax},
		{"unknown top-level key", KindIdentity, `{"Version":"2012-10-17","Foo":1,"Statement":{` + allow + `}}`, msgSyntax},
		{"lower-case top-level key", KindIdentity, `{"version":"2012-10-17","Statement":{` + allow + `}}`, msgSyntax},
		{"bad version", KindIdentity, `{"Version":"2013-01-01","Statement":{` + allow + `}}`, msgSyntax},
		{"numeric version", KindIdentity, `{"Version":2012,"Statement":{` + allow + `}}`, msgSyntax},
		{"numeric id", KindIdentity, `{"Version":"2012-10-17","Id":1,"Statement":{` + allow + `}}`, msgSyntax},
		{"unknown statement key", KindIdentity, stmt(`{` + allow + `,"Foo":"x"}`), msgSyntax},
		{"lower-case statement key", KindIdentity, stmt(`{"effect":"Allow","Action":"iam:GetUser","Resource":"*"}`), msgSyntax},
		{"missing effect", KindIdentity, stmt(`{"Action":"iam:GetUser","Resource":"*"}`), msgSyntax},
		{"unknown effect", KindIdentity, stmt(`{"Effect":"Permit","Action":"iam:GetUser","Resource":"*"}`), msgSyntax},
		{"numeric effect", KindIdentity, stmt(`{"Effect":1,"Action":"iam:GetUser","Resource":"*"}`), msgSyntax},
		{"action and notaction", KindIdentity, stmt(`{` + allow + `,"NotAction":"s3:*"}`), msgSyntax},
		{"resource and notresource", KindIdentity, stmt(`{` + allow + `,"NotResource":"*"}`), msgSyntax},
		{"numeric action", KindIdentity, stmt(`{"Effect":"Allow","Action":5,"Resource":"*"}`), msgSyntax},
		{"numeric action in list", KindIdentity, stmt(`{"Effect":"Allow","Action":["iam:GetUser",5],"Resource":"*"}`), msgSyntax},
		// The exact document of a CloudTrail event recorded by AWS.
		{"null resource", KindIdentity, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*"],"Resource":null}]}`, msgSyntax},
		{"object resource", KindIdentity, stmt(`{"Effect":"Allow","Action":"s3:*","Resource":{}}`), msgSyntax},
		{"numeric sid", KindIdentity, stmt(`{"Sid":1,` + allow + `}`), msgSyntax},
		{"condition not object", KindIdentity, stmt(`{` + allow + `,"Condition":"x"}`), msgSyntax},
		{"condition body not object", KindIdentity, stmt(`{` + allow + `,"Condition":{"StringEquals":"x"}}`), msgSyntax},
		{"condition value object", KindIdentity, stmt(`{` + allow + `,"Condition":{"StringEquals":{"aws:username":{}}}}`), msgSyntax},
		{"condition value null", KindIdentity, stmt(`{` + allow + `,"Condition":{"StringEquals":{"aws:username":null}}}`), msgSyntax},
		{"condition value nested list", KindIdentity, stmt(`{` + allow + `,"Condition":{"StringEquals":{"aws:username":[["a"]]}}}`), msgSyntax},
		{"unknown condition operator", KindIdentity, stmt(`{` + allow + `,"Condition":{"StringEqualz":{"aws:username":"a"}}}`), msgSyntax},
		{"operator names are case-sensitive", KindIdentity, stmt(`{` + allow + `,"Condition":{"stringequals":{"aws:username":"a"}}}`), msgSyntax},
		{"NullIfExists", KindIdentity, stmt(`{` + allow + `,"Condition":{"NullIfExists":{"aws:username":"true"}}}`), msgSyntax},
		{"unknown qualifier", KindIdentity, stmt(`{` + allow + `,"Condition":{"ForSomeValues:StringLike":{"aws:TagKeys":"a"}}}`), msgSyntax},
		{"principal string", KindAny, stmt(`{` + allow + `,"Principal":"arn:aws:iam::123456789012:root"}`), msgSyntax},
		{"principal unknown type", KindAny, stmt(`{` + allow + `,"Principal":{"Foo":"x"}}`), msgSyntax},
		{"principal lower-case type", KindTrust, stmt(`{"Effect":"Allow","Principal":{"aws":"123456789012"},"Action":"sts:AssumeRole"}`), msgSyntax},
		{"principal and notprincipal", KindAny, stmt(`{` + allow + `,"Principal":"*","NotPrincipal":"*"}`), msgSyntax},

		// Identity policies.
		{"identity principal", KindIdentity, stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"}`), msgNoPrincipal},
		{"identity notprincipal", KindIdentity, stmt(`{"Effect":"Deny","NotPrincipal":{"AWS":"123456789012"},"Action":"s3:GetObject","Resource":"*"}`), msgNoPrincipal},
		{"lower-case effect", KindIdentity, stmt(`{"Effect":"allow","Action":"iam:GetUser","Resource":"*"}`), msgLegacy},
		{"bad date", KindIdentity, stmt(`{` + allow + `,"Condition":{"DateGreaterThan":{"aws:CurrentTime":"yesterday"}}}`), msgLegacy},
		{"bad month", KindIdentity, stmt(`{` + allow + `,"Condition":{"DateLessThan":{"aws:CurrentTime":"2020-13-01"}}}`), msgLegacy},
		{"bad epoch", KindIdentity, stmt(`{` + allow + `,"Condition":{"DateLessThan":{"aws:EpochTime":"12ab"}}}`), msgLegacy},
		{"duplicate sid", KindIdentity, stmt(`{"Sid":"A",` + allow + `},{"Sid":"A",` + allow + `}`), msgSidUnique},
		// The exact document of a CloudTrail event recorded by AWS.
		{"sid with underscores", KindIdentity, `{"Version": "2012-10-17", "Statement": [{"Sid": "Atomic_Red_Team", "Effect": "Allow", "Action": "iam:CreatePolicyVersion", "Resource": "arn:aws:iam::*:policy/*"}]}`, msgSidAlnum},
		{"missing action", KindIdentity, stmt(`{"Effect":"Allow","Resource":"*"}`), msgActions},
		{"empty action list", KindIdentity, stmt(`{"Effect":"Allow","Action":[],"Resource":"*"}`), msgActions},
		{"missing resource", KindIdentity, stmt(`{"Effect":"Allow","Action":"iam:GetUser"}`), msgResources},
		{"empty resource list", KindIdentity, stmt(`{"Effect":"Allow","Action":"iam:GetUser","Resource":[]}`), msgResources},
		{"empty notresource list", KindIdentity, stmt(`{"Effect":"Allow","Action":"iam:GetUser","NotResource":[]}`), msgResources},
		// The resource of a CloudTrail event recorded by AWS.
		{"resource not an ARN", KindIdentity, stmt(`{"Effect":"Allow","Action":"ecr:*","Resource":"174313347505.dkr.ecr.us-west-2.amazonaws.com/mhart-experimental"}`),
			`Resource 174313347505.dkr.ecr.us-west-2.amazonaws.com/mhart-experimental must be in ARN format or "*".`},
		{"notresource not an ARN", KindIdentity, stmt(`{"Effect":"Allow","Action":"s3:*","NotResource":["*","bucket"]}`), `Resource bucket must be in ARN format or "*".`},
		{"action without vendor", KindIdentity, stmt(`{"Effect":"Allow","Action":"CreateUser","Resource":"*"}`), msgVendor},
		{"empty action", KindIdentity, stmt(`{"Effect":"Allow","Action":"","Resource":"*"}`), msgVendor},
		{"notaction without vendor", KindIdentity, stmt(`{"Effect":"Allow","NotAction":["iam:*","GetObject"],"Resource":"*"}`), msgVendor},
		{"action with two colons", KindIdentity, stmt(`{"Effect":"Allow","Action":"iam:Create:User","Resource":"*"}`), msgOneColon},
		{"invalid vendor", KindIdentity, stmt(`{"Effect":"Allow","Action":"i am:CreateUser","Resource":"*"}`), "Vendor i am is not valid"},
		{"wildcard in vendor", KindIdentity, stmt(`{"Effect":"Allow","Action":"i*m:CreateUser","Resource":"*"}`), "Vendor i*m is not valid"},

		// Trust policies.
		{"trust not json", KindTrust, `{"Version":`, msgInvalidJSON},
		{"trust grammar", KindTrust, stmt(`{` + trustOK + `,"Foo":1}`), msgSyntax},
		{"trust resource", KindTrust, stmt(`{` + trustOK + `,"Resource":"*"}`), "Has prohibited field Resource"},
		{"trust notresource", KindTrust, stmt(`{` + trustOK + `,"NotResource":"*"}`), "Has prohibited field NotResource"},
		{"trust missing principal", KindTrust, stmt(`{"Effect":"Allow","Action":"sts:AssumeRole"}`), msgMissingPrincipal},
		{"trust empty principal", KindTrust, stmt(`{"Effect":"Allow","Principal":{},"Action":"sts:AssumeRole"}`), msgMissingPrincipal},
		{"trust empty principal list", KindTrust, stmt(`{"Effect":"Allow","Principal":{"AWS":[]},"Action":"sts:AssumeRole"}`), msgMissingPrincipal},
		{"trust star principal", KindTrust, stmt(`{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}`), msgStarPrincipalTrust},
		{"trust missing action", KindTrust, stmt(`{"Effect":"Allow","Principal":{"AWS":"123456789012"}}`), msgActions},
		{"trust sid", KindTrust, stmt(`{"Sid":"trust-1",` + trustOK + `}`), msgSidAlnum},
		{"trust wildcard user", KindTrust, stmt(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/*"},"Action":"sts:AssumeRole"}`),
			`Invalid principal in policy: "AWS":"arn:aws:iam::123456789012:user/*"`},
		{"trust bare name", KindTrust, stmt(`{"Effect":"Allow","Principal":{"AWS":["123456789012","bob"]},"Action":"sts:AssumeRole"}`),
			`Invalid principal in policy: "AWS":"bob"`},
		{"trust short account", KindTrust, stmt(`{"Effect":"Allow","Principal":{"AWS":"12345"},"Action":"sts:AssumeRole"}`),
			`Invalid principal in policy: "AWS":"12345"`},
		{"trust group principal", KindTrust, stmt(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:group/admins"},"Action":"sts:AssumeRole"}`),
			`Invalid principal in policy: "AWS":"arn:aws:iam::123456789012:group/admins"`},
		{"trust empty service", KindTrust, stmt(`{"Effect":"Allow","Principal":{"Service":""},"Action":"sts:AssumeRole"}`),
			`Invalid principal in policy: "SERVICE":""`},
		{"trust empty federated", KindTrust, stmt(`{"Effect":"Allow","Principal":{"Federated":" "},"Action":"sts:AssumeRoleWithWebIdentity"}`),
			`Invalid principal in policy: "FEDERATED":" "`},

		// Rules shared by every kind.
		{"any missing action", KindAny, stmt(`{"Effect":"Allow","Resource":"*"}`), msgActions},
		{"any invalid principal", KindAny, stmt(`{` + allow + `,"Principal":{"AWS":"nobody"}}`), `Invalid principal in policy: "AWS":"nobody"`},
		{"any empty resource list", KindAny, stmt(`{"Effect":"Allow","Action":"s3:*","Resource":[]}`), msgResources},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := ParseKind(tc.doc, tc.kind)
			if err == nil {
				t.Fatalf("ParseKind(%s) succeeded: %+v", tc.kind, d)
			}
			var me *MalformedError
			if !errors.As(err, &me) {
				t.Fatalf("error %T %v is not a *MalformedError", err, err)
			}
			if me.Message != tc.want || err.Error() != tc.want {
				t.Errorf("message = %q, want %q", me.Message, tc.want)
			}
			if me.Code() != "MalformedPolicyDocument" {
				t.Errorf("code = %q", me.Code())
			}
		})
	}
}

func TestParseValid(t *testing.T) {
	tests := []struct {
		name string
		kind Kind
		doc  string
	}{
		{"single statement object", KindIdentity, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`},
		{"no version", KindIdentity, `{"Statement":[{"Effect":"Deny","NotAction":["iam:*"],"NotResource":"arn:aws:iam::123456789012:user/x"}]}`},
		{"2008 version with id", KindIdentity, `{"Version":"2008-10-17","Id":"p1","Statement":[{"Sid":"","Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/*"}]}`},
		{"whitespace", KindIdentity, "\n  " + stmt(`{"Sid":"A1","Effect":"Allow","Action":"s3:*","Resource":"*"}`) + "\n\t"},
		{"unknown empty operator is ignored", KindIdentity, stmt(`{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"Whatever":{}}}`)},
		{"every operator", KindIdentity, stmt(`{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{
			"StringEquals":{"k":"v"},"StringNotEquals":{"k":"v"},"StringEqualsIgnoreCase":{"k":"v"},"StringNotEqualsIgnoreCase":{"k":"v"},
			"StringLike":{"k":"v*"},"StringNotLike":{"k":"v*"},"NumericEquals":{"k":"1"},"NumericNotEquals":{"k":1},
			"NumericLessThan":{"k":1.5},"NumericLessThanEquals":{"k":"1"},"NumericGreaterThan":{"k":"1"},"NumericGreaterThanEquals":{"k":"1"},
			"DateEquals":{"k":"2020-01-01"},"DateNotEquals":{"k":"2020-01-01T00:00:00Z"},"DateLessThan":{"k":"1577836800"},
			"DateLessThanEquals":{"k":"2020-01-01T00:00Z"},"DateGreaterThan":{"k":"2020-01-01T00:00:00.123+01:00"},"DateGreaterThanEquals":{"k":"2020"},
			"Bool":{"k":true},"BinaryEquals":{"k":"QmluYXJ5"},"IpAddress":{"k":"10.0.0.0/8"},"NotIpAddress":{"k":["::1","10.0.0.1"]},
			"ArnEquals":{"k":"arn:aws:s3:::b"},"ArnLike":{"k":"arn:aws:s3:::*"},"ArnNotEquals":{"k":"arn:aws:s3:::b"},"ArnNotLike":{"k":"arn:*"},
			"Null":{"k":"true"},"StringLikeIfExists":{"k":"v"},"ForAnyValue:StringEquals":{"k":["a","b"]},
			"ForAllValues:StringLikeIfExists":{"k":"a*"},"ForAnyValue:Null":{"k":"false"}}}`)},
		{"trust service", KindTrust, stmt(`{"Effect":"Allow","Principal":{"Service":["ec2.amazonaws.com","lambda.amazonaws.com"]},"Action":"sts:AssumeRole"}`)},
		{"trust aws principals", KindTrust, stmt(`{"Effect":"Allow","Principal":{"AWS":["*","123456789012","arn:aws:iam::123456789012:root",
			"arn:aws:iam::123456789012:user/alice","arn:aws:iam::123456789012:role/path/Admin",
			"arn:aws:sts::123456789012:assumed-role/Admin/session","arn:aws:sts::123456789012:federated-user/bob"]},"Action":["sts:AssumeRole","sts:TagSession"]}`)},
		{"trust federated", KindTrust, stmt(`{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::123456789012:saml-provider/idp"},"Action":"sts:AssumeRoleWithSAML",
			"Condition":{"StringEquals":{"SAML:aud":"https://signin.aws.amazon.com/saml"}}}`)},
		{"trust notprincipal", KindTrust, stmt(`{"Effect":"Deny","NotPrincipal":{"AWS":"123456789012"},"Action":"sts:AssumeRole"},
			{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}`)},
		{"trust 2008", KindTrust, `{"Version":"2008-10-17","Statement":[{"Sid":"","Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`},
		{"any with principal and resource", KindAny, stmt(`{"Sid":"s-1","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}`)},
		{"any without resource", KindAny, stmt(`{"Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":"sts:AssumeRole"}`)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := ParseKind(tc.doc, tc.kind)
			if err != nil {
				t.Fatalf("ParseKind(%s): %v", tc.kind, err)
			}
			if d.Kind != tc.kind {
				t.Errorf("Kind = %v", d.Kind)
			}
			// Anything a strict parser accepts, the lenient one accepts.
			if _, err := Parse(tc.doc); err != nil {
				t.Errorf("Parse: %v", err)
			}
		})
	}
}

func TestParseDocumentFields(t *testing.T) {
	d, err := ParseIdentity(`{"Version":"2012-10-17","Id":"pid","Statement":{"Sid":"S1","Effect":"Deny",
		"NotAction":"iam:*","Resource":["arn:aws:s3:::a","arn:aws:s3:::b"],
		"Condition":{"StringEquals":{"aws:username":["alice","bob"],"aws:PrincipalAccount":"123456789012"},"Bool":{"aws:SecureTransport":false},"NumericLessThan":{"s3:max-keys":10}}}}`)
	if err != nil {
		t.Fatal(err)
	}
	want := &Document{
		Kind:    KindIdentity,
		Version: "2012-10-17",
		ID:      "pid",
		Statement: []Statement{{
			Sid:       "S1",
			Effect:    EffectDeny,
			NotAction: []string{"iam:*"},
			Resource:  []string{"arn:aws:s3:::a", "arn:aws:s3:::b"},
			Condition: []Condition{
				{Operator: "Bool", Key: "aws:SecureTransport", Values: []string{"false"}},
				{Operator: "NumericLessThan", Key: "s3:max-keys", Values: []string{"10"}},
				{Operator: "StringEquals", Key: "aws:PrincipalAccount", Values: []string{"123456789012"}},
				{Operator: "StringEquals", Key: "aws:username", Values: []string{"alice", "bob"}},
			},
		}},
	}
	// Compare the exported view only.
	got := *d
	got.Statement = append([]Statement(nil), d.Statement...)
	for i := range got.Statement {
		got.Statement[i].c = compiledStatement{}
	}
	if !reflect.DeepEqual(&got, want) {
		t.Errorf("got  %+v\nwant %+v", got, *want)
	}

	tr, err := ParseTrust(stmt(`{"Effect":"Allow","Principal":{"AWS":"123456789012","Service":["ec2.amazonaws.com"]},"Action":"sts:AssumeRole"}`))
	if err != nil {
		t.Fatal(err)
	}
	p := tr.Statement[0].Principal
	if p == nil || !reflect.DeepEqual(p.AWS, []string{"123456789012"}) || !reflect.DeepEqual(p.Service, []string{"ec2.amazonaws.com"}) || p.Wildcard {
		t.Errorf("principal = %+v", p)
	}
	generic, err := Parse(stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject"}`))
	if err != nil {
		t.Fatal(err)
	}
	if p := generic.Statement[0].Principal; p == nil || !p.Wildcard {
		t.Errorf("principal = %+v", p)
	}
}

func TestKindAndDecisionStrings(t *testing.T) {
	for k, want := range map[Kind]string{KindAny: "Any", KindIdentity: "Identity", KindTrust: "Trust"} {
		if k.String() != want {
			t.Errorf("%d.String() = %q", k, k.String())
		}
	}
	for d, want := range map[Decision]string{ImplicitDeny: "ImplicitDeny", Allow: "Allow", ExplicitDeny: "ExplicitDeny"} {
		if d.String() != want {
			t.Errorf("%d.String() = %q", d, d.String())
		}
	}
	if !strings.Contains(Decision(42).String(), "Deny") {
		t.Error("unknown decision")
	}
}
