package cloudtrail

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"

	"github.com/opentrail/opentrail"
	"github.com/opentrail/opentrail/internal/server"
)

func TestTrailLifecycle(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.client("us-east-1")

	created, err := c.CreateTrail(ctx, &cloudtrail.CreateTrailInput{
		Name:                    aws.String("main-trail"),
		S3BucketName:            aws.String("trail-logs"),
		S3KeyPrefix:             aws.String("audit"),
		EnableLogFileValidation: aws.Bool(true),
		TagsList:                []types.Tag{{Key: aws.String("team"), Value: aws.String("security")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	arn := arnOf("us-east-1", "main-trail")
	if aws.ToString(created.TrailARN) != arn || aws.ToString(created.Name) != "main-trail" ||
		aws.ToString(created.S3BucketName) != "trail-logs" || aws.ToString(created.S3KeyPrefix) != "audit" ||
		!aws.ToBool(created.IncludeGlobalServiceEvents) || aws.ToBool(created.IsMultiRegionTrail) ||
		!aws.ToBool(created.LogFileValidationEnabled) || aws.ToBool(created.IsOrganizationTrail) ||
		created.SnsTopicARN != nil || created.KmsKeyId != nil || created.CloudWatchLogsLogGroupArn != nil {
		t.Fatalf("CreateTrail output = %+v", created)
	}

	// GetTrail, by name and by ARN.
	for _, name := range []string{"main-trail", arn} {
		got, err := c.GetTrail(ctx, &cloudtrail.GetTrailInput{Name: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		tr := got.Trail
		if aws.ToString(tr.TrailARN) != arn || aws.ToString(tr.HomeRegion) != "us-east-1" ||
			aws.ToBool(tr.HasCustomEventSelectors) || aws.ToBool(tr.HasInsightSelectors) || !aws.ToBool(tr.LogFileValidationEnabled) {
			t.Fatalf("GetTrail(%s) = %+v", name, tr)
		}
	}

	// DescribeTrails with no arguments (as validate-logs calls it).
	desc, err := c.DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(desc.TrailList) != 1 || aws.ToString(desc.TrailList[0].Name) != "main-trail" {
		t.Fatalf("DescribeTrails = %+v", desc.TrailList)
	}
	desc, err = c.DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{TrailNameList: []string{"main-trail", "no-such-trail", arn}})
	if err != nil {
		t.Fatal(err)
	}
	if len(desc.TrailList) != 1 {
		t.Fatalf("DescribeTrails(names) = %d trails; want 1 (unknown names left out, duplicates once)", len(desc.TrailList))
	}
	_, err = c.DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{TrailNameList: []string{"x"}})
	wantErr(t, err, CodeInvalidTrailName, "too short")

	list, err := c.ListTrails(ctx, &cloudtrail.ListTrailsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Trails) != 1 || aws.ToString(list.Trails[0].TrailARN) != arn || aws.ToString(list.Trails[0].HomeRegion) != "us-east-1" || list.NextToken != nil {
		t.Fatalf("ListTrails = %+v", list)
	}

	// A new trail is not logging; times appear as logging starts and stops.
	st, err := c.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String("main-trail")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToBool(st.IsLogging) || st.StartLoggingTime != nil || st.StopLoggingTime != nil || st.LatestDeliveryTime != nil ||
		aws.ToString(st.TimeLoggingStarted) != "" || aws.ToString(st.TimeLoggingStopped) != "" {
		t.Fatalf("status of new trail = %+v", st)
	}
	if _, err := c.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String("main-trail")}); err != nil {
		t.Fatal(err)
	}
	started := e.clock.Now()
	st, err = c.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	if !aws.ToBool(st.IsLogging) || !aws.ToTime(st.StartLoggingTime).Equal(started) || st.StopLoggingTime != nil ||
		aws.ToString(st.TimeLoggingStarted) != "2025-03-01T12:00:00Z" || aws.ToString(st.TimeLoggingStopped) != "" {
		t.Fatalf("status after StartLogging = %+v (start %v)", st, aws.ToTime(st.StartLoggingTime))
	}
	e.clock.Advance(90 * time.Minute)
	if _, err := c.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String("main-trail")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.StopLogging(ctx, &cloudtrail.StopLoggingInput{Name: aws.String("main-trail")}); err != nil {
		t.Fatal(err)
	}
	st, err = c.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String("main-trail")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToBool(st.IsLogging) || !aws.ToTime(st.StartLoggingTime).Equal(started) ||
		!aws.ToTime(st.StopLoggingTime).Equal(started.Add(90*time.Minute)) || aws.ToString(st.TimeLoggingStopped) != "2025-03-01T13:30:00Z" {
		t.Fatalf("status after StopLogging = %+v", st)
	}

	// UpdateTrail changes only what it is given; empty strings clear.
	up, err := c.UpdateTrail(ctx, &cloudtrail.UpdateTrailInput{Name: aws.String(arn), S3BucketName: aws.String("other-logs"), EnableLogFileValidation: aws.Bool(false)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(up.S3BucketName) != "other-logs" || aws.ToString(up.S3KeyPrefix) != "audit" || aws.ToBool(up.LogFileValidationEnabled) || aws.ToString(up.TrailARN) != arn {
		t.Fatalf("UpdateTrail output = %+v", up)
	}
	up, err = c.UpdateTrail(ctx, &cloudtrail.UpdateTrailInput{Name: aws.String("main-trail"), S3KeyPrefix: aws.String(""), KmsKeyId: aws.String(""), SnsTopicName: aws.String("")})
	if err != nil {
		t.Fatal(err)
	}
	if up.S3KeyPrefix != nil || aws.ToString(up.S3BucketName) != "other-logs" {
		t.Fatalf("UpdateTrail clearing prefix = %+v", up)
	}

	if _, err := c.DeleteTrail(ctx, &cloudtrail.DeleteTrailInput{Name: aws.String("main-trail")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetTrail(ctx, &cloudtrail.GetTrailInput{Name: aws.String("main-trail")})
	wantErr(t, err, CodeTrailNotFound, "Unknown trail: "+arn+" for the user: "+testAccount)
	_, err = c.DeleteTrail(ctx, &cloudtrail.DeleteTrailInput{Name: aws.String("main-trail")})
	wantErr(t, err, CodeTrailNotFound, "Unknown trail: "+arn)
	for _, op := range []func() error{
		func() error {
			_, err := c.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String("main-trail")})
			return err
		},
		func() error {
			_, err := c.StopLogging(ctx, &cloudtrail.StopLoggingInput{Name: aws.String("main-trail")})
			return err
		},
		func() error {
			_, err := c.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String("main-trail")})
			return err
		},
		func() error {
			_, err := c.UpdateTrail(ctx, &cloudtrail.UpdateTrailInput{Name: aws.String("main-trail")})
			return err
		},
		func() error {
			_, err := c.GetEventSelectors(ctx, &cloudtrail.GetEventSelectorsInput{TrailName: aws.String("main-trail")})
			return err
		},
	} {
		wantErr(t, op(), CodeTrailNotFound, "Unknown trail: "+arn)
	}
	desc, err = c.DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{})
	if err != nil || len(desc.TrailList) != 0 {
		t.Fatalf("DescribeTrails after delete = %+v, %v", desc, err)
	}
}

func TestCreateTrailValidation(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.client("us-east-1")
	e.create("us-east-1", "existing", false)

	base := func(mod func(in *cloudtrail.CreateTrailInput)) *cloudtrail.CreateTrailInput {
		in := &cloudtrail.CreateTrailInput{Name: aws.String("new-trail"), S3BucketName: aws.String("trail-logs")}
		mod(in)
		return in
	}
	tags := func(n int) []types.Tag {
		out := make([]types.Tag, n)
		for i := range out {
			out[i] = types.Tag{Key: aws.String(fmt.Sprintf("k%d", i)), Value: aws.String("v")}
		}
		return out
	}
	tests := []struct {
		name string
		in   *cloudtrail.CreateTrailInput
		code string
		msg  string
	}{
		{"short name", base(func(in *cloudtrail.CreateTrailInput) { in.Name = aws.String("ab") }), CodeInvalidTrailName, "Trail name too short. Minimum allowed length: 3 characters. Specified name length: 2 characters."},
		{"long name", base(func(in *cloudtrail.CreateTrailInput) { in.Name = aws.String(strings.Repeat("a", 129)) }), CodeInvalidTrailName, "Trail name too long"},
		{"bad start", base(func(in *cloudtrail.CreateTrailInput) { in.Name = aws.String("-trail") }), CodeInvalidTrailName, "must starts with a letter or number"},
		{"bad end", base(func(in *cloudtrail.CreateTrailInput) { in.Name = aws.String("trail_") }), CodeInvalidTrailName, "must ends with a letter or number"},
		{"bad chars", base(func(in *cloudtrail.CreateTrailInput) { in.Name = aws.String("my trail") }), CodeInvalidTrailName, "can only contain"},
		{"adjacent", base(func(in *cloudtrail.CreateTrailInput) { in.Name = aws.String("my-_trail") }), CodeInvalidTrailName, "adjacent"},
		{"ip", base(func(in *cloudtrail.CreateTrailInput) { in.Name = aws.String("10.0.0.1") }), CodeInvalidTrailName, "IP address"},
		{"exists", base(func(in *cloudtrail.CreateTrailInput) { in.Name = aws.String("existing") }), CodeTrailAlreadyExists, "Trail existing already exists for customer: " + testAccount},
		{"no bucket", base(func(in *cloudtrail.CreateTrailInput) { in.S3BucketName = aws.String("no-such-bucket") }), CodeS3BucketDoesNotExist, "S3 bucket does not exist!"},
		{"bad bucket name", base(func(in *cloudtrail.CreateTrailInput) { in.S3BucketName = aws.String("Bad_Bucket") }), CodeInvalidS3BucketName, "Invalid bucket name: Bad_Bucket"},
		{"empty bucket name", base(func(in *cloudtrail.CreateTrailInput) { in.S3BucketName = aws.String("") }), CodeInvalidS3BucketName, "must not be empty"},
		{"denied bucket", base(func(in *cloudtrail.CreateTrailInput) { in.S3BucketName = aws.String("denied-logs") }), CodeInsufficientS3BucketPolicy, "Incorrect S3 bucket policy is detected for bucket: denied-logs"},
		{"long prefix", base(func(in *cloudtrail.CreateTrailInput) { in.S3KeyPrefix = aws.String(strings.Repeat("p", 201)) }), CodeInvalidS3Prefix, "201 characters; the maximum is 200"},
		{"sns", base(func(in *cloudtrail.CreateTrailInput) { in.SnsTopicName = aws.String("topic") }), CodeInsufficientSnsTopicPolicy, "SNS Topic does not exist"},
		{"sns long", base(func(in *cloudtrail.CreateTrailInput) { in.SnsTopicName = aws.String(strings.Repeat("t", 257)) }), CodeInvalidSnsTopicName, "too long"},
		{"kms", base(func(in *cloudtrail.CreateTrailInput) { in.KmsKeyId = aws.String("alias/trail") }), CodeKmsKeyNotFound, "KMS key alias/trail was not found"},
		{"cwl group only", base(func(in *cloudtrail.CreateTrailInput) {
			in.CloudWatchLogsLogGroupArn = aws.String("arn:aws:logs:us-east-1:123456789012:log-group:g:*")
		}), CodeInvalidParameterCombination, "must be specified together"},
		{"cwl", base(func(in *cloudtrail.CreateTrailInput) {
			in.CloudWatchLogsLogGroupArn = aws.String("arn:aws:logs:us-east-1:123456789012:log-group:g:*")
			in.CloudWatchLogsRoleArn = aws.String("arn:aws:iam::123456789012:role/r")
		}), CodeInvalidCloudWatchLogsGroup, "does not exist"},
		{"organization", base(func(in *cloudtrail.CreateTrailInput) { in.IsOrganizationTrail = aws.Bool(true) }), CodeOrganizationsNotInUse, "not a member of an organization"},
		{"multi without global", base(func(in *cloudtrail.CreateTrailInput) {
			in.IsMultiRegionTrail = aws.Bool(true)
			in.IncludeGlobalServiceEvents = aws.Bool(false)
		}), CodeInvalidParameterCombination, "Multi-Region trail must include global service events."},
		{"aws tag", base(func(in *cloudtrail.CreateTrailInput) { in.TagsList = []types.Tag{{Key: aws.String("aws:owner")}} }), CodeInvalidTagParameter, "reserved for AWS use"},
		{"long tag key", base(func(in *cloudtrail.CreateTrailInput) {
			in.TagsList = []types.Tag{{Key: aws.String(strings.Repeat("k", 129))}}
		}), CodeInvalidTagParameter, "1 to 128 characters"},
		{"long tag value", base(func(in *cloudtrail.CreateTrailInput) {
			in.TagsList = []types.Tag{{Key: aws.String("k"), Value: aws.String(strings.Repeat("v", 257))}}
		}), CodeInvalidTagParameter, "at most 256 characters"},
		{"bad tag chars", base(func(in *cloudtrail.CreateTrailInput) { in.TagsList = []types.Tag{{Key: aws.String("a*b")}} }), CodeInvalidTagParameter, "not allowed"},
		{"51 tags", base(func(in *cloudtrail.CreateTrailInput) { in.TagsList = tags(51) }), CodeTagsLimitExceeded, "at most 50 tags"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.CreateTrail(ctx, tt.in)
			wantErr(t, err, tt.code, tt.msg)
		})
	}
	// Nothing was created by the failures.
	list, err := c.ListTrails(ctx, &cloudtrail.ListTrailsInput{})
	if err != nil || len(list.Trails) != 1 {
		t.Fatalf("ListTrails after failures = %+v, %v", list, err)
	}
	// 50 tags are fine.
	if _, err := c.CreateTrail(ctx, base(func(in *cloudtrail.CreateTrailInput) { in.TagsList = tags(50) })); err != nil {
		t.Fatal(err)
	}
}

