package e2e

import (
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/opentrail/opentrail/internal/redact"
	opentrailsns "github.com/opentrail/opentrail/internal/sns"
	"github.com/opentrail/opentrail/internal/testserver"
)

// snsDelivery is one POST an HTTP subscriber received.
type snsDelivery struct {
	header http.Header
	body   []byte
}

// snsEndpoint is an HTTP subscriber that records what it receives and answers 200.
func snsEndpoint(t *testing.T) (*httptest.Server, chan snsDelivery) {
	t.Helper()
	got := make(chan snsDelivery, 20)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- snsDelivery{r.Header.Clone(), b}
	}))
	t.Cleanup(ts.Close)
	return ts, got
}

func nextDelivery(t *testing.T, got chan snsDelivery) snsDelivery {
	t.Helper()
	select {
	case d := <-got:
		return d
	case <-time.After(15 * time.Second):
		t.Fatal("no SNS delivery within 15s")
	}
	return snsDelivery{}
}

func httpGet(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// verifySNS checks a delivered message's signature with the certificate fetched, without
// credentials, from its SigningCertURL, which must be served by srv.
func verifySNS(t *testing.T, srv *testserver.Server, body []byte) *opentrailsns.Envelope {
	t.Helper()
	start := strings.Index(string(body), `"SigningCertURL" : "`)
	if start < 0 {
		t.Fatalf("no SigningCertURL in %s", body)
	}
	rest := string(body)[start+len(`"SigningCertURL" : "`):]
	certURL := rest[:strings.IndexByte(rest, '"')]
	if !strings.HasPrefix(certURL, srv.URL+"/sns/SimpleNotificationService-") || !strings.HasSuffix(certURL, ".pem") {
		t.Fatalf("SigningCertURL %q is not on the server %s", certURL, srv.URL)
	}
	status, pemText := httpGet(t, certURL)
	if status != http.StatusOK {
		t.Fatalf("GET %s: %d", certURL, status)
	}
	cert, err := opentrailsns.ParseCertificate([]byte(pemText))
	if err != nil {
		t.Fatal(err)
	}
	env, err := opentrailsns.VerifyMessage(body, cert)
	if err != nil {
		t.Fatalf("signature: %v\n%s", err, body)
	}
	return env
}

func TestSNSEndToEnd(t *testing.T) {
	srv := testserver.Start(t)
	ctx := testserver.Context(t)
	c := sns.NewFromConfig(srv.RootConfig())
	ep, got := snsEndpoint(t)

	topic, err := c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("ops-alerts"), Attributes: map[string]string{"DisplayName": "Ops"}})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(topic.TopicArn)
	if arn != "arn:aws:sns:us-east-1:"+testserver.AccountID+":ops-alerts" {
		t.Fatalf("TopicArn %s", arn)
	}

	// Subscribe; the endpoint receives a signed SubscriptionConfirmation.
	sub, err := c.Subscribe(ctx, &sns.SubscribeInput{TopicArn: aws.String(arn), Protocol: aws.String("http"), Endpoint: aws.String(ep.URL + "/sns")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(sub.SubscriptionArn) != "pending confirmation" {
		t.Fatalf("Subscribe answered %q", aws.ToString(sub.SubscriptionArn))
	}
	d := nextDelivery(t, got)
	conf := verifySNS(t, srv, d.body)
	if conf.Type != "SubscriptionConfirmation" || d.header.Get("x-amz-sns-message-type") != "SubscriptionConfirmation" ||
		d.header.Get("x-amz-sns-topic-arn") != arn || d.header.Get("Content-Type") != "text/plain; charset=UTF-8" {
		t.Fatalf("confirmation %+v %v", conf, d.header)
	}

	// Confirm by visiting the SubscribeURL, unauthenticated, as a subscriber does.
	status, body := httpGet(t, conf.SubscribeURL)
	if status != http.StatusOK {
		t.Fatalf("GET SubscribeURL: %d %s", status, body)
	}
	var confirmed struct {
		Result struct{ SubscriptionArn string } `xml:"ConfirmSubscriptionResult"`
	}
	if err := xml.Unmarshal([]byte(body), &confirmed); err != nil || !strings.HasPrefix(confirmed.Result.SubscriptionArn, arn+":") {
		t.Fatalf("ConfirmSubscription response %s: %v", body, err)
	}
	subARN := confirmed.Result.SubscriptionArn
	list, err := c.ListSubscriptionsByTopic(ctx, &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(arn)})
	if err != nil || len(list.Subscriptions) != 1 || aws.ToString(list.Subscriptions[0].SubscriptionArn) != subARN {
		t.Fatalf("ListSubscriptionsByTopic: %+v %v", list, err)
	}

	// Publish; the notification arrives signed, with AWS's headers.
	pub, err := c.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(arn), Subject: aws.String("Disk alarm"), Message: aws.String("disk 97% full"),
		MessageAttributes: map[string]snstypes.MessageAttributeValue{"severity": {DataType: aws.String("String"), StringValue: aws.String("high")}}})
	if err != nil {
		t.Fatal(err)
	}
	d = nextDelivery(t, got)
	n := verifySNS(t, srv, d.body)
	if n.Type != "Notification" || n.MessageId != aws.ToString(pub.MessageId) || n.Message != "disk 97% full" || n.Subject != "Disk alarm" ||
		n.MessageAttributes["severity"].Value != "high" || n.SignatureVersion != "2" {
		t.Fatalf("notification %+v", n)
	}
	for k, want := range map[string]string{"x-amz-sns-message-type": "Notification", "x-amz-sns-message-id": n.MessageId,
		"x-amz-sns-topic-arn": arn, "x-amz-sns-subscription-arn": subARN, "User-Agent": "Amazon Simple Notification Service Agent"} {
		if got := d.header.Get(k); got != want {
			t.Errorf("header %s = %q; want %q", k, got, want)
		}
	}
	if !strings.HasPrefix(n.UnsubscribeURL, srv.URL+"/sns/unsubscribe?") {
		t.Fatalf("UnsubscribeURL %q", n.UnsubscribeURL)
	}

	// The Publish record is in Event History with the message hidden.
	ct := cloudtrail.NewFromConfig(srv.RootConfig())
	evs := waitFor(t, ct, attr(cttypes.LookupAttributeKeyEventName, "Publish"), func(e []cttypes.Event) bool { return len(e) == 1 })
	rec := record(t, evs[0])
	if rec.EventSource != "sns.amazonaws.com" || !strings.Contains(string(rec.RequestParameters), redact.Hidden) || strings.Contains(string(rec.RequestParameters), "97%") {
		t.Fatalf("Publish record: %s %s", rec.EventSource, rec.RequestParameters)
	}

	// Errors.
	_, err = c.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String(arn + "-missing")})
	if code := apiCode(t, err); code != "NotFound" {
		t.Fatalf("missing topic: %q %v", code, err)
	}
	_, err = c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("bad name")})
	if code := apiCode(t, err); code != "InvalidParameter" {
		t.Fatalf("bad topic name: %q %v", code, err)
	}
	_, err = c.Subscribe(ctx, &sns.SubscribeInput{TopicArn: aws.String(arn), Protocol: aws.String("email"), Endpoint: aws.String("a@example.com")})
	if code := apiCode(t, err); code != "InvalidParameter" {
		t.Fatalf("email without a relay: %q %v", code, err)
	}
	_, err = c.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(arn), Message: aws.String("")})
	if code := apiCode(t, err); code != "InvalidParameter" {
		t.Fatalf("empty message: %q %v", code, err)
	}

	// Restart: topics, subscriptions and the signing certificate survive.
	certURL := n.SigningCertURL
	srv.Restart()
	c = sns.NewFromConfig(srv.RootConfig())
	attrs, err := c.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String(arn)})
	if err != nil || attrs.Attributes["DisplayName"] != "Ops" || attrs.Attributes["SubscriptionsConfirmed"] != "1" {
		t.Fatalf("after restart: %v %v", attrs, err)
	}
	if _, err := c.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(arn), Message: aws.String("after restart")}); err != nil {
		t.Fatal(err)
	}
	d = nextDelivery(t, got)
	if n := verifySNS(t, srv, d.body); n.Message != "after restart" || n.SigningCertURL != certURL {
		t.Fatalf("after restart: %+v (certificate was %s)", n, certURL)
	}

	// Unsubscribe; nothing more is delivered.
	if _, err := c.Unsubscribe(ctx, &sns.UnsubscribeInput{SubscriptionArn: aws.String(subARN)}); err != nil {
		t.Fatal(err)
	}
	_, err = c.Unsubscribe(ctx, &sns.UnsubscribeInput{SubscriptionArn: aws.String(subARN)})
	if code := apiCode(t, err); code != "NotFound" {
		t.Fatalf("second Unsubscribe: %q %v", code, err)
	}
	if _, err := c.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(arn), Message: aws.String("nobody listens")}); err != nil {
		t.Fatal(err)
	}
	select {
	case d := <-got:
		t.Fatalf("delivery after Unsubscribe: %s", d.body)
	case <-time.After(300 * time.Millisecond):
	}
	if _, err := c.DeleteTopic(ctx, &sns.DeleteTopicInput{TopicArn: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
}

// With --public-url, the links in messages use it.
func TestSNSPublicURL(t *testing.T) {
	srv := testserver.Start(t, testserver.WithArgs("--public-url", "https://sns.example.test:8443/"))
	ctx := testserver.Context(t)
	c := sns.NewFromConfig(srv.RootConfig())
	ep, got := snsEndpoint(t)
	topic, err := c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("t")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("http"), Endpoint: aws.String(ep.URL)}); err != nil {
		t.Fatal(err)
	}
	body := string(nextDelivery(t, got).body)
	if !strings.Contains(body, `"SubscribeURL" : "https://sns.example.test:8443/sns/confirm?`) ||
		!strings.Contains(body, `"SigningCertURL" : "https://sns.example.test:8443/sns/SimpleNotificationService-`) {
		t.Fatalf("links do not use --public-url:\n%s", body)
	}
}
