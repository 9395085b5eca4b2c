package events

import (
	"context"
	"encoding/json"
	"errors"
	"io"
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
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/smithy-go"

	"github.com/opentrail/opentrail"
	"github.com/opentrail/opentrail/internal/kv"
	"github.com/opentrail/opentrail/internal/secret"
	"github.com/opentrail/opentrail/internal/server"
)

const (
	acctA   = "111111111111"
	keyA    = "AKIAEVENTSTESTROOTAA"
	secretA = "events-test-secret-a-0123456789abcdefghij"
	acctB   = "222222222222"
	keyB    = "AKIAEVENTSTESTROOTBB"
	secretB = "events-test-secret-b-0123456789abcdefghij"
)

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
	}
	return server.Credentials{}, false
}

type allowAll struct{}

func (allowAll) Allowed(*opentrail.Caller, string, string, map[string][]string) (bool, bool) {
	return true, false
}

type nopRecorder struct{}

func (nopRecorder) Record(context.Context, *opentrail.Event) error { return nil }

// fakeTopics records SNS publications; fail makes them fail.
type fakeTopics struct {
	mu   sync.Mutex
	msgs map[string][]string
	fail atomic.Bool
}

func (f *fakeTopics) PublishInternal(_ context.Context, arn, _, msg string) (string, error) {
	if f.fail.Load() {
		return "", errors.New("topic unavailable")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.msgs == nil {
		f.msgs = map[string][]string{}
	}
	f.msgs[arn] = append(f.msgs[arn], msg)
	return "id", nil
}

func (f *fakeTopics) get(arn string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.msgs[arn]...)
}

type fakeLogs struct {
	mu   sync.Mutex
	msgs []string
}

func (f *fakeLogs) PutEvent(_ context.Context, acct, region, group, stream string, _ time.Time, msg string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.msgs = append(f.msgs, acct+"/"+region+"/"+group+": "+msg)
	return nil
}

// chanSource is a journal fed by the test.
type chanSource struct {
	ch  chan []byte
	seq atomic.Uint64
}

func (c *chanSource) Next(ctx context.Context) (uint64, []byte, error) {
	select {
	case b := <-c.ch:
		return c.seq.Add(1), b, nil
	case <-ctx.Done():
		return 0, nil, ctx.Err()
	}
}

type env struct {
	t      *testing.T
	svc    *Service
	store  *kv.Store
	http   *httptest.Server
	topics *fakeTopics
	logs   *fakeLogs
	src    *chanSource
	cancel context.CancelFunc
	done   chan struct{}
}

