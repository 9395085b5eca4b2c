package gateway

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/opentrail/opentrail"
	"github.com/opentrail/opentrail/internal/server"
	"github.com/opentrail/opentrail/internal/sigv4"
)

const (
	backendKey    = "BACKENDKEY0000000001"
	backendSecret = "backend-secret-0123456789"
	userKey       = "AKIAUSER000000000001"
	userSecret    = "user-secret-0123456789abcdef"
	denyKey       = "AKIADENIED0000000001"
	account       = "123456789012"
)

// fakeS3 is a tiny in-memory S3: PUT/GET/HEAD/DELETE of objects. With verify set it checks
// every request's SigV4 signature against the backend credentials, as a real store would.
type fakeS3 struct {
	mu      sync.Mutex
	objects map[string][]byte
	verify  bool
	hosts   []string
}

func (f *fakeS3) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.hosts = append(f.hosts, r.Host)
	f.mu.Unlock()
	body, err := io.ReadAll(r.Body)
	if err != nil { // a short or aborted body stores nothing, as a real store
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	if f.verify {
		sr, err := sigv4.Parse(r)
		if err == nil && sr.Credential.AccessKeyID != backendKey {
			err = errors.New("wrong key")
		}
		if err == nil {
			err = sigv4.Verify(r, sr, backendSecret, body, time.Now())
		}
		if err != nil {
			w.WriteHeader(http.StatusForbidden)
			_, _ = io.WriteString(w, "<Error><Code>SignatureDoesNotMatch</Code><Message>"+err.Error()+"</Message></Error>")
			return
		}
	}
	w.Header().Set("X-Amz-Request-Id", "BACKEND-REQ-1")
	w.Header().Set("X-Amz-Id-2", "host-id-2")
	f.mu.Lock()
	defer f.mu.Unlock()
	switch r.Method {
	case http.MethodPut:
		f.objects[r.URL.Path] = body
	case http.MethodGet, http.MethodHead:
		b, ok := f.objects[r.URL.Path]
		if !ok {
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusNotFound)
			if r.Method == http.MethodGet {
				_, _ = io.WriteString(w, "<?xml version=\"1.0\"?><Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>")
			}
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		if r.Method == http.MethodGet {
			_, _ = w.Write(b)
		}
	case http.MethodDelete:
		delete(f.objects, r.URL.Path)
		w.WriteHeader(http.StatusNoContent)
	}
}

type keys map[string]server.Credentials

func (k keys) LookupKey(id string) (server.Credentials, bool) { c, ok := k[id]; return c, ok }

type authz struct{}

func (authz) Allowed(c *opentrail.Caller, action, resource string, _ map[string][]string) (bool, bool) {
	return c.AccessKeyID != denyKey, false
}

type memRecorder struct {
	mu         sync.Mutex
	recs       []*opentrail.Event
	fail       bool // appends fail and Healthy says so
	failRecord bool // appends fail while Healthy still says true (the first failure)
}

func (m *memRecorder) Record(_ context.Context, e *opentrail.Event) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail || m.failRecord {
		return errors.New("journal full")
	}
	m.recs = append(m.recs, e)
	return nil
}

func (m *memRecorder) Healthy() bool { m.mu.Lock(); defer m.mu.Unlock(); return !m.fail }

func (m *memRecorder) take() []*opentrail.Event {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := m.recs
	m.recs = nil
	return out
}

type env struct {
	g       *Gateway
	bs      *httptest.Server
	conns   *atomic.Int64 // connections the backend accepted
	gw      *httptest.Server
	backend *fakeS3
	rec     *memRecorder
}

