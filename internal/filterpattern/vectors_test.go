package filterpattern

import (
	"fmt"
	"strings"
	"testing"
)

type vector struct {
	pattern, message string
	want             bool
}

func runVectors(t *testing.T, vs []vector) {
	t.Helper()
	for _, v := range vs {
		p, err := Parse(v.pattern)
		if err != nil {
			t.Errorf("Parse(%q): %v", v.pattern, err)
			continue
		}
		if got := p.Match(v.message); got != v.want {
			t.Errorf("Parse(%q).Match(%q) = %v; want %v", v.pattern, v.message, got, v.want)
		}
		// The other entry points agree with Match.
		if _, got := p.MatchFields(v.message); got != v.want {
			t.Errorf("Parse(%q).MatchFields(%q) = %v; want %v", v.pattern, v.message, got, v.want)
		}
		if got := p.MatchRecord(ParseRecord(v.message)); got != v.want {
			t.Errorf("Parse(%q).MatchRecord(%q) = %v; want %v", v.pattern, v.message, got, v.want)
		}
	}
}

// §1.2 test vectors: unstructured terms.
func TestTermVectors(t *testing.T) {
	msgs := []string{
		"[ERROR 400] BAD REQUEST",
		"[ERROR 419] MISSING ARGUMENTS",
		"[INFO 200] OK",
		"[WARN] UNAUTHORIZED REQUEST",
	}
	table := []struct {
		pattern string
		want    string // one letter per message: y or n
	}{
		{`ERROR`, "yynn"},
		{`ERROR ARGUMENTS`, "nynn"},
		{`?ERROR ?ARGUMENTS`, "yynn"},
		{`ERROR -ARGUMENTS`, "ynnn"},
		{`-ERROR`, "nnyy"},
		{`"BAD REQUEST"`, "ynnn"},
		{`?ERROR ?ARGUMENTS REQUEST`, "ynny"}, // rule (a): ?terms ignored beside a plain term
		{`%AUTHORIZED%`, "nnny"},
		{``, "yyyy"},
		// More from §1.2 and the grammar.
		{`   `, "yyyy"},
		{`""`, "yyyy"},
		{`" "`, "yyyy"},
		{`"ERROR" "BAD"`, "ynnn"},
		{`"ERROR BAD"`, "nnnn"},
		{`?ERROR ?WARN`, "yyny"},
		{`?ERROR ?WARN -REQUEST`, "nyyn"}, // rule (a) with an exclusion: only -REQUEST counts
		{`-ERROR -WARN`, "nnyn"},
		{`"[ERROR"`, "yynn"},
		{`"[ERROR 4"`, "yynn"},
		{`REQUEST -"BAD REQUEST"`, "nnny"},
		{`?"BAD REQUEST" ?OK`, "ynyn"},
		{`%^\[ERROR%`, "yynn"},
		{`%4[0-9]{2}%`, "yynn"},
		{`%ERROR 4\d9%`, "nynn"},
		{`%^\[INFO|^\[WARN%`, "nnyy"},
		{`-%ERROR%`, "nnyy"},
		{`?%BAD% ?%OK%`, "ynyn"},
		{`%OK$%`, "nnyn"},
		{`ERROR %MISSING%`, "nynn"},
		{`error`, "nnnn"},   // case-sensitive
		{`400]`, "ynnn"},    // unquoted punctuation is a literal substring
		{`*`, "nnnn"},       // '*' in a term is literal (U2)
		{`- ERROR`, "nnnn"}, // a lone '-' is the literal term "-"
	}
	var vs []vector
	for _, row := range table {
		for i, m := range msgs {
			vs = append(vs, vector{row.pattern, m, row.want[i] == 'y'})
		}
	}
	runVectors(t, vs)
	runVectors(t, []vector{
		{`ERROR`, `Exiting with ERRORCODE: -1`, true},
		{`ERROR`, `error`, false},
		{`Exception`, `[ERROR] Caught InvalidQueryException`, true},
		{`"INTERNAL SERVER ERROR"`, `500 INTERNAL SERVER ERROR`, true},
		{`"INTERNAL SERVER ERROR"`, `500 INTERNAL ERROR SERVER`, false},
		{`"ERROR" "Exception"`, `ERROR: NullPointerException`, true},
		{`"ERROR" "Exception"`, `ERROR: NullPointer`, false},
		{`"user@example.com"`, `login user@example.com ok`, true},
		{`"-1"`, `exit -1`, true},
		{`"-1"`, `exit 1`, false},
		{`"say \"hi\""`, `they say "hi" twice`, true},
		{`"a\\b"`, `path a\b`, true},
		{`%colou?r%`, `the color red`, true},
		{`%colou?r%`, `the colour red`, true},
		{`%colou?r%`, `the colr red`, false},
		{`%^starting|^initializing%`, `initializing module`, true},
		{`%^starting|^initializing%`, `now starting`, false},
		{`%user\x40example%`, `user@example`, true},
		{`%\s\d+\s%`, `code 42 here`, true},
		{`%a\.b%`, `axb`, false},
		{`%a\.b%`, `a.b`, true},
		{`%[a-c]{3}%`, `xxabcxx`, true},
		{`%[^a-z]{3}%`, `abc`, false},
		{`%id=\w+;%`, `id=x_1;`, true},
		{`% %`, `a b`, true},
		{`?-x`, `a-x`, true},
		{`" "`, `nospace`, true}, // documented as match-all
		{`-" "`, `a b`, false},
	})
}

