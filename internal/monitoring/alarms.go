package monitoring

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/opentrail/opentrail/internal/alarm"
	"github.com/opentrail/opentrail/internal/kv"
	"github.com/opentrail/opentrail/internal/server"
)

// Alarm limits.
const (
	maxAlarmsPerRegion = 10000 // the default quota per account and region
	maxActions         = 5
	maxAlarmNames      = 100
	defaultMaxRecords  = 50
	historyRetention   = 14 * 24 * time.Hour
	maxAlarmPeriodDay  = 86400
	maxAlarmPeriodWeek = 604800
)

// alarmRef names an alarm: account, region and name.
type alarmRef struct{ acct, region, name string }

// storedAlarm is an alarm as kept in the metadata store, with what evaluation derives from it.
type storedAlarm struct {
	Account string      `json:"account"`
	Region  string      `json:"region"`
	Alarm   MetricAlarm `json:"alarm"`

	metric metricID
	stat   statistic
}

func (a *storedAlarm) ref() alarmRef { return alarmRef{a.Account, a.Region, a.Alarm.AlarmName} }

func (a *storedAlarm) derive() {
	m := &a.Alarm
	a.metric = newMetricID(a.Account, a.Region, m.Namespace, m.MetricName, m.Dimensions)
	name := m.Statistic
	if name == "" {
		name = m.ExtendedStatistic
	}
	a.stat, _ = parseStatistic(name, "")
}

func alarmKey(r alarmRef) string {
	return "monitoring/" + r.acct + "/" + r.region + "/alarm/" + r.name
}

func historyPrefix(acct, region string) string {
	return "monitoring/" + acct + "/" + region + "/history/"
}

func (s *Service) loadAlarms() error {
	err := s.kv.Scan("monitoring/", func(key string, value []byte) error {
		if !strings.Contains(key, "/alarm/") {
			if strings.Contains(key, "/history/") {
				s.histSeq++
			}
			return nil
		}
		a := &storedAlarm{}
		if err := json.Unmarshal(value, a); err != nil {
			return fmt.Errorf("decode alarm %s: %w", key, err)
		}
		a.derive()
		s.alarms[a.ref()] = a
		s.watch(a)
		return nil
	})
	if err != nil {
		return internal("load alarms", err)
	}
	return nil
}

// watch and unwatch maintain the metric → alarms index; s.mu is held.
func (s *Service) watch(a *storedAlarm) {
	k := string(a.metric[:])
	if s.watchers[k] == nil {
		s.watchers[k] = make(map[alarmRef]bool)
	}
	s.watchers[k][a.ref()] = true
}

func (s *Service) unwatch(a *storedAlarm) {
	k := string(a.metric[:])
	delete(s.watchers[k], a.ref())
	if len(s.watchers[k]) == 0 {
		delete(s.watchers, k)
	}
}

// appendHistory adds a history item to b; s.mu is held.
func (s *Service) appendHistory(b *kv.Batch, acct, region string, item HistoryItem) error {
	s.histSeq++
	key := fmt.Sprintf("%s%020d/%016x", historyPrefix(acct, region), item.Timestamp.UnixNano(), s.histSeq)
	return b.Put(key, &item)
}

func validAlarmName(name string) error {
	if name == "" {
		return missing("AlarmName")
	}
	if utf8.RuneCountInString(name) > 255 || !utf8.ValidString(name) || strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return validation("1 validation error detected: Value '%s' at 'alarmName' failed to satisfy constraint: Member must have length less than or equal to 255 and contain no control characters", name)
	}
	return nil
}

func checkActions(list []string, param string) error {
	if len(list) > maxActions {
		return validation("1 validation error detected: Value at '%s' failed to satisfy constraint: Member must have length less than or equal to %d", param, maxActions)
	}
	for _, a := range list {
		if !strings.HasPrefix(a, "arn:") || strings.Count(a, ":") < 5 || len(a) > 1024 {
			return invalidValue("Invalid arn syntax: %s", a)
		}
	}
	return nil
}

