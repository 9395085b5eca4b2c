package policy

import (
	"strconv"
	"testing"
	"time"
)

type ctx = map[string][]string

// condCase evaluates {"Condition": {op: {key: values}}} in an Allow
// statement; want is whether the condition holds.
type condCase struct {
	name   string
	op     string
	key    string
	values string // JSON value or array
	ctx    ctx
	want   bool
}

func runCondCases(t *testing.T, version string, cases []condCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			doc := `{"Version":"` + version + `","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*",` +
				`"Condition":{` + strconv.Quote(tc.op) + `:{` + strconv.Quote(tc.key) + `:` + tc.values + `}}}}`
			d := mustParse(t, KindIdentity, doc)
			req := Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k", PrincipalAccount: "123456789012", Principal: "arn:aws:iam::123456789012:user/alice", Context: tc.ctx}
			if got := Evaluate([]*Document{d}, req) == Allow; got != tc.want {
				t.Errorf("%s %s=%s with %v: got %v, want %v", tc.op, tc.key, tc.values, tc.ctx, got, tc.want)
			}
		})
	}
}

func TestStringOperators(t *testing.T) {
	u := func(v ...string) ctx { return ctx{"aws:username": v} }
	runCondCases(t, "2012-10-17", []condCase{
		{"equals", "StringEquals", "aws:username", `"alice"`, u("alice"), true},
		{"equals case-sensitive", "StringEquals", "aws:username", `"alice"`, u("Alice"), false},
		{"equals missing", "StringEquals", "aws:username", `"alice"`, nil, false},
		{"equals empty value list", "StringEquals", "aws:username", `"alice"`, u(), false},
		{"equals one of", "StringEquals", "aws:username", `["bob","alice"]`, u("alice"), true},
		{"equals none of", "StringEquals", "aws:username", `["bob","carol"]`, u("alice"), false},
		{"equals no wildcard", "StringEquals", "aws:username", `"a*"`, u("alice"), false},
		{"equals literal star", "StringEquals", "aws:username", `"a*"`, u("a*"), true},
		{"equals key case-insensitive", "StringEquals", "AWS:UserName", `"alice"`, u("alice"), true},
		{"equals context key upper-case", "StringEquals", "aws:username", `"alice"`, ctx{"AWS:USERNAME": {"alice"}}, true},
		{"equals multi-valued request any", "StringEquals", "aws:username", `"alice"`, u("x", "alice"), true},
		{"equals variable", "StringEquals", "s3:prefix", `"home/${aws:username}"`, ctx{"aws:username": {"alice"}, "s3:prefix": {"home/alice"}}, true},
		{"equals variable mismatch", "StringEquals", "s3:prefix", `"home/${aws:username}"`, ctx{"aws:username": {"bob"}, "s3:prefix": {"home/alice"}}, false},
		{"equals unresolved variable", "StringEquals", "s3:prefix", `"home/${aws:username}"`, ctx{"s3:prefix": {"home/"}}, false},
		{"equals principal account fallback", "StringEquals", "aws:PrincipalAccount", `"123456789012"`, nil, true},
		{"equals principal arn fallback", "StringEquals", "aws:PrincipalArn", `"arn:aws:iam::123456789012:user/alice"`, nil, true},
		{"equals explicit context wins", "StringEquals", "aws:PrincipalAccount", `"123456789012"`, ctx{"aws:PrincipalAccount": {"999999999999"}}, false},

		{"not equals match", "StringNotEquals", "aws:username", `"alice"`, u("alice"), false},
		{"not equals other", "StringNotEquals", "aws:username", `"alice"`, u("bob"), true},
		{"not equals missing", "StringNotEquals", "aws:username", `"alice"`, nil, true},
		{"not equals NOR hit", "StringNotEquals", "aws:username", `["alice","bob"]`, u("bob"), false},
		{"not equals NOR miss", "StringNotEquals", "aws:username", `["alice","bob"]`, u("carol"), true},
		{"not equals multi-valued request", "StringNotEquals", "aws:username", `"alice"`, u("x", "alice"), false},
		{"not equals unresolved variable", "StringNotEquals", "aws:username", `"${aws:PrincipalTag/owner}"`, u("alice"), false},
		{"not equals resolved variable", "StringNotEquals", "aws:username", `"${aws:PrincipalTag/owner}"`, ctx{"aws:username": {"alice"}, "aws:PrincipalTag/owner": {"bob"}}, true},

		{"equals ignore case", "StringEqualsIgnoreCase", "aws:username", `"ALICE"`, u("alice"), true},
		{"equals ignore case other", "StringEqualsIgnoreCase", "aws:username", `"ALICE"`, u("bob"), false},
		{"equals ignore case missing", "StringEqualsIgnoreCase", "aws:username", `"ALICE"`, nil, false},
		{"not equals ignore case", "StringNotEqualsIgnoreCase", "aws:username", `"ALICE"`, u("alice"), false},
		{"not equals ignore case other", "StringNotEqualsIgnoreCase", "aws:username", `"ALICE"`, u("bob"), true},
		{"not equals ignore case missing", "StringNotEqualsIgnoreCase", "aws:username", `"ALICE"`, nil, true},

		{"like star", "StringLike", "s3:prefix", `"home/*"`, ctx{"s3:prefix": {"home/alice/x"}}, true},
		{"like star empty", "StringLike", "s3:prefix", `"home/*"`, ctx{"s3:prefix": {"home/"}}, true},
		{"like question", "StringLike", "s3:prefix", `"h?me"`, ctx{"s3:prefix": {"home"}}, true},
		{"like question needs a char", "StringLike", "s3:prefix", `"home?"`, ctx{"s3:prefix": {"home"}}, false},
		{"like case-sensitive", "StringLike", "s3:prefix", `"Home*"`, ctx{"s3:prefix": {"home"}}, false},
		{"like empty string", "StringLike", "s3:prefix", `""`, ctx{"s3:prefix": {""}}, true},
		{"like no partial match", "StringLike", "s3:prefix", `"home"`, ctx{"s3:prefix": {"home/x"}}, false},
		{"like variable with wildcard", "StringLike", "s3:prefix", `"${aws:username}/*"`, ctx{"aws:username": {"David"}, "s3:prefix": {"David/photos"}}, true},
		{"like escaped star", "StringLike", "s3:prefix", `"a${*}"`, ctx{"s3:prefix": {"abc"}}, false},
		{"like escaped star literal", "StringLike", "s3:prefix", `"a${*}"`, ctx{"s3:prefix": {"a*"}}, true},
		{"not like hit", "StringNotLike", "aws:TagKeys", `"key1*"`, ctx{"aws:TagKeys": {"key1:a"}}, false},
		{"not like miss", "StringNotLike", "aws:TagKeys", `"key1*"`, ctx{"aws:TagKeys": {"key2"}}, true},
		{"not like missing", "StringNotLike", "aws:TagKeys", `"key1*"`, nil, true},
	})
}

