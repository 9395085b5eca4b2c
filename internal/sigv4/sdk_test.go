package sigv4

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

const (
	sdkAKID   = "AKIAIOSFODNN7EXAMPLE"
	sdkSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	sdkToken  = "FwoGZXIvYXdzEBYaDExampleSessionToken//+/=="
)

// sdkServer is a net/http server whose handler parses and verifies every
// request as the real server will, reporting the outcome on a channel.
type sdkServer struct {
	*httptest.Server
	results chan sdkResult
	now     func() time.Time
	cache   *KeyCache
}

type sdkResult struct {
	sr  *Request
	err error
}

func newSDKServer(t *testing.T) *sdkServer {
	s := &sdkServer{results: make(chan sdkResult, 1), now: time.Now, cache: NewKeyCache(64)}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		var sr *Request
		if err == nil {
			if sr, err = Parse(r); err == nil {
				err = s.cache.Verify(r, sr, sdkSecret, body, s.now())
			}
		}
		s.results <- sdkResult{sr, err}
	}))
	t.Cleanup(s.Close)
	return s
}

// do sends req and returns what the handler found.
func (s *sdkServer) do(t *testing.T, req *http.Request) sdkResult {
	t.Helper()
	req.GetBody = nil // no transparent retry with the original body
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return <-s.results
}

func sdkCreds(token string) aws.Credentials {
	return aws.Credentials{AccessKeyID: sdkAKID, SecretAccessKey: sdkSecret, SessionToken: token}
}

func payloadHash(body []byte) string {
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:])
}

