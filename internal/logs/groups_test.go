package logs

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	cwltypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
)

func TestCreateDescribeDeleteGroup(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	_, err := c.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{
		LogGroupName: aws.String("/aws/lambda/app"), Tags: map[string]string{"team": "sec"},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("/aws/lambda/app")})
	wantErr(t, err, "ResourceAlreadyExistsException", "The specified log group already exists")

	out, err := c.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.LogGroups) != 1 {
		t.Fatalf("got %d groups; want 1", len(out.LogGroups))
	}
	g := out.LogGroups[0]
	arn := "arn:aws:logs:us-east-1:" + acctA + ":log-group:/aws/lambda/app"
	if aws.ToString(g.Arn) != arn+":*" || aws.ToString(g.LogGroupArn) != arn {
		t.Errorf("arn = %q, logGroupArn = %q", aws.ToString(g.Arn), aws.ToString(g.LogGroupArn))
	}
	if aws.ToInt64(g.CreationTime) != t0.UnixMilli() || g.RetentionInDays != nil || aws.ToInt32(g.MetricFilterCount) != 0 ||
		g.LogGroupClass != cwltypes.LogGroupClassStandard || aws.ToInt64(g.StoredBytes) != 0 {
		t.Errorf("group = %+v", g)
	}
	if rec := e.rec.first("CreateLogGroup"); rec == nil || len(rec.Resources) != 1 || rec.Resources[0].ARN != arn {
		t.Errorf("CreateLogGroup record resources = %+v", rec)
	}

	if _, err := c.DeleteLogGroup(ctx, &cloudwatchlogs.DeleteLogGroupInput{LogGroupName: aws.String("/aws/lambda/app")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DeleteLogGroup(ctx, &cloudwatchlogs.DeleteLogGroupInput{LogGroupName: aws.String("/aws/lambda/app")})
	wantErr(t, err, "ResourceNotFoundException", "The specified log group does not exist.")
}

func TestGroupNameValidation(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct{ name, code, msg string }{
		{"bad name!", "InvalidParameterException", "Member must satisfy regular expression pattern"},
		{strings.Repeat("a", 513), "InvalidParameterException", "Member must have length less than or equal to 512"},
		{"aws/mine", "InvalidParameterException", "reserved for AWS"},
	} {
		_, err := e.client().CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(tc.name)})
		wantErr(t, err, tc.code, tc.msg)
	}
	_, err := e.client().CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("g"), KmsKeyId: aws.String("arn:aws:kms:us-east-1:123456789012:key/x")})
	wantErr(t, err, "InvalidParameterException", "not supported")
	_, err = e.client().CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("g"), Tags: map[string]string{"aws:x": "y"}})
	wantErr(t, err, "InvalidParameterException", "reserved")
	status, body := e.raw("CreateLogGroup", `{"logGroupName":"g","logGroupClass":"COLD"}`)
	if status != 400 || !strings.Contains(string(body), "InvalidParameterException") {
		t.Errorf("bad class: %d %s", status, body)
	}
}

func TestDescribeLogGroupsPaging(t *testing.T) {
	e := newEnv(t)
	var names []string
	for i := range 7 {
		n := fmt.Sprintf("app/%02d", i)
		names = append(names, n)
		e.group(n)
	}
	e.group("other/x")
	e.group("/service/DataLogs")

	var got []string
	p := cloudwatchlogs.NewDescribeLogGroupsPaginator(e.client(), &cloudwatchlogs.DescribeLogGroupsInput{
		LogGroupNamePrefix: aws.String("app/"), Limit: aws.Int32(3),
	})
	pages := 0
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, g := range out.LogGroups {
			got = append(got, aws.ToString(g.LogGroupName))
		}
	}
	if !slices.Equal(got, names) || pages != 3 {
		t.Fatalf("got %v in %d pages; want %v in 3", got, pages, names)
	}

	// Pattern: case-sensitive substring, brief shape.
	out, err := e.client().DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePattern: aws.String("DataLogs")})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.LogGroups) != 1 || aws.ToString(out.LogGroups[0].LogGroupName) != "/service/DataLogs" || out.LogGroups[0].LogGroupArn != nil {
		t.Fatalf("pattern: %+v", out.LogGroups)
	}
	out, _ = e.client().DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePattern: aws.String("datalogs")})
	if len(out.LogGroups) != 0 {
		t.Errorf("pattern is case-insensitive: %+v", out.LogGroups)
	}
	_, err = e.client().DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePattern: aws.String("a"), LogGroupNamePrefix: aws.String("a")})
	wantErr(t, err, "InvalidParameterException", "mutually exclusive")
	_, err = e.client().DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{Limit: aws.Int32(51)})
	wantErr(t, err, "InvalidParameterException", "less than or equal to 50")

	// Tokens: forged, altered, or presented with other parameters are refused.
	first, err := e.client().DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{Limit: aws.Int32(2)})
	if err != nil || first.NextToken == nil {
		t.Fatalf("first page: %v %+v", err, first)
	}
	tok := aws.ToString(first.NextToken)
	for _, bad := range []string{"forged", tok[:len(tok)-2] + "AA", "AQ"} {
		_, err = e.client().DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{Limit: aws.Int32(2), NextToken: aws.String(bad)})
		wantErr(t, err, "InvalidParameterException", "nextToken")
	}
	_, err = e.client().DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("app"), NextToken: aws.String(tok)})
	wantErr(t, err, "InvalidParameterException", "nextToken")
	_, err = e.clientFor(keyB, secretB, region1).DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{Limit: aws.Int32(2), NextToken: aws.String(tok)})
	wantErr(t, err, "InvalidParameterException", "nextToken")
}

