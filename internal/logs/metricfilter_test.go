package logs

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	cwltypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
)

// putFilter creates a metric filter MyApp/<name> with the given pattern and value.
func putFilter(t *testing.T, e *env, group, name, pattern, value string, opts ...func(*cwltypes.MetricTransformation)) {
	t.Helper()
	mt := cwltypes.MetricTransformation{MetricName: aws.String(name), MetricNamespace: aws.String("MyApp"), MetricValue: aws.String(value)}
	for _, o := range opts {
		o(&mt)
	}
	_, err := e.client().PutMetricFilter(ctx, &cloudwatchlogs.PutMetricFilterInput{
		LogGroupName: aws.String(group), FilterName: aws.String(name), FilterPattern: aws.String(pattern),
		MetricTransformations: []cwltypes.MetricTransformation{mt},
	})
	if err != nil {
		t.Fatalf("PutMetricFilter %s: %v", name, err)
	}
}

func TestPutMetricFilterValidation(t *testing.T) {
	e := newEnv(t)
	e.group("g")
	e.group("ia")
	e.raw("CreateLogGroup", `{"logGroupName":"cold","logGroupClass":"INFREQUENT_ACCESS"}`)
	mt := func(name, ns, value string) cwltypes.MetricTransformation {
		return cwltypes.MetricTransformation{MetricName: aws.String(name), MetricNamespace: aws.String(ns), MetricValue: aws.String(value)}
	}
	dims := func(m cwltypes.MetricTransformation, d map[string]string) cwltypes.MetricTransformation {
		m.Dimensions = d
		return m
	}
	withDefault := func(m cwltypes.MetricTransformation, v float64) cwltypes.MetricTransformation {
		m.DefaultValue = aws.Float64(v)
		return m
	}
	for _, tc := range []struct {
		name, group, pattern string
		mts                  []cwltypes.MetricTransformation
		code, msg            string
	}{
		{"ok literal", "g", "ERROR", []cwltypes.MetricTransformation{mt("m", "ns", "1")}, "", ""},
		{"ok decimal", "g", "ERROR", []cwltypes.MetricTransformation{mt("m", "ns", "2.5")}, "", ""},
		{"ok json field", "g", `{ $.latency = * }`, []cwltypes.MetricTransformation{mt("m", "ns", "$.latency")}, "", ""},
		{"ok sd field", "g", `[ip, user, status, bytes]`, []cwltypes.MetricTransformation{mt("m", "ns", "$bytes")}, "", ""},
		{"ok sd position", "g", `[ip, user, status, bytes]`, []cwltypes.MetricTransformation{mt("m", "ns", "$4")}, "", ""},
		{"ok dims", "g", `{ $.a = * }`, []cwltypes.MetricTransformation{dims(mt("m", "ns", "1"), map[string]string{"A": "$.a", "B": "$.b", "C": "$.c"})}, "", ""},
		{"ok default", "g", "ERROR", []cwltypes.MetricTransformation{withDefault(mt("m", "ns", "1"), 0)}, "", ""},
		{"missing group", "nope", "ERROR", []cwltypes.MetricTransformation{mt("m", "ns", "1")}, "ResourceNotFoundException", "log group does not exist"},
		{"bad pattern", "g", `{ $.a = 1`, []cwltypes.MetricTransformation{mt("m", "ns", "1")}, "InvalidParameterException", "Invalid metric filter pattern"},
		{"two transformations", "g", "", []cwltypes.MetricTransformation{mt("m", "ns", "1"), mt("n", "ns", "1")}, "InvalidParameterException", "less than or equal to 1"},
		{"bad metric name", "g", "", []cwltypes.MetricTransformation{mt("a:b", "ns", "1")}, "InvalidParameterException", "metricName"},
		{"bad namespace", "g", "", []cwltypes.MetricTransformation{mt("m", "n$s", "1")}, "InvalidParameterException", "metricNamespace"},
		{"long name", "g", "", []cwltypes.MetricTransformation{mt(strings.Repeat("m", 256), "ns", "1")}, "InvalidParameterException", "less than or equal to 255"},
		{"bad value", "g", "ERROR", []cwltypes.MetricTransformation{mt("m", "ns", "one")}, "InvalidParameterException", "Invalid metric value"},
		{"long value", "g", "ERROR", []cwltypes.MetricTransformation{mt("m", "ns", "$."+strings.Repeat("a", 99))}, "InvalidParameterException", "less than or equal to 100"},
		{"field with term pattern", "g", "ERROR", []cwltypes.MetricTransformation{mt("m", "ns", "$.x")}, "InvalidParameterException", "Invalid metric value"},
		{"sd field in json pattern", "g", `{ $.a = 1 }`, []cwltypes.MetricTransformation{mt("m", "ns", "$a")}, "InvalidParameterException", "Invalid metric value"},
		{"unknown sd field", "g", `[a, b]`, []cwltypes.MetricTransformation{mt("m", "ns", "$c")}, "InvalidParameterException", "Invalid metric value"},
		{"dims with term pattern", "g", "ERROR", []cwltypes.MetricTransformation{dims(mt("m", "ns", "1"), map[string]string{"A": "$.a"})}, "InvalidParameterException", "The specified filter pattern does not support dimensions"},
		{"four dims", "g", `{ $.a = * }`, []cwltypes.MetricTransformation{dims(mt("m", "ns", "1"), map[string]string{"A": "$.a", "B": "$.b", "C": "$.c", "D": "$.d"})}, "InvalidParameterException", "at most 3 dimensions"},
		{"dims and default", "g", `{ $.a = * }`, []cwltypes.MetricTransformation{withDefault(dims(mt("m", "ns", "1"), map[string]string{"A": "$.a"}), 0)}, "InvalidParameterException", "dimensions and default value are mutually exclusive"},
		{"literal dimension", "g", `{ $.a = * }`, []cwltypes.MetricTransformation{dims(mt("m", "ns", "1"), map[string]string{"A": "prod"})}, "InvalidParameterException", "Invalid dimension value"},
		{"infrequent access class", "cold", "ERROR", []cwltypes.MetricTransformation{mt("m", "ns", "1")}, "InvalidOperationException", "INFREQUENT_ACCESS"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.client().PutMetricFilter(ctx, &cloudwatchlogs.PutMetricFilterInput{
				LogGroupName: aws.String(tc.group), FilterName: aws.String("f-" + tc.name), FilterPattern: aws.String(tc.pattern), MetricTransformations: tc.mts,
			})
			if tc.code == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantErr(t, err, tc.code, tc.msg)
		})
	}
	status, body := e.raw("PutMetricFilter", `{"logGroupName":"g","filterName":"u","filterPattern":"","metricTransformations":[]}`)
	if status != 400 || !strings.Contains(string(body), "greater than or equal to 1") {
		t.Errorf("no transformation: %d %s", status, body)
	}
	status, body = e.raw("PutMetricFilter", `{"logGroupName":"g","filterName":"u","filterPattern":"","metricTransformations":[{"metricName":"m","metricNamespace":"n","metricValue":"1","unit":"Furlongs"}]}`)
	if status != 400 || !strings.Contains(string(body), "enum value set") {
		t.Errorf("bad unit: %d %s", status, body)
	}
}

