package sns

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/smithy-go"

	"github.com/opentrail/opentrail"
	"github.com/opentrail/opentrail/internal/kv"
	"github.com/opentrail/opentrail/internal/secret"
	"github.com/opentrail/opentrail/internal/server"
)

// Test identities: the roots of two accounts and a user of account A that may do nothing.
const (
	acctA    = "111111111111"
	keyA     = "AKIASNSTESTROOTAAAAA"
	secretA  = "sns-test-secret-a-0123456789abcdefghijkl"
	acctB    = "222222222222"
	keyB     = "AKIASNSTESTROOTBBBBB"
	secretB  = "sns-test-secret-b-0123456789abcdefghijkl"
	keyNone  = "AKIASNSTESTNOBODYAAA"
	secretNo = "sns-test-secret-n-0123456789abcdefghijkl"
)

var testRegions = []string{"us-east-1", "us-west-2"}

type fakeAuth struct{}

func (fakeAuth) LookupKey(id string) (server.Credentials, bool) {
	root := func(acct, secret string) (server.Credentials, bool) {
		return server.Credentials{Secret: secret, Caller: opentrail.Caller{
			Type: opentrail.IdentityRoot, AccountID: acct, ARN: "arn:aws:iam::" + acct + ":root", PrincipalID: acct, AccessKeyID: id,
		}}, true
	}
	switch id {
	case keyA:
		return root(acctA, secretA)
	case keyB:
		return root(acctB, secretB)
	case keyNone:
		return server.Credentials{Secret: secretNo, Caller: opentrail.Caller{
			Type: opentrail.IdentityIAMUser, AccountID: acctA, ARN: "arn:aws:iam::" + acctA + ":user/nobody",
			PrincipalID: "AIDANOBODY", UserName: "nobody", AccessKeyID: id,
		}}, true
	}
	return server.Credentials{}, false
}

// fakeAuthz allows roots everything and the user "nobody" nothing.
type fakeAuthz struct{}

func (fakeAuthz) Allowed(c *opentrail.Caller, action, resource string, _ map[string][]string) (bool, bool) {
	return c.UserName != "nobody", false
}

type recorder struct {
	mu     sync.Mutex
	events []*opentrail.Event
}

func (r *recorder) Record(_ context.Context, e *opentrail.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
	return nil
}

func (r *recorder) last(name string) *opentrail.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.events) - 1; i >= 0; i-- {
		if r.events[i].EventName == name {
			return r.events[i]
		}
	}
	return nil
}

// logBuffer is a concurrency-safe log sink.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// env is the SNS service behind a real server.Server on an httptest listener, as serve wires
// it (the unauthenticated paths included), reached with the Go SDK's SNS client.
type env struct {
	t       *testing.T
	dir     string
	box     *secret.Box
	store   *kv.Store
	svc     *Service
	http    *httptest.Server
	handler atomic.Pointer[http.Handler]
	rec     *recorder
	logs    *logBuffer
	opts    Options // extra options for New (SMTP, ...)
}

func newEnv(t *testing.T, opts ...func(*Options)) *env {
	t.Helper()
	box, err := secret.New([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, dir: t.TempDir(), box: box, logs: &logBuffer{}}
	for _, o := range opts {
		o(&e.opts)
	}
	e.http = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h := e.handler.Load(); h != nil {
			(*h).ServeHTTP(w, r)
			return
		}
		http.Error(w, "not started", http.StatusServiceUnavailable)
	}))
	t.Cleanup(e.http.Close)
	e.start()
	t.Cleanup(e.stop)
	return e
}