func TestUpdateTrailValidation(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.client("us-east-1")
	e.create("us-east-1", "tr1", false)
	tests := []struct {
		name string
		in   *cloudtrail.UpdateTrailInput
		code string
		msg  string
	}{
		{"unknown", &cloudtrail.UpdateTrailInput{Name: aws.String("nope1")}, CodeTrailNotFound, "Unknown trail: " + arnOf("us-east-1", "nope1")},
		{"bad arn", &cloudtrail.UpdateTrailInput{Name: aws.String("arn:aws:cloudtrail:us-east-1:123456789012:t1")}, CodeCloudTrailARNInvalid, "Invalid trail ARN"},
		{"no bucket", &cloudtrail.UpdateTrailInput{Name: aws.String("tr1"), S3BucketName: aws.String("no-such-bucket")}, CodeS3BucketDoesNotExist, "S3 bucket does not exist!"},
		{"empty bucket", &cloudtrail.UpdateTrailInput{Name: aws.String("tr1"), S3BucketName: aws.String("")}, CodeInvalidS3BucketName, "must not be empty"},
		{"denied", &cloudtrail.UpdateTrailInput{Name: aws.String("tr1"), S3BucketName: aws.String("denied-logs")}, CodeInsufficientS3BucketPolicy, "denied-logs"},
		{"prefix", &cloudtrail.UpdateTrailInput{Name: aws.String("tr1"), S3KeyPrefix: aws.String(strings.Repeat("p", 201))}, CodeInvalidS3Prefix, "maximum is 200"},
		{"sns", &cloudtrail.UpdateTrailInput{Name: aws.String("tr1"), SnsTopicName: aws.String("arn:aws:sns:us-east-1:123456789012:t")}, CodeInsufficientSnsTopicPolicy, "does not exist"},
		{"sns too long", &cloudtrail.UpdateTrailInput{Name: aws.String("tr1"), SnsTopicName: aws.String(strings.Repeat("t", 257))}, CodeInvalidSnsTopicName, "maximum is 256"},
		{"kms", &cloudtrail.UpdateTrailInput{Name: aws.String("tr1"), KmsKeyId: aws.String("1234abcd-12ab-34cd-56ef-1234567890ab")}, CodeKmsKeyNotFound, "does not host AWS KMS"},
		{"cwl role only", &cloudtrail.UpdateTrailInput{Name: aws.String("tr1"), CloudWatchLogsRoleArn: aws.String("arn:aws:iam::123456789012:role/r")}, CodeInvalidParameterCombination, "together"},
		{"org", &cloudtrail.UpdateTrailInput{Name: aws.String("tr1"), IsOrganizationTrail: aws.Bool(true)}, CodeOrganizationsNotInUse, "Organizations"},
		{"multi without global", &cloudtrail.UpdateTrailInput{Name: aws.String("tr1"), IsMultiRegionTrail: aws.Bool(true), IncludeGlobalServiceEvents: aws.Bool(false)}, CodeInvalidParameterCombination, "Multi-Region trail must include global service events."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.UpdateTrail(ctx, tt.in)
			wantErr(t, err, tt.code, tt.msg)
		})
	}
	// Failed updates changed nothing.
	got, err := c.GetTrail(ctx, &cloudtrail.GetTrailInput{Name: aws.String("tr1")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(got.Trail.S3BucketName) != "trail-logs" || got.Trail.S3KeyPrefix != nil || aws.ToBool(got.Trail.IsMultiRegionTrail) || !aws.ToBool(got.Trail.IncludeGlobalServiceEvents) {
		t.Fatalf("trail after failed updates = %+v", got.Trail)
	}
	// Global events may be turned off on a single-region trail, and IsOrganizationTrail=false is fine.
	up, err := c.UpdateTrail(ctx, &cloudtrail.UpdateTrailInput{Name: aws.String("tr1"), IncludeGlobalServiceEvents: aws.Bool(false), IsOrganizationTrail: aws.Bool(false)})
	if err != nil || aws.ToBool(up.IncludeGlobalServiceEvents) {
		t.Fatalf("UpdateTrail global off = %+v, %v", up, err)
	}
}

func TestTrailLimits(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	east, west := e.client("us-east-1"), e.client("us-west-2")

	for i := 0; i < 4; i++ {
		e.create("us-east-1", fmt.Sprintf("east-%d", i), false)
	}
	// A multi-region trail homed in us-west-2 counts in us-east-1 too: 5 there now.
	e.create("us-west-2", "everywhere", true)
	_, err := east.CreateTrail(ctx, &cloudtrail.CreateTrailInput{Name: aws.String("east-5"), S3BucketName: aws.String("trail-logs")})
	wantErr(t, err, CodeMaximumNumberOfTrailsExceeded, "User: "+testAccount+" already has 5 trails in us-east-1.")
	// Another multi-region trail would make 6 in us-east-1.
	_, err = west.CreateTrail(ctx, &cloudtrail.CreateTrailInput{Name: aws.String("everywhere-2"), S3BucketName: aws.String("trail-logs"), IsMultiRegionTrail: aws.Bool(true)})
	wantErr(t, err, CodeMaximumNumberOfTrailsExceeded, "already has 5 trails in us-east-1")
	// us-west-2 holds one trail, so four more fit there.
	for i := 0; i < 4; i++ {
		e.create("us-west-2", fmt.Sprintf("west-%d", i), false)
	}
	_, err = west.CreateTrail(ctx, &cloudtrail.CreateTrailInput{Name: aws.String("west-5"), S3BucketName: aws.String("trail-logs")})
	wantErr(t, err, CodeMaximumNumberOfTrailsExceeded, "in us-west-2")
	// Turning a single-region trail multi-region is checked the same way.
	e.create("eu-west-1", "eu-1", false)
	_, err = e.client("eu-west-1").UpdateTrail(ctx, &cloudtrail.UpdateTrailInput{Name: aws.String("eu-1"), IsMultiRegionTrail: aws.Bool(true)})
	wantErr(t, err, CodeMaximumNumberOfTrailsExceeded, "already has 5 trails")
	// Deleting frees a slot.
	if _, err := east.DeleteTrail(ctx, &cloudtrail.DeleteTrailInput{Name: aws.String("east-0")}); err != nil {
		t.Fatal(err)
	}
	e.create("us-east-1", "east-5", false)
}

func TestMultiRegionShadowTrails(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	east, eu := e.client("us-east-1"), e.client("eu-west-1")
	e.create("us-east-1", "org-wide", true)
	e.create("us-east-1", "local", false)
	e.create("eu-west-1", "eu-local", false)
	multiARN, localARN := arnOf("us-east-1", "org-wide"), arnOf("us-east-1", "local")

	names := func(ts []types.Trail) []string {
		var out []string
		for _, t := range ts {
			out = append(out, aws.ToString(t.Name)+"@"+aws.ToString(t.HomeRegion))
		}
		slices.Sort(out)
		return out
	}
	desc, err := eu.DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := names(desc.TrailList), []string{"eu-local@eu-west-1", "org-wide@us-east-1"}; !slices.Equal(got, want) {
		t.Fatalf("DescribeTrails in eu-west-1 = %v; want %v", got, want)
	}
	desc, err = eu.DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{IncludeShadowTrails: aws.Bool(false)})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := names(desc.TrailList), []string{"eu-local@eu-west-1"}; !slices.Equal(got, want) {
		t.Fatalf("DescribeTrails without shadows = %v; want %v", got, want)
	}
	// By name only trails homed in the region; by ARN any.
	desc, err = eu.DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{TrailNameList: []string{"org-wide", "local"}})
	if err != nil || len(desc.TrailList) != 0 {
		t.Fatalf("DescribeTrails by other-region names = %v, %v; want none", names(desc.TrailList), err)
	}
	desc, err = eu.DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{TrailNameList: []string{multiARN, localARN}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := names(desc.TrailList), []string{"local@us-east-1", "org-wide@us-east-1"}; !slices.Equal(got, want) {
		t.Fatalf("DescribeTrails by ARN = %v; want %v", got, want)
	}

	// Reads by ARN work from any region.
	got, err := eu.GetTrail(ctx, &cloudtrail.GetTrailInput{Name: aws.String(multiARN)})
	if err != nil || aws.ToString(got.Trail.HomeRegion) != "us-east-1" || !aws.ToBool(got.Trail.IsMultiRegionTrail) {
		t.Fatalf("GetTrail shadow = %+v, %v", got, err)
	}
	_, err = eu.GetTrail(ctx, &cloudtrail.GetTrailInput{Name: aws.String("org-wide")})
	wantErr(t, err, CodeTrailNotFound, "Unknown trail: "+arnOf("eu-west-1", "org-wide"))
	if _, err := eu.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String(multiARN)}); err != nil {
		t.Fatal(err)
	}
	if _, err := eu.GetEventSelectors(ctx, &cloudtrail.GetEventSelectorsInput{TrailName: aws.String(multiARN)}); err != nil {
		t.Fatal(err)
	}
	if _, err := eu.ListTags(ctx, &cloudtrail.ListTagsInput{ResourceIdList: []string{multiARN}}); err != nil {
		t.Fatal(err)
	}

	// Changes only in the home region.
	home := "must be called in the trail's home region"
	_, err = eu.UpdateTrail(ctx, &cloudtrail.UpdateTrailInput{Name: aws.String(multiARN), S3KeyPrefix: aws.String("x")})
	wantErr(t, err, CodeInvalidHomeRegion, home)
	_, err = eu.DeleteTrail(ctx, &cloudtrail.DeleteTrailInput{Name: aws.String(multiARN)})
	wantErr(t, err, CodeInvalidHomeRegion, "us-east-1")
	_, err = eu.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String(multiARN)})
	wantErr(t, err, CodeInvalidHomeRegion, home)
	_, err = eu.StopLogging(ctx, &cloudtrail.StopLoggingInput{Name: aws.String(multiARN)})
	wantErr(t, err, CodeInvalidHomeRegion, home)
	_, err = eu.PutEventSelectors(ctx, &cloudtrail.PutEventSelectorsInput{TrailName: aws.String(multiARN), EventSelectors: []types.EventSelector{{}}})
	wantErr(t, err, CodeInvalidHomeRegion, home)
	_, err = eu.PutInsightSelectors(ctx, &cloudtrail.PutInsightSelectorsInput{TrailName: aws.String(multiARN), InsightSelectors: []types.InsightSelector{}})
	wantErr(t, err, CodeInvalidHomeRegion, home)
	_, err = eu.AddTags(ctx, &cloudtrail.AddTagsInput{ResourceId: aws.String(multiARN), TagsList: []types.Tag{{Key: aws.String("k")}}})
	wantErr(t, err, CodeInvalidHomeRegion, home)
	_, err = eu.RemoveTags(ctx, &cloudtrail.RemoveTagsInput{ResourceId: aws.String(multiARN), TagsList: []types.Tag{{Key: aws.String("k")}}})
	wantErr(t, err, CodeInvalidHomeRegion, home)

	// The shadow occupies the name in every region.
	_, err = eu.CreateTrail(ctx, &cloudtrail.CreateTrailInput{Name: aws.String("org-wide"), S3BucketName: aws.String("trail-logs")})
	wantErr(t, err, CodeTrailAlreadyExists, "org-wide already exists")
	// ... and a multi-region trail cannot take a name used in another region.
	_, err = east.CreateTrail(ctx, &cloudtrail.CreateTrailInput{Name: aws.String("eu-local"), S3BucketName: aws.String("trail-logs"), IsMultiRegionTrail: aws.Bool(true)})
	wantErr(t, err, CodeTrailAlreadyExists, "eu-local already exists")
	// A single-region trail of the same name as another region's single-region trail is fine.
	e.create("us-west-2", "local", false)

	// Turning multi-region off removes the shadow.
	if _, err := east.UpdateTrail(ctx, &cloudtrail.UpdateTrailInput{Name: aws.String("org-wide"), IsMultiRegionTrail: aws.Bool(false)}); err != nil {
		t.Fatal(err)
	}
	desc, err = eu.DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := names(desc.TrailList), []string{"eu-local@eu-west-1"}; !slices.Equal(got, want) {
		t.Fatalf("DescribeTrails after multi-region off = %v; want %v", got, want)
	}
	// ListTrails lists every trail of the account, whatever the region asked.
	list, err := eu.ListTrails(ctx, &cloudtrail.ListTrailsInput{})
	if err != nil || len(list.Trails) != 4 {
		t.Fatalf("ListTrails = %+v, %v; want 4 trails", list, err)
	}
}