func startEnv(t *testing.T, mode Mode) *env {
	t.Helper()
	fb := &fakeS3{objects: map[string][]byte{}, verify: mode == FrontDoor}
	conns := new(atomic.Int64)
	bs := httptest.NewUnstartedServer(fb)
	bs.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	bs.Start()
	t.Cleanup(bs.Close)
	bu, _ := url.Parse(bs.URL)
	rec := &memRecorder{}
	ks := keys{
		userKey: {Secret: userSecret, Caller: opentrail.Caller{Type: opentrail.IdentityIAMUser, AccountID: account,
			ARN: "arn:aws:iam::" + account + ":user/alice", PrincipalID: "AIDAALICE", UserName: "alice", AccessKeyID: userKey}},
		denyKey: {Secret: userSecret, Caller: opentrail.Caller{Type: opentrail.IdentityIAMUser, AccountID: account,
			ARN: "arn:aws:iam::" + account + ":user/bob", PrincipalID: "AIDABOB", UserName: "bob", AccessKeyID: denyKey}},
	}
	g, err := New(Config{Backend: bu, Mode: mode, BackendAccessKeyID: backendKey, BackendSecretAccessKey: backendSecret,
		Keys: ks, Authorizer: authz{}, Recorder: rec, AccountID: account, FailClosed: true, Domains: []string{"s3.local.test"}})
	if err != nil {
		t.Fatal(err)
	}
	gs := httptest.NewServer(g)
	t.Cleanup(gs.Close)
	return &env{g: g, bs: bs, conns: conns, gw: gs, backend: fb, rec: rec}
}

func (e *env) client(key, secret string) *s3.Client {
	return s3.New(s3.Options{
		Region: "eu-west-1", BaseEndpoint: aws.String(e.gw.URL), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(key, secret, ""), RetryMaxAttempts: 1,
	})
}

// getBody GETs bucket/key through c and returns the body; a failure names what.
func getBody(t *testing.T, c *s3.Client, what, bucket, key string) []byte {
	t.Helper()
	out, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	defer out.Body.Close()
	got, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatalf("%s: reading the body: %v", what, err)
	}
	return got
}

func code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func runScenario(t *testing.T, e *env, key, secret string) {
	ctx := context.Background()
	c := e.client(key, secret)
	body := bytes.Repeat([]byte("0123456789abcdef"), 4096) // 64 KiB
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String("dir/obj"), Body: bytes.NewReader(body)}); err != nil {
		t.Fatalf("PutObject: %v", err)
	}
	if got := getBody(t, c, "GetObject", "bkt", "dir/obj"); !bytes.Equal(got, body) {
		t.Fatalf("GetObject returned %d bytes; want the %d put", len(got), len(body))
	}
	if _, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("missing")}); code(err) != "NoSuchKey" {
		t.Fatalf("GetObject missing: %v; want NoSuchKey", err)
	}
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("bkt"), Key: aws.String("dir/obj")}); err != nil {
		t.Fatalf("DeleteObject: %v", err)
	}
	recs := e.rec.take()
	want := []struct {
		name    string
		in, out int64
		errCode string
	}{{"PutObject", int64(len(body)), 0, ""}, {"GetObject", 0, int64(len(body)), ""}, {"GetObject", 0, -1, "NoSuchKey"}, {"DeleteObject", 0, 0, ""}}
	if len(recs) != len(want) {
		t.Fatalf("%d records; want %d", len(recs), len(want))
	}
	for i, w := range want {
		r := recs[i]
		var ad additionalData
		if err := json.Unmarshal(r.AdditionalEventData, &ad); err != nil {
			t.Fatal(err)
		}
		if r.EventName != w.name || r.ErrorCode != w.errCode || ad.BytesTransferredIn < w.in || (w.out >= 0 && ad.BytesTransferredOut != w.out) {
			t.Errorf("record %d: %s err %q in %d out %d; want %s err %q in %d out %d", i, r.EventName, r.ErrorCode, ad.BytesTransferredIn, ad.BytesTransferredOut, w.name, w.errCode, w.in, w.out)
		}
		if r.EventCategory != opentrail.CategoryData || r.ManagementEvent || r.EventSource != "s3.amazonaws.com" || r.AWSRegion != "eu-west-1" {
			t.Errorf("record %d: category %s management %v source %s region %s", i, r.EventCategory, r.ManagementEvent, r.EventSource, r.AWSRegion)
		}
		if r.UserIdentity.Type != opentrail.IdentityIAMUser || r.UserIdentity.UserName != "alice" || r.RecipientAccountID != account {
			t.Errorf("record %d: identity %+v recipient %s", i, r.UserIdentity, r.RecipientAccountID)
		}
		if ad.SignatureVersion != "SigV4" || ad.AuthenticationMethod != "AuthHeader" || ad.XAmzID2 == "" && w.errCode == "" {
			t.Errorf("record %d: additionalEventData %s", i, r.AdditionalEventData)
		}
		if len(r.Resources) != 2 || r.Resources[0].ARN != "arn:aws:s3:::bkt/"+map[bool]string{true: "missing", false: "dir/obj"}[i == 2] || r.Resources[1].Type != "AWS::S3::Bucket" {
			t.Errorf("record %d: resources %+v", i, r.Resources)
		}
		var rp map[string]string
		if err := json.Unmarshal(r.RequestParameters, &rp); err != nil || rp["bucketName"] != "bkt" || rp["Host"] == "" {
			t.Errorf("record %d: requestParameters %s", i, r.RequestParameters)
		}
	}
}

