package history

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"

	"github.com/opentrail/opentrail"
	"github.com/opentrail/opentrail/internal/awsproto"
	"github.com/opentrail/opentrail/internal/server"
)

const (
	apiAccount = "123456789012"
	apiKeyID   = "AKIAHISTORYTEST0001"
	apiSecret  = "history-test-secret-0123456789abcdefgh"
)

// rootAuth knows one access key: the root user of apiAccount.
type rootAuth struct{}

func (rootAuth) LookupKey(id string) (server.Credentials, bool) {
	if id != apiKeyID {
		return server.Credentials{}, false
	}
	return server.Credentials{Secret: apiSecret, Caller: opentrail.Caller{
		Type: opentrail.IdentityRoot, AccountID: apiAccount, ARN: "arn:aws:iam::" + apiAccount + ":root",
		PrincipalID: apiAccount, AccessKeyID: apiKeyID,
	}}, true
}

// indexRecorder indexes every call's record straight into a History, as the journal
// consumer would.
type indexRecorder struct {
	mu  sync.Mutex
	seq uint64
	h   *History
}

func (r *indexRecorder) Record(ctx context.Context, e *opentrail.Event) error {
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seq++
	return r.h.Index(ctx, r.seq, b)
}

func newAPIServer(t *testing.T, h *History, now func() time.Time) *cloudtrail.Client {
	t.Helper()
	// botocore sends the long X-Amz-Target prefix, aws-sdk-go-v2 the short one.
	var svcs []*server.Service
	for _, prefix := range []string{"com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101", "CloudTrail_20131101"} {
		svc := &server.Service{
			Name:         "cloudtrail",
			EventSource:  "cloudtrail.amazonaws.com",
			TargetPrefix: prefix,
			Wire:         awsproto.Wire{Protocol: awsproto.JSON, ContentType: awsproto.ContentTypeJSON11, MessageKey: "Message"},
		}
		svc.Add(h.Operations()...)
		svcs = append(svcs, svc)
	}
	srv := server.New(server.Config{
		Regions:       []string{"us-east-1", "eu-west-1"},
		Authenticator: rootAuth{},
		Recorder:      &indexRecorder{h: h, seq: 1 << 32},
		Now:           now,
	})
	srv.Register(svcs...)
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return cloudtrail.NewFromConfig(aws.Config{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider(apiKeyID, apiSecret, ""),
		BaseEndpoint:     aws.String(ts.URL),
		RetryMaxAttempts: 1,
	})
}

