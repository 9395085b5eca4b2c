package sigv4

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// FuzzParse feeds arbitrary Authorization headers, query strings and dates
// to Parse. It must not panic; whatever it accepts must be a consistent
// Request, and Verify must then reject it (a fuzzer does not forge HMACs)
// without panicking.
func FuzzParse(f *testing.F) {
	f.Add(vanillaAuthz, "", "20150830T123600Z", "", "/")
	f.Add("AWS4-HMAC-SHA256 Credential=A/20150830/r/s/aws4_request,SignedHeaders=Host;x-amz-date,Signature=00", "a=b&c", "20150830T123600Z", "UNSIGNED-PAYLOAD", "/")
	f.Add("", "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20150830%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=abcd", "", "", "/")
	f.Add("", "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20150830%2Fus-east-1%2Fsts%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-SignedHeaders=host%3Bx-foo&X-Amz-Signature=ab&X-Amz-Security-Token=t%2B", "", "STREAMING-UNSIGNED-PAYLOAD-TRAILER", "/")
	f.Add("Bearer x", "", "", "", "/")
	f.Add(vanillaAuthz, "a=%zz&b=+", "20150830T123600Z", "", "/a//b/../%zz/./ሴ/")
	f.Add(vanillaAuthz, "", "20150830T123600Z", "", "")
	f.Add(vanillaAuthz, "", "20150830T123600Z", "", "*")
	f.Add("AWS4-HMAC-SHA256 Credential=/////, SignedHeaders=;;host;;, Signature==", "%zz=%", "20151331T250000Z", "zz", "/")
	f.Add("AWS4-HMAC-SHA256 Credential=a/b/c/d/aws4_request SignedHeaders=host Signature=x", "", "", "", "/")

	f.Fuzz(func(t *testing.T, auth, rawQuery, amzDate, contentSHA, path string) {
		r := &http.Request{
			Method: "GET", URL: &url.URL{Path: path, RawQuery: rawQuery}, Host: "example.com",
			RequestURI: path, Header: http.Header{},
		}
		if auth != "" {
			r.Header["Authorization"] = []string{auth}
		}
		if amzDate != "" {
			r.Header["X-Amz-Date"] = []string{amzDate}
		}
		if contentSHA != "" {
			r.Header["X-Amz-Content-Sha256"] = []string{contentSHA}
		}
		sr, err := Parse(r)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Kind < MissingAuthentication || e.Kind > ContentSHA256Mismatch || e.Message == "" {
				t.Fatalf("Parse error %#v", err)
			}
			if sr != nil {
				t.Fatal("Parse returned a Request with an error")
			}
			return
		}
		checkParsed(t, r, sr)
		for _, c := range []*KeyCache{nil, NewKeyCache(2)} {
			err := c.Verify(r, sr, suiteSecret, []byte(rawQuery), sr.Time)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Verify accepted a fuzzed signature or returned %#v", err)
			}
		}
	})
}

// checkParsed checks the invariants of a Request Parse accepted.
func checkParsed(t *testing.T, r *http.Request, sr *Request) {
	t.Helper()
	c := sr.Credential
	for _, p := range []string{c.AccessKeyID, c.Date, c.Region, c.Service} {
		if strings.Contains(p, "/") {
			t.Fatalf("credential part %q contains '/'", p)
		}
	}
	if sr.Signature == "" || len(sr.SignedHeaders) == 0 {
		t.Fatalf("empty signature or signed headers: %+v", sr)
	}
	host := false
	for _, h := range sr.SignedHeaders {
		if strings.IndexFunc(h, func(r rune) bool { return 'A' <= r && r <= 'Z' }) >= 0 {
			t.Fatalf("signed header %q not lower case", h)
		}
		host = host || h == "host"
	}
	if !host {
		t.Fatal("host not signed")
	}
	if sr.Time.IsZero() || sr.Time.Location() != time.UTC || sr.Time.Format("20060102") != c.Date {
		t.Fatalf("time %v for scope date %q", sr.Time, c.Date)
	}
	if sr.Presigned != (strings.TrimSpace(strings.Join(r.Header["Authorization"], "")) == "") {
		t.Fatalf("presigned %v with Authorization %q", sr.Presigned, r.Header["Authorization"])
	}
	if sr.Presigned && (sr.Expires < time.Second || sr.Expires > MaxExpires) || !sr.Presigned && sr.Expires != 0 {
		t.Fatalf("expires %v", sr.Expires)
	}
	if sr.PayloadHash != "" && !validPayloadHash(sr.PayloadHash) {
		t.Fatalf("payload hash %q", sr.PayloadHash)
	}
}

