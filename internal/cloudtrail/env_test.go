package cloudtrail

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/smithy-go"

	"github.com/opentrail/opentrail"
	"github.com/opentrail/opentrail/internal/blob"
	"github.com/opentrail/opentrail/internal/kv"
	"github.com/opentrail/opentrail/internal/server"
)

const (
	testAccount = "123456789012"
	testKeyID   = "AKIAOPENTRAILTEST001"
	testSecret  = "opentrail-cloudtrail-test-secret-0123456"
)

var testRegions = []string{"us-east-1", "us-west-2", "eu-west-1"}

// fakeAuth knows one access key: the test account's root.
type fakeAuth struct{}

func (fakeAuth) LookupKey(id string) (server.Credentials, bool) {
	if id != testKeyID {
		return server.Credentials{}, false
	}
	return server.Credentials{Secret: testSecret, Caller: opentrail.Caller{
		Type: "Root", AccountID: testAccount, ARN: "arn:aws:iam::" + testAccount + ":root", PrincipalID: testAccount, AccessKeyID: testKeyID,
	}}, true
}

// recorder keeps the records of calls.
type recorder struct {
	mu     sync.Mutex
	events []*opentrail.Event
}

func (r *recorder) Record(ctx context.Context, e *opentrail.Event) error {
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

// testBuckets is a blob.Dir whose listed buckets refuse writes (the tests run as root, for
// whom directory permissions mean nothing).
type testBuckets struct {
	dir  *blob.Dir
	deny map[string]bool
}

func (b *testBuckets) CheckWritable(ctx context.Context, bucket string) error {
	if b.deny[bucket] {
		return fmt.Errorf("%w: %s", blob.ErrAccessDenied, bucket)
	}
	return b.dir.CheckWritable(ctx, bucket)
}

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is a cloudtrail service behind a real server.Server in httptest.
type env struct {
	t       *testing.T
	dir     string
	store   *kv.Store
	buckets *testBuckets
	clock   *clock
	svc     *Service
	http    *httptest.Server
	rec     *recorder
	authz   server.Authorizer // nil allows everything
}

func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvWith(t, nil)
}

func newEnvWith(t *testing.T, authz server.Authorizer) *env {
	t.Helper()
	e := &env{
		t:     t,
		authz: authz,
		dir:   t.TempDir(),
		clock: &clock{t: time.Date(2025, 3, 1, 12, 0, 0, 123e6, time.UTC)},
	}
	e.buckets = &testBuckets{dir: blob.NewDir(filepath.Join(e.dir, "buckets")), deny: map[string]bool{}}
	for _, b := range []string{"trail-logs", "other-logs", "denied-logs"} {
		if err := e.buckets.dir.CreateBucket(context.Background(), b); err != nil {
			t.Fatal(err)
		}
	}
	e.buckets.deny["denied-logs"] = true
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
	svc, err := New(Options{Store: store, Buckets: e.buckets, Topics: testTopics{}, LogGroups: testLogGroups{}, Roles: testRoles{}, Now: e.clock.Now})
	if err != nil {
		e.t.Fatal(err)
	}
	e.rec = &recorder{}
	srv := server.New(server.Config{Regions: testRegions, Authenticator: fakeAuth{}, Authorizer: e.authz, Recorder: e.rec})
	srv.Register(svc.Services()...)
	e.store, e.svc, e.http = store, svc, httptest.NewServer(srv)
}

func (e *env) stop() {
	if e.http == nil {
		return
	}
	e.http.Close()
	if err := e.store.Close(); err != nil {
		e.t.Errorf("close store: %v", err)
	}
	e.http, e.store, e.svc = nil, nil, nil
}

// restart closes the server and the store and opens both again on the same data.
func (e *env) restart() {
	e.t.Helper()
	e.stop()
	e.start()
}

func (e *env) client(region string) *cloudtrail.Client {
	return cloudtrail.NewFromConfig(aws.Config{
		Region:           region,
		Credentials:      credentials.NewStaticCredentialsProvider(testKeyID, testSecret, ""),
		BaseEndpoint:     aws.String(e.http.URL),
		RetryMaxAttempts: 1,
	})
}

// raw sends a signed JSON request and returns the status and body.
func (e *env) raw(region, op, body string) (int, []byte) {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.http.URL+"/", strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("X-Amz-Target", TargetPrefix+"."+op)
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	sum := sha256.Sum256([]byte(body))
	if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: testKeyID, SecretAccessKey: testSecret},
		req, hex.EncodeToString(sum[:]), "cloudtrail", region, time.Now()); err != nil {
		e.t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp.StatusCode, b
}

// rawJSON sends a request and decodes a JSON object response.
func (e *env) rawJSON(region, op, body string) (int, map[string]any) {
	e.t.Helper()
	status, b := e.raw(region, op, body)
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		e.t.Fatalf("%s: response is not a JSON object: %s", op, b)
	}
	return status, m
}

// wantErr fails unless err is an AWS API error with code and a message containing msg.
func wantErr(t *testing.T, err error, code, msg string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("error = %v; want %s", err, code)
	}
	if ae.ErrorCode() != code || !strings.Contains(ae.ErrorMessage(), msg) {
		t.Fatalf("error = %s: %q; want %s containing %q", ae.ErrorCode(), ae.ErrorMessage(), code, msg)
	}
}

// create makes a trail with the default settings (bucket trail-logs).
func (e *env) create(region, name string, multi bool) *cloudtrail.CreateTrailOutput {
	e.t.Helper()
	out, err := e.client(region).CreateTrail(context.Background(), &cloudtrail.CreateTrailInput{
		Name: aws.String(name), S3BucketName: aws.String("trail-logs"), IsMultiRegionTrail: aws.Bool(multi),
	})
	if err != nil {
		e.t.Fatalf("CreateTrail %s in %s: %v", name, region, err)
	}
	return out
}

func arnOf(region, name string) string { return TrailARN(region, testAccount, name) }

// testTopics knows one topic per account and region: "trail-topic".
type testTopics struct{}

func (testTopics) TopicARN(acct, region, nameOrARN string) (string, bool, error) {
	arn := "arn:aws:sns:" + region + ":" + acct + ":trail-topic"
	if nameOrARN == "trail-topic" || nameOrARN == arn {
		return arn, true, nil
	}
	if nameOrARN == "arn:aws:sns:us-east-1:999999999999:foreign" {
		return nameOrARN, true, nil // exists, in another account
	}
	return "", false, nil
}

// testLogGroups knows one log group per account and region: "trail-group".
type testLogGroups struct{}

func (testLogGroups) GroupExists(acct, region, name string) (bool, error) {
	return name == "trail-group", nil
}

// testRoles lets CloudTrail use role "ok" on the streams of trail-group only.
type testRoles struct{}

func (testRoles) ServiceRole(acct, roleARN, service string, actions []string, resource string) (bool, string) {
	if roleARN == "arn:aws:iam::"+acct+":role/ok" && service == "cloudtrail.amazonaws.com" && len(actions) == 2 &&
		strings.Contains(resource, ":log-group:trail-group:log-stream:"+acct+"_CloudTrail_") {
		return true, ""
	}
	return false, "test policy"
}