func TestMetricFilterLimits(t *testing.T) {
	e := newEnv(t)
	e.group("g")
	for i := range MaxMetricFilters {
		putFilter(t, e, "g", fmt.Sprintf("f%03d", i), "", "1")
	}
	putFilter(t, e, "g", "f000", "ERROR", "1") // replacing one is not a new one
	_, err := e.client().PutMetricFilter(ctx, &cloudwatchlogs.PutMetricFilterInput{
		LogGroupName: aws.String("g"), FilterName: aws.String("one-too-many"), FilterPattern: aws.String(""),
		MetricTransformations: []cwltypes.MetricTransformation{{MetricName: aws.String("m"), MetricNamespace: aws.String("n"), MetricValue: aws.String("1")}},
	})
	wantErr(t, err, "LimitExceededException", "at most 100 metric filters")

	e.group("r")
	for i := range 5 {
		putFilter(t, e, "r", fmt.Sprintf("re%d", i), "%ERR[0-9]%", "1")
	}
	_, err = e.client().PutMetricFilter(ctx, &cloudwatchlogs.PutMetricFilterInput{
		LogGroupName: aws.String("r"), FilterName: aws.String("re5"), FilterPattern: aws.String("%WARN%"),
		MetricTransformations: []cwltypes.MetricTransformation{{MetricName: aws.String("m"), MetricNamespace: aws.String("n"), MetricValue: aws.String("1")}},
	})
	wantErr(t, err, "LimitExceededException", "regular expressions")
}