func TestListTrailsPagination(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.svc.pageSize = 2
	var want []string
	for _, r := range testRegions {
		for i := 0; i < 2; i++ {
			name := fmt.Sprintf("%s-t%d", r, i)
			e.create(r, name, false)
			want = append(want, arnOf(r, name))
		}
	}
	slices.Sort(want)
	c := e.client("us-east-1")
	var got []string
	pages := 0
	p := cloudtrail.NewListTrailsPaginator(c, &cloudtrail.ListTrailsInput{})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if len(out.Trails) > 2 {
			t.Fatalf("page of %d trails", len(out.Trails))
		}
		for _, tr := range out.Trails {
			got = append(got, aws.ToString(tr.TrailARN))
		}
	}
	slices.Sort(got)
	if !slices.Equal(got, want) || pages != 3 {
		t.Fatalf("paged %d pages: %v; want %v", pages, got, want)
	}
	_, err := c.ListTrails(ctx, &cloudtrail.ListTrailsInput{NextToken: aws.String("!!not-a-token!!")})
	wantErr(t, err, CodeInvalidNextToken, "Invalid NextToken")
}

func TestRestartKeepsEverything(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.client("us-east-1")
	e.create("us-east-1", "keep-me", true)
	arn := arnOf("us-east-1", "keep-me")
	if _, err := c.PutEventSelectors(ctx, &cloudtrail.PutEventSelectorsInput{TrailName: aws.String("keep-me"), AdvancedEventSelectors: []types.AdvancedEventSelector{{
		Name: aws.String("mgmt"), FieldSelectors: []types.AdvancedFieldSelector{{Field: aws.String("eventCategory"), Equals: []string{"Management"}}},
	}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutInsightSelectors(ctx, &cloudtrail.PutInsightSelectorsInput{TrailName: aws.String("keep-me"), InsightSelectors: []types.InsightSelector{{InsightType: types.InsightTypeApiCallRateInsight}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AddTags(ctx, &cloudtrail.AddTagsInput{ResourceId: aws.String(arn), TagsList: []types.Tag{{Key: aws.String("env"), Value: aws.String("prod")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String("keep-me")}); err != nil {
		t.Fatal(err)
	}
	delivered := e.clock.Now().Add(5 * time.Minute)
	if err := e.svc.UpdateDeliveryStatus(testAccount, "us-east-1", "keep-me", func(d *DeliveryStatus) {
		d.LatestDeliveryTime, d.LatestDeliveryAttemptTime, d.LatestDeliveryAttemptSucceeded = delivered, delivered, delivered
	}); err != nil {
		t.Fatal(err)
	}

	e.restart()
	c = e.client("us-east-1")

	got, err := c.GetTrail(ctx, &cloudtrail.GetTrailInput{Name: aws.String("keep-me")})
	if err != nil {
		t.Fatal(err)
	}
	if !aws.ToBool(got.Trail.IsMultiRegionTrail) || !aws.ToBool(got.Trail.HasCustomEventSelectors) || !aws.ToBool(got.Trail.HasInsightSelectors) {
		t.Fatalf("trail after restart = %+v", got.Trail)
	}
	sel, err := c.GetEventSelectors(ctx, &cloudtrail.GetEventSelectorsInput{TrailName: aws.String("keep-me")})
	if err != nil || len(sel.AdvancedEventSelectors) != 1 || aws.ToString(sel.AdvancedEventSelectors[0].Name) != "mgmt" || len(sel.EventSelectors) != 0 {
		t.Fatalf("selectors after restart = %+v, %v", sel, err)
	}
	ins, err := c.GetInsightSelectors(ctx, &cloudtrail.GetInsightSelectorsInput{TrailName: aws.String("keep-me")})
	if err != nil || len(ins.InsightSelectors) != 1 {
		t.Fatalf("insights after restart = %+v, %v", ins, err)
	}
	tags, err := c.ListTags(ctx, &cloudtrail.ListTagsInput{ResourceIdList: []string{arn}})
	if err != nil || len(tags.ResourceTagList) != 1 || len(tags.ResourceTagList[0].TagsList) != 1 || aws.ToString(tags.ResourceTagList[0].TagsList[0].Value) != "prod" {
		t.Fatalf("tags after restart = %+v, %v", tags, err)
	}
	st, err := c.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String("keep-me")})
	if err != nil || !aws.ToBool(st.IsLogging) || !aws.ToTime(st.LatestDeliveryTime).Equal(delivered) || aws.ToString(st.LatestDeliveryAttemptSucceeded) != "2025-03-01T12:05:00Z" {
		t.Fatalf("status after restart = %+v, %v", st, err)
	}
	// The shadow is still there.
	desc, err := e.client("eu-west-1").DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{})
	if err != nil || len(desc.TrailList) != 1 {
		t.Fatalf("shadow after restart = %+v, %v", desc, err)
	}
}

func TestDeliveryStatusAndTrailAccess(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.create("us-east-1", "tr1", false)
	e.create("us-west-2", "tr2", true)
	c := e.client("us-west-2")
	if _, err := c.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String("tr2")}); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2025, 3, 1, 12, 5, 0, 250e6, time.UTC)
	if err := e.svc.SetDeliveryStatus(testAccount, "us-west-2", "tr2", DeliveryStatus{
		LatestDeliveryTime: at, LatestDeliveryAttemptTime: at, LatestDeliveryAttemptSucceeded: at,
		LatestDigestDeliveryTime: at.Add(time.Hour), LatestDeliveryError: "AccessDenied",
	}); err != nil {
		t.Fatal(err)
	}
	st, err := c.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String("tr2")})
	if err != nil {
		t.Fatal(err)
	}
	if !aws.ToTime(st.LatestDeliveryTime).Equal(at) || !aws.ToTime(st.LatestDigestDeliveryTime).Equal(at.Add(time.Hour)) ||
		aws.ToString(st.LatestDeliveryError) != "AccessDenied" || aws.ToString(st.LatestDeliveryAttemptTime) != "2025-03-01T12:05:00Z" ||
		st.LatestNotificationTime != nil || aws.ToString(st.LatestNotificationAttemptTime) != "" {
		t.Fatalf("status = %+v", st)
	}
	if err := e.svc.SetDeliveryStatus(testAccount, "us-east-1", "nope1", DeliveryStatus{}); err == nil {
		t.Fatal("SetDeliveryStatus of an unknown trail succeeded")
	}

	all, err := e.svc.Trails(testAccount)
	if err != nil || len(all) != 2 || all[0].ARN() != arnOf("us-east-1", "tr1") || all[1].ARN() != arnOf("us-west-2", "tr2") {
		t.Fatalf("Trails = %+v, %v", all, err)
	}
	if !all[1].Covers("eu-west-1") || all[0].Covers("eu-west-1") || !all[0].Covers("us-east-1") {
		t.Fatal("Covers is wrong")
	}
	logging, err := e.svc.LoggingTrails()
	if err != nil || len(logging) != 1 || logging[0].Name != "tr2" || len(logging[0].EventSelectors) != 1 {
		t.Fatalf("LoggingTrails = %+v, %v", logging, err)
	}
	if other, err := e.svc.Trails("210987654321"); err != nil || len(other) != 0 {
		t.Fatalf("Trails(other account) = %+v, %v", other, err)
	}
}