func TestPassThrough(t *testing.T) {
	e := startEnv(t, PassThrough)
	runScenario(t, e, userKey, userSecret)
	// The backend sees the client's Host, not its own.
	e.backend.mu.Lock()
	host := e.backend.hosts[0]
	e.backend.mu.Unlock()
	if want := strings.TrimPrefix(e.gw.URL, "http://"); host != want {
		t.Errorf("backend saw Host %s; want the client's %s", host, want)
	}

	// An unknown key is recorded as Unknown.
	c := e.client("AKIAUNKNOWN000000001", "x")
	_, lerr := c.ListBuckets(context.Background(), &s3.ListBucketsInput{})
	t.Logf("ListBuckets: %v", lerr)
	recs := e.rec.take()
	if len(recs) != 1 || recs[0].EventName != "ListBuckets" || recs[0].UserIdentity.Type != "Unknown" || recs[0].UserIdentity.AccessKeyID != "AKIAUNKNOWN000000001" || !recs[0].ManagementEvent {
		t.Fatalf("unknown key record: %+v", recs)
	}
}

func TestFrontDoor(t *testing.T) {
	e := startEnv(t, FrontDoor)
	runScenario(t, e, userKey, userSecret)
	ctx := context.Background()

	// Denied by policy: AccessDenied to the client, recorded, never forwarded.
	_, err := e.client(denyKey, userSecret).GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k")})
	if code(err) != "AccessDenied" {
		t.Fatalf("denied GetObject: %v", err)
	}
	// Wrong secret: SignatureDoesNotMatch.
	_, err = e.client(userKey, "wrong-secret-000000000000").GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k")})
	if code(err) != "SignatureDoesNotMatch" {
		t.Fatalf("bad signature: %v", err)
	}
	// Unknown key: InvalidAccessKeyId.
	_, err = e.client("AKIAUNKNOWN000000001", userSecret).GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k")})
	if code(err) != "InvalidAccessKeyId" {
		t.Fatalf("unknown key: %v", err)
	}
	recs := e.rec.take()
	if len(recs) != 3 || recs[0].ErrorCode != "AccessDenied" || recs[0].UserIdentity.UserName != "bob" ||
		recs[1].ErrorCode != "SignatureDoesNotMatch" || recs[2].ErrorCode != "InvalidAccessKeyId" || recs[2].UserIdentity.Type != "Unknown" {
		for _, r := range recs {
			t.Logf("%s %s %+v", r.EventName, r.ErrorCode, r.UserIdentity)
		}
		t.Fatalf("refusal records wrong")
	}

	// Presigned GET through the front door.
	c := e.client(userKey, userSecret)
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String("p"), Body: strings.NewReader("presigned")}); err != nil {
		t.Fatal(err)
	}
	ps, err := s3.NewPresignClient(c).PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("p")})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(ps.URL)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != "presigned" {
		t.Fatalf("presigned GET: %d %s", resp.StatusCode, b)
	}
	recs = e.rec.take()
	var ad additionalData
	_ = json.Unmarshal(recs[len(recs)-1].AdditionalEventData, &ad)
	if ad.AuthenticationMethod != "QueryString" {
		t.Errorf("presigned record: %s", recs[len(recs)-1].AdditionalEventData)
	}
}