// §1.4 worked examples against E1.
const e1 = `{"eventType":"UpdateTrail","sourceIPAddress":"111.111.111.111","arrayKey":["value","another value"],"objectList":[{"name":"a","id":1},{"name":"b","id":2}],"SomeObject":null,"ThisFlag":true}`

func TestJSONVectorsE1(t *testing.T) {
	table := []struct {
		pattern string
		want    bool
	}{
		{`{ $.eventType = "UpdateTrail" }`, true},
		{`{ $.eventType = UpdateTrail }`, true},
		{`{ $.eventType = "Update*" }`, true},
		{`{ $.eventType = "Update" }`, false},
		{`{ $.eventType = "updatetrail" }`, false},
		{`{ $.sourceIPAddress != 123.123.* }`, true},
		{`{ $.sourceIPAddress != 111.111.* }`, false},
		{`{ $.arrayKey[0] = "value" }`, true},
		{`{ $.arrayKey[1] = "value" }`, false},
		{`{ $.arrayKey = "value" }`, false},
		{`{ $.arrayKey[*] = "another value" }`, true},
		{`{ $.objectList[1].id = 2 }`, true},
		{`{ $.objectList[*].name = "b" }`, true},
		{`{ $.SomeObject IS NULL }`, true},
		{`{ $.eventType IS NULL }`, false},
		{`{ $.SomeOtherObject NOT EXISTS }`, true},
		{`{ $.SomeObject NOT EXISTS }`, false},
		{`{ $.ThisFlag IS TRUE }`, true},
		{`{ $.missing != "x" }`, false},
		{`{ $.eventType = %Trail% }`, true},
		{`{ $.eventType = "%Trail%" }`, false},
		{`{ $.* = %111\.111\.111\.1[0-9]{1,2}% }`, true},
		// More on E1.
		{`{ $.ThisFlag IS FALSE }`, false},
		{`{ $.ThisFlag is true }`, true},
		{`{ $.SomeObject is null }`, true},
		{`{ $.SomeObject not exists }`, false},
		{`{ $.eventType = "*" }`, true},
		{`{ $.eventType = * }`, true},
		{`{ $.SomeObject = "*" }`, false}, // "*" does not match null
		{`{ $.ThisFlag = "*" }`, false},   // booleans take part in no comparison
		{`{ $.ThisFlag = true }`, false},
		{`{ $.ThisFlag != "x" }`, false},
		{`{ $.SomeObject != "x" }`, false},
		{`{ $.arrayKey != "value" }`, false}, // an array satisfies no comparison
		{`{ $.objectList != 1 }`, false},
		{`{ $.eventType = "*Trail" }`, true},
		{`{ $.eventType = "*Trail*" }`, true},
		{`{ $.eventType = "*pdateTrai*" }`, true},
		{`{ $.eventType = "Up*Trail" }`, false}, // a '*' inside is literal (J1)
		{`{ $.eventType = "*Update" }`, false},
		{`{ $.eventType != %^Update% }`, false},
		{`{ $.eventType != %^Delete% }`, true},
		{`{ $.arrayKey[2] NOT EXISTS }`, true},
		{`{ $.arrayKey[0].x NOT EXISTS }`, true},
		{`{ $.eventType.x NOT EXISTS }`, true},
		{`{ $.arrayKey[*] NOT EXISTS }`, false},
		{`{ $.objectList[*].missing NOT EXISTS }`, true},
		{`{ $.objectList[*].id > 1 }`, true},
		{`{ $.objectList[*].id > 2 }`, false},
		{`{ $.objectList[*].id != 1 }`, true}, // any element
		{`{ $.objectList[0].id = "1" }`, true},
		{`{ $.* = "UpdateTrail" }`, true},
		{`{ $.* IS NULL }`, true},
		{`{ $.* IS TRUE }`, true},
		{`{ $.*.name = "a" }`, false}, // $.* reaches the array, not its elements
		{`{ $.objectList.* = "a" }`, false},
		{`{ $.['eventType'] = "UpdateTrail" }`, true},
		{`{ $["eventType"] = "UpdateTrail" }`, true},
		{`{ $.objectList[1]['name'] = b }`, true},
		{`{ ($.eventType = "UpdateTrail") }`, true},
		{`{ ((($.eventType = "UpdateTrail"))) }`, true},
		{`{$.eventType=UpdateTrail&&$.ThisFlag IS TRUE}`, true},
	}
	var vs []vector
	for _, r := range table {
		vs = append(vs, vector{r.pattern, e1, r.want})
	}
	runVectors(t, vs)
}