func copyStrings(s []string) []string { return append([]string{}, s...) }

func (s *Service) putMetricAlarm(ctx context.Context, c *server.Call, in *putMetricAlarmInput) (*server.NoOutput, error) {
	if err := validAlarmName(in.AlarmName); err != nil {
		return nil, err
	}
	if in.AlarmDescription != nil && utf8.RuneCountInString(*in.AlarmDescription) > 1024 {
		return nil, validation("1 validation error detected: Value at 'alarmDescription' failed to satisfy constraint: Member must have length less than or equal to 1024")
	}
	for _, l := range []struct {
		list  []string
		param string
	}{{in.OKActions, "oKActions"}, {in.AlarmActions, "alarmActions"}, {in.InsufficientDataActions, "insufficientDataActions"}} {
		if err := checkActions(l.list, l.param); err != nil {
			return nil, err
		}
	}
	switch {
	case in.EvaluationCriteria != nil || in.EvaluationInterval != nil:
		return nil, invalidValue("PromQL alarms (EvaluationCriteria) are not supported by this server.")
	case len(in.Metrics) > 0:
		return nil, invalidValue("Metric math and multi-metric alarms (Metrics) are not supported by this server; use MetricName, Namespace and Statistic.")
	case in.ThresholdMetricId != "" || alarm.Comparison(in.ComparisonOperator).Band():
		return nil, invalidValue("Anomaly detection alarms (%s) are not supported by this server.", in.ComparisonOperator)
	}
	if in.ComparisonOperator == "" {
		return nil, missing("ComparisonOperator")
	}
	if !alarm.Comparison(in.ComparisonOperator).Static() {
		return nil, validation("1 validation error detected: Value '%s' at 'comparisonOperator' failed to satisfy constraint: Member must satisfy enum value set: [GreaterThanOrEqualToThreshold, GreaterThanThreshold, LessThanThreshold, LessThanOrEqualToThreshold, LessThanLowerOrGreaterThanUpperThreshold, LessThanLowerThreshold, GreaterThanUpperThreshold]", in.ComparisonOperator)
	}
	if in.MetricName == "" {
		return nil, missing("MetricName")
	}
	if err := checkNamespace(in.Namespace); err != nil {
		return nil, err
	}
	if err := checkDimensions(in.Dimensions, "Dimensions"); err != nil {
		return nil, err
	}
	if err := checkUnit(in.Unit, "Unit"); err != nil {
		return nil, err
	}
	if (in.Statistic == "") == (in.ExtendedStatistic == "") {
		return nil, invalidCombination("Exactly one of the parameters Statistic and ExtendedStatistic must be specified.")
	}
	if in.Statistic != "" && !alarm.IsStatistic(in.Statistic) {
		return nil, validation("1 validation error detected: Value '%s' at 'statistic' failed to satisfy constraint: Member must satisfy enum value set: [Maximum, SampleCount, Sum, Minimum, Average]", in.Statistic)
	}
	if in.ExtendedStatistic != "" {
		if _, err := alarm.ParseExtended(in.ExtendedStatistic); err != nil {
			return nil, invalidValue("The value %s for parameter ExtendedStatistic is not supported: use pNN, tmNN, TM(a%%:b%%) or IQM.", in.ExtendedStatistic)
		}
	}
	switch in.EvaluateLowSampleCountPercentile {
	case "":
	case "evaluate", "ignore":
		if !strings.HasPrefix(in.ExtendedStatistic, "p") {
			return nil, invalidCombination("EvaluateLowSampleCountPercentile applies only to percentile statistics.")
		}
	default:
		return nil, invalidValue("The value %s for parameter EvaluateLowSampleCountPercentile is invalid: use evaluate or ignore.", in.EvaluateLowSampleCountPercentile)
	}
	if in.Period == nil {
		return nil, missing("Period")
	}
	p := *in.Period
	if p != 10 && p != 20 && p != 30 && (p < 60 || p%60 != 0) {
		return nil, invalidValue("The parameter Period must be 10, 20, 30 or a multiple of 60.")
	}
	if in.EvaluationPeriods == nil {
		return nil, missing("EvaluationPeriods")
	}
	n := *in.EvaluationPeriods
	if n < 1 {
		return nil, validation("1 validation error detected: Value '%d' at 'evaluationPeriods' failed to satisfy constraint: Member must have value greater than or equal to 1", n)
	}
	limit := int64(maxAlarmPeriodDay)
	if p >= 3600 {
		limit = maxAlarmPeriodWeek
	}
	if int64(p)*int64(n) > limit {
		return nil, invalidValue("The product of Period and EvaluationPeriods must not exceed %d seconds.", limit)
	}
	var m int32
	if in.DatapointsToAlarm != nil {
		m = *in.DatapointsToAlarm
		if m < 1 || m > n {
			return nil, validation("DatapointsToAlarm must be at least 1 and at most EvaluationPeriods (%d).", n)
		}
	}
	if in.Threshold == nil {
		return nil, missing("Threshold")
	}
	if err := checkValue(*in.Threshold, "Threshold"); err != nil {
		return nil, err
	}
	if !alarm.TreatMissing(in.TreatMissingData).Valid() {
		return nil, invalidValue("The value %s for parameter TreatMissingData is invalid: use breaching, notBreaching, ignore or missing.", in.TreatMissingData)
	}
	if len(in.Tags) > 50 {
		return nil, validation("1 validation error detected: Value at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50")
	}

	now := s.clock()
	ref := alarmRef{c.Account(), c.Region, in.AlarmName}
	cfg := MetricAlarm{
		AlarmName: in.AlarmName, AlarmArn: AlarmARN(c.Region, c.Account(), in.AlarmName), AlarmDescription: in.AlarmDescription,
		AlarmConfigurationUpdatedTimestamp: now, ActionsEnabled: in.ActionsEnabled == nil || *in.ActionsEnabled,
		OKActions: copyStrings(in.OKActions), AlarmActions: copyStrings(in.AlarmActions), InsufficientDataActions: copyStrings(in.InsufficientDataActions),
		MetricName: in.MetricName, Namespace: in.Namespace, Statistic: in.Statistic, ExtendedStatistic: in.ExtendedStatistic,
		Dimensions: append([]Dimension{}, in.Dimensions...), Period: p, Unit: in.Unit, EvaluationPeriods: n, DatapointsToAlarm: m,
		Threshold: *in.Threshold, ComparisonOperator: in.ComparisonOperator, TreatMissingData: in.TreatMissingData,
		EvaluateLowSampleCountPercentile: in.EvaluateLowSampleCountPercentile,
	}

	s.mu.Lock()
	old := s.alarms[ref]
	if old == nil {
		count := 0
		for r := range s.alarms {
			if r.acct == ref.acct && r.region == ref.region {
				count++
			}
		}
		if count >= maxAlarmsPerRegion {
			s.mu.Unlock()
			return nil, limitExceeded("The maximum number of alarms for this account and region (%d) has been reached.", maxAlarmsPerRegion)
		}
		cfg.StateValue, cfg.StateReason = string(alarm.InsufficientData), "Unchecked: Initial alarm creation"
		cfg.StateUpdatedTimestamp, cfg.StateTransitionedTimestamp = now, now
	} else {
		// An update replaces the whole configuration and keeps the state.
		o := &old.Alarm
		cfg.StateValue, cfg.StateReason, cfg.StateReasonData = o.StateValue, o.StateReason, o.StateReasonData
		cfg.StateUpdatedTimestamp, cfg.StateTransitionedTimestamp = o.StateUpdatedTimestamp, o.StateTransitionedTimestamp
	}
	a := &storedAlarm{Account: ref.acct, Region: ref.region, Alarm: cfg}
	a.derive()
	kind, summary := "Create", fmt.Sprintf("Alarm %q created", in.AlarmName)
	if old != nil {
		kind, summary = "Update", fmt.Sprintf("Alarm %q updated", in.AlarmName)
	}
	data, _ := json.Marshal(map[string]any{"version": "1.0", "type": kind, strings.ToLower(kind) + "dAlarm": configDoc(&cfg)})
	b := s.kv.NewBatch()
	err := b.Put(alarmKey(ref), a)
	if err == nil {
		err = s.appendHistory(b, ref.acct, ref.region, HistoryItem{AlarmName: in.AlarmName, AlarmType: "MetricAlarm", Timestamp: now,
			HistoryItemType: "ConfigurationUpdate", HistorySummary: summary, HistoryData: string(data)})
	}
	if err == nil {
		err = b.Commit()
	}
	if err != nil {
		s.mu.Unlock()
		return nil, internal("store alarm", err)
	}
	if old != nil {
		s.unwatch(old)
	}
	s.alarms[ref] = a
	s.watch(a)
	s.mu.Unlock()
	s.request(ref)
	return nil, nil
}

