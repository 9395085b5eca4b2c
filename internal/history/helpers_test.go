package history

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/opentrail/opentrail"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(t time.Time) *clock { return &clock{t: t} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// testNow is the default "now" of tests.
var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func openTest(t testing.TB, dir string, opts Options) *History {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	h, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Close() })
	return h
}

// rec describes a synthetic record.
type rec struct {
	acct, region string
	time         time.Time
	id           string
	name, source string
	readOnly     bool
	identity     *opentrail.UserIdentity
	resources    []opentrail.Resource
	request      string // requestParameters JSON
	category     string // default Management
	mgmt         *bool
	errorCode    string
}

func (r rec) json() []byte {
	e := opentrail.Event{
		EventVersion:       opentrail.EventVersion,
		UserIdentity:       r.identity,
		EventTime:          r.time.UTC().Format(opentrail.TimeFormat),
		EventSource:        r.source,
		EventName:          r.name,
		AWSRegion:          r.region,
		SourceIPAddress:    "192.0.2.1",
		UserAgent:          "test",
		ErrorCode:          r.errorCode,
		RequestParameters:  json.RawMessage("null"),
		ResponseElements:   json.RawMessage("null"),
		EventID:            r.id,
		ReadOnly:           r.readOnly,
		Resources:          r.resources,
		EventType:          opentrail.EventTypeAPICall,
		ManagementEvent:    true,
		RecipientAccountID: r.acct,
		EventCategory:      opentrail.CategoryManagement,
	}
	if r.request != "" {
		e.RequestParameters = json.RawMessage(r.request)
	}
	if r.category != "" {
		e.EventCategory = r.category
	}
	if r.mgmt != nil {
		e.ManagementEvent = *r.mgmt
	}
	b, err := json.Marshal(e)
	if err != nil {
		panic(err)
	}
	return b
}

func iamUser(acct, name, key string) *opentrail.UserIdentity {
	return &opentrail.UserIdentity{Type: "IAMUser", PrincipalID: "AIDA" + name, ARN: "arn:aws:iam::" + acct + ":user/" + name, AccountID: acct, AccessKeyID: key, UserName: name}
}

func assumedRole(acct, role, session, key string) *opentrail.UserIdentity {
	return &opentrail.UserIdentity{Type: "AssumedRole", PrincipalID: "AROAEXAMPLE:" + session, ARN: "arn:aws:sts::" + acct + ":assumed-role/" + role + "/" + session, AccountID: acct, AccessKeyID: key}
}

func root(acct, key string) *opentrail.UserIdentity {
	return &opentrail.UserIdentity{Type: "Root", PrincipalID: acct, ARN: "arn:aws:iam::" + acct + ":root", AccountID: acct, AccessKeyID: key}
}

// lookupAll pages through a query and returns every event.
func lookupAll(t testing.TB, h *History, acct string, q Query) []Event {
	t.Helper()
	var all []Event
	for i := 0; ; i++ {
		if i > 100000 {
			t.Fatal("too many pages")
		}
		p, err := h.Lookup(context.Background(), acct, q)
		if err != nil {
			t.Fatalf("lookup %+v: %v", q, err)
		}
		all = append(all, p.Events...)
		if p.NextToken == "" {
			return all
		}
		if len(p.Events) == 0 {
			t.Fatalf("empty page with a NextToken")
		}
		q.NextToken = p.NextToken
	}
}

// wantCode checks that err is an *opentrail.Error with code.
func wantCode(t testing.TB, err error, code string) {
	t.Helper()
	e := opentrail.ErrorOf(err)
	if e == nil {
		t.Fatalf("got error %v, want %s", err, code)
	}
	if e.Code != code {
		t.Fatalf("got %s (%s), want %s", e.Code, e.Message, code)
	}
}

func ids(evs []Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.EventID
	}
	return out
}

func seqID(i int) string { return fmt.Sprintf("ev-%06d", i) }
