package e2e

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/smithy-go"

	"github.com/opentrail/opentrail/internal/testserver"
)

func cwCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// TestMonitoringEndToEnd drives CloudWatch through aws-sdk-go-v2 (rpc-v2-cbor): metrics in
// and statistics out, an alarm on a high-resolution metric whose breach reaches a subscribed
// HTTP endpoint as CloudWatch's signed alarm message, history, errors, and a restart.
func TestMonitoringEndToEnd(t *testing.T) {
	srv := testserver.Start(t)
	ctx := testserver.Context(t)
	cw := cloudwatch.NewFromConfig(srv.RootConfig())

	// Metrics: three observations in one minute, then the statistics of that minute.
	minute := time.Now().UTC().Add(-2 * time.Minute).Truncate(time.Minute)
	dims := []cwtypes.Dimension{{Name: aws.String("Host"), Value: aws.String("web-1")}}
	_, err := cw.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String("Shop"), MetricData: []cwtypes.MetricDatum{
		{MetricName: aws.String("Latency"), Dimensions: dims, Timestamp: aws.Time(minute.Add(5 * time.Second)), Value: aws.Float64(10), Unit: cwtypes.StandardUnitMilliseconds},
		{MetricName: aws.String("Latency"), Dimensions: dims, Timestamp: aws.Time(minute.Add(20 * time.Second)), Values: []float64{20, 60}, Counts: []float64{1, 2}, Unit: cwtypes.StandardUnitMilliseconds},
	}})
	if err != nil {
		t.Fatal(err)
	}
	stats, err := cw.GetMetricStatistics(ctx, &cloudwatch.GetMetricStatisticsInput{Namespace: aws.String("Shop"), MetricName: aws.String("Latency"), Dimensions: dims,
		StartTime: aws.Time(minute.Add(-time.Minute)), EndTime: aws.Time(minute.Add(2 * time.Minute)), Period: aws.Int32(60),
		Statistics: []cwtypes.Statistic{cwtypes.StatisticSum, cwtypes.StatisticSampleCount, cwtypes.StatisticMaximum, cwtypes.StatisticAverage}})
	if err != nil {
		t.Fatal(err)
	}
	if len(stats.Datapoints) != 1 {
		t.Fatalf("datapoints %+v", stats.Datapoints)
	}
	dp := stats.Datapoints[0]
	if !aws.ToTime(dp.Timestamp).Equal(minute) || aws.ToFloat64(dp.Sum) != 150 || aws.ToFloat64(dp.SampleCount) != 4 || aws.ToFloat64(dp.Maximum) != 60 ||
		aws.ToFloat64(dp.Average) != 37.5 || dp.Unit != cwtypes.StandardUnitMilliseconds || aws.ToString(stats.Label) != "Latency" {
		t.Fatalf("datapoint %+v", dp)
	}
	pct, err := cw.GetMetricStatistics(ctx, &cloudwatch.GetMetricStatisticsInput{Namespace: aws.String("Shop"), MetricName: aws.String("Latency"), Dimensions: dims,
		StartTime: aws.Time(minute), EndTime: aws.Time(minute.Add(time.Minute)), Period: aws.Int32(60), ExtendedStatistics: []string{"p50", "p99"}})
	if err != nil || len(pct.Datapoints) != 1 || pct.Datapoints[0].ExtendedStatistics["p50"] != 20 || pct.Datapoints[0].ExtendedStatistics["p99"] != 60 {
		t.Fatalf("percentiles %+v %v", pct, err)
	}
	data, err := cw.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{StartTime: aws.Time(minute.Add(-time.Minute)), EndTime: aws.Time(minute.Add(time.Minute)),
		MetricDataQueries: []cwtypes.MetricDataQuery{{Id: aws.String("lat"), MetricStat: &cwtypes.MetricStat{
			Metric: &cwtypes.Metric{Namespace: aws.String("Shop"), MetricName: aws.String("Latency"), Dimensions: dims}, Period: aws.Int32(60), Stat: aws.String("Minimum")}}}})
	if err != nil || len(data.MetricDataResults) != 1 || len(data.MetricDataResults[0].Values) != 1 || data.MetricDataResults[0].Values[0] != 10 ||
		data.MetricDataResults[0].StatusCode != cwtypes.StatusCodeComplete {
		t.Fatalf("GetMetricData %+v %v", data, err)
	}
	list, err := cw.ListMetrics(ctx, &cloudwatch.ListMetricsInput{Namespace: aws.String("Shop")})
	if err != nil || len(list.Metrics) != 1 || aws.ToString(list.Metrics[0].MetricName) != "Latency" {
		t.Fatalf("ListMetrics %+v %v", list, err)
	}

	// Errors carry the Query codes and map to the modeled error types.
	_, err = cw.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String("AWS/EC2"), MetricData: []cwtypes.MetricDatum{{MetricName: aws.String("x"), Value: aws.Float64(1)}}})
	var ipv *cwtypes.InvalidParameterValueException
	if !errors.As(err, &ipv) || cwCode(err) != "InvalidParameterValue" {
		t.Fatalf("AWS/ namespace: %v (%T)", err, err)
	}
	_, err = cw.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{AlarmName: aws.String("nope"), StateValue: cwtypes.StateValueOk, StateReason: aws.String("x")})
	var rnf *cwtypes.ResourceNotFound
	if !errors.As(err, &rnf) || cwCode(err) != "ResourceNotFound" {
		t.Fatalf("SetAlarmState on a missing alarm: %v (%T)", err, err)
	}
	_, err = cw.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String("bad"), MetricName: aws.String("m"), Namespace: aws.String("n"),
		Statistic: cwtypes.StatisticSum, Period: aws.Int32(45), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(1), ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold})
	if cwCode(err) != "InvalidParameterValue" {
		t.Fatalf("Period 45: %v", err)
	}
	if _, err := cw.DeleteDashboards(ctx, &cloudwatch.DeleteDashboardsInput{DashboardNames: []string{"d"}}); cwCode(err) != "UnsupportedOperation" {
		t.Fatalf("DeleteDashboards: %v", err)
	}

	// An SNS topic with a confirmed HTTP subscriber.
	snsc := sns.NewFromConfig(srv.RootConfig())
	topic, err := snsc.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("alarms")})
	if err != nil {
		t.Fatal(err)
	}
	ep, got := snsEndpoint(t)
	if _, err := snsc.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("http"), Endpoint: aws.String(ep.URL)}); err != nil {
		t.Fatal(err)
	}
	conf := verifySNS(t, srv, nextDelivery(t, got).body)
	if status, body := httpGet(t, conf.SubscribeURL); status != 200 {
		t.Fatalf("confirm: %d %s", status, body)
	}

	// A high-resolution alarm: Sum over 10 s above 5. notBreaching makes it OK at once.
	_, err = cw.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String("checkout-errors"), AlarmDescription: aws.String("errors at checkout"),
		MetricName: aws.String("Errors"), Namespace: aws.String("Shop"), Statistic: cwtypes.StatisticSum, Period: aws.Int32(10),
		EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(5), ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold,
		TreatMissingData: aws.String("notBreaching"), AlarmActions: []string{aws.ToString(topic.TopicArn)}})
	if err != nil {
		t.Fatal(err)
	}
	waitState := func(want cwtypes.StateValue) cwtypes.MetricAlarm {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			out, err := cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{"checkout-errors"}})
			if err != nil {
				t.Fatal(err)
			}
			if len(out.MetricAlarms) == 1 && out.MetricAlarms[0].StateValue == want {
				return out.MetricAlarms[0]
			}
			if time.Now().After(deadline) {
				t.Fatalf("alarm not %s: %+v", want, out.MetricAlarms)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitState(cwtypes.StateValueOk)

	// A breaching datum for the period that just ended: the alarm fires at once, without
	// waiting for the next boundary.
	sent := time.Now()
	_, err = cw.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String("Shop"), MetricData: []cwtypes.MetricDatum{
		{MetricName: aws.String("Errors"), Value: aws.Float64(9), Timestamp: aws.Time(sent.Add(-10 * time.Second)), StorageResolution: aws.Int32(1), Unit: cwtypes.StandardUnitCount}}})
	if err != nil {
		t.Fatal(err)
	}
	d := nextDelivery(t, got)
	latency := time.Since(sent)
	env := verifySNS(t, srv, d.body)
	t.Logf("PutMetricData → signed alarm notification: %v", latency)
	if latency > 5*time.Second {
		t.Errorf("notification took %v", latency)
	}
	if env.Type != "Notification" || env.Subject != `ALARM: "checkout-errors" in US East (N. Virginia)` || env.TopicArn != aws.ToString(topic.TopicArn) {
		t.Fatalf("envelope %+v", env)
	}
	var msg struct {
		AlarmName, AWSAccountId, NewStateValue, OldStateValue, NewStateReason, Region, AlarmArn, StateChangeTime string
		AlarmDescription                                                                                         *string
		AlarmActions                                                                                             []string
		Trigger                                                                                                  struct {
			MetricName, Namespace, StatisticType, Statistic, ComparisonOperator string
			Period, EvaluationPeriods                                           int
			Threshold                                                           float64
			Unit                                                                *string
			Dimensions                                                          []map[string]string
		}
	}
	if err := json.Unmarshal([]byte(env.Message), &msg); err != nil {
		t.Fatalf("message %s: %v", env.Message, err)
	}
	if msg.AlarmName != "checkout-errors" || msg.AWSAccountId != testserver.AccountID || msg.NewStateValue != "ALARM" || msg.OldStateValue != "OK" ||
		msg.Region != "US East (N. Virginia)" || msg.AlarmArn != "arn:aws:cloudwatch:us-east-1:"+testserver.AccountID+":alarm:checkout-errors" ||
		aws.ToString(msg.AlarmDescription) != "errors at checkout" || len(msg.AlarmActions) != 1 ||
		msg.Trigger.Statistic != "SUM" || msg.Trigger.StatisticType != "Statistic" || msg.Trigger.Period != 10 || msg.Trigger.Threshold != 5 ||
		msg.Trigger.Unit != nil || !strings.HasPrefix(msg.NewStateReason, "Threshold Crossed: 1 datapoint [9.0 (") ||
		!strings.Contains(env.Message, `"Threshold":5.0`) || !strings.HasSuffix(msg.StateChangeTime, "+0000") {
		t.Fatalf("alarm message %s", env.Message)
	}
	a := waitState(cwtypes.StateValueAlarm)
	if !strings.Contains(aws.ToString(a.StateReasonData), `"recentDatapoints":[9]`) || a.StateTransitionedTimestamp == nil {
		t.Errorf("alarm %+v", a)
	}

	// History: creation, OK, ALARM and the SNS action, newest first.
	hist, err := cw.DescribeAlarmHistory(ctx, &cloudwatch.DescribeAlarmHistoryInput{AlarmName: aws.String("checkout-errors")})
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, h := range hist.AlarmHistoryItems {
		kinds = append(kinds, string(h.HistoryItemType)+": "+aws.ToString(h.HistorySummary))
	}
	want := []string{
		"Action: Successfully executed action " + aws.ToString(topic.TopicArn),
		"StateUpdate: Alarm updated from OK to ALARM",
		"StateUpdate: Alarm updated from INSUFFICIENT_DATA to OK",
		`ConfigurationUpdate: Alarm "checkout-errors" created`,
	}
	if strings.Join(kinds, "\n") != strings.Join(want, "\n") {
		t.Fatalf("history:\n%s\nwant:\n%s", strings.Join(kinds, "\n"), strings.Join(want, "\n"))
	}

	// SetAlarmState runs no actions for a state without any, and is recorded.
	if _, err := cw.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{AlarmName: aws.String("checkout-errors"), StateValue: cwtypes.StateValueInsufficientData,
		StateReason: aws.String("testing"), StateReasonData: aws.String("not json")}); cwCode(err) != "InvalidFormat" {
		t.Fatalf("StateReasonData not JSON: %v", err)
	}
	if _, err := cw.DisableAlarmActions(ctx, &cloudwatch.DisableAlarmActionsInput{AlarmNames: []string{"checkout-errors"}}); err != nil {
		t.Fatal(err)
	}

	// A restart keeps alarms, their state and history, and the datapoints.
	srv.Restart()
	cw = cloudwatch.NewFromConfig(srv.RootConfig())
	out, err := cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{})
	if err != nil || len(out.MetricAlarms) != 1 || out.MetricAlarms[0].StateValue != cwtypes.StateValueAlarm || aws.ToBool(out.MetricAlarms[0].ActionsEnabled) {
		t.Fatalf("after restart: %+v %v", out, err)
	}
	hist, err = cw.DescribeAlarmHistory(ctx, &cloudwatch.DescribeAlarmHistoryInput{AlarmName: aws.String("checkout-errors"), HistoryItemType: cwtypes.HistoryItemTypeStateUpdate})
	if err != nil || len(hist.AlarmHistoryItems) != 2 {
		t.Fatalf("history after restart: %+v %v", hist, err)
	}
	stats, err = cw.GetMetricStatistics(ctx, &cloudwatch.GetMetricStatisticsInput{Namespace: aws.String("Shop"), MetricName: aws.String("Latency"), Dimensions: dims,
		StartTime: aws.Time(minute), EndTime: aws.Time(minute.Add(time.Minute)), Period: aws.Int32(60), Statistics: []cwtypes.Statistic{cwtypes.StatisticSum}})
	if err != nil || len(stats.Datapoints) != 1 || aws.ToFloat64(stats.Datapoints[0].Sum) != 150 {
		t.Fatalf("datapoints after restart: %+v %v", stats, err)
	}
	if _, err := cw.DeleteAlarms(ctx, &cloudwatch.DeleteAlarmsInput{AlarmNames: []string{"checkout-errors", "ghost"}}); cwCode(err) != "ResourceNotFound" {
		t.Fatalf("DeleteAlarms with a missing name: %v", err)
	}
	if _, err := cw.DeleteAlarms(ctx, &cloudwatch.DeleteAlarmsInput{AlarmNames: []string{"checkout-errors"}}); err != nil {
		t.Fatal(err)
	}

	// Another region sees none of it.
	cfg := srv.RootConfig()
	cfg.Region = "eu-west-1"
	other := cloudwatch.NewFromConfig(cfg)
	if l, err := other.ListMetrics(ctx, &cloudwatch.ListMetricsInput{}); err != nil || len(l.Metrics) != 0 {
		t.Fatalf("eu-west-1 ListMetrics: %+v %v", l, err)
	}
}
