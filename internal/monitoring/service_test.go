package monitoring

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opentrail/opentrail"
	"github.com/opentrail/opentrail/internal/alarm"
	"github.com/opentrail/opentrail/internal/kv"
	"github.com/opentrail/opentrail/internal/server"
)

const acct = "111111111111"

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

type published struct{ arn, subject, message string }

type fakeSNS struct {
	mu   sync.Mutex
	msgs []published
}

func (f *fakeSNS) PublishInternal(ctx context.Context, arn, subject, message string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.msgs = append(f.msgs, published{arn, subject, message})
	return "msg-1", nil
}

var _ Publisher = (*fakeSNS)(nil)

func newTestService(t *testing.T, clk *clock, pub Publisher) (*Service, *kv.Store) {
	t.Helper()
	dir := t.TempDir()
	store, err := kv.Open(dir+"/meta", nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Options{Store: store, Dir: dir + "/metrics", Publisher: pub, Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(); store.Close() })
	return s, store
}

func call(region string) *server.Call {
	return &server.Call{Region: region, Caller: &opentrail.Caller{AccountID: acct}}
}

func code(err error) string {
	if e := opentrail.ErrorOf(err); e != nil {
		return e.Code
	}
	if err != nil {
		return "non-AWS: " + err.Error()
	}
	return ""
}

func ptr[T any](v T) *T { return &v }

func TestPutMetricDataValidation(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	s, _ := newTestService(t, &clock{t: t0}, nil)
	d := func(mod func(*metricDatum)) *putMetricDataInput {
		m := metricDatum{MetricName: "M", Value: ptr(1.0)}
		mod(&m)
		return &putMetricDataInput{Namespace: "N", MetricData: []metricDatum{m}}
	}
	cases := []struct {
		name string
		in   *putMetricDataInput
		want string
	}{
		{"ok", d(func(*metricDatum) {}), ""},
		{"no namespace", &putMetricDataInput{MetricData: []metricDatum{{MetricName: "M", Value: ptr(1.0)}}}, CodeMissingParameter},
		{"AWS namespace", &putMetricDataInput{Namespace: "AWS/EC2", MetricData: []metricDatum{{MetricName: "M", Value: ptr(1.0)}}}, CodeInvalidParameterValue},
		{"no data", &putMetricDataInput{Namespace: "N"}, CodeMissingParameter},
		{"no name", d(func(m *metricDatum) { m.MetricName = "" }), CodeMissingParameter},
		{"no value", d(func(m *metricDatum) { m.Value = nil }), CodeMissingParameter},
		{"NaN", d(func(m *metricDatum) { m.Value = ptr(nan()) }), CodeInvalidParameterValue},
		{"too large", d(func(m *metricDatum) { m.Value = ptr(1e300) }), CodeInvalidParameterValue},
		{"value and set", d(func(m *metricDatum) { m.StatisticValues = &statisticSet{ptr(1.0), ptr(1.0), ptr(1.0), ptr(1.0)} }), CodeInvalidParameterCombination},
		{"partial set", d(func(m *metricDatum) { m.Value = nil; m.StatisticValues = &statisticSet{SampleCount: ptr(1.0)} }), CodeMissingParameter},
		{"values and counts", d(func(m *metricDatum) { m.Value = nil; m.Values = []float64{1, 2}; m.Counts = []float64{1} }), CodeInvalidParameterValue},
		{"bad unit", d(func(m *metricDatum) { m.Unit = "Parsecs" }), CodeInvalidParameterValue},
		{"bad resolution", d(func(m *metricDatum) { m.StorageResolution = ptr(int32(5)) }), CodeInvalidParameterValue},
		{"old", d(func(m *metricDatum) { m.Timestamp = ptr(t0.Add(-15 * 24 * time.Hour)) }), CodeInvalidParameterValue},
		{"future", d(func(m *metricDatum) { m.Timestamp = ptr(t0.Add(3 * time.Hour)) }), CodeInvalidParameterValue},
		{"dup dimension", d(func(m *metricDatum) { m.Dimensions = []Dimension{{"a", "1"}, {"a", "2"}} }), CodeInvalidParameterValue},
		{"empty dimension value", d(func(m *metricDatum) { m.Dimensions = []Dimension{{"a", ""}} }), CodeMissingParameter},
	}
	for _, c := range cases {
		_, err := s.putMetricData(context.Background(), call("us-east-1"), c.in)
		if got := code(err); got != c.want {
			t.Errorf("%s: got %q (%v); want %q", c.name, got, err, c.want)
		}
	}
}