func TestFailClosed(t *testing.T) {
	e := startEnv(t, PassThrough)
	e.rec.mu.Lock()
	e.rec.fail = true
	e.rec.mu.Unlock()
	_, err := e.client(userKey, userSecret).PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k"), Body: strings.NewReader("x")})
	if code(err) != "ServiceUnavailable" {
		t.Fatalf("PutObject with a failed journal: %v; want ServiceUnavailable", err)
	}
	e.backend.mu.Lock()
	n := len(e.backend.objects)
	e.backend.mu.Unlock()
	if n != 0 {
		t.Fatal("the request reached the backend")
	}
}

// signedChunks encodes body as aws-chunked with chunk signatures chained from seed.
func signedChunks(t testing.TB, body []byte, chunk int, key [32]byte, amzDate, scope, seed string) []byte {
	t.Helper()
	var out bytes.Buffer
	prev := seed
	emit := func(data []byte) {
		sum := sha256.Sum256(data)
		sts := "AWS4-HMAC-SHA256-PAYLOAD\n" + amzDate + "\n" + scope + "\n" + prev + "\n" + emptySHA256 + "\n" + hex.EncodeToString(sum[:])
		m := hmac.New(sha256.New, key[:])
		m.Write([]byte(sts))
		prev = hex.EncodeToString(m.Sum(nil))
		fmt.Fprintf(&out, "%x;chunk-signature=%s\r\n", len(data), prev)
		out.Write(data)
		out.WriteString("\r\n")
	}
	for len(body) > 0 {
		n := min(chunk, len(body))
		emit(body[:n])
		body = body[n:]
	}
	emit(nil)
	return out.Bytes()
}

func TestFrontDoorSignedChunks(t *testing.T) {
	e := startEnv(t, FrontDoor)
	body := bytes.Repeat([]byte("chunky "), 20000) // 140000 bytes: three chunks of 64 KiB
	for _, tamper := range []int{0, 1, 2} {        // none, a middle chunk, the last data chunk
		now := time.Now().UTC()
		req, _ := http.NewRequest(http.MethodPut, e.gw.URL+"/bkt/chunked", nil)
		req.Header.Set("Content-Encoding", "aws-chunked")
		req.Header.Set("X-Amz-Decoded-Content-Length", fmt.Sprint(len(body)))
		req.Header.Set("X-Amz-Content-Sha256", streamingSigned)
		if err := backendSigner.SignHTTP(context.Background(), aws.Credentials{AccessKeyID: userKey, SecretAccessKey: userSecret},
			req, streamingSigned, "s3", "us-east-1", now); err != nil {
			t.Fatal(err)
		}
		seed := req.Header.Get("Authorization")
		seed = seed[strings.LastIndex(seed, "Signature=")+len("Signature="):]
		cred := sigv4.Credential{AccessKeyID: userKey, Date: now.Format("20060102"), Region: "us-east-1", Service: "s3"}
		key := sigv4.NewKeyCache(1).SigningKey(userSecret, cred)
		enc := signedChunks(t, body, 64<<10, key, now.Format("20060102T150405Z"), cred.Scope(), seed)
		switch tamper {
		case 1:
			enc[len(enc)/2] ^= 1
		case 2:
			enc[len(enc)-120] ^= 1 // data of the last data chunk, before the final 0-size chunk
		}
		req.Body = io.NopCloser(bytes.NewReader(enc))
		req.ContentLength = int64(len(enc))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		msg, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		e.backend.mu.Lock()
		stored, ok := e.backend.objects["/bkt/chunked"]
		delete(e.backend.objects, "/bkt/chunked")
		e.backend.mu.Unlock()
		recs := e.rec.take()
		if tamper > 0 {
			if resp.StatusCode == http.StatusOK || ok {
				t.Fatalf("tampered chunk: status %d, stored %v", resp.StatusCode, ok)
			}
			if len(recs) != 1 || recs[0].ErrorCode != "SignatureDoesNotMatch" {
				t.Fatalf("tampered chunk records: %+v", recs)
			}
			continue
		}
		if resp.StatusCode != http.StatusOK || !bytes.Equal(stored, body) {
			t.Fatalf("signed chunks: status %d %s, stored %d bytes; want %d", resp.StatusCode, msg, len(stored), len(body))
		}
		if len(recs) != 1 || recs[0].EventName != "PutObject" || recs[0].ErrorCode != "" {
			t.Fatalf("signed chunks records: %+v", recs)
		}
	}
}