// configDoc is an alarm's configuration as history data shows it.
func configDoc(m *MetricAlarm) map[string]any {
	doc := map[string]any{
		"namespace": m.Namespace, "metricName": m.MetricName, "dimensions": m.Dimensions, "period": m.Period,
		"evaluationPeriods": m.EvaluationPeriods, "threshold": m.Threshold, "comparisonOperator": m.ComparisonOperator,
		"actionsEnabled": m.ActionsEnabled, "alarmActions": m.AlarmActions, "okActions": m.OKActions,
		"insufficientDataActions": m.InsufficientDataActions, "alarmName": m.AlarmName,
		"alarmConfigurationUpdatedTimestamp": alarm.FormatTime(m.AlarmConfigurationUpdatedTimestamp),
	}
	if m.Statistic != "" {
		doc["statistic"] = strings.ToUpper(m.Statistic)
	} else {
		doc["extendedStatistic"] = m.ExtendedStatistic
	}
	if m.DatapointsToAlarm > 0 {
		doc["datapointsToAlarm"] = m.DatapointsToAlarm
	}
	if m.TreatMissingData != "" {
		doc["treatMissingData"] = m.TreatMissingData
	}
	if m.AlarmDescription != nil {
		doc["alarmDescription"] = *m.AlarmDescription
	}
	return doc
}

