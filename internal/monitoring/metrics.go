package monitoring

import (
	"context"
	"encoding/base64"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/opentrail/opentrail/internal/alarm"
	"github.com/opentrail/opentrail/internal/server"
)

// Limits of the CloudWatch model and user guide.
const (
	maxMetricData      = 1000
	maxDimensions      = 30
	maxValuesPerDatum  = 150
	maxDatapoints      = 1440   // GetMetricStatistics
	maxDataQueryPoints = 100800 // GetMetricData
	maxDataQueries     = 500
	listMetricsPage    = 500
	maxPast            = 14 * 24 * time.Hour
	maxFuture          = 2 * time.Hour
)

var valueLimit = math.Ldexp(1, 360)

// validUnits is the StandardUnit enumeration.
var validUnits = func() map[string]bool {
	m := make(map[string]bool)
	for _, u := range strings.Fields(`Seconds Microseconds Milliseconds Bytes Kilobytes Megabytes Gigabytes Terabytes
		Bits Kilobits Megabits Gigabits Terabits Percent Count Bytes/Second Kilobytes/Second Megabytes/Second
		Gigabytes/Second Terabytes/Second Bits/Second Kilobits/Second Megabits/Second Gigabits/Second
		Terabits/Second Count/Second None`) {
		m[u] = true
	}
	return m
}()

// observation is one datum ready for the store.
type observation struct {
	namespace, name string
	dims            []Dimension
	point           storedPoint
}

func checkNamespace(ns string) error {
	if ns == "" {
		return missing("Namespace")
	}
	if utf8.RuneCountInString(ns) > 255 || strings.HasPrefix(ns, ":") {
		return validation("1 validation error detected: Value '%s' at 'namespace' failed to satisfy constraint: Member must satisfy regular expression pattern: [^:].*", ns)
	}
	return nil
}

func checkDimensions(dims []Dimension, param string) error {
	if len(dims) > maxDimensions {
		return invalidValue("The collection %s must not have a size greater than %d.", param, maxDimensions)
	}
	seen := make(map[string]bool, len(dims))
	for i, d := range dims {
		p := fmt.Sprintf("%s.member.%d", param, i+1)
		if d.Name == "" {
			return missing(p + ".Name")
		}
		if d.Value == "" {
			return missing(p + ".Value")
		}
		if utf8.RuneCountInString(d.Name) > 255 || utf8.RuneCountInString(d.Value) > 1024 {
			return invalidValue("The value of %s is too long.", p)
		}
		if seen[d.Name] {
			return invalidValue("No metric may have duplicate dimension names; %s repeats %s.", param, d.Name)
		}
		seen[d.Name] = true
	}
	return nil
}

func checkUnit(unit, param string) error {
	if unit != "" && !validUnits[unit] {
		return invalidValue("The parameter %s must be a value in the set [ Seconds, Microseconds, Milliseconds, Bytes, Kilobytes, Megabytes, Gigabytes, Terabytes, Bits, Kilobits, Megabits, Gigabits, Terabits, Percent, Count, Bytes/Second, Kilobytes/Second, Megabytes/Second, Gigabytes/Second, Terabytes/Second, Bits/Second, Kilobits/Second, Megabits/Second, Gigabits/Second, Terabits/Second, Count/Second, None ].", param)
	}
	return nil
}

func checkValue(v float64, param string) error {
	if math.IsNaN(v) || math.IsInf(v, 0) || math.Abs(v) > valueLimit {
		return invalidValue("The value %s for parameter %s is invalid.", alarm.FormatDouble(v), param)
	}
	return nil
}

func (s *Service) checkTimestamp(t time.Time, param string) error {
	now := s.now()
	if t.Before(now.Add(-maxPast)) {
		return invalidValue("The parameter %s must specify a time no more than two weeks in the past.", param)
	}
	if t.After(now.Add(maxFuture)) {
		return invalidValue("The parameter %s must specify a time no more than two hours in the future.", param)
	}
	return nil
}