func newEnv(t *testing.T) *env {
	t.Helper()
	store, err := kv.Open(filepath.Join(t.TempDir(), "meta"), nil)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, store: store, topics: &fakeTopics{}, logs: &fakeLogs{}, src: &chanSource{ch: make(chan []byte, 100)}}
	box, err := secret.New([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	e.svc, err = New(Options{Store: store, Box: box, Topics: e.topics, LogGroups: e.logs, RetryMin: 10 * time.Millisecond, RetryMax: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	srv := server.New(server.Config{Regions: []string{"us-east-1", "us-west-2"}, Authenticator: fakeAuth{}, Authorizer: allowAll{}, Recorder: nopRecorder{}})
	srv.Register(e.svc.Service())
	e.http = httptest.NewServer(srv)
	ctx, cancel := context.WithCancel(context.Background())
	e.cancel, e.done = cancel, make(chan struct{})
	go func() { defer close(e.done); _ = e.svc.Run(ctx, e.src) }()
	t.Cleanup(func() {
		e.cancel()
		<-e.done
		e.http.Close()
		store.Close()
	})
	return e
}

func (e *env) clientFor(key, secret, region string) *eventbridge.Client {
	return eventbridge.NewFromConfig(aws.Config{
		Region: region, Credentials: credentials.NewStaticCredentialsProvider(key, secret, ""),
		BaseEndpoint: aws.String(e.http.URL), RetryMaxAttempts: 1,
	})
}

func (e *env) client() *eventbridge.Client { return e.clientFor(keyA, secretA, "us-east-1") }

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code {
		t.Fatalf("err = %v, want %s", err, code)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestRulesCRUD(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.client()
	buses, err := c.ListEventBuses(ctx, &eventbridge.ListEventBusesInput{})
	if err != nil || len(buses.EventBuses) != 1 || *buses.EventBuses[0].Name != "default" {
		t.Fatalf("ListEventBuses = %+v, %v", buses, err)
	}
	out, err := c.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("r1"), EventPattern: aws.String(`{"source":["aws.iam"]}`)})
	if err != nil {
		t.Fatal(err)
	}
	if *out.RuleArn != "arn:aws:events:us-east-1:"+acctA+":rule/r1" {
		t.Errorf("RuleArn = %s", *out.RuleArn)
	}
	d, err := c.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String("r1")})
	if err != nil || d.State != types.RuleStateEnabled || *d.EventBusName != "default" {
		t.Fatalf("DescribeRule = %+v, %v", d, err)
	}
	_, err = c.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("bad"), EventPattern: aws.String(`{"source":"aws.iam"}`)})
	wantCode(t, err, "InvalidEventPatternException")
	_, err = c.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("bad name!"), EventPattern: aws.String(`{}`)})
	wantCode(t, err, "ValidationException")
	_, err = c.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String("nope")})
	wantCode(t, err, "ResourceNotFoundException")
	if _, err := c.DisableRule(ctx, &eventbridge.DisableRuleInput{Name: aws.String("r1")}); err != nil {
		t.Fatal(err)
	}
	rules, err := c.ListRules(ctx, &eventbridge.ListRulesInput{})
	if err != nil || len(rules.Rules) != 1 || rules.Rules[0].State != types.RuleStateDisabled {
		t.Fatalf("ListRules = %+v, %v", rules, err)
	}
	// Account and region isolation.
	other, _ := e.clientFor(keyB, secretB, "us-east-1").ListRules(ctx, &eventbridge.ListRulesInput{})
	west, _ := e.clientFor(keyA, secretA, "us-west-2").ListRules(ctx, &eventbridge.ListRulesInput{})
	if len(other.Rules) != 0 || len(west.Rules) != 0 {
		t.Errorf("rules leak across accounts or regions: %d, %d", len(other.Rules), len(west.Rules))
	}
	pt, err := c.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("r1"), Targets: []types.Target{
		{Id: aws.String("t1"), Arn: aws.String("arn:aws:sns:us-east-1:" + acctA + ":topic")},
		{Id: aws.String("t2"), Arn: aws.String("arn:aws:lambda:us-east-1:" + acctA + ":function:f")},
		{Id: aws.String("t3"), Arn: aws.String("arn:aws:sns:us-east-1:" + acctB + ":their-topic")},
		{Id: aws.String("t4"), Arn: aws.String("arn:aws:events:us-east-1:" + acctA + ":event-bus/default")},
	}})
	if err != nil || pt.FailedEntryCount != 3 || *pt.FailedEntries[0].TargetId != "t2" || *pt.FailedEntries[1].TargetId != "t3" {
		t.Fatalf("PutTargets = %+v, %v", pt, err)
	}
	_, err = c.DeleteRule(ctx, &eventbridge.DeleteRuleInput{Name: aws.String("r1")})
	wantCode(t, err, "ValidationException")
	lt, err := c.ListTargetsByRule(ctx, &eventbridge.ListTargetsByRuleInput{Rule: aws.String("r1")})
	if err != nil || len(lt.Targets) != 1 {
		t.Fatalf("ListTargetsByRule = %+v, %v", lt, err)
	}
	if _, err := c.RemoveTargets(ctx, &eventbridge.RemoveTargetsInput{Rule: aws.String("r1"), Ids: []string{"t1"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteRule(ctx, &eventbridge.DeleteRuleInput{Name: aws.String("r1")}); err != nil {
		t.Fatal(err)
	}
	// Custom buses.
	cb, err := c.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String("custom")})
	if err != nil || *cb.EventBusArn != "arn:aws:events:us-east-1:"+acctA+":event-bus/custom" {
		t.Fatalf("CreateEventBus = %+v, %v", cb, err)
	}
	_, err = c.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String("custom")})
	wantCode(t, err, "ResourceAlreadyExistsException")
	_, err = c.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("r"), EventBusName: aws.String("missing"), EventPattern: aws.String(`{}`)})
	wantCode(t, err, "ResourceNotFoundException")
	if _, err := c.DeleteEventBus(ctx, &eventbridge.DeleteEventBusInput{Name: aws.String("custom")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateArchive(ctx, &eventbridge.CreateArchiveInput{ArchiveName: aws.String("a"), EventSourceArn: cb.EventBusArn})
	wantCode(t, err, "UnsupportedOperationException")
}

func TestTestEventPattern(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ev := `{"id":"1","account":"1","source":"aws.ec2","time":"2020-01-01T00:00:00Z","region":"us-east-1","resources":[],"detail-type":"x","detail":{"a":5}}`
	out, err := e.client().TestEventPattern(ctx, &eventbridge.TestEventPatternInput{Event: aws.String(ev), EventPattern: aws.String(`{"detail":{"a":[{"numeric":[">",1]}]}}`)})
	if err != nil || !out.Result {
		t.Fatalf("TestEventPattern = %+v, %v", out, err)
	}
	_, err = e.client().TestEventPattern(ctx, &eventbridge.TestEventPatternInput{Event: aws.String(ev), EventPattern: aws.String(`{"a":[{"bogus":1}]}`)})
	wantCode(t, err, "InvalidEventPatternException")
	_, err = e.client().TestEventPattern(ctx, &eventbridge.TestEventPatternInput{Event: aws.String(`{"source":"x"}`), EventPattern: aws.String(`{}`)})
	wantCode(t, err, "ValidationException")
}

// TestDeliveryTargets: PutEvents and journal records reach SNS, log group and API
// destination targets, with input transformation, API-key auth and retries.
func TestDeliveryTargets(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.client()
	var hits atomic.Int32
	var mu sync.Mutex
	var bodies []string
	var auth []string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable) // first call fails: retried
			return
		}
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, string(b))
		auth = append(auth, r.Header.Get("X-Api-Key"))
		mu.Unlock()
	}))
	defer hook.Close()
	conn, err := c.CreateConnection(ctx, &eventbridge.CreateConnectionInput{Name: aws.String("hook"), AuthorizationType: types.ConnectionAuthorizationTypeApiKey,
		AuthParameters: &types.CreateConnectionAuthRequestParameters{ApiKeyAuthParameters: &types.CreateConnectionApiKeyAuthRequestParameters{ApiKeyName: aws.String("X-Api-Key"), ApiKeyValue: aws.String("s3cret")}}})
	if err != nil {
		t.Fatal(err)
	}
	dest, err := c.CreateApiDestination(ctx, &eventbridge.CreateApiDestinationInput{Name: aws.String("hook"), ConnectionArn: conn.ConnectionArn,
		InvocationEndpoint: aws.String(hook.URL + "/in"), HttpMethod: types.ApiDestinationHttpMethodPost})
	if err != nil {
		t.Fatal(err)
	}
	_ = e.store.Scan(storePrefix, func(k string, v []byte) error {
		if strings.Contains(string(v), "s3cret") {
			t.Errorf("connection secret stored in the clear under %s", k)
		}
		return nil
	})
	dc, err := c.DescribeConnection(ctx, &eventbridge.DescribeConnectionInput{Name: aws.String("hook")})
	if err != nil || strings.Contains(jsonOf(dc), "s3cret") {
		t.Fatalf("DescribeConnection = %s, %v", jsonOf(dc), err)
	}
	topic := "arn:aws:sns:us-east-1:" + acctA + ":alerts"
	if _, err := c.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("users"), EventPattern: aws.String(`{"source":["aws.iam"],"detail":{"eventName":["CreateUser"]}}`)}); err != nil {
		t.Fatal(err)
	}
	pt, err := c.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("users"), Targets: []types.Target{
		{Id: aws.String("sns"), Arn: aws.String(topic)},
		{Id: aws.String("hook"), Arn: dest.ApiDestinationArn, InputTransformer: &types.InputTransformer{
			InputPathsMap: map[string]string{"user": "$.detail.requestParameters.userName", "src": "$.source"},
			InputTemplate: aws.String(`{"text":"user <user> created via <src>","who":<user>,"rule":"<aws.events.rule-name>"}`)}},
		{Id: aws.String("logs"), Arn: aws.String("arn:aws:logs:us-east-1:" + acctA + ":log-group:/events/users:*"), InputPath: aws.String("$.detail.eventName")},
	}})
	if err != nil || pt.FailedEntryCount != 0 {
		t.Fatalf("PutTargets = %+v, %v", pt, err)
	}
	rec := func(name string, readOnly bool) []byte {
		return []byte(`{"eventVersion":"1.11","eventTime":"2026-01-01T00:00:00Z","eventSource":"iam.amazonaws.com","eventName":"` + name +
			`","awsRegion":"us-east-1","readOnly":` + map[bool]string{true: "true", false: "false"}[readOnly] +
			`,"requestParameters":{"userName":"alice"},"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"` + acctA + `","eventCategory":"Management"}`)
	}
	e.src.ch <- rec("ListUsers", true)
	e.src.ch <- rec("CreateUser", false)
	e.src.ch <- rec("DeleteUser", false)
	waitFor(t, "SNS delivery", func() bool { return len(e.topics.get(topic)) == 1 })
	waitFor(t, "HTTP delivery", func() bool { mu.Lock(); defer mu.Unlock(); return len(bodies) == 1 })
	var env map[string]any
	if err := json.Unmarshal([]byte(e.topics.get(topic)[0]), &env); err != nil {
		t.Fatal(err)
	}
	if env["detail-type"] != "AWS API Call via CloudTrail" || env["source"] != "aws.iam" || env["account"] != acctA || env["version"] != "0" {
		t.Errorf("envelope = %v", env)
	}
	mu.Lock()
	if bodies[0] != `{"text":"user alice created via aws.iam","who":"alice","rule":"users"}` || auth[0] != "s3cret" {
		t.Errorf("HTTP body %s auth %q", bodies[0], auth[0])
	}
	mu.Unlock()
	waitFor(t, "log delivery", func() bool { e.logs.mu.Lock(); defer e.logs.mu.Unlock(); return len(e.logs.msgs) == 1 })
	if got := e.logs.msgs[0]; got != acctA+`/us-east-1//events/users: "CreateUser"` {
		t.Errorf("log message %q", got)
	}

	// Read-only events reach only ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS rules.
	if _, err := c.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("reads"), State: types.RuleStateEnabledWithAllCloudtrailManagementEvents,
		EventPattern: aws.String(`{"detail":{"eventName":[{"prefix":"List"}]}}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("reads-plain"), EventPattern: aws.String(`{"detail":{"eventName":[{"prefix":"List"}]}}`)}); err != nil {
		t.Fatal(err)
	}
	readTopic, plainTopic := topic+"-reads", topic+"-plain"
	if _, err := c.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("reads"), Targets: []types.Target{{Id: aws.String("a"), Arn: aws.String(readTopic)}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("reads-plain"), Targets: []types.Target{{Id: aws.String("a"), Arn: aws.String(plainTopic)}}}); err != nil {
		t.Fatal(err)
	}
	e.src.ch <- rec("ListUsers", true)
	waitFor(t, "read-only delivery", func() bool { return len(e.topics.get(readTopic)) == 1 })
	time.Sleep(50 * time.Millisecond)
	if n := len(e.topics.get(plainTopic)); n != 0 {
		t.Errorf("plain ENABLED rule received %d read-only events", n)
	}

	// PutEvents.
	if _, err := c.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("custom"), EventPattern: aws.String(`{"source":["my.app"]}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("custom"), Targets: []types.Target{{Id: aws.String("a"), Arn: aws.String(topic + "-custom")}}}); err != nil {
		t.Fatal(err)
	}
	pe, err := c.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []types.PutEventsRequestEntry{
		{Source: aws.String("my.app"), DetailType: aws.String("thing"), Detail: aws.String(`{"k":1}`)},
		{Source: aws.String("my.app"), DetailType: aws.String("thing"), Detail: aws.String(`not json`)},
		{Source: aws.String("my.app"), DetailType: aws.String("thing")},
	}})
	if err != nil || pe.FailedEntryCount != 2 || pe.Entries[0].EventId == nil || *pe.Entries[1].ErrorCode != "MalformedDetail" {
		t.Fatalf("PutEvents = %s, %v", jsonOf(pe), err)
	}
	waitFor(t, "PutEvents delivery", func() bool { return len(e.topics.get(topic+"-custom")) == 1 })
}

