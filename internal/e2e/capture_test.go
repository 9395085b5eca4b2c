package e2e

import (
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/opentrail/opentrail"
	"github.com/opentrail/opentrail/internal/testserver"
)

// lookupAll pages through LookupEvents with a small page size and returns every event.
func lookupAll(t *testing.T, ct *cloudtrail.Client, in cloudtrail.LookupEventsInput) []cttypes.Event {
	t.Helper()
	ctx := testserver.Context(t)
	in.MaxResults = aws.Int32(3)
	var all []cttypes.Event
	seen := map[string]bool{}
	for page := 0; page < 1000; page++ {
		out, err := ct.LookupEvents(ctx, &in)
		if err != nil {
			t.Fatalf("LookupEvents: %v", err)
		}
		for _, e := range out.Events {
			id := aws.ToString(e.EventId)
			if seen[id] {
				t.Fatalf("event %s returned twice across pages", id)
			}
			seen[id] = true
			all = append(all, e)
		}
		if out.NextToken == nil {
			return all
		}
		in.NextToken = out.NextToken
	}
	t.Fatal("too many pages")
	return nil
}

// waitFor polls LookupEvents until pred holds for the events of the query or a second passes
// (events are visible within one second of the call).
func waitFor(t *testing.T, ct *cloudtrail.Client, in cloudtrail.LookupEventsInput, pred func([]cttypes.Event) bool) []cttypes.Event {
	t.Helper()
	deadline := time.Now().Add(1500 * time.Millisecond)
	for {
		evs := lookupAll(t, ct, in)
		if pred(evs) {
			return evs
		}
		if time.Now().After(deadline) {
			t.Fatalf("events not visible within the deadline; have %d", len(evs))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func attr(k cttypes.LookupAttributeKey, v string) cloudtrail.LookupEventsInput {
	return cloudtrail.LookupEventsInput{LookupAttributes: []cttypes.LookupAttribute{{AttributeKey: k, AttributeValue: aws.String(v)}}}
}

func record(t *testing.T, e cttypes.Event) opentrail.Event {
	t.Helper()
	var r opentrail.Event
	if err := json.Unmarshal([]byte(aws.ToString(e.CloudTrailEvent)), &r); err != nil {
		t.Fatalf("CloudTrailEvent is not a record: %v", err)
	}
	return r
}

func TestCaptureAndLookup(t *testing.T) {
	srv := testserver.Start(t)
	ctx := testserver.Context(t)
	root := srv.RootConfig()
	rootIAM, rootCT := iam.NewFromConfig(root), cloudtrail.NewFromConfig(root)
	start := time.Now().Add(-time.Second)

	// Calls of every hosted service: allowed, denied, failing.
	if _, err := rootIAM.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("dave")}); err != nil {
		t.Fatal(err)
	}
	key, err := rootIAM.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("dave")})
	if err != nil {
		t.Fatal(err)
	}
	secret := aws.ToString(key.AccessKey.SecretAccessKey)
	if _, err := rootIAM.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("dave"), PolicyName: aws.String("p"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["sts:GetCallerIdentity","sts:AssumeRole"],"Resource":"*"}]}`)}); err != nil {
		t.Fatal(err)
	}
	dave := srv.Config(aws.ToString(key.AccessKey.AccessKeyId), secret, "")
	if _, err := sts.NewFromConfig(dave).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatal(err)
	}
	_, err = iam.NewFromConfig(dave).DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("dave")}) // denied
	if apiCode(t, err) != "AccessDenied" {
		t.Fatalf("want AccessDenied, got %v", err)
	}
	_, err = rootIAM.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("nobody")}) // failing
	if apiCode(t, err) != "NoSuchEntity" {
		t.Fatalf("want NoSuchEntity, got %v", err)
	}
	if err := os.MkdirAll(filepath.Join(srv.DataDir, "buckets", "audit-bucket"), 0o750); err != nil {
		t.Fatal(err)
	}
	if _, err := rootCT.CreateTrail(ctx, &cloudtrail.CreateTrailInput{Name: aws.String("main"), S3BucketName: aws.String("audit-bucket")}); err != nil {
		t.Fatal(err)
	}
	_, err = rootCT.GetTrail(ctx, &cloudtrail.GetTrailInput{Name: aws.String("missing")})
	if apiCode(t, err) != "TrailNotFoundException" {
		t.Fatalf("want TrailNotFoundException, got %v", err)
	}
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/dave"},"Action":"sts:AssumeRole"}]}`
	if _, err := rootIAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("ops"), AssumeRolePolicyDocument: aws.String(trust)}); err != nil {
		t.Fatal(err)
	}
	ar, err := sts.NewFromConfig(dave).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::123456789012:role/ops"), RoleSessionName: aws.String("night-shift")})
	if err != nil {
		t.Fatal(err)
	}
	tmp := srv.Config(aws.ToString(ar.Credentials.AccessKeyId), aws.ToString(ar.Credentials.SecretAccessKey), aws.ToString(ar.Credentials.SessionToken))
	_, err = cloudtrail.NewFromConfig(tmp).DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{}) // denied for the role
	if apiCode(t, err) != "AccessDeniedException" {
		t.Fatalf("want AccessDeniedException, got %v", err)
	}

	// Every record is there, newest first, within a second.
	all := waitFor(t, rootCT, cloudtrail.LookupEventsInput{}, func(evs []cttypes.Event) bool {
		names := map[string]bool{}
		for _, e := range evs {
			names[aws.ToString(e.EventName)] = true
		}
		return names["DescribeTrails"] && names["AssumeRole"] && names["CreateTrail"]
	})
	for i := 1; i < len(all); i++ {
		if all[i].EventTime.After(*all[i-1].EventTime) {
			t.Fatalf("events not newest first at %d", i)
		}
	}

	// IAM and STS events: global IAM events are recorded in us-east-1.
	byName := map[string][]opentrail.Event{}
	for _, e := range all {
		r := record(t, e)
		byName[r.EventName] = append(byName[r.EventName], r)
		checkRecordShape(t, r)
		if strings.Contains(aws.ToString(e.CloudTrailEvent), secret) || strings.Contains(aws.ToString(e.CloudTrailEvent), aws.ToString(ar.Credentials.SecretAccessKey)) ||
			strings.Contains(aws.ToString(e.CloudTrailEvent), aws.ToString(ar.Credentials.SessionToken)) {
			t.Fatalf("a secret appears in record %s", r.EventName)
		}
	}
	cu := one(t, byName, "CreateUser")
	if cu.EventSource != "iam.amazonaws.com" || cu.AWSRegion != "us-east-1" || cu.ReadOnly || cu.UserIdentity.Type != "Root" ||
		cu.UserIdentity.ARN != "arn:aws:iam::123456789012:root" || string(cu.ResponseElements) == "null" || cu.ErrorCode != "" {
		t.Errorf("CreateUser record: %+v", cu)
	}
	var rp map[string]any
	if err := json.Unmarshal(cu.RequestParameters, &rp); err != nil || rp["userName"] != "dave" {
		t.Errorf("CreateUser requestParameters = %s", cu.RequestParameters)
	}
	gci := one(t, byName, "GetCallerIdentity")
	if gci.EventSource != "sts.amazonaws.com" || !gci.ReadOnly || string(gci.ResponseElements) != "null" ||
		gci.UserIdentity.Type != "IAMUser" || gci.UserIdentity.UserName != "dave" || gci.UserIdentity.AccessKeyID != aws.ToString(key.AccessKey.AccessKeyId) {
		t.Errorf("GetCallerIdentity record: %+v %+v", gci, gci.UserIdentity)
	}
	du := one(t, byName, "DeleteUser")
	if du.ErrorCode != "AccessDenied" || !strings.Contains(du.ErrorMessage, "is not authorized to perform: iam:DeleteUser") || string(du.ResponseElements) != "null" {
		t.Errorf("denied DeleteUser record: code %q message %q", du.ErrorCode, du.ErrorMessage)
	}
	gu := one(t, byName, "GetUser")
	if gu.ErrorCode != "NoSuchEntity" {
		t.Errorf("failing GetUser record: code %q", gu.ErrorCode)
	}
	ct := one(t, byName, "CreateTrail")
	if ct.EventSource != "cloudtrail.amazonaws.com" || len(ct.Resources) == 0 || ct.Resources[0].Type != "AWS::CloudTrail::Trail" {
		t.Errorf("CreateTrail record: %+v", ct)
	}
	dt := one(t, byName, "DescribeTrails")
	if dt.ErrorCode != "AccessDeniedException" || dt.UserIdentity.Type != "AssumedRole" || dt.UserIdentity.SessionContext == nil ||
		dt.UserIdentity.SessionContext.SessionIssuer.ARN != "arn:aws:iam::123456789012:role/ops" ||
		dt.UserIdentity.ARN != "arn:aws:sts::123456789012:assumed-role/ops/night-shift" {
		t.Errorf("assumed-role DescribeTrails record: %+v", dt.UserIdentity)
	}
	for _, name := range []string{"CreateAccessKey", "AssumeRole"} {
		r := one(t, byName, name)
		if !strings.Contains(string(r.ResponseElements), "HIDDEN_DUE_TO_SECURITY_REASONS") && strings.Contains(strings.ToLower(string(r.ResponseElements)), "secret") {
			t.Errorf("%s responseElements expose a secret member: %s", name, r.ResponseElements)
		}
	}

	// Every lookup attribute finds the right events.
	checks := []struct {
		in   cloudtrail.LookupEventsInput
		want func(cttypes.Event) bool
	}{
		{attr(cttypes.LookupAttributeKeyEventId, cu.EventID), func(e cttypes.Event) bool { return aws.ToString(e.EventId) == cu.EventID }},
		{attr(cttypes.LookupAttributeKeyEventName, "CreateUser"), func(e cttypes.Event) bool { return aws.ToString(e.EventName) == "CreateUser" }},
		{attr(cttypes.LookupAttributeKeyReadOnly, "true"), func(e cttypes.Event) bool { return aws.ToString(e.ReadOnly) == "true" }},
		{attr(cttypes.LookupAttributeKeyUsername, "dave"), func(e cttypes.Event) bool { return aws.ToString(e.Username) == "dave" }},
		{attr(cttypes.LookupAttributeKeyEventSource, "sts.amazonaws.com"), func(e cttypes.Event) bool { return aws.ToString(e.EventSource) == "sts.amazonaws.com" }},
		{attr(cttypes.LookupAttributeKeyAccessKeyId, aws.ToString(key.AccessKey.AccessKeyId)), func(e cttypes.Event) bool {
			return aws.ToString(e.AccessKeyId) == aws.ToString(key.AccessKey.AccessKeyId)
		}},
		{attr(cttypes.LookupAttributeKeyResourceType, "AWS::CloudTrail::Trail"), func(e cttypes.Event) bool { return hasResourceType(e, "AWS::CloudTrail::Trail") }},
		{attr(cttypes.LookupAttributeKeyResourceName, "dave"), func(e cttypes.Event) bool { return hasResourceName(e, "dave") }},
	}
	for _, c := range checks {
		got := lookupAll(t, rootCT, c.in)
		a := c.in.LookupAttributes[0]
		if len(got) == 0 {
			t.Errorf("%s=%s found nothing", a.AttributeKey, aws.ToString(a.AttributeValue))
		}
		for _, e := range got {
			if !c.want(e) {
				t.Errorf("%s=%s returned %s (%s)", a.AttributeKey, aws.ToString(a.AttributeValue), aws.ToString(e.EventName), aws.ToString(e.EventId))
			}
		}
		// Every matching event of the unfiltered list is found.
		want := 0
		for _, e := range all {
			if c.want(e) {
				want++
			}
		}
		if len(got) < want {
			t.Errorf("%s=%s found %d of %d", a.AttributeKey, aws.ToString(a.AttributeValue), len(got), want)
		}
	}

	// Time ranges: nothing before the test started, everything in the window.
	if evs := lookupAll(t, rootCT, cloudtrail.LookupEventsInput{StartTime: aws.Time(start.Add(-time.Hour)), EndTime: aws.Time(start.Add(-time.Minute))}); len(evs) != 0 {
		t.Errorf("events before the test: %d", len(evs))
	}
	if evs := lookupAll(t, rootCT, cloudtrail.LookupEventsInput{StartTime: aws.Time(start), EndTime: aws.Time(time.Now().Add(time.Minute))}); len(evs) < len(all)-2 {
		t.Errorf("window holds %d of %d events", len(evs), len(all))
	}

	// Bad requests get LookupEvents' errors.
	_, err = rootCT.LookupEvents(ctx, &cloudtrail.LookupEventsInput{NextToken: aws.String("bm90LWEtdG9rZW4")})
	if apiCode(t, err) != "InvalidNextTokenException" {
		t.Errorf("bad token: %v", err)
	}
	_, err = rootCT.LookupEvents(ctx, &cloudtrail.LookupEventsInput{MaxResults: aws.Int32(51)})
	if apiCode(t, err) != "InvalidMaxResultsException" {
		t.Errorf("MaxResults 51: %v", err)
	}
	_, err = rootCT.LookupEvents(ctx, &cloudtrail.LookupEventsInput{StartTime: aws.Time(time.Now()), EndTime: aws.Time(time.Now().Add(-time.Hour))})
	if apiCode(t, err) != "InvalidTimeRangeException" {
		t.Errorf("inverted range: %v", err)
	}

	// Records survive a restart, and the index does not duplicate them.
	srv.Restart()
	again := lookupAll(t, cloudtrail.NewFromConfig(srv.RootConfig()), cloudtrail.LookupEventsInput{EndTime: aws.Time(all[0].EventTime.Add(time.Second))})
	if len(again) < len(all) {
		t.Errorf("after restart %d events; before %d", len(again), len(all))
	}
}