// listAlarms returns copies of the alarms of acct and region that keep, sorted by name.
func (s *Service) listAlarms(acct, region string, keep func(*MetricAlarm) bool) []MetricAlarm {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []MetricAlarm
	for r, a := range s.alarms {
		if r.acct == acct && r.region == region && keep(&a.Alarm) {
			out = append(out, a.Alarm)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].AlarmName < out[j].AlarmName })
	return out
}

func checkMaxRecords(p *int32) (int, error) {
	if p == nil {
		return defaultMaxRecords, nil
	}
	if *p < 1 || *p > 100 {
		return 0, validation("1 validation error detected: Value '%d' at 'maxRecords' failed to satisfy constraint: Member must have value between 1 and 100", *p)
	}
	return int(*p), nil
}

func (s *Service) describeAlarms(ctx context.Context, c *server.Call, in *describeAlarmsInput) (*describeAlarmsOutput, error) {
	if len(in.AlarmNames) > 0 && in.AlarmNamePrefix != "" {
		return nil, invalidCombination("AlarmNames and AlarmNamePrefix cannot be specified together.")
	}
	if len(in.AlarmNames) > maxAlarmNames {
		return nil, validation("1 validation error detected: Value at 'alarmNames' failed to satisfy constraint: Member must have length less than or equal to %d", maxAlarmNames)
	}
	if in.StateValue != "" && !alarm.State(in.StateValue).Valid() {
		return nil, validation("1 validation error detected: Value '%s' at 'stateValue' failed to satisfy constraint: Member must satisfy enum value set: [INSUFFICIENT_DATA, ALARM, OK]", in.StateValue)
	}
	limit, err := checkMaxRecords(in.MaxRecords)
	if err != nil {
		return nil, err
	}
	out := &describeAlarmsOutput{MetricAlarms: []MetricAlarm{}, CompositeAlarms: []struct{}{}}
	metricAlarms := len(in.AlarmTypes) == 0
	for _, t := range in.AlarmTypes {
		switch t {
		case "MetricAlarm":
			metricAlarms = true
		case "CompositeAlarm":
		default:
			return nil, validation("1 validation error detected: Value '%s' at 'alarmTypes' failed to satisfy constraint: Member must satisfy enum value set: [CompositeAlarm, MetricAlarm]", t)
		}
	}
	if !metricAlarms || in.ChildrenOfAlarmName != "" || in.ParentsOfAlarmName != "" {
		return out, nil // composite alarms do not exist here
	}
	names := make(map[string]bool, len(in.AlarmNames))
	for _, n := range in.AlarmNames {
		names[n] = true
	}
	all := s.listAlarms(c.Account(), c.Region, func(a *MetricAlarm) bool {
		if len(names) > 0 && !names[a.AlarmName] || !strings.HasPrefix(a.AlarmName, in.AlarmNamePrefix) {
			return false
		}
		if in.StateValue != "" && a.StateValue != in.StateValue {
			return false
		}
		if in.ActionPrefix != "" {
			for _, l := range [][]string{a.AlarmActions, a.OKActions, a.InsufficientDataActions} {
				for _, x := range l {
					if strings.HasPrefix(x, in.ActionPrefix) {
						return true
					}
				}
			}
			return false
		}
		return true
	})
	from := 0
	if in.NextToken != "" {
		if from, err = decodeOffset(in.NextToken); err != nil {
			return nil, err
		}
		from = min(from, len(all))
	}
	out.MetricAlarms = all[from:]
	if len(out.MetricAlarms) > limit {
		out.MetricAlarms = out.MetricAlarms[:limit]
		tok := encodeOffset(from + limit)
		out.NextToken = &tok
	}
	if out.MetricAlarms == nil {
		out.MetricAlarms = []MetricAlarm{}
	}
	return out, nil
}