// datumObservation validates one MetricData member.
func (s *Service) datumObservation(ns string, i int, d *metricDatum) (observation, error) {
	p := fmt.Sprintf("MetricData.member.%d", i+1)
	if d.MetricName == "" {
		return observation{}, missing(p + ".MetricName")
	}
	if utf8.RuneCountInString(d.MetricName) > 255 {
		return observation{}, invalidValue("The parameter %s.MetricName must be at most 255 characters long.", p)
	}
	if err := checkDimensions(d.Dimensions, p+".Dimensions"); err != nil {
		return observation{}, err
	}
	if err := checkUnit(d.Unit, p+".Unit"); err != nil {
		return observation{}, err
	}
	res := 60
	if d.StorageResolution != nil {
		switch *d.StorageResolution {
		case 1, 60:
			res = int(*d.StorageResolution)
		default:
			return observation{}, invalidValue("The parameter %s.StorageResolution must be 1 or 60.", p)
		}
	}
	t := s.now()
	if d.Timestamp != nil && !d.Timestamp.IsZero() {
		t = *d.Timestamp
		if err := s.checkTimestamp(t, p+".Timestamp"); err != nil {
			return observation{}, err
		}
	}
	var st alarm.Stats
	switch {
	case d.Value != nil && d.StatisticValues != nil:
		return observation{}, invalidCombination("The parameters %s.Value and %s.StatisticValues are mutually exclusive and you have specified both.", p, p)
	case (d.Value != nil || d.StatisticValues != nil) && len(d.Values) > 0:
		return observation{}, invalidCombination("The parameters %s.Values and %s.Value or %s.StatisticValues are mutually exclusive and you have specified both.", p, p, p)
	case d.Value != nil:
		if err := checkValue(*d.Value, p+".Value"); err != nil {
			return observation{}, err
		}
		v := *d.Value
		st = alarm.Stats{SampleCount: 1, Sum: v, Min: v, Max: v, Values: []alarm.Value{{V: v, N: 1}}, Exact: true}
	case d.StatisticValues != nil:
		sv := d.StatisticValues
		for _, f := range []struct {
			v    *float64
			name string
		}{{sv.SampleCount, "SampleCount"}, {sv.Sum, "Sum"}, {sv.Minimum, "Minimum"}, {sv.Maximum, "Maximum"}} {
			if f.v == nil {
				return observation{}, missing(p + ".StatisticValues." + f.name)
			}
			if err := checkValue(*f.v, p+".StatisticValues."+f.name); err != nil {
				return observation{}, err
			}
		}
		if *sv.SampleCount <= 0 || *sv.Minimum > *sv.Maximum {
			return observation{}, invalidValue("The parameter %s.StatisticValues is invalid: SampleCount must be positive and Minimum at most Maximum.", p)
		}
		st = alarm.Stats{SampleCount: *sv.SampleCount, Sum: *sv.Sum, Min: *sv.Minimum, Max: *sv.Maximum}
	case len(d.Values) > 0:
		if len(d.Values) > maxValuesPerDatum {
			return observation{}, invalidValue("The collection %s.Values must not have a size greater than %d.", p, maxValuesPerDatum)
		}
		if len(d.Counts) > 0 && len(d.Counts) != len(d.Values) {
			return observation{}, invalidValue("The parameters %s.Values and %s.Counts must be of the same size.", p, p)
		}
		st = alarm.Stats{Min: math.Inf(1), Max: math.Inf(-1), Exact: true}
		for j, v := range d.Values {
			if err := checkValue(v, fmt.Sprintf("%s.Values.member.%d", p, j+1)); err != nil {
				return observation{}, err
			}
			n := 1.0
			if len(d.Counts) > 0 {
				n = d.Counts[j]
				if math.IsNaN(n) || n < 0 || math.IsInf(n, 0) {
					return observation{}, invalidValue("The value %s for parameter %s.Counts.member.%d is invalid.", alarm.FormatDouble(n), p, j+1)
				}
			}
			if n == 0 {
				continue
			}
			st.SampleCount += n
			st.Sum += v * n
			st.Min, st.Max = math.Min(st.Min, v), math.Max(st.Max, v)
			st.Values = append(st.Values, alarm.Value{V: v, N: n})
		}
		if st.SampleCount == 0 {
			return observation{}, invalidValue("The parameter %s.Counts must count at least one value.", p)
		}
	default:
		return observation{}, missing(p + ".Value")
	}
	unit := d.Unit
	if unit == "" {
		unit = "None"
	}
	return observation{namespace: ns, name: d.MetricName, dims: d.Dimensions,
		point: storedPoint{Time: t.UTC().Truncate(time.Duration(res) * time.Second), Resolution: res, Unit: unit, Stats: st}}, nil
}