func one(t *testing.T, byName map[string][]opentrail.Event, name string) opentrail.Event {
	t.Helper()
	if len(byName[name]) != 1 {
		t.Fatalf("%d %s records; want 1", len(byName[name]), name)
	}
	return byName[name][0]
}

var (
	// Event IDs are time-ordered UUIDs (version 7, RFC 9562; docs/capture.md).
	eventIDRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	timeRE    = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`)
)

// checkRecordShape checks the fields every AWS API-call record has.
func checkRecordShape(t *testing.T, r opentrail.Event) {
	t.Helper()
	bad := func(f string, v any) { t.Errorf("%s record: bad %s %v", r.EventName, f, v) }
	if r.EventVersion != "1.11" {
		bad("eventVersion", r.EventVersion)
	}
	if !timeRE.MatchString(r.EventTime) {
		bad("eventTime", r.EventTime)
	}
	if !eventIDRE.MatchString(r.EventID) {
		bad("eventID", r.EventID)
	}
	if r.RequestID == "" {
		bad("requestID", r.RequestID)
	}
	if net.ParseIP(r.SourceIPAddress) == nil {
		bad("sourceIPAddress", r.SourceIPAddress)
	}
	if !strings.Contains(r.UserAgent, "aws-sdk-go-v2") {
		bad("userAgent", r.UserAgent)
	}
	if r.EventType != "AwsApiCall" || !r.ManagementEvent || r.EventCategory != "Management" || r.RecipientAccountID != "123456789012" {
		bad("type/category/recipient", []any{r.EventType, r.ManagementEvent, r.EventCategory, r.RecipientAccountID})
	}
	if r.UserIdentity == nil || r.UserIdentity.AccountID != "123456789012" || r.UserIdentity.PrincipalID == "" {
		bad("userIdentity", r.UserIdentity)
	}
	if r.RequestParameters == nil || r.ResponseElements == nil {
		bad("requestParameters/responseElements presence", nil)
	}
}

func hasResourceType(e cttypes.Event, typ string) bool {
	for _, r := range e.Resources {
		if aws.ToString(r.ResourceType) == typ {
			return true
		}
	}
	return false
}

func hasResourceName(e cttypes.Event, name string) bool {
	for _, r := range e.Resources {
		if aws.ToString(r.ResourceName) == name || strings.HasSuffix(aws.ToString(r.ResourceName), "/"+name) {
			return true
		}
	}
	return false
}
