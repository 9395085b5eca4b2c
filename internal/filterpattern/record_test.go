package filterpattern

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestRecordValidity(t *testing.T) {
	docs := []string{
		`{}`, `[]`, ` { } `, `{"a":1}`, `{"a" : 1 , "b" : [ 1 , 2 ] }`, "{\n\t\"a\":\r\n1}",
		`{"a":-0}`, `{"a":0.5e-3}`, `{"a":1E+2}`, `{"a":true,"b":false,"c":null}`, `[[[]]]`,
		`{"a":"\"\\\/\b\f\n\r\t\u00e9"}`, `{"\u0061":1}`, `{"a":"` + strings.Repeat("x", 100) + `"}`,
		// Invalid.
		``, ` `, `{`, `}`, `{"a"}`, `{"a":}`, `{"a":1,}`, `[1,]`, `{,}`, `{"a":1 "b":2}`, `{a:1}`,
		`{'a':1}`, `{"a":01}`, `{"a":1.}`, `{"a":.5}`, `{"a":+1}`, `{"a":1e}`, `{"a":-}`, `{"a":0x1}`,
		`{"a":tru}`, `{"a":nul}`, `{"a":falsey}`, `{"a":"\x"}`, `{"a":"\u12"}`, `{"a":"\u12g4"}`,
		"{\"a\":\"x\ty\"}", "{\"a\":\"x\x00\"}", `{"a":"unterminated}`, `{"a":1}}`, `[1]]`, `{"a":1} {}`,
		`{"a":[1,2}`, `{"a":{"b":1]}`, `{"a" 1}`, `[1 2]`, `{"a":"x"`, `{"a":"` + strings.Repeat("y", 20) + `\`,
		`"str"`, `1`, `true`, `null`, `{"a":"\ud800"}`,
	}
	for _, d := range docs {
		trimmed := strings.TrimSpace(d)
		want := json.Valid([]byte(d)) && trimmed != "" && (trimmed[0] == '{' || trimmed[0] == '[')
		if got := ParseRecord(d).IsJSON(); got != want {
			t.Errorf("ParseRecord(%q).IsJSON() = %v; want %v", d, got, want)
		}
	}
	deep := strings.Repeat("[", maxJSONDepth) + strings.Repeat("]", maxJSONDepth)
	if !ParseRecord(deep).IsJSON() {
		t.Errorf("%d levels rejected", maxJSONDepth)
	}
	deeper := "[" + deep + "]"
	if ParseRecord(deeper).IsJSON() {
		t.Errorf("%d levels accepted", maxJSONDepth+1)
	}
	// A Record is reusable, also after a failure.
	var r Record
	for _, d := range []string{`{"a":"x"}`, `{bad`, `{"a":"y","b":1,"c":2,"d":3,"e":4}`, `[1]`, `{"a":"z"}`} {
		r.Reset(d)
		want := ParseRecord(d)
		sel, _ := parseSelector("$.a", 0)
		g1, ok1 := r.lookupText(sel)
		g2, ok2 := want.lookupText(sel)
		if r.IsJSON() != want.IsJSON() || g1 != g2 || ok1 != ok2 {
			t.Errorf("reused Record on %q: %v %q %v; fresh %v %q %v", d, r.IsJSON(), g1, ok1, want.IsJSON(), g2, ok2)
		}
	}
}

func TestUnescape(t *testing.T) {
	for in, want := range map[string]string{
		`plain`:                "plain",
		`a\"b\\c\/d`:           `a"b\c/d`,
		`\b\f\n\r\t`:           "\b\f\n\r\t",
		`\u00e9\u4e2d`:         "é中",
		`\ud83d\ude00`:         "😀",
		`\ud800x`:              "\uFFFDx",
		`\ud800\u0041`:         "\uFFFDA",
		`\udc00`:               "\uFFFD",
		`x\u0000y`:             "x\x00y",
		`\u0022quoted\u0022`:   `"quoted"`,
		`tail\u00e`:            "tail", // not reachable after validation; must not panic
		`ends with backslash\`: "ends with backslash",
	} {
		if got := unescape(in); got != want {
			t.Errorf("unescape(%q) = %q; want %q", in, got, want)
		}
		// encoding/json agrees on everything the Record parser accepts.
		var s string
		if err := json.Unmarshal([]byte(`"`+in+`"`), &s); err == nil && s != unescape(in) {
			t.Errorf("unescape(%q) = %q; encoding/json %q", in, unescape(in), s)
		}
	}
}