func (s *Service) putMetricData(ctx context.Context, c *server.Call, in *putMetricDataInput) (*server.NoOutput, error) {
	if err := checkNamespace(in.Namespace); err != nil {
		return nil, err
	}
	if strings.HasPrefix(in.Namespace, "AWS/") {
		return nil, invalidValue("The value %s for parameter Namespace is invalid.", in.Namespace)
	}
	if len(in.MetricData) == 0 {
		return nil, missing("MetricData")
	}
	if len(in.MetricData) > maxMetricData {
		return nil, invalidValue("The collection MetricData must not have a size greater than %d.", maxMetricData)
	}
	obs := make([]observation, len(in.MetricData))
	for i := range in.MetricData {
		o, err := s.datumObservation(in.Namespace, i, &in.MetricData[i])
		if err != nil {
			return nil, err
		}
		obs[i] = o
	}
	return nil, s.store(c.Account(), c.Region, obs)
}

// PutInternal stores datapoints of acct in region without an API call: the sink of the logs
// service's metric filters. Each Datum is one observation (SampleCount 1) at standard
// resolution; data that PutMetricData would refuse is refused the same way.
func (s *Service) PutInternal(ctx context.Context, acct, region string, data []Datum) error {
	obs := make([]observation, 0, len(data))
	for i := range data {
		d := &data[i]
		if err := checkNamespace(d.Namespace); err != nil {
			return err
		}
		md := metricDatum{MetricName: d.MetricName, Dimensions: d.Dimensions, Value: &d.Value, Unit: d.Unit}
		if !d.Timestamp.IsZero() {
			md.Timestamp = &d.Timestamp
		}
		o, err := s.datumObservation(d.Namespace, i, &md)
		if err != nil {
			return err
		}
		obs = append(obs, o)
	}
	return s.store(acct, region, obs)
}

// store writes observations and has the alarms on their metrics evaluated at once when the
// data falls in a period that has already ended.
func (s *Service) store(acct, region string, obs []observation) error {
	if len(obs) == 0 {
		return nil
	}
	infos := make(map[metricID]*metricInfo)
	points := make(map[metricID][]storedPoint)
	earliest := make(map[metricID]time.Time)
	for _, o := range obs {
		id := newMetricID(acct, region, o.namespace, o.name, o.dims)
		if infos[id] == nil {
			infos[id] = &metricInfo{Account: acct, Region: region, Namespace: o.namespace, MetricName: o.name, Dimensions: sortedDims(o.dims)}
		}
		points[id] = append(points[id], o.point)
		if e, ok := earliest[id]; !ok || o.point.Time.Before(e) {
			earliest[id] = o.point.Time
		}
	}
	if err := s.points.put(infos, points, s.now()); err != nil {
		return internal("put metric data", err)
	}
	s.dataArrived(earliest)
	return nil
}

// roundStart rounds a query's start time down as CloudWatch does: to the period for
// high-resolution periods, to the minute for data under 15 days old, to 5 minutes under 63
// days, else to the hour.
func roundStart(start, now time.Time, period int) time.Time {
	age := now.Sub(start)
	switch {
	case period < 60:
		return start.Truncate(time.Duration(period) * time.Second)
	case age < 15*24*time.Hour:
		return start.Truncate(time.Minute)
	case age < 63*24*time.Hour:
		return start.Truncate(5 * time.Minute)
	}
	return start.Truncate(time.Hour)
}

func checkPeriod(p int32, param string) error {
	switch {
	case p <= 0:
		return invalidValue("The parameter %s must be greater than 0.", param)
	case p < 60 && p != 1 && p != 5 && p != 10 && p != 20 && p != 30:
		return invalidValue("The parameter %s must be 1, 5, 10, 20, 30 or a multiple of 60.", param)
	case p >= 60 && p%60 != 0:
		return invalidValue("The parameter %s must be a multiple of 60.", param)
	}
	return nil
}

// statistic is one requested statistic: standard or extended.
type statistic struct {
	name string
	ext  *alarm.Extended
}