// §1.4 compound examples against E2.
const e2 = `{"user":{"id":1,"email":"John.Stiles@example.com"},"users":[{"id":2,"email":"John.Doe@example.com"},{"id":3,"email":"Jane.Doe@example.com"}],"actions":["GET","PUT","DELETE"],"coordinates":[[0,1,2],[4,5,6],[7,8,9]]}`

func TestJSONVectorsE2(t *testing.T) {
	table := []struct {
		pattern string
		want    bool
	}{
		{`{ ($.user.id = 1) && ($.users[0].email = "John.Doe@example.com") }`, true},
		{`{ ($.user.id = 2 && $.users[0].email = "nonmatch") || $.actions[2] = "GET" }`, false},
		{`{ $.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch && $.actions[2] = nomatch }`, true},
		{`{ ($.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch) && $.actions[2] = nomatch }`, false},
		{`{ $.coordinates[1][2] = 6 }`, true},
		// More.
		{`{ $.users = 1 }`, false},
		{`{ $.users != 1 }`, false},
		{`{ $.users[1].email = "Jane*Doe@example.com" }`, false}, // only a leading/trailing '*' is a wildcard
		{`{ $.users[1].email = "Jane*" }`, true},
		{`{ $.coordinates[*][0] = 7 }`, true},
		{`{ $.coordinates[2][*] >= 9 }`, true},
		{`{ $.coordinates[0][*] > 2 }`, false},
		{`{ $.actions[*] = DELETE }`, true},
		{`{ $.actions[3] NOT EXISTS }`, true},
		{`{ $.user.id = 1 && $.user.email = *example.com }`, true},
		{`{ $.user.id = 1 && ( $.actions[0] = PUT || $.actions[1] = PUT ) }`, true},
		{`{ $.user.id = 1 && ( $.actions[0] = PUT || $.actions[2] = PUT ) }`, false},
	}
	var vs []vector
	for _, r := range table {
		vs = append(vs, vector{r.pattern, e2, r.want})
	}
	runVectors(t, vs)
}