func TestStringOperatorsLegacyVersion(t *testing.T) {
	runCondCases(t, "2008-10-17", []condCase{
		{"variable is literal", "StringEquals", "s3:prefix", `"home/${aws:username}"`, ctx{"aws:username": {"alice"}, "s3:prefix": {"home/alice"}}, false},
		{"literal matches", "StringEquals", "s3:prefix", `"home/${aws:username}"`, ctx{"s3:prefix": {"home/${aws:username}"}}, true},
	})
}

func TestNumericOperators(t *testing.T) {
	mk := func(v string) ctx { return ctx{"s3:max-keys": {v}} }
	runCondCases(t, "2012-10-17", []condCase{
		{"equals", "NumericEquals", "s3:max-keys", `"10"`, mk("10"), true},
		{"equals decimal", "NumericEquals", "s3:max-keys", `"10"`, mk("10.0"), true},
		{"equals json number", "NumericEquals", "s3:max-keys", `10`, mk("10"), true},
		{"equals other", "NumericEquals", "s3:max-keys", `"10"`, mk("11"), false},
		{"equals not a number", "NumericEquals", "s3:max-keys", `"10"`, mk("ten"), false},
		{"equals missing", "NumericEquals", "s3:max-keys", `"10"`, nil, false},
		{"equals one of", "NumericEquals", "s3:max-keys", `["1","2","3"]`, mk("2"), true},
		{"equals big ints exactly", "NumericEquals", "s3:max-keys", `"9007199254740993"`, mk("9007199254740992"), false},
		{"equals negative", "NumericEquals", "s3:max-keys", `"-5"`, mk("-5"), true},
		{"equals invalid policy value", "NumericEquals", "s3:max-keys", `"ten"`, mk("10"), false},
		{"not equals", "NumericNotEquals", "s3:max-keys", `"10"`, mk("11"), true},
		{"not equals same", "NumericNotEquals", "s3:max-keys", `"10"`, mk("10"), false},
		{"not equals missing", "NumericNotEquals", "s3:max-keys", `"10"`, nil, true},
		{"not equals NOR", "NumericNotEquals", "s3:max-keys", `["10","11"]`, mk("11"), false},
		{"less than", "NumericLessThan", "s3:max-keys", `"10"`, mk("9"), true},
		{"less than equal value", "NumericLessThan", "s3:max-keys", `"10"`, mk("10"), false},
		{"less than decimal", "NumericLessThan", "s3:max-keys", `"10.5"`, mk("10.25"), true},
		{"less than or equals (doc example)", "NumericLessThanEquals", "s3:max-keys", `"10"`, mk("10"), true},
		{"less than or equals above", "NumericLessThanEquals", "s3:max-keys", `"10"`, mk("11"), false},
		{"less than or equals missing", "NumericLessThanEquals", "s3:max-keys", `"10"`, nil, false},
		{"greater than", "NumericGreaterThan", "s3:max-keys", `"10"`, mk("11"), true},
		{"greater than equal value", "NumericGreaterThan", "s3:max-keys", `"10"`, mk("10"), false},
		{"greater than or equals", "NumericGreaterThanEquals", "s3:max-keys", `"10"`, mk("10"), true},
		{"greater than or equals below", "NumericGreaterThanEquals", "s3:max-keys", `"10"`, mk("9.99"), false},
		{"exponent", "NumericEquals", "s3:max-keys", `"1e3"`, mk("1000"), true},
		{"no infinity", "NumericGreaterThan", "s3:max-keys", `"10"`, mk("Inf"), false},
		{"if exists missing", "NumericLessThanIfExists", "s3:max-keys", `"10"`, nil, true},
		{"if exists present", "NumericLessThanIfExists", "s3:max-keys", `"10"`, mk("20"), false},
	})
}

