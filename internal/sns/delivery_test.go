package sns

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"
)

// verify checks a delivered envelope's signature with the certificate fetched from its
// SigningCertURL, which must be this server's.
func verify(t *testing.T, e *env, body []byte) *Envelope {
	t.Helper()
	var probe struct{ SigningCertURL string }
	if err := json.Unmarshal(body, &probe); err != nil {
		t.Fatalf("body is not JSON: %v\n%s", err, body)
	}
	if !strings.HasPrefix(probe.SigningCertURL, e.http.URL+"/sns/SimpleNotificationService-") {
		t.Fatalf("SigningCertURL %q", probe.SigningCertURL)
	}
	status, pemText := e.get(probe.SigningCertURL)
	if status != http.StatusOK {
		t.Fatalf("GET SigningCertURL: %d", status)
	}
	cert, err := ParseCertificate([]byte(pemText))
	if err != nil {
		t.Fatal(err)
	}
	env, err := VerifyMessage(body, cert)
	if err != nil {
		t.Fatalf("VerifyMessage: %v\n%s", err, body)
	}
	return env
}

// subscribeConfirmed subscribes ep to the topic and confirms it through the SubscribeURL.
func subscribeConfirmed(t *testing.T, e *env, topicARN string, ep *endpoint, attrs ...string) string {
	t.Helper()
	in := &awssns.SubscribeInput{TopicArn: aws.String(topicARN), Protocol: aws.String("http"), Endpoint: aws.String(ep.URL)}
	if len(attrs) > 0 {
		in.Attributes = map[string]string{}
		for i := 0; i+1 < len(attrs); i += 2 {
			in.Attributes[attrs[i]] = attrs[i+1]
		}
	}
	if _, err := e.client().Subscribe(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	m := ep.next(t)
	env := verify(t, e, m.Body)
	if env.Type != TypeSubscriptionConfirmation {
		t.Fatalf("first message %s", env.Type)
	}
	status, body := e.get(env.SubscribeURL)
	if status != http.StatusOK {
		t.Fatalf("GET SubscribeURL: %d %s", status, body)
	}
	var resp struct {
		Result struct{ SubscriptionArn string } `xml:"ConfirmSubscriptionResult"`
	}
	if err := xml.Unmarshal([]byte(body), &resp); err != nil || resp.Result.SubscriptionArn == "" {
		t.Fatalf("confirmation response %s: %v", body, err)
	}
	return resp.Result.SubscriptionArn
}

func TestConfirmPublishUnsubscribe(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.client()
	arn := e.createTopic("alerts")
	ep := newEndpoint(t)

	out, err := c.Subscribe(ctx, &awssns.SubscribeInput{TopicArn: aws.String(arn), Protocol: aws.String("http"), Endpoint: aws.String(ep.URL + "/hook")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.SubscriptionArn) != "pending confirmation" {
		t.Fatalf("SubscriptionArn %q", aws.ToString(out.SubscriptionArn))
	}
	m := ep.next(t)
	env := verify(t, e, m.Body)
	h := m.Header
	if h.Get("x-amz-sns-message-type") != TypeSubscriptionConfirmation || h.Get("x-amz-sns-message-id") != env.MessageId ||
		h.Get("x-amz-sns-topic-arn") != arn || h.Get("x-amz-sns-subscription-arn") != "" ||
		h.Get("Content-Type") != "text/plain; charset=UTF-8" || h.Get("User-Agent") != userAgent {
		t.Fatalf("confirmation headers %v", h)
	}
	if env.Token == "" || env.TopicArn != arn || env.SignatureVersion != "2" || !strings.Contains(env.Message, "You have chosen to subscribe to the topic "+arn) ||
		!strings.HasPrefix(env.SubscribeURL, e.http.URL+ConfirmPath+"?Action=ConfirmSubscription&") {
		t.Fatalf("confirmation %+v", env)
	}
	subs := must[*awssns.ListSubscriptionsByTopicOutput](t)(c.ListSubscriptionsByTopic(ctx, &awssns.ListSubscriptionsByTopicInput{TopicArn: aws.String(arn)})).Subscriptions
	if len(subs) != 1 || aws.ToString(subs[0].SubscriptionArn) != "PendingConfirmation" {
		t.Fatalf("pending subscription listed as %+v", subs)
	}
	// Nothing is delivered to a pending subscription.
	if _, err := c.Publish(ctx, &awssns.PublishInput{TopicArn: aws.String(arn), Message: aws.String("early")}); err != nil {
		t.Fatal(err)
	}
	ep.none(t, 100*time.Millisecond)

	// A wrong token, then the API confirmation.
	_, err = c.ConfirmSubscription(ctx, &awssns.ConfirmSubscriptionInput{TopicArn: aws.String(arn), Token: aws.String("bogus")})
	wantCode(t, "ConfirmSubscription with a wrong token", err, CodeInvalidParameter, 400)
	conf, err := c.ConfirmSubscription(ctx, &awssns.ConfirmSubscriptionInput{TopicArn: aws.String(arn), Token: aws.String(env.Token)})
	if err != nil {
		t.Fatal(err)
	}
	subARN := aws.ToString(conf.SubscriptionArn)
	if !strings.HasPrefix(subARN, arn+":") {
		t.Fatalf("SubscriptionArn %q", subARN)
	}
	if rec := e.rec.last("ConfirmSubscription"); rec == nil || strings.Contains(string(rec.RequestParameters), env.Token) {
		t.Fatalf("ConfirmSubscription record shows the token: %v", rec)
	}
	// The link confirms idempotently.
	if status, body := e.get(env.SubscribeURL); status != 200 || !strings.Contains(body, subARN) {
		t.Fatalf("SubscribeURL after confirmation: %d %s", status, body)
	}
	sa := must[*awssns.GetSubscriptionAttributesOutput](t)(c.GetSubscriptionAttributes(ctx, &awssns.GetSubscriptionAttributesInput{SubscriptionArn: aws.String(subARN)})).Attributes
	if sa["PendingConfirmation"] != "false" || sa["ConfirmationWasAuthenticated"] != "true" || sa["Endpoint"] != ep.URL+"/hook" ||
		sa["RawMessageDelivery"] != "false" || !strings.Contains(sa["EffectiveDeliveryPolicy"], `"numRetries":3`) {
		t.Fatalf("subscription attributes %v", sa)
	}
	ta := must[*awssns.GetTopicAttributesOutput](t)(c.GetTopicAttributes(ctx, &awssns.GetTopicAttributesInput{TopicArn: aws.String(arn)})).Attributes
	if ta["SubscriptionsConfirmed"] != "1" || ta["SubscriptionsPending"] != "0" {
		t.Fatalf("topic counts %v", ta)
	}

	// Publish and receive.
	pub, err := c.Publish(ctx, &awssns.PublishInput{TopicArn: aws.String(arn), Message: aws.String("disk <full> & \"hot\""), Subject: aws.String("Alarm: disk"),
		MessageAttributes: map[string]types.MessageAttributeValue{
			"severity": {DataType: aws.String("String"), StringValue: aws.String("high")},
			"blob":     {DataType: aws.String("Binary"), BinaryValue: []byte("\x00\x01")},
		}})
	if err != nil {
		t.Fatal(err)
	}
	m = ep.next(t)
	env = verify(t, e, m.Body)
	if env.Type != TypeNotification || env.MessageId != aws.ToString(pub.MessageId) || env.Message != "disk <full> & \"hot\"" || env.Subject != "Alarm: disk" ||
		env.MessageAttributes["severity"] != (MessageAttribute{"String", "high"}) || env.MessageAttributes["blob"] != (MessageAttribute{"Binary", "AAE="}) {
		t.Fatalf("notification %+v", env)
	}
	if _, err := time.Parse(TimeFormat, env.Timestamp); err != nil {
		t.Fatalf("Timestamp %q: %v", env.Timestamp, err)
	}
	if m.Header.Get("x-amz-sns-subscription-arn") != subARN || m.Header.Get("x-amz-sns-message-type") != TypeNotification || m.Header.Get("x-amz-sns-message-id") != env.MessageId {
		t.Fatalf("notification headers %v", m.Header)
	}
	if !strings.Contains(string(m.Body), "\"Message\" : \"disk <full> & \\\"hot\\\"\"") {
		t.Fatalf("body is not laid out as AWS lays it out:\n%s", m.Body)
	}

	// Raw delivery, then a JSON message structure.
	if _, err := c.SetSubscriptionAttributes(ctx, &awssns.SetSubscriptionAttributesInput{SubscriptionArn: aws.String(subARN),
		AttributeName: aws.String("RawMessageDelivery"), AttributeValue: aws.String("true")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Publish(ctx, &awssns.PublishInput{TopicArn: aws.String(arn), Message: aws.String(`{"default":"plain","http":"for http"}`), MessageStructure: aws.String("json")}); err != nil {
		t.Fatal(err)
	}
	m = ep.next(t)
	if string(m.Body) != "for http" || m.Header.Get("x-amz-sns-rawdelivery") != "true" {
		t.Fatalf("raw delivery: %q %v", m.Body, m.Header)
	}
	if _, err := c.SetSubscriptionAttributes(ctx, &awssns.SetSubscriptionAttributesInput{SubscriptionArn: aws.String(subARN),
		AttributeName: aws.String("RawMessageDelivery"), AttributeValue: aws.String("false")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.SetSubscriptionAttributes(ctx, &awssns.SetSubscriptionAttributesInput{SubscriptionArn: aws.String(subARN),
		AttributeName: aws.String("FilterPolicy"), AttributeValue: aws.String(`{"a":["b"]}`)})
	wantCode(t, "FilterPolicy", err, CodeInvalidParameter, 400)

	// Unsubscribe through the link: an UnsubscribeConfirmation follows, whose SubscribeURL
	// restores the subscription.
	if status, body := e.get(env.UnsubscribeURL); status != 200 || !strings.Contains(body, "<UnsubscribeResponse") {
		t.Fatalf("UnsubscribeURL: %d %s", status, body)
	}
	m = ep.next(t)
	uc := verify(t, e, m.Body)
	if uc.Type != TypeUnsubscribeConfirmation || uc.Token == "" || !strings.Contains(uc.Message, subARN) || m.Header.Get("x-amz-sns-subscription-arn") != subARN {
		t.Fatalf("unsubscribe confirmation %+v %v", uc, m.Header)
	}
	_, err = c.GetSubscriptionAttributes(ctx, &awssns.GetSubscriptionAttributesInput{SubscriptionArn: aws.String(subARN)})
	wantCode(t, "GetSubscriptionAttributes after unsubscribe", err, CodeNotFound, 404)
	ta = must[*awssns.GetTopicAttributesOutput](t)(c.GetTopicAttributes(ctx, &awssns.GetTopicAttributesInput{TopicArn: aws.String(arn)})).Attributes
	if ta["SubscriptionsDeleted"] != "1" || ta["SubscriptionsConfirmed"] != "0" {
		t.Fatalf("topic counts after unsubscribe %v", ta)
	}
	if status, body := e.get(uc.SubscribeURL); status != 200 || !strings.Contains(body, subARN) {
		t.Fatalf("resubscribe link: %d %s", status, body)
	}
	if _, err := c.Publish(ctx, &awssns.PublishInput{TopicArn: aws.String(arn), Message: aws.String("again")}); err != nil {
		t.Fatal(err)
	}
	if env := verify(t, e, ep.next(t).Body); env.Message != "again" {
		t.Fatalf("after resubscribing: %+v", env)
	}

	// Authenticated unsubscribe sends nothing; the subscription is gone.
	if _, err := c.Unsubscribe(ctx, &awssns.UnsubscribeInput{SubscriptionArn: aws.String(subARN)}); err != nil {
		t.Fatal(err)
	}
	_, err = c.Unsubscribe(ctx, &awssns.UnsubscribeInput{SubscriptionArn: aws.String(subARN)})
	wantCode(t, "Unsubscribe twice", err, CodeNotFound, 404)
	_, err = c.Unsubscribe(ctx, &awssns.UnsubscribeInput{SubscriptionArn: aws.String("pending confirmation")})
	wantCode(t, "Unsubscribe pending confirmation", err, CodeInvalidParameter, 400)
	if _, err := c.Publish(ctx, &awssns.PublishInput{TopicArn: aws.String(arn), Message: aws.String("gone")}); err != nil {
		t.Fatal(err)
	}
	ep.none(t, 100*time.Millisecond)
	if status, _ := e.get(env.UnsubscribeURL); status != http.StatusNotFound {
		t.Fatalf("UnsubscribeURL of a deleted subscription: %d", status)
	}
}

func TestSubscribeErrors(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	arn := e.createTopic("t")
	cases := []struct{ protocol, endpoint string }{
		{"http", "https://example.com/"},
		{"https", "http://example.com/"},
		{"http", "not a url"},
		{"http", ""},
		{"email", "someone@example.com"}, // no SMTP relay configured
		{"sqs", "arn:aws:sqs:us-east-1:111111111111:q"},
		{"carrier-pigeon", "x"},
	}
	for _, tc := range cases {
		_, err := e.client().Subscribe(ctx, &awssns.SubscribeInput{TopicArn: aws.String(arn), Protocol: aws.String(tc.protocol), Endpoint: aws.String(tc.endpoint)})
		wantCode(t, "Subscribe "+tc.protocol+" "+tc.endpoint, err, CodeInvalidParameter, 400)
	}
	_, err := e.client().Subscribe(ctx, &awssns.SubscribeInput{TopicArn: aws.String(arn + "x"), Protocol: aws.String("http"), Endpoint: aws.String("http://example.com/")})
	wantCode(t, "Subscribe to a missing topic", err, CodeNotFound, 404)
	_, err = e.client().Subscribe(ctx, &awssns.SubscribeInput{TopicArn: aws.String(arn), Protocol: aws.String("http"), Endpoint: aws.String("http://example.com/"),
		Attributes: map[string]string{"DeliveryPolicy": `{"healthyRetryPolicy":{"numRetries":-1}}`}})
	wantCode(t, "Subscribe with a bad delivery policy", err, CodeInvalidParameter, 400)
	_, err = e.client().ListSubscriptionsByTopic(ctx, &awssns.ListSubscriptionsByTopicInput{TopicArn: aws.String(arn + "x")})
	wantCode(t, "ListSubscriptionsByTopic missing", err, CodeNotFound, 404)
	_, err = e.client().GetSubscriptionAttributes(ctx, &awssns.GetSubscriptionAttributesInput{SubscriptionArn: aws.String(arn + ":00000000-0000-0000-0000-000000000000")})
	wantCode(t, "GetSubscriptionAttributes missing", err, CodeNotFound, 404)
	if status, _ := e.get(e.http.URL + ConfirmPath + "?Action=ConfirmSubscription&TopicArn=" + arn + "&Token=nope"); status != 400 {
		t.Fatalf("SubscribeURL with a bad token: %d", status)
	}
}

func TestResubscribeAndReturnArn(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	arn := e.createTopic("t")
	ep := newEndpoint(t)
	in := &awssns.SubscribeInput{TopicArn: aws.String(arn), Protocol: aws.String("http"), Endpoint: aws.String(ep.URL), ReturnSubscriptionArn: true}
	first := must[*awssns.SubscribeOutput](t)(e.client().Subscribe(ctx, in))
	c1 := verify(t, e, ep.next(t).Body)
	// Subscribing again while pending sends a new confirmation for the same subscription.
	second := must[*awssns.SubscribeOutput](t)(e.client().Subscribe(ctx, in))
	c2 := verify(t, e, ep.next(t).Body)
	if aws.ToString(first.SubscriptionArn) != aws.ToString(second.SubscriptionArn) || !strings.HasPrefix(aws.ToString(first.SubscriptionArn), arn+":") || c1.Token == c2.Token {
		t.Fatalf("resubscribe: %s %s", aws.ToString(first.SubscriptionArn), aws.ToString(second.SubscriptionArn))
	}
	if status, _ := e.get(c1.SubscribeURL); status != 200 {
		t.Fatal("the first token no longer confirms")
	}
	// Confirmed: subscribing again answers the ARN and sends nothing.
	third := must[*awssns.SubscribeOutput](t)(e.client().Subscribe(ctx, &awssns.SubscribeInput{TopicArn: aws.String(arn), Protocol: aws.String("http"), Endpoint: aws.String(ep.URL)}))
	if aws.ToString(third.SubscriptionArn) != aws.ToString(first.SubscriptionArn) {
		t.Fatalf("confirmed resubscribe answered %s", aws.ToString(third.SubscriptionArn))
	}
	ep.none(t, 100*time.Millisecond)
}

func TestRetries(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	arn := e.createTopic("t")

	// 500, 503, then 200: delivered on the third attempt with the same message ID.
	ep := newEndpoint(t)
	subscribeConfirmed(t, e, arn, ep)
	ep.mu.Lock()
	ep.script = []int{500, 503}
	ep.mu.Unlock()
	pub := must[*awssns.PublishOutput](t)(e.client().Publish(ctx, &awssns.PublishInput{TopicArn: aws.String(arn), Message: aws.String("m")}))
	for i := 0; i < 3; i++ {
		m := ep.next(t)
		if m.Header.Get("x-amz-sns-message-id") != aws.ToString(pub.MessageId) {
			t.Fatalf("attempt %d has message ID %s", i+1, m.Header.Get("x-amz-sns-message-id"))
		}
	}
	ep.none(t, 100*time.Millisecond)

	// Always failing: 1 attempt + 3 retries (AWS's default), then given up and logged.
	ep.mu.Lock()
	ep.script = []int{500, 500, 500, 500, 500, 500}
	ep.mu.Unlock()
	if _, err := e.client().Publish(ctx, &awssns.PublishInput{TopicArn: aws.String(arn), Message: aws.String("doomed")}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for i := 0; i < 4; i++ {
		ep.next(t)
	}
	ep.none(t, 200*time.Millisecond)
	if took := time.Since(start); took < 60*time.Millisecond {
		t.Fatalf("three retries 20 units (ms) apart took only %v", took)
	}
	waitFor(t, func() bool { return contains(e.logs.String(), "delivery failed; giving up") })

	// A 4xx is not retried.
	ep.mu.Lock()
	ep.script = []int{404}
	ep.mu.Unlock()
	if _, err := e.client().Publish(ctx, &awssns.PublishInput{TopicArn: aws.String(arn), Message: aws.String("refused")}); err != nil {
		t.Fatal(err)
	}
	ep.next(t)
	ep.none(t, 150*time.Millisecond)
	waitFor(t, func() bool { return countDeliveries(t, e) == 0 })
}

// A subscription's delivery policy changes the retry schedule.
func TestSubscriptionDeliveryPolicy(t *testing.T) {
	e := newEnv(t)
	arn := e.createTopic("t")
	ep := newEndpoint(t)
	subscribeConfirmed(t, e, arn, ep, "DeliveryPolicy", `{"healthyRetryPolicy":{"numRetries":1,"minDelayTarget":1,"maxDelayTarget":1},"requestPolicy":{"headerContentType":"application/json"}}`)
	ep.mu.Lock()
	ep.script = []int{500, 500, 500}
	ep.mu.Unlock()
	if _, err := e.client().Publish(context.Background(), &awssns.PublishInput{TopicArn: aws.String(arn), Message: aws.String("m")}); err != nil {
		t.Fatal(err)
	}
	if ct := ep.next(t).Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type %q", ct)
	}
	ep.next(t)
	ep.none(t, 150*time.Millisecond)
}

func TestPersistence(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	arn := e.createTopic("kept")
	ep := newEndpoint(t)
	subARN := subscribeConfirmed(t, e, arn, ep)
	if _, err := e.client().SetTopicAttributes(ctx, &awssns.SetTopicAttributesInput{TopicArn: aws.String(arn), AttributeName: aws.String("DisplayName"), AttributeValue: aws.String("Kept")}); err != nil {
		t.Fatal(err)
	}
	certURL := e.svc.SigningCertURL()

	// A delivery that fails and is due again long after: it must survive the restart.
	e.svc.engine.unit = time.Second
	ep.mu.Lock()
	ep.script = []int{500}
	ep.mu.Unlock()
	pub := must[*awssns.PublishOutput](t)(e.client().Publish(ctx, &awssns.PublishInput{TopicArn: aws.String(arn), Message: aws.String("survivor")}))
	ep.next(t)
	waitFor(t, func() bool { return countDeliveries(t, e) == 1 })

	e.restart() // DelayUnit is back to 1ms, but the stored due time is 20 s away...
	if got := e.svc.SigningCertURL(); got != certURL {
		t.Fatalf("signing certificate changed across restart: %s → %s", certURL, got)
	}
	attrs := must[*awssns.GetTopicAttributesOutput](t)(e.client().GetTopicAttributes(ctx, &awssns.GetTopicAttributesInput{TopicArn: aws.String(arn)})).Attributes
	if attrs["DisplayName"] != "Kept" || attrs["SubscriptionsConfirmed"] != "1" {
		t.Fatalf("after restart: %v", attrs)
	}
	subs := must[*awssns.ListSubscriptionsOutput](t)(e.client().ListSubscriptions(ctx, &awssns.ListSubscriptionsInput{})).Subscriptions
	if len(subs) != 1 || aws.ToString(subs[0].SubscriptionArn) != subARN {
		t.Fatalf("subscriptions after restart: %+v", subs)
	}
	// ... so make it due now, as if the time had passed.
	e.svc.engine.mu.Lock()
	for _, d := range e.svc.engine.queue {
		d.Due = time.Now()
	}
	e.svc.engine.mu.Unlock()
	e.svc.engine.enqueue()
	select {
	case e.svc.engine.wake <- struct{}{}:
	default:
	}
	m := ep.next(t)
	if env := verify(t, e, m.Body); env.MessageId != aws.ToString(pub.MessageId) || env.Message != "survivor" {
		t.Fatalf("redelivered %+v", env)
	}
	waitFor(t, func() bool { return countDeliveries(t, e) == 0 })
}

func countDeliveries(t *testing.T, e *env) int {
	t.Helper()
	n := 0
	if err := e.store.Scan(storePrefix+"delivery/", func(string, []byte) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
