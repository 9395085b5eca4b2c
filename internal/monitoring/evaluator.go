package monitoring

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/opentrail/opentrail/internal/alarm"
)

var errNoAlarm = errors.New("monitoring: no such alarm")

// sweepInterval is how often retention runs (datapoint roll-up, history expiry).
const sweepInterval = time.Hour

// Run evaluates alarms until ctx is done: at every 10-second boundary T it evaluates the
// alarms whose evaluation interval ends at T (every 10 s for periods under a minute, every
// minute otherwise), and at once the alarms on a metric that received data for a period that
// has already ended. It also applies retention hourly.
func (s *Service) Run(ctx context.Context) error {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var lastSweep time.Time
	for {
		now := s.now()
		if now.Sub(lastSweep) >= sweepInterval {
			s.sweep(now)
			lastSweep = now
		}
		next := now.Truncate(10 * time.Second).Add(10 * time.Second)
		timer.Reset(next.Sub(now))
		select {
		case <-ctx.Done():
			return nil
		case refs := <-s.kick:
			s.evaluateNow(ctx, refs)
		case <-timer.C:
			s.tick(ctx, next)
		}
	}
}

func (s *Service) sweep(now time.Time) {
	if err := s.points.rollup(now); err != nil {
		s.log.Error("metric retention", "err", err)
	}
	if err := s.sweepHistory(now); err != nil {
		s.log.Error("alarm history retention", "err", err)
	}
}

// tick evaluates, at the boundary t, the alarms whose evaluation falls on t.
func (s *Service) tick(ctx context.Context, t time.Time) {
	s.mu.Lock()
	var due []alarmRef
	for ref, a := range s.alarms {
		if alarm.EvaluationTime(t, int(a.Alarm.Period)).Equal(t) {
			due = append(due, ref)
		}
	}
	s.mu.Unlock()
	now := s.now()
	for _, ref := range due {
		s.evaluate(ctx, ref, t, now)
	}
}

// evaluateNow evaluates alarms at the end of their latest ended period.
func (s *Service) evaluateNow(ctx context.Context, refs []alarmRef) {
	now := s.now()
	for _, ref := range refs {
		s.mu.Lock()
		a := s.alarms[ref]
		var period int
		if a != nil {
			period = int(a.Alarm.Period)
		}
		s.mu.Unlock()
		if a != nil {
			s.evaluate(ctx, ref, alarm.EvaluationTime(now, period), now)
		}
	}
}

// request asks the evaluator to evaluate alarms now, without waiting for it.
func (s *Service) request(refs ...alarmRef) {
	select {
	case s.kick <- refs:
	default: // the evaluator is behind; the next tick evaluates them
	}
}

// dataArrived requests an evaluation of the alarms on metrics whose new data falls in a
// period that has already ended for the alarm (late or back-dated data): waiting for the next
// boundary would delay the notification by up to a period.
func (s *Service) dataArrived(earliest map[metricID]time.Time) {
	now := s.now()
	var refs []alarmRef
	s.mu.Lock()
	for id, t := range earliest {
		for ref := range s.watchers[string(id[:])] {
			a := s.alarms[ref]
			if a != nil && t.Before(alarm.EvaluationTime(now, int(a.Alarm.Period))) {
				refs = append(refs, ref)
			}
		}
	}
	s.mu.Unlock()
	if len(refs) > 0 {
		s.request(refs...)
	}
}

// window reads an alarm's evaluation range ending at end.
func (s *Service) window(a *storedAlarm, end time.Time) ([]alarm.Datapoint, error) {
	cfg := &a.Alarm
	period := int(cfg.Period)
	starts := alarm.Buckets(end, period, alarm.RangeLength(int(cfg.EvaluationPeriods)))
	bk, _, err := s.buckets(a.metric, starts[0], end, period, cfg.Unit)
	if err != nil {
		return nil, err
	}
	minSamples := 0.0
	if cfg.EvaluateLowSampleCountPercentile == "ignore" && a.stat.ext != nil && a.stat.ext.Kind == 'p' && a.stat.ext.Quantile < 1 {
		minSamples = math.Ceil(1 / (1 - a.stat.ext.Quantile))
	}
	w := make([]alarm.Datapoint, len(starts))
	for i, st := range starts {
		w[i].Start = st
		b := bk[st.Unix()]
		if b == nil || b.SampleCount < minSamples {
			continue
		}
		if v, ok := a.stat.compute(b); ok {
			w[i].Present, w[i].Value, w[i].SampleCount = true, v, b.SampleCount
		}
	}
	return w, nil
}