func TestDateOperators(t *testing.T) {
	now := func(v string) ctx { return ctx{"aws:CurrentTime": {v}} }
	ti := func(v string) ctx { return ctx{"aws:TokenIssueTime": {v}} }
	ep := func(v string) ctx { return ctx{"aws:EpochTime": {v}} }
	runCondCases(t, "2012-10-17", []condCase{
		{"greater than (doc example)", "DateGreaterThan", "aws:TokenIssueTime", `"2020-01-01T00:00:01Z"`, ti("2020-06-01T00:00:00Z"), true},
		{"greater than earlier", "DateGreaterThan", "aws:TokenIssueTime", `"2020-01-01T00:00:01Z"`, ti("2019-12-31T23:59:59Z"), false},
		{"greater than missing", "DateGreaterThan", "aws:TokenIssueTime", `"2020-01-01T00:00:01Z"`, nil, false},
		{"greater than same instant", "DateGreaterThan", "aws:CurrentTime", `"2020-01-01T00:00:00Z"`, now("2020-01-01T00:00:00Z"), false},
		{"greater than or equals same instant", "DateGreaterThanEquals", "aws:CurrentTime", `"2020-01-01T00:00:00Z"`, now("2020-01-01T00:00:00Z"), true},
		{"less than", "DateLessThan", "aws:CurrentTime", `"2026-12-31T23:59:59Z"`, now("2026-06-01T12:00:00Z"), true},
		{"less than after", "DateLessThan", "aws:CurrentTime", `"2026-12-31T23:59:59Z"`, now("2027-01-01T00:00:00Z"), false},
		{"less than or equals", "DateLessThanEquals", "aws:CurrentTime", `"2026-12-31T23:59:59Z"`, now("2026-12-31T23:59:59Z"), true},
		{"equals date only", "DateEquals", "aws:CurrentTime", `"2020-01-01"`, now("2020-01-01T00:00:00Z"), true},
		{"equals year only", "DateEquals", "aws:CurrentTime", `"2020-01"`, now("2020-01-01T00:00:00Z"), true},
		{"equals with offset", "DateEquals", "aws:CurrentTime", `"2020-01-01T02:00:00+02:00"`, now("2020-01-01T00:00:00Z"), true},
		{"equals negative offset", "DateEquals", "aws:CurrentTime", `"2019-12-31T19:00:00-05:00"`, now("2020-01-01T00:00:00Z"), true},
		{"equals compact offset", "DateEquals", "aws:CurrentTime", `"2020-01-01T02:00:00+0200"`, now("2020-01-01T00:00:00Z"), true},
		{"equals no zone is UTC", "DateEquals", "aws:CurrentTime", `"2020-01-01T00:00:00"`, now("2020-01-01T00:00:00Z"), true},
		{"equals minutes only", "DateEquals", "aws:CurrentTime", `"2020-01-01T10:30Z"`, now("2020-01-01T10:30:00Z"), true},
		{"equals fraction", "DateEquals", "aws:CurrentTime", `"2020-01-01T00:00:00.5Z"`, now("2020-01-01T00:00:00.500000000Z"), true},
		{"equals fraction differs", "DateEquals", "aws:CurrentTime", `"2020-01-01T00:00:00.5Z"`, now("2020-01-01T00:00:00Z"), false},
		{"equals lower-case t and z", "DateEquals", "aws:CurrentTime", `"2020-01-01t00:00:00z"`, now("2020-01-01T00:00:00Z"), true},
		{"equals epoch policy", "DateEquals", "aws:CurrentTime", `"1577836800"`, now("2020-01-01T00:00:00Z"), true},
		{"equals epoch request", "DateEquals", "aws:EpochTime", `"2020-01-01T00:00:00Z"`, ep("1577836800"), true},
		{"less than epoch", "DateLessThan", "aws:EpochTime", `"1700000000"`, ep("1672531200"), true},
		{"invalid request time", "DateLessThan", "aws:CurrentTime", `"2030-01-01"`, now("not a time"), false},
		{"not equals", "DateNotEquals", "aws:CurrentTime", `"2020-01-01T00:00:00Z"`, now("2020-01-02T00:00:00Z"), true},
		{"not equals same", "DateNotEquals", "aws:CurrentTime", `"2020-01-01T00:00:00Z"`, now("2020-01-01T00:00:00Z"), false},
		{"not equals missing", "DateNotEquals", "aws:CurrentTime", `"2020-01-01T00:00:00Z"`, nil, true},
		{"window", "DateGreaterThan", "aws:CurrentTime", `["2030-01-01","2020-01-01"]`, now("2025-01-01T00:00:00Z"), true},
	})
}