func TestDescribeDeleteMetricFilters(t *testing.T) {
	e := newEnv(t)
	e.group("g1")
	e.group("g2")
	putFilter(t, e, "g1", "b-errors", "ERROR", "1")
	putFilter(t, e, "g1", "a-warnings", "WARN", "1", func(m *cwltypes.MetricTransformation) {
		m.Unit = cwltypes.StandardUnitCount
		m.DefaultValue = aws.Float64(0)
	})
	putFilter(t, e, "g2", "a-errors", "ERROR", "1")
	c := e.client()
	out, err := c.DescribeMetricFilters(ctx, &cloudwatchlogs.DescribeMetricFiltersInput{LogGroupName: aws.String("g1")})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range out.MetricFilters {
		names = append(names, aws.ToString(f.FilterName))
	}
	if !slices.Equal(names, []string{"a-warnings", "b-errors"}) {
		t.Fatalf("filters of g1 = %v", names)
	}
	w := out.MetricFilters[0]
	if aws.ToString(w.LogGroupName) != "g1" || aws.ToString(w.FilterPattern) != "WARN" || w.MetricTransformations[0].Unit != cwltypes.StandardUnitCount ||
		aws.ToFloat64(w.MetricTransformations[0].DefaultValue) != 0 || w.MetricTransformations[0].DefaultValue == nil || aws.ToInt64(w.CreationTime) != t0.UnixMilli() {
		t.Errorf("filter = %+v", w)
	}
	groups, _ := c.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("g1")})
	if aws.ToInt32(groups.LogGroups[0].MetricFilterCount) != 2 {
		t.Errorf("metricFilterCount = %d", aws.ToInt32(groups.LogGroups[0].MetricFilterCount))
	}
	// Every group of the region, by name then group, paged.
	p := cloudwatchlogs.NewDescribeMetricFiltersPaginator(c, &cloudwatchlogs.DescribeMetricFiltersInput{Limit: aws.Int32(2)})
	var all []string
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range page.MetricFilters {
			all = append(all, aws.ToString(f.LogGroupName)+"/"+aws.ToString(f.FilterName))
		}
	}
	if !slices.Equal(all, []string{"g2/a-errors", "g1/a-warnings", "g1/b-errors"}) {
		t.Errorf("all filters = %v", all)
	}
	out, _ = c.DescribeMetricFilters(ctx, &cloudwatchlogs.DescribeMetricFiltersInput{LogGroupName: aws.String("g1"), FilterNamePrefix: aws.String("b-")})
	if len(out.MetricFilters) != 1 {
		t.Errorf("prefix: %d", len(out.MetricFilters))
	}
	out, _ = c.DescribeMetricFilters(ctx, &cloudwatchlogs.DescribeMetricFiltersInput{MetricName: aws.String("a-errors"), MetricNamespace: aws.String("MyApp")})
	if len(out.MetricFilters) != 1 || aws.ToString(out.MetricFilters[0].LogGroupName) != "g2" {
		t.Errorf("by metric: %+v", out.MetricFilters)
	}
	_, err = c.DescribeMetricFilters(ctx, &cloudwatchlogs.DescribeMetricFiltersInput{MetricName: aws.String("x")})
	wantErr(t, err, "InvalidParameterException", "together")

	if _, err := c.DeleteMetricFilter(ctx, &cloudwatchlogs.DeleteMetricFilterInput{LogGroupName: aws.String("g1"), FilterName: aws.String("b-errors")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DeleteMetricFilter(ctx, &cloudwatchlogs.DeleteMetricFilterInput{LogGroupName: aws.String("g1"), FilterName: aws.String("b-errors")})
	wantErr(t, err, "ResourceNotFoundException", "metric filter does not exist")
}

func TestMetricFilterEmission(t *testing.T) {
	e := newEnv(t)
	e.group("app", "s")
	putFilter(t, e, "app", "Errors", "ERROR", "1", func(m *cwltypes.MetricTransformation) { m.Unit = cwltypes.StandardUnitCount })
	putFilter(t, e, "app", "ErrorsWithDefault", "ERROR", "2.5", func(m *cwltypes.MetricTransformation) { m.DefaultValue = aws.Float64(0) })
	putFilter(t, e, "app", "Latency", `{ $.latency = * }`, "$.latency", func(m *cwltypes.MetricTransformation) {
		m.Unit = cwltypes.StandardUnitMilliseconds
		m.Dimensions = map[string]string{"Service": "$.service", "Api": "$.api"}
	})
	putFilter(t, e, "app", "Bytes", `[ip, user, status, bytes]`, "$bytes", func(m *cwltypes.MetricTransformation) {
		m.Dimensions = map[string]string{"Status": "$status"}
	})
	ts := e.ms(-time.Minute)
	e.put("app", "s",
		ev(ts, "an ERROR here"),
		ev(ts+1, `{"latency": 42, "service": "web", "api": "get"}`),
		ev(ts+2, `{"latency": "fast", "service": "web", "api": "get"}`), // not a number: nothing
		ev(ts+3, `{"latency": 7, "service": "web"}`),                    // dimension missing: nothing
		ev(ts+4, "10.0.0.1 bob 200 1534"),
	)
	got := e.sink.take()
	type point struct {
		name  string
		value float64
		unit  string
		dims  string
		ts    int64
	}
	var points []point
	for _, s := range got {
		if s.acct != acctA || s.region != region1 || s.d.Namespace != "MyApp" {
			t.Errorf("point in %s/%s namespace %s", s.acct, s.region, s.d.Namespace)
		}
		var dims []string
		for _, d := range s.d.Dimensions {
			dims = append(dims, d.Name+"="+d.Value)
		}
		points = append(points, point{s.d.MetricName, s.d.Value, s.d.Unit, strings.Join(dims, ","), s.d.Timestamp.UnixMilli()})
	}
	want := []point{
		{"Errors", 1, "Count", "", ts},
		{"ErrorsWithDefault", 2.5, "None", "", ts},
		{"ErrorsWithDefault", 0, "None", "", ts + 1},
		{"Latency", 42, "Milliseconds", "Api=get,Service=web", ts + 1},
		{"ErrorsWithDefault", 0, "None", "", ts + 2},
		{"ErrorsWithDefault", 0, "None", "", ts + 3},
		{"Bytes", 1534, "None", "Status=200", ts + 4},
		{"ErrorsWithDefault", 0, "None", "", ts + 4},
	}
	sortPoints := func(p []point) {
		slices.SortFunc(p, func(a, b point) int {
			if a.ts != b.ts {
				return int(a.ts - b.ts)
			}
			return strings.Compare(a.name, b.name)
		})
	}
	sortPoints(points)
	sortPoints(want)
	if !slices.Equal(points, want) {
		t.Fatalf("points:\n got %+v\nwant %+v", points, want)
	}

	// Rejected events emit nothing; a failing sink does not fail the put.
	e.sink.fail = errors.New("down")
	out := e.put("app", "s", ev(e.ms(-15*24*time.Hour), "old ERROR"), ev(e.ms(0), "new ERROR"))
	if out.RejectedLogEventsInfo == nil {
		t.Fatal("old event not rejected")
	}
	if n := len(e.sink.take()); n != 2 { // Errors and ErrorsWithDefault for the new event
		t.Errorf("points for a batch with a rejected event = %d; want 2", n)
	}
}

func TestTestMetricFilter(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	line := `127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 200 1534`
	out, err := c.TestMetricFilter(ctx, &cloudwatchlogs.TestMetricFilterInput{
		FilterPattern:    aws.String(`[..., size]`),
		LogEventMessages: []string{"just two", line},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Matches) != 2 {
		t.Fatalf("matches = %+v", out.Matches)
	}
	m := out.Matches[1]
	if m.EventNumber != 2 || aws.ToString(m.EventMessage) != line {
		t.Errorf("match = %d %q", m.EventNumber, aws.ToString(m.EventMessage))
	}
	want := map[string]string{"$1": "127.0.0.1", "$2": "-", "$3": "frank", "$4": "10/Oct/2000:13:25:15 -0700", "$5": "GET /apache_pb.gif HTTP/1.0", "$6": "200", "$size": "1534"}
	if fmt.Sprint(m.ExtractedValues) != fmt.Sprint(want) {
		t.Errorf("extractedValues = %v; want %v", m.ExtractedValues, want)
	}

	out, err = c.TestMetricFilter(ctx, &cloudwatchlogs.TestMetricFilterInput{
		FilterPattern:    aws.String(`{ $.eventName = "ConsoleLogin" }`),
		LogEventMessages: []string{`{"eventName":"ConsoleLogin"}`, `{"eventName":"Other"}`, "not json"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Matches) != 1 || out.Matches[0].EventNumber != 1 || len(out.Matches[0].ExtractedValues) != 0 {
		t.Errorf("JSON matches = %+v", out.Matches)
	}
	// The raw response carries an empty extractedValues object, as AWS's does.
	_, raw := e.rawJSON("TestMetricFilter", `{"filterPattern":"ERROR","logEventMessages":["ERROR 1"]}`)
	if ms, _ := raw["matches"].([]any); len(ms) != 1 || fmt.Sprint(ms[0].(map[string]any)["extractedValues"]) != "map[]" {
		t.Errorf("raw = %v", raw)
	}

	_, err = c.TestMetricFilter(ctx, &cloudwatchlogs.TestMetricFilterInput{FilterPattern: aws.String(`{ $.a = `), LogEventMessages: []string{"x"}})
	wantErr(t, err, "InvalidParameterException", "Invalid metric filter pattern")
	many := make([]string, 51)
	for i := range many {
		many[i] = "x"
	}
	_, err = c.TestMetricFilter(ctx, &cloudwatchlogs.TestMetricFilterInput{FilterPattern: aws.String(""), LogEventMessages: many})
	wantErr(t, err, "InvalidParameterException", "less than or equal to 50")
}
