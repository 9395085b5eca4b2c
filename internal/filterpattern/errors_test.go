package filterpattern

import (
	"errors"
	"strings"
	"testing"
)

func TestSyntaxErrors(t *testing.T) {
	table := []struct {
		pattern string
		pos     int
		reason  string // a substring of Reason
	}{
		// JSON patterns (§1.4: "{ $.eventType EXISTS } / { $.a == 1 } / { $.a = }" are rejected).
		{`{ $.eventType EXISTS }`, 14, "EXISTS is not supported"},
		{`{ $.a == 1 }`, 6, "'==' is not an operator"},
		{`{ $.a = }`, 8, "expected a value"},
		{`{ a = 1 }`, 2, "starting with '$'"},
		{`{ $.a = 1`, 9, "If a filter pattern starts with '{' it must end with '}'"},
		{`{ $.a = 1 } x`, 13, "must end with '}'"},
		{`{}`, 1, "expected a condition"},
		{`{ }`, 2, "expected a condition"},
		{`{ ($.a = 1 }`, 2, "'(' is never closed"},
		{`{ $.a = 1) }`, 9, "unexpected ')'"},
		{`{ $.a = 1 && }`, 13, "expected a condition"},
		{`{ && $.a = 1 }`, 2, "before '&&'"},
		{`{ $.a = 1 || || $.b = 2 }`, 13, "before '||'"},
		{`{ $.a IS NOT NULL }`, 9, "IS NOT is not supported"},
		{`{ $.a IS EMPTY }`, 9, "NULL, TRUE or FALSE"},
		{`{ $.a NOT NULL }`, 10, "NOT must be followed by EXISTS"},
		{`{ $.a > abc }`, 8, "needs a numeric value"},
		{`{ $.a >= "5" }`, 9, "needs a numeric value"},
		{`{ $.a < 4* }`, 8, "needs a numeric value"},
		{`{ $.a > %5% }`, 8, "needs a numeric value"},
		{`{ $.a = "unterminated }`, 8, "unterminated quoted string"},
		{`{ $.a = %unterminated }`, 8, "unterminated regular expression"},
		{`{ $. = 1 }`, 4, "property name after '.'"},
		{`{ $ = 1 }`, 2, "after '$'"},
		{`{ $.a[ = 1 }`, 6, "array index"},
		{`{ $.a[x] = 1 }`, 6, "array index"},
		{`{ $.a[1 = 1 }`, 5, "']'"},
		{`{ $.['a = 1 }`, 5, "unterminated quoted property name"},
		{`{ $.a[*].b[*] = 1 }`, 2, "at most one wildcard"},
		{`{ $.* = 1 && $.* = 2 && $.* = 3 && $.* = 4 }`, 35, "at most 3 wildcard selectors"},
		{`{ $.a = 1 & $.b = 2 }`, 10, "found '&'"},
		{`{ $.a = 1 | $.b = 2 }`, 10, "found '|'"},
		{`{ $.a = 1 $.b = 2 }`, 10, "found '$'"},
		{`{ $.a =< 1 }`, 7, "unexpected '<'"},
		{`{ $.a => 1 }`, 7, "unexpected '>'"},
		{`{ $.a <> 1 }`, 7, "unexpected '>'"},
		{`{ $.a ! 1 }`, 6, "expected a comparison operator"},
		{`{ $.a = b(c) }`, 9, "quote the value"},
		{`{ $.a = "x"y }`, 11, "found 'y'"},
		{`{ $.k\u0041 = 1 }`, 5, "expected a comparison operator"},
		{`{ $.a = 99999e999999 }`, 8, "out of range"},
		{`{ $.a[99999999999] = 1 }`, 6, "too large"},
		// Regular expressions (§1.3).
		{`{ $.a = %a(b)% }`, 10, "parentheses are not supported"},
		{`{ $.a = %something!% }`, 18, "'!' is not supported"},
		{`{ $.a = %é% }`, 9, "ASCII"},
		{`{ $.a = %\k% }`, 9, `'\k' is not a supported escape`},
		{`{ $.a = %ab\% }`, 11, "ends with a backslash"},
		{`{ $.a = %[a% }`, 9, "missing closing ]"},
		{`{ $.a = %a**% }`, 9, "invalid nested repetition"},
		{`{ $.a = %x{1001}% }`, 9, "invalid repeat count"},
		{`{ $.a = %% }`, 9, "empty regular expression"},
		{`{ $.a = %a% || $.b = %b% || $.c = %c% }`, 34, "at most 2 regular expressions"},
		{`%a% %b% %c%`, 8, "at most 2 regular expressions"},
		{`%something!%`, 10, "'!' is not supported"},
		{`%(group)%`, 1, "parentheses"},
		{`%\p{L}%`, 1, `'\p' is not a supported escape`},
		{`%\x4%`, 1, `\x needs two hexadecimal digits`},
		// Terms (§1.2).
		{`"unterminated`, 0, "unterminated quoted string"},
		{`ab"cd`, 2, "must be quoted"},
		{`"ab"cd`, 4, "expected whitespace after the term"},
		{`%abc`, 0, "unterminated regular expression"},
		// Space-delimited patterns (§1.5).
		{`[a, a]`, 4, "used more than once"},
		{`[a, ..., b, ..., c]`, 12, "only one '...'"},
		{`[a, b=x || c=y]`, 11, "cannot test field 'c'"},
		{`[status_code = 4* && bytes > 1000]`, 21, "cannot test field 'bytes'"},
		{`[1a]`, 1, "expected a field name"},
		{`[a b]`, 3, "expected a comparison operator"},
		{`[a, b`, 5, "If a filter pattern starts with '[' it must end with ']'"},
		{`[a, b=]`, 6, "expected a value"},
		{`[a=1 && ]`, 8, "expected a condition"},
		{`[a = "x]`, 5, "unterminated quoted string"},
		{`[a > x]`, 5, "needs a numeric value"},
		{`[a == 1]`, 3, "'==' is not an operator"},
		{`[a, (b = 1) || c = 2]`, 15, "cannot test field 'c'"},
		{`[a, (b = 1), (b = 2)]`, 14, "used more than once"},
		{`[a, ()]`, 5, "expected a field name"},
		{`[a = 1)]`, 6, "unexpected ')'"},
		{`[a.b]`, 2, "expected a comparison operator"},
		{`[..]`, 1, "expected a field name"},
		{`[a, %x%]`, 4, "expected a field name"},
		{`[a=%x%, b=%y%, c=%z%]`, 17, "at most 2 regular expressions"},
		// Limits.
		{strings.Repeat("a", MaxLength+1), MaxLength, "longer than 1024"},
		{strings.Repeat("é", MaxLength+1), 2 * MaxLength, "longer than 1024"},
		{"{" + strings.Repeat("(", maxNesting+1) + "$.a=1" + strings.Repeat(")", maxNesting+1) + "}", 1 + maxNesting, "nested more than"},
	}
	for _, c := range table {
		p, err := Parse(c.pattern)
		if err == nil {
			t.Errorf("Parse(%q) = %v; want an error", c.pattern, p)
			continue
		}
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("Parse(%q) error %T is not a *SyntaxError", c.pattern, err)
			continue
		}
		if se.Pos != c.pos || !strings.Contains(se.Reason, c.reason) {
			t.Errorf("Parse(%q): got pos %d %q; want pos %d %q", c.pattern, se.Pos, se.Reason, c.pos, c.reason)
		}
		if se.Pos < 0 || se.Pos > len(c.pattern) {
			t.Errorf("Parse(%q): position %d is outside the pattern", c.pattern, se.Pos)
		}
		if want := "Invalid filter pattern: " + se.Reason; !strings.HasPrefix(se.Error(), want) || !strings.Contains(se.Error(), "position") {
			t.Errorf("Error() = %q", se.Error())
		}
	}
}