func nan() float64 { var z float64; return z / z }

func alarmInput(name string, mod func(*putMetricAlarmInput)) *putMetricAlarmInput {
	in := &putMetricAlarmInput{AlarmName: name, MetricName: "Errors", Namespace: "App", Statistic: "Sum", Period: ptr(int32(60)),
		EvaluationPeriods: ptr(int32(1)), Threshold: ptr(1.0), ComparisonOperator: "GreaterThanOrEqualToThreshold"}
	if mod != nil {
		mod(in)
	}
	return in
}

func TestPutMetricAlarmValidation(t *testing.T) {
	s, _ := newTestService(t, &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}, nil)
	cases := []struct {
		name string
		mod  func(*putMetricAlarmInput)
		want string
	}{
		{"ok", nil, ""},
		{"no name", func(in *putMetricAlarmInput) { in.AlarmName = "" }, CodeMissingParameter},
		{"control char", func(in *putMetricAlarmInput) { in.AlarmName = "a\nb" }, CodeValidationError},
		{"both statistics", func(in *putMetricAlarmInput) { in.ExtendedStatistic = "p90" }, CodeInvalidParameterCombination},
		{"bad statistic", func(in *putMetricAlarmInput) { in.Statistic = "Median" }, CodeValidationError},
		{"bad extended", func(in *putMetricAlarmInput) { in.Statistic = ""; in.ExtendedStatistic = "wm90" }, CodeInvalidParameterValue},
		{"period 45", func(in *putMetricAlarmInput) { in.Period = ptr(int32(45)) }, CodeInvalidParameterValue},
		{"period 10", func(in *putMetricAlarmInput) { in.Period = ptr(int32(10)) }, ""},
		{"too long", func(in *putMetricAlarmInput) { in.EvaluationPeriods = ptr(int32(1441)) }, CodeInvalidParameterValue},
		{"a week of hours", func(in *putMetricAlarmInput) { in.Period = ptr(int32(3600)); in.EvaluationPeriods = ptr(int32(168)) }, ""},
		{"M > N", func(in *putMetricAlarmInput) { in.DatapointsToAlarm = ptr(int32(2)) }, CodeValidationError},
		{"no threshold", func(in *putMetricAlarmInput) { in.Threshold = nil }, CodeMissingParameter},
		{"bad operator", func(in *putMetricAlarmInput) { in.ComparisonOperator = "Equal" }, CodeValidationError},
		{"anomaly band", func(in *putMetricAlarmInput) { in.ComparisonOperator = "LessThanLowerOrGreaterThanUpperThreshold" }, CodeInvalidParameterValue},
		{"math", func(in *putMetricAlarmInput) { in.Metrics = []metricDataQuery{{Id: "m"}} }, CodeInvalidParameterValue},
		{"treat", func(in *putMetricAlarmInput) { in.TreatMissingData = "sometimes" }, CodeInvalidParameterValue},
		{"six actions", func(in *putMetricAlarmInput) {
			in.AlarmActions = strings.Split("arn:a:b:c:d:1 arn:a:b:c:d:2 arn:a:b:c:d:3 arn:a:b:c:d:4 arn:a:b:c:d:5 arn:a:b:c:d:6", " ")
		}, CodeValidationError},
		{"not an arn", func(in *putMetricAlarmInput) { in.OKActions = []string{"topic"} }, CodeInvalidParameterValue},
		{"low sample without percentile", func(in *putMetricAlarmInput) { in.EvaluateLowSampleCountPercentile = "ignore" }, CodeInvalidParameterCombination},
	}
	for _, c := range cases {
		_, err := s.putMetricAlarm(context.Background(), call("us-east-1"), alarmInput("a", c.mod))
		if got := code(err); got != c.want {
			t.Errorf("%s: got %q (%v); want %q", c.name, got, err, c.want)
		}
	}
}

