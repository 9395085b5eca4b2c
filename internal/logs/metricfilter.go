package logs

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cockroachdb/pebble/v2"

	"github.com/opentrail/opentrail/internal/server"
)

// Datum is one data point a metric filter emits: the value of one ingested event, at the
// event's timestamp.
type Datum struct {
	Namespace  string
	MetricName string
	Dimensions []Dimension // sorted by name
	Value      float64
	Unit       string // a CloudWatch StandardUnit; "None" when the filter sets none
	Timestamp  time.Time
}

// Dimension is a dimension of a Datum.
type Dimension struct {
	Name, Value string
}

// MetricSink receives the data points of metric filters, in the account and region of the
// log group. Calls are synchronous with the put that produced them.
type MetricSink interface {
	PutInternal(ctx context.Context, acct, region string, data []Datum) error
}

// Metric filter limits.
const (
	MaxMetricFilters      = 100 // per log group
	maxDimensions         = 3
	maxRegexFiltersPerGrp = 5
	maxTestMessages       = 50
	maxPatternLen         = 1024
	emitTimeout           = 10 * time.Second
)

var standardUnits = []string{
	"Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes",
	"Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count",
	"Bytes/Second", "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second",
	"Terabytes/Second", "Bits/Second", "Kilobits/Second", "Megabits/Second",
	"Gigabits/Second", "Terabits/Second", "Count/Second", "None",
}

// metricTransformation is the MetricTransformation shape, stored as sent.
type metricTransformation struct {
	MetricName      string            `json:"metricName"`
	MetricNamespace string            `json:"metricNamespace"`
	MetricValue     string            `json:"metricValue"`
	DefaultValue    *float64          `json:"defaultValue,omitempty"`
	Dimensions      map[string]string `json:"dimensions,omitempty"`
	Unit            string            `json:"unit,omitempty"`
}

// filterRecord is a metric filter as stored (famFilter, JSON).
type filterRecord struct {
	Group           string                 `json:"group"`
	Name            string                 `json:"name"`
	Pattern         string                 `json:"pattern"`
	Transformations []metricTransformation `json:"transformations"`
	Created         int64                  `json:"created"`
}

// metricFilter is a filter ready to evaluate: immutable once built.
type metricFilter struct {
	rec     filterRecord
	pattern *pattern
	value   float64 // the metricValue when it is a number
	fromMsg bool    // the metricValue is a reference into the message
	dims    []Dimension
}

func compileFilter(rec filterRecord) (*metricFilter, error) {
	p, err := parsePattern(rec.Pattern)
	if err != nil {
		return nil, err
	}
	f := &metricFilter{rec: rec, pattern: p}
	t := rec.Transformations[0]
	if v, err := strconv.ParseFloat(t.MetricValue, 64); err == nil {
		f.value = v
	} else {
		f.fromMsg = true
	}
	for k, v := range t.Dimensions {
		f.dims = append(f.dims, Dimension{Name: k, Value: v})
	}
	slices.SortFunc(f.dims, func(a, b Dimension) int { return strings.Compare(a.Name, b.Name) })
	return f, nil
}

// loadFilters reads every metric filter into the cache.
func (s *Service) loadFilters() error {
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: []byte{famFilter}, UpperBound: []byte{famFilter + 1}})
	if err != nil {
		return internal("load metric filters", err)
	}
	defer it.Close()
	for valid := it.First(); valid; valid = it.Next() {
		acct, rest, ok1 := decodeName(it.Key()[1:])
		region, _, ok2 := decodeName(rest)
		if !ok1 || !ok2 {
			return internal("load metric filters", errStop)
		}
		var rec filterRecord
		if err := json.Unmarshal(it.Value(), &rec); err != nil {
			return internal("decode metric filter", err)
		}
		f, err := compileFilter(rec)
		if err != nil {
			// A filter stored by an older parser that this one refuses: keep it listed but
			// unable to match, rather than refusing to start.
			s.log.Warn("logs: metric filter pattern does not parse", "group", rec.Group, "filter", rec.Name, "err", err)
			continue
		}
		id := groupID(acct, region, rec.Group)
		s.filters[id] = append(s.filters[id], f)
	}
	return it.Error()
}

type putMetricFilterInput struct {
	LogGroupName              string                 `json:"logGroupName"`
	FilterName                string                 `json:"filterName"`
	FilterPattern             *string                `json:"filterPattern"`
	MetricTransformations     []metricTransformation `json:"metricTransformations"`
	ApplyOnTransformedLogs    bool                   `json:"applyOnTransformedLogs,omitempty"`
	FieldSelectionCriteria    string                 `json:"fieldSelectionCriteria,omitempty"`
	EmitSystemFieldDimensions []string               `json:"emitSystemFieldDimensions,omitempty"`
}