func TestGroupIsolation(t *testing.T) {
	e := newEnv(t)
	e.group("shared", "s")
	b := e.clientFor(keyB, secretB, region1)
	other := e.clientFor(keyA, secretA, region2)
	for _, c := range []*cloudwatchlogs.Client{b, other} {
		out, err := c.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{})
		if err != nil || len(out.LogGroups) != 0 {
			t.Fatalf("another account or region sees %+v (%v)", out, err)
		}
		_, err = c.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("shared"), LogStreamName: aws.String("s"), LogEvents: []cwltypes.InputLogEvent{ev(e.ms(0), "x")}})
		wantErr(t, err, "ResourceNotFoundException", "log group does not exist")
		// The same name is free there.
		if _, err := c.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("shared")}); err != nil {
			t.Fatal(err)
		}
	}
	// ARN identifiers of another account do not reach account A's group.
	_, err := b.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{
		LogGroupIdentifier: aws.String("arn:aws:logs:us-east-1:" + acctA + ":log-group:shared"), LogStreamName: aws.String("s"),
	})
	wantErr(t, err, "ResourceNotFoundException", "log group does not exist")
	_, err = b.ListTagsForResource(ctx, &cloudwatchlogs.ListTagsForResourceInput{ResourceArn: aws.String("arn:aws:logs:us-east-1:" + acctA + ":log-group:shared")})
	wantErr(t, err, "ResourceNotFoundException", "")
}

func TestRetentionPolicyValues(t *testing.T) {
	e := newEnv(t)
	e.group("g")
	c := e.client()
	_, err := c.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: aws.String("g"), RetentionInDays: aws.Int32(2)})
	wantErr(t, err, "InvalidParameterException", "Member must satisfy enum value set: [1, 3, 5, 7, 14, 30")
	_, err = c.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: aws.String("missing"), RetentionInDays: aws.Int32(7)})
	wantErr(t, err, "ResourceNotFoundException", "")
	for _, d := range retentionDays {
		if _, err := c.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: aws.String("g"), RetentionInDays: aws.Int32(int32(d))}); err != nil {
			t.Fatalf("%d days: %v", d, err)
		}
	}
	out, _ := c.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{})
	if aws.ToInt32(out.LogGroups[0].RetentionInDays) != 3653 {
		t.Errorf("retention = %v", out.LogGroups[0].RetentionInDays)
	}
	if _, err := c.DeleteRetentionPolicy(ctx, &cloudwatchlogs.DeleteRetentionPolicyInput{LogGroupName: aws.String("g")}); err != nil {
		t.Fatal(err)
	}
	out, _ = c.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{})
	if out.LogGroups[0].RetentionInDays != nil {
		t.Errorf("retention after delete = %v", *out.LogGroups[0].RetentionInDays)
	}
}

