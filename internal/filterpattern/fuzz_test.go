package filterpattern

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

var fuzzSeeds = []string{
	``, `ERROR`, `?ERROR ?WARN`, `ERROR -ARGUMENTS`, `"BAD REQUEST"`, `%AUTHORIZED%`, `%^a|b$%`,
	`{ $.eventType = "UpdateTrail" }`, `{ $.a[0].b = 1 }`, `{ $.* = %x% }`, `{ $.a[*] IS NULL }`,
	`{ ($.a = 1 || $.b != "x") && $.c NOT EXISTS }`, `{ $.n >= 1e3 }`, `{ $.f IS TRUE }`,
	`{ $.['k.x'] = "*v" }`, `[ip, user, ..., status_code = 4*, size > 100]`, `[]`, `[a, b=%x%,]`,
	`[w1=ERROR || w1=WARN, ...]`, cisPatterns[0].pattern, cisPatterns[3].pattern,
}

var fuzzMessages = []string{
	``, `[ERROR 400] BAD REQUEST`, lineA, e1, e2, `{"a":[1,{"b":null}],"n":1e3,"f":true}`,
	`[1,2,[3]]`, `{"a":"\u00e9\n\"x\""}`, `{"a":1`, `not json`,
}

func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, pattern string) {
		p, err := Parse(pattern)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("error %T is not a *SyntaxError", err)
			}
			if se.Pos < 0 || se.Pos > len(pattern) {
				t.Fatalf("position %d outside the pattern of %d bytes", se.Pos, len(pattern))
			}
			return
		}
		if p.String() != pattern {
			t.Fatalf("String() = %q", p.String())
		}
		if p.Regexes() > MaxRegexes {
			t.Fatalf("%d regexes accepted", p.Regexes())
		}
		for _, m := range fuzzMessages {
			checkConsistent(t, p, m)
		}
	})
}

func FuzzMatch(f *testing.F) {
	for i, s := range fuzzSeeds {
		f.Add(s, fuzzMessages[i%len(fuzzMessages)])
	}
	f.Fuzz(func(t *testing.T, pattern, message string) {
		p, err := Parse(pattern)
		if err != nil {
			return
		}
		checkConsistent(t, p, message)
	})
}

// checkConsistent matches through every entry point and checks that they agree.
func checkConsistent(t *testing.T, p *Pattern, message string) {
	t.Helper()
	m := p.Match(message)
	fields, mf := p.MatchFields(message)
	r := ParseRecord(message)
	mr := p.MatchRecord(r)
	_, mrf := p.MatchRecordFields(r)
	if m != mf || m != mr || m != mrf {
		t.Fatalf("%q on %q: Match %v, MatchFields %v, MatchRecord %v, MatchRecordFields %v", p, message, m, mf, mr, mrf)
	}
	if p.Kind() == JSON && m && !r.IsJSON() {
		t.Fatalf("JSON pattern matched a message that is not JSON")
	}
	for _, fv := range fields.Extracted() {
		if v, ok := fields.Lookup(fv.Name); !ok || v != fv.Value {
			t.Fatalf("Lookup(%q) = %q, %v; want %q", fv.Name, v, ok, fv.Value)
		}
	}
}

// FuzzRecord checks the Record parser against encoding/json: the same messages are JSON, and
// every scalar reachable by a plain selector reads the same.
func FuzzRecord(f *testing.F) {
	for _, m := range fuzzMessages {
		f.Add(m)
	}
	f.Add(`{"a":{"b":[{"c":"d"}]},"e":[[1,2],[3]],"k.x":"y","dup":1,"dup":2}`)
	f.Add(`{"s":"\ud83d\ude00\ud800x\\\/"}`)
	f.Fuzz(func(t *testing.T, msg string) {
		r := ParseRecord(msg)
		trimmed := strings.TrimLeft(msg, " \t\r\n")
		want := json.Valid([]byte(msg)) && trimmed != "" && (trimmed[0] == '{' || trimmed[0] == '[') && depth(msg) <= maxJSONDepth
		if r.IsJSON() != want {
			t.Fatalf("IsJSON() = %v; encoding/json says %v", r.IsJSON(), want)
		}
		if !want || !utf8.ValidString(msg) {
			return
		}
		dec := json.NewDecoder(bytes.NewReader([]byte(msg)))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
		walk(v, "$", func(sel string, leaf any) {
			s, err := parseSelector(sel, 0)
			if err != nil {
				return // a key no selector can name
			}
			got, ok := r.lookupText(s)
			var exp string
			expOK := true
			switch leaf := leaf.(type) {
			case string:
				exp = leaf
			case json.Number:
				exp = leaf.String()
			case bool:
				exp = strconv.FormatBool(leaf)
			default:
				expOK = false
			}
			if ok != expOK || got != exp {
				t.Fatalf("%s: got %q, %v; want %q, %v", sel, got, ok, exp, expOK)
			}
		})
	})
}

// depth returns the nesting depth of brackets outside strings.
func depth(s string) int {
	d, maxd, inStr := 0, 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case inStr && c == '\\':
			i++
		case c == '"':
			inStr = !inStr
		case !inStr && (c == '{' || c == '['):
			d++
			maxd = max(maxd, d)
		case !inStr && (c == '}' || c == ']'):
			d--
		}
	}
	return maxd
}

func walk(v any, path string, fn func(string, any)) {
	switch v := v.(type) {
	case map[string]any:
		for k, c := range v {
			if strings.ContainsAny(k, `'"`) {
				continue
			}
			walk(c, path+".['"+k+"']", fn)
		}
	case []any:
		for i, c := range v {
			walk(c, fmt.Sprintf("%s[%d]", path, i), fn)
		}
	default:
		fn(path, v)
	}
}