// TestWireShapes checks members and encodings on the wire, below the SDK.
func TestWireShapes(t *testing.T) {
	e := newEnv(t)
	e.create("us-east-1", "wire-trail", false)

	// A fresh trail's status: IsLogging and the six legacy strings, no timestamps.
	status, m := e.rawJSON("us-east-1", "GetTrailStatus", `{"Name":"wire-trail"}`)
	if status != 200 {
		t.Fatalf("GetTrailStatus status %d: %v", status, m)
	}
	want := map[string]any{
		"IsLogging": false, "LatestDeliveryAttemptTime": "", "LatestNotificationAttemptTime": "",
		"LatestNotificationAttemptSucceeded": "", "LatestDeliveryAttemptSucceeded": "",
		"TimeLoggingStarted": "", "TimeLoggingStopped": "",
	}
	if fmt.Sprint(m) != fmt.Sprint(want) {
		t.Fatalf("GetTrailStatus = %v; want %v", m, want)
	}
	e.raw("us-east-1", "StartLogging", `{"Name":"wire-trail"}`)
	_, m = e.rawJSON("us-east-1", "GetTrailStatus", `{"Name":"wire-trail"}`)
	if n, ok := m["StartLoggingTime"].(json.Number); !ok || n.String() != "1740830400.123" {
		t.Fatalf("StartLoggingTime = %#v; want the number 1740830400.123", m["StartLoggingTime"])
	}

	// DescribeTrails answers in lowerCamel; booleans are present.
	_, m = e.rawJSON("us-east-1", "DescribeTrails", `{"trailNameList":["wire-trail"],"includeShadowTrails":false}`)
	list, ok := m["trailList"].([]any)
	if !ok || len(list) != 1 {
		t.Fatalf("DescribeTrails = %v", m)
	}
	tr := list[0].(map[string]any)
	for _, k := range []string{"Name", "S3BucketName", "IncludeGlobalServiceEvents", "IsMultiRegionTrail", "HomeRegion", "TrailARN", "LogFileValidationEnabled", "HasCustomEventSelectors", "HasInsightSelectors", "IsOrganizationTrail"} {
		if _, ok := tr[k]; !ok {
			t.Errorf("Trail lacks %s: %v", k, tr)
		}
	}
	for _, k := range []string{"S3KeyPrefix", "SnsTopicName", "SnsTopicARN", "KmsKeyId", "CloudWatchLogsLogGroupArn"} {
		if _, ok := tr[k]; ok {
			t.Errorf("Trail has unset member %s: %v", k, tr)
		}
	}
	_, m = e.rawJSON("us-east-1", "DescribeTrails", `{"trailNameList":["absent-trail"]}`)
	if l, ok := m["trailList"].([]any); !ok || len(l) != 0 {
		t.Fatalf("DescribeTrails of nothing = %v; want an empty trailList", m)
	}

	// Default event selector, with its empty lists.
	_, m = e.rawJSON("us-east-1", "GetEventSelectors", `{"TrailName":"wire-trail"}`)
	b, _ := json.Marshal(m["EventSelectors"])
	if string(b) != `[{"DataResources":[],"ExcludeManagementEventSources":[],"IncludeManagementEvents":true,"ReadWriteType":"All"}]` {
		t.Fatalf("default EventSelectors = %s", b)
	}
	if _, ok := m["AdvancedEventSelectors"]; ok {
		t.Fatalf("GetEventSelectors has AdvancedEventSelectors: %v", m)
	}

	// Errors carry "Message" (capital M) and the model's __type, with status 400.
	status, m = e.rawJSON("us-east-1", "GetTrail", `{"Name":"absent-trail"}`)
	if status != 400 || m["__type"] != CodeTrailNotFound || m["Message"] != "Unknown trail: "+arnOf("us-east-1", "absent-trail")+" for the user: "+testAccount {
		t.Fatalf("GetTrail error = %d %v", status, m)
	}
	if _, ok := m["message"]; ok {
		t.Fatalf("error has lower-case message: %v", m)
	}
	status, m = e.rawJSON("us-east-1", "CreateTrail", `{"Name":`)
	if status != 400 || m["__type"] != "SerializationException" {
		t.Fatalf("malformed body = %d %v", status, m)
	}
	status, m = e.rawJSON("us-east-1", "CreateTrail", `{"Name":"t-x","S3BucketName":"trail-logs","IsMultiRegionTrail":"yes"}`)
	if status != 400 || m["__type"] != "SerializationException" {
		t.Fatalf("wrong type = %d %v", status, m)
	}
	status, m = e.rawJSON("us-east-1", "CreateTrail", `{"Name":"t-x"}`)
	if status != 400 || m["__type"] != CodeInvalidS3BucketName {
		t.Fatalf("CreateTrail without bucket = %d %v", status, m)
	}
	status, m = e.rawJSON("us-east-1", "GetTrail", `{}`)
	if status != 400 || m["__type"] != CodeInvalidTrailName {
		t.Fatalf("GetTrail without name = %d %v", status, m)
	}
}