func (s *Service) describeAlarmsForMetric(ctx context.Context, c *server.Call, in *describeAlarmsForMetricInput) (*describeAlarmsForMetricOutput, error) {
	if in.MetricName == "" {
		return nil, missing("MetricName")
	}
	if err := checkNamespace(in.Namespace); err != nil {
		return nil, err
	}
	dims := dimsString(in.Dimensions)
	all := s.listAlarms(c.Account(), c.Region, func(a *MetricAlarm) bool {
		return a.Namespace == in.Namespace && a.MetricName == in.MetricName && dimsString(a.Dimensions) == dims &&
			(in.Statistic == "" || a.Statistic == in.Statistic) && (in.ExtendedStatistic == "" || a.ExtendedStatistic == in.ExtendedStatistic) &&
			(in.Period == nil || a.Period == *in.Period) && (in.Unit == "" || a.Unit == in.Unit)
	})
	if all == nil {
		all = []MetricAlarm{}
	}
	return &describeAlarmsForMetricOutput{MetricAlarms: all}, nil
}

func checkAlarmNames(names []string) error {
	if len(names) == 0 {
		return missing("AlarmNames")
	}
	if len(names) > maxAlarmNames {
		return validation("1 validation error detected: Value at 'alarmNames' failed to satisfy constraint: Member must have length less than or equal to %d", maxAlarmNames)
	}
	return nil
}

