package iam

import (
	"encoding/xml"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestParseIAMARN(t *testing.T) {
	cases := []struct {
		in   string
		want parsedARN
		ok   bool
	}{
		{"arn:aws:iam::123456789012:user/bob", parsedARN{"123456789012", "user", "/", "bob"}, true},
		{"arn:aws:iam::123456789012:role/a/b/r", parsedARN{"123456789012", "role", "/a/b/", "r"}, true},
		{"arn:aws:iam::aws:policy/AdministratorAccess", parsedARN{"aws", "policy", "/", "AdministratorAccess"}, true},
		{"arn:aws:iam::123456789012:root", parsedARN{}, false},
		{"arn:aws:iam::123456789012:user/", parsedARN{}, false},
		{"arn:aws:s3:::bucket", parsedARN{}, false},
		{"bob", parsedARN{}, false},
	}
	for _, tc := range cases {
		got, ok := parseIAMARN(tc.in)
		if ok != tc.ok || got != tc.want {
			t.Errorf("parseIAMARN(%q) = %+v, %v; want %+v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
	for in, want := range map[string]string{
		"arn:aws:iam::123456789012:user/bob": "123456789012",
		"arn:aws:s3:::bucket/key":            "",
		"*":                                  "",
		"arn:aws:logs:us-east-1:123456789012:log-group:x:*": "123456789012",
	} {
		if got := arnAccount(in); got != want {
			t.Errorf("arnAccount(%q) = %q; want %q", in, got, want)
		}
	}
}

func TestValidationMessages(t *testing.T) {
	var v validation
	v.name("userName", "", 64)
	v.str("path", "x", 1, 512, patPath)
	n := int32(0)
	v.num("maxItems", &n, 1, 1000)
	got := v.err().Error()
	want := `ValidationError: 3 validation errors detected: Value null at 'userName' failed to satisfy constraint: Member must not be null; ` +
		`Value 'x' at 'path' failed to satisfy constraint: Member must satisfy regular expression pattern: (\u002F)|(\u002F[\u0021-\u007E]+\u002F); ` +
		`Value '0' at 'maxItems' failed to satisfy constraint: Member must have value greater than or equal to 1`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	var ok validation
	ok.name("userName", "a.b+c=d,e@f-g_h", 64)
	ok.str("path", "/a/b/", 1, 512, patPath)
	ok.str("path", "/", 1, 512, patPath)
	ok.str("policyDocument", "{\n\t\"é\": 1}", 1, 0, patDocument)
	if err := ok.err(); err != nil {
		t.Errorf("valid values refused: %v", err)
	}
	var bad validation
	bad.str("policyDocument", "{\"€\": 1}", 1, 0, patDocument) // outside U+0000-U+00FF
	if bad.err() == nil {
		t.Error("a document with a character above U+00FF was accepted")
	}
}

func TestPolicySize(t *testing.T) {
	if n := policySize("{ \"a\" :\n\t1 }"); n != 7 {
		t.Errorf("policySize = %d; want 7", n)
	}
}

func TestURLEncode(t *testing.T) {
	doc := `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow"}]}`
	enc := urlEncode(doc)
	if strings.ContainsAny(enc, " +{\"") {
		t.Errorf("urlEncode left characters: %s", enc)
	}
	if dec, err := url.PathUnescape(enc); err != nil || dec != doc {
		t.Errorf("PathUnescape gives %q, %v", dec, err)
	}
}

func TestPageOf(t *testing.T) {
	items := []string{"a", "b", "c", "d", "e"}
	id := func(s string) string { return s }
	var got []string
	marker := ""
	two := int32(2)
	for range 10 {
		page, more, next, err := pageOf(items, id, marker, &two)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, strings.Join(page, ""))
		if !more {
			break
		}
		marker = next
	}
	if strings.Join(got, "|") != "ab|cd|e" {
		t.Errorf("pages %v", got)
	}
	if _, _, _, err := pageOf(items, id, "!!!", nil); err == nil {
		t.Error("a malformed marker was accepted")
	}
	// A marker whose item was deleted meanwhile resumes at the next item.
	_, _, next, _ := pageOf(items, id, "", &two)
	page, _, _, _ := pageOf([]string{"a", "b", "d", "e"}, id, next, &two)
	if strings.Join(page, "") != "de" {
		t.Errorf("resumed at %v", page)
	}
}

func TestShapesXML(t *testing.T) {
	ts := timestamp(time.Date(2024, 3, 5, 7, 8, 9, 0, time.UTC))
	out := listUsersOutput{Users: members[userShape]{{Path: "/", UserName: "bob", UserId: "AIDAX", Arn: "arn", CreateDate: ts}}}
	b, err := xml.Marshal(struct {
		XMLName xml.Name `xml:"ListUsersResult"`
		listUsersOutput
	}{listUsersOutput: out})
	if err != nil {
		t.Fatal(err)
	}
	want := `<ListUsersResult><Users><member><Path>/</Path><UserName>bob</UserName><UserId>AIDAX</UserId><Arn>arn</Arn>` +
		`<CreateDate>2024-03-05T07:08:09Z</CreateDate></member></Users><IsTruncated>false</IsTruncated></ListUsersResult>`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
	j, _ := ts.MarshalJSON()
	if string(j) != `"Mar 5, 2024, 7:08:09 AM"` {
		t.Errorf("record date %s", j)
	}
	empty, _ := xml.Marshal(struct {
		XMLName xml.Name `xml:"R"`
		Users   members[userShape]
	}{})
	if string(empty) != "<R><Users></Users></R>" {
		t.Errorf("empty list %s", empty)
	}
}
