package redact

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestWalkHidesNestedSecrets(t *testing.T) {
	var v any
	in := `{"accessKey":{"accessKeyId":"AKIA1","secretAccessKey":"s3cr3t","status":"Active"},
		"credentials":[{"sessionToken":"tok","expiration":"x"}],"Password":"pw","userName":"bob","privateKey":null}`
	if err := json.Unmarshal([]byte(in), &v); err != nil {
		t.Fatal(err)
	}
	Walk(v)
	out, _ := json.Marshal(v)
	for _, secret := range []string{"s3cr3t", "tok", `"pw"`} {
		if strings.Contains(string(out), secret) {
			t.Errorf("%s survived redaction: %s", secret, out)
		}
	}
	for _, kept := range []string{"AKIA1", "bob", `"privateKey":null`, Hidden} {
		if !strings.Contains(string(out), kept) {
			t.Errorf("%s missing after redaction: %s", kept, out)
		}
	}
}
