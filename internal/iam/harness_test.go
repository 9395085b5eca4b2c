package iam

import (
	"context"
	"errors"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awsiam "github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/opentrail/opentrail"
	"github.com/opentrail/opentrail/internal/kv"
	"github.com/opentrail/opentrail/internal/secret"
	"github.com/opentrail/opentrail/internal/server"
)

// The test accounts and their root keys.
const (
	acctA   = "111111111111"
	rootA   = "AKIATESTROOTAAAAAAAA"
	secretA = "root-secret-a-0123456789abcdefghijklmnopq"
	acctB   = "222222222222"
	rootB   = "AKIATESTROOTBBBBBBBB"
	secretB = "root-secret-b-0123456789abcdefghijklmnopq"
)

// testClock is the IAM layer's clock: real time plus an adjustable offset. The server keeps
// real time (SigV4 signatures are made with the real clock), so an offset makes the IAM layer
// issue sessions that are already old.
type testClock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *testClock) set(d time.Duration) {
	c.mu.Lock()
	c.offset = d
	c.mu.Unlock()
}

// recorder keeps the records of the calls.
type recorder struct {
	mu     sync.Mutex
	events []*opentrail.Event
}

func (r *recorder) Record(_ context.Context, e *opentrail.Event) error {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
	return nil
}

// last returns the most recent record of an event name.
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

// env is an IAM layer behind a real server, reached with the real SDK clients.
type env struct {
	t     testing.TB
	dir   string
	box   *secret.Box
	clock *testClock
	rec   *recorder
	store *kv.Store
	m     *IAM
	ts    *httptest.Server
}

func newEnv(t testing.TB) *env {
	t.Helper()
	box, err := secret.New([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, dir: t.TempDir(), box: box, clock: &testClock{}, rec: &recorder{}}
	e.open()
	if err := e.m.EnsureAccount(acctA, rootA, secretA); err != nil {
		t.Fatal(err)
	}
	if err := e.m.EnsureAccount(acctB, rootB, secretB); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.close)
	return e
}

func (e *env) open() {
	e.t.Helper()
	store, err := kv.Open(filepath.Join(e.dir, "kv"), nil)
	if err != nil {
		e.t.Fatal(err)
	}
	m, err := Open(Options{Store: store, Box: e.box, Now: e.clock.now})
	if err != nil {
		store.Close()
		e.t.Fatal(err)
	}
	srv := server.New(server.Config{Regions: []string{"us-east-1"}, Authenticator: m, Authorizer: m, Recorder: e.rec})
	srv.Register(m.Services()...)
	e.store, e.m, e.ts = store, m, httptest.NewServer(srv)
}

func (e *env) close() {
	if e.ts != nil {
		e.ts.Close()
		e.ts = nil
	}
	if e.store != nil {
		e.store.Close()
		e.store = nil
	}
}

// reopen simulates a restart: the store is closed and opened again and the state reloaded.
func (e *env) reopen() {
	e.t.Helper()
	e.close()
	e.open()
}

func (e *env) config(akid, secretKey, token string) aws.Config {
	return aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider(akid, secretKey, token),
		BaseEndpoint: aws.String(e.ts.URL),
		Retryer:      func() aws.Retryer { return aws.NopRetryer{} },
	}
}

func (e *env) iam(akid, secretKey, token string) *awsiam.Client {
	return awsiam.NewFromConfig(e.config(akid, secretKey, token))
}

func (e *env) sts(akid, secretKey, token string) *sts.Client {
	return sts.NewFromConfig(e.config(akid, secretKey, token))
}

// rootIAM is account A's root user's IAM client.
func (e *env) rootIAM() *awsiam.Client { return e.iam(rootA, secretA, "") }

// must returns v, or fails the test with err: must(client.Op(ctx, in))(t).
func must[T any](v T, err error) func(t testing.TB) T {
	return func(t testing.TB) T {
		t.Helper()
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return v
	}
}

// wantErr checks an AWS error's code, HTTP status and (when not empty) message substring.
func wantErr(t *testing.T, err error, code string, status int, msg string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error; want %s", code)
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("got %v; want an API error %s", err, code)
	}
	if ae.ErrorCode() != code {
		t.Fatalf("got error code %s (%s); want %s", ae.ErrorCode(), ae.ErrorMessage(), code)
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) && status != 0 && re.HTTPStatusCode() != status {
		t.Errorf("got HTTP status %d for %s; want %d", re.HTTPStatusCode(), code, status)
	}
	if msg != "" && !strings.Contains(ae.ErrorMessage(), msg) {
		t.Errorf("got message %q; want it to contain %q", ae.ErrorMessage(), msg)
	}
}

var ctx = context.Background()

// userWithKey creates a user in account A with an access key and returns its IAM client,
// STS client and key.
func (e *env) userWithKey(name string) (*awsiam.Client, *sts.Client, string, string) {
	e.t.Helper()
	root := e.rootIAM()
	must(root.CreateUser(ctx, &awsiam.CreateUserInput{UserName: aws.String(name)}))(e.t)
	k := must(root.CreateAccessKey(ctx, &awsiam.CreateAccessKeyInput{UserName: aws.String(name)}))(e.t).AccessKey
	return e.iam(*k.AccessKeyId, *k.SecretAccessKey, ""), e.sts(*k.AccessKeyId, *k.SecretAccessKey, ""), *k.AccessKeyId, *k.SecretAccessKey
}

func (e *env) putUserPolicy(user, name, doc string) {
	e.t.Helper()
	must(e.rootIAM().PutUserPolicy(ctx, &awsiam.PutUserPolicyInput{UserName: aws.String(user), PolicyName: aws.String(name), PolicyDocument: aws.String(doc)}))(e.t)
}

// allow is an identity policy allowing actions on a resource.
func allow(resource string, actions ...string) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["` + strings.Join(actions, `","`) + `"],"Resource":"` + resource + `"}]}`
}

// deny is an identity policy denying actions on a resource.
func deny(resource string, actions ...string) string {
	return strings.Replace(allow(resource, actions...), "Allow", "Deny", 1)
}

// trust is a trust policy letting the principal assume the role.
func trust(principal string) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + principal + `"},"Action":"sts:AssumeRole"}]}`
}
