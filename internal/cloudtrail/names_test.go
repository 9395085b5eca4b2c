package cloudtrail

import (
	"strings"
	"testing"

	"github.com/opentrail/opentrail"
)

func TestValidateTrailName(t *testing.T) {
	tests := []struct {
		name string
		msg  string // substring of the message; "" means valid
	}{
		{"abc", ""},
		{"My.Trail_1-x", ""},
		{strings.Repeat("a", 128), ""},
		{"1.2.3", ""},
		{"a1", "Trail name too short. Minimum allowed length: 3 characters. Specified name length: 2 characters."},
		{"", "Specified name length: 0 characters."},
		{strings.Repeat("a", 129), "Trail name too long. Maximum allowed length: 128 characters. Specified name length: 129 characters."},
		{"-abc", "Trail name must starts with a letter or number."},
		{"_abc", "must starts with a letter or number"},
		{"abc.", "Trail name must ends with a letter or number."},
		{"ab c", "can only contain uppercase letters, lowercase letters, numbers, periods (.), hyphens (-), and underscores (_)."},
		{"abé1", "can only contain"},
		{"arn:aws:cloudtrail:us-east-1:123456789012:trail/x1", "can only contain"},
		{"my-_namespace", "adjacent"},
		{"my--namespace", "adjacent"},
		{"a..b", "adjacent"},
		{"192.168.5.4", "IP address"},
	}
	for _, tt := range tests {
		err := ValidateTrailName(tt.name)
		if tt.msg == "" {
			if err != nil {
				t.Errorf("ValidateTrailName(%q) = %v; want nil", tt.name, err)
			}
			continue
		}
		e := opentrail.ErrorOf(err)
		if e == nil || e.Code != CodeInvalidTrailName || !strings.Contains(e.Message, tt.msg) {
			t.Errorf("ValidateTrailName(%q) = %v; want %s containing %q", tt.name, err, CodeInvalidTrailName, tt.msg)
		}
	}
}

func TestParseTrailRef(t *testing.T) {
	const acct, region = "123456789012", "us-east-1"
	tests := []struct {
		in   string
		want trailRef
		code string
	}{
		{"trail1", trailRef{Account: acct, Region: region, Name: "trail1"}, ""},
		{"arn:aws:cloudtrail:eu-west-1:123456789012:trail/t-2", trailRef{Account: acct, Region: "eu-west-1", Name: "t-2", ByARN: true}, ""},
		{"arn:aws:cloudtrail:eu-west-1:210987654321:trail/t-2", trailRef{}, CodeTrailNotFound},
		{"arn:aws-cn:cloudtrail:cn-north-1:123456789012:trail/t-2", trailRef{}, CodeTrailNotFound},
		{"arn:aws:cloudtrail:eu-west-1:123456789012:eventdatastore/x", trailRef{}, CodeCloudTrailARNInvalid},
		{"arn:aws:s3:eu-west-1:123456789012:trail/abc", trailRef{}, CodeCloudTrailARNInvalid},
		{"arn:aws:cloudtrail:eu-west-1:1234:trail/abc", trailRef{}, CodeCloudTrailARNInvalid},
		{"arn:aws:cloudtrail::123456789012:trail/abc", trailRef{}, CodeCloudTrailARNInvalid},
		{"arn:aws:cloudtrail:eu-west-1:123456789012:trail/a", trailRef{}, CodeCloudTrailARNInvalid},
		{"x", trailRef{}, CodeInvalidTrailName},
	}
	for _, tt := range tests {
		got, err := parseTrailRef(acct, region, tt.in)
		if tt.code != "" {
			if e := opentrail.ErrorOf(err); e == nil || e.Code != tt.code {
				t.Errorf("parseTrailRef(%q) error = %v; want %s", tt.in, err, tt.code)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("parseTrailRef(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}

func TestTrailARN(t *testing.T) {
	if got, want := TrailARN("us-east-2", "123456789012", "MyTrail"), "arn:aws:cloudtrail:us-east-2:123456789012:trail/MyTrail"; got != want {
		t.Fatalf("TrailARN = %s; want %s", got, want)
	}
}
