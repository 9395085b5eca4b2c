package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

const vanillaAuthz = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, " +
	"SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"

// vanilla returns the suite's get-vanilla request, signed.
func vanilla() *http.Request {
	return &http.Request{
		Method: "GET", RequestURI: "/", URL: &url.URL{Path: "/"}, Host: "example.amazonaws.com",
		Header: http.Header{"X-Amz-Date": {"20150830T123600Z"}, "Authorization": {vanillaAuthz}},
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct {
		name   string
		auth   string // Authorization header; "-" for none
		query  string
		date   string // X-Amz-Date header; "-" for none
		kind   Kind
		msg    string // exact message, or prefix when it ends in "..."
		header map[string]string
	}{
		{name: "nothing", auth: "-", kind: MissingAuthentication, msg: "Request is missing Authentication Token"},
		{name: "blank header", auth: "  ", kind: MissingAuthentication, msg: "Request is missing Authentication Token"},
		{name: "bearer", auth: "Bearer abc.def", date: "-", kind: IncompleteSignature,
			msg: "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. " +
				"Authorization header requires 'SignedHeaders' parameter. Authorization header requires existence of either a " +
				"'X-Amz-Date' or a 'Date' header. Authorization=Bearer abc.def"},
		{name: "missing credential", auth: "AWS4-HMAC-SHA256 SignedHeaders=host;x-amz-date, Signature=abc", kind: IncompleteSignature,
			msg: "Authorization header requires 'Credential' parameter. Authorization=AWS4-HMAC-SHA256 SignedHeaders=host;x-amz-date, Signature=abc"},
		{name: "empty signature", auth: "AWS4-HMAC-SHA256 Credential=A/20150830/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=", kind: IncompleteSignature,
			msg: "Authorization header requires 'Signature' parameter. Authorization=..."},
		{name: "missing equal sign", auth: "AWS4-HMAC-SHA256 Credential= AKID/20181128/eu-central-1/cloud9/aws4_request, SignedHeaders=host, Signature=abc",
			kind: IncompleteSignature,
			msg: "'AKID/20181128/eu-central-1/cloud9/aws4_request' not a valid key=value pair (missing equal-sign) in Authorization header: " +
				"'AWS4-HMAC-SHA256 Credential= AKID/20181128/eu-central-1/cloud9/aws4_request, SignedHeaders=host, Signature=abc'."},
		{name: "sigv4a", auth: "AWS4-ECDSA-P256-SHA256 Credential=A/20150830/s3/aws4_request, SignedHeaders=host, Signature=abc", kind: UnsupportedAlgorithm,
			msg: "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256."},
		{name: "sigv2", auth: "AWS AKID:c2lnbmF0dXJl", kind: UnsupportedAlgorithm, msg: "The authorization mechanism..."},
		{name: "presigned sigv4a", auth: "-", query: "X-Amz-Algorithm=AWS4-ECDSA-P256-SHA256&X-Amz-Credential=x", kind: UnsupportedAlgorithm,
			msg: `X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"`},
		{name: "both mechanisms", auth: vanillaAuthz, query: "X-Amz-Algorithm=AWS4-HMAC-SHA256", kind: IncompleteSignature, msg: "Only one auth mechanism allowed..."},
		{name: "four credential parts", auth: "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/iam, SignedHeaders=host;x-amz-date, Signature=abc",
			kind: IncompleteSignature,
			msg:  "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got 'AKID/20150830/us-east-1/iam'"},
		{name: "bad terminator", auth: "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/iam/aws5_request, SignedHeaders=host;x-amz-date, Signature=abc",
			kind: SignatureDoesNotMatch, msg: "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws5_request'."},
		{name: "host not signed", auth: "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/iam/aws4_request, SignedHeaders=x-amz-date, Signature=abc",
			kind: IncompleteSignature, msg: "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."},
		{name: "bad date", auth: vanillaAuthz, date: "2015-08-30T12:36:00Z", kind: IncompleteSignature,
			msg: "Date must be in ISO-8601 'basic format'. Got '2015-08-30T12:36:00Z'. See http://en.wikipedia.org/wiki/ISO_8601"},
		{name: "impossible date", auth: vanillaAuthz, date: "20150231T123600Z", kind: IncompleteSignature, msg: "Date must be in ISO-8601..."},
		{name: "scope date mismatch", auth: vanillaAuthz, date: "20150831T000000Z", kind: SignatureDoesNotMatch,
			msg: "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20150830' != '20150831', from '20150831T000000Z'."},
		{name: "bad content sha256", auth: vanillaAuthz, kind: ContentSHA256Mismatch, header: map[string]string{"X-Amz-Content-Sha256": "abc"},
			msg: "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, or a valid sha256 value."},
		{name: "presigned missing parts", auth: "-", query: "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20150830%2Fus-east-1%2Fs3%2Faws4_request",
			kind: IncompleteSignature,
			msg: "AWS query-string parameters must include 'X-Amz-Signature'. AWS query-string parameters must include 'X-Amz-SignedHeaders'. " +
				"AWS query-string parameters must include 'X-Amz-Date'. Re-examine the query-string parameters."},
		{name: "presigned s3 without expires", auth: "-", kind: IncompleteSignature,
			query: "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20150830%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-SignedHeaders=host&X-Amz-Signature=ab",
			msg:   "AWS query-string parameters must include 'X-Amz-Expires'. Re-examine the query-string parameters."},
		{name: "presigned expires too long", auth: "-", kind: IncompleteSignature,
			query: "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20150830%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-SignedHeaders=host&X-Amz-Signature=ab&X-Amz-Expires=604801",
			msg:   "X-Amz-Expires must be less than a week (in seconds) that is 604800"},
		{name: "presigned expires negative", auth: "-", kind: IncompleteSignature,
			query: "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20150830%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-SignedHeaders=host&X-Amz-Signature=ab&X-Amz-Expires=-1",
			msg:   "X-Amz-Expires must be non-negative"},
		{name: "presigned expires zero", auth: "-", kind: IncompleteSignature,
			query: "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20150830%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-SignedHeaders=host&X-Amz-Signature=ab&X-Amz-Expires=0",
			msg:   "X-Amz-Expires must be at least 1"},
		{name: "presigned expires not a number", auth: "-", kind: IncompleteSignature,
			query: "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20150830%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-SignedHeaders=host&X-Amz-Signature=ab&X-Amz-Expires=1h",
			msg:   "X-Amz-Expires should be a number"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := &http.Request{Method: "GET", URL: &url.URL{Path: "/", RawQuery: c.query}, Host: "example.com", Header: http.Header{}}
			if c.auth != "-" {
				r.Header.Set("Authorization", c.auth)
			}
			switch c.date {
			case "":
				r.Header.Set("X-Amz-Date", "20150830T123600Z")
			case "-":
			default:
				r.Header.Set("X-Amz-Date", c.date)
			}
			for k, v := range c.header {
				r.Header.Set(k, v)
			}
			sr, err := Parse(r)
			if sr != nil {
				t.Fatalf("Parse returned %+v", sr)
			}
			e := wantKind(t, err, c.kind)
			if p, ok := strings.CutSuffix(c.msg, "..."); ok {
				if !strings.HasPrefix(e.Message, p) {
					t.Errorf("message %q, want prefix %q", e.Message, p)
				}
			} else if e.Message != c.msg {
				t.Errorf("message\n%q\nwant\n%q", e.Message, c.msg)
			}
			if !strings.HasPrefix(err.Error(), "sigv4: "+c.kind.String()+": ") {
				t.Errorf("Error() = %q", err.Error())
			}
		})
	}
}