// checkMetricName validates metricName and metricNamespace: 1-255 characters, none of : * $.
func checkMetricName(member, v string) error {
	if n := utf8.RuneCountInString(v); n < 1 || n > maxMetricNameLen {
		return lengthError(v, member, 1, maxMetricNameLen)
	}
	if strings.ContainsAny(v, ":*$") {
		return errConstraint(v, member, "Member must satisfy regular expression pattern: "+metricNameRE)
	}
	return nil
}

// checkTransformation validates a metric transformation against its filter's pattern.
func checkTransformation(t *metricTransformation, p *pattern) error {
	const m = "metricTransformations.1.member."
	if err := checkMetricName(m+"metricName", t.MetricName); err != nil {
		return err
	}
	if err := checkMetricName(m+"metricNamespace", t.MetricNamespace); err != nil {
		return err
	}
	if n := utf8.RuneCountInString(t.MetricValue); n < 1 || n > maxMetricValueLen {
		return lengthError(t.MetricValue, m+"metricValue", 1, maxMetricValueLen)
	}
	if v, err := strconv.ParseFloat(t.MetricValue, 64); err == nil {
		if math.IsInf(v, 0) || math.IsNaN(v) {
			return errInvalid("Invalid metric value: %s. The value must be a finite number or a field reference.", t.MetricValue)
		}
	} else {
		if !strings.HasPrefix(t.MetricValue, "$") {
			return errInvalid("Invalid metric value: %s. The value must be a number, or a field reference: $.field for JSON patterns, $name or $N for space-delimited patterns.", t.MetricValue)
		}
		if !p.supportsDimensions() {
			return errInvalid("Invalid metric value: %s. The specified filter pattern does not extract values; a field reference needs a JSON or space-delimited pattern.", t.MetricValue)
		}
		if err := p.checkSelector(t.MetricValue); err != nil {
			return errInvalid("Invalid metric value: %s. %s.", t.MetricValue, strings.TrimSuffix(upperFirst(err.Error()), "."))
		}
	}
	if t.DefaultValue != nil && (math.IsInf(*t.DefaultValue, 0) || math.IsNaN(*t.DefaultValue)) {
		return errInvalid("Invalid default value: it must be a finite number.")
	}
	if t.Unit != "" && !slices.Contains(standardUnits, t.Unit) {
		return errConstraint(t.Unit, m+"unit", "Member must satisfy enum value set: ["+strings.Join(standardUnits, ", ")+"]")
	}
	if len(t.Dimensions) == 0 {
		return nil
	}
	if t.DefaultValue != nil {
		return errInvalid("Invalid metric transformation: dimensions and default value are mutually exclusive properties")
	}
	if len(t.Dimensions) > maxDimensions {
		return errInvalid("Invalid metric transformation: a metric filter can have at most %d dimensions; %d were given.", maxDimensions, len(t.Dimensions))
	}
	if !p.supportsDimensions() {
		return errInvalid("The specified filter pattern does not support dimensions")
	}
	for _, k := range sortedKeys(t.Dimensions) {
		v := t.Dimensions[k]
		if n := utf8.RuneCountInString(k); n < 1 || n > maxMetricNameLen {
			return lengthError(k, m+"dimensions.key", 1, maxMetricNameLen)
		}
		if n := utf8.RuneCountInString(v); n < 1 || n > maxMetricNameLen {
			return lengthError(v, m+"dimensions.value", 1, maxMetricNameLen)
		}
		if err := p.checkSelector(v); err != nil {
			return errInvalid("Invalid dimension value for %s: %s. Dimension values are field references: $.field for JSON patterns, $name or $N for space-delimited patterns (%s).", k, v, strings.TrimSuffix(err.Error(), "."))
		}
	}
	return nil
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func (s *Service) putMetricFilter(ctx context.Context, c *server.Call, in *putMetricFilterInput) (*server.NoOutput, error) {
	if err := checkGroupName("logGroupName", in.LogGroupName); err != nil {
		return nil, err
	}
	if err := checkFilterName("filterName", in.FilterName); err != nil {
		return nil, err
	}
	if in.FilterPattern == nil {
		return nil, errInvalid("1 validation error detected: Value null at 'filterPattern' failed to satisfy constraint: Member must not be null")
	}
	if n := utf8.RuneCountInString(*in.FilterPattern); n > maxPatternLen {
		return nil, lengthError(*in.FilterPattern, "filterPattern", 0, maxPatternLen)
	}
	if n := len(in.MetricTransformations); n != 1 {
		if n == 0 {
			return nil, errConstraint("[]", "metricTransformations", "Member must have length greater than or equal to 1")
		}
		return nil, errConstraint(n, "metricTransformations", "Member must have length less than or equal to 1")
	}
	switch {
	case in.ApplyOnTransformedLogs:
		return nil, errInvalid("applyOnTransformedLogs: log transformers are not supported by this server.")
	case in.FieldSelectionCriteria != "":
		return nil, errInvalid("fieldSelectionCriteria is not supported by this server.")
	case len(in.EmitSystemFieldDimensions) > 0:
		return nil, errInvalid("emitSystemFieldDimensions is not supported by this server.")
	}
	p, err := parsePattern(*in.FilterPattern)
	if err != nil {
		return nil, errPattern("Invalid metric filter pattern", err)
	}
	t := in.MetricTransformations[0]
	if err := checkTransformation(&t, p); err != nil {
		return nil, err
	}
	acct, region := c.Account(), c.Region
	rec := filterRecord{
		Group:           in.LogGroupName,
		Name:            in.FilterName,
		Pattern:         *in.FilterPattern,
		Transformations: []metricTransformation{t},
		Created:         s.clockMS(),
	}
	f, err := compileFilter(rec)
	if err != nil {
		return nil, errPattern("Invalid metric filter pattern", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g, err := s.mustGroup(acct, region, in.LogGroupName)
	if err != nil {
		return nil, err
	}
	if g.classOrDefault() != classStandard {
		return nil, errorf(CodeInvalidOperation, "Metric filters are not supported for log groups of class %s.", g.classOrDefault())
	}
	id := groupID(acct, region, in.LogGroupName)
	old := s.filters[id]
	others := slices.DeleteFunc(slices.Clone(old), func(x *metricFilter) bool { return x.rec.Name == in.FilterName })
	if len(others) >= MaxMetricFilters {
		return nil, errorf(CodeLimitExceeded, "Resource limit exceeded: a log group can have at most %d metric filters.", MaxMetricFilters)
	}
	if p.regexes() > 0 {
		n := 1
		for _, x := range others {
			if x.pattern.regexes() > 0 {
				n++
			}
		}
		if n > maxRegexFiltersPerGrp {
			return nil, errorf(CodeLimitExceeded, "Resource limit exceeded: a log group can have at most %d metric filters whose patterns use regular expressions.", maxRegexFiltersPerGrp)
		}
	}
	b := s.db.NewBatch()
	defer b.Close()
	if err := setJSON(b, streamKey(famFilter, acct, region, in.LogGroupName, in.FilterName), rec); err != nil {
		return nil, err
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return nil, internal("save metric filter", err)
	}
	// Replace the cached slice rather than change it: puts hold the old one.
	next := append(others, f)
	slices.SortFunc(next, func(a, b *metricFilter) int { return strings.Compare(a.rec.Name, b.rec.Name) })
	s.filters[id] = next
	c.AddResource(groupType, GroupARN(region, acct, in.LogGroupName))
	return &server.NoOutput{}, nil
}

type deleteMetricFilterInput struct {
	LogGroupName string `json:"logGroupName"`
	FilterName   string `json:"filterName"`
}

func (s *Service) deleteMetricFilter(ctx context.Context, c *server.Call, in *deleteMetricFilterInput) (*server.NoOutput, error) {
	if err := checkGroupName("logGroupName", in.LogGroupName); err != nil {
		return nil, err
	}
	if err := checkFilterName("filterName", in.FilterName); err != nil {
		return nil, err
	}
	acct, region := c.Account(), c.Region
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.mustGroup(acct, region, in.LogGroupName); err != nil {
		return nil, err
	}
	key := streamKey(famFilter, acct, region, in.LogGroupName, in.FilterName)
	raw, err := getRaw(s.db, key)
	if err != nil {
		return nil, internal("load metric filter", err)
	}
	if raw == nil {
		return nil, errFilterNotFound()
	}
	b := s.db.NewBatch()
	defer b.Close()
	_ = b.Delete(key, nil)
	if err := b.Commit(pebble.Sync); err != nil {
		return nil, internal("delete metric filter", err)
	}
	id := groupID(acct, region, in.LogGroupName)
	s.filters[id] = slices.DeleteFunc(slices.Clone(s.filters[id]), func(x *metricFilter) bool { return x.rec.Name == in.FilterName })
	if len(s.filters[id]) == 0 {
		delete(s.filters, id)
	}
	c.AddResource(groupType, GroupARN(region, acct, in.LogGroupName))
	return &server.NoOutput{}, nil
}

type describeMetricFiltersInput struct {
	LogGroupName     string `json:"logGroupName,omitempty"`
	FilterNamePrefix string `json:"filterNamePrefix,omitempty"`
	NextToken        string `json:"nextToken,omitempty"`
	Limit            *int   `json:"limit,omitempty"`
	MetricName       string `json:"metricName,omitempty"`
	MetricNamespace  string `json:"metricNamespace,omitempty"`
}

type metricFilterOut struct {
	FilterName            string                 `json:"filterName"`
	FilterPattern         string                 `json:"filterPattern"`
	MetricTransformations []metricTransformation `json:"metricTransformations"`
	CreationTime          int64                  `json:"creationTime"`
	LogGroupName          string                 `json:"logGroupName"`
}

type describeMetricFiltersOutput struct {
	MetricFilters []metricFilterOut `json:"metricFilters"`
	NextToken     string            `json:"nextToken,omitempty"`
}

// describeMetricFilters lists filters ASCII-sorted by name (then log group): of one group,
// or of every group of the account and region.
func (s *Service) describeMetricFilters(ctx context.Context, c *server.Call, in *describeMetricFiltersInput) (*describeMetricFiltersOutput, error) {
	limit, err := describeLimit(in.Limit)
	if err != nil {
		return nil, err
	}
	if (in.MetricName == "") != (in.MetricNamespace == "") {
		return nil, errInvalid("metricName and metricNamespace must be specified together.")
	}
	if in.FilterNamePrefix != "" {
		if err := checkFilterName("filterNamePrefix", in.FilterNamePrefix); err != nil {
			return nil, err
		}
	}
	acct, region := c.Account(), c.Region
	prefix := regionPrefix(famFilter, acct, region)
	if in.LogGroupName != "" {
		if err := checkGroupName("logGroupName", in.LogGroupName); err != nil {
			return nil, err
		}
		if _, err := s.mustGroup(acct, region, in.LogGroupName); err != nil {
			return nil, err
		}
		prefix = appendEscaped(groupKey(famFilter, acct, region, in.LogGroupName), in.FilterNamePrefix)
	}
	binding := tokenBinding("DescribeMetricFilters", acct, region, in.LogGroupName, in.FilterNamePrefix, in.MetricName, in.MetricNamespace)
	var after string
	if in.NextToken != "" {
		pos, err := s.parsePageToken(binding, in.NextToken)
		if err != nil {
			return nil, err
		}
		after = string(pos)
	}
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		return nil, internal("list metric filters", err)
	}
	defer it.Close()
	var all []filterRecord
	for valid := it.First(); valid; valid = it.Next() {
		var rec filterRecord
		if err := json.Unmarshal(it.Value(), &rec); err != nil {
			return nil, internal("decode metric filter", err)
		}
		t := rec.Transformations[0]
		if in.MetricName != "" && (t.MetricName != in.MetricName || t.MetricNamespace != in.MetricNamespace) {
			continue
		}
		all = append(all, rec)
	}
	if err := it.Error(); err != nil {
		return nil, internal("list metric filters", err)
	}
	sortKey := func(r *filterRecord) string { return r.Name + "\x00" + r.Group }
	sort.Slice(all, func(i, j int) bool { return sortKey(&all[i]) < sortKey(&all[j]) })
	out := &describeMetricFiltersOutput{MetricFilters: []metricFilterOut{}}
	for i := range all {
		r := &all[i]
		if after != "" && sortKey(r) <= after {
			continue
		}
		if len(out.MetricFilters) == limit {
			out.NextToken = s.pageToken(binding, []byte(sortKey(&all[i-1])))
			break
		}
		out.MetricFilters = append(out.MetricFilters, metricFilterOut{
			FilterName: r.Name, FilterPattern: r.Pattern, MetricTransformations: r.Transformations,
			CreationTime: r.Created, LogGroupName: r.Group,
		})
	}
	return out, nil
}

type testMetricFilterInput struct {
	FilterPattern    *string  `json:"filterPattern"`
	LogEventMessages []string `json:"logEventMessages"`
}

type metricFilterMatch struct {
	EventNumber     int64             `json:"eventNumber"`
	EventMessage    string            `json:"eventMessage"`
	ExtractedValues map[string]string `json:"extractedValues"`
}

type testMetricFilterOutput struct {
	Matches []metricFilterMatch `json:"matches"`
}

// testMetricFilter lists the messages the pattern matches, numbered from 1 in request order,
// with the values a space-delimited pattern extracts.
func (s *Service) testMetricFilter(ctx context.Context, c *server.Call, in *testMetricFilterInput) (*testMetricFilterOutput, error) {
	if in.FilterPattern == nil {
		return nil, errInvalid("1 validation error detected: Value null at 'filterPattern' failed to satisfy constraint: Member must not be null")
	}
	if n := utf8.RuneCountInString(*in.FilterPattern); n > maxPatternLen {
		return nil, lengthError(*in.FilterPattern, "filterPattern", 0, maxPatternLen)
	}
	switch n := len(in.LogEventMessages); {
	case n < 1:
		return nil, errConstraint("[]", "logEventMessages", "Member must have length greater than or equal to 1")
	case n > maxTestMessages:
		return nil, errConstraint(fmt.Sprintf("[%d messages]", n), "logEventMessages", fmt.Sprintf("Member must have length less than or equal to %d", maxTestMessages))
	}
	for i, m := range in.LogEventMessages {
		if m == "" {
			return nil, errConstraint("", fmt.Sprintf("logEventMessages.%d.member", i+1), "Member must have length greater than or equal to 1")
		}
	}
	p, err := parsePattern(*in.FilterPattern)
	if err != nil {
		return nil, errPattern("Invalid metric filter pattern", err)
	}
	out := &testMetricFilterOutput{Matches: []metricFilterMatch{}}
	for i, m := range in.LogEventMessages {
		f, ok := p.matchFields(newMessage(m))
		if !ok {
			continue
		}
		out.Matches = append(out.Matches, metricFilterMatch{EventNumber: int64(i + 1), EventMessage: m, ExtractedValues: f.extracted()})
	}
	return out, nil
}

// emit evaluates stored events against a group's metric filters and sends the data points
// to the sink. It runs after the events are stored: a sink failure is logged, never
// reported to the caller whose events were accepted.
func (s *Service) emit(ctx context.Context, acct, region string, filters []*metricFilter, evs []event) {
	box := s.sink.Load()
	if box == nil || len(filters) == 0 || len(evs) == 0 {
		return
	}
	data := datums(filters, evs)
	if len(data) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), emitTimeout)
	defer cancel()
	if err := box.s.PutInternal(ctx, acct, region, data); err != nil {
		s.log.Warn("logs: metric filter data points not delivered", "account", acct, "region", region, "points", len(data), "err", err)
	}
}

