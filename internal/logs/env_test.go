package logs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
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
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	cwltypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/smithy-go"

	"github.com/opentrail/opentrail"
	"github.com/opentrail/opentrail/internal/server"
	"github.com/opentrail/opentrail/internal/testserver"
)

const (
	acctA   = "123456789012"
	acctB   = "210987654321"
	keyA    = "AKIAOPENTRAILLOGSA01"
	keyB    = "AKIAOPENTRAILLOGSB01"
	secretA = "opentrail-logs-test-secret-a-0123456789"
	secretB = "opentrail-logs-test-secret-b-0123456789"
	region1 = "us-east-1"
	region2 = "eu-west-1"
)

// fakeAuth knows the root keys of two accounts.
type fakeAuth struct{}

func (fakeAuth) LookupKey(id string) (server.Credentials, bool) {
	acct, secret := "", ""
	switch id {
	case keyA:
		acct, secret = acctA, secretA
	case keyB:
		acct, secret = acctB, secretB
	default:
		return server.Credentials{}, false
	}
	return server.Credentials{Secret: secret, Caller: opentrail.Caller{
		Type: "Root", AccountID: acct, ARN: "arn:aws:iam::" + acct + ":root", PrincipalID: acct, AccessKeyID: id,
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

func (r *recorder) first(name string) *opentrail.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.events {
		if e.EventName == name {
			return e
		}
	}
	return nil
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

// sink records the data points it receives.
type sink struct {
	mu   sync.Mutex
	data []sunk
	fail error
}

type sunk struct {
	acct, region string
	d            Datum
}

func (s *sink) PutInternal(ctx context.Context, acct, region string, data []Datum) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range data {
		s.data = append(s.data, sunk{acct, region, d})
	}
	return s.fail
}

func (s *sink) take() []sunk {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.data
	s.data = nil
	return out
}

// env is a logs service behind a real server.Server in httptest.
type env struct {
	t     *testing.T
	dir   string
	clock *clock
	sink  *sink
	opts  Options
	svc   *Service
	http  *httptest.Server
	rec   *recorder
}

// t0 is the start of every test clock.
var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvWith(t, Options{})
}

func newEnvWith(t *testing.T, opts Options) *env {
	t.Helper()
	e := &env{t: t, dir: t.TempDir(), clock: &clock{t: t0}, sink: &sink{}, opts: opts}
	e.start()
	t.Cleanup(e.stop)
	return e
}

func (e *env) start() {
	e.t.Helper()
	opts := e.opts
	opts.Now = e.clock.Now
	opts.Metrics = e.sink
	svc, err := Open(filepath.Join(e.dir, "logs"), opts)
	if err != nil {
		e.t.Fatal(err)
	}
	e.rec = &recorder{}
	srv := server.New(server.Config{Regions: []string{region1, region2}, Authenticator: fakeAuth{}, Recorder: e.rec})
	srv.Register(svc.Service())
	e.svc, e.http = svc, httptest.NewServer(srv)
}

func (e *env) stop() {
	if e.http == nil {
		return
	}
	e.http.Close()
	if err := e.svc.Close(); err != nil {
		e.t.Errorf("close: %v", err)
	}
	e.http, e.svc = nil, nil
}

// restart closes the server and the database and opens both again on the same data.
func (e *env) restart() {
	e.t.Helper()
	e.stop()
	e.start()
}

// client is a CloudWatch Logs client of account A in region1.
func (e *env) client() *cloudwatchlogs.Client { return e.clientFor(keyA, secretA, region1) }

func (e *env) clientFor(key, secret, region string) *cloudwatchlogs.Client {
	return cloudwatchlogs.NewFromConfig(aws.Config{
		Region:           region,
		Credentials:      credentials.NewStaticCredentialsProvider(key, secret, ""),
		BaseEndpoint:     aws.String(e.http.URL),
		RetryMaxAttempts: 1,
		HTTPClient:       &http.Client{Transport: testserver.HideWriterTo{RT: http.DefaultTransport}},
	})
}

// raw sends a signed JSON request as account A in region1 and returns the status and body.
func (e *env) raw(op, body string) (int, []byte) {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.http.URL+"/", strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("X-Amz-Target", TargetPrefix+"."+op)
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	sum := sha256.Sum256([]byte(body))
	if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: keyA, SecretAccessKey: secretA},
		req, hex.EncodeToString(sum[:]), "logs", region1, time.Now()); err != nil {
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
func (e *env) rawJSON(op, body string) (int, map[string]any) {
	e.t.Helper()
	status, b := e.raw(op, body)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
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

var ctx = context.Background()

// group creates a log group (and streams) as account A in region1.
func (e *env) group(name string, streams ...string) {
	e.t.Helper()
	c := e.client()
	if _, err := c.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(name)}); err != nil {
		e.t.Fatalf("CreateLogGroup %s: %v", name, err)
	}
	for _, s := range streams {
		if _, err := c.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String(name), LogStreamName: aws.String(s)}); err != nil {
			e.t.Fatalf("CreateLogStream %s/%s: %v", name, s, err)
		}
	}
}

// ms is the clock's time plus d, in epoch milliseconds.
func (e *env) ms(d time.Duration) int64 { return e.clock.Now().Add(d).UnixMilli() }

// put puts events (timestamp, message) and fails the test on an error.
func (e *env) put(group, stream string, evs ...cwltypes.InputLogEvent) *cloudwatchlogs.PutLogEventsOutput {
	e.t.Helper()
	out, err := e.client().PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{
		LogGroupName: aws.String(group), LogStreamName: aws.String(stream), LogEvents: evs,
	})
	if err != nil {
		e.t.Fatalf("PutLogEvents %s/%s: %v", group, stream, err)
	}
	return out
}

func ev(ts int64, msg string) cwltypes.InputLogEvent {
	return cwltypes.InputLogEvent{Timestamp: aws.Int64(ts), Message: aws.String(msg)}
}

func messages[T any](evs []T, msg func(T) *string) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = aws.ToString(msg(e))
	}
	return out
}

func outMsgs(evs []cwltypes.OutputLogEvent) []string {
	return messages(evs, func(e cwltypes.OutputLogEvent) *string { return e.Message })
}

func filteredMsgs(evs []cwltypes.FilteredLogEvent) []string {
	return messages(evs, func(e cwltypes.FilteredLogEvent) *string { return e.Message })
}

func contextWithCancel() (context.Context, context.CancelFunc) {
	return context.WithCancel(context.Background())
}