// §1.4 values: numbers, cross-type comparisons, booleans, whole-message rules.
func TestJSONValues(t *testing.T) {
	runVectors(t, []vector{
		{`{ $.latency >= 500 }`, `{"latency":500}`, true},
		{`{ $.latency >= 500 }`, `{"latency":499.9}`, false},
		{`{ $.numbers[0] < 10e3 }`, `{"numbers":[9999]}`, true},
		{`{ $.numbers[0] < 10e3 }`, `{"numbers":[10000]}`, false},
		{`{ $.latency > +1000 }`, `{"latency":1001}`, true},
		{`{ $.latency > +1000 }`, `{"latency":1000}`, false},
		{`{ $.errorCode != 500 }`, `{"errorCode":404}`, true},
		{`{ $.errorCode != 500 }`, `{"errorCode":500}`, false},
		{`{ $.errorCode != 500 }`, `{"errorCode":5e2}`, false},
		{`{ $.bandwidth > 75 }`, `{"bandwidth":75}`, false},
		{`{ $.refreshRate >= 60 }`, `{"refreshRate":60}`, true},
		{`{ $.n = 1e+3 }`, `{"n":1000}`, true},
		{`{ $.n = 1000 }`, `{"n":1e3}`, true},
		{`{ $.n = 1000 }`, `{"n":1000.0}`, true},
		{`{ $.n = -1.5 }`, `{"n":-1.5}`, true},
		{`{ $.n < -1 }`, `{"n":-1.5}`, true},
		{`{ $.n <= .5 }`, `{"n":0.5}`, true},
		{`{ $.n >= 1E2 }`, `{"n":100}`, true},
		{`{ $.n = 0 }`, `{"n":-0}`, true},
		{`{ $.n > 1 }`, `{"n":1e400}`, true}, // out of float range: +Inf
		{`{ $.count = "3" }`, `{"count":3}`, true},
		{`{ $.count = 3 }`, `{"count":"3"}`, true},
		{`{ $.count = 3 }`, `{"count":"3.0"}`, false}, // a number and a string compare as text
		{`{ $.count != 3 }`, `{"count":"4"}`, true},
		{`{ $.errorCode = 4* }`, `{"errorCode":404}`, true},
		{`{ $.errorCode = 4* }`, `{"errorCode":"404"}`, true},
		{`{ $.errorCode = 4* }`, `{"errorCode":504}`, false},
		{`{ $.count > 2 }`, `{"count":"many"}`, false},
		{`{ $.count > 2 }`, `{"count":"10"}`, false}, // ordering needs a numeric node (J2)
		{`{ $.count = %^1\d$% }`, `{"count":12}`, true},
		{`{ $.flag IS TRUE }`, `{"flag":"true"}`, false},
		{`{ $.flag = true }`, `{"flag":true}`, false},
		{`{ $.flag = true }`, `{"flag":"true"}`, true},
		{`{ $.flag IS FALSE }`, `{"flag":false}`, true},
		{`{ $.x IS NULL }`, `{"x":"null"}`, false},
		{`{ $.x = null }`, `{"x":null}`, false},
		{`{ $.x NOT EXISTS }`, `{"x":null}`, false},
		{`{ $.x NOT EXISTS }`, `{}`, true},
		{`{ $.x NOT EXISTS }`, `[]`, true},
		{`{ $[0] = 1 }`, `[1,2]`, true},
		{`{ $[1].a = "b" }`, `[1,{"a":"b"}]`, true},
		{`{ $.a = 1 }`, `[{"a":1}]`, false},
		{`{ $.a = 1 }`, `{"a":1} `, true},
		{`{ $.a = 1 }`, " \n{\"a\":1}\n", true},
		{`{ $.a = 1 }`, `2024-01-01 INFO {"a":1}`, false}, // the whole message must be JSON
		{`{ $.a = 1 }`, `{"a":1} trailing`, false},
		{`{ $.a = 1 }`, `{"a":1`, false},
		{`{ $.a = 1 }`, `{"a":01}`, false},
		{`{ $.x NOT EXISTS }`, `not json`, false},
		{`{ $.x NOT EXISTS }`, `"a string"`, false},
		{`{ $.x NOT EXISTS }`, `42`, false},
		{`{ $.x NOT EXISTS }`, ``, false},
		{`{ $.s = "a\"b" }`, `{"s":"a\"b"}`, true},
		{`{ $.s = "é" }`, `{"s":"\u00e9"}`, true},
		{`{ $.s = "😀" }`, `{"s":"\ud83d\ude00"}`, true},
		{`{ $.['k.with.dots'] = 1 }`, `{"k.with.dots":1}`, true},
		{`{ $.['k.with.dots'] = 1 }`, `{"k":{"with":{"dots":1}}}`, false},
		{`{ $.kA = 1 }`, `{"k\u0041":1}`, true},
		{`{ $.a = 2 }`, `{"a":1,"a":2}`, true}, // duplicate keys: the last wins
		{`{ $.a = 1 }`, `{"a":1,"a":2}`, false},
		{`{ $.d-e_f = 1 }`, `{"d-e_f":1}`, true},
		{`{ $.a.b.c.d = x }`, `{"a":{"b":{"c":{"d":"x"}}}}`, true},
		{`{ $.foo = "%bar%" }`, `{"foo":"%bar%"}`, true},
		{`{ $.foo = "%bar%" }`, `{"foo":"bar"}`, false},
		{`{ $.a = "" }`, `{"a":""}`, true},
		{`{ $.a != "" }`, `{"a":""}`, false},
		{`{ $.a = "two words" }`, `{"a":"two words"}`, true},
		{`{ $.eventSource = kms.amazonaws.com }`, `{"eventSource":"kms.amazonaws.com"}`, true},
		{`{ $.v = 1.2.3 }`, `{"v":"1.2.3"}`, true},
		{`{ $.v = a:b/c@d }`, `{"v":"a:b/c@d"}`, true},
	})
	// A root object with up to 32 keys goes through the hash index, a larger one is searched
	// linearly; both find every key, and the last of duplicates.
	for _, n := range []int{3, 31, 40} {
		var b strings.Builder
		b.WriteString("{")
		for i := range n {
			fmt.Fprintf(&b, `"key%d":%d,`, i, i)
		}
		b.WriteString(`"key0":"dup","last":"x"}`)
		for i := 1; i < n; i++ {
			runVectors(t, []vector{
				{fmt.Sprintf(`{ $.key%d = %d }`, i, i), b.String(), true},
				{fmt.Sprintf(`{ $.key%d = %d }`, i, i+1), b.String(), false},
			})
		}
		runVectors(t, []vector{
			{fmt.Sprintf(`{ $.key%d NOT EXISTS && $.last = x && $.key0 = dup }`, n), b.String(), true},
			{`{ $.key0 = 0 }`, b.String(), false},
		})
	}
}