func TestBoolBinaryNull(t *testing.T) {
	st := func(v string) ctx { return ctx{"aws:SecureTransport": {v}} }
	runCondCases(t, "2012-10-17", []condCase{
		{"bool false", "Bool", "aws:SecureTransport", `"false"`, st("false"), true},
		{"bool true vs false", "Bool", "aws:SecureTransport", `"false"`, st("true"), false},
		{"bool case-insensitive", "Bool", "aws:SecureTransport", `"false"`, st("FALSE"), true},
		{"bool json", "Bool", "aws:SecureTransport", `true`, st("true"), true},
		{"bool missing", "Bool", "aws:SecureTransport", `"true"`, nil, false},
		{"bool if exists missing", "BoolIfExists", "aws:MultiFactorAuthPresent", `"false"`, nil, true},
		{"bool if exists present", "BoolIfExists", "aws:MultiFactorAuthPresent", `"false"`, ctx{"aws:MultiFactorAuthPresent": {"true"}}, false},
		{"bool variable", "Bool", "aws:SecureTransport", `"${aws:MultiFactorAuthPresent}"`, ctx{"aws:SecureTransport": {"true"}, "aws:MultiFactorAuthPresent": {"true"}}, true},

		{"binary decoded", "BinaryEquals", "k", `"QmluYXJ5VmFsdWVJbkJhc2U2NA=="`, ctx{"k": {"BinaryValueInBase64"}}, true},
		{"binary base64 text", "BinaryEquals", "k", `"QmluYXJ5VmFsdWVJbkJhc2U2NA=="`, ctx{"k": {"QmluYXJ5VmFsdWVJbkJhc2U2NA=="}}, true},
		{"binary unpadded", "BinaryEquals", "k", `"QmluYXJ5"`, ctx{"k": {"Binary"}}, true},
		{"binary other", "BinaryEquals", "k", `"QmluYXJ5VmFsdWVJbkJhc2U2NA=="`, ctx{"k": {"other"}}, false},
		{"binary missing", "BinaryEquals", "k", `"QmluYXJ5VmFsdWVJbkJhc2U2NA=="`, nil, false},
		{"binary invalid policy value", "BinaryEquals", "k", `"!!!"`, ctx{"k": {"!!!"}}, false},

		{"null true absent", "Null", "aws:TokenIssueTime", `"true"`, nil, true},
		{"null true present", "Null", "aws:TokenIssueTime", `"true"`, ctx{"aws:TokenIssueTime": {"2020-01-01T00:00:00Z"}}, false},
		{"null false present", "Null", "aws:TokenIssueTime", `"false"`, ctx{"aws:TokenIssueTime": {"x"}}, true},
		{"null false absent", "Null", "aws:TokenIssueTime", `"false"`, nil, false},
		{"null json bool", "Null", "aws:TokenIssueTime", `true`, nil, true},
		{"null empty list is absent", "Null", "aws:TagKeys", `"true"`, ctx{"aws:TagKeys": {}}, true},
		{"null either", "Null", "aws:TokenIssueTime", `["true","false"]`, nil, true},
		{"null invalid value", "Null", "aws:TokenIssueTime", `"maybe"`, nil, false},
	})
}

