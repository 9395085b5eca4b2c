package logs

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	cwltypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
)

// fill puts n events m0..m<n-1>, one second apart, ending a minute before now.
func (e *env) fill(group, stream string, n int) []string {
	e.t.Helper()
	var evs []cwltypes.InputLogEvent
	var msgs []string
	for i := range n {
		msgs = append(msgs, fmt.Sprintf("m%d", i))
		evs = append(evs, ev(e.ms(-time.Minute-time.Duration(n-i)*time.Second), msgs[i]))
	}
	e.put(group, stream, evs...)
	return msgs
}

var tokenShape = regexp.MustCompile(`^[fb]/[0-9]{56}/s$`)

func TestGetLogEventsForward(t *testing.T) {
	e := newEnv(t)
	e.group("g", "s")
	all := e.fill("g", "s", 10)
	c := e.client()
	in := &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s"), StartFromHead: aws.Bool(true), Limit: aws.Int32(4)}
	var got []string
	var last string
	for range 5 {
		out, err := c.GetLogEvents(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		for _, tok := range []string{aws.ToString(out.NextForwardToken), aws.ToString(out.NextBackwardToken)} {
			if !tokenShape.MatchString(tok) {
				t.Fatalf("token %q does not look like AWS's", tok)
			}
		}
		got = append(got, outMsgs(out.Events)...)
		if len(out.Events) == 0 {
			// At the end the same token comes back.
			if aws.ToString(out.NextForwardToken) != last {
				t.Errorf("end of stream: forward token %q; want the one passed, %q", aws.ToString(out.NextForwardToken), last)
			}
			break
		}
		last = aws.ToString(out.NextForwardToken)
		in.NextToken = out.NextForwardToken
	}
	if !slices.Equal(got, all) {
		t.Fatalf("forward read %v; want %v", got, all)
	}
	// New events appear after the forward token of the end.
	e.put("g", "s", ev(e.ms(0), "late"))
	out, err := c.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s"), StartFromHead: aws.Bool(true), NextToken: aws.String(last)})
	if err != nil || !slices.Equal(outMsgs(out.Events), []string{"late"}) {
		t.Fatalf("after the end: %v %v", outMsgs(out.Events), err)
	}
	// The SDK's paginator stops on a repeated token.
	p := cloudwatchlogs.NewGetLogEventsPaginator(c, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s"), StartFromHead: aws.Bool(true), Limit: aws.Int32(3)},
		func(o *cloudwatchlogs.GetLogEventsPaginatorOptions) { o.StopOnDuplicateToken = true })
	var paged []string
	for i := 0; p.HasMorePages() && i < 20; i++ {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		paged = append(paged, outMsgs(out.Events)...)
	}
	if want := append(slices.Clone(all), "late"); !slices.Equal(paged, want) || p.HasMorePages() {
		t.Fatalf("paginator read %v (more: %v); want %v", paged, p.HasMorePages(), want)
	}
}

func TestGetLogEventsBackward(t *testing.T) {
	e := newEnv(t)
	e.group("g", "s")
	all := e.fill("g", "s", 10)
	c := e.client()
	// Default: the latest events, in ascending order.
	out, err := c.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s"), Limit: aws.Int32(4)})
	if err != nil {
		t.Fatal(err)
	}
	if got := outMsgs(out.Events); !slices.Equal(got, all[6:]) {
		t.Fatalf("latest = %v; want %v", got, all[6:])
	}
	got := outMsgs(out.Events)
	in := &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s"), Limit: aws.Int32(4), NextToken: out.NextBackwardToken}
	for range 5 {
		page, err := c.GetLogEvents(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Events) == 0 {
			if aws.ToString(page.NextBackwardToken) != aws.ToString(in.NextToken) {
				t.Error("start of stream: backward token changed")
			}
			break
		}
		got = append(outMsgs(page.Events), got...)
		in.NextToken = page.NextBackwardToken
	}
	if !slices.Equal(got, all) {
		t.Fatalf("backward read %v; want %v", got, all)
	}
	// From the first page going backward, the forward token leads back to the newer events.
	first, _ := c.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s"), StartFromHead: aws.Bool(true), Limit: aws.Int32(2)})
	next, _ := c.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s"), StartFromHead: aws.Bool(true), Limit: aws.Int32(2), NextToken: first.NextForwardToken})
	back, _ := c.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s"), Limit: aws.Int32(2), NextToken: next.NextBackwardToken})
	if !slices.Equal(outMsgs(back.Events), all[:2]) {
		t.Errorf("backward from page 2 = %v; want %v", outMsgs(back.Events), all[:2])
	}
}

func TestGetLogEventsTimeRangeAndTokens(t *testing.T) {
	e := newEnv(t)
	e.group("g", "s", "other")
	base := e.ms(-time.Hour)
	e.put("g", "s", ev(base, "a"), ev(base+10, "b"), ev(base+20, "c"), ev(base+30, "d"))
	c := e.client()
	out, err := c.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s"),
		StartTime: aws.Int64(base + 10), EndTime: aws.Int64(base + 30), StartFromHead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	if got := outMsgs(out.Events); !slices.Equal(got, []string{"b", "c"}) {
		t.Errorf("[start, end) = %v; want [b c]", got)
	}
	if out.Events[0].IngestionTime == nil || aws.ToInt64(out.Events[0].IngestionTime) != t0.UnixMilli() {
		t.Errorf("ingestionTime = %v", out.Events[0].IngestionTime)
	}
	// logGroupIdentifier by ARN.
	out, err = c.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupIdentifier: aws.String(GroupARN(region1, acctA, "g")), LogStreamName: aws.String("s"), StartFromHead: aws.Bool(true)})
	if err != nil || len(out.Events) != 4 {
		t.Fatalf("by ARN: %v %v", out, err)
	}
	_, err = c.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String("g"), LogGroupIdentifier: aws.String("g"), LogStreamName: aws.String("s")})
	wantErr(t, err, "InvalidParameterException", "mutually exclusive")
	_, err = c.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("nope")})
	wantErr(t, err, "ResourceNotFoundException", "log stream does not exist")

	tok := aws.ToString(out.NextForwardToken)
	altered := tok[:len(tok)-3] + string('0'+(tok[len(tok)-3]-'0'+1)%10) + "/s"
	bad := []string{
		"f/00000000000000000000000000000000000000000000000000000000/s",
		"f/" + strings.Repeat("9", 56) + "/s",
		"x" + tok[1:],
		altered,
		"b" + tok[1:], // a forward position signed as forward, presented as backward
		"f/123",
	}
	for _, b := range bad {
		_, err := c.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s"), NextToken: aws.String(b)})
		wantErr(t, err, "InvalidParameterException", "nextToken")
	}
	// A token of one stream does not work on another.
	_, err = c.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("other"), NextToken: aws.String(tok)})
	wantErr(t, err, "InvalidParameterException", "nextToken")
}