// §1.5 vectors on the Apache line A.
const lineA = `127.0.0.1 Prod frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534`

func TestSpaceDelimitedVectors(t *testing.T) {
	table := []struct {
		pattern string
		want    bool
	}{
		{`[ip, user, username, timestamp, request, status_code, bytes]`, true},
		{`[ip, user, username, timestamp, request =*.html*, status_code = 4*, bytes]`, true},
		{`[..., status_code = 404 || status_code = 410, bytes]`, true},
		{`[ip, server, username, timestamp, request, status_code, bytes > 1000]`, true},
		{`[ip, server, username, timestamp, request, status_code, bytes > 2000]`, false},
		{`[..., status_code=200, size]`, false},
		{`[a, b, c, d, e, f, g, h]`, false},
		{`[ip, ..., bytes]`, true},
		{`[ip, user, ...]`, true},
		{`[..., bytes]`, true},
		// More.
		{`[]`, true},
		{`[ ]`, true},
		{`[...]`, true},
		{`[ip, user, username, timestamp, request, status_code, bytes, ...]`, true},
		{`[..., ip, user, username, timestamp, request, status_code, bytes]`, true},
		{`[ip, ..., user, username, timestamp, request, status_code, bytes]`, true},
		{`[ip=127.0.0.1, ...]`, true},
		{`[ip="127.0.0.1", ...]`, true},
		{`[ip=%127\.0\.0\.[1-9]%, ...]`, true},
		{`[ip=%^10\.%, ...]`, false},
		{`[ip!=%^10\.%, ...]`, true},
		{`[ip, user=Prod, ...]`, true},
		{`[ip, user!=Prod, ...]`, false},
		{`[ip, user=Prod*, ...]`, true},
		{`[ip, user=*rod, ...]`, true},
		{`[ip, user=*ro*, ...]`, true},
		{`[ip, user=*, ...]`, true},
		{`[..., timestamp = "10/Oct/2000:13:25:15 -0700", request, status_code, bytes]`, true},
		{`[..., request = "GET /index.html HTTP/1.0", status_code, bytes]`, true},
		{`[..., request = "GET /index.html", status_code, bytes]`, false},
		{`[..., status_code >= 400 && status_code < 500, bytes]`, true},
		{`[..., status_code >= 500 && status_code < 600, bytes]`, false},
		{`[..., status_code != 404, bytes]`, false},
		{`[..., status_code = 404.0, bytes]`, true}, // numeric fields compare by value
		{`[..., bytes <= 1534]`, true},
		{`[..., bytes < 1534]`, false},
		{`[..., bytes = 1.534e3]`, true},
		{`[ip, user > 1, ...]`, false}, // a non-numeric field fails ordering
		{`[ip, user = 1, ...]`, false},
		{`[ip, user != 1, ...]`, true},
		{`[..., status_code = 404 || (status_code >= 500 && status_code < 600), bytes]`, true},
		{`[..., (status_code >= 400 && status_code < 500) || status_code = 304, bytes]`, true},
		{`[ip, (user = Prod), ...]`, true},
		{`[ip, user, rest]`, true},
		{`[ip, user, rest = "frank*"]`, true}, // the last field takes the rest of the line
		{`[ip, user, rest = frank]`, false},
		{`[a, b, c, d, e, f, g]`, true},
		{`[a, b, c, d, e, f, g,]`, false}, // 8 fields
		{`[a, b, c, d, e, f,]`, true},
		{`[a, b, c, d, e, f, ]`, true},
		{`[, , , , , , bytes=1534]`, true},
		{`[ip, , username=frank, ...]`, true},
	}
	var vs []vector
	for _, r := range table {
		vs = append(vs, vector{r.pattern, lineA, r.want})
	}
	runVectors(t, vs)
	runVectors(t, []vector{
		{`[w1=ERROR]`, `ERROR 09/25/2014 12:00:00 out of memory`, false},
		{`[w1=ERROR, w2]`, `ERROR 09/25/2014 12:00:00 out of memory`, true},
		{`[w1=ERROR, w2]`, `ERROR`, false},
		{`[w1=ERROR]`, `ERROR`, true},
		{`[w1=ERROR]`, `  ERROR  `, true},
		{`[w1!=ERROR && w1!=WARNING, ...]`, `INFO started`, true},
		{`[w1!=ERROR && w1!=WARNING, ...]`, `WARNING disk`, false},
		{`[w1=ERROR || w1=WARNING, ...]`, `WARNING disk`, true},
		{`[a]`, ``, false},
		{`[...]`, ``, true},
		{`[]`, ``, true},
		{`[a, b]`, "x\t\ty", true},
		{`[a, b=y]`, `x [y]`, true},
		{`[a, b="y z"]`, `x "y z"`, true},
		{`[a, b="y z"]`, `x [y z]`, true},
		{`[a, b]`, `x [y z`, true}, // an unterminated bracket runs to the end
		{`[a, b="y z"]`, `x [y z`, true},
		{`[a, b, c]`, `x "" z`, true},
		{`[a, b=""]`, `x ""`, true},
	})
}