func TestIPOperators(t *testing.T) {
	ip := func(v string) ctx { return ctx{"aws:SourceIp": {v}} }
	runCondCases(t, "2012-10-17", []condCase{
		{"cidr inside", "IpAddress", "aws:SourceIp", `"203.0.113.0/24"`, ip("203.0.113.5"), true},
		{"cidr outside", "IpAddress", "aws:SourceIp", `"203.0.113.0/24"`, ip("203.0.114.5"), false},
		{"cidr host bits set", "IpAddress", "aws:SourceIp", `"203.0.113.77/24"`, ip("203.0.113.5"), true},
		{"single address", "IpAddress", "aws:SourceIp", `"203.0.113.5"`, ip("203.0.113.5"), true},
		{"single address other", "IpAddress", "aws:SourceIp", `"203.0.113.5"`, ip("203.0.113.6"), false},
		{"ipv6 (doc example)", "IpAddress", "aws:SourceIp", `["203.0.113.0/24","2001:DB8:1234:5678::/64"]`, ip("2001:db8:1234:5678::1"), true},
		{"ipv6 outside", "IpAddress", "aws:SourceIp", `["203.0.113.0/24","2001:DB8:1234:5678::/64"]`, ip("2001:db8:1234:5679::1"), false},
		{"ipv6 single", "IpAddress", "aws:SourceIp", `"::1"`, ip("::1"), true},
		{"ipv4-mapped request", "IpAddress", "aws:SourceIp", `"203.0.113.0/24"`, ip("::ffff:203.0.113.9"), true},
		{"ipv4-mapped policy", "IpAddress", "aws:SourceIp", `"::ffff:203.0.113.0/120"`, ip("203.0.113.9"), true},
		{"v4 policy v6 request", "IpAddress", "aws:SourceIp", `"0.0.0.0/0"`, ip("2001:db8::1"), false},
		{"all v4", "IpAddress", "aws:SourceIp", `"0.0.0.0/0"`, ip("198.51.100.1"), true},
		{"invalid request", "IpAddress", "aws:SourceIp", `"0.0.0.0/0"`, ip("not-an-ip"), false},
		{"invalid policy value", "IpAddress", "aws:SourceIp", `"300.0.0.0/8"`, ip("10.0.0.1"), false},
		{"missing", "IpAddress", "aws:SourceIp", `"0.0.0.0/0"`, nil, false},
		{"not ip outside", "NotIpAddress", "aws:SourceIp", `"203.0.113.0/24"`, ip("198.51.100.1"), true},
		{"not ip inside", "NotIpAddress", "aws:SourceIp", `"203.0.113.0/24"`, ip("203.0.113.1"), false},
		{"not ip NOR", "NotIpAddress", "aws:SourceIp", `["203.0.113.0/24","198.51.100.0/24"]`, ip("198.51.100.1"), false},
		{"not ip missing", "NotIpAddress", "aws:SourceIp", `"203.0.113.0/24"`, nil, true},
	})
}