func TestUnsupportedOperations(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.client("us-east-1")
	_, err := c.CreateEventDataStore(ctx, &cloudtrail.CreateEventDataStoreInput{Name: aws.String("lake")})
	wantErr(t, err, CodeUnsupportedOperation, "CreateEventDataStore is not supported by this server yet")
	if rec := e.rec.last("CreateEventDataStore"); rec == nil || rec.ErrorCode != CodeUnsupportedOperation || !strings.Contains(string(rec.RequestParameters), `"name":"lake"`) {
		t.Fatalf("record of unsupported call = %+v", rec)
	}
	_, err = c.StartQuery(ctx, &cloudtrail.StartQueryInput{QueryStatement: aws.String("SELECT 1")})
	wantErr(t, err, CodeUnsupportedOperation, "StartQuery is not supported")
	_, err = c.ListChannels(ctx, &cloudtrail.ListChannelsInput{})
	wantErr(t, err, CodeUnsupportedOperation, "ListChannels is not supported")
	for _, op := range unsupportedOperations {
		status, m := e.rawJSON("us-east-1", op, `{"Anything":["goes"]}`)
		if status != 400 || m["__type"] != CodeUnsupportedOperation {
			t.Errorf("%s = %d %v", op, status, m)
		}
	}
	// Every operation of the model is registered, except the two other packages serve.
	svc := e.svc.Service()
	if n := len(svc.Operations); n != 58 {
		t.Errorf("%d operations registered; want 58 (60 in the model minus LookupEvents and ListPublicKeys)", n)
	}
	for _, op := range []string{"LookupEvents", "ListPublicKeys"} {
		if svc.Operations[op] != nil {
			t.Errorf("%s is registered; it belongs to another package", op)
		}
	}
}

