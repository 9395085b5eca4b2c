package sns

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
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/opentrail/opentrail/internal/redact"
)

func TestTopics(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.client()

	arn := e.createTopic("alerts")
	if arn != "arn:aws:sns:us-east-1:"+acctA+":alerts" {
		t.Fatalf("TopicArn = %s", arn)
	}
	// Idempotent with the same attributes; refused with different ones.
	out, err := c.CreateTopic(ctx, &awssns.CreateTopicInput{Name: aws.String("alerts")})
	if err != nil || aws.ToString(out.TopicArn) != arn {
		t.Fatalf("create again: %v %v", out, err)
	}
	_, err = c.CreateTopic(ctx, &awssns.CreateTopicInput{Name: aws.String("alerts"), Attributes: map[string]string{"DisplayName": "other"}})
	wantCode(t, "create with other attributes", err, CodeInvalidParameter, 400)

	for _, name := range []string{"", "has space", "dot.name", strings.Repeat("x", 257), "q.fifo"} {
		_, err := c.CreateTopic(ctx, &awssns.CreateTopicInput{Name: aws.String(name)})
		wantCode(t, fmt.Sprintf("CreateTopic(%q)", name), err, CodeInvalidParameter, 400)
	}
	for k, v := range map[string]string{
		"KmsMasterKeyId": "alias/aws/sns", "FifoTopic": "true", "Bogus": "1", "SignatureVersion": "3",
		"DeliveryPolicy": `{"http":{"defaultHealthyRetryPolicy":{"numRetries":500,"minDelayTarget":1,"maxDelayTarget":2}}}`,
		"Policy":         `{"Statement":"nope"}`, "HTTPSuccessFeedbackRoleArn": "arn:aws:iam::111111111111:role/x",
	} {
		_, err := c.CreateTopic(ctx, &awssns.CreateTopicInput{Name: aws.String("attrs"), Attributes: map[string]string{k: v}})
		wantCode(t, "CreateTopic with "+k, err, CodeInvalidParameter, 400)
	}

	// Attributes.
	attrs := must[*awssns.GetTopicAttributesOutput](t)(c.GetTopicAttributes(ctx, &awssns.GetTopicAttributesInput{TopicArn: aws.String(arn)})).Attributes
	for k, want := range map[string]string{"TopicArn": arn, "Owner": acctA, "DisplayName": "", "SubscriptionsConfirmed": "0",
		"SubscriptionsPending": "0", "SubscriptionsDeleted": "0", "SignatureVersion": "2"} {
		if attrs[k] != want {
			t.Errorf("attribute %s = %q; want %q", k, attrs[k], want)
		}
	}
	if !strings.Contains(attrs["Policy"], `"AWS:SourceOwner":"`+acctA+`"`) || !strings.Contains(attrs["EffectiveDeliveryPolicy"], `"numRetries":3`) {
		t.Errorf("default Policy / EffectiveDeliveryPolicy: %s / %s", attrs["Policy"], attrs["EffectiveDeliveryPolicy"])
	}
	set := func(name, value string) error {
		_, err := c.SetTopicAttributes(ctx, &awssns.SetTopicAttributesInput{TopicArn: aws.String(arn), AttributeName: aws.String(name), AttributeValue: aws.String(value)})
		return err
	}
	dp := `{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":1,"maxDelayTarget":5,"numRetries":4,"backoffFunction":"exponential"}}}`
	for k, v := range map[string]string{"DisplayName": "Alerts", "DeliveryPolicy": dp, "SignatureVersion": "1"} {
		if err := set(k, v); err != nil {
			t.Fatalf("SetTopicAttributes %s: %v", k, err)
		}
	}
	attrs = must[*awssns.GetTopicAttributesOutput](t)(c.GetTopicAttributes(ctx, &awssns.GetTopicAttributesInput{TopicArn: aws.String(arn)})).Attributes
	if attrs["DisplayName"] != "Alerts" || attrs["DeliveryPolicy"] != dp || attrs["SignatureVersion"] != "1" ||
		!strings.Contains(attrs["EffectiveDeliveryPolicy"], `"backoffFunction":"exponential"`) {
		t.Fatalf("after SetTopicAttributes: %v", attrs)
	}
	wantCode(t, "SetTopicAttributes unknown", set("Nope", "x"), CodeInvalidParameter, 400)
	wantCode(t, "SetTopicAttributes bad policy", set("DeliveryPolicy", "{"), CodeInvalidParameter, 400)

	// Not found, malformed ARNs, other regions and accounts.
	missing := "arn:aws:sns:us-east-1:" + acctA + ":missing"
	_, err = c.GetTopicAttributes(ctx, &awssns.GetTopicAttributesInput{TopicArn: aws.String(missing)})
	wantCode(t, "GetTopicAttributes missing", err, CodeNotFound, 404)
	_, err = c.GetTopicAttributes(ctx, &awssns.GetTopicAttributesInput{TopicArn: aws.String("alerts")})
	wantCode(t, "GetTopicAttributes by name", err, CodeInvalidParameter, 400)
	west := e.clientFor(keyA, secretA, "us-west-2")
	_, err = west.GetTopicAttributes(ctx, &awssns.GetTopicAttributesInput{TopicArn: aws.String(arn)})
	wantCode(t, "GetTopicAttributes from another region", err, CodeInvalidParameter, 400)
	if l := must[*awssns.ListTopicsOutput](t)(west.ListTopics(ctx, &awssns.ListTopicsInput{})); len(l.Topics) != 0 {
		t.Fatalf("us-west-2 lists %v", l.Topics)
	}
	b := e.clientFor(keyB, secretB, "us-east-1")
	if l := must[*awssns.ListTopicsOutput](t)(b.ListTopics(ctx, &awssns.ListTopicsInput{})); len(l.Topics) != 0 {
		t.Fatalf("account B lists %v", l.Topics)
	}
	_, err = b.Publish(ctx, &awssns.PublishInput{TopicArn: aws.String(arn), Message: aws.String("x")})
	wantCode(t, "Publish to another account's topic", err, CodeAuthorizationError, 403)
	nobody := e.clientFor(keyNone, secretNo, "us-east-1")
	_, err = nobody.ListTopics(ctx, &awssns.ListTopicsInput{})
	wantCode(t, "ListTopics denied", err, CodeAuthorizationError, 403)
	_, err = nobody.CreateTopic(ctx, &awssns.CreateTopicInput{Name: aws.String("sneaky")})
	wantCode(t, "CreateTopic denied", err, CodeAuthorizationError, 403)

	// Tags.
	_, err = c.TagResource(ctx, &awssns.TagResourceInput{ResourceArn: aws.String(arn), Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("sec")}}})
	if err != nil {
		t.Fatal(err)
	}
	tags := must[*awssns.ListTagsForResourceOutput](t)(c.ListTagsForResource(ctx, &awssns.ListTagsForResourceInput{ResourceArn: aws.String(arn)})).Tags
	if len(tags) != 1 || aws.ToString(tags[0].Key) != "team" || aws.ToString(tags[0].Value) != "sec" {
		t.Fatalf("tags %v", tags)
	}
	if _, err := c.UntagResource(ctx, &awssns.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: []string{"team"}}); err != nil {
		t.Fatal(err)
	}
	_, err = c.ListTagsForResource(ctx, &awssns.ListTagsForResourceInput{ResourceArn: aws.String(missing)})
	wantCode(t, "ListTagsForResource missing", err, CodeResourceNotFound, 404)

	// Delete is idempotent.
	for i := 0; i < 2; i++ {
		if _, err := c.DeleteTopic(ctx, &awssns.DeleteTopicInput{TopicArn: aws.String(arn)}); err != nil {
			t.Fatalf("DeleteTopic #%d: %v", i+1, err)
		}
	}
	_, err = c.GetTopicAttributes(ctx, &awssns.GetTopicAttributesInput{TopicArn: aws.String(arn)})
	wantCode(t, "GetTopicAttributes after delete", err, CodeNotFound, 404)
}

