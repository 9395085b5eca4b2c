package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	opentrailsns "github.com/opentrail/opentrail/internal/sns"
	"github.com/opentrail/opentrail/internal/testserver"
)

// TestEventsCreateUserDelivery: a rule matching IAM CreateUser delivers the CloudTrail event
// to an HTTP endpoint (connection + API destination with an API key) and to an SNS topic
// when a user is created, and not for other calls. It reports the call-to-HTTP-target latency.
func TestEventsCreateUserDelivery(t *testing.T) {
	srv := testserver.Start(t, testserver.WithArgs("--regions", "us-east-1"))
	ctx := testserver.Context(t)
	cfg := srv.RootConfig()
	eb := eventbridge.NewFromConfig(cfg)

	type hit struct {
		at   time.Time
		key  string
		body []byte
	}
	hits := make(chan hit, 100)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		hits <- hit{time.Now(), r.Header.Get("X-Api-Key"), b}
	}))
	defer hook.Close()
	subscriber, snsGot := snsEndpoint(t)

	snsc := sns.NewFromConfig(cfg)
	topic, err := snsc.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("user-events")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := snsc.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("http"), Endpoint: aws.String(subscriber.URL)}); err != nil {
		t.Fatal(err)
	}
	nextSNS := func(want string) *opentrailsns.Envelope {
		t.Helper()
		for {
			select {
			case d := <-snsGot:
				var e opentrailsns.Envelope
				if err := json.Unmarshal(d.body, &e); err != nil {
					t.Fatal(err)
				}
				if e.Type == want {
					return &e
				}
			case <-time.After(20 * time.Second):
				t.Fatalf("no SNS %s", want)
			}
		}
	}
	conf := nextSNS("SubscriptionConfirmation")
	if resp, err := http.Get(conf.SubscribeURL); err != nil {
		t.Fatal(err)
	} else {
		resp.Body.Close()
	}

	conn, err := eb.CreateConnection(ctx, &eventbridge.CreateConnectionInput{Name: aws.String("hook"), AuthorizationType: ebtypes.ConnectionAuthorizationTypeApiKey,
		AuthParameters: &ebtypes.CreateConnectionAuthRequestParameters{ApiKeyAuthParameters: &ebtypes.CreateConnectionApiKeyAuthRequestParameters{
			ApiKeyName: aws.String("X-Api-Key"), ApiKeyValue: aws.String("k3y")}}})
	if err != nil {
		t.Fatal(err)
	}
	dest, err := eb.CreateApiDestination(ctx, &eventbridge.CreateApiDestinationInput{Name: aws.String("hook"), ConnectionArn: conn.ConnectionArn,
		InvocationEndpoint: aws.String(hook.URL), HttpMethod: ebtypes.ApiDestinationHttpMethodPost})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("new-users"),
		EventPattern: aws.String(`{"source":["aws.iam"],"detail":{"eventName":["CreateUser"]}}`)}); err != nil {
		t.Fatal(err)
	}
	pt, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("new-users"), Targets: []ebtypes.Target{
		{Id: aws.String("hook"), Arn: dest.ApiDestinationArn},
		{Id: aws.String("topic"), Arn: topic.TopicArn},
	}})
	if err != nil || pt.FailedEntryCount != 0 {
		t.Fatalf("PutTargets: %+v, %v", pt, err)
	}

	iamc := iam.NewFromConfig(cfg)
	var lat []time.Duration
	for i := 0; i < 20; i++ {
		name := "eb-user-" + string(rune('a'+i))
		start := time.Now()
		if _, err := iamc.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)}); err != nil {
			t.Fatal(err)
		}
		select {
		case h := <-hits:
			lat = append(lat, h.at.Sub(start))
			var ev struct {
				DetailType string `json:"detail-type"`
				Source     string `json:"source"`
				Detail     struct {
					EventName         string            `json:"eventName"`
					RequestParameters map[string]string `json:"requestParameters"`
				} `json:"detail"`
			}
			if err := json.Unmarshal(h.body, &ev); err != nil {
				t.Fatal(err)
			}
			if ev.DetailType != "AWS API Call via CloudTrail" || ev.Source != "aws.iam" || ev.Detail.EventName != "CreateUser" ||
				ev.Detail.RequestParameters["userName"] != name || h.key != "k3y" {
				t.Fatalf("HTTP target got %s (key %q)", h.body, h.key)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no HTTP delivery for CreateUser")
		}
		n := nextSNS("Notification")
		var ev map[string]any
		if err := json.Unmarshal([]byte(n.Message), &ev); err != nil || ev["source"] != "aws.iam" {
			t.Fatalf("SNS message %q: %v", n.Message, err)
		}
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	t.Logf("CreateUser call to HTTP target: p50 %v, max (p95 of 20) %v", lat[len(lat)/2], lat[len(lat)-1])
	if lat[len(lat)-1] > time.Second {
		t.Errorf("slowest delivery %v, want within a second", lat[len(lat)-1])
	}

	// Other calls deliver nothing.
	if _, err := iamc.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := iamc.ListUsers(ctx, &iam.ListUsersInput{}); err != nil {
		t.Fatal(err)
	}
	if _, err := iamc.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("eb-user-a")}); err != nil {
		t.Fatal(err)
	}
	select {
	case h := <-hits:
		t.Fatalf("unexpected delivery %s", h.body)
	case <-time.After(1500 * time.Millisecond):
	}
}