func TestArnOperators(t *testing.T) {
	src := func(v string) ctx { return ctx{"aws:SourceArn": {v}} }
	const pattern = `"arn:aws:someservice:*:111122223333:finance/*"`
	const tricky = "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt"
	runCondCases(t, "2012-10-17", []condCase{
		{"equals", "ArnEquals", "aws:SourceArn", `"arn:aws:sns:us-east-1:123456789012:topic"`, src("arn:aws:sns:us-east-1:123456789012:topic"), true},
		{"equals other", "ArnEquals", "aws:SourceArn", `"arn:aws:sns:us-east-1:123456789012:topic"`, src("arn:aws:sns:us-east-1:123456789012:other"), false},
		{"equals case-sensitive", "ArnEquals", "aws:SourceArn", `"arn:aws:sns:us-east-1:123456789012:Topic"`, src("arn:aws:sns:us-east-1:123456789012:topic"), false},
		{"equals wildcards", "ArnEquals", "aws:SourceArn", `"arn:aws:sns:*:123456789012:*"`, src("arn:aws:sns:us-east-1:123456789012:topic"), true},
		{"like per component (doc example)", "ArnLike", "aws:SourceArn", pattern, src(tricky), false},
		{"string like crosses colons (doc example)", "StringLike", "aws:SourceArn", pattern, src(tricky), true},
		{"like match", "ArnLike", "aws:SourceArn", pattern, src("arn:aws:someservice:us-east-2:111122223333:finance/document.txt"), true},
		{"like resource part with colons", "ArnLike", "aws:SourceArn", `"arn:aws:logs:*:*:log-group:*"`, src("arn:aws:logs:us-east-1:123456789012:log-group:g:*"), true},
		{"like variable", "ArnLike", "aws:PrincipalArn", `"arn:aws:iam::${aws:PrincipalAccount}:user/*"`, ctx{"aws:PrincipalArn": {"arn:aws:iam::123456789012:user/alice"}}, true},
		{"like not an ARN", "ArnLike", "aws:SourceArn", pattern, src("finance"), false},
		{"like missing", "ArnLike", "aws:SourceArn", pattern, nil, false},
		{"not equals", "ArnNotEquals", "aws:SourceArn", `"arn:aws:sns:us-east-1:123456789012:topic"`, src("arn:aws:sns:us-east-1:123456789012:other"), true},
		{"not equals same", "ArnNotEquals", "aws:SourceArn", `"arn:aws:sns:us-east-1:123456789012:topic"`, src("arn:aws:sns:us-east-1:123456789012:topic"), false},
		{"not equals missing", "ArnNotEquals", "aws:SourceArn", `"arn:aws:sns:us-east-1:123456789012:topic"`, nil, true},
		{"not like", "ArnNotLike", "aws:PrincipalArn", `"arn:aws:iam::*:role/admin-*"`, ctx{"aws:PrincipalArn": {"arn:aws:iam::123456789012:role/dev"}}, true},
		{"not like hit", "ArnNotLike", "aws:PrincipalArn", `"arn:aws:iam::*:role/admin-*"`, ctx{"aws:PrincipalArn": {"arn:aws:iam::123456789012:role/admin-1"}}, false},
		{"not like principal arn fallback", "ArnNotLike", "aws:PrincipalArn", `"arn:aws:iam::*:user/alice"`, nil, false},
	})
}

