package server

import "testing"

func TestLowerFirst(t *testing.T) {
	for in, want := range map[string]string{
		"UserName": "userName", "S3BucketName": "s3BucketName", "KMSKeyId": "kmsKeyId",
		"ARN": "arn", "TrailARN": "trailARN", "x": "x", "": "", "SNSTopicName": "snsTopicName",
	} {
		if got := lowerFirst(in); got != want {
			t.Errorf("lowerFirst(%q) = %q; want %q", in, got, want)
		}
	}
}

func TestMemberJSON(t *testing.T) {
	type in struct {
		UserName        string
		Path            *string
		SecretAccessKey string
		Tags            []struct{ Key, Value string }
		Flag            *bool
	}
	f := false
	got := string(memberJSON(&in{UserName: "bob", SecretAccessKey: "s", Flag: &f}))
	want := `{"flag":false,"secretAccessKey":"HIDDEN_DUE_TO_SECURITY_REASONS","userName":"bob"}`
	if got != want {
		t.Errorf("memberJSON = %s; want %s", got, want)
	}
	if got := string(memberJSON(&in{})); got != "null" {
		t.Errorf("empty input = %s; want null", got)
	}
	if got := string(memberJSON(nil)); got != "null" {
		t.Errorf("nil = %s; want null", got)
	}
}