// FuzzVerify signs requests built from fuzzed paths, query parameters,
// header values and bodies with the AWS SDK's signer, in the header and the
// presigned forms, for S3 and another service. Verify must accept each and
// reject it once the signature or the body is changed.
func FuzzVerify(f *testing.F) {
	f.Add("/", "Action", "ListUsers", "value", "body", uint8(0))
	f.Add("/a b/./c/../d//e", "q", "a+b c/d", "  x   y  ", "", uint8(1))
	f.Add("/bucket/dir//ké y!*'()", "prefix", "a/b", "", "", uint8(2))
	f.Add("/bucket/%2F/..", "", "", "\"quoted\"", "x", uint8(3))
	f.Add("", "ሴ", "☃", "a,b", "{}", uint8(0))

	signer := v4.NewSigner()
	when := suiteTime
	f.Fuzz(func(t *testing.T, path, qk, qv, hv, body string, mode uint8) {
		if strings.HasPrefix(strings.ToLower(qk), "x-amz-") {
			t.Skip()
		}
		s3, presign := mode&2 != 0, mode&1 != 0
		service := "svc"
		if s3 {
			service = "s3"
		}
		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
		u := &url.URL{Scheme: "http", Host: "example.com", Path: path}
		if s3 {
			// Like the S3 client: the path encoded the AWS way.
			u.RawPath = string(appendEncodedPath(nil, path))
		}
		if qk != "" || qv != "" {
			u.RawQuery = url.Values{qk: {qv}}.Encode()
		}
		hv = strings.Map(func(r rune) rune {
			if r < 0x20 || r > 0x7e {
				return -1
			}
			return r
		}, hv)
		method, b := http.MethodPost, []byte(body)
		if presign {
			method, b = http.MethodGet, nil
		}
		req, err := http.NewRequest(method, u.String(), bytes.NewReader(b))
		if err != nil {
			t.Skip()
		}
		req.URL = u // keep RawPath exactly
		req.Header.Set("X-Custom", hv)
		ph := payloadHash(b)
		if s3 {
			ph = UnsignedPayload
			req.Header.Set("X-Amz-Content-Sha256", ph)
		}
		opt := func(o *v4.SignerOptions) { o.DisableURIPathEscaping = s3 }
		if presign {
			q := req.URL.Query()
			q.Set("X-Amz-Expires", "300")
			req.URL.RawQuery = q.Encode()
			signed, hdr, err := signer.PresignHTTP(context.Background(), sdkCreds(sdkToken), req, ph, service, "us-east-1", when, opt)
			if err != nil {
				t.Fatal(err)
			}
			req, err = http.NewRequest(method, signed, nil)
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range hdr {
				if !strings.EqualFold(k, "host") {
					req.Header[k] = v
				}
			}
		} else if err := signer.SignHTTP(context.Background(), sdkCreds(sdkToken), req, ph, service, "us-east-1", when, opt); err != nil {
			t.Fatal(err)
		}

		sr, err := Parse(req)
		if err != nil {
			t.Fatalf("Parse: %v", err)
		}
		checkParsed(t, req, sr)
		cache := NewKeyCache(4)
		if err := cache.Verify(req, sr, sdkSecret, b, when); err != nil {
			var e *Error
			errors.As(err, &e)
			t.Fatalf("Verify of an SDK-signed request: %v\nurl %s\n%s", err, req.URL, e.CanonicalRequest)
		}
		bad := *sr
		bad.Signature = tamper(sr.Signature)
		wantKind(t, cache.Verify(req, &bad, sdkSecret, b, when), SignatureDoesNotMatch)
		if !presign && !s3 && len(b) > 0 {
			other := bytes.Clone(b)
			other[0] ^= 1
			wantKind(t, cache.Verify(req, sr, sdkSecret, other, when), SignatureDoesNotMatch)
		}
	})
}
