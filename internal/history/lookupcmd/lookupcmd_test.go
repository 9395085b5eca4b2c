package lookupcmd

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opentrail/opentrail"
	"github.com/opentrail/opentrail/internal/awsproto"
	"github.com/opentrail/opentrail/internal/history"
	"github.com/opentrail/opentrail/internal/server"
)

const (
	acct   = "123456789012"
	keyID  = "AKIALOOKUPCMDTEST001"
	secret = "lookupcmd-test-secret-0123456789abcdef"
)

type auth struct{}

func (auth) LookupKey(id string) (server.Credentials, bool) {
	if id != keyID {
		return server.Credentials{}, false
	}
	return server.Credentials{Secret: secret, Caller: opentrail.Caller{Type: opentrail.IdentityRoot, AccountID: acct,
		ARN: "arn:aws:iam::" + acct + ":root", PrincipalID: acct, AccessKeyID: keyID}}, true
}

// start runs a server with n events of user alice (every third failed) and returns its URL.
func start(t *testing.T, n int) string {
	t.Helper()
	h, err := history.Open(t.TempDir(), history.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Close() })
	now := time.Now().UTC().Truncate(time.Second)
	for i := range n {
		e := opentrail.Event{
			EventVersion: "1.11", EventTime: now.Add(-time.Duration(i) * time.Second).Format(opentrail.TimeFormat),
			UserIdentity: &opentrail.UserIdentity{Type: "IAMUser", AccountID: acct, UserName: "alice", AccessKeyID: "AKIAALICE"},
			EventSource:  "iam.amazonaws.com", EventName: "CreateUser", AWSRegion: "us-east-1",
			RequestParameters: json.RawMessage(`{"userName":"u` + fmt.Sprint(i) + `"}`), ResponseElements: json.RawMessage("null"),
			EventID: fmt.Sprintf("ev-%04d", i), EventType: "AwsApiCall", ManagementEvent: true, RecipientAccountID: acct, EventCategory: "Management",
		}
		if i%3 == 2 {
			e.ErrorCode = "EntityAlreadyExists"
		}
		b, _ := json.Marshal(e)
		if err := h.Index(context.Background(), uint64(i+1), b); err != nil {
			t.Fatal(err)
		}
	}
	svc := &server.Service{Name: "cloudtrail", EventSource: "cloudtrail.amazonaws.com", TargetPrefix: "CloudTrail_20131101",
		Wire: awsproto.Wire{Protocol: awsproto.JSON, ContentType: awsproto.ContentTypeJSON11, MessageKey: "Message"}}
	svc.Add(h.Operations()...)
	srv := server.New(server.Config{Regions: []string{"us-east-1"}, Authenticator: auth{}})
	srv.Register(svc)
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)

	// Isolate the AWS configuration: credentials from the environment only.
	dir := t.TempDir()
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_ACCESS_KEY_ID", keyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", secret)
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("OPENTRAIL_ENDPOINT", ts.URL)
	return ts.URL
}

func TestJSONOutputPaginates(t *testing.T) {
	start(t, 130)
	var out, errOut bytes.Buffer
	err := Run(context.Background(), []string{"--attribute", "username=alice", "--max", "120", "--page-size", "7", "--output", "json"}, &out, &errOut)
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut.String())
	}
	var got struct {
		Events []struct {
			EventId, EventName, Username, EventTime, CloudTrailEvent string
			Resources                                                []struct{ ResourceType, ResourceName string }
		}
		NextToken string
	}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if len(got.Events) != 120 || got.NextToken == "" {
		t.Fatalf("%d events, token %q", len(got.Events), got.NextToken)
	}
	seen := map[string]bool{}
	for i, e := range got.Events {
		if e.EventId != fmt.Sprintf("ev-%04d", i) || seen[e.EventId] {
			t.Fatalf("event %d is %s", i, e.EventId)
		}
		seen[e.EventId] = true
		if _, err := time.Parse(time.RFC3339, e.EventTime); err != nil || e.Username != "alice" || e.CloudTrailEvent == "" {
			t.Fatalf("event %d: %+v", i, e)
		}
		if len(e.Resources) != 1 || e.Resources[0].ResourceType != "AWS::IAM::User" {
			t.Fatalf("resources %+v", e.Resources)
		}
	}
	// 18 pages: progress was shown.
	if !strings.Contains(errOut.String(), "events in 10 pages") {
		t.Fatalf("no progress: %q", errOut.String())
	}
	// Continue where it stopped.
	out.Reset()
	if err := Run(context.Background(), []string{"--attribute", "Username=alice", "--max", "0", "--output", "json", "--starting-token", got.NextToken}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	var rest struct{ Events []struct{ EventId string } }
	if err := json.Unmarshal(out.Bytes(), &rest); err != nil || len(rest.Events) != 10 || rest.Events[0].EventId != "ev-0120" {
		t.Fatalf("rest: %+v %v", rest, err)
	}
}

func TestTableOutput(t *testing.T) {
	start(t, 5)
	var out, errOut bytes.Buffer
	if err := Run(context.Background(), []string{"--since", "1h", "--max", "3"}, &out, &errOut); err != nil {
		t.Fatalf("%v\n%s", err, errOut.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "TIME") || !strings.Contains(lines[0], "ERROR") {
		t.Fatalf("table:\n%s", out.String())
	}
	if !strings.Contains(lines[1], "CreateUser") || !strings.Contains(lines[1], "alice") || !strings.Contains(lines[1], "ev-0000") {
		t.Fatalf("row: %q", lines[1])
	}
	if !strings.Contains(lines[3], "EntityAlreadyExists") {
		t.Fatalf("error code missing: %q", lines[3])
	}
	if !strings.Contains(errOut.String(), "--starting-token") {
		t.Fatalf("no hint about more events: %q", errOut.String())
	}
}

func TestErrors(t *testing.T) {
	start(t, 1)
	for _, args := range [][]string{
		{"--attribute", "Nope=x"},
		{"--attribute", "Username"},
		{"--output", "yaml"},
		{"--since", "1h", "--start-time", "2026-01-01T00:00:00Z"},
		{"--start-time", "yesterday"},
		{"--start-time", "2026-02-01T00:00:00Z", "--end-time", "2026-01-01T00:00:00Z"},
		{"--page-size", "51"},
		{"extra"},
	} {
		var out, errOut bytes.Buffer
		if err := Run(context.Background(), args, &out, &errOut); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
	// A server-side error is reported with its code.
	var out, errOut bytes.Buffer
	err := Run(context.Background(), []string{"--starting-token", "forged"}, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "InvalidNextTokenException") {
		t.Fatalf("forged token: %v", err)
	}
	// Without credentials the message says what to do.
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	err = Run(context.Background(), nil, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "AWS_ACCESS_KEY_ID") {
		t.Fatalf("no credentials: %v", err)
	}
}