func TestGetLogEventsEmptyStream(t *testing.T) {
	e := newEnv(t)
	e.group("g", "s")
	c := e.client()
	out, err := c.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s")})
	if err != nil || len(out.Events) != 0 || out.NextForwardToken == nil || out.NextBackwardToken == nil {
		t.Fatalf("empty stream: %+v %v", out, err)
	}
	// Following the forward token of an empty stream finds what arrives later.
	e.put("g", "s", ev(e.ms(0), "first"))
	next, err := c.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s"), StartFromHead: aws.Bool(true), NextToken: out.NextForwardToken})
	if err != nil || !slices.Equal(outMsgs(next.Events), []string{"first"}) {
		t.Fatalf("tail: %v %v", outMsgs(next.Events), err)
	}
}

func TestGetLogEventsPageBytes(t *testing.T) {
	e := newEnv(t)
	e.group("g", "s")
	big := strings.Repeat("x", 400_000)
	for range 3 {
		e.put("g", "s", ev(e.ms(0), big))
	}
	out, err := e.client().GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s"), StartFromHead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Events) != 2 {
		t.Fatalf("a 1 MB page holds %d events of 400 kB; want 2", len(out.Events))
	}
}

func TestFilterLogEvents(t *testing.T) {
	e := newEnv(t)
	e.group("g", "web-1", "web-2", "db-1")
	base := e.ms(-time.Hour)
	e.put("g", "web-1", ev(base, `{"status":200,"path":"/"}`), ev(base+20, `{"status":500,"path":"/a"}`), ev(base+40, "plain ERROR line"))
	e.put("g", "web-2", ev(base+10, `{"status":500,"path":"/b"}`), ev(base+30, `{"status":404}`))
	e.put("g", "db-1", ev(base+15, `{"status":500,"path":"/db"}`), ev(base+25, "db ERROR"))
	c := e.client()
	filter := func(in *cloudwatchlogs.FilterLogEventsInput) []string {
		t.Helper()
		in.LogGroupName = aws.String("g")
		out, err := c.FilterLogEvents(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if out.SearchedLogStreams == nil || len(out.SearchedLogStreams) != 0 {
			t.Errorf("searchedLogStreams = %v; want []", out.SearchedLogStreams)
		}
		return filteredMsgs(out.Events)
	}
	// Interleaved by timestamp across streams.
	if got := filter(&cloudwatchlogs.FilterLogEventsInput{FilterPattern: aws.String(`{ $.status = 500 }`)}); !slices.Equal(got, []string{
		`{"status":500,"path":"/b"}`, `{"status":500,"path":"/db"}`, `{"status":500,"path":"/a"}`}) {
		t.Errorf("JSON pattern: %v", got)
	}
	if got := filter(&cloudwatchlogs.FilterLogEventsInput{FilterPattern: aws.String("ERROR"), LogStreamNamePrefix: aws.String("web")}); !slices.Equal(got, []string{"plain ERROR line"}) {
		t.Errorf("prefix: %v", got)
	}
	if got := filter(&cloudwatchlogs.FilterLogEventsInput{LogStreamNames: []string{"web-2", "db-1", "missing"}}); len(got) != 4 {
		t.Errorf("logStreamNames: %v", got)
	}
	// startTime and endTime are both inclusive.
	if got := filter(&cloudwatchlogs.FilterLogEventsInput{StartTime: aws.Int64(base + 10), EndTime: aws.Int64(base + 20)}); len(got) != 3 {
		t.Errorf("time range: %v", got)
	}
	all := filter(&cloudwatchlogs.FilterLogEventsInput{})
	if len(all) != 7 {
		t.Fatalf("all: %v", all)
	}

	// Pages of 2, through the SDK's paginator.
	p := cloudwatchlogs.NewFilterLogEventsPaginator(c, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("g"), Limit: aws.Int32(2)})
	var paged []string
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Events) > 2 {
			t.Fatalf("page of %d", len(out.Events))
		}
		paged = append(paged, filteredMsgs(out.Events)...)
	}
	if !slices.Equal(paged, all) {
		t.Fatalf("paged %v; want %v", paged, all)
	}

	_, err := c.FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("g"), FilterPattern: aws.String(`{ $.status = 500`)})
	wantErr(t, err, "InvalidParameterException", "Invalid filter pattern")
	_, err = c.FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("g"), LogStreamNames: []string{"a"}, LogStreamNamePrefix: aws.String("a")})
	wantErr(t, err, "InvalidParameterException", "mutually exclusive")
	first, _ := c.FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("g"), Limit: aws.Int32(1)})
	_, err = c.FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("g"), Limit: aws.Int32(1), FilterPattern: aws.String("ERROR"), NextToken: first.NextToken})
	wantErr(t, err, "InvalidParameterException", "nextToken")
	_, err = c.FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("g"), NextToken: aws.String("AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")})
	wantErr(t, err, "InvalidParameterException", "nextToken")
}

func TestFilterLogEventsScanLimit(t *testing.T) {
	e := newEnvWith(t, Options{FilterScanLimit: 5})
	e.group("g", "s")
	var evs []cwltypes.InputLogEvent
	for i := range 12 {
		msg := "noise"
		if i == 11 {
			msg = "needle"
		}
		evs = append(evs, ev(e.ms(-time.Minute)+int64(i), msg))
	}
	e.put("g", "s", evs...)
	in := &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("g"), FilterPattern: aws.String("needle")}
	var found []string
	pages := 0
	for {
		out, err := e.client().FilterLogEvents(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		found = append(found, filteredMsgs(out.Events)...)
		if out.NextToken == nil {
			break
		}
		in.NextToken = out.NextToken
	}
	if !slices.Equal(found, []string{"needle"}) || pages != 3 {
		t.Fatalf("found %v in %d pages; want [needle] in 3 (empty pages with tokens first)", found, pages)
	}
}