func TestRecords(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.client("us-east-1")
	e.create("us-east-1", "rec-trail", false)
	arn := arnOf("us-east-1", "rec-trail")
	rec := e.rec.last("CreateTrail")
	if rec == nil || rec.EventSource != EventSource || rec.ReadOnly || len(rec.Resources) != 1 ||
		rec.Resources[0].ARN != arn || rec.Resources[0].Type != "AWS::CloudTrail::Trail" || rec.AWSRegion != "us-east-1" {
		t.Fatalf("CreateTrail record = %+v", rec)
	}
	if !strings.Contains(string(rec.RequestParameters), `"s3BucketName":"trail-logs"`) || !strings.Contains(string(rec.ResponseElements), `"trailARN":"`+arn+`"`) {
		t.Fatalf("CreateTrail record parameters %s / %s", rec.RequestParameters, rec.ResponseElements)
	}
	if _, err := c.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String("rec-trail")}); err != nil {
		t.Fatal(err)
	}
	rec = e.rec.last("GetTrailStatus")
	if rec == nil || !rec.ReadOnly || len(rec.Resources) != 1 || rec.Resources[0].ARN != arn {
		t.Fatalf("GetTrailStatus record = %+v", rec)
	}
	if _, err := c.DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{IncludeShadowTrails: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	if rec = e.rec.last("DescribeTrails"); rec == nil || !strings.Contains(string(rec.RequestParameters), `"includeShadowTrails":true`) {
		t.Fatalf("DescribeTrails record = %+v", rec)
	}
}