// evaluate evaluates one alarm whose newest period ends at end, and applies the outcome.
func (s *Service) evaluate(ctx context.Context, ref alarmRef, end, now time.Time) {
	s.mu.Lock()
	a := s.alarms[ref]
	if a == nil {
		s.mu.Unlock()
		return
	}
	cp := *a
	s.mu.Unlock()
	w, err := s.window(&cp, end)
	if err != nil {
		s.log.Error("alarm evaluation", "alarm", ref.name, "err", err)
		return
	}
	cfg := &cp.Alarm
	stat := cfg.Statistic
	if stat == "" {
		stat = cfg.ExtendedStatistic
	}
	rule := alarm.Rule{
		EvaluationPeriods: int(cfg.EvaluationPeriods), DatapointsToAlarm: int(cfg.DatapointsToAlarm),
		Comparison: alarm.Comparison(cfg.ComparisonOperator), Threshold: cfg.Threshold,
		TreatMissing: alarm.TreatMissing(cfg.TreatMissingData), Period: int(cfg.Period), Statistic: stat, Unit: cfg.Unit,
	}
	res := alarm.Evaluate(rule, w, alarm.State(cfg.StateValue), now)
	if res.Reason == "" || res.State == alarm.State(cfg.StateValue) {
		return
	}
	if err := s.transition(ctx, ref, res.State, res.Reason, res.ReasonData, true); err != nil && !errors.Is(err, errNoAlarm) {
		s.log.Error("alarm state change", "alarm", ref.name, "err", err)
	}
}

// transition sets an alarm's state: from an evaluation (which changes only a different
// state) or from SetAlarmState. A change of state value appends history and runs the
// actions of the new state when actions are enabled.
func (s *Service) transition(ctx context.Context, ref alarmRef, state alarm.State, reason, data string, evaluation bool) error {
	s.mu.Lock()
	a := s.alarms[ref]
	if a == nil {
		s.mu.Unlock()
		return errNoAlarm
	}
	old := a.Alarm
	if evaluation && old.StateValue == string(state) {
		s.mu.Unlock()
		return nil
	}
	now := s.clock()
	cp := *a
	m := &cp.Alarm
	m.StateValue, m.StateReason, m.StateReasonData, m.StateUpdatedTimestamp = string(state), reason, data, now
	changed := old.StateValue != string(state)
	if changed {
		m.StateTransitionedTimestamp = now
	}
	b := s.kv.NewBatch()
	err := b.Put(alarmKey(ref), &cp)
	if err == nil && changed {
		hd, _ := json.Marshal(map[string]any{"version": "1.0",
			"oldState": stateDoc(old.StateValue, old.StateReason, old.StateReasonData),
			"newState": stateDoc(m.StateValue, m.StateReason, m.StateReasonData)})
		err = s.appendHistory(b, ref.acct, ref.region, HistoryItem{AlarmName: ref.name, AlarmType: "MetricAlarm", Timestamp: now,
			HistoryItemType: "StateUpdate", HistorySummary: fmt.Sprintf("Alarm updated from %s to %s", old.StateValue, state), HistoryData: string(hd)})
	}
	if err == nil {
		err = b.Commit()
	}
	if err != nil {
		s.mu.Unlock()
		return internal("store alarm state", err)
	}
	*a = cp
	s.mu.Unlock()
	if changed && m.ActionsEnabled {
		s.runActions(context.WithoutCancel(ctx), ref, m, old.StateValue, now)
	}
	return nil
}

func stateDoc(value, reason, data string) map[string]any {
	doc := map[string]any{"stateValue": value, "stateReason": reason}
	if data != "" && json.Valid([]byte(data)) {
		doc["stateReasonData"] = json.RawMessage(data)
	}
	return doc
}

// actionsFor is the action list of a state.
func actionsFor(m *MetricAlarm, state string) []string {
	switch alarm.State(state) {
	case alarm.Alarm:
		return m.AlarmActions
	case alarm.OK:
		return m.OKActions
	}
	return m.InsufficientDataActions
}

// runActions runs the actions of m's new state: SNS topics of the alarm's account receive
// CloudWatch's alarm message; every action's outcome is an Action history item.
func (s *Service) runActions(ctx context.Context, ref alarmRef, m *MetricAlarm, oldState string, at time.Time) {
	actions := actionsFor(m, m.StateValue)
	if len(actions) == 0 {
		return
	}
	msg := alarmMessage(ref, m, oldState, at)
	subject := truncateRunes(fmt.Sprintf("%s: \"%s\" in %s", m.StateValue, m.AlarmName, regionName(ref.region)), 99)
	for _, arn := range actions {
		var id string
		err := s.checkAction(ref, arn)
		if err == nil {
			ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			id, err = s.pub.PublishInternal(ctx, arn, subject, msg)
			cancel()
		}
		item := HistoryItem{AlarmName: ref.name, AlarmType: "MetricAlarm", Timestamp: s.clock(), HistoryItemType: "Action"}
		data := map[string]any{"version": "1.0", "notificationResource": arn, "stateUpdateTimestamp": at.UnixMilli()}
		if err != nil {
			item.HistorySummary = fmt.Sprintf("Failed to execute action %s. Received error: %q", arn, errorText(err))
			data["actionState"], data["error"] = "Failed", errorText(err)
			s.log.Warn("alarm action failed", "alarm", ref.name, "action", arn, "err", err)
		} else {
			item.HistorySummary = "Successfully executed action " + arn
			data["actionState"], data["publishedMessage"] = "Succeeded", map[string]string{"messageId": id}
		}
		hd, _ := json.Marshal(data)
		item.HistoryData = string(hd)
		s.mu.Lock()
		b := s.kv.NewBatch()
		if err := s.appendHistory(b, ref.acct, ref.region, item); err == nil {
			if err := b.Commit(); err != nil {
				s.log.Error("alarm action history", "alarm", ref.name, "err", err)
			}
		}
		s.mu.Unlock()
	}
}

