package delivery

import (
	"testing"
	"time"
)

const acct = "123456789012"

func TestLogFileKey(t *testing.T) {
	stamp := time.Date(2026, 3, 4, 5, 6, 59, 0, time.UTC)
	u := uniquePart("arn:aws:cloudtrail:us-east-1:123456789012:trail/t", acct, "eu-west-1", 10, 20, 0)
	got := LogFileKey("my/prefix", acct, "eu-west-1", stamp, u)
	want := "my/prefix/AWSLogs/123456789012/CloudTrail/eu-west-1/2026/03/04/123456789012_CloudTrail_eu-west-1_20260304T0506Z_" + u + ".json.gz"
	if got != want {
		t.Errorf("key\n got %s\nwant %s", got, want)
	}
	if len(u) != 16 {
		t.Errorf("unique part %q is not 16 characters", u)
	}
	for _, c := range u {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			t.Errorf("unique part %q has %q", u, c)
		}
	}
	if u2 := uniquePart("arn:aws:cloudtrail:us-east-1:123456789012:trail/t", acct, "eu-west-1", 10, 20, 1); u2 == u {
		t.Errorf("parts 0 and 1 share the unique string %s", u)
	}
	if got := LogFileKey("", acct, "us-east-1", stamp, u); got[:8] != "AWSLogs/" {
		t.Errorf("no prefix: %s", got)
	}
}
