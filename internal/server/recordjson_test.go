package server

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/opentrail/opentrail"
)

// checkMarshalEvent compares MarshalEvent with json.Marshal on one record.
func checkMarshalEvent(t *testing.T, e *opentrail.Event) {
	t.Helper()
	want, werr := json.Marshal(e)
	got, gerr := MarshalEvent(e)
	if (werr != nil) != (gerr != nil) {
		t.Fatalf("json.Marshal error %v, MarshalEvent error %v for %+v", werr, gerr, e)
	}
	if werr == nil && !bytes.Equal(got, want) {
		t.Fatalf("MarshalEvent differs from json.Marshal:\ngot  %s\nwant %s", got, want)
	}
}

// eventFrom builds a record that uses every member, from a few fuzzed strings.
func eventFrom(a, b string, raw []byte, flags uint8) *opentrail.Event {
	e := &opentrail.Event{
		EventVersion: opentrail.EventVersion, EventTime: "2026-01-02T03:04:05Z", EventSource: b,
		EventName: a, AWSRegion: "us-east-1", SourceIPAddress: a + b, UserAgent: a,
		RequestParameters: raw, ResponseElements: json.RawMessage("null"), RequestID: b,
		EventID: a, ReadOnly: flags&1 != 0, EventType: "AwsApiCall", ManagementEvent: flags&2 != 0,
		RecipientAccountID: "123456789012", EventCategory: "Management",
	}
	if flags&4 != 0 {
		e.UserIdentity = &opentrail.UserIdentity{Type: "IAMUser", PrincipalID: a, ARN: b, AccountID: "1", AccessKeyID: a, UserName: b, InvokedBy: a}
	}
	if flags&8 != 0 {
		e.ErrorCode, e.ErrorMessage = a, b
		e.AdditionalEventData = raw
	}
	if flags&16 != 0 {
		e.Resources = []opentrail.Resource{{ARN: a, AccountID: b, Type: a}, {}, {Type: b}}
	}
	if flags&32 != 0 {
		e.TLSDetails = &opentrail.TLSDetails{TLSVersion: a, ClientProvidedHostHeader: b}
		e.APIVersion, e.SharedEventID, e.SessionCredentialFromConsole = a, b, a
	}
	if flags&64 != 0 {
		if e.UserIdentity == nil {
			e.UserIdentity = &opentrail.UserIdentity{Type: "AssumedRole"}
		}
		e.UserIdentity.SessionContext = &opentrail.SessionContext{
			SessionIssuer: opentrail.SessionIssuer{Type: "Role", ARN: a, UserName: b},
			Attributes:    opentrail.SessionAttributes{CreationDate: a, MFAAuthenticated: "false"},
		}
		if flags&128 != 0 {
			e.UserIdentity.SessionContext.WebIDFederationData = map[string]string{b: a, a: b, "z<": "&"}
		}
	}
	return e
}

var jsonTricky = []string{
	"", "plain", `quote " backslash \ slash /`, "<script>&amp;</script>", "\b\f\n\r\t\x00\x01\x1f\x7f",
	"caf\u00e9 \u2028 \u2029 \U0001F600", "\xff\xfe\xc3", "\ufffd", "\xe2\x80\xa8",
}

var rawSamples = []string{
	"", "null", " null ", `{"a": 1, "b": [true, false, null], "c": "x<y&z>\u2028"}`, `{"userName":"bob"}`,
	"[1, 2,\n 3]", `"str"`, `{"a":`, `{"a":1}x`, "\"\xe2\x80\xa9\"", `{"a":"\u003c"}`,
}

func TestMarshalEventMatchesEncodingJSON(t *testing.T) {
	for _, a := range jsonTricky {
		for _, b := range jsonTricky {
			for _, raw := range rawSamples {
				for _, flags := range []uint8{0, 255, 4 | 16, 64, 8 | 32} {
					checkMarshalEvent(t, eventFrom(a, b, []byte(raw), flags))
				}
			}
		}
	}
	checkMarshalEvent(t, eventFrom("a", "b", nil, 0))
	checkMarshalEvent(t, &opentrail.Event{})
}

func FuzzMarshalEvent(f *testing.F) {
	for _, s := range jsonTricky {
		f.Add(s, "b", []byte(`{"k":"v"}`), uint8(255))
	}
	for _, raw := range rawSamples {
		f.Add("a", "b", []byte(raw), uint8(0))
	}
	f.Fuzz(func(t *testing.T, a, b string, raw []byte, flags uint8) {
		checkMarshalEvent(t, eventFrom(a, b, raw, flags))
	})
}

// fill sets every member of v, recursively, to a non-zero value.
func fill(v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		v.SetString("v<" + v.Type().Name())
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int64, reflect.Int32:
		v.SetInt(7)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem())
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i))
			}
		}
	case reflect.Slice:
		if v.Type() == reflect.TypeFor[json.RawMessage]() {
			v.SetBytes([]byte(`{"k": "v"}`))
			return
		}
		s := reflect.MakeSlice(v.Type(), 1, 1)
		fill(s.Index(0))
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fill(k)
		fill(e)
		m.SetMapIndex(k, e)
		v.Set(m)
	}
}

// TestMarshalEventCoversEveryMember fills every member of a record: a member added to
// opentrail.Event (or the types it holds) that MarshalEvent does not know fails here.
func TestMarshalEventCoversEveryMember(t *testing.T) {
	var e opentrail.Event
	fill(reflect.ValueOf(&e).Elem())
	checkMarshalEvent(t, &e)
}

func BenchmarkMarshalEvent(b *testing.B) {
	e := &opentrail.Event{
		EventVersion: opentrail.EventVersion, EventTime: "2026-11-23T12:43:07Z", EventSource: "sts.amazonaws.com",
		EventName: "GetCallerIdentity", AWSRegion: "us-east-1", SourceIPAddress: "127.0.0.1",
		UserIdentity:      &opentrail.UserIdentity{Type: "Root", PrincipalID: "123456789012", ARN: "arn:aws:iam::123456789012:root", AccountID: "123456789012", AccessKeyID: "AKIAOPENTRAILROOT001"},
		RequestParameters: json.RawMessage("null"), ResponseElements: json.RawMessage("null"),
		RequestID: "c99b496f-ec1a-43c7-b440-5c8454bd47a9", EventID: "8d44a068-1fb6-423a-83e5-9e0214f2dd83",
		ReadOnly: true, EventType: "AwsApiCall", ManagementEvent: true, RecipientAccountID: "123456789012", EventCategory: "Management",
	}
	b.Run("MarshalEvent", func(b *testing.B) {
		for b.Loop() {
			_, _ = MarshalEvent(e)
		}
	})
	b.Run("json.Marshal", func(b *testing.B) {
		for b.Loop() {
			_, _ = json.Marshal(e)
		}
	})
}
