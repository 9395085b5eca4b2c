package history

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/opentrail/opentrail"
)

// model is a synthetic record with the attribute values the test expects it indexed under.
type model struct {
	seq    uint64
	acct   string
	region string
	sec    int64
	id     string
	attrs  map[string][]string // attribute key → values
}

// genRecords builds n varied records over the last days of testNow and the model of each.
func genRecords(n int, seed uint64) ([]Record, []model) {
	r := rand.New(rand.NewPCG(seed, 1))
	accts := []string{"111111111111", "222222222222", "333333333333"}
	regions := []string{"us-east-1", "eu-west-1"}
	names := []string{"CreateUser", "DeleteUser", "ListUsers", "CreateTrail", "DescribeTrails", "AssumeRole", "PutObject"}
	recs := make([]Record, 0, n)
	models := make([]model, 0, n)
	for i := range n {
		acct := accts[r.IntN(len(accts))]
		region := regions[r.IntN(len(regions))]
		// Spread over 10 days, with many events sharing a second.
		tm := testNow.Add(-time.Duration(r.IntN(10*86400/60)) * time.Minute)
		name := names[r.IntN(len(names))]
		source := map[string]string{"CreateUser": "iam.amazonaws.com", "DeleteUser": "iam.amazonaws.com", "ListUsers": "iam.amazonaws.com",
			"CreateTrail": "cloudtrail.amazonaws.com", "DescribeTrails": "cloudtrail.amazonaws.com", "AssumeRole": "sts.amazonaws.com", "PutObject": "s3.amazonaws.com"}[name]
		ro := strings.HasPrefix(name, "List") || strings.HasPrefix(name, "Describe")
		key := fmt.Sprintf("AKIA%012d", r.IntN(4))
		var ident *opentrail.UserIdentity
		var user string
		switch r.IntN(3) {
		case 0:
			user = fmt.Sprintf("user%d", r.IntN(3))
			ident = iamUser(acct, user, key)
		case 1:
			user = fmt.Sprintf("session%d", r.IntN(3))
			ident = assumedRole(acct, "Admin", user, key)
		default:
			user = "root"
			ident = root(acct, key)
		}
		m := model{seq: uint64(i + 1), acct: acct, region: region, sec: tm.Unix(), id: seqID(i), attrs: map[string][]string{
			AttrEventID: {seqID(i)}, AttrEventName: {name}, AttrEventSource: {source},
			AttrReadOnly: {fmt.Sprint(ro)}, AttrUsername: {user}, AttrAccessKeyID: {key},
		}}
		rc := rec{acct: acct, region: region, time: tm, id: seqID(i), name: name, source: source, readOnly: ro, identity: ident}
		switch name {
		case "CreateUser", "DeleteUser":
			target := fmt.Sprintf("target%d", r.IntN(5))
			rc.request = fmt.Sprintf(`{"userName":%q}`, target)
			m.attrs[AttrResourceType] = []string{"AWS::IAM::User"}
			m.attrs[AttrResourceName] = []string{target}
		case "CreateTrail":
			trail := fmt.Sprintf("trail%d", r.IntN(3))
			arn := "arn:aws:cloudtrail:" + region + ":" + acct + ":trail/" + trail
			rc.resources = []opentrail.Resource{{ARN: arn, AccountID: acct, Type: "AWS::CloudTrail::Trail"}}
			rc.request = fmt.Sprintf(`{"name":%q,"s3BucketName":"bucket-%s"}`, trail, acct)
			m.attrs[AttrResourceType] = []string{"AWS::CloudTrail::Trail", "AWS::S3::Bucket"}
			m.attrs[AttrResourceName] = []string{trail, arn, "bucket-" + acct}
		case "PutObject":
			// A data event: never indexed.
			rc.category = opentrail.CategoryData
			f := false
			rc.mgmt = &f
			m.attrs = nil
		}
		recs = append(recs, Record{Seq: m.seq, Payload: rc.json()})
		models = append(models, m)
	}
	return recs, models
}

// expect returns the IDs the model says a query matches, newest first.
func expect(models []model, acct, region, key, value string, lo, hi int64) []string {
	var ms []model
	for _, m := range models {
		if m.attrs == nil || m.acct != acct || m.region != region || m.sec < lo || m.sec > hi {
			continue
		}
		if key != "" && !slices.Contains(m.attrs[key], value) {
			continue
		}
		ms = append(ms, m)
	}
	slices.SortFunc(ms, func(a, b model) int {
		if a.sec != b.sec {
			return int(b.sec - a.sec)
		}
		return int(int64(b.seq) - int64(a.seq))
	})
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.id
	}
	return out
}