// jsonRequest is a CloudTrail-like JSON 1.1 call.
func jsonRequest(t *testing.T, base string, body []byte) *http.Request {
	req, err := http.NewRequest(http.MethodPost, base+"/", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents")
	req.Header.Set("User-Agent", "aws-sdk-go-v2/1.0 os/linux")
	return req
}

func TestSDKHeaderRoundTrip(t *testing.T) {
	srv := newSDKServer(t)
	signer := v4.NewSigner()
	body := []byte(`{"MaxResults":50,"LookupAttributes":[{"AttributeKey":"EventName","AttributeValue":"ConsoleLogin"}]}`)

	type tc struct {
		name    string
		build   func() *http.Request
		service string
		payload string // payload hash handed to the signer
		token   string
		opts    func(*v4.SignerOptions)
		check   func(t *testing.T, sr *Request)
	}
	cases := []tc{
		{name: "json", service: "cloudtrail", payload: payloadHash(body),
			build: func() *http.Request { return jsonRequest(t, srv.URL, body) }},
		{name: "json session token", service: "cloudtrail", payload: payloadHash(body), token: sdkToken,
			build: func() *http.Request { return jsonRequest(t, srv.URL, body) },
			check: func(t *testing.T, sr *Request) {
				if sr.SecurityToken != sdkToken {
					t.Errorf("token %q", sr.SecurityToken)
				}
			}},
		{name: "query protocol form", service: "sts", payload: payloadHash([]byte("Action=GetCallerIdentity&Version=2011-06-15")),
			build: func() *http.Request {
				req, _ := http.NewRequest(http.MethodPost, srv.URL+"/", strings.NewReader("Action=GetCallerIdentity&Version=2011-06-15"))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
				return req
			}},
		{name: "unsigned payload", service: "cloudtrail", payload: UnsignedPayload,
			build: func() *http.Request {
				req := jsonRequest(t, srv.URL, body)
				req.Header.Set("X-Amz-Content-Sha256", UnsignedPayload)
				return req
			},
			check: func(t *testing.T, sr *Request) {
				if sr.PayloadHash != UnsignedPayload {
					t.Errorf("payload hash %q", sr.PayloadHash)
				}
			}},
		{name: "content sha256 header", service: "s3", payload: payloadHash(body), opts: s3Opts,
			build: func() *http.Request {
				req, _ := http.NewRequest(http.MethodPut, srv.URL+"/bucket/key", bytes.NewReader(body))
				req.Header.Set("X-Amz-Content-Sha256", payloadHash(body))
				return req
			}},
		{name: "rest json query and path", service: "cloudtrail-data", payload: payloadHash(body),
			build: func() *http.Request {
				q := url.Values{"channelArn": {"arn:aws:cloudtrail:us-east-1:123456789012:channel/01234567-89ab"},
					"externalId": {"a b+c/d~e*f"}, "ünïcode": {"☃"}}
				req, _ := http.NewRequest(http.MethodPost, srv.URL+"/PutAuditEvents?"+q.Encode(), bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				return req
			}},
		{name: "path needing escapes", service: "logs", payload: payloadHash(nil),
			build: func() *http.Request {
				req, _ := http.NewRequest(http.MethodGet, srv.URL+"/a%20b/c%2Fd/%E2%98%83/x:y@z", nil)
				return req
			}},
		{name: "unnormalised path (aws-sdk-go-v2 does not normalise)", service: "logs", payload: payloadHash(nil),
			build: func() *http.Request {
				req, _ := http.NewRequest(http.MethodGet, srv.URL+"/a//b/./c/../d", nil)
				return req
			}},
		{name: "s3 path single encoding", service: "s3", payload: UnsignedPayload, opts: s3Opts,
			build: func() *http.Request {
				req, _ := http.NewRequest(http.MethodGet, srv.URL+"/bucket/dir//my%20photo%2Bfile.jpg?list-type=2&prefix=a%2Fb", nil)
				req.Header.Set("X-Amz-Content-Sha256", UnsignedPayload)
				return req
			}},
		{name: "multi-valued and spaced headers", service: "cloudtrail", payload: payloadHash(body),
			build: func() *http.Request {
				req := jsonRequest(t, srv.URL, body)
				req.Header.Add("X-Amz-Meta-Tag", "  one   two  ")
				req.Header.Add("X-Amz-Meta-Tag", "three")
				return req
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := c.build()
			opts := []func(*v4.SignerOptions){}
			if c.opts != nil {
				opts = append(opts, c.opts)
			}
			if err := signer.SignHTTP(context.Background(), sdkCreds(c.token), req, c.payload, c.service, "us-east-1", time.Now(), opts...); err != nil {
				t.Fatal(err)
			}
			res := srv.do(t, req)
			if res.err != nil {
				t.Fatalf("Verify: %v", res.err)
			}
			if res.sr.Credential.Service != c.service || res.sr.Credential.AccessKeyID != sdkAKID {
				t.Errorf("credential %+v", res.sr.Credential)
			}
			if c.check != nil {
				c.check(t, res.sr)
			}
		})
	}
}

func s3Opts(o *v4.SignerOptions) { o.DisableURIPathEscaping = true }

func TestSDKHeaderTamper(t *testing.T) {
	srv := newSDKServer(t)
	signer := v4.NewSigner()
	body := []byte(`{"Name":"trail"}`)
	sign := func(req *http.Request, payload string, when time.Time) {
		t.Helper()
		if err := signer.SignHTTP(context.Background(), sdkCreds(sdkToken), req, payload, "cloudtrail", "us-east-1", when); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name string
		do   func() *http.Request
		want Kind
	}{
		{"body changed", func() *http.Request {
			req := jsonRequest(t, srv.URL, body)
			sign(req, payloadHash(body), time.Now())
			other := []byte(`{"Name":"trail2"}`)
			req.Body, req.ContentLength = io.NopCloser(bytes.NewReader(other)), int64(len(other))
			return req
		}, SignatureDoesNotMatch},
		{"body changed under x-amz-content-sha256", func() *http.Request {
			req := jsonRequest(t, srv.URL, body)
			req.Header.Set("X-Amz-Content-Sha256", payloadHash(body))
			sign(req, payloadHash(body), time.Now())
			other := []byte(`{"Name":"traiX"}`) // same length: content-length is signed
			req.Body = io.NopCloser(bytes.NewReader(other))
			return req
		}, ContentSHA256Mismatch},
		{"signed header changed", func() *http.Request {
			req := jsonRequest(t, srv.URL, body)
			sign(req, payloadHash(body), time.Now())
			req.Header.Set("X-Amz-Target", "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.DeleteTrail")
			return req
		}, SignatureDoesNotMatch},
		{"session token changed", func() *http.Request {
			req := jsonRequest(t, srv.URL, body)
			sign(req, payloadHash(body), time.Now())
			req.Header.Set("X-Amz-Security-Token", sdkToken+"x")
			return req
		}, SignatureDoesNotMatch},
		{"query added", func() *http.Request {
			req := jsonRequest(t, srv.URL, body)
			sign(req, payloadHash(body), time.Now())
			req.URL.RawQuery = "x=1"
			return req
		}, SignatureDoesNotMatch},
		{"path changed", func() *http.Request {
			req := jsonRequest(t, srv.URL, body)
			sign(req, payloadHash(body), time.Now())
			req.URL.Path = "/other"
			return req
		}, SignatureDoesNotMatch},
		{"method changed", func() *http.Request {
			req := jsonRequest(t, srv.URL, body)
			sign(req, payloadHash(body), time.Now())
			req.Method = http.MethodPut
			return req
		}, SignatureDoesNotMatch},
		{"signed 16 minutes ago", func() *http.Request {
			req := jsonRequest(t, srv.URL, body)
			sign(req, payloadHash(body), time.Now().Add(-16*time.Minute))
			return req
		}, Expired},
		{"signed 16 minutes ahead", func() *http.Request {
			req := jsonRequest(t, srv.URL, body)
			sign(req, payloadHash(body), time.Now().Add(16*time.Minute))
			return req
		}, Expired},
		{"not signed", func() *http.Request { return jsonRequest(t, srv.URL, body) }, MissingAuthentication},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := srv.do(t, c.do())
			wantKind(t, res.err, c.want)
		})
	}

	t.Run("wrong secret", func(t *testing.T) {
		req := jsonRequest(t, srv.URL, body)
		creds := sdkCreds("")
		creds.SecretAccessKey = "not-the-secret"
		// A new signer: a Signer caches derived keys by access key ID.
		if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, payloadHash(body), "cloudtrail", "us-east-1", time.Now()); err != nil {
			t.Fatal(err)
		}
		wantKind(t, srv.do(t, req).err, SignatureDoesNotMatch)
	})
}