// §1.5 extracted values, as TestMetricFilter reports them, and Fields.Lookup.
func TestExtractedValues(t *testing.T) {
	const apache = `127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 200 1534`
	table := []struct {
		pattern, message string
		want             string
	}{
		{`[..., size]`, apache, `$1=127.0.0.1 $2=- $3=frank $4=10/Oct/2000:13:25:15 -0700 $5=GET /apache_pb.gif HTTP/1.0 $6=200 $size=1534`},
		{`[]`, apache, `$1=127.0.0.1 $2=- $3=frank $4=10/Oct/2000:13:25:15 -0700 $5=GET /apache_pb.gif HTTP/1.0 $6=200 $7=1534`},
		{`[..., request=*.html*, status_code=4*,]`, lineA, `$1=127.0.0.1 $2=Prod $3=frank $4=10/Oct/2000:13:25:15 -0700 $request=GET /index.html HTTP/1.0 $status_code=404 $7=1534`},
		{`[ip, user, rest]`, apache, `$ip=127.0.0.1 $user=- $rest=frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 200 1534`},
		{`[ip, ..., status, bytes]`, apache, `$ip=127.0.0.1 $2=- $3=frank $4=10/Oct/2000:13:25:15 -0700 $5=GET /apache_pb.gif HTTP/1.0 $status=200 $bytes=1534`},
		{`[ip, , user, ...]`, apache, `$ip=127.0.0.1 $2=- $user=frank $4=10/Oct/2000:13:25:15 -0700 $5=GET /apache_pb.gif HTTP/1.0 $6=200 $7=1534`},
	}
	for _, r := range table {
		p := mustParse(t, r.pattern)
		f, ok := p.MatchFields(r.message)
		if !ok {
			t.Errorf("%s: no match on %q", r.pattern, r.message)
			continue
		}
		var parts []string
		for _, fv := range f.Extracted() {
			parts = append(parts, fv.Name+"="+fv.Value)
			if v, ok := f.Lookup(fv.Name); !ok || v != fv.Value {
				t.Errorf("%s: Lookup(%q) = %q, %v; want %q", r.pattern, fv.Name, v, ok, fv.Value)
			}
		}
		if got := strings.Join(parts, " "); got != r.want {
			t.Errorf("%s: extracted\n got %s\nwant %s", r.pattern, got, r.want)
		}
	}
	// Positions address every field, named or not.
	p := mustParse(t, `[ip, user, ...]`)
	f, _ := p.MatchFields(apache)
	for sel, want := range map[string]string{"$1": "127.0.0.1", "$ip": "127.0.0.1", "$2": "-", "$7": "1534"} {
		if v, ok := f.Lookup(sel); !ok || v != want {
			t.Errorf("Lookup(%q) = %q, %v; want %q", sel, v, ok, want)
		}
	}
	for _, sel := range []string{"$8", "$0", "$size", "$", "ip", "$.ip", ""} {
		if v, ok := f.Lookup(sel); ok {
			t.Errorf("Lookup(%q) = %q; want no value", sel, v)
		}
	}
}