func TestLookupEveryAttribute(t *testing.T) {
	clk := newClock(testNow)
	h := openTest(t, t.TempDir(), Options{Now: clk.Now})
	recs, models := genRecords(3000, 1)
	if err := h.IndexBatch(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	if got := h.Cursor(); got != 3000 {
		t.Fatalf("cursor %d, want 3000", got)
	}
	// Every (attribute, value) pair in the model, in every account and region.
	values := map[string]map[string]bool{}
	for _, m := range models {
		for k, vs := range m.attrs {
			if values[k] == nil {
				values[k] = map[string]bool{}
			}
			for _, v := range vs {
				values[k][v] = true
			}
		}
	}
	if len(values) != 8 {
		t.Fatalf("the model covers %d attributes, want 8", len(values))
	}
	all := int64(1 << 40)
	checked := 0
	for _, acct := range []string{"111111111111", "222222222222", "333333333333"} {
		for _, region := range []string{"us-east-1", "eu-west-1"} {
			// Time range only, whole range and a window.
			for _, rg := range [][2]int64{{0, all}, {testNow.Add(-50 * time.Hour).Unix(), testNow.Add(-26 * time.Hour).Unix()}} {
				q := Query{Region: region, MaxResults: 13}
				if rg[0] != 0 {
					q.StartTime, q.EndTime = unixToTime(rg[0]), unixToTime(rg[1])
				}
				got := ids(lookupAll(t, h, acct, q))
				want := expect(models, acct, region, "", "", rg[0], rg[1])
				if !slices.Equal(got, want) {
					t.Fatalf("%s %s range %v: got %d events, want %d", acct, region, rg, len(got), len(want))
				}
			}
			for key, vals := range values {
				n := 0
				for v := range vals {
					if key == AttrEventID && n > 20 {
						break // enough event IDs
					}
					n++
					q := Query{Region: region, Attributes: []Attribute{{key, v}}, MaxResults: 50}
					got := ids(lookupAll(t, h, acct, q))
					want := expect(models, acct, region, key, v, 0, all)
					if !slices.Equal(got, want) {
						t.Fatalf("%s %s %s=%s: got %v, want %v", acct, region, key, v, got, want)
					}
					checked++
				}
			}
		}
	}
	t.Logf("checked %d attribute lookups", checked)
}

func TestPaginationManyPages(t *testing.T) {
	clk := newClock(testNow)
	h := openTest(t, t.TempDir(), Options{Now: clk.Now})
	const n = 2500
	var recs []Record
	for i := range n {
		// Five events per second, across several day boundaries.
		tm := testNow.Add(-time.Duration(i/5) * 150 * time.Second)
		recs = append(recs, Record{Seq: uint64(i + 1), Payload: rec{acct: "111111111111", region: "us-east-1", time: tm, id: seqID(i),
			name: "GetCallerIdentity", source: "sts.amazonaws.com", readOnly: true, identity: root("111111111111", "AKIAROOT")}.json()})
	}
	// In several batches, out of order.
	rand.New(rand.NewPCG(2, 2)).Shuffle(len(recs), func(i, j int) { recs[i], recs[j] = recs[j], recs[i] })
	for i := 0; i < n; i += 300 {
		if err := h.IndexBatch(context.Background(), recs[i:min(i+300, n)]); err != nil {
			t.Fatal(err)
		}
	}
	for _, q := range []Query{
		{Region: "us-east-1", MaxResults: 7},
		{Region: "us-east-1", MaxResults: 1, StartTime: testNow.Add(-2 * time.Hour)},
		{Region: "us-east-1", MaxResults: 50, Attributes: []Attribute{{AttrUsername, "root"}}},
		{Region: "us-east-1", MaxResults: 3, Attributes: []Attribute{{AttrReadOnly, "true"}}, EndTime: testNow.Add(-24 * time.Hour)},
	} {
		evs := lookupAll(t, h, "111111111111", q)
		seen := map[string]bool{}
		for i, e := range evs {
			if seen[e.EventID] {
				t.Fatalf("%+v: duplicate %s", q, e.EventID)
			}
			seen[e.EventID] = true
			if i > 0 {
				prev := evs[i-1]
				if e.EventTime.After(prev.EventTime) || (e.EventTime.Equal(prev.EventTime) && e.EventID > prev.EventID) {
					t.Fatalf("%+v: not newest first at %d: %s %v after %s %v", q, i, e.EventID, e.EventTime, prev.EventID, prev.EventTime)
				}
			}
			if !q.StartTime.IsZero() && e.EventTime.Before(q.StartTime) || !q.EndTime.IsZero() && e.EventTime.After(q.EndTime) {
				t.Fatalf("%+v: %s at %v outside the range", q, e.EventID, e.EventTime)
			}
		}
		want := 0
		for i := range n {
			tm := testNow.Add(-time.Duration(i/5) * 150 * time.Second)
			if (q.StartTime.IsZero() || !tm.Before(q.StartTime)) && (q.EndTime.IsZero() || !tm.After(q.EndTime)) {
				want++
			}
		}
		if len(evs) != want {
			t.Fatalf("%+v: %d events, want %d", q, len(evs), want)
		}
	}
	// A page that ends exactly at the last event has no token.
	p, err := h.Lookup(context.Background(), "111111111111", Query{Region: "us-east-1", Attributes: []Attribute{{AttrEventID, seqID(0)}}, MaxResults: 1})
	if err != nil || len(p.Events) != 1 || p.NextToken != "" {
		t.Fatalf("single match: %+v %v", p, err)
	}
}

func TestEventColumns(t *testing.T) {
	h := openTest(t, t.TempDir(), Options{Now: newClock(testNow).Now})
	acct := "111111111111"
	tm := testNow.Add(-time.Hour)
	records := []rec{
		{acct: acct, region: "us-east-1", time: tm, id: "a", name: "CreateUser", source: "iam.amazonaws.com",
			identity: iamUser(acct, "alice", "AKIAALICE"), request: `{"userName":"bob","path":"/"}`},
		{acct: acct, region: "us-east-1", time: tm.Add(-time.Second), id: "b", name: "DescribeTrails", source: "cloudtrail.amazonaws.com", readOnly: true,
			identity: assumedRole(acct, "Admin", "sess-1", "ASIASESSION"), errorCode: "AccessDenied"},
		{acct: acct, region: "us-east-1", time: tm.Add(-2 * time.Second), id: "c", name: "AttachRolePolicy", source: "iam.amazonaws.com",
			identity: root(acct, "AKIAROOT"), request: `{"roleName":"r1","policyArn":"arn:aws:iam::aws:policy/ReadOnlyAccess"}`,
			resources: []opentrail.Resource{{ARN: "arn:aws:iam::111111111111:role/path/r1", Type: "AWS::IAM::Role"}}},
	}
	for i, r := range records {
		if err := h.Index(context.Background(), uint64(i+1), r.json()); err != nil {
			t.Fatal(err)
		}
	}
	p, err := h.Lookup(context.Background(), acct, Query{Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Events) != 3 {
		t.Fatalf("%d events", len(p.Events))
	}
	a, b, c := p.Events[0], p.Events[1], p.Events[2]
	if a.EventID != "a" || a.Username != "alice" || a.AccessKeyID != "AKIAALICE" || a.ReadOnly != "false" || a.EventName != "CreateUser" ||
		a.EventSource != "iam.amazonaws.com" || !a.EventTime.Equal(tm) {
		t.Errorf("a: %+v", a)
	}
	if !slices.Equal(a.Resources, []Resource{{"AWS::IAM::User", "bob"}}) {
		t.Errorf("a resources: %+v", a.Resources)
	}
	if a.CloudTrailEvent != string(records[0].json()) {
		t.Errorf("CloudTrailEvent is not the record")
	}
	if b.Username != "sess-1" || b.ReadOnly != "true" || len(b.Resources) != 0 || b.Resources == nil {
		t.Errorf("b: %+v", b)
	}
	if c.Username != "root" {
		t.Errorf("c: %+v", c)
	}
	wantRes := []Resource{{"AWS::IAM::Role", "r1"}, {"AWS::IAM::Policy", "ReadOnlyAccess"}}
	if !slices.Equal(c.Resources, wantRes) {
		t.Errorf("c resources: %+v, want %+v", c.Resources, wantRes)
	}
	// ResourceName matches the short name and the full ARN.
	for _, v := range []string{"r1", "arn:aws:iam::111111111111:role/path/r1", "ReadOnlyAccess", "arn:aws:iam::aws:policy/ReadOnlyAccess"} {
		p, err := h.Lookup(context.Background(), acct, Query{Region: "us-east-1", Attributes: []Attribute{{AttrResourceName, v}}})
		if err != nil || len(p.Events) != 1 || p.Events[0].EventID != "c" {
			t.Errorf("ResourceName %s: %+v %v", v, ids(p.Events), err)
		}
	}
	// The wire form.
	raw, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	var wire map[string]any
	if err := json.Unmarshal(raw, &wire); err != nil {
		t.Fatal(err)
	}
	if wire["EventTime"] != float64(tm.Add(-time.Second).Unix()) || wire["ReadOnly"] != "true" || wire["Username"] != "sess-1" {
		t.Errorf("wire: %s", raw)
	}
	if res, ok := wire["Resources"].([]any); !ok || len(res) != 0 {
		t.Errorf("wire Resources: %s", raw)
	}
}

func TestAccountAndRegionIsolation(t *testing.T) {
	h := openTest(t, t.TempDir(), Options{Now: newClock(testNow).Now})
	// Accounts whose IDs are prefixes of each other must not see each other.
	accts := []string{"1234", "12345", "123456789012"}
	seq := uint64(0)
	for _, a := range accts {
		for _, region := range []string{"us-east-1", "us-east-10"} {
			seq++
			r := rec{acct: a, region: region, time: testNow.Add(-time.Minute), id: a + "/" + region, name: "ListTrails", source: "cloudtrail.amazonaws.com",
				identity: iamUser(a, "shared", "AKIASHARED")}
			if err := h.Index(context.Background(), seq, r.json()); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, a := range accts {
		for _, region := range []string{"us-east-1", "us-east-10"} {
			for _, q := range []Query{
				{Region: region},
				{Region: region, Attributes: []Attribute{{AttrUsername, "shared"}}},
				{Region: region, Attributes: []Attribute{{AttrAccessKeyID, "AKIASHARED"}}},
			} {
				got := ids(lookupAll(t, h, a, q))
				if !slices.Equal(got, []string{a + "/" + region}) {
					t.Fatalf("account %s region %s %+v: %v", a, region, q.Attributes, got)
				}
			}
		}
	}
	if got := lookupAll(t, h, "999999999999", Query{Region: "us-east-1"}); len(got) != 0 {
		t.Fatalf("unknown account sees %v", ids(got))
	}
	// Another account's token does not work.
	h.Index(context.Background(), 100, rec{acct: "1234", region: "us-east-1", time: testNow.Add(-2 * time.Minute), id: "x", name: "ListTrails", source: "cloudtrail.amazonaws.com"}.json())
	p, err := h.Lookup(context.Background(), "1234", Query{Region: "us-east-1", MaxResults: 1})
	if err != nil || p.NextToken == "" {
		t.Fatalf("%+v %v", p, err)
	}
	_, err = h.Lookup(context.Background(), "12345", Query{Region: "us-east-1", MaxResults: 1, NextToken: p.NextToken})
	wantCode(t, err, CodeInvalidNextToken)
}

func TestNotIndexed(t *testing.T) {
	h := openTest(t, t.TempDir(), Options{Now: newClock(testNow).Now})
	f := false
	base := rec{acct: "111111111111", region: "us-east-1", time: testNow.Add(-time.Minute), name: "GetObject", source: "s3.amazonaws.com"}
	cases := map[string]rec{}
	r := base
	r.id, r.category, r.mgmt = "data", opentrail.CategoryData, &f
	cases["data"] = r
	r = base
	r.id, r.mgmt = "mgmt-false", &f
	cases["mgmt-false"] = r
	r = base
	r.id, r.category = "network", "NetworkActivity"
	cases["network"] = r
	r = base
	r.id, r.time = "too-old", testNow.Add(-91*24*time.Hour)
	cases["too-old"] = r
	seq := uint64(0)
	for _, c := range cases {
		seq++
		if err := h.Index(context.Background(), seq, c.json()); err != nil {
			t.Fatal(err)
		}
	}
	// Malformed payloads are skipped, and the cursor still moves.
	for _, bad := range []string{"not json", `{"eventTime":"yesterday","recipientAccountId":"1"}`, `{"eventTime":"2026-03-01T00:00:00Z"}`, `[]`, ``} {
		seq++
		if err := h.Index(context.Background(), seq, []byte(bad)); err != nil {
			t.Fatal(err)
		}
	}
	if h.Cursor() != seq {
		t.Fatalf("cursor %d, want %d", h.Cursor(), seq)
	}
	if got := lookupAll(t, h, "111111111111", Query{Region: "us-east-1", StartTime: time.Unix(0, 0)}); len(got) != 0 {
		t.Fatalf("indexed %v", ids(got))
	}
	// Nothing but meta keys was written.
	it, _ := h.db.NewIter(&pebble.IterOptions{LowerBound: []byte{nsDay}})
	defer it.Close()
	if it.First() {
		t.Fatalf("unexpected key %x", it.Key())
	}
}

func TestInsights(t *testing.T) {
	h := openTest(t, t.TempDir(), Options{Now: newClock(testNow).Now})
	ctx := context.Background()
	mgmt := rec{acct: "111111111111", region: "us-east-1", time: testNow.Add(-time.Minute), id: "m", name: "CreateUser", source: "iam.amazonaws.com"}
	if err := h.Index(ctx, 1, mgmt.json()); err != nil {
		t.Fatal(err)
	}
	// No Insights events yet: the insight category is empty.
	p, err := h.Lookup(ctx, "111111111111", Query{Region: "us-east-1", EventCategory: CategoryInsight})
	if err != nil || len(p.Events) != 0 || p.Events == nil {
		t.Fatalf("%+v %v", p, err)
	}
	insight := `{"eventVersion":"1.07","eventTime":"` + testNow.Add(-2*time.Minute).Format(time.RFC3339) + `","awsRegion":"us-east-1","eventID":"i1","eventType":"AwsCloudTrailInsight","recipientAccountId":"111111111111","sharedEventID":"s","insightDetails":{"state":"Start","eventSource":"iam.amazonaws.com","eventName":"CreateUser","insightType":"ApiCallRateInsight"},"eventCategory":"Insight"}`
	if err := h.Index(ctx, 2, []byte(insight)); err != nil {
		t.Fatal(err)
	}
	if got := ids(lookupAll(t, h, "111111111111", Query{Region: "us-east-1"})); !slices.Equal(got, []string{"m"}) {
		t.Fatalf("management lookup: %v", got)
	}
	for _, q := range []Query{
		{Region: "us-east-1", EventCategory: CategoryInsight},
		{Region: "us-east-1", EventCategory: CategoryInsight, Attributes: []Attribute{{AttrEventName, "CreateUser"}}},
		{Region: "us-east-1", EventCategory: CategoryInsight, Attributes: []Attribute{{AttrEventSource, "iam.amazonaws.com"}}},
	} {
		got := lookupAll(t, h, "111111111111", q)
		if len(got) != 1 || got[0].EventID != "i1" || got[0].EventName != "CreateUser" || got[0].CloudTrailEvent != insight {
			t.Fatalf("%+v: %+v", q, got)
		}
	}
	if got := ids(lookupAll(t, h, "111111111111", Query{Region: "us-east-1", Attributes: []Attribute{{AttrEventName, "CreateUser"}}})); !slices.Equal(got, []string{"m"}) {
		t.Fatalf("management by name: %v", got)
	}
	_, err = h.Lookup(ctx, "111111111111", Query{Region: "us-east-1", EventCategory: CategoryInsight, Attributes: []Attribute{{AttrUsername, "x"}}})
	wantCode(t, err, CodeInvalidLookupAttributes)
}

func TestValidation(t *testing.T) {
	h := openTest(t, t.TempDir(), Options{Now: newClock(testNow).Now})
	ctx := context.Background()
	cases := []struct {
		q    Query
		code string
	}{
		{Query{Attributes: []Attribute{{AttrUsername, "a"}, {AttrEventName, "b"}}}, CodeInvalidLookupAttributes},
		{Query{Attributes: []Attribute{{"username", "a"}}}, CodeInvalidLookupAttributes},
		{Query{Attributes: []Attribute{{"Bogus", "a"}}}, CodeInvalidLookupAttributes},
		{Query{Attributes: []Attribute{{AttrUsername, ""}}}, CodeInvalidLookupAttributes},
		{Query{Attributes: []Attribute{{AttrUsername, strings.Repeat("a", 2001)}}}, CodeInvalidLookupAttributes},
		{Query{Attributes: []Attribute{{AttrUsername, strings.Repeat("_", 1001)}}}, CodeInvalidLookupAttributes},
		{Query{Attributes: []Attribute{{AttrUsername, "\xff"}}}, CodeInvalidLookupAttributes},
		{Query{MaxResults: 51}, CodeInvalidMaxResults},
		{Query{MaxResults: -1}, CodeInvalidMaxResults},
		{Query{StartTime: testNow, EndTime: testNow.Add(-time.Second)}, CodeInvalidTimeRange},
		{Query{EventCategory: "Insight"}, CodeInvalidEventCategory},
		{Query{EventCategory: "management"}, CodeInvalidEventCategory},
		{Query{NextToken: "garbage"}, CodeInvalidNextToken},
	}
	for _, c := range cases {
		_, err := h.Lookup(ctx, "111111111111", c.q)
		wantCode(t, err, c.code)
	}
	for _, q := range []Query{
		{Attributes: []Attribute{{AttrUsername, strings.Repeat("a", 2000)}}},
		{Attributes: []Attribute{{AttrUsername, strings.Repeat("_", 1000)}}},
		{Attributes: []Attribute{{AttrReadOnly, "maybe"}}},
		{MaxResults: 1},
		{MaxResults: 50},
		{StartTime: testNow, EndTime: testNow},
		{StartTime: testNow.Add(time.Hour)}, // after now: empty, not an error
		{EndTime: time.Unix(0, 0)},
	} {
		if _, err := h.Lookup(ctx, "111111111111", q); err != nil {
			t.Errorf("%+v: %v", q, err)
		}
	}
}

func TestNextTokenBinding(t *testing.T) {
	dir := t.TempDir()
	h := openTest(t, dir, Options{Now: newClock(testNow).Now})
	ctx := context.Background()
	for i := range 10 {
		r := rec{acct: "111111111111", region: "us-east-1", time: testNow.Add(-time.Duration(i) * time.Minute), id: seqID(i), name: "CreateUser",
			source: "iam.amazonaws.com", identity: iamUser("111111111111", "alice", "AKIAALICE")}
		if err := h.Index(ctx, uint64(i+1), r.json()); err != nil {
			t.Fatal(err)
		}
	}
	start := testNow.Add(-time.Hour)
	base := Query{Region: "us-east-1", Attributes: []Attribute{{AttrUsername, "alice"}}, StartTime: start, MaxResults: 3}
	p, err := h.Lookup(ctx, "111111111111", base)
	if err != nil || p.NextToken == "" {
		t.Fatalf("%+v %v", p, err)
	}
	tok := p.NextToken
	// The same parameters continue; the page size may change.
	q := base
	q.NextToken, q.MaxResults = tok, 5
	p2, err := h.Lookup(ctx, "111111111111", q)
	if err != nil || !slices.Equal(ids(p2.Events), []string{seqID(3), seqID(4), seqID(5), seqID(6), seqID(7)}) {
		t.Fatalf("continue: %v %v", ids(p2.Events), err)
	}
	// Anything else is refused.
	variants := []func(*Query){
		func(q *Query) { q.Attributes = []Attribute{{AttrUsername, "bob"}} },
		func(q *Query) { q.Attributes = []Attribute{{AttrEventName, "alice"}} },
		func(q *Query) { q.Attributes = nil },
		func(q *Query) { q.StartTime = start.Add(time.Second) },
		func(q *Query) { q.StartTime = time.Time{} },
		func(q *Query) { q.EndTime = testNow },
		func(q *Query) { q.Region = "us-west-2" },
		func(q *Query) {
			q.EventCategory = CategoryInsight
			q.Attributes = []Attribute{{AttrEventName, "alice"}}
		},
	}
	for i, v := range variants {
		q := base
		v(&q)
		q.NextToken = tok
		_, err := h.Lookup(ctx, "111111111111", q)
		wantCode(t, err, CodeInvalidNextToken)
		_ = i
	}
	q = base
	q.NextToken = tok
	if _, err := h.Lookup(ctx, "222222222222", q); err == nil {
		t.Fatal("another account accepted the token")
	}
	// Tampering with any character is refused.
	for i := range tok {
		for _, c := range []byte{'A', 'z', '0', '-', '_'} {
			if tok[i] == c {
				continue
			}
			bad := tok[:i] + string(c) + tok[i+1:]
			q := base
			q.NextToken = bad
			_, err := h.Lookup(ctx, "111111111111", q)
			wantCode(t, err, CodeInvalidNextToken)
		}
	}
	for _, bad := range []string{tok + "A", tok[:len(tok)-1], strings.ToUpper(tok), " " + tok} {
		q := base
		q.NextToken = bad
		_, err := h.Lookup(ctx, "111111111111", q)
		wantCode(t, err, CodeInvalidNextToken)
	}
	// A token of another History directory is refused.
	other := openTest(t, t.TempDir(), Options{Now: newClock(testNow).Now})
	q = base
	q.NextToken = tok
	_, err = other.Lookup(ctx, "111111111111", q)
	wantCode(t, err, CodeInvalidNextToken)
}

func TestRetention(t *testing.T) {
	clk := newClock(testNow)
	h := openTest(t, t.TempDir(), Options{Now: clk.Now, Retention: 10 * 24 * time.Hour})
	ctx := context.Background()
	// One event a day for ten days, in two accounts.
	seq := uint64(0)
	for d := range 10 {
		for _, a := range []string{"111111111111", "222222222222"} {
			seq++
			r := rec{acct: a, region: "us-east-1", time: testNow.Add(-time.Duration(d)*24*time.Hour - time.Hour), id: fmt.Sprintf("%s-d%d", a, d), name: "CreateUser", source: "iam.amazonaws.com",
				identity: iamUser(a, "alice", "AKIA")}
			if err := h.Index(ctx, seq, r.json()); err != nil {
				t.Fatal(err)
			}
		}
	}
	countDays := func() int {
		days := map[uint32]bool{}
		it, _ := h.db.NewIter(&pebble.IterOptions{LowerBound: []byte{nsDay}, UpperBound: []byte{nsDay + 1}})
		defer it.Close()
		for ok := it.First(); ok; ok = it.Next() {
			days[uint32(it.Key()[1])<<24|uint32(it.Key()[2])<<16|uint32(it.Key()[3])<<8|uint32(it.Key()[4])] = true
		}
		return len(days)
	}
	if n := countDays(); n != 10 {
		t.Fatalf("%d days stored, want 10", n)
	}
	if _, err := h.Expire(ctx); err != nil {
		t.Fatal(err)
	}
	if n := countDays(); n != 10 {
		t.Fatalf("%d days after a no-op expiry, want 10", n)
	}
	// Five days later, events older than ten days are not returned, even before expiry.
	clk.Set(testNow.Add(5 * 24 * time.Hour))
	got := ids(lookupAll(t, h, "111111111111", Query{Region: "us-east-1", Attributes: []Attribute{{AttrUsername, "alice"}}}))
	if len(got) != 5 {
		t.Fatalf("before expiry: %v", got)
	}
	keep, err := h.Expire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cutoff := testNow.Add(5*24*time.Hour - 10*24*time.Hour)
	if want := cutoff.Truncate(24 * time.Hour); !keep.Equal(want) {
		t.Fatalf("kept from %v, want %v", keep, want)
	}
	// The day straddling the cutoff stays; whole older days are gone.
	if n := countDays(); n != 6 {
		t.Fatalf("%d days after expiry, want 6", n)
	}
	got2 := ids(lookupAll(t, h, "222222222222", Query{Region: "us-east-1", StartTime: time.Unix(0, 0)}))
	if len(got2) != 5 {
		t.Fatalf("after expiry: %v", got2)
	}
	// Run expires too, and stops with its context.
	clk.Set(testNow.Add(30 * 24 * time.Hour))
	rctx, cancel := context.WithCancel(ctx)
	errc := make(chan error, 1)
	go func() { errc <- h.Run(rctx) }()
	deadline := time.Now().Add(5 * time.Second)
	for countDays() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("Run did not expire")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-errc; err != context.Canceled {
		t.Fatalf("Run returned %v", err)
	}
}

func TestRestartKeepsCursorAndData(t *testing.T) {
	dir := t.TempDir()
	clk := newClock(testNow)
	h, err := Open(dir, Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	recs, models := genRecords(500, 3)
	if err := h.IndexBatch(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	q := Query{Region: "us-east-1", MaxResults: 5}
	p, err := h.Lookup(context.Background(), "111111111111", q)
	if err != nil || p.NextToken == "" {
		t.Fatal(p, err)
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	h = openTest(t, dir, Options{Now: clk.Now})
	if h.Cursor() != 500 {
		t.Fatalf("cursor %d after restart", h.Cursor())
	}
	// A token issued before the restart still works.
	q.NextToken = p.NextToken
	rest := lookupAll(t, h, "111111111111", q)
	got := append(ids(p.Events), ids(rest)...)
	want := expect(models, "111111111111", "us-east-1", "", "", 0, 1<<40)
	if !slices.Equal(got, want) {
		t.Fatalf("after restart: %d events, want %d", len(got), len(want))
	}
}

// sliceSource serves records from a slice and then blocks; it counts what it served.
type sliceSource struct {
	recs []Record
	next int
	more chan Record
}

func (s *sliceSource) Next(ctx context.Context) (uint64, []byte, error) {
	if s.next < len(s.recs) {
		r := s.recs[s.next]
		s.next++
		return r.Seq, r.Payload, nil
	}
	select {
	case r := <-s.more:
		return r.Seq, r.Payload, nil
	case <-ctx.Done():
		return 0, nil, ctx.Err()
	}
}

func TestFollow(t *testing.T) {
	dir := t.TempDir()
	clk := newClock(testNow)
	h, err := Open(dir, Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	recs, models := genRecords(5000, 4)
	// A malformed record in the middle is skipped.
	recs[100].Payload = []byte("{broken")
	models[100].attrs = nil
	src := &sliceSource{recs: recs[:4000], more: make(chan Record)}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- h.Follow(ctx, src) }()
	waitCursor := func(h *History, seq uint64) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for h.Cursor() < seq {
			if time.Now().After(deadline) {
				t.Fatalf("cursor %d, want %d", h.Cursor(), seq)
			}
			time.Sleep(time.Millisecond)
		}
	}
	waitCursor(h, 4000)
	// A record appended later becomes visible well within a second.
	start := time.Now()
	live := rec{acct: "111111111111", region: "us-east-1", time: testNow, id: "live", name: "CreateUser", source: "iam.amazonaws.com"}
	src.more <- Record{Seq: 4001, Payload: live.json()}
	for {
		p, err := h.Lookup(context.Background(), "111111111111", Query{Region: "us-east-1", Attributes: []Attribute{{AttrEventID, "live"}}})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Events) == 1 {
			break
		}
		if time.Since(start) > time.Second {
			t.Fatal("record not visible within a second")
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-errc; err != context.Canceled {
		t.Fatalf("Follow returned %v", err)
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}

	// Restart: the source replays from the start; nothing is applied twice.
	h = openTest(t, dir, Options{Now: clk.Now})
	if h.Cursor() != 4001 {
		t.Fatalf("cursor %d after restart", h.Cursor())
	}
	all := append(append([]Record{}, recs[:4000]...), Record{Seq: 4001, Payload: live.json()})
	all = append(all, recs[4000:]...)
	for i := 4001; i < len(all); i++ {
		all[i].Seq = uint64(i + 1)
	}
	src = &sliceSource{recs: all, more: make(chan Record)}
	ctx, cancel = context.WithCancel(context.Background())
	go func() { errc <- h.Follow(ctx, src) }()
	waitCursor(h, uint64(len(all)))
	cancel()
	<-errc
	for i := 4000; i < len(models); i++ {
		models[i].seq = uint64(i + 2)
	}
	models = append(models, model{seq: 4001, acct: "111111111111", region: "us-east-1", sec: testNow.Unix(), id: "live", attrs: map[string][]string{}})
	for _, acct := range []string{"111111111111", "222222222222"} {
		got := ids(lookupAll(t, h, acct, Query{Region: "us-east-1"}))
		want := expect(models, acct, "us-east-1", "", "", 0, 1<<40)
		if !slices.Equal(got, want) {
			t.Fatalf("%s: %d events, want %d", acct, len(got), len(want))
		}
	}
}

// sourceErr fails after serving its records.
type failingSource struct{ sliceSource }

func (s *failingSource) Next(ctx context.Context) (uint64, []byte, error) {
	if s.next < len(s.recs) {
		return s.sliceSource.Next(ctx)
	}
	return 0, nil, fmt.Errorf("disk on fire")
}

func TestFollowSourceError(t *testing.T) {
	h := openTest(t, t.TempDir(), Options{Now: newClock(testNow).Now})
	recs, _ := genRecords(10, 5)
	err := h.Follow(context.Background(), &failingSource{sliceSource{recs: recs}})
	if err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Fatalf("Follow returned %v", err)
	}
	if h.Cursor() != 10 {
		t.Fatalf("records before the failure not applied: cursor %d", h.Cursor())
	}
}

// realRecords reads the shared real-shaped records, or skips the test.
func realRecords(t *testing.T) [][]byte {
	t.Helper()
	f, err := os.Open("../../../shared/testdata/cloudtrail-records.jsonl")
	if err != nil {
		t.Skipf("shared test data not available: %v", err)
	}
	defer f.Close()
	var out [][]byte
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" {
			out = append(out, []byte(line))
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestRealRecords(t *testing.T) {
	lines := realRecords(t)
	// The records span 2015-2025: keep thirty years.
	h := openTest(t, t.TempDir(), Options{Now: newClock(testNow).Now, Retention: 30 * 365 * 24 * time.Hour})
	ctx := context.Background()
	var recs []Record
	for i, l := range lines {
		recs = append(recs, Record{Seq: uint64(i + 1), Payload: l})
	}
	if err := h.IndexBatch(ctx, recs); err != nil {
		t.Fatal(err)
	}
	indexed, skipped := 0, 0
	for _, l := range lines {
		var r struct {
			EventID, EventName, EventSource, EventCategory, EventType, AWSRegion, RecipientAccountID string
			EventTime                                                                                string
			ManagementEvent                                                                          any
			UserIdentity                                                                             *struct {
				Type, UserName, PrincipalID, AccountID, AccessKeyID string
			}
		}
		if err := json.Unmarshal(l, &r); err != nil {
			t.Fatal(err)
		}
		acct := r.RecipientAccountID
		if acct == "" && r.UserIdentity != nil {
			acct = r.UserIdentity.AccountID
		}
		data := r.EventCategory == "Data" || r.EventCategory == "NetworkActivity" || r.ManagementEvent == false || r.ManagementEvent == "false"
		_, terr := time.Parse(time.RFC3339, r.EventTime)
		if terr != nil {
			_, terr = time.Parse("2006-01-02 15:04:05.999999999", r.EventTime)
		}
		if acct == "" || r.EventID == "" || terr != nil {
			continue
		}
		evs := lookupAll(t, h, acct, Query{Region: r.AWSRegion, Attributes: []Attribute{{AttrEventID, r.EventID}}, StartTime: time.Unix(0, 0)})
		found := false
		for _, e := range evs {
			if e.CloudTrailEvent == string(l) {
				found = true
				if e.EventName != r.EventName || e.EventSource != r.EventSource {
					t.Errorf("%s: columns %+v", r.EventID, e)
				}
				if id := r.UserIdentity; id != nil {
					switch id.Type {
					case "Root":
						if e.Username != "root" {
							t.Errorf("root record: Username %q", e.Username)
						}
					case "IAMUser":
						if id.UserName != "" && e.Username != id.UserName {
							t.Errorf("IAM user record: Username %q, want %q", e.Username, id.UserName)
						}
					case "AssumedRole":
						if i := strings.IndexByte(id.PrincipalID, ':'); i > 0 && e.Username != id.PrincipalID[i+1:] {
							t.Errorf("assumed-role record: Username %q, principal %q", e.Username, id.PrincipalID)
						}
					}
					if e.AccessKeyID != id.AccessKeyID {
						t.Errorf("AccessKeyId %q, want %q", e.AccessKeyID, id.AccessKeyID)
					}
				}
			}
		}
		if data {
			skipped++
			if found {
				t.Errorf("data/network event %s (%s) was indexed", r.EventID, r.EventName)
			}
			continue
		}
		indexed++
		if !found {
			t.Errorf("record %s %s (%s, %s) not found by EventId", r.EventID, r.EventName, acct, r.AWSRegion)
		}
	}
	t.Logf("%d records: %d found by EventId, %d data events excluded", len(lines), indexed, skipped)
	if indexed < 300 || skipped < 10 {
		t.Fatalf("too few records exercised: %d indexed, %d skipped", indexed, skipped)
	}
	// Resource lookups over the real records: the KMS key ARN and its short name.
	evs := lookupAll(t, h, "123456789012", Query{Region: "us-west-2", Attributes: []Attribute{{AttrResourceName, "arn:aws:kms:us-west-2:123456789012:key/1"}}, StartTime: time.Unix(0, 0)})
	evs2 := lookupAll(t, h, "123456789012", Query{Region: "us-west-2", Attributes: []Attribute{{AttrResourceType, "AWS::KMS::Key"}}, StartTime: time.Unix(0, 0)})
	if len(evs) == 0 || len(evs2) < len(evs) {
		t.Errorf("KMS key lookups: %d by name, %d by type", len(evs), len(evs2))
	}
}

// TestConcurrentUse runs ingestion, lookups (with parallel reads) and retention together;
// run it with -race.
func TestConcurrentUse(t *testing.T) {
	clk := newClock(testNow)
	h := openTest(t, t.TempDir(), Options{Now: clk.Now, RetentionInterval: time.Millisecond})
	recs, _ := genRecords(4000, 9)
	src := &sliceSource{recs: recs, more: make(chan Record)}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() { _ = h.Follow(ctx, src) })
	wg.Go(func() { _ = h.Run(ctx) })
	for w := range 4 {
		wg.Go(func() {
			for i := 0; h.Cursor() < 4000 || i < 20; i++ {
				q := Query{Region: "us-east-1", Attributes: []Attribute{{AttrReadOnly, fmt.Sprint(w%2 == 0)}}}
				if _, err := h.Lookup(context.Background(), "111111111111", q); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	deadline := time.Now().Add(10 * time.Second)
	for h.Cursor() < 4000 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	cancel()
	wg.Wait()
	if h.Cursor() != 4000 {
		t.Fatalf("cursor %d", h.Cursor())
	}
}

// TestOpenRebuildsFormatV1 opens a store of the first format: Open starts it afresh, with
// cursor 0, so that the caller re-indexes it from the journal.
func TestOpenRebuildsFormatV1(t *testing.T) {
	dir := t.TempDir()
	opts := Options{Now: newClock(testNow).Now}
	h, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	old := rec{acct: "111111111111", region: "us-east-1", time: testNow, id: "old", name: "CreateUser", source: "iam.amazonaws.com"}
	if err := h.Index(context.Background(), 7, old.json()); err != nil {
		t.Fatal(err)
	}
	if err := h.db.Set(keyFormat, []byte(formatV1), pebble.NoSync); err != nil {
		t.Fatal(err)
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}

	h = openTest(t, dir, opts)
	if c := h.Cursor(); c != 0 {
		t.Fatalf("cursor after rebuild = %d; want 0", c)
	}
	if !isFormat(h.db, formatVersion) {
		t.Fatalf("format after rebuild is not %s", formatVersion)
	}
	q := Query{Region: "us-east-1", Attributes: []Attribute{{AttrEventID, "old"}}}
	if evs := lookupAll(t, h, "111111111111", q); len(evs) != 0 {
		t.Fatalf("rebuilt store still has %d events", len(evs))
	}
	if err := h.Index(context.Background(), 7, old.json()); err != nil {
		t.Fatal(err)
	}
	if evs := lookupAll(t, h, "111111111111", q); len(evs) != 1 {
		t.Fatalf("re-indexed event: got %d events; want 1", len(evs))
	}
}