func TestFrontDoorVirtualHosted(t *testing.T) {
	e := startEnv(t, FrontDoor)
	gwAddr := strings.TrimPrefix(e.gw.URL, "http://")
	_, port, _ := net.SplitHostPort(gwAddr)
	// Every host name dials the gateway, as DNS would with a wildcard record.
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, gwAddr)
	}}}
	c := s3.New(s3.Options{
		Region: "us-east-1", BaseEndpoint: aws.String("http://s3.local.test:" + port), HTTPClient: hc,
		Credentials: credentials.NewStaticCredentialsProvider(userKey, userSecret, ""), RetryMaxAttempts: 1,
	})
	ctx := context.Background()
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("vbkt"), Key: aws.String("a b/c.txt"), Body: strings.NewReader("virtual")}); err != nil {
		t.Fatalf("PutObject virtual-hosted: %v", err)
	}
	e.backend.mu.Lock()
	got, ok := e.backend.objects["/vbkt/a b/c.txt"]
	e.backend.mu.Unlock()
	if !ok || string(got) != "virtual" {
		t.Fatalf("backend objects %v", e.backend.objects)
	}
	recs := e.rec.take()
	var rp map[string]string
	_ = json.Unmarshal(recs[0].RequestParameters, &rp)
	if len(recs) != 1 || recs[0].EventName != "PutObject" || rp["bucketName"] != "vbkt" || rp["key"] != "a b/c.txt" || rp["Host"] != "vbkt.s3.local.test:"+port {
		t.Fatalf("virtual-hosted record: %s %s", recs[0].EventName, recs[0].RequestParameters)
	}
}

// withTrailer turns signedChunks output into the -TRAILER form: trailing headers and their
// signature, chained from the final chunk's, after the zero-size chunk.
func withTrailer(enc []byte, key [32]byte, amzDate, scope string, tamper bool) []byte {
	enc = enc[:len(enc)-2] // the empty line that ends a body without trailer
	i := bytes.LastIndex(enc, []byte("chunk-signature="))
	prev := string(enc[i+len("chunk-signature=") : i+len("chunk-signature=")+64])
	trailer := "x-amz-checksum-crc32:AAAAAA==\n"
	sum := sha256.Sum256([]byte(trailer))
	m := hmac.New(sha256.New, key[:])
	m.Write([]byte("AWS4-HMAC-SHA256-TRAILER\n" + amzDate + "\n" + scope + "\n" + prev + "\n" + hex.EncodeToString(sum[:])))
	sig := hex.EncodeToString(m.Sum(nil))
	if tamper {
		trailer = "x-amz-checksum-crc32:BBBBBB==\n"
	}
	return append(enc, []byte(strings.TrimSuffix(trailer, "\n")+"\r\nx-amz-trailer-signature:"+sig+"\r\n\r\n")...)
}