// checkAction accepts SNS topics of the alarm's own account; other targets (Lambda, EC2,
// Auto Scaling, Systems Manager) are not served.
func (s *Service) checkAction(ref alarmRef, arn string) error {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[2] != "sns" {
		return errors.New("this server runs only SNS topic actions")
	}
	if parts[4] != ref.acct {
		return errors.New("the topic belongs to another account")
	}
	if s.pub == nil {
		return errors.New("no SNS service is configured")
	}
	return nil
}

func errorText(err error) string { return err.Error() }

func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n])
}

// javaDouble marshals as Java writes doubles (1.0, not 1).
type javaDouble float64

func (d javaDouble) MarshalJSON() ([]byte, error) {
	f := float64(d)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return []byte(alarm.FormatDouble(f)), nil
}

type messageDimension struct {
	Value string `json:"value"`
	Name  string `json:"name"`
}

type messageTrigger struct {
	MetricName                       string             `json:"MetricName"`
	Namespace                        string             `json:"Namespace"`
	StatisticType                    string             `json:"StatisticType"`
	Statistic                        string             `json:"Statistic,omitempty"`
	ExtendedStatistic                string             `json:"ExtendedStatistic,omitempty"`
	Unit                             *string            `json:"Unit"`
	Dimensions                       []messageDimension `json:"Dimensions"`
	Period                           int32              `json:"Period"`
	EvaluationPeriods                int32              `json:"EvaluationPeriods"`
	DatapointsToAlarm                int32              `json:"DatapointsToAlarm,omitempty"`
	ComparisonOperator               string             `json:"ComparisonOperator"`
	Threshold                        javaDouble         `json:"Threshold"`
	TreatMissingData                 string             `json:"TreatMissingData"`
	EvaluateLowSampleCountPercentile string             `json:"EvaluateLowSampleCountPercentile"`
}

type message struct {
	AlarmName                          string         `json:"AlarmName"`
	AlarmDescription                   *string        `json:"AlarmDescription"`
	AWSAccountID                       string         `json:"AWSAccountId"`
	AlarmConfigurationUpdatedTimestamp string         `json:"AlarmConfigurationUpdatedTimestamp"`
	NewStateValue                      string         `json:"NewStateValue"`
	NewStateReason                     string         `json:"NewStateReason"`
	StateChangeTime                    string         `json:"StateChangeTime"`
	Region                             string         `json:"Region"`
	AlarmArn                           string         `json:"AlarmArn"`
	OldStateValue                      string         `json:"OldStateValue"`
	OKActions                          []string       `json:"OKActions"`
	AlarmActions                       []string       `json:"AlarmActions"`
	InsufficientDataActions            []string       `json:"InsufficientDataActions"`
	Trigger                            messageTrigger `json:"Trigger"`
}

// alarmMessage is the JSON document CloudWatch publishes to an alarm's SNS topics.
func alarmMessage(ref alarmRef, m *MetricAlarm, oldState string, at time.Time) string {
	msg := message{
		AlarmName: m.AlarmName, AlarmDescription: m.AlarmDescription, AWSAccountID: ref.acct,
		AlarmConfigurationUpdatedTimestamp: alarm.FormatTime(m.AlarmConfigurationUpdatedTimestamp),
		NewStateValue:                      m.StateValue, NewStateReason: m.StateReason, StateChangeTime: alarm.FormatTime(at),
		Region: regionName(ref.region), AlarmArn: m.AlarmArn, OldStateValue: oldState,
		OKActions: copyStrings(m.OKActions), AlarmActions: copyStrings(m.AlarmActions), InsufficientDataActions: copyStrings(m.InsufficientDataActions),
		Trigger: messageTrigger{
			MetricName: m.MetricName, Namespace: m.Namespace, Dimensions: []messageDimension{},
			Period: m.Period, EvaluationPeriods: m.EvaluationPeriods, DatapointsToAlarm: m.DatapointsToAlarm,
			ComparisonOperator: m.ComparisonOperator, Threshold: javaDouble(m.Threshold),
			TreatMissingData: m.TreatMissingData, EvaluateLowSampleCountPercentile: m.EvaluateLowSampleCountPercentile,
		},
	}
	if m.Statistic != "" {
		msg.Trigger.StatisticType, msg.Trigger.Statistic = "Statistic", strings.ToUpper(m.Statistic)
	} else {
		msg.Trigger.StatisticType, msg.Trigger.ExtendedStatistic = "ExtendedStatistic", m.ExtendedStatistic
	}
	if m.Unit != "" {
		u := m.Unit
		msg.Trigger.Unit = &u
	}
	for _, d := range m.Dimensions {
		msg.Trigger.Dimensions = append(msg.Trigger.Dimensions, messageDimension{Value: d.Value, Name: d.Name})
	}
	b, _ := json.Marshal(&msg)
	return string(b)
}