func TestParseTolerance(t *testing.T) {
	const sig = "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
	for _, auth := range []string{
		"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request,SignedHeaders=host;x-amz-date,Signature=" + sig,
		"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request SignedHeaders=host;x-amz-date Signature=" + sig,
		"AWS4-HMAC-SHA256   Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request ,  SignedHeaders=Host;X-Amz-Date,\tSignature=" + sig + " ",
		"AWS4-HMAC-SHA256 Signature=" + sig + ", Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Extra=1",
	} {
		r := vanilla()
		r.Header.Set("Authorization", auth)
		sr, err := Parse(r)
		if err != nil {
			t.Errorf("%q: %v", auth, err)
			continue
		}
		if err := Verify(r, sr, suiteSecret, nil, suiteTime); err != nil {
			t.Errorf("%q: %v", auth, err)
		}
	}
}

func TestUppercaseSignatureRejected(t *testing.T) {
	r := vanilla()
	r.Header.Set("Authorization", strings.Replace(vanillaAuthz, "5fa00fa", "5FA00FA", 1))
	sr, err := Parse(r)
	if err != nil {
		t.Fatal(err)
	}
	wantKind(t, Verify(r, sr, suiteSecret, nil, suiteTime), SignatureDoesNotMatch)
}

func TestClockSkew(t *testing.T) {
	r := vanilla()
	sr, err := Parse(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []time.Duration{0, MaxSkew, -MaxSkew, MaxSkew - time.Second} {
		if err := Verify(r, sr, suiteSecret, nil, suiteTime.Add(d)); err != nil {
			t.Errorf("now %v away: %v", d, err)
		}
	}
	// Server clock 25 minutes ahead: the request is 10 minutes too old.
	now := suiteTime.Add(25*time.Minute + 300*time.Millisecond)
	e := wantKind(t, Verify(r, sr, suiteSecret, nil, now), Expired)
	if want := "Signature expired: 20150830T123600Z is now earlier than 20150830T124600Z (20150830T130100Z - 15 min.)"; e.Message != want {
		t.Errorf("message %q\nwant    %q", e.Message, want)
	}
	if !e.RequestTime.Equal(suiteTime) || !e.ServerTime.Equal(now) {
		t.Errorf("times %v %v", e.RequestTime, e.ServerTime)
	}
	if e.Code(false) != "InvalidSignatureException" || e.Code(true) != "SignatureDoesNotMatch" || e.Status(true) != 403 {
		t.Errorf("codes %s %s %d", e.Code(false), e.Code(true), e.Status(true))
	}
	// Server clock 16 minutes behind.
	e = wantKind(t, Verify(r, sr, suiteSecret, nil, suiteTime.Add(-16*time.Minute)), Expired)
	if want := "Signature not yet current: 20150830T123600Z is still later than 20150830T123500Z (20150830T122000Z + 15 min.)"; e.Message != want {
		t.Errorf("message %q\nwant    %q", e.Message, want)
	}
}

func TestPresignedWindow(t *testing.T) {
	var r *http.Request
	var sr *Request
	for _, v := range loadVectors(t) {
		if v.name == "presigned-get-vanilla-with-session-token" {
			r, _ = serverRequest(t, v.sections["request"], "")
		}
	}
	sr, err := Parse(r)
	if err != nil {
		t.Fatal(err)
	}
	if !sr.Presigned || sr.Expires != time.Hour || sr.SecurityToken == "" || sr.PayloadHash != "" {
		t.Fatalf("parsed %+v", sr)
	}
	for _, d := range []time.Duration{-MaxSkew, 0, time.Hour} {
		if err := Verify(r, sr, suiteSecret, nil, suiteTime.Add(d)); err != nil {
			t.Errorf("now %v after X-Amz-Date: %v", d, err)
		}
	}
	e := wantKind(t, Verify(r, sr, suiteSecret, nil, suiteTime.Add(time.Hour+time.Second)), Expired)
	if e.Message != "Request has expired" || !e.ExpiresAt.Equal(suiteTime.Add(time.Hour)) {
		t.Errorf("error %+v", e)
	}
	wantKind(t, Verify(r, sr, suiteSecret, nil, suiteTime.Add(-MaxSkew-time.Second)), Expired)
}

func TestKindTable(t *testing.T) {
	want := map[Kind][4]any{
		MissingAuthentication: {"MissingAuthenticationTokenException", "MissingAuthenticationToken", 403, 403},
		IncompleteSignature:   {"IncompleteSignatureException", "IncompleteSignature", 400, 400},
		SignatureDoesNotMatch: {"InvalidSignatureException", "SignatureDoesNotMatch", 400, 403},
		Expired:               {"InvalidSignatureException", "SignatureDoesNotMatch", 400, 403},
		UnsupportedAlgorithm:  {"IncompleteSignatureException", "IncompleteSignature", 400, 400},
		ContentSHA256Mismatch: {"InvalidSignatureException", "SignatureDoesNotMatch", 400, 403},
	}
	for k, w := range want {
		got := [4]any{k.Code(false), k.Code(true), k.Status(false), k.Status(true)}
		if got != w {
			t.Errorf("%v: %v, want %v", k, got, w)
		}
	}
	if Kind(0).Code(true) != "InternalFailure" || Kind(99).Status(false) != 500 {
		t.Error("unknown kinds")
	}
}

func TestCheckScope(t *testing.T) {
	sr := &Request{Credential: Credential{"AKID", "20150830", "eu-west-1", "iam"}}
	if err := sr.CheckScope("eu-west-1", "iam"); err != nil {
		t.Fatal(err)
	}
	if err := sr.CheckScope("", ""); err != nil {
		t.Fatal(err)
	}
	e := wantKind(t, sr.CheckScope("us-east-1", "iam"), SignatureDoesNotMatch)
	if e.Message != "Credential should be scoped to a valid region, not 'eu-west-1'. " {
		t.Errorf("%q", e.Message)
	}
	e = wantKind(t, sr.CheckScope("", "sts"), SignatureDoesNotMatch)
	if e.Message != "Credential should be scoped to correct service: 'sts'. " {
		t.Errorf("%q", e.Message)
	}
	if got := sr.Credential.Scope(); got != "20150830/eu-west-1/iam/aws4_request" {
		t.Errorf("scope %q", got)
	}
}

func TestDetailedMessage(t *testing.T) {
	r := vanilla()
	sr, _ := Parse(r)
	sr.Signature = tamper(sr.Signature)
	e := wantKind(t, Verify(r, sr, suiteSecret, nil, suiteTime), SignatureDoesNotMatch)
	d := e.DetailedMessage()
	if !strings.HasPrefix(d, msgMismatch+"\n\nThe Canonical String for this request should have been\n'GET\n/\n") ||
		!strings.Contains(d, "'\n\nThe String-to-Sign should have been\n'AWS4-HMAC-SHA256\n20150830T123600Z\n") {
		t.Errorf("%s", d)
	}
	if (&Error{Kind: Expired, Message: "x"}).DetailedMessage() != "x" {
		t.Error("detail on other kinds")
	}
}

func TestCanonicalURI(t *testing.T) {
	cases := []struct {
		raw           string
		s3, normalize bool
		want          string
	}{
		{"", false, true, "/"},
		{"/", false, true, "/"},
		{"/a%20b/c", false, true, "/a%2520b/c"}, // double encoding of the client's encoding
		{"/a%2Fb", false, true, "/a%252Fb"},
		{"/a/b/..", false, true, "/a"},
		{"/a/b/../", false, true, "/a/"},
		{"/../..", false, true, "/"},
		{"//a//b//", false, true, "/a/b/"},
		{"/a/./b/.", false, true, "/a/b"},
		{"/a/./b", false, false, "/a/./b"},
		{"/~user/$x", false, true, "/~user/%24x"},
		{"/bucket/a//b/../c", true, true, "/bucket/a//b/../c"}, // S3: no normalisation
		{"/bucket/my%20key", true, true, "/bucket/my%20key"},   // S3: single encoding
		{"/bucket/a%2fb%7e", true, true, "/bucket/a%2Fb~"},     // S3: encoding normalised
		{"/bucket/a+b!", true, true, "/bucket/a%2Bb%21"},
		{"/bucket/100%", true, true, "/bucket/100%25"},
	}
	for _, c := range cases {
		if got := string(appendCanonicalURI(nil, c.raw, c.s3, c.normalize)); got != c.want {
			t.Errorf("appendCanonicalURI(%q, s3=%v, normalize=%v) = %q, want %q", c.raw, c.s3, c.normalize, got, c.want)
		}
	}
}

func TestCanonicalQuery(t *testing.T) {
	cases := []struct {
		raw       string
		presigned bool
		want      string
	}{
		{"", false, ""},
		{"b=2&a=1", false, "a=1&b=2"},
		{"a=2&a=1&a", false, "a=&a=1&a=2"},
		{"q=a+b&r=a%20b&s=a%2Bb", false, "q=a%20b&r=a%20b&s=a%2Bb"},
		{"x=a/b&x=a-b", false, "x=a%2Fb&x=a-b"}, // sorted after encoding: '%' < '-'
		{"%7e=~&k=%zz", false, "k=%25zz&~=~"},
		{"a=1&&b=2", false, "a=1&b=2"},
		{"X-Amz-Signature=abc&X-Amz-Date=1", true, "X-Amz-Date=1"},
		{"X-Amz-Signature=abc&X-Amz-Date=1", false, "X-Amz-Date=1&X-Amz-Signature=abc"},
		{"Action=ListUsers&Version=2010-05-08", false, "Action=ListUsers&Version=2010-05-08"},
	}
	for _, c := range cases {
		if got := string(appendCanonicalQuery(nil, c.raw, c.presigned)); got != c.want {
			t.Errorf("appendCanonicalQuery(%q, %v) = %q, want %q", c.raw, c.presigned, got, c.want)
		}
	}
	// More pairs than the stack buffers hold.
	var raw []string
	for i := 99; i >= 0; i-- {
		raw = append(raw, fmt.Sprintf("k%03d=%s", i, strings.Repeat("v", 20)))
	}
	got := string(appendCanonicalQuery(nil, strings.Join(raw, "&"), false))
	if !strings.HasPrefix(got, "k000=") || !strings.HasSuffix(got, "&k099="+strings.Repeat("v", 20)) {
		t.Errorf("long query: %.60s...", got)
	}
}

func TestHeaderValues(t *testing.T) {
	h := http.Header{"X-Amz-Target": {"a"}, "x-lower": {"b"}, "Weird Name": {"c"}}
	for name, want := range map[string]string{"x-amz-target": "a", "x-lower": "b", "weird name": "c", "absent": ""} {
		if got := strings.Join(headerValues(h, name), ","); got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
	for in, want := range map[string]string{"  a   b  ": "a b", "\ta\t": "a", "a\t\tb": "a\t\tb", "": "", "   ": ""} {
		if got := string(appendTrimmed(nil, in)); got != want {
			t.Errorf("appendTrimmed(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSignSumIsHMAC(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 200 {
		var key [32]byte
		for j := range key {
			key[j] = byte(rng.UintN(256))
		}
		msg := make([]byte, i*3)
		for j := range msg {
			msg[j] = byte(rng.UintN(256))
		}
		buf := append(make([]byte, 64), msg...)
		m := hmac.New(sha256.New, key[:])
		m.Write(msg)
		if got := signSum(&key, buf); !hmac.Equal(got[:], m.Sum(nil)) {
			t.Fatalf("signSum differs from crypto/hmac for a %d-byte message", len(msg))
		}
	}
}

func TestKeyCache(t *testing.T) {
	cred := Credential{"AKID", "20150830", "us-east-1", "service"}
	want := deriveSigningKey(suiteSecret, cred)
	var nilCache *KeyCache
	if nilCache.SigningKey(suiteSecret, cred) != want || nilCache.Len() != 0 {
		t.Fatal("nil cache")
	}
	c := NewKeyCache(4)
	for range 3 {
		if c.SigningKey(suiteSecret, cred) != want {
			t.Fatal("cached key differs")
		}
	}
	if c.Len() != 1 {
		t.Fatalf("len %d", c.Len())
	}
	// Bounded: many scopes never hold more than the size.
	for i := range 100 {
		cr := cred
		cr.Region = fmt.Sprintf("r-%d", i)
		if c.SigningKey("secret", cr) != deriveSigningKey("secret", cr) {
			t.Fatal("wrong key")
		}
		if c.Len() > 4 {
			t.Fatalf("len %d > 4", c.Len())
		}
	}
	// A key in the old generation is found and promoted.
	a, b := cred, cred
	a.Region, b.Region = "a", "b"
	c2 := NewKeyCache(2) // generations of 1
	c2.SigningKey("s", a)
	c2.SigningKey("s", b) // a moves to old
	if c2.SigningKey("s", a) != deriveSigningKey("s", a) {
		t.Fatal("promoted key differs")
	}
	// Different secrets with the same scope are different entries.
	if c.SigningKey("s1", cred) == c.SigningKey("s2", cred) {
		t.Fatal("secrets share a key")
	}
	if NewKeyCache(0).gen != DefaultKeyCacheSize/2 {
		t.Fatal("default size")
	}
}

func TestKeyCacheConcurrent(t *testing.T) {
	c := NewKeyCache(8)
	r := vanilla()
	sr, err := Parse(r)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				cr := Credential{"A", "20150830", fmt.Sprintf("r%d", (g*7+i)%13), "svc"}
				if c.SigningKey("s", cr) != deriveSigningKey("s", cr) {
					t.Error("wrong key")
					return
				}
				if err := c.Verify(r, sr, suiteSecret, nil, suiteTime); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestContentSHA256(t *testing.T) {
	body := []byte("Param1=value1")
	sr := &Request{Credential: Credential{"A", "20150830", "us-east-1", "service"}, SignedHeaders: []string{"host"},
		Time: suiteTime, Signature: strings.Repeat("0", 64), PayloadHash: strings.ToUpper(hexSHA256(body))}
	r := &http.Request{Method: "POST", URL: &url.URL{Path: "/"}, Host: "h", Header: http.Header{}}
	// Sign sr for r ourselves, with the literal (upper-case) hash.
	creq, _ := canonicalStrings(r, sr, body)
	key := deriveSigningKey("secret", sr.Credential)
	sts := appendStringToSign(make([]byte, 64), sr, []byte(creq))
	sum := signSum(&key, sts)
	sr.Signature = fmt.Sprintf("%x", sum)
	if err := Verify(r, sr, "secret", body, suiteTime); err != nil {
		t.Fatal(err)
	}
	e := wantKind(t, Verify(r, sr, "secret", []byte("Param1=value2"), suiteTime), ContentSHA256Mismatch)
	if e.Message != "The provided 'x-amz-content-sha256' header does not match what was computed." {
		t.Errorf("%q", e.Message)
	}
	sr.PayloadHash = "nonsense"
	wantKind(t, Verify(r, sr, "secret", body, suiteTime), ContentSHA256Mismatch)
}

func TestQueryUnescape(t *testing.T) {
	for in, want := range map[string]string{
		"": "", "abc": "abc", "a+b": "a b", "a%2Fb%2fc": "a/b/c", "%": "%", "%4": "%4", "%zz%41": "%zzA",
		"100%25": "100%", "%E1%88%B4": "ሴ", "tok%2B%2F%3D+": "tok+/= ",
	} {
		if got := queryUnescape(in); got != want {
			t.Errorf("queryUnescape(%q) = %q, want %q", in, got, want)
		}
		if v, err := url.QueryUnescape(in); err == nil && v != queryUnescape(in) {
			t.Errorf("queryUnescape(%q) = %q, net/url says %q", in, queryUnescape(in), v)
		}
	}
}

func TestUnreserved(t *testing.T) {
	for c := range 256 {
		want := 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || strings.IndexByte("-._~", byte(c)) >= 0
		if unreserved(byte(c)) != want {
			t.Errorf("unreserved(%q) = %v", rune(c), !want)
		}
	}
}
