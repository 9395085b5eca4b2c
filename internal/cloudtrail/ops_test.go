package cloudtrail

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
)

func TestEventSelectorsAPI(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.client("us-east-1")
	e.create("us-east-1", "sel-trail", false)
	arn := arnOf("us-east-1", "sel-trail")

	got, err := c.GetEventSelectors(ctx, &cloudtrail.GetEventSelectorsInput{TrailName: aws.String("sel-trail")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(got.TrailARN) != arn || len(got.EventSelectors) != 1 || got.EventSelectors[0].ReadWriteType != types.ReadWriteTypeAll ||
		!aws.ToBool(got.EventSelectors[0].IncludeManagementEvents) || len(got.AdvancedEventSelectors) != 0 {
		t.Fatalf("default selectors = %+v", got)
	}

	put, err := c.PutEventSelectors(ctx, &cloudtrail.PutEventSelectorsInput{
		TrailName: aws.String(arn),
		EventSelectors: []types.EventSelector{{
			ReadWriteType: types.ReadWriteTypeWriteOnly,
			DataResources: []types.DataResource{{Type: aws.String("AWS::S3::Object"), Values: []string{"arn:aws:s3:::trail-logs/"}}},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(put.EventSelectors) != 1 || !aws.ToBool(put.EventSelectors[0].IncludeManagementEvents) || put.EventSelectors[0].ReadWriteType != types.ReadWriteTypeWriteOnly ||
		aws.ToString(put.EventSelectors[0].DataResources[0].Type) != "AWS::S3::Object" || aws.ToString(put.TrailARN) != arn {
		t.Fatalf("PutEventSelectors output = %+v", put)
	}
	tr, err := c.GetTrail(ctx, &cloudtrail.GetTrailInput{Name: aws.String("sel-trail")})
	if err != nil || !aws.ToBool(tr.Trail.HasCustomEventSelectors) {
		t.Fatalf("HasCustomEventSelectors after put = %+v, %v", tr, err)
	}

	// Advanced selectors replace basic ones.
	put, err = c.PutEventSelectors(ctx, &cloudtrail.PutEventSelectorsInput{
		TrailName: aws.String("sel-trail"),
		AdvancedEventSelectors: []types.AdvancedEventSelector{
			{Name: aws.String("management"), FieldSelectors: []types.AdvancedFieldSelector{{Field: aws.String("eventCategory"), Equals: []string{"Management"}}}},
			{Name: aws.String("s3 writes"), FieldSelectors: []types.AdvancedFieldSelector{
				{Field: aws.String("eventCategory"), Equals: []string{"Data"}},
				{Field: aws.String("resources.type"), Equals: []string{"AWS::S3::Object"}},
				{Field: aws.String("readOnly"), Equals: []string{"false"}},
				{Field: aws.String("resources.ARN"), StartsWith: []string{"arn:aws:s3:::trail-logs/"}, NotEndsWith: []string{".tmp"}},
			}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(put.AdvancedEventSelectors) != 2 || len(put.EventSelectors) != 0 {
		t.Fatalf("PutEventSelectors advanced output = %+v", put)
	}
	got, err = c.GetEventSelectors(ctx, &cloudtrail.GetEventSelectorsInput{TrailName: aws.String("sel-trail")})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.EventSelectors) != 0 || len(got.AdvancedEventSelectors) != 2 {
		t.Fatalf("GetEventSelectors = %+v", got)
	}
	fs := got.AdvancedEventSelectors[1].FieldSelectors[3]
	if aws.ToString(got.AdvancedEventSelectors[1].Name) != "s3 writes" || aws.ToString(fs.Field) != "resources.ARN" ||
		len(fs.StartsWith) != 1 || len(fs.NotEndsWith) != 1 || fs.Equals != nil {
		t.Fatalf("advanced selector round trip = %+v", got.AdvancedEventSelectors[1])
	}

	// Validation failures through the wire.
	_, err = c.PutEventSelectors(ctx, &cloudtrail.PutEventSelectorsInput{TrailName: aws.String("sel-trail"),
		EventSelectors:         []types.EventSelector{{}},
		AdvancedEventSelectors: []types.AdvancedEventSelector{{FieldSelectors: []types.AdvancedFieldSelector{{Field: aws.String("eventCategory"), Equals: []string{"Management"}}}}},
	})
	wantErr(t, err, CodeInvalidEventSelectors, "but not both")
	_, err = c.PutEventSelectors(ctx, &cloudtrail.PutEventSelectorsInput{TrailName: aws.String("sel-trail"), EventSelectors: make([]types.EventSelector, 6)})
	wantErr(t, err, CodeInvalidEventSelectors, "1 to 5 event selectors")
	_, err = c.PutEventSelectors(ctx, &cloudtrail.PutEventSelectorsInput{TrailName: aws.String("sel-trail")})
	wantErr(t, err, CodeInvalidEventSelectors, "must specify either")
	values := make([]string, 251)
	for i := range values {
		values[i] = fmt.Sprintf("arn:aws:s3:::bucket-%d/", i)
	}
	_, err = c.PutEventSelectors(ctx, &cloudtrail.PutEventSelectorsInput{TrailName: aws.String("sel-trail"),
		EventSelectors: []types.EventSelector{{DataResources: []types.DataResource{{Type: aws.String("AWS::S3::Object"), Values: values}}}}})
	wantErr(t, err, CodeInvalidEventSelectors, "at most 250 data resources")
	_, err = c.PutEventSelectors(ctx, &cloudtrail.PutEventSelectorsInput{TrailName: aws.String("sel-trail"),
		AdvancedEventSelectors: []types.AdvancedEventSelector{{FieldSelectors: []types.AdvancedFieldSelector{{Field: aws.String("eventCategory"), Equals: []string{"Data"}}}}}})
	wantErr(t, err, CodeInvalidEventSelectors, "resources.type")
	_, err = c.PutEventSelectors(ctx, &cloudtrail.PutEventSelectorsInput{TrailName: aws.String("nope-trail"), EventSelectors: []types.EventSelector{{}}})
	wantErr(t, err, CodeTrailNotFound, "nope-trail")
	// The failures left the selectors alone.
	got, err = c.GetEventSelectors(ctx, &cloudtrail.GetEventSelectorsInput{TrailName: aws.String("sel-trail")})
	if err != nil || len(got.AdvancedEventSelectors) != 2 {
		t.Fatalf("selectors after failures = %+v, %v", got, err)
	}
}

func TestInsightSelectorsAPI(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.client("us-east-1")
	e.create("us-east-1", "ins-trail", false)
	arn := arnOf("us-east-1", "ins-trail")

	_, err := c.GetInsightSelectors(ctx, &cloudtrail.GetInsightSelectorsInput{TrailName: aws.String("ins-trail")})
	wantErr(t, err, CodeInsightNotEnabled, "does not have Insights enabled")

	put, err := c.PutInsightSelectors(ctx, &cloudtrail.PutInsightSelectorsInput{TrailName: aws.String("ins-trail"), InsightSelectors: []types.InsightSelector{
		{InsightType: types.InsightTypeApiCallRateInsight},
		{InsightType: types.InsightTypeApiErrorRateInsight, EventCategories: []types.SourceEventCategory{types.SourceEventCategoryManagement}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(put.TrailARN) != arn || len(put.InsightSelectors) != 2 {
		t.Fatalf("PutInsightSelectors = %+v", put)
	}
	got, err := c.GetInsightSelectors(ctx, &cloudtrail.GetInsightSelectorsInput{TrailName: aws.String(arn)})
	if err != nil || len(got.InsightSelectors) != 2 || got.InsightSelectors[1].InsightType != types.InsightTypeApiErrorRateInsight ||
		len(got.InsightSelectors[1].EventCategories) != 1 || aws.ToString(got.TrailARN) != arn {
		t.Fatalf("GetInsightSelectors = %+v, %v", got, err)
	}
	tr, err := c.GetTrail(ctx, &cloudtrail.GetTrailInput{Name: aws.String("ins-trail")})
	if err != nil || !aws.ToBool(tr.Trail.HasInsightSelectors) {
		t.Fatalf("HasInsightSelectors = %+v, %v", tr, err)
	}

	// Event selectors that drop write management events would break ApiCallRateInsight.
	_, err = c.PutEventSelectors(ctx, &cloudtrail.PutEventSelectorsInput{TrailName: aws.String("ins-trail"),
		EventSelectors: []types.EventSelector{{ReadWriteType: types.ReadWriteTypeReadOnly}}})
	wantErr(t, err, CodeInvalidEventSelectors, "ApiCallRateInsight needs a trail that logs write management events")

	// Data Insights need data events.
	_, err = c.PutInsightSelectors(ctx, &cloudtrail.PutInsightSelectorsInput{TrailName: aws.String("ins-trail"), InsightSelectors: []types.InsightSelector{
		{InsightType: types.InsightTypeApiCallRateInsight, EventCategories: []types.SourceEventCategory{types.SourceEventCategoryData}}}})
	wantErr(t, err, CodeInvalidInsightSelectors, "logs data events")
	_, err = c.PutInsightSelectors(ctx, &cloudtrail.PutInsightSelectorsInput{TrailName: aws.String("ins-trail"), InsightSelectors: []types.InsightSelector{{InsightType: "Bogus"}}})
	wantErr(t, err, CodeInvalidInsightSelectors, "Value Bogus for InsightType is invalid")
	_, err = c.PutInsightSelectors(ctx, &cloudtrail.PutInsightSelectorsInput{TrailName: aws.String("ins-trail"), InsightSelectors: []types.InsightSelector{
		{InsightType: types.InsightTypeApiCallRateInsight}, {InsightType: types.InsightTypeApiCallRateInsight}}})
	wantErr(t, err, CodeInvalidInsightSelectors, "more than once")

	// Event data stores are not supported; mixing them with a trail is a bad combination.
	_, err = c.PutInsightSelectors(ctx, &cloudtrail.PutInsightSelectorsInput{EventDataStore: aws.String("eds-123"), InsightsDestination: aws.String("eds-456"), InsightSelectors: []types.InsightSelector{}})
	wantErr(t, err, CodeUnsupportedOperation, "event data stores")
	_, err = c.PutInsightSelectors(ctx, &cloudtrail.PutInsightSelectorsInput{TrailName: aws.String("ins-trail"), EventDataStore: aws.String("eds-123"), InsightSelectors: []types.InsightSelector{}})
	wantErr(t, err, CodeInvalidParameterCombination, "TrailName cannot be combined")
	_, err = c.PutInsightSelectors(ctx, &cloudtrail.PutInsightSelectorsInput{InsightSelectors: []types.InsightSelector{}})
	wantErr(t, err, CodeInvalidParameterCombination, "must specify TrailName")
	_, err = c.GetInsightSelectors(ctx, &cloudtrail.GetInsightSelectorsInput{EventDataStore: aws.String("eds-123")})
	wantErr(t, err, CodeUnsupportedOperation, "event data stores")

	// An empty list turns Insights off.
	put, err = c.PutInsightSelectors(ctx, &cloudtrail.PutInsightSelectorsInput{TrailName: aws.String("ins-trail"), InsightSelectors: []types.InsightSelector{}})
	if err != nil || len(put.InsightSelectors) != 0 {
		t.Fatalf("PutInsightSelectors([]) = %+v, %v", put, err)
	}
	_, err = c.GetInsightSelectors(ctx, &cloudtrail.GetInsightSelectorsInput{TrailName: aws.String("ins-trail")})
	wantErr(t, err, CodeInsightNotEnabled, arn)
	// Now the read-only selectors are accepted.
	if _, err := c.PutEventSelectors(ctx, &cloudtrail.PutEventSelectorsInput{TrailName: aws.String("ins-trail"),
		EventSelectors: []types.EventSelector{{ReadWriteType: types.ReadWriteTypeReadOnly}}}); err != nil {
		t.Fatal(err)
	}
	_, err = c.PutInsightSelectors(ctx, &cloudtrail.PutInsightSelectorsInput{TrailName: aws.String("ins-trail"), InsightSelectors: []types.InsightSelector{{InsightType: types.InsightTypeApiCallRateInsight}}})
	wantErr(t, err, CodeInvalidInsightSelectors, "write management events")
	if _, err := c.PutInsightSelectors(ctx, &cloudtrail.PutInsightSelectorsInput{TrailName: aws.String("ins-trail"), InsightSelectors: []types.InsightSelector{{InsightType: types.InsightTypeApiErrorRateInsight}}}); err != nil {
		t.Fatal(err)
	}
}

func TestTagsAPI(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.client("us-east-1")
	e.create("us-east-1", "tag-trail", false)
	e.create("us-east-1", "tag-trail-2", false)
	arn, arn2 := arnOf("us-east-1", "tag-trail"), arnOf("us-east-1", "tag-trail-2")

	tag := func(k, v string) types.Tag { return types.Tag{Key: aws.String(k), Value: aws.String(v)} }
	if _, err := c.AddTags(ctx, &cloudtrail.AddTagsInput{ResourceId: aws.String(arn), TagsList: []types.Tag{tag("team", "sec"), tag("env", "dev"), {Key: aws.String("novalue")}}}); err != nil {
		t.Fatal(err)
	}
	// An existing key gets the new value.
	if _, err := c.AddTags(ctx, &cloudtrail.AddTagsInput{ResourceId: aws.String(arn), TagsList: []types.Tag{tag("env", "prod")}}); err != nil {
		t.Fatal(err)
	}
	list, err := c.ListTags(ctx, &cloudtrail.ListTagsInput{ResourceIdList: []string{arn, arn2}})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.ResourceTagList) != 2 || aws.ToString(list.ResourceTagList[0].ResourceId) != arn || len(list.ResourceTagList[1].TagsList) != 0 {
		t.Fatalf("ListTags = %+v", list)
	}
	tags := map[string]string{}
	for _, tg := range list.ResourceTagList[0].TagsList {
		tags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	if fmt.Sprint(tags) != "map[env:prod novalue: team:sec]" {
		t.Fatalf("tags = %v", tags)
	}

	// RemoveTags by key; a given value must match.
	if _, err := c.RemoveTags(ctx, &cloudtrail.RemoveTagsInput{ResourceId: aws.String(arn), TagsList: []types.Tag{{Key: aws.String("team")}, tag("env", "dev"), {Key: aws.String("absent")}}}); err != nil {
		t.Fatal(err)
	}
	list, err = c.ListTags(ctx, &cloudtrail.ListTagsInput{ResourceIdList: []string{arn}})
	if err != nil || len(list.ResourceTagList[0].TagsList) != 2 {
		t.Fatalf("ListTags after remove = %+v, %v", list, err)
	}

	// Limits and rules.
	many := make([]types.Tag, 49)
	for i := range many {
		many[i] = tag(fmt.Sprintf("key-%d", i), "v")
	}
	_, err = c.AddTags(ctx, &cloudtrail.AddTagsInput{ResourceId: aws.String(arn), TagsList: many})
	wantErr(t, err, CodeTagsLimitExceeded, "would give it 51")
	if _, err := c.AddTags(ctx, &cloudtrail.AddTagsInput{ResourceId: aws.String(arn2), TagsList: append(many, tag("last", "x"))}); err != nil {
		t.Fatalf("50 tags: %v", err)
	}
	_, err = c.AddTags(ctx, &cloudtrail.AddTagsInput{ResourceId: aws.String(arn), TagsList: []types.Tag{tag("AWS:cloudformation", "x")}})
	wantErr(t, err, CodeInvalidTagParameter, "reserved for AWS use")
	_, err = c.AddTags(ctx, &cloudtrail.AddTagsInput{ResourceId: aws.String("tag-trail"), TagsList: []types.Tag{tag("k", "v")}})
	wantErr(t, err, CodeCloudTrailARNInvalid, "is not a valid trail ARN")
	_, err = c.AddTags(ctx, &cloudtrail.AddTagsInput{ResourceId: aws.String(arnOf("us-east-1", "absent-trail")), TagsList: []types.Tag{tag("k", "v")}})
	wantErr(t, err, CodeResourceNotFound, "absent-trail")
	_, err = c.AddTags(ctx, &cloudtrail.AddTagsInput{ResourceId: aws.String("arn:aws:cloudtrail:us-east-1:210987654321:trail/theirs"), TagsList: []types.Tag{tag("k", "v")}})
	wantErr(t, err, CodeResourceNotFound, "theirs")
	_, err = c.AddTags(ctx, &cloudtrail.AddTagsInput{ResourceId: aws.String("arn:aws:cloudtrail:us-east-1:123456789012:eventdatastore/EXAMPLE-f852"), TagsList: []types.Tag{tag("k", "v")}})
	wantErr(t, err, CodeResourceTypeNotSupported, "event data stores")
	_, err = c.RemoveTags(ctx, &cloudtrail.RemoveTagsInput{ResourceId: aws.String(arnOf("us-east-1", "absent-trail")), TagsList: []types.Tag{{Key: aws.String("k")}}})
	wantErr(t, err, CodeResourceNotFound, "absent-trail")
	_, err = c.ListTags(ctx, &cloudtrail.ListTagsInput{ResourceIdList: []string{arn, arnOf("us-east-1", "absent-trail")}})
	wantErr(t, err, CodeResourceNotFound, "absent-trail")
	_, err = c.ListTags(ctx, &cloudtrail.ListTagsInput{ResourceIdList: []string{}})
	wantErr(t, err, CodeInvalidParameter, "1 to 20")
	ids := make([]string, 21)
	for i := range ids {
		ids[i] = arn
	}
	_, err = c.ListTags(ctx, &cloudtrail.ListTagsInput{ResourceIdList: ids})
	wantErr(t, err, CodeInvalidParameter, "it has 21")

	// Tags go with the trail.
	if _, err := c.DeleteTrail(ctx, &cloudtrail.DeleteTrailInput{Name: aws.String("tag-trail")}); err != nil {
		t.Fatal(err)
	}
	e.create("us-east-1", "tag-trail", false)
	list, err = c.ListTags(ctx, &cloudtrail.ListTagsInput{ResourceIdList: []string{arn}})
	if err != nil || len(list.ResourceTagList[0].TagsList) != 0 {
		t.Fatalf("tags of a re-created trail = %+v, %v", list, err)
	}
}