func parseStatistic(name, param string) (statistic, error) {
	if alarm.IsStatistic(name) {
		return statistic{name: name}, nil
	}
	e, err := alarm.ParseExtended(name)
	if err != nil {
		return statistic{}, invalidValue("The parameter %s must be one of SampleCount, Average, Sum, Minimum, Maximum or a supported extended statistic (pNN, tmNN, TM(a%%:b%%), IQM); got %s.", param, name)
	}
	return statistic{name: name, ext: &e}, nil
}

func (st statistic) compute(s *alarm.Stats) (float64, bool) {
	if st.ext != nil {
		return st.ext.Compute(s)
	}
	return s.Statistic(st.name), true
}

// buckets aggregates the datapoints of a metric in [start, end) into periods from start.
func (s *Service) buckets(id metricID, start, end time.Time, period int, unit string) (map[int64]*alarm.Stats, map[int64]string, error) {
	out := make(map[int64]*alarm.Stats)
	units := make(map[int64]string)
	p := int64(period)
	err := s.points.scan(id, start, end, func(pt *storedPoint) {
		if unit != "" && pt.Unit != unit {
			return
		}
		k := start.Unix() + (pt.Time.Unix()-start.Unix())/p*p
		st := out[k]
		if st == nil {
			st = &alarm.Stats{}
			out[k] = st
			units[k] = pt.Unit
		}
		st.Add(pt.Stats)
	})
	if err != nil {
		return nil, nil, internal("read datapoints", err)
	}
	return out, units, nil
}