func TestLimitsAccepted(t *testing.T) {
	for _, s := range []string{
		strings.Repeat("a", MaxLength),
		strings.Repeat("é", MaxLength),
		`%a% %b%`,
		`{ $.a = %a% || $.b = %b% }`,
		`{ $.* = 1 && $.a[*] = 2 && $.b[*].c = 3 }`,
		"{" + strings.Repeat("(", maxNesting) + "$.a=1" + strings.Repeat(")", maxNesting) + "}",
		`{ $.a[1073741824] = 1 }`,
	} {
		if _, err := Parse(s); err != nil {
			t.Errorf("Parse(%.60q): %v", s, err)
		}
	}
}

func TestPatternInfo(t *testing.T) {
	table := []struct {
		pattern string
		kind    Kind
		regexes int
		dims    bool
	}{
		{``, MatchAll, 0, false},
		{` `, MatchAll, 0, false},
		{`""`, MatchAll, 0, false},
		{`" "`, MatchAll, 0, false},
		{`ERROR`, Terms, 0, false},
		{`%a% ERROR`, Terms, 1, false},
		{`?%a% ?%b%`, Terms, 2, false},
		{`?" " ?%b%`, MatchAll, 1, false},
		{` { $.a = %x% }`, JSON, 1, true},
		{`[a=%x%, b=%y%]`, SpaceDelimited, 2, true},
		{`[]`, SpaceDelimited, 0, true},
	}
	for _, c := range table {
		p := mustParse(t, c.pattern)
		if p.Kind() != c.kind || p.Regexes() != c.regexes || p.SupportsDimensions() != c.dims || p.String() != c.pattern {
			t.Errorf("%q: kind %v regexes %d dims %v string %q; want %v %d %v", c.pattern, p.Kind(), p.Regexes(), p.SupportsDimensions(), p.String(), c.kind, c.regexes, c.dims)
		}
	}
	for k, s := range map[Kind]string{MatchAll: "match-all", Terms: "terms", JSON: "json", SpaceDelimited: "space-delimited", 9: "Kind(9)"} {
		if k.String() != s {
			t.Errorf("Kind(%d).String() = %q; want %q", k, k.String(), s)
		}
	}
}

