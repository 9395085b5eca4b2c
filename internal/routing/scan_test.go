package routing

import (
	"bufio"
	"encoding/json"
	"os"
	"reflect"
	"testing"
	"time"
)

// sampleRecords are the shared real-shaped records, for seeds and comparisons.
func sampleRecords(t testing.TB) [][]byte {
	f, err := os.Open("../../../shared/testdata/cloudtrail-records.jsonl")
	if err != nil {
		t.Skipf("shared records: %v", err)
	}
	defer f.Close()
	var out [][]byte
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		out = append(out, append([]byte(nil), sc.Bytes()...))
	}
	return out
}

// TestDecodeFieldsMatchesEncodingJSON: the fast scanner gives what json.Unmarshal gives, on
// every shared record.
func TestDecodeFieldsMatchesEncodingJSON(t *testing.T) {
	recs := sampleRecords(t)
	fast := 0
	for i, r := range recs {
		var want, got Record
		werr := json.Unmarshal(r, &want)
		gerr := decodeMembers(r, &got)
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("record %d: json error %v, decodeFields error %v", i, werr, gerr)
		}
		if werr == nil && !reflect.DeepEqual(want, got) {
			t.Fatalf("record %d:\n got %+v\nwant %+v", i, got, want)
		}
		var f Record
		if scanFields(r, &f) == nil {
			fast++
		}
	}
	if fast < len(recs)*9/10 {
		t.Errorf("the fast path decoded only %d of %d records", fast, len(recs))
	}
}

func FuzzDecodeFields(f *testing.F) {
	for _, r := range sampleRecords(f)[:50] {
		f.Add(r)
	}
	f.Add([]byte(`{"eventTime":"x","EVENTNAME":"y","readOnly":"True","resources":null}`))
	f.Add([]byte(`{"awsRegion":"a\u0062","userIdentity":{"arn":"q\"x"}} `))
	f.Fuzz(func(t *testing.T, b []byte) {
		var want, got Record
		werr := json.Unmarshal(b, &want)
		gerr := decodeMembers(b, &got)
		if werr == nil {
			if gerr != nil {
				t.Fatalf("json accepts, decodeFields: %v", gerr)
			}
			if !reflect.DeepEqual(want, got) {
				t.Fatalf("got %+v\nwant %+v", got, want)
			}
		}
	})
}

func TestDecode(t *testing.T) {
	var r Record
	if err := Decode([]byte(`{"eventTime":"2026-01-02T03:04:05Z","awsRegion":"eu-west-1"}`), 7, &r); err != nil {
		t.Fatal(err)
	}
	if r.Seq != 7 || r.AWSRegion != "eu-west-1" || !r.Time.Equal(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)) {
		t.Errorf("Decode = %+v", r)
	}
	for _, bad := range []string{`{"eventTime":"yesterday"}`, `[1]`, `{"eventTime":5}`, ``} {
		if err := Decode([]byte(bad), 1, &r); err == nil {
			t.Errorf("Decode(%s) succeeded", bad)
		}
	}
}