func TestListTopicsPages(t *testing.T) {
	e := newEnv(t)
	e.svc.pageSize = 3
	var want []string
	for i := 0; i < 8; i++ {
		want = append(want, e.createTopic(fmt.Sprintf("t%02d", i)))
	}
	var got []string
	p := awssns.NewListTopicsPaginator(e.client(), &awssns.ListTopicsInput{})
	pages := 0
	for p.HasMorePages() {
		out, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, tp := range out.Topics {
			got = append(got, aws.ToString(tp.TopicArn))
		}
	}
	if pages != 3 || !slices.Equal(got, want) {
		t.Fatalf("%d pages: %v; want 3 pages of %v", pages, got, want)
	}
	_, err := e.client().ListTopics(context.Background(), &awssns.ListTopicsInput{NextToken: aws.String("!!not-a-token")})
	wantCode(t, "bad NextToken", err, CodeInvalidParameter, 400)
}

func TestUnsupportedOperations(t *testing.T) {
	e := newEnv(t)
	_, err := e.client().PublishBatch(context.Background(), &awssns.PublishBatchInput{
		TopicArn: aws.String(e.createTopic("t")), PublishBatchRequestEntries: []types.PublishBatchRequestEntry{{Id: aws.String("1"), Message: aws.String("m")}},
	})
	wantCode(t, "PublishBatch", err, CodeUnsupportedOperation, 400)
	_, err = e.client().ListPlatformApplications(context.Background(), &awssns.ListPlatformApplicationsInput{})
	wantCode(t, "ListPlatformApplications", err, CodeUnsupportedOperation, 400)
	_, err = e.client().Publish(context.Background(), &awssns.PublishInput{PhoneNumber: aws.String("+15555550100"), Message: aws.String("m")})
	wantCode(t, "Publish to a phone number", err, CodeInvalidParameter, 400)
}