func TestSelectors(t *testing.T) {
	for _, s := range []string{"$.latency", "$.a.b[0]", "$.['k.x']", "$[0].a", "$size", "$status_code", "$1", "$12", "$_x", "$a-b"} {
		if err := ValidSelector(s); err != nil {
			t.Errorf("ValidSelector(%q): %v", s, err)
		}
	}
	for _, s := range []string{"", "$", "latency", "$.", "$.a[*]", "$.*", "$.a b", "$0", "$1a", "$-a", "$a.b", "1", "$.a[", "$.a..b"} {
		if err := ValidSelector(s); err == nil {
			t.Errorf("ValidSelector(%q) = nil; want an error", s)
		}
	}
	jsonP := mustParse(t, `{ $.a = 1 }`)
	sdP := mustParse(t, `[ip, user, ..., size]`)
	termP := mustParse(t, `ERROR`)
	check := func(p *Pattern, sel string, ok bool) {
		t.Helper()
		if err := p.CheckSelector(sel); (err == nil) != ok {
			t.Errorf("%s CheckSelector(%q) = %v; want ok=%v", p, sel, err, ok)
		}
	}
	check(jsonP, "$.a", true)
	check(jsonP, "$.b.c", true)
	check(jsonP, "$a", false)
	check(jsonP, "$1", false)
	check(sdP, "$size", true)
	check(sdP, "$ip", true)
	check(sdP, "$3", true)
	check(sdP, "$bytes", false)
	check(sdP, "$.size", false)
	check(termP, "$.a", false)
	check(termP, "$a", false)
	if err := termP.CheckSelector("$.a"); err == nil || !strings.Contains(err.Error(), "does not support dimensions") {
		t.Errorf("term pattern CheckSelector: %v", err)
	}
}