func TestLookupEventsWithSDK(t *testing.T) {
	// The server signs and checks signatures against the real clock, so the data is placed
	// around the real now.
	now := time.Now().UTC().Truncate(time.Second)
	h := openTest(t, t.TempDir(), Options{})
	ctx := context.Background()
	for i := range 120 {
		r := rec{acct: apiAccount, region: "us-east-1", time: now.Add(-time.Duration(i) * time.Minute), id: seqID(i), name: "CreateUser",
			source: "iam.amazonaws.com", identity: iamUser(apiAccount, "alice", "AKIAALICE"), request: `{"userName":"bob"}`}
		if i%2 == 1 {
			r.name, r.readOnly, r.request = "ListUsers", true, ""
		}
		if err := h.Index(ctx, uint64(i+1), r.json()); err != nil {
			t.Fatal(err)
		}
	}
	// Another account's events and another region's never show.
	other := rec{acct: "999999999999", region: "us-east-1", time: now, id: "other", name: "CreateUser", source: "iam.amazonaws.com", identity: iamUser("999999999999", "alice", "AKIAALICE")}
	eu := rec{acct: apiAccount, region: "eu-west-1", time: now, id: "eu", name: "CreateUser", source: "iam.amazonaws.com", identity: iamUser(apiAccount, "alice", "AKIAALICE")}
	if err := h.IndexBatch(ctx, []Record{{1000, other.json()}, {1001, eu.json()}}); err != nil {
		t.Fatal(err)
	}

	client := newAPIServer(t, h, nil)

	// Paginate by attribute with the SDK paginator.
	in := &cloudtrail.LookupEventsInput{
		LookupAttributes: []types.LookupAttribute{{AttributeKey: types.LookupAttributeKeyEventName, AttributeValue: aws.String("CreateUser")}},
		StartTime:        aws.Time(now.Add(-3 * time.Hour)),
		MaxResults:       aws.Int32(7),
	}
	pg := cloudtrail.NewLookupEventsPaginator(client, in)
	var got []types.Event
	pages := 0
	for pg.HasMorePages() {
		out, err := pg.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		got = append(got, out.Events...)
	}
	if len(got) != 60 || pages != 9 {
		t.Fatalf("%d events in %d pages, want 60 in 9", len(got), pages)
	}
	first := got[0]
	if aws.ToString(first.EventId) != seqID(0) || aws.ToString(first.Username) != "alice" || aws.ToString(first.ReadOnly) != "false" ||
		aws.ToString(first.AccessKeyId) != "AKIAALICE" || aws.ToString(first.EventSource) != "iam.amazonaws.com" ||
		first.EventTime == nil || !first.EventTime.Equal(now) {
		t.Fatalf("first event: %+v", first)
	}
	if len(first.Resources) != 1 || aws.ToString(first.Resources[0].ResourceType) != "AWS::IAM::User" || aws.ToString(first.Resources[0].ResourceName) != "bob" {
		t.Fatalf("resources: %+v", first.Resources)
	}
	var record map[string]any
	if err := json.Unmarshal([]byte(aws.ToString(first.CloudTrailEvent)), &record); err != nil || record["eventID"] != seqID(0) {
		t.Fatalf("CloudTrailEvent: %v %v", record, err)
	}
	seen := map[string]bool{}
	for _, e := range got {
		if seen[*e.EventId] || *e.EventName != "CreateUser" {
			t.Fatalf("duplicate or wrong event %s %s", *e.EventId, *e.EventName)
		}
		seen[*e.EventId] = true
	}

	// Time range only, fractional bounds.
	out, err := client.LookupEvents(ctx, &cloudtrail.LookupEventsInput{
		StartTime: aws.Time(now.Add(-10*time.Minute - 500*time.Millisecond)),
		EndTime:   aws.Time(now.Add(-5*time.Minute + 500*time.Millisecond)),
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Events) != 6 || out.NextToken != nil {
		t.Fatalf("time range: %d events, token %v", len(out.Events), out.NextToken)
	}

	// Errors arrive as the model's exceptions.
	for _, c := range []struct {
		in   *cloudtrail.LookupEventsInput
		want any
	}{
		{&cloudtrail.LookupEventsInput{LookupAttributes: []types.LookupAttribute{
			{AttributeKey: types.LookupAttributeKeyUsername, AttributeValue: aws.String("a")},
			{AttributeKey: types.LookupAttributeKeyEventName, AttributeValue: aws.String("b")}}}, &types.InvalidLookupAttributesException{}},
		{&cloudtrail.LookupEventsInput{LookupAttributes: []types.LookupAttribute{{AttributeKey: "Nope", AttributeValue: aws.String("a")}}}, &types.InvalidLookupAttributesException{}},
		{&cloudtrail.LookupEventsInput{LookupAttributes: []types.LookupAttribute{{AttributeKey: types.LookupAttributeKeyUsername, AttributeValue: aws.String(strings.Repeat("x", 2001))}}}, &types.InvalidLookupAttributesException{}},
		{&cloudtrail.LookupEventsInput{MaxResults: aws.Int32(51)}, &types.InvalidMaxResultsException{}},
		{&cloudtrail.LookupEventsInput{MaxResults: aws.Int32(0)}, &types.InvalidMaxResultsException{}},
		{&cloudtrail.LookupEventsInput{StartTime: aws.Time(now), EndTime: aws.Time(now.Add(-time.Hour))}, &types.InvalidTimeRangeException{}},
		{&cloudtrail.LookupEventsInput{NextToken: aws.String("bogus")}, &types.InvalidNextTokenException{}},
		{&cloudtrail.LookupEventsInput{EventCategory: "Insight"}, &types.InvalidEventCategoryException{}},
	} {
		_, err := client.LookupEvents(ctx, c.in)
		var ok bool
		switch c.want.(type) {
		case *types.InvalidLookupAttributesException:
			var e *types.InvalidLookupAttributesException
			ok = errors.As(err, &e)
		case *types.InvalidMaxResultsException:
			var e *types.InvalidMaxResultsException
			ok = errors.As(err, &e)
		case *types.InvalidTimeRangeException:
			var e *types.InvalidTimeRangeException
			ok = errors.As(err, &e)
		case *types.InvalidNextTokenException:
			var e *types.InvalidNextTokenException
			ok = errors.As(err, &e)
		case *types.InvalidEventCategoryException:
			var e *types.InvalidEventCategoryException
			ok = errors.As(err, &e)
		}
		if !ok {
			t.Errorf("%+v: got %v, want %T", c.in, err, c.want)
		}
	}

	// A token bound to one attribute is refused with another.
	out, err = client.LookupEvents(ctx, &cloudtrail.LookupEventsInput{
		LookupAttributes: []types.LookupAttribute{{AttributeKey: types.LookupAttributeKeyUsername, AttributeValue: aws.String("alice")}}, MaxResults: aws.Int32(1)})
	if err != nil || out.NextToken == nil {
		t.Fatalf("%v %v", out, err)
	}
	_, err = client.LookupEvents(ctx, &cloudtrail.LookupEventsInput{
		LookupAttributes: []types.LookupAttribute{{AttributeKey: types.LookupAttributeKeyUsername, AttributeValue: aws.String("bob")}}, NextToken: out.NextToken})
	var tokErr *types.InvalidNextTokenException
	if !errors.As(err, &tokErr) {
		t.Fatalf("mismatched token: %v", err)
	}

	// Insights: none yet.
	out, err = client.LookupEvents(ctx, &cloudtrail.LookupEventsInput{EventCategory: types.EventCategoryInsight})
	if err != nil || len(out.Events) != 0 {
		t.Fatalf("insight: %v %v", out, err)
	}

	// The LookupEvents calls themselves are management events of the caller, user "root".
	out, err = client.LookupEvents(ctx, &cloudtrail.LookupEventsInput{
		LookupAttributes: []types.LookupAttribute{{AttributeKey: types.LookupAttributeKeyEventName, AttributeValue: aws.String("LookupEvents")}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Events) < 10 || aws.ToString(out.Events[0].Username) != "root" || aws.ToString(out.Events[0].ReadOnly) != "true" ||
		aws.ToString(out.Events[0].EventSource) != "cloudtrail.amazonaws.com" {
		t.Fatalf("own calls: %d events, first %+v", len(out.Events), out.Events[0])
	}
	// Their records show which attribute was asked for; the failed ones carry the error code.
	failed := 0
	for _, e := range out.Events {
		var r struct {
			ErrorCode         string          `json:"errorCode"`
			RequestParameters json.RawMessage `json:"requestParameters"`
		}
		if err := json.Unmarshal([]byte(aws.ToString(e.CloudTrailEvent)), &r); err != nil {
			t.Fatal(err)
		}
		if r.ErrorCode != "" {
			failed++
		}
	}
	if failed < 8 {
		t.Fatalf("%d failed calls recorded, want at least 8", failed)
	}

	// Another region reads its own Event History.
	euClient := cloudtrail.NewFromConfig(aws.Config{
		Region:           "eu-west-1",
		Credentials:      credentials.NewStaticCredentialsProvider(apiKeyID, apiSecret, ""),
		BaseEndpoint:     client.Options().BaseEndpoint,
		RetryMaxAttempts: 1,
	})
	out, err = euClient.LookupEvents(ctx, &cloudtrail.LookupEventsInput{
		LookupAttributes: []types.LookupAttribute{{AttributeKey: types.LookupAttributeKeyEventSource, AttributeValue: aws.String("iam.amazonaws.com")}}})
	if err != nil || len(out.Events) != 1 || aws.ToString(out.Events[0].EventId) != "eu" {
		t.Fatalf("eu-west-1: %+v %v", out, err)
	}
}
