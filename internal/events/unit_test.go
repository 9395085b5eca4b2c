package events

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/opentrail/opentrail/internal/kv"
)

const testEvent = `{"version":"0","id":"e1","detail-type":"AWS API Call via CloudTrail","source":"aws.iam","account":"1",` +
	`"time":"2026-01-01T00:00:00Z","region":"us-east-1","resources":[],"detail":{"eventName":"CreateUser",` +
	`"requestParameters":{"userName":"al\"ice","tags":[{"k":"a"}]},"n":5}}`

func TestInput(t *testing.T) {
	tests := []struct {
		target Target
		want   string
	}{
		{Target{}, testEvent},
		{Target{Input: `{"fixed":true}`}, `{"fixed":true}`},
		{Target{InputPath: "$.detail.requestParameters.userName"}, `"al\"ice"`},
		{Target{InputPath: "$.detail.requestParameters.tags[0]"}, `{"k":"a"}`},
		{Target{InputPath: "$['detail'].n"}, `5`},
		{Target{InputPath: "$.missing"}, ``},
		{Target{InputTransformer: &InputTransformer{InputPathsMap: map[string]string{"u": "$.detail.requestParameters.userName", "n": "$.detail.n", "x": "$.nope"},
			InputTemplate: `{"msg":"<u> has <n> (<x>)","u":<u>,"n":<n>,"x":<x>,"r":"<aws.events.rule-name>"}`}},
			`{"msg":"al\"ice has 5 ()","u":"al\"ice","n":5,"x":null,"r":"rule"}`},
		{Target{InputTransformer: &InputTransformer{InputPathsMap: map[string]string{"u": "$.detail.requestParameters.userName"},
			InputTemplate: `"user <u> was created"`}}, `"user al\"ice was created"`},
		{Target{InputTransformer: &InputTransformer{InputTemplate: `{"e":<aws.events.event>}`}}, `{"e":` + testEvent + `}`},
		{Target{InputTransformer: &InputTransformer{InputTemplate: `{"lt":"<notakey>"}`}}, `{"lt":"<notakey>"}`},
	}
	s := &Service{}
	for _, tt := range tests {
		d := &delivery{Event: testEvent, Target: tt.target, RuleName: "rule", RuleArn: "arn"}
		got, err := s.input(d)
		if err != nil || got != tt.want {
			t.Errorf("%+v: input = %s, %v; want %s", tt.target, got, err, tt.want)
		}
	}
	for _, bad := range []string{"detail", "$.", "$[x]", "$.a[", "$.a..b"} {
		if _, err := parsePath(bad); err == nil {
			t.Errorf("parsePath(%q) succeeded", bad)
		}
	}
}

func TestEnvelope(t *testing.T) {
	tests := []struct {
		rec, detailType, source string
		readOnly                bool
	}{
		{`{"eventType":"AwsApiCall","eventSource":"ec2.amazonaws.com","eventName":"DescribeInstances","readOnly":true,"eventTime":"2026-01-01T00:00:00Z","awsRegion":"us-east-1","recipientAccountId":"1"}`, "AWS API Call via CloudTrail", "aws.ec2", true},
		{`{"eventType":"AwsApiCall","eventSource":"sts.amazonaws.com","eventName":"GetSessionToken","readOnly":true}`, "AWS API Call via CloudTrail", "aws.sts", false},
		{`{"eventType":"AwsApiCall","eventSource":"kms.amazonaws.com","eventName":"Decrypt","readOnly":true}`, "AWS API Call via CloudTrail", "aws.kms", false},
		{`{"eventType":"AwsApiCall","eventSource":"s3.amazonaws.com","eventName":"GetObject","readOnly":true,"eventCategory":"Data","managementEvent":false}`, "AWS API Call via CloudTrail", "aws.s3", false},
		{`{"eventType":"AwsConsoleSignIn","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","readOnly":false}`, "AWS Console Sign In via CloudTrail", "aws.signin", false},
		{`{"eventType":"AwsServiceEvent","eventSource":"kms.amazonaws.com","eventName":"RotateKey"}`, "AWS Service Event via CloudTrail", "aws.kms", false},
	}
	for _, tt := range tests {
		env, _, _, ro, err := Envelope([]byte(tt.rec), "id")
		if err != nil {
			t.Fatal(err)
		}
		var e struct {
			DetailType string `json:"detail-type"`
			Source     string `json:"source"`
		}
		if err := jsonUnmarshal(env, &e); err != nil {
			t.Fatalf("%s: %v", env, err)
		}
		if e.DetailType != tt.detailType || e.Source != tt.source || ro != tt.readOnly {
			t.Errorf("%s: %s %s readOnly=%v", tt.rec, e.DetailType, e.Source, ro)
		}
	}
}

