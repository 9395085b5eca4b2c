package sigv4

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The AWS SigV4 test suite: credentials, time and scope shared by every
// case in testdata/aws4_testsuite.
const (
	suiteSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
	suiteAKID   = "AKIDEXAMPLE"
)

var suiteTime = time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC)

// vector is one test case file: sections "-- name --" (see
// testdata/aws4_testsuite/README.md).
type vector struct {
	name     string
	sections map[string]string
}

func loadVectors(t *testing.T) []vector {
	t.Helper()
	files, err := filepath.Glob("testdata/aws4_testsuite/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no test vectors: %v", err)
	}
	var vs []vector
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		v := vector{name: strings.TrimSuffix(filepath.Base(f), ".txt"), sections: map[string]string{}}
		cur := ""
		var b strings.Builder
		flush := func() {
			if cur != "" {
				v.sections[cur] = strings.TrimSuffix(b.String(), "\n")
			}
			b.Reset()
		}
		for _, line := range strings.SplitAfter(string(data), "\n") {
			trimmed := strings.TrimSuffix(line, "\n")
			if strings.HasPrefix(trimmed, "-- ") && strings.HasSuffix(trimmed, " --") {
				flush()
				cur = strings.TrimSuffix(strings.TrimPrefix(trimmed, "-- "), " --")
				continue
			}
			if cur == "" { // comments before the first section
				continue
			}
			b.WriteString(line)
		}
		flush()
		vs = append(vs, v)
	}
	return vs
}

// serverRequest builds the *http.Request net/http's server would hand a
// handler for the raw request text (LF line ends), without requiring the
// request-target to be valid HTTP (the suite has raw spaces and UTF-8).
func serverRequest(t *testing.T, raw, authz string) (*http.Request, []byte) {
	t.Helper()
	head, body, _ := strings.Cut(raw, "\n\n")
	lines := strings.Split(head, "\n")
	method, rest, _ := strings.Cut(lines[0], " ")
	target := rest[:strings.LastIndexByte(rest, ' ')]
	path, query, _ := strings.Cut(target, "?")
	r := &http.Request{
		Method:     method,
		RequestURI: target,
		URL:        &url.URL{Path: path, RawQuery: query},
		Proto:      "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        http.Header{},
		ContentLength: int64(len(body)),
		Body:          io.NopCloser(strings.NewReader(body)),
	}
	for _, l := range lines[1:] {
		name, value, _ := strings.Cut(l, ":")
		value = strings.Trim(value, " \t")
		if strings.EqualFold(name, "host") {
			r.Host = value
			continue
		}
		k := textproto.CanonicalMIMEHeaderKey(name)
		r.Header[k] = append(r.Header[k], value)
	}
	if authz != "" {
		r.Header.Set("Authorization", authz)
	}
	return r, []byte(body)
}

// canonicalStrings returns the canonical request and string to sign Verify
// computes first.
func canonicalStrings(r *http.Request, sr *Request, body []byte) (creq, sts string) {
	b := appendCanonicalRequest(nil, r, sr, true)
	switch sr.PayloadHash {
	case "":
		b = append(b, hexSHA256(body)...)
	default:
		b = append(b, sr.PayloadHash...)
	}
	s := appendStringToSign(make([]byte, 64), sr, b)
	return string(b), string(s[64:])
}

// tamper changes the last character of s.
func tamper(s string) string {
	c := byte('0')
	if s[len(s)-1] == '0' {
		c = '1'
	}
	return s[:len(s)-1] + string(c)
}

func wantKind(t *testing.T, err error, k Kind) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("got error %v, want *Error of kind %v", err, k)
	}
	if e.Kind != k {
		t.Fatalf("got kind %v (%s), want %v", e.Kind, e.Message, k)
	}
	return e
}