func TestJSONFields(t *testing.T) {
	const msg = `{"latency":250,"user":{"name":"bob","tags":["a","b"],"admin":false,"none":null},"s":"q\"x","big":1e3,"list":[{"v":7}]}`
	p := mustParse(t, `{ $.latency > 100 }`)
	f, ok := p.MatchFields(msg)
	if !ok {
		t.Fatal("no match")
	}
	if ex := f.Extracted(); len(ex) != 0 {
		t.Errorf("JSON patterns extract nothing for TestMetricFilter; got %v", ex)
	}
	for sel, want := range map[string]string{
		"$.latency": "250", "$.user.name": "bob", "$.user.tags[1]": "b", "$.user.admin": "false",
		"$.s": `q"x`, "$.big": "1e3", "$.list[0].v": "7", "$.['latency']": "250", "$.user.tags[*]": "a",
	} {
		if v, ok := f.Lookup(sel); !ok || v != want {
			t.Errorf("Lookup(%q) = %q, %v; want %q", sel, v, ok, want)
		}
	}
	for _, sel := range []string{"$.user", "$.user.tags", "$.user.none", "$.missing", "$latency", "$.latency.x", "$.user.tags[2]", "$.", "latency", "$.latency junk"} {
		if v, ok := f.Lookup(sel); ok {
			t.Errorf("Lookup(%q) = %q; want no value", sel, v)
		}
	}
	// A shared Record gives the same Fields.
	r := ParseRecord(msg)
	f2, ok := p.MatchRecordFields(r)
	if v, _ := f2.Lookup("$.user.name"); !ok || v != "bob" {
		t.Errorf("MatchRecordFields: Lookup = %q, %v", v, ok)
	}
	if r.Message() != msg || !r.IsJSON() {
		t.Errorf("Record: Message/IsJSON wrong")
	}
	// Term and match-all patterns extract nothing.
	for _, pat := range []string{"", "latency", `"bob"`} {
		f, ok := mustParse(t, pat).MatchFields(msg)
		if !ok {
			t.Errorf("%q: no match", pat)
		}
		if v, ok := f.Lookup("$.latency"); ok {
			t.Errorf("%q: Lookup gave %q", pat, v)
		}
	}
	var zero Fields
	if _, ok := zero.Lookup("$.a"); ok || zero.Extracted() != nil {
		t.Errorf("zero Fields extracts")
	}
}

