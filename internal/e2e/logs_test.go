package e2e

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	cwltypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/smithy-go"

	"github.com/opentrail/opentrail/internal/testserver"
)

func logsErr(t *testing.T, err error, code string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code {
		t.Fatalf("error = %v; want %s", err, code)
	}
}

// TestLogs drives the CloudWatch Logs service of a real server through the Go SDK: groups,
// streams, PutLogEvents with its rejection rules, GetLogEvents and FilterLogEvents with their
// tokens, metric filters, TestMetricFilter, retention and tags; then restarts the server and
// finds everything (tokens included) where it was; and finds the calls in Event History.
func TestLogs(t *testing.T) {
	srv := testserver.Start(t)
	ctx := testserver.Context(t)
	c := cloudwatchlogs.NewFromConfig(srv.RootConfig())
	const group, stream = "/opentrail/e2e", "app-1"

	if _, err := c.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(group), Tags: map[string]string{"team": "sec"}}); err != nil {
		t.Fatal(err)
	}
	_, err := c.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(group)})
	logsErr(t, err, "ResourceAlreadyExistsException")
	if _, err := c.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutMetricFilter(ctx, &cloudwatchlogs.PutMetricFilterInput{
		LogGroupName: aws.String(group), FilterName: aws.String("server-errors"), FilterPattern: aws.String(`{ $.status >= 500 }`),
		MetricTransformations: []cwltypes.MetricTransformation{{
			MetricName: aws.String("ServerErrors"), MetricNamespace: aws.String("E2E"), MetricValue: aws.String("1"),
			Dimensions: map[string]string{"Path": "$.path"},
		}},
	}); err != nil {
		t.Fatal(err)
	}

	now := time.Now()
	var evs []cwltypes.InputLogEvent
	var want []string
	for i := range 6 {
		status := 200
		if i%3 == 2 {
			status = 503
		}
		msg := `{"status":` + strconv.Itoa(status) + `,"path":"/p` + strconv.Itoa(i) + `"}`
		want = append(want, msg)
		evs = append(evs, cwltypes.InputLogEvent{Timestamp: aws.Int64(now.Add(time.Duration(i-6) * time.Second).UnixMilli()), Message: aws.String(msg)})
	}
	tooOld := cwltypes.InputLogEvent{Timestamp: aws.Int64(now.Add(-15 * 24 * time.Hour).UnixMilli()), Message: aws.String("ancient")}
	out, err := c.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream),
		LogEvents: append([]cwltypes.InputLogEvent{tooOld}, evs...)})
	if err != nil {
		t.Fatal(err)
	}
	if r := out.RejectedLogEventsInfo; r == nil || aws.ToInt32(r.TooOldLogEventEndIndex) != 1 {
		t.Fatalf("rejectedLogEventsInfo = %+v; want tooOldLogEventEndIndex 1", r)
	}
	_, err = c.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream),
		LogEvents: []cwltypes.InputLogEvent{evs[1], evs[0]}})
	logsErr(t, err, "InvalidParameterException")
	_, err = c.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String("missing"), LogEvents: evs[:1]})
	logsErr(t, err, "ResourceNotFoundException")

	// GetLogEvents, two at a time from the head.
	readAll := func() ([]string, string) {
		t.Helper()
		var got []string
		in := &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream), StartFromHead: aws.Bool(true), Limit: aws.Int32(2)}
		for range 10 {
			page, err := c.GetLogEvents(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range page.Events {
				got = append(got, aws.ToString(e.Message))
			}
			if aws.ToString(page.NextForwardToken) == aws.ToString(in.NextToken) {
				return got, aws.ToString(page.NextForwardToken)
			}
			in.NextToken = page.NextForwardToken
		}
		t.Fatal("GetLogEvents did not reach the end")
		return nil, ""
	}
	got, endToken := readAll()
	if !slices.Equal(got, want) {
		t.Fatalf("GetLogEvents: %v; want %v", got, want)
	}

	filter := func(pattern string) []string {
		t.Helper()
		var msgs []string
		p := cloudwatchlogs.NewFilterLogEventsPaginator(c, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(group), FilterPattern: aws.String(pattern), Limit: aws.Int32(1)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range page.Events {
				msgs = append(msgs, aws.ToString(e.Message))
			}
		}
		return msgs
	}
	if got := filter(`{ $.status = 503 }`); !slices.Equal(got, []string{want[2], want[5]}) {
		t.Fatalf("FilterLogEvents: %v", got)
	}
	_, err = c.FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(group), FilterPattern: aws.String(`{ $.status = `)})
	logsErr(t, err, "InvalidParameterException")

	tm, err := c.TestMetricFilter(ctx, &cloudwatchlogs.TestMetricFilterInput{FilterPattern: aws.String(`[ip, user, status=5*, bytes]`),
		LogEventMessages: []string{"10.0.0.1 bob 200 12", "10.0.0.2 eve 503 99"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(tm.Matches) != 1 || tm.Matches[0].ExtractedValues["$status"] != "503" || tm.Matches[0].ExtractedValues["$bytes"] != "99" {
		t.Fatalf("TestMetricFilter = %+v", tm.Matches)
	}

	if _, err := c.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: aws.String(group), RetentionInDays: aws.Int32(30)}); err != nil {
		t.Fatal(err)
	}
	_, err = c.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: aws.String(group), RetentionInDays: aws.Int32(31)})
	logsErr(t, err, "InvalidParameterException")

	// Everything survives a restart, page tokens included.
	srv.Restart()
	c = cloudwatchlogs.NewFromConfig(srv.RootConfig())
	groups, err := c.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("/opentrail/")})
	if err != nil {
		t.Fatal(err)
	}
	if len(groups.LogGroups) != 1 || aws.ToInt32(groups.LogGroups[0].RetentionInDays) != 30 || aws.ToInt32(groups.LogGroups[0].MetricFilterCount) != 1 ||
		aws.ToInt64(groups.LogGroups[0].StoredBytes) == 0 {
		t.Fatalf("after restart: %+v", groups.LogGroups)
	}
	if got, _ := readAll(); !slices.Equal(got, want) {
		t.Fatalf("after restart GetLogEvents: %v", got)
	}
	late := `{"status":500,"path":"/late"}`
	if _, err := c.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream),
		LogEvents: []cwltypes.InputLogEvent{{Timestamp: aws.Int64(time.Now().UnixMilli()), Message: aws.String(late)}}}); err != nil {
		t.Fatal(err)
	}
	page, err := c.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream), StartFromHead: aws.Bool(true), NextToken: aws.String(endToken)})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Events) != 1 || aws.ToString(page.Events[0].Message) != late {
		t.Fatalf("a token from before the restart: %+v", page.Events)
	}
	streams, err := c.DescribeLogStreams(ctx, &cloudwatchlogs.DescribeLogStreamsInput{LogGroupName: aws.String(group), OrderBy: cwltypes.OrderByLastEventTime, Descending: aws.Bool(true)})
	if err != nil || len(streams.LogStreams) != 1 || streams.LogStreams[0].LastEventTimestamp == nil {
		t.Fatalf("DescribeLogStreams: %+v %v", streams, err)
	}
	tags, err := c.ListTagsForResource(ctx, &cloudwatchlogs.ListTagsForResourceInput{ResourceArn: groups.LogGroups[0].LogGroupArn})
	if err != nil || tags.Tags["team"] != "sec" {
		t.Fatalf("tags: %v %v", tags, err)
	}
	mfs, err := c.DescribeMetricFilters(ctx, &cloudwatchlogs.DescribeMetricFiltersInput{LogGroupName: aws.String(group)})
	if err != nil || len(mfs.MetricFilters) != 1 || mfs.MetricFilters[0].MetricTransformations[0].Dimensions["Path"] != "$.path" {
		t.Fatalf("metric filters: %+v %v", mfs, err)
	}

	// An unsupported operation says so.
	_, err = c.StartQuery(ctx, &cloudwatchlogs.StartQueryInput{LogGroupName: aws.String(group), QueryString: aws.String("fields @message"), StartTime: aws.Int64(0), EndTime: aws.Int64(1)})
	logsErr(t, err, "UnsupportedOperationException")

	// The calls are CloudTrail records like any other (PutLogEvents without its events).
	ct := cloudtrail.NewFromConfig(srv.RootConfig())
	deadline := time.Now().Add(10 * time.Second)
	for {
		out, err := ct.LookupEvents(ctx, &cloudtrail.LookupEventsInput{LookupAttributes: []cttypes.LookupAttribute{{
			AttributeKey: cttypes.LookupAttributeKeyEventSource, AttributeValue: aws.String("logs.amazonaws.com"),
		}}})
		if err != nil {
			t.Fatal(err)
		}
		var put string
		names := map[string]bool{}
		for _, e := range out.Events {
			names[aws.ToString(e.EventName)] = true
			if aws.ToString(e.EventName) == "PutLogEvents" {
				put = aws.ToString(e.CloudTrailEvent)
			}
		}
		if names["CreateLogGroup"] && names["PutMetricFilter"] && put != "" {
			if strings.Contains(put, "ancient") || !strings.Contains(put, `"logStreamName":"app-1"`) {
				t.Fatalf("PutLogEvents record: %s", put)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("logs calls not in Event History: %v", names)
		}
		time.Sleep(100 * time.Millisecond)
	}

	if _, err := c.DeleteLogGroup(ctx, &cloudwatchlogs.DeleteLogGroupInput{LogGroupName: aws.String(group)}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream)})
	logsErr(t, err, "ResourceNotFoundException")
}
