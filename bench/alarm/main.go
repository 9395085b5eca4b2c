// Command alarm measures the end-to-end latency from an API call to the SNS alarm
// notification it causes, through a real `opentrail serve`: the call is recorded, forwarded by
// the trail to its CloudWatch Logs group, matched by a metric filter (the CIS 4.4 IAM policy
// change pattern), counted in a metric, evaluated by an alarm (Sum ≥ 1 over one period) and
// published to an SNS topic whose HTTP subscriber is this program.
//
// Each round waits until shortly before a period boundary, makes the breaching call
// (PutUserPolicy as root), and times until the ALARM notification arrives; then the alarm is
// set back to OK for the next round. The condition is therefore met at the end of a period,
// and the latency includes waiting for that period to end.
//
//	go build -o /tmp/ot ./cmd/opentrail && go run ./bench/alarm -bin /tmp/ot -period 10 -rounds 10
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sns"
)

const (
	account = "123456789012"
	akid    = "AKIABENCHALARM000001"
	secret  = "bench-alarm-secret-0123456789abcdefghijkl"
	pattern = `{($.eventName=DeleteGroupPolicy)||($.eventName=DeleteRolePolicy)||($.eventName=DeleteUserPolicy)||($.eventName=PutGroupPolicy)||($.eventName=PutRolePolicy)||($.eventName=PutUserPolicy)||($.eventName=CreatePolicy)||($.eventName=DeletePolicy)||($.eventName=CreatePolicyVersion)||($.eventName=DeletePolicyVersion)||($.eventName=AttachRolePolicy)||($.eventName=DetachRolePolicy)||($.eventName=AttachUserPolicy)||($.eventName=DetachUserPolicy)||($.eventName=AttachGroupPolicy)||($.eventName=DetachGroupPolicy)}`
)