func (s *Service) deleteAlarms(ctx context.Context, c *server.Call, in *alarmNamesInput) (*server.NoOutput, error) {
	if err := checkAlarmNames(in.AlarmNames); err != nil {
		return nil, err
	}
	now := s.clock()
	s.mu.Lock()
	defer s.mu.Unlock()
	var missingNames []string
	for _, n := range in.AlarmNames {
		if s.alarms[alarmRef{c.Account(), c.Region, n}] == nil {
			missingNames = append(missingNames, n)
		}
	}
	if len(missingNames) > 0 {
		return nil, notFound("%d of %d alarm(s) not found: %s", len(missingNames), len(in.AlarmNames), strings.Join(missingNames, ", "))
	}
	b := s.kv.NewBatch()
	for _, n := range in.AlarmNames {
		ref := alarmRef{c.Account(), c.Region, n}
		b.Delete(alarmKey(ref))
		data, _ := json.Marshal(map[string]any{"version": "1.0", "type": "Delete", "deletedAlarm": configDoc(&s.alarms[ref].Alarm)})
		if err := s.appendHistory(b, ref.acct, ref.region, HistoryItem{AlarmName: n, AlarmType: "MetricAlarm", Timestamp: now,
			HistoryItemType: "ConfigurationUpdate", HistorySummary: fmt.Sprintf("Alarm %q deleted", n), HistoryData: string(data)}); err != nil {
			return nil, internal("delete alarms", err)
		}
	}
	if err := b.Commit(); err != nil {
		return nil, internal("delete alarms", err)
	}
	for _, n := range in.AlarmNames {
		ref := alarmRef{c.Account(), c.Region, n}
		if a := s.alarms[ref]; a != nil {
			s.unwatch(a)
			delete(s.alarms, ref)
		}
	}
	return nil, nil
}

func (s *Service) setActionsEnabled(c *server.Call, names []string, enabled bool) error {
	if err := checkAlarmNames(names); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.kv.NewBatch()
	var changed []*storedAlarm
	for _, n := range names {
		a := s.alarms[alarmRef{c.Account(), c.Region, n}]
		if a == nil || a.Alarm.ActionsEnabled == enabled {
			continue
		}
		cp := *a
		cp.Alarm.ActionsEnabled = enabled
		if err := b.Put(alarmKey(a.ref()), &cp); err != nil {
			return internal("store alarm", err)
		}
		changed = append(changed, a)
	}
	if err := b.Commit(); err != nil {
		return internal("store alarm", err)
	}
	for _, a := range changed {
		a.Alarm.ActionsEnabled = enabled
	}
	return nil
}

func (s *Service) enableAlarmActions(ctx context.Context, c *server.Call, in *alarmNamesInput) (*server.NoOutput, error) {
	return nil, s.setActionsEnabled(c, in.AlarmNames, true)
}

func (s *Service) disableAlarmActions(ctx context.Context, c *server.Call, in *alarmNamesInput) (*server.NoOutput, error) {
	return nil, s.setActionsEnabled(c, in.AlarmNames, false)
}

func (s *Service) setAlarmState(ctx context.Context, c *server.Call, in *setAlarmStateInput) (*server.NoOutput, error) {
	if err := validAlarmName(in.AlarmName); err != nil {
		return nil, err
	}
	if in.StateValue == "" {
		return nil, missing("StateValue")
	}
	if !alarm.State(in.StateValue).Valid() {
		return nil, validation("1 validation error detected: Value '%s' at 'stateValue' failed to satisfy constraint: Member must satisfy enum value set: [INSUFFICIENT_DATA, ALARM, OK]", in.StateValue)
	}
	if in.StateReason == "" {
		return nil, missing("StateReason")
	}
	if utf8.RuneCountInString(in.StateReason) > 1023 {
		return nil, validation("1 validation error detected: Value at 'stateReason' failed to satisfy constraint: Member must have length less than or equal to 1023")
	}
	data := ""
	if in.StateReasonData != nil {
		data = *in.StateReasonData
		if utf8.RuneCountInString(data) > 4000 {
			return nil, validation("1 validation error detected: Value at 'stateReasonData' failed to satisfy constraint: Member must have length less than or equal to 4000")
		}
		if data != "" && !json.Valid([]byte(data)) {
			return nil, opentrailInvalidFormat("Unable to parse the StateReasonData as JSON.")
		}
	}
	ref := alarmRef{c.Account(), c.Region, in.AlarmName}
	err := s.transition(ctx, ref, alarm.State(in.StateValue), in.StateReason, data, false)
	if errors.Is(err, errNoAlarm) {
		return nil, notFound("Alarm %s not found", in.AlarmName)
	}
	return nil, err
}