func TestTags(t *testing.T) {
	e := newEnv(t)
	e.group("g")
	c := e.client()
	arn := aws.String(GroupARN(region1, acctA, "g"))
	if _, err := c.TagResource(ctx, &cloudwatchlogs.TagResourceInput{ResourceArn: arn, Tags: map[string]string{"a": "1", "b": "2"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UntagResource(ctx, &cloudwatchlogs.UntagResourceInput{ResourceArn: arn, TagKeys: []string{"a"}}); err != nil {
		t.Fatal(err)
	}
	//lint:ignore SA1019 the legacy operations are served too
	if _, err := c.TagLogGroup(ctx, &cloudwatchlogs.TagLogGroupInput{LogGroupName: aws.String("g"), Tags: map[string]string{"c": "3"}}); err != nil {
		t.Fatal(err)
	}
	out, err := c.ListTagsForResource(ctx, &cloudwatchlogs.ListTagsForResourceInput{ResourceArn: arn})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Tags) != 2 || out.Tags["b"] != "2" || out.Tags["c"] != "3" {
		t.Errorf("tags = %v", out.Tags)
	}
	//lint:ignore SA1019 the legacy operations are served too
	legacy, err := c.ListTagsLogGroup(ctx, &cloudwatchlogs.ListTagsLogGroupInput{LogGroupName: aws.String("g")})
	if err != nil || len(legacy.Tags) != 2 {
		t.Errorf("ListTagsLogGroup = %v, %v", legacy, err)
	}
	many := map[string]string{}
	for i := range 49 {
		many[fmt.Sprintf("k%d", i)] = "v"
	}
	_, err = c.TagResource(ctx, &cloudwatchlogs.TagResourceInput{ResourceArn: arn, Tags: many})
	wantErr(t, err, "TooManyTagsException", "no more than 50")
	_, err = c.TagResource(ctx, &cloudwatchlogs.TagResourceInput{ResourceArn: aws.String("arn:aws:logs:us-east-1:" + acctA + ":destination:d"), Tags: map[string]string{"a": "b"}})
	wantErr(t, err, "ResourceNotFoundException", "")
	_, err = c.TagResource(ctx, &cloudwatchlogs.TagResourceInput{ResourceArn: aws.String("arn:aws:sns:us-east-1:" + acctA + ":t"), Tags: map[string]string{"a": "b"}})
	wantErr(t, err, "InvalidParameterException", "Invalid resource ARN")
}

func TestDeletionProtection(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	if _, err := c.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("keep"), DeletionProtectionEnabled: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	_, err := c.DeleteLogGroup(ctx, &cloudwatchlogs.DeleteLogGroupInput{LogGroupName: aws.String("keep")})
	wantErr(t, err, "ValidationException", "deletion protection")
	if _, err := c.PutLogGroupDeletionProtection(ctx, &cloudwatchlogs.PutLogGroupDeletionProtectionInput{LogGroupIdentifier: aws.String("keep"), DeletionProtectionEnabled: aws.Bool(false)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteLogGroup(ctx, &cloudwatchlogs.DeleteLogGroupInput{LogGroupName: aws.String("keep")}); err != nil {
		t.Fatal(err)
	}
}

func TestDeleteGroupRemovesEverything(t *testing.T) {
	e := newEnv(t)
	e.group("g", "s1", "s2")
	e.group("g2", "s1") // a group whose name extends "g": untouched
	e.put("g", "s1", ev(e.ms(0), "one"))
	e.put("g2", "s1", ev(e.ms(0), "kept"))
	putFilter(t, e, "g", "f", "", "1")
	if _, err := e.client().DeleteLogGroup(ctx, &cloudwatchlogs.DeleteLogGroupInput{LogGroupName: aws.String("g")}); err != nil {
		t.Fatal(err)
	}
	e.group("g", "s1")
	out, err := e.client().GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s1")})
	if err != nil || len(out.Events) != 0 {
		t.Fatalf("recreated group has events %v (%v)", out, err)
	}
	streams, _ := e.client().DescribeLogStreams(ctx, &cloudwatchlogs.DescribeLogStreamsInput{LogGroupName: aws.String("g")})
	if len(streams.LogStreams) != 1 {
		t.Errorf("streams = %d", len(streams.LogStreams))
	}
	mf, _ := e.client().DescribeMetricFilters(ctx, &cloudwatchlogs.DescribeMetricFiltersInput{LogGroupName: aws.String("g")})
	if len(mf.MetricFilters) != 0 {
		t.Errorf("filters survived: %+v", mf.MetricFilters)
	}
	kept, _ := e.client().GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String("g2"), LogStreamName: aws.String("s1")})
	if len(kept.Events) != 1 {
		t.Errorf("g2 lost its events")
	}
}

func TestUnsupportedOperation(t *testing.T) {
	e := newEnv(t)
	_, err := e.client().StartQuery(ctx, &cloudwatchlogs.StartQueryInput{
		QueryString: aws.String("fields @message"), StartTime: aws.Int64(0), EndTime: aws.Int64(1), LogGroupName: aws.String("g"),
	})
	wantErr(t, err, "UnsupportedOperationException", "StartQuery is not supported by this server yet")
}

func TestPersistence(t *testing.T) {
	e := newEnv(t)
	e.group("g", "s")
	putFilter(t, e, "g", "errors", "ERROR", "1")
	e.put("g", "s", ev(e.ms(0), "first ERROR"))
	e.restart()
	e.put("g", "s", ev(e.ms(time.Second), "second ERROR"))
	out, err := e.client().GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s"), StartFromHead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	if got := outMsgs(out.Events); !slices.Equal(got, []string{"first ERROR", "second ERROR"}) {
		t.Fatalf("after restart: %v", got)
	}
	if n := len(e.sink.take()); n != 2 {
		t.Errorf("filter emitted %d points across the restart; want 2", n)
	}
}