func TestQualifiersAndIfExists(t *testing.T) {
	tk := func(v ...string) ctx { return ctx{"aws:TagKeys": v} }
	runCondCases(t, "2012-10-17", []condCase{
		{"forall subset", "ForAllValues:StringEquals", "aws:TagKeys", `["env","team"]`, tk("env"), true},
		{"forall all", "ForAllValues:StringEquals", "aws:TagKeys", `["env","team"]`, tk("team", "env"), true},
		{"forall extra", "ForAllValues:StringEquals", "aws:TagKeys", `["env","team"]`, tk("env", "cost"), false},
		{"forall missing", "ForAllValues:StringEquals", "aws:TagKeys", `["env","team"]`, nil, true},
		{"forall empty", "ForAllValues:StringEquals", "aws:TagKeys", `["env","team"]`, tk(), true},
		{"forall like", "ForAllValues:StringLike", "aws:TagKeys", `"team-*"`, tk("team-a", "team-b"), true},
		{"forall not equals", "ForAllValues:StringNotEquals", "aws:TagKeys", `["secret","owner"]`, tk("env", "team"), true},
		{"forall not equals hit", "ForAllValues:StringNotEquals", "aws:TagKeys", `["secret","owner"]`, tk("env", "owner"), false},
		{"foranyvalue hit", "ForAnyValue:StringEquals", "aws:TagKeys", `["env","team"]`, tk("cost", "team"), true},
		{"foranyvalue miss", "ForAnyValue:StringEquals", "aws:TagKeys", `["env","team"]`, tk("cost"), false},
		{"foranyvalue missing", "ForAnyValue:StringEquals", "aws:TagKeys", `["env","team"]`, nil, false},
		{"foranyvalue empty", "ForAnyValue:StringEquals", "aws:TagKeys", `["env","team"]`, tk(), false},
		{"foranyvalue not equals", "ForAnyValue:StringNotEquals", "aws:TagKeys", `["env","team"]`, tk("env", "cost"), true},
		{"foranyvalue not equals all listed", "ForAnyValue:StringNotEquals", "aws:TagKeys", `["env","team"]`, tk("env", "team"), false},
		{"foranyvalue not equals missing", "ForAnyValue:StringNotEquals", "aws:TagKeys", `["env","team"]`, nil, false},
		{"foranyvalue if exists missing", "ForAnyValue:StringEqualsIfExists", "aws:TagKeys", `"env"`, nil, true},
		{"foranyvalue if exists present", "ForAnyValue:StringEqualsIfExists", "aws:TagKeys", `"env"`, tk("x"), false},
		{"forall if exists missing", "ForAllValues:StringLikeIfExists", "aws:TagKeys", `"a*"`, nil, true},
		{"forall numeric", "ForAllValues:NumericLessThan", "k", `"10"`, ctx{"k": {"1", "2", "9"}}, true},
		{"forall numeric one too big", "ForAllValues:NumericLessThan", "k", `"10"`, ctx{"k": {"1", "20"}}, false},
		{"foranyvalue ip", "ForAnyValue:IpAddress", "k", `"10.0.0.0/8"`, ctx{"k": {"192.0.2.1", "10.1.1.1"}}, true},
		{"foranyvalue arn", "ForAnyValue:ArnLike", "k", `"arn:aws:iam::*:role/a"`, ctx{"k": {"x", "arn:aws:iam::123456789012:role/a"}}, true},
		{"foranyvalue null is plain null", "ForAnyValue:Null", "k", `"true"`, nil, true},

		{"like if exists missing", "StringLikeIfExists", "ec2:InstanceType", `["t1.*","t2.*","m3.*"]`, nil, true},
		{"like if exists present", "StringLikeIfExists", "ec2:InstanceType", `["t1.*","t2.*","m3.*"]`, ctx{"ec2:InstanceType": {"t2.micro"}}, true},
		{"like if exists mismatch", "StringLikeIfExists", "ec2:InstanceType", `["t1.*","t2.*","m3.*"]`, ctx{"ec2:InstanceType": {"c5.large"}}, false},
		{"not equals if exists missing", "StringNotEqualsIfExists", "aws:RequestedRegion", `"us-east-1"`, nil, true},
		{"not equals if exists present", "StringNotEqualsIfExists", "aws:RequestedRegion", `"us-east-1"`, ctx{"aws:RequestedRegion": {"us-east-1"}}, false},
		{"date if exists", "DateLessThanIfExists", "aws:TokenIssueTime", `"2020-01-01"`, nil, true},
		{"ip if exists", "NotIpAddressIfExists", "aws:SourceIp", `"10.0.0.0/8"`, ctx{"aws:SourceIp": {"10.0.0.1"}}, false},
		{"arn if exists", "ArnLikeIfExists", "aws:SourceArn", `"arn:aws:s3:::x"`, nil, true},
		{"binary if exists", "BinaryEqualsIfExists", "k", `"QQ=="`, nil, true},
	})
}

