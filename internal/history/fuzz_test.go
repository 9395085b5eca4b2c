package history

import (
	"context"
	"strings"
	"testing"
	"time"
)

// FuzzNextToken checks that decoding arbitrary tokens never panics and never yields a valid
// position: only tokens History issued verify.
func FuzzNextToken(f *testing.F) {
	h := openTest(f, f.TempDir(), Options{Now: newClock(testNow).Now})
	q := Query{Region: "us-east-1", Attributes: []Attribute{{AttrUsername, "alice"}}}
	b := binding("111111111111", q)
	valid := h.encodeToken(pos{sec: testNow.Unix(), seq: 42}, b)
	f.Add(valid[:len(valid)-1] + "A")
	f.Add(valid + "=")
	f.Add(strings.ToLower(valid))
	f.Add("")
	f.Add("AQAAAABn0yZAAAAAAAAAACo")
	f.Add(strings.Repeat("A", 44))
	f.Add(strings.Repeat("_", 1000))
	f.Fuzz(func(t *testing.T, tok string) {
		if tok == valid {
			return
		}
		if _, err := h.decodeToken(tok, b); err == nil {
			t.Fatalf("token %q verified", tok)
		}
		if tok == "" {
			return // no token: a first page
		}
		q := q
		q.NextToken = tok
		if _, err := h.Lookup(context.Background(), "111111111111", q); err == nil {
			t.Fatalf("Lookup accepted token %q", tok)
		}
	})
}

// FuzzParseRecord checks that no payload panics the ingest path and that whatever is
// indexed round-trips through the stored value.
func FuzzParseRecord(f *testing.F) {
	f.Add([]byte(rec{acct: "111111111111", region: "us-east-1", time: testNow, id: "x", name: "CreateUser", source: "iam.amazonaws.com",
		identity: iamUser("111111111111", "alice", "AKIA"), request: `{"userName":"bob"}`}.json()))
	f.Add([]byte(`{"eventTime":"2026-01-01T00:00:00Z","recipientAccountId":"1","resources":["x",{"arn":"arn:aws:s3:::b"}],"readOnly":"true"}`))
	f.Add([]byte(`{"eventTime":"2026-01-01 00:00:00.000","eventType":"AwsCloudTrailInsight","recipientAccountId":"1","insightDetails":{"eventName":"A"}}`))
	f.Add([]byte(`{"eventSource":"ec2.amazonaws.com","eventTime":"2026-01-01T00:00:00Z","recipientAccountId":"1","requestParameters":{"instancesSet":{"items":[{"instanceId":"i-1"},{"instanceId":7}]}}}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		e, err := parseRecord(payload, 0)
		if err != nil {
			return
		}
		ev, err := decodeValue(e.encodeValue(nil), e.sec)
		if err != nil {
			t.Fatalf("stored value does not decode: %v", err)
		}
		if ev.EventID != e.eventID || ev.Username != e.username || ev.CloudTrailEvent != string(payload) || !ev.EventTime.Equal(time.Unix(e.sec, 0)) {
			t.Fatalf("round trip: %+v vs %+v", ev, e)
		}
		e.indexValues(func(a attr, v string) {
			if v == "" || len(v) > maxIndexValue {
				t.Fatalf("bad index value %d %q", a, v)
			}
		})
	})
}

// FuzzScanRecord checks the fast record scanner against encoding/json: whenever scanRecord
// accepts a payload, json.Unmarshal must accept it too and decode the same fields.
func FuzzScanRecord(f *testing.F) {
	for _, s := range scanSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		checkScan(t, payload)
	})
}