func (s *Service) describeAlarmHistory(ctx context.Context, c *server.Call, in *describeAlarmHistoryInput) (*describeAlarmHistoryOutput, error) {
	switch in.HistoryItemType {
	case "", "ConfigurationUpdate", "StateUpdate", "Action", "AlarmContributorStateUpdate", "AlarmContributorAction":
	default:
		return nil, validation("1 validation error detected: Value '%s' at 'historyItemType' failed to satisfy constraint: Member must satisfy enum value set: [ConfigurationUpdate, StateUpdate, Action, AlarmContributorStateUpdate, AlarmContributorAction]", in.HistoryItemType)
	}
	if in.ScanBy != "" && in.ScanBy != "TimestampDescending" && in.ScanBy != "TimestampAscending" {
		return nil, validation("1 validation error detected: Value '%s' at 'scanBy' failed to satisfy constraint: Member must satisfy enum value set: [TimestampDescending, TimestampAscending]", in.ScanBy)
	}
	limit := 100
	if in.MaxRecords != nil {
		if *in.MaxRecords < 1 || *in.MaxRecords > 100 {
			return nil, validation("1 validation error detected: Value '%d' at 'maxRecords' failed to satisfy constraint: Member must have value between 1 and 100", *in.MaxRecords)
		}
		limit = int(*in.MaxRecords)
	}
	metricAlarms := len(in.AlarmTypes) == 0
	for _, t := range in.AlarmTypes {
		metricAlarms = metricAlarms || t == "MetricAlarm"
	}
	out := &describeAlarmHistoryOutput{AlarmHistoryItems: []HistoryItem{}}
	if !metricAlarms || in.AlarmContributorId != "" {
		return out, nil
	}
	var items []HistoryItem
	err := s.kv.Scan(historyPrefix(c.Account(), c.Region), func(key string, value []byte) error {
		var it HistoryItem
		if err := json.Unmarshal(value, &it); err != nil {
			return nil
		}
		if in.AlarmName != "" && it.AlarmName != in.AlarmName || in.HistoryItemType != "" && it.HistoryItemType != in.HistoryItemType {
			return nil
		}
		if in.StartDate != nil && it.Timestamp.Before(*in.StartDate) || in.EndDate != nil && it.Timestamp.After(*in.EndDate) {
			return nil
		}
		items = append(items, it)
		return nil
	})
	if err != nil {
		return nil, internal("read alarm history", err)
	}
	if in.ScanBy != "TimestampAscending" {
		for i, j := 0, len(items)-1; i < j; i, j = i+1, j-1 {
			items[i], items[j] = items[j], items[i]
		}
	}
	from := 0
	if in.NextToken != "" {
		if from, err = decodeOffset(in.NextToken); err != nil {
			return nil, err
		}
		from = min(from, len(items))
	}
	items = items[from:]
	if len(items) > limit {
		items = items[:limit]
		tok := encodeOffset(from + limit)
		out.NextToken = &tok
	}
	out.AlarmHistoryItems = append(out.AlarmHistoryItems, items...)
	return out, nil
}

// sweepHistory deletes history items older than the retention.
func (s *Service) sweepHistory(now time.Time) error {
	cutoff := now.Add(-historyRetention).UnixNano()
	b := s.kv.NewBatch()
	n := 0
	err := s.kv.Scan("monitoring/", func(key string, value []byte) error {
		i := strings.Index(key, "/history/")
		if i < 0 {
			return nil
		}
		var ts int64
		if _, err := fmt.Sscanf(key[i+len("/history/"):], "%020d", &ts); err == nil && ts < cutoff {
			b.Delete(key)
			n++
		}
		return nil
	})
	if err != nil || n == 0 {
		_ = b.Commit()
		return err
	}
	return b.Commit()
}