func TestFrontDoorSignedChunksTrailer(t *testing.T) {
	e := startEnv(t, FrontDoor)
	body := bytes.Repeat([]byte("trailer "), 10000)
	for _, tamper := range []bool{true, false} {
		now := time.Now().UTC()
		req, _ := http.NewRequest(http.MethodPut, e.gw.URL+"/bkt/trailer", nil)
		req.Header.Set("Content-Encoding", "aws-chunked")
		req.Header.Set("X-Amz-Decoded-Content-Length", fmt.Sprint(len(body)))
		req.Header.Set("X-Amz-Trailer", "x-amz-checksum-crc32")
		req.Header.Set("X-Amz-Content-Sha256", streamingSignedTrailer)
		if err := backendSigner.SignHTTP(context.Background(), aws.Credentials{AccessKeyID: userKey, SecretAccessKey: userSecret},
			req, streamingSignedTrailer, "s3", "us-east-1", now); err != nil {
			t.Fatal(err)
		}
		seed := req.Header.Get("Authorization")
		seed = seed[strings.LastIndex(seed, "Signature=")+len("Signature="):]
		cred := sigv4.Credential{AccessKeyID: userKey, Date: now.Format("20060102"), Region: "us-east-1", Service: "s3"}
		key := sigv4.NewKeyCache(1).SigningKey(userSecret, cred)
		amz := now.Format("20060102T150405Z")
		enc := withTrailer(signedChunks(t, body, 32<<10, key, amz, cred.Scope(), seed), key, amz, cred.Scope(), tamper)
		req.Body = io.NopCloser(bytes.NewReader(enc))
		req.ContentLength = int64(len(enc))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		msg, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		recs := e.rec.take()
		if tamper {
			e.backend.mu.Lock()
			_, stored := e.backend.objects["/bkt/trailer"]
			e.backend.mu.Unlock()
			if stored || resp.StatusCode == http.StatusOK || len(recs) != 1 || recs[0].ErrorCode != "SignatureDoesNotMatch" {
				t.Fatalf("tampered trailer: status %d, records %+v", resp.StatusCode, recs)
			}
			continue
		}
		e.backend.mu.Lock()
		stored := e.backend.objects["/bkt/trailer"]
		e.backend.mu.Unlock()
		if resp.StatusCode != http.StatusOK || !bytes.Equal(stored, body) {
			t.Fatalf("trailer upload: status %d %s, stored %d bytes; want %d", resp.StatusCode, msg, len(stored), len(body))
		}
	}
}

func TestPassThroughOtherSignatures(t *testing.T) {
	e := startEnv(t, PassThrough)
	for _, tt := range []struct {
		auth, query, key, method, version, typ string
	}{
		{"AWS " + userKey + ":c2lnbmF0dXJl", "", userKey, "AuthHeader", "SigV2", opentrail.IdentityIAMUser},
		{"", "?AWSAccessKeyId=AKIAOTHER0000000001&Expires=1&Signature=x", "AKIAOTHER0000000001", "QueryString", "SigV2", "Unknown"},
		{"AWS4-ECDSA-P256-SHA256 Credential=" + userKey + "/20260101/s3/aws4_request, SignedHeaders=host, Signature=00", "", userKey, "AuthHeader", "SigV4A", opentrail.IdentityIAMUser},
		{"", "", "", "", "", "AWSAccount"},
	} {
		req, _ := http.NewRequest(http.MethodGet, e.gw.URL+"/bkt/k"+tt.query, nil)
		if tt.auth != "" {
			req.Header.Set("Authorization", tt.auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		recs := e.rec.take()
		var ad additionalData
		_ = json.Unmarshal(recs[0].AdditionalEventData, &ad)
		if recs[0].UserIdentity.Type != tt.typ || recs[0].UserIdentity.AccessKeyID != tt.key && tt.typ != opentrail.IdentityIAMUser ||
			ad.AuthenticationMethod != tt.method || ad.SignatureVersion != tt.version {
			t.Errorf("%q %q: identity %+v, %s", tt.auth, tt.query, recs[0].UserIdentity, recs[0].AdditionalEventData)
		}
	}
}

// TestFailClosedAbortsUnrecorded: when the append of a forwarded request's record fails, a
// fail-closed gateway drops the connection before the response completes.
func TestFailClosedAbortsUnrecorded(t *testing.T) {
	e := startEnv(t, PassThrough)
	c := e.client(userKey, userSecret)
	ctx := context.Background()
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k"), Body: strings.NewReader("abc")}); err != nil {
		t.Fatal(err)
	}
	e.rec.mu.Lock()
	e.rec.failRecord = true
	e.rec.mu.Unlock()
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k")})
	if err == nil {
		_, err = io.ReadAll(out.Body)
		out.Body.Close()
	}
	if err == nil {
		t.Fatal("GetObject completed although its record was not written")
	}
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k")}); err == nil {
		t.Fatal("DeleteObject (no body) completed although its record was not written")
	}
}