func TestSuite(t *testing.T) {
	cache := NewKeyCache(16)
	for _, v := range loadVectors(t) {
		t.Run(v.name, func(t *testing.T) {
			r, body := serverRequest(t, v.sections["request"], v.sections["authorization"])
			sr, err := Parse(r)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if sr.Credential != (Credential{suiteAKID, "20150830", "us-east-1", "service"}) {
				t.Errorf("credential %+v", sr.Credential)
			}
			if !sr.Time.Equal(suiteTime) {
				t.Errorf("time %v", sr.Time)
			}
			if sr.Signature != v.sections["signature"] {
				t.Errorf("signature %q, want %q", sr.Signature, v.sections["signature"])
			}
			creq, sts := canonicalStrings(r, sr, body)
			if creq != v.sections["canonical-request"] {
				t.Errorf("canonical request\n%s\nwant\n%s", creq, v.sections["canonical-request"])
			}
			if sts != v.sections["string-to-sign"] {
				t.Errorf("string to sign\n%s\nwant\n%s", sts, v.sections["string-to-sign"])
			}
			if err := Verify(r, sr, suiteSecret, body, suiteTime); err != nil {
				t.Errorf("Verify: %v", err)
			}
			if err := cache.Verify(r, sr, suiteSecret, body, suiteTime.Add(14*time.Minute)); err != nil {
				t.Errorf("cached Verify: %v", err)
			}
			if err := Verify(r, sr, tamper(suiteSecret), body, suiteTime); err == nil {
				t.Errorf("Verify accepted a wrong secret")
			}

			// One character of the signature changed.
			bad := *sr
			bad.Signature = tamper(sr.Signature)
			e := wantKind(t, cache.Verify(r, &bad, suiteSecret, body, suiteTime), SignatureDoesNotMatch)
			if e.CanonicalRequest != v.sections["canonical-request"] || e.StringToSign != v.sections["string-to-sign"] {
				t.Errorf("mismatch error does not carry the canonical request and string to sign:\n%s\n%s", e.CanonicalRequest, e.StringToSign)
			}
			// The same through the request itself.
			r2, body2 := serverRequest(t, v.sections["request"], v.sections["authorization"])
			if sr.Presigned {
				r2.URL.RawQuery = strings.Replace(r2.URL.RawQuery, sr.Signature, bad.Signature, 1)
				r2.RequestURI = strings.Replace(r2.RequestURI, sr.Signature, bad.Signature, 1)
			} else {
				r2.Header.Set("Authorization", tamper(v.sections["authorization"]))
			}
			sr2, err := Parse(r2)
			if err != nil {
				t.Fatalf("Parse tampered: %v", err)
			}
			wantKind(t, Verify(r2, sr2, suiteSecret, body2, suiteTime), SignatureDoesNotMatch)
		})
	}
}

// TestSuiteOverHTTP sends each case as raw bytes to a net/http server and
// verifies it in the handler, as the server will.
func TestSuiteOverHTTP(t *testing.T) {
	type result struct {
		err  error
		body []byte
	}
	results := make(chan result, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err == nil {
			var sr *Request
			if sr, err = Parse(r); err == nil {
				err = Verify(r, sr, suiteSecret, body, suiteTime)
			}
		}
		results <- result{err, body}
	}))
	defer srv.Close()

	for _, v := range loadVectors(t) {
		t.Run(v.name, func(t *testing.T) {
			head, body, _ := strings.Cut(v.sections["request"], "\n\n")
			lines := strings.Split(head, "\n")
			if strings.Count(lines[0], " ") != 2 {
				t.Skip("request-target is not valid HTTP (raw space)")
			}
			if a := v.sections["authorization"]; a != "" {
				lines = append(lines, "Authorization: "+a)
			}
			lines = append(lines, "Connection: close")
			raw := strings.Join(lines, "\r\n") + "\r\n\r\n" + body
			conn, err := net.Dial("tcp", srv.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if _, err := io.WriteString(conn, raw); err != nil {
				t.Fatal(err)
			}
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Skipf("net/http rejects the request: %s", resp.Status)
			}
			res := <-results
			if res.err != nil {
				t.Errorf("Verify in handler: %v", res.err)
			}
			if string(res.body) != body {
				t.Errorf("body %q", res.body)
			}
		})
	}
}

// TestDateHeader is the 2011 edition of the suite's get-vanilla, which
// dates the request with a Date header instead of X-Amz-Date.
func TestDateHeader(t *testing.T) {
	r := &http.Request{
		Method: "GET", RequestURI: "/", URL: &url.URL{Path: "/"}, Host: "host.foo.com",
		Header: http.Header{
			"Date": {"Mon, 09 Sep 2011 23:36:00 GMT"},
			"Authorization": {"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20110909/us-east-1/host/aws4_request, " +
				"SignedHeaders=date;host, Signature=b27ccfbfa7df52a200ff74193ca6e32d4b48b8856fab7ebf1c595d0670a7e470"},
		},
	}
	sr, err := Parse(r)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2011, 9, 9, 23, 40, 0, 0, time.UTC)
	if !sr.Time.Equal(time.Date(2011, 9, 9, 23, 36, 0, 0, time.UTC)) {
		t.Fatalf("time %v", sr.Time)
	}
	if err := Verify(r, sr, suiteSecret, nil, now); err != nil {
		t.Fatal(err)
	}
	_, sts := canonicalStrings(r, sr, nil)
	if want := "AWS4-HMAC-SHA256\n20110909T233600Z\n20110909/us-east-1/host/aws4_request\n"; !strings.HasPrefix(sts, want) {
		t.Errorf("string to sign %q", sts)
	}
	r.Header.Set("Date", "Mon, 09 Sep 2011 23:36:01 GMT")
	sr, err = Parse(r)
	if err != nil {
		t.Fatal(err)
	}
	wantKind(t, Verify(r, sr, suiteSecret, nil, now), SignatureDoesNotMatch)
}

func hexSHA256(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