func (e *env) start() {
	e.t.Helper()
	store, err := kv.Open(filepath.Join(e.dir, "meta"), nil)
	if err != nil {
		e.t.Fatal(err)
	}
	o := e.opts
	o.Store, o.Box, o.PublicURL = store, e.box, e.http.URL
	o.Logger = slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if o.DelayUnit == 0 {
		o.DelayUnit = time.Millisecond
	}
	svc, err := New(o)
	if err != nil {
		store.Close()
		e.t.Fatal(err)
	}
	e.rec = &recorder{}
	srv := server.New(server.Config{
		Regions: testRegions, Authenticator: fakeAuth{}, Authorizer: fakeAuthz{}, Recorder: e.rec,
		Extra: map[string]http.Handler{
			ConfirmPath:     svc.Handler(),
			UnsubscribePath: svc.Handler(),
			svc.CertPath():  svc.Handler(),
		},
	})
	srv.Register(svc.Service())
	var h http.Handler = srv
	e.handler.Store(&h)
	e.store, e.svc = store, svc
}

func (e *env) stop() {
	if e.svc == nil {
		return
	}
	e.handler.Store(nil)
	if err := e.svc.Close(); err != nil {
		e.t.Errorf("close service: %v", err)
	}
	if err := e.store.Close(); err != nil {
		e.t.Errorf("close store: %v", err)
	}
	e.svc, e.store = nil, nil
}

// restart closes the service and the store and opens both again on the same data.
func (e *env) restart() {
	e.t.Helper()
	e.stop()
	e.start()
}

func (e *env) clientFor(key, secret, region string) *awssns.Client {
	return awssns.NewFromConfig(aws.Config{
		Region:           region,
		Credentials:      credentials.NewStaticCredentialsProvider(key, secret, ""),
		BaseEndpoint:     aws.String(e.http.URL),
		RetryMaxAttempts: 1,
	})
}

// client is account A's root in us-east-1.
func (e *env) client() *awssns.Client { return e.clientFor(keyA, secretA, "us-east-1") }

func (e *env) createTopic(name string) string {
	e.t.Helper()
	out, err := e.client().CreateTopic(context.Background(), &awssns.CreateTopicInput{Name: aws.String(name)})
	if err != nil {
		e.t.Fatalf("CreateTopic %s: %v", name, err)
	}
	return aws.ToString(out.TopicArn)
}

// get fetches a URL without credentials.
func (e *env) get(u string) (int, string) {
	e.t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// apiError returns the code and HTTP status of an SDK error.
func apiError(t *testing.T, err error) (string, int) {
	t.Helper()
	if err == nil {
		return "", 0
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("not an API error: %v", err)
	}
	status := 0
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	return ae.ErrorCode(), status
}

func wantCode(t *testing.T, what string, err error, code string, status int) {
	t.Helper()
	got, st := apiError(t, err)
	if got != code || (status != 0 && st != status) {
		t.Fatalf("%s: got %q (%d) %v; want %s (%d)", what, got, st, err, code, status)
	}
}

// message is one request an endpoint received.
type message struct {
	Header http.Header
	Body   []byte
}

// endpoint is an HTTP subscriber: it records what it receives and answers with the statuses
// of its script (then 200).
type endpoint struct {
	*httptest.Server
	got    chan message
	mu     sync.Mutex
	script []int
}

func newEndpoint(t *testing.T, script ...int) *endpoint {
	ep := &endpoint{got: make(chan message, 100), script: script}
	ep.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		ep.got <- message{Header: r.Header.Clone(), Body: b}
		ep.mu.Lock()
		status := http.StatusOK
		if len(ep.script) > 0 {
			status, ep.script = ep.script[0], ep.script[1:]
		}
		ep.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(ep.Close)
	return ep
}

// next waits for the endpoint's next request.
func (ep *endpoint) next(t *testing.T) message {
	t.Helper()
	select {
	case m := <-ep.got:
		return m
	case <-time.After(10 * time.Second):
		t.Fatal("no delivery within 10s")
	}
	return message{}
}

// none checks that nothing arrives for a while.
func (ep *endpoint) none(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case m := <-ep.got:
		t.Fatalf("unexpected delivery: %s %s", m.Header.Get("x-amz-sns-message-type"), m.Body)
	case <-time.After(d):
	}
}

func must[T any](t *testing.T) func(v T, err error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