// recordingAuthz allows everything except the denied actions and notes what it was asked.
type recordingAuthz struct {
	mu     sync.Mutex
	asked  []string // "action resource"
	denied map[string]bool
}

func (a *recordingAuthz) Allowed(c *opentrail.Caller, action, resource string, cond map[string][]string) (bool, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.asked = append(a.asked, action+" "+resource)
	return !a.denied[action], a.denied[action]
}

func (a *recordingAuthz) last() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.asked[len(a.asked)-1]
}

func TestAuthorization(t *testing.T) {
	authz := &recordingAuthz{denied: map[string]bool{"cloudtrail:DeleteTrail": true}}
	e := newEnvWith(t, authz)
	ctx := context.Background()
	c := e.client("us-west-2")
	arn := arnOf("us-west-2", "authz-trail")
	steps := []struct {
		call func() error
		want string
	}{
		{func() error { e.create("us-west-2", "authz-trail", false); return nil }, "cloudtrail:CreateTrail " + arn},
		{func() error {
			_, err := c.GetTrail(ctx, &cloudtrail.GetTrailInput{Name: aws.String("authz-trail")})
			return err
		}, "cloudtrail:GetTrail " + arn},
		{func() error {
			_, err := c.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String(arnOf("us-east-1", "elsewhere"))})
			wantErr(t, err, CodeTrailNotFound, "elsewhere")
			return nil
		}, "cloudtrail:GetTrailStatus " + arnOf("us-east-1", "elsewhere")},
		{func() error { _, err := c.DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{}); return err }, "cloudtrail:DescribeTrails *"},
		{func() error { _, err := c.ListTrails(ctx, &cloudtrail.ListTrailsInput{}); return err }, "cloudtrail:ListTrails *"},
		{func() error {
			_, err := c.PutEventSelectors(ctx, &cloudtrail.PutEventSelectorsInput{TrailName: aws.String("authz-trail"), EventSelectors: []types.EventSelector{{}}})
			return err
		}, "cloudtrail:PutEventSelectors " + arn},
		{func() error {
			_, err := c.AddTags(ctx, &cloudtrail.AddTagsInput{ResourceId: aws.String(arn), TagsList: []types.Tag{{Key: aws.String("k")}}})
			return err
		}, "cloudtrail:AddTags " + arn},
		{func() error {
			_, err := c.GetInsightSelectors(ctx, &cloudtrail.GetInsightSelectorsInput{TrailName: aws.String("authz-trail")})
			wantErr(t, err, CodeInsightNotEnabled, arn)
			return nil
		}, "cloudtrail:GetInsightSelectors " + arn},
		{func() error {
			_, err := c.DeleteTrail(ctx, &cloudtrail.DeleteTrailInput{Name: aws.String("authz-trail")})
			wantErr(t, err, "AccessDeniedException", "is not authorized to perform: cloudtrail:DeleteTrail on resource: "+arn)
			return nil
		}, "cloudtrail:DeleteTrail " + arn},
	}
	for i, st := range steps {
		if err := st.call(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if got := authz.last(); got != st.want {
			t.Errorf("step %d authorized %q; want %q", i, got, st.want)
		}
	}
	// The denied DeleteTrail did nothing.
	if _, err := c.GetTrail(ctx, &cloudtrail.GetTrailInput{Name: aws.String("authz-trail")}); err != nil {
		t.Fatal(err)
	}
}