func TestSDKPresignRoundTrip(t *testing.T) {
	srv := newSDKServer(t)
	signer := v4.NewSigner()
	presign := func(t *testing.T, rawURL, service, payload, token string, expires int, when time.Time, opts ...func(*v4.SignerOptions)) string {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, rawURL, nil)
		if err != nil {
			t.Fatal(err)
		}
		q := req.URL.Query()
		q.Set("X-Amz-Expires", strconv.Itoa(expires))
		req.URL.RawQuery = q.Encode()
		u, _, err := signer.PresignHTTP(context.Background(), sdkCreds(token), req, payload, service, "us-east-1", when, opts...)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	get := func(t *testing.T, u string) sdkResult {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, u, nil)
		if err != nil {
			t.Fatal(err)
		}
		return srv.do(t, req)
	}

	t.Run("s3 with session token", func(t *testing.T) {
		u := presign(t, srv.URL+"/bucket/my%20key.txt?versionId=3", "s3", UnsignedPayload, sdkToken, 3600, time.Now(), s3Opts)
		res := get(t, u)
		if res.err != nil {
			t.Fatalf("Verify: %v (%s)", res.err, u)
		}
		if !res.sr.Presigned || res.sr.Expires != time.Hour || res.sr.SecurityToken != sdkToken || res.sr.PayloadHash != UnsignedPayload {
			t.Errorf("parsed %+v", res.sr)
		}
		wantKind(t, get(t, strings.Replace(u, "versionId=3", "versionId=4", 1)).err, SignatureDoesNotMatch)
		wantKind(t, get(t, strings.Replace(u, "X-Amz-Expires=3600", "X-Amz-Expires=3601", 1)).err, SignatureDoesNotMatch)
	})
	t.Run("sts GetCallerIdentity hashes the empty payload", func(t *testing.T) {
		u := presign(t, srv.URL+"/?Action=GetCallerIdentity&Version=2011-06-15", "sts", payloadHash(nil), sdkToken, 60, time.Now())
		res := get(t, u)
		if res.err != nil {
			t.Fatalf("Verify: %v", res.err)
		}
		if res.sr.PayloadHash != "" {
			t.Errorf("payload hash %q", res.sr.PayloadHash)
		}
	})
	t.Run("non-S3 presigned with UNSIGNED-PAYLOAD", func(t *testing.T) {
		u := presign(t, srv.URL+"/?Action=GetCallerIdentity&Version=2011-06-15", "sts", UnsignedPayload, "", 60, time.Now())
		if res := get(t, u); res.err != nil {
			t.Fatalf("Verify: %v", res.err)
		}
	})
	t.Run("expired", func(t *testing.T) {
		u := presign(t, srv.URL+"/bucket/key", "s3", UnsignedPayload, "", 60, time.Now().Add(-61*time.Second), s3Opts)
		e := wantKind(t, get(t, u).err, Expired)
		if e.Message != "Request has expired" || e.ExpiresAt.IsZero() {
			t.Errorf("error %+v", e)
		}
	})
	t.Run("long-lived presigned URL still valid", func(t *testing.T) {
		u := presign(t, srv.URL+"/bucket/key", "s3", UnsignedPayload, "", 604800, time.Now().Add(-6*24*time.Hour), s3Opts)
		if res := get(t, u); res.err != nil {
			t.Fatalf("Verify: %v", res.err)
		}
	})
	t.Run("not yet valid", func(t *testing.T) {
		u := presign(t, srv.URL+"/bucket/key", "s3", UnsignedPayload, "", 3600, time.Now().Add(20*time.Minute), s3Opts)
		wantKind(t, get(t, u).err, Expired)
	})
	t.Run("signature tampered", func(t *testing.T) {
		u := presign(t, srv.URL+"/bucket/key", "s3", UnsignedPayload, "", 3600, time.Now(), s3Opts)
		i := strings.Index(u, "X-Amz-Signature=") + len("X-Amz-Signature=")
		c := byte('a')
		if u[i] == 'a' {
			c = 'b'
		}
		wantKind(t, get(t, u[:i]+string(c)+u[i+1:]).err, SignatureDoesNotMatch)
	})
}