// §7.3 CIS-derived vectors.
func TestCISVectors(t *testing.T) {
	pat := func(id string) string {
		for _, c := range append(append([]struct{ id, pattern string }{}, cisPatterns...), cisVariants...) {
			if c.id == id {
				return c.pattern
			}
		}
		t.Fatalf("no CIS pattern %s", id)
		return ""
	}
	runVectors(t, []vector{
		{pat("4.3"), `{"userIdentity":{"type":"Root"},"eventType":"AwsApiCall"}`, true},
		{pat("4.3"), `{"userIdentity":{"type":"Root","invokedBy":"support.amazonaws.com"},"eventType":"AwsApiCall"}`, false},
		{pat("4.3"), `{"userIdentity":{"type":"Root"},"eventType":"AwsServiceEvent"}`, false},
		{pat("4.3"), `{"userIdentity":{"type":"Root"}}`, false},
		{pat("4.2"), `{"eventName":"ConsoleLogin","additionalEventData":{"MFAUsed":"No"}}`, true},
		{pat("4.2"), `{"eventName":"ConsoleLogin"}`, false},
		{pat("4.6"), `{"eventName":"ConsoleLogin","errorMessage":"Failed authentication"}`, true},
		{pat("4.1"), `{"eventName":"DescribeInstances","sourceIPAddress":"1.2.3.4"}`, true},
		{pat("4.1-v4"), `{"eventName":"DescribeInstances","sourceIPAddress":"1.2.3.4"}`, false},
		{pat("4.1-v4"), `{"errorCode":"Client.UnauthorizedOperation","sourceIPAddress":"delivery.logs.amazonaws.com","eventName":"X"}`, true},
		{pat("4.1-v4"), `{"errorCode":"AccessDenied","sourceIPAddress":"delivery.logs.amazonaws.com","eventName":"GetObject"}`, false},
		{pat("4.1-v4"), `{"errorCode":"AccessDenied","sourceIPAddress":"1.2.3.4","eventName":"HeadBucket"}`, false},
		{pat("4.7"), `{"eventSource":"kms.amazonaws.com","eventName":"ScheduleKeyDeletion"}`, true},
		{pat("4.15"), `{"eventSource":"organizations.amazonaws.com","eventName":"MoveAccount"}`, true},
		// More around the same patterns.
		{pat("4.1-v4"), `{"errorCode":"AccessDenied","sourceIPAddress":"1.2.3.4","eventName":"GetObject"}`, true},
		{pat("4.1"), `{"errorCode":"AccessDenied","sourceIPAddress":"delivery.logs.amazonaws.com","eventName":"HeadBucket"}`, true},
		{pat("4.1"), `{"sourceIPAddress":"delivery.logs.amazonaws.com","eventName":"HeadBucket"}`, false},
		{pat("4.1"), `{}`, false},
		{pat("4.2"), `{"eventName":"ConsoleLogin","additionalEventData":{"MFAUsed":"Yes"}}`, false},
		{pat("4.2-alt"), `{"eventName":"ConsoleLogin","additionalEventData":{"MFAUsed":"No"},"userIdentity":{"type":"IAMUser"},"responseElements":{"ConsoleLogin":"Success"}}`, true},
		{pat("4.2-alt"), `{"eventName":"ConsoleLogin","additionalEventData":{"MFAUsed":"No"},"userIdentity":{"type":"IAMUser"},"responseElements":{"ConsoleLogin":"Failure"}}`, false},
		{pat("4.3"), `{"userIdentity":{"type":"Root","invokedBy":null},"eventType":"AwsApiCall"}`, false},
		{pat("4.7"), `{"eventSource":"kms.amazonaws.com","eventName":"EnableKey"}`, false},
		{pat("4.7"), `{"eventSource":"kms.amazonaws.com.evil","eventName":"DisableKey"}`, false},
		{pat("4.15"), `{"eventSource":"organizations.amazonaws.com","eventName":"ListAccounts"}`, false},
		{pat("4.4"), `{"eventName":"PutUserPolicy"}`, true},
		{pat("4.4"), `{"eventName":"PutUserPolicyX"}`, false},
		{pat("4.4"), `{"eventName":["PutUserPolicy"]}`, false},
		{pat("4.10-v5"), `{"eventName":"ModifySecurityGroupRules"}`, true},
		{pat("4.10"), `{"eventName":"ModifySecurityGroupRules"}`, false},
	})
}