func TestServicesWithExtraOperations(t *testing.T) {
	e := newEnv(t)
	extra := server.Op("LookupEvents", server.OpOptions[map[string]any]{ReadOnly: true},
		func(ctx context.Context, c *server.Call, in *map[string]any) (*server.NoOutput, error) {
			return &server.NoOutput{}, nil
		})
	svcs := e.svc.Services(extra)
	if len(svcs) != 2 || svcs[0].TargetPrefix != TargetPrefix || svcs[1].TargetPrefix != SmithyTargetPrefix {
		t.Fatalf("Services = %+v", svcs)
	}
	for _, svc := range svcs {
		if svc.Operations["LookupEvents"] != extra || svc.Operations["CreateTrail"] == nil || svc.Name != ServiceName || svc.Wire.MessageKey != "Message" {
			t.Fatalf("service %s lacks operations or wire settings", svc.TargetPrefix)
		}
	}
}

func TestTrailTopic(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.client("us-east-1")
	out, err := c.CreateTrail(ctx, &cloudtrail.CreateTrailInput{Name: aws.String("ttt"), S3BucketName: aws.String("trail-logs"), SnsTopicName: aws.String("trail-topic")})
	if err != nil {
		t.Fatal(err)
	}
	want := "arn:aws:sns:us-east-1:123456789012:trail-topic"
	//lint:ignore SA1019 AWS still sends the deprecated SnsTopicName, and so must OpenTrail
	if aws.ToString(out.SnsTopicARN) != want || aws.ToString(out.SnsTopicName) != "trail-topic" {
		t.Errorf("CreateTrail topic = %v", aws.ToString(out.SnsTopicARN))
	}
	got, err := c.GetTrail(ctx, &cloudtrail.GetTrailInput{Name: aws.String("ttt")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(got.Trail.SnsTopicARN) != want {
		t.Errorf("GetTrail SnsTopicARN = %v", aws.ToString(got.Trail.SnsTopicARN))
	}
	// By ARN, then removed with "".
	if _, err := c.UpdateTrail(ctx, &cloudtrail.UpdateTrailInput{Name: aws.String("ttt"), SnsTopicName: aws.String(want)}); err != nil {
		t.Fatal(err)
	}
	up, err := c.UpdateTrail(ctx, &cloudtrail.UpdateTrailInput{Name: aws.String("ttt"), SnsTopicName: aws.String("")})
	if err != nil {
		t.Fatal(err)
	}
	//lint:ignore SA1019 AWS still sends the deprecated SnsTopicName, and so must OpenTrail
	if up.SnsTopicARN != nil || up.SnsTopicName != nil {
		t.Errorf("topic not removed: %v", aws.ToString(up.SnsTopicARN))
	}
	_, err = c.CreateTrail(ctx, &cloudtrail.CreateTrailInput{Name: aws.String("tt2x"), S3BucketName: aws.String("trail-logs"), SnsTopicName: aws.String("missing")})
	wantErr(t, err, CodeInsufficientSnsTopicPolicy, "missing")
	_, err = c.UpdateTrail(ctx, &cloudtrail.UpdateTrailInput{Name: aws.String("ttt"), SnsTopicName: aws.String("arn:aws:sns:us-east-1:999999999999:foreign")})
	wantErr(t, err, CodeInsufficientSnsTopicPolicy, "foreign")
}

func TestTrailLogGroup(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.client("us-east-1")
	group := "arn:aws:logs:us-east-1:123456789012:log-group:trail-group:*"
	ok := "arn:aws:iam::123456789012:role/ok"
	out, err := c.CreateTrail(ctx, &cloudtrail.CreateTrailInput{Name: aws.String("cwl"), S3BucketName: aws.String("trail-logs"),
		CloudWatchLogsLogGroupArn: aws.String(group), CloudWatchLogsRoleArn: aws.String(ok)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.CloudWatchLogsLogGroupArn) != group || aws.ToString(out.CloudWatchLogsRoleArn) != ok {
		t.Errorf("CreateTrail: %v %v", aws.ToString(out.CloudWatchLogsLogGroupArn), aws.ToString(out.CloudWatchLogsRoleArn))
	}
	for _, tc := range []struct {
		name, group, role, code, msg string
	}{
		{"bad role", group, "arn:aws:iam::123456789012:role/bad", CodeInvalidCloudWatchLogsRole, "Access denied"},
		{"bad arn", "arn:aws:logs:us-east-1:123456789012:trail-group", ok, CodeInvalidCloudWatchLogsGroup, "invalid"},
		{"other region", "arn:aws:logs:us-west-2:123456789012:log-group:trail-group:*", ok, CodeInvalidCloudWatchLogsGroup, "home region"},
		{"other account", "arn:aws:logs:us-east-1:999999999999:log-group:trail-group:*", ok, CodeInvalidCloudWatchLogsGroup, "account"},
		{"missing group", "arn:aws:logs:us-east-1:123456789012:log-group:nope:*", ok, CodeInvalidCloudWatchLogsGroup, "does not exist"},
	} {
		_, err := c.UpdateTrail(ctx, &cloudtrail.UpdateTrailInput{Name: aws.String("cwl"), CloudWatchLogsLogGroupArn: aws.String(tc.group), CloudWatchLogsRoleArn: aws.String(tc.role)})
		t.Run(tc.name, func(t *testing.T) { wantErr(t, err, tc.code, tc.msg) })
	}
	up, err := c.UpdateTrail(ctx, &cloudtrail.UpdateTrailInput{Name: aws.String("cwl"), CloudWatchLogsLogGroupArn: aws.String(""), CloudWatchLogsRoleArn: aws.String("")})
	if err != nil {
		t.Fatal(err)
	}
	if up.CloudWatchLogsLogGroupArn != nil || up.CloudWatchLogsRoleArn != nil {
		t.Error("empty ARNs did not remove the log group")
	}
}