func TestEvaluatorAndActions(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 3, 1, 12, 0, 30, 0, time.UTC)
	clk := &clock{t: t0}
	pub := &fakeSNS{}
	s, store := newTestService(t, clk, pub)
	topic := "arn:aws:sns:us-east-1:" + acct + ":alerts"
	c := call("us-east-1")
	// 2 of 3 one-minute periods at or above 1, treat missing as missing.
	in := alarmInput("errors", func(in *putMetricAlarmInput) {
		in.EvaluationPeriods, in.DatapointsToAlarm = ptr(int32(3)), ptr(int32(2))
		in.AlarmActions, in.OKActions = []string{topic}, []string{topic}
		in.Dimensions = []Dimension{{"Service", "checkout"}}
	})
	if _, err := s.putMetricAlarm(ctx, c, in); err != nil {
		t.Fatal(err)
	}
	state := func() MetricAlarm {
		out, err := s.describeAlarms(ctx, c, &describeAlarmsInput{AlarmNames: []string{"errors"}})
		if err != nil || len(out.MetricAlarms) != 1 {
			t.Fatalf("describe: %+v %v", out, err)
		}
		return out.MetricAlarms[0]
	}
	if a := state(); a.StateValue != "INSUFFICIENT_DATA" || a.StateReason != "Unchecked: Initial alarm creation" {
		t.Fatalf("new alarm %+v", a)
	}
	put := func(at time.Time, v float64) {
		t.Helper()
		err := s.PutInternal(ctx, acct, "us-east-1", []Datum{{Namespace: "App", MetricName: "Errors", Dimensions: []Dimension{{"Service", "checkout"}}, Value: v, Timestamp: at}})
		if err != nil {
			t.Fatal(err)
		}
	}
	at := func(hm string) time.Time {
		t, _ := time.Parse("2006-01-02 15:04:05", "2026-03-01 "+hm)
		return t
	}
	tickAt := func(hm string) {
		clk.set(at(hm))
		s.tick(ctx, clk.now())
	}
	// Minute 12:00 breaches; at 12:01 that is 1 of the 2 needed, not premature (R-M is not
	// the only datapoint's slot): OK, and the OK action runs.
	put(t0, 3)
	tickAt("12:01:00")
	if a := state(); a.StateValue != "OK" || a.StateReason != "Threshold Crossed: 1 out of the last 3 datapoints [3.0 (01/03/26 12:00:00)] was greater than or equal to the threshold (1.0) (minimum 2 datapoints for OK -> ALARM transition)." {
		t.Fatalf("after 12:01: %s %q", a.StateValue, a.StateReason)
	}
	// A second breaching minute: 2 of 3 → ALARM.
	put(at("12:01:10"), 3)
	tickAt("12:02:00")
	a := state()
	if a.StateValue != "ALARM" || a.StateReason != "Threshold Crossed: 2 out of the last 3 datapoints [3.0 (01/03/26 12:00:00), 3.0 (01/03/26 12:01:00)] were greater than or equal to the threshold (1.0) (minimum 2 datapoints for OK -> ALARM transition)." {
		t.Fatalf("after 12:02: %s %q", a.StateValue, a.StateReason)
	}
	if len(pub.msgs) != 2 || pub.msgs[1].arn != topic || pub.msgs[1].subject != `ALARM: "errors" in US East (N. Virginia)` || !strings.HasPrefix(pub.msgs[0].subject, "OK: ") {
		t.Fatalf("published %+v", pub.msgs)
	}
	var msg map[string]any
	if err := json.Unmarshal([]byte(pub.msgs[1].message), &msg); err != nil {
		t.Fatal(err)
	}
	trig := msg["Trigger"].(map[string]any)
	if msg["NewStateValue"] != "ALARM" || msg["OldStateValue"] != "OK" || msg["AlarmDescription"] != nil || msg["NewStateReason"] != a.StateReason ||
		msg["AWSAccountId"] != acct || trig["Statistic"] != "SUM" || trig["StatisticType"] != "Statistic" || trig["DatapointsToAlarm"] != 2.0 ||
		!strings.Contains(pub.msgs[1].message, `"Dimensions":[{"value":"checkout","name":"Service"}]`) || !strings.Contains(pub.msgs[1].message, `"Threshold":1.0`) ||
		msg["StateChangeTime"] != "2026-03-01T12:02:00.000+0000" {
		t.Fatalf("message %s", pub.msgs[1].message)
	}

	// Two quiet minutes with zeros: 1 of the last 3 breaches → OK.
	put(at("12:02:10"), 0)
	put(at("12:03:10"), 0)
	tickAt("12:04:00")
	if a := state(); a.StateValue != "OK" {
		t.Fatalf("after 12:04: %s %q", a.StateValue, a.StateReason)
	}

	// Late data for ended periods is evaluated at once (dataArrived), not at the next tick.
	clk.set(at("12:04:20"))
	put(at("12:02:30"), 5)
	put(at("12:03:30"), 5)
	for n := 0; ; n++ {
		select {
		case refs := <-s.kick:
			s.evaluateNow(ctx, refs)
			continue
		default:
			if n == 0 {
				t.Fatal("late data requested no evaluation")
			}
		}
		break
	}
	if a := state(); a.StateValue != "ALARM" {
		t.Fatalf("after late data: %s %q", a.StateValue, a.StateReason)
	}
	if len(pub.msgs) != 4 {
		t.Fatalf("published %d messages; want 4", len(pub.msgs))
	}
	// Data in the current period waits for the boundary.
	put(at("12:04:25"), 5)
	select {
	case refs := <-s.kick:
		t.Fatalf("data for the running period requested %v", refs)
	default:
	}

	// Disabled actions publish nothing; SetAlarmState changes state and history.
	if _, err := s.disableAlarmActions(ctx, c, &alarmNamesInput{AlarmNames: []string{"errors"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.setAlarmState(ctx, c, &setAlarmStateInput{AlarmName: "errors", StateValue: "OK", StateReason: "by hand"}); err != nil {
		t.Fatal(err)
	}
	if len(pub.msgs) != 4 {
		t.Fatalf("published %d messages; want 4", len(pub.msgs))
	}
	hist, err := s.describeAlarmHistory(ctx, c, &describeAlarmHistoryInput{AlarmName: "errors", HistoryItemType: "StateUpdate", ScanBy: "TimestampAscending"})
	if err != nil {
		t.Fatal(err)
	}
	var sums []string
	for _, h := range hist.AlarmHistoryItems {
		sums = append(sums, h.HistorySummary)
	}
	want := "Alarm updated from INSUFFICIENT_DATA to OK|Alarm updated from OK to ALARM|Alarm updated from ALARM to OK|Alarm updated from OK to ALARM|Alarm updated from ALARM to OK"
	if strings.Join(sums, "|") != want {
		t.Fatalf("history %q", sums)
	}
	var hd struct {
		NewState struct {
			StateValue      string
			StateReasonData map[string]any
		} `json:"newState"`
	}
	if err := json.Unmarshal([]byte(hist.AlarmHistoryItems[0].HistoryData), &hd); err != nil || hd.NewState.StateValue != "OK" || hd.NewState.StateReasonData["version"] != "1.0" {
		t.Fatalf("history data %s: %v", hist.AlarmHistoryItems[0].HistoryData, err)
	}

	// Another account and region see nothing; a reopened service has the alarm as it was.
	if out, _ := s.describeAlarms(ctx, call("eu-west-1"), &describeAlarmsInput{}); len(out.MetricAlarms) != 0 {
		t.Fatalf("eu-west-1 sees %+v", out.MetricAlarms)
	}
	s2, err := New(Options{Store: store, Dir: t.TempDir(), Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	out, err := s2.describeAlarms(ctx, c, &describeAlarmsInput{})
	if err != nil || len(out.MetricAlarms) != 1 || out.MetricAlarms[0].StateValue != "OK" || out.MetricAlarms[0].ActionsEnabled {
		t.Fatalf("reloaded %+v %v", out, err)
	}
}

func TestActionFailuresAreHistory(t *testing.T) {
	ctx := context.Background()
	clk := &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	s, _ := newTestService(t, clk, &fakeSNS{})
	c := call("us-east-1")
	in := alarmInput("x", func(in *putMetricAlarmInput) {
		in.AlarmActions = []string{"arn:aws:sns:us-east-1:999999999999:theirs", "arn:aws:lambda:us-east-1:" + acct + ":function:f"}
	})
	if _, err := s.putMetricAlarm(ctx, c, in); err != nil {
		t.Fatal(err)
	}
	if _, err := s.setAlarmState(ctx, c, &setAlarmStateInput{AlarmName: "x", StateValue: "ALARM", StateReason: "test"}); err != nil {
		t.Fatal(err)
	}
	hist, _ := s.describeAlarmHistory(ctx, c, &describeAlarmHistoryInput{HistoryItemType: "Action"})
	if len(hist.AlarmHistoryItems) != 2 || !strings.HasPrefix(hist.AlarmHistoryItems[0].HistorySummary, "Failed to execute action ") {
		t.Fatalf("action history %+v", hist.AlarmHistoryItems)
	}
}

func TestStatisticsAndRollup(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clk := &clock{t: now}
	s, _ := newTestService(t, clk, nil)
	c := call("us-east-1")
	// High-resolution data, one value a second for two minutes, four hours ago.
	base := now.Add(-4 * time.Hour)
	id := newMetricID(acct, "us-east-1", "App", "Load", nil)
	points := make([]storedPoint, 0, 120)
	for i := 0; i < 120; i++ {
		v := float64(i)
		points = append(points, storedPoint{Time: base.Add(time.Duration(i) * time.Second), Resolution: 1, Unit: "None",
			Stats: alarm.Stats{SampleCount: 1, Sum: v, Min: v, Max: v, Values: []alarm.Value{{V: v, N: 1}}, Exact: true}})
	}
	if err := s.points.put(map[metricID]*metricInfo{id: {Account: acct, Region: "us-east-1", Namespace: "App", MetricName: "Load"}},
		map[metricID][]storedPoint{id: points}, now); err != nil {
		t.Fatal(err)
	}
	get := func(period int32) []datapoint {
		out, err := s.getMetricStatistics(ctx, c, &getMetricStatisticsInput{Namespace: "App", MetricName: "Load", StartTime: ptr(base), EndTime: ptr(base.Add(2 * time.Minute)),
			Period: ptr(period), Statistics: []string{"Sum", "SampleCount"}})
		if err != nil {
			t.Fatal(err)
		}
		return out.Datapoints
	}
	if dps := get(10); len(dps) != 12 || *dps[0].Sum != 45 {
		t.Fatalf("10 s datapoints before roll-up: %d %+v", len(dps), dps[0])
	}
	if err := s.points.rollup(now); err != nil {
		t.Fatal(err)
	}
	dps := get(60)
	if len(dps) != 2 || *dps[0].Sum != 1770 || *dps[0].SampleCount != 60 || *dps[1].Sum != 5370 {
		t.Fatalf("rolled up: %+v", dps)
	}
	// Percentiles survive the roll-up (values are kept).
	out, _ := s.getMetricStatistics(ctx, c, &getMetricStatisticsInput{Namespace: "App", MetricName: "Load", StartTime: ptr(base), EndTime: ptr(base.Add(time.Minute)),
		Period: ptr(int32(60)), ExtendedStatistics: []string{"p90"}})
	if len(out.Datapoints) != 1 || out.Datapoints[0].ExtendedStatistics["p90"] != 53 {
		t.Fatalf("p90 after roll-up: %+v", out.Datapoints)
	}
	// Rolling up again changes nothing.
	if err := s.points.rollup(now); err != nil {
		t.Fatal(err)
	}
	if again := get(60); len(again) != 2 || *again[0].Sum != 1770 {
		t.Fatalf("second roll-up: %+v", again)
	}
	// Past the longest retention the data is gone, and so is the metric.
	if err := s.points.rollup(now.Add(456 * 24 * time.Hour)); err != nil {
		t.Fatal(err)
	}
	if dps := get(60); len(dps) != 0 {
		t.Fatalf("after retention: %+v", dps)
	}
	if l, _ := s.listMetrics(ctx, c, &listMetricsInput{}); len(l.Metrics) != 0 {
		t.Fatalf("expired metric listed: %+v", l.Metrics)
	}
	if _, err := s.getMetricStatistics(ctx, c, &getMetricStatisticsInput{Namespace: "App", MetricName: "Load", StartTime: ptr(now.Add(-48 * time.Hour)), EndTime: ptr(now),
		Period: ptr(int32(60)), Statistics: []string{"Sum"}}); code(err) != CodeInvalidParameterCombination {
		t.Fatalf("2 days at 60 s: %v", err)
	}
}

func TestErrorShapes(t *testing.T) {
	for code, want := range map[string]string{
		"InvalidParameterValue": "com.amazonaws.cloudwatch#InvalidParameterValueException",
		"ResourceNotFound":      "com.amazonaws.cloudwatch#ResourceNotFound",
		"LimitExceeded":         "com.amazonaws.cloudwatch#LimitExceededFault",
		"MissingParameter":      "com.amazonaws.cloudwatch#MissingRequiredParameterException",
		"ValidationError":       "ValidationError",
	} {
		if got := errorShape(code); got != want {
			t.Errorf("errorShape(%s) = %s; want %s", code, got, want)
		}
	}
}