// TestRetryAndDeadLetter: a failing target is retried, then its dead-letter target receives
// the event; with no dead-letter target the delivery is kept under events/dead/.
func TestRetryAndDeadLetter(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.client()
	if _, err := c.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("r"), EventPattern: aws.String(`{"source":["my.app"]}`)}); err != nil {
		t.Fatal(err)
	}
	gone := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusInternalServerError) }))
	defer gone.Close()
	conn, _ := c.CreateConnection(ctx, &eventbridge.CreateConnectionInput{Name: aws.String("c"), AuthorizationType: types.ConnectionAuthorizationTypeBasic,
		AuthParameters: &types.CreateConnectionAuthRequestParameters{BasicAuthParameters: &types.CreateConnectionBasicAuthRequestParameters{Username: aws.String("u"), Password: aws.String("p")}}})
	dest, err := c.CreateApiDestination(ctx, &eventbridge.CreateApiDestinationInput{Name: aws.String("d"), ConnectionArn: conn.ConnectionArn,
		InvocationEndpoint: aws.String(gone.URL), HttpMethod: types.ApiDestinationHttpMethodPost})
	if err != nil {
		t.Fatal(err)
	}
	dlq := "arn:aws:sns:us-east-1:" + acctA + ":dlq"
	if _, err := c.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("r"), Targets: []types.Target{
		{Id: aws.String("with-dlq"), Arn: dest.ApiDestinationArn, RetryPolicy: &types.RetryPolicy{MaximumRetryAttempts: aws.Int32(2)}, DeadLetterConfig: &types.DeadLetterConfig{Arn: aws.String(dlq)}},
		{Id: aws.String("no-dlq"), Arn: dest.ApiDestinationArn, RetryPolicy: &types.RetryPolicy{MaximumRetryAttempts: aws.Int32(1)}},
	}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []types.PutEventsRequestEntry{{Source: aws.String("my.app"), DetailType: aws.String("x"), Detail: aws.String(`{}`)}}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "dead-letter delivery", func() bool { return len(e.topics.get(dlq)) == 1 })
	waitFor(t, "kept dead letter", func() bool { n, _ := e.svc.DeadLetters(); return n == 1 })
	waitFor(t, "empty queue", func() bool { return e.svc.Pending() == 0 })
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