func TestConditionBlockLogic(t *testing.T) {
	// Several operators AND, several keys AND, several values OR.
	d := mustParse(t, KindIdentity, stmt(`{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{
		"StringEquals":{"aws:PrincipalTag/department":["finance","hr"],"aws:PrincipalTag/role":["audit","security"]},
		"ArnLike":{"aws:PrincipalArn":["arn:aws:iam::222222222222:user/Ana","arn:aws:iam::222222222222:user/Mary"]},
		"Bool":{"aws:SecureTransport":"true"}}}`))
	base := func() ctx {
		return ctx{
			"aws:PrincipalTag/department": {"hr"},
			"aws:PrincipalTag/role":       {"audit"},
			"aws:PrincipalArn":            {"arn:aws:iam::222222222222:user/Mary"},
			"aws:SecureTransport":         {"true"},
		}
	}
	eval := func(c ctx) Decision {
		return Evaluate([]*Document{d}, Request{Action: "s3:GetObject", Resource: "*", Context: c})
	}
	if got := eval(base()); got != Allow {
		t.Errorf("all conditions true: %v", got)
	}
	for _, key := range []string{"aws:PrincipalTag/department", "aws:PrincipalTag/role", "aws:PrincipalArn", "aws:SecureTransport"} {
		c := base()
		c[key] = []string{"nope"}
		if got := eval(c); got != ImplicitDeny {
			t.Errorf("%s mismatching: %v", key, got)
		}
		c = base()
		delete(c, key)
		if key == "aws:PrincipalArn" {
			continue // falls back to Request.Principal, which is empty here
		}
		if got := eval(c); got != ImplicitDeny {
			t.Errorf("%s missing: %v", key, got)
		}
	}
}

func TestDateParser(t *testing.T) {
	valid := map[string]string{
		"2020":                             "1970-01-01T00:33:40Z", // digits only: epoch seconds
		"2020-02":                          "2020-02-01T00:00:00Z",
		"2020-02-03":                       "2020-02-03T00:00:00Z",
		"2020-02-03T04":                    "2020-02-03T04:00:00Z",
		"2020-02-03T04:05Z":                "2020-02-03T04:05:00Z",
		"2020-02-03T04:05:06Z":             "2020-02-03T04:05:06Z",
		"2020-02-03T04:05:06.123456789Z":   "2020-02-03T04:05:06.123456789Z",
		"2020-02-03T04:05:06+01:30":        "2020-02-03T02:35:06Z",
		"2020-02-03T04:05:06-01":           "2020-02-03T05:05:06Z",
		"2020-02-03T":                      "2020-02-03T00:00:00Z",
		"0":                                "1970-01-01T00:00:00Z",
		"1577836800":                       "2020-01-01T00:00:00Z",
		"99999999999999999999999999999999": time.Unix(maxEpoch, 0).UTC().Format(time.RFC3339Nano),
	}
	for in, want := range valid {
		got, ok := parseDate(in)
		if !ok {
			t.Errorf("parseDate(%q) failed", in)
			continue
		}
		if s := got.UTC().Format(time.RFC3339Nano); s != want {
			t.Errorf("parseDate(%q) = %s, want %s", in, s, want)
		}
	}
	for _, in := range []string{"", "x", "2020-1x", "2020-00-01", "2020-01-32", "2020-01-01T24:00:00Z", "2020-01-01T00:60Z",
		"2020-01-01T00:00:60Z", "2020-01-01T00:00:00.Z", "2020-01-01T00:00:00+1", "2020-01-01T00:00:00+24:00", "2020-01-01 00:00:00", "-", "12.5", "2020-01-01T00:00:00ZZ"} {
		if _, ok := parseDate(in); ok {
			t.Errorf("parseDate(%q) succeeded", in)
		}
	}
}

func TestParseOperator(t *testing.T) {
	for _, name := range []string{"StringEquals", "ForAnyValue:StringEquals", "ForAllValues:ArnLikeIfExists", "NumericLessThanIfExists", "Null", "ForAllValues:Null"} {
		if _, ok := parseOperator(name); !ok {
			t.Errorf("%s rejected", name)
		}
	}
	for _, name := range []string{"", "IfExists", "NullIfExists", "StringEqualsIfExistsIfExists", "ForAnyValue:ForAllValues:StringEquals", "forAnyValue:StringEquals", "StringEquals ", "ForAnyValue:"} {
		if _, ok := parseOperator(name); ok {
			t.Errorf("%s accepted", name)
		}
	}
}
