package history

import (
	"encoding/json"
	"reflect"
	"testing"
)

// checkScan compares scanRecord with encoding/json on one payload.
func checkScan(t *testing.T, payload []byte) bool {
	t.Helper()
	var fast, slow rawRecord
	if !scanRecord(payload, &fast) {
		return false
	}
	if err := json.Unmarshal(payload, &slow); err != nil {
		t.Fatalf("scanRecord accepted %q, encoding/json fails: %v", payload, err)
	}
	if !reflect.DeepEqual(fast, slow) {
		t.Fatalf("scanRecord and encoding/json differ on %q:\nfast %+v\nslow %+v", payload, fast, slow)
	}
	return true
}

const serverRecord = `{"eventVersion":"1.11","userIdentity":{"type":"Root","principalId":"123456789012","arn":"arn:aws:iam::123456789012:root","accountId":"123456789012","accessKeyId":"AKIAOPENTRAILROOT001"},"eventTime":"2026-11-23T12:43:07Z","eventSource":"sts.amazonaws.com","eventName":"GetCallerIdentity","awsRegion":"us-east-1","sourceIPAddress":"127.0.0.1","userAgent":"aws-cli/2.0 \"quoted\" \u00e9","requestParameters":null,"responseElements":null,"requestID":"c99b496f-ec1a-43c7-b440-5c8454bd47a9","eventID":"8d44a068-1fb6-423a-83e5-9e0214f2dd83","readOnly":true,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"123456789012","eventCategory":"Management","tlsDetails":{"tlsVersion":"TLSv1.3","x":[1,-2.5e+3,0.0,true,false,null,{}]}}`

var scanSeeds = []string{
	serverRecord,
	`{}`, ` { } `, `{"eventName":null}`, `{"eventName":"a","eventName":null}`, `{"eventName":"a","eventName":"b"}`,
	`{"userIdentity":{"type":"IAMUser"},"userIdentity":{"userName":"bob"}}`, `{"userIdentity":{"type":"x"},"userIdentity":null}`,
	`{"insightDetails":{"eventName":"A"},"insightDetails":{"eventSource":"s"}}`, `{"insightDetails":null}`,
	`{"EventName":"a"}`, `{"eventname":"a"}`, `{"userIdentity":{"Type":"x"}}`, `{"eventName":"caf\u00e9"}`,
	`{"eventName":"café"}`, "{\"eventName\":\"\xff\"}", "{\"other\":\"\xff\"}", `{"eventName":"a\"b"}`,
	`{"readOnly":"true"}`, `{"readOnly": false }`, `{"resources":[{"ARN":"arn:aws:s3:::b","type":"AWS::S3::Bucket"}]}`,
	`{"requestParameters":{"a":{"b":[1,2,{"c":"d"}]}}}`, `{"eventTime":5}`, `{"userIdentity":"x"}`, `{"userIdentity":[]}`,
	`{"a":01}`, `{"a":-}`, `{"a":1.}`, `{"a":1e}`, `{"a":tru}`, `{"a":"\x"}`, `{"a":"\u12"}`, `{"a":[1,]}`, `{"a":{,}}`,
	`{"a":1}x`, `{"a":1}}`, `[]`, `null`, ``, `{"a"}`, `{"a":1,}`, "{\"a\":\"\t\"}", `{"\u0061":1}`,
	`{"managementEvent":false,"eventCategory":"Data"}`,
}

func TestScanRecordMatchesEncodingJSON(t *testing.T) {
	accepted := 0
	for _, s := range scanSeeds {
		if checkScan(t, []byte(s)) {
			accepted++
		}
	}
	// The server's own records must take the fast path.
	if !checkScan(t, []byte(serverRecord)) {
		t.Fatalf("scanRecord refused the server's record form")
	}
	if accepted < 10 {
		t.Fatalf("scanRecord accepted only %d seeds", accepted)
	}
}

func TestScanRecordRefusesWhatItCannotMatch(t *testing.T) {
	for _, s := range []string{
		`{"EventName":"a"}`, `{"userIdentity":{"Type":"x"}}`, `{"eventName":"a\"b"}`, "{\"eventName\":\"\xff\"}",
		`{"eventTime":5}`, `{"a":01}`, `{"a":1}x`, `[]`, `null`, ``, `{"\u0061":1}`,
	} {
		var r rawRecord
		if scanRecord([]byte(s), &r) {
			t.Errorf("scanRecord accepted %q", s)
		}
	}
}