func main() {
	bin := flag.String("bin", "./opentrail", "the opentrail binary")
	period := flag.Int("period", 10, "alarm period in seconds (10, 20, 30 or a multiple of 60)")
	rounds := flag.Int("rounds", 10, "breaching calls to time")
	before := flag.Duration("before", 500*time.Millisecond, "how long before the period boundary the call is made")
	dir := flag.String("dir", os.TempDir(), "where the server's data directory goes")
	flag.Parse()
	if err := run(*bin, *dir, *period, *rounds, *before); err != nil {
		fmt.Fprintln(os.Stderr, "alarm bench:", err)
		os.Exit(1)
	}
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func run(bin, dir string, period, rounds int, before time.Duration) error {
	work, err := os.MkdirTemp(dir, "bench-alarm-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	data := filepath.Join(work, "data")
	cmd := exec.Command(bin, "serve", "--data-dir", data, "--listen", addr, "--account-id", account,
		"--root-access-key-id", akid, "--root-secret-access-key", secret, "--log-level", "warn", "--regions", "us-east-1")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	url := "http://" + addr
	for i := 0; ; i++ {
		if resp, err := http.Get(url + "/health"); err == nil {
			resp.Body.Close()
			break
		}
		if i > 500 {
			return errors.New("server did not start")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if out, err := exec.Command(bin, "admin", "create-bucket", "--data-dir", data, "alarm-bench").CombinedOutput(); err != nil {
		return fmt.Errorf("create bucket: %v %s", err, out)
	}

	// The subscriber: confirmations are confirmed, ALARM notifications timed.
	alarms := make(chan time.Time, 100)
	subAddr, err := freeAddr()
	if err != nil {
		return err
	}
	go func() {
		_ = http.ListenAndServe(subAddr, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			at := time.Now()
			body, _ := io.ReadAll(r.Body)
			var env struct{ Type, SubscribeURL, Message string }
			if json.Unmarshal(body, &env) != nil {
				return
			}
			switch env.Type {
			case "SubscriptionConfirmation":
				go func() {
					if resp, err := http.Get(env.SubscribeURL); err == nil {
						resp.Body.Close()
					}
				}()
			case "Notification":
				var m struct{ NewStateValue string }
				if json.Unmarshal([]byte(env.Message), &m) == nil && m.NewStateValue == "ALARM" {
					alarms <- at
				}
			}
		}))
	}()

	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider(akid, secret, ""), BaseEndpoint: aws.String(url), RetryMaxAttempts: 1}
	ctx := context.Background()
	iamc := iam.NewFromConfig(cfg)
	if _, err := iamc.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("ct-logs"), AssumeRolePolicyDocument: aws.String(
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)}); err != nil {
		return err
	}
	if _, err := iamc.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("ct-logs"), PolicyName: aws.String("p"), PolicyDocument: aws.String(
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["logs:CreateLogStream","logs:PutLogEvents"],"Resource":"*"}]}`)}); err != nil {
		return err
	}
	if _, err := iamc.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("target")}); err != nil {
		return err
	}
	lc := cloudwatchlogs.NewFromConfig(cfg)
	if _, err := lc.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("cis")}); err != nil {
		return err
	}
	if _, err := lc.PutMetricFilter(ctx, &cloudwatchlogs.PutMetricFilterInput{LogGroupName: aws.String("cis"), FilterName: aws.String("iam-policy"), FilterPattern: aws.String(pattern),
		MetricTransformations: []logtypes.MetricTransformation{{MetricName: aws.String("IAMPolicyChanges"), MetricNamespace: aws.String("CISBenchmark"), MetricValue: aws.String("1")}}}); err != nil {
		return err
	}
	sc := sns.NewFromConfig(cfg)
	topic, err := sc.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("alarms")})
	if err != nil {
		return err
	}
	if _, err := sc.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("http"), Endpoint: aws.String("http://" + subAddr + "/")}); err != nil {
		return err
	}
	cw := cloudwatch.NewFromConfig(cfg)
	if _, err := cw.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String("iam-policy"), Namespace: aws.String("CISBenchmark"), MetricName: aws.String("IAMPolicyChanges"),
		Statistic: cwtypes.StatisticSum, Period: aws.Int32(int32(period)), Threshold: aws.Float64(1), EvaluationPeriods: aws.Int32(1),
		ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanOrEqualToThreshold, AlarmActions: []string{aws.ToString(topic.TopicArn)}}); err != nil {
		return err
	}
	ct := cloudtrail.NewFromConfig(cfg)
	if _, err := ct.CreateTrail(ctx, &cloudtrail.CreateTrailInput{Name: aws.String("cis"), S3BucketName: aws.String("alarm-bench"),
		CloudWatchLogsLogGroupArn: aws.String("arn:aws:logs:us-east-1:" + account + ":log-group:cis:*"), CloudWatchLogsRoleArn: aws.String("arn:aws:iam::" + account + ":role/ct-logs")}); err != nil {
		return err
	}
	if _, err := ct.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String("cis")}); err != nil {
		return err
	}

	p := time.Duration(period) * time.Second
	var lat, afterEnd []time.Duration
	for i := 0; i < rounds; i++ {
		// Start from OK, with the period of the StartLogging/SetAlarmState calls behind us.
		if _, err := cw.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{AlarmName: aws.String("iam-policy"), StateValue: cwtypes.StateValueOk, StateReason: aws.String("bench reset")}); err != nil {
			return err
		}
		drain(alarms)
		next := time.Now().Truncate(p).Add(p)
		if time.Until(next) < before+time.Second {
			next = next.Add(p)
		}
		time.Sleep(time.Until(next.Add(-before)))
		start := time.Now()
		if _, err := iamc.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("target"), PolicyName: aws.String(fmt.Sprint("p", i)),
			PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`)}); err != nil {
			return err
		}
		select {
		case at := <-alarms:
			lat = append(lat, at.Sub(start))
			afterEnd = append(afterEnd, at.Sub(next))
		case <-time.After(3*p + 10*time.Second):
			da, _ := cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{"iam-policy"}})
			state := ""
			if da != nil && len(da.MetricAlarms) == 1 {
				state = string(da.MetricAlarms[0].StateValue) + ": " + aws.ToString(da.MetricAlarms[0].StateReason)
			}
			st, _ := cw.GetMetricStatistics(ctx, &cloudwatch.GetMetricStatisticsInput{Namespace: aws.String("CISBenchmark"), MetricName: aws.String("IAMPolicyChanges"),
				StartTime: aws.Time(next.Add(-5 * p)), EndTime: aws.Time(time.Now()), Period: aws.Int32(int32(period)), Statistics: []cwtypes.Statistic{cwtypes.StatisticSum}})
			var pts []string
			if st != nil {
				for _, d := range st.Datapoints {
					pts = append(pts, fmt.Sprintf("%s=%v", d.Timestamp.UTC().Format("15:04:05"), aws.ToFloat64(d.Sum)))
				}
			}
			hist, _ := cw.DescribeAlarmHistory(ctx, &cloudwatch.DescribeAlarmHistoryInput{AlarmName: aws.String("iam-policy")})
			var hs []string
			if hist != nil {
				for _, h := range hist.AlarmHistoryItems {
					hs = append(hs, h.Timestamp.UTC().Format("15:04:05.000")+" "+aws.ToString(h.HistorySummary))
				}
			}
			return fmt.Errorf("round %d: no ALARM notification (call at %s, period end %s); alarm %s; datapoints %v; history %v", i, start.UTC().Format("15:04:05.000"), next.UTC().Format("15:04:05"), state, pts, hs)
		}
		// Let the period with the breaching datapoint end before the next round.
		time.Sleep(time.Until(next.Add(p)))
	}
	slices.Sort(lat)
	slices.Sort(afterEnd)
	fmt.Printf("call → ALARM notification (period %ds, call %v before the period ends, %d rounds): min %v, median %v, max %v; after the period's end: median %v, max %v\n",
		period, before, rounds, lat[0].Round(time.Millisecond), lat[len(lat)/2].Round(time.Millisecond), lat[len(lat)-1].Round(time.Millisecond),
		afterEnd[len(afterEnd)/2].Round(time.Millisecond), afterEnd[len(afterEnd)-1].Round(time.Millisecond))
	return nil
}

func drain(ch chan time.Time) {
	for {
		select {
		case <-ch:
		default:
			return
		}
	}
}