func TestPublishRecordHidesMessage(t *testing.T) {
	e := newEnv(t)
	arn := e.createTopic("t")
	_, err := e.client().Publish(context.Background(), &awssns.PublishInput{TopicArn: aws.String(arn), Message: aws.String("the secret body"), Subject: aws.String("hi"),
		MessageAttributes: map[string]types.MessageAttributeValue{"k": {DataType: aws.String("String"), StringValue: aws.String("v")}}})
	if err != nil {
		t.Fatal(err)
	}
	rec := e.rec.last("Publish")
	var params map[string]any
	if err := json.Unmarshal(rec.RequestParameters, &params); err != nil {
		t.Fatal(err)
	}
	if params["topicArn"] != arn || params["message"] != redact.Hidden || params["subject"] != redact.Hidden || params["messageAttributes"] != redact.Hidden {
		t.Fatalf("requestParameters %s", rec.RequestParameters)
	}
	if rec.EventSource != EventSource || rec.AWSRegion != "us-east-1" || len(rec.Resources) != 1 {
		t.Fatalf("record %+v", rec)
	}
	if !strings.Contains(string(rec.ResponseElements), `"messageId"`) {
		t.Fatalf("responseElements %s", rec.ResponseElements)
	}
}

func TestPublishValidation(t *testing.T) {
	e := newEnv(t)
	arn := e.createTopic("t")
	str := func(v string) types.MessageAttributeValue {
		return types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
	}
	many := map[string]types.MessageAttributeValue{}
	for i := 0; i < 11; i++ {
		many[fmt.Sprintf("a%d", i)] = str("v")
	}
	cases := []struct {
		name string
		in   awssns.PublishInput
		code string
	}{
		{"empty message", awssns.PublishInput{Message: aws.String("")}, CodeInvalidParameter},
		{"long subject", awssns.PublishInput{Message: aws.String("m"), Subject: aws.String(strings.Repeat("s", 100))}, CodeInvalidParameter},
		{"subject with a line break", awssns.PublishInput{Message: aws.String("m"), Subject: aws.String("a\nb")}, CodeInvalidParameter},
		{"too long", awssns.PublishInput{Message: aws.String(strings.Repeat("m", 256<<10+1))}, CodeInvalidParameter},
		{"structure without default", awssns.PublishInput{Message: aws.String(`{"http":"x"}`), MessageStructure: aws.String("json")}, CodeInvalidParameter},
		{"structure not JSON", awssns.PublishInput{Message: aws.String(`nope`), MessageStructure: aws.String("json")}, CodeInvalidParameter},
		{"structure unknown", awssns.PublishInput{Message: aws.String(`m`), MessageStructure: aws.String("xml")}, CodeInvalidParameter},
		{"too many attributes", awssns.PublishInput{Message: aws.String("m"), MessageAttributes: many}, CodeInvalidParameter},
		{"bad attribute type", awssns.PublishInput{Message: aws.String("m"), MessageAttributes: map[string]types.MessageAttributeValue{
			"a": {DataType: aws.String("Blob"), StringValue: aws.String("x")}}}, CodeParameterValue},
		{"bad number", awssns.PublishInput{Message: aws.String("m"), MessageAttributes: map[string]types.MessageAttributeValue{
			"a": {DataType: aws.String("Number"), StringValue: aws.String("12x")}}}, CodeParameterValue},
		{"reserved name", awssns.PublishInput{Message: aws.String("m"), MessageAttributes: map[string]types.MessageAttributeValue{
			"AWS.x": str("v")}}, CodeParameterValue},
		{"bad string array", awssns.PublishInput{Message: aws.String("m"), MessageAttributes: map[string]types.MessageAttributeValue{
			"a": {DataType: aws.String("String.Array"), StringValue: aws.String(`[{"a":1}]`)}}}, CodeParameterValue},
		{"deduplication id", awssns.PublishInput{Message: aws.String("m"), MessageDeduplicationId: aws.String("d")}, CodeInvalidParameter},
	}
	for _, tc := range cases {
		in := tc.in
		in.TopicArn = aws.String(arn)
		_, err := e.client().Publish(context.Background(), &in)
		wantCode(t, tc.name, err, tc.code, 400)
	}
	// Valid attributes of every type.
	_, err := e.client().Publish(context.Background(), &awssns.PublishInput{TopicArn: aws.String(arn), Message: aws.String("m"),
		MessageAttributes: map[string]types.MessageAttributeValue{
			"s": str("v"), "n": {DataType: aws.String("Number"), StringValue: aws.String("-1.5e3")},
			"b": {DataType: aws.String("Binary"), BinaryValue: []byte{1, 2, 3}},
			"a": {DataType: aws.String("String.Array"), StringValue: aws.String(`["x",1,true,null]`)},
			"c": {DataType: aws.String("String.custom"), StringValue: aws.String("v")},
		}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.client().Publish(context.Background(), &awssns.PublishInput{TopicArn: aws.String(arn + "x"), Message: aws.String("m")})
	wantCode(t, "Publish to a missing topic", err, CodeNotFound, 404)
}

func TestPublishInternalAndTopicARN(t *testing.T) {
	e := newEnv(t)
	arn := e.createTopic("trail-notes")
	for _, in := range []string{"trail-notes", arn} {
		got, ok, err := e.svc.TopicARN(acctA, "us-east-1", in)
		if err != nil || !ok || got != arn {
			t.Fatalf("TopicARN(%q) = %q %v %v", in, got, ok, err)
		}
	}
	if _, ok, err := e.svc.TopicARN(acctA, "us-west-2", "trail-notes"); ok || err != nil {
		t.Fatalf("TopicARN in another region: %v %v", ok, err)
	}
	if _, ok, err := e.svc.TopicARN(acctB, "us-east-1", "trail-notes"); ok || err != nil {
		t.Fatalf("TopicARN in another account: %v %v", ok, err)
	}
	if _, _, err := e.svc.TopicARN(acctA, "us-east-1", "bad name"); err == nil {
		t.Fatal("TopicARN accepted a bad name")
	}

	ep := newEndpoint(t)
	subscribeConfirmed(t, e, arn, ep)
	id, err := e.svc.PublishInternal(context.Background(), arn, "", `{"s3Bucket":"b","s3ObjectKey":["k"]}`)
	if err != nil {
		t.Fatal(err)
	}
	m := ep.next(t)
	env := verify(t, e, m.Body)
	if env.MessageId != id || env.Message != `{"s3Bucket":"b","s3ObjectKey":["k"]}` || env.Subject != "" {
		t.Fatalf("internal notification %+v", env)
	}
	if _, err := e.svc.PublishInternal(context.Background(), arn+"-gone", "", "m"); err == nil {
		t.Fatal("PublishInternal to a missing topic succeeded")
	}
}

func TestTopicLimit(t *testing.T) {
	e := newEnv(t)
	e.svc.maxTopics = 2
	e.createTopic("a")
	e.createTopic("b")
	_, err := e.client().CreateTopic(context.Background(), &awssns.CreateTopicInput{Name: aws.String("c")})
	wantCode(t, "third topic", err, CodeTopicLimitExceeded, 403)
	if _, err := e.clientFor(keyA, secretA, "us-west-2").CreateTopic(context.Background(), &awssns.CreateTopicInput{Name: aws.String("c")}); err != nil {
		t.Fatalf("the quota is per region: %v", err)
	}
	e.createTopic("a") // an existing topic is not a new one
}

// testClock is a settable clock.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestExpiry(t *testing.T) {
	clk := &testClock{t: time.Now()}
	e := newEnv(t, func(o *Options) { o.Now = clk.Now })
	ctx := context.Background()
	arn := e.createTopic("t")
	ep := newEndpoint(t)
	for _, path := range []string{"/a", "/b"} {
		if _, err := e.client().Subscribe(ctx, &awssns.SubscribeInput{TopicArn: aws.String(arn), Protocol: aws.String("http"), Endpoint: aws.String(ep.URL + path)}); err != nil {
			t.Fatal(err)
		}
	}
	var links []string
	for i := 0; i < 2; i++ {
		links = append(links, verify(t, e, ep.next(t).Body).SubscribeURL)
	}
	// Tokens are valid for two days.
	clk.advance(49 * time.Hour)
	if status, body := e.get(links[0]); status != 400 || !strings.Contains(body, "Invalid token") {
		t.Fatalf("expired token: %d %s", status, body)
	}
	// Unconfirmed subscriptions go after three days: at load, and by the hourly sweep.
	clk.advance(24 * time.Hour)
	e.restart()
	if subs := must[*awssns.ListSubscriptionsOutput](t)(e.client().ListSubscriptions(ctx, &awssns.ListSubscriptionsInput{})).Subscriptions; len(subs) != 0 {
		t.Fatalf("pending subscriptions after three days and a restart: %+v", subs)
	}
	if _, err := e.client().Subscribe(ctx, &awssns.SubscribeInput{TopicArn: aws.String(arn), Protocol: aws.String("http"), Endpoint: aws.String(ep.URL + "/c")}); err != nil {
		t.Fatal(err)
	}
	ep.next(t)
	clk.advance(73 * time.Hour)
	if err := e.svc.sweep(); err != nil {
		t.Fatal(err)
	}
	if subs := must[*awssns.ListSubscriptionsOutput](t)(e.client().ListSubscriptions(ctx, &awssns.ListSubscriptionsInput{})).Subscriptions; len(subs) != 0 {
		t.Fatalf("pending subscriptions after three days: %+v", subs)
	}
	n := 0
	if err := e.store.Scan(storePrefix, func(k string, _ []byte) error {
		if strings.Contains(k, "/sub/") || strings.Contains(k, "/token/") {
			n++
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("%d expired records left in the store", n)
	}
}