// datums computes the data points of events under filters (AWS's emission rules, see
// docs/logs.md): a match emits the metric value — the number, or the number the reference
// selects, nothing if it selects no number — with the dimensions the references select
// (nothing if one selects no value); a non-match emits the default value, if any.
func datums(filters []*metricFilter, evs []event) []Datum {
	var out []Datum
	for _, e := range evs {
		m := newMessage(e.msg)
		ts := time.UnixMilli(e.ts).UTC()
		for _, f := range filters {
			t := &f.rec.Transformations[0]
			d := Datum{Namespace: t.MetricNamespace, MetricName: t.MetricName, Unit: t.Unit, Timestamp: ts}
			if d.Unit == "" {
				d.Unit = "None"
			}
			if !f.fromMsg && len(f.dims) == 0 {
				if f.pattern.match(m) {
					d.Value = f.value
					out = append(out, d)
				} else if t.DefaultValue != nil {
					d.Value = *t.DefaultValue
					out = append(out, d)
				}
				continue
			}
			fs, ok := f.pattern.matchFields(m)
			if !ok {
				if t.DefaultValue != nil {
					d.Value = *t.DefaultValue
					out = append(out, d)
				}
				continue
			}
			d.Value = f.value
			if f.fromMsg {
				v, ok := fs.lookup(t.MetricValue)
				if !ok {
					continue
				}
				n, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
				if err != nil || math.IsInf(n, 0) || math.IsNaN(n) {
					continue
				}
				d.Value = n
			}
			if len(f.dims) > 0 {
				d.Dimensions = make([]Dimension, 0, len(f.dims))
				complete := true
				for _, dim := range f.dims {
					v, ok := fs.lookup(dim.Value)
					if !ok || v == "" {
						complete = false
						break
					}
					d.Dimensions = append(d.Dimensions, Dimension{Name: dim.Name, Value: v})
				}
				if !complete {
					continue
				}
			}
			out = append(out, d)
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
