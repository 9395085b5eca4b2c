package e2e

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/opentrail/opentrail/internal/testserver"
)

// TestTrailToLogGroup: a trail with a CloudWatch Logs group (through a role that trusts
// CloudTrail) puts each of its records, as JSON, into the stream <account>_CloudTrail_<region>
// of the group, soon after the call; GetTrailStatus shows the delivery.
func TestTrailToLogGroup(t *testing.T) {
	srv := testserver.Start(t, testserver.WithArgs("--regions", "us-east-1,us-west-2"))
	ctx := testserver.Context(t)
	cfg := srv.RootConfig()
	adminCreateBucket(t, srv)("forwarded-logs")
	iamc := iam.NewFromConfig(cfg)
	if _, err := iamc.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("ct-logs"), AssumeRolePolicyDocument: aws.String(
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := iamc.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("ct-logs"), PolicyName: aws.String("p"), PolicyDocument: aws.String(
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["logs:CreateLogStream","logs:PutLogEvents"],"Resource":"*"}]}`)}); err != nil {
		t.Fatal(err)
	}
	lc := cloudwatchlogs.NewFromConfig(cfg)
	if _, err := lc.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("trail-group")}); err != nil {
		t.Fatal(err)
	}
	ct := cloudtrail.NewFromConfig(cfg)
	if _, err := ct.CreateTrail(ctx, &cloudtrail.CreateTrailInput{Name: aws.String("to-logs"), S3BucketName: aws.String("forwarded-logs"), IsMultiRegionTrail: aws.Bool(true),
		CloudWatchLogsLogGroupArn: aws.String("arn:aws:logs:us-east-1:" + testserver.AccountID + ":log-group:trail-group:*"),
		CloudWatchLogsRoleArn:     aws.String("arn:aws:iam::" + testserver.AccountID + ":role/ct-logs")}); err != nil {
		t.Fatal(err)
	}
	if _, err := ct.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String("to-logs")}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	out, err := sts.NewFromConfig(cfg, func(o *sts.Options) { o.Region = "us-west-2" }).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	id := requestID(out.ResultMetadata)
	stream := testserver.AccountID + "_CloudTrail_us-west-2"
	var found string
	for deadline := time.Now().Add(10 * time.Second); found == "" && time.Now().Before(deadline); {
		ev, err := lc.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String("trail-group"), LogStreamName: aws.String(stream), StartFromHead: aws.Bool(true)})
		if err == nil {
			for _, e := range ev.Events {
				var r struct {
					RequestID string `json:"requestID"`
				}
				if json.Unmarshal([]byte(aws.ToString(e.Message)), &r) == nil && r.RequestID == id {
					found = aws.ToString(e.Message)
				}
			}
		}
		if found == "" {
			time.Sleep(20 * time.Millisecond)
		}
	}
	if found == "" {
		t.Fatalf("the GetCallerIdentity record %s did not reach stream %s", id, stream)
	}
	t.Logf("record in the log group %v after the call", time.Since(start).Round(time.Millisecond))
	var rec struct {
		EventName, AWSRegion string
	}
	_ = json.Unmarshal([]byte(found), &rec)
	if rec.EventName != "GetCallerIdentity" {
		t.Errorf("forwarded message %s", found)
	}
	st, err := ct.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String("to-logs")})
	if err != nil {
		t.Fatal(err)
	}
	if st.LatestCloudWatchLogsDeliveryTime == nil || aws.ToString(st.LatestCloudWatchLogsDeliveryError) != "" {
		t.Errorf("status: %v %q", st.LatestCloudWatchLogsDeliveryTime, aws.ToString(st.LatestCloudWatchLogsDeliveryError))
	}
}