// TestQueueSurvivesRestart: a delivery stored but not made is made by the next service.
func TestQueueSurvivesRestart(t *testing.T) {
	store, err := kv.Open(filepath.Join(t.TempDir(), "meta"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	now := time.Now().UTC()
	d := &delivery{ID: "x", Account: "1", Region: "us-east-1", Target: Target{Id: "t", Arn: "arn:aws:sns:us-east-1:1:t"}, Event: `{}`, Created: now, NextAt: now}
	if err := store.Put(queueKey(d.ID), d); err != nil {
		t.Fatal(err)
	}
	topics := &fakeTopics{}
	svc, err := New(Options{Store: store, Topics: topics})
	if err != nil {
		t.Fatal(err)
	}
	if svc.Pending() != 1 {
		t.Fatalf("Pending = %d", svc.Pending())
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); svc.q.run(ctx) }()
	waitFor(t, "delivery", func() bool { return len(topics.get("arn:aws:sns:us-east-1:1:t")) == 1 && svc.Pending() == 0 })
	cancel()
	<-done
	if _, err := store.GetRaw(queueKey("x")); err == nil {
		t.Error("delivered item still stored")
	}
}

func FuzzTransform(f *testing.F) {
	f.Add(`{"a":"<u> <n>","b":<u>}`, "$.detail.n")
	f.Add(`"<aws.events.event.json>\"<u>"`, "$.x[0]")
	f.Fuzz(func(t *testing.T, tpl, path string) {
		d := &delivery{Event: testEvent, Target: Target{InputTransformer: &InputTransformer{InputPathsMap: map[string]string{"u": path, "n": "$.detail.n"}, InputTemplate: tpl}}}
		_, _ = (&Service{}).input(d)
	})
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// TestAPIDestinationRequest: basic auth, the connection's and the target's HTTP parameters,
// path parameters, and no retry of a 400.
func TestAPIDestinationRequest(t *testing.T) {
	var got *http.Request
	var body string
	status := http.StatusOK
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got, body = r, string(b)
		w.WriteHeader(status)
	}))
	defer hook.Close()
	s := &Service{http: hook.Client(), conns: map[resRef]*connection{}, dests: map[resRef]*apiDestination{}}
	conn := &connection{Account: "1", Region: "us-east-1", Name: "c", UUID: "u", AuthorizationType: "BASIC", Username: "user", Password: "pw",
		Headers: map[string]string{"X-Conn": "c"}, Query: map[string]string{"cq": "1"}}
	dest := &apiDestination{Account: "1", Region: "us-east-1", Name: "d", UUID: "v", ConnectionArn: conn.arn(), Endpoint: hook.URL + "/items/*/x", Method: "PUT"}
	s.conns[resRef{"1", "us-east-1", "c"}], s.dests[resRef{"1", "us-east-1", "d"}] = conn, dest
	d := &delivery{Event: `{"a":1}`, Target: Target{Arn: dest.arn(), HttpParameters: &HTTPParameters{
		PathParameterValues: []string{"id 7"}, HeaderParameters: map[string]string{"X-T": "t"}, QueryStringParameters: map[string]string{"tq": "2"}}}}
	if err := s.deliver(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	u, p, ok := got.BasicAuth()
	if !ok || u != "user" || p != "pw" || got.Method != "PUT" || got.URL.Path != "/items/id 7/x" || got.Header.Get("X-Conn") != "c" ||
		got.Header.Get("X-T") != "t" || got.URL.Query().Get("cq") != "1" || got.URL.Query().Get("tq") != "2" || body != `{"a":1}` {
		t.Errorf("request %s %s %v body %s", got.Method, got.URL, got.Header, body)
	}
	status = http.StatusBadRequest
	if err := s.deliver(context.Background(), d); !errors.Is(err, errPermanent) {
		t.Errorf("400: err = %v, want a permanent failure", err)
	}
	status = http.StatusTooManyRequests
	if err := s.deliver(context.Background(), d); err == nil || errors.Is(err, errPermanent) {
		t.Errorf("429: err = %v, want a retryable failure", err)
	}
}

func TestTags(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.client()
	out, err := c.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("r"), EventPattern: aws.String(`{}`), Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("sec")}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.TagResource(ctx, &eventbridge.TagResourceInput{ResourceARN: out.RuleArn, Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("prod")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UntagResource(ctx, &eventbridge.UntagResourceInput{ResourceARN: out.RuleArn, TagKeys: []string{"team"}}); err != nil {
		t.Fatal(err)
	}
	lt, err := c.ListTagsForResource(ctx, &eventbridge.ListTagsForResourceInput{ResourceARN: out.RuleArn})
	if err != nil || len(lt.Tags) != 1 || *lt.Tags[0].Key != "env" {
		t.Fatalf("ListTagsForResource = %s, %v", jsonOf(lt), err)
	}
	busArn := "arn:aws:events:us-east-1:" + acctA + ":event-bus/default"
	if _, err := c.TagResource(ctx, &eventbridge.TagResourceInput{ResourceARN: aws.String(busArn), Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}); err != nil {
		t.Fatal(err)
	}
	lt, err = c.ListTagsForResource(ctx, &eventbridge.ListTagsForResourceInput{ResourceARN: aws.String(busArn)})
	if err != nil || len(lt.Tags) != 1 {
		t.Fatalf("bus tags = %s, %v", jsonOf(lt), err)
	}
	_, err = c.ListTagsForResource(ctx, &eventbridge.ListTagsForResourceInput{ResourceARN: aws.String("arn:aws:events:us-east-1:" + acctA + ":rule/nope")})
	wantCode(t, err, "ResourceNotFoundException")
	_, err = e.clientFor(keyB, secretB, "us-east-1").ListTagsForResource(ctx, &eventbridge.ListTagsForResourceInput{ResourceARN: out.RuleArn})
	wantCode(t, err, "ResourceNotFoundException")
	// Tags and the tagged default bus survive a reload.
	svc2, err := New(Options{Store: e.store})
	if err != nil {
		t.Fatal(err)
	}
	if r := svc2.buses[busRef{acctA, "us-east-1", "r"}]; r != nil {
		t.Error("rule loaded as a bus")
	}
	if b := svc2.buses[busRef{acctA, "us-east-1", DefaultBus}]; b == nil || len(b.Tags) != 1 || len(b.rules["r"].Tags) != 1 {
		t.Errorf("after reload: %+v", b)
	}
}
