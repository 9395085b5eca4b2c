package awsproto

import (
	"encoding/json"
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/opentrail/opentrail"
)

type tag struct {
	Key   string
	Value string
}

type queryInput struct {
	UserName  string
	Path      *string
	MaxItems  *int32
	Enabled   bool
	PolicyArn []string
	Tags      []tag
	Attrs     map[string]string `query:"Attributes"`
	Nested    *struct{ Name string }
}

func TestDecodeQuery(t *testing.T) {
	vals, _ := url.ParseQuery("UserName=bob&Path=%2Fdev%2F&MaxItems=5&Enabled=true" +
		"&PolicyArn.member.1=a&PolicyArn.member.2=b&Tags.member.1.Key=k1&Tags.member.1.Value=v1" +
		"&Tags.member.2.Key=k2&Attributes.entry.1.key=x&Attributes.entry.1.value=y&Nested.Name=n")
	var in queryInput
	if err := DecodeQuery(vals, &in); err != nil {
		t.Fatal(err)
	}
	if in.UserName != "bob" || in.Path == nil || *in.Path != "/dev/" || in.MaxItems == nil || *in.MaxItems != 5 || !in.Enabled {
		t.Fatalf("scalars: got %+v", in)
	}
	if strings.Join(in.PolicyArn, ",") != "a,b" {
		t.Fatalf("list: got %v", in.PolicyArn)
	}
	if len(in.Tags) != 2 || in.Tags[0] != (tag{"k1", "v1"}) || in.Tags[1] != (tag{"k2", ""}) {
		t.Fatalf("struct list: got %+v", in.Tags)
	}
	if in.Attrs["x"] != "y" || in.Nested == nil || in.Nested.Name != "n" {
		t.Fatalf("map/nested: got %+v %+v", in.Attrs, in.Nested)
	}
}

func TestDecodeQueryBadValues(t *testing.T) {
	for _, q := range []string{"MaxItems=abc", "Enabled=maybe", "MaxItems=99999999999"} {
		vals, _ := url.ParseQuery(q)
		var in queryInput
		err := DecodeQuery(vals, &in)
		e := opentrail.ErrorOf(err)
		if e == nil || e.Code != "InvalidParameterValue" {
			t.Errorf("%s: got %v; want InvalidParameterValue", q, err)
		}
	}
}

func TestDecodeJSON(t *testing.T) {
	type in struct {
		Name  *string
		Count *int
	}
	cases := []struct {
		body string
		code string
	}{
		{`{"Name":"x","Count":3}`, ""},
		{``, ""},
		{`{"Name":`, "SerializationException"},
		{`[1,2]`, "SerializationException"},
		{`{"Count":"three"}`, "SerializationException"},
		{`{"Name":"x"} {"Name":"y"}`, "SerializationException"},
		{`null`, "SerializationException"},
	}
	for _, c := range cases {
		var v in
		err := DecodeJSON([]byte(c.body), &v)
		got := ""
		if e := opentrail.ErrorOf(err); e != nil {
			got = e.Code
		} else if err != nil {
			got = "non-AWS error: " + err.Error()
		}
		if got != c.code {
			t.Errorf("DecodeJSON(%q) = %q; want %q", c.body, got, c.code)
		}
	}
}

func TestWriteErrorJSON(t *testing.T) {
	rec := httptest.NewRecorder()
	WriteError(rec, Wire{Protocol: JSON, MessageKey: "Message"}, "req-1", opentrail.Errorf("TrailNotFoundException", "Unknown trail"))
	if rec.Code != 400 {
		t.Fatalf("status %d; want 400", rec.Code)
	}
	if rec.Header().Get("x-amzn-RequestId") != "req-1" || rec.Header().Get("Content-Type") != ContentTypeJSON11 {
		t.Fatalf("headers %v", rec.Header())
	}
	var body map[string]string
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	if body["__type"] != "TrailNotFoundException" || body["Message"] != "Unknown trail" {
		t.Fatalf("body %v", body)
	}
}

func TestWriteErrorHidesInternalErrors(t *testing.T) {
	rec := httptest.NewRecorder()
	WriteError(rec, Wire{Protocol: JSON}, "r", errSecret{})
	if rec.Code != http.StatusInternalServerError || strings.Contains(rec.Body.String(), "disk") {
		t.Fatalf("got %d %s", rec.Code, rec.Body.String())
	}
}

type errSecret struct{}

func (errSecret) Error() string { return "disk /var/lib/secret failed" }

func TestWriteErrorQuery(t *testing.T) {
	rec := httptest.NewRecorder()
	WriteError(rec, Wire{Protocol: Query, XMLNamespace: "https://iam.amazonaws.com/doc/2010-05-08/"}, "req-2",
		&opentrail.Error{Code: "NoSuchEntity", Message: "The user with name bob cannot be found.", Status: 404, Sender: true})
	if rec.Code != 404 {
		t.Fatalf("status %d", rec.Code)
	}
	var v struct {
		Error     struct{ Type, Code, Message string }
		RequestID string `xml:"RequestId"`
	}
	if err := xml.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Fatal(err)
	}
	if v.Error.Type != "Sender" || v.Error.Code != "NoSuchEntity" || v.RequestID != "req-2" {
		t.Fatalf("got %+v from %s", v, rec.Body.String())
	}
}

func TestWriteQuery(t *testing.T) {
	rec := httptest.NewRecorder()
	out := struct {
		User struct{ UserName string }
	}{}
	out.User.UserName = "bob"
	if err := WriteQuery(rec, "CreateUser", "https://iam.amazonaws.com/doc/2010-05-08/", "rid", &out); err != nil {
		t.Fatal(err)
	}
	want := `<CreateUserResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><CreateUserResult><User><UserName>bob</UserName></User></CreateUserResult><ResponseMetadata><RequestId>rid</RequestId></ResponseMetadata></CreateUserResponse>`
	if !strings.Contains(rec.Body.String(), want) {
		t.Fatalf("got %s", rec.Body.String())
	}
}

func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{`{}`, `{"Name":"x","Count":1,"Tags":[{"Key":"a"}]}`, `{"a":`, `[]`, `"x"`, `{"Count":1e400}`} {
		f.Add([]byte(s))
	}
	type in struct {
		Name  *string
		Count *int
		Flag  *bool
		Tags  []struct{ Key, Value string }
		Map   map[string]string
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var v in
		err := DecodeJSON(b, &v)
		if err != nil && opentrail.ErrorOf(err) == nil {
			t.Fatalf("DecodeJSON(%q) returned a non-AWS error %v", b, err)
		}
	})
}

func FuzzDecodeQuery(f *testing.F) {
	for _, s := range []string{"UserName=bob&MaxItems=3", "Tags.member.1.Key=a&Tags.member.2.Value=b", "Attributes.entry.1.key=k", "%zz", "PolicyArn.member.1000=x&PolicyArn.member.1=y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		vals, err := url.ParseQuery(s)
		if err != nil {
			return
		}
		var in queryInput
		if err := DecodeQuery(vals, &in); err != nil && opentrail.ErrorOf(err) == nil {
			t.Fatalf("DecodeQuery(%q) returned a non-AWS error %v", s, err)
		}
	})
}