func (s *Service) getMetricStatistics(ctx context.Context, c *server.Call, in *getMetricStatisticsInput) (*getMetricStatisticsOutput, error) {
	if err := checkNamespace(in.Namespace); err != nil {
		return nil, err
	}
	switch {
	case in.MetricName == "":
		return nil, missing("MetricName")
	case in.StartTime == nil:
		return nil, missing("StartTime")
	case in.EndTime == nil:
		return nil, missing("EndTime")
	case in.Period == nil:
		return nil, missing("Period")
	}
	if err := checkPeriod(*in.Period, "Period"); err != nil {
		return nil, err
	}
	if err := checkDimensions(in.Dimensions, "Dimensions"); err != nil {
		return nil, err
	}
	if err := checkUnit(in.Unit, "Unit"); err != nil {
		return nil, err
	}
	if (len(in.Statistics) == 0) == (len(in.ExtendedStatistics) == 0) {
		return nil, invalidCombination("Must specify either Statistics or ExtendedStatistics, but not both.")
	}
	if len(in.Statistics) > 5 || len(in.ExtendedStatistics) > 10 {
		return nil, invalidValue("At most 5 Statistics and 10 ExtendedStatistics may be requested.")
	}
	var stats []statistic
	for i, name := range in.Statistics {
		if !alarm.IsStatistic(name) {
			return nil, invalidValue("The parameter Statistics.member.%d must be a value in the set [ Average, Sum, SampleCount, Maximum, Minimum ].", i+1)
		}
		stats = append(stats, statistic{name: name})
	}
	for i, name := range in.ExtendedStatistics {
		st, err := parseStatistic(name, fmt.Sprintf("ExtendedStatistics.member.%d", i+1))
		if err != nil || st.ext == nil {
			return nil, invalidValue("The parameter ExtendedStatistics.member.%d must be a valid percentile or trimmed mean (p90, tm99, IQM, TM(10%%:90%%)); got %s.", i+1, name)
		}
		stats = append(stats, st)
	}
	period := int(*in.Period)
	start := roundStart(*in.StartTime, s.now(), period)
	end := *in.EndTime
	if !start.Before(end) {
		return nil, invalidValue("The parameter StartTime must be less than the parameter EndTime.")
	}
	if n := (end.Sub(start) + time.Duration(period)*time.Second - 1) / (time.Duration(period) * time.Second); n > maxDatapoints {
		return nil, invalidCombination("You have requested up to %d datapoints, which exceeds the limit of %d. You may reduce the datapoints requested by increasing Period, or decreasing the time range.", n, maxDatapoints)
	}
	id := newMetricID(c.Account(), c.Region, in.Namespace, in.MetricName, in.Dimensions)
	bk, units, err := s.buckets(id, start, end, period, in.Unit)
	if err != nil {
		return nil, err
	}
	out := &getMetricStatisticsOutput{Label: in.MetricName, Datapoints: []datapoint{}}
	keys := make([]int64, 0, len(bk))
	for k := range bk {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	for _, k := range keys {
		st := bk[k]
		dp := datapoint{Timestamp: time.Unix(k, 0).UTC(), Unit: units[k]}
		for _, sv := range stats {
			v, ok := sv.compute(st)
			if !ok {
				continue
			}
			switch {
			case sv.ext != nil:
				if dp.ExtendedStatistics == nil {
					dp.ExtendedStatistics = extendedStatistics{}
				}
				dp.ExtendedStatistics[sv.name] = v
			case sv.name == alarm.SampleCount:
				dp.SampleCount = &v
			case sv.name == alarm.Average:
				dp.Average = &v
			case sv.name == alarm.Sum:
				dp.Sum = &v
			case sv.name == alarm.Minimum:
				dp.Minimum = &v
			case sv.name == alarm.Maximum:
				dp.Maximum = &v
			}
		}
		out.Datapoints = append(out.Datapoints, dp)
	}
	return out, nil
}

var queryIDPattern = regexp.MustCompile(`^[a-z][a-zA-Z0-9_]*$`)

func (s *Service) getMetricData(ctx context.Context, c *server.Call, in *getMetricDataInput) (*getMetricDataOutput, error) {
	switch {
	case len(in.MetricDataQueries) == 0:
		return nil, missing("MetricDataQueries")
	case in.StartTime == nil:
		return nil, missing("StartTime")
	case in.EndTime == nil:
		return nil, missing("EndTime")
	case len(in.MetricDataQueries) > maxDataQueries:
		return nil, invalidValue("The collection MetricDataQueries must not have a size greater than %d.", maxDataQueries)
	}
	if !in.StartTime.Before(*in.EndTime) {
		return nil, invalidValue("The parameter StartTime must be less than the parameter EndTime.")
	}
	if in.ScanBy != "" && in.ScanBy != "TimestampDescending" && in.ScanBy != "TimestampAscending" {
		return nil, invalidValue("The parameter ScanBy must be TimestampDescending or TimestampAscending.")
	}
	limit := maxDataQueryPoints
	if in.MaxDatapoints != nil && *in.MaxDatapoints > 0 && int(*in.MaxDatapoints) < limit {
		limit = int(*in.MaxDatapoints)
	}
	if in.NextToken != "" {
		return nil, opentrailInvalidToken()
	}
	out := &getMetricDataOutput{MetricDataResults: []metricDataResult{}, Messages: []messageData{}}
	ids := make(map[string]bool)
	total := 0
	for i := range in.MetricDataQueries {
		q := &in.MetricDataQueries[i]
		p := fmt.Sprintf("MetricDataQueries.member.%d", i+1)
		if !queryIDPattern.MatchString(q.Id) {
			return nil, validation("The value %q for %s.Id is invalid: it must start with a lowercase letter and hold only letters, digits and underscores.", q.Id, p)
		}
		if ids[q.Id] {
			return nil, invalidValue("The value %s for %s.Id is not unique.", q.Id, p)
		}
		ids[q.Id] = true
		if q.Expression != "" {
			return nil, invalidValue("Metric math expressions are not supported by this server (%s.Expression).", p)
		}
		if q.MetricStat == nil || q.MetricStat.Metric == nil {
			return nil, missing(p + ".MetricStat")
		}
		ms := q.MetricStat
		if err := checkNamespace(ms.Metric.Namespace); err != nil {
			return nil, err
		}
		if ms.Metric.MetricName == "" {
			return nil, missing(p + ".MetricStat.Metric.MetricName")
		}
		if err := checkPeriod(ms.Period, p+".MetricStat.Period"); err != nil {
			return nil, err
		}
		st, err := parseStatistic(ms.Stat, p+".MetricStat.Stat")
		if err != nil {
			return nil, err
		}
		if err := checkUnit(ms.Unit, p+".MetricStat.Unit"); err != nil {
			return nil, err
		}
		if q.ReturnData != nil && !*q.ReturnData {
			continue
		}
		period := int(ms.Period)
		start := roundStart(*in.StartTime, s.now(), period)
		id := newMetricID(c.Account(), c.Region, ms.Metric.Namespace, ms.Metric.MetricName, ms.Metric.Dimensions)
		bk, _, err := s.buckets(id, start, *in.EndTime, period, ms.Unit)
		if err != nil {
			return nil, err
		}
		keys := make([]int64, 0, len(bk))
		for k := range bk {
			keys = append(keys, k)
		}
		if in.ScanBy == "TimestampAscending" {
			sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
		} else {
			sort.Slice(keys, func(i, j int) bool { return keys[i] > keys[j] })
		}
		label := q.Label
		if label == "" {
			label = ms.Metric.MetricName
		}
		r := metricDataResult{Id: q.Id, Label: label, Timestamps: []time.Time{}, Values: []float64{}, StatusCode: "Complete"}
		for _, k := range keys {
			v, ok := st.compute(bk[k])
			if !ok {
				continue
			}
			if total == limit {
				r.StatusCode = "PartialData"
				r.Messages = append(r.Messages, messageData{Code: "MaxDatapointsExceeded", Value: "MaxDatapoints was reached; narrow the time range for the rest."})
				break
			}
			r.Timestamps = append(r.Timestamps, time.Unix(k, 0).UTC())
			r.Values = append(r.Values, v)
			total++
		}
		out.MetricDataResults = append(out.MetricDataResults, r)
	}
	return out, nil
}

func opentrailInvalidToken() error {
	return invalidNextToken("The NextToken is invalid or expired.")
}

func (s *Service) listMetrics(ctx context.Context, c *server.Call, in *listMetricsInput) (*listMetricsOutput, error) {
	if in.RecentlyActive != "" && in.RecentlyActive != "PT3H" {
		return nil, invalidValue("The parameter RecentlyActive must be PT3H.")
	}
	for i, f := range in.Dimensions {
		if f.Name == "" {
			return nil, missing(fmt.Sprintf("Dimensions.member.%d.Name", i+1))
		}
	}
	now := s.now().Unix()
	var ms []metric
	for _, m := range s.points.catalog(c.Account(), c.Region) {
		if in.Namespace != "" && m.Namespace != in.Namespace || in.MetricName != "" && m.MetricName != in.MetricName {
			continue
		}
		if in.RecentlyActive == "PT3H" && now-m.LastPut > 3*3600+3600 { // LastPut is refreshed hourly
			continue
		}
		if now-m.LastPut > int64(metricExpiry/time.Second) {
			continue
		}
		if !matchDimensionFilters(m.Dimensions, in.Dimensions) {
			continue
		}
		ms = append(ms, metric{Namespace: m.Namespace, MetricName: m.MetricName, Dimensions: append([]Dimension{}, m.Dimensions...)})
	}
	sort.Slice(ms, func(i, j int) bool {
		a, b := ms[i], ms[j]
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		if a.MetricName != b.MetricName {
			return a.MetricName < b.MetricName
		}
		return dimsString(a.Dimensions) < dimsString(b.Dimensions)
	})
	from := 0
	if in.NextToken != "" {
		n, err := decodeOffset(in.NextToken)
		if err != nil {
			return nil, err
		}
		from = min(n, len(ms))
	}
	out := &listMetricsOutput{Metrics: ms[from:]}
	if len(out.Metrics) > listMetricsPage {
		out.Metrics = out.Metrics[:listMetricsPage]
		tok := encodeOffset(from + listMetricsPage)
		out.NextToken = &tok
	}
	if out.Metrics == nil {
		out.Metrics = []metric{}
	}
	return out, nil
}

func matchDimensionFilters(dims []Dimension, filters []dimensionFilter) bool {
	for _, f := range filters {
		found := false
		for _, d := range dims {
			if d.Name == f.Name && (f.Value == nil || *f.Value == d.Value) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// Page tokens are opaque offsets.
func encodeOffset(n int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("o:" + strconv.Itoa(n)))
}

func decodeOffset(tok string) (int, error) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || !strings.HasPrefix(string(b), "o:") {
		return 0, opentrailInvalidToken()
	}
	n, err := strconv.Atoi(string(b[2:]))
	if err != nil || n < 0 {
		return 0, opentrailInvalidToken()
	}
	return n, nil
}
